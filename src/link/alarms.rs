//! Alarms in `link`: which alarms watch which resource (by metric dimensions, metric-math
//! queries included), what an alarm is for (`scaling` vs `monitoring`), whether its actions reach
//! PagerDuty (alarm → SNS topic → confirmed HTTPS subscription), and the scaling alarms of each
//! ECS service as CloudWatch evaluates them and Application Auto Scaling acts on them: which way
//! the policy moves when the alarm fires (from the adjustment type and the steps on the breached
//! side of the threshold, or the target-tracking configuration), what the metric is (a
//! metric-math alarm's returned query) and whether it names this service or the configured
//! queue, whether the threshold can be crossed, the time window, whether it acts at all, and in
//! one sentence what keeps it from doing what it seems to. It must not decide whether an alarm
//! is *good enough* (thresholds and windows are the rule pack's call), only describe it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::expr::Truth;
use super::pagerduty::Delivery;
use super::{Ctx, LIST_MAX};

/// Whether an alarm reaches PagerDuty, the path of each chain, and the routes that deliver.
type Routes = (Option<bool>, Option<Vec<String>>, Option<Vec<Delivery>>);
use crate::model::*;

/// Alarm lookups, built once.
#[derive(Default)]
pub(super) struct AlarmIndex<'a> {
    /// (dimension name, value) → alarm names.
    by_dim: HashMap<(&'a str, &'a str), BTreeSet<&'a str>>,
    /// (ClusterName, ServiceName) → alarm names.
    by_ecs: HashMap<(&'a str, &'a str), BTreeSet<&'a str>>,
    by_name: HashMap<&'a str, &'a Alarm>,
    /// Alarm action (ARN) → alarm names (a set: many alarms of one name act once).
    by_action: HashMap<&'a str, BTreeSet<&'a str>>,
    /// (scalable resource id, policy name), parsed from Auto Scaling policy ARNs → alarm names.
    by_policy: HashMap<(String, String), BTreeSet<&'a str>>,
    /// (dimension name, value) → ids of the resources that dimension identifies.
    targets: HashMap<(&'static str, &'a str), Vec<&'a str>>,
    /// (cluster name, service name) → ECS service ids.
    ecs_targets: HashMap<(&'a str, &'a str), Vec<&'a str>>,
}

fn alarm_name<'a>(r: &'a Resource, a: &'a Alarm) -> &'a str {
    a.alarm_name
        .as_deref()
        .or(r.name.as_deref())
        .unwrap_or(&r.id)
}

/// Whether a subscription's filter policy lets the alarm's `ALARM` notification through (`body`
/// builds it, as [`super::filter::alarm_notification`] writes it): `Ok` with none; `Err` when one on the
/// message attributes (CloudWatch's notifications carry none, so it drops every one) or one on
/// the body that the notification does not match; `None` when the policy was not read or its
/// verdict depends on what the inventory does not know.
fn filter_verdict(
    s: &SnsSubscription,
    body: &dyn Fn() -> serde_json::Value,
) -> Option<Result<(), String>> {
    let policy = s.filter_policy.as_deref()?.trim();
    if policy.is_empty() || policy == "{}" {
        return Some(Ok(()));
    }
    match s.filter_policy_scope.as_deref() {
        Some("MessageAttributes") => Some(Err(
            "has a filter policy on message attributes, which alarm notifications do not carry: \
             it drops every one"
                .into(),
        )),
        Some("MessageBody") => match super::filter::body_matches(policy, &body()) {
            Truth::True => Some(Ok(())),
            Truth::False => Some(Err(
                "has a filter policy on the message body that this alarm's notification does not \
                 match: it drops it"
                    .into(),
            )),
            Truth::Unknown => None,
        },
        _ => None,
    }
}

