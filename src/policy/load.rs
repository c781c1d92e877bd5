//! Reading one policy file: TOML with spans → validated, compiled [`Rule`]s, or every problem
//! found, each a [`Diagnostic`](crate::diag::Diagnostic) at the offending key or value. The
//! document is read through `input::toml` (the loader the three TOML files share), in its "found
//! integer" wording; what a rule's keys mean, and the CEL they hold, are checked here.

use std::ops::Range;
use std::sync::Arc;

use super::fields;
use super::message::Template;
use super::{Expression, Rule};
use crate::diag::Diagnostics;
use crate::finding::{Gate, RuleInfo, Severity};
use crate::input::toml::{self, DeValue, File, Key, Style, Table, Value};
use crate::model::{MonitoringProvider, KINDS};
use crate::text::suggest;

/// Every key a `[[rule]]` may have.
pub(super) const KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "gate",
    "kind",
    "spec",
    "when",
    "assert",
    "required",
    "evidence",
    "message",
    "wants",
    "monitoring",
    "risk",
    "remediation",
    "references",
];

/// Longest `when`/`assert` text. The longest built-in expression is under 500 bytes; the limit
/// also bounds the syntax tree a rejected expression leaves to drop.
pub(crate) const MAX_EXPRESSION_BYTES: usize = 8 * 1024;
/// Deepest nesting of brackets (`(`, `[`, `{`) plus ternaries (`?`) in an expression. The CEL
/// parser recurses on each level with large frames (some 70 KiB a level in a debug build): 90
/// nested parentheses overflowed the main thread's stack. Counted over the whole text, string
/// literals included, so no quoting can hide a level from the count.
pub(crate) const MAX_EXPRESSION_NESTING: usize = 24;
/// Deepest syntax tree. Evaluation and the field check recurse once per level (some 20 KiB a
/// level when evaluating in a debug build: 48 levels overflowed a 1 MiB stack), and the engine's worker threads have 2 MiB stacks; a
/// chain like `1 + 1 + … + 1` parses without nesting into a tree as deep as it is long.
pub(crate) const MAX_EXPRESSION_DEPTH: usize = 32;
/// Deepest nesting of comprehension macros (`all`, `exists`, `map`, …): each level multiplies the
/// work by its list's length, so three levels over a long literal list would never finish.
pub(crate) const MAX_COMPREHENSION_NESTING: usize = 2;

/// Keys without a default.
const REQUIRED_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "kind",
    "spec",
    "assert",
    "risk",
    "remediation",
    "references",
];

/// Parses and validates one file. Rules that are valid are returned even when others are not;
/// the caller treats any diagnostic as a failed load.
pub(super) fn parse_file(text: &str, origin: &str) -> (Vec<Rule>, Diagnostics) {
    let (mut file, doc) = match toml::parse(text, origin, Style::Found) {
        Ok(parsed) => parsed,
        // Syntax errors alone: a partially recovered document would only add noise.
        Err(diags) => return (Vec::new(), diags),
    };
    let mut rules = Vec::new();
    let mut top: Vec<(&Key<'_>, &Value<'_>)> = doc.get_ref().iter().collect();
    top.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in top {
        if key.get_ref() != "rule" {
            let mut d = file
                .at(
                    key.span(),
                    format!("unknown top-level key `{}`", key.get_ref()),
                )
                .with_label("not part of a policy file")
                .with_note("help: a policy file holds only `[[rule]]` tables");
            if suggest(key.get_ref(), ["rule"].into_iter()).is_some() {
                d = d.with_note("help: did you mean `[[rule]]`?");
            }
            file.push(d);
            continue;
        }
        for (t, span) in file.tables(key, value) {
            if let Some(rule) = parse_rule(&mut file, t, span) {
                rules.push(rule);
            }
        }
    }
    // Duplicates within the file (across files: `PolicySet::extend`).
    let mut seen: Vec<&Rule> = Vec::new();
    let mut dups = Vec::new();
    for r in &rules {
        if let Some(first) = seen.iter().find(|f| f.info.id == r.info.id) {
            dups.push(super::duplicate_diag(first, r));
        } else {
            seen.push(r);
        }
    }
    for d in dups {
        file.push(d);
    }
    (rules, file.finish())
}

