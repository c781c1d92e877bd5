//! Reading a resource object of an inventory in one pass: the hand-written `Deserialize` of
//! [`Resource`]. The derived form of a flattened, adjacently tagged enum buffers every resource
//! into an intermediate tree first, which was most of an inventory's parse time.

use super::StrMap;

use serde::Deserialize;

use super::{deserialize_kind, Attrs, Resource, KINDS};

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ResourceVisitor)
    }
}

/// The keys of a resource object. Others are ignored, as the derived form did.
enum ResourceKey {
    Id,
    Name,
    Region,
    Account,
    Tags,
    Kind,
    Attrs,
    Other,
}

impl<'de> Deserialize<'de> for ResourceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ResourceKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ResourceKey, E> {
                Ok(match v {
                    "id" => ResourceKey::Id,
                    "name" => ResourceKey::Name,
                    "region" => ResourceKey::Region,
                    "account" => ResourceKey::Account,
                    "tags" => ResourceKey::Tags,
                    "kind" => ResourceKey::Kind,
                    "attrs" => ResourceKey::Attrs,
                    _ => ResourceKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The `kind` value: one of [`KINDS`] (by name, or by index as serde's enums accept).
struct KindSeed;

impl<'de> serde::de::DeserializeSeed<'de> for KindSeed {
    type Value = &'static str;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl serde::de::Visitor<'_> for KindSeed {
    type Value = &'static str;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("variant identifier")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<&'static str, E> {
        KINDS
            .iter()
            .find(|k| **k == v)
            .copied()
            .ok_or_else(|| E::unknown_variant(v, KINDS))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<&'static str, E> {
        usize::try_from(v)
            .ok()
            .and_then(|i| KINDS.get(i))
            .copied()
            .ok_or_else(|| {
                E::invalid_value(
                    serde::de::Unexpected::Unsigned(v),
                    &format!("variant index 0 <= i < {}", KINDS.len()).as_str(),
                )
            })
    }
}

/// The `attrs` of a known kind, read straight into the kind's struct.
struct AttrsSeed(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for AttrsSeed {
    type Value = Attrs;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Attrs, D::Error> {
        deserialize_kind(self.0, d)
    }
}

/// Reads a resource object in one pass. `attrs` is read straight into the kind's struct when
/// `kind` comes first (as every writer of this crate puts it); otherwise it is kept as a JSON
/// tree until `kind` is known. Accepts and rejects what the derived, flattened form did (unknown
/// keys beside these are ignored; missing or repeated `kind`/`attrs` are errors); errors inside
/// `attrs` now point at the offending value rather than at the end of the resource.
struct ResourceVisitor;

impl<'de> serde::de::Visitor<'de> for ResourceVisitor {
    type Value = Resource;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct Resource")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
        use serde::de::Error;
        fn once<T, E: Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
            match slot {
                Some(_) => Err(E::duplicate_field(name)),
                None => Ok(()),
            }
        }
        let mut id: Option<String> = None;
        let mut name: Option<Option<String>> = None;
        let mut region: Option<Option<String>> = None;
        let mut account: Option<Option<String>> = None;
        let mut tags: Option<StrMap> = None;
        let mut kind: Option<&'static str> = None;
        let mut attrs: Option<Attrs> = None;
        let mut pending: Option<serde_json::Value> = None;
        while let Some(key) = map.next_key::<ResourceKey>()? {
            match key {
                ResourceKey::Id => {
                    once(&id, "id")?;
                    id = Some(map.next_value()?);
                }
                ResourceKey::Name => {
                    once(&name, "name")?;
                    name = Some(map.next_value()?);
                }
                ResourceKey::Region => {
                    once(&region, "region")?;
                    region = Some(map.next_value()?);
                }
                ResourceKey::Account => {
                    once(&account, "account")?;
                    account = Some(map.next_value()?);
                }
                ResourceKey::Tags => {
                    once(&tags, "tags")?;
                    tags = Some(map.next_value()?);
                }
                ResourceKey::Kind => {
                    once(&kind, "kind")?;
                    kind = Some(map.next_value_seed(KindSeed)?);
                }
                ResourceKey::Attrs => {
                    if attrs.is_some() || pending.is_some() {
                        return Err(A::Error::duplicate_field("attrs"));
                    }
                    match kind {
                        Some(k) => attrs = Some(map.next_value_seed(AttrsSeed(k))?),
                        None => pending = Some(map.next_value()?),
                    }
                }
                ResourceKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let id = id.ok_or_else(|| A::Error::missing_field("id"))?;
        let kind = kind.ok_or_else(|| A::Error::missing_field("kind"))?;
        let attrs = match (attrs, pending) {
            (Some(a), _) => a,
            (None, Some(v)) => deserialize_kind(kind, v).map_err(A::Error::custom)?,
            (None, None) => return Err(A::Error::missing_field("attrs")),
        };
        Ok(Resource {
            id,
            name: name.flatten(),
            region: region.flatten(),
            account: account.flatten(),
            tags: tags.unwrap_or_default(),
            attrs,
        })
    }
}
