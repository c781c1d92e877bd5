//! Zabbix collection over its JSON-RPC API (`POST <frontend>/api_jsonrpc.php`) with an API token
//! (`ZABBIX_API_TOKEN`): `apiinfo.version` first, without the token (the server refuses one
//! there), to choose how the token is sent (`Authorization: Bearer` from 6.4, the request's
//! `auth` member before), then one batch of `host.get` and `trigger.get` for the RabbitMQ host's
//! names, `action.get` (trigger actions) and `mediatype.get` (with the parameters, where the
//! PagerDuty key becomes its digest at once). Two requests on a compliant server; a third only
//! when the token may not read the media types' parameters (they are read again without them).
//!
//! What it must not do: call anything but the read-only methods of [`METHODS`] (checked before
//! a body is built), guess (each answer is matched by `id`; a method that failed leaves its
//! field `None` with a [`CollectionError`] naming the method and the JSON-RPC code), or let the
//! token or a key reach any message.

pub mod normalize;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::http::{self, Client, Read};
use super::Secret;
use crate::model::{kind, Attrs, CollectionError, ErrorKind, Resource, ZabbixServer};
use normalize::{Answer, RpcError};

/// Environment variable holding the API token.
pub const TOKEN_VAR: &str = "ZABBIX_API_TOKEN";
/// Shorter than any Zabbix credential (API tokens are 64 hex digits, session ids 32); refused
/// at start.
pub const TOKEN_LEN: usize = 32;
/// How the body is sent (Zabbix answers HTTP 412 to any other type).
const CONTENT_TYPE: &str = "application/json-rpc";

/// Every method the collector calls: `apiinfo.version` and read-only `*.get` methods.
pub const METHODS: &[Read] = &[
    Read {
        path: "apiinfo.version",
        needs: "- (called without the token)",
        needed_for: "the API version, which says how the token is sent",
    },
    Read {
        path: "host.get",
        needs: "read on the RabbitMQ host's host group",
        needed_for: "the RabbitMQ host: status, maintenance, interfaces, groups, templates",
    },
    Read {
        path: "trigger.get",
        needs: "read on the RabbitMQ host's host group",
        needed_for: "the host's triggers (expanded expressions, status, state, priority)",
    },
    Read {
        path: "action.get",
        needs: "-",
        needed_for: "the trigger actions' conditions and operations",
    },
    Read {
        path: "mediatype.get",
        needs: "Super admin user type (for parameters)",
        needed_for: "the PagerDuty media type, its users, and its key's digest",
    },
];

/// Whether `method` may be called: listed in [`METHODS`], and a read.
pub fn allowed(method: &str) -> bool {
    (method.ends_with(".get") || method == "apiinfo.version")
        && METHODS.iter().any(|m| m.path == method)
}

/// The `iam-policy` section.
pub fn permissions_section() -> String {
    format!(
        "# Zabbix (when estate.toml has [monitoring] and does not list zabbix in not_used): an API\n\
         # token ({TOKEN_VAR}) of a user whose role allows API access to these methods only\n\
         # (Users › User roles › API methods: allow list) and whose user group has read permission\n\
         # on the RabbitMQ host's host group. Reading the PagerDuty media type's key needs the\n\
         # Super admin user type; without it only the key check is unknown.\n{}",
        http::calls_table("POST /api_jsonrpc.php ", METHODS)
    )
}

/// Where and how to reach Zabbix: the token, the limits (a proxy in front of the frontend may
/// rate-limit), the deadline.
pub type Options = http::TokenOptions;

/// What to read: the API's URL and the host names to look for.
#[derive(Clone, Debug, Default)]
pub struct Target<'a> {
    /// `None`: Zabbix is in the audit but `[monitoring.zabbix] url` is not set.
    pub url: Option<&'a str>,
    /// Technical host names (the configured `host`, else the RabbitMQ instances' `Name` tags).
    pub hosts: Vec<String>,
}

/// The outcome of one collection.
pub type Collected = super::SharedPart;

