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

#[test]
fn rate_limit_coverage() {
    let covers = |e: &str| {
        zone_with("http_ratelimit", deployed(vec![rule("r", "block", e)])).rate_limit_covers_webhook
    };
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
    assert_eq!(
        covers(r#"http.host matches "^webhook""#),
        Some(false),
        "unparsed never covers"
    );

    let mut disabled = rule("r", "block", "true");
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
            deployed(vec![rule("r", "block", r#"http.request.uri.path eq "/""#)]).unwrap()
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
