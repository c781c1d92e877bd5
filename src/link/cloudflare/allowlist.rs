//! The spec's "WAF opens endpoints only to approved sources": a `block` custom rule must match a
//! request from a source outside every allowlist (inline sets, ranges, custom IP lists); a set
//! too wide approves no one, and an earlier `skip` lets requests past it.

use super::*;

/// Whether a custom rule blocks every request to the webhook from a source outside an
/// allowlist, nothing before it letting such a request through; which rule, or why none.
pub(super) fn allowlist(
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
