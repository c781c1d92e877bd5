//! Where the estate's logs go, as AWS describes it: each ECS container's log configuration
//! (its driver and the few option values the log-shipping rules read), the FireLens log router
//! of a task definition, and the CloudWatch Logs groups the processors and the webhook write to
//! with their subscription filters. Data only (docs/design.md §3).
//!
//! It must not hold an option value that can carry a secret: a log driver's options may hold a
//! Loki URL with a user and password, a token or a key, so only the option *names* are kept,
//! and of the values only the FireLens output's plugin name and the awslogs group and region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One container of an ECS task definition, as far as its logs go.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EcsContainer {
    pub name: Option<String>,
    /// `logConfiguration.logDriver`: `awslogs`, `awsfirelens`, `splunk`, `none`, …; `null`: the
    /// container has no log configuration (a value: read, and absent).
    #[serde(default)]
    pub log_driver: Option<String>,
    /// The names of the driver's options and secret options, sorted; their values are never
    /// kept.
    #[serde(default)]
    pub log_option_names: Vec<String>,
    /// `awslogs-group` of an `awslogs` driver.
    #[serde(default)]
    pub awslogs_group: Option<String>,
    /// `awslogs-region` of an `awslogs` driver (absent: the task's region).
    #[serde(default)]
    pub awslogs_region: Option<String>,
    /// The output plugin an `awsfirelens` driver sends to: Fluent Bit's `Name` option or
    /// Fluentd's `@type` (`loki`, `cloudwatch_logs`, `kinesis_firehose`, …).
    #[serde(default)]
    pub firelens_output: Option<String>,
    /// This container is the task's FireLens log router (`firelensConfiguration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firelens: Option<FirelensConfiguration>,
}

/// The FireLens log router's configuration.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct FirelensConfiguration {
    /// `fluentbit` or `fluentd`.
    pub r#type: Option<String>,
    /// `config-file-type` (`s3` or `file`) when the router reads a custom configuration file,
    /// whose outputs the audit cannot see.
    #[serde(default)]
    pub config_file_type: Option<String>,
}

/// A CloudWatch Logs group a processor container or the webhook writes to: read only for those
/// groups (DescribeSubscriptionFilters), so a group that does not exist is known as such.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LogGroup {
    pub log_group_name: Option<String>,
    /// `false`: CloudWatch Logs has no such group (nothing was ever written, or it was deleted).
    pub exists: Option<bool>,
    /// Every subscription filter of the group. Empty: none. `null`: not read.
    pub subscription_filters: Option<Vec<SubscriptionFilter>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionFilter {
    pub filter_name: Option<String>,
    /// Empty: every event is delivered; anything else keeps only the matching ones.
    pub filter_pattern: Option<String>,
    /// A Lambda function, Kinesis stream, Firehose stream or cross-account logs destination.
    pub destination_arn: Option<String>,
}

/// *Derived* on the processors' ECS services and the webhook: whether every log stream they
/// write reaches a shipper whole, and where each goes, in words.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct LogShipping {
    /// Loki is in the estate's monitoring plane (`[monitoring]`, without `loki` in `not_used`):
    /// only then are the log groups read and the shipping judged; otherwise the rest is empty.
    pub audited: bool,
    /// Every stream is shipped whole (FireLens to Loki, a group subscribed without a pattern, a
    /// log-shipping extension); `false`: one is known not to be; `null`: unknown.
    pub shipped: Option<bool>,
    /// Where each stream goes: one sentence per container, or for the function.
    pub streams: Vec<String>,
    /// The sentences of the streams not shipped, or not known to be. Empty: none.
    pub problems: Vec<String>,
}
