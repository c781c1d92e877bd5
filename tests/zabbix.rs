//! Zabbix collection against JSON-RPC answers served on 127.0.0.1 (`wiremock`;
//! `tests/fixtures/zabbix/`, shaped after Zabbix 7.0's and 6.0's API reference, ids and keys
//! invented). A responder answers each call of a request by its method, with the call's own
//! `id`, and can shuffle the batch or leave an answer out: the collector matches by `id`. Two
//! requests on a compliant server (`apiinfo.version` without the token, then one batch), the
//! token as `Authorization: Bearer` from 6.4 and as the `auth` member before; one failed call
//! leaves only its own part unknown; refusals, garbled answers and HTTP errors are collection
//! errors naming the method and the JSON-RPC code; nothing but `POST /api_jsonrpc.php` with
//! allowlisted methods ever reaches the server; the token and the key never reach a message.
//! The rules over what is read are judged in `tests/rules.rs` (`*zabbix*` fixtures).

use std::collections::BTreeMap;

use estate_audit::collect::zabbix::{self, Options, Target};
use estate_audit::collect::{key_digest, Secret};
use estate_audit::model::{Attrs, ErrorKind, ZabbixServer};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "8c1f4a7e2b9d6c3f0a5e8b1d4c7f2a9e6b3d0c5f8a1e4b7d2c9f6a3e0b5d8c1f";
/// The PagerDuty key of the media type fixture.
const PD_KEY: &str = "0d4b8e1f6a2c4e9b8d7f3a1c5e2b9d40";

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zabbix")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn rpc_error(name: &str) -> Value {
    fixture("errors.json")[name].clone()
}

/// Answers JSON-RPC calls by method, echoing each call's id.
#[derive(Clone)]
struct Rpc {
    version: &'static str,
    /// method → result (`Ok`) or error object (`Err`).
    answers: BTreeMap<&'static str, Result<Value, Value>>,
    /// Answer a batch in the reverse order of its calls.
    reversed: bool,
    /// Leave the answer of this method out of the batch.
    drop: Option<&'static str>,
    /// `mediatype.get` refuses `parameters` (a user who is not Super admin).
    limited: bool,
    /// The answer to every request but `apiinfo.version`.
    batch_reply: Option<ResponseTemplate>,
}

impl Rpc {
    fn compliant(version: &'static str) -> Self {
        let hosts = if version.starts_with("6.0") {
            "host.get.6.0.json"
        } else {
            "host.get.json"
        };
        Rpc {
            version,
            answers: [
                ("host.get", Ok(fixture(hosts))),
                ("trigger.get", Ok(fixture("trigger.get.json"))),
                ("action.get", Ok(fixture("action.get.json"))),
                ("mediatype.get", Ok(fixture("mediatype.get.json"))),
            ]
            .into_iter()
            .collect(),
            reversed: false,
            drop: None,
            limited: false,
            batch_reply: None,
        }
    }

    fn answer(&self, call: &Value) -> Option<Value> {
        let m = call["method"].as_str().unwrap_or("");
        if Some(m) == self.drop {
            return None;
        }
        let id = call["id"].clone();
        let got = if m == "apiinfo.version" {
            Ok(json!(self.version))
        } else if m == "mediatype.get" && self.limited {
            let output = call["params"]["output"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if output.contains(&json!("parameters")) {
                Err(rpc_error("limited_output"))
            } else {
                Ok(fixture("mediatype.get.limited.json"))
            }
        } else {
            self.answers
                .get(m)
                .cloned()
                .unwrap_or_else(|| Err(rpc_error("method_not_found")))
        };
        Some(match got {
            Ok(r) => json!({"jsonrpc": "2.0", "result": r, "id": id}),
            Err(e) => json!({"jsonrpc": "2.0", "error": e, "id": id}),
        })
    }
}

impl Respond for Rpc {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return ResponseTemplate::new(200).set_body_json(
                    json!({"jsonrpc": "2.0", "error": rpc_error("parse_error"), "id": null}),
                )
            }
        };
        let is_version = body.get("method").and_then(Value::as_str) == Some("apiinfo.version");
        if let (false, Some(reply)) = (is_version, &self.batch_reply) {
            return reply.clone();
        }
        match body {
            Value::Array(calls) => {
                let mut out: Vec<Value> = calls.iter().filter_map(|c| self.answer(c)).collect();
                if self.reversed {
                    out.reverse();
                }
                ResponseTemplate::new(200).set_body_json(Value::Array(out))
            }
            one => ResponseTemplate::new(200).set_body_json(self.answer(&one).unwrap()),
        }
    }
}

