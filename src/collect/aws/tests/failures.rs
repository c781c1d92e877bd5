//! Failed calls become collection errors over the service's kinds (refused, throttled after the
//! retry budget, an HTML page from an endpoint that lacks the call, no region at all), and the
//! classification and messages behind them: which permission, which retry budget.

use super::*;

#[tokio::test]
async fn access_denied_becomes_a_collection_error_for_the_service_kinds() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_rds::Client::describe_db_instances)
        .then_http_response(|| http(403, QUERY_ACCESS_DENIED));
    let client = mocked!(aws_sdk_rds, guard, [&rule]);
    let part = rds::collect(&client, &ctx()).await;
    assert!(part.resources.is_empty());
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    let e = &part.errors[0];
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert_eq!(e.provider, "aws");
    assert_eq!(e.service, "rds");
    assert!(e.kinds.contains(&"aws.rds.db_instance".to_string()));
    assert!(e.message.contains("DescribeDBInstances"), "{}", e.message);
    assert!(e.message.contains("not authorized"), "{}", e.message);
    assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    assert_eq!(guard.calls(), vec!["RDS:DescribeDBInstances".to_string()]);
}

#[tokio::test]
async fn throttling_is_retried_then_reported_as_throttled() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .times(5)
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert_eq!(rule.num_calls(), 3, "three attempts: the retry policy ran");
    assert_eq!(part.errors.len(), 1);
    assert_eq!(part.errors[0].kind, ErrorKind::Throttled);
    assert!(part.errors[0].message.contains("RequestLimitExceeded"));
    assert_eq!(part.errors[0].kinds, vec!["aws.ec2.vpc".to_string()]);
}

#[tokio::test]
async fn throttling_then_success_recovers() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .output(|| {
            aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder()
                .vpcs(aws_sdk_ec2::types::Vpc::builder().vpc_id("vpc-1").build())
                .build()
        })
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    assert_eq!(part.resources.len(), 1);
}

#[tokio::test]
async fn an_html_page_means_the_endpoint_lacks_the_call() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_sns::Client::list_topics).then_http_response(|| {
        http(
            500,
            "<!doctype html><html><title>500 Internal Server Error</title></html>",
        )
    });
    let subs = mock!(aws_sdk_sns::Client::list_subscriptions).then_output(|| {
        aws_sdk_sns::operation::list_subscriptions::ListSubscriptionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_sns, guard, [&rule, &subs]);
    let part = sns::collect(&client, &ctx()).await;
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::Unsupported);
    assert!(part.errors[0].message.contains("ListTopics"));
}

#[tokio::test]
async fn no_region_is_a_collection_error_not_a_panic() {
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let guard = ReadOnlyGuard::new();
    let clients = Clients::new(&sdk, &guard);
    let out = collect_with(&clients, &guard, None, &EstateConfig::default(), Some(&sdk)).await;
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("no AWS region"));
    assert!(out.errors[0].kinds.contains(&"aws.ec2.vpc".to_string()));
    assert!(guard.calls().is_empty());
}

#[test]
fn classify_reads_codes_statuses_and_transport_failures() {
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_types::error::ErrorMetadata;
    let service = |code: Option<&str>, status: u16, body: &'static str| {
        let mut meta = ErrorMetadata::builder().message("m");
        if let Some(c) = code {
            meta = meta.code(c);
        }
        SdkError::<DescribeVpcsError, HttpResponse>::service_error(
            DescribeVpcsError::generic(meta.build()),
            http(status, body),
        )
    };
    let k = |e: &SdkError<DescribeVpcsError, HttpResponse>| classify(e).0;
    assert_eq!(
        k(&service(Some("UnauthorizedOperation"), 403, "")),
        ErrorKind::AccessDenied
    );
    assert_eq!(k(&service(None, 403, "")), ErrorKind::AccessDenied);
    assert_eq!(
        k(&service(Some("Throttling"), 400, "")),
        ErrorKind::Throttled
    );
    assert_eq!(k(&service(None, 429, "")), ErrorKind::Throttled);
    assert_eq!(k(&service(None, 404, "")), ErrorKind::Unsupported);
    assert_eq!(
        k(&service(Some("InvalidAction"), 400, "")),
        ErrorKind::Unsupported
    );
    assert_eq!(
        k(&service(None, 500, "<h1>Internal Server Error</h1>")),
        ErrorKind::Unsupported
    );
    assert_eq!(
        k(&service(Some("InternalError"), 500, "")),
        ErrorKind::Other
    );
    let timeout = SdkError::<DescribeVpcsError, HttpResponse>::timeout_error("slow");
    assert_eq!(k(&timeout), ErrorKind::Other);
    assert!(classify(&timeout).1.contains("timed out"));
}

#[test]
fn messages_say_which_permission_and_which_retry_budget() {
    use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
    use aws_smithy_types::error::ErrorMetadata;
    let err = |code: &str, status: u16| {
        SdkError::<DescribeDBInstancesError, HttpResponse>::service_error(
            DescribeDBInstancesError::generic(
                ErrorMetadata::builder().code(code).message("m").build(),
            ),
            http(status, ""),
        )
    };
    let kinds: &[&str] = &["aws.rds.db_instance"];
    let denied = error_for(
        ("rds", "DescribeDBInstances", kinds),
        "eu-west-1",
        4,
        &err("AccessDenied", 403),
    );
    assert!(
        denied
            .message
            .contains("IAM permission rds:DescribeDBInstances"),
        "{}",
        denied.message
    );
    let throttled = error_for(
        ("rds", "DescribeDBInstances", kinds),
        "eu-west-1",
        4,
        &err("Throttling", 400),
    );
    assert_eq!(throttled.kind, ErrorKind::Throttled);
    assert!(
        throttled.message.contains("throttled after 4 attempts"),
        "{}",
        throttled.message
    );
    let sts = error_for(
        ("sts", "GetCallerIdentity", &[]),
        "eu-west-1",
        1,
        &err("InvalidClientTokenId", 403),
    );
    assert!(
        sts.message.ends_with("the credentials were refused"),
        "{}",
        sts.message
    );
    // A success status whose body could not be read is an unreadable answer, not a vague one.
    let unreadable = SdkError::<DescribeDBInstancesError, HttpResponse>::service_error(
        DescribeDBInstancesError::unhandled("unexpected end of input"),
        http(200, "{"),
    );
    let (kind, text) = classify(&unreadable);
    assert_eq!(kind, ErrorKind::Other);
    assert!(text.starts_with("unreadable answer (HTTP 200"), "{text}");
    assert!(text.contains("unexpected end of input"), "{text}");
}
