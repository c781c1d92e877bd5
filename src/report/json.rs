//! The JSON report (DESIGN.md §7): the [`Report`] as serde gives it, every finding included
//! (passes too; `--all` changes only the table). It owns nothing but the framing; the shape is
//! `finding::Report`'s, so changing it there changes the contract (bump `REPORT_SCHEMA_VERSION`).
//! With `--stats`, an additive `stats` object (`crate::stats::Stats`) follows the report's keys.

use std::io::Write;

use serde::Serialize;

use crate::finding::Report;
use crate::stats::Stats;

/// The report with the run's statistics after its own keys (flattened, so every other byte is
/// the plain report's).
#[derive(Serialize)]
struct WithStats<'a> {
    #[serde(flatten)]
    report: &'a Report,
    stats: &'a Stats,
}

/// [`render`] written straight to `w` as it is produced (no copy of the whole report in memory:
/// at 100,000 findings the text is ~90 MB). Errors are the writer's.
pub fn write(report: &Report, stats: Option<&Stats>, w: &mut dyn Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    let done = match stats {
        None => serde_json::to_writer_pretty(&mut w, report),
        Some(stats) => serde_json::to_writer_pretty(&mut w, &WithStats { report, stats }),
    };
    match done {
        Ok(()) => {}
        // An I/O error is the writer's; anything else cannot happen with the types in `finding`
        // (string map keys only): say so in the output rather than leave it cut off silently.
        Err(e) if e.is_io() => return Err(std::io::Error::other(e)),
        Err(e) => write!(
            w,
            "{}",
            serde_json::json!({"error": format!("cannot serialise the report: {e}")})
        )?,
    }
    w.write_all(b"\n")?;
    w.flush()
}

/// Pretty-printed JSON with a trailing newline; `stats` adds the `stats` object.
pub fn render(report: &Report, stats: Option<&Stats>) -> String {
    let text = match stats {
        None => serde_json::to_string_pretty(report),
        Some(stats) => serde_json::to_string_pretty(&WithStats { report, stats }),
    };
    match text {
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
