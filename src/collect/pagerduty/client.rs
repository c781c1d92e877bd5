//! The HTTP layer of the PagerDuty collector: one [`Api`] per collection, holding the REST API
//! key as a [`Secret`] (sent only to an HTTPS base or to this machine, never along a redirect),
//! GET only and only on the paths of [`super::ENDPOINTS`], bounded `429` retries honouring
//! `ratelimit-reset` within a shared budget, classic offset pagination that refuses a partial
//! list, and error bodies (`{"error": {"code", "message", "errors"}}`) turned into [`Failure`]s.
//!
//! It must not know what an answer means (that is `normalize`), or let the key reach a message:
//! text that came from the server is redacted before it is kept.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;

use super::{allowed, Options, TOKEN_VAR};
use crate::collect::http::{
    base_is_safe, clean, describe, kind_of, read_capped, retry_wait, transport_failure,
};
use crate::collect::Secret;
use crate::model::ErrorKind;

/// Most pages followed in one listing: PagerDuty refuses `offset + limit` over 10,000, which is
/// 100 pages of the largest `limit`.
const MAX_PAGES: usize = 100;
/// The media type PagerDuty's REST API v2 declares required.
const ACCEPT_V2: &str = "application/vnd.pagerduty+json;version=2";

/// Why a call gave no value: what failed, where, and PagerDuty's error code.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// `GET /services?…` (path and query; never a header).
    pub endpoint: String,
    pub kind: ErrorKind,
    /// HTTP status, `None` when no answer arrived.
    pub status: Option<u16>,
    /// PagerDuty's error code (2001 invalid input, 2006 authentication, 2010 access denied,
    /// 2100 not found, 2020 rate limit).
    pub code: Option<i64>,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.endpoint)?;
        if let Some(s) = self.status {
            write!(f, "HTTP {s}, ")?;
        }
        f.write_str(&self.detail)
    }
}

