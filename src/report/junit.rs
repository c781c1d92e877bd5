//! JUnit XML (`--format junit`) for CI systems that show test reports: one `<testsuite>` per rule
//! and one `<testcase>` per rule × resource. `fail` is a `<failure>`, `unknown` an `<error>` (the
//! check could not run), a waived finding `<skipped>` with the waiver's reason and expiry, a pass
//! an empty test case. Collection errors and waiver issues get a suite each, so a CI view that
//! only counts failures and errors still sees an incomplete audit and an expired waiver.
//!
//! It owns the XML layout and XML escaping. It must not judge beyond mapping statuses. Everything
//! from the estate is escaped (`& < > " '`), characters XML 1.0 forbids (most C0 controls, lone
//! surrogates cannot occur in Rust strings, U+FFFE/U+FFFF) and terminal controls (ESC, C1, bidi
//! overrides) become visible `\u{..}` escapes, so the document always parses and no CI log viewer
//! is driven by a resource name.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{evidence_value, Sink};
use crate::finding::{Finding, Report, Status};
use crate::text::inert;

/// Longest evidence value written; the JSON report has the whole value.
const EVIDENCE_MAX: usize = 1000;

pub fn render(report: &Report) -> String {
    // A string sink never fails.
    render_to(report, Sink::string()).unwrap_or_default()
}

/// Tests, failures, errors and skipped: the counts of the document's head and of each suite.
type Totals = (usize, usize, usize, usize);

/// The document, into `suites` ([`super::write`] streams it to a file). The totals head the
/// document, so they are counted first; the suites then add up to them.
pub(crate) fn render_to(report: &Report, mut suites: Sink<'_>) -> std::io::Result<String> {
    let timestamp = report.generated_at.format("%Y-%m-%dT%H:%M:%S").to_string();

    let count = |s: Status| report.findings.iter().filter(|f| f.status == s).count();
    let expired = report
        .waiver_issues
        .iter()
        .filter(|w| w.problem == "expired")
        .count();
    let unjudged = unjudged_parts(report).len();
    let totals = (
        report.findings.len()
            + report.collection_errors.len()
            + report.waiver_issues.len()
            + unjudged,
        count(Status::Fail) + expired,
        count(Status::Unknown) + report.collection_errors.len(),
        count(Status::Suppressed) + unjudged,
    );
    suites.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        suites,
        r#"<testsuites name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="0" timestamp="{timestamp}">"#,
        attr(&report.tool.name),
        totals.0,
        totals.1,
        totals.2,
        totals.3
    );
    let written = [
        rule_suites(&mut suites, report, &timestamp),
        collection_suite(&mut suites, report, &timestamp),
        waiver_suite(&mut suites, report, &timestamp),
        monitoring_suite(&mut suites, report, &timestamp),
    ]
    .into_iter()
    .fold((0, 0, 0, 0), |a, b| {
        (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3)
    });

    // The suites add up to the totals the head states.
    debug_assert_eq!(written, totals);
    suites.push_str("</testsuites>\n");
    suites.finish()
}

