//! Runs every configured check concurrently, fails closed, and turns the raw results
//! into a ranked report: defaults filled, severity overrides, waivers, baseline, redaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checks::{self, Ctx};
use crate::finding::{self, CheckResult, Report, Severity, Status};
use crate::net::dns::DnsClient;
use crate::net::{self, NetConfig, Overrides};
use crate::policy::{did_you_mean, Loaded, PolicyError};
use crate::redact::Redactor;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub fail_on: Option<Severity>,
    pub baseline: Option<Report>,
    /// `--previous`: the last run's report, for notifications on change.
    pub previous: Option<Report>,
    pub timeout: Option<Duration>,
    /// `--resolve` entries, applied over `defaults.resolve`.
    pub resolve: Vec<String>,
    /// `--no-redact`: show secret values (never the GitHub token).
    pub no_redact: bool,
    /// `--allow-large-load`: lifts the load caps (100,000 requests, 10 minutes).
    pub allow_large_load: bool,
    /// For tests of waiver expiry; today (UTC) otherwise.
    pub today: Option<time::Date>,
}

/// Everything that stops a run before it starts: exit 2.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Usage(String),
}

pub fn validate_kinds(list: &[String], flag: &str) -> Result<(), SetupError> {
    for k in list {
        if !checks::KINDS.contains(&k.as_str()) {
            let hint = did_you_mean(k, checks::KINDS)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(SetupError::Usage(format!(
                "{flag}: unknown check kind `{k}`{hint}; kinds are: {}",
                checks::KINDS.join(" ")
            )));
        }
    }
    Ok(())
}

fn known_id(id: &str) -> bool {
    checks::SPEC_IDS.contains(&id) || checks::info(id).is_some()
}

fn policy_err(
    l: &Loaded,
    needle: &str,
    key: String,
    message: String,
    hint: Option<String>,
) -> PolicyError {
    let line = l.line_of(needle).map(|x| x as usize);
    PolicyError {
        path: l.path.clone(),
        line,
        column: None,
        key: Some(key),
        message,
        hint,
        source_line: line.and_then(|n| l.source.lines().nth(n - 1).map(str::to_string)),
    }
}

/// The network settings of a run, from `defaults` and the command line.
pub fn net_config(l: &Loaded, opts: &RunOptions) -> Result<NetConfig, SetupError> {
    let d = &l.policy.defaults;
    let mut cfg = NetConfig::default();
    if let Some(t) = d.timeout {
        cfg.timeout = t.0;
    }
    if let Some(t) = opts.timeout {
        cfg.timeout = t;
    }
    if let Some(r) = d.retries {
        cfg.retries = r.0 as u32;
    }
    if let Some(ua) = &d.user_agent {
        cfg.user_agent = ua.0.clone();
    }
    if let Some(m) = d.max_body {
        cfg.max_body = m.0 as usize;
    }
    if let Some(ca) = &d.ca_file {
        let path = l.resolve_path(ca);
        cfg.extra_roots = net::load_pem_roots(&path)
            .map_err(|m| policy_err(l, "ca_file", "defaults.ca_file".into(), m, None))?;
    }
    let mut o = Overrides::default();
    for (k, v) in &d.resolve {
        o.parse_entry(k, v).map_err(|m| {
            policy_err(
                l,
                k,
                format!("defaults.resolve.{k}"),
                m,
                Some("write \"HOST:PORT\": \"ADDR\" or \"ADDR:PORT2\"".into()),
            )
        })?;
    }
    for spec in &opts.resolve {
        o.parse_cli(spec).map_err(SetupError::Usage)?;
    }
    cfg.overrides = o;
    Ok(cfg)
}

/// The DNS client for `dns.resolvers`; a malformed address is a policy error, an
/// unreadable system configuration fails the DNS checks closed.
pub fn dns_client(
    l: &Loaded,
    net: &NetConfig,
) -> Result<Result<Arc<DnsClient>, String>, SetupError> {
    let mut servers = Vec::new();
    if let Some(d) = &l.policy.dns {
        for (i, r) in d.resolvers.iter().enumerate() {
            let sa = crate::net::dns::parse_server(r).map_err(|m| {
                policy_err(
                    l,
                    r,
                    format!("dns.resolvers[{i}]"),
                    m,
                    Some("write `1.1.1.1` or `127.0.0.1:5353`".into()),
                )
            })?;
            servers.push(sa);
        }
    }
    Ok(DnsClient::new(&servers, net.timeout, net.retries).map(Arc::new))
}

