//! Zabbix's JSON-RPC answers turned into the model: the batch's answers matched by `id` (never
//! by position), each one a result or its own error, and each method's result read into the
//! `Zabbix*` structs. Pure functions of JSON; the PagerDuty key of a media type becomes its
//! digest here and is kept nowhere. It must not send anything nor guess: a field it cannot read
//! stays `None`, and an answer of the wrong shape is an error naming what was wrong.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::key_digest;
use crate::model::{
    ErrorKind, ZabbixAction, ZabbixCondition, ZabbixHost, ZabbixInterface, ZabbixMediaType,
    ZabbixOperation, ZabbixRef, ZabbixTrigger,
};

/// A JSON-RPC error object: its code, message and data, cleaned for messages.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: String,
}

impl RpcError {
    fn of(v: &Value) -> RpcError {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(crate::collect::http::clean)
                .unwrap_or_default()
        };
        RpcError {
            code: v.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: text("message"),
            data: text("data"),
        }
    }

    /// Whether it says the token was refused or lacks a permission.
    pub fn denied(&self) -> bool {
        self.code == -32500
            || [
                "Not authorized",
                "Session terminated",
                "No permissions",
                "API token expired",
            ]
            .iter()
            .any(|w| self.data.contains(w))
    }

    pub fn kind(&self) -> ErrorKind {
        if self.denied() {
            ErrorKind::AccessDenied
        } else {
            ErrorKind::Other
        }
    }

    /// `JSON-RPC error -32602 `Invalid params.`: `Not authorized.``
    pub fn words(&self) -> String {
        let mut s = format!("JSON-RPC error {} `{}`", self.code, self.message);
        if !self.data.is_empty() {
            s.push_str(&format!(": `{}`", self.data));
        }
        s
    }

    /// `mediatype.get` refused the `parameters` output (the user is not a Super admin).
    pub fn limited_output(&self) -> bool {
        self.code == -32602 && self.data.contains("/output")
    }
}

/// One answer of a request: its result, or its error.
pub type Answer = Result<Value, RpcError>;

/// The answers of a request by `id`. A whole-request error (a parse error, `id` null) is
/// `Err` with its words; an element without a numeric `id` is refused (it cannot be matched).
pub fn answers(v: &Value) -> Result<BTreeMap<u64, Answer>, String> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err("the answer is neither a JSON-RPC object nor a batch".into()),
    };
    let mut out = BTreeMap::new();
    for item in items {
        let id = match item.get("id") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let answer = match (item.get("result"), item.get("error")) {
            (_, Some(e)) => Err(RpcError::of(e)),
            (Some(r), None) => Ok(r.clone()),
            (None, None) => return Err("an answer has neither a result nor an error".into()),
        };
        match (id, answer) {
            (Some(id), a) => {
                out.insert(id, a);
            }
            (None, Err(e)) => return Err(e.words()),
            (None, Ok(_)) => return Err("an answer has no id to match it by".into()),
        }
    }
    Ok(out)
}

fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An enumeration Zabbix sends as a string (`"0"`); a number is read too.
fn small(v: &Value, k: &str) -> Option<u8> {
    text(v, k)?.trim().parse().ok()
}

fn list<'a>(v: &'a Value, k: &str) -> impl Iterator<Item = &'a Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

fn refs(v: &Value, k: &str, id: &str) -> Vec<ZabbixRef> {
    list(v, k)
        .filter_map(|g| {
            Some(ZabbixRef {
                id: text(g, id)?,
                name: text(g, "name"),
            })
        })
        .collect()
}

fn items(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    v.as_array()
        .cloned()
        .ok_or_else(|| format!("the {what} are not a list"))
}

/// `host.get` (groups as `hostgroups` from 6.2, `groups` before).
pub fn hosts(v: &Value) -> Result<Vec<ZabbixHost>, String> {
    items(v, "hosts")?
        .iter()
        .map(|h| {
            Ok(ZabbixHost {
                hostid: text(h, "hostid").ok_or("a host has no hostid")?,
                host: text(h, "host").ok_or("a host has no technical name")?,
                status: small(h, "status"),
                maintenance_status: small(h, "maintenance_status"),
                maintenance_type: small(h, "maintenance_type"),
                interfaces: list(h, "interfaces")
                    .map(|i| ZabbixInterface {
                        interface_type: small(i, "type"),
                        ip: text(i, "ip").filter(|s| !s.is_empty()),
                        dns: text(i, "dns").filter(|s| !s.is_empty()),
                        useip: small(i, "useip"),
                        available: small(i, "available"),
                        error: text(i, "error").filter(|s| !s.is_empty()),
                    })
                    .collect(),
                groups: if h.get("hostgroups").is_some() {
                    refs(h, "hostgroups", "groupid")
                } else {
                    refs(h, "groups", "groupid")
                },
                templates: refs(h, "parentTemplates", "templateid"),
            })
        })
        .collect()
}

