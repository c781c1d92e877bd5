//! Alarm coverage in `link`: for each component whose alarms the spec names (RDS, the ECS
//! services, Redis, Lambda, the NAT gateway), which of the spec's alarm categories for it
//! (database performance; container and service health; cache performance; function errors and
//! performance; bandwidth and connection limits) an alarm covers, which none does, and why each
//! of its other alarms counts for nothing. An alarm covers a category when the metric it
//! compares (its own, or a metric-math alarm's returned query) is one of the category's
//! metrics, published under this component's own dimensions, with a threshold the metric can
//! cross, and when it notifies someone: actions enabled and an alarm action that is an SNS
//! topic or an Incident Manager response plan. The categories and their metrics are
//! documented in docs/design.md §3 ("Alarm coverage").
//!
//! It must not judge whether a threshold or a window is good enough (that is the rule pack's
//! call), nor follow a topic to PagerDuty (`alarms` does, for the routing rule, over every
//! alarm that notifies). **`null` means unknown**: alarms not collected, a component without its
//! identifying value, or a category that only an alarm it cannot judge might cover (an
//! expression it does not resolve, actions or a threshold not read).

use super::alarms::{returned_query, show_dims};
use super::{Ctx, LIST_MAX};
use crate::model::*;

/// A component the spec names alarms for, with the values of the dimensions its metrics are
/// published under.
#[derive(Clone, Copy)]
pub(super) enum Component<'a> {
    /// `DBInstanceIdentifier`.
    Database(&'a str),
    /// `ClusterName`, `ServiceName`.
    Service(&'a str, &'a str),
    /// `CacheClusterId`.
    Cache(&'a str),
    /// `FunctionName`.
    Function(&'a str),
    /// `NatGatewayId`.
    Nat(&'a str),
}

/// One of the spec's alarm categories for a component: its name, what it watches (for the
/// sentence saying it is missing) and the metrics (`namespace`, names) that count for it.
pub(super) struct Category {
    pub name: &'static str,
    pub what: &'static str,
    pub metrics: &'static [(&'static str, &'static [&'static str])],
}

const RDS: &str = "AWS/RDS";
const ECS: &str = "AWS/ECS";
const INSIGHTS: &str = "ECS/ContainerInsights";
const CACHE: &str = "AWS/ElastiCache";
const LAMBDA: &str = "AWS/Lambda";
const NAT: &str = "AWS/NATGateway";

/// "RDS: Cloudwatch alarms for database performance thresholds". Storage capacity
/// (`FreeStorageSpace`, `FreeLocalStorage`) is not performance: a full disk is an outage the
/// database does not slow down before, and an alarm on it says nothing of load, memory,
/// connections or latency.
const DATABASE: &[Category] = &[Category {
    name: "performance",
    what: "the database's load, memory, connections, latency or I/O",
    metrics: &[(
        RDS,
        &[
            "CPUUtilization",
            "FreeableMemory",
            "DatabaseConnections",
            "DBLoad",
            "DBLoadCPU",
            "DBLoadNonCPU",
            "CPUCreditBalance",
            "SwapUsage",
            "ReadLatency",
            "WriteLatency",
            "DiskQueueDepth",
            "ReadIOPS",
            "WriteIOPS",
            "ReadThroughput",
            "WriteThroughput",
            "BurstBalance",
            "EBSIOBalance%",
            "EBSByteBalance%",
            "ReplicaLag",
        ],
    )],
}];

/// "ECS: Cloudwatch alarms for container and service health": the containers' resources (the
/// service's CPU and memory) and the service's tasks (running, pending, deployments).
const SERVICE: &[Category] = &[
    Category {
        name: "container health",
        what: "its containers' CPU, memory or storage",
        metrics: &[
            (
                ECS,
                &[
                    "CPUUtilization",
                    "MemoryUtilization",
                    "EBSFilesystemUtilization",
                ],
            ),
            (
                INSIGHTS,
                &["CpuUtilized", "MemoryUtilized", "EphemeralStorageUtilized"],
            ),
        ],
    },
    Category {
        name: "service health",
        what: "its running or pending tasks",
        metrics: &[(
            INSIGHTS,
            &["RunningTaskCount", "PendingTaskCount", "DeploymentCount"],
        )],
    },
];

