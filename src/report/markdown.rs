//! The Markdown sign-off (`--format markdown`): what a pre-launch gate posts to
//! `$GITHUB_STEP_SUMMARY` or a PR comment. A verdict for the selected gate (PASS / FAIL /
//! INCOMPLETE) with its reason, the scope, counts per status and gate, the changes since the
//! baseline, collection errors and waiver issues, then every finding grouped by spec section:
//! failing, unknown and waived ones in a table with evidence and waiver reasons, passes (the
//! evidence a sign-off rests on) folded under `<details>`.
//!
//! It owns the Markdown form of the document `report::document` describes (every block and
//! inline drawn one way wherever it occurs), the title line, clipping and GitHub-flavoured-Markdown
//! escaping. It must not decide what the document says (that is the document model's, so HTML
//! shows it too) nor judge (the verdict comes from [`super::Verdict`], i.e. `finding::outcome`).
//! Everything from the estate is untrusted: identifiers go into code spans, free text through
//! [`text`], so no name can add markup, HTML, links, images, mentions or table cells. The document
//! fits GitHub's 1 MiB step-summary limit: when it would not, passes are counted instead of
//! listed, and if that is still too large it is cut at a line with a note saying so.

use std::fmt::Write as _;

use super::document::{Align, Block, Inline, Medium, Passes, Shape, SignOff};
use super::{evidence_value, RenderOptions};
use crate::finding::{Finding, Report};
use crate::text::inert;

/// GitHub's limit for one step's summary (`$GITHUB_STEP_SUMMARY`), in bytes.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Longest evidence value shown; the JSON report has the whole value.
const EVIDENCE_MAX: usize = 200;
/// Longest message shown in a cell.
const MESSAGE_MAX: usize = 500;

/// The sign-off document, within [`STEP_SUMMARY_LIMIT`].
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    render_limited(report, opts, STEP_SUMMARY_LIMIT)
}

/// The sign-off document within `limit` bytes (tests use small limits).
pub fn render_limited(report: &Report, opts: &RenderOptions, limit: usize) -> String {
    let full = document(report, opts, Passes::Listed);
    if full.len() <= limit {
        return full;
    }
    let note = format!(
        "\n> **Truncated.** The full sign-off is {} bytes, over the {limit}-byte limit of a GitHub \
         step summary: passing findings are counted, not listed. Every finding, with its evidence, \
         is in the JSON report (`--format json`, or `report.json` of `--output-dir`).\n",
        full.len()
    );
    let lean = document(report, opts, Passes::Counted);
    if lean.len() + note.len() <= limit {
        return lean + &note;
    }
    let cut_note = format!(
        "\n> **Truncated.** This sign-off was cut at {limit} bytes (GitHub's step-summary limit); \
         the rest, and every finding with its evidence, is in the JSON report (`--format json`, or \
         `report.json` of `--output-dir`).\n"
    );
    let budget = limit.saturating_sub(cut_note.len());
    // Cut at the last whole line that fits: a table stays a table, a row is never half a row.
    let mut end = 0;
    for (i, _) in lean.match_indices('\n') {
        if i + 1 > budget {
            break;
        }
        end = i + 1;
    }
    let mut out = lean[..end].to_string();
    out.push_str(&cut_note);
    out
}

fn document(report: &Report, opts: &RenderOptions, passes: Passes) -> String {
    let doc = SignOff::new(
        report,
        opts,
        Shape {
            medium: Medium::Markdown,
            passes,
        },
    );
    let v = &doc.verdict;
    let mut out = String::new();
    let _ = writeln!(out, "# Estate audit sign-off: {}\n", v.label());
    let _ = writeln!(out, "**{}**: {}.\n", v.label(), v.reason());
    doc.blocks(&mut |b| block(&mut out, b));
    out
}

