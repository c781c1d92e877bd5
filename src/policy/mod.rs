//! Policy files (docs/design.md §5): the built-in rule pack embedded at compile time and a user's own
//! rule files, parsed, validated and compiled once into a [`PolicySet`]. It owns the rule file
//! format, its load-time checks (every problem of a load reported together, each at
//! file:line:column) and the compiled CEL programs. It must not evaluate rules against an
//! inventory (that is `engine`) nor read anything but the files it is given.

pub mod fields;
mod load;
pub mod message;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::diag::{Diagnostic, Diagnostics};
use crate::finding::RuleInfo;
use crate::input::MAX_POLICY_BYTES;

/// The built-in rule pack, by file name.
const BUILTIN: &[(&str, &str)] = &[
    ("network.toml", include_str!("../../policies/network.toml")),
    ("compute.toml", include_str!("../../policies/compute.toml")),
    ("data.toml", include_str!("../../policies/data.toml")),
    (
        "cloudflare.toml",
        include_str!("../../policies/cloudflare.toml"),
    ),
    (
        "monitoring.toml",
        include_str!("../../policies/monitoring.toml"),
    ),
];

/// The CEL environment (standard library and macros) every rule is compiled and run with.
/// Built once: it is immutable and shared by all threads.
pub(crate) fn cel_env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(cel::Env::stdlib())).clone()
}

/// A compiled `when` or `assert` expression.
#[derive(Clone)]
pub struct Expression {
    /// The CEL text as written.
    pub source: String,
    pub(crate) program: Arc<cel::Program>,
    /// Dotted resource paths the expression reads (`internet.path`; `ingress[].source` inside a
    /// macro), used to name the field that could not be read.
    pub paths: Vec<String>,
}

impl Expression {
    pub(crate) fn program(&self) -> &cel::Program {
        &self.program
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

/// One validated, compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// What outputs need: id, title, severity, gate, kinds, spec, risk, remediation, references.
    pub info: RuleInfo,
    /// The selection; `None` selects every resource of the kinds.
    pub when: Option<Expression>,
    pub assert: Expression,
    /// At least one resource of the kinds must match `when`.
    pub required: bool,
    /// Dotted field paths attached to each finding.
    pub evidence: Vec<String>,
    /// The failing finding's sentence; `None`: the engine says the evidence in words.
    pub message: Option<message::Template>,
    /// What the spec wants, a short phrase ending every failing and unknown message.
    pub wants: Option<String>,
    /// The file the rule came from (`<builtin>/data.toml` for the built-in pack).
    pub origin: String,
    /// 1-based position of its `[[rule]]` header.
    pub line: usize,
    pub column: usize,
    /// The file text and the span of the `id` value, to point at a duplicate.
    pub(crate) id_span: Option<(Arc<str>, Range<usize>)>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub fn kinds(&self) -> &[String] {
        &self.info.kinds
    }

    /// `file:line:col` of the rule.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.origin, self.line, self.column)
    }
}

/// Diagnostic for `second` reusing the id of `first`.
pub(crate) fn duplicate_diag(first: &Rule, second: &Rule) -> Diagnostic {
    let msg = format!("duplicate rule id `{}`", second.info.id);
    let d = match &second.id_span {
        Some((src, span)) => Diagnostic::at(&second.origin, src, span.clone(), msg),
        None => Diagnostic::plain(&second.origin, msg),
    };
    d.with_label("already used")
        .with_note(format!("first defined at {}", first.location()))
}

/// Every rule of a load, in file order, ids unique.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    rules: Vec<Rule>,
    by_id: HashMap<String, usize>,
}

impl PolicySet {
    /// The built-in rule pack.
    pub fn builtin() -> Result<PolicySet, Diagnostics> {
        let mut set = PolicySet::default();
        let mut diags = Diagnostics::default();
        for (name, text) in BUILTIN {
            match PolicySet::parse(text, &format!("<builtin>/{name}")) {
                Ok(s) => {
                    if let Err(d) = set.extend(s) {
                        diags.0.extend(d.0);
                    }
                }
                Err(d) => diags.0.extend(d.0),
            }
        }
        if diags.is_empty() {
            Ok(set)
        } else {
            Err(diags)
        }
    }

