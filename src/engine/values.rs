//! The resource as rules see it: the JSON object of its fields (nulls dropped, so that reading an
//! unknown field is an error, never a comparison with null), the fields a kind's rules read, and
//! the conversion of that object into CEL values. It must not evaluate anything.

use std::collections::{HashMap, HashSet};

use super::pick;
use crate::model::Resource;
use crate::policy::Rule;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde_json::{Map, Value as Json};

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
pub(super) fn tags_object(r: &Resource) -> Json {
    Json::Object(
        r.tags
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect(),
    )
}

/// [`resource_object`] restricted to the top-level fields in `keep` (the same values, without
/// converting the fields no rule over the kind reads).
pub(super) fn resource_fields(
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
pub(super) fn fields_read<'r>(rules: &'r [Rule], rule_ids: &[usize]) -> Option<HashSet<&'r str>> {
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
pub(super) fn reads_whole_resource(src: &str) -> bool {
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
pub(super) fn object_to_val_only<'j>(
    m: &'j Map<String, Json>,
    keep: &HashSet<&str>,
) -> Box<dyn Val + 'j> {
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
pub(super) fn object_to_val(m: &Map<String, Json>) -> Box<dyn Val + '_> {
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
