//! Loading launch.yml: read, expand, deserialize with locations, merge presets,
//! collect the values that must be redacted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::model::{Loaded, Policy};
use super::vars::{self, VarSource};
use super::{merge, presets};

/// A policy error: exit 2, rendered with file, line, column, key and a hint.
#[derive(Debug, Clone)]
pub struct PolicyError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path to the key, e.g. `pages[0].expect.status`.
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The offending source line, for the rendered excerpt.
    pub source_line: Option<String>,
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    pub fn plain(path: &Path, message: impl Into<String>) -> Self {
        PolicyError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(k) = &self.key {
            write!(f, "key `{k}`: ")?;
        }
        writeln!(f, "{}", self.message)?;
        if let (Some(l), Some(src)) = (self.line, &self.source_line) {
            let gutter = l.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{l} | {src}")?;
            let col = self.column.unwrap_or(1).max(1);
            let caret_pad: String = src
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{:gutter$} | {caret_pad}^", "")?;
        }
        if let Some(h) = &self.hint {
            writeln!(f, "  = help: {h}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub set: BTreeMap<String, String>,
    /// Read `${VAR}` from the process environment (on, except in tests).
    pub use_env: bool,
}

/// Names whose values are redacted wherever they appear (SPEC §2).
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["SECRET", "TOKEN", "KEY", "PASSWORD", "PASS", "DSN"]
        .iter()
        .any(|w| n.contains(w))
}

pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, PolicyError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "policy file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "policy file is not readable (permission denied)".to_string()
            }
            _ => format!("cannot read policy file: {e}"),
        };
        let mut err = PolicyError::plain(path, what);
        if !path.exists() {
            err.hint = Some("create one with `launchgate init`, or pass `-p PATH`".into());
        }
        err
    })?;
    if bytes.contains(&0) {
        return Err(PolicyError::plain(
            path,
            "policy file is binary (contains NUL bytes), expected YAML text",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        PolicyError::plain(
            path,
            format!(
                "policy file is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    load_str(path, &text, opts)
}

pub fn load_str(path: &Path, text: &str, opts: &LoadOptions) -> Result<Loaded, PolicyError> {
    if text.trim().is_empty() {
        let mut e = PolicyError::plain(path, "policy file is empty");
        e.hint = Some("a policy starts with `version: 1`".into());
        return Err(e);
    }
    let src_vars = read_vars(path, text, opts)?;
    let source = VarSource {
        set: opts.set.clone(),
        vars: src_vars,
        use_env: opts.use_env,
    };
    let policy: Policy = vars::with_source(source.clone(), || parse_policy(path, text))?;
    if policy.version.0 != 1 {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with("version"))
            .map(|i| i + 1);
        return Err(located(
            path,
            text,
            line,
            Some(1),
            Some("version".into()),
            format!(
                "unsupported policy version {} (this launchgate reads version 1)",
                policy.version.0
            ),
            None,
        ));
    }
    let mut policy = policy;
    for (i, name) in policy.extends.clone().iter().enumerate() {
        let preset = presets::get(name).ok_or_else(|| {
            let line = find_line(text, name.as_str());
            let hint = did_you_mean(name.as_str(), presets::NAMES)
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("available presets: {}", presets::NAMES.join(", "))));
            located(
                path,
                text,
                line,
                None,
                Some(format!("extends[{i}]")),
                format!("unknown preset `{name}`"),
                hint,
            )
        })?;
        let base: Policy = parse_policy(Path::new(&format!("checks/presets/{name}.yml")), preset)?;
        policy = merge::merge(base, policy);
    }

    let base_dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let secrets = collect_secrets(&policy, &source);
    Ok(Loaded {
        policy,
        path: path.to_path_buf(),
        base_dir,
        source: text.to_string(),
        secrets,
    })
}

/// Reads the `vars:` section first (file order), so `${name}` works everywhere.
fn read_vars(
    path: &Path,
    text: &str,
    opts: &LoadOptions,
) -> Result<BTreeMap<String, String>, PolicyError> {
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, text, e))?;
    let map = match &value {
        serde_yaml_ng::Value::Mapping(m) => m,
        _ => {
            return Err(located(
                path,
                text,
                Some(1),
                Some(1),
                None,
                "a policy must be a YAML mapping (`version: 1`, `pages: ...`)".into(),
                None,
            ))
        }
    };
    let mut out = BTreeMap::new();
    let Some(vars_val) = map.get("vars") else {
        return Ok(out);
    };
    let Some(vars_map) = vars_val.as_mapping() else {
        return Ok(out); // the typed pass reports the type error with its location
    };
    for (k, v) in vars_map {
        let (Some(k), Some(raw)) = (k.as_str(), scalar_text(v)) else {
            continue;
        };
        let src = VarSource {
            set: opts.set.clone(),
            vars: out.clone(),
            use_env: opts.use_env,
        };
        let expanded = vars::expand(&raw, &src).map_err(|m| {
            located(
                path,
                text,
                find_line(text, &format!("{k}:")),
                None,
                Some(format!("vars.{k}")),
                m,
                None,
            )
        })?;
        out.insert(k.to_string(), expanded);
    }
    Ok(out)
}

