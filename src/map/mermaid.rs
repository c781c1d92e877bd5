//! The map as a Mermaid `flowchart TB` (GitHub renders it in Markdown): a subgraph per band and
//! per subnet, the layout's synthetic keys as ids, and every label in double quotes with each
//! character outside a small safe set written as a Mermaid entity code (`#35;`), so that no
//! name (quotes, brackets, `<`, `#`, `;`, backticks, newlines) can end a label, start a new
//! statement or become markup.

use std::fmt::Write as _;

use super::layout::{layout, Group, Placed};
use super::{EdgeKind, EstateMap, Mark};
use crate::text::inert;

/// `s` for the inside of a quoted Mermaid label.
pub(super) fn label(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || " .,:/_-+=@()·…".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

pub(super) fn render(map: &EstateMap) -> String {
    let s = layout(map);
    let mut out = String::from("flowchart TB\n");
    node(&mut out, "  ", s.internet, &s.nodes[s.internet]);
    for (i, g) in s.groups.iter().enumerate() {
        group(&mut out, &s.nodes, g, &i.to_string(), "  ");
    }
    for &(f, t, kind) in &s.edges {
        let arrow = match kind {
            EdgeKind::Unknown | EdgeKind::Forward => "-.->",
            _ => "-->",
        };
        let _ = writeln!(out, "  n{f} {arrow}|{}| n{t}", kind.word());
    }
    if !s.notes.is_empty() {
        let lines: Vec<String> = s.notes.iter().map(|n| label(n)).collect();
        let _ = writeln!(out, "  notes[\"{}\"]", lines.join("<br/>"));
        out.push_str("  class notes note\n");
    }
    for m in Mark::ALL {
        let (fill, stroke) = m.colors();
        let width = match m {
            Mark::Fail | Mark::Unknown => ",stroke-width:2px",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  classDef {} fill:{fill},stroke:{stroke},color:#1f2328{width}",
            m.class()
        );
    }
    out.push_str("  classDef note fill:#fff8c5,stroke:#9a6700,color:#1f2328\n");
    for (i, &(_, _, kind)) in s.edges.iter().enumerate() {
        let _ = writeln!(out, "  linkStyle {i} stroke:{}", kind.color());
    }
    out
}

fn node(out: &mut String, indent: &str, i: usize, n: &Placed<'_>) {
    let _ = writeln!(
        out,
        "{indent}n{i}[\"{}<br/>{}\"]:::{}",
        label(n.label),
        label(n.what),
        n.mark.class()
    );
}

fn group(out: &mut String, nodes: &[Placed<'_>], g: &Group<'_>, key: &str, indent: &str) {
    let title = match g.subnet {
        Some(sn) => format!("{}<br/>{}", label(&sn.label), label(&sn.what)),
        None => label(&g.title),
    };
    let _ = writeln!(out, "{indent}subgraph g{key}[\"{title}\"]");
    let inner = format!("{indent}  ");
    for &i in &g.nodes {
        node(out, &inner, i, &nodes[i]);
    }
    if g.more > 0 {
        let _ = writeln!(out, "{inner}more{key}[\"… and {} more\"]:::none", g.more);
    }
    for (j, c) in g.children.iter().enumerate() {
        group(out, nodes, c, &format!("{key}_{j}"), &inner);
    }
    let _ = writeln!(out, "{indent}end");
    if let Some(sn) = g.subnet {
        if sn.mark != Mark::NotJudged {
            let _ = writeln!(out, "{indent}class g{key} {}", sn.mark.class());
        }
    }
}
