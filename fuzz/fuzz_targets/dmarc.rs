#![no_main]
//! Any text as a dmarc record: the parser returns a record or an error, never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = launchgate::checks::email::dmarc::parse(text);
    }
});
