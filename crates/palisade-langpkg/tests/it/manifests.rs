//! `parse_file` on vendored manifests (testdata/langpkg-manifests/PROVENANCE.md).

use palisade_core::inventory::PackageKind;
use palisade_langpkg::{Interest, LangError, interest, parse_file};

use crate::testdata;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(&format!("langpkg-manifests/{rel}"))).unwrap()
}

/// (image path, file under testdata) → the one package found.
fn one(path: &str, rel: &str) -> palisade_core::inventory::Package {
    assert!(matches!(
        interest(path, 1000, false),
        Interest::Whole { .. }
    ));
    let mut packages = parse_file(path, &read(rel)).unwrap();
    assert_eq!(packages.len(), 1, "{path}");
    packages.remove(0)
}

#[test]
fn python_core_metadata() {
    let p = one(
        "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
        "python/PyYAML-6.0.dist-info/METADATA",
    );
    assert_eq!(
        (p.kind, p.name.as_str(), p.version.as_str(), p.purl.as_str()),
        (PackageKind::Pypi, "PyYAML", "6.0", "pkg:pypi/pyyaml@6.0")
    );
    assert_eq!(p.licenses, vec!["MIT"]);
    assert_eq!(
        p.path.as_deref(),
        Some("usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA")
    );

    let p = one(
        "usr/lib/python3/dist-packages/lazr.restfulclient-0.14.5.egg-info/PKG-INFO",
        "python/lazr.restfulclient-0.14.5.egg-info/PKG-INFO",
    );
    assert_eq!(p.name, "lazr.restfulclient");
    assert_eq!(p.purl, "pkg:pypi/lazr-restfulclient@0.14.5");
    assert_eq!(p.licenses, vec!["LGPL v3"]);

    // No License field: the classifier's last segment.
    let p = one(
        "usr/lib/python3/dist-packages/pyparsing-3.0.9.dist-info/METADATA",
        "python/pyparsing-3.0.9.dist-info/METADATA",
    );
    assert_eq!(p.version, "3.0.9");
    assert_eq!(p.licenses, vec!["MIT License"]);
}

#[test]
fn python_license_expression_wins_and_missing_version_is_an_error() {
    let text = b"Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\nLicense: BSD\n\
        License-Expression: MIT OR Apache-2.0\n\nbody\nName: not-a-header\n";
    let p = parse_file("x/Foo_Bar-1.0.dist-info/METADATA", text).unwrap();
    assert_eq!(p[0].licenses, vec!["MIT OR Apache-2.0"]);
    assert_eq!(p[0].purl, "pkg:pypi/foo-bar@1.0");
    let err = parse_file("x/a.dist-info/METADATA", b"Name: a\n").unwrap_err();
    assert_eq!(
        err,
        LangError::Invalid {
            path: "x/a.dist-info/METADATA".to_string(),
            message: "no Version field".to_string()
        }
    );
    assert!(err.to_string().starts_with("x/a.dist-info/METADATA: "));
}

#[test]
fn npm_manifests() {
    let p = one(
        "app/node_modules/@babel/helper-string-parser/package.json",
        "npm/node_modules/@babel/helper-string-parser/package.json",
    );
    assert_eq!(p.purl, "pkg:npm/%40babel/helper-string-parser@7.23.4");
    assert_eq!(p.name, "@babel/helper-string-parser");
    assert_eq!(p.licenses, vec!["MIT"]);
    let p = one(
        "app/node_modules/lodash/package.json",
        "npm/node_modules/lodash/package.json",
    );
    assert_eq!(
        (p.purl.as_str(), p.licenses.clone()),
        ("pkg:npm/lodash@4.17.21", vec!["MIT".to_string()])
    );
    let p = one(
        "app/node_modules/legacy-licenses/package.json",
        "npm/node_modules/legacy-licenses/package.json",
    );
    assert_eq!(p.licenses, vec!["MIT", "Apache-2.0"]);
    // Not an installed package: nothing, no error.
    let none = parse_file(
        "app/node_modules/no-version/package.json",
        &read("npm/node_modules/no-version/package.json"),
    )
    .unwrap();
    assert!(none.is_empty());
    let err = parse_file(
        "app/node_modules/broken/package.json",
        &read("npm/node_modules/broken/package.json"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("app/node_modules/broken/package.json: JSON: "),
        "{err}"
    );
}

#[test]
fn java_archives() {
    let p = one("usr/share/java/slf4j-nop.jar", "java/slf4j-nop.jar");
    assert_eq!(
        (p.kind, p.name.as_str(), p.version.as_str(), p.purl.as_str()),
        (
            PackageKind::Maven,
            "org.slf4j:slf4j-nop",
            "1.7.32",
            "pkg:maven/org.slf4j/slf4j-nop@1.7.32"
        )
    );
    let p = one(
        "usr/share/java/plexus-component-annotations.jar",
        "java/plexus-component-annotations.jar",
    );
    assert_eq!(
        p.purl,
        "pkg:maven/org.codehaus.plexus/plexus-component-annotations@2.1.1"
    );

    // Fat jar: its own artifact, the nested library, the corrupt nested jar skipped.
    let packages = parse_file("app/app.jar", &read("java/app-boot.jar")).unwrap();
    let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(
        purls,
        vec![
            "pkg:maven/com.example/demo-app@0.0.1-SNAPSHOT",
            "pkg:maven/org.slf4j/slf4j-nop@1.7.32"
        ]
    );
    assert!(
        packages
            .iter()
            .all(|p| p.path.as_deref() == Some("app/app.jar"))
    );

    let err = parse_file("app/truncated.jar", &read("java/truncated.jar")).unwrap_err();
    assert!(
        err.to_string().starts_with("app/truncated.jar: zip"),
        "{err}"
    );
}
