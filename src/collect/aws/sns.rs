//! SNS: topics (with their at-rest encryption key, read several topics at once, and that key as
//! KMS describes it: manager, state and key policy, two calls per customer key, each key once, in
//! a stage of its own after the topics: [`key_refs`], [`read_keys`], [`apply_keys`])
//! and subscriptions (protocol, endpoint, confirmation; a confirmed HTTPS subscription's filter
//! policy, one call each). Endpoints are redacted here, before anything is stored: a PagerDuty URL's
//! path carries the integration key. `normalize_*` and [`redact_endpoint`] are pure.
//!
//! A key named `alias/aws/…` is AWS managed by its name: it is not read (`link` judges it).

use std::collections::BTreeMap;

use aws_sdk_sns::types as t;
use aws_sdk_sns::Client;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "sns";

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let mut part = Part::default();
    let (topics, subs) = tokio::join!(
        client
            .list_topics()
            .into_paginator()
            .send()
            .all_pages(|p| p.next_token()),
        client
            .list_subscriptions()
            .into_paginator()
            .send()
            .all_pages(|p| p.next_token()),
    );
    match topics {
        Ok(pages) => {
            let arns: Vec<String> = pages
                .iter()
                .flat_map(|p| p.topics())
                .filter_map(|t| t.topic_arn().map(str::to_string))
                .collect();
            part.extend(
                Part::from_each(arns, |arn| async move {
                    let mut part = Part::default();
                    match client.get_topic_attributes().topic_arn(&arn).send().await {
                        Ok(out) => {
                            part.resources
                                .push(normalize_topic(ctx, &arn, out.attributes()))
                        }
                        Err(e) => part.errors.push(ctx.error(
                            SERVICE,
                            "GetTopicAttributes",
                            &[kind::SNS_TOPIC],
                            &e,
                        )),
                    }
                    part
                })
                .await,
            );
        }
        Err(e) => part
            .errors
            .push(ctx.error(SERVICE, "ListTopics", &[kind::SNS_TOPIC], &e)),
    }
    match subs {
        Ok(pages) => {
            let subs: Vec<Resource> = pages
                .iter()
                .flat_map(|p| p.subscriptions())
                .enumerate()
                .filter_map(|(n, s)| normalize_subscription(ctx, n, s))
                .collect();
            part.extend(Part::from_each(subs, |r| filter_policy(client, ctx, r)).await);
        }
        Err(e) => {
            part.errors
                .push(ctx.error(SERVICE, "ListSubscriptions", &[kind::SNS_SUBSCRIPTION], &e))
        }
    }
    part
}

