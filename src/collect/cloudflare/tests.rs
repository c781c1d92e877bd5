//! Unit tests of the Cloudflare collector: the pure normalizers over the fixtures, and the HTTP
//! layer (pagination, retries, error bodies, redaction) against a loopback `wiremock` server.

use super::client::{api_errors, base_is_safe, Api, Auth};
use super::normalize::str_at;
use super::*;
use crate::model::Attrs;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "cf-test-token-5f1a9c";
const HEADER_SECRET: &str = "fixture-origin-secret-3b9e";

macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            "../../../tests/fixtures/cloudflare/",
            $name
        )))
        .expect("fixture is JSON")
    };
}

fn result(v: Value) -> Value {
    v["result"].clone()
}

// ---------------------------------------------------------------------------------------------
// Normalizers

#[test]
fn zone_from_the_listing() {
    let v = fixture!("zones_list_by_name.json");
    let z = normalize_zone(&v["result"][0]).unwrap();
    assert_eq!(z.name, "example.com");
    assert_eq!(
        z.account_id.as_deref(),
        Some("01a7362d577a6c3019a474fd6f485823")
    );
    assert_eq!(
        z.attrs.zone_id.as_deref(),
        Some("023e105f4ecef8ad9ca31a8372d0c353")
    );
    assert_eq!(z.attrs.plan.as_deref(), Some("free"));
    assert_eq!(z.attrs.status.as_deref(), Some("active"));
    // Nothing else is claimed: settings and phases are read separately.
    assert!(z.attrs.ssl.is_none() && z.attrs.phases.is_empty());
    assert!(normalize_zone(&json!({"name": "example.com"})).is_err());
}

#[test]
fn dns_record_keeps_proxied_and_unknown_stays_unknown() {
    let v = fixture!("dns_records_list_by_name.json");
    let r = normalize_dns_record("z1", &v["result"][0]).unwrap();
    assert_eq!(
        r.id,
        "cloudflare:zone/z1/dns_record/372e67954025e0ba6aaa6d586b9e0b59"
    );
    let Attrs::DnsRecord(d) = &r.attrs else {
        panic!("{r:?}")
    };
    assert_eq!(d.proxied, Some(true));
    assert_eq!(d.record_type.as_deref(), Some("CNAME"));
    assert_eq!(r.name.as_deref(), Some("webhook.example.com"));

    let v = fixture!("variants/dns_records_list_by_name_unproxied.json");
    let r = normalize_dns_record("z1", &v["result"][0]).unwrap();
    assert!(matches!(&r.attrs, Attrs::DnsRecord(d) if d.proxied == Some(false)));

    let r = normalize_dns_record("z1", &json!({"id": "r", "name": "a", "proxied": "yes"})).unwrap();
    assert!(matches!(&r.attrs, Attrs::DnsRecord(d) if d.proxied.is_none()));
    assert!(normalize_dns_record("z1", &json!({"name": "a"})).is_err());
}

#[test]
fn settings_are_text_values_of_the_right_setting() {
    assert_eq!(
        normalize_setting("ssl", &result(fixture!("zone_setting_ssl.json"))).unwrap(),
        "strict"
    );
    assert_eq!(
        normalize_setting(
            "min_tls_version",
            &result(fixture!("variants/zone_setting_min_tls_version_1_0.json"))
        )
        .unwrap(),
        "1.0"
    );
    assert_eq!(
        normalize_setting(
            "ssl_automatic_mode",
            &result(fixture!(
                "variants/zone_setting_ssl_automatic_mode_auto.json"
            ))
        )
        .unwrap(),
        "auto"
    );
    // Another setting's answer, a non-text value, no value: unknown, never a default.
    assert!(normalize_setting("ssl", &json!({"id": "tls_1_3", "value": "on"})).is_err());
    assert!(normalize_setting("ssl", &json!({"id": "ssl", "value": true})).is_err());
    assert!(normalize_setting("ssl", &json!({"id": "ssl"})).is_err());
    assert!(normalize_setting("ssl", &json!({"id": "ssl", "value": ""})).is_err());
}

