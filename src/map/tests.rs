//! The map's own tests: what the demo's picture holds, the bounds on a large estate, marks
//! from findings, the merge of several estates, and hostile names in all three formats.

use super::*;
use crate::model::json::demo_inventory;
use crate::model::{Attrs, Inventory, Resource};

fn demo_map() -> EstateMap {
    let mut inv = demo_inventory();
    crate::link::link(&mut inv);
    extract(&inv)
}

#[test]
fn the_demo_shows_its_tiers_components_and_the_webhooks_way_in() {
    let map = demo_map();
    let tiers: Vec<Tier> = map.tiers.iter().map(|b| b.tier).collect();
    assert_eq!(tiers, [Tier::Public, Tier::Compute, Tier::Database]);
    let in_tier = |t: Tier| -> Vec<String> {
        map.tiers
            .iter()
            .filter(|b| b.tier == t)
            .flat_map(|b| &b.subnets)
            .flat_map(|s| s.members.nodes.iter().map(|n| n.what.clone()))
            .collect()
    };
    assert!(in_tier(Tier::Public).contains(&"NAT gateway".to_string()));
    let compute = in_tier(Tier::Compute);
    for what in ["EC2 · RabbitMQ", "Lambda · webhook"] {
        assert!(compute.iter().any(|w| w == what), "{what} in {compute:?}");
    }
    assert!(compute.iter().any(|w| w.starts_with("ECS service")));
    let database = in_tier(Tier::Database);
    assert!(
        database.iter().any(|w| w.starts_with("RDS")),
        "{database:?}"
    );
    assert!(database.iter().any(|w| w.starts_with("ElastiCache")));
    assert_eq!(map.cloudflare.nodes.len(), 1);
    assert_eq!(map.entry.nodes[0].label, "function URL");
    // The webhook's URL is open to anyone (the demo waives the rule) and Cloudflare is in front.
    let url = &map.entry.nodes[0].id;
    let zone = &map.cloudflare.nodes[0].id;
    let has = |from: &str, to: &str, kind| {
        map.edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.kind == kind)
    };
    assert!(has(INTERNET, url, EdgeKind::Internet), "{:#?}", map.edges);
    assert!(has(zone, url, EdgeKind::Proxied), "{:#?}", map.edges);
    assert!(has(INTERNET, zone, EdgeKind::Proxied));
    assert!(map
        .edges
        .iter()
        .any(|e| &e.from == url && e.to.ends_with(":function:webhook")));
}

#[test]
fn marks_are_the_worst_status_of_each_resources_findings() {
    let mut inv = demo_inventory();
    crate::link::link(&mut inv);
    let mut map = extract(&inv);
    let report = crate::audit::run(
        demo_inventory(),
        None,
        &crate::policy::PolicySet::builtin().unwrap(),
        &crate::audit::demo_waivers(),
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .into(),
    );
    map.mark(&report.findings);
    for n in map.nodes() {
        let worst = report
            .findings
            .iter()
            .filter(|f| *f.resource_id == n.id)
            .map(|f| Mark::of(f.status))
            .max()
            .unwrap_or(Mark::NotJudged);
        assert_eq!(n.mark, worst, "{}", n.id);
    }
    // The demo's plain AMQP on the queue host fails; RDS encryption is unknown.
    let mark_of = |what: &str| map.nodes().find(|n| n.what.starts_with(what)).unwrap().mark;
    assert_eq!(mark_of("EC2 · RabbitMQ"), Mark::Fail);
    assert_eq!(mark_of("RDS"), Mark::Unknown);
}

/// A large estate: every row, band and subnet bounded, the rest counted, edges bounded.
#[test]
fn a_large_estate_makes_a_bounded_picture() {
    let mut inv = crate::synth::spec_shaped(20_000, 1);
    crate::link::link(&mut inv);
    let map = extract(&inv);
    assert!(map.tiers.iter().all(|b| b.subnets.len() <= SUBNETS_MAX));
    assert!(map.tiers.iter().any(|b| b.more > 0), "subnets are counted");
    for s in map.tiers.iter().flat_map(|b| &b.subnets) {
        assert!(s.members.nodes.len() <= MEMBERS_MAX);
    }
    for r in [&map.cloudflare, &map.entry, &map.outside] {
        assert!(r.nodes.len() <= ROW_MAX);
    }
    assert!(map.edges.len() <= EDGES_MAX);
    assert!(map.notes.len() <= NOTES_MAX);
    let svg = map.render(MapFormat::Svg);
    assert!(svg.len() < 200_000, "{} bytes", svg.len());
}

#[test]
fn several_estates_merge_within_the_bounds() {
    let mut a = demo_map();
    let b = demo_map();
    let edges = a.edges.len();
    a.merge(b);
    // The same estate twice: the same nodes, kept once.
    assert_eq!(a, demo_map());
    assert_eq!(a.edges.len(), edges);
}

