//! How a report judges the estate: the outcome the exit code and every sign-off document state
//! (docs/design.md §7). It owns the rules of that judgement (incomplete wins over failing; the
//! launch gate counts expired waivers) and must not render or print.

use super::{Gate, Report, Severity, Status};

/// Which rules decide the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateSelection {
    /// Only the spec's blocking (`launch`) rules; expired waivers fail the gate.
    Launch,
    All,
}

/// How the report judges the estate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing failing in the gate at or above the threshold, and the audit is complete.
    Clean,
    /// Some unsuppressed failure at or above the threshold.
    Failing,
    /// The audit is incomplete (collection error, unknown finding, expired waiver under the
    /// launch gate). Wins over `Failing`: a gate must never pass on what it could not see.
    Incomplete,
}

pub fn outcome(report: &Report, gate: GateSelection, fail_on: Severity) -> Outcome {
    let in_gate = |g: Gate| gate == GateSelection::All || g == Gate::Launch;
    let incomplete = !report.collection_errors.is_empty()
        || report
            .findings
            .iter()
            .any(|f| f.status == Status::Unknown && in_gate(f.gate))
        || (gate == GateSelection::Launch
            && report.waiver_issues.iter().any(|w| w.problem == "expired"));
    if incomplete {
        return Outcome::Incomplete;
    }
    let failing = report
        .findings
        .iter()
        .any(|f| f.status == Status::Fail && in_gate(f.gate) && f.severity.at_least(fail_on));
    if failing {
        Outcome::Failing
    } else {
        Outcome::Clean
    }
}

/// `--fail-on-new`: like [`outcome`], but only a failure that is new since the baseline (in the
/// gate, at or above the threshold) fails. Without a comparison every failure counts as new.
/// Incomplete still wins: a scheduled job must not go quiet about what it could not see.
pub fn outcome_new(report: &Report, gate: GateSelection, fail_on: Severity) -> Outcome {
    match outcome(report, gate, fail_on) {
        Outcome::Failing => {}
        other => return other,
    }
    let Some(diff) = &report.diff else {
        return Outcome::Failing;
    };
    let in_gate = |g: Gate| gate == GateSelection::All || g == Gate::Launch;
    let new_failure = diff
        .new
        .iter()
        .any(|e| e.status == Some(Status::Fail) && in_gate(e.gate) && e.severity.at_least(fail_on));
    if new_failure {
        Outcome::Failing
    } else {
        Outcome::Clean
    }
}
