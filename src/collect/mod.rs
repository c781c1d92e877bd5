//! Live collection: the only network code of the crate. It reads the deployed estate from the
//! providers' APIs (read-only: GET requests, never a write) and returns a plain [`Inventory`];
//! HTTP and SDK types never leave this module, and nothing after it is asynchronous. A provider
//! or service that cannot be read becomes a [`CollectionError`] (so its rules are `unknown`),
//! never an absence that could pass. Credentials live in [`Secret`] and appear in no output,
//! message or `Debug` text.
//!
//! Each provider has its own submodule (`cloudflare`, and `aws` next to it) with an `async fn
//! collect(...)`; [`collect`] runs them together and assembles one inventory per AWS account.

pub mod aws;
pub mod cloudflare;
pub mod grafana;
pub mod http;
pub mod loki;
pub mod pagerduty;
pub mod prometheus;
pub mod zabbix;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{self, EstateConfig};
use crate::model::{CollectionError, ErrorKind, Inventory};
use crate::stats::ServiceCalls;

/// `--timeout` when none is given: generous for a large estate read through throttled APIs, and
/// still a bound, so a scheduled job can never hang on an endpoint that stops answering.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The end of the collection's time (`--timeout`). Each service is read under it; one still
/// pending when it passes is abandoned and becomes a [`CollectionError`] (its rules `unknown`),
/// while the services that finished keep what they read. The per-request timeouts of each
/// client stay: this bounds the whole, they bound each call.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: tokio::time::Instant,
    /// The `--timeout` it came from, for the message.
    timeout: Duration,
}

impl Deadline {
    /// `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Deadline {
            at: tokio::time::Instant::now() + timeout,
            timeout,
        }
    }

    /// Runs `fut` until it ends or the deadline passes (`None`).
    pub async fn run<T>(&self, fut: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.at, fut).await.ok()
    }

    /// The collection error of a read the deadline cut off.
    pub fn error(
        &self,
        provider: &str,
        service: &str,
        kinds: &[&str],
        region: Option<&str>,
    ) -> CollectionError {
        CollectionError {
            provider: provider.into(),
            service: service.into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            kind: ErrorKind::Other,
            message: format!(
                "{service} timed out: it did not answer within the audit's {} --timeout",
                human_secs(self.timeout)
            ),
            region: region.map(str::to_string),
            account: None,
        }
    }
}

/// `5 s`, `1.5 s`.
fn human_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s:.1} s")
    }
}

/// Runs `fut` under `deadline` (when there is one); `None` when the deadline cut it off.
pub async fn within<T>(deadline: Option<&Deadline>, fut: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(d) => d.run(fut).await,
        None => Some(fut.await),
    }
}

