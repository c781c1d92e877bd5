//! EC2 and VPC: VPCs (all of the region, so a default VPC is seen as one and never taken for the
//! estate), then the estate VPC's subnets, route tables, internet and NAT gateways, security
//! groups, network ACLs, network interfaces (whoever owns them: they say who uses a security
//! group), instances with every interface and their volumes, filtered by VPC on the server side.
//! `normalize_*` are pure (SDK type → model) and unit-tested; a missing required field (a cut-off
//! answer) gives `None`, never a passing default.

use aws_sdk_ec2::types as t;
use aws_sdk_ec2::Client;

use super::{tags, AllPages, Ctx, Part};
use crate::model::EstateConfig;
use crate::model::*;

const SERVICE: &str = "ec2";

fn ec2_tags(ts: &[t::Tag]) -> StrMap {
    tags(ts.iter().map(|t| (t.key(), t.value())))
}

fn filter(name: &str, values: impl IntoIterator<Item = String>) -> t::Filter {
    t::Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().collect()))
        .build()
}

/// The VPC filter of the estate's scope, when the estate VPC is known.
fn vpc_filter(ctx: &Ctx, name: &str) -> Option<Vec<t::Filter>> {
    ctx.estate_vpc
        .as_ref()
        .map(|v| vec![filter(name, [v.clone()])])
}

pub async fn collect_vpcs(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_vpcs()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeVpcs", &[kind::VPC]),
        pages,
        |p| p.vpcs(),
        normalize_vpc,
    )
}

/// The estate VPC among the collected VPCs, chosen exactly as `link` will choose it.
pub fn estate_vpc_id(resources: &[Resource], estate: &EstateConfig) -> Option<String> {
    let vpcs: Vec<(&Resource, &Vpc)> = resources
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::Vpc(v) => Some((r, v)),
            _ => None,
        })
        .collect();
    estate.pick_vpc(&vpcs).and_then(|(_, v)| v.vpc_id.clone())
}

pub fn normalize_vpc(ctx: &Ctx, v: &t::Vpc) -> Option<Resource> {
    let id = v.vpc_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("vpc/{id}")),
            None,
            ec2_tags(v.tags()),
            Attrs::Vpc(Vpc {
                vpc_id: Some(id.to_string()),
                cidr_block: v.cidr_block().map(str::to_string),
                ipv6_cidr_blocks: v
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
                    .collect(),
                is_default: v.is_default(),
                state: v.state().map(|s| s.as_str().to_string()),
                ..Default::default()
            }),
        ),
    )
}

pub async fn collect_subnets(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_subnets()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeSubnets", &[kind::SUBNET]),
        pages,
        |p| p.subnets(),
        normalize_subnet,
    )
}

pub fn normalize_subnet(ctx: &Ctx, s: &t::Subnet) -> Option<Resource> {
    let id = s.subnet_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("subnet/{id}")),
            None,
            ec2_tags(s.tags()),
            Attrs::Subnet(Subnet {
                subnet_id: Some(id.to_string()),
                vpc_id: s.vpc_id().map(str::to_string),
                availability_zone: s.availability_zone().map(str::to_string),
                cidr_block: s.cidr_block().map(str::to_string),
                ipv6_cidr_blocks: s
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
                    .collect(),
                map_public_ip_on_launch: s.map_public_ip_on_launch(),
                assign_ipv6_address_on_creation: s.assign_ipv6_address_on_creation(),
                ..Default::default()
            }),
        ),
    )
}

/// Everything else of the estate VPC, read concurrently.
pub async fn collect_rest(client: &Client, ctx: &Ctx) -> Part {
    let (a, b, c, d, e, f, g) = tokio::join!(
        route_tables(client, ctx),
        internet_gateways(client, ctx),
        nat_gateways(client, ctx),
        security_groups(client, ctx),
        network_acls(client, ctx),
        instances_and_volumes(client, ctx),
        network_interfaces(client, ctx),
    );
    let mut part = a;
    for p in [b, c, d, e, f, g] {
        part.extend(p);
    }
    part
}

