//! The attributes of the Prometheus and Alertmanager kinds (their HTTP APIs, read-only) and the
//! facts `link` derives from them on the RabbitMQ host: is it scraped, do alerting rules watch
//! its queues and its node, and do those alerts reach a PagerDuty receiver. Data only
//! (docs/design.md §3).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::StrMap;

/// One Prometheus server (`GET /api/v1/targets`, `/api/v1/rules`, `/api/v1/alertmanagers`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PrometheusServer {
    pub url: Option<String>,
    /// Active scrape targets. `null`: not read.
    #[serde(default)]
    pub targets: Option<Vec<ScrapeTarget>>,
    /// Alerting rules of every group (recording rules are left out). `null`: not read.
    #[serde(default)]
    pub alert_rules: Option<Vec<AlertingRule>>,
    /// The Alertmanagers it sends alerts to now (active). `null`: not read.
    #[serde(default)]
    pub alertmanagers: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ScrapeTarget {
    #[serde(default)]
    pub job: Option<String>,
    /// What is scraped: the ground truth of which host it is.
    #[serde(default)]
    pub scrape_url: Option<String>,
    /// The target's labels after relabelling (`instance`, `instance_id`, …).
    #[serde(default)]
    pub labels: StrMap,
    /// The EC2 instance EC2 service discovery found it on (`__meta_ec2_instance_id`).
    #[serde(default)]
    pub ec2_instance_id: Option<String>,
    /// `up`, `down` or `unknown`.
    #[serde(default)]
    pub health: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertingRule {
    #[serde(default)]
    pub group: Option<String>,
    pub name: Option<String>,
    /// The PromQL expression.
    pub query: Option<String>,
    #[serde(default)]
    pub labels: StrMap,
    /// `ok`, `err` or `unknown`: a rule in error evaluates nothing.
    #[serde(default)]
    pub health: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// One Alertmanager (`GET /api/v2/status`): its running routing tree and receivers.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerServer {
    pub url: Option<String>,
    /// `ready`, `settling` or `disabled` (no cluster).
    #[serde(default)]
    pub cluster_status: Option<String>,
    /// The root of the routing tree. `null`: not read.
    #[serde(default)]
    pub route: Option<AlertRoute>,
    /// `null`: not read.
    #[serde(default)]
    pub receivers: Option<Vec<AlertReceiver>>,
    /// The running configuration's inhibit rules: an alert matching a rule's target side is
    /// muted while one matching its source side fires (with the `equal` labels alike).
    /// `null`: not read.
    #[serde(default)]
    pub inhibit_rules: Option<Vec<InhibitRule>>,
    /// The silences in force now (`GET /api/v2/silences`, state `active`): each mutes every
    /// alert its matchers all match, whatever the routes say. `null`: not read.
    #[serde(default)]
    pub silences: Option<Vec<AlertSilence>>,
}

/// One of Alertmanager's inhibit rules (`source_match`, `source_match_re` and
/// `source_matchers` together as `source`, the same for `target`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct InhibitRule {
    #[serde(default)]
    pub source: Vec<LabelMatcher>,
    #[serde(default)]
    pub target: Vec<LabelMatcher>,
    /// Labels whose values must be the same on both alerts.
    #[serde(default)]
    pub equal: Vec<String>,
}

/// A silence in force on an Alertmanager.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertSilence {
    pub id: String,
    /// All must hold.
    #[serde(default)]
    pub matchers: Vec<LabelMatcher>,
    /// When it ends (RFC 3339, as Alertmanager says it).
    #[serde(default)]
    pub ends_at: Option<String>,
}

/// A node of Alertmanager's routing tree.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertRoute {
    /// `null`: inherited from the parent.
    #[serde(default)]
    pub receiver: Option<String>,
    /// All must hold (`match`, `match_re` and `matchers` together).
    #[serde(default)]
    pub matchers: Vec<LabelMatcher>,
    /// Go on to the next sibling after matching.
    #[serde(default)]
    pub continue_matching: bool,
    #[serde(default)]
    pub routes: Vec<AlertRoute>,
    /// Named time intervals during which this route sends nothing (its own: a child does not
    /// inherit them, as in Alertmanager's dispatcher).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    /// Named time intervals outside which this route sends nothing (its own, like the above).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
}

/// `name op value`, with `op` one of `=`, `!=`, `=~`, `!~`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct LabelMatcher {
    pub name: String,
    pub op: String,
    pub value: String,
}

impl LabelMatcher {
    /// One matcher of a `matchers` list: `name="value"`, `name!="value"`, `name=~"re"`,
    /// `name!~"re"` (the value quoted or bare). One it cannot read keeps its text with the
    /// operator `?`, which `link` takes as unknown, never as matching or not.
    pub fn parse(text: &str) -> LabelMatcher {
        let t = text
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim();
        let unreadable = || LabelMatcher {
            name: t.to_string(),
            op: "?".into(),
            value: String::new(),
        };
        let end = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(t.len());
        let (name, rest) = t.split_at(end);
        let rest = rest.trim_start();
        let Some((op, value)) = ["=~", "!~", "!=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))
        else {
            return unreadable();
        };
        if name.is_empty() {
            return unreadable();
        }
        let value = if let Some(inner) = value.strip_prefix('"') {
            let Some(inner) = inner.strip_suffix('"') else {
                return unreadable();
            };
            match unquote(inner) {
                Some(v) => v,
                None => return unreadable(),
            }
        } else {
            value.to_string()
        };
        LabelMatcher {
            name: name.to_string(),
            op: op.to_string(),
            value,
        }
    }
}

/// A double-quoted string's escapes (`\"`, `\\`, `\n`, `\t`).
fn unquote(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            other => out.push(other),
        }
    }
    Some(out)
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertReceiver {
    pub name: String,
    /// The kinds of its integrations (`pagerduty`, `email`, `webhook`, …), one per config.
    #[serde(default)]
    pub integrations: Vec<String>,
    /// The `url` of each PagerDuty config (where its events go).
    #[serde(default)]
    pub pagerduty_urls: Vec<String>,
}

/// *Derived* on the RabbitMQ host by `link`: what Prometheus and Alertmanager do for it.
/// `audited` is false when `estate.toml` does not put Prometheus in the audit's scope; a list
/// is `null` when what decides it could not be read.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct HostPrometheus {
    pub audited: bool,
    /// Targets on this host that are up: `job scrape_url`.
    #[serde(default)]
    pub targets_up: Option<Vec<String>>,
    /// Targets on this host that are not up, with the scrape error.
    #[serde(default)]
    pub targets_down: Option<Vec<String>>,
    /// Alerting rules watching the broker (by the RabbitMQ metrics or the host's jobs they read).
    #[serde(default)]
    pub alert_rules: Option<Vec<String>>,
    /// The spec's RabbitMQ alarms no healthy rule covers: `queue depth or growth`,
    /// `queue consumers`, `memory alarm`, `disk alarm`, `node down`.
    #[serde(default)]
    pub alerts_missing: Option<Vec<String>>,
    /// Rules whose alerts reach no PagerDuty receiver, and why.
    #[serde(default)]
    pub alerts_unrouted: Option<Vec<String>>,
}
