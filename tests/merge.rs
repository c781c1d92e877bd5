//! Sharded audits as a user runs them (issue #7): `merge` of inventories and of JSON reports,
//! `audit --inventory` of a bundle (one estate per account, one SARIF run per account), the
//! refusals (overlapping shards, mixed inputs, different tool versions, broken files) with their
//! exit codes and the file they name, and the multi-account flags' own checks.

mod support;
use support::offline;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-11-01T06:00:00Z";
const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_estate-audit"));
    offline::offline(&mut c);
    c.env("ESTATE_AUDIT_NOW", NOW).env_remove("RUST_LOG");
    c.args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compliant.json"),
    )
    .unwrap()
}

/// The compliant estate as account `account`; `imdsv1` breaks one rule of it.
fn shard(dir: &Path, name: &str, account: &str, imdsv1: bool) -> PathBuf {
    let mut text = fixture().replace(ACCOUNT, account);
    if imdsv1 {
        let mut inv: serde_json::Value = serde_json::from_str(&text).unwrap();
        for r in inv["resources"].as_array_mut().unwrap() {
            if r["kind"] == "aws.ec2.instance" {
                r["attrs"]["metadata_options"]["http_tokens"] = "optional".into();
            }
        }
        text = serde_json::to_string(&inv).unwrap();
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn merged_inventories_audit_as_one_report_with_a_sarif_run_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), "shard-0.json", ACCOUNT, false);
    let b = shard(dir.path(), "shard-1.json", OTHER, true);
    let merged = dir.path().join("merged.json");
    let o = run(&[&"merge", &b, &a, &"--output", &merged]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 estate(s)"), "{}", stderr(&o));
    let bundle = json(&merged);
    assert_eq!(bundle["schema_version"], 1);
    let accounts: Vec<&str> = bundle["inventories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["scope"]["accounts"][0].as_str().unwrap())
        .collect();
    assert_eq!(accounts, [ACCOUNT, OTHER], "sorted by account");

    // Each account alone is compliant (a) or fails IMDSv2 (b); together: fails, exit 1.
    let report = dir.path().join("report.json");
    let o = run(&[
        &"audit",
        &"--inventory",
        &merged,
        &"--format",
        &"json",
        &"--output",
        &report,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&report);
    let findings = r["findings"].as_array().unwrap();
    let imds: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f["rule_id"] == "aws-ec2-imdsv2")
        .map(|f| {
            (
                f["account"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(imds.len(), 2, "{imds:?}");
    assert!(imds.contains(&(ACCOUNT, "pass")) && imds.contains(&(OTHER, "fail")));
    assert_eq!(r["scope"]["accounts"], serde_json::json!([ACCOUNT, OTHER]));
    // Cloudflare belongs to no account: judged once, not once per shard.
    let cf_dns = findings
        .iter()
        .filter(|f| f["rule_id"] == "cloudflare-dns-proxied")
        .count();
    assert_eq!(cf_dns, 1);
    // Every AWS finding names its account.
    assert!(findings
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("aws-"))
        .all(|f| f["account"] == ACCOUNT || f["account"] == OTHER));
    assert_eq!(r["summary"]["fail"], 1, "{}", r["summary"]);

    let sarif = dir.path().join("report.sarif");
    let o = run(&[
        &"audit",
        &"--inventory",
        &merged,
        &"--format",
        &"sarif",
        &"--output",
        &sarif,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let ids: Vec<String> = json(&sarif)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [
            format!("estate-audit/aws/{ACCOUNT}/"),
            format!("estate-audit/aws/{OTHER}/"),
            "estate-audit/cloudflare/".to_string(),
            // Loki is in the shards' monitoring plane, and audited: its run is written.
            "estate-audit/monitoring/".to_string()
        ]
    );

    // A bundle merges with a further shard; validate reads bundles too.
    let c = shard(dir.path(), "shard-2.json", "777788889999", false);
    let again = dir.path().join("again.json");
    let o = run(&[&"merge", &merged, &c, &"--output", &again]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&again)["inventories"].as_array().unwrap().len(), 3);
    let o = run(&[&"validate", &"--inventory", &again]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn two_shards_of_one_account_and_region_are_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), "shard-a.json", ACCOUNT, false);
    let b = shard(dir.path(), "shard-b.json", ACCOUNT, true);
    let out = dir.path().join("merged.json");
    let o = run(&[&"merge", &a, &b, &"--output", &out]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("shard-b.json"), "{err}");
    assert!(err.contains("shard-a.json"), "{err}");
    assert!(
        err.contains(&format!("AWS account {ACCOUNT} in region eu-west-1")),
        "{err}"
    );
    assert!(!out.exists(), "nothing written on a refusal");
}

#[test]
fn bad_merge_inputs_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard(dir.path(), "shard-a.json", ACCOUNT, false);
    let out = dir.path().join("out.json");
    // A report among inventories.
    let report = dir.path().join("report.json");
    let o = run(&[
        &"audit",
        &"--inventory",
        &a,
        &"--format",
        &"json",
        &"--output",
        &report,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&[&"merge", &a, &report, &"--output", &out]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("report.json") && err.contains("is a JSON report while"),
        "{err}"
    );
    // Broken JSON: file, line and column.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"schema_version\": 1,\n  \"resources\": [\n").unwrap();
    let o = run(&[&"merge", &a, &broken, &"--output", &out]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("broken.json"), "{err}");
    assert!(err.contains("cut off"), "{err}");
    // A missing file.
    let o = run(&[
        &"merge",
        &a,
        &dir.path().join("nope.json"),
        &"--output",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));
    // An empty bundle.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"schema_version": 1, "inventories": []}"#).unwrap();
    let o = run(&[&"audit", &"--inventory", &empty]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty.json") && stderr(&o).contains("holds no inventory"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn reports_merge_with_a_recomputed_summary_and_refuse_other_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for (name, account, broken) in [("a", ACCOUNT, false), ("b", OTHER, true)] {
        let inv = shard(dir.path(), &format!("{name}.inv.json"), account, broken);
        let report = dir.path().join(format!("{name}.report.json"));
        let o = run(&[
            &"audit",
            &"--inventory",
            &inv,
            &"--format",
            &"json",
            &"--output",
            &report,
        ]);
        assert!(o.status.code() == Some(0) || o.status.code() == Some(1));
        reports.push(report);
    }
    let merged = dir.path().join("merged.json");
    let o = run(&[&"merge", &reports[0], &reports[1], &"--output", &merged]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (ra, rb, m) = (json(&reports[0]), json(&reports[1]), json(&merged));
    let shared = |r: &serde_json::Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| estate_audit::audit::is_shared(f["kind"].as_str().unwrap()))
            .count() as u64
    };
    // The shared part's findings (Cloudflare, Grafana: no account) are in both shards and kept
    // once.
    let total = |r: &serde_json::Value| r["summary"]["total"].as_u64().unwrap();
    assert!(shared(&rb) > 7, "Cloudflare's and Grafana's findings");
    assert_eq!(total(&m), total(&ra) + total(&rb) - shared(&rb));
    assert_eq!(m["summary"]["fail"], 1);
    assert_eq!(
        m["summary"]["rules_evaluated"],
        ra["summary"]["rules_evaluated"]
    );
    assert_eq!(m["scope"]["accounts"], serde_json::json!([ACCOUNT, OTHER]));
    assert_eq!(m["findings"].as_array().unwrap().len() as u64, total(&m));
    // The merged report is a report: it merges again and serves as a baseline.
    let o = run(&[
        &"audit",
        &"--inventory",
        &shard(dir.path(), "c.inv.json", ACCOUNT, false),
        &"--baseline",
        &merged,
        &"--format",
        &"json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The same shard twice.
    let o = run(&[&"merge", &reports[0], &reports[0], &"--output", &merged]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the shards overlap"), "{}", stderr(&o));
    // Another tool version.
    let mut other: serde_json::Value = json(&reports[1]);
    other["tool"]["version"] = "0.0.1".into();
    let other_path = dir.path().join("old.report.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let o = run(&[&"merge", &reports[0], &other_path, &"--output", &merged]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("old.report.json") && err.contains("different tool versions"),
        "{err}"
    );
    // Another rule pack: a rule with another severity.
    let mut other: serde_json::Value = json(&reports[1]);
    for f in other["findings"].as_array_mut().unwrap() {
        if f["rule_id"] == "aws-ec2-imdsv2" {
            f["severity"] = "critical".into();
        }
    }
    std::fs::write(&other_path, other.to_string()).unwrap();
    let o = run(&[&"merge", &reports[0], &other_path, &"--output", &merged]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("aws-ec2-imdsv2") && err.contains("rule packs"),
        "{err}"
    );
}

/// A policies directory with one extra rule, whose `assert` is `assert`.
fn custom_pack(dir: &Path, name: &str, assert: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("extra.toml"),
        format!(
            r#"[[rule]]
id = "custom-imds-hop-limit"
title = "The RabbitMQ host's metadata answers one hop only"
severity = "medium"
kind = "aws.ec2.instance"
spec = "Messaging: RabbitMQ on EC2"
assert = "{assert}"
risk = "Containers on the host could reach the instance's credentials."
remediation = "aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 1"
references = ["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"]
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn reports_of_rule_packs_that_differ_only_in_an_expression_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    // The same rule id, title, severity, gate and spec in both packs, and as many rules: only
    // the digest of the pack tells them apart.
    let strict = custom_pack(dir.path(), "strict", "true");
    let lax = custom_pack(dir.path(), "lax", "false || true");
    let report = |name: &str, account: &str, pack: &Path| {
        let inv = shard(dir.path(), &format!("{name}.inv.json"), account, false);
        let out = dir.path().join(format!("{name}.report.json"));
        let o = run(&[
            &"audit",
            &"--inventory",
            &inv,
            &"--policies",
            &pack,
            &"--format",
            &"json",
            &"--output",
            &out,
        ]);
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(1),
            "{}",
            stderr(&o)
        );
        out
    };
    let a = report("a", ACCOUNT, &strict);
    let b = report("b", OTHER, &strict);
    let c = report("c", OTHER, &lax);
    let pack = json(&a)["rule_pack"].as_str().unwrap().to_string();
    assert!(
        pack.starts_with("sha256:") && pack.len() == 7 + 64,
        "{pack}"
    );
    assert_eq!(json(&b)["rule_pack"], pack.as_str());
    assert_ne!(json(&c)["rule_pack"], pack.as_str());
    assert_eq!(
        json(&a)["summary"]["rules_evaluated"],
        json(&c)["summary"]["rules_evaluated"]
    );

    // Same pack: merged, and the merged report keeps the digest.
    let merged = dir.path().join("merged.json");
    let o = run(&[&"merge", &a, &b, &"--output", &merged]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&merged)["rule_pack"], pack.as_str());

    // Another pack: refused, naming the file and both digests.
    let o = run(&[&"merge", &a, &c, &"--output", &merged]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("c.report.json")
            && err.contains(&pack)
            && err.contains("different rule packs"),
        "{err}"
    );

    // A report that records no digest (an earlier version's) cannot be vouched for.
    let mut old = json(&b);
    old.as_object_mut().unwrap().remove("rule_pack");
    let old_path = dir.path().join("old.report.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    for pair in [[&a, &old_path], [&old_path, &a]] {
        let o = run(&[&"merge", pair[0], pair[1], &"--output", &merged]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("old.report.json records no rule pack digest"),
            "{err}"
        );
    }
}

#[test]
fn account_and_region_flags_are_checked_before_anything_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inv.json");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--region", "eu-west-1", "--regions", "all"],
            "cannot be used with",
        ),
        (&["--regions", "eu-west-1,EU WEST"], "is not a region name"),
        (&["--assume-role", "not-an-arn"], "needs a role ARN"),
        (
            &[
                "--assume-role",
                "arn:aws:iam::111122223333:role/a",
                "--assume-role",
                "arn:aws:iam::444455556666:role/b",
                "--external-id",
                "x",
                "--external-id",
                "y",
                "--external-id",
                "z",
            ],
            "3 --external-id for 2 --assume-role",
        ),
        (
            &["--org-role", "arn:aws:iam::1:role/x"],
            "takes a role name",
        ),
        (
            &[
                "--org-role",
                "R",
                "--assume-role",
                "arn:aws:iam::111122223333:role/a",
            ],
            "cannot be used with",
        ),
    ];
    for (flags, want) in cases {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"collect", &"--output", &out];
        for f in flags.iter() {
            args.push(f);
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{flags:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("collecting"),
            "nothing collected: {}",
            stderr(&o)
        );
    }
    // The estate's region must be among --regions.
    let config = dir.path().join("estate.toml");
    std::fs::write(&config, "region = \"eu-west-1\"\n").unwrap();
    let o = run(&[
        &"collect",
        &"--config",
        &config,
        &"--regions",
        &"us-east-1,eu-central-1",
        &"--output",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not include the estate's region eu-west-1"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn iam_policy_grants_the_multi_account_calls() {
    let o = run(&[&"iam-policy"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\"sts:AssumeRole\""), "{out}");
    assert!(out.contains("\"organizations:ListAccounts\""), "{out}");
}