async fn route_tables(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_route_tables()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeRouteTables", &[kind::ROUTE_TABLE]),
        pages,
        |p| p.route_tables(),
        normalize_route_table,
    )
}

pub fn normalize_route_table(ctx: &Ctx, rt: &t::RouteTable) -> Option<Resource> {
    let id = rt.route_table_id()?;
    let main = rt.associations().iter().any(|a| a.main() == Some(true));
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("route-table/{id}")),
            None,
            ec2_tags(rt.tags()),
            Attrs::RouteTable(RouteTable {
                route_table_id: Some(id.to_string()),
                vpc_id: rt.vpc_id().map(str::to_string),
                main: Some(main),
                subnet_ids: rt
                    .associations()
                    .iter()
                    .filter_map(|a| a.subnet_id().map(str::to_string))
                    .collect(),
                routes: rt.routes().iter().map(normalize_route).collect(),
            }),
        ),
    )
}

/// The target of a route as `(type, id)`; a route with no target the model knows keeps `None`
/// (unknown), so no rule reads it as "no internet route".
pub fn normalize_route(r: &t::Route) -> Route {
    let gateway = r.gateway_id().map(|g| {
        let kind = if g == "local" {
            "local"
        } else if g.starts_with("igw-") {
            "internet_gateway"
        } else if g.starts_with("vgw-") {
            "virtual_private_gateway"
        } else if g.starts_with("vpce-") {
            "vpc_endpoint"
        } else {
            "gateway"
        };
        (kind, g)
    });
    let target = gateway
        .or_else(|| r.nat_gateway_id().map(|i| ("nat_gateway", i)))
        .or_else(|| {
            r.egress_only_internet_gateway_id()
                .map(|i| ("egress_only_internet_gateway", i))
        })
        .or_else(|| r.transit_gateway_id().map(|i| ("transit_gateway", i)))
        .or_else(|| {
            r.vpc_peering_connection_id()
                .map(|i| ("vpc_peering_connection", i))
        })
        .or_else(|| r.instance_id().map(|i| ("instance", i)))
        .or_else(|| r.network_interface_id().map(|i| ("network_interface", i)))
        .or_else(|| r.local_gateway_id().map(|i| ("local_gateway", i)))
        .or_else(|| r.carrier_gateway_id().map(|i| ("carrier_gateway", i)))
        .or_else(|| r.core_network_arn().map(|i| ("core_network", i)));
    Route {
        destination_cidr_block: r.destination_cidr_block().map(str::to_string),
        destination_ipv6_cidr_block: r.destination_ipv6_cidr_block().map(str::to_string),
        destination_prefix_list_id: r.destination_prefix_list_id().map(str::to_string),
        target_type: target.map(|(k, _)| k.to_string()),
        target_id: target.map(|(_, i)| i.to_string()),
        state: r.state().map(|s| s.as_str().to_string()),
    }
}

async fn internet_gateways(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_internet_gateways()
        .set_filters(vpc_filter(ctx, "attachment.vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (
            SERVICE,
            "DescribeInternetGateways",
            &[kind::INTERNET_GATEWAY],
        ),
        pages,
        |p| p.internet_gateways(),
        normalize_internet_gateway,
    )
}

pub fn normalize_internet_gateway(ctx: &Ctx, g: &t::InternetGateway) -> Option<Resource> {
    let id = g.internet_gateway_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("internet-gateway/{id}")),
            None,
            ec2_tags(g.tags()),
            Attrs::InternetGateway(InternetGateway {
                internet_gateway_id: Some(id.to_string()),
                attached_vpc_ids: g
                    .attachments()
                    .iter()
                    .filter_map(|a| a.vpc_id().map(str::to_string))
                    .collect(),
            }),
        ),
    )
}

async fn nat_gateways(client: &Client, ctx: &Ctx) -> Part {
    // DescribeNatGateways names its VPC filter `vpc-id` like the others, but takes it as `Filter`.
    let pages = client
        .describe_nat_gateways()
        .set_filter(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeNatGateways", &[kind::NAT_GATEWAY]),
        pages,
        |p| p.nat_gateways(),
        normalize_nat_gateway,
    )
}

