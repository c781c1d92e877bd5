//! The read-only guard and its allowlist: a write is refused before it is signed or sent, only
//! allowlisted reads pass, the IAM policy grants exactly the allowlist, and the guard tells its
//! observer and records calls, retries and response bytes per service.

use super::*;

#[tokio::test]
async fn the_guard_refuses_anything_but_reads() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::create_vpc)
        .then_output(|| aws_sdk_ec2::operation::create_vpc::CreateVpcOutput::builder().build());
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let err = client
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect_err("refused");
    assert!(
        format!("{}", DisplayErrorContext(&err)).contains("read-only"),
        "{}",
        DisplayErrorContext(&err)
    );
    // Refused while the request was being built: it was never signed nor sent.
    assert!(
        matches!(err, SdkError::ConstructionFailure(_)),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(guard.calls(), vec!["EC2:CreateVpc".to_string()]);
}

#[test]
fn read_only_names() {
    for ok in [
        "DescribeVpcs",
        "ListFunctions",
        "GetPolicy",
        "GetCallerIdentity",
    ] {
        assert!(is_read_only(ok), "{ok}");
    }
    for bad in [
        "CreateVpc",
        "PutMetricAlarm",
        "Getaway",
        "Delete",
        "ListenUp",
        "Describe",
    ] {
        assert!(!is_read_only(bad), "{bad}");
    }
}

#[tokio::test]
async fn the_observer_sees_every_service_and_operation() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let guard = ReadOnlyGuard::observed(Arc::new(move |s: &str, o: &str| {
        sink.lock().expect("lock").push(format!("{s} {o}"));
    }));
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account("111122223333")
            .build()
    });
    let client = mocked!(aws_sdk_sts, guard, [&rule]);
    assert_eq!(
        sts::account(&client).await.expect("account"),
        "111122223333"
    );
    assert_eq!(*seen.lock().expect("lock"), ["STS GetCallerIdentity"]);
}

#[test]
fn the_allowlist_is_read_only_and_is_what_iam_policy_grants() {
    let policy: serde_json::Value = serde_json::from_str(&iam_policy_document()).unwrap();
    let granted: Vec<&str> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for (service, op, action) in ALLOWED_OPERATIONS {
        assert!(
            is_read_only(op) || NON_MUTATING.contains(&(*service, *op)),
            "{service}:{op}"
        );
        assert!(is_allowed(service, op));
        if !action.is_empty() {
            assert!(granted.contains(action), "{action} missing from the policy");
            // API Gateway's IAM actions are HTTP verbs on the API resources: a Get is a GET.
            let verb = *action == "apigateway:GET" && op.starts_with("Get");
            assert!(action.ends_with(op) || verb, "{action} does not name {op}");
        }
    }
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert!(granted.iter().all(|a| !a.contains('*')), "no wildcards");
    // The one exception to the prefixes hands out credentials and writes nothing.
    assert_eq!(NON_MUTATING, [("STS", "AssumeRole")]);
    for action in ["sts:AssumeRole", "organizations:ListAccounts"] {
        assert!(granted.contains(&action), "{action}");
    }
    assert!(!is_allowed("STS", "AssumeRoleWithWebIdentity"));
    assert!(!is_allowed("Organizations", "CreateAccount"));
    // Read-only by name but not a call the collector makes: refused, like any write.
    assert!(!is_allowed("EC2", "DescribeKeyPairs"));
    assert!(!is_allowed("EC2", "CreateVpc"));
    assert!(
        !is_allowed("RDS", "DescribeVpcs"),
        "the service must match too"
    );
}

#[test]
fn stats_names_are_the_iam_prefixes() {
    assert_eq!(stats_name("EC2"), "aws.ec2");
    assert_eq!(stats_name("STS"), "aws.sts");
    assert_eq!(
        stats_name("Application Auto Scaling"),
        "aws.application-autoscaling"
    );
    assert_eq!(stats_name("Organizations"), "aws.organizations");
    assert_eq!(stats_name("Some New Thing"), "aws.some-new-thing");
}

#[tokio::test]
async fn the_guard_counts_calls_retries_and_response_bytes_per_service() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .output(|| aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder().build())
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let usage = guard.usage();
    let ec2 = usage.get("aws.ec2").copied().unwrap_or_default();
    assert_eq!((ec2.calls, ec2.retries), (2, 1), "{usage:?}");
    assert!(ec2.bytes >= EC2_THROTTLED.len() as u64, "{usage:?}");
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!(guard.calls(), ["EC2:DescribeVpcs"]);
}

/// The clients the collector builds (not test-built ones) refuse writes: the edge services' too.
#[tokio::test]
async fn every_client_the_collector_builds_refuses_writes() {
    let guard = ReadOnlyGuard::new();
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test"),
            ),
        )
        .http_client(create_mock_http_client())
        .build();
    let c = Clients::new(&sdk, &guard);
    let refused = |e: String| assert!(e.contains("read-only"), "{e}");
    refused(format!(
        "{}",
        DisplayErrorContext(
            c.elbv2
                .create_load_balancer()
                .name("x")
                .send()
                .await
                .unwrap_err()
        )
    ));
    refused(format!(
        "{}",
        DisplayErrorContext(
            c.elb
                .delete_load_balancer()
                .load_balancer_name("x")
                .send()
                .await
                .unwrap_err()
        )
    ));
    refused(format!(
        "{}",
        DisplayErrorContext(
            c.apigateway
                .create_rest_api()
                .name("x")
                .send()
                .await
                .unwrap_err()
        )
    ));
    refused(format!(
        "{}",
        DisplayErrorContext(
            c.apigatewayv2
                .delete_api()
                .api_id("x")
                .send()
                .await
                .unwrap_err()
        )
    ));
    refused(format!(
        "{}",
        DisplayErrorContext(
            c.ec2
                .delete_network_interface()
                .network_interface_id("eni-1")
                .send()
                .await
                .unwrap_err()
        )
    ));
    assert_eq!(
        guard.calls(),
        [
            "Elastic Load Balancing v2:CreateLoadBalancer",
            "Elastic Load Balancing:DeleteLoadBalancer",
            "API Gateway:CreateRestApi",
            "ApiGatewayV2:DeleteApi",
            "EC2:DeleteNetworkInterface",
        ]
    );
}
