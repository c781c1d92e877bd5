//! API Gateway, as the webhook's other possible HTTPS endpoint and as a way into the VPC: REST
//! APIs (v1) with their endpoint types, whether the default `execute-api` endpoint is switched
//! off, their resource policy and every method's integration (GetResources with the methods
//! embedded, one call per API), and HTTP and WebSocket APIs (v2) with their integrations (one call
//! per API); then, in `links`, the VPC links of private integrations and the custom domains that
//! serve each API. An integration's Lambda function is read out of its invocation URI.
//! `normalize_*`, [`function_of_uri`] and [`load_balancer_of`] are pure.
//!
//! It must not judge who can call an API (`link` does, with the policy) nor read anything but
//! configuration. A listing that fails makes its kind unknown; an API whose integrations could
//! not be read keeps them null.

use aws_sdk_apigateway as v1;
use aws_sdk_apigatewayv2 as v2;

mod links;

use super::lambda::parse_policy;
use super::{AllPages, Ctx, Part};
use crate::model::*;

const SERVICE: &str = "apigateway";

/// The function an integration URI invokes: `arn:aws:apigateway:<region>:lambda:path/2015-03-31/
/// functions/<function arn>/invocations`, or a function ARN itself (HTTP APIs accept both).
pub fn function_of_uri(uri: &str) -> Option<String> {
    if uri.starts_with("arn:aws")
        && uri.contains(":lambda:")
        && uri.contains(":function:")
        && !uri.contains("/functions/")
    {
        return Some(uri.to_string());
    }
    let rest = uri.split("/functions/").nth(1)?;
    let arn = rest.strip_suffix("/invocations").unwrap_or(rest);
    arn.contains(":function:").then(|| arn.to_string())
}

fn integration(route: Option<String>, kind: Option<String>, uri: Option<&str>) -> ApiIntegration {
    ApiIntegration {
        route,
        integration_type: kind,
        uri: uri.map(str::to_string),
        function_arn: uri.and_then(function_of_uri),
        ..Default::default()
    }
}

/// The load balancer of a listener ARN (`…:listener/net/name/lb/listener` →
/// `…:loadbalancer/net/name/lb`), or the load balancer ARN itself; `None` for anything else
/// (a Cloud Map service, a stage variable).
pub fn load_balancer_of(arn: &str) -> Option<String> {
    if !arn.starts_with("arn:") || !arn.contains(":elasticloadbalancing:") {
        return None;
    }
    let (head, tail) = arn
        .split_once(":listener/")
        .or_else(|| arn.split_once(":loadbalancer/"))?;
    let parts: Vec<&str> = tail.split('/').collect();
    (parts.len() >= 3).then(|| format!("{head}:loadbalancer/{}", parts[..3].join("/")))
}

/// A private integration as the answer gives it: the link named, its load balancers when the
/// integration names them itself (an HTTP API's listener, a REST API's integration target).
fn private(connection: Option<&str>, link: Option<&str>, target: Option<&str>) -> Option<VpcLink> {
    (connection == Some("VPC_LINK")).then(|| VpcLink {
        id: link.map(str::to_string),
        load_balancer_arns: target.and_then(load_balancer_of).map(|lb| vec![lb]),
        security_group_ids: None,
        subnet_ids: Vec::new(),
    })
}

pub async fn collect(v1c: &v1::Client, v2c: &v2::Client, ctx: &Ctx) -> Part {
    let (rest, http) = tokio::join!(rest_apis(v1c, ctx), http_apis(v2c, ctx));
    let mut part = rest;
    part.extend(http);
    if part.resources.is_empty() {
        return part;
    }
    links::vpc_links(v1c, v2c, ctx, &mut part).await;
    links::custom_domains(v1c, v2c, ctx, &mut part).await;
    part
}

async fn rest_apis(client: &v1::Client, ctx: &Ctx) -> Part {
    let pages = client
        .get_rest_apis()
        .into_paginator()
        .send()
        .all_pages(|p| p.position())
        .await;
    let mut errors = Vec::new();
    let apis: Vec<Resource> = match pages {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.items())
            .filter_map(|a| {
                let r = normalize_rest_api(ctx, a)?;
                if let Attrs::RestApi(x) = &r.attrs {
                    if x.policy_statements.is_none() {
                        errors.push(unreadable(
                            ctx,
                            kind::REST_API,
                            &format!(
                                "the resource policy of REST API {} is not readable JSON",
                                x.api_id.as_deref().unwrap_or("?")
                            ),
                        ));
                    }
                }
                Some(r)
            })
            .collect(),
        Err(e) => {
            let mut part = Part::default();
            part.errors
                .push(ctx.error(SERVICE, "GetRestApis", &[kind::REST_API], &e));
            return part;
        }
    };
    let mut part = Part::from_each(apis, |mut r| async move {
        let mut part = Part::default();
        let Attrs::RestApi(a) = &mut r.attrs else {
            return part;
        };
        let id = a.api_id.clone().unwrap_or_default();
        let pages = client
            .get_resources()
            .rest_api_id(&id)
            .embed("methods")
            .into_paginator()
            .send()
            .all_pages(|p| p.position())
            .await;
        match pages {
            Ok(pages) => {
                let mut found = Vec::new();
                for res in pages.iter().flat_map(|p| p.items()) {
                    let path = res.path().unwrap_or("/");
                    for (verb, m) in res.resource_methods().into_iter().flatten() {
                        if let Some(i) = m.method_integration() {
                            let connection = i.connection_type().map(|c| c.as_str());
                            found.push(ApiIntegration {
                                connection_type: connection.map(str::to_string),
                                vpc_link: private(
                                    connection,
                                    i.connection_id(),
                                    i.integration_target(),
                                ),
                                ..integration(
                                    Some(format!("{verb} {path}")),
                                    i.r#type().map(|t| t.as_str().to_string()),
                                    i.uri(),
                                )
                            });
                        }
                    }
                }
                found.sort_by(|a, b| a.route.cmp(&b.route));
                a.integrations = Some(found);
            }
            Err(e) => part
                .errors
                .push(ctx.error(SERVICE, "GetResources", &[kind::REST_API], &e)),
        }
        part.resources.push(r);
        part
    })
    .await;
    part.errors.extend(errors);
    part
}

