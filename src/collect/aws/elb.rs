//! Elastic Load Balancing: the v2 load balancers of the estate VPC (application, network and
//! gateway) with their listeners, the target groups with their registered targets and health,
//! and the Classic load balancers. One paginated listing per type, filtered to the estate VPC
//! here (the API has no VPC filter); the listeners of each load balancer and the targets of each
//! target group are per-item calls, several at once ([`Part::from_each`]). `normalize_*` are pure.
//!
//! It must not judge: which load balancer is an internet path to what is `link`'s. A listing
//! that fails makes its kind unknown; a load balancer whose listeners, or a target group whose
//! targets, could not be read keeps the field null.

use aws_sdk_elasticloadbalancing as classic;
use aws_sdk_elasticloadbalancingv2 as v2;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "elasticloadbalancing";

/// The estate's resources only: those in the estate VPC (all of them when it is not known).
fn in_estate_vpc(ctx: &Ctx, vpc: Option<&str>) -> bool {
    match (&ctx.estate_vpc, vpc) {
        (Some(e), Some(v)) => e == v,
        _ => true,
    }
}

pub async fn collect(v2c: &v2::Client, classic_c: &classic::Client, ctx: &Ctx) -> Part {
    let (lbs, groups, classics) = tokio::join!(
        load_balancers(v2c, ctx),
        target_groups(v2c, ctx),
        classic_load_balancers(classic_c, ctx),
    );
    let mut part = lbs;
    part.extend(groups);
    part.extend(classics);
    part
}

async fn load_balancers(client: &v2::Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_load_balancers()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_marker())
        .await;
    let lbs: Vec<Resource> = match pages {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.load_balancers())
            .filter(|l| in_estate_vpc(ctx, l.vpc_id()))
            .filter_map(|l| normalize_load_balancer(ctx, l))
            .collect(),
        Err(e) => {
            let mut part = Part::default();
            part.errors.push(ctx.error(
                SERVICE,
                "DescribeLoadBalancers",
                &[kind::LOAD_BALANCER],
                &e,
            ));
            return part;
        }
    };
    Part::from_each(lbs, |mut r| async move {
        let mut part = Part::default();
        let pages = client
            .describe_listeners()
            .load_balancer_arn(&r.id)
            .into_paginator()
            .send()
            .all_pages(|p| p.next_marker())
            .await;
        match pages {
            Ok(pages) => {
                if let Attrs::LoadBalancer(l) = &mut r.attrs {
                    l.listeners = Some(
                        pages
                            .iter()
                            .flat_map(|p| p.listeners())
                            .map(normalize_listener)
                            .collect(),
                    );
                }
            }
            Err(e) => part.errors.push(ctx.error(
                SERVICE,
                "DescribeListeners",
                &[kind::LOAD_BALANCER],
                &e,
            )),
        }
        part.resources.push(r);
        part
    })
    .await
}

pub fn normalize_load_balancer(ctx: &Ctx, l: &v2::types::LoadBalancer) -> Option<Resource> {
    let arn = l.load_balancer_arn()?;
    Some(
        ctx.resource(
            arn.to_string(),
            l.load_balancer_name().map(str::to_string),
            Default::default(),
            Attrs::LoadBalancer(LoadBalancer {
                load_balancer_name: l.load_balancer_name().map(str::to_string),
                load_balancer_type: l.r#type().map(|t| t.as_str().to_string()),
                scheme: l.scheme().map(|s| s.as_str().to_string()),
                vpc_id: l.vpc_id().map(str::to_string),
                state: l
                    .state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_string()),
                dns_name: l.dns_name().map(str::to_string),
                subnet_ids: l
                    .availability_zones()
                    .iter()
                    .filter_map(|z| z.subnet_id().map(str::to_string))
                    .collect(),
                // A network load balancer answers without the key when it has no groups: that is
                // "none", which filters nothing.
                security_group_ids: Some(l.security_groups().to_vec()),
                listeners: None,
                ..Default::default()
            }),
        ),
    )
}

pub fn normalize_listener(l: &v2::types::Listener) -> Listener {
    Listener {
        listener_arn: l.listener_arn().map(str::to_string),
        port: l.port().map(i64::from),
        protocol: l.protocol().map(|p| p.as_str().to_string()),
        default_actions: l.default_actions().iter().map(normalize_action).collect(),
    }
}

pub fn normalize_action(a: &v2::types::Action) -> LbAction {
    let mut groups: Vec<String> = a
        .target_group_arn()
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(f) = a.forward_config() {
        groups.extend(
            f.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_string)),
        );
    }
    groups.sort();
    groups.dedup();
    LbAction {
        action_type: a.r#type().map(|t| t.as_str().to_string()),
        target_group_arns: groups,
    }
}

