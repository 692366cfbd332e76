//! Fail closed, lose nothing: misbehaving servers end as `error` results within the
//! timeout and with bounded memory, and one failing check never hides another.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;

fn write_policy(f: &Fixture, port: u16) -> std::path::PathBuf {
    let text = format!(
        "version: 1\ndefaults:\n  timeout: 1s\n  retries: 0\n  max_body: 1MiB\n  resolve: {{ \"bad.test:80\": \"127.0.0.1:{port}\" }}\npages:\n  - url: http://bad.test/\n    expect: {{ body_contains: x }}\n"
    );
    f.write("launch.yml", &text)
}

fn expect_error(port: u16, needle: &str) {
    let f = Fixture::new();
    let policy = write_policy(&f, port);
    let t = Instant::now();
    let r = check_json(&policy, &[]);
    let took = t.elapsed();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let s = r.one("pages.status", "http://bad.test/");
    assert_eq!(s["status"], "error", "{s:#}");
    assert!(s["message"].as_str().unwrap().contains(needle), "{s:#}");
    // every id that applies still reports
    assert_eq!(r.status("pages.body", "http://bad.test/"), "error");
    assert_eq!(r.status("pages.latency", "http://bad.test/"), "error");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn server_that_accepts_and_never_answers() {
    let port = raw_server(|s| {
        std::thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    expect_error(port, "timed out");
}

#[test]
fn server_that_stalls_mid_body() {
    let port = raw_server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nhalf a bo");
        std::thread::sleep(Duration::from_secs(30));
    });
    expect_error(port, "response body");
}

#[test]
fn server_that_streams_an_endless_body() {
    let port = raw_server(|mut s| {
        read_head(&mut s);
        if !write_all(
            &mut s,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ) {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 65536, "x".repeat(65536));
        while write_all(&mut s, chunk.as_bytes()) {}
    });
    expect_error(port, "limit");
}

#[test]
fn server_that_answers_garbage() {
    let port = raw_server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"\x00\x01\x02 this is not HTTP at all\r\n\r\n");
    });
    expect_error(port, "invalid HTTP");
}

#[test]
fn refused_connection_is_an_error_not_a_pass() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    expect_error(port, "cannot connect");
}

#[test]
fn one_broken_host_does_not_hide_the_others() {
    let mut f = Fixture::new();
    let good = f.https("good.test", 90, |_| good_page("ok"));
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let policy = f.policy(
        &[("good.test", 443, good), ("dead.test", 443, dead)],
        "pages:\n  - url: https://good.test/\n  - url: https://dead.test/\n",
    );
    let r = check_json(&policy, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("pages.status", "https://good.test/"), "pass");
    assert_eq!(r.status("tls.valid", "good.test:443"), "pass");
    assert_eq!(r.status("pages.status", "https://dead.test/"), "error");
    assert_eq!(r.status("tls.valid", "dead.test:443"), "error");
    assert!(r.json()["counts"]["error"].as_u64().unwrap() >= 2);
}
