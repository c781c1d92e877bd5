//! The edge of the network graph: load balancers as ways in. An internet-facing load balancer
//! that the internet reaches (public subnets routed to an internet gateway, its security groups
//! admitting the internet on a listener's port, the network ACLs letting it through) forwards to
//! its target groups' targets: instances, addresses (resolved to the interface, and so to the
//! database, cache, task or host that holds them), Lambda functions and other load balancers.
//! Each target that admits the load balancer on its port gets a way in, with the chain as
//! evidence (load balancer → listener → target group → target:port).
//!
//! It must not guess: a load balancer whose scheme, groups or subnets are unknown, a target group
//! whose targets could not be read, an address inside the VPC that no interface holds, make the
//! ways unknown, never absent, and `EdgeWays::unknown` says why.

use super::net::{self, Family, RangeSet};
use super::reach::Hop;
use super::ways::{EdgeWays, Upstream, Way};
use super::Ctx;
use crate::model::*;

/// What is in front of a load balancer's forwarding: the internet directly (`prefix` empty,
/// `reach` its own), or a way into it.
struct Via<'w> {
    reach: Option<(Reachability, RangeSet)>,
    prefix: String,
    front: Option<&'w Origin>,
    upstream: Option<&'w Upstream>,
}

/// One forwarding of a load balancer: to a target (of a type), on a port.
struct Forward<'a> {
    head: String,
    target_type: Option<&'a str>,
    target: &'a str,
    port: Option<i64>,
    protocol: &'static str,
}

/// A load balancer as the ways need it.
struct Balancer<'a> {
    id: &'a str,
    groups: Option<&'a [String]>,
    subnets: &'a [String],
    reach: Option<(Reachability, RangeSet)>,
    forwards: Vec<Forward<'a>>,
}

/// A listener, as the ways need it: its port and the transport that carries it.
struct Port {
    protocol: &'static str,
    port: i64,
    text: String,
}

fn transport(protocol: Option<&str>) -> &'static str {
    match protocol.unwrap_or("").to_ascii_uppercase().as_str() {
        "UDP" => "udp",
        "TCP_UDP" => "all",
        _ => "tcp",
    }
}

fn covers(e: &Ingress, protocol: &str, port: i64) -> bool {
    (e.protocol == "all" || protocol == "all" || e.protocol == protocol)
        && e.from_port <= port
        && port <= e.to_port
}

/// The entries that stand in for "no security group": a network load balancer without groups
/// filters nothing.
fn open_entries() -> Vec<Ingress> {
    [Family::V4, Family::V6]
        .into_iter()
        .map(|f| Ingress {
            security_group_id: "(no security group)".into(),
            protocol: "all".into(),
            from_port: 0,
            to_port: 65535,
            source_type: if f == Family::V4 { "cidr" } else { "ipv6_cidr" }.into(),
            source: f.all().into(),
            source_is_internet: true,
            source_tiers: Some(vec!["external".into()]),
            source_components: Some(Vec::new()),
        })
        .collect()
}

impl<'a> Ctx<'a> {
    /// Every way in through a load balancer of the inventory.
    pub(super) fn edge_ways(&self) -> EdgeWays {
        let mut out = EdgeWays::default();
        if self.any_errored(&[
            kind::LOAD_BALANCER,
            kind::TARGET_GROUP,
            kind::CLASSIC_LOAD_BALANCER,
        ]) {
            out.unknown = Some("the load balancers could not all be read".into());
        }
        let balancers: Vec<Balancer<'a>> = self
            .load_balancers
            .iter()
            .map(|&(r, lb)| self.v2_balancer(r, lb, &mut out))
            .chain(
                self.classic_load_balancers
                    .iter()
                    .map(|&(r, lb)| self.classic_balancer(r, lb)),
            )
            .collect();
        for b in &balancers {
            let direct = Via {
                reach: b.reach.clone(),
                prefix: String::new(),
                front: None,
                upstream: None,
            };
            for f in &b.forwards {
                self.add_target_way(&mut out, b, f, &direct);
            }
            out.balancers.insert(
                b.id.to_string(),
                (
                    b.reach.as_ref().map(|(r, _)| r.clone()),
                    b.forwards.iter().map(|f| f.head.clone()).collect(),
                ),
            );
        }
        self.api_ways(&mut out);
        self.chained_ways(&mut out, &balancers);
        out
    }

