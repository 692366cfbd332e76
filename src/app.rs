//! The commands: glue between the CLI, the library and the exit-code contract.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checks;
use crate::cli::{CheckArgs, Cli, Command, LighthouseArgs, MergeArgs, OutputArgs};
use crate::engine::{self, RunOptions, SetupError};
use crate::finding::{self, Report, Severity};
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
        Command::Secrets(a) => secrets_cmd(a),
        Command::Dns { command } => crate::dnscmd::run(command),
        Command::Lighthouse(a) => lighthouse(a),
        Command::Init(a) => crate::init::run(a),
    }
}

/// `launchgate secrets`: the standalone gitleaks-compatible scanner.
fn secrets_cmd(a: crate::cli::SecretsArgs) -> i32 {
    let o = &a.output;
    if o.out.len() > o.format.len().max(1) {
        return usage("more --out than --format: each --out pairs with the --format before it");
    }
    let mut formats = Vec::new();
    let list = if o.format.is_empty() {
        vec!["human".to_string()]
    } else {
        o.format.clone()
    };
    for (i, f) in list.iter().enumerate() {
        let f = match f.as_str() {
            "text" => "human",
            other => other,
        };
        if !["json", "sarif", "human"].contains(&f) {
            return usage(&format!(
                "launchgate secrets --format `{f}`: expected json, sarif or human"
            ));
        }
        formats.push((f.to_string(), o.out.get(i).cloned()));
    }
    let args = crate::secrets::cli::SecretsArgs {
        path: a.path,
        config: a.config,
        git: a.git,
        log_opts: a.log_opts,
        staged: a.staged,
        baseline: a.baseline,
        ignore_file: a.ignore_file,
        no_redact: a.no_redact,
        max_decode_depth: a.max_decode_depth,
        formats,
    };
    crate::secrets::cli::run(&args)
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
    // A missing previous report (the first scheduled run) is not an error.
    let previous = a
        .previous
        .as_deref()
        .filter(|p| p.exists())
        .map(read_report)
        .transpose();
    let previous = match previous {
        Ok(p) => p,
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
        previous,
        timeout,
        resolve: a.resolve.clone(),
        no_redact: a.no_redact,
        allow_large_load: a.allow_large_load,
        today: None,
    };
    let github = a.github;
    let redactor = output_redactor(&loaded, a.no_redact);
    run_and_report(loaded, opts, &a.output, &outs, &redactor, github)
}

/// What every rendered output passes through: the policy's secrets (unless
/// `--no-redact`) and, always, the GitHub token.
pub fn output_redactor(loaded: &policy::Loaded, no_redact: bool) -> Redactor {
    let mut v = engine::github_token_only();
    if !no_redact {
        v.extend(loaded.secrets.iter().cloned());
    }
    Redactor::new(v)
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
    // Everything that makes this exit 2 is found before GitHub hears of the run, so a
    // check run is never left `in_progress` by a typo.
    let pre = engine::validate_kinds(&opts.only, "--only")
        .and_then(|_| engine::validate_kinds(&opts.skip, "--skip"))
        .and_then(|_| engine::validate(&loaded))
        .and_then(|_| engine::net_config(&loaded, &opts).map(|_| ()));
    if let Err(e) = pre {
        return setup_error(e, redactor);
    }
    let settings = crate::github::settings(&loaded.policy, github);
    let notify = loaded.policy.report.as_ref().and_then(|r| r.notify.clone());
    let previous = opts.previous.clone();
    let rt = runtime();
    let loaded = Arc::new(loaded);
    // octocrab spawns its connection worker, so it is built inside the runtime.
    let _guard = rt.enter();
    let mut reporter =
        settings.map(|s| crate::github::Reporter::new(crate::github::Context::from_env(), s));
    let report = rt.block_on(async {
        if let Some(r) = reporter.as_mut() {
            r.start().await;
        }
        engine::run(loaded.clone(), &opts).await
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => return setup_error(e, redactor),
    };
    let mut code = if report.passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    };
    if let Err(e) = emit(&report, output, outs, redactor) {
        eprintln!("error: {e}");
        code = EXIT_INTERNAL;
    }
    // Reporting to GitHub and to the team's channel never changes the exit code.
    if let Some(mut r) = reporter {
        let md = report::formatter(Format::Markdown)
            .and_then(|f| f.render(&report, &RenderOptions::default()))
            .map(|t| redactor.redact(&t))
            .unwrap_or_default();
        let json_path = json_report_path(&report, outs, &r.ctx, redactor);
        for note in rt.block_on(r.finish(&report, &md, json_path.as_deref())) {
            eprintln!("note: {}", redactor.redact(&note));
        }
    }
    if let Some(n) = notify {
        let http = crate::net::http::HttpClient::new(
            engine::net_config(&loaded, &opts).unwrap_or_default(),
        );
        if let Some(note) = rt.block_on(crate::notify::maybe_send(
            &http,
            &n,
            &report,
            previous.as_ref(),
            redactor,
        )) {
            eprintln!("note: {}", redactor.redact(&note));
        }
    }
    code
}

