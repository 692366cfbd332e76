//! SPF (RFC 7208): a parser that validates every term, and a linter that walks
//! include/redirect recursively counting DNS-querying terms and void lookups.
//! No crate lints SPF, so this is ours.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::RecordType;
use serde::Serialize;

use crate::net::dns::{Answer, DnsClient, DnsFailure};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> &'static str {
        match self {
            Qualifier::Pass => "+",
            Qualifier::Fail => "-",
            Qualifier::SoftFail => "~",
            Qualifier::Neutral => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(String),
    A(Option<String>),
    Mx(Option<String>),
    Ptr(Option<String>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
    /// As written, without the qualifier, lower-cased (for sender approval).
    pub text: String,
}

impl Term {
    pub fn queries_dns(&self) -> bool {
        matches!(
            self.mechanism,
            Mechanism::Include(_)
                | Mechanism::A(_)
                | Mechanism::Mx(_)
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfRecord {
    pub terms: Vec<Term>,
    pub redirect: Option<String>,
    pub exp: Option<String>,
}

impl SpfRecord {
    pub fn all(&self) -> Option<Qualifier> {
        self.terms
            .iter()
            .find(|t| t.mechanism == Mechanism::All)
            .map(|t| t.qualifier)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `v=spf1` exactly, or followed by a space (RFC 7208 §4.5).
pub fn is_spf(txt: &str) -> bool {
    let t = txt.trim_start().as_bytes();
    t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") && (t.len() == 6 || t[6] == b' ')
}

pub fn parse(record: &str) -> Result<SpfRecord, SyntaxError> {
    if !is_spf(record) {
        return Err(SyntaxError(
            "the record does not start with `v=spf1`".into(),
        ));
    }
    let mut out = SpfRecord::default();
    for tok in record.trim_start()[6..]
        .split(' ')
        .filter(|t| !t.is_empty())
    {
        if tok.contains(|c: char| c.is_control() || !c.is_ascii()) {
            return Err(SyntaxError(format!(
                "`{tok}` contains a non-printable or non-ASCII character"
            )));
        }
        let eq = tok.find('=');
        let colon_or_slash = tok.find([':', '/']);
        if let Some(i) = eq.filter(|i| colon_or_slash.is_none_or(|c| *i < c)) {
            let (name, value) = (&tok[..i], &tok[i + 1..]);
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(SyntaxError(format!("`{tok}` is not a valid modifier")));
            }
            match name.to_ascii_lowercase().as_str() {
                "redirect" => {
                    if out.redirect.is_some() {
                        return Err(SyntaxError("`redirect=` appears more than once".into()));
                    }
                    check_domain_spec(value, false)
                        .map_err(|e| SyntaxError(format!("`{tok}`: {e}")))?;
                    out.redirect = Some(value.to_ascii_lowercase());
                }
                "exp" => {
                    if out.exp.is_some() {
                        return Err(SyntaxError("`exp=` appears more than once".into()));
                    }
                    check_domain_spec(value, false)
                        .map_err(|e| SyntaxError(format!("`{tok}`: {e}")))?;
                    out.exp = Some(value.to_string());
                }
                _ => check_macro_string(value, false)
                    .map_err(|e| SyntaxError(format!("`{tok}`: {e}")))?,
            }
            continue;
        }
        let (qualifier, body) = match tok.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &tok[1..]),
            b'-' => (Qualifier::Fail, &tok[1..]),
            b'~' => (Qualifier::SoftFail, &tok[1..]),
            b'?' => (Qualifier::Neutral, &tok[1..]),
            _ => (Qualifier::Pass, tok),
        };
        let name_end = body.find([':', '/']).unwrap_or(body.len());
        let name = body[..name_end].to_ascii_lowercase();
        let rest = &body[name_end..];
        let arg = rest.strip_prefix(':');
        let bad = |m: &str| SyntaxError(format!("`{tok}`: {m}"));
        let mechanism = match name.as_str() {
            "all" => {
                if !rest.is_empty() {
                    return Err(bad("`all` takes no argument"));
                }
                Mechanism::All
            }
            "include" | "exists" => {
                let d = arg
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| bad(&format!("`{name}` needs a domain")))?;
                check_domain_spec(d, false).map_err(|e| bad(&e))?;
                if name == "include" {
                    Mechanism::Include(d.to_ascii_lowercase())
                } else {
                    Mechanism::Exists(d.to_ascii_lowercase())
                }
            }
            "a" | "mx" => {
                let (domain, cidr) = split_dual_cidr(rest).map_err(|e| bad(&e))?;
                if let Some(d) = &domain {
                    check_domain_spec(d, false).map_err(|e| bad(&e))?;
                }
                check_dual_cidr(cidr).map_err(|e| bad(&e))?;
                let d = domain.map(|d| d.to_ascii_lowercase());
                if name == "a" {
                    Mechanism::A(d)
                } else {
                    Mechanism::Mx(d)
                }
            }
            "ptr" => {
                if rest.contains('/') {
                    return Err(bad("`ptr` takes no CIDR length"));
                }
                if let Some(d) = arg {
                    check_domain_spec(d, false).map_err(|e| bad(&e))?;
                }
                Mechanism::Ptr(arg.map(|d| d.to_ascii_lowercase()))
            }
            "ip4" => {
                let (ip, len) = ip_arg::<Ipv4Addr>(arg, "ip4", "IPv4", 32).map_err(|e| bad(&e))?;
                Mechanism::Ip4(ip, len)
            }
            "ip6" => {
                let (ip, len) = ip_arg::<Ipv6Addr>(arg, "ip6", "IPv6", 128).map_err(|e| bad(&e))?;
                Mechanism::Ip6(ip, len)
            }
            "" => return Err(bad("empty mechanism")),
            other => return Err(bad(&format!("unknown mechanism `{other}`"))),
        };
        out.terms.push(Term {
            qualifier,
            mechanism,
            text: body.to_ascii_lowercase(),
        });
    }
    Ok(out)
}

/// `ADDR[/LEN]` of an `ip4:`/`ip6:` mechanism.
fn ip_arg<T: std::str::FromStr>(
    arg: Option<&str>,
    name: &str,
    family: &str,
    max: u8,
) -> Result<(T, u8), String> {
    let a = arg.ok_or_else(|| format!("`{name}` needs an address"))?;
    let (ip, len) = a
        .rsplit_once('/')
        .map(|(i, l)| (i, Some(l)))
        .unwrap_or((a, None));
    let ip: T = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an {family} address"))?;
    Ok((ip, parse_cidr(len, max)?))
}

fn parse_cidr(len: Option<&str>, max: u8) -> Result<u8, String> {
    match len {
        None => Ok(max),
        Some(l) => match l.parse::<u8>() {
            Ok(v) if v <= max && !l.starts_with('0') || l == "0" => Ok(v),
            _ => Err(format!("`/{l}` is not a CIDR length from 0 to {max}")),
        },
    }
}

/// `[:domain][/cidr4][//cidr6]`
fn split_dual_cidr(rest: &str) -> Result<(Option<String>, &str), String> {
    if let Some(arg) = rest.strip_prefix(':') {
        let (d, c) = match arg.find('/') {
            Some(i) => (&arg[..i], &arg[i..]),
            None => (arg, ""),
        };
        if d.is_empty() {
            return Err("empty domain after `:`".into());
        }
        Ok((Some(d.to_string()), c))
    } else {
        Ok((None, rest))
    }
}

fn check_dual_cidr(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Ok(());
    }
    if let Some(v6) = c.strip_prefix("//") {
        return parse_cidr(Some(v6), 128).map(|_| ());
    }
    let c = c.strip_prefix('/').ok_or("invalid CIDR length")?;
    match c.split_once("//") {
        Some((v4, v6)) => {
            parse_cidr(Some(v4), 32)?;
            parse_cidr(Some(v6), 128).map(|_| ())
        }
        None => parse_cidr(Some(c), 32).map(|_| ()),
    }
}

/// RFC 7208 §7.1 macro-string; `exp` allows c, r, t.
pub fn check_macro_string(s: &str, exp: bool) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'%') | Some(b'_') | Some(b'-') => i += 2,
            Some(b'{') => {
                let end = s[i..].find('}').ok_or("unterminated macro `%{`")? + i;
                let inner = &s[i + 2..end];
                let mut chars = inner.chars();
                let letter = chars
                    .next()
                    .ok_or("empty macro `%{}`")?
                    .to_ascii_lowercase();
                let allowed = if exp { "slodiphcrtv" } else { "slodiphv" };
                if !allowed.contains(letter) {
                    return Err(format!("invalid macro letter `{letter}` in `%{{{inner}}}`"));
                }
                let rest: String = chars.collect();
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                let mut tail = &rest[digits.len()..];
                if let Some(t) = tail.strip_prefix(['r', 'R']) {
                    tail = t;
                }
                if !tail.chars().all(|c| ".-+,/_=".contains(c)) {
                    return Err(format!("invalid macro transformer in `%{{{inner}}}`"));
                }
                i = end + 1;
            }
            _ => return Err("a `%` must start a macro (`%{..}`, `%%`, `%_` or `%-`)".into()),
        }
    }
    Ok(())
}

