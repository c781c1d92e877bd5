//! Prometheus metrics (`--metrics FILE`) in the text exposition format, for node_exporter's textfile
//! collector and the spec's Grafana dashboards: findings by rule, severity, status and gate;
//! collection errors by provider and service; the run's duration; the last time an audit was
//! complete; changes since the baseline.
//!
//! It owns metric names, HELP texts and label escaping (`\`, `"` and newline, as the exposition
//! format requires; other controls made visible). It must not read the clock or files: the caller
//! passes the duration and, for an incomplete run, the last success timestamp carried over from
//! the previous file ([`previous_last_success`]), so "time since the last complete audit" keeps
//! working when a run is incomplete.
//!
//! Every rule gets a sample for every status (zeros included): a series that disappears when a
//! finding is fixed would leave dashboards showing its last non-zero value.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::finding::{Gate, Report, Severity, Status};

pub const LAST_SUCCESS: &str = "estate_audit_last_success_timestamp_seconds";

/// What the metrics need besides the report.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunInfo {
    /// Wall time of the audit.
    pub duration: Duration,
    /// From the previous metrics file, used when this run is incomplete.
    pub previous_last_success: Option<f64>,
}

/// A label value escaped for the exposition format: `\\`, `\"` and `\n` as it requires. Other
/// controls (ESC, C1) and bidi overrides are legal in a label but would drive a terminal that
/// `cat`s the file: they become a visible `\\u{..}` (an escaped backslash, since `\u` is not a
/// valid escape of the format).
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control()
                || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// Formats a float the way Prometheus parses it (integers without a fraction).
fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// Each part of the monitoring plane `[monitoring]` names and what the audit did with it; nothing
/// without the section.
fn monitoring_parts(out: &mut String, report: &Report) {
    if report.scope.monitoring.is_empty() {
        return;
    }
    header(
        out,
        "estate_audit_monitoring_part",
        "Each part of the monitoring plane estate.toml names, by what the audit did with it (audited, out_of_scope, not_audited_yet).",
    );
    for p in &report.scope.monitoring {
        let _ = writeln!(
            out,
            "estate_audit_monitoring_part{{part=\"{}\",status=\"{}\"}} 1",
            p.part.as_str(),
            p.status.as_str()
        );
    }
}

/// The exposition text (ends with a newline).
pub fn render(report: &Report, run: &RunInfo) -> String {
    let mut out = String::new();

    // Every rule (described in the report or seen in a finding) with its severity and gate.
    let mut rules: BTreeMap<&str, (Severity, Gate)> = BTreeMap::new();
    for r in &report.rules {
        rules.insert(r.id.as_str(), (r.severity, r.gate));
    }
    for f in &report.findings {
        rules
            .entry(f.rule_id.as_str())
            .or_insert((f.severity, f.gate));
    }
    let mut counts: BTreeMap<(&str, Status), usize> = BTreeMap::new();
    for f in &report.findings {
        *counts.entry((f.rule_id.as_str(), f.status)).or_default() += 1;
    }
    header(
        &mut out,
        "estate_audit_findings",
        "Findings of the last audit by rule, severity, status (pass, fail, unknown, suppressed) and gate (launch, operate).",
    );
    for (rule, (severity, gate)) in &rules {
        for status in [
            Status::Fail,
            Status::Unknown,
            Status::Suppressed,
            Status::Pass,
        ] {
            let _ = writeln!(
                out,
                "estate_audit_findings{{rule=\"{}\",severity=\"{severity}\",status=\"{status}\",gate=\"{gate}\"}} {}",
                label(rule),
                counts.get(&(*rule, status)).copied().unwrap_or(0)
            );
        }
    }

    header(
        &mut out,
        "estate_audit_collection_errors",
        "Services that failed to collect in the last audit, by provider and service (rules over them are unknown).",
    );
    let mut errors: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for e in &report.collection_errors {
        *errors
            .entry((e.provider.as_str(), e.service.as_str()))
            .or_default() += 1;
    }
    for ((provider, service), n) in errors {
        let _ = writeln!(
            out,
            "estate_audit_collection_errors{{provider=\"{}\",service=\"{}\"}} {n}",
            label(provider),
            label(service)
        );
    }

    monitoring_parts(&mut out, report);

    header(
        &mut out,
        "estate_audit_complete",
        "1 if the last audit was complete (no collection error, no unknown finding), else 0.",
    );
    let complete = !report.summary.incomplete && report.collection_errors.is_empty();
    let _ = writeln!(out, "estate_audit_complete {}", u8::from(complete));

    header(
        &mut out,
        "estate_audit_resources",
        "Resources audited in the last audit.",
    );
    let _ = writeln!(out, "estate_audit_resources {}", report.summary.resources);

    header(
        &mut out,
        "estate_audit_waiver_issues",
        "Waivers needing a human in the last audit, by problem (expired, unused).",
    );
    let mut issues: BTreeMap<&str, usize> = BTreeMap::from([("expired", 0), ("unused", 0)]);
    for w in &report.waiver_issues {
        *issues.entry(w.problem.as_str()).or_default() += 1;
    }
    for (problem, n) in issues {
        let _ = writeln!(
            out,
            "estate_audit_waiver_issues{{problem=\"{}\"}} {n}",
            label(problem)
        );
    }

    if let Some(d) = &report.diff {
        header(
            &mut out,
            "estate_audit_changes",
            "Open (fail or unknown) findings compared with the previous audit, by change (new, resolved, still_open).",
        );
        for (change, n) in [
            ("new", d.new.len()),
            ("resolved", d.resolved.len()),
            ("still_open", d.still_open.len()),
        ] {
            let _ = writeln!(out, "estate_audit_changes{{change=\"{change}\"}} {n}");
        }
    }

    header(
        &mut out,
        "estate_audit_duration_seconds",
        "Wall time of the last audit in seconds.",
    );
    let _ = writeln!(
        out,
        "estate_audit_duration_seconds {}",
        num(run.duration.as_secs_f64())
    );

    header(
        &mut out,
        "estate_audit_last_run_timestamp_seconds",
        "Unix time of the last audit, complete or not.",
    );
    let now = report.generated_at.timestamp() as f64;
    let _ = writeln!(out, "estate_audit_last_run_timestamp_seconds {}", num(now));

    let last_success = if complete {
        Some(now)
    } else {
        run.previous_last_success
    };
    if let Some(t) = last_success {
        header(
            &mut out,
            LAST_SUCCESS,
            "Unix time of the last complete audit (carried over while audits are incomplete).",
        );
        let _ = writeln!(out, "{LAST_SUCCESS} {}", num(t));
    }
    out
}

/// The last success timestamp of an earlier metrics file, if it has one.
pub fn previous_last_success(text: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(LAST_SUCCESS)?;
        // The name must end here: `..._seconds_x 1` is another metric.
        let value = rest.strip_prefix(' ')?.split_whitespace().next()?;
        value.parse::<f64>().ok().filter(|v| v.is_finite())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("x\u{1b}[2J"), "x\\\\u{1b}[2J");
    }

    #[test]
    fn numbers_print_as_prometheus_reads_them() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(f64::INFINITY), "+Inf");
    }

    #[test]
    fn the_previous_last_success_is_read_back() {
        let text = "# HELP x\nestate_audit_last_success_timestamp_seconds 1777615200\n";
        assert_eq!(previous_last_success(text), Some(1_777_615_200.0));
        assert_eq!(
            previous_last_success("estate_audit_last_success_timestamp_seconds_x 1\n"),
            None
        );
        assert_eq!(previous_last_success(""), None);
    }
}
