//! Ingress and reachability: security-group sources resolved to tiers and components, and the
//! internet path with its hops as evidence.

use super::*;

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
        let n = &mut i.network_interfaces.as_mut().unwrap()[0];
        n.subnet_id = Some("subnet-pub".into());
        n.ipv6_addresses = vec!["2a05:d018::10".into()];
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
            "interface eni-mq (device 0):",
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
        i.security_group_ids = Some(vec!["sg-mq".into(), "sg-gone".into()]);
        let n = &mut i.network_interfaces.as_mut().unwrap()[0];
        n.public_ips = vec!["203.0.113.7".into()];
        n.subnet_id = Some("subnet-pub".into());
        n.security_group_ids = Some(vec!["sg-mq".into(), "sg-gone".into()]);
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
