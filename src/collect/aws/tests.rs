//! Unit tests of the AWS collector: every `normalize_*` field by field from the SDK's own
//! builders, policy parsing and endpoint redaction, and the error paths (access denied,
//! throttling after retries, HTML from an endpoint that lacks the call, pagination across pages,
//! the read-only guard) through `aws-smithy-mocks`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, RuleMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;

use super::*;
use crate::model::{Attrs, EcsNetworkConfiguration, ErrorKind, LambdaVpcConfig};

fn ctx() -> Ctx {
    Ctx {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        estate: EstateConfig::default(),
        estate_vpc: None,
        estate_subnets: None,
        attempts: 2,
    }
}

/// A client of one service answering from mock rules, with a quick retry so throttling tests
/// do not sleep.
macro_rules! mocked {
    ($krate:ident, $guard:expr, $rules:expr) => {{
        let mut i = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for r in $rules {
            i = i.with_rule(r);
        }
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version($krate::config::BehaviorVersion::latest())
                .region($krate::config::Region::new("eu-west-1"))
                .credentials_provider($krate::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client(create_mock_http_client())
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                )
                .interceptor($guard.clone())
                .interceptor(i)
                .build(),
        )
    }};
}

fn http(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        SdkBody::from(body),
    )
}

const QUERY_ACCESS_DENIED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
<Message>User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: rds:DescribeDBInstances</Message>\
</Error><RequestId>r1</RequestId></ErrorResponse>";
const EC2_THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r2</RequestID></Response>";

// ------------------------------------------------------------------------------------------
// Error paths

#[tokio::test]
async fn access_denied_becomes_a_collection_error_for_the_service_kinds() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_rds::Client::describe_db_instances)
        .then_http_response(|| http(403, QUERY_ACCESS_DENIED));
    let client = mocked!(aws_sdk_rds, guard, [&rule]);
    let part = rds::collect(&client, &ctx()).await;
    assert!(part.resources.is_empty());
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    let e = &part.errors[0];
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert_eq!(e.provider, "aws");
    assert_eq!(e.service, "rds");
    assert!(e.kinds.contains(&"aws.rds.db_instance".to_string()));
    assert!(e.message.contains("DescribeDBInstances"), "{}", e.message);
    assert!(e.message.contains("not authorized"), "{}", e.message);
    assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    assert_eq!(guard.calls(), vec!["RDS:DescribeDBInstances".to_string()]);
}

#[tokio::test]
async fn throttling_is_retried_then_reported_as_throttled() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .times(5)
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert_eq!(rule.num_calls(), 3, "three attempts: the retry policy ran");
    assert_eq!(part.errors.len(), 1);
    assert_eq!(part.errors[0].kind, ErrorKind::Throttled);
    assert!(part.errors[0].message.contains("RequestLimitExceeded"));
    assert_eq!(part.errors[0].kinds, vec!["aws.ec2.vpc".to_string()]);
}

#[tokio::test]
async fn throttling_then_success_recovers() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .output(|| {
            aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder()
                .vpcs(aws_sdk_ec2::types::Vpc::builder().vpc_id("vpc-1").build())
                .build()
        })
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    assert_eq!(part.resources.len(), 1);
}

#[tokio::test]
async fn an_html_page_means_the_endpoint_lacks_the_call() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_sns::Client::list_topics).then_http_response(|| {
        http(
            500,
            "<!doctype html><html><title>500 Internal Server Error</title></html>",
        )
    });
    let subs = mock!(aws_sdk_sns::Client::list_subscriptions).then_output(|| {
        aws_sdk_sns::operation::list_subscriptions::ListSubscriptionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_sns, guard, [&rule, &subs]);
    let part = sns::collect(&client, &ctx()).await;
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::Unsupported);
    assert!(part.errors[0].message.contains("ListTopics"));
}

#[tokio::test]
async fn pagination_reads_every_page() {
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::types::Vpc as SdkVpc;
    let guard = ReadOnlyGuard::new();
    let first = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-1").build())
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-2").build())
                .next_token("page-3")
                .build()
        });
    let third = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("page-3"))
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-3").build())
                .build()
        });
    let client = mocked!(aws_sdk_ec2, guard, [&first, &second, &third]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    let ids: Vec<&str> = part.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-2",
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-3"
        ]
    );
    assert_eq!(guard.calls().len(), 3);
}

