//! The HTTP layer of the PagerDuty collector: one [`Api`] per collection, holding the REST API
//! key as a [`Secret`] (sent only to an HTTPS base or to this machine, never along a redirect),
//! GET only and only on the paths of [`super::ENDPOINTS`], bounded `429` retries honouring
//! `ratelimit-reset` within a shared budget, classic offset pagination that refuses a partial
//! list, and error bodies (`{"error": {"code", "message", "errors"}}`) turned into [`Failure`]s.
//!
//! It must not know what an answer means (that is `normalize`), or let the key reach a message:
//! text that came from the server is redacted before it is kept.

use std::fmt;

use reqwest::header::{HeaderValue, ACCEPT};
use serde_json::Value;

use super::{allowed, Options, TOKEN_VAR};
use crate::collect::http::{self, clean, describe, kind_of, text_detail, Client};
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
#[derive(Debug)]
pub(super) struct Api {
    client: Client,
    page_limit: u32,
}

impl Api {
    pub(super) fn new(opts: &Options, base: &str, token: Secret) -> Result<Self, String> {
        let mut header = HeaderValue::from_str(&format!("Token token={}", token.expose()))
            .map_err(|_| {
                format!("{TOKEN_VAR} holds characters that cannot be sent in an HTTP header")
            })?;
        header.set_sensitive(true);
        let client = Client::new(
            "PagerDuty",
            "[monitoring.pagerduty] api",
            base,
            Some(http::Auth {
                header,
                secret: token,
            }),
            vec![(ACCEPT, HeaderValue::from_static(ACCEPT_V2))],
            &["ratelimit-reset", "retry-after"],
            opts.limits,
        )?;
        Ok(Api {
            client,
            page_limit: opts.page_limit.clamp(1, 100),
        })
    }

    pub(super) fn usage(&self) -> crate::stats::ServiceCalls {
        self.client.usage()
    }

    /// One GET of an allowlisted path.
    pub(super) async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Failure> {
        let endpoint = self.client.redact(&describe(path, query));
        let fail = |status: Option<u16>, kind, code, detail: String| Failure {
            endpoint: endpoint.clone(),
            kind,
            status,
            code,
            detail: self.client.redact(&detail),
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
        let answer = match self.client.get(path, query).await {
            Ok(a) => a,
            Err(no) => {
                let code = (no.kind == ErrorKind::Throttled).then_some(2020);
                return Err(fail(no.status, no.kind, code, no.detail));
            }
        };
        let status = answer.status;
        let ok = (200..300).contains(&status);
        match serde_json::from_slice::<Value>(&answer.body) {
            Ok(v) if ok && v.is_object() => Ok(v),
            Ok(_) if ok => Err(fail(
                Some(status),
                ErrorKind::Other,
                None,
                "unexpected response: the body is not a JSON object".into(),
            )),
            Err(e) if ok => Err(fail(
                Some(status),
                ErrorKind::Other,
                None,
                format!("unreadable answer: the response body is not valid JSON ({e})"),
            )),
            Ok(v) => {
                let (code, detail) = api_error(&v);
                Err(fail(Some(status), kind_of(status), code, detail))
            }
            Err(_) => Err(fail(
                Some(status),
                kind_of(status),
                None,
                format!(
                    "the answer is not PagerDuty's JSON: {}",
                    text_detail(&answer.body)
                ),
            )),
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
                endpoint: self.client.redact(&describe(path, &q)),
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
