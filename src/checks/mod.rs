//! One module per check kind. Each turns its policy section into `CheckResult`s and
//! owns its ids with their default severity, `why` and `fix` (see `catalogue`).
//! Checks never print and never know where results go.

pub mod cache;
pub mod command;
pub mod dns;
pub mod edge;
pub mod email;
pub mod env;
pub mod exposure;
pub mod forms;
pub mod headers;
pub mod lighthouse;
pub mod load;
pub mod migrations;
pub mod pages;
pub mod redirects;
pub mod rollback;
pub mod secrets;
pub mod tls;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::finding::{CheckResult, Severity, Status};
use crate::net::dns::DnsClient;
use crate::net::http::{HttpClient, Request, Response};
use crate::net::{NetConfig, NetError};
use crate::policy::Loaded;

/// A check id with its default severity and the texts `explain` prints.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

pub const KINDS: &[&str] = &[
    "pages",
    "redirects",
    "tls",
    "headers",
    "cache",
    "forms",
    "exposure",
    "edge",
    "secrets",
    "dns",
    "email",
    "env",
    "rollback",
    "migrations",
    "load",
    "lighthouse",
];

/// Kinds that change the system under test; the engine runs them after every other
/// kind, one at a time, in this order.
pub const DISRUPTIVE: &[&str] = &["migrations", "rollback"];

pub const NOT_BUILT: CheckInfo = CheckInfo {
    id: "policy.unsupported",
    severity: Severity::Blocker,
    title: "Check kind not available in this build",
    why: "The policy asks for a check this launchgate cannot run yet; a gate that skipped it silently would pass something nobody verified.",
    fix: "Upgrade launchgate, or remove the section (or `--skip` the kind) if you accept not checking it.",
};

pub const WAIVER_EXPIRED: CheckInfo = CheckInfo {
    id: "policy.waiver-expired",
    severity: Severity::Warning,
    title: "A waiver has expired",
    why: "An accepted risk was only accepted until a date; past it the failure counts against the gate again.",
    fix: "Fix the underlying failure, or renew the waiver with a new `until` date and a reason.",
};

pub const INTERNAL: CheckInfo = CheckInfo {
    id: "internal.error",
    severity: Severity::Blocker,
    title: "A check crashed",
    why: "launchgate could not finish this check, so nothing about it is verified.",
    fix: "Re-run with -v; if it persists, report the bug with the policy section that triggers it.",
};

/// Every id this build ships, for `explain`, SARIF rules and filling results.
pub fn catalogue() -> &'static [&'static CheckInfo] {
    static CATALOGUE: std::sync::OnceLock<Vec<&'static CheckInfo>> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(build_catalogue)
}

fn build_catalogue() -> Vec<&'static CheckInfo> {
    let mut v: Vec<&'static CheckInfo> = Vec::new();
    for set in [
        pages::INFO,
        redirects::INFO,
        tls::INFO,
        headers::INFO,
        cache::INFO,
        dns::INFO,
        email::INFO,
        env::INFO,
        rollback::INFO,
        migrations::INFO,
        lighthouse::INFO,
        forms::INFO,
        exposure::INFO,
        edge::INFO,
        load::INFO,
        secrets::INFO,
    ] {
        v.extend(set.iter());
    }
    v.extend([&NOT_BUILT, &WAIVER_EXPIRED, &INTERNAL]);
    v
}

pub fn info(id: &str) -> Option<&'static CheckInfo> {
    catalogue().iter().copied().find(|c| c.id == id)
}

type FetchCell = Arc<OnceCell<Result<Response, NetError>>>;

/// What every check runs with: the policy and the shared network plumbing.
pub struct Ctx {
    pub loaded: Arc<Loaded>,
    pub http: HttpClient,
    dns: Result<Arc<DnsClient>, String>,
    fetches: Mutex<HashMap<String, FetchCell>>,
    /// `--allow-large-load`: lifts the load caps (100,000 requests, 10 minutes).
    pub allow_large_load: bool,
}

impl Ctx {
    pub fn new(loaded: Arc<Loaded>, net: NetConfig, dns: Result<Arc<DnsClient>, String>) -> Self {
        Ctx {
            loaded,
            http: HttpClient::new(net),
            dns,
            fetches: Mutex::new(HashMap::new()),
            allow_large_load: false,
        }
    }

    /// The DNS client for `dns.resolvers` (or the system resolver).
    pub fn dns(&self) -> Result<&DnsClient, &str> {
        self.dns.as_deref().map_err(|e| e.as_str())
    }

    pub fn net(&self) -> &NetConfig {
        self.http.config()
    }

    /// A policy page's response (with its extra request headers), fetched once per run.
    pub async fn fetch_page(&self, page: &crate::policy::Page) -> Result<Response, NetError> {
        let headers: Vec<(String, String)> = page
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        self.fetch(&page.url.url(), &headers).await
    }

