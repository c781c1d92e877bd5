//! The sentences findings say (docs/design.md §5): a failing finding's from its rule's `message`
//! template, or from its evidence in words; an unknown one naming the resource, what could not be
//! read or decided and why; the estate-level ones. Each ends with what the spec wants (the
//! rule's `wants`; its title when it has none). It owns that wording; the values in words are
//! `words`', and it must not decide a status.

use serde_json::{Map, Value as Json};

use super::words::say;
use crate::policy::message::Piece;
use crate::policy::Rule;

/// "; the spec wants TLS only (5671)." — how every failing and unknown sentence ends.
fn wants(rule: &Rule) -> String {
    match &rule.wants {
        Some(w) => format!("; the spec wants {w}."),
        None => format!(
            "; the rule expects: {}.",
            rule.info.title.trim_end_matches('.')
        ),
    }
}

/// The failing sentence of `rule` over the resource named `name`, whose fields are `json`.
pub(super) fn failing(rule: &Rule, name: &str, json: &Map<String, Json>) -> String {
    let field = |path: &str| say(lookup(json, path).unwrap_or(&Json::Null));
    let said = match &rule.message {
        Some(t) => t.render(name, field),
        None if rule.evidence.is_empty() => format!(
            "{name}: {} does not hold: `{}` is false",
            rule.info.title, rule.assert.source
        ),
        None => {
            let facts: Vec<String> = rule
                .evidence
                .iter()
                .map(|p| format!("{p} is {}", field(p)))
                .collect();
            format!(
                "{name}: {} does not hold: {}",
                rule.info.title,
                facts.join(", ")
            )
        }
    };
    format!("{}{}", said.trim_end().trim_end_matches('.'), wants(rule))
}

/// What an unknown finding could not do.
#[derive(Clone, Copy)]
pub(super) enum Undecided {
    /// Judge the assertion.
    Check,
    /// Tell whether `when` selects the resource.
    Applies,
}

/// "estate-db: `storage_encrypted` could not be read, so the check cannot be judged; the spec
/// wants …" — `why` says what could not be read or decided. With the resource's fields
/// (`json`), what the rule's `message` cites that `link` said in sentences is added in
/// parentheses: a derived fact that is unknown has its reason there ("whether CloudWatch may use
/// its KMS key could not be read").
pub(super) fn unknown(
    rule: &Rule,
    name: &str,
    why: &str,
    what: Undecided,
    json: Option<&Map<String, Json>>,
) -> String {
    let so = match what {
        Undecided::Check => "so the check cannot be judged",
        Undecided::Applies => "so whether the rule applies to it cannot be told",
    };
    let known = json.map(|j| known(rule, j)).unwrap_or_default();
    format!("{name}: {why}, {so}{known}{}", wants(rule))
}

/// Sentences cited by the rule's `message`, at most [`KNOWN_MAX`], in parentheses; "" if none.
fn known(rule: &Rule, json: &Map<String, Json>) -> String {
    let Some(t) = &rule.message else {
        return String::new();
    };
    let said: Vec<String> = t
        .pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Field(path) => lookup(json, path).filter(|v| sentences(v)).map(say),
            _ => None,
        })
        .take(KNOWN_MAX)
        .collect();
    if said.is_empty() {
        String::new()
    } else {
        format!(" ({})", said.join("; "))
    }
}

/// The most cited sentences an unknown finding adds.
const KNOWN_MAX: usize = 2;

/// A string of several words, or a non-empty list of them: what `link` writes for people.
fn sentences(v: &Json) -> bool {
    let sentence = |v: &Json| v.as_str().is_some_and(|s| s.trim().contains(' '));
    match v {
        Json::Array(items) => !items.is_empty() && items.iter().all(sentence),
        v => sentence(v),
    }
}

/// The estate-level sentence: its issues (clauses), one after the other, and what the spec
/// wants.
pub(super) fn estate(rule: &Rule, issues: &[String]) -> String {
    format!("{}{}", capitalised(&issues.join("; ")), wants(rule))
}

/// An estate-level issue added to the sentence of a finding that already has one.
pub(super) fn also(sentence: &str, issues: &[String]) -> String {
    format!("{sentence} Also: {}.", issues.join("; "))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A dotted path into the resource object (`internet.path`, `tags.Name`).
pub(super) fn lookup<'a>(obj: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut segs = path.split('.');
    let mut cur = obj.get(segs.next()?)?;
    for s in segs {
        cur = cur.as_object()?.get(s)?;
    }
    Some(cur)
}
