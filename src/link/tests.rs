//! Facts `link` derives, one behaviour per test, on the hand-built estate of `testkit`.

use super::testkit::*;
use super::*;
use crate::model::{CollectionError, ErrorKind};

fn linked(mut inv: Inventory) -> Inventory {
    link(&mut inv);
    inv
}

fn estate_facts(inv: &Inventory) -> EstateFacts {
    inv.resources
        .iter()
        .find_map(|r| match &r.attrs {
            Attrs::Estate(e) => Some(e.clone()),
            _ => None,
        })
        .expect("estate record")
}

fn error(kind: &str) -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: "x".into(),
        kinds: vec![kind.into()],
        kind: ErrorKind::AccessDenied,
        message: "denied".into(),
        region: None,
        account: None,
    }
}

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
    assert_eq!(n.alarm_names, Some(vec![]));
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
    assert_eq!(net.path, vec!["no public IPv4 address", "no IPv6 address"]);

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
    assert_eq!(l.url_sources_cloudflare_only, Some(true));
    assert_eq!(
        l.url_allowed_source_ips,
        Some(vec![
            "173.245.48.0/20".to_string(),
            "2400:cb00::/32".to_string()
        ])
    );
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
    assert_eq!(sa[0].direction, "out");
    assert_eq!(sa[0].metric_role, "queue");
    assert_eq!(sa[0].metric, "Custom/RabbitMQ:MessagesReady");
    assert_eq!(sa[0].window_seconds, Some(180), "60 s × 3 datapoints");
    assert!(!s.internet.unwrap().reachable);
    assert_eq!(s.alarm_names, Some(vec![]));
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
fn public_rds_is_reachable_with_the_path_as_evidence() {
    let mut inv = estate();
    edit!(inv, "db:estate-db", DbInstance, |d| {
        d.publicly_accessible = Some(true);
        d.subnet_ids = Some(vec!["subnet-pub".into()]);
    });
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(3306, &["0.0.0.0/0"], &[])));
    let inv = linked(inv);
    let db = get!(inv, "db:estate-db", DbInstance);
    let net = db.internet.unwrap();
    assert!(net.reachable);
    assert_eq!(
        net.path,
        vec![
            "publicly accessible endpoint estate-db.abc.eu-west-1.rds.amazonaws.com",
            "route 0.0.0.0/0 → igw-1 in rtb-pub",
            "sg-db admits tcp 3306 from 0.0.0.0/0",
            "acl-1 rule 100 allows all traffic from 0.0.0.0/0",
        ]
    );
    assert_eq!(db.subnet_tiers, Some(vec![Tier::Public]));
    let open = db
        .ingress
        .unwrap()
        .into_iter()
        .find(|i| i.source == "0.0.0.0/0")
        .unwrap();
    assert!(open.source_is_internet);
    assert_eq!(
        open.source_tiers.as_deref(),
        Some(&["public", "compute", "database", "external"].map(String::from)[..])
    );
}

#[test]
fn nacl_deny_blocks_the_path() {
    let mut inv = estate();
    edit!(inv, "db:estate-db", DbInstance, |d| {
        d.publicly_accessible = Some(true);
        d.subnet_ids = Some(vec!["subnet-pub".into()]);
    });
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(3306, &["0.0.0.0/0"], &[])));
    inv.resources.push(nacl(
        "acl-pub",
        false,
        &["subnet-pub"],
        vec![
            acl_entry(50, false, "0.0.0.0/0", Some((3306, 3306))),
            acl_entry(100, true, "0.0.0.0/0", None),
        ],
    ));
    let inv = linked(inv);
    let net = get!(inv, "db:estate-db", DbInstance).internet.unwrap();
    assert!(!net.reachable);
    // The IPv4 trace up to the ACL, then the IPv6 path's own blocking hop.
    let acl = &net.path[3];
    assert!(
        acl.starts_with("acl-pub blocks tcp 3306 from 0.0.0.0/0"),
        "{acl}"
    );
    assert!(acl.contains("rule 50 denies tcp 3306"), "{acl}");
    assert_eq!(net.path[4], "no IPv6 address (IPv4-only subnet)");
}

