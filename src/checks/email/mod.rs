//! `email`: SPF, DKIM and DMARC for each domain, so messages arrive and the brand
//! cannot be spoofed.

pub mod dkim;
pub mod dmarc;
pub mod spf;

use super::{error, fail, pass, result, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity, Status};
use crate::net::dns::{Answer, DnsClient};
use crate::policy::{DmarcLevel, EmailDomain, Need};

macro_rules! info {
    ($name:ident, $id:literal, $sev:ident, $title:literal, $why:literal, $fix:literal) => {
        pub const $name: CheckInfo = CheckInfo {
            id: $id,
            severity: Severity::$sev,
            title: $title,
            why: $why,
            fix: $fix,
        };
    };
}

info!(SPF_MISSING, "email.spf.missing", Blocker, "The domain publishes an SPF record",
    "Without SPF, receivers cannot tell your mail from forgeries: proposals and invoices land in spam, and anyone can send as your domain.",
    "Publish one TXT record at the domain: `v=spf1 include:<your mail provider> -all` (or `~all` while you verify senders).");
info!(SPF_MULTIPLE, "email.spf.multiple", Blocker, "Exactly one SPF record",
    "Two `v=spf1` records are a permanent error (RFC 7208 §4.5): receivers treat the domain as having no valid SPF at all.",
    "Merge the records into one TXT record; keep every sender's include in it.");
info!(SPF_SYNTAX, "email.spf.syntax", Blocker, "The SPF record is valid",
    "A malformed term, an include of a domain without SPF, or a loop makes evaluation a permanent error, and mail fails SPF everywhere.",
    "Fix the term named in the message (see RFC 7208 §5); check that every include target publishes its own SPF record.");
info!(SPF_LOOKUPS, "email.spf.lookups", Blocker, "SPF stays within 10 DNS lookups",
    "Past 10 DNS-querying terms (include, a, mx, ptr, exists, redirect — counted through every include) receivers stop with a permanent error (RFC 7208 §4.6.4) and your mail fails SPF.",
    "Remove unused includes, replace `a`/`mx` with `ip4:`/`ip6:` ranges, or flatten a provider's include into addresses.");
info!(SPF_VOID, "email.spf.void", Blocker, "SPF has at most 2 void lookups",
    "More than two lookups that return no answer (NXDOMAIN or empty) is a permanent error (RFC 7208 §4.6.4): the record fails for everyone.",
    "Remove includes and mechanisms that point at names with no records (old providers, typos).");
info!(SPF_UNAPPROVED, "email.spf.unapproved", Warning, "SPF authorises only approved senders",
    "Every source in SPF can send mail as you; a forgotten trial of an email tool is a way to phish your own customers.",
    "Remove the sources you do not use, or add them to `email.spf.senders` in the policy once approved.");
info!(SPF_ALL, "email.spf.all", Blocker, "SPF ends with a strict `all`",
    "`+all` authorises the whole internet to send as you, and `?all` or no `all` tells receivers nothing: spoofed mail gets through.",
    "End the record with `-all` (or `~all` while rolling out).");
info!(SPF_PTR, "email.spf.ptr", Warning, "SPF does not use `ptr`",
    "RFC 7208 §5.5 says `ptr` should not be used: it is slow, unreliable and some receivers ignore it.",
    "Replace `ptr` with the sender's `ip4:`/`ip6:` ranges or its include.");
info!(DKIM_MISSING, "email.dkim.missing", Blocker, "The DKIM key is published",
    "Without the selector's key, receivers cannot verify signatures: DMARC fails for that sender and mail goes to spam.",
    "Publish the TXT record your mail provider gives you at SELECTOR._domainkey.DOMAIN (or fix the selector name in the policy).");
info!(DKIM_WEAK, "email.dkim.weak", Warning, "The DKIM key is strong enough",
    "RSA keys under 1024 bits can be factored and are rejected by major receivers; 2048 bits is the recommendation.",
    "Rotate to a 2048-bit RSA (or ed25519 alongside RSA) key at a new selector, then retire the old one.");
info!(DMARC_MISSING, "email.dmarc.missing", Blocker, "The domain publishes DMARC",
    "Without DMARC, Gmail and Yahoo bulk-sender rules are not met and nothing stops spoofing of your exact domain.",
    "Publish TXT `_dmarc.DOMAIN`: `v=DMARC1; p=none; rua=mailto:dmarc@DOMAIN` and move to quarantine/reject once reports are clean.");
