//! Normalisation of the Cloudflare v4 API's answers: the JSON `result` of one call → model
//! attributes (the zone, a DNS record, a zone setting, a ruleset entry point and its rules,
//! Cloudflare's ranges). Pure functions, tested from fixtures without a server. Values are read
//! field by field, so nothing a response carries (a header value, say) is copied into an error
//! message, and a transform rule is kept by the NAMES of the headers it sets, never their values.
//!
//! It must not do I/O or decide what is read (that is `client` and `zone`), and must not guess: a
//! field that is absent or of the wrong type stays unknown (`None`), and an answer that cannot be
//! a correct one is an error, never a partial value.

use serde_json::Value;

use std::collections::BTreeMap;

use crate::model::{
    Attrs, CloudflareIpRanges, CloudflareZone, DnsRecord, Override, Overrides, PageRule,
    PageRuleTarget, Phase, Resource, RulesetRule, Skip,
};

pub(super) fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn string_at(v: &Value, pointer: &str) -> Option<String> {
    str_at(v, pointer).map(str::to_string)
}

/// A zone from `GET /zones`, with the account that owns it.
#[derive(Debug)]
pub struct ZoneInfo {
    pub name: String,
    pub account_id: Option<String>,
    pub attrs: CloudflareZone,
}

pub fn normalize_zone(v: &Value) -> Result<ZoneInfo, String> {
    let id = str_at(v, "/id")
        .filter(|s| !s.is_empty())
        .ok_or("a zone without an id")?;
    let name = str_at(v, "/name").ok_or("a zone without a name")?;
    Ok(ZoneInfo {
        name: name.to_string(),
        account_id: string_at(v, "/account/id"),
        attrs: CloudflareZone {
            zone_id: Some(id.to_string()),
            zone_name: Some(name.to_string()),
            status: string_at(v, "/status"),
            // Absent or not a bool: unknown, never "not paused".
            paused: v.get("paused").and_then(Value::as_bool),
            plan: string_at(v, "/plan/legacy_id").or_else(|| string_at(v, "/plan/name")),
            ..Default::default()
        },
    })
}

pub fn normalize_dns_record(zone_id: &str, v: &Value) -> Result<Resource, String> {
    let id = str_at(v, "/id")
        .filter(|s| !s.is_empty())
        .ok_or("a DNS record without an id")?;
    let name = string_at(v, "/name");
    let mut r = Resource::new(
        format!("cloudflare:zone/{zone_id}/dns_record/{id}"),
        Attrs::DnsRecord(DnsRecord {
            zone_id: Some(zone_id.to_string()),
            record_name: name.clone(),
            record_type: string_at(v, "/type"),
            content: string_at(v, "/content"),
            // Absent or not a bool: unknown, never "not proxied".
            proxied: v.get("proxied").and_then(Value::as_bool),
            is_webhook_host: None,
            zone_active: None,
        }),
    );
    r.name = name;
    Ok(r)
}

/// The value of one zone setting. The six read here are strings (`"strict"`, `"1.2"`, `"on"`).
pub fn normalize_setting(name: &str, v: &Value) -> Result<String, String> {
    if let Some(id) = str_at(v, "/id") {
        if id != name {
            return Err(format!("answered for setting `{id}` instead of `{name}`"));
        }
    }
    match v.get("value") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("setting `{name}` has an empty value")),
        Some(_) => Err(format!("setting `{name}` has a value that is not text")),
        None => Err(format!("setting `{name}` has no value")),
    }
}

/// A phase entry point ruleset (HTTP 200): deployed, with its rules.
pub fn normalize_entrypoint(v: &Value) -> Result<Phase, String> {
    let rules = match v.get("rules") {
        // An entry point whose rules were all deleted comes back without `rules`.
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(normalize_rule).collect(),
        Some(_) => return Err("`rules` is not a list".into()),
    };
    Ok(Phase {
        deployed: true,
        rules,
    })
}

/// One ruleset rule. Kept: what the rule matches, whether it is on and what it does: an
/// `execute` rule's ruleset and overrides, a `skip` rule's targets, a rate limit's counting, a
/// `set_config` rule's settings and, for `rewrite` rules, only the NAMES of the headers they set,
/// never the values (one is typically the origin's shared secret).
pub fn normalize_rule(v: &Value) -> RulesetRule {
    let action = string_at(v, "/action");
    let params = v.get("action_parameters");
    let enabled = match v.get("enabled") {
        // Cloudflare omits `enabled` on enabled rules.
        None => Some(true),
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => None,
    };
    let mut rule = RulesetRule {
        id: string_at(v, "/id"),
        action: action.clone(),
        expression: string_at(v, "/expression"),
        enabled,
        description: string_at(v, "/description"),
        ..Default::default()
    };
    match action.as_deref() {
        Some("execute") => {
            rule.execute_ruleset_id = params.and_then(|p| string_at(p, "/id"));
            rule.overrides = params
                .and_then(|p| p.get("overrides"))
                .map(normalize_overrides);
        }
        Some("skip") => rule.skip = params.map(normalize_skip),
        Some("set_config") => {
            if let Some(Value::Object(m)) = params {
                for (k, val) in m {
                    let text = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    rule.set_config.insert(k.clone(), text);
                }
            }
        }
        Some("rewrite") => {
            if let Some(Value::Object(h)) = params.and_then(|p| p.get("headers")) {
                for (name, op) in h {
                    // `remove` takes a header away; `set`/`add` (or no operation) put one in.
                    if str_at(op, "/operation") != Some("remove") {
                        rule.set_headers.push(name.clone());
                    }
                }
                rule.set_headers.sort();
            }
        }
        _ => {}
    }
    if let Some(rl) = v.get("ratelimit") {
        rule.requests_per_period = rl.get("requests_per_period").and_then(Value::as_i64);
        rule.period = rl.get("period").and_then(Value::as_i64);
        rule.mitigation_timeout = rl.get("mitigation_timeout").and_then(Value::as_i64);
        // Not a list of text: unknown, never "counted by nothing".
        rule.characteristics = rl
            .get("characteristics")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .map(|c| c.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            });
        rule.counting_expression = string_at(rl, "/counting_expression").filter(|e| !e.is_empty());
    }
    rule
}

