//! SARIF and JUnit for the whole gate: structurally valid SARIF 2.1.0 fit for GitHub
//! code scanning (checked here by hand, no vendored schema), and JUnit that parses.

mod common;

use common::*;
use launchgate::serve::Reply;
use serde_json::Value;

const H: &str = "www.shop.test";

fn faulty_site(f: &mut Fixture) -> std::path::PathBuf {
    let p = f.https(H, 3, |r| match r.path.as_str() {
        "/account" => good_page("hi").header("set-cookie", "sid=1"),
        "/gone" => Reply::new(404),
        _ => Reply::html("no headers at all"),
    });
    f.policy(
        &[(H, 443, p)],
        &format!(
            "headers: {{}}\npages:\n  - url: https://{H}/\n  - url: https://{H}/account\n  - url: https://{H}/gone\nwaivers:\n  - {{ id: headers.security, target: \"https://{H}/\", reason: CSP next sprint, until: 2099-01-01 }}\n  - {{ id: pages.status, target: \"https://{H}/old\", reason: gone, until: 2020-01-01 }}\n"
        ),
    )
}

fn sarif_problems(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if v["version"] != "2.1.0" {
        p.push("version must be 2.1.0".into());
    }
    if !v["$schema"].as_str().is_some_and(|s| s.contains("sarif")) {
        p.push("$schema".into());
    }
    let runs = v["runs"].as_array().cloned().unwrap_or_default();
    if runs.len() != 1 {
        p.push(format!("{} runs (GitHub wants one per tool)", runs.len()));
    }
    for run in &runs {
        let driver = &run["tool"]["driver"];
        if !driver["name"].is_string() {
            p.push("tool.driver.name".into());
        }
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        for r in &rules {
            for k in ["shortDescription", "fullDescription", "help"] {
                if r[k]["text"].as_str().is_none_or(|t| t.is_empty()) {
                    p.push(format!("rule {} has no {k}.text", r["id"]));
                }
            }
            if let Some(s) = r["properties"]["security-severity"].as_str() {
                if s.parse::<f64>()
                    .map_or(true, |x| !(0.0..=10.0).contains(&x))
                {
                    p.push(format!("security-severity {s}"));
                }
            }
        }
        let results = run["results"].as_array().cloned().unwrap_or_default();
        if results.len() > 25_000 {
            p.push("more than 25,000 results".into());
        }
        for r in &results {
            let id = r["ruleId"].as_str().unwrap_or("");
            match ids.iter().position(|x| *x == id) {
                None => p.push(format!("result rule {id} not among the rules")),
                Some(i) if r["ruleIndex"].as_u64() != Some(i as u64) => {
                    p.push(format!("ruleIndex of {id}"))
                }
                _ => {}
            }
            if !matches!(
                r["level"].as_str(),
                Some("none" | "note" | "warning" | "error")
            ) {
                p.push(format!("level {}", r["level"]));
            }
            if r["message"]["text"].as_str().is_none_or(|t| t.is_empty()) {
                p.push("message.text".into());
            }
            let locs = r["locations"].as_array().cloned().unwrap_or_default();
            if locs.is_empty() {
                p.push(format!("{id}: GitHub requires a location"));
            }
            for l in locs {
                let pl = &l["physicalLocation"];
                let uri = pl["artifactLocation"]["uri"].as_str().unwrap_or("");
                if uri.is_empty() || uri.starts_with('/') || uri.contains("://") {
                    p.push(format!("uri {uri} must be repo-relative"));
                }
                let reg = &pl["region"];
                let start = reg["startLine"].as_u64().unwrap_or(0);
                if start < 1 {
                    p.push(format!("{id}: startLine {start}"));
                }
                if let (Some(sc), Some(ec)) =
                    (reg["startColumn"].as_u64(), reg["endColumn"].as_u64())
                {
                    if ec <= sc {
                        p.push(format!("{id}: endColumn {ec} <= startColumn {sc}"));
                    }
                }
                if reg["endColumn"].as_u64() == Some(0) {
                    p.push("endColumn 0".into());
                }
            }
            if r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .is_none_or(|s| s.is_empty())
            {
                p.push("partialFingerprints".into());
            }
        }
    }
    p
}

#[test]
fn sarif_is_valid_for_code_scanning() {
    let mut f = Fixture::new();
    let policy = faulty_site(&mut f);
    let out = f.path().join("r.sarif");
    let mut c = bin();
    c.current_dir(f.path())
        .args(["check", "-p", "launch.yml", "--format", "sarif", "--out"])
        .arg(&out);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let _ = policy;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let problems = sarif_problems(&v);
    assert!(problems.is_empty(), "{problems:#?}\n{v:#}");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    for id in [
        "tls.expiry",
        "cache.html",
        "pages.status",
        "headers.hsts",
        "policy.waiver-expired",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // not about a file: located at the policy, on the entry's line
    let status = results
        .iter()
        .find(|r| r["ruleId"] == "pages.status")
        .unwrap();
    let loc = &status["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "launch.yml");
    let text = std::fs::read_to_string(f.path().join("launch.yml")).unwrap();
    let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
    assert!(
        text.lines().nth(line - 1).unwrap().contains("/gone"),
        "line {line}"
    );
    // blockers carry a security severity; the waived one is suppressed, not dropped
    assert!(status["properties"]["security-severity"].is_string());
    let waived = results
        .iter()
        .find(|r| r["properties"]["status"] == "waived")
        .unwrap();
    assert_eq!(waived["ruleId"], "headers.security");
    assert_eq!(waived["suppressions"][0]["kind"], "external");
    // passes are not alerts
    assert!(results.iter().all(|r| r["properties"]["status"] != "pass"));
}

/// A minimal XML well-formedness check and element counter.
fn xml_elements(s: &str) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("unclosed tag")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or("close without open")?;
            if open != name.trim() {
                return Err(format!("</{name}> closes <{open}>"));
            }
        } else {
            let name = tag
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            seen.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    if stack.is_empty() {
        Ok(seen)
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn junit_has_one_testcase_per_result() {
    let mut f = Fixture::new();
    let policy = faulty_site(&mut f);
    let mut c = bin();
    c.args(["check", "--format", "json", "--out"])
        .arg(f.path().join("r.json"))
        .args(["--format", "junit", "-p"])
        .arg(&policy);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    let els = xml_elements(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.stdout));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("r.json")).unwrap()).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(
        els.iter().filter(|e| *e == "testcase").count(),
        checks.len()
    );
    let fails = checks.iter().filter(|c| c["status"] == "fail").count();
    let errors = checks.iter().filter(|c| c["status"] == "error").count();
    let skipped = checks
        .iter()
        .filter(|c| c["status"] == "skipped" || c["status"] == "waived")
        .count();
    assert_eq!(els.iter().filter(|e| *e == "failure").count(), fails);
    assert_eq!(els.iter().filter(|e| *e == "error").count(), errors);
    assert_eq!(els.iter().filter(|e| *e == "skipped").count(), skipped);
    assert!(
        r.stdout.contains("testsuite name=\"launchgate.tls\""),
        "{}",
        r.stdout
    );
}
