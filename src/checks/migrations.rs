//! `migrations`: the migration command runs cleanly, and again: a deploy that is retried
//! or rolled forward twice must not break the database.

use std::time::Duration;

use serde_json::Value;

use super::command;
use super::{fail, pass, result, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity, Status};

pub const RUN: CheckInfo = CheckInfo {
    id: "migrations.run",
    severity: Severity::Blocker,
    title: "Migrations run cleanly",
    why: "A migration that fails on its first run leaves the deploy half applied: the new code meets the old schema and the funnel errors for every visitor.",
    fix: "Run the migration command locally against a copy of production data, fix the failing step, and keep it within the timeout.",
};

pub const RERUN: CheckInfo = CheckInfo {
    id: "migrations.rerun",
    severity: Severity::Blocker,
    title: "Migrations are re-runnable",
    why: "Deploys get retried, rolled back and rolled forward; a migration that fails the second time (a CREATE without IF NOT EXISTS, a data backfill that duplicates rows) turns a routine retry into an outage.",
    fix: "Make every step idempotent: guard DDL with IF [NOT] EXISTS, record applied migrations in a table and skip them, make backfills upserts.",
};

pub const INFO: &[CheckInfo] = &[RUN, RERUN];

pub const DEFAULT_RUNS: u64 = 2;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let Some(m) = ctx.loaded.policy.migrations.as_ref() else {
        return Vec::new();
    };
    let runs = m.runs.map(|c| c.0).unwrap_or(DEFAULT_RUNS).max(1);
    let timeout = m.timeout.map(|d| d.0).unwrap_or(DEFAULT_TIMEOUT);
    let redactor = command::redactor(&ctx.loaded.secrets);
    let target = redactor.redact(m.command.as_str());
    let dir = ctx.loaded.base_dir.clone();

    let mut outcomes: Vec<command::Outcome> = Vec::new();
    for _ in 0..runs {
        let o = command::run(m.command.as_str(), &dir, timeout, &redactor).await;
        let ok = o.ok();
        outcomes.push(o);
        if !ok {
            break;
        }
    }
    let evidence: Vec<Value> = outcomes.iter().map(|o| o.evidence()).collect();
    let total: Duration = outcomes.iter().map(|o| o.elapsed).sum();
    let first = &outcomes[0];
    let with = |r: CheckResult| {
        r.evidence("runs", evidence.clone())
            .evidence("timeout_ms", timeout.as_millis() as u64)
            .duration(total)
    };
    let why_line =
        |o: &command::Outcome| o.last_line().map(|l| format!(": {l}")).unwrap_or_default();

    let mut out = Vec::new();
    if !first.ok() {
        out.push(with(fail(
            &RUN,
            &target,
            format!("the first run {}{}", first.describe(), why_line(first)),
        )));
        if runs > 1 {
            out.push(with(result(
                &RERUN,
                &target,
                Status::Skipped,
                "not judged: the first run already failed",
            )));
        }
        return out;
    }
    out.push(with(pass(
        &RUN,
        &target,
        format!("the first run {}", first.describe()),
    )));
    if runs < 2 {
        return out;
    }
    let last = outcomes.last().expect("one run");
    if last.ok() && outcomes.len() as u64 == runs {
        out.push(with(pass(
            &RERUN,
            &target,
            format!(
                "all {runs} runs exited 0 within {} ms each",
                timeout.as_millis()
            ),
        )));
    } else {
        let n = outcomes.len();
        out.push(
            with(fail(
                &RERUN,
                &target,
                format!(
                    "not re-runnable: run {n} of {runs} {}{}",
                    last.describe(),
                    why_line(last)
                ),
            ))
            .evidence("failed_run", n)
            .evidence("stderr_tail", last.stderr_tail.clone()),
        );
    }
    out
}
