//! The estate identification (`estate.toml`, docs/design.md §4) as data: which region, VPC,
//! subnet tiers and resources are the spec's components. An inventory carries the one it was
//! collected with. It owns the keys, their defaults and the selection of the estate VPC that
//! collection and `link` share; reading the file is `config`'s.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Resource, Vpc};

/// The whole `estate.toml`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EstateConfig {
    /// The one region the spec allows.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub estate: EstateSelector,
    #[serde(default)]
    pub tiers: TierConfig,
    #[serde(default)]
    pub components: Components,
    #[serde(default)]
    pub pagerduty: PagerDuty,
    #[serde(default)]
    pub cloudflare: CloudflareConfig,
    /// The spec's monitoring plane. `None` (no `[monitoring]`): not audited, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
}

/// How estate resources are recognised.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EstateSelector {
    /// `key=value` tag marking estate resources in any region.
    #[serde(default)]
    pub tag: Option<String>,
    /// The estate VPC's id.
    #[serde(default)]
    pub vpc: Option<String>,
    /// Or a `key=value` tag on the VPC.
    #[serde(default)]
    pub vpc_tag: Option<String>,
}

/// How subnets map to tiers: by tag (default key `Tier`) or explicit id lists.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    #[serde(default = "default_tier_tag")]
    pub tag_key: String,
    #[serde(default)]
    pub public: Vec<String>,
    #[serde(default)]
    pub compute: Vec<String>,
    #[serde(default)]
    pub database: Vec<String>,
}

fn default_tier_tag() -> String {
    "Tier".to_string()
}

impl Default for TierConfig {
    fn default() -> Self {
        TierConfig {
            tag_key: default_tier_tag(),
            public: Vec::new(),
            compute: Vec::new(),
            database: Vec::new(),
        }
    }
}

/// Which resources are the spec's named components.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Components {
    /// Instance id or `key=value` tag of the RabbitMQ host.
    #[serde(default = "default_rabbitmq")]
    pub rabbitmq: String,
    /// Function name of the webhook.
    #[serde(default = "default_webhook")]
    pub webhook_function: String,
    #[serde(default = "default_cluster")]
    pub ecs_cluster: String,
    #[serde(default = "default_service")]
    pub ecs_service: String,
    /// `Namespace:MetricName` of the queue depth metric used for back-pressure scaling.
    #[serde(default = "default_queue_metric")]
    pub queue_metric: String,
    /// `Name=Value` dimensions of the queue depth metric (e.g. `Queue=requests`): when given, a
    /// scaling alarm is on the configured queue only with exactly these dimensions (another
    /// queue's depth, or the broker's total, does not count). Empty: the dimensions are not
    /// checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue_dimensions: Vec<String>,
}

fn default_rabbitmq() -> String {
    "role=rabbitmq".into()
}
fn default_webhook() -> String {
    "webhook".into()
}
fn default_cluster() -> String {
    "estate".into()
}
fn default_service() -> String {
    "worker".into()
}
fn default_queue_metric() -> String {
    "Custom/RabbitMQ:MessagesReady".into()
}

impl Default for Components {
    fn default() -> Self {
        Components {
            rabbitmq: default_rabbitmq(),
            webhook_function: default_webhook(),
            ecs_cluster: default_cluster(),
            ecs_service: default_service(),
            queue_metric: default_queue_metric(),
            queue_dimensions: Vec::new(),
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerDuty {
    #[serde(default = "default_pd_prefix")]
    pub endpoint_prefix: String,
}

/// `[monitoring]`: the monitoring plane the spec describes (docs/design.md §4). With the section,
/// each provider the audit knows is audited unless listed in `not_used`, which the reports show
/// as out of scope (never as a pass).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Providers the estate declares it does not use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_used: Vec<MonitoringProvider>,
    #[serde(default)]
    pub pagerduty: PagerDutyApi,
    /// Where Prometheus answers (its bearer token or basic auth come from the environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<ServerUrl>,
    /// Where Alertmanager answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<ServerUrl>,
    /// Where Grafana answers (its service-account token comes from `GRAFANA_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana: Option<ServerUrl>,
    /// Where Zabbix's API answers (its API token comes from `ZABBIX_API_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zabbix: Option<ZabbixApi>,
    /// Where Loki answers and which streams are whose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loki: Option<LokiConfig>,
}

/// `[monitoring.zabbix]`: the frontend's `api_jsonrpc.php` URL, and optionally the RabbitMQ
/// host's technical name in Zabbix (by default the RabbitMQ instances' `Name` tags).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ZabbixApi {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// `[monitoring.loki]`: Loki's base URL, the tenant, and the LogQL stream selectors of the
/// spec's two log sources (an optional bearer token or basic auth comes from the environment,
/// `LOKI_BEARER_TOKEN` or `LOKI_BASIC_AUTH`). Every key may be missing: the findings then say
/// which one to set.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LokiConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Sent as `X-Scope-OrgID` (a multi-tenant Loki answers nothing without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The ECS processors' streams, e.g. `{ecs_cluster="estate", ecs_service="worker"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_streams: Option<String>,
    /// The webhook function's streams, e.g. `{function_name="webhook"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_streams: Option<String>,
}

/// `[monitoring.prometheus]`, `[monitoring.alertmanager]`: the server's base URL.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerUrl {
    pub url: String,
}

