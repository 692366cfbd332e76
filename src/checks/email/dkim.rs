//! DKIM key records (RFC 6376 §3.6.1): tags, revocation, and the key's strength read
//! from the SubjectPublicKeyInfo.

use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimKey {
    pub version: Option<String>,
    /// `rsa` (default) or `ed25519`.
    pub key_type: String,
    /// Decoded key bytes; empty means revoked.
    pub public_key: Vec<u8>,
    pub testing: bool,
    pub flags: Vec<String>,
}

impl DkimKey {
    pub fn revoked(&self) -> bool {
        self.public_key.is_empty()
    }
}

/// `tag=value; tag=value` (RFC 6376 §3.2), whitespace folded.
pub fn tags(record: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in record.split(';') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("`{p}` is not a tag=value pair"))?;
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{k}` is not a valid tag name"));
        }
        if out.iter().any(|(x, _)| x == k) {
            return Err(format!("tag `{k}` appears twice"));
        }
        out.push((
            k.to_string(),
            v.split_whitespace().collect::<Vec<_>>().join(""),
        ));
    }
    Ok(out)
}

pub fn parse(record: &str) -> Result<DkimKey, String> {
    let t = tags(record)?;
    let get = |k: &str| t.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    let version = get("v");
    if let Some(v) = &version {
        if v != "DKIM1" {
            return Err(format!("v={v} is not DKIM1"));
        }
        if t.first().map(|(k, _)| k.as_str()) != Some("v") {
            return Err("the v= tag must come first".into());
        }
    }
    let key_type = get("k")
        .unwrap_or_else(|| "rsa".into())
        .to_ascii_lowercase();
    if key_type != "rsa" && key_type != "ed25519" {
        return Err(format!("unknown key type k={key_type}"));
    }
    let p = get("p").ok_or("the record has no p= (public key) tag")?;
    let public_key = base64::engine::general_purpose::STANDARD
        .decode(p.as_bytes())
        .map_err(|e| format!("p= is not valid base64: {e}"))?;
    let flags: Vec<String> = get("t")
        .map(|f| {
            f.split(':')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(DkimKey {
        version,
        testing: flags.iter().any(|f| f == "y"),
        key_type,
        public_key,
        flags,
    })
}

/// The key size in bits: RSA modulus length, or 256 for ed25519.
pub fn key_bits(k: &DkimKey) -> Result<usize, String> {
    if k.key_type == "ed25519" {
        return if k.public_key.len() == 32 {
            Ok(256)
        } else {
            Err(format!(
                "an ed25519 key is 32 bytes, this one is {}",
                k.public_key.len()
            ))
        };
    }
    use x509_parser::prelude::FromDer;
    if let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&k.public_key) {
        return match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Ok(rsa.key_size()),
            Ok(_) => Err("p= holds a key that is not RSA although k=rsa".into()),
            Err(e) => Err(format!("cannot read the RSA key: {e}")),
        };
    }
    // Some signers publish a bare PKCS#1 RSAPublicKey instead of an SPKI.
    match x509_parser::public_key::RSAPublicKey::from_der(&k.public_key) {
        Ok((_, rsa)) => Ok(rsa.key_size()),
        Err(_) => Err("p= is not a DER SubjectPublicKeyInfo or RSA public key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_errors() {
        assert!(parse("v=DKIM1; k=rsa; p=").unwrap().revoked());
        assert!(parse("v=DKIM2; p=").is_err());
        assert!(parse("k=rsa; v=DKIM1; p=").is_err());
        assert!(parse("v=DKIM1; k=dsa; p=").is_err());
        assert!(parse("v=DKIM1; k=rsa").is_err());
        assert!(parse("v=DKIM1; p=!!!").is_err());
        assert!(parse("v=DKIM1; p=AAAA; p=BBBB").is_err());
        assert!(parse("garbage").is_err());
        let k = parse("v=DKIM1; t=y:s; p=AAAA").unwrap();
        assert!(k.testing);
    }

    #[test]
    fn ed25519_keys() {
        let p = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let k = parse(&format!("v=DKIM1; k=ed25519; p={p}")).unwrap();
        assert_eq!(key_bits(&k), Ok(256));
    }

    #[test]
    fn rsa_key_sizes_from_spki() {
        for bits in [1024usize, 2048] {
            let key = rsa_spki(bits);
            let p = base64::engine::general_purpose::STANDARD.encode(&key);
            let k = parse(&format!("v=DKIM1; k=rsa; p={p}")).unwrap();
            assert_eq!(key_bits(&k), Ok(bits));
        }
    }

    /// A syntactically valid SPKI with a modulus of `bits` bits (not a usable key).
    pub fn rsa_spki(bits: usize) -> Vec<u8> {
        super::test_keys::rsa_spki(bits)
    }
}

/// Builders for test keys (also used by the integration tests and the demo zone).
pub mod test_keys {
    fn der_len(n: usize) -> Vec<u8> {
        if n < 128 {
            vec![n as u8]
        } else if n < 256 {
            vec![0x81, n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(der_len(body.len()));
        v.extend_from_slice(body);
        v
    }

    /// A DER SubjectPublicKeyInfo whose RSA modulus has exactly `bits` bits.
    pub fn rsa_spki(bits: usize) -> Vec<u8> {
        let mut modulus = vec![0u8; bits / 8];
        modulus[0] = 0xc3;
        for (i, b) in modulus.iter_mut().enumerate().skip(1) {
            *b = (i as u8).wrapping_mul(37) | 1;
        }
        let mut m = vec![0u8];
        m.extend(modulus);
        let mut rsa = tlv(0x02, &m);
        rsa.extend(tlv(0x02, &[0x01, 0x00, 0x01]));
        let rsa_key = tlv(0x30, &rsa);
        let mut bitstr = vec![0u8];
        bitstr.extend(rsa_key);
        let alg = tlv(
            0x30,
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
            ],
        );
        let mut spki = alg;
        spki.extend(tlv(0x03, &bitstr));
        tlv(0x30, &spki)
    }

    /// `v=DKIM1; k=rsa; p=...` for an RSA key of `bits`.
    pub fn rsa_record(bits: usize) -> String {
        use base64::Engine;
        format!(
            "v=DKIM1; k=rsa; p={}",
            base64::engine::general_purpose::STANDARD.encode(rsa_spki(bits))
        )
    }
}