pub fn normalize_nat_gateway(ctx: &Ctx, g: &t::NatGateway) -> Option<Resource> {
    let id = g.nat_gateway_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("natgateway/{id}")),
            None,
            ec2_tags(g.tags()),
            Attrs::NatGateway(NatGateway {
                nat_gateway_id: Some(id.to_string()),
                vpc_id: g.vpc_id().map(str::to_string),
                subnet_id: g.subnet_id().map(str::to_string),
                state: g.state().map(|s| s.as_str().to_string()),
                // Absent on older answers: AWS documents `public` as the default.
                connectivity_type: Some(
                    g.connectivity_type()
                        .map_or("public", |c| c.as_str())
                        .to_string(),
                ),
                public_ips: g
                    .nat_gateway_addresses()
                    .iter()
                    .filter_map(|a| a.public_ip().map(str::to_string))
                    .collect(),
                ..Default::default()
            }),
        ),
    )
}

async fn security_groups(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_security_groups()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeSecurityGroups", &[kind::SECURITY_GROUP]),
        pages,
        |p| p.security_groups(),
        normalize_security_group,
    )
}

pub fn normalize_security_group(ctx: &Ctx, g: &t::SecurityGroup) -> Option<Resource> {
    let id = g.group_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("security-group/{id}")),
            g.group_name().map(str::to_string),
            ec2_tags(g.tags()),
            Attrs::SecurityGroup(SecurityGroup {
                group_id: Some(id.to_string()),
                group_name: g.group_name().map(str::to_string),
                vpc_id: g.vpc_id().map(str::to_string),
                ingress: Some(
                    g.ip_permissions()
                        .iter()
                        .map(normalize_permission)
                        .collect(),
                ),
                egress: Some(
                    g.ip_permissions_egress()
                        .iter()
                        .map(normalize_permission)
                        .collect(),
                ),
            }),
        ),
    )
}

pub fn normalize_permission(p: &t::IpPermission) -> Permission {
    let all = p.ip_protocol() == Some("-1");
    Permission {
        ip_protocol: p.ip_protocol().map(str::to_string),
        // Ports mean nothing for "all protocols"; AWS may still send -1/-1 or 0/65535.
        from_port: if all {
            None
        } else {
            p.from_port().map(i64::from)
        },
        to_port: if all {
            None
        } else {
            p.to_port().map(i64::from)
        },
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        source_security_group_ids: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|l| l.prefix_list_id().map(str::to_string))
            .collect(),
    }
}

async fn network_acls(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_network_acls()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (SERVICE, "DescribeNetworkAcls", &[kind::NETWORK_ACL]),
        pages,
        |p| p.network_acls(),
        normalize_network_acl,
    )
}

pub fn normalize_network_acl(ctx: &Ctx, a: &t::NetworkAcl) -> Option<Resource> {
    let id = a.network_acl_id()?;
    // An entry missing its number, direction, protocol or action cannot be evaluated: the whole
    // entry list becomes unknown rather than silently shorter.
    let entries: Option<Vec<NaclEntry>> = a
        .entries()
        .iter()
        .map(|e| {
            Some(NaclEntry {
                rule_number: i64::from(e.rule_number()?),
                egress: e.egress()?,
                protocol: e.protocol()?.to_string(),
                rule_action: e.rule_action()?.as_str().to_string(),
                cidr_block: e.cidr_block().map(str::to_string),
                ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                from_port: e.port_range().and_then(|p| p.from()).map(i64::from),
                to_port: e.port_range().and_then(|p| p.to()).map(i64::from),
            })
        })
        .collect();
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("network-acl/{id}")),
            None,
            ec2_tags(a.tags()),
            Attrs::NetworkAcl(NetworkAcl {
                network_acl_id: Some(id.to_string()),
                vpc_id: a.vpc_id().map(str::to_string),
                is_default: a.is_default(),
                subnet_ids: a
                    .associations()
                    .iter()
                    .filter_map(|x| x.subnet_id().map(str::to_string))
                    .collect(),
                entries,
            }),
        ),
    )
}

