//! A fault-injecting HTTP proxy on 127.0.0.1 (hyper 1) for the fault suite. It stands in front
//! of the moto server (AWS) and of a `wiremock` server (Cloudflare), tells every request's
//! service and operation apart, and applies the first matching rule: forward, answer in the
//! protocol's own error shape, stall, cut the answer off, garble it, or page forever.
//!
//! How a request is named:
//! - AWS service: the SigV4 credential scope of `Authorization` (`…/<region>/<service>/aws4_request`);
//!   a request without one is Cloudflare's.
//! - AWS operation: `Action=` of the form body (query and EC2 protocols), `X-Amz-Target` (JSON
//!   protocols), `…/operation/<Op>` (smithy RPC v2 CBOR: CloudWatch), the REST path (Lambda).
//!   Cloudflare's operation is the path after `/client/v4`.
//!
//! The proxy runs on its own runtime thread, so tests stay synchronous and run the binary with
//! `std::process::Command`; dropping the [`Proxy`] ends it (stalled connections included).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The wire protocol of a service, which decides the shape of canned answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Ec2Query,
    AwsQuery,
    AwsJson,
    RestJson,
    RpcV2Cbor,
    Cloudflare,
}

/// The protocol of an SDK signing name (`monitoring` is CloudWatch).
pub fn protocol_of(service: &str) -> Protocol {
    match service {
        "ec2" => Protocol::Ec2Query,
        "rds" | "elasticache" | "sns" | "sts" | "elasticloadbalancing" => Protocol::AwsQuery,
        "ecs" | "application-autoscaling" | "kms" | "logs" => Protocol::AwsJson,
        "lambda" | "apigateway" => Protocol::RestJson,
        "monitoring" => Protocol::RpcV2Cbor,
        _ => Protocol::Cloudflare,
    }
}

/// What to do with a matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Pass it to the upstream and its answer back.
    Forward,
    /// A canned answer.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The protocol's access-denied error (403).
    AccessDenied,
    /// The protocol's throttling error, with this status (400 or 429).
    Throttling(u16),
    /// A server error with this status (500 or 503).
    ServerError(u16),
    /// What an endpoint answers for an operation it does not implement.
    Unimplemented,
    /// Accept the request and never answer.
    Stall,
    /// Answer the headers (with a length) and never the body.
    StallBody,
    /// Close the connection without answering.
    Reset,
    /// Forward, then send the headers with the full length and half the body, then close.
    Truncate,
    /// Forward, then answer a well-framed first half of the real body (a cut-off document).
    HalfBody,
    /// 200 with a body that is no answer at all.
    Garbage,
    /// An empty page with a fresh next-page token, every time.
    Endless,
}

/// Which requests a rule applies to: a service (SigV4 signing name, or `cloudflare`) and
/// optionally one operation (for Cloudflare: a path prefix after `/client/v4`).
#[derive(Clone, Debug)]
pub struct Rule {
    pub service: String,
    pub operation: Option<String>,
    pub fault: Fault,
}

impl Rule {
    pub fn service(service: &str, fault: Fault) -> Self {
        Rule {
            service: service.into(),
            operation: None,
            fault,
        }
    }

    pub fn operation(service: &str, operation: &str, fault: Fault) -> Self {
        Rule {
            service: service.into(),
            operation: Some(operation.into()),
            fault,
        }
    }

    fn matches(&self, service: &str, operation: &str) -> bool {
        self.service == service
            && self.operation.as_deref().is_none_or(|o| {
                if service == "cloudflare" {
                    operation.starts_with(o)
                } else {
                    o == operation
                }
            })
    }
}

struct State {
    aws: String,
    cloudflare: Option<String>,
    rules: Vec<Rule>,
    /// `service:operation` → requests seen.
    hits: Mutex<BTreeMap<String, usize>>,
    tokens: AtomicUsize,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
}

/// A running proxy. `url` is what the binary is pointed at.
pub struct Proxy {
    pub url: String,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Proxy {
    /// A proxy forwarding AWS requests to `aws` and Cloudflare's to `cloudflare`, applying
    /// `rules` (the first match wins; no match forwards).
    pub fn start(aws: &str, cloudflare: Option<&str>, rules: Vec<Rule>) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let client = {
            let _guard = runtime.enter();
            hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
        };
        let state = Arc::new(State {
            aws: aws.trim_end_matches('/').to_string(),
            cloudflare: cloudflare.map(|c| c.trim_end_matches('/').to_string()),
            rules,
            hits: Mutex::default(),
            tokens: AtomicUsize::new(0),
            client,
        });
        let st = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Proxy {
            url: format!("http://{addr}"),
            state,
            runtime: Some(runtime),
        }
    }

    /// Requests seen, by `service:operation`.
    pub fn hits(&self) -> BTreeMap<String, usize> {
        self.state
            .hits
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default()
    }

