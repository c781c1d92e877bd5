//! Test builders: small hand-built inventories. `estate()` is a spec-shaped, compliant estate
//! (VPC 10.0.0.0/16 with public, compute×2 and database×2 subnets, NAT, RabbitMQ, RDS, Redis,
//! webhook Lambda, ECS processor with scaling, alarms to PagerDuty in each of the spec's alarm
//! categories, a Cloudflare zone); tests break one thing at a time and look at the derived facts.

use std::collections::BTreeMap;

use crate::model::EstateConfig;
use crate::model::*;

pub const REGION: &str = "eu-west-1";
pub const ACCT: &str = "111122223333";

pub fn arn(service: &str, rest: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCT}:{rest}")
}

pub fn res(id: impl Into<String>, attrs: Attrs) -> Resource {
    let mut r = Resource::new(id, attrs);
    r.region = Some(REGION.into());
    r.account = Some(ACCT.into());
    r
}

pub fn tagged(mut r: Resource, k: &str, v: &str) -> Resource {
    r.tags.insert(k.into(), v.into());
    r
}

pub fn config() -> EstateConfig {
    let mut c = EstateConfig {
        region: Some(REGION.into()),
        ..Default::default()
    };
    c.estate.tag = Some("estate=demo".into());
    c.cloudflare.zone = Some("example.com".into());
    c.cloudflare.webhook_host = Some("webhook.example.com".into());
    c
}

pub fn vpc(id: &str, cidr: &str, default: bool) -> Resource {
    let r = res(
        arn("ec2", &format!("vpc/{id}")),
        Attrs::Vpc(Vpc {
            vpc_id: Some(id.into()),
            cidr_block: Some(cidr.into()),
            is_default: Some(default),
            state: Some("available".into()),
            ..Default::default()
        }),
    );
    if default {
        r
    } else {
        tagged(r, "estate", "demo")
    }
}

pub fn subnet(id: &str, vpc: &str, cidr: &str, tier: &str, az: &str) -> Resource {
    tagged(
        res(
            arn("ec2", &format!("subnet/{id}")),
            Attrs::Subnet(Subnet {
                subnet_id: Some(id.into()),
                vpc_id: Some(vpc.into()),
                availability_zone: Some(az.into()),
                cidr_block: Some(cidr.into()),
                map_public_ip_on_launch: Some(tier == "public"),
                assign_ipv6_address_on_creation: Some(false),
                ..Default::default()
            }),
        ),
        "Tier",
        tier,
    )
}

pub fn route(dest: &str, ty: &str, target: &str) -> Route {
    Route {
        destination_cidr_block: (!dest.contains(':')).then(|| dest.to_string()),
        destination_ipv6_cidr_block: dest.contains(':').then(|| dest.to_string()),
        target_type: Some(ty.into()),
        target_id: Some(target.into()),
        state: Some("active".into()),
        ..Default::default()
    }
}

pub fn route_table(
    id: &str,
    vpc: &str,
    main: bool,
    subnets: &[&str],
    routes: Vec<Route>,
) -> Resource {
    let mut all = vec![route("10.0.0.0/16", "local", "local")];
    all.extend(routes);
    res(
        arn("ec2", &format!("route-table/{id}")),
        Attrs::RouteTable(RouteTable {
            route_table_id: Some(id.into()),
            vpc_id: Some(vpc.into()),
            main: Some(main),
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            routes: all,
        }),
    )
}

pub fn nat(id: &str, subnet: &str, state: &str) -> Resource {
    res(
        arn("ec2", &format!("natgateway/{id}")),
        Attrs::NatGateway(NatGateway {
            nat_gateway_id: Some(id.into()),
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some(subnet.into()),
            state: Some(state.into()),
            connectivity_type: Some("public".into()),
            ..Default::default()
        }),
    )
}

