use serde_json::json;

use super::*;
use crate::model::LabelMatcher;

#[test]
fn targets_keep_the_scrape_url_and_what_ec2_discovery_found() {
    let t = normalize_targets(&json!({"activeTargets": [
        {"discoveredLabels": {"__meta_ec2_instance_id": "i-0c4f"}, "labels": {"job": "rabbitmq", "instance": "rabbitmq-1:9419"},
         "scrapePool": "rabbitmq", "scrapeUrl": "http://10.0.2.15:9419/metrics", "health": "up", "lastError": ""},
        {"labels": {}, "scrapePool": "node", "health": "down", "lastError": "connection refused"}
    ]}))
    .unwrap();
    assert_eq!(t[0].job.as_deref(), Some("rabbitmq"));
    assert_eq!(t[0].ec2_instance_id.as_deref(), Some("i-0c4f"));
    assert_eq!(t[0].last_error, None, "an empty error is none");
    assert_eq!(
        t[1].job.as_deref(),
        Some("node"),
        "the pool names a target without a job"
    );
    assert_eq!(t[1].scrape_url, None);
    assert!(normalize_targets(&json!({"droppedTargets": []})).is_err());
}

#[test]
fn only_alerting_rules_are_kept_with_their_group_labels_and_health() {
    let r = normalize_rules(&json!({"groups": [{"name": "g", "rules": [
        {"type": "recording", "name": "job:up:sum", "query": "sum(up)"},
        {"type": "alerting", "name": "Down", "query": "up == 0", "labels": {"severity": "critical"},
         "health": "err", "lastError": "boom"}
    ]}]}))
    .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].group.as_deref(), Some("g"));
    assert_eq!(
        r[0].labels.get("severity").map(String::as_str),
        Some("critical")
    );
    assert_eq!(
        (r[0].health.as_deref(), r[0].last_error.as_deref()),
        (Some("err"), Some("boom"))
    );
    assert!(normalize_rules(&json!({"groups": [{"name": "g"}]})).is_err());
    assert_eq!(
        normalize_alertmanagers(
            &json!({"activeAlertmanagers": [{"url": "http://a:9093/api/v2/alerts"}]})
        )
        .unwrap(),
        ["http://a:9093/api/v2/alerts"]
    );
}

#[test]
fn the_routing_tree_and_receivers_of_the_running_configuration() {
    let yaml = r#"
global:
  resolve_timeout: 5m
route:
  receiver: default
  routes:
  - match: {service: rabbitmq}
    match_re: {severity: "critical|warning"}
    matchers: ['team!="other"']
    continue: true
    receiver: pd
    routes:
    - matchers: ['{alertname=~"RabbitMQ.*"}']
receivers:
- name: default
  email_configs:
  - to: ops@example.com
- name: pd
  pagerduty_configs:
  - routing_key: <secret>
    url: https://events.pagerduty.com/v2/enqueue
  webhook_configs:
  - url: <secret>
"#;
    let AlertmanagerConfig {
        route, receivers, ..
    } = normalize_alertmanager_config(yaml).unwrap();
    assert_eq!(route.receiver.as_deref(), Some("default"));
    let child = &route.routes[0];
    assert!(child.continue_matching);
    let m: Vec<(&str, &str, &str)> = child
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op.as_str(), m.value.as_str()))
        .collect();
    assert_eq!(
        m,
        [
            ("service", "=", "rabbitmq"),
            ("severity", "=~", "critical|warning"),
            ("team", "!=", "other")
        ]
    );
    assert_eq!(child.routes[0].receiver, None, "inherited");
    assert_eq!(child.routes[0].matchers[0].op, "=~");
    assert_eq!(receivers[0].integrations, ["email"]);
    assert_eq!(receivers[1].integrations, ["pagerduty", "webhook"]);
    assert_eq!(
        receivers[1].pagerduty_urls,
        ["https://events.pagerduty.com/v2/enqueue"]
    );
    assert!(
        normalize_alertmanager_config("receivers: []\n").is_err(),
        "no route"
    );
}

