//! `dns`: records pointing where they should, names that must not exist, and drift
//! against the lock file.

use hickory_proto::rr::RecordType;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::dns::{normalise_expected, Answer, DnsClient};
use crate::policy::{DnsRecord, RecordType as PolicyType};

pub const RECORD: CheckInfo = CheckInfo {
    id: "dns.record",
    severity: Severity::Blocker,
    title: "DNS records point where they should",
    why: "If apex, www, app or mail records point anywhere else, buyers land on someone else's server or your mail stops arriving — often after a registrar or DNS-host change nobody reviewed.",
    fix: "Correct the record at your DNS host (or update the expectation in launch.yml if the change was intended).",
};

pub const ABSENT: CheckInfo = CheckInfo {
    id: "dns.absent",
    severity: Severity::Blocker,
    title: "Names that must not exist do not resolve",
    why: "A staging or old host that still resolves exposes unfinished work and invites subdomain takeover when it points at a deleted cloud resource.",
    fix: "Delete the record at your DNS host, or protect the host and remove the `absent` expectation.",
};

pub const DRIFT: CheckInfo = CheckInfo {
    id: "dns.drift",
    severity: Severity::Blocker,
    title: "DNS matches the reviewed lock file",
    why: "A record that changed since it was reviewed (a hijacked CNAME, an MX swapped, SPF edited) silently reroutes traffic or mail.",
    fix: "If the change was intended, run `launchgate dns snapshot` and commit the new lock; otherwise restore the record.",
};

pub const INFO: &[CheckInfo] = &[RECORD, ABSENT, DRIFT];

pub fn rtype(t: PolicyType) -> RecordType {
    match t {
        PolicyType::A => RecordType::A,
        PolicyType::Aaaa => RecordType::AAAA,
        PolicyType::Cname => RecordType::CNAME,
        PolicyType::Mx => RecordType::MX,
        PolicyType::Txt => RecordType::TXT,
        PolicyType::Caa => RecordType::CAA,
        PolicyType::Ns => RecordType::NS,
        PolicyType::Srv => RecordType::SRV,
    }
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let Some(dp) = ctx.loaded.policy.dns.clone() else {
        return Vec::new();
    };
    let dns = match ctx.dns() {
        Ok(d) => d,
        Err(e) => {
            return dp
                .records
                .iter()
                .map(|r| error(info_for(r), &target(r), format!("no DNS resolver: {e}")))
                .collect()
        }
    };
    let futs = dp.records.iter().map(|r| check(dns, r));
    let mut out: Vec<CheckResult> = futures_util::future::join_all(futs).await;
    if let Some(lock) = &dp.lock {
        let path = ctx.loaded.resolve_path(lock);
        out.extend(crate::drift::check_results(dns, &ctx.loaded.policy, &path).await);
    }
    out
}

fn info_for(r: &DnsRecord) -> &'static CheckInfo {
    if r.absent.is_some_and(|a| a.0) {
        &ABSENT
    } else {
        &RECORD
    }
}

pub fn target(r: &DnsRecord) -> String {
    let t = serde_json::to_value(r.rtype)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!("{} {t}", r.name)
}

async fn check(dns: &DnsClient, r: &DnsRecord) -> CheckResult {
    let t = rtype(r.rtype);
    let target = target(r);
    let started = std::time::Instant::now();
    let answer = match dns.query(r.name.as_str(), t).await {
        Ok(a) => a,
        Err(e) => return error(info_for(r), &target, e.to_string()),
    };
    let got = answer.values();
    let res = if r.absent.is_some_and(|a| a.0) {
        match &answer {
            Answer::NxDomain | Answer::NoData => pass(
                &ABSENT,
                &target,
                format!("{} as required", answer.describe()),
            ),
            Answer::Records(_) | Answer::Alias(_) => fail(
                &ABSENT,
                &target,
                format!("must not exist but answers {}", answer.describe()),
            ),
        }
    } else if let Some(exp) = &r.expect {
        let mut want: Vec<String> = exp.iter().map(|v| normalise_expected(t, v)).collect();
        want.sort();
        want.dedup();
        if want == got {
            pass(
                &RECORD,
                &target,
                format!("answers exactly {}", want.join(", ")),
            )
        } else {
            let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
            let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
            let mut m = format!("expected {}, got {}", show(&want), answer.describe());
            if !missing.is_empty() || !extra.is_empty() {
                m.push_str(&format!(
                    " (missing: {}; unexpected: {})",
                    show_refs(&missing),
                    show_refs(&extra)
                ));
            }
            fail(&RECORD, &target, m)
        }
        .evidence("expected", want.clone())
    } else if let Some(c) = &r.contains {
        let want: Vec<String> = c.iter().map(|v| normalise_expected(t, v)).collect();
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
        if missing.is_empty() {
            pass(&RECORD, &target, format!("includes {}", want.join(", ")))
        } else {
            fail(
                &RECORD,
                &target,
                format!("missing {}; got {}", show_refs(&missing), answer.describe()),
            )
        }
        .evidence("expected_subset", want.clone())
    } else if got.is_empty() {
        fail(
            &RECORD,
            &target,
            format!("expected a record, got {}", answer.describe()),
        )
    } else {
        pass(&RECORD, &target, format!("answers {}", got.join(", ")))
    };
    res.evidence("actual", got).duration(started.elapsed())
}

fn show(v: &[String]) -> String {
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

fn show_refs(v: &[&String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}
