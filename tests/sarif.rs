//! SARIF output against the schema (when `SARIF_SCHEMA` names it) and, always, against GitHub's
//! ingestion rules as `report::sarif::check_github` states them. The broken shapes of the shared
//! `sarif/fixtures/invalid/` are rebuilt inline: the project must not need the shared folder.

mod support;

use estate_audit::finding::Status;
use estate_audit::report::sarif::{build, check_github, MAX_RESULTS_PER_RUN};
use estate_audit::report::{render, Format, RenderOptions};
use serde_json::{json, Value};
use support::{many_failures, sample_report, ACCT_A, ACCT_B, ZONE};

/// Validates against the schema named by `SARIF_SCHEMA`; `None` (with a note) when unset.
fn schema_errors(doc: &Value) -> Option<Vec<String>> {
    let Ok(path) = std::env::var("SARIF_SCHEMA") else {
        eprintln!("note: SARIF_SCHEMA is not set; skipping the JSON-schema check");
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    Some(
        validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

fn assert_valid(doc: &Value) {
    let problems = check_github(doc);
    assert!(
        problems.is_empty(),
        "GitHub rules broken:\n{}",
        problems.join("\n")
    );
    if let Some(errors) = schema_errors(doc) {
        assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
    }
}

fn results(doc: &Value) -> Vec<&Value> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["results"].as_array().unwrap())
        .collect()
}

fn categories(doc: &Value) -> Vec<&str> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect()
}

#[test]
fn sample_is_valid_with_and_without_waived_findings() {
    let report = sample_report();
    assert_valid(&build(&report, false));
    assert_valid(&build(&report, true));
}

#[test]
fn output_deserialises_into_the_typed_sarif_model() {
    let doc = build(&sample_report(), true);
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_value(doc.clone()).expect("typed SARIF");
    assert_eq!(typed.runs.len(), doc["runs"].as_array().unwrap().len());
}

#[test]
fn one_run_per_account_and_one_for_cloudflare() {
    let doc = build(&sample_report(), false);
    assert_eq!(
        categories(&doc),
        [
            format!("estate-audit/aws/{ACCT_A}/"),
            format!("estate-audit/aws/{ACCT_B}/"),
            "estate-audit/cloudflare/".to_string(),
        ]
    );
    for run in doc["runs"].as_array().unwrap() {
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "estate-audit");
        assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
        // Only rules with results in this run are described.
        let used: std::collections::BTreeSet<&str> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        let described: std::collections::BTreeSet<&str> = driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(used, described);
    }
}

#[test]
fn results_are_fail_and_unknown_only_unless_waived_are_asked_for() {
    let report = sample_report();
    let without = build(&report, false);
    let statuses: Vec<&str> = results(&without)
        .iter()
        .map(|r| r["properties"]["status"].as_str().unwrap())
        .collect();
    let fails = report.summary.counts.fail;
    assert_eq!(statuses.len(), fails + report.summary.counts.unknown);
    assert!(statuses.iter().all(|s| *s == "fail" || *s == "unknown"));
    assert!(results(&without)
        .iter()
        .all(|r| r.get("suppressions").is_none()));

    let with = build(&report, true);
    let with_results = results(&with);
    let waived: Vec<&&Value> = with_results
        .iter()
        .filter(|r| r["properties"]["status"] == "suppressed")
        .collect();
    assert_eq!(waived.len(), report.summary.counts.suppressed);
    let s = &waived[0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert_eq!(
        s["justification"],
        "IP whitelisting not implemented due to application requirements"
    );
    // Passes never appear.
    assert!(results(&with)
        .iter()
        .all(|r| r["properties"]["status"] != "pass"));
    // The option reaches the SARIF renderer through `render`.
    let opts = RenderOptions {
        sarif_include_waived: true,
        ..Default::default()
    };
    let text = render(&report, Format::Sarif, &opts);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), with);
}

