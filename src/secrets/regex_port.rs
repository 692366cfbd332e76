//! Translation of gitleaks' RE2 patterns into `regex::bytes` patterns.
//!
//! gitleaks 8.30 release builds match rules with RE2 itself (go-re2; its
//! debug log says so). RE2 works on UTF-8: `.` and negated classes consume
//! whole code points and never an invalid byte, `(?i)` folds Unicode, while
//! `\d \w \s \b` are ASCII. So rules compile in Unicode mode with those four
//! spelled out as ASCII (`\s` is exactly `[\t\n\f\r ]`). A `.` that matched
//! stray bytes would report secrets inside binary files gitleaks passes over.
//!
//! The decoder's own patterns are Go `regexp` (stdlib) ones, where an invalid
//! byte counts as one character; those use [`compile_bytes`].

use regex::bytes::{Regex, RegexBuilder};

/// Go's `\s` is exactly `[\t\n\f\r ]`; Rust's ASCII `\s` also takes `\v`.
const SPACE: &str = r"\t\n\x0C\r ";
const WORD: &str = "0-9A-Za-z_";
const DIGIT: &str = "0-9";

/// Compiled-size budget: Go compiles every valid pattern, so ours must too.
const SIZE_LIMIT: usize = 256 << 20;

pub fn compile(go_pattern: &str) -> Result<Regex, String> {
    build(&port(go_pattern)?, true)
}

/// Go stdlib `regexp` semantics for ASCII-only patterns: any byte is a
/// character, so `.` also consumes invalid UTF-8.
pub fn compile_bytes(go_pattern: &str) -> Result<Regex, String> {
    build(&port(go_pattern)?, false)
}

/// Matches nothing: stands in for an anchor that cannot hold in a window.
const NEVER: &str = r"(?-u:[^\x00-\xFF])";

/// Compiles the pattern with its text-start and/or text-end anchors made
/// impossible, for searching a window that is not at the fragment's start
/// or end (see `window.rs`; patterns with multi-line anchors never get here).
pub fn compile_variant(
    go_pattern: &str,
    kill_start: bool,
    kill_end: bool,
) -> Result<Regex, String> {
    build(&port_with(go_pattern, kill_start, kill_end)?, true)
}

