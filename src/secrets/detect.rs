//! Per-fragment detection, replicating gitleaks 8.30's `Detect`/`detectRule`.

use std::borrow::Cow;

use super::config::{Allowlist, Condition, Config, RegexTarget, Rule};
use std::rc::Rc;

use super::decode::{self, Decoder, Segment};

const ALLOW_SIGNATURE: &[u8] = b"gitleaks:allow";

/// Commit metadata attached to fragments of git history.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    pub email: String,
    pub date: String,
    pub message: String,
    /// `https://host/owner/repo` of a known platform, for finding links.
    pub remote: Option<Remote>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    GitHub,
    GitLab,
    AzureDevOps,
    Gitea,
    Bitbucket,
}

#[derive(Debug, Clone)]
pub struct Remote {
    pub platform: Platform,
    pub url: String,
}

/// A piece of content to scan: a file chunk, a diff hunk, a blob.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    pub raw: &'a [u8],
    pub file_path: &'a str,
    pub symlink_file: &'a str,
    /// 1-based line number of the fragment's first line.
    pub start_line: usize,
    pub commit: Option<&'a CommitInfo>,
}

/// One finding, with every field of gitleaks' report.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub description: String,
    pub start_line: usize,
    pub end_line: usize,
    pub start_column: usize,
    pub end_column: usize,
    /// True 1-based byte columns (`start_column`/`end_column` repeat
    /// gitleaks' off-by-one after a fragment's first line); for SARIF and
    /// human reports, which must point at the right character.
    pub start_column_exact: usize,
    pub end_column_exact: usize,
    /// The line(s) around the match as gitleaks slices them (not reported).
    pub line: String,
    pub matched: String,
    pub secret: String,
    pub file: String,
    pub symlink_file: String,
    pub commit: String,
    pub link: String,
    pub entropy: f32,
    pub author: String,
    pub email: String,
    pub date: String,
    pub message: String,
    pub tags: Vec<String>,
    pub fingerprint: String,
}

impl Finding {
    /// gitleaks' `Redact(100)`: the secret becomes `REDACTED` everywhere.
    pub fn redact(&mut self) {
        self.line = go_replace_all(&self.line, &self.secret, "REDACTED");
        self.matched = go_replace_all(&self.matched, &self.secret, "REDACTED");
        self.secret = "REDACTED".to_string();
    }

    /// `file:rule:line`, or `commit:file:rule:line` in git mode.
    pub fn compute_fingerprint(&mut self) {
        self.fingerprint = if self.commit.is_empty() {
            format!("{}:{}:{}", self.file, self.rule_id, self.start_line)
        } else {
            format!(
                "{}:{}:{}:{}",
                self.commit, self.file, self.rule_id, self.start_line
            )
        };
    }

    pub fn global_fingerprint(&self) -> String {
        format!("{}:{}:{}", self.file, self.rule_id, self.start_line)
    }
}

/// Internal finding: byte strings until the fragment's dedup is done.
struct Raw {
    rule: usize,
    start_line: usize,
    end_line: usize,
    start_column: usize,
    end_column: usize,
    exact: (usize, usize),
    line: Vec<u8>,
    matched: Vec<u8>,
    secret: Vec<u8>,
    entropy: f32,
    tags: Vec<String>,
}

/// Go's `strings.ReplaceAll`: an empty `old` inserts `new` around every rune.
pub fn go_replace_all(s: &str, old: &str, new: &str) -> String {
    if !old.is_empty() {
        return s.replace(old, new);
    }
    let mut out = String::with_capacity(s.len() * (new.len() + 1) + new.len());
    out.push_str(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `strings.ToLower`: invalid UTF-8 becomes U+FFFD, one rune at a time.
pub fn go_to_lower(s: &[u8]) -> Cow<'_, [u8]> {
    if s.is_ascii() {
        if !s.iter().any(|b| b.is_ascii_uppercase()) {
            return Cow::Borrowed(s);
        }
        return Cow::Owned(s.to_ascii_lowercase());
    }
    let mut out = String::with_capacity(s.len());
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(a), None) => out.push(a),
                _ if c == '\u{130}' => out.push('i'),
                _ => out.push(c),
            }
        }
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    Cow::Owned(out.into_bytes())
}

