//! The other regions, for `aws-region-single`: resources there that carry the estate tag. Every
//! enabled region by default (`--regions all`), or those `--regions R,R` lists. Only with
//! `estate.tag` configured (without it nothing says what belongs to the estate). Each region is
//! read with one server-side tag search (EC2 DescribeTags; the VPCs and instances it names are
//! then described by id) and one DB instance list (RDS answers carry their tags), all regions
//! concurrently under the per-service cap. It reads only VPCs, instances and DB instances there:
//! enough to show that the estate has spread, without a full second inventory per region. What
//! it finds is estate inventory like any other (the other rules judge it too).
//!
//! A region that cannot be read is a collection error of kind `estate`: the region facts are
//! incomplete, so `aws-region-single` is unknown, while the rules over the home region's
//! resources keep their answers.

use aws_config::SdkConfig;

use super::{client, ec2, rds, Ctx, Part, ReadOnlyGuard};
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

/// Estate-tagged resources of every other enabled region, or of the regions of `scan`
/// (`--regions R,R`: no DescribeRegions then; a listed region that is not enabled answers with
/// an error, which is reported like any other).
pub async fn collect(
    sdk: &SdkConfig,
    guard: &ReadOnlyGuard,
    home: &Ctx,
    scan: Option<&[String]>,
) -> (Part, Vec<String>) {
    let Some((key, value)) = home
        .estate
        .estate
        .tag
        .as_deref()
        .and_then(crate::config::EstateConfig::split_tag)
    else {
        return (Part::default(), Vec::new());
    };
    let regions = match scan {
        Some(list) => {
            let mut v: Vec<String> = list
                .iter()
                .filter(|r| **r != home.region)
                .cloned()
                .collect();
            v.sort();
            v.dedup();
            v
        }
        None => {
            let home_ec2 = client!(aws_sdk_ec2, sdk, guard, "ec2", Some(home.region.clone()));
            match other_regions(&home_ec2, home).await {
                Ok(r) => r,
                Err(part) => return (part, Vec::new()),
            }
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for region in regions.clone() {
        let ctx = Ctx {
            region: region.clone(),
            estate_vpc: None,
            estate_subnets: None,
            ..home.clone()
        };
        let ec2 = client!(aws_sdk_ec2, sdk, guard, "ec2", Some(region.clone()));
        let rds = client!(aws_sdk_rds, sdk, guard, "rds", Some(region.clone()));
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
                account: None,
            }),
        }
    }
    (part, regions)
}

async fn one_region(
    ec2c: &aws_sdk_ec2::Client,
    rdsc: &aws_sdk_rds::Client,
    ctx: &Ctx,
    key: &str,
    value: &str,
) -> Part {
    use aws_sdk_ec2::types::{Filter, ResourceType};
    let filter = |name: &str, values: Vec<String>| {
        Filter::builder()
            .name(name)
            .set_values(Some(values))
            .build()
    };
    // One DescribeTags finds every EC2 resource carrying the estate tag; only when it finds
    // VPCs or instances are they described (by id). The usual answer, nothing here, costs one
    // EC2 call per region instead of one per resource type.
    let (tagged, dbs) = tokio::join!(
        ec2c.describe_tags()
            .filters(filter("key", vec![key.to_string()]))
            .filters(filter("value", vec![value.to_string()]))
            .filters(filter(
                "resource-type",
                vec!["vpc".to_string(), "instance".to_string()]
            ))
            .into_paginator()
            .send()
            .try_collect(),
        rdsc.describe_db_instances()
            .into_paginator()
            .send()
            .try_collect(),
    );
    let mut part = Part::default();
    let (mut vpc_ids, mut instance_ids) = (Vec::new(), Vec::new());
    match tagged {
        Ok(pages) => {
            for t in pages.iter().flat_map(|p| p.tags()) {
                // The filters are the server's; the tag is checked here anyway.
                if t.key() != Some(key) || t.value() != Some(value) {
                    continue;
                }
                match (t.resource_type(), t.resource_id()) {
                    (Some(ResourceType::Vpc), Some(id)) => vpc_ids.push(id.to_string()),
                    (Some(ResourceType::Instance), Some(id)) => instance_ids.push(id.to_string()),
                    _ => {}
                }
            }
        }
        Err(e) => part
            .errors
            .push(ctx.error("ec2", "DescribeTags", KINDS, &e)),
    }
    vpc_ids.sort();
    vpc_ids.dedup();
    instance_ids.sort();
    instance_ids.dedup();
    if !vpc_ids.is_empty() {
        let pages = ec2c
            .describe_vpcs()
            .filters(filter("vpc-id", vpc_ids))
            .into_paginator()
            .send()
            .try_collect()
            .await;
        part.extend(Part::from_pages(
            ctx,
            ("ec2", "DescribeVpcs", KINDS),
            pages,
            |p| p.vpcs(),
            ec2::normalize_vpc,
        ));
    }
    if !instance_ids.is_empty() {
        match ec2c
            .describe_instances()
            .filters(filter("instance-id", instance_ids))
            .into_paginator()
            .send()
            .try_collect()
            .await
        {
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
