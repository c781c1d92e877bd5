//! The HTTP layer of the Cloudflare collector: one [`Api`] per collection, holding the token as a
//! [`Secret`] (sent only to an HTTPS base URL or to this machine, never along a redirect) with
//! its timeouts, bounded `429` retries honouring `Retry-After` within a budget shared by every
//! request, page and cursor pagination, error bodies turned into [`Failure`]s that name the
//! endpoint, the Cloudflare error codes and the `cf-ray`, and the call counts for `--stats`.
//!
//! It must not know what is read or what an answer means (that is `zone` and `normalize`), send
//! anything but GET, follow a redirect, or let the token reach any message or `Debug` output:
//! text that came from the server is redacted before it is kept.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;

use super::normalize::str_at;
use super::{error, Options, BASE_VAR, TOKEN_VAR};
use crate::collect::http::{
    self, clean, describe, kind_of, read_capped, retry_wait, transport_failure,
};
use crate::collect::{Deadline, Secret};
use crate::model::{CollectionError, ErrorKind};

/// Most pages followed in one listing before giving up (fail closed, never truncate silently).
const MAX_PAGES: usize = 50;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    Token,
    /// `/ips` is public: the token is not sent where it is not needed.
    None,
}

/// A successful answer: the `result` and `result_info` of the v4 envelope.
pub(super) struct Envelope {
    endpoint: String,
    pub(super) result: Value,
    result_info: Value,
    ray: Option<String>,
}

/// Not derived: a `result` can hold a transform rule's header value (a secret).
impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("endpoint", &self.endpoint)
            .field("ray", &self.ray)
            .finish_non_exhaustive()
    }
}

impl Envelope {
    pub(super) fn malformed(&self, what: String) -> Failure {
        Failure {
            endpoint: self.endpoint.clone(),
            kind: ErrorKind::Other,
            status: Some(200),
            codes: Vec::new(),
            detail: format!("unexpected response: {what}"),
            ray: self.ray.clone(),
        }
    }
}

/// Why a call gave no value: enough to tell a person what failed, where, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// `GET /zones/…` (path and query; never a header).
    pub endpoint: String,
    pub kind: ErrorKind,
    /// HTTP status, `None` when no answer arrived.
    pub status: Option<u16>,
    /// Cloudflare error codes of the body (`1000`, `9109`, `10000`, `10003`, …).
    pub codes: Vec<i64>,
    pub detail: String,
    pub ray: Option<String>,
}

impl Failure {
    pub(super) fn note(mut self, extra: &str) -> Self {
        self.detail = format!("{}; {extra}", self.detail);
        self
    }

    /// As a collection error; `permission` is named when the cause is an access problem.
    pub(super) fn into_error(
        self,
        service: &str,
        kinds: &[&str],
        permission: &str,
    ) -> CollectionError {
        let kind = self.kind;
        let mut message = self.to_string();
        if kind == ErrorKind::AccessDenied {
            message.push_str(&format!(
                ": the token in {TOKEN_VAR} was refused; it needs {permission}"
            ));
        }
        error(service, kinds, kind, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.endpoint)?;
        if let Some(s) = self.status {
            write!(f, "HTTP {s}, ")?;
        }
        f.write_str(&self.detail)?;
        if let Some(ray) = &self.ray {
            write!(f, " (cf-ray {ray})")?;
        }
        Ok(())
    }
}