/// Names built to break out of each medium.
const HOSTILE: [&str; 5] = [
    "</svg><script>alert(1)</script>",
    "x\"]; A-->B; click A call evil()",
    "a & b < c > d ' e",
    "line one\nline two\r\u{1b}[31m",
    "#quot; ` ```mermaid %%{init}%% \\N \\\" {x}",
];

fn hostile_map() -> EstateMap {
    let mut inv = demo_inventory();
    let mut i = 0;
    for r in &mut inv.resources {
        if matches!(
            r.attrs,
            Attrs::Subnet(_)
                | Attrs::Instance(_)
                | Attrs::DbInstance(_)
                | Attrs::LambdaFunction(_)
                | Attrs::CloudflareZone(_)
        ) {
            r.tags
                .insert("Name".into(), HOSTILE[i % HOSTILE.len()].into());
            i += 1;
        }
    }
    if let Some(Attrs::DbInstance(d)) = inv
        .resources
        .iter_mut()
        .map(|r: &mut Resource| &mut r.attrs)
        .find(|a| matches!(a, Attrs::DbInstance(_)))
    {
        d.engine = Some("<b>mysql</b>\"]".into());
    }
    crate::link::link(&mut inv);
    extract(&inv)
}

#[test]
fn hostile_names_stay_text_in_svg() {
    let svg = hostile_map().render(MapFormat::Svg);
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("</svg>").count(), 1);
    assert!(!svg.to_ascii_lowercase().contains("<script"));
    assert!(!svg.contains('\u{1b}'));
    assert!(svg.contains("&lt;/svg&gt;&lt;script&gt;") || svg.contains("&lt;/svg&gt;&lt;scri"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    for n in doc.descendants() {
        assert!(
            n.attributes().all(|a| !a.name().starts_with("on")),
            "no event handlers"
        );
        assert_ne!(n.tag_name().name(), "script");
        assert_ne!(n.tag_name().name(), "style");
        assert!(n.attribute("style").is_none());
        assert!(n.attribute("href").is_none());
    }
}

#[test]
fn hostile_names_stay_inside_their_dot_strings() {
    let dot = hostile_map().render(MapFormat::Dot);
    // Every line is a statement of ours: a quote in a name never ends its string, and a
    // backslash never starts one of DOT's escapes.
    for line in dot.lines() {
        let mut quoted = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if quoted => {
                    let next = chars.next();
                    assert!(
                        matches!(next, Some('\\' | '"' | 'n' | 'l')),
                        "escape \\{next:?} in {line}"
                    );
                }
                '"' => quoted = !quoted,
                _ => {}
            }
        }
        assert!(!quoted, "unterminated string in {line}");
    }
    assert!(!dot.contains("A-->B;\n"));
    assert!(!dot.contains('\u{1b}'));
}

#[test]
fn hostile_names_are_entity_codes_in_mermaid() {
    let mm = hostile_map().render(MapFormat::Mermaid);
    for line in mm.lines() {
        // Inside labels, only our own `<br/>` and entity codes: no quote but the delimiters.
        let quotes = line.matches('"').count();
        assert!(quotes == 0 || quotes == 2, "{line}");
        if let (Some(a), Some(b)) = (line.find('"'), line.rfind('"')) {
            let inside = &line[a + 1..b];
            let rest = without_entity_codes(&inside.replace("<br/>", ""));
            for bad in ['<', '>', '[', ']', ';', '#', '`', '|', '{', '}', '\\', '"'] {
                assert!(!rest.contains(bad), "{bad:?} in {line}");
            }
        }
    }
    assert!(!mm.contains("A-->B"));
    assert!(!mm.contains("%%{init}"));
    assert!(mm.contains("#60;/svg#62;#60;script#62;"));
}

/// `s` with every `#<digits>;` taken out.
fn without_entity_codes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(';') {
            rest = &after[digits + 1..];
        } else {
            out.push('#');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_same_estate_gives_the_same_bytes() {
    for f in [MapFormat::Svg, MapFormat::Dot, MapFormat::Mermaid] {
        let a = demo_map().render(f);
        let mut shuffled = demo_inventory();
        shuffled.resources.reverse();
        crate::link::link(&mut shuffled);
        let b = extract(&shuffled).render(f);
        assert_eq!(a, b, "{f:?}: the resources' order does not show");
    }
}

#[test]
fn an_empty_inventory_is_a_picture_of_nothing_with_its_legend() {
    let mut inv = Inventory::new(Default::default());
    crate::link::link(&mut inv);
    let map = extract(&inv);
    assert!(map.tiers.is_empty());
    let svg = map.render(MapFormat::Svg);
    roxmltree::Document::parse(&svg).expect("well-formed");
    assert!(svg.contains("failing"));
}