#[test]
fn ipv6_path_needs_ipv6_route_rule_and_acl_entry() {
    let mut inv = estate();
    edit!(inv, "instance/i-mq", Instance, |i| {
        i.subnet_id = Some("subnet-pub".into());
        i.ipv6_addresses = vec!["2a05:d018::10".into()];
    });
    edit!(inv, "security-group/sg-mq", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(22, &["::/0"], &[])));
    let blocked = linked(inv.clone());
    let net = get!(blocked, "instance/i-mq", Instance).internet.unwrap();
    assert!(!net.reachable);
    assert!(
        net.path.iter().any(|p| p.contains("no IPv6 route")),
        "{:?}",
        net.path
    );

    edit!(inv, "route-table/rtb-pub", RouteTable, |t| t
        .routes
        .push(route("::/0", "internet_gateway", "igw-1")));
    let acl_blocks = linked(inv.clone());
    let net = get!(acl_blocks, "instance/i-mq", Instance)
        .internet
        .unwrap();
    assert!(!net.reachable, "the default ACL has no IPv6 entry");
    assert!(
        net.path.last().unwrap().contains("no rule allows it"),
        "{:?}",
        net.path
    );

    edit!(inv, "network-acl/acl-1", NetworkAcl, |a| a
        .entries
        .as_mut()
        .unwrap()
        .push(acl_entry(101, true, "::/0", None)));
    let open = linked(inv);
    let net = get!(open, "instance/i-mq", Instance).internet.unwrap();
    assert!(net.reachable);
    assert_eq!(
        net.path,
        vec![
            "IPv6 address 2a05:d018::10",
            "route ::/0 → igw-1 in rtb-pub",
            "sg-mq admits tcp 22 from ::/0",
            "acl-1 rule 101 allows all traffic from ::/0",
        ]
    );
}

#[test]
fn missing_security_group_makes_ingress_and_reachability_unknown() {
    let mut inv = estate();
    edit!(inv, "instance/i-mq", Instance, |i| {
        i.has_public_ip = Some(true);
        i.subnet_id = Some("subnet-pub".into());
        i.security_group_ids = Some(vec!["sg-mq".into(), "sg-gone".into()]);
    });
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| g.ingress =
        None);
    let inv = linked(inv);
    let mq = get!(inv, "instance/i-mq", Instance);
    assert_eq!(mq.ingress, None);
    assert_eq!(mq.internet, None, "public IP + IGW route, SG unknown");
    let db = get!(inv, "db:estate-db", DbInstance);
    assert_eq!(db.ingress, None, "ingress: null on the group");
    // Not publicly accessible decides it whatever the groups say.
    assert_eq!(db.internet.map(|n| n.reachable), Some(false));
}

#[test]
fn unknown_inputs_stay_unknown() {
    let mut inv = estate();
    edit!(inv, "db:estate-db", DbInstance, |d| {
        d.parameter_group_names = Some(vec!["other".into()]);
        d.publicly_accessible = None;
        d.subnet_ids = Some(vec!["subnet-pub".into()]);
    });
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(3306, &["0.0.0.0/0"], &[])));
    edit!(inv, "cluster:estate-redis-001", CacheCluster, |c| c
        .cache_subnet_group_name =
        Some("gone".into()));
    let inv = linked(inv);
    let db = get!(inv, "db:estate-db", DbInstance);
    assert_eq!(
        db.require_secure_transport, None,
        "parameter group not in the inventory"
    );
    assert_eq!(
        db.internet, None,
        "publicly_accessible null, every other hop open"
    );
    let c = get!(inv, "cluster:estate-redis-001", CacheCluster);
    assert_eq!(c.subnet_ids, None);
    assert_eq!(c.subnet_tiers, None);
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
        vec!["arn:aws:ec2:us-east-1:1:vpc/vpc-far"]
    );
    assert_eq!(e.regions_found, vec!["eu-west-1", "us-east-1"]);
}

fn lambda_with(statements: Vec<PolicyStatement>) -> LambdaFunction {
    let mut inv = estate();
    edit!(inv, "function:webhook", LambdaFunction, |l| l
        .policy_statements =
        Some(statements));
    get!(linked(inv), "function:webhook", LambdaFunction)
}