fn scalar_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_policy(path: &Path, text: &str) -> Result<Policy, PolicyError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Policy>(de) {
        Ok(p) => Ok(p),
        Err(e) => {
            let key = e.path().to_string();
            let key = (key != "." && !key.is_empty()).then_some(key);
            let inner = e.into_inner();
            let mut err = yaml_error(path, text, inner);
            err.key = key;
            Err(err)
        }
    }
}

fn yaml_error(path: &Path, text: &str, e: serde_yaml_ng::Error) -> PolicyError {
    let (line, column) = match e.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    let mut msg = e.to_string();
    // The location is rendered separately; drop serde_yaml's own suffix and path prefix.
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    let msg = strip_path_prefix(&msg);
    let hint = hint_for(&msg);
    located(path, text, line, column, None, msg, hint)
}

/// serde_yaml prefixes messages with the path (`pages[0].url: ...`); we show the key ourselves.
fn strip_path_prefix(msg: &str) -> String {
    if let Some((head, rest)) = msg.split_once(": ") {
        let looks_like_path = !head.contains(' ') && !head.is_empty() && !head.contains('`');
        if looks_like_path {
            return rest.to_string();
        }
    }
    msg.to_string()
}

fn hint_for(msg: &str) -> Option<String> {
    // "unknown field `timout`, expected one of `timeout`, `retries`"
    for prefix in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let (bad, tail) = rest.split_once('`')?;
            let candidates: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            if let Some(best) = did_you_mean(bad, &candidates) {
                return Some(format!("did you mean `{best}`?"));
            }
            if !candidates.is_empty() && prefix.contains("variant") {
                return Some(format!("expected one of: {}", candidates.join(", ")));
            }
        }
    }
    None
}

pub fn did_you_mean<'a>(bad: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let bad_l = bad.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (levenshtein(&bad_l, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

fn located(
    path: &Path,
    text: &str,
    line: Option<usize>,
    column: Option<usize>,
    key: Option<String>,
    message: String,
    hint: Option<String>,
) -> PolicyError {
    let source_line = line.and_then(|l| text.lines().nth(l.saturating_sub(1)).map(str::to_string));
    PolicyError {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
        hint,
        source_line,
    }
}

fn collect_secrets(policy: &Policy, src: &VarSource) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, v) in std::env::vars() {
        if is_secret_name(&k) && src.use_env {
            out.push(v);
        }
    }
    for (k, v) in src.set.iter().chain(src.vars.iter()) {
        if is_secret_name(k) {
            out.push(v.clone());
        }
    }
    for name in &policy.secret_vars {
        if let Some(v) = src.lookup(name.as_str()) {
            out.push(v);
        }
    }
    // An incoming-webhook URL is a credential: anyone holding it can post to the channel.
    if let Some(n) = policy.report.as_ref().and_then(|r| r.notify.as_ref()) {
        out.push(n.webhook.0.clone());
    }
    // The GitHub token is never shown, whatever it is called.
    for k in [
        "GITHUB_TOKEN",
        "INPUT_GITHUB-TOKEN",
        "INPUT_GITHUB_TOKEN",
        "GH_TOKEN",
    ] {
        if let Ok(v) = std::env::var(k) {
            out.push(v);
        }
    }
    out.retain(|v| v.len() >= crate::redact::MIN_SECRET_LEN);
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_t(text: &str) -> Result<Loaded, PolicyError> {
        load_str(Path::new("launch.yml"), text, &LoadOptions::default())
    }

    #[test]
    fn unknown_key_has_location_and_hint() {
        let e = load_t("version: 1\ndefaults:\n  timout: 5s\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `timeout`?"), "{e}");
        assert!(e.key.as_deref().unwrap_or("").contains("defaults"), "{e:?}");
    }

    #[test]
    fn bad_duration_is_located() {
        let e = load_t("version: 1\ndefaults:\n  timeout: 10 parsecs\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("parsecs"), "{e}");
    }

    #[test]
    fn missing_variable_names_it() {
        let e = load_t("version: 1\npages:\n  - url: ${SITE_XYZ}/\n").unwrap_err();
        assert!(e.message.contains("SITE_XYZ"), "{e}");
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn vars_and_set_expand() {
        let mut o = LoadOptions::default();
        o.set.insert("HOST".into(), "x.test".into());
        let l = load_str(
            Path::new("launch.yml"),
            "version: 1\nvars:\n  site: https://${HOST}\npages:\n  - url: ${site}/a\n",
            &o,
        )
        .unwrap();
        assert_eq!(l.policy.pages[0].url.as_str(), "https://x.test/a");
    }

    #[test]
    fn broken_yaml() {
        let e = load_t("version: 1\npages: [\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn wrong_version() {
        let e = load_t("version: 2\n").unwrap_err();
        assert!(e.message.contains("version 2"), "{e}");
    }

    #[test]
    fn extends_recommended_merges_defaults() {
        let l = load_t("version: 1\nextends: [recommended]\npages:\n  - url: https://a.test/\n")
            .unwrap();
        assert!(l.policy.tls.is_some());
        assert!(l.policy.headers.is_some());
        let e = load_t("version: 1\nextends: [recomended]\n").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `recommended`?"));
    }

    #[test]
    fn did_you_mean_works() {
        assert_eq!(
            did_you_mean("staus", &["status", "headers"]),
            Some("status")
        );
        assert_eq!(did_you_mean("zzzzzz", &["status", "headers"]), None);
    }
}
