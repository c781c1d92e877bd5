//! Cloudflare in `link`: what the zone does to a request for the webhook, in Cloudflare's order.
//! The zone must be active (a paused or pending zone proxies nothing); custom rules run first,
//! and a `skip` there takes later phases, managed rulesets or their rules away from the requests
//! it matches; the managed WAF must execute a known WAF ruleset for every webhook request, not
//! neutralised by its overrides; a rate limit must block or challenge the webhook's requests,
//! counted by what the client cannot vary; a custom rule must block every source outside an
//! allowlist; configuration rules, Page Rules and per-hostname settings may lower SSL/TLS for the
//! webhook; a transform rule may inject an origin secret header. The webhook Lambda's origins
//! are `origin`'s. Expressions go through [`super::expr`]; this module must not guess: an
//! expression it cannot evaluate never proves coverage and makes the verdict unknown, and one
//! that depends on what the client sends applies to some webhook requests, not to all.
//!
//! This module owns the webhook request, the order and the derived fields; each judgement is a
//! room of its own: `skips` (what a custom rule's `skip` takes away), `managed` (the managed
//! WAF), `rate` (rate limiting), `allowlist` (approved sources) and `pages` (Page Rules and
//! per-hostname settings).

use std::collections::BTreeMap;

use super::expr::{self, Judged, Request, Truth};
use super::Ctx;
use crate::model::*;

mod allowlist;
mod managed;
mod pages;
mod rate;
mod skips;

use allowlist::allowlist;
use managed::{managed_coverage, ruleset_name};
use pages::{hostname_value, webhook_page_rule};
use rate::rate_limit;
use skips::skips;

/// Enabled as far as we know: Cloudflare omits `enabled` for enabled rules and the collector
/// writes `true`; `None` is unknown.
fn enabled(r: &RulesetRule) -> Option<bool> {
    r.enabled
}

/// The most reasons kept in one derived list: evidence never grows with the zone.
const REASONS_MAX: usize = 10;

/// Where a custom rule's `skip` reaches a webhook request.
#[derive(Default)]
struct Skips {
    /// Phase → (reaches every webhook request, how it is skipped).
    phases: BTreeMap<String, Vec<(Truth, String)>>,
    /// Managed ruleset id → the same.
    rulesets: BTreeMap<String, Vec<(Truth, String)>>,
    /// Skips of single managed rules, described.
    rules: Vec<String>,
    /// Skip rules whose reach cannot be evaluated.
    opaque: Vec<String>,
}

impl Skips {
    /// How `key` is skipped: `True` for every webhook request, `Unknown` for some.
    fn of(map: &BTreeMap<String, Vec<(Truth, String)>>, key: &str) -> (Truth, Vec<String>) {
        let Some(v) = map.get(key) else {
            return (Truth::False, Vec::new());
        };
        let every = v.iter().any(|(t, _)| *t == Truth::True);
        let t = if every { Truth::True } else { Truth::Unknown };
        (t, v.iter().map(|(_, d)| d.clone()).collect())
    }
}

/// A rule's expression judged for `req`; a rule without one cannot be evaluated.
fn judged(r: &RulesetRule, req: &Request) -> Judged {
    match r.expression.as_deref() {
        Some(e) => expr::judge(e, req),
        None => Judged {
            truth: Truth::Unknown,
            opaque: true,
        },
    }
}

fn rid(r: &RulesetRule) -> &str {
    r.id.as_deref().unwrap_or("?")
}

/// A rule's expression as evidence.
fn shown(r: &RulesetRule) -> String {
    short(r.expression.as_deref().unwrap_or(""))
}

/// An expression as evidence: its first 120 characters.
fn short(e: &str) -> String {
    match e.char_indices().nth(120) {
        Some((i, _)) => format!("`{}…`", &e[..i]),
        None => format!("`{e}`"),
    }
}

fn bounded(mut v: Vec<String>) -> Vec<String> {
    let n = v.len();
    if n > REASONS_MAX {
        v.truncate(REASONS_MAX);
        v.push(format!("… and {} more ({n} in all)", n - REASONS_MAX));
    }
    v
}

