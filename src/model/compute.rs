//! The attributes of the compute kinds: Lambda functions (with their URL and resource policy),
//! ECS clusters, services and task definitions, and Application Auto Scaling targets and
//! policies. Data only (docs/design.md §3).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Ingress, PolicyStatement, Reachability, ScalingAlarm, Tier};
use super::logs::{EcsContainer, LogShipping};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunction {
    pub function_name: Option<String>,
    pub runtime: Option<String>,
    /// `null`: unknown; empty subnets: not attached to a VPC.
    pub vpc_config: Option<LambdaVpcConfig>,
    /// The unqualified function's URL; `{configured: false}`: it has none.
    pub function_url: Option<FunctionUrl>,
    /// The unqualified function's resource-based policy, parsed. Empty list: no policy.
    pub policy_statements: Option<Vec<PolicyStatement>>,
    /// Every URL of the function, whatever its qualifier (the function itself or an alias); an
    /// alias's URL with the alias's resource-based policy, which governs it (the function's own
    /// URL answers to `policy_statements`). Empty: no URL. `null`: not read.
    #[serde(default)]
    pub function_urls: Option<Vec<FunctionUrl>>,
    /// The ARNs of the function's layers. Empty: none.
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// The CloudWatch Logs group it writes to: `LoggingConfig.LogGroup`, else Lambda's default
    /// `/aws/lambda/<name>`.
    #[serde(default)]
    pub log_group: Option<String>,
    /// *Derived*: this is the spec's webhook (`components.webhook_function`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_webhook: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: every endpoint that invokes the function from outside the VPC (each URL, each
    /// API whose integration calls it, each load balancer forwarding to it), with who can call
    /// it. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origins: Option<Vec<Origin>>,
    /// *Derived*: each of `origins` in words: its endpoint and who outside the account can call
    /// it ("nobody", or from where), that nothing serves it, or why that is unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origin_access: Option<Vec<String>>,
    /// *Derived*: some origin serves the function from outside the VPC (`served`); null when
    /// none is known to and one is unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub endpoint_served: Option<bool>,
    /// *Derived*: every origin accepts only Cloudflare's addresses.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origin_cloudflare_only: Option<bool>,
    /// *Derived*: a Cloudflare transform rule injects a header for the webhook host (a
    /// compensating control; the value is never kept).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub origin_secret_header: Option<bool>,
    /// *Derived* (the processors' services and the webhook): where its logs go.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub log_shipping: Option<Box<LogShipping>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
    /// *Derived*: the spec's alarm categories for this kind (docs/design.md §3, "Alarm
    /// coverage") that an alarm covers: one on this resource's own metric, in the category,
    /// able to fire, whose actions notify someone.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_categories_covered: Option<Vec<String>>,
    /// *Derived*: the categories no such alarm covers. `null`: unknown (alarms not collected,
    /// or an alarm that might cover one cannot be judged).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_categories_missing: Option<Vec<String>>,
    /// *Derived*: one sentence per category not known to be covered: what is missing, or why
    /// it cannot be told. Empty: every category is covered.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_coverage_gaps: Option<Vec<String>>,
    /// *Derived*: each alarm on this resource that covers no category, and why
    /// (`<alarm>: <why>`), at most 20, the last line saying how many more.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarms_not_counted: Option<Vec<String>>,
    /// *Derived*, on the spec's webhook function when Loki is audited: its logs in Loki in the
    /// last hour.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub loki: Option<Box<super::ComponentLoki>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LambdaVpcConfig {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
}

