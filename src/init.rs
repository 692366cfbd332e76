//! `launchgate init --domain D`: probes the domain and writes a commented starter
//! launch.yml with what it found as expectations and TODOs for what it could not decide.

use std::fmt::Write;

use hickory_proto::rr::RecordType;

use crate::app::{self, EXIT_INTERNAL, EXIT_PASS, EXIT_USAGE};
use crate::checks::email::{dmarc, spf};
use crate::cli::InitArgs;
use crate::net::dns::{Answer, DnsClient};
use crate::net::http::HttpClient;
use crate::net::{NetConfig, Overrides};

pub const DKIM_SELECTORS: &[&str] = &[
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "s1",
    "s2",
    "mandrill",
    "sendgrid",
    "default",
    "dkim",
    "mail",
    "smtp",
    "mailjet",
    "pm",
    "zoho",
];

/// Where an HTTPS probe ended (final URL and status), or why it could not.
pub type Probe = Result<(String, u16), String>;

#[derive(Debug, Default)]
pub struct Findings {
    pub domain: String,
    /// (name, type, values) for the hosts that answered.
    pub records: Vec<(String, &'static str, Vec<String>)>,
    pub missing_hosts: Vec<String>,
    pub mx: Vec<String>,
    pub spf: Option<String>,
    pub dmarc: Option<String>,
    pub dkim: Vec<String>,
    /// (start URL, final URL, status) of the HTTPS probes.
    pub https: Vec<(String, Probe)>,
    pub dns_errors: Vec<String>,
}

pub async fn probe(dns: &DnsClient, http: &HttpClient, domain: &str) -> Findings {
    let mut f = Findings {
        domain: domain.to_string(),
        ..Default::default()
    };
    for host in [
        domain.to_string(),
        format!("www.{domain}"),
        format!("app.{domain}"),
        format!("api.{domain}"),
    ] {
        let mut found = false;
        for (t, label) in [
            (RecordType::CNAME, "CNAME"),
            (RecordType::A, "A"),
            (RecordType::AAAA, "AAAA"),
        ] {
            match dns.query(&host, t).await {
                Ok(Answer::Records(r)) if !r.is_empty() => {
                    found = true;
                    f.records.push((
                        host.clone(),
                        label,
                        r.iter().map(|x| x.value.clone()).collect(),
                    ));
                    if t == RecordType::CNAME {
                        break; // A/AAAA follow the CNAME; expect the CNAME itself
                    }
                }
                Ok(_) => {}
                Err(e) => f.dns_errors.push(e.to_string()),
            }
        }
        if !found {
            f.missing_hosts.push(host);
        }
    }
    match dns.query(domain, RecordType::MX).await {
        Ok(a) => f.mx = a.values(),
        Err(e) => f.dns_errors.push(e.to_string()),
    }
    match dns.txt(domain).await {
        Ok(a) => f.spf = spf::spf_records(&a).into_iter().next(),
        Err(e) => f.dns_errors.push(e.to_string()),
    }
    match dns.txt(&format!("_dmarc.{domain}")).await {
        Ok(a) => f.dmarc = a.values().into_iter().find(|v| dmarc::is_dmarc(v)),
        Err(e) => f.dns_errors.push(e.to_string()),
    }
    let futs = DKIM_SELECTORS.iter().map(|s| async move {
        let ok = dns
            .txt(&format!("{s}._domainkey.{domain}"))
            .await
            .map(|a| a.values().iter().any(|v| v.contains("p=")))
            .unwrap_or(false);
        (s.to_string(), ok)
    });
    f.dkim = futures_util::future::join_all(futs)
        .await
        .into_iter()
        .filter(|(_, ok)| *ok)
        .map(|(s, _)| s)
        .collect();
    for host in [domain.to_string(), format!("www.{domain}")] {
        let start = format!("https://{host}/");
        let r = match url::Url::parse(&start) {
            Ok(u) => http
                .follow(&u, 5)
                .await
                .map(|c| (c.last.url.to_string(), c.last.status))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        f.https.push((start, r));
    }
    f
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

pub fn render(f: &Findings, a: &InitArgs) -> String {
    let d = &f.domain;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# launch.yml for {d}, written by `launchgate init` from what the domain answers today."
    );
    let _ = writeln!(s, "# Review every expectation: they describe the current state, not necessarily the right one.");
    let _ = writeln!(
        s,
        "# Check with `launchgate check`; `launchgate explain ID` says why each check matters."
    );
    let _ = writeln!(s, "version: 1\nname: {}\nextends: [recommended]\n", q(d));
    let mut defaults = String::new();
    if !a.resolve.is_empty() {
        let _ = writeln!(defaults, "  resolve:");
        for r in &a.resolve {
            let parts: Vec<&str> = r.splitn(3, ':').collect();
            if parts.len() == 3 {
                let _ = writeln!(
                    defaults,
                    "    {}: {}",
                    q(&format!("{}:{}", parts[0], parts[1])),
                    q(parts[2])
                );
            }
        }
    }
    if let Some(ca) = &a.ca_file {
        let _ = writeln!(defaults, "  ca_file: {}", q(&ca.display().to_string()));
    }
    if !defaults.is_empty() {
        let _ = writeln!(s, "defaults:\n{defaults}");
    }
    let landing = f.https.iter().find_map(|(_, r)| {
        r.as_ref()
            .ok()
            .filter(|(_, st)| *st < 400)
            .map(|(u, _)| u.clone())
    });
    match &landing {
        Some(u) => {
            let _ = writeln!(s, "pages:\n  - url: {}\n    expect: {{ status: 200 }}\n    # TODO: add body_contains with your call to action, and a cache class\n", q(u));
        }
        None => {
            let _ = writeln!(
                s,
                "# TODO: no https page answered on {d} or www.{d}; list your landing pages here"
            );
            for (start, r) in &f.https {
                if let Err(e) = r {
                    let _ = writeln!(s, "#   {start}: {e}");
                }
            }
            let _ = writeln!(s, "pages: []\n");
        }
    }
    let redirects: Vec<(&String, &String)> = f
        .https
        .iter()
        .filter_map(|(start, r)| match r {
            Ok((fin, st)) if *st < 400 && fin != start => Some((start, fin)),
            _ => None,
        })
        .collect();
    if !redirects.is_empty() {
        let _ = writeln!(s, "redirects:");
        for (from, to) in redirects {
            let _ = writeln!(s, "  - {{ from: {}, to: {} }}", q(from), q(to));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "dns:");
    if !a.resolver.is_empty() {
        let list: Vec<String> = a.resolver.iter().map(|r| q(r)).collect();
        let _ = writeln!(s, "  resolvers: [{}]", list.join(", "));
    }
    let _ = writeln!(
        s,
        "  # lock: ./launch.lock.yml   # then `launchgate dns snapshot` for nightly drift checks"
    );
    let _ = writeln!(s, "  records:");
    for (name, t, vals) in &f.records {
        let list: Vec<String> = vals.iter().map(|v| q(v)).collect();
        let _ = writeln!(
            s,
            "    - {{ name: {}, type: {t}, expect: [{}] }}",
            q(name),
            list.join(", ")
        );
    }
    if !f.mx.is_empty() {
        let list: Vec<String> = f.mx.iter().map(|v| q(v)).collect();
        let _ = writeln!(
            s,
            "    - {{ name: {}, type: MX, expect: [{}] }}",
            q(d),
            list.join(", ")
        );
    }
    for h in &f.missing_hosts {
        let _ = writeln!(s, "    # {h} does not resolve. TODO: expect it, or keep it absent:\n    # - {{ name: {}, type: A, absent: true }}", q(h));
    }
    if f.records.is_empty() && f.mx.is_empty() {
        let _ = writeln!(
            s,
            "    [] # TODO: nothing answered; check the domain and resolver"
        );
    }
    s.push('\n');
    let _ = writeln!(s, "email:\n  - domain: {}", q(d));
    match f.spf.as_deref().map(spf::parse) {
        Some(Ok(r)) => {
            let senders: Vec<String> = r
                .terms
                .iter()
                .filter(|t| !matches!(t.mechanism, spf::Mechanism::All | spf::Mechanism::Ptr(_)))
                .map(|t| q(&t.text))
                .collect();
            let _ = writeln!(
                s,
                "    spf:\n      senders: [{}]   # every source allowed to send as {d}",
                senders.join(", ")
            );
            let _ = writeln!(s, "      all: [\"-all\", \"~all\"]");
        }
        Some(Err(e)) => {
            let _ = writeln!(
                s,
                "    # TODO: the SPF record does not parse ({e}); fix it, then list its senders"
            );
        }
        None => {
            let _ = writeln!(
                s,
                "    # TODO: no SPF record found: publish `v=spf1 include:<provider> -all`"
            );
        }
    }
    if f.dkim.is_empty() {
        let _ = writeln!(s, "    # TODO: no DKIM key found at common selectors; add yours: dkim: {{ selectors: [NAME] }}");
    } else {
        let list: Vec<String> = f.dkim.iter().map(|v| q(v)).collect();
        let _ = writeln!(
            s,
            "    dkim: {{ selectors: [{}], min_key_bits: 1024 }}",
            list.join(", ")
        );
    }
    match f.dmarc.as_deref().map(dmarc::parse) {
        Some(Ok(r)) => {
            let p = format!("{:?}", r.p.unwrap_or(crate::policy::DmarcLevel::None))
                .to_ascii_lowercase();
            let _ = writeln!(s, "    dmarc: {{ min_policy: {p}, rua: required }}   # TODO: raise min_policy as you move to enforcement");
        }
        Some(Err(e)) => {
            let _ = writeln!(s, "    dmarc: {{ min_policy: none, rua: required }}   # TODO: the DMARC record does not parse ({e})");
        }
        None => {
            let _ = writeln!(s, "    dmarc: {{ min_policy: none, rua: required }}   # TODO: no DMARC record found: publish one at _dmarc.{d}");
        }
    }
    if !f.dns_errors.is_empty() {
        let _ = writeln!(
            s,
            "\n# Some lookups failed while probing; the expectations above may be incomplete:"
        );
        for e in &f.dns_errors {
            let _ = writeln!(s, "#   {e}");
        }
    }
    s
}

pub fn run(a: InitArgs) -> i32 {
    let Some(domain) = a
        .domain
        .clone()
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
    else {
        return app::usage("init needs --domain DOMAIN (e.g. --domain acme.com)");
    };
    if domain.is_empty() || !domain.contains('.') {
        return app::usage(&format!("--domain `{domain}` is not a domain name"));
    }
    if a.out.exists() && !a.force {
        return app::usage(&format!(
            "{} already exists; pass --force to overwrite it",
            a.out.display()
        ));
    }
    let timeout = match crate::policy::types::parse_duration(&a.timeout) {
        Ok(t) => t,
        Err(e) => return app::usage(&format!("--timeout: {e}")),
    };
    let mut servers = Vec::new();
    for r in &a.resolver {
        match crate::net::dns::parse_server(r) {
            Ok(s) => servers.push(s),
            Err(e) => return app::usage(&e),
        }
    }
    let mut net = NetConfig {
        timeout,
        retries: 0,
        ..Default::default()
    };
    let mut o = Overrides::default();
    for r in &a.resolve {
        if let Err(e) = o.parse_cli(r) {
            return app::usage(&e);
        }
    }
    net.overrides = o;
    if let Some(ca) = &a.ca_file {
        match crate::net::load_pem_roots(ca) {
            Ok(c) => net.extra_roots = c,
            Err(e) => return app::usage(&e),
        }
    }
    let rt = app::runtime();
    let findings = rt.block_on(async {
        let dns = DnsClient::new(&servers, timeout, 1)?;
        let http = HttpClient::new(net);
        Ok::<_, String>(probe(&dns, &http, &domain).await)
    });
    let f = match findings {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INTERNAL;
        }
    };
    let text = render(&f, &a);
    if let Err(e) = crate::policy::load_str(&a.out, &text, &Default::default()) {
        eprintln!("error: internal: the generated policy does not load:\n{e}");
        return EXIT_INTERNAL;
    }
    if let Err(e) = std::fs::write(&a.out, &text) {
        eprintln!("error: cannot write {}: {e}", a.out.display());
        return EXIT_USAGE;
    }
    eprintln!(
        "wrote {} ({} records, {} DKIM selector(s), SPF {}, DMARC {})",
        a.out.display(),
        f.records.len() + usize::from(!f.mx.is_empty()),
        f.dkim.len(),
        if f.spf.is_some() { "found" } else { "missing" },
        if f.dmarc.is_some() {
            "found"
        } else {
            "missing"
        }
    );
    EXIT_PASS
}
