//! `estate-audit collect` and the live collection `audit` shares with it: the environment read
//! (the Cloudflare token, handed on as a secret; the API base), the AWS flags turned into options,
//! the single-threaded runtime the collectors run on, the collection errors told on stderr, and
//! the inventory (or bundle, for several accounts) written. Without the `live` feature, its
//! stand-ins refuse to collect and say what still works. It must not audit what it collects.

#[cfg(feature = "live")]
use std::io::IsTerminal;

#[cfg(feature = "live")]
use chrono::{DateTime, Utc};

use super::{load_config, plain, write_output, AwsArgs, CollectArgs, Io, EXIT_INCOMPLETE, EXIT_OK};
#[cfg(feature = "live")]
use crate::collect::aws::AwsOptions;
#[cfg(feature = "live")]
use crate::collect::{
    self, cloudflare, grafana, loki, pagerduty, prometheus, zabbix, CollectOptions, Collected,
    Secret,
};
use crate::diag::Diagnostics;
use crate::model::EstateConfig;

/// Environment and defaults for live collection. The token is read here, checked
/// ([`Secret::from_env`]) and handed on as a [`Secret`]; an empty variable counts as unset.
#[cfg(feature = "live")]
fn collect_options(
    estate: EstateConfig,
    aws: &AwsArgs,
    now: DateTime<Utc>,
) -> Result<CollectOptions, Diagnostics> {
    let token = Secret::from_env(
        cloudflare::TOKEN_VAR,
        std::env::var(cloudflare::TOKEN_VAR).ok(),
        "a Cloudflare API token",
        cloudflare::TOKEN_LEN,
    )
    .map_err(|e| plain("estate-audit", e))?;
    let api_base = std::env::var(cloudflare::BASE_VAR)
        .ok()
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| cloudflare::DEFAULT_API_BASE.to_string());
    // A monitoring provider's token is read, and checked, only when the estate audits it.
    let monitoring_token = |provider, var: &str, what: &str, min: usize| {
        if !estate.audits(provider) {
            return Ok(None);
        }
        Secret::from_env(var, std::env::var(var).ok(), what, min)
            .map_err(|e| plain("estate-audit", e))
    };
    let pagerduty_token = monitoring_token(
        crate::model::MonitoringProvider::Pagerduty,
        pagerduty::TOKEN_VAR,
        "a PagerDuty REST API key",
        pagerduty::TOKEN_LEN,
    )?;
    // Prometheus's and Alertmanager's optional credentials, read when they are audited.
    let credential = |provider, bearer: &str, basic: &str| {
        if !estate.audits(provider) {
            return Ok(None);
        }
        prometheus::Credential::from_env(
            bearer,
            std::env::var(bearer).ok(),
            basic,
            std::env::var(basic).ok(),
        )
        .map_err(|e| plain("estate-audit", e))
    };
    let prometheus_options = prometheus::Options {
        prometheus: credential(
            crate::model::MonitoringProvider::Prometheus,
            prometheus::PROMETHEUS_BEARER_VAR,
            prometheus::PROMETHEUS_BASIC_VAR,
        )?,
        alertmanager: credential(
            crate::model::MonitoringProvider::Alertmanager,
            prometheus::ALERTMANAGER_BEARER_VAR,
            prometheus::ALERTMANAGER_BASIC_VAR,
        )?,
        ..prometheus::Options::default()
    };
    let loki_credential = credential(
        crate::model::MonitoringProvider::Loki,
        loki::BEARER_VAR,
        loki::BASIC_VAR,
    )?;
    let grafana_token = monitoring_token(
        crate::model::MonitoringProvider::Grafana,
        grafana::TOKEN_VAR,
        "a Grafana service-account token",
        grafana::TOKEN_LEN,
    )?;
    let zabbix_token = monitoring_token(
        crate::model::MonitoringProvider::Zabbix,
        zabbix::TOKEN_VAR,
        "a Zabbix API token",
        zabbix::TOKEN_LEN,
    )?;
    let timeout = aws.timeout;
    let aws = AwsOptions {
        // A progress line only for a person watching stderr.
        progress: std::io::stderr().is_terminal(),
        ..aws.options(&estate)?
    };
    Ok(CollectOptions {
        estate,
        now,
        cloudflare: cloudflare::Options {
            token,
            api_base,
            ..cloudflare::Options::default()
        },
        aws,
        pagerduty: pagerduty::Options {
            token: pagerduty_token,
            ..pagerduty::Options::default()
        },
        prometheus: prometheus_options,
        grafana: grafana::Options {
            token: grafana_token,
            ..grafana::Options::default()
        },
        zabbix: zabbix::Options {
            token: zabbix_token,
            ..zabbix::Options::default()
        },
        loki: loki::Options {
            credential: loki_credential,
            ..loki::Options::default()
        },
        timeout,
    })
}