/// The API client of one collection.
pub(super) struct Api {
    http: reqwest::Client,
    base: String,
    /// `Bearer <token>`, marked sensitive (kept out of `Debug` by `http`).
    auth: HeaderValue,
    token: Secret,
    max_retries: u32,
    retry_budget: AtomicU32,
    max_retry_wait: Duration,
    requests: AtomicUsize,
    /// Requests that repeated a rate-limited one.
    retries: AtomicUsize,
    /// Response body bytes read.
    bytes: std::sync::atomic::AtomicU64,
    pub(super) deadline: Option<Deadline>,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("token", &self.token)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// Whether the token may be sent to this base URL: HTTPS, or plain HTTP to this machine (tests).
pub(super) fn base_is_safe(base: &str) -> Result<(), String> {
    http::base_is_safe(BASE_VAR, base)
}

impl Api {
    pub(super) fn new(opts: &Options, token: Secret) -> Result<Self, String> {
        let base = opts.api_base.trim().trim_end_matches('/').to_string();
        base_is_safe(&base)?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                // The error would not echo the value, but say nothing about it anyway.
                format!("{TOKEN_VAR} holds characters that cannot be sent in an HTTP header")
            })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            // The API does not redirect; following one could carry the token elsewhere.
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
            requests: AtomicUsize::new(0),
            retries: AtomicUsize::new(0),
            bytes: std::sync::atomic::AtomicU64::new(0),
            deadline: opts.deadline,
        })
    }

    pub(super) fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    pub(super) fn usage(&self) -> crate::stats::ServiceCalls {
        crate::stats::ServiceCalls {
            calls: self.requests() as u64,
            retries: self.retries.load(Ordering::Relaxed) as u64,
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Takes one retry from the shared budget.
    fn take_retry(&self) -> bool {
        self.retry_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Strips the token from text that came from elsewhere (a server could echo it).
    fn redact(&self, text: &str) -> String {
        self.token.redact(text)
    }

    /// One GET, with bounded retries on `429`.
    pub(super) async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        auth: Auth,
    ) -> Result<Envelope, Failure> {
        let endpoint = self.redact(&describe(path, query));
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 0 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            let mut req = self.http.get(&url).query(query);
            if auth == Auth::Token {
                req = req.header(AUTHORIZATION, self.auth.clone());
            }
            let fail = |status: Option<u16>, kind, detail: String, ray: Option<String>| Failure {
                endpoint: endpoint.clone(),
                kind,
                status,
                codes: Vec::new(),
                detail: self.redact(&detail),
                ray,
            };
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => return Err(fail(None, ErrorKind::Other, transport_failure(&e), None)),
            };
            let status = resp.status().as_u16();
            let ray = resp
                .headers()
                .get("cf-ray")
                .and_then(|v| v.to_str().ok())
                .map(|s| self.redact(s));
            if status == 429 {
                let wait = retry_wait(
                    resp.headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()),
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
                    format!(
                        "rate limited by Cloudflare ({} retr{} honouring Retry-After); try again \
                         later",
                        attempt,
                        if attempt == 1 { "y" } else { "ies" }
                    ),
                    ray,
                ));
            }
            let body = match read_capped(resp).await {
                Ok(b) => {
                    self.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                    b
                }
                Err(why) => return Err(fail(Some(status), ErrorKind::Other, why, ray)),
            };
            let json: Result<Value, _> = serde_json::from_slice(&body);
            let success = (200..300).contains(&status);
            return match json {
                // Syntax errors name a position only, never the content.
                Err(e) => Err(fail(
                    Some(status),
                    kind_of(status),
                    format!("unreadable answer: the response body is not valid JSON ({e})"),
                    ray,
                )),
                Ok(v) if success && v.get("success") == Some(&Value::Bool(true)) => {
                    match v.get("result") {
                        Some(result) if !result.is_null() => Ok(Envelope {
                            endpoint: endpoint.clone(),
                            result: result.clone(),
                            result_info: v.get("result_info").cloned().unwrap_or(Value::Null),
                            ray,
                        }),
                        _ => Err(fail(
                            Some(status),
                            ErrorKind::Other,
                            "the response has no result".into(),
                            ray,
                        )),
                    }
                }
                Ok(v) => {
                    let (codes, messages) = api_errors(&v);
                    let mut detail = if messages.is_empty() {
                        "Cloudflare gave no error message".to_string()
                    } else {
                        messages.join("; ")
                    };
                    if success {
                        detail = format!("the API reported a failure: {detail}");
                    }
                    Err(Failure {
                        codes,
                        ..fail(Some(status), kind_of(status), detail, ray)
                    })
                }
            };
        }
    }

    /// Every item of a listing, following cursor (`result_info.cursors.after`) and page
    /// (`result_info.page` / `total_pages`) pagination.
    pub(super) async fn list(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, Failure> {
        self.list_pages(path, query, MAX_PAGES).await
    }

    /// [`Api::list`] reading at most `max_pages` pages: a listing that does not end within them
    /// is an error, never a partial list.
    pub(super) async fn list_pages(
        &self,
        path: &str,
        query: &[(&str, &str)],
        max_pages: usize,
    ) -> Result<Vec<Value>, Failure> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut page: u64 = 1;
        for _ in 0..max_pages {
            let page_text = page.to_string();
            let mut q: Vec<(&str, &str)> = query.to_vec();
            match &cursor {
                Some(c) => q.push(("cursor", c)),
                None if page > 1 => q.push(("page", &page_text)),
                None => {}
            }
            let env = self.get(path, &q, Auth::Token).await?;
            let Some(items) = env.result.as_array() else {
                return Err(env.malformed("`result` is not a list".into()));
            };
            out.extend(items.iter().cloned());
            if let Some(after) =
                str_at(&env.result_info, "/cursors/after").filter(|a| !a.is_empty())
            {
                if cursor.as_deref() == Some(after) {
                    return Err(env.malformed(
                        "the pagination cursor did not end: the cursor did not advance".into(),
                    ));
                }
                cursor = Some(after.to_string());
                continue;
            }
            let total = env
                .result_info
                .get("total_pages")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let current = env
                .result_info
                .get("page")
                .and_then(Value::as_u64)
                .unwrap_or(page);
            if cursor.is_none() && current < total && !items.is_empty() {
                page = current + 1;
                continue;
            }
            return Ok(out);
        }
        Err(Failure {
            endpoint: describe(path, query),
            kind: ErrorKind::Other,
            status: None,
            codes: Vec::new(),
            detail: format!(
                "the pagination did not end after {max_pages} pages; refusing to read a partial \
                 list"
            ),
            ray: None,
        })
    }
}

/// Codes and messages of a v4 error body (`errors: [{code, message, error_chain}]`); entries
/// without a code (the Rulesets API sends some) keep their message.
pub(super) fn api_errors(v: &Value) -> (Vec<i64>, Vec<String>) {
    let mut codes = Vec::new();
    let mut messages = Vec::new();
    let Some(errors) = v.get("errors").and_then(Value::as_array) else {
        return (codes, messages);
    };
    for e in errors {
        let code = e.get("code").and_then(Value::as_i64);
        let msg = str_at(e, "/message").map(clean);
        if let Some(c) = code {
            codes.push(c);
        }
        let chain: Vec<String> = e
            .get("error_chain")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(|x| {
                        let m = str_at(x, "/message").map(clean)?;
                        Some(match x.get("code").and_then(Value::as_i64) {
                            Some(c) => format!("{c} {m}"),
                            None => m,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut text = match (code, msg) {
            (Some(c), Some(m)) => format!("Cloudflare error {c}: {m}"),
            (Some(c), None) => format!("Cloudflare error {c}"),
            (None, Some(m)) => format!("Cloudflare error (no code): {m}"),
            (None, None) => continue,
        };
        if !chain.is_empty() {
            text.push_str(&format!(" ({})", chain.join("; ")));
        }
        messages.push(text);
    }
    (codes, messages)
}
