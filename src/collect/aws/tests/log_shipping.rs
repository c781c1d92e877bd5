//! Where logs go: each ECS container's log configuration kept without a secret option value,
//! the webhook's layers and log group (Lambda's default when its logging configuration names
//! none), the log groups read for the processors and the webhook only, and their subscription
//! filters read whole (every page; a group that does not exist is a value; a refusal names the
//! permission).

use super::*;
use aws_sdk_cloudwatchlogs::operation::describe_subscription_filters::DescribeSubscriptionFiltersOutput;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter as SdkFilter;
use aws_sdk_ecs::types as ecs_t;

/// A Loki URL carrying a password, as a FireLens output's options may: never kept.
const SECRET_URL: &str = "https://estate:s3cr3t-Pa55word@logs-prod.grafana.net/loki/api/v1/push";

fn task_definition() -> ecs_t::TaskDefinition {
    ecs_t::TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:eu-west-1:111122223333:task-definition/worker:3")
        .container_definitions(
            ecs_t::ContainerDefinition::builder()
                .name("worker")
                .log_configuration(
                    ecs_t::LogConfiguration::builder()
                        .log_driver(ecs_t::LogDriver::Awsfirelens)
                        .options("Name", "loki")
                        .options("Url", SECRET_URL)
                        .options("Labels", "{job=\"worker\"}")
                        .secret_options(
                            ecs_t::Secret::builder()
                                .name("http_passwd")
                                .value_from("arn:aws:secretsmanager:eu-west-1:111122223333:secret:loki-password")
                                .build()
                                .expect("secret"),
                        )
                        .build()
                        .expect("log configuration"),
                )
                .build(),
        )
        .container_definitions(
            ecs_t::ContainerDefinition::builder()
                .name("log-router")
                .firelens_configuration(
                    ecs_t::FirelensConfiguration::builder()
                        .r#type(ecs_t::FirelensConfigurationType::Fluentbit)
                        .options("enable-ecs-log-metadata", "true")
                        .build()
                        .expect("firelens"),
                )
                .log_configuration(
                    ecs_t::LogConfiguration::builder()
                        .log_driver(ecs_t::LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/worker-log-router")
                        .options("awslogs-region", "eu-west-1")
                        .options("awslogs-stream-prefix", "router")
                        .build()
                        .expect("log configuration"),
                )
                .build(),
        )
        .container_definitions(ecs_t::ContainerDefinition::builder().name("sidecar").build())
        .build()
}

#[test]
fn containers_keep_where_logs_go_and_no_option_value_that_could_be_a_secret() {
    let r = ecs::normalize_task_definition(&ctx(), &task_definition()).expect("td");
    let json = serde_json::to_string(&r).expect("json");
    for secret in [
        "s3cr3t-Pa55word",
        "logs-prod.grafana.net",
        "secretsmanager",
        "job=",
    ] {
        assert!(!json.contains(secret), "{secret} kept: {json}");
    }
    let Attrs::EcsTaskDefinition(d) = r.attrs else {
        panic!("kind")
    };
    let c = d.containers.expect("containers read");
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].log_driver.as_deref(), Some("awsfirelens"));
    assert_eq!(c[0].firelens_output.as_deref(), Some("loki"));
    assert_eq!(
        c[0].log_option_names,
        ["Labels", "Name", "Url", "http_passwd"]
    );
    assert_eq!(c[0].awslogs_group, None);
    assert_eq!(c[1].log_driver.as_deref(), Some("awslogs"));
    assert_eq!(
        c[1].awslogs_group.as_deref(),
        Some("/ecs/worker-log-router")
    );
    assert_eq!(c[1].awslogs_region.as_deref(), Some("eu-west-1"));
    assert_eq!(c[1].firelens_output, None);
    let router = c[1].firelens.as_ref().expect("the router");
    assert_eq!(router.r#type.as_deref(), Some("fluentbit"));
    assert_eq!(router.config_file_type, None);
    // No log configuration is a value: read, and absent.
    assert_eq!(c[2].name.as_deref(), Some("sidecar"));
    assert_eq!(c[2].log_driver, None);
    assert!(c[2].log_option_names.is_empty());
}

