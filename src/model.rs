//! The inventory: every resource the auditor knows about, as plain serde data. It owns the
//! versioned JSON shape (`schema_version`), the typed attributes of each resource kind, the facts
//! `link` derives, and the JSON Schema published for other inventory sources.
//!
//! It must not know where data came from (no SDK or HTTP types) nor judge it (no rules).
//! **`null` means unknown, never false**: every field a collector may fail to read is an `Option`;
//! the absence of a feature is a value (`function_url: {configured: false}`, an empty list).
//! Fields marked *derived* are computed by `link`; they are never read from an input file
//! (`skip_deserializing`), so an inventory cannot claim its own compliance.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::EstateConfig;

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
    pub tags: BTreeMap<String, String>,
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
            tags: BTreeMap::new(),
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
    ($( $(#[$doc:meta])* $variant:ident($ty:ident) = $kind:literal ),* $(,)?) => {
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
    Estate(EstateFacts) = "estate",
    Vpc(Vpc) = "aws.ec2.vpc",
    Subnet(Subnet) = "aws.ec2.subnet",
    RouteTable(RouteTable) = "aws.ec2.route_table",
    InternetGateway(InternetGateway) = "aws.ec2.internet_gateway",
    NatGateway(NatGateway) = "aws.ec2.nat_gateway",
    SecurityGroup(SecurityGroup) = "aws.ec2.security_group",
    NetworkAcl(NetworkAcl) = "aws.ec2.network_acl",
    Instance(Instance) = "aws.ec2.instance",
    Volume(Volume) = "aws.ec2.volume",
    DbInstance(DbInstance) = "aws.rds.db_instance",
    DbParameterGroup(DbParameterGroup) = "aws.rds.db_parameter_group",
    CacheReplicationGroup(CacheReplicationGroup) = "aws.elasticache.replication_group",
    CacheCluster(CacheCluster) = "aws.elasticache.cluster",
    CacheSubnetGroup(CacheSubnetGroup) = "aws.elasticache.subnet_group",
    LambdaFunction(LambdaFunction) = "aws.lambda.function",
    EcsCluster(EcsCluster) = "aws.ecs.cluster",
    EcsService(EcsService) = "aws.ecs.service",
    EcsTaskDefinition(EcsTaskDefinition) = "aws.ecs.task_definition",
    ScalableTarget(ScalableTarget) = "aws.application_autoscaling.scalable_target",
    ScalingPolicy(ScalingPolicy) = "aws.application_autoscaling.scaling_policy",
    Alarm(Alarm) = "aws.cloudwatch.alarm",
    SnsTopic(SnsTopic) = "aws.sns.topic",
    SnsSubscription(SnsSubscription) = "aws.sns.subscription",
    /// A resource known only by its ARN and tags (Resource Groups Tagging API): what the scan of
    /// the other regions finds carrying the estate tag.
    TaggedResource(TaggedResource) = "aws.tagging.resource",
    CloudflareZone(CloudflareZone) = "cloudflare.zone",
    DnsRecord(DnsRecord) = "cloudflare.dns_record",
    CloudflareIpRanges(CloudflareIpRanges) = "cloudflare.ip_ranges",
}

// ---------------------------------------------------------------------------------------------
// Reading a resource

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ResourceVisitor)
    }
}

/// The keys of a resource object. Others are ignored, as the derived form did.
enum ResourceKey {
    Id,
    Name,
    Region,
    Account,
    Tags,
    Kind,
    Attrs,
    Other,
}

