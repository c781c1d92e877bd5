//! Rendering a finished [`Report`] for people and machines: the terminal table, the JSON report
//! (docs/design.md §7), SARIF for GitHub code scanning (§8), the Markdown sign-off, JUnit XML for CI, a
//! self-contained HTML page and Prometheus metrics (§1).
//!
//! It owns output formats only. It must not evaluate, filter by gate, apply waivers or decide exit
//! codes: every renderer is a pure function of the report and the options, returning text that the
//! caller writes to stdout or a file. Resource names and messages come from the audited estate and
//! are untrusted: renderers make them inert for their medium (terminal, SARIF Markdown links,
//! Markdown, XML, HTML, Prometheus label values).

use std::fmt;
use std::str::FromStr;

use crate::finding::{outcome, Finding, Gate, GateSelection, Outcome, Report, Severity, Status};
use crate::text::inert;

mod document;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod metrics;
pub mod rules;
pub mod sarif;
pub mod table;

/// An output format of `audit --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Markdown,
    Junit,
    Html,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Markdown,
        Format::Junit,
        Format::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }

    /// File extension for `--output-dir`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "md",
            Format::Junit => "xml",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown format `{}` (expected one of: {})",
                    inert(s),
                    names.join(", ")
                )
            })
    }
}

/// What the caller asked for beyond the report itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Table: list passes too (`--all`). The JSON report always holds every finding.
    pub all: bool,
    /// SARIF: include waived findings, each with an accepted external suppression.
    pub sarif_include_waived: bool,
    /// Table: ANSI colours. Only when stdout is a terminal; never in files or pipes.
    pub color: bool,
    /// Table: wrap to this many columns (the terminal's width); `None` never wraps, so files
    /// and snapshots do not depend on the terminal the audit ran in.
    pub width: Option<u16>,
    /// Markdown, HTML: the gate the verdict is given for (`--gate`; default all rules).
    pub gate: Option<GateSelection>,
    /// Markdown, HTML: the severity threshold of the verdict (`--fail-on`; default low).
    pub fail_on: Option<Severity>,
    /// JSON: the run's statistics (`--stats`), added as a `stats` object.
    pub stats: Option<crate::stats::Stats>,
    /// Markdown, HTML: the map of the estate, drawn in a "Map" section (`audit` passes the one
    /// it took); `None` leaves the section out.
    pub map: Option<crate::map::EstateMap>,
}

/// Renders `report` in `format`. The text ends with a newline.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report, opts.stats.as_ref()),
        Format::Sarif => sarif::render(report, opts.sarif_include_waived),
        Format::Markdown => markdown::render(report, opts),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report, opts),
    }
}

/// [`render`] written to `w`. The JSON report and SARIF are streamed as they are serialised
/// instead of being built as one string first, which at a large estate was most of the audit's
/// peak memory (docs/performance.md).
pub fn write(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, opts.stats.as_ref(), w),
        Format::Sarif => sarif::write(report, opts.sarif_include_waived, w),
        Format::Html => html::render_to(report, opts, Sink::writer(w)).map(|_| ()),
        Format::Junit => junit::render_to(report, Sink::writer(w)).map(|_| ()),
        other => w.write_all(render(report, other, opts).as_bytes()),
    }
}

/// Text a renderer writes as into a `String`, which goes to a writer in 64 KiB pieces when there
/// is one: a large page never sits in memory whole (docs/performance.md), and the
/// same code renders to a string for [`render`]. A write error is kept and returned by
/// [`Sink::finish`]; what follows it is dropped.
pub(crate) struct Sink<'w> {
    buf: String,
    to: Option<&'w mut dyn std::io::Write>,
    error: Option<std::io::Error>,
}

