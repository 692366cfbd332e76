//! One HTTP/1.1 client on hyper's connection API: our own connector (so `HOST:PORT →
//! ADDR:PORT2` overrides and SNI stay right), a body cap, a per-operation timeout,
//! retries on transport errors only, and redirects followed hop by hop under our control.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use url::Url;

use super::tls::{handshake_error, server_name, strict_config, version_name};
use super::{connect_tcp, NetConfig, NetError, Phase};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Request {
    pub fn get(url: Url) -> Self {
        Request {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub url: Url,
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// From the start of the request to the last byte of the body.
    pub elapsed: Duration,
    pub ttfb: Duration,
    pub remote: SocketAddr,
    pub tls_version: Option<String>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }

    /// The redirect target, resolved against this response's URL.
    pub fn location(&self) -> Option<Result<Url, String>> {
        let loc = self.header("location")?;
        Some(
            self.url
                .join(loc)
                .map_err(|e| format!("invalid Location `{loc}`: {e}")),
        )
    }
}

/// One hop of a followed chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub url: Url,
    pub status: u16,
    pub location: Option<String>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct Chain {
    pub hops: Vec<Hop>,
    /// The last response (the non-redirect one, or where following stopped).
    pub last: Response,
    pub looped: bool,
    /// Stopped at the hop limit while still redirecting.
    pub truncated: bool,
}

#[derive(Clone)]
pub struct HttpClient {
    cfg: Arc<NetConfig>,
    tls: Arc<rustls::ClientConfig>,
}

impl HttpClient {
    pub fn new(cfg: NetConfig) -> Self {
        let tls = strict_config(&cfg);
        HttpClient {
            cfg: Arc::new(cfg),
            tls,
        }
    }

    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// One request, no redirect following, with retries on transport errors.
    pub async fn send(&self, req: &Request) -> Result<Response, NetError> {
        let mut attempt = 0;
        loop {
            match self.send_once(req).await {
                Err(e) if e.retryable() && attempt < self.cfg.retries => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                r => return r,
            }
        }
    }

    pub async fn get(&self, url: &Url) -> Result<Response, NetError> {
        self.send(&Request::get(url.clone())).await
    }

    /// Follows redirects from `url` up to `max_hops`, recording every hop.
    pub async fn follow(&self, url: &Url, max_hops: usize) -> Result<Chain, NetError> {
        let mut hops = Vec::new();
        let mut seen = vec![url.clone()];
        let mut cur = url.clone();
        loop {
            let resp = self.get(&cur).await?;
            let location = resp.header("location").map(str::to_string);
            hops.push(Hop {
                url: cur.clone(),
                status: resp.status,
                location: location.clone(),
                elapsed: resp.elapsed,
            });
            if !resp.is_redirect() {
                return Ok(Chain {
                    hops,
                    last: resp,
                    looped: false,
                    truncated: false,
                });
            }
            let next = match resp.location() {
                Some(Ok(u)) => u,
                Some(Err(e)) => return Err(NetError::Protocol(e)),
                None => {
                    return Ok(Chain {
                        hops,
                        last: resp,
                        looped: false,
                        truncated: false,
                    })
                }
            };
            if seen.contains(&next) {
                return Ok(Chain {
                    hops,
                    last: resp,
                    looped: true,
                    truncated: false,
                });
            }
            if hops.len() >= max_hops {
                return Ok(Chain {
                    hops,
                    last: resp,
                    looped: false,
                    truncated: true,
                });
            }
            seen.push(next.clone());
            cur = next;
        }
    }

    async fn send_once(&self, req: &Request) -> Result<Response, NetError> {
        let phase = Arc::new(AtomicU8::new(0));
        let fut = self.exchange(req, phase.clone());
        match tokio::time::timeout(self.cfg.timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                let p = match phase.load(Ordering::Relaxed) {
                    0 => Phase::Connect,
                    1 => Phase::Tls,
                    2 => Phase::Headers,
                    _ => Phase::Body,
                };
                Err(NetError::Timeout {
                    after_ms: self.cfg.timeout.as_millis() as u64,
                    phase: p.to_string(),
                })
            }
        }
    }

    async fn exchange(&self, req: &Request, phase: Arc<AtomicU8>) -> Result<Response, NetError> {
        let start = Instant::now();
        let url = &req.url;
        let host = url
            .host_str()
            .ok_or_else(|| NetError::Other(format!("URL {url} has no host")))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| NetError::Other(format!("URL {url} has no port")))?;
        let (tcp, remote) = connect_tcp(&self.cfg, host, port).await?;
        if url.scheme() == "https" {
            phase.store(1, Ordering::Relaxed);
            let tls = TlsConnector::from(self.tls.clone())
                .connect(server_name(host)?, tcp)
                .await
                .map_err(|e| handshake_error(&e, host, port))?;
            let version = tls.get_ref().1.protocol_version().map(version_name);
            self.http1(tls, req, start, remote, version, phase).await
        } else {
            self.http1(tcp, req, start, remote, None, phase).await
        }
    }

    async fn http1<IO>(
        &self,
        io: IO,
        req: &Request,
        start: Instant,
        remote: SocketAddr,
        tls_version: Option<String>,
        phase: Arc<AtomicU8>,
    ) -> Result<Response, NetError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        phase.store(2, Ordering::Relaxed);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
                .await
                .map_err(|e| NetError::Protocol(e.to_string()))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let hreq = build(req, &self.cfg.user_agent)?;
        let resp = sender.send_request(hreq).await.map_err(|e| {
            let msg = hyper_error_text(&e);
            NetError::Protocol(msg)
        })?;
        let ttfb = start.elapsed();
        phase.store(3, Ordering::Relaxed);
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = read_capped(resp.into_body(), self.cfg.max_body).await;
        driver.abort();
        let body = body?;
        Ok(Response {
            url: req.url.clone(),
            status,
            headers,
            body,
            elapsed: start.elapsed(),
            ttfb,
            remote,
            tls_version,
        })
    }
}

fn hyper_error_text(e: &hyper::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn build(req: &Request, ua: &str) -> Result<hyper::Request<Full<Bytes>>, NetError> {
    let url = &req.url;
    let host = url.host_str().unwrap_or_default();
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut b = hyper::Request::builder()
        .method(req.method.as_str())
        .uri(path)
        .header("host", host_header);
    let has = |n: &str| req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("user-agent") {
        b = b.header("user-agent", ua);
    }
    if !has("accept") {
        b = b.header("accept", "*/*");
    }
    for (k, v) in &req.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(req.body.clone()))
        .map_err(|e| NetError::Other(format!("cannot build the request: {e}")))
}

async fn read_capped(mut body: Incoming, cap: usize) -> Result<Bytes, NetError> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| NetError::Protocol(hyper_error_text(&e)))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > cap {
                return Err(NetError::BodyTooLarge { limit: cap });
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
