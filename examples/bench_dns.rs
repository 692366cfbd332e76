//! A local authoritative DNS server whose every answer is delayed, and policies with N
//! record expectations (and one), for bench/check-dns.sh.
//!
//!     cargo run --release --example bench_dns -- 100 50 /tmp/lg-dns

use std::time::Duration;

use launchgate::serve::Background;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let delay_ms: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let dir = std::path::PathBuf::from(
        args.get(3)
            .cloned()
            .unwrap_or_else(|| "/tmp/launchgate-dns-bench".into()),
    );
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut zone = String::from("$ORIGIN bench.test.\n$TTL 300\n@ IN SOA ns1 admin 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n");
    for i in 0..n {
        zone.push_str(&format!("host{i} IN A 192.0.2.{}\n", i % 250 + 1));
    }
    let bg = Background::new();
    let dns = bg.serve_dns("bench.test", &zone);
    dns.set_delay(Duration::from_millis(delay_ms));
    let head = format!("version: 1\ndefaults: {{ timeout: 5s, retries: 0 }}\ndns:\n  resolvers: [\"{}\"]\n  records:\n", dns.addr);
    let mut many = head.clone();
    for i in 0..n {
        many.push_str(&format!(
            "    - {{ name: host{i}.bench.test, type: A, expect: [192.0.2.{}] }}\n",
            i % 250 + 1
        ));
    }
    std::fs::write(dir.join("many.yml"), many).expect("write policy");
    std::fs::write(
        dir.join("one.yml"),
        head + "    - { name: host0.bench.test, type: A, expect: [192.0.2.1] }\n",
    )
    .expect("write policy");
    println!("{}", dir.display());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
