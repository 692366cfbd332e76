//! `headers`: HSTS and the recommended security headers on every HTML page.

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity, Status};
use crate::net::http::Response;
use crate::policy::{HeadersPolicy, Level, SecurityHeaders, SecurityPreset};

pub const HSTS: CheckInfo = CheckInfo {
    id: "headers.hsts",
    severity: Severity::Blocker,
    title: "Strict-Transport-Security is set with a long max-age",
    why: "Without HSTS the first visit from an ad can be downgraded to plain http on hostile Wi-Fi, and visitors' form data is exposed.",
    fix: "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every https response (server, CDN or framework setting).",
};

pub const HSTS_SUBDOMAINS: CheckInfo = CheckInfo {
    id: "headers.hsts.subdomains",
    severity: Severity::Warning,
    title: "HSTS covers subdomains",
    why: "Without includeSubDomains, cookies for the parent domain can still leak over http on a forgotten subdomain.",
    fix: "Add `includeSubDomains` to the HSTS header once every subdomain serves https.",
};

pub const HSTS_PRELOAD: CheckInfo = CheckInfo {
    id: "headers.hsts.preload",
    severity: Severity::Warning,
    title: "HSTS is ready for the preload list",
    why: "Preloading protects even the very first visit; the policy asks for it.",
    fix: "Send `max-age=31536000; includeSubDomains; preload` and submit the domain at hstspreload.org.",
};

pub const SECURITY: CheckInfo = CheckInfo {
    id: "headers.security",
    severity: Severity::Warning,
    title: "Recommended security headers are present",
    why: "Missing CSP, frame and content-type protections make the page easy to clickjack or inject into, and enterprise buyers' security questionnaires check for them.",
    fix: "Add the missing headers at the server or CDN: Content-Security-Policy, X-Content-Type-Options: nosniff, X-Frame-Options (or CSP frame-ancestors), Referrer-Policy.",
};

pub const INFO: &[CheckInfo] = &[HSTS, HSTS_SUBDOMAINS, HSTS_PRELOAD, SECURITY];

pub const DEFAULT_MIN_MAX_AGE: u64 = 15_552_000;

const RECOMMENDED: &[(&str, Level)] = &[
    ("content-security-policy", Level::Required),
    ("x-content-type-options", Level::Required),
    ("x-frame-options", Level::Required),
    ("referrer-policy", Level::Required),
    ("permissions-policy", Level::Warn),
];

#[derive(Debug, Default, PartialEq)]
pub struct Hsts {
    pub max_age: Option<u64>,
    pub include_subdomains: bool,
    pub preload: bool,
}

pub fn parse_hsts(v: &str) -> Hsts {
    let mut h = Hsts::default();
    for part in v.split(';') {
        let p = part.trim();
        let (k, val) = p
            .split_once('=')
            .map(|(a, b)| (a.trim(), Some(b.trim())))
            .unwrap_or((p, None));
        match k.to_ascii_lowercase().as_str() {
            "max-age" => h.max_age = val.and_then(|v| v.trim_matches('"').parse().ok()),
            "includesubdomains" => h.include_subdomains = true,
            "preload" => h.preload = true,
            _ => {}
        }
    }
    h
}