#[test]
fn results_carry_locations_fingerprints_levels_and_safe_text() {
    let report = sample_report();
    let doc = build(&report, true);
    for r in results(&doc) {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("estate/"), "{uri}");
        assert!(
            !uri.split('/')
                .any(|s| s == ".." || s == "." || s.is_empty()),
            "{uri}"
        );
        let arn = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        let finding = report
            .findings
            .iter()
            .find(|f| f.resource_id == arn && r["ruleId"] == f.rule_id.as_str())
            .expect("logical location names the finding's resource");
        assert_eq!(
            r["partialFingerprints"]["primaryLocationLineHash"],
            finding.fingerprint.as_str()
        );
        let expected_level = match (finding.status, finding.severity.as_str()) {
            (Status::Unknown, _) => "warning",
            (_, "critical" | "high") => "error",
            (_, "medium") => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], expected_level, "{r}");
        let text = r["message"]["text"].as_str().unwrap();
        assert!(text.contains(finding.rule_id.as_str()), "{text}");
        // Embedded-link syntax from a hostile name or message stays escaped text.
        assert!(!text.contains("](javascript") || text.contains("\\](javascript"));
        assert!(!text.replace("\\](", "").contains("]("), "{text}");
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }
    let paths: Vec<&str> = results(&doc)
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(paths
        .contains(&format!("estate/aws/{ACCT_A}/eu-west-1/rds/db_instance/estate-db").as_str()));
    assert!(paths.contains(&format!("estate/cloudflare/{ZONE}/zone/{ZONE}").as_str()));
    assert!(paths.contains(
        &format!("estate/aws/{ACCT_B}/eu-west-1/cloudwatch/alarm/__/__/etc/passwd").as_str()
    ));
}

#[test]
fn rules_describe_risk_remediation_and_github_severity() {
    let doc = build(&sample_report(), false);
    let rule = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "aws-rds-not-public")
        .unwrap();
    assert_eq!(rule["name"], "AwsRdsNotPublic");
    assert_eq!(
        rule["shortDescription"]["text"],
        "RDS instances are not publicly accessible"
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert_eq!(rule["properties"]["precision"], "very-high");
    assert_eq!(
        rule["properties"]["tags"],
        json!(["security", "launch", "aws", "rds"])
    );
    let md = rule["help"]["markdown"].as_str().unwrap();
    assert!(md.contains("**Spec:**"), "{md}");
    assert!(md.contains("<https://docs.aws.amazon.com/"), "{md}");
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("modify-db-instance"));
}

#[test]
fn output_is_deterministic_whatever_the_finding_order() {
    let report = sample_report();
    let mut shuffled = report.clone();
    shuffled.findings.reverse();
    shuffled.rules.reverse();
    assert_eq!(build(&report, true), build(&shuffled, true));
    assert_eq!(
        render(&report, Format::Sarif, &RenderOptions::default()),
        render(&report, Format::Sarif, &RenderOptions::default())
    );
}

#[test]
fn more_than_25000_results_split_into_parts_with_their_own_category() {
    let report = many_failures(MAX_RESULTS_PER_RUN + 1);
    let doc = build(&report, false);
    let problems = check_github(&doc);
    assert!(problems.is_empty(), "{problems:?}");
    let runs = doc["runs"].as_array().unwrap();
    let sizes: Vec<(&str, usize)> = runs
        .iter()
        .map(|r| {
            (
                r["automationDetails"]["id"].as_str().unwrap(),
                r["results"].as_array().unwrap().len(),
            )
        })
        .collect();
    let a = format!("estate-audit/aws/{ACCT_A}/");
    let a2 = format!("estate-audit/aws/{ACCT_A}/part-2/");
    assert!(
        sizes.contains(&(a.as_str(), MAX_RESULTS_PER_RUN)),
        "{sizes:?}"
    );
    assert!(sizes.contains(&(a2.as_str(), 1)), "{sizes:?}");
    assert_eq!(
        results(&doc).len(),
        MAX_RESULTS_PER_RUN + 1,
        "nothing truncated"
    );
    // Same tool and rules in every part.
    let part2 = runs
        .iter()
        .find(|r| r["automationDetails"]["id"] == a2.as_str())
        .unwrap();
    assert_eq!(
        part2["tool"]["driver"]["rules"].as_array().unwrap().len(),
        1
    );
    assert_eq!(part2["results"][0]["ruleIndex"], 0);
}