#[tokio::test]
async fn ecs_services_are_described_ten_at_a_time() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
    use aws_sdk_ecs::operation::list_services::ListServicesOutput;
    let guard = ReadOnlyGuard::new();
    let arns: Vec<String> = (0..23)
        .map(|i| format!("arn:aws:ecs:eu-west-1:111122223333:service/estate/s{i}"))
        .collect();
    let listed = arns.clone();
    let clusters = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .cluster_arns("arn:aws:ecs:eu-west-1:111122223333:cluster/estate")
            .build()
    });
    let describe_clusters = mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
        aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput::builder().build()
    });
    let services = mock!(aws_sdk_ecs::Client::list_services).then_output(move || {
        ListServicesOutput::builder()
            .set_service_arns(Some(listed.clone()))
            .build()
    });
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.services().len() <= 10)
        .then_compute_output(|r| {
            DescribeServicesOutput::builder()
                .set_services(Some(
                    r.services()
                        .iter()
                        .map(|a| {
                            aws_sdk_ecs::types::Service::builder()
                                .service_arn(a)
                                .service_name(a.rsplit('/').next().unwrap_or(""))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
    let client = mocked!(
        aws_sdk_ecs,
        guard,
        [&clusters, &describe_clusters, &services, &describe]
    );
    let part = ecs::collect(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    assert_eq!(part.resources.len(), 23);
    assert_eq!(describe.num_calls(), 3, "23 services: 10 + 10 + 3");
}

#[tokio::test]
async fn the_guard_refuses_anything_but_reads() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::create_vpc)
        .then_output(|| aws_sdk_ec2::operation::create_vpc::CreateVpcOutput::builder().build());
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let err = client
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect_err("refused");
    assert!(
        format!("{}", DisplayErrorContext(&err)).contains("read-only"),
        "{}",
        DisplayErrorContext(&err)
    );
    // Refused while the request was being built: it was never signed nor sent.
    assert!(
        matches!(err, SdkError::ConstructionFailure(_)),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(guard.calls(), vec!["EC2:CreateVpc".to_string()]);
}

#[test]
fn read_only_names() {
    for ok in [
        "DescribeVpcs",
        "ListFunctions",
        "GetPolicy",
        "GetCallerIdentity",
    ] {
        assert!(is_read_only(ok), "{ok}");
    }
    for bad in [
        "CreateVpc",
        "PutMetricAlarm",
        "Getaway",
        "Delete",
        "ListenUp",
        "Describe",
    ] {
        assert!(!is_read_only(bad), "{bad}");
    }
}

#[tokio::test]
async fn no_region_is_a_collection_error_not_a_panic() {
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let guard = ReadOnlyGuard::new();
    let clients = Clients::new(&sdk, &guard);
    let out = collect_with(&clients, &guard, None, &EstateConfig::default(), Some(&sdk)).await;
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("no AWS region"));
    assert!(out.errors[0].kinds.contains(&"aws.ec2.vpc".to_string()));
    assert!(guard.calls().is_empty());
}

// ------------------------------------------------------------------------------------------
// Normalizers

#[test]
fn vpc_and_subnet() {
    use aws_sdk_ec2::types::*;
    let v = Vpc::builder()
        .vpc_id("vpc-1")
        .cidr_block("10.0.0.0/16")
        .is_default(false)
        .state(VpcState::Available)
        .ipv6_cidr_block_association_set(
            VpcIpv6CidrBlockAssociation::builder()
                .ipv6_cidr_block("2001:db8::/56")
                .build(),
        )
        .tags(Tag::builder().key("Name").value("estate").build())
        .build();
    let r = ec2::normalize_vpc(&ctx(), &v).expect("vpc");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1");
    assert_eq!(r.account.as_deref(), Some("111122223333"));
    assert_eq!(r.tags.get("Name").map(String::as_str), Some("estate"));
    let Attrs::Vpc(a) = &r.attrs else { panic!() };
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.cidr_block.as_deref(), Some("10.0.0.0/16"));
    assert_eq!(a.ipv6_cidr_blocks, ["2001:db8::/56"]);
    assert_eq!(a.is_default, Some(false));
    assert_eq!(a.state.as_deref(), Some("available"));

    // A cut-off answer: no id means no resource; a missing flag stays unknown.
    assert!(ec2::normalize_vpc(&ctx(), &Vpc::builder().build()).is_none());
    let s = Subnet::builder()
        .subnet_id("subnet-1")
        .vpc_id("vpc-1")
        .availability_zone("eu-west-1a")
        .cidr_block("10.0.1.0/24")
        .map_public_ip_on_launch(true)
        .build();
    let r = ec2::normalize_subnet(&ctx(), &s).expect("subnet");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1");
    let Attrs::Subnet(a) = &r.attrs else { panic!() };
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.availability_zone.as_deref(), Some("eu-west-1a"));
    assert_eq!(a.cidr_block.as_deref(), Some("10.0.1.0/24"));
    assert_eq!(a.map_public_ip_on_launch, Some(true));
    assert_eq!(
        a.assign_ipv6_address_on_creation, None,
        "unknown, not false"
    );
}

#[test]
fn routes_name_their_target() {
    use aws_sdk_ec2::types::*;
    let rt = RouteTable::builder()
        .route_table_id("rtb-1")
        .vpc_id("vpc-1")
        .associations(RouteTableAssociation::builder().main(true).build())
        .associations(
            RouteTableAssociation::builder()
                .main(false)
                .subnet_id("subnet-1")
                .build(),
        )
        .routes(
            Route::builder()
                .destination_cidr_block("10.0.0.0/16")
                .gateway_id("local")
                .state(RouteState::Active)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_cidr_block("0.0.0.0/0")
                .gateway_id("igw-1")
                .build(),
        )
        .routes(
            Route::builder()
                .destination_ipv6_cidr_block("::/0")
                .nat_gateway_id("nat-1")
                .state(RouteState::Blackhole)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_cidr_block("10.9.0.0/16")
                .build(),
        )
        .build();
    let r = ec2::normalize_route_table(&ctx(), &rt).expect("rt");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-1");
    let Attrs::RouteTable(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.main, Some(true));
    assert_eq!(a.subnet_ids, ["subnet-1"]);
    let t: Vec<(Option<&str>, Option<&str>)> = a
        .routes
        .iter()
        .map(|r| (r.target_type.as_deref(), r.target_id.as_deref()))
        .collect();
    assert_eq!(
        t,
        [
            (Some("local"), Some("local")),
            (Some("internet_gateway"), Some("igw-1")),
            (Some("nat_gateway"), Some("nat-1")),
            (None, None),
        ]
    );
    assert_eq!(a.routes[0].state.as_deref(), Some("active"));
    assert_eq!(a.routes[2].state.as_deref(), Some("blackhole"));
    assert_eq!(
        a.routes[2].destination_ipv6_cidr_block.as_deref(),
        Some("::/0")
    );
}

#[test]
fn security_group_permissions() {
    use aws_sdk_ec2::types::*;
    let g = SecurityGroup::builder()
        .group_id("sg-1")
        .group_name("rabbitmq")
        .vpc_id("vpc-1")
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5671)
                .to_port(5671)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-2").build())
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
                .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
                .build(),
        )
        .ip_permissions_egress(
            IpPermission::builder()
                .ip_protocol("-1")
                .from_port(-1)
                .to_port(-1)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .build();
    let r = ec2::normalize_security_group(&ctx(), &g).expect("sg");
    assert_eq!(
        r.id,
        "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1"
    );
    assert_eq!(r.name.as_deref(), Some("rabbitmq"));
    let Attrs::SecurityGroup(a) = &r.attrs else {
        panic!()
    };
    let i = &a.ingress.as_ref().expect("ingress")[0];
    assert_eq!(i.ip_protocol.as_deref(), Some("tcp"));
    assert_eq!((i.from_port, i.to_port), (Some(5671), Some(5671)));
    assert_eq!(i.source_security_group_ids, ["sg-2"]);
    assert_eq!(i.ipv4_ranges, ["10.0.0.0/16"]);
    assert_eq!(i.ipv6_ranges, ["::/0"]);
    assert_eq!(i.prefix_list_ids, ["pl-1"]);
    let e = &a.egress.as_ref().expect("egress")[0];
    assert_eq!(e.ip_protocol.as_deref(), Some("-1"));
    assert_eq!((e.from_port, e.to_port), (None, None));
}

#[test]
fn network_acl_with_an_incomplete_entry_is_unknown() {
    use aws_sdk_ec2::types::*;
    let entry = NetworkAclEntry::builder()
        .rule_number(100)
        .egress(false)
        .protocol("6")
        .rule_action(RuleAction::Allow)
        .cidr_block("0.0.0.0/0")
        .port_range(PortRange::builder().from(443).to(443).build())
        .build();
    let acl = NetworkAcl::builder()
        .network_acl_id("acl-1")
        .vpc_id("vpc-1")
        .is_default(true)
        .associations(
            NetworkAclAssociation::builder()
                .subnet_id("subnet-1")
                .build(),
        )
        .entries(entry.clone())
        .build();
    let r = ec2::normalize_network_acl(&ctx(), &acl).expect("acl");
    let Attrs::NetworkAcl(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.is_default, Some(true));
    assert_eq!(a.subnet_ids, ["subnet-1"]);
    let e = &a.entries.as_ref().expect("entries")[0];
    assert_eq!(
        (
            e.rule_number,
            e.egress,
            e.protocol.as_str(),
            e.rule_action.as_str()
        ),
        (100, false, "6", "allow")
    );
    assert_eq!((e.from_port, e.to_port), (Some(443), Some(443)));
    let mut cut = acl.clone();
    cut.entries = Some(vec![
        entry,
        NetworkAclEntry::builder().rule_number(200).build(),
    ]);
    let r = ec2::normalize_network_acl(&ctx(), &cut).expect("acl");
    let Attrs::NetworkAcl(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.entries, None);
}

#[test]
fn instance_and_volume() {
    use aws_sdk_ec2::types::*;
    let i = Instance::builder()
        .instance_id("i-1")
        .vpc_id("vpc-1")
        .subnet_id("subnet-1")
        .state(
            InstanceState::builder()
                .name(InstanceStateName::Running)
                .build(),
        )
        .instance_type(InstanceType::M6iLarge)
        .private_ip_address("10.0.1.5")
        .security_groups(GroupIdentifier::builder().group_id("sg-1").build())
        .network_interfaces(
            InstanceNetworkInterface::builder()
                .groups(GroupIdentifier::builder().group_id("sg-2").build())
                .groups(GroupIdentifier::builder().group_id("sg-1").build())
                .ipv6_addresses(
                    InstanceIpv6Address::builder()
                        .ipv6_address("2001:db8::5")
                        .build(),
                )
                .build(),
        )
        .metadata_options(
            InstanceMetadataOptionsResponse::builder()
                .http_tokens(HttpTokensState::Required)
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .http_put_response_hop_limit(1)
                .build(),
        )
        .block_device_mappings(
            InstanceBlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(EbsInstanceBlockDevice::builder().volume_id("vol-1").build())
                .build(),
        )
        .tags(Tag::builder().key("role").value("rabbitmq").build())
        .build();
    let r = ec2::normalize_instance(&ctx(), &i).expect("instance");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:instance/i-1");
    assert_eq!(r.tags.get("role").map(String::as_str), Some("rabbitmq"));
    let Attrs::Instance(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.state.as_deref(), Some("running"));
    assert_eq!(a.instance_type.as_deref(), Some("m6i.large"));
    assert_eq!(a.has_public_ip, Some(false));
    assert_eq!(a.public_ip_address, None);
    assert_eq!(a.private_ip_address.as_deref(), Some("10.0.1.5"));
    assert_eq!(a.ipv6_addresses, ["2001:db8::5"]);
    assert_eq!(
        a.security_group_ids.as_deref(),
        Some(&["sg-1".to_string(), "sg-2".to_string()][..])
    );
    let m = a.metadata_options.as_ref().expect("metadata");
    assert_eq!(m.http_tokens.as_deref(), Some("required"));
    assert_eq!(m.http_endpoint.as_deref(), Some("enabled"));
    assert_eq!(m.http_put_response_hop_limit, Some(1));
    assert_eq!(a.volume_ids, ["vol-1"]);

    let mut public = i.clone();
    public.public_ip_address = Some("203.0.113.9".into());
    let Attrs::Instance(a) = ec2::normalize_instance(&ctx(), &public).expect("i").attrs else {
        panic!()
    };
    assert_eq!(a.has_public_ip, Some(true));
    assert_eq!(a.public_ip_address.as_deref(), Some("203.0.113.9"));

    let v = Volume::builder()
        .volume_id("vol-1")
        .encrypted(false)
        .state(VolumeState::InUse)
        .attachments(VolumeAttachment::builder().instance_id("i-1").build())
        .build();
    let r = ec2::normalize_volume(&ctx(), &v).expect("volume");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1");
    let Attrs::Volume(a) = &r.attrs else { panic!() };
    assert_eq!(a.encrypted, Some(false));
    assert_eq!(a.state.as_deref(), Some("in-use"));
    assert_eq!(a.attached_instance_ids, ["i-1"]);
}

#[test]
fn nat_and_internet_gateway() {
    use aws_sdk_ec2::types::*;
    let n = NatGateway::builder()
        .nat_gateway_id("nat-1")
        .vpc_id("vpc-1")
        .subnet_id("subnet-1")
        .state(NatGatewayState::Available)
        .nat_gateway_addresses(
            NatGatewayAddress::builder()
                .public_ip("203.0.113.1")
                .build(),
        )
        .build();
    let r = ec2::normalize_nat_gateway(&ctx(), &n).expect("nat");
    assert_eq!(r.id, "arn:aws:ec2:eu-west-1:111122223333:natgateway/nat-1");
    let Attrs::NatGateway(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.state.as_deref(), Some("available"));
    assert_eq!(a.subnet_id.as_deref(), Some("subnet-1"));
    assert_eq!(a.connectivity_type.as_deref(), Some("public"));
    assert_eq!(a.public_ips, ["203.0.113.1"]);
    let g = InternetGateway::builder()
        .internet_gateway_id("igw-1")
        .attachments(InternetGatewayAttachment::builder().vpc_id("vpc-1").build())
        .build();
    let r = ec2::normalize_internet_gateway(&ctx(), &g).expect("igw");
    assert_eq!(
        r.id,
        "arn:aws:ec2:eu-west-1:111122223333:internet-gateway/igw-1"
    );
    let Attrs::InternetGateway(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.attached_vpc_ids, ["vpc-1"]);
}

#[test]
fn db_instance_and_parameter_group() {
    use aws_sdk_rds::types::*;
    let d = DbInstance::builder()
        .db_instance_identifier("estate-db")
        .db_instance_arn("arn:aws:rds:eu-west-1:111122223333:db:estate-db")
        .engine("mysql")
        .engine_version("8.0.39")
        .db_instance_class("db.r6g.large")
        .db_instance_status("available")
        .publicly_accessible(false)
        .storage_encrypted(true)
        .multi_az(true)
        .db_subnet_group(
            DbSubnetGroup::builder()
                .db_subnet_group_name("estate-db")
                .vpc_id("vpc-1")
                .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
                .subnets(Subnet::builder().subnet_identifier("subnet-b").build())
                .build(),
        )
        .vpc_security_groups(
            VpcSecurityGroupMembership::builder()
                .vpc_security_group_id("sg-db")
                .build(),
        )
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("estate-mysql80")
                .build(),
        )
        .endpoint(Endpoint::builder().address("db.example").port(3306).build())
        .tag_list(Tag::builder().key("estate").value("audit").build())
        .build();
    let r = rds::normalize_db_instance(&ctx(), &d).expect("db");
    assert_eq!(r.id, "arn:aws:rds:eu-west-1:111122223333:db:estate-db");
    assert_eq!(r.name.as_deref(), Some("estate-db"));
    assert_eq!(r.tags.get("estate").map(String::as_str), Some("audit"));
    let Attrs::DbInstance(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.engine.as_deref(), Some("mysql"));
    assert_eq!(a.engine_version.as_deref(), Some("8.0.39"));
    assert_eq!(a.db_instance_class.as_deref(), Some("db.r6g.large"));
    assert_eq!(a.status.as_deref(), Some("available"));
    assert_eq!(a.publicly_accessible, Some(false));
    assert_eq!(a.storage_encrypted, Some(true));
    assert_eq!(a.multi_az, Some(true));
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.db_subnet_group_name.as_deref(), Some("estate-db"));
    assert_eq!(
        a.subnet_ids.as_deref(),
        Some(&["subnet-a".to_string(), "subnet-b".to_string()][..])
    );
    assert_eq!(
        a.security_group_ids.as_deref(),
        Some(&["sg-db".to_string()][..])
    );
    assert_eq!(
        a.parameter_group_names.as_deref(),
        Some(&["estate-mysql80".to_string()][..])
    );
    assert_eq!(a.endpoint_address.as_deref(), Some("db.example"));
    assert_eq!(a.endpoint_port, Some(3306));

    // Cut off before the flags: unknown, not false.
    let cut = DbInstance::builder().db_instance_identifier("x").build();
    let Attrs::DbInstance(a) = rds::normalize_db_instance(&ctx(), &cut).expect("db").attrs else {
        panic!()
    };
    assert_eq!((a.publicly_accessible, a.storage_encrypted), (None, None));
    assert_eq!(a.subnet_ids, None);

    let g = DbParameterGroup::builder()
        .db_parameter_group_name("estate-mysql80")
        .db_parameter_group_family("mysql8.0")
        .build();
    let on = Parameter::builder()
        .parameter_name("require_secure_transport")
        .parameter_value("1")
        .build();
    let other = Parameter::builder()
        .parameter_name("max_connections")
        .parameter_value("100")
        .build();
    let r = rds::normalize_parameter_group(&ctx(), "estate-mysql80", Some(&g), &[&other, &on]);
    assert_eq!(r.id, "arn:aws:rds:eu-west-1:111122223333:pg:estate-mysql80");
    let Attrs::DbParameterGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.family.as_deref(), Some("mysql8.0"));
    let p = a.parameters.as_ref().expect("params");
    assert_eq!(p.len(), 1, "only what rules read");
    assert_eq!(p["require_secure_transport"].as_deref(), Some("1"));
    let r = rds::normalize_parameter_group(&ctx(), "default.mysql8.0", None, &[]);
    let Attrs::DbParameterGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(
        a.parameters.as_ref().expect("p")["require_secure_transport"],
        None
    );
}

