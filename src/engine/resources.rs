//! Evaluation proper: what each kind's rules need worked out once (`KindPlan`), then every
//! resource of a chunk converted to a CEL value once and judged by each of its rules, `when`
//! before `assert`, an error in either giving `unknown` with the field it missed. It must not
//! order or count findings across resources (the caller does) nor look beyond one resource.

use std::collections::{HashMap, HashSet};

use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, Value};
use serde_json::{Map, Value as Json};

use super::sentence::{self, lookup, Undecided};
use super::values::{
    fields_read, object_to_val, object_to_val_only, resource_fields, resource_object,
};
use super::{
    finding, Names, Part, ResRef, RuleTally, Slot, Stamped, When, EVIDENCE_LIST_MAX,
    PARALLEL_THRESHOLD,
};
use crate::finding::{Evidence, Finding, Status, Text};
use crate::model::Resource;
use crate::policy::{Expression, Rule};

/// What evaluation needs of every resource of one kind, worked out once per kind.
pub(super) struct KindPlan<'r> {
    /// Rules over the kind, in pack order.
    rules: Vec<usize>,
    /// Top-level fields CEL reads; `None`: the whole object (see [`fields_read`]).
    cel: Option<HashSet<&'r str>>,
    /// Top-level fields the JSON object must hold: CEL's, the evidence paths' and the fields
    /// named when a read fails. `None`: the whole object.
    json: Option<HashSet<&'r str>>,
}

impl<'r> KindPlan<'r> {
    pub(super) fn new(rules: &'r [Rule], ids: Vec<usize>) -> KindPlan<'r> {
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
pub(super) fn evaluate_resources<S: Slot>(
    slots: &mut [S],
    rules: &[Stamped<'_>],
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
pub(super) fn evaluate_chunk<S: Slot>(
    slots: &mut [S],
    base: usize,
    rules: &[Stamped<'_>],
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
    let mut names = Names::default();
    for (k, slot) in slots.iter_mut().enumerate() {
        let i = base + k;
        let Some(resource) = slot.get() else {
            continue;
        };
        let Some(plan) = plans.get(resource.kind()) else {
            continue;
        };
        made.clear();
        evaluate_resource(resource, plan, rules, &env, &mut names, &mut made);
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
    rules: &[Stamped<'_>],
    env: &std::sync::Arc<cel::Env>,
    names: &mut Names,
    out: &mut Vec<(usize, When, Option<Finding>)>,
) {
    let res = ResRef::of(resource, names);
    // Converted once, shared by every rule over this kind.
    let json = match &plan.json {
        Some(keep) => resource_fields(resource, keep).map_err(|e| e.to_string()),
        None => resource_object(resource).map_err(|e| e.to_string()),
    };
    let json = match json {
        Ok(j) => j,
        Err(e) => {
            for &ri in &plan.rules {
                let why = format!("the resource could not be read ({e})");
                let msg = sentence::unknown(&rules[ri], &res.name, &why, Undecided::Check, None);
                let f = finding(
                    &rules[ri],
                    &res,
                    Status::Unknown,
                    msg.into(),
                    Evidence::new(),
                );
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

/// An evidence value with every list cut to its first [`EVIDENCE_LIST_MAX`] items and a last
/// item saying how many more there were: a finding's evidence does not grow with the estate
/// (the rule was judged on the whole value).
pub(super) fn bounded(v: &Json) -> Json {
    match v {
        Json::Array(items) if items.len() > EVIDENCE_LIST_MAX => {
            let mut out: Vec<Json> = items[..EVIDENCE_LIST_MAX].iter().map(bounded).collect();
            out.push(Json::String(format!(
                "… and {} more ({} in all)",
                items.len() - EVIDENCE_LIST_MAX,
                items.len()
            )));
            Json::Array(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(bounded).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), bounded(v))).collect()),
        other => other.clone(),
    }
}

/// One rule over one resource: whether `when` matched, and the finding (none when it did not).
fn evaluate_one(
    rule: &Stamped<'_>,
    res: &ResRef,
    json: &Map<String, Json>,
    ctx: &Context<'_, '_>,
) -> (When, Option<Finding>) {
    let evidence = || -> Evidence {
        rule.evidence_keys
            .iter()
            .map(|p| (p.clone(), lookup(json, p).map_or(Json::Null, bounded)))
            .collect()
    };
    let make = |when: When, status: Status, message: Text| {
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
                    sentence::unknown(rule, &res.name, &why, Undecided::Applies, None).into(),
                )
            }
        }
    }
    match run(&rule.assert, ctx, json) {
        Ok(true) => make(When::Matched, Status::Pass, rule.title.clone()),
        Ok(false) => make(
            When::Matched,
            Status::Fail,
            sentence::failing(rule, &res.name, json).into(),
        ),
        Err(why) => make(
            When::Matched,
            Status::Unknown,
            sentence::unknown(rule, &res.name, &why, Undecided::Check, Some(json)).into(),
        ),
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
