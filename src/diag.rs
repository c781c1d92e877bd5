//! Diagnostics for bad input (policy, waiver, config and inventory files): one error with its
//! file:line:column and, where the text is at hand, the offending snippet rendered cargo-deny style
//! (codespan-reporting). It owns rendering only; callers decide what is an error.
//!
//! The files it quotes are untrusted, so rendering is defensive: control characters and bidi
//! overrides in the snippet, message and notes are shown as visible stand-ins (a bad file cannot
//! drive the terminal), values that look like credentials (`token = "…"`, a PagerDuty integration
//! key in a URL, URL passwords, AWS access key ids) are masked with `*` (an error about a file
//! must not leak what the file holds), and a line too long to show whole (a minified file) is
//! shown as a short window around the error instead of megabytes of text.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// Longest source line quoted whole; a longer one is shown as a window around the error.
const MAX_SNIPPET_LINE: usize = 240;
/// Characters shown on each side of the error in such a window.
const WINDOW: usize = 40;

/// One problem in one input file. `Debug` leaves out the file's text (see [`fmt::Debug`] below).
#[derive(Clone, PartialEq, Eq)]
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
        let mut out = format!(
            "error: {}: {}\n",
            clean(&self.location()),
            clean(&self.message)
        );
        if let (Some(span), Some(src)) = (&self.span, &self.source) {
            let start = floor_char_boundary(src, span.start);
            let end = floor_char_boundary(src, span.end).max(start);
            let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
            if line_end - line_start > MAX_SNIPPET_LINE {
                out.push_str(&self.window(src, line_start..line_end, start));
                return out;
            }
            // codespan gets the error's line alone, behind as many empty lines as precede it (so
            // it numbers the line right): rendering costs the line, not the whole file, which
            // matters when a large file has many errors. `displayable` keeps byte lengths, so the
            // span still lands on the same characters.
            let line_no = src[..line_start].matches('\n').count();
            let mut shown = "\n".repeat(line_no);
            shown.push_str(&displayable(&src[line_start..line_end]));
            let shift = |i: usize| i.min(line_end) - line_start + line_no;
            let file = SimpleFile::new(clean(&self.origin).into_owned(), shown.as_str());
            let mut label = Label::primary((), shift(start)..shift(end));
            if let Some(l) = &self.label {
                label = label.with_message(clean(l).into_owned());
            }
            let d = CsDiagnostic::error()
                .with_message(clean(&self.message).into_owned())
                .with_labels(vec![label])
                .with_notes(self.notes.iter().map(|n| clean(n).into_owned()).collect());
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
            out.push_str(&format!("  = {}\n", clean(n)));
        }
        out
    }

    /// The error's line cut to a window around `at` (a byte offset on `line`), with a caret.
    fn window(&self, src: &str, line: Range<usize>, at: usize) -> String {
        let text = &src[line.clone()];
        let col = src[line.start..at].chars().count();
        let skip = col.saturating_sub(WINDOW);
        let mut shown: String = text.chars().skip(skip).take(2 * WINDOW).collect();
        let mut caret = col - skip;
        if skip > 0 {
            shown.insert(0, '…');
            caret += 1;
        }
        if text.chars().count() > skip + 2 * WINDOW {
            shown.push('…');
        }
        let shown = displayable(&shown);
        let line_no = src[..line.start].matches('\n').count() + 1;
        let pad = " ".repeat(line_no.to_string().len());
        let mut out = format!(
            "{pad} ┌─ {}\n{pad} │\n{line_no} │ {}\n{pad} │ {}^",
            clean(&self.location()),
            shown,
            " ".repeat(caret)
        );
        if let Some(l) = &self.label {
            out.push(' ');
            out.push_str(&clean(l));
        }
        out.push_str(&format!(
            "\n{pad} │\n{pad} = the line is {} characters long; showing {} around the error\n",
            text.chars().count(),
            2 * WINDOW
        ));
        for n in &self.notes {
            out.push_str(&format!("{pad} = {}\n", clean(n)));
        }
        out
    }
}

