//! Serialising only some fields of a struct to JSON: what evaluation needs of a resource (the
//! fields its rules read or cite as evidence), without building the whole resource as a JSON tree.
//! Converting every field of every resource was most of evaluation's cost, and most fields are
//! read by no rule over their kind.
//!
//! [`pick`] drives a value's own `Serialize` with a serializer that accepts one struct (or map)
//! and keeps the fields named in `keep`, each converted with `serde_json::to_value` exactly as the
//! whole-object conversion would have. Anything else (a value that is not a struct or map at the
//! top) is an error; callers then fall back to the whole conversion.

use std::collections::HashSet;
use std::fmt;

use serde::ser::{self, Impossible, Serialize};
use serde_json::{Map, Value as Json};

/// Why a value could not be picked from.
#[derive(Debug)]
pub(super) struct PickError(String);

impl fmt::Display for PickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PickError {}

impl ser::Error for PickError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PickError(msg.to_string())
    }
}

/// The fields of `value` (a struct or a map with string keys) named in `keep`, in field order.
/// Skipped fields (`skip_serializing_if`) are absent, as in `serde_json::to_value`.
pub(super) fn pick<T: Serialize + ?Sized>(
    value: &T,
    keep: &HashSet<&str>,
) -> Result<Map<String, Json>, PickError> {
    value.serialize(Picker { keep })
}

struct Picker<'k> {
    keep: &'k HashSet<&'k str>,
}

/// The struct or map being picked from.
struct Fields<'k> {
    keep: &'k HashSet<&'k str>,
    out: Map<String, Json>,
    /// A map's key waiting for its value (`None`: not kept).
    key: Option<Option<String>>,
}

impl Fields<'_> {
    fn add<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), PickError> {
        if self.keep.contains(key) {
            let v = serde_json::to_value(value).map_err(|e| PickError(e.to_string()))?;
            self.out.insert(key.to_string(), v);
        }
        Ok(())
    }
}

fn not_a_struct<T>() -> Result<T, PickError> {
    Err(PickError("a resource's attrs are not a struct".into()))
}

macro_rules! refuse {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Self::Ok, PickError> { not_a_struct() })*
    };
}

impl<'k> ser::Serializer for Picker<'k> {
    type Ok = Map<String, Json>;
    type Error = PickError;
    type SerializeSeq = Impossible<Self::Ok, PickError>;
    type SerializeTuple = Impossible<Self::Ok, PickError>;
    type SerializeTupleStruct = Impossible<Self::Ok, PickError>;
    type SerializeTupleVariant = Impossible<Self::Ok, PickError>;
    type SerializeMap = Fields<'k>;
    type SerializeStruct = Fields<'k>;
    type SerializeStructVariant = Impossible<Self::Ok, PickError>;

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, PickError> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Self::Ok, PickError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, PickError> {
        not_a_struct()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, PickError> {
        not_a_struct()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, PickError> {
        not_a_struct()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, PickError> {
        not_a_struct()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, PickError> {
        not_a_struct()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, PickError> {
        Ok(Fields {
            keep: self.keep,
            out: Map::new(),
            key: None,
        })
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, PickError> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, PickError> {
        not_a_struct()
    }
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = Map<String, Json>;
    type Error = PickError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PickError> {
        self.add(key, value)
    }

    fn end(self) -> Result<Self::Ok, PickError> {
        Ok(self.out)
    }
}

impl ser::SerializeMap for Fields<'_> {
    type Ok = Map<String, Json>;
    type Error = PickError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PickError> {
        // Map keys become JSON object keys: strings (serde_json turns other keys into strings
        // too, but no resource map has them).
        let k = match serde_json::to_value(key) {
            Ok(Json::String(s)) => s,
            _ => return Err(PickError("a map key is not a string".into())),
        };
        self.key = Some(self.keep.contains(k.as_str()).then_some(k));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PickError> {
        match self.key.take() {
            Some(Some(k)) => {
                let v = serde_json::to_value(value).map_err(|e| PickError(e.to_string()))?;
                self.out.insert(k, v);
                Ok(())
            }
            Some(None) => Ok(()),
            None => Err(PickError("a map value without a key".into())),
        }
    }

    fn end(self) -> Result<Self::Ok, PickError> {
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attrs, DbInstance};

    #[test]
    fn picks_the_named_fields_as_the_whole_conversion_gives_them() {
        let db = DbInstance {
            db_instance_identifier: Some("a".into()),
            publicly_accessible: Some(true),
            subnet_ids: Some(vec!["s1".into(), "s2".into()]),
            ..Default::default()
        };
        let keep: HashSet<&str> = ["publicly_accessible", "subnet_ids", "storage_encrypted"]
            .into_iter()
            .collect();
        let picked = pick(&db, &keep).unwrap();
        let whole = match serde_json::to_value(&db).unwrap() {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let expected: Map<String, Json> = whole
            .into_iter()
            .filter(|(k, _)| keep.contains(k.as_str()))
            .collect();
        assert_eq!(picked, expected);
        assert_eq!(picked["storage_encrypted"], Json::Null);
        assert_eq!(picked.len(), 3);
    }

    #[test]
    fn maps_are_picked_by_key_and_other_values_are_refused() {
        let m: std::collections::BTreeMap<&str, i32> = [("a", 1), ("b", 2)].into_iter().collect();
        let keep: HashSet<&str> = ["b"].into_iter().collect();
        assert_eq!(
            Json::Object(pick(&m, &keep).unwrap()),
            serde_json::json!({"b": 2})
        );
        assert!(pick(&3, &keep).is_err());
        // The adjacently tagged enum itself is a struct of `kind` and `attrs`.
        let a = Attrs::DbInstance(DbInstance::default());
        let keep: HashSet<&str> = ["kind"].into_iter().collect();
        assert_eq!(
            Json::Object(pick(&a, &keep).unwrap()),
            serde_json::json!({"kind": "aws.rds.db_instance"})
        );
    }
}
