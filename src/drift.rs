//! DNS drift: `dns snapshot` writes every record the policy reads to a YAML lock;
//! `dns diff` (and `check` with `dns.lock`) compares live answers against it.

use std::path::Path;

use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};

use crate::checks::dns::{rtype, DRIFT};
use crate::checks::email::{dmarc, spf};
use crate::checks::{error, fail, pass};
use crate::finding::CheckResult;
use crate::net::dns::{Answer, DnsClient};
use crate::policy::Policy;

/// What part of a TXT answer an entry tracks: SPF and DMARC entries ignore the
/// verification tokens that share their name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Select {
    Spf,
    Dmarc,
    Dkim,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub select: Option<Select>,
    /// `nxdomain`, `nodata` or `ok`.
    pub status: String,
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ttl: Option<u32>,
}

impl Entry {
    pub fn key(&self) -> String {
        match self.select {
            Some(s) => format!("{} {} ({})", self.name, self.rtype, s.name()),
            None => format!("{} {}", self.name, self.rtype),
        }
    }
}

impl Select {
    pub fn name(self) -> &'static str {
        match self {
            Select::Spf => "spf",
            Select::Dmarc => "dmarc",
            Select::Dkim => "dkim",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    pub created_at: String,
    pub records: Vec<Entry>,
}

/// The (name, type, select) triples the policy reads.
pub fn wanted(p: &Policy) -> Vec<(String, RecordType, Option<Select>)> {
    let mut out: Vec<(String, RecordType, Option<Select>)> = Vec::new();
    let mut push = |n: String, t: RecordType, s: Option<Select>| {
        if !out.iter().any(|(a, b, c)| *a == n && *b == t && *c == s) {
            out.push((n, t, s));
        }
    };
    if let Some(d) = &p.dns {
        for r in &d.records {
            push(r.name.to_ascii_lowercase(), rtype(r.rtype), None);
        }
    }
    for e in &p.email {
        let d = e.domain.to_ascii_lowercase();
        push(d.clone(), RecordType::TXT, Some(Select::Spf));
        push(format!("_dmarc.{d}"), RecordType::TXT, Some(Select::Dmarc));
        if let Some(k) = &e.dkim {
            for s in &k.selectors {
                push(
                    format!("{}._domainkey.{d}", s.to_ascii_lowercase()),
                    RecordType::TXT,
                    Some(Select::Dkim),
                );
            }
        }
    }
    out
}

fn selected(values: Vec<(String, u32)>, s: Option<Select>) -> Vec<(String, u32)> {
    values
        .into_iter()
        .filter(|(v, _)| match s {
            None => true,
            Some(Select::Spf) => spf::is_spf(v),
            Some(Select::Dmarc) => dmarc::is_dmarc(v),
            Some(Select::Dkim) => v.contains("p="),
        })
        .collect()
}

pub async fn observe(
    dns: &DnsClient,
    name: &str,
    t: RecordType,
    s: Option<Select>,
) -> Result<Entry, String> {
    let a = dns.query(name, t).await.map_err(|e| e.to_string())?;
    let (status, vals) = match &a {
        Answer::NxDomain => ("nxdomain", Vec::new()),
        Answer::NoData => ("nodata", Vec::new()),
        Answer::Alias(t) => ("alias", vec![(format!("alias of {t}"), 0)]),
        Answer::Records(r) => (
            "ok",
            selected(r.iter().map(|x| (x.value.clone(), x.ttl)).collect(), s),
        ),
    };
    let status = if status == "ok" && vals.is_empty() {
        "nodata"
    } else {
        status
    };
    let ttl = vals.iter().map(|(_, t)| *t).min();
    let mut values: Vec<String> = vals.into_iter().map(|(v, _)| v).collect();
    values.sort();
    Ok(Entry {
        name: name.to_string(),
        rtype: t.to_string(),
        select: s,
        status: status.to_string(),
        values,
        ttl,
    })
}

pub async fn snapshot(dns: &DnsClient, p: &Policy) -> Result<Lock, String> {
    let futs = wanted(p)
        .into_iter()
        .map(|(n, t, s)| async move { observe(dns, &n, t, s).await });
    let mut records = Vec::new();
    for r in futures_util::future::join_all(futs).await {
        records.push(r?);
    }
    let now = time::OffsetDateTime::now_utc();
    Ok(Lock {
        version: 1,
        created_at: crate::finding::rfc3339(now),
        records,
    })
}

pub fn write_lock(lock: &Lock) -> String {
    let body = serde_yaml_ng::to_string(lock).unwrap_or_default();
    format!(
        "# launchgate DNS lock: every record launch.yml reads, as answered at {}.\n# `launchgate dns diff` reports any change; re-run `launchgate dns snapshot` after an intended one.\n{body}",
        lock.created_at
    )
}

pub fn read_lock(path: &Path) -> Result<Lock, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the lock file {}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        format!("{}{at}: not a launchgate DNS lock: {e}", path.display())
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub before_status: String,
    pub after_status: String,
    pub ttl: Option<(Option<u32>, Option<u32>)>,
}

