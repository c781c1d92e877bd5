//! A report built in code for the output tests: two AWS accounts and Cloudflare, every status,
//! a waived finding, a collection error, waiver issues, and resource names chosen to break
//! renderers (terminal escapes, HTML, quotes, newlines, Markdown link injection).

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use estate_audit::finding::{
    fingerprint, AppliedWaiver, Finding, Gate, Report, RuleInfo, Severity, Status, Text, Tool,
    WaiverIssue, REPORT_SCHEMA_VERSION,
};
use estate_audit::model::{CollectionError, ErrorKind, Scope};

pub const ACCT_A: &str = "111122223333";
pub const ACCT_B: &str = "444455556666";
pub const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const HOSTILE: &str =
    "evil\u{1b}]0;pwned\u{7}\u{1b}[2J<script>alert(\"x\")</script>\n'quoted'](javascript:alert(1))";

pub fn rule(id: &str, severity: Severity, gate: Gate, kind: &str, title: &str) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: title.into(),
        severity,
        gate,
        kinds: vec![kind.into()],
        spec: "Networking › Private subnets".into(),
        risk: format!("If not: {title} is violated and the estate is exposed."),
        remediation: "Run `aws rds modify-db-instance --no-publicly-accessible`.".into(),
        references: vec![
            "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.html".into(),
        ],
        monitoring: Vec::new(),
    }
}

pub fn finding(
    rule: &RuleInfo,
    resource_id: &str,
    name: &str,
    status: Status,
    message: &str,
) -> Finding {
    let (account, region) = if resource_id.starts_with("arn:") {
        let parts: Vec<&str> = resource_id.splitn(6, ':').collect();
        (Some(parts[4].into()), Some(parts[3].into()))
    } else {
        (None, None)
    };
    Finding {
        rule_id: rule.id.as_str().into(),
        resource_id: resource_id.into(),
        resource_name: name.into(),
        kind: rule.kinds[0].as_str().into(),
        region: region.filter(|r: &Text| !r.is_empty()),
        account,
        status,
        severity: rule.severity,
        gate: rule.gate,
        spec: rule.spec.as_str().into(),
        message: message.into(),
        evidence: BTreeMap::from([("publicly_accessible".into(), serde_json::json!(true))]).into(),
        waiver: None,
        fingerprint: fingerprint(&rule.id, resource_id),
    }
}

pub fn rules() -> Vec<RuleInfo> {
    vec![
        rule(
            "aws-rds-not-public",
            Severity::Critical,
            Gate::Launch,
            "aws.rds.db_instance",
            "RDS instances are not publicly accessible",
        ),
        rule(
            "aws-ec2-ebs-encrypted",
            Severity::High,
            Gate::Launch,
            "aws.ec2.volume",
            "Every estate volume is encrypted",
        ),
        rule(
            "aws-lambda-url-cloudflare-only",
            Severity::High,
            Gate::Launch,
            "aws.lambda.function",
            "The webhook origin accepts only Cloudflare",
        ),
        rule(
            "aws-alarms-route-pagerduty",
            Severity::High,
            Gate::Operate,
            "aws.cloudwatch.alarm",
            "Alarms reach PagerDuty",
        ),
        rule(
            "cloudflare-min-tls-1-2",
            Severity::Medium,
            Gate::Launch,
            "cloudflare.zone",
            "Minimum TLS is 1.2 or higher",
        ),
        rule(
            "cloudflare-dns-proxied",
            Severity::Critical,
            Gate::Launch,
            "cloudflare.dns_record",
            "The webhook hostname's record is proxied",
        ),
        rule(
            "aws-rds-engine-mysql",
            Severity::Low,
            Gate::Launch,
            "aws.rds.db_instance",
            "The engine is MySQL or MariaDB",
        ),
    ]
}

