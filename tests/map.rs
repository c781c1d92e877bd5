//! The map of the estate (`estate-audit map`, the reports' "Map" sections): the demo's DOT and
//! Mermaid text pinned by snapshots, its SVG well-formed and drawn by a real renderer
//! (`rsvg-convert`), and the HTML and Markdown reports that carry it still self-contained.

use std::io::Write as _;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use estate_audit::audit;
use estate_audit::finding::Report;
use estate_audit::map::{EstateMap, MapFormat};
use estate_audit::model::json::demo_inventory;
use estate_audit::policy::PolicySet;
use estate_audit::report::{self, Format, RenderOptions};
use estate_audit::stats::Stats;

fn demo() -> (Report, EstateMap) {
    let now: DateTime<Utc> = "2026-11-01T06:00:00Z".parse().unwrap();
    audit::run_many(
        vec![demo_inventory()],
        None,
        &PolicySet::builtin().unwrap(),
        &audit::demo_waivers(),
        now,
        &mut Stats::default(),
    )
}

#[test]
fn the_demo_map_as_dot() {
    insta::assert_snapshot!(demo().1.render(MapFormat::Dot));
}

#[test]
fn the_demo_map_as_mermaid() {
    insta::assert_snapshot!(demo().1.render(MapFormat::Mermaid));
}

/// The SVG is well-formed, holds no script, handler, style or reference, and `rsvg-convert`
/// draws it to a PNG of the SVG's size. Without `rsvg-convert` the drawing is skipped with a
/// note, except in CI (`ESTATE_AUDIT_CI`), which installs it (`.ci/run`).
#[test]
fn the_demo_map_svg_renders_with_rsvg() {
    let svg = demo().1.render(MapFormat::Svg);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    for n in doc.descendants().filter(|n| n.is_element()) {
        assert!(
            !matches!(
                n.tag_name().name(),
                "script" | "style" | "foreignObject" | "a" | "image" | "use"
            ),
            "{:?}",
            n.tag_name()
        );
        for a in n.attributes() {
            assert!(!a.name().starts_with("on"), "{}", a.name());
            assert!(!matches!(a.name(), "style" | "href"), "{}", a.name());
            assert!(!a.value().contains("url("), "{}", a.value());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("map.png");
    let child = Command::new("rsvg-convert")
        .args(["--format", "png", "--output"])
        .arg(&png)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("ESTATE_AUDIT_CI").is_none(),
            "rsvg-convert is not installed, and CI must draw the map (.ci/run installs librsvg2-bin)"
        );
        eprintln!("rsvg-convert is not installed: the map's SVG is checked as XML only");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(svg.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // The IHDR's width and height are the SVG's.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(Some(width.to_string().as_str()), root.attribute("width"));
    assert_eq!(Some(height.to_string().as_str()), root.attribute("height"));
}

/// The README shows this very drawing (`docs/map-demo.svg`); `UPDATE_GENERATED=1` rewrites it.
#[test]
fn the_readmes_map_is_the_demos() {
    let svg = demo().1.render(MapFormat::Svg);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/map-demo.svg");
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(path, &svg).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == svg,
        "docs/map-demo.svg is stale: run UPDATE_GENERATED=1 cargo test --test map"
    );
}

#[test]
fn the_map_is_the_same_bytes_every_run() {
    for f in [MapFormat::Svg, MapFormat::Dot, MapFormat::Mermaid] {
        assert_eq!(demo().1.render(f), demo().1.render(f), "{f:?}");
    }
}

fn with_map(map: EstateMap) -> RenderOptions {
    RenderOptions {
        map: Some(map),
        ..Default::default()
    }
}

/// The HTML report with its map: still nothing that loads, runs or styles from outside; the
/// drawing inline, under the page's unchanged Content-Security-Policy.
#[test]
fn the_html_report_draws_the_map_inline_under_its_csp() {
    let (r, map) = demo();
    let html = report::render(&r, Format::Html, &with_map(map));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
    ));
    assert!(html.contains("<h2>Map</h2>"));
    assert_eq!(html.matches("<svg ").count(), 1);
    assert_eq!(html.matches("</svg>").count(), 1);
    for banned in [
        "<script",
        "<img",
        "<link",
        "<iframe",
        "src=",
        "url(",
        "@import",
        "http://",
        " style=",
        "xlink",
        " onload=",
        " onclick=",
        " onerror=",
        " onmouseover=",
        "<foreignObject",
    ] {
        assert!(!html.contains(banned), "{banned}");
    }
    // Without a map, no section.
    let plain = report::render(&r, Format::Html, &RenderOptions::default());
    assert!(!plain.contains("<h2>Map</h2>"));
}

#[test]
fn the_markdown_report_carries_the_mermaid_diagram() {
    let (r, map) = demo();
    let mermaid = map.render(MapFormat::Mermaid);
    let md = report::render(&r, Format::Markdown, &with_map(map));
    assert!(md.contains("## Map\n\n"));
    assert!(md.contains(&format!("```mermaid\n{mermaid}```\n")));
    assert_eq!(md.matches("```").count() % 2, 0);
}

/// The demo with every subnet, instance and database named to break out of the HTML page, the
/// Markdown fence or the Mermaid diagram: each report keeps its names as text.
#[test]
fn hostile_names_stay_text_in_the_reports_maps() {
    let hostile = "</svg><script>alert(1)</script>```\n\"]; A-->B; %%{init}%%";
    let mut inv = demo_inventory();
    for r in &mut inv.resources {
        if matches!(
            r.kind(),
            "aws.ec2.subnet" | "aws.ec2.instance" | "aws.rds.db_instance"
        ) {
            r.tags.insert("Name".into(), hostile.into());
        }
    }
    let now: DateTime<Utc> = "2026-11-01T06:00:00Z".parse().unwrap();
    let (r, map) = audit::run_many(
        vec![inv],
        None,
        &PolicySet::builtin().unwrap(),
        &audit::demo_waivers(),
        now,
        &mut Stats::default(),
    );
    let html = report::render(&r, Format::Html, &with_map(map.clone()));
    assert!(!html.contains("<script"));
    assert_eq!(html.matches("</svg>").count(), 1);
    let diagram = map.render(MapFormat::Mermaid);
    let md = report::render(&r, Format::Markdown, &with_map(map));
    // The fence holds the whole diagram, and nothing in it can close the fence early.
    assert!(md.contains(&format!("```mermaid\n{diagram}```\n")));
    assert!(!diagram.contains('`'));
    assert!(!diagram.contains("A-->B"));
    assert!(!diagram.contains("<script"));
    assert!(!diagram.contains("%%"));
}
