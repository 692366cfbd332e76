//! Lighthouse: real reports (Lighthouse 12.2.3 + Chromium, a fast and a heavy page) and
//! hand-trimmed edge cases, judged side by side with Lighthouse CI 0.14's own `lhci
//! assert` verdicts on the same files (tests/fixtures/lighthouse/expected, produced by
//! generate.py there). No Node or Chromium needed here.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lighthouse")
}

fn lhr(name: &str) -> PathBuf {
    fixtures().join("lhr").join(format!("{name}.json"))
}

fn scenarios() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join("scenarios.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

/// The `lighthouse:` section equivalent to an LHCI assert config.
fn section(assert: &Value) -> Value {
    let mut s = json!({ "form_factor": "any" });
    for (k, v) in assert.as_object().unwrap() {
        let key = match k.as_str() {
            "aggregationMethod" => "aggregate",
            "budgetsFile" => "budgets_file",
            other => other,
        };
        s[key] = v.clone();
    }
    s
}

/// One comparable verdict: (url, audit, property, name, level) → (passed, expected, actual, values).
#[derive(Debug, Clone, PartialEq, PartialOrd)]
struct V {
    url: String,
    audit: String,
    prop: String,
    name: String,
    level: String,
    passed: bool,
    expected: f64,
    actual: Option<f64>,
    values: Vec<Option<f64>>,
}

fn close(a: &V, b: &V) -> bool {
    let f = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        (None, None) => true,
        _ => false,
    };
    a.url == b.url
        && a.audit == b.audit
        && a.prop == b.prop
        && a.name == b.name
        && a.level == b.level
        && a.passed == b.passed
        && f(Some(a.expected), Some(b.expected))
        && f(a.actual, b.actual)
        && a.values.len() == b.values.len()
        && a.values.iter().zip(&b.values).all(|(x, y)| f(*x, *y))
}

fn lhci_verdicts(expected: &Value) -> Vec<V> {
    expected["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| V {
            url: r["url"].as_str().unwrap().into(),
            audit: r["auditId"].as_str().unwrap().into(),
            prop: r["auditProperty"].as_str().unwrap_or("").into(),
            name: r["name"].as_str().unwrap().into(),
            level: r["level"].as_str().unwrap().into(),
            passed: r["passed"].as_bool().unwrap(),
            expected: r["expected"].as_f64().unwrap(),
            actual: r["actual"].as_f64(),
            values: r["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(Value::as_f64)
                .collect(),
        })
        .collect()
}

fn our_verdicts(report: &Value) -> Vec<V> {
    let mut out = Vec::new();
    for c in report["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if id != "lighthouse.audit" && id != "lighthouse.category" {
            continue;
        }
        let e = &c["evidence"];
        for r in e["results"].as_array().unwrap() {
            out.push(V {
                url: e["url"].as_str().unwrap().into(),
                audit: e["audit_id"].as_str().unwrap().into(),
                prop: r["audit_property"].as_str().unwrap_or("").into(),
                name: r["name"].as_str().unwrap().into(),
                level: e["level"].as_str().unwrap().into(),
                passed: r["passed"].as_bool().unwrap(),
                expected: r["expected"].as_f64().unwrap(),
                actual: r["actual"].as_f64(),
                values: r["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::as_f64)
                    .collect(),
            });
        }
        // one result per target, failing exactly when one of its verdicts fails
        let any_failed = e["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["passed"] == false);
        assert_eq!(c["status"] == "fail", any_failed, "{c:#}");
        if any_failed {
            let sev = if e["level"] == "error" {
                "blocker"
            } else {
                "warning"
            };
            assert_eq!(c["severity"], sev);
        }
    }
    out
}

fn sort(v: &mut [V]) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
}

