//! Reports: gitleaks' JSON (byte for byte), SARIF 2.1.0, human text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::config::Config;
use super::Finding;

/// Go's `encoding/json` string escaping (HTML-safe, as `json.Encoder` does).
fn go_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The finding as gitleaks writes it, redacted with `--redact` semantics.
fn prepared(f: &Finding, redact: bool) -> Finding {
    let mut f = f.clone();
    if redact {
        f.redact();
    }
    f
}

/// gitleaks' JSON report: an array, `[]` when empty, one-space indent.
pub fn gitleaks_json(findings: &[Finding], redact: bool) -> String {
    if findings.is_empty() {
        return "[]\n".to_string();
    }
    let mut o = String::from("[\n");
    for (i, f) in findings.iter().enumerate() {
        let f = prepared(f, redact);
        o.push_str(" {\n");
        let s = |o: &mut String, k: &str, v: &str| {
            let _ = write!(o, "  \"{k}\": ");
            go_str(o, v);
            o.push_str(",\n");
        };
        let n = |o: &mut String, k: &str, v: usize| {
            let _ = writeln!(o, "  \"{k}\": {v},");
        };
        s(&mut o, "RuleID", &f.rule_id);
        s(&mut o, "Description", &f.description);
        n(&mut o, "StartLine", f.start_line);
        n(&mut o, "EndLine", f.end_line);
        n(&mut o, "StartColumn", f.start_column);
        n(&mut o, "EndColumn", f.end_column);
        s(&mut o, "Match", &f.matched);
        s(&mut o, "Secret", &f.secret);
        s(&mut o, "File", &f.file);
        s(&mut o, "SymlinkFile", &f.symlink_file);
        s(&mut o, "Commit", &f.commit);
        if !f.link.is_empty() {
            s(&mut o, "Link", &f.link);
        }
        let _ = writeln!(o, "  \"Entropy\": {},", f.entropy);
        s(&mut o, "Author", &f.author);
        s(&mut o, "Email", &f.email);
        s(&mut o, "Date", &f.date);
        s(&mut o, "Message", &f.message);
        if f.tags.is_empty() {
            o.push_str("  \"Tags\": [],\n");
        } else {
            o.push_str("  \"Tags\": [\n");
            for (j, t) in f.tags.iter().enumerate() {
                o.push_str("   ");
                go_str(&mut o, t);
                o.push_str(if j + 1 < f.tags.len() { ",\n" } else { "\n" });
            }
            o.push_str("  ],\n");
        }
        o.push_str("  \"Fingerprint\": ");
        go_str(&mut o, &f.fingerprint);
        o.push_str("\n }");
        o.push_str(if i + 1 < findings.len() { ",\n" } else { "\n" });
    }
    o.push_str("]\n");
    o
}

/// Redacted form shown in human reports: first 4 characters and the length.
pub fn masked(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}… ({} chars)", secret.chars().count())
}

/// Human report grouped by rule, then file.
pub fn human(findings: &[Finding], redact: bool) -> String {
    if findings.is_empty() {
        return "No secrets found.\n".to_string();
    }
    let mut by_rule: BTreeMap<&str, BTreeMap<&str, Vec<&Finding>>> = BTreeMap::new();
    for f in findings {
        by_rule
            .entry(&f.rule_id)
            .or_default()
            .entry(&f.file)
            .or_default()
            .push(f);
    }
    let mut o = String::new();
    for (rule, files) in &by_rule {
        let count: usize = files.values().map(|v| v.len()).sum();
        let desc = files
            .values()
            .next()
            .and_then(|v| v.first())
            .map(|f| f.description.as_str())
            .unwrap_or("");
        let _ = writeln!(o, "{rule} ({count}): {desc}");
        for (file, fs) in files {
            let _ = writeln!(o, "  {file}");
            for f in fs {
                let secret = if redact {
                    masked(&f.secret)
                } else {
                    f.secret.clone()
                };
                let commit = if f.commit.is_empty() {
                    String::new()
                } else {
                    format!(" commit {}", &f.commit[..f.commit.len().min(12)])
                };
                let _ = writeln!(
                    o,
                    "    line {}, column {}{commit}: {secret}",
                    f.start_line, f.start_column_exact
                );
            }
        }
    }
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.file.as_str()).collect();
    let _ = writeln!(
        o,
        "{} secret(s) in {} file(s), {} rule(s).",
        findings.len(),
        files.len(),
        by_rule.len()
    );
    o
}

/// Markdown-free line hash that stays put when unrelated lines move.
fn line_hash(f: &Finding) -> String {
    // FNV-1a over rule, file and the redacted match: stable across reruns.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in f
        .rule_id
        .bytes()
        .chain([0])
        .chain(f.file.bytes())
        .chain([0])
        .chain(f.matched.replace(&f.secret, "").bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}:{}", f.start_line)
}