#[test]
fn cache_cluster_replication_group_and_subnet_group() {
    use aws_sdk_elasticache::types::*;
    let c = CacheCluster::builder()
        .cache_cluster_id("estate-redis-001")
        .arn("arn:aws:elasticache:eu-west-1:111122223333:cluster:estate-redis-001")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.medium")
        .cache_cluster_status("available")
        .replication_group_id("estate-redis")
        .cache_subnet_group_name("estate-cache")
        .security_groups(
            SecurityGroupMembership::builder()
                .security_group_id("sg-redis")
                .build(),
        )
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        .auth_token_enabled(false)
        .build();
    let r = elasticache::normalize_cache_cluster(&ctx(), &c).expect("cluster");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:cluster:estate-redis-001"
    );
    let Attrs::CacheCluster(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.engine.as_deref(), Some("redis"));
    assert_eq!(a.engine_version.as_deref(), Some("7.1"));
    assert_eq!(a.cache_node_type.as_deref(), Some("cache.t4g.medium"));
    assert_eq!(a.status.as_deref(), Some("available"));
    assert_eq!(a.replication_group_id.as_deref(), Some("estate-redis"));
    assert_eq!(a.cache_subnet_group_name.as_deref(), Some("estate-cache"));
    assert_eq!(
        a.security_group_ids.as_deref(),
        Some(&["sg-redis".to_string()][..])
    );
    assert_eq!(a.at_rest_encryption_enabled, Some(true));
    assert_eq!(a.transit_encryption_enabled, Some(true));
    assert_eq!(a.auth_token_enabled, Some(false));

    let g = ReplicationGroup::builder()
        .replication_group_id("estate-redis")
        .status("available")
        .member_clusters("estate-redis-001")
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Required)
        .auth_token_enabled(true)
        .user_group_ids("ug-1")
        .build();
    let r = elasticache::normalize_replication_group(&ctx(), &g).expect("rg");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:estate-redis"
    );
    let Attrs::CacheReplicationGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.member_clusters, ["estate-redis-001"]);
    assert_eq!(a.transit_encryption_mode.as_deref(), Some("required"));
    assert_eq!(a.auth_token_enabled, Some(true));
    assert_eq!(a.user_group_ids.as_deref(), Some(&["ug-1".to_string()][..]));
    assert_eq!(a.at_rest_encryption_enabled, Some(true));

    let sg = CacheSubnetGroup::builder()
        .cache_subnet_group_name("estate-cache")
        .vpc_id("vpc-1")
        .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
        .build();
    let r = elasticache::normalize_subnet_group(&ctx(), &sg).expect("sg");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:subnetgroup:estate-cache"
    );
    let Attrs::CacheSubnetGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.subnet_ids.as_deref(), Some(&["subnet-a".to_string()][..]));
}

