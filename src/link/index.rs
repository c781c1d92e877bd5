//! The indexes `link` joins through: [`Ctx`], built once per inventory by reference, holding the
//! estate VPC, every subnet's tier and effective route table, who uses which security group,
//! which workloads sit in which subnet, and plain maps by id for everything else a fact looks
//! up. Also the lookups over them that several rooms share: component identification, subnet
//! tiers, and security-group ingress with its sources resolved to tiers and components. It
//! must not derive a resource's attrs or judge a path (that is `facts` and `reach`), nor read a
//! derived field of the inventory.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use super::net::{self, RangeSet, SourceFacts, Span};
use super::users::PlacedUsers;
use super::ways::EdgeWays;
use super::{alarms, cluster_name};
use crate::model::*;

/// A subnet with what `link` derives about it first (other facts depend on these).
pub(super) struct SubnetInfo<'a> {
    pub(super) s: &'a Subnet,
    pub(super) tier: Tier,
    /// The effective route table: explicit association, else the VPC's main table.
    pub(super) rt: Option<&'a RouteTable>,
    pub(super) in_estate: bool,
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
pub(super) struct Ctx<'a> {
    pub(super) cfg: &'a EstateConfig,
    pub(super) resources: &'a [Resource],
    /// Kinds whose collection failed make every fact built from them unknown.
    errored: HashSet<&'a str>,
    pub(super) estate_vpc: Option<(&'a Resource, &'a Vpc)>,
    pub(super) subnets: HashMap<&'a str, SubnetInfo<'a>>,
    pub(super) nats: HashMap<&'a str, &'a NatGateway>,
    sgs: HashMap<&'a str, &'a SecurityGroup>,
    pub(super) nacl_by_subnet: HashMap<&'a str, &'a NetworkAcl>,
    pub(super) default_nacl: HashMap<&'a str, &'a NetworkAcl>,
    pub(super) param_groups: HashMap<&'a str, &'a DbParameterGroup>,
    pub(super) cache_rgs: HashMap<&'a str, &'a CacheReplicationGroup>,
    cache_subnet_groups: HashMap<&'a str, &'a CacheSubnetGroup>,
    pub(super) task_defs: HashMap<&'a str, &'a EcsTaskDefinition>,
    pub(super) scalable_targets: HashMap<&'a str, Vec<&'a ScalableTarget>>,
    pub(super) scaling_policies: HashMap<&'a str, Vec<(&'a Resource, &'a ScalingPolicy)>>,
    /// Workloads by kind, for naming the users of network interfaces (`users`).
    pub(super) instances: HashMap<&'a str, (&'a Resource, &'a Instance)>,
    pub(super) lambdas: Vec<(&'a Resource, &'a LambdaFunction)>,
    pub(super) ecs_services: Vec<(&'a Resource, &'a EcsService)>,
    pub(super) db_instances: Vec<(&'a Resource, &'a DbInstance)>,
    pub(super) cache_clusters: Vec<(&'a Resource, &'a CacheCluster)>,
    /// Functions, services and databases by where they are placed: (subnet, their groups
    /// sorted), so that an interface finds its owner by a lookup, not a scan.
    pub(super) placed: HashMap<(&'a str, Vec<&'a str>), Vec<&'a Resource>>,
    /// The network interfaces of the inventory, and each address's interface.
    pub(super) interfaces: Vec<(&'a Resource, &'a NetworkInterface)>,
    pub(super) interface_by_ip: HashMap<&'a str, &'a NetworkInterface>,
    /// Load balancers and their target groups (`edge`).
    pub(super) load_balancers: Vec<(&'a Resource, &'a LoadBalancer)>,
    pub(super) classic_load_balancers: Vec<(&'a Resource, &'a ClassicLoadBalancer)>,
    pub(super) target_groups: HashMap<&'a str, (&'a Resource, &'a TargetGroup)>,
    /// APIs (`origin`).
    pub(super) rest_apis: Vec<(&'a Resource, &'a RestApi)>,
    pub(super) http_apis: Vec<(&'a Resource, &'a HttpApi)>,
    /// Ways in through load balancers, by the id of the resource they reach (`edge`).
    /// The ways in through load balancers and APIs (`edge`, after the indexes are built).
    pub(super) edge_ways: EdgeWays,
    /// Tiers of the subnets of the interfaces and resources using each security group.
    sg_tiers: HashMap<&'a str, BTreeSet<Tier>>,
    /// Who uses each security group: spec components by name, anything else by what it is.
    sg_components: HashMap<&'a str, BTreeSet<String>>,
    /// Which groups' users, or their tiers or components, are not all known: a user's groups,
    /// subnets or role could not be read, or (all groups) a kind that uses groups was not
    /// collected. Their `source_tiers` / `source_components` are null, never a short list that
    /// a rule would read as the whole truth.
    sg_unknown: SgUnknown<'a>,
    /// `kind:id` of the workloads placed in each subnet: the first [`super::LIST_MAX`] in order,
    /// and how many there are.
    pub(super) workloads: HashMap<&'a str, (Vec<String>, usize)>,
    pub(super) alarms: alarms::AlarmIndex<'a>,
    pub(super) topics: HashMap<&'a str, &'a SnsTopic>,
    pub(super) subscriptions: HashMap<&'a str, Vec<&'a SnsSubscription>>,
    /// PagerDuty services by their integration keys' digests.
    pub(super) pagerduty: super::pagerduty::PagerDutyIndex<'a>,
    /// Prometheus and Alertmanager servers.
    pub(super) prometheus: super::prometheus::PrometheusIndex<'a>,
    /// Zabbix servers.
    pub(super) zabbix: super::zabbix::ZabbixIndex<'a>,
    /// Loki's server, configuration and errors.
    pub(super) loki: super::loki::LokiIndex<'a>,
    pub(super) log_groups: super::logs::LogGroups<'a>,
    pub(super) cf_ranges: Option<RangeSet>,
    pub(super) zone: Option<&'a CloudflareZone>,
    /// Tiers per source CIDR, memoised: sources repeat across groups. A mutex, not a `RefCell`:
    /// large inventories are derived on several threads sharing this context.
    cidr_tier_cache: Mutex<HashMap<String, Vec<String>>>,
    pub(super) estate_spans: Vec<Span>,
    /// Each network interface's user, named once (`users`), and the interfaces of each
    /// resource they belong to.
    pub(super) interface_users: HashMap<&'a str, Option<super::users::User>>,
    /// Interfaces that share one user (the tasks of one placement, an instance's own), and the
    /// groups each resource's interfaces are in.
    pub(super) interface_groups: Vec<Vec<&'a NetworkInterface>>,
    pub(super) interface_groups_of: HashMap<String, Vec<usize>>,
    /// Each interface group's most exposed reachability, found once (`reach::with_tasks`).
    pub(super) group_exposure: Mutex<HashMap<usize, Option<Reachability>>>,
}

