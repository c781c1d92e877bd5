//! What connects an API beyond its integrations: the VPC links its private integrations go
//! through (into the VPC, to load balancers) and the custom domain names that serve it (a way in
//! even when its default endpoint is off). Both are read only when the region has an API.
//!
//! It must not judge reachability (`link` does). A listing that fails leaves what it would
//! have told unknown on every API it concerns, and says so as a collection error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_apigateway as v1;
use aws_sdk_apigatewayv2 as v2;

use super::{load_balancer_of, unreadable, SERVICE};
use crate::collect::aws::{AllPages, Ctx, Part};
use crate::model::*;

/// Reads the VPC links of the private integrations (only when there is one: an estate without
/// them makes no call) and completes each integration with its link's load balancers, groups and
/// subnets. A link that is not listed, or a listing that fails, leaves them unknown.
pub(super) async fn vpc_links(v1c: &v1::Client, v2c: &v2::Client, ctx: &Ctx, part: &mut Part) {
    let mut need_v1 = false;
    let mut need_v2 = false;
    for r in &part.resources {
        let (ints, v2) = match &r.attrs {
            Attrs::RestApi(a) => (a.integrations.as_deref(), false),
            Attrs::HttpApi(a) => (a.integrations.as_deref(), true),
            _ => continue,
        };
        for i in ints.into_iter().flatten() {
            if i.connection_type.as_deref() == Some("VPC_LINK") {
                *if v2 { &mut need_v2 } else { &mut need_v1 } = true;
            }
        }
    }
    // Link id → (load balancers, groups, subnets).
    type Links = HashMap<String, (Vec<String>, Vec<String>, Vec<String>)>;
    let mut v1_links: Option<Links> = None;
    let mut v2_links: Option<Links> = None;
    if need_v1 {
        match v1c
            .get_vpc_links()
            .into_paginator()
            .send()
            .all_pages(|p| p.position())
            .await
        {
            Ok(pages) => {
                v1_links = Some(
                    pages
                        .iter()
                        .flat_map(|p| p.items())
                        .filter_map(|l| {
                            Some((
                                l.id()?.to_string(),
                                (l.target_arns().to_vec(), Vec::new(), Vec::new()),
                            ))
                        })
                        .collect(),
                )
            }
            Err(e) => part
                .errors
                .push(ctx.error(SERVICE, "GetVpcLinks", &[kind::REST_API], &e)),
        }
    }
    if need_v2 {
        match v2c.get_vpc_links().send().await {
            Ok(out) if out.next_token().is_none_or(str::is_empty) => {
                v2_links = Some(
                    out.items()
                        .iter()
                        .filter_map(|l| {
                            Some((
                                l.vpc_link_id()?.to_string(),
                                (
                                    Vec::new(),
                                    l.security_group_ids().to_vec(),
                                    l.subnet_ids().to_vec(),
                                ),
                            ))
                        })
                        .collect(),
                )
            }
            Ok(_) => part.errors.push(unreadable(
                ctx,
                kind::HTTP_API,
                "the VPC links take more than one GetVpcLinks page",
            )),
            Err(e) => part
                .errors
                .push(ctx.error(SERVICE, "GetVpcLinks", &[kind::HTTP_API], &e)),
        }
    }
    for r in &mut part.resources {
        let (ints, links, v2) = match &mut r.attrs {
            Attrs::RestApi(a) => (a.integrations.as_mut(), v1_links.as_ref(), false),
            Attrs::HttpApi(a) => (a.integrations.as_mut(), v2_links.as_ref(), true),
            _ => continue,
        };
        for link in ints
            .into_iter()
            .flatten()
            .filter_map(|i| i.vpc_link.as_mut())
        {
            let found = links.zip(link.id.as_ref()).and_then(|(l, id)| l.get(id));
            match (found, v2) {
                // A REST API's integration names its load balancer only through its link (or
                // its own target, already read); the link has no groups of its own.
                (Some((targets, _, _)), false) => {
                    if link.load_balancer_arns.is_none() {
                        link.load_balancer_arns =
                            Some(targets.iter().filter_map(|t| load_balancer_of(t)).collect());
                    }
                    link.security_group_ids = Some(Vec::new());
                }
                (Some((_, groups, subnets)), true) => {
                    link.security_group_ids = Some(groups.clone());
                    link.subnet_ids = subnets.clone();
                }
                // Not listed (or a stage variable): where it goes is unknown.
                (None, _) => link.load_balancer_arns = None,
            }
        }
    }
}