#[test]
fn managed_entrypoint_keeps_execute_targets() {
    let p = normalize_entrypoint(&result(fixture!(
        "rulesets_entrypoint_http_request_firewall_managed.json"
    )))
    .unwrap();
    assert!(p.deployed);
    assert_eq!(p.rules.len(), 2);
    assert_eq!(
        p.rules[0].execute_ruleset_id.as_deref(),
        Some("efb7b8c949ac4650a09736fc376e9aee")
    );
    assert_eq!(p.rules[0].enabled, Some(true));

    let p = normalize_entrypoint(&result(fixture!(
        "variants/rulesets_entrypoint_http_request_firewall_managed_disabled.json"
    )))
    .unwrap();
    assert_eq!(p.rules[0].enabled, Some(false));
}

#[test]
fn enabled_defaults_to_true_and_overrides_and_skips_are_kept() {
    let r = normalize_rule(&json!({"id": "a", "action": "block", "expression": "true"}));
    assert_eq!(r.enabled, Some(true));
    let r = normalize_rule(&json!({"id": "a", "action": "block", "enabled": "maybe"}));
    assert_eq!(r.enabled, None);
    let r = normalize_rule(&json!({
        "id": "a", "action": "execute", "expression": "true", "enabled": true,
        "action_parameters": {"id": "efb7b8c949ac4650a09736fc376e9aee",
                              "overrides": {"enabled": false, "action": "log",
                                            "categories": [{"category": "wordpress", "enabled": false}],
                                            "rules": [{"id": "r1", "action": "log", "score_threshold": 40}]}}
    }));
    // The rule itself stays enabled; `link` judges what its overrides leave of it.
    assert_eq!(r.enabled, Some(true));
    let o = r.overrides.unwrap();
    assert_eq!((o.enabled, o.action.as_deref()), (Some(false), Some("log")));
    assert_eq!(o.categories[0].target, "wordpress");
    assert_eq!(o.categories[0].enabled, Some(false));
    assert_eq!(
        (o.rules[0].target.as_str(), o.rules[0].action.as_deref()),
        ("r1", Some("log"))
    );

    let r = normalize_rule(&json!({
        "id": "s", "action": "skip", "expression": "true",
        "action_parameters": {"ruleset": "current", "phases": ["http_ratelimit"],
                              "products": ["waf"], "rulesets": ["efb7b8c949ac4650a09736fc376e9aee"],
                              "rules": {"efb7b8c949ac4650a09736fc376e9aee": ["a", "b"]}}
    }));
    let s = r.skip.unwrap();
    assert!(s.current_ruleset);
    assert_eq!(s.phases, ["http_ratelimit"]);
    assert_eq!(s.products, ["waf"]);
    assert_eq!(s.rulesets, ["efb7b8c949ac4650a09736fc376e9aee"]);
    assert_eq!(s.rules["efb7b8c949ac4650a09736fc376e9aee"], ["a", "b"]);
}

#[test]
fn page_rules_hostname_settings_and_list_items() {
    let pr = normalize_page_rule(&json!({
        "id": "p1", "priority": 2, "status": "active",
        "targets": [{"target": "url", "constraint": {"operator": "matches", "value": "*example.com/hook*"}}],
        "actions": [{"id": "ssl", "value": "flexible"}, {"id": "always_use_https"}]
    }))
    .unwrap();
    assert_eq!(pr.priority, Some(2));
    assert_eq!(pr.targets[0].value.as_deref(), Some("*example.com/hook*"));
    assert_eq!(pr.actions["ssl"], "flexible");
    assert_eq!(pr.actions["always_use_https"], "on");
    assert!(normalize_page_rule(&json!({"id": "p", "actions": []})).is_err());
    assert!(
        normalize_page_rule(&json!({"id": "p", "targets": [], "actions": [{"value": 1}]})).is_err()
    );

    let h = normalize_hostname_settings(&json!([
        {"hostname": "Webhook.example.com", "value": "1.0", "status": "active"}
    ]))
    .unwrap();
    assert_eq!(h["webhook.example.com"], "1.0");
    assert!(normalize_hostname_settings(&json!({"hostname": "x"})).is_err());
    assert!(normalize_hostname_settings(&json!([{"hostname": "x", "value": ["a"]}])).is_err());

    let items = normalize_list_items(&[json!({"id": "1", "ip": "192.0.2.0/24"})]).unwrap();
    assert_eq!(items, ["192.0.2.0/24"]);
    assert!(
        normalize_list_items(&[json!({"id": "1", "hostname": {"url_hostname": "x"}})]).is_err()
    );

    let r = normalize_rule(&json!({
        "id": "rl", "action": "block", "expression": "true",
        "ratelimit": {"characteristics": ["cf.colo.id", "ip.src"], "period": 60,
                      "requests_per_period": 10, "mitigation_timeout": 600,
                      "counting_expression": ""}
    }));
    assert_eq!(
        r.characteristics,
        Some(vec!["cf.colo.id".into(), "ip.src".into()])
    );
    assert_eq!(r.mitigation_timeout, Some(600));
    assert_eq!(
        r.counting_expression, None,
        "an empty counting expression counts every request"
    );
    let r = normalize_rule(&json!({"id": "rl", "ratelimit": {"characteristics": [1]}}));
    assert_eq!(r.characteristics, None, "unreadable, not empty");
}

