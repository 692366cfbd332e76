//! Certificates for local funnels (the demo and the tests): a private CA and leaves
//! with chosen host names and validity windows, via rcgen.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate with its key, ready for a rustls server.
#[derive(Clone)]
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
}

impl Leaf {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d.push(DnType::OrganizationName, "launchgate local funnel");
    d
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
        p.distinguished_name = dn(name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        p.not_before = now - Duration::days(30);
        p.not_after = now + Duration::days(3650);
        let key = KeyPair::generate().expect("key generation");
        Ca {
            issuer: CertifiedIssuer::self_signed(p, key).expect("self-signed CA"),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A leaf for `hosts`, valid from `not_before` to `not_after`.
    pub fn issue(
        &self,
        hosts: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Leaf {
        let (p, key) = leaf_params(hosts, not_before, not_after);
        let cert = p.signed_by(&key, &self.issuer).expect("signing a leaf");
        Leaf {
            chain: vec![cert.der().clone(), self.der()],
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
        }
    }

    /// A leaf valid from yesterday for `days` days.
    pub fn issue_days(&self, hosts: &[&str], days: i64) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.issue(hosts, now - Duration::days(1), now + Duration::days(days))
    }
}

fn leaf_params(
    hosts: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> (CertificateParams, KeyPair) {
    let mut p = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        .expect("valid SANs");
    p.distinguished_name = dn(hosts.first().copied().unwrap_or("localhost"));
    p.not_before = not_before;
    p.not_after = not_after;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    (p, KeyPair::generate().expect("key generation"))
}

/// A self-signed leaf, trusted by nobody.
pub fn self_signed(hosts: &[&str], days: i64) -> Leaf {
    let now = OffsetDateTime::now_utc();
    let (p, key) = leaf_params(hosts, now - Duration::days(1), now + Duration::days(days));
    let cert = p.self_signed(&key).expect("self-signed leaf");
    Leaf {
        chain: vec![cert.der().clone()],
        key_der: key.serialize_der(),
        cert_pem: cert.pem(),
    }
}
