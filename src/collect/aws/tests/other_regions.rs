//! The scan of the other regions: which regions are scanned (opted in; a list without the home
//! region is unreadable, never "no other region"), the tagged resources found there, and an
//! unreadable region list leaving only the region facts unknown.

use super::*;

#[tokio::test]
async fn an_unreadable_region_list_makes_only_the_region_facts_unknown() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_http_response(|| {
        http(
            403,
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code>\
             <Message>You are not authorized to perform this operation.</Message></Error></Errors></Response>",
        )
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Err(part) = regions::other_regions(&client, &ctx()).await else {
        panic!("denied")
    };
    assert_eq!(part.errors.len(), 1);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert_eq!(part.errors[0].kinds, ["estate"]);
    assert!(part.errors[0].message.contains("DescribeRegions"));
}

#[test]
fn tagged_resources_of_other_regions() {
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
    let mapping = |arn: &str| {
        ResourceTagMapping::builder()
            .resource_arn(arn)
            .tags(
                Tag::builder()
                    .key("estate")
                    .value("prod")
                    .build()
                    .expect("tag"),
            )
            .tags(
                Tag::builder()
                    .key("Name")
                    .value("stray")
                    .build()
                    .expect("tag"),
            )
            .build()
    };
    let r = regions::normalize_tagged(
        &ctx(),
        &mapping("arn:aws:ec2:us-west-2:111122223333:vpc/vpc-9"),
    )
    .expect("a vpc");
    assert_eq!(r.id, "arn:aws:ec2:us-west-2:111122223333:vpc/vpc-9");
    assert_eq!(r.region.as_deref(), Some("us-west-2"), "the ARN's region");
    assert_eq!(r.account.as_deref(), Some("111122223333"));
    assert_eq!(r.name.as_deref(), Some("stray"));
    assert_eq!(r.tags.get("estate").map(String::as_str), Some("prod"));
    assert_eq!(
        r.attrs,
        Attrs::TaggedResource(crate::model::TaggedResource {
            resource_type: Some("ec2:vpc".into())
        })
    );
    let kind = |arn: &str| match regions::normalize_tagged(&ctx(), &mapping(arn)).map(|r| r.attrs) {
        Some(Attrs::TaggedResource(t)) => t.resource_type,
        _ => None,
    };
    assert_eq!(
        kind("arn:aws:lambda:us-west-2:111122223333:function:webhook").as_deref(),
        Some("lambda:function")
    );
    assert_eq!(
        kind("arn:aws:sns:us-west-2:111122223333:estate-alerts").as_deref(),
        Some("sns")
    );
    assert_eq!(
        kind("arn:aws:ecs:us-west-2:111122223333:service/estate/worker").as_deref(),
        Some("ecs:service")
    );
    // Global resources (no region in the ARN) and unreadable ARNs are left out.
    assert!(
        regions::normalize_tagged(&ctx(), &mapping("arn:aws:iam::111122223333:role/x")).is_none()
    );
    assert!(regions::normalize_tagged(&ctx(), &mapping("not-an-arn")).is_none());
}

#[tokio::test]
async fn regions_that_are_not_opted_in_are_not_scanned() {
    use aws_sdk_ec2::types::Region as Ec2Region;
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
        let region = |name: &str, status: Option<&str>| {
            Ec2Region::builder()
                .region_name(name)
                .set_opt_in_status(status.map(str::to_string))
                .build()
        };
        aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput::builder()
            .regions(region("eu-west-1", Some("opt-in-not-required")))
            .regions(region("us-east-1", Some("opt-in-not-required")))
            .regions(region("af-south-1", Some("opted-in")))
            .regions(region("me-south-1", Some("not-opted-in")))
            .regions(region("ap-east-1", Some("not-opted-in")))
            // No status given: scanned, never assumed away.
            .regions(region("eu-north-1", None))
            .build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Ok(regions) = regions::other_regions(&client, &ctx()).await else {
        panic!("a readable list")
    };
    assert_eq!(regions, ["af-south-1", "eu-north-1", "us-east-1"]);
}

#[tokio::test]
async fn a_region_list_without_the_home_region_is_unreadable_not_empty() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
        aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let Err(part) = regions::other_regions(&client, &ctx()).await else {
        panic!("an empty region list must not read as 'no other region'")
    };
    assert_eq!(part.errors[0].kinds, ["estate"]);
    assert!(
        part.errors[0]
            .message
            .contains("does not include the home region eu-west-1"),
        "{}",
        part.errors[0].message
    );
}
