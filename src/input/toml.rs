//! The one spanned-TOML loader behind the three TOML input files: policies, waivers and
//! `estate.toml` (docs/design.md §2). It owns what reading them has in common: the recoverable
//! parse that reports every syntax error at once, the parser's nesting limit given a location,
//! the tables with their keys checked against an allowed list ("did you mean" from
//! [`crate::text::suggest`]), typed getters that record a located diagnostic for a value of the
//! wrong type, the type names labels use, the header spans of `[[table]]`s and the diagnostics
//! in file order. Reading the document rather than deserialising it is what lets one pass report
//! every problem of a file, not just the first serde meets.
//!
//! It must not know any of the three formats: which keys a file has, which are required and
//! what their values mean belong to its reader. The sentences differ between the files (policies
//! and `estate.toml` say "found integer", waivers "this is an integer"), so a reader picks its
//! [`Style`]; the mechanics stay here.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use ::toml::de::DeTable;
pub use ::toml::de::DeValue;
use ::toml::Spanned;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use crate::diag::{without_echoed_strings, Diagnostic, Diagnostics};

/// A table of the document: its keys and values, each with its span.
pub type Table<'i> = DeTable<'i>;
/// A key with its span.
pub type Key<'i> = Spanned<Cow<'i, str>>;
/// A value with its span.
pub type Value<'i> = Spanned<DeValue<'i>>;
/// The document itself, with the span of the whole text.
pub type Document<'i> = Spanned<DeTable<'i>>;

/// The TOML parser's nesting limit. A value nested deeper (`[[[[…`, `{a={a=…`) the parser stops
/// with a located error of its own; a dotted key or table header with about as many parts it
/// refuses without a location, which [`diagnostic`] adds. The limit also bounds how deep
/// dropping or walking a parsed document recurses.
pub const MAX_NESTING: usize = 80;

/// How a reader's diagnostics are worded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Policy files and `estate.toml`: "`key` must be a string, found integer" under "expected a
    /// string"; an unknown key gets "help: did you mean …" when one is close, and always the
    /// allowed keys.
    Found,
    /// Waiver files: "`key` must be a string" under "this is an integer"; an unknown key gets
    /// "did you mean …" (one or two edits away), or else the keys expected.
    ThisIs,
}

/// One TOML file being read: its text, shared by every diagnostic, and the diagnostics so far.
pub struct File<'a> {
    pub origin: &'a str,
    pub text: &'a str,
    pub source: Arc<str>,
    pub style: Style,
    pub diags: Diagnostics,
}

/// Parses `text` (named `origin` in diagnostics), recovering after errors: every syntax error
/// of the file, in file order, or the document and the [`File`] to read it with. Syntax errors
/// end the load: a partially recovered document would only add noise.
pub fn parse<'a>(
    text: &'a str,
    origin: &'a str,
    style: Style,
) -> Result<(File<'a>, Document<'a>), Diagnostics> {
    let source: Arc<str> = Arc::from(text);
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let mut diags: Vec<Diagnostic> = errors
            .iter()
            .map(|e| diagnostic(origin, &source, e))
            .collect();
        in_file_order(&mut diags);
        return Err(Diagnostics(diags));
    }
    let file = File {
        origin,
        text,
        source,
        style,
        diags: Diagnostics::default(),
    };
    Ok((file, doc))
}

/// A TOML parse or deserialisation error, with its span when the parser gives one. `source` is
/// the file's text shared by the file's other diagnostics: a file with thousands of syntax errors
/// must not be copied once per error.
pub fn diagnostic(origin: &str, source: &Arc<str>, err: &::toml::de::Error) -> Diagnostic {
    let text: &str = source;
    let source = source.clone();
    let message = without_echoed_strings(err.message().trim_end());
    match err.span() {
        Some(span) => Diagnostic::at(origin, &source, span, message),
        // The parser's one spanless error: a dotted key or table header with too many parts
        // (its nesting limit). Point at the key ourselves so the error has a location.
        None if message == "recursion limit" => {
            let d = Diagnostic::plain(
                origin,
                format!(
                    "a dotted key or table header has too many parts (the TOML parser's nesting \
                     limit is {MAX_NESTING})"
                ),
            );
            match deep_dotted_key(text) {
                Some(at) => Diagnostic {
                    span: Some(at..at),
                    source: Some(source),
                    ..d
                }
                .with_label("too deeply nested"),
                None => d,
            }
        }
        None => Diagnostic::plain(origin, message),
    }
}

