//! Lighthouse CI 0.14 `assert` semantics, ported from reading LHCI's
//! packages/utils/src/assertions.js: presets deep-merged under the options, keys
//! kebab-cased and split on `.`/`:`, levels, `minScore`/`maxNumericValue`/`maxLength`,
//! the 0.9 default `minScore`, aggregation (optimistic, pessimistic, median,
//! median-run), `auditRan` failures for missing audits, `assertMatrix`, budgets.
//! Options are kept as JSON so the merge behaves exactly as LHCI's.

use serde_json::{json, Map, Value};

use super::lhr::{self, Audit, Lhr};
use super::presets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One assertion result, as LHCI's `assertion-results.json` has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub url: String,
    pub audit_id: String,
    pub audit_property: Option<String>,
    pub level: Level,
    /// `auditRan`, `minScore`, `maxLength` or `maxNumericValue`.
    pub name: &'static str,
    pub operator: &'static str,
    pub expected: f64,
    /// `None` where LHCI has NaN (no value).
    pub actual: Option<f64>,
    pub values: Vec<Option<f64>>,
    pub passed: bool,
    pub message: Option<String>,
    /// The (kebab-cased) assertion key, e.g. `categories:performance`.
    pub key: String,
    /// Which `assertMatrix` entry produced it.
    pub matrix_index: Option<usize>,
    pub aggregation: String,
    pub audit_title: Option<String>,
    pub numeric_unit: Option<String>,
}

/// The `lighthouse:*` preset as LHCI's data: `{"assertions": {...}}`.
pub fn preset(name: &str) -> Option<Value> {
    let name = name.strip_prefix("lighthouse:")?;
    let mut a = Map::new();
    for (id, level) in presets::ALL {
        a.insert(id.to_string(), json!([level, {}]));
    }
    if name == "all" {
        return Some(json!({ "assertions": a }));
    }
    if name != "recommended" && name != "no-pwa" {
        return None;
    }
    for (id, level, opts) in presets::RECOMMENDED {
        let o: Value = serde_json::from_str(opts).unwrap_or_else(|_| json!({}));
        a.insert(id.to_string(), json!([level, o]));
    }
    if name == "no-pwa" {
        a.insert("is-on-https".into(), json!("off"));
        a.insert("viewport".into(), json!("off"));
    }
    Some(json!({ "assertions": a }))
}

/// LHCI's lodash-like deep merge: arrays merge element-wise, objects key-wise, anything
/// else is replaced by the right-hand side.
pub fn merge(v1: Value, v2: Value) -> Value {
    match (v1, v2) {
        (Value::Array(mut a), Value::Array(b)) => {
            let n = a.len().max(b.len());
            let mut out = Vec::with_capacity(n);
            let mut bi = b.into_iter();
            let mut ai = std::mem::take(&mut a).into_iter();
            for _ in 0..n {
                match (ai.next(), bi.next()) {
                    (Some(x), Some(y)) => out.push(merge(x, y)),
                    (Some(x), None) => out.push(x),
                    (None, Some(y)) => out.push(merge(Value::Null, y)),
                    (None, None) => {}
                }
            }
            Value::Array(out)
        }
        (Value::Array(_), v2) => v2,
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let old = a.remove(&k).unwrap_or(Value::Null);
                a.insert(k, merge(old, v));
            }
            Value::Object(a)
        }
        (Value::Object(_), v2) => v2,
        (_, v2) => v2,
    }
}

