#![no_main]
//! Any bytes as a Lighthouse report: parsed or rejected, and a parsed one judged by the
//! recommended preset and the defaults, never a panic.

use launchgate::checks::lighthouse::{assert, default_assertions, lhr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(l) = lhr::parse(text) {
            let runs = vec![l.clone(), l];
            let _ = assert::assert_all(&default_assertions(), &runs);
            let _ = assert::assert_all(&serde_json::json!({"preset": "lighthouse:recommended", "aggregationMethod": "median-run"}), &runs);
        }
    }
});
