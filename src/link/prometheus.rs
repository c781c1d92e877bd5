//! Prometheus and Alertmanager for the RabbitMQ host: which scrape targets are the broker's
//! exporter on that host and whether they are up, which alerting rules watch the broker and
//! which of the spec's RabbitMQ alarms (queue depth or growth, consumers, memory and disk
//! alarms, node down) they leave uncovered, and whether each rule's alerts reach a PagerDuty
//! receiver through the Alertmanager Prometheus sends to. It owns [`PrometheusIndex`] and the
//! derivation of [`HostPrometheus`]; it must not read a target, rule or route it was not given
//! as "absent": what was not read leaves its list `null`.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    AlertReceiver, AlertRoute, AlertingRule, AlertmanagerServer, EstateConfig, HostPrometheus,
    Instance, LabelMatcher, MonitoringProvider, PrometheusServer, Resource, ScrapeTarget,
};

/// Ports the broker's metrics are served on: the community exporter, the built-in plugin (and
/// its TLS port).
const EXPORTER_PORTS: [u16; 3] = [9419, 15692, 15691];

/// The spec's RabbitMQ alarms, in the order findings name them.
pub(super) const ALARMS: [&str; 5] = [
    "queue depth or growth",
    "queue consumers",
    "memory alarm",
    "disk alarm",
    "node down",
];

#[derive(Default)]
pub(super) struct PrometheusIndex<'a> {
    audited: bool,
    /// Alertmanager is declared not used: nothing routes Prometheus's alerts.
    no_alertmanager: bool,
    /// Whether Alertmanager is audited (its server then decides the routes).
    alertmanager_audited: bool,
    servers: Vec<&'a PrometheusServer>,
    alertmanagers: Vec<&'a AlertmanagerServer>,
    /// The endpoint prefix of PagerDuty's events (`[pagerduty] endpoint_prefix`).
    pagerduty_prefix: String,
}

impl<'a> PrometheusIndex<'a> {
    pub(super) fn new(cfg: &EstateConfig) -> Self {
        let alertmanager_audited = cfg.audits(MonitoringProvider::Alertmanager);
        PrometheusIndex {
            audited: cfg.audits(MonitoringProvider::Prometheus),
            no_alertmanager: cfg.monitoring.is_some() && !alertmanager_audited,
            alertmanager_audited,
            servers: Vec::new(),
            alertmanagers: Vec::new(),
            pagerduty_prefix: cfg.pagerduty.endpoint_prefix.clone(),
        }
    }

    pub(super) fn add_prometheus(&mut self, s: &'a PrometheusServer) {
        self.servers.push(s);
    }

    pub(super) fn add_alertmanager(&mut self, a: &'a AlertmanagerServer) {
        self.alertmanagers.push(a);
    }

