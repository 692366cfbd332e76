//! The burst generator behind the `load` checks, usable on its own (benchmarks).
//!
//! Connections are spread over one single-threaded tokio runtime per core (as oha's
//! fast path does). Each worker task owns one keep-alive HTTP/1.1 connection (hyper's connection API,
//! our connector: resolve overrides, extra roots, SNI of the original host), sends
//! requests back to back, records each latency into its own HDR histogram (merged at
//! the end) and reconnects after an error. Redirects are never followed: a burst hits
//! only the URL the policy names. Every run is bounded by a request count and a time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use url::Url;

use crate::net::tls::{server_name, strict_config};
use crate::net::{connect_tcp, NetConfig, NetError};

/// Hard limits a policy cannot pass without `--allow-large-load`.
pub const MAX_REQUESTS: u64 = 100_000;
pub const MAX_DURATION: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub url: Url,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Stop after this many requests.
    pub requests: u64,
    /// Stop after this long (no new request starts after it).
    pub duration: Duration,
    pub concurrency: usize,
    /// Requests per second across all workers.
    pub rate: Option<f64>,
    /// Per request (connect + TLS + response).
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct LoadStats {
    /// Requests finished (answered or failed).
    pub requests: u64,
    /// Non-2xx/3xx answers plus transport errors.
    pub errors: u64,
    /// Count per status code answered.
    pub statuses: BTreeMap<u16, u64>,
    /// Count per kind of transport error.
    pub transport: BTreeMap<String, u64>,
    /// Redirects to another host, which were not followed.
    pub offsite_redirects: u64,
    pub elapsed: Duration,
    /// Latency of every answered request, in microseconds.
    pub hist: Histogram<u64>,
    pub connections: u64,
    /// Why the run ended: "requests", "duration".
    pub stopped_by: &'static str,
}

