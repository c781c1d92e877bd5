//! A small, three-valued evaluator for the Cloudflare Rules language, enough to ask "does this
//! rule's expression match a request to the webhook?". It owns the parsing and evaluation of the
//! clauses we support (fields `http.host`, `http.request.uri.path`, `http.request.full_uri`,
//! `http.request.uri`, `http.request.method`, `ssl`; operators `eq ne == != contains wildcard
//! strict wildcard in < <= > >= lt le gt ge`; `and or xor not`; functions `lower upper
//! starts_with ends_with len`). It must not guess: any field, function or operator it does not
//! know (or any text it cannot parse) evaluates to `Unknown`, so callers can choose the
//! conservative reading (a coverage check needs `True`; an override check counts `Unknown`).

/// Kleene three-valued truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
    fn and(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
    fn or(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
    fn xor(self, o: Truth) -> Truth {
        match (self, o) {
            (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
            (a, b) => Truth::from_bool(a != b),
        }
    }
}

/// The request an expression is asked about. Webhook deliveries are HTTPS POSTs, so `ssl` is
/// true and the method is `POST`; everything else about the request (client IP, headers, threat
/// score, …) is unknown.
pub struct Request<'a> {
    pub host: &'a str,
    pub path: &'a str,
}

/// Evaluates `expr` for `req`. Unparseable text is `Unknown`.
pub fn eval(expr: &str, req: &Request) -> Truth {
    let toks = match lex(expr) {
        Some(t) => t,
        None => return Truth::Unknown,
    };
    let mut p = Parser { toks, pos: 0 };
    let node = match p.expr(0) {
        Some(n) if p.pos == p.toks.len() => n,
        _ => return Truth::Unknown,
    };
    truth(&node.eval(req))
}

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
    /// `$list_name`: a list reference, whose content we never know.
    List,
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
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                out.push(Tok::List);
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
    Call(String, Vec<Operand>),
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Set(Vec<Val>),
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
            Tok::List => Operand::Unknown,
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
                            _ => args.push(self.operand()?),
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
    fn value(&self, req: &Request) -> Val {
        match self {
            Operand::Str(s) => Val::Str(s.clone()),
            Operand::Word(w) => match w.as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                _ => w.parse().map(Val::Int).unwrap_or(Val::Str(w.clone())),
            },
            Operand::Field(f) => match f.as_str() {
                "http.host" => Val::Str(req.host.to_ascii_lowercase()),
                "http.request.uri.path" | "raw.http.request.uri.path" | "http.request.uri" => {
                    Val::Str(req.path.to_string())
                }
                "http.request.full_uri" => Val::Str(format!(
                    "https://{}{}",
                    req.host.to_ascii_lowercase(),
                    req.path
                )),
                "http.request.method" => Val::Str("POST".into()),
                "ssl" => Val::Bool(true),
                _ => Val::Unknown,
            },
            Operand::Set(items) => Val::Set(items.iter().map(|i| i.value(req)).collect()),
            Operand::Call(name, args) => {
                let a: Vec<Val> = args.iter().map(|x| x.value(req)).collect();
                match (name.as_str(), a.as_slice()) {
                    ("lower", [Val::Str(s)]) => Val::Str(s.to_lowercase()),
                    ("upper", [Val::Str(s)]) => Val::Str(s.to_uppercase()),
                    ("len", [Val::Str(s)]) => Val::Int(s.len() as i64),
                    ("starts_with", [Val::Str(s), Val::Str(p)]) => Val::Bool(s.starts_with(p)),
                    ("ends_with", [Val::Str(s), Val::Str(p)]) => Val::Bool(s.ends_with(p)),
                    _ => Val::Unknown,
                }
            }
            Operand::Unknown => Val::Unknown,
        }
    }
}

impl Node {
    fn eval(&self, req: &Request) -> Val {
        let t = match self {
            Node::Value(o) => return o.value(req),
            Node::And(a, b) => truth(&a.eval(req)).and(truth(&b.eval(req))),
            Node::Or(a, b) => truth(&a.eval(req)).or(truth(&b.eval(req))),
            Node::Xor(a, b) => truth(&a.eval(req)).xor(truth(&b.eval(req))),
            Node::Not(a) => truth(&a.eval(req)).not(),
            Node::Cmp(l, op, r) => compare(&l.value(req), op, &r.value(req)),
        };
        match t {
            Truth::True => Val::Bool(true),
            Truth::False => Val::Bool(false),
            Truth::Unknown => Val::Unknown,
        }
    }
}

fn compare(l: &Val, op: &str, r: &Val) -> Truth {
    if *l == Val::Unknown || *r == Val::Unknown {
        return Truth::Unknown;
    }
    match (op, l, r) {
        ("eq" | "==", a, b) => Truth::from_bool(a == b),
        ("ne" | "!=", a, b) => Truth::from_bool(a != b),
        ("contains", Val::Str(a), Val::Str(b)) => Truth::from_bool(a.contains(b.as_str())),
        ("wildcard", Val::Str(a), Val::Str(p)) => {
            Truth::from_bool(glob(&a.to_lowercase(), &p.to_lowercase()))
        }
        ("strict wildcard", Val::Str(a), Val::Str(p)) => Truth::from_bool(glob(a, p)),
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
        // `matches` (regex) and anything else we do not model.
        _ => Truth::Unknown,
    }
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
        eval(
            expr,
            &Request {
                host: "webhook.example.com",
                path: "/hooks/github",
            },
        )
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
        assert_eq!(ev(r#"http.host matches "^web""#), Truth::Unknown);
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
        let root = Request {
            host: "webhook.example.com",
            path: "/",
        };
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
