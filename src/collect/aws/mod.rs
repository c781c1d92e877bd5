//! Live AWS collection through the official SDK (DESIGN.md §2–§4, issue #3). It owns the SDK
//! configuration (region, profile, endpoint, adaptive retry, timeouts), the estate scope (the
//! estate VPC's resources; workloads placed in other VPCs are left out), the read-only guard, the
//! classification of failures into [`CollectionError`]s and the concurrent reading of services.
//! One module per service holds its calls and its pure `normalize_*` functions.
//!
//! It must not judge anything (that is `link` and the rules), must not let an SDK type escape
//! `collect`, and must never call anything but Describe/List/Get operations: the
//! [`ReadOnlyGuard`] interceptor refuses any other operation before it is signed or sent.
//! **Fail closed**: a call that fails becomes a `CollectionError` naming the service, operation
//! and cause, and the kinds it would have filled; nothing is guessed, nothing panics.

pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod ecs;
pub mod elasticache;
pub mod lambda;
pub mod progress;
pub mod rds;
pub mod regions;
pub mod sns;
pub mod sts;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::EstateConfig;
use crate::model::{Attrs, CollectionError, ErrorKind, Resource};

/// How to reach AWS. Every field is optional: the SDK's default chain (environment, `~/.aws`
/// profiles, SSO, web identity, IMDS; `AWS_ENDPOINT_URL`) fills what is not given.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// `--region`; else `region` of estate.toml; else the SDK's chain.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url` (the SDK also honours `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included (adaptive retry); default 4.
    pub max_attempts: Option<u32>,
    /// Show the calls being made on stderr, one line redrawn in place. The caller sets it only
    /// when stderr is a terminal: logs and pipes must not fill with control codes.
    pub progress: bool,
}

/// What the AWS collection produced.
#[derive(Clone, Debug, Default)]
pub struct AwsCollection {
    pub resources: Vec<Resource>,
    pub errors: Vec<CollectionError>,
    /// Account ids read (empty when STS failed).
    pub accounts: Vec<String>,
    /// Regions read, the configured one first.
    pub regions: Vec<String>,
    /// Every operation invoked, in order of invocation (for `--stats` and the read-only test).
    pub operations: Vec<String>,
    pub elapsed: Duration,
}

impl AwsCollection {
    /// Adds this collection to an inventory: resources, collection errors and the scope's
    /// accounts and regions (the live entry point merges the Cloudflare part the same way).
    pub fn merge_into(self, inv: &mut crate::model::Inventory) {
        inv.resources.extend(self.resources);
        inv.collection_errors.extend(self.errors);
        for a in self.accounts {
            if !inv.scope.accounts.contains(&a) {
                inv.scope.accounts.push(a);
            }
        }
        for r in self.regions {
            if !inv.scope.regions.contains(&r) {
                inv.scope.regions.push(r);
            }
        }
    }
}

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
        "GetFunctionUrlConfig",
        "lambda:GetFunctionUrlConfig",
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
    ("CloudWatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
    ("SNS", "ListTopics", "sns:ListTopics"),
    ("SNS", "GetTopicAttributes", "sns:GetTopicAttributes"),
    ("SNS", "ListSubscriptions", "sns:ListSubscriptions"),
    (
        "Resource Groups Tagging API",
        "GetResources",
        "tag:GetResources",
    ),
];

/// Whether `service:operation` is on the collector's allowlist (and so read-only).
pub fn is_allowed(service: &str, operation: &str) -> bool {
    is_read_only(operation)
        && ALLOWED_OPERATIONS
            .iter()
            .any(|(s, o, _)| *s == service && *o == operation)
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
            calls: Arc::default(),
            observer: Some(observer),
            finished: None,
        }
    }

    /// A guard that reports each call's start and end to a progress display.
    pub fn with_progress(progress: &Arc<progress::Progress>) -> Self {
        let (started, finished) = progress.observers();
        ReadOnlyGuard {
            calls: Arc::default(),
            observer: Some(started),
            finished: Some(finished),
        }
    }

    /// `Service:Operation` of every call so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
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

/// One SDK client per service, each carrying the read-only guard. Fields are public so tests
/// can replace a client with a mocked one.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sts: aws_sdk_sts::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
}

macro_rules! client {
    ($krate:ident, $sdk:expr, $guard:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($sdk)
                .interceptor($guard.clone())
                .build(),
        )
    };
}

