//! Diagnostics for bad input (policy, waiver, config and inventory files): one error with its
//! file:line:column and, where the text is at hand, the offending snippet rendered cargo-deny style
//! (codespan-reporting). It owns rendering only; callers decide what is an error.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// One problem in one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or `<demo>`, `<builtin>/x.toml`).
    pub origin: String,
    pub message: String,
    /// Byte range in `source`, when known.
    pub span: Option<Range<usize>>,
    /// The file's text, when the span points into it.
    pub source: Option<Arc<str>>,
    /// Short text under the caret.
    pub label: Option<String>,
    /// Extra lines (`help: …`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error about a whole file (unreadable, not UTF-8, …).
    pub fn plain(origin: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            origin: origin.to_string(),
            message: message.into(),
            span: None,
            source: None,
            label: None,
            notes: Vec::new(),
        }
    }

    /// An error at a byte range of `source`.
    pub fn at(
        origin: &str,
        source: &Arc<str>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let len = source.len();
        let span = span.start.min(len)..span.end.min(len).max(span.start.min(len));
        Diagnostic {
            origin: origin.to_string(),
            message: message.into(),
            span: Some(span),
            source: Some(source.clone()),
            label: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// A TOML parse or deserialisation error, with its span when the parser gives one.
    pub fn from_toml(origin: &str, text: &str, err: &toml::de::Error) -> Self {
        let source: Arc<str> = Arc::from(text);
        match err.span() {
            Some(span) => Diagnostic::at(origin, &source, span, err.message().to_string()),
            None => Diagnostic::plain(origin, err.message().to_string()),
        }
    }

    /// 1-based line and column of the span's start.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let (span, src) = (self.span.as_ref()?, self.source.as_ref()?);
        let before = &src[..floor_char_boundary(src, span.start)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, col))
    }

    /// `file:line:col` (or just the file).
    pub fn location(&self) -> String {
        match self.line_col() {
            Some((l, c)) => format!("{}:{l}:{c}", self.origin),
            None => self.origin.clone(),
        }
    }

    /// Rendered without colour: the headline with its location, the snippet, the notes.
    pub fn render_plain(&self) -> String {
        let mut out = format!("error: {}: {}\n", self.location(), self.message);
        if let (Some(span), Some(src)) = (&self.span, &self.source) {
            let file = SimpleFile::new(self.origin.as_str(), src.as_ref());
            let start = floor_char_boundary(src, span.start);
            let end = floor_char_boundary(src, span.end).max(start);
            let mut label = Label::primary((), start..end);
            if let Some(l) = &self.label {
                label = label.with_message(l.clone());
            }
            let d = CsDiagnostic::error()
                .with_message(self.message.clone())
                .with_labels(vec![label])
                .with_notes(self.notes.clone());
            let config = term::Config::default();
            if let Ok(s) = term::emit_into_string(&config, &file, &d) {
                // codespan repeats the headline; keep ours (it carries line:col) and the snippet.
                let snippet: Vec<&str> = s.lines().skip(1).collect();
                out.push_str(&snippet.join("\n"));
                out.push('\n');
                return out;
            }
        }
        for n in &self.notes {
            out.push_str(&format!("  = {n}\n"));
        }
        out
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found in one load, reported together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render_plain());
            out.push('\n');
        }
        let n = self.0.len();
        out.push_str(&format!(
            "{n} error{} found\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_plain())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let src: Arc<str> = Arc::from("a = 1\nbé = x\n");
        let d = Diagnostic::at("f.toml", &src, 11..12, "bad value");
        assert_eq!(d.line_col(), Some((2, 5)));
        let text = d.render_plain();
        assert!(text.starts_with("error: f.toml:2:5: bad value"), "{text}");
        assert!(text.contains("bé = x"), "{text}");
    }
}
