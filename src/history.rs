//! Comparing an audit with an earlier one (`--baseline REPORT.json`, `--output-dir`'s
//! `latest.json`): which findings are new, which were resolved and which are still open, matched by
//! fingerprint (rule id + resource id, stable across runs).
//!
//! It owns reading a baseline report leniently (only the fields a comparison needs, so reports of
//! older or newer builds still compare) and the comparison itself. It is pure: it must not read
//! files or the clock, print, or decide exit codes (`finding::outcome_new` does, from the diff).
//!
//! "Open" means needing a human: `fail` or `unknown`. A waived (`suppressed`) or passing finding is
//! not open, so a new waiver resolves a finding and an expired one reopens it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::diag::Diagnostic;
use crate::finding::diff::{Diff, DiffEntry};
use crate::finding::{fingerprint, Finding, Gate, Report, Severity, Status};

/// Largest baseline file accepted; a JSON report of a very large estate stays far below it.
pub const MAX_BASELINE_BYTES: u64 = 512 * 1024 * 1024;

/// One finding of a baseline report: only what a comparison needs. Every field but the rule and
/// resource ids has a default so a report from another build still compares.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct BaselineFinding {
    pub rule_id: String,
    pub resource_id: String,
    #[serde(default)]
    pub resource_name: String,
    /// A status this build does not know reads as `unknown` (open): fail closed.
    #[serde(default = "unknown_status", deserialize_with = "lenient_status")]
    pub status: Status,
    #[serde(default = "default_severity", deserialize_with = "lenient_severity")]
    pub severity: Severity,
    #[serde(default = "default_gate", deserialize_with = "lenient_gate")]
    pub gate: Gate,
    #[serde(default)]
    pub fingerprint: String,
}

fn unknown_status() -> Status {
    Status::Unknown
}
fn default_severity() -> Severity {
    Severity::Info
}
fn default_gate() -> Gate {
    Gate::Launch
}

fn lenient_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(match s.as_str() {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        "suppressed" => Status::Suppressed,
        _ => Status::Unknown,
    })
}

fn lenient_severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(Severity::parse(&s).unwrap_or(Severity::Info))
}

fn lenient_gate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Gate, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(Gate::parse(&s).unwrap_or(Gate::Launch))
}

/// The part of a JSON report a comparison reads.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Baseline {
    #[serde(default)]
    pub generated_at: Option<DateTime<Utc>>,
    pub findings: Vec<BaselineFinding>,
}

impl Baseline {
    /// Parses a JSON report (docs/design.md §7) as a baseline; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Baseline, Diagnostic> {
        let mut b: Baseline = serde_json::from_str(text).map_err(|e| {
            Diagnostic::plain(
                origin,
                format!("cannot read the baseline report (line {}): {e}", e.line()),
            )
            .with_note("a baseline is a JSON report: `estate-audit audit --format json`")
        })?;
        for f in &mut b.findings {
            // A report written by hand or by another tool may lack fingerprints: derive them the
            // same way the engine does, so matching still works.
            if f.fingerprint.is_empty() {
                f.fingerprint = fingerprint(&f.rule_id, &f.resource_id);
            }
        }
        Ok(b)
    }

    /// Reads and parses a baseline file (size-checked).
    pub fn load(path: &std::path::Path) -> Result<Baseline, Diagnostic> {
        let text = crate::input::read_text(path, "the baseline", MAX_BASELINE_BYTES)?;
        Baseline::parse(&text, &path.display().to_string())
    }
}

fn is_open(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Unknown)
}

fn entry(f: &Finding, previous: Option<Status>) -> DiffEntry {
    DiffEntry {
        fingerprint: if f.fingerprint.is_empty() {
            fingerprint(&f.rule_id, &f.resource_id)
        } else {
            f.fingerprint.clone()
        },
        rule_id: f.rule_id.to_string(),
        resource_id: f.resource_id.to_string(),
        resource_name: f.resource_name.to_string(),
        severity: f.severity,
        gate: f.gate,
        status: Some(f.status),
        previous_status: previous,
    }
}

fn order(e: &DiffEntry) -> (Severity, &str, &str) {
    (e.severity, e.rule_id.as_str(), e.resource_id.as_str())
}

/// Compares `report` with `baseline` by fingerprint. Each list is sorted by severity (most severe
/// first), rule id and resource id, so the result does not depend on either input's order.
pub fn diff(report: &Report, baseline: &Baseline) -> Diff {
    // Duplicate fingerprints cannot come from one audit; if a hand-made baseline has them, the
    // most open status wins (Status orders fail < unknown < suppressed < pass).
    let mut before: BTreeMap<&str, &BaselineFinding> = BTreeMap::new();
    for b in &baseline.findings {
        before
            .entry(b.fingerprint.as_str())
            .and_modify(|cur| {
                if b.status < cur.status {
                    *cur = b;
                }
            })
            .or_insert(b);
    }
    let mut out = Diff {
        baseline_generated_at: baseline.generated_at,
        ..Default::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for f in &report.findings {
        let fp = if f.fingerprint.is_empty() {
            fingerprint(&f.rule_id, &f.resource_id)
        } else {
            f.fingerprint.clone()
        };
        let prev = before.get(fp.as_str()).map(|b| b.status);
        seen.insert(fp);
        match (prev.is_some_and(is_open), is_open(f.status)) {
            (false, true) => out.new.push(entry(f, prev)),
            (true, true) => out.still_open.push(entry(f, prev)),
            (true, false) => out.resolved.push(entry(f, prev)),
            (false, false) => {}
        }
    }
    for (fp, b) in &before {
        if !seen.contains(*fp) && is_open(b.status) {
            out.resolved.push(DiffEntry {
                fingerprint: (*fp).to_string(),
                rule_id: b.rule_id.clone(),
                resource_id: b.resource_id.clone(),
                resource_name: b.resource_name.clone(),
                severity: b.severity,
                gate: b.gate,
                status: None,
                previous_status: Some(b.status),
            });
        }
    }
    for list in [&mut out.new, &mut out.resolved, &mut out.still_open] {
        list.sort_by(|a, b| order(a).cmp(&order(b)));
    }
    out
}

/// The comparison when there is no baseline (a first run): every open finding is new.
pub fn first_run(report: &Report) -> Diff {
    let mut d = diff(
        report,
        &Baseline {
            generated_at: None,
            findings: Vec::new(),
        },
    );
    d.no_baseline = true;
    d
}
