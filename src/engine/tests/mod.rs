use serde_json::Value as Json;

use super::resources::evaluate_chunk;
use super::values::{fields_read, reads_whole_resource};
use super::*;
use crate::finding::{Gate, Severity};
use crate::model::EstateConfig;
use crate::model::{
    Attrs, DbInstance, ErrorKind, EstateFacts, LambdaFunction, Reachability, Volume,
};

mod sentences;

fn rule(id: &str, kind: &str, when: Option<&str>, assert: &str, extra: &str) -> String {
    let when = when.map(|w| format!("when = {w:?}\n")).unwrap_or_default();
    format!(
        r#"
[[rule]]
id = "{id}"
title = "Expected state of {id}"
severity = "high"
kind = {kind}
spec = "Spec section"
{when}assert = {assert:?}
risk = "Risk."
remediation = "aws do-something"
references = ["https://docs.aws.amazon.com/"]
{extra}
"#
    )
}

fn policies(text: &str) -> PolicySet {
    PolicySet::parse(text, "test.toml").unwrap_or_else(|d| panic!("{d}"))
}

fn db(id: &str, public: Option<bool>) -> Resource {
    let mut r = Resource::new(
        format!("arn:aws:rds:eu-west-1:111122223333:db:{id}"),
        Attrs::DbInstance(DbInstance {
            publicly_accessible: public,
            status: Some("available".into()),
            endpoint_port: Some(3306),
            ..Default::default()
        }),
    );
    r.region = Some("eu-west-1".into());
    r.account = Some("111122223333".into());
    r.tags.insert("Name".into(), format!("{id}-name"));
    r
}

fn inventory(resources: Vec<Resource>) -> Inventory {
    let mut inv = Inventory::new(EstateConfig {
        region: Some("eu-west-1".into()),
        ..Default::default()
    });
    inv.resources = resources;
    inv
}

fn statuses(findings: &[Finding]) -> Vec<(String, Status)> {
    findings
        .iter()
        .map(|f| {
            (
                f.resource_id.rsplit(':').next().unwrap_or("").to_string(),
                f.status,
            )
        })
        .collect()
}

const NOT_PUBLIC: &str = "resource.publicly_accessible == false";

#[test]
fn pass_fail_and_unknown_per_resource() {
    let p = policies(&rule(
        "aws-rds-not-public",
        "\"aws.rds.db_instance\"",
        None,
        NOT_PUBLIC,
        r#"evidence = ["publicly_accessible", "internet.path"]"#,
    ));
    let inv = inventory(vec![
        db("a", Some(false)),
        db("b", Some(true)),
        db("c", None),
    ]);
    let f = evaluate(&inv, &p);
    assert_eq!(
        statuses(&f),
        [
            ("a".into(), Status::Pass),
            ("b".into(), Status::Fail),
            ("c".into(), Status::Unknown)
        ]
    );
    assert_eq!(f[0].message, "Expected state of aws-rds-not-public");
    assert_eq!(
        f[1].message,
        "b-name: Expected state of aws-rds-not-public does not hold: publicly_accessible is \
         true, internet.path is unknown; the rule expects: Expected state of aws-rds-not-public."
    );
    assert_eq!(f[1].evidence["publicly_accessible"], Json::Bool(true));
    assert_eq!(f[1].evidence["internet.path"], Json::Null);
    assert_eq!(
        f[2].message,
        "c-name: `publicly_accessible` could not be read, so the check cannot be judged; the \
         rule expects: Expected state of aws-rds-not-public."
    );
    assert_eq!(f[2].evidence["publicly_accessible"], Json::Null);

    let b = &f[1];
    assert_eq!(b.rule_id, "aws-rds-not-public");
    assert_eq!(b.resource_name, "b-name");
    assert_eq!(b.kind, "aws.rds.db_instance");
    assert_eq!(b.region.as_deref(), Some("eu-west-1"));
    assert_eq!(b.account.as_deref(), Some("111122223333"));
    assert_eq!(b.severity, Severity::High);
    assert_eq!(b.gate, Gate::Launch);
    assert_eq!(b.spec, "Spec section");
    assert!(b.waiver.is_none());
    assert_eq!(
        b.fingerprint,
        fingerprint("aws-rds-not-public", &b.resource_id)
    );
}

