//! Lambda: the function normalizer with its URL and policy, a missing URL read as a value and an
//! unparsable policy as an error, and the per-function calls (all run, in list order, failures
//! alike reported once).

use super::*;

#[test]
fn lambda_function_url_and_policy() {
    use aws_sdk_lambda::types::*;
    let f = FunctionConfiguration::builder()
        .function_name("webhook")
        .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:webhook")
        .runtime(Runtime::Python312)
        .vpc_config(
            VpcConfigResponse::builder()
                .subnet_ids("subnet-a")
                .security_group_ids("sg-w")
                .vpc_id("vpc-1")
                .build(),
        )
        .build();
    let r = lambda::normalize_function(&ctx(), &f).expect("fn");
    assert_eq!(
        r.id,
        "arn:aws:lambda:eu-west-1:111122223333:function:webhook"
    );
    let Attrs::LambdaFunction(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.runtime.as_deref(), Some("python3.12"));
    let v = a.vpc_config.as_ref().expect("vpc");
    assert_eq!(v.subnet_ids, ["subnet-a"]);
    assert_eq!(v.security_group_ids, ["sg-w"]);
    assert_eq!(a.function_url, None, "unknown until read");
    assert_eq!(a.policy_statements, None);

    let outside = FunctionConfiguration::builder().function_name("x").build();
    let Attrs::LambdaFunction(a) = lambda::normalize_function(&ctx(), &outside)
        .expect("fn")
        .attrs
    else {
        panic!()
    };
    assert_eq!(a.vpc_config, Some(LambdaVpcConfig::default()));

    let url = FunctionUrlConfig::builder()
        .function_url("https://abc.lambda-url.eu-west-1.on.aws/")
        .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:webhook")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .creation_time("t")
        .last_modified_time("t")
        .build()
        .expect("url config");
    let u = lambda::normalize_function_url(Some(&url));
    assert!(u.configured);
    assert_eq!(u.auth_type.as_deref(), Some("AWS_IAM"));
    assert_eq!(u.qualifier, None, "the function's own URL");
    assert_eq!(
        u.url.as_deref(),
        Some("https://abc.lambda-url.eu-west-1.on.aws/")
    );
    assert!(!lambda::normalize_function_url(None).configured);
    let alias = FunctionUrlConfig::builder()
        .function_url("https://live.lambda-url.eu-west-1.on.aws/")
        .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:webhook:live")
        .auth_type(FunctionUrlAuthType::None)
        .creation_time("t")
        .last_modified_time("t")
        .build()
        .expect("url config");
    assert_eq!(
        lambda::normalize_url_config(&alias).qualifier.as_deref(),
        Some("live")
    );

    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*",
         "Action":"lambda:InvokeFunctionUrl","Resource":"arn",
         "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"},
                      "IpAddress":{"aws:SourceIp":["173.245.48.0/20","2400:cb00::/32"]}}},
        {"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com","AWS":["arn:aws:iam::1:root"]},
         "Action":["lambda:InvokeFunction"]}]}"#;
    let s = lambda::parse_policy(policy).expect("parses");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].sid.as_deref(), Some("FunctionURLAllowPublicAccess"));
    assert_eq!(s[0].effect, "Allow");
    assert_eq!(s[0].principals, ["*"]);
    assert_eq!(s[0].actions, ["lambda:InvokeFunctionUrl"]);
    assert_eq!(
        s[0].conditions["IpAddress"]["aws:SourceIp"],
        ["173.245.48.0/20", "2400:cb00::/32"]
    );
    assert_eq!(
        s[0].conditions["StringEquals"]["lambda:FunctionUrlAuthType"],
        ["NONE"]
    );
    let mut p = s[1].principals.clone();
    p.sort();
    assert_eq!(p, ["arn:aws:iam::1:root", "sns.amazonaws.com"]);
    // A single statement object is a statement list of one.
    let one = lambda::parse_policy(r#"{"Statement":{"Effect":"Deny","Action":"*"}}"#).expect("one");
    assert_eq!(one[0].effect, "Deny");
    // NotPrincipal, NotAction, Resource and NotResource are kept: IAM reads them.
    let not = lambda::parse_policy(
        r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},
            "NotAction":"s3:*","NotResource":"arn:x"}}"#,
    )
    .expect("not");
    assert_eq!(not[0].not_principals, ["arn:aws:iam::1:root"]);
    assert_eq!(not[0].not_actions, ["s3:*"]);
    assert_eq!(not[0].not_resources, ["arn:x"]);
    assert!(not[0].principals.is_empty() && not[0].actions.is_empty());
    for bad in [
        "",
        "{}",
        "[]",
        r#"{"Statement":[{"Action":"x"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":3,"Action":"x"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
    ] {
        assert!(lambda::parse_policy(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn lambda_no_url_is_a_value_and_an_unparsable_policy_is_an_error() {
    use aws_sdk_lambda::operation::get_policy::GetPolicyOutput;
    use aws_sdk_lambda::operation::list_function_url_configs::ListFunctionUrlConfigsOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::FunctionConfiguration;
    let guard = ReadOnlyGuard::new();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                FunctionConfiguration::builder()
                    .function_name("webhook")
                    .build(),
            )
            .build()
    });
    let url = mock!(aws_sdk_lambda::Client::list_function_url_configs).then_output(|| {
        ListFunctionUrlConfigsOutput::builder()
            .set_function_url_configs(Some(vec![]))
            .build()
            .expect("empty list")
    });
    let policy = mock!(aws_sdk_lambda::Client::get_policy).then_output(|| {
        GetPolicyOutput::builder()
            .policy("{\"Statement\": 7")
            .build()
    });
    let client = mocked!(aws_sdk_lambda, guard, [&list, &url, &policy]);
    let part = lambda::collect(&client, &ctx()).await;
    assert_eq!(part.resources.len(), 1);
    let Attrs::LambdaFunction(f) = &part.resources[0].attrs else {
        panic!()
    };
    assert_eq!(f.function_url.as_ref().map(|u| u.configured), Some(false));
    assert_eq!(f.function_urls, Some(vec![]), "no URL is a value");
    assert_eq!(f.policy_statements, None, "unknown, never an empty policy");
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::Other);
    assert!(part.errors[0]
        .message
        .contains("unparsable policy of webhook"));
    assert_eq!(part.errors[0].kinds, ["aws.lambda.function"]);
}

