//! Static field checking of rule expressions: every member-access chain rooted at `resource` (and
//! at the variables of comprehension macros over it) must name a field of the rule's kind, read
//! from the kind's JSON Schema (`model::kind_schema`). It owns the schema walk; it must not
//! evaluate anything. A misspelt field would otherwise make every finding `unknown` at run time,
//! or, inside `has()`, silently `false`: both are caught here, at load time.

use std::ops::Range;

use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use serde_json::Value as Json;

use crate::text::suggest;

/// Fields every resource object carries besides its kind's attrs.
const COMMON_FIELDS: &[&str] = &["id", "name", "region", "account", "tags", "kind"];

/// CEL's type names, usable as identifiers (`type(x) == string`).
const TYPE_IDENTS: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// The statically known shape of a sub-expression.
#[derive(Clone, Debug)]
enum Ty<'s> {
    /// Not known (a function result, a literal): nothing is checked below it.
    Any,
    /// The `resource` variable: the kind's attrs plus the common fields.
    Resource(&'s Json),
    /// A node of the kind's schema (the root is kept to resolve `$ref`).
    Node { root: &'s Json, node: &'s Json },
    /// A string map (`tags`): any key is fine.
    StrMap,
    /// A scalar (`string`, `boolean`, …): no fields.
    Scalar(&'static str),
    /// A list built by a `map`/`filter` macro.
    ListOf(Box<Ty<'s>>),
}

/// How a field lookup went wrong.
enum Miss {
    /// The container has fixed fields and this is not one; its fields, for suggestions.
    NoField(Vec<String>),
    /// The container is a scalar or a list.
    NotObject(&'static str),
}

/// Resolves `$ref` and nullable wrappers (`anyOf`/`oneOf` with a single non-null branch).
fn norm<'s>(root: &'s Json, mut node: &'s Json) -> &'s Json {
    for _ in 0..32 {
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            let target = r
                .strip_prefix("#/$defs/")
                .and_then(|name| root.get("$defs").and_then(|d| d.get(name)));
            match target {
                Some(t) => {
                    node = t;
                    continue;
                }
                None => return node,
            }
        }
        let branches = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Json::as_array);
        if let Some(bs) = branches {
            let non_null: Vec<&Json> = bs
                .iter()
                .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            if non_null.len() == 1 {
                node = non_null[0];
                continue;
            }
        }
        return node;
    }
    node
}

/// The non-null JSON type of a normalised node, if it has a single one.
fn json_type(node: &Json) -> Option<&str> {
    match node.get("type") {
        Some(Json::String(s)) => Some(s.as_str()),
        Some(Json::Array(ts)) => {
            let mut non_null = ts.iter().filter_map(Json::as_str).filter(|t| *t != "null");
            let first = non_null.next()?;
            non_null.next().is_none().then_some(first)
        }
        _ => {
            // Enums (`Tier`): every branch a string.
            let branches = node
                .get("oneOf")
                .or_else(|| node.get("anyOf"))
                .and_then(Json::as_array)?;
            branches
                .iter()
                .all(|b| b.get("type").and_then(Json::as_str) == Some("string"))
                .then_some("string")
        }
    }
}

fn scalar_name(t: &str) -> &'static str {
    match t {
        "string" => "string",
        "boolean" => "bool",
        "integer" => "int",
        "number" => "double",
        _ => "value",
    }
}

