//! A fixture and a snapshot per rule (ruff style). `tests/fixtures/compliant.json` is a
//! spec-shaped estate on which every built-in rule passes; `tests/fixtures/rules/<rule-id>.toml`
//! lists cases, each a few edits of that estate and the status the rule must give to named
//! resources. The findings of every case are snapshotted in `tests/snapshots/`.
//!
//! Case format:
//! ```toml
//! [[case]]
//! name = "publicly accessible"
//! set = [{ at = "db:estate-db", path = "/attrs/publicly_accessible", value = true }]
//! unset = [{ at = "db:estate-db", path = "/attrs/storage_encrypted" }]   # make a field null
//! remove = ["db:estate-db"]                                               # delete resources
//! add = ['''{"id": "...", "kind": "...", "attrs": {...}}''']              # add resources
//! config = [{ path = "/components/webhook_function", value = "other" }]  # edit estate.toml
//! unset_config = ["/estate/tag"]                                          # null an estate.toml field
//! scope_regions = ["eu-west-1"]                                           # the regions scanned
//! collection_error = { service = "rds", kinds = ["aws.rds.db_instance"] }  # provider = "aws"
//! expect = { "db:estate-db" = "fail" }    # resource-id suffix → status of this rule's finding
//!                                          # (`none`: the rule gives that resource no finding)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{TimeZone, Utc};
use estate_audit::audit;
use estate_audit::finding::{Finding, Status};
use estate_audit::model::{CollectionError, ErrorKind, Inventory};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    set: Vec<SetOp>,
    #[serde(default)]
    unset: Vec<UnsetOp>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    config: Vec<ConfigOp>,
    #[serde(default)]
    unset_config: Vec<String>,
    #[serde(default)]
    scope_regions: Option<Vec<String>>,
    #[serde(default)]
    collection_error: Option<ErrorOp>,
    expect: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOp {
    at: String,
    path: String,
    value: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsetOp {
    at: String,
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigOp {
    path: String,
    value: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorOp {
    /// `aws` when not given.
    #[serde(default)]
    provider: Option<String>,
    service: String,
    kinds: Vec<String>,
}

fn base() -> Value {
    serde_json::from_str(include_str!("fixtures/compliant.json")).expect("compliant.json parses")
}

fn resource_mut<'a>(inv: &'a mut Value, suffix: &str) -> &'a mut Value {
    let resources = inv["resources"].as_array_mut().expect("resources");
    let matches: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r["id"].as_str().is_some_and(|id| id.ends_with(suffix)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        matches.len(),
        1,
        "`{suffix}` must name exactly one resource, found {}",
        matches.len()
    );
    &mut resources[matches[0]]
}

fn pointer_set(target: &mut Value, path: &str, value: Value) {
    let (parent, key) = path.rsplit_once('/').expect("JSON pointer");
    let shown = target.to_string();
    let parent = target
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no `{parent}` in {shown}"));
    match parent {
        Value::Object(m) => {
            m.insert(key.replace("~1", "/").replace("~0", "~"), value);
        }
        Value::Array(a) => {
            let i: usize = key.parse().expect("array index");
            if i == a.len() {
                a.push(value);
            } else {
                a[i] = value;
            }
        }
        other => panic!("cannot set `{key}` in {other}"),
    }
}

fn toml_to_json(v: toml::Value) -> Value {
    serde_json::to_value(v).expect("TOML value converts to JSON")
}

fn build(case: &Case) -> Inventory {
    let mut inv = base();
    for op in &case.set {
        pointer_set(
            resource_mut(&mut inv, &op.at),
            &op.path,
            toml_to_json(op.value.clone()),
        );
    }
    for op in &case.unset {
        pointer_set(resource_mut(&mut inv, &op.at), &op.path, Value::Null);
    }
    for suffix in &case.remove {
        let before = inv["resources"].as_array().unwrap().len();
        inv["resources"]
            .as_array_mut()
            .unwrap()
            .retain(|r| !r["id"].as_str().unwrap_or("").ends_with(suffix.as_str()));
        assert_eq!(
            before - 1,
            inv["resources"].as_array().unwrap().len(),
            "remove `{suffix}`"
        );
    }
    for text in &case.add {
        let r: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("add: {e}: {text}"));
        inv["resources"].as_array_mut().unwrap().push(r);
    }
    for op in &case.config {
        pointer_set(&mut inv["estate"], &op.path, toml_to_json(op.value.clone()));
    }
    for path in &case.unset_config {
        pointer_set(&mut inv["estate"], path, Value::Null);
    }
    if let Some(regions) = &case.scope_regions {
        inv["scope"]["regions"] = serde_json::json!(regions);
    }
    let mut inv: Inventory =
        serde_json::from_value(inv).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    if let Some(e) = &case.collection_error {
        inv.collection_errors.push(CollectionError {
            provider: e.provider.clone().unwrap_or_else(|| "aws".into()),
            service: e.service.clone(),
            kinds: e.kinds.clone(),
            kind: ErrorKind::AccessDenied,
            message: format!("User is not authorized to perform {}:Describe*", e.service),
            region: Some("eu-west-1".into()),
            account: None,
        });
    }
    inv
}

fn audit_of(inv: Inventory, policies: &PolicySet) -> Vec<Finding> {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    audit::run(inv, None, policies, &WaiverSet::empty(), now).findings
}

fn status_of(s: &str) -> Status {
    match s {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        "unknown" => Status::Unknown,
        other => panic!("unknown expected status `{other}`"),
    }
}

/// What a snapshot shows of a finding: enough to review a rule's behaviour at a glance.
fn snapshot_line(f: &Finding) -> String {
    let evidence = serde_json::to_string(&f.evidence).unwrap();
    format!(
        "{} {} ({})\n    {}\n    evidence: {}",
        f.status, f.resource_id, f.resource_name, f.message, evidence
    )
}

