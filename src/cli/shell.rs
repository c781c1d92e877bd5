//! What a shell and a manual reader get: `completions SHELL` (bash, zsh, fish, PowerShell), `man`
//! (the manual page in roff) and the `--version` line that names the built-in rule pack. All are
//! generated from the parser's own clap definition, so they cannot disagree with it. Nothing here
//! reads an estate or a file: it prints to stdout and returns.

use clap::{CommandFactory, FromArgMatches};
use clap_complete::Shell;

use super::{plain, Cli, Io, EXIT_OK};
use crate::diag::Diagnostics;
use crate::policy::PolicySet;

/// The line `--version` prints after the program's name: the version and the digest of the
/// built-in rule pack, the same digest every report carries as `rule_pack`, so that a verdict can
/// be traced to the rules that made it.
pub fn version_line() -> String {
    let pack = PolicySet::builtin()
        .map(|p| p.digest())
        .unwrap_or_else(|_| "unreadable".to_string());
    format!("{} (rule pack {pack})", env!("CARGO_PKG_VERSION"))
}

/// Parses the process's arguments. The rule pack is loaded for `--version` only: every other
/// run has no use for its digest before the command loads the rules itself.
pub fn parse() -> Cli {
    let mut command = Cli::command();
    let asks_version = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--version" || a == "-V");
    if asks_version {
        command = command.version(version_line());
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub(super) fn cmd_completions(shell: Shell, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "estate-audit", &mut out);
    write(io, &out)
}

/// The page of the program, or of one of its commands (`estate-audit-audit(1)`).
pub(super) fn cmd_man(sub: Option<&str>, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    // The plain version in the page's footer (a digest there cannot be set by troff).
    let mut program = Cli::command();
    program.build();
    let command = match sub {
        None => program,
        Some(name) => {
            let names: Vec<String> = program
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .filter(|n| n != "help")
                .collect();
            let Some(c) = program.find_subcommand(name) else {
                return Err(plain(
                    "estate-audit",
                    format!("no command `{name}`: one of {}", names.join(", ")),
                ));
            };
            c.clone().name(format!("estate-audit-{name}"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(|e| {
            plain(
                "estate-audit",
                format!("cannot render the manual page: {e}"),
            )
        })?;
    write(io, &out)
}

fn write(io: &mut Io<'_>, bytes: &[u8]) -> Result<i32, Diagnostics> {
    io.stdout
        .write_all(bytes)
        .and_then(|()| io.stdout.flush())
        .map_err(|e| plain("estate-audit", format!("cannot write to stdout: {e}")))?;
    Ok(EXIT_OK)
}
