//! SARIF 2.1.0 for GitHub code scanning (docs/design.md §8).
//!
//! It owns the mapping of findings onto SARIF and the GitHub ingestion rules that the schema does
//! not express: every result has a scheme-less virtual `physicalLocation` per resource
//! (`estate/aws/<account>/<region>/<service>/<type>/<id>`, `estate/cloudflare/<zone>/<type>/<id>`)
//! next to a logical location carrying the ARN; one run per provider/account with its own stable
//! `automationDetails.id` category; at most 25,000 results per run (larger runs are split into
//! parts, never truncated); fingerprints from rule id + resource id only. [`check_github`] states
//! those rules as code so tests (and callers) can verify a document.
//!
//! It must not decide statuses or read anything but the report. Passes never appear; waived
//! findings only when asked, as accepted external suppressions.
//!
//! Built with `serde_json` rather than `serde-sarif`'s typed builders: GitHub's `tags`,
//! `precision` and `security-severity` live in free-form property bags either way, the builders
//! add a required-field dance per nested object, and a `serde_json::Value` is what tests inspect
//! and what is written out. The typed model still checks the shape: the tests deserialise the
//! output into `serde_sarif::sarif::Sarif`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::finding::{fingerprint, Finding, Report, RuleInfo, Severity, Status};
use crate::model::MonitoringStatus;
use crate::text::inert;

/// The OASIS errata schema this output targets (draft-04).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// GitHub rejects runs with more results than this.
pub const MAX_RESULTS_PER_RUN: usize = 25_000;

/// GitHub rejects files with more runs than this. `build` does not split files: an estate of
/// more than 20 accounts needs one upload per group of accounts (see `check_github`).
pub const MAX_RUNS_PER_FILE: usize = 20;

/// GitHub keeps at most this many tags per rule.
const MAX_TAGS: usize = 20;

/// `automationDetails.id` prefix; GitHub reads the category up to the last `/`.
const CATEGORY_PREFIX: &str = "estate-audit";

/// Segments of a virtual path longer than this are cut (GitHub shows them in alert lists).
const MAX_SEGMENT: usize = 128;

/// The SARIF document as text (pretty JSON, trailing newline).
pub fn render(report: &Report, include_waived: bool) -> String {
    match serde_json::to_string_pretty(&build(report, include_waived)) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // A Value always serialises; never panic regardless.
        Err(e) => format!("{}\n", json!({"error": e.to_string()})),
    }
}

/// [`render`] written straight to `w` as it is serialised (no copy of the whole document).
pub fn write(
    report: &Report,
    include_waived: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let doc = build(report, include_waived);
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    // A Value always serialises: an error here is the writer's.
    serde_json::to_writer_pretty(&mut w, &doc).map_err(std::io::Error::other)?;
    std::io::Write::write_all(&mut w, b"\n")?;
    std::io::Write::flush(&mut w)
}

/// `error` for critical/high, `warning` for medium, `note` for low/info.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// An unknown finding is a gap in the evidence, not a proven failure: at most a `warning`.
fn unknown_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High | Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Which run a finding belongs to: the monitoring plane's rules first, then provider, then
/// account for AWS.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum RunKey {
    Aws(String),
    Cloudflare,
    /// Rules that judge the monitoring plane's answers (PagerDuty, Prometheus, Grafana, …), even
    /// when the resource they name is an AWS one (an alarm, the RabbitMQ host): the plane is
    /// audited, uploaded and closed as one category.
    Monitoring,
    /// Neither an ARN nor a Cloudflare id nor a known kind prefix.
    Other,
}

impl RunKey {
    fn of(f: &Finding, report: &Report) -> RunKey {
        if report
            .rule(&f.rule_id)
            .is_some_and(|r| !r.monitoring.is_empty())
        {
            RunKey::Monitoring
        } else {
            RunKey::provider(f)
        }
    }

    /// The provider (and AWS account) the finding's resource belongs to, whatever judged it.
    fn provider(f: &Finding) -> RunKey {
        if f.resource_id.starts_with("cloudflare:") || f.kind.starts_with("cloudflare.") {
            RunKey::Cloudflare
        } else if f.resource_id.starts_with("arn:") || f.kind.starts_with("aws.") {
            RunKey::Aws(account(f))
        } else {
            RunKey::Other
        }
    }

