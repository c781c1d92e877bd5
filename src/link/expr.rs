//! A small, three-valued evaluator for the Cloudflare Rules language, enough to ask "does this
//! rule's expression match a request to the webhook?" and "does it match a request from a source
//! outside every allowlist?". It owns the parsing and evaluation of the clauses we support
//! (fields `http.host`, `http.request.uri.path`, `http.request.full_uri`, `http.request.uri`
//! (whose query string the client chooses), `http.request.method`, `ssl`, `ip.src` for an
//! outsider; operators `eq ne == != contains wildcard strict wildcard matches ~ in < <= > >= lt
//! le gt ge`; `and or xor not`; functions `lower upper starts_with ends_with len`; sets, ranges,
//! CIDRs and custom lists). It must not guess: anything it does not know evaluates to `Unknown`,
//! and [`judge`] tells an `Unknown` that depends on what the client sends (a header, the source
//! address) from one it cannot evaluate at all (text it cannot parse, an unknown field, function
//! or operator, a list it could not read), so callers can choose the conservative reading.

use std::cell::Cell;
use std::collections::BTreeMap;

use crate::model::IpList;

/// Kleene three-valued truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub(super) fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
    pub(super) fn and(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
    pub(super) fn or(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
    pub(super) fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
    pub(super) fn xor(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
            (a, b) => Truth::from_bool(a != b),
        }
    }
}

/// The request an expression is asked about. Webhook deliveries are HTTPS POSTs to the host and
/// path, so `ssl` is true and the method is `POST`; the query string, headers, threat score and
/// so on are the client's to choose (unknown). The source address is unknown too, unless
/// `outsider` is set: then it is an address outside every allowlist, and the lists are the
/// custom lists as read.
pub struct Request<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub outsider: Option<&'a BTreeMap<String, IpList>>,
}

impl<'a> Request<'a> {
    pub fn new(host: &'a str, path: &'a str) -> Request<'a> {
        Request {
            host,
            path,
            outsider: None,
        }
    }
}

/// What an expression gives for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub truth: Truth,
    /// `Unknown` not because of what the client sends but because the expression could not be
    /// evaluated (unparseable, or a field, function, operator or list it does not know).
    pub opaque: bool,
}

/// Evaluates `expr` for `req`. Unparseable text is `Unknown`.
pub fn eval(expr: &str, req: &Request) -> Truth {
    judge(expr, req).truth
}

/// Evaluates `expr` for `req`, telling an opaque `Unknown` from one that depends on the client.
pub fn judge(expr: &str, req: &Request) -> Judged {
    const OPAQUE: Judged = Judged {
        truth: Truth::Unknown,
        opaque: true,
    };
    let toks = match lex(expr) {
        Some(t) => t,
        None => return OPAQUE,
    };
    let mut p = Parser { toks, pos: 0 };
    let node = match p.expr(0) {
        Some(n) if p.pos == p.toks.len() => n,
        _ => return OPAQUE,
    };
    let cx = Cx {
        req,
        opaque: Cell::new(false),
    };
    let truth = truth(&node.eval(&cx));
    Judged {
        truth,
        opaque: truth == Truth::Unknown && cx.opaque.get(),
    }
}

/// One evaluation: the request, and whether something could not be evaluated.
struct Cx<'r, 'a> {
    req: &'r Request<'a>,
    opaque: Cell<bool>,
}

impl Cx<'_, '_> {
    fn opaque(&self) -> Val {
        self.opaque.set(true);
        Val::Unknown
    }
}

/// Fields whose value the client chooses or that describe the client: unknown, but not opaque.
const CLIENT_FIELDS: &[&str] = &[
    "ip.",
    "http.cookie",
    "http.user_agent",
    "http.referer",
    "http.x_forwarded_for",
    "http.request.headers",
    "http.request.cookies",
    "http.request.uri.query",
    "http.request.uri.args",
    "raw.http.request.uri.query",
    "raw.http.request.uri.args",
    "raw.http.request.full_uri",
    "raw.http.request.uri",
    "http.request.body",
    "http.request.version",
    "http.request.accepted_languages",
    "http.request.jwt",
    "http.request.timestamp",
    "cf.threat_score",
    "cf.bot_management",
    "cf.client",
    "cf.tls_",
    "cf.verified_bot_category",
    "cf.waf",
    "cf.ray_id",
    "cf.random_seed",
];

