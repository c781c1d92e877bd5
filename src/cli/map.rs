//! `estate-audit map`: the estate read like `audit` reads it (a file, the demo, or collected
//! live: `audit::read_estate`), audited so that failing and unknown resources are marked, and
//! its map written as SVG, Graphviz DOT or Mermaid. The exit code says whether the picture is
//! of the whole estate: 0 when it was read in full, 2 when a part could not be collected (the
//! map is still written, and says what is missing) or on bad input. Findings do not decide it:
//! the map is a picture, the verdict is `audit`'s.

use super::audit::read_estate;
use super::{write_output, Io, MapArgs, MapFormatArg, EXIT_INCOMPLETE, EXIT_OK};
use crate::diag::Diagnostics;
use crate::map::MapFormat;
use crate::stats::Stats;

pub(super) fn cmd_map(a: MapArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    let mut stats = Stats::default();
    let (report, map) = read_estate(&a.input, &a.aws, io, &mut stats)?.audit(io.now, &mut stats);
    let format = match a.format {
        MapFormatArg::Svg => MapFormat::Svg,
        MapFormatArg::Dot => MapFormat::Dot,
        MapFormatArg::Mermaid => MapFormat::Mermaid,
    };
    write_output(a.output.as_deref(), &map.render(format), io)?;
    if let Some(p) = &a.output {
        let _ = writeln!(io.stderr, "wrote the map to {}", p.display());
    }
    if report.collection_errors.is_empty() {
        Ok(EXIT_OK)
    } else {
        let _ = writeln!(
            io.stderr,
            "the estate was not read in full ({} collection errors): the map shows what was read",
            report.collection_errors.len()
        );
        Ok(EXIT_INCOMPLETE)
    }
}
