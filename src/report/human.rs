//! The terminal report: coloured on a TTY, plain otherwise, grouped by what to do.

use std::fmt::Write;

use super::{passed_by_id, sections, verdict_line, Formatter, RenderOptions};
use crate::finding::{CheckResult, Report, Status};

pub struct Human;

struct Paint(bool);

impl Paint {
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.c("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.c("1;33", s)
    }
    fn green(&self, s: &str) -> String {
        self.c("1;32", s)
    }
    fn dim(&self, s: &str) -> String {
        self.c("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.c("1", s)
    }
}

impl Formatter for Human {
    fn render(&self, report: &Report, opts: &RenderOptions) -> Result<String, String> {
        let p = Paint(opts.color);
        let s = sections(report);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} — {}",
            p.bold("launchgate"),
            report.tool.version,
            report.policy
        );
        let groups: [(&str, &Vec<&CheckResult>, &str); 3] = [
            ("Do not launch until fixed", &s.blockers, "✗"),
            ("Fix soon", &s.warnings, "!"),
            ("Good to know", &s.infos, "i"),
        ];
        for (title, items, mark) in groups {
            if items.is_empty() {
                continue;
            }
            let head = format!("{title} ({})", items.len());
            let head = match mark {
                "✗" => p.red(&head),
                "!" => p.yellow(&head),
                _ => p.bold(&head),
            };
            let _ = writeln!(out, "\n{head}");
            for r in items.iter() {
                item(&mut out, &p, r, mark, opts.quiet);
            }
        }
        if !s.waived.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                p.bold(&format!("Accepted risks, waived ({})", s.waived.len()))
            );
            for r in &s.waived {
                let w = r.waiver.as_ref();
                let _ = writeln!(
                    out,
                    "  ~ {}  {}\n      {}\n      waived until {}: {}",
                    r.id,
                    r.target,
                    r.message,
                    w.map(|w| w.until.as_str()).unwrap_or(""),
                    w.map(|w| w.reason.as_str()).unwrap_or("")
                );
            }
        }
        if !s.skipped.is_empty() && !opts.quiet {
            let _ = writeln!(
                out,
                "\n{}",
                p.dim(&format!("Skipped ({})", s.skipped.len()))
            );
            for r in &s.skipped {
                let _ = writeln!(out, "  - {}  {}  {}", r.id, r.target, p.dim(&r.message));
            }
        }
        if !s.passed.is_empty() && !opts.quiet {
            let _ = writeln!(
                out,
                "\n{}",
                p.green(&format!("Passed ({})", s.passed.len()))
            );
            if opts.verbose {
                for r in &s.passed {
                    let _ = writeln!(out, "  ✓ {}  {}  {}", r.id, r.target, p.dim(&r.message));
                }
            } else {
                let line: Vec<String> = passed_by_id(&s.passed)
                    .into_iter()
                    .map(|(id, n)| {
                        if n > 1 {
                            format!("{id} ×{n}")
                        } else {
                            id.to_string()
                        }
                    })
                    .collect();
                let _ = writeln!(out, "  ✓ {}", line.join(", "));
            }
        }
        let v = verdict_line(report);
        let v = if report.passed() {
            p.green(&v)
        } else {
            p.red(&v)
        };
        let _ = writeln!(out, "\n{v}");
        Ok(out)
    }
}

fn item(out: &mut String, p: &Paint, r: &CheckResult, mark: &str, quiet: bool) {
    let tag = if r.status == Status::Error {
        " [could not run]"
    } else {
        ""
    };
    let new = match r.new {
        Some(true) => " [new]",
        _ => "",
    };
    let _ = writeln!(
        out,
        "  {mark} {}  {}{}{}",
        p.bold(&r.id),
        r.target,
        tag,
        new
    );
    let _ = writeln!(out, "      {}", r.message);
    if let Some(l) = &r.location {
        let _ = writeln!(
            out,
            "      at {}{}",
            l.path,
            l.line.map(|n| format!(":{n}")).unwrap_or_default()
        );
    }
    if !quiet {
        if !r.why.is_empty() {
            let _ = writeln!(out, "      {} {}", p.dim("why:"), r.why);
        }
        if !r.fix.is_empty() {
            let _ = writeln!(out, "      {} {}", p.dim("fix:"), r.fix);
        }
    }
}
