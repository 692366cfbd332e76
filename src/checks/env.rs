//! `env`: production configuration is complete (required variables set, values never
//! shown) and kept outside git (no `.env`, keys or certificates among tracked files).

use std::path::Path;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Location, Severity};

pub const REQUIRED: CheckInfo = CheckInfo {
    id: "env.required",
    severity: Severity::Blocker,
    title: "Required environment variable is set",
    why: "A deploy without its database URL, payment key or mail credentials boots and then fails on the first real visitor: the signup that was paid for errors out.",
    fix: "Set the variable (non-empty) in the environment the deploy and this check run in, e.g. as a GitHub Actions secret or in the host's settings.",
};

pub const TRACKED: CheckInfo = CheckInfo {
    id: "env.tracked",
    severity: Severity::Blocker,
    title: "No secrets file is tracked by git",
    why: "A committed `.env`, private key or certificate is readable by everyone with the repository and stays in its history forever; leaked production credentials end in account takeovers and data breaches.",
    fix: "`git rm --cached PATH`, add it to .gitignore, rotate every credential it held, and purge it from history (git filter-repo) if it was ever pushed. Commit a `.env.example` without values instead.",
};

pub const INFO: &[CheckInfo] = &[REQUIRED, TRACKED];

pub const DEFAULT_FORBID: &[&str] = &[".env", ".env.*", "*.pem", "*.key"];

/// Templates without values that teams commit on purpose.
const ALLOWED_SUFFIXES: &[&str] = &[".example", ".sample", ".template"];

/// The target of the single `env.tracked` pass result.
pub const TRACKED_PASS_TARGET: &str = "git ls-files";

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let Some(env) = ctx.loaded.policy.env.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in &env.required {
        out.push(required(name.as_str(), std::env::var_os(name.as_str())));
    }
    let patterns: Vec<String> = match &env.forbid_tracked {
        Some(p) => p.iter().map(|t| t.0.clone()).collect(),
        None => DEFAULT_FORBID.iter().map(|s| s.to_string()).collect(),
    };
    if !patterns.is_empty() {
        let dir = ctx.loaded.base_dir.clone();
        let pats = patterns.clone();
        let r = tokio::task::spawn_blocking(move || tracked(&dir, &pats)).await;
        match r {
            Ok(mut v) => out.append(&mut v),
            Err(e) => out.push(error(
                &TRACKED,
                TRACKED_PASS_TARGET,
                format!("listing tracked files failed: {e}"),
            )),
        }
    }
    out
}

/// One `env.required` result; only the name and whether it is set are reported.
pub fn required(name: &str, value: Option<std::ffi::OsString>) -> CheckResult {
    match value {
        None => fail(&REQUIRED, name, format!("{name} is not set"))
            .evidence("set", false)
            .evidence("empty", true),
        Some(v) if v.to_string_lossy().trim().is_empty() => {
            fail(&REQUIRED, name, format!("{name} is set but empty"))
                .evidence("set", true)
                .evidence("empty", true)
        }
        Some(_) => pass(&REQUIRED, name, format!("{name} is set"))
            .evidence("set", true)
            .evidence("empty", false),
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_string());
    }
    Ok(out.stdout)
}

/// `env.tracked` results for the repository that holds `dir`: one fail per tracked
/// file matching a pattern, or one pass.
pub fn tracked(dir: &Path, patterns: &[String]) -> Vec<CheckResult> {
    let root = match git(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(r) => String::from_utf8_lossy(&r).trim().to_string(),
        Err(e) => {
            return vec![error(
                &TRACKED,
                TRACKED_PASS_TARGET,
                format!("cannot list the files git tracks in {}: {e}", dir.display()),
            )]
        }
    };
    let listing = match git(Path::new(&root), &["ls-files", "-z"]) {
        Ok(l) => l,
        Err(e) => {
            return vec![error(
                &TRACKED,
                TRACKED_PASS_TARGET,
                format!("git ls-files failed: {e}"),
            )]
        }
    };
    let files: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let mut out = Vec::new();
    for f in &files {
        if let Some(p) = forbidden(f, patterns) {
            out.push(
                fail(
                    &TRACKED,
                    f,
                    format!("{f} is tracked by git (matches `{p}`)"),
                )
                .evidence("pattern", p)
                .location(Location {
                    path: f.clone(),
                    line: None,
                    column: None,
                    end_line: None,
                    end_column: None,
                }),
            );
        }
    }
    if out.is_empty() {
        out.push(
            pass(
                &TRACKED,
                TRACKED_PASS_TARGET,
                format!(
                    "none of the {} tracked files matches {}",
                    files.len(),
                    patterns.join(", ")
                ),
            )
            .evidence("tracked_files", files.len())
            .evidence("patterns", patterns.to_vec()),
        );
    }
    out
}

