//! `rollback`: a drill that proves the deploy can be undone in time. Reads the deployed
//! version, runs the rollback command, polls until the previous version is served, times
//! the recovery, then restores the current version and polls back to it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use url::Url;

use super::command::{self, Outcome};
use super::{error, fail, pass, result, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity, Status};
use crate::net::http::Request;
use crate::policy::Rollback;

pub const VERIFY: CheckInfo = CheckInfo {
    id: "rollback.verify",
    severity: Severity::Blocker,
    title: "Rollback lands on the previous version",
    why: "When a launch-day deploy breaks the funnel, the rollback is the only fast way back; a rollback that was never proven tends to fail exactly when paid traffic is pouring into a broken page.",
    fix: "Run the rollback script by hand against staging, make it exit 0 and switch what `version_url` reports to `previous`; check `current`/`previous` and `version_json` point at the right values.",
};

pub const DURATION: CheckInfo = CheckInfo {
    id: "rollback.duration",
    severity: Severity::Blocker,
    title: "Rollback completes within max_duration",
    why: "Every minute a broken funnel takes paid clicks is budget burnt and leads lost; a rollback that takes half an hour is not a safety net.",
    fix: "Make rollback a switch, not a rebuild: keep the previous release deployed (blue/green, an alias or a release symlink) and repoint traffic, or raise `max_duration` if the business accepts it.",
};

pub const RESTORE: CheckInfo = CheckInfo {
    id: "rollback.restore",
    severity: Severity::Blocker,
    title: "Site restored to the current version after the drill",
    why: "A drill that leaves production on the old release silently undoes the launch: fixes, tracking and offers of the new version are gone until someone notices.",
    fix: "Deploy the current version now (by hand if needed), then fix the `restore` command so it exits 0 and brings `version_url` back to `current`.",
};

pub const INFO: &[CheckInfo] = &[VERIFY, DURATION, RESTORE];

pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);

/// How long `rollback.verify` waits, in multiples of `max_duration`: a rollback that lands
/// late is told apart from one that never lands (the first fails only `rollback.duration`).
pub const VERIFY_GRACE: u32 = 2;

struct Drill<'a> {
    ctx: &'a Ctx,
    rb: &'a Rollback,
    url: Url,
    interval: Duration,
}

/// The result of polling `version_url` for a wanted version.
struct Wait {
    reached: bool,
    elapsed: Duration,
    polls: u32,
    last: Option<String>,
    last_error: Option<String>,
}

impl Wait {
    fn evidence(&self, want: &str) -> Value {
        json!({
            "expected": want,
            "observed": self.last,
            "reached": self.reached,
            "polls": self.polls,
            "wait_ms": self.elapsed.as_millis() as u64,
            "last_error": self.last_error,
        })
    }
    fn seen(&self) -> String {
        match (&self.last, &self.last_error) {
            (Some(v), _) => format!("`{v}`"),
            (None, Some(e)) => format!("nothing readable ({e})"),
            (None, None) => "nothing".into(),
        }
    }
}

