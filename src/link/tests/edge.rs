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

/// An HTTP API whose private integration goes through VPC link `vl-1` (group `sg-link`) to `lb`.
fn http_api_into(lb: Option<&str>, endpoint_off: bool) -> Resource {
    res(
        "arn:aws:apigateway:eu-west-1::/apis/api1",
        Attrs::HttpApi(HttpApi {
            api_id: Some("api1".into()),
            protocol_type: Some("HTTP".into()),
            api_endpoint: Some("https://api1.execute-api.eu-west-1.amazonaws.com".into()),
            disable_execute_api_endpoint: Some(endpoint_off),
            custom_domains: Some(Vec::new()),
            integrations: Some(vec![ApiIntegration {
                route: Some("ANY /{proxy+}".into()),
                integration_type: Some("HTTP_PROXY".into()),
                connection_type: Some("VPC_LINK".into()),
                vpc_link: Some(VpcLink {
                    id: Some("vl-1".into()),
                    load_balancer_arns: lb.map(|l| vec![l.to_string()]),
                    security_group_ids: Some(vec!["sg-link".into()]),
                    subnet_ids: vec!["subnet-app".into()],
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    )
}

#[test]
fn an_api_s_private_integration_is_a_way_into_an_internal_balancer() {
    // The queue admits the VPC link's group; the internal network load balancer between them
    // has no group and filters nothing.
    let build = |endpoint_off: bool| {
        let mut inv = estate();
        edit!(inv, "security-group/sg-mq", SecurityGroup, |g| g
            .ingress
            .as_mut()
            .unwrap()
            .push(tcp(5671, &[], &["sg-link"])));
        inv.resources
            .push(balancer(LB, "network", "internal", &[], 5671));
        inv.resources
            .push(group("amqp", LB, "instance", "i-mq", 5671));
        inv.resources.push(http_api_into(Some(LB), endpoint_off));
        inv
    };
    let net = mq_internet(build(false)).expect("known");
    assert!(net.reachable, "{net:?}");
    assert!(
        net.path[0].starts_with("HTTP API api1 (default endpoint https://api1")
            && net.path[0].contains("→ VPC link vl-1 → load balancer edge (internal, network)"),
        "{net:?}"
    );
    // The default endpoint off and no custom domain: nobody outside calls the API.
    assert!(!mq_internet(build(true)).unwrap().reachable);
}

#[test]
fn a_balancer_with_groups_hides_what_sends_into_it() {
    // Behind an application load balancer (its own group), the queue sees the balancer, not
    // the VPC link: admitting the link's group lets nothing through.
    let mut inv = estate();
    edit!(inv, "security-group/sg-mq", SecurityGroup, |g| g
        .ingress
        .as_mut()
        .unwrap()
        .push(tcp(5671, &[], &["sg-link"])));
    inv.resources
        .push(balancer(ALB, "application", "internal", &["sg-alb"], 5671));
    inv.resources
        .push(group("amqp", ALB, "instance", "i-mq", 5671));
    inv.resources.push(http_api_into(Some(ALB), false));
    assert!(!mq_internet(inv).unwrap().reachable);
}

#[test]
fn a_private_integration_of_unknown_end_or_an_unread_api_leaves_the_ways_unknown() {
    let mut inv = estate();
    inv.resources.push(http_api_into(None, false));
    assert_eq!(mq_internet(inv), None);

    let mut inv = estate();
    inv.collection_errors.push(error(kind::HTTP_API));
    assert_eq!(mq_internet(inv), None);
}
