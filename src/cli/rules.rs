//! `estate-audit rules [ID]`: the rule catalog as a table, JSON or Markdown, or one rule explained
//! (why it matters, how to fix it, which part of the spec, its CEL), with suggestions for an id
//! that matches none. It reads the policies only: it must not evaluate a rule.

use super::{load_policies, write_output, Io, RulesArgs, RulesFormat, EXIT_OK};
use crate::diag::Diagnostics;
use crate::report;

pub(super) fn cmd_rules(r: RulesArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    let policies = load_policies(r.policies.as_deref())?;
    let mut infos = policies.infos();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    let text = match &r.id {
        Some(id) => {
            let Some(rule) = policies.get(id) else {
                let near: Vec<&str> = infos
                    .iter()
                    .map(|i| i.id.as_str())
                    .filter(|known| known.contains(id.as_str()) || id.contains(*known))
                    .collect();
                let mut d =
                    crate::diag::Diagnostic::plain("estate-audit rules", format!("no rule `{id}`"));
                if !near.is_empty() {
                    d = d.with_note(format!("did you mean: {}", near.join(", ")));
                }
                return Err(d.into());
            };
            match r.format {
                RulesFormat::Json => to_json(&rule.info),
                RulesFormat::Markdown => report::rules::markdown_one(&rule.info),
                RulesFormat::Table => report::rules::explain(
                    &rule.info,
                    rule.when.as_ref().map(|w| w.source.as_str()),
                    &rule.assert.source,
                    rule.wants.as_deref(),
                ),
            }
        }
        None => match r.format {
            RulesFormat::Json => to_json(&infos),
            RulesFormat::Markdown => report::rules::markdown_table(&infos),
            RulesFormat::Table => report::rules::table(&infos),
        },
    };
    write_output(None, &text, io)?;
    Ok(EXIT_OK)
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