/// `(resource id, policy name)` of an Application Auto Scaling policy ARN:
/// `arn:aws:autoscaling:…:scalingPolicy:<uuid>:resource/ecs/service/<cluster>/<svc>:policyName/<n>`.
fn parse_policy_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.split_once(":resource/")?.1;
    let (resource, name) = rest.split_once(":policyName/")?;
    // Strip the service namespace (`ecs/`) to get the scalable target's resource id.
    let resource = resource.split_once('/').map(|(_, r)| r)?;
    Some((resource.to_string(), name.to_string()))
}

impl<'a> AlarmIndex<'a> {
    pub(super) fn add(&mut self, r: &'a Resource, a: &'a Alarm) {
        let name = alarm_name(r, a);
        self.by_name.insert(name, a);
        for dims in std::iter::once(&a.dimensions).chain(a.metrics.iter().map(|m| &m.dimensions)) {
            for (k, v) in dims {
                self.by_dim.entry((k, v)).or_default().insert(name);
            }
            if let (Some(c), Some(s)) = (dims.get("ClusterName"), dims.get("ServiceName")) {
                self.by_ecs.entry((c, s)).or_default().insert(name);
            }
        }
        for act in a.alarm_actions.iter().flatten() {
            self.by_action.entry(act).or_default().insert(name);
            if let Some(key) = parse_policy_arn(act) {
                self.by_policy.entry(key).or_default().insert(name);
            }
        }
    }

    /// Records which resource a dimension value identifies (for `Alarm.watches`).
    pub(super) fn add_target(&mut self, r: &'a Resource) {
        let (key, value): (&'static str, Option<&'a str>) = match &r.attrs {
            Attrs::DbInstance(d) => ("DBInstanceIdentifier", d.db_instance_identifier.as_deref()),
            Attrs::CacheCluster(c) => ("CacheClusterId", c.cache_cluster_id.as_deref()),
            Attrs::CacheReplicationGroup(g) => {
                ("ReplicationGroupId", g.replication_group_id.as_deref())
            }
            Attrs::LambdaFunction(l) => ("FunctionName", l.function_name.as_deref()),
            Attrs::NatGateway(n) => ("NatGatewayId", n.nat_gateway_id.as_deref()),
            Attrs::Instance(i) => ("InstanceId", i.instance_id.as_deref()),
            Attrs::EcsService(s) => {
                if let (Some(c), Some(n)) = (s.cluster_arn.as_deref(), s.service_name.as_deref()) {
                    self.ecs_targets
                        .entry((super::cluster_name(c), n))
                        .or_default()
                        .push(&r.id);
                }
                return;
            }
            _ => return,
        };
        if let Some(v) = value {
            self.targets.entry((key, v)).or_default().push(&r.id);
        }
    }

    /// Alarms on any of the given dimension values; `None` when alarms were not collected or no
    /// identifying value is known.
    pub(super) fn names(&self, ctx: &Ctx, keys: &[(&str, Option<&str>)]) -> Option<Vec<String>> {
        if ctx.any_errored(&[kind::ALARM]) || keys.iter().all(|(_, v)| v.is_none()) {
            return None;
        }
        let mut out = BTreeSet::new();
        for (k, v) in keys {
            if let Some(v) = v {
                if let Some(names) = self.by_dim.get(&(*k, *v)) {
                    out.extend(names.iter().copied());
                }
            }
        }
        Some(out.into_iter().map(String::from).collect())
    }

    /// The alarm of that name, as collected.
    pub(super) fn get(&self, name: &str) -> Option<&'a Alarm> {
        self.by_name.get(name).copied()
    }

    pub(super) fn ecs_names(&self, ctx: &Ctx, cluster: &str, service: &str) -> Option<Vec<String>> {
        if ctx.any_errored(&[kind::ALARM]) {
            return None;
        }
        Some(
            self.by_ecs
                .get(&(cluster, service))
                .map(|s| s.iter().map(|n| n.to_string()).collect())
                .unwrap_or_default(),
        )
    }
}

