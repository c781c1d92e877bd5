//! The command line (docs/design.md §7): argument parsing and the commands `audit`, `collect`, `merge`
//! (in `merge`), `rules`, `validate`, `init` and `iam-policy`. It owns what goes to stdout
//! (only the report) and stderr (diagnostics, summaries), reads the environment for live
//! collection (credentials, API base) and builds the runtime the asynchronous collectors run on;
//! it returns an exit code and never calls `process::exit` itself, so tests can drive it.

#[cfg(feature = "live")]
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::audit;
#[cfg(feature = "live")]
use crate::collect::aws::AwsOptions;
#[cfg(feature = "live")]
use crate::collect::{self, cloudflare, CollectOptions, Collected, Secret};
use crate::config;
use crate::diag::Diagnostics;
use crate::finding::{GateSelection, Outcome, RuleInfo, Severity};
use crate::history;
use crate::model::EstateConfig;
use crate::policy::PolicySet;
use crate::report::{self, Format, RenderOptions};
use crate::stats::Stats;
use crate::suppress::WaiverSet;

mod merge;

/// Exit codes of docs/design.md §7.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_INCOMPLETE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "estate-audit",
    version,
    about = "Audit a deployed AWS + Cloudflare estate against its architecture spec",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate the rules over an estate and report the findings. Without --demo or --inventory
    /// the estate is collected live (CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_BASE).
    Audit(AuditArgs),
    /// Collect the estate live (or write the bundled example, --demo) to an inventory file.
    Collect(CollectArgs),
    /// List the rules, or explain one: why it matters, how to fix it, which part of the spec.
    Rules(RulesArgs),
    /// Check policy, waiver, config and inventory files without auditing.
    Validate(ValidateArgs),
    /// Write a commented estate.toml.
    Init(InitArgs),
    /// Print the read-only permissions live collection needs (the Cloudflare API token's).
    IamPolicy,
    /// Combine the inventories (or the JSON reports) of sharded runs into one.
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Inventories or inventory bundles (from `collect`), or JSON reports (from `audit
    /// --format json`); not both kinds at once.
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to write the bundle (inventories) or the report (reports).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(clap::Args, Debug, Default)]
pub struct InputArgs {
    /// Audit the bundled example estate (no credentials needed). Without --demo or --inventory,
    /// the estate is collected live.
    #[arg(long, conflicts_with = "inventory")]
    pub demo: bool,
    /// Audit an inventory file (from `collect --output` or another source).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// estate.toml: which region, VPC, tiers and components are the estate.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A directory of additional rule files (*.toml).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// A waiver file. With --demo, defaults to the demo's own waivers.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
}

/// Where live collection reads AWS (docs/design.md §7). Unset values come from the SDK's default
/// chain (environment, `~/.aws` profiles, SSO, web identity, IMDS) and from estate.toml.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct AwsArgs {
    /// AWS region to audit (default: `region` of estate.toml, else the SDK's configuration).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile of ~/.aws/config.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (also read from AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Regions to read: `all` enabled regions (the default) or a comma-separated list. The
    /// estate's home region (estate.toml's `region`, else the first listed) is read in full;
    /// the others are scanned for resources carrying the estate tag.
    #[arg(long, value_name = "all|R,R", conflicts_with = "region")]
    pub regions: Option<String>,
    /// Audit the account of this role instead of the caller's (repeatable: one estate per
    /// account, all in one report).
    #[arg(long, value_name = "ARN")]
    pub assume_role: Vec<String>,
    /// External id for the roles: given once, it applies to every role (--assume-role and
    /// --org-role); given once per --assume-role, the n-th goes with the n-th role.
    #[arg(long, value_name = "ID")]
    pub external_id: Vec<String>,
    /// Audit every ACTIVE account of the caller's organization through the role of this name
    /// (arn:aws:iam::<account>:role/NAME).
    #[arg(long, value_name = "NAME", conflicts_with = "assume_role")]
    pub org_role: Option<String>,
    /// Give live collection at most SECS seconds (default 900): a service still unanswered then
    /// is reported as not collected and its rules are unknown (exit 2).
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

/// `--timeout`: positive seconds, fractions allowed.
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 7.0 * 24.0 * 3600.0 => {
            Ok(std::time::Duration::from_secs_f64(v))
        }
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0 and 604800"
        )),
    }
}

