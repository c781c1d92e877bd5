//! Rate limiting of the webhook: the covering rule must block or challenge, count per what the
//! client cannot vary (address, network, data center) over a period Cloudflare offers, and count
//! the webhook's requests; what it allows is said in words for the evidence.

use super::*;

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

/// Whether a rate limit stops a client flooding the webhook, and what it allows (or why none
/// does).
pub(super) fn rate_limit(ph: &Phase, sk: &Skips, host: &str, path: &str) -> (Option<bool>, String) {
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
        match j.truth {
            Truth::False => continue,
            Truth::Unknown => {
                let (reason, unknown) = partial_reach(r, j.opaque, "expression", &shown(r));
                why.push(reason);
                uncertain |= unknown;
                continue;
            }
            Truth::True => {}
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
            match cj.truth {
                Truth::True => {}
                Truth::False => {
                    why.push(format!(
                        "rule {} counts no webhook request ({})",
                        rid(r),
                        short(c)
                    ));
                    continue;
                }
                Truth::Unknown => {
                    let (reason, unknown) =
                        partial_reach(r, cj.opaque, "counting expression", &short(c));
                    why.push(reason);
                    uncertain |= unknown;
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

/// Why a rule whose `what` (its expression, or its counting expression `shown`) may not hold for
/// a webhook request leaves the webhook uncounted, and whether that makes the verdict unknown:
/// an expression that cannot be evaluated is unknown; one that depends on what the client sends
/// lets a client avoid the limit, a fail.
fn partial_reach(r: &RulesetRule, opaque: bool, what: &str, shown: &str) -> (String, bool) {
    if opaque {
        (
            format!("rule {}: its {what} cannot be evaluated: {shown}", rid(r)),
            true,
        )
    } else {
        (
            format!(
                "rule {} counts only webhook requests matching {shown}, which a client can avoid",
                rid(r)
            ),
            false,
        )
    }
}