impl<'s> Ty<'s> {
    fn node(root: &'s Json, node: &'s Json) -> Ty<'s> {
        Ty::Node {
            root,
            node: norm(root, node),
        }
    }

    /// `x.field`.
    fn field(&self, name: &str) -> Result<Ty<'s>, Miss> {
        match self {
            Ty::Any => Ok(Ty::Any),
            Ty::StrMap => Ok(Ty::Scalar("string")),
            Ty::Scalar(s) => Err(Miss::NotObject(s)),
            Ty::ListOf(_) => Err(Miss::NotObject("list")),
            Ty::Resource(root) => match name {
                "tags" => Ok(Ty::StrMap),
                "id" | "name" | "region" | "account" | "kind" => Ok(Ty::Scalar("string")),
                _ => match root.get("properties").and_then(|p| p.get(name)) {
                    Some(n) => Ok(Ty::node(root, n)),
                    None => {
                        let mut names: Vec<String> =
                            COMMON_FIELDS.iter().map(|s| s.to_string()).collect();
                        if let Some(p) = root.get("properties").and_then(Json::as_object) {
                            names.extend(p.keys().cloned());
                        }
                        Err(Miss::NoField(names))
                    }
                },
            },
            Ty::Node { root, node } => match json_type(node) {
                Some("object") => {
                    if let Some(props) = node.get("properties").and_then(Json::as_object) {
                        if let Some(n) = props.get(name) {
                            return Ok(Ty::node(root, n));
                        }
                        match node.get("additionalProperties") {
                            Some(extra @ Json::Object(_)) => Ok(Ty::node(root, extra)),
                            _ => Err(Miss::NoField(props.keys().cloned().collect())),
                        }
                    } else {
                        match node.get("additionalProperties") {
                            Some(extra @ Json::Object(_)) => Ok(Ty::node(root, extra)),
                            _ => Ok(Ty::Any),
                        }
                    }
                }
                Some("array") => Err(Miss::NotObject("list")),
                Some(t) => Err(Miss::NotObject(scalar_name(t))),
                None => Ok(Ty::Any),
            },
        }
    }

    /// What a comprehension over this value binds: (first variable, second variable).
    fn iteration(&self) -> (Ty<'s>, Ty<'s>) {
        match self {
            Ty::ListOf(inner) => (Ty::Scalar("int"), (**inner).clone()),
            Ty::StrMap => (Ty::Scalar("string"), Ty::Scalar("string")),
            Ty::Resource(_) => (Ty::Scalar("string"), Ty::Any),
            Ty::Node { root, node } => match json_type(node) {
                Some("array") => match node.get("items") {
                    Some(items) => (Ty::Scalar("int"), Ty::node(root, items)),
                    None => (Ty::Scalar("int"), Ty::Any),
                },
                Some("object") => {
                    let value = match node.get("additionalProperties") {
                        Some(extra @ Json::Object(_)) => Ty::node(root, extra),
                        _ => Ty::Any,
                    };
                    (Ty::Scalar("string"), value)
                }
                _ => (Ty::Any, Ty::Any),
            },
            Ty::Any | Ty::Scalar(_) => (Ty::Any, Ty::Any),
        }
    }

    fn is_list(&self) -> bool {
        match self {
            Ty::ListOf(_) => true,
            Ty::Node { node, .. } => json_type(node) == Some("array"),
            _ => false,
        }
    }

    /// `x[key]`.
    fn index(&self, key: Option<&str>) -> Result<Ty<'s>, Miss> {
        if self.is_list() {
            return Ok(self.iteration().1);
        }
        match (self, key) {
            (Ty::Scalar(s), _) => Err(Miss::NotObject(s)),
            (_, Some(k)) => self.field(k),
            (Ty::StrMap, None) => Ok(Ty::Scalar("string")),
            (Ty::Node { .. }, None) => Ok(self.iteration().1),
            _ => Ok(Ty::Any),
        }
    }
}

/// One unknown field (or identifier) found in an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Byte range inside the expression text, when the parser recorded one.
    pub span: Option<Range<usize>>,
    pub message: String,
    pub label: String,
    pub notes: Vec<String>,
}

/// The result of checking one expression against one kind.
#[derive(Debug, Default)]
pub struct CheckResult {
    pub errors: Vec<FieldError>,
    /// Dotted resource paths the expression reads (`internet.path`), for run-time messages.
    pub paths: Vec<String>,
}

