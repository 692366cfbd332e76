//! Exact candidate windows for expensive rules.
//!
//! gitleaks runs a rule's regex over the whole fragment whenever one of its
//! keywords occurs anywhere in it. For rules like `generic-api-key` that is
//! most of the input. This module proves, from the Go pattern itself, two
//! facts that let us search only small windows with identical results:
//!
//! 1. every match contains one of the rule's keywords (case-insensitively),
//!    so every match overlaps a keyword hit the prefilter already found;
//! 2. some bytes ("barriers") can never be consumed by a match and are not
//!    word characters or line breaks, so no match crosses one, and `\b`,
//!    `\B` behave at a window's edge as they do in the full text.
//!
//! A match therefore lies inside the barrier-free run around a keyword hit.
//! Searching each such run (with `^`/`$` disabled where the run is not at
//! the fragment's start/end) yields exactly the matches of the full search,
//! in the same order. Any construct the analysis does not understand, or a
//! pattern that can match the empty string, turns the optimisation off.

use std::collections::BTreeSet;

type Bytes = [bool; 256];

#[derive(Debug, Clone)]
enum Node {
    Set(Box<Bytes>),
    Assert(Anchor),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Rep(Box<Node>, u32, Option<u32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    TextStart,
    TextEnd,
    MultiLine,
    Word,
}

#[derive(Clone, Copy, Default)]
struct Flags {
    i: bool,
    s: bool,
    m: bool,
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

fn empty_set() -> Box<Bytes> {
    Box::new([false; 256])
}

fn set_of(chars: &[u8], fold: bool) -> Box<Bytes> {
    let mut s = empty_set();
    for &c in chars {
        s[c as usize] = true;
        if fold {
            s[c.to_ascii_lowercase() as usize] = true;
            s[c.to_ascii_uppercase() as usize] = true;
        }
    }
    if fold {
        add_unicode_folds(&mut s);
    }
    s
}

/// Unicode `(?i)` folds two non-ASCII letters onto ASCII ones: KELVIN SIGN
/// onto k and LONG S onto s. Their bytes can then be part of a match.
fn add_unicode_folds(s: &mut Bytes) {
    if s[b'k' as usize] || s[b'K' as usize] {
        "\u{212A}".bytes().for_each(|b| s[b as usize] = true);
    }
    if s[b's' as usize] || s[b'S' as usize] {
        "\u{17F}".bytes().for_each(|b| s[b as usize] = true);
    }
}

fn range_set(s: &mut Bytes, lo: u8, hi: u8) {
    for b in lo..=hi {
        s[b as usize] = true;
    }
}

const SPACE: &[u8] = b"\t\n\x0C\r ";

fn perl_class(e: char) -> Option<(Box<Bytes>, bool)> {
    let mut s = empty_set();
    let neg = e.is_ascii_uppercase();
    match e.to_ascii_lowercase() {
        'd' => range_set(&mut s, b'0', b'9'),
        'w' => {
            range_set(&mut s, b'0', b'9');
            range_set(&mut s, b'a', b'z');
            range_set(&mut s, b'A', b'Z');
            s[b'_' as usize] = true;
        }
        's' => SPACE.iter().for_each(|&b| s[b as usize] = true),
        _ => return None,
    }
    Some((s, neg))
}

fn negate(s: &mut Bytes) {
    s.iter_mut().for_each(|b| *b = !*b);
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn alt(&mut self, flags: &mut Flags) -> Option<Node> {
        let mut alts = vec![self.concat(flags)?];
        while self.peek() == Some('|') {
            self.i += 1;
            alts.push(self.concat(flags)?);
        }
        Some(if alts.len() == 1 {
            alts.pop()?
        } else {
            Node::Alt(alts)
        })
    }

    fn concat(&mut self, flags: &mut Flags) -> Option<Node> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let Some(atom) = self.atom(flags)? else {
                continue;
            };
            let atom = self.quant(atom)?;
            items.push(atom);
        }
        Some(Node::Concat(items))
    }