impl<'w> Sink<'w> {
    /// Collects everything (for [`render`]).
    pub(crate) fn string() -> Sink<'static> {
        Sink {
            buf: String::new(),
            to: None,
            error: None,
        }
    }

    /// Passes everything on to `w` (for [`write`]).
    pub(crate) fn writer(w: &'w mut dyn std::io::Write) -> Sink<'w> {
        Sink {
            buf: String::with_capacity(1 << 16),
            to: Some(w),
            error: None,
        }
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
        if self.buf.len() >= 1 << 16 {
            self.spill();
        }
    }

    fn spill(&mut self) {
        if let Some(w) = self.to.as_mut() {
            if self.error.is_none() {
                if let Err(e) = w.write_all(self.buf.as_bytes()) {
                    self.error = Some(e);
                }
            }
            self.buf.clear();
        }
    }

    /// The text (for a string sink; empty for a writer's, which has had it all), or the first
    /// write error.
    pub(crate) fn finish(mut self) -> std::io::Result<String> {
        self.spill();
        if let Some(w) = self.to.as_mut() {
            if self.error.is_none() {
                if let Err(e) = w.flush() {
                    self.error = Some(e);
                }
            }
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }
}

impl fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// The judgement a sign-off document states, with what it rests on. The same rules as the exit
/// code ([`crate::finding::outcome`]): renderers state it, they do not invent their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub gate: GateSelection,
    pub fail_on: Severity,
    /// Unsuppressed failures in the gate at or above the threshold.
    pub failing: usize,
    /// Unknown findings in the gate.
    pub unknown: usize,
    pub collection_errors: usize,
    /// Expired waivers that count (under the launch gate).
    pub expired_waivers: usize,
}

impl Verdict {
    pub fn of(report: &Report, opts: &RenderOptions) -> Verdict {
        let gate = opts.gate.unwrap_or(GateSelection::All);
        let fail_on = opts.fail_on.unwrap_or(Severity::Low);
        let in_gate = |g: Gate| gate == GateSelection::All || g == Gate::Launch;
        let count = |pred: &dyn Fn(&Finding) -> bool| {
            report
                .findings
                .iter()
                .filter(|f| in_gate(f.gate) && pred(f))
                .count()
        };
        Verdict {
            outcome: outcome(report, gate, fail_on),
            gate,
            fail_on,
            failing: count(&|f| f.status == Status::Fail && f.severity.at_least(fail_on)),
            unknown: count(&|f| f.status == Status::Unknown),
            collection_errors: report.collection_errors.len(),
            expired_waivers: if gate == GateSelection::Launch {
                report
                    .waiver_issues
                    .iter()
                    .filter(|w| w.problem == "expired")
                    .count()
            } else {
                0
            },
        }
    }

    /// `PASS`, `FAIL` or `INCOMPLETE`.
    pub fn label(&self) -> &'static str {
        match self.outcome {
            Outcome::Clean => "PASS",
            Outcome::Failing => "FAIL",
            Outcome::Incomplete => "INCOMPLETE",
        }
    }

    /// The gate in words.
    pub fn gate_text(&self) -> &'static str {
        match self.gate {
            GateSelection::Launch => {
                "launch: the spec's blocking items (operate-gate monitoring rules are reported, not gating)"
            }
            GateSelection::All => "all rules (launch and operate)",
        }
    }

    /// One sentence: why this verdict.
    pub fn reason(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        match self.outcome {
            Outcome::Clean => format!(
                "no unsuppressed failure at or above {} in the gate, and the audit is complete",
                self.fail_on
            ),
            Outcome::Failing => format!(
                "{} at or above {} in the gate",
                plural(
                    self.failing,
                    "unsuppressed failure",
                    "unsuppressed failures"
                ),
                self.fail_on
            ),
            Outcome::Incomplete => {
                let mut why = Vec::new();
                if self.collection_errors > 0 {
                    why.push(plural(
                        self.collection_errors,
                        "collection error",
                        "collection errors",
                    ));
                }
                if self.unknown > 0 {
                    why.push(plural(self.unknown, "unknown finding", "unknown findings"));
                }
                if self.expired_waivers > 0 {
                    why.push(plural(
                        self.expired_waivers,
                        "expired waiver",
                        "expired waivers",
                    ));
                }
                let mut s = format!(
                    "the audit could not establish everything it checks ({})",
                    why.join(", ")
                );
                if self.failing > 0 {
                    s.push_str(&format!(
                        "; besides, {} at or above {}",
                        plural(self.failing, "failure", "failures"),
                        self.fail_on
                    ));
                }
                s
            }
        }
    }
}

