//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it. One run; a rule per
//! check id with descriptions and help; every non-passing result located — at its file,
//! or at the policy file (the entry's line when known), since GitHub requires a location.

use serde_json::{json, Value};

use super::{Formatter, RenderOptions};
use crate::checks;
use crate::finding::{CheckResult, Report, Severity, Status};

pub struct Sarif;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(r: &CheckResult) -> &'static str {
    match r.severity.unwrap_or(Severity::Blocker) {
        Severity::Blocker => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Blocker => "8.0",
        Severity::Warning => "5.0",
        Severity::Info => "2.0",
    }
}

/// A stable hash of what the finding is about (not where it sits), for deduplication.
fn fingerprint(r: &CheckResult) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in r.id.bytes().chain([0]).chain(r.target.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}:1")
}

fn rel(path: &str) -> String {
    let p = path.replace('\\', "/");
    let ws = std::env::var("GITHUB_WORKSPACE")
        .ok()
        .map(|w| w.trim_end_matches('/').to_string() + "/");
    let cwd = std::env::current_dir()
        .ok()
        .map(|c| c.display().to_string().trim_end_matches('/').to_string() + "/");
    for base in [ws, cwd].into_iter().flatten() {
        if let Some(s) = p.strip_prefix(&base) {
            return s.to_string();
        }
    }
    p.trim_start_matches("./").to_string()
}

fn location(r: &CheckResult, policy: &str, policy_text: Option<&str>) -> Value {
    let (uri, mut region) = match &r.location {
        Some(l) => {
            let mut reg = json!({ "startLine": l.line.unwrap_or(1).max(1) });
            if let Some(el) = l.end_line {
                reg["endLine"] = json!(el.max(l.line.unwrap_or(1)));
            }
            if let Some(c) = l.column.filter(|c| *c >= 1) {
                reg["startColumn"] = json!(c);
                if let Some(ec) = l
                    .end_column
                    .filter(|ec| *ec > c && l.end_line.is_none_or(|el| Some(el) == l.line))
                {
                    reg["endColumn"] = json!(ec);
                }
            }
            (rel(&l.path), reg)
        }
        None => {
            let line = policy_text
                .and_then(|t| entry_line(t, &r.target))
                .unwrap_or(1);
            (rel(policy), json!({ "startLine": line }))
        }
    };
    if region.get("startLine").and_then(Value::as_u64).unwrap_or(0) == 0 {
        region["startLine"] = json!(1);
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
            "region": region
        }
    })
}

/// The policy line that names the target (a URL, host, name), when there is one.
pub fn entry_line(text: &str, target: &str) -> Option<u32> {
    let first = target.split_whitespace().next().unwrap_or(target);
    let candidates = [
        first.to_string(),
        first.trim_end_matches('/').to_string(),
        first.split(':').next().unwrap_or("").to_string(),
    ];
    for c in candidates.iter().filter(|c| c.len() >= 3) {
        if let Some(i) = text.lines().position(|l| l.contains(c.as_str())) {
            return Some(i as u32 + 1);
        }
    }
    None
}

pub fn render_with_source(report: &Report, policy_text: Option<&str>) -> Value {
    let shown: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Waived))
        .collect();
    let mut rule_ids: Vec<&str> = Vec::new();
    for r in &shown {
        if !rule_ids.contains(&r.id.as_str()) {
            rule_ids.push(&r.id);
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let info = checks::info(id);
            let first = shown.iter().find(|r| r.id == *id);
            let title = info.map(|i| i.title.to_string()).unwrap_or_else(|| id.to_string());
            let why = info.map(|i| i.why.to_string()).or_else(|| first.map(|r| r.why.clone())).unwrap_or_default();
            let fix = info.map(|i| i.fix.to_string()).or_else(|| first.map(|r| r.fix.clone())).unwrap_or_default();
            let sev = info.map(|i| i.severity).unwrap_or(Severity::Blocker);
            let kind = id.split('.').next().unwrap_or(id);
            json!({
                "id": id,
                "name": title.replace(' ', ""),
                "shortDescription": { "text": title },
                "fullDescription": { "text": if why.is_empty() { title.clone() } else { why.clone() } },
                "help": { "text": format!("{why}\n\nFix: {fix}"), "markdown": format!("**Why it matters.** {why}\n\n**How to fix.** {fix}\n\n`launchgate explain {id}`") },
                "defaultConfiguration": { "level": match sev { Severity::Blocker => "error", Severity::Warning => "warning", Severity::Info => "note" } },
                "properties": { "tags": ["launchgate", kind], "security-severity": security_severity(sev) }
            })
        })
        .collect();
    let results: Vec<Value> = shown
        .iter()
        .map(|r| {
            let idx = rule_ids.iter().position(|x| *x == r.id).unwrap_or(0);
            let mut text = format!("{}: {}", r.target, r.message);
            if r.status == Status::Error {
                text.push_str(" (the check could not run)");
            }
            let mut v = json!({
                "ruleId": r.id,
                "ruleIndex": idx,
                "level": level(r),
                "message": { "text": text },
                "locations": [location(r, &report.policy, policy_text)],
                "partialFingerprints": { "primaryLocationLineHash": r.fingerprint.clone().unwrap_or_else(|| fingerprint(r)) },
                "properties": { "target": r.target, "status": r.status.as_str() }
            });
            if let Some(s) = r.severity {
                v["properties"]["severity"] = json!(s.as_str());
                v["properties"]["security-severity"] = json!(security_severity(s));
            }
            if let Some(w) = &r.waiver {
                v["suppressions"] = json!([{ "kind": "external", "justification": format!("{} (until {})", w.reason, w.until) }]);
            }
            v
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "launchgate",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://github.com/launchgate/launchgate",
                "rules": rules
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": "file:///" } },
            "results": results,
            "properties": { "verdict": report.result }
        }]
    })
}

impl Formatter for Sarif {
    fn render(&self, report: &Report, _: &RenderOptions) -> Result<String, String> {
        let text = std::fs::read_to_string(&report.policy).ok();
        let v = render_with_source(report, text.as_deref());
        let mut s = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
        s.push('\n');
        Ok(s)
    }
}
