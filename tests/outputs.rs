//! The three users' outputs (issue #5): the Markdown sign-off, JUnit, HTML and Prometheus metrics
//! read back by parsing or pinned by snapshots; hostile names inert in every format; the
//! comparison with a baseline and `--fail-on-new`; `--output-dir`; and determinism (same inventory
//! and clock → the same bytes).

use support::offline;

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use estate_audit::audit;
use estate_audit::finding::{Gate, GateSelection, Outcome, Report, Severity, Status};
use estate_audit::history::{self, Baseline};
use estate_audit::report::{self, markdown, metrics, Format, RenderOptions};
use support::{finding, sample_report, HOSTILE};

const NOW: &str = "2026-11-01T06:00:00Z";

fn launch_high() -> RenderOptions {
    RenderOptions {
        gate: Some(GateSelection::Launch),
        fail_on: Some(Severity::High),
        ..Default::default()
    }
}

/// The sample report with a version that does not move with releases, and a comparison.
fn pinned() -> Report {
    let mut r = sample_report();
    r.tool.version = "0.0.0-test".into();
    let baseline = Baseline::parse(
        &serde_json::json!({
            "generated_at": "2026-04-30T06:00:00Z",
            "findings": [
                // Still open.
                {"rule_id": "aws-ec2-ebs-encrypted",
                 "resource_id": "arn:aws:ec2:eu-west-1:111122223333:volume/vol-0abc",
                 "status": "fail", "severity": "high", "gate": "launch"},
                // Resolved: passes now.
                {"rule_id": "aws-rds-engine-mysql",
                 "resource_id": "arn:aws:rds:eu-west-1:111122223333:db:estate-db",
                 "resource_name": "estate-db", "status": "fail", "severity": "low", "gate": "launch"},
                // Resolved: the resource is gone.
                {"rule_id": "aws-rds-not-public", "resource_id": "arn:aws:rds:eu-west-1:111122223333:db:old",
                 "resource_name": "old", "status": "unknown", "severity": "critical", "gate": "launch"}
            ]
        })
        .to_string(),
        "baseline.json",
    )
    .unwrap();
    r.diff = Some(history::diff(&r, &baseline));
    r
}

// ---------------------------------------------------------------------------------------------
// JUnit

#[test]
fn junit_parses_with_one_testcase_per_rule_and_resource() {
    let report = sample_report();
    let xml = report::render(&report, Format::Junit, &RenderOptions::default());
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");

    let rule_suites: Vec<roxmltree::Node> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter(|n| !n.attribute("name").unwrap().starts_with("estate-audit."))
        .collect();
    let rules: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(rule_suites.len(), rules.len(), "one suite per rule");

    let mut cases = 0;
    for suite in &rule_suites {
        let rule = suite.attribute("name").unwrap();
        let tcs: Vec<roxmltree::Node> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let expected: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule)
            .collect();
        assert_eq!(tcs.len(), expected.len(), "{rule}");
        assert_eq!(
            suite.attribute("tests").unwrap(),
            expected.len().to_string()
        );
        cases += tcs.len();
        for tc in tcs {
            let name = tc.attribute("name").unwrap();
            let f = expected
                .iter()
                .find(|f| name.contains(f.resource_id.as_str()))
                .unwrap_or_else(|| panic!("{name}: names its resource"));
            let child = |t: &str| tc.children().find(|n| n.has_tag_name(t));
            match f.status {
                Status::Fail => {
                    let fl = child("failure").expect("fail → <failure>");
                    assert_eq!(fl.attribute("type"), Some(f.severity.as_str()));
                }
                Status::Unknown => assert!(child("error").is_some(), "unknown → <error>"),
                Status::Suppressed => {
                    let sk = child("skipped").expect("waived → <skipped>");
                    let msg = sk.attribute("message").unwrap();
                    assert!(msg.contains("IP whitelisting not implemented"), "{msg}");
                    assert!(msg.contains("2026-12-31"), "{msg}");
                }
                Status::Pass => assert!(tc.children().all(|n| !n.is_element()), "pass: empty"),
            }
            assert!(tc
                .attribute("classname")
                .unwrap()
                .ends_with(f.rule_id.as_str()));
        }
    }
    assert_eq!(cases, report.findings.len());

    // Totals: collection errors are errors, expired waivers failures.
    let c = &report.summary.counts;
    let attr = |n: &str| root.attribute(n).unwrap().parse::<usize>().unwrap();
    assert_eq!(
        attr("tests"),
        report.findings.len() + report.collection_errors.len() + report.waiver_issues.len()
    );
    assert_eq!(attr("failures"), c.fail + 1);
    assert_eq!(attr("errors"), c.unknown + report.collection_errors.len());
    assert_eq!(attr("skipped"), c.suppressed);
    let collection = root
        .children()
        .find(|n| n.attribute("name") == Some("estate-audit.collection"))
        .expect("collection suite");
    assert_eq!(collection.attribute("errors"), Some("1"));
}

