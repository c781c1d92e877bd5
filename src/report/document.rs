//! The sign-off document that the Markdown and HTML reports both draw: the sections (the key/value
//! head, the summary, the changes since the baseline, collection errors, waiver issues, the
//! findings per spec section, the rules), described once as blocks (headings, paragraphs, tables,
//! folded details) of inline cells that say what a piece of text *is* (our own words, untrusted
//! text, an identifier, a status, a resource, a rule, a finding's details), never how it looks. A
//! new section is written here, and both media show it.
//!
//! It owns what the document says and in which order. It must not write a medium: escaping,
//! clipping (Markdown clips messages and evidence shorter than HTML, for GitHub's size limit) and
//! layout are each renderer's, and a renderer maps every block and inline the same way wherever it
//! occurs. It must not judge either: the verdict is [`Verdict`]'s. What belongs to one medium's
//! frame stays in its renderer: the title line and the verdict's reason as each medium sets them,
//! the HTML page's `<head>` and closing note, and the Markdown truncation to GitHub's step-summary
//! limit (which builds the document twice, with passes listed and counted). The few places where the
//! two media show different *content* are stated here, deliberately, as choices of [`Shape`]: the
//! Markdown pass table has no status column and shows evidence only, Markdown can count passes
//! instead of listing them (for the truncation), Markdown explains waiver issues in a sentence,
//! only HTML has the rules table that its rule links point at, and Markdown sets a collection
//! error's provider, service and region as code where HTML shows them as text.
//!
//! Blocks are handed to the renderer one at a time and a table's rows are produced as it draws
//! them, so the HTML page still streams to its file without the document ever being built whole
//! (docs/performance.md).

use std::borrow::Cow;

use super::{by_section, status_word, RenderOptions, Verdict};
use crate::finding::{Counts, Diff, DiffEntry, Finding, Gate, Report, Status};
use crate::map::EstateMap;

/// The medium a document is built for: it decides the few deliberate differences of content
/// (see the module paragraph).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Medium {
    Markdown,
    Html,
}

/// Whether passing findings are listed (the evidence a sign-off rests on) or only counted (when
/// the listed document would not fit GitHub's step-summary limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Passes {
    Listed,
    Counted,
}

/// The choices a document is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub medium: Medium,
    pub passes: Passes,
}

