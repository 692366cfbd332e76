//! `exposure` against staging hosts that answer 200, 401, noindex, an auth redirect,
//! refuse connections or hang; `edge` against responses with and without CDN headers.

mod common;

use std::time::Duration;

use common::*;
use launchgate::serve::Reply;

#[test]
fn exposure_outcomes() {
    let mut f = Fixture::new();
    let public = f.https("open.staging.test", 90, |r| match r.path.as_str() {
        "/robots.txt" => Reply::new(200).body("User-agent: *\nDisallow: /\n"),
        _ => Reply::html("<h1>Staging: new pricing</h1>"),
    });
    let locked = f.https("locked.staging.test", 90, |_| {
        Reply::new(401).header("www-authenticate", "Basic realm=\"staging\"")
    });
    let forbidden = f.https("forbidden.staging.test", 90, |_| Reply::new(403));
    let header_noindex = f.https("hdr.staging.test", 90, |_| {
        Reply::html("<h1>Preview</h1>").header("x-robots-tag", "noindex, nofollow")
    });
    let meta_noindex = f.https("meta.staging.test", 90, |_| {
        Reply::html("<html><head><meta name=\"robots\" content=\"noindex\"></head><body>Preview</body></html>")
    });
    let sso = f.https("sso.staging.test", 90, |r| match r.path.as_str() {
        "/" => Reply::redirect(302, "https://sso.staging.test/login?next=/"),
        _ => Reply::html("Sign in"),
    });
    let hops = f.https("hops.staging.test", 90, |r| match r.path.as_str() {
        "/" => Reply::redirect(302, "/home"),
        _ => Reply::html("Home of staging"),
    });
    let refused = closed_port();
    let hang = raw_server(|mut s| {
        read_head(&mut s);
        std::thread::sleep(Duration::from_secs(3));
    });
    let policy = f.policy(
        &[
            ("open.staging.test", 443, public),
            ("locked.staging.test", 443, locked),
            ("forbidden.staging.test", 443, forbidden),
            ("hdr.staging.test", 443, header_noindex),
            ("meta.staging.test", 443, meta_noindex),
            ("sso.staging.test", 443, sso),
            ("hops.staging.test", 443, hops),
            ("down.staging.test", 443, refused),
            ("hang.staging.test", 80, hang),
        ],
        r#"exposure:
  - { url: "https://open.staging.test/", expect: private }
  - { url: "https://locked.staging.test/", expect: private }
  - { url: "https://forbidden.staging.test/", expect: private }
  - { url: "https://hdr.staging.test/", expect: private }
  - { url: "https://meta.staging.test/", expect: private }
  - { url: "https://sso.staging.test/", expect: private }
  - { url: "https://hops.staging.test/", expect: private }
  - { url: "https://down.staging.test/", expect: private }
  - { url: "http://hang.staging.test/", expect: private }
"#,
    );
    let r = check_json(&policy, &["--only", "exposure", "--timeout", "500ms"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);

    let o = r.one("exposure.public", "https://open.staging.test/");
    assert_eq!(
        (o["status"].as_str(), o["severity"].as_str()),
        (Some("fail"), Some("blocker")),
        "{o:#}"
    );
    assert_eq!(o["evidence"]["robots_txt"], "disallows / for every crawler");
    for u in [
        "https://locked.staging.test/",
        "https://forbidden.staging.test/",
        "https://sso.staging.test/",
        "https://down.staging.test/",
    ] {
        assert_eq!(r.status("exposure.public", u), "pass", "{u}: {}", r.stdout);
    }
    for u in ["https://hdr.staging.test/", "https://meta.staging.test/"] {
        let x = r.one("exposure.indexable", u);
        assert_eq!(
            (x["status"].as_str(), x["severity"].as_str()),
            (Some("fail"), Some("warning")),
            "{x:#}"
        );
        assert!(
            r.results("exposure.public")
                .iter()
                .all(|p| p["target"] != u),
            "softened, not both"
        );
    }
    // a same-host redirect to content is public
    assert_eq!(
        r.status("exposure.public", "https://hops.staging.test/"),
        "fail"
    );
    // a timeout is not "unreachable": it is an error, failing closed
    let h = r.one("exposure.public", "http://hang.staging.test/");
    assert_eq!(h["status"], "error", "{h:#}");
}

#[test]
fn edge_recognises_cdns_by_their_headers() {
    let mut f = Fixture::new();
    let cf = f.https("cf.shop.test", 90, |_| {
        Reply::html("hi")
            .header("server", "cloudflare")
            .header("cf-ray", "8a1b2c3d4e5f-FRA")
    });
    let cloudfront = f.https("cfront.shop.test", 90, |_| {
        Reply::html("hi")
            .header("via", "1.1 abc.cloudfront.net (CloudFront)")
            .header("x-amz-cf-id", "xyz==")
    });
    let vercel = f.https("v.shop.test", 90, |_| {
        Reply::html("hi").header("x-vercel-id", "fra1::abc")
    });
    let origin = f.https("origin.shop.test", 90, |_| {
        Reply::html("hi").header("server", "nginx/1.25")
    });
    let policy = f.policy(
        &[
            ("cf.shop.test", 443, cf),
            ("cfront.shop.test", 443, cloudfront),
            ("v.shop.test", 443, vercel),
            ("origin.shop.test", 443, origin),
        ],
        r#"edge:
  - { host: cf.shop.test, proxied_by: cloudflare }
  - { host: cfront.shop.test, proxied_by: cloudflare }
  - { host: cfront.shop.test, proxied_by: any }
  - { host: v.shop.test, proxied_by: any }
  - { host: origin.shop.test, proxied_by: any }
"#,
    );
    let r = check_json(&policy, &["--only", "edge"]);
    let all = r.results("edge.proxy");
    assert_eq!(all.len(), 5, "{}", r.stdout);
    let c = r.one("edge.proxy", "cf.shop.test:443");
    assert_eq!(c["status"], "pass");
    assert_eq!(c["evidence"]["headers_seen"]["cf-ray"], "8a1b2c3d4e5f-FRA");
    assert_eq!(c["evidence"]["headers_seen"]["server"], "cloudflare");
    let by = |t: &str| -> Vec<String> {
        all.iter()
            .filter(|x| x["target"] == t)
            .map(|x| x["status"].as_str().unwrap().to_string())
            .collect()
    };
    let mut cfront = by("cfront.shop.test:443");
    cfront.sort();
    assert_eq!(cfront, ["fail", "pass"]);
    let wrong = all
        .iter()
        .find(|x| x["target"] == "cfront.shop.test:443" && x["status"] == "fail")
        .unwrap();
    assert_eq!(wrong["severity"], "warning");
    assert!(
        wrong["message"].as_str().unwrap().contains("CloudFront"),
        "{wrong:#}"
    );
    assert_eq!(by("v.shop.test:443"), ["pass"]);
    let o = r.one("edge.proxy", "origin.shop.test:443");
    assert_eq!(
        (o["status"].as_str(), o["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
    assert!(o["message"].as_str().unwrap().contains("no CDN headers"));
    // warnings only: the gate passes at the default --fail-on blocker
    assert_eq!(r.code, 0, "{}", r.stdout);
}
