//! CloudWatch: metric alarms (DescribeAlarms), with their metric, dimensions, thresholds,
//! actions and metric-math queries. Composite alarms are not read (no rule uses them).
//! `normalize_alarm` is pure.

use aws_sdk_cloudwatch::types as t;
use aws_sdk_cloudwatch::Client;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "cloudwatch";

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let mut part = Part::default();
    match client
        .describe_alarms()
        .alarm_types(t::AlarmType::MetricAlarm)
        .into_paginator()
        .send()
        .all_pages(|p| p.next_token())
        .await
    {
        Ok(pages) => part.resources.extend(
            pages
                .iter()
                .flat_map(|p| p.metric_alarms())
                .filter_map(|a| normalize_alarm(ctx, a)),
        ),
        Err(e) => part
            .errors
            .push(ctx.error(SERVICE, "DescribeAlarms", &[kind::ALARM], &e)),
    }
    part
}

fn dimensions(ds: &[t::Dimension]) -> StrMap {
    ds.iter()
        .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
        .collect()
}

pub fn normalize_alarm(ctx: &Ctx, a: &t::MetricAlarm) -> Option<Resource> {
    let name = a.alarm_name()?;
    let id = a
        .alarm_arn()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.arn("cloudwatch", &format!("alarm:{name}")));
    Some(
        ctx.resource(
            id,
            Some(name.to_string()),
            StrMap::new(),
            Attrs::Alarm(Alarm {
                alarm_name: Some(name.to_string()),
                namespace: a.namespace().map(str::to_string),
                metric_name: a.metric_name().map(str::to_string),
                dimensions: dimensions(a.dimensions()),
                statistic: a
                    .statistic()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.extended_statistic().map(str::to_string)),
                period: a.period().map(i64::from),
                evaluation_periods: a.evaluation_periods().map(i64::from),
                datapoints_to_alarm: a.datapoints_to_alarm().map(i64::from),
                threshold: a.threshold(),
                comparison_operator: a.comparison_operator().map(|c| c.as_str().to_string()),
                actions_enabled: a.actions_enabled(),
                alarm_actions: Some(a.alarm_actions().to_vec()),
                ok_actions: a.ok_actions().to_vec(),
                insufficient_data_actions: a.insufficient_data_actions().to_vec(),
                metrics: a
                    .metrics()
                    .iter()
                    .filter_map(|q| {
                        let stat = q.metric_stat();
                        let metric = stat.and_then(|s| s.metric());
                        Some(MetricQuery {
                            id: q.id()?.to_string(),
                            expression: q.expression().map(str::to_string),
                            namespace: metric.and_then(|m| m.namespace()).map(str::to_string),
                            metric_name: metric.and_then(|m| m.metric_name()).map(str::to_string),
                            dimensions: metric
                                .map(|m| dimensions(m.dimensions()))
                                .unwrap_or_default(),
                            stat: stat.and_then(|s| s.stat()).map(str::to_string),
                            period: stat.and_then(|s| s.period()).or(q.period()).map(i64::from),
                            return_data: q.return_data(),
                        })
                    })
                    .collect(),
                state_value: a.state_value().map(|s| s.as_str().to_string()),
                ..Default::default()
            }),
        ),
    )
}
