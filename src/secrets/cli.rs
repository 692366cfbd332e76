//! `launchgate secrets`: arguments already parsed by the caller's CLI.

use std::path::PathBuf;

use super::{report, Baseline, Config, Ignore, ScanOptions};

#[derive(Debug, Clone, Default)]
pub struct SecretsArgs {
    pub path: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub git: bool,
    pub log_opts: Option<String>,
    pub staged: bool,
    pub baseline: Option<PathBuf>,
    pub ignore_file: Option<PathBuf>,
    pub no_redact: bool,
    pub max_decode_depth: u32,
    /// `(json|sarif|human, output path)`; no path means stdout.
    pub formats: Vec<(String, Option<PathBuf>)>,
}

/// Runs a scan; 0 clean, 1 findings, 2 errors (printed to stderr).
pub fn run(args: &SecretsArgs) -> i32 {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("launchgate secrets: {e}");
            2
        }
    }
}

fn run_inner(args: &SecretsArgs) -> Result<i32, String> {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let cfg = match &args.config {
        Some(p) => Config::from_path(p).map_err(|e| e.to_string())?,
        None => {
            // gitleaks picks up a `.gitleaks.toml` at the scanned root.
            let local = root.join(".gitleaks.toml");
            if root.is_dir() && local.is_file() {
                let mut c = Config::from_path(&local).map_err(|e| e.to_string())?;
                // gitleaks joins (and so cleans) the auto-detected path.
                c.path = Some(PathBuf::from(super::walk::go_clean(
                    &local.to_string_lossy(),
                )));
                c
            } else {
                Config::builtin()
            }
        }
    };
    for (f, _) in &args.formats {
        if !matches!(f.as_str(), "json" | "sarif" | "human") {
            return Err(format!(
                "unknown format `{f}` (expected json, sarif or human)"
            ));
        }
    }
    let opts = ScanOptions {
        max_decode_depth: args.max_decode_depth,
        ..ScanOptions::default()
    };
    let outcome = if args.staged {
        let o = super::scan_staged(&cfg, &root, &opts).map_err(|e| e.to_string())?;
        if o.files_scanned == 0 {
            // An empty scan must never pass for a clean one.
            return Err("nothing is staged: 0 files, 0 bytes scanned".to_string());
        }
        o
    } else if args.git {
        super::scan_git(&cfg, &root, args.log_opts.as_deref(), &opts).map_err(|e| e.to_string())?
    } else {
        super::scan_dir(&cfg, &root, &opts).map_err(|e| e.to_string())?
    };
    let mut findings = outcome.findings;
    let ignore_path = args.ignore_file.clone().or_else(|| {
        let p = if root.is_dir() {
            root.join(".gitleaksignore")
        } else {
            PathBuf::from(".gitleaksignore")
        };
        p.is_file().then_some(p)
    });
    if let Some(p) = ignore_path {
        findings = Ignore::load(&p)
            .map_err(|e| e.to_string())?
            .filter(findings);
    }
    let redact = !args.no_redact;
    if let Some(b) = &args.baseline {
        findings = Baseline::load(b)
            .map_err(|e| e.to_string())?
            .filter(findings, redact);
    }
    let formats = if args.formats.is_empty() {
        vec![("human".to_string(), None)]
    } else {
        args.formats.clone()
    };
    let base = root.to_string_lossy().into_owned();
    for (fmt, out) in &formats {
        let text = match fmt.as_str() {
            "json" => report::gitleaks_json(&findings, redact),
            "sarif" => report::sarif(&findings, &cfg, redact, Some(&base)),
            _ => report::human(&findings, redact),
        };
        match out {
            Some(p) => std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?,
            None => print!("{text}"),
        }
    }
    Ok(if findings.is_empty() { 0 } else { 1 })
}
