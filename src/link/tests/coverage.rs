//! Alarm coverage: which of the spec's alarm categories each component's alarms cover, what
//! counts as covering (the component's own metric, a threshold it can cross, an action that
//! notifies someone), when it cannot be told, and the table of categories in docs/design.md.

use std::collections::BTreeMap;

use super::*;
use crate::link::coverage::ALL;

/// (covered, missing, gaps, not counted) of the component `id` after `edit` of the testkit
/// estate.
type Facts = (
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
);

fn coverage_of(inv: &Inventory, id: &str) -> Facts {
    let r = inv
        .resources
        .iter()
        .find(|r| r.id.ends_with(id))
        .unwrap_or_else(|| panic!("no {id}"));
    macro_rules! facts {
        ($x:expr) => {
            (
                $x.alarm_categories_covered.clone(),
                $x.alarm_categories_missing.clone(),
                $x.alarm_coverage_gaps.clone(),
                $x.alarms_not_counted.clone(),
            )
        };
    }
    match &r.attrs {
        Attrs::DbInstance(x) => facts!(x),
        Attrs::EcsService(x) => facts!(x),
        Attrs::CacheCluster(x) => facts!(x),
        Attrs::LambdaFunction(x) => facts!(x),
        Attrs::NatGateway(x) => facts!(x),
        _ => panic!("{id} has no alarm coverage"),
    }
}

fn after(edit: impl Fn(&mut Inventory), id: &str) -> Facts {
    let mut inv = estate();
    edit(&mut inv);
    coverage_of(&linked(inv), id)
}

const COMPONENTS: [(&str, &[&str]); 5] = [
    ("db:estate-db", &["performance"]),
    (
        "service/estate/worker",
        &["container health", "service health"],
    ),
    ("cluster:estate-redis-001", &["performance"]),
    ("function:webhook", &["errors", "performance"]),
    ("natgateway/nat-1", &["bandwidth", "connection limits"]),
];

#[test]
fn the_compliant_estate_covers_every_category_of_every_component() {
    let inv = linked(estate());
    for (id, categories) in COMPONENTS {
        let (covered, missing, gaps, not_counted) = coverage_of(&inv, id);
        assert_eq!(covered.unwrap(), categories, "{id}");
        assert_eq!(missing, Some(vec![]), "{id}");
        assert_eq!(gaps, Some(vec![]), "{id}");
        assert_eq!(not_counted, Some(vec![]), "{id}");
    }
}

#[test]
fn a_scaling_alarm_on_the_processors_cpu_is_not_their_container_health() {
    let (covered, missing, gaps, not_counted) = after(
        |inv| {
            inv.resources
                .retain(|r| !r.id.ends_with("alarm:worker-memory"));
            let mut cpu = alarm(
                "worker-cpu-high",
                &[("ClusterName", "estate"), ("ServiceName", "worker")],
                &[&policy_arn("cpu-out")],
            );
            if let Attrs::Alarm(a) = &mut cpu.attrs {
                a.namespace = Some("AWS/ECS".into());
            }
            inv.resources.push(cpu);
        },
        "service/estate/worker",
    );
    assert_eq!(covered.unwrap(), ["service health"]);
    assert_eq!(missing.unwrap(), ["container health"]);
    let gap = &gaps.unwrap()[0];
    assert!(
        gap.starts_with("container health: no alarm that notifies anyone"),
        "{gap}"
    );
    assert_eq!(
        not_counted.unwrap(),
        ["worker-cpu-high: it only triggers scaling policies"]
    );
}

#[test]
fn an_alarm_covers_only_when_an_alarm_action_notifies_someone() {
    let with_actions = |actions: Option<Vec<&str>>, enabled: Option<bool>| {
        after(
            |inv| {
                edit!(*inv, "alarm:db-cpu", Alarm, |a| {
                    a.alarm_actions = actions
                        .clone()
                        .map(|v| v.into_iter().map(String::from).collect());
                    a.actions_enabled = enabled;
                })
            },
            "db:estate-db",
        )
    };
    let sns_cn = "arn:aws-cn:sns:cn-north-1:111122223333:alerts";
    let incidents = "arn:aws:ssm-incidents::111122223333:response-plan/db";
    for notifying in [sns_cn, incidents] {
        let (_, missing, ..) = with_actions(Some(vec![notifying]), Some(true));
        assert_eq!(missing, Some(vec![]), "{notifying} notifies");
    }
    let ec2 = "arn:aws:automate:eu-west-1:ec2:reboot";
    let lambda = "arn:aws:lambda:eu-west-1:111122223333:function:notify";
    let ops = "arn:aws:ssm:eu-west-1:111122223333:opsitem:2#CATEGORY=Performance";
    for (actions, enabled, why) in [
        (
            vec![ec2, lambda, ops],
            Some(true),
            "none of its actions (automate, lambda, ssm)",
        ),
        (vec![], Some(true), "it has no alarm action"),
        (vec![sns_cn], Some(false), "its actions are disabled"),
    ] {
        let (_, missing, _, not_counted) = with_actions(Some(actions), enabled);
        assert_eq!(missing.unwrap(), ["performance"], "{why}");
        let nc = not_counted.unwrap();
        assert!(nc[0].starts_with(&format!("db-cpu: {why}")), "{nc:?}");
    }
    // Not read: unknown, never covered and never missing.
    let (_, missing, gaps, _) = with_actions(None, Some(true));
    assert_eq!(missing, None);
    assert!(gaps.unwrap()[0].contains("its alarm actions were not read"));
    let (_, missing, gaps, _) = with_actions(Some(vec![sns_cn]), None);
    assert_eq!(missing, None);
    assert!(gaps.unwrap()[0].contains("whether its actions are enabled was not read"));
    // Not read, but the alarm counts for nothing anyway: still known missing.
    let (_, missing, ..) = with_actions(Some(vec![ec2]), None);
    assert_eq!(missing.unwrap(), ["performance"]);
}

