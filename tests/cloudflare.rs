//! Live Cloudflare collection through the real binary: a loopback server (`wiremock`, 127.0.0.1)
//! serves `tests/fixtures/cloudflare/`, `CLOUDFLARE_API_BASE` points the binary at it, and the
//! JSON report is checked — the compliant zone passes every `cloudflare-*` rule, each deviation
//! fails its rule, each API error makes only the rules it touches `unknown` with a message naming
//! the endpoint and the cause, every path stays within 25 GET requests, and neither the token nor
//! the origin secret header's value ever reaches stdout or stderr.

mod support;
use support::cloudflare_zone::{self, fixture, ACCOUNT, ZID};
use support::offline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: &str = "2026-11-01T06:00:00Z";
/// As long as a real Cloudflare API token (40 characters; shorter ones are refused at start).
const TOKEN: &str = "cf-test-token-5f1a9c-0b3d7e9a2c4f6e8d1a3c";
/// The value the fixture's transform rule sets; it must never be kept or printed.
const HEADER_SECRET: &str = "fixture-origin-secret-3b9e";
const PREFIX: &str = "/client/v4";
const MAX_REQUESTS: usize = 25;

const CF_RULES: [&str; 7] = [
    "cloudflare-dns-proxied",
    "cloudflare-ssl-strict",
    "cloudflare-min-tls-1-2",
    "cloudflare-always-https",
    "cloudflare-waf-managed",
    "cloudflare-rate-limit-webhook",
    "cloudflare-waf-source-allowlist",
];

const ESTATE_TOML: &str = r#"region = "eu-west-1"
[cloudflare]
zone = "example.com"
webhook_host = "webhook.example.com"
webhook_path = "/webhook"
"#;

// ---------------------------------------------------------------------------------------------
// The fake API

