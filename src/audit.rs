//! Orchestration of one audit: load the inventory (demo or file), apply the estate configuration,
//! link, evaluate the policy set, apply waivers and assemble the [`Report`]; then judge the report
//! against a gate. It owns input loading with clear errors and the outcome rules of DESIGN.md §7;
//! it must not print (the CLI does) nor read the clock (the caller passes `now`).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::EstateConfig;
use crate::diag::Diagnostic;
use crate::engine;
use crate::finding::{Gate, Report, Severity, Status, Tool, REPORT_SCHEMA_VERSION};
use crate::link;
use crate::model::{Inventory, SCHEMA_VERSION};
use crate::policy::PolicySet;
use crate::stats::Stats;
use crate::suppress::{self, WaiverSet};

/// The bundled example estate (`--demo`).
pub const DEMO_INVENTORY: &str = include_str!("../demo/inventory.json");
/// The demo's waivers: the spec's own Lambda IP-allowlist exception.
pub const DEMO_WAIVERS: &str = include_str!("../demo/waivers.toml");

/// Largest inventory file accepted; larger input is refused before it is read (see
/// [`crate::input::MAX_INVENTORY_BYTES`] for why this size).
pub const MAX_INVENTORY_BYTES: u64 = crate::input::MAX_INVENTORY_BYTES;

pub fn demo_inventory() -> Inventory {
    parse_inventory(DEMO_INVENTORY, "<demo>/inventory.json")
        .expect("the embedded demo inventory is valid (tested)")
}

pub fn demo_waivers() -> WaiverSet {
    WaiverSet::parse(DEMO_WAIVERS, "<demo>/waivers.toml")
        .expect("the embedded demo waivers are valid (tested)")
}

/// Parses inventory JSON, pointing at line:column on error and checking the schema version.
pub fn parse_inventory(text: &str, origin: &str) -> Result<Inventory, Diagnostic> {
    let inv: Inventory = serde_json::from_str(text).map_err(|e| {
        // Copied only on error: an inventory can be hundreds of megabytes.
        let source: Arc<str> = Arc::from(text);
        let offset = offset_of(text, e.line(), e.column());
        let what = match e.classify() {
            serde_json::error::Category::Io => "cannot read inventory",
            serde_json::error::Category::Syntax => "inventory is not valid JSON",
            serde_json::error::Category::Data => "inventory does not match the schema",
            serde_json::error::Category::Eof => "inventory is cut off",
        };
        // serde_json appends " at line L column C"; the location is ours to render.
        let msg = e.to_string();
        let msg =
            crate::diag::without_echoed_strings(msg.split(" at line ").next().unwrap_or(&msg));
        Diagnostic::at(origin, &source, offset..offset, format!("{what}: {msg}"))
            .with_note("the inventory format is described by schema/inventory.schema.json")
    })?;
    if inv.schema_version != SCHEMA_VERSION {
        return Err(Diagnostic::plain(
            origin,
            format!(
                "inventory schema_version {} is not supported (this build reads version {SCHEMA_VERSION})",
                inv.schema_version
            ),
        ));
    }
    Ok(inv)
}

/// Loads an inventory file: a regular file, size-checked, UTF-8, JSON, versioned.
pub fn load_inventory(path: &Path) -> Result<Inventory, Diagnostic> {
    let text = crate::input::read_text(path, "inventory", MAX_INVENTORY_BYTES)?;
    parse_inventory(&text, &path.display().to_string())
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

/// Runs link → evaluate → waivers over an inventory. Pure: `now` is the clock.
pub fn run(
    inv: Inventory,
    config: Option<EstateConfig>,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
) -> Report {
    run_with_stats(inv, config, policies, waivers, now, &mut Stats::default())
}

/// [`run`], recording the wall time of link, evaluate and waivers and the run's sizes in `stats`
/// (`--stats`). The timer measures; it never enters the report unless the caller puts it there.
pub fn run_with_stats(
    mut inv: Inventory,
    config: Option<EstateConfig>,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
    stats: &mut Stats,
) -> Report {
    if let Some(c) = config {
        inv.estate = c;
    }
    stats.time("link", || link::link(&mut inv));
    let resources = inv
        .resources
        .iter()
        .filter(|r| r.kind() != "estate")
        .count();
    let mut findings = stats.time("evaluate", || {
        engine::retain_evaluated(&mut inv, policies);
        engine::evaluate(&inv, policies)
    });
    // The resources are done with: release them before the report is sorted and rendered.
    let Inventory {
        scope,
        collection_errors,
        ..
    } = inv;
    let waiver_issues = stats.time("waivers", || {
        suppress::apply(&mut findings, waivers, now.date_naive())
    });
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: now,
        scope,
        summary: Default::default(),
        findings,
        collection_errors,
        waiver_issues,
        diff: None,
        rules: policies.infos(),
    };
    report.finish(resources);
    stats.resources = resources;
    stats.rules = report.rules.len();
    stats.findings = report.findings.len();
    stats.threads = engine::threads();
    report
}

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