    /// Fetches a page once per run: pages, headers and cache judge the same response.
    pub async fn fetch(
        &self,
        url: &Url,
        headers: &[(String, String)],
    ) -> Result<Response, NetError> {
        let key = format!("{url} {headers:?}");
        let cell = {
            let mut m = self.fetches.lock().await;
            m.entry(key).or_default().clone()
        };
        cell.get_or_init(|| async {
            let mut req = Request::get(url.clone());
            req.headers = headers.to_vec();
            self.http.send(&req).await
        })
        .await
        .clone()
    }
}

/// A result for `info`'s id at `target`.
pub fn result(
    info: &CheckInfo,
    target: &str,
    status: Status,
    message: impl Into<String>,
) -> CheckResult {
    let mut r = CheckResult::new(info.id, target, status).message(message);
    if status != Status::Pass {
        r.severity = Some(info.severity);
    }
    r
}

pub fn pass(info: &CheckInfo, target: &str, message: impl Into<String>) -> CheckResult {
    result(info, target, Status::Pass, message)
}

pub fn fail(info: &CheckInfo, target: &str, message: impl Into<String>) -> CheckResult {
    result(info, target, Status::Fail, message)
}

pub fn error(info: &CheckInfo, target: &str, message: impl Into<String>) -> CheckResult {
    result(info, target, Status::Error, message)
}

/// Lower-cased header names with a value that contains `needle`, for evidence.
pub fn headers_evidence(resp: &Response, names: &[&str]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for n in names {
        if let Some(v) = resp.header(n) {
            m.insert(n.to_string(), v.into());
        }
    }
    serde_json::Value::Object(m)
}

/// Every id of the product contract (SPEC §3), built here or not yet: `severity:` and
/// `waivers:` may name any of them without being a typo.
pub const SPEC_IDS: &[&str] = &[
    "pages.status",
    "pages.latency",
    "pages.body",
    "pages.header",
    "redirects.target",
    "redirects.loop",
    "redirects.hops",
    "redirects.https",
    "redirects.permanent",
    "tls.valid",
    "tls.expiry",
    "tls.version",
    "headers.hsts",
    "headers.hsts.subdomains",
    "headers.hsts.preload",
    "headers.security",
    "cache.static",
    "cache.html",
    "cache.semi-static",
    "forms.submit",
    "forms.p95",
    "exposure.public",
    "exposure.indexable",
    "edge.proxy",
    "secrets.leak",
    "secrets.asset",
    "dns.record",
    "dns.absent",
    "dns.drift",
    "email.spf.missing",
    "email.spf.multiple",
    "email.spf.syntax",
    "email.spf.lookups",
    "email.spf.void",
    "email.spf.unapproved",
    "email.spf.all",
    "email.dkim.missing",
    "email.dkim.weak",
    "email.dmarc.missing",
    "email.dmarc.syntax",
    "email.dmarc.policy",
    "email.dmarc.rua",
    "env.required",
    "env.tracked",
    "rollback.verify",
    "rollback.duration",
    "rollback.restore",
    "migrations.rerun",
    "load.p95",
    "load.errors",
    "lighthouse.category",
    "lighthouse.audit",
    "lighthouse.form-factor",
];

/// Whether the policy configures `kind` (so the gate must run it).
pub fn configured(p: &crate::policy::Policy, kind: &str) -> bool {
    match kind {
        "pages" | "cache" => !p.pages.is_empty(),
        "headers" => p.headers.is_some() && !p.pages.is_empty(),
        "redirects" => !p.redirects.is_empty(),
        "tls" => !tls::hosts(p).is_empty(),
        "forms" => !p.forms.is_empty(),
        "exposure" => !p.exposure.is_empty(),
        "edge" => !p.edge.is_empty(),
        "secrets" => p.secrets.is_some(),
        "dns" => p
            .dns
            .as_ref()
            .is_some_and(|d| !d.records.is_empty() || d.lock.is_some()),
        "email" => !p.email.is_empty(),
        "env" => p.env.is_some(),
        "rollback" => p.rollback.is_some(),
        "migrations" => p.migrations.is_some(),
        "load" => !p.load.is_empty(),
        "lighthouse" => p.lighthouse.is_some(),
        _ => false,
    }
}

/// Runs one kind's checks.
pub async fn run_kind(ctx: Arc<Ctx>, kind: &'static str) -> Vec<CheckResult> {
    match kind {
        "pages" => pages::run(&ctx).await,
        "redirects" => redirects::run(&ctx).await,
        "tls" => tls::run(&ctx).await,
        "headers" => headers::run(&ctx).await,
        "cache" => cache::run(&ctx).await,
        "dns" => dns::run(&ctx).await,
        "email" => email::run(&ctx).await,
        "env" => env::run(&ctx).await,
        "rollback" => rollback::run(&ctx).await,
        "migrations" => migrations::run(&ctx).await,
        "lighthouse" => lighthouse::run(&ctx).await,
        "forms" => forms::run(&ctx).await,
        "exposure" => exposure::run(&ctx).await,
        "edge" => edge::run(&ctx).await,
        "load" => load::run(&ctx).await,
        "secrets" => secrets::run(&ctx).await,
        other => vec![error(
            &NOT_BUILT,
            other,
            format!("the `{other}` checks are not built into this version of launchgate"),
        )],
    }
}