#[cfg(feature = "live")]
impl AwsArgs {
    /// The collection options these flags give, with the estate's region for `--regions`.
    /// A flag combination that cannot be meant (external ids that do not pair with the roles,
    /// a home region outside `--regions`, a malformed ARN or region) is refused.
    pub fn options(&self, estate: &EstateConfig) -> Result<AwsOptions, Diagnostics> {
        let bad = |msg: String| -> Diagnostics { plain("estate-audit", msg) };
        let mut opts = AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            ..AwsOptions::default()
        };
        if let Some(list) = &self.regions {
            let list = list.trim();
            if list != "all" {
                let regions: Vec<String> = list
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect();
                if regions.is_empty() {
                    return Err(bad(
                        "--regions needs `all` or a list like eu-west-1,us-east-1".into(),
                    ));
                }
                if let Some(r) = regions.iter().find(|r| {
                    !r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                }) {
                    return Err(bad(format!(
                        "--regions: `{}` is not a region name",
                        crate::diag::without_echoed_strings(r)
                    )));
                }
                match &estate.region {
                    Some(home) if !regions.contains(home) => {
                        return Err(bad(format!(
                            "--regions does not include the estate's region {home} (estate.toml): \
                             list it, or use --region to audit another one"
                        )))
                    }
                    Some(_) => {}
                    None => opts.region = regions.first().cloned(),
                }
                opts.scan_regions = Some(regions);
            }
        }
        for arn in &self.assume_role {
            let role = crate::collect::aws::AssumeRole {
                arn: arn.trim().to_string(),
                external_id: None,
            };
            if !role.arn.starts_with("arn:")
                || !role.arn.contains(":role/")
                || role.account().is_none()
            {
                return Err(bad(format!(
                    "--assume-role needs a role ARN like arn:aws:iam::111122223333:role/estate-audit, not `{}`",
                    crate::diag::without_echoed_strings(&role.arn)
                )));
            }
            opts.roles.push(role);
        }
        if let Some(name) = &self.org_role {
            let name = name.trim();
            if name.is_empty() || name.contains(':') {
                return Err(bad(
                    "--org-role takes a role name (e.g. OrganizationAccountAccessRole), not an ARN"
                        .into(),
                ));
            }
            opts.org_role = Some(crate::collect::aws::AssumeRole {
                arn: name.to_string(),
                external_id: None,
            });
        }
        match (self.external_id.len(), opts.roles.len()) {
            (0, _) => {}
            (1, _) if !opts.roles.is_empty() || opts.org_role.is_some() => {
                let id = self.external_id[0].clone();
                for r in opts.roles.iter_mut().chain(opts.org_role.as_mut()) {
                    r.external_id = Some(id.clone());
                }
            }
            (n, m) if n == m && opts.org_role.is_none() => {
                for (r, id) in opts.roles.iter_mut().zip(&self.external_id) {
                    r.external_id = Some(id.clone());
                }
            }
            (n, m) => {
                return Err(bad(format!(
                    "{n} --external-id for {m} --assume-role{}: give one for every role, or one \
                     per --assume-role in order",
                    if opts.org_role.is_some() {
                        " and --org-role"
                    } else {
                        ""
                    }
                )))
            }
        }
        Ok(opts)
    }
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which rules decide the exit code: the spec's blocking items (launch) or all.
    #[arg(long, value_enum, default_value_t = GateArg::All)]
    pub gate: GateArg,
    /// Lowest severity of a failure that fails the audit.
    #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
    pub fail_on: SeverityArg,
    /// Show passing findings in the table too.
    #[arg(long)]
    pub all: bool,
    /// Emit waived findings in SARIF, with SARIF suppressions.
    #[arg(long)]
    pub sarif_include_waived: bool,
    /// Write every format into DIR/<UTC timestamp>/ and DIR/latest.json, comparing with the
    /// previous latest.json (default DIR: reports).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "reports")]
    pub output_dir: Option<PathBuf>,
    /// Compare with this earlier JSON report: new, resolved and still-open findings.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for failures that are new since the baseline (incomplete still exits 2).
    #[arg(long)]
    pub fail_on_new: bool,
    /// Write Prometheus metrics (text exposition format) to FILE.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Print wall time per stage (load or collect, link, evaluate, waivers, render) and the
    /// run's sizes to stderr, and add them to the JSON report as `stats`.
    #[arg(long)]
    pub stats: bool,
}

