//! Whether CloudWatch can publish an alarm to an encrypted SNS topic: the topic's KMS key must be
//! a customer key, enabled, whose key policy lets the CloudWatch service principal
//! (`cloudwatch.amazonaws.com`) use it (`kms:Decrypt` and `kms:GenerateDataKey*`), no `Deny`
//! taking that away. An AWS managed key (`alias/aws/sns`) has a policy no one can change that
//! admits only the account's own principals through SNS: CloudWatch's notifications are dropped.
//!
//! It must not guess: a key or policy not read, a condition key it does not know or a
//! `NotResource` is unknown, never "usable". Conditions on the alarm as the source
//! (`aws:SourceAccount`, `aws:SourceArn`) are read for the topic's own account and region.

use super::iam::action_glob;
use crate::model::{aws_managed_key_alias, PolicyStatement, SnsTopic};

/// The CloudWatch service principal.
const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";
/// What publishing to an encrypted topic needs of the key.
const NEEDED: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

/// `Some(Ok)`: CloudWatch can publish (or the topic is not encrypted); `Some(Err(why))`: it
/// cannot; `None`: unknown.
pub(super) fn cloudwatch_may_use(t: &SnsTopic) -> Option<Result<(), String>> {
    let key = t.kms_master_key_id.as_deref()?;
    if key.is_empty() {
        return Some(Ok(()));
    }
    if aws_managed_key_alias(key) {
        return Some(Err(format!(
            "is encrypted with the AWS managed key {key}, which CloudWatch cannot use: the \
             alarm's notifications never reach the topic"
        )));
    }
    let k = t.kms_key.as_ref()?;
    match k.key_manager.as_deref()? {
        "CUSTOMER" => {}
        "AWS" => {
            return Some(Err(format!(
                "is encrypted with an AWS managed key ({key}), which CloudWatch cannot use: the \
                 alarm's notifications never reach the topic"
            )))
        }
        _ => return None,
    }
    match k.key_state.as_deref()? {
        "Enabled" => {}
        state => {
            return Some(Err(format!(
                "is encrypted with KMS key {key}, which is {state}: nothing can be published"
            )))
        }
    }
    let (region, account) = arn_place(t.topic_arn.as_deref()?)?;
    let key_arn = k.key_arn.as_deref().unwrap_or("");
    let mut missing = Vec::new();
    for action in NEEDED {
        match allowed(k.policy.as_deref()?, action, key_arn, region, account)? {
            true => {}
            false => missing.push(action),
        }
    }
    if missing.is_empty() {
        Some(Ok(()))
    } else {
        Some(Err(format!(
            "is encrypted with KMS key {key}, whose key policy does not let CloudWatch \
             ({CLOUDWATCH}) use it for {}: the alarm's notifications never reach the topic",
            missing.join(" and ")
        )))
    }
}

