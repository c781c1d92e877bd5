//! The read-only guarantee (docs/design.md §1): the allowlist of every AWS operation the
//! collector calls ([`ALLOWED_OPERATIONS`]), the one source of the least-privilege policy
//! `iam-policy` prints and of the tests that prove the collector read-only; and the
//! [`ReadOnlyGuard`] interceptor every client carries, which refuses any other operation before
//! it is signed or sent and records each call, retry and response size (for `--stats`, the
//! read-only test and the progress display).
//!
//! It must not let anything but a read onto the allowlist: an operation not named
//! Describe/List/Get is allowed only when [`NON_MUTATING`] lists it, with why it writes nothing.
//! It does not classify failures or build clients (`errors`, `sdk`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::progress;
use crate::stats::ServiceCalls;

/// Operation-name prefixes the collector may call. `iam-policy` prints the matching actions.
pub const READ_ONLY_PREFIXES: &[&str] = &["Describe", "List", "Get"];

/// Whether an operation is one the read-only collector may call.
pub fn is_read_only(operation: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|p| {
        operation
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })
}

/// Every AWS operation the collector calls: `(SDK service name, operation, IAM action)`. The one
/// source of the read-only guard's allowlist and of `estate-audit iam-policy`, so the policy a
/// user grants is exactly what the tool can call. `GetCallerIdentity` needs no permission.
pub const ALLOWED_OPERATIONS: &[(&str, &str, &str)] = &[
    ("STS", "GetCallerIdentity", ""),
    // `--assume-role` / `--org-role`: temporary credentials for another account. It writes
    // nothing in the estate; the role it yields is itself read-only (this policy).
    ("STS", "AssumeRole", "sts:AssumeRole"),
    // `--org-role`: the organization's accounts, listed from the caller's account.
    (
        "Organizations",
        "ListAccounts",
        "organizations:ListAccounts",
    ),
    ("EC2", "DescribeRegions", "ec2:DescribeRegions"),
    ("EC2", "DescribeVpcs", "ec2:DescribeVpcs"),
    ("EC2", "DescribeSubnets", "ec2:DescribeSubnets"),
    ("EC2", "DescribeRouteTables", "ec2:DescribeRouteTables"),
    (
        "EC2",
        "DescribeInternetGateways",
        "ec2:DescribeInternetGateways",
    ),
    ("EC2", "DescribeNatGateways", "ec2:DescribeNatGateways"),
    (
        "EC2",
        "DescribeSecurityGroups",
        "ec2:DescribeSecurityGroups",
    ),
    ("EC2", "DescribeNetworkAcls", "ec2:DescribeNetworkAcls"),
    ("EC2", "DescribeInstances", "ec2:DescribeInstances"),
    ("EC2", "DescribeVolumes", "ec2:DescribeVolumes"),
    (
        "EC2",
        "DescribeNetworkInterfaces",
        "ec2:DescribeNetworkInterfaces",
    ),
    ("RDS", "DescribeDBInstances", "rds:DescribeDBInstances"),
    (
        "RDS",
        "DescribeDBParameterGroups",
        "rds:DescribeDBParameterGroups",
    ),
    ("RDS", "DescribeDBParameters", "rds:DescribeDBParameters"),
    (
        "ElastiCache",
        "DescribeReplicationGroups",
        "elasticache:DescribeReplicationGroups",
    ),
    (
        "ElastiCache",
        "DescribeCacheClusters",
        "elasticache:DescribeCacheClusters",
    ),
    (
        "ElastiCache",
        "DescribeCacheSubnetGroups",
        "elasticache:DescribeCacheSubnetGroups",
    ),
    ("Lambda", "ListFunctions", "lambda:ListFunctions"),
    (
        "Lambda",
        "ListFunctionUrlConfigs",
        "lambda:ListFunctionUrlConfigs",
    ),
    ("Lambda", "GetPolicy", "lambda:GetPolicy"),
    ("ECS", "ListClusters", "ecs:ListClusters"),
    ("ECS", "DescribeClusters", "ecs:DescribeClusters"),
    ("ECS", "ListServices", "ecs:ListServices"),
    ("ECS", "DescribeServices", "ecs:DescribeServices"),
    (
        "ECS",
        "DescribeTaskDefinition",
        "ecs:DescribeTaskDefinition",
    ),
    (
        "Application Auto Scaling",
        "DescribeScalableTargets",
        "application-autoscaling:DescribeScalableTargets",
    ),
    (
        "Application Auto Scaling",
        "DescribeScalingPolicies",
        "application-autoscaling:DescribeScalingPolicies",
    ),
    (
        "Elastic Load Balancing v2",
        "DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancers",
    ),
    (
        "Elastic Load Balancing v2",
        "DescribeListeners",
        "elasticloadbalancing:DescribeListeners",
    ),
    (
        "Elastic Load Balancing v2",
        "DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroups",
    ),
    (
        "Elastic Load Balancing v2",
        "DescribeTargetHealth",
        "elasticloadbalancing:DescribeTargetHealth",
    ),
    (
        "Elastic Load Balancing",
        "DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancers",
    ),
    // API Gateway's reads are all one IAM action, on the API resources.
    ("API Gateway", "GetRestApis", "apigateway:GET"),
    ("API Gateway", "GetResources", "apigateway:GET"),
    ("ApiGatewayV2", "GetApis", "apigateway:GET"),
    ("ApiGatewayV2", "GetIntegrations", "apigateway:GET"),
    ("API Gateway", "GetVpcLinks", "apigateway:GET"),
    ("ApiGatewayV2", "GetVpcLinks", "apigateway:GET"),
    ("API Gateway", "GetDomainNames", "apigateway:GET"),
    ("API Gateway", "GetBasePathMappings", "apigateway:GET"),
    ("ApiGatewayV2", "GetDomainNames", "apigateway:GET"),
    ("ApiGatewayV2", "GetApiMappings", "apigateway:GET"),
    ("CloudWatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
    // Whether the processors' and the webhook's log groups are shipped (their groups only).
    (
        "CloudWatch Logs",
        "DescribeSubscriptionFilters",
        "logs:DescribeSubscriptionFilters",
    ),
    ("SNS", "ListTopics", "sns:ListTopics"),
    ("SNS", "GetTopicAttributes", "sns:GetTopicAttributes"),
    ("SNS", "ListSubscriptions", "sns:ListSubscriptions"),
    (
        "SNS",
        "GetSubscriptionAttributes",
        "sns:GetSubscriptionAttributes",
    ),
    // The key of an encrypted topic: whether CloudWatch may use it to publish.
    ("KMS", "DescribeKey", "kms:DescribeKey"),
    ("KMS", "GetKeyPolicy", "kms:GetKeyPolicy"),
    (
        "Resource Groups Tagging API",
        "GetResources",
        "tag:GetResources",
    ),
];

/// Operations on the allowlist that are not named Describe/List/Get yet change nothing:
/// `sts:AssumeRole` only hands out temporary credentials of a (read-only) role.
pub const NON_MUTATING: &[(&str, &str)] = &[("STS", "AssumeRole")];

/// Whether `service:operation` is on the collector's allowlist (and so read-only).
pub fn is_allowed(service: &str, operation: &str) -> bool {
    (is_read_only(operation) || NON_MUTATING.contains(&(service, operation)))
        && ALLOWED_OPERATIONS
            .iter()
            .any(|(s, o, _)| *s == service && *o == operation)
}

/// The `--stats` name of an SDK service: `aws.` and the IAM prefix of its actions
/// (`aws.ec2`, `aws.application-autoscaling`), else the SDK name in lower case.
pub fn stats_name(service: &str) -> String {
    let prefix = ALLOWED_OPERATIONS
        .iter()
        .filter(|(s, _, _)| *s == service)
        .find_map(|(_, _, action)| action.split_once(':').map(|(p, _)| p));
    match prefix {
        Some(p) => format!("aws.{p}"),
        None => format!("aws.{}", service.to_ascii_lowercase().replace(' ', "-")),
    }
}

/// The least-privilege IAM policy for exactly the operations the collector calls.
pub fn iam_policy_document() -> String {
    let mut actions: Vec<&str> = ALLOWED_OPERATIONS
        .iter()
        .map(|(_, _, a)| *a)
        .filter(|a| !a.is_empty())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EstateAuditReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The AWS section of `estate-audit iam-policy`.
pub fn permissions_section() -> String {
    format!(
        "# AWS: attach this policy to the role or user the audit runs as (sts:GetCallerIdentity\n\
         # needs no permission). These are exactly the calls the collector can make: anything else\n\
         # is refused before it is signed.\n{}\n",
        iam_policy_document()
    )
}

/// SDK interceptor on every client: records each operation and refuses, before anything is
/// sent, one that is not a Describe/List/Get. The refusal is the product's guarantee; the record
/// is what the read-only test and the call statistics read.
#[derive(Clone, Default)]
pub struct ReadOnlyGuard {
    calls: Arc<Mutex<Vec<String>>>,
    usage: Arc<Mutex<BTreeMap<String, ServiceCalls>>>,
    observer: Option<Observer>,
    /// Told when a call has ended (answered, failed or refused).
    finished: Option<Observer>,
}

/// Told `(service, operation)` of every call as it starts: what a progress display shows.
pub type Observer = Arc<dyn Fn(&str, &str) + Send + Sync>;

impl std::fmt::Debug for ReadOnlyGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyGuard")
            .field("calls", &self.calls().len())
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl ReadOnlyGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that also tells `observer` about each call.
    pub fn observed(observer: Observer) -> Self {
        ReadOnlyGuard {
            observer: Some(observer),
            ..Self::default()
        }
    }

    /// A guard with its own record that tells the same observers (one per account).
    pub fn sibling(&self) -> Self {
        ReadOnlyGuard {
            observer: self.observer.clone(),
            finished: self.finished.clone(),
            ..Self::default()
        }
    }

    /// A guard that reports each call's start and end to a progress display.
    pub fn with_progress(progress: &Arc<progress::Progress>) -> Self {
        let (started, finished) = progress.observers();
        ReadOnlyGuard {
            observer: Some(started),
            finished: Some(finished),
            ..Self::default()
        }
    }

    /// `Service:Operation` of every call so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Requests sent (retries included), retries and response bytes per `aws.<service>`.
    pub fn usage(&self) -> BTreeMap<String, ServiceCalls> {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn count(&self, cfg: &ConfigBag, f: impl FnOnce(&mut ServiceCalls)) {
        let Some(meta) = cfg.load::<Metadata>() else {
            return;
        };
        if let Ok(mut usage) = self.usage.lock() {
            f(usage.entry(stats_name(meta.service())).or_default());
        }
    }
}

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "estate-audit read-only guard"
    }

    // Not `read_before_execution`: client-level interceptors run that before the operation's own
    // configuration (which names it) is loaded. Serialization comes before signing and sending.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else {
            return Err("estate-audit refuses an operation it cannot name".into());
        };
        let entry = format!("{}:{}", meta.service(), meta.name());
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(entry.clone());
        }
        if let Some(o) = &self.observer {
            o(meta.service(), meta.name());
        }
        // Read-only by prefix, and on the allowlist `iam-policy` prints: an operation outside it
        // would fail for a least-privilege user anyway, and must never be a write.
        if is_allowed(meta.service(), meta.name()) {
            Ok(())
        } else {
            Err(format!("estate-audit is read-only and refuses to call {entry}").into())
        }
    }

    // Once per attempt: the first attempt of an operation is a call, every later one a retry.
    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The orchestrator numbers each attempt (from 1) before this hook runs.
        let attempts = cfg
            .load::<aws_smithy_runtime_api::client::retries::RequestAttempts>()
            .map_or(1, |a| a.attempts());
        self.count(cfg, |c| {
            c.calls += 1;
            if attempts > 1 {
                c.retries += 1;
            }
        });
        Ok(())
    }

    // After deserialization the orchestrator holds the whole body in memory; a streamed body
    // (none of the operations we call) is counted by its Content-Length.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let bytes = response
            .body()
            .bytes()
            .map(|b| b.len() as u64)
            .or_else(|| {
                response
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0);
        self.count(cfg, |c| c.bytes += bytes);
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(done), Some(meta)) = (&self.finished, cfg.load::<Metadata>()) {
            done(meta.service(), meta.name());
        }
        Ok(())
    }
}

/// The IAM action an operation needs, for "grant this permission" advice. `service` is the
/// collector's name for the service (`ec2`, `apigateway`, …): it tells apart operations of the
/// same name (API Gateway's `GetResources` from the Tagging API's).
pub fn iam_action(service: &str, operation: &str) -> Option<&'static str> {
    let named = |(_, o, a): &&(&str, &str, &'static str)| *o == operation && !a.is_empty();
    ALLOWED_OPERATIONS
        .iter()
        .filter(named)
        .find(|(_, _, a)| a.split(':').next() == Some(service))
        .or_else(|| ALLOWED_OPERATIONS.iter().find(named))
        .map(|(_, _, a)| *a)
}
