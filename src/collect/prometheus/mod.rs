//! Prometheus and Alertmanager collection over their HTTP APIs: Prometheus's active scrape
//! targets, alerting rules and the Alertmanagers it sends to (three GETs), and Alertmanager's
//! running configuration (one GET of `/api/v2/status`, whose YAML holds the routing tree and the
//! receivers; secrets in it read `<secret>`). Four requests in all, beside the other collectors.
//!
//! Two rooms: this entry point (options, the allowlists [`PROMETHEUS_READS`] and
//! [`ALERTMANAGER_READS`], credentials, the reads and
//! their errors) and `normalize` (pure JSON/YAML → model). The HTTP layer is `collect::http`.
//!
//! What it must not do: write (GET only, on the allowlisted paths), guess (a read that fails
//! leaves its field `None` and a [`CollectionError`] says why), or let a credential reach any
//! message: the bearer token or `user:password` is a [`Secret`].

mod normalize;
#[cfg(test)]
mod tests;

use reqwest::header::HeaderValue;
use serde_json::Value;

use super::http::{self, Client, Read};
use super::Secret;
use crate::model::{
    kind, AlertmanagerServer, Attrs, CollectionError, ErrorKind, PrometheusServer, Resource,
};
pub use normalize::{
    normalize_alertmanager_config, normalize_alertmanagers, normalize_rules, normalize_silences,
    normalize_targets, AlertmanagerConfig,
};

/// What the collector reads of Prometheus.
pub const PROMETHEUS_READS: &[Read] = &[
    Read {
        path: "/api/v1/targets",
        needs: "-",
        needed_for: "the active scrape targets: is the RabbitMQ host's exporter scraped and up",
    },
    Read {
        path: "/api/v1/rules",
        needs: "-",
        needed_for: "the alerting rules: do they watch the queues and the node",
    },
    Read {
        path: "/api/v1/alertmanagers",
        needs: "-",
        needed_for: "which Alertmanagers receive the alerts",
    },
];

/// What the collector reads of Alertmanager.
pub const ALERTMANAGER_READS: &[Read] = &[
    Read {
        path: "/api/v2/status",
        needs: "-",
        needed_for:
            "the running routing tree and receivers: do the RabbitMQ alerts reach PagerDuty",
    },
    Read {
        path: "/api/v2/silences",
        needs: "-",
        needed_for: "the silences in force: is a RabbitMQ alert muted whatever its route",
    },
];

/// Environment variables of the optional credentials, per server.
pub const PROMETHEUS_BEARER_VAR: &str = "PROMETHEUS_BEARER_TOKEN";
pub const PROMETHEUS_BASIC_VAR: &str = "PROMETHEUS_BASIC_AUTH";
pub const ALERTMANAGER_BEARER_VAR: &str = "ALERTMANAGER_BEARER_TOKEN";
pub const ALERTMANAGER_BASIC_VAR: &str = "ALERTMANAGER_BASIC_AUTH";

/// The `iam-policy` section.
pub fn permissions_section() -> String {
    format!(
        "# Prometheus and Alertmanager (when estate.toml has [monitoring] and does not list them in\n\
         # not_used): read access to these paths; a bearer token in {PROMETHEUS_BEARER_VAR} /\n\
         # {ALERTMANAGER_BEARER_VAR}, or user:password in {PROMETHEUS_BASIC_VAR} /\n\
         # {ALERTMANAGER_BASIC_VAR}, when a proxy asks for one.\n# Prometheus:\n{}# Alertmanager:\n{}",
        http::reads_table(PROMETHEUS_READS),
        http::reads_table(ALERTMANAGER_READS)
    )
}

/// A server's optional credential.
#[derive(Clone, Debug)]
pub enum Credential {
    Bearer(Secret),
    /// `user:password`.
    Basic(Secret),
}

impl Credential {
    /// The credential of the environment: the bearer token, else `user:password`; `Err` says
    /// what is wrong (never the value).
    pub fn from_env(
        bearer_var: &str,
        bearer: Option<String>,
        basic_var: &str,
        basic: Option<String>,
    ) -> Result<Option<Credential>, String> {
        if let Some(t) = Secret::from_env(bearer_var, bearer, "a bearer token", 16)? {
            return Ok(Some(Credential::Bearer(t)));
        }
        let Some(b) = Secret::from_env(basic_var, basic, "user:password", 3)? else {
            return Ok(None);
        };
        if !b.expose().contains(':') {
            return Err(format!("{basic_var} is not user:password"));
        }
        Ok(Some(Credential::Basic(b)))
    }

    pub(super) fn auth(&self) -> Result<http::Auth, String> {
        use base64::Engine as _;
        let (value, secret) = match self {
            Credential::Bearer(t) => (format!("Bearer {}", t.expose()), t.clone()),
            Credential::Basic(b) => (
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(b.expose())
                ),
                b.clone(),
            ),
        };
        let mut header = HeaderValue::from_str(&value)
            .map_err(|_| "the credential cannot be sent in an HTTP header".to_string())?;
        header.set_sensitive(true);
        Ok(http::Auth { header, secret })
    }
}

