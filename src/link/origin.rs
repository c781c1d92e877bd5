//! The origins of a Lambda function: every endpoint through which something outside the VPC can
//! invoke it — each function URL (whatever its qualifier), each REST or HTTP API whose
//! integration calls it, each load balancer forwarding to it — with who can call each, judged by
//! its auth type and resource policy the way IAM judges them (`iam`). The spec wants the webhook
//! reachable only from Cloudflare: an origin is Cloudflare-only when every caller outside the
//! account is confined to Cloudflare's ranges.
//!
//! It must not guess: an unread URL list, policy or API listing, an auth type or condition it
//! cannot evaluate, or Cloudflare's ranges unread make the origin's verdict unknown, with the
//! reason beside it.

use super::edge::function_arn;
use super::iam::{self, Auth, Request};
use super::net::RangeSet;
use super::Ctx;
use crate::model::*;

/// The account of an ARN (`arn:aws:lambda:eu-west-1:123456789012:function:x`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// An origin in words: "function URL https://… (NONE auth), open to anyone from 0.0.0.0/0".
pub(super) fn said(o: &Origin) -> String {
    if o.served == Some(false) {
        return format!("{}, which nothing serves", o.endpoint);
    }
    match (&o.why_unknown, o.open_to.as_slice()) {
        (Some(why), _) => format!("{}, open to whom is unknown ({why})", o.endpoint),
        (None, []) => format!("{}, open to nobody outside the account", o.endpoint),
        (None, open_to) => format!("{}, open to {}", o.endpoint, open_to.join(" and ")),
    }
}

fn unknown(endpoint: String, why: String) -> Origin {
    Origin {
        endpoint,
        open_to: Vec::new(),
        cloudflare_only: None,
        served: None,
        why_unknown: Some(why),
    }
}

fn http_name(r: &Resource, a: &HttpApi) -> String {
    format!(
        "{} API {}",
        a.protocol_type.as_deref().unwrap_or("HTTP"),
        a.api_id.as_deref().unwrap_or(&r.id)
    )
}

/// The endpoints that serve an API: its default endpoint when it is on, and its custom domains
/// (which serve it whether or not the default endpoint is on). `Err`: none (closed), or which
/// is unknown.
fn endpoints(
    name: String,
    default_off: Option<bool>,
    default_url: Option<&str>,
    domains: Option<&[String]>,
) -> Result<String, Origin> {
    let domains_text = |d: &[String]| format!("custom domain {}", d.join(", "));
    match (default_off, domains) {
        (None, _) => Err(unknown(
            name,
            "whether its default endpoint is on is unknown".into(),
        )),
        (Some(true), None) => Err(unknown(
            name,
            "its default endpoint is off, and whether a custom domain serves it could not be read"
                .into(),
        )),
        (Some(true), Some([])) => Err(closed(name, "default endpoint disabled, no custom domain")),
        (Some(true), Some(d)) => Ok(format!("{name} ({})", domains_text(d))),
        (Some(false), d) => {
            let default = match default_url {
                Some(u) => format!("default endpoint {u}"),
                None => "default endpoint".into(),
            };
            Ok(match d {
                Some(d) if !d.is_empty() => format!("{name} ({default}, {})", domains_text(d)),
                _ => format!("{name} ({default})"),
            })
        }
    }
}

/// An origin known to answer from outside (whoever may call it).
fn served(o: Origin) -> Origin {
    Origin {
        served: Some(true),
        ..o
    }
}

fn closed(endpoint: String, why: &str) -> Origin {
    Origin {
        served: Some(false),
        endpoint: format!("{endpoint} ({why})"),
        open_to: Vec::new(),
        cloudflare_only: Some(true),
        why_unknown: None,
    }
}

