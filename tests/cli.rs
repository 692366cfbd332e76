//! The command line contract: exit codes, policy errors, selection, waivers, baseline,
//! severity overrides, redaction in every format, explain and schema.

mod common;

use common::*;
use launchgate::serve::Reply;

const H: &str = "www.shop.test";

fn site(f: &mut Fixture) -> u16 {
    f.https(H, 90, |r| match r.path.as_str() {
        "/nohsts" => Reply::html("x").header("cache-control", "no-store"),
        _ => good_page("Book a call"),
    })
}

fn stderr_of(policy_text: &str) -> Run {
    let f = Fixture::new();
    let p = f.write("launch.yml", policy_text);
    let mut c = bin();
    c.arg("check").arg("-p").arg(&p);
    let r = run(&mut c);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!r.stderr.contains("backtrace"), "{}", r.stderr);
    r
}

#[test]
fn exit_0_when_the_gate_passes_and_1_when_it_fails() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let ok = f.policy(&[(H, 443, p)], &format!("pages:\n  - url: https://{H}/\n"));
    assert_eq!(check_json(&ok, &[]).code, 0);
    let bad = f.policy(
        &[(H, 443, p)],
        &format!("headers: {{}}\npages:\n  - url: https://{H}/nohsts\n"),
    );
    let r = check_json(&bad, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["result"], "fail");
}

#[test]
fn policy_errors_exit_2_with_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "version: 1\ndefaults:\n  timout: 5s\n",
            "launch.yml:3",
            "did you mean `timeout`",
        ),
        (
            "version: 1\npages:\n  - url: https://a.test/\n    expect: { staus: 200 }\n",
            "launch.yml:4",
            "did you mean `status`",
        ),
        (
            "version: 1\npages:\n  - url: https://a.test/\n    expect:\n      status: many\n",
            "launch.yml:5",
            "invalid HTTP status",
        ),
        (
            "version: 1\npages:\n  - url: ${LAUNCHGATE_TEST_UNSET_VAR}/\n",
            "launch.yml:3",
            "LAUNCHGATE_TEST_UNSET_VAR",
        ),
        ("version: 1\npages: [\n  - url: x\n", "launch.yml:", "error"),
        (
            "version: 1\ndefaults:\n  timeout: 10 parsecs\n",
            "launch.yml:3",
            "parsecs",
        ),
        (
            "version: 1\ndefaults:\n  timeout: 10\n",
            "launch.yml:3",
            "needs a unit",
        ),
        (
            "version: 1\npages:\n  - url: ftp://a.test/\n",
            "launch.yml:3",
            "http:// or https://",
        ),
        (
            "version: 1\npages:\n  - url: https://a.test/\n    cache: statc\n",
            "launch.yml:4",
            "did you mean `static`",
        ),
        (
            "version: 1\nseverity:\n  tls.expiri: info\n",
            "launch.yml:3",
            "did you mean `tls.expiry`",
        ),
        ("version: 2\n", "launch.yml:1", "unsupported policy version"),
        ("- just\n- a list\n", "launch.yml:1", "mapping"),
        ("", "launch.yml", "empty"),
        (
            "version: 1\nextends: [strict]\n",
            "launch.yml:2",
            "unknown preset",
        ),
        (
            "version: 1\ndefaults:\n  resolve: { \"nohostport\": \"127.0.0.1\" }\n",
            "launch.yml",
            "HOST:PORT",
        ),
        (
            "version: 1\ntls: { min_days: -3 }\n",
            "launch.yml:2",
            "whole number",
        ),
    ];
    for (text, loc, needle) in cases {
        let r = stderr_of(text);
        assert_eq!(r.code, 2, "policy {text:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(loc),
            "policy {text:?}: expected {loc} in\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(needle),
            "policy {text:?}: expected {needle} in\n{}",
            r.stderr
        );
    }
    // the key path is named
    let r = stderr_of(
        "version: 1\npages:\n  - url: https://a.test/\n    expect: { max_latency: soon }\n",
    );
    assert!(
        r.stderr.contains("pages[0].expect.max_latency"),
        "{}",
        r.stderr
    );
}

