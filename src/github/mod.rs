//! GitHub reporting: a check run (created `in_progress`, completed with annotations in
//! batches of 50), the step summary, step outputs, an optional sticky PR comment, and
//! workflow commands when the token may not write checks. Reporting never changes the
//! exit code, and the token is never printed.

pub mod commands;
pub mod context;

use std::io::Write;
use std::time::Duration;

use octocrab::models::CheckRunId;
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel,
    CheckRunStatus,
};
use octocrab::Octocrab;

pub use context::Context;

use crate::finding::{CheckResult, Report, Severity, Status};

/// GitHub's limits (REFERENCE-NOTES): output text fields, annotations per request,
/// the step summary.
pub const MAX_OUTPUT: usize = 65_535;
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
pub const MAX_STEP_SUMMARY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Settings {
    pub check_name: String,
    pub annotations: bool,
    pub summary: bool,
    pub comment: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            check_name: "Launch readiness".into(),
            annotations: true,
            summary: true,
            comment: false,
        }
    }
}

/// Why an API call failed, as far as what to do next is concerned.
#[derive(Debug)]
enum Failure {
    /// The token may not do this (fork PRs' read-only token): fall back.
    Permanent(String),
    /// Still failing after the retries.
    Transient(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::Permanent(s) | Failure::Transient(s) => s,
        }
    }
}

fn classify(e: &octocrab::Error) -> (bool, String) {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let code = source.status_code.as_u16();
            let transient = code >= 500 || code == 429;
            (transient, format!("HTTP {code}: {}", source.message))
        }
        other => (true, format!("{}", other).chars().take(300).collect()),
    }
}

/// Retries transient failures (5xx, 429, transport) with backoff.
async fn with_retry<T, F, Fut>(what: &str, mut f: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, octocrab::Error>>,
{
    let mut last = String::new();
    for attempt in 0..4u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(150 * 2u64.pow(attempt))).await;
        }
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let (transient, text) = classify(&e);
                last = format!("{what}: {text}");
                if !transient {
                    return Err(Failure::Permanent(last));
                }
            }
        }
    }
    Err(Failure::Transient(last))
}

pub struct Reporter {
    pub ctx: Context,
    pub settings: Settings,
    client: Option<Octocrab>,
    check_run: Option<CheckRunId>,
    /// Set once the API refused us; reported once.
    fallback: Option<String>,
    /// A machine-readable report goes to stdout, so workflow commands use stderr.
    pub stdout_taken: bool,
}

fn client(ctx: &Context) -> Result<Octocrab, String> {
    let token = ctx.token.clone().ok_or("no token")?;
    Octocrab::builder()
        .base_uri(ctx.api_url.as_str())
        .map_err(|e| format!("GITHUB_API_URL is not a valid URL: {e}"))?
        .personal_token(token)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| format!("cannot build the GitHub client: {e}"))
}

