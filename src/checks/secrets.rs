//! `secrets`: leaked credentials in the working tree, in the commits under review, and
//! in the bundles a deployed page actually ships. The scanning is `crate::secrets`
//! (gitleaks-compatible); this module turns its findings into gate results.

use std::path::{Path, PathBuf};

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Location, Severity};
use crate::policy::SecretsPolicy;
use crate::secrets::{self, Baseline, Config, Finding, Ignore, ScanOptions};

pub const LEAK: CheckInfo = CheckInfo {
    id: "secrets.leak",
    severity: Severity::Blocker,
    title: "No credentials committed to the repository",
    why: "A key in git is a key anyone with the code (contractors, a leaked laptop, a public fork) can use: payment, email and cloud accounts get drained or abused, and the history keeps it after the file is fixed.",
    fix: "Revoke and rotate the credential at its provider first, then remove it from the code (environment or a secret manager); rewriting history does not un-leak it. Accept a false positive with a `gitleaks:allow` comment or a .gitleaksignore entry.",
};

pub const ASSET: CheckInfo = CheckInfo {
    id: "secrets.asset",
    severity: Severity::Blocker,
    title: "No credentials shipped in deployed bundles",
    why: "Every visitor downloads the page's JavaScript: a secret key bundled into it is public the moment the page is live.",
    fix: "Rotate the key, move the call that needs it to the server side, and keep only publishable keys in client code (check your bundler's env-var prefix rules).",
};

pub const INFO: &[CheckInfo] = &[LEAK, ASSET];

/// Default cap on the size of a scanned file (SPEC's `max_file_size`).
pub const DEFAULT_MAX_FILE: u64 = 10 * 1024 * 1024;

/// What a person may see of a secret: its first 4 characters and its length.
pub fn preview(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}… ({} chars)", secret.chars().count())
}

/// Loads the gitleaks config the policy names (or the built-in rules).
pub fn load_config(l: &crate::policy::Loaded) -> Result<Config, String> {
    match l.policy.secrets.as_ref().and_then(|s| s.config.as_ref()) {
        Some(p) => Config::from_path(&l.resolve_path(p)).map_err(|e| e.to_string()),
        None => Ok(Config::builtin()),
    }
}