#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    /// Write the bundled example inventory instead of collecting.
    #[arg(long)]
    pub demo: bool,
    /// estate.toml: which zone, webhook host, region and components are the estate.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub config: Option<PathBuf>,
    /// Where to write the inventory.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Write a synthetic spec-shaped inventory of N resources (benchmarks; hidden from help).
    #[arg(long, value_name = "N", hide = true, conflicts_with_all = ["demo", "config"])]
    pub synthetic: Option<usize>,
    /// Seed of --synthetic.
    #[arg(long, hide = true, default_value_t = 1, requires = "synthetic")]
    pub seed: u64,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// A rule id to explain.
    pub id: Option<String>,
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
    /// A directory of additional rule files (*.toml).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write it (`-` for stdout).
    #[arg(long, value_name = "FILE", default_value = "estate.toml")]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Table,
    Json,
    Sarif,
    Markdown,
    Junit,
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateArg {
    Launch,
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

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

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli, io: &mut Io<'_>) -> i32 {
    let result = match cli.command {
        Command::Audit(a) => cmd_audit(a, io),
        Command::Collect(c) => cmd_collect(c, io),
        Command::Rules(r) => cmd_rules(r, io),
        Command::Validate(v) => cmd_validate(v, io),
        Command::Init(i) => cmd_init(i, io),
        Command::IamPolicy => cmd_iam_policy(io),
        Command::Merge(m) => merge::cmd_merge(m, io),
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
        None if demo => audit::demo_waivers(),
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

fn cmd_audit(a: AuditArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    // Wall time for the metrics only; every timestamp in the reports is `io.now`.
    let started = std::time::Instant::now();
    let mut stats = Stats::default();
    let config = load_config(a.input.config.as_deref())?;
    let load_started = std::time::Instant::now();
    let invs = match (&a.input.inventory, a.input.demo) {
        (Some(p), _) => crate::model::json::load_inventories(p)?,
        (None, true) => vec![crate::model::json::demo_inventory()],
        (None, false) => {
            let collected = collect_live(config.clone().unwrap_or_default(), &a.aws, io)?;
            stats.services = collected.services;
            collected.inventories
        }
    };
    let live = a.input.inventory.is_none() && !a.input.demo;
    stats.record(
        if live { "collect" } else { "load" },
        load_started.elapsed(),
    );
    let policies = load_policies(a.input.policies.as_deref())?;
    let waivers = load_waivers(a.input.waivers.as_deref(), a.input.demo, &policies)?;
    // Read the baseline before auditing anything is written, so `latest.json` is the previous run.
    let baseline = outputs::baseline(a.baseline.as_deref(), a.output_dir.as_deref(), io)?;
    let mut report = audit::run_many(invs, config, &policies, &waivers, io.now, &mut stats);
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
        // Colour only for a person at a terminal; files and pipes get a fixed width so they stay stable.
        color: to_terminal,
        width: if to_terminal {
            terminal_width()
        } else {
            Some(160)
        },
        gate: Some(gate),
        fail_on: Some(fail_on),
        stats: a.stats.then(|| stats.clone()),
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

/// `--output-dir`, `--baseline` and `--metrics`: the files a scheduled job keeps.
mod outputs {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use super::{plain, Io};
    use crate::diag::Diagnostics;
    use crate::finding::Report;
    use crate::history::Baseline;
    use crate::report::{self, metrics, Format, RenderOptions};

    /// The baseline: `--baseline FILE` (an unreadable one is an error), else `DIR/latest.json`
    /// of `--output-dir` when it exists (an unreadable one is warned about and the run compares
    /// as a first run: the job keeps working and every open finding counts as new).
    pub fn baseline(
        explicit: Option<&Path>,
        dir: Option<&Path>,
        io: &mut Io<'_>,
    ) -> Result<Option<Baseline>, Diagnostics> {
        if let Some(p) = explicit {
            return Ok(Some(Baseline::load(p)?));
        }
        let Some(dir) = dir else { return Ok(None) };
        let latest = dir.join("latest.json");
        if !latest.exists() {
            return Ok(None);
        }
        match Baseline::load(&latest) {
            Ok(b) => Ok(Some(b)),
            Err(d) => {
                let _ = write!(io.stderr, "{}", Diagnostics::from(d).render_plain());
                let _ = writeln!(
                    io.stderr,
                    "warning: comparing as a first run; {} will be replaced",
                    latest.display()
                );
                Ok(None)
            }
        }
    }

    fn error(path: &Path, what: &str, e: std::io::Error) -> Diagnostics {
        plain(&path.display().to_string(), format!("cannot {what}: {e}"))
    }

    /// Writes `text` to a temporary file beside `path` and renames it into place, so a reader
    /// (the textfile collector, the next run) never sees half a file.
    pub fn write_atomic(path: &Path, text: &str) -> Result<(), Diagnostics> {
        replace_atomic(path, |tmp| std::fs::write(tmp, text))
    }

    /// Writes `path` through `fill` into a temporary file beside it, then renames it into place:
    /// a reader never sees half a file.
    fn replace_atomic(
        path: &Path,
        fill: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<(), Diagnostics> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        fill(&tmp).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            error(&tmp, "write", e)
        })?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            error(path, "write", e)
        })
    }

    /// Writes `DIR/<UTC timestamp>/report.{txt,json,sarif,md,xml,html}` and `DIR/latest.json`;
    /// returns the timestamped folder.
    pub fn write_all(
        dir: &Path,
        report: &Report,
        opts: &RenderOptions,
    ) -> Result<PathBuf, Diagnostics> {
        std::fs::create_dir_all(dir).map_err(|e| error(dir, "create the output folder", e))?;
        // Colons are not allowed in Windows file names: basic ISO 8601 form.
        let stamp = report.generated_at.format("%Y%m%dT%H%M%SZ").to_string();
        let mut folder = dir.join(&stamp);
        let mut n = 1;
        // Two runs in one second (or a fixed clock) get their own folders, never overwrite.
        loop {
            match std::fs::create_dir(&folder) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {
                    n += 1;
                    folder = dir.join(format!("{stamp}-{n}"));
                }
                Err(e) => return Err(error(&folder, "create the report folder", e)),
            }
        }
        // Files get the fixed layout of a file, not the terminal's.
        let file_opts = RenderOptions {
            color: false,
            width: Some(160),
            ..opts.clone()
        };
        // Each format streamed to its file, one at a time: a large report's text is never held
        // in memory (latest.json is a copy of the file).
        for format in Format::ALL {
            let path = folder.join(format!("report.{}", format.extension()));
            std::fs::File::create(&path)
                .and_then(|mut f| report::write(report, format, &file_opts, &mut f))
                .map_err(|e| error(&path, "write the report", e))?;
            // What the format's renderer built and freed (SARIF's document tree, HTML's text)
            // goes back before the next one builds its own.
            crate::sys::trim();
        }
        let json = folder.join(format!("report.{}", Format::Json.extension()));
        replace_atomic(&dir.join("latest.json"), |tmp| {
            std::fs::copy(&json, tmp).map(|_| ())
        })?;
        Ok(folder)
    }

    /// `--metrics FILE`, carrying the last success timestamp over from the file it replaces.
    pub fn write_metrics(
        path: &Path,
        report: &Report,
        duration: Duration,
    ) -> Result<(), Diagnostics> {
        let previous = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| metrics::previous_last_success(&t));
        let text = metrics::render(
            report,
            &metrics::RunInfo {
                duration,
                previous_last_success: previous,
            },
        );
        write_atomic(path, &text)
    }
}

