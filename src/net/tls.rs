//! TLS: the strict client config used for HTTP, and the probe that reports the peer
//! chain, validity window, SANs, negotiated version and whether the chain verifies.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use time::OffsetDateTime;
use tokio_rustls::TlsConnector;

use super::{connect_tcp, root_store, NetConfig, NetError};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client config for ordinary requests: the chain must verify for the host.
pub fn strict_config(cfg: &NetConfig) -> Arc<ClientConfig> {
    let mut c = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(root_store(&cfg.extra_roots))
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

pub fn server_name(host: &str) -> Result<ServerName<'static>, NetError> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(h.to_string()).map_err(|_| NetError::Tls {
        host: host.to_string(),
        reason: "invalid server name".into(),
    })
}

/// Turns rustls' errors into sentences a founder can act on.
pub fn describe_tls_error(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired => "the certificate has expired".into(),
            CertificateError::ExpiredContext { .. } => "the certificate has expired".into(),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the certificate is not valid yet".into()
            }
            CertificateError::NotValidForName => "the certificate is not valid for this host name".into(),
            CertificateError::NotValidForNameContext { expected, presented } => format!(
                "the certificate is not valid for {expected:?} (it names {})",
                if presented.is_empty() { "no host".to_string() } else { presented.join(", ") }
            ),
            CertificateError::UnknownIssuer => {
                "the certificate is not signed by a trusted CA (self-signed, private CA or missing intermediate)".into()
            }
            CertificateError::BadSignature => "the certificate signature is invalid".into(),
            CertificateError::Revoked => "the certificate is revoked".into(),
            other => format!("invalid certificate: {other:?}"),
        },
        rustls::Error::AlertReceived(a) => format!("the server refused the handshake ({a:?})"),
        rustls::Error::PeerIncompatible(p) => format!("no common TLS parameters with the server ({p:?})"),
        other => other.to_string(),
    }
}

/// A failed handshake as a `NetError`, with rustls' reason in words.
pub fn handshake_error(e: &std::io::Error, host: &str, port: u16) -> NetError {
    let reason = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(r) => describe_tls_error(r),
        None => e.to_string(),
    };
    NetError::Tls {
        host: format!("{host}:{port}"),
        reason,
    }
}

#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    outcome: Mutex<Option<Result<(), String>>>,
}

/// Records whether the chain verifies, but lets the handshake finish so the probe can
/// still report an expired or misissued certificate's details.
#[derive(Debug, Clone)]
struct RecordingVerifier(Arc<Recording>);

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self
            .0
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ())
            .map_err(|e| describe_tls_error(&e));
        *self.0.outcome.lock().expect("verifier lock") = Some(r);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.inner.supported_verify_schemes()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub sans: Vec<String>,
}

pub fn summarize(der: &[u8]) -> Option<CertSummary> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let v = cert.validity();
    let ts =
        |t: &x509_parser::time::ASN1Time| OffsetDateTime::from_unix_timestamp(t.timestamp()).ok();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for n in &ext.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => sans.push(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        sans.push(std::net::Ipv4Addr::from(a).to_string());
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        sans.push(std::net::Ipv6Addr::from(a).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Some(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: ts(&v.not_before)?,
        not_after: ts(&v.not_after)?,
        sans,
    })
}

#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    pub cipher: String,
    pub chain: Vec<CertSummary>,
    /// Whether the chain verifies for the host under the trusted roots.
    pub verified: Result<(), String>,
}

impl TlsInfo {
    pub fn leaf(&self) -> Option<&CertSummary> {
        self.chain.first()
    }
}

pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// Handshakes with `host:port` and reports what the server presented.
/// `only_tls12` restricts the offer, to learn whether a server still accepts 1.2.
pub async fn probe(
    cfg: &NetConfig,
    host: &str,
    port: u16,
    only_tls12: bool,
) -> Result<TlsInfo, NetError> {
    let fut = probe_inner(cfg, host, port, only_tls12);
    match tokio::time::timeout(cfg.timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(NetError::Timeout {
            after_ms: cfg.timeout.as_millis() as u64,
            phase: "the TLS handshake".into(),
        }),
    }
}

async fn probe_inner(
    cfg: &NetConfig,
    host: &str,
    port: u16,
    only_tls12: bool,
) -> Result<TlsInfo, NetError> {
    let inner =
        WebPkiServerVerifier::builder_with_provider(root_store(&cfg.extra_roots), provider())
            .build()
            .map_err(|e| NetError::Other(format!("cannot build the certificate verifier: {e}")))?;
    let rec = Arc::new(Recording {
        inner,
        outcome: Mutex::new(None),
    });
    let versions: &[&'static rustls::SupportedProtocolVersion] = if only_tls12 {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| NetError::Other(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier(rec.clone())))
        .with_no_client_auth();
    let (tcp, _) = connect_tcp(cfg, host, port).await?;
    let conn = TlsConnector::from(Arc::new(config));
    let tls = conn
        .connect(server_name(host)?, tcp)
        .await
        .map_err(|e| handshake_error(&e, host, port))?;
    let (_, session) = tls.get_ref();
    let chain = session
        .peer_certificates()
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| summarize(c))
        .collect();
    let version = session
        .protocol_version()
        .map(version_name)
        .unwrap_or_default();
    let cipher = session
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_default();
    let verified = rec
        .outcome
        .lock()
        .expect("verifier lock")
        .clone()
        .unwrap_or_else(|| Err("the server presented no certificate".into()));
    Ok(TlsInfo {
        version,
        cipher,
        chain,
        verified,
    })
}
