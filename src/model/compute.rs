//! The attributes of the compute kinds: Lambda functions (with their URL and resource policy),
//! ECS clusters, services and task definitions, and Application Auto Scaling targets and
//! policies. Data only (docs/design.md §3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Ingress, Reachability, ScalingAlarm, Tier};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunction {
    pub function_name: Option<String>,
    pub runtime: Option<String>,
    /// `null`: unknown; empty subnets: not attached to a VPC.
    pub vpc_config: Option<LambdaVpcConfig>,
    /// `{configured: false}`: the function has no URL.
    pub function_url: Option<FunctionUrl>,
    /// The resource-based policy, parsed. Empty list: no policy.
    pub policy_statements: Option<Vec<PolicyStatement>>,
    /// *Derived*: this is the spec's webhook (`components.webhook_function`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_webhook: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: source CIDRs the URL policy allows (`aws:SourceIp`) for `lambda:InvokeFunctionUrl`
    /// to principal `*`; a statement allowing the URL without a source condition adds `0.0.0.0/0`
    /// and `::/0`. Empty: no statement lets the public invoke the URL.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub url_allowed_source_ips: Option<Vec<String>>,
    /// *Derived*: every allowing URL statement limits `aws:SourceIp` to ranges inside Cloudflare's.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub url_sources_cloudflare_only: Option<bool>,
    /// *Derived*: a Cloudflare transform rule injects a header for the webhook host (a
    /// compensating control; the value is never kept).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origin_secret_header: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LambdaVpcConfig {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct FunctionUrl {
    pub configured: bool,
    #[serde(default)]
    pub url: Option<String>,
    /// `AWS_IAM` or `NONE`.
    #[serde(default)]
    pub auth_type: Option<String>,
}

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
    #[serde(default)]
    pub actions: Vec<String>,
    /// Condition operator → key → values, as in the policy JSON.
    #[serde(default)]
    pub conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

// ---------------------------------------------------------------------------------------------
// ECS and Application Auto Scaling

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EcsCluster {
    pub cluster_name: Option<String>,
    pub status: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EcsService {
    pub service_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub status: Option<String>,
    pub launch_type: Option<String>,
    pub desired_count: Option<i64>,
    pub task_definition_arn: Option<String>,
    /// The awsvpc configuration; `{}` with empty lists for other network modes.
    pub network_configuration: Option<EcsNetworkConfiguration>,
    /// *Derived*: this is the spec's processor service (`components.ecs_service`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_processor: Option<bool>,
    /// *Derived*: network mode of its task definition.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: `min/max` of the registered scalable targets.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub scalable_targets: Option<Vec<ScalableTarget>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub scaling_policy_names: Option<Vec<String>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub scaling_alarms: Option<Vec<ScalingAlarm>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EcsNetworkConfiguration {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub assign_public_ip: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EcsTaskDefinition {
    pub family: Option<String>,
    pub revision: Option<i64>,
    /// `awsvpc`, `bridge`, `host`, `none`.
    pub network_mode: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ScalableTarget {
    pub service_namespace: Option<String>,
    /// e.g. `service/<cluster>/<service>`.
    pub resource_id: Option<String>,
    pub scalable_dimension: Option<String>,
    pub min_capacity: Option<i64>,
    pub max_capacity: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ScalingPolicy {
    pub policy_name: Option<String>,
    pub service_namespace: Option<String>,
    pub resource_id: Option<String>,
    pub scalable_dimension: Option<String>,
    /// `StepScaling` or `TargetTrackingScaling`.
    pub policy_type: Option<String>,
    /// Sum of step adjustments' signs: > 0 scales out, < 0 scales in (step scaling).
    #[serde(default)]
    pub step_adjustments: Vec<i64>,
    /// Names of the alarms that trigger the policy.
    #[serde(default)]
    pub alarm_names: Vec<String>,
    /// Target tracking: the predefined metric (e.g. `ECSServiceAverageCPUUtilization`) or custom.
    #[serde(default)]
    pub target_metric: Option<String>,
    #[serde(default)]
    pub target_value: Option<f64>,
}
