//! The estate identification (`estate.toml`, DESIGN.md §4): which region, VPC, subnet tiers and
//! resources are the spec's components. It owns the keys, their defaults and their parsing with
//! file:line:column errors; it must not reach the network nor judge the estate.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;

/// The whole `estate.toml`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EstateConfig {
    /// The one region the spec allows.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub estate: EstateSelector,
    #[serde(default)]
    pub tiers: TierConfig,
    #[serde(default)]
    pub components: Components,
    #[serde(default)]
    pub pagerduty: PagerDuty,
    #[serde(default)]
    pub cloudflare: CloudflareConfig,
}

/// How estate resources are recognised.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EstateSelector {
    /// `key=value` tag marking estate resources in any region.
    #[serde(default)]
    pub tag: Option<String>,
    /// The estate VPC's id.
    #[serde(default)]
    pub vpc: Option<String>,
    /// Or a `key=value` tag on the VPC.
    #[serde(default)]
    pub vpc_tag: Option<String>,
}

/// How subnets map to tiers: by tag (default key `Tier`) or explicit id lists.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    #[serde(default = "default_tier_tag")]
    pub tag_key: String,
    #[serde(default)]
    pub public: Vec<String>,
    #[serde(default)]
    pub compute: Vec<String>,
    #[serde(default)]
    pub database: Vec<String>,
}

fn default_tier_tag() -> String {
    "Tier".to_string()
}

impl Default for TierConfig {
    fn default() -> Self {
        TierConfig {
            tag_key: default_tier_tag(),
            public: Vec::new(),
            compute: Vec::new(),
            database: Vec::new(),
        }
    }
}

/// Which resources are the spec's named components.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Components {
    /// Instance id or `key=value` tag of the RabbitMQ host.
    #[serde(default = "default_rabbitmq")]
    pub rabbitmq: String,
    /// Function name of the webhook.
    #[serde(default = "default_webhook")]
    pub webhook_function: String,
    #[serde(default = "default_cluster")]
    pub ecs_cluster: String,
    #[serde(default = "default_service")]
    pub ecs_service: String,
    /// `Namespace:MetricName` of the queue depth metric used for back-pressure scaling.
    #[serde(default = "default_queue_metric")]
    pub queue_metric: String,
}

fn default_rabbitmq() -> String {
    "role=rabbitmq".into()
}
fn default_webhook() -> String {
    "webhook".into()
}
fn default_cluster() -> String {
    "estate".into()
}
fn default_service() -> String {
    "worker".into()
}
fn default_queue_metric() -> String {
    "Custom/RabbitMQ:MessagesReady".into()
}

impl Default for Components {
    fn default() -> Self {
        Components {
            rabbitmq: default_rabbitmq(),
            webhook_function: default_webhook(),
            ecs_cluster: default_cluster(),
            ecs_service: default_service(),
            queue_metric: default_queue_metric(),
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerDuty {
    #[serde(default = "default_pd_prefix")]
    pub endpoint_prefix: String,
}

fn default_pd_prefix() -> String {
    "https://events.pagerduty.com/".into()
}

impl Default for PagerDuty {
    fn default() -> Self {
        PagerDuty {
            endpoint_prefix: default_pd_prefix(),
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudflareConfig {
    /// Zone name, e.g. `example.com`.
    #[serde(default)]
    pub zone: Option<String>,
    /// Host name Cloudflare serves the webhook on.
    #[serde(default)]
    pub webhook_host: Option<String>,
    /// Path of the webhook (default `/`), for the rate-limit coverage check.
    #[serde(default)]
    pub webhook_path: Option<String>,
}

impl EstateConfig {
    /// Parses `estate.toml` text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Diagnostic> {
        toml::from_str(text).map_err(|e| Diagnostic::from_toml(origin, text, &e))
    }

    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = crate::input::read_text(path, "estate config", crate::input::MAX_CONFIG_BYTES)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// `key=value` split of a tag selector.
    pub fn split_tag(selector: &str) -> Option<(&str, &str)> {
        selector.split_once('=')
    }

    /// Explicit tier ids, by subnet id.
    pub fn explicit_tiers(&self) -> BTreeMap<&str, &'static str> {
        let mut m = BTreeMap::new();
        for id in &self.tiers.public {
            m.insert(id.as_str(), "public");
        }
        for id in &self.tiers.compute {
            m.insert(id.as_str(), "compute");
        }
        for id in &self.tiers.database {
            m.insert(id.as_str(), "database");
        }
        m
    }
}

/// The commented example `estate-audit init` writes.
pub const EXAMPLE: &str = include_str!("../estate.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_and_empty_file_has_defaults() {
        let c = EstateConfig::parse(EXAMPLE, "estate.example.toml").unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        let d = EstateConfig::parse("", "estate.toml").unwrap();
        assert_eq!(d.tiers.tag_key, "Tier");
        assert_eq!(d.pagerduty.endpoint_prefix, "https://events.pagerduty.com/");
    }

    #[test]
    fn unknown_key_points_at_line_and_column() {
        let err = EstateConfig::parse(
            "region = \"eu-west-1\"\n[tiers]\ntag_kye = \"x\"\n",
            "estate.toml",
        )
        .unwrap_err();
        let text = err.render_plain();
        assert!(text.contains("estate.toml:3:1"), "{text}");
        assert!(text.contains("tag_kye"), "{text}");
    }
}
