//! Who uses a security group: every network interface carrying it, named as the component it
//! belongs to or as what it is, and what the "admits only" facts make of them.

use super::*;

fn mq_ingress(inv: Inventory) -> Vec<Ingress> {
    get!(linked(inv), "instance/i-mq", Instance)
        .ingress
        .expect("ingress known")
}

#[test]
fn the_compliant_queue_is_used_only_by_the_webhook_and_the_processors() {
    let ingress = mq_ingress(estate());
    let components: Vec<&Vec<String>> = ingress
        .iter()
        .map(|i| i.source_components.as_ref().unwrap())
        .collect();
    assert!(
        components
            .iter()
            .all(|c| c.iter().all(|x| x == "webhook" || x == "ecs_service")),
        "{components:?}"
    );
}

/// The interface of a bastion host in the public subnet, carrying the processors' group.
fn bastion_in_the_processors_group() -> Resource {
    interface("eni-bastion", "subnet-pub", &["sg-ecs"], "10.0.0.50", |n| {
        n.attached_instance_id = Some("i-bastion".into())
    })
}

#[test]
fn a_bastion_sharing_the_processors_group_is_named_as_itself() {
    let mut inv = estate();
    inv.resources.push(bastion_in_the_processors_group());
    let ingress = mq_ingress(inv);
    let from_ecs = ingress.iter().find(|i| i.source == "sg-ecs").unwrap();
    let users = from_ecs.source_components.as_ref().unwrap();
    assert!(
        users.iter().any(|u| u.starts_with("instance i-bastion")),
        "{users:?}"
    );
    assert!(
        from_ecs
            .source_tiers
            .as_ref()
            .unwrap()
            .contains(&"public".to_string()),
        "{from_ecs:?}"
    );
}

#[test]
fn interfaces_of_other_owners_are_kept_and_named() {
    let mut inv = estate();
    for (id, set) in [
        ("eni-lb", "ELB app/edge/0123456789abcdef"),
        ("eni-other", "something a team made"),
    ] {
        inv.resources
            .push(interface(id, "subnet-c1", &["sg-ecs"], "10.0.10.99", |n| {
                n.description = Some(set.into())
            }));
    }
    let from_ecs: Vec<String> = mq_ingress(inv)
        .into_iter()
        .find(|i| i.source == "sg-ecs")
        .and_then(|i| i.source_components)
        .unwrap();
    assert!(
        from_ecs
            .iter()
            .any(|u| u == "load balancer app/edge/0123456789abcdef"),
        "{from_ecs:?}"
    );
    assert!(
        from_ecs
            .iter()
            .any(|u| u.contains("eni-other") && u.contains("something a team made")),
        "{from_ecs:?}"
    );
}

#[test]
fn a_second_function_sharing_the_webhook_s_interface_is_named() {
    let mut inv = estate();
    inv.resources.push(res(
        arn("lambda", "function:other"),
        Attrs::LambdaFunction(LambdaFunction {
            function_name: Some("other".into()),
            vpc_config: Some(LambdaVpcConfig {
                subnet_ids: vec!["subnet-c1".into(), "subnet-c2".into()],
                security_group_ids: vec!["sg-lambda".into()],
            }),
            function_urls: Some(vec![]),
            ..Default::default()
        }),
    ));
    let from_lambda: Vec<String> = mq_ingress(inv)
        .into_iter()
        .find(|i| i.source == "sg-lambda")
        .and_then(|i| i.source_components)
        .unwrap();
    assert!(
        from_lambda.iter().any(|u| u.contains("lambda other")),
        "{from_lambda:?}"
    );
}

#[test]
fn users_are_unknown_when_the_interfaces_could_not_be_read() {
    let mut inv = estate();
    inv.collection_errors.push(error(kind::NETWORK_INTERFACE));
    assert!(mq_ingress(inv)
        .iter()
        .all(|i| i.source_components.is_none()));

    // An inventory with workloads and not one interface was collected without them.
    let mut inv = estate();
    inv.resources
        .retain(|r| r.kind() != kind::NETWORK_INTERFACE);
    assert!(mq_ingress(inv)
        .iter()
        .all(|i| i.source_components.is_none()));
}

