//! The comparison of a report with an earlier one, as the JSON report carries it (its optional
//! `diff` section): which findings are new, resolved or still open. It owns the shape only; the
//! comparison itself is `history`'s, and renderers show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Gate, Severity, Status};

/// One finding in a comparison.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    pub fingerprint: String,
    pub rule_id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub severity: Severity,
    pub gate: Gate,
    /// Status in this run; `None` when the finding no longer exists (resource or rule gone).
    pub status: Option<Status>,
    /// Status in the baseline; `None` when the baseline did not have it.
    pub previous_status: Option<Status>,
}

/// The comparison of a report with its baseline: the optional `diff` section of the JSON report.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Diff {
    /// There was no earlier report (a first run): every open finding counts as new.
    #[serde(default)]
    pub no_baseline: bool,
    /// When the baseline was generated (absent if it did not say).
    pub baseline_generated_at: Option<DateTime<Utc>>,
    /// Open now (fail/unknown), not open in the baseline.
    pub new: Vec<DiffEntry>,
    /// Open in the baseline, not open now (passing, waived or gone).
    pub resolved: Vec<DiffEntry>,
    /// Open in both.
    pub still_open: Vec<DiffEntry>,
}
