//! Matcher throughput on generated source-like text (no files, no network).
//! Run: `cargo bench --bench secrets_matcher`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use launchgate::secrets::{scan_bytes, Config, ScanOptions};

/// Source-like text: identifiers, assignments with secret-ish names, some
/// base64 blobs, and a planted token every few KB.
fn corpus(size: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let word = |n: usize, rnd: &mut dyn FnMut(u64) -> u64| -> String {
        (0..n)
            .map(|_| alnum[rnd(alnum.len() as u64) as usize] as char)
            .collect()
    };
    let mut out = String::with_capacity(size + 256);
    let mut line = 0u64;
    while out.len() < size {
        line += 1;
        let l = match rnd(10) {
            0 => format!(
                "    let api_key = config.get(\"{}\")?;\n",
                word(8, &mut rnd)
            ),
            1 => format!("    // token handling for {} requests\n", word(6, &mut rnd)),
            2 => format!("    const DATA: &str = \"{}\";\n", word(48, &mut rnd)),
            3 => format!(
                "    fn {}(&self, key: &[u8]) -> Result<(), Error> {{\n",
                word(10, &mut rnd)
            ),
            4 => "    }\n".to_string(),
            5 => format!("    secret_name = \"{}\"\n", word(12, &mut rnd)),
            _ => format!(
                "    self.{} = {}.{}();\n",
                word(7, &mut rnd),
                word(5, &mut rnd),
                word(9, &mut rnd)
            ),
        };
        out.push_str(&l);
        if line % 97 == 0 {
            out.push_str(&format!(
                "    let t = \"gh{}{}\";\n",
                "p_",
                word(36, &mut rnd)
            ));
        }
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let cfg = Config::builtin();
    let data = corpus(4 << 20);
    let mut g = c.benchmark_group("scan_bytes");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    for depth in [0u32, 5] {
        let opts = ScanOptions {
            max_decode_depth: depth,
            threads: 1,
            ..ScanOptions::default()
        };
        g.bench_with_input(
            BenchmarkId::new("builtin", format!("decode{depth}")),
            &data,
            |b, d| b.iter(|| scan_bytes(&cfg, "bench.rs", d, &opts).len()),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