#[test]
fn nested_missing_field_is_named_by_its_path() {
    let p = policies(&rule(
        "aws-data-tier-unreachable",
        "\"aws.rds.db_instance\"",
        None,
        "resource.internet.reachable == false",
        r#"evidence = ["internet.path"]"#,
    ));
    let mut reachable = db("r", Some(true));
    if let Attrs::DbInstance(a) = &mut reachable.attrs {
        a.internet = Some(Reachability {
            reachable: true,
            path: vec!["igw-1".into(), "sg-1: 0.0.0.0/0 tcp 3306".into()],
            ..Default::default()
        });
    }
    let inv = inventory(vec![db("unlinked", Some(false)), reachable]);
    let f = evaluate(&inv, &p);
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(
        f[0].message,
        "unlinked-name: `internet` could not be read, so the check cannot be judged; the rule \
         expects: Expected state of aws-data-tier-unreachable."
    );
    assert_eq!(f[1].status, Status::Fail);
    assert_eq!(
        f[1].evidence["internet.path"],
        serde_json::json!(["igw-1", "sg-1: 0.0.0.0/0 tcp 3306"])
    );
}

#[test]
fn when_selects_and_fails_closed() {
    let p = policies(&rule(
        "r",
        "\"aws.rds.db_instance\"",
        Some("resource.storage_encrypted == true"),
        NOT_PUBLIC,
        "",
    ));
    let mut enc = db("enc", Some(false));
    let mut plain = db("plain", Some(true));
    if let Attrs::DbInstance(a) = &mut enc.attrs {
        a.storage_encrypted = Some(true);
    }
    if let Attrs::DbInstance(a) = &mut plain.attrs {
        a.storage_encrypted = Some(false);
    }
    let inv = inventory(vec![enc, plain, db("unread", Some(true))]);
    let f = evaluate(&inv, &p);
    // `plain` is not selected: no finding. `unread` cannot be selected or not: unknown.
    assert_eq!(
        statuses(&f),
        [
            ("enc".into(), Status::Pass),
            ("unread".into(), Status::Unknown)
        ]
    );
    assert_eq!(
        f[1].message,
        "unread-name: `storage_encrypted` could not be read, so whether the rule applies to it \
         cannot be told; the rule expects: Expected state of r."
    );
}

#[test]
fn non_bool_and_runtime_errors_are_unknown() {
    let p = policies(&format!(
        "{}{}",
        rule(
            "int-result",
            "\"aws.rds.db_instance\"",
            None,
            "resource.endpoint_port",
            ""
        ),
        rule(
            "overload",
            "\"aws.rds.db_instance\"",
            None,
            "resource.endpoint_port + 'x' == 1",
            ""
        )
    ));
    let f = evaluate(&inventory(vec![db("a", Some(false))]), &p);
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(
        f[0].message,
        "a-name: `resource.endpoint_port` gave an int instead of a bool, so the check cannot be \
         judged; the rule expects: Expected state of int-result."
    );
    assert_eq!(f[1].status, Status::Unknown);
    assert!(
        f[1].message
            .starts_with("a-name: `resource.endpoint_port + 'x' == 1` could not be evaluated"),
        "{}",
        f[1].message
    );
}

#[test]
fn integers_are_cel_ints() {
    let p = policies(&rule(
        "port",
        "\"aws.rds.db_instance\"",
        None,
        "resource.endpoint_port + 1 == 3307 && resource.endpoint_port > 0",
        "",
    ));
    let f = evaluate(&inventory(vec![db("a", Some(false))]), &p);
    assert_eq!(f[0].status, Status::Pass, "{}", f[0].message);
}

fn webhook_rule() -> PolicySet {
    policies(&rule(
        "aws-lambda-webhook-url",
        "\"aws.lambda.function\"",
        Some("resource.is_webhook == true"),
        "resource.function_url.configured == true",
        "required = true",
    ))
}

fn lambda(name: &str, is_webhook: Option<bool>) -> Resource {
    Resource::new(
        format!("arn:aws:lambda:eu-west-1:111122223333:function:{name}"),
        Attrs::LambdaFunction(LambdaFunction {
            function_name: Some(name.into()),
            is_webhook,
            ..Default::default()
        }),
    )
}

fn estate_record() -> Resource {
    let mut r = Resource::new(
        "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc",
        Attrs::Estate(EstateFacts::default()),
    );
    r.name = Some("estate".into());
    r.region = Some("eu-west-1".into());
    r
}

