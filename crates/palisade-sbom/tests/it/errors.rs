//! Bad input: errors naming the input and the field, the size limit, no panics on anything.
use palisade_sbom::{Limits, SbomError, read, read_with};
use proptest::prelude::*;

fn err(text: &str) -> String {
    read(text.as_bytes(), "in.json").unwrap_err().to_string()
}

#[test]
fn size_limit_names_the_limit() {
    let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.6"}"#;
    let limits = Limits { max_bytes: 16 };
    let e = read_with(doc, "big.json", &limits).unwrap_err();
    assert!(
        matches!(
            e,
            SbomError::TooLarge {
                size: 45,
                limit: 16,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "big.json: 45 bytes is over the SBOM size limit of 16 bytes (raise the limit to read it)"
    );
    assert!(read_with(doc, "ok.json", &Limits { max_bytes: 45 }).is_ok());
    assert_eq!(
        Limits::default().max_bytes,
        palisade_sbom::DEFAULT_MAX_BYTES
    );
}

#[test]
fn read_path_stops_at_the_limit() {
    let dir = std::env::temp_dir().join(format!("palisade-sbom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.json");
    std::fs::write(&file, vec![b' '; 1000]).unwrap();
    let e = palisade_sbom::read_path(&file, &Limits { max_bytes: 100 }).unwrap_err();
    // the size reported is what was read before stopping: limit + 1
    assert!(
        matches!(
            e,
            SbomError::TooLarge {
                size: 101,
                limit: 100,
                ..
            }
        ),
        "{e:?}"
    );
    let ok = crate::fixtures::testdata("sbom-trivy/centos-7-spdx.txt");
    let inv = palisade_sbom::read_path(&ok, &Limits::default()).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert_eq!(inv.source, ok.display().to_string());
    let e = palisade_sbom::read_path(&dir.join("missing.json"), &Limits::default()).unwrap_err();
    assert!(matches!(e, SbomError::Io { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&dir.join("missing.json").display().to_string())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_formats_say_what_they_are() {
    for (input, needle) in [
        ("", "the input is empty"),
        ("  \n", "the input is empty"),
        ("<?xml version=\"1.0\"?><bom/>", "XML"),
        ("hello world", "SPDX tag-value starting with `SPDXVersion:`"),
        ("[1, 2]", "SPDX tag-value"),
        (
            r#"{"a": 1}"#,
            "neither `bomFormat` (CycloneDX) nor `spdxVersion` (SPDX)",
        ),
        (
            r#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#,
            "SPDX 3 is not read",
        ),
        (
            r#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}"#,
            "https://slsa.dev/provenance/v1",
        ),
    ] {
        let e = err(input);
        assert!(
            e.starts_with("in.json: not a supported SBOM"),
            "{input}: {e}"
        );
        assert!(e.contains(needle), "{input}: {e}");
    }
    let e = read(b"\xff\xfe\x00garbage", "bin").unwrap_err().to_string();
    assert!(e.contains("neither JSON nor UTF-8 text"), "{e}");
}

#[test]
fn invalid_json_has_line_and_column() {
    let e = err("{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": 1.6,,\n}");
    assert!(
        e.starts_with("in.json: invalid JSON at line 3 column"),
        "{e}"
    );
    // nesting beyond serde_json's recursion limit is an error, not a stack overflow
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = err(&format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"components\":{deep}}}"
    ));
    assert!(e.contains("recursion limit"), "{e}");
}

#[test]
fn wrong_fields_are_named() {
    let cases = [
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.1"}"#,
            "field `specVersion`: CycloneDX 1.1 is not supported (read: 1.2, 1.3, 1.4, 1.5, 1.6, 1.7)",
        ),
        (
            r#"{"bomFormat":"CycloneDX"}"#,
            "field `specVersion`: required field is missing",
        ),
        (
            r#"{"bomFormat":"SPDX","specVersion":"1.6"}"#,
            "field `bomFormat`: `SPDX` is not `CycloneDX`",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}"#,
            "field `components`: expected an array, found an object",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a"},{"type":"library","name":"b","version":2}]}"#,
            "field `components[1].version`: expected a string, found a number",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library"}]}"#,
            "field `components[0].name`: required field is missing",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","components":[{"type":"library","name":"b","licenses":[{"license":{}}]}]}]}"#,
            "field `components[0].components[0].licenses[0].license`: a license needs an `id` or a `name`",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"container","name":7}}}"#,
            "field `metadata.component.name`: expected a string, found a number",
        ),
        (
            r#"{"spdxVersion":"SPDX-3.0"}"#,
            "field `spdxVersion`: `SPDX-3.0` is not supported (read: SPDX-2.2, SPDX-2.3)",
        ),
        (
            r#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"a"}]}"#,
            "field `packages[0].SPDXID`: required field is missing",
        ),
        (
            r#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl"}]}]}"#,
            "field `packages[0].externalRefs[0].referenceLocator`: required field is missing",
        ),
        (
            r#"{"spdxVersion":"SPDX-2.3","relationships":[{"spdxElementId":"a","relationshipType":"DESCRIBES"}]}"#,
            "field `relationships[0].relatedSpdxElement`: required field is missing",
        ),
        (
            r#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":1}]}}"#,
            "field `predicate.packages[0].SPDXID`: expected a string, found a number",
        ),
        (
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"%%%"}"#,
            "field `payload`: not base64: Invalid symbol 37, offset 0.",
        ),
    ];
    for (input, expected) in cases {
        let e = err(input);
        assert_eq!(e, format!("in.json: {expected}"), "{input}");
    }
}

