//! PagerDuty JSON → model, pure and tested without a server: a service with its integrations
//! (keys kept as digests only), an escalation policy's rules, the on-call entries. A field that
//! is absent or of the wrong type stays `None`; nothing is guessed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::collect::key_digest;
use crate::model::{
    Attrs, EscalationRule, OnCall, PagerDutyIntegration, PagerDutyService, Resource,
};

fn string_at(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).map(str::to_string)
}

/// A service of `GET /services?include[]=integrations`, its escalation policy and on-call still
/// unread (`None`). Its integrations' keys become digests here; the key itself goes no further.
pub fn normalize_service(v: &Value) -> Result<Resource, String> {
    let id = string_at(v, "/id")
        .filter(|s| !s.is_empty())
        .ok_or("a service without an id")?;
    let integrations = v
        .get("integrations")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(normalize_integration).collect())
        .unwrap_or_default();
    let mut r = Resource::new(
        format!("pagerduty:service/{id}"),
        Attrs::PagerDutyService(PagerDutyService {
            service_id: Some(id),
            status: string_at(v, "/status"),
            integrations,
            escalation_policy_id: string_at(v, "/escalation_policy/id"),
            escalation_policy_name: string_at(v, "/escalation_policy/summary"),
            escalation_rules: None,
            on_call_now: None,
        }),
    );
    r.name = string_at(v, "/name").or_else(|| string_at(v, "/summary"));
    Ok(r)
}

fn normalize_integration(v: &Value) -> PagerDutyIntegration {
    PagerDutyIntegration {
        id: string_at(v, "/id"),
        integration_type: string_at(v, "/type"),
        name: string_at(v, "/name").or_else(|| string_at(v, "/summary")),
        key_digest: v
            .get("integration_key")
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
            .map(key_digest),
    }
}

/// The rules of `GET /escalation_policies/{id}`'s `escalation_policy`, level 1 first. `Err`
/// when the answer has no list of rules (the policy is then unknown, never "no rules").
pub fn normalize_escalation_rules(policy: &Value) -> Result<Vec<EscalationRule>, String> {
    let rules = policy
        .get("escalation_rules")
        .and_then(Value::as_array)
        .ok_or("the escalation policy has no `escalation_rules` list")?;
    Ok(rules
        .iter()
        .zip(1u32..)
        .map(|(rule, level)| EscalationRule {
            level,
            delay_minutes: rule
                .get("escalation_delay_in_minutes")
                .and_then(Value::as_i64),
            targets: rule
                .get("targets")
                .and_then(Value::as_array)
                .map(|ts| ts.iter().map(target).collect())
                .unwrap_or_default(),
        })
        .collect())
}

/// `schedule Estate Primary (weekly)`, `user Priya Raman`.
fn target(t: &Value) -> String {
    let kind = string_at(t, "/type").unwrap_or_else(|| "target".into());
    let kind = kind
        .strip_suffix("_reference")
        .unwrap_or(&kind)
        .replace('_', " ");
    let name = string_at(t, "/summary").or_else(|| string_at(t, "/id"));
    match name {
        Some(n) => format!("{kind} {n}"),
        None => kind,
    }
}

/// The entries of `GET /oncalls`, by escalation policy id, sorted by level then user.
pub fn normalize_oncalls(entries: &[Value]) -> BTreeMap<String, Vec<OnCall>> {
    let mut out: BTreeMap<String, Vec<OnCall>> = BTreeMap::new();
    for e in entries {
        let (Some(policy), Some(level)) = (
            string_at(e, "/escalation_policy/id"),
            e.get("escalation_level")
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok()),
        ) else {
            continue;
        };
        out.entry(policy).or_default().push(OnCall {
            level,
            user: string_at(e, "/user/summary").or_else(|| string_at(e, "/user/id")),
            schedule: string_at(e, "/schedule/summary").or_else(|| string_at(e, "/schedule/id")),
            until: string_at(e, "/end"),
        });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| (a.level, &a.user).cmp(&(b.level, &b.user)));
        v.dedup();
    }
    out
}