impl<'de> Deserialize<'de> for ResourceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ResourceKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ResourceKey, E> {
                Ok(match v {
                    "id" => ResourceKey::Id,
                    "name" => ResourceKey::Name,
                    "region" => ResourceKey::Region,
                    "account" => ResourceKey::Account,
                    "tags" => ResourceKey::Tags,
                    "kind" => ResourceKey::Kind,
                    "attrs" => ResourceKey::Attrs,
                    _ => ResourceKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The `kind` value: one of [`KINDS`] (by name, or by index as serde's enums accept).
struct KindSeed;

impl<'de> serde::de::DeserializeSeed<'de> for KindSeed {
    type Value = &'static str;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl serde::de::Visitor<'_> for KindSeed {
    type Value = &'static str;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("variant identifier")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<&'static str, E> {
        KINDS
            .iter()
            .find(|k| **k == v)
            .copied()
            .ok_or_else(|| E::unknown_variant(v, KINDS))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<&'static str, E> {
        usize::try_from(v)
            .ok()
            .and_then(|i| KINDS.get(i))
            .copied()
            .ok_or_else(|| {
                E::invalid_value(
                    serde::de::Unexpected::Unsigned(v),
                    &format!("variant index 0 <= i < {}", KINDS.len()).as_str(),
                )
            })
    }
}

/// The `attrs` of a known kind, read straight into the kind's struct.
struct AttrsSeed(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for AttrsSeed {
    type Value = Attrs;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Attrs, D::Error> {
        deserialize_kind(self.0, d)
    }
}

/// Reads a resource object in one pass. `attrs` is read straight into the kind's struct when
/// `kind` comes first (as every writer of this crate puts it); otherwise it is kept as a JSON
/// tree until `kind` is known. Accepts and rejects what the derived, flattened form did (unknown
/// keys beside these are ignored; missing or repeated `kind`/`attrs` are errors); errors inside
/// `attrs` now point at the offending value rather than at the end of the resource.
struct ResourceVisitor;

impl<'de> serde::de::Visitor<'de> for ResourceVisitor {
    type Value = Resource;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct Resource")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
        use serde::de::Error;
        fn once<T, E: Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
            match slot {
                Some(_) => Err(E::duplicate_field(name)),
                None => Ok(()),
            }
        }
        let mut id: Option<String> = None;
        let mut name: Option<Option<String>> = None;
        let mut region: Option<Option<String>> = None;
        let mut account: Option<Option<String>> = None;
        let mut tags: Option<BTreeMap<String, String>> = None;
        let mut kind: Option<&'static str> = None;
        let mut attrs: Option<Attrs> = None;
        let mut pending: Option<serde_json::Value> = None;
        while let Some(key) = map.next_key::<ResourceKey>()? {
            match key {
                ResourceKey::Id => {
                    once(&id, "id")?;
                    id = Some(map.next_value()?);
                }
                ResourceKey::Name => {
                    once(&name, "name")?;
                    name = Some(map.next_value()?);
                }
                ResourceKey::Region => {
                    once(&region, "region")?;
                    region = Some(map.next_value()?);
                }
                ResourceKey::Account => {
                    once(&account, "account")?;
                    account = Some(map.next_value()?);
                }
                ResourceKey::Tags => {
                    once(&tags, "tags")?;
                    tags = Some(map.next_value()?);
                }
                ResourceKey::Kind => {
                    once(&kind, "kind")?;
                    kind = Some(map.next_value_seed(KindSeed)?);
                }
                ResourceKey::Attrs => {
                    if attrs.is_some() || pending.is_some() {
                        return Err(A::Error::duplicate_field("attrs"));
                    }
                    match kind {
                        Some(k) => attrs = Some(map.next_value_seed(AttrsSeed(k))?),
                        None => pending = Some(map.next_value()?),
                    }
                }
                ResourceKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let id = id.ok_or_else(|| A::Error::missing_field("id"))?;
        let kind = kind.ok_or_else(|| A::Error::missing_field("kind"))?;
        let attrs = match (attrs, pending) {
            (Some(a), _) => a,
            (None, Some(v)) => deserialize_kind(kind, v).map_err(A::Error::custom)?,
            (None, None) => return Err(A::Error::missing_field("attrs")),
        };
        Ok(Resource {
            id,
            name: name.flatten(),
            region: region.flatten(),
            account: account.flatten(),
            tags: tags.unwrap_or_default(),
            attrs,
        })
    }
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

// ---------------------------------------------------------------------------------------------
// Shared pieces

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
}

/// *Derived*: an alarm linked to a scaling policy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct ScalingAlarm {
    pub alarm_name: String,
    pub policy_name: String,
    /// `out` (adds capacity) or `in` (removes it), from the policy's adjustments.
    pub direction: String,
    /// `queue` (the configured queue metric), `cpu` (ECS CPUUtilization) or `other`.
    pub metric_role: String,
    pub metric: String,
    pub statistic: Option<String>,
    pub comparison_operator: Option<String>,
    pub threshold: Option<f64>,
    /// How long the condition must hold: period × (datapoints to alarm, else evaluation periods).
    pub window_seconds: Option<i64>,
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
    /// Ids of estate resources outside the configured region.
    pub out_of_region_resources: Vec<String>,
    /// Spec components found in the inventory, by component name.
    pub components_found: Vec<String>,
    /// Spec components the estate lacks.
    pub components_missing: Vec<String>,
    /// Spec components whose presence is unknown (the kinds that would show them failed to
    /// collect). A rule on completeness must require this to be empty too.
    #[serde(default)]
    pub components_unknown: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// EC2 / VPC

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
    /// *Derived*: workloads placed in this subnet, as `kind:id`.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub workloads: Option<Vec<String>>,
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
    /// `network_interface`, `transit_gateway`, `vpc_peering_connection`, `vpc_endpoint`, `local`.
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
    /// Whether the instance has a public IPv4 address (`public_ip_address` says which).
    pub has_public_ip: Option<bool>,
    #[serde(default)]
    pub public_ip_address: Option<String>,
    #[serde(default)]
    pub ipv6_addresses: Vec<String>,
    pub private_ip_address: Option<String>,
    pub security_group_ids: Option<Vec<String>>,
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
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
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

// ---------------------------------------------------------------------------------------------
// RDS

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
    pub endpoint_address: Option<String>,
    pub endpoint_port: Option<i64>,
    /// *Derived*: tiers of its subnets.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub subnet_tiers: Option<Vec<Tier>>,
    /// *Derived*: its parameter group sets `require_secure_transport` on.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub require_secure_transport: Option<bool>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<Ingress>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
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
    pub auth_token_enabled: Option<bool>,
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
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub internet: Option<Reachability>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub alarm_names: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CacheSubnetGroup {
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Lambda

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

// ---------------------------------------------------------------------------------------------
// CloudWatch and SNS

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
    pub dimensions: BTreeMap<String, String>,
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
    /// *Derived*: estate resources the alarm watches (ids).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub watches: Option<Vec<String>>,
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
    pub dimensions: BTreeMap<String, String>,
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
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SnsSubscription {
    pub topic_arn: Option<String>,
    /// `https`, `email`, `lambda`, …
    pub protocol: Option<String>,
    /// The endpoint with secrets (integration keys in a URL path) redacted by the collector.
    pub endpoint: Option<String>,
    /// False while `PendingConfirmation`.
    pub confirmed: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Cloudflare

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareZone {
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    pub status: Option<String>,
    pub plan: Option<String>,
    /// `off`, `flexible`, `full`, `strict`.
    pub ssl: Option<String>,
    /// `auto` (Cloudflare may change the mode) or `custom`.
    pub ssl_automatic_mode: Option<String>,
    /// `1.0` … `1.3`.
    pub min_tls_version: Option<String>,
    pub always_use_https: Option<String>,
    pub tls_1_3: Option<String>,
    pub security_level: Option<String>,
    /// *Derived*: this is the estate's zone (`cloudflare.zone`, else the only zone).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_estate_zone: Option<bool>,
    /// Ruleset entry points by phase (`http_request_firewall_managed`, `http_ratelimit`, …).
    /// A phase absent from the map was not read (unknown); `{deployed: false}`: nothing deployed.
    #[serde(default)]
    pub phases: BTreeMap<String, Phase>,
    /// *Derived*: an enabled `execute` rule of the managed phase deploys a managed ruleset.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub managed_waf_enabled: Option<bool>,
    /// *Derived*: an enabled rate-limiting rule's expression covers the webhook host and path.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub rate_limit_covers_webhook: Option<bool>,
    /// *Derived*: configuration rules that may set `ssl` below `strict` for the webhook request
    /// (host and path), as `rule id: value`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_ssl_overrides: Option<Vec<String>>,
    /// *Derived*: configuration rules that may lower `min_tls_version` below 1.2 for the webhook
    /// request, as `rule id: value`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_min_tls_overrides: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub deployed: bool,
    #[serde(default)]
    pub rules: Vec<RulesetRule>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesetRule {
    pub id: Option<String>,
    pub action: Option<String>,
    pub expression: Option<String>,
    /// Cloudflare omits `enabled` for enabled rules; the collector writes `true` then.
    pub enabled: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    /// `execute`: the managed ruleset id.
    #[serde(default)]
    pub execute_ruleset_id: Option<String>,
    /// `set_config`: settings the rule overrides (`ssl`, `min_tls_version`, …), values as text.
    #[serde(default)]
    pub set_config: BTreeMap<String, String>,
    /// `rewrite`: names of request headers the rule sets (values are never kept).
    #[serde(default)]
    pub set_headers: Vec<String>,
    /// `http_ratelimit`: requests per period and period in seconds.
    #[serde(default)]
    pub requests_per_period: Option<i64>,
    #[serde(default)]
    pub period: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub zone_id: Option<String>,
    pub record_name: Option<String>,
    /// `A`, `AAAA`, `CNAME`, …
    pub record_type: Option<String>,
    pub content: Option<String>,
    pub proxied: Option<bool>,
    /// *Derived*: this record serves the configured webhook host.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_webhook_host: Option<bool>,
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

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareIpRanges {
    pub ipv4_cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
    #[serde(default)]
    pub etag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_round_trips_through_json_with_kind_and_attrs() {
        let mut r = Resource::new(
            "arn:aws:rds:eu-west-1:111122223333:db:estate-db",
            Attrs::DbInstance(DbInstance {
                publicly_accessible: Some(false),
                ..Default::default()
            }),
        );
        r.tags.insert("Name".into(), "estate-db".into());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["kind"], "aws.rds.db_instance");
        assert_eq!(json["attrs"]["publicly_accessible"], false);
        assert!(json["attrs"]["storage_encrypted"].is_null());
        let back: Resource = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn derived_fields_are_never_read_from_input() {
        let json = serde_json::json!({
            "id": "subnet", "kind": "aws.ec2.subnet",
            "attrs": {"subnet_id": "subnet-1", "vpc_id": null, "availability_zone": null,
                      "cidr_block": null, "map_public_ip_on_launch": null,
                      "assign_ipv6_address_on_creation": null, "tier": "public"}
        });
        let err = serde_json::from_value::<Resource>(json).unwrap_err();
        assert!(err.to_string().contains("tier"), "{err}");
    }

    #[test]
    fn unknown_kind_and_misspelt_fields_are_errors() {
        let json = serde_json::json!({"id": "x", "kind": "aws.s3.bucket", "attrs": {}});
        let err = serde_json::from_value::<Resource>(json).unwrap_err();
        assert!(err.to_string().contains("aws.s3.bucket"), "{err}");
        let json = serde_json::json!({"id": "x", "kind": "aws.ec2.volume",
            "attrs": {"volume_id": "v", "encrypted": true, "state": null, "encrytped": true}});
        let err = serde_json::from_value::<Resource>(json).unwrap_err();
        assert!(err.to_string().contains("encrytped"), "{err}");
    }

    #[test]
    fn every_kind_has_a_schema() {
        for kind in KINDS {
            let schema = kind_schema(kind).unwrap_or_else(|| panic!("{kind}"));
            assert!(schema.as_value().get("properties").is_some(), "{kind}");
        }
        assert!(kind_schema("aws.s3.bucket").is_none());
    }

    #[test]
    fn resource_reads_attrs_before_or_after_kind_and_ignores_other_keys() {
        let kind_first: Resource = serde_json::from_str(
            r#"{"id": "v", "kind": "aws.ec2.volume", "attrs": {"encrypted": true}, "x": [1]}"#,
        )
        .unwrap();
        let attrs_first: Resource = serde_json::from_str(
            r#"{"x": {"y": 1}, "attrs": {"encrypted": true}, "tags": {"a": "b"}, "kind": "aws.ec2.volume", "id": "v"}"#,
        )
        .unwrap();
        assert_eq!(kind_first.kind(), "aws.ec2.volume");
        match &kind_first.attrs {
            Attrs::Volume(v) => assert_eq!(v.encrypted, Some(true)),
            other => panic!("{other:?}"),
        }
        assert_eq!(kind_first.attrs, attrs_first.attrs);
        assert_eq!(attrs_first.tags.get("a").map(String::as_str), Some("b"));
        assert_eq!(attrs_first.name, None);
    }

    #[test]
    fn resource_errors_name_the_problem() {
        let err = |text: &str| {
            serde_json::from_str::<Resource>(text)
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"id": "x", "attrs": {}}"#).starts_with("missing field `kind`"));
        assert!(err(r#"{"id": "x", "kind": "estate"}"#).starts_with("missing field `attrs`"));
        assert!(err(r#"{"kind": "aws.ec2.volume", "attrs": {}}"#).starts_with("missing field `id`"));
        assert!(err(r#"{"id": "x", "id": "y"}"#).starts_with("duplicate field `id`"));
        assert!(
            err(r#"{"id": "x", "kind": "aws.ec2.volume", "attrs": {}, "attrs": {}}"#)
                .starts_with("duplicate field `attrs`")
        );
        assert!(err(r#"{"id": "x", "kind": "aws.nope", "attrs": {}}"#)
            .starts_with("unknown variant `aws.nope`, expected one of `estate`"));
        // Inside attrs, wherever `kind` is: the kind's own message; when `kind` came first it points
        // at the offending key rather than at the end of the resource.
        let after = err(r#"{"id": "x", "kind": "aws.ec2.volume", "attrs": {"zzz": 1}}"#);
        assert!(
            after.starts_with("unknown field `zzz`, expected one of"),
            "{after}"
        );
        assert!(after.ends_with("line 1 column 53"), "{after}");
        let before = err(r#"{"id": "x", "attrs": {"encrypted": "yes"}, "kind": "aws.ec2.volume"}"#);
        assert!(
            before.starts_with("invalid type: string \"yes\", expected a boolean"),
            "{before}"
        );
    }
}