async fn serve(rpc: Rpc) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api_jsonrpc.php"))
        .respond_with(rpc)
        .mount(&server)
        .await;
    server
}

fn options() -> Options {
    Options {
        token: Some(Secret::new(TOKEN)),
        ..Options::default()
    }
}

async fn collect(server: &MockServer) -> zabbix::Collected {
    let url = format!("{}/api_jsonrpc.php", server.uri());
    zabbix::collect(
        &options(),
        Target {
            url: Some(&url),
            hosts: vec!["rabbitmq-1".into()],
        },
    )
    .await
}

fn server_of(c: &zabbix::Collected) -> &ZabbixServer {
    assert_eq!(c.resources.len(), 1, "{:?}", c.errors);
    match &c.resources[0].attrs {
        Attrs::ZabbixServer(z) => z,
        other => panic!("{other:?}"),
    }
}

fn assert_no_secret(c: &zabbix::Collected) {
    let text = format!(
        "{} {:?}",
        serde_json::to_string(&c.resources).unwrap(),
        c.errors
    );
    for s in [TOKEN, PD_KEY] {
        assert!(!text.contains(s), "{s} leaked");
    }
}

/// Every request was a POST of allowlisted methods to the one URL; the bodies, in order.
async fn bodies(server: &MockServer) -> Vec<(Value, Option<String>)> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| {
            assert_eq!(r.method.as_str(), "POST");
            assert_eq!(r.url.path(), "/api_jsonrpc.php");
            assert_eq!(
                r.headers.get("content-type").unwrap().to_str().unwrap(),
                "application/json-rpc"
            );
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let calls = match &body {
                Value::Array(c) => c.clone(),
                one => vec![one.clone()],
            };
            for c in &calls {
                assert!(
                    zabbix::allowed(c["method"].as_str().unwrap()),
                    "{} sent",
                    c["method"]
                );
            }
            let auth = r
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string());
            (body, auth)
        })
        .collect()
}

#[tokio::test]
async fn a_7_0_server_is_read_in_two_requests_with_a_bearer_token_and_answers_matched_by_id() {
    for reversed in [false, true] {
        let server = serve(Rpc {
            reversed,
            ..Rpc::compliant("7.0.21")
        })
        .await;
        let c = collect(&server).await;
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let z = server_of(&c);
        assert_eq!(z.version.as_deref(), Some("7.0.21"));
        let hosts = z.hosts.as_ref().unwrap();
        assert_eq!(hosts[0].host, "rabbitmq-1");
        assert_eq!(hosts[0].status, Some(0));
        assert_eq!(hosts[0].interfaces[0].available, Some(1));
        assert_eq!(hosts[0].groups[0].id, "31", "hostgroups from 6.2");
        let triggers = z.triggers.as_ref().unwrap();
        assert_eq!(triggers.len(), 7);
        assert!(triggers[3]
            .expression
            .as_deref()
            .unwrap()
            .contains("mem_alarm"));
        let actions = z.actions.as_ref().unwrap();
        assert_eq!(actions[1].evaltype, Some(1));
        assert_eq!(actions[1].conditions[1].operator, Some(5));
        assert_eq!(actions[1].operations[0].mediatypeid.as_deref(), Some("52"));
        assert_eq!(actions[1].operations[0].users, vec!["23".to_string()]);
        let media = z.media_types.as_ref().unwrap();
        assert_eq!(media[1].key_digest, Some(key_digest(PD_KEY)));
        assert_eq!(media[1].users, Some(vec!["23".to_string()]));
        assert_eq!(media[0].key_digest, None, "email carries no key");
        let sent = bodies(&server).await;
        assert_eq!(sent.len(), 2, "apiinfo.version, then one batch");
        assert_eq!(c.usage.calls, 2);
        let (version, version_auth) = &sent[0];
        assert_eq!(version["method"], "apiinfo.version");
        assert!(
            version.get("auth").is_none() && version_auth.is_none(),
            "no token there"
        );
        let (batch, batch_auth) = &sent[1];
        assert_eq!(
            batch_auth.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        let calls = batch.as_array().unwrap();
        assert_eq!(calls.len(), 4);
        assert!(calls.iter().all(|c| c.get("auth").is_none()), "header only");
        assert!(calls[0]["params"].get("selectHostGroups").is_some());
        assert_eq!(calls[1]["params"]["filter"]["host"], json!(["rabbitmq-1"]));
        assert_no_secret(&c);
    }
}

#[tokio::test]
async fn a_6_0_server_gets_the_token_in_the_auth_member_and_never_in_a_header() {
    let server = serve(Rpc::compliant("6.0.38")).await;
    let c = collect(&server).await;
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let z = server_of(&c);
    assert_eq!(
        z.hosts.as_ref().unwrap()[0].groups[0].id,
        "31",
        "groups before 6.2"
    );
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|(_, auth)| auth.is_none()),
        "no header before 6.4"
    );
    assert!(
        sent[0].0.get("auth").is_none(),
        "apiinfo.version carries no token"
    );
    let calls = sent[1].0.as_array().unwrap();
    assert!(calls.iter().all(|c| c["auth"] == TOKEN));
    assert!(calls[0]["params"].get("selectGroups").is_some());
    assert_no_secret(&c);
}