/// "Redis: Cloudwatch alarms for cache performance metrics".
const CACHE_CATEGORIES: &[Category] = &[Category {
    name: "performance",
    what: "the cache's CPU, memory, connections or evictions",
    metrics: &[(
        CACHE,
        &[
            "EngineCPUUtilization",
            "DatabaseMemoryUsagePercentage",
            "CPUUtilization",
            "DatabaseMemoryUsageCountedForEvictPercentage",
            "FreeableMemory",
            "SwapUsage",
            "BytesUsedForCache",
            "CurrConnections",
            "NewConnections",
            "Evictions",
            "CacheHitRate",
            "ReplicationLag",
            "NetworkBandwidthInAllowanceExceeded",
            "NetworkBandwidthOutAllowanceExceeded",
            "NetworkConntrackAllowanceExceeded",
            "NetworkPacketsPerSecondAllowanceExceeded",
            "GetTypeCmdsLatency",
            "SetTypeCmdsLatency",
            "KeyBasedCmdsLatency",
            "StringBasedCmdsLatency",
        ],
    )],
}];

/// "Lambda: Cloudwatch alarms for function errors and performance": both. Throttles are the
/// concurrency limit at work, so performance.
const FUNCTION: &[Category] = &[
    Category {
        name: "errors",
        what: "the function's errors",
        metrics: &[(
            LAMBDA,
            &[
                "Errors",
                "Url5xxCount",
                "DeadLetterErrors",
                "DestinationDeliveryFailures",
                "AsyncEventsDropped",
            ],
        )],
    },
    Category {
        name: "performance",
        what: "the function's duration, throttles or concurrency",
        metrics: &[(
            LAMBDA,
            &[
                "Duration",
                "Throttles",
                "ConcurrentExecutions",
                "UrlRequestLatency",
                "AsyncEventAge",
                "IteratorAge",
                "ProvisionedConcurrencySpilloverInvocations",
            ],
        )],
    },
];

/// "NAT Gateway: Cloudwatch alarms for bandwidth and connection limits": both.
const GATEWAY: &[Category] = &[
    Category {
        name: "bandwidth",
        what: "the gateway's traffic or dropped packets",
        metrics: &[(
            NAT,
            &[
                "PacketsDropCount",
                "BytesOutToDestination",
                "BytesInFromDestination",
                "BytesInFromSource",
                "BytesOutToSource",
                "PacketsOutToDestination",
                "PacketsInFromDestination",
                "PacketsInFromSource",
                "PacketsOutToSource",
            ],
        )],
    },
    Category {
        name: "connection limits",
        what: "the gateway's port allocation errors or connections",
        metrics: &[(
            NAT,
            &[
                "ErrorPortAllocation",
                "ActiveConnectionCount",
                "ConnectionAttemptCount",
                "ConnectionEstablishedCount",
                "IdleTimeoutCount",
            ],
        )],
    },
];

/// Every component's categories, for the documentation check.
#[cfg(test)]
pub(super) const ALL: &[(&str, &[Category])] = &[
    ("RDS", DATABASE),
    ("ECS", SERVICE),
    ("Redis", CACHE_CATEGORIES),
    ("Lambda", FUNCTION),
    ("NAT", GATEWAY),
];

/// Percentages that never exceed 100 (an alarm above 100 never fires).
const CAPPED: &[(&str, &str)] = &[
    (RDS, "CPUUtilization"),
    (CACHE, "CPUUtilization"),
    (CACHE, "EngineCPUUtilization"),
];

impl Component<'_> {
    pub(super) fn categories(self) -> &'static [Category] {
        match self {
            Component::Database(_) => DATABASE,
            Component::Service(..) => SERVICE,
            Component::Cache(_) => CACHE_CATEGORIES,
            Component::Function(_) => FUNCTION,
            Component::Nat(_) => GATEWAY,
        }
    }

    /// Whether `dims` are this component's own: exactly the dimensions its metrics are
    /// published under (a cache node's `CacheNodeId` besides its cluster's id). More narrows
    /// the metric to a part of it (an alias, a version, a container), other values name
    /// something else, and a dimension the service does not publish by never has data.
    /// `Err` says why not.
    fn own(self, dims: &StrMap) -> Result<(), String> {
        let want: &[(&str, &str)] = match self {
            Component::Database(id) => &[("DBInstanceIdentifier", id)],
            Component::Service(c, s) => &[("ClusterName", c), ("ServiceName", s)],
            Component::Cache(id) => &[("CacheClusterId", id)],
            Component::Function(n) => &[("FunctionName", n)],
            Component::Nat(id) => &[("NatGatewayId", id)],
        };
        let extra: &[&str] = match self {
            Component::Cache(_) => &["CacheNodeId"],
            _ => &[],
        };
        let exact = want
            .iter()
            .all(|(k, v)| dims.get(k).map(String::as_str) == Some(*v))
            && dims
                .keys()
                .all(|k| want.iter().any(|(w, _)| w == k) || extra.contains(&k.as_str()));
        if exact {
            return Ok(());
        }
        if matches!(self, Component::Cache(_)) && dims.contains_key("ReplicationGroupId") {
            return Err(format!(
                "it watches {}: ElastiCache publishes its metrics by CacheClusterId (and \
                 CacheNodeId), not by replication group, so it never has data",
                show_dims(dims)
            ));
        }
        let own = want
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        Err(format!(
            "it watches {}, not this resource's own metric ({own})",
            show_dims(dims)
        ))
    }
}

