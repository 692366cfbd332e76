//! `forms`: the conversion step. Submits each form `samples` times (sequential by
//! default) with a urlencoded, JSON or multipart body, an optional CSRF step, and
//! judges every answer (`forms.submit`) and the latency percentile (`forms.p95`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use url::Url;

use super::{error, fail, pass, CheckInfo, Ctx};
use crate::finding::{CheckResult, Severity};
use crate::net::http::{HttpClient, Request, Response};
use crate::net::{NetConfig, NetError};
use crate::policy::types::{StatusPattern, StatusSet};
use crate::policy::Form;

pub const SUBMIT: CheckInfo = CheckInfo {
    id: "forms.submit",
    severity: Severity::Blocker,
    title: "Form submissions are accepted",
    why: "The form is where paid traffic turns into leads: a form that errors, rejects valid input or loses its thank-you page burns the whole ad budget without a single conversion.",
    fix: "Submit the form by hand and look at the backend logs for the failing sample; check the endpoint, its CSRF/session handling and its dependencies (CRM, email provider). Correct `expect` if the policy is wrong.",
};

pub const P95: CheckInfo = CheckInfo {
    id: "forms.p95",
    severity: Severity::Blocker,
    title: "Form submissions stay fast at p95",
    why: "Buyers who wait seconds after pressing Submit press it again or leave: slow submissions mean duplicate or lost leads exactly when traffic peaks.",
    fix: "Move slow work (CRM sync, emails, enrichment) off the request path into a queue and answer at once; then re-check.",
};

pub const INFO: &[CheckInfo] = &[SUBMIT, P95];

/// The header every submission carries so a backend can drop test leads.
pub const MARKER_HEADER: &str = "X-Launch-Check";

const MAX_FORM_REDIRECTS: usize = 10;

/// What one submission saw.
#[derive(Debug, Clone)]
struct Sample {
    n: usize,
    outcome: Result<(u16, Duration, bool), String>,
}