#[test]
fn ratelimit_and_config_rules() {
    let p =
        normalize_entrypoint(&result(fixture!("rulesets_entrypoint_http_ratelimit.json"))).unwrap();
    let r = &p.rules[0];
    assert_eq!(r.requests_per_period, Some(50));
    assert_eq!(r.period, Some(10));
    assert_eq!(
        r.expression.as_deref(),
        Some("(http.request.uri.path eq \"/webhook\")")
    );

    let p = normalize_entrypoint(&result(fixture!(
        "variants/rulesets_entrypoint_http_config_settings_ssl_override.json"
    )))
    .unwrap();
    assert_eq!(
        p.rules[0].set_config.get("ssl").map(String::as_str),
        Some("flexible")
    );
    let r = normalize_rule(&json!({"action": "set_config",
        "action_parameters": {"bic": true, "min_tls_version": "1.0"}}));
    assert_eq!(r.set_config["bic"], "true");
    assert_eq!(r.set_config["min_tls_version"], "1.0");
}

#[test]
fn transform_rules_keep_header_names_never_values() {
    let p = normalize_entrypoint(&result(fixture!(
        "rulesets_entrypoint_http_request_late_transform.json"
    )))
    .unwrap();
    assert_eq!(p.rules[0].set_headers, vec!["X-Origin-Auth".to_string()]);
    let dump = format!("{p:?} {}", serde_json::to_string(&p).unwrap());
    assert!(!dump.contains(HEADER_SECRET), "{dump}");

    let r = normalize_rule(
        &json!({"action": "rewrite", "action_parameters": {"headers": {
        "X-Gone": {"operation": "remove"},
        "X-Added": {"operation": "add", "value": "v"},
        "X-Dyn": {"operation": "set", "expression": "cf.ray_id"}}}}),
    );
    assert_eq!(r.set_headers, vec!["X-Added", "X-Dyn"]);
}

#[test]
fn entrypoint_without_rules_is_deployed_and_empty_and_garbage_is_refused() {
    let p = normalize_entrypoint(&json!({"id": "x", "phase": "http_ratelimit"})).unwrap();
    assert!(p.deployed && p.rules.is_empty());
    assert!(normalize_entrypoint(&json!({"rules": "none"})).is_err());
}

#[test]
fn ip_ranges_parse_and_bad_lists_are_refused() {
    let r = normalize_ips(&result(fixture!("ips.json"))).unwrap();
    assert_eq!(r.id, "cloudflare:ips");
    let Attrs::CloudflareIpRanges(ips) = &r.attrs else {
        panic!()
    };
    assert_eq!(ips.ipv4_cidrs.len(), 15);
    assert_eq!(ips.ipv6_cidrs.len(), 7);
    assert!(ips.etag.is_some());
    assert!(normalize_ips(&json!({"ipv4_cidrs": [], "ipv6_cidrs": ["2400:cb00::/32"]})).is_err());
    assert!(normalize_ips(
        &json!({"ipv4_cidrs": ["173.245.48.0/20", "nope"], "ipv6_cidrs": ["2400:cb00::/32"]})
    )
    .is_err());
    // An IPv6 range in the IPv4 list is misfiled: refused.
    assert!(normalize_ips(
        &json!({"ipv4_cidrs": ["2400:cb00::/32"], "ipv6_cidrs": ["2400:cb00::/32"]})
    )
    .is_err());
}