/// SARIF 2.1.0 for GitHub code scanning. `uri_base` is stripped from file
/// paths so URIs are relative to the repository root.
pub fn sarif(findings: &[Finding], cfg: &Config, redact: bool, uri_base: Option<&str>) -> String {
    let rules: Vec<Value> = cfg
        .rules
        .iter()
        .map(|r| {
            let desc = if r.description.is_empty() {
                r.id.clone()
            } else {
                r.description.clone()
            };
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": desc },
                "fullDescription": { "text": desc },
                "help": { "text": format!("{desc} Rotate the credential, then remove it from the code and history.") },
                "properties": { "tags": ["security", "secret"], "security-severity": "9.0" }
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f0| {
            let f = prepared(f0, redact);
            let mut uri = f.file.clone();
            if let Some(b) = uri_base {
                let b = b.trim_end_matches('/');
                if let Some(rest) = uri.strip_prefix(&format!("{b}/")) {
                    uri = rest.to_string();
                }
            }
            let uri = uri.trim_start_matches("./").to_string();
            let start_line = f.start_line.max(1);
            let end_line = f.end_line.max(start_line);
            let start_col = f.start_column_exact.max(1);
            let mut end_col = f.end_column_exact + 1;
            if end_line == start_line && end_col <= start_col {
                end_col = start_col + 1;
            }
            let mut loc = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri },
                    "region": {
                        "startLine": start_line,
                        "startColumn": start_col,
                        "endLine": end_line,
                        "endColumn": end_col,
                        "snippet": { "text": f.secret }
                    }
                }
            });
            if f.start_line == 0 {
                loc["physicalLocation"]
                    .as_object_mut()
                    .unwrap()
                    .remove("region");
            }
            let mut props = json!({ "tags": f.tags });
            if !f.commit.is_empty() {
                props["commit"] = json!(f.commit);
                props["author"] = json!(f.author);
                props["email"] = json!(f.email);
                props["date"] = json!(f.date);
            }
            json!({
                "ruleId": f.rule_id,
                "message": { "text": format!("{} has detected secret for file {}.", f.rule_id, uri) },
                "locations": [loc],
                "partialFingerprints": {
                    "primaryLocationLineHash": line_hash(f0),
                    "commitSha": f.commit,
                    "gitleaksFingerprint": f.fingerprint,
                },
                "properties": props,
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "launchgate-secrets",
                "informationUri": "https://github.com/gitleaks/gitleaks",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        let mut f = Finding {
            rule_id: "r".into(),
            description: "d <x> & y".into(),
            start_line: 2,
            end_line: 2,
            start_column: 4,
            end_column: 10,
            start_column_exact: 3,
            end_column_exact: 9,
            line: String::new(),
            matched: "key=abcdef".into(),
            secret: "abcdef".into(),
            file: "a/b.txt".into(),
            symlink_file: String::new(),
            commit: String::new(),
            link: String::new(),
            entropy: 2.5849626,
            author: String::new(),
            email: String::new(),
            date: String::new(),
            message: String::new(),
            tags: vec![],
            fingerprint: String::new(),
        };
        f.compute_fingerprint();
        f
    }

    #[test]
    fn json_field_order_and_escaping() {
        let j = gitleaks_json(&[finding()], true);
        let keys: Vec<&str> = j
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "RuleID",
                "Description",
                "StartLine",
                "EndLine",
                "StartColumn",
                "EndColumn",
                "Match",
                "Secret",
                "File",
                "SymlinkFile",
                "Commit",
                "Entropy",
                "Author",
                "Email",
                "Date",
                "Message",
                "Tags",
                "Fingerprint"
            ]
        );
        assert!(j.contains("\"d \\u003cx\\u003e \\u0026 y\""));
        assert!(j.contains("\"Match\": \"key=REDACTED\""));
        assert!(j.contains("\"Entropy\": 2.5849626,"));
        assert_eq!(gitleaks_json(&[], true), "[]\n");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v[0]["Fingerprint"], "a/b.txt:r:2");
    }

    #[test]
    fn human_masks() {
        let h = human(&[finding()], true);
        assert!(h.contains("abcd… (6 chars)"), "{h}");
        assert!(!h.contains("abcdef"));
    }

    #[test]
    fn sarif_regions_valid() {
        let cfg = Config::from_toml_str("[[rules]]\nid = \"r\"\nregex = \"abc\"\n", "t").unwrap();
        let s = sarif(&[finding()], &cfg, true, Some("a"));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let r = &v["runs"][0]["results"][0];
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "b.txt"
        );
        let reg = &r["locations"][0]["physicalLocation"]["region"];
        assert!(reg["endColumn"].as_u64() > reg["startColumn"].as_u64());
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
}