#[test]
fn lambda_function_url_and_policy() {
    use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput;
    use aws_sdk_lambda::types::*;
    let f = FunctionConfiguration::builder()
        .function_name("webhook")
        .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:webhook")
        .runtime(Runtime::Python312)
        .vpc_config(
            VpcConfigResponse::builder()
                .subnet_ids("subnet-a")
                .security_group_ids("sg-w")
                .vpc_id("vpc-1")
                .build(),
        )
        .build();
    let r = lambda::normalize_function(&ctx(), &f).expect("fn");
    assert_eq!(
        r.id,
        "arn:aws:lambda:eu-west-1:111122223333:function:webhook"
    );
    let Attrs::LambdaFunction(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.runtime.as_deref(), Some("python3.12"));
    let v = a.vpc_config.as_ref().expect("vpc");
    assert_eq!(v.subnet_ids, ["subnet-a"]);
    assert_eq!(v.security_group_ids, ["sg-w"]);
    assert_eq!(a.function_url, None, "unknown until read");
    assert_eq!(a.policy_statements, None);

    let outside = FunctionConfiguration::builder().function_name("x").build();
    let Attrs::LambdaFunction(a) = lambda::normalize_function(&ctx(), &outside)
        .expect("fn")
        .attrs
    else {
        panic!()
    };
    assert_eq!(a.vpc_config, Some(LambdaVpcConfig::default()));

    let url = GetFunctionUrlConfigOutput::builder()
        .function_url("https://abc.lambda-url.eu-west-1.on.aws/")
        .function_arn("arn")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .creation_time("t")
        .last_modified_time("t")
        .build()
        .expect("url output");
    let u = lambda::normalize_function_url(Some(&url));
    assert!(u.configured);
    assert_eq!(u.auth_type.as_deref(), Some("AWS_IAM"));
    assert_eq!(
        u.url.as_deref(),
        Some("https://abc.lambda-url.eu-west-1.on.aws/")
    );
    assert!(!lambda::normalize_function_url(None).configured);

    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*",
         "Action":"lambda:InvokeFunctionUrl","Resource":"arn",
         "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"},
                      "IpAddress":{"aws:SourceIp":["173.245.48.0/20","2400:cb00::/32"]}}},
        {"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com","AWS":["arn:aws:iam::1:root"]},
         "Action":["lambda:InvokeFunction"]}]}"#;
    let s = lambda::parse_policy(policy).expect("parses");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].sid.as_deref(), Some("FunctionURLAllowPublicAccess"));
    assert_eq!(s[0].effect, "Allow");
    assert_eq!(s[0].principals, ["*"]);
    assert_eq!(s[0].actions, ["lambda:InvokeFunctionUrl"]);
    assert_eq!(
        s[0].conditions["IpAddress"]["aws:SourceIp"],
        ["173.245.48.0/20", "2400:cb00::/32"]
    );
    assert_eq!(
        s[0].conditions["StringEquals"]["lambda:FunctionUrlAuthType"],
        ["NONE"]
    );
    let mut p = s[1].principals.clone();
    p.sort();
    assert_eq!(p, ["arn:aws:iam::1:root", "sns.amazonaws.com"]);
    // A single statement object is a statement list of one.
    let one = lambda::parse_policy(r#"{"Statement":{"Effect":"Deny","Action":"*"}}"#).expect("one");
    assert_eq!(one[0].effect, "Deny");
    for bad in [
        "",
        "{}",
        "[]",
        r#"{"Statement":[{"Action":"x"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":3}]}"#,
    ] {
        assert!(lambda::parse_policy(bad).is_err(), "{bad}");
    }
}