    /// A load balancer can be reached through something in front of it (an internal application
    /// load balancer behind a network one, an API's VPC link): what it forwards to is reached
    /// that way too. Chains are followed a few hops deep, each way once.
    fn chained_ways(&self, out: &mut EdgeWays, balancers: &[Balancer<'_>]) {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..4 {
            let mut work = Vec::new();
            for b in balancers {
                if b.reach.as_ref().is_some_and(|(r, _)| r.reachable) {
                    continue;
                }
                for w in out.by_target.get(b.id).into_iter().flatten() {
                    if seen.insert((b.id, w.text.clone())) {
                        work.push((b, w.clone()));
                    }
                }
            }
            if work.is_empty() {
                break;
            }
            for (b, w) in work {
                let via = Via {
                    reach: (w.open == Some(true)).then(|| {
                        (
                            Reachability {
                                reachable: true,
                                path: vec![w.text.clone()],
                                ..Default::default()
                            },
                            w.sources.clone().unwrap_or_default(),
                        )
                    }),
                    prefix: format!("{} → ", w.text),
                    front: w.front.as_ref(),
                    upstream: Some(&w.upstream),
                };
                for f in &b.forwards {
                    self.add_target_way(out, b, f, &via);
                }
            }
        }
    }

    /// The ways into load balancers through APIs' private integrations (VPC links): an API that
    /// can be called from the internet sends into the VPC, to the load balancers its link
    /// names, whatever their scheme.
    fn api_ways(&self, out: &mut EdgeWays) {
        if self.any_errored(&[kind::REST_API, kind::HTTP_API]) {
            out.unknown = Some(
                "the APIs could not all be read (a private integration reaches into the VPC)"
                    .into(),
            );
        }
        let private = |i: &&ApiIntegration| i.connection_type.as_deref() == Some("VPC_LINK");
        let has_private =
            |ints: Option<&[ApiIntegration]>| ints.into_iter().flatten().any(|i| private(&i));
        // Who can call an API is judged only for the APIs that reach into the VPC.
        let apis = self
            .rest_apis
            .iter()
            .filter(|(_, a)| has_private(a.integrations.as_deref()))
            .map(|&(r, a)| (self.rest_origin(r, a), a.integrations.as_deref()))
            .chain(
                self.http_apis
                    .iter()
                    .filter(|(_, a)| has_private(a.integrations.as_deref()))
                    .map(|&(r, a)| (self.http_origin(r, a), a.integrations.as_deref())),
            );
        for (front, integrations) in apis {
            for i in integrations.into_iter().flatten().filter(private) {
                let route = i.route.as_deref().unwrap_or("integration");
                let link = i.vpc_link.as_ref();
                let Some(lbs) = link.and_then(|l| l.load_balancer_arns.as_ref()) else {
                    out.unknown = Some(format!(
                        "where the private integration {route} of {} goes is unknown",
                        front.endpoint
                    ));
                    continue;
                };
                // Someone outside can call it: a way in, whether or not it is Cloudflare alone.
                let open = if !front.open_to.is_empty() {
                    Some(true)
                } else if front.why_unknown.is_some() {
                    None
                } else {
                    continue;
                };
                let id = link.and_then(|l| l.id.as_deref()).unwrap_or("?");
                let upstream = Upstream {
                    groups: link
                        .and_then(|l| l.security_group_ids.clone())
                        .unwrap_or_default(),
                    subnets: link.map(|l| l.subnet_ids.clone()).unwrap_or_default(),
                };
                for lb in lbs {
                    out.by_target.entry(lb.clone()).or_default().push(Way {
                        text: format!("{} → {route} → VPC link {id}", front.endpoint),
                        open,
                        sources: None,
                        front: Some(front.clone()),
                        upstream: upstream.clone(),
                    });
                }
            }
        }
    }