#[test]
fn junit_stays_well_formed_with_characters_xml_forbids() {
    let mut report = sample_report();
    let rule = report.rules[0].clone();
    let nasty = "nul\u{0} vt\u{b} esc\u{1b}[2J nonchar\u{fffe} ]]> <!-- &amp; \"'";
    report.findings.push(finding(
        &rule,
        "arn:aws:rds:eu-west-1:111122223333:db:nasty",
        nasty,
        Status::Fail,
        nasty,
    ));
    report.finish(13);
    let xml = report::render(&report, Format::Junit, &RenderOptions::default());
    assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}') && !xml.contains('\u{fffe}'));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let tc = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name").is_some_and(|a| a.contains("db:nasty"))
        })
        .unwrap();
    // The name reads back as the inert text: visible escapes, markup as characters.
    let name = tc.attribute("name").unwrap();
    assert!(
        name.starts_with("nul\\u{0} vt\\u{b} esc\\u{1b}[2J nonchar\\u{fffe} ]]> <!-- &amp; \"'"),
        "{name}"
    );
    // The hostile name of the sample: its <script> is text, never an element.
    assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
    assert!(xml.contains(&markdown_free(HOSTILE)[..4]));
}

fn markdown_free(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

// ---------------------------------------------------------------------------------------------
// Markdown

#[test]
fn markdown_sign_off_snapshot() {
    insta::assert_snapshot!(report::render(&pinned(), Format::Markdown, &launch_high()));
}

#[test]
fn markdown_verdict_follows_gate_and_threshold() {
    let mut report = sample_report();
    let head = |r: &Report, o: &RenderOptions| {
        report::render(r, Format::Markdown, o)
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        head(&report, &launch_high()),
        "# Estate audit sign-off: INCOMPLETE"
    );
    // Complete: no collection error, no unknown finding, no expired waiver.
    report.collection_errors.clear();
    report.waiver_issues.clear();
    report.findings.retain(|f| f.status != Status::Unknown);
    report.finish(12);
    assert_eq!(
        head(&report, &launch_high()),
        "# Estate audit sign-off: FAIL"
    );
    // Only the launch gate's failures at or above high count: drop those, an operate failure
    // (not gating) and a medium one remain.
    report.findings.retain(|f| {
        !(f.status == Status::Fail && f.gate == Gate::Launch && f.severity <= Severity::High)
    });
    report.findings.push(finding(
        &report
            .rules
            .iter()
            .find(|r| r.gate == Gate::Operate)
            .unwrap()
            .clone(),
        "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x",
        "x",
        Status::Fail,
        "no PagerDuty route",
    ));
    report.finish(12);
    let md = report::render(&report, Format::Markdown, &launch_high());
    assert!(md.starts_with("# Estate audit sign-off: PASS"), "{md}");
    // The operate failure is still reported.
    assert!(md.contains("no PagerDuty route"));
    let all = RenderOptions {
        gate: Some(GateSelection::All),
        fail_on: Some(Severity::High),
        ..Default::default()
    };
    assert_eq!(head(&report, &all), "# Estate audit sign-off: FAIL");
}

/// Pipes that split a GFM table row: not escaped, not inside a code span... approximated by
/// removing escaped pipes first (code spans escape theirs too).
fn cells(row: &str) -> usize {
    row.replace("\\|", "").matches('|').count()
}

/// A line without its code spans (whose content Markdown shows literally): a run of n backticks
/// up to the next run of exactly n.
fn outside_code(line: &str) -> String {
    let mut out = String::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let n = b[i..].iter().take_while(|c| **c == b'`').count();
            let mut j = i + n;
            let mut close = None;
            while j < b.len() {
                if b[j] == b'`' {
                    let m = b[j..].iter().take_while(|c| **c == b'`').count();
                    if m == n {
                        close = Some(j + m);
                        break;
                    }
                    j += m;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(end) => {
                    out.push_str("CODE");
                    i = end;
                }
                None => {
                    out.push_str(&line[i..i + n]);
                    i += n;
                }
            }
        } else {
            let ch = line[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn markdown_makes_hostile_names_inert() {
    let raw = report::render(&sample_report(), Format::Markdown, &launch_high());
    assert!(!raw.contains('\u{1b}') && !raw.contains('\u{7}'));
    // The hostile name appears, literally, in a code span.
    assert!(raw.contains("`evil\\u{1b}]0;pwned"), "{raw}");
    let md: String = raw.lines().map(|l| outside_code(l) + "\n").collect();
    assert!(!md.contains("<script"), "HTML stays text");
    assert!(!md.contains("](javascript"), "no link can be formed");
    // Every table row has as many cells as its header.
    let mut header_cells = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = cells(line);
            match header_cells {
                None => header_cells = Some(n),
                Some(h) => assert_eq!(n, h, "row breaks its table: {line}"),
            }
        } else {
            header_cells = None;
        }
    }
    // Our own HTML (details, br) is the only HTML.
    for tag in md.match_indices('<').map(|(i, _)| &md[i..]) {
        assert!(
            ["<br>", "<details>", "</details>", "<summary>", "</summary>"]
                .iter()
                .any(|t| tag.starts_with(t)),
            "unexpected tag at {}",
            &tag[..tag.len().min(30)]
        );
    }
}

#[test]
fn markdown_fits_the_step_summary_limit() {
    let report = support::many_failures(2000);
    let mut with_passes = report.clone();
    for f in with_passes.findings.iter_mut().skip(1000) {
        f.status = Status::Pass;
    }
    with_passes.finish(2000);
    let full = markdown::render_limited(&with_passes, &launch_high(), usize::MAX);
    assert!(full.contains("1000 passing</summary>"));
    // A limit the document without passes fits: passes are counted, not listed.
    let lean_limit = full.len() - 1000;
    let lean = markdown::render_limited(&with_passes, &launch_high(), lean_limit);
    assert!(lean.len() <= lean_limit);
    assert!(
        lean.contains("1000 passing (not listed"),
        "{}",
        &lean[lean.len() - 400..]
    );
    assert!(lean.contains("**Truncated.**"));
    // A limit nothing fits: cut at a line, with the note.
    let cut = markdown::render_limited(&with_passes, &launch_high(), 20_000);
    assert!(cut.len() <= 20_000, "{}", cut.len());
    assert!(
        cut.trim_end().ends_with("of `--output-dir`)."),
        "{}",
        &cut[cut.len() - 300..]
    );
    assert!(cut.starts_with("# Estate audit sign-off: INCOMPLETE"));
    // The real limit is GitHub's.
    assert_eq!(markdown::STEP_SUMMARY_LIMIT, 1024 * 1024);
    let big = report::render(
        &support::many_failures(20_000),
        Format::Markdown,
        &launch_high(),
    );
    assert!(big.len() <= markdown::STEP_SUMMARY_LIMIT);
}

// ---------------------------------------------------------------------------------------------
// HTML

#[test]
fn html_snapshot() {
    insta::assert_snapshot!(report::render(&pinned(), Format::Html, &launch_high()));
}

#[test]
fn html_is_self_contained_and_escapes_everything() {
    let html = report::render(&sample_report(), Format::Html, &launch_high());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for banned in [
        "<script", "<img", "<link", "<iframe", "src=", "url(", "@import", "http://",
    ] {
        assert!(!html.contains(banned), "{banned}");
    }
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    // The only URLs are rule references, and they are links.
    for (i, _) in html.match_indices("https://") {
        let before = &html[..i];
        assert!(
            before.ends_with("<a href=\"") || before.ends_with("\" rel=\"noreferrer noopener\">"),
            "unexpected URL at {}",
            &html[i..i + 40]
        );
    }
    // Balanced tables: the hostile name did not close or open one.
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("</table>").count()
    );
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parser of the Prometheus text exposition format, strict enough to catch what the real one
/// rejects: HELP/TYPE before samples, valid names, label values with only `\\`, `\"`, `\n` escapes.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut typed = std::collections::BTreeSet::new();
    let mut samples = Vec::new();
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    assert!(text.ends_with('\n'), "ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert!(valid_name(name), "{line}");
            assert!(["gauge", "counter", "untyped"].contains(&ty), "{line}");
            assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => panic!("no value: {line}"),
        };
        assert!(valid_name(name), "{line}");
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        let mut labels = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        if chars.peek() == Some(&'{') {
            chars.next();
            loop {
                let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
                assert!(valid_name(&key), "label name {key:?}: {line}");
                assert_eq!(chars.next(), Some('='));
                assert_eq!(chars.next(), Some('"'));
                let mut value = String::new();
                loop {
                    match chars.next().expect("unterminated label value") {
                        '\\' => match chars.next() {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("invalid escape \\{other:?}: {line}"),
                        },
                        '"' => break,
                        '\n' => panic!("newline in a label value"),
                        c => value.push(c),
                    }
                }
                labels.insert(key, value);
                match chars.next() {
                    Some(',') => continue,
                    Some('}') => break,
                    other => panic!("{other:?}: {line}"),
                }
            }
        }
        let value: String = chars.collect();
        let value = value.trim();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value {v:?}: {line}")),
        };
        samples.push(Sample {
            name: name.into(),
            labels,
            value,
        });
    }
    samples
}

