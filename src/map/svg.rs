//! The map as SVG, written by hand: presentation attributes only (no `style` element or
//! attribute, so the HTML report's Content-Security-Policy needs nothing new), no script, no
//! event handler, no link and no reference at all (the arrowheads are polygons, not markers).
//! Every name goes through [`markup`] after being shortened to fit its box; the whole name, the
//! id and the mark are in the node's `<title>` (a tooltip).

use std::fmt::Write as _;

use super::layout::{layout, Group, Placed, Rect, Scene, LINE_H};
use super::{EdgeKind, EstateMap, Mark};
use crate::text::markup;

const FONT: &str = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";
/// Characters that fit a node's width at the label's size (a conservative average).
const LABEL_CHARS: usize = 29;
const WHAT_CHARS: usize = 34;
/// The prefix of the drawing's ids, so that it cannot clash with the page around it.
const ID: &str = "estate-map";
const EDGE_KINDS: [EdgeKind; 4] = [
    EdgeKind::Internet,
    EdgeKind::Unknown,
    EdgeKind::Proxied,
    EdgeKind::Forward,
];

/// A standalone SVG file.
pub(super) fn render(map: &EstateMap) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&element(map, true));
    out
}

/// The `<svg>` element (ends with a newline). Inside an HTML page the namespace goes without
/// saying (HTML puts `<svg>` in it), so only a `standalone` file declares it.
pub(super) fn element(map: &EstateMap, standalone: bool) -> String {
    let s = layout(map);
    let mut out = String::with_capacity(16 * 1024);
    let _ = writeln!(
        out,
        "<svg{xmlns} width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-labelledby=\"{ID}-title\" font-family=\"{FONT}\" font-size=\"12\">",
        xmlns = if standalone {
            " xmlns=\"http://www.w3.org/2000/svg\""
        } else {
            ""
        },
        w = s.width,
        h = s.height
    );
    let _ = writeln!(
        out,
        "<title id=\"{ID}-title\">Map of the estate: {} resources shown</title>",
        s.nodes.len() - 1
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
        s.width, s.height
    );
    for g in &s.groups {
        group(&mut out, g);
    }
    edges(&mut out, &s);
    for n in &s.nodes {
        node(&mut out, n);
    }
    notes_and_legend(&mut out, &s);
    out.push_str("</svg>\n");
    out
}

/// `s` in at most `max` characters, `…` standing for the rest.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn rect(out: &mut String, r: Rect, fill: &str, stroke: &str, extra: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\"{extra}/>",
        r.x, r.y, r.w, r.h
    );
}

fn text(out: &mut String, x: u32, y: u32, attrs: &str, s: &str) {
    let _ = writeln!(out, "<text x=\"{x}\" y=\"{y}\"{attrs}>{}</text>", markup(s));
}

fn group(out: &mut String, g: &Group<'_>) {
    match g.subnet {
        None => {
            rect(out, g.rect, "#f6f8fa", "#d0d7de", "");
            text(
                out,
                g.rect.x + 10,
                g.rect.y + 18,
                " font-weight=\"600\" font-size=\"13\" fill=\"#1f2328\"",
                &g.title,
            );
        }
        Some(subnet) => {
            let (_, stroke) = subnet.mark.colors();
            let dash = if subnet.mark == Mark::NotJudged {
                " stroke-dasharray=\"4 3\""
            } else {
                " stroke-width=\"1.5\""
            };
            let _ = writeln!(
                out,
                "<g><title>{} ({}): subnet {}</title>",
                markup(&subnet.label),
                markup(&subnet.id),
                subnet.mark.word()
            );
            rect(out, g.rect, "#ffffff", stroke, dash);
            two_lines(out, g.rect.x + 10, g.rect.y, &subnet.label, &subnet.what);
            out.push_str("</g>\n");
        }
    }
    if g.more > 0 {
        let what = if g.subnet.is_some() {
            "resources"
        } else if g.children.is_empty() {
            "more"
        } else {
            "subnets"
        };
        let word = if what == "more" { "" } else { what };
        text(
            out,
            g.rect.x + 10,
            g.rect.y + g.rect.h - 7,
            " font-style=\"italic\" font-size=\"11\" fill=\"#59636e\"",
            format!("… and {} more {word}", g.more).trim_end(),
        );
    }
    for c in &g.children {
        group(out, c);
    }
}

fn edges(out: &mut String, s: &Scene<'_>) {
    for (k, &(f, t, kind)) in s.edges.iter().enumerate() {
        let points = route(s, k as u32, f, t);
        let _ = writeln!(
            out,
            "<g><title>{} → {}: {}</title>",
            markup(s.nodes[f].label),
            markup(s.nodes[t].label),
            kind.word()
        );
        line(out, &points, kind);
        out.push_str("</g>\n");
    }
}

