//! The webhook's origins: every URL, API and load balancer that invokes it, judged the way IAM
//! judges their policies, against Cloudflare's ranges.

use std::collections::BTreeMap;

use super::*;

fn url(auth: &str, qualifier: Option<&str>, statements: Vec<PolicyStatement>) -> FunctionUrl {
    FunctionUrl {
        configured: true,
        url: Some(format!(
            "https://{}.lambda-url.eu-west-1.on.aws/",
            qualifier.unwrap_or("main")
        )),
        auth_type: Some(auth.into()),
        qualifier: qualifier.map(str::to_string),
        policy_statements: Some(statements),
    }
}

fn with_urls(urls: Vec<FunctionUrl>) -> LambdaFunction {
    let mut inv = estate();
    edit!(inv, "function:webhook", LambdaFunction, |l| l
        .function_urls =
        Some(urls));
    get!(linked(inv), "function:webhook", LambdaFunction)
}

/// The function's own URL, under the function's policy.
fn only(auth: &str, statements: Vec<PolicyStatement>) -> LambdaFunction {
    let mut inv = estate();
    edit!(inv, "function:webhook", LambdaFunction, |l| {
        l.policy_statements = Some(statements);
        l.function_urls = Some(vec![url(auth, None, vec![])]);
    });
    get!(linked(inv), "function:webhook", LambdaFunction)
}

fn cond(op: &str, key: &str, values: &[&str]) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    BTreeMap::from([(
        op.to_string(),
        BTreeMap::from([(
            key.to_string(),
            values.iter().map(|s| s.to_string()).collect(),
        )]),
    )])
}

fn allow(
    principal: &str,
    conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
) -> PolicyStatement {
    PolicyStatement {
        effect: "Allow".into(),
        principals: vec![principal.into()],
        actions: vec!["lambda:InvokeFunctionUrl".into()],
        conditions,
        ..Default::default()
    }
}

fn ips(values: &[&str]) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    cond("IpAddress", "aws:SourceIp", values)
}

#[test]
fn a_url_open_only_to_cloudflare_ranges_is_cloudflare_only() {
    let l = only(
        "NONE",
        vec![allow("*", ips(&["103.21.244.0/23", "2400:cb00:2::/48"]))],
    );
    assert_eq!(l.origin_cloudflare_only, Some(true));
    let o = &l.origins.as_ref().unwrap()[0];
    assert_eq!(o.open_to.len(), 1, "{o:?}");
    assert!(
        o.open_to[0].starts_with("anyone from 103.21.244.0–103.21.245.255"),
        "{o:?}"
    );
}

#[test]
fn ranges_wider_than_cloudflare_s_or_none_at_all_are_not() {
    for st in [
        allow("*", ips(&["103.21.244.0/22", "198.51.100.0/24"])),
        allow("*", ips(&["2400:cb00::/31"])),
        allow("*", BTreeMap::new()),
    ] {
        let l = only("NONE", vec![st.clone()]);
        assert_eq!(l.origin_cloudflare_only, Some(false), "{st:?}");
    }
    let l = only("NONE", vec![allow("*", BTreeMap::new())]);
    assert_eq!(
        l.origins.unwrap()[0].open_to,
        vec!["anyone from 0.0.0.0/0, ::/0".to_string()]
    );
}

#[test]
fn a_deny_outside_cloudflare_closes_an_open_allow() {
    let mut deny = allow(
        "*",
        cond(
            "NotIpAddress",
            "aws:SourceIp",
            &["173.245.48.0/20", "2400:cb00::/32"],
        ),
    );
    deny.effect = "Deny".into();
    let l = only("NONE", vec![allow("*", BTreeMap::new()), deny]);
    assert_eq!(l.origin_cloudflare_only, Some(true));
}

#[test]
fn without_a_statement_nobody_outside_may_invoke() {
    let l = only("NONE", vec![]);
    assert_eq!(l.origin_cloudflare_only, Some(true));
    assert!(l.origins.unwrap()[0].open_to.is_empty());
}

