//! The attributes of the kinds that put resources on the network's edge: Elastic Load Balancing
//! (application, network and gateway load balancers with their listeners and target groups, and
//! Classic load balancers) and API Gateway (REST and HTTP APIs with the integrations that show
//! what they invoke). Data only (docs/design.md §3): whether one of them is an internet path to
//! a component is `link`'s to derive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{PolicyStatement, Reachability, Tier};

/// An Elastic Load Balancing v2 load balancer (application, network or gateway).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub load_balancer_name: Option<String>,
    /// `application`, `network` or `gateway`.
    pub load_balancer_type: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    /// `active`, `provisioning`, `failed`, …
    pub state: Option<String>,
    #[serde(default)]
    pub dns_name: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// Empty: none (a network load balancer may have none, and then filters nothing).
    pub security_group_ids: Option<Vec<String>>,
    /// `null`: the listeners could not be read.
    pub listeners: Option<Vec<Listener>>,
    /// *Derived*: tiers of its subnets.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: whether the internet reaches the load balancer itself.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    /// *Derived*: what it forwards to, each as `listener → target group → target:port`.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub forwards_to: Option<Vec<String>>,
}

/// A listener of a v2 load balancer.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    #[serde(default)]
    pub listener_arn: Option<String>,
    pub port: Option<i64>,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`.
    pub protocol: Option<String>,
    /// What the listener does by default. Its rules may forward elsewhere: which target groups
    /// a load balancer reaches is read from the target groups (each lists the load balancers
    /// that route to it), not from here.
    #[serde(default)]
    pub default_actions: Vec<LbAction>,
}

/// What a listener or rule does with a request.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LbAction {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, `authenticate-cognito`.
    pub action_type: Option<String>,
    /// Target groups a `forward` sends to.
    #[serde(default)]
    pub target_group_arns: Vec<String>,
}

/// A target group of a v2 load balancer, with its registered targets.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    pub target_group_name: Option<String>,
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub load_balancer_arns: Vec<String>,
    /// `null`: the targets could not be read.
    pub targets: Option<Vec<LbTarget>>,
}

/// A registered target: an instance id, an IP address, a Lambda function ARN or an ALB ARN.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LbTarget {
    pub id: String,
    /// The port traffic goes to (the group's when the target does not name one).
    #[serde(default)]
    pub port: Option<i64>,
    /// `healthy`, `unhealthy`, `initial`, `draining`, `unused`, `unavailable`.
    #[serde(default)]
    pub health: Option<String>,
}

/// A Classic load balancer.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassicLoadBalancer {
    pub load_balancer_name: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub dns_name: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Option<Vec<String>>,
    #[serde(default)]
    pub listeners: Vec<ClassicListener>,
    /// Registered instances.
    #[serde(default)]
    pub instance_ids: Vec<String>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub forwards_to: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassicListener {
    pub load_balancer_port: Option<i64>,
    pub protocol: Option<String>,
    pub instance_port: Option<i64>,
    #[serde(default)]
    pub instance_protocol: Option<String>,
}

/// An API Gateway REST API (v1).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RestApi {
    pub api_id: Option<String>,
    pub name: Option<String>,
    /// `EDGE`, `REGIONAL` or `PRIVATE`.
    #[serde(default)]
    pub endpoint_types: Vec<String>,
    /// The default `execute-api` endpoint is switched off: only custom domains reach the API.
    pub disable_execute_api_endpoint: Option<bool>,
    /// The custom domain names that serve the API (base path or API mappings). Empty: none.
    /// `null`: unread.
    #[serde(default)]
    pub custom_domains: Option<Vec<String>>,
    /// The resource policy, parsed. Empty list: no policy. `null`: unreadable.
    pub policy_statements: Option<Vec<PolicyStatement>>,
    /// Every method's integration. `null`: the resources could not be read.
    pub integrations: Option<Vec<ApiIntegration>>,
}

/// An API Gateway HTTP or WebSocket API (v2). It has no resource policy: a default endpoint
/// that is on is open to anyone.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct HttpApi {
    pub api_id: Option<String>,
    pub name: Option<String>,
    /// `HTTP` or `WEBSOCKET`.
    pub protocol_type: Option<String>,
    #[serde(default)]
    pub api_endpoint: Option<String>,
    pub disable_execute_api_endpoint: Option<bool>,
    /// The custom domain names that serve the API. Empty: none. `null`: unread.
    #[serde(default)]
    pub custom_domains: Option<Vec<String>>,
    /// `null`: the integrations could not be read.
    pub integrations: Option<Vec<ApiIntegration>>,
}

/// What one API method (or route) calls.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ApiIntegration {
    /// `resource_path method` (REST) or the route key (HTTP); absent for a bare integration.
    #[serde(default)]
    pub route: Option<String>,
    /// `AWS_PROXY`, `AWS`, `HTTP`, `HTTP_PROXY`, `MOCK`.
    pub integration_type: Option<String>,
    /// The integration URI as given (a Lambda invocation ARN, a URL, …).
    #[serde(default)]
    pub uri: Option<String>,
    /// The Lambda function the URI invokes, when it invokes one (its ARN, without
    /// `/invocations`).
    #[serde(default)]
    pub function_arn: Option<String>,
    /// `INTERNET` or `VPC_LINK` (a private integration, into the VPC).
    #[serde(default)]
    pub connection_type: Option<String>,
    /// Where a private integration goes. `null` on a private integration: the VPC link could
    /// not be read.
    #[serde(default)]
    pub vpc_link: Option<VpcLink>,
}

/// The VPC link of a private integration: the API's way into the VPC.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct VpcLink {
    /// The link's id, as the integration names it (a `${stageVariables.…}` reference when a
    /// stage picks it).
    pub id: Option<String>,
    /// The load balancers the integration sends to, by ARN. `null`: unknown (a stage variable,
    /// a Cloud Map service, a link that is not listed).
    pub load_balancer_arns: Option<Vec<String>>,
    /// The link's own security groups (an HTTP API's link has them; a REST API's has none, and
    /// lists empty). `null`: unread.
    #[serde(default)]
    pub security_group_ids: Option<Vec<String>>,
    /// The subnets the link's interfaces are in (HTTP API links).
    #[serde(default)]
    pub subnet_ids: Vec<String>,
}