#[test]
fn missing_binary_and_unreadable_policies_exit_2() {
    let f = Fixture::new();
    let mut c = bin();
    c.args(["check", "-p"]).arg(f.path().join("nope.yml"));
    let r = run(&mut c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);

    let bin_file = f.path().join("bin.yml");
    std::fs::write(&bin_file, b"version: 1\n\x00\x01\x02\xff").unwrap();
    let mut c = bin();
    c.args(["check", "-p"]).arg(&bin_file);
    let r = run(&mut c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("binary"), "{}", r.stderr);

    let latin = f.path().join("latin.yml");
    std::fs::write(&latin, b"version: 1\nname: caf\xe9\n").unwrap();
    let mut c = bin();
    c.args(["check", "-p"]).arg(&latin);
    let r = run(&mut c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_unwritable_reports_exit_3() {
    let f = Fixture::new();
    let p = f.write("launch.yml", "version: 1\n");
    for args in [
        vec!["check", "--only", "pagez"],
        vec!["check", "--fail-on", "sometimes"],
        vec!["check", "--format", "yaml"],
        vec!["check", "--set", "novalue"],
        vec!["check", "--timeout", "fast"],
        vec!["check", "--resolve", "bogus"],
        vec!["explain", "tls.expiri"],
    ] {
        let mut c = bin();
        c.args(&args).arg("-p").arg(&p);
        if args[0] == "explain" {
            c = bin();
            c.args(&args);
        }
        let r = run(&mut c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    let mut c = bin();
    c.args(["nonsense-command"]);
    assert_eq!(run(&mut c).code, 2);
    // a report that cannot be written is an internal error (exit 3), after the run
    let mut c = bin();
    c.args(["check", "--format", "json", "--out"])
        .arg(f.path().join("no/such/dir/r.json"))
        .arg("-p")
        .arg(&p);
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
}

#[test]
fn only_skip_and_fail_on() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let policy = f.policy(
        &[(H, 443, p)],
        &format!("headers: {{}}\npages:\n  - url: https://{H}/nohsts\n    expect: {{ max_latency: 1ms }}\n"),
    );
    let r = check_json(&policy, &["--only", "pages"]);
    assert!(r.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] == "pages"));
    // only a warning (latency) fails: passes at blocker, fails at warning
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        check_json(&policy, &["--only", "pages", "--fail-on", "warning"]).code,
        1
    );
    let r = check_json(&policy, &["--skip", "headers,tls"]);
    assert!(r.results("headers.hsts").is_empty());
    assert!(r.results("tls.valid").is_empty());
    assert!(!r.results("cache.html").is_empty());
}

#[test]
fn severity_overrides_waivers_and_expired_waivers() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let t = format!("https://{H}/nohsts");
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "headers: {{}}\npages:\n  - url: {t}\nseverity:\n  headers.security: info\nwaivers:\n  - {{ id: headers.hsts, target: \"{t}\", reason: HSTS after the CDN move, until: 2099-01-31 }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let w = r.one("headers.hsts", &t);
    assert_eq!(w["status"], "waived");
    assert_eq!(w["waiver"]["reason"], "HSTS after the CDN move");
    assert_eq!(r.one("headers.security", &t)["severity"], "info");

    let expired = f.policy(
        &[(H, 443, p)],
        &format!(
            "headers: {{}}\npages:\n  - url: {t}\nwaivers:\n  - {{ id: headers.hsts, target: \"{t}\", reason: later, until: 2020-01-31 }}\n"
        ),
    );
    let r = check_json(&expired, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("headers.hsts", &t), "fail");
    let e = r.results("policy.waiver-expired");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["severity"], "warning");
}