#[derive(Clone)]
struct Reply {
    status: u16,
    body: Body,
    headers: Vec<(&'static str, String)>,
    /// Answer 429 with this `Retry-After` this many times first.
    throttle_first: Option<(u64, &'static str)>,
}

#[derive(Clone)]
enum Body {
    Json(Value),
    Raw(&'static str),
}

fn ok(body: Value) -> Reply {
    status(200, body)
}

fn status(code: u16, body: Value) -> Reply {
    Reply {
        status: code,
        body: Body::Json(body),
        headers: vec![("cf-ray", format!("8f{code:014}-AMS"))],
        throttle_first: None,
    }
}

/// A fixture with an edit: a deviation of the compliant answer.
fn edited(name: &str, f: impl FnOnce(&mut Value)) -> Reply {
    let mut v = fixture(name);
    f(&mut v);
    ok(v)
}

fn not_deployed() -> Reply {
    status(404, fixture("errors/404_entrypoint_not_found_10003.json"))
}

/// Endpoint (after the base URL) → reply.
struct Api(BTreeMap<String, Reply>);

fn setting(name: &str) -> String {
    format!("/zones/{ZID}/settings/{name}")
}

fn phase(name: &str) -> String {
    format!("/zones/{ZID}/rulesets/phases/{name}/entrypoint")
}

impl Api {
    /// The compliant zone.
    fn compliant() -> Self {
        Api(cloudflare_zone::compliant()
            .into_iter()
            .map(|(endpoint, code, body)| (endpoint, status(code, body)))
            .collect())
    }

    /// The compliant zone whose allowlist is the account's custom list `webhook_senders`.
    fn with_list() -> Self {
        Api::compliant()
            .with(
                phase("http_request_firewall_custom"),
                edited(
                    "rulesets_entrypoint_http_request_firewall_custom.json",
                    |v| {
                        v["result"]["rules"][0]["expression"] = json!(
                        "(http.host eq \"webhook.example.com\" and not ip.src in $webhook_senders)"
                    );
                    },
                ),
            )
            .with(
                format!("/accounts/{ACCOUNT}/rules/lists"),
                ok(fixture("accounts_rules_lists.json")),
            )
            .with(
                format!("/accounts/{ACCOUNT}/rules/lists/2c0fc9fa937b11eaa1b71c4d701ab86e/items"),
                ok(fixture("accounts_rules_lists_items_webhook_senders.json")),
            )
    }

    fn with(mut self, endpoint: impl Into<String>, reply: Reply) -> Self {
        self.0.insert(endpoint.into(), reply);
        self
    }

    async fn serve(&self) -> MockServer {
        let server = MockServer::start().await;
        for (endpoint, r) in &self.0 {
            let full = format!("{PREFIX}{endpoint}");
            if let Some((n, after)) = r.throttle_first {
                Mock::given(method("GET"))
                    .and(path(full.clone()))
                    .respond_with(
                        ResponseTemplate::new(429)
                            .insert_header("Retry-After", after)
                            .insert_header("cf-ray", "8f429429429429ab-AMS")
                            .set_body_json(fixture("errors/429_rate_limited_971.json")),
                    )
                    .up_to_n_times(n)
                    .with_priority(1)
                    .mount(&server)
                    .await;
            }
            let mut t = ResponseTemplate::new(r.status);
            for (k, v) in &r.headers {
                t = t.insert_header(*k, v.as_str());
            }
            t = match &r.body {
                Body::Json(v) => t.set_body_json(v.clone()),
                Body::Raw(s) => t.set_body_raw(s.as_bytes().to_vec(), "application/json"),
            };
            Mock::given(method("GET"))
                .and(path(full))
                .respond_with(t)
                .mount(&server)
                .await;
        }
        server
    }
}

// ---------------------------------------------------------------------------------------------
// Running the binary

struct Run {
    out: Output,
    report: Value,
    requests: Vec<wiremock::Request>,
    elapsed: Duration,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// Status and message of `rule`'s only finding.
    fn finding(&self, rule: &str) -> (String, String, Value) {
        let f: Vec<&Value> = self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == rule)
            .collect();
        assert_eq!(f.len(), 1, "{rule}: {f:#?}");
        (
            f[0]["status"].as_str().unwrap().to_string(),
            f[0]["message"].as_str().unwrap().to_string(),
            f[0]["evidence"].clone(),
        )
    }

    fn status(&self, rule: &str) -> String {
        self.finding(rule).0
    }

    fn cloudflare_errors(&self) -> Vec<Value> {
        self.report["collection_errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["provider"] == "cloudflare")
            .cloned()
            .collect()
    }

    /// What holds on every path: GET only, few requests, the token only in the Authorization
    /// header of authenticated calls, no secret in any output.
    fn check_invariants(&self) {
        assert!(
            self.requests.len() <= MAX_REQUESTS,
            "{} requests",
            self.requests.len()
        );
        for r in &self.requests {
            assert_eq!(r.method.as_str(), "GET", "{}", r.url);
            let auth = r.headers.get("authorization").map(|v| v.to_str().unwrap());
            if r.url.path() == format!("{PREFIX}/ips") {
                assert!(auth.is_none(), "/ips must be requested without credentials");
            } else {
                assert_eq!(auth, Some(format!("Bearer {TOKEN}").as_str()), "{}", r.url);
            }
        }
        let (out, err) = (self.stdout(), self.stderr());
        for secret in [TOKEN, HEADER_SECRET] {
            assert!(!out.contains(secret), "{secret} on stdout:\n{out}");
            assert!(!err.contains(secret), "{secret} on stderr:\n{err}");
        }
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_estate-audit"));
    offline::offline(&mut c);
    c.env("ESTATE_AUDIT_NOW", NOW)
        .env_remove("RUST_LOG")
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env_remove("CLOUDFLARE_API_BASE");
    c
}

fn estate_toml(dir: &Path) -> PathBuf {
    let p = dir.join("estate.toml");
    std::fs::write(&p, ESTATE_TOML).unwrap();
    p
}

/// `estate-audit audit --config estate.toml --format json` against the fake API.
async fn audit(api: &Api, token: Option<&str>) -> Run {
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.args(["audit", "--format", "json", "--stats", "--config"])
        .arg(estate_toml(dir.path()))
        .env("CLOUDFLARE_API_BASE", format!("{}{PREFIX}", server.uri()));
    if let Some(t) = token {
        c.env("CLOUDFLARE_API_TOKEN", t);
    }
    let start = Instant::now();
    let out = c.output().expect("the binary runs");
    let elapsed = start.elapsed();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let requests = server.received_requests().await.unwrap();
    let run = Run {
        out,
        report,
        requests,
        elapsed,
    };
    run.check_invariants();
    run
}

// ---------------------------------------------------------------------------------------------
// The compliant zone

#[tokio::test]
async fn compliant_zone_passes_every_cloudflare_rule() {
    let run = audit(&Api::compliant(), Some(TOKEN)).await;
    for rule in CF_RULES {
        let (status, msg, _) = run.finding(rule);
        assert_eq!(status, "pass", "{rule}: {msg}");
    }
    let (_, _, ev) = run.finding("cloudflare-ssl-strict");
    assert_eq!(ev["ssl"], "strict");
    assert_eq!(ev["ssl_automatic_mode"], "custom");
    assert!(
        run.cloudflare_errors().is_empty(),
        "{:#?}",
        run.cloudflare_errors()
    );
    // AWS is pointed at a closed loopback port here: its rules are unknown, the audit incomplete.
    assert_eq!(run.code(), Some(2));
    assert_eq!(run.status("aws-rds-not-public"), "unknown");
    let aws: Vec<&Value> = run.report["collection_errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["provider"] == "aws")
        .collect();
    assert!(!aws.is_empty());
    assert!(
        aws.iter()
            .all(|e| e["message"].as_str().unwrap().contains("127.0.0.1:9")
                || e["message"]
                    .as_str()
                    .unwrap()
                    .contains("Connection refused")
                || e["message"].as_str().unwrap().contains("dispatch")),
        "{aws:#?}"
    );
    // Token check, /ips, zone, DNS, six settings, six phases, Page Rules, per-hostname TLS.
    assert_eq!(run.requests.len(), 18, "requests per audit");
    // `--stats` counts what the server saw, and the bodies read.
    let cf = &run.report["stats"]["services"]["cloudflare"];
    assert_eq!(cf["calls"], json!(18), "{cf}");
    assert_eq!(cf["retries"], json!(0), "{cf}");
    assert!(cf["bytes"].as_u64().unwrap_or(0) > 1000, "{cf}");
    assert_eq!(
        run.report["scope"]["cloudflare_zones"],
        json!(["example.com"])
    );
}

#[tokio::test]
async fn an_account_owned_token_is_verified_against_its_account() {
    let api = Api::compliant()
        .with(
            "/user/tokens/verify",
            status(401, fixture("errors/401_invalid_api_token_1000.json")),
        )
        .with(
            format!("/accounts/{ACCOUNT}/tokens/verify"),
            ok(fixture("accounts_tokens_verify.json")),
        );
    let run = audit(&api, Some(TOKEN)).await;
    for rule in CF_RULES {
        assert_eq!(run.status(rule), "pass", "{rule}");
    }
    assert!(run.cloudflare_errors().is_empty());
    assert!(run.requests.iter().any(|r| r
        .url
        .path()
        .ends_with(&format!("/accounts/{ACCOUNT}/tokens/verify"))));
    assert_eq!(run.requests.len(), 19);
}

#[tokio::test]
async fn an_expired_token_stops_the_zone_collection() {
    let mut verify = fixture("user_tokens_verify.json");
    verify["result"]["status"] = json!("expired");
    let run = audit(
        &Api::compliant().with("/user/tokens/verify", ok(verify)),
        Some(TOKEN),
    )
    .await;
    for rule in CF_RULES {
        assert_eq!(run.status(rule), "unknown", "{rule}");
    }
    let errs = run.cloudflare_errors();
    assert!(
        errs[0]["message"].as_str().unwrap().contains("expired"),
        "{errs:#?}"
    );
    assert_eq!(run.requests.len(), 2, "the token check and /ips only");
}

// ---------------------------------------------------------------------------------------------
// Each rule's failure

fn with_value(name: &str, value: &str) -> Reply {
    let mut v = fixture(&format!("zone_setting_{name}.json"));
    v["result"]["value"] = json!(value);
    ok(v)
}

#[tokio::test]
async fn each_deviation_fails_its_rule_and_only_its_rule() {
    let dns = format!("/zones/{ZID}/dns_records");
    let cases: Vec<(&str, String, Reply, &str)> = vec![
        (
            "grey-cloud record",
            dns.clone(),
            ok(fixture("variants/dns_records_list_by_name_unproxied.json")),
            "cloudflare-dns-proxied",
        ),
        (
            "no record for the webhook host",
            dns.clone(),
            ok(fixture("variants/dns_records_list_by_name_empty.json")),
            "cloudflare-dns-proxied",
        ),
        (
            "SSL flexible",
            setting("ssl"),
            ok(fixture("variants/zone_setting_ssl_flexible.json")),
            "cloudflare-ssl-strict",
        ),
        (
            "SSL full (not strict)",
            setting("ssl"),
            with_value("ssl", "full"),
            "cloudflare-ssl-strict",
        ),
        (
            "automatic SSL mode",
            setting("ssl_automatic_mode"),
            ok(fixture(
                "variants/zone_setting_ssl_automatic_mode_auto.json",
            )),
            "cloudflare-ssl-strict",
        ),
        (
            "configuration rule sets ssl for the webhook host",
            phase("http_config_settings"),
            ok(fixture(
                "variants/rulesets_entrypoint_http_config_settings_ssl_override.json",
            )),
            "cloudflare-ssl-strict",
        ),
        (
            "TLS 1.0",
            setting("min_tls_version"),
            ok(fixture("variants/zone_setting_min_tls_version_1_0.json")),
            "cloudflare-min-tls-1-2",
        ),
        (
            "Always Use HTTPS off",
            setting("always_use_https"),
            with_value("always_use_https", "off"),
            "cloudflare-always-https",
        ),
        (
            "managed ruleset disabled",
            phase("http_request_firewall_managed"),
            ok(fixture(
                "variants/rulesets_entrypoint_http_request_firewall_managed_disabled.json",
            )),
            "cloudflare-waf-managed",
        ),
        (
            "no managed ruleset deployed (404 10003)",
            phase("http_request_firewall_managed"),
            not_deployed(),
            "cloudflare-waf-managed",
        ),
        (
            "rate limit for another host",
            phase("http_ratelimit"),
            ok(fixture(
                "variants/rulesets_entrypoint_http_ratelimit_other_host.json",
            )),
            "cloudflare-rate-limit-webhook",
        ),
        (
            "no rate limiting deployed (404 10003)",
            phase("http_ratelimit"),
            not_deployed(),
            "cloudflare-rate-limit-webhook",
        ),
        (
            "a Page Rule sets SSL Flexible for the webhook URL",
            format!("/zones/{ZID}/pagerules"),
            edited("pagerules_list_active.json", |v| {
                let mut r = v["result"][0].clone();
                r["id"] = json!("1b2c3d4e5f60718293a4b5c6d7e8f901");
                r["priority"] = json!(2);
                r["targets"][0]["constraint"]["value"] = json!("*example.com/web*");
                r["actions"] = json!([{"id": "ssl", "value": "flexible"}]);
                v["result"].as_array_mut().unwrap().push(r);
            }),
            "cloudflare-ssl-strict",
        ),
        (
            "the webhook host's own minimum TLS version is 1.0",
            format!("/zones/{ZID}/hostnames/settings/min_tls_version"),
            edited("hostnames_settings_min_tls_version.json", |v| {
                v["result"][0]["hostname"] = json!("webhook.example.com");
            }),
            "cloudflare-min-tls-1-2",
        ),
        (
            "a custom rule skips the managed WAF for the webhook host",
            phase("http_request_firewall_custom"),
            edited(
                "rulesets_entrypoint_http_request_firewall_custom.json",
                |v| {
                    v["result"]["rules"].as_array_mut().unwrap().push(json!({
                        "id": "0b1c2d3e4f5a46b7c8d9e0f1a2b3c4d5", "version": "1", "action": "skip",
                        "expression": "(http.host eq \"webhook.example.com\")",
                        "description": "partner traffic: no WAF", "enabled": true,
                        "action_parameters": {"phases": ["http_request_firewall_managed"]}
                    }));
                },
            ),
            "cloudflare-waf-managed",
        ),
        (
            "every managed rule overridden to log",
            phase("http_request_firewall_managed"),
            edited(
                "rulesets_entrypoint_http_request_firewall_managed.json",
                |v| {
                    for r in v["result"]["rules"].as_array_mut().unwrap() {
                        r["action_parameters"]["overrides"] = json!({"action": "log"});
                    }
                },
            ),
            "cloudflare-waf-managed",
        ),
        (
            "a rate limit counted per a header the client sets",
            phase("http_ratelimit"),
            edited("rulesets_entrypoint_http_ratelimit.json", |v| {
                v["result"]["rules"][0]["ratelimit"]["characteristics"] =
                    json!(["cf.colo.id", "http.request.headers[\"x-request-id\"]"]);
            }),
            "cloudflare-rate-limit-webhook",
        ),
        (
            "a custom rule skips rate limiting for a user agent",
            phase("http_request_firewall_custom"),
            edited(
                "rulesets_entrypoint_http_request_firewall_custom.json",
                |v| {
                    v["result"]["rules"].as_array_mut().unwrap().push(json!({
                        "id": "1c2d3e4f5a6b47c8d9e0f1a2b3c4d5e6", "version": "1", "action": "skip",
                        "expression": "(http.user_agent contains \"GitHub-Hookshot\")",
                        "description": "trusted sender", "enabled": true,
                        "action_parameters": {"phases": ["http_ratelimit"]}
                    }));
                },
            ),
            "cloudflare-rate-limit-webhook",
        ),
        (
            "the allowlist is as wide as the internet",
            phase("http_request_firewall_custom"),
            edited(
                "rulesets_entrypoint_http_request_firewall_custom.json",
                |v| {
                    v["result"]["rules"][0]["expression"] = json!(
                    "(http.host eq \"webhook.example.com\" and not ip.src in {0.0.0.0/1 128.0.0.0/1 ::/0})"
                );
                },
            ),
            "cloudflare-waf-source-allowlist",
        ),
        (
            "no custom rules (404 10003)",
            phase("http_request_firewall_custom"),
            not_deployed(),
            "cloudflare-waf-source-allowlist",
        ),
    ];
    for (name, endpoint, reply, failing) in cases {
        let run = audit(&Api::compliant().with(endpoint, reply), Some(TOKEN)).await;
        for rule in CF_RULES {
            let (status, msg, _) = run.finding(rule);
            let want = if rule == failing { "fail" } else { "pass" };
            assert_eq!(status, want, "{name}: {rule}: {msg}");
        }
        // A deviation is a value, not a collection problem.
        assert!(run.cloudflare_errors().is_empty(), "{name}");
        assert!(run.requests.len() <= 18, "{name}");
    }
}

#[tokio::test]
async fn the_free_managed_ruleset_counts_as_a_managed_waf() {
    let api = Api::compliant().with(
        phase("http_request_firewall_managed"),
        ok(fixture(
            "variants/rulesets_entrypoint_http_request_firewall_managed_free.json",
        )),
    );
    let run = audit(&api, Some(TOKEN)).await;
    assert_eq!(run.status("cloudflare-waf-managed"), "pass");
}

// ---------------------------------------------------------------------------------------------
// Each error: unknown with the endpoint and the cause, other rules still evaluated, exit 2

struct ErrorCase {
    name: &'static str,
    endpoint: String,
    reply: Reply,
    /// Rules that must be unknown; every other Cloudflare rule passes.
    unknown: &'static [&'static str],
    /// Each must appear in the Cloudflare collection error's message.
    says: &'static [&'static str],
    kind: &'static str,
}

#[tokio::test]
async fn each_api_error_makes_only_its_rules_unknown() {
    let all_zone: &[&str] = &CF_RULES;
    let cases = vec![
        ErrorCase {
            name: "401 invalid token (1000) on the check and on the zone",
            endpoint: "/zones".into(),
            reply: status(401, fixture("errors/401_invalid_api_token_1000.json")),
            unknown: all_zone,
            says: &[
                "GET /zones?name=example.com",
                "HTTP 401",
                "1000",
                "Invalid API Token",
                "cf-ray",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 9109 on a setting",
            endpoint: setting("ssl"),
            reply: status(403, fixture("errors/403_unauthorized_9109.json")),
            unknown: &["cloudflare-ssl-strict"],
            says: &[
                "settings/ssl",
                "HTTP 403",
                "9109",
                "Zone › Zone Settings › Read",
                "cf-ray 8f",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 10000 on DNS records",
            endpoint: format!("/zones/{ZID}/dns_records"),
            reply: status(403, fixture("errors/403_authentication_error_10000.json")),
            unknown: &["cloudflare-dns-proxied"],
            says: &[
                "dns_records?name=webhook.example.com",
                "10000",
                "Zone › DNS › Read",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 without a code on a ruleset entry point",
            endpoint: phase("http_request_firewall_managed"),
            reply: status(
                403,
                fixture("errors/403_rulesets_request_not_authorized.json"),
            ),
            unknown: &["cloudflare-waf-managed"],
            says: &[
                "http_request_firewall_managed/entrypoint",
                "(no code): request is not authorized",
                "Zone › Zone WAF › Read",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 on the configuration rules (the SSL override check)",
            endpoint: phase("http_config_settings"),
            reply: status(403, fixture("errors/403_authentication_error_10000.json")),
            unknown: &["cloudflare-ssl-strict", "cloudflare-min-tls-1-2"],
            says: &["http_config_settings", "Zone › Config Rules › Read"],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 on Page Rules (a token without Page Rules Read)",
            endpoint: format!("/zones/{ZID}/pagerules"),
            reply: status(403, fixture("errors/403_authentication_error_10000.json")),
            unknown: &["cloudflare-ssl-strict", "cloudflare-always-https"],
            says: &["pagerules?status=active", "Zone › Page Rules › Read"],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "403 on per-hostname TLS settings",
            endpoint: format!("/zones/{ZID}/hostnames/settings/min_tls_version"),
            reply: status(403, fixture("errors/403_unauthorized_9109.json")),
            unknown: &["cloudflare-min-tls-1-2"],
            says: &[
                "hostnames/settings/min_tls_version",
                "Zone › SSL and Certificates › Read",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "429 forever",
            endpoint: setting("always_use_https"),
            reply: Reply {
                headers: vec![
                    ("Retry-After", "0".into()),
                    ("cf-ray", "8f429000000000ff-AMS".into()),
                ],
                ..status(429, fixture("errors/429_rate_limited_971.json"))
            },
            unknown: &["cloudflare-always-https"],
            says: &[
                "settings/always_use_https",
                "HTTP 429",
                "rate limited",
                "3 retries",
                "cf-ray 8f429000000000ff-AMS",
            ],
            kind: "Throttled",
        },
        ErrorCase {
            name: "5xx",
            endpoint: setting("min_tls_version"),
            reply: status(
                502,
                json!({"success": false, "errors": [{"code": 502, "message": "Bad gateway"}], "messages": [], "result": null}),
            ),
            unknown: &["cloudflare-min-tls-1-2"],
            says: &["settings/min_tls_version", "HTTP 502", "Bad gateway"],
            kind: "Other",
        },
        ErrorCase {
            name: "5xx with an HTML body",
            endpoint: phase("http_ratelimit"),
            reply: Reply {
                body: Body::Raw("<html>502 Bad Gateway</html>"),
                ..status(502, json!(null))
            },
            unknown: &["cloudflare-rate-limit-webhook"],
            says: &["http_ratelimit/entrypoint", "HTTP 502", "not valid JSON"],
            kind: "Other",
        },
        ErrorCase {
            name: "malformed JSON body",
            endpoint: phase("http_ratelimit"),
            reply: Reply {
                body: Body::Raw("{\"result\": {\"rules\": [{\"id\": "),
                ..status(200, json!(null))
            },
            unknown: &["cloudflare-rate-limit-webhook"],
            says: &["http_ratelimit/entrypoint", "not valid JSON"],
            kind: "Other",
        },
        ErrorCase {
            name: "404 without 10003 is not 'nothing deployed'",
            endpoint: phase("http_request_firewall_managed"),
            reply: status(404, fixture("errors/400_no_route_7003.json")),
            unknown: &["cloudflare-waf-managed"],
            says: &["HTTP 404", "7003", "No route"],
            kind: "Other",
        },
        ErrorCase {
            name: "empty zone list: the token is not scoped to the zone",
            endpoint: "/zones".into(),
            reply: ok(
                json!({"result": [], "success": true, "errors": [], "messages": [],
                "result_info": {"page": 1, "per_page": 50, "count": 0, "total_count": 0, "total_pages": 0}}),
            ),
            unknown: all_zone,
            says: &[
                "found no such zone",
                "not scoped to zone example.com",
                "Zone › Zone › Read",
            ],
            kind: "AccessDenied",
        },
        ErrorCase {
            name: "a setting of the wrong shape",
            endpoint: setting("ssl"),
            reply: ok(
                json!({"result": {"id": "ssl", "value": {"mode": "strict"}}, "success": true, "errors": [], "messages": []}),
            ),
            unknown: &["cloudflare-ssl-strict"],
            says: &["settings/ssl", "not text"],
            kind: "Other",
        },
    ];
    for c in cases {
        let mut api = Api::compliant().with(c.endpoint.clone(), c.reply);
        if c.name.starts_with("401") {
            api = api.with(
                "/user/tokens/verify",
                status(401, fixture("errors/401_invalid_api_token_1000.json")),
            );
        }
        let run = audit(&api, Some(TOKEN)).await;
        assert_eq!(run.code(), Some(2), "{}", c.name);
        for rule in CF_RULES {
            let (status, msg, _) = run.finding(rule);
            let want = if c.unknown.contains(&rule) {
                "unknown"
            } else {
                "pass"
            };
            assert_eq!(status, want, "{}: {rule}: {msg}", c.name);
        }
        let errs = run.cloudflare_errors();
        assert_eq!(errs.len(), 1, "{}: {errs:#?}", c.name);
        let msg = errs[0]["message"].as_str().unwrap();
        for s in c.says {
            assert!(msg.contains(s), "{}: {s:?} not in {msg:?}", c.name);
        }
        assert_eq!(errs[0]["kind"], c.kind, "{}", c.name);
        // The same message reaches stderr, for the log of a scheduled run.
        assert!(run.stderr().contains(msg), "{}: {}", c.name, run.stderr());
        // The Cloudflare ranges never depend on the zone: the cross-check keeps its data.
        assert!(
            run.report["collection_errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| !e["kinds"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("cloudflare.ip_ranges"))),
            "{}",
            c.name
        );
    }
}

#[tokio::test]
async fn throttling_honours_retry_after_then_succeeds() {
    let mut reply = ok(fixture("zone_setting_min_tls_version.json"));
    reply.throttle_first = Some((1, "1"));
    let run = audit(
        &Api::compliant().with(setting("min_tls_version"), reply),
        Some(TOKEN),
    )
    .await;
    for rule in CF_RULES {
        assert_eq!(run.status(rule), "pass", "{rule}");
    }
    assert!(run.cloudflare_errors().is_empty());
    assert_eq!(run.requests.len(), 19);
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
}

#[tokio::test]
async fn throttling_everywhere_stays_within_the_request_budget() {
    let mut api = Api::compliant();
    for r in api.0.values_mut() {
        *r = Reply {
            headers: vec![("Retry-After", "0".into())],
            ..status(429, fixture("errors/429_rate_limited_971.json"))
        };
    }
    let run = audit(&api, Some(TOKEN)).await;
    assert_eq!(run.code(), Some(2));
    for rule in CF_RULES {
        assert_eq!(run.status(rule), "unknown", "{rule}");
    }
    assert!(run
        .cloudflare_errors()
        .iter()
        .all(|e| e["kind"] == "Throttled"));
}

#[tokio::test]
async fn ips_failure_leaves_the_zone_rules_alone() {
    let api = Api::compliant().with("/ips", status(503, json!({"success": false, "errors": []})));
    let run = audit(&api, Some(TOKEN)).await;
    for rule in CF_RULES {
        assert_eq!(run.status(rule), "pass", "{rule}");
    }
    let errs = run.cloudflare_errors();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["kinds"], json!(["cloudflare.ip_ranges"]));
    assert!(errs[0]["message"]
        .as_str()
        .unwrap()
        .contains("GET /ips: HTTP 503"));
}

#[tokio::test]
async fn a_paused_zone_proxies_nothing_and_every_rule_says_so() {
    for (what, edit) in [
        ("paused", json!({"paused": true})),
        ("pending", json!({"status": "pending"})),
    ] {
        let api = Api::compliant().with(
            "/zones",
            edited("zones_list_by_name.json", |v| {
                for (k, val) in edit.as_object().unwrap() {
                    v["result"][0][k] = val.clone();
                }
            }),
        );
        let run = audit(&api, Some(TOKEN)).await;
        for rule in CF_RULES {
            let (status, msg, ev) = run.finding(rule);
            assert_eq!(status, "fail", "{what}: {rule}: {msg}");
            assert_eq!(ev["zone_active"], json!(false), "{what}: {rule}: {ev}");
        }
        assert!(run.cloudflare_errors().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn an_allowlist_in_a_custom_list_is_read_and_judged_by_its_items() {
    let run = audit(&Api::with_list(), Some(TOKEN)).await;
    for rule in CF_RULES {
        let (status, msg, _) = run.finding(rule);
        assert_eq!(status, "pass", "{rule}: {msg}");
    }
    assert!(
        run.cloudflare_errors().is_empty(),
        "{:#?}",
        run.cloudflare_errors()
    );
    // The lists once, the named list's items once: 20 requests, within the budget.
    assert_eq!(run.requests.len(), 20);
    assert!(run.requests.len() <= MAX_REQUESTS);

    // A list that admits everyone approves no source.
    let wide = Api::with_list().with(
        format!("/accounts/{ACCOUNT}/rules/lists/2c0fc9fa937b11eaa1b71c4d701ab86e/items"),
        edited("accounts_rules_lists_items_webhook_senders.json", |v| {
            v["result"][0]["ip"] = json!("0.0.0.0/0");
        }),
    );
    let run = audit(&wide, Some(TOKEN)).await;
    let (verdict, msg, ev) = run.finding("cloudflare-waf-source-allowlist");
    assert_eq!(verdict, "fail", "{msg}");
    assert!(
        ev["webhook_allowlist"]
            .as_str()
            .unwrap()
            .contains("approves no particular source"),
        "{ev}"
    );

    // A token without the account permission: the allowlist is unknown, the rest stands.
    let denied = Api::with_list().with(
        format!("/accounts/{ACCOUNT}/rules/lists"),
        status(403, fixture("errors/403_authentication_error_10000.json")),
    );
    let run = audit(&denied, Some(TOKEN)).await;
    for rule in CF_RULES {
        let want = if rule == "cloudflare-waf-source-allowlist" {
            "unknown"
        } else {
            "pass"
        };
        assert_eq!(run.status(rule), want, "{rule}");
    }
    let errs = run.cloudflare_errors();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0]["message"]
        .as_str()
        .unwrap()
        .contains("Account › Account Filter Lists › Read"));
}

// ---------------------------------------------------------------------------------------------
// Without a token

#[tokio::test]
async fn without_a_token_nothing_is_requested_and_the_rules_say_what_is_needed() {
    let run = audit(&Api::compliant(), None).await;
    assert_eq!(run.requests.len(), 0);
    assert_eq!(run.code(), Some(2));
    for rule in CF_RULES {
        let (status, msg, _) = run.finding(rule);
        assert_eq!(status, "unknown", "{rule}");
        assert!(msg.contains("CLOUDFLARE_API_TOKEN"), "{rule}: {msg}");
    }
    let errs = run.cloudflare_errors();
    let msg = errs[0]["message"].as_str().unwrap();
    for p in [
        "Zone › Zone › Read",
        "Zone › DNS › Read",
        "Zone › Zone Settings › Read",
        "Zone › Zone WAF › Read",
        "estate-audit iam-policy",
    ] {
        assert!(msg.contains(p), "{p} not in {msg}");
    }
}

#[test]
fn iam_policy_prints_the_token_permissions() {
    let out = bin().arg("iam-policy").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for p in [
        "CLOUDFLARE_API_TOKEN",
        "Zone › Zone › Read",
        "Zone › DNS › Read",
        "Zone › Zone Settings › Read",
        "Zone › Zone WAF › Read",
        "Zone › Config Rules › Read",
        "Zone › Transform Rules › Read",
    ] {
        assert!(text.contains(p), "{p} not in:\n{text}");
    }
}

/// Tried as a new user would: with `CLOUDFLARE_API_TOKEN=t` every letter `t` of every message
/// became `***`. A value too short to be a token (or with a space or quote inside) is refused
/// before anything is read, saying what is wrong and never the value; nothing is written.
#[test]
fn a_token_too_short_to_be_real_is_refused_before_anything_is_requested() {
    let dir = tempfile::tempdir().unwrap();
    let config = estate_toml(dir.path());
    let inv = dir.path().join("inventory.json");
    let mut rendered = String::new();
    for (token, args) in [
        ("t", vec!["collect", "--output", inv.to_str().unwrap()]),
        ("t", vec!["audit", "--format", "json"]),
        (&TOKEN[..39], vec!["audit"]),
        (
            "token with spaces inside of it, forty characters long",
            vec!["audit"],
        ),
    ] {
        let out = bin()
            .args(&args)
            .arg("--config")
            .arg(&config)
            // Nothing may be requested: an address that answers nothing.
            .env("CLOUDFLARE_API_BASE", "https://127.0.0.1:9/client/v4")
            .env("CLOUDFLARE_API_TOKEN", token)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: no report");
        assert!(!inv.exists(), "nothing written");
        assert!(!err.contains("***"), "nothing to mask: {err}");
        if token.len() > 1 {
            assert!(!err.contains(token), "the value is never shown: {err}");
        }
        rendered.push_str(&format!(
            "$ CLOUDFLARE_API_TOKEN=… estate-audit {}\n{err}\n",
            args[0]
        ));
    }
    insta::assert_snapshot!("token_refused", rendered);
}

#[test]
fn the_token_is_never_sent_over_plain_http_to_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["audit", "--format", "json", "--config"])
        .arg(estate_toml(dir.path()))
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .env(
            "CLOUDFLARE_API_BASE",
            "http://api.cloudflare.invalid/client/v4",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = report["collection_errors"].to_string();
    assert!(text.contains("only sent over HTTPS"), "{text}");
    assert!(!text.contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// collect → audit --inventory, and the origin cross-check

async fn collect_to_file(api: &Api, dir: &Path) -> (PathBuf, Output) {
    let server = api.serve().await;
    let inv = dir.join("inventory.json");
    let out = bin()
        .args(["collect", "--config"])
        .arg(estate_toml(dir))
        .arg("--output")
        .arg(&inv)
        .env("CLOUDFLARE_API_BASE", format!("{}{PREFIX}", server.uri()))
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    (inv, out)
}

fn audit_file(inv: &Path) -> (Output, Value) {
    let out = bin()
        .args(["audit", "--format", "json", "--inventory"])
        .arg(inv)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap();
    (out, report)
}

fn statuses(report: &Value) -> BTreeMap<(String, String), (String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["resource_id"].as_str().unwrap().to_string(),
                ),
                (
                    f["status"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_collected_inventory_audits_like_the_live_run() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = collect_to_file(&Api::compliant(), dir.path()).await;
    // Incomplete (AWS is not collected), but written.
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&inv).unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(HEADER_SECRET));
    assert!(text.contains("X-Origin-Auth"), "the header name is kept");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(TOKEN));

    let (_, from_file) = audit_file(&inv);
    let live = audit(&Api::compliant(), Some(TOKEN)).await;
    assert_eq!(statuses(&from_file), statuses(&live.report));
}

/// The collected Cloudflare inventory plus the webhook Lambda of the compliant AWS fixture (what
/// the AWS collector will supply), with `policy_statements` replaced.
fn with_webhook_lambda(inv: &Path, statements: Option<Value>, auth: &str) -> PathBuf {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(inv).unwrap()).unwrap();
    let compliant: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compliant.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut lambda = compliant["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "aws.lambda.function")
        .unwrap()
        .clone();
    if let Some(s) = statements {
        lambda["attrs"]["policy_statements"] = s;
    }
    lambda["attrs"]["function_url"]["auth_type"] = json!(auth);
    lambda["attrs"]["function_urls"][0]["auth_type"] = json!(auth);
    v["resources"].as_array_mut().unwrap().push(lambda);
    // Stand in for the AWS collector: its kinds were read.
    v["collection_errors"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["provider"] != "aws");
    let out = inv.with_file_name(format!("with-lambda-{auth}.json"));
    std::fs::write(&out, serde_json::to_string(&v).unwrap()).unwrap();
    out
}

fn url_statement(cidrs: &[&str]) -> Value {
    json!([{
        "sid": "FunctionURLAllowPublicAccess", "effect": "Allow", "principals": ["*"],
        "actions": ["lambda:InvokeFunctionUrl"],
        "conditions": {"StringEquals": {"lambda:FunctionUrlAuthType": ["NONE"]},
                       "IpAddress": {"aws:SourceIp": cidrs}}
    }])
}

#[tokio::test]
async fn the_origin_cross_check_uses_the_collected_cloudflare_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, _) = collect_to_file(&Api::compliant(), dir.path()).await;
    let rule = "aws-lambda-url-cloudflare-only";
    let find = |report: &Value| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["rule_id"] == rule && f["resource_id"].as_str().unwrap().contains(":function:")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{report:#}"))
    };

    // Ranges inside Cloudflare's (IPv4 and IPv6, narrower than published): pass.
    let p = with_webhook_lambda(
        &inv,
        Some(url_statement(&[
            "173.245.48.0/21",
            "104.16.0.0/13",
            "2606:4700:10::/48",
        ])),
        "NONE",
    );
    let (_, report) = audit_file(&p);
    assert_eq!(find(&report)["status"], "pass", "{:#}", find(&report));

    // One range outside: fail, with the evidence and the compensating header noted.
    let p = with_webhook_lambda(
        &inv,
        Some(url_statement(&["173.245.48.0/20", "203.0.113.0/24"])),
        "NONE",
    );
    let (_, report) = audit_file(&p);
    let f = find(&report);
    assert_eq!(f["status"], "fail", "{f:#}");
    assert!(
        f["evidence"]["origins"]
            .to_string()
            .contains("203.0.113.0–203.0.113.255"),
        "{f:#}"
    );
    assert_eq!(f["evidence"]["origin_secret_header"], true, "{f:#}");
    assert!(!report.to_string().contains(HEADER_SECRET));

    // An IPv6 range wider than Cloudflare's: fail.
    let p = with_webhook_lambda(&inv, Some(url_statement(&["2606::/16"])), "NONE");
    assert_eq!(find(&audit_file(&p).1)["status"], "fail");

    // No source condition at all: fail.
    let p = with_webhook_lambda(
        &inv,
        Some(
            json!([{"effect": "Allow", "principals": ["*"], "actions": ["lambda:InvokeFunctionUrl"]}]),
        ),
        "NONE",
    );
    assert_eq!(find(&audit_file(&p).1)["status"], "fail");

    // AWS_IAM auth and no statement: nobody outside the account may invoke it.
    let p = with_webhook_lambda(&inv, Some(json!([])), "AWS_IAM");
    assert_eq!(find(&audit_file(&p).1)["status"], "pass");

    // AWS_IAM auth whose policy lets any AWS principal in: fail.
    let p = with_webhook_lambda(
        &inv,
        Some(
            json!([{"effect": "Allow", "principals": ["*"], "actions": ["lambda:InvokeFunctionUrl"]}]),
        ),
        "AWS_IAM",
    );
    assert_eq!(find(&audit_file(&p).1)["status"], "fail");
}
