//! The HTML report (`--format html`): one self-contained page for people who would rather look than
//! read. The verdict, scope and counts, the changes since the baseline, collection errors, waiver
//! issues, then the findings per spec section (passes folded in `<details>`), and the rules with
//! their remediation.
//!
//! It owns the page: inline CSS, no script, no fonts, images or other fetched resources; a
//! Content-Security-Policy forbids loading anything, so the file opens offline and cannot phone
//! home. The only URLs are the rules' `https://` references, as plain links. It must not judge (the
//! verdict is [`Verdict`]'s). Every dynamic string goes through [`esc`]: HTML-escaped, controls
//! and bidi overrides made visible.

use std::fmt::Write as _;

use super::{by_section, evidence_value, status_word, RenderOptions, Sink, Verdict};
use crate::finding::{Finding, Gate, Outcome, Report, Status};
use crate::text::inert;

const EVIDENCE_MAX: usize = 300;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:80rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}h3{margin-top:1.5rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;color:#fff;font-weight:700}
.v-PASS{background:#1a7f37}.v-FAIL{background:#cf222e}.v-INCOMPLETE{background:#9a6700}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.s-fail{color:#cf222e;font-weight:700}.s-unknown{color:#9a6700;font-weight:700}.s-waived{color:#0969da}.s-pass{color:#1a7f37}
.muted{color:#59636e}details{margin:.5rem 0}summary{cursor:pointer}
";

/// The whole page (ends with a newline).
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    // A string sink never fails.
    render_to(report, opts, Sink::string()).unwrap_or_default()
}

/// The page, into `out` ([`super::write`] streams it to a file).
pub(crate) fn render_to(
    report: &Report,
    opts: &RenderOptions,
    mut out: Sink<'_>,
) -> std::io::Result<String> {
    let v = Verdict::of(report, opts);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Nothing may load: no scripts, images, fonts, frames or connections; inline style only.
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>Estate audit: {} ({})</title>",
        v.label(),
        report.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");

    let _ = writeln!(
        out,
        "<h1>Estate audit <span class=\"verdict v-{0}\">{0}</span></h1>",
        v.label()
    );
    let reason = v.reason();
    let mut cs = reason.chars();
    let reason = match cs.next() {
        Some(c) => c.to_uppercase().collect::<String>() + cs.as_str(),
        None => reason,
    };
    let _ = writeln!(out, "<p>{}.</p>", esc(&reason));
    out.push_str("<table>\n");
    let row = |out: &mut Sink<'_>, k: &str, v: String| {
        let _ = writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    row(&mut out, "gate", esc(v.gate_text()));
    row(&mut out, "fails on", format!("{} and above", v.fail_on));
    row(
        &mut out,
        "generated",
        format!(
            "{} by {} {}",
            report.generated_at.format("%Y-%m-%dT%H:%M:%SZ"),
            esc(&report.tool.name),
            esc(&report.tool.version)
        ),
    );
    let list = |xs: &[String]| {
        if xs.is_empty() {
            "none".to_string()
        } else {
            xs.iter()
                .map(|x| format!("<code>{}</code>", esc(x)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    row(&mut out, "AWS accounts", list(&report.scope.accounts));
    row(&mut out, "regions", list(&report.scope.regions));
    row(
        &mut out,
        "Cloudflare zones",
        list(&report.scope.cloudflare_zones),
    );
    row(
        &mut out,
        "evaluated",
        format!(
            "{} rules over {} resources: {} findings",
            report.summary.rules_evaluated, report.summary.resources, report.summary.total
        ),
    );
    out.push_str("</table>\n");

    out.push_str("<h2>Summary</h2>\n<table>\n<tr><th>status</th><th>launch</th><th>operate</th><th>total</th></tr>\n");
    for s in [
        Status::Fail,
        Status::Unknown,
        Status::Suppressed,
        Status::Pass,
    ] {
        let n = |g: Option<Gate>| report.count(s, g);
        let _ = writeln!(
            out,
            "<tr><td class=\"s-{0}\">{0}</td><td class=\"n\">{1}</td><td class=\"n\">{2}</td><td class=\"n\">{3}</td></tr>",
            status_word(s),
            n(Some(Gate::Launch)),
            n(Some(Gate::Operate)),
            n(None)
        );
    }
    out.push_str("</table>\n");

    if let Some(d) = &report.diff {
        if d.no_baseline {
            out.push_str("<h2>Changes</h2>\n<p>First run: no earlier report to compare with; every open finding counts as new.</p>\n");
        } else {
            let since = d
                .baseline_generated_at
                .map(|t| format!(" ({})", t.format("%Y-%m-%dT%H:%M:%SZ")))
                .unwrap_or_default();
            let _ = writeln!(out, "<h2>Changes since the previous run{since}</h2>");
        }
        let _ = writeln!(
            out,
            "<p>{} new · {} resolved · {} still open</p>",
            d.new.len(),
            d.resolved.len(),
            d.still_open.len()
        );
        let rows: Vec<_> = d
            .new
            .iter()
            .map(|e| ("new", e))
            .chain(d.resolved.iter().map(|e| ("resolved", e)))
            .collect();
        if !rows.is_empty() {
            out.push_str("<table>\n<tr><th>change</th><th>now</th><th>before</th><th>severity</th><th>gate</th><th>rule</th><th>resource</th></tr>\n");
            for (change, e) in rows {
                let now = e.status.map_or("gone", status_word);
                let _ = writeln!(
                    out,
                    "<tr><td>{change}</td><td class=\"s-{now}\">{now}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    e.previous_status.map_or("—", status_word),
                    e.severity,
                    e.gate,
                    esc(&e.rule_id),
                    name_and_id(&e.resource_name, &e.resource_id)
                );
            }
            out.push_str("</table>\n");
        }
    }

    if !report.collection_errors.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Collection errors ({})</h2>\n<p>Rules over these kinds are unknown: the audit is incomplete.</p>\n<table>\n<tr><th>provider</th><th>service</th><th>region</th><th>error</th><th>kinds</th><th>message</th></tr>",
            report.collection_errors.len()
        );
        for e in &report.collection_errors {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.provider),
                esc(&e.service),
                esc(e.region.as_deref().unwrap_or("—")),
                e.kind,
                e.kinds
                    .iter()
                    .map(|k| format!("<code>{}</code>", esc(k)))
                    .collect::<Vec<_>>()
                    .join(", "),
                esc(&e.message)
            );
        }
        out.push_str("</table>\n");
    }

    if !report.waiver_issues.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Waiver issues ({})</h2>\n<table>\n<tr><th>problem</th><th>rule</th><th>resource</th><th>expires</th><th>reason</th><th>source</th></tr>",
            report.waiver_issues.len()
        );
        for w in &report.waiver_issues {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&w.problem),
                esc(&w.rule),
                esc(&w.resource),
                w.expires,
                esc(&w.reason),
                esc(&w.source)
            );
        }
        out.push_str("</table>\n");
    }

    out.push_str("<h2>Findings by spec section</h2>\n");
    let sections = by_section(report);
    if sections.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    for (section, findings) in sections {
        let _ = writeln!(out, "<h3>{}</h3>", esc(section));
        let mut counts = Vec::new();
        for s in [
            Status::Fail,
            Status::Unknown,
            Status::Suppressed,
            Status::Pass,
        ] {
            let n = findings.iter().filter(|f| f.status == s).count();
            if n > 0 {
                counts.push(format!(
                    "<span class=\"s-{0}\">{n} {0}</span>",
                    status_word(s)
                ));
            }
        }
        let _ = writeln!(out, "<p>{}</p>", counts.join(" · "));
        let open: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.status != Status::Pass)
            .collect();
        if !open.is_empty() {
            findings_table(&mut out, &open, true);
        }
        let passes: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.status == Status::Pass)
            .collect();
        if !passes.is_empty() {
            let _ = writeln!(out, "<details><summary>{} passing</summary>", passes.len());
            findings_table(&mut out, &passes, false);
            out.push_str("</details>\n");
        }
    }

    if !report.rules.is_empty() {
        out.push_str("<h2>Rules</h2>\n<details><summary>How to fix each rule</summary>\n<table>\n<tr><th>rule</th><th>severity</th><th>gate</th><th>expected state</th><th>remediation</th><th>references</th></tr>\n");
        for r in &report.rules {
            let refs: Vec<String> = r
                .references
                .iter()
                .map(|u| {
                    // Only well-formed https links become links; anything else stays text.
                    if u.starts_with("https://")
                        && !u.contains(|c: char| {
                            c.is_whitespace()
                                || c.is_control()
                                || matches!(c, '"' | '<' | '>' | '\'' | '`')
                        })
                    {
                        format!(
                            "<a href=\"{0}\" rel=\"noreferrer noopener\">{0}</a>",
                            esc(u)
                        )
                    } else {
                        esc(u)
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "<tr id=\"rule-{0}\"><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
                esc(&r.id),
                r.severity,
                r.gate,
                esc(&r.title),
                esc(&r.remediation),
                refs.join("<br>")
            );
        }
        out.push_str("</table>\n</details>\n");
    }

    let _ = writeln!(
        out,
        "<p class=\"muted\">{}</p>\n</body>\n</html>",
        match v.outcome {
            Outcome::Incomplete =>
                "Unknown means the check could not read what it needs: it is not a pass.",
            _ =>
                "Generated by estate-audit; the JSON report holds every finding with its evidence.",
        }
    );
    out.finish()
}

fn findings_table(out: &mut Sink<'_>, findings: &[&&Finding], open: bool) {
    out.push_str("<table>\n<tr><th>status</th><th>severity</th><th>gate</th><th>rule</th><th>resource</th><th>details</th></tr>\n");
    for f in findings {
        let mut details = Vec::new();
        if open {
            details.push(esc(&f.message));
        }
        for (k, v) in &f.evidence {
            details.push(format!(
                "<code>{}</code>: <code>{}</code>",
                esc(k),
                esc(&evidence_value(v, EVIDENCE_MAX))
            ));
        }
        if let Some(w) = &f.waiver {
            let owner = w
                .owner
                .as_deref()
                .map(|o| format!(" by {}", esc(o)))
                .unwrap_or_default();
            details.push(format!(
                "<strong>waived</strong>{owner} until {}: {} (<code>{}</code>)",
                w.expires,
                esc(&w.reason),
                esc(&w.source)
            ));
        }
        let s = status_word(f.status);
        let _ = writeln!(
            out,
            "<tr><td class=\"s-{s}\">{s}</td><td>{}</td><td>{}</td><td><a href=\"#rule-{2}\"><code>{2}</code></a></td><td>{3}</td><td>{4}</td></tr>",
            f.severity,
            f.gate,
            esc(&f.rule_id),
            name_and_id(&f.resource_name, &f.resource_id),
            details.join("<br>")
        );
    }
    out.push_str("</table>\n");
}

fn name_and_id(name: &str, id: &str) -> String {
    if name.is_empty() || name == id {
        format!("<code>{}</code>", esc(id))
    } else {
        format!("{}<br><code class=\"muted\">{}</code>", esc(name), esc(id))
    }
}

/// Untrusted text for HTML element content or a quoted attribute: `& < > " '` escaped, controls
/// and bidi overrides made visible (so nothing reorders what the reader sees).
pub fn esc(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_markup_and_controls() {
        assert_eq!(
            esc("<a href='x'>\"&\u{1b}"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;\\u{1b}"
        );
    }
}
