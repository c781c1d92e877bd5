//! PagerDuty collection against recorded, realistic answers of the REST API v2 served on
//! 127.0.0.1 (`wiremock`; `tests/fixtures/pagerduty/`, shaped after PagerDuty's published schema
//! with invented ids and keys): the two steps read the routed service, its escalation policy and
//! who is on call in three requests (GET only, on the allowlisted paths, with the key and the v2
//! media type); pagination, rate limits honouring `ratelimit-reset`, refusals and malformed
//! answers each end as data or as a collection error naming the endpoint, never as a partial
//! answer; and the key never reaches a message. The rules over what is read are judged in
//! `tests/rules.rs` (`pagerduty-*` fixtures).

use std::collections::BTreeSet;
use std::time::Duration;

use estate_audit::collect::pagerduty::{self, Options, ENDPOINTS};
use estate_audit::collect::{key_digest, Secret};
use estate_audit::model::{Attrs, ErrorKind, PagerDutyService};
use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// As long as a real REST API key (20 characters).
const KEY: &str = "u+pd-test-key-7Qm2xZ";
/// The CloudWatch integration key of `estate-production` in the fixtures.
const CLOUDWATCH_KEY: &str = "5f8a1c3e6b9d4f2a8c0e7b1d3f5a9c2e";
/// The staging service's key: a route to it reads another service.
const STAGING_KEY: &str = "0d4e6f8a1b3c4d5e8f9a0b1c2d3e4f5a";

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pagerduty")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn options() -> Options {
    Options {
        token: Some(Secret::new(KEY)),
        // Two services per page: the fixtures' listing has two pages.
        page_limit: 2,
        limits: estate_audit::collect::http::Limits {
            max_retry_wait: Duration::from_millis(50),
            ..Default::default()
        },
        ..Options::default()
    }
}

fn json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// The compliant account: two pages of services, the policy, who is on call.
async fn compliant() -> MockServer {
    let server = MockServer::start().await;
    mount_services(&server).await;
    Mock::given(method("GET"))
        .and(path("/escalation_policies/PEP4X9D"))
        .respond_with(json(200, fixture("escalation_policy.PEP4X9D.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oncalls"))
        .and(query_param("escalation_policy_ids[]", "PEP4X9D"))
        .respond_with(json(200, fixture("oncalls.by-escalation-policy.json")))
        .mount(&server)
        .await;
    server
}

async fn mount_services(server: &MockServer) {
    for (offset, page) in [("0", "services.page1.json"), ("2", "services.page2.json")] {
        Mock::given(method("GET"))
            .and(path("/services"))
            .and(query_param("include[]", "integrations"))
            .and(query_param("offset", offset))
            .respond_with(json(200, fixture(page)))
            .mount(server)
            .await;
    }
}

async fn collect(server: &MockServer, keys: &[&str]) -> pagerduty::Collected {
    let digests: BTreeSet<String> = keys.iter().map(|k| key_digest(k)).collect();
    let opts = options();
    let listing = pagerduty::list(&opts, &server.uri()).await;
    pagerduty::finish(listing, &digests, &opts).await
}

fn only_service(c: &pagerduty::Collected) -> &PagerDutyService {
    assert_eq!(c.resources.len(), 1, "{:#?}", c.resources);
    match &c.resources[0].attrs {
        Attrs::PagerDutyService(s) => s,
        other => panic!("{other:?}"),
    }
}

/// Every request: a GET on an allowlisted path, with the key and the v2 media type.
async fn assert_read_only(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.unwrap();
    for r in &requests {
        assert_eq!(r.method.as_str(), "GET", "{}", r.url);
        let p = r.url.path();
        assert!(
            estate_audit::collect::http::allowed(ENDPOINTS, p),
            "{p} is not allowlisted"
        );
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert_eq!(auth, format!("Token token={KEY}"));
        let accept = r.headers.get("accept").unwrap().to_str().unwrap();
        assert_eq!(accept, "application/vnd.pagerduty+json;version=2");
    }
    requests
}

fn assert_no_key(c: &pagerduty::Collected) {
    let text = format!(
        "{:?} {}",
        c.resources,
        serde_json::to_string(&c.resources).unwrap()
    );
    let errors = format!("{:?}", c.errors);
    for secret in [KEY, CLOUDWATCH_KEY, STAGING_KEY] {
        assert!(
            !text.contains(secret) && !errors.contains(secret),
            "{secret} leaked"
        );
    }
}

#[tokio::test]
async fn the_routed_service_its_policy_and_who_is_on_call_in_four_reads() {
    let server = compliant().await;
    let c = collect(&server, &[CLOUDWATCH_KEY]).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let s = only_service(&c);
    assert_eq!(c.resources[0].id, "pagerduty:service/PSV8R2Q");
    assert_eq!(c.resources[0].name.as_deref(), Some("estate-production"));
    assert_eq!(s.status.as_deref(), Some("active"));
    assert!(s.integrations.iter().any(|i| i.key_digest.as_deref()
        == Some(key_digest(CLOUDWATCH_KEY).as_str())
        && i.integration_type.as_deref() == Some("aws_cloudwatch_inbound_integration")));
    let rules = s.escalation_rules.as_ref().expect("the policy was read");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].targets, ["schedule Estate Primary (weekly)"]);
    assert_eq!(rules[1].targets, ["user Priya Raman"]);
    let oncall = s.on_call_now.as_ref().expect("on-call was read");
    assert_eq!(oncall[0].level, 1);
    assert_eq!(oncall[0].user.as_deref(), Some("Amara Okafor"));
    assert_eq!(
        oncall[1].until, None,
        "a user named directly is on call for good"
    );
    // Two pages of services (the fixtures' limit is 2), one policy, one on-call listing: the
    // issue's budget for the whole monitoring plane is 20.
    let requests = assert_read_only(&server).await;
    assert_eq!(
        requests.len(),
        4,
        "{:#?}",
        requests
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(c.usage.calls, 4);
    assert_no_key(&c);
}

