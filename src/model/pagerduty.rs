//! The attributes of the PagerDuty kinds (REST API v2) and the facts `link` derives from them on
//! each alarm: whether the integration key an alarm's route carries belongs to a live, staffed
//! service. Data only (docs/design.md §3). No integration key is ever held here: a route and an
//! integration are matched by the digest of the key ([`SnsSubscription::endpoint_key_digest`],
//! [`PagerDutyIntegration::key_digest`]), computed by the collectors.
//!
//! [`SnsSubscription::endpoint_key_digest`]: super::SnsSubscription::endpoint_key_digest

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A PagerDuty service whose integrations carry keys (`GET /services?include[]=integrations`),
/// with its escalation policy and who is on call for it now, read for the services an alarm
/// route points at.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyService {
    pub service_id: Option<String>,
    /// `active`, `warning`, `critical` (open incidents), `maintenance` or `disabled`.
    pub status: Option<String>,
    #[serde(default)]
    pub integrations: Vec<PagerDutyIntegration>,
    pub escalation_policy_id: Option<String>,
    #[serde(default)]
    pub escalation_policy_name: Option<String>,
    /// The policy's rules in order (level 1 first). `null`: the policy was not read.
    #[serde(default)]
    pub escalation_rules: Option<Vec<EscalationRule>>,
    /// Who is on call now for the policy, per level. `null`: not read.
    #[serde(default)]
    pub on_call_now: Option<Vec<OnCall>>,
}

/// One integration of a service: how events reach it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyIntegration {
    pub id: Option<String>,
    /// `aws_cloudwatch_inbound_integration`, `events_api_v2_inbound_integration`, …
    #[serde(rename = "type")]
    pub integration_type: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Digest of the integration key (`sha256:` and 16 hex digits); `null` for integrations
    /// without one (email).
    #[serde(default)]
    pub key_digest: Option<String>,
}

/// One level of an escalation policy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EscalationRule {
    /// 1 for the first rule.
    pub level: u32,
    #[serde(default)]
    pub delay_minutes: Option<i64>,
    /// `schedule <name>` or `user <name>` (or `<type> <id>` when the API gives no name).
    #[serde(default)]
    pub targets: Vec<String>,
}

/// Someone on call now at one level of a policy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct OnCall {
    pub level: u32,
    pub user: Option<String>,
    /// The schedule that puts them there; `null` for a user the policy names directly.
    #[serde(default)]
    pub schedule: Option<String>,
    /// When their shift ends; `null`: permanently (a user named directly).
    #[serde(default)]
    pub until: Option<String>,
}

/// *Derived* on each alarm by `link`: the PagerDuty services its routes reach and what is wrong
/// with them. `audited` is false when `estate.toml` does not put PagerDuty in the audit's scope
/// (no `[monitoring]`, or PagerDuty listed in `not_used`); every other field is then `null`.
/// A list is `null` when what decides it could not be read (never an empty list standing in).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AlarmPagerDuty {
    pub audited: bool,
    /// `<service name> (<id>)` of every service a delivering route's key belongs to.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Delivering routes whose key belongs to no integration of any service.
    #[serde(default)]
    pub unresolved: Option<Vec<String>>,
    /// Services that create no incidents now (`disabled`, `maintenance`), with their status.
    #[serde(default)]
    pub inactive: Option<Vec<String>>,
    /// Services whose escalation policy has no rule, or a rule without a target.
    #[serde(default)]
    pub unescalated: Option<Vec<String>>,
    /// Services with nobody on call now at the first level of their escalation policy.
    #[serde(default)]
    pub unstaffed: Option<Vec<String>>,
}
