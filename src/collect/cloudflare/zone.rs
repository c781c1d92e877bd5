//! What the Cloudflare collector reads, in which order and with which fallbacks: Cloudflare's
//! ranges (`GET /ips`, without the token); the token check (the user endpoint first, the
//! account's once the zone names it, for account-owned tokens); the estate zone by name; then,
//! side by side and each under the deadline, the webhook host's DNS records, the zone settings,
//! the ruleset phase entry points, the active Page Rules and the per-hostname minimum TLS
//! versions; last, the custom IP lists that custom rules name (`$name`), at most
//! [`MAX_LISTS`] of them, assembled into the zone resource. A rejected token or an
//! unreachable API stops the reads that would fail the same way; a setting or phase that could
//! not be read stays unknown, and its error names no kind. Every failure is a
//! [`CollectionError`] that names the permission it needs.
//!
//! It must not speak HTTP itself (that is `client`) or turn an answer into model data (that is
//! `normalize`), and must not guess: a token check that proves nothing (throttled, failing,
//! garbled) stops nothing, and "nothing deployed" is a value only when Cloudflare says so (`404`
//! with code `10003`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::{Api, Auth};
use super::normalize::{
    normalize_dns_record, normalize_entrypoint, normalize_hostname_settings, normalize_ips,
    normalize_list_items, normalize_page_rule, normalize_setting, normalize_zone, str_at, ZoneInfo,
};
use super::{error, PHASES, SETTINGS, TOKEN_VAR};
use crate::collect::within;
use crate::model::{
    kind, Attrs, CloudflareConfig, CollectionError, ErrorKind, IpList, PageRule, Phase, Resource,
};

/// The most custom IP lists read (one request each, one page of [`LIST_PAGE`] items): the
/// audit stays within its request budget, and a list beyond them stays unknown.
pub const MAX_LISTS: usize = 3;
/// Items per page of a list's items (Cloudflare's largest page).
const LIST_PAGE: &str = "500";

pub(super) async fn collect_ips(api: &Api) -> Result<Resource, CollectionError> {
    let res = api
        .get("/ips", &[], Auth::None)
        .await
        .and_then(|env| normalize_ips(&env.result).map_err(|m| env.malformed(m)));
    res.map_err(|f| {
        f.into_error(
            "ips",
            &[kind::CLOUDFLARE_IP_RANGES],
            "no permission (the endpoint is public)",
        )
    })
}

/// The estate zone, found by name after the token check. An error when the token is refused, the
/// API is unreachable or the zone cannot be seen: nothing of the zone could be read then.
async fn find_zone(api: &Api, cfg: &CloudflareConfig) -> Result<ZoneInfo, CollectionError> {
    let both = [kind::CLOUDFLARE_ZONE, kind::DNS_RECORD];
    let Some(zone_name) = cfg.zone.as_deref().map(|z| z.trim().trim_end_matches('.')) else {
        return Err(error(
            "zones",
            &both,
            ErrorKind::Other,
            "estate.toml names no Cloudflare zone: add [cloudflare] zone = \"example.com\" \
             (and webhook_host)"
                .into(),
        ));
    };

    // The token check first: a rejected token explains every later failure in one message.
    let mut account_token = false;
    match api.get("/user/tokens/verify", &[], Auth::Token).await {
        Ok(env) => {
            if let Some(bad) = token_not_active(&env.result) {
                return Err(error("tokens", &both, ErrorKind::AccessDenied, bad));
            }
        }
        // Account-owned tokens are "invalid" to the user endpoint: verify them against their
        // account once the zone tells which account that is.
        Err(f) if f.status == Some(401) && f.codes.contains(&1000) => account_token = true,
        Err(f) if f.kind == ErrorKind::AccessDenied || f.status.is_none() => {
            // Rejected, or the API is unreachable: every other call would fail the same way.
            return Err(f.into_error(
                "tokens",
                &both,
                "a valid, active API token in CLOUDFLARE_API_TOKEN",
            ));
        }
        // A throttled, failing or garbled check proves nothing either way; the reads below
        // judge the token, and no fact depends on this answer.
        Err(_) => {}
    }

    let zone_hint = "Zone › Zone › Read on the estate zone";
    let zones = match api
        .list("/zones", &[("name", zone_name), ("per_page", "50")])
        .await
    {
        Ok(z) => z,
        Err(f) => {
            let f = if account_token && f.status == Some(401) {
                f.note("the token is neither a valid user nor account API token")
            } else {
                f
            };
            return Err(f.into_error("zones", &both, zone_hint));
        }
    };
    let zone = match zones
        .iter()
        .find(|z| str_at(z, "/name").is_some_and(|n| n.eq_ignore_ascii_case(zone_name)))
        .map(normalize_zone)
    {
        Some(Ok(z)) => z,
        Some(Err(m)) => {
            return Err(error(
                "zones",
                &both,
                ErrorKind::Other,
                format!("GET /zones?name={zone_name}: {m}"),
            ));
        }
        None => {
            return Err(error(
                "zones",
                &both,
                ErrorKind::AccessDenied,
                format!(
                    "GET /zones?name={zone_name} found no such zone: the API token is not scoped \
                     to zone {zone_name} (or the zone is not in this account); grant {zone_hint}"
                ),
            ));
        }
    };

    if account_token {
        if let Some(account) = zone.account_id.as_deref() {
            let path = format!("/accounts/{account}/tokens/verify");
            // As above: only a definite "not active" stops the collection.
            if let Ok(env) = api.get(&path, &[], Auth::Token).await {
                if let Some(bad) = token_not_active(&env.result) {
                    return Err(error("tokens", &both, ErrorKind::AccessDenied, bad));
                }
            }
        }
    }
    Ok(zone)
}

