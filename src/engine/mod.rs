//! Rule evaluation: every rule of a [`PolicySet`] over every resource of its kinds, giving one
//! [`Finding`] per (rule, resource) plus estate-level findings for missing components and
//! uncollected services. It owns the statuses' semantics: **unknown never passes** — a field that
//! could not be read, a `when` that cannot be decided, or a service that failed to collect each
//! give `unknown`, never `pass` and never silence.
//!
//! It is pure and synchronous: no I/O, no clock, no waivers (`suppress` applies those after).
//! Cross-resource facts are `link`'s job; here each resource is judged on its own fields. Each
//! resource is converted to a CEL value once and shared by every rule over its kind, and only the
//! fields those rules read or cite are converted at all (`pick`); large inventories are split
//! across scoped threads (results are put back in a fixed order, in place). An audit that owns
//! its inventory evaluates it with [`evaluate_releasing`], which frees each resource as soon as
//! its findings are made.

use std::collections::{HashMap, HashSet};

use crate::finding::{fingerprint, Evidence, Finding, Status, Text};
use crate::model::{kind, CollectionError, Inventory, Resource};
use crate::policy::{PolicySet, Rule};
use sentence::Undecided;

mod pick;
mod resources;
mod sentence;
#[cfg(test)]
mod tests;
mod values;
mod words;

use resources::{evaluate_resources, KindPlan};
pub use values::resource_object;

/// Below this many resources to evaluate, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 4096;
/// Lists in a finding's evidence keep this many items and say how many more there were.
const EVIDENCE_LIST_MAX: usize = 20;

/// Evaluates every rule over the (linked) inventory.
pub fn evaluate(inv: &Inventory, policies: &PolicySet) -> Vec<Finding> {
    let estate = EstateRef::of(inv);
    let mut slots: Vec<&Resource> = inv.resources.iter().collect();
    evaluate_slots(&mut slots, &inv.collection_errors, &estate.res, policies)
}

/// [`evaluate`], releasing each resource as soon as its findings are made: the findings reuse
/// the memory of the resources evaluated before them instead of adding to a whole inventory
/// (its effect on the audit's peak: docs/performance.md). What stays in
/// `inv.resources` afterwards is only what was not evaluated (kinds no rule is over, kinds whose
/// service failed to collect). Same findings, same order as [`evaluate`].
pub fn evaluate_releasing(inv: &mut Inventory, policies: &PolicySet) -> Vec<Finding> {
    let estate = EstateRef::of(inv).res;
    let mut slots: Vec<Option<Resource>> = std::mem::take(&mut inv.resources)
        .into_iter()
        .map(Some)
        .collect();
    let findings = evaluate_slots(&mut slots, &inv.collection_errors, &estate, policies);
    inv.resources = slots.into_iter().flatten().collect();
    findings
}

/// A resource as evaluation holds it: borrowed (the inventory stays whole) or owned, and then
/// released once its findings are made.
trait Slot: Send {
    fn get(&self) -> Option<&Resource>;
    fn release(&mut self);
}

impl Slot for &Resource {
    fn get(&self) -> Option<&Resource> {
        Some(self)
    }
    fn release(&mut self) {}
}

impl Slot for Option<Resource> {
    fn get(&self) -> Option<&Resource> {
        self.as_ref()
    }
    fn release(&mut self) {
        *self = None;
    }
}

/// Where a finding goes in the result: rule (pack order), then group (0: the rule over a
/// resource; 1: a resource of a kind whose service failed; 2: the estate-level finding), then the
/// resource's index or the order it was made in. Unique per finding.
type Key = (usize, u8, usize);