pub async fn run(ctx: &Ctx) -> Vec<CheckResult> {
    let futs = ctx.loaded.policy.forms.iter().map(|f| check_form(ctx, f));
    futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn default_status() -> StatusSet {
    StatusSet(vec![StatusPattern::Class(2), StatusPattern::Class(3)])
}

async fn check_form(ctx: &Ctx, form: &Form) -> Vec<CheckResult> {
    let target = form.name.as_str();
    let samples = form.samples.map(|c| c.0 as usize).unwrap_or(1).max(1);
    let conc = form
        .concurrency
        .map(|c| c.0 as usize)
        .unwrap_or(1)
        .clamp(1, samples);
    let want = form.expect.status.clone().unwrap_or_else(default_status);
    let started = Instant::now();

    // Submissions are never retried by the client: see `send_no_duplicate`.
    let once = HttpClient::new(NetConfig {
        retries: 0,
        ..ctx.net().clone()
    });
    let once = &once;
    let sem = Arc::new(tokio::sync::Semaphore::new(conc));
    let futs = (0..samples).map(|n| {
        let sem = sem.clone();
        let want = &want;
        async move {
            let _permit = sem.acquire().await.expect("semaphore open");
            let outcome = submit_once(ctx, once, form)
                .await
                .map(|(resp, elapsed)| {
                    let body_ok = body_matches(form, &resp);
                    (resp.status, elapsed, body_ok && want.matches(resp.status))
                })
                .map_err(|e| e.to_string());
            Sample { n: n + 1, outcome }
        }
    });
    let results: Vec<Sample> = futures_util::future::join_all(futs).await;
    let elapsed = started.elapsed();

    let evidence: Vec<serde_json::Value> = results
        .iter()
        .map(|s| match &s.outcome {
            Ok((status, d, ok)) => serde_json::json!({
                "sample": s.n, "status": status, "ms": d.as_millis() as u64, "ok": ok,
            }),
            Err(e) => serde_json::json!({ "sample": s.n, "error": e }),
        })
        .collect();

    let body_wanted: Vec<&str> = form
        .expect
        .body_contains
        .iter()
        .map(|t| t.as_str())
        .collect();
    let wrong: Vec<&Sample> = results
        .iter()
        .filter(|s| matches!(s.outcome, Ok((_, _, false))))
        .collect();
    let broken: Vec<&Sample> = results.iter().filter(|s| s.outcome.is_err()).collect();
    let submit = if let Some(first) = wrong.first() {
        let Ok((status, _, _)) = first.outcome else {
            unreachable!()
        };
        let why = if want.matches(status) {
            format!(
                "the answer lacks {}",
                body_wanted
                    .iter()
                    .map(|b| format!("\"{b}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("answered {status}, expected {want}")
        };
        fail(
            &SUBMIT,
            target,
            format!(
                "{} of {samples} submissions failed; sample {}: {why}",
                wrong.len() + broken.len(),
                first.n
            ),
        )
    } else if let Some(first) = broken.first() {
        error(
            &SUBMIT,
            target,
            format!(
                "{} of {samples} submissions could not complete; sample {}: {}",
                broken.len(),
                first.n,
                first
                    .outcome
                    .as_ref()
                    .err()
                    .map(String::as_str)
                    .unwrap_or("")
            ),
        )
    } else {
        let statuses: Vec<String> = results
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok().map(|o| o.0.to_string()))
            .collect();
        let mut uniq = statuses.clone();
        uniq.dedup();
        pass(
            &SUBMIT,
            target,
            format!(
                "all {samples} submissions accepted (answered {})",
                uniq.join(", ")
            ),
        )
    };
    let mut out = vec![submit
        .evidence("url", form.url.as_str())
        .evidence("method", method(form))
        .evidence("samples", evidence.clone())
        .evidence("expected_status", want.to_string())
        .duration(elapsed)];

    if let Some(budget) = form.p95 {
        let mut ms: Vec<Duration> = results
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok().map(|o| o.1))
            .collect();
        ms.sort();
        let r = if ms.is_empty() {
            error(
                &P95,
                target,
                "no submission completed, so there is no latency to judge",
            )
        } else {
            let p = percentile(&ms, 0.95);
            let pm = p.as_millis() as u64;
            let bm = budget.0.as_millis() as u64;
            let msg_n = if ms.len() < samples {
                format!(" ({} of {samples} samples completed)", ms.len())
            } else {
                String::new()
            };
            if p <= budget.0 {
                pass(
                    &P95,
                    target,
                    format!(
                        "p95 of {} submissions is {pm} ms (budget {bm} ms){msg_n}",
                        ms.len()
                    ),
                )
            } else {
                fail(
                    &P95,
                    target,
                    format!(
                        "p95 of {} submissions is {pm} ms, over the {bm} ms budget{msg_n}",
                        ms.len()
                    ),
                )
            }
            .evidence("p95_ms", pm)
            .evidence(
                "max_ms",
                ms.last().map(|d| d.as_millis() as u64).unwrap_or(0),
            )
        };
        out.push(
            r.evidence("p95_budget_ms", budget.0.as_millis() as u64)
                .evidence("samples", evidence)
                .duration(elapsed),
        );
    }
    out
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn body_matches(form: &Form, resp: &Response) -> bool {
    if form.expect.body_contains.is_empty() {
        return true;
    }
    let body = resp.body_text();
    form.expect
        .body_contains
        .iter()
        .all(|t| body.contains(t.as_str()))
}

fn method(form: &Form) -> String {
    form.method
        .as_ref()
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| "POST".into())
}

/// A CSRF token and the cookies that came with it.
struct CsrfToken {
    token: String,
    cookies: Vec<String>,
}

async fn fetch_csrf(ctx: &Ctx, form: &Form) -> Result<Option<CsrfToken>, NetError> {
    let Some(c) = &form.csrf else {
        return Ok(None);
    };
    let resp = ctx.http.get(&c.url.url()).await?;
    let cookies: Vec<String> = resp
        .header_all("set-cookie")
        .iter()
        .filter_map(|sc| sc.split(';').next())
        .map(|kv| kv.trim().to_string())
        .filter(|kv| kv.contains('='))
        .collect();
    let token = if let Some(name) = &c.cookie {
        cookies.iter().find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == name.as_str()).then(|| v.trim().to_string())
        })
    } else {
        let pat = c.regex.as_ref().map(|r| r.as_str()).unwrap_or(
            r#"name="(?:csrf[_-]?token|_csrf|authenticity_token|_token)"\s+value="([^"]+)""#,
        );
        let re = regex::Regex::new(pat)
            .map_err(|e| NetError::Other(format!("csrf.regex is not a valid regex: {e}")))?;
        let body = resp.body_text();
        re.captures(&body).and_then(|cap| {
            cap.get(1)
                .or_else(|| cap.get(0))
                .map(|m| m.as_str().to_string())
        })
    };
    match token {
        Some(token) => Ok(Some(CsrfToken { token, cookies })),
        None => Err(NetError::Other(format!(
            "no CSRF token found in {} ({} from the {} answer)",
            c.url,
            match &c.cookie {
                Some(n) => format!("no cookie `{n}`"),
                None => "the regex did not match".to_string(),
            },
            resp.status
        ))),
    }
}

/// One submission: the CSRF step when configured, then the request (and redirects
/// only with `follow_redirects: true`). Returns the last response and the time taken
/// by the submission itself (the CSRF fetch is not counted).
async fn submit_once(
    ctx: &Ctx,
    once: &HttpClient,
    form: &Form,
) -> Result<(Response, Duration), NetError> {
    let csrf = fetch_csrf(ctx, form).await?;
    let req = build_request(form, csrf.as_ref())?;
    let start = Instant::now();
    let mut resp = send_no_duplicate(once, &req, ctx.net().retries).await?;
    if form.follow_redirects.is_some_and(|f| f.0) {
        let mut cur = req;
        for _ in 0..MAX_FORM_REDIRECTS {
            if !resp.is_redirect() {
                break;
            }
            let Some(Ok(next)) = resp.location() else {
                break;
            };
            // 307/308 repeat the request; 301/302/303 turn it into a GET, as browsers do.
            if !matches!(resp.status, 307 | 308) {
                cur.method = "GET".into();
                cur.body = Bytes::new();
                cur.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            }
            cur.url = next;
            resp = send_no_duplicate(once, &cur, ctx.net().retries).await?;
        }
    }
    Ok((resp, start.elapsed()))
}