info!(DMARC_SYNTAX, "email.dmarc.syntax", Blocker, "The DMARC record is valid",
    "Receivers ignore a malformed DMARC record (or more than one): the domain behaves as if it had none.",
    "Fix the tag named in the message; publish exactly one record starting with `v=DMARC1; p=`.");
info!(DMARC_POLICY, "email.dmarc.policy", Warning, "DMARC enforces the required policy",
    "`p=none` only monitors: spoofed mail is still delivered. The policy asks for at least the named level.",
    "Raise `p=` (and `sp=`/`np=`) to quarantine, then reject, once DMARC reports show your own mail aligned.");
info!(DMARC_RUA, "email.dmarc.rua", Warning, "DMARC aggregate reports reach someone",
    "Without `rua` (or with a destination that did not authorise it) nobody sees who sends as you, so moving to enforcement is guesswork.",
    "Add `rua=mailto:...`; for a mailbox at another domain, that domain must publish `DOMAIN._report._dmarc.DEST` TXT `v=DMARC1`.");
info!(DMARC_DEPRECATED, "email.dmarc.deprecated", Warning, "DMARC uses no removed tags",
    "DMARCbis removed `pct`, `rf` and `ri`; receivers following it ignore them, so `pct=` no longer phases in enforcement.",
    "Drop the removed tags; use `t=y` for testing mode instead of `pct`.");

pub const INFO: &[CheckInfo] = &[
    SPF_MISSING,
    SPF_MULTIPLE,
    SPF_SYNTAX,
    SPF_LOOKUPS,
    SPF_VOID,
    SPF_UNAPPROVED,
    SPF_ALL,
    SPF_PTR,
    DKIM_MISSING,
    DKIM_WEAK,
    DMARC_MISSING,
    DMARC_SYNTAX,
    DMARC_POLICY,
    DMARC_RUA,
    DMARC_DEPRECATED,
];

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let dns = match ctx.dns() {
        Ok(d) => d,
        Err(e) => {
            return ctx
                .loaded
                .policy
                .email
                .iter()
                .flat_map(|d| {
                    [SPF_MISSING, DMARC_MISSING]
                        .map(|i| error(&i, d.domain.as_str(), format!("no DNS resolver: {e}")))
                })
                .collect()
        }
    };
    let futs = ctx.loaded.policy.email.iter().map(|d| domain(dns, d));
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn domain(dns: &DnsClient, d: &EmailDomain) -> Vec<CheckResult> {
    let mut out = spf_checks(dns, d).await;
    out.extend(dmarc_checks(dns, d).await);
    if let Some(k) = &d.dkim {
        let min = k.min_key_bits.map(|c| c.0 as usize).unwrap_or(1024);
        for s in &k.selectors {
            out.extend(dkim_check(dns, d.domain.as_str(), s.as_str(), min).await);
        }
    }
    out
}

/// Every id of a section could not run for the same reason (its DNS lookup failed).
fn errors(ids: &[CheckInfo], target: &str, why: &str) -> Vec<CheckResult> {
    ids.iter().map(|i| error(i, target, why)).collect()
}

fn skipped(info: &CheckInfo, target: &str, why: &str) -> CheckResult {
    result(info, target, Status::Skipped, why)
}

