//! Workflow commands (`::error file=..,line=..::msg`), the fallback when the token
//! cannot write check runs (forked pull requests).

use crate::finding::{CheckResult, Severity};

/// Data escaping of workflow commands.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property escaping: data escaping plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn command_for(r: &CheckResult, path: Option<&str>) -> String {
    let kind = match r.severity.unwrap_or(Severity::Blocker) {
        Severity::Blocker => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let (Some(p), Some(l)) = (path, &r.location) {
        props.push(format!("file={}", escape_property(p)));
        if let Some(line) = l.line {
            props.push(format!("line={line}"));
            let end = l.end_line.unwrap_or(line);
            if end != line {
                props.push(format!("endLine={end}"));
            } else if let Some(c) = l.column {
                props.push(format!("col={c}"));
                if let Some(ec) = l.end_column.filter(|ec| *ec > c) {
                    props.push(format!("endColumn={ec}"));
                }
            }
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} {}", r.id, r.target))
    ));
    format!(
        "::{kind} {}::{}",
        props.join(","),
        escape_data(&format!("{}\nFix: {}", r.message, r.fix))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner_expects() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        let mut r = CheckResult::new("secrets.leak", "src/a.rs:3", crate::finding::Status::Fail);
        r.severity = Some(Severity::Blocker);
        r.message = "AWS key, line 3".into();
        r.location = Some(crate::finding::Location {
            path: "src/a.rs".into(),
            line: Some(3),
            column: Some(5),
            end_line: Some(3),
            end_column: Some(25),
        });
        let c = command_for(&r, Some("src/a.rs"));
        assert!(c.starts_with("::error file=src/a.rs,line=3,col=5,endColumn=25,title=secrets.leak src/a.rs%3A3::AWS key, line 3%0AFix: "), "{c}");
    }
}
