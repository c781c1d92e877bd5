//! The `estate-audit` binary: parses the command line, reads the clock once, runs the command and
//! maps its outcome to the process exit code. Everything else lives in the library.

use std::io::IsTerminal;

/// mimalloc, tuned by `estate_audit::sys::tune_allocator` (why: docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    estate_audit::sys::tune_allocator();
    let cli = estate_audit::cli::parse();
    let now = match estate_audit::cli::clock() {
        Ok(now) => now,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(estate_audit::cli::EXIT_INCOMPLETE);
        }
    };
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut io = estate_audit::cli::Io {
        stdout: &mut stdout,
        stderr: &mut stderr,
        now,
        stdout_is_terminal,
    };
    let code = estate_audit::cli::run(cli, &mut io);
    std::process::exit(code);
}
