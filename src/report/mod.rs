//! Pure functions from a `Report` to text. No network, no check internals.

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use crate::finding::{CheckResult, Report, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Sarif,
    Junit,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "human" | "text" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            other => Err(format!(
                "unknown format `{other}` (human, json, markdown, sarif, junit)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    pub color: bool,
    pub verbose: bool,
    pub quiet: bool,
}

/// A formatter; every output format is one.
pub trait Formatter {
    fn render(&self, report: &Report, opts: &RenderOptions) -> Result<String, String>;
}

pub fn formatter(f: Format) -> Result<Box<dyn Formatter>, String> {
    match f {
        Format::Human => Ok(Box::new(human::Human)),
        Format::Json => Ok(Box::new(json::Json)),
        Format::Markdown => Ok(Box::new(markdown::Markdown)),
        Format::Sarif => Ok(Box::new(sarif::Sarif)),
        Format::Junit => Ok(Box::new(junit::Junit)),
    }
}

/// The report's sections, in the order a founder reads them.
pub struct Sections<'a> {
    pub blockers: Vec<&'a CheckResult>,
    pub warnings: Vec<&'a CheckResult>,
    pub infos: Vec<&'a CheckResult>,
    pub waived: Vec<&'a CheckResult>,
    pub skipped: Vec<&'a CheckResult>,
    pub passed: Vec<&'a CheckResult>,
}

pub fn sections(report: &Report) -> Sections<'_> {
    use crate::finding::Severity::*;
    let mut s = Sections {
        blockers: vec![],
        warnings: vec![],
        infos: vec![],
        waived: vec![],
        skipped: vec![],
        passed: vec![],
    };
    for r in &report.checks {
        match r.status {
            Status::Pass => s.passed.push(r),
            Status::Skipped => s.skipped.push(r),
            Status::Waived => s.waived.push(r),
            Status::Fail | Status::Error => match r.severity.unwrap_or(Blocker) {
                Blocker => s.blockers.push(r),
                Warning => s.warnings.push(r),
                Info => s.infos.push(r),
            },
        }
    }
    s
}

pub fn verdict_line(report: &Report) -> String {
    let c = &report.counts;
    let mut parts = vec![
        format!("{} blocker{}", c.blocker, plural(c.blocker)),
        format!("{} warning{}", c.warning, plural(c.warning)),
    ];
    if c.info > 0 {
        parts.push(format!("{} info", c.info));
    }
    parts.push(format!("{} passed", c.passed));
    if c.error > 0 {
        parts.push(format!("{} could not run", c.error));
    }
    if c.waived > 0 {
        parts.push(format!("{} waived", c.waived));
    }
    let head = if report.passed() {
        "READY TO LAUNCH"
    } else {
        "DO NOT LAUNCH"
    };
    format!(
        "{head}: {} ({:.1} s)",
        parts.join(", "),
        report.duration_ms as f64 / 1000.0
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Passed results grouped by id with their counts, for compact listings.
pub fn passed_by_id<'a>(passed: &[&'a CheckResult]) -> Vec<(&'a str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for r in passed {
        match out.iter_mut().find(|(id, _)| *id == r.id) {
            Some(e) => e.1 += 1,
            None => out.push((r.id.as_str(), 1)),
        }
    }
    out
}
