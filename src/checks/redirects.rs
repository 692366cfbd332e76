//! `redirects`: where a URL ends up, how many hops it takes, whether it upgrades to
//! https, whether the hops are permanent, and whether it loops.

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::policy::Redirect;

pub const TARGET: CheckInfo = CheckInfo {
    id: "redirects.target",
    severity: Severity::Blocker,
    title: "Redirect lands on the intended URL",
    why: "Ads, emails and old links point at these URLs; a redirect that lands somewhere else sends paid visitors to the wrong page or a dead end.",
    fix: "Point the redirect rule (server, CDN or app) at the intended target URL.",
};

pub const LOOP: CheckInfo = CheckInfo {
    id: "redirects.loop",
    severity: Severity::Blocker,
    title: "Redirect chain has no loop",
    why: "A redirect loop shows every visitor a browser error page: the URL is unreachable for everyone.",
    fix: "Find the two rules that point at each other (often http↔https or apex↔www behind a proxy) and remove one.",
};

pub const HOPS: CheckInfo = CheckInfo {
    id: "redirects.hops",
    severity: Severity::Warning,
    title: "Redirect chain is short",
    why: "Each hop adds a round trip before the page starts loading (hundreds of ms on mobile) and dilutes link equity.",
    fix: "Redirect straight to the final URL in one hop instead of chaining rules.",
};

pub const HTTPS: CheckInfo = CheckInfo {
    id: "redirects.https",
    severity: Severity::Blocker,
    title: "Redirect ends on https and never downgrades",
    why: "Landing on plain http exposes visitors' form data and shows a 'Not secure' warning right where you ask for trust.",
    fix: "Make every hop and the final URL https; redirect http:// to https:// first.",
};

pub const PERMANENT: CheckInfo = CheckInfo {
    id: "redirects.permanent",
    severity: Severity::Warning,
    title: "Redirect hops are permanent (301/308)",
    why: "Temporary redirects (302/307) are not cached by browsers and are not consolidated by search engines, so every visit pays the hop again.",
    fix: "Use 301 (or 308 to keep the method) for redirects that are meant to stay.",
};

pub const INFO: &[CheckInfo] = &[TARGET, LOOP, HOPS, HTTPS, PERMANENT];

/// A chain is followed this far to judge the target, whatever `max_hops` says.
pub const FOLLOW_LIMIT: usize = 10;

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let futs = ctx.loaded.policy.redirects.iter().map(|r| check(ctx, r));
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn check(ctx: &Ctx, r: &Redirect) -> Vec<CheckResult> {
    let target = r.from.as_str();
    let max_hops = r.max_hops.map(|c| c.0 as usize).unwrap_or(3);
    let permanent = r.permanent.map(|f| f.0).unwrap_or(true);
    let to = r.to.url();
    let chain = match ctx.http.follow(&r.from.url(), FOLLOW_LIMIT).await {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("could not follow the redirect: {e}");
            let mut out = vec![
                error(&TARGET, target, &msg),
                error(&LOOP, target, &msg),
                error(&HOPS, target, &msg),
                error(&HTTPS, target, &msg),
            ];
            if permanent {
                out.push(error(&PERMANENT, target, &msg));
            }
            return out;
        }
    };
    let hops: Vec<serde_json::Value> = chain
        .hops
        .iter()
        .map(|h| {
            serde_json::json!({ "url": h.url.as_str(), "status": h.status, "location": h.location, "ms": h.elapsed.as_millis() as u64 })
        })
        .collect();
    let redirects: Vec<_> = chain
        .hops
        .iter()
        .filter(|h| (300..400).contains(&h.status) && h.location.is_some())
        .collect();
    let n = redirects.len();
    let final_url = chain.last.url.clone();
    let path = chain
        .hops
        .iter()
        .map(|h| h.url.as_str())
        .chain(
            chain
                .last
                .location()
                .and_then(|l| l.ok())
                .filter(|_| chain.looped)
                .map(|u| u.to_string())
                .as_deref(),
        )
        .collect::<Vec<_>>()
        .join(" → ");
    let ev = |c: CheckResult| {
        c.evidence("hops", hops.clone())
            .evidence("final_status", chain.last.status)
    };
    let mut out = Vec::new();

    let target_r = if chain.looped {
        fail(
            &TARGET,
            target,
            format!("never reaches {to}: the chain loops ({path})"),
        )
    } else if chain.truncated {
        fail(
            &TARGET,
            target,
            format!("still redirecting after {FOLLOW_LIMIT} hops, never reaches {to}"),
        )
    } else if final_url == to {
        pass(
            &TARGET,
            target,
            format!("lands on {to} (status {})", chain.last.status),
        )
    } else {
        fail(
            &TARGET,
            target,
            format!("lands on {final_url}, expected {to}"),
        )
    };
    out.push(
        ev(target_r)
            .evidence("final_url", final_url.as_str())
            .evidence("expected", to.as_str()),
    );

    out.push(ev(if chain.looped {
        fail(&LOOP, target, format!("redirect loop: {path}"))
    } else {
        pass(&LOOP, target, "no loop")
    }));

    out.push(ev(if n > max_hops {
        fail(
            &HOPS,
            target,
            format!("{n} hops to the final URL, more than {max_hops}: {path}"),
        )
    } else {
        pass(&HOPS, target, format!("{n} hop(s), within {max_hops}"))
    }));

    let mut downgrade = None;
    for w in chain.hops.windows(2) {
        if w[0].url.scheme() == "https" && w[1].url.scheme() == "http" {
            downgrade = Some(format!("{} redirects to plain http {}", w[0].url, w[1].url));
        }
    }
    let https_r = if let Some(d) = downgrade {
        fail(&HTTPS, target, format!("downgrade: {d}"))
    } else if final_url.scheme() != "https" {
        fail(&HTTPS, target, format!("ends on plain http: {final_url}"))
    } else {
        pass(&HTTPS, target, "ends on https without a downgrade")
    };
    out.push(ev(https_r));

    if permanent {
        let temp: Vec<String> = redirects
            .iter()
            .filter(|h| !matches!(h.status, 301 | 308))
            .map(|h| format!("{} ({})", h.url, h.status))
            .collect();
        out.push(ev(if temp.is_empty() {
            pass(&PERMANENT, target, "every hop is permanent")
        } else {
            fail(
                &PERMANENT,
                target,
                format!("temporary redirect at {}", temp.join(", ")),
            )
        }));
    }
    out
}
