//! `lighthouse`: Lighthouse reports judged with Lighthouse CI's assertions, plus the form
//! factor they were taken on. Reads the LHRs named by `lighthouse.reports` (and runs
//! Lighthouse itself for `lighthouse.urls` when it and Chromium are on PATH).

pub mod assert;
pub mod lhr;
pub mod presets;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{error, fail, pass, result, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity, Status};
use crate::policy::LighthousePolicy;
use assert::{Level, Verdict};
use lhr::Lhr;

pub const CATEGORY: CheckInfo = CheckInfo {
    id: "lighthouse.category",
    severity: Severity::Blocker,
    title: "Lighthouse category score meets its assertion",
    why: "Ad platforms and search rank slow, inaccessible landing pages lower and charge more per click; a low performance score on mobile means visitors leave before the offer loads.",
    fix: "Open the Lighthouse report for the URL, fix the audits with the largest savings first (render-blocking resources, image sizes, unused JavaScript), and re-run; or adjust the assertion if the target is wrong.",
};

pub const AUDIT: CheckInfo = CheckInfo {
    id: "lighthouse.audit",
    severity: Severity::Blocker,
    title: "Lighthouse audit meets its assertion",
    why: "Each failing metric is a measurable delay or defect buyers hit on the landing page: slow Largest Contentful Paint, layout shifts that move the CTA, a main thread too busy to respond.",
    fix: "See the audit in the Lighthouse report (its title and link in the evidence) and fix what it lists; re-run Lighthouse several times so the aggregation is not judging noise.",
};

pub const FORM_FACTOR: CheckInfo = CheckInfo {
    id: "lighthouse.form-factor",
    severity: Severity::Warning,
    title: "Lighthouse reports were taken on the intended form factor",
    why: "Most paid social and search clicks come from phones; a desktop report scores a fast machine on a fast network and hides what mobile buyers experience.",
    fix: "Run Lighthouse with its default mobile emulation (drop `--preset=desktop`), or set `lighthouse.form_factor` to what you mean to judge.",
};

pub const REPORT: CheckInfo = CheckInfo {
    id: "lighthouse.report",
    severity: Severity::Warning,
    title: "Lighthouse reports are readable and complete",
    why: "A report that failed to load or that Lighthouse could not finish (a runtime error such as NO_FCP) judges nothing: the page may be broken for real visitors too.",
    fix: "Re-run Lighthouse against the URL and check it loads in a headless browser; point `lighthouse.reports` at the JSON reports (`--output json`).",
};

pub const INFO: &[CheckInfo] = &[CATEGORY, AUDIT, FORM_FACTOR, REPORT];

/// What `reports` means when neither it nor `urls` is given: LHCI's own directory.
pub const DEFAULT_REPORTS: &str = ".lighthouseci";

/// `launchgate lighthouse` without a policy, and a `lighthouse:` section without
/// assertions: the Core Web Vitals lab budgets for mobile.
pub fn default_assertions() -> Value {
    json!({
        "assertions": {
            "largest-contentful-paint": ["error", { "maxNumericValue": 2500 }],
            "cumulative-layout-shift": ["error", { "maxNumericValue": 0.1 }],
            "total-blocking-time": ["error", { "maxNumericValue": 200 }],
            "categories:performance": ["error", { "minScore": 0.85 }]
        }
    })
}

/// The LHCI assert options of a policy section (budgets read from `base_dir`).
pub fn options(p: &LighthousePolicy, base_dir: &Path) -> Result<Value, String> {
    let has_assertions =
        !p.assertions.is_empty() || p.preset.is_some() || !p.assert_matrix.is_empty();
    if let Some(b) = &p.budgets_file {
        if has_assertions {
            return Err("`budgets_file` cannot be combined with assertions, preset or assertMatrix (as in Lighthouse CI)".into());
        }
        let path = base_dir.join(b.as_str());
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read budgets file {}: {e}", path.display()))?;
        return assert::budgets_to_options(&text);
    }
    if !has_assertions {
        let mut d = default_assertions();
        if let Some(a) = &p.aggregate {
            d["aggregationMethod"] = a.as_str().into();
        }
        return Ok(d);
    }
    let mut o = serde_json::Map::new();
    if let Some(pr) = &p.preset {
        o.insert("preset".into(), pr.as_str().into());
    }
    if !p.assertions.is_empty() {
        o.insert(
            "assertions".into(),
            Value::Object(p.assertions.clone().into_iter().collect()),
        );
    }
    if !p.assert_matrix.is_empty() {
        o.insert("assertMatrix".into(), Value::Array(p.assert_matrix.clone()));
    }
    if let Some(a) = &p.aggregate {
        o.insert("aggregationMethod".into(), a.as_str().into());
    }
    Ok(Value::Object(o))
}

