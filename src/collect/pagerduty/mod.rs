//! PagerDuty collection over the REST API v2 with `reqwest`: the far end of every alarm route.
//! It runs in two steps so that it costs the same few requests whatever the size of the
//! account: [`list`], beside the AWS and Cloudflare collections, reads every service with its
//! integrations (keys kept as digests only); [`finish`], once the alarm routes are known, keeps
//! the services whose integration keys the routes carry and reads their escalation policies
//! (one request each) and who is on call for them now (one listing for all). Three requests on
//! a spec-sized account (docs/design.md §6).
//!
//! Three rooms: `client` (the HTTP layer: the key, GET only on [`ENDPOINTS`], `429` retries,
//! offset pagination, error bodies), `normalize` (pure JSON → model) and this entry point.
//!
//! What it must not do: write (GET only, on the allowlisted paths), keep an integration key (a
//! digest only), guess (a policy or an on-call list that could not be read stays `None`, and a
//! [`CollectionError`] says why), or let the API key reach any message or `Debug` output.

mod client;
mod normalize;
#[cfg(test)]
mod tests;

use super::http::{Limits, Read};
use super::Secret;
use crate::model::{kind, Attrs, CollectionError, ErrorKind, Resource};
use client::Api;
pub use client::Failure;
pub use normalize::{normalize_escalation_rules, normalize_oncalls, normalize_service};
use std::collections::{BTreeMap, BTreeSet};

/// Environment variable holding the read-only REST API key.
pub const TOKEN_VAR: &str = "PAGERDUTY_API_TOKEN";
/// The length of a PagerDuty REST API key; a shorter value in [`TOKEN_VAR`] is refused at start.
pub const TOKEN_LEN: usize = 20;
/// Escalation policies read in one collection; more (services of the routes with that many
/// policies) leave the rest unknown rather than cost unbounded requests.
pub const MAX_POLICIES: usize = 20;

/// Everything the collector reads, with the OAuth scope each needs (`x-pd-requires-scope`).
pub const ENDPOINTS: &[Read] = &[
    Read {
        path: "/services",
        needs: "services.read",
        needed_for:
            "the services and their integrations, to find the one each alarm route's key belongs to",
    },
    Read {
        path: "/escalation_policies/{id}",
        needs: "escalation_policies.read",
        needed_for: "each routed service's escalation rules and their targets",
    },
    Read {
        path: "/oncalls",
        needs: "oncalls.read",
        needed_for: "who is on call now for those escalation policies",
    },
];

/// Whether `path` is one of [`ENDPOINTS`].
pub(crate) fn allowed(path: &str) -> bool {
    super::http::allowed(ENDPOINTS, path)
}

/// The `iam-policy` section: what the key may do.
pub fn permissions_section() -> String {
    format!(
        "# PagerDuty (when estate.toml has [monitoring] and does not list pagerduty in not_used):\n\
         # a read-only REST API key (or a scoped OAuth token with the scopes below) in {TOKEN_VAR}.\n{}",
        super::http::reads_table(ENDPOINTS)
    )
}

/// Where and how to reach the API.
#[derive(Clone, Debug)]
pub struct Options {
    /// `None`: no key configured; nothing is requested and PagerDuty's side is unknown.
    pub token: Option<Secret>,
    /// Timeouts and `429` retries (waits from `ratelimit-reset`).
    pub limits: Limits,
    /// Items per page (PagerDuty's largest is 100).
    pub page_limit: u32,
    pub deadline: Option<super::Deadline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            limits: Limits::default(),
            page_limit: 100,
            deadline: None,
        }
    }
}

/// The outcome of one collection.
pub type Collected = super::SharedPart;

/// What [`list`] read: the client and every service with an integration key, or why not.
#[derive(Debug)]
pub struct Listing {
    api: Option<Api>,
    services: Result<Vec<Resource>, CollectionError>,
}

fn error(service: &str, kind: ErrorKind, message: String) -> CollectionError {
    super::plane_error("pagerduty", kind::PAGERDUTY_SERVICE, service, kind, message)
}

/// The collection error of a failed call; an access problem names the scope it needs.
fn failed(service: &str, f: Failure, scope: &str) -> CollectionError {
    let mut message = f.to_string();
    if f.kind == ErrorKind::AccessDenied {
        message.push_str(&format!(
            ": the key in {TOKEN_VAR} was refused; it needs read access ({scope})"
        ));
    }
    error(service, f.kind, message)
}

/// Step one: every service of the account with its integrations.
pub async fn list(opts: &Options, base: &str) -> Listing {
    let Some(token) = opts.token.clone().filter(|t| !t.is_empty()) else {
        return Listing {
            api: None,
            services: Err(error(
                "api_key",
                ErrorKind::AccessDenied,
                format!(
                    "{TOKEN_VAR} is not set, so PagerDuty was not queried: estate.toml's \
                     [monitoring] puts PagerDuty in the audit; create a read-only REST API key \
                     and export it as {TOKEN_VAR} (or list pagerduty in [monitoring] not_used)"
                ),
            )),
        };
    };
    let api = match Api::new(opts, base, token) {
        Ok(api) => api,
        Err(msg) => {
            return Listing {
                api: None,
                services: Err(error("api", ErrorKind::Other, msg)),
            }
        }
    };
    let read = super::within(
        opts.deadline.as_ref(),
        api.list("/services", "services", &[("include[]", "integrations")]),
    )
    .await;
    let services = match read {
        None => Err(timed_out(opts)),
        Some(Err(f)) => Err(failed("services", f, "services.read")),
        Some(Ok(items)) => items
            .iter()
            .map(normalize_service)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| {
                error(
                    "services",
                    ErrorKind::Other,
                    format!("GET /services: unexpected response: {why}"),
                )
            }),
    };
    Listing {
        api: Some(api),
        services,
    }
}

