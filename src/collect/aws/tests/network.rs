//! The EC2 normalizers, field by field from the SDK's own builders: VPCs and subnets, route
//! tables, security groups, network ACLs, instances and volumes, NAT and internet gateways.

use super::*;

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
    // Absent from the answer: AWS's documented default, `public`.
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
