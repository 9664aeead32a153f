//! JSON input, read the way kubectl reads it: when a file's first non-blank character is
//! `{`, kubectl decodes it as a stream of JSON values (Go's `encoding/json`), not as YAML.
//! This small iterative tokenizer turns that stream into the same parser events the YAML
//! path produces, so documents get the same builder, limits and spans. It accepts what Go
//! accepts (strict JSON, surrogate-pair escapes, lone surrogates become U+FFFD), which a
//! YAML parser does not.

use crate::build::Builder;
use crate::{At, Limits, LoadError, Sink, objects};
use saphyr_parser::{Event, Marker, ScalarStyle, Span};
use std::borrow::Cow;

/// A JSON syntax error: message and position (1-based line, 0-based char column).
struct JsonError {
    message: String,
    line: usize,
    col: usize,
}

struct Lexer<'t> {
    text: &'t str,
    pos: usize,
    line: usize,
    /// Byte offset where the current line starts (columns are counted in chars from it).
    line_start: usize,
    /// The char column of a byte offset on the current line, from the last [`Lexer::marker`]:
    /// the next one counts on from there, so a file on one line (minified JSON) costs one
    /// pass over it instead of one pass from the line start per node.
    col_at: std::cell::Cell<(usize, usize)>,
}

#[derive(PartialEq)]
enum Container {
    Object,
    Array,
}

/// What the tokenizer expects next inside the innermost container.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// A value (top level, after `:` or after `,` in an array).
    Value,
    /// First key or `}`.
    KeyOrEnd,
    /// A key (after `,` in an object).
    Key,
    /// `:` after a key.
    Colon,
    /// First value or `]`.
    ValueOrEnd,
    /// `,` or the closing bracket.
    CommaOrEnd,
}

