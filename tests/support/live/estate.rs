//! The spec-shaped test estate, built in moto through the AWS SDK for Rust: shared by the live
//! AWS tests (`tests/aws_live.rs`) and the fault suite (`tests/faults.rs`). `broken` builds the
//! variant that violates the AWS rules. Moto's gaps are worked around here (see
//! `tests/aws_live.rs`), never in the product.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use super::moto;

pub const ACCOUNT: &str = "123456789012";
pub const TAG_KEY: &str = "estate";
/// The password in the FireLens Loki output's URL: it must never reach an inventory or report.
pub const LOKI_PASSWORD: &str = "l0ki-Pa55word-never-kept";
/// The log groups of the compliant estate: the FireLens router's and the webhook's.
pub const ROUTER_LOG_GROUP: &str = "/ecs/worker-log-router";
pub const WEBHOOK_LOG_GROUP: &str = "/aws/lambda/webhook";

/// Each test's estate carries its own tag value: the region scan must not see the other tests'.
pub fn tag_value(region: &str) -> String {
    format!("audit-{region}")
}

// ------------------------------------------------------------------------------------------
// Building estates through the SDK

pub fn tags(
    region: &str,
    kind: aws_sdk_ec2::types::ResourceType,
    pairs: &[(&str, &str)],
) -> aws_sdk_ec2::types::TagSpecification {
    let mut b = aws_sdk_ec2::types::TagSpecification::builder().resource_type(kind);
    let estate = tag_value(region);
    for (k, v) in pairs.iter().chain([&(TAG_KEY, estate.as_str())]) {
        b = b.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
    }
    b.build()
}