/// Functions over what the client sends (arrays of headers, arguments): unknown, not opaque.
const CLIENT_FUNCTIONS: &[&str] = &[
    "any",
    "all",
    "lookup_json_string",
    "lookup_json_integer",
    "url_decode",
    "remove_bytes",
    "to_string",
    "concat",
    "regex_replace",
    "wildcard_replace",
    "decode_base64",
    "has_key",
    "has_value",
    "is_timed_hmac_valid_v0",
    "cidr",
    "cidr6",
    "bit_slice",
    "remove_query_args",
];

/// An allowlist wider than this many IPv4 addresses (a /8), or IPv6 addresses (a /32), approves
/// no particular source: an attacker can find an address inside it.
const WIDEST_V4: u128 = 1 << 24;
const WIDEST_V6: u128 = 1 << 96;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    /// `==`, `!=`, `~`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `^^`, `!`.
    Sym(&'static str),
    Str(String),
    /// Identifiers, keywords, numbers, IP literals and ranges.
    Word(String),
    /// `$list_name`: a list reference.
    List(String),
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let two = |a: char, b: char| c == a && next == Some(b);
        let sym = if two('=', '=') {
            Some("==")
        } else if two('!', '=') {
            Some("!=")
        } else if two('<', '=') {
            Some("<=")
        } else if two('>', '=') {
            Some(">=")
        } else if two('&', '&') {
            Some("&&")
        } else if two('|', '|') {
            Some("||")
        } else if two('^', '^') {
            Some("^^")
        } else {
            None
        };
        if let Some(sym) = sym {
            out.push(Tok::Sym(sym));
            i += 2;
            continue;
        }
        match c {
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            '{' => out.push(Tok::LBrace),
            '}' => out.push(Tok::RBrace),
            '[' => out.push(Tok::LBracket),
            ']' => out.push(Tok::RBracket),
            ',' => out.push(Tok::Comma),
            '~' => out.push(Tok::Sym("~")),
            '<' => out.push(Tok::Sym("<")),
            '>' => out.push(Tok::Sym(">")),
            '!' => out.push(Tok::Sym("!")),
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i)? {
                        '"' => break,
                        '\\' => {
                            i += 1;
                            v.push(*chars.get(i)?);
                        }
                        ch => v.push(*ch),
                    }
                    i += 1;
                }
                out.push(Tok::Str(v));
            }
            'r' if matches!(next, Some('"') | Some('#')) => {
                // Raw string: r"…" or r#"…"# (any number of #).
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    return None;
                }
                j += 1;
                let start = j;
                loop {
                    if *chars.get(j)? == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#'))
                    {
                        break;
                    }
                    j += 1;
                }
                out.push(Tok::Str(chars[start..j].iter().collect()));
                i = j + hashes;
            }
            '$' => {
                i += 1;
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                {
                    i += 1;
                }
                out.push(Tok::List(chars[start..i].iter().collect()));
                continue;
            }
            c if c.is_alphanumeric() || c == '_' || c == '*' || c == ':' => {
                let start = i;
                while chars.get(i).is_some_and(|c| {
                    c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-' | '*')
                }) {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
                continue;
            }
            _ => return None,
        }
        i += 1;
    }
    Some(out)
}

#[derive(Debug)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Xor(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(Operand, String, Operand),
    Value(Operand),
}

#[derive(Debug)]
enum Operand {
    Field(String),
    Str(String),
    Word(String),
    Set(Vec<Operand>),
    Call(String, Vec<Node>),
    List(String),
    /// A map or array element of a request field (`http.request.headers["x"]`).
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(String),
    /// A string that starts so, and may go on with a query string the client chooses.
    Prefix(String),
    Int(i64),
    Bool(bool),
    Set(Vec<Val>),
    /// The source address of an outsider: outside every allowlist.
    Outsider,
    Unknown,
}