#[test]
fn required_component_missing_fails_on_the_estate_record() {
    let inv = inventory(vec![estate_record(), lambda("other", Some(false))]);
    let f = evaluate(&inv, &webhook_rule());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Fail);
    assert_eq!(
        f[0].resource_id,
        "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc"
    );
    assert_eq!(f[0].kind, "estate");
    assert_eq!(
        f[0].message,
        "The estate has no aws.lambda.function matching `resource.is_webhook == true`; the rule \
         expects: Expected state of aws-lambda-webhook-url."
    );

    // Without an estate record: a synthetic id from the configured region.
    let f = evaluate(&inventory(vec![]), &webhook_rule());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource_id, "estate:eu-west-1");
    assert_eq!(f[0].status, Status::Fail);
}

#[test]
fn required_component_present_gives_only_its_finding() {
    let inv = inventory(vec![estate_record(), lambda("webhook", Some(true))]);
    let f = evaluate(&inv, &webhook_rule());
    // `function_url` is null: unknown, and no "missing" finding since the webhook exists.
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(
        f[0].message,
        "arn:aws:lambda:eu-west-1:111122223333:function:webhook: `function_url` could not be \
         read, so the check cannot be judged; the rule expects: Expected state of \
         aws-lambda-webhook-url."
    );
}

#[test]
fn required_with_undecidable_when_is_unknown_not_missing() {
    let inv = inventory(vec![estate_record(), lambda("unlinked", None)]);
    let f = evaluate(&inv, &webhook_rule());
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(f[1].kind, "estate");
    assert_eq!(f[1].status, Status::Unknown);
    assert!(
        f[1].message
            .starts_with("Whether the estate has aws.lambda.function matching"),
        "{}",
        f[1].message
    );
}

fn rds_denied() -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: "rds".into(),
        kinds: vec!["aws.rds.db_instance".into()],
        kind: ErrorKind::AccessDenied,
        message: "not authorized to perform rds:DescribeDBInstances".into(),
        region: Some("eu-west-1".into()),
        account: None,
    }
}

#[test]
fn collection_errors_make_every_finding_of_the_kind_unknown() {
    let p = policies(&rule(
        "aws-rds-not-public",
        "\"aws.rds.db_instance\"",
        None,
        NOT_PUBLIC,
        "",
    ));
    let mut inv = inventory(vec![db("a", Some(false)), db("b", Some(true))]);
    inv.collection_errors.push(rds_denied());
    let f = evaluate(&inv, &p);
    assert_eq!(
        statuses(&f),
        [("a".into(), Status::Unknown), ("b".into(), Status::Unknown)]
    );
    assert_eq!(
        f[0].message,
        "a-name: aws rds could not be collected in eu-west-1 (AccessDenied: not authorized to \
         perform rds:DescribeDBInstances), so the check cannot be judged; the rule expects: \
         Expected state of aws-rds-not-public."
    );
}

#[test]
fn collection_error_without_resources_is_one_unknown_on_the_estate() {
    let p = policies(&format!(
        "{}{}",
        rule(
            "aws-rds-not-public",
            "\"aws.rds.db_instance\"",
            None,
            NOT_PUBLIC,
            ""
        ),
        rule(
            "aws-ec2-ebs-encrypted",
            "\"aws.ec2.volume\"",
            None,
            "resource.encrypted == true",
            "required = true"
        )
    ));
    let mut inv = inventory(vec![estate_record()]);
    inv.collection_errors.push(rds_denied());
    let f = evaluate(&inv, &p);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].rule_id, "aws-rds-not-public");
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(f[0].kind, "estate");
    assert!(
        f[0].message
            .starts_with("No aws.rds.db_instance of the estate could be read (aws rds"),
        "{}",
        f[0].message
    );
    // The other rule is not affected: its kind was collected, and is missing.
    assert_eq!(f[1].rule_id, "aws-ec2-ebs-encrypted");
    assert_eq!(f[1].status, Status::Fail);
}

#[test]
fn several_kinds_are_all_evaluated() {
    let p = policies(&rule(
        "named",
        r#"["aws.rds.db_instance", "aws.ec2.volume"]"#,
        None,
        "resource.name != ''",
        r#"evidence = ["tags.Name"]"#,
    ));
    let mut vol = Resource::new(
        "arn:aws:ec2:eu-west-1:1:volume/vol-1",
        Attrs::Volume(Volume::default()),
    );
    vol.name = Some("vol".into());
    let f = evaluate(&inventory(vec![db("a", Some(false)), vol]), &p);
    // The RDS instance has no `name` (only a Name tag): unknown; the volume passes.
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].status, Status::Unknown);
    assert_eq!(
        f[0].message,
        "a-name: `name` could not be read, so the check cannot be judged; the rule expects: \
         Expected state of named."
    );
    assert_eq!(f[1].status, Status::Pass);
    assert_eq!(f[1].kind, "aws.ec2.volume");
    assert_eq!(f[0].evidence["tags.Name"], Json::String("a-name".into()));
}

