//! The estate identification (`estate.toml`, docs/design.md §4): which region, VPC, subnet tiers and
//! resources are the spec's components. It owns the keys, their defaults and their parsing with
//! file:line:column errors; it must not reach the network nor judge the estate.

use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::model::EstateConfig;

impl EstateConfig {
    /// Parses `estate.toml` text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Diagnostic> {
        toml::from_str(text)
            .map_err(|e| crate::input::toml::diagnostic(origin, &Arc::from(text), &e))
    }

    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = crate::input::read_text(path, "estate config", crate::input::MAX_CONFIG_BYTES)?;
        Self::parse(&text, &path.display().to_string())
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
