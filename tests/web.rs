//! The web smoke checks against real local servers: pages, redirects, tls, headers, cache.

mod common;

use std::time::Duration;

use common::*;
use launchgate::serve::Reply;

const H: &str = "www.shop.test";

#[test]
fn healthy_site_passes_every_check() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |r| match r.path.as_str() {
        "/" => good_page("<h1>Book a discovery call</h1>"),
        "/app.js" => Reply::new(200)
            .header("content-type", "application/javascript")
            .header("cache-control", "public, max-age=31536000, immutable")
            .body("x"),
        "/old" => Reply::redirect(301, "/"),
        _ => Reply::new(404),
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "extends: [recommended]\npages:\n  - url: https://{H}/\n    expect: {{ body_contains: Book a discovery call, headers: {{ content-type: text/html }} }}\n    cache: semi-static\n  - url: https://{H}/app.js\n    cache: static\nredirects:\n  - {{ from: https://{H}/old, to: https://{H}/ }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["result"], "pass");
    for c in j["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c:#}");
    }
    for id in [
        "pages.status",
        "pages.latency",
        "pages.body",
        "pages.header",
        "tls.valid",
        "tls.expiry",
        "tls.version",
        "headers.hsts",
        "headers.hsts.subdomains",
        "headers.security",
        "cache.html",
        "cache.semi-static",
        "cache.static",
        "redirects.target",
        "redirects.loop",
        "redirects.hops",
        "redirects.https",
        "redirects.permanent",
    ] {
        assert!(!r.results(id).is_empty(), "no {id} result:\n{}", r.stdout);
    }
    // one TLS probe per host:port, however many URLs use it
    assert_eq!(r.results("tls.valid").len(), 1);
    assert_eq!(
        j["checks"][0]["why"].as_str().map(|s| !s.is_empty()),
        Some(true)
    );
}

#[test]
fn page_faults_are_found_with_severity() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |r| match r.path.as_str() {
        "/gone" => Reply::new(404).body("nope"),
        "/slow" => good_page("ok").delay(Duration::from_millis(400)),
        "/nocta" => good_page("<h1>Oops, an error occurred</h1>"),
        "/json" => Reply::new(200)
            .header("content-type", "application/json")
            .body("{}"),
        _ => good_page("Book"),
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "pages:\n  - url: https://{H}/gone\n  - url: https://{H}/slow\n    expect: {{ max_latency: 150ms }}\n  - url: https://{H}/nocta\n    expect: {{ body_contains: [Book a call] }}\n  - url: https://{H}/json\n    expect: {{ headers: {{ Content-Type: text/html }} }}\n  - url: https://{H}/ok\n    expect: {{ status: [200, 204] }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let gone = r.one("pages.status", &format!("https://{H}/gone"));
    assert_eq!(gone["status"], "fail");
    assert_eq!(gone["severity"], "blocker");
    assert!(gone["message"].as_str().unwrap().contains("404"));
    assert!(!gone["fix"].as_str().unwrap().is_empty());
    let slow = r.one("pages.latency", &format!("https://{H}/slow"));
    assert_eq!(slow["status"], "fail");
    assert_eq!(slow["severity"], "warning");
    assert!(slow["evidence"]["latency_ms"].as_u64().unwrap() >= 400);
    assert_eq!(
        r.status("pages.body", &format!("https://{H}/nocta")),
        "fail"
    );
    assert_eq!(
        r.one("pages.body", &format!("https://{H}/nocta"))["severity"],
        "blocker"
    );
    let hdr = r.one("pages.header", &format!("https://{H}/json"));
    assert_eq!(hdr["status"], "fail");
    assert_eq!(hdr["severity"], "warning");
    assert_eq!(r.status("pages.status", &format!("https://{H}/ok")), "pass");
    // ranked: blockers first, passes last
    let checks = r.json()["checks"].as_array().unwrap().clone();
    let first_pass = checks.iter().position(|c| c["status"] == "pass").unwrap();
    assert!(checks[..first_pass].iter().all(|c| c["status"] != "pass"));
    assert_eq!(checks[0]["severity"], "blocker");
}