/// The pattern that forbids `path` (repo-relative, `/`-separated), if any. A pattern
/// starting with `!` re-allows what earlier ones matched, as in .gitignore; value-free
/// templates (`.env.example`, `.env.sample`, `.env.template`) are always allowed.
pub fn forbidden(path: &str, patterns: &[String]) -> Option<String> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if ALLOWED_SUFFIXES.iter().any(|s| base.ends_with(s)) {
        return None;
    }
    let mut hit: Option<String> = None;
    for p in patterns {
        let (neg, pat) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p.as_str()),
        };
        if path_matches(pat, path) {
            hit = if neg { None } else { Some(p.clone()) };
        }
    }
    hit
}

/// .gitignore-style: a pattern without `/` matches the file name at any depth, one with
/// `/` matches the whole path from the repository root (`**` crosses directories).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return false;
    }
    if pattern.contains('/') {
        let p = pattern.trim_start_matches('/');
        glob(p.as_bytes(), path.as_bytes())
    } else {
        let base = path.rsplit('/').next().unwrap_or(path);
        glob(pattern.as_bytes(), base.as_bytes())
    }
}

/// `*` (not across `/`), `**` (across `/`), `?`, `[abc]`, `[a-z]`, `[!x]`.
pub fn glob(p: &[u8], s: &[u8]) -> bool {
    if p.is_empty() {
        return s.is_empty();
    }
    match p[0] {
        b'*' => {
            let double = p.get(1) == Some(&b'*');
            let rest = if double {
                let r = &p[2..];
                r.strip_prefix(b"/").unwrap_or(r)
            } else {
                &p[1..]
            };
            for i in 0..=s.len() {
                if glob(rest, &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == b'/' && !double {
                    return false;
                }
            }
            false
        }
        b'?' => !s.is_empty() && s[0] != b'/' && glob(&p[1..], &s[1..]),
        b'[' => {
            let Some(end) = p.iter().skip(1).position(|c| *c == b']').map(|i| i + 1) else {
                return !s.is_empty() && s[0] == b'[' && glob(&p[1..], &s[1..]);
            };
            if s.is_empty() {
                return false;
            }
            let mut set = &p[1..end];
            let negate = matches!(set.first(), Some(b'!') | Some(b'^'));
            if negate {
                set = &set[1..];
            }
            let c = s[0];
            let mut i = 0;
            let mut found = false;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == b'-' {
                    if set[i] <= c && c <= set[i + 2] {
                        found = true;
                    }
                    i += 3;
                } else {
                    if set[i] == c {
                        found = true;
                    }
                    i += 1;
                }
            }
            found != negate && glob(&p[end + 1..], &s[1..])
        }
        c => !s.is_empty() && s[0] == c && glob(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats() -> Vec<String> {
        DEFAULT_FORBID.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_patterns() {
        let p = pats();
        for f in [
            ".env",
            "app/.env",
            ".env.production",
            "deploy/.env.local",
            "certs/server.pem",
            "id.key",
        ] {
            assert!(forbidden(f, &p).is_some(), "{f}");
        }
        for f in [
            ".env.example",
            "web/.env.sample",
            ".env.template",
            "env.rs",
            ".environment",
            "src/.envrc",
            "keys.rs",
            "README.md",
        ] {
            assert!(forbidden(f, &p).is_none(), "{f}");
        }
    }

    #[test]
    fn globs() {
        assert!(path_matches("config/*.yml", "config/a.yml"));
        assert!(!path_matches("config/*.yml", "config/x/a.yml"));
        assert!(path_matches("config/**/*.yml", "config/x/y/a.yml"));
        assert!(path_matches("**/secrets.json", "a/b/secrets.json"));
        assert!(path_matches("**/secrets.json", "secrets.json"));
        assert!(path_matches("id_[rd]sa", "home/id_rsa"));
        assert!(path_matches("*.p?m", "a.pem"));
        assert!(!path_matches("*.pem", "a.pem.txt"));
        let p = vec!["*.pem".to_string(), "!tests/fixtures/*.pem".to_string()];
        assert!(forbidden("tests/fixtures/ca.pem", &p).is_none());
        assert!(forbidden("deploy/ca.pem", &p).is_some());
    }
}