/// Offset of the first line holding a chain of [`MAX_NESTING`] or more dot-separated key parts:
/// what the TOML parser refuses without saying where. Quoted parts count as one part each.
fn deep_dotted_key(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let mut dots = 0usize;
        let mut max = 0usize;
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '.') => {
                    dots += 1;
                    max = max.max(dots);
                }
                (None, c) if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ' | '\t') => {}
                (None, _) => dots = 0,
            }
        }
        if max >= MAX_NESTING - 1 {
            return Some(offset + line.len() - line.trim_start().len());
        }
        offset += line.len();
    }
    None
}

/// Diagnostics sorted by where they point (spanless ones first): a table's keys come in the
/// order of its map, not of the file. The sort is stable, so problems at one place keep the order
/// they were found in.
pub fn in_file_order(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
}

/// "a string", "an integer", … for labels.
pub fn a_type(v: &DeValue<'_>) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

impl File<'_> {
    /// A diagnostic at `span` of this file, not yet recorded.
    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.origin, &self.source, span, message)
    }

    /// Records a diagnostic at `span`; the caller may add a label and notes.
    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.at(span, message);
        self.push(d)
    }

    /// Records `d`.
    pub fn push(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.diags.push(d);
        let last = self.diags.0.len() - 1;
        &mut self.diags.0[last]
    }

    /// Records that `key`'s value `v` is not `want` ("a string", "an array of strings").
    pub fn wrong_type(&mut self, key: &str, want: &str, v: &Value<'_>) -> &mut Diagnostic {
        let (message, label) = match self.style {
            Style::Found => (
                format!("`{key}` must be {want}, found {}", v.get_ref().type_str()),
                format!("expected {want}"),
            ),
            Style::ThisIs => (
                format!("`{key}` must be {want}"),
                format!("this is {}", a_type(v.get_ref())),
            ),
        };
        let d = self.error(v.span(), message);
        d.label = Some(label);
        d
    }

    /// Records every key of `table` not in `allowed`, with the closest allowed key as a
    /// suggestion; `message` words the headline for a key ("unknown key `x` in rule").
    pub fn check_keys(
        &mut self,
        table: &Table<'_>,
        allowed: &[&str],
        message: impl Fn(&str) -> String,
    ) {
        for (key, _) in table.iter() {
            let k = key.get_ref().as_ref();
            if allowed.contains(&k) {
                continue;
            }
            let mut d = self.at(key.span(), message(k)).with_label("unknown key");
            d = match self.style {
                Style::Found => {
                    if let Some(s) = crate::text::suggest(k, allowed.iter().copied()) {
                        d = d.with_note(format!("help: did you mean `{s}`?"));
                    }
                    d.with_note(format!("allowed keys: {}", allowed.join(", ")))
                }
                Style::ThisIs => match crate::text::closest(k, allowed.iter().copied(), 2) {
                    Some(s) => d.with_note(format!("did you mean `{s}`?")),
                    None => d.with_note(format!("expected one of: {}", allowed.join(", "))),
                },
            };
            self.diags.push(d);
        }
    }

    /// A string value.
    pub fn string(&mut self, key: &str, v: &Value<'_>) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, "a string", v);
                None
            }
        }
    }

    /// A string that says something (not only blanks); `note` is added to the diagnostic of an
    /// empty one.
    pub fn non_empty_string(
        &mut self,
        key: &str,
        v: &Value<'_>,
        note: Option<&str>,
    ) -> Option<String> {
        let s = self.string(key, v)?;
        if s.trim().is_empty() {
            let d = self.error(v.span(), format!("`{key}` must not be empty"));
            d.label = Some("empty".into());
            d.notes.extend(note.map(str::to_string));
            return None;
        }
        Some(s)
    }

    /// A boolean value.
    pub fn bool(&mut self, key: &str, v: &Value<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, "a boolean", v);
                None
            }
        }
    }

    /// An integer value that fits 64 bits.
    pub fn integer(&mut self, key: &str, v: &Value<'_>) -> Option<i64> {
        let DeValue::Integer(i) = v.get_ref() else {
            self.wrong_type(key, "an integer", v);
            return None;
        };
        let parsed = i64::from_str_radix(i.as_str(), i.radix()).ok();
        if parsed.is_none() {
            self.error(v.span(), format!("`{key}` is out of range"))
                .label = Some("does not fit in 64 bits".into());
        }
        parsed
    }

    /// An array of strings, with each element's span; every element of another type is recorded.
    pub fn strings(&mut self, key: &str, v: &Value<'_>) -> Option<Vec<(String, Range<usize>)>> {
        let Some(items) = v.get_ref().as_array() else {
            self.wrong_type(key, "an array of strings", v);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                _ => {
                    self.wrong_type(key, "an array of strings", item);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A date: a TOML local date (`2026-12-31`) or a string of that form.
    pub fn date(&mut self, key: &str, v: &Value<'_>) -> Option<NaiveDate> {
        let parsed = match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), d.day.into())
                }
                _ => None,
            },
            DeValue::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
            _ => {
                self.wrong_type(key, "a date", v)
                    .notes
                    .push(format!("write it as `{key} = 2026-12-31`"));
                return None;
            }
        };
        if parsed.is_none() {
            let d = self.error(v.span(), format!("`{key}` is not a valid date"));
            d.label = Some("expected YYYY-MM-DD".into());
            d.notes.push(format!(
                "write it as `{key} = 2026-12-31` (a date, no time)"
            ));
        }
        parsed
    }

    /// A table value (`[key]` or an inline table).
    pub fn table<'t, 'i>(&mut self, key: &str, v: &'t Value<'i>) -> Option<&'t Table<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, "a table", v);
                None
            }
        }
    }

    /// The tables of an array of tables (`[[key]]`), each with its span; an element that is not
    /// a table is recorded and left out, and a value that is not an array gives none.
    pub fn tables<'t, 'i>(
        &mut self,
        key: &Key<'_>,
        v: &'t Value<'i>,
    ) -> Vec<(&'t Table<'i>, Range<usize>)> {
        let name = key.get_ref().as_ref();
        let Some(items) = v.get_ref().as_array() else {
            match self.style {
                Style::Found => {
                    self.wrong_type(name, &format!("an array of tables (`[[{name}]]`)"), v);
                }
                // Pointing at the key: for `[waiver]` that is the name between the brackets.
                Style::ThisIs => {
                    let d = self
                        .at(key.span(), format!("`{name}` must be an array of tables"))
                        .with_label(format!("this is {}", a_type(v.get_ref())))
                        .with_note(format!("write each {name} as `[[{name}]]` (two brackets)"));
                    self.diags.push(d);
                }
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span())),
                _ if self.style == Style::Found => {
                    self.wrong_type(name, "a table", item);
                }
                other => {
                    let d = self
                        .at(item.span(), format!("a {name} must be a table"))
                        .with_label(format!("this is {}", a_type(other)));
                    self.diags.push(d);
                }
            }
        }
        out
    }

    /// The `[[name]]` header at the start of an array-of-tables element spanning `item`, or an
    /// empty span at its start (an inline table has no header).
    pub fn header_span(&self, item: Range<usize>) -> Range<usize> {
        let at = item.start;
        let rest = self.source.get(at..).unwrap_or("");
        if rest.starts_with("[[") {
            let len = rest.find(']').map_or(0, |i| i + 2).min(rest.len());
            at..at + len
        } else {
            at..at
        }
    }

    /// 1-based line and (char) column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text;
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// The document as a `T`, built by serde. For a reader that has checked every key and type
    /// itself (serde stops at the first problem): what serde adds is its defaults.
    pub fn build<T: DeserializeOwned>(&self, doc: Document<'_>) -> Result<T, Diagnostic> {
        T::deserialize(::toml::de::Deserializer::from(doc))
            .map_err(|e| diagnostic(self.origin, &self.source, &e))
    }

    /// The diagnostics recorded, in file order.
    pub fn finish(mut self) -> Diagnostics {
        in_file_order(&mut self.diags.0);
        self.diags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str, style: Style) -> (File<'_>, Document<'_>) {
        match parse(text, "f.toml", style) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        }
    }

    fn messages(file: File<'_>) -> Vec<String> {
        file.finish()
            .0
            .iter()
            .map(|d| {
                let (l, c) = d.line_col().unwrap_or((0, 0));
                let label = d.label.as_deref().unwrap_or("");
                format!("{l}:{c} {} [{label}] {:?}", d.message, d.notes)
            })
            .collect()
    }

    /// Runs `read` over `text` in each wording and compares what it recorded with `found` and
    /// `this_is`.
    fn in_both_wordings(
        text: &str,
        read: impl Fn(&mut File<'_>, &Document<'_>),
        found: &[&str],
        this_is: &[&str],
    ) {
        for (style, want) in [(Style::Found, found), (Style::ThisIs, this_is)] {
            let (mut f, d) = doc(text, style);
            read(&mut f, &d);
            assert_eq!(messages(f), want, "{style:?}");
        }
    }

    #[test]
    fn every_syntax_error_at_once_in_file_order() {
        let Err(err) = parse("a = \nb = \"x\nc = 1 2\n", "f.toml", Style::Found) else {
            panic!("accepted");
        };
        let at: Vec<_> = err.0.iter().map(|d| d.line_col().unwrap()).collect();
        assert!(at.len() >= 2, "{err}");
        assert!(at.windows(2).all(|w| w[0] <= w[1]), "{at:?}");
    }

    #[test]
    fn an_over_long_dotted_key_is_located() {
        let text = format!("ok = 1\nx{} = 1\n", ".x".repeat(200));
        let Err(err) = parse(&text, "f.toml", Style::ThisIs) else {
            panic!("accepted");
        };
        assert_eq!(err.len(), 1, "{err}");
        assert_eq!(err.0[0].line_col(), Some((2, 1)));
        assert!(err.0[0].message.contains("limit is 80"), "{err}");
    }

    #[test]
    fn typed_getters_read_good_values() {
        let text = "s = \"x\"\nb = true\ni = 0x10\nl = [\"a\", \"b\"]\nd = 2026-12-31\ne = \"2026-01-02\"\n[t]\nk = 1\n";
        let (mut f, d) = doc(text, Style::Found);
        let t = d.get_ref();
        assert_eq!(f.string("s", &t["s"]).as_deref(), Some("x"));
        assert_eq!(f.non_empty_string("s", &t["s"], None).as_deref(), Some("x"));
        assert_eq!(f.bool("b", &t["b"]), Some(true));
        assert_eq!(f.integer("i", &t["i"]), Some(16));
        let l = f.strings("l", &t["l"]).unwrap();
        assert_eq!(
            l.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(&text[l[1].1.clone()], "\"b\"");
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(f.date("d", &t["d"]), day("2026-12-31"));
        assert_eq!(f.date("e", &t["e"]), day("2026-01-02"));
        assert!(f.table("t", &t["t"]).is_some_and(|t| t.contains_key("k")));
        assert!(f.finish().is_empty());
    }

    #[test]
    fn typed_getters_in_both_wordings() {
        let text = "s = 1\nb = \"yes\"\nl = [\"a\", 2]\nd = true\ne = \"31/12\"\nt = 3\nn = \" \"\ni = 99999999999999999999\n";
        let read = |f: &mut File<'_>, d: &Document<'_>| {
            let t = d.get_ref();
            assert_eq!(f.string("s", &t["s"]), None);
            assert_eq!(f.bool("b", &t["b"]), None);
            assert_eq!(f.strings("l", &t["l"]), None);
            assert_eq!(f.date("d", &t["d"]), None);
            assert_eq!(f.date("e", &t["e"]), None);
            assert!(f.table("t", &t["t"]).is_none());
            assert_eq!(
                f.non_empty_string("n", &t["n"], Some("say something")),
                None
            );
            assert_eq!(f.integer("i", &t["i"]), None);
        };
        // An invalid date, an empty string and an integer out of range are not type errors:
        // they read the same in both wordings.
        in_both_wordings(
            text,
            read,
            &[
                "1:5 `s` must be a string, found integer [expected a string] []",
                "2:5 `b` must be a boolean, found string [expected a boolean] []",
                "3:11 `l` must be an array of strings, found integer [expected an array of strings] []",
                "4:5 `d` must be a date, found boolean [expected a date] [\"write it as `d = 2026-12-31`\"]",
                "5:5 `e` is not a valid date [expected YYYY-MM-DD] [\"write it as `e = 2026-12-31` (a date, no time)\"]",
                "6:5 `t` must be a table, found integer [expected a table] []",
                "7:5 `n` must not be empty [empty] [\"say something\"]",
                "8:5 `i` is out of range [does not fit in 64 bits] []",
            ],
            &[
                "1:5 `s` must be a string [this is an integer] []",
                "2:5 `b` must be a boolean [this is a string] []",
                "3:11 `l` must be an array of strings [this is an integer] []",
                "4:5 `d` must be a date [this is a boolean] [\"write it as `d = 2026-12-31`\"]",
                "5:5 `e` is not a valid date [expected YYYY-MM-DD] [\"write it as `e = 2026-12-31` (a date, no time)\"]",
                "6:5 `t` must be a table [this is an integer] []",
                "7:5 `n` must not be empty [empty] [\"say something\"]",
                "8:5 `i` is out of range [does not fit in 64 bits] []",
            ],
        );
    }

    #[test]
    fn unknown_keys_get_suggestions_in_both_wordings() {
        in_both_wordings(
            "tag_kye = 1\nzzzzzz = 2\n",
            |f, d| {
                f.check_keys(d.get_ref(), &["tag_key", "public"], |k| {
                    format!("unknown key `{k}` in x")
                })
            },
            &[
                "1:1 unknown key `tag_kye` in x [unknown key] [\"help: did you mean `tag_key`?\", \"allowed keys: tag_key, public\"]",
                "2:1 unknown key `zzzzzz` in x [unknown key] [\"allowed keys: tag_key, public\"]",
            ],
            &[
                "1:1 unknown key `tag_kye` in x [unknown key] [\"did you mean `tag_key`?\"]",
                "2:1 unknown key `zzzzzz` in x [unknown key] [\"expected one of: tag_key, public\"]",
            ],
        );
    }

    #[test]
    fn arrays_of_tables_and_their_headers() {
        let text = "[[w]]\na = 1\n\n[[w]]\nb = 2\n";
        let (mut f, d) = doc(text, Style::ThisIs);
        let (key, value) = d.get_ref().iter().next().unwrap();
        let tables = f.tables(key, value);
        assert_eq!(tables.len(), 2);
        let header = f.header_span(tables[1].1.clone());
        assert_eq!(&text[header.clone()], "[[w]]");
        assert_eq!(f.line_col(header.start), (4, 1));
        assert!(f.finish().is_empty());

        let read = |f: &mut File<'_>, d: &Document<'_>| {
            let mut found = 0;
            for (key, value) in d.get_ref().iter() {
                for (t, span) in f.tables(key, value) {
                    found += 1;
                    assert!(t.contains_key("a"));
                    // An inline table has no header: an empty span at its start.
                    assert_eq!(f.header_span(span.clone()), span.start..span.start);
                }
            }
            assert_eq!(found, 1);
        };
        in_both_wordings(
            "w = [1, {a = 1}]\nv = 1\n",
            read,
            &[
                "1:6 `w` must be a table, found integer [expected a table] []",
                "2:5 `v` must be an array of tables (`[[v]]`), found integer [expected an array of tables (`[[v]]`)] []",
            ],
            &[
                "1:6 a w must be a table [this is an integer] []",
                "2:1 `v` must be an array of tables [this is an integer] [\"write each v as `[[v]]` (two brackets)\"]",
            ],
        );
    }

    #[test]
    fn type_names_take_their_article() {
        let (_, d) = doc("a = 1\nb = \"x\"\nc = []\n", Style::Found);
        let t = d.get_ref();
        let names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|k| a_type(t[*k].get_ref()))
            .collect();
        assert_eq!(names, ["an integer", "a string", "an array"]);
    }
}