impl LoadStats {
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
    /// The latency at quantile `q` (0..=1) in milliseconds; 0 without answers.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn max_ms(&self) -> f64 {
        if self.hist.is_empty() {
            0.0
        } else {
            self.hist.max() as f64 / 1000.0
        }
    }
    pub fn min_ms(&self) -> f64 {
        if self.hist.is_empty() {
            0.0
        } else {
            self.hist.min() as f64 / 1000.0
        }
    }
    pub fn mean_ms(&self) -> f64 {
        self.hist.mean() / 1000.0
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

struct Worker {
    hist: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    transport: BTreeMap<String, u64>,
    offsite: u64,
    errors: u64,
    done: u64,
    connections: u64,
}

struct Shared {
    spec: LoadSpec,
    net: NetConfig,
    tls: Arc<rustls::ClientConfig>,
    method: hyper::Method,
    uri: hyper::Uri,
    headers: hyper::HeaderMap,
    issued: AtomicU64,
    finished: Arc<AtomicU64>,
    start: Instant,
    deadline: Instant,
}

fn transport_kind(e: &NetError) -> String {
    match e {
        NetError::Dns { .. } => "dns".into(),
        NetError::Connect { .. } => "connect".into(),
        NetError::Tls { .. } => "tls".into(),
        NetError::Timeout { .. } => "timeout".into(),
        NetError::Protocol(_) => "protocol".into(),
        NetError::BodyTooLarge { .. } => "body".into(),
        NetError::Other(_) => "other".into(),
    }
}

fn empty_stats() -> LoadStats {
    LoadStats {
        requests: 0,
        errors: 0,
        statuses: BTreeMap::new(),
        transport: BTreeMap::new(),
        offsite_redirects: 0,
        elapsed: Duration::ZERO,
        hist: new_hist(),
        connections: 0,
        stopped_by: "requests",
    }
}

/// Method, path and headers, built once for every request of the burst.
fn request_parts(
    net: &NetConfig,
    spec: &LoadSpec,
    host_header: &str,
    path: &str,
) -> Result<(hyper::Method, hyper::Uri, hyper::HeaderMap), String> {
    use hyper::header::{HeaderName, HeaderValue};
    let method = hyper::Method::from_bytes(spec.method.as_bytes())
        .map_err(|e| format!("method `{}`: {e}", spec.method))?;
    let uri: hyper::Uri = path.parse().map_err(|e| format!("path `{path}`: {e}"))?;
    let mut h = hyper::HeaderMap::new();
    let val = |v: &str| HeaderValue::from_str(v).map_err(|e| format!("header value `{v}`: {e}"));
    h.insert(hyper::header::HOST, val(host_header)?);
    let has = |n: &str| spec.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("user-agent") {
        h.insert(hyper::header::USER_AGENT, val(&net.user_agent)?);
    }
    if !has("accept") {
        h.insert(hyper::header::ACCEPT, HeaderValue::from_static("*/*"));
    }
    for (k, v) in &spec.headers {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header `{k}`: {e}"))?;
        h.append(name, val(v)?);
    }
    Ok((method, uri, h))
}

/// Runs the burst. `finished` counts completed requests as they happen (for a
/// progress display).
pub async fn run(net: &NetConfig, spec: LoadSpec, finished: Arc<AtomicU64>) -> LoadStats {
    let url = spec.url.clone();
    let host = url.host_str().unwrap_or_default().to_string();
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let conc = spec.concurrency.max(1).min(spec.requests.max(1) as usize);
    let (method, uri, headers) = match request_parts(net, &spec, &host_header, &path) {
        Ok(p) => p,
        Err(e) => {
            let mut stats = empty_stats();
            stats.transport.insert(format!("invalid request: {e}"), 1);
            stats.errors = 1;
            stats.requests = 1;
            return stats;
        }
    };
    let start = Instant::now();
    let shared = Arc::new(Shared {
        tls: strict_config(net),
        net: net.clone(),
        method,
        uri,
        headers,
        issued: AtomicU64::new(0),
        finished,
        start,
        deadline: start + spec.duration,
        spec,
    });
    // One OS thread per core, each with its own single-threaded runtime driving its
    // share of the connections: no work stealing or cross-thread wake-ups per request.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(conc);
    let mut shards = Vec::new();
    for t in 0..threads {
        let n = conc / threads + usize::from(t < conc % threads);
        let sh = shared.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<Vec<Worker>>();
        let spawned = std::thread::Builder::new()
            .name(format!("launchgate-load-{t}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(_) => return,
                };
                let ws = rt.block_on(async move {
                    let hs: Vec<_> = (0..n).map(|_| tokio::spawn(worker(sh.clone()))).collect();
                    let mut ws = Vec::new();
                    for h in hs {
                        if let Ok(w) = h.await {
                            ws.push(w);
                        }
                    }
                    ws
                });
                let _ = tx.send(ws);
            });
        if spawned.is_ok() {
            shards.push(rx);
        }
    }
    let mut stats = empty_stats();
    let mut workers = Vec::new();
    for rx in shards {
        if let Ok(ws) = rx.await {
            workers.extend(ws);
        }
    }
    for w in workers {
        {
            let _ = stats.hist.add(&w.hist);
            for (k, v) in w.statuses {
                *stats.statuses.entry(k).or_default() += v;
            }
            for (k, v) in w.transport {
                *stats.transport.entry(k).or_default() += v;
            }
            stats.offsite_redirects += w.offsite;
            stats.errors += w.errors;
            stats.requests += w.done;
            stats.connections += w.connections;
        }
    }
    stats.elapsed = start.elapsed();
    if stats.requests < shared.spec.requests {
        stats.stopped_by = "duration";
    }
    stats
}

/// Claims the next request slot, waiting for its turn under `rate`; `None` when the
/// run is over.
async fn next_slot(s: &Shared) -> Option<()> {
    let i = s.issued.fetch_add(1, Ordering::Relaxed);
    if i >= s.spec.requests {
        return None;
    }
    if let Some(rate) = s.spec.rate.filter(|r| *r > 0.0) {
        let at = s.start + Duration::from_secs_f64(i as f64 / rate);
        if at >= s.deadline {
            return None;
        }
        tokio::time::sleep_until(at.into()).await;
    }
    if Instant::now() >= s.deadline {
        return None;
    }
    Some(())
}

/// How one connection's run ended.
enum End {
    /// No request slot is left.
    Done,
    /// The connection is gone; reconnect. `Some(t0)` when a claimed slot still waits
    /// for its request (it was claimed at t0 and not sent).
    Reconnect(Option<Instant>),
}

