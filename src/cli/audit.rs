//! `estate-audit audit`: the inventory read (a file, the demo) or collected live, the audit run
//! over it, the report written in the chosen format, then the files a scheduled job keeps
//! (`--output-dir`, `--baseline`, `--metrics`, in `outputs`) and the exit code of the verdict.
//! It must not judge anything itself: the audit is `crate::audit`'s, the verdict
//! `finding::outcome`'s.

use super::collect::collect_live;
use super::{
    load_config, load_policies, load_waivers, outputs, terminal_width, use_color, write_report,
    AuditArgs, AwsArgs, ColorArg, FormatArg, GateArg, InputArgs, Io, SeverityArg, EXIT_FAIL,
    EXIT_INCOMPLETE, EXIT_OK,
};
use crate::diag::Diagnostics;
use crate::finding::{GateSelection, Outcome, Severity};
use crate::history;
use crate::report::{self, Format, RenderOptions};
use crate::stats::Stats;

/// What an audit or a map is made from: the inventories and the files that judge them.
pub(super) struct Estate {
    pub invs: Vec<crate::model::Inventory>,
    pub config: Option<crate::model::EstateConfig>,
    pub policies: crate::policy::PolicySet,
    pub waivers: crate::suppress::WaiverSet,
}

impl Estate {
    /// The audit of the estate (`crate::audit::run_many`): the report and the marked map.
    pub fn audit(
        self,
        now: chrono::DateTime<chrono::Utc>,
        stats: &mut Stats,
    ) -> (crate::finding::Report, crate::map::EstateMap) {
        crate::audit::run_many(
            self.invs,
            self.config,
            &self.policies,
            &self.waivers,
            now,
            stats,
        )
    }
}

/// The inventories (a file, the demo, or collected live) and the configuration, policies and
/// waivers of `input`: the same for `audit` and `map`. The load or collection time goes into
/// `stats`.
pub(super) fn read_estate(
    input: &InputArgs,
    aws: &AwsArgs,
    io: &mut Io<'_>,
    stats: &mut Stats,
) -> Result<Estate, Diagnostics> {
    let config = load_config(input.config.as_deref())?;
    let load_started = std::time::Instant::now();
    let invs = match (&input.inventory, input.demo) {
        (Some(p), _) => crate::model::json::load_inventories(p)?,
        (None, true) => vec![crate::model::json::demo_inventory()],
        (None, false) => {
            let collected = collect_live(config.clone().unwrap_or_default(), aws, io)?;
            stats.services = collected.services;
            collected.inventories
        }
    };
    let live = input.inventory.is_none() && !input.demo;
    stats.record(
        if live { "collect" } else { "load" },
        load_started.elapsed(),
    );
    let policies = load_policies(input.policies.as_deref())?;
    let waivers = load_waivers(input.waivers.as_deref(), input.demo, &policies)?;
    Ok(Estate {
        invs,
        config,
        policies,
        waivers,
    })
}

pub(super) fn cmd_audit(
    a: AuditArgs,
    color: ColorArg,
    io: &mut Io<'_>,
) -> Result<i32, Diagnostics> {
    // Wall time for the metrics only; every timestamp in the reports is `io.now`.
    let started = std::time::Instant::now();
    let mut stats = Stats::default();
    let estate = read_estate(&a.input, &a.aws, io, &mut stats)?;
    // Read the baseline before auditing anything is written, so `latest.json` is the previous run.
    let baseline = outputs::baseline(a.baseline.as_deref(), a.output_dir.as_deref(), io)?;
    let (mut report, map) = estate.audit(io.now, &mut stats);
    match &baseline {
        Some(b) => report.diff = Some(history::diff(&report, b)),
        None if a.output_dir.is_some() || a.fail_on_new => {
            report.diff = Some(history::first_run(&report))
        }
        None => {}
    }

    let format = match a.format {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Junit => Format::Junit,
        FormatArg::Html => Format::Html,
    };
    let gate = match a.gate {
        GateArg::Launch => GateSelection::Launch,
        GateArg::All => GateSelection::All,
    };
    let fail_on = match a.fail_on {
        SeverityArg::Critical => Severity::Critical,
        SeverityArg::High => Severity::High,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::Low => Severity::Low,
    };
    let to_terminal = a.output.is_none() && io.stdout_is_terminal;
    let opts = RenderOptions {
        all: a.all,
        sarif_include_waived: a.sarif_include_waived,
        // Colour for a person at a terminal unless asked otherwise (`--color`, NO_COLOR); files
        // and pipes get a fixed width so they stay stable.
        color: use_color(color, to_terminal),
        width: if to_terminal {
            terminal_width()
        } else {
            Some(160)
        },
        gate: Some(gate),
        fail_on: Some(fail_on),
        stats: a.stats.then(|| stats.clone()),
        // The documents people read (and every format of `--output-dir`) show the map.
        map: (matches!(format, Format::Markdown | Format::Html) || a.output_dir.is_some())
            .then_some(map),
    };
    let render_started = std::time::Instant::now();
    write_report(a.output.as_deref(), &report, format, &opts, io)?;
    stats.record("render", render_started.elapsed());
    if a.stats {
        let _ = write!(io.stderr, "{}", stats.render());
    }
    if a.output.is_some() || format != Format::Table {
        // The table ends with the summary; other formats get it on stderr for the person watching.
        let _ = writeln!(
            io.stderr,
            "{}",
            report::table::summary_line(&report.summary)
        );
        if let Some(d) = &report.diff {
            let _ = writeln!(io.stderr, "{}", report::table::diff_line(d));
        }
    }
    if let Some(dir) = &a.output_dir {
        let folder = outputs::write_all(dir, &report, &opts)?;
        let _ = writeln!(
            io.stderr,
            "wrote every format to {} and {}",
            folder.display(),
            dir.join("latest.json").display()
        );
    }
    if let Some(path) = &a.metrics {
        outputs::write_metrics(path, &report, started.elapsed())?;
    }

    let outcome = if a.fail_on_new {
        crate::finding::outcome_new(&report, gate, fail_on)
    } else {
        crate::finding::outcome(&report, gate, fail_on)
    };
    // `run` is the process's last act (`main` exits with its code): freeing every finding one by
    // one would only delay the exit of a large audit, so the memory goes back with the process.
    std::mem::forget(report);
    Ok(match outcome {
        Outcome::Clean => EXIT_OK,
        Outcome::Failing => EXIT_FAIL,
        Outcome::Incomplete => EXIT_INCOMPLETE,
    })
}
