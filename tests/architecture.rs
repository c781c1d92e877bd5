//! The layer order of `src/` (docs/design.md §2) holds: every module imports only modules of
//! lower layers, so dependencies flow one way and no cycle can form. The order is read from the
//! design document itself, so the document and the code cannot drift apart.
//!
//! Imports are read as text: every `crate::<module>` path in code (inside `use` groups too),
//! with comments and string literals left out, and test code (`#[cfg(test)]` items, `tests.rs`,
//! `testkit.rs`) exempt, since a test may build what it checks from any layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers of docs/design.md: module name → layer number.
fn layers(design: &str) -> BTreeMap<String, usize> {
    let block = design
        .split("<!-- layers:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- layers:end -->").next())
        .expect("docs/design.md has a <!-- layers:begin --> … <!-- layers:end --> table");
    let mut out = BTreeMap::new();
    for row in block.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let Ok(layer) = cells[0].parse::<usize>() else {
            continue; // the header and its rule
        };
        for name in cells[1].split(',') {
            let name = name.trim().trim_matches('`');
            assert!(
                out.insert(name.to_string(), layer).is_none(),
                "`{name}` is in two layers of docs/design.md"
            );
        }
    }
    out
}

/// The top-level modules `src/lib.rs` declares.
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .map(str::trim)
        .filter_map(|l| {
            l.strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))
        })
        .map(|l| l.trim_end_matches(';').to_string())
        .collect()
}

