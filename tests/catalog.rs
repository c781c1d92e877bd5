//! Meta-tests over the built-in rule pack and the generated documents: every catalog id of
//! docs/design.md §9 (and the rules issues added since) is present exactly once with complete documentation, the README's rule table and the
//! published inventory schema are not stale, the embedded demo is what `demo/` holds, and
//! docs/evasions.md names every evasion case, with at least two for each critical and high AWS
//! rule.
//! Regenerate stale files with `UPDATE_GENERATED=1 cargo test --test catalog`.

use std::path::Path;

use estate_audit::finding::{Gate, Severity};
use estate_audit::policy::PolicySet;
use estate_audit::report::rules::markdown_table;

/// docs/design.md §9, in catalog order: the ids are part of the contract.
const CATALOG: &[(&str, Severity, Gate)] = &[
    ("aws-region-single", Severity::Medium, Gate::Launch),
    ("aws-vpc-custom", Severity::High, Gate::Launch),
    ("aws-vpc-subnet-tiers", Severity::High, Gate::Launch),
    (
        "aws-subnet-private-no-igw-route",
        Severity::Critical,
        Gate::Launch,
    ),
    (
        "aws-subnet-private-no-public-ip",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-subnet-private-no-external-route",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-subnet-private-egress-nat",
        Severity::Medium,
        Gate::Launch,
    ),
    (
        "aws-nat-gateway-public-subnet",
        Severity::High,
        Gate::Launch,
    ),
    ("aws-public-subnet-edge-only", Severity::High, Gate::Launch),
    ("aws-lambda-webhook-url", Severity::High, Gate::Launch),
    ("aws-lambda-in-vpc", Severity::High, Gate::Launch),
    (
        "aws-lambda-url-cloudflare-only",
        Severity::High,
        Gate::Launch,
    ),
    ("aws-ec2-rabbitmq-private", Severity::Critical, Gate::Launch),
    (
        "aws-ec2-rabbitmq-ingress-internal",
        Severity::Critical,
        Gate::Launch,
    ),
    ("aws-ec2-rabbitmq-tls", Severity::Medium, Gate::Launch),
    ("aws-ec2-ebs-encrypted", Severity::High, Gate::Launch),
    ("aws-ec2-imdsv2", Severity::Medium, Gate::Launch),
    ("aws-ecs-service-private", Severity::Critical, Gate::Launch),
    ("aws-ecs-autoscaling", Severity::High, Gate::Launch),
    (
        "aws-ecs-scale-queue-backpressure",
        Severity::Medium,
        Gate::Launch,
    ),
    ("aws-ecs-scale-cpu", Severity::Medium, Gate::Launch),
    ("aws-rds-not-public", Severity::Critical, Gate::Launch),
    ("aws-rds-database-subnets", Severity::High, Gate::Launch),
    ("aws-rds-encrypted", Severity::High, Gate::Launch),
    ("aws-rds-tls-required", Severity::Medium, Gate::Launch),
    ("aws-rds-ingress-compute-only", Severity::High, Gate::Launch),
    ("aws-rds-engine-mysql", Severity::Low, Gate::Launch),
    (
        "aws-elasticache-database-subnets",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-elasticache-at-rest-encrypted",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-elasticache-in-transit-encrypted",
        Severity::High,
        Gate::Launch,
    ),
    ("aws-elasticache-auth", Severity::Medium, Gate::Launch),
    (
        "aws-elasticache-ingress-compute-only",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-data-tier-unreachable",
        Severity::Critical,
        Gate::Launch,
    ),
    ("cloudflare-dns-proxied", Severity::Critical, Gate::Launch),
    ("cloudflare-ssl-strict", Severity::High, Gate::Launch),
    ("cloudflare-min-tls-1-2", Severity::Medium, Gate::Launch),
    ("cloudflare-always-https", Severity::Medium, Gate::Launch),
    ("cloudflare-waf-managed", Severity::High, Gate::Launch),
    (
        "cloudflare-rate-limit-webhook",
        Severity::High,
        Gate::Launch,
    ),
    (
        "cloudflare-waf-source-allowlist",
        Severity::High,
        Gate::Launch,
    ),
    (
        "aws-alarms-cover-components",
        Severity::Medium,
        Gate::Operate,
    ),
    ("aws-alarm-actions-enabled", Severity::Medium, Gate::Operate),
    ("aws-alarms-route-pagerduty", Severity::High, Gate::Operate),
    (
        "pagerduty-integration-resolves",
        Severity::High,
        Gate::Operate,
    ),
    ("pagerduty-service-active", Severity::High, Gate::Operate),
    (
        "pagerduty-escalation-targets",
        Severity::High,
        Gate::Operate,
    ),
    ("pagerduty-on-call-now", Severity::High, Gate::Operate),
    (
        "rabbitmq-prometheus-scraped",
        Severity::Medium,
        Gate::Operate,
    ),
    (
        "rabbitmq-prometheus-alert-rules",
        Severity::Medium,
        Gate::Operate,
    ),
    (
        "rabbitmq-alerts-route-pagerduty",
        Severity::High,
        Gate::Operate,
    ),
    (
        "grafana-cloudwatch-datasource",
        Severity::Medium,
        Gate::Operate,
    ),
    (
        "grafana-dashboards-cover-components",
        Severity::Low,
        Gate::Operate,
    ),
    (
        "grafana-rabbitmq-alert-rules",
        Severity::Medium,
        Gate::Operate,
    ),
    (
        "grafana-rabbitmq-alerts-route-pagerduty",
        Severity::High,
        Gate::Operate,
    ),
    (
        "grafana-pagerduty-key-resolves",
        Severity::High,
        Gate::Operate,
    ),
    ("aws-ecs-logs-shipped", Severity::Medium, Gate::Operate),
    ("aws-lambda-logs-shipped", Severity::Medium, Gate::Operate),
    ("rabbitmq-zabbix-monitored", Severity::Medium, Gate::Operate),
    ("rabbitmq-zabbix-triggers", Severity::Medium, Gate::Operate),
    (
        "rabbitmq-zabbix-alerts-route-pagerduty",
        Severity::High,
        Gate::Operate,
    ),
    (
        "zabbix-pagerduty-key-resolves",
        Severity::High,
        Gate::Operate,
    ),
    ("loki-streams-recent", Severity::Medium, Gate::Operate),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compares a generated file with the committed one; rewrites it under UPDATE_GENERATED=1.
fn check_generated(path: &Path, want: &str) {
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have == want {
        return;
    }
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(path, want).unwrap();
        return;
    }
    panic!(
        "{} is stale: run `UPDATE_GENERATED=1 cargo test --test catalog` and commit the result",
        path.display()
    );
}