/// The coverage facts of one component (every part `null` when it cannot be read).
#[derive(Default)]
pub(super) struct Coverage {
    pub covered: Option<Vec<String>>,
    pub missing: Option<Vec<String>>,
    pub gaps: Option<Vec<String>>,
    pub not_counted: Option<Vec<String>>,
}

/// What one alarm does for a component's coverage.
enum Counts {
    /// It covers this category.
    Covers(&'static str),
    /// It might cover this category (`None`: any), and why that cannot be told.
    Might(Option<&'static str>, String),
    /// It covers nothing, and why.
    Not(String),
}

/// Whether an alarm notifies someone when it fires.
enum Notify {
    Yes,
    Unknown(&'static str),
    No(String),
}

/// The service of an ARN (`arn:<partition>:<service>:…`).
fn arn_service(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(4, ':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(1)
}

/// An alarm notifies someone when its actions are enabled and an alarm action is an SNS topic
/// (the spec's route to PagerDuty) or an Incident Manager response plan (which engages its
/// contacts). Scaling policies, EC2 actions, Lambda functions and OpsItems notify no one, and
/// OK or INSUFFICIENT_DATA actions run when nothing is in alarm.
fn notifies(a: &Alarm) -> Notify {
    let Some(actions) = a.alarm_actions.as_ref() else {
        return Notify::Unknown("its alarm actions were not read");
    };
    if a.actions_enabled == Some(false) {
        return Notify::No("its actions are disabled".into());
    }
    if actions.is_empty() {
        let only = if a.ok_actions.is_empty() && a.insufficient_data_actions.is_empty() {
            ""
        } else {
            " (only actions on OK or INSUFFICIENT_DATA, which run when nothing is wrong)"
        };
        return Notify::No(format!("it has no alarm action{only}"));
    }
    if actions
        .iter()
        .any(|x| matches!(arn_service(x), Some("sns" | "ssm-incidents")))
    {
        return match a.actions_enabled {
            Some(true) => Notify::Yes,
            _ => Notify::Unknown("whether its actions are enabled was not read"),
        };
    }
    if actions
        .iter()
        .all(|x| arn_service(x) == Some("autoscaling"))
    {
        return Notify::No("it only triggers scaling policies".into());
    }
    let mut services: Vec<String> = actions
        .iter()
        .map(|x| arn_service(x).unwrap_or("?").to_string())
        .collect();
    services.sort();
    services.dedup();
    Notify::No(format!(
        "none of its actions ({}) is an SNS topic or an Incident Manager response plan",
        services.join(", ")
    ))
}

/// The metric the alarm compares with its threshold: its own, or a metric-math alarm's
/// returned query when that is a metric. `Err`: the expression it returns instead.
fn metric(a: &Alarm) -> Result<(&str, &str, &StrMap), String> {
    if let (Some(ns), Some(m)) = (a.namespace.as_deref(), a.metric_name.as_deref()) {
        return Ok((ns, m, &a.dimensions));
    }
    match returned_query(a) {
        Some(q) => match (
            &q.expression,
            q.namespace.as_deref(),
            q.metric_name.as_deref(),
        ) {
            (None, Some(ns), Some(m)) => Ok((ns, m, &q.dimensions)),
            (Some(e), _, _) => Err(format!("the expression `{e}`")),
            _ => Err("a query whose metric was not read".into()),
        },
        None => Err("no metric or returned query that was read".into()),
    }
}

/// Whether an alarm can fire.
enum Fires {
    Yes,
    /// Its operator or threshold was not read.
    Unknown,
    /// Never, and why.
    Never(String),
}

/// Whether the alarm can fire on this metric: every metric of the categories is never
/// negative, and the capped percentages never exceed 100. Anomaly-band operators fire on
/// either side of a band CloudWatch models.
fn fires(a: &Alarm, ns: &str, m: &str) -> Fires {
    let Some(op) = a.comparison_operator.as_deref() else {
        return Fires::Unknown;
    };
    if matches!(
        op,
        "LessThanLowerOrGreaterThanUpperThreshold"
            | "GreaterThanUpperThreshold"
            | "LessThanLowerThreshold"
    ) {
        return Fires::Yes;
    }
    let Some(t) = a.threshold else {
        return Fires::Unknown;
    };
    let capped = CAPPED.contains(&(ns, m));
    let never = match op {
        "GreaterThanThreshold" => capped && t >= 100.0,
        "GreaterThanOrEqualToThreshold" => capped && t > 100.0,
        "LessThanThreshold" => t <= 0.0,
        "LessThanOrEqualToThreshold" => t < 0.0,
        _ => return Fires::Unknown,
    };
    if !never {
        return Fires::Yes;
    }
    let range = if op.starts_with("Greater") {
        "a percentage that never exceeds 100"
    } else {
        "a metric that is never negative"
    };
    Fires::Never(format!("{op} {t} on {range}: it never fires"))
}

impl Ctx<'_> {
    /// The coverage of `c` by the alarms named `names` (those whose dimensions name it).
    pub(super) fn coverage(&self, c: Option<Component>, names: Option<&[String]>) -> Coverage {
        let (Some(c), Some(names)) = (c, names) else {
            return Coverage::default();
        };
        let categories = c.categories();
        let mut counts = Vec::new();
        for name in names {
            if let Some(a) = self.alarms.get(name) {
                counts.push((name.as_str(), judge(c, categories, a)));
            }
        }
        let mut covered = Vec::new();
        let mut missing = Vec::new();
        let mut gaps = Vec::new();
        let mut undecided = false;
        for cat in categories {
            if counts
                .iter()
                .any(|(_, k)| matches!(k, Counts::Covers(n) if *n == cat.name))
            {
                covered.push(cat.name.to_string());
                continue;
            }
            let maybe: Vec<String> = counts
                .iter()
                .filter_map(|(n, k)| match k {
                    Counts::Might(None, why) => Some(format!("{n} ({why})")),
                    Counts::Might(Some(x), why) if *x == cat.name => Some(format!("{n} ({why})")),
                    _ => None,
                })
                .collect();
            if maybe.is_empty() {
                missing.push(cat.name.to_string());
                gaps.push(format!(
                    "{}: no alarm that notifies anyone watches {} ({})",
                    cat.name,
                    cat.what,
                    examples(cat)
                ));
            } else {
                undecided = true;
                gaps.push(format!(
                    "{}: unknown, only {} might cover it",
                    cat.name,
                    crate::text::list_at_most(&maybe, 3)
                ));
            }
        }
        let mut not_counted: Vec<String> = counts
            .iter()
            .filter_map(|(n, k)| match k {
                Counts::Not(why) => Some(format!("{n}: {why}")),
                _ => None,
            })
            .collect();
        if not_counted.len() > LIST_MAX {
            let all = not_counted.len();
            not_counted.truncate(LIST_MAX);
            not_counted.push(format!("… and {} more ({all} in all)", all - LIST_MAX));
        }
        Coverage {
            covered: Some(covered),
            missing: (!undecided).then_some(missing),
            gaps: Some(gaps),
            not_counted: Some(not_counted),
        }
    }
}

/// What alarm `a` does for component `c`.
fn judge(c: Component, categories: &'static [Category], a: &Alarm) -> Counts {
    let notify = notifies(a);
    let (ns, m, dims) = match metric(a) {
        Ok(x) => x,
        Err(what) => {
            return match notify {
                Notify::No(why) => Counts::Not(why),
                _ => Counts::Might(
                    None,
                    format!("it compares {what}, which the audit does not resolve"),
                ),
            }
        }
    };
    if let Err(why) = c.own(dims) {
        return Counts::Not(why);
    }
    let Some(cat) = categories.iter().find(|cat| {
        cat.metrics
            .iter()
            .any(|(n, ms)| *n == ns && ms.contains(&m))
    }) else {
        let names: Vec<&str> = categories.iter().map(|c| c.name).collect();
        return Counts::Not(format!(
            "{ns} {m} is in none of its categories ({})",
            names.join(", ")
        ));
    };
    let notify = match notify {
        Notify::No(why) => return Counts::Not(why),
        Notify::Yes => None,
        Notify::Unknown(why) => Some(why.to_string()),
    };
    match (fires(a, ns, m), notify) {
        (Fires::Never(why), _) => Counts::Not(why),
        (Fires::Yes, None) => Counts::Covers(cat.name),
        (Fires::Unknown, _) => Counts::Might(
            Some(cat.name),
            "its comparison operator or threshold was not read".into(),
        ),
        (Fires::Yes, Some(why)) => Counts::Might(Some(cat.name), why),
    }
}

/// Two of a category's metrics, to say what would cover it.
fn examples(cat: &Category) -> String {
    let mut shown = Vec::new();
    let mut last_ns = "";
    for (ns, m) in cat
        .metrics
        .iter()
        .flat_map(|(ns, ms)| ms.iter().map(move |m| (*ns, *m)))
        .take(2)
    {
        shown.push(if ns == last_ns {
            m.to_string()
        } else {
            format!("{ns} {m}")
        });
        last_ns = ns;
    }
    format!("e.g. {}", shown.join(" or "))
}