/// Shannon entropy as gitleaks computes it: rune frequencies over byte length.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts: Vec<(char, usize)> = Vec::new();
    let mut ascii = [0usize; 128];
    let mut bump = |c: char, counts: &mut Vec<(char, usize)>| {
        if (c as u32) < 128 {
            ascii[c as usize] += 1;
        } else if let Some(e) = counts.iter_mut().find(|e| e.0 == c) {
            e.1 += 1;
        } else {
            counts.push((c, 1));
        }
    };
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            bump(c, &mut counts);
        }
        for _ in chunk.invalid() {
            bump('\u{FFFD}', &mut counts);
        }
    }
    let inv = 1.0 / data.len() as f64;
    let mut e = 0.0;
    for &n in ascii
        .iter()
        .filter(|&&n| n > 0)
        .chain(counts.iter().map(|(_, n)| n))
    {
        let f = n as f64 * inv;
        e -= f * f.log2();
    }
    e
}

#[derive(Debug, Default, Clone, Copy)]
struct Loc {
    start_line: usize,
    end_line: usize,
    start_column: usize,
    end_column: usize,
    start_line_index: usize,
    end_line_index: usize,
}

/// gitleaks' `location()`, quirks included (columns after the first line are
/// counted from the preceding newline, so they are one higher).
fn location(newlines: &[usize], raw: &[u8], start: usize, end: usize) -> Loc {
    let sentinel = [raw.len()];
    let nl: &[usize] = if newlines.is_empty() {
        &sentinel
    } else {
        newlines
    };
    let n = nl.len();
    let prev = |k: usize| if k == 0 { 0 } else { nl[k - 1] };
    let mut loc = Loc::default();
    let ks = nl.partition_point(|&x| x <= start);
    let ks = (ks < n && prev(ks) <= start && start < nl[ks]).then_some(ks);
    let ke = nl.partition_point(|&x| x < end);
    let ke = (ke < n && prev(ke) < end && end <= nl[ke]).then_some(ke);
    let apply_start = |loc: &mut Loc, k: usize| {
        loc.start_line = k;
        loc.end_line = k;
        loc.start_column = start - prev(k) + 1;
        loc.start_line_index = prev(k);
        loc.end_line_index = nl[k];
    };
    let apply_end = |loc: &mut Loc, k: usize| {
        loc.end_line = k;
        loc.end_column = end - prev(k);
        loc.end_line_index = nl[k];
    };
    match (ks, ke) {
        (Some(s), Some(e)) if e < s => {
            apply_end(&mut loc, e);
            apply_start(&mut loc, s);
        }
        (s, e) => {
            if let Some(s) = s {
                apply_start(&mut loc, s);
            }
            if let Some(e) = e {
                apply_end(&mut loc, e);
            }
        }
    }
    if ks.is_none() {
        let last = nl[n - 1];
        loc.start_column = start - last + 1;
        loc.end_column = end.wrapping_sub(last);
        loc.start_line = n;
        loc.end_line = n;
        let mut i = 0;
        while end + i < raw.len() {
            let c = raw[end + i];
            if c == b'\n' || c == b'\r' {
                break;
            }
            i += 1;
        }
        loc.end_line_index = end + i;
    }
    loc
}

fn commit_or_path_allowed(frag: &Fragment, allowlists: &[Allowlist]) -> bool {
    let sha = frag.commit.map(|c| c.sha.as_str()).unwrap_or("");
    if frag.file_path.is_empty() && sha.is_empty() {
        return false;
    }
    for a in allowlists {
        let commit_ok = a.commit_allowed(sha);
        let path_ok = a.path_allowed(frag.file_path);
        let allowed = if a.condition == Condition::And {
            if a.has_regexes() || a.has_stopwords() {
                continue;
            }
            let mut checks = Vec::new();
            if a.n_commits > 0 {
                checks.push(commit_ok);
            }
            if a.n_paths > 0 {
                checks.push(path_ok);
            }
            checks.iter().all(|&b| b)
        } else {
            commit_ok || path_ok
        };
        if allowed {
            return true;
        }
    }
    false
}

