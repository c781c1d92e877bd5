//! Address arithmetic and packet-filter evaluation for `link`: CIDR parsing, range sets (the
//! Cloudflare ranges, the private address space), security-group permissions normalised into
//! [`Ingress`] entries, and network ACL evaluation (rules in number order, first match wins).
//! It owns no inventory lookups: callers pass the groups, tables and ACLs in, so every function
//! here is testable on its own. It must not treat unparseable input as harmless: a source we
//! cannot parse counts as internet, an ACL we cannot read is the caller's `None`.

use ipnet::IpNet;

use crate::model::{Ingress, NaclEntry, Permission};

/// IPv4 or IPv6, for the per-family reachability paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn all(self) -> &'static str {
        match self {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        }
    }
}

/// A CIDR (or bare address) as an inclusive interval in a 128-bit space per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub family: Family,
    pub lo: u128,
    pub hi: u128,
}

impl Span {
    pub fn contains(&self, o: &Span) -> bool {
        self.family == o.family && self.lo <= o.lo && o.hi <= self.hi
    }
    pub fn overlaps(&self, o: &Span) -> bool {
        self.family == o.family && self.lo <= o.hi && o.lo <= self.hi
    }
    pub fn has(&self, family: Family, addr: u128) -> bool {
        self.family == family && self.lo <= addr && addr <= self.hi
    }
}

/// Parses `10.0.0.0/16`, `2400:cb00::/32` or a bare address (a host route).
pub fn parse_span(s: &str) -> Option<Span> {
    let s = s.trim();
    let net: IpNet = s
        .parse()
        .ok()
        .or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))?;
    Some(match net {
        IpNet::V4(n) => Span {
            family: Family::V4,
            lo: u32::from(n.network()) as u128,
            hi: u32::from(n.broadcast()) as u128,
        },
        IpNet::V6(n) => Span {
            family: Family::V6,
            lo: u128::from(n.network()),
            hi: u128::from(n.broadcast()),
        },
    })
}

/// A union of CIDRs, merged into disjoint sorted intervals so that containment in the union (not
/// just in one member) is decided exactly: 104.16.0.0/13 + 104.24.0.0/14 contain 104.20.0.0/14.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeSet {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl RangeSet {
    pub fn new<'a>(cidrs: impl IntoIterator<Item = &'a str>) -> RangeSet {
        let mut set = RangeSet::default();
        for span in cidrs.into_iter().filter_map(parse_span) {
            match span.family {
                Family::V4 => set.v4.push((span.lo, span.hi)),
                Family::V6 => set.v6.push((span.lo, span.hi)),
            }
        }
        set.normalise();
        set
    }

    /// Every address of both families.
    pub fn all() -> RangeSet {
        RangeSet {
            v4: vec![(0, u128::from(u32::MAX))],
            v6: vec![(0, u128::MAX)],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn union(&self, o: &RangeSet) -> RangeSet {
        let mut out = RangeSet {
            v4: self.v4.iter().chain(&o.v4).copied().collect(),
            v6: self.v6.iter().chain(&o.v6).copied().collect(),
        };
        out.normalise();
        out
    }

    /// The addresses of `self` that are not in `o`.
    pub fn minus(&self, o: &RangeSet) -> RangeSet {
        fn sub(a: &[(u128, u128)], b: &[(u128, u128)]) -> Vec<(u128, u128)> {
            let mut out = Vec::new();
            for &(mut lo, hi) in a {
                let mut open = true;
                for &(blo, bhi) in b {
                    if bhi < lo || blo > hi {
                        continue;
                    }
                    if blo > lo {
                        out.push((lo, blo - 1));
                    }
                    if bhi >= hi {
                        open = false;
                        break;
                    }
                    lo = bhi + 1;
                }
                if open {
                    out.push((lo, hi));
                }
            }
            out
        }
        RangeSet {
            v4: sub(&self.v4, &o.v4),
            v6: sub(&self.v6, &o.v6),
        }
    }

    pub fn intersect(&self, o: &RangeSet) -> RangeSet {
        self.minus(&self.minus(o))
    }

    /// Every address of `self` is in `o`.
    pub fn within(&self, o: &RangeSet) -> bool {
        self.minus(o).is_empty()
    }

    /// The set for people: `0.0.0.0/0, ::/0` when it is everything of a family, else its
    /// intervals (`104.16.0.0–104.31.255.255`), at most eight of each family.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (fam, v, all) in [
            (Family::V4, &self.v4, u128::from(u32::MAX)),
            (Family::V6, &self.v6, u128::MAX),
        ] {
            if v.as_slice() == [(0, all)] {
                parts.push(fam.all().to_string());
                continue;
            }
            let addr = |x: u128| match fam {
                Family::V4 => std::net::Ipv4Addr::from(x as u32).to_string(),
                Family::V6 => std::net::Ipv6Addr::from(x).to_string(),
            };
            for &(lo, hi) in v.iter().take(8) {
                parts.push(if lo == hi {
                    addr(lo)
                } else {
                    format!("{}–{}", addr(lo), addr(hi))
                });
            }
            if v.len() > 8 {
                parts.push(format!("and {} more ranges", v.len() - 8));
            }
        }
        if parts.is_empty() {
            "nowhere".into()
        } else {
            parts.join(", ")
        }
    }

    fn normalise(&mut self) {
        for v in [&mut self.v4, &mut self.v6] {
            v.sort_unstable();
            let mut merged: Vec<(u128, u128)> = Vec::with_capacity(v.len());
            for &(lo, hi) in v.iter() {
                match merged.last_mut() {
                    Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                    _ => merged.push((lo, hi)),
                }
            }
            *v = merged;
        }
    }

    /// The whole span lies inside the union.
    pub fn contains(&self, s: &Span) -> bool {
        let v = match s.family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        // Merged intervals are disjoint and non-adjacent: one of them must hold all of `s`.
        let i = v.partition_point(|&(lo, _)| lo <= s.lo);
        i > 0 && v[i - 1].1 >= s.hi
    }
}

