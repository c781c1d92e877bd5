//! estate-audit: audits a deployed AWS + Cloudflare estate against the architecture spec it was built
//! from. The crate follows the pipeline stages: `model` (the inventory), `link` (derived
//! cross-resource facts), `policy` (rule files), `engine` (evaluation), `suppress` (waivers),
//! `report` (table, JSON, SARIF, Markdown, JUnit, HTML, metrics), `history` (comparison with
//! an earlier report). Everything here is synchronous and pure; only `main.rs` maps a
//! report to an exit code.

// Input files load once per run and their errors end it: a large `Diagnostic` in `Err` costs
// nothing worth boxing for, and keeping it unboxed keeps its fields plain to use.
#![allow(clippy::result_large_err)]

pub mod audit;
pub mod cli;
// Live collection: the only asynchronous, networked code (the `live` feature, on by default).
#[cfg(feature = "live")]
pub mod collect;
pub mod config;
pub mod diag;
pub mod engine;
pub mod finding;
pub mod history;
pub mod input;
pub mod link;
pub mod map;
pub mod model;
pub mod policy;
pub mod report;
pub mod stats;
pub mod suppress;
pub mod synth;
pub mod sys;
pub mod text;