/// A collection error of `service`. Only the failures that leave the media types (and so the
/// key check on the server itself) unknown block `zabbix.server`'s rules; a host, trigger or
/// action read that fails leaves its own facts `null` on the RabbitMQ instance.
fn error(service: &str, kind: ErrorKind, message: String, blocks_server: bool) -> CollectionError {
    CollectionError {
        provider: "zabbix".into(),
        service: service.into(),
        kinds: if blocks_server {
            vec![kind::ZABBIX_SERVER.to_string()]
        } else {
            Vec::new()
        },
        kind,
        message,
        region: None,
        account: None,
    }
}

/// What a refused method needs, for its message.
fn advice(method: &str, e: &RpcError) -> String {
    let needs = METHODS
        .iter()
        .find(|m| m.path == method)
        .map(|m| m.needs)
        .unwrap_or("-");
    if e.data.contains("No permissions to call") {
        format!(
            ": the token's user role must allow the API method {method} (Users › User roles › \
             API methods)"
        )
    } else if e.denied() {
        format!(
            ": the token in {TOKEN_VAR} was refused (unknown, expired, or its user or user group \
             disabled); {method} needs {needs}"
        )
    } else {
        String::new()
    }
}

/// The request body of `calls` (`(id, method, params)`), or why it may not be sent: a method
/// outside [`METHODS`] is refused here, before anything reaches the network. One call is sent
/// as an object, several as a batch (an array). `auth`: the token as the `auth` member (before
/// 6.4).
pub fn body(calls: &[(u64, &str, Value)], auth: Option<&Secret>) -> Result<Vec<u8>, String> {
    if let Some((_, m, _)) = calls.iter().find(|(_, m, _)| !allowed(m)) {
        return Err(format!(
            "`{}` is not an allowlisted read; nothing was sent",
            http::clean(m)
        ));
    }
    let objects: Vec<Value> = calls
        .iter()
        .map(|(id, method, params)| {
            let mut o = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
            if let (Some(t), true) = (auth, *method != "apiinfo.version") {
                o["auth"] = Value::String(t.expose().to_string());
            }
            o
        })
        .collect();
    let v = match objects.as_slice() {
        [one] => one.clone(),
        _ => Value::Array(objects),
    };
    serde_json::to_vec(&v).map_err(|e| format!("cannot encode the request: {e}"))
}

/// `POST /api_jsonrpc.php (host.get, trigger.get)` for messages.
fn describe(calls: &[(u64, &str, Value)]) -> String {
    let methods: Vec<&str> = calls.iter().map(|(_, m, _)| *m).collect();
    format!("POST /api_jsonrpc.php ({})", methods.join(", "))
}

/// One request of `calls`: each call's answer by id, or what failed for all of them.
async fn call(
    c: &Client,
    calls: &[(u64, &str, Value)],
    auth_member: Option<&Secret>,
    with_header: bool,
) -> Result<BTreeMap<u64, Answer>, (ErrorKind, String)> {
    let endpoint = describe(calls);
    let body = body(calls, auth_member).map_err(|why| (ErrorKind::Other, why))?;
    let answer = c
        .post(body, CONTENT_TYPE, with_header)
        .await
        .map_err(|no| {
            let status = no.status.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
            (no.kind, format!("{endpoint}: {status}{}", no.detail))
        })?;
    let status = answer.status;
    let fail = |kind, detail: String| (kind, c.redact(&format!("{endpoint}: {detail}")));
    if status != 200 {
        let detail = if status == 412 && answer.body.is_empty() {
            "HTTP 412, an empty body (Zabbix refuses a request whose Content-Type is not JSON)"
                .to_string()
        } else {
            format!("HTTP {status}, {}", http::text_detail(&answer.body))
        };
        return Err(fail(http::kind_of(status), detail));
    }
    let v: Value = serde_json::from_slice(&answer.body).map_err(|e| {
        fail(
            ErrorKind::Other,
            format!("HTTP 200, unreadable answer: the body is not valid JSON ({e})"),
        )
    })?;
    let by_id =
        normalize::answers(&v).map_err(|why| fail(ErrorKind::Other, format!("HTTP 200, {why}")))?;
    Ok(by_id)
}

