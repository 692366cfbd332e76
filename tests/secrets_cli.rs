//! `cli::run`: exit codes and report files.

use std::fs;
use std::path::PathBuf;

use launchgate::secrets::cli::{run, SecretsArgs};

fn args(path: PathBuf) -> SecretsArgs {
    SecretsArgs {
        path: Some(path),
        max_decode_depth: 5,
        ..Default::default()
    }
}

#[test]
fn exit_codes_and_json_report() {
    let td = tempfile::tempdir().unwrap();
    let src = td.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let clean = args(src.clone());
    assert_eq!(run(&clean), 0);

    // A token of the built-in github-pat rule, assembled at run time.
    let token = ["gh", "p_", "Zq8Lr2Vx7Nc4Tb1Wm9Ks3Hd6Fy0Pj5Ga8Ue2"].concat();
    fs::write(src.join("app.js"), format!("const t = \"{token}\";\n")).unwrap();
    let out = td.path().join("report.json");
    let mut a = args(src.clone());
    a.formats = vec![("json".into(), Some(out.clone()))];
    assert_eq!(run(&a), 1);
    let text = fs::read_to_string(&out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["RuleID"], "github-pat");
    assert_eq!(v[0]["Secret"], "REDACTED");
    assert!(!text.contains(&token));

    // The report as a baseline: nothing new.
    let mut b = args(src.clone());
    b.baseline = Some(out.clone());
    assert_eq!(run(&b), 0);

    // An ignore file with the fingerprint does the same.
    let fp = v[0]["Fingerprint"].as_str().unwrap().to_string();
    let ign = td.path().join("ignore");
    fs::write(&ign, format!("{fp}\n")).unwrap();
    let mut c = args(src.clone());
    c.ignore_file = Some(ign);
    assert_eq!(run(&c), 0);

    // Unredacted on request.
    let mut d = args(src);
    d.no_redact = true;
    d.formats = vec![("json".into(), Some(out.clone()))];
    assert_eq!(run(&d), 1);
    assert!(fs::read_to_string(&out).unwrap().contains(&token));
}

#[test]
fn config_and_usage_errors_exit_2() {
    let td = tempfile::tempdir().unwrap();
    let cfg = td.path().join("bad.toml");
    fs::write(&cfg, "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n").unwrap();
    let mut a = args(td.path().to_path_buf());
    a.config = Some(cfg);
    assert_eq!(run(&a), 2);
    let mut b = args(td.path().to_path_buf());
    b.formats = vec![("xml".into(), None)];
    assert_eq!(run(&b), 2);
    let mut c = args(td.path().join("missing"));
    c.git = false;
    assert_eq!(run(&c), 2);
}

#[test]
fn staged_with_nothing_staged_is_not_clean() {
    let td = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(td.path())
        .status()
        .unwrap();
    assert!(ok.success());
    let mut a = args(td.path().to_path_buf());
    a.staged = true;
    assert_eq!(run(&a), 2);
}