#[test]
fn metrics_parse_and_count_every_finding() {
    let report = pinned();
    let text = metrics::render(
        &report,
        &metrics::RunInfo {
            duration: std::time::Duration::from_millis(1500),
            previous_last_success: None,
        },
    );
    let samples = parse_exposition(&text);
    let findings: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "estate_audit_findings")
        .collect();
    let total: f64 = findings.iter().map(|s| s.value).sum();
    assert_eq!(total as usize, report.findings.len());
    for s in &findings {
        let keys: Vec<&str> = s.labels.keys().map(String::as_str).collect();
        assert_eq!(keys, ["gate", "rule", "severity", "status"]);
    }
    // Zeros too: every rule has every status, so a fixed finding drops to 0 instead of vanishing.
    assert_eq!(findings.len(), report.rules.len() * 4);
    let one = |name: &str| samples.iter().find(|s| s.name == name).map(|s| s.value);
    assert_eq!(one("estate_audit_duration_seconds"), Some(1.5));
    assert_eq!(one("estate_audit_complete"), Some(0.0));
    // Incomplete and nothing to carry over: no last-success sample.
    assert_eq!(one(metrics::LAST_SUCCESS), None);
    let errs: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "estate_audit_collection_errors")
        .collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].labels["provider"], "aws");
    assert_eq!(errs[0].labels["service"], "sns");
    let changes: BTreeMap<&str, f64> = samples
        .iter()
        .filter(|s| s.name == "estate_audit_changes")
        .map(|s| (s.labels["change"].as_str(), s.value))
        .collect();
    let d = report.diff.as_ref().unwrap();
    assert_eq!(changes["new"] as usize, d.new.len());
    assert_eq!(changes["resolved"] as usize, d.resolved.len());

    // Incomplete: the previous success is carried over.
    let text = metrics::render(
        &report,
        &metrics::RunInfo {
            duration: Default::default(),
            previous_last_success: Some(1_700_000_000.0),
        },
    );
    assert_eq!(metrics::previous_last_success(&text), Some(1_700_000_000.0));

    // Complete: the last success is this run.
    let mut complete = report.clone();
    complete.collection_errors.clear();
    complete.findings.retain(|f| f.status != Status::Unknown);
    complete.finish(12);
    let text = metrics::render(
        &complete,
        &metrics::RunInfo {
            duration: Default::default(),
            previous_last_success: Some(1.0),
        },
    );
    let samples = parse_exposition(&text);
    let last = samples
        .iter()
        .find(|s| s.name == metrics::LAST_SUCCESS)
        .unwrap();
    assert_eq!(last.value, complete.generated_at.timestamp() as f64);
}

