//! Orchestration of one audit: load the inventory (demo or file, one estate or a bundle of
//! several), apply the estate configuration, link, evaluate the policy set (per estate), apply
//! waivers and assemble the [`Report`]; then judge the report against a gate. It owns input loading with clear errors and the outcome rules of DESIGN.md §7;
//! it must not print (the CLI does) nor read the clock (the caller passes `now`).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::EstateConfig;
use crate::diag::Diagnostic;
use crate::engine;
use crate::finding::{Finding, Gate, Report, Severity, Status, Tool, REPORT_SCHEMA_VERSION};
use crate::link;
use crate::model::{CollectionError, Inventory, InventoryBundle, Resource, SCHEMA_VERSION};
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
    let inv: Inventory = parse_json(text, origin, "inventory", "schema/inventory.schema.json")?;
    check_version(inv.schema_version, origin)?;
    Ok(inv)
}

/// Parses an inventory file of either form: one inventory, or a bundle of several
/// (`{schema_version, inventories: [...]}`, written by `collect` with several accounts and by
/// `merge`). A bundle must hold at least one inventory and no two of the same account and home
/// region (they would audit one estate twice).
pub fn parse_inventories(text: &str, origin: &str) -> Result<Vec<Inventory>, Diagnostic> {
    match parse_inventory(text, origin) {
        Ok(inv) => Ok(vec![inv]),
        // A single inventory denies unknown fields, so a bundle fails at its `inventories` key,
        // early and cheaply; it is then read as what it is, with its own error locations.
        Err(d) if d.message.contains("unknown field `inventories`") => {
            let bundle: InventoryBundle = parse_json(
                text,
                origin,
                "inventory bundle",
                "schema/inventory-bundle.schema.json",
            )?;
            check_version(bundle.schema_version, origin)?;
            for inv in &bundle.inventories {
                check_version(inv.schema_version, origin)?;
            }
            if bundle.inventories.is_empty() {
                return Err(Diagnostic::plain(
                    origin,
                    "the inventory bundle holds no inventory",
                ));
            }
            check_shards(bundle.inventories.iter().map(|i| (origin, i)))?;
            Ok(bundle.inventories)
        }
        Err(d) => Err(d),
    }
}

/// Refuses two inventories of the same account and home region: merged, the estate would be
/// audited twice and every finding doubled. `origin` names the file each came from.
pub fn check_shards<'a>(
    shards: impl IntoIterator<Item = (&'a str, &'a Inventory)>,
) -> Result<(), Diagnostic> {
    let mut seen: std::collections::BTreeMap<(String, String), &str> = Default::default();
    for (origin, inv) in shards {
        let key = inv.shard_key();
        if let Some(first) = seen.insert(key.clone(), origin) {
            let what = match (key.0.as_str(), key.1.as_str()) {
                ("", "") => "no AWS account or region".to_string(),
                ("", r) => format!("an unknown AWS account in region {r}"),
                (a, "") => format!("AWS account {a} (no region)"),
                (a, r) => format!("AWS account {a} in region {r}"),
            };
            return Err(Diagnostic::plain(
                origin,
                format!("a second inventory of {what}: {first} already covers it"),
            )
            .with_note("each shard must collect a different account or home region"));
        }
    }
    Ok(())
}

fn check_version(version: u32, origin: &str) -> Result<(), Diagnostic> {
    if version != SCHEMA_VERSION {
        return Err(Diagnostic::plain(
            origin,
            format!(
                "inventory schema_version {version} is not supported (this build reads version {SCHEMA_VERSION})"
            ),
        ));
    }
    Ok(())
}

fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    what: &str,
    schema: &str,
) -> Result<T, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        // Copied only on error: an inventory can be hundreds of megabytes.
        let source: Arc<str> = Arc::from(text);
        let offset = offset_of(text, e.line(), e.column());
        let problem = match e.classify() {
            serde_json::error::Category::Io => "cannot read",
            serde_json::error::Category::Syntax => "is not valid JSON",
            serde_json::error::Category::Data => "does not match the schema",
            serde_json::error::Category::Eof => "is cut off",
        };
        let problem = if problem == "cannot read" {
            format!("cannot read {what}")
        } else {
            format!("{what} {problem}")
        };
        // serde_json appends " at line L column C"; the location is ours to render.
        let msg = e.to_string();
        let msg =
            crate::diag::without_echoed_strings(msg.split(" at line ").next().unwrap_or(&msg));
        Diagnostic::at(origin, &source, offset..offset, format!("{problem}: {msg}"))
            .with_note(format!("the {what} format is described by {schema}"))
    })
}

/// Loads an inventory file: a regular file, size-checked, UTF-8, JSON, versioned.
pub fn load_inventory(path: &Path) -> Result<Inventory, Diagnostic> {
    let text = crate::input::read_text(path, "inventory", MAX_INVENTORY_BYTES)?;
    parse_inventory(&text, &path.display().to_string())
}

/// Loads an inventory file of either form ([`parse_inventories`]).
pub fn load_inventories(path: &Path) -> Result<Vec<Inventory>, Diagnostic> {
    let text = crate::input::read_text(path, "inventory", MAX_INVENTORY_BYTES)?;
    parse_inventories(&text, &path.display().to_string())
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
    let findings = stats.time("evaluate", || {
        engine::retain_evaluated(&mut inv, policies);
        // What link replaced and its indexes, freed across two threads' arenas, and the kinds
        // just dropped: back to the system before evaluation allocates (crate::mem).
        crate::mem::trim();
        engine::evaluate_releasing(&mut inv, policies)
    });
    // The resources are done with: release them before the report is sorted and rendered.
    let Inventory {
        scope,
        collection_errors,
        ..
    } = inv;
    assemble(
        findings,
        Parts {
            scope,
            collection_errors,
            resources,
        },
        policies,
        waivers,
        now,
        stats,
    )
}

