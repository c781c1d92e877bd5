//! The compliant Cloudflare zone as the v4 API answers it: every endpoint the collector reads
//! (paths after the `/client/v4` prefix), with its status and recorded body from
//! `tests/fixtures/cloudflare/`. One list for the collection tests and the fault suite, so that
//! a new endpoint is served everywhere at once. Deviations are the tests' own.
#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;

use estate_audit::collect::cloudflare::{PHASES, SETTINGS};
use serde_json::Value;

/// The zone id of the fixtures (Cloudflare's documentation zone id).
pub const ZID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
/// The account that owns the zone in `zones_list_by_name.json`.
pub const ACCOUNT: &str = "01a7362d577a6c3019a474fd6f485823";

pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudflare")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture JSON")
}

/// Endpoint, HTTP status and body of every answer of the compliant zone.
pub fn compliant() -> Vec<(String, u16, Value)> {
    let mut m: Vec<(String, u16, Value)> = vec![
        (
            "/user/tokens/verify".into(),
            200,
            fixture("user_tokens_verify.json"),
        ),
        ("/ips".into(), 200, fixture("ips.json")),
        ("/zones".into(), 200, fixture("zones_list_by_name.json")),
        (
            format!("/zones/{ZID}/dns_records"),
            200,
            fixture("dns_records_list_by_name.json"),
        ),
        // No configuration rules: nothing deployed in that phase.
        (
            format!("/zones/{ZID}/rulesets/phases/http_config_settings/entrypoint"),
            404,
            fixture("errors/404_entrypoint_not_found_10003.json"),
        ),
        (
            format!("/zones/{ZID}/pagerules"),
            200,
            fixture("pagerules_list_active.json"),
        ),
        (
            format!("/zones/{ZID}/hostnames/settings/min_tls_version"),
            200,
            fixture("hostnames_settings_min_tls_version.json"),
        ),
    ];
    // Every setting and phase the collector reads (the configuration rules' answered above).
    for s in SETTINGS {
        m.push((
            format!("/zones/{ZID}/settings/{s}"),
            200,
            fixture(&format!("zone_setting_{s}.json")),
        ));
    }
    for p in PHASES.iter().filter(|p| **p != "http_config_settings") {
        m.push((
            format!("/zones/{ZID}/rulesets/phases/{p}/entrypoint"),
            200,
            fixture(&format!("rulesets_entrypoint_{p}.json")),
        ));
    }
    m
}
