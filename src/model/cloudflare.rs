//! The attributes of the Cloudflare kinds: the zone (settings and ruleset phases), its DNS
//! records and Cloudflare's published IP ranges. Data only (docs/design.md §3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareZone {
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    pub status: Option<String>,
    pub plan: Option<String>,
    /// `off`, `flexible`, `full`, `strict`.
    pub ssl: Option<String>,
    /// `auto` (Cloudflare may change the mode) or `custom`.
    pub ssl_automatic_mode: Option<String>,
    /// `1.0` … `1.3`.
    pub min_tls_version: Option<String>,
    pub always_use_https: Option<String>,
    pub tls_1_3: Option<String>,
    pub security_level: Option<String>,
    /// *Derived*: this is the estate's zone (`cloudflare.zone`, else the only zone).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_estate_zone: Option<bool>,
    /// Ruleset entry points by phase (`http_request_firewall_managed`, `http_ratelimit`, …).
    /// A phase absent from the map was not read (unknown); `{deployed: false}`: nothing deployed.
    #[serde(default)]
    pub phases: BTreeMap<String, Phase>,
    /// *Derived*: an enabled `execute` rule of the managed phase deploys a managed ruleset.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub managed_waf_enabled: Option<bool>,
    /// *Derived*: an enabled rate-limiting rule's expression covers the webhook host and path.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub rate_limit_covers_webhook: Option<bool>,
    /// *Derived*: configuration rules that may set `ssl` below `strict` for the webhook request
    /// (host and path), as `rule id: value`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_ssl_overrides: Option<Vec<String>>,
    /// *Derived*: configuration rules that may lower `min_tls_version` below 1.2 for the webhook
    /// request, as `rule id: value`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_min_tls_overrides: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub deployed: bool,
    #[serde(default)]
    pub rules: Vec<RulesetRule>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesetRule {
    pub id: Option<String>,
    pub action: Option<String>,
    pub expression: Option<String>,
    /// Cloudflare omits `enabled` for enabled rules; the collector writes `true` then.
    pub enabled: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    /// `execute`: the managed ruleset id.
    #[serde(default)]
    pub execute_ruleset_id: Option<String>,
    /// `set_config`: settings the rule overrides (`ssl`, `min_tls_version`, …), values as text.
    #[serde(default)]
    pub set_config: BTreeMap<String, String>,
    /// `rewrite`: names of request headers the rule sets (values are never kept).
    #[serde(default)]
    pub set_headers: Vec<String>,
    /// `http_ratelimit`: requests per period and period in seconds.
    #[serde(default)]
    pub requests_per_period: Option<i64>,
    #[serde(default)]
    pub period: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub zone_id: Option<String>,
    pub record_name: Option<String>,
    /// `A`, `AAAA`, `CNAME`, …
    pub record_type: Option<String>,
    pub content: Option<String>,
    pub proxied: Option<bool>,
    /// *Derived*: this record serves the configured webhook host.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub is_webhook_host: Option<bool>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareIpRanges {
    pub ipv4_cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
    #[serde(default)]
    pub etag: Option<String>,
}
