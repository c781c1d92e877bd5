//! The command line as a user runs it: exit codes, what reaches stdout and stderr, and the files
//! written (ripgrep / trycmd style). The clock is fixed with `ESTATE_AUDIT_NOW`.

mod support;
use support::offline;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-11-01T06:00:00Z";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_estate-audit"));
    offline::offline(&mut c);
    c.env("ESTATE_AUDIT_NOW", NOW).env_remove("RUST_LOG");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn root(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The compliant estate with one JSON edit, written to a temp file.
fn edited_compliant(dir: &Path, at: &str, pointer: &str, value: serde_json::Value) -> PathBuf {
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliant.json")).unwrap()).unwrap();
    let r = inv["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"].as_str().unwrap().ends_with(at))
        .expect("resource");
    *r.pointer_mut(pointer).expect("pointer") = value;
    let path = dir.join("inventory.json");
    std::fs::write(&path, serde_json::to_string(&inv).unwrap()).unwrap();
    path
}

#[test]
fn demo_prints_the_table_and_says_the_audit_is_incomplete() {
    let o = run(&["audit", "--demo"]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "aws-ec2-rabbitmq-tls",
        "aws-ec2-imdsv2",
        "aws-elasticache-auth",
        "aws-alarms-route-pagerduty",
        "aws-rds-encrypted",
        "aws-lambda-url-cloudflare-only",
        "IP whitelisting not implemented",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
    // Passes are listed only with --all.
    assert!(!out.contains("aws-rds-not-public"), "{out}");
    assert!(out.to_lowercase().contains("incomplete"), "{out}");
    insta::assert_snapshot!("demo_table", out);
}

#[test]
fn all_lists_the_passes_too() {
    let o = run(&["audit", "--demo", "--all"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("aws-rds-not-public"));
}

#[test]
fn demo_json_holds_every_finding_with_the_contract_fields() {
    let o = run(&["audit", "--demo", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is only the JSON report");
    for key in [
        "schema_version",
        "tool",
        "generated_at",
        "scope",
        "summary",
        "findings",
        "collection_errors",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["generated_at"], "2026-11-01T06:00:00Z");
    let findings = v["findings"].as_array().unwrap();
    let count = |s: &str| findings.iter().filter(|f| f["status"] == s).count();
    assert_eq!(
        count("fail"),
        4,
        "{:#?}",
        findings
            .iter()
            .filter(|f| f["status"] == "fail")
            .collect::<Vec<_>>()
    );
    assert_eq!(count("unknown"), 1);
    assert_eq!(count("suppressed"), 1);
    assert!(count("pass") > 40);
    let waived = findings
        .iter()
        .find(|f| f["status"] == "suppressed")
        .unwrap();
    assert_eq!(waived["rule_id"], "aws-lambda-url-cloudflare-only");
    assert_eq!(waived["waiver"]["owner"], "platform-team");
    let unknown = findings.iter().find(|f| f["status"] == "unknown").unwrap();
    assert_eq!(unknown["rule_id"], "aws-rds-encrypted");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("storage_encrypted"),
        "{unknown}"
    );
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
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    // The summary goes to stderr when stdout carries a machine format.
    assert!(stderr(&o).to_lowercase().contains("incomplete"));
}

#[test]
fn sarif_goes_to_the_output_file_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.sarif");
    let o = run(&[
        "audit",
        "--demo",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results: usize = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["results"].as_array().unwrap().len())
        .sum();
    // 4 fails + 1 unknown; the waived finding is left out by default.
    assert_eq!(results, 5);
    let o = run(&[
        "audit",
        "--demo",
        "--format",
        "sarif",
        "--sarif-include-waived",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results: usize = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["results"].as_array().unwrap().len())
        .sum();
    assert_eq!(results, 6);
}

#[test]
fn a_compliant_estate_exits_zero() {
    let path = fixture("compliant.json");
    let o = run(&["audit", "--inventory", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--gate",
        "launch",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn exit_code_follows_gate_and_threshold() {
    let dir = tempfile::tempdir().unwrap();
    // A high-severity launch failure (unencrypted EBS volume) and nothing unknown.
    let inv = edited_compliant(
        dir.path(),
        "volume/vol-0abc1234rabbit001",
        "/attrs/encrypted",
        false.into(),
    );
    let inv = inv.to_str().unwrap();
    assert_eq!(run(&["audit", "--inventory", inv]).status.code(), Some(1));
    assert_eq!(
        run(&["audit", "--inventory", inv, "--fail-on", "high"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["audit", "--inventory", inv, "--fail-on", "critical"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["audit", "--inventory", inv, "--gate", "launch"])
            .status
            .code(),
        Some(1)
    );

    // An operate-gate failure (alarm actions disabled) fails `all` but not the launch gate.
    let inv = edited_compliant(
        dir.path(),
        "alarm:webhook-errors",
        "/attrs/actions_enabled",
        false.into(),
    );
    let inv = inv.to_str().unwrap();
    assert_eq!(run(&["audit", "--inventory", inv]).status.code(), Some(1));
    assert_eq!(
        run(&["audit", "--inventory", inv, "--gate", "launch"])
            .status
            .code(),
        Some(0)
    );

    // An unreadable field: incomplete (2) even with a threshold that ignores its severity.
    let inv = edited_compliant(
        dir.path(),
        "db:estate-db",
        "/attrs/storage_encrypted",
        serde_json::Value::Null,
    );
    let inv = inv.to_str().unwrap();
    assert_eq!(
        run(&["audit", "--inventory", inv, "--fail-on", "critical"])
            .status
            .code(),
        Some(2)
    );
}

/// The compliant fixture with its ElastiCache clusters not read (AccessDenied, `message`), written
/// to `dir/inv.json`.
fn with_cache_denied(dir: &Path, message: &str) -> PathBuf {
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliant.json")).unwrap()).unwrap();
    inv["collection_errors"] = serde_json::json!([{
        "provider": "aws", "service": "elasticache", "kinds": ["aws.elasticache.cluster"],
        "kind": "AccessDenied", "message": message, "region": "eu-west-1"
    }]);
    let path = dir.join("inv.json");
    std::fs::write(&path, inv.to_string()).unwrap();
    path
}

/// `map`: the demo's SVG on stdout (exit 0), DOT and Mermaid by `--format`, a file by
/// `--output`; an estate not read in full still gets its map, with exit 2 and the part not read
/// in a note; a bad format is refused by clap (exit 2).
#[test]
fn map_draws_the_estate_in_each_format() {
    let o = run(&["map", "--demo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = stdout(&o);
    assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="));
    assert!(svg.ends_with("</svg>\n"));
    assert!(svg.contains(">rabbitmq-1</text>"), "{svg}");
    let o = run(&["map", "--demo", "--format", "dot"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("digraph estate {\n"));
    let o = run(&["map", "--demo", "--format", "mermaid"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("flowchart TB\n"));
    assert!(stdout(&o).contains(":::fail"));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.mmd");
    let o = run(&[
        "map",
        "--demo",
        "--format",
        "mermaid",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("wrote the map to"));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("flowchart TB"));

    let path = with_cache_denied(dir.path(), "not authorized");
    let o = run(&[
        "map",
        "--inventory",
        path.to_str().unwrap(),
        "--format",
        "dot",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("not read: elasticache (AccessDenied)"));
    assert!(stderr(&o).contains("not read in full"), "{}", stderr(&o));

    let o = run(&["map", "--demo", "--format", "png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
    let o = run(&["map", "--inventory", "/nonexistent/inv.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_collection_error_makes_rules_unknown_and_the_audit_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let path = with_cache_denied(
        dir.path(),
        "not authorized to perform elasticache:DescribeCacheClusters",
    );
    let o = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cache: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule_id"]
                .as_str()
                .unwrap()
                .starts_with("aws-elasticache-")
        })
        .collect();
    assert!(!cache.is_empty());
    for f in cache {
        assert_eq!(f["status"], "unknown", "{f}");
        assert!(
            f["message"].as_str().unwrap().contains("elasticache"),
            "{f}"
        );
    }
    assert_eq!(v["collection_errors"].as_array().unwrap().len(), 1);
}

#[test]
fn an_expired_waiver_fails_the_launch_gate() {
    let dir = tempfile::tempdir().unwrap();
    let inv = fixture("compliant.json");
    // The compliant estate with its URL policy opened, and the demo's waiver for it.
    let opened = edited_compliant(
        dir.path(),
        "function:webhook",
        "/attrs/policy_statements/0/conditions",
        serde_json::json!({}),
    );
    let waivers = root("demo/waivers.toml");
    let args = |gate: &str| {
        vec![
            "audit".to_string(),
            "--inventory".into(),
            opened.to_str().unwrap().into(),
            "--waivers".into(),
            waivers.to_str().unwrap().into(),
            "--gate".into(),
            gate.into(),
        ]
    };
    let o = bin().args(args("launch")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "waived: {}", stdout(&o));
    let o = bin()
        .args(args("launch"))
        .env("ESTATE_AUDIT_NOW", "2027-07-01T00:00:00Z")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "expired under the launch gate: {}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("expired"), "{}", stdout(&o));
    let o = bin()
        .args(args("all"))
        .env("ESTATE_AUDIT_NOW", "2027-07-01T00:00:00Z")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the finding fails again: {}",
        stdout(&o)
    );
    let _ = inv;
}

#[test]
fn collect_then_audit_gives_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    let o = run(&["collect", "--demo", "--output", inv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let waivers = root("demo/waivers.toml");
    let from_file = run(&[
        "audit",
        "--inventory",
        inv.to_str().unwrap(),
        "--waivers",
        waivers.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let demo = run(&["audit", "--demo", "--format", "json"]);
    // The same report, but for where the waiver was read from.
    let without_sources = |o: &Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for f in v["findings"].as_array_mut().unwrap() {
            if let Some(w) = f["waiver"].as_object_mut() {
                assert!(w.remove("source").is_some());
            }
        }
        v
    };
    assert_eq!(without_sources(&from_file), without_sources(&demo));
    assert_eq!(from_file.status.code(), demo.status.code());
}

#[test]
fn rules_explains_one_rule() {
    let o = run(&["rules", "aws-rds-not-public"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for needle in [
        "Why it matters",
        "How to fix",
        "aws rds modify-db-instance",
        "Data Storage",
        "critical",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    insta::assert_snapshot!("rules_explain", out);
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("62 rules"));
    let o = run(&["rules", "aws-rds-not-publik"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no rule `aws-rds-not-publik`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_inputs_exit_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("broken.json");
    std::fs::write(&inv, "{\n  \"schema_version\": 1,\n  \"resources\": [\n    {\"id\": \"x\", \"kind\": \"aws.s3.bucket\", \"attrs\": {}}\n  ]\n}\n").unwrap();
    let o = run(&["audit", "--inventory", inv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("broken.json:4:"), "{err}");
    assert!(err.contains("aws.s3.bucket"), "{err}");
    assert!(o.stdout.is_empty());

    let o = run(&[
        "audit",
        "--inventory",
        dir.path().join("missing.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read inventory"),
        "{}",
        stderr(&o)
    );

    std::fs::write(&inv, [0xff, 0xfe, 0x00]).unwrap();
    let o = run(&["audit", "--inventory", inv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));

    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\nrule = \"aws-rds-not-public\"\nresource = \"*\"\nexpires = 2027-01-01\n",
    )
    .unwrap();
    let o = run(&["audit", "--demo", "--waivers", waivers.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("waivers.toml:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("reason"), "{}", stderr(&o));

    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("mine.toml"),
        "[[rule]]\nid = \"my-rule\"\ntitle = \"t\"\nseverity = \"high\"\nkind = \"aws.rds.db_instance\"\nspec = \"s\"\nassert = \"resource.publicly_acessible == false\"\nrisk = \"r\"\nremediation = \"m\"\nreferences = [\"https://example.com\"]\n",
    )
    .unwrap();
    let o = run(&["audit", "--demo", "--policies", policies.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("mine.toml:7:"), "{err}");
    assert!(err.contains("publicly_acessible"), "{err}");
    let o = run(&["validate", "--policies", policies.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));

    let o = run(&["audit"]);
    assert_eq!(o.status.code(), Some(2), "no input given");
    let o = run(&["audit", "--demo", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2), "clap usage error");
}

#[test]
fn validate_and_init() {
    let o = run(&["validate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ok: 62 rules"), "{}", stderr(&o));
    let waivers = root("demo/waivers.toml");
    let o = run(&[
        "validate",
        "--waivers",
        waivers.to_str().unwrap(),
        "--inventory",
        root("demo/inventory.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estate.toml");
    let o = run(&["init", "--output", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(&["validate", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["init", "--output", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "refuses to overwrite");
}

// ---------------------------------------------------------------------------------------------
// The conventions of a good CLI (issue #17 item 5): colour, version, completions, manual page.

const ESC: &str = "\u{1b}[";

#[test]
fn colour_follows_color_and_no_color_and_is_off_for_pipes() {
    let table = |args: &[&str], no_color: Option<&str>| {
        let mut c = bin();
        c.args(["audit", "--demo"])
            .args(args)
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let o = c.output().expect("the binary runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    // stdout is a pipe here: `auto` means none.
    assert!(!table(&[], None).contains(ESC), "a pipe gets no colour");
    let always = table(&["--color", "always"], None);
    assert!(
        always.contains(&format!("{ESC}38;5;9m fail ")),
        "fail in red:\n{always}"
    );
    assert!(
        always.contains(&format!("{ESC}38;5;11m unknown ")),
        "unknown in yellow"
    );
    assert!(
        table(&["--color", "always"], Some("1")).contains(ESC),
        "the flag wins"
    );
    assert!(!table(&["--color", "never"], None).contains(ESC));
    assert!(!table(&["--color", "auto"], Some("1")).contains(ESC));
    // Global: before the command too.
    let o = bin()
        .args(["--color", "always", "audit", "--demo"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains(ESC));
    // Colour never reaches a format meant for a file.
    let o = bin()
        .args(["audit", "--demo", "--color", "always", "--format", "json"])
        .output()
        .unwrap();
    assert!(!stdout(&o).contains(ESC));
    let o = run(&["audit", "--demo", "--color", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[possible values: auto, always, never]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn version_names_the_rule_pack_every_report_carries() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_slice(&run(&["audit", "--demo", "--format", "json"]).stdout).unwrap();
    let pack = report["rule_pack"].as_str().expect("rule_pack");
    assert!(pack.starts_with("sha256:"), "{pack}");
    assert_eq!(
        stdout(&o),
        format!(
            "estate-audit {} (rule pack {pack})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(stdout(&run(&["-V"])), stdout(&o));
}

#[test]
fn completions_for_every_shell_name_every_command() {
    let commands = [
        "audit",
        "map",
        "collect",
        "rules",
        "validate",
        "init",
        "iam-policy",
        "merge",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for c in commands {
            assert!(script.contains(c), "{shell} completes {c}");
        }
        assert!(script.contains("--inventory"), "{shell} completes options");
    }
    // The bash script is valid bash (the other shells are not installed everywhere).
    let script = stdout(&run(&["completions", "bash"]));
    let check = Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .expect("bash runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

/// The pages render with groff without a warning (`-ww`), name every command and option, and
/// a command's page is `estate-audit-COMMAND(1)`.
#[test]
fn the_manual_pages_render_and_name_every_option() {
    let render = |roff: &str| {
        let child = Command::new("groff")
            // Plain text: no bold or underline by overstriking or escapes.
            .args(["-man", "-Tutf8", "-ww", "-P-bou"])
            .env("GROFF_NO_SGR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            assert!(
                std::env::var_os("ESTATE_AUDIT_CI").is_none(),
                "groff is not installed, and CI must render the pages (.ci/run installs it)"
            );
            eprintln!("groff is not installed: the pages are checked as text only");
            return None;
        };
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(roff.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(warnings.is_empty(), "groff warns: {warnings}");
        Some(String::from_utf8_lossy(&out.stdout).replace(['\u{2010}', '\u{2212}'], "-"))
    };
    let main = stdout(&run(&["man"]));
    assert!(main.contains(".TH estate-audit 1"), "{main}");
    if let Some(text) = render(&main) {
        for c in ["audit", "map", "collect", "completions", "man", "--color"] {
            assert!(text.contains(c), "{c} in:\n{text}");
        }
    }
    let audit = stdout(&run(&["man", "audit"]));
    assert!(audit.contains(".TH estate-audit-audit 1"), "{audit}");
    if let Some(text) = render(&audit) {
        for opt in [
            "--inventory",
            "--format",
            "--fail-on",
            "--baseline",
            "--metrics",
        ] {
            assert!(text.contains(opt), "{opt} in:\n{text}");
        }
    }
    let map = stdout(&run(&["man", "map"]));
    assert!(map.contains(".TH estate-audit-map 1"), "{map}");
    if let Some(text) = render(&map) {
        for opt in ["--demo", "--inventory", "--format", "--output", "mermaid"] {
            assert!(text.contains(opt), "{opt} in:\n{text}");
        }
    }
    let o = run(&["man", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no command `nosuch`: one of audit, collect"),
        "{}",
        stderr(&o)
    );
}

/// The GitHub Action (`action.yml`) and the container (`Dockerfile`) drive the binary with flags
/// of their own writing: each must be one the command takes, or the action and the image break
/// silently on the next rename. The action's defaults must be values the flags accept.
#[test]
fn the_action_and_the_container_pass_only_flags_the_commands_take() {
    let help = |cmd: &str| stdout(&run(&[cmd, "--help"]));
    let (audit, collect) = (help("audit"), help("collect"));
    fn flags(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }
    // Whole flags, as the commands' help lists them (`--gat` is no flag even though `--gate` is).
    let (takes_audit, takes_collect) = (flags(&audit), flags(&collect));
    let action = std::fs::read_to_string(root("action.yml")).unwrap();
    let used = flags(&action);
    // cargo's own flags, in the install step.
    let cargo = ["--locked", "--path", "--root"];
    assert!(used.contains(&"--fail-on".to_string()), "{used:?}");
    for f in used.iter().filter(|f| !cargo.contains(&f.as_str())) {
        assert!(
            takes_audit.contains(f) || takes_collect.contains(f),
            "action.yml passes {f}, which neither audit nor collect takes"
        );
    }
    let dockerfile = std::fs::read_to_string(root("Dockerfile")).unwrap();
    let cmd = dockerfile
        .lines()
        .find(|l| l.starts_with("CMD "))
        .expect("a CMD");
    assert!(cmd.contains("\"audit\""), "{cmd}");
    for f in flags(cmd) {
        assert!(
            takes_audit.contains(&f),
            "the image's CMD passes {f}: {cmd}"
        );
    }
    // The defaults are accepted values.
    for (input, values) in [("gate", &audit), ("fail-on", &audit)] {
        let default = action
            .split(&format!("\n  {input}:\n"))
            .nth(1)
            .and_then(|rest| {
                rest.lines()
                    .find(|l| l.trim_start().starts_with("default:"))
            })
            .map(|l| {
                l.trim_start()
                    .trim_start_matches("default:")
                    .trim()
                    .to_string()
            })
            .expect("a default");
        assert!(
            values.contains(default.as_str()),
            "{input} default {default}"
        );
    }
}
