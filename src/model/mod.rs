//! The inventory: every resource the auditor knows about, as plain serde data. It owns the
//! versioned JSON shape (`schema_version`), the typed attributes of each resource kind, the facts
//! `link` derives, and the JSON Schema published for other inventory sources.
//!
//! It must not know where data came from (no SDK or HTTP types) nor judge it (no rules).
//! **`null` means unknown, never false**: every field a collector may fail to read is an `Option`;
//! the absence of a feature is a value (`function_url: {configured: false}`, an empty list).
//! Fields marked *derived* are computed by `link`; they are never read from an input file
//! (`skip_deserializing`), so an inventory cannot claim its own compliance.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod cloudflare;
mod common;
mod compute;
mod data;
mod edge;
mod estate;
mod grafana;
pub mod json;
mod logs;
mod loki;
mod monitoring;
mod network;
mod pagerduty;
mod prometheus;
mod read;
mod strmap;
#[cfg(test)]
mod tests;
mod zabbix;

pub use cloudflare::*;
pub use common::*;
pub use compute::*;
pub use data::*;
pub use edge::*;
pub use estate::*;
pub use grafana::*;
pub use logs::*;
pub use loki::*;
pub use monitoring::*;
pub use network::*;
pub use pagerduty::*;
pub use prometheus::*;
pub(crate) use strmap::map_entries;
pub use strmap::StrMap;
pub use zabbix::*;

/// Version of the inventory JSON. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole collected estate.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Must equal [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// When the collection ran.
    #[serde(default)]
    pub generated_at: Option<DateTime<Utc>>,
    /// What was scanned.
    #[serde(default)]
    pub scope: Scope,
    /// The estate identification used at collection time (`estate.toml`). `--config` overrides it.
    #[serde(default)]
    pub estate: EstateConfig,
    pub resources: Vec<Resource>,
    /// Services that could not be read. Every rule over their kinds is `unknown`.
    #[serde(default)]
    pub collection_errors: Vec<CollectionError>,
}

impl Inventory {
    pub fn new(estate: EstateConfig) -> Self {
        Inventory {
            schema_version: SCHEMA_VERSION,
            generated_at: None,
            scope: Scope::default(),
            estate,
            resources: Vec::new(),
            collection_errors: Vec::new(),
        }
    }
}

/// What a collection covered.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// AWS account ids scanned.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// AWS regions scanned (the configured one first).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Cloudflare zones scanned (by name).
    #[serde(default)]
    pub cloudflare_zones: Vec<String>,
    /// Each part of the monitoring plane `estate.toml`'s `[monitoring]` names and whether the
    /// audit judged it; empty without the section. Derived from the configuration an audit runs
    /// with, which replaces whatever an input inventory says here; read back from a JSON report
    /// (`merge`, baselines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitoring: Vec<MonitoringScope>,
}

/// A service (or part of one) that could not be read.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CollectionError {
    /// `aws` or `cloudflare`.
    pub provider: String,
    /// Service or API area, e.g. `rds`, `ec2`, `cloudflare.rulesets`.
    pub service: String,
    /// Resource kinds whose inventory is incomplete because of this error.
    pub kinds: Vec<String>,
    pub kind: ErrorKind,
    /// Human-readable cause; never contains a secret.
    pub message: String,
    /// Region, when the error is regional.
    #[serde(default)]
    pub region: Option<String>,
    /// AWS account, when the error belongs to one account of a multi-account collection (a
    /// role that could not be assumed, a service of that account). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(
    Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum ErrorKind {
    AccessDenied,
    Throttled,
    Unsupported,
    Other,
}

/// One resource. `kind` and `attrs` come from [`Attrs`].
// Deserialized by hand (`ResourceVisitor`): the derived form of a flattened, adjacently tagged
// enum buffers every resource into an intermediate tree first, most of an inventory's parse time.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct Resource {
    /// AWS ARN; Cloudflare `cloudflare:zone/<id>[/dns_record/<id>]`; `estate:<vpc arn or name>` for
    /// the estate record `link` creates.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub tags: StrMap,
    #[serde(flatten)]
    pub attrs: Attrs,
}

impl Resource {
    pub fn new(id: impl Into<String>, attrs: Attrs) -> Self {
        Resource {
            id: id.into(),
            name: None,
            region: None,
            account: None,
            tags: StrMap::new(),
            attrs,
        }
    }

