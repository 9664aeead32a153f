//! Java archives (`*.jar`, `*.war`, `*.ear`): every `META-INF/maven/<g>/<a>/pom.properties`
//! inside, and inside archives nested one level deep (Spring Boot `BOOT-INF/lib`, `WEB-INF/lib`).

use std::io::{Cursor, Read};

use palisade_core::inventory::{Package, PackageKind};

use crate::purl;

/// A pom.properties is a few hundred bytes; a bigger entry is not one.
const PROPERTIES_MAX: u64 = 64 * 1024;
/// Nested archives are inflated into memory one at a time, up to this size each.
const NESTED_MAX: u64 = 32 * 1024 * 1024;

pub(crate) fn packages(path: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    scan(path, bytes, true, &mut out)?;
    Ok(out)
}

fn is_pom_properties(name: &str) -> bool {
    name.strip_prefix("META-INF/maven/")
        .and_then(|rest| rest.strip_suffix("/pom.properties"))
        .is_some_and(|middle| middle.split('/').count() == 2)
}

fn scan(path: &str, bytes: &[u8], outer: bool, out: &mut Vec<Package>) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("zip: {e}"))?;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("zip entry {index}: {e}"))?;
        let name = entry
            .name()
            .map_err(|e| format!("zip entry {index} name: {e}"))?
            .to_string();
        if is_pom_properties(&name) {
            let mut text = Vec::new();
            entry
                .by_ref()
                .take(PROPERTIES_MAX)
                .read_to_end(&mut text)
                .map_err(|e| format!("{name}: {e}"))?;
            if let Some(package) = properties(path, &String::from_utf8_lossy(&text))
                && !out.contains(&package)
            {
                out.push(package);
            }
        } else if outer && crate::is_java_archive(&name) && entry.size() <= NESTED_MAX {
            let mut inner = Vec::new();
            entry
                .by_ref()
                .take(NESTED_MAX)
                .read_to_end(&mut inner)
                .map_err(|e| format!("{name}: {e}"))?;
            // A corrupt nested archive does not hide the outer archive's own packages.
            let _ = scan(path, &inner, false, out);
        }
    }
    Ok(())
}

/// `groupId`, `artifactId`, `version` from a Java properties text (`=` or `:` separators,
/// `#`/`!` comments); all three are required.
fn properties(path: &str, text: &str) -> Option<Package> {
    let mut group = None;
    let mut artifact = None;
    let mut version = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let (key, value) = (line.get(..split)?.trim(), line.get(split + 1..)?.trim());
        match key {
            "groupId" => group = Some(value),
            "artifactId" => artifact = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    let (group, artifact, version) = (group?, artifact?, version?);
    if group.is_empty() || artifact.is_empty() || version.is_empty() {
        return None;
    }
    Some(Package {
        kind: PackageKind::Maven,
        name: format!("{group}:{artifact}"),
        purl: purl::maven(group, artifact, version),
        version: version.to_string(),
        path: Some(path.to_string()),
        ..Package::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_properties_paths() {
        assert!(is_pom_properties(
            "META-INF/maven/org.slf4j/slf4j-api/pom.properties"
        ));
        assert!(!is_pom_properties("META-INF/maven/pom.properties"));
        assert!(!is_pom_properties("META-INF/maven/a/b/c/pom.properties"));
    }

    #[test]
    fn properties_need_all_three_keys() {
        let p = properties(
            "a.jar",
            "#Generated\ngroupId=org.slf4j\nartifactId=slf4j-api\nversion=2.0.9\n",
        )
        .unwrap();
        assert_eq!(p.name, "org.slf4j:slf4j-api");
        assert_eq!(p.purl, "pkg:maven/org.slf4j/slf4j-api@2.0.9");
        assert!(properties("a.jar", "groupId=x\nversion=1\n").is_none());
    }
}
