//! estate-audit: audits a deployed AWS + Cloudflare estate against the architecture spec it was built
//! from. The crate follows the pipeline stages: `model` (the inventory), `link` (derived
//! cross-resource facts), `policy` (rule files), `engine` (evaluation), `suppress` (waivers),
//! `report` (table, JSON, SARIF). Everything here is synchronous and pure; only `main.rs` maps a
//! report to an exit code.

pub mod config;
pub mod diag;
pub mod engine;
pub mod finding;
pub mod link;
pub mod model;
pub mod policy;
pub mod report;
pub mod suppress;
