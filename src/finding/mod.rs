//! Findings and the report that carries them: the contract between the engine, the waivers and
//! every output format (docs/design.md §7). It owns statuses, severities, gates, fingerprints,
//! the report and its summary, the comparison with a baseline and the verdict; it must not render
//! anything nor evaluate rules.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::MonitoringProvider;

pub mod diff;
pub mod report;
mod text;
pub mod verdict;

pub use diff::{Diff, DiffEntry};
pub use report::{Counts, Report, Summary, Tool, WaiverIssue};
pub use text::Text;
pub use verdict::{outcome, outcome_new, GateSelection, Outcome};

/// Version of the JSON report. Bump on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fail,
    Unknown,
    Suppressed,
    Pass,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Suppressed => "suppressed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered most severe first, so sorting ascending puts critical on top.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// GitHub's `security-severity` score (critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low < 4).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "0.0",
        }
    }

    /// At or above `threshold` (critical is above high).
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `launch`: the spec's blocking work; `operate`: the non-blocking monitoring work.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    Launch,
    Operate,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Launch => "launch",
            Gate::Operate => "operate",
        }
    }
    pub fn parse(s: &str) -> Option<Gate> {
        match s {
            "launch" => Some(Gate::Launch),
            "operate" => Some(Gate::Operate),
            _ => None,
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule is and how to fix it: everything outputs need besides the findings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RuleInfo {
    pub id: String,
    /// The expected state, e.g. "RDS instances are not publicly accessible".
    pub title: String,
    pub severity: Severity,
    pub gate: Gate,
    /// Resource kinds the rule is evaluated over.
    pub kinds: Vec<String>,
    /// Section of the spec it enforces, e.g. "Data Storage › MySQL/MariaDB Database".
    pub spec: String,
    /// Why it matters.
    pub risk: String,
    /// How to fix it, with the concrete AWS CLI / Cloudflare step.
    pub remediation: String,
    pub references: Vec<String>,
    /// The parts of the monitoring plane whose answers the rule judges (empty for a rule on what
    /// AWS and Cloudflare say alone). Its findings form the monitoring plane's own SARIF run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitoring: Vec<MonitoringProvider>,
}

/// The waiver that suppressed a finding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AppliedWaiver {
    pub reason: String,
    pub owner: Option<String>,
    pub expires: NaiveDate,
    /// `file:line` of the waiver.
    pub source: String,
}

/// One rule evaluated over one resource.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule_id: Text,
    /// ARN / Cloudflare id of the resource; the VPC's ARN for an estate-level finding.
    pub resource_id: Text,
    pub resource_name: Text,
    pub kind: Text,
    pub region: Option<Text>,
    pub account: Option<Text>,
    pub status: Status,
    pub severity: Severity,
    pub gate: Gate,
    pub spec: Text,
    /// Why this status: what was expected and what was found, or what could not be read.
    pub message: Text,
    /// The facts behind the status (field → value), e.g. the internet path.
    pub evidence: Evidence,
    pub waiver: Option<Box<AppliedWaiver>>,
    /// Stable identity across runs: rule id + resource id only.
    pub fingerprint: String,
}

/// The evidence of a finding: field path → value, ordered by path, each path once. Read and
/// written exactly as a `BTreeMap<String, Value>` (a JSON object with sorted keys), but stored as
/// one sorted vector: a B-tree allocates a node of eleven slots even for one entry, which at a
/// large estate was the largest single item of an audit's memory (docs/performance.md).
#[derive(Clone, Default, PartialEq)]
pub struct Evidence(Vec<(Text, serde_json::Value)>);