impl Monitoring {
    /// Whether `provider` is audited: in scope, not declared unused.
    pub fn audits(&self, provider: MonitoringProvider) -> bool {
        !self.not_used.contains(&provider)
    }
}

/// The parts of the spec's monitoring plane.
#[derive(
    Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum MonitoringProvider {
    Pagerduty,
    Prometheus,
    Alertmanager,
    Grafana,
    Zabbix,
    Loki,
}

impl MonitoringProvider {
    /// Every part, in the order reports list them.
    pub const ALL: [MonitoringProvider; 6] = [
        MonitoringProvider::Pagerduty,
        MonitoringProvider::Prometheus,
        MonitoringProvider::Alertmanager,
        MonitoringProvider::Grafana,
        MonitoringProvider::Zabbix,
        MonitoringProvider::Loki,
    ];

    /// Whether this version of the audit reads the part.
    pub fn audited_by_this_version(self) -> bool {
        matches!(
            self,
            MonitoringProvider::Pagerduty
                | MonitoringProvider::Prometheus
                | MonitoringProvider::Alertmanager
                | MonitoringProvider::Grafana
                | MonitoringProvider::Zabbix
                | MonitoringProvider::Loki
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringProvider::Pagerduty => "pagerduty",
            MonitoringProvider::Prometheus => "prometheus",
            MonitoringProvider::Alertmanager => "alertmanager",
            MonitoringProvider::Grafana => "grafana",
            MonitoringProvider::Zabbix => "zabbix",
            MonitoringProvider::Loki => "loki",
        }
    }
}

/// One part of the monitoring plane in a report's scope, and what the audit did with it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MonitoringScope {
    pub part: MonitoringProvider,
    pub status: MonitoringStatus,
}

#[derive(
    Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringStatus {
    /// Read and judged: its findings are in the report.
    Audited,
    /// Declared not used (`not_used`): no findings, never a pass.
    OutOfScope,
    /// In the estate's scope, but this version of the audit does not read it yet: no findings,
    /// and nothing was checked.
    NotAuditedYet,
}

impl MonitoringStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringStatus::Audited => "audited",
            MonitoringStatus::OutOfScope => "out_of_scope",
            MonitoringStatus::NotAuditedYet => "not_audited_yet",
        }
    }

    /// For people: `audited`, `out of scope (declared not used)`, `not audited by this version`.
    pub fn words(self) -> &'static str {
        match self {
            MonitoringStatus::Audited => "audited",
            MonitoringStatus::OutOfScope => "out of scope (declared not used)",
            MonitoringStatus::NotAuditedYet => "not audited by this version",
        }
    }
}

impl EstateConfig {
    /// What the audit does with each part of the monitoring plane (empty without `[monitoring]`).
    pub fn monitoring_scope(&self) -> Vec<MonitoringScope> {
        let Some(m) = &self.monitoring else {
            return Vec::new();
        };
        MonitoringProvider::ALL
            .iter()
            .map(|&part| MonitoringScope {
                part,
                status: if !m.audits(part) {
                    MonitoringStatus::OutOfScope
                } else if part.audited_by_this_version() {
                    MonitoringStatus::Audited
                } else {
                    MonitoringStatus::NotAuditedYet
                },
            })
            .collect()
    }
}

/// `[monitoring.pagerduty]`: where the PagerDuty REST API is (the token comes from the
/// environment, `PAGERDUTY_API_TOKEN`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyApi {
    #[serde(default = "default_pd_api")]
    pub api: String,
}

