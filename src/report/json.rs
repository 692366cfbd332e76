//! `--format json`: the report exactly as SPEC §4.

use super::{Formatter, RenderOptions};
use crate::finding::Report;

pub struct Json;

impl Formatter for Json {
    fn render(&self, report: &Report, _: &RenderOptions) -> Result<String, String> {
        serde_json::to_string_pretty(report)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| e.to_string())
    }
}