#[tokio::test]
async fn one_refused_call_leaves_only_its_part_unknown() {
    let mut rpc = Rpc::compliant("7.0.21");
    rpc.answers
        .insert("action.get", Err(rpc_error("no_permissions_action")));
    let server = serve(rpc).await;
    let c = collect(&server).await;
    let z = server_of(&c);
    assert!(z.actions.is_none());
    assert!(z.hosts.is_some() && z.triggers.is_some() && z.media_types.is_some());
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    let e = &c.errors[0];
    assert_eq!(
        (e.provider.as_str(), e.service.as_str()),
        ("zabbix", "action.get")
    );
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(e.kinds.is_empty(), "the key check does not depend on it");
    assert!(
        e.message
            .contains("-32602 `Invalid params.`: `No permissions to call \"action.get\".`")
            && e.message.contains("User roles"),
        "{}",
        e.message
    );
    assert_no_secret(&c);
}

#[tokio::test]
async fn a_user_who_may_not_read_parameters_leaves_only_the_key_unknown() {
    let server = serve(Rpc {
        limited: true,
        ..Rpc::compliant("7.0.21")
    })
    .await;
    let c = collect(&server).await;
    let z = server_of(&c);
    let media = z.media_types.as_ref().unwrap();
    assert_eq!(media[1].status, Some(0), "the media types are still read");
    assert_eq!(media[1].key_digest, None);
    assert!(media[1]
        .key_unread
        .as_deref()
        .unwrap()
        .contains("Super admin"));
    assert!(z.actions.is_some());
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(c.errors[0].kinds.is_empty());
    assert_eq!(bodies(&server).await.len(), 3, "the media types read again");
    assert_no_secret(&c);
}

#[tokio::test]
async fn an_answer_missing_from_the_batch_is_unknown_not_empty() {
    let server = serve(Rpc {
        drop: Some("trigger.get"),
        reversed: true,
        ..Rpc::compliant("7.0.21")
    })
    .await;
    let c = collect(&server).await;
    let z = server_of(&c);
    assert!(z.triggers.is_none());
    assert!(z.hosts.is_some());
    assert!(
        c.errors[0].message.contains("no element with id 3"),
        "{:?}",
        c.errors
    );
}