fn build(ported: &str, unicode: bool) -> Result<Regex, String> {
    RegexBuilder::new(ported)
        .unicode(unicode)
        .octal(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(32 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Rewrites a Go pattern into an equivalent Rust one.
pub fn port(p: &str) -> Result<String, String> {
    port_with(p, false, false)
}

fn port_with(p: &str, kill_start: bool, kill_end: bool) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '^' if kill_start => {
                out.push_str(NEVER);
                i += 1;
            }
            '$' if kill_end => {
                out.push_str(NEVER);
                i += 1;
            }
            '\\' if kill_start && chars.get(i + 1) == Some(&'A') => {
                out.push_str(NEVER);
                i += 2;
            }
            '\\' if kill_end && chars.get(i + 1) == Some(&'z') => {
                out.push_str(NEVER);
                i += 2;
            }
            '\\' => {
                let (s, n) = port_escape(&chars, i, false)?;
                out.push_str(&s);
                i += n;
            }
            '[' => {
                let (s, n) = port_class(&chars, i)?;
                out.push_str(&s);
                i += n;
            }
            '{' => {
                // Go takes a `{` that does not start a valid repetition literally.
                if let Some(n) = repetition_len(&chars, i) {
                    out.extend(&chars[i..i + n]);
                    i += n;
                } else {
                    out.push_str(r"\{");
                    i += 1;
                }
            }
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            c if !c.is_ascii() => {
                push_literal(&mut out, c);
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Length of `{n}`, `{n,}` or `{n,m}` at `i`, if that is what is there.
fn repetition_len(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let start = j;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    if j == start || j >= chars.len() {
        return None;
    }
    if chars[j] == ',' {
        j += 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < chars.len() && chars[j] == '}' {
        Some(j + 1 - i)
    } else {
        None
    }
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    } else {
        // Non-ASCII literals match their UTF-8 bytes; a group keeps a
        // following quantifier applying to the whole character as in Go.
        out.push_str("(?:");
        out.push(c);
        out.push(')');
    }
}

/// Translates the escape at `chars[i] == '\\'`; returns text and consumed length.
fn port_escape(chars: &[char], i: usize, in_class: bool) -> Result<(String, usize), String> {
    let Some(&e) = chars.get(i + 1) else {
        return Err("trailing backslash at end of expression".into());
    };
    let set = |body: &str, neg: bool| -> String {
        match (in_class, neg) {
            (true, false) => body.to_string(),
            (_, true) => format!("[^{body}]"),
            (false, false) => format!("[{body}]"),
        }
    };
    let s = match e {
        'd' => set(DIGIT, false),
        'D' => set(DIGIT, true),
        'w' => set(WORD, false),
        'W' => set(WORD, true),
        's' => set(SPACE, false),
        'S' => set(SPACE, true),
        // RE2's word boundary is ASCII.
        'b' | 'B' if !in_class => format!("(?-u:\\{e})"),
        'A' | 'z' if !in_class => format!("\\{e}"),
        'a' | 'f' | 't' | 'n' | 'r' | 'v' => format!("\\{e}"),
        'x' => {
            // \xHH or \x{HHHH}
            let mut j = i + 2;
            if chars.get(j) == Some(&'{') {
                while j < chars.len() && chars[j] != '}' {
                    j += 1;
                }
                let s: String = chars[i..=j.min(chars.len() - 1)].iter().collect();
                return Ok((s, j + 1 - i));
            }
            j += 2;
            let s: String = chars[i..j.min(chars.len())].iter().collect();
            return Ok((s, j - i));
        }
        '0'..='7' => {
            let mut j = i + 1;
            while j < chars.len() && j < i + 4 && ('0'..='7').contains(&chars[j]) {
                j += 1;
            }
            let s: String = chars[i..j].iter().collect();
            return Ok((s, j - i));
        }
        'p' | 'P' => {
            let mut j = i + 2;
            if chars.get(j) == Some(&'{') {
                while j < chars.len() && chars[j] != '}' {
                    j += 1;
                }
                j += 1;
            } else {
                j += 1;
            }
            let s: String = chars[i..j.min(chars.len())].iter().collect();
            let s = if in_class { s } else { format!("(?u:{s})") };
            return Ok((s, j - i));
        }
        'Q' => {
            // \Q...\E quotes literally.
            let mut j = i + 2;
            let mut s = String::new();
            while j < chars.len() {
                if chars[j] == '\\' && chars.get(j + 1) == Some(&'E') {
                    j += 2;
                    break;
                }
                push_literal(&mut s, chars[j]);
                j += 1;
            }
            return Ok((s, j - i));
        }
        c if c.is_ascii_alphanumeric() => {
            return Err(format!("invalid escape sequence: `\\{c}`"));
        }
        c => {
            let mut s = String::new();
            push_literal(&mut s, c);
            s
        }
    };
    Ok((s, 2))
}

/// Translates a bracket class starting at `chars[i] == '['`.
fn port_class(chars: &[char], i: usize) -> Result<(String, usize), String> {
    let mut j = i + 1;
    let mut out = String::from("[");
    if chars.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    let mut first = true;
    let mut non_ascii = false;
    loop {
        let Some(&c) = chars.get(j) else {
            return Err("missing closing ]".into());
        };
        if c == ']' && !first {
            j += 1;
            break;
        }
        first = false;
        // POSIX class [:name:]
        if c == '[' && chars.get(j + 1) == Some(&':') {
            if let Some(end) = (j + 2..chars.len().saturating_sub(1))
                .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
            {
                out.extend(&chars[j..end + 2]);
                j = end + 2;
                continue;
            }
        }
        // Perl/Unicode class escapes stand alone (no ranges).
        if c == '\\' {
            if let Some(&e) = chars.get(j + 1) {
                if "dDwWsSpP".contains(e) {
                    let (s, n) = port_escape(chars, j, true)?;
                    if e == 'p' || e == 'P' {
                        non_ascii = true;
                    }
                    out.push_str(&s);
                    j += n;
                    continue;
                }
            }
        }
        let (lo, n) = class_char(chars, j)?;
        j += n;
        let mut hi = None;
        if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|&d| d != ']') {
            let (h, n2) = class_char(chars, j + 1)?;
            if h < lo {
                return Err(format!("invalid character class range: `{lo}-{h}`"));
            }
            hi = Some(h);
            j += 1 + n2;
        }
        non_ascii |= !lo.is_ascii() || hi.is_some_and(|h| !h.is_ascii());
        push_class_char(&mut out, lo);
        if let Some(h) = hi {
            out.push('-');
            push_class_char(&mut out, h);
        }
    }
    out.push(']');
    if non_ascii {
        out = format!("(?u:{out})");
    }
    Ok((out, j - i))
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_graphic() && !"[]\\^-&~".contains(c) || c == ' ' || !c.is_ascii() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// One (possibly escaped) character of a class.
fn class_char(chars: &[char], j: usize) -> Result<(char, usize), String> {
    let c = chars[j];
    if c != '\\' {
        return Ok((c, 1));
    }
    let Some(&e) = chars.get(j + 1) else {
        return Err("trailing backslash at end of expression".into());
    };
    let simple = |ch: char| Ok((ch, 2));
    match e {
        'a' => simple('\x07'),
        'f' => simple('\x0C'),
        't' => simple('\t'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        'v' => simple('\x0B'),
        'x' => {
            let mut k = j + 2;
            let hex: String;
            if chars.get(k) == Some(&'{') {
                let start = k + 1;
                while k < chars.len() && chars[k] != '}' {
                    k += 1;
                }
                hex = chars[start..k.min(chars.len())].iter().collect();
                k += 1;
            } else {
                hex = chars[k..(k + 2).min(chars.len())].iter().collect();
                k += 2;
            }
            let v = u32::from_str_radix(&hex, 16).map_err(|_| "invalid escape \\x".to_string())?;
            let ch = char::from_u32(v).ok_or("invalid escape \\x")?;
            Ok((ch, k - j))
        }
        '0'..='7' => {
            let mut k = j + 1;
            while k < chars.len() && k < j + 4 && ('0'..='7').contains(&chars[k]) {
                k += 1;
            }
            let s: String = chars[j + 1..k].iter().collect();
            let v = u32::from_str_radix(&s, 8).unwrap_or(0);
            Ok((char::from_u32(v).unwrap_or('\0'), k - j))
        }
        c if c.is_ascii_alphanumeric() => Err(format!("invalid escape sequence: `\\{c}`")),
        c => simple(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile(p).unwrap().is_match(s.as_bytes())
    }

    #[test]
    fn literal_brace() {
        assert!(m(r"^\$(?:\d+|{\d+})$", "${12}"));
        assert!(m(r"^\{\{[ \t]*x}}$", "{{ x}}"));
        assert!(m(r"a{2}", "aa"));
        assert!(!m(r"^a{2}$", "a"));
        assert!(m(r"x{,2}", "x{,2}"));
    }

    #[test]
    fn ascii_classes() {
        assert!(!m(r"\s", "\x0B"));
        assert!(m(r"\s", "\x0C"));
        assert!(!m(r"^\w$", "é"));
        assert!(m(r"\bkey\b", "é key"));
        assert!(m(r"[\w.-]+", "a.b-c"));
        assert!(m(r"^[^\s]+$", "abc"));
        assert!(m(r"^[\s\S]{3}$", "a\nb"));
    }

    #[test]
    fn class_literals_go_style() {
        // Go takes `[`, `&&`, `~~` and `--` inside classes literally.
        assert!(m(r"^[[]$", "["));
        assert!(m(r"^[a&&b]+$", "a&b"));
        assert!(m(r"^[+--]+$", "+,-"));
        assert!(m(r"^[]a]+$", "]a"));
        assert!(m(r"^[[:alpha:]]+$", "abc"));
    }

    #[test]
    fn case_insensitive_groups() {
        // `(?i)` inside the first alternative covers the rest, as in Go.
        assert!(m(r"(?:(?i)abc|def)", "DEF"));
    }

    #[test]
    fn utf8_semantics_of_re2() {
        // Classes and `.` consume whole code points, never a stray byte, as
        // RE2 (gitleaks' engine) does; `\w` stays ASCII.
        let r = compile(r"^a[\s\S]b$").unwrap();
        assert!(r.is_match("a\u{e9}b".as_bytes()));
        assert!(!r.is_match(b"a\xffb"));
        assert!(!compile(r"a.b").unwrap().is_match(b"a\x97b"));
        assert!(compile(r"^.{3}$")
            .unwrap()
            .is_match("\u{e9}\u{e9}\u{e9}".as_bytes()));
        assert!(compile(r"(?i)k").unwrap().is_match("\u{212A}".as_bytes()));
        // The decoder's stdlib patterns take any byte.
        assert!(compile_bytes(r"a.b").unwrap().is_match(b"a\x97b"));
    }

    #[test]
    fn bad_patterns_error() {
        assert!(compile(r"(abc").is_err());
        assert!(compile(r"\q").is_err());
        assert!(compile(r"[z-a]").is_err());
    }
}
