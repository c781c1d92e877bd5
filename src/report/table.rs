//! The terminal report: what an engineer reads after `estate-audit audit`. Failing findings come
//! first (most severe on top), then unknown, then waived ones with their reason and expiry; passes
//! only with `--all`. Then collection errors, waiver issues, the changes since the baseline (when
//! compared) and a one-line summary.
//!
//! It owns layout only and must not decide what failed. Every string that comes from the estate
//! (names, ids, messages, evidence) goes through [`inert`] so a hostile resource name cannot
//! drive the terminal.

use std::fmt::Write as _;

use comfy_table::{
    presets, Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width,
};

use super::document::{by_status, diff_counts};
use super::{status_word, RenderOptions};
use crate::finding::{Diff, Finding, Report, Severity, Status, Summary};
use crate::model::{MonitoringScope, MonitoringStatus};
use crate::text::inert;

/// Longest short id shown under a resource name; longer ones keep their head and tail.
const SHORT_ID_MAX: usize = 48;

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();

    let mut shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| opts.all || f.status != Status::Pass)
        .collect();
    // The report is already in this order after `Report::finish`; sorting again keeps the table
    // right for a report assembled any other way (merged shards, tests).
    shown.sort_by(|a, b| Finding::canonical_order(a, b));

    if shown.is_empty() {
        out.push_str(if report.findings.is_empty() {
            "No findings.\n"
        } else {
            "No failing, unknown or waived findings (--all lists the passes).\n"
        });
    } else {
        out.push_str(&findings_table(&shown, opts));
        out.push('\n');
    }

    if !report.collection_errors.is_empty() {
        let _ = writeln!(
            out,
            "\nCollection errors ({}) — rules over these kinds are unknown:",
            report.collection_errors.len()
        );
        for e in &report.collection_errors {
            let region = e
                .region
                .as_deref()
                .map(|r| format!(" [{}]", inert(r)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}{}: {:?}: {}",
                inert(&e.provider),
                inert(&e.service),
                region,
                e.kind,
                inert(&e.message)
            );
            if !e.kinds.is_empty() {
                let _ = writeln!(out, "      kinds: {}", inert(&e.kinds.join(", ")));
            }
        }
    }

    if !report.waiver_issues.is_empty() {
        let _ = writeln!(out, "\nWaiver issues ({}):", report.waiver_issues.len());
        for w in &report.waiver_issues {
            let what = match w.problem.as_str() {
                "expired" => format!("expired {} — suppresses nothing", w.expires),
                "unused" => "matches no finding".to_string(),
                other => inert(other).into_owned(),
            };
            let _ = writeln!(
                out,
                "  {}: {} {} on {}: {}",
                inert(&w.source),
                inert(&w.problem),
                inert(&w.rule),
                inert(&w.resource),
                what
            );
            let _ = writeln!(out, "      reason: {}", inert(&w.reason));
        }
    }

    if let Some(d) = &report.diff {
        out.push('\n');
        out.push_str(&diff_line(d));
        out.push('\n');
        let rows = d
            .new
            .iter()
            .map(|e| ("new", e))
            .chain(d.resolved.iter().map(|e| ("resolved", e)));
        for (change, e) in rows {
            let _ = writeln!(
                out,
                "  {change:<8}  {:<9}  {:<8}  {}  {}",
                e.status.map_or("gone", |s| s.as_str()),
                e.severity.as_str(),
                inert(&e.rule_id),
                inert(if e.resource_name.is_empty() {
                    &e.resource_id
                } else {
                    &e.resource_name
                })
            );
        }
    }

    out.push('\n');
    out.push_str(&summary_line(&report.summary));
    out.push('\n');
    if let Some(line) = monitoring_line(&report.scope.monitoring) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `monitoring plane: audited pagerduty, prometheus · out of scope (declared not used) zabbix`:
/// what the audit did with each part `[monitoring]` names; `None` without the section.
pub fn monitoring_line(parts: &[MonitoringScope]) -> Option<String> {
    if parts.is_empty() {
        return None;
    }
    let mut groups: Vec<String> = Vec::new();
    for status in [
        MonitoringStatus::Audited,
        MonitoringStatus::OutOfScope,
        MonitoringStatus::NotAuditedYet,
    ] {
        let names: Vec<&str> = parts
            .iter()
            .filter(|p| p.status == status)
            .map(|p| p.part.as_str())
            .collect();
        if !names.is_empty() {
            groups.push(format!("{} {}", status.words(), names.join(", ")));
        }
    }
    Some(format!("monitoring plane: {}", groups.join(" · ")))
}

