//! Loki collection over its HTTP API: for each of the spec's two log sources (the ECS
//! processors, the webhook function) one instant query counting the lines of its streams in the
//! hour before the collection, `sum(count_over_time(<selector>[1h]))` at `time` = the
//! collection's clock. Two GETs in all, beside the other collectors; the tenant goes in
//! `X-Scope-OrgID`, an optional bearer token or `user:password` comes from the environment.
//!
//! What it must not do: write (GET only, on [`READS`]), guess (a query that fails, or an answer
//! that is not a vector of numbers, leaves its count `None` and a [`CollectionError`] says why,
//! with Loki's own text quoted; an empty vector is 0 lines, a value), ask with a selector that
//! cannot tell whose streams it counts (refused before anything is sent), or let a credential
//! reach any message.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::http::{self, Client, Read};
use super::prometheus::Credential;
use crate::model::{
    check_selector, check_selector_pair, check_tenant, kind, Attrs, CollectionError, ErrorKind,
    LokiConfig, LokiServer, Resource,
};

/// What the collector reads.
pub const READS: &[Read] = &[Read {
    path: "/loki/api/v1/query",
    needs: "read (query) access to the tenant",
    needed_for: "the lines of the ECS processors' and the webhook's streams in the last hour",
}];

/// Environment variables of the optional credential.
pub const BEARER_VAR: &str = "LOKI_BEARER_TOKEN";
pub const BASIC_VAR: &str = "LOKI_BASIC_AUTH";

/// The `iam-policy` section.
pub fn permissions_section() -> String {
    format!(
        "# Loki (when estate.toml has [monitoring] and does not list loki in not_used): read\n\
         # access to the tenant [monitoring.loki] tenant names (sent as X-Scope-OrgID); a bearer\n\
         # token in {BEARER_VAR}, or user:password in {BASIC_VAR}, when a gateway asks for one.\n{}",
        http::reads_table(READS)
    )
}

/// Where and how to reach Loki.
#[derive(Clone, Debug)]
pub struct Options {
    pub credential: Option<Credential>,
    /// Timeouts and `429` retries (Loki answers `429` when its query queue is full).
    pub limits: http::Limits,
    pub deadline: Option<super::Deadline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            credential: None,
            limits: http::Limits::self_hosted(),
            deadline: None,
        }
    }
}

/// The outcome of one collection.
pub type Collected = super::SharedPart;

fn error(service: &str, kind: ErrorKind, message: String) -> CollectionError {
    super::plane_error("loki", kind::LOKI_SERVER, service, kind, message)
}

/// The LogQL of one source: its lines over the hour before the query's `time`.
pub fn count_query(selector: &str) -> String {
    format!("sum(count_over_time({}[1h]))", selector.trim())
}

/// Loki's own words, quoted as code: the first line of a plain-text body, cleaned and capped.
fn quoted_text(body: &[u8]) -> String {
    match http::text_detail(body).as_str() {
        "an empty body" => "an empty body".to_string(),
        line => quote(line),
    }
}

fn quote(text: &str) -> String {
    format!("`{}`", http::clean(text).replace('`', "'"))
}

/// A JSON error body's detail (a gateway's, or Loki's envelope): its `error` or `message`.
fn error_detail(v: &Value) -> Option<String> {
    let msg = v
        .get("error")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)?;
    Some(quote(msg))
}

/// The lines an answer of [`count_query`] counts: the sum of a vector's samples (a matrix: of
/// each series' last sample); no series is 0. `Err` when it is not a successful answer, not a
/// vector or matrix, or a value is not a count in a string.
pub fn normalize_count(v: &Value) -> Result<u64, String> {
    match v.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let kind = v
                .get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("error");
            let msg = v.get("error").and_then(Value::as_str).unwrap_or("");
            return Err(format!(
                "Loki answered status error: {}",
                quote(&format!("{kind}: {msg}"))
            ));
        }
        _ => return Err("not a Loki answer (no `status: success`)".into()),
    }
    let data = v.get("data").ok_or("no `data`")?;
    let matrix = match data.get("resultType").and_then(Value::as_str) {
        Some("vector") => false,
        Some("matrix") => true,
        Some(other) => {
            return Err(format!(
                "the result is of type {}, not a vector of counts",
                quote(other)
            ))
        }
        None => return Err("no `data.resultType`".into()),
    };
    let series = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or("no `data.result` list")?;
    let mut total = 0u64;
    for s in series {
        let sample = if matrix {
            s.get("values")
                .and_then(Value::as_array)
                .and_then(|v| v.last())
        } else {
            s.get("value")
        };
        let value = sample
            .and_then(Value::as_array)
            .filter(|p| p.len() == 2)
            .map(|p| &p[1])
            .ok_or("a series without a `[time, value]` sample")?;
        // Loki sends each value as a string: a count is a whole number in one.
        let n = value
            .as_str()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0)
            .ok_or_else(|| {
                format!(
                    "the value {} is not a count of lines",
                    quote(&value.to_string())
                )
            })?;
        total = total.saturating_add(n as u64);
    }
    Ok(total)
}

