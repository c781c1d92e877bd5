//! Grafana collection against recorded, realistic answers of its HTTP API served on 127.0.0.1
//! (`wiremock`; `tests/fixtures/grafana/`, shaped after Grafana's published models, ids and keys
//! invented): six GETs read the data sources, every page of dashboards, the alert rules, the
//! contact points, the policy tree and the decrypting export (whose keys become digests at once);
//! a token without the secrets permission leaves only the keys unknown; refusals, garbled
//! answers and a search that does not end are collection errors naming the endpoint; the token
//! and the keys never reach a message. The rules over what is read are judged in
//! `tests/rules.rs` (`grafana-*` fixtures).

use estate_audit::collect::grafana::{self, Options, ENDPOINTS};
use estate_audit::collect::{key_digest, Secret};
use estate_audit::model::{Attrs, ErrorKind, GrafanaInstance};
use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "glsa_test0token0for0grafana0audit_3c1f9a2b";
/// The PagerDuty key of the export fixture.
const GRAFANA_KEY: &str = "9b1d4f6a2c8e4a0b8d7f5e3c1a9b2d4f";

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/grafana")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn options() -> Options {
    Options {
        token: Some(Secret::new(TOKEN)),
        // Four dashboards a page: the fixtures' search has two pages.
        page: 4,
        ..Options::default()
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn mount(server: &MockServer, p: &str, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(p))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(reply)
        .mount(server)
        .await;
}

/// The compliant organisation, but for `except` (a path answered otherwise by the caller).
async fn organisation(except: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    let answers = [
        ("/api/datasources", "datasources.json"),
        (
            "/api/v1/provisioning/alert-rules",
            "provisioning.alert-rules.json",
        ),
        (
            "/api/v1/provisioning/contact-points",
            "provisioning.contact-points.json",
        ),
        (
            "/api/v1/provisioning/policies",
            "provisioning.policies.json",
        ),
    ];
    for (p, file) in answers {
        if !except.contains(&p) {
            mount(&server, p, ok(fixture(file))).await;
        }
    }
    if !except.contains(&"/api/v1/provisioning/contact-points/export") {
        Mock::given(method("GET"))
            .and(path("/api/v1/provisioning/contact-points/export"))
            .and(query_param("decrypt", "true"))
            .and(query_param("format", "json"))
            .respond_with(ok(fixture(
                "provisioning.contact-points.export.decrypt.json",
            )))
            .mount(&server)
            .await;
    }
    if !except.contains(&"/api/search") {
        for (page, file) in [
            ("1", "search.type-dash-db.limit-4.page1.json"),
            ("2", "search.type-dash-db.limit-4.page2.json"),
        ] {
            Mock::given(method("GET"))
                .and(path("/api/search"))
                .and(query_param("type", "dash-db"))
                .and(query_param("limit", "4"))
                .and(query_param("page", page))
                .respond_with(ok(fixture(file)))
                .mount(&server)
                .await;
        }
    }
    server
}

fn instance(c: &grafana::Collected) -> &GrafanaInstance {
    assert_eq!(c.resources.len(), 1, "{:?}", c.errors);
    match &c.resources[0].attrs {
        Attrs::GrafanaInstance(g) => g,
        other => panic!("{other:?}"),
    }
}

fn assert_no_secret(c: &grafana::Collected) {
    let text = format!(
        "{} {:?}",
        serde_json::to_string(&c.resources).unwrap(),
        c.errors
    );
    for s in [TOKEN, GRAFANA_KEY] {
        assert!(!text.contains(s), "{s} leaked");
    }
}