fn check_domain_spec(d: &str, exp: bool) -> Result<(), String> {
    check_macro_string(d, exp)?;
    if d.contains('%') {
        return Ok(()); // expands at evaluation time
    }
    let d = d.trim_end_matches('.');
    if d.len() > 253 {
        return Err(format!("domain `{d}` is longer than 253 characters"));
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("`{d}` is not a fully qualified domain name"));
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err(format!("domain `{d}` has an empty or over-long label"));
        }
        if !l
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("domain `{d}` has an invalid character"));
        }
    }
    let top = labels[labels.len() - 1];
    if top.chars().all(|c| c.is_ascii_digit()) || top.starts_with('-') || top.ends_with('-') {
        return Err(format!("`{top}` is not a valid top-level label in `{d}`"));
    }
    Ok(())
}

/// One record in the include/redirect tree, for evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// DNS-querying terms in this record.
    pub lookups: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
pub struct Lint {
    pub lookups: u32,
    pub void_lookups: u32,
    pub void_names: Vec<String>,
    /// Permanent errors found below the top record (loops, includes without SPF, ...).
    pub permerrors: Vec<String>,
    pub mx_over_limit: Vec<String>,
    pub uses_ptr: Vec<String>,
    /// The terminal `all` of the top record, following redirect.
    pub all: Option<Qualifier>,
    pub dns_failure: Option<DnsFailure>,
}