impl Change {
    pub fn sign(&self) -> char {
        match (self.added.is_empty(), self.removed.is_empty()) {
            (false, true) => '+',
            (true, false) => '-',
            _ => '~',
        }
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.removed.is_empty() {
            parts.push(format!("removed {}", self.removed.join(", ")));
        }
        if !self.added.is_empty() {
            parts.push(format!("added {}", self.added.join(", ")));
        }
        if self.before_status != self.after_status
            && (self.added.is_empty() && self.removed.is_empty())
        {
            parts.push(format!("{} → {}", self.before_status, self.after_status));
        }
        if let Some((a, b)) = self.ttl {
            parts.push(format!(
                "TTL {} → {}",
                a.map(|t| t.to_string()).unwrap_or("-".into()),
                b.map(|t| t.to_string()).unwrap_or("-".into())
            ));
        }
        parts.join("; ")
    }
}

pub fn compare(before: &Entry, after: &Entry, with_ttl: bool) -> Option<Change> {
    let added: Vec<String> = after
        .values
        .iter()
        .filter(|v| !before.values.contains(v))
        .cloned()
        .collect();
    let removed: Vec<String> = before
        .values
        .iter()
        .filter(|v| !after.values.contains(v))
        .cloned()
        .collect();
    // nxdomain ↔ nodata is not a change a user acts on; a record appearing or vanishing is
    let ttl = (with_ttl && before.ttl != after.ttl && !after.values.is_empty())
        .then_some((before.ttl, after.ttl));
    if added.is_empty() && removed.is_empty() && ttl.is_none() {
        return None;
    }
    Some(Change {
        key: before.key(),
        added,
        removed,
        before_status: before.status.clone(),
        after_status: after.status.clone(),
        ttl,
    })
}

pub struct DiffOutcome {
    pub results: Vec<CheckResult>,
    pub changes: Vec<Change>,
    pub unchanged: usize,
    pub failed: usize,
}

fn parse_rtype(s: &str) -> Option<RecordType> {
    s.parse::<RecordType>().ok()
}

/// Compares every lock entry (and any record the policy reads that the lock lacks).
pub async fn diff(dns: &DnsClient, p: &Policy, lock: &Lock, with_ttl: bool) -> DiffOutcome {
    let mut entries: Vec<Entry> = lock.records.clone();
    for (n, t, s) in wanted(p) {
        if !entries
            .iter()
            .any(|e| e.name == n && e.rtype == t.to_string() && e.select == s)
        {
            entries.push(Entry {
                name: n,
                rtype: t.to_string(),
                select: s,
                status: "not in lock".into(),
                values: Vec::new(),
                ttl: None,
            });
        }
    }
    let futs = entries.iter().map(|e| async move {
        let live = match parse_rtype(&e.rtype) {
            Some(t) => observe(dns, &e.name, t, e.select).await,
            None => Err(format!("unknown record type `{}` in the lock", e.rtype)),
        };
        (e, live)
    });
    let mut out = DiffOutcome {
        results: Vec::new(),
        changes: Vec::new(),
        unchanged: 0,
        failed: 0,
    };
    for (before, live) in futures_util::future::join_all(futs).await {
        let target = before.key();
        match live {
            Err(e) => {
                out.failed += 1;
                out.results.push(error(&DRIFT, &target, e));
            }
            Ok(after) => {
                let missing = before.status == "not in lock";
                match compare(before, &after, with_ttl) {
                    None if !missing => {
                        out.unchanged += 1;
                        out.results.push(
                            pass(&DRIFT, &target, "unchanged since the snapshot")
                                .evidence("values", after.values.clone()),
                        );
                    }
                    None => {
                        let c = Change {
                            key: target.clone(),
                            added: Vec::new(),
                            removed: Vec::new(),
                            before_status: "not in lock".into(),
                            after_status: after.status.clone(),
                            ttl: None,
                        };
                        out.results.push(fail(&DRIFT, &target, "read by the policy but missing from the lock (run `launchgate dns snapshot`)"));
                        out.changes.push(c);
                    }
                    Some(c) => {
                        let msg = if missing {
                            format!("not in the lock; live: {}", after.values.join(", "))
                        } else {
                            format!("changed since the snapshot: {}", c.describe())
                        };
                        out.results.push(
                            fail(&DRIFT, &target, msg)
                                .evidence("added", c.added.clone())
                                .evidence("removed", c.removed.clone())
                                .evidence("before", before.values.clone())
                                .evidence("after", after.values.clone()),
                        );
                        out.changes.push(c);
                    }
                }
            }
        }
    }
    out
}

