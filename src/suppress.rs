//! Waivers (docs/design.md §6): parsing a `[[waiver]]` TOML file into a [`WaiverSet`] with a
//! file:line:column diagnostic for every problem, and applying the set to evaluated findings.
//!
//! It owns the waiver file format and the suppression semantics: a waiver that has not expired
//! turns matching `fail` and `unknown` findings into `suppressed`; an expired one suppresses
//! nothing and is reported; one that matches no finding is reported. It must not read the clock
//! (today's date is passed in), know the policy set (rule ids are checked through a callback), nor
//! recompute summaries (the caller calls `Report::finish`).

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::diag::{Diagnostic, Diagnostics};
use crate::finding::{AppliedWaiver, Finding, Status, WaiverIssue};
use crate::input::toml::{self, File, Style, Table};

/// Keys a `[[waiver]]` table may hold.
const KEYS: [&str; 5] = ["rule", "resource", "reason", "owner", "expires"];

/// One parsed waiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub rule: String,
    /// An exact resource id (ARN / Cloudflare id) or `*` for every resource of the rule.
    pub resource: String,
    pub reason: String,
    pub owner: Option<String>,
    /// Last day the waiver applies (inclusive).
    pub expires: NaiveDate,
    /// `file:line` of the `[[waiver]]` header.
    pub source: String,
    /// Byte span of the `rule` value, so unknown rule ids can be pointed at later.
    pub rule_span: Range<usize>,
}

impl Waiver {
    fn matches(&self, f: &Finding) -> bool {
        f.rule_id == self.rule && (self.resource == "*" || f.resource_id == self.resource)
    }

    /// Still in force on `today` (the expiry day itself included).
    pub fn active_on(&self, today: NaiveDate) -> bool {
        self.expires >= today
    }
}

/// Every waiver of one file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaiverSet {
    pub waivers: Vec<Waiver>,
    origin: String,
    text: Arc<str>,
}

