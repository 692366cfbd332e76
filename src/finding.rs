//! The one result type every check returns. Depends on nothing of ours so that checks,
//! reports and the GitHub layer can all speak it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocker,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
    /// Larger is worse; used for `--fail-on`.
    pub fn weight(self) -> u8 {
        match self {
            Severity::Blocker => 3,
            Severity::Warning => 2,
            Severity::Info => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Error,
    Skipped,
    Waived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Waived => "waived",
        }
    }
    /// A failed check: what it looks for was found, or it could not run (fail closed).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end_column: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiver {
    pub reason: String,
    pub until: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub status: Status,
    pub severity: Option<Severity>,
    #[serde(default)]
    pub duration_ms: u64,
    pub message: String,
    #[serde(default)]
    pub why: String,
    #[serde(default)]
    pub fix: String,
    #[serde(default)]
    pub evidence: Map<String, Value>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// With `check --baseline`: whether this failure is new against the baseline.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waiver: Option<Waiver>,
    /// Set by `merge`: the policy this result came from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy: Option<String>,
}

impl CheckResult {
    pub fn new(id: &str, target: impl Into<String>, status: Status) -> Self {
        let kind = id.split('.').next().unwrap_or(id).to_string();
        CheckResult {
            id: id.to_string(),
            kind,
            target: target.into(),
            status,
            severity: None,
            duration_ms: 0,
            message: String::new(),
            why: String::new(),
            fix: String::new(),
            evidence: Map::new(),
            location: None,
            fingerprint: None,
            new: None,
            waiver: None,
            policy: None,
        }
    }

    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    pub fn evidence(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), v.into());
        self
    }

    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = Some(s);
        self
    }

    pub fn duration(mut self, d: std::time::Duration) -> Self {
        self.duration_ms = d.as_millis() as u64;
        self
    }

    pub fn location(mut self, l: Location) -> Self {
        self.location = Some(l);
        self
    }

    pub fn is_failure(&self) -> bool {
        self.status.is_failure()
    }

    /// Rank for the report: failing blockers, warnings, infos, then waived, skipped, passes.
    pub fn rank(&self) -> u8 {
        match (self.status, self.severity) {
            (Status::Fail | Status::Error, Some(Severity::Blocker)) => 0,
            (Status::Fail | Status::Error, Some(Severity::Warning)) => 1,
            (Status::Fail | Status::Error, _) => 2,
            (Status::Waived, _) => 3,
            (Status::Skipped, _) => 4,
            (Status::Pass, _) => 5,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub blocker: usize,
    pub warning: usize,
    pub info: usize,
    pub passed: usize,
    pub error: usize,
    pub skipped: usize,
    #[serde(default)]
    pub waived: usize,
}

impl Counts {
    pub fn of(results: &[CheckResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.status {
                Status::Pass => c.passed += 1,
                Status::Skipped => c.skipped += 1,
                Status::Waived => c.waived += 1,
                Status::Fail | Status::Error => {
                    if r.status == Status::Error {
                        c.error += 1;
                    }
                    match r.severity.unwrap_or(Severity::Blocker) {
                        Severity::Blocker => c.blocker += 1,
                        Severity::Warning => c.warning += 1,
                        Severity::Info => c.info += 1,
                    }
                }
            }
        }
        c
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub policy: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub result: String,
    pub counts: Counts,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// A report of this tool over `checks` (already ranked), counts computed.
    pub fn build(
        policy: String,
        started_at: &str,
        duration_ms: u64,
        result: &str,
        checks: Vec<CheckResult>,
    ) -> Report {
        Report {
            version: 1,
            tool: Tool {
                name: "launchgate".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            policy,
            started_at: started_at.to_string(),
            duration_ms,
            result: result.to_string(),
            counts: Counts::of(&checks),
            checks,
        }
    }

    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

/// `2026-12-03T10:00:00Z`: whole seconds, as reports and lock files write times.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Whether `results` fail the gate at `fail_on`.
pub fn gate_fails(results: &[CheckResult], fail_on: Severity) -> bool {
    results.iter().any(|r| {
        r.is_failure() && r.severity.unwrap_or(Severity::Blocker).weight() >= fail_on.weight()
    })
}

/// Stable sort into report order.
pub fn rank(results: &mut [CheckResult]) {
    results.sort_by_key(|r| r.rank());
}