/// camelCase → kebab-case, as LHCI's `kebabCase` (only a lower-upper pair is split).
pub fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        if let Some(p) = prev {
            if p.is_ascii_lowercase() && c.is_ascii_uppercase() {
                out.push('-');
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out.to_lowercase()
}

fn kebab_alnum(s: &str) -> String {
    let k = kebab(s);
    let mut out = String::new();
    for c in k.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The parts of a key: `categories:performance` → (`categories`, [`performance`]).
pub fn split_key(key: &str) -> (String, Vec<String>) {
    let mut parts = key
        .split(['.', ':'])
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let id = parts.next().unwrap_or_default();
    (id, parts.collect())
}

/// `(level, options)` of an assertion value; `None` when off.
/// An assertion that is on: its level and options.
type On = (Level, Map<String, Value>);

fn normalize(v: Option<&Value>) -> Result<Option<On>, String> {
    let (level, opts) = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => (s.as_str(), Map::new()),
        Some(Value::Array(a)) => {
            let l = a.first().and_then(Value::as_str).ok_or_else(|| {
                "an assertion is `level` or `[level, {options}]` with level off, warn or error"
                    .to_string()
            })?;
            let o = match a.get(1) {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(o)) => o.clone(),
                Some(other) => return Err(format!("assertion options must be a map, not {other}")),
            };
            (l, o)
        }
        Some(Value::Bool(false)) => return Ok(None),
        Some(other) => {
            return Err(format!(
                "an assertion is `level` or `[level, {{options}}]`, not {other}"
            ))
        }
    };
    let level = match level {
        "off" => return Ok(None),
        "warn" => Level::Warn,
        "error" => Level::Error,
        other => {
            return Err(format!(
                "unknown assertion level `{other}` (use off, warn or error)"
            ))
        }
    };
    for (k, v) in &opts {
        match k.as_str() {
            "minScore" | "maxNumericValue" | "maxLength" => {
                if !v.is_number() {
                    return Err(format!("`{k}` must be a number, not {v}"));
                }
            }
            "aggregationMethod" => check_aggregation(v)?,
            other => {
                return Err(format!(
                    "unknown assertion option `{other}` (minScore, maxNumericValue, maxLength, aggregationMethod)"
                ))
            }
        }
    }
    Ok(Some((level, opts)))
}

pub const AGGREGATIONS: &[&str] = &["optimistic", "pessimistic", "median", "median-run"];

fn check_aggregation(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if AGGREGATIONS.contains(&s) => Ok(()),
        _ => Err(format!(
            "aggregationMethod is one of {}, not {v}",
            AGGREGATIONS.join(", ")
        )),
    }
}

/// What an assertion reads of one run: an audit, or a pseudo-audit (category score,
/// resource-summary row, user timing).
#[derive(Debug, Clone, Default)]
struct Probe {
    score: Option<f64>,
    mode: Option<String>,
    numeric: Option<f64>,
    items_len: usize,
    /// A present but non-finite numeric value (LHCI: "failed to produce a valid value").
    numeric_present: bool,
}

impl Probe {
    fn of(a: &Audit) -> Probe {
        Probe {
            score: a.score,
            mode: a.score_display_mode.clone(),
            numeric: a.numeric_value,
            items_len: a.items().map(Vec::len).unwrap_or(0),
            numeric_present: false,
        }
    }
}

/// A value getter's answer: a number, a present non-number, or nothing at all.
#[derive(Debug, Clone, Copy)]
enum Got {
    Num(f64),
    Invalid,
    Undefined,
}

fn get(p: &Probe, name: &str) -> Got {
    match name {
        "minScore" => match (p.score, p.mode.as_deref()) {
            (Some(s), _) => Got::Num(s),
            (None, Some("notApplicable")) => Got::Num(1.0),
            (None, Some("informative")) => Got::Num(0.0),
            _ => Got::Undefined,
        },
        "maxLength" => Got::Num(p.items_len as f64),
        _ => match p.numeric {
            Some(n) => Got::Num(n),
            None if p.numeric_present => Got::Invalid,
            None => Got::Undefined,
        },
    }
}

fn operator(name: &str) -> &'static str {
    match name {
        "minScore" => ">=",
        "auditRan" => "==",
        _ => "<=",
    }
}

fn passes(name: &str, actual: f64, expected: f64) -> bool {
    match name {
        "minScore" => actual >= expected,
        _ => actual <= expected,
    }
}