impl WaiverSet {
    /// No waivers (no `--waivers` given).
    pub fn empty() -> Self {
        WaiverSet {
            waivers: Vec::new(),
            origin: String::new(),
            text: Arc::from(""),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waivers.is_empty()
    }

    pub fn len(&self) -> usize {
        self.waivers.len()
    }

    /// Reads and parses a waiver file; an unreadable file is one diagnostic without a span.
    pub fn load(path: &Path) -> Result<WaiverSet, Diagnostics> {
        let text = crate::input::read_text(path, "waiver file", crate::input::MAX_WAIVER_BYTES)?;
        WaiverSet::parse(&text, &path.display().to_string())
    }

    /// Parses waiver TOML, reporting every problem found (not just the first).
    pub fn parse(text: &str, origin: &str) -> Result<WaiverSet, Diagnostics> {
        // Recoverable parsing reports every syntax error at once, not just the first.
        let (mut file, doc) = toml::parse(text, origin, Style::ThisIs)?;
        let source = file.source.clone();
        let mut waivers = Vec::new();
        for (key, value) in doc.get_ref().iter() {
            if key.get_ref().as_ref() != "waiver" {
                let d = file
                    .at(key.span(), format!("unknown key `{}`", key.get_ref()))
                    .with_label("not a waiver")
                    .with_note("a waiver file holds only `[[waiver]]` tables");
                file.push(d);
                continue;
            }
            for (table, item) in file.tables(key, value) {
                if let Some(w) = waiver(&mut file, table, item) {
                    waivers.push(w);
                }
            }
        }
        // The table map is ordered by key, not position: `finish` reports in file order.
        let diags = file.finish();
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(WaiverSet {
            waivers,
            origin: origin.to_string(),
            text: source,
        })
    }

    /// Points at the `rule` value of every waiver whose rule id `known` rejects.
    pub fn check_rules(&self, known: &dyn Fn(&str) -> bool) -> Diagnostics {
        let mut out = Diagnostics::default();
        for w in &self.waivers {
            if !known(&w.rule) {
                out.push(
                    Diagnostic::at(
                        &self.origin,
                        &self.text,
                        w.rule_span.clone(),
                        format!("unknown rule id `{}`", w.rule),
                    )
                    .with_label("no rule has this id")
                    .with_note("`estate-audit rules` lists the rule ids"),
                );
            }
        }
        out
    }
}

/// One `[[waiver]]` table spanning `item`, or `None` when it has problems (recorded in `file`).
fn waiver(file: &mut File<'_>, table: &Table<'_>, item: Range<usize>) -> Option<Waiver> {
    let before = file.diags.len();
    // The header span is the best place for "missing key" errors: the table's own span
    // starts at `[[waiver]]`.
    let header = file.header_span(item.clone());
    file.check_keys(table, &KEYS, |k| format!("unknown key `{k}` in waiver"));

    let rule = string(file, table, "rule", true, &header);
    let resource = string(file, table, "resource", true, &header);
    let reason = string(file, table, "reason", true, &header);
    let owner = string(file, table, "owner", false, &header);
    let expires = date(file, table, &header);

    match (rule, resource, reason, expires) {
        (Some(rule), Some(resource), Some(reason), Some(expires)) if file.diags.len() == before => {
            Some(Waiver {
                rule: rule.0,
                resource: resource.0,
                reason: reason.0,
                owner: owner.map(|o| o.0),
                expires,
                source: format!("{}:{}", file.origin, file.line_col(item.start).0),
                rule_span: rule.1,
            })
        }
        _ => None,
    }
}

/// A non-empty string value; `required` keys that are missing are an error.
fn string(
    file: &mut File<'_>,
    table: &Table<'_>,
    key: &str,
    required: bool,
    header: &Range<usize>,
) -> Option<(String, Range<usize>)> {
    let Some(v) = table.get(key) else {
        if required {
            let d = file
                .at(header.clone(), format!("waiver is missing `{key}`"))
                .with_label(format!("this waiver needs `{key} = \"…\"`"))
                .with_note(required_note(key));
            file.push(d);
        }
        return None;
    };
    let s = file.non_empty_string(key, v, Some(required_note(key)))?;
    Some((s, v.span()))
}

/// `expires`: a TOML local date (`2026-12-31`) or a string of that form.
fn date(file: &mut File<'_>, table: &Table<'_>, header: &Range<usize>) -> Option<NaiveDate> {
    let Some(v) = table.get("expires") else {
        let d = file
            .at(header.clone(), "waiver is missing `expires`")
            .with_label("this waiver needs `expires = 2026-12-31`")
            .with_note("every waiver expires, so that accepted risks are reviewed");
        file.push(d);
        return None;
    };
    file.date("expires", v)
}

fn required_note(key: &str) -> &'static str {
    match key {
        "reason" => "say why the risk is accepted; it is shown next to every waived finding",
        "rule" => "the id of the rule to waive, e.g. `aws-lambda-url-cloudflare-only`",
        "resource" => "an exact resource id (ARN / Cloudflare id) or `*` for all resources",
        _ => "an owner names who accepted the risk; leave the key out when there is none",
    }
}

