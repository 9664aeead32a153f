//! Falco condition language: parser (text → [`Expr`], once per rule/macro at load time)
//! and the compiled, evaluable form ([`Node`]).

use crate::event::Event;
use crate::fields::{Field, Vals};
use std::collections::HashSet;
use std::sync::Arc;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    PMatch,
    In,
    Intersects,
    Exists,
}

impl Op {
    fn from_word(w: &str) -> Option<Op> {
        Some(match w {
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "pmatch" => Op::PMatch,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

/// A right-hand-side value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: String,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    None,
    One(Item),
    List(Vec<Item>),
}

/// Parsed (not yet resolved) condition. `pos` are byte offsets into the condition text.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Macro {
        name: String,
        pos: usize,
    },
    Cmp {
        field: String,
        arg: Option<String>,
        op: Op,
        rhs: Rhs,
        pos: usize,
    },
}

/// A syntax error at byte `pos`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub pos: usize,
    pub message: String,
}

/// Nesting limit for parentheses/`not`, so hostile rule files cannot overflow the stack.
pub const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-'
}

/// Parses a condition.
pub fn parse(s: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        s,
        b: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    let e = p.or()?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected text after the end of the expression"));
    }
    Ok(e)
}

impl<'a> Parser<'a> {
    fn err(&self, m: impl Into<String>) -> ParseError {
        ParseError {
            pos: self.i,
            message: m.into(),
        }
    }
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    /// Is the keyword `kw` at the cursor (followed by a non-identifier byte)?
    fn at_kw(&self, kw: &str) -> bool {
        let end = self.i + kw.len();
        self.b
            .get(self.i..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(kw.as_bytes()))
            && !self.b.get(end).is_some_and(|&c| is_ident(c))
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("expression nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut v = vec![self.and()?];
        loop {
            self.ws();
            if self.at_kw("or") {
                self.i += 2;
                v.push(self.and()?);
            } else {
                break;
            }
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Expr::Or(Vec::new()))
        } else {
            Expr::Or(v)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut v = vec![self.not()?];
        loop {
            self.ws();
            if self.at_kw("and") {
                self.i += 3;
                v.push(self.not()?);
            } else {
                break;
            }
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(v)
        })
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        self.ws();
        if self.at_kw("not") {
            self.i += 3;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.ws();
        match self.peek() {
            None => Err(self.err("unexpected end of condition: expected a field, macro or '('")),
            Some(b'(') => {
                self.i += 1;
                self.enter()?;
                let e = self.or()?;
                self.depth -= 1;
                self.ws();
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')'"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if is_ident_start(c) => {
                let pos = self.i;
                if self.at_kw("and") || self.at_kw("or") {
                    return Err(self.err("expected a field, macro or '(' before this operator"));
                }
                while self.peek().is_some_and(is_ident) {
                    self.i += 1;
                }
                let name = self.s.get(pos..self.i).unwrap_or_default().to_string();
                let mut arg = None;
                if self.peek() == Some(b'[') {
                    let start = self.i + 1;
                    let Some(rel) = self
                        .b
                        .get(start..)
                        .and_then(|r| r.iter().position(|&c| c == b']'))
                    else {
                        return Err(self.err("unterminated '[' in field argument"));
                    };
                    arg = Some(
                        self.s
                            .get(start..start + rel)
                            .unwrap_or_default()
                            .to_string(),
                    );
                    self.i = start + rel + 1;
                }
                self.ws();
                let Some(op) = self.op()? else {
                    if arg.is_some() {
                        return Err(ParseError {
                            pos,
                            message: format!("field '{name}' needs an operator"),
                        });
                    }
                    return Ok(Expr::Macro { name, pos });
                };
                let rhs = self.rhs(op)?;
                Ok(Expr::Cmp {
                    field: name,
                    arg,
                    op,
                    rhs,
                    pos,
                })
            }
            Some(_) => Err(self.err("expected a field, macro or '('")),
        }
    }

    fn op(&mut self) -> Result<Option<Op>, ParseError> {
        let two = self.b.get(self.i..self.i + 2);
        let sym = match two {
            Some(b"==") => Some((Op::Eq, 2)),
            Some(b"!=") => Some((Op::Ne, 2)),
            Some(b"<=") => Some((Op::Le, 2)),
            Some(b">=") => Some((Op::Ge, 2)),
            _ => match self.peek() {
                Some(b'=') => Some((Op::Eq, 1)),
                Some(b'<') => Some((Op::Lt, 1)),
                Some(b'>') => Some((Op::Gt, 1)),
                _ => None,
            },
        };
        if let Some((op, n)) = sym {
            self.i += n;
            return Ok(Some(op));
        }
        let start = self.i;
        let mut end = start;
        while self.b.get(end).is_some_and(|c| c.is_ascii_alphabetic()) {
            end += 1;
        }
        if end == start || self.b.get(end).is_some_and(|&c| is_ident(c)) {
            return Ok(None);
        }
        let word = self
            .s
            .get(start..end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if word == "regex" {
            return Err(
                self.err("operator 'regex' is not supported by Palisade; use glob or pmatch")
            );
        }
        match Op::from_word(&word) {
            Some(op) => {
                self.i = end;
                Ok(Some(op))
            }
            None => Ok(None),
        }
    }

    fn rhs(&mut self, op: Op) -> Result<Rhs, ParseError> {
        if op == Op::Exists {
            return Ok(Rhs::None);
        }
        self.ws();
        if op.takes_list() {
            if self.peek() != Some(b'(') {
                return Err(self.err("expected '(' starting a list of values"));
            }
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.ws();
                match self.peek() {
                    Some(b')') => {
                        self.i += 1;
                        return Ok(Rhs::List(items));
                    }
                    Some(b',') => {
                        self.i += 1;
                    }
                    None => return Err(self.err("unterminated list: expected ')'")),
                    Some(_) => items.push(self.value()?),
                }
            }
        }
        Ok(Rhs::One(self.value()?))
    }

    fn value(&mut self) -> Result<Item, ParseError> {
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let Some(c) = self.s.get(self.i..).and_then(|r| r.chars().next()) else {
                        return Err(self.err("unterminated quoted string"));
                    };
                    self.i += c.len_utf8();
                    if c as u32 == u32::from(q) {
                        return Ok(Item {
                            text: out,
                            quoted: true,
                        });
                    }
                    if c == '\\' {
                        let Some(n) = self.s.get(self.i..).and_then(|r| r.chars().next()) else {
                            return Err(self.err("unterminated quoted string"));
                        };
                        self.i += n.len_utf8();
                        match n {
                            'n' => out.push('\n'),
                            't' => out.push('\t'),
                            other => out.push(other),
                        }
                    } else {
                        out.push(c);
                    }
                }
            }
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c.is_ascii_whitespace() || matches!(c, b'(' | b')' | b',' | b'"' | b'\'') {
                        break;
                    }
                    self.i += 1;
                }
                if start == self.i {
                    return Err(self.err("expected a value"));
                }
                Ok(Item {
                    text: self.s.get(start..self.i).unwrap_or_default().to_string(),
                    quoted: false,
                })
            }
        }
    }
}