/// Sets parameter `name` of DB parameter group `group` to `value`, applied at once.
pub async fn set_db_parameter(rds: &aws_sdk_rds::Client, group: &str, name: &str, value: &str) {
    rds.modify_db_parameter_group()
        .db_parameter_group_name(group)
        .parameters(
            aws_sdk_rds::types::Parameter::builder()
                .parameter_name(name)
                .parameter_value(value)
                .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .expect("parameter");
}

/// The alias of the customer key the PagerDuty topic is encrypted with.
pub const ALERTS_KEY_ALIAS: &str = "alias/estate-alerts";

/// PagerDuty's Events API endpoint with the estate's (fake) integration key.
pub const PAGERDUTY_URL: &str =
    "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue";

/// A topic `name`, encrypted with `key` when one is given, with one subscription `protocol` →
/// `endpoint`; its ARN.
pub async fn alert_topic(
    sdk: &SdkConfig,
    name: &str,
    key: Option<&str>,
    protocol: &str,
    endpoint: &str,
) -> String {
    let sns = aws_sdk_sns::Client::new(sdk);
    let mut create = sns.create_topic().name(name);
    if let Some(key) = key {
        create = create.attributes("KmsMasterKeyId", key);
    }
    let arn = create
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("topic arn")
        .to_string();
    sns.subscribe()
        .topic_arn(&arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .send()
        .await
        .expect("subscription");
    arn
}
/// Its key policy: the account administers it, CloudWatch may encrypt alarm notifications.
pub const ALERTS_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
  {"Sid":"cloudwatch-alarms","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}"#;

/// Ids of what was built, for the assertions and for the changes the evasion suite makes.
#[derive(Default, Debug)]
pub struct Built {
    pub region: String,
    pub vpc: String,
    pub public: Vec<String>,
    pub compute: Vec<String>,
    pub database: Vec<String>,
    pub nat: Option<String>,
    pub igw: String,
    /// The public tiers' table (default route to the internet gateway) and the private tiers'
    /// (default route to the NAT gateway; a peering route in the broken estate).
    pub public_rt: String,
    pub private_rt: String,
    /// Security groups by role: `webhook`, `workers`, `rabbitmq`, `mysql`, `redis`.
    pub groups: BTreeMap<&'static str, String>,
    pub image: String,
    pub instance: String,
    pub topic: String,
    pub policies: BTreeMap<&'static str, String>,
}

impl Built {
    pub fn arn(&self, rest: &str) -> String {
        format!("arn:aws:ec2:{}:{ACCOUNT}:{rest}", self.region)
    }
}

/// The spec-shaped estate; `broken` builds the variant that violates the AWS rules.
pub async fn build(sdk: &SdkConfig, region: &str, broken: bool) -> Built {
    use aws_sdk_ec2::types::*;
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let mut b = Built {
        region: region.to_string(),
        ..Default::default()
    };
    b.vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .tag_specifications(tags(region, ResourceType::Vpc, &[("Name", "estate-vpc")]))
        .send()
        .await
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let az = |s: &str| format!("{region}{s}");
    // (tier, az, cidr): the broken estate has its database tier in one AZ only.
    let layout: Vec<(&str, String, &str)> = vec![
        ("public", az("a"), "10.20.0.0/24"),
        ("public", az("b"), "10.20.1.0/24"),
        ("compute", az("a"), "10.20.10.0/24"),
        ("compute", az("b"), "10.20.11.0/24"),
        ("database", az("a"), "10.20.20.0/24"),
        (
            "database",
            az(if broken { "a" } else { "b" }),
            "10.20.21.0/24",
        ),
    ];
    for (tier, zone, cidr) in &layout {
        let id = ec2
            .create_subnet()
            .vpc_id(&b.vpc)
            .cidr_block(*cidr)
            .availability_zone(zone)
            .tag_specifications(tags(
                region,
                ResourceType::Subnet,
                &[("Tier", tier), ("Name", &format!("estate-{tier}-{zone}"))],
            ))
            .send()
            .await
            .expect("subnet")
            .subnet()
            .and_then(|s| s.subnet_id())
            .expect("subnet id")
            .to_string();
        match *tier {
            "public" => b.public.push(id),
            "compute" => b.compute.push(id),
            _ => b.database.push(id),
        }
    }
    let mut public_ip_subnets = b.public.clone();
    if broken {
        public_ip_subnets.push(b.compute[1].clone());
    }
    for s in &public_ip_subnets {
        ec2.modify_subnet_attribute()
            .subnet_id(s)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .expect("map public ip");
    }
    let igw = ec2
        .create_internet_gateway()
        .tag_specifications(tags(region, ResourceType::InternetGateway, &[]))
        .send()
        .await
        .expect("igw")
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .expect("igw id")
        .to_string();
    b.igw = igw.clone();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&b.vpc)
        .send()
        .await
        .expect("attach igw");
    let route_table = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = b.vpc.clone();
        async move {
            ec2.create_route_table()
                .vpc_id(vpc)
                .tag_specifications(tags(region, ResourceType::RouteTable, &[("Name", name)]))
                .send()
                .await
                .expect("route table")
                .route_table()
                .and_then(|t| t.route_table_id())
                .expect("rtb id")
                .to_string()
        }
    };
    let public_rt = route_table("estate-public").await;
    b.public_rt = public_rt.clone();
    ec2.create_route()
        .route_table_id(&public_rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .expect("igw route");
    let mut public_rt_subnets = b.public.clone();
    if broken {
        // A "private" compute subnet routed to the internet gateway.
        public_rt_subnets.push(b.compute[1].clone());
    }
    for s in &public_rt_subnets {
        ec2.associate_route_table()
            .route_table_id(&public_rt)
            .subnet_id(s)
            .send()
            .await
            .expect("associate public");
    }
    let private_rt = route_table("estate-private").await;
    b.private_rt = private_rt.clone();
    if !broken {
        let eip = ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .send()
            .await
            .expect("eip");
        let nat = ec2
            .create_nat_gateway()
            .subnet_id(&b.public[0])
            .set_allocation_id(eip.allocation_id().map(str::to_string))
            .tag_specifications(tags(
                region,
                ResourceType::Natgateway,
                &[("Name", "estate-nat")],
            ))
            .send()
            .await
            .expect("nat")
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .expect("nat id")
            .to_string();
        ec2.create_route()
            .route_table_id(&private_rt)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(&nat)
            .send()
            .await
            .expect("nat route");
        b.nat = Some(nat);
    } else {
        // The private tiers reach another network through a peering connection: their
        // traffic leaves the VPC (aws-subnet-private-no-external-route).
        let peer = ec2
            .create_vpc()
            .cidr_block("172.16.0.0/16")
            .send()
            .await
            .expect("peer vpc")
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("peer vpc id")
            .to_string();
        let pcx = ec2
            .create_vpc_peering_connection()
            .vpc_id(&b.vpc)
            .peer_vpc_id(&peer)
            .send()
            .await
            .expect("peering")
            .vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id())
            .expect("peering id")
            .to_string();
        ec2.create_route()
            .route_table_id(&private_rt)
            .destination_cidr_block("172.16.0.0/16")
            .vpc_peering_connection_id(&pcx)
            .send()
            .await
            .expect("peering route");
    }
    let private_subnets: Vec<String> = if broken {
        vec![b.compute[0].clone()]
    } else {
        b.compute.clone()
    }
    .into_iter()
    .chain(b.database.clone())
    .collect();
    for s in &private_subnets {
        ec2.associate_route_table()
            .route_table_id(&private_rt)
            .subnet_id(s)
            .send()
            .await
            .expect("associate private");
    }

    // Security groups: webhook and workers reach the queue (TLS only), workers reach the data.
    let sg = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = b.vpc.clone();
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(name)
                .vpc_id(vpc)
                .tag_specifications(tags(region, ResourceType::SecurityGroup, &[("Name", name)]))
                .send()
                .await
                .expect("sg")
                .group_id()
                .expect("sg id")
                .to_string()
        }
    };
    let webhook_sg = sg("estate-webhook").await;
    let workers_sg = sg("estate-workers").await;
    let rabbit_sg = sg("estate-rabbitmq").await;
    let mysql_sg = sg("estate-mysql").await;
    let redis_sg = sg("estate-redis").await;
    for (role, id) in [
        ("webhook", &webhook_sg),
        ("workers", &workers_sg),
        ("rabbitmq", &rabbit_sg),
        ("mysql", &mysql_sg),
        ("redis", &redis_sg),
    ] {
        b.groups.insert(role, id.clone());
    }
    let from_groups = |port: i32, groups: &[&String]| {
        let mut p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port);
        for g in groups {
            p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(*g).build());
        }
        p.build()
    };
    let from_anywhere = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build()
    };
    let (rabbit_rules, db_rules, cache_rules) = if broken {
        (
            vec![from_anywhere(5672), from_anywhere(15672)],
            vec![from_anywhere(5432)],
            vec![from_anywhere(6379)],
        )
    } else {
        (
            vec![from_groups(5671, &[&webhook_sg, &workers_sg])],
            vec![from_groups(3306, &[&workers_sg])],
            vec![from_groups(6379, &[&workers_sg])],
        )
    };
    for (group, rules) in [
        (&rabbit_sg, rabbit_rules),
        (&mysql_sg, db_rules),
        (&redis_sg, cache_rules),
    ] {
        ec2.authorize_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(rules))
            .send()
            .await
            .expect("ingress");
    }

    // RabbitMQ on EC2.
    b.image = amazon_image(&ec2).await;
    let mut run = instance(
        &ec2,
        region,
        &b.image,
        if broken { &b.public[0] } else { &b.compute[0] },
        &[&rabbit_sg],
        &[("Name", "rabbitmq-1"), ("role", "rabbitmq")],
        !broken,
    );
    if broken {
        run = run.network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .subnet_id(&b.public[0])
                .groups(&rabbit_sg)
                .associate_public_ip_address(true)
                .build(),
        );
        run = run.set_subnet_id(None).set_security_group_ids(None);
    }
    b.instance = launched(run).await;

    // RDS.
    let rds = aws_sdk_rds::Client::new(sdk);
    let db_subnets: Vec<String> = if broken {
        vec![b.public[0].clone(), b.database[0].clone()]
    } else {
        b.database.clone()
    };
    rds.create_db_subnet_group()
        .db_subnet_group_name("estate-db")
        .db_subnet_group_description("estate database subnets")
        .set_subnet_ids(Some(db_subnets))
        .send()
        .await
        .expect("db subnet group");
    let mut db = rds
        .create_db_instance()
        .db_instance_identifier("estate-db")
        .db_instance_class("db.t3.medium")
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .allocated_storage(20)
        .db_subnet_group_name("estate-db")
        .vpc_security_group_ids(&mysql_sg)
        .publicly_accessible(broken)
        .storage_encrypted(!broken)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key(TAG_KEY)
                .value(tag_value(region))
                .build(),
        );
    if broken {
        db = db.engine("postgres");
    } else {
        rds.create_db_parameter_group()
            .db_parameter_group_name("estate-mysql80")
            .db_parameter_group_family("mysql8.0")
            .description("TLS required")
            .send()
            .await
            .expect("parameter group");
        set_db_parameter(&rds, "estate-mysql80", "require_secure_transport", "1").await;
        db = db.engine("mysql").db_parameter_group_name("estate-mysql80");
    }
    db.send().await.expect("db instance");

    // ElastiCache Redis.
    let cache = aws_sdk_elasticache::Client::new(sdk);
    let cache_subnets = if broken {
        vec![b.compute[0].clone(), b.database[0].clone()]
    } else {
        b.database.clone()
    };
    cache
        .create_cache_subnet_group()
        .cache_subnet_group_name("estate-cache")
        .cache_subnet_group_description("estate cache subnets")
        .set_subnet_ids(Some(cache_subnets))
        .send()
        .await
        .expect("cache subnet group");
    let mut rg = cache
        .create_replication_group()
        .replication_group_id("estate-redis")
        .replication_group_description("estate redis")
        .engine("redis")
        .cache_node_type("cache.t4g.medium")
        .cache_subnet_group_name("estate-cache")
        .security_group_ids(&redis_sg)
        .num_cache_clusters(1)
        .at_rest_encryption_enabled(!broken)
        .transit_encryption_enabled(!broken);
    if !broken {
        // AWS reports the mode of a group created with TLS (`required` unless asked otherwise);
        // moto reports only what it was given.
        rg = rg
            .transit_encryption_mode(aws_sdk_elasticache::types::TransitEncryptionMode::Required)
            .auth_token("a-long-enough-redis-auth-token");
    }
    rg.send().await.expect("replication group");
    // Moto gap: the member cluster is not listed unless created on its own.
    let mut cc = cache
        .create_cache_cluster()
        .cache_cluster_id("estate-redis-001")
        .replication_group_id("estate-redis")
        .engine("redis")
        .cache_node_type("cache.t4g.medium")
        .cache_subnet_group_name("estate-cache")
        .security_group_ids(&redis_sg)
        .transit_encryption_enabled(!broken);
    if !broken {
        cc = cc.auth_token("a-long-enough-redis-auth-token");
    }
    cc.send().await.expect("cache cluster");

    // The webhook Lambda with a function URL.
    create_webhook(
        sdk,
        region,
        (!broken).then(|| {
            aws_sdk_lambda::types::VpcConfig::builder()
                .set_subnet_ids(Some(b.compute.clone()))
                .security_group_ids(&webhook_sg)
                .build()
        }),
    )
    .await;
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let auth = if broken {
        aws_sdk_lambda::types::FunctionUrlAuthType::None
    } else {
        aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam
    };
    lambda
        .create_function_url_config()
        .function_name("webhook")
        .auth_type(auth.clone())
        .send()
        .await
        .expect("function url");
    if broken {
        lambda
            .add_permission()
            .function_name("webhook")
            .statement_id("FunctionURLAllowPublicAccess")
            .action("lambda:InvokeFunctionUrl")
            .principal("*")
            .function_url_auth_type(auth)
            .send()
            .await
            .expect("public permission");
    }

    // ECS processors with autoscaling.
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster()
        .cluster_name("estate")
        .send()
        .await
        .expect("cluster");
    let td = ecs
        .register_task_definition()
        .family("worker")
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .set_container_definitions(Some(worker_containers(region, broken)))
        .send()
        .await
        .expect("task definition")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("td arn")
        .to_string();
    ecs.create_service()
        .cluster("estate")
        .service_name("worker")
        .task_definition(td)
        .desired_count(2)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(
            aws_sdk_ecs::types::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                        .set_subnets(Some(if broken {
                            b.public.clone()
                        } else {
                            b.compute.clone()
                        }))
                        .security_groups(&workers_sg)
                        .assign_public_ip(if broken {
                            aws_sdk_ecs::types::AssignPublicIp::Enabled
                        } else {
                            aws_sdk_ecs::types::AssignPublicIp::Disabled
                        })
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .send()
        .await
        .expect("service");
    if !broken {
        use aws_sdk_applicationautoscaling::types::*;
        let aas = aws_sdk_applicationautoscaling::Client::new(sdk);
        aas.register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/estate/worker")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(2)
            .max_capacity(12)
            // AWS answers every target with its suspended state (all false unless an operator
            // suspended scaling); moto answers only what it was given, so the estate gives it.
            .suspended_state(
                SuspendedState::builder()
                    .dynamic_scaling_in_suspended(false)
                    .dynamic_scaling_out_suspended(false)
                    .scheduled_scaling_suspended(false)
                    .build(),
            )
            .send()
            .await
            .expect("scalable target");
        for (name, adjustment) in [
            ("queue-scale-out", 2),
            ("queue-scale-in", -1),
            ("cpu-scale-out", 1),
        ] {
            let step = if adjustment > 0 {
                StepAdjustment::builder().metric_interval_lower_bound(0.0)
            } else {
                StepAdjustment::builder().metric_interval_upper_bound(0.0)
            };
            let arn = aas
                .put_scaling_policy()
                .policy_name(name)
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id("service/estate/worker")
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .policy_type(PolicyType::StepScaling)
                .step_scaling_policy_configuration(
                    StepScalingPolicyConfiguration::builder()
                        .adjustment_type(AdjustmentType::ChangeInCapacity)
                        .step_adjustments(
                            step.scaling_adjustment(adjustment).build().expect("step"),
                        )
                        .build(),
                )
                .send()
                .await
                .expect("scaling policy")
                .policy_arn()
                .to_string();
            b.policies.insert(name, arn);
        }
    }

    if !broken {
        ship_logs(sdk, region).await;
    }

    // PagerDuty through SNS, the topic encrypted with a customer key whose policy lets
    // CloudWatch publish (the AWS managed alias/aws/sns would not).
    let kms = aws_sdk_kms::Client::new(sdk);
    let key = kms
        .create_key()
        .description("estate alarm notifications")
        .policy(ALERTS_KEY_POLICY)
        .send()
        .await
        .expect("key")
        .key_metadata()
        .expect("key metadata")
        .key_id()
        .to_string();
    kms.create_alias()
        .alias_name(ALERTS_KEY_ALIAS)
        .target_key_id(&key)
        .send()
        .await
        .expect("alias");
    let (protocol, endpoint) = if broken {
        ("email", "ops@example.com")
    } else {
        ("https", PAGERDUTY_URL)
    };
    b.topic = alert_topic(
        sdk,
        "estate-pagerduty",
        Some(ALERTS_KEY_ALIAS),
        protocol,
        endpoint,
    )
    .await;
    b
}