fn evaluate_slots<S: Slot>(
    slots: &mut [S],
    errors: &[CollectionError],
    estate: &ResRef,
    policies: &PolicySet,
) -> Vec<Finding> {
    let pack = policies.rules();
    let rules: Vec<Stamped<'_>> = pack.iter().map(Stamped::of).collect();
    let errors_by_kind = collection_errors_by_kind(errors);

    // kind → rules to evaluate on it (kinds blocked by a collection error are not evaluated).
    let mut rules_by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for (ri, rule) in rules.iter().enumerate() {
        for kind in rule.kinds() {
            if !errors_by_kind.contains_key(kind.as_str()) {
                rules_by_kind.entry(kind.as_str()).or_default().push(ri);
            }
        }
    }
    let plans: HashMap<&str, KindPlan<'_>> = rules_by_kind
        .into_iter()
        .map(|(kind, ids)| (kind, KindPlan::new(pack, ids)))
        .collect();
    // The estate record (where `EstateRef` points when there is one): a rule over `estate` may
    // judge it and also have an estate-level issue, which is then merged into that finding.
    let estate_index = slots
        .iter()
        .position(|s| s.get().is_some_and(|r| r.kind() == kind::ESTATE));

    let mut per_rule: Vec<RuleTally> = (0..rules.len()).map(|_| RuleTally::default()).collect();
    let mut findings: Vec<Finding> = Vec::new();
    let mut keys: Vec<Key> = Vec::new();
    // The parts are appended to the first, and each is freed as soon as it is moved: the
    // findings are never held twice.
    for mut part in evaluate_resources(slots, &rules, &plans) {
        for (total, t) in per_rule.iter_mut().zip(&part.tally) {
            total.matched += t.matched;
            total.when_unknown += t.when_unknown;
        }
        if findings.is_empty() {
            findings = std::mem::take(&mut part.findings);
            keys = std::mem::take(&mut part.keys);
        } else {
            findings.append(&mut part.findings);
            keys.append(&mut part.keys);
        }
    }
    let mut estate_finding: HashMap<usize, usize> = HashMap::new();
    if let Some(ei) = estate_index {
        for (pos, &(ri, _, i)) in keys.iter().enumerate() {
            if i == ei {
                estate_finding.insert(ri, pos);
            }
        }
    }

    for (ri, rule) in rules.iter().enumerate() {
        let tally = &per_rule[ri];
        let mut estate_issue: Option<(Status, Vec<String>)> = None;
        let mut add_issue = |status: Status, msg: String| match &mut estate_issue {
            Some((s, msgs)) => {
                *s = (*s).min(status);
                msgs.push(msg);
            }
            None => estate_issue = Some((status, vec![msg])),
        };

        // Kinds whose service failed: every resource of them is unknown; none at all → the
        // estate record carries the unknown.
        let mut blocked = false;
        for kind in rule.kinds() {
            let Some(errs) = errors_by_kind.get(kind.as_str()) else {
                continue;
            };
            blocked = true;
            let why = describe_errors(errs);
            let mut any = false;
            let mut names = Names::default();
            for r in slots.iter().filter_map(|s| s.get()) {
                if r.kind() == kind {
                    any = true;
                    let res = ResRef::of(r, &mut names);
                    let message = sentence::unknown(rule, &res.name, &why, Undecided::Check, None);
                    keys.push((ri, 1, keys.len()));
                    findings.push(finding(
                        rule,
                        &res,
                        Status::Unknown,
                        message.into(),
                        Evidence::new(),
                    ));
                }
            }
            if !any {
                add_issue(
                    Status::Unknown,
                    format!("no {kind} of the estate could be read ({why}), so the check cannot be judged"),
                );
            }
        }

        if rule.required && tally.matched == 0 {
            let what = describe_selection(rule);
            if tally.when_unknown > 0 {
                add_issue(
                    Status::Unknown,
                    format!(
                        "whether the estate has {what} cannot be told, as `when` could not be \
                         evaluated on {}",
                        plural(tally.when_unknown, "resource", "resources")
                    ),
                );
            } else if !blocked {
                add_issue(Status::Fail, format!("the estate has no {what}"));
            }
        }

        if let Some((status, issues)) = estate_issue {
            // A rule over `estate` may already have judged the estate record: merge, never
            // duplicate a fingerprint.
            match estate_finding
                .get(&ri)
                .and_then(|&pos| findings.get_mut(pos))
            {
                Some(f) => {
                    f.status = f.status.min(status);
                    f.message = Text::from(sentence::also(&f.message, &issues));
                }
                None => {
                    keys.push((ri, 2, 0));
                    findings.push(finding(
                        rule,
                        estate,
                        status,
                        sentence::estate(rule, &issues).into(),
                        Evidence::new(),
                    ));
                }
            }
        }
    }

    // Into (rule, resource) order, in place: a finding is large, and a sorted copy would hold
    // every finding twice at the audit's peak.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_unstable_by_key(|&pos| keys[pos]);
    crate::finding::apply_permutation(&mut findings, order);
    findings
}

/// Drops, from a linked inventory, the resources [`evaluate`] will not read: those of kinds no
/// rule is over (route tables, security groups, scaling policies, topics… served `link` and are
/// summed up in the derived fields now). The `estate` record stays whatever the rules: it is where
/// estate-level findings go. Releasing them before evaluation lowers an audit's peak memory; the
/// findings are the same as over the whole inventory.
pub fn retain_evaluated(inv: &mut Inventory, policies: &PolicySet) {
    let kinds: HashSet<&str> = policies
        .rules()
        .iter()
        .flat_map(|r| r.kinds().iter().map(String::as_str))
        .chain([kind::ESTATE])
        .collect();
    inv.resources.retain(|r| kinds.contains(r.kind()));
    inv.resources.shrink_to_fit();
}

#[derive(Default)]
struct RuleTally {
    matched: usize,
    when_unknown: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Matched,
    NotMatched,
    Unknown,
}

/// What one chunk of resources gave: its findings with their [`Key`]s, and per rule how often
/// `when` matched or could not be decided.
#[derive(Default)]
struct Part {
    findings: Vec<Finding>,
    keys: Vec<Key>,
    tally: Vec<RuleTally>,
}

/// The identity fields a finding takes from its resource, made once per resource and shared by
/// its findings ([`Text`]).
struct ResRef {
    id: Text,
    name: Text,
    kind: Text,
    region: Option<Text>,
    account: Option<Text>,
}