/// The spec section a rule enforces: its `spec` text up to the first `:` (`Data Storage > Redis
/// Instance: internal access only` → `Data Storage > Redis Instance`).
pub fn spec_section(spec: &str) -> &str {
    let head = spec.split(':').next().unwrap_or("").trim();
    if head.is_empty() {
        "Other (no spec section)"
    } else {
        head
    }
}

/// Findings grouped by spec section (sections sorted by name), each group in the canonical order
/// (status, severity, rule, resource).
pub fn by_section(report: &Report) -> Vec<(&str, Vec<&Finding>)> {
    let mut groups: std::collections::BTreeMap<&str, Vec<&Finding>> = Default::default();
    for f in &report.findings {
        let spec = match report.rule(&f.rule_id) {
            Some(r) if f.spec.trim().is_empty() => r.spec.as_str(),
            _ => f.spec.as_str(),
        };
        groups.entry(spec_section(spec)).or_default().push(f);
    }
    groups
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| {
                (a.status, a.severity, &a.rule_id, &a.resource_id).cmp(&(
                    b.status,
                    b.severity,
                    &b.rule_id,
                    &b.resource_id,
                ))
            });
            (k, v)
        })
        .collect()
}

/// `waived` for `suppressed` (what a reader calls it); the other statuses as they are.
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Suppressed => "waived",
        other => other.as_str(),
    }
}

/// A JSON evidence value as one short line: strings bare, everything else as compact JSON, cut to
/// `max` characters. The caller escapes it for its medium.
pub fn evidence_value(v: &serde_json::Value, max: usize) -> String {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > max {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sink_passes_everything_on_in_pieces_and_keeps_the_first_write_error() {
        use std::fmt::Write as _;
        let piece = "<tr><td>x</td></tr>\n";
        let mut expected = String::new();
        let mut to = Vec::new();
        let mut sink = Sink::writer(&mut to);
        for i in 0..10_000 {
            let _ = write!(sink, "{i}:");
            sink.push_str(piece);
            expected.push_str(&format!("{i}:{piece}"));
        }
        assert!(expected.len() > 3 << 16, "several pieces");
        assert_eq!(sink.finish().unwrap(), "");
        assert_eq!(String::from_utf8(to).unwrap(), expected);

        let mut collect = Sink::string();
        collect.push_str(&expected);
        assert_eq!(collect.finish().unwrap(), expected);

        struct Full;
        impl std::io::Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut full = Full;
        let mut sink = Sink::writer(&mut full);
        sink.push_str(&expected);
        assert_eq!(sink.finish().unwrap_err().to_string(), "disk full");
    }

    #[test]
    fn format_parses_and_displays_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml\u{1b}[2J".parse::<Format>().unwrap_err();
        assert!(err.contains("xml\\u{1b}[2J"), "{err}");
        assert!(
            err.contains("table, json, sarif, markdown, junit, html"),
            "{err}"
        );
    }

    #[test]
    fn spec_sections_are_the_text_before_the_colon() {
        assert_eq!(
            spec_section("Data Storage > Redis Instance: internal access only"),
            "Data Storage > Redis Instance"
        );
        assert_eq!(
            spec_section("Data Storage > MySQL/MariaDB Database"),
            "Data Storage > MySQL/MariaDB Database"
        );
        assert_eq!(spec_section(" : x"), "Other (no spec section)");
        assert_eq!(spec_section(""), "Other (no spec section)");
    }
}