#[tokio::test]
async fn refusals_of_every_call_name_the_method_and_code() {
    for (name, says, kind) in [
        (
            "not_authorized",
            "`Not authorized.`",
            ErrorKind::AccessDenied,
        ),
        (
            "session_terminated",
            "`Session terminated",
            ErrorKind::AccessDenied,
        ),
        (
            "api_token_expired",
            "-32500 `Application error.`: `API token expired.`",
            ErrorKind::AccessDenied,
        ),
        (
            "invalid_params",
            "-32602 `Invalid params.`",
            ErrorKind::Other,
        ),
        (
            "method_not_found",
            "-32601 `Method not found.`",
            ErrorKind::Other,
        ),
    ] {
        let mut rpc = Rpc::compliant("7.0.21");
        for m in ["host.get", "trigger.get", "action.get", "mediatype.get"] {
            rpc.answers.insert(m, Err(rpc_error(name)));
        }
        let server = serve(rpc).await;
        let c = collect(&server).await;
        let z = server_of(&c);
        assert!(z.hosts.is_none() && z.triggers.is_none() && z.actions.is_none());
        assert!(z.media_types.is_none());
        assert_eq!(c.errors.len(), 4, "{name}: {:?}", c.errors);
        for e in &c.errors {
            assert!(e.message.contains(says), "{name}: {}", e.message);
            assert!(
                e.message.contains(&format!("({})", e.service)),
                "{}",
                e.message
            );
            assert_eq!(e.kind, kind, "{name}");
        }
        let media = c
            .errors
            .iter()
            .find(|e| e.service == "mediatype.get")
            .unwrap();
        assert_eq!(media.kinds, vec!["zabbix.server".to_string()]);
        assert_no_secret(&c);
    }
}

#[tokio::test]
async fn http_errors_and_garbled_answers_are_errors_of_the_whole_batch() {
    for (reply, says) in [
        (ResponseTemplate::new(412), "HTTP 412, an empty body"),
        (
            ResponseTemplate::new(502).set_body_raw("<html>Bad gateway</html>", "text/html"),
            "HTTP 502",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"),
            "not valid JSON",
        ),
        (
            ResponseTemplate::new(200).set_body_json(
                json!({"jsonrpc": "2.0", "error": rpc_error("parse_error"), "id": null}),
            ),
            "-32700 `Parse error`",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"result": []})),
            "no id",
        ),
    ] {
        let server = serve(Rpc {
            batch_reply: Some(reply),
            ..Rpc::compliant("7.0.21")
        })
        .await;
        let c = collect(&server).await;
        let z = server_of(&c);
        assert!(z.hosts.is_none() && z.media_types.is_none());
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        let e = &c.errors[0];
        assert_eq!(e.service, "batch");
        assert_eq!(e.kinds, vec!["zabbix.server".to_string()]);
        assert!(e.message.contains(says), "{says}: {}", e.message);
        assert!(
            e.message
                .contains("host.get, trigger.get, action.get, mediatype.get"),
            "{}",
            e.message
        );
        assert_no_secret(&c);
    }
}

#[tokio::test]
async fn without_a_host_name_only_the_actions_and_media_types_are_read_and_the_error_says_why() {
    let server = serve(Rpc::compliant("7.0.21")).await;
    let url = format!("{}/api_jsonrpc.php", server.uri());
    let c = zabbix::collect(
        &options(),
        Target {
            url: Some(&url),
            hosts: Vec::new(),
        },
    )
    .await;
    let z = server_of(&c);
    assert!(
        z.hosts.is_none() && z.triggers.is_none(),
        "unknown, not empty"
    );
    assert!(z.actions.is_some() && z.media_types.is_some());
    assert!(
        c.errors[0].message.contains("set [monitoring.zabbix] host"),
        "{:?}",
        c.errors
    );
    let sent = bodies(&server).await;
    let methods: Vec<&str> = sent[1]
        .0
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["action.get", "mediatype.get"]);
}

