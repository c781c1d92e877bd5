//! The attributes of the alerting kinds: CloudWatch metric alarms, SNS topics and subscriptions.
//! Data only (docs/design.md §3).

use super::StrMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyStatement;

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    pub alarm_name: Option<String>,
    /// Empty for metric-math alarms (see `metrics`).
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub metric_name: Option<String>,
    #[serde(default)]
    pub dimensions: StrMap,
    #[serde(default)]
    pub statistic: Option<String>,
    #[serde(default)]
    pub period: Option<i64>,
    pub evaluation_periods: Option<i64>,
    #[serde(default)]
    pub datapoints_to_alarm: Option<i64>,
    #[serde(default)]
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Option<Vec<String>>,
    #[serde(default)]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    /// Metric-math queries: each query's metric as `namespace:name` with dimensions.
    #[serde(default)]
    pub metrics: Vec<MetricQuery>,
    #[serde(default)]
    pub state_value: Option<String>,
    /// *Derived*: `scaling` when every alarm action is an Auto Scaling policy, else `monitoring`.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// *Derived*: some alarm action reaches a confirmed HTTPS PagerDuty subscription.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_routed: Option<bool>,
    /// *Derived*: alarm → topic → subscription, or why the chain stops.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_path: Option<Vec<String>>,
    /// *Derived*: the PagerDuty services the alarm's routes reach and what is wrong with them
    /// (set on every alarm; `audited: false` when PagerDuty is not in the audit's scope).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty: Option<super::AlarmPagerDuty>,
    /// *Derived*: estate resources the alarm watches (ids): the first 20 in order,
    /// `watches_total` in all (how many resources its dimensions name).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub watches: Option<Vec<String>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub watches_total: Option<usize>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct MetricQuery {
    pub id: String,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub metric_name: Option<String>,
    #[serde(default)]
    pub dimensions: StrMap,
    #[serde(default)]
    pub stat: Option<String>,
    #[serde(default)]
    pub period: Option<i64>,
    #[serde(default)]
    pub return_data: Option<bool>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SnsTopic {
    pub topic_arn: Option<String>,
    /// KMS key for at-rest encryption, `null` when unknown; empty string: not encrypted.
    #[serde(default)]
    pub kms_master_key_id: Option<String>,
    /// The key `kms_master_key_id` names, as KMS describes it: read for customer keys (an
    /// `alias/aws/…` key is AWS managed by its name). `null`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<TopicKey>,
}

/// Whether a key reference (`KmsMasterKeyId`) names an AWS managed key by its alias
/// (`alias/aws/sns`, or the alias's ARN): AWS reserves `alias/aws/` for its own keys.
pub fn aws_managed_key_alias(key: &str) -> bool {
    key.starts_with("alias/aws/") || key.contains(":alias/aws/")
}

/// A topic's KMS key: who manages it, its state and its key policy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TopicKey {
    pub key_arn: Option<String>,
    /// `CUSTOMER` or `AWS` (an AWS managed key, whose policy no one can change).
    pub key_manager: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub key_state: Option<String>,
    /// The key policy's statements. `null`: not read.
    #[serde(default)]
    pub policy: Option<Vec<PolicyStatement>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SnsSubscription {
    pub topic_arn: Option<String>,
    /// `https`, `email`, `lambda`, …
    pub protocol: Option<String>,
    /// The endpoint with secrets (integration keys in a URL path) redacted by the collector.
    pub endpoint: Option<String>,
    /// Digest of the key an `https` endpoint's path carries (`sha256:` and 16 hex digits), to
    /// match it with a PagerDuty integration without keeping the key. `null`: none, or not read.
    #[serde(default)]
    pub endpoint_key_digest: Option<String>,
    /// False while `PendingConfirmation`.
    pub confirmed: Option<bool>,
    /// The subscription's filter policy (JSON text; empty: none), read for confirmed HTTPS
    /// subscriptions. `null`: not read.
    #[serde(default)]
    pub filter_policy: Option<String>,
    /// What the filter policy matches: `MessageAttributes` (the default) or `MessageBody`.
    #[serde(default)]
    pub filter_policy_scope: Option<String>,
}
