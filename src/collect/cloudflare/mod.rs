//! Cloudflare collection over the v4 REST API with `reqwest` (no SDK crate): the token check,
//! the estate zone, the webhook host's DNS records, six zone settings (one endpoint each; the
//! deprecated batch endpoint is not used), six ruleset phase entry points and Cloudflare's
//! published address ranges (`/ips`, requested without credentials).
//!
//! Two layers: the HTTP layer ([`Api`]: timeouts, bounded `429` retries honouring `Retry-After`,
//! page and cursor pagination, error bodies turned into [`Failure`]s that name the endpoint, the
//! Cloudflare error codes and the `cf-ray`), and the pure `normalize_*` functions (JSON `result`
//! → model), tested without a server. What it must not do: write (GET only), guess (an unreadable
//! setting stays `None`, an unreadable phase stays out of `phases`, and a [`CollectionError`] says
//! why), keep a header value a transform rule sets (only the names), or let the token reach any
//! message, log or `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;

use super::Secret;
use crate::model::{
    kind, Attrs, CloudflareConfig, CloudflareIpRanges, CloudflareZone, CollectionError, DnsRecord,
    ErrorKind, Phase, Resource, RulesetRule,
};

/// The public API; `CLOUDFLARE_API_BASE` overrides it.
pub const DEFAULT_API_BASE: &str = "https://api.cloudflare.com/client/v4";
/// Environment variable holding the read-only API token.
pub const TOKEN_VAR: &str = "CLOUDFLARE_API_TOKEN";
/// Environment variable overriding the API base URL.
pub const BASE_VAR: &str = "CLOUDFLARE_API_BASE";

/// Zone settings read one by one (`GET /zones/{id}/settings/{name}`).
pub const SETTINGS: [&str; 6] = [
    "ssl",
    "ssl_automatic_mode",
    "min_tls_version",
    "always_use_https",
    "tls_1_3",
    "security_level",
];

/// Ruleset phases whose zone entry point is read.
pub const PHASES: [&str; 6] = [
    "http_request_firewall_managed",
    "http_ratelimit",
    "http_request_firewall_custom",
    "http_config_settings",
    "http_request_late_transform",
    "http_request_origin",
];

/// Largest response body accepted; Cloudflare's answers here are a few kilobytes.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most pages followed in one listing before giving up (fail closed, never truncate silently).
const MAX_PAGES: usize = 50;
/// Longest piece of an API error message kept in ours.
const MAX_DETAIL_CHARS: usize = 200;

/// One permission of the read-only API token, and what needs it.
pub struct Permission {
    /// As the dashboard names it: scope › group › level.
    pub name: &'static str,
    pub needed_for: &'static str,
}

/// Everything the collector reads, as permissions of a zone-scoped, read-only token.
pub const TOKEN_PERMISSIONS: &[Permission] = &[
    Permission {
        name: "Zone › Zone › Read",
        needed_for: "find the estate zone (GET /zones?name=…)",
    },
    Permission {
        name: "Zone › DNS › Read",
        needed_for: "the webhook host's DNS records (cloudflare-dns-proxied)",
    },
    Permission {
        name: "Zone › Zone Settings › Read",
        needed_for: "ssl, ssl_automatic_mode, min_tls_version, always_use_https, tls_1_3, \
                     security_level (cloudflare-ssl-strict, -min-tls-1-2, -always-https)",
    },
    Permission {
        name: "Zone › Zone WAF › Read",
        needed_for: "the http_request_firewall_managed, http_request_firewall_custom and \
                     http_ratelimit entry points (cloudflare-waf-managed, -rate-limit-webhook)",
    },
    Permission {
        name: "Zone › Config Rules › Read",
        needed_for:
            "the http_config_settings entry point (rules that lower SSL/TLS for the webhook)",
    },
    Permission {
        name: "Zone › Transform Rules › Read",
        needed_for: "the http_request_late_transform entry point (an origin secret header, \
                     aws-lambda-url-cloudflare-only evidence)",
    },
    Permission {
        name: "Zone › Origin Rules › Read",
        needed_for: "the http_request_origin entry point",
    },
];