fn parse_rule(file: &mut File<'_>, t: &Table<'_>, header: Range<usize>) -> Option<Rule> {
    let before = file.diags.len();
    let get = |name: &str| t.get(name);

    file.check_keys(t, KEYS, |k| format!("unknown key `{k}` in rule"));
    let id_for_msg = get("id")
        .and_then(|v| v.get_ref().as_str().map(str::to_string))
        .unwrap_or_default();
    for key in REQUIRED_KEYS {
        if get(key).is_none() {
            let what = if id_for_msg.is_empty() {
                "rule".to_string()
            } else {
                format!("rule `{id_for_msg}`")
            };
            file.error(
                header.clone(),
                format!("{what} is missing required key `{key}`"),
            )
            .label = Some(format!("this rule has no `{key}`"));
        }
    }

    let id = get("id").and_then(|v| file.string("id", v));
    let id_span = get("id").map(|v| v.span());
    if let (Some(id), Some(span)) = (&id, &id_span) {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            file.error(span.clone(), format!("invalid rule id `{id}`"))
                .notes
                .push(
                    "ids use lowercase letters, digits and `-` only, e.g. `aws-rds-not-public`"
                        .into(),
                );
        }
    }
    let mut doc_text = |key: &str| get(key).and_then(|v| file.non_empty_string(key, v, None));
    let title = doc_text("title");
    let spec = doc_text("spec");
    let risk = doc_text("risk");
    let remediation = doc_text("remediation");

    let severity = get("severity").and_then(|v| {
        let s = file.string("severity", v)?;
        let parsed = Severity::parse(&s);
        if parsed.is_none() {
            let d = file.error(v.span(), format!("unknown severity `{s}`"));
            d.label = Some("not a severity".into());
            d.notes
                .push("expected one of: critical, high, medium, low, info".into());
        }
        parsed
    });
    let gate = match get("gate") {
        None => Some(Gate::Launch),
        Some(v) => file.string("gate", v).and_then(|s| {
            let parsed = Gate::parse(&s);
            if parsed.is_none() {
                let d = file.error(v.span(), format!("unknown gate `{s}`"));
                d.label = Some("not a gate".into());
                d.notes.push("expected one of: launch, operate".into());
            }
            parsed
        }),
    };
    let required = match get("required") {
        None => Some(false),
        Some(v) => file.bool("required", v),
    };
    let kinds = get("kind").and_then(|v| kinds(file, v));
    let references = get("references").and_then(|v| references(file, v));
    let monitoring = match get("monitoring") {
        None => Some(Vec::new()),
        Some(v) => monitoring_parts(file, v),
    };
    let evidence = match get("evidence") {
        None => Some(Vec::new()),
        Some(v) => file.strings("evidence", v),
    };

    // Expressions need the kinds to check fields; without valid kinds, syntax is still checked.
    let kind_list: Vec<String> = kinds.clone().unwrap_or_default();
    let when = match get("when") {
        None => Some(None),
        Some(v) => expression(file, v, "when", &kind_list).map(Some),
    };
    let assert = get("assert").and_then(|v| expression(file, v, "assert", &kind_list));

    if let Some(list) = &evidence {
        check_evidence(file, list, &kind_list);
    }
    let evidence = evidence.map(|l| l.into_iter().map(|(s, _)| s).collect::<Vec<_>>());
    let message = match (get("message"), &evidence) {
        (None, _) => Some(None),
        (Some(v), Some(evidence)) => message(file, v, evidence).map(Some),
        // Placeholders are checked against the evidence paths, which are wrong already.
        (Some(_), None) => None,
    };
    let wants = match get("wants") {
        None => Some(None),
        Some(v) => file
            .non_empty_string(
                "wants",
                v,
                Some("help: say what the spec wants, e.g. `TLS only (5671)`"),
            )
            .map(|w| Some(w.trim().trim_end_matches('.').to_string())),
    };

    if file.diags.len() != before {
        return None;
    }
    let (line, column) = file.line_col(header.start);
    Some(Rule {
        info: RuleInfo {
            id: id?,
            title: title?,
            severity: severity?,
            gate: gate?,
            kinds: kinds?,
            spec: spec?,
            risk: risk?,
            remediation: remediation?,
            references: references?,
            monitoring: monitoring?,
        },
        when: when?,
        assert: assert?,
        required: required?,
        evidence: evidence?,
        message: message?,
        wants: wants?,
        origin: file.origin.to_string(),
        line,
        column,
        id_span: id_span.map(|s| (file.source.clone(), s)),
    })
}

