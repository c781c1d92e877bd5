//! Loki collection against recorded, realistic answers of its HTTP API served on 127.0.0.1
//! (`wiremock`; `tests/fixtures/loki/`, shaped after Loki's query API, ids and counts invented):
//! one instant query per log source, `sum(count_over_time(<selector>[1h]))` at the collection's
//! clock, with the tenant in `X-Scope-OrgID` and the credential from the environment; an empty
//! vector and a `"0"` are 0 lines (a value), every refusal, plain-text error, envelope error and
//! garbled answer leaves the count unknown with Loki's text quoted; a selector that cannot tell
//! the sources apart is never sent; the credential never reaches a message. The rule over the
//! counts is judged in `tests/rules.rs` (`loki-streams-recent`), and once here end to end.

use chrono::{TimeZone, Utc};
use estate_audit::audit;
use estate_audit::collect::loki::{self, count_query, Options, READS};
use estate_audit::collect::prometheus::Credential;
use estate_audit::collect::Secret;
use estate_audit::finding::Status;
use estate_audit::model::{Attrs, ErrorKind, Inventory, LokiConfig, LokiServer};
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "loki-gw-test-token-7c2e91d4a0b3";
const ECS: &str = r#"{ecs_cluster="estate", ecs_service="worker"}"#;
const WEBHOOK: &str = r#"{function_name="webhook"}"#;
/// 2026-12-01T09:30:00Z in nanoseconds: the `time` of both queries.
const TIME_NS: &str = "1796117400000000000";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap()
}

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/loki")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn options() -> Options {
    let mut o = Options {
        credential: Some(Credential::Bearer(Secret::new(TOKEN))),
        ..Options::default()
    };
    o.limits.max_retry_wait = std::time::Duration::from_millis(10);
    o
}

fn config(url: &str) -> LokiConfig {
    LokiConfig {
        url: Some(url.to_string()),
        tenant: Some("estate".into()),
        ecs_streams: Some(ECS.into()),
        webhook_streams: Some(WEBHOOK.into()),
    }
}