/// The permissions as a short list, for messages.
fn permission_names() -> String {
    TOKEN_PERMISSIONS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Cloudflare section of `estate-audit iam-policy`.
pub fn permissions_section() -> String {
    let mut s = String::from(
        "# Cloudflare: a custom API token, read-only, with Zone Resources = the estate zone.\n\
         # Put it in CLOUDFLARE_API_TOKEN. Cloudflare's address list (GET /ips) needs no token.\n",
    );
    let width = TOKEN_PERMISSIONS
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    for p in TOKEN_PERMISSIONS {
        let pad = width - p.name.chars().count();
        s.push_str(&format!(
            "{}{}  {}\n",
            p.name,
            " ".repeat(pad),
            p.needed_for
        ));
    }
    s
}

/// Where and how to reach the API.
#[derive(Clone, Debug)]
pub struct Options {
    /// `None`: no token configured; nothing is requested and every Cloudflare kind is unknown.
    pub token: Option<Secret>,
    /// Base URL without a trailing slash.
    pub api_base: String,
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Retries of one request answered `429`.
    pub max_retries: u32,
    /// Retries of all requests together. Cloudflare's limit is per token, so once it bites every
    /// call would wait: this keeps a throttled audit short and its request count bounded.
    pub retry_budget: u32,
    /// Longest wait honoured from `Retry-After`.
    pub max_retry_wait: Duration,
    /// The collection's deadline (`--timeout`): the ranges and the zone are read under it, and
    /// one still pending when it passes is a collection error while the other keeps its data.
    pub deadline: Option<super::Deadline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            api_base: DEFAULT_API_BASE.to_string(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_budget: 6,
            max_retry_wait: Duration::from_secs(60),
            deadline: None,
        }
    }
}

/// The outcome of one collection.
#[derive(Debug, Default)]
pub struct Collected {
    pub resources: Vec<Resource>,
    pub errors: Vec<CollectionError>,
    /// HTTP requests sent (retries included).
    pub requests: usize,
    /// The same with the retries and response bytes, for `--stats` (`stats.services.cloudflare`).
    pub usage: crate::stats::ServiceCalls,
}

// ---------------------------------------------------------------------------------------------
// Orchestration

/// Collects the estate zone, the webhook's DNS records and Cloudflare's ranges. Never fails:
/// whatever could not be read is a collection error.
pub async fn collect(opts: &Options, cfg: &CloudflareConfig) -> Collected {
    let mut out = Collected::default();
    let Some(token) = opts.token.clone().filter(|t| !t.is_empty()) else {
        out.errors.push(error(
            "api_token",
            &[
                kind::CLOUDFLARE_ZONE,
                kind::DNS_RECORD,
                kind::CLOUDFLARE_IP_RANGES,
            ],
            ErrorKind::AccessDenied,
            format!(
                "{TOKEN_VAR} is not set, so Cloudflare was not queried: create a read-only API \
                 token scoped to the estate zone with {} and export it as {TOKEN_VAR} \
                 (`estate-audit iam-policy` lists what each permission is for)",
                permission_names()
            ),
        ));
        return out;
    };
    let api = match Api::new(opts, token) {
        Ok(api) => api,
        Err(msg) => {
            out.errors.push(error(
                "api",
                &[
                    kind::CLOUDFLARE_ZONE,
                    kind::DNS_RECORD,
                    kind::CLOUDFLARE_IP_RANGES,
                ],
                ErrorKind::Other,
                msg,
            ));
            return out;
        }
    };

    let deadline = opts.deadline.as_ref();
    let (ips, zone) = tokio::join!(
        super::within(deadline, collect_ips(&api)),
        super::within(deadline, collect_zone(&api, cfg))
    );
    let cut_off = |service: &str, kinds: &[&str]| {
        deadline
            .map(|d| d.error("cloudflare", service, kinds, None))
            .into_iter()
    };
    match ips {
        Some(Ok(r)) => out.resources.push(r),
        Some(Err(e)) => out.errors.push(e),
        None => out
            .errors
            .extend(cut_off("ips", &[kind::CLOUDFLARE_IP_RANGES])),
    }
    match zone {
        Some((resources, errors)) => {
            out.resources.extend(resources);
            out.errors.extend(errors);
        }
        None => out
            .errors
            .extend(cut_off("zones", &[kind::CLOUDFLARE_ZONE, kind::DNS_RECORD])),
    }
    out.requests = api.requests();
    out.usage = api.usage();
    out
}

