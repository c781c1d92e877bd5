//! Log shipping seen from AWS (docs/design.md §3): whether every log stream of the processors'
//! ECS services and of the webhook reaches a shipper that forwards it to Loki, said per
//! container (or for the function) in words. A container ships through FireLens when the task
//! has a log router and the output plugin is Loki's (`loki`, `grafana-loki`), or through
//! `awslogs` when its group has a subscription filter without a pattern to a Lambda function,
//! Kinesis stream, Firehose stream or logs destination; the webhook through its group the same
//! way, or through an extension layer whose name says it ships to Loki (a name can lie: the
//! sentence names the layer taken).
//!
//! Judged only when Loki is in the estate's monitoring plane (`[monitoring]` without `loki` in
//! `not_used`), as the collector reads the groups only then: without the section an audit
//! changes nothing for existing users (no new finding, no new permission to grant).
//!
//! It must not judge the spec (the rules do) nor guess: a group that was not read, a task
//! definition or layer list missing from the inventory, a router whose outputs live in a
//! configuration file the audit does not read leave the verdict unknown, never a pass.

use std::collections::HashMap;

use super::Ctx;
use crate::model::*;

/// The log groups of the inventory by region and name.
#[derive(Default)]
pub(super) struct LogGroups<'a> {
    by_name: HashMap<(&'a str, &'a str), &'a LogGroup>,
}

impl<'a> LogGroups<'a> {
    pub(super) fn new(resources: &'a [Resource]) -> Self {
        let mut by_name = HashMap::new();
        for r in resources {
            if let (Attrs::LogGroup(g), Some(region)) = (&r.attrs, r.region.as_deref()) {
                if let Some(name) = g.log_group_name.as_deref() {
                    by_name.insert((region, name), g);
                }
            }
        }
        LogGroups { by_name }
    }
}

/// Where one stream goes.
enum Verdict {
    Ships(String),
    Fails(String),
    Unknown(String),
}

/// The verdicts of every stream as one fact: shipped when each ships, not when one does not,
/// unknown otherwise (none at all is unknown: nothing was read).
fn shipping(verdicts: Vec<Verdict>) -> Option<LogShipping> {
    let mut out = LogShipping {
        audited: true,
        ..Default::default()
    };
    let (mut failed, mut unknown) = (false, verdicts.is_empty());
    for v in verdicts {
        match v {
            Verdict::Ships(s) => out.streams.push(s),
            Verdict::Fails(s) => {
                failed = true;
                out.streams.push(s.clone());
                out.problems.push(s);
            }
            Verdict::Unknown(s) => {
                unknown = true;
                out.streams.push(s.clone());
                out.problems.push(s);
            }
        }
    }
    out.shipped = if failed {
        Some(false)
    } else {
        (!unknown).then_some(true)
    };
    Some(out)
}

fn unknown(why: String) -> Option<LogShipping> {
    shipping(vec![Verdict::Unknown(why)])
}

/// Fluent Bit's output plugins for Loki (the built-in `loki`, Grafana's `grafana-loki`) and
/// Fluentd's `@type loki`.
const LOKI_OUTPUTS: &[&str] = &["loki", "grafana-loki"];

/// Words in a layer's name that say it ships logs to Loki. Whole words only: `lokijs` is a
/// database library.
const SHIPPER_LAYER_WORDS: &[&str] = &["loki", "promtail"];

