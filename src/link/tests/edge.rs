//! Ways in through load balancers: an internet-facing one forwarding to a workload makes it
//! reachable, with the chain as evidence; an internal one does not; a load balancer in front of
//! another carries its reach through; what cannot be read leaves the answer unknown.

use super::*;

const LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/edge/1";
const ALB: &str = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/inner/2";

fn balancer(arn: &str, kind: &str, scheme: &str, groups: &[&str], port: i64) -> Resource {
    res(
        arn,
        Attrs::LoadBalancer(LoadBalancer {
            load_balancer_name: Some(arn.rsplit('/').nth(1).unwrap_or("lb").into()),
            load_balancer_type: Some(kind.into()),
            scheme: Some(scheme.into()),
            vpc_id: Some("vpc-1".into()),
            state: Some("active".into()),
            subnet_ids: vec!["subnet-pub".into()],
            security_group_ids: Some(groups.iter().map(|g| g.to_string()).collect()),
            listeners: Some(vec![Listener {
                port: Some(port),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    )
}

fn group(name: &str, lb: &str, target_type: &str, target: &str, port: i64) -> Resource {
    res(
        format!("arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/{name}/9"),
        Attrs::TargetGroup(TargetGroup {
            target_group_name: Some(name.into()),
            target_type: Some(target_type.into()),
            protocol: Some("TCP".into()),
            port: Some(port),
            vpc_id: Some("vpc-1".into()),
            load_balancer_arns: vec![lb.into()],
            targets: Some(vec![LbTarget {
                id: target.into(),
                port: Some(port),
                health: Some("healthy".into()),
            }]),
        }),
    )
}

fn mq_internet(inv: Inventory) -> Option<Reachability> {
    get!(linked(inv), "instance/i-mq", Instance).internet
}

/// The queue's group also admits the public subnet's range (a load balancer's addresses).
fn mq_admits_public_subnet(mut inv: &mut Inventory) {
    edit!(inv, "security-group/sg-mq", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(5671, &["10.0.0.0/24"], &[])));
}

#[test]
fn an_internet_facing_load_balancer_forwarding_to_the_queue_is_a_way_in() {
    let mut inv = estate();
    mq_admits_public_subnet(&mut inv);
    inv.resources
        .push(balancer(LB, "network", "internet-facing", &[], 5671));
    inv.resources
        .push(group("amqp", LB, "instance", "i-mq", 5671));
    let net = mq_internet(inv).expect("known");
    assert!(net.reachable, "{net:?}");
    assert!(
        net.path[0].starts_with("load balancer edge (internet-facing, network)")
            && net.path[0].ends_with("→ target group amqp → i-mq:5671"),
        "{net:?}"
    );
}

#[test]
fn the_target_s_groups_and_the_scheme_can_close_the_way() {
    // The queue's group admits only the webhook and the processors: the balancer cannot reach it.
    let mut inv = estate();
    inv.resources
        .push(balancer(LB, "network", "internet-facing", &[], 5671));
    inv.resources
        .push(group("amqp", LB, "instance", "i-mq", 5671));
    assert!(!mq_internet(inv).unwrap().reachable);

    let mut inv = estate();
    mq_admits_public_subnet(&mut inv);
    inv.resources
        .push(balancer(LB, "network", "internal", &[], 5671));
    inv.resources
        .push(group("amqp", LB, "instance", "i-mq", 5671));
    assert!(!mq_internet(inv).unwrap().reachable, "an internal balancer");
}

#[test]
fn a_balancer_behind_a_balancer_carries_the_way_through() {
    let mut inv = estate();
    inv.resources
        .push(sg("sg-alb", vec![tcp(5671, &["10.0.0.0/24"], &[])]));
    edit!(inv, "security-group/sg-mq", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(5671, &[], &["sg-alb"])));
    inv.resources
        .push(balancer(LB, "network", "internet-facing", &[], 5671));
    inv.resources.push(group("to-alb", LB, "alb", ALB, 5671));
    inv.resources
        .push(balancer(ALB, "application", "internal", &["sg-alb"], 5671));
    inv.resources
        .push(group("amqp", ALB, "instance", "i-mq", 5671));
    let net = mq_internet(inv).expect("known");
    assert!(net.reachable, "{net:?}");
    assert!(
        net.path[0].contains("load balancer edge") && net.path[0].contains("load balancer inner"),
        "{net:?}"
    );
}

#[test]
fn unreadable_targets_or_balancers_leave_every_workload_unknown() {
    let mut inv = estate();
    inv.resources
        .push(balancer(LB, "network", "internet-facing", &[], 5671));
    let mut g = group("amqp", LB, "instance", "i-mq", 5671);
    if let Attrs::TargetGroup(t) = &mut g.attrs {
        t.targets = None;
    }
    inv.resources.push(g);
    let linked = linked(inv);
    assert_eq!(get!(linked, "instance/i-mq", Instance).internet, None);
    assert_eq!(get!(linked, "db:estate-db", DbInstance).internet, None);

    let mut inv = estate();
    inv.collection_errors.push(error(kind::LOAD_BALANCER));
    assert_eq!(mq_internet(inv), None);
}

#[test]
fn an_address_target_leads_to_the_database_that_holds_it() {
    let mut inv = estate();
    edit!(inv, "security-group/sg-db", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(3306, &["10.0.0.0/24"], &[])));
    inv.resources
        .push(balancer(LB, "network", "internet-facing", &[], 3306));
    inv.resources
        .push(group("mysql", LB, "ip", "10.0.20.10", 3306));
    let db = get!(linked(inv), "db:estate-db", DbInstance);
    let net = db.internet.unwrap();
    assert!(net.reachable, "{net:?}");
    assert!(net.path[0].ends_with("10.0.20.10:3306"), "{net:?}");
}