/// `Debug` without the file's text: it may be large and holds whatever the file holds.
impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostic")
            .field("origin", &self.origin)
            .field("message", &clean(&self.message))
            .field("span", &self.span)
            .field(
                "source",
                &self.source.as_ref().map(|s| format!("<{} bytes>", s.len())),
            )
            .field("label", &self.label.as_deref().map(clean))
            .field(
                "notes",
                &self.notes.iter().map(|n| clean(n)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Message text made safe to print: credentials masked, control characters escaped.
pub fn clean(s: &str) -> Cow<'_, str> {
    match mask_secrets(s) {
        Cow::Borrowed(b) => crate::text::inert(b),
        Cow::Owned(o) => Cow::Owned(crate::text::inert(&o).into_owned()),
    }
}

/// Source text made safe to quote, byte for byte the same length (spans stay valid): credentials
/// masked with `*`, and every control character but newline and tab (and CR before LF), DEL, C1
/// controls and bidi overrides replaced by a visible character of the same UTF-8 length.
pub fn displayable(src: &str) -> Cow<'_, str> {
    let masked = mask_secrets(src);
    let needs = masked
        .char_indices()
        .any(|(i, c)| unsafe_char(c, masked.as_bytes().get(i + 1)));
    if !needs {
        return masked;
    }
    let mut out = String::with_capacity(masked.len());
    for (i, c) in masked.char_indices() {
        if unsafe_char(c, masked.as_bytes().get(i + 1)) {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '¿',
                _ => char::REPLACEMENT_CHARACTER,
            });
            // The bidi marks are 3 bytes like U+FFFD; no control character is 4 bytes long.
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn unsafe_char(c: char, next: Option<&u8>) -> bool {
    match c {
        '\n' | '\t' => false,
        '\r' => next != Some(&b'\n'),
        c => crate::text::dangerous(c),
    }
}

/// A serde message without the string value it quotes (`invalid type: string "…", expected …`
/// → `invalid type: string, expected …`): the value is whatever sat in the wrong place, possibly
/// a credential, and the snippet already shows where it is.
pub fn without_echoed_strings(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("string \"") {
        out.push_str(&rest[..i + "string".len()]);
        let after = &rest[i + "string \"".len()..];
        // The quoted value ends at the last `", ` (serde's separator before "expected").
        match after.rfind("\", ") {
            Some(end) => rest = &after[end + 1..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Key names whose values are credentials.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "credential",
    "authorization",
    "integration_key",
    "routing_key",
];

/// Masks, with `*` byte for byte, what looks like a credential: the value after a secret-named
/// key (`api_token = "…"`, `"password": "…"`), a PagerDuty integration key in a URL path
/// (`/integration/<key>/`), the password of `scheme://user:password@`, secret-named query
/// parameters (`?token=…`) and AWS access key ids (`AKIA…`/`ASIA…`).
pub fn mask_secrets(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut mask: Vec<Range<usize>> = Vec::new();
    let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let value_end = |from: usize| {
        let mut i = from;
        while i < bytes.len()
            && !matches!(bytes[i], b'"' | b'\'' | b',' | b'}' | b']' | b'&' | b'#')
            && !bytes[i].is_ascii_whitespace()
        {
            i += 1;
        }
        i
    };
    for name in SECRET_KEYS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(name) {
            let mut i = from + pos + name.len();
            from = i;
            // The rest of the key (`token_value`), a closing quote, then `=` or `:`.
            while i < bytes.len() && is_key_byte(bytes[i]) {
                i += 1;
            }
            if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                i += 1;
            }
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if i >= bytes.len() || !matches!(bytes[i], b'=' | b':') {
                continue;
            }
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'"' | b'\'') {
                i += 1;
            }
            let end = value_end(i);
            if end > i {
                mask.push(i..end);
            }
        }
    }
    let mut from = 0;
    while let Some(pos) = lower[from..].find("/integration/") {
        let start = from + pos + "/integration/".len();
        let mut end = start;
        while end < bytes.len() && is_key_byte(bytes[end]) {
            end += 1;
        }
        mask.push(start..end);
        from = end.max(start);
    }
    let mut from = 0;
    while let Some(pos) = s[from..].find("://") {
        let start = from + pos + 3;
        let end = value_end(start);
        let auth = &s[start..end];
        if let (Some(at), Some(colon)) = (auth.find('@'), auth.find(':')) {
            if colon < at && !auth[..at].contains('/') {
                mask.push(start + colon + 1..start + at);
            }
        }
        from = start;
    }
    for (i, w) in bytes.windows(20).enumerate() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        if boundary
            && after
            && (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            mask.push(i..i + 20);
        }
    }
    if mask.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = bytes.to_vec();
    for r in mask {
        for b in &mut out[r] {
            *b = b'*';
        }
    }
    // Masking whole characters could split none: ranges end at ASCII delimiters or run over
    // ASCII key bytes, but a value may hold multi-byte characters, whose bytes all become `*`.
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
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
        write!(f, "{}: {}", clean(&self.location()), clean(&self.message))
    }
}

