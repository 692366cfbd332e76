//! Bounded, deterministic mutation fuzzing of the SPF, DMARC and DKIM parsers on every
//! `cargo test` (the cargo-fuzz targets in fuzz/ do the same without a bound).

use launchgate::checks::email::{dkim, dmarc, spf};

fn mutate(seed: &str, rng: &mut impl FnMut() -> u64) -> String {
    let alphabet: &[u8] = b" :;=/%{}.-+~?!,_@0123456789abcdefvDKIMpsf\x00\xff";
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..(1 + rng() % 5) {
        let pos = (rng() as usize) % (b.len() + 1);
        match rng() % 3 {
            0 if !b.is_empty() => {
                b.remove(pos.min(b.len() - 1));
            }
            1 => b.insert(pos, alphabet[(rng() as usize) % alphabet.len()]),
            _ => {
                let end = (pos + (rng() as usize % 12)).min(b.len());
                let dup = b[pos.min(end)..end].to_vec();
                b.splice(pos.min(end)..pos.min(end), dup);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn record_parsers_never_panic() {
    let spf_seeds = [
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24//64 include:_spf.google.com exists:%{i}._spf.%{d} redirect=_spf.example.com exp=explain.%{d} ~all",
        "v=spf1 -all",
    ];
    let dmarc_seeds = ["v=DMARC1; p=quarantine; sp=reject; np=reject; rua=mailto:a@example.com!10m,mailto:b@x.example; ruf=mailto:f@example.com; adkim=s; aspf=r; fo=1:d; pct=50; rf=afrf; ri=86400; psd=n; t=y"];
    let dkim_seeds = [
        launchgate::checks::email::dkim::test_keys::rsa_record(1024),
        "v=DKIM1; k=ed25519; t=y:s; h=sha256; s=email; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".to_string(),
    ];
    let mut state: u64 = 0x2545F4914F6CDD1D;
    let mut rng = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut accepted = [0usize; 3];
    for i in 0..4000 {
        let s = mutate(spf_seeds[i % 2], &mut rng);
        accepted[0] += usize::from(spf::parse(&s).is_ok());
        let d = mutate(dmarc_seeds[0], &mut rng);
        accepted[1] += usize::from(dmarc::parse(&d).is_ok());
        let k = mutate(&dkim_seeds[i % 2], &mut rng);
        if let Ok(key) = dkim::parse(&k) {
            accepted[2] += 1;
            let _ = dkim::key_bits(&key);
        }
    }
    // the mutations reach both the accepting and the rejecting paths
    for (n, name) in accepted.iter().zip(["spf", "dmarc", "dkim"]) {
        assert!(*n > 50 && *n < 4000, "{name}: {n} of 4000 accepted");
    }
}
