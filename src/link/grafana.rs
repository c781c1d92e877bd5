//! Grafana's part of the monitoring plane, derived on the Grafana organisation: CloudWatch data
//! sources for the estate's region, the spec components without a dashboard, the Grafana-managed
//! rules watching RabbitMQ and the alarms they leave uncovered, whether their notifications reach
//! a PagerDuty contact point through the policy tree (walked as Alertmanager's, whose model
//! Grafana's shares), and whether those contact points' keys belong to PagerDuty services. What
//! was not read leaves its fact `null`; a paused rule covers nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::prometheus::{covers, timed, walk, ALARMS};
use super::Ctx;
use crate::model::{
    AlertRoute, GrafanaAlertRule, GrafanaContactPoint, GrafanaDashboard, GrafanaInstance, Resource,
};

/// The spec's components a dashboard must be for, and the words (tags, title words) naming them.
const COMPONENTS: [(&str, &[&str]); 6] = [
    ("RDS", &["rds", "mysql", "mariadb"]),
    ("ECS", &["ecs"]),
    ("Redis", &["redis", "elasticache"]),
    ("Lambda", &["lambda"]),
    ("NAT gateway", &["nat", "nat-gateway", "natgateway"]),
    ("RabbitMQ", &["rabbitmq"]),
];

impl Ctx<'_> {
    pub(super) fn grafana(&self, _r: &Resource, g: &GrafanaInstance) -> GrafanaInstance {
        let region = self.cfg.region.as_deref();
        let cloudwatch_sources = g.datasources.as_ref().map(|ds| {
            ds.iter()
                .filter(|d| d.source_type.as_deref() == Some("cloudwatch"))
                .filter(|d| region.is_none() || d.region.as_deref() == region)
                .map(|d| {
                    d.name
                        .clone()
                        .unwrap_or_else(|| "a CloudWatch data source".into())
                })
                .collect()
        });
        let dashboards_missing = g.dashboards.as_ref().map(|ds| {
            COMPONENTS
                .iter()
                .filter(|(_, words)| !ds.iter().any(|d| names(d, words)))
                .map(|(c, _)| c.to_string())
                .collect()
        });
        let jobs: BTreeSet<&str> = ["rabbitmq"].into_iter().collect();
        let rabbit: Option<Vec<(&GrafanaAlertRule, BTreeSet<&'static str>)>> =
            g.alert_rules.as_ref().map(|rules| {
                rules
                    .iter()
                    .filter_map(|rule| {
                        let c: BTreeSet<&'static str> =
                            rule.queries.iter().flat_map(|q| covers(q, &jobs)).collect();
                        (!c.is_empty()).then_some((rule, c))
                    })
                    .collect()
            });
        let rabbitmq_rules = rabbit.as_ref().map(|rs| {
            rs.iter()
                .filter(|(r, _)| active(r))
                .map(|(r, _)| rule_name(r))
                .collect()
        });
        let alerts_missing = rabbit.as_deref().and_then(missing);
        let alerts_unrouted = match (&rabbit, &g.policy, &g.contact_points) {
            (Some(rs), Some(policy), Some(points)) => unrouted(rs, policy, points),
            _ => None,
        };
        let pagerduty_audited = self.pagerduty.audited();
        let pagerduty_unresolved = if pagerduty_audited {
            g.contact_points.as_ref().and_then(|points| {
                let mut out = Vec::new();
                for p in points
                    .iter()
                    .filter(|p| p.integration_type.as_deref() == Some("pagerduty"))
                {
                    let digest = p.key_digest.as_deref()?;
                    if !self.pagerduty.resolves(digest)? {
                        out.push(format!(
                            "contact point `{}`: its integration key belongs to no PagerDuty \
                             service",
                            p.name
                        ));
                    }
                }
                Some(out)
            })
        } else {
            None
        };
        GrafanaInstance {
            cloudwatch_sources,
            dashboards_missing,
            rabbitmq_rules,
            alerts_missing,
            alerts_unrouted,
            pagerduty_audited: Some(pagerduty_audited),
            pagerduty_unresolved,
            ..g.clone()
        }
    }
}

/// Whether the dashboard is for a component named by `words`: a tag, or a word of its title.
fn names(d: &GrafanaDashboard, words: &[&str]) -> bool {
    let title = d.title.as_deref().unwrap_or("").to_ascii_lowercase();
    let title_words: Vec<&str> = title
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .iter()
        .any(|w| d.tags.iter().any(|t| t.eq_ignore_ascii_case(w)) || title_words.contains(w))
}