fn tier_from_text(v: &str) -> Tier {
    match v.trim().to_ascii_lowercase().as_str() {
        "public" => Tier::Public,
        "compute" => Tier::Compute,
        "database" => Tier::Database,
        _ => Tier::Unassigned,
    }
}

fn sorted_tiers(set: impl IntoIterator<Item = Tier>) -> Vec<Tier> {
    let s: BTreeSet<Tier> = set.into_iter().collect();
    s.into_iter().collect()
}

fn strs_opt(v: Option<&Vec<String>>) -> Option<Vec<&str>> {
    v.map(|v| v.iter().map(String::as_str).collect())
}

/// What the first pass gathers for the later ones and does not keep.
#[derive(Default)]
struct Gathered<'a> {
    vpcs: Vec<(&'a Resource, &'a Vpc)>,
    subnets: Vec<(&'a Resource, &'a Subnet)>,
    rt_explicit: HashMap<&'a str, &'a RouteTable>,
    rt_main: HashMap<&'a str, &'a RouteTable>,
    zones: Vec<(&'a Resource, &'a CloudflareZone)>,
}

/// A resource's subnets, security groups and user (see `Ctx::placement`).
type Placement<'a> = (Option<Vec<&'a str>>, Option<Vec<&'a str>>, Option<String>);