#[tokio::test]
async fn per_function_calls_all_run_and_failures_alike_are_reported_once() {
    use aws_sdk_lambda::operation::get_policy::GetPolicyError;
    use aws_sdk_lambda::operation::list_function_url_configs::ListFunctionUrlConfigsOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::{FunctionConfiguration, FunctionUrlAuthType, FunctionUrlConfig};
    let guard = ReadOnlyGuard::new();
    let names: Vec<String> = (0..20).map(|i| format!("f{i:02}")).collect();
    let listed = names.clone();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(move || {
        ListFunctionsOutput::builder()
            .set_functions(Some(
                listed
                    .iter()
                    .map(|n| FunctionConfiguration::builder().function_name(n).build())
                    .collect(),
            ))
            .build()
    });
    let url = mock!(aws_sdk_lambda::Client::list_function_url_configs).then_compute_output(|r| {
        let name = r.function_name().unwrap_or("");
        ListFunctionUrlConfigsOutput::builder()
            .function_url_configs(
                FunctionUrlConfig::builder()
                    .function_url(format!("https://{name}.lambda-url.eu-west-1.on.aws/"))
                    .function_arn(format!(
                        "arn:aws:lambda:eu-west-1:111122223333:function:{name}"
                    ))
                    .auth_type(FunctionUrlAuthType::AwsIam)
                    .creation_time("2026-01-01T00:00:00Z")
                    .last_modified_time("2026-01-01T00:00:00Z")
                    .build()
                    .expect("url config"),
            )
            .build()
            .expect("url list")
    });
    let denied = mock!(aws_sdk_lambda::Client::get_policy).then_error(|| {
        GetPolicyError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform lambda:GetPolicy")
                .build(),
        )
    });
    let client = mocked!(aws_sdk_lambda, guard, [&list, &url, &denied]);
    let part = lambda::collect(&client, &ctx()).await;
    // Every function, in list order, each with its own URL and an unknown policy.
    let got: Vec<(String, Option<String>, bool)> = part
        .resources
        .iter()
        .map(|r| match &r.attrs {
            Attrs::LambdaFunction(f) => (
                f.function_name.clone().unwrap_or_default(),
                f.function_url.as_ref().and_then(|u| u.url.clone()),
                f.policy_statements.is_none(),
            ),
            _ => panic!("a function"),
        })
        .collect();
    let want: Vec<(String, Option<String>, bool)> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                Some(format!("https://{n}.lambda-url.eu-west-1.on.aws/")),
                true,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(url.num_calls(), 20);
    assert_eq!(denied.num_calls(), 20);
    assert_eq!(part.errors.len(), 1, "{:?}", part.errors);
    assert_eq!(part.errors[0].kind, ErrorKind::AccessDenied);
    assert!(
        part.errors[0].message.ends_with("(20 calls failed alike)"),
        "{}",
        part.errors[0].message
    );
}

