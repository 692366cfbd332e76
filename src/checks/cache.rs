//! `cache`: static assets cached long, semi-static pages cached a little, and nothing
//! personalised (Set-Cookie, Vary: Cookie/Authorization) publicly cacheable.

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::http::Response;
use crate::policy::CacheClass;

pub const STATIC: CheckInfo = CheckInfo {
    id: "cache.static",
    severity: Severity::Warning,
    title: "Static assets are cached for at least 7 days",
    why: "Uncached scripts, styles and images are downloaded again on every page view: slower pages for paid visitors and origin load during a campaign spike.",
    fix: "Serve fingerprinted assets with `Cache-Control: public, max-age=31536000, immutable`.",
};

pub const HTML: CheckInfo = CheckInfo {
    id: "cache.html",
    severity: Severity::Blocker,
    title: "Personalised responses are not publicly cacheable",
    why: "A response that sets a cookie or varies by user but may be stored by a shared cache can serve one visitor's session or data to the next one.",
    fix: "Send `Cache-Control: private, no-store` (or `no-cache`) on responses that set cookies or depend on the user; never `public`/`s-maxage` there.",
};

pub const SEMI_STATIC: CheckInfo = CheckInfo {
    id: "cache.semi-static",
    severity: Severity::Warning,
    title: "Semi-static pages are cached briefly",
    why: "Landing pages that could be cached for a minute hit the origin on every paid click; a campaign spike becomes an outage.",
    fix: "Send `Cache-Control: public, max-age=60` (or `s-maxage=60` for the CDN only) on pages that are the same for every visitor.",
};

pub const INFO: &[CheckInfo] = &[STATIC, HTML, SEMI_STATIC];

pub const STATIC_MIN: u64 = 7 * 86_400;
pub const SEMI_STATIC_MIN: u64 = 60;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CacheControl {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub public: bool,
    pub private: bool,
    pub no_store: bool,
    pub no_cache: bool,
    pub immutable: bool,
}

pub fn parse_cache_control(values: &[&str]) -> CacheControl {
    let mut c = CacheControl::default();
    for v in values {
        for d in v.split(',') {
            let d = d.trim();
            let (k, val) = d
                .split_once('=')
                .map(|(a, b)| (a.trim(), Some(b.trim().trim_matches('"'))))
                .unwrap_or((d, None));
            match k.to_ascii_lowercase().as_str() {
                "max-age" => c.max_age = val.and_then(|v| v.parse().ok()),
                "s-maxage" => c.s_maxage = val.and_then(|v| v.parse().ok()),
                "public" => c.public = true,
                // `private="set-cookie"` only hides that header; a bare `private` covers all
                "private" => c.private |= val.is_none(),
                "no-store" => c.no_store = true,
                "no-cache" => c.no_cache |= val.is_none(),
                "immutable" => c.immutable = true,
                _ => {}
            }
        }
    }
    c
}

impl CacheControl {
    /// Whether a shared cache (CDN, proxy) may store the response.
    pub fn shared_cacheable(&self) -> bool {
        if self.no_store || self.private || self.no_cache {
            return false;
        }
        self.public || self.s_maxage.is_some_and(|s| s > 0) || self.max_age.is_some_and(|m| m > 0)
    }

    pub fn freshness(&self) -> u64 {
        self.s_maxage.unwrap_or(0).max(self.max_age.unwrap_or(0))
    }
}

