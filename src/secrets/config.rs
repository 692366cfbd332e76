//! gitleaks v8 configuration: parsing, `[extend]`, validation.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::Regex;
use toml::Value;

use super::regex_port;
use super::window::{self, WindowPlan};

/// Our own rules, written from providers' public token formats.
pub const BUILTIN_TOML: &str = include_str!("../../checks/secrets.toml");

/// gitleaks caps `[extend]` chains at this depth.
const MAX_EXTEND_DEPTH: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin}: cannot read config: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: invalid TOML: {message}")]
    Toml { origin: String, message: String },
    #[error("{origin}: rule `{rule}`: {reason}")]
    Rule {
        origin: String,
        rule: String,
        reason: String,
    },
    #[error("{origin}: {reason}")]
    Other { origin: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Or,
    And,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    Secret,
    Match,
    Line,
}

#[derive(Debug, Clone)]
pub struct Allowlist {
    pub description: String,
    pub condition: Condition,
    pub commits: HashSet<String>,
    /// Path patterns joined as `(?:p1|p2|…)`, as gitleaks does.
    pub paths: Option<Regex>,
    pub regex_target: RegexTarget,
    pub regexes: Option<Regex>,
    pub stopwords: Vec<String>,
    stopword_ac: Option<AhoCorasick>,
    pub(crate) n_commits: usize,
    pub(crate) n_paths: usize,
    pub(crate) n_regexes: usize,
}

impl Allowlist {
    pub fn commit_allowed(&self, c: &str) -> bool {
        !c.is_empty() && !self.commits.is_empty() && self.commits.contains(&c.to_lowercase())
    }
    pub fn path_allowed(&self, p: &str) -> bool {
        !p.is_empty()
            && self
                .paths
                .as_ref()
                .is_some_and(|r| r.is_match(p.as_bytes()))
    }
    pub fn regex_allowed(&self, s: &[u8]) -> bool {
        !s.is_empty() && self.regexes.as_ref().is_some_and(|r| r.is_match(s))
    }
    pub fn contains_stopword(&self, s: &[u8]) -> bool {
        if s.is_empty() {
            return false;
        }
        let Some(ac) = &self.stopword_ac else {
            return false;
        };
        let lower = super::detect::go_to_lower(s);
        ac.is_match(&lower[..])
    }
    pub fn has_regexes(&self) -> bool {
        self.n_regexes > 0
    }
    pub fn has_stopwords(&self) -> bool {
        !self.stopwords.is_empty()
    }
}

/// A rule regex and its Go source. Loading compiles it once (that is what
/// validates the config, ~50 ms for 222 rules with Unicode mode's ASCII
/// classes); clones share the compiled program.
#[derive(Debug)]
pub struct LazyRegex {
    pub source: String,
    cell: OnceLock<Regex>,
}

impl Clone for LazyRegex {
    fn clone(&self) -> Self {
        let cell = OnceLock::new();
        if let Some(r) = self.cell.get() {
            let _ = cell.set(r.clone());
        }
        LazyRegex {
            source: self.source.clone(),
            cell,
        }
    }
}

impl LazyRegex {
    fn new(source: String, compiled: Regex) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(compiled);
        LazyRegex { source, cell }
    }
    pub fn get(&self) -> &Regex {
        // Only reached uncompiled if a caller built the rule by hand.
        self.cell.get_or_init(|| {
            regex_port::compile(&self.source).expect("pattern was validated at load time")
        })
    }
}

#[derive(Debug, Clone)]
pub struct Required {
    pub rule_id: String,
    pub within_lines: Option<i64>,
    pub within_columns: Option<i64>,
}

/// A rule proven safe to search in keyword windows, with its anchor variants.
#[derive(Debug)]
pub struct Window {
    pub plan: WindowPlan,
    /// Index: bit 0 = start anchors disabled, bit 1 = end anchors disabled.
    variants: [OnceLock<Regex>; 4],
}