/// *Derived*: an endpoint that invokes a function, and who can call it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct Origin {
    /// `function URL https://…`, `function URL of alias live`, `REST API abc123 (default
    /// endpoint)`, `HTTP API …`, `load balancer …`.
    pub endpoint: String,
    /// Who outside the account can call it, from where. Empty: nobody.
    pub open_to: Vec<String>,
    /// Only Cloudflare's addresses can call it (or nobody outside the account). Null: unknown
    /// (`why_unknown` says why).
    pub cloudflare_only: Option<bool>,
    /// It answers requests from outside the VPC: a URL that exists, an API served by its
    /// default endpoint or a custom domain, a load balancer the internet reaches. `false`: an
    /// API nothing serves. Null: unknown.
    #[serde(default)]
    pub served: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_unknown: Option<String>,
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
    /// The alias the URL belongs to; absent for the unqualified function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// The resource-based policy of the URL's alias (an alias's URL in `function_urls` only).
    /// Empty list: no policy; `null`: unreadable, or the function's own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_statements: Option<Vec<PolicyStatement>>,
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
    /// *Derived*: one sentence for each scaling alarm that does not do what it seems to
    /// (`<alarm> → <policy>: <problem>`, the `problem` of `scaling_alarms`), at most 20, the
    /// last line saying how many more. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub scaling_alarm_problems: Option<Vec<String>>,
    /// *Derived* (the processors' services and the webhook): where its logs go.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub log_shipping: Option<Box<LogShipping>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
    /// *Derived*: the spec's alarm categories for this kind (docs/design.md §3, "Alarm
    /// coverage") that an alarm covers: one on this resource's own metric, in the category,
    /// able to fire, whose actions notify someone.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_categories_covered: Option<Vec<String>>,
    /// *Derived*: the categories no such alarm covers. `null`: unknown (alarms not collected,
    /// or an alarm that might cover one cannot be judged).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_categories_missing: Option<Vec<String>>,
    /// *Derived*: one sentence per category not known to be covered: what is missing, or why
    /// it cannot be told. Empty: every category is covered.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_coverage_gaps: Option<Vec<String>>,
    /// *Derived*: each alarm on this resource that covers no category, and why
    /// (`<alarm>: <why>`), at most 20, the last line saying how many more.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarms_not_counted: Option<Vec<String>>,
    /// *Derived*, on the spec's processor service when Loki is audited: its logs in Loki in the
    /// last hour.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub loki: Option<Box<super::ComponentLoki>>,
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
    /// Each container with its logging. `null`: not read.
    #[serde(default)]
    pub containers: Option<Vec<EcsContainer>>,
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
    /// Scaling in by the scaling policies is suspended (an operator's switch that outlives the
    /// incident it was set for). `null`: the answer did not say.
    #[serde(default)]
    pub dynamic_scaling_in_suspended: Option<bool>,
    /// Scaling out by the scaling policies is suspended: alarms fire and nothing grows.
    #[serde(default)]
    pub dynamic_scaling_out_suspended: Option<bool>,
    /// Scheduled actions are suspended.
    #[serde(default)]
    pub scheduled_scaling_suspended: Option<bool>,
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
    /// Step scaling: the scaling adjustment of each step, in order (`steps` has their bounds).
    #[serde(default)]
    pub step_adjustments: Vec<i64>,
    /// Step scaling: what an adjustment means: `ChangeInCapacity` (add or remove that many
    /// tasks), `PercentChangeInCapacity` (that percentage of the current count) or
    /// `ExactCapacity` (set the count to it). `null`: not read.
    #[serde(default)]
    pub adjustment_type: Option<String>,
    /// Step scaling: each step with the interval of (metric − alarm threshold) it applies to.
    /// `null`: not read (an inventory written before the bounds were collected).
    #[serde(default)]
    pub steps: Option<Vec<StepAdjustment>>,
    /// Names of the alarms that trigger the policy.
    #[serde(default)]
    pub alarm_names: Vec<String>,
    /// Target tracking: the predefined metric (e.g. `ECSServiceAverageCPUUtilization`) or custom.
    #[serde(default)]
    pub target_metric: Option<String>,
    #[serde(default)]
    pub target_value: Option<f64>,
    /// Target tracking: scale-in by the policy is disabled (its low alarm removes nothing).
    /// `null`: the answer did not say.
    #[serde(default)]
    pub disable_scale_in: Option<bool>,
}

/// One step of a step scaling policy. The bounds are relative to the alarm's threshold; a
/// missing bound is infinity (a lower one negative, an upper one positive). Above the threshold
/// the lower bound is inclusive and the upper exclusive; below it, the other way round.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    #[serde(default)]
    pub metric_interval_lower_bound: Option<f64>,
    #[serde(default)]
    pub metric_interval_upper_bound: Option<f64>,
    pub scaling_adjustment: i64,
}
