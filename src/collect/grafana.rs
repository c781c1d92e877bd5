//! Grafana collection over its HTTP API with a service-account token (`GRAFANA_TOKEN`): the data
//! sources, the dashboards (`/api/search`, paged), the Grafana-managed alert rules, the contact
//! points, the notification policy tree, and the contact points' export with `decrypt=true`, read
//! only to turn each PagerDuty integration key into its digest at once (the key is kept nowhere).
//! Six GETs on a spec-sized organisation, beside the other collectors.
//!
//! What it must not do: write (GET only, on [`ENDPOINTS`]), guess (a read that fails leaves its
//! field `None`, and a [`CollectionError`] says why; an export the token may not decrypt leaves
//! only the keys unknown), or let the token or a decrypted key reach any message.

use serde_json::Value;

use super::http::{self, Client, Read};
use super::{key_digest, Secret};
use crate::model::{
    kind, AlertRoute, Attrs, CollectionError, ErrorKind, GrafanaAlertRule, GrafanaContactPoint,
    GrafanaDashboard, GrafanaDataSource, GrafanaInstance, LabelMatcher, Resource,
};

/// Environment variable holding the service-account token.
pub const TOKEN_VAR: &str = "GRAFANA_TOKEN";
/// Shorter than any Grafana token (`glsa_…` service-account tokens are longer); refused at start.
pub const TOKEN_LEN: usize = 20;
/// Dashboards a page of `/api/search` holds (Grafana's largest is 5000).
const PAGE: usize = 1000;
/// Pages of dashboards read before refusing a partial list.
const MAX_PAGES: usize = 20;

/// Everything the collector reads.
pub const ENDPOINTS: &[Read] = &[
    Read {
        path: "/api/datasources",
        needs: "datasources:read",
        needed_for: "a CloudWatch data source for the estate's region",
    },
    Read {
        path: "/api/search",
        needs: "dashboards:read, folders:read",
        needed_for: "a dashboard for each spec component",
    },
    Read {
        path: "/api/v1/provisioning/alert-rules",
        needs: "alert.provisioning:read",
        needed_for: "the alert rules for RabbitMQ's queues and node",
    },
    Read {
        path: "/api/v1/provisioning/contact-points",
        needs: "alert.provisioning:read",
        needed_for: "which contact points are PagerDuty's",
    },
    Read {
        path: "/api/v1/provisioning/policies",
        needs: "alert.provisioning:read",
        needed_for: "the notification policy tree the alerts follow",
    },
    Read {
        path: "/api/v1/provisioning/contact-points/export",
        needs: "alert.provisioning.secrets:read",
        needed_for: "the PagerDuty keys' digests (decrypt=true; the keys are kept nowhere)",
    },
];

/// The `iam-policy` section.
pub fn permissions_section() -> String {
    format!(
        "# Grafana (when estate.toml has [monitoring] and does not list grafana in not_used): a\n\
         # service account with these permissions (the Viewer role and alert.provisioning:read,\n\
         # alert.provisioning.secrets:read), its token in {TOKEN_VAR}.\n{}",
        http::reads_table(ENDPOINTS)
    )
}

/// Where and how to reach Grafana.
#[derive(Clone, Debug)]
pub struct Options {
    pub token: Option<Secret>,
    /// Timeouts and `429` retries (a proxy or Grafana Cloud may rate-limit).
    pub limits: http::Limits,
    /// Dashboards per page of `/api/search`.
    pub page: usize,
    pub deadline: Option<super::Deadline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            limits: http::Limits::self_hosted(),
            page: PAGE,
            deadline: None,
        }
    }
}

/// The outcome of one collection.
pub type Collected = super::SharedPart;

fn error(service: &str, kind: ErrorKind, message: String) -> CollectionError {
    super::plane_error("grafana", kind::GRAFANA_INSTANCE, service, kind, message)
}

/// One GET of an allowlisted path: its JSON, or what went wrong (with the permission it needs).
async fn get(c: &Client, path: &str, query: &[(&str, &str)]) -> Result<Value, (ErrorKind, String)> {
    let error_detail = |v: &Value| v.get("message").and_then(Value::as_str).map(http::clean);
    match http::get_json(c, ENDPOINTS, path, query, error_detail).await {
        Ok((_, v)) => Ok(v),
        Err((ErrorKind::AccessDenied, mut m)) => {
            if let Some(e) = ENDPOINTS
                .iter()
                .find(|e| http::allowed(std::slice::from_ref(e), path))
            {
                m.push_str(&format!(
                    ": the token in {TOKEN_VAR} was refused; it needs {}",
                    e.needs
                ));
            }
            Err((ErrorKind::AccessDenied, m))
        }
        Err(other) => Err(other),
    }
}

fn string_at(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).map(str::to_string)
}

