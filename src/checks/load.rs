//! `load`: a short burst of launch traffic against each `load` entry (the generator is
//! `crate::load`), judged by latency percentiles and the error rate.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::load::{self, LoadSpec, LoadStats, MAX_DURATION, MAX_REQUESTS};
use crate::policy::Load;

pub const P95: CheckInfo = CheckInfo {
    id: "load.p95",
    severity: Severity::Blocker,
    title: "p95 latency under a launch burst stays within budget",
    why: "When the campaign goes live, traffic arrives in bursts; if one request in twenty takes seconds, ad clicks bounce before the page renders and the spend is wasted.",
    fix: "Cache the page at the edge, scale the origin (more instances, connection pool sizes) or remove slow work from the request path; then repeat the burst.",
};

pub const ERRORS: CheckInfo = CheckInfo {
    id: "load.errors",
    severity: Severity::Blocker,
    title: "Error rate under a launch burst stays within budget",
    why: "Errors that appear only under concurrency (exhausted pools, rate limits, crashing workers) hit exactly the moment the most paid visitors arrive.",
    fix: "Look at the error breakdown (status codes, timeouts, refused connections) and the origin's logs during the burst; raise limits or capacity, or put a cache in front.",
};

pub const P50: CheckInfo = CheckInfo {
    id: "load.p50",
    severity: Severity::Blocker,
    title: "Median latency under a launch burst stays within budget",
    why: "A slow median means most visitors of the campaign wait, not only the unlucky ones.",
    fix: "Profile the request path under load; cache, scale or simplify it.",
};

pub const P99: CheckInfo = CheckInfo {
    id: "load.p99",
    severity: Severity::Blocker,
    title: "p99 latency under a launch burst stays within budget",
    why: "The slowest percent of requests is where queues and timeouts start; it grows first when capacity runs out.",
    fix: "Find what queues under concurrency (database pool, worker count, locks) and give it headroom.",
};

pub const MAX: CheckInfo = CheckInfo {
    id: "load.max",
    severity: Severity::Blocker,
    title: "Slowest request under a launch burst stays within budget",
    why: "A request that takes this long is a visitor who gave up.",
    fix: "Look for timeouts and retries on the request path; bound them.",
};

pub const INFO: &[CheckInfo] = &[P95, ERRORS, P50, P99, MAX];

pub const DEFAULT_REQUESTS: u64 = 200;
pub const DEFAULT_CONCURRENCY: u64 = 10;
pub const DEFAULT_P95: Duration = Duration::from_millis(1000);
pub const DEFAULT_ERROR_RATE: f64 = 0.01;

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    // One burst at a time: concurrent bursts would measure each other.
    let mut out = Vec::new();
    for l in &ctx.loaded.policy.load {
        out.extend(check_one(ctx, l).await);
    }
    out
}