struct Checker<'s, 'a> {
    kind: &'a str,
    source: &'a str,
    info: &'a cel::common::ast::SourceInfo,
    schema: &'s Json,
    scope: Vec<(String, Ty<'s>, Option<String>)>,
    /// Per enclosing comprehension: its accumulator and the element type `@result + [x]` adds.
    accus: Vec<(String, Option<Ty<'s>>)>,
    out: CheckResult,
}

/// Char offset (as the CEL parser counts) → byte offset in `s`.
fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

impl<'s> Checker<'s, '_> {
    /// Span of `field` at or after the position the parser recorded for expression `id`.
    fn span_of(&self, id: u64, field: &str) -> Option<Range<usize>> {
        let (start, stop) = self.info.offset_for(id)?;
        let from = char_to_byte(self.source, start as usize);
        if !field.is_empty() {
            if let Some(i) = self.source.get(from..).and_then(|rest| rest.find(field)) {
                return Some(from + i..from + i + field.len());
            }
        }
        let to = char_to_byte(self.source, stop as usize + 1).max(from);
        Some(from..to)
    }

    fn miss(&mut self, id: u64, field: &str, on: &str, miss: Miss) {
        let span = self.span_of(id, field);
        match miss {
            Miss::NoField(names) => {
                let mut notes = Vec::new();
                if let Some(s) = suggest(field, names.iter().map(String::as_str)) {
                    notes.push(format!("help: did you mean `{s}`?"));
                }
                self.out.errors.push(FieldError {
                    span,
                    message: format!("unknown field `{field}` on `{on}`"),
                    label: format!("not a field of {}", self.kind),
                    notes,
                });
            }
            Miss::NotObject(t) => self.out.errors.push(FieldError {
                span,
                message: format!("`{on}` is a {t}: it has no field `{field}`"),
                label: format!("not a field of {}", self.kind),
                notes: Vec::new(),
            }),
        }
    }

    fn lookup(&self, name: &str) -> Option<(Ty<'s>, Option<String>)> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, p)| (t.clone(), p.clone()))
    }

    fn record(&mut self, path: &Option<String>) {
        if let Some(p) = path {
            if !self.out.paths.contains(p) {
                self.out.paths.push(p.clone());
            }
        }
    }

    /// Shape and resource path (`internet.path`, `ingress[]`) of `e`.
    fn visit(&mut self, e: &IdedExpr) -> (Ty<'s>, Option<String>) {
        match &e.expr {
            Expr::Ident(name) => {
                if let Some(found) = self.lookup(name) {
                    return found;
                }
                if name == "resource" {
                    return (Ty::Resource(self.schema), Some(String::new()));
                }
                if name.starts_with('@') || TYPE_IDENTS.contains(&name.as_str()) {
                    return (Ty::Any, None);
                }
                let span = self.span_of(e.id, name);
                self.out.errors.push(FieldError {
                    span,
                    message: format!("unknown identifier `{name}`"),
                    label: "not a variable".into(),
                    notes: vec![
                        "help: rules read the resource through `resource`, e.g. `resource.name`"
                            .into(),
                    ],
                });
                (Ty::Any, None)
            }
            Expr::Select(sel) => {
                let (t, path) = self.visit(&sel.operand);
                let on = display_path(&path);
                let result = match t.field(&sel.field) {
                    Ok(ft) => {
                        let p = path.map(|p| join(&p, &sel.field));
                        self.record(&p);
                        (ft, p)
                    }
                    Err(m) => {
                        self.miss(e.id, &sel.field, &on, m);
                        (Ty::Any, None)
                    }
                };
                if sel.test {
                    (Ty::Scalar("bool"), None)
                } else {
                    result
                }
            }
            Expr::Call(call) => self.visit_call(call),
            Expr::Comprehension(c) => {
                let (range, path) = self.visit(&c.iter_range);
                let is_list = range.is_list();
                let (first, second) = range.iteration();
                let elem_path = path.as_ref().map(|p| {
                    if is_list {
                        format!("{p}[]")
                    } else {
                        format!("{p}{{}}")
                    }
                });
                self.visit(&c.accu_init);
                let base = self.scope.len();
                match &c.iter_var2 {
                    Some(v2) => {
                        self.scope.push((c.iter_var.clone(), first, None));
                        self.scope.push((v2.clone(), second, elem_path));
                    }
                    None => {
                        // One variable: a list's element, a map's key.
                        let (t, p) = if is_list {
                            (second, elem_path)
                        } else {
                            (first, None)
                        };
                        self.scope.push((c.iter_var.clone(), t, p));
                    }
                }
                self.scope.push((c.accu_var.clone(), Ty::Any, None));
                self.accus.push((c.accu_var.clone(), None));
                self.visit(&c.loop_cond);
                self.visit(&c.loop_step);
                let (_, item) = self.accus.pop().unwrap_or_default();
                self.scope.truncate(base);
                // The result is evaluated with the accumulator only.
                self.scope.push((c.accu_var.clone(), Ty::Any, None));
                self.visit(&c.result);
                self.scope.truncate(base);
                let builds_list =
                    matches!(&c.accu_init.expr, Expr::List(l) if l.elements.is_empty());
                match (builds_list, item) {
                    (true, Some(t)) => (Ty::ListOf(Box::new(t)), None),
                    _ => (Ty::Any, None),
                }
            }
            Expr::List(l) => {
                for x in &l.elements {
                    self.visit(x);
                }
                (Ty::Any, None)
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    self.visit_entry(&entry.expr);
                }
                (Ty::Any, None)
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    self.visit_entry(&entry.expr);
                }
                (Ty::Any, None)
            }
            Expr::Literal(_) | Expr::Unspecified => (Ty::Any, None),
        }
    }

    /// A call: an index (`x[key]`, which reads a field), an accumulator step of a macro, or any
    /// other function, whose arguments are visited.
    fn visit_call(&mut self, call: &CallExpr) -> (Ty<'s>, Option<String>) {
        if call.func_name == "_[_]" && call.args.len() == 2 && call.target.is_none() {
            let (t, path) = self.visit(&call.args[0]);
            self.visit(&call.args[1]);
            let key = match &call.args[1].expr {
                Expr::Literal(LiteralValue::String(s)) => Some(s.inner().to_string()),
                _ => None,
            };
            let on = display_path(&path);
            let is_list = t.is_list();
            return match t.index(key.as_deref()) {
                Ok(ft) => {
                    let p = match (&path, &key) {
                        (Some(p), _) if is_list => Some(format!("{p}[]")),
                        (Some(p), Some(k)) => Some(join(p, k)),
                        _ => None,
                    };
                    self.record(&p);
                    (ft, p)
                }
                Err(m) => {
                    let k = key.unwrap_or_default();
                    self.miss(call.args[1].id, &k, &on, m);
                    (Ty::Any, None)
                }
            };
        }
        // `@result + [x]` inside a map/filter macro: remember x's shape for the result.
        if call.func_name == "_+_" && call.args.len() == 2 {
            if let (Expr::Ident(acc), Expr::List(list)) = (&call.args[0].expr, &call.args[1].expr) {
                if let Some(pos) = self.accus.iter().rposition(|(a, _)| a == acc) {
                    if list.elements.len() == 1 {
                        let (t, _) = self.visit(&list.elements[0]);
                        self.accus[pos].1 = Some(t);
                        return (Ty::Any, None);
                    }
                }
            }
        }
        if let Some(t) = &call.target {
            self.visit(t);
        }
        for a in &call.args {
            self.visit(a);
        }
        (Ty::Any, None)
    }

    fn visit_entry(&mut self, entry: &cel::common::ast::EntryExpr) {
        match entry {
            cel::common::ast::EntryExpr::StructField(f) => {
                self.visit(&f.value);
            }
            cel::common::ast::EntryExpr::MapEntry(m) => {
                self.visit(&m.key);
                self.visit(&m.value);
            }
        }
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn display_path(path: &Option<String>) -> String {
    match path {
        Some(p) if p.is_empty() => "resource".to_string(),
        Some(p) => format!("resource.{p}"),
        None => "value".to_string(),
    }
}

/// Checks one compiled expression against one kind. `source` is the expression text.
pub fn check_expr(program: &cel::Program, source: &str, kind: &str) -> CheckResult {
    let Some(schema) = crate::model::kind_schema(kind) else {
        return CheckResult::default();
    };
    let schema = schema.to_value();
    let mut checker = Checker {
        kind,
        source,
        info: program.source_info(),
        schema: &schema,
        scope: Vec::new(),
        accus: Vec::new(),
        out: CheckResult::default(),
    };
    checker.visit(program.expression());
    checker.out
}

/// Checks a dotted evidence path (`internet.path`) against one kind. `Err` says why not.
pub fn check_path(path: &str, kind: &str) -> Result<(), (String, Vec<String>)> {
    let Some(schema) = crate::model::kind_schema(kind) else {
        return Ok(());
    };
    let schema = schema.to_value();
    let mut t = Ty::Resource(&schema);
    let mut so_far = String::new();
    for seg in path.split('.') {
        if seg.is_empty() {
            return Err((
                format!("empty segment in evidence path `{path}`"),
                Vec::new(),
            ));
        }
        let on = display_path(&Some(so_far.clone()));
        t = match t.field(seg) {
            Ok(next) => next,
            Err(Miss::NoField(names)) => {
                let notes = suggest(seg, names.iter().map(String::as_str))
                    .map(|s| vec![format!("help: did you mean `{s}`?")])
                    .unwrap_or_default();
                return Err((format!("unknown field `{seg}` on `{on}`"), notes));
            }
            Err(Miss::NotObject(ty)) => {
                return Err((
                    format!("`{on}` is a {ty}: it has no field `{seg}`"),
                    Vec::new(),
                ))
            }
        };
        so_far = join(&so_far, seg);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str, kind: &str) -> Vec<String> {
        let env = cel::Env::stdlib();
        let p = env.compile(src).expect("parses");
        check_expr(&p, src, kind)
            .errors
            .into_iter()
            .map(|e| {
                let at = e.span.map(|s| src[s].to_string()).unwrap_or_default();
                format!("{} @{at}", e.message)
            })
            .collect()
    }

    #[test]
    fn known_fields_pass_and_unknown_ones_are_named() {
        let k = "aws.rds.db_instance";
        assert!(errors("resource.publicly_accessible == false", k).is_empty());
        assert!(errors(
            "resource.internet.path.size() > 0 && resource.tags['Name'] == 'x'",
            k
        )
        .is_empty());
        assert_eq!(
            errors("resource.storage_encrytped", k),
            ["unknown field `storage_encrytped` on `resource` @storage_encrytped"]
        );
        assert_eq!(
            errors("resource.internet.pth == []", k),
            ["unknown field `pth` on `resource.internet` @pth"]
        );
        assert_eq!(
            errors("has(resource.encrypted)", k),
            ["unknown field `encrypted` on `resource` @encrypted"]
        );
        assert_eq!(
            errors("resource.engine.version", k),
            ["`resource.engine` is a string: it has no field `version` @version"]
        );
    }

    #[test]
    fn comprehension_variables_bind_list_elements() {
        let k = "aws.rds.db_instance";
        assert!(errors("resource.ingress.all(i, !i.source_is_internet)", k).is_empty());
        assert_eq!(
            errors("resource.ingress.exists(i, i.sorce == 'x')", k),
            ["unknown field `sorce` on `resource.ingress[]` @sorce"]
        );
        // filter keeps the element shape; map yields the mapped shape.
        assert_eq!(
            errors(
                "resource.ingress.filter(i, i.from_port > 0).all(j, j.to_prt < 10)",
                k
            ),
            ["unknown field `to_prt` on `value` @to_prt"]
        );
        assert!(errors("resource.ingress.map(i, i.source).exists(s, s == 'x')", k).is_empty());
        // Map values: any key, the value's shape.
        let z = "cloudflare.zone";
        assert!(errors("resource.phases.exists(p, resource.phases[p].deployed)", z).is_empty());
        assert_eq!(
            errors("resource.phases['http_ratelimit'].rulez.size() > 0", z),
            ["unknown field `rulez` on `resource.phases.http_ratelimit` @rulez"]
        );
    }

    #[test]
    fn unknown_identifiers_are_errors() {
        assert_eq!(
            errors("resourc.publicly_accessible", "aws.rds.db_instance"),
            ["unknown identifier `resourc` @resourc"]
        );
        assert!(errors("type(resource.name) == string", "aws.rds.db_instance").is_empty());
    }

    #[test]
    fn evidence_paths_are_checked() {
        assert!(check_path("internet.path", "aws.rds.db_instance").is_ok());
        assert!(check_path("tags.Name", "aws.rds.db_instance").is_ok());
        let (msg, notes) = check_path("internet.pth", "aws.rds.db_instance").unwrap_err();
        assert_eq!(msg, "unknown field `pth` on `resource.internet`");
        assert_eq!(notes, ["help: did you mean `path`?"]);
    }
}