impl Ctx<'_> {
    fn webhook_request(&self) -> Option<(String, String)> {
        let host = self.cfg.cloudflare.webhook_host.clone()?;
        let path = self
            .cfg
            .cloudflare
            .webhook_path
            .clone()
            .unwrap_or_else(|| "/".into());
        Some((host.trim_end_matches('.').to_ascii_lowercase(), path))
    }

    fn matches_webhook(&self, r: &RulesetRule, host: &str, path: &str) -> Truth {
        judged(r, &Request::new(host, path)).truth
    }

    pub(super) fn zone_facts(&self, z: &CloudflareZone) -> CloudflareZone {
        let req = self.webhook_request();
        let phase = |name: &str| z.phases.get(name);
        let zone_active = zone_active(z);

        let managed_waf_enabled = phase("http_request_firewall_managed").and_then(|p| {
            if !p.deployed {
                return Some(false);
            }
            let exec: Vec<&RulesetRule> = p
                .rules
                .iter()
                .filter(|r| r.action.as_deref() == Some("execute"))
                .collect();
            let on = |r: &RulesetRule| {
                let off = r.overrides.as_ref().and_then(|o| o.enabled) == Some(false);
                enabled(r).map(|e| e && !off)
            };
            if exec.iter().any(|r| on(r) == Some(true)) {
                Some(true)
            } else if exec.iter().any(|r| on(r).is_none()) {
                None
            } else {
                Some(false)
            }
        });

        let skips = req
            .as_ref()
            .and_then(|(h, p)| phase("http_request_firewall_custom").map(|c| skips(c, h, p)));
        let (managed_waf_covers_webhook, managed_waf_gaps) = match (&req, &skips) {
            (Some((h, p)), Some(sk)) => match phase("http_request_firewall_managed") {
                Some(ph) => {
                    let (c, g) = managed_coverage(ph, sk, h, p);
                    (c, Some(g))
                }
                None => (None, None),
            },
            _ => (None, None),
        };
        let (rate_limit_covers_webhook, rate_limit_webhook) = match (&req, &skips) {
            (Some((h, p)), Some(sk)) => match phase("http_ratelimit") {
                Some(ph) => {
                    let (c, d) = rate_limit(ph, sk, h, p);
                    (c, Some(d))
                }
                None => (None, None),
            },
            _ => (None, None),
        };
        let (webhook_allowlisted, webhook_allowlist) =
            match (&req, phase("http_request_firewall_custom")) {
                (Some((h, p)), Some(c)) => {
                    let (a, d) = allowlist(c, &z.ip_lists, h, p);
                    (a, Some(d))
                }
                _ => (None, None),
            };

        // The Page Rule that applies to the webhook URL: `Some(None)` when none does.
        let page_rule = req
            .as_ref()
            .and_then(|(h, p)| webhook_page_rule(z.page_rules.as_deref()?, h, p));

        let overrides = |key: &str, lowers: &dyn Fn(&str) -> bool| -> Option<Vec<String>> {
            let (host, path) = req.as_ref()?;
            let p = phase("http_config_settings")?;
            let mut out = Vec::new();
            if p.deployed {
                for r in &p.rules {
                    // Disabled rules do nothing; unknown-enabled and unparseable rules may apply.
                    if enabled(r) == Some(false)
                        || self.matches_webhook(r, host, path) == Truth::False
                    {
                        continue;
                    }
                    if let Some(v) = r.set_config.get(key) {
                        if lowers(v) {
                            out.push(format!("{}: {v}", rid(r)));
                        }
                    }
                }
            }
            out.sort();
            Some(out)
        };
        // `strict` keeps the zone's guarantee; anything else (off, flexible, full) weakens it.
        let weak_ssl = |v: &str| !v.trim().eq_ignore_ascii_case("strict");
        let webhook_ssl_overrides = overrides("ssl", &weak_ssl).and_then(|mut v| {
            let pr = page_rule.as_ref()?;
            if let Some((id, val)) = pr
                .as_ref()
                .and_then(|r| r.actions.get("ssl").map(|v| (r.id.as_deref(), v)))
            {
                if weak_ssl(val) {
                    v.push(format!("page rule {}: {val}", id.unwrap_or("?")));
                }
            }
            Some(v)
        });
        // Below 1.2, or a value we cannot read.
        let weak_tls = |v: &str| v.trim().parse::<f64>().map(|x| x < 1.2).unwrap_or(true);
        let webhook_min_tls_overrides =
            overrides("min_tls_version", &weak_tls).and_then(|mut v| {
                let (host, _) = req.as_ref()?;
                let per_host = z.hostname_min_tls.as_ref()?;
                if let Some((h, val)) = hostname_value(per_host, host) {
                    if weak_tls(val) {
                        v.push(format!("hostname setting {h}: {val}"));
                    }
                }
                Some(v)
            });
        let webhook_always_use_https = page_rule.as_ref().and_then(|pr| {
            match pr.as_ref().and_then(|r| r.actions.get("always_use_https")) {
                Some(v) => Some(v.clone()),
                None => z.always_use_https.clone(),
            }
        });

        CloudflareZone {
            is_estate_zone: Some(self.zone.is_some_and(|e| std::ptr::eq(e, z))),
            zone_active,
            managed_waf_enabled,
            managed_waf_covers_webhook,
            managed_waf_gaps: managed_waf_gaps.map(bounded),
            rate_limit_covers_webhook,
            rate_limit_webhook,
            webhook_allowlisted,
            webhook_allowlist,
            webhook_ssl_overrides,
            webhook_min_tls_overrides,
            webhook_always_use_https,
            ..z.clone()
        }
    }

    /// Whether the estate zone proxies the record's traffic.
    pub(super) fn record_zone_active(&self, d: &DnsRecord) -> Option<bool> {
        let z = self.zone?;
        if d.zone_id.is_some() && d.zone_id != z.zone_id {
            return None;
        }
        zone_active(z)
    }

    /// A transform rule of the estate zone sets a request header on requests to the webhook:
    /// an enabled `http_request_late_transform` rule with headers whose expression matches the
    /// webhook request.
    fn origin_secret_header(&self) -> Option<bool> {
        if self.zone.is_none() && self.any_errored(&[kind::CLOUDFLARE_ZONE]) {
            return None;
        }
        let (host, path) = self.webhook_request()?;
        let p = self.zone?.phases.get("http_request_late_transform")?;
        if !p.deployed {
            return Some(false);
        }
        Some(p.rules.iter().any(|r| {
            enabled(r) == Some(true)
                && !r.set_headers.is_empty()
                && self.matches_webhook(r, &host, &path) == Truth::True
        }))
    }

    pub(super) fn lambda(&self, r: &Resource, l: &LambdaFunction) -> LambdaFunction {
        let is_webhook = self.is_webhook(l);
        let (origins, origin_cloudflare_only, endpoint_served) = self.origins(r, l);
        LambdaFunction {
            is_webhook,
            subnet_tiers: l
                .vpc_config
                .as_ref()
                .and_then(|v| self.tiers_of(Some(&v.subnet_ids))),
            origin_access: origins
                .as_ref()
                .map(|o| o.iter().map(super::origin::said).collect()),
            origins,
            endpoint_served,
            origin_cloudflare_only,
            origin_secret_header: if is_webhook == Some(true) {
                self.origin_secret_header()
            } else {
                None
            },
            alarm_names: self
                .alarms
                .names(self, &[("FunctionName", l.function_name.as_deref())]),
            ..l.clone()
        }
    }
}

/// Active and not paused: Cloudflare proxies the zone's traffic.
fn zone_active(z: &CloudflareZone) -> Option<bool> {
    match (z.status.as_deref(), z.paused) {
        (Some(s), _) if s != "active" => Some(false),
        (_, Some(true)) => Some(false),
        (Some("active"), Some(false)) => Some(true),
        _ => None,
    }
}
