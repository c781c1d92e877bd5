//! The edge collectors: network interfaces (every address, however assigned, and who asked for
//! them), Elastic Load Balancing (load balancers, listeners, target groups and their targets) and
//! API Gateway (the function an integration invokes), from the SDK's own builders and mocks.

use super::*;

#[test]
fn a_network_interface_keeps_every_address_and_its_owner() {
    use aws_sdk_ec2::types::*;
    let eip = |ip: &str| NetworkInterfaceAssociation::builder().public_ip(ip).build();
    let n = NetworkInterface::builder()
        .network_interface_id("eni-1")
        .vpc_id("vpc-1")
        .subnet_id("subnet-1")
        .interface_type(NetworkInterfaceType::Interface)
        .requester_id("578734482556")
        .requester_managed(true)
        .description("arn:aws:ecs:eu-west-1:111122223333:attachment/abc")
        .status(NetworkInterfaceStatus::InUse)
        .attachment(
            NetworkInterfaceAttachment::builder()
                .instance_id("i-1")
                .build(),
        )
        .association(eip("198.51.100.1"))
        .private_ip_addresses(
            NetworkInterfacePrivateIpAddress::builder()
                .private_ip_address("10.0.1.5")
                .association(eip("198.51.100.1"))
                .build(),
        )
        .private_ip_addresses(
            // A secondary address with an Elastic IP of its own.
            NetworkInterfacePrivateIpAddress::builder()
                .private_ip_address("10.0.1.6")
                .association(eip("203.0.113.7"))
                .build(),
        )
        .ipv6_addresses(
            NetworkInterfaceIpv6Address::builder()
                .ipv6_address("2001:db8::5")
                .build(),
        )
        .groups(GroupIdentifier::builder().group_id("sg-1").build())
        .build();
    let r = ec2::normalize_network_interface(&ctx(), &n).expect("interface");
    assert_eq!(
        r.id,
        "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-1"
    );
    let Attrs::NetworkInterface(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.private_ip_addresses, ["10.0.1.5", "10.0.1.6"]);
    assert_eq!(a.public_ips, ["198.51.100.1", "203.0.113.7"]);
    assert_eq!(a.ipv6_addresses, ["2001:db8::5"]);
    assert_eq!(a.attached_instance_id.as_deref(), Some("i-1"));
    assert_eq!(a.requester_id.as_deref(), Some("578734482556"));
    assert_eq!(a.security_group_ids, Some(vec!["sg-1".to_string()]));

    // No group list in the answer: unknown, never "no groups".
    let bare = NetworkInterface::builder()
        .network_interface_id("eni-2")
        .build();
    let Attrs::NetworkInterface(b) = ec2::normalize_network_interface(&ctx(), &bare)
        .expect("interface")
        .attrs
    else {
        panic!()
    };
    assert_eq!(b.security_group_ids, None);
}

#[test]
fn an_instance_lists_every_interface_the_primary_first() {
    use aws_sdk_ec2::types::*;
    let iface = |id: &str, index: i32, subnet: &str, public: Option<&str>| {
        let mut b = InstanceNetworkInterface::builder()
            .network_interface_id(id)
            .subnet_id(subnet)
            .attachment(
                InstanceNetworkInterfaceAttachment::builder()
                    .device_index(index)
                    .build(),
            )
            .private_ip_addresses(
                InstancePrivateIpAddress::builder()
                    .private_ip_address(format!("10.0.{index}.9"))
                    .set_association(public.map(|p| {
                        InstanceNetworkInterfaceAssociation::builder()
                            .public_ip(p)
                            .build()
                    }))
                    .build(),
            )
            .groups(GroupIdentifier::builder().group_id("sg-mq").build());
        if let Some(p) = public {
            b = b.association(
                InstanceNetworkInterfaceAssociation::builder()
                    .public_ip(p)
                    .build(),
            );
        }
        b.build()
    };
    let i = Instance::builder()
        .instance_id("i-1")
        .subnet_id("subnet-private")
        .network_interfaces(iface("eni-b", 1, "subnet-public", Some("34.250.1.2")))
        .network_interfaces(iface("eni-a", 0, "subnet-private", None))
        .build();
    let Attrs::Instance(a) = ec2::normalize_instance(&ctx(), &i).expect("instance").attrs else {
        panic!()
    };
    let ifs = a.network_interfaces.expect("interfaces");
    assert_eq!(ifs.len(), 2);
    assert_eq!(ifs[0].network_interface_id.as_deref(), Some("eni-a"));
    assert!(ifs[0].public_ips.is_empty());
    assert_eq!(ifs[1].subnet_id.as_deref(), Some("subnet-public"));
    assert_eq!(ifs[1].public_ips, ["34.250.1.2"]);

    // An instance answer without its interfaces (cut off): unknown, never "none".
    let bare = Instance::builder().instance_id("i-2").build();
    let Attrs::Instance(b) = ec2::normalize_instance(&ctx(), &bare)
        .expect("instance")
        .attrs
    else {
        panic!()
    };
    assert_eq!(b.network_interfaces, None);
}