#[test]
fn metrics_label_values_survive_hostile_text() {
    let mut report = sample_report();
    report.collection_errors[0].service = "sns\"} evil{x=\"1\n\\".into();
    report.collection_errors[0].provider = HOSTILE.into();
    report.rules[0].id = "rule\"with\\quotes\nand newline".into();
    report.findings[0].rule_id = report.rules[0].id.as_str().into();
    let text = metrics::render(&report, &Default::default());
    assert!(!text.contains('\u{1b}'));
    let samples = parse_exposition(&text);
    let err = samples
        .iter()
        .find(|s| s.name == "estate_audit_collection_errors")
        .unwrap();
    assert_eq!(err.labels["service"], "sns\"} evil{x=\"1\n\\");
    assert!(err.labels["provider"].starts_with("evil\\u{1b}]0;pwned"));
    assert!(samples.iter().any(
        |s| s.labels.get("rule").map(String::as_str) == Some("rule\"with\\quotes\nand newline")
    ));
}

// ---------------------------------------------------------------------------------------------
// Comparison with a baseline

#[test]
fn the_diff_sorts_findings_into_new_resolved_and_still_open() {
    let report = pinned();
    let d = report.diff.as_ref().unwrap();
    let ids = |v: &[estate_audit::finding::DiffEntry]| {
        v.iter()
            .map(|e| format!("{} {}", e.rule_id, e.resource_name))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&d.still_open), ["aws-ec2-ebs-encrypted data-volume"]);
    assert_eq!(
        ids(&d.resolved),
        ["aws-rds-not-public old", "aws-rds-engine-mysql estate-db"]
    );
    assert_eq!(d.resolved[0].status, None, "gone");
    assert_eq!(d.resolved[1].status, Some(Status::Pass));
    // New: every open finding the baseline did not have (the waived one is not open).
    let open = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown))
        .count();
    assert_eq!(d.new.len(), open - 1);
    assert!(d.new.iter().all(|e| e.previous_status.is_none()));
    assert_eq!(
        d.baseline_generated_at.unwrap().to_rfc3339(),
        "2026-04-30T06:00:00+00:00"
    );
    // Order-independent.
    let mut shuffled = report.clone();
    shuffled.findings.reverse();
    let b = Baseline {
        generated_at: None,
        findings: vec![],
    };
    assert_eq!(history::diff(&shuffled, &b), history::diff(&report, &b));
    // The JSON report carries it; without a comparison it has no `diff` key.
    let json: serde_json::Value =
        serde_json::from_str(&report::render(&report, Format::Json, &Default::default())).unwrap();
    assert_eq!(
        json["diff"]["still_open"][0]["rule_id"],
        "aws-ec2-ebs-encrypted"
    );
    let json: serde_json::Value = serde_json::from_str(&report::render(
        &sample_report(),
        Format::Json,
        &Default::default(),
    ))
    .unwrap();
    assert!(json.get("diff").is_none());
}

