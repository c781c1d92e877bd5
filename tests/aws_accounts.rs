//! Many accounts and regions against a real moto server (issue #7): `--assume-role`,
//! `--org-role` and `--regions`, through the product's own collection entry point
//! (`collect_accounts_with`), then one audit over all accounts (`audit::run_many`).
//!
//! Moto lets credentials of an assumed role act in the role's account, so each account here is
//! a separate moto account with its own small estate (a tagged VPC, a subnet and an instance).
//! Moto assumes any role, so the role that "cannot be assumed" is made so by the test's HTTP
//! client, which answers its AssumeRole with the AccessDenied error AWS sends (a test-side
//! fault, never in the product). CloudWatch answers through the harness's server script (its
//! rpc-v2-cbor bridge, see `tests/aws_live.rs`), so a reachable account reads without error.

mod support;
use support::offline;

#[path = "support/live/mod.rs"]
mod live;
use live::{estate, moto};

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use chrono::{TimeZone, Utc};
use estate_audit::collect::aws::{self as collector, AssumeRole, AwsCollection, AwsOptions};
use estate_audit::finding::{Report, Status};
use estate_audit::model::{ErrorKind, Inventory};
use estate_audit::model::{EstateConfig, EstateSelector};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;

const CALLER: &str = "123456789012";

/// Answers AssumeRole for a role named `denied` as AWS does when the trust policy refuses the
/// caller; everything else goes to moto.
#[derive(Debug, Clone)]
struct DenyRole {
    inner: SharedHttpClient,
}

#[derive(Debug)]
struct DenyRoleConnector {
    inner: SharedHttpConnector,
}

impl HttpClient for DenyRole {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(DenyRoleConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

impl HttpConnector for DenyRoleConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if body.contains("Action=AssumeRole") && body.contains("role%2Fdenied") {
            let xml = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/denied</Message></Error><RequestId>0</RequestId></ErrorResponse>"#;
            let mut resp = HttpResponse::new(403.try_into().unwrap(), SdkBody::from(xml));
            resp.headers_mut().insert("content-type", "text/xml");
            return HttpConnectorFuture::ready(Ok(resp));
        }
        // A role whose STS never answers: only the collection's deadline ends the wait.
        if body.contains("Action=AssumeRole") && body.contains("role%2Fstalled") {
            return HttpConnectorFuture::new(std::future::pending());
        }
        self.inner.call(request)
    }
}

async fn sdk(region: &str) -> SdkConfig {
    moto::sdk_loader(region)
        .http_client(SharedHttpClient::new(DenyRole {
            inner: collector::https_client(),
        }))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

/// The same configuration acting in `account` (moto: an assumed role's keys act in its account).
async fn as_account(sdk: &SdkConfig, account: &str) -> SdkConfig {
    let out = aws_sdk_sts::Client::new(sdk)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/setup"))
        .role_session_name("setup")
        .send()
        .await
        .expect("moto assumes the setup role");
    let c = out.credentials().expect("credentials");
    sdk.to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "setup",
            ),
        ))
        .build()
}

