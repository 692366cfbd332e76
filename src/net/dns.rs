//! DNS lookups for the dns and email checks: one hickory resolver per configured server,
//! tried in order, so an error can say which server failed and how. NXDOMAIN and NODATA
//! are answers, not errors. UDP falls back to TCP for truncated answers.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HDnsError, NetError as HNetError};
use hickory_resolver::TokioResolver;

/// One answered record, in normalised presentation form (SPEC §3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rec {
    pub value: String,
    pub ttl: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Records(Vec<Rec>),
    /// The name does not exist.
    NxDomain,
    /// The name exists but has no record of this type.
    NoData,
    /// The name is an alias (CNAME) whose target has no record of this type.
    Alias(String),
}

impl Answer {
    pub fn values(&self) -> Vec<String> {
        match self {
            Answer::Records(r) => r.iter().map(|x| x.value.clone()).collect(),
            _ => Vec::new(),
        }
    }
    /// A void lookup in SPF terms (RFC 7208 §4.6.4): no answer at all.
    pub fn is_void(&self) -> bool {
        match self {
            Answer::Records(r) => r.is_empty(),
            _ => true,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Answer::Records(r) if r.is_empty() => "no records".into(),
            Answer::Records(r) => r
                .iter()
                .map(|x| x.value.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Answer::NxDomain => "NXDOMAIN (the name does not exist)".into(),
            Answer::NoData => "no records of this type".into(),
            Answer::Alias(t) => format!("an alias (CNAME) for {t} with no records of this type"),
        }
    }
}

/// Every configured server failed to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFailure {
    pub query: String,
    /// (server, what happened), in the order tried.
    pub attempts: Vec<(String, String)>,
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .attempts
            .iter()
            .map(|(s, w)| format!("{s}: {w}"))
            .collect();
        write!(
            f,
            "DNS lookup of {} failed ({})",
            self.query,
            parts.join("; ")
        )
    }
}

impl std::error::Error for DnsFailure {}

struct Server {
    label: String,
    resolver: TokioResolver,
}

pub struct DnsClient {
    servers: Vec<Server>,
}

/// `ip` or `ip:port` (IPv6 as `[::1]:53`).
pub fn parse_server(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "DNS resolver `{s}` must be an IP address or IP:PORT"
    ))
}

fn opts(timeout: Duration, retries: u32) -> ResolverOpts {
    let mut o = ResolverOpts::default();
    o.timeout = timeout;
    o.attempts = retries as usize + 1;
    o.edns0 = true;
    o.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    o.ndots = 0;
    o.num_concurrent_reqs = 1;
    o.cache_size = 256;
    o.preserve_intermediates = true;
    o
}

impl DnsClient {
    /// `servers` empty: the system resolver (/etc/resolv.conf).
    pub fn new(
        servers: &[SocketAddr],
        timeout: Duration,
        retries: u32,
    ) -> Result<DnsClient, String> {
        let mut out = Vec::new();
        if servers.is_empty() {
            let (cfg, _) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?;
            let label = cfg
                .name_servers()
                .first()
                .map(|n| format!("system resolver {}", n.ip))
                .unwrap_or_else(|| "system resolver".into());
            let r = TokioResolver::builder_with_config(cfg, TokioRuntimeProvider::default())
                .with_options(opts(timeout, retries))
                .build()
                .map_err(|e| e.to_string())?;
            out.push(Server { label, resolver: r });
        }
        for sa in servers {
            let mut udp = ConnectionConfig::udp();
            udp.port = sa.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = sa.port();
            let ns = NameServerConfig::new(sa.ip(), true, vec![udp, tcp]);
            let cfg = ResolverConfig::from_name_servers(vec![ns]);
            let r = TokioResolver::builder_with_config(cfg, TokioRuntimeProvider::default())
                .with_options(opts(timeout, retries))
                .build()
                .map_err(|e| e.to_string())?;
            out.push(Server {
                label: sa.to_string(),
                resolver: r,
            });
        }
        Ok(DnsClient { servers: out })
    }

    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsFailure> {
        let fqdn = fqdn(name);
        let mut attempts = Vec::new();
        for s in &self.servers {
            match s.resolver.lookup(fqdn.as_str(), rtype).await {
                Ok(l) => {
                    let mut recs: Vec<Rec> = l
                        .answers()
                        .iter()
                        .filter(|r| r.record_type() == rtype)
                        .filter_map(|r| present(&r.data).map(|value| Rec { value, ttl: r.ttl }))
                        .collect();
                    recs.sort();
                    recs.dedup_by(|a, b| a.value == b.value);
                    if recs.is_empty() {
                        let alias = l
                            .answers()
                            .iter()
                            .find(|r| r.record_type() == RecordType::CNAME)
                            .and_then(|r| present(&r.data));
                        return Ok(alias.map(Answer::Alias).unwrap_or(Answer::NoData));
                    }
                    return Ok(Answer::Records(recs));
                }
                Err(e) => match classify(&e) {
                    // the resolver chased a CNAME and the target had nothing
                    Classified::NxDomain | Classified::NoData if chased(&e, &fqdn).is_some() => {
                        return Ok(Answer::Alias(chased(&e, &fqdn).unwrap_or_default()))
                    }
                    Classified::NxDomain => return Ok(Answer::NxDomain),
                    Classified::NoData => return Ok(Answer::NoData),
                    Classified::Failure(what) => attempts.push((s.label.clone(), what)),
                },
            }
        }
        Err(DnsFailure {
            query: format!("{fqdn} {rtype}"),
            attempts,
        })
    }