/// Addresses that are not reachable from the public internet (RFC 1918, CGNAT, loopback,
/// link-local, unique-local). A source entirely inside them is not "the internet".
fn private_space() -> &'static RangeSet {
    static SET: std::sync::OnceLock<RangeSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        RangeSet::new([
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ])
    })
}

/// The source holds at least one public internet address. Unparseable text counts as internet:
/// a rule we cannot read must not look safe.
pub fn is_internet(cidr: &str) -> bool {
    match parse_span(cidr) {
        Some(s) => !private_space().contains(&s),
        None => true,
    }
}

/// Normalises an EC2 protocol to the name used in [`Ingress::protocol`].
pub fn protocol_name(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".into(),
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        other => other.to_string(),
    }
}

/// The IANA number NACL entries use.
fn protocol_number(name: &str) -> String {
    match name {
        "tcp" => "6".into(),
        "udp" => "17".into(),
        "icmp" => "1".into(),
        "icmpv6" => "58".into(),
        other => other.to_string(),
    }
}

/// What the caller knows about the source of an ingress entry beyond the permission itself.
pub trait SourceFacts {
    /// Tiers of a source CIDR (estate subnets it overlaps, plus `external`).
    /// `None` when they are unknown (the subnets could not be read).
    fn cidr_tiers(&self, cidr: &str) -> Option<Vec<String>>;
    /// Tiers of the subnets of resources using a security group; `None` when a user of the
    /// group, or its subnets, could not be read.
    fn sg_tiers(&self, sg: &str) -> Option<Vec<String>>;
    /// Spec components using a security group; `None` when a possible user could not be read.
    fn sg_components(&self, sg: &str) -> Option<Vec<String>>;
}

