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