/// The processors' containers: the worker sends through FireLens to Fluent Bit's Loki output
/// (whose URL carries a password), the router logs through awslogs. The broken estate's worker
/// has no log configuration and no router.
fn worker_containers(region: &str, broken: bool) -> Vec<aws_sdk_ecs::types::ContainerDefinition> {
    use aws_sdk_ecs::types::*;
    let worker = ContainerDefinition::builder()
        .name("worker")
        .image("worker:1")
        .essential(true);
    if broken {
        return vec![worker.build()];
    }
    let loki = LogConfiguration::builder()
        .log_driver(LogDriver::Awsfirelens)
        .options("Name", "loki")
        .options(
            "Url",
            format!("https://estate:{LOKI_PASSWORD}@loki.estate.internal/loki/api/v1/push"),
        )
        .options("Labels", "{job=\"worker\"}")
        .build()
        .expect("loki output");
    let router_logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", ROUTER_LOG_GROUP)
        .options("awslogs-region", region)
        .options("awslogs-stream-prefix", "router")
        .build()
        .expect("awslogs");
    vec![
        worker.log_configuration(loki).build(),
        ContainerDefinition::builder()
            .name("log-router")
            .image("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable")
            .essential(true)
            .firelens_configuration(
                FirelensConfiguration::builder()
                    .r#type(FirelensConfigurationType::Fluentbit)
                    .build()
                    .expect("firelens"),
            )
            .log_configuration(router_logs)
            .build(),
    ]
}