/// Checks the policy's references to check ids: typos are errors, not silent no-ops.
/// A gitleaks config that does not load (bad regex, missing id) is a policy error too.
pub fn validate(l: &Loaded) -> Result<(), SetupError> {
    if let Some(cfg) = l.policy.secrets.as_ref().and_then(|s| s.config.as_ref()) {
        if let Err(m) = checks::secrets::load_config(l) {
            return Err(policy_err(l, cfg, "secrets.config".into(), m, None).into());
        }
    }
    let ids: Vec<&str> = checks::SPEC_IDS.to_vec();
    for id in l.policy.severity.keys() {
        if !known_id(id) {
            let hint = did_you_mean(id, &ids).map(|s| format!("did you mean `{s}`?"));
            return Err(policy_err(
                l,
                id,
                format!("severity.{id}"),
                format!("unknown check id `{id}`"),
                hint,
            )
            .into());
        }
    }
    if let Some(lh) = &l.policy.lighthouse {
        checks::lighthouse::validate(lh, &l.base_dir).map_err(|m| {
            policy_err(
                l,
                "lighthouse:",
                "lighthouse".into(),
                m,
                Some("Lighthouse CI syntax: `\"key\": level` or `[level, {minScore|maxNumericValue|maxLength|aggregationMethod}]`".into()),
            )
        })?;
    }
    for (i, w) in l.policy.waivers.iter().enumerate() {
        if !known_id(&w.id) {
            let hint = did_you_mean(&w.id, &ids).map(|s| format!("did you mean `{s}`?"));
            return Err(policy_err(
                l,
                &w.id,
                format!("waivers[{i}].id"),
                format!("unknown check id `{}`", w.id),
                hint,
            )
            .into());
        }
    }
    Ok(())
}

/// The kinds a run executes, in contract order.
pub fn selected_kinds(l: &Loaded, opts: &RunOptions) -> Vec<&'static str> {
    checks::KINDS
        .iter()
        .copied()
        .filter(|k| opts.only.is_empty() || opts.only.iter().any(|o| o == k))
        .filter(|k| !opts.skip.iter().any(|s| s == k))
        .filter(|k| checks::configured(&l.policy, k))
        .collect()
}

pub async fn run(loaded: Arc<Loaded>, opts: &RunOptions) -> Result<Report, SetupError> {
    validate_kinds(&opts.only, "--only")?;
    validate_kinds(&opts.skip, "--skip")?;
    validate(&loaded)?;
    let net = net_config(&loaded, opts)?;
    let started_at = time::OffsetDateTime::now_utc();
    let start = Instant::now();
    let kinds = selected_kinds(&loaded, opts);
    let dns = if kinds.iter().any(|k| *k == "dns" || *k == "email") {
        dns_client(&loaded, &net)?
    } else {
        Err("no DNS checks selected".into())
    };
    let mut ctx = Ctx::new(loaded.clone(), net, dns);
    ctx.allow_large_load = opts.allow_large_load;
    let ctx = Arc::new(ctx);

    // Kinds that change what they run against (the database, the deployed version) go
    // last and one at a time, so the other checks judge the deploy as it was.
    let (mut disruptive, observing): (Vec<&'static str>, Vec<&'static str>) =
        kinds.iter().partition(|k| checks::DISRUPTIVE.contains(*k));
    disruptive.sort_by_key(|k| checks::DISRUPTIVE.iter().position(|d| d == k));
    let mut results = Vec::new();
    let handles: Vec<_> = observing
        .iter()
        .map(|k| (*k, tokio::spawn(checks::run_kind(ctx.clone(), k))))
        .collect();
    for (kind, h) in handles {
        collect(kind, h.await, &mut results);
    }
    for kind in disruptive {
        let r = tokio::spawn(checks::run_kind(ctx.clone(), kind)).await;
        collect(kind, r, &mut results);
    }
    let redactor = if !opts.no_redact {
        Redactor::new(loaded.secrets.clone())
    } else {
        Redactor::new(github_token_only())
    };
    let today = opts
        .today
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let results = finish(&loaded, results, opts, today, &redactor);
    let fail_on = effective_fail_on(&loaded, opts);
    let result = if finding::gate_fails(&results, fail_on) {
        "fail"
    } else {
        "pass"
    };
    Ok(Report::build(
        loaded.path.display().to_string(),
        &finding::rfc3339(started_at),
        start.elapsed().as_millis() as u64,
        result,
        results,
    ))
}