/// Runs the audit over several estates (one inventory per AWS account and home region, e.g. a
/// bundle): each is linked and evaluated on its own, so no account's facts explain another's;
/// the Cloudflare part, which belongs to no account, is shared by all of them and its findings
/// are kept once. Waivers apply to the whole. Every AWS finding and collection error carries
/// its account; an estate-level finding of an estate without a VPC is named
/// `estate:<account>:<region>` so that two accounts never share a fingerprint. One inventory is
/// exactly [`run_with_stats`].
pub fn run_many(
    mut invs: Vec<Inventory>,
    config: Option<EstateConfig>,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
    stats: &mut Stats,
) -> Report {
    if invs.len() == 1 {
        let inv = invs.pop().expect("one inventory");
        return run_with_stats(inv, config, policies, waivers, now, stats);
    }
    let is_shared = |kind: &str| kind.starts_with("cloudflare.");
    let mut shared: Vec<Resource> = Vec::new();
    let mut shared_ids = std::collections::HashSet::new();
    let mut shared_errors: Vec<CollectionError> = Vec::new();
    let mut scope = crate::model::Scope::default();
    let mut estates: Vec<Inventory> = Vec::new();
    // An inventory with no AWS part (a Cloudflare-only shard) is no estate of its own; if no
    // inventory has one, the first still gives the estate identification to judge against.
    let mut fallback: Option<Inventory> = None;
    for mut inv in invs {
        let (mine, theirs): (Vec<Resource>, Vec<Resource>) = std::mem::take(&mut inv.resources)
            .into_iter()
            .partition(|r| !is_shared(r.kind()));
        for r in theirs {
            if shared_ids.insert(r.id.clone()) {
                shared.push(r);
            }
        }
        let (mine_e, theirs_e): (Vec<CollectionError>, Vec<CollectionError>) =
            std::mem::take(&mut inv.collection_errors)
                .into_iter()
                .partition(|e| e.provider == "aws");
        for e in theirs_e {
            push_unique(&mut shared_errors, e);
        }
        for z in std::mem::take(&mut inv.scope.cloudflare_zones) {
            push_unique(&mut scope.cloudflare_zones, z);
        }
        for a in &inv.scope.accounts {
            push_unique(&mut scope.accounts, a.clone());
        }
        for r in &inv.scope.regions {
            push_unique(&mut scope.regions, r.clone());
        }
        inv.resources = mine;
        inv.collection_errors = mine_e;
        let has_aws = !inv.resources.is_empty()
            || !inv.collection_errors.is_empty()
            || !inv.scope.accounts.is_empty();
        if has_aws {
            estates.push(inv);
        } else if fallback.is_none() {
            fallback = Some(inv);
        }
    }
    if estates.is_empty() {
        estates.extend(fallback);
    }
    let mut link_time = std::time::Duration::ZERO;
    let mut eval_time = std::time::Duration::ZERO;
    let mut findings: Vec<Finding> = Vec::new();
    let mut errors: Vec<CollectionError> = Vec::new();
    let mut cloudflare_seen = std::collections::HashSet::new();
    let mut resources = shared.len();
    for mut inv in estates {
        if let Some(c) = &config {
            inv.estate = c.clone();
        }
        let account = inv.scope.accounts.first().cloned();
        resources += inv.resources.len();
        inv.resources.extend(shared.iter().cloned());
        inv.collection_errors.extend(shared_errors.iter().cloned());
        inv.scope.cloudflare_zones = scope.cloudflare_zones.clone();
        let started = std::time::Instant::now();
        link::link(&mut inv);
        crate::mem::trim();
        link_time += started.elapsed();
        let started = std::time::Instant::now();
        let mut found = engine::evaluate_releasing(&mut inv, policies);
        eval_time += started.elapsed();
        for f in &mut found {
            if is_shared(&f.kind) {
                continue;
            }
            if f.account.is_none() {
                f.account = account.clone();
            }
            if let (Some(a), Some(rest)) = (&account, f.resource_id.strip_prefix("estate:")) {
                f.resource_id = format!("estate:{a}:{rest}");
                f.fingerprint = crate::finding::fingerprint(&f.rule_id, &f.resource_id);
            }
        }
        findings.extend(
            found
                .into_iter()
                .filter(|f| !is_shared(&f.kind) || cloudflare_seen.insert(f.fingerprint.clone())),
        );
        for mut e in inv.collection_errors {
            if e.provider == "aws" && e.account.is_none() {
                e.account = account.clone();
            }
            push_unique(&mut errors, e);
        }
    }
    stats.record("link", link_time);
    stats.record("evaluate", eval_time);
    assemble(
        findings,
        Parts {
            scope,
            collection_errors: errors,
            resources,
        },
        policies,
        waivers,
        now,
        stats,
    )
}

/// What a report says besides its findings.
struct Parts {
    scope: crate::model::Scope,
    collection_errors: Vec<CollectionError>,
    /// Resources audited (the estate records not counted).
    resources: usize,
}

/// The report of evaluated `findings`: waivers applied, summary computed, and the run's sizes
/// recorded in `stats`. One place for both [`run_with_stats`] and [`run_many`].
fn assemble(
    mut findings: Vec<Finding>,
    parts: Parts,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
    stats: &mut Stats,
) -> Report {
    let waiver_issues = stats.time("waivers", || {
        suppress::apply(&mut findings, waivers, now.date_naive())
    });
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: now,
        scope: parts.scope,
        summary: Default::default(),
        findings,
        collection_errors: parts.collection_errors,
        waiver_issues,
        diff: None,
        rule_pack: Some(policies.digest()),
        rules: policies.infos(),
    };
    report.finish(parts.resources);
    stats.resources = parts.resources;
    stats.rules = report.rules.len();
    stats.findings = report.findings.len();
    stats.threads = engine::threads();
    report
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
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
