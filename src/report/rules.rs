//! The rule reference: `estate-audit rules` as a table, one rule explained for a person, and the
//! Markdown the README's rule table is generated from. It renders rule metadata only; it must not
//! load or evaluate rules.

use comfy_table::{presets, ContentArrangement, Table};

use crate::finding::{Gate, RuleInfo};

fn gate_text(g: Gate) -> &'static str {
    match g {
        Gate::Launch => "launch (blocking before launch)",
        Gate::Operate => "operate (the spec's non-blocking monitoring work)",
    }
}

/// All rules, one line each.
pub fn table(infos: &[RuleInfo]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(140)
        .set_header(vec!["rule", "severity", "gate", "expected state"]);
    for i in infos {
        t.add_row(vec![
            i.id.clone(),
            i.severity.to_string(),
            i.gate.to_string(),
            i.title.clone(),
        ]);
    }
    format!(
        "{t}\n{} rules. `estate-audit rules ID` explains one.\n",
        infos.len()
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {}", l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One rule for a person: what, why, how to fix, where in the spec and what it wants there,
/// and the check itself.
pub fn explain(info: &RuleInfo, when: Option<&str>, assert: &str, wants: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} — {}\n\n", info.id, info.title));
    out.push_str(&format!("severity  {}\n", info.severity));
    out.push_str(&format!("gate      {}\n", gate_text(info.gate)));
    out.push_str(&format!("kinds     {}\n", info.kinds.join(", ")));
    if !info.monitoring.is_empty() {
        out.push_str(&format!("reads     {}\n", monitoring_text(info)));
    }
    out.push_str(&format!("spec      {}\n", info.spec));
    if let Some(w) = wants {
        out.push_str(&format!("wants     {w}\n"));
    }
    out.push('\n');
    out.push_str(&format!("Why it matters\n{}\n\n", indent(&info.risk)));
    out.push_str(&format!("How to fix\n{}\n\n", indent(&info.remediation)));
    out.push_str("Check\n");
    if let Some(w) = when {
        out.push_str(&format!("  when    {}\n", one_line(w)));
    }
    out.push_str(&format!("  assert  {}\n\n", one_line(assert)));
    out.push_str("References\n");
    for r in &info.references {
        out.push_str(&format!("  - {r}\n"));
    }
    out
}

/// The monitoring parts a rule judges, as `rules ID` says them.
fn monitoring_text(info: &RuleInfo) -> String {
    let parts: Vec<&str> = info.monitoring.iter().map(|p| p.as_str()).collect();
    format!("{} (the monitoring plane)", parts.join(", "))
}

fn one_line(expr: &str) -> String {
    expr.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes text for a Markdown table cell.
pub fn md_cell(text: &str) -> String {
    one_line(text)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The README's rule table.
pub fn markdown_table(infos: &[RuleInfo]) -> String {
    let mut out =
        String::from("| rule | severity | gate | expected state | spec |\n|---|---|---|---|---|\n");
    for i in infos {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            i.id,
            i.severity,
            i.gate,
            md_cell(&i.title),
            md_cell(&i.spec)
        ));
    }
    out
}

/// One rule as a Markdown section.
pub fn markdown_one(info: &RuleInfo) -> String {
    let mut out = format!("### `{}`: {}\n\n", info.id, md_cell(&info.title));
    out.push_str(&format!(
        "- severity: **{}**, gate: {}\n- kinds: {}\n- spec: {}\n",
        info.severity,
        gate_text(info.gate),
        info.kinds
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
        md_cell(&info.spec)
    ));
    if !info.monitoring.is_empty() {
        out.push_str(&format!("- reads: {}\n", md_cell(&monitoring_text(info))));
    }
    out.push('\n');
    out.push_str(&format!("**Why it matters.** {}\n\n", one_line(&info.risk)));
    out.push_str(&format!(
        "**How to fix.** {}\n\n",
        one_line(&info.remediation)
    ));
    for r in &info.references {
        out.push_str(&format!("- <{r}>\n"));
    }
    out
}
