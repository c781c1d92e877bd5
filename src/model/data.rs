//! The attributes of the data stores: RDS instances and parameter groups, ElastiCache replication
//! groups, clusters and subnet groups. Data only (docs/design.md §3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Ingress, Reachability, Tier};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DbInstance {
    pub db_instance_identifier: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub db_instance_class: Option<String>,
    pub status: Option<String>,
    pub publicly_accessible: Option<bool>,
    pub storage_encrypted: Option<bool>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    pub multi_az: Option<bool>,
    pub vpc_id: Option<String>,
    pub db_subnet_group_name: Option<String>,
    /// Subnets of its DB subnet group.
    pub subnet_ids: Option<Vec<String>>,
    pub security_group_ids: Option<Vec<String>>,
    pub parameter_group_names: Option<Vec<String>>,
    /// Each parameter group's apply status on the instance (`in-sync`, `pending-reboot`,
    /// `applying`): a group whose values wait for a reboot does not hold yet. `null`: unread.
    #[serde(default)]
    pub parameter_apply_status: Option<BTreeMap<String, String>>,
    pub endpoint_address: Option<String>,
    pub endpoint_port: Option<i64>,
    /// *Derived*: tiers of its subnets.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: a parameter group in effect (in sync with the instance) sets
    /// `require_secure_transport` on.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub require_secure_transport: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    /// *Derived*: each way in of `ingress` from beyond the compute tier (the internet, another
    /// tier, an address range reaching outside the VPC), in words with its security group. Null:
    /// a source's tiers are unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress_beyond_compute: Option<Vec<String>>,
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
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DbParameterGroup {
    pub name: Option<String>,
    pub family: Option<String>,
    /// Parameter name → value, for the parameters the rules read (`null` value: not set).
    pub parameters: Option<BTreeMap<String, Option<String>>>,
}

// ---------------------------------------------------------------------------------------------
// ElastiCache

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CacheReplicationGroup {
    pub replication_group_id: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub member_clusters: Vec<String>,
    pub at_rest_encryption_enabled: Option<bool>,
    pub transit_encryption_enabled: Option<bool>,
    /// `preferred` lets clients skip TLS; `required` does not.
    #[serde(default)]
    pub transit_encryption_mode: Option<String>,
    pub auth_token_enabled: Option<bool>,
    /// RBAC user groups.
    pub user_group_ids: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CacheCluster {
    pub cache_cluster_id: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub cache_node_type: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub replication_group_id: Option<String>,
    pub cache_subnet_group_name: Option<String>,
    pub security_group_ids: Option<Vec<String>>,
    pub at_rest_encryption_enabled: Option<bool>,
    pub transit_encryption_enabled: Option<bool>,
    /// `required` or `preferred` (which still admits clients without TLS), as the cluster's own
    /// answer gives it; a member cluster's answer may leave it to its replication group.
    #[serde(default)]
    pub transit_encryption_mode: Option<String>,
    pub auth_token_enabled: Option<bool>,
    /// *Derived*: every client must use TLS: transit encryption on and its mode (the cluster's,
    /// or its replication group's) `required`; Memcached has no plaintext mode once it is on.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub transit_encryption_required: Option<bool>,
    /// *Derived*: RBAC user groups of its replication group (empty list: none).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub user_group_ids: Option<Vec<String>>,
    /// *Derived*: subnets of its cache subnet group.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    /// *Derived*: each way in of `ingress` from beyond the compute tier (the internet, another
    /// tier, an address range reaching outside the VPC), in words with its security group. Null:
    /// a source's tiers are unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress_beyond_compute: Option<Vec<String>>,
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
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CacheSubnetGroup {
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Option<Vec<String>>,
}
