//! `launchgate demo`: a local funnel with deliberate faults, judged by the real gate
//! through the same path a user's policy takes (a launch.yml file on disk, loaded,
//! checked and reported).

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::{self, EXIT_INTERNAL, EXIT_USAGE};
use crate::certs::Ca;
use crate::cli::OutputArgs;
use crate::engine::RunOptions;
use crate::policy::{self, LoadOptions};
use crate::redact::Redactor;
use crate::serve::{Background, Incoming, Reply, ServerHandle};

pub const WWW: &str = "www.demo.launchgate.test";
pub const APEX: &str = "demo.launchgate.test";
pub const BOOK: &str = "book.demo.launchgate.test";
pub const STAGING: &str = "staging.demo.launchgate.test";

const HSTS: &str = "max-age=31536000; includeSubDomains";

fn secure(r: Reply) -> Reply {
    r.header(
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'",
    )
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "strict-origin-when-cross-origin")
    .header("permissions-policy", "camera=(), microphone=()")
}

const LANDING: &str = "<!doctype html><html><head><title>Acme Advisory</title></head>\
<body><h1>Revenue operations for B2B teams</h1><a href=\"/book\">Book a discovery call</a></body></html>";

/// The release the demo's www host reports at `/version`; the drill's scripts flip it.
pub const CURRENT: &str = "2026.12.03-a1b2c3";
pub const PREVIOUS: &str = "2026.11.28-9f8e7d";

/// The deploy script of the demo: switches the served release to `$1`.
const SWITCH: &str = "#!/bin/sh\n# demo deploy: point the site at release $1\necho \"$1\" > version.txt\necho \"now serving release $1\"\n";

fn www(req: &Incoming, version_file: &std::path::Path) -> Reply {
    match req.path.as_str() {
        "/version" => Reply::new(200)
            .header("content-type", "text/plain")
            .header("cache-control", "no-store")
            .body(&std::fs::read_to_string(version_file).unwrap_or_default()),
        "/" => secure(Reply::html(LANDING))
            .header("strict-transport-security", HSTS)
            .header("cache-control", "public, max-age=300"),
        // Fault: no HSTS on the pricing page.
        "/pricing" => secure(Reply::html(
            "<html><body><h1>Pricing</h1>Book a discovery call</body></html>",
        ))
        .header("cache-control", "public, max-age=300"),
        // Fault: a personalised page that a CDN may store and hand to the next visitor.
        "/account" => secure(Reply::html("<html><body>Welcome back, Dana</body></html>"))
            .header("strict-transport-security", HSTS)
            .header("set-cookie", "session=4f2a9c; Path=/; HttpOnly; Secure")
            .header("cache-control", "public, max-age=600"),
        // Fault: a fingerprinted asset nobody may cache.
        "/assets/app.3f9a.js" => Reply::new(200)
            .header("content-type", "application/javascript")
            .header("cache-control", "no-cache")
            .body("console.log('acme');"),
        "/assets/site.7c1e.css" => Reply::new(200)
            .header("content-type", "text/css")
            .header("cache-control", "public, max-age=31536000, immutable")
            .body("body{font-family:sans-serif}"),
        // Fault: a three-hop chain that starts with a temporary redirect.
        "/old-pricing" => Reply::redirect(302, "/pricing-2023"),
        "/pricing-2023" => Reply::redirect(301, "/pricing-2024"),
        "/pricing-2024" => Reply::redirect(301, "/pricing"),
        // The contact form: 303 to a thank-you page, as a well-behaved form does.
        "/api/contact" if req.method == "POST" => Reply::redirect(303, "/thanks"),
        "/thanks" => secure(Reply::html(
            "<html><body><h1>Thanks, we will call you within a day</h1></body></html>",
        ))
        .header("strict-transport-security", HSTS)
        .header("cache-control", "private, no-store"),
        _ => Reply::new(404).body("not found"),
    }
}

/// Fault: staging answers anyone; only a noindex tag keeps it out of search results.
fn staging(_: &Incoming) -> Reply {
    Reply::html(
        "<html><head><meta name=\"robots\" content=\"noindex, nofollow\"></head>\
         <body><h1>STAGING: new pricing (unreleased)</h1></body></html>",
    )
    .header("strict-transport-security", HSTS)
}

