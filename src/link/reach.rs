//! Reachability from the internet with the path as evidence: for each of a resource's subnets and
//! each address family, address → route to an internet gateway → security-group entry admitting
//! the internet → network ACL, one hop at a time. The first hop, what public address a resource
//! of its kind has, is the caller's. It must not guess: a hop whose input is missing is unknown,
//! and an unknown path (with no other reaching) leaves the answer unknown, never "not
//! reachable".

use super::index::SubnetInfo;
use super::net::{self, AclVerdict, Family};
use super::Ctx;
use crate::model::*;

impl Ctx<'_> {
    /// One address hop per subnet and family: `Ok(Some(evidence))` the resource has an address the
    /// internet can reach, `Ok(None)` unknown, `Err(reason)` it has none.
    pub(super) fn reachability(
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
                            ..Default::default()
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
            ..Default::default()
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

impl Ctx<'_> {
    /// The most exposed of several ways (each named): reachable if any is, unknown if none is
    /// and any is unknown, else not reachable with the first way's path. The path names the way.
    pub(super) fn most_exposed(
        &self,
        ways: impl Iterator<Item = (String, Option<Reachability>)>,
    ) -> Option<Reachability> {
        let mut blocked: Option<Reachability> = None;
        let mut unknown = false;
        let mut open: Vec<(String, Reachability)> = Vec::new();
        for (name, reach) in ways {
            match reach {
                Some(r) if r.reachable => open.push((name, r)),
                Some(r) => {
                    if blocked.is_none() {
                        let mut path = vec![format!("{name}:")];
                        path.extend(r.path);
                        blocked = Some(Reachability {
                            reachable: false,
                            path,
                            ..Default::default()
                        });
                    }
                }
                None => unknown = true,
            }
        }
        if let Some((name, first)) = open.first() {
            let mut path = vec![format!("{name}:")];
            path.extend(first.path.iter().cloned());
            return Some(Reachability {
                reachable: true,
                path,
                ways: open
                    .iter()
                    .take(Reachability::WAYS_MAX)
                    .map(|(n, r)| format!("{n}: {}", r.path.join(" → ")))
                    .collect(),
                ways_total: open.len(),
            });
        }
        if unknown {
            return None;
        }
        // No way at all (an instance without interfaces): nothing reaches it.
        Some(blocked.unwrap_or_else(|| Reachability {
            reachable: false,
            path: vec!["no network interface".into()],
            ..Default::default()
        }))
    }

    /// A resource's reachability with the ways in through load balancers added: reachable when
    /// a way is open; unknown when the direct answer is not "reachable" and a way (or the load
    /// balancers as a whole) is unknown.
    pub(super) fn with_edge(&self, id: &str, direct: Option<Reachability>) -> Option<Reachability> {
        let ways = self
            .edge_ways
            .by_target
            .get(id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let open: Vec<&str> = ways
            .iter()
            .filter(|w| w.open == Some(true))
            .map(|w| w.text.as_str())
            .collect();
        let undecided = ways.iter().any(|w| w.open.is_none()) || self.edge_ways.unknown.is_some();
        match direct {
            Some(mut d) if d.reachable || !open.is_empty() => {
                if !d.reachable {
                    d.path = vec![open[0].to_string()];
                    d.ways.clear();
                    d.ways_total = 0;
                }
                d.reachable = true;
                if d.ways.is_empty() && d.ways_total == 0 && !d.path.is_empty() {
                    d.ways.push(d.path.join(" → "));
                    d.ways_total = 1;
                }
                d.ways_total += open.len();
                for w in open {
                    if d.ways.len() < Reachability::WAYS_MAX && !d.ways.iter().any(|x| x == w) {
                        d.ways.push(w.to_string());
                    }
                }
                Some(d)
            }
            Some(d) if undecided => {
                let _ = d;
                None
            }
            None if !open.is_empty() => Some(Reachability {
                reachable: true,
                path: vec![open[0].to_string()],
                ways: open
                    .iter()
                    .take(Reachability::WAYS_MAX)
                    .map(|w| w.to_string())
                    .collect(),
                ways_total: open.len(),
            }),
            other => other,
        }
    }

    /// An ECS service's reachability with its tasks' own interfaces added (an address given to
    /// a task's interface by hand counts as much as one assigned at launch).
    pub(super) fn with_tasks(
        &self,
        id: &str,
        direct: Option<Reachability>,
    ) -> Option<Reachability> {
        let Some(groups) = self.interface_groups_of.get(id) else {
            return direct;
        };
        // Each group of interfaces (one placement's tasks) is judged once, whichever service
        // asks: services sharing a placement share the answer.
        let tasks = merge_exposure(groups.iter().map(|&g| self.group_exposure(g)));
        match (direct, tasks) {
            (Some(d), _) if d.reachable => Some(d),
            (_, Some(t)) if t.reachable => Some(t),
            (Some(d), Some(_)) => Some(d),
            _ => None,
        }
    }
}

impl Ctx<'_> {
    /// The most exposed interface of interface group `g`, found once.
    fn group_exposure(&self, g: usize) -> Option<Reachability> {
        let lock = || {
            self.group_exposure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        };
        if let Some(r) = lock().get(&g) {
            return r.clone();
        }
        let ifs = self
            .interface_groups
            .get(g)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let found = self.most_exposed(ifs.iter().map(|n| {
            let subnets = n.subnet_id.clone().map(|s| vec![s]);
            let ingress = self.ingress(n.security_group_ids.as_deref());
            let reach = self.reachability(subnets.as_deref(), ingress.as_deref(), &|_, fam| {
                let addr = match fam {
                    Family::V4 => n.public_ips.first(),
                    Family::V6 => n.ipv6_addresses.first(),
                };
                match addr {
                    Some(a) => Hop::Pass(format!("address {a}")),
                    None => Hop::Block("no public address".into()),
                }
            });
            (
                format!(
                    "task interface {}",
                    n.network_interface_id.as_deref().unwrap_or("?")
                ),
                reach,
            )
        }));
        lock().insert(g, found.clone());
        found
    }
}

/// The answers of several groups as one: reachable when one is (its path, every group's ways,
/// their totals summed), unknown when one is unknown and none reachable, else the first
/// blocked.
fn merge_exposure(answers: impl Iterator<Item = Option<Reachability>>) -> Option<Reachability> {
    let mut open: Option<Reachability> = None;
    let mut blocked: Option<Reachability> = None;
    let mut unknown = false;
    for a in answers {
        match a {
            Some(r) if r.reachable => match &mut open {
                None => open = Some(r),
                Some(o) => {
                    let room = Reachability::WAYS_MAX.saturating_sub(o.ways.len());
                    o.ways.extend(r.ways.into_iter().take(room));
                    o.ways_total += r.ways_total;
                }
            },
            Some(r) => {
                blocked.get_or_insert(r);
            }
            None => unknown = true,
        }
    }
    match (open, unknown) {
        (Some(o), _) => Some(o),
        (None, true) => None,
        (None, false) => blocked,
    }
}

/// One hop's verdict.
pub(super) enum Hop {
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
pub(super) fn is_igw_route(r: &Route) -> bool {
    let igw = match r.target_type.as_deref() {
        Some(t) => t == "internet_gateway",
        None => r
            .target_id
            .as_deref()
            .is_some_and(|t| t.starts_with("igw-")),
    };
    igw && r.state.as_deref() != Some("blackhole")
}

pub(super) fn dual_stack_hop(s: Option<&Subnet>) -> Hop {
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
