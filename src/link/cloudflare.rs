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

use std::collections::BTreeMap;

use super::expr::{self, Judged, Request, Truth};
use super::Ctx;
use crate::model::*;

/// Enabled as far as we know: Cloudflare omits `enabled` for enabled rules and the collector
/// writes `true`; `None` is unknown.
fn enabled(r: &RulesetRule) -> Option<bool> {
    r.enabled
}

/// The managed rulesets that are a web application firewall (ids are Cloudflare's, the same in
/// every zone). The exposed-credentials check and others inspect something else.
const WAF_RULESETS: &[(&str, &str)] = &[
    (
        "efb7b8c949ac4650a09736fc376e9aee",
        "Cloudflare Managed Ruleset",
    ),
    (
        "4814384a9e5d4991b9815dcfc25d2f1f",
        "Cloudflare OWASP Core Ruleset",
    ),
    (
        "77454fe2d30c4220b5701f6fdfb893ba",
        "Cloudflare Free Managed Ruleset",
    ),
];

/// Rate-limit actions that stop a client; `log` only observes.
const LIMITING: &[&str] = &["block", "challenge", "js_challenge", "managed_challenge"];

/// Rate-limit counting keys the client cannot vary at will.
const FIXED_KEYS: &[&str] = &[
    "cf.colo.id",
    "ip.src",
    "ip.src.asnum",
    "ip.src.country",
    "ip.src.continent",
];

/// Counting keys the client chooses (a header, a cookie, its TLS fingerprint…): a new value is a
/// new counter, so the limit never bites.
const CLIENT_KEYS: &[&str] = &[
    "http.",
    "cf.bot_management",
    "cf.unique_visitor_id",
    "cf.tls_",
];

/// The periods Cloudflare offers for rate limiting, in seconds.
const PERIODS: &[i64] = &[10, 60, 120, 300, 600, 3600];

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

/// Where the custom rules' `skip` actions reach webhook requests, in rule order: a skip of the
/// rest of the ruleset that matches a webhook request takes the later skips away from it.
fn skips(custom: &Phase, host: &str, path: &str) -> Skips {
    let mut out = Skips::default();
    if !custom.deployed {
        return out;
    }
    let req = Request::new(host, path);
    // Whether later custom rules still see a webhook request: every one, some, or none.
    let mut reach = Truth::True;
    for r in &custom.rules {
        if r.action.as_deref() != Some("skip") || enabled(r) == Some(false) {
            continue;
        }
        let Some(skip) = &r.skip else {
            out.opaque
                .push(format!("rule {}: a skip without parameters", rid(r)));
            continue;
        };
        let j = judged(r, &req);
        if j.truth == Truth::False {
            continue;
        }
        if j.opaque || enabled(r).is_none() {
            out.opaque.push(format!(
                "rule {}: a skip whose expression cannot be evaluated: {}",
                rid(r),
                shown(r)
            ));
            continue;
        }
        let t = reach.and(j.truth);
        if t == Truth::False {
            continue;
        }
        let how = |what: &str| match t {
            Truth::True => format!(
                "custom rule {} skips {what} for every webhook request",
                rid(r)
            ),
            _ => format!(
                "custom rule {} skips {what} for webhook requests matching {}",
                rid(r),
                shown(r)
            ),
        };
        for ph in &skip.phases {
            out.phases
                .entry(ph.clone())
                .or_default()
                .push((t, how(&format!("the {ph} phase"))));
        }
        for rs in &skip.rulesets {
            out.rulesets
                .entry(rs.clone())
                .or_default()
                .push((t, how(&format!("managed ruleset {}", ruleset_name(rs)))));
        }
        for (rs, ids) in &skip.rules {
            out.rules.push(how(&format!(
                "{} rule(s) of {} ({})",
                ids.len(),
                ruleset_name(rs),
                ids.join(", ")
            )));
        }
        if skip.current_ruleset {
            reach = reach.and(t.not());
        }
    }
    out
}

fn ruleset_name(id: &str) -> String {
    WAF_RULESETS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| id.to_string())
}