/// Static checks of the section, for policy errors (exit 2) before anything runs.
pub fn validate(p: &LighthousePolicy, base_dir: &Path) -> Result<(), String> {
    if let Some(f) = &p.form_factor {
        if !["mobile", "desktop", "any"].contains(&f.as_str()) {
            return Err(format!("form_factor `{f}`: use mobile, desktop or any"));
        }
    }
    if let Some(a) = &p.aggregate {
        if !assert::AGGREGATIONS.contains(&a.as_str()) {
            return Err(format!(
                "aggregate `{a}`: use one of {}",
                assert::AGGREGATIONS.join(", ")
            ));
        }
    }
    assert::validate(&options(p, base_dir)?)
}

/// Expands `reports` globs (`*`, `?`, `[..]`, `**` in any component) under `base_dir`.
pub fn expand_reports(patterns: &[String], base_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in patterns {
        let full = if Path::new(p).is_absolute() {
            PathBuf::from(p)
        } else {
            base_dir.join(p)
        };
        let s = full.to_string_lossy().to_string();
        if full.is_dir() {
            // A directory, as `lhci assert --lhr DIR`: its `lhr-<digits>.json` files.
            let mut found: Vec<PathBuf> = std::fs::read_dir(&full)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.strip_prefix("lhr-")
                            .and_then(|r| r.strip_suffix(".json"))
                            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    })
                })
                .collect();
            found.sort();
            out.extend(found);
            continue;
        }
        if !s.contains(['*', '?', '[']) {
            out.push(full);
            continue;
        }
        let mut found = Vec::new();
        let (root, rest) = split_root(&s);
        walk(Path::new(&root), &rest, &mut found);
        found.sort();
        out.extend(found);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

fn split_root(s: &str) -> (String, String) {
    let comps: Vec<&str> = s.split('/').collect();
    let i = comps
        .iter()
        .position(|c| c.contains(['*', '?', '[']))
        .unwrap_or(comps.len());
    let root = comps[..i].join("/");
    let root = if root.is_empty() { "/".into() } else { root };
    (root, comps[i..].join("/"))
}

