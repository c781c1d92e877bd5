//! The compliant estate's facts, and what the estate's selection, tiers, NAT gateways and
//! collection errors decide.

use super::*;

#[test]
fn compliant_estate_network_facts() {
    let inv = linked(estate());
    let v = get!(inv, "vpc/vpc-1", Vpc);
    assert_eq!(v.is_estate, Some(true));
    let ts = v.tier_subnets.unwrap();
    assert_eq!(ts["compute"], vec!["subnet-c1", "subnet-c2"]);
    assert_eq!(ts["public"], vec!["subnet-pub"]);
    assert_eq!(
        v.tier_azs.unwrap()["database"],
        vec!["eu-west-1a", "eu-west-1b"]
    );
    assert_eq!(get!(inv, "vpc/vpc-default", Vpc).is_estate, Some(false));

    let c1 = get!(inv, "subnet/subnet-c1", Subnet);
    assert_eq!(c1.tier, Some(Tier::Compute));
    assert_eq!(
        c1.route_table_id.as_deref(),
        Some("rtb-main"),
        "main table fallback"
    );
    assert_eq!(c1.has_igw_route, Some(false));
    assert_eq!(c1.default_route_target_type.as_deref(), Some("nat_gateway"));
    assert_eq!(c1.default_route_target_id.as_deref(), Some("nat-1"));
    assert_eq!(c1.default_route_nat_available, Some(true));
    let w = c1.workloads.unwrap();
    assert!(
        w.contains(&format!("aws.ec2.instance:{}", arn("ec2", "instance/i-mq"))),
        "{w:?}"
    );
    assert!(w.iter().any(|x| x.starts_with("aws.ecs.service:")));
    assert!(w.iter().any(|x| x.starts_with("aws.lambda.function:")));

    let p = get!(inv, "subnet/subnet-pub", Subnet);
    assert_eq!(p.tier, Some(Tier::Public));
    assert_eq!(p.has_igw_route, Some(true));
    assert_eq!(
        p.default_route_target_type.as_deref(),
        Some("internet_gateway")
    );
    assert_eq!(p.default_route_nat_available, Some(false));
    assert_eq!(p.workloads, Some(vec![]));

    let d = get!(inv, "subnet/subnet-d1", Subnet);
    assert_eq!(d.default_route_target_type.as_deref(), Some("none"));
    assert_eq!(d.default_route_target_id, None);
    assert_eq!(d.default_route_nat_available, Some(false));
    assert_eq!(d.workloads.unwrap().len(), 2, "RDS and the cache cluster");

    let n = get!(inv, "natgateway/nat-1", NatGateway);
    assert_eq!(n.subnet_tier, Some(Tier::Public));
    assert_eq!(
        n.alarm_names,
        Some(vec![
            "nat-packets-dropped".to_string(),
            "nat-port-allocation".to_string()
        ])
    );
}