/// The log shipping of the compliant estate: the router's and the webhook's groups, each
/// subscribed whole (no pattern) to a Kinesis stream a shipper reads (moto needs the stream;
/// it is made with one raw call, as `aws-sdk-kinesis` is not a dependency).
pub async fn ship_logs(sdk: &SdkConfig, region: &str) {
    let created = moto::json_call(
        &moto::url(),
        region,
        "kinesis",
        "Kinesis_20131202.CreateStream",
        r#"{"StreamName":"estate-log-shipping","ShardCount":1}"#,
    );
    assert!(
        created.starts_with("HTTP/1.0 200") || created.starts_with("HTTP/1.1 200"),
        "{created}"
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    for group in [ROUTER_LOG_GROUP, WEBHOOK_LOG_GROUP] {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("log group");
        subscribe(sdk, region, group, "").await;
    }
}

/// Subscribes `group` to the estate's Kinesis stream with `pattern` (empty: every line).
pub async fn subscribe(sdk: &SdkConfig, region: &str, group: &str, pattern: &str) {
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .put_subscription_filter()
        .log_group_name(group)
        .filter_name("to-loki")
        .filter_pattern(pattern)
        .destination_arn(format!(
            "arn:aws:kinesis:{region}:{ACCOUNT}:stream/estate-log-shipping"
        ))
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cwl-to-kinesis"))
        .send()
        .await
        .expect("subscription filter");
}

/// The webhook function (an empty archive: moto stores the code, nothing runs it), tagged as
/// the estate's, with its IAM role.
pub async fn create_webhook(
    sdk: &SdkConfig,
    region: &str,
    vpc: Option<aws_sdk_lambda::types::VpcConfig>,
) {
    create_function(sdk, region, "webhook", vpc).await
}

/// A function of the estate named `name`, built as the webhook is.
pub async fn create_function(
    sdk: &SdkConfig,
    region: &str,
    name: &str,
    vpc: Option<aws_sdk_lambda::types::VpcConfig>,
) {
    let role = "arn:aws:iam::123456789012:role/webhook";
    let created = moto::query_call(
        &moto::url(),
        "iam.amazonaws.com",
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "webhook"),
            (
                "AssumeRolePolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ),
        ],
    );
    assert!(
        created.contains("CreateRoleResponse") || created.contains("EntityAlreadyExists"),
        "{created}"
    );
    let empty_zip = {
        let mut z = b"PK\x05\x06".to_vec();
        z.extend([0u8; 18]);
        z
    };
    aws_sdk_lambda::Client::new(sdk)
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(empty_zip))
                .build(),
        )
        .tags(TAG_KEY, tag_value(region))
        .set_vpc_config(vpc)
        .send()
        .await
        .expect("function");
}

