//! cargo-auditable's dependency list (`.dep-v0` JSON) → Cargo packages.

use palisade_core::inventory::{Package, PackageKind};
use serde::Deserialize;

use crate::purl;

#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<AuditablePackage>,
}

#[derive(Deserialize)]
struct AuditablePackage {
    name: String,
    version: String,
    /// `runtime` when omitted; `build` crates are not linked into the binary.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
}

/// Runtime crates of one binary; `json` is the inflated `.dep-v0` payload.
pub(crate) fn packages(path: &str, json: &[u8]) -> Result<Vec<Package>, String> {
    let info: VersionInfo = serde_json::from_slice(json).map_err(|e| format!("JSON: {e}"))?;
    let count = info.packages.len();
    let mut out = Vec::with_capacity(count);
    for (index, package) in info.packages.iter().enumerate() {
        if let Some(bad) = package.dependencies.iter().find(|d| **d >= count) {
            return Err(format!(
                "packages[{index}] ({}) depends on index {bad}, but there are {count} packages",
                package.name
            ));
        }
        if package.name.is_empty() || package.version.is_empty() {
            return Err(format!("packages[{index}] has an empty name or version"));
        }
        if package.kind.as_deref() == Some("build") {
            continue;
        }
        out.push(Package {
            kind: PackageKind::Cargo,
            name: package.name.clone(),
            purl: purl::cargo(&package.name, &package.version),
            version: package.version.clone(),
            path: Some(path.to_string()),
            ..Package::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_crates_only_and_indices_checked() {
        let json = br#"{"packages":[
            {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
            {"name":"serde","version":"1.0.197","source":"crates.io"},
            {"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"}]}"#;
        let pkgs = packages("usr/bin/app", json).unwrap();
        let names: Vec<&str> = pkgs.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            names,
            vec!["pkg:cargo/app@0.1.0", "pkg:cargo/serde@1.0.197"]
        );
        let bad = br#"{"packages":[{"name":"a","version":"1","dependencies":[3]}]}"#;
        assert!(packages("x", bad).unwrap_err().contains("index 3"));
    }
}