fn error(service: &str, kinds: &[&str], kind: ErrorKind, message: String) -> CollectionError {
    CollectionError {
        provider: "cloudflare".into(),
        service: service.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        kind,
        message,
        region: None,
        account: None,
    }
}

async fn collect_ips(api: &Api) -> Result<Resource, CollectionError> {
    let res = api
        .get("/ips", &[], Auth::None)
        .await
        .and_then(|env| normalize_ips(&env.result).map_err(|m| env.malformed(m)));
    res.map_err(|f| {
        f.into_error(
            "ips",
            &[kind::CLOUDFLARE_IP_RANGES],
            "no permission (the endpoint is public)",
        )
    })
}

/// The zone, its DNS records for the webhook host, settings and phases.
async fn collect_zone(api: &Api, cfg: &CloudflareConfig) -> (Vec<Resource>, Vec<CollectionError>) {
    let mut errors = Vec::new();
    let both = [kind::CLOUDFLARE_ZONE, kind::DNS_RECORD];
    let Some(zone_name) = cfg.zone.as_deref().map(|z| z.trim().trim_end_matches('.')) else {
        errors.push(error(
            "zones",
            &both,
            ErrorKind::Other,
            "estate.toml names no Cloudflare zone: add [cloudflare] zone = \"example.com\" \
             (and webhook_host)"
                .into(),
        ));
        return (Vec::new(), errors);
    };

    // The token check first: a rejected token explains every later failure in one message.
    let mut account_token = false;
    match api.get("/user/tokens/verify", &[], Auth::Token).await {
        Ok(env) => {
            if let Some(bad) = token_not_active(&env.result) {
                errors.push(error("tokens", &both, ErrorKind::AccessDenied, bad));
                return (Vec::new(), errors);
            }
        }
        // Account-owned tokens are "invalid" to the user endpoint: verify them against their
        // account once the zone tells which account that is.
        Err(f) if f.status == Some(401) && f.codes.contains(&1000) => account_token = true,
        Err(f) if f.kind == ErrorKind::AccessDenied || f.status.is_none() => {
            // Rejected, or the API is unreachable: every other call would fail the same way.
            errors.push(f.into_error(
                "tokens",
                &both,
                "a valid, active API token in CLOUDFLARE_API_TOKEN",
            ));
            return (Vec::new(), errors);
        }
        // A throttled, failing or garbled check proves nothing either way; the reads below
        // judge the token, and no fact depends on this answer.
        Err(_) => {}
    }

    let zone_hint = "Zone › Zone › Read on the estate zone";
    let zones = match api
        .list("/zones", &[("name", zone_name), ("per_page", "50")])
        .await
    {
        Ok(z) => z,
        Err(f) => {
            let f = if account_token && f.status == Some(401) {
                f.note("the token is neither a valid user nor account API token")
            } else {
                f
            };
            errors.push(f.into_error("zones", &both, zone_hint));
            return (Vec::new(), errors);
        }
    };
    let zone = match zones
        .iter()
        .find(|z| str_at(z, "/name").is_some_and(|n| n.eq_ignore_ascii_case(zone_name)))
        .map(normalize_zone)
    {
        Some(Ok(z)) => z,
        Some(Err(m)) => {
            errors.push(error(
                "zones",
                &both,
                ErrorKind::Other,
                format!("GET /zones?name={zone_name}: {m}"),
            ));
            return (Vec::new(), errors);
        }
        None => {
            errors.push(error(
                "zones",
                &both,
                ErrorKind::AccessDenied,
                format!(
                    "GET /zones?name={zone_name} found no such zone: the API token is not scoped \
                     to zone {zone_name} (or the zone is not in this account); grant {zone_hint}"
                ),
            ));
            return (Vec::new(), errors);
        }
    };

    if account_token {
        if let Some(account) = zone.account_id.as_deref() {
            let path = format!("/accounts/{account}/tokens/verify");
            // As above: only a definite "not active" stops the collection.
            if let Ok(env) = api.get(&path, &[], Auth::Token).await {
                if let Some(bad) = token_not_active(&env.result) {
                    errors.push(error("tokens", &both, ErrorKind::AccessDenied, bad));
                    return (Vec::new(), errors);
                }
            }
        }
    }

    let zid = zone.attrs.zone_id.clone().unwrap_or_default();
    // Each part under the deadline, so a stalled one leaves the others their data.
    let deadline = api.deadline.as_ref();
    let cut_off = |service: &str, kinds: &[&str]| match deadline {
        Some(d) => d.error("cloudflare", service, kinds, None),
        None => error(service, kinds, ErrorKind::Other, "cut off".into()),
    };
    let (dns, settings, phases) = tokio::join!(
        super::within(deadline, collect_dns(api, &zid, cfg)),
        super::within(deadline, collect_settings(api, &zid)),
        super::within(deadline, collect_phases(api, &zid)),
    );
    let dns = dns.unwrap_or_else(|| Err(cut_off("dns_records", &[kind::DNS_RECORD])));
    // Settings and phases that were not read stay unknown (`None`, absent phase); the error
    // names no kind, as for one that failed.
    let settings = settings.unwrap_or_else(|| (Vec::new(), vec![cut_off("settings", &[])]));
    let phases = phases.unwrap_or_else(|| (BTreeMap::new(), vec![cut_off("rulesets", &[])]));

    let mut attrs = zone.attrs;
    for (name, value) in settings.0 {
        let slot = match name {
            "ssl" => &mut attrs.ssl,
            "ssl_automatic_mode" => &mut attrs.ssl_automatic_mode,
            "min_tls_version" => &mut attrs.min_tls_version,
            "always_use_https" => &mut attrs.always_use_https,
            "tls_1_3" => &mut attrs.tls_1_3,
            "security_level" => &mut attrs.security_level,
            _ => continue,
        };
        *slot = Some(value);
    }
    errors.extend(settings.1);
    attrs.phases = phases.0;
    errors.extend(phases.1);

    let mut zone_res = Resource::new(
        format!("cloudflare:zone/{zid}"),
        Attrs::CloudflareZone(attrs),
    );
    zone_res.name = Some(zone.name);
    let mut resources = vec![zone_res];
    match dns {
        Ok(records) => resources.extend(records),
        Err(e) => errors.push(e),
    }
    (resources, errors)
}

