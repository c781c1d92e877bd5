//! `link`: the pure, synchronous step between collection and evaluation. It owns every field the
//! model marks *derived*: subnet tiers, effective route tables, security-group ingress resolved to
//! tiers and components, internet reachability with its path as evidence, alarms per resource,
//! alarm → SNS → PagerDuty wiring, ECS scaling alarms, Lambda URL sources against Cloudflare's
//! ranges, Cloudflare rule coverage of the webhook, and the `estate` record.
//!
//! It must not reach the network, read the clock, judge compliance (that is the rule pack's job)
//! or read a derived field of its input (so running it twice gives the same inventory). **`null`
//! means unknown**: a fact whose inputs are missing (a null field, a referenced resource absent from
//! the inventory, a kind listed in `collection_errors`) stays `None`, never a passing default.
//! Joins go through hash maps built once, so linking is linear in the inventory size.
//!
//! Shape: [`Ctx::build`] indexes the inventory by reference; [`Ctx::derive`] returns each
//! resource's attrs with the derived fields set (every one of them, so stale values are
//! overwritten); `link` then swaps them in and replaces the estate record.

mod alarms;
mod cloudflare;
mod estate;
pub mod expr;
pub mod net;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use crate::model::*;
use net::{AclVerdict, Family, RangeSet, SourceFacts, Span};

/// Fills every derived field of `inv` and (re)creates the estate record.
pub fn link(inv: &mut Inventory) {
    inv.resources
        .retain(|r| !matches!(r.attrs, Attrs::Estate(_)));
    let (updates, estate) = {
        let ctx = Ctx::build(&inv.resources, &inv.estate, &inv.collection_errors);
        let updates = derive_all(&ctx, &inv.resources);
        (updates, ctx.estate_record())
    };
    for part in updates {
        for (i, a) in part {
            if let Some(r) = inv.resources.get_mut(i) {
                r.attrs = a;
            }
        }
    }
    inv.resources.push(estate);
}

/// Below this many resources, threads cost more than deriving on one.
const PARALLEL_THRESHOLD: usize = 4096;

/// The derived attrs of every resource that has derived fields, by index, in order (one list per
/// thread). Only those are kept: a slot for every resource (most kinds derive nothing) cost more
/// memory than the inventory's own list. Derivation reads only the shared indexes, so large
/// inventories are split across threads (as evaluation is); a thread that died is redone here,
/// so no resource is ever left underived.
fn derive_all(ctx: &Ctx<'_>, resources: &[Resource]) -> Vec<Vec<(usize, Attrs)>> {
    let derive_range = |start: usize, c: &[Resource]| -> Vec<(usize, Attrs)> {
        c.iter()
            .enumerate()
            .filter_map(|(i, r)| ctx.derive(r).map(|a| (start + i, a)))
            .collect()
    };
    let threads = crate::sys::threads();
    if threads <= 1 || resources.len() < PARALLEL_THRESHOLD {
        return vec![derive_range(0, resources)];
    }
    let chunk = resources.len().div_ceil(threads);
    let mut chunks = resources.chunks(chunk).enumerate();
    let first = chunks.next().map_or(&[][..], |(_, c)| c);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .map(|(n, c)| {
                let start = n * chunk;
                (start, c, s.spawn(move || derive_range(start, c)))
            })
            .collect();
        // The first chunk on this thread, whose allocator arena holds the inventory (memory it
        // frees there is reused rather than another arena growing).
        let mut parts = vec![derive_range(0, first)];
        parts.extend(
            handles
                .into_iter()
                .map(|(start, c, h)| h.join().unwrap_or_else(|_| derive_range(start, c))),
        );
        parts
    })
}

/// A subnet with what `link` derives about it first (other facts depend on these).
struct SubnetInfo<'a> {
    s: &'a Subnet,
    tier: Tier,
    /// The effective route table: explicit association, else the VPC's main table.
    rt: Option<&'a RouteTable>,
    in_estate: bool,
}

/// Security groups whose users are not all known (see `Ctx::sg_unknown`).
#[derive(Default)]
struct SgUnknown<'a> {
    /// Every group's tiers are unknown.
    all_tiers: bool,
    /// Every group's components are unknown.
    all_components: bool,
    tiers: HashSet<&'a str>,
    components: HashSet<&'a str>,
}

