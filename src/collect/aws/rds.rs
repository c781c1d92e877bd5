//! RDS: DB instances of the estate and the parameter groups they use, with the parameters the
//! rules read (`require_secure_transport`), several groups at once ([`Part::from_each`]).
//! `normalize_*` are pure and unit-tested.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_rds::types as t;
use aws_sdk_rds::Client;

use super::{tags, AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "rds";

/// Parameters of a DB parameter group that rules read.
pub const PARAMETERS: &[&str] = &["require_secure_transport"];

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let mut part = Part::default();
    let instances: Vec<Resource> = match client
        .describe_db_instances()
        .into_paginator()
        .send()
        .all_pages(|p| p.marker())
        .await
    {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.db_instances())
            .filter_map(|i| normalize_db_instance(ctx, i))
            .filter(|r| match &r.attrs {
                Attrs::DbInstance(d) => ctx.in_scope(d.subnet_ids.as_deref().unwrap_or(&[])),
                _ => true,
            })
            .collect(),
        Err(e) => {
            part.errors.push(ctx.error(
                SERVICE,
                "DescribeDBInstances",
                &[kind::DB_INSTANCE, kind::DB_PARAMETER_GROUP],
                &e,
            ));
            return part;
        }
    };
    let groups: BTreeSet<String> = instances
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::DbInstance(d) => d.parameter_group_names.clone(),
            _ => None,
        })
        .flatten()
        .collect();
    part.resources.extend(instances);
    part.extend(
        Part::from_each(groups, |name| async move {
            match parameter_group(client, ctx, &name).await {
                Ok(r) => Part {
                    resources: vec![r],
                    errors: Vec::new(),
                },
                Err(e) => Part {
                    resources: Vec::new(),
                    errors: vec![e],
                },
            }
        })
        .await,
    );
    part
}

async fn parameter_group(
    client: &Client,
    ctx: &Ctx,
    name: &str,
) -> Result<Resource, CollectionError> {
    const KINDS: &[&str] = &[kind::DB_PARAMETER_GROUP];
    let groups = client
        .describe_db_parameter_groups()
        .db_parameter_group_name(name)
        .send()
        .await
        .map_err(|e| ctx.error(SERVICE, "DescribeDBParameterGroups", KINDS, &e))?;
    let group = groups.db_parameter_groups().first();
    // The filter narrows the answer where AWS honours it; the names are matched here anyway.
    let pages = client
        .describe_db_parameters()
        .db_parameter_group_name(name)
        .filters(
            t::Filter::builder()
                .name("parameter-name")
                .set_values(Some(PARAMETERS.iter().map(|p| p.to_string()).collect()))
                .build(),
        )
        .into_paginator()
        .send()
        .all_pages(|p| p.marker())
        .await
        .map_err(|e| ctx.error(SERVICE, "DescribeDBParameters", KINDS, &e))?;
    let params: Vec<&t::Parameter> = pages.iter().flat_map(|p| p.parameters()).collect();
    Ok(normalize_parameter_group(ctx, name, group, &params))
}

pub fn normalize_parameter_group(
    ctx: &Ctx,
    name: &str,
    group: Option<&t::DbParameterGroup>,
    params: &[&t::Parameter],
) -> Resource {
    // Every parameter the rules read gets an entry: its value, or null when the group does not
    // set it (the engine default applies; for require_secure_transport that is off).
    let parameters: BTreeMap<String, Option<String>> = PARAMETERS
        .iter()
        .map(|p| {
            let value = params
                .iter()
                .find(|x| x.parameter_name() == Some(p))
                .and_then(|x| x.parameter_value())
                .map(str::to_string);
            (p.to_string(), value)
        })
        .collect();
    let id = group
        .and_then(|g| g.db_parameter_group_arn())
        .map(str::to_string)
        .unwrap_or_else(|| ctx.arn("rds", &format!("pg:{name}")));
    ctx.resource(
        id,
        Some(name.to_string()),
        StrMap::new(),
        Attrs::DbParameterGroup(DbParameterGroup {
            name: Some(name.to_string()),
            family: group
                .and_then(|g| g.db_parameter_group_family())
                .map(str::to_string),
            parameters: Some(parameters),
        }),
    )
}

pub fn normalize_db_instance(ctx: &Ctx, d: &t::DbInstance) -> Option<Resource> {
    let ident = d.db_instance_identifier()?;
    let id = d
        .db_instance_arn()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.arn("rds", &format!("db:{ident}")));
    let subnet_group = d.db_subnet_group();
    Some(
        ctx.resource(
            id,
            Some(ident.to_string()),
            tags(d.tag_list().iter().map(|t| (t.key(), t.value()))),
            Attrs::DbInstance(DbInstance {
                db_instance_identifier: Some(ident.to_string()),
                engine: d.engine().map(str::to_string),
                engine_version: d.engine_version().map(str::to_string),
                db_instance_class: d.db_instance_class().map(str::to_string),
                status: d.db_instance_status().map(str::to_string),
                publicly_accessible: d.publicly_accessible(),
                storage_encrypted: d.storage_encrypted(),
                kms_key_id: d.kms_key_id().map(str::to_string),
                multi_az: d.multi_az(),
                vpc_id: subnet_group.and_then(|g| g.vpc_id()).map(str::to_string),
                db_subnet_group_name: subnet_group
                    .and_then(|g| g.db_subnet_group_name())
                    .map(str::to_string),
                subnet_ids: subnet_group.map(|g| {
                    g.subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(str::to_string))
                        .collect()
                }),
                // Absent list: unknown (an empty one would let the ingress rules pass).
                security_group_ids: d.vpc_security_groups.as_ref().map(|gs| {
                    gs.iter()
                        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                        .collect()
                }),
                parameter_group_names: Some(
                    d.db_parameter_groups()
                        .iter()
                        .filter_map(|g| g.db_parameter_group_name().map(str::to_string))
                        .collect(),
                ),
                // A group the answer names without its status leaves them all unknown.
                parameter_apply_status: d
                    .db_parameter_groups()
                    .iter()
                    .filter_map(|g| g.db_parameter_group_name().map(|n| (n, g)))
                    .map(|(n, g)| {
                        g.parameter_apply_status()
                            .map(|s| (n.to_string(), s.to_string()))
                    })
                    .collect(),
                endpoint_address: d.endpoint().and_then(|e| e.address()).map(str::to_string),
                endpoint_port: d.endpoint().and_then(|e| e.port()).map(i64::from),
                ..Default::default()
            }),
        ),
    )
}
