//! Fixture helpers: real local servers (HTTP, HTTPS under a test CA, misbehaving raw
//! TCP), policies written to temp dirs, and the binary run the way a user runs it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use launchgate::certs::{Ca, Leaf};
use launchgate::serve::{Background, Incoming, Reply, ServerHandle};

pub struct Fixture {
    pub bg: Background,
    pub ca: Ca,
    pub dir: tempfile::TempDir,
    pub servers: Vec<ServerHandle>,
}

impl Fixture {
    pub fn new() -> Self {
        let f = Fixture {
            bg: Background::new(),
            ca: Ca::new("launchgate test CA"),
            dir: tempfile::tempdir().expect("tempdir"),
            servers: Vec::new(),
        };
        std::fs::write(f.dir.path().join("ca.pem"), f.ca.pem()).unwrap();
        f
    }

    /// Serves `handler` over HTTPS with a leaf for `host` valid `days` days; returns the port.
    pub fn https(
        &mut self,
        host: &str,
        days: i64,
        handler: impl Fn(&Incoming) -> Reply + Send + Sync + 'static,
    ) -> u16 {
        let leaf = self.ca.issue_days(&[host], days);
        self.https_with(leaf, handler)
    }

    pub fn https_with(
        &mut self,
        leaf: Leaf,
        handler: impl Fn(&Incoming) -> Reply + Send + Sync + 'static,
    ) -> u16 {
        let s = self.bg.serve(Arc::new(handler), Some(leaf));
        let p = s.port();
        self.servers.push(s);
        p
    }

    pub fn http(&mut self, handler: impl Fn(&Incoming) -> Reply + Send + Sync + 'static) -> u16 {
        let s = self.bg.serve(Arc::new(handler), None);
        let p = s.port();
        self.servers.push(s);
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `launch.yml` with `body` after a header that trusts the test CA.
    pub fn policy(&self, resolve: &[(&str, u16, u16)], body: &str) -> PathBuf {
        let mut text = String::from(
            "version: 1\ndefaults:\n  timeout: 2s\n  retries: 0\n  ca_file: ./ca.pem\n",
        );
        if !resolve.is_empty() {
            text.push_str("  resolve:\n");
            for (h, port, to) in resolve {
                text.push_str(&format!("    \"{h}:{port}\": \"127.0.0.1:{to}\"\n"));
            }
        }
        text.push_str(body);
        self.write("launch.yml", &text)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

pub fn bin() -> Command {
    let mut c = Command::cargo_bin("launchgate").unwrap();
    c.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The results with `id` (and `target`, when given).
    pub fn results(&self, id: &str) -> Vec<serde_json::Value> {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == id)
            .cloned()
            .collect()
    }

    pub fn one(&self, id: &str, target: &str) -> serde_json::Value {
        let all: Vec<_> = self
            .results(id)
            .into_iter()
            .filter(|c| c["target"] == target)
            .collect();
        assert_eq!(
            all.len(),
            1,
            "expected one {id} for {target}, got {all:#?}\n{}",
            self.stdout
        );
        all.into_iter().next().unwrap()
    }

    pub fn status(&self, id: &str, target: &str) -> String {
        self.one(id, target)["status"].as_str().unwrap().to_string()
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run launchgate");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn check_json(policy: &Path, extra: &[&str]) -> Run {
    let mut c = bin();
    c.arg("check")
        .arg("-p")
        .arg(policy)
        .args(["--format", "json"])
        .args(extra);
    run(&mut c)
}

/// A raw TCP server whose connections get `behave(stream)`, for misbehaving peers.
pub fn raw_server(behave: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let behave = Arc::new(behave);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let b = behave.clone();
            std::thread::spawn(move || b(s));
        }
    });
    port
}

/// Reads the request head so the peer's write does not fail.
pub fn read_head(s: &mut std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

pub fn write_all(s: &mut std::net::TcpStream, b: &[u8]) -> bool {
    s.write_all(b).is_ok()
}

/// A page with every recommended header, cached briefly.
pub fn good_page(body: &str) -> Reply {
    Reply::html(body)
        .header(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        )
        .header("content-security-policy", "default-src 'self'")
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("permissions-policy", "camera=()")
        .header("cache-control", "public, max-age=300")
}

/// Every request a handler saw, in arrival order (for "the backend got exactly…").
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<std::sync::Mutex<Vec<Incoming>>>);

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&self, r: &Incoming) {
        self.0.lock().unwrap().push(r.clone());
    }
    pub fn all(&self) -> Vec<Incoming> {
        self.0.lock().unwrap().clone()
    }
    /// Requests with this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.all()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }
}

/// A port on 127.0.0.1 where nothing listens (connections are refused).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
