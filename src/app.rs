//! The commands: glue between the CLI, the library and the exit-code contract.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checks;
use crate::cli::{CheckArgs, Cli, Command, MergeArgs, OutputArgs};
use crate::engine::{self, RunOptions, SetupError};
use crate::finding::{self, Counts, Report, Severity};
use crate::policy::{self, is_secret_name, LoadOptions};
use crate::redact::Redactor;
use crate::report::{self, Format, RenderOptions};

pub const EXIT_PASS: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INTERNAL: i32 = 3;

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(a) => check(a),
        Command::Schema => {
            println!("{}", policy::schema_json());
            EXIT_PASS
        }
        Command::Explain { id } => explain(id.as_deref()),
        Command::Demo(out) => crate::demo::run(out),
        Command::Merge(a) => merge(a),
        Command::Secrets(_) => not_built("secrets"),
        Command::Dns { command } => crate::dnscmd::run(command),
        Command::Lighthouse(_) => not_built("lighthouse"),
        Command::Init(a) => crate::init::run(a),
    }
}

fn not_built(cmd: &str) -> i32 {
    eprintln!("error: `launchgate {cmd}` is not built into this version yet");
    EXIT_INTERNAL
}

/// Redacts what an error message may echo back before the policy could be read.
pub fn env_redactor(set: &BTreeMap<String, String>) -> Redactor {
    let mut v: Vec<String> = std::env::vars()
        .filter(|(k, _)| is_secret_name(k))
        .map(|(_, v)| v)
        .collect();
    v.extend(
        set.iter()
            .filter(|(k, _)| is_secret_name(k))
            .map(|(_, v)| v.clone()),
    );
    v.extend(engine::github_token_only());
    Redactor::new(v)
}

pub fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut m = BTreeMap::new();
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--set `{s}`: expected NAME=VALUE"))?;
        if k.is_empty() {
            return Err(format!("--set `{s}`: empty variable name"));
        }
        m.insert(k.to_string(), v.to_string());
    }
    Ok(m)
}

pub fn parse_fail_on(s: &str) -> Result<Severity, String> {
    match s {
        "blocker" => Ok(Severity::Blocker),
        "warning" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(format!("--fail-on `{other}`: expected blocker or warning")),
    }
}

/// `--format`/`--out` pairs, validated before anything runs.
pub fn outputs(o: &OutputArgs) -> Result<Vec<(Format, Option<PathBuf>)>, String> {
    if o.out.len() > o.format.len().max(1) {
        return Err(
            "more --out than --format: each --out pairs with the --format before it".into(),
        );
    }
    let formats: Vec<String> = if o.format.is_empty() {
        vec!["human".into()]
    } else {
        o.format.clone()
    };
    let mut out = Vec::new();
    for (i, f) in formats.iter().enumerate() {
        let fmt = Format::parse(f)?;
        report::formatter(fmt)?;
        out.push((fmt, o.out.get(i).cloned()));
    }
    Ok(out)
}