#[test]
fn load_balancers_listeners_target_groups_and_targets() {
    use aws_sdk_elasticloadbalancingv2::types::*;
    let lb = LoadBalancer::builder()
        .load_balancer_arn("arn:lb")
        .load_balancer_name("edge")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .vpc_id("vpc-1")
        .availability_zones(AvailabilityZone::builder().subnet_id("subnet-pub").build())
        .build();
    let r = elb::normalize_load_balancer(&ctx(), &lb).expect("lb");
    let Attrs::LoadBalancer(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.scheme.as_deref(), Some("internet-facing"));
    assert_eq!(a.load_balancer_type.as_deref(), Some("network"));
    assert_eq!(a.subnet_ids, ["subnet-pub"]);
    assert_eq!(
        a.security_group_ids,
        Some(vec![]),
        "no groups: filters nothing"
    );
    assert_eq!(a.listeners, None, "unknown until read");

    let l = Listener::builder()
        .port(5671)
        .protocol(ProtocolEnum::Tls)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .forward_config(
                    ForwardActionConfig::builder()
                        .target_groups(
                            TargetGroupTuple::builder()
                                .target_group_arn("arn:tg-b")
                                .build(),
                        )
                        .target_groups(
                            TargetGroupTuple::builder()
                                .target_group_arn("arn:tg-a")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build();
    let l = elb::normalize_listener(&l);
    assert_eq!((l.port, l.protocol.as_deref()), (Some(5671), Some("TLS")));
    assert_eq!(
        l.default_actions[0].target_group_arns,
        ["arn:tg-a", "arn:tg-b"]
    );

    let t = TargetHealthDescription::builder()
        .target(
            TargetDescription::builder()
                .id("10.0.2.7")
                .port(3306)
                .build(),
        )
        .target_health(
            TargetHealth::builder()
                .state(TargetHealthStateEnum::Healthy)
                .build(),
        )
        .build();
    let t = elb::normalize_target(&t).expect("target");
    assert_eq!(
        (t.id.as_str(), t.port, t.health.as_deref()),
        ("10.0.2.7", Some(3306), Some("healthy"))
    );
}

#[tokio::test]
async fn a_target_group_whose_targets_are_refused_keeps_them_unknown() {
    use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthError;
    use aws_sdk_elasticloadbalancingv2::types::TargetGroup;
    let guard = ReadOnlyGuard::new();
    let lbs = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
        .then_output(|| DescribeLoadBalancersOutput::builder().build());
    let groups =
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups).then_output(|| {
            DescribeTargetGroupsOutput::builder()
                .target_groups(
                    TargetGroup::builder()
                        .target_group_arn("arn:tg")
                        .target_group_name("amqp")
                        .vpc_id("vpc-1")
                        .build(),
                )
                .build()
        });
    let denied =
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health).then_error(|| {
            DescribeTargetHealthError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("not authorized")
                    .build(),
            )
        });
    let v2 = mocked!(
        aws_sdk_elasticloadbalancingv2,
        guard,
        [&lbs, &groups, &denied]
    );
    let classic_lbs = mock!(aws_sdk_elasticloadbalancing::Client::describe_load_balancers)
        .then_output(|| {
            aws_sdk_elasticloadbalancing::operation::describe_load_balancers::DescribeLoadBalancersOutput::builder()
                .build()
        });
    let classic = mocked!(aws_sdk_elasticloadbalancing, guard, [&classic_lbs]);
    let part = elb::collect(&v2, &classic, &ctx()).await;
    let tg = part
        .resources
        .iter()
        .find_map(|r| match &r.attrs {
            Attrs::TargetGroup(t) => Some(t),
            _ => None,
        })
        .expect("the group is kept");
    assert_eq!(tg.targets, None);
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert!(part.errors[0]
        .message
        .contains("elasticloadbalancing:DescribeTargetHealth"));
}