#[test]
fn small_document_snapshot() {
    let mut report = sample_report();
    report.tool.version = "0.0.0-test".into();
    // Two AWS accounts with a fail, an unknown and a waived finding: small enough to review.
    report.findings.retain(|f| {
        !f.resource_id.starts_with("cloudflare:") && f.resource_name != support::HOSTILE
    });
    report.scope.cloudflare_zones.clear();
    insta::assert_snapshot!(render(
        &report,
        Format::Sarif,
        &RenderOptions {
            sarif_include_waived: true,
            ..Default::default()
        }
    ));
}

// ---------------------------------------------------------------------------------------------
// The checker against the broken shapes of sarif/fixtures/invalid, rebuilt inline.

/// The shape of `sarif/fixtures/valid/cloud-findings.sarif`: two runs (aws, cloudflare).
fn fixture_like() -> Value {
    let rule = |id: &str, sev: &str| {
        json!({
            "id": id, "name": "SomeRule",
            "shortDescription": {"text": "short"},
            "fullDescription": {"text": "full"},
            "help": {"text": "help", "markdown": "**help**"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security"], "precision": "very-high", "security-severity": sev}
        })
    };
    let result = |id: &str, uri: &str, fqn: &str| {
        json!({
            "ruleId": id, "ruleIndex": 0, "level": "error",
            "message": {"text": "m"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
                },
                "logicalLocations": [{"fullyQualifiedName": fqn, "kind": "resource"}]
            }],
            "partialFingerprints": {"primaryLocationLineHash": "29aaf6b9dfe75880:1"}
        })
    };
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "cloudaudit", "semanticVersion": "0.1.0",
                                    "rules": [rule("AWS.S3.1", "8.0")]}},
                "automationDetails": {"id": "cloudaudit/aws/123456789012/2026-11-29T05:00:00Z"},
                "results": [result("AWS.S3.1", "cloud/aws/123456789012/global/s3/bucket/my-bucket",
                                   "arn:aws:s3:::my-bucket")]
            },
            {
                "tool": {"driver": {"name": "cloudaudit", "semanticVersion": "0.1.0",
                                    "rules": [rule("CF.TLS.1", "5.5")]}},
                "automationDetails": {"id": "cloudaudit/cloudflare/0123/2026-11-29T05:00:00Z"},
                "results": [result("CF.TLS.1", "cloud/cloudflare/0123/zones/example.com",
                                   "cloudflare:zone/0123")]
            }
        ]
    })
}

fn broken(mutate: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut doc = fixture_like();
    mutate(&mut doc);
    check_github(&doc)
}

fn assert_caught(name: &str, problems: &[String], needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "{name}: expected a problem mentioning {needle:?}, got {problems:?}"
    );
}