/// Compiled comparison.
#[derive(Debug, Clone)]
pub struct Cmp {
    pub field: Field,
    pub op: Op,
    /// The value(s), after list expansion.
    pub values: Vec<String>,
    set: HashSet<String>,
    lower: Vec<String>,
    bytes: Vec<Vec<u8>>,
}

impl Cmp {
    pub fn new(field: Field, op: Op, values: Vec<String>) -> Result<Cmp, String> {
        let set = values.iter().cloned().collect();
        let lower = values.iter().map(|v| v.to_lowercase()).collect();
        let mut bytes = Vec::new();
        if matches!(op, Op::BContains | Op::BStartsWith) {
            for v in &values {
                bytes.push(decode_hex(v).ok_or_else(|| {
                    format!("operator needs an even-length hex string, got '{v}'")
                })?);
            }
        }
        if !op.takes_list() && op != Op::Exists && values.len() != 1 {
            return Err("operator needs exactly one value".into());
        }
        Ok(Cmp {
            field,
            op,
            values,
            set,
            lower,
            bytes,
        })
    }

    fn first(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or_default()
    }

    fn scalar(&self, v: &str) -> bool {
        let rhs = self.first();
        match self.op {
            Op::Eq => v == rhs,
            Op::Ne => v != rhs,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let ord = match (v.parse::<f64>(), rhs.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a.partial_cmp(&b),
                    _ => Some(v.cmp(rhs)),
                };
                let Some(ord) = ord else { return false };
                match self.op {
                    Op::Lt => ord.is_lt(),
                    Op::Le => ord.is_le(),
                    Op::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                }
            }
            Op::Contains => v.contains(rhs),
            Op::IContains => v
                .to_lowercase()
                .contains(self.lower.first().map(String::as_str).unwrap_or_default()),
            Op::BContains => self.bytes.first().is_some_and(|n| {
                n.is_empty() || v.as_bytes().windows(n.len()).any(|w| w == n.as_slice())
            }),
            Op::StartsWith => v.starts_with(rhs),
            Op::BStartsWith => self
                .bytes
                .first()
                .is_some_and(|n| v.as_bytes().starts_with(n)),
            Op::EndsWith => v.ends_with(rhs),
            Op::Glob => glob(rhs.as_bytes(), v.as_bytes()),
            Op::IGlob => glob(
                self.lower
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default()
                    .as_bytes(),
                v.to_lowercase().as_bytes(),
            ),
            Op::PMatch => self.values.iter().any(|p| path_prefix(p, v)),
            Op::In | Op::Intersects => self.member(v),
            Op::Exists => true,
        }
    }

    /// Set membership: a linear scan beats hashing for the short lists most rules use.
    fn member(&self, v: &str) -> bool {
        if self.values.len() <= 12 {
            self.values.iter().any(|x| x == v)
        } else {
            self.set.contains(v)
        }
    }

    /// Evaluates this comparison on already extracted values.
    pub fn test(&self, vals: &Vals<'_>) -> bool {
        let vs = vals.as_slice();
        if vs.is_empty() {
            // A field that is not available makes every comparison false (as in Falco).
            return false;
        }
        match self.op {
            Op::Exists => true,
            Op::In if self.field.list => vs.iter().all(|v| self.member(v)),
            Op::PMatch if self.field.list => vs.iter().all(|v| self.scalar(v)),
            // Falco rejects other operators on list fields; Palisade applies them to each
            // value and matches when any value does (documented in docs/audit.md).
            _ => vs.iter().any(|v| self.scalar(v)),
        }
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// `pmatch`: `v` is `prefix` or lies below it as a path.
fn path_prefix(prefix: &str, v: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        return v.starts_with('/');
    }
    v == p || (v.starts_with(p) && v.as_bytes().get(p.len()) == Some(&b'/'))
}