/// Environment and defaults for live collection. The token is read here and handed on as a
/// [`Secret`]; an empty variable counts as unset.
#[cfg(feature = "live")]
fn collect_options(
    estate: EstateConfig,
    aws: &AwsArgs,
    now: DateTime<Utc>,
) -> Result<CollectOptions, Diagnostics> {
    let token = std::env::var(cloudflare::TOKEN_VAR)
        .ok()
        .map(Secret::new)
        .filter(|t| !t.is_empty());
    let api_base = std::env::var(cloudflare::BASE_VAR)
        .ok()
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| cloudflare::DEFAULT_API_BASE.to_string());
    let timeout = aws.timeout;
    let aws = AwsOptions {
        // A progress line only for a person watching stderr.
        progress: std::io::stderr().is_terminal(),
        ..aws.options(&estate)?
    };
    Ok(CollectOptions {
        estate,
        now,
        cloudflare: cloudflare::Options {
            token,
            api_base,
            ..cloudflare::Options::default()
        },
        aws,
        timeout,
    })
}

/// What a build without the `live` feature has in place of a collection: nothing, ever.
#[cfg(not(feature = "live"))]
struct Collected {
    inventories: Vec<crate::model::Inventory>,
    services: std::collections::BTreeMap<String, crate::stats::ServiceCalls>,
}

