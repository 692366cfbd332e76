//! `launchgate dns snapshot|diff`: the nightly drift job.

use std::sync::Arc;

use crate::app::{self, EXIT_FAIL, EXIT_INTERNAL, EXIT_PASS, EXIT_USAGE};
use crate::cli::DnsCommand;
use crate::drift;
use crate::engine::{self, RunOptions, SetupError};
use crate::finding::Report;
use crate::policy::{self, LoadOptions, Loaded};
use crate::redact::Redactor;
use crate::report::Format;

fn load(path: &std::path::Path, set: &[String]) -> Result<(Loaded, Redactor), i32> {
    let set = app::parse_sets(set).map_err(|e| app::usage(&e))?;
    let err_redactor = app::env_redactor(&set);
    let l = policy::load(path, &LoadOptions { set, use_env: true }).map_err(|e| {
        eprint!("{}", err_redactor.redact(&e.to_string()));
        EXIT_USAGE
    })?;
    let r = app::output_redactor(&l, false);
    Ok((l, r))
}

fn client(l: &Loaded) -> Result<Arc<crate::net::dns::DnsClient>, i32> {
    let net = engine::net_config(l, &RunOptions::default()).map_err(setup_exit)?;
    match engine::dns_client(l, &net).map_err(setup_exit)? {
        Ok(c) => Ok(c),
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_INTERNAL)
        }
    }
}

fn setup_exit(e: SetupError) -> i32 {
    eprint!("{e}");
    if !e.to_string().ends_with('\n') {
        eprintln!();
    }
    EXIT_USAGE
}

pub fn run(cmd: DnsCommand) -> i32 {
    match cmd {
        DnsCommand::Snapshot { policy, out, set } => snapshot(&policy, &out, &set),
        DnsCommand::Diff {
            policy,
            lock,
            ttl,
            set,
            output,
        } => diff(&policy, &lock, ttl, &set, &output),
    }
}

fn snapshot(policy: &std::path::Path, out: &std::path::Path, set: &[String]) -> i32 {
    let (l, redactor) = match load(policy, set) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if drift::wanted(&l.policy).is_empty() {
        return app::usage("the policy reads no DNS records (no dns.records and no email domains): nothing to snapshot");
    }
    let rt = app::runtime();
    let r = rt.block_on(async {
        let dns = client(&l)?;
        drift::snapshot(&dns, &l.policy).await.map_err(|e| {
            eprintln!("error: {}", redactor.redact(&e));
            EXIT_INTERNAL
        })
    });
    let lock = match r {
        Ok(l) => l,
        Err(c) => return c,
    };
    if let Err(e) = std::fs::write(out, drift::write_lock(&lock)) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return EXIT_INTERNAL;
    }
    eprintln!("wrote {} records to {}", lock.records.len(), out.display());
    EXIT_PASS
}

fn diff(
    policy: &std::path::Path,
    lock_path: &std::path::Path,
    ttl: bool,
    set: &[String],
    output: &crate::cli::OutputArgs,
) -> i32 {
    let (l, redactor) = match load(policy, set) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let outs = match app::outputs(output) {
        Ok(o) => o,
        Err(e) => return app::usage(&e),
    };
    let lock_path = if lock_path.is_relative() && !lock_path.exists() {
        l.resolve_path(&lock_path.display().to_string())
    } else {
        lock_path.to_path_buf()
    };
    let lock = match drift::read_lock(&lock_path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let started = time::OffsetDateTime::now_utc();
    let t0 = std::time::Instant::now();
    let rt = app::runtime();
    let outcome = match rt.block_on(async {
        let dns = client(&l)?;
        Ok::<_, i32>(drift::diff(&dns, &l.policy, &lock, ttl).await)
    }) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let opts = RunOptions::default();
    let results = engine::finish(
        &l,
        outcome.results.clone(),
        &opts,
        started.date(),
        &redactor,
    );
    let drifted = !outcome.changes.is_empty();
    let result = if drifted || outcome.failed > 0 {
        "fail"
    } else {
        "pass"
    };
    let report = Report::build(
        l.path.display().to_string(),
        &crate::finding::rfc3339(started),
        t0.elapsed().as_millis() as u64,
        result,
        results,
    );
    for (fmt, path) in &outs {
        if *fmt == Format::Human && path.is_none() {
            print!(
                "{}",
                redactor.redact(&drift::render_diff(&outcome, &lock_path))
            );
        } else if let Err(e) = app::emit(&report, output, &[(*fmt, path.clone())], &redactor) {
            eprintln!("error: {e}");
            return EXIT_INTERNAL;
        }
    }
    if drifted {
        EXIT_FAIL
    } else if outcome.failed > 0 {
        eprintln!(
            "error: {} record(s) could not be queried; no verdict",
            outcome.failed
        );
        EXIT_INTERNAL
    } else {
        EXIT_PASS
    }
}