/// Read-only indexes over one inventory.
struct Ctx<'a> {
    cfg: &'a EstateConfig,
    resources: &'a [Resource],
    errored: HashSet<&'a str>,
    estate_vpc: Option<(&'a Resource, &'a Vpc)>,
    subnets: HashMap<&'a str, SubnetInfo<'a>>,
    nats: HashMap<&'a str, &'a NatGateway>,
    sgs: HashMap<&'a str, &'a SecurityGroup>,
    nacl_by_subnet: HashMap<&'a str, &'a NetworkAcl>,
    default_nacl: HashMap<&'a str, &'a NetworkAcl>,
    param_groups: HashMap<&'a str, &'a DbParameterGroup>,
    cache_rgs: HashMap<&'a str, &'a CacheReplicationGroup>,
    cache_subnet_groups: HashMap<&'a str, &'a CacheSubnetGroup>,
    task_defs: HashMap<&'a str, &'a EcsTaskDefinition>,
    scalable_targets: HashMap<&'a str, Vec<&'a ScalableTarget>>,
    scaling_policies: HashMap<&'a str, Vec<(&'a Resource, &'a ScalingPolicy)>>,
    /// Tiers of the subnets of the resources using each security group.
    sg_tiers: HashMap<&'a str, BTreeSet<Tier>>,
    /// Spec components using each security group.
    sg_components: HashMap<&'a str, BTreeSet<&'static str>>,
    /// Which groups' users, or their tiers or components, are not all known: a user's groups,
    /// subnets or role could not be read, or (all groups) a kind that uses groups was not
    /// collected. Their `source_tiers` / `source_components` are null, never a short list that
    /// a rule would read as the whole truth.
    sg_unknown: SgUnknown<'a>,
    /// `kind:id` of the workloads placed in each subnet.
    workloads: HashMap<&'a str, Vec<String>>,
    alarms: alarms::AlarmIndex<'a>,
    topics: HashMap<&'a str, &'a SnsTopic>,
    subscriptions: HashMap<&'a str, Vec<&'a SnsSubscription>>,
    cf_ranges: Option<RangeSet>,
    zone: Option<&'a CloudflareZone>,
    /// Tiers per source CIDR, memoised: sources repeat across groups. A mutex, not a `RefCell`:
    /// large inventories are derived on several threads sharing this context.
    cidr_tier_cache: Mutex<HashMap<String, Vec<String>>>,
    estate_spans: Vec<Span>,
}

fn tier_from_text(v: &str) -> Tier {
    match v.trim().to_ascii_lowercase().as_str() {
        "public" => Tier::Public,
        "compute" => Tier::Compute,
        "database" => Tier::Database,
        _ => Tier::Unassigned,
    }
}

/// The cluster name of an ECS cluster ARN (`arn:…:cluster/<name>`), or the text itself.
fn cluster_name(arn: &str) -> &str {
    arn.rsplit_once(":cluster/")
        .map(|(_, n)| n)
        .or_else(|| arn.rsplit_once('/').map(|(_, n)| n))
        .unwrap_or(arn)
}

fn sorted_tiers(set: impl IntoIterator<Item = Tier>) -> Vec<Tier> {
    let s: BTreeSet<Tier> = set.into_iter().collect();
    s.into_iter().collect()
}

