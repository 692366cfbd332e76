//! `tls`: every https host in the policy is probed once: the chain verifies for the
//! host, the leaf is not near expiry, and no protocol below `min_version` is accepted.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::{legacy, tls as probe};
use crate::policy::Policy;

pub const VALID: CheckInfo = CheckInfo {
    id: "tls.valid",
    severity: Severity::Blocker,
    title: "Certificate is valid for the host",
    why: "Browsers show a full-page security warning for an invalid certificate; almost every paid visitor leaves, and forms on the page cannot be trusted.",
    fix: "Install a certificate that covers this exact host name with its full intermediate chain, from a public CA (e.g. Let's Encrypt).",
};

pub const EXPIRY: CheckInfo = CheckInfo {
    id: "tls.expiry",
    severity: Severity::Blocker,
    title: "Certificate is not about to expire",
    why: "The day the certificate expires the whole funnel shows a security error; renewals fail silently more often than anyone expects.",
    fix: "Renew the certificate now and make renewal automatic (ACME/managed certificates), then alert on renewal failures.",
};

pub const VERSION: CheckInfo = CheckInfo {
    id: "tls.version",
    severity: Severity::Blocker,
    title: "Only modern TLS versions are accepted",
    why: "TLS 1.0/1.1 are broken and deprecated; card payments (PCI DSS) and enterprise buyers' security reviews reject hosts that still accept them.",
    fix: "Disable TLS versions below the minimum in the server or CDN configuration (min TLS 1.2).",
};

pub const INFO: &[CheckInfo] = &[VALID, EXPIRY, VERSION];