/// `monitoring`: the parts of the monitoring plane the rule judges, by their `[monitoring]` names.
fn monitoring_parts(file: &mut File<'_>, v: &Value<'_>) -> Option<Vec<MonitoringProvider>> {
    let list = file.strings("monitoring", v)?;
    if list.is_empty() {
        let d = file.error(v.span(), "`monitoring` must not be an empty list");
        d.label = Some("no part".into());
        d.notes
            .push("help: leave the key out for a rule that reads no monitoring part".into());
        return None;
    }
    let names = MonitoringProvider::ALL.map(MonitoringProvider::as_str);
    let mut parts = Vec::new();
    for (name, span) in &list {
        match MonitoringProvider::ALL
            .into_iter()
            .find(|p| p.as_str() == name.as_str())
        {
            Some(p) if !parts.contains(&p) => parts.push(p),
            Some(_) => {
                file.error(span.clone(), format!("`{name}` is listed twice"))
                    .label = Some("already listed".into());
            }
            None => {
                let d = file.error(span.clone(), format!("unknown monitoring part `{name}`"));
                d.label = Some("not a part of the monitoring plane".into());
                if let Some(s) = suggest(name, names.iter().copied()) {
                    d.notes.push(format!("help: did you mean `{s}`?"));
                }
                d.notes.push(format!("the parts are: {}", names.join(", ")));
            }
        }
    }
    (parts.len() == list.len()).then_some(parts)
}

/// `message`: a template whose placeholders are `resource` and the rule's evidence paths.
fn message(file: &mut File<'_>, v: &Value<'_>, evidence: &[String]) -> Option<Template> {
    let src = file.non_empty_string(
        "message",
        v,
        Some("help: say what is wrong, e.g. `{resource} opens {broker_ports_open}`"),
    )?;
    match Template::parse(&src, evidence) {
        Ok(t) => Some(t),
        Err(errors) => {
            let literal = v.span();
            for e in errors {
                let span = map_into_literal(file.text, &literal, &src, e.span);
                let d = file.error(span, e.message);
                d.label = Some(e.label);
                d.notes.extend(e.notes);
            }
            None
        }
    }
}