#[test]
fn every_catalog_rule_is_present_once_with_its_severity_and_gate() {
    let set = PolicySet::builtin().expect("built-in rules load");
    assert_eq!(
        set.rules().len(),
        CATALOG.len(),
        "the pack has rules outside the catalog"
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in set.rules() {
        assert!(seen.insert(r.info.id.clone()), "duplicate id {}", r.info.id);
    }
    for (id, severity, gate) in CATALOG {
        let rule = set
            .get(id)
            .unwrap_or_else(|| panic!("catalog rule {id} is missing"));
        assert_eq!(rule.info.severity, *severity, "{id}");
        assert_eq!(rule.info.gate, *gate, "{id}");
    }
}

#[test]
fn every_rule_is_documented() {
    let set = PolicySet::builtin().expect("built-in rules load");
    for r in set.rules() {
        let i = &r.info;
        for (field, value) in [
            ("title", &i.title),
            ("spec", &i.spec),
            ("risk", &i.risk),
            ("remediation", &i.remediation),
        ] {
            assert!(
                value.trim().len() >= 10,
                "{}: {field} is too thin: {value:?}",
                i.id
            );
        }
        assert!(!i.references.is_empty(), "{}: no references", i.id);
        for r in &i.references {
            assert!(
                r.starts_with("https://"),
                "{}: reference {r} is not https",
                i.id
            );
        }
        // A remediation names the concrete step: a CLI command or an API / dashboard path.
        assert!(
            [
                "aws ",
                "PATCH ",
                "PUT ",
                "Dashboard",
                "SSL/TLS",
                "Security >",
                "DNS >",
                "PagerDuty ›",
                "curl ",
                "amtool ",
                "Grafana ›",
                "Zabbix ›",
            ]
            .iter()
            .any(|k| i.remediation.contains(k)),
            "{}: remediation names no concrete step",
            i.id
        );
    }
}

#[test]
fn readme_rule_table_is_current() {
    let mut infos = PolicySet::builtin().unwrap().infos();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    let table = markdown_table(&infos);
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let begin = readme
        .find("<!-- rules:begin")
        .expect("README has the rules:begin marker");
    let begin = begin + readme[begin..].find('\n').unwrap() + 1;
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README has the rules:end marker");
    let want = format!("{}{}{}", &readme[..begin], table, &readme[end..]);
    check_generated(&path, &want);
}

#[test]
fn published_inventory_schema_is_current() {
    let schema = estate_audit::model::inventory_schema();
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    check_generated(&root().join("schema/inventory.schema.json"), &text);
}

#[test]
fn published_bundle_schema_is_current() {
    let schema = estate_audit::model::bundle_schema();
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    check_generated(&root().join("schema/inventory-bundle.schema.json"), &text);
}

#[test]
fn a_bundle_of_the_fixtures_validates_against_the_published_bundle_schema() {
    let schema: serde_json::Value =
        serde_json::to_value(estate_audit::model::bundle_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the bundle schema compiles");
    let inventories: Vec<serde_json::Value> =
        ["demo/inventory.json", "tests/fixtures/compliant.json"]
            .iter()
            .map(|f| {
                serde_json::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap()
            })
            .collect();
    let doc = serde_json::json!({"schema_version": 1, "inventories": inventories});
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!validator.is_valid(&serde_json::json!({"schema_version": 1})));
}

#[test]
fn the_demo_and_the_compliant_fixture_validate_against_the_published_schema() {
    let schema: serde_json::Value =
        serde_json::to_value(estate_audit::model::inventory_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the inventory schema compiles");
    for file in ["demo/inventory.json", "tests/fixtures/compliant.json"] {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
}

/// The live evasion cases of tests/evasions.rs: each `async fn <case>(e: &Estate, …) ->
/// Vec<Want>` with its body.
fn live_evasion_cases(src: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (at, _) in src.match_indices("\nasync fn ") {
        let rest = &src[at + "\nasync fn ".len()..];
        let Some(name_end) = rest.find('(') else {
            continue;
        };
        let Some(body_start) = rest.find('{') else {
            continue;
        };
        if !rest[..body_start].contains("-> Vec<Want>") {
            continue;
        }
        let body_end = rest[body_start..]
            .find("\n}\n")
            .map_or(rest.len(), |e| body_start + e);
        out.push((&rest[..name_end], &rest[body_start..body_end]));
    }
    out
}

#[test]
fn docs_evasions_names_every_case_and_each_high_rule_has_two() {
    let doc = std::fs::read_to_string(root().join("docs/evasions.md")).expect("docs/evasions.md");
    let live = std::fs::read_to_string(root().join("tests/evasions.rs")).unwrap();
    let cases = live_evasion_cases(&live);
    assert!(cases.len() > 40, "the live cases were not found");
    let mut missing = Vec::new();
    for (name, _) in &cases {
        if !doc.contains(&format!("`{name}`")) {
            missing.push(name.to_string());
        }
    }
    let mut offline: std::collections::HashMap<String, usize> = Default::default();
    for entry in std::fs::read_dir(root().join("tests/fixtures/rules")).unwrap() {
        let path = entry.unwrap().path();
        let rule = path.file_stem().unwrap().to_string_lossy().to_string();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            if let Some(name) = line
                .strip_prefix("name = \"evasion: ")
                .and_then(|n| n.strip_suffix('"'))
            {
                *offline.entry(rule.clone()).or_default() += 1;
                if !doc.contains(name) {
                    missing.push(format!("{rule}: {name}"));
                }
            }
        }
    }
    let cloudflare = std::fs::read_to_string(root().join("tests/cloudflare.rs")).unwrap();
    let deviations = cloudflare_deviations(&cloudflare);
    assert!(
        deviations.len() > 10,
        "the Cloudflare deviations were not found"
    );
    for (name, _) in &deviations {
        if !doc.contains(&format!("| {name} |")) {
            missing.push(format!("tests/cloudflare.rs: {name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/evasions.md does not name these cases (regenerate its tables):\n{}",
        missing.join("\n")
    );
    let set = PolicySet::builtin().expect("built-in rules load");
    let mut thin = Vec::new();
    let mut family = 0;
    for r in set.rules() {
        let i = &r.info;
        let aws =
            i.id.starts_with("aws-") && matches!(i.severity, Severity::Critical | Severity::High);
        family += usize::from(alarm_scaling_or_encryption(&i.id));
        if !aws && !alarm_scaling_or_encryption(&i.id) && !i.id.starts_with("cloudflare-") {
            continue;
        }
        let quoted = format!("\"{}\"", i.id);
        let n = cases.iter().filter(|(_, b)| b.contains(&quoted)).count()
            + deviations.iter().filter(|(_, rule)| *rule == i.id).count()
            + offline.get(&i.id).copied().unwrap_or(0);
        if n < 2 {
            thin.push(format!("{} has {n}", i.id));
        }
    }
    // The id patterns still name the alarm, scaling and encryption rules (a renamed family
    // would otherwise drop out of the check unseen).
    assert!(
        family >= 12,
        "only {family} alarm, scaling and encryption rules found"
    );
    assert!(
        thin.is_empty(),
        "critical and high AWS rules, every alarm, scaling and encryption rule and every \
         Cloudflare rule need two evasion cases each:\n{}",
        thin.join("\n")
    );
}

/// The alarm, scaling and encryption rules (issue #14 item 6: at least two adversarial cases
/// each), by id: `aws-alarm*`, `aws-ecs-autoscaling`, `aws-ecs-scale-*`, and every id naming
/// encryption, TLS or HTTPS.
fn alarm_scaling_or_encryption(id: &str) -> bool {
    id.starts_with("aws-alarm")
        || id == "aws-ecs-autoscaling"
        || id.starts_with("aws-ecs-scale-")
        || ["encrypt", "tls", "https"].iter().any(|k| id.contains(k))
}

/// The deviations of `each_deviation_fails_its_rule_and_only_its_rule` in tests/cloudflare.rs:
/// `(name, failing rule)` for each `("name", endpoint, reply, "rule")` tuple.
fn cloudflare_deviations(src: &str) -> Vec<(&str, &str)> {
    let start = src
        .find("async fn each_deviation_fails_its_rule_and_only_its_rule")
        .expect("the deviation test");
    let body = &src[start..start + src[start..].find("\n}\n").unwrap_or(src.len() - start)];
    let lines: Vec<&str> = body.lines().collect();
    fn text(l: &str) -> Option<&str> {
        l.trim().strip_prefix('"')?.strip_suffix("\",")
    }
    let mut out = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        if *l != "        (" {
            continue;
        }
        let Some(name) = lines.get(k + 1).and_then(|l| text(l)) else {
            continue;
        };
        let rule = lines[k + 2..]
            .iter()
            .take_while(|l| **l != "        ),")
            .filter_map(|l| text(l))
            .find(|t| t.starts_with("cloudflare-"));
        if let Some(rule) = rule {
            out.push((name, rule));
        }
    }
    out
}

#[test]
fn every_rule_says_its_failure_in_words_and_what_the_spec_wants() {
    let set = PolicySet::builtin().expect("built-in rules load");
    for r in set.rules() {
        let id = &r.info.id;
        let message = r
            .message
            .as_ref()
            .unwrap_or_else(|| panic!("{id}: no `message`"));
        assert!(
            message.source.contains("{resource}"),
            "{id}: the message does not name the resource: {}",
            message.source
        );
        let wants = r
            .wants
            .as_deref()
            .unwrap_or_else(|| panic!("{id}: no `wants`"));
        assert!(wants.len() >= 5, "{id}: `wants` is too thin: {wants:?}");
    }
}

/// A rule that reads what a monitoring part answered (its kinds are the part's, or its
/// expressions read the facts `link` derives from the part) names that part in `monitoring`,
/// so that its findings go to the monitoring plane's SARIF run; a rule that reads AWS or
/// Cloudflare alone does not.
#[test]
fn every_rule_reading_the_monitoring_plane_names_its_parts() {
    let set = PolicySet::builtin().expect("built-in rules load");
    let parts = estate_audit::model::MonitoringProvider::ALL.map(|p| p.as_str());
    let mut judged = 0;
    for r in set.rules() {
        let id = &r.info.id;
        let text = format!(
            "{} {}",
            r.when.as_ref().map(|w| w.source.as_str()).unwrap_or(""),
            r.assert.source
        );
        let read: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|p| {
                r.info.kinds.iter().any(|k| k.starts_with(&format!("{p}.")))
                    || text.contains(&format!("resource.{p}."))
            })
            .collect();
        let named: Vec<&str> = r.info.monitoring.iter().map(|p| p.as_str()).collect();
        if read.is_empty() {
            assert!(
                named.is_empty(),
                "{id} reads no monitoring part but names {named:?}"
            );
        } else {
            judged += 1;
            for p in &read {
                assert!(
                    named.contains(p),
                    "{id} reads {p} but `monitoring` is {named:?}"
                );
            }
        }
    }
    assert!(
        judged >= 17,
        "only {judged} rules read the monitoring plane"
    );
}