#[test]
fn tag_value_errors_have_line_numbers() {
    let cases = [
        (
            "SPDXVersion: SPDX-2.3\nthis line has no colon\n",
            2,
            "expected `Tag: value`",
        ),
        (
            "SPDXVersion: SPDX-2.1\n",
            1,
            "SPDXVersion: `SPDX-2.1` is not supported",
        ),
        (
            "SPDXVersion: SPDX-2.3\nPackageName: a\nPackageComment: <text>never\nclosed\n",
            3,
            "<text> is never closed",
        ),
        (
            "SPDXVersion: SPDX-2.3\n\nPackageName: a\nPackageVersion: 1\n",
            3,
            "package `a` has no SPDXID",
        ),
        (
            "SPDXVersion: SPDX-2.3\nRelationship: SPDXRef-DOCUMENT DESCRIBES\n",
            2,
            "expected `ELEMENT TYPE ELEMENT`",
        ),
        (
            "SPDXVersion: SPDX-2.3\nPackageName: a\nSPDXID: SPDXRef-a\nExternalRef: PACKAGE-MANAGER purl\n",
            4,
            "expected `CATEGORY TYPE LOCATOR`",
        ),
    ];
    for (input, line, needle) in cases {
        let e = read(input.as_bytes(), "x.spdx").unwrap_err();
        match &e {
            SbomError::TagValue {
                line: l, message, ..
            } => {
                assert_eq!(*l, line, "{input}: {e}");
                assert!(message.contains(needle), "{input}: {e}");
            }
            other => panic!("{input}: {other:?}"),
        }
        assert!(
            e.to_string().starts_with(&format!("x.spdx:{line}: ")),
            "{e}"
        );
    }
}

/// Multi-line `<text>` values, comments and tags of files and other elements are read past.
#[test]
fn tag_value_text_blocks_and_files() {
    let doc = "# a comment\nSPDXVersion: SPDX-2.3\nDocumentComment: <text>line one\nPackageName: not a package\n</text>\n\
               PackageName: zlib\nSPDXID: SPDXRef-zlib\nPackageVersion: 1.3\nPackageLicenseDeclared: Zlib\n\
               PackageComment: <text>x: y</text>\nExternalRef: PACKAGE-MANAGER purl pkg:apk/alpine/zlib@1.3-r0?arch=x86_64&distro=3.19.1\n\
               FileName: ./lib/libz.so\nSPDXID: SPDXRef-file\nLicenseConcluded: MIT\n";
    let inv = read(doc.as_bytes(), "t.spdx").unwrap();
    assert_eq!(inv.packages.len(), 1);
    let z = &inv.packages[0];
    assert_eq!((z.name.as_str(), z.version.as_str()), ("zlib", "1.3-r0"));
    assert_eq!(z.licenses, ["Zlib"]);
    assert_eq!(z.kind, palisade_core::inventory::PackageKind::Apk);
    let d = inv.distro.unwrap();
    assert_eq!((d.id.as_str(), d.version_id.as_str()), ("alpine", "3.19.1"));
}