impl Window {
    pub fn regex<'a>(&'a self, rule: &'a LazyRegex, at_start: bool, at_end: bool) -> &'a Regex {
        let kill_start = !at_start && self.plan.has_start_anchor;
        let kill_end = !at_end && self.plan.has_end_anchor;
        if !kill_start && !kill_end {
            return rule.get();
        }
        let i = kill_start as usize | (kill_end as usize) << 1;
        self.variants[i].get_or_init(|| {
            regex_port::compile_variant(&rule.source, kill_start, kill_end)
                .expect("variant of a validated pattern compiles")
        })
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub regex: Option<LazyRegex>,
    pub path: Option<Regex>,
    pub secret_group: usize,
    pub entropy: f64,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub allowlists: Vec<Allowlist>,
    pub skip_report: bool,
    pub required: Vec<Required>,
    pub window: Option<std::sync::Arc<Window>>,
}

impl Rule {
    pub fn is_generic(&self) -> bool {
        self.id.to_lowercase().contains("generic")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Rules sorted by id (gitleaks keeps them in a map; order is irrelevant
    /// to which findings come out).
    pub rules: Vec<Rule>,
    pub allowlists: Vec<Allowlist>,
    /// Where the config was loaded from (its own findings are skipped).
    pub path: Option<PathBuf>,
    pub(crate) keywords: Vec<String>,
    pub(crate) keyword_ac: Option<AhoCorasick>,
    /// For each rule, the indices into `keywords` of its keywords.
    pub(crate) rule_keywords: Vec<Vec<usize>>,
    pub(crate) has_non_ascii_keyword: bool,
}

fn get<'a>(t: &'a toml::Table, key: &str) -> Option<&'a Value> {
    t.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn get_str(t: &toml::Table, key: &str) -> String {
    match get(t, key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Integer(i)) => i.to_string(),
        Some(Value::Float(f)) => f.to_string(),
        Some(Value::Boolean(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn get_strs(t: &toml::Table, key: &str) -> Vec<String> {
    match get(t, key) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn get_bool(t: &toml::Table, key: &str) -> bool {
    match get(t, key) {
        Some(Value::Boolean(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn get_f64(t: &toml::Table, key: &str) -> f64 {
    match get(t, key) {
        Some(Value::Float(f)) => *f,
        Some(Value::Integer(i)) => *i as f64,
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn get_int(t: &toml::Table, key: &str) -> Option<i64> {
    match get(t, key) {
        Some(Value::Integer(i)) => Some(*i),
        Some(Value::Float(f)) => Some(*f as i64),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

fn tables(v: Option<&Value>) -> Vec<&toml::Table> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_table()).collect(),
        Some(Value::Table(t)) => vec![t],
        _ => Vec::new(),
    }
}

fn join_or(pats: &[String]) -> Result<Option<Regex>, String> {
    if pats.is_empty() {
        return Ok(None);
    }
    for p in pats {
        regex_port::compile(p).map_err(|e| format!("invalid regex `{p}`: {e}"))?;
    }
    let joined = format!("(?:{})", pats.join("|"));
    regex_port::compile(&joined)
        .map(Some)
        .map_err(|e| format!("invalid regex `{joined}`: {e}"))
}

fn parse_allowlist(t: &toml::Table) -> Result<Allowlist, String> {
    let cond = get_str(t, "condition");
    let condition = match cond.to_uppercase().as_str() {
        "AND" | "&&" => Condition::And,
        "" | "OR" | "||" => Condition::Or,
        _ => {
            return Err(format!(
                "unknown allowlist |condition| '{cond}' (expected 'and', 'or')"
            ))
        }
    };
    let target = get_str(t, "regexTarget");
    let regex_target = match target.as_str() {
        "" | "secret" => RegexTarget::Secret,
        "match" => RegexTarget::Match,
        "line" => RegexTarget::Line,
        _ => {
            return Err(format!(
                "unknown allowlist |regexTarget| '{target}' (expected 'match', 'line')"
            ))
        }
    };
    let commits_raw = get_strs(t, "commits");
    let paths_raw = get_strs(t, "paths");
    let regexes_raw = get_strs(t, "regexes");
    let stop_raw = get_strs(t, "stopwords");
    if commits_raw.is_empty()
        && paths_raw.is_empty()
        && regexes_raw.is_empty()
        && stop_raw.is_empty()
    {
        return Err(
            "must contain at least one check for: commits, paths, regexes, or stopwords".into(),
        );
    }
    let commits: HashSet<String> = commits_raw
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    let mut stopwords: Vec<String> = stop_raw.iter().map(|s| s.to_lowercase()).collect();
    stopwords.sort();
    stopwords.dedup();
    let stopword_ac = if stopwords.is_empty() {
        None
    } else {
        Some(
            AhoCorasick::new(&stopwords)
                .map_err(|e| format!("cannot build stopword automaton: {e}"))?,
        )
    };
    Ok(Allowlist {
        description: get_str(t, "description"),
        condition,
        n_commits: commits.len(),
        commits,
        n_paths: paths_raw.len(),
        paths: join_or(&paths_raw)?,
        regex_target,
        n_regexes: regexes_raw.len(),
        regexes: join_or(&regexes_raw)?,
        stopwords,
        stopword_ac,
    })
}

struct Parsed {
    title: String,
    description: String,
    extend_path: String,
    extend_default: bool,
    disabled: Vec<String>,
    rules: BTreeMap<String, Rule>,
    allowlists: Vec<Allowlist>,
    targeted: Vec<(String, Allowlist)>,
}

fn parse_doc(text: &str, origin: &str) -> Result<Parsed, ConfigError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Toml {
            origin: origin.to_string(),
            message: e.message().to_string(),
        })?;
    let rule_err = |rule: &str, reason: String| ConfigError::Rule {
        origin: origin.to_string(),
        rule: if rule.is_empty() {
            "<no id>".to_string()
        } else {
            rule.to_string()
        },
        reason,
    };
    let mut rules = BTreeMap::new();
    for (idx, rt) in tables(get(&doc, "rules")).into_iter().enumerate() {
        let id = get_str(rt, "id");
        let regex_src = get_str(rt, "regex");
        let path_src = get_str(rt, "path");
        let description = get_str(rt, "description");
        if id.trim().is_empty() {
            let ctx = if !regex_src.is_empty() {
                format!(", regex: {regex_src}")
            } else if !path_src.is_empty() {
                format!(", path: {path_src}")
            } else if !description.is_empty() {
                format!(", description: {description}")
            } else {
                String::new()
            };
            return Err(rule_err(
                &format!("#{}", idx + 1),
                format!("rule |id| is missing or empty{ctx}"),
            ));
        }
        let regex = if regex_src.is_empty() {
            None
        } else {
            let r = regex_port::compile(&regex_src)
                .map_err(|e| rule_err(&id, format!("invalid regex: {e}")))?;
            Some((LazyRegex::new(regex_src.clone(), r.clone()), r))
        };
        let path = if path_src.is_empty() {
            None
        } else {
            Some(
                regex_port::compile(&path_src)
                    .map_err(|e| rule_err(&id, format!("invalid path regex: {e}")))?,
            )
        };
        let secret_group = get_int(rt, "secretGroup").unwrap_or(0);
        if secret_group < 0 {
            return Err(rule_err(&id, "secretGroup must not be negative".into()));
        }
        let secret_group = secret_group as usize;
        if let Some((_, r)) = &regex {
            let n = r.captures_len() - 1;
            if secret_group > n {
                return Err(rule_err(
                    &id,
                    format!(
                        "invalid regex secret group {secret_group}, max regex secret group {n}"
                    ),
                ));
            }
        }
        let single = get(rt, "allowlist");
        let multi = get(rt, "allowlists");
        if single.is_some() && !tables(multi).is_empty() {
            return Err(rule_err(
                &id,
                "[rules.allowlist] is deprecated, it cannot be used alongside [[rules.allowlist]]"
                    .into(),
            ));
        }
        let mut allowlists = Vec::new();
        for at in tables(single).into_iter().chain(tables(multi)) {
            allowlists.push(
                parse_allowlist(at)
                    .map_err(|e| rule_err(&id, format!("[[rules.allowlists]] {e}")))?,
            );
        }
        let mut required = Vec::new();
        for rq in tables(get(rt, "required")) {
            let rid = get_str(rq, "id");
            if rid.is_empty() {
                return Err(rule_err(&id, "[[rules.required]] rule ID is empty".into()));
            }
            required.push(Required {
                rule_id: rid,
                within_lines: get_int(rq, "withinLines"),
                within_columns: get_int(rq, "withinColumns"),
            });
        }
        let rule = Rule {
            id: id.clone(),
            description,
            regex: regex.map(|(l, _)| l),
            path,
            secret_group,
            entropy: get_f64(rt, "entropy"),
            keywords: get_strs(rt, "keywords")
                .iter()
                .map(|k| k.to_lowercase())
                .collect(),
            tags: get_strs(rt, "tags"),
            allowlists,
            skip_report: get_bool(rt, "skipReport"),
            required,
            window: None,
        };
        rules.insert(id, rule);
    }
    for r in rules.values() {
        for rq in &r.required {
            if !rules.contains_key(&rq.rule_id) {
                return Err(rule_err(
                    &r.id,
                    format!("[[rules.required]] rule ID '{}' does not exist", rq.rule_id),
                ));
            }
        }
    }
    let single = get(&doc, "allowlist");
    let multi = get(&doc, "allowlists");
    if single.is_some() && !tables(multi).is_empty() {
        return Err(ConfigError::Other {
            origin: origin.to_string(),
            reason: "[allowlist] is deprecated, it cannot be used alongside [[allowlists]]".into(),
        });
    }
    let mut allowlists = Vec::new();
    let mut targeted = Vec::new();
    for at in tables(single).into_iter().chain(tables(multi)) {
        let a = parse_allowlist(at).map_err(|e| ConfigError::Other {
            origin: origin.to_string(),
            reason: format!("[[allowlists]] {e}"),
        })?;
        let targets = get_strs(at, "targetRules");
        if targets.is_empty() {
            allowlists.push(a);
        } else {
            for t in targets {
                targeted.push((t, a.clone()));
            }
        }
    }
    let ext = match get(&doc, "extend") {
        Some(Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    let extend_path = get_str(&ext, "path");
    let extend_default = get_bool(&ext, "useDefault");
    if !get_str(&ext, "url").is_empty() {
        // gitleaks ignores `url` too (it is unimplemented there).
    }
    Ok(Parsed {
        title: get_str(&doc, "title"),
        description: get_str(&doc, "description"),
        extend_path,
        extend_default,
        disabled: get_strs(&ext, "disabledRules"),
        rules,
        allowlists,
        targeted,
    })
}

/// Loads a config and its extensions; `depth` counts extends followed so far.
fn load_tree(
    text: &str,
    origin: &str,
    base_dir: Option<&Path>,
    depth: usize,
) -> Result<Parsed, ConfigError> {
    let mut p = parse_doc(text, origin)?;
    if depth < MAX_EXTEND_DEPTH {
        if !p.extend_path.is_empty() && p.extend_default {
            return Err(ConfigError::Other {
                origin: origin.to_string(),
                reason: "unable to load config due to extend.path and extend.useDefault being set"
                    .into(),
            });
        }
        let base = if p.extend_default {
            Some(load_tree(BUILTIN_TOML, "builtin rules", None, depth + 1)?)
        } else if !p.extend_path.is_empty() {
            let mut path = PathBuf::from(&p.extend_path);
            if !path.exists() && path.is_relative() {
                if let Some(d) = base_dir {
                    path = d.join(&p.extend_path);
                }
            }
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Io {
                origin: path.display().to_string(),
                source: e,
            })?;
            let o = path.display().to_string();
            Some(load_tree(&text, &o, path.parent(), depth + 1)?)
        } else {
            None
        };
        if let Some(base) = base {
            extend(&mut p, base);
        }
    }
    // Targeted allowlists attach after all extension (gitleaks does this at depth 0).
    if depth == 0 {
        for (target, a) in std::mem::take(&mut p.targeted) {
            match p.rules.get_mut(&target) {
                Some(r) => r.allowlists.push(a),
                None => {
                    return Err(ConfigError::Other {
                        origin: origin.to_string(),
                        reason: format!("[[allowlists]] target rule ID '{target}' does not exist"),
                    })
                }
            }
        }
    }
    Ok(p)
}

fn extend(p: &mut Parsed, base: Parsed) {
    let disabled: HashSet<&String> = p.disabled.iter().collect();
    for (id, mut base_rule) in base.rules {
        if disabled.contains(&id) {
            continue;
        }
        match p.rules.remove(&id) {
            None => {
                p.rules.insert(id, base_rule);
            }
            Some(cur) => {
                if !cur.description.is_empty() {
                    base_rule.description = cur.description;
                }
                if cur.entropy != 0.0 {
                    base_rule.entropy = cur.entropy;
                }
                if cur.secret_group != 0 {
                    base_rule.secret_group = cur.secret_group;
                }
                if cur.regex.is_some() {
                    base_rule.regex = cur.regex;
                }
                if cur.path.is_some() {
                    base_rule.path = cur.path;
                }
                base_rule.tags.extend(cur.tags);
                base_rule.keywords.extend(cur.keywords);
                base_rule.allowlists.extend(cur.allowlists);
                p.rules.insert(id, base_rule);
            }
        }
    }
    p.allowlists.extend(base.allowlists);
    // A base's targeted allowlists were already attached inside its own load
    // only at depth 0, so carry them up.
    p.targeted.extend(base.targeted);
}

impl Config {
    /// The built-in rules (`checks/secrets.toml`).
    pub fn builtin() -> Config {
        Config::from_toml_str(BUILTIN_TOML, "builtin rules").expect("built-in rules are valid")
    }

    pub fn from_path(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            origin: path.display().to_string(),
            source: e,
        })?;
        let origin = path.display().to_string();
        let p = load_tree(&text, &origin, path.parent(), 0)?;
        let mut c = Config::assemble(p, &origin)?;
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let p = load_tree(text, origin, None, 0)?;
        Config::assemble(p, origin)
    }

    fn assemble(p: Parsed, origin: &str) -> Result<Config, ConfigError> {
        let mut rules: Vec<Rule> = p.rules.into_values().collect();
        for r in rules.iter_mut() {
            r.window = r.regex.as_ref().and_then(|re| {
                window::plan(&re.source, &r.keywords).map(|plan| {
                    std::sync::Arc::new(Window {
                        plan,
                        variants: Default::default(),
                    })
                })
            });
        }
        for r in &rules {
            if r.regex.is_none() && r.path.is_none() {
                return Err(ConfigError::Rule {
                    origin: origin.to_string(),
                    rule: r.id.clone(),
                    reason: "both |regex| and |path| are empty, this rule will have no effect"
                        .into(),
                });
            }
        }
        let mut keywords: Vec<String> = Vec::new();
        let mut rule_keywords = Vec::new();
        for r in &rules {
            let mut ids = Vec::new();
            for k in &r.keywords {
                let pos = match keywords.iter().position(|x| x == k) {
                    Some(p) => p,
                    None => {
                        keywords.push(k.clone());
                        keywords.len() - 1
                    }
                };
                ids.push(pos);
            }
            rule_keywords.push(ids);
        }
        let has_non_ascii_keyword = keywords.iter().any(|k| !k.is_ascii());
        let keyword_ac = if keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    // Overlapping search over every fragment is the hot loop:
                    // a full DFA is several times faster than the NFA here.
                    .kind(Some(AhoCorasickKind::DFA))
                    .prefilter(false)
                    .build(&keywords)
                    .map_err(|e| ConfigError::Other {
                        origin: origin.to_string(),
                        reason: format!("cannot build keyword automaton: {e}"),
                    })?,
            )
        };
        Ok(Config {
            title: p.title,
            description: p.description,
            rules,
            allowlists: p.allowlists,
            path: None,
            keywords,
            keyword_ac,
            rule_keywords,
            has_non_ascii_keyword,
        })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_allowlist_forms_is_error() {
        let t = r#"
[[rules]]
id = "x"
regex = "abc"
[rules.allowlist]
regexes = ["a"]
[[rules.allowlists]]
regexes = ["b"]
"#;
        let e = Config::from_toml_str(t, "t.toml").unwrap_err().to_string();
        assert!(e.contains("`x`"), "{e}");
        assert!(e.contains("deprecated"), "{e}");
    }

    #[test]
    fn bad_regex_names_rule() {
        let t = "[[rules]]\nid = \"bad\"\nregex = \"(abc\"\n";
        let e = Config::from_toml_str(t, "t.toml").unwrap_err().to_string();
        assert!(
            e.contains("rule `bad`") && e.contains("invalid regex"),
            "{e}"
        );
    }

    #[test]
    fn missing_id() {
        let t = "[[rules]]\nregex = \"abc\"\n";
        let e = Config::from_toml_str(t, "t.toml").unwrap_err().to_string();
        assert!(e.contains("missing or empty"), "{e}");
    }

    #[test]
    fn empty_allowlist_is_error() {
        let t =
            "[[rules]]\nid = \"x\"\nregex = \"abc\"\n[[rules.allowlists]]\ndescription = \"d\"\n";
        assert!(Config::from_toml_str(t, "t").is_err());
    }

    #[test]
    fn secret_group_out_of_range() {
        let t = "[[rules]]\nid = \"x\"\nregex = \"(a)\"\nsecretGroup = 2\n";
        assert!(Config::from_toml_str(t, "t")
            .unwrap_err()
            .to_string()
            .contains("secret group"));
    }

    #[test]
    fn extend_default_and_disable() {
        let t = r#"
[extend]
useDefault = true
disabledRules = ["aws-access-token"]
[[rules]]
id = "github-pat"
description = "mine"
keywords = ["extra"]
[[rules]]
id = "custom"
regex = "custom_[a-z]{10}"
"#;
        let c = Config::from_toml_str(t, "t").unwrap();
        assert!(c.rule("aws-access-token").is_none());
        assert!(c.rule("custom").is_some());
        let gh = c.rule("github-pat").unwrap();
        assert_eq!(gh.description, "mine");
        assert!(gh.regex.is_some());
        assert!(gh.keywords.contains(&"extra".to_string()));
        assert!(gh.keywords.contains(&"ghp_".to_string()));
    }

    #[test]
    fn target_rules_attach() {
        let t = r#"
[[rules]]
id = "a"
regex = "aaa"
[[allowlists]]
targetRules = ["a"]
regexes = ["x"]
"#;
        let c = Config::from_toml_str(t, "t").unwrap();
        assert!(c.allowlists.is_empty());
        assert_eq!(c.rule("a").unwrap().allowlists.len(), 1);
        let bad = t.replace("targetRules = [\"a\"]", "targetRules = [\"nope\"]");
        assert!(Config::from_toml_str(&bad, "t").is_err());
    }

    #[test]
    fn builtin_loads() {
        let c = Config::builtin();
        assert!(c.rules.len() >= 30);
    }
}