impl<'a> Ctx<'a> {
    fn build(
        resources: &'a [Resource],
        cfg: &'a EstateConfig,
        errors: &'a [CollectionError],
    ) -> Self {
        let errored: HashSet<&str> = errors
            .iter()
            .flat_map(|e| e.kinds.iter().map(String::as_str))
            .collect();
        let mut vpcs = Vec::new();
        let mut raw_subnets = Vec::new();
        let mut rt_explicit: HashMap<&str, &RouteTable> = HashMap::new();
        let mut rt_main: HashMap<&str, &RouteTable> = HashMap::new();
        let mut ctx = Ctx {
            cfg,
            resources,
            errored,
            estate_vpc: None,
            subnets: HashMap::new(),
            nats: HashMap::new(),
            sgs: HashMap::new(),
            nacl_by_subnet: HashMap::new(),
            default_nacl: HashMap::new(),
            param_groups: HashMap::new(),
            cache_rgs: HashMap::new(),
            cache_subnet_groups: HashMap::new(),
            task_defs: HashMap::new(),
            scalable_targets: HashMap::new(),
            scaling_policies: HashMap::new(),
            sg_tiers: HashMap::new(),
            sg_components: HashMap::new(),
            sg_unknown: SgUnknown::default(),
            workloads: HashMap::new(),
            alarms: alarms::AlarmIndex::default(),
            topics: HashMap::new(),
            subscriptions: HashMap::new(),
            cf_ranges: None,
            zone: None,
            cidr_tier_cache: Mutex::new(HashMap::new()),
            estate_spans: Vec::new(),
        };
        let mut zones = Vec::new();

        // Pass 1: plain indexes by id.
        for r in resources {
            ctx.alarms.add_target(r);
            match &r.attrs {
                Attrs::Vpc(v) => vpcs.push((r, v)),
                Attrs::Subnet(s) => raw_subnets.push((r, s)),
                Attrs::RouteTable(t) => {
                    for s in &t.subnet_ids {
                        rt_explicit.insert(s, t);
                    }
                    if t.main == Some(true) {
                        if let Some(v) = t.vpc_id.as_deref() {
                            rt_main.insert(v, t);
                        }
                    }
                }
                Attrs::NatGateway(n) => {
                    if let Some(id) = n.nat_gateway_id.as_deref() {
                        ctx.nats.insert(id, n);
                    }
                }
                Attrs::SecurityGroup(g) => {
                    if let Some(id) = g.group_id.as_deref() {
                        ctx.sgs.insert(id, g);
                    }
                }
                Attrs::NetworkAcl(a) => {
                    for s in &a.subnet_ids {
                        ctx.nacl_by_subnet.insert(s, a);
                    }
                    if a.is_default == Some(true) {
                        if let Some(v) = a.vpc_id.as_deref() {
                            ctx.default_nacl.insert(v, a);
                        }
                    }
                }
                Attrs::DbParameterGroup(p) => {
                    if let Some(n) = p.name.as_deref() {
                        ctx.param_groups.insert(n, p);
                    }
                }
                Attrs::CacheReplicationGroup(g) => {
                    if let Some(id) = g.replication_group_id.as_deref() {
                        ctx.cache_rgs.insert(id, g);
                    }
                }
                Attrs::CacheSubnetGroup(g) => {
                    if let Some(n) = g.name.as_deref() {
                        ctx.cache_subnet_groups.insert(n, g);
                    }
                }
                Attrs::EcsTaskDefinition(t) => {
                    ctx.task_defs.insert(&r.id, t);
                }
                Attrs::ScalableTarget(t) => {
                    if let Some(id) = t.resource_id.as_deref() {
                        ctx.scalable_targets.entry(id).or_default().push(t);
                    }
                }
                Attrs::ScalingPolicy(p) => {
                    if let Some(id) = p.resource_id.as_deref() {
                        ctx.scaling_policies.entry(id).or_default().push((r, p));
                    }
                }
                Attrs::Alarm(a) => ctx.alarms.add(r, a),
                Attrs::SnsTopic(t) => {
                    ctx.topics
                        .insert(t.topic_arn.as_deref().unwrap_or(&r.id), t);
                }
                Attrs::SnsSubscription(s) => {
                    if let Some(t) = s.topic_arn.as_deref() {
                        ctx.subscriptions.entry(t).or_default().push(s);
                    }
                }
                Attrs::CloudflareZone(z) => zones.push((r, z)),
                Attrs::CloudflareIpRanges(ip) if ctx.cf_ranges.is_none() => {
                    ctx.cf_ranges = Some(RangeSet::new(
                        ip.ipv4_cidrs
                            .iter()
                            .chain(&ip.ipv6_cidrs)
                            .map(String::as_str),
                    ));
                }
                _ => {}
            }
        }
        ctx.zone = match cfg.cloudflare.zone.as_deref() {
            Some(name) => zones
                .iter()
                .find(|(_, z)| {
                    z.zone_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name.trim_end_matches('.')))
                })
                .map(|(_, z)| *z),
            None if zones.len() == 1 => Some(zones[0].1),
            None => None,
        };

        // Pass 2: the estate VPC and subnet tiers.
        ctx.estate_vpc = cfg.pick_vpc(&vpcs);
        let estate_vpc_id = ctx.estate_vpc.and_then(|(_, v)| v.vpc_id.as_deref());
        if let Some((_, v)) = ctx.estate_vpc {
            ctx.estate_spans = v
                .cidr_block
                .iter()
                .chain(&v.ipv6_cidr_blocks)
                .filter_map(|c| net::parse_span(c))
                .collect();
        }
        let explicit = cfg.explicit_tiers();
        for (r, s) in raw_subnets {
            let Some(id) = s.subnet_id.as_deref() else {
                continue;
            };
            let tier = match explicit.get(id) {
                Some(t) => tier_from_text(t),
                None => r
                    .tags
                    .get(&cfg.tiers.tag_key)
                    .map(|v| tier_from_text(v))
                    .unwrap_or(Tier::Unassigned),
            };
            // A failed route-table listing could hide the explicit association: no main-table
            // fallback then.
            let rt = if ctx.errored.contains(kind::ROUTE_TABLE) {
                None
            } else {
                rt_explicit
                    .get(id)
                    .or_else(|| s.vpc_id.as_deref().and_then(|v| rt_main.get(v)))
                    .copied()
            };
            let in_estate = estate_vpc_id.is_some() && s.vpc_id.as_deref() == estate_vpc_id;
            ctx.subnets.insert(
                id,
                SubnetInfo {
                    s,
                    tier,
                    rt,
                    in_estate,
                },
            );
        }

        // Pass 3: who uses which security group, and which workloads sit in which subnet.
        let mut sg_tiers: HashMap<&str, BTreeSet<Tier>> = HashMap::new();
        let mut sg_components: HashMap<&str, BTreeSet<&'static str>> = HashMap::new();
        let mut workloads: HashMap<&str, Vec<String>> = HashMap::new();
        // Every kind whose resources use security groups: one not collected leaves every
        // group's users unknown (tiers also need the subnets, and a cache's subnet groups).
        let mut sg_unknown = SgUnknown {
            all_components: ctx.any_errored(&[
                kind::INSTANCE,
                kind::DB_INSTANCE,
                kind::CACHE_CLUSTER,
                kind::ECS_SERVICE,
                kind::LAMBDA_FUNCTION,
            ]),
            ..SgUnknown::default()
        };
        sg_unknown.all_tiers =
            sg_unknown.all_components || ctx.any_errored(&[kind::SUBNET, kind::CACHE_SUBNET_GROUP]);
        for r in resources {
            // `None` for sgs: the resource's groups are unknown, so any group may be its. The
            // component: its name, `Some("")` when it is known to be none, `None` when unknown.
            let (subnets, sgs, component): (
                Option<Vec<&str>>,
                Option<Vec<&str>>,
                Option<&'static str>,
            ) = match &r.attrs {
                Attrs::Instance(i) => (
                    i.subnet_id.as_deref().map(|s| vec![s]),
                    i.security_group_ids.as_ref().map(|v| strs(Some(v))),
                    match ctx.is_rabbitmq(r, i) {
                        Some(true) => Some("rabbitmq"),
                        Some(false) => Some(""),
                        None => None,
                    },
                ),
                Attrs::DbInstance(d) => (
                    d.subnet_ids.as_ref().map(|v| strs(Some(v))),
                    d.security_group_ids.as_ref().map(|v| strs(Some(v))),
                    Some("rds"),
                ),
                Attrs::CacheCluster(c) => (
                    ctx.cache_subnets(c).map(|v| strs(Some(v))),
                    c.security_group_ids.as_ref().map(|v| strs(Some(v))),
                    Some("redis"),
                ),
                // Without a network configuration (or a VPC configuration) the service or
                // function sits in no subnet of ours and uses no group.
                Attrs::EcsService(s) => (
                    Some(
                        s.network_configuration
                            .as_ref()
                            .map(|n| n.subnet_ids.iter().map(String::as_str).collect())
                            .unwrap_or_default(),
                    ),
                    Some(
                        s.network_configuration
                            .as_ref()
                            .map(|n| n.security_group_ids.iter().map(String::as_str).collect())
                            .unwrap_or_default(),
                    ),
                    ctx.is_processor(s)
                        .map(|p| if p { "ecs_service" } else { "" }),
                ),
                Attrs::LambdaFunction(l) => (
                    Some(
                        l.vpc_config
                            .as_ref()
                            .map(|v| v.subnet_ids.iter().map(String::as_str).collect())
                            .unwrap_or_default(),
                    ),
                    Some(
                        l.vpc_config
                            .as_ref()
                            .map(|v| v.security_group_ids.iter().map(String::as_str).collect())
                            .unwrap_or_default(),
                    ),
                    ctx.is_webhook(l).map(|w| if w { "webhook" } else { "" }),
                ),
                _ => continue,
            };
            // A subnet we did not read (or no subnet list at all) has no tier we know.
            let tiers: Option<Vec<Tier>> = subnets.as_ref().and_then(|subnets| {
                subnets
                    .iter()
                    .map(|s| ctx.subnets.get(s).map(|i| i.tier))
                    .collect()
            });
            match &sgs {
                // Its groups unknown: any group may be its, so no group's users are all known.
                None => {
                    sg_unknown.all_tiers = true;
                    sg_unknown.all_components = true;
                }
                Some(sgs) => {
                    for g in sgs {
                        match &tiers {
                            Some(t) => sg_tiers.entry(g).or_default().extend(t.iter().copied()),
                            None => {
                                sg_unknown.tiers.insert(g);
                            }
                        }
                        match component {
                            Some("") => {}
                            Some(c) => {
                                sg_components.entry(g).or_default().insert(c);
                            }
                            None => {
                                sg_unknown.components.insert(g);
                            }
                        }
                    }
                }
            }
            let mut seen = HashSet::new();
            for s in subnets.into_iter().flatten() {
                if seen.insert(s) {
                    workloads
                        .entry(s)
                        .or_default()
                        .push(format!("{}:{}", r.kind(), r.id));
                }
            }
        }
        ctx.sg_tiers = sg_tiers;
        ctx.sg_components = sg_components;
        ctx.sg_unknown = sg_unknown;
        ctx.workloads = workloads;
        ctx
    }

    /// Some kind among `kinds` failed to collect.
    fn any_errored(&self, kinds: &[&str]) -> bool {
        kinds.iter().any(|k| self.errored.contains(k))
    }

    // ---------------------------------------------------------------------------------------
    // Component identification

    /// `components.rabbitmq` is a `key=value` tag or an instance id.
    fn is_rabbitmq(&self, r: &Resource, i: &Instance) -> Option<bool> {
        let sel = self.cfg.components.rabbitmq.trim();
        if sel.contains('=') {
            Some(r.has_tag(sel))
        } else {
            Some(i.instance_id.as_deref() == Some(sel) || r.id == sel)
        }
    }

    fn is_webhook(&self, l: &LambdaFunction) -> Option<bool> {
        l.function_name
            .as_deref()
            .map(|n| n == self.cfg.components.webhook_function)
    }

    fn is_processor(&self, s: &EcsService) -> Option<bool> {
        let name = s.service_name.as_deref()?;
        if name != self.cfg.components.ecs_service {
            return Some(false);
        }
        let cluster = s.cluster_arn.as_deref()?;
        Some(cluster_name(cluster) == self.cfg.components.ecs_cluster)
    }

    // ---------------------------------------------------------------------------------------
    // Subnets and tiers

    fn cache_subnets(&self, c: &CacheCluster) -> Option<&'a Vec<String>> {
        let g = self
            .cache_subnet_groups
            .get(c.cache_subnet_group_name.as_deref()?)?;
        g.subnet_ids.as_ref()
    }

    /// Tiers of the given subnets; `None` when the list is unknown or a subnet is missing.
    fn tiers_of(&self, ids: Option<&Vec<String>>) -> Option<Vec<Tier>> {
        let ids = ids?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.subnets.get(id.as_str())?.tier);
        }
        Some(sorted_tiers(out))
    }

    fn tier_of(&self, id: Option<&str>) -> Option<Tier> {
        self.subnets.get(id?).map(|i| i.tier)
    }

    // ---------------------------------------------------------------------------------------
    // Ingress and reachability

    /// Every ingress entry of every group; `None` if any group is missing or unreadable.
    fn ingress(&self, sg_ids: Option<&[String]>) -> Option<Vec<Ingress>> {
        let mut out = Vec::new();
        for id in sg_ids? {
            let g = self.sgs.get(id.as_str())?;
            out.extend(net::ingress_entries(id, g.ingress.as_ref()?, self)?);
        }
        Some(out)
    }

    /// One address hop per subnet and family: `Ok(Some(evidence))` the resource has an address the
    /// internet can reach, `Ok(None)` unknown, `Err(reason)` it has none.
    fn reachability(
        &self,
        subnets: Option<&[String]>,
        ingress: Option<&[Ingress]>,
        address: &dyn Fn(Option<&Subnet>, Family) -> Hop,
    ) -> Option<Reachability> {
        let subnet_ids: Vec<Option<&str>> = match subnets {
            Some(s) if !s.is_empty() => {
                let mut v: Vec<&str> = s.iter().map(String::as_str).collect();
                v.sort_unstable();
                v.dedup();
                v.into_iter().map(Some).collect()
            }
            _ => vec![None],
        };
        let mut blocked: Vec<Vec<String>> = Vec::new();
        let mut unknown = false;
        for fam in [Family::V4, Family::V6] {
            for sid in &subnet_ids {
                match self.path(*sid, fam, ingress, address) {
                    Eval::Reach(path) => {
                        return Some(Reachability {
                            reachable: true,
                            path,
                        })
                    }
                    Eval::Block(path) => blocked.push(path),
                    Eval::Unknown => unknown = true,
                }
            }
        }
        if unknown {
            return None;
        }
        let mut path = blocked.first().cloned().unwrap_or_default();
        for b in blocked.iter().skip(1) {
            if let Some(last) = b.last() {
                if !path.contains(last) {
                    path.push(last.clone());
                }
            }
        }
        Some(Reachability {
            reachable: false,
            path,
        })
    }

    /// Address → route → security group → network ACL for one subnet and family. The first hop
    /// that blocks decides `Block` even when an earlier hop was unknown.
    fn path(
        &self,
        subnet_id: Option<&str>,
        fam: Family,
        ingress: Option<&[Ingress]>,
        address: &dyn Fn(Option<&Subnet>, Family) -> Hop,
    ) -> Eval {
        let info = subnet_id.and_then(|s| self.subnets.get(s));
        let mut path = Vec::new();
        let mut unknown = false;
        let mut step = |hop: Hop, path: &mut Vec<String>| -> bool {
            match hop {
                Hop::Pass(t) => path.push(t),
                Hop::Unknown => unknown = true,
                Hop::Block(t) => {
                    path.push(t);
                    return true;
                }
            }
            false
        };
        // 1. a public address
        if step(address(info.map(|i| i.s), fam), &mut path) {
            return Eval::Block(path);
        }
        // 2. a route to an internet gateway in the subnet's effective table
        if step(route_hop(info, subnet_id, fam), &mut path) {
            return Eval::Block(path);
        }
        // 3. a security group entry admitting the internet
        let open: Vec<&Ingress> = match ingress {
            None => {
                unknown = true;
                Vec::new()
            }
            Some(entries) => {
                let open: Vec<&Ingress> = entries
                    .iter()
                    .filter(|e| e.source_is_internet && net::entry_families(e).contains(&fam))
                    .filter(|e| match net::parse_span(&e.source) {
                        Some(s) => s.family == fam,
                        None => true,
                    })
                    .collect();
                let hop = match open.first() {
                    Some(e) => Hop::Pass(format!(
                        "{} admits {} from {}",
                        e.security_group_id,
                        net::ports_text(&e.protocol, e.from_port, e.to_port),
                        e.source
                    )),
                    None => Hop::Block(format!(
                        "no security group rule admits the internet over {}",
                        if fam == Family::V4 { "IPv4" } else { "IPv6" }
                    )),
                };
                if step(hop, &mut path) {
                    return Eval::Block(path);
                }
                open
            }
        };
        // 4. the subnet's network ACL lets that traffic in
        let acl = info
            .filter(|_| !self.any_errored(&[kind::NETWORK_ACL]))
            .and_then(|i| {
                subnet_id
                    .and_then(|s| self.nacl_by_subnet.get(s))
                    .or_else(|| i.s.vpc_id.as_deref().and_then(|v| self.default_nacl.get(v)))
            });
        match (acl, acl.and_then(|a| a.entries.as_ref())) {
            (Some(a), Some(entries)) if !unknown => {
                let name = a.network_acl_id.as_deref().unwrap_or("network ACL");
                let mut deny = None;
                for e in &open {
                    match net::acl_admits(entries, fam, e) {
                        AclVerdict::Allowed(t) => {
                            path.push(format!("{name} {t}"));
                            return Eval::Reach(path);
                        }
                        AclVerdict::Denied(t) => {
                            deny.get_or_insert(format!(
                                "{name} blocks {} from {} ({t})",
                                net::ports_text(&e.protocol, e.from_port, e.to_port),
                                e.source
                            ));
                        }
                    }
                }
                path.push(deny.unwrap_or_else(|| format!("{name} admits nothing")));
                Eval::Block(path)
            }
            _ => Eval::Unknown,
        }
    }
}