#[test]
fn resource_object_flattens_attrs_and_drops_nulls() {
    let obj = resource_object(&db("a", None)).expect("serialisable");
    assert_eq!(obj["id"], "arn:aws:rds:eu-west-1:111122223333:db:a");
    assert_eq!(obj["kind"], "aws.rds.db_instance");
    assert_eq!(obj["status"], "available");
    assert_eq!(obj["tags"]["Name"], "a-name");
    assert!(!obj.contains_key("publicly_accessible"));
    assert!(!obj.contains_key("name"));
    assert!(!obj.contains_key("attrs"));
}

/// A synthetic estate: `n` resources over a few kinds, with a rule pack of `rules_n` rules.
fn synthetic(n: usize) -> (Inventory, PolicySet) {
    let mut resources = Vec::with_capacity(n);
    for i in 0..n {
        let r = match i % 4 {
            0 => db(&format!("db{i}"), Some(i % 7 == 0)),
            1 => Resource::new(
                format!("arn:aws:ec2:eu-west-1:1:volume/vol-{i}"),
                Attrs::Volume(Volume {
                    encrypted: Some(i % 5 != 0),
                    state: Some("in-use".into()),
                    ..Default::default()
                }),
            ),
            2 => lambda(&format!("fn{i}"), Some(i == 2)),
            _ => {
                let mut r = db(&format!("dbx{i}"), None);
                if let Attrs::DbInstance(a) = &mut r.attrs {
                    a.internet = Some(Reachability {
                        reachable: false,
                        path: vec!["sg blocks".into()],
                        ..Default::default()
                    });
                }
                r
            }
        };
        resources.push(r);
    }
    let mut text = String::new();
    // ~41 rules, most over one kind, as in the built-in pack.
    for j in 0..14 {
        text += &rule(
            &format!("rds-{j}"),
            "\"aws.rds.db_instance\"",
            Some("resource.status != 'deleting'"),
            "resource.publicly_accessible == false && !resource.internet.reachable",
            r#"evidence = ["publicly_accessible", "internet.path"]"#,
        );
        text += &rule(
            &format!("vol-{j}"),
            "\"aws.ec2.volume\"",
            None,
            "resource.encrypted == true",
            r#"evidence = ["encrypted"]"#,
        );
    }
    for j in 0..13 {
        text += &rule(
            &format!("fn-{j}"),
            "\"aws.lambda.function\"",
            Some("resource.is_webhook == true"),
            "has(resource.function_url) && resource.function_url.configured",
            "required = true",
        );
    }
    (inventory(resources), policies(&text))
}

#[test]
fn parallel_and_sequential_evaluation_agree() {
    let (inv, p) = synthetic(PARALLEL_THRESHOLD + 100);
    let a = evaluate(&inv, &p);
    let b = evaluate(&inv, &p);
    assert_eq!(a, b);
    // Sequential reference, same order.
    let plans = {
        let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
        for (ri, r) in p.rules().iter().enumerate() {
            for k in r.kinds() {
                m.entry(k.as_str()).or_default().push(ri);
            }
        }
        m.into_iter()
            .map(|(k, ids)| (k, KindPlan::new(p.rules(), ids)))
            .collect::<HashMap<_, _>>()
    };
    let mut slots: Vec<&Resource> = inv.resources.iter().collect();
    let mut seq = Part::default();
    let stamped: Vec<Stamped<'_>> = p.rules().iter().map(Stamped::of).collect();
    evaluate_chunk(&mut slots, 0, &stamped, &plans, &mut seq);
    assert_eq!(seq.findings.len(), a.len());
    // The same findings, in (rule, resource) order.
    let mut order: Vec<usize> = (0..seq.keys.len()).collect();
    order.sort_by_key(|&i| seq.keys[i]);
    crate::finding::apply_permutation(&mut seq.findings, order);
    assert_eq!(seq.findings, a);
}

