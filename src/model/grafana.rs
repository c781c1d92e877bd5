//! The attributes of the Grafana kind (its HTTP API, read with a service-account token) and the
//! facts `link` derives on it: a CloudWatch data source for the estate's region, a dashboard per
//! spec component, Grafana-managed alert rules for the RabbitMQ alarms, and their notification
//! policy reaching a PagerDuty contact point whose key belongs to a PagerDuty service. Data only
//! (docs/design.md §3); no integration key is held, only its digest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AlertRoute, StrMap};

/// One Grafana organisation, as its token sees it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GrafanaInstance {
    pub url: Option<String>,
    /// `null`: not read (here and below).
    #[serde(default)]
    pub datasources: Option<Vec<GrafanaDataSource>>,
    #[serde(default)]
    pub dashboards: Option<Vec<GrafanaDashboard>>,
    /// Grafana-managed alert rules.
    #[serde(default)]
    pub alert_rules: Option<Vec<GrafanaAlertRule>>,
    /// One entry per integration of a contact point.
    #[serde(default)]
    pub contact_points: Option<Vec<GrafanaContactPoint>>,
    /// The notification policy tree.
    #[serde(default)]
    pub policy: Option<AlertRoute>,
    /// *Derived*: CloudWatch data sources for the estate's region.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_sources: Option<Vec<String>>,
    /// *Derived*: spec components (RDS, ECS, Redis, Lambda, NAT gateway, RabbitMQ) no dashboard
    /// is for.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub dashboards_missing: Option<Vec<String>>,
    /// *Derived*: the active rules watching RabbitMQ.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub rabbitmq_rules: Option<Vec<String>>,
    /// *Derived*: the spec's RabbitMQ alarms no active rule covers.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alerts_missing: Option<Vec<String>>,
    /// *Derived*: RabbitMQ rules whose notifications reach no PagerDuty contact point, and why.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alerts_unrouted: Option<Vec<String>>,
    /// *Derived*: whether PagerDuty is audited (the key check below applies).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_audited: Option<bool>,
    /// *Derived*: PagerDuty contact points whose key belongs to no PagerDuty service.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_unresolved: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GrafanaDataSource {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub source_type: Option<String>,
    /// CloudWatch's `jsonData.defaultRegion`.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GrafanaDashboard {
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub folder: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GrafanaAlertRule {
    pub uid: Option<String>,
    pub title: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// `null`: not said (Grafana omits it for active rules in some releases).
    #[serde(default)]
    pub paused: Option<bool>,
    #[serde(default)]
    pub labels: StrMap,
    /// The expressions of its data queries (`data[].model.expr`).
    #[serde(default)]
    pub queries: Vec<String>,
    /// What the rule does when its query returns nothing (`NoData`, `Alerting`, `OK`,
    /// `KeepLast`): with `OK`, a broker whose exporter is gone reads as healthy.
    #[serde(default)]
    pub no_data_state: Option<String>,
    /// Simplified routing: the contact point it notifies directly, skipping the policy tree.
    #[serde(default)]
    pub receiver: Option<String>,
    /// Simplified routing's time intervals: when that contact point is not notified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GrafanaContactPoint {
    pub name: String,
    /// `pagerduty`, `email`, `webhook`, …
    #[serde(rename = "type")]
    pub integration_type: Option<String>,
    /// The PagerDuty integration key's digest (from the decrypting export); `null`: not read.
    #[serde(default)]
    pub key_digest: Option<String>,
}