/// One hop's verdict.
enum Hop {
    Pass(String),
    Block(String),
    Unknown,
}

enum Eval {
    Reach(Vec<String>),
    Block(Vec<String>),
    Unknown,
}

fn route_hop(info: Option<&SubnetInfo>, subnet_id: Option<&str>, fam: Family) -> Hop {
    let (Some(info), Some(sid)) = (info, subnet_id) else {
        return Hop::Unknown;
    };
    let Some(rt) = info.rt else {
        return Hop::Unknown;
    };
    let rt_name = rt.route_table_id.as_deref().unwrap_or("route table");
    for r in &rt.routes {
        if !is_igw_route(r) {
            continue;
        }
        let dest = match fam {
            Family::V4 => r
                .destination_cidr_block
                .as_deref()
                .or(r.destination_prefix_list_id.as_deref()),
            Family::V6 => r
                .destination_ipv6_cidr_block
                .as_deref()
                .or(r.destination_prefix_list_id.as_deref()),
        };
        if let Some(d) = dest {
            return Hop::Pass(format!(
                "route {d} → {} in {rt_name}",
                r.target_id.as_deref().unwrap_or("internet gateway")
            ));
        }
    }
    Hop::Block(format!(
        "{rt_name} (subnet {sid}) has no {}route to an internet gateway",
        if fam == Family::V6 { "IPv6 " } else { "" }
    ))
}

