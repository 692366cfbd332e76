//! Secret values never reach any output: every rendered report and log line passes
//! through a `Redactor` built from the policy's secret values.

use serde_json::Value;

use crate::finding::CheckResult;

/// Shorter values would redact ordinary words and numbers everywhere.
pub const MIN_SECRET_LEN: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    values: Vec<String>,
}

impl Redactor {
    pub fn new(mut values: Vec<String>) -> Self {
        values.retain(|v| v.len() >= MIN_SECRET_LEN);
        // A value also appears escaped in JSON and percent-encoded in URLs.
        let mut extra = Vec::new();
        for v in &values {
            let json = serde_json::to_string(v).unwrap_or_default();
            let json = json.trim_matches('"').to_string();
            if json != *v {
                extra.push(json);
            }
            let pct: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            if pct != *v {
                extra.push(pct);
            }
        }
        values.extend(extra);
        values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        values.dedup();
        Redactor { values }
    }

    pub fn none() -> Self {
        Redactor::default()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn redact(&self, s: &str) -> String {
        let mut out = s.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }

    pub fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.redact(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.redact_value(x)),
            _ => {}
        }
    }

    pub fn redact_result(&self, r: &mut CheckResult) {
        if self.is_empty() {
            return;
        }
        for s in [&mut r.target, &mut r.message, &mut r.why, &mut r.fix] {
            *s = self.redact(s);
        }
        for v in r.evidence.values_mut() {
            self.redact_value(v);
        }
        if let Some(l) = &mut r.location {
            l.path = self.redact(&l.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_longest_first_and_encoded_forms() {
        let r = Redactor::new(vec![
            "s3cr3t-value".into(),
            "s3cr3t".into(),
            "a\"b c".into(),
            "ab".into(),
        ]);
        assert_eq!(r.redact("x s3cr3t-value y s3cr3t"), "x *** y ***");
        assert_eq!(r.redact(r#"{"v":"a\"b c"}"#), r#"{"v":"***"}"#);
        assert_eq!(r.redact("q=a%22b+c"), "q=***");
        assert_eq!(r.redact("ab"), "ab");
    }
}
