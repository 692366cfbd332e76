//! `load` against a local target with a known error rate and delay pattern: the
//! computed percentiles and error rate must match what the server did.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use launchgate::serve::Reply;

const H: &str = "burst.shop.test";

/// Every 10th request answers 500; every 4th is delayed 40 ms, the rest 2 ms.
fn patterned(n: &AtomicUsize) -> Reply {
    let i = n.fetch_add(1, Ordering::SeqCst) + 1;
    let status = if i % 10 == 0 { 500 } else { 200 };
    let delay = if i % 4 == 0 { 40 } else { 2 };
    Reply::new(status)
        .body("ok")
        .delay(Duration::from_millis(delay))
}

#[test]
fn percentiles_and_error_rate_match_what_the_server_did() {
    let mut f = Fixture::new();
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let p = f.https(H, 90, move |_| patterned(&n2));
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            r#"load:
  - name: landing burst
    url: https://{H}/
    requests: 200
    concurrency: 4
    thresholds: {{ p50: 1ms, p95: 500ms, max: 2s, error_rate: 5% }}
"#
        ),
    );
    let r = check_json(&policy, &["--only", "load"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        n.load(Ordering::SeqCst),
        200,
        "exactly the requests asked for"
    );

    let e = r.one("load.errors", "landing burst");
    assert_eq!(
        (e["status"].as_str(), e["severity"].as_str()),
        (Some("fail"), Some("blocker")),
        "{e:#}"
    );
    let ev = &e["evidence"];
    assert_eq!(ev["requests"], 200);
    assert_eq!(ev["errors"], 20);
    assert_eq!(ev["statuses"]["200"], 180);
    assert_eq!(ev["statuses"]["500"], 20);
    assert_eq!(ev["error_rate"], 10.0);
    assert!(e["message"].as_str().unwrap().contains("20× 500"), "{e:#}");
    for k in ["rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"] {
        assert!(ev[k].is_number(), "{k} in {ev:#}");
    }
    // 75% of answers took ~2 ms, 25% ~40 ms: p50 is in the fast group, p95 in the slow one.
    let p50 = ev["p50_ms"].as_f64().unwrap();
    let p95 = ev["p95_ms"].as_f64().unwrap();
    let max = ev["max_ms"].as_f64().unwrap();
    assert!((2.0..30.0).contains(&p50), "p50 {p50}");
    assert!((40.0..120.0).contains(&p95), "p95 {p95}");
    assert!(max >= p95 && max < 1000.0, "max {max}");
    // one keep-alive connection per worker
    assert_eq!(ev["connections"], 4, "{ev:#}");

    let p = r.one("load.p95", "landing burst");
    assert_eq!(p["status"], "pass", "{p:#}");
    let p50r = r.one("load.p50", "landing burst");
    assert_eq!(
        (p50r["status"].as_str(), p50r["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(r.status("load.max", "landing burst"), "pass");
    assert!(r.results("load.p99").is_empty(), "p99 only when asked");
    let dist = ev["distribution"].as_array().unwrap();
    let total: u64 = dist.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 200);
}

#[test]
fn bounded_by_duration_and_rate_and_never_follows_redirects() {
    let mut f = Fixture::new();
    let other_hits = Arc::new(AtomicUsize::new(0));
    let oh = other_hits.clone();
    let other = f.https("other.shop.test", 90, move |_| {
        oh.fetch_add(1, Ordering::SeqCst);
        Reply::new(200)
    });
    let p = f.https(H, 90, |r| match r.path.as_str() {
        "/away" => Reply::redirect(302, "https://other.shop.test/"),
        _ => Reply::new(200).delay(Duration::from_millis(10)),
    });
    let policy = f.policy(
        &[(H, 443, p), ("other.shop.test", 443, other)],
        &format!(
            r#"load:
  - name: timed
    url: https://{H}/
    duration: 300ms
    concurrency: 2
  - name: paced
    url: https://{H}/
    requests: 10
    concurrency: 5
    rate: 40
  - name: redirecting
    url: https://{H}/away
    requests: 30
    concurrency: 3
"#
        ),
    );
    let r = check_json(&policy, &["--only", "load"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let t = r.one("load.errors", "timed");
    let ev = &t["evidence"];
    assert_eq!(ev["stopped_by"], "duration");
    let n = ev["requests"].as_u64().unwrap();
    assert!((5..=80).contains(&n), "{n} requests in 300 ms at 2×10 ms");
    assert!(ev["duration_ms"].as_u64().unwrap() < 1500);

    let pc = r.one("load.errors", "paced");
    assert_eq!(pc["evidence"]["requests"], 10);
    // 10 requests at 40/s: the last starts at 225 ms
    assert!(
        pc["evidence"]["duration_ms"].as_u64().unwrap() >= 200,
        "{pc:#}"
    );

    let rd = r.one("load.errors", "redirecting");
    assert_eq!(rd["status"], "pass", "3xx counts as success");
    assert_eq!(rd["evidence"]["statuses"]["302"], 30);
    assert_eq!(rd["evidence"]["offsite_redirects"], 30);
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "the other host was never hit"
    );
}

#[test]
fn caps_need_allow_large_load_and_transport_errors_count() {
    let mut f = Fixture::new();
    let refused = closed_port();
    let policy = f.policy(
        &[(H, 443, refused)],
        &format!(
            r#"load:
  - {{ name: huge, url: "https://{H}/", requests: 200000 }}
  - {{ name: long, url: "https://{H}/", duration: 11m }}
  - {{ name: down, url: "https://{H}/", requests: 20, concurrency: 2 }}
"#
        ),
    );
    let r = check_json(&policy, &["--only", "load"]);
    assert_eq!(r.code, 1);
    for t in ["huge", "long"] {
        let x = r.one("load.p95", t);
        assert_eq!(x["status"], "error");
        assert!(
            x["message"]
                .as_str()
                .unwrap()
                .contains("--allow-large-load"),
            "{x:#}"
        );
        assert_eq!(r.status("load.errors", t), "error");
    }
    let d = r.one("load.errors", "down");
    assert_eq!(d["status"], "fail");
    assert_eq!(d["evidence"]["errors"], 20);
    assert_eq!(d["evidence"]["transport_errors"]["connect"], 20);
    assert_eq!(r.status("load.p95", "down"), "error");
    let _ = &mut f;
}

#[test]
fn markdown_report_draws_the_latency_distribution() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |_| Reply::new(200).body("ok"));
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "load:\n  - {{ name: tiny, url: \"https://{H}/\", requests: 40, concurrency: 4 }}\n"
        ),
    );
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(&policy)
        .args(["--format", "markdown"]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("### 📈 Load bursts (1)"), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("| Requests | Errors | req/s | p50 ms | p95 ms | p99 ms | max ms |"));
    assert!(r.stdout.contains("| 40 | 0 |"), "{}", r.stdout);
    assert!(r.stdout.contains("| Latency ≤ | Requests | Share |"));
}

#[test]
fn a_server_closing_every_connection_is_not_an_error() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |_| {
        Reply::new(200).header("connection", "close").body("ok")
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "load:\n  - {{ name: close, url: \"https://{H}/\", requests: 30, concurrency: 3 }}\n"
        ),
    );
    let r = check_json(&policy, &["--only", "load"]);
    let e = r.one("load.errors", "close");
    assert_eq!(e["status"], "pass", "{e:#}");
    assert_eq!(e["evidence"]["requests"], 30);
    assert_eq!(e["evidence"]["errors"], 0);
    assert_eq!(e["evidence"]["connections"], 30);
}