fn collect(
    kind: &str,
    r: Result<Vec<CheckResult>, tokio::task::JoinError>,
    results: &mut Vec<CheckResult>,
) {
    match r {
        Ok(mut r) => results.append(&mut r),
        Err(e) => {
            let what = if e.is_panic() {
                "crashed"
            } else {
                "was cancelled"
            };
            results.push(checks::error(
                &checks::INTERNAL,
                kind,
                format!("the `{kind}` checks {what}; their results are unknown"),
            ));
        }
    }
}

/// The GitHub token is redacted even with `--no-redact`.
pub fn github_token_only() -> Vec<String> {
    [
        "GITHUB_TOKEN",
        "INPUT_GITHUB-TOKEN",
        "INPUT_GITHUB_TOKEN",
        "GH_TOKEN",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok())
    .collect()
}

pub fn effective_fail_on(l: &Loaded, opts: &RunOptions) -> Severity {
    opts.fail_on
        .or(l.policy.report.as_ref().and_then(|r| r.fail_on))
        .unwrap_or(Severity::Blocker)
}

/// Fills defaults and applies overrides, waivers, baseline, redaction and ranking.
pub fn finish(
    l: &Loaded,
    mut results: Vec<CheckResult>,
    opts: &RunOptions,
    today: time::Date,
    redactor: &Redactor,
) -> Vec<CheckResult> {
    for r in &mut results {
        if let Some(info) = checks::info(&r.id) {
            if r.why.is_empty() {
                r.why = info.why.to_string();
            }
            if r.fix.is_empty() {
                r.fix = info.fix.to_string();
            }
            if r.status != Status::Pass && r.severity.is_none() {
                r.severity = Some(info.severity);
            }
        }
        if r.status != Status::Pass {
            if let Some(s) = l.policy.severity.get(&r.id) {
                r.severity = Some(*s);
            }
        }
    }

    let mut expired = Vec::new();
    for w in &l.policy.waivers {
        let is_expired = w.until.0 < today;
        if is_expired {
            expired.push(w);
        }
        for r in results.iter_mut() {
            let matches = r.id == w.id.as_str()
                && (w.target.as_str() == "*" || r.target == w.target.as_str());
            // A check that could not run is not the accepted finding: it stays an error.
            if matches && r.status == Status::Fail && !is_expired {
                r.status = Status::Waived;
                r.waiver = Some(finding::Waiver {
                    reason: w.reason.0.clone(),
                    until: w.until.to_string(),
                });
            }
        }
    }
    for w in expired {
        let mut r = checks::fail(
            &checks::WAIVER_EXPIRED,
            &format!("{} {}", w.id, w.target),
            format!(
                "the waiver for {} on {} expired on {} ({}); the failure counts again",
                w.id, w.target, w.until, w.reason
            ),
        );
        r.why = checks::WAIVER_EXPIRED.why.into();
        r.fix = checks::WAIVER_EXPIRED.fix.into();
        r.location =
            l.line_of(&format!("until: {}", w.until))
                .map(|line| crate::finding::Location {
                    path: l.path.display().to_string(),
                    line: Some(line),
                    column: None,
                    end_line: None,
                    end_column: None,
                });
        results.push(r);
    }

    if let Some(base) = &opts.baseline {
        let old: HashSet<(String, String)> = base
            .checks
            .iter()
            .filter(|c| c.status.is_failure())
            .map(|c| (c.id.clone(), c.target.clone()))
            .collect();
        for r in results.iter_mut().filter(|r| r.is_failure()) {
            let known = old.contains(&(r.id.clone(), r.target.clone()));
            r.new = Some(!known);
            if known && r.severity == Some(Severity::Blocker) {
                r.severity = Some(Severity::Warning);
                r.message = format!("{} (already failing in the baseline)", r.message);
            }
        }
    }

    for r in &mut results {
        redactor.redact_result(r);
    }
    finding::rank(&mut results);
    results
}
