//! `git` mode: the added lines of `git log -p -U0`, parsed as gitleaks'
//! go-gitdiff does, scanned on worker threads while git streams.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use super::config::Config;
use super::detect::{CommitInfo, Detector, Finding, Fragment, Platform, Remote};
use super::{Error, ScanOptions, ScanOutcome};

struct Hunk {
    commit: Option<Arc<CommitInfo>>,
    path: Arc<str>,
    start_line: usize,
    raw: Vec<u8>,
}

/// Undoes git's C-style quoting of unusual path names.
fn unquote(s: &[u8]) -> Vec<u8> {
    if s.len() < 2 || s[0] != b'"' || s[s.len() - 1] != b'"' {
        return s.to_vec();
    }
    let s = &s[1..s.len() - 1];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            let c = s[i + 1];
            match c {
                b'0'..=b'7' if i + 3 < s.len() + 1 => {
                    let oct = &s[i + 1..(i + 4).min(s.len())];
                    let v = std::str::from_utf8(oct)
                        .ok()
                        .and_then(|o| u8::from_str_radix(o, 8).ok())
                        .unwrap_or(b'?');
                    out.push(v);
                    i += 4;
                    continue;
                }
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn strip_prefix_path(s: &[u8], prefix: &[u8]) -> String {
    let u = unquote(s);
    let p = u.strip_prefix(prefix).unwrap_or(&u);
    String::from_utf8_lossy(p).into_owned()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Thu Dec 3 16:35:00 2026 +0100` -> `2026-12-03T15:35:00Z` (RFC 3339, UTC).
pub fn git_date_to_rfc3339(s: &str) -> String {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 6 {
        return String::new();
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(mon) = MONTHS.iter().position(|m| *m == parts[1]) else {
        return String::new();
    };
    let day: i64 = parts[2].parse().unwrap_or(1);
    let hms: Vec<i64> = parts[3]
        .split(':')
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let year: i64 = parts[4].parse().unwrap_or(1970);
    let tz = parts[5];
    let sign = if tz.starts_with('-') { -1 } else { 1 };
    let tzd = tz.trim_start_matches(['+', '-']);
    let (th, tm) = if tzd.len() >= 4 {
        (
            tzd[..2].parse::<i64>().unwrap_or(0),
            tzd[2..4].parse::<i64>().unwrap_or(0),
        )
    } else {
        (0, 0)
    };
    let local = days_from_civil(year, mon as i64 + 1, day) * 86_400
        + hms.first().copied().unwrap_or(0) * 3600
        + hms.get(1).copied().unwrap_or(0) * 60
        + hms.get(2).copied().unwrap_or(0);
    let utc = local - sign * (th * 3600 + tm * 60);
    let (y, m, d) = civil_from_days(utc.div_euclid(86_400));
    let secs = utc.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// go-gitdiff's title/body split of an indented commit message.
fn message_from(lines: &[String]) -> String {
    let mut i = 0;
    let mut title = String::new();
    let mut indent = String::new();
    let mut first = true;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        let t = line.trim();
        if t.is_empty() {
            break;
        }
        if first {
            let start = line.find(|c: char| !c.is_whitespace()).unwrap_or(0);
            indent = line[..start].to_string();
            first = false;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(t);
    }
    if title.is_empty() {
        return title;
    }
    let mut body = String::new();
    let mut empty = 0;
    for line in &lines[i..] {
        let l = line.trim_end();
        let l = l.strip_prefix(indent.as_str()).unwrap_or(l);
        if l.is_empty() {
            empty += 1;
            continue;
        }
        if !body.is_empty() {
            body.push('\n');
            if empty > 0 {
                body.push('\n');
            }
        }
        empty = 0;
        body.push_str(l);
    }
    if body.is_empty() {
        title
    } else {
        format!("{title}\n\n{body}")
    }
}

fn parse_identity(s: &str) -> (String, String) {
    match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if b > a => (s[..a].trim().to_string(), s[a + 1..b].trim().to_string()),
        _ => (s.trim().to_string(), String::new()),
    }
}

/// Line reader over git's output; `BufRead::read_until` searches with a
/// scalar loop, and patches are hundreds of MB of short lines.
struct Lines<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Lines<R> {
    fn new(src: R) -> Self {
        Lines {
            src,
            buf: vec![0; 1 << 18],
            pos: 0,
            end: 0,
            eof: false,
        }
    }

    /// Next line including its `\n` into `out`; false at end of input.
    fn read_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        out.clear();
        loop {
            if self.pos < self.end {
                let avail = &self.buf[self.pos..self.end];
                if let Some(i) = memchr::memchr(b'\n', avail) {
                    out.extend_from_slice(&avail[..=i]);
                    self.pos += i + 1;
                    return Ok(true);
                }
                out.extend_from_slice(avail);
                self.pos = self.end;
            }
            if self.eof {
                return Ok(!out.is_empty());
            }
            match self.src.read(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Streams a `git log -p` / `git diff` patch and hands hunks to `sink`.
fn parse_patch<R: Read>(
    src: R,
    remote: Option<Remote>,
    files: &mut u64,
    mut sink: impl FnMut(Hunk),
) -> std::io::Result<()> {
    let mut rd = Lines::new(src);
    let mut line: Vec<u8> = Vec::new();
    let mut commit: Option<Arc<CommitInfo>> = None;
    let mut path: Option<Arc<str>> = None;
    let mut skip_file = false;
    let next = |rd: &mut Lines<R>, line: &mut Vec<u8>| rd.read_line(line);
    let mut have = next(&mut rd, &mut line)?;
    while have {
        if let Some(rest) = line.strip_prefix(b"commit ") {
            let rest = String::from_utf8_lossy(rest);
            let sha = rest.split_whitespace().next().unwrap_or("").to_string();
            let mut info = CommitInfo {
                sha,
                remote: remote.clone(),
                ..Default::default()
            };
            // header fields until the blank line
            loop {
                have = next(&mut rd, &mut line)?;
                if !have {
                    break;
                }
                let l = String::from_utf8_lossy(&line);
                let l = l.trim_end_matches(['\n', '\r']);
                if l.trim().is_empty() {
                    break;
                }
                if let Some(a) = l.strip_prefix("Author:") {
                    (info.author, info.email) = parse_identity(a);
                } else if let Some(d) = l.strip_prefix("AuthorDate:") {
                    info.date = git_date_to_rfc3339(d.trim());
                } else if let Some(d) = l.strip_prefix("Date:") {
                    info.date = git_date_to_rfc3339(d.trim());
                }
            }
            let mut msg = Vec::new();
            loop {
                have = next(&mut rd, &mut line)?;
                if !have || line.starts_with(b"diff --git ") || line.starts_with(b"commit ") {
                    break;
                }
                let l = String::from_utf8_lossy(&line);
                msg.push(l.trim_end_matches(['\n', '\r']).to_string());
            }
            info.message = message_from(&msg);
            commit = Some(Arc::new(info));
            path = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix(b"diff --git ") {
            *files += 1;
            let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
            // Best guess until `+++`/`rename to` says otherwise.
            let guess = match rest.windows(3).rposition(|w| w == b" b/") {
                Some(p) => strip_prefix_path(&rest[p + 1..], b"b/"),
                None => String::from_utf8_lossy(rest).into_owned(),
            };
            path = Some(Arc::from(guess.as_str()));
            skip_file = false;
            have = next(&mut rd, &mut line)?;
            continue;
        }
        if line.starts_with(b"deleted file mode") {
            skip_file = true;
        } else if let Some(r) = line
            .strip_prefix(b"rename to ")
            .or(line.strip_prefix(b"copy to "))
        {
            let r = r.strip_suffix(b"\n").unwrap_or(r);
            path = Some(Arc::from(strip_prefix_path(r, b"").as_str()));
        } else if let Some(r) = line.strip_prefix(b"+++ ") {
            let r = r.strip_suffix(b"\n").unwrap_or(r);
            let r = r.strip_suffix(b"\t").unwrap_or(r);
            if r == b"/dev/null" {
                skip_file = true;
            } else {
                path = Some(Arc::from(strip_prefix_path(r, b"b/").as_str()));
            }
        } else if line.starts_with(b"Binary files ") || line.starts_with(b"GIT binary patch") {
            // Binary blobs are only read when their name says archive, and an
            // archive is then skipped at depth 0: nothing is scanned.
            skip_file = true;
        } else if line.starts_with(b"@@ ") {
            let hdr = String::from_utf8_lossy(&line).into_owned();
            let mut it = hdr.split_whitespace().skip(1);
            let old = it.next().unwrap_or("-0");
            let new = it.next().unwrap_or("+0");
            let count = |s: &str| -> (usize, usize) {
                let s = &s[1..];
                match s.split_once(',') {
                    Some((a, b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
                    None => (s.parse().unwrap_or(0), 1),
                }
            };
            let (_, old_n) = count(old);
            let (new_pos, new_n) = count(new);
            let mut raw = Vec::new();
            let mut seen = 0;
            let mut last_add = false;
            loop {
                have = next(&mut rd, &mut line)?;
                if !have {
                    break;
                }
                match line.first() {
                    Some(b'+') if seen < old_n + new_n => {
                        raw.extend_from_slice(&line[1..]);
                        seen += 1;
                        last_add = true;
                    }
                    Some(b'-') | Some(b' ') if seen < old_n + new_n => {
                        seen += 1;
                        last_add = false;
                    }
                    Some(b'\\') => {
                        if last_add && raw.last() == Some(&b'\n') {
                            raw.pop();
                        }
                    }
                    _ => break,
                }
            }
            if !skip_file {
                if let Some(p) = &path {
                    sink(Hunk {
                        commit: commit.clone(),
                        path: p.clone(),
                        start_line: new_pos,
                        raw,
                    });
                }
            }
            continue;
        }
        have = next(&mut rd, &mut line)?;
    }
    Ok(())
}

/// `git ls-remote --get-url` turned into a link base, as gitleaks does.
fn remote_info(repo: &Path) -> Option<Remote> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["ls-remote", "--quiet", "--get-url"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if let Some(rest) = url.strip_prefix("git@") {
        if let Some((host, path)) = rest.split_once(':') {
            let path = path
                .split_once('/')
                .filter(|(port, _)| {
                    !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
                })
                .map(|(_, p)| p)
                .unwrap_or(path);
            url = format!("https://{host}/{}", path.trim_end_matches(".git"));
        }
    }
    let url = url.trim_end_matches(".git").to_string();
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port
        .split(':')
        .next()
        .unwrap_or(host_port)
        .to_lowercase();
    let platform = match host.as_str() {
        "github.com" => Platform::GitHub,
        "gitlab.com" => Platform::GitLab,
        "dev.azure.com" | "visualstudio.com" => Platform::AzureDevOps,
        "gitea.com" | "code.forgejo.org" | "codeberg.org" => Platform::Gitea,
        "bitbucket.org" => Platform::Bitbucket,
        _ => return None,
    };
    let url = if path.is_empty() {
        format!("{scheme}://{host_port}")
    } else {
        format!("{scheme}://{host_port}/{path}")
    };
    Some(Remote { platform, url })
}

/// A git command whose stdout is a patch, with what to feed its stdin.
struct PatchSource {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

fn run_patch(
    cfg: &Config,
    sources: Vec<PatchSource>,
    remote: Option<Remote>,
    opts: &ScanOptions,
) -> Result<ScanOutcome, Error> {
    let det = Detector::new(cfg, opts.max_decode_depth);
    // gitleaks skips fragments whose path is the config path as given.
    let cfg_path = cfg.path.as_ref().map(|p| p.to_string_lossy().into_owned());
    let cfg_path = cfg_path.as_deref();
    let threads = opts.threads.max(1);
    let (tx, rx) = mpsc::sync_channel::<Hunk>(256);
    let rx = Arc::new(Mutex::new(rx));
    let bytes = AtomicU64::new(0);
    let files = AtomicU64::new(0);
    let mut children = Vec::new();
    for mut src in sources {
        src.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if src.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = src
            .cmd
            .spawn()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        let stdin = child.stdin.take().zip(src.stdin);
        children.push((child, stdin));
    }
    let (results, findings) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let det = &det;
                s.spawn(move || {
                    let mut out: Vec<Finding> = Vec::new();
                    loop {
                        let h = match rx.lock().unwrap().recv() {
                            Ok(h) => h,
                            Err(_) => break,
                        };
                        if cfg_path == Some(&*h.path) {
                            continue;
                        }
                        let frag = Fragment {
                            raw: &h.raw,
                            file_path: &h.path,
                            symlink_file: "",
                            start_line: h.start_line,
                            commit: h.commit.as_deref(),
                        };
                        out.extend(det.detect(&frag));
                    }
                    out
                })
            })
            .collect();
        let parsers: Vec<_> = children
            .iter_mut()
            .map(|(child, stdin)| {
                let stdout = child.stdout.take().expect("piped");
                let mut stderr = child.stderr.take().expect("piped");
                let feed = stdin.take();
                let tx = tx.clone();
                let remote = remote.clone();
                let (bytes, files) = (&bytes, &files);
                s.spawn(move || {
                    let feeder = feed.map(|(mut pipe, data)| {
                        std::thread::spawn(move || {
                            use std::io::Write;
                            let _ = pipe.write_all(&data);
                        })
                    });
                    let err = std::thread::spawn(move || {
                        let mut s = String::new();
                        let _ = stderr.read_to_string(&mut s);
                        s
                    });
                    let mut nfiles = 0;
                    let res = parse_patch(stdout, remote, &mut nfiles, |h| {
                        bytes.fetch_add(h.raw.len() as u64, Ordering::Relaxed);
                        let _ = tx.send(h);
                    });
                    files.fetch_add(nfiles, Ordering::Relaxed);
                    if let Some(f) = feeder {
                        let _ = f.join();
                    }
                    (res, err.join().unwrap_or_default())
                })
            })
            .collect();
        drop(tx);
        let results: Vec<_> = parsers
            .into_iter()
            .map(|p| p.join().expect("parser panicked"))
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().expect("worker panicked"));
        }
        (results, all)
    });
    for ((mut child, _), (res, err)) in children.into_iter().zip(results) {
        let status = child.wait().map_err(|e| Error::Git(e.to_string()))?;
        res.map_err(|e| Error::Git(format!("reading git output: {e}")))?;
        if !status.success() {
            return Err(Error::Git(format!("{} ({})", err.trim(), status)));
        }
    }
    let mut findings = findings;
    super::sort_findings(&mut findings);
    Ok(ScanOutcome {
        findings,
        files_scanned: files.into_inner(),
        bytes_scanned: bytes.into_inner(),
        skipped_binary: 0,
        skipped_large: 0,
        skipped_unreadable: 0,
    })
}

fn git_cmd(repo: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo);
    cmd
}

pub(crate) fn scan_git(
    cfg: &Config,
    repo: &Path,
    log_opts: Option<&str>,
    opts: &ScanOptions,
) -> Result<ScanOutcome, Error> {
    let lo = log_opts.map(str::trim).unwrap_or("");
    if lo == "none" {
        return Ok(ScanOutcome::default());
    }
    let remote = remote_info(repo);
    if !lo.is_empty() && lo != "all" {
        let mut cmd = git_cmd(repo);
        // gitleaks splits on single spaces, quotes and all.
        cmd.args(["log", "-p", "-U0"]).args(lo.split(' '));
        return run_patch(cfg, vec![PatchSource { cmd, stdin: None }], remote, opts);
    }
    // The default walk is one `git log`, which is single-threaded and the
    // larger half of the work. The same commits' patches come out of
    // `--no-walk` logs fed with shards of `rev-list`, one per core; merges
    // still show no diff and every commit is shown once.
    let out = git_cmd(repo)
        .args(["rev-list", "--full-history", "--all"])
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::Git(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let shas: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let shards = opts.threads.clamp(1, 4).min(shas.len().max(1));
    let mut sources = Vec::new();
    for k in 0..shards {
        let mut input = Vec::new();
        for sha in shas.iter().skip(k).step_by(shards) {
            input.extend_from_slice(sha);
            input.push(b'\n');
        }
        let mut cmd = git_cmd(repo);
        cmd.args([
            "log",
            "-p",
            "-U0",
            "--full-history",
            "--diff-filter=tuxdb",
            "--no-walk=unsorted",
            "--stdin",
        ]);
        sources.push(PatchSource {
            cmd,
            stdin: Some(input),
        });
    }
    if shas.is_empty() {
        return Ok(ScanOutcome::default());
    }
    run_patch(cfg, sources, remote, opts)
}

pub(crate) fn scan_staged(
    cfg: &Config,
    repo: &Path,
    opts: &ScanOptions,
) -> Result<ScanOutcome, Error> {
    let mut cmd = git_cmd(repo);
    cmd.args(["diff", "-U0", "--no-ext-diff", "--staged", "."]);
    run_patch(cfg, vec![PatchSource { cmd, stdin: None }], None, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            git_date_to_rfc3339("Thu Dec 3 16:35:00 2026 +0100"),
            "2026-12-03T15:35:00Z"
        );
        assert_eq!(
            git_date_to_rfc3339("Fri Jan 1 00:10:00 2021 +0200"),
            "2020-12-31T22:10:00Z"
        );
    }

    #[test]
    fn messages() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(message_from(&l(&["    title", ""])), "title");
        assert_eq!(
            message_from(&l(&[
                "    a",
                "    b",
                "",
                "    body1",
                "",
                "",
                "    body2",
                ""
            ])),
            "a b\n\nbody1\n\nbody2"
        );
    }

    #[test]
    fn parses_hunks() {
        let patch = "commit abc123\nAuthor: A B <a@b.c>\nDate:   Thu Dec 3 16:35:00 2026 +0000\n\n    msg\n\ndiff --git a/x.txt b/x.txt\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\ndiff --git a/y b/y\ndeleted file mode 100644\n--- a/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n";
        let mut hunks = Vec::new();
        let mut files = 0;
        parse_patch(patch.as_bytes(), None, &mut files, |h| hunks.push(h)).unwrap();
        assert_eq!(files, 2);
        assert_eq!(hunks.len(), 1);
        assert_eq!(&*hunks[0].path, "x.txt");
        assert_eq!(hunks[0].raw, b"one\ntwo");
        assert_eq!(hunks[0].start_line, 1);
        let c = hunks[0].commit.as_ref().unwrap();
        assert_eq!(
            (c.author.as_str(), c.email.as_str(), c.message.as_str()),
            ("A B", "a@b.c", "msg")
        );
    }
}
