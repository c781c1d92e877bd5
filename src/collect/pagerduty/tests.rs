use serde_json::json;

use super::*;

#[test]
fn only_the_allowlisted_paths_are_read() {
    for ok in ["/services", "/escalation_policies/PEP4X9D", "/oncalls"] {
        assert!(allowed(ok), "{ok}");
    }
    for refused in [
        "/services/PSV8R2Q",
        "/escalation_policies",
        "/escalation_policies/",
        "/escalation_policies/../users",
        "/escalation_policies/P1/x",
        "/incidents",
        "/users",
        "/oncalls/",
    ] {
        assert!(!allowed(refused), "{refused}");
    }
    let section = permissions_section();
    for e in ENDPOINTS {
        assert!(
            section.contains(e.path) && section.contains(e.needs),
            "{section}"
        );
    }
}

#[test]
fn a_service_keeps_its_integration_keys_as_digests_only() {
    let v = json!({
        "id": "PSV8R2Q", "name": "estate-production", "status": "active",
        "escalation_policy": {"id": "PEP4X9D", "summary": "Primary"},
        "integrations": [
            {"id": "PI5CWAT", "type": "aws_cloudwatch_inbound_integration", "summary": "CloudWatch",
             "integration_key": "5f8a1c3e6b9d4f2a8c0e7b1d3f5a9c2e"},
            {"id": "PI7MAIL", "type": "generic_email_inbound_integration", "name": "Email",
             "integration_email": "x@estate-ops.pagerduty.com"}
        ]
    });
    let r = normalize_service(&v).unwrap();
    assert_eq!(r.id, "pagerduty:service/PSV8R2Q");
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("5f8a1c3e6b9d4f2a8c0e7b1d3f5a9c2e"), "{text}");
    let Attrs::PagerDutyService(s) = &r.attrs else {
        panic!()
    };
    assert_eq!(
        s.integrations[0].key_digest.as_deref(),
        Some(crate::collect::key_digest("5f8a1c3e6b9d4f2a8c0e7b1d3f5a9c2e").as_str())
    );
    assert_eq!(s.integrations[0].name.as_deref(), Some("CloudWatch"));
    assert_eq!(s.integrations[1].key_digest, None);
    assert_eq!(s.escalation_rules, None, "not read yet");
    assert_eq!(s.on_call_now, None, "not read yet");
    assert!(normalize_service(&json!({"name": "no id"})).is_err());
    // A status of the wrong type is unknown, not a status.
    let odd = normalize_service(&json!({"id": "P1", "status": 3})).unwrap();
    let Attrs::PagerDutyService(s) = &odd.attrs else {
        panic!()
    };
    assert_eq!(s.status, None);
}

#[test]
fn escalation_rules_are_numbered_and_their_targets_named() {
    let rules = normalize_escalation_rules(&json!({"escalation_rules": [
        {"escalation_delay_in_minutes": 15, "targets": [
            {"id": "PSE7WK3", "type": "schedule_reference", "summary": "Primary (weekly)"}]},
        {"escalation_delay_in_minutes": 30, "targets": []},
        {"targets": [{"id": "PK3TIM9", "type": "user_reference"}]}
    ]}))
    .unwrap();
    assert_eq!(rules[0].level, 1);
    assert_eq!(rules[0].delay_minutes, Some(15));
    assert_eq!(rules[0].targets, ["schedule Primary (weekly)"]);
    assert!(rules[1].targets.is_empty());
    assert_eq!(rules[2].targets, ["user PK3TIM9"]);
    assert!(normalize_escalation_rules(&json!({"name": "no rules key"})).is_err());
}

#[test]
fn on_call_entries_group_by_policy_and_skip_what_cannot_count() {
    let by = normalize_oncalls(&[
        json!({"escalation_policy": {"id": "PEP4X9D"}, "escalation_level": 2,
               "user": {"summary": "Priya Raman"}, "schedule": null, "end": null}),
        json!({"escalation_policy": {"id": "PEP4X9D"}, "escalation_level": 1,
               "user": {"summary": "Amara Okafor"}, "schedule": {"summary": "Primary"},
               "end": "2026-12-07T09:00:00Z"}),
        json!({"escalation_policy": {"id": "PEP4X9D"}, "user": {"summary": "no level"}}),
        json!({"escalation_level": 1, "user": {"summary": "no policy"}}),
    ]);
    let v = &by["PEP4X9D"];
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0].level, v[0].user.as_deref()),
        (1, Some("Amara Okafor"))
    );
    assert_eq!(v[0].until.as_deref(), Some("2026-12-07T09:00:00Z"));
    assert_eq!((v[1].level, v[1].schedule.as_deref()), (2, None));
    assert_eq!(by.len(), 1);
}
