//! [`StrMap`]: a small string-to-string map (a resource's tags, an alarm's dimensions) held as
//! one sorted vector. Read, written and described in the schema exactly as a
//! `BTreeMap<String, String>` (a JSON object of strings, keys sorted), so no inventory can tell
//! the two apart; but a B-tree allocates a node of eleven keys and eleven values even for one
//! entry, and these maps, one or two entries each, were a sixth of a large inventory's memory
//! (docs/performance.md).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// A map from string to string, sorted by key, each key once (see the module's note).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StrMap(Vec<(String, String)>);

impl StrMap {
    pub fn new() -> StrMap {
        StrMap(Vec::new())
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// As a map's: the value the key had, if it had one.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.position(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in key order, as a map's `iter` gives them.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &String> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl FromIterator<(String, String)> for StrMap {
    /// Sorted by key; of two entries with one key the later wins, as in a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> StrMap {
        let mut out = map_entries(iter.into_iter().collect());
        out.shrink_to_fit();
        StrMap(out)
    }
}

/// Key-value pairs as a map keeps them: sorted by key, each key once, of two entries with one
/// key the later (the vector-backed maps: [`StrMap`], `finding::Evidence`). Pairs already sorted
/// and distinct, the usual case, are kept as they are, without a second vector.
pub(crate) fn map_entries<K: Ord, V>(mut v: Vec<(K, V)>) -> Vec<(K, V)> {
    if v.windows(2).all(|w| w[0].0 < w[1].0) {
        return v;
    }
    // Stable: equal keys keep their order, so keeping the last of each run is "later wins".
    v.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(K, V)> = Vec::with_capacity(v.len());
    for (k, val) in v {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 = val,
            _ => out.push((k, val)),
        }
    }
    out
}

impl From<BTreeMap<String, String>> for StrMap {
    fn from(m: BTreeMap<String, String>) -> StrMap {
        StrMap(m.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for StrMap {
    fn from(entries: [(String, String); N]) -> StrMap {
        entries.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a StrMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for StrMap {
    type Output = String;

    /// Like a map's index: panics when the key is absent.
    fn index(&self, key: &str) -> &String {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no entry for `{key}`"),
        }
    }
}

impl fmt::Debug for StrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for StrMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StrMap, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = StrMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StrMap, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry::<String, String>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }
        d.deserialize_map(Entries)
    }
}

/// The schema of a `BTreeMap<String, String>`, which this reads and writes as.
impl JsonSchema for StrMap {
    fn inline_schema() -> bool {
        <BTreeMap<String, String> as JsonSchema>::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        <BTreeMap<String, String> as JsonSchema>::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        <BTreeMap<String, String> as JsonSchema>::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <BTreeMap<String, String> as JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_as_a_btreemap_does() {
        let text = r#"{"b":"2","a":"1","b":"3"}"#;
        let ours: StrMap = serde_json::from_str(text).expect("read");
        let theirs: BTreeMap<String, String> = serde_json::from_str(text).expect("read");
        assert_eq!(
            serde_json::to_string(&ours).expect("written"),
            serde_json::to_string(&theirs).expect("written"),
            "sorted, the later of two equal keys kept"
        );
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        assert!(
            serde_json::from_str::<StrMap>(r#"{"a":1}"#).is_err(),
            "strings only"
        );
        assert!(
            serde_json::from_str::<StrMap>(r#"["a"]"#).is_err(),
            "a map only"
        );
    }

    #[test]
    fn behaves_as_a_map() {
        let mut m = StrMap::new();
        assert_eq!(m.insert("b".into(), "1".into()), None);
        assert_eq!(m.insert("a".into(), "2".into()), None);
        assert_eq!(m.insert("b".into(), "3".into()), Some("1".into()));
        assert_eq!(m.get("b").map(String::as_str), Some("3"));
        assert!(m.contains_key("a") && !m.contains_key("c"));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.remove("a"), Some("2".into()));
        assert_eq!((m.len(), m.is_empty()), (1, false));
        let from_array = StrMap::from([("b".to_string(), "3".to_string())]);
        assert_eq!(m, from_array);
    }

    #[test]
    fn the_schema_is_a_btreemaps() {
        let ours = schemars::schema_for!(StrMap);
        let theirs = schemars::schema_for!(BTreeMap<String, String>);
        assert_eq!(ours, theirs);
    }
}
