//! Alarms: the PagerDuty chain and the ECS processor's scaling alarms.

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
    assert_eq!(cpu.metric_role, "cpu");
    assert_eq!(cpu.direction, "out");
    assert_eq!(cpu.window_seconds, Some(300), "60 s × 5 evaluation periods");
    assert_eq!(
        s.alarm_names,
        Some(vec!["TargetTracking-cpu-AlarmHigh".to_string()])
    );
    let a = get!(inv, "alarm:TargetTracking-cpu-AlarmHigh", Alarm);
    assert_eq!(a.watches, Some(vec![arn("ecs", "service/estate/worker")]));
}