/// The SPF records among a name's TXT answers.
pub fn spf_records(a: &Answer) -> Vec<String> {
    a.values().into_iter().filter(|v| is_spf(v)).collect()
}

/// Bounds the walk so a hostile chain of includes cannot make us query forever.
const MAX_FETCHES: usize = 40;

pub async fn lint(dns: &DnsClient, domain: &str, top: &SpfRecord, top_text: &str) -> (Lint, Node) {
    let mut w = Walker {
        dns,
        st: Lint::default(),
        visited: vec![crate::net::dns::fqdn(domain)],
        fetches: 0,
    };
    let (node, all) = w.walk(domain, top, top_text).await;
    w.st.all = all;
    (w.st, node)
}

type Walked<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = (Node, Option<Qualifier>)> + Send + 'a>>;

/// The state of one include/redirect walk: what was found, which records are being
/// evaluated (loop detection), and how many lookups were spent.
struct Walker<'d> {
    dns: &'d DnsClient,
    st: Lint,
    visited: Vec<String>,
    fetches: usize,
}

impl Node {
    fn new(domain: &str, record: Option<&str>) -> Node {
        Node {
            domain: domain.to_string(),
            record: record.map(str::to_string),
            lookups: 0,
            children: Vec::new(),
            problem: None,
        }
    }
}

impl<'d> Walker<'d> {
    fn void(&mut self, what: String) {
        self.st.void_lookups += 1;
        self.st.void_names.push(what);
    }

    fn permerror(&mut self, node: &mut Node, p: String) {
        self.st.permerrors.push(p.clone());
        node.problem = Some(p);
    }

    /// One DNS query, counted against the walk's budget; a failure is remembered.
    async fn query(&mut self, name: &str, t: RecordType) -> Option<Answer> {
        if self.fetches >= MAX_FETCHES {
            return None;
        }
        self.fetches += 1;
        match self.dns.query(name, t).await {
            Ok(a) => Some(a),
            Err(e) => {
                self.st.dns_failure.get_or_insert(e);
                None
            }
        }
    }