impl Clients {
    pub fn new(sdk: &SdkConfig, guard: &ReadOnlyGuard) -> Self {
        Clients {
            sts: client!(aws_sdk_sts, sdk, guard),
            ec2: client!(aws_sdk_ec2, sdk, guard),
            rds: client!(aws_sdk_rds, sdk, guard),
            elasticache: client!(aws_sdk_elasticache, sdk, guard),
            lambda: client!(aws_sdk_lambda, sdk, guard),
            ecs: client!(aws_sdk_ecs, sdk, guard),
            autoscaling: client!(aws_sdk_applicationautoscaling, sdk, guard),
            cloudwatch: client!(aws_sdk_cloudwatch, sdk, guard),
            sns: client!(aws_sdk_sns, sdk, guard),
        }
    }
}

/// The SDK's HTTPS client: hyper 1 + rustls on ring, the crypto stack reqwest (Cloudflare)
/// already brings. The SDK's default client would bring aws-lc-sys as well, a second TLS
/// stack to compile for nothing (issue #8). Public so the moto tests build their clients alike.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Loads the SDK configuration: the default credential chain, the region (`--region`, else the
/// estate's, else the chain's), adaptive retry and bounded timeouts so a dead endpoint ends as
/// an error instead of a hang.
pub async fn load_sdk_config(opts: &AwsOptions, estate: &EstateConfig) -> SdkConfig {
    // `AWS_MAX_ATTEMPTS` is the SDKs' standard knob; an explicit option wins over it.
    let attempts = opts
        .max_attempts
        .or_else(|| {
            std::env::var("AWS_MAX_ATTEMPTS")
                .ok()
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(4)
        .max(1);
    let retry = RetryConfig::adaptive().with_max_attempts(attempts);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(60))
        .operation_timeout(Duration::from_secs(180))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = opts.region.clone().or_else(|| estate.region.clone()) {
        loader = loader.region(Region::new(r));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader.load().await
}

/// Collects the estate with the default credential chain.
pub async fn collect_aws(opts: &AwsOptions, estate: &EstateConfig) -> AwsCollection {
    let sdk = load_sdk_config(opts, estate).await;
    let guard = if opts.progress {
        ReadOnlyGuard::with_progress(&progress::Progress::stderr())
    } else {
        ReadOnlyGuard::new()
    };
    let clients = Clients::new(&sdk, &guard);
    let region = sdk.region().map(|r| r.to_string());
    let out = collect_with(&clients, &guard, region, estate, Some(&sdk)).await;
    if opts.progress {
        use std::io::Write;
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "\r\x1b[2Kread AWS: {} calls in {:.1} s, {} resources, {} errors",
            out.operations.len(),
            out.elapsed.as_secs_f64(),
            out.resources.len(),
            out.errors.len()
        );
    }
    out
}

/// Collects with given clients (tests pass mocked or moto-bound ones). `region` is the one the
/// clients talk to; without it nothing can be read and that is itself a collection error.
/// `other_regions`: the configuration to scan the other enabled regions with (for
/// `aws-region-single`); `None` skips that scan.
pub async fn collect_with(
    clients: &Clients,
    guard: &ReadOnlyGuard,
    region: Option<String>,
    estate: &EstateConfig,
    other_regions: Option<&SdkConfig>,
) -> AwsCollection {
    let started = Instant::now();
    let mut out = AwsCollection::default();
    let Some(region) = region else {
        out.errors.push(CollectionError {
            provider: "aws".into(),
            service: "config".into(),
            kinds: crate::model::KINDS
                .iter()
                .filter(|k| k.starts_with("aws."))
                .map(|k| k.to_string())
                .collect(),
            kind: ErrorKind::Other,
            message: "no AWS region: set `region` in estate.toml, pass --region or set AWS_REGION"
                .into(),
            region: None,
        });
        return out;
    };
    out.regions.push(region.clone());

    // The account id names every ARN built from bare ids; without it the ids would be wrong,
    // so a failed STS call leaves the account empty (`arn:aws:ec2:<region>::…`) and is reported.
    let account = match sts::account(&clients.sts).await {
        Ok(a) => a,
        Err(e) => {
            out.errors
                .push(error_for("sts", "GetCallerIdentity", &[], &region, &e));
            String::new()
        }
    };
    if !account.is_empty() {
        out.accounts.push(account.clone());
    }

    // The VPCs and the estate VPC's subnets come first: they scope everything else.
    let mut ctx = Ctx {
        account,
        region: region.clone(),
        estate: estate.clone(),
        estate_vpc: None,
        estate_subnets: None,
    };
    let mut net = ec2::collect_vpcs(&clients.ec2, &ctx).await;
    ctx.estate_vpc = ec2::estate_vpc_id(&net.resources, estate);
    let subnets = ec2::collect_subnets(&clients.ec2, &ctx).await;
    if ctx.estate_vpc.is_some() && subnets.errors.is_empty() {
        ctx.estate_subnets = Some(
            subnets
                .resources
                .iter()
                .filter_map(|r| match &r.attrs {
                    Attrs::Subnet(s) => s.subnet_id.clone(),
                    _ => None,
                })
                .collect(),
        );
    }
    net.extend(subnets);

    let scan_regions = async {
        match other_regions {
            Some(sdk) => regions::collect(sdk, guard, &ctx).await,
            None => (Part::default(), Vec::new()),
        }
    };
    let ((elsewhere, scanned), e, r, c, l, s, a, w, n) = tokio::join!(
        scan_regions,
        ec2::collect_rest(&clients.ec2, &ctx),
        rds::collect(&clients.rds, &ctx),
        elasticache::collect(&clients.elasticache, &ctx),
        lambda::collect(&clients.lambda, &ctx),
        ecs::collect(&clients.ecs, &ctx),
        autoscaling::collect(&clients.autoscaling, &ctx),
        cloudwatch::collect(&clients.cloudwatch, &ctx),
        sns::collect(&clients.sns, &ctx),
    );
    out.regions.extend(scanned);
    for part in [net, elsewhere, e, r, c, l, s, a, w, n] {
        out.resources.extend(part.resources);
        out.errors.extend(part.errors);
    }
    out.operations = guard.calls();
    out.elapsed = started.elapsed();
    out
}

/// What every service collector knows about the scope.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub account: String,
    pub region: String,
    pub estate: EstateConfig,
    /// The estate VPC, when one is identified (DESIGN.md §4).
    pub estate_vpc: Option<String>,
    /// Its subnets, when they were read; workloads all of whose subnets are elsewhere are out of
    /// scope.
    pub estate_subnets: Option<HashSet<String>>,
}

