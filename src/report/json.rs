//! The JSON report (docs/design.md §7): the [`Report`] as serde gives it, every finding included
//! (passes too; `--all` changes only the table). It owns nothing but the framing; the shape is
//! `finding::Report`'s, so changing it there changes the contract (bump `REPORT_SCHEMA_VERSION`).
//! With `--stats`, an additive `stats` object (`crate::stats::Stats`) follows the report's keys.

use std::io::Write;

use serde::Serialize;

use crate::finding::{Finding, Report};
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
/// the report's text is the largest thing a large audit makes). Errors are the writer's. A large report's findings
/// are serialised on every core (see [`write_parallel`]); the bytes are the same.
pub fn write(report: &Report, stats: Option<&Stats>, w: &mut dyn Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    let threads = crate::sys::threads();
    if threads > 1 && report.findings.len() >= PARALLEL_FINDINGS {
        write_parallel(report, stats, threads, &mut w)?;
        w.write_all(b"\n")?;
        return w.flush();
    }
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

/// From this many findings the report is serialised on several threads.
const PARALLEL_FINDINGS: usize = 8192;
/// Findings one thread serialises per round: the text in memory at once is this times the
/// threads, never the whole report (sizes: docs/performance.md).
const BLOCK: usize = 2048;

/// The report as [`write`]'s sequential path gives it, with the findings serialised in blocks,
/// one per thread and round, and written in order. Serialising is most of a large report's
/// rendering (string escaping above all), and each finding is independent: the report without
/// its findings is serialised as serde gives it (`findings: []`), and the array is filled in
/// where that empty array is, each finding at its depth (2) of the pretty layout.
fn write_parallel(
    report: &Report,
    stats: Option<&Stats>,
    threads: usize,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let frame =
        serde_json::to_vec_pretty(&Frame { report, stats }).map_err(std::io::Error::other)?;
    // Top-level keys are the only ones at two spaces of indentation, and a raw newline can only
    // be structure (inside strings it is escaped): this is the frame's own findings array.
    const EMPTY: &[u8] = b"\n  \"findings\": []";
    let at = frame
        .windows(EMPTY.len())
        .position(|win| win == EMPTY)
        .ok_or_else(|| std::io::Error::other("the report frame has no findings array"))?;
    w.write_all(&frame[..at])?;
    w.write_all(b"\n  \"findings\": [")?;
    let render = |base: usize, block: &[Finding]| -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(block.len() * 900);
        for (i, f) in block.iter().enumerate() {
            out.extend_from_slice(if base + i == 0 { b"\n    " } else { b",\n    " });
            let mut ser = serde_json::Serializer::with_formatter(&mut out, Indented::at(2));
            f.serialize(&mut ser).map_err(std::io::Error::other)?;
        }
        Ok(out)
    };
    let round = BLOCK * threads;
    for (r, findings) in report.findings.chunks(round).enumerate() {
        let mut blocks = findings.chunks(BLOCK).enumerate();
        let first = blocks.next();
        let texts: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|s| {
            let handles: Vec<_> = blocks
                .map(|(b, block)| s.spawn(move || render(r * round + b * BLOCK, block)))
                .collect();
            let mut texts = Vec::with_capacity(threads);
            if let Some((b, block)) = first {
                texts.push(render(r * round + b * BLOCK, block));
            }
            for h in handles {
                texts.push(
                    h.join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("a report thread died"))),
                );
            }
            texts
        });
        for text in texts {
            w.write_all(&text?)?;
        }
    }
    w.write_all(b"\n  ]")?;
    w.write_all(&frame[at + EMPTY.len()..])
}

/// The report without its findings (an empty array in their place), keys in `Report`'s order and
/// under its serde attributes, then the optional `stats`. The destructuring names every field,
/// so a field added to `Report` does not compile until it is placed here too; the tests compare
/// the whole output with serde's byte for byte.
struct Frame<'a> {
    report: &'a Report,
    stats: Option<&'a Stats>,
}