#[test]
fn only_the_component_s_own_metric_counts() {
    let dims_of = |dims: &[(&str, &str)]| {
        let dims: BTreeMap<String, String> = dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |inv: &mut Inventory| {
            edit!(*inv, "alarm:redis-memory", Alarm, |a| a.dimensions =
                dims.clone().into())
        }
    };
    let id = "cluster:estate-redis-001";
    let node = dims_of(&[
        ("CacheClusterId", "estate-redis-001"),
        ("CacheNodeId", "0001"),
    ]);
    assert_eq!(after(node, id).1, Some(vec![]), "a node of the cluster");
    for (dims, why) in [
        (
            &[("ReplicationGroupId", "estate-redis")][..],
            "not by replication group",
        ),
        (
            &[("CacheClusterId", "estate-redis-002")][..],
            "not this resource's own",
        ),
        (&[][..], "no dimensions"),
    ] {
        let (_, missing, _, not_counted) = after(dims_of(dims), id);
        // An alarm without the cluster's dimensions is not even found as one of its alarms.
        if let Some(nc) = not_counted.filter(|n| !n.is_empty()) {
            assert!(nc[0].contains(why), "{nc:?}");
        }
        assert_eq!(missing.unwrap(), ["performance"], "{why}");
    }
    // The function's metric narrowed to an alias, or to one executed version.
    for extra in [("Resource", "webhook:live"), ("ExecutedVersion", "3")] {
        let (_, missing, ..) = after(
            |inv| {
                edit!(*inv, "alarm:webhook-errors", Alarm, |a| {
                    a.dimensions.insert(extra.0.into(), extra.1.into());
                })
            },
            "function:webhook",
        );
        assert_eq!(missing.unwrap(), ["errors"], "{extra:?}");
    }
}

#[test]
fn metric_math_counts_by_the_query_it_returns_and_is_unknown_as_an_expression() {
    let math = |queries: Vec<MetricQuery>| {
        move |inv: &mut Inventory| {
            edit!(*inv, "alarm:webhook-duration", Alarm, |a| {
                a.namespace = None;
                a.metric_name = None;
                a.dimensions.clear();
                a.metrics = queries.clone();
            })
        }
    };
    let duration = |id: &str, function: &str, returned: bool| MetricQuery {
        id: id.into(),
        namespace: Some("AWS/Lambda".into()),
        metric_name: Some("Duration".into()),
        dimensions: [("FunctionName".to_string(), function.to_string())].into(),
        return_data: Some(returned),
        ..Default::default()
    };
    let f = "function:webhook";
    let (_, missing, ..) = after(math(vec![duration("m1", "webhook", true)]), f);
    assert_eq!(
        missing,
        Some(vec![]),
        "the returned query is the webhook's duration"
    );
    let (_, missing, ..) = after(
        math(vec![
            duration("m1", "webhook", false),
            duration("m2", "webhook-canary", true),
        ]),
        f,
    );
    assert_eq!(
        missing.unwrap(),
        ["performance"],
        "it returns another function's"
    );
    let expression = MetricQuery {
        id: "e1".into(),
        expression: Some("m1 / 1000".into()),
        return_data: Some(true),
        ..Default::default()
    };
    let (covered, missing, gaps, _) =
        after(math(vec![duration("m1", "webhook", false), expression]), f);
    assert_eq!(missing, None, "an expression is not resolved");
    assert_eq!(covered.unwrap(), ["errors"]);
    let gaps = gaps.unwrap();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0].starts_with("performance: unknown"), "{gaps:?}");
    assert!(gaps[0].contains("`m1 / 1000`"), "{gaps:?}");
}