/// The spec's RabbitMQ alarms no active rule covers, and why each rule that reads the alarm's
/// metric does not count; `None` when it cannot be told (what a node-down rule does without
/// data was not read).
fn missing(rs: &[(&GrafanaAlertRule, BTreeSet<&'static str>)]) -> Option<Vec<String>> {
    let covered = |alarm: &str| {
        rs.iter()
            .any(|(r, c)| c.contains(alarm) && counts(r, alarm))
    };
    // Node down hangs on what a rule does without data: unread, it cannot be told.
    let undecided = ALARMS.iter().any(|alarm| {
        *alarm == "node down"
            && !covered(alarm)
            && rs
                .iter()
                .any(|(r, c)| c.contains(alarm) && active(r) && r.no_data_state.is_none())
    });
    if undecided {
        return None;
    }
    let out = ALARMS
        .iter()
        .filter(|alarm| !covered(alarm))
        .map(|alarm| {
            let idle: Vec<(String, &str)> = rs
                .iter()
                .filter(|(_, c)| c.contains(*alarm))
                .map(|(r, _)| {
                    let why = if active(r) {
                        "it reads no data as OK"
                    } else {
                        "paused"
                    };
                    (rule_name(r), why)
                })
                .collect();
            if idle.is_empty() {
                format!("{alarm}: no alert rule")
            } else if idle.iter().all(|(_, why)| *why == "paused") {
                let names: Vec<&str> = idle.iter().map(|(n, _)| n.as_str()).collect();
                format!("{alarm}: only paused rules ({})", names.join(", "))
            } else {
                let each: Vec<String> = idle.iter().map(|(n, why)| format!("{n}: {why}")).collect();
                format!("{alarm}: only rules that cannot fire ({})", each.join("; "))
            }
        })
        .collect();
    Some(out)
}

/// The active RabbitMQ rules whose alerts reach no PagerDuty contact point at all times, and
/// why; `None` when a route cannot be followed.
fn unrouted(
    rs: &[(&GrafanaAlertRule, BTreeSet<&'static str>)],
    policy: &AlertRoute,
    points: &[GrafanaContactPoint],
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (rule, _) in rs.iter().filter(|(r, _)| active(r)) {
        // Each receiver reached, and when its route sends nothing.
        let reached: Option<Vec<(String, Option<String>)>> = match &rule.receiver {
            Some(r) => Some(vec![(
                r.clone(),
                timed(&rule.mute_time_intervals, &rule.active_time_intervals),
            )]),
            None => {
                let mut labels: BTreeMap<&str, &str> = rule
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                labels.insert("alertname", rule.title.as_deref().unwrap_or(""));
                walk(policy, &labels, None)
                    .map(|ds| ds.iter().map(|d| (d.receiver.clone(), d.timed())).collect())
            }
        };
        let reached = reached?;
        if reached
            .iter()
            .any(|(name, timed)| timed.is_none() && pages(points, name))
        {
            continue;
        }
        let timed: Vec<String> = reached
            .iter()
            .filter_map(|(n, t)| {
                t.as_ref()
                    .filter(|_| pages(points, n))
                    .map(|w| format!("`{n}`, {w}"))
            })
            .collect();
        let shown: Vec<String> = reached.iter().map(|(n, _)| format!("`{n}`")).collect();
        out.push(if timed.is_empty() {
            format!(
                "{} goes to {}, with no PagerDuty integration",
                rule_name(rule),
                crate::text::list_at_most(&shown, 3)
            )
        } else {
            format!(
                "{} reaches PagerDuty only through {}",
                rule_name(rule),
                crate::text::list_at_most(&timed, 3)
            )
        });
    }
    Some(out)
}

fn active(r: &GrafanaAlertRule) -> bool {
    r.paused == Some(false) || r.paused.is_none()
}

/// Whether an alert rule counts for `alarm`: active, and, for node down, known not to read the
/// silence of a broker that is gone (no data) as OK.
fn counts(r: &GrafanaAlertRule, alarm: &str) -> bool {
    active(r) && (alarm != "node down" || r.no_data_state.as_deref().is_some_and(|s| s != "OK"))
}

/// Whether contact point `name` has a PagerDuty integration.
fn pages(points: &[GrafanaContactPoint], name: &str) -> bool {
    points
        .iter()
        .any(|p| p.name == name && p.integration_type.as_deref() == Some("pagerduty"))
}

fn rule_name(r: &GrafanaAlertRule) -> String {
    r.title
        .clone()
        .or_else(|| r.uid.clone())
        .unwrap_or_else(|| "an untitled rule".into())
}
