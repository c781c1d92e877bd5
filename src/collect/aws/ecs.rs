//! ECS: clusters, their services (described 10 at a time, the API's limit) and the task
//! definitions those services run (for the network mode and each container's logging). The
//! per-cluster and per-definition calls run several at once ([`Part::from_each`]).
//! `normalize_*` are pure. Of a log driver's options only the names are kept, and the values
//! of the three that say where logs go (FireLens's output plugin, the awslogs group and
//! region): the others can carry credentials (a Loki URL with a password, a token).

use std::collections::BTreeSet;

use aws_sdk_ecs::types as t;
use aws_sdk_ecs::Client;

use super::{tags, AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "ecs";

const SERVICE_KINDS: &[&str] = &[kind::ECS_SERVICE, kind::ECS_TASK_DEFINITION];

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let cluster_arns: Vec<String> = match client
        .list_clusters()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await
    {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.cluster_arns.unwrap_or_default())
            .collect(),
        Err(e) => {
            return Part {
                resources: Vec::new(),
                errors: vec![ctx.error(
                    SERVICE,
                    "ListClusters",
                    &[
                        kind::ECS_CLUSTER,
                        kind::ECS_SERVICE,
                        kind::ECS_TASK_DEFINITION,
                    ],
                    &e,
                )],
            }
        }
    };
    // DescribeClusters takes up to 100 clusters per call; each cluster's services are listed
    // and described on their own, several clusters at once.
    let (mut part, services) = tokio::join!(
        Part::from_each(cluster_arns.chunks(100), |chunk| clusters(
            client, ctx, chunk
        )),
        Part::from_each(&cluster_arns, |cluster| services(client, ctx, cluster)),
    );
    let task_defs: BTreeSet<String> = services
        .resources
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::EcsService(s) => s.task_definition_arn.clone(),
            _ => None,
        })
        .collect();
    part.extend(services);
    part.extend(Part::from_each(task_defs, |td| task_definition(client, ctx, td)).await);
    part
}

async fn clusters(client: &Client, ctx: &Ctx, arns: &[String]) -> Part {
    let mut part = Part::default();
    match client
        .describe_clusters()
        .set_clusters(Some(arns.to_vec()))
        .include(t::ClusterField::Tags)
        .send()
        .await
    {
        Ok(out) => part.resources.extend(
            out.clusters()
                .iter()
                .filter_map(|c| normalize_cluster(ctx, c)),
        ),
        Err(e) => {
            part.errors
                .push(ctx.error(SERVICE, "DescribeClusters", &[kind::ECS_CLUSTER], &e))
        }
    }
    part
}

/// One cluster's services in the estate's subnets, described 10 at a time (the API's limit).
async fn services(client: &Client, ctx: &Ctx, cluster: &str) -> Part {
    let mut part = Part::default();
    let arns: Vec<String> = match client
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await
    {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.service_arns.unwrap_or_default())
            .collect(),
        Err(e) => {
            part.errors
                .push(ctx.error(SERVICE, "ListServices", SERVICE_KINDS, &e));
            return part;
        }
    };
    for chunk in arns.chunks(10) {
        match client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(t::ServiceField::Tags)
            .send()
            .await
        {
            Ok(out) => part.resources.extend(
                out.services()
                    .iter()
                    .filter_map(|s| normalize_service(ctx, s))
                    .filter(|r| match &r.attrs {
                        Attrs::EcsService(svc) => ctx.in_scope(
                            svc.network_configuration
                                .as_ref()
                                .map_or(&[][..], |n| &n.subnet_ids[..]),
                        ),
                        _ => true,
                    }),
            ),
            Err(e) => {
                part.errors
                    .push(ctx.error(SERVICE, "DescribeServices", SERVICE_KINDS, &e));
                break;
            }
        }
    }
    part
}

async fn task_definition(client: &Client, ctx: &Ctx, arn: String) -> Part {
    let mut part = Part::default();
    match client
        .describe_task_definition()
        .task_definition(&arn)
        .send()
        .await
    {
        Ok(out) => part.resources.extend(
            out.task_definition()
                .and_then(|d| normalize_task_definition(ctx, d)),
        ),
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeTaskDefinition",
            &[kind::ECS_TASK_DEFINITION],
            &e,
        )),
    }
    part
}