async fn spf_checks(dns: &DnsClient, d: &EmailDomain) -> Vec<CheckResult> {
    let target = d.domain.as_str();
    let cfg = d.spf.clone().unwrap_or_default();
    let senders: Option<Vec<String>> = cfg
        .senders
        .map(|v| v.iter().map(|s| s.to_ascii_lowercase()).collect());
    let allowed_all: Vec<String> = cfg
        .all
        .map(|v| v.iter().map(|s| s.to_ascii_lowercase()).collect())
        .unwrap_or_else(|| vec!["-all".into(), "~all".into()]);
    let mut ids = vec![
        SPF_MISSING,
        SPF_MULTIPLE,
        SPF_SYNTAX,
        SPF_LOOKUPS,
        SPF_VOID,
        SPF_ALL,
        SPF_PTR,
    ];
    if senders.is_some() {
        ids.push(SPF_UNAPPROVED);
    }
    let answer = match dns.txt(target).await {
        Ok(a) => a,
        Err(e) => return errors(&ids, target, &e.to_string()),
    };
    let records = spf::spf_records(&answer);
    let rest = |ids: &[CheckInfo], why: &str| -> Vec<CheckResult> {
        ids.iter().map(|i| skipped(i, target, why)).collect()
    };
    if records.is_empty() {
        let how = match answer {
            Answer::NxDomain => "the domain does not exist (NXDOMAIN)",
            _ => "no TXT record starts with v=spf1",
        };
        let mut out = vec![fail(&SPF_MISSING, target, format!("no SPF record: {how}"))];
        out.extend(rest(&ids[1..], "no SPF record"));
        return out;
    }
    let mut out = vec![
        pass(&SPF_MISSING, target, "SPF record published").evidence("records", records.clone())
    ];
    if records.len() > 1 {
        out.push(
            fail(
                &SPF_MULTIPLE,
                target,
                format!("{} SPF records published (permerror)", records.len()),
            )
            .evidence("records", records.clone()),
        );
        out.extend(rest(&ids[2..], "more than one SPF record"));
        return out;
    }
    out.push(pass(&SPF_MULTIPLE, target, "exactly one SPF record"));
    let text = &records[0];
    let rec = match spf::parse(text) {
        Ok(r) => r,
        Err(e) => {
            out.push(
                fail(&SPF_SYNTAX, target, format!("invalid SPF record: {e}"))
                    .evidence("record", text.clone()),
            );
            out.extend(rest(&ids[3..], "the SPF record does not parse"));
            return out;
        }
    };
    let (lint, tree) = spf::lint(dns, target, &rec, text).await;
    let ev = |r: CheckResult| {
        r.evidence("record", text.clone())
            .evidence("lookups", lint.lookups)
            .evidence("void_lookups", lint.void_lookups)
            .evidence("tree", serde_json::to_value(&tree).unwrap_or_default())
    };
    if let Some(f) = &lint.dns_failure {
        let msg = format!("could not evaluate the SPF record: {f}");
        out.extend(ids[2..].iter().map(|i| ev(error(i, target, &msg))));
        return out;
    }
    out.push(ev(if lint.permerrors.is_empty() {
        pass(
            &SPF_SYNTAX,
            target,
            "the SPF record and every include parse",
        )
    } else {
        fail(
            &SPF_SYNTAX,
            target,
            format!("SPF evaluation fails: {}", lint.permerrors.join("; ")),
        )
    }));
    out.push(ev(if lint.lookups > 10 {
        fail(
            &SPF_LOOKUPS,
            target,
            format!(
                "{} DNS-querying terms (limit 10, RFC 7208 §4.6.4)",
                lint.lookups
            ),
        )
    } else if !lint.mx_over_limit.is_empty() {
        fail(&SPF_LOOKUPS, target, lint.mx_over_limit.join("; "))
    } else {
        pass(
            &SPF_LOOKUPS,
            target,
            format!("{} of 10 DNS lookups", lint.lookups),
        )
    }));
    out.push(ev(if lint.void_lookups > 2 {
        fail(
            &SPF_VOID,
            target,
            format!(
                "{} void lookups (limit 2): {}",
                lint.void_lookups,
                lint.void_names.join(", ")
            ),
        )
        .evidence("void", lint.void_names.clone())
    } else {
        pass(
            &SPF_VOID,
            target,
            format!("{} void lookup(s)", lint.void_lookups),
        )
        .evidence("void", lint.void_names.clone())
    }));
    let all_text = lint.all.map(|q| format!("{}all", q.symbol()));
    out.push(ev(match &all_text {
        None => fail(
            &SPF_ALL,
            target,
            "the record has no `all` (and no redirect to one): receivers treat it as `?all`",
        ),
        Some(a) if a == "+all" => fail(
            &SPF_ALL,
            target,
            "`+all` authorises every host on the internet to send as this domain",
        ),
        Some(a) if !allowed_all.contains(a) => fail(
            &SPF_ALL,
            target,
            format!(
                "ends with `{a}`; the policy allows {}",
                allowed_all.join(", ")
            ),
        ),
        Some(a) => pass(&SPF_ALL, target, format!("ends with `{a}`")),
    }));
    out.push(ev(if lint.uses_ptr.is_empty() {
        pass(&SPF_PTR, target, "no `ptr` mechanism")
    } else {
        fail(
            &SPF_PTR,
            target,
            format!("uses `ptr` ({})", lint.uses_ptr.join(", ")),
        )
    }));
    if let Some(approved) = senders {
        let own: Vec<String> = rec
            .terms
            .iter()
            .filter(|t| !matches!(t.mechanism, spf::Mechanism::All | spf::Mechanism::Ptr(_)))
            .map(|t| t.text.clone())
            .chain(rec.redirect.iter().map(|r| format!("redirect={r}")))
            .collect();
        let unapproved: Vec<String> = own.into_iter().filter(|t| !approved.contains(t)).collect();
        out.push(ev(if unapproved.is_empty() {
            pass(&SPF_UNAPPROVED, target, "every sender in SPF is approved")
        } else {
            fail(
                &SPF_UNAPPROVED,
                target,
                format!("not approved in the policy: {}", unapproved.join(", ")),
            )
            .evidence("unapproved", unapproved)
        }));
    }
    out
}