impl Serialize for Frame<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Report {
            schema_version,
            tool,
            generated_at,
            scope,
            summary,
            findings: _,
            collection_errors,
            waiver_issues,
            diff,
            rule_pack,
            rules: _,
        } = self.report;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema_version", schema_version)?;
        m.serialize_entry("tool", tool)?;
        m.serialize_entry("generated_at", generated_at)?;
        m.serialize_entry("scope", scope)?;
        m.serialize_entry("summary", summary)?;
        m.serialize_entry("findings", &[] as &[Finding])?;
        m.serialize_entry("collection_errors", collection_errors)?;
        m.serialize_entry("waiver_issues", waiver_issues)?;
        if let Some(diff) = diff {
            m.serialize_entry("diff", diff)?;
        }
        if let Some(pack) = rule_pack {
            m.serialize_entry("rule_pack", pack)?;
        }
        if let Some(stats) = self.stats {
            m.serialize_entry("stats", stats)?;
        }
        m.end()
    }
}

/// serde_json's pretty layout (two spaces per level), starting `level` levels deep: a value
/// serialised with it reads exactly as it would nested that deep in a pretty document.
struct Indented {
    level: usize,
    has_value: bool,
}

impl Indented {
    fn at(level: usize) -> Indented {
        Indented {
            level,
            has_value: false,
        }
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        w.write_all(if comma { b",\n" } else { b"\n" })?;
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// `]` or `}`: on a line of its own after members, right after the opening one if empty.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Pretty-printed JSON with a trailing newline; `stats` adds the `stats` object.
pub fn render(report: &Report, stats: Option<&Stats>) -> String {
    // The same bytes as [`write`] (a large report serialised on every core).
    let mut out = Vec::new();
    let text = write(report, stats, &mut out)
        .map_err(|e| e.to_string())
        .and_then(|()| String::from_utf8(out).map_err(|e| e.to_string()));
    match text {
        Ok(s) => s,
        // Unreachable (a vector takes every write; serde_json writes UTF-8), but the renderer
        // must not panic: emit a JSON document that says what went wrong rather than nothing.
        Err(e) => format!(
            "{}\n",
            serde_json::json!({"error": format!("cannot serialise the report: {e}")})
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report large enough for the parallel path, from the synthetic spec-shaped estate.
    fn large() -> Report {
        let policies = crate::policy::PolicySet::builtin().expect("built-in rules");
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-01T06:00:00Z")
            .expect("time")
            .to_utc();
        let inv = crate::synth::spec_shaped(12_000, 7);
        crate::audit::run(
            inv,
            None,
            &policies,
            &crate::suppress::WaiverSet::empty(),
            now,
        )
    }

    /// What the parallel path writes with `threads` threads, whatever the machine has.
    fn written(report: &Report, stats: Option<&Stats>, threads: usize) -> String {
        let mut out = Vec::new();
        write_parallel(report, stats, threads, &mut out).expect("written");
        out.push(b'\n');
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_parallel_writer_gives_serdes_bytes_with_and_without_optional_parts() {
        let mut report = large();
        assert!(
            report.findings.len() >= PARALLEL_FINDINGS + BLOCK,
            "several rounds"
        );
        let stats = Stats::default();
        for variant in 0..3 {
            match variant {
                0 => {}
                1 => {
                    report.diff = Some(crate::finding::Diff {
                        no_baseline: true,
                        ..Default::default()
                    });
                    report.rule_pack = None;
                }
                _ => report.findings.truncate(PARALLEL_FINDINGS + 1),
            }
            let plain = serde_json::to_string_pretty(&report).expect("serialised") + "\n";
            let with_stats = serde_json::to_string_pretty(&WithStats {
                report: &report,
                stats: &stats,
            })
            .expect("serialised")
                + "\n";
            // Two threads, three (a last round with fewer blocks than threads).
            for threads in [2, 3] {
                let what = format!("variant {variant}, {threads} threads");
                assert!(written(&report, None, threads) == plain, "{what}");
                assert!(
                    written(&report, Some(&stats), threads) == with_stats,
                    "{what}, stats"
                );
            }
            // And through `write`, whichever path this machine takes.
            let mut out = Vec::new();
            write(&report, None, &mut out).expect("written");
            assert!(out == plain.as_bytes(), "variant {variant} through write");
        }
    }

    #[test]
    fn indented_matches_serdes_pretty_layout_at_the_top() {
        let value =
            serde_json::json!({"a": [], "b": {}, "c": [1, {"d": [true, null]}], "e": "x\n"});
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Indented::at(0));
        value.serialize(&mut ser).expect("serialised");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            serde_json::to_string_pretty(&value).expect("serialised")
        );
    }
}
