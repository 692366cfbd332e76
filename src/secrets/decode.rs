//! Decoding of percent / unicode / hex / base64 segments, as gitleaks'
//! `codec` package does it: each pass decodes what the previous pass left,
//! and every decoded segment remembers where it came from in the original.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use regex::bytes::Regex;

use super::regex_port;

const PERCENT: u8 = 1;
const UNICODE: u8 = 2;
const HEX: u8 = 4;
const BASE64: u8 = 8;
const NAMES: [&str; 4] = ["percent", "unicode", "hex", "base64"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as i64,
            end: end as i64,
        }
    }
    /// Touching spans overlap too, as in gitleaks.
    fn overlaps(self, o: Span) -> bool {
        o.start <= self.end && o.end >= self.start
    }
    fn contains(self, o: Span) -> bool {
        self.start <= o.start && o.end <= self.end
    }
    fn merge(self, o: Span) -> Span {
        Span {
            start: self.start.min(o.start),
            end: self.end.max(o.end),
        }
    }
    fn sub(self, o: Span) -> Span {
        Span {
            start: self.start - o.start,
            end: self.end - o.end,
        }
    }
    fn add(self, o: Span) -> Span {
        Span {
            start: self.start + o.start,
            end: self.end + o.end,
        }
    }
    fn overflow(self, o: Span) -> Span {
        self.merge(o).sub(self)
    }
}

/// A decoded stretch of the current text, with where it came from.
#[derive(Debug, Clone)]
pub struct Segment {
    predecessors: Rc<Vec<Segment>>,
    /// Position in the original fragment.
    pub original: Span,
    /// Position of the encoded text in the previous pass's text.
    pub encoded: Span,
    /// Position of the decoded text in this pass's text.
    pub decoded: Span,
    encodings: u8,
    pub depth: u32,
}

fn encodings_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex_port::compile_bytes(
            r"(?P<percent>%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)|(?P<unicode>(?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+))|(?P<hex>[0-9A-Fa-f]{32,})|(?P<base64>[\w\/+-]{16,}={0,2})",
        )
        .expect("encoding pattern compiles")
    })
}

fn printable(b: u8) -> bool {
    b > 0x08 && b < 0x7f
}

fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0xff,
    }
}

fn decode_percent(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let (a, b) = (nibble(s[i + 1]), nibble(s[i + 2]));
            if a | b != 0xff {
                let v = a << 4 | b;
                if !printable(v) {
                    return Vec::new();
                }
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn decode_hex(s: &[u8]) -> Vec<u8> {
    if s.len() % 2 != 0 || !s.iter().any(|c| c.is_ascii_digit()) {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for p in s.chunks(2) {
        let (a, b) = (nibble(p[0]), nibble(p[1]));
        if a | b == 0xff {
            return Vec::new();
        }
        let v = a << 4 | b;
        if !printable(v) {
            return Vec::new();
        }
        out.push(v);
    }
    out
}

fn b64_value(c: u8, url: bool) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => (c - b'A') as u32,
        b'a'..=b'z' => (c - b'a' + 26) as u32,
        b'0'..=b'9' => (c - b'0' + 52) as u32,
        b'+' if !url => 62,
        b'/' if !url => 63,
        b'-' if url => 62,
        b'_' if url => 63,
        _ => return None,
    })
}

