//! Unit tests of the AWS collector: every `normalize_*` field by field from the SDK's own
//! builders, policy parsing and endpoint redaction, and the error paths (access denied,
//! throttling after retries, HTML from an endpoint that lacks the call, pagination across pages,
//! the read-only guard) through `aws-smithy-mocks`. This file holds what every area shares (a
//! scope, clients answering from mock rules, canned answers); each area has its own file, named
//! for what it tests rather than after a collector module, whose name it would hide from the
//! other files. No test reaches the network.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, RuleMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;

use super::*;
use crate::model::{Attrs, EcsNetworkConfiguration, ErrorKind, LambdaVpcConfig};

fn ctx() -> Ctx {
    Ctx {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        estate: EstateConfig::default(),
        estate_vpc: None,
        estate_subnets: None,
        attempts: 2,
    }
}

/// A client of one service answering from mock rules, with a quick retry so throttling tests
/// do not sleep.
macro_rules! mocked {
    ($krate:ident, $guard:expr, $rules:expr) => {{
        let mut i = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for r in $rules {
            i = i.with_rule(r);
        }
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version($krate::config::BehaviorVersion::latest())
                .region($krate::config::Region::new("eu-west-1"))
                .credentials_provider($krate::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client(create_mock_http_client())
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                )
                .interceptor($guard.clone())
                .interceptor(i)
                .build(),
        )
    }};
}

fn http(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        SdkBody::from(body),
    )
}

const QUERY_ACCESS_DENIED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
<Message>User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: rds:DescribeDBInstances</Message>\
</Error><RequestId>r1</RequestId></ErrorResponse>";
const EC2_THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r2</RequestID></Response>";

mod alerting;
mod containers;
mod data_stores;
mod edge;
mod failures;
mod functions;
mod log_shipping;
mod network;
mod other_regions;
mod pagination;
mod read_only;
mod sessions;
