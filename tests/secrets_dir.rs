//! Working-tree scans end to end: exact findings, reports, ignore files.

use std::fs;
use std::path::Path;

use launchgate::secrets::{report, scan_bytes, scan_dir, Baseline, Config, Ignore, ScanOptions};

const CFG: &str = r#"
[[rules]]
id = "test-token"
description = "Test token"
regex = '''\b(tok_[a-z0-9]{12})\b'''
keywords = ["tok_"]
tags = ["test"]

[[rules]]
id = "generic-assign"
description = "Generic"
regex = '''secret\s*=\s*"([^"]{8,})"'''
keywords = ["secret"]

[[rules]]
id = "pem-file"
description = "A key file"
path = '''\.pem$'''

[allowlist]
paths = ['''(?:^|/)ignored_dir(?:/|$)''']
regexes = ['''tok_0{12}''']
"#;

fn opts() -> ScanOptions {
    ScanOptions {
        max_decode_depth: 0,
        max_file_size: None,
        respect_gitignore: false,
        threads: 2,
    }
}

fn tree(root: &Path) {
    fs::create_dir_all(root.join("src")).unwrap();
    fs::create_dir_all(root.join("ignored_dir")).unwrap();
    fs::create_dir_all(root.join(".hidden")).unwrap();
    fs::write(
        root.join("src/a.txt"),
        "first tok_abcdef123456\n  tok_zz9988776655 end\n",
    )
    .unwrap();
    fs::write(root.join("src/allowed.txt"), "tok_000000000000\n").unwrap();
    fs::write(
        root.join("src/inline.txt"),
        "tok_abcdef123456 // gitleaks:allow\n",
    )
    .unwrap();
    fs::write(
        root.join("src/dedup.txt"),
        "secret = \"tok_abcdef654321\"\n",
    )
    .unwrap();
    fs::write(root.join("ignored_dir/x.txt"), "tok_abcdef123456\n").unwrap();
    fs::write(root.join(".hidden/h.txt"), "tok_hidden123456\n").unwrap();
    fs::write(root.join("key.pem"), "not really a key\n").unwrap();
    fs::write(root.join("empty.txt"), "").unwrap();
    // Binary by content type (a PDF header), not by NUL bytes.
    fs::write(root.join("doc.txt"), b"%PDF-1.4 tok_abcdef123456\n").unwrap();
    fs::write(root.join("nul.txt"), b"a\x00b\ntok_nul123456789\n").unwrap();
}

#[test]
fn dir_scan_exact_findings() {
    let td = tempfile::tempdir().unwrap();
    let root = td.path();
    tree(root);
    let cfg = Config::from_toml_str(CFG, "test.toml").unwrap();
    let out = scan_dir(&cfg, root, &opts()).unwrap();
    let r = root.to_string_lossy();
    let got: Vec<(String, String, usize, usize, usize, String)> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.file.strip_prefix(&*r).unwrap().to_string(),
                f.rule_id.clone(),
                f.start_line,
                f.start_column,
                f.end_column,
                f.secret.clone(),
            )
        })
        .collect();
    let e = |p: &str, id: &str, l, c, ec, s: &str| {
        (p.to_string(), id.to_string(), l, c, ec, s.to_string())
    };
    assert_eq!(
        got,
        vec![
            e("/.hidden/h.txt", "test-token", 1, 1, 16, "tok_hidden123456"),
            e("/key.pem", "pem-file", 0, 0, 0, ""),
            e("/nul.txt", "test-token", 2, 2, 17, "tok_nul123456789"),
            e("/src/a.txt", "test-token", 1, 7, 22, "tok_abcdef123456"),
            // Second line: gitleaks counts columns from the newline.
            e("/src/a.txt", "test-token", 2, 4, 19, "tok_zz9988776655"),
            e(
                "/src/dedup.txt",
                "test-token",
                1,
                11,
                26,
                "tok_abcdef654321"
            ),
        ]
    );
    assert_eq!(out.skipped_binary, 1);
    let second = &out.findings[4];
    assert_eq!(
        (second.start_column_exact, second.end_column_exact),
        (3, 18)
    );
    let a = &out.findings[3];
    assert_eq!((a.start_column_exact, a.end_column_exact), (7, 22));
    assert_eq!(a.fingerprint, format!("{r}/src/a.txt:test-token:1"));
    assert_eq!(a.tags, vec!["test".to_string()]);
    assert_eq!(a.matched, "tok_abcdef123456");
}

#[test]
fn respect_gitignore_option() {
    let td = tempfile::tempdir().unwrap();
    let root = td.path();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join(".gitignore"), "build/\n").unwrap();
    fs::create_dir_all(root.join("build")).unwrap();
    fs::write(root.join("build/out.txt"), "tok_built1234567\n").unwrap();
    fs::write(root.join("main.txt"), "tok_main12345678\n").unwrap();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let all = scan_dir(&cfg, root, &opts()).unwrap();
    assert_eq!(all.findings.len(), 2);
    let o = ScanOptions {
        respect_gitignore: true,
        ..opts()
    };
    let some = scan_dir(&cfg, root, &o).unwrap();
    assert_eq!(some.findings.len(), 1);
    assert!(some.findings[0].file.ends_with("main.txt"));
}

