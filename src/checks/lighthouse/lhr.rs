//! The Lighthouse report (LHR) as far as assertions read it, for Lighthouse 9 through 13:
//! open maps for categories and audits, every field optional, null or odd-typed scores
//! read as "no value" instead of failing the whole file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number, or nothing for null, strings and other types (never an error).
fn lenient_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_f64().filter(|f| f.is_finite()))
}

fn lenient_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_str().map(str::to_string))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lhr {
    #[serde(default, deserialize_with = "lenient_str")]
    pub lighthouse_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub requested_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub main_document_url: Option<String>,
    /// v10+.
    #[serde(default, deserialize_with = "lenient_str")]
    pub final_displayed_url: Option<String>,
    /// Deprecated in v10 but still emitted; what LHCI 0.14 groups by.
    #[serde(default, deserialize_with = "lenient_str")]
    pub final_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub fetch_time: Option<String>,
    #[serde(default)]
    pub config_settings: Option<ConfigSettings>,
    #[serde(default)]
    pub runtime_error: Option<RuntimeError>,
    #[serde(default)]
    pub run_warnings: Value,
    #[serde(default)]
    pub categories: BTreeMap<String, Category>,
    #[serde(default)]
    pub audits: BTreeMap<String, Audit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSettings {
    #[serde(default, deserialize_with = "lenient_str")]
    pub form_factor: Option<String>,
    /// Before Lighthouse 7.
    #[serde(default, deserialize_with = "lenient_str")]
    pub emulated_form_factor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeError {
    #[serde(default, deserialize_with = "lenient_str")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Category {
    #[serde(default, deserialize_with = "lenient_num")]
    pub score: Option<f64>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    #[serde(default, deserialize_with = "lenient_num")]
    pub score: Option<f64>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub score_display_mode: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    pub numeric_value: Option<f64>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub numeric_unit: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient_str")]
    pub display_value: Option<String>,
    #[serde(default)]
    pub details: Option<Value>,
}

impl Audit {
    /// `details.items`, when it is an array.
    pub fn items(&self) -> Option<&Vec<Value>> {
        self.details.as_ref()?.get("items")?.as_array()
    }
}

impl Lhr {
    /// The URL a run is grouped and reported under: `finalUrl` as LHCI 0.14 groups,
    /// else `finalDisplayedUrl`, else `mainDocumentUrl`, else `requestedUrl`.
    pub fn url(&self) -> String {
        [
            &self.final_url,
            &self.final_displayed_url,
            &self.main_document_url,
            &self.requested_url,
        ]
        .iter()
        .find_map(|u| u.as_ref().filter(|s| !s.is_empty()).cloned())
        .unwrap_or_default()
    }

    /// `mobile`, `desktop`, or what the report says (`none` for v6's no emulation).
    pub fn form_factor(&self) -> Option<&str> {
        let c = self.config_settings.as_ref()?;
        c.form_factor
            .as_deref()
            .or(c.emulated_form_factor.as_deref())
    }
}

/// Parses one report; an error names what is wrong in words a user can act on.
pub fn parse(text: &str) -> Result<Lhr, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(obj) = v.as_object() else {
        return Err("not a Lighthouse report: the JSON is not an object".into());
    };
    if !obj.contains_key("audits") && !obj.contains_key("categories") {
        let hint = if obj.contains_key("lhr") {
            " (it wraps one under `lhr`: pass the LHR itself, e.g. from `--output json`)"
        } else {
            ""
        };
        return Err(format!(
            "not a Lighthouse report: no `audits` or `categories`{hint}"
        ));
    }
    serde_json::from_value(v).map_err(|e| format!("not a Lighthouse report: {e}"))
}

pub fn load(path: &Path) -> Result<Lhr, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    parse(&text)
}

/// Runs grouped by URL, in first-seen order, as LHCI groups them.
pub fn group_by_url(lhrs: &[Lhr]) -> Vec<(String, Vec<&Lhr>)> {
    let mut groups: Vec<(String, Vec<&Lhr>)> = Vec::new();
    for l in lhrs {
        let u = l.url();
        match groups.iter_mut().find(|(k, _)| *k == u) {
            Some((_, g)) => g.push(l),
            None => groups.push((u, vec![l])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_values_are_no_values() {
        let l = parse(
            r#"{"finalUrl":"https://a/","categories":{"performance":{"score":null},"seo":{"score":1}},
               "audits":{"x":{"score":"high","numericValue":null},"y":{"score":0.5,"numericValue":12,"extra":{}}},
               "configSettings":{"emulatedFormFactor":"mobile"},"i18n":{}}"#,
        )
        .unwrap();
        assert_eq!(l.categories["performance"].score, None);
        assert_eq!(l.categories["seo"].score, Some(1.0));
        assert_eq!(l.audits["x"].score, None);
        assert_eq!(l.audits["y"].numeric_value, Some(12.0));
        assert_eq!(l.form_factor(), Some("mobile"));
        assert_eq!(l.url(), "https://a/");
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"lhr":{}}"#).unwrap_err().contains("wraps"));
        assert!(parse("{").is_err());
    }
}