fn truth(v: &Val) -> Truth {
    match v {
        Val::Bool(b) => Truth::from_bool(*b),
        _ => Truth::Unknown,
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

const COMPARISONS: &[&str] = &[
    "eq", "ne", "lt", "le", "gt", "ge", "contains", "wildcard", "matches", "in", "==", "!=", "<",
    "<=", ">", ">=", "~",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w.as_str()),
            Some(Tok::Sym(s)) => Some(s),
            _ => None,
        }
    }

    /// Precedence climbing: or (0) < xor (1) < and (2); `not` binds tightest.
    fn expr(&mut self, min: u8) -> Option<Node> {
        let mut lhs = self.unary()?;
        loop {
            let prec = match self.peek_word() {
                Some("or") | Some("||") => 0,
                Some("xor") | Some("^^") => 1,
                Some("and") | Some("&&") => 2,
                _ => break,
            };
            if prec < min {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(prec + 1)?;
            lhs = match prec {
                0 => Node::Or(Box::new(lhs), Box::new(rhs)),
                1 => Node::Xor(Box::new(lhs), Box::new(rhs)),
                _ => Node::And(Box::new(lhs), Box::new(rhs)),
            };
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<Node> {
        if matches!(self.peek_word(), Some("not") | Some("!")) {
            self.pos += 1;
            return Some(Node::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.expr(0)?;
            if self.bump()? != Tok::RParen {
                return None;
            }
            return Some(inner);
        }
        let lhs = self.operand()?;
        let mut op = match self.peek_word() {
            Some(w) if COMPARISONS.contains(&w) => w.to_string(),
            Some("strict") => {
                self.pos += 1;
                match self.peek_word() {
                    Some("wildcard") => "strict wildcard".to_string(),
                    _ => return None,
                }
            }
            _ => return Some(Node::Value(lhs)),
        };
        self.pos += 1;
        if op == "~" {
            op = "matches".into();
        }
        let rhs = self.operand()?;
        Some(Node::Cmp(lhs, op, rhs))
    }

    fn operand(&mut self) -> Option<Operand> {
        let op = match self.bump()? {
            Tok::Str(s) => Operand::Str(s),
            Tok::List(name) => Operand::List(name),
            Tok::LBrace => {
                let mut items = Vec::new();
                loop {
                    match self.peek()? {
                        Tok::RBrace => {
                            self.pos += 1;
                            break;
                        }
                        Tok::Comma => self.pos += 1,
                        _ => items.push(self.operand()?),
                    }
                }
                Operand::Set(items)
            }
            Tok::Word(w) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    loop {
                        match self.peek()? {
                            Tok::RParen => {
                                self.pos += 1;
                                break;
                            }
                            Tok::Comma => self.pos += 1,
                            _ => args.push(self.expr(0)?),
                        }
                    }
                    Operand::Call(w, args)
                } else if w.starts_with(|c: char| c.is_ascii_alphabetic())
                    && w != "true"
                    && w != "false"
                {
                    Operand::Field(w)
                } else {
                    Operand::Word(w)
                }
            }
            _ => return None,
        };
        // Map / array access (`http.request.headers["x"][0]`, `[*]`): the value is unknown.
        let mut op = op;
        while self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            match self.bump()? {
                Tok::Str(_) | Tok::Word(_) => {}
                _ => return None,
            }
            if self.bump()? != Tok::RBracket {
                return None;
            }
            op = Operand::Unknown;
        }
        Some(op)
    }
}