    /// Requests seen for `service` (any operation).
    pub fn hits_of(&self, service: &str) -> usize {
        self.hits()
            .iter()
            .filter(|(k, _)| k.split(':').next() == Some(service))
            .map(|(_, n)| n)
            .sum()
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// The SigV4 signing name of a request, `cloudflare` when it is not signed.
fn service_of(req: &hyper::http::request::Parts) -> String {
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| {
            let scope: Vec<&str> = c.split([',', ' ']).next()?.split('/').collect();
            (scope.len() >= 5).then(|| scope[3].to_string())
        })
        .unwrap_or_else(|| "cloudflare".into())
}

fn operation_of(service: &str, req: &hyper::http::request::Parts, body: &[u8]) -> String {
    let path = req.uri.path();
    if service == "cloudflare" {
        return path.strip_prefix("/client/v4").unwrap_or(path).to_string();
    }
    if let Some(t) = req
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return t.rsplit('.').next().unwrap_or(t).to_string();
    }
    if let Some((_, op)) = path.split_once("/operation/") {
        return op.to_string();
    }
    let form = String::from_utf8_lossy(body);
    if let Some(action) = form.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return action.to_string();
    }
    // Lambda's REST paths.
    if path.ends_with("/url") {
        "GetFunctionUrlConfig".into()
    } else if path.ends_with("/policy") {
        "GetPolicy".into()
    } else if path.trim_end_matches('/').ends_with("/functions") {
        "ListFunctions".into()
    } else {
        path.to_string()
    }
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    let (parts, incoming) = req.into_parts();
    let body = incoming
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let service = service_of(&parts);
    let operation = operation_of(&service, &parts, &body);
    if let Ok(mut h) = st.hits.lock() {
        *h.entry(format!("{service}:{operation}")).or_default() += 1;
    }
    let fault = st
        .rules
        .iter()
        .find(|r| r.matches(&service, &operation))
        .map(|r| r.fault.clone())
        .unwrap_or(Fault::Forward);
    let protocol = protocol_of(&service);
    match fault {
        Fault::Forward => forward(&st, &service, parts, body).await,
        Fault::Respond {
            status,
            headers,
            body,
        } => Ok(canned(status, &headers, body)),
        Fault::AccessDenied => Ok(error(protocol, 403, &denied(&service, &operation))),
        Fault::Throttling(status) => Ok(error(protocol, status, &throttled(protocol))),
        Fault::ServerError(status) => Ok(error(protocol, status, &server_error(status))),
        Fault::Unimplemented => Ok(unimplemented(protocol, &operation)),
        Fault::Stall => std::future::pending().await,
        Fault::StallBody => {
            let stream = futures_util::stream::pending::<Result<Frame<Bytes>, std::io::Error>>();
            let mut resp = Response::new(StreamBody::new(stream).boxed());
            resp.headers_mut()
                .insert("content-length", "4096".parse().expect("header"));
            resp.headers_mut().insert(
                "content-type",
                content_type(protocol).parse().expect("header"),
            );
            Ok(resp)
        }
        // An error from the service ends the connection without an answer.
        Fault::Reset => Err(std::io::Error::other("fault: connection reset")),
        Fault::Truncate => {
            let resp = forward(&st, &service, parts, body).await?;
            let (mut head, body) = resp.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let half = bytes.slice(..bytes.len() / 2);
            head.headers.insert(
                "content-length",
                bytes.len().to_string().parse().expect("header"),
            );
            // The headers and the first half go out; a moment later the connection breaks.
            use futures_util::StreamExt;
            let stream = futures_util::stream::iter([Ok(Frame::data(half))]).chain(
                futures_util::stream::once(async {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Err(std::io::Error::other("fault: connection closed mid-body"))
                }),
            );
            Ok(Response::from_parts(
                head,
                BodyExt::boxed(StreamBody::new(stream)),
            ))
        }
        Fault::HalfBody => {
            let resp = forward(&st, &service, parts, body).await?;
            let (mut head, body) = resp.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let half = bytes.slice(..bytes.len() / 2);
            head.headers.remove("content-length");
            Ok(Response::from_parts(head, full(half)))
        }
        Fault::Garbage => Ok(canned(
            200,
            &[("content-type".into(), content_type(protocol).into())],
            b"\x00\xff\xfe garbage, not an answer \xc3\x28 {<".to_vec(),
        )),
        Fault::Endless => {
            let n = st.tokens.fetch_add(1, Ordering::Relaxed) + 1;
            Ok(endless(protocol, &operation, n))
        }
    }
}

