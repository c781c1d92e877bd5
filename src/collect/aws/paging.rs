//! Reading a paginated call whole or not at all: every page of a listing ([`all_pages`]), a
//! token that does not end (repeated, or more than [`MAX_PAGES`] pages) turned into an
//! [`EndlessPagination`] error, and the [`AnswerCheck`] interceptor, which makes a successful
//! answer whose XML document is cut off an unreadable one.
//!
//! It must never hand back a partial list as a complete one, and knows nothing of services,
//! kinds or collection errors: the caller turns its errors into those (`errors` classifies
//! them).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Pages one paginated call may take before its token counts as one that never ends. A real
/// listing this long (a million EC2 instances at 1,000 a page) is far beyond any estate; a
/// service that keeps answering with a next token would otherwise be read until `--timeout`.
pub const MAX_PAGES: usize = 1000;

/// Why a paginated read was abandoned: the service kept answering with a next-page token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndlessPagination {
    /// Pages read when it was abandoned.
    pub pages: usize,
    /// The token repeated the previous page's (else: more than [`MAX_PAGES`] pages).
    pub repeated: bool,
}

impl std::fmt::Display for EndlessPagination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.repeated {
            write!(
                f,
                "the pagination token did not end: page {} repeated the previous page's token; \
                 refusing to read a partial list",
                self.pages
            )
        } else {
            write!(
                f,
                "the pagination token did not end after {} pages; refusing to read a partial list",
                self.pages
            )
        }
    }
}

impl std::error::Error for EndlessPagination {}

/// [`all_pages`] as a method of the SDK's page stream: `….into_paginator().send().all_pages(|p|
/// p.next_token())`.
pub trait AllPages<O, E> {
    fn all_pages(
        self,
        token: impl Fn(&O) -> Option<&str>,
    ) -> impl std::future::Future<Output = Result<Vec<O>, SdkError<E, HttpResponse>>>;
}

impl<O, E> AllPages<O, E>
    for aws_smithy_async::future::pagination_stream::PaginationStream<
        Result<O, SdkError<E, HttpResponse>>,
    >
{
    fn all_pages(
        self,
        token: impl Fn(&O) -> Option<&str>,
    ) -> impl std::future::Future<Output = Result<Vec<O>, SdkError<E, HttpResponse>>> {
        all_pages(self, token)
    }
}

/// Every page of a paginated call, or its error. A token that repeats the previous page's (the
/// SDK would stop there silently, with a partial list) or pages beyond [`MAX_PAGES`] are an
/// error too: an incomplete listing must never read as a complete one.
pub async fn all_pages<O, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<
        Result<O, SdkError<E, HttpResponse>>,
    >,
    token: impl Fn(&O) -> Option<&str>,
) -> Result<Vec<O>, SdkError<E, HttpResponse>> {
    let mut out = Vec::new();
    let mut last: Option<String> = None;
    while let Some(page) = pages.next().await {
        let page = page?;
        let next = token(&page).filter(|t| !t.is_empty()).map(str::to_string);
        let endless = match &next {
            Some(t) if last.as_deref() == Some(t.as_str()) => Some(true),
            Some(_) if out.len() + 1 >= MAX_PAGES => Some(false),
            _ => None,
        };
        if let Some(repeated) = endless {
            return Err(SdkError::construction_failure(EndlessPagination {
                pages: out.len() + 1,
                repeated,
            }));
        }
        out.push(page);
        last = next;
    }
    Ok(out)
}

/// SDK interceptor on every client: a successful answer whose XML document is cut off (the
/// SDK's XML reader takes a missing end as the end of the lists, so a half answer would read as
/// a short, complete one) becomes an unreadable answer. JSON and CBOR readers refuse a cut-off
/// document themselves.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnswerCheck;

impl Intercept for AnswerCheck {
    fn name(&self) -> &'static str {
        "estate-audit answer check"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let resp = context.response();
        if !resp.status().is_success() {
            return Ok(());
        }
        match resp.body().bytes() {
            Some(body) => xml_complete(body).map_err(Into::into),
            None => Ok(()),
        }
    }
}

/// `Err(why)` when `body` starts an XML document that does not end with its root's end tag.
/// Anything else (JSON, CBOR, empty) is left to the SDK's readers.
pub fn xml_complete(body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let mut rest = text.trim_start();
    if !rest.starts_with('<') {
        return Ok(());
    }
    // Skip the declaration, comments and a doctype.
    while let Some(after) = rest.strip_prefix("<?").or_else(|| rest.strip_prefix("<!")) {
        let Some(end) = after.find('>') else {
            return Err("the XML answer is cut off".into());
        };
        rest = after[end + 1..].trim_start();
    }
    let Some(open) = rest.strip_prefix('<') else {
        return Err("the XML answer has no root element".into());
    };
    let name: String = open
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if name.is_empty() {
        return Err("the XML answer has no root element".into());
    }
    let Some(tag_end) = open.find('>') else {
        return Err("the XML answer is cut off".into());
    };
    if open[..tag_end].ends_with('/') && open[tag_end + 1..].trim().is_empty() {
        return Ok(());
    }
    if text.trim_end().ends_with(&format!("</{name}>")) {
        Ok(())
    } else {
        Err(format!(
            "the XML answer is cut off: it does not end with </{name}>"
        ))
    }
}