/// `Changes since the previous run (2026-05-01T06:00:00Z): 1 new · 2 resolved · 3 still open`
pub fn diff_line(d: &Diff) -> String {
    let counts = diff_counts(d);
    if d.no_baseline {
        return format!("First run (no earlier report): {counts}");
    }
    match d.baseline_generated_at {
        Some(t) => format!(
            "Changes since the previous run ({}): {counts}",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        None => format!("Changes since the baseline: {counts}"),
    }
}

fn findings_table(shown: &[&Finding], opts: &RenderOptions) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    match opts.width {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if opts.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(vec!["status", "severity", "rule", "resource", "message"]);
    // Status, severity and rule id are what people scan and grep for: never wrap them; the
    // message takes what width is left.
    for i in 0..3 {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    if opts.width.is_some() {
        if let Some(c) = t.column_mut(3) {
            c.set_constraint(ColumnConstraint::UpperBoundary(Width::Fixed(36)));
        }
    }
    for f in shown {
        let mut status = Cell::new(f.status.as_str());
        let mut severity = Cell::new(f.severity.as_str());
        if opts.color {
            status = status.fg(match f.status {
                Status::Fail => Color::Red,
                Status::Unknown => Color::Yellow,
                Status::Suppressed => Color::Blue,
                Status::Pass => Color::Green,
            });
            if f.status == Status::Fail && f.severity <= Severity::High {
                severity = severity.add_attribute(Attribute::Bold);
            }
        }
        t.add_row(vec![
            status,
            severity,
            Cell::new(&f.rule_id),
            Cell::new(resource_cell(f)),
            Cell::new(message_cell(f)),
        ]);
    }
    t.to_string()
}

/// The name, and under it a short form of the id when that adds something.
fn resource_cell(f: &Finding) -> String {
    let name = inert(&f.resource_name);
    let short = short_id(&f.resource_id);
    if short.is_empty() || short == name {
        return name.into_owned();
    }
    format!("{name}\n{short}")
}

/// The finding's sentence, whole: the table wraps it at spaces, so no name, id or port is cut
/// (only a single word longer than the column is broken, there being no other way).
fn message_cell(f: &Finding) -> String {
    let mut m = inert(&f.message).into_owned();
    if let Some(w) = &f.waiver {
        let owner = w
            .owner
            .as_deref()
            .map(|o| format!(", owner {}", inert(o)))
            .unwrap_or_default();
        let _ = write!(
            m,
            "\nwaived until {}{}: {} ({})",
            w.expires,
            owner,
            inert(&w.reason),
            inert(&w.source)
        );
    }
    m
}

/// The resource part of an ARN (`db:estate-db`, `subnet/subnet-0abc`) or the Cloudflare id without
/// its prefix, shortened in the middle when long; made inert.
fn short_id(id: &str) -> String {
    let part = if id.starts_with("arn:") {
        id.splitn(6, ':').nth(5).unwrap_or(id)
    } else {
        id.strip_prefix("cloudflare:").unwrap_or(id)
    };
    let part = inert(part);
    let chars: Vec<char> = part.chars().collect();
    if chars.len() <= SHORT_ID_MAX {
        return part.into_owned();
    }
    let keep = (SHORT_ID_MAX - 1) / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `41 rules · 120 findings: 3 fail (1 critical, 2 high) · 1 unknown · 1 waived · 115 pass — audit INCOMPLETE`
pub fn summary_line(s: &Summary) -> String {
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            s.fail_by_severity
                .get(sev)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {sev}"))
        })
        .collect();
    let counts: Vec<String> = by_status(&s.counts)
        .into_iter()
        .map(|(status, n)| {
            let mut count = format!("{n} {}", status_word(status));
            if status == Status::Fail && !by_sev.is_empty() {
                let _ = write!(count, " ({})", by_sev.join(", "));
            }
            count
        })
        .collect();
    format!(
        "{} · {}: {} — audit {}",
        plural(s.rules_evaluated, "rule", "rules"),
        plural(s.total, "finding", "findings"),
        counts.join(" · "),
        if s.incomplete {
            "INCOMPLETE"
        } else {
            "complete"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, Gate};

    fn failing(message: &str) -> Finding {
        Finding {
            rule_id: "aws-ec2-rabbitmq-tls".into(),
            resource_id: "arn:aws:ec2:eu-west-1:111122223333:instance/i-0f00rabbitmq000001".into(),
            resource_name: "rabbitmq-1".into(),
            kind: "aws.ec2.instance".into(),
            region: None,
            account: None,
            status: Status::Fail,
            severity: Severity::Medium,
            gate: Gate::Launch,
            spec: "".into(),
            message: message.into(),
            evidence: Evidence::new(),
            waiver: None,
            fingerprint: "f".into(),
        }
    }

    /// The words of the message column, line by line, as the table shows them.
    fn message_column(table: &str) -> Vec<String> {
        table
            .lines()
            .filter_map(|l| l.rsplit('┆').next().filter(|_| l.contains('┆')))
            .map(|cell| cell.trim_end_matches('│').trim().to_string())
            .collect()
    }

    #[test]
    fn a_long_sentence_wraps_at_spaces_keeping_every_name_id_and_port_whole() {
        let sentence = "rabbitmq-1 opens broker ports without TLS or of the cluster's own \
                        traffic: 5672 AMQP without TLS open to sg-0bb2workers000001 (ecs_service) \
                        by sg-0cc3rabbitmq00001 and 15672 the management UI over HTTP open to \
                        10.20.0.0/16 by sg-0cc3rabbitmq00001; the spec wants clients on TLS only \
                        (AMQPS, 5671).";
        let f = failing(sentence);
        let opts = RenderOptions {
            width: Some(100),
            ..Default::default()
        };
        let table = findings_table(&[&f], &opts);
        let lines = message_column(&table);
        assert!(lines.len() >= 4, "the sentence wraps:\n{table}");
        // Every line of the column is made of whole words of the sentence, in order: nothing is
        // cut, dropped or added.
        let shown: Vec<&str> = lines
            .iter()
            .skip(1) // the header
            .flat_map(|l| l.split_whitespace())
            .collect();
        let words: Vec<&str> = sentence.split_whitespace().collect();
        assert_eq!(shown, words, "\n{table}");
        // The status, severity and rule columns stay on one line each.
        assert!(
            table.contains("│ fail   ┆ medium   ┆ aws-ec2-rabbitmq-tls ┆"),
            "{table}"
        );
    }

    #[test]
    fn short_ids_drop_the_arn_prefix_and_shorten_in_the_middle() {
        assert_eq!(
            short_id("arn:aws:rds:eu-west-1:111122223333:db:estate-db"),
            "db:estate-db"
        );
        assert_eq!(
            short_id("cloudflare:zone/abc/dns_record/def"),
            "zone/abc/dns_record/def"
        );
        let long = format!("arn:aws:s3:::{}", "x".repeat(100));
        let s = short_id(&long);
        assert_eq!(s.chars().count(), 2 * ((SHORT_ID_MAX - 1) / 2) + 1);
        assert!(s.contains('…'));
        assert_eq!(short_id("arn:\u{1b}[31m"), "arn:\\u{1b}[31m");
    }

    #[test]
    fn summary_says_incomplete_and_breaks_fails_down_by_severity() {
        let mut s = Summary {
            total: 120,
            rules_evaluated: 41,
            incomplete: true,
            ..Default::default()
        };
        s.counts.fail = 3;
        s.counts.unknown = 1;
        s.counts.suppressed = 1;
        s.counts.pass = 115;
        s.fail_by_severity.insert(Severity::High, 2);
        s.fail_by_severity.insert(Severity::Critical, 1);
        assert_eq!(
            summary_line(&s),
            "41 rules · 120 findings: 3 fail (1 critical, 2 high) · 1 unknown · 1 waived · 115 pass — audit INCOMPLETE"
        );
        let s = Summary {
            total: 1,
            rules_evaluated: 1,
            ..Default::default()
        };
        assert_eq!(
            summary_line(&s),
            "1 rule · 1 finding: 0 fail · 0 unknown · 0 waived · 0 pass — audit complete"
        );
    }
}
