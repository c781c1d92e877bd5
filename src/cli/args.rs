//! The command line's arguments (docs/design.md §7): the clap structs of every command, the value
//! enums of their flags, and the checks clap cannot make alone (`--timeout`, and the AWS flags
//! turned into collection options). It only describes and checks what was typed: it must not
//! read a file, the environment or the network, nor run a command.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(feature = "live")]
use super::plain;
#[cfg(feature = "live")]
use crate::collect::aws::AwsOptions;
#[cfg(feature = "live")]
use crate::diag::Diagnostics;
#[cfg(feature = "live")]
use crate::model::EstateConfig;

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
    /// Colour in the table: `auto` for a terminal unless NO_COLOR is set, `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate the rules over an estate and report the findings. Without --demo or --inventory
    /// the estate is collected live (CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_BASE).
    Audit(AuditArgs),
    /// Collect the estate live (or write the bundled example, --demo) to an inventory file.
    Collect(CollectArgs),
    /// Draw a map of the estate (SVG, Graphviz DOT or Mermaid): Cloudflare, the internet edge,
    /// the tiers and subnets with their components, the internet paths, failing and unknown
    /// resources marked.
    Map(MapArgs),
    /// List the rules, or explain one: why it matters, how to fix it, which part of the spec.
    Rules(RulesArgs),
    /// Check policy, waiver, config and inventory files without auditing.
    Validate(ValidateArgs),
    /// Write a commented estate.toml.
    Init(InitArgs),
    /// Print the read-only permissions live collection needs (AWS, Cloudflare, PagerDuty, Prometheus,
    /// Alertmanager, Grafana, Zabbix).
    IamPolicy,
    /// Combine the inventories (or the JSON reports) of sharded runs into one.
    Merge(MergeArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; read it with `estate-audit man | man -l -`), or a command's.
    Man {
        /// A command (`audit`, `collect`, …) for its own page, `estate-audit-COMMAND(1)`.
        command: Option<String>,
    },
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
pub struct MapArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MapFormatArg::Svg)]
    pub format: MapFormatArg,
    /// Write the map to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFormatArg {
    Svg,
    Dot,
    Mermaid,
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
    /// --synthetic copies that share what they refer to (only their ids differ).
    #[arg(long, hide = true, requires = "synthetic")]
    pub shared: bool,
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
