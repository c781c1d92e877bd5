//! What every HTTP collector (Cloudflare, PagerDuty and the monitoring plane's APIs) shares
//! beneath its own client: whether a credential may be sent to a base URL, the wait a `429`
//! asks for, a body read under a size cap, transport errors and server text made safe to print,
//! and the `GET /path?query` an error names. It must not know any provider's envelope, paths or
//! pagination (each client keeps those), nor hold a credential.

use std::time::Duration;

use serde_json::Value;

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

/// How a client authenticates: the header value is built once, marked sensitive, and the
/// credential kept to redact server text.
pub struct Auth {
    pub header: reqwest::header::HeaderValue,
    pub secret: crate::collect::Secret,
}

/// One read a collector may make (its allowlist), what it needs of the credential, and what
/// for: the single source of the client's check and of `iam-policy`'s lines.
pub struct Read {
    /// `GET` path; `{id}` stands for one path segment.
    pub path: &'static str,
    /// The scope, permission or role it needs (`-` when the API has none).
    pub needs: &'static str,
    pub needed_for: &'static str,
}

/// `GET <path> <needs> <needed for>`, one line per read, in aligned columns.
pub fn reads_table(reads: &[Read]) -> String {
    calls_table("GET ", reads)
}

/// [`reads_table`] with another verb before each path (`POST /api_jsonrpc.php `).
pub fn calls_table(verb: &str, reads: &[Read]) -> String {
    let path_w = reads.iter().map(|r| r.path.len()).max().unwrap_or(0);
    let needs_w = reads.iter().map(|r| r.needs.len()).max().unwrap_or(0);
    reads
        .iter()
        .map(|r| {
            format!(
                "{verb}{:<path_w$}  {:<needs_w$}  {}\n",
                r.path, r.needs, r.needed_for
            )
        })
        .collect()
}

/// Whether `path` is one of `reads`' paths (`{id}`: one segment of letters and digits).
pub fn allowed(reads: &[Read], path: &str) -> bool {
    reads.iter().any(|r| {
        let want: Vec<&str> = r.path.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        want.len() == got.len()
            && want.iter().zip(&got).all(|(w, g)| {
                if *w == "{id}" {
                    !g.is_empty() && g.chars().all(|c| c.is_ascii_alphanumeric())
                } else {
                    w == g
                }
            })
    })
}

/// Limits and timeouts of a [`Client`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries of one request answered `429`.
    pub max_retries: u32,
    /// Retries of all requests together.
    pub retry_budget: u32,
    /// Longest wait honoured from the server's header.
    pub max_retry_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_budget: 6,
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// For a self-hosted API that does not limit its own rate, where only a proxy in front of it
    /// (or a hosted edition) may answer `429`: fewer retries, and a shorter longest wait.
    pub fn self_hosted() -> Self {
        Limits {
            max_retries: 2,
            retry_budget: 4,
            max_retry_wait: Duration::from_secs(30),
            ..Limits::default()
        }
    }
}

/// The options of a collector that needs only a token: the token, its [`Limits`]
/// ([`Limits::self_hosted`] by default) and the collection's deadline.
#[derive(Clone, Debug)]
pub struct TokenOptions {
    pub token: Option<crate::collect::Secret>,
    pub limits: Limits,
    pub deadline: Option<crate::collect::Deadline>,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            token: None,
            limits: Limits::self_hosted(),
            deadline: None,
        }
    }
}

/// Where `[monitoring.<name>]` leads and the token from `var`, or why the collector `display`
/// reads nothing: `(service, kind, message)`, the message saying what to set (`url_hint` the
/// URL wanted, `token_hint` how to get the token, ending before "as VAR").
pub fn url_and_token<'u>(
    (name, display): (&str, &str),
    url: Option<&'u str>,
    url_hint: &str,
    token: Option<&crate::collect::Secret>,
    (var, token_hint): (&str, &str),
) -> Result<(&'u str, crate::collect::Secret), (&'static str, ErrorKind, String)> {
    let Some(url) = url else {
        return Err((
            "config",
            ErrorKind::Other,
            format!(
                "estate.toml's [monitoring] puts {name} in the audit, but [monitoring.{name}] url \
                 is not set: give its {url_hint}, or list {name} in not_used"
            ),
        ));
    };
    match token.filter(|t| !t.is_empty()) {
        Some(t) => Ok((url, t.clone())),
        None => Err((
            "api_token",
            ErrorKind::AccessDenied,
            format!(
                "{var} is not set, so {display} was not queried: {token_hint} as {var} (or list \
                 {name} in [monitoring] not_used)"
            ),
        )),
    }
}