#[test]
fn a_baseline_from_another_build_still_compares() {
    // Unknown statuses read as open (fail closed), missing fingerprints are derived.
    let b = Baseline::parse(
        r#"{"findings": [{"rule_id": "r", "resource_id": "x", "status": "exploded", "severity": "catastrophic"}], "extra": 1}"#,
        "b.json",
    )
    .unwrap();
    assert_eq!(b.findings[0].status, Status::Unknown);
    assert_eq!(b.findings[0].severity, Severity::Info);
    assert_eq!(
        b.findings[0].fingerprint,
        estate_audit::finding::fingerprint("r", "x")
    );
    for bad in ["", "{", "[]", r#"{"findings": 3}"#, "\u{0}"] {
        assert!(Baseline::parse(bad, "b.json").is_err(), "{bad:?}");
    }
}

#[test]
fn fail_on_new_fails_only_for_new_failures_in_the_gate() {
    let mut report = sample_report();
    report.collection_errors.clear();
    report.waiver_issues.clear();
    report.findings.retain(|f| f.status != Status::Unknown);
    report.finish(12);
    let gate = GateSelection::Launch;
    // No comparison: every failure counts.
    assert_eq!(
        estate_audit::finding::outcome_new(&report, gate, Severity::Low),
        Outcome::Failing
    );
    // Compared with itself: nothing is new.
    let itself = Baseline::parse(
        &report::render(&report, Format::Json, &Default::default()),
        "self.json",
    )
    .unwrap();
    report.diff = Some(history::diff(&report, &itself));
    assert_eq!(
        estate_audit::finding::outcome(&report, gate, Severity::Low),
        Outcome::Failing
    );
    assert_eq!(
        estate_audit::finding::outcome_new(&report, gate, Severity::Low),
        Outcome::Clean
    );
    // A new low-severity failure: fails at `low`, not at `high`.
    let rule = report
        .rules
        .iter()
        .find(|r| r.severity == Severity::Low)
        .unwrap()
        .clone();
    report.findings.push(finding(
        &rule,
        "arn:aws:rds:eu-west-1:111122223333:db:new",
        "new",
        Status::Fail,
        "engine is postgres",
    ));
    report.finish(13);
    report.diff = Some(history::diff(&report, &itself));
    assert_eq!(
        estate_audit::finding::outcome_new(&report, gate, Severity::Low),
        Outcome::Failing
    );
    assert_eq!(
        estate_audit::finding::outcome_new(&report, gate, Severity::High),
        Outcome::Clean
    );
    // Incomplete still wins.
    report.findings[0].status = Status::Unknown;
    report.finish(13);
    assert_eq!(
        estate_audit::finding::outcome_new(&report, gate, Severity::Low),
        Outcome::Incomplete
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn every_format_is_byte_identical_for_the_same_inventory_and_clock() {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let policies = estate_audit::policy::PolicySet::builtin().unwrap();
    let waivers = audit::demo_waivers();
    let a = audit::run(
        estate_audit::model::json::demo_inventory(),
        None,
        &policies,
        &waivers,
        now,
    );
    let b = audit::run(
        estate_audit::model::json::demo_inventory(),
        None,
        &policies,
        &waivers,
        now,
    );
    let opts = launch_high();
    for format in Format::ALL {
        assert_eq!(
            report::render(&a, format, &opts),
            report::render(&b, format, &opts),
            "{format}"
        );
        // What `--output` and `--output-dir` write (streamed for JSON and SARIF) is the text.
        let mut written = Vec::new();
        report::write(&a, format, &opts, &mut written).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            report::render(&a, format, &opts),
            "{format}"
        );
    }
    let run = metrics::RunInfo::default();
    assert_eq!(metrics::render(&a, &run), metrics::render(&b, &run));
}

// ---------------------------------------------------------------------------------------------
// The command line: --output-dir, --baseline, --fail-on-new, --metrics, --format

fn bin(now: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_estate-audit"));
    offline::offline(&mut c);
    c.env("ESTATE_AUDIT_NOW", now).env_remove("RUST_LOG");
    c
}

fn run_at(now: &str, args: &[&str]) -> Output {
    bin(now).args(args).output().expect("the binary runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The compliant estate with `edits` (resource id suffix, JSON pointer, value) applied.
fn compliant_with(dir: &Path, name: &str, edits: &[(&str, &str, serde_json::Value)]) -> PathBuf {
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliant.json")).unwrap()).unwrap();
    for (at, pointer, value) in edits {
        let r = inv["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["id"].as_str().unwrap().ends_with(at))
            .expect("resource");
        *r.pointer_mut(pointer).expect("pointer") = value.clone();
    }
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&inv).unwrap()).unwrap();
    path
}

#[test]
fn every_format_is_selectable_on_the_command_line() {
    for (format, check) in [
        ("markdown", "# Estate audit sign-off: INCOMPLETE"),
        ("junit", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let o = run_at(
            NOW,
            &["audit", "--demo", "--format", format, "--gate", "launch"],
        );
        assert_eq!(o.status.code(), Some(2));
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(
            out.starts_with(check),
            "{format}: {}",
            &out[..out.len().min(200)]
        );
    }
}

#[test]
fn output_dir_writes_every_format_and_compares_with_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let metrics_file = dir.path().join("estate.prom");
    let volume = "volume/vol-0abc1234rabbit001";
    let imds = "instance/i-0f00rabbitmq000001";
    let one = compliant_with(
        dir.path(),
        "one.json",
        &[(volume, "/attrs/encrypted", false.into())],
    );
    let args = |inv: &Path| {
        vec![
            "audit".to_string(),
            "--inventory".into(),
            inv.to_str().unwrap().into(),
            "--output-dir".into(),
            reports.to_str().unwrap().into(),
            "--metrics".into(),
            metrics_file.to_str().unwrap().into(),
            "--fail-on-new".into(),
        ]
    };

    // First run: the failure is new.
    let o = bin("2026-11-01T06:00:00Z")
        .args(args(&one))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let first = reports.join("20261101T060000Z");
    for ext in ["txt", "json", "sarif", "md", "xml", "html"] {
        assert!(
            first.join(format!("report.{ext}")).is_file(),
            "report.{ext}"
        );
    }
    let latest_text = std::fs::read_to_string(reports.join("latest.json")).unwrap();
    // latest.json is the run's JSON report, byte for byte, and no temporary file is left.
    assert_eq!(
        latest_text,
        std::fs::read_to_string(first.join("report.json")).unwrap()
    );
    let names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    let latest: serde_json::Value = serde_json::from_str(&latest_text).unwrap();
    assert_eq!(latest["diff"]["no_baseline"], true);
    assert_eq!(latest["diff"]["new"].as_array().unwrap().len(), 1);
    let prom = std::fs::read_to_string(&metrics_file).unwrap();
    let last_success = metrics::previous_last_success(&prom).expect("complete run: last success");

    // Second run, same estate: still open, nothing new → 0 with --fail-on-new, 1 without.
    let o = bin("2026-11-02T06:00:00Z")
        .args(args(&one))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("Changes since the previous run (2026-11-01T06:00:00Z): 0 new · 0 resolved · 1 still open"),
        "{table}"
    );
    let md = std::fs::read_to_string(reports.join("20261102T060000Z/report.md")).unwrap();
    assert!(md.contains("0 new · 0 resolved · 1 still open"), "{md}");

    // Third run: the volume is fixed and IMDSv1 appears: one new, one resolved.
    let two = compliant_with(
        dir.path(),
        "two.json",
        &[(
            imds,
            "/attrs/metadata_options/http_tokens",
            "optional".into(),
        )],
    );
    let o = bin("2026-11-03T06:00:00Z")
        .args(args(&two))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let latest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("latest.json")).unwrap())
            .unwrap();
    assert_eq!(latest["diff"]["new"][0]["rule_id"], "aws-ec2-imdsv2");
    assert_eq!(
        latest["diff"]["resolved"][0]["rule_id"],
        "aws-ec2-ebs-encrypted"
    );
    assert_eq!(latest["diff"]["resolved"][0]["status"], "pass");

    // Fourth run, incomplete: exit 2 even with --fail-on-new; last success carried over.
    let three = compliant_with(
        dir.path(),
        "three.json",
        &[
            (
                imds,
                "/attrs/metadata_options/http_tokens",
                "optional".into(),
            ),
            (
                "db:estate-db",
                "/attrs/storage_encrypted",
                serde_json::Value::Null,
            ),
        ],
    );
    let o = bin("2026-11-04T06:00:00Z")
        .args(args(&three))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let prom = std::fs::read_to_string(&metrics_file).unwrap();
    assert!(prom.contains("estate_audit_complete 0"));
    let carried = metrics::previous_last_success(&prom).unwrap();
    assert!(
        carried > last_success,
        "the third run was the last complete one"
    );
    assert_eq!(carried, 1_793_685_600.0, "2026-11-03T06:00:00Z");

    // An explicit --baseline wins over latest.json; the same clock twice gets its own folder.
    let o = bin("2026-11-04T06:00:00Z")
        .args(args(&three))
        .args(["--baseline", first.join("report.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(reports.join("20261104T060000Z-2/report.json").is_file());
    let latest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("latest.json")).unwrap())
            .unwrap();
    assert_eq!(
        latest["diff"]["baseline_generated_at"], "2026-11-01T06:00:00Z",
        "compared with the first run"
    );

    // A broken --baseline is bad input.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let o = run_at(
        NOW,
        &["audit", "--demo", "--baseline", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("baseline"));
}