fn walk(dir: &Path, pattern: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut all = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), rd)];
    let recursive = pattern.contains("**");
    while let Some((d, rd)) = stack.pop() {
        for e in rd.flatten() {
            let p = d.join(e.file_name());
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir {
                if recursive || pattern.contains('/') {
                    if let Ok(r) = std::fs::read_dir(&p) {
                        stack.push((p.clone(), r));
                    }
                }
                continue;
            }
            all.push(p);
        }
    }
    for p in all {
        if let Ok(rel) = p.strip_prefix(dir) {
            if super::env::glob(pattern.as_bytes(), rel.to_string_lossy().as_bytes()) {
                out.push(p);
            }
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn fmt_val(v: f64, name: &str, unit: Option<&str>) -> String {
    let n = fmt_num(v);
    match (name, unit) {
        ("maxNumericValue", Some("millisecond")) => format!("{n} ms"),
        ("maxNumericValue", Some("byte")) => format!("{n} bytes"),
        _ => n,
    }
}

fn describe(v: &Verdict, runs: usize) -> String {
    let what = match (&v.audit_property, v.audit_id.as_str()) {
        (Some(p), "categories") => format!("{p} score"),
        (Some(p), id) => format!("{id} {p}"),
        (None, id) => id.to_string(),
    };
    if v.name == "auditRan" {
        let missing = v.values.iter().filter(|x| **x == Some(0.0)).count();
        let extra = v
            .message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        return format!(
            "{what} is missing from {missing} of {} runs{extra}",
            v.values.len()
        );
    }
    let unit = v.numeric_unit.as_deref();
    let exp = fmt_val(v.expected, v.name, unit);
    match v.actual {
        None => format!(
            "{what}: no value for {} (expected {} {exp}){}",
            v.name,
            v.operator,
            v.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        Some(a) => {
            let cmp = if v.passed {
                v.operator
            } else if v.operator == ">=" {
                "<"
            } else {
                ">"
            };
            format!(
                "{what}: {} {} {cmp} {exp} ({} of {runs} run{})",
                v.name,
                fmt_val(a, v.name, unit),
                v.aggregation,
                if runs == 1 { "" } else { "s" }
            )
        }
    }
}

fn verdict_json(v: &Verdict) -> Value {
    json!({
        "name": v.name,
        "operator": v.operator,
        "expected": v.expected,
        "actual": v.actual,
        "values": v.values,
        "passed": v.passed,
        "message": v.message,
        "audit_property": v.audit_property,
    })
}

/// Turns LHCI verdicts into one result per URL, matrix entry and assertion key.
pub fn results_of(verdicts: &[Verdict], runs_by_url: &BTreeMap<String, usize>) -> Vec<CheckResult> {
    type Key = (String, Option<usize>, String);
    let mut groups: Vec<(Key, Vec<&Verdict>)> = Vec::new();
    for v in verdicts {
        let k = (v.url.clone(), v.matrix_index, v.key.clone());
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, list)) => list.push(v),
            None => groups.push((k, vec![v])),
        }
    }
    let mut out = Vec::new();
    for ((url, mi, key), list) in groups {
        let first = list[0];
        let info = if first.audit_id == "categories" {
            &CATEGORY
        } else {
            &AUDIT
        };
        let target = format!("{url} {key}");
        let runs = runs_by_url.get(&url).copied().unwrap_or(0);
        let failed: Vec<&&Verdict> = list.iter().filter(|v| !v.passed).collect();
        let sev = match first.level {
            Level::Error => Severity::Blocker,
            Level::Warn => Severity::Warning,
        };
        let r = if failed.is_empty() {
            let msg = list
                .iter()
                .map(|v| describe(v, runs))
                .collect::<Vec<_>>()
                .join("; ");
            pass(info, &target, msg)
        } else {
            let msg = failed
                .iter()
                .map(|v| describe(v, runs))
                .collect::<Vec<_>>()
                .join("; ");
            fail(info, &target, msg).severity(sev)
        };
        let mut r = r
            .evidence("url", url.clone())
            .evidence("assertion", key.clone())
            .evidence("audit_id", first.audit_id.clone())
            .evidence("level", first.level.as_str())
            .evidence("aggregation", first.aggregation.clone())
            .evidence("runs", runs)
            .evidence(
                "results",
                Value::Array(list.iter().map(|v| verdict_json(v)).collect()),
            );
        if let Some(t) = &first.audit_title {
            r = r.evidence("title", t.clone());
        }
        if let Some(u) = &first.numeric_unit {
            r = r.evidence("unit", u.clone());
        }
        if let Some(i) = mi {
            r = r.evidence("matrix_index", i);
        }
        out.push(r);
    }
    out
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let m = (v.len() - 1) / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m] + v[m + 1]) / 2.0
    })
}