/// Region and account of an ARN.
fn arn_place(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.split(':');
    let (_, _, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some((region, account))
}

/// Whether the key policy lets CloudWatch do `action`: an applying `Allow` and no applying
/// `Deny`. `None` when a statement that could decide it cannot be read.
fn allowed(
    policy: &[PolicyStatement],
    action: &str,
    key_arn: &str,
    region: &str,
    account: &str,
) -> Option<bool> {
    let mut allow = false;
    for st in policy {
        if !principal_matches(st) || !action_matches(st, action) {
            continue;
        }
        if !st.not_resources.is_empty() {
            return None;
        }
        if !st.resources.is_empty()
            && !st
                .resources
                .iter()
                .any(|r| r == "*" || (!key_arn.is_empty() && r == key_arn))
        {
            continue;
        }
        let holds = conditions_hold(st, region, account)?;
        if !holds {
            continue;
        }
        if st.effect.eq_ignore_ascii_case("Deny") {
            return Some(false);
        }
        if st.effect.eq_ignore_ascii_case("Allow") {
            allow = true;
        }
    }
    Some(allow)
}

fn principal_matches(st: &PolicyStatement) -> bool {
    let named = |p: &String| p == "*" || p.eq_ignore_ascii_case(CLOUDWATCH);
    if !st.not_principals.is_empty() {
        return !st.not_principals.iter().any(named);
    }
    st.principals.iter().any(named)
}

fn action_matches(st: &PolicyStatement, action: &str) -> bool {
    if !st.not_actions.is_empty() {
        return !st.not_actions.iter().any(|p| action_glob(action, p));
    }
    st.actions.iter().any(|p| action_glob(action, p))
}

/// Whether the conditions hold for CloudWatch publishing the account's alarms. `None`: a key or
/// operator this module does not read.
fn conditions_hold(st: &PolicyStatement, region: &str, account: &str) -> Option<bool> {
    let alarm = format!("arn:aws:cloudwatch:{region}:{account}:alarm:");
    for (op, keys) in &st.conditions {
        let like = match op.as_str() {
            "StringEquals" | "ArnEquals" => false,
            "StringLike" | "ArnLike" => true,
            _ => return None,
        };
        for (key, values) in keys {
            let ok = match key.to_ascii_lowercase().as_str() {
                "aws:sourceaccount" => values.iter().any(|v| v == account),
                // The alarm is the source; any alarm of the account's region is one of ours, so
                // a pattern must admit every alarm name (`…:alarm:*`) to hold for all of them.
                "aws:sourcearn" => values.iter().any(|v| {
                    if like {
                        action_glob(&format!("{alarm}*"), v)
                            && v.starts_with(&alarm[..alarm.len() - 1])
                    } else {
                        false
                    }
                }),
                _ => return None,
            };
            if !ok {
                return Some(false);
            }
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TopicKey;

    fn stmt(effect: &str, principal: &str, actions: &[&str]) -> PolicyStatement {
        PolicyStatement {
            effect: effect.into(),
            principals: vec![principal.into()],
            actions: actions.iter().map(|a| a.to_string()).collect(),
            resources: vec!["*".into()],
            ..Default::default()
        }
    }

    fn topic(key: &str, k: Option<TopicKey>) -> SnsTopic {
        SnsTopic {
            topic_arn: Some("arn:aws:sns:eu-west-1:111122223333:alerts".into()),
            kms_master_key_id: Some(key.into()),
            kms_key: k,
        }
    }

    fn customer(policy: Vec<PolicyStatement>) -> Option<TopicKey> {
        Some(TopicKey {
            key_arn: Some("arn:aws:kms:eu-west-1:111122223333:key/k1".into()),
            key_manager: Some("CUSTOMER".into()),
            key_state: Some("Enabled".into()),
            policy: Some(policy),
        })
    }

    #[test]
    fn aws_managed_keys_never_serve_cloudwatch() {
        assert!(cloudwatch_may_use(&topic("alias/aws/sns", None))
            .unwrap()
            .is_err());
        assert!(cloudwatch_may_use(&topic(
            "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns",
            None
        ))
        .unwrap()
        .is_err());
        let mut k = customer(vec![]).unwrap();
        k.key_manager = Some("AWS".into());
        assert!(cloudwatch_may_use(&topic("k1", Some(k))).unwrap().is_err());
        assert_eq!(cloudwatch_may_use(&topic("", None)), Some(Ok(())));
        assert_eq!(cloudwatch_may_use(&topic("k1", None)), None, "not read");
    }

    #[test]
    fn the_key_policy_must_let_cloudwatch_decrypt_and_generate_data_keys() {
        let both = stmt(
            "Allow",
            CLOUDWATCH,
            &["kms:Decrypt", "kms:GenerateDataKey*"],
        );
        assert_eq!(
            cloudwatch_may_use(&topic("k1", customer(vec![both.clone()]))),
            Some(Ok(()))
        );
        let decrypt_only = stmt("Allow", CLOUDWATCH, &["kms:Decrypt"]);
        let v = cloudwatch_may_use(&topic("k1", customer(vec![decrypt_only])));
        assert!(v.unwrap().unwrap_err().contains("kms:GenerateDataKey"));
        // The account root and SNS are not CloudWatch.
        let root = stmt("Allow", "arn:aws:iam::111122223333:root", &["kms:*"]);
        let sns = stmt("Allow", "sns.amazonaws.com", &["kms:*"]);
        assert!(cloudwatch_may_use(&topic("k1", customer(vec![root, sns])))
            .unwrap()
            .is_err());
        // A Deny wins; `*` as principal admits CloudWatch too.
        let deny = stmt("Deny", "*", &["kms:Decrypt"]);
        assert!(
            cloudwatch_may_use(&topic("k1", customer(vec![both.clone(), deny])))
                .unwrap()
                .is_err()
        );
        assert_eq!(
            cloudwatch_may_use(&topic("k1", customer(vec![stmt("Allow", "*", &["kms:*"])]))),
            Some(Ok(()))
        );
        // A disabled or deleted key serves no one.
        let mut k = customer(vec![both.clone()]).unwrap();
        k.key_state = Some("PendingDeletion".into());
        assert!(cloudwatch_may_use(&topic("k1", Some(k))).unwrap().is_err());
    }

    #[test]
    fn conditions_on_the_alarm_as_source_are_read_others_are_unknown() {
        let mut own = stmt(
            "Allow",
            CLOUDWATCH,
            &["kms:Decrypt", "kms:GenerateDataKey*"],
        );
        own.conditions.insert(
            "ArnLike".into(),
            [(
                "aws:SourceArn".into(),
                vec!["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:*".into()],
            )]
            .into(),
        );
        own.conditions.insert(
            "StringEquals".into(),
            [("aws:SourceAccount".into(), vec!["111122223333".into()])].into(),
        );
        assert_eq!(
            cloudwatch_may_use(&topic("k1", customer(vec![own.clone()]))),
            Some(Ok(()))
        );
        let mut other = own.clone();
        other.conditions.insert(
            "StringEquals".into(),
            [("aws:SourceAccount".into(), vec!["999988887777".into()])].into(),
        );
        assert!(cloudwatch_may_use(&topic("k1", customer(vec![other])))
            .unwrap()
            .is_err());
        let mut one_alarm = own.clone();
        one_alarm.conditions.insert(
            "ArnLike".into(),
            [(
                "aws:SourceArn".into(),
                vec!["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:rds-*".into()],
            )]
            .into(),
        );
        assert!(
            cloudwatch_may_use(&topic("k1", customer(vec![one_alarm])))
                .unwrap()
                .is_err(),
            "a pattern that admits some alarms only does not hold for all"
        );
        let mut via = own;
        via.conditions.insert(
            "StringEquals".into(),
            [(
                "kms:ViaService".into(),
                vec!["sns.eu-west-1.amazonaws.com".into()],
            )]
            .into(),
        );
        assert_eq!(cloudwatch_may_use(&topic("k1", customer(vec![via]))), None);
    }
}