impl Reporter {
    pub fn new(ctx: Context, settings: Settings) -> Reporter {
        let (client, fallback) = match ctx.can_call_api() {
            Some(why) => (None, Some(why.to_string())),
            None => match client(&ctx) {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e)),
            },
        };
        Reporter {
            ctx,
            settings,
            client,
            check_run: None,
            fallback,
            stdout_taken: false,
        }
    }

    fn owner_repo(&self) -> (String, String) {
        (
            self.ctx.owner.clone().unwrap_or_default(),
            self.ctx.repo.clone().unwrap_or_default(),
        )
    }

    /// Creates the check run `in_progress` as the gate starts.
    pub async fn start(&mut self) {
        let Some(c) = self.client.clone() else {
            return;
        };
        let (o, r) = self.owner_repo();
        let sha = self.ctx.sha.clone().unwrap_or_default();
        let name = self.settings.check_name.clone();
        let res = with_retry("creating the check run", || {
            let c = c.clone();
            let (o, r, sha, name) = (o.clone(), r.clone(), sha.clone(), name.clone());
            async move {
                c.checks(o, r)
                    .create_check_run(name, sha)
                    .status(CheckRunStatus::InProgress)
                    .send()
                    .await
            }
        })
        .await;
        match res {
            Ok(run) => self.check_run = Some(run.id),
            Err(f) => self.fallback = Some(f.text().to_string()),
        }
    }

    /// Completes the check run (or falls back), writes the summary and outputs.
    /// Returns notes for stderr; never fails the run.
    pub async fn finish(
        &mut self,
        report: &Report,
        markdown: &str,
        json_path: Option<&std::path::Path>,
    ) -> Vec<String> {
        let mut notes = Vec::new();
        if self.settings.summary {
            if let Some(p) = &self.ctx.step_summary {
                if let Err(e) = append_summary(p, markdown) {
                    notes.push(format!("cannot write the step summary: {e}"));
                }
            }
        }
        if let Some(p) = &self.ctx.output {
            if let Err(e) = write_outputs(p, report, json_path) {
                notes.push(format!("cannot write the step outputs: {e}"));
            }
        }
        if self.fallback.is_none() {
            if let Err(f) = self.complete(report, markdown).await {
                self.fallback = Some(f.text().to_string());
            }
        }
        if let Some(why) = self.fallback.clone() {
            notes.push(format!(
                "GitHub check run not available ({why}); reporting with workflow commands and the step summary instead. GitHub shows at most 10 error and 10 warning annotations per step: the full report is in the job summary."
            ));
            self.workflow_commands(report);
        }
        if self.settings.comment {
            if let Err(e) = self.comment(markdown).await {
                notes.push(format!("cannot update the pull request comment: {e}"));
            }
        }
        notes
    }

    pub fn used_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    fn annotations(&self, report: &Report) -> Vec<Annotation> {
        if !self.settings.annotations {
            return Vec::new();
        }
        report
            .checks
            .iter()
            .filter(|r| r.is_failure())
            .filter_map(|r| annotation(&self.ctx, r))
            .collect()
    }

    async fn complete(&mut self, report: &Report, markdown: &str) -> Result<(), Failure> {
        let Some(c) = self.client.clone() else {
            return Ok(());
        };
        let (o, r) = self.owner_repo();
        let id = match self.check_run {
            Some(id) => id,
            None => {
                self.start().await;
                match self.check_run {
                    Some(id) => id,
                    None => {
                        return Err(Failure::Permanent(
                            self.fallback.clone().unwrap_or_default(),
                        ))
                    }
                }
            }
        };
        let title = title(report);
        let summary = cut(markdown, MAX_OUTPUT, &self.ctx.run_url);
        let text = details(report);
        let text = cut(&text, MAX_OUTPUT, &self.ctx.run_url);
        let mut annotations = self.annotations(report);
        let conclusion = conclusion(report);
        let first: Vec<_> = annotations
            .drain(..annotations.len().min(ANNOTATIONS_PER_REQUEST))
            .collect();
        with_retry("completing the check run", || {
            let c = c.clone();
            let (o, r) = (o.clone(), r.clone());
            let batch: Vec<CheckRunOutputAnnotation> = first.iter().map(Annotation::octo).collect();
            let out = CheckRunOutput {
                title: title.clone(),
                summary: summary.clone(),
                text: Some(text.clone()),
                annotations: batch,
                images: vec![],
            };
            async move {
                c.checks(o, r)
                    .update_check_run(id)
                    .status(CheckRunStatus::Completed)
                    .conclusion(conclusion)
                    .output(out)
                    .send()
                    .await
            }
        })
        .await?;
        while !annotations.is_empty() {
            let batch: Vec<_> = annotations
                .drain(..annotations.len().min(ANNOTATIONS_PER_REQUEST))
                .collect();
            with_retry("adding annotations", || {
                let c = c.clone();
                let (o, r) = (o.clone(), r.clone());
                let out = CheckRunOutput {
                    title: title.clone(),
                    summary: summary.clone(),
                    text: None,
                    annotations: batch.iter().map(Annotation::octo).collect(),
                    images: vec![],
                };
                async move { c.checks(o, r).update_check_run(id).output(out).send().await }
            })
            .await?;
        }
        Ok(())
    }

    fn workflow_commands(&self, report: &Report) {
        let lines: Vec<String> = report
            .checks
            .iter()
            .filter(|r| r.is_failure())
            .map(|r| {
                let path = r.location.as_ref().map(|l| self.ctx.repo_relative(&l.path));
                commands::command_for(r, path.as_deref())
            })
            .collect();
        // The runner reads workflow commands from both streams; stdout is where people
        // expect them, unless a JSON/SARIF/JUnit report is being printed there.
        if self.stdout_taken {
            let mut e = std::io::stderr().lock();
            for l in lines {
                let _ = writeln!(e, "{l}");
            }
        } else {
            let mut o = std::io::stdout().lock();
            for l in lines {
                let _ = writeln!(o, "{l}");
            }
            let _ = o.flush();
        }
    }

    async fn comment(&self, markdown: &str) -> Result<(), String> {
        let Some(c) = self.client.clone() else {
            return Err(self
                .fallback
                .clone()
                .unwrap_or_else(|| "no GitHub client".into()));
        };
        let Some(pr) = self.ctx.pr_number else {
            return Ok(()); // not a pull request run
        };
        let (o, r) = self.owner_repo();
        let marker = format!("<!-- launchgate:{} -->", self.settings.check_name);
        let body = format!(
            "{marker}\n{}",
            cut(markdown, MAX_OUTPUT - marker.len() - 1, &self.ctx.run_url)
        );
        let mut existing: Option<u64> = None;
        for page in 1..=10u32 {
            let route = format!("/repos/{o}/{r}/issues/{pr}/comments?per_page=100&page={page}");
            let list: Vec<serde_json::Value> = with_retry("listing comments", || {
                let c = c.clone();
                let route = route.clone();
                async move { c.get(route, None::<&()>).await }
            })
            .await
            .map_err(|f| f.text().to_string())?;
            existing = list
                .iter()
                .find(|x| {
                    x.get("body")
                        .and_then(|b| b.as_str())
                        .is_some_and(|b| b.contains(&marker))
                })
                .and_then(|x| x.get("id").and_then(|i| i.as_u64()));
            if existing.is_some() || list.len() < 100 {
                break;
            }
        }
        let payload = serde_json::json!({ "body": body });
        match existing {
            Some(id) => {
                let route = format!("/repos/{o}/{r}/issues/comments/{id}");
                with_retry("updating the comment", || {
                    let c = c.clone();
                    let (route, payload) = (route.clone(), payload.clone());
                    async move {
                        c.patch::<serde_json::Value, _, _>(route, Some(&payload))
                            .await
                    }
                })
                .await
                .map_err(|f| f.text().to_string())?;
            }
            None => {
                let route = format!("/repos/{o}/{r}/issues/{pr}/comments");
                with_retry("creating the comment", || {
                    let c = c.clone();
                    let (route, payload) = (route.clone(), payload.clone());
                    async move { c.post::<_, serde_json::Value>(route, Some(&payload)).await }
                })
                .await
                .map_err(|f| f.text().to_string())?;
            }
        }
        Ok(())
    }
}

