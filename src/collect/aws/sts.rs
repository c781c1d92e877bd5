//! STS: the account id of the credentials, which names every ARN built from bare ids, and, for
//! `--assume-role`/`--org-role`, the temporary credentials of a role in another account. It
//! must not change anything.

use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_sdk_sts::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// The account id; an answer without one is an error, not an empty account.
pub async fn account(
    client: &Client,
) -> Result<String, SdkError<GetCallerIdentityError, HttpResponse>> {
    let out = client.get_caller_identity().send().await?;
    match out.account() {
        Some(a) if !a.is_empty() => Ok(a.to_string()),
        _ => Err(SdkError::construction_failure(
            "GetCallerIdentity answered without an account id",
        )),
    }
}

/// Temporary credentials of `role` (`sts:AssumeRole`, through the caller's guarded client). The
/// session lasts the role's default (one hour): an account's collection takes seconds to minutes.
/// The credentials stay inside the SDK types (their `Debug` is redacted) and are never logged.
pub async fn assume(
    client: &Client,
    role: &super::AssumeRole,
) -> Result<
    aws_sdk_sts::config::Credentials,
    SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>,
> {
    let out = client
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("estate-audit")
        .set_external_id(role.external_id.clone())
        .send()
        .await?;
    let Some(c) = out.credentials() else {
        return Err(SdkError::construction_failure(
            "AssumeRole answered without credentials",
        ));
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(aws_sdk_sts::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "estate-audit-assume-role",
    ))
}
