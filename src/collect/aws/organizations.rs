//! AWS Organizations, for `--org-role`: the ids of the organization's ACTIVE accounts, listed
//! from the caller's account (the management account or a delegated administrator). It must
//! not read anything else of the organization nor change it.

use aws_sdk_organizations::operation::list_accounts::ListAccountsError;
use aws_sdk_organizations::Client;

use super::AllPages;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// ACTIVE accounts, sorted by id. Suspended and closing accounts cannot be audited (their roles
/// cannot be assumed) and are not the organization's estate any more.
pub async fn active_accounts(
    client: &Client,
) -> Result<Vec<String>, SdkError<ListAccountsError, HttpResponse>> {
    let pages = client
        .list_accounts()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await?;
    let mut ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .filter(|a| is_active(a))
        .filter_map(|a| a.id().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `State` is the current field; `Status` the deprecated one older endpoints still send alone.
#[allow(deprecated)]
fn is_active(a: &aws_sdk_organizations::types::Account) -> bool {
    match (a.state(), a.status()) {
        (Some(s), _) => s.as_str() == "ACTIVE",
        (None, Some(s)) => s.as_str() == "ACTIVE",
        (None, None) => false,
    }
}