async fn network_interfaces(client: &Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_network_interfaces()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await;
    Part::from_pages(
        ctx,
        (
            SERVICE,
            "DescribeNetworkInterfaces",
            &[kind::NETWORK_INTERFACE],
        ),
        pages,
        |p| p.network_interfaces(),
        normalize_network_interface,
    )
}

/// The public IPv4 addresses associated with an interface: each private address's association
/// (an Elastic IP or one assigned at launch) and the interface's own.
fn interface_public_ips<'a>(
    own: Option<&'a str>,
    per_private: impl Iterator<Item = Option<&'a str>>,
) -> Vec<String> {
    let mut ips: Vec<String> = own
        .into_iter()
        .chain(per_private.flatten())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// The addresses and groups of an interface, from either shape the SDK gives it (a VPC's
/// interface or an instance's): the types differ, their accessors do not. A missing group list
/// is unknown, not "no groups".
macro_rules! interface_addresses {
    ($n:expr) => {{
        let n = $n;
        (
            n.private_ip_addresses()
                .iter()
                .filter_map(|p| p.private_ip_address().map(str::to_string))
                .collect::<Vec<_>>(),
            interface_public_ips(
                n.association().and_then(|a| a.public_ip()),
                n.private_ip_addresses()
                    .iter()
                    .map(|p| p.association().and_then(|a| a.public_ip())),
            ),
            n.ipv6_addresses()
                .iter()
                .filter_map(|a| a.ipv6_address().map(str::to_string))
                .collect::<Vec<_>>(),
            n.groups.as_ref().map(|g| {
                g.iter()
                    .filter_map(|g| g.group_id().map(str::to_string))
                    .collect::<Vec<_>>()
            }),
        )
    }};
}

pub fn normalize_network_interface(ctx: &Ctx, n: &t::NetworkInterface) -> Option<Resource> {
    let id = n.network_interface_id()?;
    let (private_ip_addresses, public_ips, ipv6_addresses, security_group_ids) =
        interface_addresses!(n);
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("network-interface/{id}")),
            None,
            ec2_tags(n.tag_set()),
            Attrs::NetworkInterface(NetworkInterface {
                network_interface_id: Some(id.to_string()),
                vpc_id: n.vpc_id().map(str::to_string),
                subnet_id: n.subnet_id().map(str::to_string),
                interface_type: n.interface_type().map(|t| t.as_str().to_string()),
                requester_id: n.requester_id().map(str::to_string),
                requester_managed: n.requester_managed(),
                description: n.description().map(str::to_string),
                status: n.status().map(|s| s.as_str().to_string()),
                attached_instance_id: n
                    .attachment()
                    .and_then(|a| a.instance_id())
                    .map(str::to_string),
                private_ip_addresses,
                public_ips,
                ipv6_addresses,
                security_group_ids,
            }),
        ),
    )
}

async fn instances_and_volumes(client: &Client, ctx: &Ctx) -> Part {
    let mut part = Part::default();
    let instances = match client
        .describe_instances()
        .set_filters(vpc_filter(ctx, "vpc-id"))
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await
    {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .filter_map(|i| normalize_instance(ctx, i))
            .collect::<Vec<_>>(),
        Err(e) => {
            part.errors.push(ctx.error(
                SERVICE,
                "DescribeInstances",
                &[kind::INSTANCE, kind::VOLUME],
                &e,
            ));
            return part;
        }
    };
    let ids: Vec<String> = instances
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::Instance(i) => i.instance_id.clone(),
            _ => None,
        })
        .collect();
    part.resources.extend(instances);
    // The estate's volumes are those attached to its instances; a filter takes at most 200 values.
    for chunk in ids.chunks(200) {
        match client
            .describe_volumes()
            .filters(filter("attachment.instance-id", chunk.iter().cloned()))
            .into_paginator()
            .send()
            .all_pages(|p| p.next_token())
            .await
        {
            Ok(pages) => part.resources.extend(
                pages
                    .iter()
                    .flat_map(|p| p.volumes())
                    .filter_map(|v| normalize_volume(ctx, v)),
            ),
            Err(e) => {
                part.errors
                    .push(ctx.error(SERVICE, "DescribeVolumes", &[kind::VOLUME], &e));
                break;
            }
        }
    }
    part
}