/// Answers the count of `selector` (with the tenant, the credential and the clock) with `reply`.
async fn mount(server: &MockServer, selector: &str, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/loki/api/v1/query"))
        .and(query_param("query", count_query(selector).as_str()))
        .and(query_param("time", TIME_NS))
        .and(header("x-scope-orgid", "estate"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(reply)
        .mount(server)
        .await;
}

fn ok(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(fixture(name))
}

fn text(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "text/plain; charset=utf-8")
}

/// The compliant Loki, but for the ECS count answered with `ecs`.
async fn loki_with(ecs: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    mount(&server, ECS, ecs).await;
    mount(&server, WEBHOOK, ok("query.webhook.json")).await;
    server
}

fn server_of(c: &loki::Collected) -> &LokiServer {
    assert_eq!(c.resources.len(), 1, "{:?}", c.errors);
    match &c.resources[0].attrs {
        Attrs::LokiServer(s) => s,
        other => panic!("{other:?}"),
    }
}

fn assert_no_secret(c: &loki::Collected) {
    let text = format!(
        "{} {:?}",
        serde_json::to_string(&c.resources).unwrap(),
        c.errors
    );
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
}

async fn assert_only_allowlisted_gets(server: &MockServer, n: usize) {
    let requests = server.received_requests().await.unwrap();
    for r in &requests {
        assert_eq!(r.method.as_str(), "GET");
        assert!(READS.iter().any(|e| e.path == r.url.path()), "{}", r.url);
    }
    assert_eq!(requests.len(), n, "requests sent");
}

#[tokio::test]
async fn both_sources_are_counted_in_two_gets_with_the_tenant_the_credential_and_the_clock() {
    let server = loki_with(ok("query.ecs.json")).await;
    let c = loki::collect(&options(), Some(&config(&server.uri())), now()).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let s = server_of(&c);
    assert_eq!(s.ecs.selector.as_deref(), Some(ECS));
    assert_eq!(s.ecs.lines_last_hour, Some(2172));
    assert_eq!(s.webhook.selector.as_deref(), Some(WEBHOOK));
    assert_eq!(s.webhook.lines_last_hour, Some(388));
    assert_eq!(s.tenant.as_deref(), Some("estate"));
    assert_eq!(s.window_end, Some(now()));
    assert_only_allowlisted_gets(&server, 2).await;
    assert_eq!(c.usage.calls, 2);
    assert_no_secret(&c);
}

#[tokio::test]
async fn no_series_and_a_zero_in_a_string_are_zero_lines_not_unknown() {
    let server = MockServer::start().await;
    mount(&server, ECS, ok("query.empty.json")).await;
    mount(&server, WEBHOOK, ok("query.zero.json")).await;
    let c = loki::collect(&options(), Some(&config(&server.uri())), now()).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let s = server_of(&c);
    assert_eq!(s.ecs.lines_last_hour, Some(0), "no series is no line");
    assert_eq!(s.webhook.lines_last_hour, Some(0), "\"0\" is zero lines");
}

#[tokio::test]
async fn every_fault_leaves_the_count_unknown_with_the_endpoint_status_and_lokis_words() {
    let status_error = ResponseTemplate::new(200).set_body_json(fixture("query.status-error.json"));
    let not_a_count = ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1796117400, "many"]}]}
    }));
    let a_number = ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1796117400, 12]}]}
    }));
    let cases: Vec<(&str, ResponseTemplate, ErrorKind, &str)> = vec![
        (
            "a LogQL parse error",
            text(
                400,
                "parse error at line 1, col 33: syntax error: unexpected IDENTIFIER, expecting STRING",
            ),
            ErrorKind::Other,
            "HTTP 400, `parse error at line 1, col 33: syntax error",
        ),
        (
            "another tenant: no org id",
            text(401, "no org id\n"),
            ErrorKind::AccessDenied,
            "HTTP 401, `no org id`: Loki refused the query; check [monitoring.loki] tenant",
        ),
        (
            "a gateway that knows no such tenant",
            text(404, "404 page not found\n"),
            ErrorKind::Other,
            "HTTP 404, `404 page not found`",
        ),
        (
            "the query queue stays full",
            text(429, "too many outstanding requests").insert_header("retry-after", "0"),
            ErrorKind::Throttled,
            "HTTP 429, rate limited by Loki (2 retries",
        ),
        (
            "a 5xx",
            text(503, "Service Unavailable\n"),
            ErrorKind::Other,
            "HTTP 503, `Service Unavailable`",
        ),
        (
            "a 5xx with an error body holding the token",
            text(502, &format!("upstream refused Bearer {TOKEN}")),
            ErrorKind::Other,
            "HTTP 502, `upstream refused Bearer ***`",
        ),
        (
            "a status error envelope",
            status_error,
            ErrorKind::Other,
            "Loki answered status error: `execution: the query timed out in the querier`",
        ),
        (
            "log lines instead of a vector",
            ok("query.streams.json"),
            ErrorKind::Other,
            "the result is of type `streams`, not a vector of counts",
        ),
        (
            "a value that is no count",
            not_a_count,
            ErrorKind::Other,
            "the value `\"many\"` is not a count of lines",
        ),
        (
            "a value that is not in a string",
            a_number,
            ErrorKind::Other,
            "the value `12` is not a count of lines",
        ),
        (
            "not JSON",
            ResponseTemplate::new(200).set_body_raw("<html>proxy</html>", "text/html"),
            ErrorKind::Other,
            "not valid JSON",
        ),
    ];
    for (name, reply, kind, says) in cases {
        let server = loki_with(reply).await;
        let c = loki::collect(&options(), Some(&config(&server.uri())), now()).await;
        let s = server_of(&c);
        assert_eq!(
            s.ecs.lines_last_hour, None,
            "{name}: unknown, never a count"
        );
        assert_eq!(
            s.webhook.lines_last_hour,
            Some(388),
            "{name}: the other stands"
        );
        assert_eq!(c.errors.len(), 1, "{name}: {:?}", c.errors);
        let e = &c.errors[0];
        assert_eq!(
            (e.provider.as_str(), e.service.as_str()),
            ("loki", "ecs_streams")
        );
        assert_eq!(e.kinds, ["loki.server"]);
        assert_eq!(e.kind, kind, "{name}: {}", e.message);
        assert!(
            e.message
                .starts_with("GET /loki/api/v1/query?query=sum(count_over_time({ecs_cluster="),
            "{name}: {}",
            e.message
        );
        assert!(e.message.contains(says), "{name}: {}", e.message);
        assert_no_secret(&c);
    }
}