#[tokio::test]
async fn a_version_that_cannot_be_read_stops_before_the_token_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    let c = collect(&server).await;
    assert!(c.resources.is_empty());
    assert_eq!(c.errors[0].service, "apiinfo");
    assert!(
        c.errors[0].message.contains("HTTP 412"),
        "{}",
        c.errors[0].message
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn only_allowlisted_reads_are_ever_encoded() {
    assert!(zabbix::allowed("host.get") && zabbix::allowed("apiinfo.version"));
    for m in [
        "host.update",
        "user.login",
        "script.execute",
        "item.get",
        "host.gett",
    ] {
        assert!(!zabbix::allowed(m), "{m}");
    }
    let refused = zabbix::body(
        &[(2, "host.get", json!({})), (3, "host.delete", json!(["1"]))],
        None,
    )
    .unwrap_err();
    assert!(refused.contains("`host.delete` is not an allowlisted read; nothing was sent"));
    let section = estate_audit::collect::zabbix::permissions_section();
    for m in [
        "apiinfo.version",
        "host.get",
        "trigger.get",
        "action.get",
        "mediatype.get",
    ] {
        assert!(
            section.contains(&format!("POST /api_jsonrpc.php {m}")),
            "{section}"
        );
    }
}

#[tokio::test]
async fn without_a_token_or_a_url_nothing_is_requested_and_the_error_says_what_to_set() {
    let server = serve(Rpc::compliant("7.0.21")).await;
    let url = format!("{}/api_jsonrpc.php", server.uri());
    let target = || Target {
        url: Some(&url),
        hosts: vec!["rabbitmq-1".into()],
    };
    let c = zabbix::collect(&Options::default(), target()).await;
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(c.errors[0].message.contains("ZABBIX_API_TOKEN is not set"));
    let c = zabbix::collect(&options(), Target::default()).await;
    assert!(c.errors[0]
        .message
        .contains("[monitoring.zabbix] url is not set"));
    let c = zabbix::collect(
        &options(),
        Target {
            url: Some("http://zabbix.example.com/api_jsonrpc.php"),
            hosts: Vec::new(),
        },
    )
    .await;
    assert!(
        c.errors[0].message.contains("only sent over HTTPS"),
        "{}",
        c.errors[0].message
    );
}

/// The compliant estate with its Zabbix server replaced by what `c` collected, audited; the
/// Zabbix rules' statuses by rule, and the report's JSON.
fn audit_with(c: zabbix::Collected) -> (BTreeMap<String, String>, String) {
    use chrono::TimeZone;
    let mut inv: estate_audit::model::Inventory =
        serde_json::from_str(include_str!("fixtures/compliant.json")).unwrap();
    inv.resources.retain(|r| r.kind() != "zabbix.server");
    inv.resources.extend(c.resources);
    inv.collection_errors.extend(c.errors);
    let policies = estate_audit::policy::PolicySet::builtin().unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    let report = estate_audit::audit::run(
        inv,
        None,
        &policies,
        &estate_audit::suppress::WaiverSet::empty(),
        now,
    );
    let statuses = report
        .findings
        .iter()
        .filter(|f| f.rule_id.contains("zabbix"))
        .map(|f| (f.rule_id.to_string(), f.status.to_string()))
        .collect();
    (statuses, serde_json::to_string(&report).unwrap())
}

#[tokio::test]
async fn what_is_collected_from_a_compliant_server_passes_every_zabbix_rule_and_a_disabled_host_fails(
) {
    let server = serve(Rpc::compliant("7.0.21")).await;
    let (statuses, json) = audit_with(collect(&server).await);
    assert_eq!(statuses.len(), 4, "{statuses:?}");
    assert!(statuses.values().all(|s| s == "pass"), "{statuses:?}");
    for s in [TOKEN, PD_KEY] {
        assert!(!json.contains(s), "the report holds {s}");
    }

    let mut disabled = fixture("host.get.json");
    disabled[0]["status"] = json!("1");
    disabled[0]["interfaces"][0]["available"] = json!("2");
    let mut rpc = Rpc::compliant("7.0.21");
    rpc.answers.insert("host.get", Ok(disabled));
    let server = serve(rpc).await;
    let (statuses, _) = audit_with(collect(&server).await);
    assert_eq!(
        statuses["rabbitmq-zabbix-monitored"], "fail",
        "{statuses:?}"
    );

    let mut rpc = Rpc::compliant("7.0.21");
    rpc.answers
        .insert("action.get", Err(rpc_error("no_permissions_action")));
    let server = serve(rpc).await;
    let (statuses, _) = audit_with(collect(&server).await);
    assert_eq!(
        statuses["rabbitmq-zabbix-alerts-route-pagerduty"],
        "unknown"
    );
    assert_eq!(
        statuses["rabbitmq-zabbix-monitored"], "pass",
        "{statuses:?}"
    );
    assert_eq!(
        statuses["zabbix-pagerduty-key-resolves"], "pass",
        "{statuses:?}"
    );
}
