//! The documents a streaming scan keeps for the cross-object pass, packed into bytes, and the
//! [`Docs`] access the analyses use, so they run the same over a slice of documents or a
//! packed set.
//!
//! A `serde_json::Value` costs far more than its text: every mapping is a B-tree node of about
//! 600 bytes however few keys it has, every string its own allocation. A packed document is
//! one byte buffer for the value and its spans together (on the corpus 1.35x the values' JSON
//! text; a scan of it x10 peaked at 28 MB of heap instead of 56), decoded back to a
//! [`Document`] only while the model is built and when a finding or waiver needs it.
//!
//! The encoding is written here because no compact binary format in reach round-trips a
//! `serde_json::Value` (postcard and bincode cannot deserialize self-describing data) and the
//! JSON text route would hit serde_json's nesting limit below the loader's.

use palisade_core::{Document, Span, SpanChildren, SpanTree};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// Random access to a set of documents by position, borrowed or decoded.
pub trait Docs {
    /// How many documents there are.
    fn count(&self) -> usize;
    /// Document `i`, or `None` past the end.
    fn doc(&self, i: usize) -> Option<Cow<'_, Document>>;
    /// Document `i` with its value but possibly without source positions (an empty span
    /// tree) when that is cheaper: building the models reads values only, and decoding the
    /// positions of every kept object was a third of the packed set's decoding.
    fn doc_value(&self, i: usize) -> Option<Cow<'_, Document>> {
        self.doc(i)
    }
}

impl Docs for [Document] {
    fn count(&self) -> usize {
        self.len()
    }
    fn doc(&self, i: usize) -> Option<Cow<'_, Document>> {
        self.get(i).map(Cow::Borrowed)
    }
}

impl Docs for Vec<Document> {
    fn count(&self) -> usize {
        self.len()
    }
    fn doc(&self, i: usize) -> Option<Cow<'_, Document>> {
        self.get(i).map(Cow::Borrowed)
    }
}

/// One packed document.
#[derive(Debug, Clone)]
struct Entry {
    file: Arc<str>,
    index: usize,
    item: Option<usize>,
    value: Box<[u8]>,
    spans: Box<[u8]>,
    /// Set by the caller at [`Packed::push`]: the waiver pass needs this document back.
    marked: bool,
}

/// Documents packed for the cross-object pass, in the order they were pushed.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    entries: Vec<Entry>,
}

impl Packed {
    pub fn new() -> Packed {
        Packed::default()
    }

    /// Packs `doc`; `marked` documents come back from [`Packed::marked`].
    pub fn push(&mut self, doc: &Document, marked: bool) {
        let mut value = Vec::new();
        put_value(&mut value, &doc.value);
        let mut spans = Vec::new();
        put_spans(&mut spans, &doc.spans);
        self.entries.push(Entry {
            file: doc.file.clone(),
            index: doc.index,
            item: doc.item,
            value: value.into_boxed_slice(),
            spans: spans.into_boxed_slice(),
            marked,
        });
    }

    /// Appends another set after this one.
    pub fn append(&mut self, mut other: Packed) {
        self.entries.append(&mut other.entries);
    }

    /// Bytes held by the packed values and spans (for benchmarks and tests).
    pub fn packed_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.value.len() + e.spans.len())
            .sum()
    }

    /// The documents pushed with `marked` set, decoded.
    pub fn marked(&self) -> Vec<Document> {
        self.entries
            .iter()
            .filter(|e| e.marked)
            .map(decode)
            .collect()
    }
}

impl Docs for Packed {
    fn count(&self) -> usize {
        self.entries.len()
    }
    fn doc(&self, i: usize) -> Option<Cow<'_, Document>> {
        self.entries.get(i).map(|e| Cow::Owned(decode(e)))
    }
    fn doc_value(&self, i: usize) -> Option<Cow<'_, Document>> {
        self.entries.get(i).map(|e| {
            Cow::Owned(Document {
                file: e.file.clone(),
                index: e.index,
                item: e.item,
                value: Reader::new(&e.value).value().unwrap_or(Value::Null),
                spans: SpanTree::default(),
            })
        })
    }
}

fn decode(e: &Entry) -> Document {
    // The bytes were written by `put_*` in this process; a decode failure would be a bug here,
    // and an empty value makes the analyses skip the object rather than abort the scan.
    let value = Reader::new(&e.value).value().unwrap_or(Value::Null);
    let spans = Reader::new(&e.spans).spans().unwrap_or_default();
    Document {
        file: e.file.clone(),
        index: e.index,
        item: e.item,
        value,
        spans,
    }
}

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const U64: u8 = 3;
const I64: u8 = 4;
const F64: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

const LEAF: u8 = 0;
const MAP: u8 = 1;
const SEQ: u8 = 2;

