//! Typed access to a JSON tree that names the field on every type error.

use crate::SbomError;
use serde_json::{Map, Value};

/// The input's name plus the path prefix of the document inside it.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub input: &'a str,
}

impl Ctx<'_> {
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
