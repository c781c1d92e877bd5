//! Run statistics for `audit --stats` (issue #7): wall time per pipeline stage, the sizes that
//! explain it (resources, rules, findings, threads) and, for live collection, API calls, retries
//! and bytes per provider service. Printed to stderr and, as an optional additive `stats` object,
//! put in the JSON report; absent unless asked for, so reports stay byte-identical otherwise.
//!
//! It owns the shape only. Stages are timed by whoever runs them (`audit`, the CLI); collectors
//! fill [`ServiceCalls`]. Times are a monotonic measurement, never the report's clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

/// What one run cost.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Wall time per stage, in pipeline order (`load` or `collect`, `link`, `evaluate`,
    /// `waivers`; `render` only on stderr, as the JSON cannot time its own rendering).
    pub stages: Vec<Stage>,
    /// Resources in the inventory (the `estate` record `link` adds not counted).
    pub resources: usize,
    pub rules: usize,
    pub findings: usize,
    /// Threads evaluation used.
    pub threads: usize,
    /// API usage per `provider.service` (live collection only; empty for a file or the demo).
    pub services: BTreeMap<String, ServiceCalls>,
}

/// One timed stage.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    #[serde(serialize_with = "seconds")]
    pub seconds: Duration,
}

/// API usage of one service. Collectors add to it as they go.
#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCalls {
    /// Requests sent, retries included.
    pub calls: u64,
    /// Requests that were repeats of a throttled or failed one.
    pub retries: u64,
    /// Response body bytes read.
    pub bytes: u64,
}

impl ServiceCalls {
    pub fn add(&mut self, other: ServiceCalls) {
        self.calls += other.calls;
        self.retries += other.retries;
        self.bytes += other.bytes;
    }
}

/// Seconds with microsecond resolution: enough for a stage, stable to read.
fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e6)
}

impl Stats {
    /// Runs `f` as stage `name`, recording its wall time.
    pub fn time<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.record(name, start.elapsed());
        out
    }

    pub fn record(&mut self, name: &str, took: Duration) {
        self.stages.push(Stage {
            name: name.to_string(),
            seconds: took,
        });
    }

    /// The stderr form: one line of stages, one of sizes, one per service.
    pub fn render(&self) -> String {
        let mut s = String::from("stats:");
        let mut total = Duration::ZERO;
        for st in &self.stages {
            total += st.seconds;
            let _ = write!(s, " {} {}", st.name, ms(st.seconds));
        }
        let _ = writeln!(s, " (total {})", ms(total));
        let _ = writeln!(
            s,
            "stats: {} resources, {} rules, {} findings, {} evaluation thread(s)",
            self.resources, self.rules, self.findings, self.threads
        );
        for (name, c) in &self.services {
            let _ = writeln!(
                s,
                "stats: {name}: {} call(s), {} retr{}, {} bytes",
                c.calls,
                c.retries,
                if c.retries == 1 { "y" } else { "ies" },
                c.bytes
            );
        }
        s
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_stages_sizes_and_services() {
        let mut st = Stats {
            resources: 3,
            rules: 2,
            findings: 4,
            threads: 1,
            ..Default::default()
        };
        st.record("link", Duration::from_micros(1500));
        st.record("evaluate", Duration::from_micros(2500));
        st.services.insert(
            "cloudflare.api".into(),
            ServiceCalls {
                calls: 16,
                retries: 1,
                bytes: 2048,
            },
        );
        let text = st.render();
        assert!(
            text.contains("link 1.5 ms evaluate 2.5 ms (total 4.0 ms)"),
            "{text}"
        );
        assert!(text.contains("3 resources, 2 rules, 4 findings"), "{text}");
        assert!(
            text.contains("cloudflare.api: 16 call(s), 1 retry, 2048 bytes"),
            "{text}"
        );
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["stages"][0]["name"], "link");
        assert_eq!(json["stages"][0]["seconds"], 0.0015);
        assert_eq!(json["services"]["cloudflare.api"]["calls"], 16);
    }
}
