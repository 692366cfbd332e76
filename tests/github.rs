//! GitHub reporting against a strict fake of the API: it checks what GitHub checks
//! (auth, required fields, ≤ 50 annotations a request, valid levels and conclusions,
//! output length) and answers like GitHub, so octocrab must parse the replies.

mod common;

use std::process::Command as Std;
use std::sync::{Arc, Mutex};

use common::*;
use launchgate::serve::{Incoming, Reply};
use serde_json::{json, Value};

const TOKEN: &str = "ghs_FakeTokenThatMustNeverBePrinted0123456789";

#[derive(Default)]
struct Api {
    requests: Vec<(String, String, Value)>,
    violations: Vec<String>,
    /// Answer the first N check-run writes with 502.
    flaky: usize,
    /// Refuse check runs like a fork PR's read-only token.
    fork: bool,
    comments: Vec<(u64, String)>,
}

fn check_run(id: u64, body: &Value) -> Value {
    json!({
        "id": id, "node_id": "CR_kwDOA", "details_url": null, "head_sha": body.get("head_sha").cloned().unwrap_or(json!("abc")),
        "url": format!("https://api.github.test/repos/acme/site/check-runs/{id}"), "html_url": format!("https://github.test/acme/site/runs/{id}"),
        "conclusion": body.get("conclusion").cloned().unwrap_or(Value::Null),
        "output": { "title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": "https://api.github.test/x" },
        "started_at": "2026-12-03T10:00:00Z", "completed_at": null, "name": body.get("name").cloned().unwrap_or(json!("Launch readiness")),
        "pull_requests": []
    })
}

fn validate_output(out: &Value, v: &mut Vec<String>) {
    for k in ["title", "summary"] {
        if !out.get(k).is_some_and(|x| x.is_string()) {
            v.push(format!("output.{k} is required"));
        }
    }
    for k in ["summary", "text"] {
        if let Some(s) = out.get(k).and_then(|x| x.as_str()) {
            if s.chars().count() > 65_535 {
                v.push(format!(
                    "output.{k} is {} characters (max 65535)",
                    s.chars().count()
                ));
            }
        }
    }
    let anns = out
        .get("annotations")
        .and_then(|a| a.as_array())
        .cloned()
        .unwrap_or_default();
    if anns.len() > 50 {
        v.push(format!(
            "{} annotations in one request (max 50)",
            anns.len()
        ));
    }
    for a in anns {
        for k in [
            "path",
            "start_line",
            "end_line",
            "annotation_level",
            "message",
        ] {
            if a.get(k).is_none() {
                v.push(format!("annotation without {k}: {a}"));
            }
        }
        if !matches!(
            a["annotation_level"].as_str(),
            Some("notice" | "warning" | "failure")
        ) {
            v.push(format!("bad annotation_level {}", a["annotation_level"]));
        }
        if a.get("start_column").is_some() && a["start_line"] != a["end_line"] {
            v.push("start_column on a multi-line annotation".into());
        }
        if a["path"].as_str().is_some_and(|p| p.starts_with('/')) {
            v.push(format!("absolute annotation path {}", a["path"]));
        }
    }
}

fn handle(api: &Mutex<Api>, r: &Incoming) -> Reply {
    let mut a = api.lock().unwrap();
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    a.requests
        .push((r.method.clone(), r.path.clone(), body.clone()));
    let json_reply = |status: u16, v: Value| {
        Reply::new(status)
            .header("content-type", "application/json")
            .body(&v.to_string())
    };
    if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return json_reply(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com"}),
        );
    }
    if r.header("user-agent").is_none() {
        a.violations.push("no user-agent".into());
    }
    let path = r.path.as_str();
    match (r.method.as_str(), path) {
        ("POST", "/repos/acme/site/check-runs") | ("PATCH", _)
            if path.starts_with("/repos/acme/site/check-runs") =>
        {
            if a.fork {
                return json_reply(
                    403,
                    json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/checks/runs"}),
                );
            }
            if a.flaky > 0 {
                a.flaky -= 1;
                return Reply::new(502).body("Bad gateway");
            }
            let mut v = Vec::new();
            if r.method == "POST" {
                for k in ["name", "head_sha"] {
                    if !body.get(k).is_some_and(|x| x.is_string()) {
                        v.push(format!("check run without {k}"));
                    }
                }
            }
            if let Some(s) = body.get("status") {
                if !matches!(s.as_str(), Some("queued" | "in_progress" | "completed")) {
                    v.push(format!("bad status {s}"));
                }
            }
            if let Some(c) = body.get("conclusion") {
                if !matches!(
                    c.as_str(),
                    Some(
                        "success"
                            | "failure"
                            | "neutral"
                            | "cancelled"
                            | "skipped"
                            | "timed_out"
                            | "action_required"
                    )
                ) {
                    v.push(format!("bad conclusion {c}"));
                }
                if body.get("status").and_then(|s| s.as_str()) != Some("completed") {
                    v.push("conclusion without status completed".into());
                }
            }
            if let Some(out) = body.get("output") {
                validate_output(out, &mut v);
            }
            if !v.is_empty() {
                a.violations.extend(v.clone());
                return json_reply(422, json!({"message": v.join("; ")}));
            }
            json_reply(
                if r.method == "POST" { 201 } else { 200 },
                check_run(4242, &body),
            )
        }
        ("GET", "/repos/acme/site/issues/7/comments") => {
            let list: Vec<Value> = a
                .comments
                .iter()
                .map(|(id, b)| json!({"id": id, "body": b}))
                .collect();
            json_reply(200, Value::Array(list))
        }
        ("POST", "/repos/acme/site/issues/7/comments") => {
            let id = 100 + a.comments.len() as u64;
            let b = body["body"].as_str().unwrap_or_default().to_string();
            a.comments.push((id, b.clone()));
            json_reply(201, json!({"id": id, "body": b}))
        }
        ("PATCH", p) if p.starts_with("/repos/acme/site/issues/comments/") => {
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let b = body["body"].as_str().unwrap_or_default().to_string();
            for c in a.comments.iter_mut().filter(|c| c.0 == id) {
                c.1 = b.clone();
            }
            json_reply(200, json!({"id": id, "body": b}))
        }
        _ => json_reply(404, json!({"message": "Not Found"})),
    }
}