#[tokio::test]
async fn an_alias_url_is_read_with_the_alias_policy() {
    use aws_sdk_lambda::operation::get_policy::GetPolicyOutput;
    use aws_sdk_lambda::operation::list_function_url_configs::ListFunctionUrlConfigsOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::{FunctionConfiguration, FunctionUrlAuthType, FunctionUrlConfig};
    let guard = ReadOnlyGuard::new();
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                FunctionConfiguration::builder()
                    .function_name("webhook")
                    .build(),
            )
            .build()
    });
    let config = |arn: &str, auth: FunctionUrlAuthType| {
        FunctionUrlConfig::builder()
            .function_url(format!(
                "https://{}.lambda-url.eu-west-1.on.aws/",
                arn.len()
            ))
            .function_arn(arn)
            .auth_type(auth)
            .creation_time("t")
            .last_modified_time("t")
            .build()
            .expect("url config")
    };
    let urls = mock!(aws_sdk_lambda::Client::list_function_url_configs).then_output(move || {
        ListFunctionUrlConfigsOutput::builder()
            .function_url_configs(config(
                "arn:aws:lambda:eu-west-1:111122223333:function:webhook",
                FunctionUrlAuthType::AwsIam,
            ))
            .function_url_configs(config(
                "arn:aws:lambda:eu-west-1:111122223333:function:webhook:live",
                FunctionUrlAuthType::None,
            ))
            .build()
            .expect("url list")
    });
    // The alias's policy is the open one; the function's own admits nobody.
    let policy = mock!(aws_sdk_lambda::Client::get_policy).then_compute_output(|r| {
        let open = r.qualifier() == Some("live");
        GetPolicyOutput::builder()
            .policy(if open {
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl"}]}"#
            } else {
                r#"{"Statement":[]}"#
            })
            .build()
    });
    let client = mocked!(aws_sdk_lambda, guard, [&list, &urls, &policy]);
    let part = lambda::collect(&client, &ctx()).await;
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let Attrs::LambdaFunction(f) = &part.resources[0].attrs else {
        panic!()
    };
    let all = f.function_urls.as_ref().expect("urls");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].qualifier, None);
    assert_eq!(
        all[0].policy_statements, None,
        "the function's own: see policy_statements"
    );
    assert_eq!(all[1].qualifier.as_deref(), Some("live"));
    assert_eq!(all[1].auth_type.as_deref(), Some("NONE"));
    assert_eq!(
        all[1].policy_statements.as_ref().map(|p| p.len()),
        Some(1),
        "the alias's own policy"
    );
    assert_eq!(f.policy_statements, Some(vec![]));
    assert_eq!(
        policy.num_calls(),
        2,
        "the function's policy and the alias's"
    );
    assert_eq!(
        f.function_url.as_ref().and_then(|u| u.auth_type.as_deref()),
        Some("AWS_IAM")
    );
}