async fn target_groups(client: &v2::Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_target_groups()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_marker())
        .await;
    let groups: Vec<Resource> = match pages {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.target_groups())
            .filter(|g| in_estate_vpc(ctx, g.vpc_id()))
            .filter_map(|g| normalize_target_group(ctx, g))
            .collect(),
        Err(e) => {
            let mut part = Part::default();
            part.errors
                .push(ctx.error(SERVICE, "DescribeTargetGroups", &[kind::TARGET_GROUP], &e));
            return part;
        }
    };
    Part::from_each(groups, |mut r| async move {
        let mut part = Part::default();
        match client
            .describe_target_health()
            .target_group_arn(&r.id)
            .send()
            .await
        {
            Ok(out) => {
                if let Attrs::TargetGroup(g) = &mut r.attrs {
                    g.targets = Some(
                        out.target_health_descriptions()
                            .iter()
                            .filter_map(normalize_target)
                            .collect(),
                    );
                }
            }
            Err(e) => part.errors.push(ctx.error(
                SERVICE,
                "DescribeTargetHealth",
                &[kind::TARGET_GROUP],
                &e,
            )),
        }
        part.resources.push(r);
        part
    })
    .await
}

pub fn normalize_target_group(ctx: &Ctx, g: &v2::types::TargetGroup) -> Option<Resource> {
    let arn = g.target_group_arn()?;
    Some(ctx.resource(
        arn.to_string(),
        g.target_group_name().map(str::to_string),
        Default::default(),
        Attrs::TargetGroup(TargetGroup {
            target_group_name: g.target_group_name().map(str::to_string),
            target_type: g.target_type().map(|t| t.as_str().to_string()),
            protocol: g.protocol().map(|p| p.as_str().to_string()),
            port: g.port().map(i64::from),
            vpc_id: g.vpc_id().map(str::to_string),
            load_balancer_arns: g.load_balancer_arns().to_vec(),
            targets: None,
        }),
    ))
}

pub fn normalize_target(t: &v2::types::TargetHealthDescription) -> Option<LbTarget> {
    let target = t.target()?;
    Some(LbTarget {
        id: target.id()?.to_string(),
        port: target.port().map(i64::from),
        health: t
            .target_health()
            .and_then(|h| h.state())
            .map(|s| s.as_str().to_string()),
    })
}

async fn classic_load_balancers(client: &classic::Client, ctx: &Ctx) -> Part {
    let pages = client
        .describe_load_balancers()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_marker())
        .await;
    Part::from_pages(
        ctx,
        (
            "elasticloadbalancing",
            "DescribeLoadBalancers",
            &[kind::CLASSIC_LOAD_BALANCER],
        ),
        pages.map(|pages| {
            pages
                .into_iter()
                .map(|p| {
                    p.load_balancer_descriptions()
                        .iter()
                        .filter(|l| in_estate_vpc(ctx, l.vpc_id()))
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        }),
        |p| p.as_slice(),
        normalize_classic,
    )
}

pub fn normalize_classic(
    ctx: &Ctx,
    l: &classic::types::LoadBalancerDescription,
) -> Option<Resource> {
    let name = l.load_balancer_name()?;
    Some(
        ctx.resource(
            ctx.arn("elasticloadbalancing", &format!("loadbalancer/{name}")),
            Some(name.to_string()),
            Default::default(),
            Attrs::ClassicLoadBalancer(ClassicLoadBalancer {
                load_balancer_name: Some(name.to_string()),
                scheme: l.scheme().map(str::to_string),
                vpc_id: l.vpc_id().map(str::to_string),
                dns_name: l.dns_name().map(str::to_string),
                subnet_ids: l.subnets().to_vec(),
                security_group_ids: Some(l.security_groups().to_vec()),
                listeners: l
                    .listener_descriptions()
                    .iter()
                    .filter_map(|d| d.listener())
                    .map(|x| ClassicListener {
                        load_balancer_port: Some(i64::from(x.load_balancer_port())),
                        protocol: Some(x.protocol().to_string()),
                        instance_port: Some(i64::from(x.instance_port())),
                        instance_protocol: x.instance_protocol().map(str::to_string),
                    })
                    .collect(),
                instance_ids: l
                    .instances()
                    .iter()
                    .filter_map(|i| i.instance_id().map(str::to_string))
                    .collect(),
                ..Default::default()
            }),
        ),
    )
}
