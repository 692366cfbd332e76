//! DNS expectations, email authentication and drift against a real authoritative
//! server (hickory-server on 127.0.0.1, UDP and TCP) with zones of known faults.

mod common;

use common::*;
use launchgate::checks::email::dkim::test_keys::rsa_record;

/// A TXT record's presentation: split into quoted strings of at most 200 bytes.
fn txt(s: &str) -> String {
    s.as_bytes()
        .chunks(200)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn zone() -> String {
    let mut z = String::from(
        "$ORIGIN test.\n$TTL 300\n@ IN SOA ns1.test. admin.test. 1 3600 600 86400 60\n@ IN NS ns1.test.\nns1 IN A 127.0.0.1\n",
    );
    let rec = |z: &mut String, line: String| {
        z.push_str(&line);
        z.push('\n');
    };
    // the clean domain
    rec(&mut z, "good.test. IN A 203.0.113.10".into());
    rec(&mut z, "www.good.test. IN CNAME good.pages.example.".into());
    rec(&mut z, "good.test. IN MX 10 mx1.good.test.".into());
    rec(&mut z, "good.test. IN MX 20 mx2.good.test.".into());
    rec(
        &mut z,
        "good.test. IN CAA 0 issue \"letsencrypt.org\"".into(),
    );
    rec(
        &mut z,
        "good.test. IN TXT \"google-site-verification=abc\"".into(),
    );
    rec(
        &mut z,
        "good.test. IN TXT \"v=spf1 ip4:203.0.113.0/24 include:_spf.provider.test mx -all\"".into(),
    );
    rec(&mut z, "mx1.good.test. IN A 203.0.113.20".into());
    rec(&mut z, "mx2.good.test. IN A 203.0.113.21".into());
    rec(
        &mut z,
        "_spf.provider.test. IN TXT \"v=spf1 ip4:198.51.100.0/24 ~all\"".into(),
    );
    rec(
        &mut z,
        format!(
            "google._domainkey.good.test. IN TXT {}",
            txt(&rsa_record(2048))
        ),
    );
    rec(
        &mut z,
        format!(
            "weak._domainkey.good.test. IN TXT {}",
            txt(&rsa_record(512))
        ),
    );
    rec(
        &mut z,
        "revoked._domainkey.good.test. IN TXT \"v=DKIM1; k=rsa; p=\"".into(),
    );
    rec(
        &mut z,
        "_dmarc.good.test. IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\"".into(),
    );
    // more than 10 lookups through nested includes
    rec(
        &mut z,
        "lookups.test. IN TXT \"v=spf1 include:a.lookups.test include:b.lookups.test -all\"".into(),
    );
    rec(
        &mut z,
        "a.lookups.test. IN TXT \"v=spf1 include:c.lookups.test include:d.lookups.test a mx ~all\""
            .into(),
    );
    rec(&mut z, "b.lookups.test. IN TXT \"v=spf1 include:e.lookups.test a mx exists:good.test mx:good.test ~all\"".into());
    rec(&mut z, "a.lookups.test. IN A 192.0.2.1".into());
    rec(&mut z, "b.lookups.test. IN A 192.0.2.2".into());
    rec(&mut z, "a.lookups.test. IN MX 10 good.test.".into());
    rec(&mut z, "b.lookups.test. IN MX 10 good.test.".into());
    for n in ["c", "d", "e"] {
        rec(
            &mut z,
            format!("{n}.lookups.test. IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\""),
        );
    }
    // two SPF records, +all, void lookups, unapproved senders
    rec(&mut z, "two.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "two.test. IN TXT \"v=spf1 include:_spf.provider.test -all\"".into(),
    );
    rec(
        &mut z,
        "plusall.test. IN TXT \"v=spf1 ip4:192.0.2.0/24 +all\"".into(),
    );
    rec(
        &mut z,
        "void.test. IN TXT \"v=spf1 a:nx1.void.test mx:nx2.void.test exists:nx3.void.test -all\""
            .into(),
    );
    rec(&mut z, "unapproved.test. IN TXT \"v=spf1 include:_spf.provider.test include:old-esp.provider.test ip4:192.0.2.9 -all\"".into());
    rec(
        &mut z,
        "old-esp.provider.test. IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"".into(),
    );
    rec(
        &mut z,
        "syntax.test. IN TXT \"v=spf1 ip4:300.1.1.1 -all\"".into(),
    );
    // DMARC faults
    rec(&mut z, "nodmarc.test. IN TXT \"v=spf1 -all\"".into());
    rec(&mut z, "baddmarc.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.baddmarc.test. IN TXT \"v=DMARC1; p=maybe\"".into(),
    );
    rec(&mut z, "none.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.none.test. IN TXT \"v=DMARC1; p=none; rua=mailto:d@none.test\"".into(),
    );
    rec(&mut z, "quar.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.quar.test. IN TXT \"v=DMARC1; p=quarantine; pct=50; rua=mailto:d@quar.test\""
            .into(),
    );
    rec(&mut z, "norua.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.norua.test. IN TXT \"v=DMARC1; p=reject\"".into(),
    );
    rec(&mut z, "ext.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.ext.test. IN TXT \"v=DMARC1; p=reject; rua=mailto:agg@reports.other.test\"".into(),
    );
    rec(&mut z, "extok.test. IN TXT \"v=spf1 -all\"".into());
    rec(
        &mut z,
        "_dmarc.extok.test. IN TXT \"v=DMARC1; p=reject; rua=mailto:agg@reports.other.test\""
            .into(),
    );
    rec(
        &mut z,
        "extok.test._report._dmarc.reports.other.test. IN TXT \"v=DMARC1\"".into(),
    );
    // an answer too large for UDP: the resolver must retry over TCP
    for i in 0..12 {
        rec(
            &mut z,
            format!("big.test. IN TXT \"token-{i:02}-{}\"", "x".repeat(180)),
        );
    }
    z
}

fn setup(
    body: &str,
) -> (
    Fixture,
    launchgate::serve_dns::DnsServer,
    std::path::PathBuf,
) {
    let f = Fixture::new();
    let dns = f.bg.serve_dns("test", &zone());
    let policy = f.policy(
        &[],
        &format!("dns:\n  resolvers: [\"{}\"]\n{body}", dns.addr),
    );
    (f, dns, policy)
}

fn sev(r: &Run, id: &str, target: &str) -> (String, String) {
    let c = r.one(id, target);
    (
        c["status"].as_str().unwrap().to_string(),
        c["severity"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn records_expect_contains_absent_and_tcp_fallback() {
    let big = format!("token-11-{}", "x".repeat(180));
    let (_f, _dns, policy) = setup(&format!(
        "  records:\n    - {{ name: good.test, type: A, expect: [203.0.113.10] }}\n    - {{ name: www.good.test, type: CNAME, expect: [good.pages.example] }}\n    - {{ name: good.test, type: MX, contains: [\"10 MX1.good.test\"] }}\n    - {{ name: good.test, type: CAA, contains: ['0 issue \"letsencrypt.org\"'] }}\n    - {{ name: staging.good.test, type: A, absent: true }}\n    - {{ name: good.test, type: A, expect: [198.51.100.1] }}\n    - {{ name: good.test, type: AAAA, absent: true }}\n    - {{ name: www.good.test, type: A, absent: true }}\n    - {{ name: big.test, type: TXT, contains: [\"{big}\"] }}\n    - {{ name: big.test, type: TXT }}\n"
    ));
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let recs = r.results("dns.record");
    let a: Vec<_> = recs
        .iter()
        .filter(|c| c["target"] == "good.test A")
        .collect();
    assert_eq!(a.len(), 2);
    assert!(a.iter().any(|c| c["status"] == "pass"));
    let wrong = a.iter().find(|c| c["status"] == "fail").unwrap();
    assert_eq!(wrong["severity"], "blocker");
    let m = wrong["message"].as_str().unwrap();
    assert!(
        m.contains("198.51.100.1") && m.contains("203.0.113.10"),
        "{m}"
    );
    assert_eq!(r.status("dns.record", "www.good.test CNAME"), "pass");
    assert_eq!(r.status("dns.record", "good.test MX"), "pass");
    assert_eq!(r.status("dns.record", "good.test CAA"), "pass");
    assert_eq!(r.status("dns.absent", "staging.good.test A"), "pass");
    assert_eq!(r.status("dns.absent", "good.test AAAA"), "pass");
    let w = r.one("dns.absent", "www.good.test A");
    assert_eq!(w["status"], "fail", "a CNAME'd name resolves: {w:#}");
    // 12 × ~190 bytes is far beyond one UDP datagram: answered over TCP
    let big: Vec<_> = r
        .results("dns.record")
        .into_iter()
        .filter(|c| c["target"] == "big.test TXT")
        .collect();
    assert!(big.iter().all(|c| c["status"] == "pass"), "{big:#?}");
    assert_eq!(big[0]["evidence"]["actual"].as_array().unwrap().len(), 12);
}

#[test]
fn clean_domain_has_no_false_alarm() {
    let (_f, _dns, policy) = setup(
        "email:\n  - domain: good.test\n    spf: { senders: [\"ip4:203.0.113.0/24\", \"include:_spf.provider.test\", mx] }\n    dkim: { selectors: [google] }\n    dmarc: { min_policy: reject, rua: required }\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for c in r.json()["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c:#}");
    }
    let lookups = r.one("email.spf.lookups", "good.test");
    assert_eq!(lookups["evidence"]["lookups"], 2);
    assert_eq!(
        lookups["evidence"]["tree"]["children"][0]["domain"],
        "_spf.provider.test"
    );
    assert_eq!(
        r.one("email.dkim.weak", "google._domainkey.good.test")["evidence"]["bits"],
        2048
    );
}

#[test]
fn spf_faults_are_found() {
    let (_f, _dns, policy) = setup(
        "email:\n  - domain: lookups.test\n  - domain: two.test\n  - domain: plusall.test\n  - domain: void.test\n  - domain: unapproved.test\n    spf: { senders: [\"include:_spf.provider.test\"] }\n  - domain: syntax.test\n  - domain: missing.test\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1);
    let l = r.one("email.spf.lookups", "lookups.test");
    assert_eq!(l["status"], "fail", "{l:#}");
    assert_eq!(l["severity"], "blocker");
    assert_eq!(l["evidence"]["lookups"], 11, "{l:#}");
    assert_eq!(r.status("email.spf.lookups", "void.test"), "pass");
    assert_eq!(
        sev(&r, "email.spf.multiple", "two.test"),
        ("fail".into(), "blocker".into())
    );
    assert_eq!(
        sev(&r, "email.spf.all", "plusall.test"),
        ("fail".into(), "blocker".into())
    );
    let v = r.one("email.spf.void", "void.test");
    assert_eq!(
        (v["status"].as_str(), v["severity"].as_str()),
        (Some("fail"), Some("blocker"))
    );
    assert_eq!(v["evidence"]["void_lookups"], 3);
    let u = r.one("email.spf.unapproved", "unapproved.test");
    assert_eq!(
        (u["status"].as_str(), u["severity"].as_str()),
        (Some("fail"), Some("warning"))
    );
    assert_eq!(
        u["evidence"]["unapproved"],
        serde_json::json!(["include:old-esp.provider.test", "ip4:192.0.2.9"])
    );
    assert_eq!(
        sev(&r, "email.spf.syntax", "syntax.test"),
        ("fail".into(), "blocker".into())
    );
    assert_eq!(
        sev(&r, "email.spf.missing", "missing.test"),
        ("fail".into(), "blocker".into())
    );
    assert_eq!(r.status("email.spf.all", "two.test"), "skipped");
}

#[test]
fn dkim_missing_weak_and_revoked() {
    let (_f, _dns, policy) = setup(
        "email:\n  - domain: good.test\n    dkim: { selectors: [google, weak, nosuch, revoked], min_key_bits: 1024 }\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(
        r.status("email.dkim.missing", "google._domainkey.good.test"),
        "pass"
    );
    assert_eq!(
        sev(&r, "email.dkim.weak", "weak._domainkey.good.test"),
        ("fail".into(), "warning".into())
    );
    assert_eq!(
        r.one("email.dkim.weak", "weak._domainkey.good.test")["evidence"]["bits"],
        512
    );
    assert_eq!(
        sev(&r, "email.dkim.missing", "nosuch._domainkey.good.test"),
        ("fail".into(), "blocker".into())
    );
    let rv = r.one("email.dkim.missing", "revoked._domainkey.good.test");
    assert!(rv["message"].as_str().unwrap().contains("revoked"));
}

#[test]
fn dmarc_faults_are_found() {
    let (_f, _dns, policy) = setup(
        "email:\n  - domain: nodmarc.test\n  - domain: baddmarc.test\n  - domain: none.test\n    dmarc: { min_policy: quarantine }\n  - domain: quar.test\n    dmarc: { min_policy: reject }\n  - domain: norua.test\n  - domain: ext.test\n  - domain: extok.test\n  - domain: good.test\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(
        sev(&r, "email.dmarc.missing", "nodmarc.test"),
        ("fail".into(), "blocker".into())
    );
    assert_eq!(
        sev(&r, "email.dmarc.syntax", "baddmarc.test"),
        ("fail".into(), "blocker".into())
    );
    assert_eq!(
        sev(&r, "email.dmarc.policy", "none.test"),
        ("fail".into(), "warning".into())
    );
    assert_eq!(
        sev(&r, "email.dmarc.policy", "quar.test"),
        ("fail".into(), "warning".into())
    );
    assert_eq!(
        sev(&r, "email.dmarc.deprecated", "quar.test"),
        ("fail".into(), "warning".into())
    );
    assert_eq!(
        sev(&r, "email.dmarc.rua", "norua.test"),
        ("fail".into(), "warning".into())
    );
    let ext = r.one("email.dmarc.rua", "ext.test");
    assert_eq!(ext["status"], "fail");
    assert!(ext["message"]
        .as_str()
        .unwrap()
        .contains("ext.test._report._dmarc.reports.other.test"));
    assert_eq!(r.status("email.dmarc.rua", "extok.test"), "pass");
    for id in [
        "email.dmarc.missing",
        "email.dmarc.syntax",
        "email.dmarc.policy",
        "email.dmarc.rua",
    ] {
        assert_eq!(r.status(id, "good.test"), "pass", "{id}");
    }
}

#[test]
fn servfail_and_dead_resolver_are_errors_naming_the_server() {
    let (f, dns, _) = setup("");
    dns.servfail("good.test");
    let policy = f.policy(
        &[],
        &format!(
            "dns:\n  resolvers: [\"{}\"]\n  records:\n    - {{ name: good.test, type: A, expect: [203.0.113.10] }}\n    - {{ name: www.good.test, type: CNAME }}\n",
            dns.addr
        ),
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1);
    let e = r.one("dns.record", "good.test A");
    assert_eq!(e["status"], "error");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("SERVFAIL") && m.contains(&dns.addr.to_string()),
        "{m}"
    );
    assert_eq!(r.status("dns.record", "www.good.test CNAME"), "pass");

    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    let policy = f.policy(
        &[],
        &format!(
            "dns:\n  resolvers: [\"{addr}\"]\n  records:\n    - {{ name: good.test, type: A }}\n"
        ),
    );
    let r = check_json(&policy, &[]);
    let e = r.one("dns.record", "good.test A");
    assert_eq!(e["status"], "error");
    assert!(e["message"].as_str().unwrap().contains(&addr.to_string()));
}

#[test]
fn snapshot_then_zone_change_then_diff_reports_exactly_the_changes() {
    let (f, dns, policy) = setup(
        "  lock: ./launch.lock.yml\n  records:\n    - { name: good.test, type: A }\n    - { name: www.good.test, type: CNAME }\n    - { name: good.test, type: MX }\n    - { name: staging.good.test, type: A, absent: true }\nemail:\n  - domain: good.test\n    dkim: { selectors: [google] }\n",
    );
    let lock = f.path().join("launch.lock.yml");
    let mut c = bin();
    c.args(["dns", "snapshot", "-p"])
        .arg(&policy)
        .arg("--out")
        .arg(&lock);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains("www.good.test") && text.contains("_dmarc.good.test"),
        "{text}"
    );

    let mut c = bin();
    c.args(["dns", "diff", "-p"])
        .arg(&policy)
        .arg("--lock")
        .arg(&lock);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "no drift yet: {}{}", r.stdout, r.stderr);
    assert_eq!(check_json(&policy, &[]).code, 0);

    let changed = zone()
        .replace(
            "www.good.test. IN CNAME good.pages.example.",
            "www.good.test. IN CNAME evil.example.",
        )
        .replace("good.test. IN MX 20 mx2.good.test.\n", "")
        .replace(
            "\"v=spf1 ip4:203.0.113.0/24 include:_spf.provider.test mx -all\"",
            "\"v=spf1 ip4:203.0.113.0/24 include:_spf.provider.test mx +all\"",
        )
        .replace(
            "google-site-verification=abc",
            "google-site-verification=xyz",
        )
        .replace(
            "good.test. IN A 203.0.113.10",
            "good.test. 60 IN A 203.0.113.10",
        )
        + "staging.good.test. IN A 203.0.113.99\n";
    dns.set_zone("test", &changed).unwrap();

    let mut c = bin();
    c.args(["dns", "diff", "-p"])
        .arg(&policy)
        .arg("--lock")
        .arg(&lock);
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with(['+', '-', '~']))
        .collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("~ www.good.test CNAME") && l.contains("evil.example.")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("- good.test MX") && l.contains("20 mx2.good.test.")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("~ good.test TXT (spf)") && l.contains("+all")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("+ staging.good.test A 203.0.113.99")),
        "{lines:?}"
    );
    // TTLs only count when asked
    let mut c = bin();
    c.args(["dns", "diff", "--ttl", "-p"])
        .arg(&policy)
        .arg("--lock")
        .arg(&lock);
    let r = run(&mut c);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("~ good.test A") && l.contains("TTL 300 → 60")),
        "{}",
        r.stdout
    );
    // check reports the same drift as dns.drift blockers
    let r = check_json(&policy, &["--only", "dns"]);
    assert_eq!(r.code, 1);
    let drift: Vec<_> = r
        .results("dns.drift")
        .into_iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(drift.len(), 4, "{drift:#?}");
    assert!(drift.iter().all(|c| c["severity"] == "blocker"));

    // a server that stops answering: no verdict, exit 3
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let p2 = f.write(
        "dead.yml",
        &format!("version: 1\ndefaults: {{ timeout: 300ms, retries: 0 }}\ndns:\n  resolvers: [\"{}\"]\n  records:\n    - {{ name: good.test, type: A }}\n", dead.local_addr().unwrap()),
    );
    let mut c = bin();
    c.args(["dns", "diff", "-p"])
        .arg(&p2)
        .arg("--lock")
        .arg(&lock);
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
}

#[test]
fn init_writes_a_starter_policy_that_loads() {
    let mut f = Fixture::new();
    let dns = f.bg.serve_dns("test", &zone());
    let https = f.https("www.good.test", 90, |_| good_page("hello"));
    let out = f.path().join("launch.yml");
    let mut c = bin();
    c.args([
        "init",
        "--domain",
        "good.test",
        "--resolver",
        &dns.addr.to_string(),
        "--resolve",
        &format!("www.good.test:443:127.0.0.1:{https}"),
        "--ca-file",
    ])
    .arg(f.path().join("ca.pem"))
    .arg("--out")
    .arg(&out);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("selectors: [\"google\"]"), "{text}");
    assert!(text.contains("include:_spf.provider.test"), "{text}");
    assert!(text.contains("https://www.good.test/"), "{text}");
    assert!(text.contains("TODO"), "{text}");
    // it never overwrites without --force
    let mut c = bin();
    c.args(["init", "--domain", "good.test", "--out"]).arg(&out);
    assert_eq!(run(&mut c).code, 2);
    // and the gate runs on what it wrote
    let r = check_json(&out, &["--only", "dns,email,pages"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_eq!(r.status("email.spf.missing", "good.test"), "pass");
}