#[test]
fn ecs_service_cluster_and_task_definition() {
    use aws_sdk_ecs::types::*;
    let s = Service::builder()
        .service_arn("arn:aws:ecs:eu-west-1:111122223333:service/estate/worker")
        .service_name("worker")
        .cluster_arn("arn:aws:ecs:eu-west-1:111122223333:cluster/estate")
        .status("ACTIVE")
        .launch_type(LaunchType::Fargate)
        .desired_count(2)
        .task_definition("arn:aws:ecs:eu-west-1:111122223333:task-definition/worker:3")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets("subnet-a")
                        .security_groups("sg-w")
                        .assign_public_ip(AssignPublicIp::Enabled)
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .tags(Tag::builder().key("estate").value("audit").build())
        .build();
    let r = ecs::normalize_service(&ctx(), &s).expect("svc");
    assert_eq!(
        r.id,
        "arn:aws:ecs:eu-west-1:111122223333:service/estate/worker"
    );
    assert_eq!(r.name.as_deref(), Some("worker"));
    assert_eq!(r.tags.get("estate").map(String::as_str), Some("audit"));
    let Attrs::EcsService(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.status.as_deref(), Some("ACTIVE"));
    assert_eq!(a.launch_type.as_deref(), Some("FARGATE"));
    assert_eq!(a.desired_count, Some(2));
    let n = a.network_configuration.as_ref().expect("net");
    assert_eq!(n.subnet_ids, ["subnet-a"]);
    assert_eq!(n.security_group_ids, ["sg-w"]);
    assert_eq!(n.assign_public_ip.as_deref(), Some("ENABLED"));

    let bridge = Service::builder().service_arn("arn:x").build();
    let Attrs::EcsService(a) = ecs::normalize_service(&ctx(), &bridge).expect("svc").attrs else {
        panic!()
    };
    assert_eq!(
        a.network_configuration,
        Some(EcsNetworkConfiguration::default())
    );

    let c = Cluster::builder()
        .cluster_arn("arn:aws:ecs:eu-west-1:111122223333:cluster/estate")
        .cluster_name("estate")
        .status("ACTIVE")
        .build();
    let Attrs::EcsCluster(a) = ecs::normalize_cluster(&ctx(), &c).expect("c").attrs else {
        panic!()
    };
    assert_eq!(a.cluster_name.as_deref(), Some("estate"));
    assert_eq!(a.status.as_deref(), Some("ACTIVE"));

    let d = TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:eu-west-1:111122223333:task-definition/worker:3")
        .family("worker")
        .revision(3)
        .network_mode(NetworkMode::Awsvpc)
        .build();
    let r = ecs::normalize_task_definition(&ctx(), &d).expect("td");
    assert_eq!(r.name.as_deref(), Some("worker:3"));
    let Attrs::EcsTaskDefinition(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.family.as_deref(), Some("worker"));
    assert_eq!(a.revision, Some(3));
    assert_eq!(a.network_mode.as_deref(), Some("awsvpc"));
}

#[test]
fn scaling_target_and_policy() {
    use aws_sdk_applicationautoscaling::types::*;
    let t = ScalableTarget::builder()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/estate/worker")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(12)
        .role_arn("arn:role")
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .expect("target");
    let r = autoscaling::normalize_scalable_target(&ctx(), &t);
    assert_eq!(
        r.id,
        "arn:aws:application-autoscaling:eu-west-1:111122223333:scalable-target/ecs/service/estate/worker/ecs:service:DesiredCount"
    );
    let Attrs::ScalableTarget(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.service_namespace.as_deref(), Some("ecs"));
    assert_eq!(a.resource_id.as_deref(), Some("service/estate/worker"));
    assert_eq!(
        a.scalable_dimension.as_deref(),
        Some("ecs:service:DesiredCount")
    );
    assert_eq!((a.min_capacity, a.max_capacity), (Some(2), Some(12)));

    let p = ScalingPolicy::builder()
        .policy_arn("arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:x:resource/ecs/service/estate/worker:policyName/queue-out")
        .policy_name("queue-out")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/estate/worker")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            StepScalingPolicyConfiguration::builder()
                .step_adjustments(
                    StepAdjustment::builder()
                        .scaling_adjustment(2)
                        .build()
                        .expect("step"),
                )
                .build(),
        )
        .alarms(
            Alarm::builder()
                .alarm_name("queue-growing")
                .alarm_arn("arn:a")
                .build()
                .expect("alarm"),
        )
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .expect("policy");
    let r = autoscaling::normalize_scaling_policy(&ctx(), &p);
    assert!(r.id.ends_with("policyName/queue-out"));
    let Attrs::ScalingPolicy(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.policy_name.as_deref(), Some("queue-out"));
    assert_eq!(a.policy_type.as_deref(), Some("StepScaling"));
    assert_eq!(a.step_adjustments, [2]);
    assert_eq!(a.alarm_names, ["queue-growing"]);
    assert_eq!(a.target_metric, None);
}

#[test]
fn alarm() {
    use aws_sdk_cloudwatch::types::*;
    let a = MetricAlarm::builder()
        .alarm_name("webhook-errors")
        .alarm_arn("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:webhook-errors")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .dimensions(
            Dimension::builder()
                .name("FunctionName")
                .value("webhook")
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(5)
        .datapoints_to_alarm(5)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .actions_enabled(true)
        .alarm_actions("arn:aws:sns:eu-west-1:111122223333:pd")
        .state_value(StateValue::Ok)
        .build();
    let r = cloudwatch::normalize_alarm(&ctx(), &a).expect("alarm");
    assert_eq!(
        r.id,
        "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:webhook-errors"
    );
    let Attrs::Alarm(x) = &r.attrs else { panic!() };
    assert_eq!(x.namespace.as_deref(), Some("AWS/Lambda"));
    assert_eq!(x.metric_name.as_deref(), Some("Errors"));
    assert_eq!(x.dimensions["FunctionName"], "webhook");
    assert_eq!(x.statistic.as_deref(), Some("Sum"));
    assert_eq!(
        (x.period, x.evaluation_periods, x.datapoints_to_alarm),
        (Some(60), Some(5), Some(5))
    );
    assert_eq!(x.threshold, Some(5.0));
    assert_eq!(
        x.comparison_operator.as_deref(),
        Some("GreaterThanThreshold")
    );
    assert_eq!(x.actions_enabled, Some(true));
    assert_eq!(
        x.alarm_actions.as_deref(),
        Some(&["arn:aws:sns:eu-west-1:111122223333:pd".to_string()][..])
    );
    assert_eq!(x.state_value.as_deref(), Some("OK"));
    let cut = MetricAlarm::builder().alarm_name("x").build();
    let Attrs::Alarm(x) = cloudwatch::normalize_alarm(&ctx(), &cut).expect("a").attrs else {
        panic!()
    };
    assert_eq!((x.actions_enabled, x.threshold), (None, None));
}

#[test]
fn sns_topic_subscription_and_redaction() {
    use aws_sdk_sns::types::*;
    let mut attrs = std::collections::HashMap::new();
    attrs.insert("KmsMasterKeyId".to_string(), "alias/aws/sns".to_string());
    let t = sns::normalize_topic(
        &ctx(),
        "arn:aws:sns:eu-west-1:111122223333:pd",
        Some(&attrs),
    );
    assert_eq!(t.name.as_deref(), Some("pd"));
    let Attrs::SnsTopic(a) = &t.attrs else {
        panic!()
    };
    assert_eq!(a.kms_master_key_id.as_deref(), Some("alias/aws/sns"));
    let t = sns::normalize_topic(&ctx(), "arn:t", Some(&Default::default()));
    let Attrs::SnsTopic(a) = &t.attrs else {
        panic!()
    };
    assert_eq!(
        a.kms_master_key_id.as_deref(),
        Some(""),
        "answered: not encrypted"
    );

    let s = Subscription::builder()
        .subscription_arn("arn:aws:sns:eu-west-1:111122223333:pd:5c1f")
        .owner("111122223333")
        .protocol("https")
        .endpoint(
            "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
        )
        .topic_arn("arn:aws:sns:eu-west-1:111122223333:pd")
        .build();
    let r = sns::normalize_subscription(&ctx(), 0, &s).expect("sub");
    assert_eq!(r.id, "arn:aws:sns:eu-west-1:111122223333:pd:5c1f");
    let Attrs::SnsSubscription(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.protocol.as_deref(), Some("https"));
    assert_eq!(a.confirmed, Some(true));
    assert_eq!(
        a.endpoint.as_deref(),
        Some("https://events.pagerduty.com/integration/<redacted>/enqueue")
    );
    let mut pending = s.clone();
    pending.subscription_arn = Some("PendingConfirmation".into());
    let r = sns::normalize_subscription(&ctx(), 7, &pending).expect("sub");
    assert_eq!(
        r.id,
        "arn:aws:sns:eu-west-1:111122223333:pd:pending-confirmation-7"
    );
    let Attrs::SnsSubscription(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.confirmed, Some(false));

    assert_eq!(
        sns::redact_endpoint("https://user:pw@hooks.example.com/a/b?token=x"),
        "https://<redacted>@hooks.example.com/a/b?<redacted>"
    );
    assert_eq!(sns::redact_endpoint("ops@example.com"), "ops@example.com");
}

#[test]
fn classify_reads_codes_statuses_and_transport_failures() {
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_types::error::ErrorMetadata;
    let service = |code: Option<&str>, status: u16, body: &'static str| {
        let mut meta = ErrorMetadata::builder().message("m");
        if let Some(c) = code {
            meta = meta.code(c);
        }
        SdkError::<DescribeVpcsError, HttpResponse>::service_error(
            DescribeVpcsError::generic(meta.build()),
            http(status, body),
        )
    };
    let k = |e: &SdkError<DescribeVpcsError, HttpResponse>| classify(e).0;
    assert_eq!(
        k(&service(Some("UnauthorizedOperation"), 403, "")),
        ErrorKind::AccessDenied
    );
    assert_eq!(k(&service(None, 403, "")), ErrorKind::AccessDenied);
    assert_eq!(
        k(&service(Some("Throttling"), 400, "")),
        ErrorKind::Throttled
    );
    assert_eq!(k(&service(None, 429, "")), ErrorKind::Throttled);
    assert_eq!(k(&service(None, 404, "")), ErrorKind::Unsupported);
    assert_eq!(
        k(&service(Some("InvalidAction"), 400, "")),
        ErrorKind::Unsupported
    );
    assert_eq!(
        k(&service(None, 500, "<h1>Internal Server Error</h1>")),
        ErrorKind::Unsupported
    );
    assert_eq!(
        k(&service(Some("InternalError"), 500, "")),
        ErrorKind::Other
    );
    let timeout = SdkError::<DescribeVpcsError, HttpResponse>::timeout_error("slow");
    assert_eq!(k(&timeout), ErrorKind::Other);
    assert!(classify(&timeout).1.contains("timed out"));
}

