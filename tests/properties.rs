//! Property tests (proptest) over the input loaders, the diagnostics and the expression evaluator:
//! arbitrary bytes, arbitrary text and mutated valid files never panic any loader and every error
//! points inside its input; `Diagnostic::line_col` and rendering never panic for any span; the
//! escaping of every medium lets no control character through; and a rule expression built from
//! a small CEL grammar over an RDS instance's fields either fails to load with a located error or
//! evaluates to exactly what CEL says — an evaluation error is `unknown`, never `pass`.
//!
//! Case counts are modest (the suite must stay fast); failures are not persisted to files.

use std::sync::Arc;

use estate_audit::diag::{self, Diagnostic};
use estate_audit::engine;
use estate_audit::finding::Status;
use estate_audit::input;
use estate_audit::link;
use estate_audit::model::EstateConfig;
use estate_audit::policy::PolicySet;
use estate_audit::report;
use estate_audit::suppress::WaiverSet;
use proptest::prelude::*;
use proptest::sample::Index;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A diagnostic points inside its own text and renders.
fn check(d: &Diagnostic) {
    if let (Some(span), Some(src)) = (&d.span, &d.source) {
        assert!(
            span.start <= span.end && span.end <= src.len(),
            "span {span:?} outside {} bytes: {d:?}",
            src.len()
        );
        assert!(d.line_col().is_some());
    }
    let text = d.render_plain();
    assert!(text.starts_with("error: "), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

/// Every loader over one text: `Ok` or located diagnostics, never a panic.
fn all_loaders(text: &str) {
    if let Err(ds) = PolicySet::parse(text, "p.toml") {
        assert!(!ds.is_empty());
        ds.0.iter().for_each(check);
    }
    if let Err(ds) = WaiverSet::parse(text, "w.toml") {
        assert!(!ds.is_empty());
        ds.0.iter().for_each(check);
    }
    if let Err(d) = EstateConfig::parse(text, "estate.toml") {
        check(&d);
    }
    if let Err(d) = estate_audit::model::json::parse_inventory(text, "inventory.json") {
        check(&d);
    }
}

const VALID: [&str; 4] = [
    include_str!("../policies/data.toml"),
    include_str!("../demo/waivers.toml"),
    include_str!("../estate.example.toml"),
    include_str!("../demo/inventory.json"),
];

/// Deletes, inserts, duplicates or replaces a short stretch of `text` at `at`.
fn mutate(text: &mut String, at: Index, op: u8, junk: &str) {
    let mut i = at.index(text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    let mut j = (i + junk.len().max(1)).min(text.len());
    while !text.is_char_boundary(j) {
        j -= 1;
    }
    match op % 4 {
        0 => text.replace_range(i..j, ""),
        1 => text.insert_str(i, junk),
        2 => {
            let copy = text[i..j].to_string();
            text.insert_str(j, &copy);
        }
        _ => text.replace_range(i..j, junk),
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn arbitrary_bytes_never_panic_a_loader(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        match input::decode(bytes, "f", "file") {
            Ok(text) => all_loaders(&text),
            Err(d) => check(&d),
        }
    }

    #[test]
    fn arbitrary_text_never_panics_a_loader(text in any::<String>()) {
        all_loaders(&text);
    }

    #[test]
    fn mutated_valid_files_load_or_point_inside_themselves(
        which in 0..VALID.len(),
        edits in prop::collection::vec(
            (any::<Index>(), any::<u8>(), "[\\[\\]{}\"'=.,:#\\n\\r\\t\\\\a-z0-9 \u{0}\u{1b}é\u{202e}]{0,6}"),
            1..5,
        ),
    ) {
        let mut text = VALID[which].to_string();
        for (at, op, junk) in &edits {
            mutate(&mut text, *at, *op, junk);
        }
        // Each file to its own loader: the others reject it at once and cost time only.
        match which {
            0 => {
                if let Err(ds) = PolicySet::parse(&text, "p.toml") {
                    ds.0.iter().for_each(check);
                }
            }
            1 => {
                if let Err(ds) = WaiverSet::parse(&text, "w.toml") {
                    ds.0.iter().for_each(check);
                }
            }
            2 => {
                if let Err(d) = EstateConfig::parse(&text, "estate.toml") {
                    check(&d);
                }
            }
            _ => {
                if let Err(d) = estate_audit::model::json::parse_inventory(&text, "inventory.json") {
                    check(&d);
                }
            }
        }
    }

    #[test]
    fn line_col_and_rendering_never_panic_for_any_span(
        text in any::<String>(),
        a in any::<usize>(),
        b in any::<usize>(),
        small in any::<bool>(),
    ) {
        let (a, b) = if small { (a % (text.len() + 3), b % (text.len() + 3)) } else { (a, b) };
        let d = Diagnostic {
            origin: "f".into(),
            message: "m".into(),
            span: Some(a..b),
            source: Some(Arc::from(text.as_str())),
            label: Some("l".into()),
            notes: vec!["n".into()],
        };
        let _ = d.line_col();
        let _ = d.location();
        let _ = d.render_plain();
        let _ = format!("{d} {d:?}");
        // Through the constructor the span is clamped into the text.
        let d = Diagnostic::at("f", &Arc::from(text.as_str()), a..b, "m");
        check(&d);
    }

    #[test]
    fn escaping_lets_no_control_character_through(s in any::<String>()) {
        let dangerous = |c: char| {
            c.is_control()
                || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        };
        for (what, out) in [
            ("inert", estate_audit::text::inert(&s).into_owned()),
            ("clean", diag::clean(&s).into_owned()),
            ("md_cell", report::rules::md_cell(&s)),
            ("prometheus label", report::metrics::label(&s)),
        ] {
            prop_assert!(!out.chars().any(dangerous), "{what}: {out:?}");
        }
        // Quoted source keeps its length (spans stay valid) and only newlines and tabs.
        let shown = diag::displayable(&s);
        prop_assert_eq!(shown.len(), s.len());
        prop_assert!(
            !shown.chars().any(|c| dangerous(c) && !matches!(c, '\n' | '\t' | '\r')),
            "{:?}", shown
        );
    }
}

/// Boolean, integer and string terms over `aws.rds.db_instance`. `storage_encrypted` is null in
/// the demo (reading it is an error), so errors are common.
fn bool_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("resource.publicly_accessible".to_string()),
        Just("resource.storage_encrypted".to_string()),
        Just("resource.multi_az".to_string()),
        Just("has(resource.storage_encrypted)".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        (
            int_expr(),
            int_expr(),
            prop_oneof![Just("=="), Just("<"), Just(">="), Just("!=")]
        )
            .prop_map(|(a, b, op)| format!("{a} {op} {b}")),
        (str_expr(), str_expr()).prop_map(|(a, b)| format!("{a} == {b}")),
        str_expr().prop_map(|s| format!("{s}.startsWith('m')")),
        str_expr().prop_map(|s| format!("{s}.matches('^[a-z]+$')")),
        Just("resource.subnet_ids.all(s, s.startsWith('subnet-'))".to_string()),
        Just("resource.subnet_ids.exists(s, s == resource.vpc_id)".to_string()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

fn int_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("resource.endpoint_port".to_string()),
        Just("size(resource.subnet_ids)".to_string()),
        Just("resource.security_group_ids.size()".to_string()),
        Just("9223372036854775807".to_string()),
        Just("0".to_string()),
        (-3i64..3).prop_map(|i| i.to_string()),
    ]
    .prop_recursive(2, 6, 2, |inner| {
        (
            inner.clone(),
            inner,
            prop_oneof![Just("+"), Just("-"), Just("*"), Just("/"), Just("%")],
        )
            .prop_map(|(a, b, op)| format!("({a} {op} {b})"))
    })
}

fn str_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("resource.engine".to_string()),
        Just("resource.db_instance_identifier".to_string()),
        Just("resource.name".to_string()),
        Just("resource.tags.estate".to_string()),
        Just("resource.tags.missing".to_string()),
        Just("'mysql'".to_string()),
        Just("resource.subnet_ids[0]".to_string()),
        Just("resource.subnet_ids[7]".to_string()),
    ]
}

const RULE: &str = r#"[[rule]]
id = "x-prop"
title = "t"
severity = "low"
kind = "aws.rds.db_instance"
spec = "s"
risk = "r"
remediation = "m"
references = ["https://example.com"]
assert = '''EXPR'''
"#;

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn an_evaluation_error_is_unknown_never_pass(expr in bool_expr()) {
        let text = RULE.replace("EXPR", &expr);
        let set = match PolicySet::parse(&text, "p.toml") {
            Ok(set) => set,
            Err(ds) => {
                ds.0.iter().for_each(check);
                return Ok(());
            }
        };
        let mut inv = estate_audit::model::json::demo_inventory();
        link::link(&mut inv);
        let findings = engine::evaluate(&inv, &set);
        let db = inv
            .resources
            .iter()
            .find(|r| r.id.ends_with(":db:estate-db"))
            .expect("the demo's database");
        let f = findings
            .iter()
            .find(|f| f.resource_id == db.id)
            .expect("a finding for the database");
        // The oracle: CEL itself, over the same object the engine builds.
        let object = serde_json::Value::Object(engine::resource_object(db).unwrap());
        let program = cel::Program::compile(&expr).unwrap();
        let mut ctx = cel::Context::default();
        ctx.add_variable("resource", cel::to_value(IntsAsInt(&object)).unwrap())
            .unwrap();
        let want = match program.execute(&ctx) {
            Ok(cel::Value::Bool(true)) => Status::Pass,
            Ok(cel::Value::Bool(false)) => Status::Fail,
            _ => Status::Unknown,
        };
        prop_assert_eq!(f.status, want, "{} → {}", expr, f.message);
    }
}

/// JSON as the engine hands it to CEL: integers as `int` (serde_json would give `uint`).
struct IntsAsInt<'a>(&'a serde_json::Value);

impl serde::Serialize for IntsAsInt<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_json::Value as J;
        match self.0 {
            J::Number(n) if n.is_i64() || n.is_u64() && n.as_i64().is_some() => {
                s.serialize_i64(n.as_i64().unwrap_or_default())
            }
            J::Array(a) => s.collect_seq(a.iter().map(IntsAsInt)),
            J::Object(m) => s.collect_map(m.iter().map(|(k, v)| (k, IntsAsInt(v)))),
            other => other.serialize(s),
        }
    }
}