/// A piece of the document that stands on its own.
pub(crate) enum Block<'a> {
    /// A section heading: level 2 for sections, 3 for the spec sections of the findings.
    Heading(u8, Inline<'a>),
    Paragraph(Inline<'a>),
    /// What stands in for a list with nothing in it: a paragraph, after which Markdown leaves no
    /// blank line.
    Empty(&'static str),
    /// A table of names (our own words) and values, without a header.
    Pairs(Vec<(&'static str, Inline<'a>)>),
    Table(Table<'a>),
    /// Folded content under a one-line summary (`<details>`).
    Details {
        summary: Inline<'a>,
        blocks: Vec<Block<'a>>,
    },
    /// The map of the estate: inline SVG in HTML, a Mermaid diagram in Markdown.
    Map(&'a EstateMap),
}

/// A table with a header row. The rows are produced as the renderer draws them.
pub(crate) struct Table<'a> {
    pub columns: Vec<Column>,
    pub rows: Box<dyn Iterator<Item = Row<'a>> + 'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub title: &'static str,
    pub align: Align,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    /// Numbers.
    Right,
}

pub(crate) struct Row<'a> {
    /// The rule this row describes: the target of the [`Inline::Rule`] links to it (HTML).
    pub target: Option<&'a str>,
    /// One cell per column.
    pub cells: Vec<Inline<'a>>,
}

/// Text inside a block, by what it is; each renderer escapes and styles it for its medium.
pub(crate) enum Inline<'a> {
    /// Our own words (labels, counts, dates): trusted, but still escaped where the medium needs it.
    Plain(Cow<'a, str>),
    /// Untrusted text from the estate, a rule file or a waiver.
    Text(&'a str),
    /// Untrusted free text that may be long (a message, a reason): Markdown clips it.
    Message(&'a str),
    /// An untrusted identifier, set as code.
    Code(&'a str),
    /// A status word; a table cell holding one is coloured by HTML. `strong` stands out in
    /// Markdown too (a failure in the findings table).
    Status { word: &'static str, strong: bool },
    /// A number in a table.
    Count(usize),
    /// `3 fail`: a number of findings of one status (HTML colours it).
    StatusCount(usize, &'static str),
    /// A resource: its name and, when the name is not just the id, its id under it.
    Resource { name: &'a str, id: &'a str },
    /// A rule id; HTML links it to the rule's row in the rules table.
    Rule(&'a str),
    /// A rule's reference: a link in HTML when it is a well-formed `https://` address.
    Link(&'a str),
    /// A line break inside a cell.
    Break,
    /// What a finding says beyond its columns: its message (when `message`), evidence and waiver.
    Details { finding: &'a Finding, message: bool },
    /// A finding's evidence only (`—` when it has none).
    Evidence(&'a Finding),
    /// Several inlines, one after the other.
    Seq(Vec<Inline<'a>>),
}

fn plain<'a>(s: impl Into<Cow<'a, str>>) -> Inline<'a> {
    Inline::Plain(s.into())
}

fn resource<'a>(name: &'a str, id: &'a str) -> Inline<'a> {
    Inline::Resource { name, id }
}

fn left(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Left,
    }
}

fn table<'a>(
    columns: impl IntoIterator<Item = Column>,
    rows: impl Iterator<Item = Vec<Inline<'a>>> + 'a,
) -> Block<'a> {
    Block::Table(Table {
        columns: columns.into_iter().collect(),
        rows: Box::new(rows.map(|cells| Row {
            target: None,
            cells,
        })),
    })
}

/// `items` with `sep` between them.
fn joined<'a>(items: impl IntoIterator<Item = Inline<'a>>, sep: fn() -> Inline<'a>) -> Inline<'a> {
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(sep());
        }
        out.push(item);
    }
    Inline::Seq(out)
}

fn comma<'a>() -> Inline<'a> {
    plain(", ")
}

/// The statuses in the order every summary lists them (most urgent first), each with its count
/// in `c`: the documents' summary and the terminal's summary line both count this way.
pub(crate) fn by_status(c: &Counts) -> [(Status, usize); 4] {
    [
        (Status::Fail, c.fail),
        (Status::Unknown, c.unknown),
        (Status::Suppressed, c.suppressed),
        (Status::Pass, c.pass),
    ]
}

/// `1 new · 2 resolved · 3 still open`: the documents' and the terminal's count of the changes.
pub(crate) fn diff_counts(d: &Diff) -> String {
    format!(
        "{} new · {} resolved · {} still open",
        d.new.len(),
        d.resolved.len(),
        d.still_open.len()
    )
}

/// The sign-off of one report: the verdict the renderers frame it with, and its blocks.
pub(crate) struct SignOff<'a> {
    pub report: &'a Report,
    pub verdict: Verdict,
    pub shape: Shape,
    /// The map of the estate, when the caller drew one (`RenderOptions::map`).
    pub map: Option<&'a EstateMap>,
}

impl<'a> SignOff<'a> {
    pub(crate) fn new(report: &'a Report, opts: &'a RenderOptions, shape: Shape) -> SignOff<'a> {
        SignOff {
            report,
            verdict: Verdict::of(report, opts),
            shape,
            map: opts.map.as_ref(),
        }
    }

    fn markdown(&self) -> bool {
        self.shape.medium == Medium::Markdown
    }

    /// The blocks after the verdict, in order, each handed to `draw` as soon as it is built.
    pub(crate) fn blocks(&self, draw: &mut dyn FnMut(Block<'a>)) {
        let report = self.report;
        draw(self.head());
        self.summary(draw);
        if let Some(map) = self.map {
            draw(Block::Heading(2, plain("Map")));
            draw(Block::Paragraph(plain(
                "The estate as collected: each resource marked by the worst status of its findings \
                 (failing red, unknown amber), and the internet paths found.",
            )));
            draw(Block::Map(map));
        }
        if let Some(d) = &report.diff {
            changes(d, draw);
        }
        if !report.collection_errors.is_empty() {
            self.collection_errors(draw);
        }
        if !report.waiver_issues.is_empty() {
            self.waiver_issues(draw);
        }
        self.findings(draw);
        // The rules table is what HTML's rule links point at; Markdown names rules by id only.
        if self.shape.medium == Medium::Html && !report.rules.is_empty() {
            self.rules(draw);
        }
    }

    /// What was judged, where and when.
    fn head(&self) -> Block<'a> {
        let (report, v) = (self.report, &self.verdict);
        let list = |xs: &'a [String]| {
            if xs.is_empty() {
                plain("none")
            } else {
                joined(xs.iter().map(|x| Inline::Code(x)), comma)
            }
        };
        Block::Pairs(vec![
            ("gate", plain(v.gate_text())),
            ("fails on", plain(format!("{} and above", v.fail_on))),
            (
                "generated",
                Inline::Seq(vec![
                    plain(format!(
                        "{} by ",
                        report.generated_at.format("%Y-%m-%dT%H:%M:%SZ")
                    )),
                    Inline::Text(&report.tool.name),
                    plain(" "),
                    Inline::Text(&report.tool.version),
                ]),
            ),
            ("AWS accounts", list(&report.scope.accounts)),
            ("regions", list(&report.scope.regions)),
            ("Cloudflare zones", list(&report.scope.cloudflare_zones)),
            (
                "monitoring plane",
                plain(
                    super::table::monitoring_line(&report.scope.monitoring)
                        .map(|l| l.trim_start_matches("monitoring plane: ").to_string())
                        .unwrap_or_else(|| "not audited (no [monitoring] in estate.toml)".into()),
                ),
            ),
            (
                "evaluated",
                plain(format!(
                    "{} rules over {} resources: {} findings",
                    report.summary.rules_evaluated, report.summary.resources, report.summary.total
                )),
            ),
        ])
    }

    /// Findings per status in each gate and in all.
    fn summary(&self, draw: &mut dyn FnMut(Block<'a>)) {
        let (mut launch, mut operate) = (Counts::default(), Counts::default());
        for f in &self.report.findings {
            match f.gate {
                Gate::Launch => launch.add(f.status),
                Gate::Operate => operate.add(f.status),
            }
        }
        let number = |title| Column {
            title,
            align: Align::Right,
        };
        draw(Block::Heading(2, plain("Summary")));
        draw(table(
            [
                left("status"),
                number("launch"),
                number("operate"),
                number("total"),
            ],
            by_status(&launch)
                .into_iter()
                .zip(by_status(&operate))
                .map(|((s, l), (_, o))| {
                    vec![
                        Inline::Status {
                            word: status_word(s),
                            strong: false,
                        },
                        Inline::Count(l),
                        Inline::Count(o),
                        Inline::Count(l + o),
                    ]
                }),
        ));
    }

    fn collection_errors(&self, draw: &mut dyn FnMut(Block<'a>)) {
        let errors = &self.report.collection_errors;
        // Markdown sets these names as code, HTML as text.
        let markdown = self.markdown();
        let name = move |s: &'a str| {
            if markdown {
                Inline::Code(s)
            } else {
                Inline::Text(s)
            }
        };
        draw(Block::Heading(
            2,
            plain(format!("Collection errors ({})", errors.len())),
        ));
        draw(Block::Paragraph(Inline::Seq(vec![
            plain("Rules over these kinds are "),
            name("unknown"),
            plain(": the audit is incomplete."),
        ])));
        draw(table(
            ["provider", "service", "region", "error", "kinds", "message"].map(left),
            errors.iter().map(move |e| {
                vec![
                    name(&e.provider),
                    name(&e.service),
                    e.region.as_deref().map_or(plain("—"), name),
                    plain(format!("{:?}", e.kind)),
                    joined(e.kinds.iter().map(|k| Inline::Code(k)), comma),
                    Inline::Message(&e.message),
                ]
            }),
        ));
    }

    fn waiver_issues(&self, draw: &mut dyn FnMut(Block<'a>)) {
        let issues = &self.report.waiver_issues;
        draw(Block::Heading(
            2,
            plain(format!("Waiver issues ({})", issues.len())),
        ));
        // Markdown says what the two problems mean; the HTML page shows the table alone.
        if self.markdown() {
            draw(Block::Paragraph(plain(
                "An expired waiver suppresses nothing (and fails the launch gate); an unused one matches no finding.",
            )));
        }
        draw(table(
            ["problem", "rule", "resource", "expires", "reason", "source"].map(left),
            issues.iter().map(|w| {
                vec![
                    Inline::Text(&w.problem),
                    Inline::Code(&w.rule),
                    Inline::Code(&w.resource),
                    plain(w.expires.to_string()),
                    Inline::Message(&w.reason),
                    Inline::Code(&w.source),
                ]
            }),
        ));
    }

    /// Every finding by spec section: the open ones in a table, the passes folded (or counted).
    fn findings(&self, draw: &mut dyn FnMut(Block<'a>)) {
        draw(Block::Heading(2, plain("Findings by spec section")));
        let sections = by_section(self.report);
        if sections.is_empty() {
            draw(Block::Empty("No findings."));
        }
        for (section, findings) in sections {
            draw(Block::Heading(3, Inline::Text(section)));
            let mut counts = Counts::default();
            for f in &findings {
                counts.add(f.status);
            }
            draw(Block::Paragraph(joined(
                by_status(&counts)
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(s, n)| Inline::StatusCount(n, status_word(s))),
                || plain(" · "),
            )));
            let (passes, open): (Vec<&'a Finding>, Vec<&'a Finding>) =
                findings.into_iter().partition(|f| f.status == Status::Pass);
            if !open.is_empty() {
                draw(findings_table(open, true));
            }
            if !passes.is_empty() {
                draw(self.passes(passes));
            }
        }
    }

    fn passes(&self, passes: Vec<&'a Finding>) -> Block<'a> {
        let n = passes.len();
        if self.shape.passes == Passes::Counted {
            return Block::Paragraph(plain(format!(
                "{n} passing (not listed: see the note at the end)."
            )));
        }
        // Every pass is a pass: Markdown leaves the status column out and shows the evidence
        // only, to keep the step summary short; HTML draws the findings table again.
        let table = if self.markdown() {
            table(
                ["severity", "gate", "rule", "resource", "evidence"].map(left),
                passes.into_iter().map(|f| {
                    let mut row = finding_columns(f, false);
                    row.push(Inline::Evidence(f));
                    row
                }),
            )
        } else {
            findings_table(passes, false)
        };
        Block::Details {
            summary: plain(format!("{n} passing")),
            blocks: vec![table],
        }
    }

    /// The rules with their remediation: what the findings' rule links point at.
    fn rules(&self, draw: &mut dyn FnMut(Block<'a>)) {
        draw(Block::Heading(2, plain("Rules")));
        let rows = self.report.rules.iter().map(|r| Row {
            target: Some(&r.id),
            cells: vec![
                Inline::Code(&r.id),
                plain(r.severity.as_str()),
                plain(r.gate.as_str()),
                Inline::Text(&r.title),
                Inline::Text(&r.remediation),
                joined(r.references.iter().map(|u| Inline::Link(u)), || {
                    Inline::Break
                }),
            ],
        });
        draw(Block::Details {
            summary: plain("How to fix each rule"),
            blocks: vec![Block::Table(Table {
                columns: [
                    "rule",
                    "severity",
                    "gate",
                    "expected state",
                    "remediation",
                    "references",
                ]
                .map(left)
                .to_vec(),
                rows: Box::new(rows),
            })],
        });
    }
}

/// Findings with their status, severity, gate, rule, resource and details (the message too when
/// `message`).
fn findings_table(findings: Vec<&Finding>, message: bool) -> Block<'_> {
    table(
        ["status", "severity", "gate", "rule", "resource", "details"].map(left),
        findings.into_iter().map(move |f| {
            let mut row = finding_columns(f, true);
            row.push(Inline::Details {
                finding: f,
                message,
            });
            row
        }),
    )
}

/// A finding's columns before its details: status (when `status`), severity, gate, rule,
/// resource.
fn finding_columns(f: &Finding, status: bool) -> Vec<Inline<'_>> {
    let mut row = Vec::with_capacity(6);
    if status {
        row.push(Inline::Status {
            word: status_word(f.status),
            strong: f.status == Status::Fail,
        });
    }
    row.extend([
        plain(f.severity.as_str()),
        plain(f.gate.as_str()),
        Inline::Rule(&f.rule_id),
        resource(&f.resource_name, &f.resource_id),
    ]);
    row
}

/// The changes since the baseline: counts, then what is new and what was resolved.
fn changes<'a>(d: &'a Diff, draw: &mut dyn FnMut(Block<'a>)) {
    if d.no_baseline {
        draw(Block::Heading(2, plain("Changes")));
        draw(Block::Paragraph(plain(
            "First run: no earlier report to compare with; every open finding counts as new.",
        )));
    } else {
        let since = d
            .baseline_generated_at
            .map(|t| format!(" ({})", t.format("%Y-%m-%dT%H:%M:%SZ")))
            .unwrap_or_default();
        draw(Block::Heading(
            2,
            plain(format!("Changes since the previous run{since}")),
        ));
    }
    draw(Block::Paragraph(plain(diff_counts(d))));
    if d.new.is_empty() && d.resolved.is_empty() {
        return;
    }
    let rows = d
        .new
        .iter()
        .map(|e| ("new", e))
        .chain(d.resolved.iter().map(|e| ("resolved", e)));
    draw(table(
        [
            "change", "now", "before", "severity", "gate", "rule", "resource",
        ]
        .map(left),
        rows.map(|(change, e): (&'static str, &'a DiffEntry)| {
            vec![
                plain(change),
                Inline::Status {
                    word: e.status.map_or("gone", status_word),
                    strong: false,
                },
                plain(e.previous_status.map_or("—", status_word)),
                plain(e.severity.as_str()),
                plain(e.gate.as_str()),
                Inline::Code(&e.rule_id),
                resource(&e.resource_name, &e.resource_id),
            ]
        }),
    ));
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::finding::{Evidence, RuleInfo, Severity, Summary, Tool};

    fn report() -> Report {
        let rule = RuleInfo {
            id: "r".into(),
            title: "t".into(),
            severity: Severity::High,
            gate: Gate::Launch,
            kinds: vec!["k".into()],
            spec: "Section: detail".into(),
            risk: String::new(),
            remediation: String::new(),
            references: Vec::new(),
            monitoring: Vec::new(),
        };
        let finding = |id: &str, status| Finding {
            rule_id: "r".into(),
            resource_id: id.into(),
            resource_name: id.into(),
            kind: "k".into(),
            region: None,
            account: None,
            status,
            severity: Severity::High,
            gate: Gate::Launch,
            spec: "".into(),
            message: "m".into(),
            evidence: Evidence::new(),
            waiver: None,
            fingerprint: id.into(),
        };
        Report {
            schema_version: 1,
            tool: Tool::default(),
            generated_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            scope: Default::default(),
            summary: Summary::default(),
            findings: vec![finding("a", Status::Fail), finding("b", Status::Pass)],
            collection_errors: Vec::new(),
            waiver_issues: Vec::new(),
            diff: None,
            rule_pack: None,
            rules: vec![rule],
        }
    }

    /// The document's blocks in outline: kind, then a table's columns and row count.
    fn outline(report: &Report, medium: Medium, passes: Passes) -> Vec<String> {
        fn line(b: Block<'_>, out: &mut Vec<String>) {
            match b {
                Block::Heading(level, _) => out.push(format!("h{level}")),
                Block::Paragraph(_) => out.push("p".into()),
                Block::Empty(s) => out.push(s.into()),
                Block::Pairs(pairs) => out.push(format!("pairs {}", pairs.len())),
                Block::Table(t) => {
                    let columns: Vec<_> = t.columns.iter().map(|c| c.title).collect();
                    out.push(format!("{} × {}", columns.join(","), t.rows.count()));
                }
                Block::Map(_) => out.push("map".into()),
                Block::Details { blocks, .. } => {
                    out.push("details".into());
                    for b in blocks {
                        line(b, out);
                    }
                    out.push("/details".into());
                }
            }
        }
        let opts = RenderOptions::default();
        let doc = SignOff::new(report, &opts, Shape { medium, passes });
        let mut out = Vec::new();
        doc.blocks(&mut |b| line(b, &mut out));
        out
    }

    #[test]
    fn one_document_with_the_media_differences_stated() {
        let r = report();
        let common = [
            "pairs 8",
            "h2",
            "status,launch,operate,total × 4",
            "h2",
            "h3",
            "p",
            "status,severity,gate,rule,resource,details × 1",
            "details",
        ];
        let md = outline(&r, Medium::Markdown, Passes::Listed);
        assert_eq!(md[..8], common);
        assert_eq!(
            md[8..],
            ["severity,gate,rule,resource,evidence × 1", "/details"]
        );
        let html = outline(&r, Medium::Html, Passes::Listed);
        assert_eq!(html[..8], common);
        assert_eq!(
            html[8..],
            [
                "status,severity,gate,rule,resource,details × 1",
                "/details",
                "h2",
                "details",
                "rule,severity,gate,expected state,remediation,references × 1",
                "/details",
            ]
        );
        let lean = outline(&r, Medium::Markdown, Passes::Counted);
        assert_eq!(lean[7..], ["p"]);

        let mut empty = r;
        empty.findings.clear();
        let md = outline(&empty, Medium::Markdown, Passes::Listed);
        assert_eq!(md[3..], ["h2", "No findings."]);
    }

    #[test]
    fn statuses_are_counted_most_urgent_first() {
        let c = Counts {
            pass: 1,
            fail: 2,
            unknown: 3,
            suppressed: 4,
        };
        assert_eq!(
            by_status(&c),
            [
                (Status::Fail, 2),
                (Status::Unknown, 3),
                (Status::Suppressed, 4),
                (Status::Pass, 1)
            ]
        );
    }
}
