//! dpkg's database: `var/lib/dpkg/status` (every package dpkg knows, installed or not) and
//! distroless `var/lib/dpkg/status.d/<name>` (one stanza per file, no `Status` field). Control
//! stanzas are RFC-822-like: `Field: value`, continuation lines start with a space or tab,
//! stanzas separated by blank lines. Hand-written: a few lines, and no crate reads the status
//! file's installed-state semantics.

use palisade_core::inventory::{Distro, Package, PackageKind};

use crate::purl;

/// The fields inventory needs from one stanza.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Stanza {
    pub package: Option<String>,
    pub version: Option<String>,
    pub arch: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
    /// 1-based line where the stanza starts.
    pub line: usize,
}

pub(crate) fn stanzas(bytes: &[u8]) -> Vec<Stanza> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut cur: Option<Stanza> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some(s) = cur.take() {
                out.push(s);
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation of a multi-line field (Description, Conffiles): never needed here.
            continue;
        }
        let s = cur.get_or_insert_with(|| Stanza {
            line: i + 1,
            ..Stanza::default()
        });
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        // Field names are case-insensitive (Debian policy 5.1). Only the fields kept are copied.
        let slot = if field.eq_ignore_ascii_case("package") {
            &mut s.package
        } else if field.eq_ignore_ascii_case("version") {
            &mut s.version
        } else if field.eq_ignore_ascii_case("architecture") {
            &mut s.arch
        } else if field.eq_ignore_ascii_case("source") {
            &mut s.source
        } else if field.eq_ignore_ascii_case("status") {
            &mut s.status
        } else {
            continue;
        };
        *slot = Some(value.trim().to_string());
    }
    if let Some(s) = cur {
        out.push(s);
    }
    out
}

/// `Status: <want> <flag> <status>`: counted when the package's files are on disk and
/// configured (`installed`, or waiting on triggers). A missing field (distroless) counts.
fn installed(status: Option<&str>) -> bool {
    match status {
        None => true,
        Some(s) => matches!(
            s.split_whitespace().nth(2),
            Some("installed" | "triggers-awaited" | "triggers-pending")
        ),
    }
}

/// `Source: name` or `Source: name (version)`.
fn split_source(source: &str) -> (String, Option<String>) {
    match source.split_once('(') {
        Some((name, rest)) => (
            name.trim().to_string(),
            Some(rest.trim_end().trim_end_matches(')').trim().to_string())
                .filter(|v| !v.is_empty()),
        ),
        None => (source.trim().to_string(), None),
    }
}

/// Packages of installed stanzas; `Err` strings are notes (a stanza without Package/Version).
pub(crate) fn packages(
    bytes: &[u8],
    distro: Option<&Distro>,
    path: &str,
) -> (Vec<Package>, Vec<String>) {
    let mut pkgs = Vec::new();
    let mut problems = Vec::new();
    let ns = purl::namespace(distro, "debian");
    let distro_q = purl::distro_qualifier(distro);
    for s in stanzas(bytes) {
        if !installed(s.status.as_deref()) {
            continue;
        }
        // An empty field is no field: a package without a name or version cannot be
        // identified or matched (found by fuzzing).
        let (Some(name), Some(version)) = (crate::nonempty(s.package), crate::nonempty(s.version))
        else {
            problems.push(format!(
                "stanza at line {} has no (or an empty) Package or Version field; skipped",
                s.line
            ));
            continue;
        };
        let (source_name, source_version) = match s.source.as_deref() {
            Some(src) if !src.is_empty() => {
                let (n, v) = split_source(src);
                (n, v.unwrap_or_else(|| version.clone()))
            }
            _ => (name.clone(), version.clone()),
        };
        let purl = purl::build(
            "deb",
            &ns,
            &name,
            &version,
            &[("arch", s.arch.clone()), ("distro", distro_q.clone())],
        );
        pkgs.push(Package {
            kind: PackageKind::Deb,
            name,
            version,
            purl,
            source_name: Some(source_name),
            source_version: Some(source_version),
            arch: s.arch,
            licenses: Vec::new(),
            layer: None,
            path: Some(path.to_string()),
        });
    }
    (pkgs, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = packages(&bytes, None, "x");
        }

        #[test]
        fn never_panics_on_field_soup(s in "((Package|Status|Version|Source|Architecture): ?[a-z0-9 ():.~+-]{0,12}\n|\n| [a-z.]*\n){0,40}") {
            let (pkgs, _) = packages(s.as_bytes(), None, "x");
            for p in pkgs {
                prop_assert!(p.purl.starts_with("pkg:deb/debian/"));
            }
        }
    }

    #[test]
    fn installed_only_and_source_versions() {
        let db = b"Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nSource: src-a (2.0-1)\nArchitecture: amd64\nDescription: x\n multi\n .\n line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: half\nStatus: install ok unpacked\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 3\nSource: srcb\nArchitecture: all\n\nStatus: install ok installed\nVersion: 9\n";
        let (p, problems) = packages(db, None, "var/lib/dpkg/status");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].source_name.as_deref(), Some("src-a"));
        assert_eq!(p[0].source_version.as_deref(), Some("2.0-1"));
        assert_eq!(p[0].purl, "pkg:deb/debian/a@1:2.0-1?arch=amd64");
        assert_eq!(p[1].source_name.as_deref(), Some("srcb"));
        assert_eq!(p[1].source_version.as_deref(), Some("3"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("line 25"), "{problems:?}");
    }
}
