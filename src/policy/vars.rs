//! `${NAME}` / `${NAME:-default}` expansion. Expansion happens inside the scalar
//! deserializers (see `types.rs`), so a missing variable is reported at the line and
//! column of the scalar that used it.

use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct VarSource {
    /// `--set NAME=VALUE`, highest precedence.
    pub set: BTreeMap<String, String>,
    /// The policy's own `vars:` section.
    pub vars: BTreeMap<String, String>,
    /// Whether the process environment is consulted last.
    pub use_env: bool,
}

impl VarSource {
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.set.get(name) {
            return Some(v.clone());
        }
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        if self.use_env {
            return std::env::var(name).ok();
        }
        None
    }
}

thread_local! {
    static CURRENT: RefCell<Option<VarSource>> = const { RefCell::new(None) };
}

/// Runs `f` with `src` as the variable source for every scalar deserialized inside it.
pub fn with_source<T>(src: VarSource, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<VarSource>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().replace(src));
    let _reset = Reset(prev);
    f()
}

/// Expands with the current source; without one (e.g. presets) `${..}` stays literal.
pub fn expand_current(s: &str) -> Result<String, String> {
    CURRENT.with(|c| match &*c.borrow() {
        Some(src) => expand(s, src),
        None => Ok(s.to_string()),
    })
}

/// `$${` escapes a literal `${`.
pub fn expand(s: &str, src: &VarSource) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = stripped;
            continue;
        }
        if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unterminated variable reference `${{{body}`"))?;
            let inner = &body[..end];
            let (name, default) = match inner.find(":-") {
                Some(i) => (&inner[..i], Some(&inner[i + 2..])),
                None => (inner, None),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                return Err(format!("invalid variable name `{name}` in `${{{inner}}}`"));
            }
            match src.lookup(name) {
                Some(v) => out.push_str(&v),
                None => match default {
                    Some(d) => out.push_str(&expand(d, src)?),
                    None => {
                        return Err(format!(
                            "variable `{name}` is not set (pass --set {name}=VALUE, export it, or write ${{{name}:-default}})"
                        ))
                    }
                },
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> VarSource {
        let mut s = VarSource::default();
        s.set.insert("A".into(), "1".into());
        s.vars.insert("site".into(), "https://x".into());
        s.vars.insert("A".into(), "shadowed".into());
        s
    }

    #[test]
    fn expands_set_before_vars() {
        assert_eq!(expand("${A}-${site}/", &src()).unwrap(), "1-https://x/");
    }

    #[test]
    fn default_used_when_missing() {
        assert_eq!(expand("${NOPE:-d}", &src()).unwrap(), "d");
        assert_eq!(expand("${NOPE:-}", &src()).unwrap(), "");
    }

    #[test]
    fn missing_is_error_naming_it() {
        let e = expand("x ${MISSING_ONE} y", &src()).unwrap_err();
        assert!(e.contains("MISSING_ONE"), "{e}");
    }

    #[test]
    fn escapes_and_lone_dollars() {
        assert_eq!(expand("$${A} $5 $", &src()).unwrap(), "${A} $5 $");
        assert!(expand("${A", &src()).is_err());
    }
}