/// `Some(why)` when a verify answer says the token cannot be used.
fn token_not_active(result: &Value) -> Option<String> {
    match str_at(result, "/status") {
        Some("active") => None,
        Some(other) => Some(format!(
            "the API token in {TOKEN_VAR} is {other}, not active: create a new read-only token"
        )),
        None => Some(format!(
            "the token check answered without a status: cannot tell whether the token in \
             {TOKEN_VAR} is active"
        )),
    }
}

async fn collect_dns(
    api: &Api,
    zone_id: &str,
    cfg: &CloudflareConfig,
) -> Result<Vec<Resource>, CollectionError> {
    let Some(host) = cfg
        .webhook_host
        .as_deref()
        .map(|h| h.trim().trim_end_matches('.'))
    else {
        return Err(error(
            "dns_records",
            &[kind::DNS_RECORD],
            ErrorKind::Other,
            "estate.toml names no webhook host: add [cloudflare] webhook_host = \
             \"webhook.example.com\""
                .into(),
        ));
    };
    let path = format!("/zones/{zone_id}/dns_records");
    let items = api
        .list(&path, &[("name", host), ("per_page", "100")])
        .await
        .map_err(|f| f.into_error("dns_records", &[kind::DNS_RECORD], "Zone › DNS › Read"))?;
    items
        .iter()
        .map(|v| normalize_dns_record(zone_id, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| {
            error(
                "dns_records",
                &[kind::DNS_RECORD],
                ErrorKind::Other,
                format!("GET {path}: {m}"),
            )
        })
}

/// Settings read, by name, and the errors of those that could not be. A failed setting makes
/// only the rules reading it unknown, so its error names no kind (the zone is still collected).
async fn collect_settings(
    api: &Api,
    zone_id: &str,
) -> (Vec<(&'static str, String)>, Vec<CollectionError>) {
    let paths: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("/zones/{zone_id}/settings/{s}"))
        .collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|p| api.get(p, &[], Auth::Token))).await;
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (name, answer) in SETTINGS.iter().zip(answers) {
        let got = answer
            .and_then(|env| normalize_setting(name, &env.result).map_err(|m| env.malformed(m)));
        match got {
            Ok(v) => values.push((*name, v)),
            Err(f) => errors.push(f.into_error(
                &format!("settings/{name}"),
                &[],
                "Zone › Zone Settings › Read",
            )),
        }
    }
    (values, errors)
}

