//! The table and JSON renderers over a report built in code (see `support`).

mod support;

use estate_audit::finding::Report;
use estate_audit::report::{render, Format, RenderOptions};
use support::sample_report;

#[test]
fn table_snapshot() {
    let out = render(&sample_report(), Format::Table, &RenderOptions::default());
    insta::assert_snapshot!(out);
}

#[test]
fn table_with_all_lists_passes_last() {
    let opts = RenderOptions {
        all: true,
        ..Default::default()
    };
    let out = render(&sample_report(), Format::Table, &opts);
    let pos = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} missing:\n{out}"));
    assert!(pos("│ fail") < pos("│ unknown"));
    assert!(pos("│ unknown") < pos("│ suppressed"));
    assert!(pos("│ suppressed") < pos("│ pass"));
    let plain = render(&sample_report(), Format::Table, &RenderOptions::default());
    assert!(!plain.contains("│ pass"), "{plain}");
}

#[test]
fn table_wraps_to_a_given_width() {
    let opts = RenderOptions {
        width: Some(80),
        ..Default::default()
    };
    let out = render(&sample_report(), Format::Table, &opts);
    for line in out
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
    {
        assert!(line.chars().count() <= 80, "{line}");
    }
}

#[test]
fn hostile_names_are_inert_in_the_table() {
    for opts in [
        RenderOptions::default(),
        RenderOptions {
            all: true,
            width: Some(60),
            ..Default::default()
        },
    ] {
        let out = render(&sample_report(), Format::Table, &opts);
        // No raw control characters survive except the newlines of the layout itself.
        let bad: Vec<char> = out
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(bad.is_empty(), "raw controls {bad:?} in:\n{out}");
        if opts.width.is_none() {
            assert!(out.contains("\\u{1b}]0;pwned\\u{7}"), "{out}");
            // The name's newline did not split the finding into two rows.
            assert!(out.contains("\\u{a}'quoted'"), "{out}");
        }
    }
}

#[test]
fn colour_is_only_emitted_when_asked() {
    let coloured = RenderOptions {
        color: true,
        ..Default::default()
    };
    let out = render(&sample_report(), Format::Table, &coloured);
    assert!(out.contains('\u{1b}'), "expected ANSI colour");
    let plain = render(&sample_report(), Format::Table, &RenderOptions::default());
    assert!(!plain.contains('\u{1b}'));
}

#[test]
fn json_parses_back_and_has_every_design_field() {
    let report = sample_report();
    let text = render(&report, Format::Json, &RenderOptions::default());
    assert!(text.ends_with("}\n"));
    let back: Report = serde_json::from_str(&text).expect("JSON report parses back");
    assert_eq!(back.findings, report.findings);
    assert_eq!(back.summary, report.summary);

    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "schema_version",
        "tool",
        "generated_at",
        "scope",
        "summary",
        "findings",
        "collection_errors",
    ] {
        assert!(v.get(key).is_some(), "top-level `{key}` missing");
    }
    let findings = v["findings"].as_array().unwrap();
    // Passes are in the JSON even without --all.
    assert!(findings.iter().any(|f| f["status"] == "pass"));
    for f in findings {
        for key in [
            "rule_id",
            "resource_id",
            "resource_name",
            "kind",
            "status",
            "severity",
            "gate",
            "message",
            "evidence",
            "waiver",
            "fingerprint",
        ] {
            assert!(f.get(key).is_some(), "finding field `{key}` missing: {f}");
        }
        assert!(["pass", "fail", "unknown", "suppressed"].contains(&f["status"].as_str().unwrap()));
    }
    let waived = findings
        .iter()
        .find(|f| f["status"] == "suppressed")
        .unwrap();
    assert_eq!(waived["waiver"]["expires"], "2026-12-31");
    // The hostile name is preserved exactly in JSON (escaped by JSON itself, not altered).
    assert!(findings
        .iter()
        .any(|f| f["resource_name"] == support::HOSTILE));
}
