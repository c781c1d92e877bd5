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

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, Value};
use serde_json::{Map, Value as Json};

use crate::finding::{fingerprint, Evidence, Finding, Status};
use crate::model::{kind, CollectionError, Inventory, Resource};
use crate::policy::{Expression, PolicySet, Rule};

/// Below this many resources to evaluate, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 4096;
/// Evidence values longer than this are cut in messages (they stay whole in `evidence`).
const MESSAGE_VALUE_MAX: usize = 160;

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
    let estate = EstateRef::of(inv).res.into_owned();
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
    let rules = policies.rules();
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
        .map(|(kind, ids)| (kind, KindPlan::new(rules, ids)))
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
    for mut part in evaluate_resources(slots, rules, &plans) {
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
            for r in slots.iter().filter_map(|s| s.get()) {
                if r.kind() == kind {
                    any = true;
                    keys.push((ri, 1, keys.len()));
                    findings.push(finding(
                        rule,
                        &ResRef::of(r),
                        Status::Unknown,
                        format!("unknown: {why}"),
                        Evidence::new(),
                    ));
                }
            }
            if !any {
                add_issue(
                    Status::Unknown,
                    format!("unknown: no {kind} could be read: {why}"),
                );
            }
        }

        if rule.required && tally.matched == 0 {
            let what = describe_selection(rule);
            if tally.when_unknown > 0 {
                add_issue(
                    Status::Unknown,
                    format!(
                        "unknown: cannot tell whether the estate has {what}: `when` could not be \
                         evaluated on {} resource(s)",
                        tally.when_unknown
                    ),
                );
            } else if !blocked {
                add_issue(Status::Fail, format!("missing: no {what} in the estate"));
            }
        }

        if let Some((status, msgs)) = estate_issue {
            let message = msgs.join("; ");
            // A rule over `estate` may already have judged the estate record: merge, never
            // duplicate a fingerprint.
            match estate_finding
                .get(&ri)
                .and_then(|&pos| findings.get_mut(pos))
            {
                Some(f) => {
                    f.status = f.status.min(status);
                    f.message = format!("{}; {message}", f.message);
                }
                None => {
                    keys.push((ri, 2, 0));
                    findings.push(finding(rule, estate, status, message, Evidence::new()));
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

/// The identity fields a finding copies from its resource (borrowed: copied once, into the
/// finding).
struct ResRef<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    kind: &'static str,
    region: Option<Cow<'a, str>>,
    account: Option<Cow<'a, str>>,
}

impl<'a> ResRef<'a> {
    fn of(r: &'a Resource) -> ResRef<'a> {
        ResRef {
            id: Cow::Borrowed(&r.id),
            name: Cow::Borrowed(r.display_name()),
            kind: r.kind(),
            region: r.region.as_deref().map(Cow::Borrowed),
            account: r.account.as_deref().map(Cow::Borrowed),
        }
    }

    /// A copy that outlives the resource (for [`evaluate_releasing`], which frees it).
    fn into_owned(self) -> ResRef<'static> {
        ResRef {
            id: Cow::Owned(self.id.into_owned()),
            name: Cow::Owned(self.name.into_owned()),
            kind: self.kind,
            region: self.region.map(|r| Cow::Owned(r.into_owned())),
            account: self.account.map(|a| Cow::Owned(a.into_owned())),
        }
    }
}

/// Where estate-level findings go: the `estate` record `link` creates, else a synthetic one.
struct EstateRef<'a> {
    res: ResRef<'a>,
}

impl<'a> EstateRef<'a> {
    fn of(inv: &'a Inventory) -> EstateRef<'a> {
        if let Some(r) = inv.resources.iter().find(|r| r.kind() == kind::ESTATE) {
            return EstateRef { res: ResRef::of(r) };
        }
        let region = inv
            .estate
            .region
            .clone()
            .or_else(|| inv.scope.regions.first().cloned());
        EstateRef {
            res: ResRef {
                id: Cow::Owned(format!("estate:{}", region.as_deref().unwrap_or("unknown"))),
                name: Cow::Borrowed("estate"),
                kind: kind::ESTATE,
                region: region.map(Cow::Owned),
                account: inv
                    .scope
                    .accounts
                    .first()
                    .map(|a| Cow::Borrowed(a.as_str())),
            },
        }
    }
}

fn finding(
    rule: &Rule,
    res: &ResRef,
    status: Status,
    message: String,
    evidence: Evidence,
) -> Finding {
    Finding {
        rule_id: rule.info.id.clone(),
        resource_id: res.id.to_string(),
        resource_name: res.name.to_string(),
        kind: res.kind.to_string(),
        region: res.region.as_deref().map(str::to_string),
        account: res.account.as_deref().map(str::to_string),
        status,
        severity: rule.info.severity,
        gate: rule.info.gate,
        spec: rule.info.spec.clone(),
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

/// "aws.lambda.function matching `resource.is_webhook == true`".
fn describe_selection(rule: &Rule) -> String {
    let kinds = rule.kinds().join(" or ");
    match &rule.when {
        Some(w) => format!("{kinds} matching `{}`", w.source),
        None => kinds,
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation proper

/// What evaluation needs of every resource of one kind, worked out once per kind.
struct KindPlan<'r> {
    /// Rules over the kind, in pack order.
    rules: Vec<usize>,
    /// Top-level fields CEL reads; `None`: the whole object (see [`fields_read`]).
    cel: Option<HashSet<&'r str>>,
    /// Top-level fields the JSON object must hold: CEL's, the evidence paths' and the fields
    /// named when a read fails. `None`: the whole object.
    json: Option<HashSet<&'r str>>,
}

impl<'r> KindPlan<'r> {
    fn new(rules: &'r [Rule], ids: Vec<usize>) -> KindPlan<'r> {
        let cel = fields_read(rules, &ids);
        let json = cel.as_ref().map(|cel| {
            let mut json = cel.clone();
            for rule in ids.iter().filter_map(|&ri| rules.get(ri)) {
                let exprs = rule.when.iter().chain(std::iter::once(&rule.assert));
                let paths = exprs.flat_map(|e| &e.paths).chain(&rule.evidence);
                for p in paths {
                    // As `lookup` splits (dots), and as `fields_read` does.
                    json.insert(p.split('.').next().unwrap_or(p));
                    json.insert(p.split(['.', '[', '{']).next().unwrap_or(p));
                }
            }
            json
        });
        KindPlan {
            rules: ids,
            cel,
            json,
        }
    }
}

/// Evaluates the slots' resources, in one part per thread: contiguous runs of slots with about
/// the same number of resources to evaluate each, the first on the calling thread.
fn evaluate_resources<S: Slot>(
    slots: &mut [S],
    rules: &[Rule],
    plans: &HashMap<&str, KindPlan<'_>>,
) -> Vec<Part> {
    let evaluated = |s: &S| s.get().is_some_and(|r| plans.contains_key(r.kind()));
    let work = slots.iter().filter(|s| evaluated(s)).count();
    let threads = crate::sys::threads();
    let mut parts: Vec<Part> = Vec::new();
    if threads <= 1 || work < PARALLEL_THRESHOLD {
        parts.push(Part::default());
        evaluate_chunk(slots, 0, rules, plans, &mut parts[0]);
        return parts;
    }
    let per = work.div_ceil(threads);
    let mut pieces: Vec<(usize, &mut [S])> = Vec::with_capacity(threads);
    let mut rest = slots;
    let mut base = 0;
    loop {
        // The slot after which this piece holds `per` resources to evaluate.
        let mut seen = 0;
        let cut = rest
            .iter()
            .position(|s| {
                seen += usize::from(evaluated(s));
                seen == per
            })
            .map_or(rest.len(), |p| p + 1);
        let (piece, tail) = rest.split_at_mut(cut);
        pieces.push((base, piece));
        base += cut;
        rest = tail;
        if rest.is_empty() {
            break;
        }
    }
    parts.resize_with(pieces.len(), Part::default);
    let died: Vec<bool> = std::thread::scope(|s| {
        let mut jobs = pieces.iter_mut().zip(parts.iter_mut());
        let first = jobs.next();
        let handles: Vec<_> = jobs
            .map(|((base, piece), part)| {
                let base = *base;
                s.spawn(move || evaluate_chunk(piece, base, rules, plans, part))
            })
            .collect();
        // The first piece on this thread: its findings then come from the allocator arena that
        // holds the memory `link` and the released resources just freed, instead of growing
        // another.
        if let Some(((base, piece), part)) = first {
            evaluate_chunk(piece, *base, rules, plans, part);
        }
        std::iter::once(false)
            .chain(handles.into_iter().map(|h| h.join().is_err()))
            .collect()
    });
    // A thread that died is finished here, so no finding is ever lost silently: a part holds
    // only whole resources, and what it did not finish is still in its slots.
    for (((base, piece), part), died) in pieces.iter_mut().zip(parts.iter_mut()).zip(died) {
        if died {
            evaluate_chunk(piece, *base, rules, plans, part);
        }
    }
    parts
}

/// Hands the resource to CEL as the variable `resource`, by reference.
struct ResourceVar<'a>(&'a dyn Val);

impl cel::context::VariableResolver for ResourceVar<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        (variable == "resource").then_some(CowVal::Borrowed(self.0))
    }
}

/// Evaluates the resources of `slots` (the first at index `base`) into `part`, releasing each
/// once its findings are in. A resource's findings are committed together, after all its rules
/// ran: should a rule panic, `part` holds only whole resources, and the one it stopped at is
/// still in its slot to be evaluated again.
fn evaluate_chunk<S: Slot>(
    slots: &mut [S],
    base: usize,
    rules: &[Rule],
    plans: &HashMap<&str, KindPlan<'_>>,
    part: &mut Part,
) {
    let env = crate::policy::cel_env();
    let expected: usize = slots
        .iter()
        .filter_map(|s| s.get())
        .filter_map(|r| plans.get(r.kind()).map(|p| p.rules.len()))
        .sum();
    part.findings.reserve(expected);
    part.keys.reserve(expected);
    if part.tally.len() < rules.len() {
        part.tally.resize_with(rules.len(), RuleTally::default);
    }
    let mut made: Vec<(usize, When, Option<Finding>)> = Vec::new();
    for (k, slot) in slots.iter_mut().enumerate() {
        let i = base + k;
        let Some(resource) = slot.get() else {
            continue;
        };
        let Some(plan) = plans.get(resource.kind()) else {
            continue;
        };
        made.clear();
        evaluate_resource(resource, plan, rules, &env, &mut made);
        for (ri, when, f) in made.drain(..) {
            let tally = &mut part.tally[ri];
            match when {
                When::Matched => tally.matched += 1,
                When::Unknown => tally.when_unknown += 1,
                When::NotMatched => {}
            }
            if let Some(f) = f {
                part.findings.push(f);
                part.keys.push((ri, 0, i));
            }
        }
        slot.release();
    }
}

/// Every rule of the kind's plan over one resource, in pack order.
fn evaluate_resource(
    resource: &Resource,
    plan: &KindPlan<'_>,
    rules: &[Rule],
    env: &std::sync::Arc<cel::Env>,
    out: &mut Vec<(usize, When, Option<Finding>)>,
) {
    let res = ResRef::of(resource);
    // Converted once, shared by every rule over this kind.
    let json = match &plan.json {
        Some(keep) => resource_fields(resource, keep).map_err(|e| e.to_string()),
        None => resource_object(resource).map_err(|e| e.to_string()),
    };
    let json = match json {
        Ok(j) => j,
        Err(e) => {
            for &ri in &plan.rules {
                let msg = format!("unknown: the resource could not be read: {e}");
                let f = finding(&rules[ri], &res, Status::Unknown, msg, Evidence::new());
                out.push((ri, When::Unknown, Some(f)));
            }
            return;
        }
    };
    let value = match &plan.cel {
        Some(keep) => object_to_val_only(&json, keep),
        None => object_to_val(&json),
    };
    let var = ResourceVar(value.as_ref());
    let mut ctx = Context::with_env(env.clone());
    ctx.set_variable_resolver(&var);
    for &ri in &plan.rules {
        let (when, f) = evaluate_one(&rules[ri], &res, &json, &ctx);
        out.push((ri, when, f));
    }
}

/// One rule over one resource: whether `when` matched, and the finding (none when it did not).
fn evaluate_one(
    rule: &Rule,
    res: &ResRef,
    json: &Map<String, Json>,
    ctx: &Context<'_, '_>,
) -> (When, Option<Finding>) {
    let evidence = || -> Evidence {
        rule.evidence
            .iter()
            .map(|p| (p.clone(), lookup(json, p).cloned().unwrap_or(Json::Null)))
            .collect()
    };
    let make = |when: When, status: Status, message: String| {
        (when, Some(finding(rule, res, status, message, evidence())))
    };
    if let Some(w) = &rule.when {
        match run(w, ctx, json) {
            Ok(true) => {}
            Ok(false) => return (When::NotMatched, None),
            Err(why) => {
                return make(
                    When::Unknown,
                    Status::Unknown,
                    format!("unknown: cannot tell whether the rule applies: {why}"),
                )
            }
        }
    }
    match run(&rule.assert, ctx, json) {
        Ok(true) => make(When::Matched, Status::Pass, rule.info.title.clone()),
        Ok(false) => {
            let ev = evidence();
            let found = if ev.is_empty() {
                format!("`{}` is false", rule.assert.source)
            } else {
                ev.iter()
                    .map(|(k, v)| format!("{k} = {}", short(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let message = format!("expected: {}; found: {found}", rule.info.title);
            (
                When::Matched,
                Some(finding(rule, res, Status::Fail, message, ev)),
            )
        }
        Err(why) => make(When::Matched, Status::Unknown, format!("unknown: {why}")),
    }
}

/// Runs a boolean expression. `Err` says, for people, why the answer is unknown.
fn run(expr: &Expression, ctx: &Context<'_, '_>, json: &Map<String, Json>) -> Result<bool, String> {
    match expr.program().execute(ctx) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!(
            "`{}` gave {} instead of a bool",
            expr.source,
            type_name(&other)
        )),
        Err(ExecutionError::NoSuchKey(key)) => Err(format!(
            "`{}` could not be read",
            missing_path(expr, json, &key)
        )),
        Err(e) => Err(format!("`{}` could not be evaluated: {e}", expr.source)),
    }
}

/// The full path of the field CEL could not find: the first path the expression reads that ends
/// in `key` and is absent from the resource; else the bare key.
fn missing_path(expr: &Expression, json: &Map<String, Json>, key: &str) -> String {
    expr.paths
        .iter()
        .filter(|p| p.rsplit(['.', ']']).next() == Some(key))
        .find(|p| !p.contains("[]") && lookup(json, p).is_none())
        .or_else(|| {
            expr.paths
                .iter()
                .find(|p| p.rsplit(['.', ']']).next() == Some(key))
        })
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "an int",
        Value::UInt(_) => "a uint",
        Value::Float(_) => "a double",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Null => "null",
        _ => "a non-bool value",
    }
}

/// A dotted path into the resource object (`internet.path`, `tags.Name`).
fn lookup<'a>(obj: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut segs = path.split('.');
    let mut cur = obj.get(segs.next()?)?;
    for s in segs {
        cur = cur.as_object()?.get(s)?;
    }
    Some(cur)
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() <= MESSAGE_VALUE_MAX {
        return s;
    }
    let cut: String = s.chars().take(MESSAGE_VALUE_MAX).collect();
    format!("{cut}…")
}

/// The object rules see as `resource`: the kind's attrs at the top level plus `id`, `name`,
/// `region`, `account`, `tags`, `kind`. Nulls are dropped at every depth so that reading an
/// unknown field is a CEL error (`unknown`), never a comparison with null.
pub fn resource_object(r: &Resource) -> Result<Map<String, Json>, serde_json::Error> {
    let mut obj = match serde_json::to_value(r.attrs.fields())? {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    prune_nulls_in(&mut obj);
    // The common fields win over an attr of the same name (e.g. a parameter group's `name`).
    obj.insert("id".into(), Json::String(r.id.clone()));
    obj.insert("kind".into(), Json::String(r.kind().to_string()));
    for (k, v) in [
        ("name", &r.name),
        ("region", &r.region),
        ("account", &r.account),
    ] {
        if let Some(v) = v {
            obj.insert(k.into(), Json::String(v.clone()));
        }
    }
    obj.insert("tags".into(), tags_object(r));
    Ok(obj)
}

/// The resource's tags as a JSON object (key → string).
fn tags_object(r: &Resource) -> Json {
    Json::Object(
        r.tags
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect(),
    )
}

/// [`resource_object`] restricted to the top-level fields in `keep` (the same values, without
/// converting the fields no rule over the kind reads).
fn resource_fields(
    r: &Resource,
    keep: &HashSet<&str>,
) -> Result<Map<String, Json>, pick::PickError> {
    let mut obj = pick::pick(&r.attrs.fields(), keep)?;
    prune_nulls_in(&mut obj);
    let mut set = |k: &str, v: Json| {
        if keep.contains(k) {
            obj.insert(k.to_string(), v);
        }
    };
    set("id", Json::String(r.id.clone()));
    set("kind", Json::String(r.kind().to_string()));
    for (k, v) in [
        ("name", &r.name),
        ("region", &r.region),
        ("account", &r.account),
    ] {
        if let Some(v) = v {
            set(k, Json::String(v.clone()));
        }
    }
    if keep.contains("tags") {
        set("tags", tags_object(r));
    }
    Ok(obj)
}

fn prune_nulls_in(m: &mut Map<String, Json>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        prune_nulls(v);
    }
}

fn prune_nulls(v: &mut Json) {
    match v {
        Json::Object(m) => prune_nulls_in(m),
        Json::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// The top-level resource fields the given rules' expressions read, or `None` when some
/// expression may read the resource as a whole. Converting only those to CEL is what makes
/// evaluation cheap: a resource carries many fields (ingress lists, paths, tags) that no rule
/// over its kind touches. The policy checker records every `resource.<field>` an expression
/// selects (`has()` included) and rejects unknown fields at load time, so a field outside this
/// set is never read; anything else that names `resource` (`size(resource)`, `resource[k]`,
/// `[resource]`) gets the whole object, conservatively decided on the source text.
fn fields_read<'r>(rules: &'r [Rule], rule_ids: &[usize]) -> Option<HashSet<&'r str>> {
    let mut keep = HashSet::new();
    for &ri in rule_ids {
        let rule = rules.get(ri)?;
        for expr in rule.when.iter().chain(std::iter::once(&rule.assert)) {
            if reads_whole_resource(&expr.source) {
                return None;
            }
            for p in &expr.paths {
                let top = p.split(['.', '[', '{']).next().unwrap_or(p);
                if top.is_empty() {
                    return None;
                }
                keep.insert(top);
            }
        }
    }
    Some(keep)
}

/// Whether `resource` appears in the expression other than as `resource.<field>`.
fn reads_whole_resource(src: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut rest = src;
    let mut offset = 0;
    while let Some(i) = rest.find("resource") {
        let at = offset + i;
        let before = src[..at].chars().next_back();
        let after = &src[at + "resource".len()..];
        let standalone = !before.is_some_and(|c| ident(c) || c == '.')
            && !after.chars().next().is_some_and(ident);
        if standalone && !after.trim_start().starts_with('.') {
            return true;
        }
        offset = at + "resource".len();
        rest = &src[offset..];
    }
    false
}

/// [`object_to_val`] of the listed top-level fields only.
fn object_to_val_only<'j>(m: &'j Map<String, Json>, keep: &HashSet<&str>) -> Box<dyn Val + 'j> {
    let map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = m
        .iter()
        .filter(|(k, _)| keep.contains(k.as_str()))
        .map(|(k, v)| {
            (
                CelMapKey::String(CelString::from(k.as_str())),
                json_to_val(v),
            )
        })
        .collect();
    Box::new(CelMap::from(map))
}

/// The CEL value of a resource object. Strings are borrowed from the JSON, not copied.
fn object_to_val(m: &Map<String, Json>) -> Box<dyn Val + '_> {
    let map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = m
        .iter()
        .map(|(k, v)| {
            (
                CelMapKey::String(CelString::from(k.as_str())),
                json_to_val(v),
            )
        })
        .collect();
    Box::new(CelMap::from(map))
}

/// JSON → CEL, integers as `int` (not `uint`) so `x > 0` and `x + 1` work as rule authors expect.
fn json_to_val(v: &Json) -> Box<dyn Val + '_> {
    match v {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Json::String(s) => Box::new(CelString::from(s.as_str())),
        Json::Array(a) => Box::new(CelList::from(a.iter().map(json_to_val).collect::<Vec<_>>())),
        Json::Object(m) => object_to_val(m),
    }
}

mod pick;
#[cfg(test)]
mod tests;