fn run_scenario(name: &str, sc: &Value) -> (Run, Vec<V>) {
    let f = Fixture::new();
    if let Some(b) = sc["assert"]["budgetsFile"].as_str() {
        std::fs::copy(fixtures().join(b), f.path().join(b)).unwrap();
    }
    let policy = f.write(
        "launch.yml",
        &format!(
            "version: 1\nname: {name}\nlighthouse: {}\n",
            section(&sc["assert"])
        ),
    );
    let mut c = bin();
    c.arg("lighthouse");
    for l in sc["lhrs"].as_array().unwrap() {
        c.arg(lhr(l.as_str().unwrap()));
    }
    c.arg("-p").arg(&policy).args(["--format", "json"]);
    let r = run(&mut c);
    assert!(
        r.code == 0 || r.code == 1,
        "{name}: {}\n{}",
        r.code,
        r.stderr
    );
    let ours = our_verdicts(&r.json());
    (r, ours)
}

#[test]
fn verdicts_match_lighthouse_ci_on_every_scenario() {
    let mut compared = 0;
    let mut failing = 0;
    for (name, sc) in scenarios() {
        let text =
            std::fs::read_to_string(fixtures().join("expected").join(format!("{name}.json")))
                .unwrap();
        let expected: Value = serde_json::from_str(&text).unwrap();
        let mut theirs = lhci_verdicts(&expected);
        let (r, mut ours) = run_scenario(&name, &sc);
        // lhci drops `includePassedAssertions` when it converts a budgets file
        if sc["assert"].get("budgetsFile").is_some() {
            ours.retain(|v| !v.passed);
        }
        sort(&mut theirs);
        sort(&mut ours);
        let missing: Vec<&V> = theirs
            .iter()
            .filter(|t| !ours.iter().any(|o| close(o, t)))
            .collect();
        let extra: Vec<&V> = ours
            .iter()
            .filter(|o| !theirs.iter().any(|t| close(o, t)))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty() && ours.len() == theirs.len(),
            "{name}: lhci has {} verdicts, we have {}\nonly lhci: {missing:#?}\nonly ours: {extra:#?}",
            theirs.len(),
            ours.len()
        );
        // the gate fails exactly when lhci exits 1 (an error-level failure)
        let lhci_fails = theirs.iter().any(|v| !v.passed && v.level == "error");
        assert_eq!(expected["exit_code"] == 1, lhci_fails, "{name}");
        assert_eq!(r.code == 1, lhci_fails, "{name}: {}", r.stdout);
        compared += theirs.len();
        failing += theirs.iter().filter(|v| !v.passed).count();
    }
    eprintln!("compared {compared} verdicts with lhci 0.14 ({failing} failing): identical");
    assert!(compared > 1000 && failing > 200, "{compared} {failing}");
}

#[test]
fn cli_defaults_are_the_core_web_vitals() {
    let mut c = bin();
    c.arg("lighthouse")
        .args(["fast-1", "fast-2", "fast-3"].map(lhr))
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let u = "http://127.0.0.1:8811/fast.html";
    for key in [
        "largest-contentful-paint",
        "cumulative-layout-shift",
        "total-blocking-time",
        "categories:performance",
    ] {
        let id = if key.starts_with("categories") {
            "lighthouse.category"
        } else {
            "lighthouse.audit"
        };
        assert_eq!(r.status(id, &format!("{u} {key}")), "pass");
    }
    let rep = r.one("lighthouse.report", u);
    assert_eq!(rep["evidence"]["categories"]["performance"], 1.0);
    assert_eq!(rep["evidence"]["runs"], 3);
    assert_eq!(
        r.status("lighthouse.form-factor", &format!("{u} form-factor")),
        "pass"
    );

    let mut c = bin();
    c.arg("lighthouse")
        .args(["heavy-1", "heavy-2", "heavy-3"].map(lhr))
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    let h = "http://127.0.0.1:8811/heavy.html";
    let lcp = r.one("lighthouse.audit", &format!("{h} largest-contentful-paint"));
    assert_eq!(lcp["status"], "fail");
    assert_eq!(lcp["severity"], "blocker");
    assert!(
        lcp["message"].as_str().unwrap().contains("> 2500 ms"),
        "{lcp:#}"
    );
    assert_eq!(
        r.status("lighthouse.audit", &format!("{h} total-blocking-time")),
        "fail"
    );
    assert_eq!(
        r.status("lighthouse.audit", &format!("{h} cumulative-layout-shift")),
        "pass"
    );
    let perf = r.one(
        "lighthouse.category",
        &format!("{h} categories:performance"),
    );
    assert!(perf["message"].as_str().unwrap().contains("0.26 < 0.85"));
}

