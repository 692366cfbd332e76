//! The burst generator behind the `load` checks, usable on its own (benchmarks).
//!
//! Each worker task owns one keep-alive HTTP/1.1 connection (hyper's connection API,
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
    host_header: String,
    path: String,
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
    let start = Instant::now();
    let shared = Arc::new(Shared {
        tls: strict_config(net),
        net: net.clone(),
        host_header,
        path,
        issued: AtomicU64::new(0),
        finished,
        start,
        deadline: start + spec.duration,
        spec,
    });
    let handles: Vec<_> = (0..conc)
        .map(|_| tokio::spawn(worker(shared.clone())))
        .collect();
    let mut stats = LoadStats {
        requests: 0,
        errors: 0,
        statuses: BTreeMap::new(),
        transport: BTreeMap::new(),
        offsite_redirects: 0,
        elapsed: Duration::ZERO,
        hist: new_hist(),
        connections: 0,
        stopped_by: "requests",
    };
    for h in handles {
        if let Ok(w) = h.await {
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

type Sender = SendRequest<Full<Bytes>>;

async fn connect(s: &Shared) -> Result<Sender, NetError> {
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
        handshake(tls).await
    } else {
        handshake(tcp).await
    }
}

async fn handshake<IO>(io: IO) -> Result<Sender, NetError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| NetError::Protocol(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn build(s: &Shared) -> hyper::Request<Full<Bytes>> {
    let mut b = hyper::Request::builder()
        .method(s.spec.method.as_str())
        .uri(s.path.as_str())
        .header("host", s.host_header.as_str());
    let has = |n: &str| {
        s.spec
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(n))
    };
    if !has("user-agent") {
        b = b.header("user-agent", s.net.user_agent.as_str());
    }
    if !has("accept") {
        b = b.header("accept", "*/*");
    }
    for (k, v) in &s.spec.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(s.spec.body.clone()))
        .unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
}

/// One request on `conn` (connecting first when needed): the status, or why not.
async fn exchange(s: &Shared, conn: &mut Option<Sender>, w: &mut Worker) -> Result<u16, NetError> {
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        *conn = None;
        let c = connect(s).await?;
        w.connections += 1;
        *conn = Some(c);
    }
    let sender = conn.as_mut().expect("connected");
    sender
        .ready()
        .await
        .map_err(|e| NetError::Protocol(e.to_string()))?;
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
    let mut conn: Option<Sender> = None;
    while next_slot(&s).await.is_some() {
        let t0 = Instant::now();
        let r = tokio::time::timeout(s.spec.timeout, exchange(&s, &mut conn, &mut w)).await;
        let took = t0.elapsed();
        match r {
            Ok(Ok(status)) => {
                let _ = w.hist.record((took.as_micros() as u64).max(1));
                *w.statuses.entry(status).or_default() += 1;
                if !(200..400).contains(&status) {
                    w.errors += 1;
                }
            }
            Ok(Err(e)) => {
                conn = None;
                w.errors += 1;
                *w.transport.entry(transport_kind(&e)).or_default() += 1;
                if matches!(e, NetError::Dns { .. } | NetError::Connect { .. }) {
                    // Do not spin on a dead target.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            Err(_) => {
                conn = None;
                w.errors += 1;
                *w.transport.entry("timeout".into()).or_default() += 1;
            }
        }
        w.done += 1;
        s.finished.fetch_add(1, Ordering::Relaxed);
    }
    w
}