#[tokio::test]
async fn the_organisation_is_read_in_seven_gets_and_the_keys_become_digests() {
    let server = organisation(&[]).await;
    let c = grafana::collect(&options(), Some(&server.uri())).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let g = instance(&c);
    let ds = g.datasources.as_ref().unwrap();
    assert_eq!(ds[0].source_type.as_deref(), Some("cloudwatch"));
    assert_eq!(ds[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(g.dashboards.as_ref().unwrap().len(), 6, "both pages");
    let rules = g.alert_rules.as_ref().unwrap();
    assert_eq!(rules.len(), 7);
    assert!(rules[0].queries[0].contains("rabbitmq_queue_messages_ready"));
    assert_eq!(
        rules[6].receiver.as_deref(),
        Some("pagerduty-estate-production"),
        "simplified routing"
    );
    let points = g.contact_points.as_ref().unwrap();
    let pd = points
        .iter()
        .find(|p| p.integration_type.as_deref() == Some("pagerduty"))
        .unwrap();
    assert_eq!(pd.key_digest, Some(key_digest(GRAFANA_KEY)));
    let policy = g.policy.as_ref().unwrap();
    assert_eq!(policy.receiver.as_deref(), Some("grafana-default-email"));
    assert_eq!(policy.routes[0].matchers[0].name, "service");
    let requests = server.received_requests().await.unwrap();
    for r in &requests {
        assert_eq!(r.method.as_str(), "GET");
        assert!(
            ENDPOINTS.iter().any(|e| e.path == r.url.path()),
            "{}",
            r.url
        );
    }
    // Six reads, the search in two pages (four dashboards a page here; 1000 by default).
    assert_eq!(requests.len(), 7);
    assert_eq!(c.usage.calls, 7);
    assert_no_secret(&c);
}

#[tokio::test]
async fn an_export_the_token_may_not_decrypt_leaves_only_the_keys_unknown() {
    let server = organisation(&["/api/v1/provisioning/contact-points/export"]).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/provisioning/contact-points/export"))
        .respond_with(ResponseTemplate::new(403).set_body_json(fixture("403_access_denied.json")))
        .mount(&server)
        .await;
    let c = grafana::collect(&options(), Some(&server.uri())).await;
    let g = instance(&c);
    assert!(g.policy.is_some() && g.alert_rules.is_some());
    let pd = g
        .contact_points
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.integration_type.as_deref() == Some("pagerduty"))
        .unwrap();
    assert_eq!(pd.key_digest, None, "unknown, never a key of nothing");
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert_eq!(c.errors[0].kind, ErrorKind::AccessDenied);
    assert!(
        c.errors[0]
            .message
            .contains("alert.provisioning.secrets:read"),
        "{}",
        c.errors[0].message
    );
}

#[tokio::test]
async fn a_refused_token_garbled_answers_and_an_endless_search_are_errors() {
    let server = organisation(&[
        "/api/datasources",
        "/api/v1/provisioning/policies",
        "/api/search",
    ])
    .await;
    Mock::given(method("GET"))
        .and(path("/api/datasources"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("401_invalid_api_key.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/provisioning/policies"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>proxy</html>", "text/html"))
        .mount(&server)
        .await;
    // Every page full: the search never ends.
    let full: Vec<Value> = (0..4)
        .map(|i| serde_json::json!({"title": format!("d{i}")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/search"))
        .respond_with(ok(Value::Array(full)))
        .mount(&server)
        .await;
    let c = grafana::collect(&options(), Some(&server.uri())).await;
    let g = instance(&c);
    assert!(g.datasources.is_none() && g.policy.is_none() && g.dashboards.is_none());
    assert!(g.alert_rules.is_some(), "the other reads stand");
    let msg = |service: &str| {
        c.errors
            .iter()
            .find(|e| e.service == service)
            .map(|e| e.message.clone())
            .unwrap_or_else(|| panic!("no {service} error: {:?}", c.errors))
    };
    assert!(
        msg("datasources").contains("HTTP 401, Invalid API key"),
        "{}",
        msg("datasources")
    );
    assert!(msg("datasources").contains("datasources:read"));
    assert!(
        msg("policies").contains("not valid JSON"),
        "{}",
        msg("policies")
    );
    assert!(
        msg("search").contains("did not end after 20 pages"),
        "{}",
        msg("search")
    );
    assert_no_secret(&c);
}

#[tokio::test]
async fn without_a_token_or_a_url_nothing_is_requested_and_the_error_says_what_to_set() {
    let server = organisation(&[]).await;
    let c = grafana::collect(&Options::default(), Some(&server.uri())).await;
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(
        c.errors[0].message.contains("GRAFANA_TOKEN is not set"),
        "{}",
        c.errors[0].message
    );
    let c = grafana::collect(&options(), None).await;
    assert!(c.errors[0]
        .message
        .contains("[monitoring.grafana] url is not set"));
    let c = grafana::collect(&options(), Some("http://grafana.example.com")).await;
    assert!(
        c.errors[0].message.contains("only sent over HTTPS"),
        "{}",
        c.errors[0].message
    );
}

/// Time intervals (and what a rule does without data) are read where Grafana keeps them, on a policy and on a rule's own
/// notification settings: a muted route must reach `link` as muted, never as always sending.
#[test]
fn mute_and_active_time_intervals_are_read_from_policies_and_rules() {
    let policy = serde_json::json!({
        "receiver": "grafana-default-email",
        "routes": [{
            "receiver": "pagerduty-estate-production",
            "object_matchers": [["service", "=", "rabbitmq"]],
            "mute_time_intervals": ["weekends"],
            "active_time_intervals": ["office-hours", 7]
        }]
    });
    let tree = grafana::normalize_policy(&policy).unwrap();
    assert!(tree.mute_time_intervals.is_empty());
    assert_eq!(tree.routes[0].mute_time_intervals, ["weekends"]);
    // An entry that is not a name still says the route is timed.
    assert_eq!(tree.routes[0].active_time_intervals, ["office-hours", "7"]);

    let rules = serde_json::json!([{
        "uid": "r1", "title": "RabbitMQ node down", "isPaused": false, "noDataState": "OK",
        "notification_settings": {
            "receiver": "pagerduty-estate-production",
            "mute_time_intervals": ["nights"],
            "active_time_intervals": []
        }
    }]);
    let rules = grafana::normalize_alert_rules(&rules).unwrap();
    assert_eq!(rules[0].mute_time_intervals, ["nights"]);
    assert_eq!(rules[0].no_data_state.as_deref(), Some("OK"));
    assert!(rules[0].active_time_intervals.is_empty());
}