    pub async fn txt(&self, name: &str) -> Result<Answer, DnsFailure> {
        self.query(name, RecordType::TXT).await
    }
}

/// The alias target when a negative answer is for another name than the one asked.
fn chased(e: &HNetError, asked: &str) -> Option<String> {
    match e {
        HNetError::Dns(HDnsError::NoRecordsFound(nr)) => {
            let n = fqdn(&nr.query.name().to_ascii());
            (n != asked).then_some(n)
        }
        _ => None,
    }
}

enum Classified {
    NxDomain,
    NoData,
    Failure(String),
}

fn classify(e: &HNetError) -> Classified {
    match e {
        HNetError::Dns(HDnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => Classified::NxDomain,
            ResponseCode::NoError => Classified::NoData,
            other => Classified::Failure(format!("answered {}", rcode_name(other))),
        },
        HNetError::Dns(HDnsError::ResponseCode(rc)) => {
            Classified::Failure(format!("answered {}", rcode_name(*rc)))
        }
        HNetError::Timeout => Classified::Failure("timed out".into()),
        HNetError::Io(io) => Classified::Failure(format!("network error: {io}")),
        other => Classified::Failure(other.to_string()),
    }
}

fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        other => format!("{other:?}").to_uppercase(),
    }
}

pub fn fqdn(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with('.') {
        n
    } else {
        format!("{n}.")
    }
}

fn name_text(n: &hickory_proto::rr::Name) -> String {
    fqdn(&n.to_ascii())
}

/// Normalised presentation text (SPEC §3): names lower-case with the trailing dot, TXT
/// strings of one record joined, MX `PREF HOST.`, CAA `FLAGS TAG "VALUE"`.
pub fn present(d: &RData) -> Option<String> {
    Some(match d {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => name_text(&c.0),
        RData::NS(n) => name_text(&n.0),
        RData::MX(m) => format!("{} {}", m.preference, name_text(&m.exchange)),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect::<String>(),
        RData::CAA(c) => c.to_string(),
        RData::SRV(s) => format!(
            "{} {} {} {}",
            s.priority,
            s.weight,
            s.port,
            name_text(&s.target)
        ),
        _ => return None,
    })
}

/// Normalises a value as written in the policy so it compares with `present`.
pub fn normalise_expected(rtype: RecordType, v: &str) -> String {
    let v = v.trim();
    match rtype {
        RecordType::CNAME | RecordType::NS => fqdn(v),
        RecordType::MX => match v.split_once(char::is_whitespace) {
            Some((p, h)) => format!("{} {}", p.trim(), fqdn(h.trim())),
            None => fqdn(v),
        },
        RecordType::SRV => {
            let parts: Vec<&str> = v.split_whitespace().collect();
            if parts.len() == 4 {
                format!("{} {} {} {}", parts[0], parts[1], parts[2], fqdn(parts[3]))
            } else {
                v.to_string()
            }
        }
        RecordType::CAA => {
            let parts: Vec<&str> = v.splitn(3, char::is_whitespace).collect();
            if parts.len() == 3 {
                let val = parts[2].trim().trim_matches('"');
                format!("{} {} \"{}\"", parts[0], parts[1].to_ascii_lowercase(), val)
            } else {
                v.to_string()
            }
        }
        RecordType::AAAA => v
            .parse::<std::net::Ipv6Addr>()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| v.to_string()),
        RecordType::TXT => v.trim_matches('"').to_string(),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_policy_values() {
        assert_eq!(
            normalise_expected(RecordType::MX, "10 ASPMX.L.Google.com"),
            "10 aspmx.l.google.com."
        );
        assert_eq!(
            normalise_expected(RecordType::CNAME, "acme.pages.dev"),
            "acme.pages.dev."
        );
        assert_eq!(
            normalise_expected(RecordType::CAA, "0 issue \"letsencrypt.org\""),
            "0 issue \"letsencrypt.org\""
        );
        assert_eq!(
            normalise_expected(RecordType::AAAA, "2001:db8:0::1"),
            "2001:db8::1"
        );
        assert_eq!(parse_server("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_server("1.1.1.1").unwrap().port(), 53);
        assert!(parse_server("dns.google").is_err());
    }
}