#[test]
fn compliant_estate_workload_facts() {
    let inv = linked(estate());
    let mq = get!(inv, "instance/i-mq", Instance);
    assert_eq!(mq.is_rabbitmq, Some(true));
    assert_eq!(mq.subnet_tier, Some(Tier::Compute));
    let ing = mq.ingress.unwrap();
    assert_eq!(ing.len(), 2);
    let from_lambda = ing.iter().find(|i| i.source == "sg-lambda").unwrap();
    assert_eq!(from_lambda.source_type, "security_group");
    assert_eq!(from_lambda.source_components, Some(vec!["webhook".into()]));
    assert_eq!(from_lambda.source_tiers, Some(vec!["compute".into()]));
    assert_eq!((from_lambda.from_port, from_lambda.to_port), (5671, 5671));
    assert!(!from_lambda.source_is_internet);
    let net = mq.internet.unwrap();
    assert!(!net.reachable);
    assert_eq!(
        net.path,
        vec![
            "interface eni-mq (device 0):",
            "no public IPv4 address",
            "no IPv6 address"
        ]
    );

    let db = get!(inv, "db:estate-db", DbInstance);
    assert_eq!(db.subnet_tiers, Some(vec![Tier::Database]));
    assert_eq!(db.require_secure_transport, Some(true));
    assert_eq!(
        db.ingress.as_ref().unwrap()[0].source_components,
        Some(vec!["ecs_service".into()])
    );
    assert_eq!(db.internet.unwrap().path, vec!["not publicly accessible"]);
    assert_eq!(db.alarm_names, Some(vec!["db-cpu".to_string()]));

    let c = get!(inv, "cluster:estate-redis-001", CacheCluster);
    assert_eq!(c.user_group_ids, Some(vec!["ug-1".to_string()]));
    assert_eq!(c.subnet_ids.as_ref().unwrap().len(), 2);
    assert_eq!(c.subnet_tiers, Some(vec![Tier::Database]));
    assert!(!c.internet.unwrap().reachable);

    let l = get!(inv, "function:webhook", LambdaFunction);
    assert_eq!(l.is_webhook, Some(true));
    assert_eq!(l.subnet_tiers, Some(vec![Tier::Compute]));
    assert_eq!(l.origin_cloudflare_only, Some(true));
    assert_eq!(l.origin_secret_header, None, "no transform phase collected");

    let s = get!(inv, "service/estate/worker", EcsService);
    assert_eq!(s.is_processor, Some(true));
    assert_eq!(s.network_mode.as_deref(), Some("awsvpc"));
    assert_eq!(s.subnet_tiers, Some(vec![Tier::Compute]));
    assert_eq!(s.scalable_targets.unwrap()[0].max_capacity, Some(10));
    assert_eq!(
        s.scaling_policy_names,
        Some(vec!["queue-in".to_string(), "queue-out".to_string()])
    );
    let sa = s.scaling_alarms.unwrap();
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0].alarm_name, "queue-high");
    assert_eq!(sa[0].direction.as_deref(), Some("out"));
    assert_eq!(sa[0].metric_role.as_deref(), Some("queue"));
    assert_eq!(sa[0].metric, "Custom/RabbitMQ:MessagesReady");
    assert_eq!(sa[0].window_seconds, Some(180), "60 s × 3 datapoints");
    assert!(!s.internet.unwrap().reachable);
    assert_eq!(
        s.alarm_names,
        Some(vec![
            "worker-memory".to_string(),
            "worker-tasks-low".to_string()
        ])
    );
}