/// `GET /api/datasources`.
pub fn normalize_datasources(v: &Value) -> Result<Vec<GrafanaDataSource>, String> {
    let items = v.as_array().ok_or("the data sources are not a list")?;
    Ok(items
        .iter()
        .map(|d| GrafanaDataSource {
            name: string_at(d, "/name"),
            source_type: string_at(d, "/type"),
            region: string_at(d, "/jsonData/defaultRegion"),
        })
        .collect())
}

/// One page of `GET /api/search?type=dash-db`.
pub fn normalize_dashboards(v: &Value) -> Result<Vec<GrafanaDashboard>, String> {
    let items = v.as_array().ok_or("the search answer is not a list")?;
    Ok(items
        .iter()
        .map(|d| GrafanaDashboard {
            title: string_at(d, "/title"),
            tags: d
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            folder: string_at(d, "/folderTitle"),
        })
        .collect())
}

/// `GET /api/v1/provisioning/alert-rules`.
pub fn normalize_alert_rules(v: &Value) -> Result<Vec<GrafanaAlertRule>, String> {
    let items = v.as_array().ok_or("the alert rules are not a list")?;
    Ok(items
        .iter()
        .map(|r| GrafanaAlertRule {
            uid: string_at(r, "/uid"),
            title: string_at(r, "/title"),
            group: string_at(r, "/ruleGroup"),
            paused: r.get("isPaused").and_then(Value::as_bool),
            no_data_state: string_at(r, "/noDataState"),
            labels: r
                .get("labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            queries: r
                .get("data")
                .and_then(Value::as_array)
                .map(|d| {
                    d.iter()
                        .filter_map(|q| string_at(q, "/model/expr"))
                        .collect()
                })
                .unwrap_or_default(),
            receiver: string_at(r, "/notification_settings/receiver"),
            mute_time_intervals: names(r.pointer("/notification_settings/mute_time_intervals")),
            active_time_intervals: names(r.pointer("/notification_settings/active_time_intervals")),
        })
        .collect())
}

/// `GET /api/v1/provisioning/contact-points`, with the digests of the export's PagerDuty keys
/// (`None`: the export was not read).
pub fn normalize_contact_points(
    v: &Value,
    export: Option<&Value>,
) -> Result<Vec<GrafanaContactPoint>, String> {
    let items = v.as_array().ok_or("the contact points are not a list")?;
    // name → the digest of each PagerDuty key under it.
    let keys: Option<Vec<(String, String)>> = export.map(|e| {
        e.get("contactPoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|cp| {
                let name = string_at(cp, "/name").unwrap_or_default();
                cp.get("receivers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.get("type").and_then(Value::as_str) == Some("pagerduty"))
                    .filter_map(move |r| {
                        let key = r.pointer("/settings/integrationKey")?.as_str()?;
                        Some((name.clone(), key_digest(key)))
                    })
            })
            .collect()
    });
    Ok(items
        .iter()
        .filter_map(|c| {
            let name = string_at(c, "/name")?;
            let integration_type = string_at(c, "/type");
            let key_digest = match (&keys, integration_type.as_deref()) {
                (Some(keys), Some("pagerduty")) => keys
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, d)| d.clone()),
                _ => None,
            };
            Some(GrafanaContactPoint {
                name,
                integration_type,
                key_digest,
            })
        })
        .collect())
}

/// `GET /api/v1/provisioning/policies`: the tree, with `object_matchers` as matchers.
pub fn normalize_policy(v: &Value) -> Result<AlertRoute, String> {
    if !v.is_object() {
        return Err("the policy tree is not an object".into());
    }
    Ok(route(v))
}

