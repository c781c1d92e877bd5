//! `estate-audit merge FILE... --output FILE`: one audit out of sharded runs (issue #7). It
//! combines inventories (single ones or bundles) into one bundle, or JSON reports into one report
//! with a recomputed summary. It owns the checks that make a merge honest: no two shards of the
//! same account and home region (the estate would be counted twice), no mixing of inventories
//! with reports, no mixing of reports made by different tool versions or rule packs. Every
//! refusal names the file. It must not evaluate anything: merged inventories are audited by
//! `audit --inventory`, which links and evaluates each estate on its own.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{plain, write_output, Io, MergeArgs, EXIT_OK};
use crate::diag::{Diagnostic, Diagnostics};
use crate::finding::{Finding, Report, Summary, REPORT_SCHEMA_VERSION};
use crate::model::{Inventory, InventoryBundle};
use crate::report::{self, Format, RenderOptions};

/// What a file holds, from its top-level keys only.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    findings: Option<IgnoredAny>,
    #[serde(default)]
    summary: Option<IgnoredAny>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Inventory,
    Report,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Inventory => "an inventory",
            Kind::Report => "a JSON report",
        }
    }
}

fn kind_of(text: &str) -> Kind {
    match serde_json::from_str::<Probe>(text) {
        Ok(Probe {
            findings: Some(_),
            summary: Some(_),
        }) => Kind::Report,
        // Anything else, malformed JSON included, is read as an inventory: its parser gives
        // the located error.
        _ => Kind::Inventory,
    }
}

pub fn cmd_merge(m: MergeArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    let mut texts: Vec<(String, String)> = Vec::new();
    for path in &m.files {
        let text = crate::input::read_text(path, "merge input", crate::input::MAX_INVENTORY_BYTES)?;
        texts.push((path.display().to_string(), text));
    }
    let first = kind_of(&texts[0].1);
    for (origin, text) in &texts[1..] {
        let k = kind_of(text);
        if k != first {
            return Err(plain(
                origin,
                format!(
                    "is {} while {} is {}: merge inventories with inventories, reports with reports",
                    k.as_str(),
                    texts[0].0,
                    first.as_str()
                ),
            ));
        }
    }
    let (text, what) = match first {
        Kind::Inventory => {
            let bundle = merge_inventories(&texts)?;
            let n = bundle.inventories.len();
            let mut text = serde_json::to_string_pretty(&bundle)
                .map_err(|e| plain("estate-audit merge", format!("cannot encode: {e}")))?;
            text.push('\n');
            (text, format!("an inventory bundle of {n} estate(s)"))
        }
        Kind::Report => {
            let report = merge_reports(&texts)?;
            let text = report::render(&report, Format::Json, &RenderOptions::default());
            (
                text,
                format!("a report of {} finding(s)", report.findings.len()),
            )
        }
    };
    write_output(Some(&m.output), &text, io)?;
    let _ = writeln!(
        io.stderr,
        "merged {} file(s) into {what}: {}",
        texts.len(),
        m.output.display()
    );
    Ok(EXIT_OK)
}

/// Every inventory of every file (a single inventory or a bundle), in one bundle sorted by
/// account and region. Two of the same account and home region are refused, naming both files.
pub fn merge_inventories(files: &[(String, String)]) -> Result<InventoryBundle, Diagnostic> {
    let mut all: Vec<(String, Inventory)> = Vec::new();
    for (origin, text) in files {
        for inv in crate::model::json::parse_inventories(text, origin)? {
            all.push((origin.clone(), inv));
        }
    }
    crate::model::json::check_shards(all.iter().map(|(o, i)| (o.as_str(), i)))?;
    Ok(InventoryBundle::new(
        all.into_iter().map(|(_, i)| i).collect(),
    ))
}

fn parse_report(text: &str, origin: &str) -> Result<Report, Diagnostic> {
    let report: Report = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg =
            crate::diag::without_echoed_strings(msg.split(" at line ").next().unwrap_or(&msg));
        Diagnostic::plain(
            &format!("{origin}:{}:{}", e.line(), e.column()),
            format!("JSON report does not match the report format: {msg}"),
        )
    })?;
    if report.schema_version != REPORT_SCHEMA_VERSION {
        return Err(Diagnostic::plain(
            origin,
            format!(
                "report schema_version {} is not supported (this build reads version {REPORT_SCHEMA_VERSION})",
                report.schema_version
            ),
        ));
    }
    Ok(report)
}