/// What a build without the `live` feature has in place of a collection: nothing, ever.
#[cfg(not(feature = "live"))]
pub(super) struct Collected {
    pub(super) inventories: Vec<crate::model::Inventory>,
    pub(super) services: std::collections::BTreeMap<String, crate::stats::ServiceCalls>,
}

/// A build without the `live` feature (the offline auditor the fuzz targets use) refuses every
/// command that would read the estate, saying what still works.
#[cfg(not(feature = "live"))]
pub(super) fn no_live(what: &str) -> Diagnostics {
    plain(
        "estate-audit",
        format!(
            "{what} needs the `live` feature, which this build was compiled without: \
             audit an inventory (--inventory FILE) or the demo (--demo) instead"
        ),
    )
}

#[cfg(not(feature = "live"))]
pub(super) fn collect_live(
    _estate: EstateConfig,
    _aws: &AwsArgs,
    _io: &mut Io<'_>,
) -> Result<Collected, Diagnostics> {
    Err(no_live("live collection"))
}

/// Runs the collectors on a single-threaded runtime (the work is waiting on the network, not
/// computing); everything after this is synchronous.
#[cfg(feature = "live")]
pub(super) fn collect_live(
    estate: EstateConfig,
    aws: &AwsArgs,
    io: &mut Io<'_>,
) -> Result<Collected, Diagnostics> {
    let opts = collect_options(estate, aws, io.now)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| plain("estate-audit", format!("cannot start the runtime: {e}")))?;
    let _ = writeln!(
        io.stderr,
        "collecting the estate live (Cloudflare zone: {})",
        opts.estate
            .cloudflare
            .zone
            .as_deref()
            .unwrap_or("none configured")
    );
    let collected = runtime.block_on(collect::collect(&opts));
    // Each error once on stderr too (endpoint, Cloudflare code, cf-ray): the log of a scheduled
    // run keeps them even when the report goes to a file.
    let errors: Vec<_> = collected
        .inventories
        .iter()
        .flat_map(|i| &i.collection_errors)
        .collect();
    for e in &errors {
        let account = e
            .account
            .as_deref()
            .map(|a| format!(" (account {a})"))
            .unwrap_or_default();
        let _ = writeln!(
            io.stderr,
            "warning: {} {}{account} not collected ({:?}): {}",
            e.provider, e.service, e.kind, e.message
        );
    }
    if !errors.is_empty() {
        let resources: usize = collected
            .inventories
            .iter()
            .map(|i| i.resources.len())
            .sum();
        let _ = writeln!(
            io.stderr,
            "collected {resources} resources; {} part(s) of the estate could not be read: their \
             rules are unknown",
            errors.len()
        );
    }
    Ok(collected)
}

pub(super) fn cmd_collect(c: CollectArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    if let Some(n) = c.synthetic {
        let inv = if c.shared {
            crate::synth::shared_references(n)
        } else {
            crate::synth::spec_shaped(n, c.seed)
        };
        let mut text = serde_json::to_string_pretty(&inv)
            .map_err(|e| plain("estate-audit collect", format!("cannot encode: {e}")))?;
        text.push('\n');
        write_output(Some(&c.output), &text, io)?;
        let _ = writeln!(
            io.stderr,
            "wrote a synthetic inventory of {n} resources to {}",
            c.output.display()
        );
        return Ok(EXIT_OK);
    }
    if !c.demo {
        let config = load_config(c.config.as_deref())?.unwrap_or_default();
        let mut collected = collect_live(config, &c.aws, io)?;
        let complete = collected
            .inventories
            .iter()
            .all(|i| i.collection_errors.is_empty());
        // One account keeps the single-inventory form; several are a bundle.
        let encoded = if collected.inventories.len() == 1 {
            serde_json::to_string_pretty(&collected.inventories[0])
        } else {
            let n = collected.inventories.len();
            let _ = writeln!(
                io.stderr,
                "collected {n} accounts into one inventory bundle"
            );
            serde_json::to_string_pretty(&crate::model::InventoryBundle::new(std::mem::take(
                &mut collected.inventories,
            )))
        };
        let mut text =
            encoded.map_err(|e| plain("estate-audit collect", format!("cannot encode: {e}")))?;
        text.push('\n');
        write_output(Some(&c.output), &text, io)?;
        let _ = writeln!(io.stderr, "wrote the inventory to {}", c.output.display());
        // An incomplete inventory is still written (it says what is missing), but the exit code
        // says it is incomplete.
        return Ok(if complete { EXIT_OK } else { EXIT_INCOMPLETE });
    }
    let mut text = crate::model::json::DEMO_INVENTORY.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    write_output(Some(&c.output), &text, io)?;
    let _ = writeln!(
        io.stderr,
        "wrote the example inventory to {}",
        c.output.display()
    );
    Ok(EXIT_OK)
}
