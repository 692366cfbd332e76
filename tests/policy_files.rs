//! The shipped policies load, and the loader survives mangled input without panicking.

use std::path::Path;

use launchgate::policy::{load, load_str, LoadOptions};

fn opts() -> LoadOptions {
    let mut o = LoadOptions::default();
    o.set.insert("BASE_SHA".into(), "abc123".into());
    o
}

#[test]
fn example_policy_loads() {
    let l = load(Path::new("examples/launch.yml"), &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.policy.pages.len(), 4);
    assert_eq!(l.policy.pages[0].url.as_str(), "https://www.acme.com/");
    assert_eq!(
        l.policy
            .secrets
            .as_ref()
            .unwrap()
            .history
            .as_ref()
            .unwrap()
            .as_str(),
        "abc123..HEAD"
    );
    // the preset filled what the file did not say
    assert!(l.policy.defaults.timeout.is_some());
}

#[test]
fn presets_load_on_their_own() {
    let text = "version: 1\nextends: [recommended]\n";
    load_str(Path::new("launch.yml"), text, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A small deterministic fuzzer: mutate real policies and require an `Ok` or a located
/// error, never a panic (the cargo-fuzz target in fuzz/ does the same, unbounded).
#[test]
fn mangled_policies_never_panic() {
    let seeds = [
        std::fs::read_to_string("examples/launch.yml").unwrap(),
        launchgate::demo::policy_text(1, 2, 3),
    ];
    let alphabet: &[u8] = b":{}[]-,\n \t$'\"#&*!|>%@`?\\0123456789abcxyz\x00\xff";
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for i in 0..3000 {
        let mut bytes = seeds[i % seeds.len()].clone().into_bytes();
        for _ in 0..(1 + next() % 4) {
            let len = bytes.len().max(1);
            let pos = (next() as usize) % len;
            match next() % 4 {
                0 => {
                    bytes.remove(pos.min(bytes.len().saturating_sub(1)));
                }
                1 => bytes.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                2 => {
                    let end = (pos + (next() as usize % 40)).min(bytes.len());
                    bytes.drain(pos..end);
                }
                _ => {
                    let end = (pos + (next() as usize % 40)).min(bytes.len());
                    let dup: Vec<u8> = bytes[pos..end].to_vec();
                    bytes.splice(pos..pos, dup);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let r = std::panic::catch_unwind(|| {
            load_str(Path::new("fuzz.yml"), &text, &opts())
                .map(|_| ())
                .map_err(Box::new)
        });
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                errors += 1;
                assert!(!e.message.is_empty());
                let shown = e.to_string();
                assert!(shown.starts_with("error: fuzz.yml"), "{shown}");
            }
            Err(_) => panic!("the loader panicked on:\n{text}"),
        }
    }
    assert!(errors > 100, "mutations should produce errors ({errors})");
}
