//! CloudWatch Logs: the subscription filters of the log groups the spec's processors and webhook
//! write to, and of no other group (DescribeSubscriptionFilters, paged; a few calls, one per
//! group). Which groups those are is read from what ECS and Lambda answered: each `awslogs`
//! container's group in the processors' task definitions, and the webhook's group (its logging
//! configuration's, else Lambda's default), the components named as `link` names them
//! (`components.ecs_cluster`/`ecs_service`, `components.webhook_function`).
//!
//! Read only when Loki is in the estate's monitoring plane (`[monitoring]` without `loki` in
//! `not_used`): without it nothing is asked, and no new permission is needed.
//!
//! A group that does not exist (ResourceNotFoundException) is a value: a group with no
//! subscription, which ships nothing. Any other failure is a collection error over the log
//! group kind, and the groups stay unread: the facts built on them are unknown. A group in
//! another region than the collection's is not read here (`link` says so). `normalize_*` is pure.

use std::collections::{BTreeSet, HashSet};

use aws_sdk_cloudwatchlogs::types as t;
use aws_sdk_cloudwatchlogs::Client;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "logs";
const KINDS: &[&str] = &[kind::LOG_GROUP];

/// The groups of this region the processors' containers and the webhook write to, from the
/// ECS and Lambda resources collected.
pub fn groups_to_read<'a>(
    ctx: &Ctx,
    resources: impl Iterator<Item = &'a Resource>,
) -> BTreeSet<String> {
    let mut groups = BTreeSet::new();
    if !ctx.estate.audits(MonitoringProvider::Loki) {
        return groups;
    }
    let c = &ctx.estate.components;
    let mut processor_defs: HashSet<&str> = HashSet::new();
    let mut defs: Vec<(&str, &EcsTaskDefinition)> = Vec::new();
    for r in resources {
        match &r.attrs {
            Attrs::EcsService(s)
                if s.service_name.as_deref() == Some(c.ecs_service.as_str())
                    && s.cluster_arn.as_deref().map(cluster_name)
                        == Some(c.ecs_cluster.as_str()) =>
            {
                processor_defs.extend(s.task_definition_arn.as_deref());
            }
            Attrs::EcsTaskDefinition(d) => defs.push((r.id.as_str(), d)),
            Attrs::LambdaFunction(f)
                if f.function_name.as_deref() == Some(c.webhook_function.as_str()) =>
            {
                groups.extend(f.log_group.clone());
            }
            _ => {}
        }
    }
    for (_, d) in defs.iter().filter(|(id, _)| processor_defs.contains(id)) {
        for con in d.containers.iter().flatten() {
            let here = con
                .awslogs_region
                .as_deref()
                .is_none_or(|r| r == ctx.region);
            if con.log_driver.as_deref() == Some("awslogs") && here {
                groups.extend(con.awslogs_group.clone());
            }
        }
    }
    groups
}

/// The cluster name of an ECS cluster ARN (`arn:…:cluster/<name>`).
fn cluster_name(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, n)| n)
}

/// Each group's subscription filters, several groups at once.
pub async fn collect(client: &Client, ctx: &Ctx, groups: BTreeSet<String>) -> Part {
    Part::from_each(groups, |g| group(client, ctx, g)).await
}

async fn group(client: &Client, ctx: &Ctx, name: String) -> Part {
    let mut part = Part::default();
    match client
        .describe_subscription_filters()
        .log_group_name(&name)
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await
    {
        Ok(pages) => part.resources.push(normalize_log_group(
            ctx,
            &name,
            Some(
                pages
                    .iter()
                    .flat_map(|p| p.subscription_filters())
                    .collect::<Vec<_>>()
                    .as_slice(),
            ),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            part.resources.push(normalize_log_group(ctx, &name, None));
        }
        Err(e) => part
            .errors
            .push(ctx.error(SERVICE, "DescribeSubscriptionFilters", KINDS, &e)),
    }
    part
}

/// A group with its filters; `None`: CloudWatch Logs has no such group.
pub fn normalize_log_group(
    ctx: &Ctx,
    name: &str,
    filters: Option<&[&t::SubscriptionFilter]>,
) -> Resource {
    ctx.resource(
        ctx.arn("logs", &format!("log-group:{name}")),
        Some(name.to_string()),
        StrMap::new(),
        Attrs::LogGroup(LogGroup {
            log_group_name: Some(name.to_string()),
            exists: Some(filters.is_some()),
            subscription_filters: Some(
                filters
                    .unwrap_or_default()
                    .iter()
                    .map(|f| SubscriptionFilter {
                        filter_name: f.filter_name().map(str::to_string),
                        filter_pattern: f.filter_pattern().map(str::to_string),
                        destination_arn: f.destination_arn().map(str::to_string),
                    })
                    .collect(),
            ),
        }),
    )
}
