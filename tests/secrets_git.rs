//! History and staged scans against repositories built with the git CLI.

use std::fs;
use std::path::Path;
use std::process::Command;

use launchgate::secrets::{scan_git, scan_staged, Config, Ignore, ScanOptions};

const CFG: &str = r#"
[[rules]]
id = "test-token"
description = "Test token"
regex = '''\b(tok_[a-z0-9]{12})\b'''
keywords = ["tok_"]
"#;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Dev Eloper",
            "-c",
            "user.email=dev@example.com",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", "Thu Dec 3 10:00:00 2026 +0200")
        .env("GIT_COMMITTER_DATE", "Thu Dec 3 10:00:00 2026 +0200")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn opts() -> ScanOptions {
    ScanOptions {
        max_decode_depth: 0,
        max_file_size: None,
        respect_gitignore: false,
        threads: 2,
    }
}

struct Repo {
    _td: tempfile::TempDir,
    shas: Vec<String>,
}

fn build() -> (Repo, std::path::PathBuf) {
    let td = tempfile::tempdir().unwrap();
    let d = td.path().to_path_buf();
    git(&d, &["init", "-q"]);
    let mut shas = Vec::new();
    let mut commit = |msg: &str| {
        git(&d, &["add", "-A"]);
        git(&d, &["commit", "-q", "-m", msg]);
        shas.push(git(&d, &["rev-parse", "HEAD"]));
    };
    fs::write(d.join("a.txt"), "one\ntok_first1234567\nthree\n").unwrap();
    commit("add a\n\nwith a body");
    git(&d, &["mv", "a.txt", "b.txt"]);
    commit("pure rename");
    fs::copy(d.join("b.txt"), d.join("c.txt")).unwrap();
    commit("copy");
    fs::write(
        d.join("b.txt"),
        "one\ntok_first1234567\nthree\nfour\ntok_second123456\n",
    )
    .unwrap();
    commit("edit b");
    git(&d, &["checkout", "-q", "-b", "feature"]);
    fs::write(d.join("d.txt"), "tok_feature12345\n").unwrap();
    commit("feature");
    git(&d, &["checkout", "-q", "main"]);
    git(&d, &["merge", "-q", "--no-ff", "feature", "-m", "merge"]);
    (Repo { _td: td, shas }, d)
}

#[test]
fn history_findings_match_gitleaks_semantics() {
    let (repo, d) = build();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let out = scan_git(&cfg, &d, None, &opts()).unwrap();
    let got: Vec<(String, String, usize, usize)> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.commit.clone(),
                f.file.clone(),
                f.start_line,
                f.start_column,
            )
        })
        .collect();
    let s = &repo.shas;
    let mut want = vec![
        // Not the fragment's first line: gitleaks' column is one higher.
        (s[0].clone(), "a.txt".to_string(), 2, 2),
        // a copy is new content at a new path; a pure rename is not
        (s[2].clone(), "c.txt".to_string(), 2, 2),
        // only the added lines of the edit (a hunk starting at line 4)
        (s[3].clone(), "b.txt".to_string(), 5, 2),
        (s[4].clone(), "d.txt".to_string(), 1, 1),
    ];
    want.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    assert_eq!(got, want);
    let f = out.findings.iter().find(|f| f.file == "a.txt").unwrap();
    assert_eq!(f.author, "Dev Eloper");
    assert_eq!(f.email, "dev@example.com");
    assert_eq!(f.date, "2026-12-03T08:00:00Z");
    assert_eq!(f.message, "add a\n\nwith a body");
    assert_eq!(f.fingerprint, format!("{}:a.txt:test-token:2", s[0]));
    assert!(f.link.is_empty(), "no remote, no link");
}

#[test]
fn log_opts_ranges() {
    let (repo, d) = build();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let last = scan_git(&cfg, &d, Some("HEAD~1..HEAD"), &opts()).unwrap();
    // HEAD is the merge; HEAD~1 is main's "edit b": the range holds the feature commit.
    let files: Vec<&str> = last.findings.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, ["d.txt"]);
    let none = scan_git(&cfg, &d, Some("none"), &opts()).unwrap();
    assert!(none.findings.is_empty());
    let all = scan_git(&cfg, &d, Some("all"), &opts()).unwrap();
    assert_eq!(all.findings.len(), 4);
    let _ = repo;
    assert!(scan_git(&cfg, &d, Some("no-such-ref..HEAD"), &opts()).is_err());
}

#[test]
fn ignore_entries_by_commit_or_everywhere() {
    let (repo, d) = build();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let out = scan_git(&cfg, &d, None, &opts()).unwrap();
    let ign = Ignore::parse(&format!(
        "{}:c.txt:test-token:2\nb.txt:test-token:5\n",
        repo.shas[2]
    ));
    let left: Vec<String> = ign
        .filter(out.findings)
        .into_iter()
        .map(|f| f.file)
        .collect();
    assert_eq!(left, ["a.txt", "d.txt"]);
}

#[test]
fn staged_scan_reports_bytes() {
    let (_repo, d) = build();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let clean = scan_staged(&cfg, &d, &opts()).unwrap();
    assert_eq!(
        clean.bytes_scanned, 0,
        "nothing staged must not look like a clean scan"
    );
    fs::write(d.join("new.txt"), "x\ntok_staged123456\n").unwrap();
    git(&d, &["add", "new.txt"]);
    let out = scan_staged(&cfg, &d, &opts()).unwrap();
    assert_eq!(out.bytes_scanned, 19);
    assert_eq!(out.files_scanned, 1);
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].file, "new.txt");
    assert_eq!(out.findings[0].start_line, 2);
    assert!(out.findings[0].commit.is_empty());
    assert_eq!(out.findings[0].fingerprint, "new.txt:test-token:2");
}
