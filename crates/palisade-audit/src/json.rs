//! A validating JSON parser that writes a flat *tape* (one [`Node`] per value, each knowing
//! where its subtree ends), and [`J`], a borrowed view for navigating it.
//!
//! Why not `serde_json::Value`: an audit event is read by dozens of rules, and decoding it
//! into a `Value` costs an allocation per string, array and map entry (most of the time of
//! the whole pipeline). The tape is one `Vec` per event; strings borrow from the line and
//! only strings with escapes are decoded, once, into a side buffer. Parsing validates the
//! full RFC 8259 grammar (same acceptance as `serde_json` for UTF-8 input, same nesting
//! limit of 128), so a broken line is still reported as a bad line.

use serde_json::Value;
use std::borrow::Cow;

/// Deepest nesting accepted (serde_json's default recursion limit).
pub const MAX_DEPTH: usize = 128;

const OBJ: u8 = 1;
const ARR: u8 = 2;
const STR: u8 = 3;
/// A string that had escapes: `start..end` index the decoded side buffer.
const STR_ESC: u8 = 4;
const NUM: u8 = 5;
const TRUE: u8 = 6;
const FALSE: u8 = 7;
const NULL: u8 = 8;

/// One value on the tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    tag: u8,
    start: u32,
    end: u32,
    /// Index of the node after this value's subtree.
    next: u32,
}

const NULL_NODE: Node = Node {
    tag: NULL,
    start: 0,
    end: 0,
    next: 0,
};

/// A parsed JSON text: the tape plus the decoded escaped strings.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    nodes: Vec<Node>,
    esc: String,
}

/// Where and why a text is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: &'static str,
    /// Byte offset of the problem.
    pub pos: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at column {}", self.message, self.pos + 1)
    }
}

struct Parser<'a> {
    /// The text, as bytes for scanning and as a `str` for copying decoded runs.
    s: &'a str,
    b: &'a [u8],
    i: usize,
    tape: Tape,
}

type R = Result<(), SyntaxError>;

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask with the high bit set in the lowest byte of `w` that is `"`, `\\` or a control
/// character (higher bytes may be false positives after a true one: only the lowest set
/// bit is exact, which is all the caller uses).
fn special_mask(w: u64) -> u64 {
    let quote = w ^ (LO * u64::from(b'"'));
    let bs = w ^ (LO * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let ctrl = w.wrapping_sub(LO * 0x20) & !w & HI;
    zero(quote) | zero(bs) | ctrl
}

/// Index of the first `"`, `\\` or control byte at or after `i` (or `b.len()`).
pub(crate) fn plain_run(b: &[u8], mut i: usize) -> usize {
    // 8 bytes at a time; the lowest flagged byte of a word is the answer.
    while let Some(w) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let m = special_mask(u64::from_le_bytes(a));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Appends `s` as a JSON string: the same bytes as `serde_json::to_writer(s)` (escapes
/// only `"`, `\\` and control characters; `\b \f \n \r \t` short, others `\u00xx`),
/// copying the runs between escapes whole.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut i = 0;
    while i < b.len() {
        let j = plain_run(b, i);
        out.extend_from_slice(b.get(i..j).unwrap_or_default());
        let Some(&c) = b.get(j) else { break };
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'));
            }
        }
        i = j + 1;
    }
    out.push(b'"');
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            message,
            pos: self.i,
        }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn push(&mut self, tag: u8, start: usize, end: usize) -> usize {
        let idx = self.tape.nodes.len();
        self.tape.nodes.push(Node {
            tag,
            start: u32_of(start),
            end: u32_of(end),
            next: u32_of(idx + 1),
        });
        idx
    }

    fn close(&mut self, idx: usize) {
        let (end, next) = (u32_of(self.i), u32_of(self.tape.nodes.len()));
        if let Some(n) = self.tape.nodes.get_mut(idx) {
            n.end = end;
            n.next = next;
        }
    }

    fn value(&mut self, depth: usize) -> R {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", TRUE),
            Some(b'f') => self.literal(b"false", FALSE),
            Some(b'n') => self.literal(b"null", NULL),
            Some(_) => Err(self.err("expected value")),
            None => Err(self.err("EOF while parsing a value")),
        }
    }

    fn literal(&mut self, word: &[u8], tag: u8) -> R {
        if self.b.get(self.i..self.i + word.len()) != Some(word) {
            return Err(self.err("expected value"));
        }
        self.push(tag, self.i, self.i + word.len());
        self.i += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - s
    }

    fn number(&mut self) -> R {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        self.push(NUM, start, self.i);
        Ok(())
    }

    /// At the opening quote. Pushes a STR or STR_ESC node.
    fn string(&mut self) -> R {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = plain_run(self.b, self.i);
            match self.b.get(self.i) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    match self.b.get(self.i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 2..self.i + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.err("invalid \\u escape"));
                            }
                            self.i += 6;
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(&c) if c < 0x20 => {
                    return Err(self.err("control character in string"));
                }
                Some(_) => self.i += 1,
                None => return Err(self.err("EOF while parsing a string")),
            }
        }
        let end = self.i;
        self.i += 1;
        if escaped {
            let raw = self.s.get(start..end).unwrap_or_default();
            let s = self.tape.esc.len();
            unescape(raw, &mut self.tape.esc);
            let e = self.tape.esc.len();
            self.push(STR_ESC, s, e);
        } else {
            self.push(STR, start, end);
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> R {
        if depth > MAX_DEPTH {
            return Err(self.err("nested deeper than 128 levels"));
        }
        let idx = self.push(OBJ, self.i, self.i);
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.close(idx);
            return Ok(());
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a string key"));
            }
            self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.value(depth)?;
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.close(idx);
                    return Ok(());
                }
                Some(_) => return Err(self.err("expected ',' or '}'")),
                None => return Err(self.err("EOF while parsing an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> R {
        if depth > MAX_DEPTH {
            return Err(self.err("nested deeper than 128 levels"));
        }
        let idx = self.push(ARR, self.i, self.i);
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            self.close(idx);
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.close(idx);
                    return Ok(());
                }
                Some(_) => return Err(self.err("expected ',' or ']'")),
                None => return Err(self.err("EOF while parsing a list")),
            }
        }
    }
}

