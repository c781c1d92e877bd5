//! The sentences findings say: a rule's `message` template with its values in words, the
//! sentence of a rule without one, and the estate-level ones.

use super::*;

#[test]
fn a_message_template_says_the_failure_in_words_and_what_the_spec_wants() {
    let p = policies(&rule(
        "aws-rds-not-public",
        "\"aws.rds.db_instance\"",
        None,
        NOT_PUBLIC,
        r#"evidence = ["publicly_accessible", "internet.path"]
message = "{resource} is open ({publicly_accessible}): {internet.path}."
wants = "the database private.""#,
    ));
    let mut open = db("b", Some(true));
    if let Attrs::DbInstance(a) = &mut open.attrs {
        a.internet = Some(Reachability {
            reachable: true,
            path: vec![
                "igw-1".into(),
                "sg-1 admits tcp 3306".into(),
                "acl-1".into(),
            ],
            ..Default::default()
        });
    }
    let mut unread = db("c", None);
    if let Attrs::DbInstance(a) = &mut unread.attrs {
        a.internet = Some(Reachability {
            reachable: false,
            path: vec!["rtb-1 has no route to an internet gateway".into()],
            ..Default::default()
        });
    }
    let f = evaluate(&inventory(vec![open, unread, db("d", None)]), &p);
    // Values in words, one full stop, the spec's want at the end.
    assert_eq!(
        f[0].message,
        "b-name is open (true): igw-1, sg-1 admits tcp 3306 and acl-1; the spec wants the \
         database private."
    );
    // The evidence keeps the values as they are.
    assert_eq!(
        f[0].evidence["internet.path"],
        serde_json::json!(["igw-1", "sg-1 admits tcp 3306", "acl-1"])
    );
    // Unknown: what the message cites in sentences says what is known (only `link`'s
    // sentences, never a bare value such as `true`).
    assert_eq!(
        f[1].message,
        "c-name: `publicly_accessible` could not be read, so the check cannot be judged (rtb-1 \
         has no route to an internet gateway); the spec wants the database private."
    );
    assert_eq!(
        f[2].message,
        "d-name: `publicly_accessible` could not be read, so the check cannot be judged; the \
         spec wants the database private."
    );
}

#[test]
fn without_a_template_the_evidence_is_said_in_words_never_as_json() {
    let p = policies(&rule(
        "r",
        "\"aws.rds.db_instance\"",
        None,
        NOT_PUBLIC,
        r#"evidence = ["publicly_accessible", "internet"]"#,
    ));
    let mut open = db("b", Some(true));
    if let Attrs::DbInstance(a) = &mut open.attrs {
        a.internet = Some(Reachability {
            reachable: true,
            path: vec!["igw-1".into()],
            ways: vec!["a".into(), "b".into()],
            ways_total: 2,
        });
    }
    let f = evaluate(&inventory(vec![open]), &p);
    assert_eq!(
        f[0].message,
        "b-name: Expected state of r does not hold: publicly_accessible is true, internet is \
         reachable true; path igw-1; ways a and b; ways_total 2; the rule expects: Expected state \
         of r."
    );
}

#[test]
fn an_estate_issue_joins_the_sentence_of_the_estate_record() {
    // A rule over the estate record that also has an estate-level issue (its kind's service
    // failed): one finding, both said.
    let p = policies(&rule(
        "estate-rule",
        r#"["estate", "aws.rds.db_instance"]"#,
        None,
        "resource.name == 'nothing'",
        "wants = \"every part of the estate read\"",
    ));
    let mut inv = inventory(vec![estate_record()]);
    inv.collection_errors.push(rds_denied());
    let f = evaluate(&inv, &p);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Fail);
    assert_eq!(
        f[0].message,
        "estate: Expected state of estate-rule does not hold: `resource.name == 'nothing'` is \
         false; the spec wants every part of the estate read. Also: no aws.rds.db_instance of \
         the estate could be read (aws rds could not be collected in eu-west-1 (AccessDenied: \
         not authorized to perform rds:DescribeDBInstances)), so the check cannot be judged."
    );
}