#[test]
fn an_integration_uri_names_the_function_it_invokes() {
    use apigateway::function_of_uri;
    let f = "arn:aws:lambda:eu-west-1:111122223333:function:webhook";
    assert_eq!(
        function_of_uri(&format!(
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{f}/invocations"
        ))
        .as_deref(),
        Some(f)
    );
    assert_eq!(
        function_of_uri(&format!(
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{f}:live/invocations"
        ))
        .as_deref(),
        Some(format!("{f}:live").as_str())
    );
    assert_eq!(
        function_of_uri(f).as_deref(),
        Some(f),
        "HTTP APIs take the ARN"
    );
    assert_eq!(function_of_uri("https://backend.example.com/hook"), None);
}

#[test]
fn a_rest_api_keeps_its_policy_or_says_it_is_unreadable() {
    use aws_sdk_apigateway::types::*;
    let api = |policy: Option<&str>| {
        let mut b = RestApi::builder()
            .id("abc")
            .name("webhook")
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Regional)
                    .build(),
            );
        if let Some(p) = policy {
            b = b.policy(p);
        }
        b.build()
    };
    let attrs = |r: crate::model::Resource| match r.attrs {
        Attrs::RestApi(a) => a,
        _ => panic!(),
    };
    let escaped = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"*\"}]}"#;
    let a = attrs(apigateway::normalize_rest_api(&ctx(), &api(Some(escaped))).unwrap());
    assert_eq!(a.endpoint_types, ["REGIONAL"]);
    assert_eq!(a.disable_execute_api_endpoint, Some(false));
    let p = a.policy_statements.expect("read");
    assert_eq!(p[0].actions, ["execute-api:Invoke"]);
    let none = attrs(apigateway::normalize_rest_api(&ctx(), &api(None)).unwrap());
    assert_eq!(none.policy_statements, Some(vec![]), "no policy is a value");
    let bad = attrs(apigateway::normalize_rest_api(&ctx(), &api(Some("{not json"))).unwrap());
    assert_eq!(bad.policy_statements, None, "unreadable stays unknown");
}

#[test]
fn a_listener_arn_names_its_load_balancer() {
    use apigateway::load_balancer_of;
    let lb = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/inside/0123";
    assert_eq!(
        load_balancer_of(
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/net/inside/0123/4567"
        )
        .as_deref(),
        Some(lb)
    );
    assert_eq!(load_balancer_of(lb).as_deref(), Some(lb));
    assert_eq!(
        load_balancer_of("arn:aws:servicediscovery:eu-west-1:111122223333:service/srv-1"),
        None,
        "a Cloud Map service is no load balancer"
    );
    assert_eq!(load_balancer_of("${stageVariables.target}"), None);
}