/// A polyline through `points` in the colour and dash of `kind`, with an arrowhead drawn at its
/// end (a polygon of its own: no marker, so the drawing refers to nothing, not even itself).
fn line(out: &mut String, points: &[(u32, u32)], kind: EdgeKind) {
    let dash = match kind {
        EdgeKind::Unknown => " stroke-dasharray=\"6 4\"",
        EdgeKind::Forward => " stroke-dasharray=\"2 3\"",
        _ => "",
    };
    let d: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x},{y}", if i == 0 { 'M' } else { 'L' }))
        .collect();
    let _ = writeln!(
        out,
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{dash}/>",
        d.join(" "),
        kind.color()
    );
    if let [.., (x1, y1), (x2, y2)] = points {
        let (x1, y1, x2, y2) = (*x1 as f64, *y1 as f64, *x2 as f64, *y2 as f64);
        let len = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(1.0);
        let (ux, uy) = ((x2 - x1) / len, (y2 - y1) / len);
        // Tip at the end, base 8 units back, 4 either side.
        let (bx, by) = (x2 - 8.0 * ux, y2 - 8.0 * uy);
        let _ = writeln!(
            out,
            "<polygon points=\"{x2:.1},{y2:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{}\"/>",
            bx - 4.0 * uy,
            by + 4.0 * ux,
            bx + 4.0 * uy,
            by - 4.0 * ux,
            kind.color()
        );
    }
}

/// The path of the `k`-th edge, from node `f` to node `t`. Downwards, it turns in the gap above
/// the target's band and comes into a subnet's node from the right, down the subnet's edge, so
/// that it never runs behind the nodes above it in the subnet; the internet's paths past the
/// first row go down the right gutter, so they are not taken for Cloudflare's. Edges sharing a
/// stretch are set a few units apart.
fn route(s: &Scene<'_>, k: u32, f: usize, t: usize) -> Vec<(u32, u32)> {
    let (a, b) = (&s.nodes[f], &s.nodes[t]);
    let (ra, rb) = (a.rect, b.rect);
    let off = (k % 4) * 4;
    if rb.y < ra.y + ra.h {
        // Sideways or upwards (rare): a straight line between the facing sides.
        let (y1, y2) = (ra.y + ra.h / 2, rb.y + rb.h / 2);
        let (x1, x2) = if ra.x < rb.x {
            (ra.x + ra.w, rb.x)
        } else {
            (ra.x, rb.x + rb.w)
        };
        return vec![(x1, y1), (x2, y2)];
    }
    let turn = b.band_top.saturating_sub(8 + off / 2);
    let direct = f == s.internet && b.band_top <= ra.y + ra.h + 16 + 8;
    let mut points = if f == s.internet && !direct {
        let gutter = s.width - 14 - off;
        let y = ra.y + ra.h / 2;
        vec![(ra.x + ra.w, y), (gutter, y), (gutter, turn)]
    } else {
        // Straight down when the target is a row's node below the source; else from the middle.
        let x = match b.subnet {
            None if (ra.x + 8..ra.x + ra.w - 8).contains(&row_entry(rb, off)) => row_entry(rb, off),
            _ => ra.x + ra.w / 2 + off,
        };
        vec![(x, ra.y + ra.h), (x, turn)]
    };
    match b.subnet {
        Some(sn) => {
            let lane = sn.x + sn.w - 6 - off / 2;
            let y = rb.y + rb.h / 2;
            points.extend([(lane, turn), (lane, y), (rb.x + rb.w, y)]);
        }
        None => {
            let x = row_entry(rb, off);
            points.extend([(x, turn), (x, rb.y)]);
        }
    }
    points.dedup();
    points
}

/// Where an edge comes into the top of a row's node: arrows into one node stand apart, 12
/// units between neighbours.
fn row_entry(rb: Rect, off: u32) -> u32 {
    rb.x + rb.w / 2 + 3 * off - 18
}

fn node(out: &mut String, n: &Placed<'_>) {
    let (fill, stroke) = n.mark.colors();
    let _ = writeln!(
        out,
        "<g><title>{} ({}): {}</title>",
        markup(n.label),
        markup(n.id),
        n.mark.word()
    );
    let width = if n.mark == Mark::Fail || n.mark == Mark::Unknown {
        " stroke-width=\"2\""
    } else {
        ""
    };
    rect(out, n.rect, fill, stroke, width);
    two_lines(out, n.rect.x + 8, n.rect.y, n.label, n.what);
    out.push_str("</g>\n");
}

/// A name in bold and what it is under it, each shortened to fit a node's width, from `top`.
fn two_lines(out: &mut String, x: u32, top: u32, label: &str, what: &str) {
    let bold = " font-weight=\"600\" fill=\"#1f2328\"";
    text(out, x, top + 17, bold, &fit(label, LABEL_CHARS));
    let small = " font-size=\"11\" fill=\"#59636e\"";
    text(out, x, top + 33, small, &fit(what, WHAT_CHARS));
}

fn notes_and_legend(out: &mut String, s: &Scene<'_>) {
    for (i, n) in s.notes.iter().enumerate() {
        text(
            out,
            16,
            s.notes_y + 13 + i as u32 * LINE_H,
            " font-size=\"12\" fill=\"#9a6700\"",
            n,
        );
    }
    let y = s.legend_y;
    let mut x = 16;
    for m in Mark::ALL {
        let (fill, stroke) = m.colors();
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
            y + 2
        );
        text(out, x + 20, y + 13, " fill=\"#1f2328\"", m.word());
        x += 20 + 8 * m.word().len() as u32 + 14;
    }
    let mut x = 16;
    let y = y + LINE_H + 2;
    for k in EDGE_KINDS {
        line(out, &[(x, y + 9), (x + 26, y + 9)], k);
        text(out, x + 32, y + 13, " fill=\"#1f2328\"", k.word());
        x += 32 + 8 * k.word().len() as u32 + 14;
    }
}
