//! `exposure`: hosts buyers must never see (staging, previews, admin). Private means
//! 401/403, an auth redirect, or not reachable at all (NXDOMAIN, connection refused);
//! a public answer is `exposure.public`, softened to `exposure.indexable` when the page
//! tells search engines not to index it. robots.txt is read as information.

use url::Url;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::http::Response;
use crate::net::NetError;
use crate::policy::Exposure;

pub const PUBLIC: CheckInfo = CheckInfo {
    id: "exposure.public",
    severity: Severity::Blocker,
    title: "Private host is not publicly reachable",
    why: "A staging or preview site that anyone can open leaks unreleased prices and copy, test data and sometimes customer data, and ads or links that point to it by mistake send buyers to a half-built funnel.",
    fix: "Put the host behind authentication (HTTP basic auth, Cloudflare Access, Vercel/Netlify password protection, an SSO proxy) or take it off the internet; a 401/403 or a redirect to a login page passes.",
};

pub const INDEXABLE: CheckInfo = CheckInfo {
    id: "exposure.indexable",
    severity: Severity::Warning,
    title: "Private host is public but marked noindex",
    why: "noindex keeps the host out of search results, but anyone with the link still sees it: staging URLs travel in screenshots, emails and referrer headers.",
    fix: "Keep the noindex, and also require authentication on the host so it answers 401/403 or redirects to a login page.",
};

pub const INFO: &[CheckInfo] = &[PUBLIC, INDEXABLE];

const MAX_SAME_HOST_HOPS: usize = 5;

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let futs = ctx.loaded.policy.exposure.iter().map(|e| check_one(ctx, e));
    futures_util::future::join_all(futs).await
}

/// Whether a redirect target looks like a login or SSO gate.
pub fn is_auth_url(u: &Url) -> bool {
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let path = u.path().to_ascii_lowercase();
    const HOSTS: &[&str] = &[
        "cloudflareaccess.com",
        "accounts.google.com",
        "login.microsoftonline.com",
        "okta.com",
        "auth0.com",
        "onelogin.com",
        "vercel.com",
        "github.com/login",
    ];
    const WORDS: &[&str] = &[
        "login",
        "log-in",
        "signin",
        "sign-in",
        "sign_in",
        "auth",
        "sso",
        "saml",
        "oauth",
        "cdn-cgi/access",
        "password",
        "session/new",
    ];
    HOSTS
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
        || host.starts_with("login.")
        || host.starts_with("auth.")
        || host.starts_with("sso.")
        || WORDS.iter().any(|w| path.contains(w))
}

/// `noindex` (or `none`) in X-Robots-Tag or a robots meta tag.
pub fn noindex(resp: &Response) -> Option<String> {
    for v in resp.header_all("x-robots-tag") {
        let l = v.to_ascii_lowercase();
        if l.contains("noindex") || l.split([',', ' ', ':']).any(|t| t.trim() == "none") {
            return Some(format!("X-Robots-Tag: {v}"));
        }
    }
    let body = resp.body_text().to_ascii_lowercase();
    let re = regex::Regex::new(r#"<meta[^>]+name\s*=\s*["']?(?:robots|googlebot)["']?[^>]*>"#)
        .expect("valid regex");
    for m in re.find_iter(&body) {
        let tag = m.as_str();
        if tag.contains("noindex") || tag.contains("\"none\"") {
            return Some(tag.to_string());
        }
    }
    None
}

/// What robots.txt says about `/` for every crawler, as information.
async fn robots(ctx: &Ctx, url: &Url) -> serde_json::Value {
    let Ok(r) = url.join("/robots.txt") else {
        return serde_json::Value::Null;
    };
    match ctx.http.get(&r).await {
        Ok(resp) if resp.status == 200 => {
            let text = resp.body_text();
            let mut in_star = false;
            let mut all = false;
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                match k.as_str() {
                    "user-agent" => in_star = v == "*",
                    "disallow" if in_star && v == "/" => all = true,
                    _ => {}
                }
            }
            if all {
                "disallows / for every crawler".into()
            } else {
                "does not disallow /".into()
            }
        }
        Ok(resp) => format!("answered {}", resp.status).into(),
        Err(e) => format!("could not be fetched: {e}").into(),
    }
}