fn apex(req: &Incoming) -> Reply {
    let target = format!("https://{WWW}{}", req.path);
    Reply::redirect(301, &target)
}

fn book(req: &Incoming) -> Reply {
    // Fault: the booking form waits on a slow CRM call before answering.
    if req.path == "/api/book" && req.method == "POST" {
        return Reply::html("<html><body>Thanks, your call is booked</body></html>")
            .header("cache-control", "private, no-store")
            .delay(std::time::Duration::from_millis(1200));
    }
    secure(Reply::html(
        "<html><body><h1>Pick a time</h1></body></html>",
    ))
    .header("strict-transport-security", HSTS)
    .header("cache-control", "private, no-store")
}

/// The demo domain's zone: mail that will not arrive reliably and a staging host
/// that still resolves.
pub fn zone() -> String {
    let dkim = crate::checks::email::dkim::test_keys::rsa_record(512);
    format!(
        "$ORIGIN {APEX}.\n$TTL 300\n\
@ IN SOA ns1 admin 1 3600 600 86400 60\n\
@ IN NS ns1\n\
ns1 IN A 127.0.0.1\n\
@ IN A 127.0.0.1\n\
www IN A 127.0.0.1\n\
book IN A 127.0.0.1\n\
staging IN A 127.0.0.1\n\
@ IN MX 10 mx\n\
mx IN A 127.0.0.1\n\
@ IN TXT \"v=spf1 include:_spf.mailer.{APEX} include:old-newsletter.{APEX} ?all\"\n\
_spf.mailer IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
old-newsletter IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n\
s1._domainkey IN TXT \"{dkim}\"\n\
_dmarc IN TXT \"v=DMARC1; p=none\"\n"
    )
}

/// The running funnel: its servers and the policy that judges it.
pub struct Funnel {
    _dns: crate::serve_dns::DnsServer,
    _bg: Background,
    _servers: Vec<ServerHandle>,
    pub dir: PathBuf,
    pub policy: PathBuf,
}