fn hex4(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &c| {
        acc * 16 + char::from(c).to_digit(16).unwrap_or(0)
    })
}

/// Decodes the (already validated) body of a string with escapes straight into `out`.
/// Lone surrogates become U+FFFD, as Go's encoding/json (the API server's encoder) does.
fn unescape(raw: &str, out: &mut String) {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // The run up to the next backslash is whole chars: `\\` is ASCII.
        let j = memchr::memchr(b'\\', b.get(i..).unwrap_or_default()).map_or(b.len(), |k| i + k);
        out.push_str(raw.get(i..j).unwrap_or_default());
        if j >= b.len() {
            break;
        }
        let e = b.get(j + 1).copied().unwrap_or(b'\\');
        i = j + 2;
        let ch = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b.get(i..i + 4).unwrap_or_default());
                i += 4;
                if (0xD800..0xDC00).contains(&hi)
                    && b.get(i..i + 2) == Some(b"\\u")
                    && let lo = hex4(b.get(i + 2..i + 6).unwrap_or_default())
                    && (0xDC00..0xE000).contains(&lo)
                {
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        .unwrap_or('\u{fffd}')
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            other => char::from(other),
        };
        out.push(ch);
    }
}

/// Parses one JSON text (surrounding whitespace allowed, nothing after the value).
pub fn parse(text: &str) -> Result<Tape, SyntaxError> {
    if text.len() >= u32::MAX as usize {
        return Err(SyntaxError {
            message: "JSON text larger than 4 GiB",
            pos: 0,
        });
    }
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
        tape: Tape {
            nodes: Vec::with_capacity(64 + text.len() / 16),
            esc: String::new(),
        },
    };
    p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(p.tape)
}

/// A borrowed view of one value on a tape.
#[derive(Clone, Copy)]
pub struct J<'a> {
    text: &'a str,
    tape: &'a Tape,
    i: usize,
}

