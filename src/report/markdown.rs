//! The Markdown sign-off (`--format markdown`): what a pre-launch gate posts to
//! `$GITHUB_STEP_SUMMARY` or a PR comment. A verdict for the selected gate (PASS / FAIL /
//! INCOMPLETE) with its reason, the scope, counts per status and gate, the changes since the
//! baseline, collection errors and waiver issues, then every finding grouped by spec section:
//! failing, unknown and waived ones in a table with evidence and waiver reasons, passes (the
//! evidence a sign-off rests on) folded under `<details>`.
//!
//! It owns layout and GitHub-flavoured-Markdown escaping. It must not judge (the verdict comes from
//! [`Verdict`], i.e. `finding::outcome`). Everything from the estate is untrusted: identifiers go into
//! code spans, free text through [`text`], so no name can add markup, HTML, links, images,
//! mentions or table cells. The document fits GitHub's 1 MiB step-summary limit: when it would not,
//! passes are counted instead of listed, and if that is still too large it is cut at a line with a
//! note saying so.

use std::fmt::Write as _;

use super::{by_section, evidence_value, status_word, RenderOptions, Verdict};
use crate::finding::{Diff, DiffEntry, Finding, Gate, Report, Status};
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
    let full = document(report, opts, true);
    if full.len() <= limit {
        return full;
    }
    let note = format!(
        "\n> **Truncated.** The full sign-off is {} bytes, over the {limit}-byte limit of a GitHub \
         step summary: passing findings are counted, not listed. Every finding, with its evidence, \
         is in the JSON report (`--format json`, or `report.json` of `--output-dir`).\n",
        full.len()
    );
    let lean = document(report, opts, false);
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

fn document(report: &Report, opts: &RenderOptions, list_passes: bool) -> String {
    let v = Verdict::of(report, opts);
    let mut out = String::new();
    let _ = writeln!(out, "# Estate audit sign-off: {}\n", v.label());
    let _ = writeln!(out, "**{}**: {}.\n", v.label(), v.reason());

    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| gate | {} |", v.gate_text());
    let _ = writeln!(out, "| fails on | {} and above |", v.fail_on);
    let _ = writeln!(
        out,
        "| generated | {} by {} {} |",
        report.generated_at.format("%Y-%m-%dT%H:%M:%SZ"),
        text(&report.tool.name),
        text(&report.tool.version)
    );
    let list = |xs: &[String]| {
        if xs.is_empty() {
            "none".to_string()
        } else {
            xs.iter().map(|x| code(x)).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(out, "| AWS accounts | {} |", list(&report.scope.accounts));
    let _ = writeln!(out, "| regions | {} |", list(&report.scope.regions));
    let _ = writeln!(
        out,
        "| Cloudflare zones | {} |",
        list(&report.scope.cloudflare_zones)
    );
    let _ = writeln!(
        out,
        "| evaluated | {} rules over {} resources: {} findings |\n",
        report.summary.rules_evaluated, report.summary.resources, report.summary.total
    );

    out.push_str("## Summary\n\n");
    out.push_str("| status | launch | operate | total |\n|---|---:|---:|---:|\n");
    for s in [
        Status::Fail,
        Status::Unknown,
        Status::Suppressed,
        Status::Pass,
    ] {
        let n = |g: Option<Gate>| report.count(s, g);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            status_word(s),
            n(Some(Gate::Launch)),
            n(Some(Gate::Operate)),
            n(None)
        );
    }
    out.push('\n');

    if let Some(d) = &report.diff {
        diff_section(&mut out, d);
    }

    if !report.collection_errors.is_empty() {
        let _ = writeln!(
            out,
            "## Collection errors ({})\n\nRules over these kinds are `unknown`: the audit is incomplete.\n",
            report.collection_errors.len()
        );
        out.push_str("| provider | service | region | error | kinds | message |\n|---|---|---|---|---|---|\n");
        for e in &report.collection_errors {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:?} | {} | {} |",
                code(&e.provider),
                code(&e.service),
                e.region.as_deref().map_or_else(|| "—".to_string(), code),
                e.kind,
                e.kinds
                    .iter()
                    .map(|k| code(k))
                    .collect::<Vec<_>>()
                    .join(", "),
                text(&clip(&e.message, MESSAGE_MAX))
            );
        }
        out.push('\n');
    }

    if !report.waiver_issues.is_empty() {
        let _ = writeln!(
            out,
            "## Waiver issues ({})\n\nAn expired waiver suppresses nothing (and fails the launch gate); an unused one matches no finding.\n",
            report.waiver_issues.len()
        );
        out.push_str(
            "| problem | rule | resource | expires | reason | source |\n|---|---|---|---|---|---|\n",
        );
        for w in &report.waiver_issues {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                text(&w.problem),
                code(&w.rule),
                code(&w.resource),
                w.expires,
                text(&clip(&w.reason, MESSAGE_MAX)),
                code(&w.source)
            );
        }
        out.push('\n');
    }

    out.push_str("## Findings by spec section\n\n");
    let sections = by_section(report);
    if sections.is_empty() {
        out.push_str("No findings.\n");
    }
    for (section, findings) in sections {
        let _ = writeln!(out, "### {}\n", text(section));
        let mut counts = Vec::new();
        for s in [
            Status::Fail,
            Status::Unknown,
            Status::Suppressed,
            Status::Pass,
        ] {
            let n = findings.iter().filter(|f| f.status == s).count();
            if n > 0 {
                counts.push(format!("{n} {}", status_word(s)));
            }
        }
        let _ = writeln!(out, "{}\n", counts.join(" · "));

        let open: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.status != Status::Pass)
            .collect();
        if !open.is_empty() {
            out.push_str("| status | severity | gate | rule | resource | details |\n|---|---|---|---|---|---|\n");
            for f in open {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    match f.status {
                        Status::Fail => "**fail**",
                        s => status_word(s),
                    },
                    f.severity,
                    f.gate,
                    code(&f.rule_id),
                    resource(f),
                    details(f)
                );
            }
            out.push('\n');
        }

        let passes: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.status == Status::Pass)
            .collect();
        if !passes.is_empty() {
            if list_passes {
                let _ = writeln!(
                    out,
                    "<details><summary>{} passing</summary>\n\n| severity | gate | rule | resource | evidence |\n|---|---|---|---|---|",
                    passes.len()
                );
                for f in passes {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        f.severity,
                        f.gate,
                        code(&f.rule_id),
                        resource(f),
                        evidence(f)
                    );
                }
                out.push_str("\n</details>\n\n");
            } else {
                let _ = writeln!(
                    out,
                    "{} passing (not listed: see the note at the end).\n",
                    passes.len()
                );
            }
        }
    }
    out
}