    fn quant(&mut self, atom: Node) -> Option<Node> {
        let (lo, hi) = match self.peek() {
            Some('*') => {
                self.i += 1;
                (0, None)
            }
            Some('+') => {
                self.i += 1;
                (1, None)
            }
            Some('?') => {
                self.i += 1;
                (0, Some(1))
            }
            Some('{') => {
                let start = self.i;
                let rest: String = self.c[self.i..].iter().take(16).collect();
                let Some(end) = rest.find('}') else {
                    return Some(atom);
                };
                let body = &rest[1..end];
                let parsed = match body.split_once(',') {
                    None => body.parse().ok().map(|n: u32| (n, Some(n))),
                    Some((a, "")) => a.parse().ok().map(|n: u32| (n, None)),
                    Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
                        (Ok(a), Ok(b)) => Some((a, Some(b))),
                        _ => None,
                    },
                };
                match parsed {
                    Some(p) if body.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                        self.i = start + end + 1;
                        p
                    }
                    _ => return Some(atom),
                }
            }
            _ => return Some(atom),
        };
        if self.peek() == Some('?') {
            self.i += 1;
        }
        Some(Node::Rep(Box::new(atom), lo, hi))
    }

    /// `Ok(None)` inside means a flag group that produced no node.
    fn atom(&mut self, flags: &mut Flags) -> Option<Option<Node>> {
        let c = self.peek()?;
        self.i += 1;
        Some(Some(match c {
            '(' => {
                let mut inner = *flags;
                if self.peek() == Some('?') {
                    self.i += 1;
                    match self.peek()? {
                        ':' => self.i += 1,
                        'P' | '<' => {
                            while self.peek()? != '>' {
                                self.i += 1;
                            }
                            self.i += 1;
                        }
                        _ => {
                            let mut on = true;
                            loop {
                                match self.peek()? {
                                    'i' => inner.i = on,
                                    's' => inner.s = on,
                                    'm' => inner.m = on,
                                    'U' => {}
                                    '-' => on = false,
                                    ')' => {
                                        self.i += 1;
                                        // Applies to the rest of the enclosing group.
                                        *flags = inner;
                                        return Some(None);
                                    }
                                    ':' => {
                                        self.i += 1;
                                        break;
                                    }
                                    _ => return None,
                                }
                                self.i += 1;
                            }
                        }
                    }
                }
                let n = self.alt(&mut inner)?;
                if self.peek()? != ')' {
                    return None;
                }
                self.i += 1;
                n
            }
            '[' => Node::Set(self.class(flags)?),
            '.' => {
                let mut s = Box::new([true; 256]);
                if !flags.s {
                    s[b'\n' as usize] = false;
                }
                Node::Set(s)
            }
            '^' | '$' => {
                if flags.m {
                    Node::Assert(Anchor::MultiLine)
                } else if c == '^' {
                    Node::Assert(Anchor::TextStart)
                } else {
                    Node::Assert(Anchor::TextEnd)
                }
            }
            '\\' => {
                let e = self.peek()?;
                self.i += 1;
                match e {
                    'b' | 'B' => Node::Assert(Anchor::Word),
                    'A' => Node::Assert(Anchor::TextStart),
                    'z' => Node::Assert(Anchor::TextEnd),
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                        let (mut s, neg) = perl_class(e)?;
                        if neg {
                            negate(&mut s);
                        }
                        if neg {
                            (0x80..256).for_each(|b| s[b] = true);
                        } else if flags.i {
                            add_unicode_folds(&mut s);
                        }
                        Node::Set(s)
                    }
                    _ => {
                        self.i -= 2;
                        let b = self.escaped_char()?;
                        Node::Set(set_of(&[b], flags.i))
                    }
                }
            }
            c if c.is_ascii() => Node::Set(set_of(&[c as u8], flags.i)),
            _ => return None,
        }))
    }

    /// A literal escape (`\.`, `\x41`, `\n`, ...) as one ASCII byte.
    fn escaped_char(&mut self) -> Option<u8> {
        if self.peek()? != '\\' {
            let c = self.peek()?;
            self.i += 1;
            return c.is_ascii().then_some(c as u8);
        }
        self.i += 1;
        let e = self.peek()?;
        self.i += 1;
        Some(match e {
            'a' => 7,
            'f' => 12,
            't' => b'\t',
            'n' => b'\n',
            'r' => b'\r',
            'v' => 11,
            'x' => {
                let hex: String = if self.peek()? == '{' {
                    self.i += 1;
                    let mut h = String::new();
                    while self.peek()? != '}' {
                        h.push(self.peek()?);
                        self.i += 1;
                    }
                    self.i += 1;
                    h
                } else {
                    let h: String = self.c.get(self.i..self.i + 2)?.iter().collect();
                    self.i += 2;
                    h
                };
                let v = u32::from_str_radix(&hex, 16).ok()?;
                if v > 0x7f {
                    return None;
                }
                v as u8
            }
            c if c.is_ascii_punctuation() => c as u8,
            _ => return None,
        })
    }

    fn class(&mut self, flags: &Flags) -> Option<Box<Bytes>> {
        let mut s = empty_set();
        let neg = self.peek() == Some('^');
        if neg {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek()?;
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if c == '[' && self.c.get(self.i + 1) == Some(&':') {
                // POSIX classes: give up rather than model them.
                return None;
            }
            if c == '\\' {
                if let Some((ps, pneg)) = self.c.get(self.i + 1).and_then(|&e| perl_class(e)) {
                    self.i += 2;
                    for b in 0..256 {
                        if ps[b] != pneg {
                            s[b] = true;
                        }
                    }
                    continue;
                }
                if matches!(self.c.get(self.i + 1), Some('p') | Some('P')) {
                    return None;
                }
            }
            let lo = self.escaped_char()?;
            if self.peek() == Some('-') && self.c.get(self.i + 1).is_some_and(|&d| d != ']') {
                self.i += 1;
                let hi = self.escaped_char()?;
                if hi < lo {
                    return None;
                }
                range_set(&mut s, lo, hi);
            } else {
                s[lo as usize] = true;
            }
        }
        if flags.i {
            for b in b'a'..=b'z' {
                let u = b.to_ascii_uppercase();
                if s[b as usize] || s[u as usize] {
                    s[b as usize] = true;
                    s[u as usize] = true;
                }
            }
            add_unicode_folds(&mut s);
        }
        if neg {
            negate(&mut s);
            // A negated class matches whole non-ASCII characters: any of
            // their bytes may occur in a match.
            (0x80..256).for_each(|b| s[b] = true);
        }
        Some(s)
    }
}