fn setup_error(e: SetupError, redactor: &Redactor) -> i32 {
    match e {
        SetupError::Policy(e) => {
            eprint!("{}", redactor.redact(&e.to_string()));
            EXIT_USAGE
        }
        SetupError::Usage(m) => usage(&redactor.redact(&m)),
    }
}

/// Where the JSON report is for the `report` output: the `--format json --out` file, or
/// one written to RUNNER_TEMP.
fn json_report_path(
    report: &Report,
    outs: &[(Format, Option<PathBuf>)],
    ctx: &crate::github::Context,
    redactor: &Redactor,
) -> Option<PathBuf> {
    if let Some(p) = outs
        .iter()
        .find_map(|(f, p)| (*f == Format::Json).then(|| p.clone()).flatten())
    {
        return Some(p);
    }
    let dir = ctx.runner_temp.clone().unwrap_or_else(std::env::temp_dir);
    let p = dir.join("launchgate-report.json");
    let text = report::formatter(Format::Json)
        .ok()?
        .render(report, &RenderOptions::default())
        .ok()?;
    std::fs::write(&p, redactor.redact(&text)).ok()?;
    Some(p)
}

/// `launchgate lighthouse REPORT.json... [-p launch.yml]`: the `lighthouse` kind on the
/// given reports, with the policy's assertions or the Core Web Vitals defaults.
fn lighthouse(a: LighthouseArgs) -> i32 {
    let outs = match outputs(&a.output) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let err_redactor = env_redactor(&BTreeMap::new());
    let opts = LoadOptions {
        set: BTreeMap::new(),
        use_env: true,
    };
    let loaded = match &a.policy {
        Some(p) => policy::load(p, &opts),
        None => policy::load_str(
            Path::new("(Core Web Vitals defaults)"),
            "version: 1\n",
            &opts,
        ),
    };
    let mut loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", err_redactor.redact(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    if a.policy.is_none() {
        loaded.base_dir = PathBuf::from(".");
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut section = loaded.policy.lighthouse.take().unwrap_or_default();
    section.reports = a
        .reports
        .iter()
        .map(|r| policy::types::Text(cwd.join(r).display().to_string()))
        .collect();
    section.urls.clear();
    loaded.policy.lighthouse = Some(section);
    let redactor = output_redactor(&loaded, false);
    let opts = RunOptions {
        only: vec!["lighthouse".into()],
        ..RunOptions::default()
    };
    run_and_report(loaded, opts, &a.output, &outs, &redactor, false)
}

pub fn usage(msg: &str) -> i32 {
    eprintln!("error: {msg}");
    EXIT_USAGE
}

fn explain(id: Option<&str>) -> i32 {
    let cat = checks::catalogue();
    let Some(id) = id else {
        for c in cat {
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
    let result = if failed { "fail" } else { "pass" };
    let report = Report::build(
        format!("{} policies", a.reports.len()),
        &started.unwrap_or_default(),
        duration,
        result,
        checks,
    );
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