/// The API client of one collection.
pub(super) struct Api {
    http: reqwest::Client,
    base: String,
    /// `Token token=<key>`, marked sensitive.
    auth: HeaderValue,
    token: Secret,
    max_retries: u32,
    retry_budget: AtomicU32,
    max_retry_wait: Duration,
    page_limit: u32,
    requests: AtomicUsize,
    retries: AtomicUsize,
    bytes: AtomicU64,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Api {
    pub(super) fn new(opts: &Options, base: &str, token: Secret) -> Result<Self, String> {
        let base = base.trim().trim_end_matches('/').to_string();
        base_is_safe("[monitoring.pagerduty] api", &base)?;
        let mut auth =
            HeaderValue::from_str(&format!("Token token={}", token.expose())).map_err(|_| {
                format!("{TOKEN_VAR} holds characters that cannot be sent in an HTTP header")
            })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            // The API does not redirect; following one could carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("estate-audit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(Api {
            http,
            base,
            auth,
            token,
            max_retries: opts.max_retries,
            retry_budget: AtomicU32::new(opts.retry_budget),
            max_retry_wait: opts.max_retry_wait,
            page_limit: opts.page_limit.clamp(1, 100),
            requests: AtomicUsize::new(0),
            retries: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
        })
    }

    pub(super) fn usage(&self) -> crate::stats::ServiceCalls {
        crate::stats::ServiceCalls {
            calls: self.requests.load(Ordering::Relaxed) as u64,
            retries: self.retries.load(Ordering::Relaxed) as u64,
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn take_retry(&self) -> bool {
        self.retry_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// One GET of an allowlisted path, with bounded retries on `429`.
    pub(super) async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Failure> {
        let endpoint = self.token.redact(&describe(path, query));
        let fail = |status: Option<u16>, kind, code, detail: String| Failure {
            endpoint: endpoint.clone(),
            kind,
            status,
            code,
            detail: self.token.redact(&detail),
        };
        if !allowed(path) {
            // A programming error, refused before anything is sent: the collector reads only
            // what `iam-policy` lists.
            return Err(fail(
                None,
                ErrorKind::Other,
                None,
                "not an allowlisted read of the PagerDuty API; nothing was sent".into(),
            ));
        }
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 0 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            let req = self
                .http
                .get(&url)
                .query(query)
                .header(AUTHORIZATION, self.auth.clone())
                .header(ACCEPT, ACCEPT_V2);
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => return Err(fail(None, ErrorKind::Other, None, transport_failure(&e))),
            };
            let status = resp.status().as_u16();
            if status == 429 {
                let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok());
                let wait = retry_wait(
                    header("ratelimit-reset").or(header(RETRY_AFTER.as_str())),
                    self.max_retry_wait,
                );
                if attempt < self.max_retries && self.take_retry() {
                    attempt += 1;
                    drop(resp);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(fail(
                    Some(429),
                    ErrorKind::Throttled,
                    Some(2020),
                    format!(
                        "rate limited by PagerDuty ({attempt} retr{} honouring ratelimit-reset); \
                         try again later",
                        if attempt == 1 { "y" } else { "ies" }
                    ),
                ));
            }
            let body = match read_capped(resp).await {
                Ok(b) => {
                    self.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                    b
                }
                Err(why) => return Err(fail(Some(status), ErrorKind::Other, None, why)),
            };
            let json: Result<Value, _> = serde_json::from_slice(&body);
            return match json {
                Ok(v) if (200..300).contains(&status) && v.is_object() => Ok(v),
                Ok(_) if (200..300).contains(&status) => Err(fail(
                    Some(status),
                    ErrorKind::Other,
                    None,
                    "unexpected response: the body is not a JSON object".into(),
                )),
                Err(e) if (200..300).contains(&status) => Err(fail(
                    Some(status),
                    ErrorKind::Other,
                    None,
                    format!("unreadable answer: the response body is not valid JSON ({e})"),
                )),
                other => {
                    let (code, detail) = match &other {
                        Ok(v) => api_error(v),
                        Err(_) => (None, text_detail(&body)),
                    };
                    Err(fail(Some(status), kind_of(status), code, detail))
                }
            };
        }
    }

    /// Every item under `key` of a listing, following `offset`/`limit` while `more` is true. A
    /// page without a boolean `more`, or a listing that does not end, is an error, never a
    /// partial list.
    pub(super) async fn list(
        &self,
        path: &str,
        key: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, Failure> {
        let limit = self.page_limit.to_string();
        let mut out = Vec::new();
        let mut offset: u64 = 0;
        for _ in 0..MAX_PAGES {
            let offset_text = offset.to_string();
            let mut q = query.to_vec();
            q.push(("limit", &limit));
            q.push(("offset", &offset_text));
            let page = self.get(path, &q).await?;
            let malformed = |what: &str| Failure {
                endpoint: self.token.redact(&describe(path, &q)),
                kind: ErrorKind::Other,
                status: Some(200),
                code: None,
                detail: format!("unexpected response: {what}"),
            };
            let Some(items) = page.get(key).and_then(Value::as_array) else {
                return Err(malformed(&format!("`{key}` is not a list")));
            };
            out.extend(items.iter().cloned());
            match page.get("more").and_then(Value::as_bool) {
                Some(false) => return Ok(out),
                None => return Err(malformed("`more` is missing, so the list may be partial")),
                Some(true) if items.is_empty() => {
                    return Err(malformed("an empty page says there is more"))
                }
                Some(true) => offset += items.len() as u64,
            }
        }
        Err(Failure {
            endpoint: describe(path, query),
            kind: ErrorKind::Other,
            status: None,
            code: None,
            detail: format!(
                "the pagination did not end after {MAX_PAGES} pages; refusing to read a partial \
                 list"
            ),
        })
    }
}

/// The code and message of an error body; `errors` holds details (a list of strings, once seen
/// as one string).
fn api_error(v: &Value) -> (Option<i64>, String) {
    let e = v.get("error").unwrap_or(v);
    let code = e.get("code").and_then(Value::as_i64);
    let mut detail = match e.get("message").and_then(Value::as_str) {
        Some(m) => format!("PagerDuty error{}: {}", code_text(code), clean(m)),
        None => format!("PagerDuty error{} without a message", code_text(code)),
    };
    let details: Vec<String> = match e.get("errors") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(clean).collect(),
        Some(Value::String(s)) => vec![clean(s)],
        _ => Vec::new(),
    };
    if !details.is_empty() {
        detail.push_str(&format!(" ({})", details.join("; ")));
    }
    (code, detail)
}

fn code_text(code: Option<i64>) -> String {
    code.map(|c| format!(" {c}")).unwrap_or_default()
}

/// A non-JSON error body (a proxy's page): its first line, cleaned.
fn text_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) => format!("the answer is not PagerDuty's JSON: {}", clean(line)),
        None => "the answer has an empty body".to_string(),
    }
}