/// An active route to an internet gateway. A route without a state counts as active: the EC2 API
/// always reports it, so its absence means partial input, and active is the reading that cannot
/// hide exposure.
fn is_igw_route(r: &Route) -> bool {
    let igw = match r.target_type.as_deref() {
        Some(t) => t == "internet_gateway",
        None => r
            .target_id
            .as_deref()
            .is_some_and(|t| t.starts_with("igw-")),
    };
    igw && r.state.as_deref() != Some("blackhole")
}

fn strs(v: Option<&Vec<String>>) -> Vec<&str> {
    v.map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

impl SourceFacts for Ctx<'_> {
    fn cidr_tiers(&self, cidr: &str) -> Option<Vec<String>> {
        // The tiers are those of the estate subnets the CIDR covers: unknown without them.
        if self.any_errored(&[kind::VPC, kind::SUBNET]) {
            return None;
        }
        // A poisoned lock only means another thread panicked mid-insert: the map is still a
        // valid cache, so keep using it.
        let cached = self
            .cidr_tier_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(cidr)
            .cloned();
        if let Some(t) = cached {
            return Some(t);
        }
        let tiers = match net::parse_span(cidr) {
            None => vec!["external".to_string()],
            Some(span) => {
                let mut set = BTreeSet::new();
                for info in self.subnets.values().filter(|i| i.in_estate) {
                    let overlaps = info
                        .s
                        .cidr_block
                        .iter()
                        .chain(&info.s.ipv6_cidr_blocks)
                        .filter_map(|c| net::parse_span(c))
                        .any(|s| s.overlaps(&span));
                    if overlaps {
                        set.insert(info.tier);
                    }
                }
                let mut v: Vec<String> = set.into_iter().map(|t| t.as_str().to_string()).collect();
                if !self.estate_spans.iter().any(|s| s.contains(&span)) {
                    v.push("external".into());
                }
                v
            }
        };
        self.cidr_tier_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cidr.to_string(), tiers.clone());
        Some(tiers)
    }

    fn sg_tiers(&self, sg: &str) -> Option<Vec<String>> {
        if self.sg_unknown.all_tiers || self.sg_unknown.tiers.contains(sg) {
            return None;
        }
        Some(
            self.sg_tiers
                .get(sg)
                .map(|s| s.iter().map(|t| t.as_str().to_string()).collect())
                .unwrap_or_default(),
        )
    }

    fn sg_components(&self, sg: &str) -> Option<Vec<String>> {
        if self.sg_unknown.all_components || self.sg_unknown.components.contains(sg) {
            return None;
        }
        Some(
            self.sg_components
                .get(sg)
                .map(|s| s.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default(),
        )
    }
}

