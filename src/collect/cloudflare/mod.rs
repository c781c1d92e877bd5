//! Cloudflare collection over the v4 REST API with `reqwest` (no SDK crate): the token check,
//! the estate zone, the webhook host's DNS records, six zone settings (one endpoint each; the
//! deprecated batch endpoint is not used), six ruleset phase entry points, the active Page Rules,
//! the per-hostname minimum TLS versions, the custom IP lists custom rules name, and
//! Cloudflare's published address ranges (`/ips`, requested without credentials). At most 24
//! requests without retries (docs/design.md §6).
//!
//! Three rooms: `client`, the HTTP layer (timeouts, bounded `429` retries honouring
//! `Retry-After`, page and cursor pagination, error bodies turned into [`Failure`]s that name the
//! endpoint, the Cloudflare error codes and the `cf-ray`); `zone`, what is read, in which order
//! and with which fallbacks; and `normalize`, the pure `normalize_*` functions (JSON `result` →
//! model), tested without a server. This module keeps the public surface (the options, the
//! environment variables, the settings and phases read, the token's permissions) and the entry
//! point, [`collect`], which reads the ranges and the zone side by side under the deadline.
//!
//! What it must not do: write (GET only), guess (an unreadable setting stays `None`, an
//! unreadable phase stays out of `phases`, and a [`CollectionError`] says why), keep a header
//! value a transform rule sets (only the names), or let the token reach any message, log or
//! `Debug` output.

mod client;
mod normalize;
mod zone;

use std::time::Duration;

use super::Secret;
pub use crate::collect::http::retry_wait;
use crate::model::{kind, CloudflareConfig, CollectionError, ErrorKind, Resource};
use client::Api;
pub use client::Failure;
pub use normalize::{
    normalize_dns_record, normalize_entrypoint, normalize_hostname_settings, normalize_ips,
    normalize_list_items, normalize_page_rule, normalize_rule, normalize_setting, normalize_zone,
    ZoneInfo,
};
pub use zone::MAX_LISTS;
use zone::{collect_ips, collect_zone};

/// The public API; `CLOUDFLARE_API_BASE` overrides it.
pub const DEFAULT_API_BASE: &str = "https://api.cloudflare.com/client/v4";
/// Environment variable holding the read-only API token.
pub const TOKEN_VAR: &str = "CLOUDFLARE_API_TOKEN";
/// Environment variable overriding the API base URL.
pub const BASE_VAR: &str = "CLOUDFLARE_API_BASE";
/// The length of a Cloudflare API token; a shorter value in [`TOKEN_VAR`] is refused at start.
pub const TOKEN_LEN: usize = 40;

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
    Permission {
        name: "Zone › Page Rules › Read",
        needed_for: "Page Rules that set SSL or Always Use HTTPS for the webhook URL \
                     (cloudflare-ssl-strict, -always-https)",
    },
    Permission {
        name: "Zone › SSL and Certificates › Read",
        needed_for: "the webhook host's own minimum TLS version (cloudflare-min-tls-1-2)",
    },
    Permission {
        name: "Account › Account Filter Lists › Read",
        needed_for: "the IP lists custom rules name (cloudflare-waf-source-allowlist)",
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
        "# Cloudflare: a custom API token, read-only, with Zone Resources = the estate zone\n\
         # (and Account Resources = its account, for the IP lists).\n\
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
#[cfg(test)]
mod tests;
