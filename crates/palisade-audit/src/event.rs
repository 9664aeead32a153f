//! One audit event: its JSON text and the tape of the whole object ([`crate::json`]),
//! parsed and validated once. Rules read fields through borrowed [`J`] views, so reading a
//! field allocates nothing; only strings with escapes were decoded (once, at parse time).

use crate::json::{self, J, Tape};
use serde_json::Value;

/// One audit event (a JSON object).
#[derive(Debug, Clone)]
pub struct Event {
    text: Box<str>,
    tape: Tape,
    /// Top-level members: (key fingerprint, tape index of the value). Rules read top-level
    /// members hundreds of times per event; the fingerprint settles most lookups without
    /// comparing key bytes.
    top: Vec<(u32, u32)>,
}

/// Length and first/last bytes of a key.
fn fingerprint(k: &str) -> u32 {
    let b = k.as_bytes();
    let len = u32::try_from(b.len().min(0xffff)).unwrap_or(0xffff);
    len | u32::from(b.first().copied().unwrap_or(0)) << 16
        | u32::from(b.last().copied().unwrap_or(0)) << 24
}

/// Why a text is not an event object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    /// Not valid JSON.
    Syntax(String),
    /// Valid JSON, but not an object.
    NotObject,
}

impl Event {
    /// Parses and validates a JSON object's text (copied into the event).
    pub fn parse(text: &str) -> Result<Event, ParseFailure> {
        let text: Box<str> = Box::from(text.trim());
        let tape = json::parse(&text).map_err(|e| ParseFailure::Syntax(e.to_string()))?;
        let root = J::root(&text, &tape);
        if !root.is_object() {
            return Err(ParseFailure::NotObject);
        }
        // Audit events have about 20 top-level members: one allocation, no regrowth.
        let mut top = Vec::with_capacity(24);
        top.extend(
            root.entries_indexed()
                .map(|(k, i)| (fingerprint(k), u32::try_from(i).unwrap_or(u32::MAX))),
        );
        Ok(Event { text, tape, top })
    }

    /// Builds an event from a JSON value (tests, redaction).
    pub fn from_value(v: &Value) -> Event {
        Event::parse(&v.to_string()).unwrap_or_else(|_| Event {
            text: Box::from("{}"),
            tape: json::parse("{}").unwrap_or_default(),
            top: Vec::new(),
        })
    }

    /// The whole event object.
    pub fn root(&self) -> J<'_> {
        J::root(&self.text, &self.tape)
    }

    /// A top-level value (the last one if the key repeats, like serde_json).
    pub fn get(&self, key: &str) -> Option<J<'_>> {
        let fp = fingerprint(key);
        let root = self.root();
        self.top.iter().rev().find_map(|&(f, i)| {
            let i = i as usize;
            (f == fp && root.at(i.wrapping_sub(1)).key_is(key)).then(|| root.at(i))
        })
    }

    /// The raw JSON text of a top-level value.
    pub fn raw(&self, key: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get(key).map(|v| v.raw())
    }

    /// A top-level string value.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.as_str())
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
        self.root().entries().map(|(k, _)| k)
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
            e.get("n").map(|v| v.to_value()),
            Some(Value::from(2)),
            "last duplicate wins, like serde_json"
        );
        assert_eq!(e.raw("o").as_deref(), Some(r#"{"a":[1,2]}"#));
        assert_eq!(
            e.get("o")
                .and_then(|o| o.get("a"))
                .and_then(|a| a.index(1))
                .map(|v| v.to_value()),
            Some(Value::from(2))
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