/// The query whose value the alarm compares (metric math), if any.
pub(super) fn returned_query(a: &Alarm) -> Option<&MetricQuery> {
    a.metrics
        .iter()
        .find(|q| q.return_data == Some(true))
        .or_else(|| (a.metrics.len() == 1).then(|| &a.metrics[0]))
}

impl Ctx<'_> {
    pub(super) fn alarm(&self, r: &Resource, a: &Alarm) -> Alarm {
        let purpose = a.alarm_actions.as_ref().map(|acts| {
            if !acts.is_empty() && acts.iter().all(|x| x.starts_with("arn:aws:autoscaling:")) {
                "scaling".to_string()
            } else {
                "monitoring".to_string()
            }
        });
        let (pagerduty_routed, pagerduty_path, deliveries) = self.pagerduty(r, a);
        let pagerduty = Some(self.pagerduty.facts(deliveries.as_deref()));
        let (watches, watches_total) = if self.any_errored(&[kind::ALARM]) {
            (None, None)
        } else {
            let mut w = BTreeSet::new();
            let mut total = 0;
            for dims in
                std::iter::once(&a.dimensions).chain(a.metrics.iter().map(|m| &m.dimensions))
            {
                for (k, v) in dims {
                    let key = match k.as_str() {
                        "DBInstanceIdentifier" => "DBInstanceIdentifier",
                        "CacheClusterId" => "CacheClusterId",
                        "ReplicationGroupId" => "ReplicationGroupId",
                        "FunctionName" => "FunctionName",
                        "NatGatewayId" => "NatGatewayId",
                        "InstanceId" => "InstanceId",
                        _ => continue,
                    };
                    if let Some(ids) = self.alarms.targets.get(&(key, v.as_str())) {
                        total += ids.len();
                        w.extend(ids.iter().take(LIST_MAX).map(|s| s.to_string()));
                    }
                }
                if let (Some(c), Some(s)) = (dims.get("ClusterName"), dims.get("ServiceName")) {
                    if let Some(ids) = self.alarms.ecs_targets.get(&(c.as_str(), s.as_str())) {
                        total += ids.len();
                        w.extend(ids.iter().take(LIST_MAX).map(|s| s.to_string()));
                    }
                }
            }
            (Some(w.into_iter().take(LIST_MAX).collect()), Some(total))
        };
        Alarm {
            purpose,
            pagerduty_routed,
            pagerduty_path,
            pagerduty,
            watches,
            watches_total,
            ..a.clone()
        }
    }

    /// Follows every alarm action to PagerDuty. Routed when some action reaches an `https`
    /// subscription, confirmed, whose endpoint starts with `pagerduty.endpoint_prefix`, and
    /// actions are enabled. Unknown when nothing routes and some link of a chain is unknown (a
    /// topic not in the inventory, subscriptions not collected, confirmation or the enabled flag
    /// unknown). The path lists each chain or where it stops; the deliveries are the routes
    /// that reach PagerDuty (`None` when whether the alarm routes is unknown).
    fn pagerduty(&self, r: &Resource, a: &Alarm) -> Routes {
        // The notification a body filter policy is matched against, built only for such a
        // policy (most subscriptions have none; every alarm of the estate passes here).
        let body = || super::filter::alarm_notification(alarm_name(r, a), &r.id, a);
        let Some(actions) = a.alarm_actions.as_ref() else {
            return (None, None, None);
        };
        let mut deliveries = Vec::new();
        let prefix = self.cfg.pagerduty.endpoint_prefix.as_str();
        let mut path = Vec::new();
        let mut routed = false;
        let mut unknown = false;
        match a.actions_enabled {
            Some(false) => path.push("alarm actions are disabled".to_string()),
            None => unknown = true,
            Some(true) => {}
        }
        if actions.is_empty() {
            path.push("no alarm actions".into());
        }
        for act in actions {
            if !act.starts_with("arn:aws:sns:") {
                path.push(format!("action {act} is not an SNS topic"));
                continue;
            }
            let subs = self.subscriptions.get(act.as_str());
            if !self.topics.contains_key(act.as_str()) && subs.is_none() {
                unknown = true;
                path.push(format!("topic {act} is not in the inventory"));
                continue;
            }
            // CloudWatch publishes only to a topic whose key it may use.
            match self
                .topics
                .get(act.as_str())
                .map(|t| super::keys::cloudwatch_may_use(t))
            {
                Some(Some(Ok(()))) => {}
                Some(Some(Err(why))) => {
                    path.push(format!("topic {act} {why}"));
                    continue;
                }
                Some(None) => {
                    unknown = true;
                    path.push(format!(
                        "topic {act}: whether CloudWatch may use its KMS key could not be read"
                    ));
                    continue;
                }
                None => {
                    unknown = true;
                    path.push(format!(
                        "topic {act}: its attributes are not in the inventory"
                    ));
                    continue;
                }
            }
            let Some(subs) = subs else {
                if self.any_errored(&[kind::SNS_SUBSCRIPTION]) {
                    unknown = true;
                    path.push(format!("subscriptions of topic {act} were not collected"));
                } else {
                    path.push(format!("topic {act} has no subscriptions"));
                }
                continue;
            };
            let mut others = Vec::new();
            let mut pd = false;
            for s in subs {
                let proto = s.protocol.as_deref().unwrap_or("?");
                let ep = s.endpoint.as_deref().unwrap_or("?");
                if !(proto.eq_ignore_ascii_case("https") && ep.starts_with(prefix)) {
                    others.push(format!("{proto} {ep}"));
                    continue;
                }
                pd = true;
                match (s.confirmed, filter_verdict(s, &body)) {
                    (Some(true), Some(Ok(()))) => {
                        routed = true;
                        deliveries.push(Delivery {
                            topic: act.clone(),
                            endpoint: ep.to_string(),
                            key_digest: s.endpoint_key_digest.clone(),
                        });
                        path.push(format!(
                            "alarm → topic {act} → https subscription {ep} (confirmed)"
                        ));
                    }
                    (Some(true), Some(Err(why))) => {
                        path.push(format!("topic {act}: subscription {ep} {why}"))
                    }
                    (Some(true), None) => {
                        unknown = true;
                        path.push(format!(
                            "topic {act}: the filter policy of {ep} could not be read or judged"
                        ));
                    }
                    (Some(false), _) => path.push(format!(
                        "topic {act}: subscription {ep} pending confirmation"
                    )),
                    (None, _) => {
                        unknown = true;
                        path.push(format!("topic {act}: confirmation of {ep} unknown"));
                    }
                }
            }
            if !pd {
                others.sort();
                others.dedup();
                path.push(format!(
                    "topic {act} has no PagerDuty subscription ({})",
                    crate::text::list_at_most(&others, 5)
                ));
            }
        }
        if self.any_errored(&[kind::SNS_TOPIC, kind::SNS_SUBSCRIPTION]) {
            unknown = true;
        }
        let routed = match (a.actions_enabled, routed, unknown) {
            (Some(false), _, _) => Some(false),
            (Some(true), true, _) => Some(true),
            (_, _, true) | (None, _, _) => None,
            _ => Some(false),
        };
        // Copies of one subscription say the same thing once; a topic with many says the first.
        let mut seen = std::collections::HashSet::new();
        path.retain(|p| seen.insert(p.clone()));
        if path.len() > LIST_MAX {
            let more = path.len() - LIST_MAX;
            path.truncate(LIST_MAX);
            path.push(format!("… and {more} more"));
        }
        let deliveries = routed.is_some().then_some(deliveries);
        (routed, Some(path), deliveries)
    }

    /// Scalable targets, policy names, scaling alarms and their problems of an ECS service,
    /// keyed by its Application Auto Scaling resource id `service/<cluster>/<service>`.
    pub(super) fn scaling(&self, s: &EcsService) -> Scaling {
        let (Some(cluster), Some(name)) = (
            s.cluster_arn.as_deref().map(super::cluster_name),
            s.service_name.as_deref(),
        ) else {
            return Scaling::default();
        };
        let rid = format!("service/{cluster}/{name}");
        let targets = (!self.any_errored(&[kind::SCALABLE_TARGET])).then(|| {
            let mut v: Vec<ScalableTarget> = self
                .scalable_targets
                .get(rid.as_str())
                .map(|v| v.iter().map(|t| (*t).clone()).collect())
                .unwrap_or_default();
            // Identical targets (listed twice, or copies) are one target.
            v.dedup();
            v
        });
        if self.any_errored(&[kind::SCALING_POLICY]) {
            return Scaling {
                targets,
                ..Default::default()
            };
        }
        let policies = self
            .scaling_policies
            .get(rid.as_str())
            .cloned()
            .unwrap_or_default();
        let mut names: Vec<String> = policies
            .iter()
            .map(|(r, p)| p.policy_name.clone().unwrap_or_else(|| r.id.clone()))
            .collect();
        names.sort();
        names.dedup();
        if self.any_errored(&[kind::ALARM]) {
            return Scaling {
                targets,
                policy_names: Some(names),
                ..Default::default()
            };
        }
        // The bounds an ExactCapacity adjustment is compared with: those of the one scalable
        // target of the service's desired count (none, or several that disagree: unknown).
        let bounds = match targets.as_deref() {
            Some([t]) => t.min_capacity.zip(t.max_capacity),
            _ => None,
        };
        let this = Service {
            cluster,
            name,
            bounds,
        };
        // A policy's name is unique on its scalable target: policies listed under one name
        // (copies in an inventory, the same policy read twice) are one policy, whose alarms are
        // gathered once, so the work does not grow with the copies.
        let mut by_name: BTreeMap<String, (&ScalingPolicy, BTreeSet<&str>)> = BTreeMap::new();
        for (r, p) in &policies {
            let pname = p.policy_name.clone().unwrap_or_else(|| r.id.clone());
            let (_, alarm_names) = by_name
                .entry(pname)
                .or_insert_with(|| (*p, BTreeSet::new()));
            alarm_names.extend(p.alarm_names.iter().map(String::as_str));
            if let Some(v) = self.alarms.by_action.get(r.id.as_str()) {
                alarm_names.extend(v.iter().copied());
            }
        }
        let mut out = Vec::new();
        for (pname, (p, mut alarm_names)) in by_name {
            if let Some(v) = self.alarms.by_policy.get(&(rid.clone(), pname.clone())) {
                alarm_names.extend(v.iter().copied());
            }
            for an in alarm_names {
                let Some(a) = self.alarms.by_name.get(an) else {
                    // The policy names an alarm that no longer exists: it cannot trigger.
                    continue;
                };
                out.push(self.scaling_alarm(an, &pname, p, a, &this));
            }
        }
        out.sort_by(|a, b| (&a.policy_name, &a.alarm_name).cmp(&(&b.policy_name, &b.alarm_name)));
        // Policies of the same name on the same service (copies of one another) trigger through
        // the same alarms: each pair once, so the list does not grow with the copies.
        out.dedup_by(|a, b| a.policy_name == b.policy_name && a.alarm_name == b.alarm_name);
        let mut problems: Vec<String> = out
            .iter()
            .filter_map(|a| {
                let p = a.problem.as_deref()?;
                Some(format!("{} → {}: {p}", a.alarm_name, a.policy_name))
            })
            .collect();
        if problems.len() > LIST_MAX {
            let more = problems.len() - LIST_MAX;
            let all = problems.len();
            problems.truncate(LIST_MAX);
            problems.push(format!("… and {more} more ({all} in all)"));
        }
        Scaling {
            targets,
            policy_names: Some(names),
            alarms: Some(out),
            problems: Some(problems),
        }
    }

    fn scaling_alarm(
        &self,
        name: &str,
        policy: &str,
        p: &ScalingPolicy,
        a: &Alarm,
        this: &Service,
    ) -> ScalingAlarm {
        let op = a.comparison_operator.clone();
        let side = op.as_deref().and_then(side);
        let (direction, why_none) = direction(p, side, this.bounds);
        let m = self.metric(a, this);
        let period = a
            .period
            .or_else(|| m.query.and_then(|q| q.period))
            .or_else(|| a.metrics.iter().find_map(|q| q.period));
        let n = a.datapoints_to_alarm.or(a.evaluation_periods);
        // Every AWS metric this reads (utilisation, counts) and a queue's depth are never
        // negative; the range of any other metric is not known.
        let non_negative = m.role.is_some_and(|r| r != "other")
            || m.namespace.is_some_and(|ns| ns.starts_with("AWS/"));
        let crossable = match (op.as_deref(), a.threshold, non_negative) {
            (Some("GreaterThanThreshold" | "GreaterThanOrEqualToThreshold"), Some(_), true) => {
                Some(true)
            }
            (Some("LessThanThreshold"), Some(t), true) => Some(t > 0.0),
            (Some("LessThanOrEqualToThreshold"), Some(t), true) => Some(t >= 0.0),
            _ => None,
        };
        let agrees = match (direction.as_deref(), side) {
            (Some("out"), Some(s)) => Some(s == Side::Above),
            (Some("in"), Some(s)) => Some(s == Side::Below),
            (Some(_), _) => Some(false),
            (None, _) => None,
        };
        let acts = all_of(&[
            a.actions_enabled,
            direction.as_deref().map(|d| d == "out" || d == "in"),
            agrees,
            crossable,
        ]);
        let op_text = op.as_deref().unwrap_or("?");
        let threshold = a.threshold.map_or("?".into(), |t| t.to_string());
        let problem = if a.actions_enabled == Some(false) {
            Some("its actions are disabled: it never triggers the policy".to_string())
        } else if direction.as_deref() == Some("none") {
            Some(format!(
                "the policy changes nothing when it fires ({})",
                why_none.unwrap_or("no step applies")
            ))
        } else if direction.as_deref() == Some("mixed") {
            Some(
                "the policy's steps on the side of the threshold the alarm breaches both add and \
                 remove tasks"
                    .to_string(),
            )
        } else if agrees == Some(false) {
            Some(match direction.as_deref() {
                Some("in") => format!(
                    "a {op_text} alarm drives a policy that removes tasks: capacity falls as the \
                     metric rises"
                ),
                _ => format!(
                    "a {op_text} alarm drives a policy that adds tasks: capacity grows as the \
                     metric falls"
                ),
            })
        } else if crossable == Some(false) {
            Some(format!(
                "{op_text} {threshold} on a metric that is never negative: it never fires"
            ))
        } else {
            m.problem
        };
        ScalingAlarm {
            alarm_name: name.to_string(),
            policy_name: policy.to_string(),
            policy_type: p.policy_type.clone(),
            direction,
            metric_role: m.role.map(str::to_string),
            metric: m.text,
            metric_dimensions: m.dimensions.cloned().unwrap_or_default(),
            metric_matches: m.matches,
            statistic: m.statistic,
            comparison_operator: op,
            threshold: a.threshold,
            crossable,
            window_seconds: period.zip(n).map(|(p, n)| p.saturating_mul(n)),
            evaluation_seconds: period
                .zip(a.evaluation_periods)
                .map(|(p, n)| p.saturating_mul(n)),
            actions_enabled: a.actions_enabled,
            acts,
            problem,
        }
    }

    /// The metric an alarm compares with its threshold: its own, or a metric-math alarm's
    /// returned query when that query is a metric (an expression is not resolved: its role is
    /// unknown); what it is to the service, and whether it names what that role means.
    fn metric<'a>(&self, a: &'a Alarm, this: &Service) -> Metric<'a> {
        let q = returned_query(a);
        let (namespace, metric_name, dimensions, statistic) =
            match (a.namespace.as_deref(), a.metric_name.as_deref()) {
                (Some(ns), Some(m)) => {
                    (Some(ns), Some(m), Some(&a.dimensions), a.statistic.clone())
                }
                _ => match q {
                    Some(q) if q.expression.is_none() => (
                        q.namespace.as_deref(),
                        q.metric_name.as_deref(),
                        Some(&q.dimensions),
                        q.stat.clone(),
                    ),
                    _ => (None, None, None, None),
                },
            };
        let Some((ns, mname)) = namespace.zip(metric_name) else {
            let text = q
                .and_then(|q| q.expression.clone())
                .unwrap_or_else(|| "?".into());
            // What the expression computes is not resolved: the role and the range stay
            // unknown (no problem is claimed).
            return Metric {
                text,
                query: q,
                ..Default::default()
            };
        };
        let text = format!("{ns}:{mname}");
        let dims = dimensions.expect("a metric has its dimensions");
        let (role, matches, problem) = if text == self.cfg.components.queue_metric {
            // The configured dimensions, exactly; none configured: not checked.
            let want = &self.cfg.components.queue_dimensions;
            let own = want.is_empty()
                || (want.len() == dims.len()
                    && want.iter().all(|w| {
                        w.split_once('=')
                            .is_some_and(|(k, v)| dims.get(k).map(String::as_str) == Some(v))
                    }));
            let problem = (!own).then(|| {
                format!(
                    "its queue metric names {}, not the configured queue ({})",
                    show_dims(dims),
                    want.join(", ")
                )
            });
            ("queue", Some(own), problem)
        } else if text == "AWS/ECS:CPUUtilization" {
            let own = dims.len() == 2
                && dims.get("ClusterName").map(String::as_str) == Some(this.cluster)
                && dims.get("ServiceName").map(String::as_str) == Some(this.name);
            let problem = if !own {
                Some(format!(
                    "its CPU metric names {}, not service {}/{}",
                    show_dims(dims),
                    this.cluster,
                    this.name
                ))
            } else {
                match statistic.as_deref() {
                    Some("Average") => None,
                    Some(other) => Some(format!(
                        "it watches the {other} of CPU, not its average (the statistic the spec \
                         names)"
                    )),
                    None => None,
                }
            };
            ("cpu", Some(own), problem)
        } else {
            ("other", Some(false), None)
        };
        Metric {
            role: Some(role),
            text,
            namespace: Some(ns),
            dimensions: Some(dims),
            matches,
            statistic,
            query: q,
            problem,
        }
    }
}

