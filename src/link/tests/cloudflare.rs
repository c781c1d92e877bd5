//! Cloudflare: rule coverage of the webhook.

use super::*;

fn zone_with(phase: &str, p: Option<Phase>) -> CloudflareZone {
    let mut inv = estate();
    inv.estate.cloudflare.webhook_path = Some("/hooks/github".into());
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| match p {
        Some(p) => {
            z.phases.insert(phase.into(), p);
        }
        None => {
            z.phases.remove(phase);
        }
    });
    get!(linked(inv), "cloudflare:zone/z1", CloudflareZone)
}

fn deployed(rules: Vec<RulesetRule>) -> Option<Phase> {
    Some(Phase {
        deployed: true,
        rules,
    })
}

/// A rate limit of 100 requests a minute per client address.
fn limit(e: &str) -> RulesetRule {
    RulesetRule {
        characteristics: Some(vec!["cf.colo.id".into(), "ip.src".into()]),
        requests_per_period: Some(100),
        period: Some(60),
        ..rule("r", "block", e)
    }
}

#[test]
fn rate_limit_coverage() {
    let covers =
        |e: &str| zone_with("http_ratelimit", deployed(vec![limit(e)])).rate_limit_covers_webhook;
    assert_eq!(
        covers(
            r#"(http.host eq "webhook.example.com" and starts_with(http.request.uri.path, "/hooks"))"#
        ),
        Some(true)
    );
    assert_eq!(covers("true"), Some(true));
    assert_eq!(
        covers(r#"http.request.uri.path eq "/""#),
        Some(false),
        "webhook path is /hooks/github"
    );
    assert_eq!(covers(r#"http.host eq "api.example.com""#), Some(false));
    assert_eq!(covers(r#"http.host matches "^webhook""#), Some(true));
    assert_eq!(
        covers(r#"cf.zone.plan eq "ENT""#),
        None,
        "what cannot be evaluated never covers and is unknown"
    );
    assert_eq!(
        covers(r#"http.host eq "webhook.example.com" and http.user_agent contains "x""#),
        Some(false),
        "a condition the client controls is avoided"
    );

    let mut disabled = limit("true");
    disabled.enabled = Some(false);
    assert_eq!(
        zone_with("http_ratelimit", deployed(vec![disabled])).rate_limit_covers_webhook,
        Some(false)
    );
    assert_eq!(
        zone_with("http_ratelimit", deployed(vec![rule("r", "log", "true")]))
            .rate_limit_covers_webhook,
        Some(false)
    );
    assert_eq!(
        zone_with("http_ratelimit", None).rate_limit_covers_webhook,
        None
    );
    let not_deployed = Some(Phase {
        deployed: false,
        rules: vec![],
    });
    assert_eq!(
        zone_with("http_ratelimit", not_deployed).rate_limit_covers_webhook,
        Some(false)
    );

    // Root path default: `http.request.uri.path eq "/"` covers `/`.
    let mut inv = estate();
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_ratelimit".into(),
            deployed(vec![limit(r#"http.request.uri.path eq "/""#)]).unwrap()
        ));
    let z = get!(linked(inv), "cloudflare:zone/z1", CloudflareZone);
    assert_eq!(z.rate_limit_covers_webhook, Some(true));
}

#[test]
fn managed_waf_and_config_overrides() {
    assert_eq!(
        zone_with("http_request_firewall_managed", None).managed_waf_enabled,
        None
    );
    assert_eq!(
        zone_with(
            "http_request_firewall_managed",
            Some(Phase {
                deployed: false,
                rules: vec![]
            })
        )
        .managed_waf_enabled,
        Some(false)
    );
    let mut r = rule("waf", "execute", "true");
    r.enabled = Some(false);
    assert_eq!(
        zone_with("http_request_firewall_managed", deployed(vec![r])).managed_waf_enabled,
        Some(false)
    );

    let set = |id: &str, expr: &str, k: &str, v: &str| {
        let mut r = rule(id, "set_config", expr);
        r.set_config.insert(k.into(), v.into());
        r
    };
    let z = zone_with(
        "http_config_settings",
        deployed(vec![
            set(
                "a",
                r#"http.host eq "webhook.example.com""#,
                "ssl",
                "flexible",
            ),
            set("b", r#"http.host eq "www.example.com""#, "ssl", "off"),
            set("c", "true", "ssl", "strict"),
            set("d", r#"ip.src in {1.2.3.4}"#, "min_tls_version", "1.0"),
            set("e", "true", "min_tls_version", "1.3"),
        ]),
    );
    assert_eq!(
        z.webhook_ssl_overrides,
        Some(vec!["a: flexible".to_string()])
    );
    assert_eq!(
        z.webhook_min_tls_overrides,
        Some(vec!["d: 1.0".to_string()]),
        "unknown may apply"
    );
    assert_eq!(
        zone_with("http_config_settings", None).webhook_ssl_overrides,
        None
    );
}

fn zone_edit(f: impl FnOnce(&mut CloudflareZone)) -> CloudflareZone {
    let mut inv = estate();
    inv.estate.cloudflare.webhook_path = Some("/hooks/github".into());
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| f(z));
    get!(linked(inv), "cloudflare:zone/z1", CloudflareZone)
}

fn page_rule(id: &str, priority: i64, pattern: &str, action: (&str, &str)) -> PageRule {
    PageRule {
        id: Some(id.into()),
        priority: Some(priority),
        status: Some("active".into()),
        targets: vec![PageRuleTarget {
            operator: Some("matches".into()),
            value: Some(pattern.into()),
        }],
        actions: [(action.0.to_string(), action.1.to_string())].into(),
    }
}

#[test]
fn only_the_highest_priority_page_rule_applies_to_the_webhook_url() {
    let z = zone_edit(|z| {
        z.always_use_https = Some("off".into());
        z.page_rules = Some(vec![
            page_rule("low", 1, "*example.com/*", ("ssl", "flexible")),
            page_rule(
                "high",
                5,
                "webhook.example.com/hooks/*",
                ("always_use_https", "on"),
            ),
            page_rule("other", 9, "www.example.com/*", ("ssl", "off")),
        ]);
    });
    assert_eq!(z.webhook_always_use_https.as_deref(), Some("on"));
    assert_eq!(
        z.webhook_ssl_overrides,
        Some(vec![]),
        "`low` is shadowed by `high`"
    );
    let z = zone_edit(|z| {
        z.page_rules = Some(vec![page_rule(
            "p",
            1,
            "webhook.example.com/hooks/*",
            ("ssl", "full"),
        )])
    });
    assert_eq!(
        z.webhook_ssl_overrides,
        Some(vec!["page rule p: full".to_string()])
    );
    // A pattern without a path matches the host's root only.
    let z = zone_edit(|z| {
        z.page_rules = Some(vec![page_rule(
            "p",
            1,
            "webhook.example.com",
            ("ssl", "off"),
        )])
    });
    assert_eq!(z.webhook_ssl_overrides, Some(vec![]));
    // A target this audit cannot match, or no priority: unknown.
    let z = zone_edit(|z| {
        let mut p = page_rule("p", 1, "webhook.example.com/*", ("ssl", "off"));
        p.targets[0].operator = Some("contains".into());
        z.page_rules = Some(vec![p]);
    });
    assert_eq!(z.webhook_ssl_overrides, None);
    assert_eq!(z.webhook_always_use_https, None);
}

#[test]
fn per_hostname_tls_exact_then_wildcard() {
    let z = zone_edit(|z| {
        z.hostname_min_tls = Some([("*.example.com".to_string(), "1.0".to_string())].into())
    });
    assert_eq!(
        z.webhook_min_tls_overrides,
        Some(vec!["hostname setting *.example.com: 1.0".to_string()])
    );
    let z = zone_edit(|z| {
        z.hostname_min_tls = Some(
            [
                ("*.example.com".to_string(), "1.0".to_string()),
                ("webhook.example.com".to_string(), "1.3".to_string()),
            ]
            .into(),
        )
    });
    assert_eq!(z.webhook_min_tls_overrides, Some(vec![]));
    assert_eq!(
        zone_edit(|z| z.hostname_min_tls = None).webhook_min_tls_overrides,
        None
    );
}

#[test]
fn a_skip_of_the_rest_of_the_custom_rules_shields_later_skips_from_the_requests_it_matches() {
    let skip = |id: &str, e: &str, s: Skip| RulesetRule {
        skip: Some(s),
        ..rule(id, "skip", e)
    };
    let z = zone_edit(|z| {
        z.phases.insert(
            "http_request_firewall_custom".into(),
            deployed(vec![
                skip(
                    "first",
                    r#"http.host eq "webhook.example.com""#,
                    Skip {
                        current_ruleset: true,
                        ..Default::default()
                    },
                ),
                skip(
                    "later",
                    "true",
                    Skip {
                        phases: vec!["http_ratelimit".into()],
                        ..Default::default()
                    },
                ),
            ])
            .unwrap(),
        );
    });
    assert_eq!(
        z.rate_limit_covers_webhook,
        Some(true),
        "`later` never sees a webhook request"
    );
    assert_eq!(z.webhook_allowlisted, Some(false));
    assert_eq!(z.zone_active, Some(true));
    let z = zone_edit(|z| z.paused = Some(true));
    assert_eq!(z.zone_active, Some(false));
    let z = zone_edit(|z| z.paused = None);
    assert_eq!(z.zone_active, None);
}

#[test]
fn origin_secret_header_from_late_transform() {
    let mut r = rule("t", "rewrite", r#"http.host eq "webhook.example.com""#);
    r.set_headers = vec!["x-origin-secret".into()];
    let mut inv = estate();
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_request_late_transform".into(),
            deployed(vec![r.clone()]).unwrap()
        ));
    let l = get!(linked(inv.clone()), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_secret_header, Some(true));
    r.expression = Some(r#"http.host eq "other.example.com""#.into());
    edit!(inv, "cloudflare:zone/z1", CloudflareZone, |z| z
        .phases
        .insert(
            "http_request_late_transform".into(),
            deployed(vec![r]).unwrap()
        ));
    let l = get!(linked(inv), "function:webhook", LambdaFunction);
    assert_eq!(l.origin_secret_header, Some(false));
}