/// Whether a known WAF ruleset runs, un-neutralised and unweakened, for every webhook request;
/// and what weakens the managed WAF for it.
fn managed_coverage(
    managed: &Phase,
    sk: &Skips,
    host: &str,
    path: &str,
) -> (Option<bool>, Vec<String>) {
    let mut gaps: Vec<String> = sk.opaque.clone();
    let mut uncertain = !sk.opaque.is_empty();
    if !managed.deployed {
        return (if uncertain { None } else { Some(false) }, gaps);
    }
    let (phase_skip, how) = Skips::of(&sk.phases, "http_request_firewall_managed");
    gaps.extend(how);
    if phase_skip == Truth::True {
        return (Some(false), gaps);
    }
    gaps.extend(sk.rules.iter().cloned());
    let req = Request::new(host, path);
    let mut covers = false;
    for r in &managed.rules {
        if r.action.as_deref() != Some("execute") || enabled(r) == Some(false) {
            continue;
        }
        let id = r.execute_ruleset_id.as_deref().unwrap_or("?");
        let name = ruleset_name(id);
        let known = WAF_RULESETS.iter().any(|(i, _)| *i == id);
        let j = judged(r, &req);
        let mut clean = phase_skip == Truth::False && sk.rules.is_empty();
        match (j.truth, j.opaque) {
            (Truth::False, _) => {
                gaps.push(format!(
                    "rule {} runs {name} only for requests that are not the webhook's",
                    rid(r)
                ));
                continue;
            }
            (Truth::Unknown, true) => {
                gaps.push(format!(
                    "rule {} runs {name} for an expression that cannot be evaluated: {}",
                    rid(r),
                    shown(r)
                ));
                uncertain = true;
                continue;
            }
            (Truth::Unknown, false) => {
                gaps.push(format!(
                    "rule {} runs {name} only for webhook requests matching {}",
                    rid(r),
                    shown(r)
                ));
                continue;
            }
            (Truth::True, _) => {}
        }
        if let Some(o) = &r.overrides {
            if o.enabled == Some(false) {
                gaps.push(format!(
                    "rule {}: an override disables every rule of {name}",
                    rid(r)
                ));
                continue;
            }
            if o.action.as_deref() == Some("log") {
                gaps.push(format!(
                    "rule {}: an override makes every rule of {name} only log",
                    rid(r)
                ));
                continue;
            }
            for (what, list) in [("category", &o.categories), ("rule", &o.rules)] {
                for e in list {
                    if e.enabled == Some(false) {
                        gaps.push(format!(
                            "rule {}: {name} {what} {} disabled",
                            rid(r),
                            e.target
                        ));
                        clean = false;
                    } else if e.action.as_deref() == Some("log") {
                        gaps.push(format!(
                            "rule {}: {name} {what} {} only logs",
                            rid(r),
                            e.target
                        ));
                        clean = false;
                    }
                }
            }
        }
        let (rs_skip, how) = Skips::of(&sk.rulesets, id);
        gaps.extend(how);
        match rs_skip {
            Truth::True => continue,
            Truth::Unknown => clean = false,
            Truth::False => {}
        }
        if !known {
            gaps.push(format!(
                "rule {} runs ruleset {id}, which is not a managed WAF ruleset this audit knows",
                rid(r)
            ));
            uncertain = true;
            continue;
        }
        match enabled(r) {
            Some(true) if clean => covers = true,
            Some(true) => {}
            _ => uncertain = true,
        }
    }
    gaps.sort();
    gaps.dedup();
    let verdict = if covers {
        Some(true)
    } else if uncertain {
        None
    } else {
        Some(false)
    };
    (verdict, gaps)
}

