//! Release resilience: rollback drills, re-runnable migrations and env hygiene, against
//! real local servers, real shell scripts and real git repositories in temp dirs.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use launchgate::serve::Reply;

/// A local HTTP server whose `/version` answers the content of `version.txt` in the
/// fixture dir (as `{"build": {"sha": ...}}` under `/version.json`). Scripts flip it.
fn version_server(f: &mut Fixture, initial: &str) -> u16 {
    let file = f.path().join("version.txt");
    std::fs::write(&file, format!("{initial}\n")).unwrap();
    let file = Arc::new(file);
    f.http(move |r| {
        let v = std::fs::read_to_string(&*file).unwrap_or_default();
        match r.path.as_str() {
            "/version" => Reply::new(200)
                .header("content-type", "text/plain")
                .body(&v),
            "/" => Reply::html(&format!("<h1>release {}</h1>", v.trim())),
            "/version.json" => Reply::new(200)
                .header("content-type", "application/json")
                .body(&format!("{{\"build\":{{\"sha\":\"{}\"}}}}", v.trim())),
            _ => Reply::new(404),
        }
    })
}

fn script(f: &Fixture, name: &str, body: &str) {
    let p = f.write(name, &format!("#!/bin/sh\n{body}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const FLIP: &str = "echo \"$1\" > version.txt\necho \"switched release to $1\"";

fn drill_policy(f: &Fixture, port: u16, extra: &str) -> std::path::PathBuf {
    f.policy(
        &[],
        &format!(
            "rollback:\n  version_url: http://127.0.0.1:{port}/version\n  current: v2\n  previous: v1\n  rollback: ./rollback.sh v1\n  max_duration: 1500ms\n  poll_interval: 50ms\n{extra}"
        ),
    )
}

fn version_now(f: &Fixture) -> String {
    std::fs::read_to_string(f.path().join("version.txt"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn rollback_drill_that_works_passes_all_three() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(&f, "rollback.sh", FLIP);
    script(&f, "restore.sh", FLIP);
    let p = drill_policy(&f, port, "  restore: ./restore.sh v2\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let t = format!("http://127.0.0.1:{port}/version");
    for id in ["rollback.verify", "rollback.duration", "rollback.restore"] {
        assert_eq!(r.status(id, &t), "pass", "{id}: {}", r.stdout);
    }
    let v = r.one("rollback.verify", &t);
    assert_eq!(v["evidence"]["rollback"]["exit_code"], 0);
    assert!(v["evidence"]["rollback"]["stdout_tail"]
        .as_str()
        .unwrap()
        .contains("switched release to v1"));
    assert_eq!(v["evidence"]["poll"]["observed"], "v1");
    let d = r.one("rollback.duration", &t);
    assert!(d["evidence"]["recovery_ms"].as_u64().unwrap() < 1500);
    assert_eq!(d["evidence"]["max_duration_ms"], 1500);
    let rs = r.one("rollback.restore", &t);
    assert!(rs["evidence"]["restore"]["stdout_tail"]
        .as_str()
        .unwrap()
        .contains("switched release to v2"));
    assert_eq!(version_now(&f), "v2");
}

#[test]
fn drill_runs_after_the_other_checks() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(&f, "rollback.sh", FLIP);
    script(&f, "restore.sh", FLIP);
    let p = drill_policy(
        &f,
        port,
        &format!("  restore: ./restore.sh v2\npages:\n  - url: http://127.0.0.1:{port}/\n    expect: {{ body_contains: release v2 }}\n"),
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.status("pages.body", &format!("http://127.0.0.1:{port}/")),
        "pass"
    );
}

#[test]
fn rollback_reads_a_json_pointer() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "abc123");
    script(&f, "rollback.sh", FLIP);
    script(&f, "restore.sh", FLIP);
    let p = f.policy(
        &[],
        &format!(
            "rollback:\n  version_url: http://127.0.0.1:{port}/version.json\n  version_json: /build/sha\n  current: abc123\n  previous: 0ff1ce\n  rollback: ./rollback.sh 0ff1ce\n  restore: ./restore.sh abc123\n  max_duration: 2s\n  poll_interval: 50ms\n"
        ),
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let t = format!("http://127.0.0.1:{port}/version.json");
    assert_eq!(r.status("rollback.verify", &t), "pass");
    assert_eq!(r.status("rollback.restore", &t), "pass");
}

#[test]
fn slow_rollback_lands_but_breaks_the_time_budget() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    // The switch happens in the background 1.2 s later: the command itself is quick.
    script(
        &f,
        "rollback.sh",
        "(sleep 1.2; echo \"$1\" > version.txt) >/dev/null 2>&1 &\necho scheduled",
    );
    script(&f, "restore.sh", FLIP);
    let p = f.policy(
        &[],
        &format!(
            "rollback:\n  version_url: http://127.0.0.1:{port}/version\n  current: v2\n  previous: v1\n  rollback: ./rollback.sh v1\n  restore: ./restore.sh v2\n  max_duration: 800ms\n  poll_interval: 50ms\n"
        ),
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let t = format!("http://127.0.0.1:{port}/version");
    assert_eq!(r.status("rollback.verify", &t), "pass", "{}", r.stdout);
    let d = r.one("rollback.duration", &t);
    assert_eq!(d["status"], "fail");
    assert_eq!(d["severity"], "blocker");
    assert!(d["message"]
        .as_str()
        .unwrap()
        .contains("over the 800 ms budget"));
    assert!(d["evidence"]["recovery_ms"].as_u64().unwrap() >= 1100);
    assert_eq!(r.status("rollback.restore", &t), "pass");
    assert_eq!(version_now(&f), "v2");
}

#[test]
fn rollback_that_never_flips_fails_verify_and_restores() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(&f, "rollback.sh", "echo 'pretending to roll back'");
    script(&f, "restore.sh", FLIP);
    let p = drill_policy(&f, port, "  restore: ./restore.sh v2\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1);
    let t = format!("http://127.0.0.1:{port}/version");
    let v = r.one("rollback.verify", &t);
    assert_eq!(v["status"], "fail");
    assert!(
        v["message"].as_str().unwrap().contains("still serves `v2`"),
        "{v:#}"
    );
    assert_eq!(r.status("rollback.duration", &t), "fail");
    assert_eq!(r.status("rollback.restore", &t), "pass");
}

#[test]
fn failed_restore_is_a_loud_blocker() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(&f, "rollback.sh", FLIP);
    script(
        &f,
        "restore.sh",
        "echo 'deploy: artifact v2 not found in registry' >&2\nexit 3",
    );
    let p = drill_policy(&f, port, "  restore: ./restore.sh v2\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1);
    let t = format!("http://127.0.0.1:{port}/version");
    assert_eq!(r.status("rollback.verify", &t), "pass");
    let rs = r.one("rollback.restore", &t);
    assert_eq!(rs["status"], "fail");
    assert_eq!(rs["severity"], "blocker");
    let msg = rs["message"].as_str().unwrap();
    assert!(msg.contains("LEFT ON THE OLD VERSION"), "{msg}");
    assert!(msg.contains("exited 3"), "{msg}");
    assert!(msg.contains("artifact v2 not found"), "{msg}");
    assert_eq!(rs["evidence"]["left_on_old_version"], true);
    assert_eq!(rs["evidence"]["restore"]["exit_code"], 3);
    // the blocker leads the report
    assert_eq!(r.json()["checks"][0]["id"], "rollback.restore");
    assert_eq!(version_now(&f), "v1");
    std::fs::write(f.path().join("version.txt"), "v2").unwrap();
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&p)
        .args(["--format", "markdown"]);
    let md = run(&mut c);
    assert!(
        md.stdout.contains("LEFT ON THE OLD VERSION"),
        "{}",
        md.stdout
    );
}

#[test]
fn no_restore_command_still_says_the_site_was_left_behind() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(&f, "rollback.sh", FLIP);
    let p = drill_policy(&f, port, "");
    let r = check_json(&p, &[]);
    let t = format!("http://127.0.0.1:{port}/version");
    let rs = r.one("rollback.restore", &t);
    assert_eq!(rs["status"], "fail");
    assert!(rs["message"]
        .as_str()
        .unwrap()
        .contains("no `restore` command"));
}

#[test]
fn wrong_starting_version_does_not_run_the_drill() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v0");
    script(&f, "rollback.sh", "touch ran");
    let p = drill_policy(&f, port, "  restore: ./rollback.sh v2\n");
    let r = check_json(&p, &[]);
    let t = format!("http://127.0.0.1:{port}/version");
    assert_eq!(r.status("rollback.verify", &t), "fail");
    assert_eq!(r.status("rollback.duration", &t), "skipped");
    assert!(!f.path().join("ran").exists());
}

#[test]
fn unreachable_version_url_is_an_error_not_a_pass() {
    let f = Fixture::new();
    let port = raw_server(|_s| {}); // accepts and hangs up
    script(&f, "rollback.sh", "touch ran");
    let p = drill_policy(&f, port, "");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1);
    let t = format!("http://127.0.0.1:{port}/version");
    for id in ["rollback.verify", "rollback.duration", "rollback.restore"] {
        assert_eq!(r.status(id, &t), "error", "{id}");
    }
    assert!(!f.path().join("ran").exists());
}

