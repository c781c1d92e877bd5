//! What every HTTP collector (Cloudflare, PagerDuty and the monitoring plane's APIs) shares
//! beneath its own client: whether a credential may be sent to a base URL, the wait a `429`
//! asks for, a body read under a size cap, transport errors and server text made safe to print,
//! and the `GET /path?query` an error names. It must not know any provider's envelope, paths or
//! pagination (each client keeps those), nor hold a credential.

use std::time::Duration;

use crate::model::ErrorKind;

/// Largest response body accepted; the APIs read here answer in kilobytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Longest piece of a server's message kept in ours.
const MAX_DETAIL_CHARS: usize = 200;

/// Whether a credential may be sent to `base`: HTTPS, or plain HTTP to this machine (tests).
/// `what` names where the URL came from (`CLOUDFLARE_API_BASE`, `[monitoring.pagerduty] api`).
pub fn base_is_safe(what: &str, base: &str) -> Result<(), String> {
    let url =
        reqwest::Url::parse(base).map_err(|e| format!("{what}={base:?} is not a URL: {e}"))?;
    let loopback = url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{what}={base:?}: the API token is only sent over HTTPS (plain HTTP only to \
             localhost)"
        )),
    }
}

/// `GET /path?k=v` for messages.
pub fn describe(path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        format!("GET {path}")
    } else {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("GET {path}?{}", q.join("&"))
    }
}

/// The collection error kind of an HTTP status.
pub fn kind_of(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::AccessDenied,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Other,
    }
}

/// A server-supplied message made safe to print: one line, no control characters, bounded.
pub fn clean(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = one_line.chars().take(MAX_DETAIL_CHARS).collect();
    if one_line.chars().count() > MAX_DETAIL_CHARS {
        out.push('…');
    }
    out
}

/// The wait before retrying a `429`: the header's seconds (`Retry-After`; PagerDuty's
/// `ratelimit-reset`), capped; 1 s when absent or not a number of seconds.
pub fn retry_wait(seconds: Option<&str>, cap: Duration) -> Duration {
    let secs = seconds
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs.min(cap.as_secs_f64()))
}

/// The error and its causes, for transport failures (the URL holds no credential).
pub fn source_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![clean(&e.to_string())];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        parts.push(clean(&s.to_string()));
        src = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// Why a request got no answer, for people.
pub fn transport_failure(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {}", source_chain(e))
    } else {
        format!("request failed: {}", source_chain(e))
    }
}

/// The whole body, refusing one over [`MAX_BODY_BYTES`] (never a truncated answer).
pub async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > MAX_BODY_BYTES {
                    return Err(format!(
                        "the response is larger than {MAX_BODY_BYTES} bytes"
                    ));
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(format!(
                    "unreadable answer: reading the response failed (cut off): {}",
                    source_chain(&e)
                ))
            }
        }
    }
}
