//! `--format junit`: one testsuite per check kind, one testcase per result.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use super::{Formatter, RenderOptions};
use crate::finding::{Report, Status};

pub struct Junit;

impl Formatter for Junit {
    fn render(&self, report: &Report, _: &RenderOptions) -> Result<String, String> {
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for r in &report.checks {
            let mut status = match r.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                Status::Skipped | Status::Waived => TestCaseStatus::skipped(),
            };
            if r.status != Status::Pass {
                let sev = r.severity.map(|s| s.as_str()).unwrap_or("blocker");
                status.set_message(format!("[{sev}] {}", r.message));
                if matches!(r.status, Status::Fail | Status::Error) {
                    status.set_type(r.id.as_str());
                    status.set_description(format!(
                        "{}\n\nWhy: {}\nFix: {}",
                        r.message, r.why, r.fix
                    ));
                }
                if let Some(w) = &r.waiver {
                    status.set_message(format!("waived until {}: {}", w.until, w.reason));
                }
            }
            let mut tc = TestCase::new(format!("{} {}", r.id, r.target), status);
            tc.set_classname(r.kind.as_str());
            tc.set_time(Duration::from_millis(r.duration_ms));
            let suite = suites
                .entry(r.kind.as_str())
                .or_insert_with(|| TestSuite::new(format!("launchgate.{}", r.kind)));
            suite.add_test_case(tc);
        }
        let mut j = JReport::new(format!("launchgate {}", report.policy));
        j.set_time(Duration::from_millis(report.duration_ms));
        j.add_test_suites(suites.into_values());
        j.to_string()
            .map_err(|e| format!("cannot write JUnit XML: {e}"))
    }
}
