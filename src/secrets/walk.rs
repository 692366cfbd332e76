//! `dir` mode: walking a tree, gitleaks' chunking and binary detection.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::config::Config;
use super::detect::{Detector, Finding, Fragment};
use super::{Error, ScanOptions, ScanOutcome};

/// gitleaks reads files 100 KB at a time ...
const CHUNK: usize = 100_000;
/// ... then keeps reading up to 25 KB more, looking for a blank line.
const MAX_PEEK: usize = 25_000;
/// Go's `bufio.NewReader` default size, which shapes the chunk after a peek.
const BUFIO: usize = 4096;

/// Go's `path.Clean`.
pub fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Whether mholt/archives would identify the file as an archive by its name
/// alone (it checks whether the base name *contains* an extension), which
/// makes gitleaks skip it at the default archive depth of 0.
pub fn archive_by_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path).to_lowercase();
    const EXTS: [&str; 14] = [
        ".br", ".bz2", ".gz", ".lz4", ".lz", ".mz", ".sz", ".xz", ".zz", ".zst", ".tar", ".zip",
        ".rar", ".7z",
    ];
    EXTS.iter().any(|e| base.contains(e))
}

/// h2non/filetype: is the buffer's type one of the `application/*` ones?
pub fn is_application(b: &[u8]) -> bool {
    let n = b.len();
    let pre = |s: &[u8]| b.starts_with(s);
    let at = |i: usize, s: &[u8]| n >= i + s.len() && &b[i..i + s.len()] == s;
    // fonts
    (n > 7 && (pre(b"wOFF\x00\x01\x00\x00") || pre(b"wOF2\x00\x01\x00\x00")))
        || (n > 4 && (pre(b"\x00\x01\x00\x00\x00") || pre(b"OTTO\x00")))
        // documents (OLE2)
        || ole_document(b)
        // archives and executables
        || (n > 3 && b[0] == 0x50 && b[1] == 0x4B && matches!(b[2], 3 | 5 | 7) && matches!(b[3], 4 | 6 | 8))
        || (n > 261 && &b[257..262] == b"ustar")
        || (n > 6 && pre(b"Rar!\x1a\x07") && (b[6] == 0 || b[6] == 1))
        || (n > 2 && pre(b"\x1f\x8b\x08"))
        || (n > 2 && pre(b"BZh"))
        || (n > 5 && pre(b"7z\xbc\xaf\x27\x1c"))
        || (n > 5 && pre(b"\xfd7zXZ\x00"))
        || zstd(b)
        || (n > 3 && pre(b"%PDF"))
        || (n > 1 && pre(b"MZ"))
        || (n > 2 && (b[0] == b'C' || b[0] == b'F') && &b[1..3] == b"WS")
        || (n > 4 && pre(b"{\\rtf"))
        || (n > 35 && b[34] == 0x4C && b[35] == 0x50
            && ((b[8] == 2 && b[9] == 0 && b[10] == 1) || (b[8] == 1 && b[9] == 0 && b[10] == 0) || (b[8] == 2 && b[9] == 0 && b[10] == 2)))
        || (n > 1 && pre(b"%!"))
        || (n > 3 && pre(b"SQLi"))
        || (n > 3 && pre(b"NES\x1a"))
        || (n > 3 && pre(b"Cr24"))
        || (n > 3 && (pre(b"MSCF") || pre(b"ISc(")))
        || (n > 6 && pre(b"!<arch>"))
        || (n > 1 && (pre(b"\x1f\xa0") || pre(b"\x1f\x9d")))
        || (n > 3 && pre(b"LZIP"))
        || (n > 96 && pre(b"\xed\xab\xee\xdb"))
        || (n > 52 && pre(b"\x7fELF"))
        || (n > 131 && at(128, b"DICM"))
        || (n > 32773 && at(32769, b"CD001"))
        || (n > 3 && (pre(b"\xfe\xed\xfa\xcf") || pre(b"\xfe\xed\xfa\xce") || pre(b"\xcf\xfa\xed\xfe") || pre(b"\xce\xfa\xed\xfe") || pre(b"\xca\xfe\xba\xbe")))
        // application
        || (n >= 8 && pre(b"\x00asm\x01\x00\x00\x00"))
        || (n > 36 && pre(b"dex\n") && b[36] == 0x70)
        || (n > 100 && pre(b"dey\n") && at(40, b"dex\n"))
}

fn ole_document(b: &[u8]) -> bool {
    if !b.starts_with(b"\xd0\xcf\x11\xe0") {
        return false;
    }
    if b.len() > 513 {
        matches!(
            (b[512], b[513]),
            (0xEC, 0xA5) | (0x09, 0x08) | (0xFD, 0xFF) | (0xA0, 0x46)
        )
    } else {
        true
    }
}

fn zstd(b: &[u8]) -> bool {
    if b.len() > 3 && b.starts_with(b"\x28\xb5\x2f\xfd") {
        return true;
    }
    if b.len() >= 8 {
        let m = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if m & 0xFFFF_FFF0 == 0x184D_2A50 {
            let sz = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
            return b.len() > 8 + sz && zstd(&b[8 + sz..]);
        }
    }
    false
}

