//! The attributes of the Loki kind (its HTTP API, read-only): for each of the spec's two log
//! sources (the ECS processors and the webhook function), the LogQL stream selector `estate.toml`
//! names and how many lines Loki holds from it in the hour before the collection; the fact
//! `link` derives from it on the components; and what a stream selector must be to say whose
//! streams they are ([`check_selector`], [`check_selector_pair`]), which `config`, the collector
//! and `link` share. Data and pure checks only (docs/design.md §3): no request, no judgement.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::LabelMatcher;

/// One Loki (`GET /loki/api/v1/query`, one instant query per source).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LokiServer {
    pub url: Option<String>,
    /// The tenant queried (`X-Scope-OrgID`); `null`: none sent.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The end of the hour counted (the collection's clock).
    #[serde(default)]
    pub window_end: Option<chrono::DateTime<chrono::Utc>>,
    /// The request processors' logs (`ecs_streams`).
    #[serde(default)]
    pub ecs: LokiSource,
    /// The webhook function's logs (`webhook_streams`).
    #[serde(default)]
    pub webhook: LokiSource,
}

/// One source's streams, as queried.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LokiSource {
    /// The stream selector queried; `null`: none was configured, so nothing was asked.
    #[serde(default)]
    pub selector: Option<String>,
    /// Log lines of those streams in the hour before `window_end` (0: none, a value). `null`:
    /// not read.
    #[serde(default)]
    pub lines_last_hour: Option<u64>,
}

/// *Derived* by `link` on the ECS processor service and on the webhook function when Loki is
/// audited: whether Loki holds their logs from the last hour.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ComponentLoki {
    /// The `[monitoring.loki]` key naming this component's streams: `ecs_streams` or
    /// `webhook_streams`.
    pub key: String,
    /// The selector of its streams; `null`: not configured.
    #[serde(default)]
    pub selector: Option<String>,
    /// Lines Loki holds from them in the last hour; `null`: unknown (see `state`).
    #[serde(default)]
    pub lines_last_hour: Option<u64>,
    /// In words: what Loki answered, or why it is unknown.
    pub state: String,
}

/// Values a regular expression that matches any value would match, and no real label value is.
const PROBES: [&str; 3] = ["estate-audit/probe 0", "Z", "\u{1}~"];

/// The matchers of a LogQL stream selector, refusing one that does not say whose streams it
/// means: `{name="value", …}` with `=`, `!=`, `=~` or `!~` and each value in double quotes, at
/// least one matcher that narrows the streams down (`=` a non-empty value, or `=~` a regular
/// expression that neither matches the empty value nor any value). A selector of only negative
/// or match-anything matchers (`{job=~".+"}`, `{job!="x"}`) would make every stream of the
/// tenant count as this source's, so a silent source would read as shipping. `Err` says why, for
/// people.
pub fn check_selector(text: &str) -> Result<Vec<LabelMatcher>, String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or("a stream selector is in braces: `{name=\"value\"}`")?;
    let parts = split_matchers(inner)?;
    if parts.iter().all(|p| p.trim().is_empty()) {
        return Err("it has no matcher: `{name=\"value\"}`".into());
    }
    let mut matchers = Vec::new();
    for part in parts {
        let part = part.trim();
        let m = LabelMatcher::parse(part);
        let quoted = part
            .split_once(&['=', '~'][..])
            .map(|(_, v)| v.trim_start_matches(['=', '~']).trim())
            .is_some_and(|v| v.len() >= 2 && v.starts_with('"') && v.ends_with('"'));
        if m.op == "?" || !quoted {
            return Err(format!(
                "`{part}` is not a matcher `name=\"value\"` (operators =, !=, =~, !~; the value in \
                 double quotes)"
            ));
        }
        matchers.push(m);
    }
    let mut narrowing = false;
    for m in &matchers {
        match m.op.as_str() {
            "=" if !m.value.is_empty() => narrowing = true,
            "=~" | "!~" => {
                let re = regex::Regex::new(&format!("^(?:{})$", m.value)).map_err(|_| {
                    format!("`{}`: `{}` is not a regular expression", m.name, m.value)
                })?;
                if m.op == "=~" && !re.is_match("") && !PROBES.iter().any(|p| re.is_match(p)) {
                    narrowing = true;
                }
            }
            _ => {}
        }
    }
    if !narrowing {
        return Err(
            "it matches every stream: give at least one matcher that names the streams (`=` a \
             value, or `=~` a regular expression that does not match any value), or every \
             stream of the tenant would count as this source's"
                .into(),
        );
    }
    Ok(matchers)
}