/// `7.0.21` → `(7, 0)`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The batch's calls for API `version` and the host names.
fn batch(
    version: (u32, u32),
    hosts: &[String],
    with_parameters: bool,
) -> Vec<(u64, &'static str, Value)> {
    let mut calls = Vec::new();
    if !hosts.is_empty() {
        let groups = if version >= (6, 2) {
            "selectHostGroups"
        } else {
            "selectGroups"
        };
        let mut host = json!({
            "output": ["hostid", "host", "name", "status", "maintenance_status", "maintenance_type"],
            "filter": {"host": hosts},
            "selectInterfaces": ["type", "main", "useip", "ip", "dns", "port", "available", "error"],
            "selectParentTemplates": ["templateid", "name"],
        });
        host[groups] = json!(["groupid", "name"]);
        calls.push((2, "host.get", host));
        calls.push((
            3,
            "trigger.get",
            json!({
                "output": ["triggerid", "description", "expression", "priority", "status", "state", "error"],
                "filter": {"host": hosts},
                "expandExpression": true,
                "selectHosts": ["hostid", "host"],
            }),
        ));
    }
    calls.push((
        4,
        "action.get",
        json!({
            "output": ["actionid", "name", "eventsource", "status", "pause_suppressed"],
            "filter": {"eventsource": "0"},
            "selectFilter": "extend",
            "selectOperations": "extend",
        }),
    ));
    calls.push(media_call(with_parameters));
    calls
}

fn media_call(with_parameters: bool) -> (u64, &'static str, Value) {
    let mut output = vec!["mediatypeid", "name", "type", "status"];
    if with_parameters {
        output.push("parameters");
    }
    (
        5,
        "mediatype.get",
        json!({"output": output, "selectUsers": ["userid"]}),
    )
}

/// Reads Zabbix at `target`.
pub async fn collect(opts: &Options, target: Target<'_>) -> Collected {
    let mut out = Collected::default();
    let (url, token) = match http::url_and_token(
        ("zabbix", "Zabbix"),
        target.url,
        "api_jsonrpc.php URL",
        opts.token.as_ref(),
        (
            TOKEN_VAR,
            "create an API token for a user with the role `estate-audit iam-policy` describes \
             and export it",
        ),
    ) {
        Ok(got) => got,
        Err((service, kind, why)) => {
            out.errors.push(error(service, kind, why, true));
            return out;
        }
    };
    let client = http::bearer_client(
        "Zabbix",
        "[monitoring.zabbix] url",
        url,
        token.clone(),
        TOKEN_VAR,
        opts.limits,
    );
    let c = match client {
        Ok(c) => c,
        Err(why) => {
            out.errors
                .push(error("config", ErrorKind::Other, why, true));
            return out;
        }
    };
    let read = super::within(
        opts.deadline.as_ref(),
        read_all(&c, &token, &target.hosts, &mut out),
    )
    .await;
    match read {
        Some(Some(z)) => out.resources.push({
            let mut r = Resource::new(format!("zabbix:{}", c.base()), Attrs::ZabbixServer(z));
            r.name = Some(c.base().to_string());
            r
        }),
        Some(None) => {}
        None => out.errors.push(error(
            "zabbix",
            ErrorKind::Other,
            "Zabbix did not answer within the audit's --timeout".into(),
            true,
        )),
    }
    out.usage = c.usage();
    out
}

