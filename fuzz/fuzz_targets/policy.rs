#![no_main]
//! Any bytes as a launch.yml: the loader returns a policy or a located error, never panics.

use libfuzzer_sys::fuzz_target;
use launchgate::policy::{load_str, LoadOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = load_str(std::path::Path::new("fuzz.yml"), text, &LoadOptions::default());
    }
});