impl Operand {
    fn value(&self, cx: &Cx) -> Val {
        let req = cx.req;
        match self {
            Operand::Str(s) => Val::Str(s.clone()),
            Operand::Word(w) => match w.as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                _ => w.parse().map(Val::Int).unwrap_or(Val::Str(w.clone())),
            },
            Operand::Field(f) => match f.as_str() {
                "http.host" => Val::Str(req.host.to_ascii_lowercase()),
                "http.request.uri.path" | "raw.http.request.uri.path" => {
                    Val::Str(req.path.to_string())
                }
                // The client may add a query string: what follows the path is theirs.
                "http.request.uri" => Val::Prefix(req.path.to_string()),
                "http.request.full_uri" => Val::Prefix(format!(
                    "https://{}{}",
                    req.host.to_ascii_lowercase(),
                    req.path
                )),
                "http.request.method" => Val::Str("POST".into()),
                "ssl" => Val::Bool(true),
                "cf.edge.server_port" => Val::Int(443),
                "ip.src" if req.outsider.is_some() => Val::Outsider,
                f if CLIENT_FIELDS.iter().any(|p| f.starts_with(p)) => Val::Unknown,
                _ => cx.opaque(),
            },
            Operand::Set(items) => Val::Set(items.iter().map(|i| i.value(cx)).collect()),
            Operand::List(name) => match req.outsider {
                // Cloudflare's managed lists: whether an outsider is in one is the client's.
                _ if name.starts_with("cf.") => Val::Unknown,
                None => Val::Unknown,
                Some(lists) => match lists.get(name).and_then(|l| l.items.as_ref()) {
                    Some(items) => Val::Set(items.iter().map(|i| Val::Str(i.clone())).collect()),
                    None => cx.opaque(),
                },
            },
            Operand::Call(name, args) => {
                let a: Vec<Val> = args.iter().map(|x| x.eval(cx)).collect();
                call(cx, name, &a)
            }
            Operand::Unknown => Val::Unknown,
        }
    }
}

fn call(cx: &Cx, name: &str, a: &[Val]) -> Val {
    if a.contains(&Val::Unknown) {
        return Val::Unknown;
    }
    match (name, a) {
        ("lower", [Val::Str(s)]) => Val::Str(s.to_lowercase()),
        ("lower", [Val::Prefix(s)]) => Val::Prefix(s.to_lowercase()),
        ("upper", [Val::Str(s)]) => Val::Str(s.to_uppercase()),
        ("upper", [Val::Prefix(s)]) => Val::Prefix(s.to_uppercase()),
        ("len", [Val::Str(s)]) => Val::Int(s.len() as i64),
        ("starts_with", [Val::Str(s), Val::Str(p)]) => Val::Bool(s.starts_with(p.as_str())),
        ("starts_with", [Val::Prefix(s), Val::Str(p)]) => {
            if s.starts_with(p.as_str()) {
                Val::Bool(true)
            } else if p.starts_with(s.as_str()) {
                Val::Unknown
            } else {
                Val::Bool(false)
            }
        }
        ("ends_with", [Val::Str(s), Val::Str(p)]) => Val::Bool(s.ends_with(p.as_str())),
        ("len" | "ends_with", [Val::Prefix(_)] | [Val::Prefix(_), _]) => Val::Unknown,
        _ if CLIENT_FUNCTIONS.contains(&name) => Val::Unknown,
        _ => cx.opaque(),
    }
}

impl Node {
    fn eval(&self, cx: &Cx) -> Val {
        let t = match self {
            Node::Value(o) => return o.value(cx),
            Node::And(a, b) => truth(&a.eval(cx)).and(truth(&b.eval(cx))),
            Node::Or(a, b) => truth(&a.eval(cx)).or(truth(&b.eval(cx))),
            Node::Xor(a, b) => truth(&a.eval(cx)).xor(truth(&b.eval(cx))),
            Node::Not(a) => truth(&a.eval(cx)).not(),
            Node::Cmp(l, op, r) => compare(cx, &l.value(cx), op, &r.value(cx)),
        };
        match t {
            Truth::True => Val::Bool(true),
            Truth::False => Val::Bool(false),
            Truth::Unknown => Val::Unknown,
        }
    }
}

