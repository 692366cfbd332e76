//! `pages`: status, latency, body and headers of each landing page.

use std::time::Duration;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::policy::types::{StatusPattern, StatusSet};
use crate::policy::Page;

pub const STATUS: CheckInfo = CheckInfo {
    id: "pages.status",
    severity: Severity::Blocker,
    title: "Page answers with the expected status",
    why: "Paid clicks that land on an error or an unexpected redirect are money spent on nobody; ad platforms also disapprove ads whose landing page fails.",
    fix: "Make the URL answer with the expected status (check the deploy, routing and origin health), or correct `expect.status` if the policy is wrong.",
};

pub const LATENCY: CheckInfo = CheckInfo {
    id: "pages.latency",
    severity: Severity::Warning,
    title: "Page responds within the latency budget",
    why: "Every extra second before the page arrives loses visitors before they see the offer, and slow landing pages lower ad quality scores.",
    fix: "Cache the page at the edge, cut server-side work on the request path, or move the origin closer to buyers; then re-check.",
};

pub const BODY: CheckInfo = CheckInfo {
    id: "pages.body",
    severity: Severity::Blocker,
    title: "Page contains the expected content",
    why: "A page that answers 200 but lost its call to action (a broken build, an error template, a wrong tenant) converts nobody, and status checks alone miss it.",
    fix: "Restore the missing content (the CTA text in `body_contains`) or update the policy if the copy changed on purpose.",
};

pub const HEADER: CheckInfo = CheckInfo {
    id: "pages.header",
    severity: Severity::Warning,
    title: "Page sends the expected headers",
    why: "Wrong content types or missing headers break rendering, tracking or caching in ways visitors see before you do.",
    fix: "Set the header on the server or CDN so it contains the expected value.",
};

pub const INFO: &[CheckInfo] = &[STATUS, LATENCY, BODY, HEADER];

pub const DEFAULT_MAX_LATENCY: Duration = Duration::from_millis(2500);

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let pages = &ctx.loaded.policy.pages;
    let futs = pages.iter().map(|p| check_page(ctx, p));
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn check_page(ctx: &Ctx, page: &Page) -> Vec<CheckResult> {
    let target = page.url.as_str();
    let expect = &page.expect;
    let want_status = expect
        .status
        .clone()
        .unwrap_or(StatusSet(vec![StatusPattern::Exact(200)]));
    let max_latency = expect
        .max_latency
        .map(|d| d.0)
        .unwrap_or(DEFAULT_MAX_LATENCY);
    let wants_body = !expect.body_contains.is_empty() || !expect.body_not_contains.is_empty();
    let wants_headers = !expect.headers.is_empty();

    let resp = match ctx.fetch_page(page).await {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("could not fetch the page: {e}");
            let mut out = vec![error(&STATUS, target, &msg), error(&LATENCY, target, &msg)];
            if wants_body {
                out.push(error(&BODY, target, &msg));
            }
            if wants_headers {
                out.push(error(&HEADER, target, &msg));
            }
            return out;
        }
    };
    let ms = resp.elapsed.as_millis() as u64;
    let mut out = Vec::new();

    let status_r = if want_status.matches(resp.status) {
        pass(
            &STATUS,
            target,
            format!("answered {} as expected", resp.status),
        )
    } else {
        let extra = match resp.header("location") {
            Some(l) if resp.is_redirect() => format!(" (redirects to {l})"),
            _ => String::new(),
        };
        fail(
            &STATUS,
            target,
            format!("answered {}{extra}, expected {want_status}", resp.status),
        )
    };
    out.push(
        status_r
            .evidence("status", resp.status)
            .evidence("expected", want_status.to_string())
            .duration(resp.elapsed),
    );

    let lat = if resp.elapsed <= max_latency {
        pass(
            &LATENCY,
            target,
            format!(
                "full response in {ms} ms (budget {} ms)",
                max_latency.as_millis()
            ),
        )
    } else {
        fail(
            &LATENCY,
            target,
            format!(
                "full response took {ms} ms, over the {} ms budget",
                max_latency.as_millis()
            ),
        )
    };
    out.push(
        lat.evidence("latency_ms", ms)
            .evidence("ttfb_ms", resp.ttfb.as_millis() as u64)
            .evidence("max_latency_ms", max_latency.as_millis() as u64)
            .duration(resp.elapsed),
    );

    if wants_body {
        let body = resp.body_text();
        let missing: Vec<&str> = expect
            .body_contains
            .iter()
            .map(|t| t.as_str())
            .filter(|t| !body.contains(t))
            .collect();
        let present: Vec<&str> = expect
            .body_not_contains
            .iter()
            .map(|t| t.as_str())
            .filter(|t| body.contains(t))
            .collect();
        let r = if missing.is_empty() && present.is_empty() {
            pass(&BODY, target, "the page contains the expected content")
        } else {
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("missing {}", quote_list(&missing)));
            }
            if !present.is_empty() {
                parts.push(format!("contains forbidden {}", quote_list(&present)));
            }
            fail(
                &BODY,
                target,
                format!("the page body is {}", parts.join("; ")),
            )
        };
        out.push(
            r.evidence("missing", missing.clone())
                .evidence("forbidden_present", present.clone())
                .evidence("body_bytes", resp.body.len()),
        );
    }

    if wants_headers {
        let mut bad = Vec::new();
        let mut seen = serde_json::Map::new();
        for (name, want) in &expect.headers {
            let got = resp.header(name);
            seen.insert(name.to_ascii_lowercase(), got.map(|g| g.to_string()).into());
            let ok =
                got.is_some_and(|g| g.to_ascii_lowercase().contains(&want.to_ascii_lowercase()));
            if !ok {
                bad.push(match got {
                    Some(g) => format!("{name} is `{g}`, expected it to contain `{want}`"),
                    None => format!("{name} is missing (expected `{want}`)"),
                });
            }
        }
        let r = if bad.is_empty() {
            pass(&HEADER, target, "the expected headers are present")
        } else {
            fail(&HEADER, target, bad.join("; "))
        };
        out.push(r.evidence("headers", serde_json::Value::Object(seen)));
    }
    out
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
