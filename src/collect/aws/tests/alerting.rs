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
    assert_eq!(
        a.endpoint_key_digest,
        Some(crate::collect::key_digest(
            "0123456789abcdef0123456789abcdef"
        ))
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

/// A PagerDuty endpoint's key is kept only as its digest, the one a PagerDuty integration with
/// that key gets; an endpoint without a key-like segment, or not https, has none.
#[test]
fn an_endpoint_key_is_kept_as_the_digest_pagerduty_integrations_use() {
    let key = "5f8a1c3e7b2d4f6a8c0e1b3d5f7a9c2e";
    let digest = sns::endpoint_key_digest(&format!(
        "https://events.pagerduty.com/integration/{key}/enqueue"
    ))
    .expect("a key");
    assert_eq!(digest, crate::collect::key_digest(key));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 16,
        "{digest}"
    );
    assert!(!digest.contains(key));
    assert_eq!(
        sns::endpoint_key_digest(&format!("HTTPS://events.pagerduty.com/x-ere/{key}?a=b")),
        Some(digest.clone()),
        "scheme case and query do not matter"
    );
    for none in [
        "https://hooks.example.com/alerts/short",
        &format!("http://events.pagerduty.com/integration/{key}/enqueue"),
        &format!("https://events.pagerduty.com?key={key}"),
        "ops@example.com",
        "",
    ] {
        assert_eq!(sns::endpoint_key_digest(none), None, "{none}");
    }
    assert_ne!(
        crate::collect::key_digest(key),
        crate::collect::key_digest("5f8a1c3e7b2d4f6a8c0e1b3d5f7a9c2f")
    );
}

/// A topic's customer key is described and its policy read, once per key; an AWS managed alias
/// is not read; a key KMS refuses to describe stays unknown, with the error.
#[tokio::test]
async fn topic_keys_are_read_once_each_and_refusals_leave_them_unknown() {
    use aws_sdk_kms::operation::describe_key::{DescribeKeyError, DescribeKeyOutput};
    use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
    use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeyState};
    use aws_sdk_sns::operation::get_topic_attributes::GetTopicAttributesOutput;
    use aws_sdk_sns::operation::list_subscriptions::ListSubscriptionsOutput;
    use aws_sdk_sns::operation::list_topics::ListTopicsOutput;
    use aws_sdk_sns::types::Topic;
    const ARN: &str = "arn:aws:sns:eu-west-1:111122223333:";
    let guard = ReadOnlyGuard::new();
    let topics = mock!(aws_sdk_sns::Client::list_topics).then_output(|| {
        let mut b = ListTopicsOutput::builder();
        for t in ["a", "b", "c", "d"] {
            b = b.topics(Topic::builder().topic_arn(format!("{ARN}{t}")).build());
        }
        b.build()
    });
    let attrs: Vec<_> = [
        ("a", "alias/alerts"),
        ("b", "alias/alerts"),
        ("c", "alias/aws/sns"),
        ("d", "alias/locked"),
    ]
    .into_iter()
    .map(|(t, key)| {
        mock!(aws_sdk_sns::Client::get_topic_attributes)
            .match_requests(move |r| r.topic_arn() == Some(&format!("{ARN}{t}")))
            .then_output(move || {
                GetTopicAttributesOutput::builder()
                    .attributes("KmsMasterKeyId", key)
                    .build()
            })
    })
    .collect();
    let subs = mock!(aws_sdk_sns::Client::list_subscriptions)
        .then_output(|| ListSubscriptionsOutput::builder().build());
    let mut rules: Vec<&aws_smithy_mocks::Rule> = vec![&topics, &subs];
    rules.extend(attrs.iter());
    let client = mocked!(aws_sdk_sns, guard, rules);
    let described = mock!(aws_sdk_kms::Client::describe_key)
        .match_requests(|r| r.key_id() == Some("alias/alerts"))
        .then_output(|| {
            DescribeKeyOutput::builder()
                .key_metadata(
                    KeyMetadata::builder()
                        .key_id("k1")
                        .arn("arn:aws:kms:eu-west-1:111122223333:key/k1")
                        .key_manager(KeyManagerType::Customer)
                        .key_state(KeyState::Enabled)
                        .build()
                        .expect("metadata"),
                )
                .build()
        });
    let refused = mock!(aws_sdk_kms::Client::describe_key)
        .match_requests(|r| r.key_id() == Some("alias/locked"))
        .then_error(|| {
            DescribeKeyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized to perform: kms:DescribeKey")
                    .build(),
            )
        });
    let policy = mock!(aws_sdk_kms::Client::get_key_policy)
        .match_requests(|r| r.key_id() == Some("k1") && r.policy_name() == Some("default"))
        .then_output(|| {
            GetKeyPolicyOutput::builder()
                .policy(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}"#,
                )
                .build()
        });
    let kms = mocked!(aws_sdk_kms, guard, [&described, &refused, &policy]);
    let mut part = sns::collect(&client, &ctx()).await;
    let refs = sns::key_refs(&part);
    assert_eq!(
        refs,
        ["alias/alerts", "alias/locked"],
        "each customer key once"
    );
    let keys = sns::read_keys(&kms, &ctx(), &refs).await;
    sns::apply_keys(&mut part, keys);
    let key = |t: &str| {
        part.resources
            .iter()
            .find(|r| r.id == format!("{ARN}{t}"))
            .and_then(|r| match &r.attrs {
                Attrs::SnsTopic(x) => Some(x.kms_key.clone()),
                _ => None,
            })
            .expect("the topic is collected")
    };
    let a = key("a").expect("read");
    assert_eq!(a.key_manager.as_deref(), Some("CUSTOMER"));
    assert_eq!(a.key_state.as_deref(), Some("Enabled"));
    assert_eq!(a.policy.as_ref().map(Vec::len), Some(1));
    assert_eq!(key("b"), Some(a), "the same key, read once");
    assert_eq!(described.num_calls(), 1);
    assert_eq!(policy.num_calls(), 1);
    assert_eq!(key("c"), None, "an AWS managed alias is judged by its name");
    assert_eq!(key("d"), None, "refused: unknown");
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert!(
        part.errors[0].message.contains("DescribeKey"),
        "{}",
        part.errors[0].message
    );
    assert!(part.errors[0].kinds.is_empty(), "the topics are collected");
}
