//! The audit pipeline (docs/design.md §2), one for one estate and for several: the estates told
//! apart and their shared Cloudflare part set aside, then for each estate the configuration
//! applied, link and evaluation (written once, `audit_estate`), then waivers over the whole
//! and the [`Report`] assembled. It must not print (the CLI does), read the clock (the caller
//! passes `now`) nor judge the report (the verdict is `finding::verdict`'s).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::engine;
use crate::finding::{Finding, Report, Tool, REPORT_SCHEMA_VERSION};
use crate::link;
use crate::map::EstateMap;
use crate::model::{kind, CollectionError, EstateConfig, Inventory, Resource, Scope};
use crate::policy::PolicySet;
use crate::stats::Stats;
use crate::suppress::{self, WaiverSet};

/// The demo's waivers: the spec's own Lambda IP-allowlist exception.
pub const DEMO_WAIVERS: &str = include_str!("../demo/waivers.toml");

pub fn demo_waivers() -> WaiverSet {
    WaiverSet::parse(DEMO_WAIVERS, "<demo>/waivers.toml")
        .expect("the embedded demo waivers are valid (tested)")
}

/// [`run_many`] over one inventory, its statistics not kept: the audit tests, benchmarks and
/// fuzz targets run.
pub fn run(
    inv: Inventory,
    config: Option<EstateConfig>,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
) -> Report {
    run_many(
        vec![inv],
        config,
        policies,
        waivers,
        now,
        &mut Stats::default(),
    )
    .0
}

/// Runs the audit over one estate or several (one inventory per AWS account and home region, e.g.
/// a bundle): each is linked and evaluated on its own (`audit_estate`), so no account's facts
/// explain another's; the Cloudflare part, which belongs to no account, is shared by all of them
/// and its findings are kept once. Waivers apply to the whole. Of several estates, every AWS
/// finding and collection error carries its account, and an estate-level finding of an estate
/// without a VPC is named `estate:<account>:<region>` so that two accounts never share a
/// fingerprint. Pure: `now` is the clock. `stats` gets the wall time of link, evaluate (summed
/// over the estates), waivers and the map and the run's sizes (`--stats`); the timer measures, it never
/// enters the report unless the caller puts it there.
///
/// It also returns the map of the estates (docs/design.md §7, "The map"): taken from each linked
/// inventory before evaluation releases its resources, and marked from the report's findings
/// (waivers applied).
pub fn run_many(
    invs: Vec<Inventory>,
    config: Option<EstateConfig>,
    policies: &PolicySet,
    waivers: &WaiverSet,
    now: DateTime<Utc>,
    stats: &mut Stats,
) -> (Report, EstateMap) {
    let Estates {
        each,
        shared,
        mut scope,
        several,
    } = Estates::of(invs);
    // The monitoring plane's parts and what was done with each, from the configuration the
    // estates are audited with (every shard of one audit shares its `[monitoring]`).
    scope.monitoring = match &config {
        Some(c) => c.monitoring_scope(),
        None => each
            .first()
            .map(|i| i.estate.monitoring_scope())
            .unwrap_or_default(),
    };
    let step = Step {
        shared: &shared,
        zones: &scope.cloudflare_zones,
        config: config.as_ref(),
        policies,
    };
    let mut all = Gathered::default();
    for inv in each {
        let account = inv.scope.accounts.first().cloned();
        let (found, errors) = audit_estate(inv, step, &mut all);
        if several {
            all.merge(account, found, errors);
        } else {
            // One estate's report is its findings and errors as evaluated: its ids, and so the
            // fingerprints its baselines hold, stay its own, and nothing was shared to keep once.
            (all.findings, all.errors) = (found, errors);
        }
    }
    all.resources += shared.resources.len();
    stats.record("link", all.link);
    stats.record("evaluate", all.evaluate);
    let report = assemble(
        all.findings,
        Parts {
            scope,
            collection_errors: all.errors,
            resources: all.resources,
        },
        policies,
        waivers,
        now,
        stats,
    );
    let mut map = all.map;
    let started = Instant::now();
    map.mark(&report.findings);
    stats.record("map", all.map_time + started.elapsed());
    (report, map)
}

/// A finding or resource of the part every estate shares (Cloudflare and the monitoring plane:
/// no AWS account).
pub fn is_shared(kind: &str) -> bool {
    [
        "cloudflare.",
        "pagerduty.",
        "prometheus.",
        "alertmanager.",
        "grafana.",
        "zabbix.",
        "loki.",
    ]
    .iter()
    .any(|p| kind.starts_with(p))
}

/// The estates of one audit and what they share.
struct Estates {
    /// Each is configured, linked and evaluated on its own.
    each: Vec<Inventory>,
    /// The Cloudflare part of several inventories, added to every estate (none for one).
    shared: Shared,
    /// The report's scope; its Cloudflare zones are every estate's.
    scope: Scope,
    /// More than one inventory: the estates' findings and errors are told apart by account and
    /// the shared part's are kept once.
    several: bool,
}

/// The Cloudflare resources and collection errors several inventories carry, each once.
#[derive(Default)]
struct Shared {
    resources: Vec<Resource>,
    errors: Vec<CollectionError>,
}