pub fn tcp(port: i64, cidrs: &[&str], sgs: &[&str]) -> Permission {
    Permission {
        ip_protocol: Some("tcp".into()),
        from_port: Some(port),
        to_port: Some(port),
        ipv4_ranges: cidrs
            .iter()
            .filter(|c| !c.contains(':'))
            .map(|c| c.to_string())
            .collect(),
        ipv6_ranges: cidrs
            .iter()
            .filter(|c| c.contains(':'))
            .map(|c| c.to_string())
            .collect(),
        source_security_group_ids: sgs.iter().map(|s| s.to_string()).collect(),
        prefix_list_ids: Vec::new(),
    }
}

pub fn sg(id: &str, ingress: Vec<Permission>) -> Resource {
    res(
        arn("ec2", &format!("security-group/{id}")),
        Attrs::SecurityGroup(SecurityGroup {
            group_id: Some(id.into()),
            group_name: Some(id.into()),
            vpc_id: Some("vpc-1".into()),
            ingress: Some(ingress),
            egress: Some(Vec::new()),
        }),
    )
}

pub fn acl_entry(n: i64, allow: bool, cidr: &str, ports: Option<(i64, i64)>) -> NaclEntry {
    NaclEntry {
        rule_number: n,
        egress: false,
        protocol: if ports.is_some() { "6" } else { "-1" }.into(),
        rule_action: if allow { "allow" } else { "deny" }.into(),
        cidr_block: (!cidr.contains(':')).then(|| cidr.to_string()),
        ipv6_cidr_block: cidr.contains(':').then(|| cidr.to_string()),
        from_port: ports.map(|p| p.0),
        to_port: ports.map(|p| p.1),
    }
}

pub fn nacl(id: &str, default: bool, subnets: &[&str], entries: Vec<NaclEntry>) -> Resource {
    res(
        arn("ec2", &format!("network-acl/{id}")),
        Attrs::NetworkAcl(NetworkAcl {
            network_acl_id: Some(id.into()),
            vpc_id: Some("vpc-1".into()),
            is_default: Some(default),
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            entries: Some(entries),
        }),
    )
}