fn compare(cx: &Cx, l: &Val, op: &str, r: &Val) -> Truth {
    if *l == Val::Unknown || *r == Val::Unknown {
        return Truth::Unknown;
    }
    match (op, l, r) {
        (_, Val::Outsider, _) => outsider(cx, op, r),
        (_, Val::Prefix(p), Val::Str(b)) => prefix(cx, op, p, b),
        ("in", Val::Prefix(p), Val::Set(items)) => {
            let could = items.iter().any(|i| match i {
                Val::Str(b) => b == p || b.starts_with(&format!("{p}?")),
                _ => true,
            });
            if could {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        ("eq" | "==", a, b) => Truth::from_bool(a == b),
        ("ne" | "!=", a, b) => Truth::from_bool(a != b),
        ("contains", Val::Str(a), Val::Str(b)) => Truth::from_bool(a.contains(b.as_str())),
        ("wildcard", Val::Str(a), Val::Str(p)) => {
            Truth::from_bool(glob(&a.to_lowercase(), &p.to_lowercase()))
        }
        ("strict wildcard", Val::Str(a), Val::Str(p)) => Truth::from_bool(glob(a, p)),
        ("matches", Val::Str(a), Val::Str(p)) => match regex(p) {
            Some(re) => Truth::from_bool(re.is_match(a)),
            None => {
                cx.opaque();
                Truth::Unknown
            }
        },
        ("in", a, Val::Set(items)) => {
            // A set holding an unknown (a list, a range we do not parse) cannot prove absence.
            if items.contains(a) {
                Truth::True
            } else if items
                .iter()
                .any(|i| matches!(i, Val::Unknown) || is_range(i))
            {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        ("lt" | "<", Val::Int(a), Val::Int(b)) => Truth::from_bool(a < b),
        ("le" | "<=", Val::Int(a), Val::Int(b)) => Truth::from_bool(a <= b),
        ("gt" | ">", Val::Int(a), Val::Int(b)) => Truth::from_bool(a > b),
        ("ge" | ">=", Val::Int(a), Val::Int(b)) => Truth::from_bool(a >= b),
        // Anything else we do not model.
        _ => {
            cx.opaque();
            Truth::Unknown
        }
    }
}

/// Cloudflare's regular expressions are Rust's `regex` syntax; a size limit keeps a hostile
/// pattern cheap (it is then opaque).
fn regex(p: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(p).size_limit(1 << 20).build().ok()
}

/// A comparison of a string the client may extend with a query string.
fn prefix(cx: &Cx, op: &str, p: &str, b: &str) -> Truth {
    // Could the whole string (the prefix, then nothing or `?…`) equal `b`?
    let could_equal = b == p || b.starts_with(&format!("{p}?"));
    match op {
        "eq" | "==" if could_equal => Truth::Unknown,
        "eq" | "==" => Truth::False,
        "ne" | "!=" if could_equal => Truth::Unknown,
        "ne" | "!=" => Truth::True,
        "contains" if p.contains(b) => Truth::True,
        "contains" => Truth::Unknown,
        "wildcard" | "strict wildcard" => {
            let (s, pat) = if op == "wildcard" {
                (p.to_lowercase(), b.to_lowercase())
            } else {
                (p.to_string(), b.to_string())
            };
            if pat.ends_with('*') && glob(&s, &pat) {
                Truth::True
            } else {
                Truth::Unknown
            }
        }
        "matches" => match regex(b) {
            Some(re) if re.is_match(p) && !b.ends_with('$') => Truth::True,
            Some(_) => Truth::Unknown,
            None => {
                cx.opaque();
                Truth::Unknown
            }
        },
        _ => {
            cx.opaque();
            Truth::Unknown
        }
    }
}

/// A comparison of an outsider's source address: it is none of the addresses named, and in a set
/// only when the set approves no particular source (wider than [`WIDEST_V4`] / [`WIDEST_V6`]).
fn outsider(cx: &Cx, op: &str, r: &Val) -> Truth {
    match (op, r) {
        ("eq" | "==", Val::Str(_)) => Truth::False,
        ("ne" | "!=", Val::Str(_)) => Truth::True,
        ("in", Val::Set(items)) => {
            let mut v4: Vec<ipnet::Ipv4Net> = Vec::new();
            let mut v6: Vec<ipnet::Ipv6Net> = Vec::new();
            for i in items {
                let Val::Str(text) = i else {
                    return match i {
                        Val::Unknown => Truth::Unknown,
                        _ => {
                            cx.opaque();
                            Truth::Unknown
                        }
                    };
                };
                if !add_addresses(text, &mut v4, &mut v6) {
                    cx.opaque();
                    return Truth::Unknown;
                }
            }
            let n4: u128 = ipnet::Ipv4Net::aggregate(&v4)
                .iter()
                .map(|n| 1u128 << (32 - n.prefix_len()))
                .sum();
            let n6: u128 = ipnet::Ipv6Net::aggregate(&v6)
                .iter()
                .map(|n| {
                    let bits = 128 - u32::from(n.prefix_len());
                    if bits == 128 {
                        u128::MAX
                    } else {
                        1u128 << bits
                    }
                })
                .fold(0u128, u128::saturating_add);
            Truth::from_bool(n4 > WIDEST_V4 || n6 > WIDEST_V6)
        }
        _ => {
            cx.opaque();
            Truth::Unknown
        }
    }
}

/// Adds an address, CIDR or `a..b` range; `false` when the text is none of them.
fn add_addresses(text: &str, v4: &mut Vec<ipnet::Ipv4Net>, v6: &mut Vec<ipnet::Ipv6Net>) -> bool {
    use std::net::IpAddr;
    if let Some((a, b)) = text.split_once("..") {
        return match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
            (Ok(IpAddr::V4(a)), Ok(IpAddr::V4(b))) if a <= b => {
                v4.extend(ipnet::Ipv4Subnets::new(a, b, 0));
                true
            }
            (Ok(IpAddr::V6(a)), Ok(IpAddr::V6(b))) if a <= b => {
                v6.extend(ipnet::Ipv6Subnets::new(a, b, 0));
                true
            }
            _ => false,
        };
    }
    match text.parse::<ipnet::IpNet>() {
        Ok(ipnet::IpNet::V4(n)) => v4.push(n.trunc()),
        Ok(ipnet::IpNet::V6(n)) => v6.push(n.trunc()),
        Err(_) => match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => v4.push(a.into()),
            Ok(IpAddr::V6(a)) => v6.push(a.into()),
            Err(_) => return false,
        },
    }
    true
}

fn is_range(v: &Val) -> bool {
    matches!(v, Val::Str(s) if s.contains("..") || s.contains('/'))
}

/// `*` matches any run of characters; everything else literally. Also serves IAM action
/// patterns (`lambda:Invoke*`), where `?` is legal but unused in practice and taken literally.
pub(crate) fn glob(s: &str, pat: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    if parts.len() == 1 {
        return s == pat;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(expr: &str) -> Truth {
        eval(expr, &Request::new("webhook.example.com", "/hooks/github"))
    }

    #[test]
    fn host_and_path_prefix_covers() {
        assert_eq!(
            ev(
                r#"(http.host eq "webhook.example.com" and starts_with(http.request.uri.path, "/hooks"))"#
            ),
            Truth::True
        );
        assert_eq!(ev("true"), Truth::True);
        assert_eq!(
            ev(r#"http.host in {"a.example.com" "webhook.example.com"}"#),
            Truth::True
        );
        assert_eq!(ev(r#"http.host wildcard "*.EXAMPLE.com""#), Truth::True);
        assert_eq!(
            ev(r#"http.host strict wildcard "*.EXAMPLE.com""#),
            Truth::False
        );
        assert_eq!(
            ev(r#"ends_with(lower(http.host), ".example.com")"#),
            Truth::True
        );
        assert_eq!(ev(r#"http.request.method == "POST" && ssl"#), Truth::True);
        assert_eq!(ev(r#"not http.host ne "webhook.example.com""#), Truth::True);
        assert_eq!(
            ev(r#"http.request.full_uri contains "/hooks/""#),
            Truth::True
        );
    }

    #[test]
    fn non_covering_and_unknown() {
        assert_eq!(ev(r#"http.host eq "api.example.com""#), Truth::False);
        assert_eq!(ev(r#"http.request.uri.path eq "/""#), Truth::False);
        assert_eq!(
            ev(r#"starts_with(http.request.uri.path, "/other")"#),
            Truth::False
        );
        // Unknown fields, regexes, lists and parse errors are never `True`.
        assert_eq!(ev(r#"ip.src in {1.2.3.0/24}"#), Truth::Unknown);
        assert_eq!(ev(r#"http.host matches "(""#), Truth::Unknown);
        assert_eq!(ev(r#"ip.src in $office"#), Truth::Unknown);
        assert_eq!(
            ev(r#"http.host eq "webhook.example.com" and ip.src eq 1.2.3.4"#),
            Truth::Unknown
        );
        assert_eq!(ev(r#"http.host eq "#), Truth::Unknown);
        assert_eq!(ev(r#"(http.host eq "x""#), Truth::Unknown);
        assert_eq!(ev("\"unterminated"), Truth::Unknown);
        assert_eq!(ev("http.host eq \"x\" @"), Truth::Unknown);
        assert_eq!(ev(""), Truth::Unknown);
        // But Kleene logic still decides what it can.
        assert_eq!(
            ev(r#"http.host eq "api.example.com" and ip.src eq 1.2.3.4"#),
            Truth::False
        );
        assert_eq!(
            ev(r#"http.host eq "webhook.example.com" or cf.threat_score gt 10"#),
            Truth::True
        );
        assert_eq!(
            ev(
                r#"any(http.request.headers["x-a"][*] eq "1") or http.host eq "webhook.example.com""#
            ),
            Truth::True
        );
    }

    #[test]
    fn root_path_and_precedence() {
        let root = Request::new("webhook.example.com", "/");
        assert_eq!(eval(r#"http.request.uri.path eq "/""#, &root), Truth::True);
        // and binds tighter than or
        assert_eq!(ev(r#"true or false and false"#), Truth::True);
        assert_eq!(ev(r#"(true or false) and false"#), Truth::False);
        assert_eq!(ev(r#"true xor true"#), Truth::False);
        assert_eq!(
            ev(r##"http.host eq r#"webhook.example.com"#"##),
            Truth::True
        );
        assert_eq!(ev(r#"len(http.host) gt 3"#), Truth::True);
    }

    fn judged(expr: &str) -> Judged {
        judge(expr, &Request::new("webhook.example.com", "/hooks/github"))
    }

    #[test]
    fn regexes_are_rust_syntax() {
        assert_eq!(ev(r#"http.host matches "^web""#), Truth::True);
        assert_eq!(ev(r#"http.host ~ "^api\.""#), Truth::False);
        assert_eq!(
            ev(r#"http.request.uri.path matches "^/hooks/(github|gitlab)$""#),
            Truth::True
        );
        assert!(
            judged(r#"http.host matches "(""#).opaque,
            "a broken pattern is opaque"
        );
    }

    #[test]
    fn the_client_chooses_the_query_string() {
        // `http.request.uri` carries the query: an exact match is avoided by adding `?x`.
        assert_eq!(ev(r#"http.request.uri eq "/hooks/github""#), Truth::Unknown);
        assert!(!judged(r#"http.request.uri eq "/hooks/github""#).opaque);
        assert_eq!(ev(r#"http.request.uri eq "/other""#), Truth::False);
        assert_eq!(
            ev(r#"starts_with(http.request.uri, "/hooks")"#),
            Truth::True
        );
        assert_eq!(ev(r#"http.request.uri wildcard "/hooks/*""#), Truth::True);
        assert_eq!(ev(r#"http.request.uri contains "github""#), Truth::True);
        assert_eq!(
            ev(r#"http.request.full_uri wildcard "https://webhook.example.com/*""#),
            Truth::True
        );
        assert_eq!(
            ev(r#"http.request.uri in {"/hooks/github"}"#),
            Truth::Unknown
        );
        assert_eq!(ev(r#"http.request.uri in {"/a" "/b"}"#), Truth::False);
    }

    #[test]
    fn client_dependent_is_not_opaque() {
        for e in [
            r#"ip.src in {192.0.2.0/24}"#,
            r#"http.request.headers["x-skip"][0] eq "1""#,
            r#"any(http.request.headers["x-skip"][*] eq "1")"#,
            r#"http.user_agent contains "curl""#,
            r#"cf.threat_score gt 10"#,
            r#"ip.src in $cf.open_proxies"#,
        ] {
            let j = judged(e);
            assert_eq!(j.truth, Truth::Unknown, "{e}");
            assert!(!j.opaque, "{e} depends on the client");
        }
        for e in [
            r#"cf.zone.plan eq "ENT""#,
            r#"frobnicate(http.host)"#,
            r#"http.host eq"#,
            r#"http.host gt "a""#,
        ] {
            assert!(judged(e).opaque, "{e} cannot be evaluated");
        }
        assert!(!judged("true").opaque);
    }

    #[test]
    fn an_outsider_is_in_no_allowlist() {
        let mut lists = BTreeMap::new();
        lists.insert(
            "senders".to_string(),
            IpList {
                id: None,
                items: Some(vec!["192.0.2.0/24".into(), "2001:db8::1".into()]),
            },
        );
        lists.insert(
            "everyone".to_string(),
            IpList {
                id: None,
                items: Some(vec!["0.0.0.0/1".into(), "128.0.0.0/1".into()]),
            },
        );
        lists.insert(
            "unread".to_string(),
            IpList {
                id: None,
                items: None,
            },
        );
        let req = Request {
            host: "webhook.example.com",
            path: "/hooks/github",
            outsider: Some(&lists),
        };
        let out = |e: &str| judge(e, &req);
        let block =
            r#"http.host eq "webhook.example.com" and not ip.src in {192.0.2.0/24 198.51.100.7}"#;
        assert_eq!(out(block).truth, Truth::True);
        assert_eq!(out(r#"not ip.src in $senders"#).truth, Truth::True);
        assert_eq!(out(r#"ip.src ne 198.51.100.7"#).truth, Truth::True);
        assert_eq!(out(r#"ip.src eq 198.51.100.7"#).truth, Truth::False);
        assert_eq!(
            out(r#"not ip.src in {192.0.2.1..192.0.2.9}"#).truth,
            Truth::True
        );
        // Sets that approve no particular source: an attacker finds an address inside.
        assert_eq!(out(r#"not ip.src in {0.0.0.0/0}"#).truth, Truth::False);
        assert_eq!(out(r#"not ip.src in {::/0}"#).truth, Truth::False);
        assert_eq!(
            out(r#"not ip.src in {0.0.0.0/1 128.0.0.0/1}"#).truth,
            Truth::False
        );
        assert_eq!(out(r#"not ip.src in {10.0.0.0/7}"#).truth, Truth::False);
        assert_eq!(out(r#"not ip.src in $everyone"#).truth, Truth::False);
        // Unread lists are opaque; Cloudflare's managed lists depend on the client.
        assert!(out(r#"not ip.src in $unread"#).opaque);
        assert!(out(r#"not ip.src in $missing"#).opaque);
        let managed = out(r#"not ip.src in $cf.botnetcc"#);
        assert_eq!((managed.truth, managed.opaque), (Truth::Unknown, false));
        // A country or header condition is not an allowlist of sources.
        assert_eq!(out(r#"ip.src.country ne "GB""#).truth, Truth::Unknown);
        assert!(out(r#"not ip.src in {bogus}"#).opaque);
    }

    #[test]
    fn glob_matches() {
        assert!(glob("webhook.example.com", "*.example.com"));
        assert!(glob("a.b.c", "a*c"));
        assert!(glob("abc", "*"));
        assert!(!glob("example.com", "*.example.com"));
        assert!(!glob("ab", "a*b*c"));
        assert!(glob("aXbYc", "a*b*c"));
    }
}