fn alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn hung_rollback_is_killed_with_its_process_group() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    // A grandchild that would outlive a plain kill of `sh`.
    script(
        &f,
        "rollback.sh",
        "sleep 30 &\necho $! > grandchild.pid\necho started\nwait",
    );
    script(&f, "restore.sh", FLIP);
    let p = f.policy(
        &[],
        &format!(
            "rollback:\n  version_url: http://127.0.0.1:{port}/version\n  current: v2\n  previous: v1\n  rollback: ./rollback.sh v1\n  restore: ./restore.sh v2\n  max_duration: 600ms\n  poll_interval: 50ms\n"
        ),
    );
    let started = std::time::Instant::now();
    let r = check_json(&p, &[]);
    assert!(started.elapsed().as_secs() < 10);
    let t = format!("http://127.0.0.1:{port}/version");
    let v = r.one("rollback.verify", &t);
    assert_eq!(v["status"], "fail");
    assert_eq!(v["evidence"]["rollback"]["timed_out"], true);
    assert!(v["evidence"]["rollback"]["stdout_tail"]
        .as_str()
        .unwrap()
        .contains("started"));
    let d = r.one("rollback.duration", &t);
    assert!(
        d["message"].as_str().unwrap().contains("was killed"),
        "{d:#}"
    );
    let pid = std::fs::read_to_string(f.path().join("grandchild.pid")).unwrap();
    assert!(!alive(pid.trim()), "grandchild {pid} survived the timeout");
}