/// A credential. `Debug` and `Display` print `***`; only the HTTP layer reads the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential; surrounding whitespace (a newline from a file or `echo`) is dropped.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().trim().to_string())
    }

    /// A credential from environment variable `var`, checked before anything is requested:
    /// unset or empty is none; one shorter than `min` characters, or with a space, quote or
    /// control character inside, is refused with what is wrong (never the value). A value that
    /// short is no credential (a paste of the wrong thing) and could not be masked either: every
    /// occurrence of it in an unrelated message would be.
    pub fn from_env(
        var: &str,
        value: Option<String>,
        what: &str,
        min: usize,
    ) -> Result<Option<Secret>, String> {
        let Some(secret) = value.map(Secret::new).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let len = secret.0.chars().count();
        if len < min {
            return Err(format!(
                "{var} holds {len} character{} where {what} has at least {min}: give the \
                 credential itself (it is never shown, and a value this short could not be \
                 masked in messages)",
                if len == 1 { "" } else { "s" }
            ));
        }
        if let Some(c) = secret
            .0
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\''))
        {
            let which = match c {
                '"' | '\'' => "a quote",
                c if c.is_whitespace() => "a space",
                _ => "a control character",
            };
            return Err(format!(
                "{var} has {which} inside: {what} has none (quoted twice, or two values in one?)"
            ));
        }
        Ok(Some(secret))
    }

    /// The credential itself, for the request that needs it and for redaction.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the whole credential replaced by `***`. Only the whole
    /// value is masked, never a part of it or the characters it is made of: a credential is
    /// long enough ([`Secret::from_env`]) that it does not occur in a message by chance.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(self.0.as_str(), "***")
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How a key is matched across providers without being kept: `sha256:` and the first 16 hex
/// digits of its SHA-256. An integration key is random (PagerDuty's are 32 hex digits), so the
/// digest tells nothing of it, and two keys that differ never share one by chance in an estate.
pub fn key_digest(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(key.trim().as_bytes());
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// What a live collection needs: the estate identification, the clock and each provider's
/// settings (credentials, endpoints, limits).
#[derive(Clone, Debug)]
pub struct CollectOptions {
    pub estate: EstateConfig,
    /// When the collection runs (the caller's clock).
    pub now: DateTime<Utc>,
    pub cloudflare: cloudflare::Options,
    pub aws: aws::AwsOptions,
    pub pagerduty: pagerduty::Options,
    pub prometheus: prometheus::Options,
    pub grafana: grafana::Options,
    pub zabbix: zabbix::Options,
    pub loki: loki::Options,
    /// The whole collection's time (`--timeout`); [`DEFAULT_TIMEOUT`] when `None`.
    pub timeout: Option<Duration>,
}

/// What a live collection produced: one inventory per AWS account (the caller's alone unless
/// roles were named), Cloudflare in the first, and the API usage per service (`--stats`).
#[derive(Clone, Debug, Default)]
pub struct Collected {
    pub inventories: Vec<Inventory>,
    pub services: BTreeMap<String, ServiceCalls>,
}

/// What the collector of a part that belongs to no AWS account read (PagerDuty, Grafana, Loki):
/// its resources, its collection errors and its requests.
#[derive(Debug, Default)]
pub struct SharedPart {
    pub resources: Vec<model::Resource>,
    pub errors: Vec<CollectionError>,
    pub usage: ServiceCalls,
}

/// A collection error of a monitoring-plane provider: over its one kind, in no account or region.
pub(crate) fn plane_error(
    provider: &str,
    kind_name: &str,
    service: &str,
    kind: ErrorKind,
    message: String,
) -> CollectionError {
    CollectionError {
        provider: provider.into(),
        service: service.into(),
        kinds: vec![kind_name.to_string()],
        kind,
        message,
        region: None,
        account: None,
    }
}

impl Collected {
    /// A part that belongs to no AWS account (Cloudflare, the monitoring plane): its resources and
    /// errors go with the first inventory, its requests to `--stats` as `service` (when it made
    /// any).
    fn add_shared(&mut self, service: &str, part: SharedPart) {
        if part.usage.calls > 0 {
            self.services
                .entry(service.into())
                .or_default()
                .add(part.usage);
        }
        let first = &mut self.inventories[0];
        first.resources.extend(part.resources);
        first.collection_errors.extend(part.errors);
    }
}

/// Collects the whole estate. Never fails: whatever could not be read is a collection error in
/// the inventory of the account it belongs to.
pub async fn collect(opts: &CollectOptions) -> Collected {
    // One deadline for both providers, from the start of the collection.
    let deadline = Deadline::after(opts.timeout.unwrap_or(DEFAULT_TIMEOUT));
    let aws_opts = aws::AwsOptions {
        deadline: Some(deadline),
        ..opts.aws.clone()
    };
    let cf_opts = cloudflare::Options {
        deadline: Some(deadline),
        ..opts.cloudflare.clone()
    };
    let pd_opts = pagerduty::Options {
        deadline: Some(deadline),
        ..opts.pagerduty.clone()
    };
    let pd_listing = async {
        match &opts.estate.monitoring {
            Some(m) if opts.estate.audits_pagerduty() => {
                Some(pagerduty::list(&pd_opts, &m.pagerduty.api).await)
            }
            _ => None,
        }
    };
    let prom_opts = prometheus::Options {
        deadline: Some(deadline),
        ..opts.prometheus.clone()
    };
    fn server<'u>(
        estate: &EstateConfig,
        provider: model::MonitoringProvider,
        url: Option<&'u model::ServerUrl>,
    ) -> Option<prometheus::Target<'u>> {
        estate.audits(provider).then_some(match url {
            Some(u) => prometheus::Target::Url(u.url.as_str()),
            None => prometheus::Target::NoUrl,
        })
    }
    let monitoring = opts.estate.monitoring.as_ref();
    let prom = prometheus::collect(
        &prom_opts,
        server(
            &opts.estate,
            model::MonitoringProvider::Prometheus,
            monitoring.and_then(|m| m.prometheus.as_ref()),
        ),
        server(
            &opts.estate,
            model::MonitoringProvider::Alertmanager,
            monitoring.and_then(|m| m.alertmanager.as_ref()),
        ),
    );
    let graf_opts = grafana::Options {
        deadline: Some(deadline),
        ..opts.grafana.clone()
    };
    let graf = async {
        if !opts.estate.audits(model::MonitoringProvider::Grafana) {
            return None;
        }
        let url = monitoring
            .and_then(|m| m.grafana.as_ref())
            .map(|u| u.url.as_str());
        Some(grafana::collect(&graf_opts, url).await)
    };
    let loki_opts = loki::Options {
        deadline: Some(deadline),
        ..opts.loki.clone()
    };
    let logs = async {
        if !opts.estate.audits(model::MonitoringProvider::Loki) {
            return None;
        }
        let config = monitoring.and_then(|m| m.loki.as_ref());
        Some(loki::collect(&loki_opts, config, opts.now).await)
    };
    // Every provider at once: the audit waits on the network, not on any one collector.
    // PagerDuty's second step needs the routes' keys (the alarms', Grafana's contact points'),
    // so it follows the AWS and Grafana collections.
    let (aws, cf, pd, prom, graf, logs) = tokio::join!(
        aws::collect_accounts(&aws_opts, &opts.estate),
        cloudflare::collect(&cf_opts, &opts.estate.cloudflare),
        pd_listing,
        prom,
        graf,
        logs
    );
    let mut out = Collected::default();
    for collection in aws {
        for (name, calls) in &collection.services {
            out.services.entry(name.clone()).or_default().add(*calls);
        }
        let mut inv = Inventory::new(opts.estate.clone());
        inv.generated_at = Some(opts.now);
        if let Some(region) = &opts.estate.region {
            inv.scope.regions.push(region.clone());
        }
        collection.merge_into(&mut inv);
        out.inventories.push(inv);
    }
    // Cloudflare belongs to no AWS account: it goes with the first inventory, and a bundle's
    // audit shares it with every account.
    if out.inventories.is_empty() {
        let mut inv = Inventory::new(opts.estate.clone());
        inv.generated_at = Some(opts.now);
        out.inventories.push(inv);
    }
    // Zabbix follows the AWS collection: the RabbitMQ instances found there name the host to
    // look for when estate.toml does not.
    let zbx = collect_zabbix(opts, deadline, &out.inventories).await;
    // PagerDuty, like Cloudflare, belongs to no account: the routes of every account say which
    // services are read, and they go with the first inventory.
    let graf = graf.unwrap_or_default();
    let pd = match pd {
        Some(listing) => {
            let digests = pagerduty::route_digests(
                out.inventories
                    .iter()
                    .flat_map(|i| &i.resources)
                    .chain(&graf.resources)
                    .chain(&zbx.resources),
            );
            Some(pagerduty::finish(listing, &digests, &pd_opts).await)
        }
        None => None,
    };
    if let Some(zone) = &opts.estate.cloudflare.zone {
        out.inventories[0].scope.cloudflare_zones.push(zone.clone());
    }
    // Cloudflare's requests count as one service of `--stats`, beside each AWS service.
    out.add_shared(
        "cloudflare",
        SharedPart {
            resources: cf.resources,
            errors: cf.errors,
            usage: cf.usage,
        },
    );
    if let Some(pd) = pd {
        out.add_shared("pagerduty", pd);
    }
    out.add_shared("grafana", graf);
    out.add_shared("zabbix", zbx);
    for (server, calls) in prom.usage {
        out.services.entry(server.into()).or_default().add(calls);
    }
    out.add_shared(
        "prometheus",
        SharedPart {
            resources: prom.resources,
            errors: prom.errors,
            usage: ServiceCalls::default(),
        },
    );
    if let Some(logs) = logs {
        out.add_shared("loki", logs);
    }
    out
}