pub fn normalize_instance(ctx: &Ctx, i: &t::Instance) -> Option<Resource> {
    let id = i.instance_id()?;
    // Groups appear on the instance and on each network interface; the union is the truth when
    // either list is incomplete.
    let mut sgs: Vec<String> = i
        .security_groups()
        .iter()
        .chain(i.network_interfaces().iter().flat_map(|n| n.groups()))
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    sgs.sort();
    sgs.dedup();
    // Neither list in the answer: unknown, not "no groups".
    let listed =
        i.security_groups.is_some() || i.network_interfaces().iter().any(|n| n.groups.is_some());
    let state = i
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string());
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("instance/{id}")),
            None,
            ec2_tags(i.tags()),
            Attrs::Instance(Instance {
                instance_id: Some(id.to_string()),
                vpc_id: i.vpc_id().map(str::to_string),
                subnet_id: i.subnet_id().map(str::to_string),
                state,
                instance_type: i.instance_type().map(|t| t.as_str().to_string()),
                has_public_ip: Some(i.public_ip_address().is_some_and(|a| !a.is_empty())),
                public_ip_address: i.public_ip_address().map(str::to_string),
                ipv6_addresses: i
                    .network_interfaces()
                    .iter()
                    .flat_map(|n| n.ipv6_addresses())
                    .filter_map(|a| a.ipv6_address().map(str::to_string))
                    .collect(),
                private_ip_address: i.private_ip_address().map(str::to_string),
                security_group_ids: listed.then_some(sgs),
                network_interfaces: instance_interfaces(i),
                metadata_options: i.metadata_options().map(|m| MetadataOptions {
                    http_tokens: m.http_tokens().map(|t| t.as_str().to_string()),
                    http_endpoint: m.http_endpoint().map(|t| t.as_str().to_string()),
                    http_put_response_hop_limit: m.http_put_response_hop_limit().map(i64::from),
                }),
                volume_ids: i
                    .block_device_mappings()
                    .iter()
                    .filter_map(|b| b.ebs().and_then(|e| e.volume_id()).map(str::to_string))
                    .collect(),
                ..Default::default()
            }),
        ),
    )
}

/// Every interface of an instance, the primary first. An instance always has one: an answer
/// without any (cut off, or from an endpoint that leaves them out) leaves them unknown.
fn instance_interfaces(i: &t::Instance) -> Option<Vec<InstanceInterface>> {
    if i.network_interfaces().is_empty() {
        return None;
    }
    let mut ifs: Vec<InstanceInterface> = i
        .network_interfaces()
        .iter()
        .map(|n| {
            let (private_ip_addresses, public_ips, ipv6_addresses, security_group_ids) =
                interface_addresses!(n);
            InstanceInterface {
                network_interface_id: n.network_interface_id().map(str::to_string),
                subnet_id: n.subnet_id().map(str::to_string),
                device_index: n.attachment().and_then(|a| a.device_index()).map(i64::from),
                private_ip_addresses,
                public_ips,
                ipv6_addresses,
                security_group_ids,
                subnet_tier: None,
            }
        })
        .collect();
    ifs.sort_by_key(|n| n.device_index.unwrap_or(i64::MAX));
    Some(ifs)
}

pub fn normalize_volume(ctx: &Ctx, v: &t::Volume) -> Option<Resource> {
    let id = v.volume_id()?;
    Some(
        ctx.resource(
            ctx.arn("ec2", &format!("volume/{id}")),
            None,
            ec2_tags(v.tags()),
            Attrs::Volume(Volume {
                volume_id: Some(id.to_string()),
                encrypted: v.encrypted(),
                kms_key_id: v.kms_key_id().map(str::to_string),
                state: v.state().map(|s| s.as_str().to_string()),
                attached_instance_ids: v
                    .attachments()
                    .iter()
                    .filter_map(|a| a.instance_id().map(str::to_string))
                    .collect(),
            }),
        ),
    )
}