fn level(s: Option<Severity>) -> CheckRunOutputAnnotationLevel {
    match s.unwrap_or(Severity::Blocker) {
        Severity::Blocker => CheckRunOutputAnnotationLevel::Failure,
        Severity::Warning => CheckRunOutputAnnotationLevel::Warning,
        Severity::Info => CheckRunOutputAnnotationLevel::Notice,
    }
}

/// An annotation as we build it (octocrab's type is not `Clone`, and a retry resends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub start_column: Option<u32>,
    pub end_column: Option<u32>,
    pub level: Severity,
    pub message: String,
    pub title: String,
}

impl Annotation {
    fn octo(&self) -> CheckRunOutputAnnotation {
        CheckRunOutputAnnotation {
            path: self.path.clone(),
            start_line: self.start_line,
            end_line: self.end_line,
            start_column: self.start_column,
            end_column: self.end_column,
            annotation_level: level(Some(self.level)),
            message: self.message.clone(),
            title: Some(self.title.clone()),
            raw_details: None,
        }
    }
}

pub fn annotation(ctx: &Context, r: &CheckResult) -> Option<Annotation> {
    let l = r.location.as_ref()?;
    let start = l.line.unwrap_or(1).max(1);
    let end = l.end_line.unwrap_or(start).max(start);
    let (start_column, end_column) = if start == end {
        match (l.column, l.end_column) {
            (Some(a), Some(b)) if b >= a => (Some(a), Some(b)),
            (Some(a), None) => (Some(a), None),
            _ => (None, None),
        }
    } else {
        (None, None)
    };
    let mut message = r.message.clone();
    if !r.fix.is_empty() {
        message.push_str("\nFix: ");
        message.push_str(&r.fix);
    }
    Some(Annotation {
        path: ctx.repo_relative(&l.path),
        start_line: start,
        end_line: end,
        start_column,
        end_column,
        level: r.severity.unwrap_or(Severity::Blocker),
        message: message.chars().take(64 * 1024 - 1).collect(),
        title: format!("{} {}", r.id, r.target).chars().take(255).collect(),
    })
}

