//! CloudWatch alarms and SNS topics and subscriptions, field by field from the SDK's own
//! builders, with the redaction of subscription endpoints.

use super::*;

#[test]
fn alarm() {
    use aws_sdk_cloudwatch::types::*;
    let a = MetricAlarm::builder()
        .alarm_name("webhook-errors")
        .alarm_arn("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:webhook-errors")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .dimensions(
            Dimension::builder()
                .name("FunctionName")
                .value("webhook")
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(5)
        .datapoints_to_alarm(5)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .actions_enabled(true)
        .alarm_actions("arn:aws:sns:eu-west-1:111122223333:pd")
        .state_value(StateValue::Ok)
        .build();
    let r = cloudwatch::normalize_alarm(&ctx(), &a).expect("alarm");
    assert_eq!(
        r.id,
        "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:webhook-errors"
    );
    let Attrs::Alarm(x) = &r.attrs else { panic!() };
    assert_eq!(x.namespace.as_deref(), Some("AWS/Lambda"));
    assert_eq!(x.metric_name.as_deref(), Some("Errors"));
    assert_eq!(x.dimensions["FunctionName"], "webhook");
    assert_eq!(x.statistic.as_deref(), Some("Sum"));
    assert_eq!(
        (x.period, x.evaluation_periods, x.datapoints_to_alarm),
        (Some(60), Some(5), Some(5))
    );
    assert_eq!(x.threshold, Some(5.0));
    assert_eq!(
        x.comparison_operator.as_deref(),
        Some("GreaterThanThreshold")
    );
    assert_eq!(x.actions_enabled, Some(true));
    assert_eq!(
        x.alarm_actions.as_deref(),
        Some(&["arn:aws:sns:eu-west-1:111122223333:pd".to_string()][..])
    );
    assert_eq!(x.state_value.as_deref(), Some("OK"));
    let cut = MetricAlarm::builder().alarm_name("x").build();
    let Attrs::Alarm(x) = cloudwatch::normalize_alarm(&ctx(), &cut).expect("a").attrs else {
        panic!()
    };
    assert_eq!((x.actions_enabled, x.threshold), (None, None));
}

#[test]
fn sns_topic_subscription_and_redaction() {
    use aws_sdk_sns::types::*;
    let mut attrs = std::collections::HashMap::new();
    attrs.insert("KmsMasterKeyId".to_string(), "alias/aws/sns".to_string());
    let t = sns::normalize_topic(
        &ctx(),
        "arn:aws:sns:eu-west-1:111122223333:pd",
        Some(&attrs),
    );
    assert_eq!(t.name.as_deref(), Some("pd"));
    let Attrs::SnsTopic(a) = &t.attrs else {
        panic!()
    };
    assert_eq!(a.kms_master_key_id.as_deref(), Some("alias/aws/sns"));
    let t = sns::normalize_topic(&ctx(), "arn:t", Some(&Default::default()));
    let Attrs::SnsTopic(a) = &t.attrs else {
        panic!()
    };
    assert_eq!(
        a.kms_master_key_id.as_deref(),
        Some(""),
        "answered: not encrypted"
    );

    let s = Subscription::builder()
        .subscription_arn("arn:aws:sns:eu-west-1:111122223333:pd:5c1f")
        .owner("111122223333")
        .protocol("https")
        .endpoint(
            "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
        )
        .topic_arn("arn:aws:sns:eu-west-1:111122223333:pd")
        .build();
    let r = sns::normalize_subscription(&ctx(), 0, &s).expect("sub");
    assert_eq!(r.id, "arn:aws:sns:eu-west-1:111122223333:pd:5c1f");
    let Attrs::SnsSubscription(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.protocol.as_deref(), Some("https"));
    assert_eq!(a.confirmed, Some(true));
    assert_eq!(
        a.endpoint.as_deref(),
        Some("https://events.pagerduty.com/integration/<redacted>/enqueue")
    );
    let mut pending = s.clone();
    pending.subscription_arn = Some("PendingConfirmation".into());
    let r = sns::normalize_subscription(&ctx(), 7, &pending).expect("sub");
    assert_eq!(
        r.id,
        "arn:aws:sns:eu-west-1:111122223333:pd:pending-confirmation-7"
    );
    let Attrs::SnsSubscription(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.confirmed, Some(false));

    assert_eq!(
        sns::redact_endpoint("https://user:pw@hooks.example.com/a/b?token=x"),
        "https://<redacted>@hooks.example.com/a/b?<redacted>"
    );
    assert_eq!(sns::redact_endpoint("ops@example.com"), "ops@example.com");
}