/// Whether a rate limit stops a client flooding the webhook, and what it allows (or why none
/// does).
fn rate_limit(ph: &Phase, sk: &Skips, host: &str, path: &str) -> (Option<bool>, String) {
    if !ph.deployed {
        return (Some(false), "no rate-limiting rule is deployed".into());
    }
    let mut why: Vec<String> = sk.opaque.clone();
    let mut uncertain = !sk.opaque.is_empty();
    let (phase_skip, how) = Skips::of(&sk.phases, "http_ratelimit");
    let partial = phase_skip == Truth::Unknown;
    why.extend(how);
    if phase_skip == Truth::True {
        return (Some(false), why.join("; "));
    }
    let req = Request::new(host, path);
    for r in &ph.rules {
        if enabled(r) == Some(false) {
            continue;
        }
        let j = judged(r, &req);
        match (j.truth, j.opaque) {
            (Truth::False, _) => continue,
            (Truth::Unknown, true) => {
                why.push(format!(
                    "rule {}: its expression cannot be evaluated: {}",
                    rid(r),
                    shown(r)
                ));
                uncertain = true;
                continue;
            }
            (Truth::Unknown, false) => {
                why.push(format!(
                    "rule {} counts only webhook requests matching {}, which a client can avoid",
                    rid(r),
                    shown(r)
                ));
                continue;
            }
            (Truth::True, _) => {}
        }
        let action = r.action.as_deref().unwrap_or("?");
        if !LIMITING.contains(&action) {
            why.push(format!(
                "rule {} only does `{action}`: it stops nobody",
                rid(r)
            ));
            continue;
        }
        let Some(keys) = &r.characteristics else {
            why.push(format!(
                "rule {}: its counting characteristics were not read",
                rid(r)
            ));
            uncertain = true;
            continue;
        };
        if let Some(k) = keys
            .iter()
            .find(|k| CLIENT_KEYS.iter().any(|p| k.starts_with(p)))
        {
            why.push(format!(
                "rule {} counts per `{k}`, which the client chooses: each new value is a new counter",
                rid(r)
            ));
            continue;
        }
        if let Some(k) = keys.iter().find(|k| !FIXED_KEYS.contains(&k.as_str())) {
            why.push(format!(
                "rule {} counts per `{k}`, which this audit does not know",
                rid(r)
            ));
            uncertain = true;
            continue;
        }
        let (Some(n), Some(period)) = (r.requests_per_period, r.period) else {
            why.push(format!("rule {}: its rate or period was not read", rid(r)));
            uncertain = true;
            continue;
        };
        if n <= 0 || !PERIODS.contains(&period) {
            why.push(format!(
                "rule {}: {n} requests per {period} s is not a limit Cloudflare applies",
                rid(r)
            ));
            uncertain = true;
            continue;
        }
        if let Some(c) = &r.counting_expression {
            let cj = expr::judge(c, &req);
            match (cj.truth, cj.opaque) {
                (Truth::True, _) => {}
                (Truth::False, _) => {
                    why.push(format!(
                        "rule {} counts no webhook request ({})",
                        rid(r),
                        short(c)
                    ));
                    continue;
                }
                (Truth::Unknown, true) => {
                    why.push(format!(
                        "rule {}: its counting expression cannot be evaluated: {}",
                        rid(r),
                        short(c)
                    ));
                    uncertain = true;
                    continue;
                }
                (Truth::Unknown, false) => {
                    why.push(format!(
                        "rule {} counts only webhook requests matching {}, which a client can avoid",
                        rid(r),
                        short(c)
                    ));
                    continue;
                }
            }
        }
        if enabled(r).is_none() {
            uncertain = true;
            continue;
        }
        if partial {
            continue;
        }
        let keyed: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| *k != "cf.colo.id")
            .collect();
        let per = if keyed.is_empty() {
            "per Cloudflare data center".to_string()
        } else {
            format!("per {} and data center", keyed.join(" and "))
        };
        let timeout = match r.mitigation_timeout {
            Some(t) if t > 0 => format!(" for {t} s"),
            _ => String::new(),
        };
        return (
            Some(true),
            format!(
                "rule {} allows {n} requests per {period} s {per}, then does `{action}`{timeout}",
                rid(r)
            ),
        );
    }
    if why.is_empty() {
        why.push("no rate-limiting rule matches the webhook host and path".into());
    }
    let why = bounded(why).join("; ");
    (if uncertain { None } else { Some(false) }, why)
}