    fn category(&self) -> String {
        match self {
            RunKey::Aws(acct) => format!("{CATEGORY_PREFIX}/aws/{}/", segment(acct)),
            RunKey::Cloudflare => format!("{CATEGORY_PREFIX}/cloudflare/"),
            RunKey::Monitoring => format!("{CATEGORY_PREFIX}/monitoring/"),
            RunKey::Other => format!("{CATEGORY_PREFIX}/other/"),
        }
    }
}

fn arn_field(id: &str, n: usize) -> Option<&str> {
    if !id.starts_with("arn:") {
        return None;
    }
    id.splitn(6, ':').nth(n).filter(|s| !s.is_empty())
}

fn account(f: &Finding) -> String {
    f.account
        .as_deref()
        .filter(|a| !a.is_empty())
        .or_else(|| arn_field(&f.resource_id, 4))
        .unwrap_or("unknown-account")
        .to_string()
}

/// One safe path segment: `[A-Za-z0-9._-]`, never `.`/`..`/empty, bounded length. No `:` can
/// survive, so the path can never look like a URI scheme (GitHub rejects `arn:` URIs).
fn segment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_SEGMENT)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = "_".repeat(out.len().max(1));
    }
    out
}

/// `(service, type)` of a kind: `aws.rds.db_instance` → (`rds`, `db_instance`),
/// `cloudflare.dns_record` → (``, `dns_record`), `estate` → (`estate`, `estate`).
fn kind_parts(kind: &str) -> (String, String) {
    let parts: Vec<&str> = kind.split('.').collect();
    match parts.as_slice() {
        ["aws", service, rest @ ..] if !rest.is_empty() => {
            (segment(service), segment(&rest.join("_")))
        }
        ["cloudflare", rest @ ..] if !rest.is_empty() => (String::new(), segment(&rest.join("_"))),
        _ => (segment(kind), segment(kind)),
    }
}

/// The virtual, scheme-less path of a finding's resource.
pub fn virtual_path(f: &Finding) -> String {
    let (service, ty) = kind_parts(&f.kind);
    if RunKey::provider(f) == RunKey::Cloudflare {
        // cloudflare:zone/<zone>[/dns_record/<id>]
        let rest = f
            .resource_id
            .strip_prefix("cloudflare:")
            .unwrap_or(&f.resource_id);
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let (zone, id) = match segs.as_slice() {
            ["zone", zone] => (*zone, *zone),
            ["zone", zone, .., id] => (*zone, *id),
            [only] => ("global", *only),
            _ => ("global", rest),
        };
        return format!("estate/cloudflare/{}/{}/{}", segment(zone), ty, id_path(id));
    }
    let provider = match RunKey::provider(f) {
        RunKey::Other => "other",
        _ => "aws",
    };
    let region = f
        .region
        .as_deref()
        .filter(|r| !r.is_empty())
        .or_else(|| arn_field(&f.resource_id, 3))
        .unwrap_or("global");
    // The ARN's resource part without its type prefix: `db:estate-db` → `estate-db`,
    // `service/estate/worker` → `estate/worker`; a bare name stays as it is.
    let id = match arn_field(&f.resource_id, 5) {
        Some(res) => {
            let segs: Vec<&str> = res.split([':', '/']).collect();
            if segs.len() > 1 {
                segs[1..].join("/")
            } else {
                res.to_string()
            }
        }
        None => f.resource_id.to_string(),
    };
    format!(
        "estate/{provider}/{}/{}/{service}/{ty}/{}",
        segment(&account(f)),
        segment(region),
        id_path(&id)
    )
}

/// An id as one or more safe segments (ids with `/` keep their structure).
fn id_path(id: &str) -> String {
    let segs: Vec<String> = id
        .split(['/', ':'])
        .filter(|s| !s.is_empty())
        .map(segment)
        .collect();
    if segs.is_empty() {
        "_".to_string()
    } else {
        segs.join("/")
    }
}