fn finding_allowed(
    secret: &[u8],
    matched: &[u8],
    line: &[u8],
    frag: &Fragment,
    allowlists: &[Allowlist],
) -> bool {
    for a in allowlists {
        let target = match a.regex_target {
            RegexTarget::Secret => secret,
            RegexTarget::Match => matched,
            RegexTarget::Line => line,
        };
        let regex_ok = a.regex_allowed(target);
        let stop_ok = a.contains_stopword(secret);
        let allowed = if a.condition == Condition::And {
            let sha = frag.commit.map(|c| c.sha.as_str()).unwrap_or("");
            let mut all = true;
            if a.n_commits > 0 {
                all &= a.commit_allowed(sha);
            }
            if a.n_paths > 0 {
                all &= a.path_allowed(frag.file_path);
            }
            if a.has_regexes() {
                all &= regex_ok;
            }
            if a.has_stopwords() {
                all &= stop_ok;
            }
            all
        } else {
            regex_ok || stop_ok
        };
        if allowed {
            return true;
        }
    }
    false
}

/// Keyword occurrences in one pass's text.
struct Hits {
    /// Which keywords (by index into `cfg.keywords`) occur.
    present: Vec<bool>,
    /// Every occurrence `(keyword, start, end)`, when offsets refer to the
    /// text itself (not to a re-lowercased copy of different length).
    spans: Option<Vec<(u32, usize, usize)>>,
}

fn keyword_hits(cfg: &Config, text: &[u8], hits: &mut Hits) {
    hits.present.iter_mut().for_each(|h| *h = false);
    let mut spans = hits.spans.take().unwrap_or_default();
    spans.clear();
    let Some(ac) = &cfg.keyword_ac else {
        hits.spans = Some(spans);
        return;
    };
    // Go lowercases with Unicode tables, where two non-ASCII letters turn into
    // ASCII ones (KELVIN SIGN -> k, DOTTED CAPITAL I -> i).
    let non_ascii = !text.is_ascii();
    let needs_go_lower = non_ascii
        && (cfg.has_non_ascii_keyword
            || memchr::memmem::find(text, "\u{212A}".as_bytes()).is_some()
            || memchr::memmem::find(text, "\u{130}".as_bytes()).is_some());
    // RE2's `(?i)` also folds LONG S into `s`: a match may then hold a keyword
    // the prefilter cannot see, so windows are not safe in such a fragment.
    let long_s = non_ascii && memchr::memmem::find(text, "\u{17F}".as_bytes()).is_some();
    if needs_go_lower {
        let lowered = go_to_lower(text);
        for m in ac.find_overlapping_iter(&lowered[..]) {
            hits.present[m.pattern().as_usize()] = true;
        }
        hits.spans = None;
        return;
    }
    for m in ac.find_overlapping_iter(text) {
        let i = m.pattern().as_usize();
        hits.present[i] = true;
        spans.push((i as u32, m.start(), m.end()));
    }
    hits.spans = if long_s { None } else { Some(spans) };
}

/// Barrier-free runs around this rule's keyword hits (see `window.rs`).
fn windows(
    text: &[u8],
    barrier: &[bool; 256],
    kws: &[usize],
    spans: &[(u32, usize, usize)],
) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &(k, s, e) in spans {
        if !kws.contains(&(k as usize)) {
            continue;
        }
        if let Some(&(rs, re)) = runs.last() {
            if s >= rs && e <= re {
                continue;
            }
        }
        if text[s..e].iter().any(|&b| barrier[b as usize]) {
            continue;
        }
        let mut rs = s;
        while rs > 0 && !barrier[text[rs - 1] as usize] {
            rs -= 1;
        }
        let mut re = e;
        while re < text.len() && !barrier[text[re] as usize] {
            re += 1;
        }
        runs.push((rs, re));
    }
    runs.sort_unstable();
    runs.dedup();
    runs
}

pub struct Detector<'c> {
    pub cfg: &'c Config,
    pub max_decode_depth: u32,
    pub ignore_gitleaks_allow: bool,
}

impl<'c> Detector<'c> {
    pub fn new(cfg: &'c Config, max_decode_depth: u32) -> Self {
        Detector {
            cfg,
            max_decode_depth,
            ignore_gitleaks_allow: false,
        }
    }

