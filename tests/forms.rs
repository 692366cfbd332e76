//! `forms` against real local endpoints: 303, a thank-you page, 500, a slow one, a
//! CSRF-protected one, JSON and multipart bodies — and the backend receives exactly
//! the submissions the policy asked for.

mod common;

use std::time::Duration;

use common::*;
use launchgate::serve::{Incoming, Reply};

const H: &str = "forms.shop.test";

fn form_field(body: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn backend(rec: Recorder) -> impl Fn(&Incoming) -> Reply + Send + Sync + 'static {
    move |r: &Incoming| {
        rec.push(r);
        let body = String::from_utf8_lossy(&r.body).into_owned();
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/see-other") => Reply::redirect(303, "/thanks"),
            ("GET", "/thanks") => Reply::html("Thanks, we will call you"),
            ("POST", "/contact") => {
                if form_field(&body, "email").as_deref() == Some("launch-check@shop.test") {
                    Reply::html("<h1>Thanks for reaching out</h1>")
                } else {
                    Reply::new(400).body("missing email")
                }
            }
            ("POST", "/broken") => Reply::new(500).body("Internal Server Error"),
            ("POST", "/wrong-copy") => Reply::html("<h1>Something went wrong</h1>"),
            ("POST", "/slow") => Reply::html("Thanks").delay(Duration::from_millis(1000)),
            ("GET", "/signup") => Reply::html(
                "<form><input type=\"hidden\" name=\"csrf_token\" value=\"tok-42\"></form>",
            )
            .header("set-cookie", "sid=s-7; Path=/; HttpOnly"),
            ("POST", "/signup") => {
                let cookie_ok = r.header("cookie").is_some_and(|c| c.contains("sid=s-7"));
                if form_field(&body, "csrf_token").as_deref() == Some("tok-42") && cookie_ok {
                    Reply::html("Thanks for signing up")
                } else {
                    Reply::new(403).body("CSRF token missing or wrong")
                }
            }
            ("POST", "/api/lead") => {
                let ct = r.header("content-type").unwrap_or_default();
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if ct.starts_with("application/json") && v["email"] == "a@b.test" {
                    Reply::new(201).body("{\"ok\":true,\"msg\":\"Thanks\"}")
                } else {
                    Reply::new(422).body("bad json")
                }
            }
            ("POST", "/upload") => {
                let ct = r.header("content-type").unwrap_or_default();
                let boundary = ct.split("boundary=").nth(1).unwrap_or("").to_string();
                let ok = ct.starts_with("multipart/form-data")
                    && !boundary.is_empty()
                    && body.contains(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"company\"\r\n\r\nAcme\r\n"))
                    && body.ends_with(&format!("--{boundary}--\r\n"));
                if ok {
                    Reply::html("Thanks")
                } else {
                    Reply::new(400).body("bad multipart")
                }
            }
            _ => Reply::new(404),
        }
    }
}