#[test]
fn matchers_parse_or_stay_unreadable() {
    let p = |t: &str| {
        let m = LabelMatcher::parse(t);
        (m.name, m.op, m.value)
    };
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(p(r#"severity="critical""#), s("severity", "=", "critical"));
    assert_eq!(p(r#"severity =~ "crit.*""#), s("severity", "=~", "crit.*"));
    assert_eq!(p("team!=ops"), s("team", "!=", "ops"));
    assert_eq!(p(r#"a!~"x\"y""#), s("a", "!~", "x\"y"));
    assert_eq!(p(r#"job="rabbitmq""#), s("job", "=", "rabbitmq"));
    for bad in [r#"="x""#, "severity", r#"a="unterminated"#, r#"a>"x""#] {
        assert_eq!(LabelMatcher::parse(bad).op, "?", "{bad}");
    }
    let section = permissions_section();
    for e in PROMETHEUS_READS.iter().chain(ALERTMANAGER_READS) {
        assert!(e.path.starts_with("/api/"));
        assert!(section.contains(e.path), "{section}");
    }
}

#[test]
fn only_silences_in_force_are_kept_with_their_matchers_as_operators() {
    let data = json!([
        {"id": "a1", "status": {"state": "active"}, "endsAt": "2027-01-01T00:00:00.000Z",
         "matchers": [
            {"name": "service", "value": "rabbitmq", "isRegex": false, "isEqual": true},
            {"name": "severity", "value": "info", "isRegex": false, "isEqual": false},
            {"name": "alertname", "value": "RabbitMQ.*", "isRegex": true, "isEqual": true},
            {"name": "team", "value": "db.*", "isRegex": true, "isEqual": false}
         ]},
        {"id": "e1", "status": {"state": "expired"},
         "matchers": [{"name": "service", "value": "rabbitmq", "isRegex": false}]},
        {"id": "p1", "status": {"state": "pending"},
         "matchers": [{"name": "service", "value": "rabbitmq", "isRegex": false}]},
        // Before 0.22 there is no `isEqual`: an equality.
        {"id": "o1", "status": {"state": "active"},
         "matchers": [{"name": "job", "value": "rabbitmq", "isRegex": false}]}
    ]);
    let got = normalize_silences(&data).unwrap();
    let ids: Vec<&str> = got.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a1", "o1"]);
    let ops: Vec<&str> = got[0].matchers.iter().map(|m| m.op.as_str()).collect();
    assert_eq!(ops, ["=", "!=", "=~", "!~"]);
    assert_eq!(got[0].ends_at.as_deref(), Some("2027-01-01T00:00:00.000Z"));
    assert_eq!(got[1].matchers[0].op, "=");
}

#[test]
fn silences_that_cannot_be_read_are_an_error_never_none_in_force() {
    for (data, says) in [
        (json!({"silences": []}), "not a list"),
        (json!([{"id": "a", "matchers": []}]), "status.state"),
        (
            json!([{"status": {"state": "active"}, "matchers": []}]),
            "no `id`",
        ),
        (
            json!([{"id": "a", "status": {"state": "active"}}]),
            "no `matchers`",
        ),
        (
            json!([{"id": "a", "status": {"state": "active"},
                    "matchers": [{"name": "service", "value": "rabbitmq"}]}]),
            "without name, value or isRegex",
        ),
    ] {
        let err = normalize_silences(&data).unwrap_err();
        assert!(err.contains(says), "{data}: {err}");
    }
}

#[test]
fn inhibit_rules_and_time_intervals_of_the_running_configuration() {
    let yaml = r#"
route:
  receiver: pd
  routes:
  - receiver: pd
    matchers: ['service="rabbitmq"']
    mute_time_intervals: [weekends]
    active_time_intervals: [office-hours]
receivers:
- name: pd
inhibit_rules:
- source_match: {alertname: Watchdog}
  target_matchers: ['service="rabbitmq"']
  equal: [cluster]
- source_matchers: ['severity="critical"']
  target_match_re: {severity: "warning|info"}
"#;
    let cfg = normalize_alertmanager_config(yaml).unwrap();
    assert!(cfg.route.mute_time_intervals.is_empty());
    assert_eq!(cfg.route.routes[0].mute_time_intervals, ["weekends"]);
    assert_eq!(cfg.route.routes[0].active_time_intervals, ["office-hours"]);
    let side = |ms: &[LabelMatcher]| -> Vec<String> {
        ms.iter()
            .map(|m| format!("{}{}{}", m.name, m.op, m.value))
            .collect()
    };
    assert_eq!(cfg.inhibit_rules.len(), 2);
    assert_eq!(side(&cfg.inhibit_rules[0].source), ["alertname=Watchdog"]);
    assert_eq!(side(&cfg.inhibit_rules[0].target), ["service=rabbitmq"]);
    assert_eq!(cfg.inhibit_rules[0].equal, ["cluster"]);
    assert_eq!(side(&cfg.inhibit_rules[1].source), ["severity=critical"]);
    assert_eq!(
        side(&cfg.inhibit_rules[1].target),
        ["severity=~warning|info"]
    );
    // None written: an empty list, read (not unknown).
    let bare = normalize_alertmanager_config("route: {receiver: pd}\n").unwrap();
    assert!(bare.inhibit_rules.is_empty());
}
