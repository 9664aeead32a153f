//! A lazily decoded audit event. The top level of the JSON object is indexed once (key →
//! byte range of the raw value, no allocation per value). A top-level value becomes a
//! `serde_json::Value` only the first time a rule reads it, and is then cached. The bulky
//! `requestObject`/`responseObject` are therefore parsed only for the few events whose
//! rules get past the cheap checks (stage, verb, resource).

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

#[derive(Debug, Clone)]
enum Key {
    /// Byte range of the key inside the event text (keys without escapes).
    Range(usize, usize),
    Owned(Box<str>),
}

#[derive(Debug, Clone)]
struct Entry {
    /// Length and first/last bytes of the key: most lookups are settled without a memcmp.
    print: u32,
    key: Key,
    start: usize,
    end: usize,
    cache: OnceCell<Value>,
}

/// One audit event (a JSON object), indexed at the top level.
#[derive(Debug, Clone)]
pub struct Event {
    text: Box<str>,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct KeyStr<'a>(#[serde(borrow)] Cow<'a, str>);

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::with_capacity(20);
        while let Some(k) = m.next_key::<KeyStr<'de>>()? {
            let val: &'de RawValue = m.next_value()?;
            v.push((k.0, val));
        }
        Ok(v)
    }
}

/// Why a text is not an event object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    /// Not valid JSON.
    Syntax(String),
    /// Valid JSON, but not an object.
    NotObject,
}

fn fingerprint(k: &str) -> u32 {
    let b = k.as_bytes();
    let len = u32::try_from(b.len().min(0xffff)).unwrap_or(0xffff);
    len | u32::from(b.first().copied().unwrap_or(0)) << 16
        | u32::from(b.last().copied().unwrap_or(0)) << 24
}

fn offset(base: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize)
}

impl Event {
    /// Indexes a JSON object's text (copied into the event).
    pub fn parse(text: &str) -> Result<Event, ParseFailure> {
        let text: Box<str> = Box::from(text.trim());
        let pairs = {
            let mut de = serde_json::Deserializer::from_str(&text);
            let pairs = match serde::Deserializer::deserialize_map(&mut de, TopVisitor) {
                Ok(p) => p,
                Err(e) if e.classify() == serde_json::error::Category::Data => {
                    // Distinguish "valid JSON but not an object" from syntax errors.
                    return match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                        Ok(_) => Err(ParseFailure::NotObject),
                        Err(e) => Err(ParseFailure::Syntax(e.to_string())),
                    };
                }
                Err(e) => return Err(ParseFailure::Syntax(e.to_string())),
            };
            de.end().map_err(|e| ParseFailure::Syntax(e.to_string()))?;
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let print = fingerprint(&k);
                    let key = match k {
                        Cow::Borrowed(s) => {
                            let o = offset(&text, s);
                            Key::Range(o, o + s.len())
                        }
                        Cow::Owned(s) => Key::Owned(s.into_boxed_str()),
                    };
                    let raw = v.get();
                    let start = offset(&text, raw);
                    Entry {
                        print,
                        key,
                        start,
                        end: start + raw.len(),
                        cache: OnceCell::new(),
                    }
                })
                .collect()
        };
        Ok(Event {
            text,
            entries: pairs,
        })
    }

    /// Builds an event from a JSON value (tests, redaction).
    pub fn from_value(v: &Value) -> Event {
        Event::parse(&v.to_string()).unwrap_or(Event {
            text: Box::from("{}"),
            entries: Vec::new(),
        })
    }

    fn key<'a>(&'a self, e: &'a Entry) -> &'a str {
        match &e.key {
            Key::Range(a, b) => self.text.get(*a..*b).unwrap_or_default(),
            Key::Owned(s) => s,
        }
    }

    /// The last entry with this key (JSON duplicate keys: the last one wins, as in serde_json).
    fn find(&self, key: &str) -> Option<&Entry> {
        let p = fingerprint(key);
        self.entries
            .iter()
            .rev()
            .find(|e| e.print == p && self.key(e) == key)
    }

    /// The raw JSON text of a top-level value.
    pub fn raw(&self, key: &str) -> Option<&str> {
        let e = self.find(key)?;
        self.text.get(e.start..e.end)
    }

    /// A top-level value, decoded on first use.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let e = self.find(key)?;
        Some(e.cache.get_or_init(|| {
            self.text
                .get(e.start..e.end)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null)
        }))
    }

    /// A top-level string value.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The event's JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The whole event as a `Value` (decodes everything).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Top-level keys, in document order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| self.key(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_lazy_values() {
        let e =
            Event::parse(r#" {"kind":"Event","n":1,"o":{"a":[1,2]},"k\"q":"esc","n":2} "#).unwrap();
        assert_eq!(e.get_str("kind"), Some("Event"));
        assert_eq!(
            e.get("n"),
            Some(&Value::from(2)),
            "last duplicate wins, like serde_json"
        );
        assert_eq!(e.raw("o"), Some(r#"{"a":[1,2]}"#));
        assert_eq!(
            e.get("o").and_then(|o| o.pointer("/a/1")),
            Some(&Value::from(2))
        );
        assert_eq!(e.get_str("k\"q"), Some("esc"));
        assert!(e.get("missing").is_none());
        assert_eq!(e.keys().count(), 5);
    }

    #[test]
    fn failures() {
        assert_eq!(Event::parse("[1]").unwrap_err(), ParseFailure::NotObject);
        assert_eq!(Event::parse("0").unwrap_err(), ParseFailure::NotObject);
        assert!(matches!(
            Event::parse("{\"a\":").unwrap_err(),
            ParseFailure::Syntax(_)
        ));
        assert!(matches!(
            Event::parse("{} x").unwrap_err(),
            ParseFailure::Syntax(_)
        ));
    }
}