pub fn conclusion(report: &Report) -> CheckRunConclusion {
    if !report.passed() {
        CheckRunConclusion::Failure
    } else if report.checks.iter().any(|r| r.is_failure()) {
        CheckRunConclusion::Neutral
    } else {
        CheckRunConclusion::Success
    }
}

pub fn title(report: &Report) -> String {
    let c = &report.counts;
    let head = if report.passed() {
        "Ready to launch"
    } else {
        "Do not launch"
    };
    format!(
        "{head}: {} blocker(s), {} warning(s), {} passed",
        c.blocker, c.warning, c.passed
    )
}

/// The failures in full (why and fix), for the check run's details pane.
pub fn details(report: &Report) -> String {
    let mut s = String::new();
    for r in report
        .checks
        .iter()
        .filter(|r| r.is_failure() || r.status == Status::Waived)
    {
        s.push_str(&format!(
            "### `{}` {}\n{}{}\n\n**Why:** {}\n\n**Fix:** {}\n\n",
            r.id,
            r.target,
            r.message,
            if r.status == Status::Error {
                " *(could not run)*"
            } else {
                ""
            },
            r.why,
            r.fix
        ));
    }
    if s.is_empty() {
        s.push_str("Every check passed.\n");
    }
    s
}

/// Cuts `s` to at most `max` bytes on a line boundary, with a pointer to the full report.
pub fn cut(s: &str, max: usize, run_url: &Option<String>) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let note = match run_url {
        Some(u) => {
            format!("\n\n… truncated: the full report is in the job summary and artifacts of {u}\n")
        }
        None => "\n\n… truncated: the full report is in the job summary and the JSON report\n"
            .to_string(),
    };
    let mut end = max.saturating_sub(note.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut_at = s[..end].rfind('\n').unwrap_or(end);
    format!("{}{note}", &s[..cut_at])
}

fn append_summary(path: &std::path::Path, markdown: &str) -> std::io::Result<()> {
    let existing = std::fs::metadata(path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let room = MAX_STEP_SUMMARY.saturating_sub(existing + 1);
    let text = cut(markdown, room, &None);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{text}")
}

fn delimiter() -> String {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        ^ (std::process::id() as u128) << 64;
    let mut h: u64 = 0xcbf29ce484222325;
    for b in seed.to_le_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("ghadelimiter_{h:016x}")
}

pub fn write_outputs(
    path: &std::path::Path,
    report: &Report,
    json_path: Option<&std::path::Path>,
) -> std::io::Result<()> {
    let result = if report.passed() {
        "pass"
    } else if report.checks.iter().all(|c| c.status != Status::Fail) && report.counts.error > 0 {
        "error"
    } else {
        "fail"
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let d = delimiter();
    let report_path = json_path
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for (k, v) in [
        ("result", result.to_string()),
        ("blockers", report.counts.blocker.to_string()),
        ("warnings", report.counts.warning.to_string()),
        ("report", report_path),
    ] {
        writeln!(f, "{k}<<{d}\n{v}\n{d}")?;
    }
    Ok(())
}

/// Settings from the policy's `report.github`, and whether reporting is on at all.
pub fn settings(p: &crate::policy::Policy, forced: bool) -> Option<Settings> {
    use crate::policy::GithubSetting;
    let in_actions = std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true");
    let mut s = Settings::default();
    match p.report.as_ref().and_then(|r| r.github.as_ref()) {
        Some(GithubSetting::Enabled(false)) if !forced => return None,
        Some(GithubSetting::Settings(g)) => {
            if let Some(n) = &g.check_name {
                s.check_name = n.0.clone();
            }
            if let Some(a) = g.annotations {
                s.annotations = a.0;
            }
            if let Some(x) = g.summary {
                s.summary = x.0;
            }
            if let Some(c) = g.comment {
                s.comment = c.0;
            }
        }
        _ => {}
    }
    (forced || in_actions).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_the_limit_and_char_boundaries() {
        let s = "é".repeat(40_000);
        let c = cut(&s, MAX_OUTPUT, &None);
        assert!(c.len() <= MAX_OUTPUT);
        assert!(c.contains("truncated"));
        assert_eq!(cut("short", 100, &None), "short");
    }
}