fn repo_root(dir: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn options(sp: &SecretsPolicy) -> ScanOptions {
    ScanOptions {
        max_decode_depth: sp.max_decode_depth.map(|c| c.0 as u32).unwrap_or(5),
        max_file_size: Some(sp.max_file_size.map(|s| s.0).unwrap_or(DEFAULT_MAX_FILE)),
        respect_gitignore: !sp.include_ignored.is_some_and(|f| f.0),
        ..ScanOptions::default()
    }
}

fn relative(path: &str, base: &Path) -> String {
    let b = base.display().to_string();
    let b = b.trim_end_matches('/').to_string() + "/";
    path.strip_prefix(&b)
        .unwrap_or(path)
        .trim_start_matches("./")
        .to_string()
}

/// Paths relative to the repository root, as `gitleaks dir .` run there writes them,
/// so fingerprints match the team's .gitleaksignore and baselines.
fn rebase(mut found: Vec<Finding>, base: &Path) -> Vec<Finding> {
    for f in &mut found {
        let rel = relative(&f.file, base);
        if rel != f.file {
            f.file = rel;
            f.compute_fingerprint();
        }
    }
    found
}

fn leak_result(f: &Finding, base: &Path, history: bool) -> CheckResult {
    let path = relative(&f.file, base);
    let target = if history && !f.commit.is_empty() {
        format!(
            "{}:{path}:{}",
            &f.commit[..f.commit.len().min(12)],
            f.start_line
        )
    } else {
        format!("{path}:{}", f.start_line)
    };
    let mut r = fail(
        &LEAK,
        &target,
        format!("{} ({}): {}", f.rule_id, f.description, preview(&f.secret)),
    )
    .evidence("rule", f.rule_id.clone())
    .evidence("description", f.description.clone())
    .evidence("secret", preview(&f.secret))
    .evidence("entropy", f.entropy as f64)
    .location(Location {
        path: path.clone(),
        line: Some(f.start_line as u32),
        column: Some(f.start_column_exact as u32),
        end_line: Some(f.end_line as u32),
        end_column: Some(f.end_column_exact as u32),
    });
    if !f.commit.is_empty() {
        r = r
            .evidence("commit", f.commit.clone())
            .evidence("author", f.author.clone())
            .evidence("date", f.date.clone());
    }
    r.fingerprint = Some(f.fingerprint.clone());
    r
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let l = &ctx.loaded;
    let Some(sp) = l.policy.secrets.clone() else {
        return Vec::new();
    };
    let cfg = match load_config(l) {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => return vec![error(&LEAK, "secrets config", e)],
    };
    let opts = options(&sp);
    let base = l.base_dir.clone();
    let root = repo_root(&base);
    let ignore_path = sp
        .ignore_file
        .as_ref()
        .map(|p| l.resolve_path(p))
        .or_else(|| {
            root.as_ref()
                .map(|r| r.join(".gitleaksignore"))
                .filter(|p| p.exists())
        });
    let ignore = match ignore_path.map(|p| Ignore::load(&p)).transpose() {
        Ok(i) => i,
        Err(e) => return vec![error(&LEAK, "secrets ignore_file", e.to_string())],
    };
    let baseline = match sp
        .baseline
        .as_ref()
        .map(|p| Baseline::load(&l.resolve_path(p)))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => return vec![error(&LEAK, "secrets baseline", e.to_string())],
    };
    let keep = move |fs: Vec<Finding>| -> Vec<Finding> {
        let fs = match &ignore {
            Some(i) => i.filter(fs),
            None => fs,
        };
        match &baseline {
            Some(b) => b.filter(fs, true),
            None => fs,
        }
    };
    let keep = std::sync::Arc::new(keep);
    let mut out = Vec::new();

    let paths: Vec<String> = sp
        .paths
        .clone()
        .map(|v| v.into_iter().map(|t| t.0).collect())
        .unwrap_or_else(|| vec![".".into()]);
    // Findings are reported relative to the repository root, so annotations and SARIF
    // point at the right file wherever the policy sits.
    let report_base = root
        .clone()
        .unwrap_or_else(|| base.canonicalize().unwrap_or(base.clone()));
    for p in paths {
        let dir = l.resolve_path(&p);
        let dir = dir.canonicalize().unwrap_or(dir);
        let (cfg, opts, keep, b) = (cfg.clone(), opts.clone(), keep.clone(), report_base.clone());
        let started = std::time::Instant::now();
        let r = tokio::task::spawn_blocking(move || {
            secrets::scan_dir(&cfg, &dir, &opts).map(|o| (keep(rebase(o.findings.clone(), &b)), o))
        })
        .await;
        match r {
            Ok(Ok((found, o))) => {
                if found.is_empty() {
                    out.push(
                        pass(
                            &LEAK,
                            &p,
                            format!(
                                "{} files ({} bytes) scanned, no secrets",
                                o.files_scanned, o.bytes_scanned
                            ),
                        )
                        .evidence("files_scanned", o.files_scanned)
                        .evidence("skipped_binary", o.skipped_binary)
                        .evidence("skipped_large", o.skipped_large)
                        .duration(started.elapsed()),
                    );
                }
                out.extend(found.iter().map(|f| leak_result(f, &report_base, false)));
            }
            Ok(Err(e)) => out.push(error(&LEAK, &p, e.to_string())),
            Err(e) => out.push(error(&LEAK, &p, format!("the scan crashed: {e}"))),
        }
    }

    if let Some(h) = sp
        .history
        .as_ref()
        .map(|h| h.0.trim().to_string())
        .filter(|h| !h.is_empty() && h != "none")
    {
        let target = format!("history {h}");
        match &root {
            None => out.push(error(
                &LEAK,
                &target,
                "the policy's directory is not inside a git repository",
            )),
            Some(repo) => {
                let (cfg, opts, keep, repo2, h2) = (
                    cfg.clone(),
                    opts.clone(),
                    keep.clone(),
                    repo.clone(),
                    h.clone(),
                );
                let r = tokio::task::spawn_blocking(move || {
                    let log_opts = if h2 == "all" { None } else { Some(h2.as_str()) };
                    secrets::scan_git(&cfg, &repo2, log_opts, &opts)
                        .map(|o| (keep(o.findings.clone()), o))
                })
                .await;
                match r {
                    Ok(Ok((found, o))) => {
                        if found.is_empty() {
                            out.push(pass(
                                &LEAK,
                                &target,
                                format!(
                                    "{} bytes of added lines scanned, no secrets",
                                    o.bytes_scanned
                                ),
                            ));
                        }
                        out.extend(found.iter().map(|f| leak_result(f, repo, true)));
                    }
                    Ok(Err(e)) => out.push(error(&LEAK, &target, e.to_string())),
                    Err(e) => out.push(error(&LEAK, &target, format!("the scan crashed: {e}"))),
                }
            }
        }
    }

    for page in &sp.assets {
        out.extend(assets(ctx, page.as_str(), &cfg, &opts).await);
    }
    out
}