#[test]
fn oversized_files_are_counted() {
    let td = tempfile::tempdir().unwrap();
    fs::write(td.path().join("big.txt"), "tok_abcdef123456\n".repeat(100)).unwrap();
    fs::write(td.path().join("small.txt"), "tok_abcdef123456\n").unwrap();
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let o = ScanOptions {
        max_file_size: Some(100),
        ..opts()
    };
    let out = scan_dir(&cfg, td.path(), &o).unwrap();
    assert_eq!(out.skipped_large, 1);
    assert_eq!(out.files_scanned, 1);
    assert_eq!(out.bytes_scanned, 17);
    assert_eq!(out.findings.len(), 1);
}

#[test]
fn token_across_chunk_boundary_on_long_line() {
    // 100 KB chunks are extended by up to 25 KB looking for a blank line; on
    // one very long line a token is found whole, split (missed) or in the
    // next fragment with a column counted from that fragment, as gitleaks.
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let at = |pad: usize| {
        let mut s = "y".repeat(pad);
        s.push_str(" tok_abcdef123456 ");
        scan_bytes(&cfg, "long.txt", s.as_bytes(), &opts())
            .iter()
            .map(|f| (f.start_line, f.start_column))
            .collect::<Vec<_>>()
    };
    assert_eq!(at(124_970), vec![(1, 124_972)]);
    assert_eq!(at(124_990), vec![]);
    assert_eq!(at(125_010), vec![(1, 12)]);
}

#[test]
fn json_report_order_redaction_and_ignore_and_baseline() {
    let td = tempfile::tempdir().unwrap();
    tree(td.path());
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let out = scan_dir(&cfg, td.path(), &opts()).unwrap();
    let json = report::gitleaks_json(&out.findings, true);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = v[3].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "RuleID",
            "Description",
            "StartLine",
            "EndLine",
            "StartColumn",
            "EndColumn",
            "Match",
            "Secret",
            "File",
            "SymlinkFile",
            "Commit",
            "Entropy",
            "Author",
            "Email",
            "Date",
            "Message",
            "Tags",
            "Fingerprint"
        ]
    );
    assert_eq!(first["Secret"], "REDACTED");
    assert_eq!(first["Match"], "REDACTED");
    assert!(!json.contains("tok_abcdef123456"));
    // Path-only findings redact like Go's ReplaceAll with an empty needle.
    assert!(v[1]["Match"]
        .as_str()
        .unwrap()
        .starts_with("REDACTEDfREDACTEDi"));

    let ignore = Ignore::parse(&format!("# accepted\n{}\n", out.findings[3].fingerprint));
    let left = ignore.filter(out.findings.clone());
    assert_eq!(left.len(), out.findings.len() - 1);

    // A baseline is a previous (redacted) report.
    let base = Baseline::parse(&report::gitleaks_json(&out.findings[..2], true)).unwrap();
    let left = base.filter(out.findings.clone(), true);
    assert_eq!(left.len(), out.findings.len() - 2);
    let unredacted = Baseline::parse(&report::gitleaks_json(&out.findings[..2], false)).unwrap();
    assert_eq!(
        unredacted.filter(out.findings.clone(), false).len(),
        out.findings.len() - 2
    );
}

#[test]
fn human_and_sarif_reports() {
    let td = tempfile::tempdir().unwrap();
    tree(td.path());
    let cfg = Config::from_toml_str(CFG, "t").unwrap();
    let out = scan_dir(&cfg, td.path(), &opts()).unwrap();
    let h = report::human(&out.findings, true);
    assert!(h.contains("test-token"));
    assert!(h.contains("tok_… (16 chars)"));
    assert!(!h.contains("tok_abcdef123456"));
    let base = td.path().to_string_lossy().into_owned();
    let s = report::sarif(&out.findings, &cfg, true, Some(&base));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), cfg.rules.len());
    for r in v["runs"][0]["results"].as_array().unwrap() {
        let pl = &r["locations"][0]["physicalLocation"];
        let uri = pl["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/'), "{uri}");
        if let Some(reg) = pl.get("region") {
            assert!(reg["startLine"].as_u64().unwrap() >= 1);
            if reg["startLine"] == reg["endLine"] {
                assert!(reg["endColumn"].as_u64() > reg["startColumn"].as_u64());
            }
        }
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
    assert!(!s.contains("tok_abcdef123456"));
}

#[test]
fn config_errors_are_typed() {
    let e = Config::from_toml_str("[[rules]]\nid = \"r1\"\nregex = '''[a-'''\n", "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml") && e.contains("r1"), "{e}");
    let td = tempfile::tempdir().unwrap();
    let p = td.path().join("nope.toml");
    assert!(Config::from_path(&p).is_err());
}

#[test]
fn extend_path_relative_to_config() {
    let td = tempfile::tempdir().unwrap();
    fs::write(td.path().join("base.toml"), CFG).unwrap();
    fs::write(
        td.path().join("main.toml"),
        "[extend]\npath = \"base.toml\"\ndisabledRules = [\"pem-file\"]\n",
    )
    .unwrap();
    let c = Config::from_path(&td.path().join("main.toml")).unwrap();
    assert!(c.rule("test-token").is_some());
    assert!(c.rule("pem-file").is_none());
    assert_eq!(c.allowlists.len(), 1);
}
