//! The launch.yml model (SPEC §2). Every struct denies unknown keys so a typo is an
//! error with a "did you mean", never a silently ignored check.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{
    Count, Date, Dur, Flag, Float, HttpUrl, OneOrMany, Rate, Size, StatusSet, Text,
};
use crate::finding::Severity;

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version; only 1 exists.
    pub version: Count,
    pub name: Option<Text>,
    /// Presets from checks/presets/ merged under this file (e.g. `recommended`).
    #[serde(default)]
    pub extends: Vec<Text>,
    #[serde(default)]
    pub defaults: Defaults,
    /// Plain values usable as `${name}`.
    #[serde(default)]
    pub vars: BTreeMap<String, Text>,
    #[serde(default)]
    pub pages: Vec<Page>,
    #[serde(default)]
    pub redirects: Vec<Redirect>,
    pub tls: Option<TlsPolicy>,
    pub headers: Option<HeadersPolicy>,
    #[serde(default)]
    pub forms: Vec<Form>,
    #[serde(default)]
    pub exposure: Vec<Exposure>,
    #[serde(default)]
    pub edge: Vec<Edge>,
    pub secrets: Option<SecretsPolicy>,
    pub dns: Option<DnsPolicy>,
    #[serde(default)]
    pub email: Vec<EmailDomain>,
    pub env: Option<EnvPolicy>,
    pub rollback: Option<Rollback>,
    pub migrations: Option<Migrations>,
    #[serde(default)]
    pub load: Vec<Load>,
    pub lighthouse: Option<LighthousePolicy>,
    /// Override the default severity of any check id.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Accepted risks: visible in every report, never silent.
    #[serde(default)]
    pub waivers: Vec<WaiverSpec>,
    /// More variable names whose values are redacted everywhere.
    #[serde(default)]
    pub secret_vars: Vec<Text>,
    pub report: Option<ReportPolicy>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Per network operation (default 10s).
    pub timeout: Option<Dur>,
    /// Retries on connect/timeout errors only, never on a wrong answer (default 1).
    pub retries: Option<Count>,
    pub user_agent: Option<Text>,
    /// Extra trusted roots (PEM), added to the system's.
    pub ca_file: Option<Text>,
    /// `"HOST:PORT": "ADDR"` or `"ADDR:PORT2"`, as curl's --resolve / --connect-to.
    #[serde(default)]
    pub resolve: BTreeMap<String, Text>,
    /// Largest response body read (default 10MiB); larger is an error.
    pub max_body: Option<Size>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub url: HttpUrl,
    #[serde(default)]
    pub expect: PageExpect,
    pub cache: Option<CacheClass>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageExpect {
    /// Default 200.
    pub status: Option<StatusSet>,
    /// Time to the full response (default 2500ms).
    pub max_latency: Option<Dur>,
    #[serde(default)]
    pub body_contains: OneOrMany<Text>,
    #[serde(default)]
    pub body_not_contains: OneOrMany<Text>,
    /// Header name (case-insensitive) -> substring the value must contain.
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CacheClass {
    Static,
    SemiStatic,
    Dynamic,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    pub from: HttpUrl,
    pub to: HttpUrl,
    /// Default 3.
    pub max_hops: Option<Count>,
    /// Every hop 301/308 (default true).
    pub permanent: Option<Flag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsPolicy {
    /// Blocker below this many days to expiry (default 14).
    pub min_days: Option<Count>,
    /// Warning below this many days (default 30).
    pub warn_days: Option<Count>,
    /// "1.2" (default) or "1.3".
    pub min_version: Option<Text>,
    /// Extra `host:port`s; every https URL in the policy is checked anyway.
    #[serde(default)]
    pub hosts: Vec<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Required,
    Warn,
    Off,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadersPolicy {
    pub hsts: Option<HstsPolicy>,
    pub security: Option<SecurityHeaders>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HstsPolicy {
    /// Default 15552000 (180 days).
    pub min_max_age: Option<Count>,
    /// Default warn.
    pub include_subdomains: Option<Level>,
    /// Default off.
    pub preload: Option<Level>,
    /// `false` turns the HSTS checks off.
    pub enabled: Option<Flag>,
}

/// `recommended`, `off`, or a map of header -> required|warn|off.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SecurityHeaders {
    Preset(SecurityPreset),
    Custom(BTreeMap<String, Level>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecurityPreset {
    Recommended,
    Off,
}

impl<'de> Deserialize<'de> for SecurityHeaders {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecurityHeaders;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`recommended`, `off`, or a map of header name to required|warn|off")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "recommended" => Ok(SecurityHeaders::Preset(SecurityPreset::Recommended)),
                    "off" => Ok(SecurityHeaders::Preset(SecurityPreset::Off)),
                    other => Err(E::unknown_variant(other, &["recommended", "off"])),
                }
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(SecurityHeaders::Preset(if v {
                    SecurityPreset::Recommended
                } else {
                    SecurityPreset::Off
                }))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                BTreeMap::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SecurityHeaders::Custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub name: Text,
    pub url: HttpUrl,
    /// Default POST.
    pub method: Option<Text>,
    /// urlencoded body
    pub form: Option<BTreeMap<String, Text>>,
    /// JSON body
    pub json: Option<serde_json::Value>,
    /// multipart/form-data body
    pub multipart: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    #[serde(default)]
    pub expect: FormExpect,
    /// Submissions per run (default 1).
    pub samples: Option<Count>,
    /// Submissions in flight at once (default 1: sequential).
    pub concurrency: Option<Count>,
    /// Latency budget for the 95th percentile of the samples (`forms.p95`).
    pub p95: Option<Dur>,
    pub csrf: Option<Csrf>,
    /// Default false, so a 303 is seen as a 303.
    pub follow_redirects: Option<Flag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormExpect {
    /// Default: any 2xx or 3xx.
    pub status: Option<StatusSet>,
    #[serde(default)]
    pub body_contains: OneOrMany<Text>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Csrf {
    /// The page to GET first.
    pub url: HttpUrl,
    /// Regex with one capture group, applied to the body.
    pub regex: Option<Text>,
    /// Or: a cookie whose value is the token.
    pub cookie: Option<Text>,
    /// The form field to send it in.
    pub field: Option<Text>,
    /// Or: the header to send it in.
    pub header: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExposureExpect {
    Private,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    pub url: HttpUrl,
    pub expect: ExposureExpect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProxiedBy {
    Cloudflare,
    Fastly,
    Cloudfront,
    Akamai,
    Vercel,
    Netlify,
    Any,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub host: Text,
    pub proxied_by: ProxiedBy,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsPolicy {
    /// Working-tree paths (default ["."]).
    pub paths: Option<Vec<Text>>,
    /// A git range, `all`, or `none` (default none).
    pub history: Option<Text>,
    /// gitleaks v8 config; default: the built-in rules.
    pub config: Option<Text>,
    pub ignore_file: Option<Text>,
    /// gitleaks JSON report of accepted findings.
    pub baseline: Option<Text>,
    /// Pages whose same-origin scripts are fetched and scanned.
    #[serde(default)]
    pub assets: Vec<HttpUrl>,
    pub max_file_size: Option<Size>,
    pub include_ignored: Option<Flag>,
    pub max_decode_depth: Option<Count>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsPolicy {
    /// `ip` or `ip:port`; default: the system resolver.
    #[serde(default)]
    pub resolvers: Vec<Text>,
    pub lock: Option<Text>,
    #[serde(default)]
    pub records: Vec<DnsRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Caa,
    Ns,
    Srv,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: Text,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// The exact set of answers.
    pub expect: Option<Vec<Text>>,
    /// Answers that must be among the set.
    pub contains: Option<Vec<Text>>,
    pub absent: Option<Flag>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailDomain {
    pub domain: Text,
    pub spf: Option<SpfPolicy>,
    pub dkim: Option<DkimPolicy>,
    pub dmarc: Option<DmarcPolicy>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpfPolicy {
    pub senders: Option<Vec<Text>>,
    /// Allowed terminal qualifiers (default ["-all", "~all"]).
    pub all: Option<Vec<Text>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DkimPolicy {
    #[serde(default)]
    pub selectors: Vec<Text>,
    /// Default 1024.
    pub min_key_bits: Option<Count>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DmarcLevel {
    None,
    Quarantine,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    Required,
    Optional,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DmarcPolicy {
    pub min_policy: Option<DmarcLevel>,
    pub rua: Option<Need>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvPolicy {
    #[serde(default)]
    pub required: Vec<Text>,
    /// Default [".env", ".env.*", "*.pem", "*.key"]; `[]` turns it off.
    pub forbid_tracked: Option<Vec<Text>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub version_url: HttpUrl,
    /// JSON pointer into the version response, e.g. `/version`.
    pub version_json: Option<Text>,
    pub current: Option<Text>,
    pub previous: Text,
    pub rollback: Text,
    pub restore: Option<Text>,
    pub max_duration: Option<Dur>,
    pub poll_interval: Option<Dur>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Migrations {
    pub command: Text,
    pub runs: Option<Count>,
    pub timeout: Option<Dur>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Load {
    pub name: Text,
    pub url: HttpUrl,
    /// Default GET.
    pub method: Option<Text>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    /// Request body sent with every request (e.g. for a POST endpoint).
    pub body: Option<Text>,
    /// Total requests (default 200 when `duration` is not given either).
    pub requests: Option<Count>,
    /// Run for this long (with `requests` too, whichever ends first).
    pub duration: Option<Dur>,
    /// Connections in flight (default 10).
    pub concurrency: Option<Count>,
    /// Requests per second across all connections.
    pub rate: Option<Float>,
    #[serde(default)]
    pub thresholds: LoadThresholds,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadThresholds {
    pub p50: Option<Dur>,
    pub p95: Option<Dur>,
    pub p99: Option<Dur>,
    pub max: Option<Dur>,
    pub error_rate: Option<Rate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LighthousePolicy {
    #[serde(default)]
    pub reports: Vec<Text>,
    #[serde(default)]
    pub urls: Vec<HttpUrl>,
    /// LHCI's top-level aggregationMethod.
    #[serde(alias = "aggregationMethod")]
    pub aggregate: Option<Text>,
    /// `mobile` (default), `desktop` or `any`.
    pub form_factor: Option<Text>,
    /// `lighthouse:recommended` or `lighthouse:no-pwa`.
    pub preset: Option<Text>,
    /// Lighthouse CI assertions: `"key": level` or `[level, {options}]`.
    #[serde(default)]
    pub assertions: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "assertMatrix", alias = "assert_matrix")]
    pub assert_matrix: Vec<serde_json::Value>,
    /// A Lighthouse budgets.json (relative to the policy), instead of assertions.
    #[serde(alias = "budgetsFile")]
    pub budgets_file: Option<Text>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverSpec {
    pub id: Text,
    /// Exact target, or `*` for every target of the id.
    pub target: Text,
    pub reason: Text,
    pub until: Date,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportPolicy {
    pub fail_on: Option<Severity>,
    /// `false`, or the check-run settings.
    pub github: Option<GithubSetting>,
    pub notify: Option<Notify>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum GithubSetting {
    Enabled(bool),
    Settings(GithubReport),
}

impl<'de> Deserialize<'de> for GithubSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GithubSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`false`, `true`, or a map of check-run settings")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(GithubSetting::Enabled(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                GithubReport::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(GithubSetting::Settings)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubReport {
    pub check_name: Option<Text>,
    pub annotations: Option<Flag>,
    pub summary: Option<Flag>,
    pub comment: Option<Flag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifyOn {
    Change,
    Failure,
    Always,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    pub webhook: Text,
    pub on: Option<NotifyOn>,
}

/// The policy after loading: the model plus where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub policy: Policy,
    /// The path as the user gave it (shown in reports).
    pub path: PathBuf,
    /// Directory relative paths are resolved against.
    pub base_dir: PathBuf,
    /// The source text, for locating entries (SARIF, annotations).
    pub source: String,
    /// Values that must never reach any output.
    pub secrets: Vec<String>,
}

impl Loaded {
    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }

    /// First line (1-based) at which `needle` appears in the source, for locations.
    pub fn line_of(&self, needle: &str) -> Option<u32> {
        self.source
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
    }
}