/// The zone, its DNS records for the webhook host, settings and phases.
pub(super) async fn collect_zone(
    api: &Api,
    cfg: &CloudflareConfig,
) -> (Vec<Resource>, Vec<CollectionError>) {
    let zone = match find_zone(api, cfg).await {
        Ok(z) => z,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut errors = Vec::new();
    let zid = zone.attrs.zone_id.clone().unwrap_or_default();
    // Each part under the deadline, so a stalled one leaves the others their data.
    let deadline = api.deadline.as_ref();
    let cut_off = |service: &str, kinds: &[&str]| match deadline {
        Some(d) => d.error("cloudflare", service, kinds, None),
        None => error(service, kinds, ErrorKind::Other, "cut off".into()),
    };
    let (dns, settings, phases, page_rules, hostname_tls) = tokio::join!(
        within(deadline, collect_dns(api, &zid, cfg)),
        within(deadline, collect_settings(api, &zid)),
        within(deadline, collect_phases(api, &zid)),
        within(deadline, collect_page_rules(api, &zid)),
        within(deadline, collect_hostname_min_tls(api, &zid)),
    );
    let dns = dns.unwrap_or_else(|| Err(cut_off("dns_records", &[kind::DNS_RECORD])));
    // Settings and phases that were not read stay unknown (`None`, absent phase); the error
    // names no kind, as for one that failed.
    let settings = settings.unwrap_or_else(|| (Vec::new(), vec![cut_off("settings", &[])]));
    let phases = phases.unwrap_or_else(|| (BTreeMap::new(), vec![cut_off("rulesets", &[])]));

    let mut attrs = zone.attrs;
    for (name, value) in settings.0 {
        let slot = match name {
            "ssl" => &mut attrs.ssl,
            "ssl_automatic_mode" => &mut attrs.ssl_automatic_mode,
            "min_tls_version" => &mut attrs.min_tls_version,
            "always_use_https" => &mut attrs.always_use_https,
            "tls_1_3" => &mut attrs.tls_1_3,
            "security_level" => &mut attrs.security_level,
            _ => continue,
        };
        *slot = Some(value);
    }
    errors.extend(settings.1);
    attrs.phases = phases.0;
    errors.extend(phases.1);
    match page_rules {
        Some(Ok(rules)) => attrs.page_rules = Some(rules),
        Some(Err(e)) => errors.push(e),
        None => errors.push(cut_off("pagerules", &[])),
    }
    match hostname_tls {
        Some(Ok(values)) => attrs.hostname_min_tls = Some(values),
        Some(Err(e)) => errors.push(e),
        None => errors.push(cut_off("hostnames/settings/min_tls_version", &[])),
    }
    // The lists custom rules name, once the rules are known.
    let named = list_names(&attrs.phases);
    if !named.is_empty() {
        let account = zone.account_id.as_deref();
        match within(deadline, collect_lists(api, account, &named)).await {
            Some((lists, errs)) => {
                attrs.ip_lists = lists;
                errors.extend(errs);
            }
            None => errors.push(cut_off("rules/lists", &[])),
        }
    }

    let mut zone_res = Resource::new(
        format!("cloudflare:zone/{zid}"),
        Attrs::CloudflareZone(attrs),
    );
    zone_res.name = Some(zone.name);
    let mut resources = vec![zone_res];
    match dns {
        Ok(records) => resources.extend(records),
        Err(e) => errors.push(e),
    }
    (resources, errors)
}

/// The active Page Rules. Their errors name no kind: the zone is still collected, and the rules
/// that depend on them are unknown.
async fn collect_page_rules(api: &Api, zone_id: &str) -> Result<Vec<PageRule>, CollectionError> {
    let path = format!("/zones/{zone_id}/pagerules");
    let fail = |f: super::Failure| f.into_error("pagerules", &[], "Zone › Page Rules › Read");
    let env = api
        .get(&path, &[("status", "active")], Auth::Token)
        .await
        .map_err(fail)?;
    let Some(items) = env.result.as_array() else {
        return Err(fail(env.malformed("`result` is not a list".into())));
    };
    items
        .iter()
        .map(normalize_page_rule)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| fail(env.malformed(m)))
}