/// One instance as the estate launches them: in `subnet` with `groups`, tagged as the estate's
/// with `pairs`; `secure` requires IMDSv2 and encrypts the root volume (the broken estate's
/// host has neither). Callers adjust the request before [`launched`] sends it.
pub fn instance(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    image: &str,
    subnet: &str,
    groups: &[&str],
    pairs: &[(&str, &str)],
    secure: bool,
) -> aws_sdk_ec2::operation::run_instances::builders::RunInstancesFluentBuilder {
    use aws_sdk_ec2::types::*;
    ec2.run_instances()
        .image_id(image)
        .instance_type(InstanceType::M6iLarge)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .set_security_group_ids(Some(groups.iter().map(|g| g.to_string()).collect()))
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(if secure {
                    HttpTokensState::Required
                } else {
                    HttpTokensState::Optional
                })
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(
                    EbsBlockDevice::builder()
                        .volume_size(20)
                        .encrypted(secure)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(tags(region, ResourceType::Instance, pairs))
}

/// Sends a [`instance`] request; the new instance's id.
pub async fn launched(
    run: aws_sdk_ec2::operation::run_instances::builders::RunInstancesFluentBuilder,
) -> String {
    run.send()
        .await
        .expect("instance")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_string()
}

/// An image moto offers (any will do: nothing runs).
pub async fn amazon_image(ec2: &aws_sdk_ec2::Client) -> String {
    ec2.describe_images()
        .owners("amazon")
        .send()
        .await
        .expect("images")
        .images()
        .first()
        .and_then(|i| i.image_id())
        .expect("an image")
        .to_string()
}