    /// The kind string, e.g. `aws.rds.db_instance`.
    pub fn kind(&self) -> &'static str {
        self.attrs.kind()
    }

    /// A name for people: the Name tag, the name, else the id.
    pub fn display_name(&self) -> &str {
        self.tags
            .get("Name")
            .map(String::as_str)
            .or(self.name.as_deref())
            .unwrap_or(&self.id)
    }
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($ty:ident) = $kind:literal as $konst:ident ),* $(,)?) => {
        /// The typed attributes of a resource, tagged by its kind.
        #[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
        #[serde(tag = "kind", content = "attrs", deny_unknown_fields)]
        pub enum Attrs {
            $( $(#[$doc])* #[serde(rename = $kind)] $variant($ty), )*
        }

        impl Attrs {
            pub fn kind(&self) -> &'static str {
                match self { $( Attrs::$variant(_) => $kind, )* }
            }

            /// The kind's struct alone (the `attrs` object), for serialising it without the tag.
            pub fn fields(&self) -> AttrFields<'_> {
                AttrFields(self)
            }
        }

        /// See [`Attrs::fields`].
        pub struct AttrFields<'a>(&'a Attrs);

        impl Serialize for AttrFields<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.0 { $( Attrs::$variant(x) => x.serialize(s), )* }
            }
        }

        /// The attrs of kind `kind` (one of [`KINDS`]), read straight into its struct.
        fn deserialize_kind<'de, D: serde::Deserializer<'de>>(
            kind: &'static str,
            d: D,
        ) -> Result<Attrs, D::Error> {
            match kind {
                $( $kind => <$ty>::deserialize(d).map(Attrs::$variant), )*
                other => Err(serde::de::Error::unknown_variant(other, KINDS)),
            }
        }

        /// The name of every kind, written once: code says `kind::VPC`, never the string.
        pub mod kind {
            $( pub const $konst: &str = $kind; )*
        }

        /// Every kind the model knows, in catalog order.
        pub const KINDS: &[&str] = &[ $( $kind ),* ];

        /// JSON Schema (serialize form: collected and derived fields) of one kind's attrs.
        pub fn kind_schema(kind: &str) -> Option<schemars::Schema> {
            let mut gen = schemars::generate::SchemaSettings::draft2020_12()
                .for_serialize()
                .into_generator();
            match kind {
                $( $kind => Some(gen.root_schema_for::<$ty>()), )*
                _ => None,
            }
        }
    };
}

