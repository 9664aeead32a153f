//! Python core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`) → PyPI packages.

use palisade_core::inventory::{Package, PackageKind};

use crate::purl;

/// Reads the RFC 822 header block (the body after the first blank line is the description).
pub(crate) fn packages(path: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation of the previous field (multi-line License texts).
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("header line {line:?} has no ':'"));
        };
        fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let name = field("name").ok_or("no Name field")?;
    let version = field("version").ok_or("no Version field")?;
    Ok(vec![Package {
        kind: PackageKind::Pypi,
        name: name.to_string(),
        purl: purl::pypi(name, version),
        version: version.to_string(),
        licenses: licenses(&fields),
        path: Some(path.to_string()),
        ..Package::default()
    }])
}

/// PEP 639 `License-Expression` first, then a one-line `License`, then the license
/// classifiers' last segments.
fn licenses(fields: &[(String, String)]) -> Vec<String> {
    fn values<'a>(
        fields: &'a [(String, String)],
        name: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        fields
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    if let Some(expression) = values(fields, "license-expression").next() {
        return vec![expression.to_string()];
    }
    if let Some(license) = values(fields, "license").next()
        && !license.contains('\n')
        && license.len() <= 100
        && !license.eq_ignore_ascii_case("unknown")
    {
        return vec![license.to_string()];
    }
    values(fields, "classifier")
        .filter_map(|c| c.strip_prefix("License ::"))
        .filter_map(|c| c.rsplit("::").next())
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && c != "OSI Approved")
        .collect()
}
