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

/// Temporary credentials of `role` (`sts:AssumeRole`, through the caller's guarded client), for
/// the role's default session (one hour; [`RoleSession`] renews them when a collection outlasts
/// it). The credentials stay inside the SDK types (their `Debug` is redacted) and are never
/// logged.
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

/// The credentials of an assumed role for as long as an account's collection lasts. The first
/// session is assumed before the collection starts (so a role that cannot be assumed is that
/// account's own error, with its cause); after that, the SDK's identity cache, shared by every
/// client of the account, asks again whenever the session is about to expire, and a new one is
/// assumed through the same guarded STS client: an organisation-wide audit can outlast the
/// role's one-hour session without its last accounts failing with expired credentials.
#[derive(Debug)]
pub struct RoleSession {
    sts: Client,
    role: super::AssumeRole,
    /// The session assumed up front, handed out once.
    first: std::sync::Mutex<Option<aws_sdk_sts::config::Credentials>>,
}

impl RoleSession {
    pub fn new(
        sts: Client,
        role: super::AssumeRole,
        first: aws_sdk_sts::config::Credentials,
    ) -> RoleSession {
        RoleSession {
            sts,
            role,
            first: std::sync::Mutex::new(Some(first)),
        }
    }
}

impl aws_credential_types::provider::ProvideCredentials for RoleSession {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        // A poisoned lock only means another resolution panicked: assume anew.
        let first = self.first.lock().ok().and_then(|mut f| f.take());
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            if let Some(c) = first {
                return Ok(c);
            }
            assume(&self.sts, &self.role).await.map_err(|e| {
                let (_, cause) = super::classify(&e);
                aws_credential_types::provider::error::CredentialsError::provider_error(format!(
                    "renewing the session of {}: sts AssumeRole: {cause}",
                    self.role.arn
                ))
            })
        })
    }
}