    /// The facts of the RabbitMQ host `r`.
    pub(super) fn host(&self, r: &Resource, i: &Instance) -> HostPrometheus {
        let mut out = HostPrometheus {
            audited: self.audited,
            ..Default::default()
        };
        // One server is configured; none in the inventory means it was not read.
        let Some(server) = self.servers.first().copied() else {
            return out;
        };
        let addresses = addresses(i);
        let instance_id = i.instance_id.as_deref().unwrap_or(&r.id);
        let exporters: Option<Vec<&ScrapeTarget>> = server.targets.as_ref().map(|ts| {
            ts.iter()
                .filter(|t| on_host(t, &addresses, instance_id) && is_exporter(t))
                .collect()
        });
        if let Some(ex) = &exporters {
            let (up, down): (Vec<&&ScrapeTarget>, Vec<&&ScrapeTarget>) =
                ex.iter().partition(|t| t.health.as_deref() == Some("up"));
            out.targets_up = Some(up.iter().map(|t| target_name(t)).collect());
            out.targets_down = Some(
                down.iter()
                    .map(|t| {
                        let mut s = format!(
                            "{} is {}",
                            target_name(t),
                            t.health.as_deref().unwrap_or("of unknown health")
                        );
                        if let Some(e) = &t.last_error {
                            s.push_str(&format!(": {}", quoted(e)));
                        }
                        s
                    })
                    .collect(),
            );
        }
        let jobs: Option<BTreeSet<&str>> = exporters
            .as_ref()
            .map(|ex| ex.iter().filter_map(|t| t.job.as_deref()).collect());
        let (Some(rules), Some(jobs)) = (server.alert_rules.as_ref(), jobs) else {
            return out;
        };
        let broker: Vec<(&AlertingRule, BTreeSet<&'static str>)> = rules
            .iter()
            .filter_map(|rule| {
                let covers = covers(rule.query.as_deref()?, &jobs);
                (!covers.is_empty()).then_some((rule, covers))
            })
            .collect();
        out.alert_rules = Some(broker.iter().map(|(r, _)| rule_name(r)).collect());
        out.alerts_missing = missing(&broker, &jobs);
        out.alerts_unrouted = self.unrouted(server, &broker, exporters.as_deref().unwrap_or(&[]));
        out
    }

    /// The broker rules whose alerts reach no PagerDuty receiver, and why; `None` when that
    /// cannot be told.
    fn unrouted(
        &self,
        server: &PrometheusServer,
        broker: &[(&AlertingRule, BTreeSet<&'static str>)],
        exporters: &[&ScrapeTarget],
    ) -> Option<Vec<String>> {
        if self.no_alertmanager {
            return Some(vec![
                "Alertmanager is declared not used: nothing routes Prometheus's alerts to \
                 PagerDuty"
                    .into(),
            ]);
        }
        if !self.alertmanager_audited {
            return None;
        }
        let sends_to = server.alertmanagers.as_ref()?;
        let am = self.alertmanagers.first().copied()?;
        if sends_to.is_empty() {
            return Some(vec!["Prometheus sends its alerts to no Alertmanager".into()]);
        }
        let audited = am.url.as_deref().and_then(host_port)?;
        if !sends_to
            .iter()
            .any(|u| host_port(u).as_deref() == Some(audited.as_str()))
        {
            return Some(vec![format!(
                "Prometheus sends its alerts to {}, not to the audited Alertmanager {audited}",
                crate::text::list_at_most(sends_to, 3)
            )]);
        }
        let (route, receivers) = (am.route.as_ref()?, am.receivers.as_ref()?);
        let mut out = Vec::new();
        for (rule, _) in broker {
            let mut labels: BTreeMap<&str, &str> = rule
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let name = rule.name.as_deref().unwrap_or("");
            labels.insert("alertname", name);
            let reached = walk(route, &labels, None)?;
            // A silence or an inhibition mutes the alert whatever its route.
            if let Some(why) = muted(am, server, &labels, exporters)? {
                out.push(format!("{} {why}", rule_name(rule)));
                continue;
            }
            let pages_always = reached
                .iter()
                .any(|d| self.pages(receivers, &d.receiver) && d.timed().is_none());
            if !pages_always {
                let shown: Vec<String> = reached
                    .iter()
                    .map(|d| match d.timed() {
                        Some(when) if self.pages(receivers, &d.receiver) => {
                            format!("`{}`, {when}", d.receiver)
                        }
                        _ => self.why_not(receivers, &d.receiver),
                    })
                    .collect();
                out.push(format!(
                    "{} goes to {}",
                    rule_name(rule),
                    crate::text::list_at_most(&shown, 3)
                ));
            }
        }
        Some(out)
    }

    /// Why receiver `name` pages nobody, for a finding.
    fn why_not(&self, receivers: &[AlertReceiver], name: &str) -> String {
        match receivers.iter().find(|r| r.name == name) {
            None => format!("`{name}` (no such receiver)"),
            Some(r) if !r.integrations.iter().any(|k| k == "pagerduty") => {
                format!("`{name}` (no PagerDuty config)")
            }
            Some(r) => format!(
                "`{name}`, whose PagerDuty config sends to {} instead of {}",
                crate::text::list_at_most(&r.pagerduty_urls, 2),
                self.pagerduty_prefix
            ),
        }
    }

    /// Whether receiver `name` has a PagerDuty config sending to PagerDuty's events API.
    fn pages(&self, receivers: &[AlertReceiver], name: &str) -> bool {
        receivers.iter().any(|r| {
            r.name == name
                && r.integrations.iter().any(|k| k == "pagerduty")
                && (r.pagerduty_urls.is_empty()
                    || r.pagerduty_urls
                        .iter()
                        .all(|u| u.starts_with(&self.pagerduty_prefix)))
        })
    }
}

/// Every address of the instance.
fn addresses(i: &Instance) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = i
        .private_ip_address
        .iter()
        .chain(i.public_ip_address.iter())
        .cloned()
        .collect();
    for n in i.network_interfaces.iter().flatten() {
        out.extend(n.private_ip_addresses.iter().cloned());
        out.extend(n.public_ips.iter().cloned());
    }
    out
}

/// Scraped on the host: the scrape URL's host is one of its addresses, or EC2 service discovery
/// (or a relabelled `instance_id`) names the instance.
fn on_host(t: &ScrapeTarget, addresses: &BTreeSet<String>, instance_id: &str) -> bool {
    let host = t
        .scrape_url
        .as_deref()
        .and_then(host_port)
        .map(|hp| host_only(&hp).to_string());
    host.is_some_and(|h| addresses.contains(&h))
        || t.ec2_instance_id.as_deref() == Some(instance_id)
        || t.labels.get("instance_id").map(String::as_str) == Some(instance_id)
}

/// The broker's exporter: a job named for RabbitMQ, or a port RabbitMQ metrics are served on.
fn is_exporter(t: &ScrapeTarget) -> bool {
    let port = t
        .scrape_url
        .as_deref()
        .and_then(host_port)
        .and_then(|hp| hp.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()));
    t.job
        .as_deref()
        .is_some_and(|j| j.to_ascii_lowercase().contains("rabbitmq"))
        || port.is_some_and(|p| EXPORTER_PORTS.contains(&p))
}

/// `host:port` of a URL (the port defaulted from the scheme), lower-cased.
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.strip_prefix('[') {
        // [v6]:port
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port: u16 = match port {
        Some(p) => p.parse().ok()?,
        None if scheme.eq_ignore_ascii_case("https") => 443,
        None => 80,
    };
    Some(format!("{}:{port}", host.to_ascii_lowercase()))
}

fn host_only(hp: &str) -> &str {
    hp.rsplit_once(':').map_or(hp, |(h, _)| h)
}

/// A server's error text as code (it quotes URLs and expressions its own way).
fn quoted(e: &str) -> String {
    format!("`{}`", e.replace('`', "'"))
}

fn target_name(t: &ScrapeTarget) -> String {
    format!(
        "{} {}",
        t.job.as_deref().unwrap_or("?"),
        t.scrape_url.as_deref().unwrap_or("?")
    )
}

fn rule_name(r: &AlertingRule) -> String {
    match (&r.group, &r.name) {
        (Some(g), Some(n)) => format!("{n} ({g})"),
        (None, Some(n)) => n.clone(),
        _ => "an unnamed rule".into(),
    }
}

/// The spec's alarms a rule's expression covers, by the metrics it reads (comments and string
/// literals aside) and, for `up`, by the exporter's jobs.
pub(super) fn covers(query: &str, jobs: &BTreeSet<&str>) -> BTreeSet<&'static str> {
    let code = strip_comments(query);
    let mut out = BTreeSet::new();
    for name in identifiers(&code) {
        if let Some(alarm) = alarm_of(&name) {
            out.insert(alarm);
        }
    }
    if reads_exporter_up(&code, jobs) {
        out.insert("node down");
    }
    out
}

