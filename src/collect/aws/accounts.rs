//! Which AWS accounts are read, and how one is read: the caller's
//! account alone, or each `--assume-role` account, or every ACTIVE account of the organization
//! (`--org-role`), at most [`ACCOUNT_CONCURRENCY`] at a time, each through its assumed role; and
//! one account's collection in stages under the deadline (STS, the VPCs and subnets that scope
//! everything else, then every service and the other regions at once), gathered into an
//! [`AwsCollection`].
//!
//! It must not read a service itself (each service module does) nor sort failures (`errors`
//! does). An account or a stage that cannot be read becomes collection errors over the kinds it
//! would have filled: never an absence that could pass.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use super::errors::{classify, error_for};
use super::guard::ReadOnlyGuard;
use super::options::{AssumeRole, AwsOptions};
use super::sdk::{client, load_sdk_config, Clients};
use super::{apigateway, autoscaling, cloudwatch, ec2, ecs, elasticache, elb, lambda, logs};
use super::{organizations, progress};
use super::{rds, regions, sns, sts, Ctx, Part};
use crate::model::kind;
use crate::model::EstateConfig;
use crate::model::{Attrs, CollectionError, ErrorKind, Resource};
use crate::stats::ServiceCalls;

/// Accounts read side by side at most (each also reads its services and regions concurrently,
/// under the per-service cap).
pub const ACCOUNT_CONCURRENCY: usize = 4;

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
    /// Requests, retries and response bytes per `aws.<service>` (`--stats`).
    pub services: BTreeMap<String, ServiceCalls>,
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

/// Collects the estate with the default credential chain (one account: the caller's).
pub async fn collect_aws(opts: &AwsOptions, estate: &EstateConfig) -> AwsCollection {
    let sdk = load_sdk_config(opts, estate).await;
    let guard = new_guard(opts);
    let out = collect_account(&sdk, &guard, opts, estate).await;
    report_progress(opts, &out);
    out
}

fn new_guard(opts: &AwsOptions) -> ReadOnlyGuard {
    if opts.progress {
        ReadOnlyGuard::with_progress(&progress::Progress::stderr())
    } else {
        ReadOnlyGuard::new()
    }
}

fn report_progress(opts: &AwsOptions, out: &AwsCollection) {
    if opts.progress {
        use std::io::Write;
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "\r\x1b[2Kread AWS{}: {} calls in {:.1} s, {} resources, {} errors",
            out.accounts
                .first()
                .map(|a| format!(" account {a}"))
                .unwrap_or_default(),
            out.operations.len(),
            out.elapsed.as_secs_f64(),
            out.resources.len(),
            out.errors.len()
        );
    }
}

/// One account with the credentials of `sdk`: its home region in full, the other regions
/// scanned (`opts.scan_regions`).
async fn collect_account(
    sdk: &SdkConfig,
    guard: &ReadOnlyGuard,
    opts: &AwsOptions,
    estate: &EstateConfig,
) -> AwsCollection {
    let clients = Clients::new(sdk, guard);
    let region = sdk.region().map(|r| r.to_string());
    Box::pin(collect_within(
        &clients,
        guard,
        region,
        estate,
        Some(sdk),
        opts.scan_regions.as_deref(),
        opts.deadline.as_ref(),
    ))
    .await
}

/// Collects every account the options name: the caller's alone, or each `--assume-role`
/// account, or each ACTIVE account of the organization (`--org-role`). One collection per
/// account, in the order of the roles (the organization's: by account id), at most
/// [`ACCOUNT_CONCURRENCY`] at a time. An account that cannot be reached (its role cannot be
/// assumed, the organization cannot be listed) is a collection with one error over every AWS
/// kind: its rules are `unknown`, never silently absent.
pub async fn collect_accounts(opts: &AwsOptions, estate: &EstateConfig) -> Vec<AwsCollection> {
    if opts.roles.is_empty() && opts.org_role.is_none() {
        return vec![collect_aws(opts, estate).await];
    }
    let sdk = load_sdk_config(opts, estate).await;
    collect_accounts_with(&sdk, opts, estate).await
}

