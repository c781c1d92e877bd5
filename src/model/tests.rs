use super::*;

#[test]
fn resource_round_trips_through_json_with_kind_and_attrs() {
    let mut r = Resource::new(
        "arn:aws:rds:eu-west-1:111122223333:db:estate-db",
        Attrs::DbInstance(DbInstance {
            publicly_accessible: Some(false),
            ..Default::default()
        }),
    );
    r.tags.insert("Name".into(), "estate-db".into());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["kind"], "aws.rds.db_instance");
    assert_eq!(json["attrs"]["publicly_accessible"], false);
    assert!(json["attrs"]["storage_encrypted"].is_null());
    let back: Resource = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn derived_fields_are_never_read_from_input() {
    let json = serde_json::json!({
        "id": "subnet", "kind": "aws.ec2.subnet",
        "attrs": {"subnet_id": "subnet-1", "vpc_id": null, "availability_zone": null,
                  "cidr_block": null, "map_public_ip_on_launch": null,
                  "assign_ipv6_address_on_creation": null, "tier": "public"}
    });
    let err = serde_json::from_value::<Resource>(json).unwrap_err();
    assert!(err.to_string().contains("tier"), "{err}");
}

#[test]
fn unknown_kind_and_misspelt_fields_are_errors() {
    let json = serde_json::json!({"id": "x", "kind": "aws.s3.bucket", "attrs": {}});
    let err = serde_json::from_value::<Resource>(json).unwrap_err();
    assert!(err.to_string().contains("aws.s3.bucket"), "{err}");
    let json = serde_json::json!({"id": "x", "kind": "aws.ec2.volume",
        "attrs": {"volume_id": "v", "encrypted": true, "state": null, "encrytped": true}});
    let err = serde_json::from_value::<Resource>(json).unwrap_err();
    assert!(err.to_string().contains("encrytped"), "{err}");
}

#[test]
fn every_kind_has_a_schema() {
    for kind in KINDS {
        let schema = kind_schema(kind).unwrap_or_else(|| panic!("{kind}"));
        assert!(schema.as_value().get("properties").is_some(), "{kind}");
    }
    assert!(kind_schema("aws.s3.bucket").is_none());
}

#[test]
fn resource_reads_attrs_before_or_after_kind_and_ignores_other_keys() {
    let kind_first: Resource = serde_json::from_str(
        r#"{"id": "v", "kind": "aws.ec2.volume", "attrs": {"encrypted": true}, "x": [1]}"#,
    )
    .unwrap();
    let attrs_first: Resource = serde_json::from_str(
        r#"{"x": {"y": 1}, "attrs": {"encrypted": true}, "tags": {"a": "b"}, "kind": "aws.ec2.volume", "id": "v"}"#,
    )
    .unwrap();
    assert_eq!(kind_first.kind(), "aws.ec2.volume");
    match &kind_first.attrs {
        Attrs::Volume(v) => assert_eq!(v.encrypted, Some(true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(kind_first.attrs, attrs_first.attrs);
    assert_eq!(attrs_first.tags.get("a").map(String::as_str), Some("b"));
    assert_eq!(attrs_first.name, None);
}

#[test]
fn resource_errors_name_the_problem() {
    let err = |text: &str| {
        serde_json::from_str::<Resource>(text)
            .unwrap_err()
            .to_string()
    };
    assert!(err(r#"{"id": "x", "attrs": {}}"#).starts_with("missing field `kind`"));
    assert!(err(r#"{"id": "x", "kind": "estate"}"#).starts_with("missing field `attrs`"));
    assert!(err(r#"{"kind": "aws.ec2.volume", "attrs": {}}"#).starts_with("missing field `id`"));
    assert!(err(r#"{"id": "x", "id": "y"}"#).starts_with("duplicate field `id`"));
    assert!(
        err(r#"{"id": "x", "kind": "aws.ec2.volume", "attrs": {}, "attrs": {}}"#)
            .starts_with("duplicate field `attrs`")
    );
    assert!(err(r#"{"id": "x", "kind": "aws.nope", "attrs": {}}"#)
        .starts_with("unknown variant `aws.nope`, expected one of `estate`"));
    // Inside attrs, wherever `kind` is: the kind's own message; when `kind` came first it points
    // at the offending key rather than at the end of the resource.
    let after = err(r#"{"id": "x", "kind": "aws.ec2.volume", "attrs": {"zzz": 1}}"#);
    assert!(
        after.starts_with("unknown field `zzz`, expected one of"),
        "{after}"
    );
    assert!(after.ends_with("line 1 column 53"), "{after}");
    let before = err(r#"{"id": "x", "attrs": {"encrypted": "yes"}, "kind": "aws.ec2.volume"}"#);
    assert!(
        before.starts_with("invalid type: string \"yes\", expected a boolean"),
        "{before}"
    );
}