/// The version, then the batch; `None` when nothing could be read (the error says why).
async fn read_all(
    c: &Client,
    token: &Secret,
    hosts: &[String],
    out: &mut Collected,
) -> Option<ZabbixServer> {
    let version_call = [(1, "apiinfo.version", json!({}))];
    let version = match call(c, &version_call, None, false).await {
        Ok(mut a) => match a.remove(&1) {
            Some(Ok(Value::String(v))) => Ok(v),
            Some(Ok(_)) => Err((
                ErrorKind::Other,
                "POST /api_jsonrpc.php (apiinfo.version): the version is not a string".into(),
            )),
            Some(Err(e)) => Err((
                e.kind(),
                format!("POST /api_jsonrpc.php (apiinfo.version): {}", e.words()),
            )),
            None => Err((
                ErrorKind::Other,
                "POST /api_jsonrpc.php (apiinfo.version): the answer has no id 1".into(),
            )),
        },
        Err(e) => Err(e),
    };
    let version = match version {
        Ok(v) => v,
        Err((kind, msg)) => {
            out.errors.push(error("apiinfo", kind, msg, true));
            return None;
        }
    };
    let Some(mm) = major_minor(&version) else {
        out.errors.push(error(
            "apiinfo",
            ErrorKind::Other,
            format!(
                "POST /api_jsonrpc.php (apiinfo.version): `{}` is not a version",
                http::clean(&version)
            ),
            true,
        ));
        return None;
    };
    // From 6.4 the token goes in the header; before, in each call's `auth` member.
    let bearer = mm >= (6, 4);
    let auth_member = (!bearer).then_some(token);
    let mut z = ZabbixServer {
        url: Some(c.base().to_string()),
        version: Some(version),
        looked_for: hosts.to_vec(),
        ..Default::default()
    };
    if hosts.is_empty() {
        out.errors.push(error(
            "host.get",
            ErrorKind::Other,
            "no Zabbix host name to look for, so the RabbitMQ host and its triggers were not \
             read: no RabbitMQ instance with a Name tag was found; set [monitoring.zabbix] host"
                .into(),
            false,
        ));
    }
    let calls = batch(mm, hosts, true);
    let mut answers = match call(c, &calls, auth_member, bearer).await {
        Ok(a) => a,
        Err((kind, msg)) => {
            out.errors.push(error("batch", kind, msg, true));
            return Some(z);
        }
    };
    // The media types again without their parameters when the token may not read those: only
    // the keys are then unknown.
    let mut why_no_key: Option<String> = None;
    if let Some(Err(e)) = answers.get(&5) {
        if e.limited_output() {
            why_no_key = Some(format!(
                "the token's user may not read media type parameters ({}): it needs the Super \
                 admin user type",
                e.words()
            ));
            let retry = [media_call(false)];
            match call(c, &retry, auth_member, bearer).await {
                Ok(mut a) => {
                    let again = a.remove(&5).unwrap_or_else(|| {
                        Err(RpcError {
                            code: 0,
                            message: "no answer".into(),
                            data: "the answer has no id 5".into(),
                        })
                    });
                    answers.insert(5, again);
                }
                Err((_, msg)) => {
                    answers.insert(
                        5,
                        Err(RpcError {
                            code: 0,
                            message: "no answer".into(),
                            data: msg,
                        }),
                    );
                }
            }
        }
    }
    if let Some(why) = &why_no_key {
        out.errors.push(error(
            "mediatype.get",
            ErrorKind::AccessDenied,
            c.redact(&format!("POST /api_jsonrpc.php (mediatype.get): {why}")),
            false,
        ));
    }
    keep(c, &calls, answers, why_no_key.as_deref(), &mut z, out);
    Some(z)
}

/// Each call's answer into `z`, or its collection error (a missing answer is one too).
fn keep(
    c: &Client,
    calls: &[(u64, &str, Value)],
    mut answers: BTreeMap<u64, Answer>,
    why_no_key: Option<&str>,
    z: &mut ZabbixServer,
    out: &mut Collected,
) {
    for (id, method, _) in calls {
        let got = match answers.remove(id) {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let msg = format!(
                    "POST /api_jsonrpc.php ({method}): {}{}",
                    e.words(),
                    advice(method, &e)
                );
                out.errors
                    .push(error(method, e.kind(), c.redact(&msg), *id == 5));
                continue;
            }
            None => {
                out.errors.push(error(
                    method,
                    ErrorKind::Other,
                    format!(
                        "POST /api_jsonrpc.php ({method}): the batch answer has no element with \
                         id {id}, so {method} is unknown"
                    ),
                    *id == 5,
                ));
                continue;
            }
        };
        let read = match *method {
            "host.get" => normalize::hosts(&got).map(|h| z.hosts = Some(h)),
            "trigger.get" => normalize::triggers(&got).map(|t| z.triggers = Some(t)),
            "action.get" => normalize::actions(&got).map(|a| z.actions = Some(a)),
            _ => normalize::media_types(&got, why_no_key).map(|m| z.media_types = Some(m)),
        };
        if let Err(why) = read {
            out.errors.push(error(
                method,
                ErrorKind::Other,
                format!("POST /api_jsonrpc.php ({method}): unexpected response: {why}"),
                *id == 5,
            ));
        }
    }
}