/// One suite per rule, its findings sorted by resource.
fn rule_suites(suites: &mut Sink<'_>, report: &Report, timestamp: &str) -> Totals {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_rule.entry(f.rule_id.as_str()).or_default().push(f);
    }
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for (rule_id, mut findings) in by_rule {
        findings.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
        let n = |s: Status| findings.iter().filter(|f| f.status == s).count();
        let (t, fl, er, sk) = (
            findings.len(),
            n(Status::Fail),
            n(Status::Unknown),
            n(Status::Suppressed),
        );
        tests += t;
        failures += fl;
        errors += er;
        skipped += sk;
        let info = report.rule(rule_id);
        let _ = writeln!(
            suites,
            r#"  <testsuite name="{}" tests="{t}" failures="{fl}" errors="{er}" skipped="{sk}" time="0" timestamp="{timestamp}">"#,
            attr(rule_id)
        );
        suites.push_str("    <properties>\n");
        let mut prop = |name: &str, value: &str| {
            let _ = writeln!(
                suites,
                r#"      <property name="{}" value="{}"/>"#,
                attr(name),
                attr(value)
            );
        };
        if let Some(i) = info {
            prop("title", &i.title);
            prop("severity", i.severity.as_str());
            prop("gate", i.gate.as_str());
            prop("spec", &i.spec);
        } else if let Some(f) = findings.first() {
            prop("severity", f.severity.as_str());
            prop("gate", f.gate.as_str());
            prop("spec", &f.spec);
        }
        suites.push_str("    </properties>\n");
        for f in findings {
            testcase(suites, f, info.map(|i| i.title.as_str()));
        }
        suites.push_str("  </testsuite>\n");
    }
    (tests, failures, errors, skipped)
}

/// Collection errors: each one is an error, so "0 errors" in a CI view means a complete audit.
fn collection_suite(suites: &mut Sink<'_>, report: &Report, timestamp: &str) -> Totals {
    if report.collection_errors.is_empty() {
        return (0, 0, 0, 0);
    }
    let n = report.collection_errors.len();
    let _ = writeln!(
        suites,
        r#"  <testsuite name="estate-audit.collection" tests="{n}" failures="0" errors="{n}" skipped="0" time="0" timestamp="{timestamp}">"#
    );
    let mut sorted: Vec<_> = report.collection_errors.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.provider, &a.service, &a.region).cmp(&(&b.provider, &b.service, &b.region))
    });
    for e in sorted {
        let name = match &e.region {
            Some(r) => format!("{} {} [{}]", e.provider, e.service, r),
            None => format!("{} {}", e.provider, e.service),
        };
        let _ = writeln!(
            suites,
            r#"    <testcase name="{}" classname="estate-audit.collection">"#,
            attr(&name)
        );
        let _ = writeln!(
            suites,
            r#"      <error message="{}" type="{:?}">{}</error>"#,
            attr(&e.message),
            e.kind,
            body(&format!(
                "{}\nkinds now unknown: {}",
                e.message,
                e.kinds.join(", ")
            ))
        );
        suites.push_str("    </testcase>\n");
    }
    suites.push_str("  </testsuite>\n");
    (n, 0, n, 0)
}

/// The parts of the monitoring plane `[monitoring]` names that the audit did not judge.
fn unjudged_parts(report: &Report) -> Vec<&crate::model::MonitoringScope> {
    report
        .scope
        .monitoring
        .iter()
        .filter(|p| p.status != crate::model::MonitoringStatus::Audited)
        .collect()
}

/// Parts of the monitoring plane out of scope or not audited by this version: each skipped, so
/// a CI view shows what was not checked rather than nothing.
fn monitoring_suite(suites: &mut Sink<'_>, report: &Report, timestamp: &str) -> Totals {
    let parts = unjudged_parts(report);
    if parts.is_empty() {
        return (0, 0, 0, 0);
    }
    let n = parts.len();
    let _ = writeln!(
        suites,
        r#"  <testsuite name="estate-audit.monitoring" tests="{n}" failures="0" errors="0" skipped="{n}" time="0" timestamp="{timestamp}">"#
    );
    for p in parts {
        let _ = writeln!(
            suites,
            r#"    <testcase name="{}" classname="estate-audit.monitoring">"#,
            p.part.as_str()
        );
        let _ = writeln!(
            suites,
            r#"      <skipped message="{}"/>"#,
            attr(p.status.words())
        );
        suites.push_str("    </testcase>\n");
    }
    suites.push_str("  </testsuite>\n");
    (n, 0, 0, n)
}