fn allowed(n: &Node, acc: &mut Bytes) {
    match n {
        Node::Set(s) => (0..256).for_each(|b| acc[b] |= s[b]),
        Node::Assert(_) => {}
        Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|c| allowed(c, acc)),
        Node::Rep(c, _, hi) => {
            if *hi != Some(0) {
                allowed(c, acc)
            }
        }
    }
}

fn min_len(n: &Node) -> u64 {
    match n {
        Node::Set(_) => 1,
        Node::Assert(_) => 0,
        Node::Concat(v) => v.iter().map(min_len).sum(),
        Node::Alt(v) => v.iter().map(min_len).min().unwrap_or(0),
        Node::Rep(c, lo, _) => min_len(c) * *lo as u64,
    }
}

fn anchors(n: &Node, out: &mut Vec<Anchor>) {
    match n {
        Node::Assert(a) => out.push(*a),
        Node::Set(_) => {}
        Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|c| anchors(c, out)),
        Node::Rep(c, _, _) => anchors(c, out),
    }
}

const FIN_MAX: usize = 256;

/// The finite set of (lowercased) strings a node can match, when small.
fn fin(n: &Node) -> Option<BTreeSet<String>> {
    match n {
        Node::Set(s) => {
            let mut out = BTreeSet::new();
            // Bytes >= 0x80 in a small set only come from the KELVIN SIGN /
            // LONG S folds; fragments holding those characters are never
            // searched in windows (see `detect::keyword_hits`).
            for b in 0..128usize {
                if s[b] {
                    out.insert(((b as u8) as char).to_ascii_lowercase().to_string());
                }
            }
            (out.len() <= 8).then_some(out)
        }
        Node::Assert(_) => Some(BTreeSet::from([String::new()])),
        Node::Concat(v) => {
            let mut cur = BTreeSet::from([String::new()]);
            for c in v {
                cur = product(&cur, &fin(c)?)?;
            }
            Some(cur)
        }
        Node::Alt(v) => {
            let mut out = BTreeSet::new();
            for c in v {
                out.extend(fin(c)?);
                if out.len() > FIN_MAX {
                    return None;
                }
            }
            Some(out)
        }
        Node::Rep(c, lo, Some(hi)) if *hi <= 3 => {
            let f = fin(c)?;
            let mut out = BTreeSet::new();
            let mut cur = BTreeSet::from([String::new()]);
            for k in 0..=*hi {
                if k >= *lo {
                    out.extend(cur.iter().cloned());
                }
                cur = product(&cur, &f)?;
            }
            (out.len() <= FIN_MAX).then_some(out)
        }
        Node::Rep(..) => None,
    }
}

fn product(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    if a.len() * b.len() > FIN_MAX {
        return None;
    }
    let mut out = BTreeSet::new();
    for x in a {
        for y in b {
            if x.len() + y.len() > 64 {
                return None;
            }
            out.insert(format!("{x}{y}"));
        }
    }
    Some(out)
}

