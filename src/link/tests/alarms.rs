//! Alarms: the PagerDuty chain and the ECS processor's scaling alarms as CloudWatch evaluates
//! them and Application Auto Scaling acts on them.

use super::*;

#[test]
fn pagerduty_chain_and_where_it_stops() {
    let routed = |edit_inv: &dyn Fn(&mut Inventory)| {
        let mut inv = estate();
        edit_inv(&mut inv);
        let a = get!(linked(inv), "alarm:db-cpu", Alarm);
        (
            a.pagerduty_routed,
            a.pagerduty_path.unwrap_or_default().join(" | "),
        )
    };
    let (r, p) = routed(&|inv| {
        edit!(*inv, ":sub-1", SnsSubscription, |s| s.confirmed =
            Some(false))
    });
    assert_eq!(r, Some(false));
    assert!(p.contains("pending confirmation"), "{p}");

    let (r, p) = routed(&|inv| inv.resources.retain(|x| x.kind() != "aws.sns.subscription"));
    assert_eq!(r, Some(false));
    assert!(p.contains("has no subscriptions"), "{p}");

    let (r, p) = routed(&|inv| {
        edit!(*inv, ":sub-1", SnsSubscription, |s| s.protocol =
            Some("email".into()))
    });
    assert_eq!(r, Some(false));
    assert!(p.contains("no PagerDuty subscription (email"), "{p}");

    let (r, p) = routed(&|inv| {
        edit!(*inv, "alarm:db-cpu", Alarm, |a| a.alarm_actions =
            Some(vec![]))
    });
    assert_eq!(r, Some(false));
    assert_eq!(p, "no alarm actions");

    let (r, p) = routed(&|inv| {
        inv.resources.retain(|x| !x.kind().starts_with("aws.sns."));
    });
    assert_eq!(r, None, "topic not in the inventory is unknown");
    assert!(p.contains("not in the inventory"), "{p}");

    let (r, _) = routed(&|inv| {
        edit!(*inv, "alarm:db-cpu", Alarm, |a| a.actions_enabled =
            Some(false))
    });
    assert_eq!(r, Some(false));

    let (r, _) = routed(&|inv| edit!(*inv, "alarm:db-cpu", Alarm, |a| a.alarm_actions = None));
    assert_eq!(r, None);
}

#[test]
fn scaling_alarms_by_action_target_tracking_and_cpu() {
    let mut inv = estate();
    let mut cpu = alarm(
        "TargetTracking-cpu-AlarmHigh",
        &[("ClusterName", "estate"), ("ServiceName", "worker")],
        &[&policy_arn("cpu-tt")],
    );
    if let Attrs::Alarm(a) = &mut cpu.attrs {
        a.namespace = Some("AWS/ECS".into());
        a.comparison_operator = Some("GreaterThanThreshold".into());
        a.datapoints_to_alarm = None;
    }
    inv.resources.push(cpu);
    inv.resources.push(res(
        policy_arn("cpu-tt"),
        Attrs::ScalingPolicy(ScalingPolicy {
            policy_name: Some("cpu-tt".into()),
            resource_id: Some("service/estate/worker".into()),
            policy_type: Some("TargetTrackingScaling".into()),
            alarm_names: vec!["TargetTracking-cpu-AlarmHigh".into()],
            ..Default::default()
        }),
    ));
    let inv = linked(inv);
    let s = get!(inv, "service/estate/worker", EcsService);
    let sa = s.scaling_alarms.unwrap();
    let cpu = sa.iter().find(|a| a.policy_name == "cpu-tt").unwrap();
    assert_eq!(cpu.metric_role.as_deref(), Some("cpu"));
    assert_eq!(cpu.direction.as_deref(), Some("out"));
    assert_eq!(cpu.window_seconds, Some(300), "60 s × 5 evaluation periods");
    assert!(
        s.alarm_names
            .unwrap()
            .contains(&"TargetTracking-cpu-AlarmHigh".to_string()),
        "found by its dimensions"
    );
    let a = get!(inv, "alarm:TargetTracking-cpu-AlarmHigh", Alarm);
    assert_eq!(a.watches, Some(vec![arn("ecs", "service/estate/worker")]));
}

/// The worker's scaling alarms after `edit` of the testkit estate.
fn scaling_after(edit_inv: impl Fn(&mut Inventory)) -> (Vec<ScalingAlarm>, Vec<String>) {
    let mut inv = estate();
    edit_inv(&mut inv);
    let s = get!(linked(inv), "service/estate/worker", EcsService);
    (s.scaling_alarms.unwrap(), s.scaling_alarm_problems.unwrap())
}

