//! Prometheus and Alertmanager collection against the real programs (Debian's `prometheus` and
//! `prometheus-alertmanager`, started here on 127.0.0.1 with generated configuration), a RabbitMQ
//! exporter stand-in on the host's own address (127.0.2.15, a loopback alias), and recorded
//! error answers (`wiremock`) for what the programs cannot be made to say. The collected servers
//! go into the compliant inventory, whose RabbitMQ host is given that address, and the audit
//! judges them: the compliant plane passes the three `rabbitmq-*` monitoring rules, each broken
//! plane fails its rule, and every fault is `unknown`.
//!
//! Where the programs are not installed (a contributor's laptop) the tests say so on stderr and
//! pass; under `ESTATE_AUDIT_CI` (set by `.ci/run`, which installs them) they fail instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use estate_audit::audit;
use estate_audit::collect::prometheus::{self, Credential, Options, Target};
use estate_audit::collect::Secret;
use estate_audit::finding::Status;
use estate_audit::model::{ErrorKind, Inventory};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The RabbitMQ host's address in these tests: its exporter listens there.
const HOST: &str = "127.0.2.15";
const RULES: [&str; 3] = [
    "rabbitmq-prometheus-scraped",
    "rabbitmq-prometheus-alert-rules",
    "rabbitmq-alerts-route-pagerduty",
];

// ---------------------------------------------------------------------------------------------
// The programs

/// The path of `names`' first program found on PATH; `None` (said on stderr) when none is, and a
/// failure under CI, which installs them.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    assert!(
        std::env::var_os("ESTATE_AUDIT_CI").is_none(),
        "{} is not installed, and CI must run these tests (.ci/run installs it)",
        names[0]
    );
    eprintln!(
        "{} is not installed: skipping the real-program test",
        names[0]
    );
    None
}

fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A started program, stopped when dropped.
struct Running {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(
    bin: &Path,
    args: impl Fn(&Path, u16) -> Vec<String>,
    files: &[(&str, String)],
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let port = free_port("127.0.0.1");
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let child = Command::new(bin)
        .args(args(dir.path(), port))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    Running {
        child,
        url,
        _dir: dir,
    }
}

/// GET `url` until `ready` holds of its JSON, for at most 60 s; the program's log on failure.
async fn wait_for(r: &Running, path: &str, ready: impl Fn(&Value) -> bool) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(resp) = client.get(format!("{}{path}", r.url)).send().await {
            if let Ok(v) = resp.json::<Value>().await {
                if ready(&v) {
                    return;
                }
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(r._dir.path().join("log")).unwrap_or_default();
            panic!("{}{path} not ready after 60 s; log:\n{log}", r.url);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const PAGERDUTY_RECEIVER: &str = r#"- name: pagerduty-estate-production
  pagerduty_configs:
  - routing_key: 3c5e0d8f7a1b4c2e9f6a8b0d1e3f5a7c
    url: https://events.pagerduty.com/v2/enqueue
    send_resolved: true
"#;

/// Alertmanager's configuration: the RabbitMQ alerts to `rabbitmq_receiver`.
fn alertmanager_yaml(rabbitmq_receiver: &str) -> String {
    format!(
        r#"route:
  receiver: "null"
  group_by: [alertname]
  routes:
  - receiver: "null"
    matchers: ['alertname="Watchdog"']
  - receiver: {rabbitmq_receiver}
    matchers: ['service="rabbitmq"', 'severity=~"critical|warning"']
receivers:
- name: "null"
{PAGERDUTY_RECEIVER}"#
    )
}

async fn alertmanager(yaml: &str) -> Option<Running> {
    let bin = program(&["prometheus-alertmanager", "alertmanager"])?;
    let r = start(
        &bin,
        |dir, port| {
            vec![
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                // No cluster: nothing listens beyond the one port.
                "--cluster.listen-address=".into(),
            ]
        },
        &[("alertmanager.yml", yaml.to_string())],
    );
    wait_for(&r, "/api/v2/status", |v| v.get("config").is_some()).await;
    Some(r)
}

/// The rule file: the spec's RabbitMQ alarms, `node_down` being the node-down rule's expression.
fn rules_yaml(node_down: &str) -> String {
    format!(
        r#"groups:
- name: rabbitmq.rules
  interval: 1s
  rules:
  - alert: RabbitMQQueueDepthHigh
    expr: sum by (queue) (rabbitmq_queue_messages_ready{{job="rabbitmq"}}) > 10000
    labels: {{service: rabbitmq, severity: warning}}
  - alert: RabbitMQNoConsumers
    expr: rabbitmq_queue_consumers{{job="rabbitmq", queue="requests"}} == 0
    labels: {{service: rabbitmq, severity: critical}}
  - alert: RabbitMQMemoryAlarm
    expr: max(rabbitmq_alarms_memory_used_watermark{{job="rabbitmq"}}) == 1
    labels: {{service: rabbitmq, severity: critical}}
  - alert: RabbitMQDiskAlarm
    expr: max(rabbitmq_alarms_free_disk_space_watermark{{job="rabbitmq"}}) == 1
    labels: {{service: rabbitmq, severity: critical}}
  - alert: RabbitMQNodeDown
    expr: {node_down}
    labels: {{service: rabbitmq, severity: critical}}
"#
    )
}

/// Prometheus scraping `exporter` (host:port) as job `rabbitmq`, with `rules`, sending to
/// `alertmanager` (a URL) when given.
async fn prometheus_server(
    exporter: &str,
    rules: &str,
    alertmanager: Option<&str>,
) -> Option<Running> {
    let bin = program(&["prometheus"])?;
    let alerting = match alertmanager {
        Some(url) => format!(
            "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['{}']\n",
            url.trim_start_matches("http://")
        ),
        None => String::new(),
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{alerting}\
         rule_files: ['rabbitmq.yml']\n\
         scrape_configs:\n- job_name: rabbitmq\n  static_configs:\n  - targets: ['{exporter}']\n"
    );
    let r = start(
        &bin,
        |dir, port| {
            vec![
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ]
        },
        &[
            ("prometheus.yml", config),
            ("rabbitmq.yml", rules.to_string()),
        ],
    );
    // Scraped once and every rule evaluated once: health is then up or down, ok or err.
    wait_for(&r, "/api/v1/targets", |v| {
        v.pointer("/data/activeTargets/0/health")
            .and_then(Value::as_str)
            .is_some_and(|h| h != "unknown")
    })
    .await;
    wait_for(&r, "/api/v1/rules", |v| {
        v.pointer("/data/groups/0/rules")
            .and_then(Value::as_array)
            .is_some_and(|rs| {
                rs.iter()
                    .all(|r| r.get("health").and_then(Value::as_str) != Some("unknown"))
            })
    })
    .await;
    if alertmanager.is_some() {
        wait_for(&r, "/api/v1/alertmanagers", |v| {
            v.pointer("/data/activeAlertmanagers/0").is_some()
        })
        .await;
    }
    Some(r)
}

/// The broker's exporter stand-in on the host's address: the metrics the rules read.
async fn exporter() -> MockServer {
    let listener = TcpListener::bind((HOST, 0)).unwrap();
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("GET"))
        .and(path("/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "# TYPE rabbitmq_queue_messages_ready gauge\n\
             rabbitmq_queue_messages_ready{queue=\"requests\"} 3\n\
             # TYPE rabbitmq_queue_consumers gauge\n\
             rabbitmq_queue_consumers{queue=\"requests\"} 2\n\
             # TYPE rabbitmq_alarms_memory_used_watermark gauge\n\
             rabbitmq_alarms_memory_used_watermark 0\n\
             # TYPE rabbitmq_alarms_free_disk_space_watermark gauge\n\
             rabbitmq_alarms_free_disk_space_watermark 0\n",
            "text/plain; version=0.0.4",
        ))
        .mount(&server)
        .await;
    server
}

// ---------------------------------------------------------------------------------------------
// The audit of what was collected

fn compliant(prometheus_url: &str, alertmanager_url: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compliant.json");
    let mut inv: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    inv["estate"]["monitoring"]["prometheus"] = json!({"url": prometheus_url});
    inv["estate"]["monitoring"]["alertmanager"] = json!({"url": alertmanager_url});
    let resources = inv["resources"].as_array_mut().unwrap();
    resources.retain(|r| {
        !matches!(
            r["kind"].as_str(),
            Some("prometheus.server" | "alertmanager.server")
        )
    });
    for r in resources.iter_mut() {
        if r["id"]
            .as_str()
            .is_some_and(|id| id.ends_with("instance/i-0f00rabbitmq000001"))
        {
            r["attrs"]["private_ip_address"] = json!(HOST);
            r["attrs"]["network_interfaces"][0]["private_ip_addresses"] = json!([HOST]);
        }
    }
    inv
}

/// Collects the two servers, puts them in the compliant inventory and audits it: each
/// `rabbitmq-*` monitoring rule's status on the host, and the collection errors.
async fn audit_of(
    prom: Option<&str>,
    am: Option<&str>,
    opts: &Options,
) -> (Vec<(String, Status, String)>, Vec<String>) {
    let collected = prometheus::collect(
        opts,
        Some(prom.map_or(Target::NoUrl, Target::Url)),
        Some(am.map_or(Target::NoUrl, Target::Url)),
    )
    .await;
    let mut inv = compliant(prom.unwrap_or("http://none"), am.unwrap_or("http://none"));
    if prom.is_none() {
        inv["estate"]["monitoring"]
            .as_object_mut()
            .unwrap()
            .remove("prometheus");
    }
    let mut inv: Inventory = serde_json::from_value(inv).unwrap();
    inv.resources.extend(collected.resources);
    let errors: Vec<String> = collected.errors.iter().map(|e| e.message.clone()).collect();
    inv.collection_errors.extend(collected.errors);
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
    let policies = PolicySet::builtin().unwrap();
    let report = audit::run(inv, None, &policies, &WaiverSet::empty(), now);
    let statuses = RULES
        .iter()
        .map(|id| {
            let f = report
                .findings
                .iter()
                .find(|f| {
                    f.rule_id.as_ref() == *id && f.resource_id.ends_with("i-0f00rabbitmq000001")
                })
                .unwrap_or_else(|| panic!("no {id} finding"));
            (id.to_string(), f.status, f.message.to_string())
        })
        .collect();
    (statuses, errors)
}

fn status(got: &[(String, Status, String)], rule: &str) -> Status {
    got.iter().find(|(id, _, _)| id == rule).unwrap().1
}

#[tokio::test]
async fn the_real_programs_compliant_and_broken() {
    let Some(am) = alertmanager(&alertmanager_yaml("pagerduty-estate-production")).await else {
        return;
    };
    let exp = exporter().await;
    let exporter_addr = exp.address().to_string();
    let node_down = r#"up{job="rabbitmq"} == 0"#;
    let Some(prom) = prometheus_server(&exporter_addr, &rules_yaml(node_down), Some(&am.url)).await
    else {
        return;
    };
    let (got, errors) = audit_of(Some(&prom.url), Some(&am.url), &Options::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    for (rule, s, msg) in &got {
        assert_eq!(*s, Status::Pass, "{rule}: {msg}");
    }

    // Broken, one thing at a time.
    // 1. The RabbitMQ alerts routed to the null receiver.
    let null_am = alertmanager(&alertmanager_yaml("\"null\"")).await.unwrap();
    let prom_null = prometheus_server(&exporter_addr, &rules_yaml(node_down), Some(&null_am.url))
        .await
        .unwrap();
    let (got, _) = audit_of(
        Some(&prom_null.url),
        Some(&null_am.url),
        &Options::default(),
    )
    .await;
    assert_eq!(
        status(&got, "rabbitmq-alerts-route-pagerduty"),
        Status::Fail,
        "{got:?}"
    );
    assert_eq!(status(&got, "rabbitmq-prometheus-scraped"), Status::Pass);
    // 2. Prometheus sends to no Alertmanager; no node-down rule (the expression reads nothing
    //    of the broker); the exporter scraped at another address (not the host's).
    let elsewhere = format!("127.0.0.1:{}", exp.address().port());
    let prom_bad = prometheus_server(&elsewhere, &rules_yaml("vector(0) > 1"), None)
        .await
        .unwrap();
    let (got, _) = audit_of(Some(&prom_bad.url), Some(&am.url), &Options::default()).await;
    for rule in RULES {
        assert_eq!(status(&got, rule), Status::Fail, "{rule}: {got:?}");
    }
    // 3. The exporter stopped: the target is down.
    let down_addr = format!("{HOST}:{}", free_port(HOST));
    let prom_down = prometheus_server(&down_addr, &rules_yaml(node_down), Some(&am.url))
        .await
        .unwrap();
    let (got, _) = audit_of(Some(&prom_down.url), Some(&am.url), &Options::default()).await;
    assert_eq!(
        status(&got, "rabbitmq-prometheus-scraped"),
        Status::Fail,
        "{got:?}"
    );
    assert!(got[0].2.contains("is down"), "{}", got[0].2);

    // 4. A silence in force on the compliant Alertmanager (the test sets it up: the auditor
    //    only reads): the routes are untouched, yet the alerts page nobody.
    let silence = json!({
        "matchers": [{"name": "service", "value": "rabbitmq", "isRegex": false, "isEqual": true}],
        "startsAt": Utc::now().to_rfc3339(),
        "endsAt": (Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
        "createdBy": "estate-audit tests",
        "comment": "a maintenance silence left in place"
    });
    let created = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", am.url))
        .json(&silence)
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{created:?}");
    let (got, errors) = audit_of(Some(&prom.url), Some(&am.url), &Options::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(status(&got, "rabbitmq-prometheus-scraped"), Status::Pass);
    let (_, s, msg) = got
        .iter()
        .find(|(id, _, _)| id == "rabbitmq-alerts-route-pagerduty")
        .unwrap();
    assert_eq!(*s, Status::Fail, "{msg}");
    assert!(msg.contains("is silenced by silence"), "{msg}");

    // 5. The PagerDuty route muted at weekends by a time interval.
    let muted_yaml = alertmanager_yaml("pagerduty-estate-production").replace(
        "    matchers: ['service=\"rabbitmq\"', 'severity=~\"critical|warning\"']\n",
        "    matchers: ['service=\"rabbitmq\"', 'severity=~\"critical|warning\"']\n    \
         mute_time_intervals: [weekends]\n",
    );
    let muted_yaml = format!(
        "time_intervals:\n- name: weekends\n  time_intervals:\n  - weekdays: ['saturday', \
         'sunday']\n{muted_yaml}"
    );
    assert!(muted_yaml.contains("mute_time_intervals"), "{muted_yaml}");
    let muted_am = alertmanager(&muted_yaml).await.unwrap();
    let prom_muted = prometheus_server(&exporter_addr, &rules_yaml(node_down), Some(&muted_am.url))
        .await
        .unwrap();
    let (got, errors) = audit_of(
        Some(&prom_muted.url),
        Some(&muted_am.url),
        &Options::default(),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let (_, s, msg) = got
        .iter()
        .find(|(id, _, _)| id == "rabbitmq-alerts-route-pagerduty")
        .unwrap();
    assert_eq!(*s, Status::Fail, "{msg}");
    assert!(msg.contains("muted during `weekends`"), "{msg}");
    drop(exp);

    // A server that does not answer: unknown, and the error names the endpoint.
    let closed = format!("http://127.0.0.1:{}", free_port("127.0.0.1"));
    let (got, errors) = audit_of(Some(&closed), Some(&am.url), &Options::default()).await;
    for rule in RULES {
        assert_eq!(status(&got, rule), Status::Unknown, "{rule}: {got:?}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e.contains("GET /api/v1/targets") && e.contains("cannot connect")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_server_in_the_audit_without_a_url_is_unknown_and_says_what_to_set() {
    let (got, errors) = audit_of(None, None, &Options::default()).await;
    for rule in RULES {
        assert_eq!(status(&got, rule), Status::Unknown, "{rule}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e.contains("[monitoring.prometheus] url is not set")),
        "{errors:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Recorded answers: errors and credentials

const TOKEN: &str = "prom-test-bearer-token-4c1f9a";

#[tokio::test]
async fn refusals_and_garbled_answers_are_collection_errors_naming_the_endpoint() {
    let cases: Vec<(&str, ResponseTemplate, ErrorKind, &str)> = vec![
        (
            "401",
            ResponseTemplate::new(401)
                .set_body_raw("Unauthorized\n", "text/plain; charset=utf-8")
                .insert_header("www-authenticate", "Basic"),
            ErrorKind::AccessDenied,
            "HTTP 401, Unauthorized",
        ),
        (
            "503",
            ResponseTemplate::new(503).set_body_raw("Service Unavailable", "text/plain"),
            ErrorKind::Other,
            "HTTP 503, Service Unavailable",
        ),
        (
            "error envelope",
            ResponseTemplate::new(400).set_body_json(
                json!({"status": "error", "errorType": "bad_data", "error": "invalid parameter"}),
            ),
            ErrorKind::Other,
            "bad_data: invalid parameter",
        ),
        (
            "not successful",
            ResponseTemplate::new(200).set_body_json(json!({"status": "error"})),
            ErrorKind::Other,
            "not a successful Prometheus answer",
        ),
        (
            "429",
            ResponseTemplate::new(429)
                .set_body_raw("Too Many Requests\n", "text/plain")
                .insert_header("retry-after", "0"),
            ErrorKind::Throttled,
            "rate limited by Prometheus (",
        ),
    ];
    for (name, reply, kind, says) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(reply)
            .mount(&server)
            .await;
        let opts = Options {
            limits: estate_audit::collect::http::Limits {
                max_retry_wait: Duration::from_millis(10),
                max_retries: 2,
                retry_budget: 4,
                ..Default::default()
            },
            ..Options::default()
        };
        let c = prometheus::collect(&opts, Some(Target::Url(&server.uri())), None).await;
        assert_eq!(
            c.errors.len(),
            3,
            "{name}: every read fails: {:?}",
            c.errors
        );
        for e in &c.errors {
            assert_eq!(e.kind, kind, "{name}: {}", e.message);
            assert!(e.message.contains(says), "{name}: {}", e.message);
            assert!(e.message.contains("GET /api/v1/"), "{name}: {}", e.message);
        }
        // The server is kept, with nothing read: every list unknown.
        let text = serde_json::to_string(&c.resources).unwrap();
        assert!(!text.contains("\"targets\":["), "{name}: {text}");
        for r in server.received_requests().await.unwrap() {
            assert_eq!(r.method.as_str(), "GET");
        }
    }
}

#[tokio::test]
async fn alertmanager_yaml_that_cannot_be_read_is_an_error_not_an_empty_tree() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "cluster": {"status": "disabled"},
            "config": {"original": "route: [unclosed\n  routing_key: 0123456789abcdef0123456789abcdef\n"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/silences"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let c = prometheus::collect(&Options::default(), None, Some(Target::Url(&server.uri()))).await;
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(
        c.errors[0]
            .message
            .contains("could not be read: not valid YAML"),
        "{}",
        c.errors[0].message
    );
    assert!(
        !c.errors[0].message.contains("0123456789abcdef"),
        "no config text in messages"
    );
    let text = serde_json::to_string(&c.resources).unwrap();
    assert!(!text.contains("\"route\":{"), "{text}");
}

#[tokio::test]
async fn credentials_are_sent_as_given_and_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(401).set_body_raw(format!("token {TOKEN} refused"), "text/plain"),
        )
        .mount(&server)
        .await;
    let opts = Options {
        prometheus: Some(Credential::Bearer(Secret::new(TOKEN))),
        ..Options::default()
    };
    let c = prometheus::collect(&opts, Some(Target::Url(&server.uri())), None).await;
    assert_eq!(c.errors.len(), 3);
    for e in &c.errors {
        assert!(!e.message.contains(TOKEN), "{}", e.message);
        assert!(e.message.contains("token *** refused"), "{}", e.message);
    }
    let basic = Credential::from_env("B", None, "U", Some("audit:s3cret-pass".into())).unwrap();
    assert!(matches!(basic, Some(Credential::Basic(_))));
    assert!(Credential::from_env("B", None, "U", Some("no-colon".into())).is_err());
    assert!(Credential::from_env("B", Some("short".into()), "U", None).is_err());
    // A credential is only sent over HTTPS or to this machine.
    let c = prometheus::collect(
        &opts,
        Some(Target::Url("http://prometheus.example.com:9090")),
        None,
    )
    .await;
    assert!(
        c.errors[0].message.contains("only sent over HTTPS"),
        "{}",
        c.errors[0].message
    );
}