/// A client of `base` sending `token` as `Authorization: Bearer`; `var` names where the token
/// came from, for the error when it cannot be sent in a header.
pub fn bearer_client(
    provider: &'static str,
    what: &str,
    base: &str,
    token: crate::collect::Secret,
    var: &str,
    limits: Limits,
) -> Result<Client, String> {
    let mut header = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .map_err(|_| format!("{var} holds characters that cannot be sent in an HTTP header"))?;
    header.set_sensitive(true);
    Client::new(
        provider,
        what,
        base,
        Some(Auth {
            header,
            secret: token,
        }),
        Vec::new(),
        &["retry-after"],
        limits,
    )
}

/// What came back: the status and the whole body (any status; the provider's client reads it).
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// No answer: why, in words, and whether it was a rate limit that did not end.
pub struct NoAnswer {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub detail: String,
}

/// A GET-only JSON client of one API: the base URL (checked by [`base_is_safe`] when it carries
/// a credential), no redirects, bounded `429` retries after the wait the server names, bodies
/// under [`MAX_BODY_BYTES`], and the call counts for `--stats`. What a path means, its error
/// bodies and pagination are the provider client's.
pub struct Client {
    /// The API's name in messages (`PagerDuty`, `Prometheus`).
    provider: &'static str,
    http: reqwest::Client,
    base: String,
    auth: Option<Auth>,
    headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    /// Headers naming the seconds to wait after a `429`, in order of preference.
    wait_headers: &'static [&'static str],
    limits: Limits,
    budget: std::sync::atomic::AtomicU32,
    requests: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth.as_ref().map(|a| &a.secret))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `what` names where the base URL came from, for the error when it is refused.
    pub fn new(
        provider: &'static str,
        what: &str,
        base: &str,
        auth: Option<Auth>,
        headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
        wait_headers: &'static [&'static str],
        limits: Limits,
    ) -> Result<Self, String> {
        let base = base.trim().trim_end_matches('/').to_string();
        if auth.is_some() {
            base_is_safe(what, &base)?;
        } else {
            reqwest::Url::parse(&base).map_err(|e| format!("{what}={base:?} is not a URL: {e}"))?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            // Following a redirect could carry the credential elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("estate-audit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(Client {
            provider,
            http,
            base,
            auth,
            headers,
            wait_headers,
            limits,
            budget: std::sync::atomic::AtomicU32::new(limits.retry_budget),
            requests: Default::default(),
            retries: Default::default(),
            bytes: Default::default(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Text from the server or about a request with the credential masked.
    pub fn redact(&self, text: &str) -> String {
        match &self.auth {
            Some(a) => a.secret.redact(text),
            None => text.to_string(),
        }
    }

    pub fn usage(&self) -> crate::stats::ServiceCalls {
        use std::sync::atomic::Ordering::Relaxed;
        crate::stats::ServiceCalls {
            calls: self.requests.load(Relaxed),
            retries: self.retries.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
        }
    }

    fn take_retry(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.budget
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// One GET of `path` with `query` (keys may repeat), retrying `429`s within the limits.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer, NoAnswer> {
        let url = format!("{}{path}", self.base);
        self.send(|| self.http.get(&url).query(query), true).await
    }

    /// One POST of `body` to the base URL itself (a JSON-RPC endpoint), as `content_type`,
    /// retrying `429`s like [`Client::get`]. `with_auth`: whether the credential's header goes
    /// with it (an API may refuse it on some calls, or take the credential in the body).
    pub async fn post(
        &self,
        body: Vec<u8>,
        content_type: &'static str,
        with_auth: bool,
    ) -> Result<Answer, NoAnswer> {
        self.send(
            || {
                self.http
                    .post(&self.base)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.clone())
            },
            with_auth,
        )
        .await
    }

    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        with_auth: bool,
    ) -> Result<Answer, NoAnswer> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Relaxed);
            if attempt > 0 {
                self.retries.fetch_add(1, Relaxed);
            }
            let mut req = build();
            if let Some(a) = self.auth.as_ref().filter(|_| with_auth) {
                req = req.header(reqwest::header::AUTHORIZATION, a.header.clone());
            }
            for (name, value) in &self.headers {
                req = req.header(name.clone(), value.clone());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    return Err(NoAnswer {
                        kind: ErrorKind::Other,
                        status: None,
                        detail: self.redact(&transport_failure(&e)),
                    })
                }
            };
            let status = resp.status().as_u16();
            if status == 429 {
                let seconds = self
                    .wait_headers
                    .iter()
                    .find_map(|h| resp.headers().get(*h).and_then(|v| v.to_str().ok()));
                let wait = retry_wait(seconds, self.limits.max_retry_wait);
                if attempt < self.limits.max_retries && self.take_retry() {
                    attempt += 1;
                    drop(resp);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(NoAnswer {
                    kind: ErrorKind::Throttled,
                    status: Some(429),
                    detail: format!(
                        "rate limited by {} ({attempt} retr{} honouring {}); try again later",
                        self.provider,
                        if attempt == 1 { "y" } else { "ies" },
                        self.wait_headers.first().copied().unwrap_or("Retry-After")
                    ),
                });
            }
            return match read_capped(resp).await {
                Ok(body) => {
                    self.bytes.fetch_add(body.len() as u64, Relaxed);
                    Ok(Answer { status, body })
                }
                Err(why) => Err(NoAnswer {
                    kind: ErrorKind::Other,
                    status: Some(status),
                    detail: self.redact(&why),
                }),
            };
        }
    }
}