enum Io {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

async fn connect(s: &Shared) -> Result<Io, NetError> {
    let url = &s.spec.url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let (tcp, _) = connect_tcp(&s.net, host, port).await?;
    if url.scheme() == "https" {
        let tls = TlsConnector::from(s.tls.clone())
            .connect(server_name(host)?, tcp)
            .await
            .map_err(|e| NetError::Tls {
                host: format!("{host}:{port}"),
                reason: e.to_string(),
            })?;
        Ok(Io::Tls(Box::new(tls)))
    } else {
        Ok(Io::Plain(tcp))
    }
}

fn build(s: &Shared) -> hyper::Request<Full<Bytes>> {
    let mut req = hyper::Request::new(Full::new(s.spec.body.clone()));
    *req.method_mut() = s.method.clone();
    *req.uri_mut() = s.uri.clone();
    *req.headers_mut() = s.headers.clone();
    req
}

impl Worker {
    fn record_error(&mut self, e: &NetError) {
        self.errors += 1;
        *self.transport.entry(transport_kind(e)).or_default() += 1;
    }
    fn finish_one(&mut self, s: &Shared) {
        self.done += 1;
        s.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// One request on `sender`: the status, or why not.
async fn exchange(
    s: &Shared,
    sender: &mut SendRequest<Full<Bytes>>,
    w: &mut Worker,
) -> Result<u16, NetError> {
    let resp = sender
        .send_request(build(s))
        .await
        .map_err(|e| NetError::Protocol(e.to_string()))?;
    let status = resp.status().as_u16();
    if (300..400).contains(&status) {
        if let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok()) {
            if let Ok(to) = s.spec.url.join(loc) {
                if to.host_str() != s.spec.url.host_str() {
                    w.offsite += 1;
                }
            }
        }
    }
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(|e| NetError::Protocol(e.to_string()))?;
    }
    Ok(status)
}

/// Sends requests back to back on one connection, driving the connection in the same
/// task (no hand-off to a separate connection task per request).
async fn drive<IO>(s: &Shared, io: IO, w: &mut Worker, first: Instant) -> End
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        match hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io)).await {
            Ok(x) => x,
            Err(e) => {
                w.record_error(&NetError::Protocol(e.to_string()));
                w.finish_one(s);
                return End::Reconnect(None);
            }
        };
    let mut conn = Box::pin(conn);
    let mut work = Box::pin(async {
        let mut t0 = first;
        loop {
            if sender.ready().await.is_err() {
                // Closed before this request was sent (e.g. an idle keep-alive timeout):
                // not an error of the target, just reconnect for the same slot.
                return End::Reconnect(Some(t0));
            }
            let r = tokio::time::timeout(s.spec.timeout, exchange(s, &mut sender, w)).await;
            let took = t0.elapsed();
            let broken = match r {
                Ok(Ok(status)) => {
                    let _ = w.hist.record((took.as_micros() as u64).max(1));
                    *w.statuses.entry(status).or_default() += 1;
                    if !(200..400).contains(&status) {
                        w.errors += 1;
                    }
                    false
                }
                Ok(Err(e)) => {
                    w.record_error(&e);
                    true
                }
                Err(_) => {
                    w.errors += 1;
                    *w.transport.entry("timeout".into()).or_default() += 1;
                    true
                }
            };
            w.finish_one(s);
            if broken {
                return End::Reconnect(None);
            }
            if next_slot(s).await.is_none() {
                return End::Done;
            }
            t0 = Instant::now();
        }
    });
    let early = tokio::select! {
        biased;
        end = &mut work => Some(end),
        _ = &mut conn => None,
    };
    match early {
        Some(end) => end,
        None => {
            // The connection ended (the server closed it): drop it so the request in
            // flight, if any, fails, and let the work loop see that.
            drop(conn);
            work.await
        }
    }
}

async fn worker(s: Arc<Shared>) -> Worker {
    let mut w = Worker {
        hist: new_hist(),
        statuses: BTreeMap::new(),
        transport: BTreeMap::new(),
        offsite: 0,
        errors: 0,
        done: 0,
        connections: 0,
    };
    // A claimed slot waiting for a connection, with the time it was claimed.
    let mut slot: Option<Instant> = None;
    loop {
        let t0 = match slot.take() {
            Some(t) => t,
            None => {
                if next_slot(&s).await.is_none() {
                    break;
                }
                Instant::now()
            }
        };
        let io = match tokio::time::timeout(s.spec.timeout, connect(&s)).await {
            Ok(Ok(io)) => io,
            Ok(Err(e)) => {
                w.record_error(&e);
                w.finish_one(&s);
                if matches!(e, NetError::Dns { .. } | NetError::Connect { .. }) {
                    // Do not spin on a dead target.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                continue;
            }
            Err(_) => {
                w.errors += 1;
                *w.transport.entry("timeout".into()).or_default() += 1;
                w.finish_one(&s);
                continue;
            }
        };
        w.connections += 1;
        let end = match io {
            Io::Plain(t) => drive(&s, t, &mut w, t0).await,
            Io::Tls(t) => drive(&s, *t, &mut w, t0).await,
        };
        match end {
            End::Done => break,
            End::Reconnect(pending) => slot = pending,
        }
    }
    w
}