#[test]
fn aws_iam_auth_is_not_enough_when_the_policy_lets_any_aws_principal_in() {
    let l = only("AWS_IAM", vec![allow("*", BTreeMap::new())]);
    assert_eq!(l.origin_cloudflare_only, Some(false));
    assert!(l.origins.unwrap()[0].open_to[0].starts_with("any AWS principal"));

    let other = only(
        "AWS_IAM",
        vec![allow("arn:aws:iam::999988887777:root", BTreeMap::new())],
    );
    assert_eq!(other.origin_cloudflare_only, Some(false));
    assert!(other.origins.unwrap()[0].open_to[0].starts_with("AWS account 999988887777"));

    let own = only(
        "AWS_IAM",
        vec![allow(&format!("arn:aws:iam::{ACCT}:root"), BTreeMap::new())],
    );
    assert_eq!(
        own.origin_cloudflare_only,
        Some(true),
        "the account's own principals"
    );
}

#[test]
fn not_principal_and_not_action_are_read_as_iam_reads_them() {
    let mut np = allow("*", BTreeMap::new());
    np.principals.clear();
    np.not_principals = vec![format!("arn:aws:iam::{ACCT}:root")];
    assert_eq!(only("NONE", vec![np]).origin_cloudflare_only, Some(false));

    let mut na = allow("*", BTreeMap::new());
    na.actions.clear();
    na.not_actions = vec!["s3:*".into()];
    assert_eq!(only("NONE", vec![na]).origin_cloudflare_only, Some(false));

    let mut other_action = allow("*", BTreeMap::new());
    other_action.actions = vec!["lambda:GetFunction".into()];
    assert_eq!(
        only("NONE", vec![other_action]).origin_cloudflare_only,
        Some(true)
    );

    let mut wildcard = allow("*", BTreeMap::new());
    wildcard.actions = vec!["lambda:Invoke?unction*".into()];
    assert_eq!(
        only("NONE", vec![wildcard]).origin_cloudflare_only,
        Some(false)
    );
}

#[test]
fn a_condition_it_cannot_evaluate_is_unknown_never_closed() {
    let l = only(
        "NONE",
        vec![allow("*", cond("StringEquals", "aws:UserAgent", &["cf"]))],
    );
    assert_eq!(l.origin_cloudflare_only, None);
    let o = &l.origins.unwrap()[0];
    assert!(
        o.why_unknown.as_deref().unwrap().contains("aws:UserAgent"),
        "{o:?}"
    );
}

#[test]
fn conditions_that_never_hold_for_an_internet_caller_do_not_open_it() {
    let l = only(
        "NONE",
        vec![allow(
            "*",
            cond("StringEquals", "lambda:FunctionUrlAuthType", &["AWS_IAM"]),
        )],
    );
    assert_eq!(l.origin_cloudflare_only, Some(true));
    let vpc = only(
        "NONE",
        vec![allow(
            "*",
            cond("StringEquals", "aws:SourceVpc", &["vpc-1"]),
        )],
    );
    assert_eq!(vpc.origin_cloudflare_only, Some(true));
    let if_exists = only(
        "NONE",
        vec![allow(
            "*",
            cond("StringEqualsIfExists", "aws:SourceVpc", &["vpc-1"]),
        )],
    );
    assert_eq!(if_exists.origin_cloudflare_only, Some(false));
}

#[test]
fn an_alias_url_is_an_origin_of_its_own() {
    let l = with_urls(vec![
        url("NONE", None, vec![]),
        url("NONE", Some("live"), vec![allow("*", BTreeMap::new())]),
    ]);
    assert_eq!(l.origin_cloudflare_only, Some(false));
    let origins = l.origins.unwrap();
    assert_eq!(origins.len(), 2);
    assert!(origins[1].endpoint.contains("alias live"), "{origins:?}");
}

#[test]
fn an_unreadable_url_list_or_policy_leaves_the_origins_unknown() {
    let mut inv = estate();
    edit!(inv, "function:webhook", LambdaFunction, |l| l
        .function_urls =
        None);
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!((l.origins, l.origin_cloudflare_only), (None, None));

    let mut inv = estate();
    edit!(inv, "function:webhook", LambdaFunction, |l| l
        .policy_statements =
        None);
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(
        l.origin_cloudflare_only, None,
        "the function's policy unread"
    );

    let mut alias = url("NONE", Some("live"), vec![]);
    alias.policy_statements = None;
    assert_eq!(with_urls(vec![alias]).origin_cloudflare_only, None);

    let mut inv = estate();
    inv.resources
        .retain(|r| r.kind() != kind::CLOUDFLARE_IP_RANGES);
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_cloudflare_only, None);
}