pub fn sample_report() -> Report {
    let rs = rules();
    let r = |id: &str| rs.iter().find(|r| r.id == id).unwrap().clone();
    let db_a = format!("arn:aws:rds:eu-west-1:{ACCT_A}:db:estate-db");
    let db_b = format!("arn:aws:rds:eu-west-1:{ACCT_B}:db:{}", "x\"<b>");
    let vol = format!("arn:aws:ec2:eu-west-1:{ACCT_A}:volume/vol-0abc");
    let func = format!("arn:aws:lambda:eu-west-1:{ACCT_A}:function:webhook");
    let alarm = format!("arn:aws:cloudwatch:eu-west-1:{ACCT_B}:alarm:../../etc/passwd");
    let zone = format!("cloudflare:zone/{ZONE}");
    let record = format!("cloudflare:zone/{ZONE}/dns_record/372e67954025e0ba6aaa6d586b9e0b59");

    let mut waived = finding(
        &r("aws-lambda-url-cloudflare-only"),
        &func,
        "webhook",
        Status::Suppressed,
        "function URL auth is NONE and no aws:SourceIp condition limits it to Cloudflare",
    );
    waived.waiver = Some(Box::new(AppliedWaiver {
        reason: "IP whitelisting not implemented due to application requirements".into(),
        owner: Some("platform-team".into()),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        source: "waivers.toml:3".into(),
    }));

    let findings = vec![
        finding(
            &r("aws-rds-not-public"),
            &db_a,
            "estate-db",
            Status::Fail,
            "RDS instance is publicly accessible (PubliclyAccessible = true)",
        ),
        finding(
            &r("aws-rds-not-public"),
            &db_b,
            HOSTILE,
            Status::Fail,
            "RDS instance is publicly accessible\u{1b}[31m [click](javascript:alert(1))",
        ),
        finding(
            &r("aws-ec2-ebs-encrypted"),
            &vol,
            "data-volume",
            Status::Fail,
            "volume is not encrypted",
        ),
        finding(
            &r("aws-alarms-route-pagerduty"),
            &alarm,
            "../../etc/passwd",
            Status::Unknown,
            "SNS subscriptions could not be read (AccessDenied)",
        ),
        finding(
            &r("cloudflare-min-tls-1-2"),
            &zone,
            "example.com",
            Status::Fail,
            "minimum TLS version is 1.0",
        ),
        finding(
            &r("cloudflare-dns-proxied"),
            &record,
            "webhook.example.com",
            Status::Pass,
            "record is proxied",
        ),
        finding(
            &r("aws-rds-engine-mysql"),
            &db_a,
            "estate-db",
            Status::Pass,
            "engine is mysql",
        ),
        waived,
    ];

    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: Utc.with_ymd_and_hms(2026, 5, 1, 6, 0, 0).unwrap(),
        scope: Scope {
            accounts: vec![ACCT_A.into(), ACCT_B.into()],
            regions: vec!["eu-west-1".into()],
            cloudflare_zones: vec!["example.com".into()],
            ..Default::default()
        },
        summary: Default::default(),
        findings,
        collection_errors: vec![CollectionError {
            provider: "aws".into(),
            service: "sns".into(),
            kinds: vec!["aws.sns.subscription".into()],
            kind: ErrorKind::AccessDenied,
            message: "User is not authorized to perform sns:ListSubscriptions\u{1b}[0m".into(),
            region: Some("eu-west-1".into()),
            account: None,
        }],
        waiver_issues: vec![WaiverIssue {
            problem: "expired".into(),
            rule: "aws-rds-tls-required".into(),
            resource: db_a.clone(),
            expires: NaiveDate::from_ymd_opt(2026, 4, 30).unwrap(),
            reason: "client library upgrade pending".into(),
            source: "waivers.toml:10".into(),
        }],
        diff: None,
        rule_pack: None,
        rules: rs,
    };
    report.finish(12);
    report
}

/// `n` failing findings of one rule in one account, for the 25,000-results split.
pub fn many_failures(n: usize) -> Report {
    let mut report = sample_report();
    let rule = report.rules[0].clone();
    report.findings = (0..n)
        .map(|i| {
            finding(
                &rule,
                &format!("arn:aws:rds:eu-west-1:{ACCT_A}:db:db-{i:06}"),
                &format!("db-{i:06}"),
                Status::Fail,
                "publicly accessible",
            )
        })
        .collect();
    report.finish(n);
    report
}
