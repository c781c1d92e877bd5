//! Resource-based IAM policies evaluated the way IAM evaluates them, for one question: who outside
//! the account can call this endpoint (a function URL, an API), and from which addresses. A
//! statement applies when its principal (`Principal` or `NotPrincipal`), its action (`Action` or
//! `NotAction`, with `*` and `?` wildcards) and its conditions match; an explicit `Deny` that
//! applies wins over any `Allow`. The answer is a set of source addresses per kind of caller
//! (anyone, any AWS principal, other accounts), so `aws:SourceIp` conditions (`IpAddress`,
//! `NotIpAddress`, their `IfExists` forms) subtract and intersect exactly.
//!
//! It must not guess. A condition key or operator it does not know, a principal form it cannot
//! read, a `NotResource` it cannot place: the answer is unknown (the reason says which), never
//! "closed". Conditions that can never hold for a caller from the internet (`aws:SourceVpc`,
//! `aws:SourceVpce` without `IfExists`) make a statement not apply to it.

use super::net::RangeSet;
use crate::model::PolicyStatement;

/// How the endpoint authenticates its callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No authentication (a function URL with `NONE`, an API method without authorization):
    /// callers are anonymous.
    Anonymous,
    /// SigV4-signed requests (`AWS_IAM`): callers are AWS principals.
    Signed,
}

/// The endpoint and its caller, as the policy sees them.
pub struct Request<'a> {
    /// The action the endpoint's calls need (`lambda:InvokeFunctionUrl`, `execute-api:Invoke`).
    pub action: &'a str,
    pub auth: Auth,
    /// The endpoint's auth type as the `lambda:FunctionUrlAuthType` condition key reads it.
    pub url_auth_type: Option<&'a str>,
    /// The account that owns the endpoint: its own principals are not "outside".
    pub account: Option<&'a str>,
}

/// Who outside the account can call, from where.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Access {
    /// One line per kind of caller that gets in: `anyone from 0.0.0.0/0, ::/0`, `any AWS
    /// principal from …`, `AWS account 999988887777 from …`. Empty: nobody outside the account.
    pub open_to: Vec<String>,
    /// Every caller outside the account is confined to Cloudflare's ranges.
    pub cloudflare_only: bool,
}

/// A caller outside the account, as a principal pattern matches it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Caller {
    /// An unauthenticated request.
    Anonymous,
    /// Any principal of any AWS account.
    AnyPrincipal,
    /// Principals of one other account.
    Account(String),
}

impl Caller {
    fn describe(&self) -> String {
        match self {
            Caller::Anonymous => "anyone".into(),
            Caller::AnyPrincipal => "any AWS principal".into(),
            Caller::Account(a) => format!("AWS account {a}"),
        }
    }
}

/// Evaluates `statements` for `req`. `Err` says why the answer is unknown.
pub fn access(
    statements: &[PolicyStatement],
    req: &Request<'_>,
    cloudflare: &RangeSet,
) -> Result<Access, String> {
    for st in statements {
        if !st.not_resources.is_empty() {
            return Err(format!(
                "statement {} names NotResource, which this audit does not evaluate",
                sid(st)
            ));
        }
    }
    let mut callers: Vec<Caller> = match req.auth {
        Auth::Anonymous => vec![Caller::Anonymous],
        Auth::Signed => vec![Caller::AnyPrincipal],
    };
    // Other accounts named by an Allow are callers of their own (only when signed).
    if req.auth == Auth::Signed {
        for st in statements.iter().filter(|s| is_allow(s)) {
            for p in &st.principals {
                if let Some(a) = account_of(p) {
                    if Some(a.as_str()) != req.account
                        && !callers.contains(&Caller::Account(a.clone()))
                    {
                        callers.push(Caller::Account(a));
                    }
                }
            }
        }
    }
    let mut open_to = Vec::new();
    let mut cloudflare_only = true;
    for caller in &callers {
        let mut allowed = RangeSet::default();
        let mut denied = RangeSet::default();
        for st in statements {
            if !principal_matches(st, caller, req.account)? || !action_matches(st, req.action) {
                continue;
            }
            let Some(from) = sources(st, req, caller)? else {
                continue; // a condition that can never hold for this caller
            };
            if is_allow(st) {
                allowed = allowed.union(&from);
            } else if st.effect.eq_ignore_ascii_case("deny") {
                denied = denied.union(&from);
            } else {
                return Err(format!("statement {} has effect {:?}", sid(st), st.effect));
            }
        }
        let gets_in = allowed.minus(&denied);
        if gets_in.is_empty() {
            continue;
        }
        if !gets_in.within(cloudflare) {
            cloudflare_only = false;
        }
        open_to.push(format!("{} from {}", caller.describe(), gets_in.describe()));
    }
    Ok(Access {
        open_to,
        cloudflare_only,
    })
}

