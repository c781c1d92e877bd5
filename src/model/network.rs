//! The attributes of the EC2 and VPC kinds: VPCs, subnets, route tables, gateways, security
//! groups, network ACLs, network interfaces, instances and volumes. Data only (docs/design.md §3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Ingress, Permission, Reachability, Tier};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
    pub is_default: Option<bool>,
    pub state: Option<String>,
    /// *Derived*: this is the VPC the estate configuration selects.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_estate: Option<bool>,
    /// *Derived*: estate subnets per tier (`public`, `compute`, `database`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub tier_subnets: Option<BTreeMap<String, Vec<String>>>,
    /// *Derived*: availability zones per tier.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub tier_azs: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
    pub map_public_ip_on_launch: Option<bool>,
    pub assign_ipv6_address_on_creation: Option<bool>,
    /// *Derived*: tier from the configured tag or id lists.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// *Derived*: the effective route table (explicit association, else the VPC's main table).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// *Derived*: some route of the effective table targets an internet gateway.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub has_igw_route: Option<bool>,
    /// *Derived*: target type of the IPv4 default route (`internet_gateway`, `nat_gateway`,
    /// `instance`, `transit_gateway`, `none`, …).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_route_target_type: Option<String>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_route_target_id: Option<String>,
    /// *Derived*: the default route goes to a NAT gateway whose state is `available`.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_route_nat_available: Option<bool>,
    /// *Derived*: workloads placed in this subnet, as `kind:id`: the first 20 in order (empty
    /// only when there is none), `workloads_total` of them in all.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub workloads: Option<Vec<String>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub workloads_total: Option<usize>,
    /// *Derived*: routes of the effective table that leave the VPC other than to the internet
    /// (a peering connection, a transit gateway, a virtual private gateway, a local or carrier
    /// gateway, a core network), each as `destination → target_type target_id`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub external_routes: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    pub route_table_id: Option<String>,
    pub vpc_id: Option<String>,
    /// This is the VPC's main table (used by subnets without an explicit association).
    pub main: Option<bool>,
    /// Explicitly associated subnet ids.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default)]
    pub destination_cidr_block: Option<String>,
    #[serde(default)]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(default)]
    pub destination_prefix_list_id: Option<String>,
    /// `internet_gateway`, `egress_only_internet_gateway`, `nat_gateway`, `instance`,
    /// `network_interface`, `transit_gateway`, `vpc_peering_connection`, `vpc_endpoint`,
    /// `virtual_private_gateway`, `local_gateway`, `carrier_gateway`, `core_network`, `local`.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// `active` or `blackhole`.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct InternetGateway {
    pub internet_gateway_id: Option<String>,
    #[serde(default)]
    pub attached_vpc_ids: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct NatGateway {
    pub nat_gateway_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    /// `pending`, `available`, `deleting`, `deleted`, `failed`.
    pub state: Option<String>,
    /// `public` or `private`.
    pub connectivity_type: Option<String>,
    #[serde(default)]
    pub public_ips: Vec<String>,
    /// *Derived*: tier of its subnet.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tier: Option<Tier>,
    /// *Derived*: alarms watching this NAT gateway.
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
pub struct SecurityGroup {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
    /// `null` when the permissions could not be read.
    pub ingress: Option<Vec<Permission>>,
    pub egress: Option<Vec<Permission>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct NetworkAcl {
    pub network_acl_id: Option<String>,
    pub vpc_id: Option<String>,
    pub is_default: Option<bool>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    pub entries: Option<Vec<NaclEntry>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct NaclEntry {
    pub rule_number: i64,
    pub egress: bool,
    /// Protocol number as a string, `-1` for all.
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    #[serde(default)]
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_block: Option<String>,
    #[serde(default)]
    pub from_port: Option<i64>,
    #[serde(default)]
    pub to_port: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub instance_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub state: Option<String>,
    pub instance_type: Option<String>,
    /// Whether the instance's primary interface has a public IPv4 address (`public_ip_address`
    /// says which); every interface's addresses are in `network_interfaces`.
    pub has_public_ip: Option<bool>,
    #[serde(default)]
    pub public_ip_address: Option<String>,
    #[serde(default)]
    pub ipv6_addresses: Vec<String>,
    pub private_ip_address: Option<String>,
    /// The groups of every interface, together.
    pub security_group_ids: Option<Vec<String>>,
    /// Every network interface attached to the instance, the primary first. `null`: not read
    /// (an inventory from an earlier collector): placement and exposure are then unknown.
    #[serde(default)]
    pub network_interfaces: Option<Vec<InstanceInterface>>,
    pub metadata_options: Option<MetadataOptions>,
    /// EBS volume ids attached.
    #[serde(default)]
    pub volume_ids: Vec<String>,
    /// *Derived*: this instance is the spec's RabbitMQ host (`components.rabbitmq`).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_rabbitmq: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tier: Option<Tier>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    /// *Derived* (the RabbitMQ host): each broker port without TLS (AMQP, MQTT, STOMP, streams,
    /// the HTTP management UI and its web plugins) or of the cluster's own traffic (Erlang
    /// distribution, epmd, the CLI tools) that its groups open to anything but the broker's own
    /// cluster, named with its source. Null: a source's users are unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub broker_ports_open: Option<Vec<String>>,
    /// *Derived* (the RabbitMQ host): what Prometheus and Alertmanager do for it.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<Box<super::HostPrometheus>>,
    /// *Derived* (the RabbitMQ host): what Zabbix does for it.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub zabbix: Option<Box<super::HostZabbix>>,
    /// *Derived* (the RabbitMQ host): each way in of `ingress` from anything but the webhook's,
    /// the processors' or the broker's own security groups, in words with its security group.
    /// Null: a source's users are unknown.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress_beyond_clients: Option<Vec<String>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
}

/// One network interface of an instance, as the instance description gives it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct InstanceInterface {
    pub network_interface_id: Option<String>,
    pub subnet_id: Option<String>,
    /// 0 for the primary interface.
    #[serde(default)]
    pub device_index: Option<i64>,
    #[serde(default)]
    pub private_ip_addresses: Vec<String>,
    /// Public IPv4 addresses associated with any of its private addresses (assigned at launch
    /// or Elastic IPs). Empty: none.
    #[serde(default)]
    pub public_ips: Vec<String>,
    #[serde(default)]
    pub ipv6_addresses: Vec<String>,
    pub security_group_ids: Option<Vec<String>>,
    /// *Derived*: tier of its subnet.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tier: Option<Tier>,
}

/// A network interface of the estate VPC, whoever owns it: an instance, a Lambda function, an
/// ECS task, a database, a cache, a load balancer, a NAT gateway, an endpoint or anything else.
/// The interfaces are what security groups are attached to, so they say who uses a group: `link`
/// names each interface's user in the ingress facts of the groups it carries.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct NetworkInterface {
    pub network_interface_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    /// `interface`, `lambda`, `network_load_balancer`, `nat_gateway`, `vpc_endpoint`, …
    pub interface_type: Option<String>,
    /// The account or service that created it for you (`amazon-rds`, `amazon-elasticache`, an
    /// ECS or ELB account id, …); absent for your own.
    #[serde(default)]
    pub requester_id: Option<String>,
    #[serde(default)]
    pub requester_managed: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    /// `available`, `in-use`, …
    pub status: Option<String>,
    /// The instance it is attached to, when attached to one.
    #[serde(default)]
    pub attached_instance_id: Option<String>,
    #[serde(default)]
    pub private_ip_addresses: Vec<String>,
    /// Public IPv4 addresses associated with its private addresses.
    #[serde(default)]
    pub public_ips: Vec<String>,
    #[serde(default)]
    pub ipv6_addresses: Vec<String>,
    pub security_group_ids: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct MetadataOptions {
    /// `required` (IMDSv2 only) or `optional`.
    pub http_tokens: Option<String>,
    /// `enabled` or `disabled`.
    pub http_endpoint: Option<String>,
    #[serde(default)]
    pub http_put_response_hop_limit: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub volume_id: Option<String>,
    pub encrypted: Option<bool>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    pub state: Option<String>,
    #[serde(default)]
    pub attached_instance_ids: Vec<String>,
}
