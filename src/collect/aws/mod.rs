//! Live AWS collection through the official SDK (docs/design.md §2–§4): the estate scope (the
//! estate VPC's resources; workloads placed in other VPCs are left out), read through one module
//! per service, each with its calls and its pure `normalize_*` functions. Around them:
//!
//! - `accounts`: the options, which accounts are read and one account's collection in stages
//!   under the deadline;
//! - `sdk`: the SDK configuration (region, profile, endpoint, adaptive retry, timeouts, the HTTPS
//!   client) and the clients, each guarded and capped;
//! - `guard`: the read-only allowlist, the IAM policy printed from it, and the [`ReadOnlyGuard`];
//! - `paging`: every page of a listing or an error, and the check for cut-off answers;
//! - `errors`: the classification of failures into [`CollectionError`]s.
//!
//! This hub keeps what every service module shares (the scope of a call, [`Ctx`]; what a service
//! read, [`Part`]; [`tags`]) and re-exports the public items of those rooms, so each keeps the
//! one path it has always had (`collect::aws::https_client`).
//!
//! It must not judge anything (that is `link` and the rules), must not let an SDK type escape
//! `collect`, and must never call anything but Describe/List/Get operations: the
//! [`ReadOnlyGuard`] interceptor refuses any other operation before it is signed or sent.
//! **Fail closed**: a call that fails becomes a `CollectionError` naming the service, operation
//! and cause, and the kinds it would have filled; nothing is guessed, nothing panics.

pub mod apigateway;
pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod ecs;
pub mod elasticache;
pub mod elb;
pub mod lambda;
pub mod logs;
pub mod organizations;
pub mod progress;
pub mod rds;
pub mod regions;
pub mod sns;
pub mod sts;

mod accounts;
mod errors;
mod guard;
mod options;
mod paging;
mod sdk;

pub use accounts::{
    collect_accounts, collect_accounts_with, collect_aws, collect_with, collect_with_regions,
    collect_within, AwsCollection, ACCOUNT_CONCURRENCY,
};
pub use errors::{classify, error_for};
pub use guard::{
    iam_action, iam_policy_document, is_allowed, is_read_only, permissions_section, stats_name,
    Observer, ReadOnlyGuard, ALLOWED_OPERATIONS, NON_MUTATING, READ_ONLY_PREFIXES,
};
pub use options::{AssumeRole, AwsOptions};
pub use paging::{all_pages, xml_complete, AllPages, AnswerCheck, EndlessPagination, MAX_PAGES};
pub(crate) use sdk::client;
pub use sdk::{
    capped, https_client, load_sdk_config, Clients, ATTEMPT_TIMEOUT, CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS, OPERATION_TIMEOUT, PER_SERVICE_CONCURRENCY,
};

use std::collections::HashSet;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::model::EstateConfig;
use crate::model::{Attrs, CollectionError, Resource, StrMap};
use errors::same_failure;

/// What every service collector knows about the scope.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub account: String,
    pub region: String,
    pub estate: EstateConfig,
    /// The estate VPC, when one is identified (docs/design.md §4).
    pub estate_vpc: Option<String>,
    /// Its subnets, when they were read; workloads all of whose subnets are elsewhere are out of
    /// scope.
    pub estate_subnets: Option<HashSet<String>>,
    /// Attempts per call (the retry budget), for the messages of throttled calls.
    pub attempts: u32,
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
        tags: StrMap,
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
        error_for(
            (service, operation, kinds),
            &self.region,
            self.attempts,
            err,
        )
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
    ///
    /// The future is boxed as `Send` here, where the closures' types are concrete: left as an
    /// opaque type, proving it `Send` inside `tokio::spawn` (the accounts run as tasks) trips
    /// rustc's "FnOnce is not general enough" over the closures' higher-ranked lifetimes.
    pub fn from_each<'a, I, F, Fut>(
        items: I,
        call: F,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Part> + Send + 'a>>
    where
        I: IntoIterator + 'a,
        I::IntoIter: Send + 'a,
        F: FnMut(I::Item) -> Fut + Send + 'a,
        Fut: std::future::Future<Output = Part> + Send + 'a,
    {
        let items = items.into_iter();
        Box::pin(async move {
            use futures_util::StreamExt;
            let parts: Vec<Part> = futures_util::stream::iter(items)
                .map(call)
                .buffered(PER_ITEM_CONCURRENCY)
                .collect()
                .await;
            Part::alike_once(parts)
        })
    }

    /// The parts of [`Part::from_each`] as one, failures alike reported once.
    fn alike_once(parts: Vec<Part>) -> Part {
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

/// Tags from any SDK tag list (`(key, value)` pairs); pairs without a key are dropped.
pub fn tags<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> StrMap {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or("").to_string())))
        .collect()
}

#[cfg(test)]
mod tests;
