//! Markdown for job summaries, PR comments and check-run summaries.

use std::fmt::Write;

use super::{passed_by_id, sections, verdict_line, Formatter, RenderOptions};
use crate::finding::{CheckResult, Report, Status};

pub struct Markdown;

fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Formatter for Markdown {
    fn render(&self, report: &Report, _: &RenderOptions) -> Result<String, String> {
        let s = sections(report);
        let mut out = String::new();
        let icon = if report.passed() { "✅" } else { "❌" };
        let _ = writeln!(out, "## {icon} launchgate: {}\n", verdict_line(report));
        let c = &report.counts;
        let _ = writeln!(
            out,
            "| Blockers | Warnings | Info | Passed | Could not run | Waived |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |\n",
            c.blocker, c.warning, c.info, c.passed, c.error, c.waived
        );
        for (title, items) in [
            ("🛑 Do not launch until fixed", &s.blockers),
            ("⚠️ Fix soon", &s.warnings),
            ("ℹ️ Good to know", &s.infos),
        ] {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title} ({})\n", items.len());
            table(&mut out, items);
            let _ = writeln!(
                out,
                "<details><summary>Why it matters and how to fix</summary>\n"
            );
            for r in items.iter() {
                let _ = writeln!(
                    out,
                    "- **`{}`** {} — {}\n  - Fix: {}",
                    r.id,
                    esc(&r.target),
                    esc(&r.why),
                    esc(&r.fix)
                );
            }
            let _ = writeln!(out, "\n</details>\n");
        }
        if !s.waived.is_empty() {
            let _ = writeln!(out, "### Accepted risks ({})\n", s.waived.len());
            let _ = writeln!(
                out,
                "| Check | Target | Reason | Until |\n|---|---|---|---|"
            );
            for r in &s.waived {
                let (reason, until) = r
                    .waiver
                    .as_ref()
                    .map(|w| (w.reason.as_str(), w.until.as_str()))
                    .unwrap_or(("", ""));
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    r.id,
                    esc(&r.target),
                    esc(reason),
                    until
                );
            }
            out.push('\n');
        }
        load_section(&mut out, report);
        if !s.passed.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>✅ Passed ({})</summary>\n",
                s.passed.len()
            );
            for (id, n) in passed_by_id(&s.passed) {
                let _ = writeln!(out, "- `{id}` ×{n}");
            }
            let _ = writeln!(out, "\n</details>");
        }
        Ok(out)
    }
}

fn table(out: &mut String, items: &[&CheckResult]) {
    let _ = writeln!(out, "| Check | Target | Finding |\n|---|---|---|");
    for r in items {
        let tag = if r.status == Status::Error {
            " *(could not run)*"
        } else {
            ""
        };
        let new = if r.new == Some(true) { " 🆕" } else { "" };
        let _ = writeln!(
            out,
            "| `{}`{new} | {} | {}{tag} |",
            r.id,
            esc(&r.target),
            esc(&r.message)
        );
    }
    out.push('\n');
}

fn num(v: &serde_json::Value, k: &str) -> String {
    match v.get(k) {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => "–".into(),
    }
}

/// Each load burst's figures and latency distribution (from its `load.p95` result).
fn load_section(out: &mut String, report: &Report) {
    let bursts: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|r| r.id == "load.p95" && r.evidence.contains_key("requests"))
        .collect();
    if bursts.is_empty() {
        return;
    }
    let _ = writeln!(out, "### 📈 Load bursts ({})\n", bursts.len());
    for r in bursts {
        let ev = serde_json::Value::Object(r.evidence.clone());
        let _ = writeln!(
            out,
            "**{}** — `{}`\n",
            esc(&r.target),
            esc(&num_str(&ev, "url"))
        );
        let _ = writeln!(
            out,
            "| Requests | Errors | req/s | p50 ms | p95 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|---:|---:|"
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            num(&ev, "requests"),
            num(&ev, "errors"),
            num(&ev, "rps"),
            num(&ev, "p50_ms"),
            num(&ev, "p95_ms"),
            num(&ev, "p99_ms"),
            num(&ev, "max_ms")
        );
        let Some(dist) = ev.get("distribution").and_then(|d| d.as_array()) else {
            continue;
        };
        let total: u64 = dist.iter().filter_map(|b| b["count"].as_u64()).sum();
        if total == 0 {
            continue;
        }
        let _ = writeln!(out, "| Latency ≤ | Requests | Share |\n|---:|---:|:---|");
        for b in dist {
            let n = b["count"].as_u64().unwrap_or(0);
            let share = n as f64 / total as f64;
            let bar = "█".repeat((share * 30.0).round() as usize);
            let _ = writeln!(
                out,
                "| {} ms | {n} | {bar} {:.1}% |",
                num(b, "le_ms"),
                share * 100.0
            );
        }
        out.push('\n');
    }
}

fn num_str(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}
