//! Pieces several resource kinds share (tiers, security-group permissions, the facts `link`
//! derives about ingress, reachability and scaling alarms) and the estate record `link` creates.
//! Data only: deriving them is `link`'s, judging them the rules'.

use std::collections::BTreeMap;

use super::StrMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Subnet tier of the spec's network design.
#[derive(
    Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Public,
    Compute,
    Database,
    /// In the estate VPC but mapped to no tier.
    Unassigned,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Compute => "compute",
            Tier::Database => "database",
            Tier::Unassigned => "unassigned",
        }
    }
}

/// One ingress or egress permission of a security group, as the EC2 API gives it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, a protocol number, or `-1` (all).
    pub ip_protocol: Option<String>,
    /// Absent for `-1`.
    #[serde(default)]
    pub from_port: Option<i64>,
    #[serde(default)]
    pub to_port: Option<i64>,
    #[serde(default)]
    pub ipv4_ranges: Vec<String>,
    #[serde(default)]
    pub ipv6_ranges: Vec<String>,
    /// Referenced security group ids.
    #[serde(default)]
    pub source_security_group_ids: Vec<String>,
    #[serde(default)]
    pub prefix_list_ids: Vec<String>,
}

/// *Derived*: one effective way into a resource, one source per entry, ports normalised
/// (`-1` → 0–65535).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct Ingress {
    pub security_group_id: String,
    /// `tcp`, `udp`, `icmp`, … or `all`.
    pub protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    /// `cidr`, `ipv6_cidr`, `security_group` or `prefix_list`.
    pub source_type: String,
    pub source: String,
    /// The source holds public internet addresses: 0.0.0.0/0, ::/0, any CIDR not entirely inside
    /// private space (RFC 1918, CGNAT, loopback, link-local, ULA), an unparseable CIDR, or a
    /// prefix list (whose content is not collected).
    pub source_is_internet: bool,
    /// Tiers the source belongs to: for a security group, the subnet tiers of the resources using
    /// it; for a CIDR, the tiers of the estate subnets it covers, plus `external` when it reaches
    /// beyond the VPC. Null when unknown: a resource that may use the group, or a subnet, could
    /// not be read (a short list would read as the whole truth).
    pub source_tiers: Option<Vec<String>>,
    /// Spec components the source is (`webhook`, `ecs_service`, `rabbitmq`, `rds`, `redis`);
    /// empty for a CIDR or prefix list. Null when a resource that may use the group could not be
    /// read.
    pub source_components: Option<Vec<String>>,
}

/// *Derived*: whether the internet can open a connection to a resource, with the evidence.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct Reachability {
    /// Some path exists from the internet to the resource.
    pub reachable: bool,
    /// Hop by hop: the address, the route, the security group rule and the NACL entry that
    /// admit the traffic; or, when unreachable, the first hop that blocks it.
    pub path: Vec<String>,
    /// Every way in that was found, one line each (its entry point and chain), at most
    /// [`Reachability::WAYS_MAX`]; `ways_total` counts them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ways: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ways_total: usize,
}