async fn forward(
    st: &State,
    service: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Body>, std::io::Error> {
    // CloudWatch: moto does not speak the SDK's protocol (RPC v2 CBOR); the proxy is its
    // upstream, with one alarm (so a cut-off answer has something to cut).
    if service == "monitoring" {
        return Ok(cbor_ok(&cloudwatch_alarms()));
    }
    let base = if service == "cloudflare" {
        st.cloudflare
            .clone()
            .ok_or_else(|| std::io::Error::other("no Cloudflare upstream"))?
    } else {
        st.aws.clone()
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut up = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{base}{path}"));
    for (k, v) in &parts.headers {
        if k != "host" {
            up = up.header(k, v);
        }
    }
    let up = up.body(Full::new(body)).map_err(std::io::Error::other)?;
    let resp = st.client.request(up).await.map_err(std::io::Error::other)?;
    let (head, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let mut resp = Response::from_parts(head, full(bytes.clone()));
    resp.headers_mut().remove("transfer-encoding");
    resp.headers_mut().insert(
        "content-length",
        bytes.len().to_string().parse().expect("header"),
    );
    Ok(resp)
}

fn canned(status: u16, headers: &[(String, String)], body: Vec<u8>) -> Response<Body> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.header("x-amzn-requestid", "fault-0000")
        .body(full(body))
        .expect("response")
}

fn content_type(p: Protocol) -> &'static str {
    match p {
        Protocol::Ec2Query | Protocol::AwsQuery => "text/xml",
        Protocol::AwsJson => "application/x-amz-json-1.1",
        Protocol::RestJson | Protocol::Cloudflare => "application/json",
        Protocol::RpcV2Cbor => "application/cbor",
    }
}

/// An error: code, message and, for Cloudflare, its numeric code.
struct Err3 {
    code: &'static str,
    message: String,
    cf_code: u32,
}

fn denied(service: &str, operation: &str) -> Err3 {
    let (code, message) = match service {
        "ec2" => (
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.".to_string(),
        ),
        _ => (
            if matches!(protocol_of(service), Protocol::AwsQuery) {
                "AccessDenied"
            } else {
                "AccessDeniedException"
            },
            format!(
                "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: \
                 {service}:{operation}"
            ),
        ),
    };
    Err3 {
        code,
        message,
        cf_code: 10000,
    }
}

fn throttled(p: Protocol) -> Err3 {
    Err3 {
        code: match p {
            Protocol::Ec2Query => "RequestLimitExceeded",
            Protocol::AwsQuery => "Throttling",
            Protocol::RestJson => "TooManyRequestsException",
            _ => "ThrottlingException",
        },
        message: "Rate exceeded".into(),
        cf_code: 971,
    }
}

fn server_error(status: u16) -> Err3 {
    Err3 {
        code: if status == 503 {
            "ServiceUnavailable"
        } else {
            "InternalError"
        },
        message: "We encountered an internal error. Please try again.".into(),
        cf_code: 10001,
    }
}

/// A protocol's error answer.
fn error(p: Protocol, status: u16, e: &Err3) -> Response<Body> {
    let ct = ("content-type".to_string(), content_type(p).to_string());
    let (headers, body): (Vec<(String, String)>, Vec<u8>) = match p {
        Protocol::Ec2Query => (
            vec![ct],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code>\
                 <Message>{}</Message></Error></Errors><RequestID>fault-0000</RequestID></Response>",
                e.code, e.message
            )
            .into_bytes(),
        ),
        Protocol::AwsQuery => (
            vec![ct],
            format!(
                "<ErrorResponse xmlns=\"https://fault.invalid/doc/\"><Error><Type>Sender</Type>\
                 <Code>{}</Code><Message>{}</Message></Error><RequestId>fault-0000</RequestId>\
                 </ErrorResponse>",
                e.code, e.message
            )
            .into_bytes(),
        ),
        Protocol::AwsJson => (
            vec![ct],
            serde_json::json!({"__type": e.code, "message": e.message})
                .to_string()
                .into_bytes(),
        ),
        Protocol::RestJson => (
            vec![ct, ("x-amzn-errortype".into(), e.code.into())],
            serde_json::json!({"Type": "User", "message": e.message})
                .to_string()
                .into_bytes(),
        ),
        Protocol::RpcV2Cbor => (
            vec![ct, ("smithy-protocol".into(), "rpc-v2-cbor".into())],
            cbor_map(&[("__type", e.code), ("message", &e.message)]),
        ),
        Protocol::Cloudflare => {
            let mut h = vec![ct, ("cf-ray".into(), "8ffa0170000000aa-AMS".into())];
            if status == 429 {
                h.push(("retry-after".into(), "0".into()));
            }
            (
                h,
                serde_json::json!({"success": false, "errors": [{"code": e.cf_code, "message": e.message}],
                    "messages": [], "result": null})
                .to_string()
                .into_bytes(),
            )
        }
    };
    canned(status, &headers, body)
}