#[test]
fn secrets_in_command_output_never_reach_a_report() {
    let mut f = Fixture::new();
    let port = version_server(&mut f, "v2");
    script(
        &f,
        "rollback.sh",
        "echo \"using token $DEPLOY_TOKEN\"\necho \"dsn=$SENTRY_DSN signing=$BOOKING_API_SIGNING\" >&2\necho \"$1\" > version.txt",
    );
    script(
        &f,
        "restore.sh",
        "echo \"auth $DEPLOY_TOKEN\" >&2\necho \"$1\" > version.txt",
    );
    script(
        &f,
        "migrate.sh",
        "echo \"connecting with $DEPLOY_TOKEN\" >&2\nexit 1",
    );
    let p = f.policy(
        &[],
        &format!(
            "secret_vars: [BOOKING_API_SIGNING]\nrollback:\n  version_url: http://127.0.0.1:{port}/version\n  current: v2\n  previous: v1\n  rollback: ./rollback.sh v1\n  restore: ./restore.sh v2\n  max_duration: 2s\n  poll_interval: 50ms\nmigrations:\n  command: ./migrate.sh\n"
        ),
    );
    let secrets = [
        "tok_9f8e7d6c5b4a3210",
        "https://abc:def@sentry.example/42",
        "sig-0123456789abcdef",
    ];
    for fmt in ["json", "markdown", "human"] {
        let mut c = bin();
        c.arg("check")
            .arg("-p")
            .arg(&p)
            .args(["--format", fmt, "-v"])
            .env("DEPLOY_TOKEN", secrets[0])
            .env("SENTRY_DSN", secrets[1])
            .env("BOOKING_API_SIGNING", secrets[2]);
        let r = run(&mut c);
        for s in secrets {
            assert!(!r.stdout.contains(s), "{fmt} leaked {s}:\n{}", r.stdout);
            assert!(!r.stderr.contains(s), "{fmt} leaked {s} on stderr");
        }
        if fmt == "json" {
            let t = format!("http://127.0.0.1:{port}/version");
            let v = r.one("rollback.verify", &t);
            assert_eq!(
                v["evidence"]["rollback"]["stdout_tail"], "using token ***",
                "{v:#}"
            );
            assert_eq!(
                v["evidence"]["rollback"]["stderr_tail"],
                "dsn=*** signing=***"
            );
            let m = r.one("migrations.run", "./migrate.sh");
            assert!(m["message"]
                .as_str()
                .unwrap()
                .contains("connecting with ***"));
        }
    }
}

