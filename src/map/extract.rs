//! The map taken from a linked inventory, in three passes over its resources: the subnets of the
//! estate VPC's tiers (the first few of each tier kept), what is placed in the kept subnets and
//! the rows outside them (each kept to its bound), then the edges between what is kept. Each
//! pass reads every resource once and keeps a bounded number of things, so a large estate costs
//! time in proportion and hardly any memory. It reads `link`'s derived facts (tiers, `internet`,
//! origins, the estate record) and never derives one itself.

use std::collections::{HashMap, HashSet};

use super::{
    Band, Edge, EdgeKind, EstateMap, Mark, Node, Row, SubnetBox, EDGES_MAX, INTERNET, MEMBERS_MAX,
    NOTES_MAX, ROW_MAX, SUBNETS_MAX,
};
use crate::model::{Attrs, FunctionUrl, Inventory, Reachability, Resource, Tier};

/// The map of one linked inventory, unmarked (every node [`Mark::NotJudged`]).
pub fn extract(inv: &Inventory) -> EstateMap {
    // Where each kept subnet sits: its band and its place in the band, by subnet id.
    let mut place: HashMap<String, (usize, usize)> = HashMap::new();
    let mut bands: Vec<(Tier, Capped<Node>, Vec<Capped<Node>>)> = Vec::new();
    for (b, (tier, kept)) in tier_subnets(inv).into_iter().enumerate() {
        let mut nodes = Capped::new(SUBNETS_MAX);
        nodes.more = kept.more;
        for (i, (n, short)) in kept.kept.into_iter().enumerate() {
            place.insert(short, (b, i));
            nodes.kept.push(n);
        }
        let slots = (0..nodes.kept.len())
            .map(|_| Capped::new(MEMBERS_MAX))
            .collect();
        bands.push((tier, nodes, slots));
    }
    let mut rows = Rows::default();
    for r in &inv.resources {
        let Some(p) = placement(r) else { continue };
        match p.at {
            At::Subnets(ids) => {
                let mut seen: Vec<&str> = Vec::new();
                for id in ids {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    if let Some(&(b, i)) = place.get(id) {
                        bands[b].2[i].push(p.node.clone());
                    }
                }
            }
            At::Cloudflare => rows.cloudflare.push(p.node),
            At::Entry => rows.entry.push(p.node),
            At::Outside => rows.outside.push(p.node),
        }
        if let Attrs::LambdaFunction(l) = &r.attrs {
            for u in urls(l) {
                rows.entry.push(url_node(r, l.function_name.as_deref(), u));
            }
        }
    }
    let tiers: Vec<Band> = bands
        .into_iter()
        .map(|(tier, kept, slots)| Band {
            tier,
            more: kept.more,
            subnets: kept
                .kept
                .into_iter()
                .zip(slots)
                .map(|(subnet, m)| SubnetBox {
                    subnet,
                    members: m.into_row(),
                })
                .collect(),
        })
        .collect();
    let mut map = EstateMap {
        cloudflare: rows.cloudflare.into_row(),
        entry: rows.entry.into_row(),
        tiers,
        outside: rows.outside.into_row(),
        ..EstateMap::default()
    };
    edges(inv, &mut map);
    notes(inv, &mut map);
    map
}

/// The first few of something in order, and how many more there were.
struct Capped<T: Ord> {
    kept: Vec<T>,
    max: usize,
    more: usize,
}

impl<T: Ord> Capped<T> {
    fn new(max: usize) -> Self {
        Capped {
            kept: Vec::new(),
            max,
            more: 0,
        }
    }

    /// Keeps `x` when it is among the first `max` so far; the same item twice counts once.
    fn push(&mut self, x: T) {
        let i = match self.kept.binary_search(&x) {
            Ok(_) => return,
            Err(i) => i,
        };
        if i >= self.max {
            self.more += 1;
            return;
        }
        self.kept.insert(i, x);
        if self.kept.len() > self.max {
            self.kept.pop();
            self.more += 1;
        }
    }
}

impl Capped<Node> {
    fn into_row(self) -> Row {
        Row {
            nodes: self.kept,
            more: self.more,
        }
    }
}

struct Rows {
    cloudflare: Capped<Node>,
    entry: Capped<Node>,
    outside: Capped<Node>,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            cloudflare: Capped::new(ROW_MAX),
            entry: Capped::new(ROW_MAX),
            outside: Capped::new(ROW_MAX),
        }
    }
}

fn node(rank: u8, label: &str, id: &str, what: String) -> Node {
    Node {
        rank,
        label: label.to_string(),
        id: id.to_string(),
        what,
        mark: Mark::NotJudged,
    }
}

