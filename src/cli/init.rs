//! `estate-audit init`: the commented example estate.toml written to a file (never over an
//! existing one without `--force`) or to stdout. It writes that one file and nothing else.

use super::{plain, write_output, InitArgs, Io, EXIT_OK};
use crate::config;
use crate::diag::Diagnostics;

pub(super) fn cmd_init(i: InitArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
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