/// A REST API without its integrations (read by another call). A policy that is there but
/// cannot be read is left null (unknown); the caller reports it.
pub fn normalize_rest_api(ctx: &Ctx, a: &v1::types::RestApi) -> Option<Resource> {
    let id = a.id()?;
    // The policy comes as escaped JSON text (`{\"Version\":…}`).
    let policy = match a.policy() {
        None | Some("") => Some(Vec::new()),
        Some(text) => {
            let unescaped = text.replace("\\\"", "\"").replace("\\\\", "\\");
            parse_policy(&unescaped).ok()
        }
    };
    Some(
        ctx.resource(
            format!("arn:aws:apigateway:{}::/restapis/{id}", ctx.region),
            a.name().map(str::to_string),
            super::tags(
                a.tags()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
            ),
            Attrs::RestApi(RestApi {
                api_id: Some(id.to_string()),
                name: a.name().map(str::to_string),
                endpoint_types: a
                    .endpoint_configuration()
                    .map(|e| e.types().iter().map(|t| t.as_str().to_string()).collect())
                    .unwrap_or_default(),
                disable_execute_api_endpoint: Some(a.disable_execute_api_endpoint()),
                custom_domains: None,
                policy_statements: policy,
                integrations: None,
            }),
        ),
    )
}

async fn http_apis(client: &v2::Client, ctx: &Ctx) -> Part {
    // GetApis pages by NextToken; the SDK has no paginator for it.
    let mut apis = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        match client.get_apis().set_next_token(token.clone()).send().await {
            Ok(out) => {
                apis.extend(
                    out.items()
                        .iter()
                        .filter_map(|a| normalize_http_api(ctx, a)),
                );
                match out.next_token() {
                    Some(t)
                        if !t.is_empty()
                            && Some(t) != token.as_deref()
                            && pages < super::MAX_PAGES =>
                    {
                        token = Some(t.to_string());
                        pages += 1;
                    }
                    Some(t) if !t.is_empty() => {
                        let endless = super::EndlessPagination {
                            pages: pages + 1,
                            repeated: Some(t) == token.as_deref(),
                        };
                        let mut part = Part::default();
                        part.errors.push(CollectionError {
                            message: format!("{SERVICE} GetApis: {endless}"),
                            ..unreadable(ctx, kind::HTTP_API, "")
                        });
                        return part;
                    }
                    _ => break,
                }
            }
            Err(e) => {
                let mut part = Part::default();
                part.errors
                    .push(ctx.error(SERVICE, "GetApis", &[kind::HTTP_API], &e));
                return part;
            }
        }
    }
    Part::from_each(apis, |mut r| async move {
        let mut part = Part::default();
        let Attrs::HttpApi(a) = &mut r.attrs else {
            return part;
        };
        let id = a.api_id.clone().unwrap_or_default();
        match client.get_integrations().api_id(&id).send().await {
            Ok(out) if out.next_token().is_none_or(str::is_empty) => {
                let mut found: Vec<ApiIntegration> = out
                    .items()
                    .iter()
                    .map(|i| {
                        let connection = i.connection_type().map(|c| c.as_str());
                        ApiIntegration {
                            connection_type: connection.map(str::to_string),
                            vpc_link: private(connection, i.connection_id(), i.integration_uri()),
                            ..integration(
                                None,
                                i.integration_type().map(|t| t.as_str().to_string()),
                                i.integration_uri(),
                            )
                        }
                    })
                    .collect();
                found.sort_by(|a, b| a.uri.cmp(&b.uri));
                a.integrations = Some(found);
            }
            // More than one page of integrations on one API: read as unknown rather than half.
            Ok(_) => part.errors.push(unreadable(
                ctx,
                kind::HTTP_API,
                &format!("API {id} has more integrations than one GetIntegrations page"),
            )),
            Err(e) => {
                part.errors
                    .push(ctx.error(SERVICE, "GetIntegrations", &[kind::HTTP_API], &e))
            }
        }
        part.resources.push(r);
        part
    })
    .await
}

pub fn normalize_http_api(ctx: &Ctx, a: &v2::types::Api) -> Option<Resource> {
    let id = a.api_id()?;
    Some(
        ctx.resource(
            format!("arn:aws:apigateway:{}::/apis/{id}", ctx.region),
            a.name().filter(|n| !n.is_empty()).map(str::to_string),
            super::tags(
                a.tags()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
            ),
            Attrs::HttpApi(HttpApi {
                api_id: Some(id.to_string()),
                name: a.name().filter(|n| !n.is_empty()).map(str::to_string),
                protocol_type: a.protocol_type().map(|p| p.as_str().to_string()),
                api_endpoint: a.api_endpoint().map(str::to_string),
                disable_execute_api_endpoint: a.disable_execute_api_endpoint(),
                custom_domains: None,
                integrations: None,
            }),
        ),
    )
}

/// An answer that could not be read whole: the kind is incomplete.
pub(super) fn unreadable(ctx: &Ctx, kind: &str, why: &str) -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: SERVICE.into(),
        kinds: vec![kind.to_string()],
        kind: ErrorKind::Other,
        message: format!("apigateway: {why}"),
        region: Some(ctx.region.clone()),
        account: None,
    }
}
