//! `estate-audit iam-policy`: the read-only permissions live collection needs, printed from the
//! collectors' own allowlist (docs/design.md §1), so the policy and the calls cannot drift apart.
//! Without the `live` feature there are no collectors, and it says so.

#[cfg(not(feature = "live"))]
use super::collect::no_live;
#[cfg(feature = "live")]
use super::write_output;
use super::Io;
#[cfg(feature = "live")]
use super::EXIT_OK;
#[cfg(feature = "live")]
use crate::collect;
use crate::diag::Diagnostics;

#[cfg(feature = "live")]
pub(super) fn cmd_iam_policy(io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    write_output(None, &collect::required_permissions(), io)?;
    Ok(EXIT_OK)
}

#[cfg(not(feature = "live"))]
pub(super) fn cmd_iam_policy(_io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    Err(no_live(
        "iam-policy (the permissions of the live collectors)",
    ))
}