/// The permission a phase's entry point needs.
fn phase_permission(phase: &str) -> &'static str {
    match phase {
        "http_config_settings" => "Zone › Config Rules › Read",
        "http_request_late_transform" => "Zone › Transform Rules › Read",
        "http_request_origin" => "Zone › Origin Rules › Read",
        _ => "Zone › Zone WAF › Read",
    }
}

/// Entry points by phase. `404` with code `10003` is a value: nothing is deployed in the phase.
async fn collect_phases(
    api: &Api,
    zone_id: &str,
) -> (BTreeMap<String, Phase>, Vec<CollectionError>) {
    let paths: Vec<String> = PHASES
        .iter()
        .map(|p| format!("/zones/{zone_id}/rulesets/phases/{p}/entrypoint"))
        .collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|p| api.get(p, &[], Auth::Token))).await;
    let mut phases = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, answer) in PHASES.iter().zip(answers) {
        let got =
            answer.and_then(|env| normalize_entrypoint(&env.result).map_err(|m| env.malformed(m)));
        match got {
            Ok(p) => {
                phases.insert(name.to_string(), p);
            }
            Err(f) if f.status == Some(404) && f.codes.contains(&10003) => {
                phases.insert(
                    name.to_string(),
                    Phase {
                        deployed: false,
                        rules: Vec::new(),
                    },
                );
            }
            Err(f) => {
                errors.push(f.into_error(&format!("rulesets/{name}"), &[], phase_permission(name)))
            }
        }
    }
    (phases, errors)
}

// ---------------------------------------------------------------------------------------------
// Normalisation: JSON `result` → model. Pure; values are read field by field so that nothing a
// response carries (a header value, say) is copied into an error message.

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn string_at(v: &Value, pointer: &str) -> Option<String> {
    str_at(v, pointer).map(str::to_string)
}

/// A zone from `GET /zones`, with the account that owns it.
#[derive(Debug)]
pub struct ZoneInfo {
    pub name: String,
    pub account_id: Option<String>,
    pub attrs: CloudflareZone,
}

pub fn normalize_zone(v: &Value) -> Result<ZoneInfo, String> {
    let id = str_at(v, "/id")
        .filter(|s| !s.is_empty())
        .ok_or("a zone without an id")?;
    let name = str_at(v, "/name").ok_or("a zone without a name")?;
    Ok(ZoneInfo {
        name: name.to_string(),
        account_id: string_at(v, "/account/id"),
        attrs: CloudflareZone {
            zone_id: Some(id.to_string()),
            zone_name: Some(name.to_string()),
            status: string_at(v, "/status"),
            plan: string_at(v, "/plan/legacy_id").or_else(|| string_at(v, "/plan/name")),
            ..Default::default()
        },
    })
}