/// Whether a custom rule blocks every request to the webhook from a source outside an
/// allowlist, nothing before it letting such a request through; which rule, or why none.
fn allowlist(
    custom: &Phase,
    lists: &BTreeMap<String, IpList>,
    host: &str,
    path: &str,
) -> (Option<bool>, String) {
    if !custom.deployed {
        return (Some(false), "no custom rule is deployed".into());
    }
    let req = Request {
        host,
        path,
        outsider: Some(lists),
    };
    let mut why: Vec<String> = Vec::new();
    let mut uncertain = false;
    // Whether an outsider's request still reaches the next custom rule.
    let mut reach = Truth::True;
    for r in &custom.rules {
        if enabled(r) == Some(false) {
            continue;
        }
        let action = r.action.as_deref().unwrap_or("?");
        if action != "block" && action != "skip" {
            continue;
        }
        let j = judged(r, &req);
        if j.truth == Truth::False {
            // A block that depends on the source for a webhook request but never stops an
            // outsider: its allowlist admits everyone.
            let anyone = r
                .expression
                .as_deref()
                .map(|e| expr::judge(e, &Request::new(host, path)));
            if action == "block" && anyone.is_some_and(|a| a.truth == Truth::Unknown && !a.opaque) {
                why.push(format!(
                    "custom rule {}'s allowlist admits more than a /8 of IPv4 or a /32 of IPv6 \
                     addresses: it approves no particular source",
                    rid(r)
                ));
            }
            continue;
        }
        if j.opaque || enabled(r).is_none() {
            why.push(format!(
                "rule {}: its expression cannot be evaluated for a source outside the allowlist: {}",
                rid(r),
                shown(r)
            ));
            uncertain = true;
            continue;
        }
        if action == "skip" {
            if r.skip.as_ref().is_some_and(|s| s.current_ruleset) {
                why.push(format!(
                    "custom rule {} lets {} past the rest of the custom rules",
                    rid(r),
                    if j.truth == Truth::True {
                        "every request to the webhook".to_string()
                    } else {
                        format!("requests matching {}", shown(r))
                    }
                ));
                reach = reach.and(j.truth.not());
                if reach == Truth::False {
                    break;
                }
            }
            continue;
        }
        // A block.
        if j.truth == Truth::True && reach == Truth::True {
            return (
                Some(true),
                format!(
                    "custom rule {} blocks every request to the webhook from outside its allowlist: {}",
                    rid(r),
                    shown(r)
                ),
            );
        }
        if j.truth == Truth::True {
            why.push(format!(
                "custom rule {} blocks sources outside its allowlist, but an earlier skip lets some through",
                rid(r)
            ));
        } else {
            why.push(format!(
                "custom rule {} blocks only some sources outside an allowlist: {}",
                rid(r),
                shown(r)
            ));
        }
    }
    if why.is_empty() {
        why.push(
            "no custom rule blocks requests to the webhook from sources outside an allowlist"
                .into(),
        );
    }
    let why = bounded(why).join("; ");
    (if uncertain { None } else { Some(false) }, why)
}

/// The Page Rule that applies to `https://host/path`: the active one of highest priority whose
/// target matches. `Some(None)`: none; `None`: a target this audit cannot match.
fn webhook_page_rule<'z>(
    rules: &'z [PageRule],
    host: &str,
    path: &str,
) -> Option<Option<&'z PageRule>> {
    let mut active: Vec<&PageRule> = rules
        .iter()
        .filter(|r| r.status.as_deref() != Some("disabled"))
        .collect();
    // Highest priority first; a rule without one cannot be placed.
    if active
        .iter()
        .any(|r| r.priority.is_none() || r.status.is_none())
    {
        return None;
    }
    active.sort_by_key(|r| std::cmp::Reverse(r.priority));
    let url = format!("{host}{path}");
    for r in active {
        let mut hit = false;
        for t in &r.targets {
            if t.operator.as_deref().is_some_and(|o| o != "matches") {
                return None;
            }
            let pat = t.value.as_deref()?.to_ascii_lowercase();
            let pat = match pat.split_once("://") {
                Some(("https", rest)) => rest.to_string(),
                // Only plain HTTP requests match: not the webhook's.
                Some((_, _)) => continue,
                None => pat,
            };
            let pat = if pat.contains('/') {
                pat
            } else {
                format!("{pat}/")
            };
            let (ph, pp) = pat.split_once('/').unwrap_or((pat.as_str(), ""));
            let (uh, up) = url.split_once('/').unwrap_or((url.as_str(), ""));
            if expr::glob(uh, ph) && expr::glob(up, pp) {
                hit = true;
            }
        }
        if hit {
            return Some(Some(r));
        }
    }
    Some(None)
}

/// The per-hostname value for `host`: its own entry, else a wildcard entry one label up.
fn hostname_value<'m>(m: &'m BTreeMap<String, String>, host: &str) -> Option<(&'m str, &'m str)> {
    if let Some((h, v)) = m.get_key_value(host) {
        return Some((h, v));
    }
    let parent = host.split_once('.')?.1;
    m.get_key_value(&format!("*.{parent}"))
        .map(|(h, v)| (h.as_str(), v.as_str()))
}