impl<'t> Lexer<'t> {
    fn new(text: &'t str) -> Lexer<'t> {
        Lexer {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            col_at: std::cell::Cell::new((0, 0)),
        }
    }

    fn marker(&self) -> Marker {
        let (mut from, mut col) = self.col_at.get();
        // A new line, or a step back (only on errors): count from the line start.
        if from <= self.line_start || from > self.pos {
            (from, col) = (self.line_start, 0);
        }
        let counted = self.text.get(from..self.pos).map_or(0, count_chars);
        #[cfg(test)]
        COUNTED.with(|c| c.set(c.get() + (self.pos - from)));
        col += counted;
        self.col_at.set((self.pos, col));
        Marker::new(self.pos, self.line, col)
    }

    fn err(&self, message: impl Into<String>) -> JsonError {
        let m = self.marker();
        JsonError {
            message: message.into(),
            line: m.line(),
            col: m.col(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    /// A string starting at `"`; returns its decoded text.
    fn string(&mut self) -> Result<Cow<'t, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        // Fast path: no escapes.
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(self.text.get(start..i).unwrap_or("")));
                }
                b'\\' => break,
                0..=0x1F => {
                    self.pos = i;
                    return Err(self.err("control character in a JSON string"));
                }
                _ => i += 1,
            }
        }
        let mut out = String::from(self.text.get(start..i).unwrap_or(""));
        self.pos = i;
        loop {
            let Some(c) = self.text.get(self.pos..).and_then(|s| s.chars().next()) else {
                return Err(self.err("unterminated JSON string"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                '\\' => {
                    let esc = self.peek_at(1);
                    self.pos += 2;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.peek() == Some(b'\\')
                                && self.peek_at(1) == Some(b'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    // Not a pair: the high one is replaced, the next escape
                                    // is read on its own.
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape in a JSON string"));
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.err("control character in a JSON string"));
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + n).copied()
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape in a JSON string"))?;
        self.pos += 4;
        Ok(h)
    }

    /// A number or `true`/`false`/`null`: the raw text, validated as JSON.
    fn bare(&mut self) -> Result<&'t str, JsonError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word = self.text.get(start..self.pos).unwrap_or("");
        if matches!(word, "true" | "false" | "null") || is_json_number(word) {
            Ok(word)
        } else {
            self.pos = start;
            Err(self.err(if word.is_empty() {
                "expected a JSON value".to_owned()
            } else {
                format!(
                    "invalid JSON value `{}`",
                    crate::resolve::truncate(word, 20)
                )
            }))
        }
    }
}

/// Nodes of each top-level value of a JSON text, as the builder counts them (strings, keys
/// included, other scalars, objects, arrays), by a pass over the bytes that builds nothing:
/// a value over the node limit is refused before its tree takes memory (without it, a 52 MB
/// file took GBs to reach the limit). Invalid JSON may be miscounted; the real pass reports it.
/// Used for texts over `events::WATCHED_BYTES` only.
fn node_counts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut nodes, mut i) = (0usize, 0usize, 0usize);
    while let Some(&c) = b.get(i) {
        let value_end = match c {
            b'"' => {
                // To the closing quote, over escapes.
                i += 1;
                while let Some(j) = b.get(i..).and_then(|r| memchr::memchr2(b'"', b'\\', r)) {
                    i += j;
                    if b.get(i) == Some(&b'\\') {
                        i += 2;
                    } else {
                        break;
                    }
                }
                nodes += 1;
                true
            }
            b'{' | b'[' => {
                nodes += 1;
                depth += 1;
                false
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                true
            }
            c if c.is_ascii_alphanumeric() || c == b'-' => {
                while b
                    .get(i + 1)
                    .is_some_and(|x| x.is_ascii_alphanumeric() || matches!(x, b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
                nodes += 1;
                true
            }
            _ => false,
        };
        if value_end && depth == 0 {
            out.push(nodes);
            nodes = 0;
        }
        i += 1;
    }
    out
}

/// Chars in `s`: its length when ASCII (the common case), counted otherwise.
fn count_chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes [`Lexer::marker`] has counted columns over, for the linearity test.
    static COUNTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// Loads a JSON stream into `sink`. Returns false on a JSON syntax error (recorded in
/// `sink`), so that the caller may read a non-`.json` file as YAML instead.
pub(crate) fn load_json(sink: &mut Sink<'_>, text: &str, limits: &Limits) -> bool {
    let mut lx = Lexer::new(text);
    let counts = (text.len() > crate::events::WATCHED_BYTES).then(|| node_counts(text));
    sink.out.grant_tree(text.len(), limits);
    let mut index = 0usize;
    let mut stack: Vec<Container> = Vec::new();
    let mut expect = Expect::Value;
    let mut builder: Option<Builder<'_>> = None;
    let mut skipping = false;
    loop {
        lx.skip_ws();
        let start = lx.marker();
        let Some(b) = lx.peek() else {
            if stack.is_empty() && expect == Expect::Value {
                return true;
            }
            return fail(sink, &lx.err("unexpected end of JSON input"), index);
        };
        if stack.is_empty() && expect == Expect::Value {
            // A new top-level value: a new document.
            if index >= limits.max_documents_per_file {
                sink.error(
                    At::doc(index),
                    &crate::limit_error(
                        crate::LimitKind::DocumentsPerFile,
                        limits.max_documents_per_file as u64,
                        format_args!(
                            "the file has more than {} JSON values; the rest was not read",
                            limits.max_documents_per_file
                        ),
                    ),
                );
                return true;
            }
            let mut fresh = Builder::new(limits, 0);
            fresh.allowance = sink.out.tree_left.unwrap_or(usize::MAX);
            builder = Some(fresh);
            skipping = false;
            let nodes = counts.as_ref().and_then(|c| c.get(index)).copied();
            // Not for an array: it is never kept, its items are built one at a time.
            if nodes.is_some_and(|n| n > limits.max_nodes) && b != b'[' {
                // Refused before its tree takes memory (see `node_counts`).
                let e = crate::build::DocError::Limit {
                    span: crate::build::to_span(&start, 0),
                    limit: crate::LimitKind::Nodes,
                    value: limits.max_nodes,
                };
                crate::stream::report_doc_error(sink, index, &e);
                builder = None;
                skipping = true;
            }
        }
        let mut ev: Option<Event<'_>> = None;
        match (expect, b) {
            (Expect::Value | Expect::ValueOrEnd, b'{') => {
                lx.pos += 1;
                stack.push(Container::Object);
                ev = Some(Event::MappingStart(0, None));
                expect = Expect::KeyOrEnd;
            }
            (Expect::Value | Expect::ValueOrEnd, b'[') => {
                lx.pos += 1;
                stack.push(Container::Array);
                ev = Some(Event::SequenceStart(0, None));
                expect = Expect::ValueOrEnd;
            }
            (Expect::KeyOrEnd | Expect::CommaOrEnd, b'}')
                if stack.last() == Some(&Container::Object) =>
            {
                lx.pos += 1;
                stack.pop();
                ev = Some(Event::MappingEnd);
                expect = Expect::CommaOrEnd;
            }
            (Expect::ValueOrEnd | Expect::CommaOrEnd, b']')
                if stack.last() == Some(&Container::Array) =>
            {
                lx.pos += 1;
                stack.pop();
                ev = Some(Event::SequenceEnd);
                expect = Expect::CommaOrEnd;
            }
            (Expect::CommaOrEnd, b',') if !stack.is_empty() => {
                lx.pos += 1;
                expect = if stack.last() == Some(&Container::Object) {
                    Expect::Key
                } else {
                    Expect::Value
                };
            }
            (Expect::Colon, b':') => {
                lx.pos += 1;
                expect = Expect::Value;
            }
            (Expect::Key | Expect::KeyOrEnd, b'"') => match lx.string() {
                Ok(s) => {
                    ev = Some(Event::Scalar(s, ScalarStyle::DoubleQuoted, 0, None));
                    expect = Expect::Colon;
                }
                Err(e) => return fail(sink, &e, index),
            },
            (Expect::Value | Expect::ValueOrEnd, b'"') => match lx.string() {
                Ok(s) => {
                    ev = Some(Event::Scalar(s, ScalarStyle::DoubleQuoted, 0, None));
                    expect = Expect::CommaOrEnd;
                }
                Err(e) => return fail(sink, &e, index),
            },
            (Expect::Value | Expect::ValueOrEnd, _) => match lx.bare() {
                Ok(w) => {
                    ev = Some(Event::Scalar(Cow::Borrowed(w), ScalarStyle::Plain, 0, None));
                    expect = Expect::CommaOrEnd;
                }
                Err(e) => return fail(sink, &e, index),
            },
            _ => {
                let what = match expect {
                    Expect::Colon => "expected `:` after an object key",
                    Expect::Key | Expect::KeyOrEnd => "expected a string object key",
                    _ => "expected `,` or a closing bracket",
                };
                return fail(sink, &lx.err(what), index);
            }
        }
        if stack.is_empty() && expect == Expect::CommaOrEnd {
            expect = Expect::Value;
        }
        if let Some(ev) = ev
            && !skipping
            && let Some(b) = builder.as_mut()
            && let Err(e) = b.event(ev, &Span::new(start, start))
        {
            crate::stream::report_doc_error(sink, index, &e);
            builder = None;
            skipping = true;
        }
        if stack.is_empty() && expect == Expect::Value {
            // The top-level value is complete.
            if let Some(mut b) = builder.take() {
                crate::stream::take_tree_share(sink, &b);
                for n in &b.take_notes() {
                    sink.note(At::span(index, n.span), n.kind, n.message.clone());
                }
                if let Some(root) = b.finish() {
                    objects::emit_root(sink, index, root);
                }
            }
            index += 1;
        }
    }
}

fn fail(sink: &mut Sink<'_>, e: &JsonError, index: usize) -> bool {
    sink.error(
        At {
            document: Some(index),
            line: u32::try_from(e.line).ok(),
            column: u32::try_from(e.col + 1).ok(),
        },
        &LoadError::Syntax {
            reason: format!("JSON: {}; the rest of the file was not read", e.message),
            rest_skipped: false,
        },
    );
    false
}

#[cfg(test)]
mod tests {
    use super::{COUNTED, is_json_number, load_json};
    use crate::{Limits, Loaded, Sink};

    /// Loads `text` as JSON; returns the documents loaded and the bytes counted for columns.
    fn load_counting(text: &str) -> (Loaded, usize) {
        let mut out = Loaded::default();
        let mut sink = Sink {
            file: "t.json".into(),
            out: &mut out,
        };
        COUNTED.with(|c| c.set(0));
        assert!(load_json(&mut sink, text, &Limits::default()));
        (out, COUNTED.with(std::cell::Cell::get))
    }

    /// Issue 14 item 6: columns were counted from the line start for every node, so a
    /// `kind: List` on one line took time in the square of its length. The same objects on one
    /// line and pretty-printed must cost about the same column counting: at most the text's
    /// length (each byte counted once) — the quadratic count was ~500x the text here.
    #[test]
    fn columns_on_one_long_line_cost_linear_work() {
        let pod = |i: usize| {
            format!(
                r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p{i}","labels":{{"é":"ü"}}}},"spec":{{"hostPID":true,"containers":[{{"name":"c","image":"x:{i}","args":["a","b"]}}]}}}}"#
            )
        };
        let items: Vec<String> = (0..500).map(pod).collect();
        let one_line = format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
            items.join(",")
        );
        let pretty = format!(
            "{{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {}\n  ]\n}}\n",
            items.join(",\n    ")
        );
        let (a, counted_one_line) = load_counting(&one_line);
        let (b, counted_pretty) = load_counting(&pretty);
        assert_eq!(a.documents.len(), 500);
        assert_eq!(b.documents.len(), 500);
        for (x, y) in a.documents.iter().zip(&b.documents) {
            assert_eq!(x.value, y.value);
        }
        // Columns are still right on the long line (in chars: `é`/`ü` are 2 bytes each).
        let last = a.documents.last().unwrap();
        let span = last.locate(&palisade_core::FieldPath::parse("spec.hostPID"));
        let prefix = one_line.rfind(r#""hostPID""#).unwrap();
        assert_eq!(span.line, 1);
        assert_eq!(span.column as usize, one_line[..prefix].chars().count() + 1);
        assert!(
            counted_one_line <= one_line.len(),
            "one line: {counted_one_line} bytes counted for {} bytes of text",
            one_line.len()
        );
        assert!(
            counted_one_line <= 2 * counted_pretty.max(1) + one_line.len() / 10,
            "one line {counted_one_line}, pretty {counted_pretty}"
        );
    }

    #[test]
    fn json_numbers() {
        for ok in ["0", "-0", "12", "1.5", "1e3", "-1.25E-7", "10.0e+2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e", "0x1F", "1_000", "Infinity", "NaN",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