fn is_html(r: &Response) -> bool {
    match r.header("content-type") {
        Some(ct) => ct.to_ascii_lowercase().contains("html"),
        None => true,
    }
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let p = &ctx.loaded.policy;
    let Some(hp) = p.headers.clone() else {
        return Vec::new();
    };
    let futs = p
        .pages
        .iter()
        .filter(|pg| pg.url.url().scheme() == "https")
        .map(|pg| {
            let hp = hp.clone();
            async move {
                let r = ctx.fetch_page(pg).await;
                judge(&hp, pg.url.as_str(), r)
            }
        });
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn judge(
    hp: &HeadersPolicy,
    target: &str,
    resp: Result<Response, crate::net::NetError>,
) -> Vec<CheckResult> {
    let hsts_p = hp.hsts.clone().unwrap_or_default();
    let hsts_on = hsts_p.enabled.map(|f| f.0).unwrap_or(true);
    let sub_level = hsts_p.include_subdomains.unwrap_or(Level::Warn);
    let preload_level = hsts_p.preload.unwrap_or(Level::Off);
    let security = security_list(hp.security.as_ref());
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("could not fetch the page: {e}");
            let mut out = Vec::new();
            if hsts_on {
                out.push(error(&HSTS, target, &msg));
            }
            if !security.is_empty() {
                out.push(error(&SECURITY, target, &msg));
            }
            return out;
        }
    };
    if !is_html(&resp) {
        return Vec::new(); // assets need neither HSTS nor CSP
    }
    let mut out = Vec::new();
    if hsts_on {
        let min_age = hsts_p
            .min_max_age
            .map(|c| c.0)
            .unwrap_or(DEFAULT_MIN_MAX_AGE);
        let raw = resp.header("strict-transport-security").map(str::to_string);
        let parsed = raw.as_deref().map(parse_hsts);
        let ev = |r: CheckResult| r.evidence("strict-transport-security", raw.clone());
        out.push(ev(match &parsed {
            None => fail(&HSTS, target, "no Strict-Transport-Security header"),
            Some(h) => match h.max_age {
                None => fail(
                    &HSTS,
                    target,
                    "Strict-Transport-Security has no valid max-age",
                ),
                Some(a) if a < min_age => fail(
                    &HSTS,
                    target,
                    format!(
                        "HSTS max-age={a} is below the required {min_age} ({} days)",
                        min_age / 86_400
                    ),
                ),
                Some(a) => pass(&HSTS, target, format!("HSTS max-age={a}")),
            },
        }));
        if sub_level != Level::Off {
            let r = match &parsed {
                None => crate::checks::result(
                    &HSTS_SUBDOMAINS,
                    target,
                    Status::Skipped,
                    "no HSTS header (see headers.hsts)",
                ),
                Some(h) if h.include_subdomains => {
                    pass(&HSTS_SUBDOMAINS, target, "HSTS includes subdomains")
                }
                Some(_) => {
                    let r = fail(
                        &HSTS_SUBDOMAINS,
                        target,
                        "HSTS does not include subdomains (no includeSubDomains)",
                    );
                    if sub_level == Level::Required {
                        r.severity(Severity::Blocker)
                    } else {
                        r
                    }
                }
            };
            out.push(ev(r));
        }
        if preload_level != Level::Off {
            let ready = parsed.as_ref().is_some_and(|h| {
                h.preload && h.include_subdomains && h.max_age.unwrap_or(0) >= 31_536_000
            });
            let r = if ready {
                pass(&HSTS_PRELOAD, target, "HSTS is preload-ready")
            } else {
                let r = fail(&HSTS_PRELOAD, target, "HSTS is not preload-ready (needs max-age≥31536000, includeSubDomains, preload)");
                if preload_level == Level::Required {
                    r.severity(Severity::Blocker)
                } else {
                    r
                }
            };
            out.push(ev(r));
        }
    }
    if !security.is_empty() {
        out.push(security_check(&resp, target, &security));
    }
    out
}

fn security_list(s: Option<&SecurityHeaders>) -> Vec<(String, Level)> {
    match s {
        Some(SecurityHeaders::Preset(SecurityPreset::Off)) => Vec::new(),
        None | Some(SecurityHeaders::Preset(SecurityPreset::Recommended)) => RECOMMENDED
            .iter()
            .map(|(n, l)| (n.to_string(), *l))
            .collect(),
        Some(SecurityHeaders::Custom(m)) => m
            .iter()
            .filter(|(_, l)| **l != Level::Off)
            .map(|(n, l)| (n.to_ascii_lowercase(), *l))
            .collect(),
    }
}

fn security_check(resp: &Response, target: &str, wanted: &[(String, Level)]) -> CheckResult {
    let csp = resp
        .header("content-security-policy")
        .unwrap_or("")
        .to_ascii_lowercase();
    let present = |name: &str| -> bool {
        match name {
            // frame-ancestors in CSP supersedes X-Frame-Options
            "x-frame-options" => resp.header(name).is_some() || csp.contains("frame-ancestors"),
            "x-content-type-options" => resp
                .header(name)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")),
            _ => resp.header(name).is_some_and(|v| !v.trim().is_empty()),
        }
    };
    let missing_req: Vec<&str> = wanted
        .iter()
        .filter(|(n, l)| *l == Level::Required && !present(n))
        .map(|(n, _)| n.as_str())
        .collect();
    let missing_warn: Vec<&str> = wanted
        .iter()
        .filter(|(n, l)| *l == Level::Warn && !present(n))
        .map(|(n, _)| n.as_str())
        .collect();
    let names: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
    let ev = super::headers_evidence(resp, &names);
    let r = if !missing_req.is_empty() {
        let mut m = format!("missing {}", missing_req.join(", "));
        if !missing_warn.is_empty() {
            m.push_str(&format!(" (also recommended: {})", missing_warn.join(", ")));
        }
        fail(&SECURITY, target, m)
    } else if !missing_warn.is_empty() {
        fail(
            &SECURITY,
            target,
            format!("consider adding {}", missing_warn.join(", ")),
        )
        .severity(Severity::Info)
    } else {
        pass(
            &SECURITY,
            target,
            "all recommended security headers present",
        )
    };
    r.evidence("headers", ev).evidence(
        "missing",
        missing_req
            .iter()
            .chain(missing_warn.iter())
            .copied()
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_parsing() {
        assert_eq!(
            parse_hsts("max-age=31536000; includeSubDomains; preload"),
            Hsts {
                max_age: Some(31536000),
                include_subdomains: true,
                preload: true
            }
        );
        assert_eq!(parse_hsts("max-age=\"600\"").max_age, Some(600));
        assert_eq!(parse_hsts("includesubdomains").max_age, None);
    }
}