impl Estates {
    fn of(mut invs: Vec<Inventory>) -> Estates {
        if invs.len() == 1 {
            // One inventory is one estate, as read: there is nothing to share it with, and taking
            // its Cloudflare part out to add it back would only reorder its resources and errors.
            let inv = invs.pop().expect("one inventory");
            return Estates {
                scope: inv.scope.clone(),
                each: vec![inv],
                shared: Shared::default(),
                several: false,
            };
        }
        let mut shared: Vec<Resource> = Vec::new();
        let mut shared_ids = HashSet::new();
        let mut shared_errors: Vec<CollectionError> = Vec::new();
        let mut scope = Scope::default();
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
        Estates {
            each: estates,
            shared: Shared {
                resources: shared,
                errors: shared_errors,
            },
            scope,
            several: true,
        }
    }
}

/// What every estate's audit is given.
#[derive(Clone, Copy)]
struct Step<'a> {
    shared: &'a Shared,
    /// The Cloudflare zones every estate is audited with: all of the scope's, as if it were
    /// the only estate.
    zones: &'a [String],
    config: Option<&'a EstateConfig>,
    policies: &'a PolicySet,
}

/// One estate's audit, the same for one estate and for each of several: the configuration and
/// the shared part added, linked, then evaluated over the kinds some rule reads. Its resources
/// are released here; it returns its findings and its collection errors (the shared ones too),
/// and adds its resources and its link and evaluation times to `all`.
fn audit_estate(
    mut inv: Inventory,
    step: Step<'_>,
    all: &mut Gathered,
) -> (Vec<Finding>, Vec<CollectionError>) {
    if let Some(c) = step.config {
        inv.estate = c.clone();
    }
    // The estate's own resources (the shared part is counted once, by the caller). An estate
    // record read with the inventory is not one of them: link replaces it with its own.
    all.resources += inv
        .resources
        .iter()
        .filter(|r| r.kind() != kind::ESTATE)
        .count();
    inv.resources.extend(step.shared.resources.iter().cloned());
    inv.collection_errors
        .extend(step.shared.errors.iter().cloned());
    inv.scope.cloudflare_zones = step.zones.to_vec();
    let started = Instant::now();
    link::link(&mut inv);
    all.link += started.elapsed();
    // The picture is taken while every linked resource is still there (evaluation releases
    // them); it is bounded, whatever the estate's size.
    let started = Instant::now();
    all.map.merge(crate::map::extract(&inv));
    all.map_time += started.elapsed();
    let started = Instant::now();
    engine::retain_evaluated(&mut inv, step.policies);
    // What link replaced and its indexes, freed across two threads' arenas, and the kinds
    // just dropped: back to the system before evaluation allocates (crate::sys::trim).
    crate::sys::trim();
    let findings = engine::evaluate_releasing(&mut inv, step.policies);
    all.evaluate += started.elapsed();
    // The resources are done with: they are released here, before the report is sorted and
    // rendered.
    (findings, inv.collection_errors)
}

/// What the estates' audits add up to.
#[derive(Default)]
struct Gathered {
    findings: Vec<Finding>,
    errors: Vec<CollectionError>,
    /// Fingerprints of the shared findings kept: every estate evaluates the shared part again.
    shared_seen: HashSet<String>,
    /// Resources audited (the estate records not counted).
    resources: usize,
    link: Duration,
    evaluate: Duration,
    /// The map of the estates so far, unmarked, and the time taken to extract it.
    map: EstateMap,
    map_time: Duration,
}

impl Gathered {
    /// Adds what one of several estates found: its AWS findings and errors carry its account, an
    /// `estate:` id is qualified by it, the shared part's findings are kept once and every
    /// collection error once.
    fn merge(
        &mut self,
        account: Option<String>,
        mut found: Vec<Finding>,
        errors: Vec<CollectionError>,
    ) {
        let shared_account = account.as_deref().map(crate::finding::Text::from);
        for f in &mut found {
            if is_shared(&f.kind) {
                continue;
            }
            if f.account.is_none() {
                f.account = shared_account.clone();
            }
            if let (Some(a), Some(rest)) = (&account, f.resource_id.strip_prefix("estate:")) {
                f.resource_id = format!("estate:{a}:{rest}").into();
                f.fingerprint = crate::finding::fingerprint(&f.rule_id, &f.resource_id);
            }
        }
        let seen = &mut self.shared_seen;
        self.findings.extend(
            found
                .into_iter()
                .filter(|f| !is_shared(&f.kind) || seen.insert(f.fingerprint.clone())),
        );
        for mut e in errors {
            if e.provider == "aws" && e.account.is_none() {
                e.account = account.clone();
            }
            push_unique(&mut self.errors, e);
        }
    }
}

/// What a report says besides its findings.
struct Parts {
    scope: Scope,
    collection_errors: Vec<CollectionError>,
    /// Resources audited (the estate records not counted).
    resources: usize,
}

/// The report of evaluated `findings`: waivers applied, summary computed, and the run's sizes
/// recorded in `stats`.
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
    stats.threads = crate::sys::threads();
    report
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}