#[test]
fn certificates_expired_expiring_wrong_host_and_self_signed() {
    let mut f = Fixture::new();
    let now = time::OffsetDateTime::now_utc();
    let expired = f.ca.issue(
        &["expired.test"],
        now - time::Duration::days(30),
        now - time::Duration::days(1),
    );
    let p_expired = f.https_with(expired, |_| good_page("x"));
    let p_soon = f.https("soon.test", 3, |_| good_page("x"));
    let p_warn = f.https("warn.test", 20, |_| good_page("x"));
    let wrong = f.ca.issue_days(&["other.test"], 90);
    let p_wrong = f.https_with(wrong, |_| good_page("x"));
    let p_self = f.https_with(launchgate::certs::self_signed(&["self.test"], 90), |_| {
        good_page("x")
    });
    let policy = f.policy(
        &[
            ("expired.test", 443, p_expired),
            ("soon.test", 443, p_soon),
            ("warn.test", 443, p_warn),
            ("wrong.test", 443, p_wrong),
            ("self.test", 443, p_self),
        ],
        "tls: { min_days: 14, warn_days: 30 }\npages:\n  - url: https://expired.test/\n  - url: https://soon.test/\n  - url: https://warn.test/\n  - url: https://wrong.test/\n  - url: https://self.test/\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1);
    let v = r.one("tls.valid", "expired.test:443");
    assert_eq!(v["status"], "fail", "{v:#}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v:#}");
    let e = r.one("tls.expiry", "expired.test:443");
    assert_eq!(
        (e["status"].as_str(), e["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    // a cert that does not verify: tls.valid fails, the page checks on it cannot run
    assert_eq!(r.status("pages.status", "https://expired.test/"), "error");

    let soon = r.one("tls.expiry", "soon.test:443");
    assert_eq!(
        (soon["status"].as_str(), soon["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert!(
        soon["message"].as_str().unwrap().contains("3 day"),
        "{soon:#}"
    );
    assert_eq!(r.status("tls.valid", "soon.test:443"), "pass");
    assert_eq!(r.status("pages.status", "https://soon.test/"), "pass");

    let warn = r.one("tls.expiry", "warn.test:443");
    assert_eq!(
        (warn["status"].as_str(), warn["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );

    let wrong = r.one("tls.valid", "wrong.test:443");
    assert_eq!(wrong["status"], "fail");
    assert!(
        wrong["message"].as_str().unwrap().contains("not valid for"),
        "{wrong:#}"
    );
    let sans = &wrong["evidence"]["chain"][0]["sans"];
    assert_eq!(sans[0], "other.test");

    let s = r.one("tls.valid", "self.test:443");
    assert_eq!(s["status"], "fail");
    assert!(
        s["message"].as_str().unwrap().contains("trusted CA"),
        "{s:#}"
    );
    for h in [
        "expired.test:443",
        "soon.test:443",
        "wrong.test:443",
        "self.test:443",
    ] {
        assert_eq!(r.status("tls.version", h), "pass", "{h}");
    }
}

#[test]
fn legacy_tls_server_is_flagged() {
    // A server that answers any ClientHello with a TLS 1.0 ServerHello record.
    let port = raw_server(|mut s| {
        let mut buf = [0u8; 2048];
        if let Ok(n) = std::io::Read::read(&mut s, &mut buf) {
            if n > 10 && buf[0] == 0x16 {
                let v = [buf[9], buf[10]];
                let hello = [0x16, 3, 1, 0, 6, 2, 0, 0, 2, v[0], v[1]];
                let _ = std::io::Write::write_all(&mut s, &hello);
            }
        }
    });
    let f = Fixture::new();
    let policy = f.policy(
        &[("legacy.test", 443, port)],
        "tls:\n  hosts: [legacy.test:443]\n",
    );
    let r = check_json(&policy, &[]);
    // the real handshake fails (not real TLS), so tls.* are errors: fail closed
    assert_eq!(r.code, 1);
    assert_eq!(r.status("tls.valid", "legacy.test:443"), "error");
    // and the legacy probe itself recognises the ServerHello
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut cfg = launchgate::net::NetConfig::default();
    cfg.overrides
        .insert("legacy.test", 443, "127.0.0.1", Some(port));
    let ok = rt.block_on(launchgate::net::legacy::accepts(
        &cfg,
        "legacy.test",
        443,
        launchgate::net::legacy::TLS10,
    ));
    assert_eq!(ok, Ok(true));
}

#[test]
fn redirect_chain_loop_downgrade_and_temporary() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, move |r| match r.path.as_str() {
        "/a" => Reply::redirect(302, "/b"),
        "/b" => Reply::redirect(301, "/c"),
        "/c" => Reply::redirect(301, "/d"),
        "/d" => Reply::redirect(301, "/"),
        "/loop1" => Reply::redirect(301, "/loop2"),
        "/loop2" => Reply::redirect(301, "/loop1"),
        "/down" => Reply::redirect(301, "http://plain.test/"),
        "/elsewhere" => Reply::redirect(301, "/other"),
        _ => good_page("home"),
    });
    let plain = f.http(|_| Reply::html("plain"));
    let apex = f.http(|r| Reply::redirect(301, &format!("https://{H}{}", r.path)));
    let policy = f.policy(
        &[(H, 443, p), ("plain.test", 80, plain), ("shop.test", 80, apex)],
        &format!(
            "redirects:\n  - {{ from: https://{H}/a, to: https://{H}/, max_hops: 2 }}\n  - {{ from: https://{H}/loop1, to: https://{H}/ }}\n  - {{ from: https://{H}/down, to: https://{H}/ }}\n  - {{ from: https://{H}/elsewhere, to: https://{H}/ }}\n  - {{ from: http://shop.test/, to: https://{H}/ }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1);
    let a = format!("https://{H}/a");
    assert_eq!(r.status("redirects.target", &a), "pass");
    let hops = r.one("redirects.hops", &a);
    assert_eq!(
        (hops["status"].as_str(), hops["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
    assert_eq!(hops["evidence"]["hops"].as_array().unwrap().len(), 5);
    assert_eq!(r.status("redirects.permanent", &a), "fail");
    let l = format!("https://{H}/loop1");
    let lp = r.one("redirects.loop", &l);
    assert_eq!(
        (lp["status"].as_str(), lp["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(r.status("redirects.target", &l), "fail");
    let d = format!("https://{H}/down");
    let dn = r.one("redirects.https", &d);
    assert_eq!(
        (dn["status"].as_str(), dn["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    let e = r.one("redirects.target", &format!("https://{H}/elsewhere"));
    assert_eq!(e["status"], "fail");
    assert!(e["message"].as_str().unwrap().contains("/other"));
    for id in [
        "redirects.target",
        "redirects.https",
        "redirects.permanent",
        "redirects.hops",
        "redirects.loop",
    ] {
        assert_eq!(r.status(id, "http://shop.test/"), "pass", "{id}");
    }
}

#[test]
fn hsts_and_security_headers() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |r| match r.path.as_str() {
        "/nohsts" => Reply::html("x"),
        "/short" => good_page("x").header("strict-transport-security", "max-age=600"),
        "/nosub" => Reply::html("x")
            .header("strict-transport-security", "max-age=31536000")
            .header("content-security-policy", "frame-ancestors 'none'")
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer"),
        "/asset.png" => Reply::new(200).header("content-type", "image/png"),
        _ => good_page("x"),
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "headers:\n  hsts: {{ min_max_age: 15552000 }}\n  security: recommended\npages:\n  - url: https://{H}/nohsts\n  - url: https://{H}/short\n  - url: https://{H}/nosub\n  - url: https://{H}/asset.png\n"
        ),
    );
    let r = check_json(&policy, &[]);
    let no = r.one("headers.hsts", &format!("https://{H}/nohsts"));
    assert_eq!(
        (no["status"].as_str(), no["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(
        r.status("headers.security", &format!("https://{H}/nohsts")),
        "fail"
    );
    // good_page sends its own HSTS first; the first header wins
    let sub = r.one("headers.hsts.subdomains", &format!("https://{H}/nosub"));
    assert_eq!(
        (sub["status"].as_str(), sub["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
    assert_eq!(
        r.status("headers.hsts", &format!("https://{H}/nosub")),
        "pass"
    );
    // frame-ancestors stands in for X-Frame-Options; only Permissions-Policy is missing (info)
    let sec = r.one("headers.security", &format!("https://{H}/nosub"));
    assert_eq!(
        (sec["status"].as_str(), sec["severity"].as_str()),
        (Some("fail"), Some("info"))
    );
    assert!(r
        .results("headers.hsts")
        .iter()
        .all(|c| c["target"] != format!("https://{H}/asset.png")));
}

#[test]
fn cache_rules_by_route_type() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |r| match r.path.as_str() {
        "/app.js" => Reply::new(200)
            .header("content-type", "application/javascript")
            .header("cache-control", "no-cache"),
        "/short.css" => Reply::new(200)
            .header("content-type", "text/css")
            .header("cache-control", "max-age=3600"),
        "/account" => good_page("hi").header("set-cookie", "sid=1; Secure"),
        "/private" => Reply::html("hi")
            .header("set-cookie", "sid=1; Secure")
            .header("cache-control", "private, no-store"),
        "/vary" => Reply::html("hi")
            .header("vary", "Accept-Encoding, Cookie")
            .header("cache-control", "s-maxage=600"),
        "/landing" => Reply::html("hi").header("cache-control", "no-store"),
        _ => good_page("x"),
    });
    let policy = f.policy(
        &[(H, 443, p)],
        &format!(
            "pages:\n  - {{ url: https://{H}/app.js, cache: static }}\n  - {{ url: https://{H}/short.css, cache: static }}\n  - {{ url: https://{H}/account, cache: dynamic }}\n  - {{ url: https://{H}/private, cache: dynamic }}\n  - {{ url: https://{H}/vary }}\n  - {{ url: https://{H}/landing, cache: semi-static }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    let t = |p: &str| format!("https://{H}{p}");
    let js = r.one("cache.static", &t("/app.js"));
    assert_eq!(
        (js["status"].as_str(), js["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
    assert_eq!(r.status("cache.static", &t("/short.css")), "fail");
    let acc = r.one("cache.html", &t("/account"));
    assert_eq!(
        (acc["status"].as_str(), acc["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(r.status("cache.html", &t("/private")), "pass");
    assert_eq!(r.status("cache.html", &t("/vary")), "fail");
    let semi = r.one("cache.semi-static", &t("/landing"));
    assert_eq!(
        (semi["status"].as_str(), semi["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
}

#[test]
fn resolve_flag_reaches_another_port_with_the_original_host() {
    let mut f = Fixture::new();
    let p = f.https(H, 90, |r| {
        // the Host header keeps the original name
        if r.header("host") == Some(H) {
            good_page("right host")
        } else {
            Reply::new(421)
        }
    });
    let policy = f.policy(
        &[],
        &format!("pages:\n  - url: https://{H}/\n    expect: {{ body_contains: right host }}\n"),
    );
    let spec = format!("{H}:443:127.0.0.1:{p}");
    let r = check_json(&policy, &["--resolve", &spec]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.status("tls.valid", &format!("{H}:443")), "pass");
}
