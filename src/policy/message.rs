//! A rule's `message` template: the failing finding's sentence, with `{resource}` and
//! `{<evidence path>}` placeholders and `{{`/`}}` for literal braces (docs/design.md §5). It owns
//! parsing the template and checking every placeholder against the rule's evidence paths, and
//! putting the sentence together from values already said in words. It must not read resources
//! nor turn values into words (that is `engine`'s, which knows the values).

use std::ops::Range;

use crate::text::suggest;

/// The placeholder naming the resource (its name; its id when it has none).
pub const RESOURCE: &str = "resource";

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text as written (braces unescaped).
    Text(String),
    /// `{resource}`.
    Resource,
    /// `{<path>}`: one of the rule's evidence paths.
    Field(String),
}

/// A parsed `message` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// The template as written.
    pub source: String,
    pub pieces: Vec<Piece>,
}

/// A problem in a template: what is wrong, a label, notes, and where (a byte range of the
/// template's text).
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub label: String,
    pub notes: Vec<String>,
    pub span: Range<usize>,
}

impl Template {
    /// Parses `src`; every placeholder must be `resource` or one of `evidence`. All problems are
    /// returned, each with its place in `src`.
    pub fn parse(src: &str, evidence: &[String]) -> Result<Template, Vec<TemplateError>> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut errors: Vec<TemplateError> = Vec::new();
        let mut text = String::new();
        let mut chars = src.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => errors.push(TemplateError {
                    message: "unmatched `}` in `message`".into(),
                    label: "no `{` opens this".into(),
                    notes: vec!["help: write `}}` for a literal brace".into()],
                    span: i..i + 1,
                }),
                '{' => {
                    let Some(close) = src[i + 1..].find(['}', '{']).map(|p| i + 1 + p) else {
                        errors.push(unclosed(i));
                        break;
                    };
                    if src[close..].starts_with('{') {
                        errors.push(unclosed(i));
                        continue;
                    }
                    let name = src[i + 1..close].trim();
                    while chars.peek().is_some_and(|&(j, _)| j <= close) {
                        chars.next();
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    if name == RESOURCE {
                        pieces.push(Piece::Resource);
                    } else if evidence.iter().any(|p| p == name) {
                        pieces.push(Piece::Field(name.to_string()));
                    } else {
                        errors.push(unknown_placeholder(name, evidence, i..close + 1));
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        if errors.is_empty() {
            Ok(Template {
                source: src.to_string(),
                pieces,
            })
        } else {
            Err(errors)
        }
    }

    /// The sentence: `resource` for `{resource}`, `field(path)` (the value in words) for each
    /// `{<path>}`.
    pub fn render(&self, resource: &str, mut field: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Resource => out.push_str(resource),
                Piece::Field(path) => out.push_str(&field(path)),
            }
        }
        out
    }
}

fn unclosed(at: usize) -> TemplateError {
    TemplateError {
        message: "unclosed `{` in `message`".into(),
        label: "no `}` closes this".into(),
        notes: vec!["help: write `{{` for a literal brace".into()],
        span: at..at + 1,
    }
}

fn unknown_placeholder(name: &str, evidence: &[String], span: Range<usize>) -> TemplateError {
    let mut notes = Vec::new();
    let candidates = std::iter::once(RESOURCE).chain(evidence.iter().map(String::as_str));
    match suggest(name, candidates) {
        Some(s) => notes.push(format!("help: did you mean `{{{s}}}`?")),
        None => {
            notes.push("help: to cite a field of the resource, add its path to `evidence`".into())
        }
    }
    let mut allowed = vec![format!("`{{{RESOURCE}}}`")];
    allowed.extend(evidence.iter().map(|p| format!("`{{{p}}}`")));
    notes.push(format!(
        "a placeholder is the resource or one of the rule's `evidence` paths: {}",
        allowed.join(", ")
    ));
    TemplateError {
        message: format!("unknown placeholder `{{{name}}}` in `message`"),
        label: "not the resource nor an evidence path".into(),
        notes,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Vec<String> {
        vec!["storage_encrypted".into(), "internet.path".into()]
    }

    #[test]
    fn placeholders_text_and_escaped_braces() {
        let t = Template::parse(
            "{resource} {{x}} has {internet.path} and { storage_encrypted }",
            &ev(),
        )
        .unwrap();
        assert_eq!(
            t.pieces,
            [
                Piece::Resource,
                Piece::Text(" {x} has ".into()),
                Piece::Field("internet.path".into()),
                Piece::Text(" and ".into()),
                Piece::Field("storage_encrypted".into()),
            ]
        );
        let s = t.render("db", |p| format!("<{p}>"));
        assert_eq!(s, "db {x} has <internet.path> and <storage_encrypted>");
    }

    #[test]
    fn unknown_unclosed_and_unmatched_are_errors_at_their_place() {
        let errs = Template::parse("{resourse} is {storage_encryptd} {x", &ev()).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[0].span, 0..10);
        assert_eq!(errs[0].notes[0], "help: did you mean `{resource}`?");
        assert_eq!(
            errs[1].notes[0],
            "help: did you mean `{storage_encrypted}`?"
        );
        assert_eq!(errs[2].message, "unclosed `{` in `message`");
        assert_eq!(errs[2].span, 33..34);
        let errs = Template::parse("a } b", &ev()).unwrap_err();
        assert_eq!(errs[0].message, "unmatched `}` in `message`");
        assert_eq!(errs[0].span, 2..3);
    }
}