/// Waiver issues: an expired waiver is a failure (it fails the launch gate); an unused one
/// passes with a note, since it hides nothing.
fn waiver_suite(suites: &mut Sink<'_>, report: &Report, timestamp: &str) -> Totals {
    if report.waiver_issues.is_empty() {
        return (0, 0, 0, 0);
    }
    let n = report.waiver_issues.len();
    let fl = report
        .waiver_issues
        .iter()
        .filter(|w| w.problem == "expired")
        .count();
    let _ = writeln!(
        suites,
        r#"  <testsuite name="estate-audit.waivers" tests="{n}" failures="{fl}" errors="0" skipped="0" time="0" timestamp="{timestamp}">"#
    );
    for w in &report.waiver_issues {
        let _ = writeln!(
            suites,
            r#"    <testcase name="{}" classname="estate-audit.waivers.{}">"#,
            attr(&format!("{} on {} ({})", w.rule, w.resource, w.source)),
            attr(&w.problem)
        );
        let text = format!(
            "{} waiver ({}), expires {}: {}",
            w.problem, w.source, w.expires, w.reason
        );
        if w.problem == "expired" {
            let _ = writeln!(
                suites,
                r#"      <failure message="{}" type="expired-waiver">{}</failure>"#,
                attr(&format!("waiver expired on {}", w.expires)),
                body(&text)
            );
        } else {
            let _ = writeln!(suites, "      <system-out>{}</system-out>", body(&text));
        }
        suites.push_str("    </testcase>\n");
    }
    suites.push_str("  </testsuite>\n");
    (n, fl, 0, 0)
}

fn testcase(out: &mut Sink<'_>, f: &Finding, title: Option<&str>) {
    let name = if f.resource_name.is_empty() || f.resource_name == f.resource_id {
        f.resource_id.to_string()
    } else {
        format!("{} ({})", f.resource_name, f.resource_id)
    };
    let _ = write!(
        out,
        r#"    <testcase name="{}" classname="estate-audit.{}.{}""#,
        attr(&name),
        f.gate,
        attr(&f.rule_id)
    );
    let mut detail = String::new();
    if let Some(t) = title {
        let _ = writeln!(detail, "expected: {t}");
    }
    let _ = writeln!(detail, "resource: {}", f.resource_id);
    let _ = writeln!(detail, "severity: {}, gate: {}", f.severity, f.gate);
    let _ = writeln!(detail, "{}", f.message);
    for (k, v) in &f.evidence {
        let _ = writeln!(detail, "{k}: {}", evidence_value(v, EVIDENCE_MAX));
    }
    match f.status {
        Status::Pass => out.push_str("/>\n"),
        Status::Fail => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                attr(&f.message),
                f.severity,
                body(&detail)
            );
        }
        Status::Unknown => {
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"unknown\">{}</error>\n    </testcase>",
                attr(&format!("could not be evaluated: {}", f.message)),
                body(&detail)
            );
        }
        Status::Suppressed => {
            let message = match &f.waiver {
                Some(w) => format!(
                    "waived until {}{}: {} ({})",
                    w.expires,
                    w.owner
                        .as_deref()
                        .map(|o| format!(" by {o}"))
                        .unwrap_or_default(),
                    w.reason,
                    w.source
                ),
                None => "waived".to_string(),
            };
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                attr(&message),
                body(&detail)
            );
        }
    }
}

/// Characters XML 1.0 allows (§2.2 `Char`).
fn xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !xml_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// An attribute value: one line, inert, escaped.
pub fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(&inert(s), &mut out);
    out
}

/// Element text: line breaks kept (CI viewers show them), every line inert and escaped.
pub fn body(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.trim_end_matches('\n').split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        escape(&inert(line), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_illegal_characters() {
        assert_eq!(attr("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(attr("x\u{0}y\u{1b}z"), "x\\u{0}y\\u{1b}z");
        assert_eq!(attr("\u{fffe}"), "\\u{fffe}");
        assert_eq!(body("a\nb\u{7}"), "a\nb\\u{7}");
        assert!(xml_char('é') && !xml_char('\u{b}'));
    }
}