/// A purl that does not parse is kept as an unclassified package with a note naming the field.
#[test]
fn malformed_purl_becomes_a_note() {
    let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
        {"type":"library","name":"a","version":"1","purl":"deb/debian/a@1"}]}"#;
    let inv = read(doc.as_bytes(), "n.json").unwrap();
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(
        inv.packages[0].kind,
        palisade_core::inventory::PackageKind::Other
    );
    assert_eq!(inv.packages[0].purl, "");
    assert_eq!(inv.notes.len(), 1);
    assert_eq!(inv.notes[0].entry.as_deref(), Some("components[0].purl"));
    assert!(
        inv.notes[0].message.contains("does not start with `pkg:`"),
        "{:?}",
        inv.notes
    );
}

/// Found by fuzzing (`fuzz/open/read/maven-purl-without-namespace.spdx`): a Maven package
/// named `:` was written as an empty CycloneDX name and read back under its purl's name.
#[test]
fn odd_maven_and_npm_names_round_trip() {
    let doc = "SPDXVersion:SPDX-2.2\nPackageName::\nSPDXID:P\nExternalRef:PACKAGE-MANAGER purl pkg:maven/g";
    let inv = read(doc.as_bytes(), "f.spdx").unwrap();
    assert_eq!(inv.packages[0].name, ":");
    let mut packages = inv.packages.clone();
    for name in ["g:", ":a", "@", "@/", "@s/", "@/n"] {
        let mut p = inv.packages[0].clone();
        p.name = name.into();
        if name.starts_with('@') {
            p.kind = palisade_core::inventory::PackageKind::Npm;
            p.purl = "pkg:npm/x".into();
        }
        packages.push(p);
    }
    let invs = [palisade_core::inventory::Inventory { packages, ..inv }];
    for doc in [
        palisade_sbom::cyclonedx_at(&invs, &[], "0", 0),
        palisade_sbom::spdx_at(&invs, "0", 0),
    ] {
        let back = read(doc.to_string().as_bytes(), "w").unwrap();
        assert_eq!(back.packages, invs[0].packages);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("library".to_string()),
            Just("operating-system".to_string()),
            Just("pkg:deb/debian/a@1?distro=debian-12".to_string()),
            Just("pkg:golang/stdlib@go1.22".to_string()),
            Just("SPDXRef-DOCUMENT".to_string()),
            ".{0,12}",
        ]
        .prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("type"),
        Just("name"),
        Just("version"),
        Just("purl"),
        Just("components"),
        Just("licenses"),
        Just("license"),
        Just("properties"),
        Just("value"),
        Just("bom-ref"),
        Just("SPDXID"),
        Just("externalRefs"),
        Just("referenceLocator"),
        Just("group"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(&bytes, "random");
    }

    #[test]
    fn random_tag_value_never_panics(lines in prop::collection::vec(
        prop_oneof![
            Just("PackageName: a".to_string()), Just("SPDXID: SPDXRef-a".to_string()),
            Just("PackageVersion: 1".to_string()), Just("Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-a".to_string()),
            Just("ExternalRef: PACKAGE-MANAGER purl pkg:npm/%40a/b@1".to_string()),
            Just("PackageLicenseConcluded: (MIT OR X) AND Y".to_string()),
            Just("FileName: f".to_string()), Just("X: <text>".to_string()), Just("</text>".to_string()),
            "[ -~]{0,30}",
        ], 0..30)) {
        let doc = format!("SPDXVersion: SPDX-2.3\n{}", lines.join("\n"));
        let _ = read(doc.as_bytes(), "random.spdx");
    }

    #[test]
    fn random_cyclonedx_components_never_panic(components in json_value(), metadata in json_value()) {
        let doc = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": metadata}, "components": components});
        let _ = read(doc.to_string().as_bytes(), "random.json");
        let _ = read(doc["components"].to_string().as_bytes(), "random.json");
    }

    #[test]
    fn random_spdx_packages_never_panic(packages in json_value(), relationships in json_value()) {
        let doc = serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": packages,
            "relationships": relationships, "documentDescribes": ["SPDXRef-a"]});
        let _ = read(doc.to_string().as_bytes(), "random.json");
    }

    #[test]
    fn purls_never_panic(text in "pkg:[a-z]{0,5}/[ -~]{0,40}") {
        if let Ok(p) = palisade_sbom::purl::Purl::parse(&text) {
            let _ = (p.kind(), p.package_name(), p.package_version(), p.distro());
        }
    }
}
