//! ElastiCache: replication groups (encryption, AUTH, RBAC), cache clusters and cache subnet
//! groups. Tags are not read (they cost a call per resource and no rule needs them).
//! `normalize_*` are pure and unit-tested.

use std::collections::HashSet;

use aws_sdk_elasticache::types as t;
use aws_sdk_elasticache::Client;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "elasticache";

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let (groups, clusters, subnet_groups) = tokio::join!(
        client
            .describe_replication_groups()
            .into_paginator()
            .send()
            .all_pages(|p| p.marker()),
        client
            .describe_cache_clusters()
            .into_paginator()
            .send()
            .all_pages(|p| p.marker()),
        client
            .describe_cache_subnet_groups()
            .into_paginator()
            .send()
            .all_pages(|p| p.marker()),
    );
    let mut part = Part::default();
    // Subnet groups first: they decide which clusters are the estate's.
    let mut in_scope_groups: Option<HashSet<String>> = None;
    match subnet_groups {
        Ok(pages) => {
            let mut names = HashSet::new();
            for g in pages.iter().flat_map(|p| p.cache_subnet_groups()) {
                if let Some(r) = normalize_subnet_group(ctx, g) {
                    if let Attrs::CacheSubnetGroup(sg) = &r.attrs {
                        if !ctx.in_scope(sg.subnet_ids.as_deref().unwrap_or(&[])) {
                            continue;
                        }
                        names.extend(sg.name.clone());
                    }
                    part.resources.push(r);
                }
            }
            in_scope_groups = Some(names);
        }
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeCacheSubnetGroups",
            &[kind::CACHE_SUBNET_GROUP],
            &e,
        )),
    }
    let scoped = |name: Option<&String>| match (&in_scope_groups, name) {
        (Some(set), Some(n)) if ctx.estate_subnets.is_some() => set.contains(n),
        _ => true,
    };
    match clusters {
        Ok(pages) => {
            for c in pages.iter().flat_map(|p| p.cache_clusters()) {
                if let Some(r) = normalize_cache_cluster(ctx, c) {
                    if let Attrs::CacheCluster(cc) = &r.attrs {
                        if !scoped(cc.cache_subnet_group_name.as_ref()) {
                            continue;
                        }
                    }
                    part.resources.push(r);
                }
            }
        }
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeCacheClusters",
            &[kind::CACHE_CLUSTER],
            &e,
        )),
    }
    // Replication groups are kept whole: they are read only through their member clusters.
    match groups {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.replication_groups())
                .filter_map(|g| normalize_replication_group(ctx, g)),
        ),
        Err(e) => part.errors.push(ctx.error(
            SERVICE,
            "DescribeReplicationGroups",
            &[kind::CACHE_REPLICATION_GROUP, kind::CACHE_CLUSTER],
            &e,
        )),
    }
    part
}

pub fn normalize_replication_group(ctx: &Ctx, g: &t::ReplicationGroup) -> Option<Resource> {
    let id = g.replication_group_id()?;
    Some(
        ctx.resource(
            g.arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("elasticache", &format!("replicationgroup:{id}"))),
            Some(id.to_string()),
            StrMap::new(),
            Attrs::CacheReplicationGroup(CacheReplicationGroup {
                replication_group_id: Some(id.to_string()),
                status: g.status().map(str::to_string),
                member_clusters: g.member_clusters().to_vec(),
                at_rest_encryption_enabled: g.at_rest_encryption_enabled(),
                transit_encryption_enabled: g.transit_encryption_enabled(),
                transit_encryption_mode: g
                    .transit_encryption_mode()
                    .map(|m| m.as_str().to_string()),
                auth_token_enabled: g.auth_token_enabled(),
                user_group_ids: Some(g.user_group_ids().to_vec()),
            }),
        ),
    )
}

pub fn normalize_cache_cluster(ctx: &Ctx, c: &t::CacheCluster) -> Option<Resource> {
    let id = c.cache_cluster_id()?;
    Some(
        ctx.resource(
            c.arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("elasticache", &format!("cluster:{id}"))),
            Some(id.to_string()),
            StrMap::new(),
            Attrs::CacheCluster(CacheCluster {
                cache_cluster_id: Some(id.to_string()),
                engine: c.engine().map(str::to_string),
                engine_version: c.engine_version().map(str::to_string),
                cache_node_type: c.cache_node_type().map(str::to_string),
                status: c.cache_cluster_status().map(str::to_string),
                replication_group_id: c.replication_group_id().map(str::to_string),
                cache_subnet_group_name: c.cache_subnet_group_name().map(str::to_string),
                // An answer without the list is unknown, not "no groups": a cache cluster in a VPC
                // always has one, and an empty list would let every ingress rule pass.
                security_group_ids: c.security_groups.as_ref().map(|gs| {
                    gs.iter()
                        .filter_map(|g| g.security_group_id().map(str::to_string))
                        .collect()
                }),
                at_rest_encryption_enabled: c.at_rest_encryption_enabled(),
                transit_encryption_enabled: c.transit_encryption_enabled(),
                transit_encryption_mode: c
                    .transit_encryption_mode()
                    .map(|m| m.as_str().to_string()),
                auth_token_enabled: c.auth_token_enabled(),
                ..Default::default()
            }),
        ),
    )
}

pub fn normalize_subnet_group(ctx: &Ctx, g: &t::CacheSubnetGroup) -> Option<Resource> {
    let name = g.cache_subnet_group_name()?;
    Some(
        ctx.resource(
            g.arn()
                .map(str::to_string)
                .unwrap_or_else(|| ctx.arn("elasticache", &format!("subnetgroup:{name}"))),
            Some(name.to_string()),
            StrMap::new(),
            Attrs::CacheSubnetGroup(CacheSubnetGroup {
                name: Some(name.to_string()),
                vpc_id: g.vpc_id().map(str::to_string),
                subnet_ids: Some(
                    g.subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(str::to_string))
                        .collect(),
                ),
            }),
        ),
    )
}
