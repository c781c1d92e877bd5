//! CPU time (user + system, all threads) per offline stage over a synthetic inventory: a
//! measurement that stays meaningful when other work shares the machine, where wall time does not.
//! `cargo run --release --example stage_cpu -- 100000 [runs]`.

use chrono::{TimeZone, Utc};
use estate_audit::policy::PolicySet;
use estate_audit::{audit, engine, link, report, synth};

/// Process CPU seconds from /proc/self/stat (utime + stime, clock ticks of 10 ms); 0 elsewhere.
fn cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// The binary's allocator, so that the figures are the product's (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    estate_audit::sys::tune_allocator();
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let inv = synth::spec_shaped(n, 1);
    let Ok(p) = PolicySet::builtin() else { return };
    let waivers = audit::demo_waivers();
    let Some(now) = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).single() else {
        return;
    };
    for _ in 0..runs {
        let mut i = inv.clone();
        let (c0, w0) = (cpu(), std::time::Instant::now());
        link::link(&mut i);
        let (c1, w1) = (cpu(), std::time::Instant::now());
        let f = engine::evaluate(&i, &p);
        let (c2, w2) = (cpu(), std::time::Instant::now());
        drop(f);
        let r = audit::run(inv.clone(), None, &p, &waivers, now);
        let (c3, w3) = (cpu(), std::time::Instant::now());
        let text = report::json::render(&r, None);
        let (c4, w4) = (cpu(), std::time::Instant::now());
        println!(
            "{n}: cpu link {:.2} s, evaluate {:.2} s, run {:.2} s, json {:.2} s | wall link {:.0} ms, evaluate {:.0} ms, json {:.0} ms ({} bytes)",
            c1 - c0, c2 - c1, c3 - c2, c4 - c3,
            (w1 - w0).as_secs_f64() * 1e3, (w2 - w1).as_secs_f64() * 1e3, (w4 - w3).as_secs_f64() * 1e3, text.len()
        );
    }
}
