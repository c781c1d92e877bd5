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
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::finding::{AppliedWaiver, Finding, Status, WaiverIssue};

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
        let source: Arc<str> = Arc::from(text);
        // Recoverable parsing reports every syntax error at once, not just the first.
        let (doc, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let mut diags: Vec<Diagnostic> = errors
                .iter()
                .map(|e| Diagnostic::from_toml_in(origin, &source, e))
                .collect();
            diags.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
            return Err(Diagnostics(diags));
        }
        let mut diags = Vec::new();
        let mut waivers = Vec::new();
        for (key, value) in doc.get_ref().iter() {
            if key.get_ref().as_ref() != "waiver" {
                diags.push(
                    Diagnostic::at(
                        origin,
                        &source,
                        key.span(),
                        format!("unknown key `{}`", key.get_ref()),
                    )
                    .with_label("not a waiver")
                    .with_note("a waiver file holds only `[[waiver]]` tables"),
                );
                continue;
            }
            let DeValue::Array(items) = value.get_ref() else {
                diags.push(
                    Diagnostic::at(
                        origin,
                        &source,
                        key.span(),
                        "`waiver` must be an array of tables",
                    )
                    .with_label(format!("this is {}", a_type(value.get_ref())))
                    .with_note("write each waiver as `[[waiver]]` (two brackets)"),
                );
                continue;
            };
            for item in items.iter() {
                let ctx = Ctx {
                    origin,
                    source: &source,
                };
                match ctx.waiver(item) {
                    Ok(w) => waivers.push(w),
                    Err(mut d) => diags.append(&mut d),
                }
            }
        }
        if !diags.is_empty() {
            // The table map is ordered by key, not position: report in file order.
            diags.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
            return Err(Diagnostics(diags));
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

/// Where the waiver being parsed lives, for diagnostics.
struct Ctx<'a> {
    origin: &'a str,
    source: &'a Arc<str>,
}

impl Ctx<'_> {
    fn at(&self, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.origin, self.source, span, msg)
    }

    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        // Spans from the parser are char boundaries; count bytes so no slicing can panic.
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn waiver(&self, item: &Spanned<DeValue<'_>>) -> Result<Waiver, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let DeValue::Table(table) = item.get_ref() else {
            return Err(vec![self
                .at(item.span(), "a waiver must be a table")
                .with_label(format!("this is {}", a_type(item.get_ref())))]);
        };
        // The header span is the best place for "missing key" errors: the table's own span
        // starts at `[[waiver]]`.
        let header = item.span().start..item.span().start;
        let header = self.header_span(header);

        for (key, _) in table.iter() {
            let k = key.get_ref().as_ref();
            if !KEYS.contains(&k) {
                let mut d = self
                    .at(key.span(), format!("unknown key `{k}` in waiver"))
                    .with_label("unknown key");
                d = match closest(k) {
                    Some(s) => d.with_note(format!("did you mean `{s}`?")),
                    None => d.with_note(format!("expected one of: {}", KEYS.join(", "))),
                };
                diags.push(d);
            }
        }

        let rule = self.string(table, "rule", true, &header, &mut diags);
        let resource = self.string(table, "resource", true, &header, &mut diags);
        let reason = self.string(table, "reason", true, &header, &mut diags);
        let owner = self.string(table, "owner", false, &header, &mut diags);
        let expires = self.date(table, &header, &mut diags);

        match (rule, resource, reason, expires) {
            (Some(rule), Some(resource), Some(reason), Some(expires)) if diags.is_empty() => {
                Ok(Waiver {
                    rule: rule.0,
                    resource: resource.0,
                    reason: reason.0,
                    owner: owner.map(|o| o.0),
                    expires,
                    source: format!("{}:{}", self.origin, self.line_of(item.span().start)),
                    rule_span: rule.1,
                })
            }
            _ => Err(diags),
        }
    }

    /// The `[[waiver]]` text at the start of a table, or an empty span there.
    fn header_span(&self, at: Range<usize>) -> Range<usize> {
        let rest = self.source.get(at.start..).unwrap_or("");
        if rest.starts_with("[[") {
            let len = rest.find(']').map_or(0, |i| i + 2).min(rest.len());
            at.start..at.start + len
        } else {
            at
        }
    }

    /// A non-empty string value; `required` keys that are missing are an error.
    fn string(
        &self,
        table: &DeTable<'_>,
        key: &str,
        required: bool,
        header: &Range<usize>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(String, Range<usize>)> {
        let Some(v) = table.get(key) else {
            if required {
                diags.push(
                    self.at(header.clone(), format!("waiver is missing `{key}`"))
                        .with_label(format!("this waiver needs `{key} = \"…\"`"))
                        .with_note(required_note(key)),
                );
            }
            return None;
        };
        match v.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                diags.push(
                    self.at(v.span(), format!("`{key}` must not be empty"))
                        .with_label("empty")
                        .with_note(required_note(key)),
                );
                None
            }
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                diags.push(
                    self.at(v.span(), format!("`{key}` must be a string"))
                        .with_label(format!("this is {}", a_type(other))),
                );
                None
            }
        }
    }

    /// `expires`: a TOML local date (`2026-12-31`) or a string of that form.
    fn date(
        &self,
        table: &DeTable<'_>,
        header: &Range<usize>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<NaiveDate> {
        let Some(v) = table.get("expires") else {
            diags.push(
                self.at(header.clone(), "waiver is missing `expires`")
                    .with_label("this waiver needs `expires = 2026-12-31`")
                    .with_note("every waiver expires, so that accepted risks are reviewed"),
            );
            return None;
        };
        let parsed = match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), d.day.into())
                }
                _ => None,
            },
            DeValue::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
            other => {
                diags.push(
                    self.at(v.span(), "`expires` must be a date")
                        .with_label(format!("this is {}", a_type(other)))
                        .with_note("write it as `expires = 2026-12-31`"),
                );
                return None;
            }
        };
        if parsed.is_none() {
            diags.push(
                self.at(v.span(), "`expires` is not a valid date")
                    .with_label("expected YYYY-MM-DD")
                    .with_note("write it as `expires = 2026-12-31` (a date, no time)"),
            );
        }
        parsed
    }
}

/// "a string", "an integer", … for labels.
fn a_type(v: &DeValue<'_>) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

fn required_note(key: &str) -> &'static str {
    match key {
        "reason" => "say why the risk is accepted; it is shown next to every waived finding",
        "rule" => "the id of the rule to waive, e.g. `aws-lambda-url-cloudflare-only`",
        "resource" => "an exact resource id (ARN / Cloudflare id) or `*` for all resources",
        _ => "an owner names who accepted the risk; leave the key out when there is none",
    }
}

/// A known key one or two edits away from a misspelt one.
fn closest(key: &str) -> Option<&'static str> {
    crate::text::closest(key, KEYS, 2)
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
            f.waiver = Some(AppliedWaiver {
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires,
                source: w.source.clone(),
            });
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