// -------------------------------------------------------------------------------------------
// Per-kind derivation

impl<'a> Ctx<'a> {
    /// The resource's attrs with every derived field set, or `None` for kinds without any.
    fn derive(&self, r: &Resource) -> Option<Attrs> {
        Some(match &r.attrs {
            Attrs::Vpc(v) => Attrs::Vpc(self.vpc(r, v)),
            Attrs::Subnet(s) => Attrs::Subnet(self.subnet(s)),
            Attrs::NatGateway(n) => Attrs::NatGateway(NatGateway {
                subnet_tier: self.tier_of(n.subnet_id.as_deref()),
                alarm_names: self
                    .alarms
                    .names(self, &[("NatGatewayId", n.nat_gateway_id.as_deref())]),
                ..n.clone()
            }),
            Attrs::Instance(i) => Attrs::Instance(self.instance(r, i)),
            Attrs::DbInstance(d) => Attrs::DbInstance(self.db_instance(d)),
            Attrs::CacheCluster(c) => Attrs::CacheCluster(self.cache_cluster(c)),
            Attrs::LambdaFunction(l) => Attrs::LambdaFunction(self.lambda(l)),
            Attrs::EcsService(s) => Attrs::EcsService(self.ecs_service(s)),
            Attrs::Alarm(a) => Attrs::Alarm(self.alarm(a)),
            Attrs::CloudflareZone(z) => Attrs::CloudflareZone(self.zone_facts(z)),
            Attrs::DnsRecord(d) => Attrs::DnsRecord(DnsRecord {
                is_webhook_host: match (
                    d.record_name.as_deref(),
                    self.cfg.cloudflare.webhook_host.as_deref(),
                ) {
                    (Some(n), Some(h)) => Some(same_host(n, h)),
                    _ => None,
                },
                ..d.clone()
            }),
            _ => return None,
        })
    }

