//! The other enabled regions, for `aws-region-single`: resources there that carry the estate tag.
//! Only with `estate.tag` configured (without it nothing says what belongs to the estate). Each
//! region is read with server-side tag filters (EC2) or tagged answers (RDS), all regions
//! concurrently. It reads only VPCs, instances and DB instances there: enough to show that the
//! estate has spread, without a full second inventory per region. What it finds is estate
//! inventory like any other (the other rules judge it too).
//!
//! A region that cannot be read is a collection error of kind `estate`: the region facts are
//! incomplete, so `aws-region-single` is unknown, while the rules over the home region's
//! resources keep their answers.

use aws_config::{Region, SdkConfig};

use super::{ec2, rds, Ctx, Part, ReadOnlyGuard};
use crate::model::{Attrs, Resource};

const KINDS: &[&str] = &["estate"];

/// Enabled regions other than `home` (DescribeRegions lists only enabled ones by default).
pub async fn other_regions(client: &aws_sdk_ec2::Client, ctx: &Ctx) -> Result<Vec<String>, Part> {
    match client.describe_regions().send().await {
        Ok(out) => {
            let mut v: Vec<String> = out
                .regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string))
                .filter(|r| *r != ctx.region)
                .collect();
            v.sort();
            Ok(v)
        }
        Err(e) => Err(Part {
            resources: Vec::new(),
            errors: vec![ctx.error("ec2", "DescribeRegions", KINDS, &e)],
        }),
    }
}

/// Estate-tagged resources of every other enabled region.
pub async fn collect(sdk: &SdkConfig, guard: &ReadOnlyGuard, home: &Ctx) -> (Part, Vec<String>) {
    let Some((key, value)) = home
        .estate
        .estate
        .tag
        .as_deref()
        .and_then(crate::config::EstateConfig::split_tag)
    else {
        return (Part::default(), Vec::new());
    };
    let home_ec2 = client_ec2(sdk, guard, &home.region);
    let regions = match other_regions(&home_ec2, home).await {
        Ok(r) => r,
        Err(part) => return (part, Vec::new()),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for region in regions.clone() {
        let ctx = Ctx {
            region: region.clone(),
            estate_vpc: None,
            estate_subnets: None,
            ..home.clone()
        };
        let ec2 = client_ec2(sdk, guard, &region);
        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(sdk)
                .region(Region::new(region.clone()))
                .interceptor(guard.clone())
                .build(),
        );
        let (key, value) = (key.trim().to_string(), value.trim().to_string());
        tasks.spawn(async move { one_region(&ec2, &rds, &ctx, &key, &value).await });
    }
    let mut part = Part::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(p) => part.extend(p),
            // A task that panicked or was cancelled read nothing we can trust.
            Err(e) => part.errors.push(crate::model::CollectionError {
                provider: "aws".into(),
                service: "ec2".into(),
                kinds: KINDS.iter().map(|k| k.to_string()).collect(),
                kind: crate::model::ErrorKind::Other,
                message: format!("reading another region failed: {e}"),
                region: None,
            }),
        }
    }
    (part, regions)
}

fn client_ec2(sdk: &SdkConfig, guard: &ReadOnlyGuard, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(sdk)
            .region(Region::new(region.to_string()))
            .interceptor(guard.clone())
            .build(),
    )
}

async fn one_region(
    ec2c: &aws_sdk_ec2::Client,
    rdsc: &aws_sdk_rds::Client,
    ctx: &Ctx,
    key: &str,
    value: &str,
) -> Part {
    let tag = || {
        aws_sdk_ec2::types::Filter::builder()
            .name(format!("tag:{key}"))
            .values(value)
            .build()
    };
    let (vpcs, instances, dbs) = tokio::join!(
        ec2c.describe_vpcs()
            .filters(tag())
            .into_paginator()
            .send()
            .try_collect(),
        ec2c.describe_instances()
            .filters(tag())
            .into_paginator()
            .send()
            .try_collect(),
        rdsc.describe_db_instances()
            .into_paginator()
            .send()
            .try_collect(),
    );
    let mut part = Part::default();
    match vpcs {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.vpcs())
                .filter_map(|v| ec2::normalize_vpc(ctx, v)),
        ),
        Err(e) => part
            .errors
            .push(ctx.error("ec2", "DescribeVpcs", KINDS, &e)),
    }
    match instances {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.reservations())
                .flat_map(|r| r.instances())
                .filter_map(|i| ec2::normalize_instance(ctx, i)),
        ),
        Err(e) => part
            .errors
            .push(ctx.error("ec2", "DescribeInstances", KINDS, &e)),
    }
    match dbs {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.db_instances())
                .filter_map(|d| rds::normalize_db_instance(ctx, d))
                .filter(|r| has_tag(r, key, value)),
        ),
        Err(e) => part
            .errors
            .push(ctx.error("rds", "DescribeDBInstances", KINDS, &e)),
    }
    part
}

fn has_tag(r: &Resource, key: &str, value: &str) -> bool {
    r.tags.get(key).is_some_and(|v| v == value) && !matches!(r.attrs, Attrs::Estate(_))
}