/// One allowlisted GET whose answer should be JSON: `Ok((status, value))` for a 2xx JSON body;
/// otherwise the kind and a message naming the endpoint, the status and what went wrong, the
/// detail of an error body read by `error_detail` (the API's own fields), else its first line.
/// A path outside `reads` is refused before anything is sent.
pub async fn get_json(
    c: &Client,
    reads: &[Read],
    path: &str,
    query: &[(&str, &str)],
    error_detail: fn(&Value) -> Option<String>,
) -> Result<(u16, Value), (ErrorKind, String)> {
    get_json_with(c, reads, path, query, error_detail, text_detail).await
}

/// [`get_json`] with the words for a non-JSON error body chosen by the caller (`text_detail`
/// there): an API whose errors are plain text quotes them as its own.
pub async fn get_json_with(
    c: &Client,
    reads: &[Read],
    path: &str,
    query: &[(&str, &str)],
    error_detail: fn(&Value) -> Option<String>,
    text: fn(&[u8]) -> String,
) -> Result<(u16, Value), (ErrorKind, String)> {
    let endpoint = c.redact(&describe(path, query));
    if !allowed(reads, path) {
        return Err((
            ErrorKind::Other,
            format!("{endpoint}: not an allowlisted read; nothing was sent"),
        ));
    }
    let answer = c.get(path, query).await.map_err(|no| {
        let status = no.status.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
        (no.kind, format!("{endpoint}: {status}{}", no.detail))
    })?;
    let status = answer.status;
    let fail = |kind, detail: String| {
        (
            kind,
            c.redact(&format!("{endpoint}: HTTP {status}, {detail}")),
        )
    };
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(v) if (200..300).contains(&status) => Ok((status, v)),
        Err(e) if (200..300).contains(&status) => Err(fail(
            ErrorKind::Other,
            format!("unreadable answer: the response body is not valid JSON ({e})"),
        )),
        Ok(v) => Err(fail(
            kind_of(status),
            error_detail(&v).unwrap_or_else(|| text(&answer.body)),
        )),
        Err(_) => Err(fail(kind_of(status), text(&answer.body))),
    }
}

/// A non-JSON body (a proxy's page, a plain-text error): its first line, cleaned.
pub fn text_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) => clean(line),
        None => "an empty body".to_string(),
    }
}