/// Sends a submission, retrying only when it cannot have reached the backend (the
/// name did not resolve, the connection was refused, the connect or TLS step timed
/// out): a retry after a timeout waiting for the answer could submit the form twice.
async fn send_no_duplicate(
    client: &HttpClient,
    req: &Request,
    retries: u32,
) -> Result<Response, NetError> {
    let mut attempt = 0;
    loop {
        match client.send(req).await {
            Err(e) if attempt < retries && not_sent(&e) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
            }
            r => return r,
        }
    }
}

fn not_sent(e: &NetError) -> bool {
    match e {
        NetError::Dns { .. } | NetError::Connect { .. } => true,
        NetError::Timeout { phase, .. } => {
            phase == &crate::net::Phase::Connect.to_string()
                || phase == &crate::net::Phase::Tls.to_string()
        }
        _ => false,
    }
}

fn build_request(form: &Form, csrf: Option<&CsrfToken>) -> Result<Request, NetError> {
    let url: Url = form.url.url();
    let mut headers: Vec<(String, String)> = form
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(MARKER_HEADER))
    {
        headers.push((MARKER_HEADER.into(), "1".into()));
    }
    let csrf_field = form
        .csrf
        .as_ref()
        .and_then(|c| c.field.as_ref().map(|f| f.0.clone()));
    let csrf_header = form.csrf.as_ref().map(|c| {
        c.header
            .as_ref()
            .map(|h| h.0.clone())
            .unwrap_or_else(|| "X-CSRF-Token".into())
    });
    if let Some(t) = csrf {
        if csrf_field.is_none() || form.csrf.as_ref().is_some_and(|c| c.header.is_some()) {
            if let Some(h) = &csrf_header {
                headers.push((h.clone(), t.token.clone()));
            }
        }
        if !t.cookies.is_empty() {
            headers.push(("Cookie".into(), t.cookies.join("; ")));
        }
    }
    let token_field = csrf
        .and(csrf_field.as_ref())
        .map(|f| (f.clone(), csrf.map(|t| t.token.clone()).unwrap_or_default()));

    let has_ct = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let (body, ctype): (Bytes, Option<String>) = if let Some(fields) = &form.form {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            ser.append_pair(k, v);
        }
        if let Some((k, v)) = &token_field {
            ser.append_pair(k, v);
        }
        (
            Bytes::from(ser.finish()),
            Some("application/x-www-form-urlencoded".into()),
        )
    } else if let Some(json) = &form.json {
        let mut j = json.clone();
        if let (Some((k, v)), Some(obj)) = (&token_field, j.as_object_mut()) {
            obj.insert(k.clone(), v.clone().into());
        }
        let b = serde_json::to_vec(&j)
            .map_err(|e| NetError::Other(format!("cannot encode the JSON body: {e}")))?;
        (Bytes::from(b), Some("application/json".into()))
    } else if let Some(fields) = &form.multipart {
        let boundary = boundary();
        let mut parts: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        if let Some(kv) = token_field {
            parts.push(kv);
        }
        (
            Bytes::from(multipart(&boundary, &parts)),
            Some(format!("multipart/form-data; boundary={boundary}")),
        )
    } else if let Some((k, v)) = &token_field {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.append_pair(k, v);
        (
            Bytes::from(ser.finish()),
            Some("application/x-www-form-urlencoded".into()),
        )
    } else {
        (Bytes::new(), None)
    };
    if let (Some(ct), false) = (ctype, has_ct) {
        headers.push(("Content-Type".into(), ct));
    }
    Ok(Request {
        method: method(form),
        url,
        headers,
        body,
    })
}

/// A boundary that no field value is likely to contain.
fn boundary() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let a = h.finish();
    h.write_u64(a);
    format!("launchgate-{a:016x}{:016x}", h.finish())
}

/// multipart/form-data (RFC 7578) with text fields only.
pub fn multipart(boundary: &str, fields: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in fields {
        let name = k.replace('"', "%22").replace(['\r', '\n'], " ");
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentile() {
        let v: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.95), Duration::from_millis(19));
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(10));
        assert_eq!(percentile(&v[..5], 0.95), Duration::from_millis(5));
        assert_eq!(percentile(&v[..1], 0.95), Duration::from_millis(1));
    }

    #[test]
    fn multipart_encoding() {
        let b = multipart(
            "XX",
            &[("a".into(), "1".into()), ("b".into(), "two".into())],
        );
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ntwo\r\n--XX--\r\n"
        );
        assert_ne!(boundary(), boundary());
    }
}