    /// A v2 load balancer with its reach and what it forwards to: the targets of every target
    /// group that routes for it (AWS lists the load balancers of each group, whichever listener
    /// or rule does the routing).
    fn v2_balancer(
        &self,
        r: &'a Resource,
        lb: &'a LoadBalancer,
        out: &mut EdgeWays,
    ) -> Balancer<'a> {
        let ports: Option<Vec<Port>> = lb.listeners.as_ref().map(|ls| {
            ls.iter()
                .filter_map(|l| {
                    let port = l.port?;
                    Some(Port {
                        protocol: transport(l.protocol.as_deref()),
                        port,
                        text: format!("listener {}:{port}", l.protocol.as_deref().unwrap_or("?")),
                    })
                })
                .collect()
        });
        let name = lb.load_balancer_name.as_deref().unwrap_or(r.id.as_str());
        let reach = self.balancer_reach(
            name,
            lb.scheme.as_deref(),
            &lb.subnet_ids,
            lb.security_group_ids.as_deref(),
            ports.as_deref(),
        );
        let listeners = ports
            .as_ref()
            .map(|p| {
                p.iter()
                    .map(|p| p.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "listeners unknown".into());
        let mut forwards = Vec::new();
        for (gr, g) in self
            .target_groups
            .values()
            .filter(|(_, g)| g.load_balancer_arns.contains(&r.id))
        {
            let Some(targets) = g.targets.as_ref() else {
                out.unknown = Some(format!(
                    "the targets of target group {} could not be read",
                    g.target_group_name.as_deref().unwrap_or(gr.id.as_str())
                ));
                continue;
            };
            for t in targets {
                let port = t.port.or(g.port);
                forwards.push(Forward {
                    head: format!(
                        "load balancer {name} ({}, {}) → {listeners} → target group {} → {}:{}",
                        lb.scheme.as_deref().unwrap_or("scheme unknown"),
                        lb.load_balancer_type.as_deref().unwrap_or("type unknown"),
                        g.target_group_name.as_deref().unwrap_or(gr.id.as_str()),
                        t.id,
                        port.map_or("?".into(), |p| p.to_string()),
                    ),
                    target_type: g.target_type.as_deref(),
                    target: &t.id,
                    port,
                    protocol: transport(g.protocol.as_deref()),
                });
            }
        }
        Balancer {
            id: &r.id,
            groups: lb.security_group_ids.as_deref(),
            subnets: &lb.subnet_ids,
            reach,
            forwards,
        }
    }

    /// A Classic load balancer: every listener forwards to every registered instance.
    fn classic_balancer(&self, r: &'a Resource, lb: &'a ClassicLoadBalancer) -> Balancer<'a> {
        let ports: Vec<Port> = lb
            .listeners
            .iter()
            .filter_map(|l| {
                let port = l.load_balancer_port?;
                Some(Port {
                    protocol: "tcp",
                    port,
                    text: format!("listener {}:{port}", l.protocol.as_deref().unwrap_or("?")),
                })
            })
            .collect();
        let name = lb.load_balancer_name.as_deref().unwrap_or(r.id.as_str());
        let reach = self.balancer_reach(
            name,
            lb.scheme.as_deref(),
            &lb.subnet_ids,
            lb.security_group_ids.as_deref(),
            Some(&ports),
        );
        let mut forwards = Vec::new();
        for l in &lb.listeners {
            for i in &lb.instance_ids {
                forwards.push(Forward {
                    head: format!(
                        "load balancer {name} ({}, classic) → listener {}:{} → {i}:{}",
                        lb.scheme.as_deref().unwrap_or("scheme unknown"),
                        l.protocol.as_deref().unwrap_or("?"),
                        l.load_balancer_port.map_or("?".into(), |p| p.to_string()),
                        l.instance_port.map_or("?".into(), |p| p.to_string()),
                    ),
                    target_type: Some("instance"),
                    target: i,
                    port: l.instance_port,
                    protocol: "tcp",
                });
            }
        }
        Balancer {
            id: &r.id,
            groups: lb.security_group_ids.as_deref(),
            subnets: &lb.subnet_ids,
            reach,
            forwards,
        }
    }

