//! What every target shares: the checks on a rejected input (one located, renderable error) and
//! on an accepted one (it audits and renders in every format without a panic).

use estate_audit::diag::Diagnostic;
use estate_audit::finding::{Report, Status};
use estate_audit::input;
use estate_audit::report::{self, Format, RenderOptions};

/// A rejected input's diagnostic points inside its own text and renders as plain text.
pub fn check(d: &Diagnostic) {
    if let (Some(span), Some(src)) = (&d.span, &d.source) {
        assert!(span.start <= span.end && span.end <= src.len(), "{d:?}");
        assert!(d.line_col().is_some());
    }
    let text = d.render_plain();
    assert!(text.starts_with("error: "), "{text}");
}

/// The bytes as the auditor reads a file of `what` named `name`: its text, or `None` when the
/// bytes are refused (and the refusal has been checked).
pub fn decode(data: &[u8], name: &str, what: &str) -> Option<String> {
    match input::decode(data.to_vec(), name, what) {
        Ok(text) => Some(text),
        Err(d) => {
            check(&d);
            None
        }
    }
}

/// An audit's report renders in every format, and nothing in it is both `pass` and about an
/// input the run could not read.
pub fn check_report(r: &Report) {
    for f in &r.findings {
        if f.status == Status::Pass {
            assert!(!f.message.is_empty(), "{f:?}");
        }
    }
    for format in Format::ALL {
        let text = report::render(r, format, &RenderOptions::default());
        assert!(text.ends_with('\n'), "{format:?}");
    }
}

/// A fixed clock: the targets must be deterministic.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01")
}