/// `check` with `dns.lock`: drift results, or one error when the lock cannot be read.
pub async fn check_results(dns: &DnsClient, p: &Policy, path: &Path) -> Vec<CheckResult> {
    match read_lock(path) {
        Ok(lock) => diff(dns, p, &lock, false).await.results,
        Err(e) => vec![error(&DRIFT, &path.display().to_string(), e)],
    }
}

/// The changes-only diff a person reads.
pub fn render_diff(o: &DiffOutcome, lock_path: &Path) -> String {
    let mut s = String::new();
    for c in &o.changes {
        if c.before_status == "not in lock" {
            s.push_str(&format!("+ {} (not in the lock)\n", c.key));
            continue;
        }
        match c.sign() {
            '+' => s.push_str(&format!("+ {} {}\n", c.key, c.added.join(", "))),
            '-' => s.push_str(&format!("- {} {}\n", c.key, c.removed.join(", "))),
            _ => {
                let before = c.removed.join(", ");
                let after = c.added.join(", ");
                if c.ttl.is_some() && before.is_empty() && after.is_empty() {
                    s.push_str(&format!("~ {} {}\n", c.key, c.describe()));
                } else {
                    s.push_str(&format!(
                        "~ {} {} → {}\n",
                        c.key,
                        if before.is_empty() { "(none)" } else { &before },
                        if after.is_empty() { "(none)" } else { &after }
                    ));
                }
            }
        }
    }
    for r in o
        .results
        .iter()
        .filter(|r| r.status == crate::finding::Status::Error)
    {
        s.push_str(&format!(
            "! {} could not be checked: {}\n",
            r.target, r.message
        ));
    }
    s.push_str(&format!(
        "{} changed, {} unchanged, {} not checked (against {})\n",
        o.changes.len(),
        o.unchanged,
        o.failed,
        lock_path.display()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(vals: &[&str], ttl: u32) -> Entry {
        Entry {
            name: "a.test".into(),
            rtype: "A".into(),
            select: None,
            status: if vals.is_empty() {
                "nxdomain".into()
            } else {
                "ok".into()
            },
            values: vals.iter().map(|s| s.to_string()).collect(),
            ttl: Some(ttl),
        }
    }

    #[test]
    fn compares_values_not_ttls_by_default() {
        assert!(compare(&e(&["1.1.1.1"], 300), &e(&["1.1.1.1"], 60), false).is_none());
        assert!(compare(&e(&["1.1.1.1"], 300), &e(&["1.1.1.1"], 60), true).is_some());
        let c = compare(&e(&["1.1.1.1"], 300), &e(&["2.2.2.2"], 300), false).unwrap();
        assert_eq!(c.sign(), '~');
        assert_eq!(
            compare(&e(&[], 0), &e(&["2.2.2.2"], 300), false)
                .unwrap()
                .sign(),
            '+'
        );
        assert_eq!(
            compare(&e(&["2.2.2.2"], 300), &e(&[], 0), false)
                .unwrap()
                .sign(),
            '-'
        );
    }
}