/// The customer keys the topics in `part` name (each once; AWS managed aliases are judged by
/// their name and not read).
pub fn key_refs(part: &Part) -> Vec<String> {
    let mut refs: Vec<String> = part
        .resources
        .iter()
        .filter_map(|r| match &r.attrs {
            Attrs::SnsTopic(t) => t.kms_master_key_id.clone(),
            _ => None,
        })
        .filter(|k| !k.is_empty() && !aws_managed_key_alias(k))
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

/// Reads the keys `refs` names, side by side. A stage of its own (KMS has its own deadline
/// error), so a stalled KMS leaves the topics and subscriptions their data: a key not read
/// leaves its topics' `kms_key` unknown, with the error.
pub async fn read_keys(kms: &aws_sdk_kms::Client, ctx: &Ctx, refs: &[String]) -> Keys {
    let read = futures_util::future::join_all(refs.iter().map(|k| read_key(kms, ctx, k))).await;
    let mut out = Keys::default();
    for (k, got) in refs.iter().zip(read) {
        match got {
            Ok(key) => {
                out.keys.insert(k.clone(), key);
            }
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// What [`read_keys`] read: the keys by the reference topics use, and the errors.
#[derive(Default)]
pub struct Keys {
    pub keys: BTreeMap<String, TopicKey>,
    pub errors: Vec<CollectionError>,
}

/// Puts the keys read on the topics that name them.
pub fn apply_keys(part: &mut Part, keys: Keys) {
    for r in &mut part.resources {
        if let Attrs::SnsTopic(t) = &mut r.attrs {
            if let Some(k) = t.kms_master_key_id.as_ref().and_then(|k| keys.keys.get(k)) {
                t.kms_key = Some(k.clone());
            }
        }
    }
    part.errors.extend(keys.errors);
}

/// DescribeKey, then the key policy (`default`, the only name a key policy has) by key id.
async fn read_key(
    kms: &aws_sdk_kms::Client,
    ctx: &Ctx,
    key: &str,
) -> Result<TopicKey, CollectionError> {
    // The errors name no kind: the topic is collected; its route is unknown without the key.
    let described = kms
        .describe_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| ctx.error("kms", "DescribeKey", &[], &e))?;
    let Some(meta) = described.key_metadata() else {
        return Ok(TopicKey::default());
    };
    let mut out = normalize_key(meta);
    let policy = kms
        .get_key_policy()
        .key_id(meta.key_id())
        .policy_name("default")
        .send()
        .await
        .map_err(|e| ctx.error("kms", "GetKeyPolicy", &[], &e))?;
    out.policy = policy
        .policy()
        .and_then(|p| super::lambda::parse_policy(p).ok());
    Ok(out)
}

pub fn normalize_key(meta: &aws_sdk_kms::types::KeyMetadata) -> TopicKey {
    TopicKey {
        key_arn: meta.arn().map(str::to_string),
        key_manager: meta.key_manager().map(|m| m.as_str().to_string()),
        key_state: meta.key_state().map(|s| s.as_str().to_string()),
        policy: None,
    }
}

/// A confirmed HTTPS subscription (the kind PagerDuty's is) with its filter policy: a policy
/// can drop every alarm notification that the route would deliver. Other subscriptions are kept
/// as listed (one call each is spent only where a route can run).
async fn filter_policy(client: &Client, ctx: &Ctx, mut r: Resource) -> Part {
    let mut part = Part::default();
    if let Attrs::SnsSubscription(s) = &mut r.attrs {
        let https = s
            .protocol
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        if https && s.confirmed == Some(true) {
            match client
                .get_subscription_attributes()
                .subscription_arn(&r.id)
                .send()
                .await
            {
                Ok(out) => {
                    let a = out.attributes();
                    s.filter_policy = a.map(|a| a.get("FilterPolicy").cloned().unwrap_or_default());
                    s.filter_policy_scope = a.map(|a| {
                        a.get("FilterPolicyScope")
                            .cloned()
                            .unwrap_or_else(|| "MessageAttributes".into())
                    });
                }
                Err(e) => part.errors.push(ctx.error(
                    SERVICE,
                    "GetSubscriptionAttributes",
                    &[kind::SNS_SUBSCRIPTION],
                    &e,
                )),
            }
        }
    }
    part.resources.push(r);
    part
}

pub fn normalize_topic(
    ctx: &Ctx,
    arn: &str,
    attributes: Option<&std::collections::HashMap<String, String>>,
) -> Resource {
    let name = arn.rsplit(':').next().map(str::to_string);
    ctx.resource(
        arn.to_string(),
        name,
        StrMap::new(),
        Attrs::SnsTopic(SnsTopic {
            topic_arn: Some(arn.to_string()),
            // Attributes answered without the key: not encrypted (""). No attributes: unknown.
            kms_master_key_id: attributes
                .map(|a| a.get("KmsMasterKeyId").cloned().unwrap_or_default()),
            kms_key: None,
        }),
    )
}

/// `n` numbers subscriptions still pending confirmation, which have no ARN of their own yet.
pub fn normalize_subscription(ctx: &Ctx, n: usize, s: &t::Subscription) -> Option<Resource> {
    let topic = s.topic_arn()?;
    let sub_arn = s.subscription_arn()?;
    let pending = sub_arn == "PendingConfirmation";
    let id = if pending || !sub_arn.starts_with("arn:") {
        format!("{topic}:pending-confirmation-{n}")
    } else {
        sub_arn.to_string()
    };
    Some(crate::model::Resource {
        id,
        name: None,
        region: Some(ctx.region.clone()),
        account: s
            .owner()
            .map(str::to_string)
            .or_else(|| (!ctx.account.is_empty()).then(|| ctx.account.clone())),
        tags: StrMap::new(),
        attrs: Attrs::SnsSubscription(SnsSubscription {
            topic_arn: Some(topic.to_string()),
            protocol: s.protocol().map(str::to_string),
            endpoint: s.endpoint().map(redact_endpoint),
            endpoint_key_digest: s.endpoint().and_then(endpoint_key_digest),
            confirmed: Some(!pending),
            ..Default::default()
        }),
    })
}

/// A URL path segment that looks like a key: 16+ characters of letters, digits, `-` and `_`.
fn secret_like(seg: &str) -> bool {
    seg.len() >= 16
        && seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The digest ([`crate::collect::key_digest`]) of the key an `https` endpoint carries: its first
/// key-like path segment (a PagerDuty URL's integration key). `None` for other endpoints.
pub fn endpoint_key_digest(endpoint: &str) -> Option<String> {
    let rest = endpoint
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &endpoint[8..])?;
    let path = rest.split(['?', '#']).next()?.split_once('/')?.1;
    path.split('/')
        .find(|seg| secret_like(seg))
        .map(crate::collect::key_digest)
}

/// Hides secrets in a subscription endpoint: a URL keeps its scheme, host and the shape of its
/// path, but any path segment that looks like a key (16+ characters of letters and digits) and
/// the whole query become `<redacted>`. Other endpoints (email, ARNs, phone numbers) are kept.
pub fn redact_endpoint(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_string();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, _)) => (b, true),
        None => (rest, false),
    };
    let mut parts = before_query.splitn(2, '/');
    let host = parts.next().unwrap_or("");
    // Credentials in the authority (`user:pass@host`) are secrets too.
    let host = match host.rsplit_once('@') {
        Some((_, h)) => format!("<redacted>@{h}"),
        None => host.to_string(),
    };
    let mut out = format!("{scheme}://{host}");
    if let Some(path) = parts.next() {
        for seg in path.split('/') {
            out.push('/');
            out.push_str(if secret_like(seg) { "<redacted>" } else { seg });
        }
    }
    if query {
        out.push_str("?<redacted>");
    }
    out
}
