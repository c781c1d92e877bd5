//! The one layout every writer draws: the map's groups top to bottom (the internet, Cloudflare,
//! the internet edge, the tier bands with their subnets, what lives outside the VPC), each shown
//! node once per place it sits in, with a synthetic key (`n0`, `n1`, … in drawing order) that
//! the writers use instead of any name from the estate, and coordinates for the SVG. It is a pure
//! function of the (sorted, bounded) map, so the same estate gives the same bytes.

use super::{tier_title, EdgeKind, EstateMap, Mark, Node, Row, INTERNET};

/// Node size and the spaces between things, in SVG user units (pixels).
pub(super) const NODE_W: u32 = 210;
pub(super) const NODE_H: u32 = 42;
const GAP: u32 = 16;
const PAD: u32 = 12;
/// A band's title line.
const TITLE_H: u32 = 26;
/// A subnet's two title lines.
const SUBNET_TITLE_H: u32 = 40;
/// The "… and N more" line.
const MORE_H: u32 = 18;
const MARGIN: u32 = 16;
const MIN_WIDTH: u32 = 760;
/// Room right of the bands for the internet's paths.
pub(super) const GUTTER: u32 = 28;
pub(super) const LINE_H: u32 = 18;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// A node as drawn: what it says, where, and its key.
pub(super) struct Placed<'a> {
    pub label: &'a str,
    pub what: &'a str,
    pub id: &'a str,
    pub mark: Mark,
    pub rect: Rect,
    /// The top of the band or row it sits in: edges into it turn in the gap above.
    pub band_top: u32,
    /// The subnet it sits in: edges into it come down the subnet's right side.
    pub subnet: Option<Rect>,
}

/// A band (a row or a tier) or a subnet inside one.
pub(super) struct Group<'a> {
    pub title: String,
    /// A subnet's own node (its id, AZ and range, and its mark); `None` for a band.
    pub subnet: Option<&'a Node>,
    pub rect: Rect,
    pub nodes: Vec<usize>,
    /// Members not shown.
    pub more: usize,
    pub children: Vec<Group<'a>>,
}

pub(super) struct Scene<'a> {
    pub width: u32,
    pub height: u32,
    /// The internet, alone at the top (index 0 of `nodes`).
    pub internet: usize,
    pub groups: Vec<Group<'a>>,
    pub nodes: Vec<Placed<'a>>,
    /// Between node indexes, in the map's edge order.
    pub edges: Vec<(usize, usize, EdgeKind)>,
    /// Lines under the picture: notes, what is not drawn.
    pub notes: Vec<String>,
    pub notes_y: u32,
    pub legend_y: u32,
}