fn default_pd_api() -> String {
    "https://api.pagerduty.com".into()
}

impl Default for PagerDutyApi {
    fn default() -> Self {
        PagerDutyApi {
            api: default_pd_api(),
        }
    }
}

impl EstateConfig {
    /// Whether `provider` is audited: `[monitoring]` is there and does not list it as not used.
    pub fn audits(&self, provider: MonitoringProvider) -> bool {
        self.monitoring.as_ref().is_some_and(|m| m.audits(provider))
    }

    /// Whether PagerDuty's side of the alarm routes is audited.
    pub fn audits_pagerduty(&self) -> bool {
        self.audits(MonitoringProvider::Pagerduty)
    }
}

fn default_pd_prefix() -> String {
    "https://events.pagerduty.com/".into()
}

impl Default for PagerDuty {
    fn default() -> Self {
        PagerDuty {
            endpoint_prefix: default_pd_prefix(),
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareConfig {
    /// Zone name, e.g. `example.com`.
    #[serde(default)]
    pub zone: Option<String>,
    /// Host name Cloudflare serves the webhook on.
    #[serde(default)]
    pub webhook_host: Option<String>,
    /// Path of the webhook (default `/`), for the rate-limit coverage check.
    #[serde(default)]
    pub webhook_path: Option<String>,
}

impl EstateConfig {
    /// `key=value` split of a tag selector.
    pub fn split_tag(selector: &str) -> Option<(&str, &str)> {
        selector.split_once('=')
    }

    /// Explicit tier ids, by subnet id.
    pub fn explicit_tiers(&self) -> BTreeMap<&str, &'static str> {
        let mut m = BTreeMap::new();
        for id in &self.tiers.public {
            m.insert(id.as_str(), "public");
        }
        for id in &self.tiers.compute {
            m.insert(id.as_str(), "compute");
        }
        for id in &self.tiers.database {
            m.insert(id.as_str(), "database");
        }
        m
    }

    /// The estate VPC (docs/design.md §4): `estate.vpc`, else `vpc_tag`, else the one non-default VPC
    /// carrying the estate tag, else the only non-default VPC. An explicit id or tag that matches
    /// nothing selects nothing: auditing some other VPC instead would be a wrong answer.
    pub fn pick_vpc<'a>(
        &self,
        vpcs: &[(&'a Resource, &'a Vpc)],
    ) -> Option<(&'a Resource, &'a Vpc)> {
        let region = self.region.as_deref();
        if let Some(id) = self.estate.vpc.as_deref() {
            return vpcs
                .iter()
                .find(|(r, v)| v.vpc_id.as_deref() == Some(id) || r.id == id)
                .copied();
        }
        if let Some(sel) = self.estate.vpc_tag.as_deref() {
            let c = vpcs
                .iter()
                .filter(|(r, _)| r.has_tag(sel))
                .copied()
                .collect();
            return unique(c, region);
        }
        let non_default = |v: &Vpc| v.is_default == Some(false);
        if let Some(sel) = self.estate.tag.as_deref() {
            let c: Vec<_> = vpcs
                .iter()
                .filter(|(r, v)| v.is_default != Some(true) && r.has_tag(sel))
                .copied()
                .collect();
            if !c.is_empty() {
                return unique(c, region);
            }
        }
        let c = vpcs
            .iter()
            .filter(|(_, v)| non_default(v))
            .copied()
            .collect();
        unique(c, region)
    }
}

/// One of several candidates, preferring those in the configured region when that decides it.
fn unique<'a, T>(cands: Vec<(&'a Resource, T)>, region: Option<&str>) -> Option<(&'a Resource, T)> {
    if cands.len() == 1 {
        return cands.into_iter().next();
    }
    let region = region?;
    let mut local: Vec<_> = cands
        .into_iter()
        .filter(|(r, _)| r.region.as_deref().is_none_or(|x| x == region))
        .collect();
    if local.len() == 1 {
        local.pop()
    } else {
        None
    }
}

impl Resource {
    /// Carries the tag `key=value` of a selector (a selector without `=` matches nothing).
    pub fn has_tag(&self, selector: &str) -> bool {
        match EstateConfig::split_tag(selector) {
            Some((k, v)) => self.tags.get(k.trim()).is_some_and(|x| x == v.trim()),
            None => false,
        }
    }
}