#[test]
fn the_webhook_keeps_its_layers_and_log_group_lambdas_default_when_none_is_named() {
    use aws_sdk_lambda::types::{FunctionConfiguration, Layer, LoggingConfig};
    let plain = FunctionConfiguration::builder()
        .function_name("webhook")
        .layers(
            Layer::builder()
                .arn("arn:aws:lambda:eu-west-1:111122223333:layer:loki-extension:4")
                .build(),
        )
        .build();
    let Attrs::LambdaFunction(f) = lambda::normalize_function(&ctx(), &plain).expect("f").attrs
    else {
        panic!("kind")
    };
    assert_eq!(f.log_group.as_deref(), Some("/aws/lambda/webhook"));
    assert_eq!(
        f.layers.as_deref(),
        Some(&["arn:aws:lambda:eu-west-1:111122223333:layer:loki-extension:4".to_string()][..])
    );
    let custom = FunctionConfiguration::builder()
        .function_name("webhook")
        .logging_config(
            LoggingConfig::builder()
                .log_group("/estate/webhook")
                .build(),
        )
        .build();
    let Attrs::LambdaFunction(f) = lambda::normalize_function(&ctx(), &custom)
        .expect("f")
        .attrs
    else {
        panic!("kind")
    };
    assert_eq!(f.log_group.as_deref(), Some("/estate/webhook"));
    assert_eq!(f.layers.as_deref(), Some(&[][..]));
}

#[test]
fn only_the_processors_and_the_webhooks_groups_of_this_region_are_read_with_loki_in_the_plane() {
    let mut c = ctx();
    c.estate.components.ecs_cluster = "estate".into();
    c.estate.components.ecs_service = "worker".into();
    c.estate.components.webhook_function = "webhook".into();
    let td = ecs::normalize_task_definition(&c, &task_definition()).expect("td");
    let mut other_td = td.clone();
    other_td.id = "arn:aws:ecs:eu-west-1:111122223333:task-definition/batch:1".into();
    let service = |name: &str, td: &str| {
        let s = aws_sdk_ecs::types::Service::builder()
            .service_arn(format!(
                "arn:aws:ecs:eu-west-1:111122223333:service/estate/{name}"
            ))
            .service_name(name)
            .cluster_arn("arn:aws:ecs:eu-west-1:111122223333:cluster/estate")
            .task_definition(td)
            .build();
        ecs::normalize_service(&c, &s).expect("service")
    };
    let function = |name: &str| {
        let f = aws_sdk_lambda::types::FunctionConfiguration::builder()
            .function_name(name)
            .build();
        lambda::normalize_function(&c, &f).expect("function")
    };
    let mut elsewhere = td.clone();
    if let Attrs::EcsTaskDefinition(d) = &mut elsewhere.attrs {
        d.containers.as_mut().expect("containers")[1].awslogs_region = Some("us-east-1".into());
    }
    let resources = [
        service("worker", &td.id),
        service("batch", &other_td.id),
        td.clone(),
        other_td,
        function("webhook"),
        function("cron"),
    ];
    // Without `[monitoring]` Loki is not in the plane: nothing is read.
    assert!(logs::groups_to_read(&c, resources.iter()).is_empty());
    let mut loki = c.clone();
    loki.estate.monitoring = Some(crate::model::Monitoring::default());
    let groups = logs::groups_to_read(&loki, resources.iter());
    assert_eq!(
        groups.into_iter().collect::<Vec<_>>(),
        ["/aws/lambda/webhook", "/ecs/worker-log-router"]
    );
    // A group in another region is not read from this one.
    let resources = [service("worker", &td.id), elsewhere];
    assert!(logs::groups_to_read(&loki, resources.iter()).is_empty());
    // Nor any when the estate declares it does not use Loki.
    let resources = [service("worker", &td.id), td.clone(), function("webhook")];
    loki.estate.monitoring = Some(crate::model::Monitoring {
        not_used: vec![crate::model::MonitoringProvider::Loki],
        ..Default::default()
    });
    assert!(logs::groups_to_read(&loki, resources.iter()).is_empty());
}

