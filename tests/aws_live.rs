//! Live AWS collection against a real moto server (issue #3): estates are built through the
//! AWS SDK for Rust, collected by the product's collector, audited with the built-in rule pack,
//! and asserted per rule id and resource.
//!
//! Each test works in its own region: moto's state is shared by every test of the binary (and by
//! anyone reusing the server through `MOTO_URL`), and a region is the unit the collector scans.
//!
//! Moto's gaps (docs/development.md) are worked around here, never in the product:
//! - CloudWatch: the SDK speaks rpc-v2-cbor, which moto 5.2.5 (the latest release) does not
//!   serve. The harness's server script (`support/live/moto_server.py`) bridges it to moto's JSON
//!   protocol, so the estate's alarms are created with PutMetricAlarm and read back by the
//!   product's unchanged collector.
//! - ElastiCache: DescribeCacheClusters omits a replication group's member clusters, so the
//!   member cluster is also created with CreateCacheCluster; the server script adds the
//!   cluster's security groups and at-rest encryption, which moto stores but does not report.
//! - Lambda needs an IAM role: created with one raw query call (compiling `aws-sdk-iam` for it
//!   would cost minutes of every test build); AddPermission loses conditions, so the compliant
//!   webhook uses `AWS_IAM` URL auth.

#[path = "support/live/mod.rs"]
mod live;
use live::audit::{
    assert_status, audit_inventory, collect_and_audit, collect_and_audit_scanning,
    collect_inventory, estate_config, put_alarms, sdk, status_of, status_table, with_loki,
};
use live::{estate, moto};

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::Region;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor};
use chrono::{TimeZone, Utc};
use estate_audit::collect::aws::{self as collector, Clients, ReadOnlyGuard};
use estate_audit::finding::Status;
use estate_audit::model::{EstateConfig, Inventory};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;

use estate::{build, create_webhook, tag_value, tags, ACCOUNT, TAG_KEY};