kinds! {
    /// The estate record `link` creates: estate-level facts (missing components, regions).
    Estate(EstateFacts) = "estate" as ESTATE,
    Vpc(Vpc) = "aws.ec2.vpc" as VPC,
    Subnet(Subnet) = "aws.ec2.subnet" as SUBNET,
    RouteTable(RouteTable) = "aws.ec2.route_table" as ROUTE_TABLE,
    InternetGateway(InternetGateway) = "aws.ec2.internet_gateway" as INTERNET_GATEWAY,
    NatGateway(NatGateway) = "aws.ec2.nat_gateway" as NAT_GATEWAY,
    SecurityGroup(SecurityGroup) = "aws.ec2.security_group" as SECURITY_GROUP,
    NetworkAcl(NetworkAcl) = "aws.ec2.network_acl" as NETWORK_ACL,
    NetworkInterface(NetworkInterface) = "aws.ec2.network_interface" as NETWORK_INTERFACE,
    Instance(Instance) = "aws.ec2.instance" as INSTANCE,
    Volume(Volume) = "aws.ec2.volume" as VOLUME,
    DbInstance(DbInstance) = "aws.rds.db_instance" as DB_INSTANCE,
    DbParameterGroup(DbParameterGroup) = "aws.rds.db_parameter_group" as DB_PARAMETER_GROUP,
    CacheReplicationGroup(CacheReplicationGroup) = "aws.elasticache.replication_group" as CACHE_REPLICATION_GROUP,
    CacheCluster(CacheCluster) = "aws.elasticache.cluster" as CACHE_CLUSTER,
    CacheSubnetGroup(CacheSubnetGroup) = "aws.elasticache.subnet_group" as CACHE_SUBNET_GROUP,
    LambdaFunction(LambdaFunction) = "aws.lambda.function" as LAMBDA_FUNCTION,
    EcsCluster(EcsCluster) = "aws.ecs.cluster" as ECS_CLUSTER,
    EcsService(EcsService) = "aws.ecs.service" as ECS_SERVICE,
    EcsTaskDefinition(EcsTaskDefinition) = "aws.ecs.task_definition" as ECS_TASK_DEFINITION,
    ScalableTarget(ScalableTarget) = "aws.application_autoscaling.scalable_target" as SCALABLE_TARGET,
    ScalingPolicy(ScalingPolicy) = "aws.application_autoscaling.scaling_policy" as SCALING_POLICY,
    LoadBalancer(LoadBalancer) = "aws.elbv2.load_balancer" as LOAD_BALANCER,
    TargetGroup(TargetGroup) = "aws.elbv2.target_group" as TARGET_GROUP,
    ClassicLoadBalancer(ClassicLoadBalancer) = "aws.elb.load_balancer" as CLASSIC_LOAD_BALANCER,
    RestApi(RestApi) = "aws.apigateway.rest_api" as REST_API,
    HttpApi(HttpApi) = "aws.apigatewayv2.api" as HTTP_API,
    Alarm(Alarm) = "aws.cloudwatch.alarm" as ALARM,
    SnsTopic(SnsTopic) = "aws.sns.topic" as SNS_TOPIC,
    SnsSubscription(SnsSubscription) = "aws.sns.subscription" as SNS_SUBSCRIPTION,
    /// A CloudWatch Logs group the processors or the webhook write to, with its subscriptions.
    LogGroup(LogGroup) = "aws.logs.log_group" as LOG_GROUP,
    /// A resource known only by its ARN and tags (Resource Groups Tagging API): what the scan of
    /// the other regions finds carrying the estate tag.
    TaggedResource(TaggedResource) = "aws.tagging.resource" as TAGGED_RESOURCE,
    CloudflareZone(CloudflareZone) = "cloudflare.zone" as CLOUDFLARE_ZONE,
    DnsRecord(DnsRecord) = "cloudflare.dns_record" as DNS_RECORD,
    CloudflareIpRanges(CloudflareIpRanges) = "cloudflare.ip_ranges" as CLOUDFLARE_IP_RANGES,
    /// A PagerDuty service with its integrations, escalation policy and who is on call now.
    PagerDutyService(PagerDutyService) = "pagerduty.service" as PAGERDUTY_SERVICE,
    /// A Prometheus server: its scrape targets, alerting rules and Alertmanagers.
    PrometheusServer(PrometheusServer) = "prometheus.server" as PROMETHEUS_SERVER,
    /// An Alertmanager: its running routing tree and receivers.
    AlertmanagerServer(AlertmanagerServer) = "alertmanager.server" as ALERTMANAGER_SERVER,
    /// A Grafana organisation: data sources, dashboards, alert rules, contact points, policy.
    GrafanaInstance(GrafanaInstance) = "grafana.instance" as GRAFANA_INSTANCE,
    /// A Zabbix server: the RabbitMQ host, its triggers, the trigger actions and media types.
    ZabbixServer(ZabbixServer) = "zabbix.server" as ZABBIX_SERVER,
    /// A Loki: lines in the last hour from the ECS processors' and the webhook's streams.
    LokiServer(LokiServer) = "loki.server" as LOKI_SERVER,
}

/// Found by its tags in another region (`aws-region-single`): the ARN is the resource id and the
/// tags are the resource's; nothing else is read, so no rule judges its configuration.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TaggedResource {
    /// `service:type` taken from the ARN, e.g. `ec2:vpc`, `lambda:function`, `sns` (a topic).
    #[serde(default)]
    pub resource_type: Option<String>,
}

/// JSON Schema of the inventory file (deserialize form: what a source must provide).
pub fn inventory_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<Inventory>()
}

/// Several estates in one file: one inventory per AWS account and home region, as written by
/// `collect` with several accounts (`--assume-role`, `--org-role`) and by `merge`. Each inventory
/// is linked and evaluated on its own (an account's facts never explain another's); Cloudflare,
/// which belongs to no account, is shared by all of them and judged once. A single inventory
/// file stays valid as it is: `audit --inventory` reads either form.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InventoryBundle {
    /// Must equal [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// One per account and home region, sorted by account then region.
    pub inventories: Vec<Inventory>,
}

impl InventoryBundle {
    pub fn new(mut inventories: Vec<Inventory>) -> Self {
        inventories.sort_by_key(Inventory::shard_key);
        InventoryBundle {
            schema_version: SCHEMA_VERSION,
            inventories,
        }
    }
}

impl Inventory {
    /// What one shard of a sharded collection covers: its AWS account (empty when unknown or
    /// when it holds no AWS part) and its home region (the estate's, else the first scanned).
    /// Two shards with the same key would audit the same estate twice.
    pub fn shard_key(&self) -> (String, String) {
        let account = self.scope.accounts.first().cloned().unwrap_or_default();
        let region = self
            .estate
            .region
            .clone()
            .or_else(|| self.scope.regions.first().cloned())
            .unwrap_or_default();
        (account, region)
    }
}

/// JSON Schema of the multi-estate inventory file ([`InventoryBundle`]).
pub fn bundle_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<InventoryBundle>()
}
