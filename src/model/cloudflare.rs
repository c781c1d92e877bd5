//! The attributes of the Cloudflare kinds: the zone (status, settings, ruleset phases, legacy
//! Page Rules, per-hostname TLS settings and the IP lists its rules name), its DNS records and
//! Cloudflare's published IP ranges. Data only (docs/design.md §3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareZone {
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    /// `active`, `pending`, `initializing`, `moved`, `deleted`, `deactivated`, `read only`.
    pub status: Option<String>,
    /// A paused zone answers DNS with the origin's addresses: Cloudflare proxies nothing.
    #[serde(default)]
    pub paused: Option<bool>,
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
    /// Legacy Page Rules, active and disabled. `None`: not read (unknown); `[]`: none.
    #[serde(default)]
    pub page_rules: Option<Vec<PageRule>>,
    /// Per-hostname `min_tls_version` values (hostname → value), which override the zone's for
    /// that hostname. `None`: not read (unknown); empty: no hostname overrides it.
    #[serde(default)]
    pub hostname_min_tls: Option<BTreeMap<String, String>>,
    /// The account's custom IP lists that rules of the zone name (`$name`), with their items.
    /// A list named by a rule but absent here was not read (unknown).
    #[serde(default)]
    pub ip_lists: BTreeMap<String, IpList>,
    /// *Derived*: the zone proxies traffic (status `active` and not paused).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub zone_active: Option<bool>,
    /// *Derived*: an enabled `execute` rule of the managed phase deploys a managed ruleset.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub managed_waf_enabled: Option<bool>,
    /// *Derived*: an enabled `execute` rule runs a managed WAF ruleset for every request to the
    /// webhook host and path, not neutralised by its overrides nor skipped by a custom rule.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub managed_waf_covers_webhook: Option<bool>,
    /// *Derived*: what weakens the managed WAF for the webhook (overrides that disable or only
    /// log, custom rules that skip it for some or all webhook requests), one line each. Empty:
    /// nothing.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub managed_waf_gaps: Option<Vec<String>>,
    /// *Derived*: an enabled rate-limiting rule blocks or challenges webhook requests (host and
    /// path) counted by characteristics the client cannot vary, and no custom rule skips it.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub rate_limit_covers_webhook: Option<bool>,
    /// *Derived*: what the rate limit allows the webhook, in words (or why none counts).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub rate_limit_webhook: Option<String>,
    /// *Derived*: a custom rule blocks every request to the webhook from a source outside an
    /// allowlist (a set of addresses or custom IP lists), and nothing before it lets one through.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_allowlisted: Option<bool>,
    /// *Derived*: the rule that enforces the allowlist, or why none does.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_allowlist: Option<String>,
    /// *Derived*: Always Use HTTPS as it applies to the webhook URL (the zone's value, or the
    /// Page Rule that matches the webhook URL first).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_always_use_https: Option<String>,
    /// *Derived*: configuration rules and Page Rules that may set `ssl` below `strict` for the
    /// webhook request (host and path), as `rule id: value`. Empty: none.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub webhook_ssl_overrides: Option<Vec<String>>,
    /// *Derived*: configuration rules and per-hostname settings that may lower
    /// `min_tls_version` below 1.2 for the webhook request, as `rule id: value`. Empty: none.
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
    /// `execute`: the overrides of the executed ruleset (ruleset-wide, by category, by rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Overrides>,
    /// `skip`: what the rule skips for the requests it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
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
    /// `http_ratelimit`: what the counters are keyed by (`cf.colo.id`, `ip.src`, a header…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characteristics: Option<Vec<String>>,
    /// `http_ratelimit`: how long the action applies once the limit is passed, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation_timeout: Option<i64>,
    /// `http_ratelimit`: when set, only requests matching it are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counting_expression: Option<String>,
}

/// The overrides of an `execute` rule. `enabled`/`action` of `None`: not overridden.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub categories: Vec<Override>,
    #[serde(default)]
    pub rules: Vec<Override>,
}

/// One category (`target` = the category) or rule (`target` = the rule id) override.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub target: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub action: Option<String>,
}

/// The `action_parameters` of a `skip` rule.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// `ruleset: "current"`: the remaining rules of this ruleset.
    #[serde(default)]
    pub current_ruleset: bool,
    /// Later phases skipped (`http_ratelimit`, `http_request_firewall_managed`, …).
    #[serde(default)]
    pub phases: Vec<String>,
    /// Managed rulesets skipped, by id.
    #[serde(default)]
    pub rulesets: Vec<String>,
    /// Rules of managed rulesets skipped: ruleset id → rule ids.
    #[serde(default)]
    pub rules: BTreeMap<String, Vec<String>>,
    /// Legacy security products skipped (`waf`, `rateLimit`, `securityLevel`, …).
    #[serde(default)]
    pub products: Vec<String>,
}

/// A legacy Page Rule: URL patterns and the settings it overrides for matching URLs.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PageRule {
    pub id: Option<String>,
    /// Higher wins: only the highest-priority matching rule applies to a URL.
    pub priority: Option<i64>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// URL patterns (`*` matches anything), each with its operator (`matches`).
    #[serde(default)]
    pub targets: Vec<PageRuleTarget>,
    /// Action id → value as text (`ssl` → `flexible`; `always_use_https` → `on` when it has none).
    #[serde(default)]
    pub actions: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PageRuleTarget {
    pub operator: Option<String>,
    pub value: Option<String>,
}

/// A custom IP list of the account (`$name` in rule expressions).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct IpList {
    pub id: Option<String>,
    /// Addresses and CIDRs. `None`: the items were not read.
    pub items: Option<Vec<String>>,
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
    /// *Derived*: the record's zone proxies traffic (active and not paused); a paused zone
    /// serves every record as DNS only.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub zone_active: Option<bool>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareIpRanges {
    pub ipv4_cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
    #[serde(default)]
    pub etag: Option<String>,
}
