//! The one home of the test support. Every test binary that needs it says `mod support;` and
//! gets the light part: `offline` (the environment every CLI test runs the binary in, so that
//! nothing leaves this machine), `cloudflare_zone` (the compliant zone's API answers) and the
//! reports built in code for the output tests (`reports`, re-exported here). The live harness (a moto server with its bridge script, the
//! spec-shaped estate built through the SDK, and the fault-injecting proxy) lives in
//! `support/live/` and is included only by the tests that collect live, with
//! `#[path = "support/live/mod.rs"] mod live;`, so that the other test binaries never compile its
//! SDK calls.
#![allow(dead_code)] // each test binary uses a different part

#[cfg(feature = "live")]
pub mod cloudflare_zone;
pub mod offline;
mod reports;

#[allow(unused_imports)] // the binaries that need only `offline`
pub use reports::*;
