//! `--output-dir`, `--baseline` and `--metrics` of `audit`: the files a scheduled job keeps (every
//! format in a timestamped folder, `latest.json`, the Prometheus metrics) and the baseline read
//! back from them. `latest.json` and the metrics are replaced whole, so their readers (the next
//! run, the textfile collector) never see half a file. It writes the report it is given: it must
//! not audit, judge nor change it.

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
pub fn write_metrics(path: &Path, report: &Report, duration: Duration) -> Result<(), Diagnostics> {
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
