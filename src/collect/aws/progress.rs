//! The progress line on stderr while AWS is read: the services being read (with their calls in
//! flight), the services done, the calls so far and the time, redrawn in place. The read-only
//! guard reports each call's start and end; this module keeps the count and draws.
//!
//! It is shown only when stderr is a terminal: the caller decides ([`super::AwsOptions`]
//! `progress`), so logs, pipes and CI output never fill with control codes, and nothing of it
//! ever goes to stdout, which carries the report. Drawing is throttled and never fails the
//! collection. [`render`] is pure and unit-tested.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Observer;

/// Redraws at most this often: hundreds of calls a second must not become hundreds of writes.
const REDRAW_EVERY: Duration = Duration::from_millis(50);

/// One service as the line shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceCalls {
    pub name: String,
    pub calls: usize,
    pub in_flight: usize,
}

#[derive(Default)]
struct State {
    services: Vec<ServiceCalls>,
    last_draw: Option<Instant>,
}

/// Call counts per service, drawn on stderr.
pub struct Progress {
    state: Mutex<State>,
    started: Instant,
    width: usize,
    draw: fn(&str),
}

impl Progress {
    /// A progress line on stderr, as wide as the terminal says (`COLUMNS`), else 80 columns.
    pub fn stderr() -> Arc<Self> {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .filter(|w: &usize| *w >= 20)
            .unwrap_or(80);
        Arc::new(Progress {
            state: Mutex::default(),
            started: Instant::now(),
            width,
            draw: |line| {
                let mut e = std::io::stderr().lock();
                let _ = write!(e, "\r\x1b[2K{line}");
                let _ = e.flush();
            },
        })
    }

    /// The guard's two observers: one told when a call starts, one when it has ended.
    pub fn observers(self: &Arc<Self>) -> (Observer, Observer) {
        let (a, b) = (self.clone(), self.clone());
        (
            Arc::new(move |service: &str, _op: &str| a.event(service, true)),
            Arc::new(move |service: &str, _op: &str| b.event(service, false)),
        )
    }

    fn event(&self, service: &str, start: bool) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let name = short_name(service);
        let i = match st.services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                st.services.push(ServiceCalls {
                    name: name.to_string(),
                    ..Default::default()
                });
                st.services.len() - 1
            }
        };
        let s = &mut st.services[i];
        if start {
            s.calls += 1;
            s.in_flight += 1;
        } else {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        let now = Instant::now();
        if st
            .last_draw
            .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return;
        }
        st.last_draw = Some(now);
        (self.draw)(&render(&st.services, self.started.elapsed(), self.width));
    }
}

/// The names the SDK gives services, shortened where they would crowd the line.
fn short_name(service: &str) -> &str {
    match service {
        "Application Auto Scaling" => "AutoScaling",
        "Resource Groups Tagging API" => "Tagging",
        s => s,
    }
}

/// The line: `AWS 1.2s 31 calls · reading Lambda(2) ECS(1) · done EC2 RDS SNS`, cut to `width`
/// columns (a line longer than the terminal would wrap and could not be redrawn in place).
pub fn render(services: &[ServiceCalls], elapsed: Duration, width: usize) -> String {
    let calls: usize = services.iter().map(|s| s.calls).sum();
    let mut line = format!("AWS {:.1}s {calls} calls", elapsed.as_secs_f64());
    let reading: Vec<String> = services
        .iter()
        .filter(|s| s.in_flight > 0)
        .map(|s| format!("{}({})", s.name, s.in_flight))
        .collect();
    let done: Vec<&str> = services
        .iter()
        .filter(|s| s.in_flight == 0)
        .map(|s| s.name.as_str())
        .collect();
    if !reading.is_empty() {
        line.push_str(" · reading ");
        line.push_str(&reading.join(" "));
    }
    if !done.is_empty() {
        line.push_str(" · done ");
        line.push_str(&done.join(" "));
    }
    let max = width.saturating_sub(1);
    if line.chars().count() > max {
        line = line.chars().take(max.saturating_sub(1)).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, calls: usize, in_flight: usize) -> ServiceCalls {
        ServiceCalls {
            name: name.into(),
            calls,
            in_flight,
        }
    }

    #[test]
    fn the_line_names_services_being_read_and_done() {
        let line = render(
            &[svc("EC2", 9, 0), svc("Lambda", 3, 2), svc("ECS", 1, 1)],
            Duration::from_millis(1250),
            200,
        );
        assert_eq!(
            line,
            "AWS 1.2s 13 calls · reading Lambda(2) ECS(1) · done EC2"
        );
        assert!(!line.contains('\x1b'), "control codes are the caller's");
    }

    #[test]
    fn the_line_fits_the_terminal() {
        let many: Vec<ServiceCalls> = (0..30).map(|i| svc(&format!("S{i}"), 1, 1)).collect();
        let line = render(&many, Duration::ZERO, 40);
        assert_eq!(line.chars().count(), 39);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn starts_and_ends_are_counted_per_service() {
        let p = Arc::new(Progress {
            state: Mutex::default(),
            started: Instant::now(),
            width: 80,
            draw: |_| {},
        });
        let (start, end) = p.observers();
        start("EC2", "DescribeVpcs");
        start("Application Auto Scaling", "DescribeScalableTargets");
        end("EC2", "DescribeVpcs");
        start("EC2", "DescribeSubnets");
        let st = p.state.lock().unwrap();
        assert_eq!(
            st.services,
            [svc("EC2", 2, 1), svc("AutoScaling", 1, 1)],
            "the long SDK name is shortened"
        );
    }
}