#[tokio::test]
async fn an_unreadable_region_list_makes_only_the_region_facts_unknown() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_http_response(|| {
        http(
            403,
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code>\
             <Message>You are not authorized to perform this operation.</Message></Error></Errors></Response>",
        )
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Err(part) = regions::other_regions(&client, &ctx()).await else {
        panic!("denied")
    };
    assert_eq!(part.errors.len(), 1);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert_eq!(part.errors[0].kinds, ["estate"]);
    assert!(part.errors[0].message.contains("DescribeRegions"));
}

#[tokio::test]
async fn the_observer_sees_every_service_and_operation() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let guard = ReadOnlyGuard::observed(Arc::new(move |s: &str, o: &str| {
        sink.lock().expect("lock").push(format!("{s} {o}"));
    }));
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account("111122223333")
            .build()
    });
    let client = mocked!(aws_sdk_sts, guard, [&rule]);
    assert_eq!(
        sts::account(&client).await.expect("account"),
        "111122223333"
    );
    assert_eq!(*seen.lock().expect("lock"), ["STS GetCallerIdentity"]);
}

#[tokio::test]
async fn lambda_no_url_is_a_value_and_an_unparsable_policy_is_an_error() {
    use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigError;
    use aws_sdk_lambda::operation::get_policy::GetPolicyOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::error::ResourceNotFoundException;
    use aws_sdk_lambda::types::FunctionConfiguration;
    let guard = ReadOnlyGuard::new();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                FunctionConfiguration::builder()
                    .function_name("webhook")
                    .build(),
            )
            .build()
    });
    let url = mock!(aws_sdk_lambda::Client::get_function_url_config).then_error(|| {
        GetFunctionUrlConfigError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("no url")
                .build(),
        )
    });
    let policy = mock!(aws_sdk_lambda::Client::get_policy).then_output(|| {
        GetPolicyOutput::builder()
            .policy("{\"Statement\": 7")
            .build()
    });
    let client = mocked!(aws_sdk_lambda, guard, [&list, &url, &policy]);
    let part = lambda::collect(&client, &ctx()).await;
    assert_eq!(part.resources.len(), 1);
    let Attrs::LambdaFunction(f) = &part.resources[0].attrs else {
        panic!()
    };
    assert_eq!(f.function_url.as_ref().map(|u| u.configured), Some(false));
    assert_eq!(f.policy_statements, None, "unknown, never an empty policy");
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::Other);
    assert!(part.errors[0]
        .message
        .contains("unparsable policy of webhook"));
    assert_eq!(part.errors[0].kinds, ["aws.lambda.function"]);
}

#[test]
fn the_allowlist_is_read_only_and_is_what_iam_policy_grants() {
    let policy: serde_json::Value = serde_json::from_str(&iam_policy_document()).unwrap();
    let granted: Vec<&str> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for (service, op, action) in ALLOWED_OPERATIONS {
        assert!(
            is_read_only(op) || NON_MUTATING.contains(&(*service, *op)),
            "{service}:{op}"
        );
        assert!(is_allowed(service, op));
        if !action.is_empty() {
            assert!(granted.contains(action), "{action} missing from the policy");
            assert!(action.ends_with(op), "{action} does not name {op}");
        }
    }
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert!(granted.iter().all(|a| !a.contains('*')), "no wildcards");
    // The one exception to the prefixes hands out credentials and writes nothing.
    assert_eq!(NON_MUTATING, [("STS", "AssumeRole")]);
    for action in ["sts:AssumeRole", "organizations:ListAccounts"] {
        assert!(granted.contains(&action), "{action}");
    }
    assert!(!is_allowed("STS", "AssumeRoleWithWebIdentity"));
    assert!(!is_allowed("Organizations", "CreateAccount"));
    // Read-only by name but not a call the collector makes: refused, like any write.
    assert!(!is_allowed("EC2", "DescribeKeyPairs"));
    assert!(!is_allowed("EC2", "CreateVpc"));
    assert!(
        !is_allowed("RDS", "DescribeVpcs"),
        "the service must match too"
    );
}

#[test]
fn stats_names_are_the_iam_prefixes() {
    assert_eq!(stats_name("EC2"), "aws.ec2");
    assert_eq!(stats_name("STS"), "aws.sts");
    assert_eq!(
        stats_name("Application Auto Scaling"),
        "aws.application-autoscaling"
    );
    assert_eq!(stats_name("Organizations"), "aws.organizations");
    assert_eq!(stats_name("Some New Thing"), "aws.some-new-thing");
}

#[tokio::test]
async fn the_guard_counts_calls_retries_and_response_bytes_per_service() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_response(|| http(503, EC2_THROTTLED))
        .output(|| aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder().build())
        .build();
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let usage = guard.usage();
    let ec2 = usage.get("aws.ec2").copied().unwrap_or_default();
    assert_eq!((ec2.calls, ec2.retries), (2, 1), "{usage:?}");
    assert!(ec2.bytes >= EC2_THROTTLED.len() as u64, "{usage:?}");
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!(guard.calls(), ["EC2:DescribeVpcs"]);
}