/// [`collect_accounts`] with a loaded configuration (the caller's credentials, region, HTTP
/// client): what tests drive against moto.
pub async fn collect_accounts_with(
    sdk: &SdkConfig,
    opts: &AwsOptions,
    estate: &EstateConfig,
) -> Vec<AwsCollection> {
    if opts.roles.is_empty() && opts.org_role.is_none() {
        let guard = new_guard(opts);
        return vec![collect_account(sdk, &guard, opts, estate).await];
    }
    let sdk = sdk.clone();
    let base_guard = new_guard(opts);
    let region = sdk.region().map(|r| r.to_string());
    let mut roles = opts.roles.clone();
    let mut out = Vec::new();
    if let Some(org) = &opts.org_role {
        let orgs = client!(aws_sdk_organizations, &sdk, base_guard, "organizations");
        let listed = crate::collect::within(
            opts.deadline.as_ref(),
            organizations::active_accounts(&orgs),
        )
        .await;
        let failed = match listed {
            Some(Ok(accounts)) => {
                roles.extend(accounts.into_iter().map(|id| AssumeRole {
                    arn: format!("arn:aws:iam::{id}:role/{}", org.arn),
                    external_id: org.external_id.clone(),
                }));
                None
            }
            Some(Err(e)) => {
                let (kind, cause) = classify(&e);
                Some((kind, format!("organizations ListAccounts: {cause}")))
            }
            None => Some((
                ErrorKind::Other,
                timed_out(opts, "organizations", "ListAccounts"),
            )),
        };
        if let Some((kind, message)) = failed {
            let mut c = AwsCollection::default();
            c.regions.extend(region.clone());
            c.errors.push(account_error(
                "organizations",
                None,
                region.as_deref(),
                kind,
                message,
            ));
            out.push(c);
        }
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(ACCOUNT_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, role) in roles.into_iter().enumerate() {
        let (sdk, opts, estate, sem) = (sdk.clone(), opts.clone(), estate.clone(), sem.clone());
        let guard = base_guard.sibling();
        let base_guard = base_guard.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            let c = collect_as(&sdk, &base_guard, &guard, &role, &opts, &estate).await;
            report_progress(&opts, &c);
            (i, c)
        });
    }
    let mut done: Vec<(usize, AwsCollection)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(c) => done.push(c),
            Err(e) => {
                let mut c = AwsCollection::default();
                c.errors.push(account_error(
                    "sts",
                    None,
                    region.as_deref(),
                    ErrorKind::Other,
                    format!("collecting an account failed: {e}"),
                ));
                done.push((usize::MAX, c));
            }
        }
    }
    done.sort_by_key(|(i, _)| *i);
    out.extend(done.into_iter().map(|(_, c)| c));
    // The organization listing and the role assumptions are calls too: counted once, with the
    // first collection (the totals are what `--stats` shows).
    let base = base_guard.usage();
    if let Some(first) = out.first_mut() {
        for (name, calls) in base {
            first.services.entry(name).or_default().add(calls);
        }
    }
    out
}

/// One account through `role`: AssumeRole with the guarded STS client of the caller, then the
/// account's collection with clients built on the role's credentials (each with the guard).
async fn collect_as(
    sdk: &SdkConfig,
    base_guard: &ReadOnlyGuard,
    guard: &ReadOnlyGuard,
    role: &AssumeRole,
    opts: &AwsOptions,
    estate: &EstateConfig,
) -> AwsCollection {
    let started = Instant::now();
    let sts = client!(aws_sdk_sts, sdk, base_guard, "sts");
    let region = sdk.region().map(|r| r.to_string());
    // Under the collection's deadline like every other call: a stuck STS must not hold an
    // organization's accounts beyond `--timeout`, each up to the per-call timeout in turn.
    let assumed =
        match crate::collect::within(opts.deadline.as_ref(), sts::assume(&sts, role)).await {
            Some(r) => r.map_err(|e| {
                let (kind, cause) = classify(&e);
                (kind, format!("sts AssumeRole {}: {cause}", role.arn))
            }),
            None => Err((
                ErrorKind::Other,
                timed_out(opts, "sts", &format!("AssumeRole {}", role.arn)),
            )),
        };
    match assumed {
        Ok(creds) => {
            let session = sts::RoleSession::new(sts, role.clone(), creds);
            let assumed = sdk
                .to_builder()
                .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(session))
                .build();
            let mut c = collect_account(&assumed, guard, opts, estate).await;
            // Every error of this collection is this account's.
            let account = c.accounts.first().cloned().or_else(|| role.account());
            for e in &mut c.errors {
                e.account = account.clone();
            }
            c
        }
        Err((kind, message)) => {
            let mut c = AwsCollection::default();
            if let Some(a) = role.account() {
                c.accounts.push(a);
            }
            c.regions.extend(region.clone());
            c.errors.push(account_error(
                "sts",
                role.account(),
                region.as_deref(),
                kind,
                message,
            ));
            c.elapsed = started.elapsed();
            c
        }
    }
}