/// A build without the `live` feature (the offline auditor the fuzz targets use) refuses every
/// command that would read the estate, saying what still works.
#[cfg(not(feature = "live"))]
fn no_live(what: &str) -> Diagnostics {
    plain(
        "estate-audit",
        format!(
            "{what} needs the `live` feature, which this build was compiled without: \
             audit an inventory (--inventory FILE) or the demo (--demo) instead"
        ),
    )
}

#[cfg(not(feature = "live"))]
fn collect_live(
    _estate: EstateConfig,
    _aws: &AwsArgs,
    _io: &mut Io<'_>,
) -> Result<Collected, Diagnostics> {
    Err(no_live("live collection"))
}

/// Runs the collectors on a single-threaded runtime (the work is waiting on the network, not
/// computing); everything after this is synchronous.
#[cfg(feature = "live")]
fn collect_live(
    estate: EstateConfig,
    aws: &AwsArgs,
    io: &mut Io<'_>,
) -> Result<Collected, Diagnostics> {
    let opts = collect_options(estate, aws, io.now)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| plain("estate-audit", format!("cannot start the runtime: {e}")))?;
    let _ = writeln!(
        io.stderr,
        "collecting the estate live (Cloudflare zone: {})",
        opts.estate
            .cloudflare
            .zone
            .as_deref()
            .unwrap_or("none configured")
    );
    let collected = runtime.block_on(collect::collect(&opts));
    // Each error once on stderr too (endpoint, Cloudflare code, cf-ray): the log of a scheduled
    // run keeps them even when the report goes to a file.
    let errors: Vec<_> = collected
        .inventories
        .iter()
        .flat_map(|i| &i.collection_errors)
        .collect();
    for e in &errors {
        let account = e
            .account
            .as_deref()
            .map(|a| format!(" (account {a})"))
            .unwrap_or_default();
        let _ = writeln!(
            io.stderr,
            "warning: {} {}{account} not collected ({:?}): {}",
            e.provider, e.service, e.kind, e.message
        );
    }
    if !errors.is_empty() {
        let resources: usize = collected
            .inventories
            .iter()
            .map(|i| i.resources.len())
            .sum();
        let _ = writeln!(
            io.stderr,
            "collected {resources} resources; {} part(s) of the estate could not be read: their \
             rules are unknown",
            errors.len()
        );
    }
    Ok(collected)
}

fn cmd_collect(c: CollectArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    if let Some(n) = c.synthetic {
        let inv = crate::synth::spec_shaped(n, c.seed);
        let mut text = serde_json::to_string_pretty(&inv)
            .map_err(|e| plain("estate-audit collect", format!("cannot encode: {e}")))?;
        text.push('\n');
        write_output(Some(&c.output), &text, io)?;
        let _ = writeln!(
            io.stderr,
            "wrote a synthetic inventory of {n} resources to {}",
            c.output.display()
        );
        return Ok(EXIT_OK);
    }
    if !c.demo {
        let config = load_config(c.config.as_deref())?.unwrap_or_default();
        let mut collected = collect_live(config, &c.aws, io)?;
        let complete = collected
            .inventories
            .iter()
            .all(|i| i.collection_errors.is_empty());
        // One account keeps the single-inventory form; several are a bundle.
        let encoded = if collected.inventories.len() == 1 {
            serde_json::to_string_pretty(&collected.inventories[0])
        } else {
            let n = collected.inventories.len();
            let _ = writeln!(
                io.stderr,
                "collected {n} accounts into one inventory bundle"
            );
            serde_json::to_string_pretty(&crate::model::InventoryBundle::new(std::mem::take(
                &mut collected.inventories,
            )))
        };
        let mut text =
            encoded.map_err(|e| plain("estate-audit collect", format!("cannot encode: {e}")))?;
        text.push('\n');
        write_output(Some(&c.output), &text, io)?;
        let _ = writeln!(io.stderr, "wrote the inventory to {}", c.output.display());
        // An incomplete inventory is still written (it says what is missing), but the exit code
        // says it is incomplete.
        return Ok(if complete { EXIT_OK } else { EXIT_INCOMPLETE });
    }
    let mut text = crate::model::json::DEMO_INVENTORY.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    write_output(Some(&c.output), &text, io)?;
    let _ = writeln!(
        io.stderr,
        "wrote the example inventory to {}",
        c.output.display()
    );
    Ok(EXIT_OK)
}