fn stmt(effect: &str, op: Option<&str>, ips: &[&str]) -> PolicyStatement {
    PolicyStatement {
        sid: None,
        effect: effect.into(),
        principals: vec!["*".into()],
        actions: vec!["lambda:*".into()],
        conditions: op
            .map(|op| {
                BTreeMap::from([(
                    op.to_string(),
                    BTreeMap::from([(
                        "aws:SourceIp".to_string(),
                        ips.iter().map(|s| s.to_string()).collect(),
                    )]),
                )])
            })
            .unwrap_or_default(),
    }
}

use std::collections::BTreeMap;

#[test]
fn lambda_url_sources_against_cloudflare_ranges() {
    let l = lambda_with(vec![stmt(
        "Allow",
        Some("IpAddress"),
        &["103.21.244.0/23", "2400:cb00:2::/48"],
    )]);
    assert_eq!(l.url_sources_cloudflare_only, Some(true));

    let l = lambda_with(vec![stmt(
        "Allow",
        Some("IpAddress"),
        &["103.21.244.0/22", "198.51.100.0/24"],
    )]);
    assert_eq!(l.url_sources_cloudflare_only, Some(false));

    let l = lambda_with(vec![stmt("Allow", Some("IpAddress"), &["2400:cb00::/31"])]);
    assert_eq!(
        l.url_sources_cloudflare_only,
        Some(false),
        "wider than 2400:cb00::/32"
    );

    let l = lambda_with(vec![stmt("Allow", None, &[])]);
    assert_eq!(l.url_sources_cloudflare_only, Some(false));
    assert_eq!(
        l.url_allowed_source_ips,
        Some(vec!["0.0.0.0/0".to_string(), "::/0".to_string()])
    );

    let l = lambda_with(vec![
        stmt("Allow", None, &[]),
        stmt(
            "Deny",
            Some("NotIpAddress"),
            &["173.245.48.0/20", "2400:cb00::/32"],
        ),
    ]);
    assert_eq!(
        l.url_sources_cloudflare_only,
        Some(true),
        "deny everything else"
    );

    let l = lambda_with(vec![]);
    assert_eq!(
        l.url_sources_cloudflare_only,
        Some(true),
        "nobody may invoke it"
    );
    assert_eq!(l.url_allowed_source_ips, Some(vec![]));

    let mut inv = estate();
    inv.resources.retain(|r| r.kind() != "cloudflare.ip_ranges");
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.url_sources_cloudflare_only, None);
    assert!(l.url_allowed_source_ips.is_some());
}

fn zone_with(phase: &str, p: Option<Phase>) -> CloudflareZone {
    let mut inv = estate();
    inv.estate.cloudflare.webhook_path = Some("/hooks/github".into());
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| match p {
        Some(p) => {
            z.phases.insert(phase.into(), p);
        }
        None => {
            z.phases.remove(phase);
        }
    });
    get!(linked(inv), "cloudflare:zone/z1", CloudflareZone)
}

fn deployed(rules: Vec<RulesetRule>) -> Option<Phase> {
    Some(Phase {
        deployed: true,
        rules,
    })
}