#[test]
fn desktop_reports_warn_when_mobile_is_wanted() {
    let mut c = bin();
    c.arg("lighthouse")
        .arg(lhr("fast-desktop-1"))
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "a warning does not fail the gate");
    let ff = r.one(
        "lighthouse.form-factor",
        "http://127.0.0.1:8811/fast.html form-factor",
    );
    assert_eq!(ff["status"], "fail");
    assert_eq!(ff["severity"], "warning");
    assert_eq!(ff["evidence"]["form_factors"], json!(["desktop"]));
}

#[test]
fn edge_cases_parse_and_fail_closed() {
    let mut c = bin();
    c.arg("lighthouse")
        .args(
            [
                "edge/null-scores",
                "edge/missing-audits",
                "edge/v9-final-url-only",
                "edge/v13-no-removed-audits",
            ]
            .map(lhr),
        )
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    // a run Lighthouse could not finish: null scores are no value, never a pass
    let b = "http://127.0.0.1:8811/broken.html";
    let rep = r.one("lighthouse.report", b);
    assert_eq!(rep["status"], "fail");
    assert!(rep["message"].as_str().unwrap().contains("NO_FCP"));
    assert_eq!(rep["evidence"]["categories"]["performance"], Value::Null);
    let perf = r.one(
        "lighthouse.category",
        &format!("{b} categories:performance"),
    );
    assert_eq!(perf["status"], "fail");
    assert!(
        perf["message"].as_str().unwrap().contains("no value"),
        "{perf:#}"
    );
    // a missing audit is an auditRan failure
    let m = r.one(
        "lighthouse.audit",
        "http://127.0.0.1:8811/missing.html largest-contentful-paint",
    );
    assert_eq!(m["status"], "fail");
    assert_eq!(m["evidence"]["results"][0]["name"], "auditRan");
    // v9: finalUrl only, grouped and judged like any other
    let v9 = r.one(
        "lighthouse.audit",
        "http://127.0.0.1:8811/v9.html largest-contentful-paint",
    );
    assert_eq!(v9["status"], "fail");
    assert_eq!(
        r.status(
            "lighthouse.audit",
            "http://127.0.0.1:8811/v13.html total-blocking-time"
        ),
        "pass"
    );
}

#[test]
fn unreadable_reports_are_errors() {
    let f = Fixture::new();
    let bad = f.write("lhr-bad.json", "{\"lhr\": {}}");
    let trunc = f.write("lhr-trunc.json", "{\"audits\": {");
    let mut c = bin();
    c.arg("lighthouse")
        .arg(&bad)
        .arg(&trunc)
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    let errs = r.results("lighthouse.report");
    assert!(errs.iter().all(|e| e["status"] == "error"), "{errs:#?}");
    assert!(errs.iter().any(|e| e["message"]
        .as_str()
        .unwrap()
        .contains("wraps one under `lhr`")));
}