struct Gh {
    f: Fixture,
    api: Arc<Mutex<Api>>,
    port: u16,
    repo: std::path::PathBuf,
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Std::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// A repository tracking `n` forbidden files (one located blocker each).
fn setup(n: usize, extra_policy: &str, api: Api) -> Gh {
    let mut f = Fixture::new();
    let api = Arc::new(Mutex::new(api));
    let a2 = api.clone();
    let port = f.http(move |r| handle(&a2, r));
    let repo = f.path().join("repo");
    std::fs::create_dir_all(repo.join("keys")).unwrap();
    git(&repo, &["init", "-q"]);
    for i in 0..n {
        std::fs::write(repo.join(format!("keys/k{i}.pem")), "x").unwrap();
    }
    std::fs::write(repo.join("README"), "x").unwrap();
    std::fs::write(
        repo.join("launch.yml"),
        format!("version: 1\nenv:\n  forbid_tracked: [\"*.pem\"]\n{extra_policy}"),
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "init"]);
    Gh { f, api, port, repo }
}

fn run_gh(g: &Gh, event: Option<Value>) -> Run {
    let summary = g.f.path().join("summary.md");
    let output = g.f.path().join("output.txt");
    let mut c = bin();
    c.current_dir(&g.repo)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", format!("http://127.0.0.1:{}", g.port))
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_WORKSPACE", &g.repo)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_TEMP", g.f.path())
        .env("GITHUB_SERVER_URL", "https://github.test")
        .env("GITHUB_RUN_ID", "99")
        .args(["check", "-p", "launch.yml", "-v"]);
    if let Some(e) = event {
        let p = g.f.path().join("event.json");
        std::fs::write(&p, e.to_string()).unwrap();
        c.env("GITHUB_EVENT_PATH", &p)
            .env("GITHUB_EVENT_NAME", "pull_request");
    }
    let r = run(&mut c);
    let s = std::fs::read_to_string(&summary).unwrap_or_default();
    let o = std::fs::read_to_string(&output).unwrap_or_default();
    for text in [&r.stdout, &r.stderr, &s, &o] {
        assert!(!text.contains(TOKEN), "the token leaked:\n{text}");
    }
    r
}

fn patches(api: &Api) -> Vec<&Value> {
    api.requests
        .iter()
        .filter(|(m, p, _)| m == "PATCH" && p.contains("check-runs"))
        .map(|(_, _, b)| b)
        .collect()
}