fn diff_section(out: &mut String, d: &Diff) {
    if d.no_baseline {
        out.push_str("## Changes\n\nFirst run: no earlier report to compare with; every open finding counts as new.\n\n");
    } else {
        let since = d
            .baseline_generated_at
            .map(|t| format!(" ({})", t.format("%Y-%m-%dT%H:%M:%SZ")))
            .unwrap_or_default();
        let _ = writeln!(out, "## Changes since the previous run{since}\n");
    }
    let _ = writeln!(
        out,
        "{} new · {} resolved · {} still open\n",
        d.new.len(),
        d.resolved.len(),
        d.still_open.len()
    );
    let rows: Vec<(&str, &DiffEntry)> = d
        .new
        .iter()
        .map(|e| ("new", e))
        .chain(d.resolved.iter().map(|e| ("resolved", e)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("| change | now | before | severity | gate | rule | resource |\n|---|---|---|---|---|---|---|\n");
    for (change, e) in rows {
        let name = if e.resource_name.is_empty() || e.resource_name == e.resource_id {
            code(&e.resource_id)
        } else {
            format!("{}<br>{}", code(&e.resource_name), code(&e.resource_id))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            change,
            e.status.map_or("gone", status_word),
            e.previous_status.map_or("—", status_word),
            e.severity,
            e.gate,
            code(&e.rule_id),
            name
        );
    }
    out.push('\n');
}

fn resource(f: &Finding) -> String {
    if f.resource_name.is_empty() || f.resource_name == f.resource_id {
        code(&f.resource_id)
    } else {
        format!("{}<br>{}", code(&f.resource_name), code(&f.resource_id))
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

fn details(f: &Finding) -> String {
    let mut parts = vec![text(&clip(&f.message, MESSAGE_MAX))];
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
