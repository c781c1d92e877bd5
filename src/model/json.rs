//! The inventory's JSON files: reading one inventory or a bundle of several with located errors
//! (file:line:column, the schema version checked, two shards of one estate refused), and the
//! bundled example estate (`--demo`). It owns the file format's reading rules; it must not link
//! or judge what it reads.

use std::path::Path;
use std::sync::Arc;

use super::{Inventory, InventoryBundle, SCHEMA_VERSION};
use crate::diag::{without_echoed_strings, Diagnostic};
use crate::input::{read_text, MAX_INVENTORY_BYTES};

/// The bundled example estate (`--demo`).
pub const DEMO_INVENTORY: &str = include_str!("../../demo/inventory.json");
pub fn demo_inventory() -> Inventory {
    parse_inventory(DEMO_INVENTORY, "<demo>/inventory.json")
        .expect("the embedded demo inventory is valid (tested)")
}

/// Parses inventory JSON, pointing at line:column on error and checking the schema version.
pub fn parse_inventory(text: &str, origin: &str) -> Result<Inventory, Diagnostic> {
    let inv: Inventory = parse_json(text, origin, "inventory", "schema/inventory.schema.json")?;
    check_version(inv.schema_version, origin)?;
    Ok(inv)
}

/// Parses an inventory file of either form: one inventory, or a bundle of several
/// (`{schema_version, inventories: [...]}`, written by `collect` with several accounts and by
/// `merge`). A bundle must hold at least one inventory and no two of the same account and home
/// region (they would audit one estate twice).
pub fn parse_inventories(text: &str, origin: &str) -> Result<Vec<Inventory>, Diagnostic> {
    match parse_inventory(text, origin) {
        Ok(inv) => Ok(vec![inv]),
        // A single inventory denies unknown fields, so a bundle fails at its `inventories` key,
        // early and cheaply; it is then read as what it is, with its own error locations.
        Err(d) if d.message.contains("unknown field `inventories`") => {
            let bundle: InventoryBundle = parse_json(
                text,
                origin,
                "inventory bundle",
                "schema/inventory-bundle.schema.json",
            )?;
            check_version(bundle.schema_version, origin)?;
            for inv in &bundle.inventories {
                check_version(inv.schema_version, origin)?;
            }
            if bundle.inventories.is_empty() {
                return Err(Diagnostic::plain(
                    origin,
                    "the inventory bundle holds no inventory",
                ));
            }
            check_shards(bundle.inventories.iter().map(|i| (origin, i)))?;
            Ok(bundle.inventories)
        }
        Err(d) => Err(d),
    }
}

/// Refuses two inventories of the same account and home region: merged, the estate would be
/// audited twice and every finding doubled. `origin` names the file each came from.
pub fn check_shards<'a>(
    shards: impl IntoIterator<Item = (&'a str, &'a Inventory)>,
) -> Result<(), Diagnostic> {
    let mut seen: std::collections::BTreeMap<(String, String), &str> = Default::default();
    for (origin, inv) in shards {
        let key = inv.shard_key();
        if let Some(first) = seen.insert(key.clone(), origin) {
            let what = match (key.0.as_str(), key.1.as_str()) {
                ("", "") => "no AWS account or region".to_string(),
                ("", r) => format!("an unknown AWS account in region {r}"),
                (a, "") => format!("AWS account {a} (no region)"),
                (a, r) => format!("AWS account {a} in region {r}"),
            };
            return Err(Diagnostic::plain(
                origin,
                format!("a second inventory of {what}: {first} already covers it"),
            )
            .with_note("each shard must collect a different account or home region"));
        }
    }
    Ok(())
}

fn check_version(version: u32, origin: &str) -> Result<(), Diagnostic> {
    if version != SCHEMA_VERSION {
        return Err(Diagnostic::plain(
            origin,
            format!(
                "inventory schema_version {version} is not supported (this build reads version {SCHEMA_VERSION})"
            ),
        ));
    }
    Ok(())
}

fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    what: &str,
    schema: &str,
) -> Result<T, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        // Copied only on error: an inventory can be hundreds of megabytes.
        let source: Arc<str> = Arc::from(text);
        let offset = offset_of(text, e.line(), e.column());
        let problem = match e.classify() {
            serde_json::error::Category::Io => "cannot read",
            serde_json::error::Category::Syntax => "is not valid JSON",
            serde_json::error::Category::Data => "does not match the schema",
            serde_json::error::Category::Eof => "is cut off",
        };
        let problem = if problem == "cannot read" {
            format!("cannot read {what}")
        } else {
            format!("{what} {problem}")
        };
        // serde_json appends " at line L column C"; the location is ours to render.
        let msg = e.to_string();
        let msg = without_echoed_strings(msg.split(" at line ").next().unwrap_or(&msg));
        Diagnostic::at(origin, &source, offset..offset, format!("{problem}: {msg}"))
            .with_note(format!("the {what} format is described by {schema}"))
    })
}

/// Loads an inventory file: a regular file, size-checked, UTF-8, JSON, versioned.
pub fn load_inventory(path: &Path) -> Result<Inventory, Diagnostic> {
    let text = read_text(path, "inventory", MAX_INVENTORY_BYTES)?;
    parse_inventory(&text, &path.display().to_string())
}

/// Loads an inventory file of either form ([`parse_inventories`]).
pub fn load_inventories(path: &Path) -> Result<Vec<Inventory>, Diagnostic> {
    let text = read_text(path, "inventory", MAX_INVENTORY_BYTES)?;
    parse_inventories(&text, &path.display().to_string())
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}