/// Applies the waivers to evaluated findings and reports waivers that need a human.
///
/// For each finding the first active waiver that names its resource exactly wins, else the first
/// active `*` waiver: the specific reason is the more useful one to show. `fail` and `unknown`
/// findings become `suppressed`; passes stay passes but still count as a match, so a waiver over
/// a now-passing resource is not reported as unused (it may be needed again when the check
/// regresses). Expired waivers suppress nothing and are reported as `expired`; active waivers
/// matching no finding are reported as `unused`. Issues come in file order.
pub fn apply(findings: &mut [Finding], waivers: &WaiverSet, today: NaiveDate) -> Vec<WaiverIssue> {
    let mut used = vec![false; waivers.waivers.len()];
    for f in findings.iter_mut() {
        let mut chosen: Option<usize> = None;
        for (i, w) in waivers.waivers.iter().enumerate() {
            if !w.active_on(today) || !w.matches(f) {
                continue;
            }
            used[i] = true;
            let better = match chosen {
                None => true,
                Some(c) => waivers.waivers[c].resource == "*" && w.resource != "*",
            };
            if better {
                chosen = Some(i);
            }
        }
        let Some(i) = chosen else { continue };
        if matches!(f.status, Status::Fail | Status::Unknown) {
            let w = &waivers.waivers[i];
            f.status = Status::Suppressed;
            f.waiver = Some(Box::new(AppliedWaiver {
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires,
                source: w.source.clone(),
            }));
        }
    }
    waivers
        .waivers
        .iter()
        .zip(used)
        .filter_map(|(w, used)| {
            let problem = if !w.active_on(today) {
                "expired"
            } else if !used {
                "unused"
            } else {
                return None;
            };
            Some(WaiverIssue {
                problem: problem.to_string(),
                rule: w.rule.clone(),
                resource: w.resource.clone(),
                expires: w.expires,
                reason: w.reason.clone(),
                source: w.source.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{fingerprint, Gate, Severity};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn finding(rule: &str, resource: &str, status: Status) -> Finding {
        Finding {
            rule_id: rule.into(),
            resource_id: resource.into(),
            resource_name: resource.into(),
            kind: "aws.rds.db_instance".into(),
            region: Some("eu-west-1".into()),
            account: Some("111122223333".into()),
            status,
            severity: Severity::High,
            gate: Gate::Launch,
            spec: "Data Storage".into(),
            message: "m".into(),
            evidence: Default::default(),
            waiver: None,
            fingerprint: fingerprint(rule, resource),
        }
    }

    const GOOD: &str = r#"
# The spec itself: "IP whitelisting not implemented due to application requirements".
[[waiver]]
rule = "aws-lambda-url-cloudflare-only"
resource = "*"
reason = "IP whitelisting not implemented due to application requirements"
owner = "platform-team"
expires = 2026-12-31

[[waiver]]
rule = "aws-rds-tls-required"
resource = "arn:aws:rds:eu-west-1:111122223333:db:estate-db"
reason = "client library upgrade pending"
expires = "2026-06-30"
"#;

    #[test]
    fn parses_dates_in_both_forms_and_records_the_header_line() {
        let set = WaiverSet::parse(GOOD, "waivers.toml").unwrap();
        assert_eq!(set.len(), 2);
        let w = &set.waivers[0];
        assert_eq!(w.rule, "aws-lambda-url-cloudflare-only");
        assert_eq!(w.owner.as_deref(), Some("platform-team"));
        assert_eq!(w.expires, day("2026-12-31"));
        assert_eq!(w.source, "waivers.toml:3");
        assert_eq!(set.waivers[1].expires, day("2026-06-30"));
        assert_eq!(set.waivers[1].owner, None);
        assert_eq!(set.waivers[1].source, "waivers.toml:10");
    }

    #[test]
    fn load_reads_a_file_and_reports_an_unreadable_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waivers.toml");
        std::fs::write(&path, GOOD).unwrap();
        let set = WaiverSet::load(&path).unwrap();
        assert!(set.waivers[0].source.ends_with("waivers.toml:3"));
        let err = WaiverSet::load(&dir.path().join("missing.toml")).unwrap_err();
        assert!(err.0[0].message.contains("cannot read"), "{err}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let err = WaiverSet::load(&path).unwrap_err();
        assert!(err.0[0].message.contains("UTF-8"), "{err}");
    }

    #[test]
    fn empty_file_is_an_empty_set() {
        assert!(WaiverSet::parse("", "w.toml").unwrap().is_empty());
        assert!(WaiverSet::parse("# nothing yet\n", "w.toml")
            .unwrap()
            .is_empty());
        assert!(WaiverSet::empty().is_empty());
    }

    fn rendered(text: &str) -> String {
        WaiverSet::parse(text, "waivers.toml")
            .expect_err("should be rejected")
            .render_plain()
    }

    #[test]
    fn snapshot_missing_reason_and_expires() {
        insta::assert_snapshot!(rendered(
            "[[waiver]]\nrule = \"aws-rds-encrypted\"\nresource = \"*\"\n"
        ));
    }

    #[test]
    fn snapshot_unknown_keys_empty_reason_wrong_types() {
        insta::assert_snapshot!(rendered(
            r#"version = 2

[[waiver]]
rule = "aws-rds-encrypted"
resource = 42
reason = "   "
owner = ["a", "b"]
expries = 2026-01-01
expires = 2026-01-01
"#
        ));
    }

    #[test]
    fn snapshot_bad_dates() {
        insta::assert_snapshot!(rendered(
            r#"[[waiver]]
rule = "aws-rds-encrypted"
resource = "*"
reason = "r"
expires = "31/12/2026"

[[waiver]]
rule = "aws-rds-encrypted"
resource = "*"
reason = "r"
expires = 2026-12-31T10:00:00Z

[[waiver]]
rule = "aws-rds-encrypted"
resource = "*"
reason = "r"
expires = true
"#
        ));
    }

    #[test]
    fn snapshot_toml_syntax_error_and_single_brackets() {
        insta::assert_snapshot!(rendered(
            "[[waiver]]\nrule = \"x\nreason = 1\nowner = \"a\" \"b\"\n"
        ));
        insta::assert_snapshot!(
            "single_brackets",
            rendered(
                "[waiver]\nrule = \"x\"\nresource = \"*\"\nreason = \"r\"\nexpires = 2026-01-01\n"
            )
        );
    }

    #[test]
    fn unknown_rule_ids_point_at_the_rule_value() {
        let set = WaiverSet::parse(GOOD, "waivers.toml").unwrap();
        let d = set.check_rules(&|id| id == "aws-rds-tls-required");
        assert_eq!(d.len(), 1);
        assert_eq!(d.0[0].location(), "waivers.toml:4:8");
        insta::assert_snapshot!(d.render_plain());
        assert!(set.check_rules(&|_| true).is_empty());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "waiver = 1",
            "waiver = [1, \"x\"]",
            "[[waiver]]",
            "[[waiver]]\nexpires = 2026-02-30",
            "[[waiver]]\nexpires = 10:00:00",
            "\u{feff}[[waiver]]\nrule = \"é\"",
            "[[waiver]]\n[waiver.x]\n",
            "[[ waiver ]]\nrule=1",
        ] {
            let _ = WaiverSet::parse(text, "w.toml").map_err(|d| d.render_plain());
        }
    }

    #[test]
    fn active_waivers_suppress_fail_and_unknown_but_not_pass() {
        let set = WaiverSet::parse(GOOD, "waivers.toml").unwrap();
        let db = "arn:aws:rds:eu-west-1:111122223333:db:estate-db";
        let mut fs = vec![
            finding("aws-lambda-url-cloudflare-only", "arn:fn:a", Status::Fail),
            finding(
                "aws-lambda-url-cloudflare-only",
                "arn:fn:b",
                Status::Unknown,
            ),
            finding("aws-rds-tls-required", db, Status::Pass),
            finding("aws-rds-encrypted", db, Status::Fail),
        ];
        let issues = apply(&mut fs, &set, day("2026-06-30"));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(fs[0].status, Status::Suppressed);
        assert_eq!(fs[1].status, Status::Suppressed);
        let w = fs[0].waiver.as_ref().unwrap();
        assert_eq!(w.source, "waivers.toml:3");
        assert_eq!(w.owner.as_deref(), Some("platform-team"));
        assert_eq!(fs[2].status, Status::Pass);
        assert!(fs[2].waiver.is_none());
        assert_eq!(fs[3].status, Status::Fail);
    }

    #[test]
    fn expired_waivers_suppress_nothing_and_unused_ones_are_reported() {
        let set = WaiverSet::parse(GOOD, "waivers.toml").unwrap();
        let mut fs = vec![finding(
            "aws-lambda-url-cloudflare-only",
            "arn:fn:a",
            Status::Fail,
        )];
        // The day after the rds waiver expires; the lambda one is still active and used.
        let issues = apply(&mut fs, &set, day("2026-07-01"));
        assert_eq!(fs[0].status, Status::Suppressed);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].problem, "expired");
        assert_eq!(issues[0].rule, "aws-rds-tls-required");
        assert_eq!(issues[0].source, "waivers.toml:10");

        let mut fs = vec![finding("aws-rds-encrypted", "x", Status::Fail)];
        let issues = apply(&mut fs, &set, day("2026-01-01"));
        let problems: Vec<_> = issues.iter().map(|i| i.problem.as_str()).collect();
        assert_eq!(problems, ["unused", "unused"]);
        assert_eq!(fs[0].status, Status::Fail);
    }

    #[test]
    fn an_exact_waiver_wins_over_a_wildcard() {
        let text = r#"
[[waiver]]
rule = "r"
resource = "*"
reason = "all of them"
expires = 2030-01-01
[[waiver]]
rule = "r"
resource = "a"
reason = "this one"
expires = 2030-01-01
"#;
        let set = WaiverSet::parse(text, "w.toml").unwrap();
        let mut fs = vec![
            finding("r", "a", Status::Fail),
            finding("r", "b", Status::Fail),
        ];
        assert!(apply(&mut fs, &set, day("2026-01-01")).is_empty());
        assert_eq!(fs[0].waiver.as_ref().unwrap().reason, "this one");
        assert_eq!(fs[1].waiver.as_ref().unwrap().reason, "all of them");
    }
}