/// The hostnames whose minimum TLS version is set apart from the zone's.
async fn collect_hostname_min_tls(
    api: &Api,
    zone_id: &str,
) -> Result<BTreeMap<String, String>, CollectionError> {
    let path = format!("/zones/{zone_id}/hostnames/settings/min_tls_version");
    let fail = |f: super::Failure| {
        f.into_error(
            "hostnames/settings/min_tls_version",
            &[],
            "Zone › SSL and Certificates › Read",
        )
    };
    let env = api.get(&path, &[], Auth::Token).await.map_err(fail)?;
    normalize_hostname_settings(&env.result).map_err(|m| fail(env.malformed(m)))
}

/// Names of the custom lists (`$name`, not Cloudflare's managed `$cf.…`) that the custom rules
/// name, outside string literals.
fn list_names(phases: &BTreeMap<String, Phase>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(custom) = phases.get("http_request_firewall_custom") else {
        return out;
    };
    for e in custom.rules.iter().filter_map(|r| r.expression.as_deref()) {
        let chars: Vec<char> = e.chars().collect();
        let mut i = 0;
        let mut in_str = false;
        while i < chars.len() {
            match chars[i] {
                '\\' if in_str => i += 1,
                '"' => in_str = !in_str,
                '$' if !in_str => {
                    let start = i + 1;
                    let mut j = start;
                    while chars
                        .get(j)
                        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
                    {
                        j += 1;
                    }
                    let name: String = chars[start..j].iter().collect();
                    if !name.is_empty() && !name.starts_with("cf.") && !out.contains(&name) {
                        out.push(name);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out.sort();
    out
}

/// The named custom lists with their items: one request for the account's lists, then one per
/// list, at most [`MAX_LISTS`]. A list not read stays out of the map (unknown).
async fn collect_lists(
    api: &Api,
    account: Option<&str>,
    names: &[String],
) -> (BTreeMap<String, IpList>, Vec<CollectionError>) {
    let mut lists = BTreeMap::new();
    let mut errors = Vec::new();
    let permission = "Account › Account Filter Lists › Read";
    let Some(account) = account else {
        errors.push(error(
            "rules/lists",
            &[],
            ErrorKind::Other,
            format!(
                "custom rules name the lists {} but the zone answer named no account, so they \
                 were not read",
                names.join(", ")
            ),
        ));
        return (lists, errors);
    };
    let path = format!("/accounts/{account}/rules/lists");
    let index = match api.list_pages(&path, &[], 1).await {
        Ok(items) => items,
        Err(f) => {
            errors.push(f.into_error("rules/lists", &[], permission));
            return (lists, errors);
        }
    };
    let mut read = 0;
    for name in names {
        let Some(entry) = index
            .iter()
            .find(|l| str_at(l, "/name") == Some(name.as_str()))
        else {
            // Cloudflare refuses rules naming a list that does not exist: the token cannot see it.
            errors.push(error(
                "rules/lists",
                &[],
                ErrorKind::AccessDenied,
                format!("GET {path} does not show the list `{name}` a custom rule names"),
            ));
            continue;
        };
        let id = str_at(entry, "/id").unwrap_or_default().to_string();
        if str_at(entry, "/kind").is_some_and(|k| k != "ip") {
            lists.insert(
                name.clone(),
                IpList {
                    id: Some(id),
                    items: None,
                },
            );
            continue;
        }
        if read == MAX_LISTS {
            errors.push(error(
                "rules/lists",
                &[],
                ErrorKind::Other,
                format!("custom rules name more than {MAX_LISTS} IP lists; `{name}` was not read"),
            ));
            continue;
        }
        read += 1;
        let items_path = format!("{path}/{id}/items");
        let items = api
            .list_pages(&items_path, &[("per_page", LIST_PAGE)], 1)
            .await
            .and_then(|v| normalize_list_items(&v).map_err(|m| malformed(&items_path, m)));
        match items {
            Ok(items) => {
                lists.insert(
                    name.clone(),
                    IpList {
                        id: Some(id),
                        items: Some(items),
                    },
                );
            }
            Err(f) => errors.push(f.into_error("rules/lists", &[], permission)),
        }
    }
    (lists, errors)
}

fn malformed(path: &str, what: String) -> super::Failure {
    super::Failure {
        endpoint: format!("GET {path}"),
        kind: ErrorKind::Other,
        status: Some(200),
        codes: Vec::new(),
        detail: format!("unexpected response: {what}"),
        ray: None,
    }
}

/// `Some(why)` when a verify answer says the token cannot be used.
fn token_not_active(result: &Value) -> Option<String> {
    match str_at(result, "/status") {
        Some("active") => None,
        Some(other) => Some(format!(
            "the API token in {TOKEN_VAR} is {other}, not active: create a new read-only token"
        )),
        None => Some(format!(
            "the token check answered without a status: cannot tell whether the token in \
             {TOKEN_VAR} is active"
        )),
    }
}

async fn collect_dns(
    api: &Api,
    zone_id: &str,
    cfg: &CloudflareConfig,
) -> Result<Vec<Resource>, CollectionError> {
    let Some(host) = cfg
        .webhook_host
        .as_deref()
        .map(|h| h.trim().trim_end_matches('.'))
    else {
        return Err(error(
            "dns_records",
            &[kind::DNS_RECORD],
            ErrorKind::Other,
            "estate.toml names no webhook host: add [cloudflare] webhook_host = \
             \"webhook.example.com\""
                .into(),
        ));
    };
    let path = format!("/zones/{zone_id}/dns_records");
    let items = api
        .list(&path, &[("name", host), ("per_page", "100")])
        .await
        .map_err(|f| f.into_error("dns_records", &[kind::DNS_RECORD], "Zone › DNS › Read"))?;
    items
        .iter()
        .map(|v| normalize_dns_record(zone_id, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| {
            error(
                "dns_records",
                &[kind::DNS_RECORD],
                ErrorKind::Other,
                format!("GET {path}: {m}"),
            )
        })
}

/// Settings read, by name, and the errors of those that could not be. A failed setting makes
/// only the rules reading it unknown, so its error names no kind (the zone is still collected).
async fn collect_settings(
    api: &Api,
    zone_id: &str,
) -> (Vec<(&'static str, String)>, Vec<CollectionError>) {
    let paths: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("/zones/{zone_id}/settings/{s}"))
        .collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|p| api.get(p, &[], Auth::Token))).await;
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (name, answer) in SETTINGS.iter().zip(answers) {
        let got = answer
            .and_then(|env| normalize_setting(name, &env.result).map_err(|m| env.malformed(m)));
        match got {
            Ok(v) => values.push((*name, v)),
            Err(f) => errors.push(f.into_error(
                &format!("settings/{name}"),
                &[],
                "Zone › Zone Settings › Read",
            )),
        }
    }
    (values, errors)
}

/// The permission a phase's entry point needs.
fn phase_permission(phase: &str) -> &'static str {
    match phase {
        "http_config_settings" => "Zone › Config Rules › Read",
        "http_request_late_transform" => "Zone › Transform Rules › Read",
        "http_request_origin" => "Zone › Origin Rules › Read",
        _ => "Zone › Zone WAF › Read",
    }
}

/// Entry points by phase. `404` with code `10003` is a value: nothing is deployed in the phase.
async fn collect_phases(
    api: &Api,
    zone_id: &str,
) -> (BTreeMap<String, Phase>, Vec<CollectionError>) {
    let paths: Vec<String> = PHASES
        .iter()
        .map(|p| format!("/zones/{zone_id}/rulesets/phases/{p}/entrypoint"))
        .collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|p| api.get(p, &[], Auth::Token))).await;
    let mut phases = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, answer) in PHASES.iter().zip(answers) {
        let got =
            answer.and_then(|env| normalize_entrypoint(&env.result).map_err(|m| env.malformed(m)));
        match got {
            Ok(p) => {
                phases.insert(name.to_string(), p);
            }
            Err(f) if f.status == Some(404) && f.codes.contains(&10003) => {
                phases.insert(
                    name.to_string(),
                    Phase {
                        deployed: false,
                        rules: Vec::new(),
                    },
                );
            }
            Err(f) => {
                errors.push(f.into_error(&format!("rulesets/{name}"), &[], phase_permission(name)))
            }
        }
    }
    (phases, errors)
}