/// `references`: a non-empty list of http(s) links.
fn references(file: &mut File<'_>, v: &Value<'_>) -> Option<Vec<String>> {
    let list = file.strings("references", v)?;
    if list.is_empty() {
        file.error(v.span(), "`references` must not be empty")
            .notes
            .push("give at least one documentation link".into());
        return None;
    }
    let mut ok = true;
    for (s, span) in &list {
        if !(s.starts_with("https://") || s.starts_with("http://")) {
            file.error(span.clone(), format!("reference `{s}` is not a URL"))
                .label = Some("expected an http(s) link".into());
            ok = false;
        }
    }
    ok.then(|| list.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
}

/// Every evidence path must be a field of every kind of the rule (the first kind it is not a
/// field of is named).
fn check_evidence(file: &mut File<'_>, list: &[(String, Range<usize>)], kinds: &[String]) {
    for (path, span) in list {
        for kind in kinds {
            if let Err((msg, notes)) = fields::check_path(path, kind) {
                let d = file.error(span.clone(), format!("evidence path: {msg}"));
                d.label = Some(format!("not a field of {kind}"));
                d.notes.extend(notes);
                break;
            }
        }
    }
}

/// `kind`: a known kind or a non-empty list of them.
fn kinds(file: &mut File<'_>, v: &Value<'_>) -> Option<Vec<String>> {
    let list = match v.get_ref() {
        DeValue::String(s) => vec![(s.to_string(), v.span())],
        DeValue::Array(_) => {
            let l = file.strings("kind", v)?;
            if l.is_empty() {
                file.error(v.span(), "`kind` must not be an empty list")
                    .label = Some("no kind".into());
                return None;
            }
            l
        }
        _ => {
            file.wrong_type("kind", "a string or an array of strings", v);
            return None;
        }
    };
    let mut ok = true;
    for (k, span) in &list {
        if !KINDS.contains(&k.as_str()) {
            ok = false;
            let d = file.error(span.clone(), format!("unknown kind `{k}`"));
            d.label = Some("not a resource kind".into());
            if let Some(s) = suggest(k, KINDS.iter().copied()) {
                d.notes.push(format!("help: did you mean `{s}`?"));
            }
            d.notes.push(
                "the kinds are listed by `estate-audit rules --kinds` and in model::KINDS".into(),
            );
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (k, _) in list {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    ok.then_some(out)
}

/// Maps a byte range inside a string value's content to the file, when the literal holds the
/// text verbatim (no escapes); else the whole literal.
fn map_into_literal(
    file_text: &str,
    literal: &Range<usize>,
    decoded: &str,
    inner: Range<usize>,
) -> Range<usize> {
    let raw = file_text.get(literal.clone()).unwrap_or("");
    let delim = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    if raw.len() < 2 * delim {
        return literal.clone();
    }
    let mut content = &raw[delim..raw.len() - delim];
    let mut skip = 0;
    if delim == 3 {
        if content.starts_with("\r\n") && !decoded.starts_with("\r\n") {
            skip = 2;
        } else if content.starts_with('\n') && !decoded.starts_with('\n') {
            skip = 1;
        }
        content = &content[skip..];
    }
    if content != decoded {
        return literal.clone();
    }
    let base = literal.start + delim + skip;
    let end = inner
        .end
        .max(inner.start + 1)
        .min(decoded.len().max(inner.start));
    base + inner.start.min(decoded.len())..base + end
}

/// Compiles a `when`/`assert` expression and checks its fields against every kind.
fn expression(
    file: &mut File<'_>,
    v: &Value<'_>,
    key: &str,
    kinds: &[String],
) -> Option<Expression> {
    let DeValue::String(src) = v.get_ref() else {
        file.wrong_type(key, "a string (a CEL expression)", v);
        return None;
    };
    let src: &str = src;
    let literal = v.span();
    if src.trim().is_empty() {
        file.error(literal, format!("`{key}` must not be empty"))
            .label = Some("empty expression".into());
        return None;
    }
    if let Err((msg, at)) = within_limits(src) {
        let span = match at {
            Some(i) => map_into_literal(file.text, &literal, src, i..i + 1),
            None => literal,
        };
        file.error(span, format!("`{key}` expression is too complex: {msg}"))
            .label = Some("over the limit".into());
        return None;
    }
    let program = match compile_guarded(src) {
        Compiled::Program(p) => p,
        Compiled::TooComplex(msg) => {
            let d = file.error(literal, format!("`{key}` expression is too complex: {msg}"));
            d.label = Some("over the limit".into());
            d.notes.push(
                "help: split the check into simpler rules, or derive the fact in `link`".into(),
            );
            return None;
        }
        Compiled::Syntax(errs) => {
            for e in &errs.errors {
                let span = match e.pos {
                    (line, col) if line >= 1 && col >= 1 => {
                        let start = line_col_to_byte(src, line as usize, col as usize);
                        map_into_literal(file.text, &literal, src, start..start + 1)
                    }
                    _ => literal.clone(),
                };
                let msg = e.msg.strip_prefix("Syntax error: ").unwrap_or(&e.msg);
                file.error(span, format!("invalid `{key}` expression: {msg}"))
                    .label = Some("CEL syntax error".into());
            }
            if errs.errors.is_empty() {
                file.error(literal, format!("invalid `{key}` expression"));
            }
            return None;
        }
        Compiled::GaveUp => {
            file.error(
                literal,
                format!("invalid `{key}` expression: the parser gave up"),
            );
            return None;
        }
    };
    let mut paths: Vec<String> = Vec::new();
    // (span, message) → (labels, notes): one diagnostic per problem, naming every kind it hits.
    type Problem = (
        Option<Range<usize>>,
        String,
        String,
        Vec<String>,
        Vec<String>,
    );
    let mut problems: Vec<Problem> = Vec::new();
    for kind in kinds {
        let res = fields::check_expr(&program, src, kind);
        for p in res.paths {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
        for err in res.errors {
            match problems
                .iter_mut()
                .find(|(s, m, _, _, _)| *s == err.span && *m == err.message)
            {
                Some((_, _, _, hit, _)) => hit.push(kind.clone()),
                None => problems.push((
                    err.span,
                    err.message,
                    err.label,
                    vec![kind.clone()],
                    err.notes,
                )),
            }
        }
    }
    let failed = !problems.is_empty();
    for (span, message, label, kinds_hit, notes) in problems {
        let span = match span {
            Some(s) => map_into_literal(file.text, &literal, src, s),
            None => literal.clone(),
        };
        let d = file.error(span, format!("`{key}`: {message}"));
        d.label = Some(if label.starts_with("not a field of") {
            format!("not a field of {}", kinds_hit.join(", "))
        } else {
            label
        });
        d.notes.extend(notes);
    }
    if failed {
        return None;
    }
    Some(Expression {
        source: src.to_string(),
        program: Arc::new(program),
        paths,
    })
}

/// 1-based line and (char) column → byte offset in `s`.
fn line_col_to_byte(s: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in s.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + l.char_indices().nth(col - 1).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    s.len()
}

/// Stack for compiling one expression. The CEL parser recurses deeply even within the limits
/// (an 8 KiB chain like `a.b.c…` needs some 8 MiB in a debug build): a thread of its own gets a
/// stack that does not depend on the caller's (1 MiB on a Windows main thread, `ulimit -s`
/// elsewhere). Only the pages touched are ever committed.
const COMPILE_STACK: usize = 64 * 1024 * 1024;

enum Compiled {
    Program(cel::Program),
    Syntax(cel::ParseErrors),
    TooComplex(String),
    /// The parser panicked.
    GaveUp,
}

/// Parses `src` (already within [`within_limits`]) and checks the tree's depth, on a thread with
/// a large stack. A tree over the limits is dropped on that thread too: dropping it recurses as
/// deep as it is.
fn compile_guarded(src: &str) -> Compiled {
    let work = || {
        let env = super::cel_env();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.compile(src))) {
            Ok(Ok(p)) => {
                let (depth, comprehensions) = tree_depth(p.expression());
                if depth > MAX_EXPRESSION_DEPTH {
                    Compiled::TooComplex(format!(
                        "its syntax tree is {depth} levels deep (at most {MAX_EXPRESSION_DEPTH})"
                    ))
                } else if comprehensions > MAX_COMPREHENSION_NESTING {
                    Compiled::TooComplex(format!(
                        "it nests {comprehensions} comprehension macros (`all`, `exists`, `map`, \
                         …; at most {MAX_COMPREHENSION_NESTING})"
                    ))
                } else {
                    Compiled::Program(p)
                }
            }
            Ok(Err(errs)) => Compiled::Syntax(errs),
            Err(_) => Compiled::GaveUp,
        }
    };
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("cel-compile".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(s, work)
        {
            Ok(h) => h.join().unwrap_or(Compiled::GaveUp),
            // No thread to be had (a process limit): the caller's stack, which is big enough
            // for the built-in rules and the usual 8 MiB main thread.
            Err(_) => work(),
        }
    })
}

/// Checks the text limits before parsing: size, then bracket/ternary nesting. `Err` gives the
/// message and, for nesting, the byte offset in `src` where the limit is crossed.
pub(crate) fn within_limits(src: &str) -> Result<(), (String, Option<usize>)> {
    if src.len() > MAX_EXPRESSION_BYTES {
        return Err((
            format!(
                "it is {} bytes long (at most {MAX_EXPRESSION_BYTES})",
                src.len()
            ),
            None,
        ));
    }
    let (mut depth, mut ternaries) = (0usize, 0usize);
    for (i, b) in src.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'?' => ternaries += 1,
            _ => continue,
        }
        if depth + ternaries > MAX_EXPRESSION_NESTING {
            return Err((
                format!(
                    "brackets and `?:` nest more than {MAX_EXPRESSION_NESTING} levels deep here"
                ),
                Some(i),
            ));
        }
    }
    Ok(())
}

