//! The report one audit produces: its findings with the scope, summary, collection errors,
//! waiver issues and the optional comparison with a baseline. It is the JSON report's shape
//! (docs/design.md §7) and what every renderer reads; it must not render, evaluate or judge (the
//! verdict is [`super::verdict`]'s).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::diff::Diff;
use super::{sort_stable_in_place, Finding, Gate, RuleInfo, Severity, Status};
use crate::model::{CollectionError, Scope};

/// A waiver that needs a human: expired (no longer suppresses) or matching nothing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WaiverIssue {
    /// `expired` or `unused`.
    pub problem: String,
    pub rule: String,
    pub resource: String,
    pub expires: NaiveDate,
    pub reason: String,
    /// `file:line` of the waiver.
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    pub suppressed: usize,
}

impl Counts {
    pub fn add(&mut self, s: Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Unknown => self.unknown += 1,
            Status::Suppressed => self.suppressed += 1,
        }
    }
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.unknown + self.suppressed
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    pub total: usize,
    #[serde(flatten)]
    pub counts: Counts,
    /// Failing findings per severity.
    pub fail_by_severity: BTreeMap<Severity, usize>,
    pub rules_evaluated: usize,
    pub resources: usize,
    /// Some finding is unknown or some service failed to collect: the audit is not conclusive.
    pub incomplete: bool,
}

impl Summary {
    pub fn compute(
        findings: &[Finding],
        errors: &[CollectionError],
        rules: usize,
        resources: usize,
    ) -> Self {
        let mut s = Summary {
            total: findings.len(),
            rules_evaluated: rules,
            resources,
            ..Default::default()
        };
        for f in findings {
            s.counts.add(f.status);
            if f.status == Status::Fail {
                *s.fail_by_severity.entry(f.severity).or_default() += 1;
            }
        }
        s.incomplete = s.counts.unknown > 0 || !errors.is_empty();
        s
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Everything one audit produced.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub generated_at: DateTime<Utc>,
    pub scope: Scope,
    pub summary: Summary,
    /// Sorted: status (fail, unknown, suppressed, pass), severity, rule id, resource id.
    pub findings: Vec<Finding>,
    pub collection_errors: Vec<CollectionError>,
    #[serde(default)]
    pub waiver_issues: Vec<WaiverIssue>,
    /// Comparison with an earlier report (`--baseline`, `--output-dir`): new, resolved and still
    /// open findings. Absent when no comparison was asked for; additive to schema version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
    /// Digest of the rule pack the findings were made with (`PolicySet::digest` of the policy layer):
    /// `merge` refuses reports of different packs. Absent in reports of earlier versions;
    /// additive to schema version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_pack: Option<String>,
    /// The rules evaluated, for formats that describe them (SARIF, Markdown). Not in the JSON.
    #[serde(skip)]
    pub rules: Vec<RuleInfo>,
}

impl Report {
    /// Sorts findings into their canonical order and recomputes the summary.
    pub fn finish(&mut self, resources: usize) {
        sort_stable_in_place(&mut self.findings, Finding::canonical_order);
        self.rules.sort_by(|a, b| a.id.cmp(&b.id));
        self.summary = Summary::compute(
            &self.findings,
            &self.collection_errors,
            self.rules.len(),
            resources,
        );
    }

    /// Findings with `status`, in `gate` (all gates when `None`).
    pub fn count(&self, status: Status, gate: Option<Gate>) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == status && gate.is_none_or(|g| f.gate == g))
            .count()
    }

    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }
}
