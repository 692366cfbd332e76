//! Shell commands of the policy (`rollback`, `restore`, `migrations.command`): run under
//! `sh -c` in their own process group, killed with the whole group on timeout, their
//! output kept as a redacted tail.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::policy::is_secret_name;
use crate::redact::Redactor;

/// Bytes of each stream kept while a command runs (the raw ring buffer).
const RING: usize = 64 * 1024;
/// Lines of each stream kept in evidence.
pub const TAIL_LINES: usize = 20;
/// Characters of each stream kept in evidence.
pub const TAIL_CHARS: usize = 2000;
/// How long to wait for the pipes once the shell has exited (a background child may
/// hold them open).
const DRAIN: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal (not ours).
    Signal(i32),
    /// Ran past its timeout; the process group was killed.
    TimedOut,
    /// Could not be started.
    SpawnFailed(String),
}

/// What a command did, with its output already redacted and cut to a tail.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub command: String,
    pub exit: Exit,
    pub elapsed: Duration,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// "exited 0 in 120 ms", "timed out after 5000 ms", ...
    pub fn describe(&self) -> String {
        let ms = self.elapsed.as_millis();
        match &self.exit {
            Exit::Code(c) => format!("exited {c} after {ms} ms"),
            Exit::Signal(s) => format!("was killed by signal {s} after {ms} ms"),
            Exit::TimedOut => format!("timed out after {ms} ms (its process group was killed)"),
            Exit::SpawnFailed(e) => format!("could not be started: {e}"),
        }
    }

    /// The last non-empty line of stderr, else of stdout, for one-line messages.
    pub fn last_line(&self) -> Option<&str> {
        [&self.stderr_tail, &self.stdout_tail]
            .iter()
            .find_map(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
            .map(str::trim)
    }

    pub fn evidence(&self) -> Value {
        let (code, timed_out) = match &self.exit {
            Exit::Code(c) => (Value::from(*c), false),
            Exit::TimedOut => (Value::Null, true),
            _ => (Value::Null, false),
        };
        let mut v = json!({
            "command": self.command,
            "exit_code": code,
            "timed_out": timed_out,
            "duration_ms": self.elapsed.as_millis() as u64,
            "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail,
        });
        if let Exit::Signal(s) = &self.exit {
            v["signal"] = (*s).into();
        }
        if let Exit::SpawnFailed(e) = &self.exit {
            v["spawn_error"] = e.clone().into();
        }
        v
    }
}

/// The redactor for command output: the policy's secrets plus every secret-named
/// variable of the environment the command inherits (whether or not the policy read it).
pub fn redactor(policy_secrets: &[String]) -> Redactor {
    let mut v = policy_secrets.to_vec();
    v.extend(
        std::env::vars()
            .filter(|(k, _)| is_secret_name(k))
            .map(|(_, v)| v),
    );
    Redactor::new(v)
}

#[derive(Default)]
struct Ring {
    buf: Vec<u8>,
    truncated: bool,
}

impl Ring {
    fn push(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        if self.buf.len() > RING {
            let cut = self.buf.len() - RING;
            self.buf.drain(..cut);
            self.truncated = true;
        }
    }
}

async fn pump(mut r: impl AsyncRead + Unpin, ring: Arc<Mutex<Ring>>) {
    let mut chunk = [0u8; 8192];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut g) = ring.lock() {
                    g.push(&chunk[..n]);
                }
            }
        }
    }
}

/// Redacts the whole kept buffer, then cuts it to its last lines: a secret is never cut
/// in half before redaction (a partial first line of a truncated buffer is dropped).
pub fn tail(raw: &[u8], truncated: bool, redactor: &Redactor) -> String {
    let mut text = String::from_utf8_lossy(raw).into_owned();
    if truncated {
        match text.find('\n') {
            Some(i) => {
                text.drain(..=i);
            }
            None => text.clear(),
        }
    }
    let text = redactor.redact(&text);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    let mut out = lines[start..].join("\n");
    let n = out.chars().count();
    if n > TAIL_CHARS {
        out = out.chars().skip(n - TAIL_CHARS).collect();
    }
    out
}

fn kill_group(pgid: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals the process group we created.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Runs `cmd` with `sh -c` in `dir`, in a new process group, for at most `timeout`.
pub async fn run(cmd: &str, dir: &Path, timeout: Duration, redactor: &Redactor) -> Outcome {
    let start = Instant::now();
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            return Outcome {
                command: redactor.redact(cmd),
                exit: Exit::SpawnFailed(redactor.redact(&e.to_string())),
                elapsed: start.elapsed(),
                stdout_tail: String::new(),
                stderr_tail: String::new(),
            }
        }
    };
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    let out = Arc::new(Mutex::new(Ring::default()));
    let err = Arc::new(Mutex::new(Ring::default()));
    let mut readers = Vec::new();
    if let Some(s) = child.stdout.take() {
        readers.push(tokio::spawn(pump(s, out.clone())));
    }
    if let Some(s) = child.stderr.take() {
        readers.push(tokio::spawn(pump(s, err.clone())));
    }
    let exit = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(st)) => {
            use std::os::unix::process::ExitStatusExt;
            match (st.code(), st.signal()) {
                (Some(c), _) => Exit::Code(c),
                (None, Some(s)) => Exit::Signal(s),
                _ => Exit::Code(-1),
            }
        }
        Ok(Err(e)) => Exit::SpawnFailed(e.to_string()),
        Err(_) => {
            kill_group(pgid);
            let _ = child.wait().await;
            Exit::TimedOut
        }
    };
    let elapsed = start.elapsed();
    if exit == Exit::TimedOut {
        // Everything in the group is dead: the pipes close now.
        kill_group(pgid);
    }
    let drain = async {
        for r in readers.iter_mut() {
            let _ = r.await;
        }
    };
    if tokio::time::timeout(DRAIN, drain).await.is_err() {
        for r in &readers {
            r.abort();
        }
    }
    let take = |ring: &Arc<Mutex<Ring>>| {
        let mut g = ring.lock().unwrap_or_else(|p| p.into_inner());
        let raw = std::mem::take(&mut g.buf);
        tail(&raw, g.truncated, redactor)
    };
    Outcome {
        command: redactor.redact(cmd),
        exit,
        elapsed,
        stdout_tail: take(&out),
        stderr_tail: take(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_redacts_before_cutting() {
        let r = Redactor::new(vec!["hunter2-secret".into()]);
        let mut raw = Vec::new();
        for i in 0..50 {
            raw.extend_from_slice(format!("line {i} hunter2-secret\n").as_bytes());
        }
        let t = tail(&raw, false, &r);
        assert_eq!(t.lines().count(), TAIL_LINES);
        assert!(!t.contains("hunter2"));
        assert!(t.ends_with("line 49 ***"));
        // a truncated buffer starting mid-secret drops that partial line
        let t = tail(b"2-secret tail\nnext hunter2-secret\n", true, &r);
        assert_eq!(t, "next ***");
    }
}
