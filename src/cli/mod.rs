//! The command line (docs/design.md §7): argument parsing (`args`) and one module per command:
//! `audit` (with `outputs`, the files a scheduled job keeps), `map`, `collect`, `merge`, `rules`,
//! `validate`, `init`, `iam_policy`, and `shell` (completions, manual pages, the version line).
//! This module holds what they share: where a command writes ([`Io`]), the clock, the dispatch
//! ([`run`]), the exit codes and the loading of the input files. The command line owns what goes
//! to stdout (only the report) and stderr (diagnostics, summaries), reads the environment for
//! live collection (credentials, API base) and builds the runtime the asynchronous collectors run
//! on; [`run`] returns an exit code and never calls `process::exit` itself, so tests can drive it
//! (only [`parse`] lets clap exit on a command line it cannot read, with clap's message).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::diag::Diagnostics;
use crate::finding::RuleInfo;
use crate::model::EstateConfig;
use crate::policy::PolicySet;
use crate::report::{self, Format, RenderOptions};
use crate::suppress::WaiverSet;

mod args;
mod audit;
mod collect;
mod iam_policy;
mod init;
mod map;
mod merge;
mod outputs;
mod rules;
mod shell;
mod validate;

pub use args::{
    AuditArgs, AwsArgs, Cli, CollectArgs, ColorArg, Command, FormatArg, GateArg, InitArgs,
    InputArgs, MapArgs, MapFormatArg, MergeArgs, RulesArgs, RulesFormat, SeverityArg, ValidateArgs,
};
pub use shell::{parse, version_line};

/// Exit codes of docs/design.md §7.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_INCOMPLETE: i32 = 2;

/// Where the command writes.
pub struct Io<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// The clock: `ESTATE_AUDIT_NOW` or the system time, read once by `main`.
    pub now: DateTime<Utc>,
    /// stdout is a terminal (colour and wrapping for a person).
    pub stdout_is_terminal: bool,
}

/// The terminal width from `COLUMNS`, else a readable default.
fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(120))
}

/// Reads `ESTATE_AUDIT_NOW` (RFC 3339) or the system clock.
pub fn clock() -> Result<DateTime<Utc>, String> {
    match std::env::var("ESTATE_AUDIT_NOW") {
        Ok(v) => DateTime::parse_from_rfc3339(&v)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("ESTATE_AUDIT_NOW={v:?} is not an RFC 3339 time: {e}")),
        Err(_) => Ok(Utc::now()),
    }
}

/// Whether the table is coloured: `--color`, and for `auto` a terminal without `NO_COLOR`
/// (no-color.org: set and not empty). An explicit `always` or `never` wins over the environment.
fn use_color(choice: ColorArg, to_terminal: bool) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli, io: &mut Io<'_>) -> i32 {
    let color = cli.color;
    let result = match cli.command {
        Command::Audit(a) => audit::cmd_audit(a, color, io),
        Command::Collect(c) => collect::cmd_collect(c, io),
        Command::Map(m) => map::cmd_map(m, io),
        Command::Rules(r) => rules::cmd_rules(r, io),
        Command::Validate(v) => validate::cmd_validate(v, io),
        Command::Init(i) => init::cmd_init(i, io),
        Command::IamPolicy => iam_policy::cmd_iam_policy(io),
        Command::Merge(m) => merge::cmd_merge(m, io),
        Command::Completions { shell } => shell::cmd_completions(shell, io),
        Command::Man { command } => shell::cmd_man(command.as_deref(), io),
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            let _ = io.stderr.write_all(diags.render_plain().as_bytes());
            EXIT_INCOMPLETE
        }
    }
}

pub(crate) fn plain(origin: &str, msg: impl Into<String>) -> Diagnostics {
    crate::diag::Diagnostic::plain(origin, msg).into()
}

fn load_policies(dir: Option<&Path>) -> Result<PolicySet, Diagnostics> {
    let mut set = PolicySet::builtin()?;
    if let Some(dir) = dir {
        let user = PolicySet::load_dir(dir)?;
        set.extend(user)?;
    }
    Ok(set)
}

fn load_waivers(
    path: Option<&Path>,
    demo: bool,
    policies: &PolicySet,
) -> Result<WaiverSet, Diagnostics> {
    let waivers = match path {
        Some(p) => WaiverSet::load(p)?,
        None if demo => crate::audit::demo_waivers(),
        None => WaiverSet::empty(),
    };
    let unknown = waivers.check_rules(&|id| policies.get(id).is_some());
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(waivers)
}

fn load_config(path: Option<&Path>) -> Result<Option<EstateConfig>, Diagnostics> {
    match path {
        Some(p) => Ok(Some(EstateConfig::load(p)?)),
        None => Ok(None),
    }
}

pub(crate) fn write_output(
    path: Option<&Path>,
    text: &str,
    io: &mut Io<'_>,
) -> Result<(), Diagnostics> {
    match path {
        None => io
            .stdout
            .write_all(text.as_bytes())
            .map_err(|e| plain("<stdout>", format!("cannot write the report: {e}"))),
        Some(p) => std::fs::write(p, text).map_err(|e| {
            plain(
                &p.display().to_string(),
                format!("cannot write the report: {e}"),
            )
        }),
    }
}

/// Writes the report to `path` (stdout when `None`) as it is rendered.
fn write_report(
    path: Option<&Path>,
    report: &crate::finding::Report,
    format: Format,
    opts: &RenderOptions,
    io: &mut Io<'_>,
) -> Result<(), Diagnostics> {
    let fail =
        |origin: &str, e: std::io::Error| plain(origin, format!("cannot write the report: {e}"));
    match path {
        None => report::write(report, format, opts, io.stdout).map_err(|e| fail("<stdout>", e)),
        Some(p) => {
            let origin = p.display().to_string();
            let mut file = std::fs::File::create(p).map_err(|e| fail(&origin, e))?;
            report::write(report, format, opts, &mut file).map_err(|e| fail(&origin, e))
        }
    }
}

/// For tests and docs: the rule infos of the built-in pack, sorted by id.
pub fn builtin_rule_infos() -> Result<Vec<RuleInfo>, Diagnostics> {
    let mut infos = PolicySet::builtin()?.infos();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(infos)
}