fn aggregate(values: &[f64], method: &str, name: &str) -> f64 {
    if method == "median" {
        let mut s = values.to_vec();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let mid = (s.len() - 1) / 2;
        if s.len() % 2 == 1 {
            return s[mid];
        }
        return (s[mid] + s[mid + 1]) / 2.0;
    }
    let use_min = (method == "optimistic" && name.starts_with("max"))
        || (method == "pessimistic" && name.starts_with("min"));
    if use_min {
        values.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// A verdict without url/level/key, as LHCI's `AssertionResultNoURL`.
#[derive(Debug, Clone)]
struct Partial {
    name: &'static str,
    expected: f64,
    actual: Option<f64>,
    values: Vec<Option<f64>>,
    passed: bool,
    message: Option<String>,
    property: Option<String>,
}

fn assertion_result(probes: &[Probe], method: &str, name: &'static str, expected: f64) -> Partial {
    let got: Vec<Got> = probes.iter().map(|p| get(p, name)).collect();
    let finite: Vec<f64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Num(n) if n.is_finite() => Some(*n),
            _ => None,
        })
        .collect();
    let pessimistic = method == "pessimistic";
    if (finite.is_empty() && !pessimistic) || (finite.len() != got.len() && pessimistic) {
        let message = if got.iter().any(|g| matches!(g, Got::Undefined)) {
            format!("Audit did not produce a value at all. \"{name}\" might not be a valid assertion for this audit.")
        } else if pessimistic {
            "Audit failed to produce a valid value. Try using an aggregationMethod other than \"pessimistic\".".to_string()
        } else {
            "Audit failed to produce a valid value. If this is reproducible, please file an issue on GitHub.".to_string()
        };
        return Partial {
            name,
            expected,
            actual: None,
            values: got
                .iter()
                .map(|g| match g {
                    Got::Num(n) if n.is_finite() => Some(*n),
                    _ => None,
                })
                .collect(),
            passed: false,
            message: Some(message),
            property: None,
        };
    }
    let actual = aggregate(&finite, method, name);
    Partial {
        name,
        expected,
        actual: Some(actual),
        values: finite.into_iter().map(Some).collect(),
        passed: passes(name, actual, expected),
        message: None,
        property: None,
    }
}

fn num(o: &Map<String, Value>, k: &str) -> Option<f64> {
    o.get(k).and_then(Value::as_f64)
}

fn standard(
    probes: &[Option<Probe>],
    opts: &Map<String, Value>,
    audit_id: Option<&str>,
) -> Vec<Partial> {
    let method = opts
        .get("aggregationMethod")
        .and_then(Value::as_str)
        .unwrap_or("optimistic");
    if probes.iter().any(Option::is_none) {
        let message = audit_id
            .filter(|id| !presets::ALL.iter().any(|(k, _)| k == id))
            .map(|id| format!("\"{id}\" is not a known audit."));
        return vec![Partial {
            name: "auditRan",
            expected: 1.0,
            actual: Some(0.0),
            values: probes
                .iter()
                .map(|p| Some(if p.is_some() { 1.0 } else { 0.0 }))
                .collect(),
            passed: false,
            message,
            property: None,
        }];
    }
    let probes: Vec<Probe> = probes.iter().flatten().cloned().collect();
    let mut out = Vec::new();
    let mut manual = false;
    if let Some(m) = num(opts, "maxLength") {
        manual = true;
        out.push(assertion_result(&probes, method, "maxLength", m));
    }
    if let Some(m) = num(opts, "maxNumericValue") {
        manual = true;
        out.push(assertion_result(&probes, method, "maxNumericValue", m));
    }
    let min = num(opts, "minScore").or(if manual { None } else { Some(0.9) });
    if let Some(m) = min {
        out.push(assertion_result(&probes, method, "minScore", m));
    }
    out
}

