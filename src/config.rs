//! The estate identification (`estate.toml`, docs/design.md §4): which region, VPC, subnet tiers and
//! resources are the spec's components. It owns reading the file: the document is checked
//! through `input::toml` (the loader the three TOML files share, in the policies' wording), so a
//! bad file gets every unknown key and wrongly typed value at once, each at file:line:column; once
//! it checks clean, serde builds the value, so the defaults are exactly the model's. The keys and
//! their defaults are `model::EstateConfig`'s; it must not reach the network nor judge the estate.

use std::path::Path;

use crate::diag::Diagnostics;
use crate::input::toml::{self, File, Style, Table};
use crate::model::EstateConfig;

/// What the value of a key must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// A string.
    Text,
    /// An array of strings.
    List,
    /// An array of `Name=Value` strings (metric dimensions).
    Pairs,
    /// An array of the monitoring plane's part names (`not_used`).
    Providers,
    /// An `http://` or `https://` URL with a host.
    Url,
    /// A Loki tenant id (`model::check_tenant`).
    Tenant,
    /// A LogQL stream selector that names its streams (`model::check_selector`); two of them in
    /// one table must tell their sources apart (`model::check_selector_pair`).
    Selector,
    /// A table with these keys.
    Sub(&'static [(&'static str, Want)]),
}

use Want::{List, Pairs, Providers, Selector, Sub, Tenant, Text, Url};

/// The plain keys of the top level.
const TOP: &[(&str, Want)] = &[("region", Text)];

/// The tables of `estate.toml` and their keys: the fields of `model::EstateConfig` and its parts
/// (a unit test holds the two together through the model's JSON Schema).
const SECTIONS: &[(&str, &[(&str, Want)])] = &[
    ("estate", &[("tag", Text), ("vpc", Text), ("vpc_tag", Text)]),
    (
        "tiers",
        &[
            ("tag_key", Text),
            ("public", List),
            ("compute", List),
            ("database", List),
        ],
    ),
    (
        "components",
        &[
            ("rabbitmq", Text),
            ("webhook_function", Text),
            ("ecs_cluster", Text),
            ("ecs_service", Text),
            ("queue_metric", Text),
            ("queue_dimensions", Pairs),
        ],
    ),
    ("pagerduty", &[("endpoint_prefix", Text)]),
    (
        "monitoring",
        &[
            ("not_used", Providers),
            ("pagerduty", Sub(&[("api", Url)])),
            ("prometheus", Sub(&[("url", Url)])),
            ("alertmanager", Sub(&[("url", Url)])),
            ("grafana", Sub(&[("url", Url)])),
            ("zabbix", Sub(&[("url", Url), ("host", Text)])),
            (
                "loki",
                Sub(&[
                    ("url", Url),
                    ("tenant", Tenant),
                    ("ecs_streams", Selector),
                    ("webhook_streams", Selector),
                ]),
            ),
        ],
    ),
    (
        "cloudflare",
        &[
            ("zone", Text),
            ("webhook_host", Text),
            ("webhook_path", Text),
        ],
    ),
];

impl EstateConfig {
    /// Parses `estate.toml` text, reporting every problem found; `origin` names the file in
    /// errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Diagnostics> {
        let (mut file, doc) = toml::parse(text, origin, Style::Found)?;
        check(&mut file, doc.get_ref());
        if !file.diags.is_empty() {
            return Err(file.finish());
        }
        Ok(file.build(doc)?)
    }

    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        let text = crate::input::read_text(path, "estate config", crate::input::MAX_CONFIG_BYTES)?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// Records every unknown key and wrongly typed value of the document, at every level.
fn check(file: &mut File<'_>, doc: &Table<'_>) {
    let top: Vec<&str> = TOP
        .iter()
        .map(|(k, _)| *k)
        .chain(SECTIONS.iter().map(|(k, _)| *k))
        .collect();
    file.check_keys(doc, &top, |k| format!("unknown top-level key `{k}`"));
    check_values(file, doc, TOP);
    for (name, keys) in SECTIONS {
        let Some(table) = doc.get(*name).and_then(|v| file.table(name, v)) else {
            continue;
        };
        check_table(file, table, name, keys);
    }
}