async fn check_one(ctx: &Ctx, e: &Exposure) -> CheckResult {
    let target = e.url.as_str();
    let start = url_of(e);
    let mut cur = start.clone();
    let mut hops = Vec::new();
    let resp = loop {
        let resp = match ctx.http.get(&cur).await {
            Ok(r) => r,
            Err(err) => return unreachable_or_error(target, &cur, err),
        };
        if !resp.is_redirect() {
            break resp;
        }
        let next = match resp.location() {
            Some(Ok(u)) => u,
            _ => break resp,
        };
        hops.push(format!("{} {}", resp.status, next));
        if is_auth_url(&next) {
            return pass(
                &PUBLIC,
                target,
                format!("private: redirects to a login ({} → {next})", resp.status),
            )
            .evidence("status", resp.status)
            .evidence("location", next.as_str())
            .evidence("redirects", hops);
        }
        if next.host_str() != start.host_str() {
            return pass(
                &PUBLIC,
                target,
                format!(
                    "this host serves nothing itself: it redirects to another host ({} → {next})",
                    resp.status
                ),
            )
            .evidence("status", resp.status)
            .evidence("location", next.as_str())
            .evidence("redirects", hops);
        }
        if hops.len() >= MAX_SAME_HOST_HOPS {
            break resp;
        }
        cur = next;
    };
    let status = resp.status;
    if matches!(status, 401 | 403 | 407) {
        return pass(
            &PUBLIC,
            target,
            format!("private: answers {status} without credentials"),
        )
        .evidence("status", status)
        .evidence("redirects", hops);
    }
    let robots = robots(ctx, &start).await;
    if resp.is_redirect() {
        // A redirect loop or a chain that never lands on content on this host.
        return pass(
            &PUBLIC,
            target,
            format!("no content served: the redirects on this host never reach a page ({status})"),
        )
        .evidence("status", status)
        .evidence("redirects", hops);
    }
    if status >= 400 {
        // 404, 5xx: nothing a buyer could use, but the host is up and answering.
        return pass(
            &PUBLIC,
            target,
            format!("no content served: answers {status}"),
        )
        .evidence("status", status)
        .evidence("robots_txt", robots)
        .evidence("redirects", hops);
    }
    let seen_at = resp.url.to_string();
    match noindex(&resp) {
        Some(marker) => fail(
            &INDEXABLE,
            target,
            format!("publicly reachable ({status} at {seen_at}) but marked noindex ({marker}): anyone with the link can see it"),
        )
        .evidence("status", status)
        .evidence("noindex", marker)
        .evidence("robots_txt", robots)
        .evidence("redirects", hops),
        None => fail(
            &PUBLIC,
            target,
            format!("publicly reachable: answers {status} at {seen_at} without authentication, and search engines may index it"),
        )
        .evidence("status", status)
        .evidence("robots_txt", robots)
        .evidence("redirects", hops),
    }
}

fn url_of(e: &Exposure) -> Url {
    e.url.url()
}

fn unreachable_or_error(target: &str, url: &Url, err: NetError) -> CheckResult {
    match &err {
        NetError::Dns { .. } => pass(
            &PUBLIC,
            target,
            format!("private: the name does not resolve ({err})"),
        )
        .evidence("unreachable", "dns"),
        NetError::Connect { reason, .. } if reason.to_ascii_lowercase().contains("refused") => {
            pass(
                &PUBLIC,
                target,
                format!("private: connection refused ({err})"),
            )
            .evidence("unreachable", "refused")
        }
        _ => error(
            &PUBLIC,
            target,
            format!("could not tell whether {url} is public: {err}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Status;

    #[test]
    fn unreachable_passes_but_a_timeout_is_an_error() {
        let u = Url::parse("https://staging.acme.test/").unwrap();
        let dns = NetError::Dns {
            host: "staging.acme.test".into(),
            reason: "failed to lookup address information: Name or service not known".into(),
        };
        assert_eq!(unreachable_or_error("t", &u, dns).status, Status::Pass);
        let refused = NetError::Connect {
            addr: "127.0.0.1:1".into(),
            reason: "Connection refused (os error 111)".into(),
        };
        assert_eq!(unreachable_or_error("t", &u, refused).status, Status::Pass);
        let t = NetError::Timeout {
            after_ms: 10,
            phase: "connecting".into(),
        };
        assert_eq!(unreachable_or_error("t", &u, t).status, Status::Error);
    }

    #[test]
    fn auth_urls() {
        for ok in [
            "https://staging.acme.test/login?next=/",
            "https://acme.cloudflareaccess.com/cdn-cgi/access/login/x",
            "https://accounts.google.com/o/oauth2/auth",
            "https://auth.acme.test/",
            "https://vercel.com/sso-api?url=x",
        ] {
            assert!(is_auth_url(&Url::parse(ok).unwrap()), "{ok}");
        }
        for no in ["https://www.acme.test/", "https://staging.acme.test/home"] {
            assert!(!is_auth_url(&Url::parse(no).unwrap()), "{no}");
        }
    }
}