fn ecs_tags(ts: &[t::Tag]) -> StrMap {
    tags(ts.iter().map(|t| (t.key(), t.value())))
}

pub fn normalize_cluster(ctx: &Ctx, c: &t::Cluster) -> Option<Resource> {
    let arn = c.cluster_arn()?;
    Some(ctx.resource(
        arn.to_string(),
        c.cluster_name().map(str::to_string),
        ecs_tags(c.tags()),
        Attrs::EcsCluster(EcsCluster {
            cluster_name: c.cluster_name().map(str::to_string),
            status: c.status().map(str::to_string),
        }),
    ))
}

pub fn normalize_service(ctx: &Ctx, s: &t::Service) -> Option<Resource> {
    let arn = s.service_arn()?;
    let network_configuration = Some(
        match s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
        {
            Some(a) => EcsNetworkConfiguration {
                subnet_ids: a.subnets().to_vec(),
                security_group_ids: a.security_groups().to_vec(),
                // The API's default when the field is left out.
                assign_public_ip: Some(
                    a.assign_public_ip()
                        .map_or("DISABLED", |p| p.as_str())
                        .to_string(),
                ),
            },
            // Not awsvpc: no subnets or groups of its own, and no public IP setting.
            None => EcsNetworkConfiguration::default(),
        },
    );
    Some(ctx.resource(
        arn.to_string(),
        s.service_name().map(str::to_string),
        ecs_tags(s.tags()),
        Attrs::EcsService(EcsService {
            service_name: s.service_name().map(str::to_string),
            cluster_arn: s.cluster_arn().map(str::to_string),
            status: s.status().map(str::to_string),
            launch_type: s.launch_type().map(|l| l.as_str().to_string()),
            desired_count: Some(i64::from(s.desired_count())),
            task_definition_arn: s.task_definition().map(str::to_string),
            network_configuration,
            ..Default::default()
        }),
    ))
}

pub fn normalize_task_definition(ctx: &Ctx, d: &t::TaskDefinition) -> Option<Resource> {
    let arn = d.task_definition_arn()?;
    let name = arn.rsplit('/').next().map(str::to_string);
    Some(
        ctx.resource(
            arn.to_string(),
            name,
            StrMap::new(),
            Attrs::EcsTaskDefinition(EcsTaskDefinition {
                family: d.family().map(str::to_string),
                revision: Some(i64::from(d.revision())),
                // The API's default network mode, when the definition names none, is `bridge`.
                network_mode: Some(
                    d.network_mode()
                        .map_or("bridge", |m| m.as_str())
                        .to_string(),
                ),
                containers: Some(d.container_definitions().iter().map(container).collect()),
            }),
        ),
    )
}

/// One container's logging: the driver, the option names, and only the values of `Name` /
/// `@type` (FireLens), `awslogs-group` and `awslogs-region`.
fn container(c: &t::ContainerDefinition) -> EcsContainer {
    let log = c.log_configuration();
    let options = log.and_then(|l| l.options());
    let value = |key: &str| options.and_then(|o| o.get(key)).cloned();
    let mut log_option_names: Vec<String> = options
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    log_option_names.extend(
        log.map(|l| l.secret_options())
            .unwrap_or_default()
            .iter()
            .map(|s| s.name().to_string()),
    );
    log_option_names.sort();
    log_option_names.dedup();
    let driver = log.map(|l| l.log_driver().as_str().to_string());
    let firelens = driver.as_deref() == Some("awsfirelens");
    let awslogs = driver.as_deref() == Some("awslogs");
    EcsContainer {
        name: c.name().map(str::to_string),
        log_option_names,
        awslogs_group: value("awslogs-group").filter(|_| awslogs),
        awslogs_region: value("awslogs-region").filter(|_| awslogs),
        firelens_output: value("Name")
            .or_else(|| value("@type"))
            .filter(|_| firelens),
        firelens: c.firelens_configuration().map(|f| FirelensConfiguration {
            r#type: Some(f.r#type().as_str().to_string()),
            config_file_type: f.options().and_then(|o| o.get("config-file-type")).cloned(),
        }),
        log_driver: driver,
    }
}
