//! [`Text`]: an immutable string that findings share. A rule's id, kind, spec section and pass
//! message, and a resource's id, name, region and account, are the same in thousands of
//! findings; held as a `String` each, they were a copy per finding, and at a large estate the
//! findings are most of an audit's memory (docs/performance.md). A `Text` is one allocation
//! shared by reference count; it reads, compares, prints and serialises exactly as the string it
//! holds, so nothing outside this module can tell it from a `String` but by its type.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// An immutable, cheaply cloned string (see the module's note).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(Arc<str>);

/// As strings order; a shared one is equal to itself without reading it (sorting a report
/// compares rule ids that are mostly one shared text).
impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::from("")
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Arc::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text(Arc::from(s.as_str()))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0.to_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        **self == *other.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_reads_compares_and_serialises_as_its_string() {
        let t = Text::from("aws-rds-encrypted");
        let shared = t.clone();
        assert!(Arc::ptr_eq(&t.0, &shared.0), "a clone shares the string");
        assert_eq!(t, "aws-rds-encrypted");
        assert_eq!("aws-rds-encrypted", t);
        assert_eq!(t, "aws-rds-encrypted".to_string());
        assert!(t.starts_with("aws-"), "reads as a str");
        assert_eq!(
            format!("{t} {t:?}"),
            "aws-rds-encrypted \"aws-rds-encrypted\""
        );
        assert_eq!(
            serde_json::to_string(&t).expect("serialised"),
            "\"aws-rds-encrypted\""
        );
        let back: Text = serde_json::from_str("\"aws-rds-encrypted\"").expect("read");
        assert_eq!(back, t);
        let (a, b) = (Text::from("a"), Text::from("b"));
        assert!(a < b && a.cmp(&a.clone()).is_eq(), "ordered as strings");
    }
}