pub fn normalize_dns_record(zone_id: &str, v: &Value) -> Result<Resource, String> {
    let id = str_at(v, "/id")
        .filter(|s| !s.is_empty())
        .ok_or("a DNS record without an id")?;
    let name = string_at(v, "/name");
    let mut r = Resource::new(
        format!("cloudflare:zone/{zone_id}/dns_record/{id}"),
        Attrs::DnsRecord(DnsRecord {
            zone_id: Some(zone_id.to_string()),
            record_name: name.clone(),
            record_type: string_at(v, "/type"),
            content: string_at(v, "/content"),
            // Absent or not a bool: unknown, never "not proxied".
            proxied: v.get("proxied").and_then(Value::as_bool),
            is_webhook_host: None,
        }),
    );
    r.name = name;
    Ok(r)
}

/// The value of one zone setting. The six read here are strings (`"strict"`, `"1.2"`, `"on"`).
pub fn normalize_setting(name: &str, v: &Value) -> Result<String, String> {
    if let Some(id) = str_at(v, "/id") {
        if id != name {
            return Err(format!("answered for setting `{id}` instead of `{name}`"));
        }
    }
    match v.get("value") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("setting `{name}` has an empty value")),
        Some(_) => Err(format!("setting `{name}` has a value that is not text")),
        None => Err(format!("setting `{name}` has no value")),
    }
}

/// A phase entry point ruleset (HTTP 200): deployed, with its rules.
pub fn normalize_entrypoint(v: &Value) -> Result<Phase, String> {
    let rules = match v.get("rules") {
        // An entry point whose rules were all deleted comes back without `rules`.
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(normalize_rule).collect(),
        Some(_) => return Err("`rules` is not a list".into()),
    };
    Ok(Phase {
        deployed: true,
        rules,
    })
}

/// One ruleset rule. Kept: what the rule matches, whether it is on and what it does — for
/// `rewrite` rules only the NAMES of the headers they set, never the values (one is typically
/// the origin's shared secret).
pub fn normalize_rule(v: &Value) -> RulesetRule {
    let action = string_at(v, "/action");
    let params = v.get("action_parameters");
    let enabled = match v.get("enabled") {
        // Cloudflare omits `enabled` on enabled rules.
        None => Some(true),
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => None,
    };
    // An execute rule whose ruleset-wide override disables every rule executes nothing: for
    // what the rule does, it is off.
    let overridden_off = params
        .and_then(|p| p.pointer("/overrides/enabled"))
        .and_then(Value::as_bool)
        == Some(false);
    let enabled = if overridden_off && action.as_deref() == Some("execute") {
        enabled.map(|_| false)
    } else {
        enabled
    };

    let mut rule = RulesetRule {
        id: string_at(v, "/id"),
        action: action.clone(),
        expression: string_at(v, "/expression"),
        enabled,
        description: string_at(v, "/description"),
        ..Default::default()
    };
    match action.as_deref() {
        Some("execute") => rule.execute_ruleset_id = params.and_then(|p| string_at(p, "/id")),
        Some("set_config") => {
            if let Some(Value::Object(m)) = params {
                for (k, val) in m {
                    let text = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    rule.set_config.insert(k.clone(), text);
                }
            }
        }
        Some("rewrite") => {
            if let Some(Value::Object(h)) = params.and_then(|p| p.get("headers")) {
                for (name, op) in h {
                    // `remove` takes a header away; `set`/`add` (or no operation) put one in.
                    if str_at(op, "/operation") != Some("remove") {
                        rule.set_headers.push(name.clone());
                    }
                }
                rule.set_headers.sort();
            }
        }
        _ => {}
    }
    if let Some(rl) = v.get("ratelimit") {
        rule.requests_per_period = rl.get("requests_per_period").and_then(Value::as_i64);
        rule.period = rl.get("period").and_then(Value::as_i64);
    }
    rule
}

