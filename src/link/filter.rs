//! SNS subscription filter policies on the message body, judged against the notification
//! CloudWatch sends when an alarm goes to `ALARM` (the one that must page): its JSON carries the
//! alarm's name, ARN, account, new state and actions, and a `Trigger` with the metric, its
//! dimensions, statistic, period, operator and threshold. What the notification carries that the
//! inventory does not know (the reason text, the old state, the time, the region's display name)
//! is an unknown value: a condition on it is unknown, never a match.
//!
//! It owns the filter-policy matching SNS applies (keys ANDed, values in a list ORed, `$or`,
//! nested keys; exact strings and numbers, `prefix`, `suffix`, `equals-ignore-case`,
//! `anything-but`, `numeric`, `exists`, `wildcard`). It must not guess: an operator it does not
//! know, or a policy it cannot read, is unknown.

use serde_json::{json, Map, Value};

use super::expr::Truth;
use crate::model::Alarm;

/// The stand-in for a value the notification carries that the inventory does not know.
const UNKNOWN: &str = "\u{0}unknown";

/// The `ALARM` notification CloudWatch publishes for alarm `arn`.
pub(super) fn alarm_notification(name: &str, arn: &str, a: &Alarm) -> Value {
    let unknown = || Value::String(UNKNOWN.into());
    let account = arn.split(':').nth(4).map_or_else(unknown, |s| json!(s));
    let trigger = match (a.namespace.as_deref(), a.metric_name.as_deref()) {
        (Some(ns), Some(metric)) => {
            let dims: Vec<Value> = a
                .dimensions
                .iter()
                .map(|(k, v)| json!({"value": v, "name": k}))
                .collect();
            let mut t = json!({
                "MetricName": metric,
                "Namespace": ns,
                "Dimensions": dims,
                "Unit": UNKNOWN,
                "TreatMissingData": UNKNOWN,
                "EvaluateLowSampleCountPercentile": UNKNOWN,
            });
            let m = t.as_object_mut().expect("an object");
            let mut put = |k: &str, v: Option<Value>| {
                m.insert(k.into(), v.unwrap_or_else(unknown));
            };
            match a.statistic.as_deref() {
                // CloudWatch writes a statistic in capitals, a percentile as it is.
                Some(s) if s.starts_with('p') || s.starts_with("tm") => {
                    put("StatisticType", Some(json!("ExtendedStatistic")));
                    put("ExtendedStatistic", Some(json!(s)));
                }
                Some(s) => {
                    put("StatisticType", Some(json!("Statistic")));
                    put("Statistic", Some(json!(s.to_ascii_uppercase())));
                }
                None => put("StatisticType", None),
            }
            put("Period", a.period.map(|p| json!(p)));
            put("EvaluationPeriods", a.evaluation_periods.map(|p| json!(p)));
            put("DatapointsToAlarm", a.datapoints_to_alarm.map(|p| json!(p)));
            put(
                "ComparisonOperator",
                a.comparison_operator.as_ref().map(|c| json!(c)),
            );
            put("Threshold", a.threshold.map(|t| json!(t)));
            t
        }
        // Metric math: the trigger lists the queries; not modelled.
        _ => unknown(),
    };
    json!({
        "AlarmName": name,
        "AlarmDescription": UNKNOWN,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": UNKNOWN,
        "NewStateValue": "ALARM",
        "NewStateReason": UNKNOWN,
        "StateChangeTime": UNKNOWN,
        "Region": UNKNOWN,
        "AlarmArn": arn,
        "OldStateValue": UNKNOWN,
        "OKActions": a.ok_actions,
        "AlarmActions": a.alarm_actions.clone().map_or_else(unknown, |v| json!(v)),
        "InsufficientDataActions": a.insufficient_data_actions,
        "Trigger": trigger,
    })
}

/// Whether the body filter `policy` (JSON text) lets `body` through.
pub(super) fn body_matches(policy: &str, body: &Value) -> Truth {
    match serde_json::from_str::<Value>(policy) {
        Ok(Value::Object(p)) => object(&p, Some(body)),
        _ => Truth::Unknown,
    }
}

fn object(policy: &Map<String, Value>, body: Option<&Value>) -> Truth {
    let mut all = Truth::True;
    for (key, cond) in policy {
        let t = if key == "$or" {
            match cond {
                Value::Array(alts) => alts.iter().fold(Truth::False, |acc, alt| match alt {
                    Value::Object(o) => acc.or(object(o, body)),
                    _ => Truth::Unknown,
                }),
                _ => Truth::Unknown,
            }
        } else {
            let value = body.and_then(|b| b.get(key));
            match cond {
                // A nested key: the body's value must be an object that matches.
                Value::Object(o) => match value {
                    Some(v) if is_unknown(v) => Truth::Unknown,
                    Some(v @ Value::Object(_)) => object(o, Some(v)),
                    _ => Truth::False,
                },
                Value::Array(alts) => alts
                    .iter()
                    .fold(Truth::False, |acc, c| acc.or(condition(c, value))),
                _ => Truth::Unknown,
            }
        };
        all = all.and(t);
    }
    all
}

fn is_unknown(v: &Value) -> bool {
    v.as_str() == Some(UNKNOWN)
}

