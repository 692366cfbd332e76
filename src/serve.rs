//! A small HTTP/1.1 + TLS server for local funnels: the demo runs on it, and the tests
//! use it for their fixtures. Each request goes to one handler closure.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::certs::Leaf;

#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
        }
    }
    pub fn html(body: &str) -> Self {
        Reply::new(200)
            .header("content-type", "text/html; charset=utf-8")
            .body(body)
    }
    pub fn redirect(status: u16, to: &str) -> Self {
        Reply::new(status).header("location", to)
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn body(mut self, b: &str) -> Self {
        self.body = Bytes::from(b.to_string());
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

pub type Handler = Arc<dyn Fn(&Incoming) -> Reply + Send + Sync>;

pub struct ServerHandle {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ServerHandle {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn acceptor(leaf: &Leaf) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .expect("valid certificate and key");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(cfg))
}

/// Starts serving on 127.0.0.1 (port 0) inside the current tokio runtime.
pub async fn start(handler: Handler, tls: Option<Leaf>) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let acc = tls.as_ref().map(acceptor);
    let h2 = hits.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = tokio::select! {
                r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                _ = &mut rx => break,
            };
            let handler = handler.clone();
            let acc = acc.clone();
            let hits = h2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    let hits = hits.clone();
                    async move {
                        hits.fetch_add(1, Ordering::SeqCst);
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let inc = Incoming {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().map(str::to_string),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.as_str().to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body,
                        };
                        let reply = handler(&inc);
                        if !reply.delay.is_zero() {
                            tokio::time::sleep(reply.delay).await;
                        }
                        let mut b = hyper::Response::builder().status(reply.status);
                        for (k, v) in &reply.headers {
                            b = b.header(k.as_str(), v.as_str());
                        }
                        Ok::<_, Infallible>(b.body(Full::new(reply.body)).unwrap_or_else(|_| {
                            hyper::Response::new(Full::new(Bytes::from_static(b"bad reply")))
                        }))
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new();
                match acc {
                    Some(a) => {
                        if let Ok(tls) = a.accept(sock).await {
                            let _ = conn.serve_connection(TokioIo::new(tls), svc).await;
                        }
                    }
                    None => {
                        let _ = conn.serve_connection(TokioIo::new(sock), svc).await;
                    }
                }
            });
        }
    });
    Ok(ServerHandle {
        addr,
        hits,
        stop: Some(tx),
    })
}

/// A runtime on its own thread, for callers (tests, the demo) that are not async.
pub struct Background {
    rt: Option<tokio::runtime::Runtime>,
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Background {
    pub fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        Background { rt: Some(rt) }
    }

    pub fn serve(&self, handler: Handler, tls: Option<Leaf>) -> ServerHandle {
        let rt = self.rt.as_ref().expect("runtime");
        let _g = rt.enter();
        rt.block_on(start(handler, tls)).expect("bind 127.0.0.1:0")
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        self.rt.as_ref().expect("runtime").handle().clone()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