/// The matchers of `inner` (a selector without its braces), split at the commas outside quotes.
fn split_matchers(inner: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err("a quoted value is not closed".into());
    }
    parts.push(&inner[start..]);
    Ok(parts)
}

/// Whether the two sources' selectors can be told apart: refused when one's matchers are all
/// among the other's (the same selector, or a broader one), since every stream of the narrower
/// would then also count for the broader, and one source's lines would stand in for the other's.
/// `Err` says which, for people.
pub fn check_selector_pair(ecs: &str, webhook: &str) -> Result<(), String> {
    let (Ok(a), Ok(b)) = (check_selector(ecs), check_selector(webhook)) else {
        return Ok(());
    };
    let within = |x: &[LabelMatcher], y: &[LabelMatcher]| x.iter().all(|m| y.contains(m));
    if within(&a, &b) && within(&b, &a) {
        return Err(format!(
            "`ecs_streams` and `webhook_streams` select the same streams ({}): each source's \
             lines would count as the other's",
            ecs.trim()
        ));
    }
    for (broad, key, other) in [(&a, "ecs_streams", &b), (&b, "webhook_streams", &a)] {
        if within(broad, other) {
            let of = if key == "ecs_streams" {
                "webhook_streams"
            } else {
                "ecs_streams"
            };
            return Err(format!(
                "`{key}` selects every stream `{of}` selects (all its matchers are among \
                 `{of}`'s): the other source's lines would count as its own"
            ));
        }
    }
    Ok(())
}

/// Whether a tenant id can be sent as `X-Scope-OrgID` and names one tenant: 1 to 150 of ASCII
/// letters, digits and `!-_.*'()` (Loki's own set), not `.` or `..`. A `|` would query several
/// tenants at once, whose streams would count as the estate's.
pub fn check_tenant(t: &str) -> Result<(), String> {
    if t.is_empty() || t.len() > 150 {
        return Err("a tenant id has 1 to 150 characters".into());
    }
    if t == "." || t == ".." {
        return Err("`.` and `..` are not tenant ids".into());
    }
    if t.contains('|') {
        return Err(
            "`|` would query several tenants at once, and another tenant's streams would count \
             as the estate's: name the estate's one tenant"
                .into(),
        );
    }
    match t
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!-_.*'()".contains(*c)))
    {
        Some(c) => Err(format!(
            "{} is not allowed in a tenant id (letters, digits and !-_.*'() are)",
            if c.is_whitespace() {
                "a space".to_string()
            } else {
                format!("{c:?}")
            }
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_must_name_its_streams() {
        for ok in [
            r#"{ecs_cluster="estate", ecs_service="worker"}"#,
            r#"{function_name="webhook"}"#,
            r#"{job=~"ecs/estate|lambda/webhook"}"#,
            r#"{job="ecs/estate", level!="debug"}"#,
            r#"{ name = "a,b\"c" }"#,
        ] {
            assert!(check_selector(ok).is_ok(), "{ok}: {:?}", check_selector(ok));
        }
        for (bad, says) in [
            (r#"job="x""#, "in braces"),
            ("{}", "no matcher"),
            (r#"{ecs_service=worker}"#, "double quotes"),
            (r#"{job=~".*"}"#, "matches every stream"),
            (r#"{job=~".+"}"#, "matches every stream"),
            (r#"{job!="x"}"#, "matches every stream"),
            (r#"{job!~"x", app=""}"#, "matches every stream"),
            (r#"{job=~"(x"}"#, "not a regular expression"),
            (r#"{job="x}"#, "not closed"),
        ] {
            let err = check_selector(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn two_selectors_must_tell_the_sources_apart() {
        let ecs = r#"{ecs_cluster="estate", ecs_service="worker"}"#;
        assert!(check_selector_pair(ecs, r#"{function_name="webhook"}"#).is_ok());
        let same = check_selector_pair(ecs, r#"{ecs_service="worker",ecs_cluster="estate"}"#);
        assert!(same.unwrap_err().contains("the same streams"));
        let broad = check_selector_pair(ecs, r#"{ecs_cluster="estate"}"#).unwrap_err();
        assert!(
            broad.starts_with("`webhook_streams` selects every stream"),
            "{broad}"
        );
    }

    #[test]
    fn a_tenant_is_one_tenant_id() {
        assert!(check_tenant("estate-prod").is_ok());
        assert!(check_tenant("a|b").unwrap_err().contains("several tenants"));
        assert!(check_tenant("a b").unwrap_err().contains("a space"));
        assert!(check_tenant("..").is_err());
        assert!(check_tenant(&"x".repeat(151)).is_err());
    }
}