/// `trigger.get` with `expandExpression` and `selectHosts`.
pub fn triggers(v: &Value) -> Result<Vec<ZabbixTrigger>, String> {
    items(v, "triggers")?
        .iter()
        .map(|t| {
            Ok(ZabbixTrigger {
                triggerid: text(t, "triggerid").ok_or("a trigger has no triggerid")?,
                description: text(t, "description"),
                expression: text(t, "expression"),
                priority: small(t, "priority"),
                status: small(t, "status"),
                state: small(t, "state"),
                error: text(t, "error").filter(|s| !s.is_empty()),
                hosts: list(t, "hosts").filter_map(|h| text(h, "host")).collect(),
            })
        })
        .collect()
}

/// `action.get` with `selectFilter` and `selectOperations`.
pub fn actions(v: &Value) -> Result<Vec<ZabbixAction>, String> {
    items(v, "actions")?
        .iter()
        .map(|a| {
            let filter = a.get("filter").cloned().unwrap_or(Value::Null);
            Ok(ZabbixAction {
                actionid: text(a, "actionid").ok_or("an action has no actionid")?,
                name: text(a, "name"),
                status: small(a, "status"),
                pause_suppressed: small(a, "pause_suppressed"),
                evaltype: small(&filter, "evaltype"),
                formula: text(&filter, "formula").filter(|s| !s.is_empty()),
                conditions: list(&filter, "conditions")
                    .map(|c| ZabbixCondition {
                        conditiontype: small(c, "conditiontype"),
                        operator: small(c, "operator"),
                        value: text(c, "value").unwrap_or_default(),
                        formulaid: text(c, "formulaid"),
                    })
                    .collect(),
                operations: list(a, "operations")
                    .map(|o| ZabbixOperation {
                        operationtype: small(o, "operationtype"),
                        mediatypeid: o.get("opmessage").and_then(|m| text(m, "mediatypeid")),
                        users: list(o, "opmessage_usr")
                            .filter_map(|u| text(u, "userid"))
                            .collect(),
                        groups: list(o, "opmessage_grp")
                            .filter_map(|g| text(g, "usrgrpid"))
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The parameter of the stock PagerDuty media type that holds the routing key.
const KEY_PARAMETER: &str = "token";

/// `mediatype.get`. `with_parameters`: whether `parameters` was asked for (a non-Super-admin
/// token is refused them; then every key is unread, with `why_not`).
pub fn media_types(v: &Value, why_not: Option<&str>) -> Result<Vec<ZabbixMediaType>, String> {
    items(v, "media types")?
        .iter()
        .map(|m| {
            // Only a webhook can carry an Events API key.
            let (key_digest, key_unread) = match why_not {
                _ if small(m, "type") != Some(4) => (None, None),
                Some(why) => (None, Some(why.to_string())),
                None => key_of(m),
            };
            Ok(ZabbixMediaType {
                mediatypeid: text(m, "mediatypeid").ok_or("a media type has no mediatypeid")?,
                name: text(m, "name"),
                media_type: small(m, "type"),
                status: small(m, "status"),
                users: m
                    .get("users")
                    .and_then(Value::as_array)
                    .map(|us| us.iter().filter_map(|u| text(u, "userid")).collect()),
                key_digest,
                key_unread,
            })
        })
        .collect()
}

/// The digest of the key in the `token` parameter, or why there is none to read.
fn key_of(m: &Value) -> (Option<String>, Option<String>) {
    let Some(params) = m.get("parameters").and_then(Value::as_array) else {
        return (None, Some("the answer has no parameters".into()));
    };
    let value = params
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(KEY_PARAMETER))
        .and_then(|p| p.get("value").and_then(Value::as_str))
        .map(str::trim);
    match value {
        Some(v) if v.contains("{ALERT.SENDTO}") => (
            None,
            Some(
                "its `token` parameter is {ALERT.SENDTO}: the key is in each user's media, \
                 which the audit does not read"
                    .into(),
            ),
        ),
        Some(v) if v.starts_with('{') => (
            None,
            Some(format!(
                "its `token` parameter is the macro `{}`, whose value the API does not show",
                crate::collect::http::clean(v)
            )),
        ),
        Some(v) if !v.is_empty() => (Some(key_digest(v)), None),
        _ => (
            None,
            Some("it has no `token` parameter holding a key".into()),
        ),
    }
}
