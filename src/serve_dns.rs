//! A small authoritative DNS server (hickory-server, UDP and TCP on 127.0.0.1) serving
//! a zone written in zone-file syntax: the demo's DNS and the tests' fixtures. The zone
//! can be swapped while running (drift), answers can be delayed, names can SERVFAIL.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_proto::op::{Edns, Metadata, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::txt::Parser;
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo, Server};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

#[derive(Default)]
pub struct Zone {
    origin: String,
    records: BTreeMap<(String, RecordType), Vec<Record>>,
    names: HashSet<String>,
    /// Names answered with SERVFAIL, to test failures.
    pub servfail: HashSet<String>,
}

fn key(n: &Name) -> String {
    crate::net::dns::fqdn(&n.to_ascii())
}

impl Zone {
    /// Parses zone-file text (`$ORIGIN`, `$TTL`, records) for `origin`.
    pub fn parse(origin: &str, text: &str) -> Result<Zone, String> {
        let o = Name::from_ascii(crate::net::dns::fqdn(origin)).map_err(|e| e.to_string())?;
        let (origin, sets) = Parser::new(text, None, Some(o))
            .parse()
            .map_err(|e| e.to_string())?;
        let mut z = Zone {
            origin: key(&origin),
            ..Default::default()
        };
        for (k, set) in sets {
            let name = crate::net::dns::fqdn(&k.name.to_string());
            // every ancestor below the origin exists too (empty non-terminals)
            let mut n = name.as_str();
            while n.len() >= z.origin.len() {
                z.names.insert(n.to_string());
                match n.split_once('.') {
                    Some((_, rest)) if !rest.is_empty() => n = rest,
                    _ => break,
                }
            }
            z.records.insert(
                (name, k.record_type),
                set.records_without_rrsigs().cloned().collect(),
            );
        }
        Ok(z)
    }
}

struct Handler {
    zone: Arc<RwLock<Zone>>,
    delay: Arc<RwLock<Duration>>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut handle: R,
    ) -> ResponseInfo {
        let delay = *self.delay.read().expect("delay lock");
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut meta = Metadata::response_from_request(&request.metadata);
        meta.authoritative = true;
        let mut resp_edns = Edns::new();
        let edns = request.edns.as_ref().map(|e| {
            resp_edns.set_max_payload(e.max_payload().max(512));
            &resp_edns
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(e) = edns {
            builder.edns(e);
        }
        let Ok(info) = request.request_info() else {
            let r = builder.error_msg(&request.metadata, ResponseCode::FormErr);
            return handle
                .send_response(r)
                .await
                .unwrap_or_else(|_| meta_info(&request.metadata));
        };
        let qname = key(&Name::from(info.query.name().clone()));
        let qtype = info.query.query_type();
        let (answers, soa, code) = {
            let z = self.zone.read().expect("zone lock");
            if z.servfail.contains(&qname) {
                (Vec::new(), Vec::new(), ResponseCode::ServFail)
            } else {
                let soa: Vec<Record> = z
                    .records
                    .get(&(z.origin.clone(), RecordType::SOA))
                    .cloned()
                    .unwrap_or_default();
                if let Some(r) = z.records.get(&(qname.clone(), qtype)) {
                    (r.clone(), Vec::new(), ResponseCode::NoError)
                } else if let Some(c) = z.records.get(&(qname.clone(), RecordType::CNAME)) {
                    let mut out = c.clone();
                    if let Some(target) = c.first().and_then(|r| crate::net::dns::present(&r.data))
                    {
                        if let Some(t) = z.records.get(&(target, qtype)) {
                            out.extend(t.iter().cloned());
                        }
                    }
                    (out, Vec::new(), ResponseCode::NoError)
                } else if z.names.contains(&qname) {
                    (Vec::new(), soa, ResponseCode::NoError)
                } else {
                    (Vec::new(), soa, ResponseCode::NXDomain)
                }
            }
        };
        meta.response_code = code;
        let resp = builder.build(
            meta,
            answers.iter(),
            std::iter::empty(),
            soa.iter(),
            std::iter::empty(),
        );
        handle
            .send_response(resp)
            .await
            .unwrap_or_else(|_| meta_info(&request.metadata))
    }
}

fn meta_info(req: &Metadata) -> ResponseInfo {
    let mut m = Metadata::response_from_request(req);
    m.response_code = ResponseCode::ServFail;
    hickory_proto::op::Header {
        metadata: m,
        counts: Default::default(),
    }
    .into()
}

pub struct DnsServer {
    pub addr: SocketAddr,
    pub zone: Arc<RwLock<Zone>>,
    pub delay: Arc<RwLock<Duration>>,
    _server: Server<Handler>,
}

impl DnsServer {
    /// Replaces the zone while serving (to test drift).
    pub fn set_zone(&self, origin: &str, text: &str) -> Result<(), String> {
        let z = Zone::parse(origin, text)?;
        *self.zone.write().expect("zone lock") = z;
        Ok(())
    }

    pub fn set_delay(&self, d: Duration) {
        *self.delay.write().expect("delay lock") = d;
    }

    pub fn servfail(&self, name: &str) {
        self.zone
            .write()
            .expect("zone lock")
            .servfail
            .insert(crate::net::dns::fqdn(name));
    }
}

/// Serves `text` as the zone `origin` on 127.0.0.1 (same port for UDP and TCP), inside
/// the current tokio runtime.
pub async fn start(origin: &str, text: &str) -> Result<DnsServer, String> {
    let zone = Arc::new(RwLock::new(Zone::parse(origin, text)?));
    let delay = Arc::new(RwLock::new(Duration::ZERO));
    let (udp, tcp) = bind_pair().await.map_err(|e| e.to_string())?;
    let addr = udp.local_addr().map_err(|e| e.to_string())?;
    let mut server = Server::new(Handler {
        zone: zone.clone(),
        delay: delay.clone(),
    });
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 65_535);
    Ok(DnsServer {
        addr,
        zone,
        delay,
        _server: server,
    })
}

async fn bind_pair() -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(t) => return Ok((udp, t)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port pair")))
}

impl crate::serve::Background {
    pub fn serve_dns(&self, origin: &str, text: &str) -> DnsServer {
        let h = self.handle();
        let _g = h.enter();
        h.block_on(start(origin, text))
            .expect("start the DNS server")
    }
}