impl Drop for Funnel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn start() -> std::io::Result<Funnel> {
    let bg = Background::new();
    let ca = Ca::new("launchgate demo CA");
    let www_leaf = ca.issue_days(&[WWW], 90);
    // Fault: the booking host's certificate runs out in 3 days.
    let book_leaf = ca.issue_days(&[BOOK], 3);
    let dns = bg.serve_dns(APEX, &zone());
    let dir = std::env::temp_dir().join(format!("launchgate-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("demo-ca.pem"), ca.pem())?;
    let version_file = dir.join("version.txt");
    std::fs::write(&version_file, format!("{CURRENT}\n"))?;
    for name in ["rollback.sh", "deploy.sh"] {
        let p = dir.join(name);
        std::fs::write(&p, SWITCH)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
    }
    let s_www = bg.serve(
        Arc::new(move |r: &Incoming| www(r, &version_file)),
        Some(www_leaf),
    );
    let s_apex = bg.serve(Arc::new(apex), None);
    let s_book = bg.serve(Arc::new(book), Some(book_leaf));
    let s_staging = bg.serve(Arc::new(staging), Some(ca.issue_days(&[STAGING], 90)));

    let policy = dir.join("launch.yml");
    let text = policy_text_with(
        s_www.port(),
        s_apex.port(),
        s_book.port(),
        Some(s_staging.port()),
    ) + &funnel_policy()
        + &dns_policy(dns.addr);
    std::fs::write(&policy, text)?;
    Ok(Funnel {
        _dns: dns,
        _bg: bg,
        _servers: vec![s_www, s_apex, s_book, s_staging],
        dir,
        policy,
    })
}

pub fn policy_text(www_port: u16, apex_port: u16, book_port: u16) -> String {
    policy_text_with(www_port, apex_port, book_port, None)
}

/// The web part of the demo policy; with `staging_port`, the staging host is mapped too.
pub fn policy_text_with(
    www_port: u16,
    apex_port: u16,
    book_port: u16,
    staging_port: Option<u16>,
) -> String {
    let staging = staging_port
        .map(|p| format!("    \"{STAGING}:443\": \"127.0.0.1:{p}\"\n"))
        .unwrap_or_default();
    format!(
        r#"# The demo funnel's policy: what `launchgate demo` checks.
version: 1
name: acme-demo-funnel
extends: [recommended]

defaults:
  timeout: 5s
  ca_file: ./demo-ca.pem
  resolve:
    "{WWW}:443": "127.0.0.1:{www_port}"
    "{APEX}:80": "127.0.0.1:{apex_port}"
    "{BOOK}:443": "127.0.0.1:{book_port}"
{staging}
vars:
  site: https://{WWW}

pages:
  - url: ${{site}}/
    expect: {{ status: 200, max_latency: 2s, body_contains: ["Book a discovery call"] }}
    cache: semi-static
  - url: ${{site}}/pricing
    expect: {{ body_contains: ["Book a discovery call"] }}
  - url: ${{site}}/account
    cache: dynamic
  - url: ${{site}}/assets/app.3f9a.js
    cache: static
  - url: ${{site}}/assets/site.7c1e.css
    cache: static
  - url: https://{BOOK}/
    expect: {{ body_contains: ["Pick a time"] }}
    cache: dynamic

redirects:
  - {{ from: "http://{APEX}/", to: "${{site}}/", max_hops: 1 }}
  - {{ from: "${{site}}/old-pricing", to: "${{site}}/pricing", max_hops: 2 }}

# A rollback drill: switch to the previous release, prove it is served, switch back.
rollback:
  version_url: ${{site}}/version
  current: "{CURRENT}"
  previous: "{PREVIOUS}"
  rollback: ./rollback.sh {PREVIOUS}
  restore: ./deploy.sh {CURRENT}
  max_duration: 5s
  poll_interval: 100ms
"#
    )
}

/// The conversion part of the demo policy: forms, exposure, edge and a short burst.
pub fn funnel_policy() -> String {
    format!(
        r#"
forms:
  - name: contact
    url: ${{site}}/api/contact
    form: {{ name: Launch Check, email: launch-check@demo.launchgate.test, message: "automated launch check" }}
    headers: {{ X-Launch-Check: "1" }}
    expect: {{ status: 303 }}
    samples: 3
    p95: 800ms
  - name: book-a-call
    url: https://{BOOK}/api/book
    json: {{ email: launch-check@demo.launchgate.test, slot: "2026-12-10T10:00:00Z", test: true }}
    expect: {{ status: 200, body_contains: ["Thanks"] }}
    samples: 2
    concurrency: 2
    p95: 800ms

exposure:
  - {{ url: "https://{STAGING}/", expect: private }}

edge:
  - {{ host: {WWW}, proxied_by: any }}

load:
  - name: landing burst
    url: ${{site}}/
    requests: 500
    concurrency: 20
    thresholds: {{ p95: 500ms, error_rate: 1% }}
"#
    )
}

/// The DNS and email part of the demo policy, for the demo's own DNS server.
pub fn dns_policy(resolver: std::net::SocketAddr) -> String {
    format!(
        r#"
dns:
  resolvers: ["{resolver}"]
  records:
    - {{ name: {APEX}, type: A, expect: [127.0.0.1] }}
    - {{ name: {WWW}, type: A, expect: [127.0.0.1] }}
    - {{ name: {APEX}, type: MX, contains: ["10 mx.{APEX}."] }}
    - {{ name: staging.{APEX}, type: A, absent: true }}

email:
  - domain: {APEX}
    spf: {{ senders: ["include:_spf.mailer.{APEX}"] }}
    dkim: {{ selectors: [s1], min_key_bits: 1024 }}
    dmarc: {{ min_policy: quarantine, rua: required }}
"#
    )
}

pub fn run(out: OutputArgs) -> i32 {
    let outs = match app::outputs(&out) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let funnel = match start() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot start the demo funnel: {e}");
            return EXIT_INTERNAL;
        }
    };
    eprintln!(
        "launchgate demo: a local funnel ({WWW}, {APEX}, {BOOK}, and their DNS zone) is running on 127.0.0.1\n\
         with deliberate faults;\n\
         checking it with the policy at {}\n",
        funnel.policy.display()
    );
    let loaded = match policy::load(
        &funnel.policy,
        &LoadOptions {
            set: Default::default(),
            use_env: false,
        },
    ) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{e}");
            return EXIT_INTERNAL;
        }
    };
    let redactor = Redactor::new(loaded.secrets.clone());
    app::run_and_report(loaded, RunOptions::default(), &out, &outs, &redactor, false)
}