impl ResRef {
    fn of(r: &Resource, names: &mut Names) -> ResRef {
        ResRef {
            id: Text::from(r.id.as_str()),
            name: Text::from(r.display_name()),
            kind: names.kind(r.kind()),
            region: r
                .region
                .as_deref()
                .map(|v| Names::same(&mut names.region, v)),
            account: r
                .account
                .as_deref()
                .map(|v| Names::same(&mut names.account, v)),
        }
    }
}

/// The names resources repeat (their kind, and in one estate nearly always one region and one
/// account), each made into a [`Text`] once and shared by the findings that carry it.
#[derive(Default)]
pub(super) struct Names {
    kinds: HashMap<&'static str, Text>,
    region: Option<Text>,
    account: Option<Text>,
}

impl Names {
    fn kind(&mut self, kind: &'static str) -> Text {
        self.kinds
            .entry(kind)
            .or_insert_with(|| Text::from(kind))
            .clone()
    }

    /// The last value seen, when `value` is it again; else `value`, remembered.
    fn same(last: &mut Option<Text>, value: &str) -> Text {
        match last {
            Some(t) if t.as_str() == value => t.clone(),
            _ => last.insert(Text::from(value)).clone(),
        }
    }
}

/// Where estate-level findings go: the `estate` record `link` creates, else a synthetic one.
struct EstateRef {
    res: ResRef,
}

impl EstateRef {
    fn of(inv: &Inventory) -> EstateRef {
        if let Some(r) = inv.resources.iter().find(|r| r.kind() == kind::ESTATE) {
            return EstateRef {
                res: ResRef::of(r, &mut Names::default()),
            };
        }
        let region = inv
            .estate
            .region
            .clone()
            .or_else(|| inv.scope.regions.first().cloned());
        EstateRef {
            res: ResRef {
                id: Text::from(format!("estate:{}", region.as_deref().unwrap_or("unknown"))),
                name: Text::from("estate"),
                kind: Text::from(kind::ESTATE),
                region: region.map(Text::from),
                account: inv.scope.accounts.first().map(Text::from),
            },
        }
    }
}

/// A rule with what every one of its findings repeats (id, spec section, pass message), made
/// once and shared ([`Text`]), as are its evidence paths. It reads as the rule it stamps.
pub(super) struct Stamped<'r> {
    rule: &'r Rule,
    id: Text,
    spec: Text,
    title: Text,
    /// The rule's `evidence` paths, the keys of every finding's evidence, sorted.
    evidence_keys: Vec<Text>,
}

impl<'r> Stamped<'r> {
    fn of(rule: &'r Rule) -> Stamped<'r> {
        // In the order evidence keeps (a path once: each is looked up on its own).
        let mut evidence_keys: Vec<Text> = rule.evidence.iter().map(Text::from).collect();
        evidence_keys.sort();
        evidence_keys.dedup();
        Stamped {
            rule,
            id: Text::from(rule.info.id.as_str()),
            spec: Text::from(rule.info.spec.as_str()),
            title: Text::from(rule.info.title.as_str()),
            evidence_keys,
        }
    }
}

impl std::ops::Deref for Stamped<'_> {
    type Target = Rule;

    fn deref(&self) -> &Rule {
        self.rule
    }
}

fn finding(
    rule: &Stamped<'_>,
    res: &ResRef,
    status: Status,
    message: Text,
    evidence: Evidence,
) -> Finding {
    Finding {
        rule_id: rule.id.clone(),
        resource_id: res.id.clone(),
        resource_name: res.name.clone(),
        kind: res.kind.clone(),
        region: res.region.clone(),
        account: res.account.clone(),
        status,
        severity: rule.info.severity,
        gate: rule.info.gate,
        spec: rule.spec.clone(),
        message,
        evidence,
        waiver: None,
        fingerprint: fingerprint(&rule.info.id, &res.id),
    }
}

fn collection_errors_by_kind(errors: &[CollectionError]) -> HashMap<&str, Vec<&CollectionError>> {
    let mut m: HashMap<&str, Vec<&CollectionError>> = HashMap::new();
    for e in errors {
        for k in &e.kinds {
            m.entry(k.as_str()).or_default().push(e);
        }
    }
    m
}

/// "aws rds could not be collected (AccessDenied: …)", for each error.
fn describe_errors(errs: &[&CollectionError]) -> String {
    errs.iter()
        .map(|e| {
            let region = e
                .region
                .as_deref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default();
            format!(
                "{} {} could not be collected{region} ({:?}: {})",
                e.provider, e.service, e.kind, e.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// "1 resource", "2 resources".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "aws.lambda.function matching `resource.is_webhook == true`".
fn describe_selection(rule: &Rule) -> String {
    let kinds = rule.kinds().join(" or ");
    match &rule.when {
        Some(w) => format!("{kinds} matching `{}`", w.source),
        None => kinds,
    }
}