/// One entry per source of each permission. `None` when a permission's protocol is unknown
/// (null means unknown: we do not guess which traffic it admits).
pub fn ingress_entries(
    sg_id: &str,
    perms: &[Permission],
    facts: &dyn SourceFacts,
) -> Option<Vec<Ingress>> {
    let mut out = Vec::new();
    for p in perms {
        let protocol = protocol_name(p.ip_protocol.as_deref()?);
        let (from, to) = match protocol.as_str() {
            "all" => (0, 65535),
            "tcp" | "udp" => match (p.from_port, p.to_port) {
                (Some(f), Some(t)) if f >= 0 && t >= 0 => (f, t),
                _ => (0, 65535),
            },
            // ICMP: type and code as given; -1 (all) stays -1.
            _ => (p.from_port.unwrap_or(-1), p.to_port.unwrap_or(-1)),
        };
        let base = Ingress {
            security_group_id: sg_id.to_string(),
            protocol,
            from_port: from,
            to_port: to,
            ..Default::default()
        };
        for c in &p.ipv4_ranges {
            out.push(Ingress {
                source_type: "cidr".into(),
                source: c.clone(),
                source_is_internet: is_internet(c),
                source_tiers: facts.cidr_tiers(c),
                // A CIDR names no component (components are told by their groups).
                source_components: Some(Vec::new()),
                ..base.clone()
            });
        }
        for c in &p.ipv6_ranges {
            out.push(Ingress {
                source_type: "ipv6_cidr".into(),
                source: c.clone(),
                source_is_internet: is_internet(c),
                source_tiers: facts.cidr_tiers(c),
                // A CIDR names no component (components are told by their groups).
                source_components: Some(Vec::new()),
                ..base.clone()
            });
        }
        for g in &p.source_security_group_ids {
            out.push(Ingress {
                source_type: "security_group".into(),
                source: g.clone(),
                source_is_internet: false,
                source_tiers: facts.sg_tiers(g),
                source_components: facts.sg_components(g),
                ..base.clone()
            });
        }
        for pl in &p.prefix_list_ids {
            // The prefix list's content is not collected: assume the worst.
            out.push(Ingress {
                source_type: "prefix_list".into(),
                source: pl.clone(),
                source_is_internet: true,
                source_tiers: Some(vec!["external".into()]),
                source_components: Some(Vec::new()),
                ..base.clone()
            });
        }
    }
    Some(out)
}

/// The families an ingress entry's source can be in.
pub fn entry_families(e: &Ingress) -> &'static [Family] {
    match e.source_type.as_str() {
        "cidr" => &[Family::V4],
        "ipv6_cidr" => &[Family::V6],
        _ => &[Family::V4, Family::V6],
    }
}

/// "tcp 5432", "tcp 0-65535", "all".
pub fn ports_text(protocol: &str, from: i64, to: i64) -> String {
    match protocol {
        "all" => "all traffic".into(),
        "tcp" | "udp" if from == to => format!("{protocol} {from}"),
        "tcp" | "udp" => format!("{protocol} {from}-{to}"),
        other => other.to_string(),
    }
}

fn nacl_entry_text(e: &NaclEntry) -> String {
    let proto = protocol_name(&e.protocol);
    let ports = match (e.from_port, e.to_port) {
        (Some(f), Some(t)) if proto == "tcp" || proto == "udp" => ports_text(&proto, f, t),
        _ if proto == "all" => "all traffic".into(),
        _ => proto,
    };
    let src = e
        .cidr_block
        .as_deref()
        .or(e.ipv6_cidr_block.as_deref())
        .unwrap_or("?");
    format!(
        "rule {} {} {} from {}",
        e.rule_number,
        if e.rule_action.eq_ignore_ascii_case("allow") {
            "allows"
        } else {
            "denies"
        },
        ports,
        src
    )
}

/// Outcome of asking a network ACL whether it lets an ingress entry's internet traffic in.
pub enum AclVerdict {
    /// The rule that admits some of the traffic.
    Allowed(String),
    /// Why nothing gets through: the rule that denies, or the implicit deny.
    Denied(String),
}