    /// Scans one fragment; findings come back deduplicated, not redacted,
    /// without fingerprints.
    pub fn detect(&self, frag: &Fragment) -> Vec<Finding> {
        let cfg = self.cfg;
        if commit_or_path_allowed(frag, &cfg.allowlists) {
            return Vec::new();
        }
        let mut raws: Vec<Raw> = Vec::new();
        let mut newlines: Option<Vec<usize>> = None;
        let mut hits = Hits {
            present: vec![false; cfg.keywords.len()],
            spans: None,
        };
        let mut current: Cow<[u8]> = Cow::Borrowed(frag.raw);
        let mut segments: Rc<Vec<Segment>> = Rc::new(Vec::new());
        let mut decoder = Decoder::default();
        let mut depth = 0u32;
        loop {
            keyword_hits(cfg, &current, &mut hits);
            for (ri, rule) in cfg.rules.iter().enumerate() {
                let kws = &cfg.rule_keywords[ri];
                if kws.is_empty() || kws.iter().any(|&k| hits.present[k]) {
                    let spans = hits.spans.as_deref();
                    self.detect_rule(
                        frag,
                        &current,
                        ri,
                        rule,
                        &segments,
                        &mut newlines,
                        false,
                        spans,
                        &mut raws,
                    );
                }
            }
            depth += 1;
            if depth > self.max_decode_depth {
                break;
            }
            let (next, segs) = decoder.decode(&current, &segments);
            if segs.is_empty() {
                break;
            }
            current = Cow::Owned(next);
            segments = segs;
        }
        self.finish(frag, raws)
    }

    #[allow(clippy::too_many_arguments)]
    fn detect_rule(
        &self,
        frag: &Fragment,
        current: &[u8],
        ri: usize,
        rule: &Rule,
        segments: &[Segment],
        newlines: &mut Option<Vec<usize>>,
        inherited: bool,
        spans: Option<&[(u32, usize, usize)]>,
        out: &mut Vec<Raw>,
    ) {
        if rule.skip_report && !inherited {
            return;
        }
        if commit_or_path_allowed(frag, &rule.allowlists) {
            return;
        }
        if let Some(p) = &rule.path {
            let path_ok = p.is_match(frag.file_path.as_bytes());
            if rule.regex.is_none() && segments.is_empty() {
                if path_ok {
                    out.push(Raw {
                        rule: ri,
                        start_line: 0,
                        end_line: 0,
                        start_column: 0,
                        end_column: 0,
                        exact: (0, 0),
                        line: Vec::new(),
                        matched: format!("file detected: {}", frag.file_path).into_bytes(),
                        secret: Vec::new(),
                        entropy: 0.0,
                        tags: rule.tags.clone(),
                    });
                    return;
                }
            } else if !path_ok {
                return;
            }
        }
        let Some(lazy) = &rule.regex else { return };
        let re = lazy.get();
        let start_len = out.len();
        let matches: Vec<(usize, usize)> = match (&rule.window, spans) {
            (Some(w), Some(spans)) => {
                let kws = &self.cfg.rule_keywords[ri];
                let mut v = Vec::new();
                for (rs, re_) in windows(current, &w.plan.barrier, kws, spans) {
                    let wre = w.regex(lazy, rs == 0, re_ == current.len());
                    // Most windows hold no match; an earliest-match test is
                    // much cheaper than a full leftmost search.
                    if !wre.is_match(&current[rs..re_]) {
                        continue;
                    }
                    v.extend(
                        wre.find_iter(&current[rs..re_])
                            .map(|m| (rs + m.start(), rs + m.end())),
                    );
                }
                v
            }
            _ => re
                .find_iter(current)
                .map(|m| (m.start(), m.end()))
                .collect(),
        };
        for (mut ms, mut me) in matches {
            let secret_full = trim_newlines(&current[ms..me]);
            let mut tags = rule.tags.clone();
            let mut current_line: Option<Vec<u8>> = None;
            if !segments.is_empty() {
                let overlap = decode::segments_with_decoded_overlap(segments, ms, me);
                if overlap.is_empty() {
                    continue;
                }
                let (s, e) = decode::adjust_match_index(&overlap, ms, me);
                ms = s;
                me = e;
                tags.extend(decode::tags(&overlap));
                current_line = Some(decode::current_line(&overlap, current));
            } else {
                me = ms + secret_full.len();
            }
            let nl = newlines.get_or_insert_with(|| memchr::memchr_iter(b'\n', frag.raw).collect());
            let mut loc = location(nl, frag.raw, ms, me);
            if me > loc.end_line_index {
                loc.end_line_index = me;
            }
            let line_end = loc.end_line_index.min(frag.raw.len());
            let line_start = loc.start_line_index.min(line_end);
            let line = &frag.raw[line_start..line_end];
            if !self.ignore_gitleaks_allow && memchr::memmem::find(line, ALLOW_SIGNATURE).is_some()
            {
                continue;
            }
            let matched = secret_full;
            let mut secret: &[u8] = matched;
            if re.captures_len() >= 2 {
                if let Some(caps) = re.captures(matched) {
                    if rule.secret_group > 0 {
                        secret = caps
                            .get(rule.secret_group)
                            .map(|g| g.as_bytes())
                            .unwrap_or(b"");
                    } else if let Some(g) = (1..caps.len())
                        .filter_map(|i| caps.get(i))
                        .find(|g| !g.as_bytes().is_empty())
                    {
                        secret = g.as_bytes();
                    }
                }
            }
            let entropy = shannon_entropy(secret);
            if rule.entropy != 0.0 && entropy <= rule.entropy {
                continue;
            }
            let cur_line: &[u8] = current_line.as_deref().unwrap_or(line);
            if finding_allowed(secret, matched, cur_line, frag, &self.cfg.allowlists) {
                continue;
            }
            if finding_allowed(secret, matched, cur_line, frag, &rule.allowlists) {
                continue;
            }
            out.push(Raw {
                rule: ri,
                start_line: frag.start_line + loc.start_line,
                end_line: frag.start_line + loc.end_line,
                start_column: loc.start_column,
                end_column: loc.end_column,
                exact: (
                    loc.start_column
                        .saturating_sub((loc.start_line > 0) as usize),
                    loc.end_column.saturating_sub((loc.end_line > 0) as usize),
                ),
                line: line.to_vec(),
                matched: matched.to_vec(),
                secret: secret.to_vec(),
                entropy: entropy as f32,
                tags,
            });
        }
        if inherited || rule.required.is_empty() {
            return;
        }
        self.required_rules(frag, current, rule, segments, newlines, out, start_len);
    }

