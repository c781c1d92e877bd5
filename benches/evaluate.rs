//! Offline evaluation cost (issue #7): `link`, `evaluate`, the map's extraction, and the whole
//! offline audit (link, map, evaluate, waivers, JSON render) over synthetic spec-shaped
//! inventories of 1k, 10k and 100k resources with the built-in rule pack; and the whole audit of
//! inventories whose workloads share their groups, topics, metrics and policies (issue #14: the
//! cost must stay linear).
//! Run with `cargo bench`; the figures are in docs/performance.md.
//!
//! A target, not a test: nothing here asserts a time. Under `cargo test --benches` (cargo runs the
//! binary without `--bench`) divan runs each case once, so only the smallest size is used there.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use divan::Bencher;
use estate_audit::audit::{self, demo_waivers};
use estate_audit::model::Inventory;
use estate_audit::policy::PolicySet;
use estate_audit::{engine, link, map, report, synth};

/// The binary's allocator, so that the figures are the product's (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    estate_audit::sys::tune_allocator();
    divan::main();
}

/// Inventory sizes: all three under `cargo bench`, the smallest in test mode.
fn sizes() -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") {
        vec![1_000, 10_000, 100_000]
    } else {
        vec![1_000]
    }
}

fn policies() -> PolicySet {
    PolicySet::builtin().expect("the built-in pack loads (tested)")
}

fn linked(n: usize) -> Inventory {
    let mut inv = synth::spec_shaped(n, 1);
    link::link(&mut inv);
    inv
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn link_only(bencher: Bencher, n: usize) {
    let inv = synth::spec_shaped(n, 1);
    bencher
        .with_inputs(|| inv.clone())
        .bench_local_values(|mut inv| {
            link::link(&mut inv);
            inv
        });
}

#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn evaluate(bencher: Bencher, n: usize) {
    let inv = linked(n);
    let p = policies();
    bencher.bench_local(|| engine::evaluate(black_box(&inv), &p));
}

/// The map taken from a linked inventory (`map::extract`, part of every audit): three bounded
/// passes, so it stays a small fraction of `link`.
#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn map_extract(bencher: Bencher, n: usize) {
    let inv = linked(n);
    bencher.bench_local(|| map::extract(black_box(&inv)));
}

/// What `audit --inventory FILE --format json` does after parsing the file.
#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn link_evaluate_waivers_json(bencher: Bencher, n: usize) {
    whole_audit(bencher, synth::spec_shaped(n, 1));
}

/// The whole audit of an inventory whose copies share what they refer to
/// (`synth::shared_references`): thousands of interfaces in one group, many alarms on one metric.
#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
fn shared_references_whole_audit(bencher: Bencher, n: usize) {
    whole_audit(bencher, synth::shared_references(n));
}

/// Link, evaluation, the demo's waivers and the JSON report over a copy of `inv`.
fn whole_audit(bencher: Bencher, inv: Inventory) {
    let p = policies();
    let waivers = demo_waivers();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    bencher
        .with_inputs(|| inv.clone())
        .bench_local_values(|inv| {
            let r = audit::run(inv, None, &p, &waivers, now);
            report::json::render(&r, None)
        });
}