async fn dkim_check(
    dns: &DnsClient,
    domain: &str,
    selector: &str,
    min_bits: usize,
) -> Vec<CheckResult> {
    let target = format!("{selector}._domainkey.{domain}");
    let answer = match dns.txt(&target).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                error(&DKIM_MISSING, &target, e.to_string()),
                error(&DKIM_WEAK, &target, e.to_string()),
            ]
        }
    };
    let values = answer.values();
    let keyish: Vec<&String> = values.iter().filter(|v| v.contains("p=")).collect();
    let record = match keyish.as_slice() {
        [] => {
            let why = match answer {
                Answer::NxDomain => "no record at this selector (NXDOMAIN)".to_string(),
                Answer::NoData => "no TXT record at this selector".to_string(),
                _ => format!("the TXT record is not a DKIM key: {}", answer.describe()),
            };
            return vec![
                fail(&DKIM_MISSING, &target, why),
                skipped(&DKIM_WEAK, &target, "no DKIM key"),
            ];
        }
        [one] => (*one).clone(),
        many => {
            return vec![
                fail(
                    &DKIM_MISSING,
                    &target,
                    format!(
                        "{} DKIM records at one selector; receivers pick one at random",
                        many.len()
                    ),
                ),
                skipped(&DKIM_WEAK, &target, "ambiguous DKIM key"),
            ]
        }
    };
    let key = match dkim::parse(&record) {
        Ok(k) => k,
        Err(e) => {
            return vec![
                fail(
                    &DKIM_MISSING,
                    &target,
                    format!("the DKIM record does not parse: {e}"),
                )
                .evidence("record", record),
                skipped(&DKIM_WEAK, &target, "unparseable DKIM key"),
            ]
        }
    };
    if key.revoked() {
        return vec![
            fail(
                &DKIM_MISSING,
                &target,
                "the key is revoked (empty p=): mail signed with this selector fails DKIM",
            )
            .evidence("record", record),
            skipped(&DKIM_WEAK, &target, "revoked key"),
        ];
    }
    let mut out = vec![pass(
        &DKIM_MISSING,
        &target,
        format!(
            "{} key published{}",
            key.key_type,
            if key.testing {
                " (t=y testing mode)"
            } else {
                ""
            }
        ),
    )
    .evidence("key_type", key.key_type.clone())];
    out.push(match dkim::key_bits(&key) {
        Ok(bits) if key.key_type == "rsa" && bits < min_bits => fail(
            &DKIM_WEAK,
            &target,
            format!("RSA key of {bits} bits, under the {min_bits}-bit minimum"),
        )
        .evidence("bits", bits),
        Ok(bits) => pass(
            &DKIM_WEAK,
            &target,
            format!("{} key of {bits} bits", key.key_type),
        )
        .evidence("bits", bits),
        Err(e) => fail(
            &DKIM_MISSING,
            &target,
            format!("the public key cannot be read: {e}"),
        ),
    });
    out
}