pub fn alarm(name: &str, dims: &[(&str, &str)], actions: &[&str]) -> Resource {
    res(
        arn("cloudwatch", &format!("alarm:{name}")),
        Attrs::Alarm(Alarm {
            alarm_name: Some(name.into()),
            namespace: Some("AWS/RDS".into()),
            metric_name: Some("CPUUtilization".into()),
            dimensions: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            statistic: Some("Average".into()),
            period: Some(60),
            evaluation_periods: Some(5),
            threshold: Some(80.0),
            comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
            actions_enabled: Some(true),
            alarm_actions: Some(actions.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }),
    )
}

pub fn rule(id: &str, action: &str, expr: &str) -> RulesetRule {
    RulesetRule {
        id: Some(id.into()),
        action: Some(action.into()),
        expression: Some(expr.into()),
        enabled: Some(true),
        ..Default::default()
    }
}

pub const CF_V4: &[&str] = &["173.245.48.0/20", "103.21.244.0/22", "104.16.0.0/13"];
pub const CF_V6: &[&str] = &["2400:cb00::/32", "2606:4700::/32"];

pub fn topic_arn() -> String {
    arn("sns", "alerts")
}

pub fn policy_arn(name: &str) -> String {
    format!(
        "arn:aws:autoscaling:{REGION}:{ACCT}:scalingPolicy:0a1b:resource/ecs/service/estate/worker:policyName/{name}"
    )
}

/// A compliant, spec-shaped estate, built a part at a time in the order the parts were always
/// pushed (resource order is part of the inventory).
pub fn estate() -> Inventory {
    let mut inv = Inventory::new(config());
    let rs = &mut inv.resources;
    network(rs);
    rabbitmq(rs);
    data(rs);
    webhook(rs);
    processor(rs);
    alarms(rs);
    cloudflare(rs);
    inv
}

/// The estate VPC (beside a default one) with its tiered subnets, route tables, internet and NAT
/// gateways, the default network ACL and the security groups.
fn network(rs: &mut Vec<Resource>) {
    rs.push(vpc("vpc-1", "10.0.0.0/16", false));
    rs.push(vpc("vpc-default", "172.31.0.0/16", true));
    rs.push(subnet(
        "subnet-pub",
        "vpc-1",
        "10.0.0.0/24",
        "public",
        "eu-west-1a",
    ));
    rs.push(subnet(
        "subnet-c1",
        "vpc-1",
        "10.0.1.0/24",
        "compute",
        "eu-west-1a",
    ));
    rs.push(subnet(
        "subnet-c2",
        "vpc-1",
        "10.0.2.0/24",
        "compute",
        "eu-west-1b",
    ));
    rs.push(subnet(
        "subnet-d1",
        "vpc-1",
        "10.0.3.0/24",
        "database",
        "eu-west-1a",
    ));
    rs.push(subnet(
        "subnet-d2",
        "vpc-1",
        "10.0.4.0/24",
        "database",
        "eu-west-1b",
    ));
    rs.push(route_table(
        "rtb-main",
        "vpc-1",
        true,
        &[],
        vec![route("0.0.0.0/0", "nat_gateway", "nat-1")],
    ));
    rs.push(route_table(
        "rtb-pub",
        "vpc-1",
        false,
        &["subnet-pub"],
        vec![route("0.0.0.0/0", "internet_gateway", "igw-1")],
    ));
    rs.push(route_table(
        "rtb-db",
        "vpc-1",
        false,
        &["subnet-d1", "subnet-d2"],
        vec![],
    ));
    rs.push(res(
        arn("ec2", "internet-gateway/igw-1"),
        Attrs::InternetGateway(InternetGateway {
            internet_gateway_id: Some("igw-1".into()),
            attached_vpc_ids: vec!["vpc-1".into()],
        }),
    ));
    rs.push(nat("nat-1", "subnet-pub", "available"));
    rs.push(nacl(
        "acl-1",
        true,
        &[],
        vec![
            acl_entry(100, true, "0.0.0.0/0", None),
            acl_entry(32767, false, "0.0.0.0/0", None),
        ],
    ));
    rs.push(sg("sg-lambda", vec![]));
    rs.push(sg("sg-ecs", vec![]));
    rs.push(sg("sg-mq", vec![tcp(5671, &[], &["sg-lambda", "sg-ecs"])]));
    rs.push(sg("sg-db", vec![tcp(3306, &[], &["sg-ecs"])]));
    rs.push(sg("sg-redis", vec![tcp(6379, &[], &["sg-ecs"])]));
}

/// The RabbitMQ instance.
fn rabbitmq(rs: &mut Vec<Resource>) {
    rs.push(tagged(
        res(
            arn("ec2", "instance/i-mq"),
            Attrs::Instance(Instance {
                instance_id: Some("i-mq".into()),
                vpc_id: Some("vpc-1".into()),
                subnet_id: Some("subnet-c1".into()),
                state: Some("running".into()),
                has_public_ip: Some(false),
                security_group_ids: Some(vec!["sg-mq".into()]),
                network_interfaces: Some(vec![InstanceInterface {
                    network_interface_id: Some("eni-mq".into()),
                    subnet_id: Some("subnet-c1".into()),
                    device_index: Some(0),
                    private_ip_addresses: vec!["10.0.10.15".into()],
                    security_group_ids: Some(vec!["sg-mq".into()]),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        ),
        "role",
        "rabbitmq",
    ));
    rs.push(interface(
        "eni-mq",
        "subnet-c1",
        &["sg-mq"],
        "10.0.10.15",
        |n| n.attached_instance_id = Some("i-mq".into()),
    ));
}

/// A network interface of the estate VPC; `set` fills in who owns it.
pub fn interface(
    id: &str,
    subnet: &str,
    groups: &[&str],
    ip: &str,
    set: impl FnOnce(&mut NetworkInterface),
) -> Resource {
    let mut n = NetworkInterface {
        network_interface_id: Some(id.into()),
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some(subnet.into()),
        interface_type: Some("interface".into()),
        status: Some("in-use".into()),
        private_ip_addresses: vec![ip.into()],
        security_group_ids: Some(groups.iter().map(|g| g.to_string()).collect()),
        ..Default::default()
    };
    set(&mut n);
    res(
        arn("ec2", &format!("network-interface/{id}")),
        Attrs::NetworkInterface(n),
    )
}

/// RDS with its parameter group, and Redis with its replication and subnet groups.
fn data(rs: &mut Vec<Resource>) {
    rs.push(res(
        arn("rds", "db:estate-db"),
        Attrs::DbInstance(DbInstance {
            db_instance_identifier: Some("estate-db".into()),
            engine: Some("mysql".into()),
            status: Some("available".into()),
            publicly_accessible: Some(false),
            storage_encrypted: Some(true),
            vpc_id: Some("vpc-1".into()),
            subnet_ids: Some(vec!["subnet-d1".into(), "subnet-d2".into()]),
            security_group_ids: Some(vec!["sg-db".into()]),
            parameter_group_names: Some(vec!["estate-mysql".into()]),
            parameter_apply_status: Some([("estate-mysql".into(), "in-sync".into())].into()),
            endpoint_address: Some("estate-db.abc.eu-west-1.rds.amazonaws.com".into()),
            endpoint_port: Some(3306),
            ..Default::default()
        }),
    ));
    rs.push(res(
        arn("rds", "pg:estate-mysql"),
        Attrs::DbParameterGroup(DbParameterGroup {
            name: Some("estate-mysql".into()),
            family: Some("mysql8.0".into()),
            parameters: Some(BTreeMap::from([(
                "require_secure_transport".to_string(),
                Some("ON".to_string()),
            )])),
        }),
    ));
    rs.push(res(
        arn("elasticache", "replicationgroup:estate-redis"),
        Attrs::CacheReplicationGroup(CacheReplicationGroup {
            replication_group_id: Some("estate-redis".into()),
            member_clusters: vec!["estate-redis-001".into()],
            user_group_ids: Some(vec!["ug-1".into()]),
            ..Default::default()
        }),
    ));
    rs.push(res(
        arn("elasticache", "cluster:estate-redis-001"),
        Attrs::CacheCluster(CacheCluster {
            cache_cluster_id: Some("estate-redis-001".into()),
            engine: Some("redis".into()),
            status: Some("available".into()),
            replication_group_id: Some("estate-redis".into()),
            cache_subnet_group_name: Some("estate-cache".into()),
            security_group_ids: Some(vec!["sg-redis".into()]),
            ..Default::default()
        }),
    ));
    rs.push(interface(
        "eni-db",
        "subnet-d1",
        &["sg-db"],
        "10.0.20.10",
        |n| {
            n.description = Some("RDSNetworkInterface".into());
            n.requester_id = Some("amazon-rds".into());
            n.requester_managed = Some(true);
        },
    ));
    rs.push(interface(
        "eni-redis",
        "subnet-d1",
        &["sg-redis"],
        "10.0.20.11",
        |n| {
            n.description = Some("ElastiCache estate-redis-001".into());
            n.requester_id = Some("amazon-elasticache".into());
            n.requester_managed = Some(true);
        },
    ));
}

/// The webhook's resource policy: Cloudflare's ranges may invoke its URL.
pub fn cloudflare_policy() -> Vec<PolicyStatement> {
    vec![PolicyStatement {
        sid: Some("cf".into()),
        effect: "Allow".into(),
        principals: vec!["*".into()],
        actions: vec!["lambda:InvokeFunctionUrl".into()],
        conditions: BTreeMap::from([(
            "IpAddress".to_string(),
            BTreeMap::from([(
                "aws:SourceIp".to_string(),
                vec!["173.245.48.0/20".to_string(), "2400:cb00::/32".to_string()],
            )]),
        )]),
        ..Default::default()
    }]
}

/// The webhook Lambda behind a function URL that admits Cloudflare.
fn webhook(rs: &mut Vec<Resource>) {
    rs.push(res(
        arn("elasticache", "subnetgroup:estate-cache"),
        Attrs::CacheSubnetGroup(CacheSubnetGroup {
            name: Some("estate-cache".into()),
            vpc_id: Some("vpc-1".into()),
            subnet_ids: Some(vec!["subnet-d1".into(), "subnet-d2".into()]),
        }),
    ));
    rs.push(res(
        arn("lambda", "function:webhook"),
        Attrs::LambdaFunction(LambdaFunction {
            function_name: Some("webhook".into()),
            vpc_config: Some(LambdaVpcConfig {
                subnet_ids: vec!["subnet-c1".into(), "subnet-c2".into()],
                security_group_ids: vec!["sg-lambda".into()],
            }),
            function_url: Some(FunctionUrl {
                configured: true,
                url: Some("https://abc.lambda-url.eu-west-1.on.aws/".into()),
                auth_type: Some("NONE".into()),
                ..Default::default()
            }),
            policy_statements: Some(cloudflare_policy()),
            function_urls: Some(vec![FunctionUrl {
                configured: true,
                url: Some("https://abc.lambda-url.eu-west-1.on.aws/".into()),
                auth_type: Some("NONE".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    ));
    for (id, subnet, ip) in [
        ("eni-fn1", "subnet-c1", "10.0.10.20"),
        ("eni-fn2", "subnet-c2", "10.0.11.20"),
    ] {
        rs.push(interface(id, subnet, &["sg-lambda"], ip, |n| {
            n.interface_type = Some("lambda".into());
            n.description = Some("AWS Lambda VPC ENI-webhook".into());
            n.requester_managed = Some(true);
        }));
    }
}

/// The ECS processor: cluster, task definition, service and its step scaling.
fn processor(rs: &mut Vec<Resource>) {
    rs.push(res(
        arn("ecs", "cluster/estate"),
        Attrs::EcsCluster(EcsCluster {
            cluster_name: Some("estate".into()),
            status: Some("ACTIVE".into()),
        }),
    ));
    rs.push(res(
        arn("ecs", "task-definition/worker:3"),
        Attrs::EcsTaskDefinition(EcsTaskDefinition {
            family: Some("worker".into()),
            revision: Some(3),
            network_mode: Some("awsvpc".into()),
            containers: None,
        }),
    ));
    rs.push(res(
        arn("ecs", "service/estate/worker"),
        Attrs::EcsService(EcsService {
            service_name: Some("worker".into()),
            cluster_arn: Some(arn("ecs", "cluster/estate")),
            status: Some("ACTIVE".into()),
            desired_count: Some(2),
            task_definition_arn: Some(arn("ecs", "task-definition/worker:3")),
            network_configuration: Some(EcsNetworkConfiguration {
                subnet_ids: vec!["subnet-c1".into(), "subnet-c2".into()],
                security_group_ids: vec!["sg-ecs".into()],
                assign_public_ip: Some("DISABLED".into()),
            }),
            ..Default::default()
        }),
    ));
    for (id, subnet, ip) in [
        ("eni-task1", "subnet-c1", "10.0.10.30"),
        ("eni-task2", "subnet-c2", "10.0.11.30"),
    ] {
        rs.push(interface(id, subnet, &["sg-ecs"], ip, |n| {
            n.description = Some(format!("arn:aws:ecs:{REGION}:{ACCT}:attachment/{id}"));
            n.requester_id = Some("578734482556".into());
            n.requester_managed = Some(true);
        }));
    }
    rs.push(res(
        arn("application-autoscaling", "scalable-target/worker"),
        Attrs::ScalableTarget(ScalableTarget {
            service_namespace: Some("ecs".into()),
            resource_id: Some("service/estate/worker".into()),
            scalable_dimension: Some("ecs:service:DesiredCount".into()),
            min_capacity: Some(1),
            max_capacity: Some(10),
            dynamic_scaling_in_suspended: Some(false),
            dynamic_scaling_out_suspended: Some(false),
            scheduled_scaling_suspended: Some(false),
        }),
    ));
    for (name, adj) in [("queue-out", 1), ("queue-in", -1)] {
        rs.push(res(
            policy_arn(name),
            Attrs::ScalingPolicy(ScalingPolicy {
                policy_name: Some(name.into()),
                service_namespace: Some("ecs".into()),
                resource_id: Some("service/estate/worker".into()),
                policy_type: Some("StepScaling".into()),
                step_adjustments: vec![adj],
                adjustment_type: Some("ChangeInCapacity".into()),
                steps: Some(vec![StepAdjustment {
                    // Above the threshold for scaling out, below it for scaling in.
                    metric_interval_lower_bound: (adj > 0).then_some(0.0),
                    metric_interval_upper_bound: (adj < 0).then_some(0.0),
                    scaling_adjustment: adj,
                }]),
                ..Default::default()
            }),
        ));
    }
}

/// An alarm routed to the PagerDuty topic, from `name namespace metric dims op threshold`
/// (`dims` as `Name=value,…`; `op` `>` or `<`).
fn paging_alarm(spec: &str) -> Resource {
    let w: Vec<&str> = spec.split(' ').collect();
    let dims: Vec<(&str, &str)> = w[3].split(',').filter_map(|d| d.split_once('=')).collect();
    let mut r = alarm(w[0], &dims, &[&topic_arn()]);
    if let Attrs::Alarm(a) = &mut r.attrs {
        a.namespace = Some(w[1].into());
        a.metric_name = Some(w[2].into());
        a.comparison_operator = Some(
            if w[4] == ">" {
                "GreaterThanThreshold"
            } else {
                "LessThanThreshold"
            }
            .into(),
        );
        a.threshold = Some(w[5].parse().expect("threshold"));
    }
    r
}

/// The queue scaling alarm, and an alarm routed through SNS to PagerDuty for each category of
/// the spec's alerting section (database performance; the processors' container and service
/// health; cache performance; the webhook's errors and performance; the NAT gateway's bandwidth
/// and connection limits).
fn alarms(rs: &mut Vec<Resource>) {
    let mut qa = alarm(
        "queue-high",
        &[("QueueName", "work")],
        &[&policy_arn("queue-out")],
    );
    if let Attrs::Alarm(a) = &mut qa.attrs {
        a.namespace = Some("Custom/RabbitMQ".into());
        a.metric_name = Some("MessagesReady".into());
        a.datapoints_to_alarm = Some(3);
    }
    rs.push(qa);
    rs.push(alarm(
        "db-cpu",
        &[("DBInstanceIdentifier", "estate-db")],
        &[&topic_arn()],
    ));
    for spec in [
        "worker-memory AWS/ECS MemoryUtilization ClusterName=estate,ServiceName=worker > 90",
        "worker-tasks-low ECS/ContainerInsights RunningTaskCount ClusterName=estate,ServiceName=worker < 1",
        "redis-memory AWS/ElastiCache DatabaseMemoryUsagePercentage CacheClusterId=estate-redis-001 > 90",
        "webhook-errors AWS/Lambda Errors FunctionName=webhook > 5",
        "webhook-duration AWS/Lambda Duration FunctionName=webhook > 3000",
        "nat-packets-dropped AWS/NATGateway PacketsDropCount NatGatewayId=nat-1 > 0",
        "nat-port-allocation AWS/NATGateway ErrorPortAllocation NatGatewayId=nat-1 > 0",
    ] {
        rs.push(paging_alarm(spec));
    }
    rs.push(res(
        topic_arn(),
        Attrs::SnsTopic(SnsTopic {
            topic_arn: Some(topic_arn()),
            kms_master_key_id: Some("alias/estate-alerts".into()),
            kms_key: Some(TopicKey {
                key_arn: Some(format!("arn:aws:kms:{REGION}:{ACCT}:key/k1")),
                key_manager: Some("CUSTOMER".into()),
                key_state: Some("Enabled".into()),
                policy: Some(vec![PolicyStatement {
                    effect: "Allow".into(),
                    principals: vec!["cloudwatch.amazonaws.com".into()],
                    actions: vec!["kms:Decrypt".into(), "kms:GenerateDataKey*".into()],
                    resources: vec!["*".into()],
                    ..Default::default()
                }]),
            }),
        }),
    ));
    rs.push(res(
        format!("{}:sub-1", topic_arn()),
        Attrs::SnsSubscription(SnsSubscription {
            topic_arn: Some(topic_arn()),
            protocol: Some("https".into()),
            endpoint: Some("https://events.pagerduty.com/integration/****/enqueue".into()),
            endpoint_key_digest: Some("sha256:0123456789abcdef".into()),
            confirmed: Some(true),
            filter_policy: Some(String::new()),
            filter_policy_scope: Some("MessageAttributes".into()),
        }),
    ));
}

/// The Cloudflare zone with its WAF and rate limiting, the webhook record and the IP ranges.
fn cloudflare(rs: &mut Vec<Resource>) {
    let mut phases = BTreeMap::new();
    phases.insert(
        "http_request_firewall_managed".to_string(),
        Phase {
            deployed: true,
            rules: vec![rule("waf", "execute", "true")],
        },
    );
    phases.insert(
        "http_ratelimit".to_string(),
        Phase {
            deployed: true,
            rules: vec![RulesetRule {
                characteristics: Some(vec!["cf.colo.id".into(), "ip.src".into()]),
                requests_per_period: Some(100),
                period: Some(60),
                ..rule(
                    "rl",
                    "block",
                    r#"(http.host eq "webhook.example.com" and starts_with(http.request.uri.path, "/"))"#,
                )
            }],
        },
    );
    phases.insert(
        "http_request_firewall_custom".to_string(),
        Phase {
            deployed: true,
            rules: vec![rule(
                "allow",
                "block",
                r#"http.host eq "webhook.example.com" and not ip.src in {192.0.2.0/24}"#,
            )],
        },
    );
    phases.insert(
        "http_config_settings".to_string(),
        Phase {
            deployed: false,
            rules: vec![],
        },
    );
    let mut zone = Resource::new(
        "cloudflare:zone/z1",
        Attrs::CloudflareZone(CloudflareZone {
            zone_id: Some("z1".into()),
            zone_name: Some("example.com".into()),
            status: Some("active".into()),
            paused: Some(false),
            ssl: Some("strict".into()),
            phases,
            page_rules: Some(Vec::new()),
            hostname_min_tls: Some(BTreeMap::new()),
            ..Default::default()
        }),
    );
    zone.name = Some("example.com".into());
    rs.push(zone);
    rs.push(Resource::new(
        "cloudflare:zone/z1/dns_record/r1",
        Attrs::DnsRecord(DnsRecord {
            zone_id: Some("z1".into()),
            record_name: Some("webhook.example.com".into()),
            record_type: Some("CNAME".into()),
            content: Some("abc.lambda-url.eu-west-1.on.aws".into()),
            proxied: Some(true),
            ..Default::default()
        }),
    ));
    rs.push(Resource::new(
        "cloudflare:ip_ranges",
        Attrs::CloudflareIpRanges(CloudflareIpRanges {
            ipv4_cidrs: CF_V4.iter().map(|s| s.to_string()).collect(),
            ipv6_cidrs: CF_V6.iter().map(|s| s.to_string()).collect(),
            etag: None,
        }),
    ));
}

/// The attrs of the resource whose id ends with `suffix`.
pub fn find<'a>(inv: &'a Inventory, suffix: &str) -> &'a Attrs {
    &inv.resources
        .iter()
        .find(|r| r.id.ends_with(suffix))
        .unwrap_or_else(|| panic!("no resource {suffix}"))
        .attrs
}

pub fn find_mut<'a>(inv: &'a mut Inventory, suffix: &str) -> &'a mut Attrs {
    &mut inv
        .resources
        .iter_mut()
        .find(|r| r.id.ends_with(suffix))
        .unwrap_or_else(|| panic!("no resource {suffix}"))
        .attrs
}

macro_rules! get {
    ($inv:expr, $suffix:expr, $variant:ident) => {
        match $crate::link::testkit::find(&$inv, $suffix) {
            $crate::model::Attrs::$variant(x) => x.clone(),
            other => panic!("{} is {}", $suffix, other.kind()),
        }
    };
}
macro_rules! edit {
    ($inv:expr, $suffix:expr, $variant:ident, |$x:ident| $body:expr) => {
        match $crate::link::testkit::find_mut(&mut $inv, $suffix) {
            $crate::model::Attrs::$variant($x) => $body,
            other => panic!("{} is {}", $suffix, other.kind()),
        }
    };
}
pub(crate) use {edit, get};