/// Cloudflare's ranges (`GET /ips`). Every entry must parse as a CIDR and neither list may be
/// empty: a partial list would judge a correct origin policy as too wide, an empty one all.
pub fn normalize_ips(v: &Value) -> Result<Resource, String> {
    let list = |key: &str, v6: bool| -> Result<Vec<String>, String> {
        let items = v
            .get(key)
            .and_then(Value::as_array)
            .ok_or(format!("`{key}` is missing"))?;
        if items.is_empty() {
            return Err(format!("`{key}` is empty"));
        }
        items
            .iter()
            .map(|c| {
                let s = c
                    .as_str()
                    .ok_or(format!("`{key}` holds a non-text entry"))?;
                let ok = if v6 {
                    s.parse::<ipnet::Ipv6Net>().is_ok()
                } else {
                    s.parse::<ipnet::Ipv4Net>().is_ok()
                };
                if ok {
                    Ok(s.to_string())
                } else {
                    Err(format!("`{key}` holds {s:?}, not a CIDR"))
                }
            })
            .collect()
    };
    let mut r = Resource::new(
        "cloudflare:ips",
        Attrs::CloudflareIpRanges(CloudflareIpRanges {
            ipv4_cidrs: list("ipv4_cidrs", false)?,
            ipv6_cidrs: list("ipv6_cidrs", true)?,
            etag: string_at(v, "/etag"),
        }),
    );
    r.name = Some("Cloudflare IP ranges".into());
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// HTTP layer

#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Token,
    /// `/ips` is public: the token is not sent where it is not needed.
    None,
}

/// A successful answer: the `result` and `result_info` of the v4 envelope.
struct Envelope {
    endpoint: String,
    result: Value,
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
    fn malformed(&self, what: String) -> Failure {
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
    fn note(mut self, extra: &str) -> Self {
        self.detail = format!("{}; {extra}", self.detail);
        self
    }

    /// As a collection error; `permission` is named when the cause is an access problem.
    fn into_error(self, service: &str, kinds: &[&str], permission: &str) -> CollectionError {
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
struct Api {
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
    deadline: Option<super::Deadline>,
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
fn base_is_safe(base: &str) -> Result<(), String> {
    let url =
        reqwest::Url::parse(base).map_err(|e| format!("{BASE_VAR}={base:?} is not a URL: {e}"))?;
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
            "{BASE_VAR}={base:?}: the API token is only sent over HTTPS (plain HTTP only to \
             localhost)"
        )),
    }
}

impl Api {
    fn new(opts: &Options, token: Secret) -> Result<Self, String> {
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

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    fn usage(&self) -> crate::stats::ServiceCalls {
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
        let t = self.token.expose();
        if t.is_empty() {
            text.to_string()
        } else {
            text.replace(t, "***")
        }
    }

    /// One GET, with bounded retries on `429`.
    async fn get(
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
                Err(e) => {
                    let why = if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        format!("cannot connect: {}", source_chain(&e))
                    } else {
                        format!("request failed: {}", source_chain(&e))
                    };
                    return Err(fail(None, ErrorKind::Other, why, None));
                }
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
    async fn list(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>, Failure> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut page: u64 = 1;
        for _ in 0..MAX_PAGES {
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
                "the pagination did not end after {MAX_PAGES} pages; refusing to read a partial \
                 list"
            ),
            ray: None,
        })
    }
}

/// `GET /path?k=v` for messages.
fn describe(path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        format!("GET {path}")
    } else {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("GET {path}?{}", q.join("&"))
    }
}

fn kind_of(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::AccessDenied,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Other,
    }
}

/// Codes and messages of a v4 error body (`errors: [{code, message, error_chain}]`); entries
/// without a code (the Rulesets API sends some) keep their message.
fn api_errors(v: &Value) -> (Vec<i64>, Vec<String>) {
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

/// A server-supplied message made safe to print: one line, no control characters, bounded.
fn clean(s: &str) -> String {
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

/// The wait before retrying a `429`: `Retry-After` seconds, capped; 1 s when absent or not a
/// number of seconds (Cloudflare sends seconds).
pub fn retry_wait(retry_after: Option<&str>, cap: Duration) -> Duration {
    let secs = retry_after
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs.min(cap.as_secs_f64()))
}

/// The error and its causes, for transport failures (the URL holds no credential).
fn source_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![clean(&e.to_string())];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        parts.push(clean(&s.to_string()));
        src = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests;
