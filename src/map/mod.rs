//! The map of the estate (`estate-audit map`, the HTML report's "Map" section, the Markdown
//! report's Mermaid diagram): a small, plain picture model ([`EstateMap`]) taken from the
//! **linked** inventory before evaluation releases its resources (`extract`), marked afterwards
//! from the findings ([`EstateMap::mark`]), laid out once (`layout`: the same estate gives the same
//! coordinates) and written as SVG, Graphviz DOT or Mermaid (`svg`, `dot`, `mermaid`).
//!
//! It owns what the picture shows and how each medium escapes it: every name comes from the
//! audited estate and is untrusted. It must not judge (marks are the findings' statuses, never
//! its own reading of a resource), must not print, and must not grow with the estate: every row,
//! band and subnet keeps its first few members in a fixed order and counts the rest
//! ("… and N more"), and extraction reads each resource a fixed number of times.

use std::collections::HashMap;

use crate::finding::{Finding, Status};
use crate::model::Tier;

mod dot;
mod extract;
mod layout;
mod mermaid;
mod svg;
#[cfg(test)]
mod tests;

pub use extract::extract;

/// The most members one subnet box shows.
pub const MEMBERS_MAX: usize = 6;
/// The most subnets one tier band shows.
pub const SUBNETS_MAX: usize = 4;
/// The most nodes of a row (Cloudflare, the internet edge, outside the VPC).
pub const ROW_MAX: usize = 6;
/// The most edges drawn.
pub const EDGES_MAX: usize = 40;
/// The most notes (missing components, parts not read).
pub const NOTES_MAX: usize = 6;

/// The node every internet path starts from (not a resource id: no ARN or Cloudflare id looks
/// like it).
pub const INTERNET: &str = "internet";

/// A picture of one or more estates, as collected and linked, bounded in size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EstateMap {
    /// Cloudflare zones, in front of everything.
    pub cloudflare: Row,
    /// The ways in from outside the VPC: internet-facing load balancers, APIs, function URLs.
    pub entry: Row,
    /// The tiers of the estate VPC, in the spec's order (public, compute, database, then subnets
    /// mapped to no tier), each with its subnets.
    pub tiers: Vec<Band>,
    /// Components of the estate that live outside the VPC (a function not attached to it).
    pub outside: Row,
    /// Who reaches whom, between shown nodes, sorted.
    pub edges: Vec<Edge>,
    /// Edges found whose ends are not both shown, or beyond [`EDGES_MAX`].
    pub edges_more: usize,
    /// What the picture cannot show: components missing or unknown, parts not read.
    pub notes: Vec<String>,
    /// Notes beyond [`NOTES_MAX`].
    pub notes_more: usize,
}

/// A row of nodes: the first in order, and how many more there are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub nodes: Vec<Node>,
    pub more: usize,
}

/// A tier of the estate VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub tier: Tier,
    pub subnets: Vec<SubnetBox>,
    /// Subnets of the tier beyond [`SUBNETS_MAX`].
    pub more: usize,
}

/// One subnet and what is placed in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetBox {
    /// The subnet itself (marked by the findings on the subnet).
    pub subnet: Node,
    pub members: Row,
}

/// One resource (or one function URL) in the picture.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    /// Orders a row: the spec's components first, then by what they are.
    pub rank: u8,
    /// A name for people (untrusted).
    pub label: String,
    /// The resource id (untrusted); `<function id>#<url>` for a function URL.
    pub id: String,
    /// What it is, in a few words (`RDS mysql`, `ECS service · 2 tasks`); partly untrusted.
    pub what: String,
    pub mark: Mark,
}

/// What the findings say of a node: the worst status of the findings on its resource.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// No rule judged it.
    #[default]
    NotJudged,
    Pass,
    /// Every finding that is not a pass is waived.
    Waived,
    Unknown,
    Fail,
}

impl Mark {
    pub const ALL: [Mark; 5] = [
        Mark::Fail,
        Mark::Unknown,
        Mark::Waived,
        Mark::Pass,
        Mark::NotJudged,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Mark::NotJudged => "not judged",
            Mark::Pass => "passing",
            Mark::Waived => "waived",
            Mark::Unknown => "unknown",
            Mark::Fail => "failing",
        }
    }

    /// The class name Mermaid and the SVG use.
    pub fn class(self) -> &'static str {
        match self {
            Mark::NotJudged => "none",
            Mark::Pass => "pass",
            Mark::Waived => "waived",
            Mark::Unknown => "unknown",
            Mark::Fail => "fail",
        }
    }

    /// Fill and stroke colours (GitHub's palette, as the HTML report's statuses).
    pub fn colors(self) -> (&'static str, &'static str) {
        match self {
            Mark::NotJudged => ("#f6f8fa", "#8c959f"),
            Mark::Pass => ("#dafbe1", "#1a7f37"),
            Mark::Waived => ("#ddf4ff", "#0969da"),
            Mark::Unknown => ("#fff8c5", "#9a6700"),
            Mark::Fail => ("#ffebe9", "#cf222e"),
        }
    }

    fn of(status: Status) -> Mark {
        match status {
            Status::Fail => Mark::Fail,
            Status::Unknown => Mark::Unknown,
            Status::Suppressed => Mark::Waived,
            Status::Pass => Mark::Pass,
        }
    }
}