impl<'a> Ctx<'a> {
    /// Indexes the inventory in three passes: plain indexes by id (one function per family of
    /// kinds), then the estate VPC and subnet tiers, then who uses which security group (which
    /// needs the tiers).
    pub(super) fn build(
        resources: &'a [Resource],
        cfg: &'a EstateConfig,
        errors: &'a [CollectionError],
    ) -> Self {
        let errored: HashSet<&str> = errors
            .iter()
            .flat_map(|e| e.kinds.iter().map(String::as_str))
            .collect();
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
            instances: HashMap::new(),
            lambdas: Vec::new(),
            ecs_services: Vec::new(),
            db_instances: Vec::new(),
            cache_clusters: Vec::new(),
            placed: HashMap::new(),
            interfaces: Vec::new(),
            interface_by_ip: HashMap::new(),
            load_balancers: Vec::new(),
            classic_load_balancers: Vec::new(),
            target_groups: HashMap::new(),
            rest_apis: Vec::new(),
            http_apis: Vec::new(),
            edge_ways: Default::default(),
            sg_tiers: HashMap::new(),
            sg_components: HashMap::new(),
            sg_unknown: SgUnknown::default(),
            workloads: HashMap::new(),
            alarms: alarms::AlarmIndex::default(),
            topics: HashMap::new(),
            subscriptions: HashMap::new(),
            pagerduty: super::pagerduty::PagerDutyIndex::new(cfg, errors),
            prometheus: super::prometheus::PrometheusIndex::new(cfg),
            zabbix: super::zabbix::ZabbixIndex::new(cfg),
            loki: super::loki::LokiIndex::new(cfg, errors),
            log_groups: super::logs::LogGroups::new(resources),
            cf_ranges: None,
            zone: None,
            cidr_tier_cache: Mutex::new(HashMap::new()),
            estate_spans: Vec::new(),
            interface_users: HashMap::new(),
            interface_groups: Vec::new(),
            interface_groups_of: HashMap::new(),
            group_exposure: Mutex::new(HashMap::new()),
        };
        let mut gathered = Gathered::default();