fn budget_results(audits: &[Option<&Audit>]) -> Vec<Partial> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let row = |key: String, actual: f64, expected: f64| {
        let p = Probe {
            score: Some(0.0),
            numeric: Some(actual),
            ..Probe::default()
        };
        let mut r = assertion_result(&[p], "pessimistic", "maxNumericValue", expected);
        r.property = Some(key);
        r
    };
    for a in audits.iter().flatten() {
        let Some(items) = a.items() else { continue };
        for it in items {
            let rt = it
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("undefined");
            let over = it
                .get("sizeOverBudget")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let size_key = format!("{rt}.size");
            if over != 0.0 && !seen.contains(&size_key) {
                let actual = it
                    .get("size")
                    .and_then(Value::as_f64)
                    .filter(|v| *v != 0.0)
                    .or_else(|| it.get("transferSize").and_then(Value::as_f64))
                    .unwrap_or(f64::NAN);
                out.push(row(size_key.clone(), actual, actual - over));
                seen.insert(size_key);
            }
            let count_key = format!("{rt}.count");
            if let Some(c) = it.get("countOverBudget").and_then(Value::as_str) {
                if !c.is_empty() && !seen.contains(&count_key) {
                    let digits: String = c
                        .chars()
                        .skip_while(|ch| !ch.is_ascii_digit())
                        .take_while(|ch| ch.is_ascii_digit())
                        .collect();
                    if digits.is_empty() {
                        continue;
                    }
                    let over: f64 = digits.parse().unwrap_or(0.0);
                    let actual = it
                        .get("requestCount")
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::NAN);
                    out.push(row(count_key.clone(), actual, actual - over));
                    seen.insert(count_key);
                }
            }
        }
    }
    out
}