impl Ctx {
    /// `arn:aws:<service>:<region>:<account>:<rest>`.
    pub fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{rest}", self.region, self.account)
    }

    /// A resource of this region and account.
    pub fn resource(
        &self,
        id: String,
        name: Option<String>,
        tags: BTreeMap<String, String>,
        attrs: Attrs,
    ) -> Resource {
        Resource {
            id,
            name,
            region: Some(self.region.clone()),
            account: (!self.account.is_empty()).then(|| self.account.clone()),
            tags,
            attrs,
        }
    }

    /// Whether a workload placed in `subnets` belongs to the estate: yes unless the estate's
    /// subnets are known and the workload has subnets, none of them the estate's.
    pub fn in_scope(&self, subnets: &[String]) -> bool {
        match &self.estate_subnets {
            Some(set) if !subnets.is_empty() => subnets.iter().any(|s| set.contains(s)),
            _ => true,
        }
    }

    pub fn error<E>(
        &self,
        service: &str,
        operation: &str,
        kinds: &[&str],
        err: &SdkError<E, HttpResponse>,
    ) -> CollectionError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        error_for(service, operation, kinds, &self.region, err)
    }
}

/// Resources and errors of one service (or part of one).
#[derive(Clone, Debug, Default)]
pub struct Part {
    pub resources: Vec<Resource>,
    pub errors: Vec<CollectionError>,
}

impl Part {
    pub fn extend(&mut self, other: Part) {
        self.resources.extend(other.resources);
        self.errors.extend(other.errors);
    }

    /// One paginated read: every item of every page normalised (an item the normaliser cannot
    /// name is skipped), or the failure as one collection error over `kinds`.
    pub fn from_pages<P, I, E>(
        ctx: &Ctx,
        (service, operation, kinds): (&str, &str, &[&str]),
        pages: Result<Vec<P>, SdkError<E, HttpResponse>>,
        items: impl Fn(&P) -> &[I],
        normalize: impl Fn(&Ctx, &I) -> Option<Resource>,
    ) -> Part
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut part = Part::default();
        match pages {
            Ok(pages) => part.resources.extend(
                pages
                    .iter()
                    .flat_map(|p| items(p).iter())
                    .filter_map(|i| normalize(ctx, i)),
            ),
            Err(e) => part.errors.push(ctx.error(service, operation, kinds, &e)),
        }
        part
    }
}

/// Follow-up calls per listed item (describe, get-attributes, get-policy) run this many at a
/// time: enough to hide the round trips of a long list, few enough that one service's answers
/// do not run into its rate limit (adaptive retry absorbs what remains).
pub const PER_ITEM_CONCURRENCY: usize = 8;

