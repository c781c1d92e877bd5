//! Lambda: functions with their VPC placement, every function URL (ListFunctionUrlConfigs: the
//! function's own and each alias's) and the resource-based policy that governs each (GetPolicy,
//! with the alias as qualifier for an alias's URL), parsed into statements with principals,
//! actions, resources and conditions. The per-function calls run together, for several
//! functions at once ([`Part::from_each`]). "Not found" for a policy is a value (no policy); any
//! other failure leaves the field unknown and is reported. `normalize_*` and [`parse_policy`]
//! are pure.
//!
//! The SDK also has the newer `GetResourcePolicy` (by function ARN). It is not called: a
//! function has one resource-based policy, which AddPermission and PutResourcePolicy both
//! write and GetPolicy returns whole, with every statement's principals and conditions, which
//! is all the rules read. A second call per function would double the calls and ask the user
//! for one more permission (`lambda:GetResourcePolicy`) for the same document.

use std::collections::BTreeMap;

use aws_sdk_lambda::types as t;
use aws_sdk_lambda::Client;
use serde_json::Value;

use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "lambda";
const KINDS: &[&str] = &[kind::LAMBDA_FUNCTION];

pub async fn collect(client: &Client, ctx: &Ctx) -> Part {
    let functions: Vec<t::FunctionConfiguration> = match client
        .list_functions()
        .into_paginator()
        .send()
        .all_pages(|p| p.next_marker())
        .await
    {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.functions.unwrap_or_default())
            .collect(),
        Err(e) => {
            return Part {
                resources: Vec::new(),
                errors: vec![ctx.error(SERVICE, "ListFunctions", KINDS, &e)],
            }
        }
    };
    let in_scope = functions
        .iter()
        .filter_map(|f| normalize_function(ctx, f))
        .filter(|r| match &r.attrs {
            Attrs::LambdaFunction(l) => {
                ctx.in_scope(l.vpc_config.as_ref().map_or(&[][..], |v| &v.subnet_ids[..]))
            }
            _ => false,
        });
    // Every function in scope gets its URL and policy read: which one is the webhook is
    // `link`'s decision, made from the configuration.
    Part::from_each(in_scope, |r| url_and_policy(client, ctx, r)).await
}

/// The function's URLs and the resource-based policies that govern them, read together.
async fn url_and_policy(client: &Client, ctx: &Ctx, mut r: Resource) -> Part {
    let mut part = Part::default();
    let Attrs::LambdaFunction(attrs) = &mut r.attrs else {
        return part;
    };
    let name = attrs.function_name.clone().unwrap_or_default();
    let (urls, policy) = tokio::join!(
        client
            .list_function_url_configs()
            .function_name(&name)
            .into_paginator()
            .send()
            .all_pages(|p| p.next_marker()),
        policy_of(client, &name, None),
    );
    match policy {
        Ok(statements) => attrs.policy_statements = statements,
        Err(e) => part.errors.push(e.into_error(ctx, &name)),
    }
    match urls {
        Ok(pages) => {
            let mut all = Vec::new();
            for c in pages.iter().flat_map(|p| p.function_url_configs()) {
                let mut url = normalize_url_config(c);
                // The function's own URL answers to its own policy, read above; an alias's
                // to the alias's.
                if let Some(q) = url.qualifier.clone() {
                    match policy_of(client, &name, Some(&q)).await {
                        Ok(statements) => url.policy_statements = statements,
                        Err(e) => part.errors.push(e.into_error(ctx, &name)),
                    }
                }
                all.push(url);
            }
            all.sort_by(|a, b| a.qualifier.cmp(&b.qualifier));
            attrs.function_url = Some(
                all.iter()
                    .find(|u| u.qualifier.is_none())
                    .cloned()
                    .unwrap_or_else(|| normalize_function_url(None)),
            );
            attrs.function_urls = Some(all);
        }
        Err(e) => part
            .errors
            .push(ctx.error(SERVICE, "ListFunctionUrlConfigs", KINDS, &e)),
    }
    part.resources.push(r);
    part
}

/// Why a policy is unknown: the call failed, or its answer could not be read.
enum PolicyError {
    Call(
        Box<
            aws_smithy_runtime_api::client::result::SdkError<
                aws_sdk_lambda::operation::get_policy::GetPolicyError,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    ),
    Unparsable(String),
}

impl PolicyError {
    fn into_error(self, ctx: &Ctx, function: &str) -> CollectionError {
        match self {
            PolicyError::Call(e) => ctx.error(SERVICE, "GetPolicy", KINDS, &*e),
            PolicyError::Unparsable(why) => unparsable(ctx, function, &why),
        }
    }
}

/// The resource-based policy of the function (or of one of its aliases): `Some(vec![])` when it
/// has none.
async fn policy_of(
    client: &Client,
    function: &str,
    qualifier: Option<&str>,
) -> Result<Option<Vec<PolicyStatement>>, PolicyError> {
    match client
        .get_policy()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .send()
        .await
    {
        Ok(out) => match out.policy().map(parse_policy) {
            Some(Ok(statements)) => Ok(Some(statements)),
            Some(Err(why)) => Err(PolicyError::Unparsable(why)),
            None => Err(PolicyError::Unparsable("the answer holds no policy".into())),
        },
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(Some(Vec::new()))
        }
        Err(e) => Err(PolicyError::Call(Box::new(e))),
    }
}

