//! Secrets scanning engine, compatible with gitleaks 8.30 (configs, findings,
//! fingerprints, reports). Prints nothing: callers get findings and errors.

pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod git;
pub mod ignore_file;
pub mod regex_port;
pub mod report;
pub mod walk;
pub mod window;

#[cfg(test)]
mod rules_tests;

use std::path::Path;

pub use config::{Config, ConfigError};
pub use detect::{CommitInfo, Detector, Finding, Fragment};
pub use ignore_file::{Baseline, Ignore};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(String),
    #[error("{path}: {reason}")]
    Report { path: String, reason: String },
}

impl Error {
    /// Config errors are the user's to fix (exit 2 in the CLI).
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config(_))
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Recursive decoding passes (gitleaks `--max-decode-depth`, default 5).
    pub max_decode_depth: u32,
    /// Files larger than this are skipped and counted.
    pub max_file_size: Option<u64>,
    /// Skip git-ignored files (the gate's `check`); gitleaks `dir` does not.
    pub respect_gitignore: bool,
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_decode_depth: 5,
            max_file_size: None,
            respect_gitignore: false,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    /// Files read (`dir`), or files in the patch (`git`, staged).
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    /// Files that could not be opened or read (permissions, races).
    pub skipped_unreadable: u64,
}

/// Stable order for reports: gitleaks' own order is not deterministic.
pub fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        (
            &a.file,
            &a.commit,
            a.start_line,
            a.start_column,
            &a.rule_id,
            a.end_line,
            a.end_column,
        )
            .cmp(&(
                &b.file,
                &b.commit,
                b.start_line,
                b.start_column,
                &b.rule_id,
                b.end_line,
                b.end_column,
            ))
    });
    for x in f.iter_mut() {
        x.compute_fingerprint();
    }
}

/// Working tree scan, as `gitleaks dir`.
pub fn scan_dir(cfg: &Config, path: &Path, opts: &ScanOptions) -> Result<ScanOutcome, Error> {
    walk::scan_dir(cfg, path, opts)
}

/// History scan, as `gitleaks git`; `log_opts` replaces what follows `-U0`
/// (`Some("all")` is the default range, `Some("none")` scans nothing).
pub fn scan_git(
    cfg: &Config,
    repo: &Path,
    log_opts: Option<&str>,
    opts: &ScanOptions,
) -> Result<ScanOutcome, Error> {
    git::scan_git(cfg, repo, log_opts, opts)
}

/// What `git diff --cached` would commit (pre-commit hook).
pub fn scan_staged(cfg: &Config, repo: &Path, opts: &ScanOptions) -> Result<ScanOutcome, Error> {
    git::scan_staged(cfg, repo, opts)
}

/// Scans a buffer (e.g. a deployed JS bundle) under the given name.
pub fn scan_bytes(cfg: &Config, name: &str, data: &[u8], opts: &ScanOptions) -> Vec<Finding> {
    let det = Detector::new(cfg, opts.max_decode_depth);
    let mut out = Vec::new();
    // The caller already holds the content: a name like `x.br.js` says
    // nothing about it, so only the content type is checked.
    let _ = walk::scan_reader(&det, data, name, "", false, &mut out);
    sort_findings(&mut out);
    out
}