/// Two APIs, each with one private integration: a REST API `r1` through VPC link `rl-1` and an
/// HTTP API `h1` through `hl-1` to a listener; `v1_links` answers GetVpcLinks of API Gateway
/// (REST) or refuses it. API Gateway's custom domain `hooks.example.com` serves `r1`, v2's
/// `mgmt.example.com` serves `h1`, unless `domains` is false: then GetDomainNames is refused.
async fn private_integrations(v1_links: bool, domains: bool) -> Part {
    use aws_sdk_apigateway::operation::get_resources::GetResourcesOutput;
    use aws_sdk_apigateway::operation::get_rest_apis::GetRestApisOutput;
    use aws_sdk_apigateway::operation::get_vpc_links::{GetVpcLinksError, GetVpcLinksOutput};
    use aws_sdk_apigatewayv2::operation::get_apis::GetApisOutput;
    use aws_sdk_apigatewayv2::operation::get_integrations::GetIntegrationsOutput;
    use aws_sdk_apigatewayv2::operation::get_vpc_links::GetVpcLinksOutput as V2Links;
    let guard = ReadOnlyGuard::new();
    let rest = mock!(aws_sdk_apigateway::Client::get_rest_apis).then_output(|| {
        GetRestApisOutput::builder()
            .items(
                aws_sdk_apigateway::types::RestApi::builder()
                    .id("r1")
                    .build(),
            )
            .build()
    });
    let resources = mock!(aws_sdk_apigateway::Client::get_resources).then_output(|| {
        use aws_sdk_apigateway::types::*;
        let method = Method::builder()
            .method_integration(
                Integration::builder()
                    .r#type(IntegrationType::HttpProxy)
                    .uri("http://inside.internal/")
                    .connection_type(ConnectionType::VpcLink)
                    .connection_id("rl-1")
                    .build(),
            )
            .build();
        GetResourcesOutput::builder()
            .items(
                Resource::builder()
                    .path("/publish")
                    .resource_methods("POST", method)
                    .build(),
            )
            .build()
    });
    let links = if v1_links {
        mock!(aws_sdk_apigateway::Client::get_vpc_links).then_output(|| {
            GetVpcLinksOutput::builder()
                .items(
                    aws_sdk_apigateway::types::VpcLink::builder()
                        .id("rl-1")
                        .target_arns(
                            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/inside/1",
                        )
                        .build(),
                )
                .build()
        })
    } else {
        mock!(aws_sdk_apigateway::Client::get_vpc_links).then_error(|| {
            GetVpcLinksError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized")
                    .build(),
            )
        })
    };
    let v1_domains = if domains {
        mock!(aws_sdk_apigateway::Client::get_domain_names).then_output(|| {
            aws_sdk_apigateway::operation::get_domain_names::GetDomainNamesOutput::builder()
                .items(
                    aws_sdk_apigateway::types::DomainName::builder()
                        .domain_name("hooks.example.com")
                        .build(),
                )
                .build()
        })
    } else {
        mock!(aws_sdk_apigateway::Client::get_domain_names).then_error(|| {
            aws_sdk_apigateway::operation::get_domain_names::GetDomainNamesError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized")
                    .build(),
            )
        })
    };
    let v1_mappings = mock!(aws_sdk_apigateway::Client::get_base_path_mappings).then_output(|| {
        aws_sdk_apigateway::operation::get_base_path_mappings::GetBasePathMappingsOutput::builder()
            .items(
                aws_sdk_apigateway::types::BasePathMapping::builder()
                    .base_path("(none)")
                    .rest_api_id("r1")
                    .stage("live")
                    .build(),
            )
            .build()
    });
    let v1 = mocked!(
        aws_sdk_apigateway,
        guard,
        [&rest, &resources, &links, &v1_domains, &v1_mappings]
    );
    let apis = mock!(aws_sdk_apigatewayv2::Client::get_apis).then_output(|| {
        GetApisOutput::builder()
            .items(
                aws_sdk_apigatewayv2::types::Api::builder()
                    .api_id("h1")
                    .name("management")
                    .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
                    .route_selection_expression("$request.method $request.path")
                    .build(),
            )
            .build()
    });
    let integrations = mock!(aws_sdk_apigatewayv2::Client::get_integrations).then_output(|| {
        use aws_sdk_apigatewayv2::types::*;
        GetIntegrationsOutput::builder()
            .items(
                Integration::builder()
                    .integration_type(IntegrationType::HttpProxy)
                    .connection_type(ConnectionType::VpcLink)
                    .connection_id("hl-1")
                    .integration_uri(
                        "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/inner/2/3",
                    )
                    .build(),
            )
            .build()
    });
    let v2_links = mock!(aws_sdk_apigatewayv2::Client::get_vpc_links).then_output(|| {
        V2Links::builder()
            .items(
                aws_sdk_apigatewayv2::types::VpcLink::builder()
                    .vpc_link_id("hl-1")
                    .name("link")
                    .security_group_ids("sg-link")
                    .subnet_ids("subnet-app")
                    .build(),
            )
            .build()
    });
    let v2_domains = mock!(aws_sdk_apigatewayv2::Client::get_domain_names).then_output(|| {
        aws_sdk_apigatewayv2::operation::get_domain_names::GetDomainNamesOutput::builder()
            .items(
                aws_sdk_apigatewayv2::types::DomainName::builder()
                    .domain_name("mgmt.example.com")
                    .build(),
            )
            .build()
    });
    let v2_mappings = mock!(aws_sdk_apigatewayv2::Client::get_api_mappings).then_output(|| {
        aws_sdk_apigatewayv2::operation::get_api_mappings::GetApiMappingsOutput::builder()
            .items(
                aws_sdk_apigatewayv2::types::ApiMapping::builder()
                    .api_id("h1")
                    .stage("$default")
                    .build(),
            )
            .build()
    });
    let v2 = mocked!(
        aws_sdk_apigatewayv2,
        guard,
        [&apis, &integrations, &v2_links, &v2_domains, &v2_mappings]
    );
    apigateway::collect(&v1, &v2, &ctx()).await
}