/// Whether PromQL `code` (comments stripped) reads `up` of one of the exporter's `jobs`: the
/// exporter's own scrape, which fails when the node does.
fn reads_exporter_up(code: &str, jobs: &BTreeSet<&str>) -> bool {
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(pos) = code[at..].find("up") {
        let start = at + pos;
        at = start + 2;
        let before_ok = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b':');
        let rest = code[start + 2..].trim_start();
        if !before_ok || !rest.starts_with('{') {
            continue;
        }
        let Some(close) = rest.find('}') else {
            continue;
        };
        let selector = &rest[1..close];
        if selector
            .split(',')
            .map(LabelMatcher::parse)
            .any(|m| m.name == "job" && m.op == "=" && jobs.contains(m.value.as_str()))
        {
            return true;
        }
    }
    false
}

/// Whether a node-down rule still fires when the whole host is gone. The exporter on the host
/// stops serving `rabbitmq_up` with it, so `rabbitmq_up == 0` never fires then: the rule must
/// read the exporter's `up`, or ask for the series' absence.
fn fires_without_host(query: &str, jobs: &BTreeSet<&str>) -> bool {
    let code = strip_comments(query);
    reads_exporter_up(&code, jobs)
        || identifiers(&code)
            .iter()
            .any(|i| i == "absent" || i == "absent_over_time")
}