#[test]
fn two_runs_over_the_same_inventory_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut folders = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let o = run_at(
            NOW,
            &["audit", "--demo", "--output-dir", out.to_str().unwrap()],
        );
        assert_eq!(o.status.code(), Some(2));
        folders.push(out);
    }
    for file in [
        "latest.json",
        "20261101T060000Z/report.txt",
        "20261101T060000Z/report.json",
        "20261101T060000Z/report.sarif",
        "20261101T060000Z/report.md",
        "20261101T060000Z/report.xml",
        "20261101T060000Z/report.html",
    ] {
        let a = std::fs::read(folders[0].join(file)).unwrap();
        let b = std::fs::read(folders[1].join(file)).unwrap();
        assert!(a == b, "{file} differs between two runs");
    }
}

#[test]
fn the_demo_sarif_meets_github_rules_and_leaves_waived_findings_out() {
    let o = run_at(NOW, &["audit", "--demo", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = estate_audit::report::sarif::check_github(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
    for run in doc["runs"].as_array().unwrap() {
        for r in run["results"].as_array().unwrap() {
            assert!(
                r.get("suppressions").is_none(),
                "waived findings are left out"
            );
            // The alert names the resource (first, and in its location) and the rule.
            let text = r["message"]["text"].as_str().unwrap();
            let name = r["locations"][0]["logicalLocations"][0]["name"]
                .as_str()
                .unwrap();
            assert!(text.starts_with(name), "{text}");
            assert!(text.contains(r["ruleId"].as_str().unwrap()), "{text}");
            let fp = r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap();
            assert_eq!(fp.len(), 32);
        }
        for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
            assert!(rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("**Remediation**"));
        }
    }
}

#[test]
fn rules_markdown_is_the_readme_table() {
    let o = run_at(NOW, &["rules", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let table = String::from_utf8(o.stdout).unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let begin = readme.find("<!-- rules:begin").unwrap();
    let begin = begin + readme[begin..].find('\n').unwrap() + 1;
    let end = readme.find("<!-- rules:end -->").unwrap();
    assert_eq!(
        &readme[begin..end],
        table,
        "README's rule table is stale: run `UPDATE_GENERATED=1 cargo test --test catalog`"
    );
}

/// `[monitoring]` names six parts; each format says what the audit did with every one of them
/// (audited, out of scope because declared not used, or not audited by this version), so that a
/// part without findings never reads as a clean one. Without `[monitoring]` nothing is said.
#[test]
fn every_format_says_which_parts_of_the_monitoring_plane_were_judged() {
    let dir = tempfile::tempdir().unwrap();
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliant.json")).unwrap()).unwrap();
    inv["estate"]["monitoring"]["not_used"] = serde_json::json!(["zabbix", "loki"]);
    let path = dir.path().join("inv.json");
    std::fs::write(&path, serde_json::to_string(&inv).unwrap()).unwrap();
    let inv_arg = path.to_str().unwrap();
    let metrics_file = dir.path().join("audit.prom");
    let out = |format: &str| {
        let o = run_at(
            NOW,
            &[
                "audit",
                "--inventory",
                inv_arg,
                "--format",
                format,
                "--metrics",
                metrics_file.to_str().unwrap(),
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let table = out("table");
    assert!(
        table.contains(
            "monitoring plane: audited pagerduty, prometheus, alertmanager, grafana · out of \
             scope (declared not used) zabbix, loki"
        ),
        "{table}"
    );
    let md = out("markdown");
    assert!(md.contains("monitoring plane"), "{md}");
    assert!(
        md.contains("out of scope (declared not used) zabbix, loki"),
        "{md}"
    );
    let html = out("html");
    assert!(
        html.contains("out of scope (declared not used) zabbix, loki"),
        "{html}"
    );

    let junit = out("junit");
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("estate-audit.monitoring"))
        .expect("the monitoring suite");
    let skipped: Vec<(&str, &str)> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let s = n
                .children()
                .find(|c| c.has_tag_name("skipped"))
                .expect("skipped");
            (
                n.attribute("name").unwrap(),
                s.attribute("message").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("zabbix", "out of scope (declared not used)"),
            ("loki", "out of scope (declared not used)")
        ]
    );
    let root = doc.root_element();
    let total: usize = root.attribute("skipped").unwrap().parse().unwrap();
    assert!(total >= 2, "the head counts them: {total}");

    let sarif: serde_json::Value = serde_json::from_str(&out("sarif")).unwrap();
    for run in sarif["runs"].as_array().unwrap() {
        let parts = &run["properties"]["monitoringPlane"];
        assert_eq!(parts.as_array().map(Vec::len), Some(6), "{run}");
        assert!(parts
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"part": "loki", "status": "out_of_scope"})));
    }
    let json: serde_json::Value = serde_json::from_str(&out("json")).unwrap();
    assert_eq!(
        json["scope"]["monitoring"][4],
        serde_json::json!({"part": "zabbix", "status": "out_of_scope"})
    );

    let samples = parse_exposition(&std::fs::read_to_string(&metrics_file).unwrap());
    let parts: Vec<(String, String)> = samples
        .iter()
        .filter(|s| s.name == "estate_audit_monitoring_part")
        .map(|s| (s.labels["part"].clone(), s.labels["status"].clone()))
        .collect();
    assert_eq!(parts.len(), 6);
    assert!(parts.contains(&("loki".into(), "out_of_scope".into())));
    assert!(parts.contains(&("pagerduty".into(), "audited".into())));

    // The demo has no [monitoring]: none of this appears.
    let o = run_at(NOW, &["audit", "--demo"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("monitoring plane"));
    let o = run_at(NOW, &["audit", "--demo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["scope"].get("monitoring").is_none());
}

/// The monitoring plane's findings form their own SARIF run, `estate-audit/monitoring/`, whatever
/// resource they name (a PagerDuty finding names a CloudWatch alarm of an AWS account): the plane
/// is uploaded, and its alerts closed, as one category. An audited plane with nothing to report
/// still gets its (empty) run, so GitHub learns that earlier alerts are fixed; an estate without
/// `[monitoring]` gets no such run and its runs are unchanged.
#[test]
fn sarif_puts_the_monitoring_plane_in_a_run_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let compliant: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliant.json")).unwrap()).unwrap();
    let sarif_of = |inv: &serde_json::Value, name: &str| -> serde_json::Value {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(inv).unwrap()).unwrap();
        let o = run_at(
            NOW,
            &[
                "audit",
                "--inventory",
                path.to_str().unwrap(),
                "--format",
                "sarif",
            ],
        );
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let problems = estate_audit::report::sarif::check_github(&doc);
        assert!(problems.is_empty(), "{problems:?}");
        doc
    };
    let runs = |doc: &serde_json::Value| -> BTreeMap<String, Vec<String>> {
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let rules = r["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["ruleId"].as_str().unwrap().to_string())
                    .collect();
                (
                    r["automationDetails"]["id"].as_str().unwrap().to_string(),
                    rules,
                )
            })
            .collect()
    };

    let clean = runs(&sarif_of(&compliant, "compliant.json"));
    assert_eq!(
        clean.get("estate-audit/monitoring/"),
        Some(&Vec::new()),
        "{clean:?}"
    );

    // A disabled PagerDuty service fails on every routed alarm: each result sits in the
    // monitoring run, none in the account's run.
    let mut inv = compliant.clone();
    let service = inv["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["kind"] == "pagerduty.service")
        .unwrap();
    service["attrs"]["status"] = "disabled".into();
    let failing = runs(&sarif_of(&inv, "disabled.json"));
    let monitoring = &failing["estate-audit/monitoring/"];
    assert!(!monitoring.is_empty(), "{failing:?}");
    assert!(
        monitoring.iter().all(|r| r == "pagerduty-service-active"),
        "{monitoring:?}"
    );
    for (category, rules) in &failing {
        if category != "estate-audit/monitoring/" {
            assert!(
                !rules.iter().any(|r| r.starts_with("pagerduty-")),
                "{category}: {rules:?}"
            );
        }
    }

    // Without [monitoring]: no monitoring run.
    let o = run_at(NOW, &["audit", "--demo", "--format", "sarif"]);
    let demo: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !runs(&demo).contains_key("estate-audit/monitoring/"),
        "{:?}",
        runs(&demo).keys()
    );
}