/// Writes every requested format; a failed write is an internal error, after the others.
pub fn emit(
    report: &Report,
    o: &OutputArgs,
    outs: &[(Format, Option<PathBuf>)],
    redactor: &Redactor,
) -> Result<(), String> {
    let mut errors = Vec::new();
    for (fmt, path) in outs {
        let color = path.is_none()
            && !o.no_color
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        let ropts = RenderOptions {
            color,
            verbose: o.verbose,
            quiet: o.quiet,
        };
        let text = match report::formatter(*fmt).and_then(|f| f.render(report, &ropts)) {
            Ok(t) => redactor.redact(&t),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match path {
            Some(p) => {
                if let Err(e) = std::fs::write(p, text) {
                    errors.push(format!("cannot write {}: {e}", p.display()));
                }
            }
            None => {
                let mut so = std::io::stdout().lock();
                let _ = so.write_all(text.as_bytes());
                let _ = so.flush();
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn read_report(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a launchgate JSON report: {e}", path.display()))
}

fn check(a: CheckArgs) -> i32 {
    let set = match parse_sets(&a.set) {
        Ok(s) => s,
        Err(e) => return usage(&e),
    };
    let err_redactor = env_redactor(&set);
    let outs = match outputs(&a.output) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let fail_on = match a.fail_on.as_deref().map(parse_fail_on).transpose() {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let timeout = match a
        .timeout
        .as_deref()
        .map(policy::types::parse_duration)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return usage(&format!("--timeout: {e}")),
    };
    let baseline = match a.baseline.as_deref().map(read_report).transpose() {
        Ok(b) => b,
        Err(e) => return usage(&e),
    };
    let loaded = match policy::load(&a.policy, &LoadOptions { set, use_env: true }) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", err_redactor.redact(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let opts = RunOptions {
        only: a.only.clone(),
        skip: a.skip.clone(),
        fail_on,
        baseline,
        timeout,
        resolve: a.resolve.clone(),
        no_redact: a.no_redact,
        allow_large_load: a.allow_large_load,
        today: None,
    };
    let github = a.github || std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true");
    let redactor = if a.no_redact {
        Redactor::new(engine::github_token_only())
    } else {
        Redactor::new(
            loaded
                .secrets
                .iter()
                .cloned()
                .chain(engine::github_token_only())
                .collect(),
        )
    };
    run_and_report(loaded, opts, &a.output, &outs, &redactor, github)
}

/// Runs a loaded policy and writes its reports; shared by `check` and `demo`.
pub fn run_and_report(
    loaded: policy::Loaded,
    opts: RunOptions,
    output: &OutputArgs,
    outs: &[(Format, Option<PathBuf>)],
    redactor: &Redactor,
    github: bool,
) -> i32 {
    let rt = runtime();
    let report = match rt.block_on(engine::run(Arc::new(loaded), &opts)) {
        Ok(r) => r,
        Err(SetupError::Policy(e)) => {
            eprint!("{}", redactor.redact(&e.to_string()));
            return EXIT_USAGE;
        }
        Err(SetupError::Usage(m)) => return usage(&redactor.redact(&m)),
    };
    if github {
        eprintln!("note: GitHub reporting (check runs, step summary) is not built into this version yet; the exit code is unaffected");
    }
    if let Err(e) = emit(&report, output, outs, redactor) {
        eprintln!("error: {e}");
        return EXIT_INTERNAL;
    }
    if report.passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}

pub fn usage(msg: &str) -> i32 {
    eprintln!("error: {msg}");
    EXIT_USAGE
}

fn explain(id: Option<&str>) -> i32 {
    let cat = checks::catalogue();
    let Some(id) = id else {
        for c in &cat {
            println!("{:<28} {:<8} {}", c.id, c.severity.as_str(), c.title);
        }
        return EXIT_PASS;
    };
    match cat.iter().find(|c| c.id == id) {
        Some(c) => {
            println!(
                "{} ({} by default)\n{}\n\nWhy it matters:\n  {}\n\nHow to fix:\n  {}",
                c.id,
                c.severity.as_str(),
                c.title,
                c.why,
                c.fix
            );
            EXIT_PASS
        }
        None => {
            let ids: Vec<&str> = cat.iter().map(|c| c.id).collect();
            let hint = policy::did_you_mean(id, &ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            usage(&format!(
                "unknown check id `{id}`{hint}; `launchgate explain` lists them"
            ))
        }
    }
}

fn merge(a: MergeArgs) -> i32 {
    let outs = match outputs(&a.output) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let mut checks = Vec::new();
    let mut failed = false;
    let mut duration = 0;
    let mut started: Option<String> = None;
    for p in &a.reports {
        let r = match read_report(p) {
            Ok(r) => r,
            Err(e) => return usage(&e),
        };
        failed |= !r.passed();
        duration = duration.max(r.duration_ms);
        if started.as_ref().is_none_or(|s| r.started_at < *s) {
            started = Some(r.started_at.clone());
        }
        let name = r.policy.clone();
        for mut c in r.checks {
            c.policy.get_or_insert_with(|| name.clone());
            checks.push(c);
        }
    }
    finding::rank(&mut checks);
    let report = Report {
        version: 1,
        tool: finding::Tool {
            name: "launchgate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        policy: format!("{} policies", a.reports.len()),
        started_at: started.unwrap_or_default(),
        duration_ms: duration,
        result: if failed { "fail" } else { "pass" }.into(),
        counts: Counts::of(&checks),
        checks,
    };
    if let Err(e) = emit(
        &report,
        &a.output,
        &outs,
        &Redactor::new(engine::github_token_only()),
    ) {
        eprintln!("error: {e}");
        return EXIT_INTERNAL;
    }
    if failed {
        EXIT_FAIL
    } else {
        EXIT_PASS
    }
}