/// `host:port` of every https URL the policy names, plus `tls.hosts`, each once.
pub fn hosts(p: &Policy) -> Vec<(String, u16)> {
    let mut urls: Vec<url::Url> = Vec::new();
    urls.extend(p.pages.iter().map(|x| x.url.url()));
    for r in &p.redirects {
        urls.push(r.from.url());
        urls.push(r.to.url());
    }
    urls.extend(p.forms.iter().map(|x| x.url.url()));
    urls.extend(p.load.iter().map(|x| x.url.url()));
    if let Some(r) = &p.rollback {
        urls.push(r.version_url.url());
    }
    let mut set = BTreeSet::new();
    let mut out = Vec::new();
    for u in urls.iter().filter(|u| u.scheme() == "https") {
        if let (Some(h), Some(port)) = (u.host_str(), u.port_or_known_default()) {
            if set.insert((h.to_ascii_lowercase(), port)) {
                out.push((h.to_ascii_lowercase(), port));
            }
        }
    }
    if let Some(t) = &p.tls {
        for h in &t.hosts {
            let (host, port) = match h.rsplit_once(':') {
                Some((a, b)) if b.parse::<u16>().is_ok() => {
                    (a.to_string(), b.parse().unwrap_or(443))
                }
                _ => (h.to_string(), 443),
            };
            if set.insert((host.to_ascii_lowercase(), port)) {
                out.push((host.to_ascii_lowercase(), port));
            }
        }
    }
    out
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let p = &ctx.loaded.policy;
    let futs = hosts(p).into_iter().map(|(h, port)| check(ctx, h, port));
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn check(ctx: &Ctx, host: String, port: u16) -> Vec<CheckResult> {
    let target = format!("{host}:{port}");
    let t = ctx.loaded.policy.tls.clone().unwrap_or_default();
    let min_days = t.min_days.map(|c| c.0 as i64).unwrap_or(14);
    let warn_days = t.warn_days.map(|c| c.0 as i64).unwrap_or(30).max(min_days);
    let min_version = t
        .min_version
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_else(|| "1.2".into());
    let started = std::time::Instant::now();
    let info = match probe::probe(ctx.net(), &host, port, false).await {
        Ok(i) => i,
        Err(e) => {
            let msg = format!("TLS handshake failed: {e}");
            return vec![
                error(&VALID, &target, &msg),
                error(&EXPIRY, &target, &msg),
                error(&VERSION, &target, &msg),
            ];
        }
    };
    let elapsed = started.elapsed();
    let mut out = Vec::new();
    let leaf = info.leaf().cloned();
    let chain_ev = serde_json::to_value(&info.chain).unwrap_or_default();

    out.push(
        match &info.verified {
            Ok(()) => pass(&VALID, &target, format!("certificate verifies for {host}")),
            Err(reason) => fail(
                &VALID,
                &target,
                format!("certificate does not verify for {host}: {reason}"),
            ),
        }
        .evidence("chain", chain_ev)
        .evidence("version", info.version.clone())
        .duration(elapsed),
    );

    out.push(match &leaf {
        None => error(&EXPIRY, &target, "the server presented no certificate"),
        Some(l) => {
            let now = OffsetDateTime::now_utc();
            let secs = (l.not_after - now).whole_seconds();
            // Rounded, so a certificate issued "for 3 days" a moment ago reads as 3 days.
            let days = (secs as f64 / 86_400.0).round() as i64;
            let when = l.not_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
            let r = if secs <= 0 {
                fail(&EXPIRY, &target, format!("certificate expired {} day(s) ago ({when})", -days))
            } else if days < min_days {
                fail(&EXPIRY, &target, format!("certificate expires in {days} day(s) ({when}), under the {min_days}-day minimum"))
            } else if days < warn_days {
                fail(&EXPIRY, &target, format!("certificate expires in {days} day(s) ({when}), renew within {warn_days} days"))
                    .severity(Severity::Warning)
            } else {
                pass(&EXPIRY, &target, format!("certificate valid for {days} more days ({when})"))
            };
            r.evidence("not_after", when)
                .evidence("days_left", days)
                .evidence("issuer", l.issuer.clone())
                .evidence("subject", l.subject.clone())
        }
    });

    out.push(version_check(ctx, &host, port, &target, &min_version, &info.version).await);
    out
}

async fn version_check(
    ctx: &Ctx,
    host: &str,
    port: u16,
    target: &str,
    min: &str,
    negotiated: &str,
) -> CheckResult {
    let legacy_versions: &[(u16, &str)] = match min {
        "1.0" => &[],
        "1.1" => &[(legacy::TLS10, "1.0")],
        "1.3" | "1.2" => &[(legacy::TLS10, "1.0"), (legacy::TLS11, "1.1")],
        other => {
            return error(
                &VERSION,
                target,
                format!("tls.min_version `{other}` is not one of 1.0, 1.1, 1.2, 1.3"),
            );
        }
    };
    let mut accepted = Vec::new();
    for (v, label) in legacy_versions {
        match legacy::accepts(ctx.net(), host, port, *v).await {
            Ok(true) => accepted.push(format!("TLS {label}")),
            Ok(false) => {}
            Err(e) => {
                return error(
                    &VERSION,
                    target,
                    format!("could not probe TLS {label}: {e}"),
                )
            }
        }
    }
    if min == "1.3" {
        match probe::probe(ctx.net(), host, port, true).await {
            Ok(_) => accepted.push("TLS 1.2".into()),
            Err(crate::net::NetError::Tls { .. }) => {}
            Err(e) => return error(&VERSION, target, format!("could not probe TLS 1.2: {e}")),
        }
    }
    let r = if accepted.is_empty() {
        pass(
            &VERSION,
            target,
            format!("negotiates {negotiated}; nothing below TLS {min} accepted"),
        )
    } else {
        fail(
            &VERSION,
            target,
            format!(
                "accepts {} (below the TLS {min} minimum)",
                accepted.join(" and ")
            ),
        )
    };
    r.evidence("negotiated", negotiated.to_string())
        .evidence("accepted_below_min", accepted)
        .evidence("min_version", min.to_string())
}