    /// Whether the internet reaches a load balancer, with the internet sources it admits on its
    /// listeners. `None`: unknown.
    fn balancer_reach(
        &self,
        name: &str,
        scheme: Option<&str>,
        subnets: &[String],
        groups: Option<&[String]>,
        ports: Option<&[Port]>,
    ) -> Option<(Reachability, RangeSet)> {
        match scheme {
            Some("internal") => {
                return Some((
                    Reachability {
                        reachable: false,
                        path: vec![format!("load balancer {name} is internal")],
                        ..Default::default()
                    },
                    RangeSet::default(),
                ))
            }
            Some("internet-facing") => {}
            _ => return None,
        }
        let ports = ports?;
        let entries: Vec<Ingress> = match groups {
            Some([]) => open_entries(),
            Some(g) => self.ingress(Some(g))?,
            None => return None,
        };
        // Only what a listener can receive counts.
        let admitted: Vec<Ingress> = entries
            .into_iter()
            .filter(|e| ports.iter().any(|p| covers(e, p.protocol, p.port)))
            .collect();
        let sources = RangeSet::new(
            admitted
                .iter()
                .filter(|e| e.source_is_internet)
                .map(|e| e.source.as_str()),
        );
        let reach = self.reachability(Some(subnets), Some(&admitted), &|_, fam| {
            Hop::Pass(format!(
                "internet-facing load balancer {name} ({})",
                if fam == Family::V4 { "IPv4" } else { "IPv6" }
            ))
        })?;
        Some((reach, sources))
    }