/// A way from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// The internet opens a connection to it (its `internet` fact, an origin open to anyone).
    Internet,
    /// Whether the internet reaches it is unknown.
    Unknown,
    /// Cloudflare proxies to it (the internet reaches Cloudflare).
    Proxied,
    /// It forwards or invokes (a load balancer's target, an API's integration, a URL's function).
    Forward,
}

impl EdgeKind {
    pub fn word(self) -> &'static str {
        match self {
            EdgeKind::Internet => "internet path",
            EdgeKind::Unknown => "unknown",
            EdgeKind::Proxied => "proxied",
            EdgeKind::Forward => "forwards",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            EdgeKind::Internet => "#cf222e",
            EdgeKind::Unknown => "#9a6700",
            EdgeKind::Proxied => "#f38020",
            EdgeKind::Forward => "#57606a",
        }
    }
}

/// An output format of `map --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFormat {
    Svg,
    Dot,
    Mermaid,
}

impl EstateMap {
    /// Marks every shown node with the worst status of the findings on its resource. Linear in
    /// the findings; a finding on a resource the map does not show changes nothing.
    pub fn mark(&mut self, findings: &[Finding]) {
        // The shown ids are few (every row is bounded): a map of them, cloned, is small.
        let mut marks: HashMap<String, Mark> = self
            .nodes()
            .map(|n| (n.id.clone(), Mark::NotJudged))
            .collect();
        for f in findings {
            if let Some(m) = marks.get_mut(&*f.resource_id) {
                *m = (*m).max(Mark::of(f.status));
            }
        }
        for n in self.nodes_mut() {
            if let Some(m) = marks.get(&n.id) {
                n.mark = *m;
            }
        }
    }

    /// Adds another estate's map (several estates of one audit): rows, tiers and notes
    /// together, each kept to its bound in its order.
    pub fn merge(&mut self, other: EstateMap) {
        merge_row(&mut self.cloudflare, other.cloudflare, ROW_MAX);
        merge_row(&mut self.entry, other.entry, ROW_MAX);
        merge_row(&mut self.outside, other.outside, ROW_MAX);
        for band in other.tiers {
            match self.tiers.iter_mut().find(|b| b.tier == band.tier) {
                Some(mine) => {
                    mine.subnets.extend(band.subnets);
                    mine.subnets.sort_by(|a, b| a.subnet.cmp(&b.subnet));
                    mine.subnets.dedup_by(|a, b| a.subnet.id == b.subnet.id);
                    mine.more += band.more + mine.subnets.len().saturating_sub(SUBNETS_MAX);
                    mine.subnets.truncate(SUBNETS_MAX);
                }
                None => self.tiers.push(band),
            }
        }
        self.tiers.sort_by_key(|b| b.tier);
        self.edges.extend(other.edges);
        self.edges.sort();
        self.edges.dedup();
        self.edges_more += other.edges_more + self.edges.len().saturating_sub(EDGES_MAX);
        self.edges.truncate(EDGES_MAX);
        self.notes.extend(other.notes);
        self.notes.sort();
        self.notes.dedup();
        self.notes_more += other.notes_more + self.notes.len().saturating_sub(NOTES_MAX);
        self.notes.truncate(NOTES_MAX);
    }

    /// Every shown node, subnets included.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        let rows = [&self.cloudflare, &self.entry, &self.outside];
        rows.into_iter()
            .flat_map(|r| r.nodes.iter())
            .chain(self.tiers.iter().flat_map(|b| {
                b.subnets
                    .iter()
                    .flat_map(|s| std::iter::once(&s.subnet).chain(s.members.nodes.iter()))
            }))
    }

    fn nodes_mut(&mut self) -> impl Iterator<Item = &mut Node> {
        let rows = [&mut self.cloudflare, &mut self.entry, &mut self.outside];
        rows.into_iter()
            .flat_map(|r| r.nodes.iter_mut())
            .chain(self.tiers.iter_mut().flat_map(|b| {
                b.subnets
                    .iter_mut()
                    .flat_map(|s| std::iter::once(&mut s.subnet).chain(s.members.nodes.iter_mut()))
            }))
    }

    /// The map in `format`; the text ends with a newline.
    pub fn render(&self, format: MapFormat) -> String {
        match format {
            MapFormat::Svg => svg::render(self),
            MapFormat::Dot => dot::render(self),
            MapFormat::Mermaid => mermaid::render(self),
        }
    }

    /// The SVG for embedding in an HTML page: no XML declaration, the same drawing.
    pub fn svg_element(&self) -> String {
        svg::element(self, false)
    }
}

fn merge_row(row: &mut Row, other: Row, max: usize) {
    row.nodes.extend(other.nodes);
    row.nodes.sort();
    row.nodes.dedup_by(|a, b| a.id == b.id);
    row.more += other.more + row.nodes.len().saturating_sub(max);
    row.nodes.truncate(max);
}

/// A tier's title in the picture.
pub fn tier_title(t: Tier) -> &'static str {
    match t {
        Tier::Public => "Public tier",
        Tier::Compute => "Compute tier (private)",
        Tier::Database => "Database tier (private)",
        Tier::Unassigned => "Subnets of no tier",
    }
}
