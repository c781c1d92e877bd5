//! What overrides the zone's SSL/TLS values for the webhook URL: the highest-priority active Page
//! Rule matching it, and the per-hostname minimum TLS version (its own host, else a wildcard one
//! label up).

use super::*;

/// The Page Rule that applies to `https://host/path`: the active one of highest priority whose
/// target matches. `Some(None)`: none; `None`: a target this audit cannot match.
pub(super) fn webhook_page_rule<'z>(
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
pub(super) fn hostname_value<'m>(
    m: &'m BTreeMap<String, String>,
    host: &str,
) -> Option<(&'m str, &'m str)> {
    if let Some((h, v)) = m.get_key_value(host) {
        return Some((h, v));
    }
    let parent = host.split_once('.')?.1;
    m.get_key_value(&format!("*.{parent}"))
        .map(|(h, v)| (h.as_str(), v.as_str()))
}