/// Why a response is personalised, if it is.
fn personalised(resp: &Response) -> Option<String> {
    if !resp.header_all("set-cookie").is_empty() {
        let names: Vec<String> = resp
            .header_all("set-cookie")
            .iter()
            .map(|c| c.split('=').next().unwrap_or("").trim().to_string())
            .collect();
        return Some(format!("sets cookie {}", names.join(", ")));
    }
    for v in resp.header_all("vary") {
        let l = v.to_ascii_lowercase();
        for h in ["cookie", "authorization"] {
            if l.split(',').any(|x| x.trim() == h) {
                return Some(format!("varies by {h}"));
            }
        }
    }
    None
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let futs = ctx.loaded.policy.pages.iter().map(|pg| async move {
        let r = ctx.fetch_page(pg).await;
        judge(pg.url.as_str(), pg.cache, r)
    });
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn judge(
    target: &str,
    class: Option<CacheClass>,
    resp: Result<Response, crate::net::NetError>,
) -> Vec<CheckResult> {
    let class_info = match class {
        Some(CacheClass::Static) => Some(&STATIC),
        Some(CacheClass::SemiStatic) => Some(&SEMI_STATIC),
        _ => None,
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("could not fetch the page: {e}");
            let mut out = vec![error(&HTML, target, &msg)];
            if let Some(i) = class_info {
                out.push(error(i, target, &msg));
            }
            return out;
        }
    };
    let cc_raw = resp.header_all("cache-control");
    let cc = parse_cache_control(&cc_raw);
    let raw = cc_raw.join(", ");
    let ev = |r: CheckResult| {
        r.evidence(
            "cache-control",
            if raw.is_empty() {
                None
            } else {
                Some(raw.clone())
            },
        )
        .evidence("status", resp.status)
    };
    let mut out = Vec::new();

    let html = match personalised(&resp) {
        Some(why) if cc.shared_cacheable() => fail(
            &HTML,
            target,
            format!("response {why} but is publicly cacheable (Cache-Control: {raw})"),
        )
        .evidence("personalised", why),
        Some(why) => pass(
            &HTML,
            target,
            format!("response {why} and is kept out of shared caches"),
        ),
        None => pass(&HTML, target, "response is not personalised"),
    };
    out.push(ev(html));

    match class {
        Some(CacheClass::Static) => {
            let age = cc.freshness();
            let r = if cc.no_store || cc.no_cache || cc.private {
                fail(
                    &STATIC,
                    target,
                    format!(
                        "static asset is not cacheable (Cache-Control: {})",
                        show(&raw)
                    ),
                )
            } else if age < STATIC_MIN {
                fail(
                    &STATIC,
                    target,
                    format!(
                        "static asset cached for {age} s, under 7 days (Cache-Control: {})",
                        show(&raw)
                    ),
                )
            } else if !cc.immutable {
                pass(
                    &STATIC,
                    target,
                    format!(
                        "cached for {} days (add `immutable` for fingerprinted files)",
                        age / 86_400
                    ),
                )
            } else {
                pass(
                    &STATIC,
                    target,
                    format!("cached for {} days, immutable", age / 86_400),
                )
            };
            out.push(ev(r));
        }
        Some(CacheClass::SemiStatic) => {
            let age = cc.freshness();
            let r = if cc.no_store || age < SEMI_STATIC_MIN {
                fail(
                    &SEMI_STATIC,
                    target,
                    format!(
                        "cached for {age} s, under {SEMI_STATIC_MIN} s (Cache-Control: {})",
                        show(&raw)
                    ),
                )
            } else {
                pass(&SEMI_STATIC, target, format!("cached for {age} s"))
            };
            out.push(ev(r));
        }
        _ => {}
    }
    out
}

fn show(raw: &str) -> &str {
    if raw.is_empty() {
        "none"
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        let c = parse_cache_control(&["public, max-age=600"]);
        assert!(c.shared_cacheable());
        assert_eq!(c.freshness(), 600);
        assert!(!parse_cache_control(&["private, max-age=600"]).shared_cacheable());
        assert!(!parse_cache_control(&["no-store"]).shared_cacheable());
        assert!(parse_cache_control(&["s-maxage=60"]).shared_cacheable());
        assert!(parse_cache_control(&["private=\"set-cookie\", max-age=60"]).shared_cacheable());
        assert!(!parse_cache_control(&[]).shared_cacheable());
    }
}