fn all_have_keyword(set: &BTreeSet<String>, kws: &[String]) -> bool {
    !set.is_empty()
        && set
            .iter()
            .all(|s| kws.iter().any(|k| s.contains(k.as_str())))
}

/// Does every match of `n` contain (case-insensitively) one of `kws`?
fn must_contain(n: &Node, kws: &[String]) -> bool {
    if let Some(f) = fin(n) {
        if all_have_keyword(&f, kws) {
            return true;
        }
    }
    match n {
        Node::Concat(v) => {
            let mut cur = BTreeSet::from([String::new()]);
            for c in v {
                if must_contain(c, kws) {
                    return true;
                }
                match fin(c) {
                    Some(f) => match product(&cur, &f) {
                        Some(p) => cur = p,
                        None => {
                            if all_have_keyword(&cur, kws) {
                                return true;
                            }
                            cur = f;
                        }
                    },
                    None => {
                        if all_have_keyword(&cur, kws) {
                            return true;
                        }
                        cur = BTreeSet::from([String::new()]);
                    }
                }
            }
            all_have_keyword(&cur, kws)
        }
        Node::Alt(v) => !v.is_empty() && v.iter().all(|c| must_contain(c, kws)),
        Node::Rep(c, lo, _) => *lo >= 1 && must_contain(c, kws),
        _ => false,
    }
}

/// What a rule needs to be searched in windows.
#[derive(Debug, Clone)]
pub struct WindowPlan {
    /// Bytes no match can contain (and that are safe to cut at).
    pub barrier: Box<Bytes>,
    pub has_start_anchor: bool,
    pub has_end_anchor: bool,
}

/// Analyses a Go pattern; `None` when windows would not be provably exact.
pub fn plan(pattern: &str, keywords: &[String]) -> Option<WindowPlan> {
    if keywords.is_empty() || keywords.iter().any(|k| k.is_empty() || !k.is_ascii()) {
        return None;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = Parser { c: &chars, i: 0 };
    let mut flags = Flags::default();
    let node = p.alt(&mut flags)?;
    if p.i != chars.len() {
        return None;
    }
    if min_len(&node) == 0 || !must_contain(&node, keywords) {
        return None;
    }
    let mut a = Vec::new();
    anchors(&node, &mut a);
    if a.contains(&Anchor::MultiLine) {
        return None;
    }
    let mut ok = [false; 256];
    allowed(&node, &mut ok);
    let mut barrier = empty_set();
    let mut any = false;
    for b in 0..256usize {
        let c = b as u8;
        let word = c.is_ascii_alphanumeric() || c == b'_';
        if !ok[b] && !word && c != b'\n' && c != b'\r' {
            barrier[b] = true;
            any = true;
        }
    }
    if !any {
        return None;
    }
    Some(WindowPlan {
        barrier,
        has_start_anchor: a.contains(&Anchor::TextStart),
        has_end_anchor: a.contains(&Anchor::TextEnd),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn generic_style_rule_is_windowed() {
        let p = r#"(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)"#;
        let k = kw(&[
            "access",
            "api",
            "auth",
            "key",
            "credential",
            "creds",
            "passwd",
            "password",
            "secret",
            "token",
        ]);
        let w = plan(p, &k).expect("windowable");
        assert!(w.barrier[b'(' as usize] && w.barrier[b'{' as usize]);
        assert!(!w.barrier[b'=' as usize] && !w.barrier[b' ' as usize]);
        assert!(w.has_end_anchor && !w.has_start_anchor);
        // Without "passw" in the keywords, `passw(?:or)?d` is still covered by passwd/password.
        assert!(plan(p, &kw(&["token"])).is_none());
    }

    #[test]
    fn refuses_what_it_cannot_prove() {
        assert!(plan(r"tok_[a-z]+", &kw(&["tok_"])).is_some());
        assert!(plan(r"(?:tok_|x)[a-z]+", &kw(&["tok_"])).is_none());
        assert!(
            plan(r"tok_.*", &kw(&["tok_"])).is_none(),
            "no barrier bytes"
        );
        assert!(plan(r"(?m)^tok_[a-z]+", &kw(&["tok_"])).is_none());
        assert!(plan(r"(?:tok_)?", &kw(&["tok_"])).is_none());
        assert!(plan(r"[[:alpha:]]tok_", &kw(&["tok_"])).is_none());
    }
}