    fn walk<'a>(&'a mut self, domain: &'a str, rec: &'a SpfRecord, text: &'a str) -> Walked<'a> {
        Box::pin(async move {
            let mut node = Node::new(domain, Some(text));
            for t in &rec.terms {
                if t.queries_dns() {
                    self.st.lookups += 1;
                    node.lookups += 1;
                }
                let target_of =
                    |d: &Option<String>| d.clone().unwrap_or_else(|| domain.to_string());
                match &t.mechanism {
                    Mechanism::Include(d) => {
                        let (child, _) = self.follow(d, "include").await;
                        node.children.push(child);
                    }
                    Mechanism::A(d) => {
                        let name = target_of(d);
                        if !name.contains('%') {
                            let a = self.query(&name, RecordType::A).await;
                            let aaaa = self.query(&name, RecordType::AAAA).await;
                            if a.is_some_and(|x| x.is_void()) && aaaa.is_some_and(|x| x.is_void()) {
                                self.void(format!("a:{name}"));
                            }
                        }
                    }
                    Mechanism::Mx(d) => {
                        let name = target_of(d);
                        if !name.contains('%') {
                            if let Some(ans) = self.query(&name, RecordType::MX).await {
                                let hosts = ans.values().len();
                                if ans.is_void() {
                                    self.void(format!("mx:{name}"));
                                } else if hosts > 10 {
                                    self.st
                                        .mx_over_limit
                                        .push(format!("mx:{name} has {hosts} MX hosts (limit 10)"));
                                }
                            }
                        }
                    }
                    Mechanism::Ptr(_) => self.st.uses_ptr.push(format!("{domain}: {}", t.text)),
                    Mechanism::Exists(d) => {
                        if !d.contains('%')
                            && self
                                .query(d, RecordType::A)
                                .await
                                .is_some_and(|a| a.is_void())
                        {
                            self.void(format!("exists:{d}"));
                        }
                    }
                    Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..) => {}
                }
            }
            // The terminal `all` decides; without one, a redirect hands over to its target.
            let mut all = rec.all();
            if let Some(r) = &rec.redirect {
                self.st.lookups += 1;
                node.lookups += 1;
                if all.is_none() {
                    let (child, target_all) = self.follow(r, "redirect").await;
                    node.children.push(child);
                    all = target_all;
                }
            }
            (node, all)
        })
    }

    fn follow<'a>(&'a mut self, target: &'a str, how: &'a str) -> Walked<'a> {
        Box::pin(async move {
            let mut node = Node::new(target, None);
            if target.contains('%') {
                node.problem = Some("uses macros; not expanded while linting".into());
                return (node, None);
            }
            let key = crate::net::dns::fqdn(target);
            if self.visited.contains(&key) {
                self.permerror(
                    &mut node,
                    format!("{how}:{target} loops back to a record already being evaluated"),
                );
                return (node, None);
            }
            let Some(ans) = self.query(target, RecordType::TXT).await else {
                return (node, None);
            };
            if matches!(ans, Answer::NxDomain | Answer::NoData) {
                self.void(format!("{how}:{target}"));
            }
            let recs = spf_records(&ans);
            match recs.len() {
                0 => self.permerror(
                    &mut node,
                    format!("{how}:{target} has no SPF record (permerror)"),
                ),
                1 => match parse(&recs[0]) {
                    Ok(r) => {
                        self.visited.push(key.clone());
                        let out = self.walk(target, &r, &recs[0]).await;
                        self.visited.retain(|v| *v != key);
                        return out;
                    }
                    Err(e) => {
                        node.record = Some(recs[0].clone());
                        self.permerror(&mut node, format!("{how}:{target}: {e}"));
                    }
                },
                n => self.permerror(
                    &mut node,
                    format!("{how}:{target} publishes {n} SPF records (permerror)"),
                ),
            }
            (node, None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_typical_record() {
        let r = parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24 include:_spf.google.com ~all").unwrap();
        assert_eq!(r.terms.len(), 6);
        assert_eq!(r.all(), Some(Qualifier::SoftFail));
        assert_eq!(r.terms.iter().filter(|t| t.queries_dns()).count(), 3);
        assert_eq!(r.terms[4].text, "include:_spf.google.com");
    }

    #[test]
    fn modifiers_and_macros() {
        let r = parse("v=spf1 redirect=_spf.example.com").unwrap();
        assert_eq!(r.redirect.as_deref(), Some("_spf.example.com"));
        assert!(parse("v=spf1 exists:%{i}._spf.%{d} -all").is_ok());
        assert!(parse("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all").is_ok());
        assert!(parse("v=spf1 exists:%{x}.example.com -all").is_err());
        assert!(parse("v=spf1 include:%{d").is_err());
        assert!(parse("v=spf1 include:50%.example.com").is_err());
        assert!(parse("v=spf1 redirect=a.example.com redirect=b.example.com").is_err());
    }

    #[test]
    fn rejects_malformed_terms() {
        for bad in [
            "v=spf1 ip4:300.1.1.1 -all",
            "v=spf1 ip4:10.0.0.0/33 -all",
            "v=spf1 ip6:zz::1 -all",
            "v=spf1 include: -all",
            "v=spf1 include:localhost -all",
            "v=spf1 foo:bar -all",
            "v=spf1 all:x",
            "v=spf1 a/99",
            "v=spf1 +",
            "spf1 -all",
            "v=spf10 -all",
        ] {
            assert!(parse(bad).is_err(), "{bad} should not parse");
        }
        assert!(parse("v=spf1").is_ok());
        assert!(parse("V=SPF1 -ALL").is_ok());
        assert!(parse("v=spf1 a:mail.example.com/24//64 -all").is_ok());
        assert!(parse("v=spf1 unknown-mod=foo -all").is_ok());
    }

    #[test]
    fn detects_spf_prefix() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("v=spf1"));
        assert!(!is_spf("v=spf1x"));
        assert!(!is_spf("google-site-verification=abc"));
    }
}