/// Reproduces how gitleaks' `bufio.Reader` + `readUntilSafeBoundary` cut a
/// stream into fragments.
pub struct Chunker<R: Read> {
    src: R,
    buf: Vec<u8>,
    r: usize,
    w: usize,
    eof: bool,
}

fn read_full<R: Read>(src: &mut R, out: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < out.len() {
        match src.read(&mut out[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Chunker<R> {
    pub fn new(src: R) -> Self {
        Chunker {
            src,
            buf: vec![0; BUFIO],
            r: 0,
            w: 0,
            eof: false,
        }
    }

    fn read_byte(&mut self) -> std::io::Result<Option<u8>> {
        if self.r == self.w {
            if self.eof {
                return Ok(None);
            }
            let n = read_full(&mut self.src, &mut self.buf)?;
            self.r = 0;
            self.w = n;
            if n == 0 {
                self.eof = true;
                return Ok(None);
            }
        }
        let c = self.buf[self.r];
        self.r += 1;
        Ok(Some(c))
    }

    /// Reads the next fragment into `buf[..len]` and returns `(len, n)`,
    /// `n` being the size of the plain read (before the boundary extension),
    /// which is what gitleaks type-checks; `None` at end of input. `buf` is
    /// kept at full size so it is zeroed only once.
    pub fn next_chunk(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Option<(usize, usize)>> {
        if buf.len() < CHUNK + MAX_PEEK {
            buf.resize(CHUNK + MAX_PEEK, 0);
        }
        let n = if self.r == self.w {
            read_full(&mut self.src, &mut buf[..CHUNK])?
        } else {
            let n = (self.w - self.r).min(CHUNK);
            buf[..n].copy_from_slice(&self.buf[self.r..self.r + n]);
            self.r += n;
            n
        };
        if n == 0 {
            return Ok(None);
        }
        let mut len = n;
        let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
        if ws(buf[len - 1]) {
            let mut count = 0;
            for &c in buf[..len].iter().rev() {
                if c == b'\n' {
                    count += 1;
                    if count >= 2 {
                        return Ok(Some((len, n)));
                    }
                } else if !ws(c) {
                    break;
                }
            }
        }
        let mut count = 0;
        loop {
            let last = buf[len - 1];
            if last == b'\n' {
                count += 1;
                if count >= 2 {
                    break;
                }
            } else if !ws(last) {
                count = 0;
            }
            if len - n >= MAX_PEEK {
                break;
            }
            match self.read_byte()? {
                Some(c) => {
                    buf[len] = c;
                    len += 1;
                }
                None => break,
            }
        }
        Ok(Some((len, n)))
    }
}

/// Outcome of scanning one file.
pub(crate) enum FileResult {
    Scanned { bytes: u64 },
    Binary,
}

/// Scans a stream as gitleaks' `File` source does.
pub(crate) fn scan_reader<R: Read>(
    det: &Detector,
    src: R,
    path: &str,
    symlink: &str,
    by_name: bool,
    out: &mut Vec<Finding>,
) -> std::io::Result<FileResult> {
    if by_name && archive_by_name(path) {
        return Ok(FileResult::Binary);
    }
    let mut ch = Chunker::new(src);
    let mut total_lines = 0usize;
    let mut bytes = 0u64;
    BUF.with_borrow_mut(|buf| {
        while let Some((len, first_n)) = ch.next_chunk(buf)? {
            let buf = &buf[..len];
            if total_lines == 0 && is_application(&buf[..first_n]) {
                if bytes == 0 {
                    return Ok(FileResult::Binary);
                }
                // A later chunk of a file without newlines so far: gitleaks stops.
                break;
            }
            let start_line = total_lines + 1;
            total_lines += memchr::memchr_iter(b'\n', buf).count();
            bytes += buf.len() as u64;
            let frag = Fragment {
                raw: buf,
                file_path: path,
                symlink_file: symlink,
                start_line,
                commit: None,
            };
            out.extend(det.detect(&frag));
        }
        Ok(FileResult::Scanned { bytes })
    })
}

thread_local! {
    /// One chunk buffer per thread, reused across files.
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn path_skipped(cfg: &Config, p: &str) -> bool {
    cfg.allowlists.iter().any(|a| a.path_allowed(p))
}

pub(crate) fn scan_dir(
    cfg: &Config,
    root: &Path,
    opts: &ScanOptions,
) -> Result<ScanOutcome, Error> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Io {
        path: root.display().to_string(),
        source: e,
    })?;
    let det = Detector::new(cfg, opts.max_decode_depth);
    let root_str = root.to_string_lossy().into_owned();
    let cfg_path = cfg.path.as_ref().map(|p| p.to_string_lossy().into_owned());
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let bin = AtomicU64::new(0);
    let large = AtomicU64::new(0);
    let all = Mutex::new(Vec::new());
    let unreadable = AtomicU64::new(0);

    let scan_file = |path: &str, size: u64, out: &mut Vec<Finding>| {
        if size == 0 {
            return;
        }
        if opts.max_file_size.is_some_and(|m| size > m) {
            large.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if path_skipped(cfg, path) || cfg_path.as_deref() == Some(path) {
            return;
        }
        let f = match File::open(path) {
            Ok(f) => f,
            Err(_) => {
                unreadable.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        match scan_reader(&det, f, path, "", true, out) {
            Ok(FileResult::Scanned { bytes: b }) => {
                files.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(b, Ordering::Relaxed);
            }
            Ok(FileResult::Binary) => {
                bin.fetch_add(1, Ordering::Relaxed);
            }
            // Like gitleaks: one unreadable file does not stop the scan.
            Err(_) => {
                unreadable.fetch_add(1, Ordering::Relaxed);
            }
        }
    };

    if meta.is_file() {
        let mut out = Vec::new();
        scan_file(&root_str, meta.len(), &mut out);
        all.lock().unwrap().extend(out);
    } else {
        let mut wb = ignore::WalkBuilder::new(root);
        wb.standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .threads(opts.threads.max(1));
        if opts.respect_gitignore {
            wb.git_ignore(true)
                .git_exclude(true)
                .git_global(true)
                .parents(true);
        }
        let walker = wb.build_parallel();
        walker.run(|| {
            let mut sink = Sink {
                local: Vec::new(),
                all: &all,
            };
            let scan_file = &scan_file;
            let root_str = &root_str;
            Box::new(move |ent| {
                let Ok(ent) = ent else {
                    return ignore::WalkState::Continue;
                };
                let Some(ft) = ent.file_type() else {
                    return ignore::WalkState::Continue;
                };
                let p = if ent.depth() == 0 {
                    root_str.clone()
                } else {
                    go_clean(&ent.path().to_string_lossy())
                };
                if ft.is_dir() {
                    if path_skipped(cfg, &p) {
                        return ignore::WalkState::Skip;
                    }
                    return ignore::WalkState::Continue;
                }
                if !ft.is_file() {
                    return ignore::WalkState::Continue;
                }
                let size = ent.metadata().map(|m| m.len()).unwrap_or(0);
                scan_file(&p, size, &mut sink.local);
                ignore::WalkState::Continue
            })
        });
    }
    let mut findings = all.into_inner().unwrap();
    super::sort_findings(&mut findings);
    Ok(ScanOutcome {
        findings,
        files_scanned: files.into_inner(),
        bytes_scanned: bytes.into_inner(),
        skipped_binary: bin.into_inner(),
        skipped_large: large.into_inner(),
        skipped_unreadable: unreadable.into_inner(),
    })
}

/// Per-thread findings, handed over when the walker drops the visitor.
struct Sink<'a> {
    local: Vec<Finding>,
    all: &'a Mutex<Vec<Finding>>,
}

impl Drop for Sink<'_> {
    fn drop(&mut self) {
        if !self.local.is_empty() {
            self.all.lock().unwrap().append(&mut self.local);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        assert_eq!(go_clean("./a/b"), "a/b");
        assert_eq!(go_clean("/tmp//x/"), "/tmp/x");
        assert_eq!(go_clean("a/../b"), "b");
        assert_eq!(go_clean("."), ".");
    }

    #[test]
    fn archive_names() {
        assert!(archive_by_name("x/lib.browser.js"));
        assert!(archive_by_name("a.tar.gz"));
        assert!(!archive_by_name("dir.gz/readme.md"));
        assert!(!archive_by_name("main.rs"));
    }

    #[test]
    fn binary_types() {
        assert!(is_application(b"MZ\x90\x00"));
        assert!(is_application(b"%PDF-1.4"));
        assert!(!is_application(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_application(b"hello world"));
    }

    fn chunks(data: &[u8]) -> Vec<usize> {
        let mut c = Chunker::new(data);
        let mut buf = Vec::new();
        let mut v = Vec::new();
        while let Some((len, _)) = c.next_chunk(&mut buf).unwrap() {
            v.push(len);
        }
        v
    }

    #[test]
    fn chunking_extends_to_blank_line() {
        let mut d = vec![b'a'; CHUNK - 1];
        d.extend_from_slice(b"\nxyz\n\nrest\n");
        let c = chunks(&d);
        assert_eq!(c[0], CHUNK - 1 + 6);
        assert_eq!(c.iter().sum::<usize>(), d.len());
        // A long line without blank lines stops at the peek limit, and the
        // next fragment is what bufio still holds.
        let d = vec![b'z'; 300_000];
        let c = chunks(&d);
        assert_eq!(c[0], CHUNK + MAX_PEEK);
        // bufio filled 4096 bytes at a time while peeking; what it still
        // holds is the next plain read, then that chunk is extended too.
        let held = BUFIO - MAX_PEEK % BUFIO;
        assert_eq!(c[1], held + MAX_PEEK);
        assert_eq!(c.iter().sum::<usize>(), d.len());
    }
}