/// Depth of a syntax tree and its deepest nesting of comprehensions, walked with an explicit
/// stack: the tree may be as deep as the text is long, so recursing here could overflow.
pub(crate) fn tree_depth(root: &cel::common::ast::IdedExpr) -> (usize, usize) {
    use cel::common::ast::{EntryExpr, Expr};
    let mut stack = vec![(root, 1usize, 0usize)];
    let (mut max_depth, mut max_comp) = (0, 0);
    while let Some((e, depth, comp)) = stack.pop() {
        max_depth = max_depth.max(depth);
        max_comp = max_comp.max(comp);
        match &e.expr {
            Expr::Call(c) => {
                if let Some(t) = &c.target {
                    stack.push((t, depth + 1, comp));
                }
                stack.extend(c.args.iter().map(|a| (a, depth + 1, comp)));
            }
            Expr::Comprehension(c) => {
                for x in [&c.iter_range, &c.accu_init, &c.result] {
                    stack.push((x, depth + 1, comp));
                }
                for x in [&c.loop_cond, &c.loop_step] {
                    stack.push((x, depth + 1, comp + 1));
                }
            }
            Expr::List(l) => stack.extend(l.elements.iter().map(|x| (x, depth + 1, comp))),
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        stack.push((&me.key, depth + 1, comp));
                        stack.push((&me.value, depth + 1, comp));
                    }
                }
            }
            Expr::Struct(st) => {
                for entry in &st.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        stack.push((&f.value, depth + 1, comp));
                    }
                }
            }
            Expr::Select(sel) => stack.push((&sel.operand, depth + 1, comp)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
    (max_depth, max_comp)
}
