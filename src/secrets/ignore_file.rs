//! `.gitleaksignore` fingerprints and baseline reports.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::{Error, Finding};

#[derive(Debug, Clone, Default)]
pub struct Ignore {
    entries: HashSet<String>,
}

impl Ignore {
    pub fn load(path: &Path) -> Result<Ignore, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Ok(Ignore::parse(&text))
    }

    pub fn parse(text: &str) -> Ignore {
        let mut entries = HashSet::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts: Vec<String> = line.split(':').map(str::to_string).collect();
            // Windows separators in the path part are normalised, as gitleaks does.
            match parts.len() {
                3 => parts[0] = parts[0].replace('\\', "/"),
                4 => parts[1] = parts[1].replace('\\', "/"),
                _ => {}
            }
            entries.insert(parts.join(":"));
        }
        Ignore { entries }
    }

    pub fn is_ignored(&self, f: &Finding) -> bool {
        if self.entries.contains(&f.global_fingerprint()) {
            return true;
        }
        !f.commit.is_empty() && self.entries.contains(&f.fingerprint)
    }

    pub fn filter(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !self.is_ignored(f))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
struct BaseFinding {
    #[serde(rename = "RuleID")]
    rule_id: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "StartLine")]
    start_line: i64,
    #[serde(rename = "EndLine")]
    end_line: i64,
    #[serde(rename = "StartColumn")]
    start_column: i64,
    #[serde(rename = "EndColumn")]
    end_column: i64,
    #[serde(rename = "Match")]
    matched: String,
    #[serde(rename = "Secret")]
    secret: String,
    #[serde(rename = "File")]
    file: String,
    #[serde(rename = "Commit")]
    commit: String,
    #[serde(rename = "Entropy")]
    entropy: f32,
    #[serde(rename = "Author")]
    author: String,
    #[serde(rename = "Email")]
    email: String,
    #[serde(rename = "Date")]
    date: String,
    #[serde(rename = "Message")]
    message: String,
}

/// A gitleaks JSON report of accepted findings.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    items: Vec<BaseFinding>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Baseline::parse(&text).map_err(|reason| Error::Report {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn parse(text: &str) -> Result<Baseline, String> {
        let items: Vec<BaseFinding> =
            serde_json::from_str(text).map_err(|e| format!("not a gitleaks JSON report: {e}"))?;
        Ok(Baseline { items })
    }

    /// gitleaks' `IsNew`: every field but the fingerprint must match; with
    /// redaction on, Match and Secret are not compared.
    pub fn is_new(&self, f: &Finding, redact: bool) -> bool {
        !self.items.iter().any(|b| {
            f.rule_id == b.rule_id
                && f.description == b.description
                && f.start_line as i64 == b.start_line
                && f.end_line as i64 == b.end_line
                && f.start_column as i64 == b.start_column
                && f.end_column as i64 == b.end_column
                && (redact || (f.matched == b.matched && f.secret == b.secret))
                && f.file == b.file
                && f.commit == b.commit
                && f.author == b.author
                && f.email == b.email
                && f.date == b.date
                && f.message == b.message
                && f.entropy == b.entropy
        })
    }

    pub fn filter(&self, findings: Vec<Finding>, redact: bool) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| self.is_new(f, redact))
            .collect()
    }
}