fn estate(region: &str, tag: &str) -> EstateConfig {
    EstateConfig {
        region: Some(region.to_string()),
        estate: EstateSelector {
            tag: Some(format!("estate={tag}")),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn tag_spec(
    kind: aws_sdk_ec2::types::ResourceType,
    tag: &str,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(kind)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("estate")
                .value(tag)
                .build(),
        )
        .build()
}

/// A tagged VPC, one subnet and one instance whose IMDSv2 requirement is `imds_required`.
/// Returns (vpc id, instance id).
async fn small_estate(sdk: &SdkConfig, tag: &str, imds_required: bool) -> (String, String) {
    use aws_sdk_ec2::types::*;
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.7.0.0/16")
        .tag_specifications(tag_spec(ResourceType::Vpc, tag))
        .send()
        .await
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.7.1.0/24")
        .tag_specifications(tag_spec(ResourceType::Subnet, tag))
        .send()
        .await
        .expect("subnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    let image = estate::amazon_image(&ec2).await;
    let instance = ec2
        .run_instances()
        .image_id(image)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(if imds_required {
                    HttpTokensState::Required
                } else {
                    HttpTokensState::Optional
                })
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .tag_specifications(tag_spec(ResourceType::Instance, tag))
        .send()
        .await
        .expect("instance")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_string();
    (vpc, instance)
}

/// What `collect` does with the collections, then the audit over all of them.
fn audit(collections: Vec<AwsCollection>, estate: &EstateConfig) -> Report {
    let invs: Vec<Inventory> = collections
        .into_iter()
        .map(|c| {
            let mut inv = Inventory::new(estate.clone());
            c.merge_into(&mut inv);
            inv
        })
        .collect();
    // Through the bundle file form, as `collect` writes it and `audit --inventory` reads it.
    let bundle = estate_audit::model::InventoryBundle::new(invs);
    let json = serde_json::to_string(&bundle).expect("bundle serialises");
    let invs = estate_audit::model::json::parse_inventories(&json, "<bundle>").expect("and parses");
    let policies = PolicySet::builtin().expect("rules");
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    estate_audit::audit::run_many(
        invs,
        None,
        &policies,
        &WaiverSet::empty(),
        now,
        &mut Default::default(),
    )
    .0
}

fn finding<'a>(r: &'a Report, rule: &str, resource: &str) -> &'a estate_audit::finding::Finding {
    r.findings
        .iter()
        .find(|f| f.rule_id == rule && f.resource_id == resource)
        .unwrap_or_else(|| panic!("no {rule} on {resource}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_and_a_role_that_cannot_be_assumed_in_one_report() {
    let region = "us-east-2";
    let base = sdk(region).await;
    let (good, bad, denied) = ("111111111111", "222222222222", "333333333333");
    let tag = "accounts";
    let (good_vpc, good_i) = small_estate(&as_account(&base, good).await, tag, true).await;
    let (_, bad_i) = small_estate(&as_account(&base, bad).await, tag, false).await;
    let opts = AwsOptions {
        roles: [good, bad, denied]
            .iter()
            .map(|a| AssumeRole {
                arn: format!(
                    "arn:aws:iam::{a}:role/{}",
                    if *a == denied { "denied" } else { "auditor" }
                ),
                external_id: Some("estate-audit-test".into()),
            })
            .collect(),
        scan_regions: Some(vec![]),
        ..Default::default()
    };
    let estate = estate(region, tag);
    let collections = collector::collect_accounts_with(&base, &opts, &estate).await;
    assert_eq!(collections.len(), 3);
    assert_eq!(collections[0].accounts, [good]);
    assert_eq!(collections[1].accounts, [bad]);
    assert_eq!(collections[2].accounts, [denied]);
    // Read-only on the assumed credentials too: every call went through a guard and is allowed.
    for c in &collections {
        for op in &c.operations {
            let (service, name) = op.split_once(':').unwrap();
            assert!(collector::is_allowed(service, name), "{op}");
        }
    }
    assert!(collections[0]
        .operations
        .iter()
        .any(|o| o == "EC2:DescribeInstances"));
    let sts = collections[0]
        .services
        .get("aws.sts")
        .copied()
        .unwrap_or_default();
    assert_eq!(
        sts.calls, 4,
        "3 AssumeRole (counted with the first account) + its GetCallerIdentity: {:?}",
        collections[0].services
    );
    assert!(
        collections[0].errors.is_empty(),
        "{:#?}",
        collections[0].errors
    );
    assert!(
        collections[1].errors.is_empty(),
        "{:#?}",
        collections[1].errors
    );
    let denied_error = &collections[2].errors;
    assert_eq!(denied_error.len(), 1, "{denied_error:#?}");
    assert_eq!(denied_error[0].kind, ErrorKind::AccessDenied);
    assert_eq!(denied_error[0].account.as_deref(), Some(denied));
    assert!(
        denied_error[0].message.contains("AssumeRole"),
        "{}",
        denied_error[0].message
    );
    assert!(
        denied_error[0].message.contains("role/denied"),
        "{}",
        denied_error[0].message
    );

    let r = audit(collections, &estate);
    let good_arn = format!("arn:aws:ec2:{region}:{good}:instance/{good_i}");
    let bad_arn = format!("arn:aws:ec2:{region}:{bad}:instance/{bad_i}");
    let f = finding(&r, "aws-ec2-imdsv2", &good_arn);
    assert_eq!((f.status, f.account.as_deref()), (Status::Pass, Some(good)));
    let f = finding(&r, "aws-ec2-imdsv2", &bad_arn);
    assert_eq!((f.status, f.account.as_deref()), (Status::Fail, Some(bad)));
    // The estate of each account is its own: the good account's VPC is its estate VPC.
    let f = finding(
        &r,
        "aws-vpc-custom",
        &format!("arn:aws:ec2:{region}:{good}:vpc/{good_vpc}"),
    );
    assert_eq!(f.status, Status::Pass);
    // The account that could not be read: its rules are unknown, on its own estate record.
    let denied_estate = format!("estate:{denied}:{region}");
    let f = finding(&r, "aws-vpc-custom", &denied_estate);
    assert_eq!(f.status, Status::Unknown, "{}", f.message);
    assert_eq!(f.account.as_deref(), Some(denied));
    assert!(f.message.contains("AssumeRole"), "{}", f.message);
    assert!(r
        .findings
        .iter()
        .filter(|f| f.account.as_deref() == Some(denied) && f.rule_id.starts_with("aws-"))
        .all(|f| f.status == Status::Unknown));
    assert_eq!(r.scope.accounts, [good, bad, denied]);
    assert!(r.summary.incomplete);
    assert_eq!(
        estate_audit::finding::outcome(
            &r,
            estate_audit::finding::GateSelection::All,
            estate_audit::finding::Severity::Low
        ),
        estate_audit::finding::Outcome::Incomplete
    );
    // SARIF: one run per account, each with its own category.
    let sarif =
        estate_audit::report::render(&r, estate_audit::report::Format::Sarif, &Default::default());
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let ids: Vec<&str> = sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|run| run["automationDetails"]["id"].as_str())
        .collect();
    for a in [good, bad, denied] {
        assert!(
            ids.contains(&format!("estate-audit/aws/{a}/").as_str()),
            "{ids:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_role_audits_every_active_account_of_the_organization() {
    let region = "us-west-1";
    let base = sdk(region).await;
    let org = aws_sdk_organizations::Client::new(&base);
    match org.create_organization().send().await {
        Ok(_) => {}
        // A reused server (MOTO_URL) may hold the organization already.
        Err(e) if format!("{e:?}").contains("AlreadyInOrganization") => {}
        Err(e) => panic!("create organization: {e:?}"),
    }
    for name in ["workload-a", "workload-b"] {
        org.create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("create account");
    }
    let mut expected: Vec<String> = org
        .list_accounts()
        .send()
        .await
        .expect("list")
        .accounts()
        .iter()
        .filter_map(|a| a.id().map(str::to_string))
        .collect();
    expected.sort();
    assert!(expected.len() >= 3, "{expected:?}");
    assert!(expected.iter().any(|a| a == CALLER));
    let opts = AwsOptions {
        org_role: Some(AssumeRole {
            arn: "OrganizationAccountAccessRole".into(),
            external_id: None,
        }),
        scan_regions: Some(vec![]),
        ..Default::default()
    };
    let estate = estate(region, "org");
    let collections = collector::collect_accounts_with(&base, &opts, &estate).await;
    let accounts: Vec<String> = collections
        .iter()
        .flat_map(|c| c.accounts.clone())
        .collect();
    assert_eq!(
        accounts, expected,
        "one collection per ACTIVE account, in id order"
    );
    let calls: Vec<&String> = collections.iter().flat_map(|c| &c.operations).collect();
    assert!(
        !calls
            .iter()
            .any(|o| o.starts_with("Organizations:") && !o.ends_with("ListAccounts")),
        "{calls:?}"
    );
    let orgs = collections[0]
        .services
        .get("aws.organizations")
        .copied()
        .unwrap_or_default();
    assert_eq!(orgs.calls, 1, "{:?}", collections[0].services);
    for c in &collections {
        assert!(c.errors.is_empty(), "{:#?}", c.errors);
    }
    let r = audit(collections, &estate);
    assert_eq!(r.scope.accounts, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_lists_the_regions_scanned_besides_the_home_one() {
    let home = "ap-northeast-2";
    let (listed, unlisted) = ("ap-south-1", "sa-east-1");
    let base = sdk(home).await;
    let caller = as_account(&base, "444444444444").await;
    let tag = "regions";
    let (home_vpc, _) = small_estate(&caller, tag, true).await;
    let mut stray = Vec::new();
    for region in [listed, unlisted] {
        let elsewhere = caller.to_builder().region(Region::new(region)).build();
        let vpc = aws_sdk_ec2::Client::new(&elsewhere)
            .create_vpc()
            .cidr_block("10.8.0.0/16")
            .tag_specifications(tag_spec(aws_sdk_ec2::types::ResourceType::Vpc, tag))
            .send()
            .await
            .expect("stray vpc")
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("vpc id")
            .to_string();
        stray.push(vpc);
    }
    let estate = estate(home, tag);
    let run = |scan: Option<Vec<String>>| {
        let (caller, estate) = (caller.clone(), estate.clone());
        async move {
            let opts = AwsOptions {
                scan_regions: scan,
                ..Default::default()
            };
            collector::collect_accounts_with(&caller, &opts, &estate)
                .await
                .remove(0)
        }
    };
    let listed_only = run(Some(vec![home.into(), listed.into()])).await;
    assert_eq!(listed_only.regions, [home, listed]);
    assert!(
        !listed_only
            .operations
            .iter()
            .any(|o| o == "EC2:DescribeRegions"),
        "a listed scan does not ask for the regions"
    );
    let r = audit(vec![listed_only], &estate);
    let f = finding(
        &r,
        "aws-region-single",
        &format!("arn:aws:ec2:{home}:444444444444:vpc/{home_vpc}"),
    );
    assert_eq!(f.status, Status::Fail);
    let evidence = format!("{:?}", f.evidence);
    assert!(evidence.contains(&stray[0]), "{evidence}");
    assert!(
        !evidence.contains(&stray[1]),
        "unlisted region read: {evidence}"
    );

    // `all`: every enabled region, so the unlisted one too.
    let everywhere = run(None).await;
    assert!(everywhere.regions.len() > 2);
    assert!(everywhere
        .operations
        .iter()
        .any(|o| o == "EC2:DescribeRegions"));
    let r = audit(vec![everywhere], &estate);
    let f = finding(
        &r,
        "aws-region-single",
        &format!("arn:aws:ec2:{home}:444444444444:vpc/{home_vpc}"),
    );
    let evidence = format!("{:?}", f.evidence);
    assert!(
        evidence.contains(&stray[0]) && evidence.contains(&stray[1]),
        "{evidence}"
    );
}

/// The same through the binary: `audit --assume-role A --assume-role B --external-id X` against
/// moto, one JSON report with both accounts, every finding carrying its account, and the API
/// counts of `--stats` (two AssumeRole, two GetCallerIdentity).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_audits_the_accounts_of_its_roles_in_one_report() {
    let region = "ca-central-1";
    let base = sdk(region).await;
    let (good, bad) = ("444444444444", "555555555555");
    let tag = "cli-accounts";
    let (_, good_i) = small_estate(&as_account(&base, good).await, tag, true).await;
    let (_, bad_i) = small_estate(&as_account(&base, bad).await, tag, false).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("estate.toml");
    std::fs::write(
        &config,
        format!("region = \"{region}\"\n\n[estate]\ntag = \"estate={tag}\"\n"),
    )
    .unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_estate-audit"));
    offline::offline(&mut c);
    c.env("AWS_ENDPOINT_URL", moto::url())
        .env("AWS_REGION", region)
        .args(["audit", "--format", "json", "--stats", "--regions", region])
        .arg("--config")
        .arg(&config)
        .args(["--external-id", "estate-audit-test"])
        .args([
            "--assume-role",
            &format!("arn:aws:iam::{good}:role/auditor"),
        ])
        .args(["--assume-role", &format!("arn:aws:iam::{bad}:role/auditor")]);
    let out = c.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {stderr}"));
    // Cloudflare has no token here, so the audit is incomplete whatever AWS says.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(r["scope"]["accounts"], serde_json::json!([good, bad]));
    let aws_errors: Vec<_> = r["collection_errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["provider"] == "aws")
        .collect();
    assert!(aws_errors.is_empty(), "{aws_errors:#?}");
    let imdsv2 = |account: &str, instance: &str| {
        let id = format!("arn:aws:ec2:{region}:{account}:instance/{instance}");
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "aws-ec2-imdsv2" && f["resource_id"] == id.as_str())
            .map(|f| (f["status"].clone(), f["account"].clone()))
            .unwrap_or_else(|| panic!("no aws-ec2-imdsv2 finding on {id}"))
    };
    assert_eq!(
        imdsv2(good, &good_i),
        (serde_json::json!("pass"), serde_json::json!(good))
    );
    assert_eq!(
        imdsv2(bad, &bad_i),
        (serde_json::json!("fail"), serde_json::json!(bad))
    );
    let sts = &r["stats"]["services"]["aws.sts"];
    assert_eq!(sts["calls"], serde_json::json!(4), "{sts}");
    // No secret of the caller's in anything the run printed.
    let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains("test-only-not-a-secret"));
}

/// `--timeout` covers the role assumptions too: a role whose STS never answers becomes that
/// account's timed-out collection error when the deadline passes. (Without it the wait ends
/// at the SDK's stalled-stream protection, ~5 s, or the call's own 180 s timeout; the deadline
/// here is shorter than both.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_assumption_that_never_answers_ends_at_the_timeout() {
    let region = "eu-south-1";
    let base = sdk(region).await;
    let stalled = "777777777777";
    let opts = AwsOptions {
        roles: vec![AssumeRole {
            arn: format!("arn:aws:iam::{stalled}:role/stalled"),
            external_id: None,
        }],
        scan_regions: Some(vec![]),
        deadline: Some(estate_audit::collect::Deadline::after(
            std::time::Duration::from_secs(2),
        )),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let collections = collector::collect_accounts_with(&base, &opts, &estate(region, "x")).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(collections.len(), 1);
    let e = &collections[0].errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].account.as_deref(), Some(stalled));
    assert_eq!(e[0].kind, ErrorKind::Other);
    assert!(
        e[0].message.starts_with(&format!(
            "sts AssumeRole arn:aws:iam::{stalled}:role/stalled: sts timed out"
        )) && e[0].message.contains("2 s --timeout"),
        "{}",
        e[0].message
    );
    assert!(e[0].kinds.iter().any(|k| k == "aws.ec2.instance"));
}