/// `aws-rds-not-public` → `AwsRdsNotPublic`.
pub fn camel_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Plain-text SARIF messages treat `[text](target)` as an embedded link (SARIF §3.11.6): escape
/// brackets (and the escape character) in untrusted text so a name like `](javascript:…)` stays
/// text; controls become visible escapes.
fn plain(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Plain rule text (spec sections, non-https references) shown literally in Markdown.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in inert(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' | ']' | '\\' | '*' | '_' | '`' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn non_empty(s: &str, fallback: impl FnOnce() -> String) -> String {
    if s.trim().is_empty() {
        fallback()
    } else {
        s.to_string()
    }
}

/// The reportingDescriptor of a rule; `info` may be missing when the report carries no rule
/// metadata (a merged or hand-made report), then the finding supplies what it can.
fn rule_descriptor(id: &str, info: Option<&RuleInfo>, sample: &Finding) -> Value {
    let severity = info.map_or(sample.severity, |r| r.severity);
    let gate = info.map_or(sample.gate, |r| r.gate);
    let title = non_empty(info.map_or("", |r| r.title.as_str()), || {
        format!("Rule {id}")
    });
    let spec = info.map_or(sample.spec.as_str(), |r| r.spec.as_str());
    let risk = non_empty(info.map_or("", |r| r.risk.as_str()), || {
        non_empty(spec, || title.clone())
    });
    let remediation = non_empty(info.map_or("", |r| r.remediation.as_str()), || {
        format!("See `estate-audit rules {id}`.")
    });
    let references: &[String] = info.map_or(&[], |r| r.references.as_slice());

    let mut text = remediation.clone();
    // Remediation is authored Markdown from the policy files (same trust as the binary): its
    // code spans carry the CLI commands, so it is passed through with controls made inert.
    let mut markdown = format!("**Remediation**\n\n{}", inert(&remediation));
    if !spec.trim().is_empty() {
        text.push_str(&format!("\n\nSpec: {spec}"));
        markdown.push_str(&format!("\n\n**Spec:** {}", md_escape(spec)));
    }
    if !references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References**\n");
        for r in references {
            text.push_str(&format!("\n- {r}"));
            // Only https links become links; anything else is shown as text.
            let is_link = r.starts_with("https://") && !r.contains(['<', '>', ' ', '"']);
            if is_link {
                markdown.push_str(&format!("\n- <{r}>"));
            } else {
                markdown.push_str(&format!("\n- {}", md_escape(r)));
            }
        }
    }

    let kinds: Vec<&str> = match info {
        Some(r) if !r.kinds.is_empty() => r.kinds.iter().map(String::as_str).collect(),
        _ => vec![sample.kind.as_str()],
    };
    let mut tags = BTreeSet::new();
    for k in &kinds {
        let provider = k.split('.').next().unwrap_or(k);
        if provider == "aws" || provider == "cloudflare" {
            tags.insert(provider.to_string());
        }
        let (service, ty) = kind_parts(k);
        tags.insert(if service.is_empty() { ty } else { service });
    }
    // "security" first: GitHub treats it as what makes the alert a security alert.
    let mut tag_list = vec!["security".to_string(), gate.as_str().to_string()];
    tag_list.extend(
        tags.into_iter()
            .filter(|t| t != "security" && t != gate.as_str()),
    );
    tag_list.truncate(MAX_TAGS);

    json!({
        "id": id,
        "name": camel_case(id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": risk},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": tag_list,
            // The checks are deterministic reads of configuration, not heuristics.
            "precision": "very-high",
            "security-severity": severity.security_severity(),
            "severity": severity.as_str(),
            "gate": gate.as_str(),
        }
    })
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let rule = plain(&f.rule_id);
    // The engine's sentence says what is wrong and what the spec wants. The alert opens with
    // the resource (prefixed when the sentence does not open with it: an estate-level finding,
    // a user's template) and closes with the rule and, for an unknown or waived finding, that
    // status.
    let mut said = plain(f.message.trim_end_matches('.'));
    if !f.message.starts_with(f.resource_name.as_str()) {
        said = format!("{}: {said}", plain(&f.resource_name));
    }
    let text = match f.status {
        Status::Unknown => format!("{said} ({rule} could not be evaluated)."),
        Status::Suppressed => format!("{said} ({rule}, waived)."),
        _ => format!("{said} ({rule})."),
    };
    let lvl = match f.status {
        Status::Unknown => unknown_level(f.severity),
        _ => level(f.severity),
    };
    let fp = if f.fingerprint.is_empty() {
        fingerprint(&f.rule_id, &f.resource_id)
    } else {
        f.fingerprint.clone()
    };
    let mut props = Map::new();
    props.insert("severity".into(), json!(f.severity.as_str()));
    props.insert("gate".into(), json!(f.gate.as_str()));
    props.insert("status".into(), json!(f.status.as_str()));
    props.insert("kind".into(), json!(f.kind));
    props.insert("resource".into(), json!(f.resource_id));
    if !f.spec.is_empty() {
        props.insert("spec".into(), json!(f.spec));
    }
    if !f.evidence.is_empty() {
        props.insert("evidence".into(), json!(f.evidence));
    }
    let mut r = json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": lvl,
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": virtual_path(f), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1, "startColumn": 1}
            },
            "logicalLocations": [{
                "name": inert(&f.resource_name),
                "fullyQualifiedName": f.resource_id,
                "kind": "resource"
            }]
        }],
        "partialFingerprints": {"primaryLocationLineHash": fp},
        "properties": props,
    });
    if let (Status::Suppressed, Some(w)) = (f.status, &f.waiver) {
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": inert(&w.reason),
            "properties": {
                "owner": w.owner,
                "expires": w.expires.to_string(),
                "source": w.source,
            }
        }]);
    } else if f.status == Status::Suppressed {
        r["suppressions"] = json!([{"kind": "external", "status": "accepted"}]);
    }
    r
}

/// The SARIF document for a report: one run per provider/account (split into parts of at most
/// [`MAX_RESULTS_PER_RUN`] results), results for `fail` and `unknown` findings, and `suppressed`
/// ones when `include_waived`. Pure and deterministic.
pub fn build(report: &Report, include_waived: bool) -> Value {
    let mut groups: BTreeMap<RunKey, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        let wanted = match f.status {
            Status::Fail | Status::Unknown => true,
            Status::Suppressed => include_waived,
            Status::Pass => false,
        };
        if wanted {
            groups.entry(RunKey::of(f, report)).or_default().push(f);
        }
    }
    // Scanned accounts with nothing to report still get an (empty) run: uploading an empty
    // category is how GitHub learns that earlier alerts of that account are fixed.
    for acct in &report.scope.accounts {
        groups.entry(RunKey::Aws(acct.clone())).or_default();
    }
    if !report.scope.cloudflare_zones.is_empty() {
        groups.entry(RunKey::Cloudflare).or_default();
    }
    if report
        .scope
        .monitoring
        .iter()
        .any(|m| m.status == MonitoringStatus::Audited)
    {
        groups.entry(RunKey::Monitoring).or_default();
    }

    let mut runs = Vec::new();
    for (key, mut findings) in groups {
        findings.sort_by(|a, b| Finding::canonical_order(a, b));
        // Parts follow the canonical order, so a result moves between parts only when the
        // number of results before it crosses a 25,000 boundary.
        let chunks: Vec<&[&Finding]> = if findings.is_empty() {
            vec![&[]]
        } else {
            findings.chunks(MAX_RESULTS_PER_RUN).collect()
        };
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut category = key.category();
            if i > 0 {
                // Trailing slash: the whole id is the category, so each part is its own.
                category.push_str(&format!("part-{}/", i + 1));
            }
            runs.push(run(report, chunk, &category));
        }
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": runs,
    })
}

fn run(report: &Report, findings: &[&Finding], category: &str) -> Value {
    // Rules of this run: every rule with a result here, sorted by id.
    let mut rule_ids: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        rule_ids.entry(f.rule_id.as_str()).or_insert(f);
    }
    let mut rules = Vec::new();
    let mut index = BTreeMap::new();
    let mut titles = BTreeMap::new();
    for (i, (id, sample)) in rule_ids.iter().enumerate() {
        let info = report.rule(id);
        let d = rule_descriptor(id, info, sample);
        titles.insert(
            *id,
            d["shortDescription"]["text"]
                .as_str()
                .unwrap_or(id)
                .to_string(),
        );
        rules.push(d);
        index.insert(*id, i);
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let id = f.rule_id.as_str();
            result(f, index.get(id).copied().unwrap_or(0))
        })
        .collect();

    let mut driver = json!({
        "name": report.tool.name,
        "semanticVersion": report.tool.version,
        "rules": rules,
    });
    let repo = env!("CARGO_PKG_REPOSITORY");
    if !repo.is_empty() {
        driver["informationUri"] = json!(repo);
    }
    let mut run = json!({
        "tool": {"driver": driver},
        "automationDetails": {"id": category},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    // What the audit did with each part of the monitoring plane: a part out of scope or not
    // audited yet has no results, and must not read as clean.
    if !report.scope.monitoring.is_empty() {
        let parts: Vec<Value> = report
            .scope
            .monitoring
            .iter()
            .map(|p| json!({"part": p.part.as_str(), "status": p.status.as_str()}))
            .collect();
        run["properties"] = json!({ "monitoringPlane": parts });
    }
    run
}

/// The GitHub code-scanning ingestion rules, as problems found in `doc` (empty: acceptable).
/// Checks what the JSON schema does not: locations GitHub can place, fingerprints, rule
/// metadata, string security severities, per-run limits and unique categories.
pub fn check_github(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);
    if doc.get("version").and_then(Value::as_str) != Some("2.1.0") {
        p("version is not \"2.1.0\"".into());
    }
    let Some(runs) = doc.get("runs").and_then(Value::as_array) else {
        p("no runs array".into());
        return problems;
    };
    if runs.len() > MAX_RUNS_PER_FILE {
        p(format!(
            "{} runs, GitHub accepts at most {MAX_RUNS_PER_FILE} per file",
            runs.len()
        ));
    }
    let mut categories = BTreeSet::new();
    for (ri, run) in runs.iter().enumerate() {
        let at = format!("runs[{ri}]");
        let tool = run
            .pointer("/tool/driver/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if tool.is_empty() {
            p(format!("{at}: tool.driver.name missing"));
        }
        match run.pointer("/automationDetails/id").and_then(Value::as_str) {
            Some(id) => {
                // GitHub's category is the id up to and including its last `/`.
                let category = match id.rfind('/') {
                    Some(i) => &id[..=i],
                    None => id,
                };
                if !categories.insert((tool.to_string(), category.to_string())) {
                    p(format!(
                        "{at}: automationDetails category {category:?} repeats an earlier run of {tool:?}"
                    ));
                }
            }
            None if runs.len() > 1 => p(format!(
                "{at}: several runs need distinct automationDetails.id"
            )),
            None => {}
        }
        let rules: &[Value] = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let ids = check_rules(&at, rules, &mut p);
        let results: &[Value] = run
            .get("results")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        if results.len() > MAX_RESULTS_PER_RUN {
            p(format!(
                "{at}: {} results, GitHub accepts at most {MAX_RESULTS_PER_RUN} per run",
                results.len()
            ));
        }
        check_results(&at, results, rules, &ids, &mut p);
    }
    problems
}

/// The rules of one run (`at`): ids present and unique, descriptions, tags, levels and security
/// severities GitHub accepts. Returns the ids.
fn check_rules<'r>(at: &str, rules: &'r [Value], p: &mut dyn FnMut(String)) -> BTreeSet<&'r str> {
    let mut ids = BTreeSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let id = rule.get("id").and_then(Value::as_str).unwrap_or("");
        let rat = format!("{at}.rules[{i}] ({id})");
        if id.is_empty() {
            p(format!("{rat}: no id"));
        }
        if !ids.insert(id) {
            p(format!("{rat}: duplicate rule id"));
        }
        for field in [
            "/shortDescription/text",
            "/fullDescription/text",
            "/help/text",
        ] {
            let ok = rule
                .pointer(field)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty());
            if !ok {
                p(format!("{rat}: {field} missing or empty"));
            }
        }
        let tags = rule
            .pointer("/properties/tags")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if tags > MAX_TAGS {
            p(format!(
                "{rat}: {tags} tags, GitHub keeps at most {MAX_TAGS}"
            ));
        }
        if let Some(l) = rule.pointer("/defaultConfiguration/level") {
            if !valid_level(l) {
                p(format!(
                    "{rat}: defaultConfiguration.level {l} is not a SARIF level"
                ));
            }
        }
        match rule.pointer("/properties/security-severity") {
            None => {}
            Some(Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(n) if (0.0..=10.0).contains(&n) => {}
                _ => p(format!(
                    "{rat}: security-severity {s:?} is not a number in 0–10"
                )),
            },
            Some(v) => p(format!("{rat}: security-severity {v} must be a string")),
        }
    }
    ids
}

/// The results of one run (`at`): levels, rule references, fingerprints and locations.
fn check_results(
    at: &str,
    results: &[Value],
    rules: &[Value],
    ids: &BTreeSet<&str>,
    p: &mut dyn FnMut(String),
) {
    for (i, r) in results.iter().enumerate() {
        let rat = format!("{at}.results[{i}]");
        if let Some(l) = r.get("level") {
            if !valid_level(l) {
                p(format!(
                    "{rat}: level {l} is not one of error, warning, note, none"
                ));
            }
        }
        let rule_id = r.get("ruleId").and_then(Value::as_str);
        match (r.get("ruleIndex").and_then(Value::as_u64), rule_id) {
            (Some(ix), Some(id)) => {
                let at_ix = usize::try_from(ix)
                    .ok()
                    .and_then(|ix| rules.get(ix))
                    .and_then(|rule| rule.get("id"))
                    .and_then(Value::as_str);
                if at_ix != Some(id) {
                    p(format!(
                        "{rat}: ruleIndex {ix} does not point at rule {id:?}"
                    ));
                }
            }
            (None, Some(id)) if !ids.contains(id) => {
                p(format!("{rat}: rule {id:?} is not described in the run"));
            }
            (_, None) => p(format!("{rat}: no ruleId")),
            _ => {}
        }
        let fp = r
            .pointer("/partialFingerprints/primaryLocationLineHash")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if !fp {
            p(format!(
                "{rat}: partialFingerprints.primaryLocationLineHash missing"
            ));
        }
        let locations: &[Value] = r
            .get("locations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        if locations.is_empty() {
            p(format!("{rat}: no locations (GitHub needs at least one)"));
        }
        check_locations(&rat, locations, p);
    }
}

/// The locations of one result (`rat`): each needs a physical location GitHub can place, a
/// checkout-relative path and a start line.
fn check_locations(rat: &str, locations: &[Value], p: &mut dyn FnMut(String)) {
    for (li, loc) in locations.iter().enumerate() {
        let lat = format!("{rat}.locations[{li}]");
        let Some(phys) = loc.get("physicalLocation") else {
            p(format!(
                "{lat}: no physicalLocation (GitHub needs an artifact location)"
            ));
            continue;
        };
        match phys
            .pointer("/artifactLocation/uri")
            .and_then(Value::as_str)
        {
            None | Some("") => p(format!("{lat}: no artifactLocation.uri")),
            Some(uri) => {
                if let Some(scheme) = uri_scheme(uri) {
                    p(format!(
                        "{lat}: uri {uri:?} has the scheme {scheme:?}; GitHub accepts only checkout-relative paths"
                    ));
                }
            }
        }
        match phys.pointer("/region/startLine").and_then(Value::as_u64) {
            Some(n) if n >= 1 => {}
            _ => p(format!("{lat}: region.startLine ≥ 1 missing")),
        }
    }
}

fn valid_level(v: &Value) -> bool {
    matches!(v.as_str(), Some("error" | "warning" | "note" | "none"))
}

/// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
fn uri_scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut cs = scheme.chars();
    let first = cs.next()?;
    (first.is_ascii_alphabetic()
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_of_rule_ids() {
        assert_eq!(camel_case("aws-rds-not-public"), "AwsRdsNotPublic");
        assert_eq!(camel_case("cloudflare-min-tls-1-2"), "CloudflareMinTls12");
        assert_eq!(camel_case(""), "");
    }

    #[test]
    fn segments_are_safe_and_never_dot_dot() {
        assert_eq!(segment("../../etc"), ".._.._etc");
        assert_eq!(segment(".."), "__");
        assert_eq!(segment(""), "_");
        assert_eq!(segment("a:b c/é"), "a_b_c__");
        assert_eq!(id_path("../x"), "__/x");
    }

    #[test]
    fn schemes_are_recognised() {
        assert_eq!(uri_scheme("arn:aws:s3:::b"), Some("arn"));
        assert_eq!(uri_scheme("https://x"), Some("https"));
        assert_eq!(uri_scheme("estate/aws/1/eu-west-1/rds/db_instance/x"), None);
        assert_eq!(uri_scheme("estate/a:b"), None);
    }
}