async fn dmarc_checks(dns: &DnsClient, d: &EmailDomain) -> Vec<CheckResult> {
    let target = d.domain.as_str();
    let cfg = d.dmarc.clone().unwrap_or_default();
    let min = cfg.min_policy.unwrap_or(DmarcLevel::None);
    let rua_need = cfg.rua.unwrap_or(Need::Required);
    let name = format!("_dmarc.{target}");
    let ids = [
        DMARC_MISSING,
        DMARC_SYNTAX,
        DMARC_POLICY,
        DMARC_RUA,
        DMARC_DEPRECATED,
    ];
    let answer = match dns.txt(&name).await {
        Ok(a) => a,
        Err(e) => return errors(&ids, target, &e.to_string()),
    };
    let records: Vec<String> = answer
        .values()
        .into_iter()
        .filter(|v| dmarc::is_dmarc(v))
        .collect();
    let rest = |from: usize, why: &str| -> Vec<CheckResult> {
        ids[from..]
            .iter()
            .map(|i| skipped(i, target, why))
            .collect()
    };
    if records.is_empty() {
        let mut out = vec![fail(
            &DMARC_MISSING,
            target,
            format!("no DMARC record at {name}"),
        )];
        out.extend(rest(1, "no DMARC record"));
        return out;
    }
    let mut out = vec![pass(
        &DMARC_MISSING,
        target,
        format!("DMARC published at {name}"),
    )];
    if records.len() > 1 {
        out.push(fail(
            &DMARC_SYNTAX,
            target,
            format!(
                "{} DMARC records at {name}; receivers ignore them all",
                records.len()
            ),
        ));
        out.extend(rest(2, "more than one DMARC record"));
        return out;
    }
    let text = records[0].clone();
    let rec = match dmarc::parse(&text) {
        Ok(r) => r,
        Err(e) => {
            out.push(
                fail(&DMARC_SYNTAX, target, format!("invalid DMARC record: {e}"))
                    .evidence("record", text),
            );
            out.extend(rest(2, "the DMARC record does not parse"));
            return out;
        }
    };
    let ev = |r: CheckResult| {
        r.evidence("record", text.clone())
            .evidence("adkim", rec.adkim.to_string())
            .evidence("aspf", rec.aspf.to_string())
    };
    out.push(ev(pass(&DMARC_SYNTAX, target, "the DMARC record is valid")));
    let p = rec.p.unwrap_or(DmarcLevel::None);
    let name_of = |l: DmarcLevel| format!("{l:?}").to_ascii_lowercase();
    let mut weak = Vec::new();
    if p < min {
        weak.push(format!("p={}", name_of(p)));
    }
    for (tag, v) in [("sp", rec.sp), ("np", rec.np)] {
        if let Some(v) = v.filter(|v| *v < min) {
            weak.push(format!("{tag}={}", name_of(v)));
        }
    }
    out.push(ev(if weak.is_empty() {
        let note = if p == DmarcLevel::None {
            " (monitoring only)"
        } else {
            ""
        };
        pass(
            &DMARC_POLICY,
            target,
            format!("p={}{note}, at least {}", name_of(p), name_of(min)),
        )
    } else {
        fail(
            &DMARC_POLICY,
            target,
            format!(
                "{} is weaker than the required {}",
                weak.join(", "),
                name_of(min)
            ),
        )
    }));
    out.push(ev(rua_check(dns, target, &rec, rua_need).await));
    out.push(ev(if rec.removed_tags.is_empty() {
        pass(&DMARC_DEPRECATED, target, "no tags removed by DMARCbis")
    } else {
        fail(
            &DMARC_DEPRECATED,
            target,
            format!(
                "uses tags removed by DMARCbis: {}",
                rec.removed_tags.join(", ")
            ),
        )
    }));
    out
}

/// The organisational domain (public suffix list), to tell external destinations apart.
pub fn org_domain(d: &str) -> String {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&d).map(str::to_string).unwrap_or(d)
}

async fn rua_check(dns: &DnsClient, domain: &str, rec: &dmarc::Dmarc, need: Need) -> CheckResult {
    if rec.rua.is_empty() {
        return if need == Need::Required {
            fail(
                &DMARC_RUA,
                domain,
                "no rua=: nobody receives aggregate reports",
            )
        } else {
            pass(&DMARC_RUA, domain, "no rua= (not required by the policy)")
        };
    }
    let own = org_domain(domain);
    let mut unauthorised = Vec::new();
    for addr in &rec.rua {
        let dest = addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if org_domain(dest) == own {
            continue;
        }
        let auth = format!("{domain}._report._dmarc.{dest}");
        match dns.txt(&auth).await {
            Ok(a) if a.values().iter().any(|v| dmarc::is_dmarc(v)) => {}
            Ok(_) => unauthorised.push(format!("{addr} (no v=DMARC1 at {auth})")),
            Err(e) => {
                return error(
                    &DMARC_RUA,
                    domain,
                    format!("cannot check the rua authorisation: {e}"),
                )
            }
        }
    }
    if unauthorised.is_empty() {
        pass(
            &DMARC_RUA,
            domain,
            format!("aggregate reports go to {}", rec.rua.join(", ")),
        )
    } else {
        fail(
            &DMARC_RUA,
            domain,
            format!(
                "external report destination not authorised: {}",
                unauthorised.join("; ")
            ),
        )
    }
    .evidence("rua", rec.rua.clone())
}
