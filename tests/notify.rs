//! report.notify: a Slack-compatible webhook gets a short message when due, and its URL
//! (a credential) never appears in any output.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use launchgate::serve::Reply;

const H: &str = "www.shop.test";

struct Hook {
    f: Fixture,
    posts: Arc<Mutex<Vec<String>>>,
    site: u16,
    hook: u16,
}

fn setup() -> Hook {
    let mut f = Fixture::new();
    let posts = Arc::new(Mutex::new(Vec::new()));
    let p2 = posts.clone();
    let hook = f.http(move |r| {
        if r.method == "POST" && r.path == "/services/T000/B000/XXXXSECRETPATH" {
            p2.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&r.body).into_owned());
            Reply::new(200).body("ok")
        } else {
            Reply::new(404)
        }
    });
    let site = f.https(H, 90, |r| {
        if r.path == "/down" {
            Reply::new(503)
        } else {
            good_page("ok")
        }
    });
    Hook {
        f,
        posts,
        site,
        hook,
    }
}

fn policy(h: &Hook, page: &str, on: &str) -> std::path::PathBuf {
    h.f.policy(
        &[(H, 443, h.site)],
        &format!(
            "pages:\n  - url: https://{H}{page}\nreport:\n  notify: {{ webhook: \"http://127.0.0.1:{}/services/T000/B000/XXXXSECRETPATH\", on: {on} }}\n",
            h.hook
        ),
    )
}

#[test]
fn failure_posts_a_message_and_never_shows_the_url() {
    let h = setup();
    let p = policy(&h, "/down", "failure");
    let r = check_json(&p, &["-v"]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("XXXXSECRETPATH") && !r.stderr.contains("XXXXSECRETPATH"));
    let posts = h.posts.lock().unwrap();
    assert_eq!(posts.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&posts[0]).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(
        text.contains("Do not launch") && text.contains("pages.status"),
        "{text}"
    );
}

#[test]
fn change_posts_only_when_the_verdict_changes() {
    let h = setup();
    let up = policy(&h, "/", "change");
    let first = check_json(&up, &[]);
    assert_eq!(first.code, 0);
    assert_eq!(
        h.posts.lock().unwrap().len(),
        0,
        "a passing first run is not news"
    );
    let prev = h.f.write("prev.json", &first.stdout);
    let again = check_json(&up, &["--previous", prev.to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert_eq!(h.posts.lock().unwrap().len(), 0, "same verdict, no message");
    let down = policy(&h, "/down", "change");
    let r = check_json(&down, &["--previous", prev.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let posts = h.posts.lock().unwrap();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].contains("was pass"), "{}", posts[0]);
}

#[test]
fn an_unreachable_webhook_is_a_note_not_a_different_exit_code() {
    let h = setup();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = h.f.policy(
        &[(H, 443, h.site)],
        &format!("pages:\n  - url: https://{H}/\nreport:\n  notify: {{ webhook: \"http://127.0.0.1:{dead}/hook/SECRETHOOK\", on: always }}\n"),
    );
    let r = check_json(&p, &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("notify webhook could not be reached"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("SECRETHOOK"));
}