#[test]
fn form_outcomes_with_ids_severities_and_exact_submissions() {
    let mut f = Fixture::new();
    let rec = Recorder::new();
    let p = f.https(H, 90, backend(rec.clone()));
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            r#"forms:
  - name: see-other
    url: https://{H}/see-other
    form: {{ name: Launch Check }}
    expect: {{ status: 303 }}
    samples: 3
  - name: contact
    url: https://{H}/contact
    form: {{ name: Launch Check, email: launch-check@shop.test }}
    headers: {{ X-Test-Lead: "yes" }}
    expect: {{ status: 200, body_contains: ["Thanks for reaching out"] }}
    samples: 4
    p95: 800ms
  - name: broken
    url: https://{H}/broken
    form: {{ a: b }}
    samples: 2
    p95: 800ms
  - name: wrong-copy
    url: https://{H}/wrong-copy
    form: {{ a: b }}
    expect: {{ body_contains: ["Thanks"] }}
  - name: slow
    url: https://{H}/slow
    form: {{ a: b }}
    samples: 2
    concurrency: 2
    p95: 300ms
  - name: signup
    url: https://{H}/signup
    form: {{ email: launch-check@shop.test }}
    csrf: {{ url: "https://{H}/signup", regex: 'name="csrf_token" value="([^"]+)"', field: csrf_token }}
    samples: 2
  - name: signup-no-csrf
    url: https://{H}/signup
    form: {{ email: launch-check@shop.test }}
  - name: lead-json
    url: https://{H}/api/lead
    json: {{ email: a@b.test, source: launch-check }}
    expect: {{ status: 201, body_contains: Thanks }}
  - name: upload
    url: https://{H}/upload
    multipart: {{ company: Acme, note: "launch check" }}
    expect: {{ body_contains: Thanks }}
  - name: see-other-followed
    url: https://{H}/see-other
    form: {{ name: Launch Check }}
    follow_redirects: true
    expect: {{ status: 200, body_contains: Thanks }}
"#
        ),
    );
    let r = check_json(&policy, &["--only", "forms"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);

    // 303 seen as a 303: redirects are not followed unless asked.
    let so = r.one("forms.submit", "see-other");
    assert_eq!(so["status"], "pass", "{so:#}");
    assert_eq!(so["evidence"]["samples"].as_array().unwrap().len(), 3);
    assert_eq!(so["evidence"]["samples"][0]["status"], 303);
    assert!(so["evidence"]["samples"][0]["ms"].is_u64());

    assert_eq!(r.status("forms.submit", "contact"), "pass");
    assert_eq!(r.status("forms.p95", "contact"), "pass");

    let b = r.one("forms.submit", "broken");
    assert_eq!(
        (b["status"].as_str(), b["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert!(
        b["message"].as_str().unwrap().contains("answered 500"),
        "{b:#}"
    );
    // the answers were quick, so p95 passes even though they were errors
    assert_eq!(r.status("forms.p95", "broken"), "pass");

    let w = r.one("forms.submit", "wrong-copy");
    assert_eq!(w["status"], "fail");
    assert!(
        w["message"].as_str().unwrap().contains("lacks \"Thanks\""),
        "{w:#}"
    );
    // no p95 budget, no forms.p95 result
    assert!(r
        .results("forms.p95")
        .iter()
        .all(|x| x["target"] != "wrong-copy"));

    assert_eq!(r.status("forms.submit", "slow"), "pass");
    let s = r.one("forms.p95", "slow");
    assert_eq!(
        (s["status"].as_str(), s["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert!(s["evidence"]["p95_ms"].as_u64().unwrap() >= 1000, "{s:#}");

    assert_eq!(r.status("forms.submit", "signup"), "pass");
    let nc = r.one("forms.submit", "signup-no-csrf");
    assert_eq!(nc["status"], "fail");
    assert!(nc["message"].as_str().unwrap().contains("403"));

    assert_eq!(r.status("forms.submit", "lead-json"), "pass");
    assert_eq!(r.status("forms.submit", "upload"), "pass");
    assert_eq!(r.status("forms.submit", "see-other-followed"), "pass");

    // The backend got exactly what the policy asked for.
    assert_eq!(rec.count("POST", "/see-other"), 3 + 1);
    assert_eq!(
        rec.count("GET", "/thanks"),
        1,
        "303 followed only when asked"
    );
    assert_eq!(rec.count("POST", "/contact"), 4);
    assert_eq!(rec.count("POST", "/broken"), 2);
    assert_eq!(rec.count("POST", "/wrong-copy"), 1);
    assert_eq!(rec.count("POST", "/slow"), 2);
    assert_eq!(rec.count("GET", "/signup"), 2, "one CSRF fetch per sample");
    assert_eq!(rec.count("POST", "/signup"), 2 + 1);
    assert_eq!(rec.count("POST", "/api/lead"), 1);
    assert_eq!(rec.count("POST", "/upload"), 1);
    let all = rec.all();
    // every submission is marked as a test, and custom headers arrive
    for s in all.iter().filter(|s| s.method == "POST") {
        assert_eq!(s.header("x-launch-check"), Some("1"), "{s:?}");
    }
    assert!(all
        .iter()
        .filter(|s| s.path == "/contact")
        .all(|s| s.header("x-test-lead") == Some("yes")
            && s.header("content-type") == Some("application/x-www-form-urlencoded")));
}

#[test]
fn csrf_token_from_cookie_into_header_and_missing_token_is_an_error() {
    let mut f = Fixture::new();
    let rec = Recorder::new();
    let rec2 = rec.clone();
    let p = f.https(H, 90, move |r: &Incoming| {
        rec2.push(r);
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => Reply::html("hi").header("set-cookie", "XSRF-TOKEN=abc123; Path=/"),
            ("GET", "/plain") => Reply::html("no token here"),
            ("POST", "/api") => {
                if r.header("x-xsrf-token") == Some("abc123")
                    && r.header("cookie")
                        .is_some_and(|c| c.contains("XSRF-TOKEN=abc123"))
                {
                    Reply::new(204)
                } else {
                    Reply::new(419)
                }
            }
            _ => Reply::new(404),
        }
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            r#"forms:
  - name: spa
    url: https://{H}/api
    json: {{ email: a@b.test }}
    csrf: {{ url: "https://{H}/", cookie: XSRF-TOKEN, header: X-XSRF-TOKEN }}
    expect: {{ status: 204 }}
  - name: no-token
    url: https://{H}/api
    json: {{ email: a@b.test }}
    csrf: {{ url: "https://{H}/plain" }}
"#
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.status("forms.submit", "spa"), "pass", "{}", r.stdout);
    let nt = r.one("forms.submit", "no-token");
    assert_eq!(nt["status"], "error", "{nt:#}");
    assert!(nt["message"].as_str().unwrap().contains("no CSRF token"));
    // no submission without a token
    assert_eq!(rec.count("POST", "/api"), 1);
}

#[test]
fn a_submission_that_timed_out_is_not_retried() {
    let mut f = Fixture::new();
    let rec = Recorder::new();
    let rec2 = rec.clone();
    let p = f.https(H, 90, move |r: &Incoming| {
        rec2.push(r);
        Reply::html("Thanks").delay(Duration::from_millis(800))
    });
    // retries: 1 applies to GETs; a POST that may have arrived is never sent twice
    let policy = f.write(
        "launch.yml",
        &format!(
            "version: 1\ndefaults:\n  retries: 1\n  ca_file: ./ca.pem\n  resolve: {{ \"{H}:443\": \"127.0.0.1:{p}\" }}\nforms:\n  - {{ name: slow, url: \"https://{H}/lead\", form: {{ a: b }} }}\n"
        ),
    );
    let r = check_json(&policy, &["--timeout", "300ms"]);
    let s = r.one("forms.submit", "slow");
    assert_eq!(s["status"], "error", "{s:#}");
    assert!(
        s["message"].as_str().unwrap().contains("timed out"),
        "{s:#}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rec.count("POST", "/lead"), 1);
}