        // Pass 1: plain indexes by id.
        for r in resources {
            ctx.alarms.add_target(r);
            ctx.index_network(r, &mut gathered);
            ctx.index_workloads(r);
            ctx.index_edge(r);
            ctx.index_services(r);
            ctx.index_alarms(r);
            ctx.index_cloudflare(r, &mut gathered);
        }
        ctx.zone = match cfg.cloudflare.zone.as_deref() {
            Some(name) => gathered
                .zones
                .iter()
                .find(|(_, z)| {
                    z.zone_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name.trim_end_matches('.')))
                })
                .map(|(_, z)| *z),
            None if gathered.zones.len() == 1 => Some(gathered.zones[0].1),
            None => None,
        };

        // Pass 2: the estate VPC and subnet tiers.
        ctx.index_subnets(&gathered);

        // Pass 3: who uses which security group, and which workloads sit in which subnet.
        ctx.index_group_users();
        ctx
    }

    /// The workloads by kind, and the network interfaces with each of their addresses.
    fn index_workloads(&mut self, r: &'a Resource) {
        match &r.attrs {
            Attrs::Instance(i) => {
                if let Some(id) = i.instance_id.as_deref() {
                    self.instances.insert(id, (r, i));
                }
            }
            Attrs::LambdaFunction(l) => {
                self.lambdas.push((r, l));
                if let Some(v) = &l.vpc_config {
                    self.place(r, &v.subnet_ids, &v.security_group_ids);
                }
            }
            Attrs::EcsService(s) => {
                self.ecs_services.push((r, s));
                if let Some(c) = &s.network_configuration {
                    self.place(r, &c.subnet_ids, &c.security_group_ids);
                }
            }
            Attrs::DbInstance(d) => {
                self.db_instances.push((r, d));
                if let (Some(subnets), Some(groups)) = (&d.subnet_ids, &d.security_group_ids) {
                    self.place(r, subnets, groups);
                }
            }
            Attrs::CacheCluster(c) => self.cache_clusters.push((r, c)),
            Attrs::NetworkInterface(n) => {
                self.interfaces.push((r, n));
                for ip in n.private_ip_addresses.iter().chain(&n.ipv6_addresses) {
                    self.interface_by_ip.insert(ip, n);
                }
            }
            _ => {}
        }
    }

    fn place(&mut self, r: &'a Resource, subnets: &'a [String], groups: &'a [String]) {
        let mut key: Vec<&str> = groups.iter().map(String::as_str).collect();
        key.sort_unstable();
        key.dedup();
        for s in subnets {
            self.placed.entry((s, key.clone())).or_default().push(r);
        }
    }

    /// Load balancers, target groups and APIs.
    fn index_edge(&mut self, r: &'a Resource) {
        match &r.attrs {
            Attrs::LoadBalancer(l) => self.load_balancers.push((r, l)),
            Attrs::ClassicLoadBalancer(l) => self.classic_load_balancers.push((r, l)),
            Attrs::TargetGroup(t) => {
                self.target_groups.insert(&r.id, (r, t));
            }
            Attrs::RestApi(a) => self.rest_apis.push((r, a)),
            Attrs::HttpApi(a) => self.http_apis.push((r, a)),
            _ => {}
        }
    }

    /// The network: VPCs and subnets (for pass 2), route tables, NAT gateways, security groups
    /// and network ACLs.
    fn index_network(&mut self, r: &'a Resource, gathered: &mut Gathered<'a>) {
        match &r.attrs {
            Attrs::Vpc(v) => gathered.vpcs.push((r, v)),
            Attrs::Subnet(s) => gathered.subnets.push((r, s)),
            Attrs::RouteTable(t) => {
                for s in &t.subnet_ids {
                    gathered.rt_explicit.insert(s, t);
                }
                if t.main == Some(true) {
                    if let Some(v) = t.vpc_id.as_deref() {
                        gathered.rt_main.insert(v, t);
                    }
                }
            }
            Attrs::NatGateway(n) => {
                if let Some(id) = n.nat_gateway_id.as_deref() {
                    self.nats.insert(id, n);
                }
            }
            Attrs::SecurityGroup(g) => {
                if let Some(id) = g.group_id.as_deref() {
                    self.sgs.insert(id, g);
                }
            }
            Attrs::NetworkAcl(a) => {
                for s in &a.subnet_ids {
                    self.nacl_by_subnet.insert(s, a);
                }
                if a.is_default == Some(true) {
                    if let Some(v) = a.vpc_id.as_deref() {
                        self.default_nacl.insert(v, a);
                    }
                }
            }
            _ => {}
        }
    }

    /// What the workloads refer to: parameter groups, cache replication and subnet groups, task
    /// definitions, scalable targets and scaling policies.
    fn index_services(&mut self, r: &'a Resource) {
        match &r.attrs {
            Attrs::DbParameterGroup(p) => {
                if let Some(n) = p.name.as_deref() {
                    self.param_groups.insert(n, p);
                }
            }
            Attrs::CacheReplicationGroup(g) => {
                if let Some(id) = g.replication_group_id.as_deref() {
                    self.cache_rgs.insert(id, g);
                }
            }
            Attrs::CacheSubnetGroup(g) => {
                if let Some(n) = g.name.as_deref() {
                    self.cache_subnet_groups.insert(n, g);
                }
            }
            Attrs::EcsTaskDefinition(t) => {
                self.task_defs.insert(&r.id, t);
            }
            Attrs::ScalableTarget(t) => {
                if let Some(id) = t.resource_id.as_deref() {
                    self.scalable_targets.entry(id).or_default().push(t);
                }
            }
            Attrs::ScalingPolicy(p) => {
                if let Some(id) = p.resource_id.as_deref() {
                    self.scaling_policies.entry(id).or_default().push((r, p));
                }
            }
            _ => {}
        }
    }

    /// Alarms, SNS topics and their subscriptions; the monitoring plane's servers.
    fn index_alarms(&mut self, r: &'a Resource) {
        match &r.attrs {
            Attrs::Alarm(a) => self.alarms.add(r, a),
            Attrs::SnsTopic(t) => {
                self.topics
                    .insert(t.topic_arn.as_deref().unwrap_or(&r.id), t);
            }
            Attrs::SnsSubscription(s) => {
                if let Some(t) = s.topic_arn.as_deref() {
                    self.subscriptions.entry(t).or_default().push(s);
                }
            }
            Attrs::PagerDutyService(s) => self.pagerduty.add(r, s),
            Attrs::PrometheusServer(s) => self.prometheus.add_prometheus(s),
            Attrs::AlertmanagerServer(a) => self.prometheus.add_alertmanager(a),
            Attrs::ZabbixServer(z) => self.zabbix.add(z),
            Attrs::LokiServer(l) => self.loki.add(l),
            _ => {}
        }
    }

    /// Cloudflare: the zones (one is picked after the pass) and the first IP range list.
    fn index_cloudflare(&mut self, r: &'a Resource, gathered: &mut Gathered<'a>) {
        match &r.attrs {
            Attrs::CloudflareZone(z) => gathered.zones.push((r, z)),
            Attrs::CloudflareIpRanges(ip) if self.cf_ranges.is_none() => {
                self.cf_ranges = Some(RangeSet::new(
                    ip.ipv4_cidrs
                        .iter()
                        .chain(&ip.ipv6_cidrs)
                        .map(String::as_str),
                ));
            }
            _ => {}
        }
    }

    /// The estate VPC, then every subnet's tier, effective route table and estate membership.
    fn index_subnets(&mut self, gathered: &Gathered<'a>) {
        let cfg = self.cfg;
        self.estate_vpc = cfg.pick_vpc(&gathered.vpcs);
        let estate_vpc_id = self.estate_vpc.and_then(|(_, v)| v.vpc_id.as_deref());
        if let Some((_, v)) = self.estate_vpc {
            self.estate_spans = v
                .cidr_block
                .iter()
                .chain(&v.ipv6_cidr_blocks)
                .filter_map(|c| net::parse_span(c))
                .collect();
        }
        let explicit = cfg.explicit_tiers();
        for &(r, s) in &gathered.subnets {
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
            let rt = if self.errored.contains(kind::ROUTE_TABLE) {
                None
            } else {
                gathered
                    .rt_explicit
                    .get(id)
                    .or_else(|| s.vpc_id.as_deref().and_then(|v| gathered.rt_main.get(v)))
                    .copied()
            };
            let in_estate = estate_vpc_id.is_some() && s.vpc_id.as_deref() == estate_vpc_id;
            self.subnets.insert(
                id,
                SubnetInfo {
                    s,
                    tier,
                    rt,
                    in_estate,
                },
            );
        }
    }

    /// The tiers and users of each security group (and which of those are not all known), and
    /// the workloads placed in each subnet. The users are the network interfaces carrying the
    /// group, whoever owns them, together with the workloads configured with it.
    fn index_group_users(&mut self) {
        let mut sg_tiers: HashMap<&str, BTreeSet<Tier>> = HashMap::new();
        let mut sg_components: HashMap<&str, BTreeSet<String>> = HashMap::new();
        let mut workloads: HashMap<&str, Vec<String>> = HashMap::new();
        // Every kind whose resources use security groups: one not collected leaves every
        // group's users unknown (tiers also need the subnets, and a cache's subnet groups).
        let mut sg_unknown = SgUnknown {
            all_components: self.any_errored(&[
                kind::INSTANCE,
                kind::DB_INSTANCE,
                kind::CACHE_CLUSTER,
                kind::ECS_SERVICE,
                kind::LAMBDA_FUNCTION,
                kind::NETWORK_INTERFACE,
                kind::LOAD_BALANCER,
                kind::CLASSIC_LOAD_BALANCER,
            ]),
            ..SgUnknown::default()
        };
        // Workloads in a VPC but not a single interface: the inventory was collected without
        // them (an earlier collector), and a group's users cannot all be known.
        let mut placed_somewhere = false;
        for r in self.resources {
            let Some((subnets, sgs, user)) = self.placement(r) else {
                continue;
            };
            placed_somewhere |= subnets.as_ref().is_none_or(|s| !s.is_empty());
            // A subnet we did not read (or no subnet list at all) has no tier we know.
            let tiers: Option<Vec<Tier>> = subnets.as_ref().and_then(|subnets| {
                subnets
                    .iter()
                    .map(|s| self.subnets.get(s).map(|i| i.tier))
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
                        match &user {
                            Some(u) => {
                                sg_components.entry(g).or_default().insert(u.clone());
                            }
                            None => {
                                sg_unknown.components.insert(g);
                            }
                        }
                    }
                }
            }
            // A load balancer is an edge resource: it is no workload of the subnets it sits in.
            if matches!(
                r.attrs,
                Attrs::LoadBalancer(_) | Attrs::ClassicLoadBalancer(_)
            ) {
                continue;
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
        if placed_somewhere && self.interfaces.is_empty() {
            sg_unknown.all_components = true;
            sg_unknown.all_tiers = true;
        }
        let mut interface_users = HashMap::new();
        let mut placed_users = PlacedUsers::new();
        // Interfaces grouped by the user they share (one group per placement named by its
        // workloads), and each resource's groups: linear however many resources share one.
        let mut group_of_user: HashMap<*const Vec<String>, usize> = HashMap::new();
        let mut interface_groups: Vec<Vec<&NetworkInterface>> = Vec::new();
        let mut groups_of: HashMap<String, Vec<usize>> = HashMap::new();
        for &(r, n) in &self.interfaces {
            let user = self.interface_user(n, Some(&mut placed_users));
            if let Some(u) = &user {
                let key = std::sync::Arc::as_ptr(&u.resource_ids);
                let g = *group_of_user.entry(key).or_insert_with(|| {
                    interface_groups.push(Vec::new());
                    for id in u.resource_ids.iter() {
                        groups_of
                            .entry(id.clone())
                            .or_default()
                            .push(interface_groups.len() - 1);
                    }
                    interface_groups.len() - 1
                });
                interface_groups[g].push(n);
            }
            interface_users.insert(
                n.network_interface_id.as_deref().unwrap_or(r.id.as_str()),
                user,
            );
        }
        self.interface_users = interface_users;
        self.interface_groups = interface_groups;
        self.interface_groups_of = groups_of;
        for &(_, n) in &self.interfaces {
            let Some(sgs) = n.security_group_ids.as_ref() else {
                sg_unknown.all_tiers = true;
                sg_unknown.all_components = true;
                continue;
            };
            let tier = self.tier_of(n.subnet_id.as_deref());
            let user = self.user_of(n);
            for g in sgs {
                match tier {
                    Some(t) => {
                        sg_tiers.entry(g).or_default().insert(t);
                    }
                    None => {
                        sg_unknown.tiers.insert(g);
                    }
                }
                match &user {
                    Some(u) => {
                        sg_components.entry(g).or_default().insert(u.name.clone());
                    }
                    None => {
                        sg_unknown.components.insert(g);
                    }
                }
            }
        }
        sg_unknown.all_tiers |= sg_unknown.all_components
            || self.any_errored(&[kind::SUBNET, kind::CACHE_SUBNET_GROUP]);
        self.sg_tiers = sg_tiers;
        self.sg_components = sg_components;
        self.sg_unknown = sg_unknown;
        // Sorted and cut once per subnet, so that no subnet carries a list as long as the estate.
        self.workloads = workloads
            .into_iter()
            .map(|(id, mut w)| {
                w.sort();
                let total = w.len();
                w.truncate(super::LIST_MAX);
                (id, (w, total))
            })
            .collect();
    }

    /// Where a resource of a kind that uses security groups sits and who it is; `None` for
    /// other kinds. Its groups are `None` when unknown: any group may be its. Its user: the
    /// component name, or what it is when it is none of them; `None` when unknown.
    fn placement(&self, r: &'a Resource) -> Option<Placement<'a>> {
        let named = |c: Option<bool>, component: &str, what: &str, name: Option<&str>| {
            c.map(|is| {
                if is {
                    component.to_string()
                } else {
                    format!("{what} {}", name.unwrap_or(r.id.as_str()))
                }
            })
        };
        Some(match &r.attrs {
            Attrs::Instance(i) => {
                // Every interface's subnet; the primary's alone when the interfaces are unread.
                let subnets = match &i.network_interfaces {
                    Some(ifs) => ifs
                        .iter()
                        .map(|n| n.subnet_id.as_deref())
                        .collect::<Option<Vec<&str>>>(),
                    None => i.subnet_id.as_deref().map(|s| vec![s]),
                };
                (
                    subnets,
                    strs_opt(i.security_group_ids.as_ref()),
                    named(
                        self.is_rabbitmq(r, i),
                        "rabbitmq",
                        "instance",
                        i.instance_id.as_deref(),
                    ),
                )
            }
            Attrs::DbInstance(d) => (
                strs_opt(d.subnet_ids.as_ref()),
                strs_opt(d.security_group_ids.as_ref()),
                Some("rds".to_string()),
            ),
            Attrs::CacheCluster(c) => (
                strs_opt(self.cache_subnets(c)),
                strs_opt(c.security_group_ids.as_ref()),
                Some("redis".to_string()),
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
                named(
                    self.is_processor(s),
                    "ecs_service",
                    "ecs service",
                    s.service_name.as_deref(),
                ),
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
                named(
                    self.is_webhook(l),
                    "webhook",
                    "lambda",
                    l.function_name.as_deref(),
                ),
            ),
            Attrs::LoadBalancer(l) => (
                Some(l.subnet_ids.iter().map(String::as_str).collect()),
                strs_opt(l.security_group_ids.as_ref()),
                Some(format!(
                    "load balancer {}",
                    l.load_balancer_name.as_deref().unwrap_or(r.id.as_str())
                )),
            ),
            Attrs::ClassicLoadBalancer(l) => (
                Some(l.subnet_ids.iter().map(String::as_str).collect()),
                strs_opt(l.security_group_ids.as_ref()),
                Some(format!(
                    "load balancer {}",
                    l.load_balancer_name.as_deref().unwrap_or(r.id.as_str())
                )),
            ),
            _ => return None,
        })
    }

    /// Some kind among `kinds` failed to collect.
    pub(super) fn any_errored(&self, kinds: &[&str]) -> bool {
        kinds.iter().any(|k| self.errored.contains(k))
    }

    // ---------------------------------------------------------------------------------------
    // Component identification

    /// `components.rabbitmq` is a `key=value` tag or an instance id.
    pub(super) fn is_rabbitmq(&self, r: &Resource, i: &Instance) -> Option<bool> {
        let sel = self.cfg.components.rabbitmq.trim();
        if sel.contains('=') {
            Some(r.has_tag(sel))
        } else {
            Some(i.instance_id.as_deref() == Some(sel) || r.id == sel)
        }
    }

    pub(super) fn is_webhook(&self, l: &LambdaFunction) -> Option<bool> {
        l.function_name
            .as_deref()
            .map(|n| n == self.cfg.components.webhook_function)
    }

    pub(super) fn is_processor(&self, s: &EcsService) -> Option<bool> {
        let name = s.service_name.as_deref()?;
        if name != self.cfg.components.ecs_service {
            return Some(false);
        }
        let cluster = s.cluster_arn.as_deref()?;
        Some(cluster_name(cluster) == self.cfg.components.ecs_cluster)
    }

    // ---------------------------------------------------------------------------------------
    // Subnets and tiers

    pub(super) fn cache_subnets(&self, c: &CacheCluster) -> Option<&'a Vec<String>> {
        let g = self
            .cache_subnet_groups
            .get(c.cache_subnet_group_name.as_deref()?)?;
        g.subnet_ids.as_ref()
    }

    /// Tiers of the given subnets; `None` when the list is unknown or a subnet is missing.
    pub(super) fn tiers_of(&self, ids: Option<&Vec<String>>) -> Option<Vec<Tier>> {
        let ids = ids?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.subnets.get(id.as_str())?.tier);
        }
        Some(sorted_tiers(out))
    }

    pub(super) fn tier_of(&self, id: Option<&str>) -> Option<Tier> {
        self.subnets.get(id?).map(|i| i.tier)
    }

    // ---------------------------------------------------------------------------------------
    // Ingress and reachability

    /// Every ingress entry of every group; `None` if any group is missing or unreadable.
    pub(super) fn ingress(&self, sg_ids: Option<&[String]>) -> Option<Vec<Ingress>> {
        let mut out = Vec::new();
        for id in sg_ids? {
            let g = self.sgs.get(id.as_str())?;
            out.extend(net::ingress_entries(id, g.ingress.as_ref()?, self)?);
        }
        Some(out)
    }
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
