//! Sorting a failed AWS call into a [`CollectionError`] (docs/design.md §3): the error kind from
//! the service's code, else the HTTP status, else the transport failure ([`classify`]); a
//! message that names the service, the operation and the cause and says what to do about it
//! ([`error_for`]: the IAM action a refused call needs, the retry budget a throttled one used);
//! and when two failures are alike, so that many calls failing one way are reported once.
//!
//! It must not soften a failure: whatever it cannot sort is `Other` with the transport's own
//! words, never dropped. Which kinds a failure leaves unknown is the caller's to say.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::guard::iam_action;
use super::paging::EndlessPagination;
use super::sdk::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
use crate::model::{CollectionError, ErrorKind};

/// A [`CollectionError`] for a failed call: the service, the operation and the cause, with what
/// to do about it: the IAM action a refused call needs, the retry budget a throttled one used.
/// `attempts` is the retry budget the call ran with.
pub fn error_for<E>(
    (service, operation, kinds): (&str, &str, &[&str]),
    region: &str,
    attempts: u32,
    err: &SdkError<E, HttpResponse>,
) -> CollectionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, cause) = classify(err);
    let advice = match kind {
        ErrorKind::AccessDenied => match iam_action(service, operation) {
            Some(action) => format!(
                "; the credentials need the IAM permission {action} (`estate-audit iam-policy` \
                 prints the whole read-only policy)"
            ),
            None => "; the credentials were refused".to_string(),
        },
        ErrorKind::Unsupported if !cause.contains("does not implement") => {
            "; the endpoint does not implement this call".to_string()
        }
        ErrorKind::Throttled => format!(
            "; still throttled after {attempts} attempt{} (the retry budget: AWS_MAX_ATTEMPTS)",
            if attempts == 1 { "" } else { "s" }
        ),
        _ => String::new(),
    };
    CollectionError {
        provider: "aws".into(),
        service: service.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        kind,
        message: format!("{service} {operation}: {cause}{advice}"),
        region: Some(region.to_string()),
        account: None,
    }
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthFailure",
    "AuthorizationError",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "OptInRequired",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
];
const UNSUPPORTED: &[&str] = &[
    "NotImplemented",
    "InvalidAction",
    "UnknownOperationException",
    "UnsupportedOperation",
    "UnsupportedOperationException",
];

/// Sorts a failed call into the error kinds of docs/design.md §3 with a message for people: the
/// service's code and message when it sent one, else the HTTP status, else the transport cause.
/// An endpoint that does not implement the call (404/501, or an HTML page instead of an API
/// answer, as emulators send) is `Unsupported`.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> (ErrorKind, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code();
            let message = se.err().message().unwrap_or("");
            let html = is_html(se.raw());
            let kind = match code {
                Some(c) if ACCESS_DENIED.contains(&c) => ErrorKind::AccessDenied,
                Some(c) if THROTTLED.contains(&c) => ErrorKind::Throttled,
                Some(c) if UNSUPPORTED.contains(&c) => ErrorKind::Unsupported,
                _ if status == 401 || status == 403 => ErrorKind::AccessDenied,
                _ if status == 429 => ErrorKind::Throttled,
                None if status == 404 || status == 501 || html => ErrorKind::Unsupported,
                _ => ErrorKind::Other,
            };
            // A success status that still ended as an error: the answer could not be read.
            if code.is_none() && (200..300).contains(&status) {
                return (
                    ErrorKind::Other,
                    format!(
                        "unreadable answer (HTTP {status}, cut off or malformed): {}",
                        cause_chain(se.err())
                    ),
                );
            }
            let text = match code {
                Some(c) if !message.is_empty() => format!("{c}: {message} (HTTP {status})"),
                Some(c) => format!("{c} (HTTP {status})"),
                None if html => {
                    format!("HTTP {status} with an HTML page instead of an API answer (the endpoint does not implement this call)")
                }
                None if status == 404 || status == 501 => {
                    format!("HTTP {status}: the endpoint does not implement this call")
                }
                None => format!("HTTP {status} without an error code"),
            };
            (kind, text)
        }
        SdkError::ResponseError(re) => {
            let status = re.raw().status().as_u16();
            // A success status is an answer, whatever its content type says (moto labels JSON
            // as text/html): cut off or garbled, not unimplemented.
            let success = (200..300).contains(&status);
            if status == 404 || status == 501 || (!success && is_html(re.raw())) {
                (
                    ErrorKind::Unsupported,
                    format!("HTTP {status}: the endpoint does not implement this call"),
                )
            } else {
                (
                    ErrorKind::Other,
                    format!(
                        "unreadable answer (HTTP {status}, cut off or malformed): {}",
                        cause_chain(err)
                    ),
                )
            }
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Other,
            format!(
                "timed out waiting for the answer (each attempt may take {} s, the call {} s)",
                ATTEMPT_TIMEOUT.as_secs(),
                OPERATION_TIMEOUT.as_secs()
            ),
        ),
        SdkError::ConstructionFailure(_) => {
            match std::error::Error::source(err).and_then(|s| s.downcast_ref::<EndlessPagination>())
            {
                Some(endless) => (ErrorKind::Other, endless.to_string()),
                None => (ErrorKind::Other, cause_chain(err)),
            }
        }
        // Refused, reset, or closed before the answer's headers: the transport's own words.
        SdkError::DispatchFailure(_) => (
            ErrorKind::Other,
            format!(
                "no answer (the connection failed or closed before the answer): {}",
                cause_chain(err)
            ),
        ),
        _ => (ErrorKind::Other, cause_chain(err)),
    }
}

/// The `Display` texts of an error's causes, outermost first, without the repetitions and the
/// `Debug` dump `DisplayErrorContext` adds: "dispatch failure: io error: … Connection refused".
fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn is_html(resp: &HttpResponse) -> bool {
    let ct_html = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
    let body_html = resp.body().bytes().is_some_and(|b| {
        let start = String::from_utf8_lossy(&b[..b.len().min(64)]).to_ascii_lowercase();
        let start = start.trim_start();
        start.starts_with("<!doctype html")
            || start.starts_with("<html")
            || start.starts_with("<h1")
    });
    ct_html || body_html
}

/// Same service, kind, kinds and operation (messages start `"<service> <Operation>:"`).
pub(super) fn same_failure(a: &CollectionError, b: &CollectionError) -> bool {
    let operation = |m: &str| m.split(':').next().unwrap_or("").to_string();
    a.service == b.service
        && a.kind == b.kind
        && a.kinds == b.kinds
        && operation(&a.message) == operation(&b.message)
}