/// The subnets `link` gave a tier (those of the estate VPC), each with its `subnet-…` id, the
/// first of each tier kept, the tiers in the spec's order.
fn tier_subnets(inv: &Inventory) -> Vec<(Tier, Capped<(Node, String)>)> {
    let mut tiers: Vec<(Tier, Capped<(Node, String)>)> = Vec::new();
    for r in &inv.resources {
        let Attrs::Subnet(s) = &r.attrs else { continue };
        let (Some(tier), Some(short)) = (s.tier, &s.subnet_id) else {
            continue;
        };
        let what = [s.availability_zone.as_deref(), s.cidr_block.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        let n = (node(0, r.display_name(), &r.id, what), short.clone());
        match tiers.iter_mut().find(|(t, _)| *t == tier) {
            Some((_, c)) => c.push(n),
            None => {
                let mut c = Capped::new(SUBNETS_MAX);
                c.push(n);
                tiers.push((tier, c));
            }
        }
    }
    tiers.sort_by_key(|(t, _)| *t);
    tiers
}

enum At<'a> {
    Subnets(Vec<&'a str>),
    Cloudflare,
    Entry,
    Outside,
}

struct Placement<'a> {
    at: At<'a>,
    node: Node,
}

/// Where a resource goes in the picture and how it is shown; `None` for what the map leaves out
/// (groups, route tables, alarms, topics: facts about the picture, not parts of it).
fn placement(r: &Resource) -> Option<Placement<'_>> {
    let name = r.display_name();
    let (rank, what, at) = match &r.attrs {
        Attrs::CloudflareZone(z) => {
            let state = match (z.status.as_deref(), z.paused) {
                (_, Some(true)) => "paused",
                (Some(s), _) => s,
                (None, _) => "status unknown",
            };
            (0, format!("Cloudflare zone · {state}"), At::Cloudflare)
        }
        Attrs::LoadBalancer(lb) => {
            let what = format!(
                "{} load balancer",
                match lb.load_balancer_type.as_deref() {
                    Some("application") => "Application",
                    Some("network") => "Network",
                    Some("gateway") => "Gateway",
                    _ => "Elastic",
                }
            );
            (
                1,
                what,
                edge_or_subnets(lb.scheme.as_deref(), &lb.subnet_ids),
            )
        }
        Attrs::ClassicLoadBalancer(lb) => (
            1,
            "Classic load balancer".into(),
            edge_or_subnets(lb.scheme.as_deref(), &lb.subnet_ids),
        ),
        Attrs::RestApi(_) => (2, "API Gateway REST API".into(), At::Entry),
        Attrs::HttpApi(a) => (
            2,
            format!(
                "API Gateway {} API",
                a.protocol_type.as_deref().unwrap_or("HTTP")
            ),
            At::Entry,
        ),
        Attrs::Instance(i) => {
            let mut ids: Vec<&str> = i
                .network_interfaces
                .iter()
                .flatten()
                .filter_map(|n| n.subnet_id.as_deref())
                .collect();
            ids.extend(i.subnet_id.as_deref());
            let what = if i.is_rabbitmq == Some(true) {
                "EC2 · RabbitMQ".to_string()
            } else {
                format!("EC2 {}", i.instance_type.as_deref().unwrap_or("instance"))
            };
            (1, what, At::Subnets(ids))
        }
        Attrs::EcsService(s) => {
            let tasks = match s.desired_count {
                Some(1) => " · 1 task".to_string(),
                Some(n) => format!(" · {n} tasks"),
                None => String::new(),
            };
            let role = if s.is_processor == Some(true) {
                " (processors)"
            } else {
                ""
            };
            let ids = s
                .network_configuration
                .iter()
                .flat_map(|n| n.subnet_ids.iter().map(String::as_str))
                .collect();
            (2, format!("ECS service{role}{tasks}"), At::Subnets(ids))
        }
        Attrs::LambdaFunction(l) => {
            let what = if l.is_webhook == Some(true) {
                "Lambda · webhook"
            } else {
                "Lambda"
            };
            let at = match &l.vpc_config {
                Some(v) if !v.subnet_ids.is_empty() => {
                    At::Subnets(v.subnet_ids.iter().map(String::as_str).collect())
                }
                _ => At::Outside,
            };
            (3, what.to_string(), at)
        }
        Attrs::DbInstance(d) => (
            4,
            format!("RDS {}", d.engine.as_deref().unwrap_or("database")),
            At::Subnets(d.subnet_ids.iter().flatten().map(String::as_str).collect()),
        ),
        Attrs::CacheCluster(c) => (
            5,
            format!("ElastiCache {}", c.engine.as_deref().unwrap_or("cluster")),
            At::Subnets(c.subnet_ids.iter().flatten().map(String::as_str).collect()),
        ),
        Attrs::NatGateway(n) => (
            6,
            "NAT gateway".to_string(),
            At::Subnets(n.subnet_id.as_deref().into_iter().collect()),
        ),
        _ => return None,
    };
    Some(Placement {
        at,
        node: node(rank, name, &r.id, what),
    })
}