/// What `scaling` gathers for one ECS service (every part `null` when it cannot be read).
#[derive(Default)]
pub(super) struct Scaling {
    pub targets: Option<Vec<ScalableTarget>>,
    pub policy_names: Option<Vec<String>>,
    pub alarms: Option<Vec<ScalingAlarm>>,
    pub problems: Option<Vec<String>>,
}

/// The service whose scaling alarms are described.
struct Service<'a> {
    cluster: &'a str,
    name: &'a str,
    /// `(min, max)` of its scalable target.
    bounds: Option<(i64, i64)>,
}

/// An alarm's metric as `scaling_alarm` reads it.
#[derive(Default)]
struct Metric<'a> {
    role: Option<&'static str>,
    text: String,
    namespace: Option<&'a str>,
    dimensions: Option<&'a StrMap>,
    matches: Option<bool>,
    statistic: Option<String>,
    query: Option<&'a MetricQuery>,
    problem: Option<String>,
}

/// The side of its threshold on which an alarm is in breach.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Above,
    Below,
}

/// `Greater…` operators breach above the threshold, `Less…` ones below; the anomaly-band
/// operator `LessThanLowerOrGreaterThanUpperThreshold` on both sides (`None`).
fn side(op: &str) -> Option<Side> {
    match op {
        "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "GreaterThanUpperThreshold" => {
            Some(Side::Above)
        }
        "LessThanThreshold" | "LessThanOrEqualToThreshold" | "LessThanLowerThreshold" => {
            Some(Side::Below)
        }
        _ => None,
    }
}

