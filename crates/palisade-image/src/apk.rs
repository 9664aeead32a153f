//! apk's installed database `lib/apk/db/installed`: records separated by blank lines, one
//! `<letter>:<value>` per line (`P` name, `V` version, `A` arch, `o` origin = source package,
//! `L` license). Hand-written: the format is a handful of lines and no crate reads it.

use palisade_core::inventory::{Distro, Package, PackageKind};

use crate::purl;

pub(crate) fn packages(
    bytes: &[u8],
    distro: Option<&Distro>,
    path: &str,
) -> (Vec<Package>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let ns = purl::namespace(distro, "alpine");
    let distro_q = purl::distro_qualifier(distro);
    let mut pkgs = Vec::new();
    let mut problems = Vec::new();
    let mut rec: [Option<String>; 5] = Default::default();
    let mut start = 1usize;
    let mut any = false;
    // A blank line after the last one closes the last record.
    for (i, line) in text.lines().chain(std::iter::once("")).enumerate() {
        if line.trim().is_empty() {
            if any {
                let [p, v, a, o, l] = std::mem::take(&mut rec);
                // An empty field is no field (found by fuzzing).
                match (crate::nonempty(p), crate::nonempty(v)) {
                    (Some(name), Some(version)) => {
                        let purl = purl::build(
                            "apk",
                            &ns,
                            &name.to_ascii_lowercase(),
                            &version,
                            &[("arch", a.clone()), ("distro", distro_q.clone())],
                        );
                        pkgs.push(Package {
                            kind: PackageKind::Apk,
                            source_name: Some(o.unwrap_or_else(|| name.clone())),
                            source_version: Some(version.clone()),
                            name,
                            version,
                            purl,
                            arch: a,
                            licenses: l.map(|l| vec![l]).unwrap_or_default(),
                            layer: None,
                            path: Some(path.to_string()),
                        });
                    }
                    _ => problems.push(format!(
                        "record at line {start} has no P: (name) or V: (version); skipped"
                    )),
                }
            }
            any = false;
            start = i + 2;
            continue;
        }
        any = true;
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "P" => 0,
            "V" => 1,
            "A" => 2,
            "o" => 3,
            "L" => 4,
            _ => continue,
        };
        if let Some(s) = rec.get_mut(slot) {
            *s = Some(value.to_string());
        }
    }
    (pkgs, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(s in "([PVAoLCDF]:[a-z0-9.:_-]{0,10}\n|\n|[^\n]{0,8}\n){0,40}") {
            let _ = packages(s.as_bytes(), None, "x");
        }
    }

    #[test]
    fn records_origin_and_missing_fields() {
        let db = b"C:Q1x\nP:libssl3\nV:3.0.7-r1\nA:x86_64\no:openssl\nL:Apache-2.0\n\nP:busybox\nV:1.36\n\nV:1\n";
        let d = Distro {
            id: "alpine".into(),
            version_id: "3.19.1".into(),
            ..Distro::default()
        };
        let (p, problems) = packages(db, Some(&d), "lib/apk/db/installed");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].purl,
            "pkg:apk/alpine/libssl3@3.0.7-r1?arch=x86_64&distro=alpine-3.19.1"
        );
        assert_eq!(p[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(p[0].licenses, ["Apache-2.0"]);
        assert_eq!(p[1].source_name.as_deref(), Some("busybox"));
        assert_eq!(
            problems,
            ["record at line 11 has no P: (name) or V: (version); skipped"]
        );
    }
}