    /// Records the way to one target of a load balancer (`via`: what is in front of it): the
    /// target's resource, and whether its groups admit the load balancer (or, through a load
    /// balancer that filters nothing, what sends into it) on the target port.
    fn add_target_way(&self, out: &mut EdgeWays, b: &Balancer<'_>, f: &Forward<'_>, via: &Via<'_>) {
        let (reach, prefix) = (&via.reach, &via.prefix);
        let head = format!("{prefix}{}", f.head);
        let (target_type, target, port, protocol) = (f.target_type, f.target, f.port, f.protocol);
        let balancer = (b.groups, b.subnets);
        // A load balancer without groups filters nothing: its targets see what sends into it.
        let passes_on = matches!(b.groups, Some([]));
        let upstream = via.upstream.filter(|_| passes_on);
        let lb_open = match reach {
            Some((r, _)) if !r.reachable => return,
            Some(_) => Some(true),
            None => None,
        };
        let sources = reach.as_ref().map(|(_, s)| s.clone());
        // The resources the target is, and the groups that filter what reaches it.
        let (ids, groups): (Vec<String>, Option<Vec<String>>) = match target_type {
            // An instance target receives on its primary interface: that interface's groups.
            Some("instance") => match self.instances.get(target) {
                Some((r, i)) => {
                    let primary = i
                        .network_interfaces
                        .as_ref()
                        .and_then(|ifs| ifs.iter().find(|n| n.device_index == Some(0)))
                        .map(|n| n.security_group_ids.clone());
                    (
                        vec![r.id.clone()],
                        primary.unwrap_or_else(|| i.security_group_ids.clone()),
                    )
                }
                None => return,
            },
            Some("ip") => match self.interface_by_ip.get(target) {
                Some(n) => match self.user_of(n) {
                    Some(u) if !u.resource_ids.is_empty() => {
                        (u.resource_ids.to_vec(), n.security_group_ids.clone())
                    }
                    _ => return,
                },
                None => {
                    if self.in_estate_space(target) {
                        out.unknown = Some(format!(
                            "target {target} is an address of the estate VPC that no network \
                             interface of the inventory holds"
                        ));
                    }
                    return;
                }
            },
            Some("lambda") => {
                let base = function_arn(target);
                match self.lambdas.iter().find(|(r, _)| r.id == base) {
                    Some((r, _)) => (vec![r.id.clone()], Some(Vec::new())),
                    None => return,
                }
            }
            Some("alb") => (vec![target.to_string()], Some(Vec::new())),
            _ => {
                out.unknown = Some(format!("a target ({target}) of an unknown type"));
                return;
            }
        };
        let admits = match (&groups, port) {
            (Some(g), _) if g.is_empty() => Some(true),
            (Some(g), Some(port)) => self.ingress(Some(g)).map(|entries| {
                entries.iter().any(|e| {
                    covers(e, protocol, port)
                        && (self.admits_balancer(e, balancer.0, balancer.1)
                            || upstream.is_some_and(|u| {
                                self.admits_balancer(e, Some(&u.groups), &u.subnets)
                            }))
                })
            }),
            _ => None,
        };
        let open = match (lb_open, admits) {
            (_, Some(false)) => return,
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        // What the next hop sees the traffic come from: this load balancer, and what sends into
        // it when it filters nothing.
        let mut next = upstream.cloned().unwrap_or_default();
        next.groups.extend(b.groups.into_iter().flatten().cloned());
        next.subnets.extend(b.subnets.iter().cloned());
        for id in ids {
            out.by_target.entry(id).or_default().push(Way {
                text: head.clone(),
                open,
                sources: sources.clone(),
                front: via.front.cloned(),
                upstream: next.clone(),
            });
        }
    }

    /// A target's ingress entry lets a load balancer's traffic in: it names one of the load
    /// balancer's groups, covers one of its subnets, or admits the internet (a network load
    /// balancer keeps the client's address).
    fn admits_balancer(&self, e: &Ingress, groups: Option<&[String]>, subnets: &[String]) -> bool {
        if e.source_is_internet {
            return true;
        }
        match e.source_type.as_str() {
            "security_group" => groups.is_none_or(|g| g.contains(&e.source)),
            "cidr" | "ipv6_cidr" => {
                let Some(span) = net::parse_span(&e.source) else {
                    return true;
                };
                subnets.iter().any(|s| {
                    self.subnets.get(s.as_str()).is_none_or(|i| {
                        i.s.cidr_block
                            .iter()
                            .chain(&i.s.ipv6_cidr_blocks)
                            .filter_map(|c| net::parse_span(c))
                            .any(|c| c.overlaps(&span))
                    })
                })
            }
            _ => true,
        }
    }

    /// The address lies inside the estate VPC's ranges.
    fn in_estate_space(&self, ip: &str) -> bool {
        net::parse_span(ip).is_some_and(|s| self.estate_spans.iter().any(|e| e.contains(&s)))
    }
}

/// A function ARN without its qualifier (`…:function:name:alias` → `…:function:name`).
pub(super) fn function_arn(arn: &str) -> String {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() > 7 && parts[5] == "function" {
        parts[..7].join(":")
    } else {
        arn.to_string()
    }
}

impl Ctx<'_> {
    pub(super) fn load_balancer(&self, r: &Resource, l: &LoadBalancer) -> LoadBalancer {
        let (internet, forwards_to) = self.balancer_facts(&r.id);
        LoadBalancer {
            subnet_tiers: self.tiers_of(Some(&l.subnet_ids)),
            internet,
            forwards_to,
            ..l.clone()
        }
    }

    pub(super) fn classic_load_balancer(
        &self,
        r: &Resource,
        l: &ClassicLoadBalancer,
    ) -> ClassicLoadBalancer {
        let (internet, forwards_to) = self.balancer_facts(&r.id);
        ClassicLoadBalancer {
            subnet_tiers: self.tiers_of(Some(&l.subnet_ids)),
            internet,
            forwards_to,
            ..l.clone()
        }
    }

    /// A load balancer's own reachability (and a way in through another load balancer in front
    /// of it), and what it forwards to.
    fn balancer_facts(&self, id: &str) -> (Option<Reachability>, Option<Vec<String>>) {
        match self.edge_ways.balancers.get(id) {
            Some((reach, forwards)) => (
                self.with_edge(id, reach.clone()),
                Some(
                    forwards
                        .iter()
                        .take(Reachability::WAYS_MAX)
                        .cloned()
                        .collect(),
                ),
            ),
            None => (None, None),
        }
    }
}
