//! Paginated reads: every page is read, a token that repeats or never ends is an error and not a
//! short list, and a cut-off XML answer is told from a whole one.

use super::*;

#[tokio::test]
async fn pagination_reads_every_page() {
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::types::Vpc as SdkVpc;
    let guard = ReadOnlyGuard::new();
    let first = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-1").build())
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-2").build())
                .next_token("page-3")
                .build()
        });
    let third = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("page-3"))
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(SdkVpc::builder().vpc_id("vpc-3").build())
                .build()
        });
    let client = mocked!(aws_sdk_ec2, guard, [&first, &second, &third]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    let ids: Vec<&str> = part.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-2",
            "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-3"
        ]
    );
    assert_eq!(guard.calls().len(), 3);
}

#[tokio::test]
async fn a_repeated_page_token_is_an_error_not_a_short_list() {
    let guard = ReadOnlyGuard::new();
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
        aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder()
            .vpcs(aws_sdk_ec2::types::Vpc::builder().vpc_id("vpc-1").build())
            .next_token("same-token")
            .build()
    });
    let client = mocked!(aws_sdk_ec2, guard, [&rule]);
    let part = ec2::collect_vpcs(&client, &ctx()).await;
    assert!(part.resources.is_empty(), "{:?}", part.resources);
    assert_eq!(part.errors.len(), 1);
    let e = &part.errors[0];
    assert_eq!(e.kinds, ["aws.ec2.vpc"]);
    assert!(
        e.message
            .contains("ec2 DescribeVpcs: the pagination token did not end: page 2 repeated"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_token_that_keeps_changing_stops_at_the_page_limit() {
    let guard = ReadOnlyGuard::new();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = n.clone();
    let rule = mock!(aws_sdk_sns::Client::list_topics).then_output(move || {
        let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        aws_sdk_sns::operation::list_topics::ListTopicsOutput::builder()
            .next_token(format!("token-{i}"))
            .build()
    });
    let subs = mock!(aws_sdk_sns::Client::list_subscriptions).then_output(|| {
        aws_sdk_sns::operation::list_subscriptions::ListSubscriptionsOutput::builder().build()
    });
    let client = mocked!(aws_sdk_sns, guard, [&rule, &subs]);
    let part = sns::collect(&client, &ctx()).await;
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kinds, ["aws.sns.topic"]);
    assert!(
        part.errors[0]
            .message
            .contains(&format!("did not end after {MAX_PAGES} pages")),
        "{}",
        part.errors[0].message
    );
    assert_eq!(
        n.load(std::sync::atomic::Ordering::Relaxed),
        MAX_PAGES,
        "reads exactly the page limit"
    );
}

#[test]
fn a_cut_off_xml_answer_is_told_from_a_whole_one() {
    let whole = "<?xml version=\"1.0\"?>\n<DescribeDBInstancesResponse xmlns=\"x\"><DescribeDBInstancesResult>\
                 <DBInstances/></DescribeDBInstancesResult></DescribeDBInstancesResponse>\n";
    assert_eq!(xml_complete(whole.as_bytes()), Ok(()));
    assert_eq!(xml_complete(b"<Empty/>"), Ok(()));
    assert_eq!(
        xml_complete(b"{\"json\": true}"),
        Ok(()),
        "not XML: the SDK judges"
    );
    assert_eq!(xml_complete(b""), Ok(()));
    for cut in [40, 80, whole.len() - 10] {
        let e = xml_complete(&whole.as_bytes()[..cut]).unwrap_err();
        assert!(e.contains("cut off"), "{cut}: {e}");
    }
    assert!(xml_complete(b"<?xml version").is_err());
}