/// The message of a call `--timeout` cut off: `sts AssumeRole …: sts timed out: it did not
/// answer within the audit's 900 s --timeout` (only a deadline cuts a call off).
fn timed_out(opts: &AwsOptions, service: &str, call: &str) -> String {
    let why = opts
        .deadline
        .map(|d| d.error("aws", service, &[], None).message)
        .unwrap_or_else(|| format!("{service} timed out"));
    format!("{service} {call}: {why}")
}

/// An error that leaves a whole account unread: every AWS kind is incomplete, and so are the
/// estate's own facts (its regions, its components).
fn account_error(
    service: &str,
    account: Option<String>,
    region: Option<&str>,
    kind: ErrorKind,
    message: String,
) -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: service.into(),
        kinds: crate::model::KINDS
            .iter()
            .filter(|k| k.starts_with("aws.") || **k == kind::ESTATE)
            .map(|k| k.to_string())
            .collect(),
        kind,
        message,
        region: region.map(str::to_string),
        account,
    }
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
    collect_with_regions(clients, guard, region, estate, other_regions, None).await
}

/// [`collect_with`], scanning only `scan` (the regions besides the home one) when given,
/// instead of every enabled region.
pub async fn collect_with_regions(
    clients: &Clients,
    guard: &ReadOnlyGuard,
    region: Option<String>,
    estate: &EstateConfig,
    other_regions: Option<&SdkConfig>,
    scan: Option<&[String]>,
) -> AwsCollection {
    Box::pin(collect_within(
        clients,
        guard,
        region,
        estate,
        other_regions,
        scan,
        None,
    ))
    .await
}

/// [`collect_with_regions`] under a deadline: each stage (STS, VPCs, subnets, then every
/// service at once) runs until it ends or the deadline passes; one cut off becomes a collection
/// error over its kinds, and what finished is kept.
pub async fn collect_within(
    clients: &Clients,
    guard: &ReadOnlyGuard,
    region: Option<String>,
    estate: &EstateConfig,
    other_regions: Option<&SdkConfig>,
    scan: Option<&[String]>,
    deadline: Option<&crate::collect::Deadline>,
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
            account: None,
        });
        return out;
    };
    out.regions.push(region.clone());

    // The account id names every ARN built from bare ids; without it the ids would be wrong,
    // so a failed STS call leaves the account empty (`arn:aws:ec2:<region>::…`) and is reported.
    // What the retry budget is, for messages: "throttled after 4 attempts".
    let attempts = clients
        .sts
        .config()
        .retry_config()
        .map(|r| r.max_attempts())
        .unwrap_or(1);
    let account = match crate::collect::within(deadline, sts::account(&clients.sts)).await {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            out.errors.push(error_for(
                ("sts", "GetCallerIdentity", &[]),
                &region,
                attempts,
                &e,
            ));
            String::new()
        }
        None => {
            if let Some(d) = deadline {
                out.errors.push(d.error("aws", "sts", &[], Some(&region)));
            }
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
        attempts,
    };
    // Every stage under the deadline; one cut off is an error over the kinds it would have read.
    let t = |service, kinds| Timed {
        deadline,
        region: &region,
        service,
        kinds,
    };
    let mut net = t("ec2", vec![kind::VPC])
        .run(ec2::collect_vpcs(&clients.ec2, &ctx))
        .await;
    ctx.estate_vpc = ec2::estate_vpc_id(&net.resources, estate);
    let subnets = t("ec2", vec![kind::SUBNET])
        .run(ec2::collect_subnets(&clients.ec2, &ctx))
        .await;
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
        let scan = async {
            match other_regions {
                Some(sdk) => regions::collect(sdk, guard, &ctx, scan).await,
                None => (Part::default(), Vec::new()),
            }
        };
        match crate::collect::within(deadline, Box::pin(scan)).await {
            Some(done) => done,
            // The scan reads every other region: named as the scan.
            None => (t("regions", vec![kind::ESTATE]).cut_off(), Vec::new()),
        }
    };
    let ec2_rest: Vec<&str> = crate::model::KINDS
        .iter()
        .copied()
        .filter(|k| k.starts_with("aws.ec2.") && ![kind::VPC, kind::SUBNET].contains(k))
        .collect();
    let ((elsewhere, scanned), e, r, c, l, s, a, w, n, b, g) = tokio::join!(
        scan_regions,
        t("ec2", ec2_rest).run(ec2::collect_rest(&clients.ec2, &ctx)),
        t("rds", kinds_of("aws.rds.")).run(rds::collect(&clients.rds, &ctx)),
        t("elasticache", kinds_of("aws.elasticache."))
            .run(elasticache::collect(&clients.elasticache, &ctx)),
        with_log_groups(
            &clients.logs,
            &ctx,
            t("logs", kinds_of("aws.logs.")),
            t("lambda", kinds_of("aws.lambda.")).run(lambda::collect(&clients.lambda, &ctx)),
        ),
        with_log_groups(
            &clients.logs,
            &ctx,
            t("logs", kinds_of("aws.logs.")),
            t("ecs", kinds_of("aws.ecs.")).run(ecs::collect(&clients.ecs, &ctx)),
        ),
        t(
            "application-autoscaling",
            kinds_of("aws.application_autoscaling.")
        )
        .run(autoscaling::collect(&clients.autoscaling, &ctx)),
        t("cloudwatch", kinds_of("aws.cloudwatch."))
            .run(cloudwatch::collect(&clients.cloudwatch, &ctx)),
        async {
            let mut part = t("sns", kinds_of("aws.sns."))
                .run(sns::collect(&clients.sns, &ctx))
                .await;
            // The topics' keys: a stage of its own, so that KMS cut off by the deadline costs
            // only the keys (its error names no kind; the routes through them are unknown).
            let refs = sns::key_refs(&part);
            if !refs.is_empty() {
                match crate::collect::within(
                    deadline,
                    Box::pin(sns::read_keys(&clients.kms, &ctx, &refs)),
                )
                .await
                {
                    Some(keys) => sns::apply_keys(&mut part, keys),
                    None => part.errors.extend(
                        deadline.map(|d| d.error("aws", "kms", &[], Some(region.as_str()))),
                    ),
                }
            }
            part
        },
        t(
            "elasticloadbalancing",
            [kinds_of("aws.elbv2."), kinds_of("aws.elb.")].concat()
        )
        .run(elb::collect(&clients.elbv2, &clients.elb, &ctx)),
        t(
            "apigateway",
            [kinds_of("aws.apigateway."), kinds_of("aws.apigatewayv2.")].concat()
        )
        .run(apigateway::collect(
            &clients.apigateway,
            &clients.apigatewayv2,
            &ctx
        )),
    );
    out.regions.extend(scanned);
    for part in [net, elsewhere, e, r, c, l, s, a, w, n, b, g] {
        out.resources.extend(part.resources);
        out.errors.extend(part.errors);
    }
    // A group both the webhook and the processors write to was read by each: kept once.
    let mut groups = std::collections::HashSet::new();
    out.resources
        .retain(|r| !matches!(r.attrs, Attrs::LogGroup(_)) || groups.insert(r.id.clone()));
    out.operations = guard.calls();
    out.services = guard.usage();
    out.elapsed = started.elapsed();
    out
}