#[test]
fn baseline_turns_old_failures_into_warnings() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let t = format!("https://{H}/nohsts");
    let policy = f.policy(
        &[(H, 443, p)],
        &format!("headers: {{}}\npages:\n  - url: {t}\n"),
    );
    let first = check_json(&policy, &[]);
    assert_eq!(first.code, 1);
    let base = f.write("base.json", &first.stdout);
    let r = check_json(&policy, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let h = r.one("headers.hsts", &t);
    assert_eq!(h["severity"], "warning");
    assert_eq!(h["new"], false);

    // a new failure still blocks
    let policy2 = f.policy(&[(H, 443, p)], &format!("headers: {{}}\npages:\n  - url: {t}\n  - url: https://{H}/missing-page\n    expect: {{ status: 201 }}\n"));
    let r = check_json(&policy2, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.one("pages.status", &format!("https://{H}/missing-page"))["new"],
        true
    );
}

#[test]
fn secrets_from_variables_never_reach_any_output() {
    // assembled at run time so the repository itself stays clean for secret scanners
    let secret = &["sk_live_", "51HxDoNotLeakThisValue9"].concat();
    let signing = "booking-signing-value-77";
    let mut f = Fixture::new();
    let p = f.https(H, 90, move |_| {
        Reply::html("denied").header("x-echo", "none")
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "secret_vars: [BOOKING_SIGNING]\npages:\n  - url: https://{H}/?key=${{STRIPE_SECRET_KEY}}\n    headers: {{ Authorization: \"Bearer ${{STRIPE_SECRET_KEY}}\" }}\n    expect:\n      body_contains: [\"${{STRIPE_SECRET_KEY}}\", \"${{BOOKING_SIGNING}}\"]\n      headers: {{ x-echo: \"${{BOOKING_SIGNING}}\" }}\n"
        ),
    );
    let md = f.path().join("r.md");
    let js = f.path().join("r.json");
    let mut c = bin();
    c.env("STRIPE_SECRET_KEY", secret)
        .env("BOOKING_SIGNING", signing)
        .arg("check")
        .arg("-p")
        .arg(&policy)
        .args(["--format", "human", "--format", "markdown", "--out"])
        .arg(&md)
        .args(["--format", "json", "--out"])
        .arg(&js)
        .arg("-v");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let all = format!(
        "{}{}{}{}",
        r.stdout,
        r.stderr,
        std::fs::read_to_string(&md).unwrap(),
        std::fs::read_to_string(&js).unwrap()
    );
    assert!(all.contains("***"), "{all}");
    assert!(!all.contains(secret), "secret leaked:\n{all}");
    assert!(!all.contains(signing), "secret_vars value leaked:\n{all}");

    // --no-redact shows them on request
    let mut c = bin();
    c.env("STRIPE_SECRET_KEY", secret)
        .env("BOOKING_SIGNING", signing)
        .args(["check", "--no-redact", "--format", "json", "-p"])
        .arg(&policy);
    let r = run(&mut c);
    assert!(r.stdout.contains(signing));
}

#[test]
fn set_overrides_environment_and_vars() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let policy = f.policy(
        &[(H, 443, p)],
        "vars:\n  site: https://nowhere.test\npages:\n  - url: ${site}/\n",
    );
    let r = check_json(&policy, &["--set", &format!("site=https://{H}")]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.status("pages.status", &format!("https://{H}/")), "pass");
}

#[test]
fn explain_covers_every_shipped_id_and_schema_is_json() {
    let mut c = bin();
    c.arg("explain");
    let list = run(&mut c);
    assert_eq!(list.code, 0);
    let ids: Vec<String> = list
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 20, "{ids:?}");
    for id in &ids {
        let mut c = bin();
        c.args(["explain", id]);
        let r = run(&mut c);
        assert_eq!(r.code, 0, "{id}");
        assert!(
            r.stdout.contains("Why it matters") && r.stdout.contains("How to fix"),
            "{id}"
        );
    }
    let mut c = bin();
    c.arg("schema");
    let r = run(&mut c);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["properties"]["pages"].is_object());
    assert!(v["properties"]["waivers"].is_object());
    assert_eq!(v["additionalProperties"], false);
}

