//! The other regions, for `aws-region-single`: resources there that carry the estate tag. Every
//! enabled region by default (`--regions all`), or those `--regions R,R` lists. Only with
//! `estate.tag` configured (without it nothing says what belongs to the estate). Each region
//! costs one paginated call, the Resource Groups Tagging API's `GetResources` filtered
//! server-side by the estate tag, all regions concurrently under the per-service cap. It finds
//! every taggable kind (VPCs, instances, databases, caches, functions, clusters, topics, …), not
//! only the kinds the home region's collectors read, and learns only ARNs and tags: a found
//! resource becomes an `aws.tagging.resource` that the estate record lists, with its region taken
//! from the ARN (global resources, whose ARNs name no region, are left out).
//!
//! A region that cannot be read is a collection error of kind `estate`: the region facts are
//! incomplete, so `aws-region-single` is unknown, while the rules over the home region's
//! resources keep their answers.

use aws_config::SdkConfig;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, TagFilter};

use super::{client, tags, AllPages, Ctx, Part, ReadOnlyGuard};
use crate::model::{kind, Attrs, Resource, StrMap, TaggedResource};

const KINDS: &[&str] = &[kind::ESTATE];

/// Enabled regions other than `home`. DescribeRegions lists only enabled ones by default; a
/// region it nevertheless marks `not-opted-in` (moto lists all 38 of its regions, 14 of them so)
/// is left out too: nothing can be created there, and AWS refuses every call to it, so scanning
/// it could only cost a call and an error. A region whose status is not given is scanned.
pub async fn other_regions(client: &aws_sdk_ec2::Client, ctx: &Ctx) -> Result<Vec<String>, Part> {
    match client.describe_regions().send().await {
        Ok(out) => {
            let all: Vec<String> = out
                .regions()
                .iter()
                .filter(|r| r.opt_in_status() != Some("not-opted-in"))
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            // The home region is always enabled: a list without it is a garbled or cut-off
            // answer, and reading it as "no other region" would let aws-region-single pass.
            if !all.contains(&ctx.region) {
                return Err(Part {
                    resources: Vec::new(),
                    errors: vec![crate::model::CollectionError {
                        provider: "aws".into(),
                        service: "ec2".into(),
                        kinds: KINDS.iter().map(|k| k.to_string()).collect(),
                        kind: crate::model::ErrorKind::Other,
                        message: format!(
                            "ec2 DescribeRegions: unreadable answer: the region list ({} \
                             entries) does not include the home region {}",
                            all.len(),
                            ctx.region
                        ),
                        region: Some(ctx.region.clone()),
                        account: (!ctx.account.is_empty()).then(|| ctx.account.clone()),
                    }],
                });
            }
            let mut v: Vec<String> = all.into_iter().filter(|r| *r != ctx.region).collect();
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
        .and_then(crate::model::EstateConfig::split_tag)
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
        let tagging = client!(
            aws_sdk_resourcegroupstagging,
            sdk,
            guard,
            "tagging",
            Some(region.clone())
        );
        let (key, value) = (key.trim().to_string(), value.trim().to_string());
        tasks.spawn(async move { one_region(&tagging, &ctx, &key, &value).await });
    }
    let mut part = Part::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(p) => part.extend(p),
            // A task that panicked or was cancelled read nothing we can trust.
            Err(e) => part.errors.push(crate::model::CollectionError {
                provider: "aws".into(),
                service: "tagging".into(),
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
    client: &aws_sdk_resourcegroupstagging::Client,
    ctx: &Ctx,
    key: &str,
    value: &str,
) -> Part {
    let pages = client
        .get_resources()
        .tag_filters(TagFilter::builder().key(key).values(value).build())
        .into_paginator()
        .send()
        .all_pages(|p| p.pagination_token())
        .await;
    let mut part = Part::from_pages(
        ctx,
        ("tagging", "GetResources", KINDS),
        pages,
        |p| p.resource_tag_mapping_list(),
        normalize_tagged,
    );
    // The filter is the server's; what it answers is checked all the same.
    part.resources
        .retain(|r| r.tags.get(key).is_some_and(|v| v == value));
    part
}

/// A resource the Tagging API lists: its ARN, its tags and the region and account its ARN names.
/// `None` for an ARN without a region (a global resource has no region to compare) or one that
/// cannot be read.
pub fn normalize_tagged(ctx: &Ctx, m: &ResourceTagMapping) -> Option<Resource> {
    let arn = m.resource_arn()?;
    // arn:partition:service:region:account:resource
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some(service), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if region.is_empty() {
        return None;
    }
    // `vpc/vpc-1`, `function:webhook`, `db:estate-db`; a bare name (SNS topics) has no type.
    let kind = rest
        .split_once(['/', ':'])
        .map(|(k, _)| format!("{service}:{k}"))
        .unwrap_or_else(|| service.to_string());
    let tags: StrMap = tags(m.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
    Some(Resource {
        id: arn.to_string(),
        name: tags.get("Name").cloned(),
        region: Some(region.to_string()),
        account: Some(account.to_string())
            .filter(|a| !a.is_empty())
            .or_else(|| (!ctx.account.is_empty()).then(|| ctx.account.clone())),
        tags,
        attrs: Attrs::TaggedResource(TaggedResource {
            resource_type: Some(kind),
        }),
    })
}