    /// Composite rules: keep a primary finding only when every required rule
    /// has a finding near it in the same fragment.
    #[allow(clippy::too_many_arguments)]
    fn required_rules(
        &self,
        frag: &Fragment,
        current: &[u8],
        rule: &Rule,
        segments: &[Segment],
        newlines: &mut Option<Vec<usize>>,
        out: &mut Vec<Raw>,
        start_len: usize,
    ) {
        if out.len() == start_len {
            return;
        }
        let primaries: Vec<Raw> = out.drain(start_len..).collect();
        let mut found: Vec<(String, Vec<Raw>)> = Vec::new();
        for rq in &rule.required {
            let Some(ri) = self.cfg.rules.iter().position(|r| r.id == rq.rule_id) else {
                continue;
            };
            let mut v = Vec::new();
            self.detect_rule(
                frag,
                current,
                ri,
                &self.cfg.rules[ri],
                segments,
                newlines,
                true,
                None,
                &mut v,
            );
            found.push((rq.rule_id.clone(), v));
        }
        for p in primaries {
            let mut ok_all = true;
            let mut any = false;
            for rq in &rule.required {
                let Some((_, v)) = found.iter().find(|(id, _)| *id == rq.rule_id) else {
                    continue;
                };
                let near = v.iter().any(|r| {
                    let lines_ok = rq
                        .within_lines
                        .is_none_or(|w| (p.start_line as i64 - r.start_line as i64).abs() <= w);
                    let cols_ok = rq
                        .within_columns
                        .is_none_or(|w| (p.start_column as i64 - r.start_column as i64).abs() <= w);
                    lines_ok && cols_ok
                });
                any |= near;
                ok_all &= near;
            }
            if any && ok_all {
                out.push(p);
            }
        }
    }