/// The run LHCI calls representative: nearest the median FCP and interactive.
fn median_run<'a>(lhrs: &[&'a Lhr]) -> Option<&'a Lhr> {
    let val = |l: &Lhr, id: &str| {
        l.audits
            .get(id)
            .and_then(|a| a.numeric_value)
            .filter(|v| *v != 0.0)
            .unwrap_or(0.0)
    };
    if lhrs.is_empty() {
        return None;
    }
    let median_of = |id: &str| {
        let mut s: Vec<&Lhr> = lhrs.to_vec();
        s.sort_by(|a, b| {
            (val(a, id) - val(b, id))
                .partial_cmp(&0.0)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        val(s[s.len() / 2], id)
    };
    let fcp = median_of("first-contentful-paint");
    let tti = median_of("interactive");
    let dist = |l: &Lhr| {
        let a = fcp - val(l, "first-contentful-paint");
        let b = tti - val(l, "interactive");
        a * a + b * b
    };
    let mut s: Vec<&Lhr> = lhrs.to_vec();
    s.sort_by(|a, b| {
        (dist(a) - dist(b))
            .partial_cmp(&0.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    s.first().copied()
}

fn for_audit(
    audit_id: &str,
    prop: &[String],
    audits: &[Option<&Audit>],
    opts: &Map<String, Value>,
    lhrs: &[&Lhr],
) -> Result<Vec<Partial>, String> {
    if audit_id == "performance-budget" {
        return Ok(budget_results(audits));
    }
    if audit_id == "categories" && !prop.is_empty() {
        if prop.len() != 1 {
            return Err(format!(
                "invalid category assertion `categories:{}`",
                prop.join(":")
            ));
        }
        let probes: Vec<Option<Probe>> = lhrs
            .iter()
            .map(|l| {
                l.categories.get(&prop[0]).map(|c| Probe {
                    score: c.score,
                    ..Probe::default()
                })
            })
            .collect();
        let mut r = standard(&probes, opts, None);
        for p in &mut r {
            p.property = Some(prop[0].clone());
        }
        return Ok(r);
    }
    if audit_id == "resource-summary" && !prop.is_empty() {
        if prop.len() != 2 || !(prop[1] == "size" || prop[1] == "count") {
            return Err(format!(
                "invalid resource-summary assertion `resource-summary:{}` (use resource-summary:TYPE:size or :count)",
                prop.join(":")
            ));
        }
        let probes: Vec<Option<Probe>> = audits
            .iter()
            .map(|a| {
                let a = (*a)?;
                let item = a
                    .items()?
                    .iter()
                    .find(|i| i.get("resourceType").and_then(Value::as_str) == Some(&prop[0]))?;
                let (primary, backup) = if prop[1] == "size" {
                    ("size", "transferSize")
                } else {
                    ("requestCount", "")
                };
                let key = if item.get(primary).is_some() {
                    primary
                } else {
                    backup
                };
                let v = item.get(key)?;
                let mut p = Probe::of(a);
                p.numeric = v.as_f64().filter(|f| f.is_finite());
                p.numeric_present = true;
                Some(p)
            })
            .collect();
        let mut r = standard(&probes, opts, None);
        for p in &mut r {
            p.property = Some(prop.join("."));
        }
        return Ok(r);
    }
    if audit_id == "user-timings" && !prop.is_empty() {
        let name = kebab_alnum(&prop.join("-"));
        let probes: Vec<Option<Probe>> = audits
            .iter()
            .map(|a| {
                let a = (*a)?;
                let item = a.items()?.iter().find(|i| {
                    i.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| kebab_alnum(n) == name)
                })?;
                let mut p = Probe::of(a);
                p.numeric = item
                    .get("duration")
                    .and_then(Value::as_f64)
                    .filter(|f| f.is_finite())
                    .or_else(|| item.get("startTime").and_then(Value::as_f64));
                p.numeric_present = true;
                Some(p)
            })
            .collect();
        let mut r = standard(&probes, opts, None);
        for p in &mut r {
            p.property = Some(name.clone());
        }
        return Ok(r);
    }
    let probes: Vec<Option<Probe>> = audits.iter().map(|a| a.map(Probe::of)).collect();
    Ok(standard(&probes, opts, Some(audit_id)))
}

/// Resolves a preset under the options, as LHCI's `resolveAssertionOptionsAndLhrs`.
pub fn resolve(base: &Value) -> Result<Map<String, Value>, String> {
    let mut o = base.as_object().cloned().unwrap_or_default();
    let preset_name = o.remove("preset");
    let mut merged = Value::Object(o);
    if let Some(p) = preset_name {
        let name = p.as_str().unwrap_or_default();
        if !name.is_empty() {
            let data = preset(name).ok_or_else(|| {
                format!("unknown preset `{name}` (lighthouse:all, lighthouse:recommended, lighthouse:no-pwa)")
            })?;
            merged = merge(data, merged);
        }
    }
    Ok(merged.as_object().cloned().unwrap_or_default())
}

/// Checks an options object without reports: presets, levels, options, keys, patterns.
pub fn validate(options: &Value) -> Result<(), String> {
    for (i, base) in matrix(options)?.iter().enumerate() {
        let at = |e: String| {
            if options.get("assertMatrix").is_some() {
                format!("assertMatrix[{i}]: {e}")
            } else {
                e
            }
        };
        let o = resolve(base).map_err(at)?;
        if let Some(p) = o.get("matchingUrlPattern") {
            let s = p
                .as_str()
                .ok_or_else(|| at("matchingUrlPattern must be a string".into()))?;
            regex::Regex::new(s).map_err(|e| at(format!("matchingUrlPattern `{s}`: {e}")))?;
        }
        if let Some(m) = o.get("aggregationMethod") {
            check_aggregation(m).map_err(at)?;
        }
        let Some(a) = o.get("assertions") else {
            continue;
        };
        let a = a
            .as_object()
            .ok_or_else(|| at("assertions must be a map".into()))?;
        for (key, v) in a {
            normalize(Some(v)).map_err(|e| at(format!("`{key}`: {e}")))?;
            let (id, prop) = split_key(&kebab(key));
            let bad = match id.as_str() {
                "categories" => prop.len() > 1,
                "resource-summary" => {
                    !prop.is_empty()
                        && (prop.len() != 2 || !(prop[1] == "size" || prop[1] == "count"))
                }
                "" => true,
                _ => false,
            };
            if bad {
                return Err(at(format!("`{key}` is not a valid assertion key")));
            }
        }
    }
    Ok(())
}

fn matrix(options: &Value) -> Result<Vec<Value>, String> {
    match options.get("assertMatrix") {
        None | Some(Value::Null) => Ok(vec![options.clone()]),
        Some(Value::Array(m)) => {
            for k in ["assertions", "preset", "budgetsFile", "aggregationMethod"] {
                if options.get(k).is_some_and(|v| !v.is_null()) {
                    return Err(format!(
                        "assertMatrix cannot be combined with `{k}` (as in Lighthouse CI): put it inside each matrix entry"
                    ));
                }
            }
            Ok(m.clone())
        }
        Some(_) => Err("assertMatrix must be a list".into()),
    }
}

/// Every assertion result over `lhrs` (passes included), grouped by URL as LHCI does.
pub fn assert_all(options: &Value, lhrs: &[Lhr]) -> Result<Vec<Verdict>, String> {
    let bases = matrix(options)?;
    let in_matrix = options.get("assertMatrix").is_some();
    let groups = lhr::group_by_url(lhrs);
    let mut out = Vec::new();
    for (url, group) in &groups {
        for (mi, base) in bases.iter().enumerate() {
            let o = resolve(base)?;
            let runs: Vec<&Lhr> = match o.get("matchingUrlPattern").and_then(Value::as_str) {
                Some(p) => {
                    let re = regex::Regex::new(p)
                        .map_err(|e| format!("matchingUrlPattern `{p}`: {e}"))?;
                    group
                        .iter()
                        .copied()
                        .filter(|l| re.is_match(&l.url()))
                        .collect()
                }
                None => group.clone(),
            };
            if runs.is_empty() {
                continue;
            }
            let top_agg = o.get("aggregationMethod").cloned();
            let empty = Map::new();
            let assertions = o
                .get("assertions")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let mut keys: Vec<String> = Vec::new();
            for k in assertions.keys() {
                let kk = kebab(k);
                if !keys.contains(&kk) {
                    keys.push(kk);
                }
            }
            let median = median_run(&runs);
            for key in keys {
                let (audit_id, prop) = split_key(&key);
                // LHCI looks the kebab-cased key up again: a camelCase key is off.
                let Some((level, mut aopts)) = normalize(assertions.get(&key))? else {
                    continue;
                };
                if !aopts.contains_key("aggregationMethod") {
                    if let Some(a) = &top_agg {
                        aopts.insert("aggregationMethod".into(), a.clone());
                    }
                }
                let method = aopts
                    .get("aggregationMethod")
                    .and_then(Value::as_str)
                    .unwrap_or("optimistic")
                    .to_string();
                let use_runs: Vec<&Lhr> = if method == "median-run" {
                    median.into_iter().collect()
                } else {
                    runs.clone()
                };
                let audits: Vec<Option<&Audit>> =
                    use_runs.iter().map(|l| l.audits.get(&audit_id)).collect();
                let instances: Vec<&Audit> = runs
                    .iter()
                    .filter_map(|l| l.audits.get(&audit_id))
                    .collect();
                let shown = instances
                    .iter()
                    .find(|a| a.score != Some(1.0))
                    .or(instances.first());
                let title = shown.and_then(|a| a.title.clone()).or_else(|| {
                    (audit_id == "categories")
                        .then(|| prop.first())
                        .flatten()
                        .and_then(|c| runs.iter().find_map(|l| l.categories.get(c)))
                        .and_then(|c| c.title.clone())
                });
                let unit = shown.and_then(|a| a.numeric_unit.clone());
                for p in for_audit(&audit_id, &prop, &audits, &aopts, &runs)? {
                    out.push(Verdict {
                        url: url.clone(),
                        audit_id: audit_id.clone(),
                        audit_property: p.property,
                        level,
                        name: p.name,
                        operator: operator(p.name),
                        expected: p.expected,
                        actual: p.actual,
                        values: p.values,
                        passed: p.passed,
                        message: p.message,
                        key: key.clone(),
                        matrix_index: in_matrix.then_some(mi),
                        aggregation: method.clone(),
                        audit_title: title.clone(),
                        numeric_unit: unit.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A Lighthouse `budgets.json` as LHCI converts it: one `assertMatrix` entry per budget.
pub fn budgets_to_options(text: &str) -> Result<Value, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("budgets file is not JSON: {e}"))?;
    let list = v
        .as_array()
        .ok_or("budgets file must be a JSON array of budgets")?;
    let mut matrix = Vec::new();
    for (i, b) in list.iter().enumerate() {
        let b = b
            .as_object()
            .ok_or_else(|| format!("budget {i} is not an object"))?;
        for k in b.keys() {
            if ![
                "path",
                "options",
                "timings",
                "resourceSizes",
                "resourceCounts",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("budget {i} has an unknown property `{k}`"));
            }
        }
        let mut a = Map::new();
        let rows = |name: &str| -> Result<Vec<(String, f64)>, String> {
            let mut out = Vec::new();
            for r in b.get(name).and_then(Value::as_array).into_iter().flatten() {
                let field = if name == "timings" {
                    "metric"
                } else {
                    "resourceType"
                };
                let id = r
                    .get(field)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("budget {i}: a {name} entry needs `{field}`"))?;
                let n = r
                    .get("budget")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| format!("budget {i}: `{id}` needs a numeric `budget`"))?;
                out.push((id.to_string(), n));
            }
            Ok(out)
        };
        for (m, n) in rows("timings")? {
            a.insert(m, json!(["error", { "maxNumericValue": n }]));
        }
        for (t, n) in rows("resourceCounts")? {
            a.insert(
                format!("resource-summary:{t}:count"),
                json!(["error", { "maxNumericValue": n }]),
            );
        }
        for (t, n) in rows("resourceSizes")? {
            a.insert(
                format!("resource-summary:{t}:size"),
                json!(["error", { "maxNumericValue": n * 1024.0 }]),
            );
        }
        let path = b.get("path").and_then(Value::as_str);
        matrix.push(json!({ "matchingUrlPattern": path_regex(path), "assertions": a }));
    }
    Ok(json!({ "assertMatrix": matrix }))
}

/// A budget `path` (`/blog/*`) as the URL regex LHCI builds from it.
fn path_regex(path: Option<&str>) -> String {
    let Some(p) = path.filter(|p| !p.is_empty() && *p != "/") else {
        return ".*".into();
    };
    let escaped: Vec<String> = p
        .split('*')
        .map(|part| {
            let mut s = String::new();
            for c in part.chars() {
                if "-[]{}()*+?.,\\^|#".contains(c) {
                    s.push('\\');
                    s.push(c);
                } else if c.is_whitespace() {
                    s.push_str(&regex::escape(&c.to_string()));
                } else {
                    s.push(c);
                }
            }
            s
        })
        .collect();
    format!("https?://[^/]+{}", escaped.join(".*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_and_split_like_lhci() {
        assert_eq!(kebab("firstContentfulPaint"), "first-contentful-paint");
        assert_eq!(kebab("categories:performance"), "categories:performance");
        assert_eq!(kebab("aBC"), "a-bc");
        assert_eq!(
            split_key("resource-summary:script:size"),
            (
                "resource-summary".into(),
                vec!["script".into(), "size".into()]
            )
        );
        assert_eq!(split_key("categories.seo").1, vec!["seo".to_string()]);
        assert_eq!(kebab_alnum("My Mark: start"), "my-mark-start");
    }

    #[test]
    fn merge_is_element_wise() {
        let a = json!({"assertions": {"x": ["error", {"maxLength": 0}], "y": "off"}});
        let b = json!({"assertions": {"x": ["warn", {"minScore": 0.5}], "y": ["error", {}]}});
        assert_eq!(
            merge(a, b),
            json!({"assertions": {"x": ["warn", {"maxLength": 0, "minScore": 0.5}], "y": ["error", {}]}})
        );
    }

    #[test]
    fn aggregation_methods() {
        let v = [3.0, 1.0, 2.0, 10.0];
        assert_eq!(aggregate(&v, "median", "maxNumericValue"), 2.5);
        assert_eq!(aggregate(&v[..3], "median", "minScore"), 2.0);
        assert_eq!(aggregate(&v, "optimistic", "maxNumericValue"), 1.0);
        assert_eq!(aggregate(&v, "optimistic", "minScore"), 10.0);
        assert_eq!(aggregate(&v, "pessimistic", "maxNumericValue"), 10.0);
        assert_eq!(aggregate(&v, "pessimistic", "minScore"), 1.0);
        assert_eq!(aggregate(&v, "median-run", "minScore"), 10.0);
    }

    #[test]
    fn budget_paths() {
        assert_eq!(path_regex(Some("/blog/*")), "https?://[^/]+/blog/.*");
        assert_eq!(path_regex(Some("/a.html")), "https?://[^/]+/a\\.html");
        assert_eq!(path_regex(None), ".*");
    }
}
