//! The command line (DESIGN.md §7): argument parsing and the commands `audit`, `collect`, `rules`,
//! `validate` and `init`. It owns what goes to stdout (only the report) and stderr (diagnostics,
//! summaries); it returns an exit code and never calls `process::exit` itself, so tests can drive it.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::audit::{self, GateSelection, Outcome};
use crate::config::{self, EstateConfig};
use crate::diag::Diagnostics;
use crate::finding::{RuleInfo, Severity};
use crate::policy::PolicySet;
use crate::report::{self, Format, RenderOptions};
use crate::suppress::WaiverSet;

/// Exit codes of DESIGN.md §7.
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
    /// Evaluate the rules over an estate and report the findings.
    Audit(AuditArgs),
    /// Write an inventory file (today: the bundled example, `--demo`).
    Collect(CollectArgs),
    /// List the rules, or explain one: why it matters, how to fix it, which part of the spec.
    Rules(RulesArgs),
    /// Check policy, waiver, config and inventory files without auditing.
    Validate(ValidateArgs),
    /// Write a commented estate.toml.
    Init(InitArgs),
}

#[derive(clap::Args, Debug, Default)]
pub struct InputArgs {
    /// Audit the bundled example estate (no credentials needed).
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

/// Where live collection reads AWS (DESIGN.md §7). Unset values come from the SDK's default
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
}

impl AwsArgs {
    pub fn options(&self) -> crate::collect::aws::AwsOptions {
        crate::collect::aws::AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: None,
            progress: false,
        }
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
}

#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    /// Write the bundled example inventory.
    #[arg(long)]
    pub demo: bool,
    /// Where to write the inventory.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub aws: AwsArgs,
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
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            let _ = io.stderr.write_all(diags.render_plain().as_bytes());
            EXIT_INCOMPLETE
        }
    }
}

fn plain(origin: &str, msg: impl Into<String>) -> Diagnostics {
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

fn write_output(path: Option<&Path>, text: &str, io: &mut Io<'_>) -> Result<(), Diagnostics> {
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

fn cmd_audit(a: AuditArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    let inv = match (&a.input.inventory, a.input.demo) {
        (Some(p), _) => audit::load_inventory(p)?,
        (None, true) => audit::demo_inventory(),
        (None, false) => {
            return Err(plain(
                "estate-audit audit",
                "live collection is not available in this build yet: audit an inventory file \
                 (--inventory FILE) or the bundled example (--demo)",
            ))
        }
    };
    let config = load_config(a.input.config.as_deref())?;
    let policies = load_policies(a.input.policies.as_deref())?;
    let waivers = load_waivers(a.input.waivers.as_deref(), a.input.demo, &policies)?;
    let report = audit::run(inv, config, &policies, &waivers, io.now);

    let format = match a.format {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
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
    };
    let text = report::render(&report, format, &opts);
    write_output(a.output.as_deref(), &text, io)?;
    if a.output.is_some() || format != Format::Table {
        // The table ends with the summary; other formats get it on stderr for the person watching.
        let _ = writeln!(
            io.stderr,
            "{}",
            report::table::summary_line(&report.summary)
        );
    }

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
    Ok(match audit::outcome(&report, gate, fail_on) {
        Outcome::Clean => EXIT_OK,
        Outcome::Failing => EXIT_FAIL,
        Outcome::Incomplete => EXIT_INCOMPLETE,
    })
}

fn cmd_collect(c: CollectArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    if !c.demo {
        return Err(plain(
            "estate-audit collect",
            "live collection is not available in this build yet: use --demo to write the example inventory",
        ));
    }
    let mut text = audit::DEMO_INVENTORY.to_string();
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
        match audit::load_inventory(p) {
            Ok(inv) => resources = Some(inv.resources.len()),
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

/// For tests and docs: the rule infos of the built-in pack, sorted by id.
pub fn builtin_rule_infos() -> Result<Vec<RuleInfo>, Diagnostics> {
    let mut infos = PolicySet::builtin()?.infos();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(infos)
}

#[cfg(test)]
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
            let o = aws.options();
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
