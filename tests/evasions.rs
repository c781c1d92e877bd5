//! The live evasion suite (issues #18 and #14, "No silent pass"): for every critical and high AWS
//! rule of the launch gate and every alarm, scaling and encryption rule, changes to the compliant
//! estate that a partial reading would miss — a second interface, an address given after launch,
//! a load balancer or an API in front of a private component, a route that leaves by another
//! way, a second database or cache beside the first, a stranger sharing an admitted security
//! group, a scaling alarm that never sets its policy off or sets it off the wrong way, a health
//! alarm that pages nobody or watches something else, a TLS setting switched off or left on a
//! group nothing uses — each made through the AWS SDK in moto, collected by the product's
//! collector, audited with the built-in rules and asserted to `fail` on the resource that breaks
//! the spec, never to `pass`. `docs/evasions.md` lists every case,
//! with the offline fixture cases and the ones moto cannot hold.
//!
//! Each test is one moto region holding the compliant estate (`estate::build`), audited once
//! before any change: nothing may fail or be unknown there. A case is a function named for the
//! change it makes; it makes it and names the findings it must give. Cases share a region only
//! when their changes touch different resources and groups, so that none fails another's rule
//! for it, and every finding a case names must pass (or not exist) before the changes, so that
//! the change is what fails it. After the cases, one audit judges them all.
//!
//! Where moto keeps less than AWS would, the harness does what AWS does and says so (the
//! interfaces that RDS, ElastiCache and ECS tasks get in the VPC; the IPv6 entries of the
//! default network ACL), never more. What moto cannot hold at all (an alias's function URL, a
//! policy condition) is collected from mocked Lambda answers instead. It must not weaken a case
//! to make it pass: a case that passes where it should fail is a silent pass of the product.

#[path = "support/live/mod.rs"]
mod live;
use live::audit::{
    average_alarm, collect_and_audit_scanning, collect_and_audit_with, estate_config, put_alarms,
    sdk, status_of, status_table,
};
use live::estate::{self, build, create_function, instance, launched, tags, Built, ACCOUNT};

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, IpPermission, ResourceType};
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancerSchemeEnum as Scheme, LoadBalancerTypeEnum as LbType, ProtocolEnum, TargetTypeEnum,
};
use estate_audit::collect::aws::{Clients, ReadOnlyGuard};
use estate_audit::finding::{Report, Status};
use estate_audit::model::EstateConfig;

// ------------------------------------------------------------------------------------------
// The estate of one region, its audits and the findings cases name

/// A finding a case must give: `status` of `rule` on `resource`, audited with `config` (the
/// estate's own `estate.toml` when `None`).
struct Want {
    rule: &'static str,
    resource: String,
    status: Status,
    config: Option<EstateConfig>,
}

/// `rule` fails on `resource`.
fn fails(rule: &'static str, resource: impl Into<String>) -> Want {
    Want {
        rule,
        resource: resource.into(),
        status: Status::Fail,
        config: None,
    }
}

/// The public subnets' range of the estate (10.20.0.0/24 and 10.20.1.0/24): where its
/// load balancers' own addresses are, so what a group admits when it admits "the load
/// balancer" of a network load balancer without security groups.
const PUBLIC_RANGE: &str = "10.20.0.0/23";
/// An address range outside the estate (TEST-NET-3, RFC 5737): an office, a partner.
const OFFICE_RANGE: &str = "203.0.113.0/24";

/// The compliant estate of one region, with clients to change it.
struct Estate {
    region: &'static str,
    sdk: SdkConfig,
    b: Built,
    /// The audit before any change (set by [`Estate::compliant`]).
    before: Option<Report>,
}

