//! rustls cannot speak TLS 1.0/1.1, so to learn whether a server still accepts them we
//! send a minimal ClientHello of that version by hand and read the first record back.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{connect_tcp, NetConfig, NetError};

pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;

pub fn version_label(v: u16) -> &'static str {
    match v {
        0x0301 => "TLSv1.0",
        0x0302 => "TLSv1.1",
        0x0303 => "TLSv1.2",
        0x0304 => "TLSv1.3",
        _ => "unknown",
    }
}

/// A ClientHello offering exactly `version`, with the suites legacy servers speak.
pub fn client_hello(version: u16, host: &str) -> Vec<u8> {
    let suites: [u16; 10] = [
        0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x0033, 0x0039, 0x000a, 0x0005,
    ];
    let mut ext = Vec::new();
    let is_name = host.parse::<std::net::IpAddr>().is_err();
    if is_name {
        let name = host.as_bytes();
        let mut sni = Vec::new();
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni);
    }
    // supported_groups: secp256r1, secp384r1
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // renegotiation_info, empty
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);

    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for i in 0..32u128 {
        body.push(((seed >> ((i % 16) * 8)) as u8).wrapping_add((i as u8).wrapping_mul(31)));
    }
    body.push(0); // session id
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);

    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);

    let mut rec = vec![0x16];
    rec.extend_from_slice(&TLS10.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Reads the server's answer: `Some(version)` when it sent a ServerHello at `offered`.
pub fn parse_answer(buf: &[u8], offered: u16) -> bool {
    // record: type(1) version(2) len(2) | handshake: type(1) len(3) version(2)
    buf.len() >= 11
        && buf[0] == 0x16
        && buf[5] == 2
        && u16::from_be_bytes([buf[9], buf[10]]) == offered
}

/// Whether `host:port` completes the first step of a handshake at `version`.
pub async fn accepts(
    cfg: &NetConfig,
    host: &str,
    port: u16,
    version: u16,
) -> Result<bool, NetError> {
    let fut = async {
        let (mut tcp, _) = connect_tcp(cfg, host, port).await?;
        tcp.write_all(&client_hello(version, host))
            .await
            .map_err(|e| NetError::Other(format!("cannot send a ClientHello: {e}")))?;
        let mut buf = [0u8; 11];
        let mut got = 0;
        while got < buf.len() {
            match tcp.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break, // a reset or close is a refusal
                Ok(n) => got += n,
            }
            if got >= 1 && buf[0] == 0x15 {
                break; // alert
            }
        }
        Ok(parse_answer(&buf[..got], version))
    };
    match tokio::time::timeout(cfg.timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(NetError::Timeout {
            after_ms: cfg.timeout.as_millis() as u64,
            phase: "a legacy TLS handshake".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_well_formed() {
        let h = client_hello(TLS10, "www.example.com");
        assert_eq!(h[0], 0x16);
        let len = u16::from_be_bytes([h[3], h[4]]) as usize;
        assert_eq!(len, h.len() - 5);
        assert_eq!(h[5], 1);
        assert_eq!(u16::from_be_bytes([h[9], h[10]]), TLS10);
    }

    #[test]
    fn answers() {
        let server_hello = [0x16, 3, 1, 0, 40, 2, 0, 0, 36, 3, 1];
        assert!(parse_answer(&server_hello, TLS10));
        assert!(!parse_answer(&server_hello, TLS11));
        assert!(!parse_answer(&[0x15, 3, 1, 0, 2, 2, 70], TLS10));
        assert!(!parse_answer(&[], TLS10));
    }
}