impl Ctx<'_> {
    /// The log shipping of an ECS service: each container of its task definition.
    pub(super) fn ecs_log_shipping(&self, r: &Resource, s: &EcsService) -> Option<LogShipping> {
        if self.is_processor(s) != Some(true) {
            return None;
        }
        if !self.cfg.audits(MonitoringProvider::Loki) {
            return Some(LogShipping::default());
        }
        let Some(arn) = s.task_definition_arn.as_deref() else {
            return unknown("the service's task definition is unknown".into());
        };
        let Some(td) = self.task_defs.get(arn) else {
            return unknown(format!("task definition {arn} was not read"));
        };
        let Some(containers) = td.containers.as_deref().filter(|c| !c.is_empty()) else {
            return unknown(format!("the containers of {arn} were not read"));
        };
        let router = containers.iter().find(|c| c.firelens.is_some());
        let region = r.region.as_deref();
        shipping(
            containers
                .iter()
                .map(|c| self.container_verdict(c, router, region))
                .collect(),
        )
    }

    fn container_verdict(
        &self,
        c: &EcsContainer,
        router: Option<&EcsContainer>,
        region: Option<&str>,
    ) -> Verdict {
        let who = format!("container {}", c.name.as_deref().unwrap_or("(unnamed)"));
        match c.log_driver.as_deref() {
            None => Verdict::Fails(format!(
                "{who} has no log configuration: its output is not shipped"
            )),
            Some("none") => Verdict::Fails(format!("{who} discards its logs (log driver none)")),
            Some("awsfirelens") => firelens_verdict(&who, c, router),
            Some("awslogs") => match c.awslogs_group.as_deref() {
                None => Verdict::Fails(format!("{who} uses awslogs without a log group")),
                Some(g) => self.group_verdict(
                    &format!("{who}: awslogs to"),
                    c.awslogs_region.as_deref().or(region),
                    g,
                ),
            },
            Some(other) => Verdict::Fails(format!(
                "{who} logs through the {other} driver, which no shipper the audit can see \
                 forwards to Loki"
            )),
        }
    }

    /// Whether `group` in `region` is subscribed whole by a shipper. `what` starts the sentence.
    fn group_verdict(&self, what: &str, region: Option<&str>, group: &str) -> Verdict {
        let g = region.and_then(|r| self.log_groups.by_name.get(&(r, group)));
        let Some(g) = g else {
            let why = if self.any_errored(&[kind::LOG_GROUP]) {
                "could not be read"
            } else {
                "was not read"
            };
            let place = region.map(|r| format!(" in {r}")).unwrap_or_default();
            return Verdict::Unknown(format!("{what} log group {group}{place}, which {why}"));
        };
        match (g.exists, g.subscription_filters.as_deref()) {
            (Some(false), _) => Verdict::Fails(format!(
                "{what} log group {group}, which does not exist: nothing is shipped"
            )),
            (Some(true), Some(filters)) => filter_verdict(what, group, filters),
            _ => Verdict::Unknown(format!(
                "{what} log group {group}, whose subscriptions were not read"
            )),
        }
    }

    /// The log shipping of a Lambda function: an extension layer that ships to Loki, or its
    /// log group subscribed whole.
    pub(super) fn lambda_log_shipping(
        &self,
        r: &Resource,
        l: &LambdaFunction,
    ) -> Option<LogShipping> {
        if self.is_webhook(l) != Some(true) {
            return None;
        }
        if !self.cfg.audits(MonitoringProvider::Loki) {
            return Some(LogShipping::default());
        }
        if let Some(layer) = l.layers.iter().flatten().find(|a| is_shipper_layer(a)) {
            return shipping(vec![Verdict::Ships(format!(
                "the function's logs are shipped by extension layer {layer}, taken as a Loki \
                 shipper by its name"
            ))]);
        }
        let group = match l.log_group.as_deref() {
            Some(g) => self.group_verdict("the function logs to", r.region.as_deref(), g),
            None => Verdict::Unknown("the function's log group was not read".into()),
        };
        match (group, &l.layers) {
            (Verdict::Fails(why), None) => unknown(format!(
                "{why}; its layers were not read, and one could ship its logs"
            )),
            (v, _) => shipping(vec![v]),
        }
    }
}