fn sid(st: &PolicyStatement) -> String {
    st.sid
        .as_deref()
        .map(|s| format!("`{s}`"))
        .unwrap_or_else(|| "(no Sid)".into())
}

fn is_allow(st: &PolicyStatement) -> bool {
    st.effect.eq_ignore_ascii_case("allow")
}

/// The account of `123456789012`, `arn:aws:iam::123456789012:root` or any ARN of that account.
fn account_of(p: &str) -> Option<String> {
    let digits = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if digits(p) {
        return Some(p.to_string());
    }
    let acct = p.strip_prefix("arn:")?.split(':').nth(3)?;
    digits(acct).then(|| acct.to_string())
}

/// Whether a principal pattern of the policy covers `caller`. `*` covers everyone (anonymous
/// callers included); an account or ARN covers only signed principals of that account; a
/// service principal (`lambda.amazonaws.com`) covers no caller from the internet.
fn pattern_covers(p: &str, caller: &Caller) -> Result<bool, String> {
    let p = p.trim();
    if p == "*" {
        return Ok(true);
    }
    if p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
        return Ok(false);
    }
    match account_of(p) {
        Some(a) => Ok(matches!(caller, Caller::Account(c) if *c == a)),
        None if p.contains('*') || p.contains('?') => Err(format!(
            "the principal pattern {p:?} has wildcards this audit does not evaluate"
        )),
        // A federated or canonical-user principal is no internet caller of these endpoints.
        None => Ok(false),
    }
}

fn principal_matches(
    st: &PolicyStatement,
    caller: &Caller,
    own: Option<&str>,
) -> Result<bool, String> {
    if !st.not_principals.is_empty() {
        // Everyone but the listed: a caller is covered unless a listed pattern covers it. The
        // account's own principals listed do not exclude outsiders.
        for p in &st.not_principals {
            if pattern_covers(p, caller)? {
                return Ok(false);
            }
        }
        let _ = own;
        return Ok(true);
    }
    for p in &st.principals {
        if pattern_covers(p, caller)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// IAM action matching: case-insensitive, `*` any run, `?` one character.
pub fn action_glob(action: &str, pattern: &str) -> bool {
    fn m(s: &[u8], p: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(b'*'), _) => m(s, &p[1..]) || (!s.is_empty() && m(&s[1..], p)),
            (Some(b'?'), Some(_)) => m(&s[1..], &p[1..]),
            (Some(pc), Some(sc)) => pc == sc && m(&s[1..], &p[1..]),
            (Some(_), None) => false,
        }
    }
    m(
        action.to_ascii_lowercase().as_bytes(),
        pattern.trim().to_ascii_lowercase().as_bytes(),
    )
}

fn action_matches(st: &PolicyStatement, action: &str) -> bool {
    if !st.not_actions.is_empty() {
        return !st.not_actions.iter().any(|p| action_glob(action, p));
    }
    st.actions.iter().any(|p| action_glob(action, p))
}

