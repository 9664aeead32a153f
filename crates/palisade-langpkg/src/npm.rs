//! npm `node_modules/**/package.json` → npm packages.

use palisade_core::inventory::{Package, PackageKind};
use serde_json::Value;

use crate::purl;

/// A manifest without string `name` and `version` is not an installed package (a workspace
/// root or a directory's module-type marker) and yields nothing.
pub(crate) fn packages(path: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("JSON: {e}"))?;
    let (Some(name), Some(version)) = (
        value.get("name").and_then(Value::as_str),
        value.get("version").and_then(Value::as_str),
    ) else {
        return Ok(Vec::new());
    };
    if name.is_empty() || version.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Package {
        kind: PackageKind::Npm,
        name: name.to_string(),
        purl: purl::npm(name, version),
        version: version.to_string(),
        licenses: licenses(&value),
        path: Some(path.to_string()),
        ..Package::default()
    }])
}

/// `license` as a string or `{ "type": … }`, or the deprecated `licenses` array.
fn licenses(value: &Value) -> Vec<String> {
    let one = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    };
    if let Some(license) = value.get("license").and_then(one) {
        return vec![license];
    }
    value
        .get("licenses")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(one).collect())
        .unwrap_or_default()
}
