//! The map as Graphviz DOT: one cluster per band and per subnet, the synthetic node keys of the
//! layout as ids, every label a quoted string with `\` and `"` escaped after the text is made
//! inert (so a name can neither close the string nor use DOT's `\N`-style escapes).

use std::fmt::Write as _;

use super::layout::{layout, Group, Placed};
use super::{EdgeKind, EstateMap, Mark};
use crate::text::inert;

/// `s` as the inside of a DOT quoted string.
pub(super) fn quoted(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(map: &EstateMap) -> String {
    let s = layout(map);
    let mut out = String::from("digraph estate {\n");
    out.push_str(
        "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, newrank=true, nodesep=0.3];\n",
    );
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n",
    );
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    node(&mut out, "  ", 0, &s.nodes[s.internet]);
    for (i, g) in s.groups.iter().enumerate() {
        group(&mut out, &s.nodes, g, &i.to_string(), "  ");
    }
    for &(f, t, kind) in &s.edges {
        let style = match kind {
            EdgeKind::Unknown => ", style=dashed",
            EdgeKind::Forward => ", style=dotted",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  n{f} -> n{t} [label=\"{}\", color=\"{}\", fontcolor=\"{}\"{style}];",
            kind.word(),
            kind.color(),
            kind.color()
        );
    }
    if !s.notes.is_empty() {
        let lines: String = s
            .notes
            .iter()
            .map(|n| format!("{}\\l", quoted(n)))
            .collect();
        let _ = writeln!(
            out,
            "  notes [shape=note, style=filled, fillcolor=\"#fff8c5\", label=\"{lines}\"];"
        );
    }
    out.push_str("}\n");
    out
}

fn node(out: &mut String, indent: &str, i: usize, n: &Placed<'_>) {
    let (fill, stroke) = n.mark.colors();
    let width = match n.mark {
        Mark::Fail | Mark::Unknown => ", penwidth=2",
        _ => "",
    };
    let _ = writeln!(
        out,
        "{indent}n{i} [label=\"{}\\n{}\", tooltip=\"{} ({})\", fillcolor=\"{fill}\", color=\"{stroke}\"{width}];",
        quoted(n.label),
        quoted(n.what),
        quoted(n.id),
        n.mark.word()
    );
}

fn group(out: &mut String, nodes: &[Placed<'_>], g: &Group<'_>, key: &str, indent: &str) {
    let _ = writeln!(out, "{indent}subgraph cluster_{key} {{");
    let inner = format!("{indent}  ");
    match g.subnet {
        Some(sn) => {
            let (_, stroke) = sn.mark.colors();
            let _ = writeln!(
                out,
                "{inner}label=\"{}\\n{}\"; tooltip=\"{} ({})\"; style=\"rounded\"; color=\"{stroke}\";",
                quoted(&sn.label),
                quoted(&sn.what),
                quoted(&sn.id),
                sn.mark.word()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{inner}label=\"{}\"; style=\"rounded,filled\"; fillcolor=\"#f6f8fa\"; color=\"#d0d7de\";",
                quoted(&g.title)
            );
        }
    }
    for &i in &g.nodes {
        node(out, &inner, i, &nodes[i]);
    }
    if g.more > 0 {
        let _ = writeln!(
            out,
            "{inner}more_{key} [shape=plaintext, style=\"\", label=\"… and {} more\"];",
            g.more
        );
    }
    for (j, c) in g.children.iter().enumerate() {
        group(out, nodes, c, &format!("{key}_{j}"), &inner);
    }
    let _ = writeln!(out, "{indent}}}");
}
