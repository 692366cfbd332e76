//! DMARC records (RFC 7489 and the DMARCbis revision): strict tag parsing.

use super::dkim::tags;
use crate::policy::DmarcLevel;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dmarc {
    pub p: Option<DmarcLevel>,
    pub sp: Option<DmarcLevel>,
    pub np: Option<DmarcLevel>,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
    pub adkim: char,
    pub aspf: char,
    /// Tags RFC 7489 had and DMARCbis removed (`pct`, `rf`, `ri`).
    pub removed_tags: Vec<String>,
    pub testing: bool,
}

pub fn is_dmarc(txt: &str) -> bool {
    let t = txt.trim_start().as_bytes();
    t.len() >= 8
        && t[..8].eq_ignore_ascii_case(b"v=DMARC1")
        && t[8..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|b| *b == b';')
}

fn level(tag: &str, v: &str) -> Result<DmarcLevel, String> {
    match v.to_ascii_lowercase().as_str() {
        "none" => Ok(DmarcLevel::None),
        "quarantine" => Ok(DmarcLevel::Quarantine),
        "reject" => Ok(DmarcLevel::Reject),
        _ => Err(format!("{tag}={v} is not none, quarantine or reject")),
    }
}

fn uris(tag: &str, v: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for u in v.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let addr = u
            .strip_prefix("mailto:")
            .or_else(|| u.strip_prefix("MAILTO:"))
            .ok_or_else(|| format!("{tag} destination `{u}` is not a mailto: URI"))?;
        let addr = addr.split('!').next().unwrap_or(addr);
        let (local, domain) = addr
            .rsplit_once('@')
            .ok_or_else(|| format!("{tag} destination `{u}` has no @domain"))?;
        if local.is_empty() || domain.is_empty() || !domain.contains('.') {
            return Err(format!("{tag} destination `{u}` is not an email address"));
        }
        out.push(addr.to_ascii_lowercase());
    }
    if out.is_empty() {
        return Err(format!("{tag}= is empty"));
    }
    Ok(out)
}

pub fn parse(record: &str) -> Result<Dmarc, String> {
    let t = tags(record)?;
    match t.first() {
        Some((k, v)) if k == "v" && v == "DMARC1" => {}
        _ => return Err("the record must start with v=DMARC1".into()),
    }
    let mut d = Dmarc {
        adkim: 'r',
        aspf: 'r',
        ..Default::default()
    };
    for (k, v) in &t[1..] {
        match k.to_ascii_lowercase().as_str() {
            "p" => d.p = Some(level("p", v)?),
            "sp" => d.sp = Some(level("sp", v)?),
            "np" => d.np = Some(level("np", v)?),
            "rua" => d.rua = uris("rua", v)?,
            "ruf" => d.ruf = uris("ruf", v)?,
            "adkim" | "aspf" => {
                let c = match v.to_ascii_lowercase().as_str() {
                    "r" => 'r',
                    "s" => 's',
                    _ => return Err(format!("{k}={v} is not r or s")),
                };
                if k == "adkim" {
                    d.adkim = c
                } else {
                    d.aspf = c
                }
            }
            "fo" => {
                if !v
                    .split(':')
                    .all(|x| matches!(x.trim(), "0" | "1" | "d" | "s"))
                {
                    return Err(format!("fo={v} must be 0, 1, d or s separated by `:`"));
                }
            }
            "pct" => {
                match v.parse::<u8>() {
                    Ok(n) if n <= 100 => {}
                    _ => return Err(format!("pct={v} is not a number from 0 to 100")),
                }
                d.removed_tags.push("pct".into());
            }
            "rf" => {
                if !v
                    .split(':')
                    .all(|x| matches!(x.trim().to_ascii_lowercase().as_str(), "afrf" | "iodef"))
                {
                    return Err(format!("rf={v} is not afrf"));
                }
                d.removed_tags.push("rf".into());
            }
            "ri" => {
                v.parse::<u32>()
                    .map_err(|_| format!("ri={v} is not a number of seconds"))?;
                d.removed_tags.push("ri".into());
            }
            "psd" => {
                if !matches!(v.as_str(), "y" | "n" | "u") {
                    return Err(format!("psd={v} is not y, n or u"));
                }
            }
            "t" => match v.as_str() {
                "y" => d.testing = true,
                "n" => {}
                _ => return Err(format!("t={v} is not y or n")),
            },
            "v" => return Err("v= appears twice".into()),
            other => return Err(format!("unknown tag `{other}`")),
        }
    }
    if d.p.is_none() && d.rua.is_empty() {
        return Err("the record has no p= policy".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_revisions() {
        let d = parse(
            "v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc@example.com; adkim=s; pct=50",
        )
        .unwrap();
        assert_eq!(d.p, Some(DmarcLevel::Quarantine));
        assert_eq!(d.sp, Some(DmarcLevel::Reject));
        assert_eq!(d.rua, vec!["dmarc@example.com"]);
        assert_eq!(d.adkim, 's');
        assert_eq!(d.removed_tags, vec!["pct"]);
        let bis =
            parse("v=DMARC1; p=reject; np=reject; psd=n; t=n; rua=mailto:a@b.example").unwrap();
        assert_eq!(bis.np, Some(DmarcLevel::Reject));
        assert!(bis.removed_tags.is_empty());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "p=none; v=DMARC1",
            "v=DMARC2; p=none",
            "v=DMARC1; p=monitor",
            "v=DMARC1; p=none; rua=dmarc@example.com",
            "v=DMARC1; p=none; pct=150",
            "v=DMARC1; p=none; foo=bar",
            "v=DMARC1; p=none; adkim=x",
            "v=DMARC1",
            "v=DMARC1; p=none; p=reject",
            "v=DMARC1 p=none",
        ] {
            assert!(parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