fn put_uint(out: &mut Vec<u8>, mut n: u64) {
    // LEB128: small counts and line numbers take one or two bytes.
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push(U64);
                put_uint(out, u);
            } else if let Some(i) = n.as_i64() {
                out.push(I64);
                out.extend_from_slice(&i.to_le_bytes());
            } else {
                out.push(F64);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(STRING);
            put_str(out, s);
        }
        Value::Array(items) => {
            out.push(ARRAY);
            put_uint(out, items.len() as u64);
            for x in items {
                put_value(out, x);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            put_uint(out, map.len() as u64);
            for (k, x) in map {
                put_str(out, k);
                put_value(out, x);
            }
        }
    }
}

fn put_spans(out: &mut Vec<u8>, t: &SpanTree) {
    put_uint(out, u64::from(t.span.line));
    put_uint(out, u64::from(t.span.column));
    match &t.children {
        SpanChildren::Leaf => out.push(LEAF),
        SpanChildren::Map(entries) => {
            out.push(MAP);
            put_uint(out, entries.len() as u64);
            for (k, child) in entries {
                put_str(out, k);
                put_spans(out, child);
            }
        }
        SpanChildren::Seq(items) => {
            out.push(SEQ);
            put_uint(out, items.len() as u64);
            for child in items {
                put_spans(out, child);
            }
        }
    }
}

/// Reads what `put_*` wrote; `None` on anything else.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn uint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.uint()?).ok()
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.uint()?).ok()
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            U64 => Value::Number(Number::from(self.uint()?)),
            I64 => Value::Number(Number::from(i64::from_le_bytes(self.eight()?))),
            F64 => Value::Number(Number::from_f64(f64::from_le_bytes(self.eight()?))?),
            STRING => Value::String(self.string()?),
            ARRAY => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::Array(items)
            }
            OBJECT => {
                let n = self.len()?;
                let mut map = Map::new();
                for _ in 0..n {
                    let k = self.string()?;
                    let v = self.value()?;
                    map.insert(k, v);
                }
                Value::Object(map)
            }
            _ => return None,
        })
    }

    fn spans(&mut self) -> Option<SpanTree> {
        let span = Span {
            line: self.u32()?,
            column: self.u32()?,
        };
        let children = match self.byte()? {
            LEAF => SpanChildren::Leaf,
            MAP => {
                let n = self.len()?;
                let mut entries = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    let k = self.string()?;
                    entries.push((k, self.spans()?));
                }
                SpanChildren::Map(entries)
            }
            SEQ => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.spans()?);
                }
                SpanChildren::Seq(items)
            }
            _ => return None,
        };
        Some(SpanTree { span, children })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value, spans: SpanTree) -> Document {
        Document {
            file: Arc::from("f.yaml"),
            index: 3,
            item: Some(1),
            value,
            spans,
        }
    }

    #[test]
    fn round_trips_every_value_type_and_span_shape() {
        let value = json!({
            "a": null, "b": true, "c": false, "d": 0, "e": u64::MAX, "f": -5, "g": i64::MIN,
            "h": 1.5, "i": -0.25e300, "j": "", "k": "π ünïcode", "l": [], "m": {},
            "n": [1, [2, {"x": ["y"]}]], "": "empty key"
        });
        let spans = SpanTree {
            span: Span { line: 1, column: 1 },
            children: SpanChildren::Map(vec![
                ("a".into(), SpanTree::leaf(Span { line: 2, column: 3 })),
                // Duplicate keys stay, in source order.
                (
                    "a".into(),
                    SpanTree::leaf(Span {
                        line: 300,
                        column: 70_000,
                    }),
                ),
                (
                    "n".into(),
                    SpanTree {
                        span: Span {
                            line: u32::MAX,
                            column: 0,
                        },
                        children: SpanChildren::Seq(vec![SpanTree::leaf(Span {
                            line: 5,
                            column: 9,
                        })]),
                    },
                ),
            ]),
        };
        let mut p = Packed::new();
        p.push(&doc(value.clone(), spans.clone()), false);
        p.push(&doc(json!("scalar"), SpanTree::default()), true);
        assert_eq!(p.count(), 2);
        let back = p.doc(0).unwrap();
        assert_eq!(back.value, value);
        assert_eq!(back.spans, spans);
        assert_eq!((&*back.file, back.index, back.item), ("f.yaml", 3, Some(1)));
        let marked = p.marked();
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].value, json!("scalar"));
        assert!(p.doc(2).is_none());
    }

    #[test]
    fn truncated_or_foreign_bytes_decode_to_none() {
        let mut bytes = Vec::new();
        put_value(&mut bytes, &json!({"k": ["v", 1]}));
        for n in 0..bytes.len() {
            assert_eq!(Reader::new(&bytes[..n]).value(), None, "prefix {n}");
        }
        assert_eq!(Reader::new(&[99]).value(), None);
        assert_eq!(Reader::new(&[STRING, 2, 0xff, 0xfe]).value(), None);
        // A huge declared count fails on the bytes, not on an allocation.
        assert_eq!(
            Reader::new(&[ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f]).value(),
            None
        );
    }
}