impl Ctx<'_> {
    /// Cloudflare's ranges, when they were read.
    fn cloudflare_ranges(&self) -> Option<&RangeSet> {
        if self.any_errored(&[kind::CLOUDFLARE_IP_RANGES]) {
            None
        } else {
            self.cf_ranges.as_ref()
        }
    }

    /// Every origin of the function, and whether all of them are Cloudflare-only. `None` when
    /// the list itself is unknown (the URLs or the APIs could not be read).
    pub(super) fn origins(
        &self,
        r: &Resource,
        l: &LambdaFunction,
    ) -> (Option<Vec<Origin>>, Option<bool>, Option<bool>) {
        let Some(urls) = l.function_urls.as_ref() else {
            return (None, None, None);
        };
        if self.any_errored(&[kind::REST_API, kind::HTTP_API]) {
            return (None, None, None);
        }
        let cf = self.cloudflare_ranges();
        let account = r.account.as_deref().or_else(|| arn_account(&r.id));
        let mut origins: Vec<Origin> = urls
            .iter()
            .map(|u| {
                // The function's own URL answers to the function's policy, an alias's to the
                // alias's.
                let policy = match u.qualifier {
                    None => l.policy_statements.as_deref(),
                    Some(_) => u.policy_statements.as_deref(),
                };
                served(self.url_origin(u, policy, account, cf))
            })
            .collect();
        for &(ar, a) in &self.rest_apis {
            match self.invokes(a.integrations.as_deref(), &r.id) {
                Some(false) => {}
                Some(true) => origins.push(self.rest_origin(ar, a)),
                None => origins.push(unknown(
                    format!("REST API {}", a.api_id.as_deref().unwrap_or(&ar.id)),
                    "its integrations could not be read".into(),
                )),
            }
        }
        for &(ar, a) in &self.http_apis {
            match self.invokes(a.integrations.as_deref(), &r.id) {
                Some(false) => {}
                None => origins.push(unknown(
                    http_name(ar, a),
                    "its integrations could not be read".into(),
                )),
                Some(true) => origins.push(self.http_origin(ar, a)),
            }
        }
        if let Some(why) = &self.edge_ways.unknown {
            origins.push(unknown("load balancers".into(), why.clone()));
        }
        for w in self.edge_ways.by_target.get(&r.id).into_iter().flatten() {
            if let Some(front) = &w.front {
                // Through an API: who can call the API is who reaches the function.
                origins.push(Origin {
                    endpoint: w.text.clone(),
                    served: front.served.filter(|_| w.open == Some(true)),
                    ..front.clone()
                });
                continue;
            }
            let origin = match (&w.sources, w.open, cf) {
                (_, _, None) => unknown(w.text.clone(), "Cloudflare's ranges were not read".into()),
                (Some(s), _, Some(cf)) => Origin {
                    endpoint: w.text.clone(),
                    open_to: vec![format!("anyone from {}", s.describe())],
                    cloudflare_only: Some(s.within(cf)),
                    ..Default::default()
                },
                (None, _, Some(_)) => unknown(
                    w.text.clone(),
                    "what the load balancer admits is unknown".into(),
                ),
            };
            // Reached from the internet, it serves; a way not known to be open, maybe.
            origins.push(Origin {
                served: (w.open == Some(true)).then_some(true),
                ..origin
            });
        }
        let all = if origins.iter().any(|o| o.cloudflare_only == Some(false)) {
            Some(false)
        } else if origins.iter().all(|o| o.cloudflare_only == Some(true)) {
            Some(true)
        } else {
            None
        };
        let served = if origins.iter().any(|o| o.served == Some(true)) {
            Some(true)
        } else if origins.iter().all(|o| o.served == Some(false)) {
            Some(false)
        } else {
            None
        };
        (Some(origins), all, served)
    }

    /// Whether some integration calls the function (by ARN, any qualifier). `None`: unknown.
    fn invokes(&self, integrations: Option<&[ApiIntegration]>, function: &str) -> Option<bool> {
        Some(integrations?.iter().any(|i| {
            i.function_arn
                .as_deref()
                .is_some_and(|f| function_arn(f) == function)
        }))
    }

    fn url_origin(
        &self,
        u: &FunctionUrl,
        policy: Option<&[PolicyStatement]>,
        account: Option<&str>,
        cf: Option<&RangeSet>,
    ) -> Origin {
        let endpoint = match (&u.qualifier, &u.url) {
            (Some(q), Some(url)) => format!("function URL of alias {q} {url}"),
            (Some(q), None) => format!("function URL of alias {q}"),
            (None, Some(url)) => format!("function URL {url}"),
            (None, None) => "function URL".into(),
        };
        let auth = match u.auth_type.as_deref() {
            Some("NONE") => Auth::Anonymous,
            Some("AWS_IAM") => Auth::Signed,
            other => {
                return unknown(
                    endpoint,
                    format!(
                        "its auth type {} is not one this audit evaluates",
                        other.unwrap_or("(unread)")
                    ),
                )
            }
        };
        let Some(stmts) = policy else {
            return unknown(endpoint, "its resource policy could not be read".into());
        };
        let Some(cf) = cf else {
            return unknown(endpoint, "Cloudflare's ranges were not read".into());
        };
        let req = Request {
            action: "lambda:InvokeFunctionUrl",
            auth,
            url_auth_type: u.auth_type.as_deref(),
            account,
        };
        match iam::access(stmts, &req, cf) {
            Ok(a) => Origin {
                endpoint: format!(
                    "{endpoint} ({} auth)",
                    u.auth_type.as_deref().unwrap_or("?")
                ),
                open_to: a.open_to,
                cloudflare_only: Some(a.cloudflare_only),
                ..Default::default()
            },
            Err(why) => unknown(endpoint, why),
        }
    }

    /// Who can call an HTTP API: anyone, when its default endpoint is on (it has no resource
    /// policy).
    pub(super) fn http_origin(&self, r: &Resource, a: &HttpApi) -> Origin {
        let cf = self.cloudflare_ranges();
        match endpoints(
            http_name(r, a),
            a.disable_execute_api_endpoint,
            a.api_endpoint.as_deref(),
            a.custom_domains.as_deref(),
        ) {
            Err(o) => o,
            Ok(endpoint) => Origin {
                endpoint,
                open_to: vec![format!("anyone from {}", RangeSet::all().describe())],
                cloudflare_only: cf.map(|_| false),
                served: Some(true),
                why_unknown: cf
                    .is_none()
                    .then(|| "Cloudflare's ranges were not read".into()),
            },
        }
    }

    /// Who can call a REST API: its endpoint types and its resource policy.
    pub(super) fn rest_origin(&self, r: &Resource, a: &RestApi) -> Origin {
        let name = format!("REST API {}", a.api_id.as_deref().unwrap_or(&r.id));
        if !a.endpoint_types.is_empty() && a.endpoint_types.iter().all(|t| t == "PRIVATE") {
            return closed(name, "private API: reachable only through VPC endpoints");
        }
        match endpoints(
            name.clone(),
            a.disable_execute_api_endpoint,
            None,
            a.custom_domains.as_deref(),
        ) {
            Ok(endpoint) => served(self.rest_access(r, a, name, endpoint)),
            Err(o) => o,
        }
    }

    /// Who can call a REST API that is served at `endpoint`: its resource policy.
    fn rest_access(&self, r: &Resource, a: &RestApi, name: String, endpoint: String) -> Origin {
        let cf = self.cloudflare_ranges();
        let Some(stmts) = a.policy_statements.as_ref() else {
            return unknown(name, "its resource policy could not be read".into());
        };
        let Some(cf) = cf else {
            return unknown(name, "Cloudflare's ranges were not read".into());
        };
        // Without a resource policy a REST API's methods are open to anyone (method
        // authorizers are not read, so they cannot count as closing it).
        if stmts.is_empty() {
            return Origin {
                endpoint,
                open_to: vec![format!("anyone from {}", RangeSet::all().describe())],
                cloudflare_only: Some(false),
                ..Default::default()
            };
        }
        let req = Request {
            action: "execute-api:Invoke",
            auth: Auth::Anonymous,
            url_auth_type: None,
            account: arn_account(&r.id),
        };
        match iam::access(stmts, &req, cf) {
            Ok(acc) => Origin {
                endpoint,
                open_to: acc.open_to,
                cloudflare_only: Some(acc.cloudflare_only),
                ..Default::default()
            },
            Err(why) => unknown(endpoint, why),
        }
    }
}
