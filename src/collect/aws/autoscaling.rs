//! Application Auto Scaling: the ECS scalable targets and scaling policies (step scaling's
//! adjustment type and steps with their bounds, target tracking's metric, target and whether it
//! may scale in, the alarms that trigger them). `normalize_*` are pure.

use aws_sdk_applicationautoscaling::types as t;
use aws_sdk_applicationautoscaling::Client;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "application-autoscaling";

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let mut part = Part::default();
    let (targets, policies) = tokio::join!(
        client
            .describe_scalable_targets()
            .service_namespace(t::ServiceNamespace::Ecs)
            .into_paginator()
            .send()
            .all_pages(|p| p.next_token()),
        client
            .describe_scaling_policies()
            .service_namespace(t::ServiceNamespace::Ecs)
            .into_paginator()
            .send()
            .all_pages(|p| p.next_token()),
    );
    match targets {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.scalable_targets())
                .map(|s| normalize_scalable_target(ctx, s)),
        ),
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeScalableTargets",
            &[kind::SCALABLE_TARGET],
            &e,
        )),
    }
    match policies {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.scaling_policies())
                .map(|s| normalize_scaling_policy(ctx, s)),
        ),
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeScalingPolicies",
            &[kind::SCALING_POLICY],
            &e,
        )),
    }
    part
}

pub fn normalize_scalable_target(ctx: &Ctx, s: &t::ScalableTarget) -> Resource {
    let ns = s.service_namespace().as_str();
    let dim = s.scalable_dimension().as_str();
    let suspended = s.suspended_state();
    // Older answers carry no ARN: one is made from what identifies the target.
    let id = s
        .scalable_target_arn()
        .map(str::to_string)
        .unwrap_or_else(|| {
            ctx.arn(
                "application-autoscaling",
                &format!("scalable-target/{ns}/{}/{dim}", s.resource_id()),
            )
        });
    ctx.resource(
        id,
        None,
        StrMap::new(),
        Attrs::ScalableTarget(ScalableTarget {
            service_namespace: Some(ns.to_string()),
            resource_id: Some(s.resource_id().to_string()).filter(|r| !r.is_empty()),
            scalable_dimension: Some(dim.to_string()),
            min_capacity: Some(i64::from(s.min_capacity())),
            max_capacity: Some(i64::from(s.max_capacity())),
            // An answer without the suspended state leaves it unknown, never "not suspended".
            dynamic_scaling_in_suspended: suspended.and_then(|x| x.dynamic_scaling_in_suspended()),
            dynamic_scaling_out_suspended: suspended
                .and_then(|x| x.dynamic_scaling_out_suspended()),
            scheduled_scaling_suspended: suspended.and_then(|x| x.scheduled_scaling_suspended()),
        }),
    )
}

pub fn normalize_scaling_policy(ctx: &Ctx, p: &t::ScalingPolicy) -> Resource {
    let target = p.target_tracking_scaling_policy_configuration();
    let step = p.step_scaling_policy_configuration();
    ctx.resource(
        p.policy_arn().to_string(),
        Some(p.policy_name().to_string()),
        StrMap::new(),
        Attrs::ScalingPolicy(ScalingPolicy {
            policy_name: Some(p.policy_name().to_string()),
            service_namespace: Some(p.service_namespace().as_str().to_string()),
            resource_id: Some(p.resource_id().to_string()),
            scalable_dimension: Some(p.scalable_dimension().as_str().to_string()),
            policy_type: Some(p.policy_type().as_str().to_string()),
            step_adjustments: step
                .map(|c| {
                    c.step_adjustments()
                        .iter()
                        .map(|a| i64::from(a.scaling_adjustment()))
                        .collect()
                })
                .unwrap_or_default(),
            adjustment_type: step
                .and_then(|c| c.adjustment_type())
                .map(|a| a.as_str().to_string()),
            // A step policy's steps, bounds included (a missing bound is infinity); none for
            // target tracking.
            steps: step.map(|c| {
                c.step_adjustments()
                    .iter()
                    .map(|a| StepAdjustment {
                        metric_interval_lower_bound: a.metric_interval_lower_bound(),
                        metric_interval_upper_bound: a.metric_interval_upper_bound(),
                        scaling_adjustment: i64::from(a.scaling_adjustment()),
                    })
                    .collect()
            }),
            alarm_names: p
                .alarms()
                .iter()
                .map(|a| a.alarm_name().to_string())
                .collect(),
            target_metric: target.map(|c| {
                c.predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_else(|| "custom".to_string())
            }),
            target_value: target.map(|c| c.target_value()),
            // Omitted from the answer, it is unknown (AWS documents `false` as the default
            // when the policy is created, not what an answer without it means).
            disable_scale_in: target.and_then(|c| c.disable_scale_in()),
        }),
    )
}