/// Lays `map` out.
pub(super) fn layout(map: &EstateMap) -> Scene<'_> {
    let mut nodes: Vec<Placed<'_>> = Vec::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    let tier_widths = map.tiers.iter().map(|b| {
        let n = b.subnets.len().max(1) as u32;
        n * (NODE_W + 2 * PAD) + (n - 1) * GAP + 2 * PAD
    });
    let row_widths = [&map.cloudflare, &map.entry, &map.outside]
        .into_iter()
        .map(|r| row_width(r.nodes.len()));
    let inner = tier_widths
        .chain(row_widths)
        .max()
        .unwrap_or(0)
        .max(MIN_WIDTH - 2 * MARGIN - GUTTER);
    // The right gutter carries the internet's paths down past the bands.
    let width = inner + 2 * MARGIN + GUTTER;

    let mut y = MARGIN;
    nodes.push(Placed {
        label: "Internet",
        what: "anyone",
        id: INTERNET,
        mark: Mark::NotJudged,
        rect: Rect {
            x: MARGIN + (inner - NODE_W) / 2,
            y,
            w: NODE_W,
            h: NODE_H,
        },
        band_top: y,
        subnet: None,
    });
    y += NODE_H + GAP;
    let rows = [
        ("Cloudflare", &map.cloudflare),
        ("Internet edge (outside the VPC)", &map.entry),
    ];
    for (title, row) in rows {
        if let Some(g) = row_group(title, row, inner, &mut y, &mut nodes) {
            groups.push(g);
        }
    }
    for band in &map.tiers {
        let top = y;
        let mut x = MARGIN + PAD;
        let mut subnets = Vec::new();
        let tallest = band
            .subnets
            .iter()
            .map(|s| subnet_height(&s.members))
            .max()
            .unwrap_or(0);
        for s in &band.subnets {
            let rect = Rect {
                x,
                y: top + TITLE_H,
                w: NODE_W + 2 * PAD,
                h: tallest,
            };
            let mut idx = Vec::new();
            let mut ny = rect.y + SUBNET_TITLE_H;
            for n in &s.members.nodes {
                let i = place(&mut nodes, n, x + PAD, ny);
                nodes[i].band_top = top;
                nodes[i].subnet = Some(rect);
                idx.push(i);
                ny += NODE_H + 8;
            }
            subnets.push(Group {
                title: s.subnet.label.clone(),
                subnet: Some(&s.subnet),
                rect,
                nodes: idx,
                more: s.members.more,
                children: Vec::new(),
            });
            x += NODE_W + 2 * PAD + GAP;
        }
        let h = TITLE_H + tallest + PAD + if band.more > 0 { MORE_H } else { 0 };
        groups.push(Group {
            title: tier_title(band.tier).to_string(),
            subnet: None,
            rect: Rect {
                x: MARGIN,
                y: top,
                w: inner,
                h,
            },
            nodes: Vec::new(),
            more: band.more,
            children: subnets,
        });
        y = top + h + GAP;
    }
    if let Some(g) = row_group(
        "Regional, outside the VPC",
        &map.outside,
        inner,
        &mut y,
        &mut nodes,
    ) {
        groups.push(g);
    }

    let edges = scene_edges(map, &nodes);
    let mut notes: Vec<String> = map.notes.clone();
    if map.notes_more > 0 {
        notes.push(format!("… and {} more notes", map.notes_more));
    }
    if map.edges_more > 0 {
        notes.push(format!(
            "{} more connections are not drawn (an end not shown, or beyond {})",
            map.edges_more,
            super::EDGES_MAX
        ));
    }
    let notes_y = y;
    y += notes.len() as u32 * LINE_H;
    let legend_y = y + 4;
    let height = legend_y + 2 * LINE_H + MARGIN;
    Scene {
        width,
        height,
        internet: 0,
        groups,
        nodes,
        edges,
        notes,
        notes_y,
        legend_y,
    }
}

fn row_width(n: usize) -> u32 {
    let n = n.max(1) as u32;
    n * NODE_W + (n - 1) * GAP + 2 * PAD
}

fn subnet_height(members: &Row) -> u32 {
    let n = members.nodes.len() as u32;
    let more = if members.more > 0 { MORE_H } else { 0 };
    SUBNET_TITLE_H + n * (NODE_H + 8) + more + PAD / 2
}

fn place<'a>(nodes: &mut Vec<Placed<'a>>, n: &'a Node, x: u32, y: u32) -> usize {
    nodes.push(Placed {
        label: &n.label,
        what: &n.what,
        id: &n.id,
        mark: n.mark,
        rect: Rect {
            x,
            y,
            w: NODE_W,
            h: NODE_H,
        },
        band_top: y,
        subnet: None,
    });
    nodes.len() - 1
}

/// A band of one row of nodes, centred; `None` when the row is empty.
fn row_group<'a>(
    title: &str,
    row: &'a Row,
    inner: u32,
    y: &mut u32,
    nodes: &mut Vec<Placed<'a>>,
) -> Option<Group<'a>> {
    if row.nodes.is_empty() && row.more == 0 {
        return None;
    }
    let top = *y;
    let mut x = MARGIN + (inner - row_width(row.nodes.len())) / 2 + PAD;
    let mut idx = Vec::new();
    for n in &row.nodes {
        let i = place(nodes, n, x, top + TITLE_H);
        nodes[i].band_top = top;
        idx.push(i);
        x += NODE_W + GAP;
    }
    let h = TITLE_H + NODE_H + PAD + if row.more > 0 { MORE_H } else { 0 };
    *y = top + h + GAP;
    Some(Group {
        title: title.to_string(),
        subnet: None,
        rect: Rect {
            x: MARGIN,
            y: top,
            w: inner,
            h,
        },
        nodes: idx,
        more: row.more,
        children: Vec::new(),
    })
}

/// Each edge between every place its ends are drawn (a resource in two subnets is drawn twice).
fn scene_edges(map: &EstateMap, nodes: &[Placed<'_>]) -> Vec<(usize, usize, EdgeKind)> {
    let mut by_id: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_id.entry(n.id).or_default().push(i);
    }
    let mut out = Vec::new();
    for e in &map.edges {
        let (Some(from), Some(to)) = (by_id.get(e.from.as_str()), by_id.get(e.to.as_str())) else {
            continue;
        };
        for &f in from {
            for &t in to {
                out.push((f, t, e.kind));
            }
        }
    }
    out
}