fn cmd_rules(r: RulesArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
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

fn cmd_validate(v: ValidateArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    // Collect the problems of every file, not just the first failing one.
    let mut all = Diagnostics::default();
    let policies = match load_policies(v.policies.as_deref()) {
        Ok(p) => Some(p),
        Err(d) => {
            all.0.extend(d.0);
            None
        }
    };
    let mut waiver_count = 0;
    if let Some(p) = &v.waivers {
        match WaiverSet::load(p) {
            Ok(w) => {
                waiver_count = w.len();
                if let Some(policies) = &policies {
                    all.0
                        .extend(w.check_rules(&|id| policies.get(id).is_some()).0);
                }
            }
            Err(d) => all.0.extend(d.0),
        }
    }
    if let Err(d) = load_config(v.config.as_deref()) {
        all.0.extend(d.0);
    }
    let mut resources = None;
    if let Some(p) = &v.inventory {
        match crate::model::json::load_inventories(p) {
            Ok(invs) => resources = Some(invs.iter().map(|i| i.resources.len()).sum::<usize>()),
            Err(d) => all.push(d),
        }
    }
    if !all.is_empty() {
        return Err(all);
    }
    let rules = policies.map_or(0, |p| p.rules().len());
    let mut msg = format!("ok: {rules} rules");
    if v.waivers.is_some() {
        msg.push_str(&format!(", {waiver_count} waivers"));
    }
    if v.config.is_some() {
        msg.push_str(", estate config");
    }
    if let Some(n) = resources {
        msg.push_str(&format!(", inventory of {n} resources"));
    }
    let _ = writeln!(io.stderr, "{msg}");
    Ok(EXIT_OK)
}

fn cmd_init(i: InitArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    if i.output.as_os_str() == "-" {
        write_output(None, config::EXAMPLE, io)?;
        return Ok(EXIT_OK);
    }
    if i.output.exists() && !i.force {
        return Err(plain(
            &i.output.display().to_string(),
            "already exists; pass --force to overwrite it",
        ));
    }
    write_output(Some(&i.output), config::EXAMPLE, io)?;
    let _ = writeln!(io.stderr, "wrote {}", i.output.display());
    Ok(EXIT_OK)
}

#[cfg(feature = "live")]
fn cmd_iam_policy(io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    write_output(None, &collect::required_permissions(), io)?;
    Ok(EXIT_OK)
}

#[cfg(not(feature = "live"))]
fn cmd_iam_policy(_io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    Err(no_live(
        "iam-policy (the permissions of the live collectors)",
    ))
}

/// For tests and docs: the rule infos of the built-in pack, sorted by id.
pub fn builtin_rule_infos() -> Result<Vec<RuleInfo>, Diagnostics> {
    let mut infos = PolicySet::builtin()?.infos();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(infos)
}

#[cfg(all(test, feature = "live"))]
mod aws_args_tests {
    use super::*;

    #[test]
    fn collection_flags_reach_the_aws_options() {
        for cmd in ["audit", "collect"] {
            let mut argv = vec![
                "estate-audit",
                cmd,
                "--region",
                "eu-west-1",
                "--profile",
                "auditor",
                "--endpoint-url",
                "http://127.0.0.1:5000",
            ];
            if cmd == "collect" {
                argv.extend(["--output", "inv.json"]);
            }
            let cli = Cli::try_parse_from(argv).expect("parses");
            let aws = match cli.command {
                Command::Audit(a) => a.aws,
                Command::Collect(c) => c.aws,
                _ => unreachable!(),
            };
            let o = aws.options(&EstateConfig::default()).expect("valid flags");
            assert_eq!(o.region.as_deref(), Some("eu-west-1"));
            assert_eq!(o.profile.as_deref(), Some("auditor"));
            assert_eq!(o.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
            assert!(
                !o.progress,
                "the caller decides, from stderr being a terminal"
            );
        }
    }
}