impl Evidence {
    pub fn new() -> Evidence {
        Evidence(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, path: &str) -> Option<&serde_json::Value> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(path))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Entries in path order, as a map's `iter` gives them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Paths as [`Text`]: the engine's, made once per rule and shared by its findings.
impl FromIterator<(Text, serde_json::Value)> for Evidence {
    /// Sorted by path; of two entries with one path the later wins, as in a map.
    fn from_iter<I: IntoIterator<Item = (Text, serde_json::Value)>>(iter: I) -> Evidence {
        Evidence(crate::model::map_entries(iter.into_iter().collect()))
    }
}

impl FromIterator<(String, serde_json::Value)> for Evidence {
    fn from_iter<I: IntoIterator<Item = (String, serde_json::Value)>>(iter: I) -> Evidence {
        iter.into_iter().map(|(k, v)| (Text::from(k), v)).collect()
    }
}

impl From<BTreeMap<String, serde_json::Value>> for Evidence {
    fn from(m: BTreeMap<String, serde_json::Value>) -> Evidence {
        Evidence(m.into_iter().map(|(k, v)| (Text::from(k), v)).collect())
    }
}

impl<'a> IntoIterator for &'a Evidence {
    type Item = (&'a str, &'a serde_json::Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, serde_json::Value)>,
        fn(&'a (Text, serde_json::Value)) -> (&'a str, &'a serde_json::Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl std::ops::Index<&str> for Evidence {
    type Output = serde_json::Value;

    /// Like a map's index: panics when the path is absent.
    fn index(&self, path: &str) -> &serde_json::Value {
        match self.get(path) {
            Some(v) => v,
            None => panic!("no evidence at `{path}`"),
        }
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Evidence, D::Error> {
        BTreeMap::<String, serde_json::Value>::deserialize(d).map(Evidence::from)
    }
}

impl Finding {
    /// The order every output lists findings in: status (fail, unknown, suppressed, pass), then
    /// severity, rule id and resource id.
    pub fn canonical_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        (a.status, a.severity, &a.rule_id, &a.resource_id).cmp(&(
            b.status,
            b.severity,
            &b.rule_id,
            &b.resource_id,
        ))
    }
}

/// A stable sort of `v` by `cmp` that moves the elements in place: it sorts their indices
/// (ties broken by index, hence stable) and then applies the permutation by swaps. A merge sort
/// of the elements themselves needs a buffer of half of them.
pub(crate) fn sort_stable_in_place<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_unstable_by(|&a, &b| cmp(&v[a], &v[b]).then(a.cmp(&b)));
    apply_permutation(v, order);
}

/// Reorders `v` in place so that position `i` holds what was at `order[i]` (`order` must be a
/// permutation of `0..v.len()`): each cycle is followed once, every element moved by one swap,
/// and no second vector of elements is allocated.
pub(crate) fn apply_permutation<T>(v: &mut [T], mut order: Vec<usize>) {
    debug_assert_eq!(v.len(), order.len());
    for start in 0..order.len() {
        let mut cur = start;
        while order[cur] != start {
            let next = order[cur];
            v.swap(cur, next);
            order[cur] = cur;
            cur = next;
        }
        order[cur] = cur;
    }
}

/// Stable identity of a finding across runs (hex SHA-256 of rule id and resource id).
pub fn fingerprint(rule_id: &str, resource_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(resource_id.as_bytes());
    let digest = h.finalize();
    // Hex by hand: one allocation, not one per byte (this runs once per finding).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_and_resource_only() {
        let a = fingerprint("aws-rds-not-public", "arn:aws:rds:eu-west-1:1:db:x");
        assert_eq!(
            a,
            fingerprint("aws-rds-not-public", "arn:aws:rds:eu-west-1:1:db:x")
        );
        assert_ne!(
            a,
            fingerprint("aws-rds-encrypted", "arn:aws:rds:eu-west-1:1:db:x")
        );
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
        assert_eq!(a.len(), 32);
        // Pinned: fingerprints must not change between releases (baselines compare them).
        assert_eq!(a, "07d24f8ff048367d78ce4d2cc3575235");
    }

    #[test]
    fn severity_threshold_counts_more_severe_as_above() {
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(Severity::High.at_least(Severity::High));
        assert!(!Severity::Medium.at_least(Severity::High));
    }

    #[test]
    fn evidence_reads_and_writes_as_a_sorted_map() {
        let pairs = [
            ("b.c".to_string(), serde_json::json!(1)),
            ("a".to_string(), serde_json::json!(null)),
            ("b.c".to_string(), serde_json::json!(2)),
        ];
        let ev: Evidence = pairs.iter().cloned().collect();
        let map: BTreeMap<String, serde_json::Value> = pairs.into_iter().collect();
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(ev.len(), 2);
        assert_eq!(ev["b.c"], serde_json::json!(2));
        assert!(ev.get("c").is_none());
        assert_eq!(format!("{ev:?}"), format!("{map:?}"));
        let keys: Vec<&str> = (&ev).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b.c"]);
        let back: Evidence = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
        assert_eq!(Evidence::from(map), ev);
    }

    #[test]
    fn in_place_sort_is_stable_and_sorted() {
        let mut v: Vec<(u8, usize)> = [3u8, 1, 2, 1, 3, 0, 2, 1]
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i))
            .collect();
        let mut expected = v.clone();
        expected.sort_by_key(|a| a.0);
        sort_stable_in_place(&mut v, |a, b| a.0.cmp(&b.0));
        assert_eq!(v, expected);
        let mut empty: Vec<u8> = Vec::new();
        sort_stable_in_place(&mut empty, |a, b| a.cmp(b));
        assert!(empty.is_empty());
    }
}