/// fnmatch-style glob without FNM_PATHNAME: `*` (any run, including `/`), `?`, `[...]`
/// (with `!`/`^` negation and ranges), `\` escapes. Iterative, linear backtracking.
pub fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = pat.get(p) {
            match pc {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' if i < s.len() => {
                    if let Some((matched, next)) = class(pat, p, s.get(i).copied().unwrap_or(0)) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if s.get(i) == Some(&b'[') {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                b'\\' if pat.get(p + 1).is_some() && s.get(i) == pat.get(p + 1) => {
                    p += 2;
                    i += 1;
                    continue;
                }
                c if c != b'?' && c != b'[' && c != b'\\' && s.get(i) == Some(&c) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp + 1;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches a `[...]` class at `pat[p]`; returns (matched, index after the class), or `None`
/// if the class is unterminated.
fn class(pat: &[u8], p: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = p + 1;
    let negate = matches!(pat.get(j), Some(b'!') | Some(b'^'));
    if negate {
        j += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &pc = pat.get(j)?;
        if pc == b']' && !first {
            return Some((matched != negate, j + 1));
        }
        first = false;
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&e| e != b']') {
            let hi = *pat.get(j + 2)?;
            if pc <= c && c <= hi {
                matched = true;
            }
            j += 3;
        } else {
            if pc == c {
                matched = true;
            }
            j += 1;
        }
    }
}

/// Compiled condition.
#[derive(Debug, Clone)]
pub enum Node {
    Const(bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A macro's condition, shared by every rule that uses the macro; the id indexes the
    /// per-event memo, so a macro is evaluated at most once per event.
    Shared(Arc<Node>, u32),
    Cmp(Box<Cmp>),
}

/// Per-event results of shared (macro) nodes: 0 unknown, 1 false, 2 true.
#[derive(Debug, Clone, Default)]
pub struct Memo(Vec<u8>);

impl Memo {
    pub fn new(slots: usize) -> Memo {
        Memo(vec![0; slots])
    }

    /// Forgets all results (call before each event).
    pub fn reset(&mut self) {
        self.0.fill(0);
    }
}

impl Node {
    /// Evaluates without a memo (each macro is evaluated where it is used).
    pub fn eval(&self, ev: &Event) -> bool {
        self.eval_memo(ev, &mut Memo::default())
    }

    /// Evaluates, reusing and recording macro results in `memo` (sized for the rule set;
    /// a too-small memo only loses the reuse).
    pub fn eval_memo(&self, ev: &Event, memo: &mut Memo) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(v) => v.iter().all(|n| n.eval_memo(ev, memo)),
            Node::Or(v) => v.iter().any(|n| n.eval_memo(ev, memo)),
            Node::Not(n) => !n.eval_memo(ev, memo),
            Node::Shared(n, id) => {
                let slot = *id as usize;
                match memo.0.get(slot) {
                    Some(1) => false,
                    Some(2) => true,
                    _ => {
                        let r = n.eval_memo(ev, memo);
                        if let Some(s) = memo.0.get_mut(slot) {
                            *s = if r { 2 } else { 1 };
                        }
                        r
                    }
                }
            }
            Node::Cmp(c) if c.op == Op::Exists => c.field.exists(ev),
            Node::Cmp(c) => c.test(&c.field.extract(ev)),
        }
    }

    /// The values a single-valued field must have for this condition to be true, when the
    /// condition pins them down (`f = v`, `f in (...)` on every path); `None` = unconstrained.
    /// Used to skip rules that cannot match an event without evaluating them.
    pub fn required_values(&self, is_key: &dyn Fn(&Field) -> bool) -> Option<Vec<String>> {
        match self {
            Node::Const(_) | Node::Not(_) => None,
            Node::Shared(n, _) => n.required_values(is_key),
            Node::And(v) => {
                let mut acc: Option<Vec<String>> = None;
                for n in v {
                    if let Some(s) = n.required_values(is_key) {
                        acc = Some(match acc {
                            None => s,
                            Some(a) => a.into_iter().filter(|x| s.contains(x)).collect(),
                        });
                    }
                }
                acc
            }
            Node::Or(v) => {
                let mut acc = Vec::new();
                for n in v {
                    acc.extend(n.required_values(is_key)?);
                }
                acc.sort();
                acc.dedup();
                Some(acc)
            }
            Node::Cmp(c) if is_key(&c.field) && !c.field.list => match c.op {
                Op::Eq | Op::In | Op::Intersects => Some(c.values.clone()),
                _ => None,
            },
            Node::Cmp(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::resolve;
    use serde_json::json;

    fn cmp(field: &str, op: Op, vals: &[&str]) -> Cmp {
        let (name, arg) = match field.split_once('[') {
            Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
            None => (field, None),
        };
        Cmp::new(
            resolve(name, arg).unwrap(),
            op,
            vals.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap()
    }

    fn ev() -> Event {
        Event::from_value(
            &json!({"verb":"create","user":{"username":"System:Bob","groups":["g1","g2"]},
               "requestURI":"/api/v1/namespaces/default/pods","responseStatus":{"code":201},
               "requestObject":{"spec":{"volumes":[{"hostPath":{"path":"/etc/kubernetes"}}]}}}),
        )
    }

    #[test]
    fn parse_shapes_and_positions() {
        let e = parse("a and not (b or ka.verb in (x, 'y z', l)) and ka.uri exists").unwrap();
        let Expr::And(v) = e else { panic!() };
        assert_eq!(v.len(), 3);
        assert!(matches!(&v[0], Expr::Macro { name, pos: 0 } if name == "a"));
        let err = parse("ka.verb = ").unwrap_err();
        assert_eq!(err.pos, 10);
        let err = parse("(a and b").unwrap_err();
        assert!(err.message.contains("')'"), "{err:?}");
        assert!(parse("a and").is_err());
        assert!(parse("ka.verb in x").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("ka.verb regex x").is_err());
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 5),
            ")".repeat(MAX_DEPTH + 5)
        );
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn parse_field_args_and_symbols() {
        let e = parse("jevt.value[/a/b c]!=x and ka.response.code>=200").unwrap();
        let Expr::And(v) = e else { panic!() };
        assert!(
            matches!(&v[0], Expr::Cmp { field, arg: Some(a), op: Op::Ne, .. } if field == "jevt.value" && a == "/a/b c")
        );
        assert!(matches!(&v[1], Expr::Cmp { op: Op::Ge, .. }));
        let e = parse("ka.uri=/healthz or ka.uri startswith \"/healthz?\"").unwrap();
        assert!(matches!(e, Expr::Or(_)));
        let e = parse("NOT x AND y").unwrap();
        assert!(matches!(e, Expr::And(_)));
    }

    #[test]
    fn every_operator() {
        let e = ev();
        let t = |c: Cmp| c.test(&c.field.extract(&e));
        assert!(t(cmp("ka.verb", Op::Eq, &["create"])));
        assert!(!t(cmp("ka.verb", Op::Eq, &["Create"])));
        assert!(t(cmp("ka.verb", Op::Ne, &["get"])));
        assert!(t(cmp("ka.response.code", Op::Lt, &["300"])));
        assert!(t(cmp("ka.response.code", Op::Le, &["201"])));
        assert!(!t(cmp("ka.response.code", Op::Gt, &["201"])));
        assert!(t(cmp("ka.response.code", Op::Ge, &["201"])));
        assert!(
            t(cmp("ka.response.code", Op::Gt, &["99"])),
            "numeric, not lexicographic"
        );
        assert!(t(cmp("ka.uri", Op::Contains, &["namespaces"])));
        assert!(!t(cmp("ka.user.name", Op::Contains, &["system"])));
        assert!(t(cmp("ka.user.name", Op::IContains, &["SYSTEM:b"])));
        assert!(t(cmp("ka.verb", Op::BContains, &["6561"])));
        assert!(t(cmp("ka.verb", Op::BStartsWith, &["6372"])));
        assert!(t(cmp("ka.uri", Op::StartsWith, &["/api/"])));
        assert!(t(cmp("ka.uri", Op::EndsWith, &["/pods"])));
        assert!(t(cmp("ka.uri", Op::Glob, &["/api/*/namespaces/*/pod?"])));
        assert!(!t(cmp("ka.uri", Op::Glob, &["/apis/*"])));
        assert!(t(cmp("ka.user.name", Op::IGlob, &["system:*"])));
        assert!(t(cmp("ka.uri", Op::PMatch, &["/x", "/api/v1"])));
        assert!(!t(cmp("ka.uri", Op::PMatch, &["/api/v"])));
        assert!(t(cmp("ka.verb", Op::In, &["get", "create"])));
        assert!(!t(cmp("ka.verb", Op::In, &["get"])));
        assert!(t(cmp("ka.verb", Op::Intersects, &["create"])));
        assert!(t(cmp("ka.verb", Op::Exists, &[])));
        assert!(!t(cmp("ka.impuser.name", Op::Exists, &[])));
        // Missing field: every comparison is false, even !=.
        assert!(!t(cmp("ka.impuser.name", Op::Ne, &["x"])));
    }

    #[test]
    fn list_field_semantics() {
        let e = ev();
        let t = |c: Cmp| c.test(&c.field.extract(&e));
        assert!(
            t(cmp("ka.user.groups", Op::In, &["g1", "g2", "g3"])),
            "in: all values in set"
        );
        assert!(!t(cmp("ka.user.groups", Op::In, &["g1"])));
        assert!(
            t(cmp("ka.user.groups", Op::Intersects, &["g2", "zz"])),
            "intersects: any"
        );
        assert!(!t(cmp("ka.user.groups", Op::Intersects, &["zz"])));
        assert!(
            t(cmp("ka.user.groups", Op::Eq, &["g2"])),
            "other ops: any value"
        );
        assert!(t(cmp("ka.req.pod.volumes.hostpath", Op::PMatch, &["/etc"])));
        assert!(!t(cmp("ka.req.pod.containers.image", Op::Exists, &[])));
        assert!(
            !t(cmp("ka.req.pod.containers.image", Op::In, &["x"])),
            "empty list is missing"
        );
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,120}") {
            let _ = parse(&s);
        }

        #[test]
        fn parser_never_panics_on_conditionish(s in r#"(ka\.verb|not|and|or|in|\(|\)|=|!=|"|'|,| |x|\[|\]|exists|contains){0,40}"#) {
            let _ = parse(&s);
        }

        #[test]
        fn glob_never_panics(p in "[a*?\\[\\]!^-]{0,12}", s in "[a\\[\\]-]{0,12}") {
            let _ = glob(p.as_bytes(), s.as_bytes());
        }
    }

    #[test]
    fn glob_cases() {
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"aXXbYYc"));
        assert!(!glob(b"a*b*c", b"aXXbYY"));
        assert!(glob(b"[a-c]x", b"bx"));
        assert!(!glob(b"[!a-c]x", b"bx"));
        assert!(glob(b"\\*", b"*"));
        assert!(!glob(b"\\*", b"a"));
        assert!(glob(b"[", b"["));
    }

    #[test]
    fn bad_values_rejected_at_compile() {
        let f = resolve("ka.verb", None).unwrap();
        assert!(Cmp::new(f.clone(), Op::BContains, vec!["abc".into()]).is_err());
        assert!(Cmp::new(f, Op::Eq, vec![]).is_err());
    }
}