/// Reads Loki as `config` says (`None`: in the audit, but `[monitoring.loki]` is not there),
/// counting each source's lines in the hour before `now`.
pub async fn collect(opts: &Options, config: Option<&LokiConfig>, now: DateTime<Utc>) -> Collected {
    let mut out = Collected::default();
    let Some(url) = config.and_then(|c| c.url.as_deref()) else {
        out.errors.push(error(
            "config",
            ErrorKind::Other,
            "estate.toml's [monitoring] puts loki in the audit, but [monitoring.loki] url is not \
             set: give its URL, or list loki in not_used"
                .into(),
        ));
        return out;
    };
    let config = config.cloned().unwrap_or_default();
    let c = match client(opts, url, config.tenant.as_deref()) {
        Ok(c) => c,
        Err(why) => {
            out.errors.push(error("config", ErrorKind::Other, why));
            return out;
        }
    };
    let mut server = LokiServer {
        url: Some(c.base().to_string()),
        tenant: config.tenant.clone(),
        window_end: Some(now),
        ..Default::default()
    };
    // A pair that cannot be told apart is asked for neither: either count could be the other's.
    let pair = match (&config.ecs_streams, &config.webhook_streams) {
        (Some(e), Some(w)) => check_selector_pair(e, w).err(),
        _ => None,
    };
    // Nanoseconds, as Loki's own clients send it; RFC 3339 for a clock past what they hold.
    let time = now
        .timestamp_nanos_opt()
        .map(|n| n.to_string())
        .unwrap_or_else(|| now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let asks = [
        ("ecs_streams", config.ecs_streams.as_deref()),
        ("webhook_streams", config.webhook_streams.as_deref()),
    ]
    .map(|(key, sel)| match (sel, &pair) {
        (None, _) => Err(format!(
            "[monitoring.loki] {key} is not set: give the LogQL stream selector of its streams \
             (see `estate-audit init`)"
        )),
        (Some(_), Some(why)) => Err(format!("[monitoring.loki]: {why}; nothing was asked")),
        (Some(s), None) => check_selector(s)
            .map(|_| s.trim().to_string())
            .map_err(|why| {
                format!(
                    "[monitoring.loki] {key} `{}` is refused: {why}; nothing was asked",
                    s.trim()
                )
            }),
    });
    let [ecs, webhook] = &asks;
    let read = super::within(
        opts.deadline.as_ref(),
        both(&c, ecs.as_ref().ok(), webhook.as_ref().ok(), &time),
    )
    .await;
    let Some((ecs_count, webhook_count)) = read else {
        out.errors.push(error(
            "loki",
            ErrorKind::Other,
            "Loki did not answer within the audit's --timeout".into(),
        ));
        out.usage = c.usage();
        return out;
    };
    for ((key, ask), (count, source)) in [("ecs_streams", ecs), ("webhook_streams", webhook)]
        .into_iter()
        .zip([
            (ecs_count, &mut server.ecs),
            (webhook_count, &mut server.webhook),
        ])
    {
        match ask {
            Err(why) => out.errors.push(error(key, ErrorKind::Other, why.clone())),
            Ok(sel) => {
                source.selector = Some(sel.clone());
                match count {
                    Some(Ok(n)) => source.lines_last_hour = Some(n),
                    Some(Err((kind, msg))) => out.errors.push(error(key, kind, msg)),
                    None => {}
                }
            }
        }
    }
    let mut r = Resource::new(format!("loki:{}", c.base()), Attrs::LokiServer(server));
    r.name = Some(c.base().to_string());
    out.resources.push(r);
    out.usage = c.usage();
    out
}

type Count = Option<Result<u64, (ErrorKind, String)>>;

/// Both sources' queries at once (`None`: that source is not asked).
async fn both(
    c: &Client,
    ecs: Option<&String>,
    webhook: Option<&String>,
    time: &str,
) -> (Count, Count) {
    async fn one(c: &Client, sel: Option<&String>, time: &str) -> Count {
        match sel {
            Some(s) => Some(count(c, s, time).await),
            None => None,
        }
    }
    tokio::join!(one(c, ecs, time), one(c, webhook, time))
}

fn client(opts: &Options, url: &str, tenant: Option<&str>) -> Result<Client, String> {
    let mut headers = Vec::new();
    if let Some(t) = tenant {
        check_tenant(t).map_err(|why| format!("[monitoring.loki] tenant: {why}"))?;
        let value = HeaderValue::from_str(t)
            .map_err(|_| "[monitoring.loki] tenant cannot be sent in an HTTP header".to_string())?;
        headers.push((HeaderName::from_static("x-scope-orgid"), value));
    }
    let auth = opts.credential.as_ref().map(Credential::auth).transpose()?;
    Client::new(
        "Loki",
        "[monitoring.loki] url",
        url,
        auth,
        headers,
        &["retry-after"],
        opts.limits,
    )
}

/// One source's count, or what went wrong (Loki's text quoted; a refusal says what to check).
async fn count(c: &Client, selector: &str, time: &str) -> Result<u64, (ErrorKind, String)> {
    let path = "/loki/api/v1/query";
    let query = count_query(selector);
    let q = [("query", query.as_str()), ("time", time)];
    let (status, v) = match http::get_json_with(c, READS, path, &q, error_detail, quoted_text).await
    {
        Ok(got) => got,
        Err((ErrorKind::AccessDenied, m)) => {
            return Err((
                ErrorKind::AccessDenied,
                format!(
                    "{m}: Loki refused the query; check [monitoring.loki] tenant (sent as \
                     X-Scope-OrgID) and the credential in {BEARER_VAR} or {BASIC_VAR}"
                ),
            ))
        }
        Err(other) => return Err(other),
    };
    normalize_count(&v).map_err(|why| {
        (
            ErrorKind::Other,
            c.redact(&format!(
                "{}: HTTP {status}, unexpected response: {why}",
                http::describe(path, &q)
            )),
        )
    })
}
