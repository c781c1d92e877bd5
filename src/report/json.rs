//! The JSON report (DESIGN.md §7): the [`Report`] as serde gives it, every finding included
//! (passes too; `--all` changes only the table). It owns nothing but the framing; the shape is
//! `finding::Report`'s, so changing it there changes the contract (bump `REPORT_SCHEMA_VERSION`).

use crate::finding::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Unreachable with the types in `finding` (string map keys only), but the renderer must
        // not panic: emit a JSON document that says what went wrong rather than nothing.
        Err(e) => format!(
            "{}\n",
            serde_json::json!({"error": format!("cannot serialise the report: {e}")})
        ),
    }
}