fn normalize_overrides(o: &Value) -> Overrides {
    let list = |key: &str, target: &str| -> Vec<Override> {
        o.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| Override {
                        // A target we cannot read still counts: it may disable something.
                        target: string_at(e, target).unwrap_or_else(|| "?".into()),
                        enabled: e.get("enabled").and_then(Value::as_bool),
                        action: string_at(e, "/action"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Overrides {
        enabled: o.get("enabled").and_then(Value::as_bool),
        action: string_at(o, "/action"),
        categories: list("categories", "/category"),
        rules: list("rules", "/id"),
    }
}

fn normalize_skip(p: &Value) -> Skip {
    let strings = |key: &str| -> Vec<String> {
        p.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut rules = BTreeMap::new();
    if let Some(Value::Object(m)) = p.get("rules") {
        for (ruleset, ids) in m {
            let ids = ids
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            rules.insert(ruleset.clone(), ids);
        }
    }
    Skip {
        current_ruleset: str_at(p, "/ruleset") == Some("current"),
        phases: strings("phases"),
        rulesets: strings("rulesets"),
        rules,
        products: strings("products"),
    }
}

/// One Page Rule (`GET /zones/{id}/pagerules`). Actions are kept as text by id; an action
/// without a value (`always_use_https`) is `on`.
pub fn normalize_page_rule(v: &Value) -> Result<PageRule, String> {
    let targets = match v.get("targets") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|t| PageRuleTarget {
                operator: string_at(t, "/constraint/operator"),
                value: string_at(t, "/constraint/value"),
            })
            .collect(),
        _ => return Err("a Page Rule without `targets`".into()),
    };
    let mut actions = BTreeMap::new();
    match v.get("actions") {
        Some(Value::Array(a)) => {
            for act in a {
                let Some(id) = str_at(act, "/id") else {
                    return Err("a Page Rule action without an id".into());
                };
                let text = match act.get("value") {
                    None | Some(Value::Null) => "on".to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                actions.insert(id.to_string(), text);
            }
        }
        _ => return Err("a Page Rule without `actions`".into()),
    }
    Ok(PageRule {
        id: string_at(v, "/id"),
        priority: v.get("priority").and_then(Value::as_i64),
        status: string_at(v, "/status"),
        targets,
        actions,
    })
}

/// The per-hostname values of one TLS setting (`GET /zones/{id}/hostnames/settings/{setting}`),
/// hostname → value.
pub fn normalize_hostname_settings(v: &Value) -> Result<BTreeMap<String, String>, String> {
    let items = v.as_array().ok_or("the result is not a list")?;
    let mut out = BTreeMap::new();
    for item in items {
        let host = str_at(item, "/hostname").ok_or("an entry without a hostname")?;
        let value = match item.get("value") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(format!("the entry for {host} has no text value")),
        };
        out.insert(host.to_ascii_lowercase(), value);
    }
    Ok(out)
}

/// The items of a custom IP list (`GET /accounts/{id}/rules/lists/{list}/items`): each an `ip`
/// (an address or CIDR). An item without one is an error: a partial list would judge wrongly.
pub fn normalize_list_items(items: &[Value]) -> Result<Vec<String>, String> {
    items
        .iter()
        .map(|i| {
            str_at(i, "/ip")
                .map(str::to_string)
                .ok_or_else(|| "an item without an `ip`: not an IP list".to_string())
        })
        .collect()
}

/// Cloudflare's ranges (`GET /ips`). Every entry must parse as a CIDR and neither list may be
/// empty: a partial list would judge a correct origin policy as too wide, an empty one all.
pub fn normalize_ips(v: &Value) -> Result<Resource, String> {
    let list = |key: &str, v6: bool| -> Result<Vec<String>, String> {
        let items = v
            .get(key)
            .and_then(Value::as_array)
            .ok_or(format!("`{key}` is missing"))?;
        if items.is_empty() {
            return Err(format!("`{key}` is empty"));
        }
        items
            .iter()
            .map(|c| {
                let s = c
                    .as_str()
                    .ok_or(format!("`{key}` holds a non-text entry"))?;
                let ok = if v6 {
                    s.parse::<ipnet::Ipv6Net>().is_ok()
                } else {
                    s.parse::<ipnet::Ipv4Net>().is_ok()
                };
                if ok {
                    Ok(s.to_string())
                } else {
                    Err(format!("`{key}` holds {s:?}, not a CIDR"))
                }
            })
            .collect()
    };
    let mut r = Resource::new(
        "cloudflare:ips",
        Attrs::CloudflareIpRanges(CloudflareIpRanges {
            ipv4_cidrs: list("ipv4_cidrs", false)?,
            ipv6_cidrs: list("ipv6_cidrs", true)?,
            etag: string_at(v, "/etag"),
        }),
    );
    r.name = Some("Cloudflare IP ranges".into());
    Ok(r)
}