fn api_integration() -> ApiIntegration {
    ApiIntegration {
        route: Some("POST /hook".into()),
        integration_type: Some("AWS_PROXY".into()),
        uri: None,
        function_arn: Some(arn("lambda", "function:webhook:live")),
        ..Default::default()
    }
}

fn with_rest_api(api: RestApi) -> LambdaFunction {
    let mut inv = estate();
    inv.resources.push(res(
        "arn:aws:apigateway:eu-west-1::/restapis/abc123",
        Attrs::RestApi(api),
    ));
    get!(linked(inv), "function:webhook", LambdaFunction)
}

#[test]
fn a_rest_api_default_endpoint_invoking_the_webhook_is_an_origin() {
    let open = RestApi {
        api_id: Some("abc123".into()),
        endpoint_types: vec!["REGIONAL".into()],
        disable_execute_api_endpoint: Some(false),
        policy_statements: Some(vec![]),
        integrations: Some(vec![api_integration()]),
        ..Default::default()
    };
    let l = with_rest_api(open.clone());
    assert_eq!(l.origin_cloudflare_only, Some(false));
    assert!(l.origins.unwrap()[1]
        .endpoint
        .starts_with("REST API abc123"));

    let mut invoke = allow("*", ips(&["173.245.48.0/20"]));
    invoke.actions = vec!["execute-api:Invoke".into()];
    let restricted = RestApi {
        policy_statements: Some(vec![invoke]),
        ..open.clone()
    };
    assert_eq!(with_rest_api(restricted).origin_cloudflare_only, Some(true));

    // The default endpoint off closes the API only when no custom domain serves it, and only
    // when the domains were read.
    let disabled = RestApi {
        disable_execute_api_endpoint: Some(true),
        custom_domains: Some(Vec::new()),
        ..open.clone()
    };
    assert_eq!(
        with_rest_api(disabled.clone()).origin_cloudflare_only,
        Some(true)
    );
    let served = RestApi {
        custom_domains: Some(vec!["hooks.example.com".into()]),
        ..disabled.clone()
    };
    let l = with_rest_api(served);
    assert_eq!(l.origin_cloudflare_only, Some(false));
    assert_eq!(
        l.origins.unwrap()[1].endpoint,
        "REST API abc123 (custom domain hooks.example.com)"
    );
    let domains_unread = RestApi {
        custom_domains: None,
        ..disabled
    };
    assert_eq!(with_rest_api(domains_unread).origin_cloudflare_only, None);

    let private = RestApi {
        endpoint_types: vec!["PRIVATE".into()],
        ..open.clone()
    };
    assert_eq!(with_rest_api(private).origin_cloudflare_only, Some(true));

    let unread = RestApi {
        integrations: None,
        ..open
    };
    assert_eq!(with_rest_api(unread).origin_cloudflare_only, None);
}

#[test]
fn an_http_api_invoking_the_webhook_is_open_to_anyone_unless_its_endpoint_is_off() {
    let mut inv = estate();
    inv.resources.push(res(
        "arn:aws:apigateway:eu-west-1::/apis/h1",
        Attrs::HttpApi(HttpApi {
            api_id: Some("h1".into()),
            protocol_type: Some("HTTP".into()),
            disable_execute_api_endpoint: Some(false),
            integrations: Some(vec![api_integration()]),
            ..Default::default()
        }),
    ));
    let l = get!(linked(inv.clone()), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_cloudflare_only, Some(false));
    edit!(inv, "/apis/h1", HttpApi, |a| {
        a.disable_execute_api_endpoint = Some(true);
        a.custom_domains = Some(Vec::new());
    });
    let l = get!(linked(inv.clone()), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_cloudflare_only, Some(true));
    // A custom domain serves it anyway.
    edit!(inv, "/apis/h1", HttpApi, |a| a.custom_domains =
        Some(vec!["hooks.example.com".into()]));
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_cloudflare_only, Some(false));
}