/// The keys and values of one table, `[name]`, and of its own tables.
fn check_table(file: &mut File<'_>, table: &Table<'_>, name: &str, keys: &[(&str, Want)]) {
    let allowed: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    file.check_keys(table, &allowed, |k| {
        format!("unknown key `{k}` in `[{name}]`")
    });
    check_values(file, table, keys);
    for (key, want) in keys {
        if let (Sub(sub), Some(v)) = (want, table.get(*key)) {
            if let Some(t) = file.table(key, v) {
                check_table(file, t, &format!("{name}.{key}"), sub);
            }
        }
    }
}

/// Records every value of `keys` in `table` that is not what its key wants.
fn check_values(file: &mut File<'_>, table: &Table<'_>, keys: &[(&str, Want)]) {
    // The selectors that read well, to be told apart from each other.
    let mut selectors = Vec::new();
    for (key, want) in keys {
        let Some(v) = table.get(*key) else {
            continue;
        };
        match want {
            Text => {
                file.string(key, v);
            }
            List => {
                file.strings(key, v);
            }
            Pairs => {
                for (item, span) in file.strings(key, v).unwrap_or_default() {
                    if item.split_once('=').is_none_or(|(name, _)| name.is_empty()) {
                        file.error(span, format!("`{key}`: `{item}` is not `Name=Value`"));
                    }
                }
            }
            Providers => {
                // The parts as `not_used` names them: the model's own names, in its order.
                let names = crate::model::MonitoringProvider::ALL.map(|p| p.as_str());
                for (item, span) in file.strings(key, v).unwrap_or_default() {
                    if names.contains(&item.as_str()) {
                        continue;
                    }
                    let mut d = file.at(
                        span,
                        format!("`{key}`: `{item}` is not a part of the monitoring plane"),
                    );
                    if let Some(s) = crate::text::suggest(&item, names.iter().copied()) {
                        d = d.with_note(format!("help: did you mean `{s}`?"));
                    }
                    file.push(d.with_note(format!("allowed: {}", names.join(", "))));
                }
            }
            Url => {
                let Some(url) = file.string(key, v) else {
                    continue;
                };
                let host = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"))
                    .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
                if host.is_none_or(str::is_empty) {
                    file.error(
                        v.span(),
                        format!("`{key}`: `{url}` is not an http:// or https:// URL"),
                    );
                }
            }
            Tenant => {
                if let Some(t) = file.string(key, v) {
                    if let Err(why) = crate::model::check_tenant(&t) {
                        file.error(v.span(), format!("`{key}`: `{t}`: {why}"));
                    }
                }
            }
            Selector => {
                let Some(sel) = file.string(key, v) else {
                    continue;
                };
                if let Err(why) = crate::model::check_selector(&sel) {
                    let msg = format!(
                        "`{key}`: `{sel}` is not a stream selector this audit can use: {why}"
                    );
                    file.error(v.span(), msg);
                } else {
                    selectors.push((sel, v.span()));
                }
            }
            // A table: its keys are checked by `check_table`.
            Sub(_) => {}
        }
    }
    if let [(a, _), (b, span)] = selectors.as_slice() {
        if let Err(why) = crate::model::check_selector_pair(a, b) {
            file.error(span.clone(), why);
        }
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
    fn the_example_and_an_empty_file_read_as_serde_reads_them() {
        for text in [EXAMPLE, "", "# nothing\n"] {
            let serde: EstateConfig = ::toml::from_str(text).unwrap();
            assert_eq!(EstateConfig::parse(text, "estate.toml").unwrap(), serde);
        }
        assert_eq!(
            EstateConfig::parse("", "estate.toml").unwrap(),
            EstateConfig::default()
        );
        let full = "region = \"r\"\n[estate]\ntag = \"a=b\"\nvpc = \"v\"\nvpc_tag = \"N=v\"\n\
                    [tiers]\ntag_key = \"T\"\npublic = [\"s1\"]\ncompute = []\ndatabase = [\"s2\", \"s3\"]\n\
                    [components]\nrabbitmq = \"i-1\"\nwebhook_function = \"w\"\necs_cluster = \"c\"\n\
                    ecs_service = \"s\"\nqueue_metric = \"N:M\"\nqueue_dimensions = [\"Queue=q\"]\n\
                    [pagerduty]\nendpoint_prefix = \"https://x/\"\n\
                    [cloudflare]\nzone = \"z\"\nwebhook_host = \"h\"\nwebhook_path = \"/p\"\n";
        let c = EstateConfig::parse(full, "estate.toml").unwrap();
        assert_eq!(c, ::toml::from_str::<EstateConfig>(full).unwrap());
        assert_eq!(c.tiers.database, ["s2", "s3"]);
        assert_eq!(c.components.queue_dimensions, ["Queue=q"]);
        assert_eq!(c.cloudflare.webhook_path.as_deref(), Some("/p"));
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

    /// Location, message and notes of every problem of a rejected `text`.
    fn problems(text: &str) -> Vec<(String, String, Vec<String>)> {
        let Err(err) = EstateConfig::parse(text, "estate.toml") else {
            panic!("accepted: {text}");
        };
        err.0
            .into_iter()
            .map(|d| (d.location(), d.message, d.notes))
            .collect()
    }

    #[test]
    fn the_monitoring_section_is_checked_down_to_its_own_tables() {
        let got = problems(
            "[monitoring]\nnot_used = [\"zabix\", \"loki\"]\n[monitoring.pagerduty]\n\
             api = \"api.pagerduty.com\"\ntoken = \"x\"\n",
        );
        let got: Vec<(&str, &str, &[String])> = got
            .iter()
            .map(|(l, m, n)| (l.as_str(), m.as_str(), n.as_slice()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            (got[0].0, got[0].1),
            (
                "estate.toml:2:13",
                "`not_used`: `zabix` is not a part of the monitoring plane"
            )
        );
        assert_eq!(got[0].2[0], "help: did you mean `zabbix`?");
        assert_eq!(
            (got[1].0, got[1].1),
            (
                "estate.toml:4:7",
                "`api`: `api.pagerduty.com` is not an http:// or https:// URL"
            )
        );
        assert_eq!(
            (got[2].0, got[2].1),
            (
                "estate.toml:5:1",
                "unknown key `token` in `[monitoring.pagerduty]`"
            )
        );

        let c =
            EstateConfig::parse("[monitoring]\nnot_used = [\"zabbix\"]\n", "estate.toml").unwrap();
        let m = c.monitoring.as_ref().expect("the section");
        assert_eq!(m.pagerduty.api, "https://api.pagerduty.com");
        assert!(c.audits_pagerduty());
        let c = EstateConfig::parse("[monitoring]\nnot_used = [\"pagerduty\"]\n", "e").unwrap();
        assert!(!c.audits_pagerduty());
        assert!(!EstateConfig::parse("", "e").unwrap().audits_pagerduty());
    }

    #[test]
    fn zabbix_takes_its_api_url_and_optionally_the_host_name() {
        let c = EstateConfig::parse(
            "[monitoring]\n[monitoring.zabbix]\nurl = \"https://z.internal/api_jsonrpc.php\"\n\
             host = \"rabbitmq-1\"\n",
            "estate.toml",
        )
        .unwrap();
        let z = c.monitoring.unwrap().zabbix.unwrap();
        assert_eq!(z.url, "https://z.internal/api_jsonrpc.php");
        assert_eq!(z.host.as_deref(), Some("rabbitmq-1"));
        let got = problems("[monitoring.zabbix]\nurl = \"z.internal\"\nhost = 1\ntoken = \"x\"\n");
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|(l, m, _)| (l.as_str(), m.as_str()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "estate.toml:2:7");
        assert!(
            got[0].1.contains("not an http:// or https:// URL"),
            "{got:?}"
        );
        assert_eq!(got[1].0, "estate.toml:3:8");
        assert_eq!(
            got[2],
            (
                "estate.toml:4:1",
                "unknown key `token` in `[monitoring.zabbix]`"
            )
        );
        let err = EstateConfig::parse("[monitoring.zabbix]\nhost = \"h\"\n", "estate.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("estate.toml") && err.contains("url"), "{err}");
    }

    #[test]
    fn lokis_selectors_and_tenant_are_checked_where_they_are_written() {
        let ok = "[monitoring.loki]\nurl = \"http://loki:3100\"\ntenant = \"estate\"\n\
                  ecs_streams = '{ecs_cluster=\"estate\", ecs_service=\"worker\"}'\n\
                  webhook_streams = '{function_name=\"webhook\"}'\n";
        let c = EstateConfig::parse(ok, "estate.toml").unwrap();
        let loki = c.monitoring.unwrap().loki.unwrap();
        assert_eq!(
            loki.webhook_streams.as_deref(),
            Some(r#"{function_name="webhook"}"#)
        );
        let got = problems(
            "[monitoring.loki]\ntenant = \"a b\"\necs_streams = '{job=~\".*\"}'\n\
             webhook_streams = 'function_name=\"webhook\"'\n",
        );
        let at: Vec<(&str, &str)> = got
            .iter()
            .map(|(l, m, _)| (l.as_str(), m.as_str()))
            .collect();
        assert_eq!(at.len(), 3, "{at:?}");
        assert_eq!(at[0].0, "estate.toml:2:10");
        assert!(at[0].1.contains("a space is not allowed"), "{}", at[0].1);
        assert_eq!(at[1].0, "estate.toml:3:15");
        assert!(at[1].1.contains("it matches every stream"), "{}", at[1].1);
        assert_eq!(at[2].0, "estate.toml:4:19");
        assert!(at[2].1.contains("in braces"), "{}", at[2].1);
        let got = problems(
            "[monitoring.loki]\necs_streams = '{ecs_service=\"worker\"}'\n\
             webhook_streams = '{ecs_service=\"worker\", job=\"x\"}'\n",
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "estate.toml:3:19", "at the second of the two");
        assert!(
            got[0].1.starts_with("`ecs_streams` selects every stream"),
            "{}",
            got[0].1
        );
    }

    #[test]
    fn three_problems_at_three_levels_in_file_order() {
        let got =
            problems("region = 1\n[tiers]\npublic = \"subnet-1\"\n[cloudflare]\nzone = [\"z\"]\n");
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|(l, m, _)| (l.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "estate.toml:1:10",
                    "`region` must be a string, found integer"
                ),
                (
                    "estate.toml:3:10",
                    "`public` must be an array of strings, found string"
                ),
                ("estate.toml:5:8", "`zone` must be a string, found array"),
            ]
        );
    }

    #[test]
    fn queue_dimensions_are_name_value_pairs() {
        let got =
            problems("[components]\nqueue_dimensions = [\"Queue=q\", \"requests\", \"=x\"]\n");
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|(l, m, _)| (l.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "estate.toml:2:32",
                    "`queue_dimensions`: `requests` is not `Name=Value`"
                ),
                (
                    "estate.toml:2:44",
                    "`queue_dimensions`: `=x` is not `Name=Value`"
                ),
            ]
        );
    }

    #[test]
    fn misspelt_keys_get_suggestions_at_every_level() {
        let got =
            problems("regoin = \"r\"\ntiers = 3\n[componets]\n[components]\necs_clustr = \"c\"\n");
        let heads: Vec<(&str, &str, Option<&str>)> = got
            .iter()
            .map(|(l, m, n)| (l.as_str(), m.as_str(), n.first().map(String::as_str)))
            .collect();
        assert_eq!(
            heads,
            [
                (
                    "estate.toml:1:1",
                    "unknown top-level key `regoin`",
                    Some("help: did you mean `region`?")
                ),
                (
                    "estate.toml:2:9",
                    "`tiers` must be a table, found integer",
                    None
                ),
                (
                    "estate.toml:3:2",
                    "unknown top-level key `componets`",
                    Some("help: did you mean `components`?")
                ),
                (
                    "estate.toml:5:1",
                    "unknown key `ecs_clustr` in `[components]`",
                    Some("help: did you mean `ecs_cluster`?")
                ),
            ]
        );
        assert!(
            got[3].2[1].starts_with("allowed keys: rabbitmq, "),
            "{got:?}"
        );
    }

    #[test]
    fn the_keys_are_the_models_fields() {
        let schema = schemars::schema_for!(EstateConfig).to_value();
        let props = |node: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
            let node = match node.get("$ref").and_then(|r| r.as_str()) {
                Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
                None => node,
            };
            let mut out: Vec<(String, serde_json::Value)> = node["properties"]
                .as_object()
                .expect("an object")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        };
        fn want_of(
            props: &dyn Fn(&serde_json::Value) -> Vec<(String, serde_json::Value)>,
            v: &serde_json::Value,
        ) -> Vec<(String, Want)> {
            props(v)
                .iter()
                .map(|(k, v)| {
                    let w = match v.get("type") {
                        Some(t) if t == "array" => List,
                        Some(t) if t == "string" || *t == serde_json::json!(["string", "null"]) => {
                            Text
                        }
                        // A table of its own: compared by its keys' names below.
                        _ if v.get("$ref").is_some() || v.pointer("/anyOf/0/$ref").is_some() => {
                            Sub(&[])
                        }
                        other => panic!("a key of another type: {other:?} in {v}"),
                    };
                    (k.clone(), w)
                })
                .collect()
        }
        let sorted = |keys: &[(&str, Want)]| {
            // `Name=Value` pairs and part names are arrays of strings to the schema, a URL a
            // string; a table's own keys are compared on their own.
            let mut k: Vec<(String, Want)> = keys
                .iter()
                .map(|(k, w)| {
                    let w = match w {
                        Pairs | Providers => List,
                        Url | Tenant | Selector => Text,
                        Sub(_) => Sub(&[]),
                        w => *w,
                    };
                    (k.to_string(), w)
                })
                .collect();
            k.sort_by(|a, b| a.0.cmp(&b.0));
            k
        };
        let mut top: Vec<(String, Want)> = Vec::new();
        for (name, node) in props(&schema) {
            match SECTIONS.iter().find(|(s, _)| *s == name) {
                Some((_, keys)) => {
                    let node = match node.get("anyOf").and_then(|a| a.get(0)) {
                        // `Option<Section>`: its first branch is the section.
                        Some(first) => first.clone(),
                        None => node.clone(),
                    };
                    assert_eq!(want_of(&props, &node), sorted(keys), "[{name}]");
                    for (key, want) in *keys {
                        if let Sub(sub) = want {
                            let inner = props(&node)
                                .into_iter()
                                .find(|(k, _)| k == key)
                                .expect("the table is a field")
                                .1;
                            // `Option<Table>`: its first branch is the table.
                            let inner = inner.pointer("/anyOf/0").cloned().unwrap_or(inner);
                            assert_eq!(want_of(&props, &inner), sorted(sub), "[{name}.{key}]");
                        }
                    }
                }
                None => top.push((
                    name.clone(),
                    match node.get("type") {
                        Some(t) if t == "string" || *t == serde_json::json!(["string", "null"]) => {
                            Text
                        }
                        other => panic!("a top-level key of another type: {other:?}"),
                    },
                )),
            }
        }
        assert_eq!(top, sorted(TOP));
        assert_eq!(props(&schema).len(), TOP.len() + SECTIONS.len());
    }
}