#[test]
fn releasing_evaluation_gives_the_same_findings_and_keeps_what_it_did_not_read() {
    for n in [40, PARALLEL_THRESHOLD + 100] {
        let (mut inv, p) = synthetic(n);
        // A service that failed (its kind's findings come from the inventory after evaluation)
        // and a kind no rule is over: both must stay in the inventory.
        inv.collection_errors.push(CollectionError {
            provider: "aws".into(),
            service: "lambda".into(),
            region: None,
            kind: ErrorKind::AccessDenied,
            message: "denied".into(),
            kinds: vec!["aws.lambda.function".into()],
            account: None,
        });
        inv.resources.push(Resource::new(
            "arn:aws:lambda:eu-west-1:1:function:f",
            Attrs::LambdaFunction(LambdaFunction::default()),
        ));
        let whole = evaluate(&inv, &p);
        let mut released = inv.clone();
        let findings = evaluate_releasing(&mut released, &p);
        assert_eq!(findings, whole);
        assert!(whole.iter().any(|f| f.kind == "aws.lambda.function"));
        let left: Vec<&str> = released.resources.iter().map(|r| r.kind()).collect();
        assert!(
            !left.is_empty() && left.iter().all(|k| *k == "aws.lambda.function"),
            "{left:?}"
        );
    }
}

#[test]
fn apply_permutation_moves_every_element_to_its_place() {
    // Every permutation of five elements, against the obvious copy.
    fn all(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in all(n - 1) {
            for at in 0..=p.len() {
                let mut q = p.clone();
                q.insert(at, n - 1);
                out.push(q);
            }
        }
        out
    }
    let perms = all(5);
    assert_eq!(perms.len(), 120);
    for order in perms {
        let v: Vec<char> = "abcde".chars().collect();
        let expected: Vec<char> = order.iter().map(|&i| v[i]).collect();
        let mut got = v.clone();
        crate::finding::apply_permutation(&mut got, order);
        assert_eq!(got, expected);
    }
}

