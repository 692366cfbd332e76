//! Runs Lighthouse itself for `lighthouse.urls`, when a `lighthouse` binary and a
//! Chromium are on PATH: one run per URL, JSON output, the headless flags CI needs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{error, CheckInfo, REPORT};
use crate::finding::{CheckResult, Severity};

pub const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync";

/// How long one Lighthouse run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

const CHROMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
];

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

pub struct Tools {
    pub lighthouse: PathBuf,
    pub chrome: PathBuf,
}

/// The `lighthouse` binary and a browser (`CHROME_PATH` first), or why not.
pub fn available() -> Result<Tools, String> {
    let lighthouse = on_path("lighthouse").ok_or("no `lighthouse` on PATH")?;
    let chrome = std::env::var_os("CHROME_PATH")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| CHROMES.iter().find_map(|c| on_path(c)))
        .ok_or("no Chromium or Chrome on PATH (or CHROME_PATH)")?;
    Ok(Tools { lighthouse, chrome })
}

fn out_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "launchgate-lighthouse-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ))
}

/// Runs Lighthouse once per URL, one after another (parallel runs skew each other's
/// timings). Returns the temp dir, the reports written and an error per failed run.
pub async fn collect(tools: &Tools, urls: &[String]) -> (PathBuf, Vec<PathBuf>, Vec<CheckResult>) {
    let dir = out_dir();
    let _ = std::fs::create_dir_all(&dir);
    let mut files = Vec::new();
    let mut errs = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let out = dir.join(format!("lhr-{i}.json"));
        match run_one(tools, url, &out).await {
            Ok(()) => files.push(out),
            Err(e) => errs.push(failed(&REPORT, url, e)),
        }
    }
    (dir, files, errs)
}

fn failed(info: &CheckInfo, url: &str, why: String) -> CheckResult {
    error(
        info,
        url,
        format!("Lighthouse did not produce a report: {why}"),
    )
    .severity(Severity::Blocker)
}

async fn run_one(tools: &Tools, url: &str, out: &Path) -> Result<(), String> {
    let mut c = tokio::process::Command::new(&tools.lighthouse);
    c.arg(url)
        .arg("--quiet")
        .arg("--output=json")
        .arg(format!("--output-path={}", out.display()))
        .arg(format!("--chrome-flags={CHROME_FLAGS}"))
        .env("CHROME_PATH", &tools.chrome)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = c
        .spawn()
        .map_err(|e| format!("cannot start lighthouse: {e}"))?;
    let o = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("timed out after {} s", RUN_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    if !o.status.success() || !out.is_file() {
        let err = String::from_utf8_lossy(&o.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("lighthouse exited {:?}: {last}", o.status.code()));
    }
    Ok(())
}
