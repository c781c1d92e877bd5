//! Prometheus JSON and Alertmanager YAML → model, pure and tested without a server. A field of
//! the wrong type stays `None`; a list that is not a list is an error (never an empty list).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::model::{
    AlertReceiver, AlertRoute, AlertSilence, AlertingRule, InhibitRule, LabelMatcher, ScrapeTarget,
    StrMap,
};

fn string_at(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).map(str::to_string)
}

fn labels(v: Option<&Value>) -> StrMap {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `data` of `GET /api/v1/targets?state=active`.
pub fn normalize_targets(data: &Value) -> Result<Vec<ScrapeTarget>, String> {
    let items = data
        .get("activeTargets")
        .and_then(Value::as_array)
        .ok_or("`activeTargets` is not a list")?;
    Ok(items
        .iter()
        .map(|t| {
            let labels = labels(t.get("labels"));
            ScrapeTarget {
                job: labels
                    .get("job")
                    .cloned()
                    .or_else(|| string_at(t, "/scrapePool")),
                scrape_url: string_at(t, "/scrapeUrl"),
                ec2_instance_id: string_at(t, "/discoveredLabels/__meta_ec2_instance_id"),
                labels,
                health: string_at(t, "/health"),
                last_error: string_at(t, "/lastError").filter(|e| !e.is_empty()),
            }
        })
        .collect())
}

/// The alerting rules of `data` of `GET /api/v1/rules?type=alert`.
pub fn normalize_rules(data: &Value) -> Result<Vec<AlertingRule>, String> {
    let groups = data
        .get("groups")
        .and_then(Value::as_array)
        .ok_or("`groups` is not a list")?;
    let mut out = Vec::new();
    for g in groups {
        let group = string_at(g, "/name");
        let rules = g
            .get("rules")
            .and_then(Value::as_array)
            .ok_or("a group's `rules` is not a list")?;
        for r in rules {
            if r.get("type").and_then(Value::as_str) == Some("recording") {
                continue;
            }
            out.push(AlertingRule {
                group: group.clone(),
                name: string_at(r, "/name"),
                query: string_at(r, "/query"),
                labels: labels(r.get("labels")),
                health: string_at(r, "/health"),
                last_error: string_at(r, "/lastError").filter(|e| !e.is_empty()),
            });
        }
    }
    Ok(out)
}

/// The active Alertmanagers' URLs of `data` of `GET /api/v1/alertmanagers`.
pub fn normalize_alertmanagers(data: &Value) -> Result<Vec<String>, String> {
    let items = data
        .get("activeAlertmanagers")
        .and_then(Value::as_array)
        .ok_or("`activeAlertmanagers` is not a list")?;
    Ok(items.iter().filter_map(|a| string_at(a, "/url")).collect())
}

#[derive(Deserialize)]
struct Config {
    route: Option<Route>,
    #[serde(default)]
    receivers: Vec<Receiver>,
    #[serde(default)]
    inhibit_rules: Vec<Inhibit>,
}

#[derive(Deserialize)]
struct Inhibit {
    #[serde(default)]
    source_match: BTreeMap<String, String>,
    #[serde(default)]
    source_match_re: BTreeMap<String, String>,
    #[serde(default)]
    source_matchers: Vec<String>,
    #[serde(default)]
    target_match: BTreeMap<String, String>,
    #[serde(default)]
    target_match_re: BTreeMap<String, String>,
    #[serde(default)]
    target_matchers: Vec<String>,
    #[serde(default)]
    equal: Vec<String>,
}

#[derive(Deserialize)]
struct Route {
    receiver: Option<String>,
    #[serde(default, rename = "match")]
    match_eq: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    #[serde(default)]
    matchers: Vec<String>,
    #[serde(default, rename = "continue")]
    continue_matching: bool,
    #[serde(default)]
    routes: Vec<Route>,
    #[serde(default)]
    mute_time_intervals: Vec<String>,
    #[serde(default)]
    active_time_intervals: Vec<String>,
}

#[derive(Deserialize)]
struct Receiver {
    name: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_yaml_ng::Value>,
}

/// What Alertmanager's running configuration (`config.original`) says of where alerts go.
pub struct AlertmanagerConfig {
    pub route: AlertRoute,
    pub receivers: Vec<AlertReceiver>,
    pub inhibit_rules: Vec<InhibitRule>,
}

/// The routing tree, receivers and inhibit rules of Alertmanager's running configuration.
pub fn normalize_alertmanager_config(yaml: &str) -> Result<AlertmanagerConfig, String> {
    let cfg: Config = serde_yaml_ng::from_str(yaml).map_err(|e| {
        // The location only: the text may hold secrets a newer release does not mask.
        match e.location() {
            Some(l) => format!("not valid YAML at line {}, column {}", l.line(), l.column()),
            None => "not valid YAML".to_string(),
        }
    })?;
    let route = cfg.route.ok_or("the configuration has no `route`")?;
    let receivers = cfg
        .receivers
        .into_iter()
        .map(|r| {
            let mut integrations = Vec::new();
            let mut pagerduty_urls = Vec::new();
            for (key, value) in &r.rest {
                let Some(kind) = key.strip_suffix("_configs") else {
                    continue;
                };
                let Some(items) = value.as_sequence() else {
                    continue;
                };
                for item in items {
                    integrations.push(kind.to_string());
                    if kind == "pagerduty" {
                        if let Some(url) = item.get("url").and_then(|u| u.as_str()) {
                            pagerduty_urls.push(url.to_string());
                        }
                    }
                }
            }
            AlertReceiver {
                name: r.name,
                integrations,
                pagerduty_urls,
            }
        })
        .collect();
    let inhibit_rules = cfg
        .inhibit_rules
        .into_iter()
        .map(|i| InhibitRule {
            source: matchers(i.source_match, i.source_match_re, &i.source_matchers),
            target: matchers(i.target_match, i.target_match_re, &i.target_matchers),
            equal: i.equal,
        })
        .collect();
    Ok(AlertmanagerConfig {
        route: convert(route),
        receivers,
        inhibit_rules,
    })
}

/// The three ways of writing matchers (`match`, `match_re`, `matchers`) as one list.
fn matchers(
    eq: BTreeMap<String, String>,
    re: BTreeMap<String, String>,
    list: &[String],
) -> Vec<LabelMatcher> {
    let mut out: Vec<LabelMatcher> = eq
        .into_iter()
        .map(|(name, value)| LabelMatcher {
            name,
            op: "=".into(),
            value,
        })
        .collect();
    out.extend(re.into_iter().map(|(name, value)| LabelMatcher {
        name,
        op: "=~".into(),
        value,
    }));
    out.extend(list.iter().map(|m| LabelMatcher::parse(m)));
    out
}

fn convert(r: Route) -> AlertRoute {
    AlertRoute {
        receiver: r.receiver,
        matchers: matchers(r.match_eq, r.match_re, &r.matchers),
        continue_matching: r.continue_matching,
        routes: r.routes.into_iter().map(convert).collect(),
        mute_time_intervals: r.mute_time_intervals,
        active_time_intervals: r.active_time_intervals,
    }
}

/// The silences in force now, from `GET /api/v2/silences` (expired and pending ones are left
/// out: they mute nothing now).
pub fn normalize_silences(data: &Value) -> Result<Vec<AlertSilence>, String> {
    let items = data.as_array().ok_or("not a list of silences")?;
    let mut out = Vec::new();
    for (i, s) in items.iter().enumerate() {
        let state = s
            .pointer("/status/state")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("silence {i} has no `status.state`"))?;
        if state != "active" {
            continue;
        }
        let id = string_at(s, "/id").ok_or_else(|| format!("silence {i} has no `id`"))?;
        let matchers = s
            .get("matchers")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("silence `{id}` has no `matchers`"))?
            .iter()
            .map(|m| {
                let name = string_at(m, "/name")?;
                let value = string_at(m, "/value")?;
                let regex = m.get("isRegex").and_then(Value::as_bool)?;
                // Releases before 0.22 have no `isEqual`: every matcher was an equality.
                let equal = m.get("isEqual").and_then(Value::as_bool).unwrap_or(true);
                let op = match (regex, equal) {
                    (false, true) => "=",
                    (false, false) => "!=",
                    (true, true) => "=~",
                    (true, false) => "!~",
                };
                Some(LabelMatcher {
                    name,
                    op: op.into(),
                    value,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                format!("silence `{id}` has a matcher without name, value or isRegex")
            })?;
        out.push(AlertSilence {
            id,
            matchers,
            ends_at: string_at(s, "/endsAt"),
        });
    }
    Ok(out)
}