fn the<'a>(alarms: &'a [ScalingAlarm], name: &str) -> &'a ScalingAlarm {
    alarms
        .iter()
        .find(|a| a.alarm_name == name)
        .unwrap_or_else(|| panic!("no scaling alarm {name} in {alarms:#?}"))
}

/// An alarm on the worker's own average CPU (`op threshold`, 60 s × 5) driving `policy`.
fn cpu_alarm(name: &str, policy: &str, op: &str, threshold: f64) -> Resource {
    let mut r = alarm(
        name,
        &[("ClusterName", "estate"), ("ServiceName", "worker")],
        &[&policy_arn(policy)],
    );
    if let Attrs::Alarm(a) = &mut r.attrs {
        a.namespace = Some("AWS/ECS".into());
        a.comparison_operator = Some(op.into());
        a.threshold = Some(threshold);
    }
    r
}

/// A step policy `name` on the worker: `kind` adjustments, each step `(lower, upper, n)`.
fn step_policy(name: &str, kind: &str, steps: &[(Option<f64>, Option<f64>, i64)]) -> Resource {
    res(
        policy_arn(name),
        Attrs::ScalingPolicy(ScalingPolicy {
            policy_name: Some(name.into()),
            service_namespace: Some("ecs".into()),
            resource_id: Some("service/estate/worker".into()),
            policy_type: Some("StepScaling".into()),
            step_adjustments: steps.iter().map(|s| s.2).collect(),
            adjustment_type: Some(kind.into()),
            steps: Some(
                steps
                    .iter()
                    .map(|&(l, u, n)| StepAdjustment {
                        metric_interval_lower_bound: l,
                        metric_interval_upper_bound: u,
                        scaling_adjustment: n,
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
    )
}

const ABOVE: (Option<f64>, Option<f64>) = (Some(0.0), None);
const BELOW: (Option<f64>, Option<f64>) = (None, Some(0.0));

#[test]
fn the_compliant_queue_alarm_acts_and_says_nothing_is_wrong() {
    let (sa, problems) = scaling_after(|_| {});
    let q = the(&sa, "queue-high");
    assert_eq!(q.metric_role.as_deref(), Some("queue"));
    assert_eq!(q.metric_matches, Some(true));
    assert_eq!(q.direction.as_deref(), Some("out"));
    assert_eq!(q.crossable, Some(true));
    assert_eq!(
        (q.window_seconds, q.evaluation_seconds),
        (Some(180), Some(300))
    );
    assert_eq!((q.actions_enabled, q.acts), (Some(true), Some(true)));
    assert_eq!(q.problem, None);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn direction_follows_the_adjustment_type_and_the_steps_the_alarm_reaches() {
    let direction = |kind: &str, steps: &[(Option<f64>, Option<f64>, i64)], op: &str| {
        let (sa, problems) = scaling_after(|inv| {
            inv.resources.push(step_policy("p", kind, steps));
            inv.resources.push(cpu_alarm("cpu", "p", op, 50.0));
        });
        let a = the(&sa, "cpu").clone();
        (a.direction, a.acts, a.problem, problems)
    };
    let g = "GreaterThanOrEqualToThreshold";
    let l = "LessThanThreshold";
    let (lo, up) = ABOVE;
    let (d, acts, ..) = direction("ChangeInCapacity", &[(lo, up, 2)], g);
    assert_eq!((d.as_deref(), acts), (Some("out"), Some(true)));
    let (d, acts, ..) = direction("PercentChangeInCapacity", &[(lo, up, 20)], g);
    assert_eq!((d.as_deref(), acts), (Some("out"), Some(true)));
    let (blo, bup) = BELOW;
    let (d, acts, ..) = direction("PercentChangeInCapacity", &[(blo, bup, -20)], l);
    assert_eq!((d.as_deref(), acts), (Some("in"), Some(true)));

    // A zero adjustment does nothing: the alarm fires and nothing moves.
    let (d, acts, p, problems) = direction("ChangeInCapacity", &[(lo, up, 0)], g);
    assert_eq!((d.as_deref(), acts), (Some("none"), Some(false)));
    assert!(p.unwrap().contains("every step it reaches is zero"));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("cpu → p: the policy changes nothing"),
        "{problems:?}"
    );

    // Steps only below the threshold, set off by an alarm that breaches above it: none applies.
    let (d, acts, p, _) = direction("ChangeInCapacity", &[(blo, bup, 3)], g);
    assert_eq!((d.as_deref(), acts), (Some("none"), Some(false)));
    assert!(p.unwrap().contains("no step lies on the side"));
    // An upper bound is exclusive above the threshold: a step [-10, 0) is below it.
    let (d, ..) = direction("ChangeInCapacity", &[(Some(-10.0), Some(0.0), 3)], g);
    assert_eq!(d.as_deref(), Some("none"));
    // Steps that add and remove on the same side.
    let (d, acts, ..) = direction(
        "ChangeInCapacity",
        &[(Some(0.0), Some(10.0), 1), (Some(10.0), None, -1)],
        g,
    );
    assert_eq!((d.as_deref(), acts), (Some("mixed"), Some(false)));
    // Only the reachable steps count: a negative step below the threshold is never taken.
    let (d, ..) = direction(
        "ChangeInCapacity",
        &[(None, Some(0.0), -1), (Some(0.0), None, 1)],
        g,
    );
    assert_eq!(d.as_deref(), Some("out"));

    // Exact capacity against the target's bounds (1 to 10).
    let (d, acts, p, _) = direction("ExactCapacity", &[(lo, up, 1)], g);
    assert_eq!(
        (d.as_deref(), acts),
        (Some("in"), Some(false)),
        "pinned to the minimum"
    );
    assert!(p.unwrap().contains("removes tasks"));
    let (d, ..) = direction("ExactCapacity", &[(lo, up, 10)], g);
    assert_eq!(d.as_deref(), Some("out"));
    let (d, ..) = direction("ExactCapacity", &[(lo, up, 12)], g);
    assert_eq!(
        d.as_deref(),
        Some("out"),
        "above the maximum is the maximum"
    );
    let (d, acts, p, _) = direction("ExactCapacity", &[(lo, up, 5)], g);
    assert_eq!(
        (d, acts, p),
        (None, None, None),
        "between the bounds: unknown"
    );
    // An adjustment type this build does not know: unknown.
    let (d, acts, ..) = direction("SomethingNew", &[(lo, up, 1)], g);
    assert_eq!((d, acts), (None, None));
}

#[test]
fn exact_capacity_without_one_known_target_is_unknown() {
    let (sa, _) = scaling_after(|inv| {
        inv.resources
            .push(step_policy("p", "ExactCapacity", &[(Some(0.0), None, 10)]));
        inv.resources
            .push(cpu_alarm("cpu", "p", "GreaterThanThreshold", 50.0));
        edit!(*inv, "scalable-target/worker", ScalableTarget, |t| t
            .max_capacity =
            None);
    });
    assert_eq!(the(&sa, "cpu").direction, None);
}

#[test]
fn steps_or_adjustment_type_not_read_leave_the_direction_unknown() {
    let (sa, _) = scaling_after(|inv| {
        edit!(*inv, "policyName/queue-out", ScalingPolicy, |p| p.steps =
            None);
    });
    let q = the(&sa, "queue-high");
    assert_eq!((q.direction.as_deref(), q.acts), (None, None));
    let (sa, _) = scaling_after(|inv| {
        edit!(*inv, "policyName/queue-out", ScalingPolicy, |p| p
            .adjustment_type =
            None);
    });
    assert_eq!(the(&sa, "queue-high").direction, None);
}

#[test]
fn target_tracking_scales_in_only_when_scale_in_is_enabled() {
    let low = |disable: Option<bool>| {
        let (sa, _) = scaling_after(|inv| {
            inv.resources.push(res(
                policy_arn("cpu-tt"),
                Attrs::ScalingPolicy(ScalingPolicy {
                    policy_name: Some("cpu-tt".into()),
                    resource_id: Some("service/estate/worker".into()),
                    policy_type: Some("TargetTrackingScaling".into()),
                    alarm_names: vec!["tt-high".into(), "tt-low".into()],
                    target_metric: Some("ECSServiceAverageCPUUtilization".into()),
                    target_value: Some(70.0),
                    disable_scale_in: disable,
                    ..Default::default()
                }),
            ));
            inv.resources
                .push(cpu_alarm("tt-high", "cpu-tt", "GreaterThanThreshold", 70.0));
            inv.resources
                .push(cpu_alarm("tt-low", "cpu-tt", "LessThanThreshold", 63.0));
        });
        assert_eq!(the(&sa, "tt-high").direction.as_deref(), Some("out"));
        let a = the(&sa, "tt-low");
        (a.direction.clone(), a.acts, a.problem.clone())
    };
    assert_eq!(low(Some(false)), (Some("in".into()), Some(true), None));
    let (d, acts, p) = low(Some(true));
    assert_eq!((d.as_deref(), acts), (Some("none"), Some(false)));
    assert!(p.unwrap().contains("scale-in disabled"));
    assert_eq!(low(None), (None, None, None), "not said: unknown");
}

#[test]
fn a_cpu_alarm_counts_only_on_this_services_own_average_cpu() {
    let cpu = |dims: &[(&str, &str)], stat: &str| {
        let (sa, _) = scaling_after(|inv| {
            let mut r = cpu_alarm("cpu", "queue-out", "GreaterThanOrEqualToThreshold", 80.0);
            if let Attrs::Alarm(a) = &mut r.attrs {
                a.dimensions = dims
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                a.statistic = Some(stat.into());
            }
            inv.resources.push(r);
        });
        the(&sa, "cpu").clone()
    };
    let own = cpu(
        &[("ClusterName", "estate"), ("ServiceName", "worker")],
        "Average",
    );
    assert_eq!(
        (own.metric_role.as_deref(), own.metric_matches, own.problem),
        (Some("cpu"), Some(true), None)
    );
    let other = cpu(
        &[("ClusterName", "estate"), ("ServiceName", "canary")],
        "Average",
    );
    assert_eq!(other.metric_matches, Some(false));
    assert_eq!(
        other.problem.as_deref(),
        Some("its CPU metric names ClusterName=estate, ServiceName=canary, not service estate/worker")
    );
    assert_eq!(
        other.acts,
        Some(true),
        "it does scale the worker, on the canary's CPU"
    );
    let cluster = cpu(&[("ClusterName", "estate")], "Average");
    assert_eq!(
        cluster.metric_matches,
        Some(false),
        "the cluster's CPU is not the service's"
    );
    let peak = cpu(
        &[("ClusterName", "estate"), ("ServiceName", "worker")],
        "Maximum",
    );
    assert_eq!(peak.metric_matches, Some(true));
    assert_eq!(peak.statistic.as_deref(), Some("Maximum"));
    assert!(peak
        .problem
        .unwrap()
        .contains("the Maximum of CPU, not its average"));
}

#[test]
fn a_metric_math_alarm_is_judged_by_its_returned_query() {
    let math = |queries: Vec<MetricQuery>| {
        let (sa, _) = scaling_after(|inv| {
            let mut r = cpu_alarm("cpu", "queue-out", "GreaterThanOrEqualToThreshold", 80.0);
            if let Attrs::Alarm(a) = &mut r.attrs {
                a.namespace = None;
                a.metric_name = None;
                a.dimensions.clear();
                a.statistic = None;
                a.period = None;
                a.metrics = queries.clone();
            }
            inv.resources.push(r);
        });
        the(&sa, "cpu").clone()
    };
    let own_cpu = |id: &str, ret: bool| MetricQuery {
        id: id.into(),
        namespace: Some("AWS/ECS".into()),
        metric_name: Some("CPUUtilization".into()),
        dimensions: [("ClusterName", "estate"), ("ServiceName", "worker")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        stat: Some("Average".into()),
        period: Some(60),
        return_data: Some(ret),
        ..Default::default()
    };
    let a = math(vec![own_cpu("m1", true)]);
    assert_eq!(
        (
            a.metric_role.as_deref(),
            a.metric_matches,
            a.statistic.as_deref()
        ),
        (Some("cpu"), Some(true), Some("Average"))
    );
    assert_eq!(a.window_seconds, Some(300));
    // The CPU is read but not returned: the alarm compares an expression with the threshold.
    let a = math(vec![
        own_cpu("m1", false),
        MetricQuery {
            id: "e1".into(),
            expression: Some("m1 * 0".into()),
            return_data: Some(true),
            ..Default::default()
        },
    ]);
    assert_eq!((a.metric_role, a.metric_matches), (None, None));
    assert_eq!((a.metric.as_str(), a.crossable), ("m1 * 0", None));
    assert_eq!(a.window_seconds, Some(300), "the period of its queries");
}

#[test]
fn a_threshold_a_non_negative_metric_never_crosses_never_fires() {
    let crossable = |op: &str, threshold: f64| {
        let (sa, problems) = scaling_after(|inv| {
            inv.resources
                .push(cpu_alarm("cpu", "queue-in", op, threshold));
        });
        let a = the(&sa, "cpu");
        (a.crossable, a.acts, problems)
    };
    let (c, acts, problems) = crossable("LessThanThreshold", 0.0);
    assert_eq!((c, acts), (Some(false), Some(false)));
    assert_eq!(
        problems,
        ["cpu → queue-in: LessThanThreshold 0 on a metric that is never negative: it never fires"]
    );
    assert_eq!(crossable("LessThanOrEqualToThreshold", -1.0).0, Some(false));
    assert_eq!(crossable("LessThanOrEqualToThreshold", 0.0).0, Some(true));
    assert_eq!(crossable("LessThanThreshold", 0.5).0, Some(true));
    // A custom metric's range is not known.
    let (sa, _) = scaling_after(|inv| {
        let mut r = cpu_alarm("lag", "queue-in", "LessThanThreshold", 0.0);
        if let Attrs::Alarm(a) = &mut r.attrs {
            a.namespace = Some("Custom/App".into());
            a.metric_name = Some("Lag".into());
        }
        inv.resources.push(r);
    });
    let a = the(&sa, "lag");
    assert_eq!(
        (a.metric_role.as_deref(), a.crossable),
        (Some("other"), None)
    );
}

#[test]
fn an_alarm_pointing_against_its_policy_or_with_actions_off_does_not_act() {
    let (sa, _) = scaling_after(|inv| {
        inv.resources.push(cpu_alarm(
            "inverted",
            "queue-in",
            "GreaterThanThreshold",
            80.0,
        ));
        let mut off = cpu_alarm("off", "queue-out", "GreaterThanThreshold", 80.0);
        if let Attrs::Alarm(a) = &mut off.attrs {
            a.actions_enabled = Some(false);
        }
        inv.resources.push(off);
    });
    // The scale-in policy's step lies below the threshold: above it, nothing applies.
    let inv = the(&sa, "inverted");
    assert_eq!(
        (inv.direction.as_deref(), inv.acts),
        (Some("none"), Some(false))
    );
    let off = the(&sa, "off");
    assert_eq!((off.actions_enabled, off.acts), (Some(false), Some(false)));
    assert_eq!(
        off.problem.as_deref(),
        Some("its actions are disabled: it never triggers the policy")
    );
    // A scale-in policy whose step covers every value, set off by a Greater alarm: inverted.
    let (sa, _) = scaling_after(|inv| {
        inv.resources.push(step_policy(
            "shrink",
            "ChangeInCapacity",
            &[(None, None, -1)],
        ));
        inv.resources.push(cpu_alarm(
            "inverted",
            "shrink",
            "GreaterThanThreshold",
            80.0,
        ));
    });
    let a = the(&sa, "inverted");
    assert_eq!((a.direction.as_deref(), a.acts), (Some("in"), Some(false)));
    assert!(a
        .problem
        .as_deref()
        .unwrap()
        .contains("capacity falls as the metric rises"));
}

#[test]
fn scaling_alarm_problems_stay_bounded() {
    let (sa, problems) = scaling_after(|inv| {
        for i in 0..25 {
            let mut r = cpu_alarm(
                &format!("off-{i:02}"),
                "queue-out",
                "GreaterThanThreshold",
                80.0,
            );
            if let Attrs::Alarm(a) = &mut r.attrs {
                a.actions_enabled = Some(false);
            }
            inv.resources.push(r);
        }
    });
    assert_eq!(sa.len(), 26);
    assert_eq!(problems.len(), 21);
    assert_eq!(problems[20], "… and 5 more (25 in all)");
}

#[test]
fn a_queue_alarm_counts_only_on_the_configured_queue_when_its_dimensions_are_named() {
    let queue = |configured: &[&str]| {
        let mut inv = estate();
        inv.estate.components.queue_dimensions = configured.iter().map(|s| s.to_string()).collect();
        let s = get!(linked(inv), "service/estate/worker", EcsService);
        the(&s.scaling_alarms.unwrap(), "queue-high").clone()
    };
    // The testkit's queue alarm names QueueName=work.
    assert_eq!(
        queue(&[]).metric_matches,
        Some(true),
        "not configured: not checked"
    );
    assert_eq!(queue(&["QueueName=work"]).metric_matches, Some(true));
    let other = queue(&["QueueName=requests"]);
    assert_eq!(other.metric_matches, Some(false));
    assert_eq!(
        other.problem.as_deref(),
        Some(
            "its queue metric names QueueName=work, not the configured queue (QueueName=requests)"
        )
    );
    let more = queue(&["QueueName=work", "Vhost=/"]);
    assert_eq!(
        more.metric_matches,
        Some(false),
        "every configured dimension, exactly"
    );
}
