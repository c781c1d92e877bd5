//! Collection: the only network code (DESIGN.md §2). Each provider's collector turns API answers
//! into [`crate::model`] resources and collection errors; nothing after this module sees an SDK or
//! HTTP type. Collectors only read: they must never change the estate.

pub mod aws;
