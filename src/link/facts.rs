//! The derived attrs per kind: each resource's attrs with every derived field set (the estate
//! VPC's subnets and zones per tier; a subnet's tier, effective route table, default route and
//! workloads; each workload's tiers, ingress and internet reachability; RDS secure transport;
//! ECS network mode and scaling). Alarm, alarm coverage, Lambda and Cloudflare facts come from
//! their own rooms (`alarms`, `coverage`, `cloudflare`); this one assembles them. It must not
//! build indexes (that is `index`) or evaluate a path itself (that is `reach`), and it sets every
//! derived field of a kind, so a stale value from the input never survives.

use super::coverage::Component;
use super::loki::Source;
use super::net::Family;
use super::reach::{dual_stack_hop, is_igw_route, Hop};
use super::{cluster_name, Ctx};
use crate::model::*;

impl<'a> Ctx<'a> {
    /// The resource's attrs with every derived field set, or `None` for kinds without any.
    pub(super) fn derive(&self, r: &Resource) -> Option<Attrs> {
        Some(match &r.attrs {
            Attrs::Vpc(v) => Attrs::Vpc(self.vpc(r, v)),
            Attrs::Subnet(s) => Attrs::Subnet(self.subnet(s)),
            Attrs::NatGateway(n) => {
                let alarm_names = self
                    .alarms
                    .names(self, &[("NatGatewayId", n.nat_gateway_id.as_deref())]);
                let cov = self.coverage(
                    n.nat_gateway_id.as_deref().map(Component::Nat),
                    alarm_names.as_deref(),
                );
                Attrs::NatGateway(NatGateway {
                    subnet_tier: self.tier_of(n.subnet_id.as_deref()),
                    alarm_names,
                    alarm_categories_covered: cov.covered,
                    alarm_categories_missing: cov.missing,
                    alarm_coverage_gaps: cov.gaps,
                    alarms_not_counted: cov.not_counted,
                    ..n.clone()
                })
            }
            Attrs::Instance(i) => Attrs::Instance(self.instance(r, i)),
            Attrs::DbInstance(d) => Attrs::DbInstance(self.db_instance(r, d)),
            Attrs::CacheCluster(c) => Attrs::CacheCluster(self.cache_cluster(r, c)),
            Attrs::LambdaFunction(l) => {
                // The function's own facts come from `cloudflare` (its origins); its alarm
                // coverage is added here, from the alarms found there.
                let f = self.lambda(r, l);
                let cov = self.coverage(
                    l.function_name.as_deref().map(Component::Function),
                    f.alarm_names.as_deref(),
                );
                let loki = self.loki.component(Source::Webhook, f.is_webhook);
                Attrs::LambdaFunction(LambdaFunction {
                    log_shipping: self.lambda_log_shipping(r, l).map(Box::new),
                    alarm_categories_covered: cov.covered,
                    alarm_categories_missing: cov.missing,
                    alarm_coverage_gaps: cov.gaps,
                    alarms_not_counted: cov.not_counted,
                    loki: loki.map(Box::new),
                    ..f
                })
            }
            Attrs::EcsService(s) => Attrs::EcsService(self.ecs_service(r, s)),
            Attrs::LoadBalancer(l) => Attrs::LoadBalancer(self.load_balancer(r, l)),
            Attrs::ClassicLoadBalancer(l) => {
                Attrs::ClassicLoadBalancer(self.classic_load_balancer(r, l))
            }
            Attrs::Alarm(a) => Attrs::Alarm(self.alarm(r, a)),
            Attrs::GrafanaInstance(g) => Attrs::GrafanaInstance(self.grafana(r, g)),
            Attrs::ZabbixServer(z) => Attrs::ZabbixServer(self.zabbix_server(z)),
            Attrs::CloudflareZone(z) => Attrs::CloudflareZone(self.zone_facts(z)),
            Attrs::DnsRecord(d) => Attrs::DnsRecord(DnsRecord {
                is_webhook_host: match (
                    d.record_name.as_deref(),
                    self.cfg.cloudflare.webhook_host.as_deref(),
                ) {
                    (Some(n), Some(h)) => Some(same_host(n, h)),
                    _ => None,
                },
                zone_active: self.record_zone_active(d),
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
        let (workloads, workloads_total) = if self.any_errored(&[
            kind::INSTANCE,
            kind::DB_INSTANCE,
            kind::CACHE_CLUSTER,
            kind::CACHE_SUBNET_GROUP,
            kind::ECS_SERVICE,
            kind::LAMBDA_FUNCTION,
        ]) {
            (None, None)
        } else {
            match s.subnet_id.as_deref() {
                Some(id) => {
                    let (w, n) = self.workloads.get(id).cloned().unwrap_or_default();
                    (Some(w), Some(n))
                }
                None => (None, None),
            }
        };
        Subnet {
            tier: info.map(|i| i.tier),
            route_table_id: rt.and_then(|t| t.route_table_id.clone()),
            has_igw_route: rt.map(|t| t.routes.iter().any(is_igw_route)),
            default_route_target_type: target_type,
            default_route_target_id: target_id,
            default_route_nat_available: nat_available,
            workloads,
            workloads_total,
            external_routes: rt.and_then(|t| external_routes(&t.routes)),
            ..s.clone()
        }
    }

    fn instance(&self, r: &Resource, i: &Instance) -> Instance {
        let ingress = self.ingress(i.security_group_ids.as_deref());
        let network_interfaces = i.network_interfaces.as_ref().map(|ifs| {
            ifs.iter()
                .map(|n| InstanceInterface {
                    subnet_tier: self.tier_of(n.subnet_id.as_deref()),
                    ..n.clone()
                })
                .collect::<Vec<_>>()
        });
        // As exposed as its most exposed interface, each judged on its own subnet, groups and
        // addresses.
        let direct =
            i.network_interfaces.as_ref().and_then(|ifs| {
                self.most_exposed(ifs.iter().map(|n| {
                    let name = format!(
                        "interface {}{}",
                        n.network_interface_id.as_deref().unwrap_or("?"),
                        n.device_index
                            .map(|d| format!(" (device {d})"))
                            .unwrap_or_default()
                    );
                    let subnets = n.subnet_id.clone().map(|s| vec![s]);
                    let ingress = self.ingress(n.security_group_ids.as_deref());
                    let reach =
                        self.reachability(subnets.as_deref(), ingress.as_deref(), &|_, fam| {
                            match fam {
                                Family::V4 => match n.public_ips.first() {
                                    Some(a) => Hop::Pass(format!("public IP {a}")),
                                    None => Hop::Block("no public IPv4 address".into()),
                                },
                                Family::V6 => match n.ipv6_addresses.first() {
                                    Some(a) => Hop::Pass(format!("IPv6 address {a}")),
                                    None => Hop::Block("no IPv6 address".into()),
                                },
                            }
                        });
                    (name, reach)
                }))
            });
        let is_rabbitmq = self.is_rabbitmq(r, i);
        Instance {
            is_rabbitmq,
            subnet_tier: self.tier_of(i.subnet_id.as_deref()),
            network_interfaces,
            broker_ports_open: if is_rabbitmq == Some(true) {
                ingress.as_deref().and_then(broker_ports_open)
            } else {
                None
            },
            prometheus: (is_rabbitmq == Some(true)).then(|| Box::new(self.prometheus.host(r, i))),
            zabbix: (is_rabbitmq == Some(true)).then(|| Box::new(self.zabbix.host(r, i))),
            ingress_beyond_clients: if is_rabbitmq == Some(true) {
                ingress
                    .as_deref()
                    .and_then(|i| ingress_beyond(i, from_broker_clients))
            } else {
                None
            },
            ingress,
            internet: self.with_edge(&r.id, direct),
            ..i.clone()
        }
    }

    fn db_instance(&self, r: &Resource, d: &DbInstance) -> DbInstance {
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
        let alarm_names = self.alarms.names(
            self,
            &[("DBInstanceIdentifier", d.db_instance_identifier.as_deref())],
        );
        let cov = self.coverage(
            d.db_instance_identifier.as_deref().map(Component::Database),
            alarm_names.as_deref(),
        );
        DbInstance {
            subnet_tiers: self.tiers_of(d.subnet_ids.as_ref()),
            require_secure_transport: self.secure_transport(d),
            ingress_beyond_compute: ingress
                .as_deref()
                .and_then(|i| ingress_beyond(i, from_compute)),
            ingress,
            internet: self.with_edge(&r.id, internet),
            alarm_names,
            alarm_categories_covered: cov.covered,
            alarm_categories_missing: cov.missing,
            alarm_coverage_gaps: cov.gaps,
            alarms_not_counted: cov.not_counted,
            ..d.clone()
        }
    }

    /// From the instance's parameter groups in effect: on ("1", "ON", "true") in any that is in
    /// sync with the instance → true; known and off or unset in all, or on only in a group that
    /// waits for a reboot → false; a group missing, unreadable, being applied or of unknown
    /// status → unknown. `rds.force_ssl` (the PostgreSQL and SQL Server spelling) counts too.
    fn secure_transport(&self, d: &DbInstance) -> Option<bool> {
        let names = d.parameter_group_names.as_ref()?;
        let status = d.parameter_apply_status.as_ref()?;
        let mut on = false;
        for n in names {
            let g = self.param_groups.get(n.as_str())?;
            let params = g.parameters.as_ref()?;
            let in_effect = match status.get(n).map(String::as_str) {
                Some("in-sync") => true,
                Some("pending-reboot") => false,
                _ => return None,
            };
            for key in ["require_secure_transport", "rds.force_ssl"] {
                if let Some(Some(v)) = params.get(key) {
                    on |= in_effect
                        && matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "on" | "true");
                }
            }
        }
        Some(on)
    }

    /// Transit encryption on and its mode `required` (the cluster's own, or its replication
    /// group's); `preferred` still admits plaintext clients. Memcached has no mode: on is TLS
    /// only.
    fn transit_required(&self, c: &CacheCluster) -> Option<bool> {
        if !c.transit_encryption_enabled? {
            return Some(false);
        }
        if c.engine.as_deref() == Some("memcached") {
            return Some(true);
        }
        let group = c
            .replication_group_id
            .as_deref()
            .and_then(|id| self.cache_rgs.get(id));
        let mode = c
            .transit_encryption_mode
            .as_deref()
            .or_else(|| group.and_then(|g| g.transit_encryption_mode.as_deref()))?;
        Some(mode.eq_ignore_ascii_case("required"))
    }

    fn cache_cluster(&self, r: &Resource, c: &CacheCluster) -> CacheCluster {
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
        let alarm_names = self.alarms.names(
            self,
            &[
                ("CacheClusterId", c.cache_cluster_id.as_deref()),
                ("ReplicationGroupId", c.replication_group_id.as_deref()),
            ],
        );
        let cov = self.coverage(
            c.cache_cluster_id.as_deref().map(Component::Cache),
            alarm_names.as_deref(),
        );
        CacheCluster {
            transit_encryption_required: self.transit_required(c),
            user_group_ids,
            subnet_tiers: self.tiers_of(subnet_ids.as_ref()),
            subnet_ids,
            ingress_beyond_compute: ingress
                .as_deref()
                .and_then(|i| ingress_beyond(i, from_compute)),
            ingress,
            internet: self.with_edge(&r.id, internet),
            alarm_names,
            alarm_categories_covered: cov.covered,
            alarm_categories_missing: cov.missing,
            alarm_coverage_gaps: cov.gaps,
            alarms_not_counted: cov.not_counted,
            ..c.clone()
        }
    }

    fn ecs_service(&self, r: &Resource, s: &EcsService) -> EcsService {
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
        let scaling = self.scaling(s);
        let cluster = s.cluster_arn.as_deref().map(cluster_name);
        let alarm_names = match (cluster, s.service_name.as_deref()) {
            (Some(c), Some(n)) => self.alarms.ecs_names(self, c, n),
            _ => None,
        };
        let cov = self.coverage(
            cluster
                .zip(s.service_name.as_deref())
                .map(|(c, n)| Component::Service(c, n)),
            alarm_names.as_deref(),
        );
        let is_processor = self.is_processor(s);
        EcsService {
            is_processor,
            loki: self.loki.component(Source::Ecs, is_processor).map(Box::new),
            log_shipping: self.ecs_log_shipping(r, s).map(Box::new),
            network_mode,
            subnet_tiers: nc.and_then(|n| self.tiers_of(Some(&n.subnet_ids))),
            scalable_targets: scaling.targets,
            scaling_policy_names: scaling.policy_names,
            scaling_alarms: scaling.alarms,
            scaling_alarm_problems: scaling.problems,
            ingress,
            internet: self.with_edge(&r.id, self.with_tasks(&r.id, internet)),
            alarm_names,
            alarm_categories_covered: cov.covered,
            alarm_categories_missing: cov.missing,
            alarm_coverage_gaps: cov.gaps,
            alarms_not_counted: cov.not_counted,
            ..s.clone()
        }
    }
}

/// The active routes that leave the VPC other than to the internet, as text; `None` when a
/// route's target is unknown (it could be one of them).
fn external_routes(routes: &[Route]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for r in routes {
        if r.state.as_deref() == Some("blackhole") {
            continue;
        }
        let external = match r.target_type.as_deref() {
            Some(
                "vpc_peering_connection"
                | "transit_gateway"
                | "virtual_private_gateway"
                | "local_gateway"
                | "carrier_gateway"
                | "core_network",
            ) => true,
            Some("gateway") | None => return None,
            Some(_) => false,
        };
        if external {
            let dest = r
                .destination_cidr_block
                .as_deref()
                .or(r.destination_ipv6_cidr_block.as_deref())
                .or(r.destination_prefix_list_id.as_deref())
                .unwrap_or("?");
            out.push(format!(
                "{dest} → {} {}",
                r.target_type.as_deref().unwrap_or("?"),
                r.target_id.as_deref().unwrap_or("?")
            ));
        }
    }
    Some(out)
}

/// Host names compare case-insensitively, without a trailing dot.
fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The broker's ports that carry no TLS or the cluster's own traffic, by RabbitMQ's defaults:
/// (first port, last port, what listens there).
const BROKER_PORTS: &[(i64, i64, &str)] = &[
    (5672, 5672, "AMQP without TLS"),
    (1883, 1883, "MQTT without TLS"),
    (61613, 61613, "STOMP without TLS"),
    (5552, 5552, "streams without TLS"),
    (15672, 15672, "the management UI over HTTP"),
    (15674, 15674, "Web STOMP without TLS"),
    (15675, 15675, "Web MQTT without TLS"),
    (25672, 25672, "Erlang distribution (inter-node)"),
    (4369, 4369, "epmd (node discovery)"),
    (35672, 35682, "the CLI tools' distribution"),
];

/// Each broker port of [`BROKER_PORTS`] that an ingress entry opens to anything but the broker's
/// own cluster (a group only RabbitMQ hosts use), named with the entry's source. `None` when an
/// entry over such a port has a source whose users are unknown.
fn broker_ports_open(ingress: &[Ingress]) -> Option<Vec<String>> {
    let mut open = Vec::new();
    for e in ingress {
        if !matches!(e.protocol.as_str(), "tcp" | "all") {
            continue;
        }
        for &(from, to, what) in BROKER_PORTS {
            if e.to_port < from || e.from_port > to {
                continue;
            }
            let components = match e.source_type.as_str() {
                "security_group" => e.source_components.as_ref()?,
                _ => &Vec::new(),
            };
            let own_cluster = e.source_type == "security_group"
                && !components.is_empty()
                && components.iter().all(|c| c == "rabbitmq");
            if own_cluster {
                continue;
            }
            let port = if from == to {
                from.to_string()
            } else {
                format!("{from}-{to}")
            };
            let who = if components.is_empty() {
                String::new()
            } else {
                format!(" ({})", components.join(", "))
            };
            open.push(format!(
                "{port} {what} open to {}{who} by {}",
                e.source, e.security_group_id
            ));
        }
    }
    open.sort();
    open.dedup();
    Some(open)
}

/// The entries of `ingress` that `allowed` refuses, each in words ([`admits`]), sorted. `None`
/// when `allowed` cannot tell for one (its source's users or tiers are unknown).
fn ingress_beyond(
    ingress: &[Ingress],
    allowed: fn(&Ingress) -> Option<bool>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for e in ingress {
        if !allowed(e)? {
            out.push(admits(e));
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// From the compute tier only: not the internet, and every tier of the source is `compute`
/// (as `aws-rds-ingress-compute-only` and `aws-elasticache-ingress-compute-only` judge it).
fn from_compute(e: &Ingress) -> Option<bool> {
    let tiers = e.source_tiers.as_ref()?;
    Some(!e.source_is_internet && !tiers.is_empty() && tiers.iter().all(|t| t == "compute"))
}

/// From the broker's clients or its own cluster only: a security group that only the webhook,
/// the processors or RabbitMQ hosts use (as `aws-ec2-rabbitmq-ingress-internal` judges it).
fn from_broker_clients(e: &Ingress) -> Option<bool> {
    if e.source_is_internet || e.source_type != "security_group" {
        return Some(false);
    }
    let components = e.source_components.as_ref()?;
    Some(
        !components.is_empty()
            && components
                .iter()
                .all(|c| matches!(c.as_str(), "webhook" | "ecs_service" | "rabbitmq")),
    )
}

/// "tcp 3306 from 0.0.0.0/0 (the internet) by sg-0dd4…": what an entry admits, from where (the
/// internet, the components that use the group, else the tiers the source covers) and which
/// group admits it.
fn admits(e: &Ingress) -> String {
    let what = match (e.protocol.as_str(), e.from_port, e.to_port) {
        ("all", _, _) => "all traffic".to_string(),
        (p, 0, 65535) => format!("{p} on every port"),
        (p, from, to) if from == to => format!("{p} {from}"),
        (p, from, to) => format!("{p} {from}-{to}"),
    };
    let components = e.source_components.as_deref().unwrap_or_default();
    let tiers = e.source_tiers.as_deref().unwrap_or_default();
    let who = if e.source_is_internet {
        "the internet".to_string()
    } else if !components.is_empty() {
        components.join(", ")
    } else if !tiers.is_empty() {
        format!("tiers {}", tiers.join(", "))
    } else {
        "no estate tier".to_string()
    };
    format!(
        "{what} from {} ({who}) by {}",
        e.source, e.security_group_id
    )
}