/// The spec a `load` entry asks for, or why it may not run.
pub fn spec_of(l: &Load, timeout: Duration, allow_large: bool) -> Result<LoadSpec, String> {
    let requests = match (l.requests, l.duration) {
        (Some(n), _) => n.0,
        (None, Some(_)) => MAX_REQUESTS,
        (None, None) => DEFAULT_REQUESTS,
    };
    // Without --allow-large-load every burst ends within the caps; with it, a burst
    // given only a request count still ends within a day.
    let duration = l.duration.map(|d| d.0).unwrap_or(if allow_large {
        Duration::from_secs(24 * 3600)
    } else {
        MAX_DURATION
    });
    if !allow_large {
        if requests > MAX_REQUESTS {
            return Err(format!(
                "asks for {requests} requests, over the {MAX_REQUESTS} cap; pass --allow-large-load to run it"
            ));
        }
        if duration > MAX_DURATION {
            return Err(format!(
                "asks for {} s, over the {} s cap; pass --allow-large-load to run it",
                duration.as_secs(),
                MAX_DURATION.as_secs()
            ));
        }
    }
    let requests = if allow_large && l.requests.is_none() && l.duration.is_some() {
        u64::MAX
    } else {
        requests
    };
    if requests == 0 {
        return Err("asks for 0 requests".into());
    }
    let concurrency = l.concurrency.map(|c| c.0).unwrap_or(DEFAULT_CONCURRENCY);
    if concurrency == 0 {
        return Err("concurrency must be at least 1".into());
    }
    if let Some(r) = l.rate {
        if r.0 <= 0.0 || !r.0.is_finite() {
            return Err(format!("rate must be a positive number, found {}", r.0));
        }
    }
    Ok(LoadSpec {
        url: l.url.url(),
        method: l
            .method
            .as_ref()
            .map(|m| m.to_ascii_uppercase())
            .unwrap_or_else(|| "GET".into()),
        headers: l
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        body: l
            .body
            .as_ref()
            .map(|b| Bytes::from(b.0.clone()))
            .unwrap_or_default(),
        requests,
        duration,
        concurrency: concurrency.min(10_000) as usize,
        rate: l.rate.map(|r| r.0),
        timeout,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The latency distribution for reports: upper bounds and counts of answered requests.
pub fn distribution(stats: &LoadStats) -> serde_json::Value {
    if stats.hist.is_empty() {
        return serde_json::Value::Array(Vec::new());
    }
    let min = stats.hist.min().max(1) as f64;
    let max = stats.hist.max().max(1) as f64;
    let buckets = 8usize;
    let mut bounds: Vec<u64> = if max / min < 1.5 {
        vec![stats.hist.max()]
    } else {
        let ratio = (max / min).powf(1.0 / buckets as f64);
        (1..=buckets)
            .map(|i| (min * ratio.powi(i as i32)).ceil() as u64)
            .collect()
    };
    if let Some(last) = bounds.last_mut() {
        *last = (*last).max(stats.hist.max());
    }
    bounds.dedup();
    let mut counts = vec![0u64; bounds.len()];
    for v in stats.hist.iter_recorded() {
        let val = v.value_iterated_to();
        let i = bounds
            .iter()
            .position(|b| val <= *b)
            .unwrap_or(bounds.len() - 1);
        counts[i] += v.count_at_value();
    }
    let out: Vec<serde_json::Value> = bounds
        .iter()
        .zip(counts)
        .map(|(b, n)| serde_json::json!({ "le_ms": round3(*b as f64 / 1000.0), "count": n }))
        .collect();
    serde_json::Value::Array(out)
}

/// The evidence every load result carries.
pub fn evidence(stats: &LoadStats, spec: &LoadSpec) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("url".into(), spec.url.as_str().into());
    m.insert("requests".into(), stats.requests.into());
    m.insert("errors".into(), stats.errors.into());
    m.insert(
        "error_rate".into(),
        round3(stats.error_rate() * 100.0).into(),
    );
    m.insert("rps".into(), (stats.rps().round() as u64).into());
    m.insert("p50_ms".into(), round3(stats.quantile_ms(0.50)).into());
    m.insert("p90_ms".into(), round3(stats.quantile_ms(0.90)).into());
    m.insert("p95_ms".into(), round3(stats.quantile_ms(0.95)).into());
    m.insert("p99_ms".into(), round3(stats.quantile_ms(0.99)).into());
    m.insert("max_ms".into(), round3(stats.max_ms()).into());
    m.insert("min_ms".into(), round3(stats.min_ms()).into());
    m.insert("mean_ms".into(), round3(stats.mean_ms()).into());
    m.insert("concurrency".into(), spec.concurrency.into());
    m.insert("connections".into(), stats.connections.into());
    m.insert(
        "duration_ms".into(),
        (stats.elapsed.as_millis() as u64).into(),
    );
    m.insert("stopped_by".into(), stats.stopped_by.into());
    let statuses: serde_json::Map<String, serde_json::Value> = stats
        .statuses
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect();
    m.insert("statuses".into(), serde_json::Value::Object(statuses));
    let transport: serde_json::Map<String, serde_json::Value> = stats
        .transport
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    m.insert(
        "transport_errors".into(),
        serde_json::Value::Object(transport),
    );
    if stats.offsite_redirects > 0 {
        m.insert("offsite_redirects".into(), stats.offsite_redirects.into());
    }
    m.insert("distribution".into(), distribution(stats));
    m
}

fn error_breakdown(stats: &LoadStats) -> String {
    let mut parts: Vec<String> = stats
        .statuses
        .iter()
        .filter(|(s, _)| !(200..400).contains(*s))
        .map(|(s, n)| format!("{n}× {s}"))
        .collect();
    parts.extend(stats.transport.iter().map(|(k, n)| format!("{n}× {k}")));
    parts.join(", ")
}

async fn check_one(ctx: &Ctx, l: &Load) -> Vec<CheckResult> {
    let target = l.name.as_str();
    let th = &l.thresholds;
    let spec = match spec_of(l, ctx.net().timeout, ctx.allow_large_load) {
        Ok(s) => s,
        Err(m) => {
            let msg = format!("the burst was not run: it {m}");
            return vec![error(&P95, target, &msg), error(&ERRORS, target, &msg)];
        }
    };
    let finished = Arc::new(AtomicU64::new(0));
    let bar = progress(&spec, target, finished.clone());
    let stats = load::run(ctx.net(), spec.clone(), finished).await;
    if let Some((pb, ticker)) = bar {
        ticker.abort();
        pb.finish_and_clear();
    }
    let ev = evidence(&stats, &spec);
    let with_ev = |mut r: CheckResult| {
        r.evidence.extend(ev.clone());
        r.duration(stats.elapsed)
    };
    let mut out = Vec::new();
    let answered = stats.hist.len();

    let mut latency = |info: &CheckInfo, label: &str, budget: Duration, got_ms: f64| {
        let bm = budget.as_secs_f64() * 1000.0;
        let r = if answered == 0 {
            error(
                info,
                target,
                format!(
                    "no request was answered ({}), so there is no latency to judge",
                    error_breakdown(&stats)
                ),
            )
        } else if got_ms <= bm {
            pass(
                info,
                target,
                format!(
                    "{label} {:.1} ms over {} requests at {:.0} req/s (budget {bm:.0} ms)",
                    got_ms,
                    stats.requests,
                    stats.rps()
                ),
            )
        } else {
            fail(
                info,
                target,
                format!(
                    "{label} {:.1} ms over {} requests at {:.0} req/s, over the {bm:.0} ms budget",
                    got_ms,
                    stats.requests,
                    stats.rps()
                ),
            )
        };
        out.push(with_ev(r.evidence("budget_ms", bm)));
    };
    let p95 = th.p95.map(|d| d.0).unwrap_or(DEFAULT_P95);
    latency(&P95, "p95", p95, stats.quantile_ms(0.95));
    if let Some(d) = th.p50 {
        latency(&P50, "p50", d.0, stats.quantile_ms(0.50));
    }
    if let Some(d) = th.p99 {
        latency(&P99, "p99", d.0, stats.quantile_ms(0.99));
    }
    if let Some(d) = th.max {
        latency(&MAX, "max", d.0, stats.max_ms());
    }

    let budget = th.error_rate.map(|r| r.0).unwrap_or(DEFAULT_ERROR_RATE);
    let rate = stats.error_rate();
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let r = if stats.requests == 0 {
        error(&ERRORS, target, "no request was sent")
    } else if rate <= budget {
        pass(
            &ERRORS,
            target,
            format!(
                "{} errors in {} requests ({}, budget {})",
                stats.errors,
                stats.requests,
                pct(rate),
                pct(budget)
            ),
        )
    } else {
        fail(
            &ERRORS,
            target,
            format!(
                "{} errors in {} requests ({}, budget {}): {}",
                stats.errors,
                stats.requests,
                pct(rate),
                pct(budget),
                error_breakdown(&stats)
            ),
        )
    };
    out.push(with_ev(r.evidence("error_rate_budget", budget * 100.0)));
    out
}

/// A progress bar on stderr, only when stderr is a terminal.
fn progress(
    spec: &LoadSpec,
    name: &str,
    finished: Arc<AtomicU64>,
) -> Option<(indicatif::ProgressBar, tokio::task::JoinHandle<()>)> {
    if !std::io::stderr().is_terminal() || std::env::var_os("LAUNCHGATE_NO_PROGRESS").is_some() {
        return None;
    }
    let by_count = spec.requests != u64::MAX && spec.requests <= MAX_REQUESTS * 1000;
    let pb = if by_count && spec.duration >= MAX_DURATION {
        let pb = indicatif::ProgressBar::new(spec.requests);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "load {msg} [{bar:30}] {pos}/{len} requests ({per_sec})",
            )
            .ok()?
            .progress_chars("=> "),
        );
        pb
    } else {
        let pb = indicatif::ProgressBar::new(spec.duration.as_millis() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("load {msg} [{bar:30}] {elapsed}/{duration}")
                .ok()?
                .progress_chars("=> "),
        );
        pb
    };
    pb.set_message(name.to_string());
    let pb2 = pb.clone();
    let by_requests = pb.length() == Some(spec.requests);
    let started = std::time::Instant::now();
    let ticker = tokio::spawn(async move {
        loop {
            if by_requests {
                pb2.set_position(finished.load(Ordering::Relaxed));
            } else {
                pb2.set_position(started.elapsed().as_millis() as u64);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some((pb, ticker))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(yaml: &str) -> Load {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn caps_and_defaults() {
        let t = Duration::from_secs(10);
        let l = entry("{ name: a, url: 'https://a.test/' }");
        let s = spec_of(&l, t, false).unwrap();
        assert_eq!((s.requests, s.concurrency), (DEFAULT_REQUESTS, 10));
        assert_eq!(s.duration, MAX_DURATION);
        let big = entry("{ name: a, url: 'https://a.test/', requests: 100001 }");
        assert!(spec_of(&big, t, false)
            .unwrap_err()
            .contains("--allow-large-load"));
        let s = spec_of(&big, t, true).unwrap();
        assert_eq!(s.requests, 100_001);
        assert!(s.duration > MAX_DURATION);
        let long = entry("{ name: a, url: 'https://a.test/', duration: 11m }");
        assert!(spec_of(&long, t, false).is_err());
        let timed = entry("{ name: a, url: 'https://a.test/', duration: 30s }");
        let s = spec_of(&timed, t, false).unwrap();
        assert_eq!(
            (s.requests, s.duration),
            (MAX_REQUESTS, Duration::from_secs(30))
        );
        let s = spec_of(&timed, t, true).unwrap();
        assert_eq!(s.requests, u64::MAX);
    }
}
