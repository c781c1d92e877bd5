//! Rendering a finished [`Report`] for people and machines: the terminal table, the JSON report
//! (DESIGN.md §7) and SARIF for GitHub code scanning (§8).
//!
//! It owns output formats only. It must not evaluate, filter by gate, apply waivers or decide exit
//! codes: every renderer is a pure function of the report and the options, returning text that the
//! caller writes to stdout or a file. Resource names and messages come from the audited estate and
//! are untrusted: renderers make them inert for their medium (terminal, SARIF Markdown links).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::finding::Report;

pub mod json;
pub mod rules;
pub mod sarif;
pub mod table;

/// An output format of `audit --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Table, Format::Json, Format::Sarif];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
        }
    }

    /// File extension for `--output-dir`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Sarif => "sarif",
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
}

/// Renders `report` in `format`. The text ends with a newline.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report, opts.sarif_include_waived),
    }
}

/// Makes untrusted text inert on a terminal: C0/C1 control characters (ESC included), DEL and
/// the Unicode bidirectional overrides ("Trojan Source") become visible `\u{..}` escapes, so a
/// resource name cannot move the cursor, recolour the screen, set the window title or reorder
/// what the reader sees. Newlines are escaped too: one finding stays on its own row.
pub fn inert(s: &str) -> Cow<'_, str> {
    fn dangerous(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_and_displays_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml\u{1b}[2J".parse::<Format>().unwrap_err();
        assert!(err.contains("xml\\u{1b}[2J"), "{err}");
        assert!(err.contains("table, json, sarif"), "{err}");
    }

    #[test]
    fn inert_escapes_controls_and_bidi_but_keeps_unicode() {
        assert!(matches!(inert("estate-db é ✓"), Cow::Borrowed(_)));
        assert_eq!(
            inert("a\u{1b}]0;pwned\u{7}b\nc\u{9b}d\u{202e}e"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{a}c\\u{9b}d\\u{202e}e"
        );
    }
}
