//! A local funnel for benchmarks: N HTTPS pages that each answer after a fixed delay,
//! and a policy that checks them all. Used by bench/check-pages.sh.
//!
//!     cargo run --release --example bench_funnel -- 50 200 /tmp/lg-bench

use std::sync::Arc;
use std::time::Duration;

use launchgate::certs::Ca;
use launchgate::serve::{Background, Reply};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pages: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50);
    let delay_ms: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = std::path::PathBuf::from(
        args.get(3)
            .cloned()
            .unwrap_or_else(|| "/tmp/launchgate-bench".into()),
    );
    std::fs::create_dir_all(&dir).expect("bench dir");
    let bg = Background::new();
    let ca = Ca::new("bench CA");
    let host = "www.bench.test";
    let leaf = ca.issue_days(&[host], 90);
    let delay = Duration::from_millis(delay_ms);
    let server = bg.serve(
        Arc::new(move |_| {
            Reply::html("<h1>Book a discovery call</h1>")
                .header(
                    "strict-transport-security",
                    "max-age=31536000; includeSubDomains",
                )
                .header("cache-control", "public, max-age=60")
                .delay(delay)
        }),
        Some(leaf),
    );
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write CA");
    let mut policy = format!(
        "version: 1\ndefaults:\n  timeout: 10s\n  ca_file: ./ca.pem\n  resolve: {{ \"{host}:443\": \"127.0.0.1:{}\" }}\npages:\n",
        server.port()
    );
    for i in 0..pages {
        policy.push_str(&format!(
            "  - url: https://{host}/page-{i}\n    expect: {{ body_contains: [Book a discovery call], max_latency: 5s }}\n    cache: semi-static\n"
        ));
    }
    std::fs::write(dir.join("launch.yml"), policy).expect("write policy");
    println!("{}", dir.join("launch.yml").display());
    // Serve until killed.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