impl Reachability {
    /// The most ways of in one finding's evidence: evidence never grows with the estate.
    pub const WAYS_MAX: usize = 20;
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// *Derived*: an alarm linked to a scaling policy, as CloudWatch evaluates it and Application
/// Auto Scaling acts on it. `null` means unknown, never false.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ScalingAlarm {
    pub alarm_name: String,
    pub policy_name: String,
    /// `StepScaling` or `TargetTrackingScaling`.
    pub policy_type: Option<String>,
    /// What the policy does when this alarm fires: `out` (adds tasks), `in` (removes them),
    /// `none` (changes nothing: every step on the side of the threshold the alarm breaches is
    /// zero, or none applies there; a target-tracking low alarm with scale-in disabled) or
    /// `mixed` (steps on that side both add and remove). Step scaling reads the steps whose
    /// interval lies on the breached side of the threshold (above it for `Greater…` operators,
    /// below for `Less…`): `ChangeInCapacity` and `PercentChangeInCapacity` by the sign of the
    /// adjustment, `ExactCapacity` against the scalable target (at or above its maximum: `out`;
    /// at or below its minimum: `in`; between them it depends on the running count: `null`).
    /// Target tracking: its high alarm scales out, its low alarm in unless scale-in is disabled.
    pub direction: Option<String>,
    /// What the alarm's metric (a metric-math alarm's returned query) is: `queue` (the
    /// configured queue metric), `cpu` (`AWS/ECS` `CPUUtilization`) or `other`. `null`: the
    /// returned query is an expression, not resolved to one metric.
    pub metric_role: Option<String>,
    /// `namespace:name` of the metric, or the returned expression.
    pub metric: String,
    /// The metric's dimensions.
    #[serde(default)]
    pub metric_dimensions: StrMap,
    /// The metric names what its role means: `cpu`, this service (`ClusterName` and
    /// `ServiceName` its own and no other dimension: another service's CPU or the cluster's
    /// does not count); `queue`, the configured queue (its dimensions, when `estate.toml`
    /// names them). `false` for `other`.
    pub metric_matches: Option<bool>,
    pub statistic: Option<String>,
    pub comparison_operator: Option<String>,
    pub threshold: Option<f64>,
    /// Some value the metric can take breaches the threshold: `false` for `LessThanThreshold`
    /// at or below 0, or `LessThanOrEqualToThreshold` below 0, on a metric that is never
    /// negative (AWS metrics and the queue depth). `null`: the metric's range is not known, or
    /// the threshold is an anomaly band's.
    pub crossable: Option<bool>,
    /// How long the condition must hold: period × (datapoints to alarm, else evaluation periods).
    pub window_seconds: Option<i64>,
    /// The span those datapoints are taken from: period × evaluation periods (longer than
    /// `window_seconds` when M of N datapoints suffice, so the condition need not hold
    /// throughout).
    pub evaluation_seconds: Option<i64>,
    /// The alarm's actions are enabled (disabled, it never triggers the policy).
    pub actions_enabled: Option<bool>,
    /// The alarm triggers the policy and the policy moves capacity the way the alarm points:
    /// actions enabled, `direction` `out` or `in`, a `Greater…` operator for `out` and a
    /// `Less…` one for `in`, and a threshold that can be crossed.
    pub acts: Option<bool>,
    /// In one sentence, the first thing that keeps the alarm from doing what it seems to
    /// (actions disabled, a policy that changes nothing or points the other way, a threshold
    /// never crossed, another service's or queue's metric, CPU not averaged). Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The estate record

/// *Derived* (created by `link`): facts about the estate as a whole.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EstateFacts {
    /// The configured region.
    pub region: Option<String>,
    /// The estate VPC's id, when one was identified.
    pub vpc_id: Option<String>,
    /// Regions in which estate resources were found.
    pub regions_found: Vec<String>,
    /// Ids of estate resources outside the configured region. `null` when none was found but
    /// nobody looked: no other region was scanned, or no `estate.tag` says which resources there
    /// belong to the estate.
    #[serde(default)]
    pub out_of_region_resources: Option<Vec<String>>,
    /// What was looked at beyond the configured region, in words (which regions were scanned
    /// for the estate tag, or why none could be).
    #[serde(default)]
    pub other_regions: Option<String>,
    /// Spec components found in the inventory, by component name.
    pub components_found: Vec<String>,
    /// Spec components the estate lacks.
    pub components_missing: Vec<String>,
    /// Spec components whose presence is unknown (the kinds that would show them failed to
    /// collect). A rule on completeness must require this to be empty too.
    #[serde(default)]
    pub components_unknown: Vec<String>,
}

/// One statement of a resource-based IAM policy (a Lambda function's, an API's).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyStatement {
    #[serde(default)]
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Principals, flattened (`*`, account ids, ARNs, service names).
    #[serde(default)]
    pub principals: Vec<String>,
    /// `NotPrincipal`: everyone but these. Empty: the statement names `Principal`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_principals: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    /// `NotAction`: every action but these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_actions: Vec<String>,
    /// `Resource`; empty when absent (a resource policy's statements apply to the resource).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_resources: Vec<String>,
    /// Condition operator → key → values, as in the policy JSON.
    #[serde(default)]
    pub conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}
