//! The managed WAF: an enabled `execute` of a known WAF ruleset must match every webhook request
//! and not be neutralised by its overrides (a disabled or logging ruleset, category or rule). An
//! unknown ruleset or an expression that cannot be evaluated proves nothing.

use super::*;

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

pub(super) fn ruleset_name(id: &str) -> String {
    WAF_RULESETS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| id.to_string())
}

/// Whether a known WAF ruleset runs, un-neutralised and unweakened, for every webhook request;
/// and what weakens the managed WAF for it.
pub(super) fn managed_coverage(
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