/// What AWS (or, for CloudWatch's protocol, moto) answers for an operation it does not know.
fn unimplemented(p: Protocol, operation: &str) -> Response<Body> {
    match p {
        Protocol::Ec2Query | Protocol::AwsQuery => error(
            p,
            400,
            &Err3 {
                code: "InvalidAction",
                message: format!("The action {operation} is not valid for this web service."),
                cf_code: 0,
            },
        ),
        Protocol::AwsJson | Protocol::RestJson => error(
            p,
            404,
            &Err3 {
                code: "UnknownOperationException",
                message: String::new(),
                cf_code: 0,
            },
        ),
        // moto 5.2.5 for the CloudWatch CBOR path: an HTML 404 page.
        Protocol::RpcV2Cbor => canned(
            404,
            &[("content-type".into(), "text/html; charset=utf-8".into())],
            b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>"
                .to_vec(),
        ),
        Protocol::Cloudflare => error(
            p,
            404,
            &Err3 {
                code: "",
                message: "No route for that URI".into(),
                cf_code: 7000,
            },
        ),
    }
}

/// An empty page whose next-page token is `endless-<n>`: a listing that never ends.
fn endless(p: Protocol, operation: &str, n: usize) -> Response<Body> {
    let token = format!("endless-{n}");
    let ct = vec![("content-type".to_string(), content_type(p).to_string())];
    match p {
        Protocol::Ec2Query => canned(
            200,
            &ct,
            format!(
                "<{operation}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
                 <requestId>fault-0000</requestId><nextToken>{token}</nextToken></{operation}Response>"
            )
            .into_bytes(),
        ),
        Protocol::AwsQuery => canned(
            200,
            &ct,
            format!(
                "<{operation}Response xmlns=\"https://fault.invalid/doc/\"><{operation}Result>\
                 <Marker>{token}</Marker><NextMarker>{token}</NextMarker>\
                 <NextToken>{token}</NextToken></{operation}Result>\
                 <ResponseMetadata><RequestId>fault-0000</RequestId></ResponseMetadata>\
                 </{operation}Response>"
            )
            .into_bytes(),
        ),
        Protocol::AwsJson => canned(
            200,
            &ct,
            serde_json::json!({"nextToken": token, "NextToken": token})
                .to_string()
                .into_bytes(),
        ),
        Protocol::RestJson => canned(
            200,
            &ct,
            // Lambda pages by NextMarker, API Gateway by position (REST) or nextToken (HTTP).
            serde_json::json!({"NextMarker": token, "Functions": [], "position": token,
                "item": [], "nextToken": token, "items": []})
                .to_string()
                .into_bytes(),
        ),
        Protocol::RpcV2Cbor => cbor_ok(&cbor_map(&[("NextToken", &token)])),
        Protocol::Cloudflare => canned(
            200,
            &ct,
            serde_json::json!({"success": true, "errors": [], "messages": [], "result": [],
                "result_info": {"count": 0, "per_page": 100, "cursors": {"after": token}}})
            .to_string()
            .into_bytes(),
        ),
    }
}

/// A successful smithy RPC v2 CBOR answer.
pub fn cbor_ok(body: &[u8]) -> Response<Body> {
    canned(
        200,
        &[
            ("content-type".into(), "application/cbor".into()),
            ("smithy-protocol".into(), "rpc-v2-cbor".into()),
        ],
        body.to_vec(),
    )
}

/// The canned answer of a successful CloudWatch call in smithy RPC v2 CBOR: `body` is the map.
pub fn cbor_respond(body: Vec<u8>) -> Fault {
    Fault::Respond {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/cbor".into()),
            ("smithy-protocol".into(), "rpc-v2-cbor".into()),
        ],
        body,
    }
}

/// DescribeAlarms' answer as the proxy serves it: one metric alarm without actions.
pub fn cloudwatch_alarms() -> Vec<u8> {
    let mut out = Vec::new();
    cbor_head(&mut out, 5, 1);
    cbor_text(&mut out, "MetricAlarms");
    cbor_head(&mut out, 4, 1);
    let alarm = cbor_map(&[
        ("AlarmName", "estate-probe"),
        (
            "AlarmArn",
            "arn:aws:cloudwatch:eu-north-1:123456789012:alarm:estate-probe",
        ),
        ("Namespace", "AWS/RDS"),
        ("MetricName", "CPUUtilization"),
        ("StateValue", "OK"),
    ]);
    out.extend(alarm);
    out
}

/// A CBOR map of text keys to text values (all this suite needs to speak RPC v2 CBOR).
pub fn cbor_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_head(&mut out, 5, pairs.len() as u64);
    for (k, v) in pairs {
        cbor_text(&mut out, k);
        cbor_text(&mut out, v);
    }
    out
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}