/// Source text with comments, string and character literals blanked out (newlines kept, so
/// line numbers stay right).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, &b[i..end]);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                let start = i;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                blank(&mut out, &b[start..i]);
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                // A raw string r"…" or r#"…"#.
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = src[body..]
                    .find(&close)
                    .map_or(b.len(), |n| body + n + close.len());
                blank(&mut out, &b[i..end]);
                i = end;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                blank(&mut out, &b[start..i]);
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') — not a lifetime ('a).
                let rest = &src[i..];
                let len = if let Some(escaped) = rest.strip_prefix("'\\") {
                    escaped.find('\'').map(|n| n + 3)
                } else {
                    rest.char_indices()
                        .nth(2)
                        .filter(|(_, c)| *c == '\'')
                        .map(|(n, _)| n + 1)
                };
                match len {
                    Some(n) => {
                        blank(&mut out, &b[i..i + n]);
                        i += n;
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            _ => {
                let c = src[i..].chars().next().expect("in bounds");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// `code` with every item gated by `#[cfg(test)]` blanked: the item after the attribute up to its
/// matching closing brace (or its `;`).
fn without_test_items(code: &str) -> String {
    let mut out: Vec<u8> = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]") {
        let start = from + at;
        let mut i = start + "#[cfg(test)]".len();
        let b = code.as_bytes();
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        for c in &mut out[start..i.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = i.min(b.len());
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: only ASCII was replaced")
}

/// Every top-level module a file refers to through `crate::`, with the line it is on.
fn crate_imports(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue; // `estate_audit_crate::`, not ours
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first segment of every top-level entry.
            let mut depth = 0;
            let mut entry_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => entry_start = true,
                    c if entry_start && !c.is_whitespace() => {
                        entry_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            found.push((line, name));
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.push((line, name));
            }
        }
    }
    found
}

/// The top-level module a file of `src/` belongs to (`None` for `lib.rs` and `main.rs`).
fn module_of(rel: &Path) -> Option<String> {
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next()?;
    match first.strip_suffix(".rs") {
        Some("lib") | Some("main") => None,
        Some(m) => Some(m.to_string()),
        None => Some(first),
    }
}

fn is_test_file(rel: &Path) -> bool {
    rel.components().any(|c| c.as_os_str() == "tests")
        || matches!(
            rel.file_name().and_then(|n| n.to_str()),
            Some("tests.rs") | Some("testkit.rs")
        )
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable src/") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The layer-order violations of `files` (path relative to `src/`, text).
fn violations(files: &[(PathBuf, String)], layers: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        if is_test_file(rel) {
            continue;
        }
        let Some(own) = module_of(rel) else { continue };
        let Some(&own_layer) = layers.get(&own) else {
            out.push(format!(
                "src/{}: module `{own}` is in no layer of docs/design.md §2",
                rel.display()
            ));
            continue;
        };
        let code = without_test_items(&code_only(text));
        for (line, used) in crate_imports(&code) {
            if used == own {
                continue;
            }
            match layers.get(&used) {
                Some(&l) if l < own_layer => {}
                Some(&l) => out.push(format!(
                    "src/{}:{line}: `{own}` (layer {own_layer}) imports `crate::{used}` (layer {l}): \
                     a module may import only modules of lower layers (docs/design.md §2)",
                    rel.display()
                )),
                None => out.push(format!(
                    "src/{}:{line}: `{own}` imports `crate::{used}`, which is in no layer of \
                     docs/design.md §2",
                    rel.display()
                )),
            }
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn the_tree() -> Vec<(PathBuf, String)> {
    let src = root().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("UTF-8 source");
            (
                p.strip_prefix(&src).expect("under src/").to_path_buf(),
                text,
            )
        })
        .collect()
}

fn the_layers() -> BTreeMap<String, usize> {
    layers(&std::fs::read_to_string(root().join("docs/design.md")).expect("docs/design.md"))
}

#[test]
fn every_module_of_the_crate_has_a_layer_and_every_layer_a_module() {
    let layers = the_layers();
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let declared = declared_modules(&lib);
    for m in &declared {
        assert!(
            layers.contains_key(m),
            "src/lib.rs declares `{m}`, which is in no layer of docs/design.md §2"
        );
    }
    for m in layers.keys() {
        assert!(
            declared.contains(m),
            "docs/design.md §2 names `{m}`, which src/lib.rs does not declare"
        );
    }
}

#[test]
fn dependencies_flow_one_way() {
    let found = violations(&the_tree(), &the_layers());
    assert!(found.is_empty(), "\n{}\n", found.join("\n"));
}

#[test]
fn a_planted_back_import_is_caught() {
    let layers = the_layers();
    let mut tree = the_tree();
    let (_, model) = tree
        .iter_mut()
        .find(|(p, _)| p == Path::new("model/mod.rs"))
        .expect("src/model/mod.rs");
    model.push_str("\nuse crate::report::RenderOptions;\n");
    let found = violations(&tree, &layers);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("src/model/mod.rs:") && found[0].contains("imports `crate::report`"),
        "{}",
        found[0]
    );
}

#[test]
fn grouped_inline_and_nested_paths_are_read_and_test_code_comments_and_strings_are_not() {
    let layers: BTreeMap<String, usize> = [("low", 0), ("mid", 1), ("high", 2)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let file = |text: &str| vec![(PathBuf::from("mid/x.rs"), text.to_string())];
    let src = "use crate::{low::A, high::{B, C}};\nfn f() { crate::high::g(); }\n";
    let found = violations(&file(src), &layers);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("src/mid/x.rs:1:") && found[0].contains("crate::high"));
    assert!(found[1].contains("src/mid/x.rs:2:"));

    let quiet = "// use crate::high;\n/// see [`crate::high::B`]\nconst S: &str = \"crate::high\";\n\
                 const R: &str = r#\"crate::high\"#;\nfn g<'a>(c: char) -> bool { c == '\"' }\n\
                 #[cfg(test)]\nmod tests {\n    use crate::high::B;\n    fn t() { crate::high::g(); }\n}\n\
                 #[cfg(test)]\nuse crate::high::C;\nuse crate::low::D;\n";
    assert_eq!(violations(&file(quiet), &layers), Vec::<String>::new());
    assert!(violations(&[(PathBuf::from("mid/tests.rs"), src.to_string())], &layers).is_empty());
    let unknown = violations(&file("use crate::nowhere::X;\n"), &layers);
    assert!(unknown[0].contains("in no layer"), "{unknown:?}");
}