/// `<script src>` of a page, resolved, same-origin only.
pub fn script_sources(html: &str, page: &url::Url) -> Vec<url::Url> {
    let lower = html.to_ascii_lowercase();
    let mut out: Vec<url::Url> = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<script") {
        let start = from + i;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag = &html[start..end];
        let tag_l = &lower[start..end];
        if let Some(s) = tag_l.find("src") {
            let rest = tag[s + 3..].trim_start();
            if let Some(rest) = rest.strip_prefix('=') {
                let rest = rest.trim_start();
                let value: String = match rest.chars().next() {
                    Some(q @ ('"' | '\'')) => rest[1..].chars().take_while(|c| *c != q).collect(),
                    _ => rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '>')
                        .collect(),
                };
                if let Ok(u) = page.join(value.trim()) {
                    let same = u.scheme() == page.scheme()
                        && u.host_str() == page.host_str()
                        && u.port_or_known_default() == page.port_or_known_default();
                    if same && !out.contains(&u) {
                        out.push(u);
                    }
                }
            }
        }
        from = end.max(start + 7);
    }
    out
}

async fn assets(
    ctx: &Ctx,
    page: &str,
    cfg: &std::sync::Arc<Config>,
    opts: &ScanOptions,
) -> Vec<CheckResult> {
    let url = match url::Url::parse(page) {
        Ok(u) => u,
        Err(e) => return vec![error(&ASSET, page, format!("invalid URL: {e}"))],
    };
    let resp = match ctx.http.get(&url).await {
        Ok(r) if (200..300).contains(&r.status) => r,
        Ok(r) => {
            return vec![error(
                &ASSET,
                page,
                format!(
                    "the page answered {}; its bundles cannot be listed",
                    r.status
                ),
            )]
        }
        Err(e) => {
            return vec![error(
                &ASSET,
                page,
                format!("could not fetch the page: {e}"),
            )]
        }
    };
    let mut out = Vec::new();
    let mut sources = vec![(url.clone(), resp.body.clone())];
    for s in script_sources(&resp.body_text(), &url) {
        match ctx.http.get(&s).await {
            Ok(r) if (200..300).contains(&r.status) => sources.push((s, r.body)),
            Ok(r) => out.push(error(
                &ASSET,
                s.as_str(),
                format!("the bundle answered {}", r.status),
            )),
            Err(e) => out.push(error(
                &ASSET,
                s.as_str(),
                format!("could not fetch the bundle: {e}"),
            )),
        }
    }
    for (u, body) in sources {
        let (cfg, opts, name) = (cfg.clone(), opts.clone(), u.to_string());
        let found =
            tokio::task::spawn_blocking(move || secrets::scan_bytes(&cfg, &name, &body, &opts))
                .await
                .unwrap_or_default();
        if found.is_empty() {
            out.push(pass(&ASSET, u.as_str(), "no secrets in this bundle"));
        }
        for f in found {
            let mut r = fail(
                &ASSET,
                u.as_str(),
                format!(
                    "{} ({}) at line {}: {}",
                    f.rule_id,
                    f.description,
                    f.start_line,
                    preview(&f.secret)
                ),
            )
            .evidence("rule", f.rule_id.clone())
            .evidence("line", f.start_line)
            .evidence("secret", preview(&f.secret));
            r.fingerprint = Some(format!("{}:{}:{}", u, f.rule_id, f.start_line));
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_same_origin_scripts() {
        let page = url::Url::parse("https://www.acme.test/pricing").unwrap();
        let html = r#"<script src="/assets/app.js"></script><SCRIPT defer src='chunk.js'></SCRIPT>
            <script src=https://cdn.other.test/x.js></script><script>inline()</script><script src="/assets/app.js">"#;
        let s: Vec<String> = script_sources(html, &page)
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            s,
            vec![
                "https://www.acme.test/assets/app.js",
                "https://www.acme.test/chunk.js"
            ]
        );
        assert_eq!(preview("sk_live_abcdefgh"), "sk_l… (16 chars)");
    }
}