/// The custom domain names of every API: API Gateway's domains with their base path mappings
/// (REST APIs, edge-optimized or regional) and API Gateway v2's with their API mappings (HTTP
/// APIs, and REST APIs on regional domains). A failed read leaves the domains of every API
/// unknown.
pub(super) async fn custom_domains(v1c: &v1::Client, v2c: &v2::Client, ctx: &Ctx, part: &mut Part) {
    let (rest, http) = tokio::join!(rest_domains(v1c, ctx), http_domains(v2c, ctx));
    let mut by_api: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut known = true;
    for found in [rest, http] {
        match found {
            Ok(pairs) => {
                for (api, domain) in pairs {
                    by_api.entry(api).or_default().insert(domain);
                }
            }
            Err(e) => {
                part.errors.push(e);
                known = false;
            }
        }
    }
    for r in &mut part.resources {
        let (id, domains) = match &mut r.attrs {
            Attrs::RestApi(a) => (a.api_id.as_deref(), &mut a.custom_domains),
            Attrs::HttpApi(a) => (a.api_id.as_deref(), &mut a.custom_domains),
            _ => continue,
        };
        *domains = known.then(|| {
            id.and_then(|id| by_api.get(id))
                .map(|d| d.iter().cloned().collect())
                .unwrap_or_default()
        });
    }
}

/// (API id, domain) for every base path mapping of API Gateway's custom domains.
async fn rest_domains(
    client: &v1::Client,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, CollectionError> {
    let kinds = &[kind::REST_API, kind::HTTP_API];
    let pages = client
        .get_domain_names()
        .into_paginator()
        .send()
        .all_pages(|p| p.position())
        .await
        .map_err(|e| ctx.error(SERVICE, "GetDomainNames", kinds, &e))?;
    let mut out = Vec::new();
    for name in pages
        .iter()
        .flat_map(|p| p.items())
        .filter_map(|d| d.domain_name())
    {
        let mappings = client
            .get_base_path_mappings()
            .domain_name(name)
            .into_paginator()
            .send()
            .all_pages(|p| p.position())
            .await
            .map_err(|e| ctx.error(SERVICE, "GetBasePathMappings", kinds, &e))?;
        out.extend(
            mappings
                .iter()
                .flat_map(|p| p.items())
                .filter_map(|m| Some((m.rest_api_id()?.to_string(), name.to_string()))),
        );
    }
    Ok(out)
}

/// (API id, domain) for every API mapping of API Gateway v2's custom domains.
async fn http_domains(
    client: &v2::Client,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, CollectionError> {
    let kinds = &[kind::REST_API, kind::HTTP_API];
    let more = |op: &str| {
        unreadable(
            ctx,
            kind::HTTP_API,
            &format!("the custom domains take more than one {op} page"),
        )
    };
    let out = client
        .get_domain_names()
        .send()
        .await
        .map_err(|e| ctx.error(SERVICE, "GetDomainNames", kinds, &e))?;
    if out.next_token().is_some_and(|t| !t.is_empty()) {
        return Err(more("GetDomainNames"));
    }
    let mut pairs = Vec::new();
    for name in out.items().iter().filter_map(|d| d.domain_name()) {
        let m = client
            .get_api_mappings()
            .domain_name(name)
            .send()
            .await
            .map_err(|e| ctx.error(SERVICE, "GetApiMappings", kinds, &e))?;
        if m.next_token().is_some_and(|t| !t.is_empty()) {
            return Err(more("GetApiMappings"));
        }
        pairs.extend(
            m.items()
                .iter()
                .filter_map(|m| Some((m.api_id()?.to_string(), name.to_string()))),
        );
    }
    Ok(pairs)
}
