//! Orchestration of one audit over one estate or several: apply the estate configuration, link,
//! evaluate the policy set (per estate), apply waivers and assemble the [`Report`]. It must not
//! print (the CLI does), read the clock (the caller passes `now`) nor judge the report (the
//! verdict is `finding::verdict`'s).

use chrono::{DateTime, Utc};

use crate::engine;
use crate::finding::{Finding, Report, Tool, REPORT_SCHEMA_VERSION};
use crate::link;
use crate::model::{kind, CollectionError, EstateConfig, Inventory, Resource};
use crate::policy::PolicySet;
use crate::stats::Stats;
use crate::suppress::{self, WaiverSet};

/// The demo's waivers: the spec's own Lambda IP-allowlist exception.
pub const DEMO_WAIVERS: &str = include_str!("../demo/waivers.toml");

pub fn demo_waivers() -> WaiverSet {
    WaiverSet::parse(DEMO_WAIVERS, "<demo>/waivers.toml")
        .expect("the embedded demo waivers are valid (tested)")
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
        .filter(|r| r.kind() != kind::ESTATE)
        .count();
    let findings = stats.time("evaluate", || {
        engine::retain_evaluated(&mut inv, policies);
        // What link replaced and its indexes, freed across two threads' arenas, and the kinds
        // just dropped: back to the system before evaluation allocates (crate::mem).
        crate::sys::trim();
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
        crate::sys::trim();
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
    stats.threads = crate::sys::threads();
    report
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}