/// Zabbix, when the estate audits it, looking for the hosts the inventories' RabbitMQ
/// instances (or `[monitoring.zabbix] host`) name.
async fn collect_zabbix(
    opts: &CollectOptions,
    deadline: Deadline,
    inventories: &[Inventory],
) -> zabbix::Collected {
    if !opts.estate.audits(model::MonitoringProvider::Zabbix) {
        return zabbix::Collected::default();
    }
    let zbx_opts = zabbix::Options {
        deadline: Some(deadline),
        ..opts.zabbix.clone()
    };
    let api = opts
        .estate
        .monitoring
        .as_ref()
        .and_then(|m| m.zabbix.as_ref());
    let target = zabbix::Target {
        url: api.map(|a| a.url.as_str()),
        hosts: zabbix_hosts(
            &opts.estate,
            api.and_then(|a| a.host.as_deref()),
            inventories.iter().flat_map(|i| &i.resources),
        ),
    };
    zabbix::collect(&zbx_opts, target).await
}

/// The Zabbix host names to look for: `configured`, else the `Name` tags of the instances
/// `components.rabbitmq` selects (a `key=value` tag or an instance id, as `link` reads it).
fn zabbix_hosts<'a>(
    estate: &EstateConfig,
    configured: Option<&str>,
    resources: impl IntoIterator<Item = &'a model::Resource>,
) -> Vec<String> {
    if let Some(h) = configured.map(str::trim).filter(|h| !h.is_empty()) {
        return vec![h.to_string()];
    }
    let sel = estate.components.rabbitmq.trim();
    let mut names: Vec<String> = resources
        .into_iter()
        .filter_map(|r| match &r.attrs {
            model::Attrs::Instance(i) => {
                let chosen = if sel.contains('=') {
                    r.has_tag(sel)
                } else {
                    i.instance_id.as_deref() == Some(sel) || r.id == sel
                };
                chosen.then(|| r.tags.get("Name").cloned()).flatten()
            }
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The read-only permissions live collection needs, per provider, for `estate-audit iam-policy`.
/// Each provider contributes one section (the AWS collector adds its IAM policy here).
pub fn required_permissions() -> String {
    let sections = [
        aws::permissions_section(),
        cloudflare::permissions_section(),
        pagerduty::permissions_section(),
        prometheus::permissions_section(),
        grafana::permissions_section(),
        zabbix::permissions_section(),
        loki::permissions_section(),
    ];
    sections.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new(" cf-test-token-5f1a9c\n");
        assert_eq!(s.expose(), "cf-test-token-5f1a9c");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(***))");
    }

    #[test]
    fn a_credential_too_short_or_malformed_is_refused_without_showing_it() {
        let read = |v: Option<&str>| {
            Secret::from_env("CF", v.map(str::to_string), "a Cloudflare API token", 40)
        };
        assert_eq!(read(None), Ok(None));
        assert_eq!(read(Some(" \n")), Ok(None), "empty counts as unset");
        let t40 = "0123456789abcdefghijABCDEFGHIJ0123456789";
        assert_eq!(read(Some(&format!("{t40}\n"))), Ok(Some(Secret::new(t40))));
        let new_format = format!("cfut_{t40}3c9a1f2e");
        assert!(
            matches!(read(Some(&new_format)), Ok(Some(_))),
            "longer is fine"
        );
        for (value, says) in [
            (
                "t",
                "CF holds 1 character where a Cloudflare API token has at least 40",
            ),
            (&t40[..39], "CF holds 39 characters where"),
            (&format!("{t40} {t40}"), "CF has a space inside"),
            (&format!("\"{t40}\""), "CF has a quote inside"),
            (&format!("{t40}\u{7}x"), "CF has a control character inside"),
        ] {
            let err = read(Some(value)).expect_err(value);
            assert!(err.contains(says), "{value:?}: {err}");
            if value.len() > 1 {
                assert!(!err.contains(value), "the value is never shown: {err}");
            }
        }
    }

    #[test]
    fn redaction_masks_the_whole_credential_and_nothing_else() {
        let t = "0123456789abcdefghijABCDEFGHIJ0123456789";
        let s = Secret::new(t);
        let text = format!("cannot connect: error sending request (Bearer {t}) to https://t.test");
        assert_eq!(
            s.redact(&text),
            "cannot connect: error sending request (Bearer ***) to https://t.test"
        );
        assert_eq!(s.redact(&t[..20]), &t[..20], "a part of it is not it");
        assert_eq!(Secret::new("").redact("text"), "text");
    }

    #[test]
    fn zabbix_looks_for_the_configured_host_else_the_rabbitmq_instances_name_tags() {
        let instance = |id: &str, tags: &[(&str, &str)]| {
            let mut r = model::Resource::new(
                format!("arn:aws:ec2:eu-west-1:1:instance/{id}"),
                model::Attrs::Instance(model::Instance {
                    instance_id: Some(id.into()),
                    ..Default::default()
                }),
            );
            for (k, v) in tags {
                r.tags.insert(k.to_string(), v.to_string());
            }
            r
        };
        let rs = [
            instance("i-1", &[("role", "rabbitmq"), ("Name", "rabbitmq-1")]),
            instance("i-2", &[("role", "rabbitmq")]),
            instance("i-3", &[("role", "worker"), ("Name", "worker-1")]),
        ];
        let estate = EstateConfig::default();
        assert_eq!(zabbix_hosts(&estate, None, &rs), vec!["rabbitmq-1"]);
        assert_eq!(
            zabbix_hosts(&estate, Some(" mq.internal "), &rs),
            vec!["mq.internal"]
        );
        let mut by_id = EstateConfig::default();
        by_id.components.rabbitmq = "i-3".into();
        assert_eq!(zabbix_hosts(&by_id, None, &rs), vec!["worker-1"]);
    }

    #[test]
    fn options_debug_hides_the_token() {
        let opts = CollectOptions {
            estate: EstateConfig::default(),
            now: Utc::now(),
            cloudflare: cloudflare::Options {
                token: Some(Secret::new("cf-test-token-5f1a9c")),
                ..Default::default()
            },
            aws: aws::AwsOptions::default(),
            pagerduty: pagerduty::Options::default(),
            prometheus: prometheus::Options::default(),
            grafana: grafana::Options::default(),
            zabbix: zabbix::Options::default(),
            loki: loki::Options::default(),
            timeout: None,
        };
        let dbg = format!("{opts:?} {opts:#?}");
        assert!(!dbg.contains("cf-test-token-5f1a9c"), "{dbg}");
        assert!(dbg.contains("Secret(***)"), "{dbg}");
    }
}