/// One condition against a body value (`None`: the key is absent).
fn condition(c: &Value, v: Option<&Value>) -> Truth {
    if let Value::Object(o) = c {
        if let Some(Value::Bool(want)) = o.get("exists") {
            return Truth::from_bool(v.is_some() == *want);
        }
    }
    let Some(v) = v else {
        // An absent key matches nothing but `exists: false`.
        return Truth::False;
    };
    if is_unknown(v) {
        return Truth::Unknown;
    }
    // A list in the body matches when one of its items does.
    if let Value::Array(items) = v {
        return items
            .iter()
            .fold(Truth::False, |acc, i| acc.or(condition(c, Some(i))));
    }
    match c {
        Value::String(s) => Truth::from_bool(v.as_str() == Some(s.as_str())),
        Value::Number(n) => Truth::from_bool(v.as_f64().is_some() && v.as_f64() == n.as_f64()),
        Value::Null => Truth::from_bool(v.is_null()),
        Value::Object(o) if o.len() == 1 => {
            let (op, arg) = o.iter().next().expect("one entry");
            operator(op, arg, v)
        }
        _ => Truth::Unknown,
    }
}

fn operator(op: &str, arg: &Value, v: &Value) -> Truth {
    let text = v.as_str();
    match (op, arg) {
        ("prefix", Value::String(p)) => {
            Truth::from_bool(text.is_some_and(|t| t.starts_with(p.as_str())))
        }
        ("suffix", Value::String(p)) => {
            Truth::from_bool(text.is_some_and(|t| t.ends_with(p.as_str())))
        }
        ("equals-ignore-case", Value::String(p)) => {
            Truth::from_bool(text.is_some_and(|t| t.eq_ignore_ascii_case(p)))
        }
        ("wildcard", Value::String(p)) => {
            Truth::from_bool(text.is_some_and(|t| super::expr::glob(t, p)))
        }
        ("anything-but", arg) => {
            let hit = match arg {
                Value::Array(items) => items
                    .iter()
                    .fold(Truth::False, |acc, i| acc.or(condition(i, Some(v)))),
                Value::Object(_) => condition(arg, Some(v)),
                other => condition(other, Some(v)),
            };
            hit.not()
        }
        ("numeric", Value::Array(parts)) => {
            let Some(x) = v.as_f64() else {
                return Truth::False;
            };
            let mut ok = true;
            for pair in parts.chunks(2) {
                let (Some(Value::String(cmp)), Some(n)) =
                    (pair.first(), pair.get(1).and_then(Value::as_f64))
                else {
                    return Truth::Unknown;
                };
                ok &= match cmp.as_str() {
                    "=" => x == n,
                    "<" => x < n,
                    "<=" => x <= n,
                    ">" => x > n,
                    ">=" => x >= n,
                    _ => return Truth::Unknown,
                };
            }
            Truth::from_bool(ok)
        }
        _ => Truth::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Value {
        let a = Alarm {
            namespace: Some("AWS/RDS".into()),
            metric_name: Some("CPUUtilization".into()),
            dimensions: [("DBInstanceIdentifier".to_string(), "estate-db".to_string())].into(),
            statistic: Some("Average".into()),
            period: Some(300),
            evaluation_periods: Some(3),
            threshold: Some(80.0),
            comparison_operator: Some("GreaterThanThreshold".into()),
            alarm_actions: Some(vec!["arn:aws:sns:eu-west-1:111122223333:pd".into()]),
            ..Default::default()
        };
        alarm_notification(
            "db-cpu",
            "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:db-cpu",
            &a,
        )
    }

    fn judge(policy: &str) -> Truth {
        body_matches(policy, &body())
    }

    #[test]
    fn policies_that_let_the_alarm_page_through() {
        for p in [
            r#"{"NewStateValue": ["ALARM"]}"#,
            r#"{"NewStateValue": ["ALARM", "OK"], "AWSAccountId": ["111122223333"]}"#,
            r#"{"AlarmName": [{"prefix": "db-"}]}"#,
            r#"{"Trigger": {"Namespace": ["AWS/RDS"], "Threshold": [{"numeric": [">=", 50]}]}}"#,
            r#"{"Trigger": {"Statistic": ["AVERAGE"]}}"#,
            r#"{"NewStateValue": [{"anything-but": "OK"}]}"#,
            r#"{"$or": [{"NewStateValue": ["OK"]}, {"AlarmName": ["db-cpu"]}]}"#,
            r#"{"AlarmActions": [{"suffix": ":pd"}]}"#,
            r#"{"severity": [{"exists": false}]}"#,
            r#"{"NewStateReason": [{"exists": true}]}"#,
        ] {
            assert_eq!(judge(p), Truth::True, "{p}");
        }
    }

    #[test]
    fn policies_that_drop_it() {
        for p in [
            r#"{"severity": ["critical"]}"#,
            r#"{"NewStateValue": ["OK"]}"#,
            r#"{"AlarmName": [{"prefix": "prod-"}]}"#,
            r#"{"Trigger": {"Namespace": ["AWS/ECS"]}}"#,
            r#"{"Trigger": {"Threshold": [{"numeric": ["<", 50]}]}}"#,
            r#"{"NewStateValue": [{"anything-but": ["ALARM"]}]}"#,
            r#"{"detail": {"state": ["ALARM"]}}"#,
        ] {
            assert_eq!(judge(p), Truth::False, "{p}");
        }
    }

    #[test]
    fn what_the_inventory_does_not_know_is_unknown() {
        for p in [
            r#"{"OldStateValue": ["OK"]}"#,
            r#"{"Region": [{"prefix": "EU"}]}"#,
            r#"{"AlarmName": [{"cidr": "10.0.0.0/8"}]}"#,
            r#"{"AlarmName": "db-cpu"}"#,
            "not json",
        ] {
            assert_eq!(judge(p), Truth::Unknown, "{p}");
        }
    }
}