fn timed_out(opts: &Options) -> CollectionError {
    let mut e = match &opts.deadline {
        Some(d) => d.error("pagerduty", "pagerduty", &[kind::PAGERDUTY_SERVICE], None),
        None => error("pagerduty", ErrorKind::Other, "timed out".into()),
    };
    e.provider = "pagerduty".into();
    e
}

/// Step two: the services whose integration keys are among `digests` (the alarm routes' keys),
/// with their escalation policies and who is on call now.
pub async fn finish(listing: Listing, digests: &BTreeSet<String>, opts: &Options) -> Collected {
    let mut out = Collected::default();
    let services = match listing.services {
        Ok(s) => s,
        Err(e) => {
            out.errors.push(e);
            if let Some(api) = &listing.api {
                out.usage = api.usage();
            }
            return out;
        }
    };
    let Some(api) = listing.api else {
        return out;
    };
    let mut kept: Vec<Resource> = services
        .into_iter()
        .filter(|r| {
            service(r).is_some_and(|s| {
                s.integrations
                    .iter()
                    .any(|i| i.key_digest.as_ref().is_some_and(|d| digests.contains(d)))
            })
        })
        .collect();
    kept.sort_by(|a, b| a.id.cmp(&b.id));
    let policies: BTreeSet<String> = kept
        .iter()
        .filter_map(|r| service(r)?.escalation_policy_id.clone())
        .collect();
    let deadline = opts.deadline.as_ref();
    let read = super::within(deadline, read_policies(&api, &policies)).await;
    let (rules, oncalls) = match read {
        Some(found) => found,
        None => {
            out.errors.push(timed_out(opts));
            (BTreeMap::new(), Err(()))
        }
    };
    let (rules, errors) = rules.into_iter().fold(
        (BTreeMap::new(), Vec::new()),
        |(mut ok, mut errs), (id, r)| {
            match r {
                Ok(rules) => {
                    ok.insert(id, rules);
                }
                Err(e) => errs.push(e),
            }
            (ok, errs)
        },
    );
    out.errors.extend(errors);
    let oncalls = match oncalls {
        Ok(Ok(map)) => Some(map),
        Ok(Err(e)) => {
            out.errors.push(e);
            None
        }
        Err(()) => None,
    };
    for r in &mut kept {
        if let Attrs::PagerDutyService(s) = &mut r.attrs {
            let Some(policy) = s.escalation_policy_id.clone() else {
                continue;
            };
            s.escalation_rules = rules.get(&policy).cloned();
            s.on_call_now = oncalls
                .as_ref()
                .map(|m| m.get(&policy).cloned().unwrap_or_default());
        }
    }
    out.resources = kept;
    out.usage = api.usage();
    out
}

type Policies = BTreeMap<String, Result<Vec<crate::model::EscalationRule>, CollectionError>>;
type OnCalls = Result<BTreeMap<String, Vec<crate::model::OnCall>>, CollectionError>;

/// Each policy's rules (at most [`MAX_POLICIES`] read) and one on-call listing for them all.
async fn read_policies(api: &Api, ids: &BTreeSet<String>) -> (Policies, Result<OnCalls, ()>) {
    let mut rules = Policies::new();
    for (n, id) in ids.iter().enumerate() {
        if n >= MAX_POLICIES {
            rules.insert(
                id.clone(),
                Err(error(
                    "escalation_policies",
                    ErrorKind::Other,
                    format!(
                        "the alarm routes reach services of more than {MAX_POLICIES} escalation \
                         policies; {id} and the rest were not read"
                    ),
                )),
            );
            continue;
        }
        let path = format!("/escalation_policies/{id}");
        let got = match api.get(&path, &[]).await {
            Err(f) => Err(failed("escalation_policies", f, "escalation_policies.read")),
            Ok(v) => v
                .get("escalation_policy")
                .ok_or_else(|| "no `escalation_policy` object".to_string())
                .and_then(normalize_escalation_rules)
                .map_err(|why| {
                    error(
                        "escalation_policies",
                        ErrorKind::Other,
                        format!("GET {path}: unexpected response: {why}"),
                    )
                }),
        };
        rules.insert(id.clone(), got);
    }
    if ids.is_empty() {
        return (rules, Ok(Ok(BTreeMap::new())));
    }
    let mut query: Vec<(&str, &str)> = ids
        .iter()
        .take(MAX_POLICIES)
        .map(|id| ("escalation_policy_ids[]", id.as_str()))
        .collect();
    query.push(("time_zone", "UTC"));
    let oncalls = match api.list("/oncalls", "oncalls", &query).await {
        Ok(entries) => Ok(normalize_oncalls(&entries)),
        Err(f) => Err(failed("oncalls", f, "oncalls.read")),
    };
    (rules, Ok(oncalls))
}

fn service(r: &Resource) -> Option<&crate::model::PagerDutyService> {
    match &r.attrs {
        Attrs::PagerDutyService(s) => Some(s),
        _ => None,
    }
}

/// The digests of the integration keys the routes carry (SNS subscriptions' URLs, Grafana's
/// PagerDuty contact points, Zabbix's media types): what [`finish`] looks for.
pub fn route_digests<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in resources {
        match &r.attrs {
            Attrs::SnsSubscription(s) => out.extend(s.endpoint_key_digest.clone()),
            Attrs::GrafanaInstance(g) => out.extend(
                g.contact_points
                    .iter()
                    .flatten()
                    .filter_map(|c| c.key_digest.clone()),
            ),
            Attrs::ZabbixServer(z) => out.extend(
                z.media_types
                    .iter()
                    .flatten()
                    .filter_map(|m| m.key_digest.clone()),
            ),
            _ => {}
        }
    }
    out
}