/// Where and how to reach the two servers.
#[derive(Clone, Debug)]
pub struct Options {
    pub prometheus: Option<Credential>,
    pub alertmanager: Option<Credential>,
    /// Timeouts and `429` retries (a proxy may rate-limit; so can Prometheus's exporter-toolkit).
    pub limits: http::Limits,
    pub deadline: Option<super::Deadline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            prometheus: None,
            alertmanager: None,
            limits: http::Limits::self_hosted(),
            deadline: None,
        }
    }
}

/// The outcome of one collection.
#[derive(Debug, Default)]
pub struct Collected {
    pub resources: Vec<Resource>,
    pub errors: Vec<CollectionError>,
    /// Requests per server (`prometheus`, `alertmanager`).
    pub usage: Vec<(&'static str, crate::stats::ServiceCalls)>,
}

fn error(provider: &str, service: &str, kind: ErrorKind, message: String) -> CollectionError {
    let k = if provider == "prometheus" {
        kind::PROMETHEUS_SERVER
    } else {
        kind::ALERTMANAGER_SERVER
    };
    super::plane_error(provider, k, service, kind, message)
}

/// What `estate.toml` says of one server: audited with this URL, or audited with none.
pub enum Target<'a> {
    Url(&'a str),
    /// In the audit, but `[monitoring.<server>] url` is not set.
    NoUrl,
}

fn client(
    name: &'static str,
    what: &str,
    base: &str,
    cred: Option<&Credential>,
    opts: &Options,
) -> Result<Client, String> {
    let auth = cred.map(Credential::auth).transpose()?;
    Client::new(
        name,
        what,
        base,
        auth,
        Vec::new(),
        &["retry-after"],
        opts.limits,
    )
}

/// One GET of an allowlisted path; `data` of Prometheus's envelope, or Alertmanager's body.
async fn get(
    c: &Client,
    server: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Value, (ErrorKind, String)> {
    let reads = if server == "prometheus" {
        PROMETHEUS_READS
    } else {
        ALERTMANAGER_READS
    };
    let (status, v) = http::get_json(c, reads, path, query, error_detail).await?;
    if server == "alertmanager" {
        return Ok(v);
    }
    match (v.get("status").and_then(Value::as_str), v.get("data")) {
        (Some("success"), Some(data)) => Ok(data.clone()),
        _ => Err((
            ErrorKind::Other,
            c.redact(&format!(
                "{}: HTTP {status}, unexpected response: not a successful Prometheus answer \
                 with `data`",
                http::describe(path, query)
            )),
        )),
    }
}

/// An error body's detail: Prometheus's `{status: error, errorType, error}`, Alertmanager's
/// `{code, message}`.
fn error_detail(v: &Value) -> Option<String> {
    let msg = v
        .get("error")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .map(http::clean)?;
    Some(match v.get("errorType").and_then(Value::as_str) {
        Some(k) => format!("{k}: {msg}"),
        None => msg,
    })
}

/// Reads Prometheus (`prometheus`) and Alertmanager (`alertmanager`), each when audited.
pub async fn collect(
    opts: &Options,
    prometheus: Option<Target<'_>>,
    alertmanager: Option<Target<'_>>,
) -> Collected {
    let deadline = opts.deadline.as_ref();
    let (p, a) = tokio::join!(
        async {
            match prometheus {
                None => None,
                Some(t) => Some(super::within(deadline, read_prometheus(opts, t)).await),
            }
        },
        async {
            match alertmanager {
                None => None,
                Some(t) => Some(super::within(deadline, read_alertmanager(opts, t)).await),
            }
        }
    );
    let mut out = Collected::default();
    for (provider, got) in [("prometheus", p), ("alertmanager", a)] {
        match got {
            None => {}
            Some(None) => out.errors.push(error(
                provider,
                provider,
                ErrorKind::Other,
                format!("{provider} did not answer within the audit's --timeout"),
            )),
            Some(Some(c)) => {
                out.resources.extend(c.resources);
                out.errors.extend(c.errors);
                out.usage.extend(c.usage);
            }
        }
    }
    out
}

fn no_url(provider: &str) -> CollectionError {
    error(
        provider,
        "config",
        ErrorKind::Other,
        format!(
            "estate.toml's [monitoring] puts {provider} in the audit, but \
             [monitoring.{provider}] url is not set: give its URL, or list {provider} in \
             not_used"
        ),
    )
}

async fn read_prometheus(opts: &Options, target: Target<'_>) -> Collected {
    let mut out = Collected::default();
    let Target::Url(url) = target else {
        out.errors.push(no_url("prometheus"));
        return out;
    };
    let c = match client(
        "Prometheus",
        "[monitoring.prometheus] url",
        url,
        opts.prometheus.as_ref(),
        opts,
    ) {
        Ok(c) => c,
        Err(why) => {
            out.errors
                .push(error("prometheus", "config", ErrorKind::Other, why));
            return out;
        }
    };
    let (targets, rules, managers) = tokio::join!(
        get(&c, "prometheus", "/api/v1/targets", &[("state", "active")]),
        get(&c, "prometheus", "/api/v1/rules", &[("type", "alert")]),
        get(&c, "prometheus", "/api/v1/alertmanagers", &[]),
    );
    let mut server = PrometheusServer {
        url: Some(c.base().to_string()),
        ..Default::default()
    };
    let mut keep = |service: &str, got: Result<Value, (ErrorKind, String)>| match got {
        Ok(v) => Some(v),
        Err((kind, msg)) => {
            out.errors.push(error("prometheus", service, kind, msg));
            None
        }
    };
    let mut malformed = Vec::new();
    if let Some(v) = keep("targets", targets) {
        match normalize_targets(&v) {
            Ok(t) => server.targets = Some(t),
            Err(why) => malformed.push((
                "targets",
                format!("GET /api/v1/targets: unexpected response: {why}"),
            )),
        }
    }
    if let Some(v) = keep("rules", rules) {
        match normalize_rules(&v) {
            Ok(r) => server.alert_rules = Some(r),
            Err(why) => malformed.push((
                "rules",
                format!("GET /api/v1/rules: unexpected response: {why}"),
            )),
        }
    }
    if let Some(v) = keep("alertmanagers", managers) {
        match normalize_alertmanagers(&v) {
            Ok(m) => server.alertmanagers = Some(m),
            Err(why) => malformed.push((
                "alertmanagers",
                format!("GET /api/v1/alertmanagers: unexpected response: {why}"),
            )),
        }
    }
    for (service, msg) in malformed {
        out.errors
            .push(error("prometheus", service, ErrorKind::Other, msg));
    }
    out.resources.push(server_resource(
        "prometheus",
        c.base(),
        Attrs::PrometheusServer(server),
    ));
    out.usage.push(("prometheus", c.usage()));
    out
}

async fn read_alertmanager(opts: &Options, target: Target<'_>) -> Collected {
    let mut out = Collected::default();
    let Target::Url(url) = target else {
        out.errors.push(no_url("alertmanager"));
        return out;
    };
    let c = match client(
        "Alertmanager",
        "[monitoring.alertmanager] url",
        url,
        opts.alertmanager.as_ref(),
        opts,
    ) {
        Ok(c) => c,
        Err(why) => {
            out.errors
                .push(error("alertmanager", "config", ErrorKind::Other, why));
            return out;
        }
    };
    let mut server = AlertmanagerServer {
        url: Some(c.base().to_string()),
        ..Default::default()
    };
    match get(&c, "alertmanager", "/api/v2/status", &[]).await {
        Err((kind, msg)) => out.errors.push(error("alertmanager", "status", kind, msg)),
        Ok(v) => {
            server.cluster_status = v
                .pointer("/cluster/status")
                .and_then(Value::as_str)
                .map(str::to_string);
            match v.pointer("/config/original").and_then(Value::as_str) {
                None => out.errors.push(error(
                    "alertmanager",
                    "status",
                    ErrorKind::Other,
                    "GET /api/v2/status: unexpected response: no `config.original`".into(),
                )),
                Some(yaml) => match normalize_alertmanager_config(yaml) {
                    Ok(cfg) => {
                        server.route = Some(cfg.route);
                        server.receivers = Some(cfg.receivers);
                        server.inhibit_rules = Some(cfg.inhibit_rules);
                    }
                    Err(why) => out.errors.push(error(
                        "alertmanager",
                        "status",
                        ErrorKind::Other,
                        format!("GET /api/v2/status: the running configuration could not be read: {why}"),
                    )),
                },
            }
        }
    }
    // A silence mutes an alert whatever its route says: without them the routes prove nothing.
    match get(&c, "alertmanager", "/api/v2/silences", &[]).await {
        Err((kind, msg)) => out
            .errors
            .push(error("alertmanager", "silences", kind, msg)),
        Ok(v) => match normalize_silences(&v) {
            Ok(silences) => server.silences = Some(silences),
            Err(why) => out.errors.push(error(
                "alertmanager",
                "silences",
                ErrorKind::Other,
                c.redact(&format!(
                    "GET /api/v2/silences: unexpected response: {}",
                    crate::text::inert(&why)
                )),
            )),
        },
    }
    out.resources.push(server_resource(
        "alertmanager",
        c.base(),
        Attrs::AlertmanagerServer(server),
    ));
    out.usage.push(("alertmanager", c.usage()));
    out
}

fn server_resource(provider: &str, base: &str, attrs: Attrs) -> Resource {
    let mut r = Resource::new(format!("{provider}:{base}"), attrs);
    r.name = Some(base.to_string());
    r
}
