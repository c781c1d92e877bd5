//! STS: the account id of the credentials, which names every ARN built from bare ids. It must
//! not assume or change anything.

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