    fn vpc(&self, r: &Resource, v: &Vpc) -> Vpc {
        let is_estate = self.estate_vpc.is_some_and(|(e, _)| e.id == r.id);
        let (mut tier_subnets, mut tier_azs) = (None, None);
        if is_estate && !self.any_errored(&[kind::SUBNET]) {
            let mut subnets: std::collections::BTreeMap<String, Vec<String>> =
                ["public", "compute", "database"]
                    .iter()
                    .map(|t| (t.to_string(), Vec::new()))
                    .collect();
            let mut azs = subnets.clone();
            for (id, info) in self.subnets.iter().filter(|(_, i)| i.in_estate) {
                if let Some(list) = subnets.get_mut(info.tier.as_str()) {
                    list.push(id.to_string());
                }
                if let (Some(list), Some(az)) = (
                    azs.get_mut(info.tier.as_str()),
                    info.s.availability_zone.as_ref(),
                ) {
                    list.push(az.clone());
                }
            }
            for list in subnets.values_mut().chain(azs.values_mut()) {
                list.sort();
                list.dedup();
            }
            tier_subnets = Some(subnets);
            tier_azs = Some(azs);
        }
        Vpc {
            is_estate: Some(is_estate),
            tier_subnets,
            tier_azs,
            ..v.clone()
        }
    }

    fn subnet(&self, s: &Subnet) -> Subnet {
        let info = s.subnet_id.as_deref().and_then(|id| self.subnets.get(id));
        let rt = info.and_then(|i| i.rt);
        let default_route = rt.map(|t| {
            t.routes
                .iter()
                .find(|r| r.destination_cidr_block.as_deref() == Some("0.0.0.0/0"))
        });
        let (target_type, target_id, nat_available) = match default_route {
            None => (None, None, None),
            Some(None) => (Some("none".to_string()), None, Some(false)),
            Some(Some(r)) => {
                let ty = r.target_type.clone();
                let nat = match (r.target_type.as_deref(), r.state.as_deref()) {
                    (_, Some("blackhole")) => Some(false),
                    (Some("nat_gateway"), _) => r
                        .target_id
                        .as_deref()
                        .and_then(|id| self.nats.get(id))
                        .and_then(|n| n.state.as_deref())
                        .map(|s| s == "available"),
                    (Some(_), _) => Some(false),
                    (None, _) => None,
                };
                (ty, r.target_id.clone(), nat)
            }
        };
        let workloads = if self.any_errored(&[
            kind::INSTANCE,
            kind::DB_INSTANCE,
            kind::CACHE_CLUSTER,
            kind::CACHE_SUBNET_GROUP,
            kind::ECS_SERVICE,
            kind::LAMBDA_FUNCTION,
        ]) {
            None
        } else {
            s.subnet_id.as_deref().map(|id| {
                let mut w = self.workloads.get(id).cloned().unwrap_or_default();
                w.sort();
                w
            })
        };
        Subnet {
            tier: info.map(|i| i.tier),
            route_table_id: rt.and_then(|t| t.route_table_id.clone()),
            has_igw_route: rt.map(|t| t.routes.iter().any(is_igw_route)),
            default_route_target_type: target_type,
            default_route_target_id: target_id,
            default_route_nat_available: nat_available,
            workloads,
            ..s.clone()
        }
    }

    fn instance(&self, r: &Resource, i: &Instance) -> Instance {
        let ingress = self.ingress(i.security_group_ids.as_deref());
        let subnets = i.subnet_id.clone().map(|s| vec![s]);
        let internet = self.reachability(
            subnets.as_deref(),
            ingress.as_deref(),
            &|_, fam| match fam {
                Family::V4 => match i.has_public_ip {
                    Some(true) => Hop::Pass(format!(
                        "public IP {}",
                        i.public_ip_address
                            .as_deref()
                            .unwrap_or("(address not collected)")
                    )),
                    Some(false) => Hop::Block("no public IPv4 address".into()),
                    None => Hop::Unknown,
                },
                Family::V6 => match i.ipv6_addresses.first() {
                    Some(a) => Hop::Pass(format!("IPv6 address {a}")),
                    None => Hop::Block("no IPv6 address".into()),
                },
            },
        );
        Instance {
            is_rabbitmq: self.is_rabbitmq(r, i),
            subnet_tier: self.tier_of(i.subnet_id.as_deref()),
            ingress,
            internet,
            ..i.clone()
        }
    }

