//! Collecting and auditing an estate built in moto, and reading the verdicts back: the SDK
//! configuration of the live tests, the `estate.toml` of a test's estate, the estate's alarms,
//! one collection by the product's collector followed by the audit of the built-in rule pack,
//! and the status of one rule on one resource. Shared by the live AWS tests
//! (`tests/aws_live.rs`) and the evasion suite (`tests/evasions.rs`). It must not work around
//! the product: what it collects and judges is what `estate-audit audit` would.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use chrono::{TimeZone, Utc};
use estate_audit::collect::aws::{self as collector, Clients, ReadOnlyGuard};
use estate_audit::finding::{Report, Status};
use estate_audit::model::{EstateConfig, EstateSelector, Inventory, Scope};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;

use super::estate::{tag_value, Built, TAG_KEY};
use super::moto;

/// The SDK configuration of a live test in `region`: moto's endpoint, two attempts per call.
pub async fn sdk(region: &str) -> SdkConfig {
    moto::sdk_loader(region)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// The `estate.toml` of the estate built in `region`: its region and its own estate tag.
/// [`estate_config`] with a monitoring plane of which only Loki is in scope: the log groups
/// are read and the log shipping rules judge, nothing else of the plane is asked for.
pub fn with_loki(mut estate: EstateConfig) -> EstateConfig {
    use estate_audit::model::{Monitoring, MonitoringProvider};
    estate.monitoring = Some(Monitoring {
        not_used: MonitoringProvider::ALL
            .into_iter()
            .filter(|p| *p != MonitoringProvider::Loki)
            .collect(),
        ..Default::default()
    });
    estate
}

pub fn estate_config(region: &str) -> EstateConfig {
    EstateConfig {
        region: Some(region.to_string()),
        estate: EstateSelector {
            tag: Some(format!("{TAG_KEY}={}", tag_value(region))),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The shape of every alarm the estate puts: the Average of `metric` (with `dims`) over
/// `period` × `periods` seconds, every datapoint breaching, `op threshold`. Actions are the
/// caller's.
pub fn average_alarm(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    name: &str,
    (namespace, metric, dims): (&str, &str, &[(&str, &str)]),
    (period, periods): (i32, i32),
    (op, threshold): (aws_sdk_cloudwatch::types::ComparisonOperator, f64),
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let mut a = cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace(namespace)
        .metric_name(metric)
        .statistic(Statistic::Average)
        .period(period)
        .evaluation_periods(periods)
        .datapoints_to_alarm(periods)
        .threshold(threshold)
        .comparison_operator(op);
    for (k, v) in dims {
        a = a.dimensions(Dimension::builder().name(*k).value(*v).build());
    }
    a
}

/// The estate's alarms, created in moto through the SDK (and the harness's CBOR bridge): the
/// scaling alarms, and one routed to PagerDuty for each of the spec's alarm categories (the
/// database's performance, the processors' container and service health, the cache's
/// performance, the webhook's errors and performance, the NAT gateway's bandwidth and
/// connection limits). The broken estate has only two, with actions disabled and no route to
/// PagerDuty.
pub async fn put_alarms(sdk: &SdkConfig, b: &Built, broken: bool) {
    use aws_sdk_cloudwatch::types::*;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(sdk);
    let alarm = |name: &str,
                 ns: &str,
                 metric: &str,
                 dims: &[(&str, &str)],
                 period: i32,
                 periods: i32,
                 threshold: f64,
                 op: ComparisonOperator,
                 action: Option<&String>| {
        average_alarm(
            &cloudwatch,
            name,
            (ns, metric, dims),
            (period, periods),
            (op, threshold),
        )
        .actions_enabled(!broken)
        .set_alarm_actions(Some(action.into_iter().cloned().collect()))
    };
    let svc = [("ClusterName", "estate"), ("ServiceName", "worker")];
    let mut v = vec![
        alarm(
            "estate-db-cpu-high",
            "AWS/RDS",
            "CPUUtilization",
            &[("DBInstanceIdentifier", "estate-db")],
            300,
            3,
            85.0,
            ComparisonOperator::GreaterThanThreshold,
            (!broken).then_some(&b.topic),
        ),
        alarm(
            "webhook-errors",
            "AWS/Lambda",
            "Errors",
            &[("FunctionName", "webhook")],
            60,
            5,
            5.0,
            ComparisonOperator::GreaterThanThreshold,
            Some(&b.topic),
        ),
    ];
    let nat = b.nat.clone().unwrap_or_default();
    if !broken {
        v.extend([
            alarm(
                "worker-running-tasks-low",
                "ECS/ContainerInsights",
                "RunningTaskCount",
                &svc,
                60,
                3,
                1.0,
                ComparisonOperator::LessThanThreshold,
                Some(&b.topic),
            ),
            alarm(
                "worker-memory-high",
                "AWS/ECS",
                "MemoryUtilization",
                &svc,
                300,
                3,
                90.0,
                ComparisonOperator::GreaterThanOrEqualToThreshold,
                Some(&b.topic),
            ),
            alarm(
                "webhook-duration-high",
                "AWS/Lambda",
                "Duration",
                &[("FunctionName", "webhook")],
                60,
                5,
                3000.0,
                ComparisonOperator::GreaterThanThreshold,
                Some(&b.topic),
            ),
            alarm(
                "estate-nat-packets-dropped",
                "AWS/NATGateway",
                "PacketsDropCount",
                &[("NatGatewayId", &nat)],
                300,
                1,
                0.0,
                ComparisonOperator::GreaterThanThreshold,
                Some(&b.topic),
            ),
            alarm(
                "estate-redis-evictions",
                "AWS/ElastiCache",
                "Evictions",
                &[("CacheClusterId", "estate-redis-001")],
                300,
                1,
                100.0,
                ComparisonOperator::GreaterThanThreshold,
                Some(&b.topic),
            ),
            alarm(
                "estate-nat-port-allocation",
                "AWS/NATGateway",
                "ErrorPortAllocation",
                &[("NatGatewayId", &nat)],
                300,
                1,
                0.0,
                ComparisonOperator::GreaterThanThreshold,
                Some(&b.topic),
            ),
            alarm(
                "worker-queue-growing",
                "Custom/RabbitMQ",
                "MessagesReady",
                &[("Queue", "requests")],
                60,
                5,
                100.0,
                ComparisonOperator::GreaterThanThreshold,
                b.policies.get("queue-scale-out"),
            ),
            alarm(
                "worker-queue-empty",
                "Custom/RabbitMQ",
                "MessagesReady",
                &[("Queue", "requests")],
                60,
                5,
                0.0,
                ComparisonOperator::LessThanOrEqualToThreshold,
                b.policies.get("queue-scale-in"),
            ),
            alarm(
                "worker-cpu-80-15m",
                "AWS/ECS",
                "CPUUtilization",
                &svc,
                300,
                3,
                80.0,
                ComparisonOperator::GreaterThanOrEqualToThreshold,
                b.policies.get("cpu-scale-out"),
            ),
            alarm(
                "worker-cpu-90-5m",
                "AWS/ECS",
                "CPUUtilization",
                &svc,
                60,
                5,
                90.0,
                ComparisonOperator::GreaterThanOrEqualToThreshold,
                b.policies.get("cpu-scale-out"),
            ),
        ]);
    }
    for put in v {
        put.send().await.expect("put alarm");
    }
}

/// One collection and its audit.
pub struct Audited {
    pub report: Report,
    pub collection: collector::AwsCollection,
}

/// Collects the estate of `region` (every region moto knows scanned too) and audits it.
pub async fn collect_and_audit(sdk: &SdkConfig, region: &str, estate: EstateConfig) -> Audited {
    collect_and_audit_scanning(sdk, region, estate, None).await
}

/// [`collect_and_audit`] scanning only `scan` besides the home region (`--regions`), or every
/// region moto knows (`None`, `--regions all`).
pub async fn collect_and_audit_scanning(
    sdk: &SdkConfig,
    region: &str,
    estate: EstateConfig,
    scan: Option<&[String]>,
) -> Audited {
    let guard = ReadOnlyGuard::new();
    let clients = Clients::new(sdk, &guard);
    collect_and_audit_with(&clients, &guard, sdk, region, estate, scan).await
}

/// [`collect_and_audit_scanning`] through `clients` (some of them answering from mocks, for
/// what moto cannot hold), guarded by `guard`.
pub async fn collect_and_audit_with(
    clients: &Clients,
    guard: &ReadOnlyGuard,
    sdk: &SdkConfig,
    region: &str,
    estate: EstateConfig,
    scan: Option<&[String]>,
) -> Audited {
    let (inv, collection) = collect_inventory(clients, guard, sdk, region, estate, scan).await;
    Audited {
        report: audit_inventory(inv),
        collection,
    }
}

/// The inventory [`collect_and_audit_with`] audits, for a test that adds what another
/// collector read before the audit ([`audit_inventory`]).
pub async fn collect_inventory(
    clients: &Clients,
    guard: &ReadOnlyGuard,
    sdk: &SdkConfig,
    region: &str,
    estate: EstateConfig,
    scan: Option<&[String]>,
) -> (Inventory, collector::AwsCollection) {
    let collection = collector::collect_with_regions(
        clients,
        guard,
        Some(region.to_string()),
        &estate,
        Some(sdk),
        scan,
    )
    .await;
    let mut inv = Inventory::new(estate);
    inv.scope = Scope {
        accounts: collection.accounts.clone(),
        regions: collection.regions.clone(),
        cloudflare_zones: vec![],
        ..Default::default()
    };
    inv.resources = collection.resources.clone();
    // What the Cloudflare collector adds: the published edge ranges the origin rule compares with.
    inv.resources.push(cloudflare_ranges());
    inv.collection_errors = collection.errors.clone();
    (inv, collection)
}

/// Audits `inv` with the built-in rules, after its JSON round trip (`collect --output`, then
/// `audit --inventory`).
pub fn audit_inventory(inv: Inventory) -> Report {
    let json = serde_json::to_string(&inv).expect("inventory serialises");
    let inv = estate_audit::model::json::parse_inventory(&json, "<live>").expect("and parses back");
    let policies = PolicySet::builtin().expect("built-in rules");
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    estate_audit::audit::run(inv, None, &policies, &WaiverSet::empty(), now)
}

fn cloudflare_ranges() -> estate_audit::model::Resource {
    estate_audit::model::Resource::new(
        "cloudflare:ips",
        estate_audit::model::Attrs::CloudflareIpRanges(estate_audit::model::CloudflareIpRanges {
            ipv4_cidrs: vec!["173.245.48.0/20".into(), "104.16.0.0/13".into()],
            ipv6_cidrs: vec!["2400:cb00::/32".into()],
            etag: None,
        }),
    )
}

/// Every AWS finding of the report, one line each, for failure messages.
pub fn status_table(r: &Report) -> String {
    r.findings
        .iter()
        .filter(|f| f.rule_id.starts_with("aws-"))
        .map(|f| {
            format!(
                "{:<38} {:<9} {} {}\n",
                f.rule_id,
                format!("{:?}", f.status),
                f.resource_id,
                f.message
            )
        })
        .collect()
}

/// The status of `rule` on `resource`; `None` when the rule gave that resource no finding.
pub fn status_of(r: &Report, rule: &str, resource: &str) -> Option<Status> {
    r.findings
        .iter()
        .find(|f| f.rule_id == rule && f.resource_id == resource)
        .map(|f| f.status)
}

/// Fails the test, with every AWS finding listed, unless `rule` gives `want` on `resource`.
pub fn assert_status(r: &Report, rule: &str, resource: &str, want: Status) {
    let got = status_of(r, rule, resource);
    assert_eq!(got, Some(want), "{rule} on {resource}\n{}", status_table(r));
}