/// What the policy does when an alarm breaching on `side` fires (see
/// [`ScalingAlarm::direction`]), and, for `none`, why.
fn direction(
    p: &ScalingPolicy,
    side: Option<Side>,
    bounds: Option<(i64, i64)>,
) -> (Option<String>, Option<&'static str>) {
    let out = |d: &str| Some(d.to_string());
    match p.policy_type.as_deref() {
        Some("TargetTrackingScaling") => match (side, p.disable_scale_in) {
            (Some(Side::Above), _) => (out("out"), None),
            (Some(Side::Below), Some(true)) => {
                (out("none"), Some("target tracking with scale-in disabled"))
            }
            (Some(Side::Below), Some(false)) => (out("in"), None),
            _ => (None, None),
        },
        Some("StepScaling") => {
            let (Some(kind), Some(steps), Some(side)) =
                (p.adjustment_type.as_deref(), p.steps.as_ref(), side)
            else {
                return (None, None);
            };
            // A step applies when its interval meets the breached side: above the threshold
            // its lower bound is inclusive and its upper one exclusive, below it the other way.
            let reachable = steps.iter().filter(|s| match side {
                Side::Above => s.metric_interval_upper_bound.is_none_or(|u| u > 0.0),
                Side::Below => s.metric_interval_lower_bound.is_none_or(|l| l < 0.0),
            });
            let (mut up, mut down, mut unknown, mut any) = (false, false, false, false);
            for s in reachable {
                any = true;
                let n = s.scaling_adjustment;
                let d = match kind {
                    "ChangeInCapacity" | "PercentChangeInCapacity" => Some(n.signum()),
                    // An exact count is a move only against the bounds: at or above the
                    // maximum it grows the service, at or below the minimum it shrinks it.
                    "ExactCapacity" => bounds.and_then(|(min, max)| {
                        if min >= max {
                            Some(0)
                        } else if n >= max {
                            Some(1)
                        } else if n <= min {
                            Some(-1)
                        } else {
                            None
                        }
                    }),
                    _ => None,
                };
                match d {
                    Some(1) => up = true,
                    Some(-1) => down = true,
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            match (up, down, unknown) {
                (true, true, _) => (out("mixed"), None),
                (_, _, true) => (None, None),
                (true, false, false) => (out("out"), None),
                (false, true, false) => (out("in"), None),
                (false, false, false) if any => {
                    (out("none"), Some("every step it reaches is zero"))
                }
                (false, false, false) => (
                    out("none"),
                    Some("no step lies on the side of the threshold the alarm breaches"),
                ),
            }
        }
        _ => (None, None),
    }
}

/// `false` if any is `false`; else `null` if any is unknown; else `true`.
fn all_of(xs: &[Option<bool>]) -> Option<bool> {
    if xs.contains(&Some(false)) {
        Some(false)
    } else if xs.contains(&None) {
        None
    } else {
        Some(true)
    }
}

/// `ClusterName=estate, ServiceName=worker`, or `no dimensions`.
pub(super) fn show_dims(d: &StrMap) -> String {
    if d.is_empty() {
        return "no dimensions".into();
    }
    d.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arn_parses() {
        let arn = "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:0a1b:resource/ecs/service/estate/worker:policyName/queue-out";
        assert_eq!(
            parse_policy_arn(arn),
            Some(("service/estate/worker".into(), "queue-out".into()))
        );
        assert_eq!(parse_policy_arn("arn:aws:sns:eu-west-1:1:t"), None);
    }
}