/// An answer that could not be understood: the policy stays unknown and the audit incomplete.
fn unparsable(ctx: &Ctx, function: &str, why: &str) -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: SERVICE.into(),
        kinds: KINDS.iter().map(|k| k.to_string()).collect(),
        kind: ErrorKind::Other,
        message: format!("lambda GetPolicy: unparsable policy of {function}: {why}"),
        region: Some(ctx.region.clone()),
        account: None,
    }
}

/// A function without its URL and policy (read by separate calls; unknown until they answer).
pub fn normalize_function(ctx: &Ctx, f: &t::FunctionConfiguration) -> Option<Resource> {
    let name = f.function_name()?;
    let id = f
        .function_arn()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.arn("lambda", &format!("function:{name}")));
    let layers = f
        .layers()
        .iter()
        .filter_map(|l| l.arn())
        .map(str::to_string);
    // Lambda writes to `/aws/lambda/<name>` unless the logging configuration names another
    // group.
    let log_group = f
        .logging_config()
        .and_then(|c| c.log_group())
        .filter(|g| !g.is_empty())
        .map_or_else(|| format!("/aws/lambda/{name}"), str::to_string);
    Some(ctx.resource(
        id,
        Some(name.to_string()),
        StrMap::new(),
        Attrs::LambdaFunction(LambdaFunction {
            function_name: Some(name.to_string()),
            runtime: f.runtime().map(|r| r.as_str().to_string()),
            // No VpcConfig, or one without subnets, is a function outside any VPC.
            vpc_config: Some(match f.vpc_config() {
                Some(v) => LambdaVpcConfig {
                    subnet_ids: v.subnet_ids().to_vec(),
                    security_group_ids: v.security_group_ids().to_vec(),
                },
                None => LambdaVpcConfig::default(),
            }),
            function_url: None,
            policy_statements: None,
            layers: Some(layers.collect()),
            log_group: Some(log_group),
            ..Default::default()
        }),
    ))
}

/// The URL configuration; `None` is "the function has no URL".
pub fn normalize_function_url(out: Option<&t::FunctionUrlConfig>) -> FunctionUrl {
    match out {
        Some(c) => normalize_url_config(c),
        None => FunctionUrl {
            configured: false,
            ..FunctionUrl::default()
        },
    }
}

/// One URL of a function: its address, auth type and the alias it belongs to (the qualifier
/// of its function ARN, absent for the function's own URL).
pub fn normalize_url_config(c: &t::FunctionUrlConfig) -> FunctionUrl {
    let qualifier = c
        .function_arn()
        .split(':')
        .nth(7)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    FunctionUrl {
        configured: true,
        url: Some(c.function_url().to_string()).filter(|u| !u.is_empty()),
        auth_type: Some(c.auth_type().as_str().to_string()),
        qualifier,
        policy_statements: None,
    }
}

/// Parses an IAM policy document into statements. Single values and lists are both accepted
/// where IAM accepts both; anything else is an error (the statements become unknown).
pub fn parse_policy(text: &str) -> Result<Vec<PolicyStatement>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("policy is not JSON: {e}"))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => return Err("policy has no Statement".into()),
    };
    statements.into_iter().map(parse_statement).collect()
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(format!("unexpected value in a list: {x}")),
            })
            .collect(),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        _ => Err(format!("expected a string or a list of strings, got {v}")),
    }
}

fn parse_statement(s: &Value) -> Result<PolicyStatement, String> {
    let effect = s
        .get("Effect")
        .and_then(Value::as_str)
        .ok_or("statement without Effect")?
        .to_string();
    let principals = match s.get("Principal") {
        None => Vec::new(),
        Some(p) => principal_list(p)?,
    };
    let not_principals = match s.get("NotPrincipal") {
        None => Vec::new(),
        Some(p) => principal_list(p)?,
    };
    if principals.is_empty() && not_principals.is_empty() && s.get("Principal").is_some() {
        return Err("statement with an empty Principal".into());
    }
    let list = |key: &str| -> Result<Vec<String>, String> {
        s.get(key)
            .map(strings)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let actions = list("Action")?;
    let not_actions = list("NotAction")?;
    if actions.is_empty() && not_actions.is_empty() {
        return Err("statement with neither Action nor NotAction".into());
    }
    let mut conditions = BTreeMap::new();
    if let Some(c) = s.get("Condition") {
        let ops = c.as_object().ok_or("Condition is not an object")?;
        for (op, keys) in ops {
            let keys = keys
                .as_object()
                .ok_or("Condition operator is not an object")?;
            let mut m = BTreeMap::new();
            for (k, v) in keys {
                m.insert(k.clone(), strings(v)?);
            }
            conditions.insert(op.clone(), m);
        }
    }
    Ok(PolicyStatement {
        sid: s.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect,
        principals,
        not_principals,
        actions,
        not_actions,
        resources: list("Resource")?,
        not_resources: list("NotResource")?,
        conditions,
    })
}

/// `"*"`, or `{"AWS": …, "Service": …, "Federated": …}` with a string or a list each, flattened.
fn principal_list(p: &Value) -> Result<Vec<String>, String> {
    match p {
        Value::String(p) => Ok(vec![p.clone()]),
        Value::Object(m) => {
            let mut v = Vec::new();
            for p in m.values() {
                v.extend(strings(p)?);
            }
            Ok(v)
        }
        other => Err(format!("unexpected principal {other}")),
    }
}