#[test]
fn compliant_estate_alarm_cloudflare_and_estate_facts() {
    let inv = linked(estate());
    let a = get!(inv, "alarm:db-cpu", Alarm);
    assert_eq!(a.purpose.as_deref(), Some("monitoring"));
    assert_eq!(a.pagerduty_routed, Some(true));
    assert!(a.pagerduty_path.unwrap()[0].contains("(confirmed)"));
    assert_eq!(a.watches, Some(vec![arn("rds", "db:estate-db")]));
    let q = get!(inv, "alarm:queue-high", Alarm);
    assert_eq!(q.purpose.as_deref(), Some("scaling"));
    assert_eq!(q.pagerduty_routed, Some(false));

    let z = get!(inv, "cloudflare:zone/z1", CloudflareZone);
    assert_eq!(z.is_estate_zone, Some(true));
    assert_eq!(z.managed_waf_enabled, Some(true));
    assert_eq!(z.rate_limit_covers_webhook, Some(true));
    assert_eq!(z.webhook_ssl_overrides, Some(vec![]));
    assert_eq!(z.webhook_min_tls_overrides, Some(vec![]));
    assert_eq!(
        get!(inv, "dns_record/r1", DnsRecord).is_webhook_host,
        Some(true)
    );

    let e = estate_facts(&inv);
    assert_eq!(e.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(e.components_missing, Vec::<String>::new());
    assert_eq!(e.components_unknown, Vec::<String>::new());
    assert_eq!(e.components_found.len(), 11);
    assert_eq!(e.regions_found, vec![REGION]);
    let rec = inv.resources.last().unwrap();
    assert_eq!(rec.id, arn("ec2", "vpc/vpc-1"));
    assert_eq!(rec.kind(), "estate");
}

#[test]
fn link_is_idempotent() {
    let once = linked(estate());
    let twice = linked(once.clone());
    assert_eq!(once, twice);
    let n = twice
        .resources
        .iter()
        .filter(|r| matches!(r.attrs, Attrs::Estate(_)))
        .count();
    assert_eq!(n, 1);
}

#[test]
fn collection_errors_make_dependent_facts_unknown() {
    let mut inv = estate();
    inv.collection_errors.push(error("aws.cloudwatch.alarm"));
    inv.collection_errors.push(error("aws.rds.db_instance"));
    inv.collection_errors.push(error("aws.ec2.route_table"));
    inv.resources.retain(|r| r.kind() != "aws.rds.db_instance");
    let inv = linked(inv);
    assert_eq!(get!(inv, "natgateway/nat-1", NatGateway).alarm_names, None);
    assert_eq!(
        get!(inv, "function:webhook", LambdaFunction).alarm_names,
        None
    );
    let s = get!(inv, "service/estate/worker", EcsService);
    assert_eq!(s.scaling_alarms, None);
    assert!(s.scalable_targets.is_some());
    let sub = get!(inv, "subnet/subnet-c1", Subnet);
    assert_eq!(sub.workloads, None);
    assert_eq!(sub.has_igw_route, None);
    assert_eq!(sub.route_table_id, None);
    let e = estate_facts(&inv);
    assert_eq!(e.components_unknown, vec!["rds"]);
    assert!(!e.components_missing.contains(&"rds".to_string()));
}

#[test]
fn explicit_tier_ids_win_over_tags() {
    let mut inv = estate();
    inv.estate.tiers.database = vec!["subnet-c2".into()];
    let inv = linked(inv);
    assert_eq!(
        get!(inv, "subnet/subnet-c2", Subnet).tier,
        Some(Tier::Database)
    );
    let untagged = {
        let mut inv = estate();
        inv.resources.push(subnet(
            "subnet-x",
            "vpc-1",
            "10.0.9.0/24",
            "edge",
            "eu-west-1a",
        ));
        linked(inv)
    };
    assert_eq!(
        get!(untagged, "subnet/subnet-x", Subnet).tier,
        Some(Tier::Unassigned)
    );
}

#[test]
fn nat_route_to_unavailable_or_unknown_nat() {
    let mut inv = estate();
    edit!(inv, "natgateway/nat-1", NatGateway, |n| n.state =
        Some("failed".into()));
    let inv2 = linked(inv.clone());
    assert_eq!(
        get!(inv2, "subnet/subnet-c1", Subnet).default_route_nat_available,
        Some(false)
    );
    inv.resources.retain(|r| r.kind() != "aws.ec2.nat_gateway");
    let inv = linked(inv);
    assert_eq!(
        get!(inv, "subnet/subnet-c1", Subnet).default_route_nat_available,
        None
    );
    assert!(estate_facts(&inv)
        .components_missing
        .contains(&"nat_gateway".to_string()));
}

#[test]
fn estate_vpc_selection_and_record_id() {
    let mut inv = estate();
    inv.estate.estate.vpc = Some("vpc-nope".into());
    let inv = linked(inv);
    assert_eq!(get!(inv, "vpc/vpc-1", Vpc).is_estate, Some(false));
    let rec = inv.resources.last().unwrap();
    assert_eq!(rec.id, "estate:eu-west-1");
    let e = estate_facts(&inv);
    assert!(e.components_missing.contains(&"vpc".to_string()));
    assert!(e.components_missing.contains(&"public_subnet".to_string()));

    // No tag configured, no tag on the VPC: the only non-default VPC.
    let mut inv = estate();
    inv.estate.estate.tag = None;
    edit!(inv, "vpc/vpc-1", Vpc, |v| v.vpc_id = Some("vpc-1".into()));
    for r in &mut inv.resources {
        r.tags.remove("estate");
    }
    let inv = linked(inv);
    assert_eq!(get!(inv, "vpc/vpc-1", Vpc).is_estate, Some(true));
}

#[test]
fn out_of_region_resources_skip_default_plumbing_and_cloudflare() {
    let mut inv = estate();
    let mut far = tagged(vpc("vpc-far", "10.9.0.0/16", false), "estate", "demo");
    far.region = Some("us-east-1".into());
    far.id = "arn:aws:ec2:us-east-1:1:vpc/vpc-far".into();
    let mut dflt = vpc("vpc-d2", "172.31.0.0/16", true);
    dflt.region = Some("us-east-1".into());
    dflt.id = "arn:aws:ec2:us-east-1:1:vpc/vpc-d2".into();
    inv.resources.push(far);
    inv.resources.push(dflt);
    let inv = linked(inv);
    let e = estate_facts(&inv);
    assert_eq!(
        e.out_of_region_resources,
        Some(vec!["arn:aws:ec2:us-east-1:1:vpc/vpc-far".to_string()])
    );
    assert_eq!(e.regions_found, vec!["eu-west-1", "us-east-1"]);
}

#[test]
fn nothing_found_elsewhere_is_known_only_when_other_regions_were_scanned_for_the_tag() {
    // Only the home region in the scope: nobody looked elsewhere.
    let mut inv = estate();
    inv.scope.regions = vec!["eu-west-1".into()];
    assert_eq!(
        estate_facts(&linked(inv.clone())).out_of_region_resources,
        None
    );
    // Other regions scanned, and the estate tag says what is the estate's: none elsewhere.
    inv.scope.regions.push("us-east-1".into());
    assert_eq!(
        estate_facts(&linked(inv.clone())).out_of_region_resources,
        Some(vec![])
    );
    // Scanned, but no tag: the scan could not tell the estate's resources (it does not run).
    inv.estate.estate.tag = None;
    assert_eq!(
        estate_facts(&linked(inv.clone())).out_of_region_resources,
        None
    );
    // Something of the estate found elsewhere is a fact whatever the scan.
    let mut far = vpc("vpc-far", "10.9.0.0/16", false);
    far.region = Some("us-east-1".into());
    far.id = "arn:aws:ec2:us-east-1:1:vpc/vpc-far".into();
    inv.resources.push(far);
    inv.scope.regions = vec!["eu-west-1".into()];
    assert_eq!(
        estate_facts(&linked(inv)).out_of_region_resources,
        Some(vec!["arn:aws:ec2:us-east-1:1:vpc/vpc-far".to_string()])
    );
}

#[test]
fn lists_that_grow_with_the_estate_are_cut_with_a_total() {
    // Eight hundred copies of the estate's workloads and alarms, sharing its subnets, groups,
    // topics and policies: the subnet names its first workloads and counts them all, an alarm
    // the first resources it watches, and an ECS service its scaling alarms once each.
    let mut inv = crate::synth::shared_references(20_000);
    crate::link::link(&mut inv);
    let mut seen_subnet = false;
    for r in &inv.resources {
        match &r.attrs {
            Attrs::Subnet(s) if s.workloads_total.unwrap_or(0) > 20 => {
                seen_subnet = true;
                assert_eq!(s.workloads.as_ref().map(Vec::len), Some(20));
            }
            Attrs::Alarm(a) => {
                assert!(a.watches.as_ref().map_or(0, Vec::len) <= 20);
                assert!(a.pagerduty_path.as_ref().map_or(0, Vec::len) <= 21);
            }
            Attrs::EcsService(s) => {
                let alarms = s.scaling_alarms.as_ref().map_or(0, Vec::len);
                assert!(alarms <= 10, "{alarms} scaling alarms");
                assert!(s.scalable_targets.as_ref().map_or(0, Vec::len) <= 1);
            }
            _ => {}
        }
    }
    assert!(seen_subnet, "a subnet holds more than 20 workloads");
}