impl std::error::Error for Diagnostic {}

/// Most diagnostics rendered for one load. A file given in the wrong place (an inventory as a
/// waiver file) gives thousands of errors; the first ones say what is wrong.
pub const MAX_RENDERED: usize = 20;

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
    /// Every diagnostic up to [`MAX_RENDERED`], then a count of the rest.
    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        for d in self.0.iter().take(MAX_RENDERED) {
            out.push_str(&d.render_plain());
            out.push('\n');
        }
        let n = self.0.len();
        if n > MAX_RENDERED {
            out.push_str(&format!(
                "… and {} more errors, not shown (fix the first ones: later errors often follow \
                 from them)\n",
                n - MAX_RENDERED
            ));
        }
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

    #[test]
    fn credentials_are_masked_in_every_rendering_and_debug_leaves_the_text_out() {
        const TOKEN: &str = "Zx9SecretTok3n0123456789abcdefABCDEF0123";
        let text = format!(
            "[cloudflare]\napi_token = \"{TOKEN}\"\nurl = \"https://u:{TOKEN}@h/x\"\n\
             pd = \"https://events.pagerduty.com/integration/{TOKEN}/enqueue\"\n"
        );
        let src: Arc<str> = Arc::from(text.as_str());
        for line in 1..=3 {
            let at = text
                .split_inclusive('\n')
                .take(line)
                .map(str::len)
                .sum::<usize>();
            let msg =
                without_echoed_strings(&format!("invalid type: string \"{TOKEN}\", expected u32"));
            assert_eq!(msg, "invalid type: string, expected u32");
            let d = Diagnostic::at("estate.toml", &src, at..at + 3, msg)
                .with_label(format!("token: {TOKEN}"))
                .with_note(format!("password={TOKEN}"));
            for out in [d.render_plain(), d.to_string(), format!("{d:?}")] {
                assert!(!out.contains(TOKEN), "{out}");
            }
            assert!(
                !format!("{d:?}").contains("cloudflare"),
                "Debug holds the file text"
            );
        }
        // Masking keeps lengths, so spans stay valid, and leaves ordinary text alone.
        assert_eq!(mask_secrets(&text).len(), text.len());
        let plain = "rule = \"aws-rds-not-public\"\nreason = \"Spec: IP allowlisting not done\"";
        assert_eq!(mask_secrets(plain), plain);
        assert_eq!(
            mask_secrets("key AKIAIOSFODNN7EXAMPLE."),
            "key ********************."
        );
    }

    #[test]
    fn a_long_line_is_windowed_and_controls_are_neutralised() {
        let text = format!(
            "x = \"{}\u{1b}[2J{}\" junk\n",
            "a".repeat(5000),
            "b".repeat(10)
        );
        let src: Arc<str> = Arc::from(text.as_str());
        let at = text.find("junk").unwrap();
        let out = Diagnostic::at("f.toml", &src, at..at + 4, "bad").render_plain();
        assert!(out.starts_with("error: f.toml:1:5022: bad"), "{out}");
        assert!(out.len() < 1000 && !out.contains('\u{1b}'), "{out}");
        assert!(out.contains("characters long"), "{out}");
    }
}