/// A part of Lambda or ECS, with the subscriptions of the log groups the webhook or the
/// processors write to, read as soon as that service has answered: one of the two stalling does
/// not hold the other's groups, and a service that could not be read names no group.
async fn with_log_groups(
    client: &aws_sdk_cloudwatchlogs::Client,
    ctx: &Ctx,
    stage: Timed<'_>,
    service: impl std::future::Future<Output = Part>,
) -> Part {
    let mut part = service.await;
    let groups = logs::groups_to_read(ctx, part.resources.iter());
    if !groups.is_empty() {
        part.extend(stage.run(logs::collect(client, ctx, groups)).await);
    }
    part
}

/// Every kind whose name starts with `prefix` (`aws.rds.`).
fn kinds_of(prefix: &str) -> Vec<&'static str> {
    crate::model::KINDS
        .iter()
        .copied()
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// One stage of the collection under the deadline.
struct Timed<'a> {
    deadline: Option<&'a crate::collect::Deadline>,
    region: &'a str,
    service: &'a str,
    kinds: Vec<&'static str>,
}

impl Timed<'_> {
    async fn run(self, fut: impl std::future::Future<Output = Part>) -> Part {
        // On the heap: the services' futures are large, and all of them are joined at once
        // (inline, they overflowed a 2 MiB test thread's stack in debug builds).
        match crate::collect::within(self.deadline, Box::pin(fut)).await {
            Some(part) => part,
            None => self.cut_off(),
        }
    }

    /// The stage's error when the deadline cut it off.
    fn cut_off(&self) -> Part {
        Part {
            resources: Vec::new(),
            errors: self
                .deadline
                .map(|d| d.error("aws", self.service, &self.kinds, Some(self.region)))
                .into_iter()
                .collect(),
        }
    }
}