/// Measures evaluation cost: `cargo test --release -- --ignored --nocapture evaluation_cost`.
#[test]
#[ignore]
fn evaluation_cost() {
    for n in [10_000, 100_000] {
        let (inv, p) = synthetic(n);
        let start = std::time::Instant::now();
        let f = evaluate(&inv, &p);
        let took = start.elapsed();
        let evals: usize = inv
            .resources
            .iter()
            .map(|r| {
                p.rules()
                    .iter()
                    .filter(|ru| ru.kinds().iter().any(|k| k == r.kind()))
                    .count()
            })
            .sum();
        println!(
            "{n} resources × {} rules: {} findings, {evals} rule evaluations in {took:?} \
             ({:.2} µs per evaluation, wall clock, {} threads)",
            p.len(),
            f.len(),
            took.as_secs_f64() * 1e6 / evals as f64,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
}

/// A rule pack shaped like the built-in one: 41 rules, a few per kind, most kinds without
/// resources in this inventory.
fn realistic_pack() -> PolicySet {
    let mut text = String::new();
    let mut add = |id: String, kind: &str, when: Option<&str>, assert: &str, extra: &str| {
        text += &rule(&id, &format!("{kind:?}"), when, assert, extra);
    };
    for j in 0..6 {
        add(
            format!("rds-{j}"),
            "aws.rds.db_instance",
            None,
            "resource.publicly_accessible == false && !resource.internet.reachable",
            r#"evidence = ["publicly_accessible", "internet.path"]"#,
        );
    }
    for j in 0..2 {
        add(
            format!("vol-{j}"),
            "aws.ec2.volume",
            None,
            "resource.encrypted == true",
            r#"evidence = ["encrypted"]"#,
        );
    }
    for j in 0..4 {
        add(
            format!("fn-{j}"),
            "aws.lambda.function",
            Some("resource.is_webhook == true"),
            "has(resource.function_url) && resource.function_url.configured",
            "required = true",
        );
    }
    let others = [
        "aws.ec2.subnet",
        "aws.ec2.security_group",
        "aws.ecs.service",
        "cloudflare.zone",
        "aws.cloudwatch.alarm",
        "aws.elasticache.cluster",
        "aws.ec2.instance",
        "aws.ec2.nat_gateway",
    ];
    for j in 0..29 {
        add(
            format!("other-{j}"),
            others[j % others.len()],
            None,
            "resource.id != ''",
            "",
        );
    }
    policies(&text)
}

/// Measures evaluation cost on the realistic pack:
/// `cargo test --release -- --ignored --nocapture evaluation_cost_realistic`.
#[test]
#[ignore]
fn evaluation_cost_realistic() {
    let (inv, _) = synthetic(100_000);
    let p = realistic_pack();
    assert_eq!(p.len(), 41);
    let start = std::time::Instant::now();
    let f = evaluate(&inv, &p);
    let took = start.elapsed();
    println!(
        "realistic: {} resources × {} rules: {} findings in {took:?} ({:.2} µs per finding, wall clock)",
        inv.resources.len(),
        p.len(),
        f.len(),
        took.as_secs_f64() * 1e6 / f.len() as f64
    );
    drop(f);
    let plans = {
        let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
        for (ri, r) in p.rules().iter().enumerate() {
            for k in r.kinds() {
                m.entry(k.as_str()).or_default().push(ri);
            }
        }
        m.into_iter()
            .map(|(k, ids)| (k, KindPlan::new(p.rules(), ids)))
            .collect::<HashMap<_, _>>()
    };
    let mut slots: Vec<&Resource> = inv.resources.iter().collect();
    let start = std::time::Instant::now();
    let mut seq = Part::default();
    let stamped: Vec<Stamped<'_>> = p.rules().iter().map(Stamped::of).collect();
    evaluate_chunk(&mut slots, 0, &stamped, &plans, &mut seq);
    println!(
        "  one thread, evaluation proper: {:?} for {} findings",
        start.elapsed(),
        seq.findings.len()
    );
}

#[test]
fn whole_resource_reads_are_detected_conservatively() {
    for src in [
        "size(resource) > 0",
        "resource['tier'] == 'public'",
        "[resource].exists(r, r.tier == 'public')",
        "'resource' == resource .tier",
    ] {
        assert!(reads_whole_resource(src), "{src}");
    }
    for src in [
        "resource.tier == 'public'",
        "has(resource.function_url) && resource . function_url.configured",
        "resource.ingress.all(e, !e.source_is_internet)",
        "my_resource == 1 || resources.x",
    ] {
        assert!(!reads_whole_resource(src), "{src}");
    }
}

/// Rules naming only fields get a partial conversion; a rule reading the resource as a whole
/// gets all of it (and still evaluates). That the partial conversion changes no finding is
/// pinned by the per-rule snapshots of `tests/rules.rs` and the demo reports of `tests/cli.rs`.
#[test]
fn whole_resource_rules_get_the_whole_object() {
    let (inv, p) = synthetic(300);
    let all: Vec<usize> = (0..p.rules().len()).collect();
    let keep = fields_read(p.rules(), &all).expect("field reads only");
    assert!(keep.contains("publicly_accessible") && keep.contains("internet"));
    let whole = policies(&rule(
        "whole",
        "\"aws.ec2.volume\"",
        None,
        "size(resource) > 0",
        "",
    ));
    assert!(fields_read(whole.rules(), &[0]).is_none());
    let f = evaluate(&inv, &whole);
    assert!(!f.is_empty());
    assert!(f.iter().all(|f| f.status == Status::Pass), "{f:?}");
}

#[test]
fn releasing_unread_kinds_before_evaluation_changes_no_finding() {
    let mut inv = crate::synth::spec_shaped(300, 7);
    crate::link::link(&mut inv);
    let p = PolicySet::builtin().expect("builtin");
    let whole = evaluate(&inv, &p);
    let before = inv.resources.len();
    retain_evaluated(&mut inv, &p);
    assert!(inv.resources.len() < before);
    assert!(inv.resources.iter().any(|r| r.kind() == "estate"));
    assert_eq!(evaluate(&inv, &p), whole);
}

#[test]
fn evidence_lists_are_cut_and_say_how_many_more() {
    use super::resources::bounded;
    let long: Vec<Json> = (0..30).map(Json::from).collect();
    let v = serde_json::json!({ "workloads": long, "nested": [{ "ids": (0..25).collect::<Vec<_>>() }] });
    let b = bounded(&v);
    let w = b["workloads"].as_array().unwrap();
    assert_eq!(w.len(), 21);
    assert_eq!(w[20], Json::from("… and 10 more (30 in all)"));
    assert_eq!(w[0], Json::from(0));
    let ids = b["nested"][0]["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 21, "nested lists are cut too");
    let short = serde_json::json!([1, 2, 3]);
    assert_eq!(bounded(&short), short, "short lists stay whole");
}