#[test]
fn rate_limit_coverage() {
    let covers = |e: &str| {
        zone_with("http_ratelimit", deployed(vec![rule("r", "block", e)])).rate_limit_covers_webhook
    };
    assert_eq!(
        covers(
            r#"(http.host eq "webhook.example.com" and starts_with(http.request.uri.path, "/hooks"))"#
        ),
        Some(true)
    );
    assert_eq!(covers("true"), Some(true));
    assert_eq!(
        covers(r#"http.request.uri.path eq "/""#),
        Some(false),
        "webhook path is /hooks/github"
    );
    assert_eq!(covers(r#"http.host eq "api.example.com""#), Some(false));
    assert_eq!(
        covers(r#"http.host matches "^webhook""#),
        Some(false),
        "unparsed never covers"
    );

    let mut disabled = rule("r", "block", "true");
    disabled.enabled = Some(false);
    assert_eq!(
        zone_with("http_ratelimit", deployed(vec![disabled])).rate_limit_covers_webhook,
        Some(false)
    );
    assert_eq!(
        zone_with("http_ratelimit", deployed(vec![rule("r", "log", "true")]))
            .rate_limit_covers_webhook,
        Some(false)
    );
    assert_eq!(
        zone_with("http_ratelimit", None).rate_limit_covers_webhook,
        None
    );
    let not_deployed = Some(Phase {
        deployed: false,
        rules: vec![],
    });
    assert_eq!(
        zone_with("http_ratelimit", not_deployed).rate_limit_covers_webhook,
        Some(false)
    );

    // Root path default: `http.request.uri.path eq "/"` covers `/`.
    let mut inv = estate();
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_ratelimit".into(),
            deployed(vec![rule("r", "block", r#"http.request.uri.path eq "/""#)]).unwrap()
        ));
    let z = get!(linked(inv), "cloudflare:zone/z1", CloudflareZone);
    assert_eq!(z.rate_limit_covers_webhook, Some(true));
}

#[test]
fn managed_waf_and_config_overrides() {
    assert_eq!(
        zone_with("http_request_firewall_managed", None).managed_waf_enabled,
        None
    );
    assert_eq!(
        zone_with(
            "http_request_firewall_managed",
            Some(Phase {
                deployed: false,
                rules: vec![]
            })
        )
        .managed_waf_enabled,
        Some(false)
    );
    let mut r = rule("waf", "execute", "true");
    r.enabled = Some(false);
    assert_eq!(
        zone_with("http_request_firewall_managed", deployed(vec![r])).managed_waf_enabled,
        Some(false)
    );

    let set = |id: &str, expr: &str, k: &str, v: &str| {
        let mut r = rule(id, "set_config", expr);
        r.set_config.insert(k.into(), v.into());
        r
    };
    let z = zone_with(
        "http_config_settings",
        deployed(vec![
            set(
                "a",
                r#"http.host eq "webhook.example.com""#,
                "ssl",
                "flexible",
            ),
            set("b", r#"http.host eq "www.example.com""#, "ssl", "off"),
            set("c", "true", "ssl", "strict"),
            set("d", r#"ip.src in {1.2.3.4}"#, "min_tls_version", "1.0"),
            set("e", "true", "min_tls_version", "1.3"),
        ]),
    );
    assert_eq!(
        z.webhook_ssl_overrides,
        Some(vec!["a: flexible".to_string()])
    );
    assert_eq!(
        z.webhook_min_tls_overrides,
        Some(vec!["d: 1.0".to_string()]),
        "unknown may apply"
    );
    assert_eq!(
        zone_with("http_config_settings", None).webhook_ssl_overrides,
        None
    );
}

#[test]
fn origin_secret_header_from_late_transform() {
    let mut r = rule("t", "rewrite", r#"http.host eq "webhook.example.com""#);
    r.set_headers = vec!["x-origin-secret".into()];
    let mut inv = estate();
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_request_late_transform".into(),
            deployed(vec![r.clone()]).unwrap()
        ));
    let l = get!(linked(inv.clone()), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_secret_header, Some(true));
    r.expression = Some(r#"http.host eq "other.example.com""#.into());
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_request_late_transform".into(),
            deployed(vec![r]).unwrap()
        ));
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_secret_header, Some(false));
}

#[test]
fn pagerduty_chain_and_where_it_stops() {
    let routed = |edit_inv: &dyn Fn(&mut Inventory)| {
        let mut inv = estate();
        edit_inv(&mut inv);
        let a = get!(linked(inv), "alarm:db-cpu", Alarm);
        (
            a.pagerduty_routed,
            a.pagerduty_path.unwrap_or_default().join(" | "),
        )
    };
    let (r, p) = routed(&|inv| {
        edit!(*inv, ":sub-1", SnsSubscription, |s| s.confirmed =
            Some(false))
    });
    assert_eq!(r, Some(false));
    assert!(p.contains("pending confirmation"), "{p}");

    let (r, p) = routed(&|inv| inv.resources.retain(|x| x.kind() != "aws.sns.subscription"));
    assert_eq!(r, Some(false));
    assert!(p.contains("has no subscriptions"), "{p}");

    let (r, p) = routed(&|inv| {
        edit!(*inv, ":sub-1", SnsSubscription, |s| s.protocol =
            Some("email".into()))
    });
    assert_eq!(r, Some(false));
    assert!(p.contains("no PagerDuty subscription (email"), "{p}");

    let (r, p) = routed(&|inv| {
        edit!(*inv, "alarm:db-cpu", Alarm, |a| a.alarm_actions =
            Some(vec![]))
    });
    assert_eq!(r, Some(false));
    assert_eq!(p, "no alarm actions");

    let (r, p) = routed(&|inv| {
        inv.resources.retain(|x| !x.kind().starts_with("aws.sns."));
    });
    assert_eq!(r, None, "topic not in the inventory is unknown");
    assert!(p.contains("not in the inventory"), "{p}");

    let (r, _) = routed(&|inv| {
        edit!(*inv, "alarm:db-cpu", Alarm, |a| a.actions_enabled =
            Some(false))
    });
    assert_eq!(r, Some(false));

    let (r, _) = routed(&|inv| edit!(*inv, "alarm:db-cpu", Alarm, |a| a.alarm_actions = None));
    assert_eq!(r, None);
}

#[test]
fn scaling_alarms_by_action_target_tracking_and_cpu() {
    let mut inv = estate();
    let mut cpu = alarm(
        "TargetTracking-cpu-AlarmHigh",
        &[("ClusterName", "estate"), ("ServiceName", "worker")],
        &[&policy_arn("cpu-tt")],
    );
    if let Attrs::Alarm(a) = &mut cpu.attrs {
        a.namespace = Some("AWS/ECS".into());
        a.comparison_operator = Some("GreaterThanThreshold".into());
        a.datapoints_to_alarm = None;
    }
    inv.resources.push(cpu);
    inv.resources.push(res(
        policy_arn("cpu-tt"),
        Attrs::ScalingPolicy(ScalingPolicy {
            policy_name: Some("cpu-tt".into()),
            resource_id: Some("service/estate/worker".into()),
            policy_type: Some("TargetTrackingScaling".into()),
            alarm_names: vec!["TargetTracking-cpu-AlarmHigh".into()],
            ..Default::default()
        }),
    ));
    let inv = linked(inv);
    let s = get!(inv, "service/estate/worker", EcsService);
    let sa = s.scaling_alarms.unwrap();
    let cpu = sa.iter().find(|a| a.policy_name == "cpu-tt").unwrap();
    assert_eq!(cpu.metric_role, "cpu");
    assert_eq!(cpu.direction, "out");
    assert_eq!(cpu.window_seconds, Some(300), "60 s × 5 evaluation periods");
    assert_eq!(
        s.alarm_names,
        Some(vec!["TargetTracking-cpu-AlarmHigh".to_string()])
    );
    let a = get!(inv, "alarm:TargetTracking-cpu-AlarmHigh", Alarm);
    assert_eq!(a.watches, Some(vec![arn("ecs", "service/estate/worker")]));
}

#[test]
fn prefix_list_and_all_protocol_ingress() {
    let mut inv = estate();
    edit!(inv, "security-group/sg-redis", SecurityGroup, |g| {
        g.ingress = Some(vec![
            Permission {
                ip_protocol: Some("-1".into()),
                ipv4_ranges: vec!["10.0.1.0/24".into()],
                ..Default::default()
            },
            Permission {
                ip_protocol: Some("tcp".into()),
                prefix_list_ids: vec!["pl-1".into()],
                ..Default::default()
            },
        ])
    });
    let inv = linked(inv);
    let ing = get!(inv, "cluster:estate-redis-001", CacheCluster)
        .ingress
        .unwrap();
    assert_eq!(ing[0].protocol, "all");
    assert_eq!((ing[0].from_port, ing[0].to_port), (0, 65535));
    assert_eq!(ing[0].source_tiers, Some(vec!["compute".into()]));
    assert!(!ing[0].source_is_internet);
    assert_eq!(ing[1].source_type, "prefix_list");
    assert!(ing[1].source_is_internet);
    assert_eq!((ing[1].from_port, ing[1].to_port), (0, 65535));
}

// A measurement, not a timed test (targets live in benchmarks): run it with
// `cargo test --release --lib -- --ignored --nocapture links_eighty`.
#[test]
#[ignore = "measurement: run with --release -- --ignored"]
fn links_eighty_thousand_resources() {
    let mut inv = estate();
    let n = 16_000;
    for i in 0..n {
        let sub = format!("subnet-n{i}");
        let tier = ["public", "compute", "database"][i % 3];
        inv.resources.push(subnet(
            &sub,
            "vpc-1",
            &format!("10.{}.{}.0/24", 100 + i / 256 % 100, i % 256),
            tier,
            "eu-west-1a",
        ));
        inv.resources.push(sg(
            &format!("sg-n{i}"),
            vec![tcp(
                443,
                &["0.0.0.0/0", "10.0.0.0/8"],
                &[&format!("sg-n{}", i / 2)],
            )],
        ));
        let mut inst = res(
            arn("ec2", &format!("instance/i-n{i}")),
            Attrs::Instance(Instance {
                instance_id: Some(format!("i-n{i}")),
                subnet_id: Some(sub.clone()),
                has_public_ip: Some(i % 2 == 0),
                security_group_ids: Some(vec![format!("sg-n{i}")]),
                ..Default::default()
            }),
        );
        inst.region = Some(REGION.into());
        inv.resources.push(inst);
        inv.resources.push(res(
            arn("rds", &format!("db:db-n{i}")),
            Attrs::DbInstance(DbInstance {
                db_instance_identifier: Some(format!("db-n{i}")),
                publicly_accessible: Some(true),
                subnet_ids: Some(vec![sub.clone(), "subnet-pub".into()]),
                security_group_ids: Some(vec![format!("sg-n{i}")]),
                parameter_group_names: Some(vec!["estate-mysql".into()]),
                ..Default::default()
            }),
        ));
        inv.resources.push(alarm(
            &format!("a-n{i}"),
            &[("DBInstanceIdentifier", &format!("db-n{i}"))],
            &[&topic_arn()],
        ));
        if i % 4 == 0 {
            inv.resources.push(route_table(
                &format!("rtb-n{i}"),
                "vpc-1",
                false,
                &[&sub],
                vec![route("0.0.0.0/0", "internet_gateway", "igw-1")],
            ));
        }
    }
    assert!(inv.resources.len() >= 80_000, "{}", inv.resources.len());
    let t = std::time::Instant::now();
    link(&mut inv);
    let took = t.elapsed();
    eprintln!("linked {} resources in {took:?}", inv.resources.len());
}

#[test]
fn group_users_unread_make_source_tiers_and_components_unknown_not_short() {
    // Any kind whose resources use security groups, unread: the webhook (or another user) of
    // `sg-lambda` may be missing, so who the source is cannot be told.
    // (The instance itself is judged, so it stays; its kind is what the error names.)
    for kind in [
        kind::LAMBDA_FUNCTION,
        kind::ECS_SERVICE,
        kind::INSTANCE,
        kind::DB_INSTANCE,
        kind::CACHE_CLUSTER,
    ] {
        let mut inv = estate();
        inv.resources
            .retain(|r| r.kind() != kind || r.id.ends_with("instance/i-mq"));
        inv.collection_errors.push(error(kind));
        let inv = linked(inv);
        let ing = get!(inv, "instance/i-mq", Instance).ingress.unwrap();
        let from_lambda = ing.iter().find(|i| i.source == "sg-lambda").unwrap();
        assert_eq!(from_lambda.source_components, None, "{kind} unread");
        assert_eq!(from_lambda.source_tiers, None, "{kind} unread");
    }
    // The subnets unread: tiers unknown (of groups and CIDRs alike), components still known.
    let mut inv = estate();
    inv.resources.retain(|r| r.kind() != kind::SUBNET);
    inv.collection_errors.push(error(kind::SUBNET));
    let inv = linked(inv);
    let ing = get!(inv, "instance/i-mq", Instance).ingress.unwrap();
    let from_lambda = ing.iter().find(|i| i.source == "sg-lambda").unwrap();
    assert_eq!(from_lambda.source_tiers, None);
    assert_eq!(
        from_lambda.source_components,
        Some(vec!["webhook".to_string()])
    );
}

#[test]
fn a_user_whose_groups_are_unknown_leaves_every_group_unknown() {
    let mut inv = estate();
    for r in &mut inv.resources {
        if let Attrs::DbInstance(d) = &mut r.attrs {
            d.security_group_ids = None;
        }
    }
    let inv = linked(inv);
    let ing = get!(inv, "instance/i-mq", Instance).ingress.unwrap();
    let from_lambda = ing.iter().find(|i| i.source == "sg-lambda").unwrap();
    assert_eq!(from_lambda.source_components, None);
    assert_eq!(from_lambda.source_tiers, None);
}