impl Part {
    /// The list-then-describe shape every service repeats: `call` for each listed item, at most
    /// [`PER_ITEM_CONCURRENCY`] at once, resources kept in list order. Failures alike (same
    /// service, operation and kind) are reported once with the number of calls they hit: 200
    /// denied GetPolicy calls say nothing that one does not.
    pub async fn from_each<T, F, Fut>(items: impl IntoIterator<Item = T>, call: F) -> Part
    where
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Part>,
    {
        use futures_util::StreamExt;
        let parts: Vec<Part> = futures_util::stream::iter(items)
            .map(call)
            .buffered(PER_ITEM_CONCURRENCY)
            .collect()
            .await;
        let mut out = Part::default();
        let mut alike: Vec<usize> = Vec::new();
        for p in parts {
            out.resources.extend(p.resources);
            for e in p.errors {
                match out.errors.iter().position(|x| same_failure(x, &e)) {
                    Some(i) => alike[i] += 1,
                    None => {
                        out.errors.push(e);
                        alike.push(1);
                    }
                }
            }
        }
        for (e, n) in out.errors.iter_mut().zip(alike) {
            if n > 1 {
                e.message.push_str(&format!(" ({n} calls failed alike)"));
            }
        }
        out
    }
}

/// Same service, kind, kinds and operation (messages start `"<service> <Operation>:"`).
fn same_failure(a: &CollectionError, b: &CollectionError) -> bool {
    let operation = |m: &str| m.split(':').next().unwrap_or("").to_string();
    a.service == b.service
        && a.kind == b.kind
        && a.kinds == b.kinds
        && operation(&a.message) == operation(&b.message)
}

/// A [`CollectionError`] for a failed call.
pub fn error_for<E>(
    service: &str,
    operation: &str,
    kinds: &[&str],
    region: &str,
    err: &SdkError<E, HttpResponse>,
) -> CollectionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, cause) = classify(err);
    CollectionError {
        provider: "aws".into(),
        service: service.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        kind,
        message: format!("{service} {operation}: {cause}"),
        region: Some(region.to_string()),
    }
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthFailure",
    "AuthorizationError",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "OptInRequired",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
];
const UNSUPPORTED: &[&str] = &[
    "NotImplemented",
    "InvalidAction",
    "UnknownOperationException",
    "UnsupportedOperation",
    "UnsupportedOperationException",
];

/// Sorts a failed call into the error kinds of DESIGN.md §3 with a message for people: the
/// service's code and message when it sent one, else the HTTP status, else the transport cause.
/// An endpoint that does not implement the call (404/501, or an HTML page instead of an API
/// answer, as emulators send) is `Unsupported`.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> (ErrorKind, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code();
            let message = se.err().message().unwrap_or("");
            let html = is_html(se.raw());
            let kind = match code {
                Some(c) if ACCESS_DENIED.contains(&c) => ErrorKind::AccessDenied,
                Some(c) if THROTTLED.contains(&c) => ErrorKind::Throttled,
                Some(c) if UNSUPPORTED.contains(&c) => ErrorKind::Unsupported,
                _ if status == 401 || status == 403 => ErrorKind::AccessDenied,
                _ if status == 429 => ErrorKind::Throttled,
                None if status == 404 || status == 501 || html => ErrorKind::Unsupported,
                _ => ErrorKind::Other,
            };
            let text = match code {
                Some(c) if !message.is_empty() => format!("{c}: {message} (HTTP {status})"),
                Some(c) => format!("{c} (HTTP {status})"),
                None if html => {
                    format!("HTTP {status} with an HTML page instead of an API answer (the endpoint does not implement this call)")
                }
                None => format!("HTTP {status} without an error code"),
            };
            (kind, text)
        }
        SdkError::ResponseError(re) => {
            let status = re.raw().status().as_u16();
            if is_html(re.raw()) || status == 404 || status == 501 {
                (
                    ErrorKind::Unsupported,
                    format!("HTTP {status}: the endpoint does not implement this call"),
                )
            } else {
                (
                    ErrorKind::Other,
                    format!(
                        "unparsable answer (HTTP {status}): {}",
                        DisplayErrorContext(err)
                    ),
                )
            }
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Other,
            "timed out waiting for the answer".to_string(),
        ),
        SdkError::DispatchFailure(_) => (
            ErrorKind::Other,
            format!("could not send the request: {}", cause_chain(err)),
        ),
        _ => (ErrorKind::Other, format!("{}", DisplayErrorContext(err))),
    }
}

/// The `Display` texts of an error's causes, outermost first, without the repetitions and the
/// `Debug` dump `DisplayErrorContext` adds: "dispatch failure: io error: … Connection refused".
fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn is_html(resp: &HttpResponse) -> bool {
    let ct_html = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
    let body_html = resp.body().bytes().is_some_and(|b| {
        let start = String::from_utf8_lossy(&b[..b.len().min(64)]).to_ascii_lowercase();
        let start = start.trim_start();
        start.starts_with("<!doctype html")
            || start.starts_with("<html")
            || start.starts_with("<h1")
    });
    ct_html || body_html
}

/// Tags from any SDK tag list (`(key, value)` pairs); pairs without a key are dropped.
pub fn tags<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or("").to_string())))
        .collect()
}

#[cfg(test)]
mod tests;