fn filter(name: &str, pattern: &str) -> SdkFilter {
    SdkFilter::builder()
        .filter_name(name)
        .filter_pattern(pattern)
        .destination_arn("arn:aws:lambda:eu-west-1:111122223333:function:lambda-promtail")
        .build()
}

#[tokio::test]
async fn subscription_filters_are_read_on_every_page_and_a_missing_group_is_a_value() {
    let guard = ReadOnlyGuard::new();
    let first = mock!(aws_sdk_cloudwatchlogs::Client::describe_subscription_filters)
        .match_requests(|r| r.log_group_name() == Some("/ecs/worker") && r.next_token().is_none())
        .then_output(|| {
            DescribeSubscriptionFiltersOutput::builder()
                .subscription_filters(filter("errors", "ERROR"))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_cloudwatchlogs::Client::describe_subscription_filters)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeSubscriptionFiltersOutput::builder()
                .subscription_filters(filter("to-loki", ""))
                .build()
        });
    let missing = mock!(aws_sdk_cloudwatchlogs::Client::describe_subscription_filters)
        .match_requests(|r| r.log_group_name() == Some("/aws/lambda/webhook"))
        .then_http_response(|| {
            http(
                400,
                r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#,
            )
        });
    let client = mocked!(aws_sdk_cloudwatchlogs, guard, [&first, &second, &missing]);
    let groups = ["/ecs/worker".to_string(), "/aws/lambda/webhook".to_string()];
    let part = logs::collect(&client, &ctx(), groups.into_iter().collect()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let by_name = |n: &str| {
        part.resources
            .iter()
            .find(|r| r.name.as_deref() == Some(n))
            .map(|r| match &r.attrs {
                Attrs::LogGroup(g) => (r.id.clone(), g.clone()),
                _ => panic!("kind"),
            })
            .expect(n)
    };
    let (id, worker) = by_name("/ecs/worker");
    assert_eq!(
        id,
        "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/worker"
    );
    assert_eq!(worker.exists, Some(true));
    let filters = worker.subscription_filters.expect("filters");
    let patterns: Vec<_> = filters
        .iter()
        .map(|f| f.filter_pattern.as_deref())
        .collect();
    assert_eq!(patterns, [Some("ERROR"), Some("")]);
    let (_, webhook) = by_name("/aws/lambda/webhook");
    assert_eq!(webhook.exists, Some(false));
    assert_eq!(webhook.subscription_filters, Some(vec![]));
    assert!(guard
        .calls()
        .iter()
        .all(|c| c == "CloudWatch Logs:DescribeSubscriptionFilters"));
}

#[tokio::test]
async fn a_refused_read_names_the_permission_and_leaves_the_groups_unread() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_cloudwatchlogs::Client::describe_subscription_filters)
        .then_http_response(|| {
            http(
                400,
                r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: logs:DescribeSubscriptionFilters"}"#,
            )
        });
    let client = mocked!(aws_sdk_cloudwatchlogs, guard, [&rule]);
    let groups = ["/ecs/worker".to_string(), "/aws/lambda/webhook".to_string()];
    let part = logs::collect(&client, &ctx(), groups.into_iter().collect()).await;
    assert!(part.resources.is_empty(), "{:?}", part.resources);
    assert_eq!(
        part.errors.len(),
        1,
        "alike failures once: {:?}",
        part.errors
    );
    let e = &part.errors[0];
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert_eq!(e.service, "logs");
    assert_eq!(e.kinds, ["aws.logs.log_group"]);
    assert!(
        e.message.starts_with("logs DescribeSubscriptionFilters: "),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("the credentials need the IAM permission logs:DescribeSubscriptionFilters"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("(2 calls failed alike)"),
        "{}",
        e.message
    );
}