/// The source addresses for which a statement's conditions hold for `caller`; `None` when they
/// never hold for it; `Err` when a condition cannot be evaluated.
fn sources(
    st: &PolicyStatement,
    req: &Request<'_>,
    caller: &Caller,
) -> Result<Option<RangeSet>, String> {
    let mut from = RangeSet::all();
    for (op, keys) in &st.conditions {
        let (base, if_exists) = match op.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (op.as_str(), false),
        };
        for (key, values) in keys {
            let k = key.to_ascii_lowercase();
            match k.as_str() {
                "aws:sourceip" => {
                    let listed = RangeSet::new(values.iter().map(String::as_str));
                    if values.iter().any(|v| super::net::parse_span(v).is_none()) {
                        return Err(format!(
                            "statement {} lists an aws:SourceIp value that is not an address range",
                            sid(st)
                        ));
                    }
                    from = match base {
                        "IpAddress" => from.intersect(&listed),
                        "NotIpAddress" => from.minus(&listed),
                        other => {
                            return Err(format!(
                                "statement {} tests aws:SourceIp with {other}",
                                sid(st)
                            ))
                        }
                    };
                }
                "lambda:functionurlauthtype" => {
                    let holds = match (base, req.url_auth_type) {
                        (_, None) => if_exists,
                        ("StringEquals", Some(t)) => values.iter().any(|v| v == t),
                        ("StringNotEquals", Some(t)) => !values.iter().any(|v| v == t),
                        ("StringEqualsIgnoreCase", Some(t)) => {
                            values.iter().any(|v| v.eq_ignore_ascii_case(t))
                        }
                        (other, _) => {
                            return Err(format!(
                                "statement {} tests lambda:FunctionUrlAuthType with {other}",
                                sid(st)
                            ))
                        }
                    };
                    if !holds {
                        return Ok(None);
                    }
                }
                // A request from the internet comes through no VPC or endpoint: the key is
                // absent, so only an `IfExists` (or a negated) test holds.
                "aws:sourcevpc" | "aws:sourcevpce" => {
                    let holds = if_exists || base.starts_with("StringNot") || base == "Null";
                    if !holds {
                        return Ok(None);
                    }
                    if base == "Null" && values.iter().any(|v| v.eq_ignore_ascii_case("false")) {
                        return Ok(None);
                    }
                }
                "aws:principalaccount"
                | "aws:principalorgid"
                | "aws:sourceaccount"
                | "aws:sourcearn"
                | "aws:principalarn" => {
                    // An anonymous caller has no principal: the key is absent.
                    let absent = matches!(caller, Caller::Anonymous);
                    let holds = match (absent, base) {
                        (true, b) => {
                            if_exists || b.starts_with("StringNot") || b.starts_with("ArnNot")
                        }
                        (false, b)
                            if b.starts_with("StringEquals")
                                || b.starts_with("ArnEquals")
                                || b.starts_with("ArnLike")
                                || b.starts_with("StringLike") =>
                        {
                            match caller {
                                Caller::Account(a)
                                    if k == "aws:principalaccount" || k == "aws:sourceaccount" =>
                                {
                                    values.iter().any(|v| v == a)
                                }
                                // Any principal of any account: some of them match.
                                _ => true,
                            }
                        }
                        (false, _) => true,
                    };
                    if !holds {
                        return Ok(None);
                    }
                }
                "aws:securetransport" => {
                    // Function URLs and API endpoints answer HTTPS only: the key is true.
                    let wants_true = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                    let holds = match base {
                        "Bool" => wants_true,
                        other => {
                            return Err(format!(
                                "statement {} tests aws:SecureTransport with {other}",
                                sid(st)
                            ))
                        }
                    };
                    if !holds {
                        return Ok(None);
                    }
                }
                _ => {
                    return Err(format!(
                    "statement {} has the condition {op} {key}, which this audit does not evaluate",
                    sid(st)
                ))
                }
            }
        }
    }
    Ok((!from.is_empty()).then_some(from))
}
