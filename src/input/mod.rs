//! Reading one input file (policy, waiver, config, inventory, baseline) before any parsing: it must
//! be a regular file, no larger than the limit for its kind, and UTF-8. It owns those checks and
//! their one-line diagnostics. Reading a TOML document is [`toml`]'s, the one loader of the three
//! TOML files; what a file means is its caller's.
//!
//! Why each check: a directory, a FIFO or a device (`/dev/zero`) would make a plain `read` fail
//! late, block forever or never end — a scheduled audit must not hang on a wrong path, so anything
//! but a regular file is refused up front. The size is checked from the metadata *and* enforced
//! while reading (`take`), so a file that grows between the two cannot blow memory either. A
//! leading UTF-8 byte-order mark (Windows editors write one) is dropped: it is not content, and the
//! parsers would otherwise reject the first line. Invalid UTF-8 is reported at its line:column.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;

pub mod toml;

/// Largest policy file: the whole built-in pack is ~40 KiB.
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;
/// Largest waiver file: ~300 bytes a waiver, so room for tens of thousands.
pub const MAX_WAIVER_BYTES: u64 = 16 * 1024 * 1024;
/// Largest `estate.toml`: a few dozen keys and subnet id lists.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Largest inventory. Parsed, an inventory takes a few times its size in memory (the text, the
/// model, one CEL value per resource during evaluation; figures in docs/performance.md), which a
/// CI runner still has at this size; beyond it the estate should be sharded (`merge`), not read
/// at once.
pub const MAX_INVENTORY_BYTES: u64 = 512 * 1024 * 1024;

/// Reads `path` as UTF-8 text of at most `limit` bytes. `what` names the file's role in errors
/// ("policy file", "inventory", …).
pub fn read_text(path: &Path, what: &str, limit: u64) -> Result<String, Diagnostic> {
    let origin = path.display().to_string();
    let fail = |msg: String| Diagnostic::plain(&origin, msg);
    // `metadata` follows symlinks: a dangling link is "not found", like the file it names.
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read {what}: {e}")))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(fail(format!("cannot read {what}: it is a directory")));
    }
    if !ft.is_file() {
        return Err(fail(format!(
            "cannot read {what}: not a regular file (a FIFO, socket or device); give the path of a file"
        )));
    }
    if meta.len() > limit {
        return Err(too_large(&origin, what, &meta.len().to_string(), limit));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read {what}: {e}")))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > limit {
        // The file grew after `metadata`.
        return Err(too_large(&origin, what, &format!("over {limit}"), limit));
    }
    decode(bytes, &origin, what)
}

fn too_large(origin: &str, what: &str, len: &str, limit: u64) -> Diagnostic {
    Diagnostic::plain(
        origin,
        format!(
            "{what} is too large: {len} bytes, over the limit of {limit} bytes ({})",
            human(limit)
        ),
    )
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// UTF-8 text without a leading byte-order mark; invalid UTF-8 is an error at its line:column.
pub fn decode(mut bytes: Vec<u8>, origin: &str, what: &str) -> Result<String, Diagnostic> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes()[at];
            // The valid prefix is the same in the lossy text, so `at` points at the replacement
            // character standing for the bad byte.
            let lossy: Arc<str> = Arc::from(String::from_utf8_lossy(e.as_bytes()).as_ref());
            Err(Diagnostic::at(
                origin,
                &lossy,
                at..at + char::REPLACEMENT_CHARACTER.len_utf8(),
                format!("{what} is not UTF-8: byte 0x{bad:02x} is not part of a character"),
            )
            .with_label("invalid UTF-8")
            .with_note("save the file as UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_dropped_and_bad_bytes_are_located() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFa = 1".to_vec(), "f", "x").unwrap(),
            "a = 1"
        );
        let d = decode(b"a = 1\nb = \"\xff\"\n".to_vec(), "f.toml", "policy file").unwrap_err();
        assert_eq!(d.line_col(), Some((2, 6)));
        assert!(d.message.contains("0xff"), "{}", d.message);
    }
}
