//! Assumed-role sessions: renewed only when about to expire, through the guarded STS client, and
//! a refused renewal failing the call with its cause, never with the secret.

use super::*;

/// The access key id each request was signed with (from its `Authorization` header).
#[derive(Clone, Debug, Default)]
struct SignedWith(Arc<Mutex<Vec<String>>>);

impl Intercept for SignedWith {
    fn name(&self) -> &'static str {
        "signed-with"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = context
            .request()
            .headers()
            .get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .unwrap_or("unsigned")
            .to_string();
        self.0.lock().expect("lock").push(key);
        Ok(())
    }
}

#[tokio::test]
async fn an_assumed_role_session_is_renewed_only_when_it_is_about_to_expire() {
    use std::time::SystemTime;
    // Every renewal hands out a session within the identity cache's 10 s buffer, so each is
    // already due for renewal at the next request.
    let renew = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| {
            r.role_arn() == Some("arn:aws:iam::444455556666:role/audit")
                && r.external_id() == Some("ext-1")
        })
        .then_output(|| {
            let expires = SystemTime::now() + Duration::from_secs(5);
            aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id("ASIARENEWED")
                        .secret_access_key("renewed-secret")
                        .session_token("renewed-token")
                        .expiration(aws_sdk_sts::primitives::DateTime::from(expires))
                        .build()
                        .expect("complete credentials"),
                )
                .build()
        });
    let guard = ReadOnlyGuard::new();
    let sts_client = mocked!(aws_sdk_sts, guard, [&renew]);
    let role = AssumeRole {
        arn: "arn:aws:iam::444455556666:role/audit".into(),
        external_id: Some("ext-1".into()),
    };
    // (first session's lifetime, keys the three requests are signed with)
    let cases: [(u64, [&str; 3]); 2] = [
        (3600, ["ASIAFIRST"; 3]),
        (5, ["ASIAFIRST", "ASIARENEWED", "ASIARENEWED"]),
    ];
    for (lifetime, expected) in cases {
        let before = renew.num_calls();
        let first = aws_sdk_sts::config::Credentials::new(
            "ASIAFIRST",
            "first-secret",
            Some("first-token".into()),
            Some(SystemTime::now() + Duration::from_secs(lifetime)),
            "test",
        );
        let session = sts::RoleSession::new(sts_client.clone(), role.clone(), first);
        let signed = SignedWith::default();
        let answer = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
                .build()
        });
        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::Config::builder()
                .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
                .region(aws_sdk_rds::config::Region::new("eu-west-1"))
                .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(session))
                // The cache every client of an account shares (aws-config's default).
                .identity_cache(aws_sdk_rds::config::IdentityCache::lazy().build())
                .http_client(create_mock_http_client())
                .interceptor(signed.clone())
                .interceptor(
                    MockResponseInterceptor::new()
                        .rule_mode(RuleMode::MatchAny)
                        .with_rule(&answer),
                )
                .build(),
        );
        for _ in 0..3 {
            rds.describe_db_instances().send().await.expect("answered");
        }
        assert_eq!(
            *signed.0.lock().expect("lock"),
            expected,
            "first session {lifetime} s"
        );
        let renewals = expected.iter().filter(|k| **k == "ASIARENEWED").count();
        assert_eq!(
            renew.num_calls() - before,
            renewals,
            "first session {lifetime} s"
        );
    }
    // Renewals go through the guarded client: counted, and checked against the allowlist.
    assert_eq!(guard.calls(), ["STS:AssumeRole", "STS:AssumeRole"]);
}

#[tokio::test]
async fn a_session_that_cannot_be_renewed_fails_the_call_with_the_cause() {
    let refuse = mock!(aws_sdk_sts::Client::assume_role)
        .then_http_response(|| http(403, QUERY_ACCESS_DENIED));
    let guard = ReadOnlyGuard::new();
    let sts_client = mocked!(aws_sdk_sts, guard, [&refuse]);
    let role = AssumeRole {
        arn: "arn:aws:iam::444455556666:role/audit".into(),
        external_id: None,
    };
    let expired = aws_sdk_sts::config::Credentials::new(
        "ASIAFIRST",
        "first-secret",
        Some("first-token".into()),
        Some(std::time::SystemTime::now() - Duration::from_secs(1)),
        "test",
    );
    let session = sts::RoleSession::new(sts_client, role, expired);
    use aws_credential_types::provider::ProvideCredentials;
    // The first session is handed out once (the identity cache judges its expiry) …
    assert_eq!(
        session
            .provide_credentials()
            .await
            .expect("first")
            .access_key_id(),
        "ASIAFIRST"
    );
    // … and a renewal that is refused says whose session and why, never the secret.
    let err = session.provide_credentials().await.expect_err("refused");
    let text = format!("{}", DisplayErrorContext(&err));
    assert!(
        text.contains("renewing the session of arn:aws:iam::444455556666:role/audit")
            && text.contains("AccessDenied"),
        "{text}"
    );
    assert!(!text.contains("first-secret"), "{text}");
}