// ---- migrations ----

fn migrations_policy(f: &Fixture, body: &str, extra: &str) -> std::path::PathBuf {
    script(f, "migrate.sh", body);
    f.policy(
        &[],
        &format!("migrations:\n  command: ./migrate.sh\n{extra}"),
    )
}

#[test]
fn idempotent_migration_passes() {
    let f = Fixture::new();
    let p = migrations_policy(
        &f,
        "mkdir -p db && touch db/schema && echo applied 3 migrations",
        "",
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.status("migrations.run", "./migrate.sh"), "pass");
    let m = r.one("migrations.rerun", "./migrate.sh");
    assert_eq!(m["status"], "pass");
    assert_eq!(m["evidence"]["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn migration_that_fails_on_rerun_is_not_re_runnable() {
    let f = Fixture::new();
    let p = migrations_policy(
        &f,
        "mkdir db || { echo 'ERROR: relation \"leads\" already exists' >&2; exit 1; }\necho created",
        "  runs: 3\n",
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("migrations.run", "./migrate.sh"), "pass");
    let m = r.one("migrations.rerun", "./migrate.sh");
    assert_eq!(m["status"], "fail");
    assert_eq!(m["severity"], "blocker");
    let msg = m["message"].as_str().unwrap();
    assert!(msg.contains("not re-runnable"), "{msg}");
    assert!(msg.contains("run 2 of 3"), "{msg}");
    assert!(m["evidence"]["stderr_tail"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    // it stops at the first failure
    assert_eq!(m["evidence"]["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn migration_that_fails_at_once_or_hangs() {
    let f = Fixture::new();
    let p = migrations_policy(&f, "echo boom >&2; exit 2", "");
    let r = check_json(&p, &[]);
    assert_eq!(r.status("migrations.run", "./migrate.sh"), "fail");
    assert_eq!(r.status("migrations.rerun", "./migrate.sh"), "skipped");

    let f = Fixture::new();
    let p = migrations_policy(&f, "echo locking; sleep 20", "  timeout: 300ms\n");
    let t = std::time::Instant::now();
    let r = check_json(&p, &[]);
    assert!(t.elapsed().as_secs() < 8);
    let m = r.one("migrations.run", "./migrate.sh");
    assert_eq!(m["status"], "fail");
    assert!(m["message"].as_str().unwrap().contains("timed out"));
    assert_eq!(m["evidence"]["runs"][0]["timed_out"], true);
}

// ---- env ----

fn git(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .output()
        .unwrap();
    assert!(st.status.success(), "git {args:?}: {st:?}");
}

#[test]
fn env_required_reports_names_never_values() {
    let f = Fixture::new();
    git(f.path(), &["init", "-q"]);
    let p = f.policy(
        &[],
        "env:\n  required: [LG_TEST_DATABASE_URL, LG_TEST_STRIPE_SECRET_KEY, LG_TEST_EMPTY, LG_TEST_BLANK]\n",
    );
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&p)
        .args(["--format", "json"])
        .env(
            "LG_TEST_DATABASE_URL",
            ["postgres://u:", "p4ssw0rd", "@db/prod"].concat(),
        )
        .env_remove("LG_TEST_STRIPE_SECRET_KEY")
        .env("LG_TEST_EMPTY", "")
        .env("LG_TEST_BLANK", "   ");
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("p4ssw0rd"));
    assert_eq!(r.status("env.required", "LG_TEST_DATABASE_URL"), "pass");
    let s = r.one("env.required", "LG_TEST_STRIPE_SECRET_KEY");
    assert_eq!(s["status"], "fail");
    assert_eq!(s["severity"], "blocker");
    assert_eq!(s["message"], "LG_TEST_STRIPE_SECRET_KEY is not set");
    assert_eq!(s["evidence"]["set"], false);
    let e = r.one("env.required", "LG_TEST_EMPTY");
    assert_eq!(e["message"], "LG_TEST_EMPTY is set but empty");
    assert_eq!(e["evidence"]["set"], true);
    assert_eq!(r.status("env.required", "LG_TEST_BLANK"), "fail");
    // an empty repository tracks nothing forbidden
    assert_eq!(r.status("env.tracked", "git ls-files"), "pass");
}

#[test]
fn tracked_env_file_and_key_are_blockers() {
    let f = Fixture::new();
    let d = f.path();
    git(d, &["init", "-q"]);
    std::fs::create_dir_all(d.join("deploy")).unwrap();
    std::fs::create_dir_all(d.join("src")).unwrap();
    for (name, text) in [
        (".env", "DATABASE_URL=postgres://prod\n"),
        (".env.example", "DATABASE_URL=\n"),
        ("deploy/.env.production", "X=1\n"),
        ("deploy/server.key", "-----BEGIN PRIVATE KEY-----\n"),
        ("src/env.rs", "fn main() {}\n"),
        (".env.local", "untracked, ignored by the check\n"),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
    git(
        d,
        &[
            "add",
            ".env",
            ".env.example",
            "deploy/.env.production",
            "deploy/server.key",
            "src/env.rs",
        ],
    );
    let p = f.policy(&[], "env:\n  required: []\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let tracked = r.results("env.tracked");
    let mut targets: Vec<&str> = tracked
        .iter()
        .map(|c| c["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [".env", "deploy/.env.production", "deploy/server.key"]
    );
    for c in &tracked {
        assert_eq!(c["status"], "fail");
        assert_eq!(c["severity"], "blocker");
        assert_eq!(c["location"]["path"], c["target"]);
    }

    // An explicit list replaces the default; `[]` turns the check off.
    let p = f.policy(&[], "env:\n  forbid_tracked: [\"*.key\"]\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.results("env.tracked").len(), 1);
    assert_eq!(r.status("env.tracked", "deploy/server.key"), "fail");
    let p = f.policy(&[], "env:\n  forbid_tracked: []\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0);
    assert!(r.results("env.tracked").is_empty());
}

#[test]
fn env_tracked_outside_a_repository_fails_closed() {
    let f = Fixture::new();
    let p = f.policy(&[], "env:\n  required: []\n");
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&p)
        .args(["--format", "json"])
        .env("GIT_CEILING_DIRECTORIES", f.path().parent().unwrap());
    let r = run(&mut c);
    assert_eq!(r.status("env.tracked", "git ls-files"), "error");
    assert_eq!(r.code, 1);
}