fn route(v: &Value) -> AlertRoute {
    let matchers = v
        .get("object_matchers")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    match m
                        .as_array()
                        .map(|t| t.iter().map(Value::as_str).collect::<Vec<_>>())
                    {
                        Some(t) if t.len() == 3 && t.iter().all(Option::is_some) => LabelMatcher {
                            name: t[0].unwrap_or_default().to_string(),
                            op: t[1].unwrap_or_default().to_string(),
                            value: t[2].unwrap_or_default().to_string(),
                        },
                        // Unreadable: `link` takes it as unknown.
                        _ => LabelMatcher {
                            name: m.to_string(),
                            op: "?".into(),
                            value: String::new(),
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    AlertRoute {
        receiver: string_at(v, "/receiver"),
        matchers,
        continue_matching: v.get("continue").and_then(Value::as_bool).unwrap_or(false),
        routes: v
            .get("routes")
            .and_then(Value::as_array)
            .map(|rs| rs.iter().map(route).collect())
            .unwrap_or_default(),
        mute_time_intervals: names(v.get("mute_time_intervals")),
        active_time_intervals: names(v.get("active_time_intervals")),
    }
}

/// A policy's list of time interval names. An entry that is not a name keeps its JSON text: the
/// policy is still timed, which is what `link` must know.
fn names(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        Some(other) => vec![other.to_string()],
    }
}

/// Reads Grafana at `url` (`None`: in the audit, but `[monitoring.grafana] url` is not set).
pub async fn collect(opts: &Options, url: Option<&str>) -> Collected {
    let mut out = Collected::default();
    let (url, token) = match http::url_and_token(
        ("grafana", "Grafana"),
        url,
        "URL",
        opts.token.as_ref(),
        (
            TOKEN_VAR,
            "create a service account with the permissions `estate-audit iam-policy` lists and \
             export its token",
        ),
    ) {
        Ok(got) => got,
        Err((service, kind, why)) => {
            out.errors.push(error(service, kind, why));
            return out;
        }
    };
    let client = http::bearer_client(
        "Grafana",
        "[monitoring.grafana] url",
        url,
        token,
        TOKEN_VAR,
        opts.limits,
    );
    let c = match client {
        Ok(c) => c,
        Err(why) => {
            out.errors.push(error("config", ErrorKind::Other, why));
            return out;
        }
    };
    let read = super::within(opts.deadline.as_ref(), read_all(&c, opts.page, &mut out)).await;
    match read {
        Some(g) => out.resources.push({
            let mut r = Resource::new(format!("grafana:{}", c.base()), Attrs::GrafanaInstance(g));
            r.name = Some(c.base().to_string());
            r
        }),
        None => out.errors.push(error(
            "grafana",
            ErrorKind::Other,
            "Grafana did not answer within the audit's --timeout".into(),
        )),
    }
    out.usage = c.usage();
    out
}

async fn read_all(c: &Client, page: usize, out: &mut Collected) -> GrafanaInstance {
    let page_text = page.max(1).to_string();
    let (sources, rules, points, policy, export, dashboards) = tokio::join!(
        get(c, "/api/datasources", &[]),
        get(c, "/api/v1/provisioning/alert-rules", &[]),
        get(c, "/api/v1/provisioning/contact-points", &[]),
        get(c, "/api/v1/provisioning/policies", &[]),
        get(
            c,
            "/api/v1/provisioning/contact-points/export",
            &[("format", "json"), ("decrypt", "true")]
        ),
        dashboards(c, &page_text),
    );
    let mut g = GrafanaInstance {
        url: Some(c.base().to_string()),
        ..Default::default()
    };
    let mut keep = |service: &str, got: Result<Value, (ErrorKind, String)>| match got {
        Ok(v) => Some(v),
        Err((kind, msg)) => {
            out.errors.push(error(service, kind, msg));
            None
        }
    };
    let sources = keep("datasources", sources);
    let rules = keep("alert_rules", rules);
    let points = keep("contact_points", points);
    let policy = keep("policies", policy);
    let export = keep("contact_points_export", export);
    match dashboards {
        Ok(d) => g.dashboards = Some(d),
        Err((kind, msg)) => out.errors.push(error("search", kind, msg)),
    }
    let mut malformed = |service: &str, path: &str, why: String| {
        out.errors.push(error(
            service,
            ErrorKind::Other,
            format!("GET {path}: unexpected response: {why}"),
        ))
    };
    if let Some(v) = sources {
        match normalize_datasources(&v) {
            Ok(d) => g.datasources = Some(d),
            Err(why) => malformed("datasources", "/api/datasources", why),
        }
    }
    if let Some(v) = rules {
        match normalize_alert_rules(&v) {
            Ok(r) => g.alert_rules = Some(r),
            Err(why) => malformed("alert_rules", "/api/v1/provisioning/alert-rules", why),
        }
    }
    if let Some(v) = points {
        match normalize_contact_points(&v, export.as_ref()) {
            Ok(p) => g.contact_points = Some(p),
            Err(why) => malformed("contact_points", "/api/v1/provisioning/contact-points", why),
        }
    }
    if let Some(v) = policy {
        match normalize_policy(&v) {
            Ok(p) => g.policy = Some(p),
            Err(why) => malformed("policies", "/api/v1/provisioning/policies", why),
        }
    }
    g
}

/// Every dashboard, page by page until a short page; an answer that is not a list, or a search
/// that does not end, is an error (never a partial list).
async fn dashboards(c: &Client, page: &str) -> Result<Vec<GrafanaDashboard>, (ErrorKind, String)> {
    let size: usize = page.parse().unwrap_or(PAGE);
    let mut all = Vec::new();
    for n in 1..=MAX_PAGES {
        let n_text = n.to_string();
        let v = get(
            c,
            "/api/search",
            &[("type", "dash-db"), ("limit", page), ("page", &n_text)],
        )
        .await?;
        let items = normalize_dashboards(&v).map_err(|why| {
            (
                ErrorKind::Other,
                format!("GET /api/search: unexpected response: {why}"),
            )
        })?;
        let short = items.len() < size;
        all.extend(items);
        if short {
            return Ok(all);
        }
    }
    Err((
        ErrorKind::Other,
        format!(
            "GET /api/search: the search did not end after {MAX_PAGES} pages; refusing a partial \
             list"
        ),
    ))
}