impl Drill<'_> {
    async fn read(&self) -> Result<String, String> {
        let resp = self
            .ctx
            .http
            .send(&Request::get(self.url.clone()))
            .await
            .map_err(|e| e.to_string())?;
        if !(200..300).contains(&resp.status) {
            return Err(format!("version_url answered {}", resp.status));
        }
        let body = resp.body_text();
        match self.rb.version_json.as_ref() {
            None => Ok(body.trim().to_string()),
            Some(ptr) => {
                let v: Value = serde_json::from_str(&body)
                    .map_err(|e| format!("version_url did not answer JSON: {e}"))?;
                match v.pointer(ptr.as_str()) {
                    Some(Value::String(s)) => Ok(s.trim().to_string()),
                    Some(Value::Number(n)) => Ok(n.to_string()),
                    Some(Value::Bool(b)) => Ok(b.to_string()),
                    Some(other) => Err(format!(
                        "`{ptr}` in the version JSON is not a string: {other}"
                    )),
                    None => Err(format!("no `{ptr}` in the version JSON")),
                }
            }
        }
    }

    /// Polls until the version is `want` or `limit` has passed.
    async fn wait_for(&self, want: &str, limit: Duration) -> Wait {
        let start = Instant::now();
        let mut w = Wait {
            reached: false,
            elapsed: Duration::ZERO,
            polls: 0,
            last: None,
            last_error: None,
        };
        loop {
            w.polls += 1;
            match self.read().await {
                Ok(v) => {
                    w.reached = v == want;
                    w.last = Some(v);
                    w.last_error = None;
                }
                Err(e) => {
                    w.last = None;
                    w.last_error = Some(e);
                }
            }
            w.elapsed = start.elapsed();
            if w.reached || w.elapsed >= limit {
                return w;
            }
            tokio::time::sleep(self.interval.min(limit - w.elapsed)).await;
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn tail_note(o: &Outcome) -> String {
    o.last_line().map(|l| format!(": {l}")).unwrap_or_default()
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let Some(rb) = ctx.loaded.policy.rollback.as_ref() else {
        return Vec::new();
    };
    let target = rb.version_url.as_str().to_string();
    let max = rb.max_duration.map(|d| d.0).unwrap_or(DEFAULT_MAX_DURATION);
    let d = Drill {
        ctx,
        rb,
        url: rb.version_url.url(),
        interval: rb
            .poll_interval
            .map(|d| d.0)
            .unwrap_or(DEFAULT_POLL)
            .max(Duration::from_millis(10)),
    };
    let redactor = command::redactor(&ctx.loaded.secrets);
    let dir = ctx.loaded.base_dir.clone();
    let previous = rb.previous.as_str().trim().to_string();
    let max_ms = ms(max);

    // 1. What is deployed now.
    let initial = match d.read().await {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("cannot read the deployed version, drill not run: {e}");
            return vec![
                error(&VERIFY, &target, &msg),
                error(&DURATION, &target, &msg),
                error(&RESTORE, &target, &msg),
            ];
        }
    };
    if previous.is_empty() {
        let msg = "`previous` is empty (an unset variable?): there is no version to roll back to, drill not run";
        return vec![
            error(&VERIFY, &target, msg),
            error(&DURATION, &target, msg),
            error(&RESTORE, &target, msg),
        ];
    }
    // An empty `current` (e.g. `${GITHUB_SHA:-}` outside CI) means "what is deployed".
    let current = rb
        .current
        .as_ref()
        .map(|c| c.as_str().trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| initial.clone());
    if initial != current {
        let msg = format!(
            "the site serves `{initial}`, not the current version `{current}`: drill not run (a rollback from an unknown state proves nothing)"
        );
        let skipped = "not run: the site was not on the current version";
        return vec![
            fail(&VERIFY, &target, msg)
                .evidence("observed", initial)
                .evidence("expected_current", current),
            result(&DURATION, &target, Status::Skipped, skipped),
            result(&RESTORE, &target, Status::Skipped, skipped),
        ];
    }
    if previous == current {
        let msg = format!(
            "`previous` and `current` are both `{current}`: a rollback between them proves nothing"
        );
        return vec![
            fail(&VERIFY, &target, &msg),
            result(
                &DURATION,
                &target,
                Status::Skipped,
                "not run: nothing to roll back to",
            ),
            result(
                &RESTORE,
                &target,
                Status::Skipped,
                "not run: nothing to roll back to",
            ),
        ];
    }

    // 2. Roll back, and poll until the previous version is served.
    let t0 = Instant::now();
    let cmd = command::run(rb.rollback.as_str(), &dir, max, &redactor).await;
    let wait = if cmd.ok() {
        let spent = t0.elapsed();
        let limit = (max * VERIFY_GRACE).saturating_sub(spent);
        Some(d.wait_for(&previous, limit).await)
    } else {
        None
    };
    let recovery = t0.elapsed();
    let mut out = Vec::new();
    let cmd_ev = cmd.evidence();
    let verify = match &wait {
        None => fail(
            &VERIFY,
            &target,
            format!("the rollback command {}{}", cmd.describe(), tail_note(&cmd)),
        ),
        Some(w) if w.reached => pass(
            &VERIFY,
            &target,
            format!(
                "rolled back from `{current}` to `{previous}` in {} ms",
                ms(recovery)
            ),
        ),
        Some(w) => fail(
            &VERIFY,
            &target,
            format!(
                "the rollback command exited 0 but after {} ms the site still serves {}, not `{previous}`",
                ms(recovery),
                w.seen()
            ),
        ),
    };
    let mut verify = verify
        .evidence("initial_version", initial.clone())
        .evidence("previous", previous.clone())
        .evidence("rollback", cmd_ev.clone())
        .duration(recovery);
    if let Some(w) = &wait {
        verify = verify.evidence("poll", w.evidence(&previous));
    }
    out.push(verify);

    let reached = wait.as_ref().is_some_and(|w| w.reached);
    let dur = if reached && recovery <= max {
        pass(
            &DURATION,
            &target,
            format!("recovered in {} ms (budget {max_ms} ms)", ms(recovery)),
        )
    } else if reached {
        fail(
            &DURATION,
            &target,
            format!(
                "recovery took {} ms, over the {max_ms} ms budget",
                ms(recovery)
            ),
        )
    } else if cmd.exit == command::Exit::TimedOut {
        fail(
            &DURATION,
            &target,
            format!("the rollback command ran past the {max_ms} ms budget and was killed"),
        )
    } else {
        fail(
            &DURATION,
            &target,
            format!(
                "no recovery: the previous version was not served within {} ms",
                ms(recovery)
            ),
        )
    };
    out.push(
        dur.evidence("recovery_ms", ms(recovery))
            .evidence("max_duration_ms", max_ms)
            .evidence("command_ms", ms(cmd.elapsed))
            .evidence("poll_ms", wait.as_ref().map(|w| ms(w.elapsed)))
            .duration(recovery),
    );

    // 3. Restore the current version, whatever happened above.
    out.push(restore(&d, &current, max, &redactor, &dir).await);
    out
}

async fn restore(
    d: &Drill<'_>,
    current: &str,
    max: Duration,
    redactor: &crate::redact::Redactor,
    dir: &std::path::Path,
) -> CheckResult {
    let target = d.rb.version_url.as_str();
    let Some(restore_cmd) = d.rb.restore.as_ref() else {
        let w = d.wait_for(current, Duration::ZERO).await;
        return if w.reached {
            pass(
                &RESTORE,
                target,
                format!("no `restore` command; the site serves the current version `{current}`"),
            )
            .evidence("poll", w.evidence(current))
        } else {
            fail(
                &RESTORE,
                target,
                format!(
                    "THE SITE WAS LEFT ON THE OLD VERSION: it serves {}, not the current `{current}`, and no `restore` command is configured. Deploy `{current}` now.",
                    w.seen()
                ),
            )
            .evidence("poll", w.evidence(current))
            .evidence("left_on_old_version", true)
        };
    };
    let t0 = Instant::now();
    let cmd = command::run(restore_cmd.as_str(), dir, max, redactor).await;
    // After a failed command, look once: the site may still (or already) be right.
    let limit = if cmd.ok() {
        max.saturating_sub(t0.elapsed())
    } else {
        Duration::ZERO
    };
    let w = d.wait_for(current, limit).await;
    let took = t0.elapsed();
    let r = if cmd.ok() && w.reached {
        pass(
            &RESTORE,
            target,
            format!("restored `{current}` in {} ms", ms(took)),
        )
    } else if w.reached {
        fail(
            &RESTORE,
            target,
            format!(
                "the restore command {}{}; the site does serve the current `{current}`, but restoring is broken",
                cmd.describe(),
                tail_note(&cmd)
            ),
        )
    } else {
        let how = if cmd.ok() {
            format!("the restore command exited 0 but after {} ms", ms(took))
        } else {
            format!(
                "the restore command {}{}, and",
                cmd.describe(),
                tail_note(&cmd)
            )
        };
        fail(
            &RESTORE,
            target,
            format!(
                "THE SITE WAS LEFT ON THE OLD VERSION: {how} the site serves {}, not the current `{current}`. Deploy `{current}` now.",
                w.seen()
            ),
        )
        .evidence("left_on_old_version", true)
    };
    r.evidence("restore", cmd.evidence())
        .evidence("poll", w.evidence(current))
        .duration(took)
}
