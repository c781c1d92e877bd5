//! The SDK's configuration: the HTTPS client (rustls on ring), the credential chain, the region,
//! adaptive retry and bounded timeouts ([`load_sdk_config`]); and the clients, one per service
//! ([`Clients`], the `client!` macro), each carrying the read-only guard, the answer check and a
//! process-wide cap on the requests in flight per service ([`capped`]).
//!
//! It must not call AWS (building a client sends nothing), and must not build a client without
//! the guard: every client the collector uses comes from here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use super::guard::ReadOnlyGuard;
use super::options::AwsOptions;
use crate::model::EstateConfig;

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
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sns: aws_sdk_sns::Client,
    pub kms: aws_sdk_kms::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub elb: aws_sdk_elasticloadbalancing::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub apigatewayv2: aws_sdk_apigatewayv2::Client,
}

/// A client of `$krate` with the read-only guard and the per-service concurrency cap, optionally
/// in another region than the configuration's.
macro_rules! client {
    ($krate:ident, $sdk:expr, $guard:expr, $service:expr) => {
        client!($krate, $sdk, $guard, $service, None::<String>)
    };
    ($krate:ident, $sdk:expr, $guard:expr, $service:expr, $region:expr) => {{
        let mut b = $krate::config::Builder::from($sdk)
            .interceptor($guard.clone())
            .interceptor($crate::collect::aws::AnswerCheck);
        if let Some(http) = $sdk.http_client() {
            b = b.http_client($crate::collect::aws::capped(http, $service));
        }
        if let Some(r) = $region {
            b = b.region(::aws_config::Region::new(r));
        }
        $krate::Client::from_conf(b.build())
    }};
}
pub(crate) use client;

impl Clients {
    pub fn new(sdk: &SdkConfig, guard: &ReadOnlyGuard) -> Self {
        Clients {
            sts: client!(aws_sdk_sts, sdk, guard, "sts"),
            ec2: client!(aws_sdk_ec2, sdk, guard, "ec2"),
            rds: client!(aws_sdk_rds, sdk, guard, "rds"),
            elasticache: client!(aws_sdk_elasticache, sdk, guard, "elasticache"),
            lambda: client!(aws_sdk_lambda, sdk, guard, "lambda"),
            ecs: client!(aws_sdk_ecs, sdk, guard, "ecs"),
            autoscaling: client!(
                aws_sdk_applicationautoscaling,
                sdk,
                guard,
                "application-autoscaling"
            ),
            cloudwatch: client!(aws_sdk_cloudwatch, sdk, guard, "cloudwatch"),
            logs: client!(aws_sdk_cloudwatchlogs, sdk, guard, "logs"),
            sns: client!(aws_sdk_sns, sdk, guard, "sns"),
            kms: client!(aws_sdk_kms, sdk, guard, "kms"),
            elbv2: client!(aws_sdk_elasticloadbalancingv2, sdk, guard, "elbv2"),
            elb: client!(aws_sdk_elasticloadbalancing, sdk, guard, "elb"),
            apigateway: client!(aws_sdk_apigateway, sdk, guard, "apigateway"),
            apigatewayv2: client!(aws_sdk_apigatewayv2, sdk, guard, "apigatewayv2"),
        }
    }
}

/// Requests in flight per service, across every region and account of a run. AWS throttles per
/// API (EC2's request-rate buckets, RDS's and ECS's per-call limits); the regions scan alone
/// would otherwise start two EC2 calls per region at once. Services still run side by side.
pub const PER_SERVICE_CONCURRENCY: usize = 8;

/// `http` with a process-wide cap of [`PER_SERVICE_CONCURRENCY`] requests in flight for `service`.
pub fn capped(
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    service: &'static str,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static CAPS: OnceLock<Mutex<HashMap<&'static str, Arc<tokio::sync::Semaphore>>>> =
        OnceLock::new();
    let sem = CAPS
        .get_or_init(Mutex::default)
        .lock()
        .map(|mut m| {
            m.entry(service)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(PER_SERVICE_CONCURRENCY)))
                .clone()
        })
        .unwrap_or_else(|_| Arc::new(tokio::sync::Semaphore::new(PER_SERVICE_CONCURRENCY)));
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(Capped { inner: http, sem })
}

#[derive(Debug)]
struct Capped {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    sem: Arc<tokio::sync::Semaphore>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for Capped {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(CappedConnector {
            inner: self.inner.http_connector(settings, components),
            sem: self.sem.clone(),
        })
    }
}

#[derive(Debug)]
struct CappedConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    sem: Arc<tokio::sync::Semaphore>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for CappedConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let inner = self.inner.clone();
        let sem = self.sem.clone();
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            // The semaphore is never closed; if it were, the call goes out uncapped.
            let _permit = sem.acquire_owned().await.ok();
            inner.call(request).await
        })
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

/// Connecting to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One attempt of a call: the request, the answer's headers and its whole body.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// One call, its retries and their back-off included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(180);
/// Attempts per call when neither the caller nor `AWS_MAX_ATTEMPTS` says (the SDK's default
/// for adaptive retry is 3; one more rides out a short throttling burst).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;

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
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
        .max(1);
    let retry = RetryConfig::adaptive().with_max_attempts(attempts);
    // Per call: 10 s to connect, 60 s for one attempt (sending, the answer's headers and its
    // whole body), 180 s for the call with its retries. `--timeout` bounds the whole collection.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
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