impl std::fmt::Debug for J<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl<'a> J<'a> {
    /// The root value of `tape` parsed from `text`.
    pub fn root(text: &'a str, tape: &'a Tape) -> J<'a> {
        J { text, tape, i: 0 }
    }

    fn node(&self) -> Node {
        self.tape.nodes.get(self.i).copied().unwrap_or(NULL_NODE)
    }

    fn at_index(&self, i: usize) -> J<'a> {
        J { i, ..*self }
    }

    /// The value at tape index `i` (an index from [`J::entries_indexed`]).
    pub fn at(&self, i: usize) -> J<'a> {
        self.at_index(i)
    }

    /// Members of an object as (key, tape index of the value).
    pub fn entries_indexed(self) -> impl Iterator<Item = (&'a str, usize)> + 'a {
        self.entries_from()
    }

    fn entries_from(self) -> impl Iterator<Item = (&'a str, usize)> + 'a {
        let n = self.node();
        let this = self;
        let mut k = if n.tag == OBJ { self.i + 1 } else { usize::MAX };
        let end = n.next as usize;
        std::iter::from_fn(move || {
            if k >= end {
                return None;
            }
            let key = this.at_index(k).as_str().unwrap_or_default();
            let v = k + 1;
            k = this.next_of(v);
            Some((key, v))
        })
    }

    fn next_of(&self, i: usize) -> usize {
        self.tape
            .nodes
            .get(i)
            .map_or(usize::MAX, |n| n.next as usize)
    }

    pub fn is_object(&self) -> bool {
        self.node().tag == OBJ
    }
    pub fn is_array(&self) -> bool {
        self.node().tag == ARR
    }
    pub fn is_null(&self) -> bool {
        self.node().tag == NULL
    }
    pub fn is_string(&self) -> bool {
        matches!(self.node().tag, STR | STR_ESC)
    }

    /// Member `key` of an object (the last one if the key repeats, like serde_json).
    pub fn get(&self, key: &str) -> Option<J<'a>> {
        let n = self.node();
        if n.tag != OBJ {
            return None;
        }
        let (mut k, end) = (self.i + 1, n.next as usize);
        let mut found = None;
        while k < end {
            let v = k + 1;
            if self.at_index(k).key_is(key) {
                found = Some(self.at_index(v));
            }
            k = self.next_of(v);
        }
        found
    }

    /// Elements of an array (nothing for other values).
    pub fn items(self) -> impl Iterator<Item = J<'a>> + 'a {
        let n = self.node();
        let this = self;
        let mut k = if n.tag == ARR { self.i + 1 } else { usize::MAX };
        let end = n.next as usize;
        std::iter::from_fn(move || {
            if k >= end {
                return None;
            }
            let cur = this.at_index(k);
            k = this.next_of(k);
            Some(cur)
        })
    }

    /// Members of an object, in document order (nothing for other values).
    pub fn entries(self) -> impl Iterator<Item = (&'a str, J<'a>)> + 'a {
        self.entries_from().map(move |(k, i)| (k, self.at_index(i)))
    }

    /// The `i`-th element of an array.
    pub fn index(&self, i: usize) -> Option<J<'a>> {
        self.items().nth(i)
    }

    /// Whether this string node equals `key` (byte comparison, length first).
    pub(crate) fn key_is(&self, key: &str) -> bool {
        let n = self.node();
        let (s, e) = (n.start as usize, n.end as usize);
        if e.wrapping_sub(s) != key.len() {
            return false;
        }
        let src = match n.tag {
            STR => self.text.as_bytes(),
            STR_ESC => self.tape.esc.as_bytes(),
            _ => return false,
        };
        src.get(s..e) == Some(key.as_bytes())
    }

    pub fn as_str(&self) -> Option<&'a str> {
        let n = self.node();
        let (s, e) = (n.start as usize, n.end as usize);
        match n.tag {
            STR => self.text.get(s..e),
            STR_ESC => self.tape.esc.get(s..e),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.node().tag {
            TRUE => Some(true),
            FALSE => Some(false),
            _ => None,
        }
    }

    /// The value's JSON text as it appears in the input (strings with their quotes).
    pub fn raw(&self) -> Cow<'a, str> {
        let n = self.node();
        match n.tag {
            STR => Cow::Borrowed(
                self.text
                    .get(n.start as usize - 1..n.end as usize + 1)
                    .unwrap_or_default(),
            ),
            STR_ESC => Cow::Owned(Value::from(self.as_str().unwrap_or_default()).to_string()),
            _ => Cow::Borrowed(
                self.text
                    .get(n.start as usize..n.end as usize)
                    .unwrap_or_default(),
            ),
        }
    }

    /// Falco's text of a value: a string as is, a number or literal as written, an object
    /// or array as compact JSON (keys sorted, as serde_json prints them).
    pub fn text(&self) -> Cow<'a, str> {
        let n = self.node();
        match n.tag {
            STR | STR_ESC => Cow::Borrowed(self.as_str().unwrap_or_default()),
            OBJ | ARR => Cow::Owned(self.to_value().to_string()),
            _ => self.raw(),
        }
    }

    /// The value as a `serde_json::Value` (allocates; for rare paths only).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.raw()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Value {
        let t = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        J::root(s, &t).to_value()
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        for s in [
            r#"{"a":[1,-2.5e+3,0,true,false,null,"x\"y\\u00e9\ud83d\ude00"],"b":{}," c ":[]}"#,
            " [ ] ",
            "0",
            "-0.0E-1",
            r#""\/\b\f\n\r\t""#,
            "{\"k\":\"é\"}",
        ] {
            let want: Value = serde_json::from_str(s).unwrap();
            assert_eq!(ok(s), want, "{s}");
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for s in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"a",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"a\u{1}b\"",
            "{} x",
            "[1 2]",
            "{1:2}",
            "nul",
        ] {
            assert!(
                serde_json::from_str::<Value>(s).is_err(),
                "serde accepts {s:?}"
            );
            assert!(parse(s).is_err(), "accepted {s:?}");
        }
    }

    #[test]
    fn nesting_limit() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&deep).is_ok());
        let deeper = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deeper).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn navigation() {
        let s =
            r#"{"a":{"b":[10,{"c":"d"}],"e\"":"q\nr"},"a2":1,"a2":2,"long":"0123456789abcdef"}"#;
        let t = parse(s).unwrap();
        let r = J::root(s, &t);
        let b = r.get("a").and_then(|a| a.get("b")).unwrap();
        assert_eq!(b.items().count(), 2);
        assert_eq!(b.index(0).unwrap().raw(), "10");
        assert_eq!(
            b.index(1).and_then(|x| x.get("c")).and_then(|c| c.as_str()),
            Some("d")
        );
        assert!(b.index(2).is_none());
        assert_eq!(
            r.get("a").and_then(|a| a.get("e\"")).unwrap().as_str(),
            Some("q\nr")
        );
        assert_eq!(r.get("a2").unwrap().raw(), "2", "last duplicate wins");
        assert_eq!(r.get("long").unwrap().as_str(), Some("0123456789abcdef"));
        assert_eq!(
            r.get("a").unwrap().text(),
            r#"{"b":[10,{"c":"d"}],"e\"":"q\nr"}"#
        );
        let keys: Vec<_> = r.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "a2", "a2", "long"]);
        assert!(r.get("missing").is_none() && b.get("x").is_none());
    }

    #[test]
    fn write_str_equals_serde() {
        let mut all = String::new();
        for c in (0u8..=0x7f)
            .map(char::from)
            .chain(['é', '€', '😀', '\u{2028}'])
        {
            all.push(c);
            all.push_str("ab");
        }
        for s in ["", "plain", "\"", "a\\b\"c", "01234567\n", all.as_str()] {
            let mut got = Vec::new();
            write_str(&mut got, s);
            assert_eq!(got, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn write_str_agrees_with_serde(s in "\\PC{0,40}|[\\x00-\\x20\"\\\\a]{0,20}") {
            let mut got = Vec::new();
            write_str(&mut got, &s);
            proptest::prop_assert_eq!(got, serde_json::to_vec(&s).unwrap());
        }
    }

    #[test]
    fn lone_surrogate_is_replaced() {
        let s = r#""\ud800x""#;
        let t = parse(s).unwrap();
        assert_eq!(J::root(s, &t).as_str(), Some("\u{fffd}x"));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json(s in r#"[{}\[\]":,a-z0-9 .eE+\\-]{0,40}"#) {
            // Lone surrogates: Go (the API server) and this parser accept them, serde_json not.
            proptest::prop_assume!(!s.contains("\\u"));
            let ours = parse(&s).map(|t| J::root(&s, &t).to_value());
            let theirs = serde_json::from_str::<Value>(&s);
            proptest::prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", s);
            if let (Ok(a), Ok(b)) = (ours, theirs) {
                proptest::prop_assert_eq!(a, b);
            }
        }
    }
}
