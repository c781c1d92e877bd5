//! The live-collection harness: `moto` (a pinned moto server on 127.0.0.1 behind a test-only
//! bridge script), `estate` (the spec-shaped estate, compliant or broken, built through the SDK),
//! `audit` (collecting and auditing it, reading verdicts back) and `proxy` (the fault-injecting
//! proxy of the fault suite). Test code only: moto's gaps are worked around here, never in the
//! product.
#![allow(dead_code)] // each test binary uses a different part

pub mod audit;
pub mod estate;
pub mod moto;
pub mod proxy;
