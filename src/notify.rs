//! `report.notify`: a short message to a Slack-compatible incoming webhook when the
//! verdict changes, on every failure, or always. The webhook URL is a secret.

use crate::finding::{Report, Status};
use crate::net::http::{HttpClient, Request};
use crate::policy::{Notify, NotifyOn};
use crate::redact::Redactor;

/// Whether this run is worth a message under `on`.
pub fn should_send(on: NotifyOn, report: &Report, previous: Option<&Report>) -> bool {
    match on {
        NotifyOn::Always => true,
        NotifyOn::Failure => !report.passed(),
        // Without a previous verdict, only a failing one is news.
        NotifyOn::Change => match previous {
            Some(p) => p.result != report.result,
            None => !report.passed(),
        },
    }
}

pub fn message(report: &Report, previous: Option<&Report>) -> String {
    let c = &report.counts;
    let head = if report.passed() {
        ":white_check_mark: Ready to launch"
    } else {
        ":rotating_light: Do not launch"
    };
    let change = match previous {
        Some(p) if p.result != report.result => format!(" (was {})", p.result),
        _ => String::new(),
    };
    let mut s = format!(
        "{head}{change} — {}: {} blocker(s), {} warning(s), {} passed",
        report.policy, c.blocker, c.warning, c.passed
    );
    let top: Vec<String> = report
        .checks
        .iter()
        .filter(|r| r.is_failure() && r.severity == Some(crate::finding::Severity::Blocker))
        .take(3)
        .map(|r| {
            let tag = if r.status == Status::Error {
                " (could not run)"
            } else {
                ""
            };
            format!("• `{}` {} — {}{tag}", r.id, r.target, r.message)
        })
        .collect();
    if !top.is_empty() {
        s.push('\n');
        s.push_str(&top.join("\n"));
    }
    if let (Ok(server), Ok(repo), Ok(run)) = (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_RUN_ID"),
    ) {
        s.push_str(&format!(
            "\n<{}/{repo}/actions/runs/{run}|Open the run>",
            server.trim_end_matches('/')
        ));
    }
    s
}

/// Sends when due; returns a note for stderr (never the URL).
pub async fn maybe_send(
    http: &HttpClient,
    n: &Notify,
    report: &Report,
    previous: Option<&Report>,
    redactor: &Redactor,
) -> Option<String> {
    let on = n.on.unwrap_or(NotifyOn::Change);
    if !should_send(on, report, previous) {
        return None;
    }
    let url = match url::Url::parse(n.webhook.as_str()) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => u,
        _ => {
            return Some("report.notify.webhook is not an http(s) URL; no notification sent".into())
        }
    };
    let text = redactor.redact(&message(report, previous));
    let body = serde_json::json!({ "text": text }).to_string();
    let req = Request {
        method: "POST".into(),
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    };
    match http.send(&req).await {
        Ok(r) if (200..300).contains(&r.status) => None,
        Ok(r) => Some(format!(
            "the notify webhook answered HTTP {}; no notification delivered",
            r.status
        )),
        Err(e) => Some(format!(
            "the notify webhook could not be reached ({}); no notification delivered",
            e.to_string().split(':').next().unwrap_or("error")
        )),
    }
}