#[test]
fn tagged_resources_of_other_regions() {
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
    let mapping = |arn: &str| {
        ResourceTagMapping::builder()
            .resource_arn(arn)
            .tags(
                Tag::builder()
                    .key("estate")
                    .value("prod")
                    .build()
                    .expect("tag"),
            )
            .tags(
                Tag::builder()
                    .key("Name")
                    .value("stray")
                    .build()
                    .expect("tag"),
            )
            .build()
    };
    let r = regions::normalize_tagged(
        &ctx(),
        &mapping("arn:aws:ec2:us-west-2:111122223333:vpc/vpc-9"),
    )
    .expect("a vpc");
    assert_eq!(r.id, "arn:aws:ec2:us-west-2:111122223333:vpc/vpc-9");
    assert_eq!(r.region.as_deref(), Some("us-west-2"), "the ARN's region");
    assert_eq!(r.account.as_deref(), Some("111122223333"));
    assert_eq!(r.name.as_deref(), Some("stray"));
    assert_eq!(r.tags.get("estate").map(String::as_str), Some("prod"));
    assert_eq!(
        r.attrs,
        Attrs::TaggedResource(crate::model::TaggedResource {
            resource_type: Some("ec2:vpc".into())
        })
    );
    let kind = |arn: &str| match regions::normalize_tagged(&ctx(), &mapping(arn)).map(|r| r.attrs) {
        Some(Attrs::TaggedResource(t)) => t.resource_type,
        _ => None,
    };
    assert_eq!(
        kind("arn:aws:lambda:us-west-2:111122223333:function:webhook").as_deref(),
        Some("lambda:function")
    );
    assert_eq!(
        kind("arn:aws:sns:us-west-2:111122223333:estate-alerts").as_deref(),
        Some("sns")
    );
    assert_eq!(
        kind("arn:aws:ecs:us-west-2:111122223333:service/estate/worker").as_deref(),
        Some("ecs:service")
    );
    // Global resources (no region in the ARN) and unreadable ARNs are left out.
    assert!(
        regions::normalize_tagged(&ctx(), &mapping("arn:aws:iam::111122223333:role/x")).is_none()
    );
    assert!(regions::normalize_tagged(&ctx(), &mapping("not-an-arn")).is_none());
}

#[tokio::test]
async fn per_function_calls_all_run_and_failures_alike_are_reported_once() {
    use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput;
    use aws_sdk_lambda::operation::get_policy::GetPolicyError;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::{FunctionConfiguration, FunctionUrlAuthType};
    let guard = ReadOnlyGuard::new();
    let names: Vec<String> = (0..20).map(|i| format!("f{i:02}")).collect();
    let listed = names.clone();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(move || {
        ListFunctionsOutput::builder()
            .set_functions(Some(
                listed
                    .iter()
                    .map(|n| FunctionConfiguration::builder().function_name(n).build())
                    .collect(),
            ))
            .build()
    });
    let url = mock!(aws_sdk_lambda::Client::get_function_url_config).then_compute_output(|r| {
        GetFunctionUrlConfigOutput::builder()
            .function_url(format!(
                "https://{}.lambda-url.eu-west-1.on.aws/",
                r.function_name().unwrap_or("")
            ))
            .function_arn("arn")
            .auth_type(FunctionUrlAuthType::AwsIam)
            .creation_time("2026-01-01T00:00:00Z")
            .last_modified_time("2026-01-01T00:00:00Z")
            .build()
            .expect("url config")
    });
    let denied = mock!(aws_sdk_lambda::Client::get_policy).then_error(|| {
        GetPolicyError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform lambda:GetPolicy")
                .build(),
        )
    });
    let client = mocked!(aws_sdk_lambda, guard, [&list, &url, &denied]);
    let part = lambda::collect(&client, &ctx()).await;
    // Every function, in list order, each with its own URL and an unknown policy.
    let got: Vec<(String, Option<String>, bool)> = part
        .resources
        .iter()
        .map(|r| match &r.attrs {
            Attrs::LambdaFunction(f) => (
                f.function_name.clone().unwrap_or_default(),
                f.function_url.as_ref().and_then(|u| u.url.clone()),
                f.policy_statements.is_none(),
            ),
            _ => panic!("a function"),
        })
        .collect();
    let want: Vec<(String, Option<String>, bool)> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                Some(format!("https://{n}.lambda-url.eu-west-1.on.aws/")),
                true,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(url.num_calls(), 20);
    assert_eq!(denied.num_calls(), 20);
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert!(
        part.errors[0].message.ends_with("(20 calls failed alike)"),
        "{}",
        part.errors[0].message
    );
}
// ------------------------------------------------------------------------------------------
// Fault paths: pagination that never ends, cut-off answers, messages that say what to do