fn links_of(part: &Part) -> Vec<crate::model::VpcLink> {
    part.resources
        .iter()
        .flat_map(|r| match &r.attrs {
            Attrs::RestApi(a) => a.integrations.clone().unwrap_or_default(),
            Attrs::HttpApi(a) => a.integrations.clone().unwrap_or_default(),
            _ => Vec::new(),
        })
        .filter_map(|i| i.vpc_link)
        .collect()
}

#[tokio::test]
async fn a_private_integration_is_followed_through_its_vpc_link() {
    let part = private_integrations(true, true).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let links = links_of(&part);
    assert_eq!(links.len(), 2, "{links:?}");
    let rest = links
        .iter()
        .find(|l| l.id.as_deref() == Some("rl-1"))
        .unwrap();
    assert_eq!(
        rest.load_balancer_arns,
        Some(vec![
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/inside/1".into()
        ])
    );
    assert_eq!(rest.security_group_ids, Some(Vec::new()));
    let http = links
        .iter()
        .find(|l| l.id.as_deref() == Some("hl-1"))
        .unwrap();
    assert_eq!(
        http.load_balancer_arns,
        Some(vec![
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/inner/2".into()
        ])
    );
    assert_eq!(http.security_group_ids, Some(vec!["sg-link".to_string()]));
    assert_eq!(http.subnet_ids, vec!["subnet-app".to_string()]);
}

#[tokio::test]
async fn a_refused_vpc_link_listing_leaves_where_the_integration_goes_unknown() {
    let part = private_integrations(false, true).await;
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(
        part.errors[0].kinds,
        vec![crate::model::kind::REST_API.to_string()]
    );
    let links = links_of(&part);
    let rest = links
        .iter()
        .find(|l| l.id.as_deref() == Some("rl-1"))
        .unwrap();
    assert_eq!(rest.load_balancer_arns, None);
}

fn domains_of(part: &Part) -> Vec<(String, Option<Vec<String>>)> {
    let mut out: Vec<_> = part
        .resources
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::RestApi(a) => Some((a.api_id.clone()?, a.custom_domains.clone())),
            Attrs::HttpApi(a) => Some((a.api_id.clone()?, a.custom_domains.clone())),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn every_api_knows_the_custom_domains_that_serve_it() {
    let part = private_integrations(true, true).await;
    assert_eq!(
        domains_of(&part),
        vec![
            ("h1".into(), Some(vec!["mgmt.example.com".into()])),
            ("r1".into(), Some(vec!["hooks.example.com".into()])),
        ]
    );
}

#[tokio::test]
async fn a_refused_domain_listing_leaves_every_api_s_domains_unknown() {
    let part = private_integrations(true, false).await;
    assert_eq!(
        domains_of(&part),
        vec![("h1".into(), None), ("r1".into(), None)]
    );
    assert!(
        part.errors
            .iter()
            .any(|e| e.message.contains("GetDomainNames")),
        "{:?}",
        part.errors
    );
}
