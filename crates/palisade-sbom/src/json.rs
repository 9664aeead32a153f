//! Typed access to a JSON tree that names the field on every type error.

use crate::SbomError;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A document's top level: each member still raw JSON text (borrowed from the input), so a
/// member is only built as a tree when it is read, and `files` or `vulnerabilities` never are.
pub(crate) type Top<'a> = BTreeMap<String, &'a RawValue>;

/// The input's name plus the path prefix of the document inside it.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub input: &'a str,
}

impl Ctx<'_> {
    /// `raw` (the JSON text of a member or an item) as a tree.
    pub fn tree(&self, raw: &RawValue, path: &str) -> Result<Value, SbomError> {
        serde_json::from_str(raw.get()).map_err(|e| self.err(path, e.to_string()))
    }

    /// `raw` as a top level of its own (an in-toto predicate); `None` when it is no object.
    pub fn top<'v>(&self, raw: &'v RawValue) -> Option<Top<'v>> {
        serde_json::from_str(raw.get()).ok()
    }

    /// `top[key]` as a tree; `None` when absent or null.
    pub fn member(&self, top: &Top<'_>, key: &str, path: &str) -> Result<Option<Value>, SbomError> {
        match top.get(key) {
            None => Ok(None),
            Some(raw) => match self.tree(raw, &join(path, key))? {
                Value::Null => Ok(None),
                v => Ok(Some(v)),
            },
        }
    }

    /// `top[key]` as a string that must be there.
    pub fn top_str(&self, top: &Top<'_>, key: &str, path: &str) -> Result<String, SbomError> {
        match self.member(top, key, path)? {
            Some(Value::String(s)) => Ok(s),
            None => Err(self.err(&join(path, key), "required field is missing")),
            Some(other) => Err(self.err(
                &join(path, key),
                format!("expected a string, found {}", kind(&other)),
            )),
        }
    }

    /// `top[key]` as an array of raw items; empty when absent or null.
    pub fn items<'v>(
        &self,
        top: &Top<'v>,
        key: &str,
        path: &str,
    ) -> Result<Vec<&'v RawValue>, SbomError> {
        let Some(raw) = top.get(key) else {
            return Ok(Vec::new());
        };
        let text = raw.get().trim_start();
        if text.starts_with("null") {
            return Ok(Vec::new());
        }
        if !text.starts_with('[') {
            let found = self.tree(raw, &join(path, key))?;
            return Err(self.err(
                &join(path, key),
                format!("expected an array, found {}", kind(&found)),
            ));
        }
        serde_json::from_str(raw.get()).map_err(|e| self.err(&join(path, key), e.to_string()))
    }

    pub fn err(&self, field: &str, message: impl Into<String>) -> SbomError {
        SbomError::Field {
            input: self.input.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn object<'v>(
        &self,
        v: &'v Value,
        path: &str,
    ) -> Result<&'v Map<String, Value>, SbomError> {
        v.as_object()
            .ok_or_else(|| self.err(path, format!("expected an object, found {}", kind(v))))
    }

    /// `obj[key]` as a string; `None` when absent or null.
    pub fn opt_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'v str>, SbomError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(
                &join(path, key),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    /// `obj[key]` as a string that must be there.
    pub fn req_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v str, SbomError> {
        self.opt_str(obj, key, path)?
            .ok_or_else(|| self.err(&join(path, key), "required field is missing"))
    }

    /// `obj[key]` as an array; empty when absent or null.
    pub fn array<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v [Value], SbomError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.err(
                &join(path, key),
                format!("expected an array, found {}", kind(other)),
            )),
        }
    }
}

/// `path.key` (or `key` at the root).
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
