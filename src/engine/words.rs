//! Values said in words, for the sentences of findings (docs/design.md §5): strings as they are,
//! numbers and booleans as words, null as "unknown", lists as "a, b and c", objects as
//! `key value` phrases. It owns that wording and its bounds (the first few items of a list, a
//! cut for a pathological string); it must never write JSON (the evidence carries the values
//! as they are) nor decide anything about them.

use serde_json::Value as Json;

/// Items of a list said in a sentence; the rest are counted ("and 3 more").
pub(super) const LIST_ITEMS_SAID: usize = 5;
/// Characters of one string value said in a sentence; a longer one is cut with "…". Only a
/// pathological value is this long (the longest derived sentence is some 250 characters): the
/// sentence around it is never cut.
pub(super) const VALUE_CHARS_MAX: usize = 400;

/// The value in words.
pub(super) fn say(v: &Json) -> String {
    match v {
        Json::Null => "unknown".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => cut(s),
        Json::Array(items) => list(items),
        Json::Object(m) if m.is_empty() => "none".into(),
        // "; " between entries: a value may be a list with commas of its own.
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{} {}", cut(k), say(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// "a, b and c"; "none" when empty; the first [`LIST_ITEMS_SAID`] and how many more. An object
/// item is put in parentheses, so its own separators do not run into the list's. An item that
/// ends with a colon labels the next one ("interface eni-1 (device 0): public IP 1.2.3.4"): no
/// comma after it.
fn list(items: &[Json]) -> String {
    let said: Vec<String> = items
        .iter()
        .take(LIST_ITEMS_SAID)
        .map(|v| match v {
            Json::Object(m) if !m.is_empty() => format!("({})", say(v)),
            _ => say(v),
        })
        .collect();
    let more = items.len().saturating_sub(LIST_ITEMS_SAID);
    let mut out = String::new();
    for (i, item) in said.iter().enumerate() {
        if i > 0 {
            out.push_str(if said[i - 1].ends_with(':') {
                " "
            } else if i + 1 == said.len() && more == 0 {
                " and "
            } else {
                ", "
            });
        }
        out.push_str(item);
    }
    match (out.is_empty(), more) {
        (true, _) => "none".into(),
        (false, 0) => out,
        (false, more) => format!("{out} and {more} more"),
    }
}

/// `s` whole, or its first [`VALUE_CHARS_MAX`] characters and "…".
fn cut(s: &str) -> String {
    match s.char_indices().nth(VALUE_CHARS_MAX) {
        None => s.to_string(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_in_words() {
        assert_eq!(say(&json!("eu-west-1")), "eu-west-1");
        assert_eq!(say(&json!(5671)), "5671");
        assert_eq!(say(&json!(0.5)), "0.5");
        assert_eq!(say(&json!(false)), "false");
        assert_eq!(say(&json!(true)), "true");
        assert_eq!(say(&json!(null)), "unknown");
    }

    #[test]
    fn lists_in_words() {
        assert_eq!(say(&json!([])), "none");
        assert_eq!(say(&json!(["a"])), "a");
        assert_eq!(say(&json!(["a", "b"])), "a and b");
        assert_eq!(say(&json!(["a", "b", "c"])), "a, b and c");
        assert_eq!(say(&json!([1, 2, 3, 4, 5])), "1, 2, 3, 4 and 5");
        assert_eq!(
            say(&json!([1, 2, 3, 4, 5, 6, 7])),
            "1, 2, 3, 4, 5 and 2 more"
        );
        assert_eq!(say(&json!([null, true])), "unknown and true");
        assert_eq!(
            say(&json!([
                "eni-1 (device 0):",
                "public IP 1.2.3.4",
                "no route",
                "no IPv6"
            ])),
            "eni-1 (device 0): public IP 1.2.3.4, no route and no IPv6"
        );
        assert_eq!(
            say(&json!(["eni-1:", "public IP 1.2.3.4"])),
            "eni-1: public IP 1.2.3.4"
        );
    }

    #[test]
    fn objects_in_words() {
        assert_eq!(say(&json!({})), "none");
        assert_eq!(
            say(&json!({"compute": ["subnet-a", "subnet-b"], "public": []})),
            "compute subnet-a and subnet-b; public none"
        );
        let ingress = json!([
            {"from_port": 5671, "protocol": "tcp"},
            {"from_port": 5672, "protocol": "tcp", "source_tiers": ["compute"]},
        ]);
        assert_eq!(
            say(&ingress),
            "(from_port 5671; protocol tcp) and (from_port 5672; protocol tcp; source_tiers compute)"
        );
        for raw in ["{\"", "\":", "[\"", "[{"] {
            assert!(!say(&ingress).contains(raw));
        }
    }

    #[test]
    fn a_pathological_string_is_cut_at_a_char_boundary() {
        let long = "é".repeat(VALUE_CHARS_MAX + 10);
        let said = say(&json!(long));
        assert_eq!(said.chars().count(), VALUE_CHARS_MAX + 1);
        assert!(said.ends_with('…'));
        assert_eq!(
            say(&json!("é".repeat(VALUE_CHARS_MAX))).chars().count(),
            VALUE_CHARS_MAX
        );
    }
}