/// Go's `base64.StdEncoding` (padded) or `RawURLEncoding` (unpadded).
fn b64(s: &[u8], url: bool) -> Option<Vec<u8>> {
    let body: &[u8] = if url {
        s
    } else {
        if s.len() % 4 != 0 {
            return None;
        }
        let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        &s[..s.len() - pad]
    };
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for q in body.chunks(4) {
        let mut v = 0u32;
        for &c in q {
            v = v << 6 | b64_value(c, url)?;
        }
        match q.len() {
            4 => out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]),
            3 => {
                v <<= 6;
                out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8]);
            }
            2 => {
                v <<= 12;
                out.push((v >> 16) as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn decode_base64(s: &[u8]) -> Vec<u8> {
    if !s.iter().any(|c| c.is_ascii_digit() || b"+/-_".contains(c)) {
        return Vec::new();
    }
    for url in [false, true] {
        if let Some(d) = b64(s, url) {
            if d.iter().all(|&c| printable(c)) {
                return d;
            }
        }
    }
    Vec::new()
}

fn push_rune(out: &mut String, v: u32) {
    out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
}

fn decode_unicode(s: &[u8]) -> Vec<u8> {
    static MULTI_CP: OnceLock<Regex> = OnceLock::new();
    static MULTI_ESC: OnceLock<Regex> = OnceLock::new();
    static ESC: OnceLock<Regex> = OnceLock::new();
    let multi_cp = MULTI_CP.get_or_init(|| {
        regex_port::compile_bytes(r"(?:U\+[a-fA-F0-9]{4}(?:\s|$))+").expect("compiles")
    });
    let multi_esc = MULTI_ESC.get_or_init(|| {
        regex_port::compile_bytes(r"(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+").expect("compiles")
    });
    let esc = ESC.get_or_init(|| {
        regex_port::compile_bytes(r"(?i)\\{1,2}u([a-fA-F0-9]{4})").expect("compiles")
    });
    let replace_each = |value: Vec<u8>, matches: Vec<Vec<u8>>, f: &dyn Fn(&[u8]) -> Vec<u8>| {
        let mut v = value;
        for m in matches {
            let d = f(&m);
            if !d.is_empty() && d != m {
                if let Some(p) = memchr::memmem::find(&v, &m) {
                    let mut n = v[..p].to_vec();
                    n.extend_from_slice(&d);
                    n.extend_from_slice(&v[p + m.len()..]);
                    v = n;
                }
            }
        }
        v
    };
    let cps: Vec<Vec<u8>> = multi_cp
        .find_iter(s)
        .map(|m| m.as_bytes().to_vec())
        .collect();
    if !cps.is_empty() {
        return replace_each(s.to_vec(), cps, &|m: &[u8]| {
            let mut out = String::new();
            for f in String::from_utf8_lossy(m).split_ascii_whitespace() {
                if let Some(h) = f.strip_prefix("U+") {
                    if h.len() >= 4 {
                        if let Ok(v) = u32::from_str_radix(h, 16) {
                            push_rune(&mut out, v);
                        }
                    }
                }
            }
            if out.is_empty() {
                m.to_vec()
            } else {
                out.into_bytes()
            }
        });
    }
    let escs: Vec<Vec<u8>> = multi_esc
        .find_iter(s)
        .map(|m| m.as_bytes().to_vec())
        .collect();
    if !escs.is_empty() {
        return replace_each(s.to_vec(), escs, &|m: &[u8]| {
            let mut out = String::new();
            for c in esc.captures_iter(m) {
                let h = String::from_utf8_lossy(&c[1]).into_owned();
                if let Ok(v) = u32::from_str_radix(&h, 16) {
                    push_rune(&mut out, v);
                }
            }
            if out.is_empty() {
                m.to_vec()
            } else {
                out.into_bytes()
            }
        });
    }
    s.to_vec()
}

fn precedence(kind: u8) -> u8 {
    match kind {
        PERCENT => 4,
        UNICODE => 3,
        HEX => 2,
        _ => 1,
    }
}

/// Which alternative of the combined pattern produced a match starting at
/// `s`: leftmost-first takes the first alternative that can match there, so
/// testing them in order gives the group `captures` would report, without
/// paying for capture resolution on every long identifier.
fn kind_at(data: &[u8], s: usize) -> u8 {
    static UNICODE_AT: OnceLock<Regex> = OnceLock::new();
    let hexd = |b: u8| b.is_ascii_hexdigit();
    let d = &data[s..];
    if d.len() >= 3 && d[0] == b'%' && hexd(d[1]) && hexd(d[2]) {
        return PERCENT;
    }
    if matches!(d.first(), Some(b'U') | Some(b'\\')) {
        let re = UNICODE_AT.get_or_init(|| {
            regex_port::compile_bytes(r"^(?:U\+[a-fA-F0-9]{4}(?:\s|$)|(?i)\\{1,2}u[a-fA-F0-9]{4})")
                .expect("compiles")
        });
        if re.is_match(d) {
            return UNICODE;
        }
    }
    if d.len() >= 32 && d[..32].iter().all(|&b| hexd(b)) {
        return HEX;
    }
    BASE64
}

fn find_encodings(data: &[u8]) -> Vec<(u8, Span)> {
    let re = encodings_re();
    let mut all = Vec::new();
    for m in re.find_iter(data) {
        all.push((kind_at(data, m.start()), Span::new(m.start(), m.end())));
    }
    if all.len() == 1 {
        return all;
    }
    let mut out = Vec::with_capacity(all.len());
    for (i, &(k, s)) in all.iter().enumerate() {
        if i > 0 {
            let (pk, ps) = all[i - 1];
            if s.overlaps(ps) && precedence(pk) > precedence(k) {
                continue;
            }
        }
        if let Some(&(nk, ns)) = all.get(i + 1) {
            if s.overlaps(ns) && precedence(nk) > precedence(k) {
                continue;
            }
        }
        out.push((k, s));
    }
    out
}

fn to_original(preds: &[Segment], decoded: Span) -> Span {
    if preds.is_empty() {
        return decoded;
    }
    let mut encoded = Span::default();
    for p in preds {
        if !p.decoded.overlaps(decoded) {
            continue;
        }
        if p.decoded.contains(decoded) {
            return p.original;
        }
        let e = p.encoded.add(p.decoded.overflow(decoded));
        encoded = if encoded.end == 0 {
            e
        } else {
            encoded.merge(e)
        };
    }
    if encoded.end == 0 {
        return decoded;
    }
    to_original(&preds[0].predecessors, encoded)
}

/// One decoder per fragment: it remembers values already decoded.
#[derive(Default)]
pub struct Decoder {
    cache: HashMap<Vec<u8>, Vec<u8>>,
}

impl Decoder {
    pub fn decode(&mut self, data: &[u8], preds: &Rc<Vec<Segment>>) -> (Vec<u8>, Rc<Vec<Segment>>) {
        let mut segs = Vec::new();
        let mut values: Vec<Vec<u8>> = Vec::new();
        if !data.is_empty() {
            let mut shift: i64 = 0;
            for (kind, m) in find_encodings(data) {
                let enc = &data[m.start as usize..m.end as usize];
                let dec = match self.cache.get(enc) {
                    Some(d) => d.clone(),
                    None => {
                        let d = match kind {
                            PERCENT => decode_percent(enc),
                            UNICODE => decode_unicode(enc),
                            HEX => decode_hex(enc),
                            _ => decode_base64(enc),
                        };
                        self.cache.insert(enc.to_vec(), d.clone());
                        d
                    }
                };
                if dec.is_empty() {
                    continue;
                }
                let mut seg = Segment {
                    predecessors: preds.clone(),
                    original: to_original(preds, m),
                    encoded: m,
                    decoded: Span {
                        start: m.start + shift,
                        end: m.start + shift + dec.len() as i64,
                    },
                    encodings: kind,
                    depth: 1,
                };
                shift += dec.len() as i64 - enc.len() as i64;
                if let Some(first) = preds.first() {
                    seg.depth = 1 + first.depth;
                    for p in preds.iter() {
                        if seg.encoded.overlaps(p.decoded) {
                            seg.encodings |= p.encodings;
                        }
                    }
                }
                segs.push(seg);
                values.push(dec);
            }
        }
        if segs.is_empty() {
            return (data.to_vec(), Rc::new(segs));
        }
        let mut out = Vec::with_capacity(data.len());
        let mut at = 0usize;
        for (s, v) in segs.iter().zip(&values) {
            out.extend_from_slice(&data[at..s.encoded.start as usize]);
            out.extend_from_slice(v);
            at = s.encoded.end as usize;
        }
        out.extend_from_slice(&data[at..]);
        (out, Rc::new(segs))
    }
}

pub fn segments_with_decoded_overlap(segs: &[Segment], start: usize, end: usize) -> Vec<Segment> {
    let se = Span::new(start, end);
    segs.iter()
        .filter(|s| s.decoded.overlaps(se))
        .cloned()
        .collect()
}

/// Maps a match in the current pass back to the original fragment.
pub fn adjust_match_index(segs: &[Segment], start: usize, end: usize) -> (usize, usize) {
    let o = to_original(segs, Span::new(start, end));
    (o.start.max(0) as usize, o.end.max(0) as usize)
}

pub fn tags(segs: &[Segment]) -> Vec<String> {
    let Some(first) = segs.first() else {
        return Vec::new();
    };
    let enc = segs.iter().fold(0u8, |a, s| a | s.encodings);
    let mut t: Vec<String> = (0..4)
        .filter(|i| enc & (1 << i) != 0)
        .map(|i| format!("decoded:{}", NAMES[i]))
        .collect();
    t.push(format!("decode-depth:{}", first.depth));
    t
}

/// From the line start before the segments to the line end after them.
pub fn current_line(segs: &[Segment], text: &[u8]) -> Vec<u8> {
    let Some(first) = segs.first() else {
        return text.to_vec();
    };
    let d = segs
        .iter()
        .skip(1)
        .fold(first.decoded, |a, s| a.merge(s.decoded));
    let mut start = 0usize;
    let mut end = text.len();
    let mut i = d.start;
    while i > -1 {
        if (i as usize) < text.len() && text[i as usize] == b'\n' {
            start = i as usize;
            break;
        }
        i -= 1;
    }
    let mut i = d.end.max(0) as usize;
    while i < end {
        if text[i] == b'\n' {
            end = i;
            break;
        }
        i += 1;
    }
    text[start..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_kind() {
        assert_eq!(decode_base64(b"aGVsbG8gd29ybGQx"), b"hello world1");
        assert_eq!(
            decode_hex(b"68656c6c6f20776f726c642068656c6c6f2031"),
            b"hello world hello 1"
        );
        assert_eq!(decode_percent(b"%41%42c"), b"ABc");
        assert_eq!(decode_unicode(br"\u0041\u0042"), b"AB");
        assert!(
            decode_base64(b"abcdefghijklmnop").is_empty(),
            "needs a likely char"
        );
    }

    #[test]
    fn kinds_follow_alternative_order() {
        let data = b"a %41%42 U+0041 \\u0041 0123456789abcdef0123456789abcdef aGVsbG8gd29ybGQx";
        let kinds: Vec<u8> = find_encodings(data).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [PERCENT, UNICODE, UNICODE, HEX, BASE64]);
    }

    #[test]
    fn maps_back_to_original() {
        let mut d = Decoder::default();
        let data = b"x = aGVsbG8gd29ybGQx;";
        let (out, segs) = d.decode(data, &Rc::new(Vec::new()));
        assert_eq!(out, b"x = hello world1;");
        assert_eq!(segs[0].original, Span::new(4, 20));
        assert_eq!(adjust_match_index(&segs, 4, 9), (4, 20));
        assert_eq!(tags(&segs), ["decoded:base64", "decode-depth:1"]);
    }
}