#[test]
fn formats_pair_with_outputs_and_markdown_groups() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let policy = f.policy(
        &[(H, 443, p)],
        &format!("headers: {{}}\npages:\n  - url: https://{H}/nohsts\n"),
    );
    let md = f.path().join("report.md");
    let mut c = bin();
    c.args(["check", "--format", "markdown", "--out"])
        .arg(&md)
        .args(["--format", "human", "-p"])
        .arg(&policy);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("Do not launch until fixed"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("DO NOT LAUNCH"));
    assert!(!r.stdout.contains("\x1b["), "no colour off a terminal");
    let m = std::fs::read_to_string(&md).unwrap();
    assert!(m.contains("### 🛑 Do not launch until fixed"), "{m}");
    assert!(m.contains("`headers.hsts`"));
}

#[test]
fn merge_combines_reports_into_one_verdict() {
    let mut f = Fixture::new();
    let p = site(&mut f);
    let good = f.policy(&[(H, 443, p)], &format!("pages:\n  - url: https://{H}/\n"));
    let a = check_json(&good, &[]);
    let ap = f.write("a.json", &a.stdout);
    let bad = f.policy(
        &[(H, 443, p)],
        &format!("headers: {{}}\npages:\n  - url: https://{H}/nohsts\n"),
    );
    let b = check_json(&bad, &[]);
    let bp = f.write("b.json", &b.stdout);
    let mut c = bin();
    c.args(["merge", "--format", "json"]).arg(&ap).arg(&bp);
    let r = run(&mut c);
    assert_eq!(r.code, 1);
    let j = r.json();
    assert_eq!(j["result"], "fail");
    let n =
        a.json()["checks"].as_array().unwrap().len() + b.json()["checks"].as_array().unwrap().len();
    assert_eq!(j["checks"].as_array().unwrap().len(), n);
    assert!(j["checks"][0]["policy"].is_string());
    let mut c = bin();
    c.args(["merge"]).arg(&ap);
    assert_eq!(run(&mut c).code, 0);
}

#[test]
fn demo_runs_offline_and_fails_the_gate() {
    let mut c = bin();
    c.args(["demo", "--format", "json"]);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    for (id, sev) in [
        ("tls.expiry", "blocker"),
        ("headers.hsts", "blocker"),
        ("cache.html", "blocker"),
        ("cache.static", "warning"),
        ("redirects.hops", "warning"),
        ("redirects.permanent", "warning"),
        ("dns.absent", "blocker"),
        ("email.spf.all", "blocker"),
        ("email.spf.unapproved", "warning"),
        ("email.dkim.weak", "warning"),
        ("email.dmarc.policy", "warning"),
        ("email.dmarc.rua", "warning"),
        ("forms.p95", "blocker"),
        ("exposure.indexable", "warning"),
        ("edge.proxy", "warning"),
    ] {
        let hit = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id && c["status"] == "fail" && c["severity"] == sev);
        assert!(hit, "demo should find {id} ({sev})");
    }
    assert_eq!(j["counts"]["error"], 0, "{}", r.stdout);
    // the rollback drill against the local funnel is proven end to end
    for id in ["rollback.verify", "rollback.duration", "rollback.restore"] {
        let c = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("demo has no {id}"));
        assert_eq!(c["status"], "pass", "{c:#}");
        assert_eq!(c["target"], "https://www.demo.launchgate.test/version");
    }
    for (id, target) in [
        ("forms.submit", "contact"),
        ("load.p95", "landing burst"),
        ("load.errors", "landing burst"),
    ] {
        let ok = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id && c["target"] == target && c["status"] == "pass");
        assert!(ok, "demo should pass {id} for {target}");
    }
}