    fn finish(&self, frag: &Fragment, raws: Vec<Raw>) -> Vec<Finding> {
        let cfg = self.cfg;
        let keep: Vec<bool> = raws
            .iter()
            .map(|f| {
                let rule = &cfg.rules[f.rule];
                if !rule.is_generic() {
                    return true;
                }
                !raws.iter().any(|o| {
                    o.start_line == f.start_line
                        && o.rule != f.rule
                        && !cfg.rules[o.rule].is_generic()
                        && memchr::memmem::find(&o.secret, &f.secret).is_some()
                })
            })
            .collect();
        let commit = frag.commit;
        raws.into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(r, _)| {
                let rule = &cfg.rules[r.rule];
                let mut f = Finding {
                    rule_id: rule.id.clone(),
                    description: rule.description.clone(),
                    start_line: r.start_line,
                    end_line: r.end_line,
                    start_column: r.start_column,
                    end_column: r.end_column,
                    start_column_exact: r.exact.0,
                    end_column_exact: r.exact.1,
                    line: lossy(&r.line),
                    matched: lossy(&r.matched),
                    secret: lossy(&r.secret),
                    file: frag.file_path.to_string(),
                    symlink_file: frag.symlink_file.to_string(),
                    commit: commit.map(|c| c.sha.clone()).unwrap_or_default(),
                    link: String::new(),
                    entropy: r.entropy,
                    author: commit.map(|c| c.author.clone()).unwrap_or_default(),
                    email: commit.map(|c| c.email.clone()).unwrap_or_default(),
                    date: commit.map(|c| c.date.clone()).unwrap_or_default(),
                    message: commit.map(|c| c.message.clone()).unwrap_or_default(),
                    tags: r.tags,
                    fingerprint: String::new(),
                };
                if let Some(remote) = commit.and_then(|c| c.remote.as_ref()) {
                    f.link = scm_link(remote, &f);
                }
                f
            })
            .collect()
    }
}

fn trim_newlines(mut s: &[u8]) -> &[u8] {
    while let [b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\n'] = s {
        s = rest;
    }
    s
}