#[tokio::test]
async fn services_no_route_points_at_are_not_kept_and_their_policies_not_read() {
    let server = compliant().await;
    let c = collect(&server, &[]).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert!(c.resources.is_empty());
    assert_eq!(assert_read_only(&server).await.len(), 2, "the listing only");
}

#[tokio::test]
async fn two_routed_services_share_one_policy_read_and_one_on_call_listing() {
    let server = compliant().await;
    let c = collect(&server, &[CLOUDWATCH_KEY, STAGING_KEY]).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.resources.len(), 2);
    assert_eq!(assert_read_only(&server).await.len(), 4);
}

#[tokio::test]
async fn a_refused_key_is_an_access_error_naming_the_scope_and_never_the_key() {
    for (status, file, kind, says) in [
        (
            401,
            "401_authentication_failed_2006.json",
            ErrorKind::AccessDenied,
            "PagerDuty error 2006: Authentication Failed",
        ),
        (
            403,
            "403_access_denied_2010.json",
            ErrorKind::AccessDenied,
            "PagerDuty error 2010",
        ),
        (
            500,
            "401_authentication_failed_2006.json",
            ErrorKind::Other,
            "HTTP 500",
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/services"))
            .respond_with(json(status, fixture(file)))
            .mount(&server)
            .await;
        let c = collect(&server, &[CLOUDWATCH_KEY]).await;
        assert!(c.resources.is_empty());
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        let e = &c.errors[0];
        assert_eq!(
            (e.provider.as_str(), e.service.as_str()),
            ("pagerduty", "services")
        );
        assert_eq!(e.kind, kind, "{status}");
        assert!(e.message.contains(says), "{status}: {}", e.message);
        assert!(
            e.message.contains("GET /services?include[]=integrations"),
            "{}",
            e.message
        );
        if kind == ErrorKind::AccessDenied {
            assert!(e.message.contains("services.read"), "{}", e.message);
        }
        assert_no_key(&c);
    }
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_as_ratelimit_reset_says_then_given_up() {
    let server = MockServer::start().await;
    // One 429 first, then the listing.
    Mock::given(method("GET"))
        .and(path("/services"))
        .respond_with(
            json(429, fixture("429_rate_limit_exceeded_2020.json"))
                .insert_header("ratelimit-reset", "0"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_services(&server).await;
    let c = collect(&server, &[]).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.usage.retries, 1);

    // Always 429: the retries end, and the error says so.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            json(429, fixture("429_rate_limit_exceeded_2020.json"))
                .insert_header("ratelimit-reset", "0"),
        )
        .mount(&server)
        .await;
    let c = collect(&server, &[CLOUDWATCH_KEY]).await;
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].kind, ErrorKind::Throttled);
    assert!(
        c.errors[0]
            .message
            .contains("rate limited by PagerDuty (3 retries"),
        "{}",
        c.errors[0].message
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn malformed_listings_are_errors_never_partial_lists() {
    for (what, edit) in [
        (
            "`more` is missing",
            Box::new(|v: &mut Value| {
                v.as_object_mut().unwrap().remove("more");
            }) as Box<dyn Fn(&mut Value)>,
        ),
        (
            "`services` is not a list",
            Box::new(|v: &mut Value| v["services"] = Value::Null),
        ),
        (
            "an empty page says there is more",
            Box::new(|v: &mut Value| v["services"] = serde_json::json!([])),
        ),
    ] {
        let server = MockServer::start().await;
        let mut page = fixture("services.page1.json");
        edit(&mut page);
        Mock::given(method("GET"))
            .and(path("/services"))
            .respond_with(json(200, page))
            .mount(&server)
            .await;
        let c = collect(&server, &[CLOUDWATCH_KEY]).await;
        assert!(c.resources.is_empty(), "{what}");
        assert_eq!(c.errors.len(), 1, "{what}");
        assert!(
            c.errors[0].message.contains(what),
            "{}",
            c.errors[0].message
        );
    }
    // Not JSON at all (a proxy's error page).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>\n"))
        .mount(&server)
        .await;
    let c = collect(&server, &[CLOUDWATCH_KEY]).await;
    assert!(
        c.errors[0].message.contains("HTTP 502"),
        "{}",
        c.errors[0].message
    );
    assert!(
        c.errors[0].message.contains("not PagerDuty's JSON"),
        "{}",
        c.errors[0].message
    );
}

#[tokio::test]
async fn a_policy_or_on_call_read_that_fails_leaves_only_its_own_facts_unknown() {
    let server = MockServer::start().await;
    mount_services(&server).await;
    Mock::given(method("GET"))
        .and(path("/escalation_policies/PEP4X9D"))
        .respond_with(json(404, fixture("404_not_found_2100.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oncalls"))
        .respond_with(json(200, serde_json::json!({"oncalls": [], "limit": 2, "offset": 0, "more": false, "total": null})))
        .mount(&server)
        .await;
    let c = collect(&server, &[CLOUDWATCH_KEY]).await;
    let s = only_service(&c);
    assert_eq!(s.status.as_deref(), Some("active"), "the listing stands");
    assert_eq!(s.escalation_rules, None, "unknown, never `no rules`");
    assert_eq!(s.on_call_now.as_deref(), Some(&[][..]), "read: nobody");
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert_eq!(c.errors[0].service, "escalation_policies");
    assert!(
        c.errors[0]
            .message
            .contains("GET /escalation_policies/PEP4X9D: HTTP 404"),
        "{}",
        c.errors[0].message
    );

    let server = MockServer::start().await;
    mount_services(&server).await;
    Mock::given(method("GET"))
        .and(path("/escalation_policies/PEP4X9D"))
        .respond_with(json(
            200,
            fixture("escalation_policy.PEP4X9D.unstaffed-schedule.json"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oncalls"))
        .respond_with(json(403, fixture("403_access_denied_2010.json")))
        .mount(&server)
        .await;
    let c = collect(&server, &[CLOUDWATCH_KEY]).await;
    let s = only_service(&c);
    assert_eq!(s.on_call_now, None);
    assert!(s.escalation_rules.is_some());
    assert_eq!(c.errors[0].service, "oncalls");
    assert!(
        c.errors[0].message.contains("oncalls.read"),
        "{}",
        c.errors[0].message
    );
}

#[tokio::test]
async fn without_a_key_nothing_is_requested_and_the_error_says_what_to_set() {
    let server = compliant().await;
    let opts = Options {
        token: None,
        ..options()
    };
    let listing = pagerduty::list(&opts, &server.uri()).await;
    let c = pagerduty::finish(listing, &BTreeSet::new(), &opts).await;
    assert!(server.received_requests().await.unwrap().is_empty());
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].kind, ErrorKind::AccessDenied);
    assert!(
        c.errors[0]
            .message
            .contains("PAGERDUTY_API_TOKEN is not set"),
        "{}",
        c.errors[0].message
    );

    // A plain-HTTP base that is not this machine: the key is not sent.
    let listing = pagerduty::list(&options(), "http://pagerduty.example.com").await;
    let c = pagerduty::finish(listing, &BTreeSet::new(), &options()).await;
    assert!(
        c.errors[0].message.contains("only sent over HTTPS"),
        "{}",
        c.errors[0].message
    );
}
