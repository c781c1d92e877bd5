//! ECS and Application Auto Scaling: services described ten at a time, and the normalizers of
//! services, clusters, task definitions, scalable targets and scaling policies.

use super::*;

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

    // AWS documents `DISABLED` as the default when a service's awsvpc configuration leaves
    // `assignPublicIp` out; the tasks' own interfaces (their public addresses) are judged beside
    // it, so the default never stands alone.
    let silent = Service::builder()
        .service_arn("arn:y")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets("subnet-a")
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .build();
    let Attrs::EcsService(a) = ecs::normalize_service(&ctx(), &silent).expect("svc").attrs else {
        panic!()
    };
    assert_eq!(
        a.network_configuration
            .and_then(|n| n.assign_public_ip)
            .as_deref(),
        Some("DISABLED")
    );

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
    // A definition that names no network mode runs in `bridge`, AWS's documented default.
    let d = TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:eu-west-1:111122223333:task-definition/worker:4")
        .build();
    let Attrs::EcsTaskDefinition(a) = ecs::normalize_task_definition(&ctx(), &d)
        .expect("td")
        .attrs
    else {
        panic!()
    };
    assert_eq!(a.network_mode.as_deref(), Some("bridge"));
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
    // Without a suspended state in the answer, whether scaling is suspended is unknown.
    assert_eq!(a.dynamic_scaling_out_suspended, None);
    let suspended = ScalableTarget::builder()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/estate/worker")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(12)
        .role_arn("arn:role")
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .suspended_state(
            SuspendedState::builder()
                .dynamic_scaling_in_suspended(false)
                .dynamic_scaling_out_suspended(true)
                .build(),
        )
        .build()
        .expect("target");
    let Attrs::ScalableTarget(b) = autoscaling::normalize_scalable_target(&ctx(), &suspended).attrs
    else {
        panic!()
    };
    assert_eq!(
        (
            b.dynamic_scaling_in_suspended,
            b.dynamic_scaling_out_suspended,
            b.scheduled_scaling_suspended
        ),
        (Some(false), Some(true), None)
    );

    let p = ScalingPolicy::builder()
        .policy_arn("arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:x:resource/ecs/service/estate/worker:policyName/queue-out")
        .policy_name("queue-out")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/estate/worker")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            StepScalingPolicyConfiguration::builder()
                .adjustment_type(AdjustmentType::ChangeInCapacity)
                .step_adjustments(
                    StepAdjustment::builder()
                        .metric_interval_upper_bound(100.0)
                        .metric_interval_lower_bound(0.0)
                        .scaling_adjustment(2)
                        .build()
                        .expect("step"),
                )
                .step_adjustments(
                    StepAdjustment::builder()
                        .metric_interval_lower_bound(100.0)
                        .scaling_adjustment(4)
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
    assert_eq!(a.step_adjustments, [2, 4]);
    assert_eq!(a.adjustment_type.as_deref(), Some("ChangeInCapacity"));
    assert_eq!(
        a.steps,
        Some(vec![
            crate::model::StepAdjustment {
                metric_interval_lower_bound: Some(0.0),
                metric_interval_upper_bound: Some(100.0),
                scaling_adjustment: 2,
            },
            crate::model::StepAdjustment {
                metric_interval_lower_bound: Some(100.0),
                metric_interval_upper_bound: None,
                scaling_adjustment: 4,
            },
        ])
    );
    assert_eq!(a.alarm_names, ["queue-growing"]);
    assert_eq!(a.target_metric, None);
    assert_eq!(a.disable_scale_in, None);

    // Target tracking: no steps (not an empty list of them), its metric, target and scale-in.
    let tt = |disable: Option<bool>| {
        let p = ScalingPolicy::builder()
            .policy_arn("arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:y:resource/ecs/service/estate/worker:policyName/cpu-tt")
            .policy_name("cpu-tt")
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/estate/worker")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(70.0)
                    .set_disable_scale_in(disable)
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                            .build()
                            .expect("predefined"),
                    )
                    .build()
                    .expect("target tracking"),
            )
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .expect("policy");
        let Attrs::ScalingPolicy(a) = autoscaling::normalize_scaling_policy(&ctx(), &p).attrs
        else {
            panic!()
        };
        a
    };
    let a = tt(Some(true));
    assert_eq!(
        (
            a.steps,
            a.adjustment_type,
            a.target_value,
            a.disable_scale_in
        ),
        (None, None, Some(70.0), Some(true))
    );
    assert_eq!(
        a.target_metric.as_deref(),
        Some("ECSServiceAverageCPUUtilization")
    );
    // An answer without the flag leaves it unknown, never "scale-in enabled".
    assert_eq!(tt(None).disable_scale_in, None);
}
