//! `edge`: whether the origin sits behind a CDN, recognised by the headers each CDN
//! adds to every response.

use url::Url;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::http::Response;
use crate::policy::{Edge, ProxiedBy};

pub const PROXY: CheckInfo = CheckInfo {
    id: "edge.proxy",
    severity: Severity::Warning,
    title: "Host is served through the expected edge/CDN",
    why: "An origin answering buyers directly takes the whole launch spike and any abuse itself, with no edge cache, DDoS protection or WAF: the first big campaign is also its first load test.",
    fix: "Route the host through the CDN (e.g. orange-cloud the DNS record in Cloudflare, or point the CNAME at the CDN distribution) and re-check; if another CDN is intended, set `proxied_by` to it or to `any`.",
};

pub const INFO: &[CheckInfo] = &[PROXY];

/// How each CDN shows itself: a header name, with an optional value substring.
struct Sig {
    cdn: ProxiedBy,
    header: &'static str,
    contains: Option<&'static str>,
}

const SIGS: &[Sig] = &[
    Sig {
        cdn: ProxiedBy::Cloudflare,
        header: "cf-ray",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Cloudflare,
        header: "server",
        contains: Some("cloudflare"),
    },
    Sig {
        cdn: ProxiedBy::Cloudflare,
        header: "cf-cache-status",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Fastly,
        header: "x-fastly-request-id",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Fastly,
        header: "fastly-debug-digest",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Fastly,
        header: "x-served-by",
        contains: Some("cache-"),
    },
    Sig {
        cdn: ProxiedBy::Cloudfront,
        header: "x-amz-cf-id",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Cloudfront,
        header: "x-amz-cf-pop",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Cloudfront,
        header: "via",
        contains: Some("cloudfront"),
    },
    Sig {
        cdn: ProxiedBy::Cloudfront,
        header: "x-cache",
        contains: Some("cloudfront"),
    },
    Sig {
        cdn: ProxiedBy::Akamai,
        header: "x-akamai-transformed",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Akamai,
        header: "x-akamai-request-id",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Akamai,
        header: "akamai-grn",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Akamai,
        header: "akamai-cache-status",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Akamai,
        header: "server",
        contains: Some("akamaighost"),
    },
    Sig {
        cdn: ProxiedBy::Vercel,
        header: "x-vercel-id",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Vercel,
        header: "x-vercel-cache",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Vercel,
        header: "server",
        contains: Some("vercel"),
    },
    Sig {
        cdn: ProxiedBy::Netlify,
        header: "x-nf-request-id",
        contains: None,
    },
    Sig {
        cdn: ProxiedBy::Netlify,
        header: "server",
        contains: Some("netlify"),
    },
];

pub fn cdn_name(c: ProxiedBy) -> &'static str {
    match c {
        ProxiedBy::Cloudflare => "Cloudflare",
        ProxiedBy::Fastly => "Fastly",
        ProxiedBy::Cloudfront => "CloudFront",
        ProxiedBy::Akamai => "Akamai",
        ProxiedBy::Vercel => "Vercel",
        ProxiedBy::Netlify => "Netlify",
        ProxiedBy::Any => "any CDN",
    }
}

/// The CDNs a response's headers name, each with the headers that gave it away.
pub fn detect(resp: &Response) -> Vec<(ProxiedBy, Vec<(String, String)>)> {
    let mut out: Vec<(ProxiedBy, Vec<(String, String)>)> = Vec::new();
    for s in SIGS {
        for v in resp.header_all(s.header) {
            let ok = s
                .contains
                .is_none_or(|c| v.to_ascii_lowercase().contains(c));
            if !ok {
                continue;
            }
            let pair = (s.header.to_string(), v.to_string());
            match out.iter_mut().find(|(c, _)| *c == s.cdn) {
                Some((_, hs)) => {
                    if !hs.contains(&pair) {
                        hs.push(pair)
                    }
                }
                None => out.push((s.cdn, vec![pair])),
            }
        }
    }
    out
}