    /// Parses one file's text; `origin` names it in diagnostics.
    pub fn parse(text: &str, origin: &str) -> Result<PolicySet, Diagnostics> {
        let (rules, diags) = load::parse_file(text, origin);
        if !diags.is_empty() {
            return Err(diags);
        }
        let mut set = PolicySet::default();
        set.extend_rules(rules)?;
        Ok(set)
    }

    /// Every `*.toml` of `dir`, in file name order.
    pub fn load_dir(dir: &Path) -> Result<PolicySet, Diagnostics> {
        let origin = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Diagnostic::plain(&origin, format!("cannot read policy directory: {e}"))
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                Diagnostic::plain(&origin, format!("cannot read policy directory: {e}"))
            })?;
            let path = entry.path();
            // Every `*.toml` entry is read, so a directory, FIFO or dangling link named like a
            // rule file is an error rather than a rule pack silently missing a file.
            if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut set = PolicySet::default();
        let mut diags = Diagnostics::default();
        for path in paths {
            let origin = path.display().to_string();
            let text = match crate::input::read_text(&path, "policy file", MAX_POLICY_BYTES) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let (rules, file_diags) = load::parse_file(&text, &origin);
            diags.0.extend(file_diags.0);
            if let Err(d) = set.extend_rules(rules) {
                diags.0.extend(d.0);
            }
        }
        if diags.is_empty() {
            Ok(set)
        } else {
            Err(diags)
        }
    }

    /// The built-in pack plus, when given, a user's directory of rule files.
    pub fn load(user_dir: Option<&Path>) -> Result<PolicySet, Diagnostics> {
        let builtin = PolicySet::builtin();
        let user = user_dir.map(PolicySet::load_dir);
        match (builtin, user) {
            (Ok(b), None) => Ok(b),
            (Ok(b), Some(Ok(u))) => b.merge(u),
            (Err(a), Some(Err(b))) => Err(Diagnostics(a.0.into_iter().chain(b.0).collect())),
            (Err(e), _) | (_, Some(Err(e))) => Err(e),
        }
    }

    /// Adds `other`'s rules; a reused id is an error (pointing at `other`'s rule).
    pub fn extend(&mut self, other: PolicySet) -> Result<(), Diagnostics> {
        self.extend_rules(other.rules)
    }

    /// `self` followed by `other`; a reused id is an error.
    pub fn merge(mut self, other: PolicySet) -> Result<PolicySet, Diagnostics> {
        self.extend(other)?;
        Ok(self)
    }

    fn extend_rules(&mut self, rules: Vec<Rule>) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for rule in rules {
            if let Some(&i) = self.by_id.get(&rule.info.id) {
                diags.push(duplicate_diag(&self.rules[i], &rule));
                continue;
            }
            self.by_id.insert(rule.info.id.clone(), self.rules.len());
            self.rules.push(rule);
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(diags)
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(|r| r.info.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// `sha256:<hex>` of what decides and labels the findings of every rule: id, title,
    /// severity, gate, kinds, spec section, `when`, `assert`, `required`, evidence paths,
    /// `message` and `wants`, rule by rule in id order. Where a rule was written (file, line,
    /// layout, comments) and its documentation (risk, remediation, references) are left out: two
    /// shards that ran the same rules get the same digest whatever files they were read from,
    /// and `merge` refuses reports whose digests differ.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by(|a, b| a.id().cmp(b.id()));
        let canonical: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                let mut labels = serde_json::json!([
                    r.info.id,
                    r.info.title,
                    r.info.severity,
                    r.info.gate,
                    r.info.kinds,
                    r.info.spec,
                    r.when.as_ref().map(|w| &w.source),
                    r.assert.source,
                    r.required,
                    r.evidence,
                    r.message.as_ref().map(|m| &m.source),
                    r.wants,
                ]);
                // Which run of SARIF the findings go to; absent from rules without it, so their
                // digest is the one they had before the key existed.
                if !r.info.monitoring.is_empty() {
                    if let Some(l) = labels.as_array_mut() {
                        l.push(serde_json::json!(r.info.monitoring));
                    }
                }
                labels
            })
            .collect();
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests;