    fn db_instance(&self, d: &DbInstance) -> DbInstance {
        let ingress = self.ingress(d.security_group_ids.as_deref());
        let internet = self.reachability(d.subnet_ids.as_deref(), ingress.as_deref(), &|s, fam| {
            match (d.publicly_accessible, fam) {
                (None, _) => Hop::Unknown,
                (Some(false), _) => Hop::Block("not publicly accessible".into()),
                (Some(true), Family::V4) => Hop::Pass(format!(
                    "publicly accessible endpoint {}",
                    d.endpoint_address
                        .as_deref()
                        .unwrap_or("(address not collected)")
                )),
                // Dual-stack instances get a public IPv6 address in dual-stack subnets; the
                // network type is not collected, so a dual-stack subnet counts.
                (Some(true), Family::V6) => dual_stack_hop(s),
            }
        });
        DbInstance {
            subnet_tiers: self.tiers_of(d.subnet_ids.as_ref()),
            require_secure_transport: self.secure_transport(d),
            ingress,
            internet,
            alarm_names: self.alarms.names(
                self,
                &[("DBInstanceIdentifier", d.db_instance_identifier.as_deref())],
            ),
            ..d.clone()
        }
    }

    /// From the instance's parameter groups: on ("1", "ON", "true") in any → true; known and off
    /// or unset in all → false; a group missing or unreadable → unknown. `rds.force_ssl` (the
    /// PostgreSQL and SQL Server spelling) counts too.
    fn secure_transport(&self, d: &DbInstance) -> Option<bool> {
        let names = d.parameter_group_names.as_ref()?;
        let mut on = false;
        for n in names {
            let g = self.param_groups.get(n.as_str())?;
            let params = g.parameters.as_ref()?;
            for key in ["require_secure_transport", "rds.force_ssl"] {
                if let Some(Some(v)) = params.get(key) {
                    on |= matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "on" | "true");
                }
            }
        }
        Some(on)
    }

    fn cache_cluster(&self, c: &CacheCluster) -> CacheCluster {
        let user_group_ids = match c.replication_group_id.as_deref() {
            None => Some(Vec::new()),
            Some(rg) => self
                .cache_rgs
                .get(rg)
                .and_then(|g| g.user_group_ids.clone()),
        };
        let subnet_ids = self.cache_subnets(c).cloned();
        let ingress = self.ingress(c.security_group_ids.as_deref());
        let internet = self.reachability(subnet_ids.as_deref(), ingress.as_deref(), &|_, _| {
            Hop::Block("ElastiCache nodes have no public address".into())
        });
        CacheCluster {
            user_group_ids,
            subnet_tiers: self.tiers_of(subnet_ids.as_ref()),
            subnet_ids,
            ingress,
            internet,
            alarm_names: self.alarms.names(
                self,
                &[
                    ("CacheClusterId", c.cache_cluster_id.as_deref()),
                    ("ReplicationGroupId", c.replication_group_id.as_deref()),
                ],
            ),
            ..c.clone()
        }
    }

    fn ecs_service(&self, s: &EcsService) -> EcsService {
        let nc = s.network_configuration.as_ref();
        let ingress = nc.and_then(|n| self.ingress(Some(&n.security_group_ids)));
        let internet = self.reachability(
            nc.map(|n| n.subnet_ids.as_slice()),
            ingress.as_deref(),
            &|sub, fam| match (nc.and_then(|n| n.assign_public_ip.as_deref()), fam) {
                (None, _) => Hop::Unknown,
                (Some(a), Family::V4) if a.eq_ignore_ascii_case("ENABLED") => {
                    Hop::Pass("tasks get a public IP (assignPublicIp ENABLED)".into())
                }
                (Some(_), Family::V4) => Hop::Block("assignPublicIp DISABLED".into()),
                // Tasks in a dual-stack subnet get an IPv6 address when the account enables
                // awsvpc dual-stack, which is not collected: a dual-stack subnet counts.
                (Some(_), Family::V6) => dual_stack_hop(sub),
            },
        );
        let network_mode = s
            .task_definition_arn
            .as_deref()
            .and_then(|arn| self.task_defs.get(arn))
            .and_then(|t| t.network_mode.clone());
        let (scalable_targets, scaling_policy_names, scaling_alarms) = self.scaling(s);
        let cluster = s.cluster_arn.as_deref().map(cluster_name);
        EcsService {
            is_processor: self.is_processor(s),
            network_mode,
            subnet_tiers: nc.and_then(|n| self.tiers_of(Some(&n.subnet_ids))),
            scalable_targets,
            scaling_policy_names,
            scaling_alarms,
            ingress,
            internet,
            alarm_names: match (cluster, s.service_name.as_deref()) {
                (Some(c), Some(n)) => self.alarms.ecs_names(self, c, n),
                _ => None,
            },
            ..s.clone()
        }
    }
}

fn dual_stack_hop(s: Option<&Subnet>) -> Hop {
    match s {
        None => Hop::Unknown,
        Some(s) => match s.ipv6_cidr_blocks.first() {
            Some(c) => Hop::Pass(format!(
                "dual-stack subnet {} ({c}) may give it a public IPv6 address",
                s.subnet_id.as_deref().unwrap_or("?")
            )),
            None => Hop::Block("no IPv6 address (IPv4-only subnet)".into()),
        },
    }
}

/// Host names compare case-insensitively, without a trailing dot.
fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}