/// The URL to probe for `host`: a policy page on that host (https first), else
/// `https://HOST/` (`http://HOST/` for `HOST:80`).
pub fn probe_url(p: &crate::policy::Policy, host: &str) -> Result<Url, String> {
    let (h, port) = split_host_port(host);
    let same = |u: &Url| {
        u.host_str().is_some_and(|x| x.eq_ignore_ascii_case(h))
            && port.is_none_or(|p| u.port_or_known_default() == Some(p))
    };
    let pages: Vec<Url> = p.pages.iter().map(|pg| pg.url.url()).collect();
    if let Some(u) = pages.iter().find(|u| u.scheme() == "https" && same(u)) {
        return Ok(u.clone());
    }
    if let Some(u) = pages.iter().find(|u| same(u)) {
        return Ok(u.clone());
    }
    let text = match port {
        Some(80) => format!("http://{h}/"),
        Some(p) if p != 443 => format!("https://{h}:{p}/"),
        _ => format!("https://{h}/"),
    };
    Url::parse(&text).map_err(|e| format!("edge host `{host}` is not a host name: {e}"))
}

fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let host = host.trim();
    let host = host
        .strip_prefix("https://")
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host)
        .trim_end_matches('/');
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(p) => (h, Some(p)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

/// `host:port` as the target of edge results.
pub fn target_of(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(443)
    )
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let futs = ctx.loaded.policy.edge.iter().map(|e| check_one(ctx, e));
    futures_util::future::join_all(futs).await
}

async fn check_one(ctx: &Ctx, e: &Edge) -> CheckResult {
    let url = match probe_url(&ctx.loaded.policy, &e.host) {
        Ok(u) => u,
        Err(m) => return error(&PROXY, e.host.as_str(), m),
    };
    let target = target_of(&url);
    let want = e.proxied_by;
    let resp = match ctx.fetch(&url, &[]).await {
        Ok(r) => r,
        Err(err) => {
            return error(
                &PROXY,
                &target,
                format!("could not fetch {url} to see its edge: {err}"),
            )
        }
    };
    let found = detect(&resp);
    let seen: serde_json::Map<String, serde_json::Value> = found
        .iter()
        .flat_map(|(_, hs)| hs.iter())
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let names: Vec<&str> = found.iter().map(|(c, _)| cdn_name(*c)).collect();
    let hit = found
        .iter()
        .find(|(c, _)| want == ProxiedBy::Any || *c == want);
    let r = match hit {
        Some((c, hs)) => pass(
            &PROXY,
            &target,
            format!(
                "served through {} (seen: {})",
                cdn_name(*c),
                hs.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        None if found.is_empty() => fail(
            &PROXY,
            &target,
            format!(
                "no CDN headers in the answer from {url}: the origin seems to answer buyers directly (expected {})",
                cdn_name(want)
            ),
        ),
        None => fail(
            &PROXY,
            &target,
            format!(
                "served through {}, not {}",
                names.join(", "),
                cdn_name(want)
            ),
        ),
    };
    r.evidence("url", url.as_str())
        .evidence("status", resp.status)
        .evidence("expected", cdn_name(want))
        .evidence("cdn", names)
        .evidence("headers_seen", serde_json::Value::Object(seen))
        .evidence("server", resp.header("server").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_urls() {
        let p = crate::policy::Policy::default();
        assert_eq!(
            probe_url(&p, "www.a.test").unwrap().as_str(),
            "https://www.a.test/"
        );
        assert_eq!(
            probe_url(&p, "www.a.test:80").unwrap().as_str(),
            "http://www.a.test/"
        );
        assert_eq!(
            probe_url(&p, "www.a.test:8443").unwrap().as_str(),
            "https://www.a.test:8443/"
        );
        assert_eq!(
            target_of(&probe_url(&p, "www.a.test:80").unwrap()),
            "www.a.test:80"
        );
    }
}
