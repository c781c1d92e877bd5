//! Hostile input files, through the real binary: for each kind of file the auditor reads (a rule
//! file in `--policies`, `--waivers`, `--config`, `--inventory`) and each way a file can be bad
//! (malformed, oversized, deeply nested, wrongly typed, not UTF-8, empty, a directory, a FIFO, a
//! dangling link, a BOM, CRLF, NUL bytes, an endless line, terminal escapes, a credential), the
//! run must end with exit 2 and one short error naming the file (and `line:column` where there is
//! one), print nothing on stdout and never panic or hang. Valid-but-odd files (BOM, CRLF, empty)
//! must simply work. Pathological CEL in a rule is either refused at load time with a location or
//! evaluates to `unknown`, never `pass`.
//!
//! Every run happens in a temporary directory with relative paths, so the rendered diagnostics
//! are stable and snapshotted (`tests/snapshots/hostile_inputs__*.snap`).

mod support;
use support::offline;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-01T06:00:00Z";
/// A secret-looking value planted in inputs; it must never be printed.
const SECRET: &str = "Zx9SecretTok3n0123456789abcdefABCDEF0123";
/// A PagerDuty-style integration key planted in an endpoint URL.
const PD_KEY: &str = "0123456789abcdef0123456789abcdef";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir`, killing it after 60 s: a hang is a failure, not a stuck suite.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let mut child = offline::offline(&mut Command::new(env!("CARGO_BIN_EXE_estate-audit")))
        .args(args)
        .current_dir(dir)
        .env("ESTATE_AUDIT_NOW", NOW)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Drain both pipes on threads so a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("estate-audit {args:?} hung (killed after 60 s)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

/// The kinds of input file, and how each is handed to the binary (`validate` checks all four).
#[derive(Clone, Copy, Debug)]
enum Kind {
    Policy,
    Waiver,
    Config,
    Inventory,
}

const KINDS: [Kind; 4] = [Kind::Policy, Kind::Waiver, Kind::Config, Kind::Inventory];

impl Kind {
    /// Where the file goes (policies live in a directory), relative to the run's directory.
    fn file(self) -> &'static str {
        match self {
            Kind::Policy => "policies/rules.toml",
            Kind::Waiver => "waivers.toml",
            Kind::Config => "estate.toml",
            Kind::Inventory => "inventory.json",
        }
    }

    fn args(self) -> Vec<&'static str> {
        match self {
            Kind::Policy => vec!["validate", "--policies", "policies"],
            Kind::Waiver => vec!["validate", "--waivers", "waivers.toml"],
            Kind::Config => vec!["validate", "--config", "estate.toml"],
            Kind::Inventory => vec!["validate", "--inventory", "inventory.json"],
        }
    }

    /// A small valid file of this kind.
    fn valid(self) -> String {
        match self {
            Kind::Policy => RULE.to_string(),
            Kind::Waiver => "[[waiver]]\nrule = \"aws-rds-not-public\"\nresource = \"*\"\n\
                             reason = \"accepted\"\nexpires = 2027-01-01\n"
                .to_string(),
            Kind::Config => "region = \"eu-west-1\"\n[tiers]\ntag_key = \"Tier\"\n".to_string(),
            Kind::Inventory => "{\n  \"schema_version\": 1,\n  \"resources\": []\n}\n".to_string(),
        }
    }

    fn is_toml(self) -> bool {
        !matches!(self, Kind::Inventory)
    }
}

const RULE: &str = r#"[[rule]]
id = "x-hostile"
title = "t"
severity = "low"
kind = "aws.rds.db_instance"
spec = "s"
assert = "resource.publicly_accessible == false"
risk = "r"
remediation = "m"
references = ["https://example.com"]
"#;

/// A fresh directory holding `bytes` as the file of `kind`.
fn setup(kind: Kind, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join(kind.file()), bytes).unwrap();
    dir
}

/// Every kind's file in one directory, and `validate` over all four at once (one run instead of
/// four: each run pays for compiling the built-in rules).
fn setup_all(bytes: impl Fn(Kind) -> Vec<u8>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    for kind in KINDS {
        std::fs::write(dir.path().join(kind.file()), bytes(kind)).unwrap();
    }
    dir
}

fn validate_all(dir: &Path) -> Run {
    let mut args = vec!["validate"];
    for kind in KINDS {
        args.extend(&kind.args()[1..]);
    }
    let r = run_in(dir, &args);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    r
}

/// The contract for bad input: exit 2, nothing on stdout, a short error naming the file (at
/// `loc`, e.g. `:2:`, when given), no panic. Returns stderr.
fn rejects(kind: Kind, dir: &Path, loc: Option<&str>) -> String {
    let r = run_in(dir, &kind.args());
    let what = format!("{kind:?}");
    assert_eq!(r.code, Some(2), "{what}: exit code; stderr:\n{}", r.stderr);
    assert!(r.stdout.is_empty(), "{what}: stdout: {}", r.stdout);
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!("error: {}", kind.file())),
        "{what}: the error names the file first:\n{}",
        r.stderr
    );
    if let Some(loc) = loc {
        let head = r.stderr.lines().next().unwrap_or("");
        assert!(
            head.starts_with(&format!("error: {}{loc}", kind.file())),
            "{what}: want {loc} in {head}"
        );
    }
    assert!(
        r.stderr.len() < 4096,
        "{what}: one short error, not {} bytes:\n{}",
        r.stderr.len(),
        r.stderr.chars().take(2000).collect::<String>()
    );
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\0'),
        "{what}: control characters reached the terminal: {:?}",
        r.stderr
    );
    r.stderr
}

fn snapshot(name: &str, stderr: &str) {
    insta::assert_snapshot!(name, stderr);
}

#[test]
fn malformed_syntax_is_located() {
    for kind in KINDS {
        let bad: &[u8] = if kind.is_toml() {
            b"# ok\n[[rule]\nid = \n"
        } else {
            b"{\n  \"schema_version\": 1,\n  \"resources\": [,]\n}\n"
        };
        let dir = setup(kind, bad);
        let err = rejects(
            kind,
            dir.path(),
            Some(if kind.is_toml() { ":2:" } else { ":3:" }),
        );
        snapshot(&format!("malformed_{kind:?}"), &err);
    }
}

#[test]
fn oversized_files_are_refused_before_reading() {
    // Sparse files: the size is real to `metadata`, the disk holds nothing.
    for kind in KINDS {
        let dir = setup(kind, b"");
        let size = if kind.is_toml() { 200 << 20 } else { 600 << 20 };
        std::fs::File::create(dir.path().join(kind.file()))
            .unwrap()
            .set_len(size)
            .unwrap();
        let started = Instant::now();
        let err = rejects(kind, dir.path(), None);
        assert!(err.contains("too large"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10), "read it all?");
        snapshot(&format!("oversized_{kind:?}"), &err);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    const N: usize = 100_000;
    for kind in KINDS {
        let texts: Vec<String> = if kind.is_toml() {
            vec![
                format!("x = {}{}\n", "[".repeat(N), "]".repeat(N)),
                format!("x = {}1{}\n", "{a=".repeat(N), "}".repeat(N)),
                format!("x{} = 1\n", ".x".repeat(N)),
                format!("[x{}]\n", ".x".repeat(N)),
            ]
        } else {
            vec![
                format!("{}{}", "[".repeat(N), "]".repeat(N)),
                format!(
                    "{{\"schema_version\": 1, \"resources\": [{{\"id\": \"a\", \"tags\": {}1{}}}]}}",
                    "{\"a\":".repeat(N),
                    "}".repeat(N)
                ),
            ]
        };
        for (i, text) in texts.iter().enumerate() {
            let dir = setup(kind, text.as_bytes());
            // Every one of these has a line:column: the deep dotted key is located by us.
            let err = rejects(kind, dir.path(), Some(":1:"));
            snapshot(&format!("deep_{kind:?}_{i}"), &err);
        }
    }
}

#[test]
fn wrongly_typed_values_are_located() {
    let cases: [(Kind, &str, &str); 4] = [
        (Kind::Policy, &RULE.replace("\"low\"", "3"), ":4:"),
        (
            Kind::Waiver,
            "[[waiver]]\nrule = 1\nresource = \"*\"\nreason = \"r\"\nexpires = \"soon\"\n",
            ":2:",
        ),
        (
            Kind::Config,
            "region = \"eu-west-1\"\n[tiers]\npublic = \"subnet-1\"\n",
            ":3:",
        ),
        (
            Kind::Inventory,
            "{\n  \"schema_version\": \"one\"\n}\n",
            ":2:",
        ),
    ];
    for (kind, text, loc) in cases {
        let dir = setup(kind, text.as_bytes());
        let err = rejects(kind, dir.path(), Some(loc));
        snapshot(&format!("wrong_type_{kind:?}"), &err);
    }
}

#[test]
fn non_utf8_is_located_at_the_bad_byte() {
    for kind in KINDS {
        let mut bytes = kind.valid().into_bytes();
        // Into the second line's text.
        let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 3;
        bytes.insert(at, 0xff);
        let dir = setup(kind, &bytes);
        let err = rejects(kind, dir.path(), Some(":2:3"));
        assert!(err.contains("not UTF-8"), "{err}");
        snapshot(&format!("non_utf8_{kind:?}"), &err);
    }
}

#[test]
fn empty_files_are_empty_sets_except_the_inventory() {
    for text in ["", "\n\n   "] {
        let dir = setup_all(|_| text.as_bytes().to_vec());
        let r = validate_all(dir.path());
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        assert!(
            r.stderr.starts_with("error: inventory.json:")
                && r.stderr.contains("inventory is cut off")
                && r.stderr.ends_with("\n1 error found\n"),
            "only the inventory is an error:\n{}",
            r.stderr
        );
    }
}

#[test]
fn a_directory_fifo_or_dangling_link_is_refused_without_hanging() {
    for (what, want) in [
        ("directory", "it is a directory"),
        ("fifo", "not a regular file"),
        ("dangling", "No such file"),
    ] {
        let dir = setup_all(|_| Vec::new());
        for kind in KINDS {
            let path = dir.path().join(kind.file());
            std::fs::remove_file(&path).unwrap();
            match what {
                "directory" => std::fs::create_dir(&path).unwrap(),
                "fifo" => {
                    let ok = Command::new("mkfifo").arg(&path).status().unwrap();
                    assert!(ok.success());
                }
                _ => std::os::unix::fs::symlink(dir.path().join("nowhere"), &path).unwrap(),
            }
        }
        let r = validate_all(dir.path());
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        for kind in KINDS {
            let line = r
                .stderr
                .lines()
                .find(|l| l.starts_with(&format!("error: {}: ", kind.file())))
                .unwrap_or_else(|| panic!("{what}: no error for {kind:?}:\n{}", r.stderr));
            assert!(line.contains(want), "{what}: {line}");
        }
        assert!(
            r.stderr.ends_with("\n4 errors found\n"),
            "{what}: {}",
            r.stderr
        );
    }
    // `--policies` naming a file rather than a directory.
    let dir = setup(Kind::Policy, RULE.as_bytes());
    let r = run_in(
        dir.path(),
        &["validate", "--policies", "policies/rules.toml"],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot read policy directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn bom_and_crlf_are_accepted_and_crlf_errors_keep_their_lines() {
    let dir = setup_all(|k| format!("\u{feff}{}", k.valid()).into_bytes());
    let r = validate_all(dir.path());
    assert_eq!(r.code, Some(0), "BOM: {}", r.stderr);
    let dir = setup_all(|k| k.valid().replace('\n', "\r\n").into_bytes());
    let r = validate_all(dir.path());
    assert_eq!(r.code, Some(0), "CRLF: {}", r.stderr);
    // A syntax error on line 3 of a CRLF file is on line 3.
    let dir = setup_all(|k| {
        if k.is_toml() {
            b"# one\r\n# two\r\nx = = 1\r\n".to_vec()
        } else {
            b"{\r\n  \"schema_version\": 1,\r\n  \"resources\": ]\r\n}\r\n".to_vec()
        }
    });
    let r = validate_all(dir.path());
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    for kind in KINDS {
        assert!(
            r.stderr.contains(&format!("error: {}:3:", kind.file())),
            "{kind:?}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains('\r'), "{:?}", r.stderr);
}

#[test]
fn nul_bytes_and_terminal_escapes_are_errors_shown_inert() {
    for kind in KINDS {
        let text = if kind.is_toml() {
            "# ok\nkey = \"a\u{0}b\"\n\"\\u001b]0;pwned\\u0007\\u001b[2J\" = 1\n"
        } else {
            "{\n  \"schema_version\": 1,\n  \"\u{1b}[2Jresources\u{0}\": []\n}\n"
        };
        let dir = setup(kind, text.as_bytes());
        let loc = if kind.is_toml() { ":2:" } else { ":3:" };
        let err = rejects(kind, dir.path(), Some(loc));
        snapshot(&format!("nul_escape_{kind:?}"), &err);
    }
    // A quoted key holding escapes, alone: the unknown-key message shows it escaped.
    let dir = setup(Kind::Config, b"\"\\u001b[31mred\" = 1\n");
    let err = rejects(Kind::Config, dir.path(), Some(":1:1"));
    assert!(err.contains("\\u{1b}[31mred"), "{err}");
}

#[test]
fn an_endless_line_is_shown_as_a_window() {
    for kind in KINDS {
        // Long, but under the smallest size limit (estate.toml's 1 MiB).
        let filler = "a".repeat(600 << 10);
        let text = if kind.is_toml() {
            format!("x = \"{filler}\" oops\n")
        } else {
            format!("{{\"schema_version\": 1, \"x\": \"{filler}\" oops}}")
        };
        let dir = setup(kind, text.as_bytes());
        // `rejects` holds the error under 4 KiB.
        let err = rejects(kind, dir.path(), Some(":1:"));
        assert!(err.contains("characters long"), "{err}");
    }
}

#[test]
fn credentials_in_bad_input_are_never_printed() {
    let pd = format!("https://events.pagerduty.com/integration/{PD_KEY}/enqueue");
    let cases: Vec<(Kind, String)> = vec![
        // An unknown key holding a token: the snippet shows the line, masked.
        (
            Kind::Config,
            format!("[cloudflare]\napi_token = \"{SECRET}\"\n"),
        ),
        (
            Kind::Waiver,
            format!("[[waiver]]\nrule = \"x\"\npassword = \"{SECRET}\"\n"),
        ),
        (Kind::Policy, format!("[[rule]]\nsecret = '{SECRET}'\n")),
        // A syntax error on the line of a PagerDuty endpoint, and a serde message echoing one.
        (
            Kind::Inventory,
            format!("{{\n  \"schema_version\": 1,\n  \"endpoint\": \"{pd}\" x\n}}\n"),
        ),
        (
            Kind::Inventory,
            format!("{{\n  \"schema_version\": \"{pd}\"\n}}\n"),
        ),
        // A URL with a password, and an AWS access key id, in a wrongly typed value.
        (
            Kind::Config,
            format!(
                "region = [\"https://user:{SECRET}@example.com/\", \"AKIAIOSFODNN7EXAMPLE\"]\n"
            ),
        ),
    ];
    for (kind, text) in cases {
        let dir = setup(kind, text.as_bytes());
        let err = rejects(kind, dir.path(), None);
        for s in [SECRET, PD_KEY, "AKIAIOSFODNN7EXAMPLE"] {
            assert!(!err.contains(s), "{kind:?} leaked {s}:\n{err}");
        }
    }
}

/// A policy directory holding one rule with `assert` set to `expr`.
fn rule_dir(expr: &str) -> tempfile::TempDir {
    let text = RULE.replace(
        "assert = \"resource.publicly_accessible == false\"",
        &format!("assert = '''{expr}'''"),
    );
    setup(Kind::Policy, text.as_bytes())
}

#[test]
fn pathological_expressions_are_refused_at_their_location() {
    let cases: Vec<(&str, String)> = vec![
        (
            "parens_100k",
            format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000)),
        ),
        (
            "parens_30",
            format!("{}true{}", "(".repeat(30), ")".repeat(30)),
        ),
        (
            "lists_30",
            format!("{}true{} != []", "[".repeat(30), "]".repeat(30)),
        ),
        ("ternary_30", format!("{}true", "true ? true : ".repeat(30))),
        ("sum_2000", format!("1{} > 0", " + 1".repeat(2000))),
        (
            "members_1000",
            format!("resource.tags{} == 1", ".x".repeat(1000)),
        ),
        (
            "string_1mib",
            format!("resource.engine == \"{}\"", "a".repeat(1 << 20)),
        ),
        (
            "comprehensions_3",
            "[1].all(a, [1].all(b, [1].all(c, true)))".to_string(),
        ),
        (
            "int_literal_overflow",
            "99999999999999999999 > 0".to_string(),
        ),
    ];
    for (name, expr) in cases {
        let dir = rule_dir(&expr);
        let err = rejects(Kind::Policy, dir.path(), Some(":7:"));
        snapshot(&format!("cel_{name}"), &err);
    }
    // `audit` loads rules the same way: refused before anything is evaluated.
    let dir = rule_dir(&format!("1{} > 0", " + 1".repeat(2000)));
    let r = run_in(dir.path(), &["audit", "--demo", "--policies", "policies"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("too complex"), "{}", r.stderr);
}

/// Status and message of one rule per expression (`x-hostile-<i>`) on the demo's RDS instance,
/// all in one audit run.
fn statuses(exprs: &[String]) -> Vec<(String, String)> {
    let mut text = String::new();
    for (i, expr) in exprs.iter().enumerate() {
        text.push_str(
            &RULE
                .replace("x-hostile", &format!("x-hostile-{i}"))
                .replace(
                    "assert = \"resource.publicly_accessible == false\"",
                    &format!("assert = '''{expr}'''"),
                ),
        );
        text.push('\n');
    }
    let dir = setup(Kind::Policy, text.as_bytes());
    let r = run_in(
        dir.path(),
        &[
            "audit",
            "--demo",
            "--format",
            "json",
            "--policies",
            "policies",
        ],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("a JSON report");
    (0..exprs.len())
        .map(|i| {
            let f = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule_id"] == format!("x-hostile-{i}").as_str())
                .expect("a finding of the rule");
            (
                f["status"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn runtime_errors_in_expressions_are_unknown_never_pass() {
    let exprs: Vec<String> = [
        "9223372036854775807 + 1 > 0",
        "-9223372036854775808 - 1 < 0",
        "-9223372036854775808 / -1 > 0",
        "9223372036854775807 * 2 > 0",
        "18446744073709551615u + 1u > 0u",
        "1 / 0 == 1",
        "1 % 0 == 1",
        "int(1e300) > 0",
        "int('99999999999999999999') > 0",
        "[1][5] == 1",
        "{'a': 1}['b'] == 1",
        "resource.engine.matches('(((a{100}){100}){100}){100}')",
        "resource.engine.matches('[')",
        "1 / 0 == 0 || false",
        "resource.engine",
        "(1 / 0 == 1) ? true : true",
    ]
    .map(String::from)
    .to_vec();
    for (expr, (status, message)) in exprs.iter().zip(statuses(&exprs)) {
        assert_eq!(status, "unknown", "{expr}: {message}");
    }
}

#[test]
fn odd_but_valid_expressions_evaluate() {
    let list = vec!["1"; 1500].join(",");
    let exprs = vec![
        // A regex with catastrophic backtracking in other engines: linear in Rust's.
        format!(
            "('{}' + resource.engine).matches('^(a+)+$')",
            "a".repeat(4000)
        ),
        // Size of a large literal list, and a long (but allowed) string.
        format!("[{list}].size() == 1500"),
        format!("'{}'.size() == 3000", "é".repeat(3000)),
        // Two nested comprehensions over 1500 elements: 2.25 M steps, allowed and quick.
        format!("[{list}].all(a, [{list}].exists(b, b == a))"),
    ];
    let started = Instant::now();
    let got: Vec<String> = statuses(&exprs).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["fail", "pass", "pass", "pass"]);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_file_full_of_errors_gives_a_short_list_quickly() {
    // An inventory passed as a waiver file, and a megabyte of stray brackets: thousands of
    // syntax errors. Each used to copy the whole file (5.7 s for a 35 KB inventory, 28 s here).
    let inventory = include_str!("../demo/inventory.json");
    for (name, text) in [
        ("inventory", inventory.to_string()),
        ("brackets", "}\n".repeat(512 << 10)),
    ] {
        let dir = setup(Kind::Waiver, text.as_bytes());
        let started = Instant::now();
        let r = run_in(dir.path(), &Kind::Waiver.args());
        assert_eq!(r.code, Some(2), "{name}");
        assert!(!r.stderr.contains("panicked"), "{name}");
        assert!(
            r.stderr.contains("more errors, not shown"),
            "{name}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.matches("\nerror: ").count() + 1, 20, "{name}");
        assert!(
            r.stderr.len() < 16 << 10,
            "{name}: {} bytes",
            r.stderr.len()
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{name}");
    }
}