fn alarm_of(metric: &str) -> Option<&'static str> {
    let m = metric;
    if !m.starts_with("rabbitmq_") {
        return None;
    }
    if m.starts_with("rabbitmq_queue_messages") || m.starts_with("rabbitmq_detailed_queue_messages")
    {
        return Some("queue depth or growth");
    }
    if m.contains("consumers") {
        return Some("queue consumers");
    }
    if matches!(
        m,
        "rabbitmq_alarms_memory_used_watermark"
            | "rabbitmq_node_mem_alarm"
            | "rabbitmq_resident_memory_limit_bytes"
            | "rabbitmq_node_mem_limit"
    ) {
        return Some("memory alarm");
    }
    if matches!(
        m,
        "rabbitmq_alarms_free_disk_space_watermark"
            | "rabbitmq_node_disk_free_alarm"
            | "rabbitmq_disk_space_available_limit_bytes"
            | "rabbitmq_node_disk_free_limit"
    ) {
        return Some("disk alarm");
    }
    if m == "rabbitmq_up" {
        return Some("node down");
    }
    None
}

/// PromQL without `#` comments (outside string literals).
fn strip_comments(q: &str) -> String {
    let mut out = String::new();
    for line in q.lines() {
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in line.chars() {
            match quote {
                Some(qc) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == qc {
                        quote = None;
                    }
                }
                None if c == '#' => break,
                None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
                None => {}
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// The identifiers of PromQL code outside string literals and label selectors' values.
fn identifiers(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in code.chars() {
        if let Some(qc) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == qc {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if matches!(c, '"' | '\'' | '`') {
            quote = Some(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The alarms no healthy rule covers; `None` when one is covered only by rules whose health is
/// not known yet.
fn missing(
    broker: &[(&AlertingRule, BTreeSet<&'static str>)],
    jobs: &BTreeSet<&str>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for alarm in ALARMS {
        let mut candidates: Vec<&AlertingRule> = broker
            .iter()
            .filter(|(_, c)| c.contains(alarm))
            .map(|(r, _)| *r)
            .collect();
        if alarm == "node down" {
            let (fire, quiet): (Vec<&AlertingRule>, Vec<&AlertingRule>) =
                candidates.into_iter().partition(|r| {
                    r.query
                        .as_deref()
                        .is_some_and(|q| fires_without_host(q, jobs))
                });
            if fire.is_empty() && !quiet.is_empty() {
                let names: Vec<String> = quiet.iter().map(|r| rule_name(r)).collect();
                out.push(format!(
                    "{alarm}: {} reads only rabbitmq_up, which goes with the host (alert on \
                     up of the exporter's job, or on absent(rabbitmq_up))",
                    crate::text::list_at_most(&names, 3)
                ));
                continue;
            }
            candidates = fire;
        }
        if candidates.iter().any(|r| r.health.as_deref() == Some("ok")) {
            continue;
        }
        let broken: Vec<String> = candidates
            .iter()
            .filter(|r| r.health.as_deref() == Some("err"))
            .map(|r| {
                let mut s = format!("{} is in error", rule_name(r));
                if let Some(e) = &r.last_error {
                    s.push_str(&format!(": {}", quoted(e)));
                }
                s
            })
            .collect();
        if broken.len() < candidates.len() {
            // Some candidate has not been evaluated yet: it may be fine.
            return None;
        }
        out.push(if broken.is_empty() {
            format!("{alarm}: no alerting rule")
        } else {
            format!("{alarm}: {}", broken.join("; "))
        });
    }
    Some(out)
}

/// Where an alert is delivered: the receiver, and the route that delivers it, whose own time
/// intervals decide when it sends.
pub(super) struct Delivery<'r> {
    pub receiver: String,
    pub route: &'r AlertRoute,
}

impl Delivery<'_> {
    /// When the delivering route sends nothing, in words; `None` when it always sends.
    pub(super) fn timed(&self) -> Option<String> {
        timed(
            &self.route.mute_time_intervals,
            &self.route.active_time_intervals,
        )
    }
}

/// When a route with these time intervals sends nothing, in words; `None` when it always sends.
pub(super) fn timed(mute: &[String], active: &[String]) -> Option<String> {
    let names = |l: &[String]| {
        let quoted: Vec<String> = l.iter().map(|n| format!("`{n}`")).collect();
        crate::text::list_at_most(&quoted, 3)
    };
    let mut when = Vec::new();
    if !mute.is_empty() {
        when.push(format!("muted during {}", names(mute)));
    }
    if !active.is_empty() {
        when.push(format!("sending only during {}", names(active)));
    }
    (!when.is_empty()).then(|| when.join(" and "))
}

/// Where an alert with `labels` is delivered, as Alertmanager routes it; `None` when a matcher
/// reads a label the alert's rule does not set (the series may carry it) or cannot be read.
pub(super) fn walk<'r>(
    node: &'r AlertRoute,
    labels: &BTreeMap<&str, &str>,
    inherited: Option<&str>,
) -> Option<Vec<Delivery<'r>>> {
    let receiver = node.receiver.as_deref().or(inherited);
    let mut out = Vec::new();
    let mut matched = false;
    for child in &node.routes {
        if !matches(child, labels)? {
            continue;
        }
        matched = true;
        out.extend(walk(child, labels, receiver)?);
        if !child.continue_matching {
            break;
        }
    }
    if !matched {
        out.push(Delivery {
            receiver: receiver.unwrap_or("").to_string(),
            route: node,
        });
    }
    Some(out)
}

fn matches(route: &AlertRoute, labels: &BTreeMap<&str, &str>) -> Option<bool> {
    for m in &route.matchers {
        let value = labels.get(m.name.as_str()).copied()?;
        if !holds(m, value)? {
            return Some(false);
        }
    }
    Some(true)
}

/// Whether matcher `m` holds for a label's `value` (`""` for an absent label, as Alertmanager
/// reads it); `None` for a matcher that cannot be read.
fn holds(m: &LabelMatcher, value: &str) -> Option<bool> {
    Some(match m.op.as_str() {
        "=" => value == m.value,
        "!=" => value != m.value,
        "=~" | "!~" => {
            let re = regex::Regex::new(&format!("^(?:{})$", m.value)).ok()?;
            re.is_match(value) == (m.op == "=~")
        }
        _ => return None,
    })
}

/// Why the alert with `labels` is muted whatever its route: a silence in force, or an inhibit
/// rule whose source is an alert that always fires; `Some(None)` when nothing mutes it, `None`
/// when the silences or inhibit rules were not read.
fn muted(
    am: &AlertmanagerServer,
    server: &PrometheusServer,
    labels: &BTreeMap<&str, &str>,
    exporters: &[&ScrapeTarget],
) -> Option<Option<String>> {
    let maybe = |may: Option<String>| match may {
        None => ("is", String::new()),
        Some(why) => ("may be", format!(" ({why})")),
    };
    for s in am.silences.as_ref()? {
        if let Some(may) = applies(&s.matchers, labels, exporters) {
            let until = s
                .ends_at
                .as_deref()
                .map(|e| format!(" until {e}"))
                .unwrap_or_default();
            let (verb, why) = maybe(may);
            return Some(Some(format!(
                "{verb} silenced by silence `{}`{until}{why}",
                s.id
            )));
        }
    }
    // An alert that always fires (a watchdog) inhibits, all the time, whatever its inhibit
    // rules point at; one that fires on a condition inhibits only while that holds.
    let always: Vec<&AlertingRule> = server
        .alert_rules
        .iter()
        .flatten()
        .filter(|r| r.query.as_deref().is_some_and(always_fires))
        .collect();
    for (n, i) in am.inhibit_rules.as_ref()?.iter().enumerate() {
        let Some(mut may) = applies(&i.target, labels, exporters) else {
            continue;
        };
        let source = always.iter().find_map(|r| {
            let mut l: BTreeMap<&str, &str> = r
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            l.insert("alertname", r.name.as_deref().unwrap_or(""));
            // The watchdog's series has no labels of its own: its labels are the rule's.
            applies(&i.source, &l, &[])
                .filter(|m| m.is_none())
                .map(|_| (r, l))
        });
        let Some((source, source_labels)) = source else {
            continue;
        };
        let mut differs = false;
        for e in &i.equal {
            let theirs = source_labels.get(e.as_str()).copied().unwrap_or("");
            match labels.get(e.as_str()) {
                Some(ours) => differs |= *ours != theirs,
                None => {
                    may = Some(format!(
                        "its `equal` label `{e}` is one only the alert's series can carry"
                    ))
                }
            }
        }
        if differs {
            continue;
        }
        let (verb, why) = maybe(may);
        return Some(Some(format!(
            "{verb} inhibited by inhibit rule {} whenever {} fires, which is always{why}",
            n + 1,
            rule_name(source)
        )));
    }
    Some(None)
}

/// Whether an alerting rule's expression fires all the time: a constant vector, no metric read.
fn always_fires(query: &str) -> bool {
    let code = strip_comments(query);
    let words: Vec<String> = identifiers(&code)
        .into_iter()
        .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    words == ["vector"] && !code.contains(['<', '>', '=', '!'])
}

/// Whether `matchers` all hold for an alert with `labels` from the host's exporter `targets`:
/// `Some(None)` when they do, `Some(Some(why))` when they may (a matcher reads a label the rule
/// does not set: the targets' value, which the alert carries unless its rule aggregates it
/// away, or a label only the series can carry), `None` when they do not.
fn applies(
    matchers: &[LabelMatcher],
    labels: &BTreeMap<&str, &str>,
    targets: &[&ScrapeTarget],
) -> Option<Option<String>> {
    let mut may = None;
    for m in matchers {
        if let Some(v) = labels.get(m.name.as_str()) {
            match holds(m, v) {
                Some(true) => {}
                Some(false) => return None,
                None => may = Some(format!("its matcher on `{}` cannot be read", m.name)),
            }
            continue;
        }
        let from_targets: Vec<&str> = targets
            .iter()
            .filter_map(|t| {
                t.labels
                    .get(&m.name)
                    .map(String::as_str)
                    .or(if m.name == "job" {
                        t.job.as_deref()
                    } else {
                        None
                    })
            })
            .collect();
        // Absent from the alert, a label reads as "".
        let if_absent = holds(m, "");
        if from_targets.is_empty() {
            if if_absent != Some(true) {
                may = Some(format!(
                    "it matches on `{}`, which only the alert's series can carry",
                    m.name
                ));
            }
            continue;
        }
        let if_present = from_targets.iter().map(|v| holds(m, v)).collect::<Vec<_>>();
        match (if_absent, if_present.iter().any(|h| *h != Some(false))) {
            (Some(false), false) => return None,
            (Some(true), true) if if_present.iter().all(|h| *h == Some(true)) => {}
            _ => {
                may = Some(format!(
                    "whether it holds depends on the host's `{}`, which the alert carries \
                     unless its rule aggregates it away",
                    m.name
                ))
            }
        }
    }
    Some(may)
}