#[test]
fn an_alarm_that_can_never_fire_covers_nothing() {
    let set = |metric: &'static str, op: &'static str, t: Option<f64>| {
        move |inv: &mut Inventory| {
            edit!(*inv, "alarm:db-cpu", Alarm, |a| {
                a.metric_name = Some(metric.into());
                a.comparison_operator = Some(op.into());
                a.threshold = t;
            })
        }
    };
    let db = "db:estate-db";
    for (metric, op, t, fires) in [
        ("CPUUtilization", "GreaterThanThreshold", 100.0, false),
        (
            "CPUUtilization",
            "GreaterThanOrEqualToThreshold",
            100.0,
            true,
        ),
        (
            "CPUUtilization",
            "GreaterThanOrEqualToThreshold",
            100.5,
            false,
        ),
        ("FreeableMemory", "GreaterThanThreshold", 1e12, true),
        ("FreeableMemory", "LessThanThreshold", 0.0, false),
        ("FreeableMemory", "LessThanOrEqualToThreshold", 0.0, true),
        ("FreeableMemory", "LessThanOrEqualToThreshold", -1.0, false),
    ] {
        let (_, missing, _, not_counted) = after(set(metric, op, Some(t)), db);
        let want: &[&str] = if fires { &[] } else { &["performance"] };
        assert_eq!(missing.unwrap(), want, "{metric} {op} {t}");
        if !fires {
            assert!(not_counted.unwrap()[0].ends_with("it never fires"));
        }
    }
    let (_, missing, ..) = after(set("CPUUtilization", "GreaterThanThreshold", None), db);
    assert_eq!(missing, None, "a threshold not read");
    let band = set(
        "CPUUtilization",
        "LessThanLowerOrGreaterThanUpperThreshold",
        None,
    );
    assert_eq!(after(band, db).1, Some(vec![]), "an anomaly band fires");
}

#[test]
fn storage_is_not_the_database_s_performance() {
    let (covered, missing, _, not_counted) = after(
        |inv| {
            edit!(*inv, "alarm:db-cpu", Alarm, |a| {
                a.metric_name = Some("FreeStorageSpace".into());
                a.comparison_operator = Some("LessThanThreshold".into());
                a.threshold = Some(2e9);
            })
        },
        "db:estate-db",
    );
    assert_eq!(covered.unwrap(), Vec::<String>::new());
    assert_eq!(missing.unwrap(), ["performance"]);
    assert_eq!(
        not_counted.unwrap(),
        ["db-cpu: AWS/RDS FreeStorageSpace is in none of its categories (performance)"]
    );
}

#[test]
fn unknown_without_alarms_or_the_component_s_identity() {
    let mut inv = estate();
    inv.collection_errors.push(error("aws.cloudwatch.alarm"));
    let inv = linked(inv);
    for (id, _) in COMPONENTS {
        assert_eq!(coverage_of(&inv, id), (None, None, None, None), "{id}");
    }
    let facts = after(
        |inv| {
            edit!(*inv, "natgateway/nat-1", NatGateway, |n| n.nat_gateway_id =
                None)
        },
        "natgateway/nat-1",
    );
    assert_eq!(facts, (None, None, None, None));
}

#[test]
fn alarms_not_counted_stay_bounded() {
    let (_, missing, _, not_counted) = after(
        |inv| {
            for i in 0..30 {
                inv.resources.push(alarm(
                    &format!("db-scale-{i:02}"),
                    &[("DBInstanceIdentifier", "estate-db")],
                    &[&policy_arn("x")],
                ));
            }
        },
        "db:estate-db",
    );
    assert_eq!(missing, Some(vec![]));
    let nc = not_counted.unwrap();
    assert_eq!(nc.len(), 21);
    assert_eq!(nc[20], "… and 10 more (30 in all)");
}

/// The table of docs/design.md §3 ("Alarm coverage") is the one the code judges by.
#[test]
fn the_design_documents_every_category_and_metric() {
    let doc = include_str!("../../../docs/design.md");
    let table = doc
        .split_once("<!-- alarm-categories:begin -->\n")
        .and_then(|(_, rest)| rest.split_once("<!-- alarm-categories:end -->"))
        .map(|(t, _)| t)
        .expect("the alarm categories table in docs/design.md");
    let mut want = String::from("| component | category | metrics that count |\n|---|---|---|\n");
    for (component, categories) in ALL {
        for c in *categories {
            let metrics: Vec<String> = c
                .metrics
                .iter()
                .map(|(ns, ms)| format!("`{ns}` {}", ms.join(", ")))
                .collect();
            want.push_str(&format!(
                "| {component} | {} | {} |\n",
                c.name,
                metrics.join("; ")
            ));
        }
    }
    assert_eq!(table, want, "docs/design.md's table should read:\n{want}");
}