fn firelens_verdict(who: &str, c: &EcsContainer, router: Option<&EcsContainer>) -> Verdict {
    let Some(router) = router else {
        return Verdict::Fails(format!(
            "{who} uses awsfirelens but the task definition has no FireLens log router: its \
             logs go nowhere"
        ));
    };
    let config_file = router
        .firelens
        .as_ref()
        .and_then(|f| f.config_file_type.as_deref());
    match (c.firelens_output.as_deref(), config_file) {
        (Some(out), _) if LOKI_OUTPUTS.iter().any(|l| out.eq_ignore_ascii_case(l)) => {
            Verdict::Ships(format!("{who}: FireLens output {out} (Loki)"))
        }
        (Some(out), _) => Verdict::Fails(format!(
            "{who} sends through FireLens to the {out} output, not to Loki"
        )),
        (None, Some(kind)) => Verdict::Unknown(format!(
            "{who} sends through FireLens to the outputs of the router's {kind} configuration \
             file, which the audit does not read"
        )),
        (None, None) => Verdict::Fails(format!(
            "{who} uses awsfirelens without an output (no Name option)"
        )),
    }
}

/// A subscription without a pattern to a destination that forwards (a shipper) ships the
/// group; a pattern keeps only the lines it matches.
fn filter_verdict(what: &str, group: &str, filters: &[SubscriptionFilter]) -> Verdict {
    let name = |f: &SubscriptionFilter| f.filter_name.clone().unwrap_or_else(|| "(unnamed)".into());
    let to_shipper: Vec<&SubscriptionFilter> = filters
        .iter()
        .filter(|f| {
            f.destination_arn
                .as_deref()
                .is_some_and(is_shipper_destination)
        })
        .collect();
    if let Some(f) = to_shipper.iter().find(|f| {
        f.filter_pattern
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
    }) {
        return Verdict::Ships(format!(
            "{what} log group {group}, subscribed whole by filter {} to {}",
            name(f),
            f.destination_arn.as_deref().unwrap_or_default()
        ));
    }
    if let Some(f) = to_shipper.iter().find(|f| f.filter_pattern.is_none()) {
        return Verdict::Unknown(format!(
            "{what} log group {group}, whose filter {}'s pattern was not read",
            name(f)
        ));
    }
    if let Some(f) = to_shipper.first() {
        return Verdict::Fails(format!(
            "{what} log group {group}, whose filter {} keeps only the lines matching `{}`",
            name(f),
            f.filter_pattern.as_deref().unwrap_or_default()
        ));
    }
    match filters.first() {
        Some(f) => {
            Verdict::Fails(format!(
            "{what} log group {group}, whose filter {} delivers to {}, not to a Lambda function, \
             Kinesis stream, Firehose stream or logs destination",
            name(f),
            f.destination_arn.as_deref().unwrap_or("an unknown destination")
        ))
        }
        None => Verdict::Fails(format!(
            "{what} log group {group}, which has no subscription filter: nothing ships it"
        )),
    }
}

/// A Lambda function, Kinesis stream, Firehose stream or (cross-account) logs destination.
fn is_shipper_destination(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (service, resource) = (parts.nth(2), parts.nth(2));
    match (service, resource) {
        (Some("lambda"), Some(r)) => r.starts_with("function:"),
        (Some("kinesis"), Some(r)) => r.starts_with("stream/"),
        (Some("firehose"), Some(r)) => r.starts_with("deliverystream/"),
        (Some("logs"), Some(r)) => r.starts_with("destination:"),
        _ => false,
    }
}

/// A layer (`arn:aws:lambda:<region>:<account>:layer:<name>:<version>`) whose name has a
/// word of [`SHIPPER_LAYER_WORDS`].
fn is_shipper_layer(arn: &str) -> bool {
    let name = arn.split(':').nth(6).unwrap_or_default();
    arn.split(':').nth(5) == Some("layer")
        && name.split(['-', '_', '.']).any(|w| {
            SHIPPER_LAYER_WORDS
                .iter()
                .any(|s| w.eq_ignore_ascii_case(s))
        })
}
