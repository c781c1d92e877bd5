//! Lambda: functions with their VPC placement, function URL configuration and resource-based
//! policy (GetPolicy) parsed into statements with principals, actions and conditions. The two
//! per-function calls run together, for several functions at once ([`Part::from_each`]).
//! "Not found" for the URL or the policy is a value (no URL, no policy); any other failure
//! leaves the field unknown and is reported. `normalize_*` and [`parse_policy`] are pure.
//!
//! The SDK also has the newer `GetResourcePolicy` (by function ARN). It is not called: a
//! function has one resource-based policy, which AddPermission and PutResourcePolicy both
//! write and GetPolicy returns whole, with every statement's principals and conditions, which
//! is all the rules read. A second call per function would double the calls and ask the user
//! for one more permission (`lambda:GetResourcePolicy`) for the same document.

use std::collections::BTreeMap;

use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput;
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

/// The function's URL configuration and resource-based policy, read together.
async fn url_and_policy(client: &Client, ctx: &Ctx, mut r: Resource) -> Part {
    let mut part = Part::default();
    let Attrs::LambdaFunction(attrs) = &mut r.attrs else {
        return part;
    };
    let name = attrs.function_name.clone().unwrap_or_default();
    let (url, policy) = tokio::join!(
        client.get_function_url_config().function_name(&name).send(),
        client.get_policy().function_name(&name).send(),
    );
    match url {
        Ok(out) => attrs.function_url = Some(normalize_function_url(Some(&out))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            attrs.function_url = Some(normalize_function_url(None))
        }
        Err(e) => part
            .errors
            .push(ctx.error(SERVICE, "GetFunctionUrlConfig", KINDS, &e)),
    }
    match policy {
        Ok(out) => match out.policy().map(parse_policy) {
            Some(Ok(statements)) => attrs.policy_statements = Some(statements),
            Some(Err(why)) => part.errors.push(unparsable(ctx, &name, &why)),
            None => part
                .errors
                .push(unparsable(ctx, &name, "the answer holds no policy")),
        },
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            attrs.policy_statements = Some(Vec::new())
        }
        Err(e) => part.errors.push(ctx.error(SERVICE, "GetPolicy", KINDS, &e)),
    }
    part.resources.push(r);
    part
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
    Some(ctx.resource(
        id,
        Some(name.to_string()),
        BTreeMap::new(),
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
            ..Default::default()
        }),
    ))
}

/// The URL configuration; `None` is "the function has no URL".
pub fn normalize_function_url(out: Option<&GetFunctionUrlConfigOutput>) -> FunctionUrl {
    match out {
        Some(o) => FunctionUrl {
            configured: true,
            url: Some(o.function_url().to_string()).filter(|u| !u.is_empty()),
            auth_type: Some(o.auth_type().as_str().to_string()),
        },
        None => FunctionUrl {
            configured: false,
            url: None,
            auth_type: None,
        },
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
        Some(Value::String(p)) => vec![p.clone()],
        Some(Value::Object(m)) => {
            let mut v = Vec::new();
            for p in m.values() {
                v.extend(strings(p)?);
            }
            v
        }
        Some(other) => return Err(format!("unexpected Principal {other}")),
    };
    let actions = s
        .get("Action")
        .map(strings)
        .transpose()?
        .unwrap_or_default();
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
        actions,
        conditions,
    })
}