/// One report out of the reports of sharded audits: findings, collection errors and waiver
/// issues together, the scope united, the summary recomputed, the time of the latest shard.
/// Reports that cannot be one audit are refused ([`check_mergeable`]). Cloudflare findings,
/// which every shard may carry, are kept once; a comparison with a baseline (`diff`) is dropped,
/// as it described one shard only; a waiver one shard reported unused is not reported if it
/// suppressed something in another.
pub fn merge_reports(files: &[(String, String)]) -> Result<Report, Diagnostic> {
    let mut reports: Vec<(String, Report)> = Vec::new();
    for (origin, text) in files {
        reports.push((origin.clone(), parse_report(text, origin)?));
    }
    check_mergeable(&reports)?;
    let first_tool = reports[0].1.tool.clone();
    let first_rules = reports[0].1.summary.rules_evaluated;
    let first_pack = reports[0].1.rule_pack.clone();
    let first_time = reports[0].1.generated_at;
    let mut merged = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: first_tool,
        generated_at: first_time,
        scope: Default::default(),
        summary: Summary::default(),
        findings: Vec::new(),
        collection_errors: Vec::new(),
        waiver_issues: Vec::new(),
        diff: None,
        rule_pack: first_pack,
        rules: Vec::new(),
    };
    let mut resources = 0;
    let mut shared_seen = std::collections::HashSet::new();
    for (_, r) in reports {
        merged.generated_at = merged.generated_at.max(r.generated_at);
        resources += r.summary.resources;
        for a in r.scope.accounts {
            push_unique(&mut merged.scope.accounts, a);
        }
        for x in r.scope.regions {
            push_unique(&mut merged.scope.regions, x);
        }
        for m in r.scope.monitoring {
            push_unique(&mut merged.scope.monitoring, m);
        }
        for z in r.scope.cloudflare_zones {
            push_unique(&mut merged.scope.cloudflare_zones, z);
        }
        merged.findings.extend(
            r.findings
                .into_iter()
                .filter(|f| !is_shared(f) || shared_seen.insert(f.fingerprint.clone())),
        );
        for e in r.collection_errors {
            push_unique(&mut merged.collection_errors, e);
        }
        for w in r.waiver_issues {
            push_unique(&mut merged.waiver_issues, w);
        }
    }
    let used: std::collections::HashSet<&str> = merged
        .findings
        .iter()
        .filter_map(|f| f.waiver.as_ref().map(|w| w.source.as_str()))
        .collect();
    let issues = std::mem::take(&mut merged.waiver_issues);
    merged.waiver_issues = issues
        .into_iter()
        .filter(|w| !(w.problem == "unused" && used.contains(w.source.as_str())))
        .collect();
    merged.findings.sort_by(Finding::canonical_order);
    merged.summary = Summary::compute(
        &merged.findings,
        &merged.collection_errors,
        first_rules,
        resources,
    );
    Ok(merged)
}

/// Refused, naming the file: reports of another tool or version, of another rule pack (a
/// different number of rules, or one rule with another severity, gate or spec section) and two
/// reports covering the same account and home region.
fn check_mergeable(reports: &[(String, Report)]) -> Result<(), Diagnostic> {
    let first_origin = reports[0].0.clone();
    let first_tool = reports[0].1.tool.clone();
    let first_rules = reports[0].1.summary.rules_evaluated;
    let first_pack = reports[0].1.rule_pack.clone();
    let mut rules: BTreeMap<String, (String, &str)> = BTreeMap::new();
    let mut shards: BTreeMap<(String, String), &str> = BTreeMap::new();
    for (origin, r) in reports {
        if r.tool != first_tool {
            return Err(Diagnostic::plain(
                origin,
                format!(
                    "was made by {} {} while {first_origin} was made by {} {}: reports of \
                     different tool versions cannot be merged (re-run the shards with one version)",
                    r.tool.name, r.tool.version, first_tool.name, first_tool.version
                ),
            ));
        }
        match (&r.rule_pack, &first_pack) {
            (Some(pack), Some(first)) if pack != first => {
                return Err(Diagnostic::plain(
                    origin,
                    format!(
                        "was made with rule pack {pack} while {first_origin} was made with \
                         {first}: reports of different rule packs cannot be merged (run every \
                         shard with the same policies)"
                    ),
                ));
            }
            // A report of an earlier version records no digest: whether it ran the same rules
            // cannot be told, and a merge must not pass on a guess.
            (Some(_), None) | (None, Some(_)) => {
                let (with, without) = if r.rule_pack.is_some() {
                    (origin.as_str(), first_origin.as_str())
                } else {
                    (first_origin.as_str(), origin.as_str())
                };
                return Err(Diagnostic::plain(
                    origin,
                    format!(
                        "{without} records no rule pack digest while {with} does: cannot tell \
                         whether they ran the same rules (re-run the shards with one version)"
                    ),
                ));
            }
            _ => {}
        }
        if r.summary.rules_evaluated != first_rules {
            return Err(Diagnostic::plain(
                origin,
                format!(
                    "evaluated {} rules while {first_origin} evaluated {}: reports of different \
                     rule packs cannot be merged",
                    r.summary.rules_evaluated, first_rules
                ),
            ));
        }
        for f in &r.findings {
            let sig = format!("{}/{}/{}", f.severity, f.gate, f.spec);
            match rules.get(f.rule_id.as_str()) {
                Some((other, o)) if *other != sig => {
                    return Err(Diagnostic::plain(
                        origin,
                        format!(
                            "rule {} differs from the same rule in {o} (severity, gate or spec): \
                             reports of different rule packs cannot be merged",
                            f.rule_id
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    rules.insert(f.rule_id.to_string(), (sig, origin.as_str()));
                }
            }
        }
        let home = r.scope.regions.first().cloned().unwrap_or_default();
        for a in &r.scope.accounts {
            if let Some(o) = shards.insert((a.clone(), home.clone()), origin) {
                return Err(Diagnostic::plain(
                    origin,
                    format!(
                        "covers AWS account {a} in region {home}, as {o} does: the shards overlap"
                    ),
                )
                .with_note("each shard must collect a different account or home region"));
            }
        }
    }

    Ok(())
}

/// A finding of the part every shard shares (no AWS account: [`crate::audit::is_shared`]).
fn is_shared(f: &Finding) -> bool {
    crate::audit::is_shared(&f.kind)
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}
