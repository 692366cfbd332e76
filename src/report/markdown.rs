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
        lighthouse(&mut out, report);
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

/// Most failing assertions listed per URL in the Lighthouse table.
const LH_MAX_FAILING: usize = 8;

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `34652 ms > 2500 ms` for a failed LHCI verdict in a result's evidence.
fn lh_failure(r: &CheckResult) -> String {
    let e = &r.evidence;
    let key = e
        .get("assertion")
        .and_then(|v| v.as_str())
        .unwrap_or(&r.target);
    let icon = if e.get("level").and_then(|v| v.as_str()) == Some("error") {
        "🛑"
    } else {
        "⚠️"
    };
    let unit = match e.get("unit").and_then(|v| v.as_str()) {
        Some("millisecond") => " ms",
        Some("byte") => " B",
        _ => "",
    };
    let mut parts = Vec::new();
    for v in e
        .get("results")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        if v.get("passed").and_then(|p| p.as_bool()) != Some(false) {
            continue;
        }
        let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let expected = v.get("expected").and_then(|x| x.as_f64()).unwrap_or(0.0);
        let u = if name == "maxNumericValue" { unit } else { "" };
        let text = match (name, v.get("actual").and_then(|x| x.as_f64())) {
            ("auditRan", _) => "did not run".to_string(),
            (_, None) => "no value".to_string(),
            ("minScore", Some(a)) => format!("{} < {}", num(a), num(expected)),
            ("maxLength", Some(a)) => format!("{} items > {}", num(a), num(expected)),
            (_, Some(a)) if u == " ms" => {
                format!("{}{u} > {}{u}", num(a.round()), num(expected))
            }
            (_, Some(a)) => format!("{}{u} > {}{u}", num(a), num(expected)),
        };
        parts.push(text);
    }
    format!("{icon} `{}` {}", esc(key), esc(&parts.join(", ")))
}

/// Category scores and failing assertions per URL, from the `lighthouse.*` results.
fn lighthouse(out: &mut String, report: &Report) {
    let reports: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| c.id == "lighthouse.report" && c.evidence.contains_key("categories"))
        .collect();
    if reports.is_empty() {
        return;
    }
    let order = [
        "performance",
        "accessibility",
        "best-practices",
        "seo",
        "pwa",
    ];
    let mut cats: Vec<String> = Vec::new();
    let mut titles: std::collections::BTreeMap<String, String> = Default::default();
    for r in &reports {
        if let Some(m) = r.evidence["categories"].as_object() {
            for k in m.keys() {
                if !cats.contains(k) {
                    cats.push(k.clone());
                }
            }
        }
        if let Some(m) = r
            .evidence
            .get("category_titles")
            .and_then(|t| t.as_object())
        {
            for (k, v) in m {
                if let Some(t) = v.as_str() {
                    titles.insert(k.clone(), t.to_string());
                }
            }
        }
    }
    cats.sort_by_key(|c| {
        (
            order.iter().position(|o| o == c).unwrap_or(order.len()),
            c.clone(),
        )
    });
    let _ = writeln!(out, "### 🔦 Lighthouse\n");
    let mut head = String::from("| URL | Runs |");
    let mut rule = String::from("|---|---:|");
    for c in &cats {
        let _ = write!(
            head,
            " {} |",
            esc(titles.get(c).map(String::as_str).unwrap_or(c))
        );
        rule.push_str("---:|");
    }
    head.push_str(" Failing assertions |");
    rule.push_str("---|");
    let _ = writeln!(out, "{head}\n{rule}");
    for r in reports {
        let url = r
            .evidence
            .get("url")
            .and_then(|u| u.as_str())
            .unwrap_or(&r.target);
        let runs = r.evidence.get("runs").and_then(|n| n.as_u64()).unwrap_or(0);
        let mut row = format!("| {} | {runs} |", esc(url));
        for c in &cats {
            let cell = match r.evidence["categories"].get(c).and_then(|v| v.as_f64()) {
                Some(s) => {
                    let n = (s * 100.0).round() as i64;
                    let dot = if n >= 90 {
                        "🟢"
                    } else if n >= 50 {
                        "🟠"
                    } else {
                        "🔴"
                    };
                    format!("{dot} {n}")
                }
                None if r.evidence["categories"].get(c).is_some() => "–".to_string(),
                None => String::new(),
            };
            let _ = write!(row, " {cell} |");
        }
        let failing: Vec<String> = report
            .checks
            .iter()
            .filter(|c| {
                (c.id == "lighthouse.audit" || c.id == "lighthouse.category")
                    && c.status == Status::Fail
                    && c.evidence.get("url").and_then(|u| u.as_str()) == Some(url)
            })
            .map(lh_failure)
            .collect();
        let mut cell = failing
            .iter()
            .take(LH_MAX_FAILING)
            .cloned()
            .collect::<Vec<_>>()
            .join("<br>");
        if failing.len() > LH_MAX_FAILING {
            let _ = write!(cell, "<br>… {} more", failing.len() - LH_MAX_FAILING);
        }
        if failing.is_empty() {
            cell = "✅ none".into();
        }
        let _ = writeln!(row, " {cell} |");
        out.push_str(&row);
    }
    out.push('\n');
}

fn evidence_num(v: &serde_json::Value, k: &str) -> String {
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
            evidence_num(&ev, "requests"),
            evidence_num(&ev, "errors"),
            evidence_num(&ev, "rps"),
            evidence_num(&ev, "p50_ms"),
            evidence_num(&ev, "p95_ms"),
            evidence_num(&ev, "p99_ms"),
            evidence_num(&ev, "max_ms")
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
                evidence_num(b, "le_ms"),
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