fn annotations_sent(api: &Api) -> usize {
    patches(api)
        .iter()
        .map(|b| {
            b["output"]["annotations"]
                .as_array()
                .map(|a| a.len())
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn annotations_are_batched_50_per_request() {
    for (n, expected_patches) in [(0usize, 1usize), (1, 1), (50, 1), (51, 2), (180, 4)] {
        let g = setup(n, "", Api::default());
        let r = run_gh(&g, None);
        let api = g.api.lock().unwrap();
        assert!(api.violations.is_empty(), "n={n}: {:?}", api.violations);
        assert_eq!(r.code, if n == 0 { 0 } else { 1 }, "n={n}: {}", r.stderr);
        let creates: Vec<_> = api
            .requests
            .iter()
            .filter(|(m, _, _)| m == "POST")
            .collect();
        assert_eq!(creates.len(), 1, "n={n}");
        assert_eq!(creates[0].2["status"], "in_progress");
        assert_eq!(creates[0].2["name"], "Launch readiness");
        let p = patches(&api);
        assert_eq!(p.len(), expected_patches, "n={n}");
        assert_eq!(annotations_sent(&api), n, "n={n}");
        assert_eq!(p[0]["status"], "completed");
        assert_eq!(
            p[0]["conclusion"],
            if n == 0 { "success" } else { "failure" }
        );
        if n > 0 {
            let a = &p[0]["output"]["annotations"][0];
            assert!(a["path"].as_str().unwrap().starts_with("keys/k"), "{a}");
            assert_eq!(a["annotation_level"], "failure");
            assert!(p[0]["output"]["title"]
                .as_str()
                .unwrap()
                .contains(&format!("{n} blocker")));
            assert!(p[0]["output"]["summary"]
                .as_str()
                .unwrap()
                .contains("Do not launch until fixed"));
        }
        assert!(
            !r.stderr.contains("workflow commands"),
            "no fallback expected: {}",
            r.stderr
        );
    }
}

#[test]
fn warnings_only_is_neutral_and_outputs_and_summary_are_written() {
    let g = setup(2, "severity:\n  env.tracked: warning\n", Api::default());
    let r = run_gh(&g, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let api = g.api.lock().unwrap();
    assert_eq!(patches(&api)[0]["conclusion"], "neutral");
    assert_eq!(
        patches(&api)[0]["output"]["annotations"][0]["annotation_level"],
        "warning"
    );
    let out = std::fs::read_to_string(g.f.path().join("output.txt")).unwrap();
    for k in ["result", "blockers", "warnings", "report"] {
        assert!(out.contains(&format!("{k}<<ghadelimiter_")), "{out}");
    }
    assert!(out.contains("\npass\n") && out.contains("\n2\n"), "{out}");
    let report_path = out
        .lines()
        .skip_while(|l| !l.starts_with("report<<"))
        .nth(1)
        .unwrap();
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(report_path).unwrap()).unwrap();
    assert_eq!(rep["counts"]["warning"], 2);
    let summary = std::fs::read_to_string(g.f.path().join("summary.md")).unwrap();
    assert!(summary.contains("launchgate"), "{summary}");
}

#[test]
fn a_fork_token_falls_back_to_workflow_commands_once() {
    let g = setup(
        3,
        "",
        Api {
            fork: true,
            ..Default::default()
        },
    );
    let r = run_gh(&g, None);
    assert_eq!(r.code, 1, "the exit code does not depend on reporting");
    let cmds: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(cmds.len(), 3, "{}", r.stdout);
    assert!(cmds[0].contains("file=keys/k"), "{}", cmds[0]);
    assert_eq!(
        r.stderr.matches("workflow commands").count(),
        1,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Resource not accessible by integration"));
    assert!(std::fs::read_to_string(g.f.path().join("summary.md"))
        .unwrap()
        .contains("env.tracked"));
}

#[test]
fn transient_502_is_retried() {
    let g = setup(
        1,
        "",
        Api {
            flaky: 2,
            ..Default::default()
        },
    );
    let r = run_gh(&g, None);
    assert_eq!(r.code, 1);
    let api = g.api.lock().unwrap();
    assert!(api.violations.is_empty(), "{:?}", api.violations);
    assert_eq!(annotations_sent(&api), 1);
    assert!(!r.stderr.contains("workflow commands"), "{}", r.stderr);
}

#[test]
fn huge_summaries_are_cut_under_the_limit() {
    // 1500 tracked files make a markdown report far beyond 65,535 characters
    let g = setup(1500, "", Api::default());
    let r = run_gh(&g, None);
    assert_eq!(r.code, 1);
    let api = g.api.lock().unwrap();
    assert!(api.violations.is_empty(), "{:?}", api.violations);
    let first = patches(&api)[0];
    let summary = first["output"]["summary"].as_str().unwrap();
    assert!(
        summary.len() <= 65_535 && summary.contains("truncated"),
        "{}",
        summary.len()
    );
    assert!(summary.contains("https://github.test/acme/site/actions/runs/99"));
    assert_eq!(annotations_sent(&api), 1500);
}

#[test]
fn sticky_comment_is_created_then_updated() {
    let g = setup(
        1,
        "report:\n  github: { comment: true, check_name: Launch gate }\n",
        Api::default(),
    );
    let event = json!({ "pull_request": { "number": 7, "head": { "sha": "feedfacefeedfacefeedfacefeedfacefeedface" } } });
    run_gh(&g, Some(event.clone()));
    run_gh(&g, Some(event));
    let api = g.api.lock().unwrap();
    assert_eq!(api.comments.len(), 1, "updated, not duplicated");
    assert!(api.comments[0]
        .1
        .starts_with("<!-- launchgate:Launch gate -->"));
    let create = api
        .requests
        .iter()
        .find(|(m, p, _)| m == "POST" && p.ends_with("check-runs"))
        .unwrap();
    assert_eq!(
        create.2["head_sha"], "feedfacefeedfacefeedfacefeedfacefeedface",
        "the PR head, not the merge commit"
    );
    assert_eq!(create.2["name"], "Launch gate");
}

#[test]
fn report_github_false_turns_it_off() {
    let g = setup(1, "report:\n  github: false\n", Api::default());
    let r = run_gh(&g, None);
    assert_eq!(r.code, 1);
    assert!(g.api.lock().unwrap().requests.is_empty());
}