fn edge_or_subnets<'a>(scheme: Option<&str>, subnets: &'a [String]) -> At<'a> {
    if scheme == Some("internet-facing") {
        At::Entry
    } else {
        At::Subnets(subnets.iter().map(String::as_str).collect())
    }
}

/// Every URL a function has (`function_urls`, else the unqualified `function_url`).
fn urls(l: &crate::model::LambdaFunction) -> impl Iterator<Item = &FunctionUrl> {
    let all: &[FunctionUrl] = match (&l.function_urls, &l.function_url) {
        (Some(v), _) => v,
        (None, Some(u)) => std::slice::from_ref(u),
        (None, None) => &[],
    };
    all.iter().filter(|u| u.configured)
}

/// A function URL's node id: the function's id and the qualifier, so that each URL is one node.
fn url_id(function: &str, u: &FunctionUrl) -> String {
    match &u.qualifier {
        Some(q) => format!("{function}#url:{q}"),
        None => format!("{function}#url"),
    }
}

fn url_node(r: &Resource, function: Option<&str>, u: &FunctionUrl) -> Node {
    let label = match &u.qualifier {
        Some(q) => format!("function URL ({q})"),
        None => "function URL".to_string(),
    };
    let what = format!(
        "{} · auth {}",
        function.unwrap_or(r.display_name()),
        u.auth_type.as_deref().unwrap_or("unknown")
    );
    node(3, &label, &url_id(&r.id, u), what)
}