/// Evaluates inbound `entries` (one family) against the traffic an SG entry admits from the
/// internet: is there some source address, protocol and port, admitted by the SG entry, whose
/// first matching ACL rule allows it? Decision points are the boundaries of every ACL rule, so
/// checking each piece's first address/port is exact.
pub fn acl_admits(entries: &[NaclEntry], family: Family, sg: &Ingress) -> AclVerdict {
    let source = match sg.source_type.as_str() {
        "cidr" | "ipv6_cidr" => match parse_span(&sg.source) {
            Some(s) if s.family == family => s,
            Some(_) => return AclVerdict::Denied("source is of the other address family".into()),
            // Unparseable: assume the whole internet.
            None => parse_span(family.all()).expect("constant CIDR"),
        },
        _ => parse_span(family.all()).expect("constant CIDR"),
    };
    let mut rules: Vec<(&NaclEntry, Span)> = entries
        .iter()
        .filter(|e| !e.egress)
        .filter_map(|e| {
            let c = match family {
                Family::V4 => e.cidr_block.as_deref(),
                Family::V6 => e.ipv6_cidr_block.as_deref(),
            }?;
            Some((e, parse_span(c)?))
        })
        .filter(|(_, s)| s.overlaps(&source))
        .collect();
    rules.sort_by_key(|(e, _)| e.rule_number);

    let mut protos: Vec<String> = if sg.protocol == "all" {
        let mut p: Vec<String> = ["6", "17", "1", "58"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        p.extend(
            rules
                .iter()
                .map(|(e, _)| protocol_number(&protocol_name(&e.protocol)))
                .filter(|p| p != "all"),
        );
        p
    } else {
        vec![protocol_number(&sg.protocol)]
    };
    protos.sort();
    protos.dedup();

    let mut addrs = vec![source.lo];
    for (_, s) in &rules {
        for a in [s.lo, s.hi.saturating_add(1)] {
            if source.lo <= a && a <= source.hi {
                addrs.push(a);
            }
        }
    }
    addrs.sort_unstable();
    addrs.dedup();

    let mut first_deny: Option<String> = None;
    for proto in &protos {
        let ported = proto == "6" || proto == "17";
        let (pf, pt) = if ported {
            (sg.from_port.max(0), sg.to_port.min(65535))
        } else {
            (0, 0)
        };
        let mut ports = vec![pf];
        if ported {
            for (e, _) in &rules {
                for p in [e.from_port, e.to_port.map(|t| t + 1)]
                    .into_iter()
                    .flatten()
                {
                    if pf <= p && p <= pt {
                        ports.push(p);
                    }
                }
            }
        }
        ports.sort_unstable();
        ports.dedup();
        for &addr in &addrs {
            for &port in &ports {
                let hit = rules.iter().find(|(e, span)| {
                    let ep = protocol_number(&protocol_name(&e.protocol));
                    (ep == "all" || ep == *proto)
                        && span.has(family, addr)
                        && (!ported
                            || ep == "all"
                            || (e.from_port.is_none_or(|f| f <= port)
                                && e.to_port.is_none_or(|t| port <= t)))
                });
                match hit {
                    Some((e, _)) if e.rule_action.eq_ignore_ascii_case("allow") => {
                        return AclVerdict::Allowed(nacl_entry_text(e));
                    }
                    Some((e, _)) => {
                        first_deny.get_or_insert_with(|| nacl_entry_text(e));
                    }
                    None => {
                        first_deny.get_or_insert_with(|| "no rule allows it".into());
                    }
                }
            }
        }
    }
    AclVerdict::Denied(first_deny.unwrap_or_else(|| "no rule allows it".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_set_contains_across_merged_members() {
        let cf = RangeSet::new([
            "173.245.48.0/20",
            "103.21.244.0/22",
            "104.16.0.0/13",
            "104.24.0.0/14",
            "2400:cb00::/32",
            "2606:4700::/32",
        ]);
        let p = |s| parse_span(s).unwrap();
        assert!(cf.contains(&p("173.245.48.0/20")));
        assert!(cf.contains(&p("173.245.49.0/24")));
        assert!(cf.contains(&p("103.21.244.1")));
        assert!(cf.contains(&p("104.20.0.0/14")));
        assert!(!cf.contains(&p("104.16.0.0/12")));
        assert!(!cf.contains(&p("173.245.0.0/16")));
        assert!(!cf.contains(&p("0.0.0.0/0")));
        assert!(cf.contains(&p("2400:cb00:1::/48")));
        assert!(!cf.contains(&p("2400::/16")));
        assert!(!cf.contains(&p("::/0")));
    }

    #[test]
    fn internet_sources() {
        assert!(is_internet("0.0.0.0/0"));
        assert!(is_internet("::/0"));
        assert!(is_internet("203.0.113.7/32"));
        assert!(is_internet("0.0.0.0/1"));
        assert!(is_internet("not a cidr"));
        assert!(!is_internet("10.0.0.0/16"));
        assert!(!is_internet("172.16.0.0/12"));
        assert!(!is_internet("fd00::/8"));
    }

    fn entry(n: i64, allow: bool, proto: &str, cidr: &str, ports: Option<(i64, i64)>) -> NaclEntry {
        NaclEntry {
            rule_number: n,
            egress: false,
            protocol: proto.into(),
            rule_action: if allow { "allow" } else { "deny" }.into(),
            cidr_block: cidr.contains('.').then(|| cidr.to_string()),
            ipv6_cidr_block: cidr.contains(':').then(|| cidr.to_string()),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
        }
    }

    fn sg(proto: &str, from: i64, to: i64, src: &str) -> Ingress {
        Ingress {
            security_group_id: "sg-1".into(),
            protocol: proto.into(),
            from_port: from,
            to_port: to,
            source_type: if src.contains(':') {
                "ipv6_cidr"
            } else {
                "cidr"
            }
            .into(),
            source: src.into(),
            source_is_internet: true,
            ..Default::default()
        }
    }

    #[test]
    fn acl_first_match_wins() {
        let default = vec![
            entry(100, true, "-1", "0.0.0.0/0", None),
            entry(32767, false, "-1", "0.0.0.0/0", None),
        ];
        let v = acl_admits(&default, Family::V4, &sg("tcp", 5432, 5432, "0.0.0.0/0"));
        assert!(
            matches!(v, AclVerdict::Allowed(t) if t == "rule 100 allows all traffic from 0.0.0.0/0")
        );

        let deny_db = vec![
            entry(50, false, "6", "0.0.0.0/0", Some((5432, 5432))),
            entry(100, true, "6", "0.0.0.0/0", Some((443, 443))),
            entry(32767, false, "-1", "0.0.0.0/0", None),
        ];
        let v = acl_admits(&deny_db, Family::V4, &sg("tcp", 5432, 5432, "0.0.0.0/0"));
        assert!(matches!(v, AclVerdict::Denied(t) if t.starts_with("rule 50 denies tcp 5432")));
        // A wider SG range reaches the 443 allow.
        let v = acl_admits(&deny_db, Family::V4, &sg("tcp", 0, 65535, "0.0.0.0/0"));
        assert!(matches!(v, AclVerdict::Allowed(t) if t.starts_with("rule 100 allows tcp 443")));
        // Deny for part of the address space only: the rest gets through.
        let partial = vec![
            entry(10, false, "-1", "0.0.0.0/1", None),
            entry(20, true, "-1", "0.0.0.0/0", None),
        ];
        let v = acl_admits(&partial, Family::V4, &sg("tcp", 22, 22, "0.0.0.0/0"));
        assert!(matches!(v, AclVerdict::Allowed(_)));
        let v = acl_admits(&partial, Family::V4, &sg("tcp", 22, 22, "1.2.3.4/32"));
        assert!(matches!(v, AclVerdict::Denied(_)));
        // IPv6 traffic needs IPv6 rules.
        let v = acl_admits(&default, Family::V6, &sg("tcp", 22, 22, "::/0"));
        assert!(matches!(v, AclVerdict::Denied(t) if t == "no rule allows it"));
        let v6 = vec![entry(101, true, "-1", "::/0", None)];
        let v = acl_admits(&v6, Family::V6, &sg("tcp", 22, 22, "::/0"));
        assert!(matches!(v, AclVerdict::Allowed(_)));
    }
}
