use super::*;
use crate::finding::{Gate, Severity};
use crate::model::MonitoringProvider;

/// A valid rule; tests break one thing at a time.
const GOOD: &str = r#"
[[rule]]
id = "aws-rds-not-public"
title = "RDS instances are not publicly accessible"
severity = "critical"
kind = "aws.rds.db_instance"
spec = "Data Storage > MySQL/MariaDB Database: internal access only"
when = "resource.status != 'deleting'"
assert = "resource.publicly_accessible == false"
evidence = ["publicly_accessible", "internet.path"]
risk = "A public database endpoint can be attacked from the internet."
remediation = "aws rds modify-db-instance --db-instance-identifier ID --no-publicly-accessible"
references = ["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"]
"#;

fn render(text: &str) -> String {
    match PolicySet::parse(text, "policies/test.toml") {
        Ok(_) => panic!("expected diagnostics for:\n{text}"),
        Err(d) => d.render_plain(),
    }
}

#[test]
fn a_good_rule_loads_with_defaults() {
    let set = PolicySet::parse(GOOD, "policies/test.toml").expect("valid");
    assert_eq!(set.len(), 1);
    let r = set.get("aws-rds-not-public").expect("by id");
    assert_eq!(r.info.severity, Severity::Critical);
    assert_eq!(r.info.gate, Gate::Launch);
    assert_eq!(r.info.kinds, ["aws.rds.db_instance"]);
    assert!(!r.required);
    assert_eq!(r.evidence, ["publicly_accessible", "internet.path"]);
    assert_eq!(
        r.when.as_ref().map(|w| w.source.as_str()),
        Some("resource.status != 'deleting'")
    );
    assert_eq!(r.assert.paths, ["publicly_accessible"]);
    assert_eq!(r.location(), "policies/test.toml:2:1");
    assert_eq!(set.infos()[0].id, "aws-rds-not-public");
}

#[test]
fn several_kinds_and_operate_gate() {
    let text = GOOD
        .replace(
            r#"kind = "aws.rds.db_instance""#,
            r#"kind = ["aws.rds.db_instance", "aws.elasticache.cluster"]
gate = "operate"
required = true"#,
        )
        .replace(r#"when = "resource.status != 'deleting'""#, "")
        .replace(
            "resource.publicly_accessible == false",
            "size(resource.alarm_names) > 0",
        )
        .replace(
            r#"["publicly_accessible", "internet.path"]"#,
            r#"["alarm_names"]"#,
        );
    let set = PolicySet::parse(&text, "t.toml").expect("valid");
    let r = &set.rules()[0];
    assert_eq!(r.info.kinds.len(), 2);
    assert_eq!(r.info.gate, Gate::Operate);
    assert!(r.required);
    assert!(r.when.is_none());
}

#[test]
fn a_field_must_exist_in_every_kind() {
    // `publicly_accessible` exists on RDS instances, not on cache clusters.
    let text = GOOD.replace(
        r#"kind = "aws.rds.db_instance""#,
        r#"kind = ["aws.rds.db_instance", "aws.elasticache.cluster"]"#,
    );
    let out = render(&text);
    assert!(
        out.contains("not a field of aws.elasticache.cluster"),
        "{out}"
    );
    assert!(!out.contains("not a field of aws.rds.db_instance"), "{out}");
}

#[test]
fn builtin_pack_loads() {
    // The pack may be empty while it is being written; it must always load.
    let set = PolicySet::builtin().unwrap_or_else(|d| panic!("{d}"));
    for r in set.rules() {
        assert!(r.origin.starts_with("<builtin>/"), "{}", r.origin);
    }
}

#[test]
fn load_dir_reads_every_toml_sorted_and_rejects_cross_file_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("b.toml"), GOOD).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
    let second = GOOD.replace("aws-rds-not-public", "aws-rds-other");
    std::fs::write(dir.path().join("a.toml"), &second).expect("write");
    let set = PolicySet::load_dir(dir.path()).expect("valid");
    let ids: Vec<&str> = set.rules().iter().map(|r| r.id()).collect();
    assert_eq!(ids, ["aws-rds-other", "aws-rds-not-public"]);

    std::fs::write(dir.path().join("c.toml"), GOOD).expect("write");
    let err = PolicySet::load_dir(dir.path()).unwrap_err();
    assert_eq!(err.len(), 1, "{err}");
    let d = &err.0[0];
    assert!(d.origin.ends_with("c.toml"), "{}", d.origin);
    assert_eq!(d.line_col(), Some((3, 6)));
    assert!(d.notes[0].starts_with("first defined at "), "{:?}", d.notes);
    assert!(d.notes[0].ends_with("b.toml:2:1"), "{:?}", d.notes);
}

#[test]
fn merging_with_builtin_rejects_reused_ids() {
    let a = PolicySet::parse(GOOD, "a.toml").expect("valid");
    let b = PolicySet::parse(GOOD, "b.toml").expect("valid");
    let err = a.merge(b).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err.0[0].notes, ["first defined at a.toml:2:1"]);
}