#[test]
fn an_instance_is_as_exposed_as_its_most_exposed_interface() {
    let mut inv = estate();
    // A second interface in the public subnet, with an Elastic IP, admitting AMQP from anywhere.
    inv.resources
        .push(sg("sg-open", vec![tcp(5671, &["0.0.0.0/0"], &[])]));
    edit!(inv, "instance/i-mq", Instance, |i| i
        .network_interfaces
        .as_mut()
        .unwrap()
        .push(InstanceInterface {
            network_interface_id: Some("eni-mq2".into()),
            subnet_id: Some("subnet-pub".into()),
            device_index: Some(1),
            private_ip_addresses: vec!["10.0.0.9".into()],
            public_ips: vec!["203.0.113.9".into()],
            security_group_ids: Some(vec!["sg-open".into()]),
            ..Default::default()
        }));
    let i = get!(linked(inv), "instance/i-mq", Instance);
    let internet = i.internet.unwrap();
    assert!(internet.reachable, "{internet:?}");
    assert!(internet.path[0].contains("eni-mq2"), "{internet:?}");
    let tiers: Vec<Option<Tier>> = i
        .network_interfaces
        .unwrap()
        .iter()
        .map(|n| n.subnet_tier)
        .collect();
    assert_eq!(tiers, vec![Some(Tier::Compute), Some(Tier::Public)]);

    let mut inv = estate();
    edit!(inv, "instance/i-mq", Instance, |i| i.network_interfaces =
        None);
    let i = get!(linked(inv), "instance/i-mq", Instance);
    assert_eq!(i.internet, None, "interfaces unread: exposure unknown");
}

#[test]
fn the_ways_in_beyond_what_the_spec_admits_are_said_in_words() {
    // The compliant estate: nothing beyond the broker's clients, nothing beyond compute.
    let inv = linked(estate());
    let mq = get!(inv, "instance/i-mq", Instance);
    assert_eq!(mq.ingress_beyond_clients, Some(vec![]));
    let db = get!(inv, "db:estate-db", DbInstance);
    assert_eq!(db.ingress_beyond_compute, Some(vec![]));
    let cache = get!(inv, "cluster:estate-redis-001", CacheCluster);
    assert_eq!(cache.ingress_beyond_compute, Some(vec![]));

    // The internet on the database, a VPC range on the broker, a bastion in the processors'
    // group: each named with its source, who that is, and the group admitting it.
    let mut inv = estate();
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| {
        g.ingress
            .as_mut()
            .unwrap()
            .push(tcp(3306, &["0.0.0.0/0"], &[]))
    });
    edit!(inv, "security-group/sg-mq", SecurityGroup, |g| {
        g.ingress.as_mut().unwrap().push(Permission {
            from_port: Some(5670),
            to_port: Some(5680),
            ..tcp(0, &["10.0.0.0/16"], &[])
        })
    });
    inv.resources.push(bastion_in_the_processors_group());
    let inv = linked(inv);
    let db = get!(inv, "db:estate-db", DbInstance);
    let beyond = db.ingress_beyond_compute.expect("known");
    assert!(
        beyond.contains(&"tcp 3306 from 0.0.0.0/0 (the internet) by sg-db".to_string()),
        "{beyond:?}"
    );
    assert!(
        beyond
            .iter()
            .any(|b| b.starts_with("tcp 3306 from sg-ecs (ecs_service, instance i-bastion")),
        "{beyond:?}"
    );
    let mq = get!(inv, "instance/i-mq", Instance);
    let beyond = mq.ingress_beyond_clients.expect("known");
    assert!(
        beyond
            .iter()
            .any(|b| b.starts_with("tcp 5670-5680 from 10.0.0.0/16 (tiers ")
                && b.ends_with(") by sg-mq")),
        "{beyond:?}"
    );
    // The webhook's own group is one of the broker's clients: not listed.
    assert!(
        !beyond.iter().any(|b| b.contains("sg-lambda")),
        "{beyond:?}"
    );

    // Whose the groups are, unknown: so is what lies beyond.
    let mut inv = estate();
    inv.collection_errors.push(error(kind::NETWORK_INTERFACE));
    let inv = linked(inv);
    assert_eq!(
        get!(inv, "instance/i-mq", Instance).ingress_beyond_clients,
        None
    );
    // The database's sources' tiers are unknown with them.
    assert_eq!(
        get!(inv, "db:estate-db", DbInstance).ingress_beyond_compute,
        None
    );
}