#[test]
fn check_reads_report_globs_and_rejects_bad_assertions() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.path().join(".lighthouseci")).unwrap();
    for (i, n) in ["heavy-1", "heavy-2"].iter().enumerate() {
        std::fs::copy(lhr(n), f.path().join(format!(".lighthouseci/lhr-{i}.json"))).unwrap();
    }
    let p = f.policy(
        &[],
        "lighthouse:\n  reports: [\"./.lighthouseci/lhr-*.json\"]\n  aggregate: pessimistic\n  assertions:\n    \"categories:seo\": [warn, { minScore: 0.9 }]\n    total-blocking-time: [error, { maxNumericValue: 5000 }]\n",
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let h = "http://127.0.0.1:8811/heavy.html";
    let seo = r.one("lighthouse.category", &format!("{h} categories:seo"));
    assert_eq!(seo["severity"], "warning");
    assert_eq!(seo["evidence"]["runs"], 2);
    assert_eq!(
        r.status("lighthouse.audit", &format!("{h} total-blocking-time")),
        "pass"
    );

    let p = f.policy(&[], "lighthouse:\n  reports: [\"./nothing-*.json\"]\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("lighthouse.report", "lighthouse.reports"), "error");

    for (bad, what) in [
        (
            "  assertions: { lcp: [fatal, {}] }\n",
            "unknown assertion level",
        ),
        (
            "  assertions: { lcp: [error, { maxScore: 1 }] }\n",
            "unknown assertion option",
        ),
        ("  preset: lighthouse:everything\n", "unknown preset"),
        ("  aggregate: average\n", "aggregate `average`"),
        (
            "  assertMatrix: [{ matchingUrlPattern: \"(\", assertions: {} }]\n",
            "matchingUrlPattern",
        ),
        (
            "  preset: lighthouse:all\n  assertMatrix: [{ assertions: {} }]\n",
            "cannot be combined",
        ),
    ] {
        let p = f.policy(&[], &format!("lighthouse:\n  reports: [x.json]\n{bad}"));
        let r = check_json(&p, &[]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{bad}: {}", r.stderr);
    }
}

#[test]
fn markdown_shows_scores_and_failing_metrics_per_url() {
    let mut c = bin();
    c.arg("lighthouse")
        .args(["fast-1", "heavy-1", "heavy-2"].map(lhr))
        .args(["--format", "markdown"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    let md = &r.stdout;
    assert!(md.contains("### 🔦 Lighthouse"), "{md}");
    assert!(md.contains("| URL | Runs | Performance | Accessibility | Best Practices | SEO | Failing assertions |"), "{md}");
    let heavy = md
        .lines()
        .find(|l| l.starts_with("| http://127.0.0.1:8811/heavy.html | 2 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(heavy.contains("🔴 26"), "{heavy}");
    assert!(
        heavy.contains("`largest-contentful-paint` 34652 ms > 2500 ms"),
        "{heavy}"
    );
    assert!(
        heavy.contains("`categories:performance` 0.26 < 0.85"),
        "{heavy}"
    );
    assert!(!heavy.contains("cumulative-layout-shift"), "{heavy}");
    let fast = md
        .lines()
        .find(|l| l.starts_with("| http://127.0.0.1:8811/fast.html | 1 |"))
        .unwrap();
    assert!(
        fast.contains("🟢 100") && fast.contains("✅ none"),
        "{fast}"
    );
}

#[test]
fn runs_lighthouse_itself_when_it_and_chromium_are_on_path() {
    let f = Fixture::new();
    let bin_dir = f.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let fake = format!(
        "#!/bin/sh\necho \"$@\" >> {args}\necho \"CHROME_PATH=$CHROME_PATH\" >> {args}\nfor a in \"$@\"; do case \"$a\" in --output-path=*) cp {lhr} \"${{a#--output-path=}}\";; esac; done\n",
        args = f.path().join("args.txt").display(),
        lhr = lhr("heavy-1").display()
    );
    use std::os::unix::fs::PermissionsExt;
    for (name, body) in [("lighthouse", fake.as_str()), ("chromium", "#!/bin/sh\n")] {
        let p = bin_dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let p = f.policy(&[], "lighthouse:\n  urls: [\"https://www.shop.test/\"]\n");
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&p)
        .args(["--format", "json"])
        .env("PATH", &path)
        .env_remove("CHROME_PATH");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let args = std::fs::read_to_string(f.path().join("args.txt")).unwrap();
    assert!(args.contains("https://www.shop.test/"), "{args}");
    assert!(args.contains("--output=json"), "{args}");
    assert!(args.contains("--chrome-flags=--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"), "{args}");
    assert!(
        args.contains(&format!("CHROME_PATH={}/chromium", bin_dir.display())),
        "{args}"
    );
    assert_eq!(
        r.status(
            "lighthouse.audit",
            "http://127.0.0.1:8811/heavy.html largest-contentful-paint"
        ),
        "fail"
    );

    // Without the tools (and no reports) the kind fails closed and says why.
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&p)
        .args(["--format", "json"])
        .env("PATH", "/usr/bin:/bin")
        .env("CHROME_PATH", "/nonexistent");
    let r = run(&mut c);
    if r.results("lighthouse.report")
        .iter()
        .any(|x| x["status"] == "skipped")
    {
        assert_eq!(r.code, 1);
        assert_eq!(r.status("lighthouse.report", "lighthouse.reports"), "error");
    }
}

#[test]
fn a_directory_of_lhrs_and_lhci_option_names() {
    let f = Fixture::new();
    let d = f.path().join(".lighthouseci");
    std::fs::create_dir_all(&d).unwrap();
    for (i, n) in ["fast-1", "fast-2", "fast-3"].iter().enumerate() {
        std::fs::copy(lhr(n), d.join(format!("lhr-{}.json", 1700000000 + i))).unwrap();
    }
    std::fs::write(d.join("assertion-results.json"), "[]").unwrap();
    std::fs::write(d.join("lhr-1700000000.html"), "<html>").unwrap();
    let p = f.write(
        "launch.yml",
        "version: 1\nlighthouse:\n  aggregationMethod: pessimistic\n  assertions:\n    total-blocking-time: [error, { maxNumericValue: 50 }]\n",
    );
    let mut c = bin();
    c.arg("lighthouse")
        .arg(&d)
        .arg("-p")
        .arg(&p)
        .args(["--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let t = r.one(
        "lighthouse.audit",
        "http://127.0.0.1:8811/fast.html total-blocking-time",
    );
    assert_eq!(t["evidence"]["runs"], 3);
    assert_eq!(t["evidence"]["aggregation"], "pessimistic");
    assert_eq!(t["evidence"]["results"][0]["actual"], 91.0);
    assert_eq!(
        t["evidence"]["results"][0]["values"],
        json!([85.0, 17.5, 91.0])
    );

    // `check` with a bare section reads `.lighthouseci` next to the policy
    let p = f.write("launch.yml", "version: 1\nlighthouse: {}\n");
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let perf = r.one(
        "lighthouse.category",
        "http://127.0.0.1:8811/fast.html categories:performance",
    );
    assert_eq!(perf["evidence"]["runs"], 3);
}

/// A bounded deterministic mutation fuzz of the LHR parser and the assertions (the
/// cargo-fuzz target fuzz/fuzz_targets/lhr.rs does the same, unbounded).
#[test]
fn mangled_reports_never_panic() {
    use launchgate::checks::lighthouse::{assert, default_assertions, lhr};
    // a small real report: the categories and the audits the defaults and presets read
    let full: Value =
        serde_json::from_str(&std::fs::read_to_string(lhr("heavy-1")).unwrap()).unwrap();
    let mut small = full.clone();
    let keep = [
        "largest-contentful-paint",
        "cumulative-layout-shift",
        "total-blocking-time",
        "first-contentful-paint",
        "interactive",
        "resource-summary",
        "dom-size",
        "uses-http2",
        "viewport",
    ];
    small["audits"] = Value::Object(
        full["audits"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    for k in ["i18n", "timing", "entities", "stackPacks", "configSettings"] {
        small.as_object_mut().unwrap().remove(k);
    }
    let seed = serde_json::to_string(&small).unwrap().into_bytes();
    let presets = [
        default_assertions(),
        json!({"preset": "lighthouse:recommended", "aggregationMethod": "median-run"}),
        json!({"assertions": {"resource-summary:script:size": ["error", {"maxNumericValue": 1}], "categories:performance": "warn"}, "aggregationMethod": "pessimistic"}),
    ];
    let alphabet: &[u8] = b"{}[]:,\"0123456789.-enultrfa \\\n";
    let mut state: u64 = 0x2545f4914f6cdd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed = 0;
    for _ in 0..400 {
        let mut b = seed.clone();
        for _ in 0..(1 + next() % 3) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = alphabet[(next() as usize) % alphabet.len()],
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, alphabet[(next() as usize) % alphabet.len()]),
            }
        }
        let Ok(text) = String::from_utf8(b) else {
            continue;
        };
        if let Ok(l) = lhr::parse(&text) {
            parsed += 1;
            let runs = vec![l.clone(), l];
            for p in &presets {
                let _ = assert::assert_all(p, &runs);
            }
        }
    }
    assert!(parsed > 20, "only {parsed} mutants parsed");
}
