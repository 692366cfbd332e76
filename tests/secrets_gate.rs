//! The `secrets` kind in the gate: working tree (git-ignored files skipped), exactly a
//! range of commits, and the bundles a deployed page ships; plus `launchgate secrets`.

mod common;

use std::process::Command as Std;

use common::*;
use launchgate::serve::Reply;

fn token() -> String {
    ["gh", "p_", "Zq8Lr2Vx7Nc4Tb1Wm9Ks3Hd6Fy0Pj5Ga8Ue2"].concat()
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let o = Std::new("git")
        .args([
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn working_tree_history_range_and_ignored_files() {
    let f = Fixture::new();
    let repo = f.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("old.txt"), format!("token = \"{}\"\n", token())).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "old leak (before the PR)"]);
    std::fs::remove_file(repo.join("old.txt")).unwrap();
    git(&repo, &["commit", "-qam", "remove it"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join(".gitignore"), "local.env\n").unwrap();
    std::fs::write(repo.join("local.env"), format!("GITHUB={}\n", token())).unwrap();
    std::fs::write(
        repo.join("app.js"),
        format!("\n\nconst t = \"{}\";\n", token()),
    )
    .unwrap();
    git(&repo, &["add", ".gitignore", "app.js"]);
    git(&repo, &["commit", "-qm", "PR: add app.js"]);
    std::fs::write(
        repo.join("launch.yml"),
        "version: 1\nsecrets:\n  paths: [\".\"]\n  history: \"${BASE_SHA}..HEAD\"\n",
    )
    .unwrap();
    let mut c = bin();
    c.current_dir(&repo).env("BASE_SHA", &base).args([
        "check",
        "-p",
        "launch.yml",
        "--format",
        "json",
    ]);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let leaks = r.results("secrets.leak");
    let failed: Vec<_> = leaks.iter().filter(|c| c["status"] == "fail").collect();
    // app.js in the tree, app.js in the PR's commit; not the ignored file, not the old commit
    assert_eq!(failed.len(), 2, "{failed:#?}");
    let tree = failed
        .iter()
        .find(|c| c["target"] == "app.js:3")
        .expect("tree finding");
    assert_eq!(tree["severity"], "blocker");
    assert_eq!(tree["location"]["path"], "app.js");
    assert_eq!(tree["location"]["line"], 3);
    assert!(tree["fingerprint"].as_str().unwrap().starts_with("app.js:"));
    let hist = failed
        .iter()
        .find(|c| c["target"].as_str().unwrap().ends_with(":app.js:3"))
        .expect("history finding");
    assert!(!hist["evidence"]["commit"].as_str().unwrap().is_empty());
    assert!(!r.stdout.contains(&token()), "the secret is never printed");
    assert!(r.stdout.contains("ghp_… (40 chars)"), "{}", r.stdout);
}

#[test]
fn a_secret_in_a_deployed_bundle_is_found() {
    let mut f = Fixture::new();
    let t = token();
    let p = f.https("www.shop.test", 90, move |r| match r.path.as_str() {
        "/" => good_page("<script src=\"/assets/app.js\"></script><script src=\"https://cdn.other.test/x.js\"></script>"),
        "/assets/app.js" => Reply::new(200).header("content-type", "application/javascript").body(&format!("var k=\"{t}\";")),
        _ => Reply::new(404),
    });
    let policy = f.policy(
        &[("www.shop.test", 443, p)],
        "secrets:\n  paths: []\n  assets: [\"https://www.shop.test/\"]\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let a = r.one("secrets.asset", "https://www.shop.test/assets/app.js");
    assert_eq!(
        (a["status"].as_str(), a["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(r.status("secrets.asset", "https://www.shop.test/"), "pass");
    assert!(!r.stdout.contains(&token()));
}

#[test]
fn a_broken_gitleaks_config_is_a_policy_error() {
    let f = Fixture::new();
    f.write(
        ".gitleaks.toml",
        "[[rules]]\nid = \"bad\"\nregex = '''(unclosed'''\n",
    );
    let p = f.write(
        "launch.yml",
        "version: 1\nsecrets:\n  config: .gitleaks.toml\n",
    );
    let mut c = bin();
    c.args(["check", "-p"]).arg(&p);
    let r = run(&mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("launch.yml:3") && r.stderr.contains("bad"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_standalone_command_writes_gitleaks_json() {
    let f = Fixture::new();
    let dir = f.path().join("src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.py"), format!("KEY = '{}'\n", token())).unwrap();
    let out = f.path().join("leaks.json");
    let mut c = bin();
    c.arg("secrets")
        .arg(&dir)
        .args(["--format", "json", "--out"])
        .arg(&out);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let keys: Vec<&String> = v[0].as_object().unwrap().keys().collect();
    assert_eq!(keys[..4], ["RuleID", "Description", "StartLine", "EndLine"]);
    assert_eq!(v[0]["Secret"], "REDACTED");
    let mut c = bin();
    c.arg("secrets")
        .arg(f.path().join("empty-dir-that-does-not-exist"));
    assert_eq!(run(&mut c).code, 2);
}