#[test]
fn an_api_listing_that_failed_leaves_the_origins_unknown() {
    let mut inv = estate();
    inv.collection_errors.push(error(kind::REST_API));
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origins, None);
}

#[test]
fn iam_action_patterns() {
    use crate::link::iam::action_glob;
    assert!(action_glob("lambda:InvokeFunctionUrl", "lambda:*"));
    assert!(action_glob("lambda:InvokeFunctionUrl", "*"));
    assert!(action_glob(
        "lambda:InvokeFunctionUrl",
        "LAMBDA:invokefunctionurl"
    ));
    assert!(action_glob(
        "lambda:InvokeFunctionUrl",
        "lambda:Invoke?unctionUrl"
    ));
    assert!(!action_glob(
        "lambda:InvokeFunctionUrl",
        "lambda:InvokeFunction"
    ));
    assert!(!action_glob("lambda:InvokeFunctionUrl", "s3:*"));
}

#[test]
fn a_webhook_behind_an_api_s_private_integration_answers_to_the_api() {
    let alb = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/inner/2";
    let mut inv = estate();
    inv.resources.push(res(
        alb,
        Attrs::LoadBalancer(LoadBalancer {
            load_balancer_name: Some("inner".into()),
            load_balancer_type: Some("application".into()),
            scheme: Some("internal".into()),
            subnet_ids: vec!["subnet-app".into()],
            security_group_ids: Some(Vec::new()),
            listeners: Some(vec![Listener {
                port: Some(443),
                protocol: Some("HTTPS".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    ));
    inv.resources.push(res(
        "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/hook/9",
        Attrs::TargetGroup(TargetGroup {
            target_group_name: Some("hook".into()),
            target_type: Some("lambda".into()),
            load_balancer_arns: vec![alb.into()],
            targets: Some(vec![LbTarget {
                id: arn("lambda", "function:webhook"),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    ));
    inv.resources.push(res(
        "arn:aws:apigateway:eu-west-1::/apis/api1",
        Attrs::HttpApi(HttpApi {
            api_id: Some("api1".into()),
            protocol_type: Some("HTTP".into()),
            disable_execute_api_endpoint: Some(false),
            integrations: Some(vec![ApiIntegration {
                connection_type: Some("VPC_LINK".into()),
                vpc_link: Some(VpcLink {
                    id: Some("vl-1".into()),
                    load_balancer_arns: Some(vec![alb.into()]),
                    security_group_ids: Some(Vec::new()),
                    subnet_ids: Vec::new(),
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    ));
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_cloudflare_only, Some(false));
    let o = l
        .origins
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|o| o.endpoint.starts_with("HTTP API api1"))
        .expect("the API is an origin");
    assert!(
        o.endpoint.contains("VPC link vl-1 → load balancer inner"),
        "{o:?}"
    );
    assert_eq!(o.cloudflare_only, Some(false));
}

#[test]
fn each_origin_is_said_in_words() {
    let l = only("NONE", vec![allow("*", BTreeMap::new())]);
    let said = l.origin_access.expect("origins known");
    assert_eq!(said.len(), 1);
    assert!(
        said[0].starts_with("function URL https://")
            && said[0].ends_with(", open to anyone from 0.0.0.0/0, ::/0"),
        "{said:?}"
    );
    let origin = |open_to: &[&str], served, why: Option<&str>| Origin {
        endpoint: "REST API abc123".into(),
        open_to: open_to.iter().map(|s| s.to_string()).collect(),
        cloudflare_only: None,
        served,
        why_unknown: why.map(str::to_string),
    };
    use crate::link::origin::said as say;
    assert_eq!(
        say(&origin(&[], Some(true), None)),
        "REST API abc123, open to nobody outside the account"
    );
    assert_eq!(
        say(&origin(
            &["anyone from 0.0.0.0/0", "AWS account 1"],
            Some(true),
            None
        )),
        "REST API abc123, open to anyone from 0.0.0.0/0 and AWS account 1"
    );
    assert_eq!(
        say(&origin(&[], Some(false), None)),
        "REST API abc123, which nothing serves"
    );
    assert_eq!(
        say(&origin(&[], None, Some("its stages were not read"))),
        "REST API abc123, open to whom is unknown (its stages were not read)"
    );
}