#[test]
fn a_typo_key_is_reported_as_unknown_and_as_missing() {
    let text = GOOD
        .replace("assert = ", "asert = ")
        .replace(r#"severity = "critical""#, r#"severity = "urgent""#)
        .replace("aws.rds.db_instance", "aws.rds.instance");
    let err = PolicySet::parse(&text, "policies/test.toml").unwrap_err();
    // `asert` is two diagnostics (unknown key, missing `assert`), plus the severity and the kind.
    let msgs: Vec<&str> = err.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "rule `aws-rds-not-public` is missing required key `assert`",
            "unknown severity `urgent`",
            "unknown kind `aws.rds.instance`",
            "unknown key `asert` in rule",
        ],
    );
}

#[test]
fn three_independent_problems_are_all_reported() {
    let text = GOOD
        .replace(r#"severity = "critical""#, r#"severity = "urgent""#)
        .replace(
            r#"risk = "A public"#,
            r#"risk = "  "
# "#,
        )
        .replace(
            "resource.publicly_accessible",
            "resource.publicly_acessible",
        );
    let err = PolicySet::parse(&text, "policies/test.toml").unwrap_err();
    assert_eq!(err.len(), 3, "{err}");
    insta::assert_snapshot!("three_problems", err.render_plain());
}

#[test]
fn diag_toml_syntax() {
    insta::assert_snapshot!(render("[[rule]]\nid = \"x\ntitle = 3\n"));
}

#[test]
fn diag_unknown_key() {
    insta::assert_snapshot!(render(
        &GOOD.replace("assert = ", "assert = \"true\"\nasert = ")
    ));
}

#[test]
fn diag_missing_key() {
    insta::assert_snapshot!(render(&GOOD.replace("spec = ", "# spec = ")));
}

#[test]
fn diag_wrong_type() {
    insta::assert_snapshot!(render(&GOOD.replace(
        r#"evidence = ["publicly_accessible", "internet.path"]"#,
        "evidence = 3\nrequired = \"yes\""
    )));
}

#[test]
fn diag_bad_severity_and_gate() {
    insta::assert_snapshot!(render(&GOOD.replace(
        r#"severity = "critical""#,
        "severity = \"severe\"\ngate = \"deploy\""
    )));
}

#[test]
fn diag_unknown_kind() {
    insta::assert_snapshot!(render(
        &GOOD.replace("aws.rds.db_instance", "aws.rds.dbinstance")
    ));
}

#[test]
fn diag_empty_docs() {
    insta::assert_snapshot!(render(
        &GOOD
            .replace(r#"title = "RDS instances are not publicly accessible""#, "title = \"\"")
            .replace(
                r#"references = ["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"]"#,
                "references = []"
            )
    ));
}

#[test]
fn diag_duplicate_id_in_one_file() {
    let text = format!("{GOOD}{GOOD}");
    let out = render(&text);
    assert!(out.contains("test.toml:16:6: duplicate rule id"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn diag_cel_syntax() {
    insta::assert_snapshot!(render(&GOOD.replace(
        "resource.publicly_accessible == false",
        "resource.publicly_accessible == && false"
    )));
}

#[test]
fn diag_cel_syntax_in_multiline_string() {
    let text = GOOD.replace(
        r#"assert = "resource.publicly_accessible == false""#,
        "assert = '''\nresource.publicly_accessible == false &&\n  resource.storage_encrypted ==\n'''",
    );
    let out = render(&text);
    insta::assert_snapshot!(out);
}

#[test]
fn diag_unknown_field() {
    let out = render(&GOOD.replace(
        "resource.publicly_accessible == false",
        "resource.publicly_accesible == false && resource.internet.pth.size() == 0",
    ));
    assert!(
        out.contains("test.toml:9:20: `assert`: unknown field `publicly_accesible`"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn diag_unknown_field_in_macro_and_identifier() {
    insta::assert_snapshot!(render(&GOOD.replace(
        "resource.publicly_accessible == false",
        "resource.ingress.all(i, !i.source_is_internt) && rsource.name != ''"
    )));
}

#[test]
fn diag_unknown_evidence_path() {
    insta::assert_snapshot!(render(&GOOD.replace("internet.path", "internet.paths")));
}

/// `GOOD` with a `message` and a `wants` after its evidence.
fn with_message(message: &str) -> String {
    GOOD.replace(
        "evidence = [\"publicly_accessible\", \"internet.path\"]\n",
        &format!(
            "evidence = [\"publicly_accessible\", \"internet.path\"]\nmessage = {message}\n\
             wants = \"the database private\"\n"
        ),
    )
}

#[test]
fn message_and_wants_load_into_the_rule() {
    let text = with_message(r#""{resource} is open: {internet.path} ({{sic}})""#);
    let set = PolicySet::parse(&text, "policies/test.toml").expect("valid");
    let r = set.get("aws-rds-not-public").unwrap();
    let m = r.message.as_ref().expect("message");
    assert_eq!(m.source, "{resource} is open: {internet.path} ({{sic}})");
    assert_eq!(
        m.render("db", |p| format!("<{p}>")),
        "db is open: <internet.path> ({sic})"
    );
    assert_eq!(r.wants.as_deref(), Some("the database private"));
    // Both are part of what labels the findings: the digest moves with them.
    let plain = PolicySet::parse(GOOD, "policies/test.toml").unwrap();
    assert_ne!(set.digest(), plain.digest());
}

#[test]
fn diag_message_placeholder_unknown() {
    insta::assert_snapshot!(render(&with_message(
        r#""{resourse} is open: {internet.paths}, {tier}""#
    )));
}

#[test]
fn diag_message_braces_unbalanced_and_wants_empty() {
    insta::assert_snapshot!(render(
        &with_message(r#""{resource} is open } here {internet.path""#)
            .replace("wants = \"the database private\"", "wants = \" \"")
    ));
}

#[test]
fn diag_unknown_top_level_and_bad_id() {
    insta::assert_snapshot!(render(&format!(
        "[[rules]]\nid = \"x\"\n{}",
        GOOD.replace("aws-rds-not-public", "AWS RDS")
    )));
}

#[test]
fn escaped_strings_still_point_at_the_value() {
    // With an escape inside, offsets cannot be mapped 1:1: the whole string is the span.
    let text = GOOD.replace(
        r#""resource.status != 'deleting'""#,
        r#""resource.statuz != \"deleting\"""#,
    );
    let err = PolicySet::parse(&text, "t.toml").unwrap_err();
    assert_eq!(err.len(), 1, "{err}");
    assert_eq!(err.0[0].line_col(), Some((8, 8)));
}

#[test]
fn no_panic_on_garbage() {
    for text in [
        "",
        "rule = 3",
        "[[rule]]",
        "[rule]\nid = 1",
        "rule = [1, \"x\"]",
        "[[rule]]\nkind = []\nassert = \"\"\nwhen = 3",
        "[[rule]]\nassert = \"((((((((((\"\nwhen = \"\u{0}\u{fffd}é.é\"",
    ] {
        let _ = PolicySet::parse(text, "g.toml").map(|s| s.len());
    }
    assert!(PolicySet::parse("", "e.toml")
        .expect("empty file")
        .is_empty());
}

#[test]
fn builtin_expressions_are_well_within_the_complexity_limits() {
    let set = PolicySet::builtin().unwrap();
    let (mut depth, mut comp, mut nest) = (0, 0, 0);
    for r in set.rules() {
        for e in r.when.iter().chain(std::iter::once(&r.assert)) {
            let (d, c) = super::load::tree_depth(e.program().expression());
            depth = depth.max(d);
            comp = comp.max(c);
            let mut n: usize = 0;
            let mut level: usize = 0;
            for b in e.source.bytes() {
                match b {
                    b'(' | b'[' | b'{' => level += 1,
                    b')' | b']' | b'}' => level = level.saturating_sub(1),
                    b'?' => n += 1,
                    _ => {}
                }
                nest = nest.max(level + n);
            }
        }
    }
    eprintln!("built-in: tree depth {depth}, comprehension nesting {comp}, bracket nesting {nest}");
    assert!(depth * 2 <= super::load::MAX_EXPRESSION_DEPTH, "{depth}");
    assert!(comp <= super::load::MAX_COMPREHENSION_NESTING, "{comp}");
    assert!(nest * 2 <= super::load::MAX_EXPRESSION_NESTING, "{nest}");
}

#[test]
fn monitoring_parts_load_into_the_rule() {
    let text = GOOD.replace(
        "severity = ",
        "monitoring = [\"pagerduty\", \"grafana\"]\nseverity = ",
    );
    let set = PolicySet::parse(&text, "policies/test.toml").expect("valid");
    let r = set.get("aws-rds-not-public").unwrap();
    assert_eq!(
        r.info.monitoring,
        [MonitoringProvider::Pagerduty, MonitoringProvider::Grafana]
    );
    // Without the key: no part, and the digest a rule pack had before the key existed.
    let plain = PolicySet::parse(GOOD, "policies/test.toml").unwrap();
    assert!(plain
        .get("aws-rds-not-public")
        .unwrap()
        .info
        .monitoring
        .is_empty());
    assert_ne!(set.digest(), plain.digest());
}

#[test]
fn diag_monitoring_part_unknown_twice_and_empty() {
    insta::assert_snapshot!(render(&GOOD.replace(
        "severity = ",
        "monitoring = [\"pagerdty\", \"loki\", \"loki\"]\nseverity = ",
    )));
    insta::assert_snapshot!(render(
        &GOOD.replace("severity = ", "monitoring = []\nseverity = ")
    ));
}
