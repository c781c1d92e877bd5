//! Cloudflare collection over the v4 REST API with `reqwest` (no SDK crate): the token check,
//! the estate zone, the webhook host's DNS records, six zone settings (one endpoint each; the
//! deprecated batch endpoint is not used), six ruleset phase entry points and Cloudflare's
//! published address ranges (`/ips`, requested without credentials).
//!
//! Two layers: the HTTP layer (`client`: timeouts, bounded `429` retries honouring `Retry-After`,
//! page and cursor pagination, error bodies turned into [`Failure`]s that name the endpoint, the
//! Cloudflare error codes and the `cf-ray`), and the pure `normalize_*` functions (`normalize`:
//! JSON `result` → model), tested without a server. What it must not do: write (GET only), guess
//! (an unreadable setting stays `None`, an unreadable phase stays out of `phases`, and a
//! [`CollectionError`] says why), keep a header value a transform rule sets (only the names), or
//! let the token reach any message, log or `Debug` output.

mod client;
mod normalize;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::Secret;
use crate::model::{kind, Attrs, CloudflareConfig, CollectionError, ErrorKind, Phase, Resource};
pub use client::{retry_wait, Failure};
use client::{Api, Auth};
use normalize::str_at;
pub use normalize::{
    normalize_dns_record, normalize_entrypoint, normalize_ips, normalize_rule, normalize_setting,
    normalize_zone, ZoneInfo,
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

#[cfg(test)]
mod tests;
