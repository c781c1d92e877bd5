//! Cloudflare in `link`: what the zone's rulesets mean for the webhook (managed WAF deployed,
//! rate limiting covering the webhook host and path, configuration rules weakening SSL/TLS for
//! it, a transform rule injecting an origin secret header); the webhook Lambda's origins are
//! `origin`'s. Expressions go through [`super::expr`]; this
//! module must not guess: an expression it cannot evaluate never proves coverage, and always
//! counts as a possible override.

use super::expr::{self, Request, Truth};
use super::Ctx;
use crate::model::*;

/// Enabled as far as we know: Cloudflare omits `enabled` for enabled rules and the collector
/// writes `true`; `None` is unknown.
fn enabled(r: &RulesetRule) -> Option<bool> {
    r.enabled
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
        match r.expression.as_deref() {
            Some(e) => expr::eval(e, &Request { host, path }),
            None => Truth::Unknown,
        }
    }

    pub(super) fn zone_facts(&self, z: &CloudflareZone) -> CloudflareZone {
        let req = self.webhook_request();
        let phase = |name: &str| z.phases.get(name);

        let managed_waf_enabled = phase("http_request_firewall_managed").and_then(|p| {
            if !p.deployed {
                return Some(false);
            }
            let exec: Vec<&RulesetRule> = p
                .rules
                .iter()
                .filter(|r| r.action.as_deref() == Some("execute"))
                .collect();
            if exec.iter().any(|r| enabled(r) == Some(true)) {
                Some(true)
            } else if exec.iter().any(|r| enabled(r).is_none()) {
                None
            } else {
                Some(false)
            }
        });

        let rate_limit_covers_webhook = match (&req, phase("http_ratelimit")) {
            (Some((host, path)), Some(p)) => {
                if !p.deployed {
                    Some(false)
                } else {
                    // A `log` rule only observes; it limits nothing.
                    let covering: Vec<Option<bool>> = p
                        .rules
                        .iter()
                        .filter(|r| r.action.as_deref() != Some("log"))
                        .filter(|r| self.matches_webhook(r, host, path) == Truth::True)
                        .map(enabled)
                        .collect();
                    if covering.contains(&Some(true)) {
                        Some(true)
                    } else if covering.contains(&None) {
                        None
                    } else {
                        Some(false)
                    }
                }
            }
            _ => None,
        };

        let overrides = |key: &str, lowers: &dyn Fn(&str) -> bool| -> Option<Vec<String>> {
            let (host, path) = req.as_ref()?;
            let p = phase("http_config_settings")?;
            if !p.deployed {
                return Some(Vec::new());
            }
            let mut out = Vec::new();
            for r in &p.rules {
                // Disabled rules do nothing; unknown-enabled and unparseable rules may apply.
                if enabled(r) == Some(false) || self.matches_webhook(r, host, path) == Truth::False
                {
                    continue;
                }
                if let Some(v) = r.set_config.get(key) {
                    if lowers(v) {
                        out.push(format!("{}: {v}", r.id.as_deref().unwrap_or("?")));
                    }
                }
            }
            out.sort();
            Some(out)
        };
        // `strict` keeps the zone's guarantee; anything else (off, flexible, full) weakens it.
        let webhook_ssl_overrides = overrides("ssl", &|v| !v.trim().eq_ignore_ascii_case("strict"));
        let webhook_min_tls_overrides = overrides("min_tls_version", &|v| {
            // Below 1.2, or a value we cannot read.
            v.trim().parse::<f64>().map(|x| x < 1.2).unwrap_or(true)
        });

        CloudflareZone {
            is_estate_zone: Some(self.zone.is_some_and(|e| std::ptr::eq(e, z))),
            managed_waf_enabled,
            rate_limit_covers_webhook,
            webhook_ssl_overrides,
            webhook_min_tls_overrides,
            ..z.clone()
        }
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