#[tokio::test]
async fn what_cannot_be_asked_is_not_sent_and_the_error_says_what_to_set() {
    let server = loki_with(ok("query.ecs.json")).await;
    let uri = server.uri();
    // No URL: nothing at all.
    let c = loki::collect(&options(), Some(&LokiConfig::default()), now()).await;
    assert!(c.resources.is_empty());
    assert!(
        c.errors[0]
            .message
            .contains("[monitoring.loki] url is not set"),
        "{}",
        c.errors[0].message
    );
    let c = loki::collect(&options(), None, now()).await;
    assert!(c.errors[0].message.contains("url is not set"));
    // A missing selector: that source is not asked.
    let c = loki::collect(
        &options(),
        Some(&LokiConfig {
            webhook_streams: None,
            ..config(&uri)
        }),
        now(),
    )
    .await;
    let s = server_of(&c);
    assert_eq!(s.ecs.lines_last_hour, Some(2172));
    assert_eq!(s.webhook.selector, None);
    assert_eq!(s.webhook.lines_last_hour, None);
    assert!(c.errors[0]
        .message
        .contains("[monitoring.loki] webhook_streams is not set"));
    assert_only_allowlisted_gets(&server, 1).await;
    // Selectors that cannot tell whose streams they count: refused before anything is sent.
    for (ecs, webhook, says, sent) in [
        (ECS, r#"{job=~".+"}"#, "matches every stream", 1),
        (ECS, r#"{job!="ecs/estate"}"#, "matches every stream", 1),
        (
            ECS,
            r#"{ecs_cluster="estate"}"#,
            "`webhook_streams` selects every stream",
            0,
        ),
        (ECS, ECS, "select the same streams", 0),
    ] {
        let server = loki_with(ok("query.ecs.json")).await;
        let cfg = LokiConfig {
            ecs_streams: Some(ecs.into()),
            webhook_streams: Some(webhook.into()),
            ..config(&server.uri())
        };
        let c = loki::collect(&options(), Some(&cfg), now()).await;
        let s = server_of(&c);
        assert_eq!(s.webhook.lines_last_hour, None, "{webhook}");
        assert!(
            c.errors.iter().any(|e| e.message.contains(says)),
            "{webhook}: {:?}",
            c.errors
        );
        // Only the ECS count, when its selector stands alone.
        assert_only_allowlisted_gets(&server, sent).await;
    }
    // A tenant that is several tenants; a credential over plain HTTP to another host.
    let c = loki::collect(
        &options(),
        Some(&LokiConfig {
            tenant: Some("estate|other".into()),
            ..config(&uri)
        }),
        now(),
    )
    .await;
    assert!(c.resources.is_empty());
    assert!(c.errors[0].message.contains("several tenants"));
    let c = loki::collect(&options(), Some(&config("http://loki.example.com")), now()).await;
    assert!(
        c.errors[0].message.contains("only sent over HTTPS"),
        "{}",
        c.errors[0].message
    );
    assert_no_secret(&c);
}

/// Collects Loki at `server`, puts it in the compliant inventory (in place of its recorded Loki,
/// `[monitoring.loki]` pointing at `server`) and audits it: `loki-streams-recent` on the ECS
/// processors and on the webhook (status, message), and the whole report as JSON.
async fn audit_of(server: &MockServer) -> ([(Status, String); 2], String) {
    let collected = loki::collect(&options(), Some(&config(&server.uri())), now()).await;
    let mut inv: Value = serde_json::from_str(include_str!("fixtures/compliant.json")).unwrap();
    inv["estate"]["monitoring"]["loki"]["url"] = Value::String(server.uri());
    let mut inv: Inventory = serde_json::from_value(inv).unwrap();
    inv.resources.retain(|r| r.kind() != "loki.server");
    let inventory_text = serde_json::to_string(&collected.resources).unwrap();
    inv.resources.extend(collected.resources);
    inv.collection_errors.extend(collected.errors);
    let policies = PolicySet::builtin().unwrap();
    let report = audit::run(inv, None, &policies, &WaiverSet::empty(), now());
    let of = |suffix: &str| {
        let f = report
            .findings
            .iter()
            .find(|f| {
                f.rule_id.as_ref() == "loki-streams-recent" && f.resource_id.ends_with(suffix)
            })
            .unwrap_or_else(|| panic!("no finding on {suffix}"));
        (f.status, f.message.to_string())
    };
    let json = format!(
        "{inventory_text}{}",
        serde_json::to_string(&report).unwrap()
    );
    ([of("service/estate/worker"), of("function:webhook")], json)
}

#[tokio::test]
async fn end_to_end_the_components_pass_fail_when_silent_and_are_unknown_when_loki_refuses() {
    let server = loki_with(ok("query.ecs.json")).await;
    let ([ecs, webhook], json) = audit_of(&server).await;
    assert_eq!(
        (ecs.0, webhook.0),
        (Status::Pass, Status::Pass),
        "{ecs:?} {webhook:?}"
    );
    assert!(!json.contains(TOKEN));

    // Only the ECS processors ship: the webhook's query finds no series.
    let server = MockServer::start().await;
    mount(&server, ECS, ok("query.ecs.json")).await;
    mount(&server, WEBHOOK, ok("query.empty.json")).await;
    let ([ecs, webhook], _) = audit_of(&server).await;
    assert_eq!(ecs.0, Status::Pass);
    assert_eq!(webhook.0, Status::Fail);
    assert!(
        webhook.1.contains(
            "Loki holds no line from the webhook function's streams `{function_name=\"webhook\"}` \
             in the hour to 2026-12-01T09:30:00Z"
        ),
        "{}",
        webhook.1
    );

    // Another tenant: Loki refuses, and its words (with the token it echoed, masked) say why.
    let server = loki_with(text(401, &format!("no org id (Bearer {TOKEN})\n"))).await;
    let ([ecs, webhook], json) = audit_of(&server).await;
    assert_eq!((ecs.0, webhook.0), (Status::Unknown, Status::Pass));
    assert!(
        ecs.1.contains("HTTP 401, `no org id (Bearer ***)`"),
        "{}",
        ecs.1
    );
    assert!(!json.contains(TOKEN), "the token leaked into the report");
}

#[test]
fn iam_policy_names_the_one_read_and_the_tenant() {
    let s = loki::permissions_section();
    assert!(s.contains("GET /loki/api/v1/query"), "{s}");
    assert!(
        s.contains("X-Scope-OrgID") && s.contains("LOKI_BEARER_TOKEN"),
        "{s}"
    );
    assert_eq!(READS.len(), 1);
}