#[test]
fn checker_accepts_the_valid_fixture_shape() {
    assert_eq!(check_github(&fixture_like()), Vec::<String>::new());
    if let Some(errors) = schema_errors(&fixture_like()) {
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn checker_rejects_each_invalid_fixture_shape() {
    let r0 = "/runs/0/results/0";
    let p = broken(|d| {
        d.pointer_mut(r0)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("locations");
    });
    assert_caught("no-locations", &p, "no locations");

    let p = broken(|d| {
        d.pointer_mut(&format!("{r0}/locations/0"))
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("physicalLocation");
    });
    assert_caught("logical-location-only", &p, "no physicalLocation");

    let p = broken(|d| {
        *d.pointer_mut(&format!(
            "{r0}/locations/0/physicalLocation/artifactLocation/uri"
        ))
        .unwrap() = json!("arn:aws:s3:::my-bucket");
    });
    assert_caught("arn-as-uri", &p, "scheme \"arn\"");

    let mut bad_level = fixture_like();
    *bad_level.pointer_mut(&format!("{r0}/level")).unwrap() = json!("critical");
    assert_caught("bad-level", &check_github(&bad_level), "level \"critical\"");
    // The schema catches this one too (the only invalid fixture it catches).
    if let Some(errors) = schema_errors(&bad_level) {
        assert!(!errors.is_empty(), "schema accepted level critical");
    }

    let p = broken(|d| {
        let id = d.pointer("/runs/0/automationDetails/id").unwrap().clone();
        *d.pointer_mut("/runs/1/automationDetails/id").unwrap() = id;
    });
    assert_caught("duplicate-category", &p, "repeats an earlier run");
}

/// Breaks one thing in a valid document.
type Mutation = Box<dyn FnOnce(&mut Value)>;

#[test]
fn checker_rejects_the_other_github_rules() {
    let r0 = "/runs/0/results/0";
    let rule0 = "/runs/0/tool/driver/rules/0";
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "numeric security-severity",
            Box::new(move |d| {
                *d.pointer_mut(&format!("{rule0}/properties/security-severity"))
                    .unwrap() = json!(8.0)
            }),
            "must be a string",
        ),
        (
            "security-severity out of range",
            Box::new(move |d| {
                *d.pointer_mut(&format!("{rule0}/properties/security-severity"))
                    .unwrap() = json!("11")
            }),
            "not a number in 0–10",
        ),
        (
            "empty fullDescription",
            Box::new(move |d| {
                *d.pointer_mut(&format!("{rule0}/fullDescription/text"))
                    .unwrap() = json!(" ")
            }),
            "fullDescription",
        ),
        (
            "missing help",
            Box::new(move |d| {
                d.pointer_mut(rule0)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("help");
            }),
            "/help/text",
        ),
        (
            "wrong ruleIndex",
            Box::new(move |d| *d.pointer_mut(&format!("{r0}/ruleIndex")).unwrap() = json!(3)),
            "ruleIndex 3",
        ),
        (
            "missing fingerprint",
            Box::new(move |d| {
                d.pointer_mut(r0)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("partialFingerprints");
            }),
            "partialFingerprints",
        ),
        (
            "startLine 0",
            Box::new(move |d| {
                *d.pointer_mut(&format!(
                    "{r0}/locations/0/physicalLocation/region/startLine"
                ))
                .unwrap() = json!(0)
            }),
            "startLine",
        ),
        (
            "duplicate rule id",
            Box::new(move |d| {
                let rule = d.pointer(rule0).unwrap().clone();
                d.pointer_mut("/runs/0/tool/driver/rules")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .push(rule);
            }),
            "duplicate rule id",
        ),
        (
            "too many results",
            Box::new(move |d| {
                let r = d.pointer(r0).unwrap().clone();
                *d.pointer_mut("/runs/0/results").unwrap() =
                    Value::Array(vec![r; MAX_RESULTS_PER_RUN + 1]);
            }),
            "at most 25000",
        ),
        (
            "too many runs",
            Box::new(|d| {
                let run = d.pointer("/runs/0").unwrap().clone();
                let runs: Vec<Value> = (0..21)
                    .map(|i| {
                        let mut r = run.clone();
                        r["automationDetails"]["id"] = json!(format!("cloudaudit/aws/{i}/x"));
                        r
                    })
                    .collect();
                d["runs"] = Value::Array(runs);
            }),
            "at most 20 per file",
        ),
        (
            "too many tags",
            Box::new(move |d| {
                *d.pointer_mut(&format!("{rule0}/properties/tags")).unwrap() =
                    json!((0..21).map(|i| i.to_string()).collect::<Vec<_>>())
            }),
            "21 tags",
        ),
    ];
    for (name, mutate, needle) in cases {
        assert_caught(name, &broken(mutate), needle);
    }
}