/// The edges between shown nodes: the internet's paths, Cloudflare in front of the webhook's
/// origins, load balancers to their targets, APIs to their functions and load balancers, URLs
/// to their functions.
fn edges(inv: &Inventory, map: &mut EstateMap) {
    let shown: HashSet<String> = map
        .nodes()
        .map(|n| n.id.clone())
        .chain([INTERNET.to_string()])
        .collect();
    let estate_zones: Vec<&str> = inv
        .resources
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::CloudflareZone(z) if z.is_estate_zone == Some(true) => Some(r.id.as_str()),
            _ => None,
        })
        .collect();
    // Instance ids and function ARNs as load balancer targets name them.
    let mut targets: HashMap<&str, &str> = HashMap::new();
    // What a function's origins are called: the shown entry nodes by a word their text carries.
    let mut entry_words: Vec<(&str, &str)> = Vec::new();
    for r in &inv.resources {
        // The kind first: hashing every id of a large estate would cost more than the rest.
        let (target, word) = match &r.attrs {
            Attrs::Instance(i) => (i.instance_id.as_deref(), None),
            Attrs::LambdaFunction(_) => (Some(r.id.as_str()), None),
            Attrs::RestApi(a) => (None, a.api_id.as_deref()),
            Attrs::HttpApi(a) => (None, a.api_id.as_deref()),
            Attrs::LoadBalancer(lb) => (None, lb.load_balancer_name.as_deref()),
            _ => continue,
        };
        if !shown.contains(&r.id) {
            continue;
        }
        if let Some(t) = target {
            targets.insert(t, r.id.as_str());
        }
        if let Some(w) = word {
            entry_words.push((w, r.id.as_str()));
        }
    }
    let mut found = Found {
        shown: &shown,
        kept: Capped::new(EDGES_MAX),
    };
    for r in &inv.resources {
        if let Some(reach) = internet(r) {
            if reach.reachable {
                found.add(INTERNET, &r.id, EdgeKind::Internet);
            }
        }
        match &r.attrs {
            Attrs::CloudflareZone(z) if z.zone_active == Some(true) => {
                found.add(INTERNET, &r.id, EdgeKind::Proxied);
            }
            Attrs::TargetGroup(g) => {
                for t in g.targets.iter().flatten() {
                    let to = targets
                        .get(t.id.as_str())
                        .copied()
                        .or_else(|| targets.get(function_arn(&t.id)).copied());
                    for lb in &g.load_balancer_arns {
                        match to {
                            Some(to) => found.add(lb, to, EdgeKind::Forward),
                            None if shown.contains(lb) => found.kept.more += 1,
                            None => {}
                        }
                    }
                }
            }
            Attrs::RestApi(a) => api_edges(&mut found, &r.id, a.integrations.as_deref()),
            Attrs::HttpApi(a) => api_edges(&mut found, &r.id, a.integrations.as_deref()),
            Attrs::LambdaFunction(l) => {
                let mut served: Vec<String> = Vec::new();
                for u in urls(l) {
                    let id = url_id(&r.id, u);
                    found.add(&id, &r.id, EdgeKind::Forward);
                    if let Some(url) = &u.url {
                        origin_edges(&mut found, l, url, &id, &mut served);
                    }
                }
                for (word, id) in &entry_words {
                    origin_edges(&mut found, l, word, id, &mut served);
                }
                if l.is_webhook == Some(true) {
                    for e in &served {
                        for z in &estate_zones {
                            found.add(z, e, EdgeKind::Proxied);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    map.edges = found.kept.kept;
    map.edges_more = found.kept.more;
}

/// The edges found so far: only between shown nodes, the first [`EDGES_MAX`] in order.
struct Found<'a> {
    shown: &'a HashSet<String>,
    kept: Capped<Edge>,
}

impl Found<'_> {
    fn add(&mut self, from: &str, to: &str, kind: EdgeKind) {
        if self.shown.contains(from) && self.shown.contains(to) {
            self.kept.push(Edge {
                from: from.to_string(),
                to: to.to_string(),
                kind,
            });
        } else {
            self.kept.more += 1;
        }
    }
}

/// The origins of function `l` whose endpoint text carries `word` (a URL, an API id, a load
/// balancer name), as entry node `entry`: who reaches it from the internet, and the entry
/// noted as served (for Cloudflare in front of the webhook).
fn origin_edges(
    found: &mut Found<'_>,
    l: &crate::model::LambdaFunction,
    word: &str,
    entry: &str,
    served: &mut Vec<String>,
) {
    for o in l.origins.iter().flatten() {
        if !o.endpoint.contains(word) || o.served == Some(false) {
            continue;
        }
        match o.cloudflare_only {
            Some(true) => {}
            Some(false) => found.add(INTERNET, entry, EdgeKind::Internet),
            None => found.add(INTERNET, entry, EdgeKind::Unknown),
        }
        if !served.iter().any(|s| s == entry) {
            served.push(entry.to_string());
        }
    }
}

fn api_edges(
    found: &mut Found<'_>,
    api: &str,
    integrations: Option<&[crate::model::ApiIntegration]>,
) {
    for i in integrations.into_iter().flatten() {
        if let Some(f) = &i.function_arn {
            found.add(api, function_arn(f), EdgeKind::Forward);
        }
        for lb in i
            .vpc_link
            .iter()
            .flat_map(|v| v.load_balancer_arns.iter().flatten())
        {
            found.add(api, lb, EdgeKind::Forward);
        }
    }
}

/// A function ARN without its qualifier (`…:function:name:alias` → `…:function:name`).
fn function_arn(arn: &str) -> &str {
    let mut colons = arn.match_indices(':').map(|(i, _)| i);
    match (colons.nth(5), colons.next()) {
        (Some(_), Some(i)) if arn.split(':').nth(5) == Some("function") => &arn[..i],
        _ => arn,
    }
}

/// The `internet` fact of the kinds `link` gives one to.
fn internet(r: &Resource) -> Option<&Reachability> {
    match &r.attrs {
        Attrs::Instance(x) => x.internet.as_ref(),
        Attrs::DbInstance(x) => x.internet.as_ref(),
        Attrs::CacheCluster(x) => x.internet.as_ref(),
        Attrs::EcsService(x) => x.internet.as_ref(),
        Attrs::LoadBalancer(x) => x.internet.as_ref(),
        Attrs::ClassicLoadBalancer(x) => x.internet.as_ref(),
        _ => None,
    }
}

/// What the picture cannot show: spec components missing or unknown (the estate record) and
/// the parts of the estate not read.
fn notes(inv: &Inventory, map: &mut EstateMap) {
    let mut notes: Capped<String> = Capped::new(NOTES_MAX);
    for r in &inv.resources {
        if let Attrs::Estate(e) = &r.attrs {
            for c in &e.components_missing {
                notes.push(format!("missing: {c}"));
            }
            for c in &e.components_unknown {
                notes.push(format!("unknown whether present: {c}"));
            }
        }
    }
    for e in &inv.collection_errors {
        notes.push(format!("not read: {} ({:?})", e.service, e.kind));
    }
    map.notes = notes.kept;
    map.notes_more = notes.more;
}