/// Calls and retries per service for the compliant estate, its home region plus one scanned
/// region (CloudWatch answers from the test's mock, through the guard).
const EXPECTED_CALLS: [(&str, (u64, u64)); 14] = [
    // GetRestApis and GetApis: no API, so no per-API call.
    ("aws.apigateway", (2, 0)),
    ("aws.application-autoscaling", (2, 0)),
    ("aws.cloudwatch", (1, 0)),
    ("aws.ec2", (10, 0)),
    ("aws.ecs", (5, 0)),
    ("aws.elasticache", (3, 0)),
    // The PagerDuty topic's customer key: DescribeKey and GetKeyPolicy.
    ("aws.kms", (2, 0)),
    // Both kinds of load balancer and the target groups: none, so no per-item call.
    ("aws.elasticloadbalancing", (3, 0)),
    ("aws.lambda", (3, 0)),
    // DescribeSubscriptionFilters of the two log groups the processors' router and the webhook
    // write to, and of no other.
    ("aws.logs", (2, 0)),
    ("aws.rds", (3, 0)),
    ("aws.sns", (4, 0)),
    ("aws.sts", (1, 0)),
    // The scanned region: one tag-filtered GetResources.
    ("aws.tag", (1, 0)),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliant_estate_has_no_failing_aws_rule() {
    let region = "eu-west-1";
    let sdk = sdk(region).await;
    let built = build(&sdk, region, false).await;
    put_alarms(&sdk, &built, false).await;
    // `--regions eu-west-1,us-east-1`: the home region in full, one other region scanned.
    let scan = [region.to_string(), "us-east-1".to_string()];
    let a = collect_and_audit_scanning(&sdk, region, with_loki(estate_config(region)), Some(&scan))
        .await;
    let r = &a.report;
    let mut per_operation = BTreeMap::new();
    for op in &a.collection.operations {
        *per_operation.entry(op.as_str()).or_insert(0) += 1;
    }
    eprintln!(
        "compliant estate: {} API calls, {} resources, {:?}, {:?}; {per_operation:?}",
        a.collection.operations.len(),
        a.collection.resources.len(),
        a.collection.elapsed,
        a.collection.services
    );
    // The calls per service (moto is deterministic; the estate is fixed): what `--stats`
    // prints. A change here is a change in what the collector costs: look at it, then update.
    let calls: BTreeMap<&str, (u64, u64)> = a
        .collection
        .services
        .iter()
        .map(|(k, v)| (k.as_str(), (v.calls, v.retries)))
        .collect();
    let expected: BTreeMap<&str, (u64, u64)> = BTreeMap::from(EXPECTED_CALLS);
    assert_eq!(calls, expected, "{:#?}", a.collection.operations);
    let total: u64 = a.collection.services.values().map(|c| c.calls).sum();
    assert_eq!(total as usize, a.collection.operations.len(), "no retries");
    assert!(total <= 80, "{total} calls: the budget is 80 (issue #18)");
    // Every answer from moto has a body.
    assert!(a.collection.services.values().all(|c| c.bytes > 0));
    // The same estate with every enabled region scanned (`--regions all`, the default): moto
    // lists 38 regions, 14 of them `not-opted-in`, which are not scanned. The budget holds for
    // the default too: DescribeRegions, the home region, one call per other region.
    let all = collect_and_audit(&sdk, region, with_loki(estate_config(region))).await;
    eprintln!(
        "compliant estate, all {} regions: {} API calls, {:?}",
        all.collection.regions.len(),
        all.collection.operations.len(),
        all.collection.elapsed
    );
    let tag_calls = all
        .collection
        .services
        .get("aws.tag")
        .map_or(0, |c| c.calls);
    assert_eq!(tag_calls, 23, "{:?}", all.collection.services);
    assert_eq!(all.collection.operations.len() as u64, total - 1 + 1 + 23);
    assert!(all.collection.operations.len() <= 80);
    assert!(!all.collection.regions.iter().any(|r| r == "me-south-1"));
    assert!(
        all.collection.errors.is_empty(),
        "{:#?}",
        all.collection.errors
    );
    // Again, with moto's region backends built: the collector's own time. Without
    // `[monitoring]` Loki is not in the plane, and no log group is asked for.
    let warm = collect_and_audit(&sdk, region, estate_config(region)).await;
    eprintln!(
        "compliant estate, all regions again: {} API calls, {:?}",
        warm.collection.operations.len(),
        warm.collection.elapsed
    );
    assert_eq!(
        warm.collection.operations.len() + 2,
        all.collection.operations.len()
    );
    assert!(!warm.collection.services.contains_key("aws.logs"));
    assert!(!warm
        .report
        .findings
        .iter()
        .any(|f| f.rule_id.ends_with("-logs-shipped")));
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    assert_eq!(a.collection.accounts, [ACCOUNT]);
    let fails: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("aws-") && f.status == Status::Fail)
        .collect();
    assert!(fails.is_empty(), "{}", status_table(r));
    let unknown: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("aws-") && f.status == Status::Unknown)
        .collect();
    assert!(unknown.is_empty(), "{}", status_table(r));
    // Every AWS rule of the catalog was evaluated over this estate.
    let policies = PolicySet::builtin().expect("rules");
    for rule in policies.infos().iter().filter(|i| i.id.starts_with("aws-")) {
        assert!(
            r.findings.iter().any(|f| f.rule_id == rule.id),
            "{} has no finding\n{}",
            rule.id,
            status_table(r)
        );
    }
    // Spot checks by resource.
    assert_status(
        r,
        "aws-vpc-custom",
        &built.arn(&format!("vpc/{}", built.vpc)),
        Status::Pass,
    );
    assert_status(
        r,
        "aws-ec2-rabbitmq-private",
        &built.arn(&format!("instance/{}", built.instance)),
        Status::Pass,
    );
    assert_status(
        r,
        "aws-rds-tls-required",
        &format!("arn:aws:rds:{region}:{ACCOUNT}:db:estate-db"),
        Status::Pass,
    );
    // The alarms were created in moto and read back through the collector: each routes to
    // PagerDuty through the SNS topic's confirmed HTTPS subscription.
    for alarm in [
        "estate-db-cpu-high",
        "webhook-errors",
        "webhook-duration-high",
        "worker-running-tasks-low",
        "worker-memory-high",
        "estate-redis-evictions",
        "estate-nat-port-allocation",
        "estate-nat-packets-dropped",
    ] {
        let arn = format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}");
        assert_status(r, "aws-alarms-route-pagerduty", &arn, Status::Pass);
        assert_status(r, "aws-alarm-actions-enabled", &arn, Status::Pass);
    }
    let service = format!("arn:aws:ecs:{region}:{ACCOUNT}:service/estate/worker");
    for rule in [
        "aws-alarms-cover-components",
        "aws-ecs-scale-queue-backpressure",
        "aws-ecs-scale-cpu",
    ] {
        assert_status(r, rule, &service, Status::Pass);
    }
    // Log shipping: the worker through FireLens to Loki, the router's and the webhook's groups
    // subscribed whole; the Loki output's password is nowhere in the inventory or the report.
    assert_status(r, "aws-ecs-logs-shipped", &service, Status::Pass);
    let webhook = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:webhook");
    assert_status(r, "aws-lambda-logs-shipped", &webhook, Status::Pass);
    let inventory = serde_json::to_string(&a.collection.resources).expect("json");
    let report = serde_json::to_string(r).expect("json");
    assert!(
        inventory.contains("\"firelens_output\":\"loki\""),
        "{inventory}"
    );
    for text in [&inventory, &report] {
        assert!(!text.contains(estate::LOKI_PASSWORD));
        assert!(!text.contains("loki.estate.internal"));
    }
    // Moto's missing cache-cluster fields, filled in by the harness: the rules judge them.
    let cache_cluster = format!("arn:aws:elasticache:{region}:{ACCOUNT}:cluster:estate-redis-001");
    for rule in [
        "aws-elasticache-at-rest-encrypted",
        "aws-elasticache-ingress-compute-only",
    ] {
        assert_status(r, rule, &cache_cluster, Status::Pass);
    }

    // Read-only: every operation the collector invoked is a Describe/List/Get.
    assert!(!a.collection.operations.is_empty());
    for op in &a.collection.operations {
        let (service, name) = op.split_once(':').unwrap_or(("", op));
        assert!(collector::is_read_only(name), "{op}");
        assert!(
            collector::is_allowed(service, name),
            "{op} is not on the allowlist"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_estate_fails_the_aws_rules_by_resource() {
    let region = "eu-west-2";
    let sdk = sdk(region).await;
    let b = build(&sdk, region, true).await;
    // The estate has spread: a VPC with its tag in another region.
    let elsewhere = sdk.to_builder().region(Region::new("us-west-2")).build();
    let stray = aws_sdk_ec2::Client::new(&elsewhere)
        .create_vpc()
        .cidr_block("10.99.0.0/16")
        .tag_specifications(tags(region, aws_sdk_ec2::types::ResourceType::Vpc, &[]))
        .send()
        .await
        .expect("stray vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    // And a topic: the region scan finds every taggable kind, not only networks and servers.
    let stray_topic = aws_sdk_sns::Client::new(&elsewhere)
        .create_topic()
        .name("estate-stray")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key(TAG_KEY)
                .value(tag_value(region))
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("stray topic")
        .topic_arn()
        .expect("topic arn")
        .to_string();
    put_alarms(&sdk, &b, true).await;
    let a = collect_and_audit(&sdk, region, with_loki(estate_config(region))).await;
    let r = &a.report;
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    let vpc = b.arn(&format!("vpc/{}", b.vpc));
    let instance = b.arn(&format!("instance/{}", b.instance));
    let db = format!("arn:aws:rds:{region}:{ACCOUNT}:db:estate-db");
    let cluster = format!("arn:aws:elasticache:{region}:{ACCOUNT}:cluster:estate-redis-001");
    let function = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:webhook");
    let service = format!("arn:aws:ecs:{region}:{ACCOUNT}:service/estate/worker");
    let compute_b = b.arn(&format!("subnet/{}", b.compute[1]));
    let compute_a = b.arn(&format!("subnet/{}", b.compute[0]));
    let public_a = b.arn(&format!("subnet/{}", b.public[0]));
    let expected: &[(&str, &str)] = &[
        ("aws-vpc-subnet-tiers", &vpc),
        ("aws-region-single", &vpc),
        ("aws-subnet-private-no-igw-route", &compute_b),
        ("aws-subnet-private-no-public-ip", &compute_b),
        ("aws-subnet-private-no-external-route", &compute_a),
        ("aws-subnet-private-egress-nat", &compute_a),
        ("aws-subnet-private-egress-nat", &compute_b),
        ("aws-nat-gateway-public-subnet", &vpc),
        ("aws-public-subnet-edge-only", &public_a),
        ("aws-ec2-rabbitmq-private", &instance),
        ("aws-ec2-rabbitmq-ingress-internal", &instance),
        ("aws-ec2-rabbitmq-tls", &instance),
        ("aws-ec2-imdsv2", &instance),
        ("aws-data-tier-unreachable", &instance),
        ("aws-rds-not-public", &db),
        ("aws-rds-encrypted", &db),
        ("aws-rds-engine-mysql", &db),
        ("aws-rds-tls-required", &db),
        ("aws-rds-database-subnets", &db),
        ("aws-rds-ingress-compute-only", &db),
        ("aws-elasticache-database-subnets", &cluster),
        ("aws-elasticache-at-rest-encrypted", &cluster),
        ("aws-elasticache-ingress-compute-only", &cluster),
        ("aws-elasticache-in-transit-encrypted", &cluster),
        ("aws-elasticache-auth", &cluster),
        ("aws-lambda-in-vpc", &function),
        ("aws-lambda-url-cloudflare-only", &function),
        ("aws-ecs-service-private", &service),
        ("aws-ecs-autoscaling", &service),
        ("aws-ecs-scale-queue-backpressure", &service),
        ("aws-ecs-scale-cpu", &service),
        ("aws-alarms-cover-components", &service),
        // No log configuration on the worker; the webhook's group does not exist.
        ("aws-ecs-logs-shipped", &service),
        ("aws-lambda-logs-shipped", &function),
        (
            "aws-alarm-actions-enabled",
            &format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:estate-db-cpu-high"),
        ),
        (
            "aws-alarms-route-pagerduty",
            &format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:webhook-errors"),
        ),
    ];
    let mut wrong = Vec::new();
    for (rule, resource) in expected {
        let got = status_of(r, rule, resource);
        if got != Some(Status::Fail) {
            wrong.push(format!("{rule} on {resource}: {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected failures missing:\n{}\n\n{}",
        wrong.join("\n"),
        status_table(r)
    );
    let estate = r
        .findings
        .iter()
        .find(|f| f.rule_id == "aws-region-single")
        .expect("region finding");
    for found in [&stray, &stray_topic] {
        assert!(
            format!("{:?}", estate.evidence).contains(found.as_str()),
            "{found} not in {:?}",
            estate.evidence
        );
    }
    // A URL without auth is still the webhook's HTTPS endpoint: that rule passes, the origin
    // rule fails (above) on the public policy AddPermission wrote.
    assert_status(r, "aws-lambda-webhook-url", &function, Status::Pass);
    let volume_fails = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "aws-ec2-ebs-encrypted" && f.status == Status::Fail)
        .count();
    assert!(volume_fails >= 1, "{}", status_table(r));
    // Between them, this estate, the webhook without a URL and the default VPC named as the
    // estate (the next two tests) fail every AWS rule of the catalog: a rule added without a
    // live failing case fails here.
    let infos = PolicySet::builtin().expect("rules").infos();
    let never_failed: Vec<&str> = infos
        .iter()
        .map(|i| i.id.as_str())
        .filter(|id| id.starts_with("aws-"))
        .filter(|id| !["aws-lambda-webhook-url", "aws-vpc-custom"].contains(id))
        .filter(|id| {
            !r.findings
                .iter()
                .any(|f| f.rule_id == *id && f.status == Status::Fail)
        })
        .collect();
    assert!(
        never_failed.is_empty(),
        "AWS rules without a live failing case: {never_failed:?}"
    );
}

/// The webhook without its HTTPS endpoint: GetFunctionUrlConfig answers "not found", which is
/// a value (no URL), so `aws-lambda-webhook-url` fails on the function instead of being unknown.
/// The log shipping rules against moto: the webhook's group subscribed to a Lambda shipper (a
/// lambda-promtail) passes; then a pattern on the webhook's subscription and the router's
/// subscription removed each fail their rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_shipping_follows_the_groups_subscriptions() {
    let region = "ap-northeast-2";
    let sdk = sdk(region).await;
    build(&sdk, region, false).await;
    let service = format!("arn:aws:ecs:{region}:{ACCOUNT}:service/estate/worker");
    let webhook = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:webhook");
    // The shipper: a function of its own (this test judges only the log rules).
    estate::create_function(&sdk, region, "lambda-promtail", None).await;
    let shipper = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:lambda-promtail");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let to_lambda = |pattern: &'static str| {
        logs.put_subscription_filter()
            .log_group_name(estate::WEBHOOK_LOG_GROUP)
            .filter_name("to-loki")
            .filter_pattern(pattern)
            .destination_arn(&shipper)
            .send()
    };
    to_lambda("")
        .await
        .expect("subscription to the Lambda shipper");
    let a = collect_and_audit(&sdk, region, with_loki(estate_config(region))).await;
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    assert_status(&a.report, "aws-lambda-logs-shipped", &webhook, Status::Pass);
    assert_status(&a.report, "aws-ecs-logs-shipped", &service, Status::Pass);
    let evidence = |rule: &str, id: &str| {
        a.report
            .findings
            .iter()
            .find(|f| f.rule_id == rule && f.resource_id == id)
            .map(|f| format!("{:?}", f.evidence))
            .unwrap_or_default()
    };
    assert!(evidence("aws-lambda-logs-shipped", &webhook).contains(&shipper));

    // Violations: only the error lines of the webhook, and the router's group unsubscribed.
    to_lambda("ERROR").await.expect("a pattern");
    logs.delete_subscription_filter()
        .log_group_name(estate::ROUTER_LOG_GROUP)
        .filter_name("to-loki")
        .send()
        .await
        .expect("unsubscribed");
    let a = collect_and_audit(&sdk, region, with_loki(estate_config(region))).await;
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    assert_status(&a.report, "aws-lambda-logs-shipped", &webhook, Status::Fail);
    assert_status(&a.report, "aws-ecs-logs-shipped", &service, Status::Fail);
    let message = |id: &str| {
        a.report
            .findings
            .iter()
            .find(|f| f.rule_id.ends_with("-logs-shipped") && f.resource_id == id)
            .map(|f| f.message.to_string())
            .unwrap_or_default()
    };
    assert!(message(&webhook).contains("keeps only the lines matching `ERROR`"));
    assert!(message(&service).contains("/ecs/worker-log-router, which has no subscription filter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_without_a_function_url_fails_the_endpoint_rule() {
    let region = "sa-east-1";
    let sdk = sdk(region).await;
    create_webhook(&sdk, region, None).await;
    let a = collect_and_audit(&sdk, region, estate_config(region)).await;
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    let function = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:webhook");
    assert_status(&a.report, "aws-lambda-webhook-url", &function, Status::Fail);
    // No policy either: nothing opens the function to anyone.
    let Some(estate_audit::model::Attrs::LambdaFunction(f)) = a
        .collection
        .resources
        .iter()
        .find(|r| r.id == function)
        .map(|r| &r.attrs)
    else {
        panic!("the function was collected")
    };
    assert_eq!(f.function_url.as_ref().map(|u| u.configured), Some(false));
    assert_eq!(f.policy_statements.as_deref(), Some(&[][..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_vpc_is_never_taken_for_the_estate_unless_named() {
    let region = "eu-west-3";
    let sdk = sdk(region).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let default = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("is-default")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("vpcs")
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .expect("moto has a default VPC in every region")
        .to_string();
    let default_arn = format!("arn:aws:ec2:{region}:{ACCOUNT}:vpc/{default}");
    // Nothing but the default VPC: no estate VPC is chosen, the estate VPC is missing.
    let a = collect_and_audit(&sdk, region, estate_config(region)).await;
    assert_ne!(
        status_of(&a.report, "aws-vpc-custom", &default_arn),
        Some(Status::Pass),
        "{}",
        status_table(&a.report)
    );
    assert!(a
        .report
        .findings
        .iter()
        .any(|f| f.rule_id == "aws-vpc-custom" && f.status == Status::Fail));
    // Named explicitly, the default VPC is the estate, and the rule says it is a default VPC.
    let mut named = estate_config(region);
    named.estate.vpc = Some(default.clone());
    let a = collect_and_audit(&sdk, region, named).await;
    assert_status(&a.report, "aws-vpc-custom", &default_arn, Status::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_for_one_service_makes_its_rules_unknown_and_the_audit_incomplete() {
    let region = "ap-southeast-2";
    let sdk = sdk(region).await;
    build(&sdk, region, false).await;
    let guard = ReadOnlyGuard::new();
    let mut clients = Clients::new(&sdk, &guard);
    let denied = mock!(aws_sdk_rds::Client::describe_db_instances).then_error(|| {
        aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("AccessDenied")
                .message("not authorized to perform rds:DescribeDBInstances")
                .build(),
        )
    });
    clients.rds = aws_sdk_rds::Client::from_conf(
        aws_sdk_rds::config::Builder::from(&sdk)
            .http_client(create_mock_http_client())
            .interceptor(guard.clone())
            .interceptor(MockResponseInterceptor::new().with_rule(&denied))
            .build(),
    );
    let estate = estate_config(region);
    let collection =
        collector::collect_with(&clients, &guard, Some(region.to_string()), &estate, None).await;
    assert_eq!(collection.errors.len(), 1, "{:#?}", collection.errors);
    let e = &collection.errors[0];
    assert_eq!(e.kind, estate_audit::model::ErrorKind::AccessDenied);
    assert!(e.message.contains("DescribeDBInstances"));
    let mut inv = Inventory::new(estate);
    inv.resources = collection.resources;
    inv.collection_errors = collection.errors;
    let policies = PolicySet::builtin().expect("rules");
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let report = estate_audit::audit::run(inv, None, &policies, &WaiverSet::empty(), now);
    for rule in [
        "aws-rds-not-public",
        "aws-rds-encrypted",
        "aws-rds-tls-required",
    ] {
        let statuses: Vec<Status> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule)
            .map(|f| f.status)
            .collect();
        assert!(
            !statuses.is_empty() && statuses.iter().all(|s| *s == Status::Unknown),
            "{rule}: {statuses:?}"
        );
    }
    assert_eq!(
        estate_audit::finding::outcome(
            &report,
            estate_audit::finding::GateSelection::All,
            estate_audit::finding::Severity::Low
        ),
        estate_audit::finding::Outcome::Incomplete,
        "exit code 2"
    );
    let _ = Duration::ZERO;
}

/// The product's own entry point: credentials from the environment, `--endpoint-url`, the region
/// of estate.toml; every service answers, CloudWatch included (through the harness's bridge).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_aws_with_environment_credentials_and_an_endpoint() {
    // Static test credentials; no instance metadata lookups, ever.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDMOTOTESTING");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let region = "ca-central-1";
    let opts = collector::AwsOptions {
        endpoint_url: Some(moto::url()),
        max_attempts: Some(1),
        ..Default::default()
    };
    let estate = EstateConfig {
        region: Some(region.to_string()),
        ..Default::default()
    };
    let out = collector::collect_aws(&opts, &estate).await;
    assert_eq!(out.accounts, [ACCOUNT]);
    assert_eq!(out.regions, [region]);
    assert!(out.errors.is_empty(), "{:#?}", out.errors);
    assert!(out
        .operations
        .contains(&"CloudWatch:DescribeAlarms".to_string()));
    // The region's default VPC was read, and recognised as a default VPC.
    assert!(out.resources.iter().any(|r| matches!(
        &r.attrs,
        estate_audit::model::Attrs::Vpc(v) if v.is_default == Some(true)
    )));
}

/// PagerDuty, end to end: the estate's alarms route through the SNS topic's HTTPS subscription,
/// whose URL carries an integration key; the PagerDuty collection (a loopback stand-in of the
/// REST API, recorded answers) lists the services, keeps the one that key belongs to (matched by
/// digest: the key is kept nowhere), reads its escalation policy and who is on call, and the four
/// `pagerduty-*` rules judge every routed alarm. Then the service is disabled: every routed alarm
/// fails `pagerduty-service-active`, and nothing else moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_is_followed_from_each_alarms_route_to_a_staffed_service() {
    use estate_audit::collect::{pagerduty, Secret};
    use estate_audit::model::{Monitoring, MonitoringProvider, PagerDutyApi};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let region = "af-south-1";
    let sdk = sdk(region).await;
    let built = build(&sdk, region, false).await;
    put_alarms(&sdk, &built, false).await;
    let fixture = |name: &str| -> serde_json::Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pagerduty")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    // The key of estate::PAGERDUTY_URL, on the service's CloudWatch integration.
    let key = estate::PAGERDUTY_URL
        .split('/')
        .find(|s| s.len() == 32)
        .expect("the URL carries a key");
    let services = |status: &str| {
        serde_json::json!({"services": [{
            "id": "PSV8R2Q", "type": "service", "name": "estate-production", "status": status,
            "escalation_policy": {"id": "PEP4X9D", "type": "escalation_policy_reference",
                                  "summary": "Estate Production - Primary"},
            "integrations": [{"id": "PI5CWAT", "type": "aws_cloudwatch_inbound_integration",
                              "name": "Amazon CloudWatch", "integration_key": key}]
        }], "limit": 100, "offset": 0, "more": false, "total": null})
    };
    let audit = |status: &'static str| {
        let (sdk, services, fixture) = (&sdk, &services, &fixture);
        async move {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path("/services"))
                .respond_with(ResponseTemplate::new(200).set_body_json(services(status)))
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path("/escalation_policies/PEP4X9D"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(fixture("escalation_policy.PEP4X9D.json")),
                )
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path("/oncalls"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(fixture("oncalls.by-escalation-policy.json")),
                )
                .mount(&server)
                .await;
            let mut estate = estate_config(region);
            estate.monitoring = Some(Monitoring {
                not_used: MonitoringProvider::ALL[1..].to_vec(),
                pagerduty: PagerDutyApi { api: server.uri() },
                ..Default::default()
            });
            let guard = ReadOnlyGuard::new();
            let clients = Clients::new(sdk, &guard);
            let (mut inv, _) =
                collect_inventory(&clients, &guard, sdk, region, estate, Some(&[])).await;
            let opts = pagerduty::Options {
                token: Some(Secret::new("u+pd-test-key-7Qm2xZ")),
                ..Default::default()
            };
            let listing = pagerduty::list(&opts, &server.uri()).await;
            let got =
                pagerduty::finish(listing, &pagerduty::route_digests(&inv.resources), &opts).await;
            assert!(got.errors.is_empty(), "{:?}", got.errors);
            assert_eq!(
                got.resources.len(),
                1,
                "the routed service, found by its key"
            );
            assert_eq!(got.usage.calls, 3, "services, the policy, who is on call");
            inv.resources.extend(got.resources);
            audit_inventory(inv)
        }
    };
    let routed = [
        "estate-db-cpu-high",
        "webhook-errors",
        "webhook-duration-high",
        "worker-running-tasks-low",
        "worker-memory-high",
        "estate-redis-evictions",
        "estate-nat-port-allocation",
        "estate-nat-packets-dropped",
    ];
    let rules = [
        "pagerduty-integration-resolves",
        "pagerduty-service-active",
        "pagerduty-escalation-targets",
        "pagerduty-on-call-now",
    ];
    let r = audit("active").await;
    for alarm in routed {
        let arn = format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}");
        for rule in rules {
            assert_status(&r, rule, &arn, Status::Pass);
        }
    }
    let r = audit("disabled").await;
    for alarm in routed {
        let arn = format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}");
        assert_status(&r, "pagerduty-service-active", &arn, Status::Fail);
        assert_status(&r, "pagerduty-on-call-now", &arn, Status::Pass);
    }
    let f = r
        .findings
        .iter()
        .find(|f| f.rule_id == "pagerduty-service-active" && f.status == Status::Fail)
        .unwrap();
    assert!(
        f.message
            .contains("estate-production (PSV8R2Q) is disabled"),
        "{}",
        f.message
    );
}
