//! Shared network plumbing: one HTTP client with curl-style resolve overrides, extra
//! roots and a body cap; a TLS probe; the legacy-version probe. Knows no check.

pub mod dns;
pub mod http;
pub mod legacy;
pub mod tls;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use tokio::net::TcpStream;

/// `HOST:PORT` → `ADDR[:PORT2]`, as curl's `--resolve` and `--connect-to`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    map: HashMap<(String, u16), (String, u16)>,
}

impl Overrides {
    pub fn insert(&mut self, host: &str, port: u16, addr: &str, port2: Option<u16>) {
        let addr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        self.map.insert(
            (host.to_ascii_lowercase(), port),
            (addr, port2.unwrap_or(port)),
        );
    }

    pub fn get(&self, host: &str, port: u16) -> Option<&(String, u16)> {
        self.map.get(&(host.to_ascii_lowercase(), port))
    }

    /// `HOST:PORT:ADDR[:PORT2]` (the CLI form).
    pub fn parse_cli(&mut self, spec: &str) -> Result<(), String> {
        let (host, rest) = split_host(spec)
            .ok_or_else(|| format!("--resolve `{spec}`: expected HOST:PORT:ADDR[:PORT2]"))?;
        let (port, rest) = rest
            .split_once(':')
            .ok_or_else(|| format!("--resolve `{spec}`: expected HOST:PORT:ADDR[:PORT2]"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("--resolve `{spec}`: `{port}` is not a port"))?;
        let (addr, port2) =
            split_addr_port(rest).map_err(|e| format!("--resolve `{spec}`: {e}"))?;
        self.insert(host, port, &addr, port2);
        Ok(())
    }

    /// `"HOST:PORT": "ADDR[:PORT2]"` (the policy form).
    pub fn parse_entry(&mut self, key: &str, value: &str) -> Result<(), String> {
        let (host, port) = key
            .rsplit_once(':')
            .ok_or_else(|| format!("resolve key `{key}` must be HOST:PORT"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("resolve key `{key}`: `{port}` is not a port"))?;
        let (addr, port2) = split_addr_port(value).map_err(|e| format!("resolve `{key}`: {e}"))?;
        self.insert(host, port, &addr, port2);
        Ok(())
    }
}

fn split_host(spec: &str) -> Option<(&str, &str)> {
    let i = spec.find(':')?;
    Some((&spec[..i], &spec[i + 1..]))
}

fn split_addr_port(s: &str) -> Result<(String, Option<u16>), String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').ok_or("unclosed `[` in address")?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| format!("`{p}` is not a port"))?),
            None if tail.is_empty() => None,
            None => return Err(format!("unexpected `{tail}` after address")),
        };
        return Ok((addr.to_string(), port));
    }
    if s.matches(':').count() > 1 {
        return Ok((s.to_string(), None)); // bare IPv6
    }
    match s.split_once(':') {
        Some((a, p)) => Ok((
            a.to_string(),
            Some(p.parse().map_err(|_| format!("`{p}` is not a port"))?),
        )),
        None if s.is_empty() => Err("empty address".into()),
        None => Ok((s.to_string(), None)),
    }
}

#[derive(Debug, Clone)]
pub struct NetConfig {
    pub timeout: Duration,
    pub retries: u32,
    pub user_agent: String,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub overrides: Overrides,
    pub max_body: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            timeout: Duration::from_secs(10),
            retries: 1,
            user_agent: concat!("launchgate/", env!("CARGO_PKG_VERSION")).to_string(),
            extra_roots: Vec::new(),
            overrides: Overrides::default(),
            max_body: 10 * 1024 * 1024,
        }
    }
}

/// Reads every certificate of a PEM file (for `ca_file`).
pub fn load_pem_roots(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
    let mut rd = std::io::BufReader::new(&data[..]);
    let certs: Vec<_> = rustls_pemfile::certs(&mut rd)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ca_file {}: invalid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("ca_file {}: no certificates found", path.display()));
    }
    Ok(certs)
}

/// The system's roots plus the extra ones; built once per run.
pub fn root_store(extra: &[CertificateDer<'static>]) -> Arc<RootCertStore> {
    use std::sync::OnceLock;
    static NATIVE: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    let native = NATIVE.get_or_init(|| rustls_native_certs::load_native_certs().certs);
    let mut store = RootCertStore::empty();
    let _ = store.add_parsable_certificates(native.iter().cloned());
    for c in extra {
        let _ = store.add(c.clone());
    }
    Arc::new(store)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Connect,
    Tls,
    Headers,
    Body,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::Tls => "the TLS handshake",
            Phase::Headers => "the response headers",
            Phase::Body => "the response body",
        })
    }
}

/// Why a network operation could not complete: every variant becomes an `error` result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("TLS error with {host}: {reason}")]
    Tls { host: String, reason: String },
    #[error("timed out after {after_ms} ms waiting for {phase}")]
    Timeout { after_ms: u64, phase: String },
    #[error("invalid HTTP response: {0}")]
    Protocol(String),
    #[error("response body exceeds the {limit}-byte limit (defaults.max_body)")]
    BodyTooLarge { limit: usize },
    #[error("{0}")]
    Other(String),
}

impl NetError {
    /// Transport failures worth a retry; a wrong answer never is.
    pub fn retryable(&self) -> bool {
        matches!(self, NetError::Connect { .. } | NetError::Timeout { .. })
    }
}

/// Connects to `host:port`, honouring the overrides.
pub async fn connect_tcp(
    cfg: &NetConfig,
    host: &str,
    port: u16,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let (dial_host, dial_port) = match cfg.overrides.get(host, port) {
        Some((a, p)) => (a.clone(), *p),
        None => (
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        ),
    };
    let addrs: Vec<SocketAddr> = match dial_host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, dial_port)],
        Err(_) => tokio::net::lookup_host((dial_host.as_str(), dial_port))
            .await
            .map_err(|e| NetError::Dns {
                host: dial_host.clone(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(NetError::Dns {
            host: dial_host,
            reason: "no addresses".into(),
        });
    }
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok((s, a));
            }
            Err(e) => last = Some((a, e)),
        }
    }
    let (a, e) = last.expect("at least one address");
    Err(NetError::Connect {
        addr: a.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_and_policy_forms() {
        let mut o = Overrides::default();
        o.parse_cli("www.a.test:443:127.0.0.1").unwrap();
        o.parse_cli("b.test:80:127.0.0.1:8080").unwrap();
        o.parse_cli("c.test:443:[::1]:8443").unwrap();
        o.parse_entry("D.test:443", "127.0.0.2:9443").unwrap();
        assert_eq!(
            o.get("www.a.test", 443),
            Some(&("127.0.0.1".to_string(), 443))
        );
        assert_eq!(o.get("b.test", 80), Some(&("127.0.0.1".to_string(), 8080)));
        assert_eq!(o.get("c.test", 443), Some(&("::1".to_string(), 8443)));
        assert_eq!(o.get("d.test", 443), Some(&("127.0.0.2".to_string(), 9443)));
        assert!(o.get("b.test", 443).is_none());
        assert!(o.parse_cli("nonsense").is_err());
        assert!(o.parse_entry("x.test", "1.2.3.4").is_err());
    }
}