#[test]
fn the_compliant_estate_passes_every_rule() {
    let policies = PolicySet::builtin().expect("built-in rules load");
    let findings = audit_of(
        build(&Case {
            name: "compliant".into(),
            set: vec![],
            unset: vec![],
            remove: vec![],
            add: vec![],
            config: vec![],
            unset_config: vec![],
            scope_regions: None,
            collection_error: None,
            expect: BTreeMap::new(),
        }),
        &policies,
    );
    let not_pass: Vec<String> = findings
        .iter()
        .filter(|f| f.status != Status::Pass)
        .map(snapshot_line)
        .collect();
    assert!(
        not_pass.is_empty(),
        "the compliant estate must pass:\n{}",
        not_pass.join("\n")
    );
    // Every rule produced at least one passing finding: none is vacuous on a spec-shaped estate.
    for rule in policies.rules() {
        assert!(
            findings.iter().any(|f| f.rule_id == rule.info.id),
            "rule {} produced no finding on the compliant estate",
            rule.info.id
        );
    }
}

#[test]
fn every_rule_has_a_fixture_with_a_pass_and_a_fail() {
    let policies = PolicySet::builtin().expect("built-in rules load");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut missing = Vec::new();
    for rule in policies.rules() {
        let path = dir.join(format!("{}.toml", rule.info.id));
        let Ok(text) = std::fs::read_to_string(&path) else {
            missing.push(rule.info.id.clone());
            continue;
        };
        let fixture: Fixture =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let statuses: Vec<&str> = fixture
            .case
            .iter()
            .flat_map(|c| c.expect.values().map(String::as_str))
            .collect();
        assert!(
            statuses.contains(&"pass"),
            "{}: no passing case",
            rule.info.id
        );
        assert!(
            statuses.contains(&"fail"),
            "{}: no failing case",
            rule.info.id
        );
    }
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
    // And no fixture for a rule that does not exist.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let id = name.trim_end_matches(".toml");
        assert!(policies.get(id).is_some(), "fixture {name} names no rule");
    }
}

/// Every fixture, in file name order: the rule it is for and its cases.
fn fixtures() -> Vec<(String, Fixture)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rule_id = path.file_stem().unwrap().to_string_lossy().to_string();
            let fixture: Fixture = toml::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (rule_id, fixture)
        })
        .collect()
}

/// The findings of `rule_id` over the estate of `case`.
fn findings_of(rule_id: &str, case: &Case, policies: &PolicySet) -> Vec<Finding> {
    audit_of(build(case), policies)
        .into_iter()
        .filter(|f| f.rule_id == rule_id)
        .collect()
}

#[test]
fn rule_fixtures() {
    let policies = PolicySet::builtin().expect("built-in rules load");
    let mut failures = Vec::new();
    let mut snapshots = Vec::new();
    for (rule_id, fixture) in fixtures() {
        let mut snapshot = String::new();
        for case in &fixture.case {
            let findings = findings_of(&rule_id, case, &policies);
            snapshot.push_str(&format!("## {}\n", case.name));
            for f in &findings {
                snapshot.push_str(&snapshot_line(f));
                snapshot.push('\n');
            }
            snapshot.push('\n');
            for (suffix, want) in &case.expect {
                let got: Vec<Status> = findings
                    .iter()
                    .filter(|f| f.resource_id.ends_with(suffix.as_str()))
                    .map(|f| f.status)
                    .collect();
                // `none`: the rule does not apply to the resource (no finding at all).
                let want_list = match want.as_str() {
                    "none" => vec![],
                    w => vec![status_of(w)],
                };
                if got != want_list {
                    failures.push(format!(
                        "{rule_id} / {}: `{suffix}` expected [{want}], got {got:?}",
                        case.name
                    ));
                }
            }
        }
        snapshots.push((rule_id, snapshot));
    }
    // Expectations first: they say what is wrong; the snapshots then show every finding's text.
    assert!(
        failures.is_empty(),
        "fixture expectations not met:\n{}",
        failures.join("\n")
    );
    for (rule_id, snapshot) in snapshots {
        insta::with_settings!({snapshot_suffix => rule_id, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("rule", snapshot);
        });
    }
}

/// The JSON that a value pasted into a sentence would show: an object's opening, a key's end, a
/// list of strings or of objects.
const RAW_JSON: [&str; 4] = ["{\"", "\":", "[\"", "[{"];

#[test]
fn failing_and_unknown_messages_are_sentences_without_raw_json() {
    let policies = PolicySet::builtin().expect("built-in rules load");
    let mut bad = Vec::new();
    let mut said = 0;
    for (rule_id, fixture) in fixtures() {
        for case in &fixture.case {
            for f in findings_of(&rule_id, case, &policies) {
                if !matches!(f.status, Status::Fail | Status::Unknown) {
                    continue;
                }
                said += 1;
                let m = f.message.as_str();
                // Code the sentence quotes (a field path, a Cloudflare expression) is in
                // backticks, and may hold brackets and quotes of its own.
                let words: String = m.split('`').step_by(2).collect();
                if let Some(raw) = RAW_JSON.iter().find(|raw| words.contains(*raw)) {
                    bad.push(format!("{rule_id} / {}: `{raw}` in {m}", case.name));
                }
                // A sentence: it names the resource (an estate-level one, the estate), says what
                // the spec wants and ends with a full stop.
                if !m.contains(f.resource_name.as_str())
                    || !m.contains("; the spec wants ")
                    || !m.ends_with('.')
                {
                    bad.push(format!("{rule_id} / {}: not a sentence: {m}", case.name));
                }
            }
        }
    }
    assert!(
        said > 100,
        "only {said} failing or unknown findings were read"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