/// Where a group admits traffic from.
enum From<'a> {
    Cidr(&'a str),
    Ipv6(&'a str),
    Group(&'a str),
    PrefixList(&'a str),
}

impl Estate {
    /// The compliant estate of `region` with its alarms, as `tests/aws_live.rs` audits it.
    async fn new(region: &'static str) -> Estate {
        let sdk = sdk(region).await;
        let b = build(&sdk, region, false).await;
        put_alarms(&sdk, &b, false).await;
        Estate {
            region,
            sdk,
            b,
            before: None,
        }
    }

    fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk)
    }

    fn elb(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk)
    }

    fn group_id(&self, role: &str) -> String {
        self.b.groups[role].clone()
    }

    fn arn(&self, kind: &str, id: &str) -> String {
        self.b.arn(&format!("{kind}/{id}"))
    }

    fn db(&self, name: &str) -> String {
        format!("arn:aws:rds:{}:{ACCOUNT}:db:{name}", self.region)
    }

    fn cache(&self, id: &str) -> String {
        format!("arn:aws:elasticache:{}:{ACCOUNT}:cluster:{id}", self.region)
    }

    fn service(&self, name: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{ACCOUNT}:service/estate/{name}",
            self.region
        )
    }

    fn function(&self, name: &str) -> String {
        format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}", self.region)
    }

    /// Collects the home region and scans one other (nothing of this estate is there, and one
    /// scanned region is what lets `aws-region-single` say so) and audits it; moto answers
    /// every call.
    async fn audit(&self, config: Option<&EstateConfig>) -> Report {
        let config = config
            .cloned()
            .unwrap_or_else(|| estate_config(self.region));
        let other = if self.region == "us-east-1" {
            "us-west-2"
        } else {
            "us-east-1"
        };
        let scan = [self.region.to_string(), other.to_string()];
        let a = collect_and_audit_scanning(&self.sdk, self.region, config, Some(&scan)).await;
        assert!(
            a.collection.errors.is_empty(),
            "{}: {:#?}",
            self.region,
            a.collection.errors
        );
        a.report
    }

    /// Audits the estate as it stands, before any change: no AWS rule may fail or be unknown.
    async fn compliant(&mut self) {
        let r = self.audit(None).await;
        let open: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule_id.starts_with("aws-"))
            .filter(|f| matches!(f.status, Status::Fail | Status::Unknown))
            .collect();
        assert!(open.is_empty(), "not compliant:\n{}", status_table(&r));
        self.before = Some(r);
    }

    /// Audits the changed estate and checks every finding the cases named: it gives the status
    /// wanted, and it passed (or did not exist) before the changes.
    async fn judge(&self, cases: Vec<(&'static str, Vec<Want>)>) {
        let after = self.audit(None).await;
        self.check(&after, cases).await;
    }

    /// [`Estate::judge`] on the audit `after` the changes (`judge`'s own, or one collected
    /// through mocks).
    async fn check(&self, after: &Report, cases: Vec<(&'static str, Vec<Want>)>) {
        let before = self
            .before
            .as_ref()
            .expect("compliant() before the changes");
        let mut wrong = Vec::new();
        for (case, wants) in &cases {
            assert!(!wants.is_empty(), "{case} names no finding");
            for w in wants {
                let was = status_of(before, w.rule, &w.resource);
                if !matches!(was, None | Some(Status::Pass)) {
                    wrong.push(format!(
                        "{case}: {} on {} was {was:?} before the change",
                        w.rule, w.resource
                    ));
                }
                let now = match &w.config {
                    None => status_of(after, w.rule, &w.resource),
                    Some(c) => status_of(&self.audit(Some(c)).await, w.rule, &w.resource),
                };
                if now != Some(w.status) {
                    wrong.push(format!(
                        "{case}: {} on {} is {now:?}, not {:?}",
                        w.rule, w.resource, w.status
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{}: silent passes:\n{}\n\nafter the changes:\n{}",
            self.region,
            wrong.join("\n"),
            status_table(after)
        );
    }

    // ---------------------------------------------------------------------------------------
    // Building blocks of the changes

    /// Another RabbitMQ host, launched as the estate's (a cluster member): in `subnet` with
    /// `groups`, IMDSv2, encrypted root volume.
    async fn queue_host(&self, name: &str, subnet: &str, groups: &[&str]) -> String {
        launched(instance(
            &self.ec2(),
            self.region,
            &self.b.image,
            subnet,
            groups,
            &[("Name", name), ("role", "rabbitmq")],
            true,
        ))
        .await
    }

    /// A new security group of the estate VPC, admitting nothing.
    async fn group(&self, name: &str) -> String {
        self.ec2()
            .create_security_group()
            .group_name(name)
            .description(name)
            .vpc_id(&self.b.vpc)
            .tag_specifications(tags(self.region, ResourceType::SecurityGroup, &[]))
            .send()
            .await
            .expect("security group")
            .group_id()
            .expect("group id")
            .to_string()
    }

    /// `group` admits TCP `port` from `from`.
    async fn admit(&self, group: &str, port: i32, from: From<'_>) {
        use aws_sdk_ec2::types::{IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
        let p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port);
        let p = match from {
            From::Cidr(c) => p.ip_ranges(IpRange::builder().cidr_ip(c).build()),
            From::Ipv6(c) => p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build()),
            From::Group(g) => p.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).build()),
            From::PrefixList(l) => {
                p.prefix_list_ids(PrefixListId::builder().prefix_list_id(l).build())
            }
        };
        self.ec2()
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(p.build())
            .send()
            .await
            .expect("ingress rule");
    }

    /// A network interface in `subnet` with `groups` and `description` (what AWS writes on the
    /// interfaces it makes for a service), with `ipv6` when given: its id and private address.
    async fn interface(
        &self,
        subnet: &str,
        groups: &[&str],
        description: &str,
        ipv6: Option<&str>,
    ) -> (String, String) {
        let mut req = self
            .ec2()
            .create_network_interface()
            .subnet_id(subnet)
            .set_groups(Some(groups.iter().map(|g| g.to_string()).collect()))
            .description(description);
        if let Some(a) = ipv6 {
            req = req.ipv6_addresses(
                aws_sdk_ec2::types::InstanceIpv6Address::builder()
                    .ipv6_address(a)
                    .build(),
            );
        }
        let out = req.send().await.expect("network interface");
        let n = out.network_interface().expect("interface");
        (
            n.network_interface_id().expect("id").to_string(),
            n.private_ip_address().expect("address").to_string(),
        )
    }

    /// Attaches interface `eni` to `host` as its second one (device 1).
    async fn attach(&self, eni: &str, host: &str) {
        self.ec2()
            .attach_network_interface()
            .network_interface_id(eni)
            .instance_id(host)
            .device_index(1)
            .send()
            .await
            .expect("attach interface");
    }

    /// A new Elastic IP associated with interface `eni`, or with `instance`'s primary one.
    async fn elastic_ip(&self, eni: Option<&str>, instance: Option<&str>) {
        let ec2 = self.ec2();
        let eip = ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .expect("elastic ip");
        ec2.associate_address()
            .set_allocation_id(eip.allocation_id().map(str::to_string))
            .set_network_interface_id(eni.map(str::to_string))
            .set_instance_id(instance.map(str::to_string))
            .send()
            .await
            .expect("associate address");
    }

    /// The private address of `host`'s primary interface.
    async fn address_of(&self, host: &str) -> String {
        self.ec2()
            .describe_instances()
            .instance_ids(host)
            .send()
            .await
            .expect("instance")
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find_map(|i| i.private_ip_address())
            .expect("private address")
            .to_string()
    }

    /// An IPv6 range for the estate VPC (Amazon's /56), and for each of `subnets` a /64 of it
    /// (the n-th subnet the n-th /64 counting from 1). Like AWS, the default network ACL then
    /// admits IPv6 too (AWS adds rule 101 for `::/0` when a VPC gets IPv6; moto does not).
    /// Returns the subnets' /64 prefixes (`2400:…:xx01`, without `::/64`).
    async fn dual_stack(&self, subnets: &[&str]) -> Vec<String> {
        let ec2 = self.ec2();
        ec2.associate_vpc_cidr_block()
            .vpc_id(&self.b.vpc)
            .amazon_provided_ipv6_cidr_block(true)
            .send()
            .await
            .expect("vpc ipv6");
        let block = ec2
            .describe_vpcs()
            .vpc_ids(&self.b.vpc)
            .send()
            .await
            .expect("vpc")
            .vpcs()
            .iter()
            .flat_map(|v| v.ipv6_cidr_block_association_set())
            .find_map(|a| a.ipv6_cidr_block())
            .expect("the vpc's ipv6 block")
            .to_string();
        // `2400:6500:ab12:cd00::/56` → `2400:6500:ab12:cd` + two hex digits per /64.
        let head = block.split("00::/").next().expect("a /56").to_string();
        let mut prefixes = Vec::new();
        for (n, s) in subnets.iter().enumerate() {
            let prefix = format!("{head}{:02x}", n + 1);
            ec2.associate_subnet_cidr_block()
                .subnet_id(*s)
                .ipv6_cidr_block(format!("{prefix}::/64"))
                .send()
                .await
                .expect("subnet ipv6");
            prefixes.push(prefix);
        }
        let acl = ec2
            .describe_network_acls()
            .filters(filter("vpc-id", &self.b.vpc))
            .filters(filter("default", "true"))
            .send()
            .await
            .expect("network acls")
            .network_acls()
            .first()
            .and_then(|a| a.network_acl_id())
            .expect("the default network acl")
            .to_string();
        for egress in [false, true] {
            ec2.create_network_acl_entry()
                .network_acl_id(&acl)
                .rule_number(101)
                .protocol("-1")
                .rule_action(aws_sdk_ec2::types::RuleAction::Allow)
                .egress(egress)
                .ipv6_cidr_block("::/0")
                .send()
                .await
                .expect("ipv6 acl entry");
        }
        prefixes
    }

    /// A load balancer of `kind` and `scheme` in `subnets` with `groups`: its ARN.
    async fn load_balancer(
        &self,
        name: &str,
        kind: LbType,
        scheme: Scheme,
        subnets: &[String],
        groups: &[&str],
    ) -> String {
        self.elb()
            .create_load_balancer()
            .name(name)
            .r#type(kind)
            .scheme(scheme)
            .set_subnets(Some(subnets.to_vec()))
            .set_security_groups(
                (!groups.is_empty()).then(|| groups.iter().map(|g| g.to_string()).collect()),
            )
            .send()
            .await
            .expect("load balancer")
            .load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .expect("load balancer arn")
            .to_string()
    }

    /// An internet-facing network load balancer in the public subnets, without security groups
    /// (it filters nothing): its ARN.
    async fn internet_facing_nlb(&self, name: &str) -> String {
        self.load_balancer(
            name,
            LbType::Network,
            Scheme::InternetFacing,
            &self.b.public,
            &[],
        )
        .await
    }

    /// A listener of `lb` on `port` forwarding to a new target group `name` of `kind` holding
    /// `targets` (each on `target_port`): the listener's ARN.
    async fn forward(
        &self,
        lb: &str,
        group: (&str, TargetTypeEnum, ProtocolEnum),
        port: i32,
        targets: &[&str],
        target_port: Option<i32>,
    ) -> String {
        use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};
        let protocol = if group.2 == ProtocolEnum::Http || group.1 == TargetTypeEnum::Lambda {
            ProtocolEnum::Http
        } else {
            ProtocolEnum::Tcp
        };
        let group = self.target_group(group, targets, target_port).await;
        self.elb()
            .create_listener()
            .load_balancer_arn(lb)
            .protocol(protocol)
            .port(port)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(&group)
                    .build(),
            )
            .send()
            .await
            .expect("listener")
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .expect("listener arn")
            .to_string()
    }

    /// A new target group `name` of `kind` holding `targets` (each on `target_port`): its ARN.
    async fn target_group(
        &self,
        (name, kind, protocol): (&str, TargetTypeEnum, ProtocolEnum),
        targets: &[&str],
        target_port: Option<i32>,
    ) -> String {
        use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
        let elb = self.elb();
        let lambda = kind == TargetTypeEnum::Lambda;
        let group = elb
            .create_target_group()
            .name(name)
            .target_type(kind)
            .set_protocol((!lambda).then_some(protocol))
            .set_port(target_port.filter(|_| !lambda))
            .set_vpc_id((!lambda).then(|| self.b.vpc.clone()))
            .send()
            .await
            .expect("target group")
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .expect("target group arn")
            .to_string();
        for t in targets {
            elb.register_targets()
                .target_group_arn(&group)
                .targets(
                    TargetDescription::builder()
                        .id(*t)
                        .set_port(target_port)
                        .build(),
                )
                .send()
                .await
                .expect("register target");
        }
        group
    }

    /// Replaces the processors' scalable target (same service and dimension) with `change`
    /// applied to the compliant one (2 to 12 tasks).
    async fn rescale(
        &self,
        change: impl FnOnce(
            aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetFluentBuilder,
        ) -> aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetFluentBuilder,
    ) {
        use aws_sdk_applicationautoscaling::types::{
            ScalableDimension, ServiceNamespace, SuspendedState,
        };
        // Registered as the estate registers it, with the suspended state AWS reports (nothing
        // suspended); `change` overrides any of it.
        let register = aws_sdk_applicationautoscaling::Client::new(&self.sdk)
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/estate/worker")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(2)
            .max_capacity(12)
            .suspended_state(
                SuspendedState::builder()
                    .dynamic_scaling_in_suspended(false)
                    .dynamic_scaling_out_suspended(false)
                    .scheduled_scaling_suspended(false)
                    .build(),
            );
        change(register).send().await.expect("scalable target");
    }

    /// What AWS gives a database, a cache node or a task in the VPC, made here (moto keeps
    /// none): an interface in `subnet` carrying `group`, described as its owner describes it;
    /// then `group` admits the public subnets on `port` and an internet-facing network load
    /// balancer (`estate-<name>-nlb`) forwards `port` to the interface's address.
    async fn expose_by_address(
        &self,
        subnet: &str,
        group: &str,
        owner: &str,
        port: i32,
        name: &str,
    ) {
        let (_, ip) = self.interface(subnet, &[group], owner, None).await;
        self.admit(group, port, From::Cidr(PUBLIC_RANGE)).await;
        let nlb = self
            .internet_facing_nlb(&format!("estate-{name}-nlb"))
            .await;
        let target_group = format!("estate-{name}-ip");
        self.forward(
            &nlb,
            (&target_group, TargetTypeEnum::Ip, ProtocolEnum::Tcp),
            port,
            &[&ip],
            Some(port),
        )
        .await;
    }

    /// A database instance of the estate named `name`, MySQL, in subnet group `subnet_group`
    /// with `groups`; `public` and `encrypted` as given.
    async fn database(
        &self,
        name: &str,
        subnet_group: &str,
        groups: &[&str],
        (public, encrypted): (bool, bool),
    ) {
        self.database_in(
            name,
            subnet_group,
            groups,
            (public, encrypted),
            Some("estate-mysql80"),
        )
        .await
    }

    /// [`Estate::database`] with the parameter group `parameters` (`None`: the engine's
    /// default group, which RDS gives an instance created without one).
    async fn database_in(
        &self,
        name: &str,
        subnet_group: &str,
        groups: &[&str],
        (public, encrypted): (bool, bool),
        parameters: Option<&str>,
    ) {
        aws_sdk_rds::Client::new(&self.sdk)
            .create_db_instance()
            .db_instance_identifier(name)
            .db_instance_class("db.t3.medium")
            .engine("mysql")
            .set_db_parameter_group_name(parameters.map(str::to_string))
            .master_username("admin")
            .master_user_password("not-a-real-password-1")
            .allocated_storage(20)
            .db_subnet_group_name(subnet_group)
            .set_vpc_security_group_ids(Some(groups.iter().map(|g| g.to_string()).collect()))
            .publicly_accessible(public)
            .storage_encrypted(encrypted)
            .tags(
                aws_sdk_rds::types::Tag::builder()
                    .key(estate::TAG_KEY)
                    .value(estate::tag_value(self.region))
                    .build(),
            )
            .send()
            .await
            .expect("db instance");
    }

    /// A DB subnet group named `name` of `subnets`.
    async fn db_subnet_group(&self, name: &str, subnets: &[&String]) {
        aws_sdk_rds::Client::new(&self.sdk)
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(name)
            .set_subnet_ids(Some(subnets.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .expect("db subnet group");
    }

    /// A cache subnet group named `name` of `subnets`.
    async fn cache_subnet_group(&self, name: &str, subnets: &[&String]) {
        aws_sdk_elasticache::Client::new(&self.sdk)
            .create_cache_subnet_group()
            .cache_subnet_group_name(name)
            .cache_subnet_group_description(name)
            .set_subnet_ids(Some(subnets.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .expect("cache subnet group");
    }

    /// A Redis replication group `id` in subnet group `subnets` with the estate's cache group,
    /// encrypted at rest and in transit with AUTH when `secure`, and its member cluster
    /// `<id>-001` (moto lists a member only when it is created on its own, as the estate does).
    /// A replication group `id` with one member in subnet group `subnets`; `secure`: encrypted
    /// at rest and in transit in `mode`, with an AUTH token (what AWS reports of a group
    /// created so), or none of it.
    async fn replication_group(&self, id: &str, subnets: &str, secure: bool, mode: &str) -> String {
        let cache = aws_sdk_elasticache::Client::new(&self.sdk);
        let redis = self.group_id("redis");
        let token = secure.then(|| "a-long-enough-redis-auth-token".to_string());
        cache
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description(id)
            .engine("redis")
            .cache_node_type("cache.t4g.medium")
            .cache_subnet_group_name(subnets)
            .security_group_ids(&redis)
            .num_cache_clusters(1)
            .at_rest_encryption_enabled(secure)
            .transit_encryption_enabled(secure)
            .set_transit_encryption_mode(secure.then(|| mode.into()))
            .set_auth_token(token.clone())
            .send()
            .await
            .expect("replication group");
        let member = format!("{id}-001");
        cache
            .create_cache_cluster()
            .cache_cluster_id(&member)
            .replication_group_id(id)
            .engine("redis")
            .cache_node_type("cache.t4g.medium")
            .cache_subnet_group_name(subnets)
            .security_group_ids(&redis)
            .transit_encryption_enabled(secure)
            .set_auth_token(token)
            .send()
            .await
            .expect("member cluster");
        member
    }

    /// A lone cache cluster (no replication group) `id` of `engine` in subnet group `subnets`
    /// with the estate's cache group, without TLS.
    async fn lone_cache(&self, id: &str, engine: &str, subnets: &str) {
        aws_sdk_elasticache::Client::new(&self.sdk)
            .create_cache_cluster()
            .cache_cluster_id(id)
            .engine(engine)
            .cache_node_type("cache.t4g.medium")
            .num_cache_nodes(1)
            .cache_subnet_group_name(subnets)
            .security_group_ids(self.group_id("redis"))
            .transit_encryption_enabled(false)
            .send()
            .await
            .expect("cache cluster");
    }

    /// Replaces the processors' network configuration: `subnets`, the workers' group, public
    /// addresses as `public`.
    async fn place_processors(&self, name: &str, subnets: Vec<String>, group: &str, public: bool) {
        use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, NetworkConfiguration};
        let config = NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .set_subnets(Some(subnets))
                    .security_groups(group)
                    .assign_public_ip(if public {
                        AssignPublicIp::Enabled
                    } else {
                        AssignPublicIp::Disabled
                    })
                    .build()
                    .expect("awsvpc"),
            )
            .build();
        let ecs = aws_sdk_ecs::Client::new(&self.sdk);
        if name == "worker" {
            ecs.update_service()
                .cluster("estate")
                .service(name)
                .network_configuration(config)
                .send()
                .await
                .expect("update service");
        } else {
            ecs.create_service()
                .cluster("estate")
                .service_name(name)
                .task_definition("worker")
                .desired_count(1)
                .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
                .network_configuration(config)
                .send()
                .await
                .expect("create service");
        }
    }

    /// The webhook's VPC configuration: `subnets` with the webhook's group.
    fn webhook_vpc(&self, subnets: Vec<String>) -> aws_sdk_lambda::types::VpcConfig {
        aws_sdk_lambda::types::VpcConfig::builder()
            .set_subnet_ids(Some(subnets))
            .security_group_ids(self.group_id("webhook"))
            .build()
    }

    /// The webhook moved to `subnets` (none: out of the VPC).
    async fn move_webhook(&self, subnets: Vec<String>) {
        aws_sdk_lambda::Client::new(&self.sdk)
            .update_function_configuration()
            .function_name("webhook")
            .vpc_config(self.webhook_vpc(subnets))
            .send()
            .await
            .expect("update function");
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Runs each case on the estate in turn (each makes its change and names the findings it must
/// give), then judges them all with one audit.
macro_rules! evade {
    ($e:ident: $($case:ident($($arg:expr),*)),+ $(,)?) => {{
        let mut cases = Vec::new();
        $( cases.push((stringify!($case), $case(&$e, $($arg),*).await)); )+
        $e.judge(cases).await;
    }};
}

// ------------------------------------------------------------------------------------------
// The queue host: every interface and address counts

/// A second interface in the public subnet with an Elastic IP and a debugging group open to
/// SSH, the primary interface left private: the host is reachable from the internet and has a
/// public address and an interface outside the compute tier.
async fn a_second_interface_with_an_elastic_ip_exposes_the_queue_host(
    e: &Estate,
    host: &str,
) -> Vec<Want> {
    let debug = e.group("estate-debug").await;
    e.admit(&debug, 22, From::Cidr("0.0.0.0/0")).await;
    let (eni, _) = e.interface(&e.b.public[0], &[&debug], "debug", None).await;
    e.attach(&eni, host).await;
    e.elastic_ip(Some(&eni), None).await;
    let h = e.arn("instance", host);
    vec![
        fails("aws-ec2-rabbitmq-private", &h),
        fails("aws-data-tier-unreachable", &h),
        fails("aws-ec2-rabbitmq-ingress-internal", &h),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[0]),
        ),
    ]
}

/// An Elastic IP associated with the host after launch (it launched without a public
/// address): its interface has a public address, whether or not a route leads to it.
async fn an_elastic_ip_associated_after_launch_is_a_public_address(
    e: &Estate,
    host: &str,
) -> Vec<Want> {
    e.elastic_ip(None, Some(host)).await;
    vec![fails("aws-ec2-rabbitmq-private", e.arn("instance", host))]
}

/// A second interface in a database subnet (no public address): the broker now sits in the
/// data tier too, next to the database and the cache.
async fn a_second_interface_in_the_database_tier_bridges_the_queue_host(
    e: &Estate,
    host: &str,
) -> Vec<Want> {
    let rabbit = e.group_id("rabbitmq");
    let (eni, _) = e
        .interface(&e.b.database[0], &[&rabbit], "replication", None)
        .await;
    e.attach(&eni, host).await;
    vec![fails("aws-ec2-rabbitmq-private", e.arn("instance", host))]
}

/// A second interface with an IPv6 address in a dual-stack compute subnet: IPv6 addresses are
/// public, so the host has a public address though it has no public IPv4 one.
async fn an_ipv6_address_on_a_second_interface_is_a_public_address(
    e: &Estate,
    host: &str,
) -> Vec<Want> {
    let prefixes = e.dual_stack(&[e.b.compute[1].as_str()]).await;
    let rabbit = e.group_id("rabbitmq");
    let (eni, _) = e
        .interface(
            &e.b.compute[1],
            &[&rabbit],
            "ipv6",
            Some(&format!("{}::10", prefixes[0])),
        )
        .await;
    e.attach(&eni, host).await;
    vec![fails("aws-ec2-rabbitmq-private", e.arn("instance", host))]
}

/// A data volume attached after launch, unencrypted (the root volume is encrypted).
async fn an_unencrypted_volume_attached_after_launch(e: &Estate, host: &str) -> Vec<Want> {
    let ec2 = e.ec2();
    let volume = ec2
        .create_volume()
        .availability_zone(format!("{}a", e.region))
        .size(10)
        .encrypted(false)
        .send()
        .await
        .expect("volume")
        .volume_id()
        .expect("volume id")
        .to_string();
    ec2.attach_volume()
        .volume_id(&volume)
        .instance_id(host)
        .device("/dev/sdf")
        .send()
        .await
        .expect("attach volume");
    vec![fails("aws-ec2-ebs-encrypted", e.arn("volume", &volume))]
}

/// The URL keeps `AWS_IAM` auth, but a permission lets any AWS principal invoke it: anyone with
/// an AWS account (not only Cloudflare) can call the webhook by signing the request.
async fn an_aws_iam_url_whose_policy_admits_any_aws_principal(e: &Estate) -> Vec<Want> {
    aws_sdk_lambda::Client::new(&e.sdk)
        .add_permission()
        .function_name("webhook")
        .statement_id("AnyAccount")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("permission");
    vec![fails(
        "aws-lambda-url-cloudflare-only",
        e.function("webhook"),
    )]
}

/// The scalable target re-registered with its maximum at its minimum: policies and alarms are
/// all there, but the service can never grow.
async fn a_scalable_target_whose_maximum_is_its_minimum(e: &Estate) -> Vec<Want> {
    e.rescale(|r| r.max_capacity(2)).await;
    vec![fails("aws-ecs-autoscaling", e.service("worker"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_hosts_are_judged_by_every_interface_and_address() {
    let mut e = Estate::new("eu-central-1").await;
    let rabbit = e.group_id("rabbitmq");
    let h2 = e
        .queue_host("rabbitmq-2", &e.b.compute[1], &[&rabbit])
        .await;
    let h3 = e
        .queue_host("rabbitmq-3", &e.b.compute[0], &[&rabbit])
        .await;
    let h4 = e
        .queue_host("rabbitmq-4", &e.b.compute[1], &[&rabbit])
        .await;
    e.compliant().await;
    let h1 = e.b.instance.clone();
    evade!(e:
        a_second_interface_with_an_elastic_ip_exposes_the_queue_host(&h1),
        an_elastic_ip_associated_after_launch_is_a_public_address(&h2),
        a_second_interface_in_the_database_tier_bridges_the_queue_host(&h3),
        an_ipv6_address_on_a_second_interface_is_a_public_address(&h4),
        an_unencrypted_volume_attached_after_launch(&h3),
        an_aws_iam_url_whose_policy_admits_any_aws_principal(),
        a_scalable_target_whose_maximum_is_its_minimum(),
    );
}

// ------------------------------------------------------------------------------------------
// Load balancers and APIs in front of private components

/// The processors' group admits AMQP from anywhere (harmless on tasks without public
/// addresses), and an internet-facing Classic load balancer carrying that group forwards AMQP
/// to the broker, whose group admits the processors' group: a way in from the internet, and a
/// load balancer among the users of a group the broker admits.
async fn a_classic_load_balancer_carrying_the_processors_group_forwards_amqp_to_the_queue_host(
    e: &Estate,
    host: &str,
) -> Vec<Want> {
    use aws_sdk_elasticloadbalancing::types::{Instance, Listener};
    let workers = e.group_id("workers");
    e.admit(&workers, 5671, From::Cidr("0.0.0.0/0")).await;
    let classic = aws_sdk_elasticloadbalancing::Client::new(&e.sdk);
    classic
        .create_load_balancer()
        .load_balancer_name("estate-amqp")
        .listeners(
            Listener::builder()
                .protocol("TCP")
                .load_balancer_port(5671)
                .instance_port(5671)
                .build()
                .expect("listener"),
        )
        .set_subnets(Some(e.b.public.clone()))
        .security_groups(&workers)
        .scheme("internet-facing")
        .send()
        .await
        .expect("classic load balancer");
    classic
        .register_instances_with_load_balancer()
        .load_balancer_name("estate-amqp")
        .instances(Instance::builder().instance_id(host).build())
        .send()
        .await
        .expect("register instance");
    let h = e.arn("instance", host);
    vec![
        fails("aws-ec2-rabbitmq-private", &h),
        fails("aws-data-tier-unreachable", &h),
        fails("aws-ec2-rabbitmq-ingress-internal", &h),
    ]
}

/// An internet-facing network load balancer (no security group: it filters nothing) forwards
/// AMQP to the broker's private address; the broker's own group admits the load balancer's
/// subnets, as it must for the traffic to arrive.
async fn an_internet_facing_network_load_balancer_forwards_to_the_queue_hosts_address(
    e: &Estate,
    host: &str,
    group: &str,
) -> Vec<Want> {
    e.admit(group, 5671, From::Cidr(PUBLIC_RANGE)).await;
    let ip = e.address_of(host).await;
    let nlb = e.internet_facing_nlb("estate-amqp-nlb").await;
    e.forward(
        &nlb,
        ("estate-amqp-ip", TargetTypeEnum::Ip, ProtocolEnum::Tcp),
        5671,
        &[&ip],
        Some(5671),
    )
    .await;
    let h = e.arn("instance", host);
    vec![
        fails("aws-ec2-rabbitmq-private", &h),
        fails("aws-data-tier-unreachable", &h),
    ]
}

/// An internal application load balancer in the compute subnets serves the broker's
/// management UI, and an internet-facing network load balancer forwards to it (a target group
/// of type `alb`): the internal one is reachable through the other, and so is the broker.
async fn a_network_load_balancer_in_front_of_an_internal_one_reaches_the_queue_host(
    e: &Estate,
    host: &str,
    group: &str,
) -> Vec<Want> {
    let internal_sg = e.group("estate-internal-alb").await;
    e.admit(&internal_sg, 80, From::Cidr(PUBLIC_RANGE)).await;
    e.admit(group, 15672, From::Group(&internal_sg)).await;
    let internal = e
        .load_balancer(
            "estate-internal",
            LbType::Application,
            Scheme::Internal,
            &e.b.compute,
            &[&internal_sg],
        )
        .await;
    e.forward(
        &internal,
        (
            "estate-management",
            TargetTypeEnum::Instance,
            ProtocolEnum::Http,
        ),
        80,
        &[host],
        Some(15672),
    )
    .await;
    let front = e.internet_facing_nlb("estate-front").await;
    e.forward(
        &front,
        ("estate-to-internal", TargetTypeEnum::Alb, ProtocolEnum::Tcp),
        80,
        &[&internal],
        Some(80),
    )
    .await;
    let h = e.arn("instance", host);
    vec![
        fails("aws-ec2-rabbitmq-private", &h),
        fails("aws-data-tier-unreachable", &h),
    ]
}

/// A REST API whose method invokes the webhook (a Lambda proxy integration), its default
/// `execute-api` endpoint on and no resource policy: anyone can call the webhook there.
async fn a_rest_api_default_endpoint_invokes_the_webhook(e: &Estate) -> Vec<Want> {
    let api = aws_sdk_apigateway::Client::new(&e.sdk);
    let id = api
        .create_rest_api()
        .name("webhook")
        .send()
        .await
        .expect("rest api")
        .id()
        .expect("api id")
        .to_string();
    let root = api
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .expect("resources")
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .expect("root resource")
        .to_string();
    api.put_method()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("POST")
        .authorization_type("NONE")
        .send()
        .await
        .expect("method");
    api.put_integration()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("POST")
        .r#type(aws_sdk_apigateway::types::IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
            e.region,
            e.function("webhook")
        ))
        .send()
        .await
        .expect("integration");
    vec![fails(
        "aws-lambda-url-cloudflare-only",
        e.function("webhook"),
    )]
}

/// The scaling policies deleted, the scalable target kept: nothing moves the service.
async fn the_scaling_policies_deleted_leave_a_target_that_never_moves(e: &Estate) -> Vec<Want> {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    let aas = aws_sdk_applicationautoscaling::Client::new(&e.sdk);
    for name in e.b.policies.keys() {
        aas.delete_scaling_policy()
            .policy_name(*name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/estate/worker")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .expect("delete policy");
    }
    vec![fails("aws-ecs-autoscaling", e.service("worker"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancers_in_front_of_the_queue_hosts_are_ways_in() {
    let mut e = Estate::new("eu-central-2").await;
    let rabbit = e.group_id("rabbitmq");
    // The second and third brokers each carry a group of their own too, so what one case
    // admits there reaches no other broker.
    let g2 = e.group("estate-rabbitmq-2").await;
    let g3 = e.group("estate-rabbitmq-3").await;
    let h2 = e
        .queue_host("rabbitmq-2", &e.b.compute[1], &[&rabbit, &g2])
        .await;
    let h3 = e
        .queue_host("rabbitmq-3", &e.b.compute[0], &[&rabbit, &g3])
        .await;
    e.compliant().await;
    let h1 = e.b.instance.clone();
    evade!(e:
        a_classic_load_balancer_carrying_the_processors_group_forwards_amqp_to_the_queue_host(&h1),
        an_internet_facing_network_load_balancer_forwards_to_the_queue_hosts_address(&h2, &g2),
        a_network_load_balancer_in_front_of_an_internal_one_reaches_the_queue_host(&h3, &g3),
        a_rest_api_default_endpoint_invokes_the_webhook(),
        the_scaling_policies_deleted_leave_a_target_that_never_moves(),
    );
}

/// The database's interface (AWS gives every RDS instance one in a subnet of its group, with
/// its groups; moto keeps none, so the harness makes the one AWS would), an internet-facing
/// network load balancer forwarding MySQL to its address, and the database's group admitting
/// the load balancer's subnets: a way in, though the instance is not publicly accessible.
async fn a_network_load_balancer_reaches_the_database_by_its_address(e: &Estate) -> Vec<Want> {
    let mysql = e.group_id("mysql");
    e.expose_by_address(
        &e.b.database[0],
        &mysql,
        "RDSNetworkInterface",
        3306,
        "mysql",
    )
    .await;
    let db = e.db("estate-db");
    vec![
        fails("aws-rds-not-public", &db),
        fails("aws-data-tier-unreachable", &db),
    ]
}

/// The same through the cache node's interface (ElastiCache's, made as AWS would, described
/// `ElastiCache <cluster>`): Redis reachable from the internet through a load balancer.
async fn a_network_load_balancer_reaches_the_cache_by_its_node_address(e: &Estate) -> Vec<Want> {
    let redis = e.group_id("redis");
    let owner = "ElastiCache estate-redis-001";
    e.expose_by_address(&e.b.database[1], &redis, owner, 6379, "redis")
        .await;
    vec![fails(
        "aws-data-tier-unreachable",
        e.cache("estate-redis-001"),
    )]
}

/// The same through a processor task's interface (ECS's, made as AWS would, described by the
/// task's attachment ARN): a task reachable from the internet, though the service assigns no
/// public address.
async fn a_network_load_balancer_reaches_a_processor_task_by_its_address(e: &Estate) -> Vec<Want> {
    let workers = e.group_id("workers");
    let attachment = format!(
        "arn:aws:ecs:{}:{ACCOUNT}:attachment/3f1b2c4d-0000-4000-8000-000000000001",
        e.region
    );
    e.expose_by_address(&e.b.compute[0], &workers, &attachment, 8080, "task")
        .await;
    let s = e.service("worker");
    vec![
        fails("aws-ecs-service-private", &s),
        fails("aws-data-tier-unreachable", &s),
    ]
}

/// An HTTP API with a Lambda proxy integration to the webhook, its default endpoint on (an
/// HTTP API has no resource policy): anyone can call the webhook there.
async fn an_http_api_default_endpoint_invokes_the_webhook(e: &Estate) -> Vec<Want> {
    let api = aws_sdk_apigatewayv2::Client::new(&e.sdk);
    let id = api
        .create_api()
        .name("webhook")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("http api")
        .api_id()
        .expect("api id")
        .to_string();
    api.create_integration()
        .api_id(&id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::AwsProxy)
        .integration_uri(e.function("webhook"))
        .payload_format_version("2.0")
        .send()
        .await
        .expect("integration");
    vec![fails(
        "aws-lambda-url-cloudflare-only",
        e.function("webhook"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancers_reach_the_data_stores_and_tasks_by_their_addresses() {
    let mut e = Estate::new("eu-north-1").await;
    e.compliant().await;
    evade!(e:
        a_network_load_balancer_reaches_the_database_by_its_address(),
        a_network_load_balancer_reaches_the_cache_by_its_node_address(),
        a_network_load_balancer_reaches_a_processor_task_by_its_address(),
        an_http_api_default_endpoint_invokes_the_webhook(),
    );
}

/// Dynamic scaling out suspended on the scalable target (as an operator does during an
/// incident, and forgets): the target, the policies and the alarms are all there, the alarms
/// fire, and the service never grows.
async fn dynamic_scale_out_suspended_leaves_the_processors_at_their_size(e: &Estate) -> Vec<Want> {
    e.rescale(|r| {
        r.suspended_state(
            aws_sdk_applicationautoscaling::types::SuspendedState::builder()
                .dynamic_scaling_out_suspended(true)
                .build(),
        )
    })
    .await;
    vec![fails("aws-ecs-autoscaling", e.service("worker"))]
}

/// A second processing service (a bulk worker) in the compute subnets with the processors'
/// group, its scalable target registered with its minimum at its maximum: it is not the
/// service `estate.toml` names, and it never scales.
async fn a_second_processing_service_whose_target_never_moves(e: &Estate) -> Vec<Want> {
    e.place_processors(
        "worker-bulk",
        e.b.compute.clone(),
        &e.group_id("workers"),
        false,
    )
    .await;
    e.rescale(|r| {
        r.resource_id("service/estate/worker-bulk")
            .min_capacity(4)
            .max_capacity(4)
    })
    .await;
    vec![fails("aws-ecs-autoscaling", e.service("worker-bulk"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_scalable_target_is_no_autoscaling() {
    let mut e = Estate::new("eu-west-1").await;
    e.compliant().await;
    evade!(e:
        dynamic_scale_out_suspended_leaves_the_processors_at_their_size(),
        a_second_processing_service_whose_target_never_moves(),
    );
}

// ------------------------------------------------------------------------------------------
// Routes out of the private tiers, whatever their shape

/// IPv4 stays closed (no public addresses, the default route on the NAT gateway), but the VPC
/// gets IPv6, the compute subnets dual-stack, the private table an IPv6 default route to the
/// internet gateway and the processors' group a health-check port open to `::/0`: every
/// private subnet routes to the internet gateway, and the tasks are reachable over IPv6.
async fn an_ipv6_default_route_and_an_ipv6_rule_expose_the_processors(e: &Estate) -> Vec<Want> {
    e.dual_stack(&[e.b.compute[0].as_str(), e.b.compute[1].as_str()])
        .await;
    e.ec2()
        .create_route()
        .route_table_id(&e.b.private_rt)
        .destination_ipv6_cidr_block("::/0")
        .gateway_id(&e.b.igw)
        .send()
        .await
        .expect("ipv6 route");
    e.admit(&e.group_id("workers"), 8080, From::Ipv6("::/0"))
        .await;
    let s = e.service("worker");
    let mut wants: Vec<Want> =
        e.b.compute
            .iter()
            .chain(&e.b.database)
            .map(|sub| fails("aws-subnet-private-no-igw-route", e.arn("subnet", sub)))
            .collect();
    wants.push(fails("aws-ecs-service-private", &s));
    wants.push(fails("aws-data-tier-unreachable", &s));
    wants
}

/// The webhook deleted and redeployed under another name with its URL: the function the
/// estate names as its webhook is gone, so the estate has no webhook endpoint at all.
async fn the_webhook_replaced_by_a_function_of_another_name(e: &Estate) -> Vec<Want> {
    let lambda = aws_sdk_lambda::Client::new(&e.sdk);
    create_function(
        &e.sdk,
        e.region,
        "webhook-v2",
        Some(e.webhook_vpc(e.b.compute.clone())),
    )
    .await;
    lambda
        .create_function_url_config()
        .function_name("webhook-v2")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("function url");
    lambda
        .delete_function()
        .function_name("webhook")
        .send()
        .await
        .expect("delete function");
    vec![fails("aws-lambda-webhook-url", e.arn("vpc", &e.b.vpc))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_opens_what_ipv4_keeps_closed() {
    let mut e = Estate::new("eu-south-1").await;
    e.compliant().await;
    evade!(e:
        an_ipv6_default_route_and_an_ipv6_rule_expose_the_processors(),
        the_webhook_replaced_by_a_function_of_another_name(),
    );
}

/// The estate VPC's main route table, which no private subnet uses, gets a default route to
/// the internet gateway; then a database subnet's explicit association is removed, so that it
/// falls back to the main table.
async fn a_subnet_falling_back_to_a_main_table_that_routes_to_the_internet_gateway(
    e: &Estate,
) -> Vec<Want> {
    let ec2 = e.ec2();
    let tables = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &e.b.vpc))
        .send()
        .await
        .expect("route tables");
    let main = tables
        .route_tables()
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
        .and_then(|t| t.route_table_id())
        .expect("the main table")
        .to_string();
    let association = tables
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(e.b.database[1].as_str()))
        .and_then(|a| a.route_table_association_id())
        .expect("the subnet's association")
        .to_string();
    ec2.create_route()
        .route_table_id(&main)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&e.b.igw)
        .send()
        .await
        .expect("main igw route");
    ec2.disassociate_route_table()
        .association_id(association)
        .send()
        .await
        .expect("disassociate");
    vec![fails(
        "aws-subnet-private-no-igw-route",
        e.arn("subnet", &e.b.database[1]),
    )]
}

/// A private table of its own for one subnet: `routes` (destination, target) besides the
/// default route to the NAT gateway. Targets starting `igw-` or `vgw-` are gateways, `tgw-`
/// transit gateways.
async fn own_table(e: &Estate, subnet: &str, name: &str, routes: &[(&str, &str)]) {
    let ec2 = e.ec2();
    let table = ec2
        .create_route_table()
        .vpc_id(&e.b.vpc)
        .tag_specifications(tags(e.region, ResourceType::RouteTable, &[("Name", name)]))
        .send()
        .await
        .expect("route table")
        .route_table()
        .and_then(|t| t.route_table_id())
        .expect("table id")
        .to_string();
    let nat = e.b.nat.clone().expect("the compliant estate's nat");
    for (dest, target) in [("0.0.0.0/0", nat.as_str())].iter().chain(routes) {
        let route = ec2
            .create_route()
            .route_table_id(&table)
            .destination_cidr_block(*dest);
        let route = match &target[..4] {
            "nat-" => route.nat_gateway_id(*target),
            "tgw-" => route.transit_gateway_id(*target),
            _ => route.gateway_id(*target),
        };
        route.send().await.expect("route");
    }
    let association = ec2
        .describe_route_tables()
        .filters(filter("association.subnet-id", subnet))
        .send()
        .await
        .expect("route tables")
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| a.route_table_association_id())
        .expect("the subnet's association")
        .to_string();
    ec2.replace_route_table_association()
        .association_id(association)
        .route_table_id(&table)
        .send()
        .await
        .expect("replace association");
}

/// The default route stays on the NAT gateway, but two more specific halves of the address
/// space (0.0.0.0/1 and 128.0.0.0/1) go to the internet gateway: all traffic takes them.
async fn the_default_route_split_in_two_halves_reaches_the_internet_gateway(
    e: &Estate,
) -> Vec<Want> {
    let igw = e.b.igw.clone();
    let subnet = e.b.compute[1].clone();
    own_table(
        e,
        &subnet,
        "estate-private-halves",
        &[("0.0.0.0/1", &igw), ("128.0.0.0/1", &igw)],
    )
    .await;
    vec![fails(
        "aws-subnet-private-no-igw-route",
        e.arn("subnet", &subnet),
    )]
}

/// A transit gateway attached to the VPC and a route for another network's range through it in
/// the private table: the compute tier exchanges traffic with networks outside the estate.
async fn a_transit_gateway_route_joins_the_private_tiers_to_another_network(
    e: &Estate,
) -> Vec<Want> {
    let ec2 = e.ec2();
    let tgw = ec2
        .create_transit_gateway()
        .send()
        .await
        .expect("transit gateway")
        .transit_gateway()
        .and_then(|t| t.transit_gateway_id())
        .expect("tgw id")
        .to_string();
    ec2.create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&tgw)
        .vpc_id(&e.b.vpc)
        .set_subnet_ids(Some(e.b.compute.clone()))
        .send()
        .await
        .expect("tgw attachment");
    ec2.create_route()
        .route_table_id(&e.b.private_rt)
        .destination_cidr_block("192.168.0.0/16")
        .transit_gateway_id(&tgw)
        .send()
        .await
        .expect("tgw route");
    vec![fails(
        "aws-subnet-private-no-external-route",
        e.arn("subnet", &e.b.compute[0]),
    )]
}

/// A virtual private gateway attached to the VPC and a database subnet given a table of its
/// own that routes an office range through it: the data tier is joined to the office network.
async fn a_virtual_private_gateway_route_to_an_office_range_leaves_the_vpc(
    e: &Estate,
) -> Vec<Want> {
    let ec2 = e.ec2();
    let vgw = ec2
        .create_vpn_gateway()
        .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
        .send()
        .await
        .expect("vpn gateway")
        .vpn_gateway()
        .and_then(|g| g.vpn_gateway_id())
        .expect("vgw id")
        .to_string();
    ec2.attach_vpn_gateway()
        .vpn_gateway_id(&vgw)
        .vpc_id(&e.b.vpc)
        .send()
        .await
        .expect("attach vgw");
    let subnet = e.b.database[0].clone();
    own_table(e, &subnet, "estate-private-office", &[(OFFICE_RANGE, &vgw)]).await;
    vec![fails(
        "aws-subnet-private-no-external-route",
        e.arn("subnet", &subnet),
    )]
}

/// A NAT gateway for `subnet`, public with a new Elastic IP or private: its ARN.
async fn nat_gateway(e: &Estate, subnet: &str, public: bool) -> String {
    let ec2 = e.ec2();
    let mut req = ec2.create_nat_gateway().subnet_id(subnet);
    if public {
        let eip = ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .expect("elastic ip");
        req = req.set_allocation_id(eip.allocation_id().map(str::to_string));
    } else {
        req = req.connectivity_type(aws_sdk_ec2::types::ConnectivityType::Private);
    }
    let id = req
        .send()
        .await
        .expect("nat gateway")
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .expect("nat id")
        .to_string();
    e.arn("natgateway", &id)
}

/// A second, public NAT gateway placed in a compute subnet (the first stays in the public
/// tier): it cannot reach the internet gateway, and whoever routes to it has no egress.
async fn a_second_nat_gateway_in_a_compute_subnet(e: &Estate) -> Vec<Want> {
    let nat = nat_gateway(e, &e.b.compute[0], true).await;
    vec![fails("aws-nat-gateway-public-subnet", nat)]
}

/// A private NAT gateway (no Elastic IP, no internet egress) in the public subnet, beside the
/// public one: not the managed internet egress the spec describes.
async fn a_private_nat_gateway_in_the_public_subnet(e: &Estate) -> Vec<Want> {
    let nat = nat_gateway(e, &e.b.public[1], false).await;
    vec![fails("aws-nat-gateway-public-subnet", nat)]
}

/// An internet-facing application load balancer open to anyone on port 80: its listener
/// answers 404 by default, and a rule (not the default action, which a quick look reads)
/// forwards `/hook` to the webhook (a target group of type `lambda`). A way around Cloudflare,
/// though the function URL itself is protected.
async fn a_listener_rule_of_an_internet_facing_load_balancer_forwards_to_the_webhook(
    e: &Estate,
) -> Vec<Want> {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, FixedResponseActionConfig, RuleCondition,
    };
    let open = e.group("estate-webhook-alb").await;
    e.admit(&open, 80, From::Cidr("0.0.0.0/0")).await;
    let alb = e
        .load_balancer(
            "estate-webhook",
            LbType::Application,
            Scheme::InternetFacing,
            &e.b.public,
            &[&open],
        )
        .await;
    let group = e
        .target_group(
            (
                "estate-webhook-fn",
                TargetTypeEnum::Lambda,
                ProtocolEnum::Http,
            ),
            &[&e.function("webhook")],
            None,
        )
        .await;
    let elb = e.elb();
    let listener = elb
        .create_listener()
        .load_balancer_arn(&alb)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("404")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("listener")
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .expect("listener arn")
        .to_string();
    elb.create_rule()
        .listener_arn(listener)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .values("/hook")
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(group)
                .build(),
        )
        .send()
        .await
        .expect("listener rule");
    vec![fails(
        "aws-lambda-url-cloudflare-only",
        e.function("webhook"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_and_gateways_are_found_whatever_their_shape() {
    let mut e = Estate::new("eu-south-2").await;
    e.compliant().await;
    evade!(e:
        a_subnet_falling_back_to_a_main_table_that_routes_to_the_internet_gateway(),
        the_default_route_split_in_two_halves_reaches_the_internet_gateway(),
        a_transit_gateway_route_joins_the_private_tiers_to_another_network(),
        a_virtual_private_gateway_route_to_an_office_range_leaves_the_vpc(),
        a_second_nat_gateway_in_a_compute_subnet(),
        a_private_nat_gateway_in_the_public_subnet(),
        a_listener_rule_of_an_internet_facing_load_balancer_forwards_to_the_webhook(),
    );
}

// ------------------------------------------------------------------------------------------
// Tiers and subnets, read from every subnet

/// Sets `Tier` on `subnet` to `tier`, or removes it (`None`).
async fn retier(e: &Estate, subnet: &str, tier: Option<&str>) {
    let tag = aws_sdk_ec2::types::Tag::builder().key("Tier");
    let ec2 = e.ec2();
    match tier {
        Some(t) => {
            ec2.create_tags()
                .resources(subnet)
                .tags(tag.value(t).build())
                .send()
                .await
                .expect("tier tag");
        }
        None => {
            ec2.delete_tags()
                .resources(subnet)
                .tags(tag.build())
                .send()
                .await
                .expect("tier tag removed");
        }
    }
}

/// A database subnet re-tagged as compute (repurposed by a hurried operator): the database
/// tier is left in one availability zone, and the database's and the cache's subnet groups now
/// hold a compute subnet.
async fn a_database_subnet_retagged_as_compute_leaves_the_data_tier_in_one_zone(
    e: &Estate,
) -> Vec<Want> {
    retier(e, &e.b.database[1], Some("compute")).await;
    vec![
        fails("aws-vpc-subnet-tiers", e.arn("vpc", &e.b.vpc)),
        fails("aws-rds-database-subnets", e.db("estate-db")),
        fails(
            "aws-elasticache-database-subnets",
            e.cache("estate-redis-001"),
        ),
    ]
}

/// A compute subnet made dual-stack and set to assign IPv6 addresses on creation, its IPv4
/// mapping left off: everything launched there gets a public IPv6 address.
async fn a_compute_subnet_assigns_ipv6_addresses_on_creation(e: &Estate) -> Vec<Want> {
    let subnet = e.b.compute[0].clone();
    e.dual_stack(&[subnet.as_str()]).await;
    e.ec2()
        .modify_subnet_attribute()
        .subnet_id(&subnet)
        .assign_ipv6_address_on_creation(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("assign ipv6");
    vec![fails(
        "aws-subnet-private-no-public-ip",
        e.arn("subnet", &subnet),
    )]
}

/// A database subnet (not a compute one, where a reviewer looks first) set to map public IPv4
/// addresses on launch.
async fn a_database_subnet_maps_public_ipv4_addresses(e: &Estate) -> Vec<Want> {
    let subnet = e.b.database[0].clone();
    e.ec2()
        .modify_subnet_attribute()
        .subnet_id(&subnet)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("map public ip");
    vec![fails(
        "aws-subnet-private-no-public-ip",
        e.arn("subnet", &subnet),
    )]
}

/// The processors' service gains a public subnet, public addresses still disabled: tasks can
/// be placed in the public tier, one rule away from the internet.
async fn the_processors_gain_a_public_subnet_without_public_addresses(e: &Estate) -> Vec<Want> {
    let mut subnets = e.b.compute.clone();
    subnets.push(e.b.public[0].clone());
    e.place_processors("worker", subnets, &e.group_id("workers"), false)
        .await;
    vec![
        fails("aws-ecs-service-private", e.service("worker")),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[0]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_and_subnet_settings_are_read_from_every_subnet() {
    let mut e = Estate::new("il-central-1").await;
    e.compliant().await;
    evade!(e:
        a_database_subnet_retagged_as_compute_leaves_the_data_tier_in_one_zone(),
        a_compute_subnet_assigns_ipv6_addresses_on_creation(),
        a_database_subnet_maps_public_ipv4_addresses(),
        the_processors_gain_a_public_subnet_without_public_addresses(),
    );
}

/// The Tier tags removed from the public subnets (a tag clean-up): the estate has no public
/// tier, whatever the subnets' routes say.
async fn the_public_subnets_untagged_leave_no_public_tier(e: &Estate) -> Vec<Want> {
    for s in &e.b.public {
        retier(e, s, None).await;
    }
    vec![fails("aws-vpc-subnet-tiers", e.arn("vpc", &e.b.vpc))]
}

/// The region's default VPC.
async fn default_vpc(e: &Estate) -> String {
    e.ec2()
        .describe_vpcs()
        .filters(filter("is-default", "true"))
        .send()
        .await
        .expect("vpcs")
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .expect("moto has a default VPC in every region")
        .to_string()
}

/// `rule` fails on `resource` when the estate is selected by `config`.
fn fails_with(rule: &'static str, resource: String, config: EstateConfig) -> Want {
    Want {
        config: Some(config),
        ..fails(rule, resource)
    }
}

/// An `estate.toml` naming the default VPC as the estate's (the workloads were deployed there
/// after all): the estate runs in a default VPC.
async fn an_estate_toml_naming_the_default_vpc(e: &Estate) -> Vec<Want> {
    let default = default_vpc(e).await;
    let mut config = estate_config(e.region);
    config.estate.vpc = Some(default.clone());
    vec![fails_with("aws-vpc-custom", e.arn("vpc", &default), config)]
}

/// The estate is selected by `Name=estate-vpc`, and that Name moved to the default VPC (the
/// custom one renamed `estate-vpc-old`): the estate is the default VPC now.
async fn the_name_an_estate_toml_selects_by_moved_to_the_default_vpc(e: &Estate) -> Vec<Want> {
    let default = default_vpc(e).await;
    let name = |v: &str| {
        aws_sdk_ec2::types::Tag::builder()
            .key("Name")
            .value(v)
            .build()
    };
    let ec2 = e.ec2();
    for (vpc, value) in [(&e.b.vpc, "estate-vpc-old"), (&default, "estate-vpc")] {
        ec2.create_tags()
            .resources(vpc)
            .tags(name(value))
            .send()
            .await
            .expect("name tag");
    }
    let mut config = estate_config(e.region);
    config.estate.vpc_tag = Some("Name=estate-vpc".into());
    vec![fails_with("aws-vpc-custom", e.arn("vpc", &default), config)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estate_vpc_is_custom_and_tiered_whatever_selects_it() {
    let mut e = Estate::new("me-central-1").await;
    e.compliant().await;
    evade!(e:
        the_public_subnets_untagged_leave_no_public_tier(),
        an_estate_toml_naming_the_default_vpc(),
        the_name_an_estate_toml_selects_by_moved_to_the_default_vpc(),
    );
}

// ------------------------------------------------------------------------------------------
// The webhook: its place, its endpoint and who shares its group

/// The webhook's VPC configuration gains a public subnet beside the compute ones.
async fn the_webhook_gains_a_public_subnet(e: &Estate) -> Vec<Want> {
    let mut subnets = e.b.compute.clone();
    subnets.push(e.b.public[1].clone());
    e.move_webhook(subnets).await;
    vec![
        fails("aws-lambda-in-vpc", e.function("webhook")),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[1]),
        ),
    ]
}

/// A second function (a reporting job) deployed with the webhook's security group: the broker,
/// which admits the webhook's group, now admits the job too.
async fn a_second_function_joins_the_webhooks_group(e: &Estate) -> Vec<Want> {
    create_function(
        &e.sdk,
        e.region,
        "reporter",
        Some(e.webhook_vpc(e.b.compute.clone())),
    )
    .await;
    vec![fails(
        "aws-ec2-rabbitmq-ingress-internal",
        e.arn("instance", &e.b.instance),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_is_judged_by_its_subnets_and_by_who_shares_its_group() {
    let mut e = Estate::new("me-south-1").await;
    e.compliant().await;
    evade!(e:
        the_webhook_gains_a_public_subnet(),
        a_second_function_joins_the_webhooks_group(),
    );
}

/// The webhook's function URL deleted (an API was meant to replace it and never did).
async fn the_webhook_url_deleted_leaves_no_https_endpoint(e: &Estate) -> Vec<Want> {
    aws_sdk_lambda::Client::new(&e.sdk)
        .delete_function_url_config()
        .function_name("webhook")
        .send()
        .await
        .expect("delete url");
    vec![fails("aws-lambda-webhook-url", e.function("webhook"))]
}

/// The webhook taken out of the VPC (subnets and groups emptied, as the console's "no VPC"
/// does): it cannot reach the internal broker without exposing it.
async fn the_webhook_moved_out_of_the_vpc(e: &Estate) -> Vec<Want> {
    aws_sdk_lambda::Client::new(&e.sdk)
        .update_function_configuration()
        .function_name("webhook")
        .vpc_config(aws_sdk_lambda::types::VpcConfig::builder().build())
        .send()
        .await
        .expect("update function");
    vec![fails("aws-lambda-in-vpc", e.function("webhook"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_keeps_its_endpoint_and_its_place() {
    let mut e = Estate::new("mx-central-1").await;
    e.compliant().await;
    evade!(e:
        the_webhook_url_deleted_leaves_no_https_endpoint(),
        the_webhook_moved_out_of_the_vpc(),
    );
}

// ------------------------------------------------------------------------------------------
// Who uses an admitted group is judged as itself

/// A bastion host in the public subnet launched with the processors' group (to reach what
/// they reach): the broker, the database and the cache all admit that group, and so the
/// bastion, from the public tier.
async fn a_bastion_carrying_the_processors_group(e: &Estate, host: &str) -> Vec<Want> {
    launched(instance(
        &e.ec2(),
        e.region,
        &e.b.image,
        &e.b.public[0],
        &[&e.group_id("workers")],
        &[("Name", "bastion")],
        true,
    ))
    .await;
    vec![
        fails("aws-ec2-rabbitmq-ingress-internal", e.arn("instance", host)),
        fails("aws-rds-ingress-compute-only", e.db("estate-db")),
        fails(
            "aws-elasticache-ingress-compute-only",
            e.cache("estate-redis-001"),
        ),
    ]
}

/// The broker's group admits the whole VPC range on AMQPS ("it is internal"): every subnet,
/// the public one included, and whatever runs there.
async fn the_queue_admits_the_vpc_range(e: &Estate, host: &str, group: &str) -> Vec<Want> {
    e.admit(group, 5671, From::Cidr("10.20.0.0/16")).await;
    vec![fails(
        "aws-ec2-rabbitmq-ingress-internal",
        e.arn("instance", host),
    )]
}

/// A network interface left unattached with the webhook's group (created for a test and
/// forgotten): whatever attaches it later is admitted by the broker.
async fn a_stray_interface_carries_the_webhooks_group(e: &Estate, host: &str) -> Vec<Want> {
    e.interface(&e.b.compute[1], &[&e.group_id("webhook")], "test", None)
        .await;
    vec![fails(
        "aws-ec2-rabbitmq-ingress-internal",
        e.arn("instance", host),
    )]
}

/// A second instance (a build runner) launched with an unencrypted root volume.
async fn a_second_instance_launched_with_an_unencrypted_root_volume(e: &Estate) -> Vec<Want> {
    let runner = e.group("estate-runner").await;
    let id = launched(instance(
        &e.ec2(),
        e.region,
        &e.b.image,
        &e.b.compute[0],
        &[&runner],
        &[("Name", "build-runner")],
        false,
    ))
    .await;
    let volume = e
        .ec2()
        .describe_volumes()
        .filters(filter("attachment.instance-id", &id))
        .send()
        .await
        .expect("volumes")
        .volumes()
        .first()
        .and_then(|v| v.volume_id())
        .expect("the root volume")
        .to_string();
    vec![fails("aws-ec2-ebs-encrypted", e.arn("volume", &volume))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_shares_an_admitted_group_is_judged_as_itself() {
    let mut e = Estate::new("us-east-1").await;
    // Three more brokers, each with a group of its own: the second admits only its cluster
    // peers, the third the processors only, the fourth the webhook only. What one case changes
    // reaches no other's broker.
    let (g2, g3, g4) = (
        e.group("estate-rabbitmq-2").await,
        e.group("estate-rabbitmq-3").await,
        e.group("estate-rabbitmq-4").await,
    );
    e.admit(&g2, 5671, From::Group(&g2)).await;
    e.admit(&g3, 5671, From::Group(&e.group_id("workers")))
        .await;
    e.admit(&g4, 5671, From::Group(&e.group_id("webhook")))
        .await;
    let h2 = e.queue_host("rabbitmq-2", &e.b.compute[1], &[&g2]).await;
    let h3 = e.queue_host("rabbitmq-3", &e.b.compute[0], &[&g3]).await;
    let h4 = e.queue_host("rabbitmq-4", &e.b.compute[1], &[&g4]).await;
    e.compliant().await;
    evade!(e:
        a_bastion_carrying_the_processors_group(&h3),
        the_queue_admits_the_vpc_range(&h2, &g2),
        a_stray_interface_carries_the_webhooks_group(&h4),
        a_second_instance_launched_with_an_unencrypted_root_volume(),
    );
}

// ------------------------------------------------------------------------------------------
// Every database and every cache cluster

/// A second database instance (a reporting copy), publicly accessible, unencrypted, in a
/// subnet group that holds a public subnet.
async fn a_second_database_public_unencrypted_and_in_a_public_subnet(e: &Estate) -> Vec<Want> {
    e.db_subnet_group("estate-db-2", &[&e.b.public[0], &e.b.database[0]])
        .await;
    e.database(
        "estate-db-2",
        "estate-db-2",
        &[&e.group_id("mysql")],
        (true, false),
    )
    .await;
    let db = e.db("estate-db-2");
    vec![
        fails("aws-rds-not-public", &db),
        fails("aws-rds-encrypted", &db),
        fails("aws-rds-database-subnets", &db),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[0]),
        ),
    ]
}

/// The database's subnet group modified to hold a compute subnet too.
async fn the_database_subnet_group_gains_a_compute_subnet(e: &Estate) -> Vec<Want> {
    let mut subnets = e.b.database.clone();
    subnets.push(e.b.compute[0].clone());
    aws_sdk_rds::Client::new(&e.sdk)
        .modify_db_subnet_group()
        .db_subnet_group_name("estate-db")
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .expect("modify subnet group");
    vec![fails("aws-rds-database-subnets", e.db("estate-db"))]
}

/// A second security group on the database (the first is untouched) admits MySQL from an
/// office range.
async fn a_second_group_on_the_database_admits_an_office_range(e: &Estate) -> Vec<Want> {
    let admin = e.group("estate-mysql-admin").await;
    e.admit(&admin, 3306, From::Cidr(OFFICE_RANGE)).await;
    aws_sdk_rds::Client::new(&e.sdk)
        .modify_db_instance()
        .db_instance_identifier("estate-db")
        .vpc_security_group_ids(e.group_id("mysql"))
        .vpc_security_group_ids(admin)
        .apply_immediately(true)
        .send()
        .await
        .expect("modify groups");
    vec![fails("aws-rds-ingress-compute-only", e.db("estate-db"))]
}

/// A database whose group admits, besides the processors, a group nobody uses yet: whatever
/// joins that group later reaches the data.
async fn a_database_admitting_a_group_nobody_uses_yet(e: &Estate) -> Vec<Want> {
    let (own, reporting) = (
        e.group("estate-mysql-3").await,
        e.group("estate-reporting").await,
    );
    e.admit(&own, 3306, From::Group(&e.group_id("workers")))
        .await;
    e.admit(&own, 3306, From::Group(&reporting)).await;
    e.db_subnet_group("estate-db-3", &[&e.b.database[0], &e.b.database[1]])
        .await;
    e.database("estate-db-3", "estate-db-3", &[&own], (false, true))
        .await;
    vec![fails("aws-rds-ingress-compute-only", e.db("estate-db-3"))]
}

/// An unencrypted database, stopped: a reading of the running databases only would skip it,
/// and its storage and snapshots are still unencrypted.
async fn a_stopped_unencrypted_database_is_still_judged(e: &Estate) -> Vec<Want> {
    e.db_subnet_group("estate-db-4", &[&e.b.database[0], &e.b.database[1]])
        .await;
    e.database(
        "estate-db-4",
        "estate-db-4",
        &[&e.group_id("mysql")],
        (false, false),
    )
    .await;
    aws_sdk_rds::Client::new(&e.sdk)
        .stop_db_instance()
        .db_instance_identifier("estate-db-4")
        .send()
        .await
        .expect("stop");
    vec![fails("aws-rds-encrypted", e.db("estate-db-4"))]
}

/// A second ECS service (a canary of the processors) in a public subnet with public addresses.
async fn a_second_service_in_a_public_subnet_with_public_addresses(e: &Estate) -> Vec<Want> {
    let canary = e.group("estate-canary").await;
    e.place_processors("worker-canary", vec![e.b.public[1].clone()], &canary, true)
        .await;
    vec![
        fails("aws-ecs-service-private", e.service("worker-canary")),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[1]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_database_instance_is_judged() {
    let mut e = Estate::new("us-east-2").await;
    e.compliant().await;
    evade!(e:
        a_second_database_public_unencrypted_and_in_a_public_subnet(),
        the_database_subnet_group_gains_a_compute_subnet(),
        a_second_group_on_the_database_admits_an_office_range(),
        a_database_admitting_a_group_nobody_uses_yet(),
        a_stopped_unencrypted_database_is_still_judged(),
        a_second_service_in_a_public_subnet_with_public_addresses(),
    );
}

/// A lone Redis cluster (no replication group) beside the estate's, in its subnet group with
/// its security group, without TLS: a lone cluster has no at-rest encryption either.
async fn a_standalone_cache_cluster_beside_the_replication_group(e: &Estate) -> Vec<Want> {
    e.lone_cache("estate-lone", "redis", "estate-cache").await;
    let c = e.cache("estate-lone");
    vec![
        fails("aws-elasticache-at-rest-encrypted", &c),
        fails("aws-elasticache-in-transit-encrypted", &c),
    ]
}

/// A second replication group, created without encryption at rest or in transit.
async fn a_second_replication_group_without_encryption(e: &Estate) -> Vec<Want> {
    let member = e
        .replication_group("estate-redis-b", "estate-cache", false, "required")
        .await;
    let c = e.cache(&member);
    vec![
        fails("aws-elasticache-at-rest-encrypted", &c),
        fails("aws-elasticache-in-transit-encrypted", &c),
    ]
}

/// A second replication group, encrypted at rest and in transit, its transit encryption in the
/// `preferred` mode (as a migration to TLS leaves it): clients that skip TLS are still served
/// in clear text.
async fn a_second_replication_group_whose_tls_is_only_preferred(e: &Estate) -> Vec<Want> {
    let member = e
        .replication_group("estate-redis-p", "estate-cache", true, "preferred")
        .await;
    vec![fails(
        "aws-elasticache-in-transit-encrypted",
        e.cache(&member),
    )]
}

/// A second, fully encrypted replication group in a subnet group that holds a compute subnet.
async fn a_cache_in_a_subnet_group_with_a_compute_subnet(e: &Estate) -> Vec<Want> {
    e.cache_subnet_group("estate-cache-c", &[&e.b.database[0], &e.b.compute[0]])
        .await;
    let member = e
        .replication_group("estate-redis-c", "estate-cache-c", true, "required")
        .await;
    vec![fails("aws-elasticache-database-subnets", e.cache(&member))]
}

/// A Memcached cluster (another engine, easy to leave out) in a subnet group that holds a
/// public subnet.
async fn a_memcached_cluster_in_a_public_subnet(e: &Estate) -> Vec<Want> {
    e.cache_subnet_group("estate-cache-m", &[&e.b.public[0], &e.b.database[0]])
        .await;
    e.lone_cache("estate-memcached", "memcached", "estate-cache-m")
        .await;
    vec![
        fails(
            "aws-elasticache-database-subnets",
            e.cache("estate-memcached"),
        ),
        fails(
            "aws-public-subnet-edge-only",
            e.arn("subnet", &e.b.public[0]),
        ),
    ]
}

/// The cache's group admits a managed prefix list (whose ranges are not collected, and here
/// hold an office range).
async fn the_cache_admits_a_prefix_list(e: &Estate) -> Vec<Want> {
    let list = e
        .ec2()
        .create_managed_prefix_list()
        .prefix_list_name("estate-office")
        .max_entries(5)
        .address_family("IPv4")
        .entries(
            aws_sdk_ec2::types::AddPrefixListEntry::builder()
                .cidr(OFFICE_RANGE)
                .build(),
        )
        .send()
        .await
        .expect("prefix list")
        .prefix_list()
        .and_then(|p| p.prefix_list_id())
        .expect("prefix list id")
        .to_string();
    e.admit(&e.group_id("redis"), 6379, From::PrefixList(&list))
        .await;
    vec![fails(
        "aws-elasticache-ingress-compute-only",
        e.cache("estate-redis-001"),
    )]
}

/// A new revision of the processors' task definition in bridge mode, deployed to the service
/// (its network configuration unchanged): the tasks share their host's network and groups.
async fn a_bridge_mode_task_definition_deployed_to_the_processors(e: &Estate) -> Vec<Want> {
    let ecs = aws_sdk_ecs::Client::new(&e.sdk);
    let td = ecs
        .register_task_definition()
        .family("worker")
        .network_mode(aws_sdk_ecs::types::NetworkMode::Bridge)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Ec2)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("worker")
                .image("worker:2")
                .essential(true)
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("task definition")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("td arn")
        .to_string();
    ecs.update_service()
        .cluster("estate")
        .service("worker")
        .task_definition(td)
        .send()
        .await
        .expect("update service");
    vec![fails("aws-ecs-service-private", e.service("worker"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cache_cluster_is_judged() {
    let mut e = Estate::new("us-west-1").await;
    e.compliant().await;
    evade!(e:
        a_standalone_cache_cluster_beside_the_replication_group(),
        a_second_replication_group_without_encryption(),
        a_second_replication_group_whose_tls_is_only_preferred(),
        a_cache_in_a_subnet_group_with_a_compute_subnet(),
        a_memcached_cluster_in_a_public_subnet(),
        the_cache_admits_a_prefix_list(),
        a_bridge_mode_task_definition_deployed_to_the_processors(),
    );
}

// ------------------------------------------------------------------------------------------
// What moto cannot hold: an alias's URL and a policy's conditions, through mocked Lambda

/// `rule` passes on `resource` (a control: the same setting without the evasion).
fn passes(rule: &'static str, resource: impl Into<String>) -> Want {
    Want {
        status: Status::Pass,
        ..fails(rule, resource)
    }
}

/// The estate collected from moto, except Lambda, which answers from mocks: the webhook as
/// built (same ARN, subnets and group) with the function URLs `urls` (qualifier, auth type),
/// and the resource policy `policy(qualifier)` for each (`None`: the function has none).
async fn audit_with_mocked_lambda(
    e: &Estate,
    urls: &[(Option<&str>, &str)],
    policy: fn(Option<&str>) -> Option<String>,
) -> Report {
    use aws_sdk_lambda::operation::get_policy::{GetPolicyError, GetPolicyOutput};
    use aws_sdk_lambda::operation::list_function_url_configs::ListFunctionUrlConfigsOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::{
        FunctionConfiguration, FunctionUrlAuthType, FunctionUrlConfig, VpcConfigResponse,
    };
    use aws_smithy_mocks::{
        create_mock_http_client, mock, MockResponse, MockResponseInterceptor, RuleMode,
    };
    let arn = e.function("webhook");
    let function = FunctionConfiguration::builder()
        .function_name("webhook")
        .function_arn(&arn)
        .vpc_config(
            VpcConfigResponse::builder()
                .set_subnet_ids(Some(e.b.compute.clone()))
                .security_group_ids(e.group_id("webhook"))
                .build(),
        )
        .build();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(move || {
        ListFunctionsOutput::builder()
            .functions(function.clone())
            .build()
    });
    let configs: Vec<FunctionUrlConfig> = urls
        .iter()
        .map(|(q, auth)| {
            let qualified = q.map(|q| format!("{arn}:{q}")).unwrap_or(arn.clone());
            FunctionUrlConfig::builder()
                .function_url(format!(
                    "https://{}.lambda-url.{}.on.aws/",
                    q.unwrap_or("own"),
                    e.region
                ))
                .function_arn(qualified)
                .auth_type(FunctionUrlAuthType::from(*auth))
                .creation_time("2026-01-01T00:00:00Z")
                .last_modified_time("2026-01-01T00:00:00Z")
                .build()
                .expect("url config")
        })
        .collect();
    let listed = mock!(aws_sdk_lambda::Client::list_function_url_configs).then_output(move || {
        ListFunctionUrlConfigsOutput::builder()
            .set_function_url_configs(Some(configs.clone()))
            .build()
            .expect("url list")
    });
    let policies = mock!(aws_sdk_lambda::Client::get_policy).then_compute_response(move |r| {
        match policy(r.qualifier()) {
            Some(p) => MockResponse::Output(GetPolicyOutput::builder().policy(p).build()),
            None => MockResponse::Error(GetPolicyError::ResourceNotFoundException(
                aws_sdk_lambda::types::error::ResourceNotFoundException::builder()
                    .message("no policy")
                    .build(),
            )),
        }
    });
    let guard = ReadOnlyGuard::new();
    let mut clients = Clients::new(&e.sdk, &guard);
    let mocks = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .with_rule(&list)
        .with_rule(&listed)
        .with_rule(&policies);
    clients.lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&e.sdk)
            .http_client(create_mock_http_client())
            .interceptor(guard.clone())
            .interceptor(mocks)
            .build(),
    );
    let home = [e.region.to_string()];
    let a = collect_and_audit_with(
        &clients,
        &guard,
        &e.sdk,
        e.region,
        estate_config(e.region),
        Some(&home),
    )
    .await;
    assert!(a.collection.errors.is_empty(), "{:#?}", a.collection.errors);
    a.report
}

/// A policy letting anyone invoke a URL with auth `NONE` from `sources`.
fn open_url_policy(sources: &[&str]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"FunctionURLAllowPublicAccess",
        "Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"*",
        "Condition":{{"StringEquals":{{"lambda:FunctionUrlAuthType":"NONE"}}{}}}}}]}}"#,
        if sources.is_empty() {
            String::new()
        } else {
            format!(
                r#","IpAddress":{{"aws:SourceIp":[{}]}}"#,
                sources
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    )
}

/// Cloudflare's ranges as the audit's Cloudflare stand-in publishes them.
const CLOUDFLARE: [&str; 3] = ["173.245.48.0/20", "104.16.0.0/13", "2400:cb00::/32"];

/// The function's own URL keeps `AWS_IAM` auth and no policy opens it, but an alias `live` has
/// a URL of its own with auth `NONE` and the public-access policy the console writes: the same
/// code, callable by anyone at the alias's address. (Moto keeps no alias URLs.)
async fn an_alias_url_open_to_anyone_beside_the_protected_one(e: &Estate) -> Vec<Want> {
    let report = audit_with_mocked_lambda(e, &[(None, "AWS_IAM"), (Some("live"), "NONE")], |q| {
        q.map(|_| open_url_policy(&[]))
    })
    .await;
    e.check(
        &report,
        vec![(
            "an_alias_url_open_to_anyone_beside_the_protected_one",
            vec![fails(
                "aws-lambda-url-cloudflare-only",
                e.function("webhook"),
            )],
        )],
    )
    .await;
    Vec::new()
}

/// A URL with auth `NONE` whose policy limits `aws:SourceIp` to Cloudflare's ranges passes;
/// the same policy with an office range added (for testing without Cloudflare) fails. (Moto's
/// AddPermission keeps no conditions.)
async fn a_source_condition_widened_by_an_office_range(e: &Estate) -> Vec<Want> {
    let only =
        audit_with_mocked_lambda(e, &[(None, "NONE")], |_| Some(open_url_policy(&CLOUDFLARE)))
            .await;
    let widened = audit_with_mocked_lambda(e, &[(None, "NONE")], |_| {
        let mut sources = CLOUDFLARE.to_vec();
        sources.push(OFFICE_RANGE);
        Some(open_url_policy(&sources))
    })
    .await;
    let case = "a_source_condition_widened_by_an_office_range";
    let rule = "aws-lambda-url-cloudflare-only";
    e.check(
        &only,
        vec![(case, vec![passes(rule, e.function("webhook"))])],
    )
    .await;
    e.check(
        &widened,
        vec![(case, vec![fails(rule, e.function("webhook"))])],
    )
    .await;
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_moto_cannot_hold_are_judged_from_mocked_lambda_answers() {
    let mut e = Estate::new("ap-southeast-1").await;
    e.compliant().await;
    an_alias_url_open_to_anyone_beside_the_protected_one(&e).await;
    a_source_condition_widened_by_an_office_range(&e).await;
}

// ------------------------------------------------------------------------------------------
// An API's private integration

/// An HTTP API (default endpoint on) whose route is a private integration through a VPC link
/// to an internal network load balancer, which forwards to the broker's management UI; the
/// broker's own group admits the VPC link's group. The API is an internet front for the
/// internal load balancer, and so for the broker.
async fn an_http_api_vpc_link_reaches_the_queue_host_through_an_internal_load_balancer(
    e: &Estate,
    host: &str,
    group: &str,
) -> Vec<Want> {
    use aws_sdk_apigatewayv2::types::{ConnectionType, IntegrationType, ProtocolType};
    let link_sg = e.group("estate-vpc-link").await;
    e.admit(group, 15672, From::Group(&link_sg)).await;
    let ip = e.address_of(host).await;
    let internal = e
        .load_balancer(
            "estate-private",
            LbType::Network,
            Scheme::Internal,
            &e.b.compute,
            &[],
        )
        .await;
    let listener = e
        .forward(
            &internal,
            (
                "estate-management-ip",
                TargetTypeEnum::Ip,
                ProtocolEnum::Tcp,
            ),
            80,
            &[&ip],
            Some(15672),
        )
        .await;
    let api = aws_sdk_apigatewayv2::Client::new(&e.sdk);
    let link = api
        .create_vpc_link()
        .name("estate")
        .set_subnet_ids(Some(e.b.compute.clone()))
        .security_group_ids(&link_sg)
        .send()
        .await
        .expect("vpc link")
        .vpc_link_id()
        .expect("link id")
        .to_string();
    let id = api
        .create_api()
        .name("management")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .expect("http api")
        .api_id()
        .expect("api id")
        .to_string();
    api.create_integration()
        .api_id(&id)
        .integration_type(IntegrationType::HttpProxy)
        .connection_type(ConnectionType::VpcLink)
        .connection_id(link)
        .integration_uri(listener)
        .integration_method("ANY")
        .payload_format_version("1.0")
        .send()
        .await
        .expect("private integration");
    let h = e.arn("instance", host);
    vec![
        fails("aws-ec2-rabbitmq-private", &h),
        fails("aws-data-tier-unreachable", &h),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_private_integration_is_a_way_in() {
    let mut e = Estate::new("us-west-2").await;
    let g2 = e.group("estate-rabbitmq-2").await;
    let h2 = e
        .queue_host(
            "rabbitmq-2",
            &e.b.compute[1],
            &[&e.group_id("rabbitmq"), &g2],
        )
        .await;
    e.compliant().await;
    evade!(e: an_http_api_vpc_link_reaches_the_queue_host_through_an_internal_load_balancer(&h2, &g2));
}

// ------------------------------------------------------------------------------------------
// Alarm routes to PagerDuty

impl Estate {
    fn alarm(&self, name: &str) -> String {
        format!("arn:aws:cloudwatch:{}:{ACCOUNT}:alarm:{name}", self.region)
    }

    /// A topic named `name` with one subscription, `protocol` to `endpoint`.
    async fn topic(&self, name: &str, protocol: &str, endpoint: &str) -> String {
        estate::alert_topic(&self.sdk, name, None, protocol, endpoint).await
    }

    /// A monitoring alarm on the cache's memory named `name`, its action `topic`.
    async fn memory_alarm(&self, name: &str, topic: &str) {
        use aws_sdk_cloudwatch::types::ComparisonOperator;
        average_alarm(
            &aws_sdk_cloudwatch::Client::new(&self.sdk),
            name,
            (
                "AWS/ElastiCache",
                "DatabaseMemoryUsagePercentage",
                &[("CacheClusterId", "estate-redis-001")],
            ),
            (300, 3),
            (ComparisonOperator::GreaterThanThreshold, 80.0),
        )
        .actions_enabled(true)
        .alarm_actions(topic)
        .send()
        .await
        .expect("alarm");
    }
}

/// The database's CPU alarm has its actions disabled for a maintenance window and never
/// re-enabled: it still changes state, and pages nobody.
async fn alarm_actions_disabled_for_maintenance_and_never_re_enabled(e: &Estate) -> Vec<Want> {
    aws_sdk_cloudwatch::Client::new(&e.sdk)
        .disable_alarm_actions()
        .alarm_names("estate-db-cpu-high")
        .send()
        .await
        .expect("disable alarm actions");
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-db-cpu-high"),
    )]
}

/// A new alarm routed to a topic subscribed to PagerDuty's events endpoint over plain HTTP: the
/// integration key crosses the internet in clear, and PagerDuty's endpoint expects HTTPS.
async fn an_alarm_routed_to_pagerduty_over_plain_http(e: &Estate) -> Vec<Want> {
    let topic = e
        .topic(
            "estate-pagerduty-http",
            "http",
            "http://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
        )
        .await;
    e.memory_alarm("estate-redis-memory-http", &topic).await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-http"),
    )]
}

/// A new alarm routed to a topic subscribed over HTTPS to a host that begins like PagerDuty's
/// (`events.pagerduty.com.example.net`): it pages whoever holds that domain.
async fn an_alarm_routed_to_a_look_alike_of_pagerduty_s_host(e: &Estate) -> Vec<Want> {
    let topic = e
        .topic(
            "estate-pagerduty-look-alike",
            "https",
            "https://events.pagerduty.com.example.net/integration/0123/enqueue",
        )
        .await;
    e.memory_alarm("estate-redis-memory-look-alike", &topic)
        .await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-look-alike"),
    )]
}

/// A filter policy set on the PagerDuty subscription (to page only for "critical" messages):
/// CloudWatch's alarm notifications carry no message attributes, so the filter drops every one
/// and the confirmed subscription delivers nothing.
async fn a_filter_policy_on_the_pagerduty_subscription_drops_every_alarm(e: &Estate) -> Vec<Want> {
    let sns = aws_sdk_sns::Client::new(&e.sdk);
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&e.b.topic)
        .send()
        .await
        .expect("subscriptions");
    let arn = subs
        .subscriptions()
        .iter()
        .find(|s| s.protocol() == Some("https"))
        .and_then(|s| s.subscription_arn())
        .expect("the PagerDuty subscription")
        .to_string();
    sns.set_subscription_attributes()
        .subscription_arn(arn)
        .attribute_name("FilterPolicy")
        .attribute_value(r#"{"severity": ["critical"]}"#)
        .send()
        .await
        .expect("filter policy");
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("webhook-errors"),
    )]
}

/// A new alarm routed to a PagerDuty topic whose subscription filters the message body with a
/// policy written for EventBridge events (`detail-type`): CloudWatch's alarm notifications have
/// no such key, so the filter drops every one.
async fn a_body_filter_written_for_eventbridge_drops_the_alarm(e: &Estate) -> Vec<Want> {
    let topic = e
        .topic(
            "estate-pagerduty-body-filter",
            "https",
            estate::PAGERDUTY_URL,
        )
        .await;
    let sns = aws_sdk_sns::Client::new(&e.sdk);
    let arn = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .expect("subscriptions")
        .subscriptions()
        .first()
        .and_then(|s| s.subscription_arn())
        .expect("the subscription")
        .to_string();
    for (name, value) in [
        ("FilterPolicyScope", "MessageBody"),
        (
            "FilterPolicy",
            r#"{"detail-type": ["CloudWatch Alarm State Change"]}"#,
        ),
    ] {
        sns.set_subscription_attributes()
            .subscription_arn(&arn)
            .attribute_name(name)
            .attribute_value(value)
            .send()
            .await
            .expect("filter policy");
    }
    e.memory_alarm("estate-redis-memory-body-filter", &topic)
        .await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-body-filter"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_reach_pagerduty_only_through_a_confirmed_https_subscription() {
    let mut e = Estate::new("ca-central-1").await;
    e.compliant().await;
    evade!(e:
        alarm_actions_disabled_for_maintenance_and_never_re_enabled(),
        an_alarm_routed_to_pagerduty_over_plain_http(),
        an_alarm_routed_to_a_look_alike_of_pagerduty_s_host(),
        a_filter_policy_on_the_pagerduty_subscription_drops_every_alarm(),
        a_body_filter_written_for_eventbridge_drops_the_alarm(),
    );
}

// ------------------------------------------------------------------------------------------
// The PagerDuty topic's key, which CloudWatch must be able to use

impl Estate {
    /// A customer key with `policy`, by id.
    async fn key(&self, policy: &str) -> String {
        aws_sdk_kms::Client::new(&self.sdk)
            .create_key()
            .policy(policy)
            .send()
            .await
            .expect("key")
            .key_metadata()
            .expect("key metadata")
            .key_id()
            .to_string()
    }

    /// A topic encrypted with `key`, subscribed to PagerDuty over HTTPS, and a new monitoring
    /// alarm `alarm` on the cache's memory routed to it.
    async fn encrypted_route(&self, topic: &str, key: &str, alarm: &str) {
        let arn =
            estate::alert_topic(&self.sdk, topic, Some(key), "https", estate::PAGERDUTY_URL).await;
        self.memory_alarm(alarm, &arn).await;
    }
}

/// A new PagerDuty topic encrypted with the AWS managed key `alias/aws/sns` ("encryption at
/// rest, no key to manage"): that key's policy admits no service principal, so CloudWatch
/// cannot publish and every alarm notification is dropped before it reaches the topic.
async fn a_pagerduty_topic_encrypted_with_the_aws_managed_key(e: &Estate) -> Vec<Want> {
    e.encrypted_route(
        "estate-pagerduty-managed-key",
        "alias/aws/sns",
        "estate-redis-memory-managed-key",
    )
    .await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-managed-key"),
    )]
}

/// A new PagerDuty topic encrypted with a customer key whose policy is the account's default
/// (its root may do anything) and says nothing of CloudWatch: the topic, its subscription and
/// the alarm look like the compliant ones.
async fn a_pagerduty_topic_whose_key_policy_leaves_cloudwatch_out(e: &Estate) -> Vec<Want> {
    let key = e
        .key(r#"{"Version":"2012-10-17","Statement":[{"Sid":"account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#)
        .await;
    e.encrypted_route(
        "estate-pagerduty-account-key",
        &key,
        "estate-redis-memory-account-key",
    )
    .await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-account-key"),
    )]
}

/// A new PagerDuty topic whose key lets CloudWatch in but was disabled (a rotation done by hand,
/// the old key switched off): nothing can be encrypted with it, so nothing is published.
async fn a_pagerduty_topic_whose_key_is_disabled(e: &Estate) -> Vec<Want> {
    let key = e.key(estate::ALERTS_KEY_POLICY).await;
    aws_sdk_kms::Client::new(&e.sdk)
        .disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("disable key");
    e.encrypted_route(
        "estate-pagerduty-disabled-key",
        &key,
        "estate-redis-memory-disabled-key",
    )
    .await;
    vec![fails(
        "aws-alarms-route-pagerduty",
        e.alarm("estate-redis-memory-disabled-key"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_publishes_only_to_a_topic_whose_key_it_may_use() {
    let mut e = Estate::new("ap-south-2").await;
    e.compliant().await;
    evade!(e:
        a_pagerduty_topic_encrypted_with_the_aws_managed_key(),
        a_pagerduty_topic_whose_key_policy_leaves_cloudwatch_out(),
        a_pagerduty_topic_whose_key_is_disabled(),
    );
}

// ------------------------------------------------------------------------------------------
// An API whose default endpoint is off

/// An HTTP API invoking the webhook with its default endpoint switched off ("only Cloudflare
/// reaches it, through our domain"), served by a custom domain: the domain's own regional
/// endpoint answers anyone who asks it by name, Cloudflare or not.
async fn an_http_api_with_its_default_endpoint_off_served_by_a_custom_domain(
    e: &Estate,
) -> Vec<Want> {
    use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, IntegrationType, ProtocolType};
    let api = aws_sdk_apigatewayv2::Client::new(&e.sdk);
    let id = api
        .create_api()
        .name("webhook")
        .protocol_type(ProtocolType::Http)
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .expect("http api")
        .api_id()
        .expect("api id")
        .to_string();
    api.create_integration()
        .api_id(&id)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(e.function("webhook"))
        .payload_format_version("2.0")
        .send()
        .await
        .expect("integration");
    api.create_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .expect("stage");
    api.create_domain_name()
        .domain_name("hooks.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(format!(
                    "arn:aws:acm:{}:{ACCOUNT}:certificate/0b1c2d3e",
                    e.region
                ))
                .build(),
        )
        .send()
        .await
        .expect("domain name");
    api.create_api_mapping()
        .domain_name("hooks.example.com")
        .api_id(&id)
        .stage("$default")
        .send()
        .await
        .expect("api mapping");
    vec![fails(
        "aws-lambda-url-cloudflare-only",
        e.function("webhook"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_s_custom_domain_serves_it_with_the_default_endpoint_off() {
    let mut e = Estate::new("sa-east-1").await;
    e.compliant().await;
    evade!(e: an_http_api_with_its_default_endpoint_off_served_by_a_custom_domain());
}

// ------------------------------------------------------------------------------------------
// Scaling alarms, as Application Auto Scaling acts on them

/// The queue depth metric the estate's queue alarms watch (`put_alarms`).
const QUEUE: (&str, &str, &[(&str, &str)]) =
    ("Custom/RabbitMQ", "MessagesReady", &[("Queue", "requests")]);

/// `AWS/ECS` `CPUUtilization` of the service `name` of the estate's cluster.
fn cpu_of(name: &str) -> [(&str, &str); 2] {
    [("ClusterName", "estate"), ("ServiceName", name)]
}

type AlarmBuilder =
    aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;

impl Estate {
    /// Puts the scaling alarm `name` (replacing one of that name) as the estate puts its own:
    /// the Average of `metric` over `period` × `periods` seconds, every datapoint breaching,
    /// `op threshold`, actions enabled, its one action `policy`; then `change` alters what a
    /// case changes.
    async fn scaling_alarm(
        &self,
        name: &str,
        (namespace, metric, dims): (&str, &str, &[(&str, &str)]),
        (period, periods): (i32, i32),
        (op, threshold): (aws_sdk_cloudwatch::types::ComparisonOperator, f64),
        policy: &str,
        change: impl FnOnce(AlarmBuilder) -> AlarmBuilder,
    ) {
        let put = average_alarm(
            &aws_sdk_cloudwatch::Client::new(&self.sdk),
            name,
            (namespace, metric, dims),
            (period, periods),
            (op, threshold),
        )
        .actions_enabled(true)
        .alarm_actions(policy);
        change(put).send().await.expect("scaling alarm");
    }

    /// Puts the step scaling policy `name` on the service `service` (replacing one of that
    /// name): `kind` adjustments, each step `(lower bound, upper bound, adjustment)`. Its ARN.
    async fn step_policy(
        &self,
        service: &str,
        name: &str,
        kind: aws_sdk_applicationautoscaling::types::AdjustmentType,
        steps: &[(Option<f64>, Option<f64>, i32)],
    ) -> String {
        use aws_sdk_applicationautoscaling::types::{
            PolicyType, ScalableDimension, ServiceNamespace, StepAdjustment,
            StepScalingPolicyConfiguration,
        };
        let mut config = StepScalingPolicyConfiguration::builder().adjustment_type(kind);
        for &(lower, upper, n) in steps {
            config = config.step_adjustments(
                StepAdjustment::builder()
                    .set_metric_interval_lower_bound(lower)
                    .set_metric_interval_upper_bound(upper)
                    .scaling_adjustment(n)
                    .build()
                    .expect("step"),
            );
        }
        aws_sdk_applicationautoscaling::Client::new(&self.sdk)
            .put_scaling_policy()
            .policy_name(name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(format!("service/estate/{service}"))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::StepScaling)
            .step_scaling_policy_configuration(config.build())
            .send()
            .await
            .expect("scaling policy")
            .policy_arn()
            .to_string()
    }

    /// A second processing service `name` beside the processors (their subnets and group), its
    /// scalable target registered as theirs (2 to 12 tasks), with the one step policy
    /// `<name>-scale-out` of `kind` and `steps`: the policy's ARN.
    async fn processing_service(
        &self,
        name: &str,
        kind: aws_sdk_applicationautoscaling::types::AdjustmentType,
        steps: &[(Option<f64>, Option<f64>, i32)],
    ) -> String {
        self.place_processors(
            name,
            self.b.compute.clone(),
            &self.group_id("workers"),
            false,
        )
        .await;
        self.rescale(|r| r.resource_id(format!("service/estate/{name}")))
            .await;
        self.step_policy(name, &format!("{name}-scale-out"), kind, steps)
            .await
    }

    fn policy(&self, name: &str) -> String {
        self.b.policies[name].clone()
    }
}

/// The 90% CPU alarm re-pointed at another service's CPU (a canary's, its dashboard copied):
/// it still sets off the processors' scale-out policy, on a load they do not carry, and nothing
/// watches their own CPU at 90%.
async fn the_90_percent_cpu_alarm_watches_another_services_cpu(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.scaling_alarm(
        "worker-cpu-90-5m",
        ("AWS/ECS", "CPUUtilization", &cpu_of("worker-canary")),
        (60, 5),
        (Op::GreaterThanOrEqualToThreshold, 90.0),
        &e.policy("cpu-scale-out"),
        |a| a,
    )
    .await;
    vec![fails("aws-ecs-scale-cpu", e.service("worker"))]
}

/// The scale-in alarm rewritten to fire when the queue depth falls below 0 ("only when really
/// empty"): a depth is never negative, so it never fires and the extra tasks are never removed.
async fn the_queue_scale_in_alarm_waits_for_a_depth_below_zero(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.scaling_alarm(
        "worker-queue-empty",
        QUEUE,
        (60, 5),
        (Op::LessThanThreshold, 0.0),
        &e.policy("queue-scale-in"),
        |a| a,
    )
    .await;
    vec![fails(
        "aws-ecs-scale-queue-backpressure",
        e.service("worker"),
    )]
}

/// A second processing service (a bulk worker) with a scalable target, a scale-out policy and
/// a CPU alarm on it, the alarm's actions disabled (during a load test, and forgotten): the
/// alarm goes into ALARM and the policy never runs.
async fn a_second_processing_service_whose_only_scaling_alarm_has_its_actions_disabled(
    e: &Estate,
) -> Vec<Want> {
    use aws_sdk_applicationautoscaling::types::AdjustmentType;
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    let policy = e
        .processing_service(
            "worker-bulk",
            AdjustmentType::ChangeInCapacity,
            &[(Some(0.0), None, 1)],
        )
        .await;
    e.scaling_alarm(
        "worker-bulk-cpu-high",
        ("AWS/ECS", "CPUUtilization", &cpu_of("worker-bulk")),
        (60, 5),
        (Op::GreaterThanOrEqualToThreshold, 80.0),
        &policy,
        |a| a.actions_enabled(false),
    )
    .await;
    vec![
        fails("aws-ecs-autoscaling", e.service("worker-bulk")),
        fails("aws-alarm-actions-enabled", e.alarm("worker-bulk-cpu-high")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_alarms_on_the_wrong_metric_or_switched_off_scale_nothing() {
    let mut e = Estate::new("eu-west-2").await;
    e.compliant().await;
    evade!(e:
        the_90_percent_cpu_alarm_watches_another_services_cpu(),
        the_queue_scale_in_alarm_waits_for_a_depth_below_zero(),
        a_second_processing_service_whose_only_scaling_alarm_has_its_actions_disabled(),
    );
}

/// The 80% / 15 min alarm rewritten on the Maximum of CPU (to react to spikes): it watches one
/// task's peaks, not the average utilisation the spec names, and no alarm is left on the
/// average at 80%.
async fn the_80_percent_cpu_alarm_takes_the_maximum_of_cpu(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator as Op, Statistic};
    e.scaling_alarm(
        "worker-cpu-80-15m",
        ("AWS/ECS", "CPUUtilization", &cpu_of("worker")),
        (300, 3),
        (Op::GreaterThanOrEqualToThreshold, 80.0),
        &e.policy("cpu-scale-out"),
        |a| a.statistic(Statistic::Maximum),
    )
    .await;
    vec![fails("aws-ecs-scale-cpu", e.service("worker"))]
}

/// The queue's scale-out policy replaced under its own name by one whose single step (no
/// bounds) removes a task: the queue-growing alarm keeps its action, and a growing queue now
/// shrinks the service.
async fn the_queue_scale_out_policy_replaced_by_one_that_removes_tasks(e: &Estate) -> Vec<Want> {
    use aws_sdk_applicationautoscaling::types::AdjustmentType;
    e.step_policy(
        "worker",
        "queue-scale-out",
        AdjustmentType::ChangeInCapacity,
        &[(None, None, -1)],
    )
    .await;
    vec![fails(
        "aws-ecs-scale-queue-backpressure",
        e.service("worker"),
    )]
}

/// A second processing service whose scale-out policy sets an exact capacity of 2, its
/// target's minimum ("scale to 2 when CPU is high" read as "at least 2"): the alarm fires as
/// load rises and the service is set to its smallest size.
async fn a_second_processing_service_pinned_to_its_minimum_by_an_exact_capacity(
    e: &Estate,
) -> Vec<Want> {
    use aws_sdk_applicationautoscaling::types::AdjustmentType;
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    let policy = e
        .processing_service(
            "worker-batch",
            AdjustmentType::ExactCapacity,
            &[(Some(0.0), None, 2)],
        )
        .await;
    e.scaling_alarm(
        "worker-batch-cpu-high",
        ("AWS/ECS", "CPUUtilization", &cpu_of("worker-batch")),
        (60, 5),
        (Op::GreaterThanOrEqualToThreshold, 80.0),
        &policy,
        |a| a,
    )
    .await;
    vec![fails("aws-ecs-autoscaling", e.service("worker-batch"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_policies_that_point_the_wrong_way_scale_nothing() {
    let mut e = Estate::new("eu-west-3").await;
    e.compliant().await;
    evade!(e:
        the_80_percent_cpu_alarm_takes_the_maximum_of_cpu(),
        the_queue_scale_out_policy_replaced_by_one_that_removes_tasks(),
        a_second_processing_service_pinned_to_its_minimum_by_an_exact_capacity(),
    );
}

/// The CPU scale-out policy replaced under its own name by an exact capacity of 2, the
/// target's minimum: both CPU alarms keep their action and now shrink the service to its
/// smallest size when CPU is high.
async fn the_cpu_scale_out_policy_pinned_to_the_minimum(e: &Estate) -> Vec<Want> {
    use aws_sdk_applicationautoscaling::types::AdjustmentType;
    e.step_policy(
        "worker",
        "cpu-scale-out",
        AdjustmentType::ExactCapacity,
        &[(Some(0.0), None, 2)],
    )
    .await;
    vec![fails("aws-ecs-scale-cpu", e.service("worker"))]
}

/// The scale-in alarm set to 5 breaching datapoints out of 10 minutes: it fires after five
/// scattered empty minutes, removing tasks from a queue that was never empty for 5 minutes.
async fn the_queue_scale_in_alarm_fires_after_five_empty_minutes_out_of_ten(
    e: &Estate,
) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.scaling_alarm(
        "worker-queue-empty",
        QUEUE,
        (60, 10),
        (Op::LessThanOrEqualToThreshold, 0.0),
        &e.policy("queue-scale-in"),
        |a| a.datapoints_to_alarm(5),
    )
    .await;
    vec![fails(
        "aws-ecs-scale-queue-backpressure",
        e.service("worker"),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_needs_the_spec_s_window_and_a_policy_that_grows() {
    let mut e = Estate::new("ap-southeast-2").await;
    e.compliant().await;
    evade!(e:
        the_cpu_scale_out_policy_pinned_to_the_minimum(),
        the_queue_scale_in_alarm_fires_after_five_empty_minutes_out_of_ten(),
    );
}

// ------------------------------------------------------------------------------------------
// Alarm coverage: an alarm that notifies someone in every category the spec names

impl Estate {
    /// Puts the alarm `name` (replacing one of that name) on the Average of `metric` over
    /// 5 minutes, `op threshold`, actions enabled, its one alarm action the PagerDuty topic, as
    /// the estate puts its own; then `change` alters what a case changes.
    async fn paging_alarm(
        &self,
        name: &str,
        (namespace, metric, dims): (&str, &str, &[(&str, &str)]),
        (op, threshold): (aws_sdk_cloudwatch::types::ComparisonOperator, f64),
        change: impl FnOnce(AlarmBuilder) -> AlarmBuilder,
    ) {
        use aws_sdk_cloudwatch::types::{Dimension, Statistic};
        let mut put = aws_sdk_cloudwatch::Client::new(&self.sdk)
            .put_metric_alarm()
            .alarm_name(name)
            .namespace(namespace)
            .metric_name(metric)
            .statistic(Statistic::Average)
            .period(300)
            .evaluation_periods(1)
            .threshold(threshold)
            .comparison_operator(op)
            .actions_enabled(true)
            .alarm_actions(&self.b.topic);
        for (k, v) in dims {
            put = put.dimensions(Dimension::builder().name(*k).value(*v).build());
        }
        change(put).send().await.expect("paging alarm");
    }

    async fn delete_alarm(&self, name: &str) {
        aws_sdk_cloudwatch::Client::new(&self.sdk)
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .expect("delete alarm");
    }

    fn nat(&self) -> String {
        self.arn(
            "natgateway",
            self.b.nat.as_deref().expect("the estate's NAT gateway"),
        )
    }
}

/// The processors' memory alarm deleted (its dashboard panel looked enough): their CPU is
/// still watched by the two scaling alarms, which add tasks and page nobody, so nothing tells
/// anyone that the containers are starved.
async fn the_processors_memory_alarm_deleted_leaves_their_cpu_to_the_scaling_alarms(
    e: &Estate,
) -> Vec<Want> {
    e.delete_alarm("worker-memory-high").await;
    vec![fails("aws-alarms-cover-components", e.service("worker"))]
}

/// The database's CPU alarm replaced by one on its free storage (the disk filled up once): the
/// instance still has a paging alarm, and none on its load, memory, connections or latency.
async fn the_database_cpu_alarm_replaced_by_a_free_storage_alarm(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.delete_alarm("estate-db-cpu-high").await;
    e.paging_alarm(
        "estate-db-free-storage-low",
        (
            "AWS/RDS",
            "FreeStorageSpace",
            &[("DBInstanceIdentifier", "estate-db")],
        ),
        (Op::LessThanThreshold, 2e9),
        |a| a,
    )
    .await;
    vec![fails("aws-alarms-cover-components", e.db("estate-db"))]
}

/// The webhook's duration alarm put again with its topic as an OK action only (meant as "tell
/// us when it recovers", the alarm action dropped by mistake): it announces every recovery and
/// never a slowdown.
async fn the_webhook_duration_alarm_keeps_only_an_ok_action(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    let topic = e.b.topic.clone();
    e.paging_alarm(
        "webhook-duration-high",
        ("AWS/Lambda", "Duration", &[("FunctionName", "webhook")]),
        (Op::GreaterThanThreshold, 3000.0),
        |a| a.set_alarm_actions(None).ok_actions(topic),
    )
    .await;
    vec![
        fails("aws-alarms-cover-components", e.function("webhook")),
        fails(
            "aws-alarm-actions-enabled",
            e.alarm("webhook-duration-high"),
        ),
    ]
}

/// The cache's evictions alarm re-pointed at the replication group (to cover every member at
/// once): ElastiCache publishes by cluster and node, never by replication group, so the alarm
/// has no data and never fires.
async fn the_cache_alarm_re_pointed_at_its_replication_group(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.paging_alarm(
        "estate-redis-evictions",
        (
            "AWS/ElastiCache",
            "Evictions",
            &[("ReplicationGroupId", "estate-redis")],
        ),
        (Op::GreaterThanThreshold, 100.0),
        |a| a,
    )
    .await;
    vec![fails(
        "aws-alarms-cover-components",
        e.cache("estate-redis-001"),
    )]
}

/// The NAT gateway's packet-drop alarm still names the gateway it replaced: the alarm exists
/// and pages, on a gateway that no longer carries any traffic, and nothing watches this one's
/// bandwidth.
async fn the_nat_bandwidth_alarm_still_names_the_gateway_it_replaced(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.paging_alarm(
        "estate-nat-packets-dropped",
        (
            "AWS/NATGateway",
            "PacketsDropCount",
            &[("NatGatewayId", "nat-0ffffffffffffffff")],
        ),
        (Op::GreaterThanThreshold, 0.0),
        |a| a,
    )
    .await;
    vec![fails("aws-alarms-cover-components", e.nat())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_component_has_a_notifying_alarm_in_each_of_its_categories() {
    let mut e = Estate::new("ap-south-1").await;
    e.compliant().await;
    evade!(e:
        the_processors_memory_alarm_deleted_leaves_their_cpu_to_the_scaling_alarms(),
        the_database_cpu_alarm_replaced_by_a_free_storage_alarm(),
        the_webhook_duration_alarm_keeps_only_an_ok_action(),
        the_cache_alarm_re_pointed_at_its_replication_group(),
        the_nat_bandwidth_alarm_still_names_the_gateway_it_replaced(),
    );
}

/// The webhook's errors alarm narrowed to its `live` alias (the release dashboard's copy): it
/// counts only invocations through the alias, and the function URL invokes the function itself.
async fn the_webhook_errors_alarm_narrowed_to_its_live_alias(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.paging_alarm(
        "webhook-errors",
        (
            "AWS/Lambda",
            "Errors",
            &[("FunctionName", "webhook"), ("Resource", "webhook:live")],
        ),
        (Op::GreaterThanThreshold, 5.0),
        |a| a,
    )
    .await;
    vec![fails("aws-alarms-cover-components", e.function("webhook"))]
}

/// The database's CPU alarm raised to "above 100%" to silence it during a migration and never
/// lowered: CPU utilisation never exceeds 100%, so it never fires.
async fn the_database_cpu_alarm_raised_above_100_percent(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    e.paging_alarm(
        "estate-db-cpu-high",
        (
            "AWS/RDS",
            "CPUUtilization",
            &[("DBInstanceIdentifier", "estate-db")],
        ),
        (Op::GreaterThanThreshold, 100.0),
        |a| a,
    )
    .await;
    vec![fails("aws-alarms-cover-components", e.db("estate-db"))]
}

/// The running-tasks alarm rewired to the CPU scale-out policy ("add a task when tasks are
/// low") instead of the PagerDuty topic: the service's health is left to autoscaling, and a
/// crash loop pages nobody.
async fn the_running_tasks_alarm_rewired_to_a_scaling_policy(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    let policy = e.policy("cpu-scale-out");
    e.paging_alarm(
        "worker-running-tasks-low",
        (
            "ECS/ContainerInsights",
            "RunningTaskCount",
            &cpu_of("worker"),
        ),
        (Op::LessThanThreshold, 1.0),
        |a| a.set_alarm_actions(Some(vec![policy])),
    )
    .await;
    vec![fails("aws-alarms-cover-components", e.service("worker"))]
}

/// The NAT gateway's port-allocation alarm put again with only an INSUFFICIENT_DATA action:
/// it speaks when the metric stops reporting, never when connections fail.
async fn the_nat_port_allocation_alarm_acts_only_on_insufficient_data(e: &Estate) -> Vec<Want> {
    use aws_sdk_cloudwatch::types::ComparisonOperator as Op;
    let topic = e.b.topic.clone();
    let nat = e.b.nat.clone().expect("the estate's NAT gateway");
    e.paging_alarm(
        "estate-nat-port-allocation",
        (
            "AWS/NATGateway",
            "ErrorPortAllocation",
            &[("NatGatewayId", &nat)],
        ),
        (Op::GreaterThanThreshold, 0.0),
        |a| a.set_alarm_actions(None).insufficient_data_actions(topic),
    )
    .await;
    vec![
        fails(
            "aws-alarm-actions-enabled",
            e.alarm("estate-nat-port-allocation"),
        ),
        fails("aws-alarms-cover-components", e.nat()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_covers_only_its_component_s_own_metric_and_only_when_it_can_page() {
    let mut e = Estate::new("ap-northeast-2").await;
    e.compliant().await;
    evade!(e:
        the_webhook_errors_alarm_narrowed_to_its_live_alias(),
        the_database_cpu_alarm_raised_above_100_percent(),
        the_running_tasks_alarm_rewired_to_a_scaling_policy(),
        the_nat_port_allocation_alarm_acts_only_on_insufficient_data(),
    );
}

// ------------------------------------------------------------------------------------------
// TLS to the database, as the parameter group in effect requires it

/// `require_secure_transport` switched to `OFF` in the estate's parameter group for a legacy
/// reporting client: the parameter is still set, and the database accepts plaintext.
async fn require_secure_transport_switched_off_for_a_legacy_client(e: &Estate) -> Vec<Want> {
    estate::set_db_parameter(
        &aws_sdk_rds::Client::new(&e.sdk),
        "estate-mysql80",
        "require_secure_transport",
        "OFF",
    )
    .await;
    vec![fails("aws-rds-tls-required", e.db("estate-db"))]
}

/// A second database (a reporting replica built by hand) created without a parameter group,
/// so on the engine's default one, beside the estate's group that requires TLS: a group
/// requiring TLS exists, and this instance does not use it.
async fn a_second_database_on_the_default_parameter_group(e: &Estate) -> Vec<Want> {
    e.database_in(
        "estate-db-reports",
        "estate-db",
        &[&e.group_id("mysql")],
        (false, true),
        None,
    )
    .await;
    vec![fails("aws-rds-tls-required", e.db("estate-db-reports"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_the_database_is_the_parameter_group_in_effect_s() {
    let mut e = Estate::new("ap-northeast-3").await;
    e.compliant().await;
    evade!(e:
        require_secure_transport_switched_off_for_a_legacy_client(),
        a_second_database_on_the_default_parameter_group(),
    );
}