/// Link to the finding on its forge, as gitleaks builds it.
pub fn scm_link(remote: &Remote, f: &Finding) -> String {
    if f.commit.is_empty() {
        return String::new();
    }
    let (path, has_inner) = match f.file.split_once('!') {
        Some((p, _)) => (p, true),
        None => (f.file.as_str(), false),
    };
    let path = path.replace(' ', "%20").replace('%', "%25");
    let path = path.replace("%2520", "%20");
    let ext = std::path::Path::new(&path)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let plain = ext == "ipynb" || ext == "md";
    let (s, e) = (f.start_line, f.end_line);
    match remote.platform {
        Platform::GitHub => {
            let mut l = format!("{}/blob/{}/{}", remote.url, f.commit, path);
            if has_inner {
                return l;
            }
            if plain {
                l.push_str("?plain=1");
            }
            if s != 0 {
                l.push_str(&format!("#L{s}"));
            }
            if e != s {
                l.push_str(&format!("-L{e}"));
            }
            l
        }
        Platform::GitLab => {
            let mut l = format!("{}/blob/{}/{}", remote.url, f.commit, path);
            if has_inner {
                return l;
            }
            if s != 0 {
                l.push_str(&format!("#L{s}"));
            }
            if e != s {
                l.push_str(&format!("-{e}"));
            }
            l
        }
        Platform::AzureDevOps => {
            let mut l = format!("{}/commit/{}?path=/{}", remote.url, f.commit, path);
            if has_inner {
                return l;
            }
            if s != 0 {
                l.push_str(&format!("&line={s}"));
            }
            if e != s {
                l.push_str(&format!("&lineEnd={e}"));
            }
            l.push_str("&lineStartColumn=1&lineEndColumn=10000000&type=2&lineStyle=plain&_a=files");
            l
        }
        Platform::Gitea => {
            let mut l = format!("{}/src/commit/{}/{}", remote.url, f.commit, path);
            if has_inner {
                return l;
            }
            if plain {
                l.push_str("?display=source");
            }
            if s != 0 {
                l.push_str(&format!("#L{s}"));
            }
            if e != s {
                l.push_str(&format!("-L{e}"));
            }
            l
        }
        Platform::Bitbucket => {
            let mut l = format!("{}/src/{}/{}", remote.url, f.commit, path);
            if has_inner {
                return l;
            }
            if s != 0 {
                l.push_str(&format!("#lines-{s}"));
            }
            if e != s {
                l.push_str(&format!(":{e}"));
            }
            l
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(t: &str) -> Config {
        Config::from_toml_str(t, "test").unwrap()
    }

    fn scan(c: &Config, text: &str) -> Vec<Finding> {
        let d = Detector::new(c, 0);
        d.detect(&Fragment {
            raw: text.as_bytes(),
            file_path: "f.txt",
            symlink_file: "",
            start_line: 1,
            commit: None,
        })
    }

    const RULE: &str =
        "[[rules]]\nid = \"t\"\nregex = '''tok_[a-z0-9]{8}'''\nkeywords = [\"tok_\"]\n";

    #[test]
    fn columns_follow_gitleaks() {
        let c = cfg(RULE);
        let f = scan(&c, "x tok_abcdefgh\n  tok_12345678\n");
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].start_line, f[0].start_column, f[0].end_column),
            (1, 3, 14)
        );
        // Second line: columns count from the newline, one more than 1-based.
        assert_eq!(
            (f[1].start_line, f[1].start_column, f[1].end_column),
            (2, 4, 15)
        );
    }

    #[test]
    fn keyword_prefilter_case_insensitive() {
        let c =
            cfg("[[rules]]\nid = \"t\"\nregex = '''(?i)TOK_[a-z]{4}'''\nkeywords = [\"TOK_\"]\n");
        assert_eq!(scan(&c, "tok_abcd").len(), 1);
        let c = cfg("[[rules]]\nid = \"t\"\nregex = '''x_[a-z]{4}'''\nkeywords = [\"nope\"]\n");
        assert!(scan(&c, "x_abcd").is_empty());
    }

    #[test]
    fn gitleaks_allow_and_entropy() {
        let c = cfg(RULE);
        assert!(scan(&c, "tok_abcdefgh // gitleaks:allow").is_empty());
        let c = cfg(&format!("{RULE}entropy = 3.5\n"));
        assert!(scan(&c, "tok_aaaaaaaa").is_empty());
    }

    #[test]
    fn secret_group_and_first_nonempty_group() {
        let c = cfg("[[rules]]\nid = \"t\"\nregex = '''key=(x)?([a-z]{6})'''\n");
        let f = scan(&c, "key=abcdef");
        assert_eq!(f[0].secret, "abcdef");
        assert_eq!(f[0].matched, "key=abcdef");
        let c = cfg("[[rules]]\nid = \"t\"\nregex = '''key=(x)?([a-z]{6})'''\nsecretGroup = 1\n");
        assert_eq!(scan(&c, "key=abcdef")[0].secret, "");
    }

    #[test]
    fn allowlists_and_stopwords() {
        let base = format!(
            "{RULE}[[rules.allowlists]]\nregexes = ['''abcd''']\n[[rules.allowlists]]\nstopwords = [\"ZZZ\"]\n"
        );
        let c = cfg(&base);
        assert!(scan(&c, "tok_abcdefgh").is_empty());
        assert!(scan(&c, "tok_zzz12345").is_empty());
        assert_eq!(scan(&c, "tok_12345678").len(), 1);
        let and = format!(
            "{RULE}[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''other''']\nregexes = ['''1234''']\n"
        );
        assert_eq!(scan(&cfg(&and), "tok_12345678").len(), 1);
        let line = format!(
            "{RULE}[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''EXAMPLE''']\n"
        );
        assert!(scan(&cfg(&line), "EXAMPLE tok_12345678").is_empty());
    }

    #[test]
    fn generic_dedup() {
        let t = format!("{RULE}[[rules]]\nid = \"generic-x\"\nregex = '''secret=(\\S+)'''\n");
        let f = scan(&cfg(&t), &["sec", "ret=tok_", "12345678\n"].concat());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule_id, "t");
    }

    #[test]
    fn last_line_without_newline() {
        let c = cfg(RULE);
        let f = scan(&c, "a\nb tok_12345678");
        assert_eq!(
            (f[0].start_line, f[0].start_column, f[0].end_column),
            (2, 4, 15)
        );
        // Without a newline before it, the "line" is the whole fragment.
        assert_eq!(f[0].line, "a\nb tok_12345678");
    }

    #[test]
    fn entropy_matches_go() {
        assert!((shannon_entropy(b"aabb") - 1.0).abs() < 1e-12);
        assert_eq!(shannon_entropy(b""), 0.0);
    }
}