/// A block and the blank line after it (none after [`Block::Empty`]).
fn block(out: &mut String, b: Block<'_>) {
    match b {
        Block::Heading(level, title) => {
            out.push_str(&"#".repeat(usize::from(level)));
            out.push(' ');
            inline(out, &title);
            out.push_str("\n\n");
        }
        Block::Paragraph(p) => {
            inline(out, &p);
            out.push_str("\n\n");
        }
        Block::Empty(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Block::Map(map) => {
            // GitHub renders a `mermaid` block as the diagram; its labels are escaped by the map.
            out.push_str("```mermaid\n");
            out.push_str(&map.render(crate::map::MapFormat::Mermaid));
            out.push_str("```\n\n");
        }
        Block::Pairs(pairs) => {
            out.push_str("| | |\n|---|---|\n");
            for (k, v) in pairs {
                let _ = write!(out, "| {k} | ");
                inline(out, &v);
                out.push_str(" |\n");
            }
            out.push('\n');
        }
        Block::Table(t) => {
            out.push('|');
            for c in &t.columns {
                let _ = write!(out, " {} |", c.title);
            }
            out.push_str("\n|");
            for c in &t.columns {
                out.push_str(match c.align {
                    Align::Left => "---|",
                    Align::Right => "---:|",
                });
            }
            out.push('\n');
            for row in t.rows {
                out.push('|');
                for cell in &row.cells {
                    out.push(' ');
                    inline(out, cell);
                    out.push_str(" |");
                }
                out.push('\n');
            }
            out.push('\n');
        }
        Block::Details { summary, blocks } => {
            out.push_str("<details><summary>");
            inline(out, &summary);
            out.push_str("</summary>\n\n");
            for b in blocks {
                block(out, b);
            }
            out.push_str("</details>\n\n");
        }
    }
}

fn inline(out: &mut String, i: &Inline<'_>) {
    match i {
        Inline::Plain(s) => out.push_str(s),
        Inline::Text(s) => out.push_str(&text(s)),
        Inline::Message(s) => out.push_str(&text(&clip(s, MESSAGE_MAX))),
        Inline::Code(s) | Inline::Rule(s) => out.push_str(&code(s)),
        Inline::Status { word, strong } => {
            if *strong {
                let _ = write!(out, "**{word}**");
            } else {
                out.push_str(word);
            }
        }
        Inline::Count(n) => {
            let _ = write!(out, "{n}");
        }
        Inline::StatusCount(n, word) => {
            let _ = write!(out, "{n} {word}");
        }
        Inline::Resource { name, id } => out.push_str(&resource(name, id)),
        // Markdown shows an address as text: no link is ever formed from a rule file.
        Inline::Link(s) => out.push_str(&text(s)),
        Inline::Break => out.push_str("<br>"),
        Inline::Details { finding, message } => out.push_str(&details(finding, *message)),
        Inline::Evidence(f) => out.push_str(&evidence(f)),
        Inline::Seq(items) => {
            for i in items {
                inline(out, i);
            }
        }
    }
}

fn resource(name: &str, id: &str) -> String {
    if name.is_empty() || name == id {
        code(id)
    } else {
        format!("{}<br>{}", code(name), code(id))
    }
}

fn evidence(f: &Finding) -> String {
    if f.evidence.is_empty() {
        return "—".to_string();
    }
    f.evidence
        .iter()
        .map(|(k, v)| format!("{}: {}", code(k), code(&evidence_value(v, EVIDENCE_MAX))))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn details(f: &Finding, message: bool) -> String {
    let mut parts = Vec::new();
    if message {
        parts.push(text(&clip(&f.message, MESSAGE_MAX)));
    }
    if !f.evidence.is_empty() {
        parts.push(evidence(f));
    }
    if let Some(w) = &f.waiver {
        let owner = w
            .owner
            .as_deref()
            .map(|o| format!(" by {}", text(o)))
            .unwrap_or_default();
        parts.push(format!(
            "**waived**{owner} until {}: {} ({})",
            w.expires,
            text(&clip(&w.reason, MESSAGE_MAX)),
            code(&w.source)
        ));
    }
    parts.join("<br>")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// Untrusted text, inert in GitHub-flavoured Markdown, inside or outside a table cell: controls and
/// newlines become visible escapes (so every construct is inline); HTML's `<`, `>`, `&` become
/// entities; the characters that start inline Markdown (emphasis, strikethrough, links, images,
/// code spans, cell breaks, math, emoji shortcodes) are backslash-escaped; `@` and `#` also get a
/// word joiner after them so a name cannot mention a team or link an issue.
pub fn text(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' | '#' => {
                out.push('\\');
                out.push(c);
                out.push('\u{2060}');
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '$' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as a code span inside a table cell: literal (no markup, HTML, links or mentions
/// are recognised in code), fenced with more backticks than any run inside, `|` escaped (GFM
/// splits cells before it parses code spans) and controls made visible.
pub fn code(s: &str) -> String {
    let s = inert(s).replace('|', "\\|");
    if s.is_empty() {
        return "—".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    // A space on each side when the text touches a backtick or a space, which CommonMark strips.
    let pad = s.starts_with(['`', ' ']) || s.ends_with(['`', ' ']);
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_html_and_mentions() {
        assert_eq!(text("a*b_c"), "a\\*b\\_c");
        assert_eq!(text("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(text("[x](y)"), "\\[x\\]\\(y\\)");
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("@org/team"), "\\@\u{2060}org/team");
        assert_eq!(text("a\nb"), "a\\\\u{a}b");
        assert_eq!(text("é ✓"), "é ✓");
    }

    #[test]
    fn code_spans_fence_longer_than_any_backtick_run() {
        assert_eq!(code("estate-db"), "`estate-db`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code(""), "—");
        assert_eq!(code("a\u{1b}[2J"), "`a\\u{1b}[2J`");
    }
}