#[tokio::test]
async fn a_repeated_page_token_is_an_error_not_a_short_list() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
        aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder()
            .vpcs(aws_sdk_ec2::types::Vpc::builder().vpc_id("vpc-1").build())
            .next_token("same-token")
            .build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.resources.is_empty(), "{:?}", part.resources);
    assert_eq!(part.errors.len(), 1);
    let e = &part.errors[0];
    assert_eq!(e.kinds, ["aws.ec2.vpc"]);
    assert!(
        e.message
            .contains("ec2 DescribeVpcs: the pagination token did not end: page 2 repeated"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_token_that_keeps_changing_stops_at_the_page_limit() {
    let guard = ReadOnlyGuard::new();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = n.clone();
    let rule = mock!(aws_sdk_sns::Client::list_topics).then_output(move || {
        let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        aws_sdk_sns::operation::list_topics::ListTopicsOutput::builder()
            .next_token(format!("token-{i}"))
            .build()
    });
    let subs = mock!(aws_sdk_sns::Client::list_subscriptions).then_output(|| {
        aws_sdk_sns::operation::list_subscriptions::ListSubscriptionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_sns, guard, [&rule, &subs]);
    let part = sns::collect(&client, &ctx()).await;
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kinds, ["aws.sns.topic"]);
    assert!(
        part.errors[0]
            .message
            .contains(&format!("did not end after {MAX_PAGES} pages")),
        "{}",
        part.errors[0].message
    );
    assert_eq!(
        n.load(std::sync::atomic::Ordering::Relaxed),
        MAX_PAGES,
        "reads exactly the page limit"
    );
}

#[test]
fn a_cut_off_xml_answer_is_told_from_a_whole_one() {
    let whole = "<?xml version=\"1.0\"?>\n<DescribeDBInstancesResponse xmlns=\"x\"><DescribeDBInstancesResult>\
                 <DBInstances/></DescribeDBInstancesResult></DescribeDBInstancesResponse>\n";
    assert_eq!(xml_complete(whole.as_bytes()), Ok(()));
    assert_eq!(xml_complete(b"<Empty/>"), Ok(()));
    assert_eq!(
        xml_complete(b"{\"json\": true}"),
        Ok(()),
        "not XML: the SDK judges"
    );
    assert_eq!(xml_complete(b""), Ok(()));
    for cut in [40, 80, whole.len() - 10] {
        let e = xml_complete(&whole.as_bytes()[..cut]).unwrap_err();
        assert!(e.contains("cut off"), "{cut}: {e}");
    }
    assert!(xml_complete(b"<?xml version").is_err());
}

#[test]
fn messages_say_which_permission_and_which_retry_budget() {
    use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
    use aws_smithy_types::error::ErrorMetadata;
    let err = |code: &str, status: u16| {
        SdkError::<DescribeDBInstancesError, HttpResponse>::service_error(
            DescribeDBInstancesError::generic(
                ErrorMetadata::builder().code(code).message("m").build(),
            ),
            http(status, ""),
        )
    };
    let kinds: &[&str] = &["aws.rds.db_instance"];
    let denied = error_for(
        ("rds", "DescribeDBInstances", kinds),
        "eu-west-1",
        4,
        &err("AccessDenied", 403),
    );
    assert!(
        denied
            .message
            .contains("IAM permission rds:DescribeDBInstances"),
        "{}",
        denied.message
    );
    let throttled = error_for(
        ("rds", "DescribeDBInstances", kinds),
        "eu-west-1",
        4,
        &err("Throttling", 400),
    );
    assert_eq!(throttled.kind, ErrorKind::Throttled);
    assert!(
        throttled.message.contains("throttled after 4 attempts"),
        "{}",
        throttled.message
    );
    let sts = error_for(
        ("sts", "GetCallerIdentity", &[]),
        "eu-west-1",
        1,
        &err("InvalidClientTokenId", 403),
    );
    assert!(
        sts.message.ends_with("the credentials were refused"),
        "{}",
        sts.message
    );
    // A success status whose body could not be read is an unreadable answer, not a vague one.
    let unreadable = SdkError::<DescribeDBInstancesError, HttpResponse>::service_error(
        DescribeDBInstancesError::unhandled("unexpected end of input"),
        http(200, "{"),
    );
    let (kind, text) = classify(&unreadable);
    assert_eq!(kind, ErrorKind::Other);
    assert!(text.starts_with("unreadable answer (HTTP 200"), "{text}");
    assert!(text.contains("unexpected end of input"), "{text}");
}

#[tokio::test]
async fn regions_that_are_not_opted_in_are_not_scanned() {
    use aws_sdk_ec2::types::Region as Ec2Region;
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
        let region = |name: &str, status: Option<&str>| {
            Ec2Region::builder()
                .region_name(name)
                .set_opt_in_status(status.map(str::to_string))
                .build()
        };
        aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput::builder()
            .regions(region("eu-west-1", Some("opt-in-not-required")))
            .regions(region("us-east-1", Some("opt-in-not-required")))
            .regions(region("af-south-1", Some("opted-in")))
            .regions(region("me-south-1", Some("not-opted-in")))
            .regions(region("ap-east-1", Some("not-opted-in")))
            // No status given: scanned, never assumed away.
            .regions(region("eu-north-1", None))
            .build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Ok(regions) = regions::other_regions(&client, &ctx()).await else {
        panic!("a readable list")
    };
    assert_eq!(regions, ["af-south-1", "eu-north-1", "us-east-1"]);
}

#[tokio::test]
async fn a_region_list_without_the_home_region_is_unreadable_not_empty() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
        aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Err(part) = regions::other_regions(&client, &ctx()).await else {
        panic!("an empty region list must not read as 'no other region'")
    };
    assert_eq!(part.errors[0].kinds, ["estate"]);
    assert!(
        part.errors[0]
            .message
            .contains("does not include the home region eu-west-1"),
        "{}",
        part.errors[0].message
    );
}

// ------------------------------------------------------------------------------------------
// Assumed-role sessions

/// The access key id each request was signed with (from its `Authorization` header).
#[derive(Clone, Debug, Default)]
struct SignedWith(Arc<Mutex<Vec<String>>>);

impl Intercept for SignedWith {
    fn name(&self) -> &'static str {
        "signed-with"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = context
            .request()
            .headers()
            .get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .unwrap_or("unsigned")
            .to_string();
        self.0.lock().expect("lock").push(key);
        Ok(())
    }
}

#[tokio::test]
async fn an_assumed_role_session_is_renewed_only_when_it_is_about_to_expire() {
    use std::time::SystemTime;
    // Every renewal hands out a session within the identity cache's 10 s buffer, so each is
    // already due for renewal at the next request.
    let renew = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| {
            r.role_arn() == Some("arn:aws:iam::444455556666:role/audit")
                && r.external_id() == Some("ext-1")
        })
        .then_output(|| {
            let expires = SystemTime::now() + Duration::from_secs(5);
            aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id("ASIARENEWED")
                        .secret_access_key("renewed-secret")
                        .session_token("renewed-token")
                        .expiration(aws_sdk_sts::primitives::DateTime::from(expires))
                        .build()
                        .expect("complete credentials"),
                )
                .build()
        });
    let guard = ReadOnlyGuard::new();
    let sts_client = mocked!(aws_sdk_sts, guard, [&renew]);
    let role = AssumeRole {
        arn: "arn:aws:iam::444455556666:role/audit".into(),
        external_id: Some("ext-1".into()),
    };
    // (first session's lifetime, keys the three requests are signed with)
    let cases: [(u64, [&str; 3]); 2] = [
        (3600, ["ASIAFIRST"; 3]),
        (5, ["ASIAFIRST", "ASIARENEWED", "ASIARENEWED"]),
    ];
    for (lifetime, expected) in cases {
        let before = renew.num_calls();
        let first = aws_sdk_sts::config::Credentials::new(
            "ASIAFIRST",
            "first-secret",
            Some("first-token".into()),
            Some(SystemTime::now() + Duration::from_secs(lifetime)),
            "test",
        );
        let session = sts::RoleSession::new(sts_client.clone(), role.clone(), first);
        let signed = SignedWith::default();
        let answer = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
                .build()
        });
        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::Config::builder()
                .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
                .region(aws_sdk_rds::config::Region::new("eu-west-1"))
                .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(session))
                // The cache every client of an account shares (aws-config's default).
                .identity_cache(aws_sdk_rds::config::IdentityCache::lazy().build())
                .http_client(create_mock_http_client())
                .interceptor(signed.clone())
                .interceptor(
                    MockResponseInterceptor::new()
                        .rule_mode(RuleMode::MatchAny)
                        .with_rule(&answer),
                )
                .build(),
        );
        for _ in 0..3 {
            rds.describe_db_instances().send().await.expect("answered");
        }
        assert_eq!(
            *signed.0.lock().expect("lock"),
            expected,
            "first session {lifetime} s"
        );
        let renewals = expected.iter().filter(|k| **k == "ASIARENEWED").count();
        assert_eq!(
            renew.num_calls() - before,
            renewals,
            "first session {lifetime} s"
        );
    }
    // Renewals go through the guarded client: counted, and checked against the allowlist.
    assert_eq!(guard.calls(), ["STS:AssumeRole", "STS:AssumeRole"]);
}

#[tokio::test]
async fn a_session_that_cannot_be_renewed_fails_the_call_with_the_cause() {
    let refuse = mock!(aws_sdk_sts::Client::assume_role)
        .then_http_response(|| http(403, QUERY_ACCESS_DENIED));
    let guard = ReadOnlyGuard::new();
    let sts_client = mocked!(aws_sdk_sts, guard, [&refuse]);
    let role = AssumeRole {
        arn: "arn:aws:iam::444455556666:role/audit".into(),
        external_id: None,
    };
    let expired = aws_sdk_sts::config::Credentials::new(
        "ASIAFIRST",
        "first-secret",
        Some("first-token".into()),
        Some(std::time::SystemTime::now() - Duration::from_secs(1)),
        "test",
    );
    let session = sts::RoleSession::new(sts_client, role, expired);
    use aws_credential_types::provider::ProvideCredentials;
    // The first session is handed out once (the identity cache judges its expiry) …
    assert_eq!(
        session
            .provide_credentials()
            .await
            .expect("first")
            .access_key_id(),
        "ASIAFIRST"
    );
    // … and a renewal that is refused says whose session and why, never the secret.
    let err = session.provide_credentials().await.expect_err("refused");
    let text = format!("{}", DisplayErrorContext(&err));
    assert!(
        text.contains("renewing the session of arn:aws:iam::444455556666:role/audit")
            && text.contains("AccessDenied"),
        "{text}"
    );
    assert!(!text.contains("first-secret"), "{text}");
}