#[test]
fn error_bodies_give_codes_and_messages() {
    let (codes, msgs) = api_errors(&fixture!("errors/403_unauthorized_9109.json"));
    assert_eq!(codes, vec![9109]);
    assert!(msgs[0].contains("9109") && msgs[0].contains("Unauthorized"));
    let (codes, msgs) = api_errors(&fixture!("errors/403_rulesets_request_not_authorized.json"));
    assert!(codes.is_empty());
    assert_eq!(
        msgs,
        vec!["Cloudflare error (no code): request is not authorized"]
    );
    let (codes, msgs) = api_errors(
        &json!({"errors": [{"code": 6003, "message": "Invalid request headers",
        "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}]}),
    );
    assert_eq!(codes, vec![6003]);
    assert!(msgs[0].contains("6111 Invalid format"), "{msgs:?}");
    assert_eq!(api_errors(&json!({"errors": "x"})), (vec![], vec![]));
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let cap = Duration::from_secs(60);
    assert_eq!(retry_wait(Some("2"), cap), Duration::from_secs(2));
    assert_eq!(retry_wait(Some(" 0 "), cap), Duration::ZERO);
    assert_eq!(retry_wait(Some("0.5"), cap), Duration::from_millis(500));
    assert_eq!(retry_wait(Some("86400"), cap), cap);
    assert_eq!(retry_wait(None, cap), Duration::from_secs(1));
    assert_eq!(
        retry_wait(Some("Wed, 21 Oct 2015 07:28:00 GMT"), cap),
        Duration::from_secs(1)
    );
    assert_eq!(retry_wait(Some("-5"), cap), Duration::from_secs(1));
    assert_eq!(retry_wait(Some("NaN"), cap), Duration::from_secs(1));
}

#[test]
fn the_token_goes_only_to_https_or_this_machine() {
    assert!(base_is_safe("https://api.cloudflare.com/client/v4").is_ok());
    assert!(base_is_safe("http://127.0.0.1:8080/client/v4").is_ok());
    assert!(base_is_safe("http://localhost:1").is_ok());
    assert!(base_is_safe("http://[::1]:1").is_ok());
    assert!(base_is_safe("http://api.cloudflare.com/client/v4").is_err());
    assert!(base_is_safe("ftp://127.0.0.1").is_err());
    assert!(base_is_safe("not a url").is_err());
}

#[test]
fn permissions_section_lists_every_permission() {
    let s = permissions_section();
    for p in TOKEN_PERMISSIONS {
        assert!(s.contains(p.name), "{s}");
    }
    assert!(s.contains("CLOUDFLARE_API_TOKEN"));
}

#[tokio::test]
async fn no_token_means_no_request_and_every_kind_unknown() {
    let server = MockServer::start().await;
    let opts = Options {
        api_base: server.uri(),
        ..Options::default()
    };
    let out = collect(&opts, &CloudflareConfig::default()).await;
    assert!(out.resources.is_empty());
    assert_eq!(out.errors.len(), 1);
    let e = &out.errors[0];
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert_eq!(
        e.kinds,
        vec![
            kind::CLOUDFLARE_ZONE,
            kind::DNS_RECORD,
            kind::CLOUDFLARE_IP_RANGES
        ]
    );
    assert!(e.message.contains("CLOUDFLARE_API_TOKEN"), "{}", e.message);
    assert!(
        e.message.contains("Zone › Zone Settings › Read"),
        "{}",
        e.message
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

// ---------------------------------------------------------------------------------------------
// HTTP layer against a loopback server

fn opts(server: &MockServer) -> Options {
    Options {
        token: Some(Secret::new(TOKEN)),
        api_base: format!("{}/client/v4", server.uri()),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 3,
        retry_budget: 6,
        max_retry_wait: Duration::from_secs(1),
        deadline: None,
    }
}

fn api(server: &MockServer) -> Api {
    let o = opts(server);
    Api::new(&o, o.token.clone().unwrap()).unwrap()
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn cursor_pagination_follows_after_until_it_is_absent() {
    let server = MockServer::start().await;
    let p = "/client/v4/zones/z1/rulesets";
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("cursor", "dGhpc2lzYW5leGFtcGxlY3Vyc29y"))
        .respond_with(ok(fixture!("variants/zone_rulesets_list_page2.json")))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ok(fixture!("zone_rulesets_list.json")))
        .mount(&server)
        .await;
    let items = api(&server).list("/zones/z1/rulesets", &[]).await.unwrap();
    assert_eq!(items.len(), 7 + 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn page_pagination_reads_every_page() {
    let server = MockServer::start().await;
    let page = |n: u64, id: &str| {
        ok(json!({"success": true, "errors": [], "messages": [],
            "result": [{"id": id, "name": "webhook.example.com", "proxied": true}],
            "result_info": {"page": n, "per_page": 1, "total_pages": 2, "count": 1, "total_count": 2}}))
    };
    Mock::given(path("/client/v4/zones/z1/dns_records"))
        .and(query_param("page", "2"))
        .respond_with(page(2, "r2"))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/client/v4/zones/z1/dns_records"))
        .respond_with(page(1, "r1"))
        .mount(&server)
        .await;
    let items = api(&server)
        .list("/zones/z1/dns_records", &[("name", "webhook.example.com")])
        .await
        .unwrap();
    let ids: Vec<&str> = items.iter().filter_map(|i| str_at(i, "/id")).collect();
    assert_eq!(ids, vec!["r1", "r2"]);
}

#[tokio::test]
async fn a_cursor_that_does_not_advance_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(path("/client/v4/zones/z1/rulesets"))
        .respond_with(ok(fixture!("zone_rulesets_list.json")))
        .mount(&server)
        .await;
    let err = api(&server)
        .list("/zones/z1/rulesets", &[])
        .await
        .unwrap_err();
    assert!(err.detail.contains("cursor did not advance"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn throttling_retries_with_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/client/v4/zones/z1/settings/ssl"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_json(fixture!("errors/429_rate_limited_971.json")),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/client/v4/zones/z1/settings/ssl"))
        .respond_with(ok(fixture!("zone_setting_ssl.json")))
        .mount(&server)
        .await;
    let a = api(&server);
    let env = a
        .get("/zones/z1/settings/ssl", &[], Auth::Token)
        .await
        .unwrap();
    assert_eq!(normalize_setting("ssl", &env.result).unwrap(), "strict");
    assert_eq!(a.requests(), 3);
}

#[tokio::test]
async fn endless_throttling_gives_up_and_the_budget_is_shared() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .insert_header("cf-ray", "8f1a2b3c4d5e6f70-AMS")
                .set_body_json(fixture!("errors/429_rate_limited_971.json")),
        )
        .mount(&server)
        .await;
    let a = api(&server);
    let err = a
        .get("/zones/z1/settings/ssl", &[], Auth::Token)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.status, Some(429));
    assert!(
        err.to_string().contains("cf-ray 8f1a2b3c4d5e6f70-AMS"),
        "{err}"
    );
    assert_eq!(a.requests(), 4, "one request and three retries");
    // Three retries are left in the budget of six; the next calls share them.
    let _ = a.get("/zones/z1/settings/tls_1_3", &[], Auth::Token).await;
    let _ = a
        .get("/zones/z1/settings/always_use_https", &[], Auth::Token)
        .await;
    assert_eq!(a.requests(), 4 + 4 + 1);
    // `--stats`: nine requests, six of them retries; a 429's body is never read.
    let usage = a.usage();
    assert_eq!((usage.calls, usage.retries, usage.bytes), (9, 6, 0));
}

#[tokio::test]
async fn error_statuses_become_failures_with_codes_kind_and_ray() {
    let server = MockServer::start().await;
    let cases: Vec<(&str, u16, Value, ErrorKind, Vec<i64>)> = vec![
        (
            "/a",
            401,
            fixture!("errors/401_invalid_api_token_1000.json"),
            ErrorKind::AccessDenied,
            vec![1000],
        ),
        (
            "/b",
            403,
            fixture!("errors/403_unauthorized_9109.json"),
            ErrorKind::AccessDenied,
            vec![9109],
        ),
        (
            "/c",
            403,
            fixture!("errors/403_authentication_error_10000.json"),
            ErrorKind::AccessDenied,
            vec![10000],
        ),
        (
            "/d",
            403,
            fixture!("errors/403_rulesets_request_not_authorized.json"),
            ErrorKind::AccessDenied,
            vec![],
        ),
        (
            "/e",
            404,
            fixture!("errors/404_entrypoint_not_found_10003.json"),
            ErrorKind::Other,
            vec![10003],
        ),
        ("/f", 502, json!({"oops": true}), ErrorKind::Other, vec![]),
        (
            "/g",
            200,
            json!({"success": false, "errors": [{"code": 7003, "message": "No route"}]}),
            ErrorKind::Other,
            vec![7003],
        ),
        (
            "/h",
            200,
            json!({"success": true, "errors": [], "result": null}),
            ErrorKind::Other,
            vec![],
        ),
    ];
    for (p, status, body, _, _) in &cases {
        Mock::given(path(format!("/client/v4{p}")))
            .respond_with(
                ResponseTemplate::new(*status)
                    .insert_header("cf-ray", "8f00000000000001-LHR")
                    .set_body_json(body.clone()),
            )
            .mount(&server)
            .await;
    }
    let a = api(&server);
    for (p, status, _, kind, codes) in cases {
        let err = a.get(p, &[], Auth::Token).await.unwrap_err();
        assert_eq!(err.kind, kind, "{p}: {err}");
        assert_eq!(err.status, Some(status), "{p}");
        assert_eq!(err.codes, codes, "{p}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("GET {p}: HTTP {status}")),
            "{text}"
        );
        assert!(text.contains("cf-ray 8f00000000000001-LHR"), "{text}");
        assert!(!text.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));
    }
}

#[tokio::test]
async fn a_malformed_body_is_an_error_that_names_no_content() {
    let server = MockServer::start().await;
    Mock::given(path("/client/v4/zones/z1/settings/ssl"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"result\": {\"value\": \"zq-partial"),
        )
        .mount(&server)
        .await;
    let err = api(&server)
        .get("/zones/z1/settings/ssl", &[], Auth::Token)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Other);
    assert!(err.detail.contains("not valid JSON"), "{err}");
    assert!(!err.detail.contains("zq-partial"), "{err}");
}

#[tokio::test]
async fn the_token_is_sent_as_bearer_except_to_ips_and_is_redacted_from_echoes() {
    let server = MockServer::start().await;
    Mock::given(path("/client/v4/ips"))
        .respond_with(ok(fixture!("ips.json")))
        .mount(&server)
        .await;
    // A server that echoes the credential in its error message.
    Mock::given(path("/client/v4/echo"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"success": false,
            "errors": [{"code": 6003, "message": format!("bad header Bearer {TOKEN}")}]})),
        )
        .mount(&server)
        .await;
    let a = api(&server);
    a.get("/ips", &[], Auth::None).await.unwrap();
    let err = a.get("/echo", &[], Auth::Token).await.unwrap_err();
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(err.to_string().contains("Bearer ***"), "{err}");
    assert!(!format!("{a:?}").contains(TOKEN), "{a:?}");

    let reqs = server.received_requests().await.unwrap();
    assert!(reqs[0].headers.get("authorization").is_none());
    assert_eq!(
        reqs[1]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn an_unreachable_api_is_a_transport_failure() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Options {
        token: Some(Secret::new(TOKEN)),
        api_base: format!("http://127.0.0.1:{port}"),
        ..Options::default()
    };
    let out = collect(
        &o,
        &CloudflareConfig {
            zone: Some("example.com".into()),
            webhook_host: Some("webhook.example.com".into()),
            webhook_path: None,
        },
    )
    .await;
    assert!(out.resources.is_empty());
    // /ips and the token check, no more: the zone is not tried once the API is unreachable.
    assert_eq!(out.requests, 2);
    assert_eq!(out.errors.len(), 2);
    for e in &out.errors {
        assert!(e.message.contains("cannot connect"), "{}", e.message);
        assert!(!e.message.contains(TOKEN));
    }
    assert!(!format!("{o:?}").contains(TOKEN));
}