/// Per URL: `lighthouse.report` (category scores, runtime errors) and the form factor.
fn per_url(lhrs: &[Lhr], form_factor: &str) -> Vec<CheckResult> {
    let groups = lhr::group_by_url(lhrs);
    let mut out = Vec::new();
    for (url, runs) in groups {
        let mut cats: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut titles: BTreeMap<String, String> = BTreeMap::new();
        for l in &runs {
            for (id, c) in &l.categories {
                let e = cats.entry(id.clone()).or_default();
                if let Some(s) = c.score {
                    e.push(s);
                }
                if let Some(t) = &c.title {
                    titles.insert(id.clone(), t.clone());
                }
            }
        }
        let scores: serde_json::Map<String, Value> = cats
            .into_iter()
            .map(|(k, v)| (k, median(v).map(Value::from).unwrap_or(Value::Null)))
            .collect();
        let errors: Vec<String> = runs
            .iter()
            .filter_map(|l| l.runtime_error.as_ref())
            .filter(|e| e.code.as_deref() != Some("NO_ERROR"))
            .map(|e| {
                let code = e.code.clone().unwrap_or_else(|| "ERROR".into());
                match &e.message {
                    Some(m) => format!("{code}: {m}"),
                    None => code,
                }
            })
            .collect();
        let versions: Vec<String> = {
            let mut v: Vec<String> = runs
                .iter()
                .filter_map(|l| l.lighthouse_version.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let factors: Vec<String> = runs
            .iter()
            .map(|l| l.form_factor().unwrap_or("unknown").to_string())
            .collect();
        let r = if errors.is_empty() {
            pass(
                &REPORT,
                &url,
                format!(
                    "{} run{} read",
                    runs.len(),
                    if runs.len() == 1 { "" } else { "s" }
                ),
            )
        } else {
            fail(
                &REPORT,
                &url,
                format!(
                    "Lighthouse could not finish {} of {} runs: {}",
                    errors.len(),
                    runs.len(),
                    errors[0]
                ),
            )
        };
        out.push(
            r.evidence("url", url.clone())
                .evidence("runs", runs.len())
                .evidence("categories", Value::Object(scores))
                .evidence(
                    "category_titles",
                    serde_json::to_value(&titles).unwrap_or_default(),
                )
                .evidence("lighthouse_versions", versions)
                .evidence("form_factors", factors.clone())
                .evidence("runtime_errors", errors),
        );
        if form_factor != "any" {
            let wrong = factors.iter().filter(|f| *f != form_factor).count();
            let target = format!("{url} form-factor");
            let r = if wrong == 0 {
                pass(
                    &FORM_FACTOR,
                    &target,
                    format!("every run was taken on {form_factor}"),
                )
            } else {
                fail(
                    &FORM_FACTOR,
                    &target,
                    format!(
                        "{wrong} of {} runs were not taken on {form_factor} ({}): the report does not show what {form_factor} buyers see",
                        runs.len(),
                        factors.join(", ")
                    ),
                )
            };
            out.push(
                r.evidence("form_factors", factors)
                    .evidence("expected", form_factor),
            );
        }
    }
    out
}

/// Judges already loaded reports with a policy section (or the defaults).
pub fn judge(p: &LighthousePolicy, base_dir: &Path, lhrs: &[Lhr]) -> Vec<CheckResult> {
    let form_factor = p
        .form_factor
        .as_ref()
        .map(|f| f.0.as_str())
        .unwrap_or("mobile");
    let mut out = per_url(lhrs, form_factor);
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for l in lhrs {
        *runs.entry(l.url()).or_default() += 1;
    }
    match options(p, base_dir).and_then(|o| assert::assert_all(&o, lhrs)) {
        Ok(v) => out.extend(results_of(&v, &runs)),
        Err(e) => out.push(error(
            &AUDIT,
            "assertions",
            format!("cannot apply the assertions: {e}"),
        )),
    }
    out
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let Some(p) = ctx.loaded.policy.lighthouse.clone() else {
        return Vec::new();
    };
    let base = ctx.loaded.base_dir.clone();
    let mut out = Vec::new();
    let mut patterns: Vec<String> = p.reports.iter().map(|t| t.0.clone()).collect();
    if patterns.is_empty() && p.urls.is_empty() {
        // Where `lhci collect` writes, as `lhci assert` reads by default.
        patterns.push(DEFAULT_REPORTS.into());
    }
    let mut files = expand_reports(&patterns, &base);
    let mut tmp: Option<PathBuf> = None;
    if !p.urls.is_empty() {
        match run::available() {
            Ok(bin) => {
                let urls: Vec<String> = p.urls.iter().map(|u| u.as_str().to_string()).collect();
                let (dir, produced, mut errs) = run::collect(&bin, &urls).await;
                files.extend(produced);
                out.append(&mut errs);
                tmp = Some(dir);
            }
            Err(why) => out.push(result(
                &REPORT,
                "lighthouse.urls",
                Status::Skipped,
                format!("Lighthouse was not run on `lighthouse.urls`: {why}"),
            )),
        }
    }
    let mut lhrs = Vec::new();
    for f in &files {
        match lhr::load(f) {
            Ok(l) => lhrs.push(l),
            Err(e) => out.push(
                error(
                    &REPORT,
                    &f.display().to_string(),
                    format!("{}: {e}", f.display()),
                )
                .severity(Severity::Blocker),
            ),
        }
    }
    if let Some(d) = tmp {
        let _ = std::fs::remove_dir_all(d);
    }
    if lhrs.is_empty() {
        let what = if patterns.is_empty() {
            "no `lighthouse.reports` given".to_string()
        } else {
            format!("nothing matches {}", patterns.join(", "))
        };
        out.push(
            error(
                &REPORT,
                "lighthouse.reports",
                format!("no Lighthouse report to judge: {what}"),
            )
            .severity(Severity::Blocker),
        );
        return out;
    }
    out.extend(judge(&p, &base, &lhrs));
    out
}
