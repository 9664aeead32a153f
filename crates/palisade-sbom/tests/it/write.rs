use crate::fixtures::{cyclonedx_errors, findings, image, rootfs, spdx_errors};
use palisade_core::inventory::Inventory;
use palisade_sbom::{cyclonedx_at, read, spdx_at};
use serde_json::Value;
use std::collections::HashSet;

const T: i64 = 1_786_190_400; // 2026-08-08T12:00:00Z

fn strs<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap())
        .collect()
}

#[test]
fn cyclonedx_is_valid_against_the_1_6_schema() {
    let img = image();
    let cases: Vec<(Vec<Inventory>, Vec<_>)> = vec![
        (vec![img.clone()], findings(&img)),
        (vec![img.clone()], Vec::new()),
        (vec![rootfs()], Vec::new()),
        (vec![img.clone(), rootfs()], findings(&img)),
        (vec![Inventory::default()], Vec::new()),
        (Vec::new(), Vec::new()),
    ];
    for (inv, vulns) in cases {
        let doc = cyclonedx_at(&inv, &vulns, "0.1.0", T);
        let errors = cyclonedx_errors(&doc);
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    }
}

#[test]
fn spdx_is_valid_against_the_2_3_schema() {
    for inv in [
        vec![image()],
        vec![rootfs()],
        vec![image(), rootfs()],
        vec![Inventory::default()],
        Vec::new(),
    ] {
        let doc = spdx_at(&inv, "0.1.0", T);
        let errors = spdx_errors(&doc);
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    }
}

/// The validators really check: documents broken in ways the schemas forbid are rejected.
#[test]
fn schema_validation_catches_broken_documents() {
    let good = cyclonedx_at(&[image()], &[], "0.1.0", T);
    let mut bad = good.clone();
    bad["serialNumber"] = "urn:uuid:not-a-uuid".into();
    assert!(!cyclonedx_errors(&bad).is_empty());
    let mut bad = good.clone();
    bad["components"][1].as_object_mut().unwrap().remove("name");
    assert!(!cyclonedx_errors(&bad).is_empty());
    let mut bad = good.clone();
    bad["components"][1]["type"] = "package".into();
    assert!(!cyclonedx_errors(&bad).is_empty());
    let mut bad = good;
    bad["components"][1]["licenses"] = serde_json::json!([{"license": {"id": "Not-A-Listed-Id"}}]);
    assert!(
        !cyclonedx_errors(&bad).is_empty(),
        "the SPDX id list is vendored and used"
    );

    let good = spdx_at(&[image()], "0.1.0", T);
    let mut bad = good.clone();
    bad["packages"][1].as_object_mut().unwrap().remove("SPDXID");
    assert!(!spdx_errors(&bad).is_empty());
    let mut bad = good;
    bad["packages"][2]["externalRefs"][0]["referenceCategory"] = "PACKAGE_MANAGER".into();
    assert!(
        !spdx_errors(&bad).is_empty(),
        "2.3 spells it PACKAGE-MANAGER"
    );
}

/// Both writers: what they write reads back to the same packages, image and distribution,
/// for one inventory and for two in one document.
#[test]
fn round_trip_gives_the_same_packages() {
    type Writer = fn(&[Inventory]) -> Value;
    let writers: [(&str, Writer); 2] = [
        ("bom.cdx.json", |i| {
            cyclonedx_at(i, &findings(&image()), "0.1.0", T)
        }),
        ("bom.spdx.json", |i| spdx_at(i, "0.1.0", T)),
    ];
    let img = image();
    for (name, write) in writers {
        let doc = write(std::slice::from_ref(&img));
        let back = read(doc.to_string().as_bytes(), name).unwrap();
        assert_eq!(back.packages, img.packages, "{name}");
        assert_eq!(back.image, img.image, "{name}");
        let distro = back.distro.unwrap();
        assert_eq!(
            (distro.id.as_str(), distro.version_id.as_str()),
            ("debian", "12"),
            "{name}"
        );
        assert!(back.notes.is_empty(), "{name}: {:?}", back.notes);

        let both = write(&[img.clone(), rootfs()]);
        let back = read(both.to_string().as_bytes(), name).unwrap();
        let expected: Vec<_> = img
            .packages
            .iter()
            .chain(&rootfs().packages)
            .cloned()
            .collect();
        assert_eq!(back.packages, expected, "{name}");
    }
}

/// Same content, same document; the serial number and namespace follow the content, not
/// the clock.
#[test]
fn output_is_reproducible() {
    let img = image();
    let vulns = findings(&img);
    let a = cyclonedx_at(std::slice::from_ref(&img), &vulns, "0.1.0", T);
    assert_eq!(
        a,
        cyclonedx_at(std::slice::from_ref(&img), &vulns, "0.1.0", T)
    );
    let later = cyclonedx_at(std::slice::from_ref(&img), &vulns, "0.1.0", T + 60);
    assert_eq!(a["serialNumber"], later["serialNumber"]);
    assert_ne!(a["metadata"]["timestamp"], later["metadata"]["timestamp"]);
    assert_eq!(a["metadata"]["timestamp"], "2026-08-08T12:00:00Z");
    let other = cyclonedx_at(&[rootfs()], &[], "0.1.0", T);
    assert_ne!(a["serialNumber"], other["serialNumber"]);

    let s = spdx_at(std::slice::from_ref(&img), "0.1.0", T);
    assert_eq!(s, spdx_at(std::slice::from_ref(&img), "0.1.0", T));
    let s_later = spdx_at(&[img], "0.1.0", T + 60);
    assert_eq!(s["documentNamespace"], s_later["documentNamespace"]);
    assert_eq!(s["creationInfo"]["created"], "2026-08-08T12:00:00Z");
    assert_ne!(
        s["documentNamespace"],
        spdx_at(&[rootfs()], "0.1.0", T)["documentNamespace"]
    );
}

/// The whole documents, so any change to the output shows in review.
#[test]
fn snapshots() {
    let img = image();
    insta::assert_json_snapshot!(
        "cyclonedx_image",
        cyclonedx_at(std::slice::from_ref(&img), &findings(&img), "0.1.0", T)
    );
    insta::assert_json_snapshot!("spdx_image", spdx_at(&[img, rootfs()], "0.1.0", T));
}

#[test]
fn cyclonedx_structure() {
    let img = image();
    let doc = cyclonedx_at(std::slice::from_ref(&img), &[], "9.9.9", T);
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(
        doc["metadata"]["tools"]["components"][0]["name"],
        "palisade"
    );
    assert_eq!(
        doc["metadata"]["tools"]["components"][0]["version"],
        "9.9.9"
    );
    let subject = &doc["metadata"]["component"];
    assert_eq!(subject["type"], "container");
    assert_eq!(subject["name"], "registry.k8s.io/kube-proxy:v1.30.2");
    let components = doc["components"].as_array().unwrap();
    // the operating system, then one component per package
    assert_eq!(components.len(), 1 + img.packages.len());
    assert_eq!(components[0]["type"], "operating-system");
    assert_eq!(components[0]["name"], "debian");
    let refs = strs(&doc["components"], "bom-ref");
    assert_eq!(
        refs.len(),
        refs.iter().collect::<HashSet<_>>().len(),
        "bom-refs are unique"
    );
    // the purl is the bom-ref, except for the second libc6 (another layer)
    assert_eq!(
        refs[2],
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
    );
    assert_eq!(refs[3], "palisade:0:2");
    let libc = &components[2];
    let props: Vec<(&str, &str)> = libc["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(
        props.contains(&("palisade:sourceName", "glibc")),
        "{props:?}"
    );
    assert!(props.contains(&("palisade:path", "var/lib/dpkg/status")));
    assert!(
        props
            .iter()
            .any(|(k, v)| *k == "palisade:layer" && v.starts_with("sha256:1111"))
    );
    let maven = components
        .iter()
        .find(|c| c["name"] == "jackson-databind")
        .unwrap();
    assert_eq!(maven["group"], "com.fasterxml.jackson.core");
    let k8s = components
        .iter()
        .find(|c| c["name"] == "kube-proxy")
        .unwrap();
    assert_eq!(k8s["type"], "application");
    // dependencies: subject -> os + non-OS packages, os -> OS packages; every ref exists
    let deps = doc["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["ref"], "palisade:subject");
    let os_deps = deps[1]["dependsOn"].as_array().unwrap();
    assert_eq!(os_deps.len(), 3, "tzdata and both libc6");
    let known: HashSet<&str> = refs.iter().copied().chain(["palisade:subject"]).collect();
    for d in deps {
        assert!(known.contains(d["ref"].as_str().unwrap()));
        for r in d["dependsOn"].as_array().unwrap() {
            assert!(known.contains(r.as_str().unwrap()), "{r}");
        }
    }
    assert!(doc.get("vulnerabilities").is_none());
}

#[test]
fn cyclonedx_vulnerabilities() {
    let img = image();
    let mut vulns = findings(&img);
    // The same advisory found in the second libc6 (another layer) joins the first entry.
    let mut again = vulns[1].clone();
    again.package = img.packages[2].clone();
    vulns.push(again);
    let doc = cyclonedx_at(std::slice::from_ref(&img), &vulns, "0.1.0", T);
    let v = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(
        strs(&doc["vulnerabilities"], "id"),
        ["GO-2024-2687", "DEBIAN-CVE-2024-2961", "CVE-2024-3177"]
    );

    let go = &v[0];
    assert_eq!(
        go["affects"][0]["ref"],
        "pkg:golang/golang.org/x/net@v0.23.0"
    );
    assert_eq!(go["affects"][0]["versions"][0]["version"], "v0.23.0");
    assert_eq!(go["affects"][0]["versions"][0]["status"], "affected");
    assert_eq!(go["affects"][0]["versions"][1]["version"], "v0.23.1");
    assert_eq!(go["affects"][0]["versions"][1]["status"], "unaffected");
    assert_eq!(go["recommendation"], "Upgrade golang.org/x/net to v0.23.1");
    assert_eq!(go["ratings"][0]["method"], "CVSSv31");
    assert_eq!(go["ratings"][0]["severity"], "medium");
    assert_eq!(go["ratings"][0]["score"], 5.3);
    assert_eq!(
        go["ratings"][0]["vector"],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
    );
    assert_eq!(
        strs(&go["references"], "id"),
        ["CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"]
    );
    assert_eq!(go["references"][0]["source"]["name"], "NVD");
    assert_eq!(
        go["source"]["url"],
        "https://osv.dev/vulnerability/GO-2024-2687"
    );
    assert_eq!(
        go["advisories"][0]["url"],
        "https://pkg.go.dev/vuln/GO-2024-2687"
    );

    let libc = &v[1];
    assert_eq!(
        strs(&libc["affects"], "ref"),
        [
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
            "palisade:0:2"
        ],
        "one entry, both layers' libc6"
    );
    assert_eq!(libc["ratings"][0]["severity"], "high");

    let k8s = &v[2];
    assert_eq!(k8s["source"]["name"], "Kubernetes CVE feed");
    assert_eq!(k8s["ratings"], serde_json::json!([{"severity": "low"}]));
    assert!(k8s.get("recommendation").is_none());
    assert_eq!(
        k8s["affects"][0]["ref"],
        "pkg:k8s/k8s.io%2Fkube-proxy@v1.30.2"
    );
    let errors = cyclonedx_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn spdx_structure() {
    let img = image();
    let doc = spdx_at(std::slice::from_ref(&img), "0.1.0", T);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["name"], "registry.k8s.io/kube-proxy:v1.30.2");
    assert_eq!(doc["creationInfo"]["creators"][0], "Tool: palisade-0.1.0");
    let ns = doc["documentNamespace"].as_str().unwrap();
    assert!(
        ns.starts_with(
            "https://github.com/palisade-dev/palisade/spdx/registry.k8s.io-kube-proxy-v1.30.2-"
        ),
        "{ns}"
    );
    assert!(!ns.contains('#'));
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(
        packages.len(),
        2 + img.packages.len(),
        "subject, OS, packages"
    );
    let ids = strs(&doc["packages"], "SPDXID");
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len());
    for id in &ids {
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            rest.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    assert_eq!(packages[0]["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(packages[1]["primaryPackagePurpose"], "OPERATING_SYSTEM");
    let tzdata = &packages[2];
    assert_eq!(tzdata["downloadLocation"], "NOASSERTION");
    assert_eq!(tzdata["filesAnalyzed"], false);
    assert_eq!(
        tzdata["externalRefs"][0]["referenceCategory"],
        "PACKAGE-MANAGER"
    );
    assert_eq!(tzdata["externalRefs"][0]["referenceType"], "purl");
    // free-text licence names become LicenseRefs with their text kept
    assert_eq!(tzdata["licenseDeclared"], "public-domain");
    let other = packages.iter().find(|p| p["name"] == "some tool").unwrap();
    assert_eq!(other["licenseConcluded"], "LicenseRef-GPL-v2-or-later");
    let infos = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(infos[0]["extractedText"], "GPL v2 or later");
    let libc = &packages[3];
    assert_eq!(
        libc["licenseConcluded"],
        "LGPL-2.1-or-later AND GPL-2.0-or-later"
    );
    assert_eq!(
        libc["sourceInfo"],
        "built package from: glibc 2.36-9+deb12u7"
    );
    let unknown = packages
        .iter()
        .find(|p| {
            p["name"] == "jackson-databind"
                || p["name"] == "com.fasterxml.jackson.core:jackson-databind"
        })
        .unwrap();
    assert_eq!(unknown["licenseConcluded"], "NOASSERTION");
    let pypi = packages.iter().find(|p| p["name"] == "PyYAML").unwrap();
    assert_eq!(pypi["licenseDeclared"], "MIT OR Apache-2.0");
    // relationships: DOCUMENT DESCRIBES the subject, which CONTAINS the OS and the
    // non-OS packages; the OS CONTAINS the OS packages
    let rel: Vec<(&str, &str, &str)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap(),
                r["relationshipType"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rel[0], ("SPDXRef-DOCUMENT", "DESCRIBES", ids[0]));
    assert_eq!(rel.iter().filter(|r| r.0 == ids[1]).count(), 3);
    assert_eq!(rel.len(), 1 + 1 + img.packages.len());
}

mod generated {
    //! Round trips and schema validity on generated inventories: every kind, odd characters
    //! in names, versions with epochs and `+`, packages with and without purls, free-text
    //! and SPDX licences, several inventories in one document.
    use crate::fixtures::{cyclonedx_errors, spdx_errors};
    use palisade_core::inventory::{Distro, Inventory, Package, PackageKind};
    use palisade_sbom::purl::encode;
    use palisade_sbom::{cyclonedx_at, read, spdx_at};
    use proptest::prelude::*;

    const KINDS: [PackageKind; 11] = [
        PackageKind::Deb,
        PackageKind::Apk,
        PackageKind::Rpm,
        PackageKind::Go,
        PackageKind::GoStdlib,
        PackageKind::Cargo,
        PackageKind::Pypi,
        PackageKind::Npm,
        PackageKind::Maven,
        PackageKind::Kubernetes,
        PackageKind::Other,
    ];

    fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
        prop::option::of(s)
    }

    fn licenses() -> impl Strategy<Value = Vec<String>> {
        prop_oneof![
            prop::collection::vec(
                prop::sample::select(vec![
                    "MIT",
                    "Apache-2.0",
                    "GPL-2.0+",
                    "GPLv3+",
                    "GPL v2 or later",
                    "Public Domain",
                    "BSD_3 clause",
                ]),
                0..3
            )
            .prop_map(|v| v.into_iter().map(String::from).collect()),
            Just(vec!["MIT OR Apache-2.0".to_string()]),
        ]
    }

    fn package() -> impl Strategy<Value = Package> {
        (
            prop::sample::select(KINDS.to_vec()),
            "[a-z][a-z0-9]{0,6}",
            "[a-zA-Z0-9][a-zA-Z0-9+._ ~-]{0,10}",
            prop_oneof![Just(String::new()), "[0-9]{1,2}(:)?[0-9][0-9a-z.+~-]{0,8}"],
            any::<bool>(),
            (
                opt("[a-z0-9.-]{1,8}".prop_map(String::from)),
                opt("[0-9][0-9a-z.+:~-]{0,8}".prop_map(String::from)),
            ),
            opt("amd64|arm64|all|x86_64".prop_map(String::from)),
            licenses(),
            opt("sha256:[0-9a-f]{64}".prop_map(String::from)),
            opt("[a-z/._ -]{1,20}".prop_map(String::from)),
        )
            .prop_map(
                |(kind, ns, raw, version, with_purl, (src, srcv), arch, licenses, layer, path)| {
                    let (name, version) = match kind {
                        PackageKind::Maven => (format!("{ns}:{raw}"), version),
                        PackageKind::Npm => (format!("@{ns}/{raw}"), version),
                        PackageKind::Go => (format!("{ns}.io/{}", raw.replace(' ', "-")), version),
                        PackageKind::GoStdlib => ("stdlib".to_string(), "1.22.3".to_string()),
                        _ => (raw, version),
                    };
                    let at = if version.is_empty() {
                        String::new()
                    } else {
                        format!("@{}", encode(&version))
                    };
                    let seg = |s: &str| s.split('/').map(encode).collect::<Vec<_>>().join("/");
                    let purl = match kind {
                        _ if !with_purl => String::new(),
                        PackageKind::Deb => {
                            format!("pkg:deb/debian/{}{at}?distro=debian-12", encode(&name))
                        }
                        PackageKind::Apk => format!("pkg:apk/alpine/{}{at}", encode(&name)),
                        PackageKind::Rpm => format!("pkg:rpm/redhat/{}{at}", encode(&name)),
                        PackageKind::Go => format!("pkg:golang/{}{at}", seg(&name)),
                        PackageKind::GoStdlib => format!("pkg:golang/stdlib{at}"),
                        PackageKind::Cargo => format!("pkg:cargo/{}{at}", encode(&name)),
                        PackageKind::Pypi => format!("pkg:pypi/{}{at}", encode(&name)),
                        PackageKind::Npm => format!("pkg:npm/{}{at}", seg(&name)),
                        PackageKind::Maven => {
                            let (g, a) = name.split_once(':').unwrap();
                            format!("pkg:maven/{}/{}{at}", encode(g), encode(a))
                        }
                        PackageKind::Kubernetes => {
                            format!("pkg:k8s/{}{at}", encode(&format!("k8s.io/{name}")))
                        }
                        PackageKind::Other => format!("pkg:generic/{}{at}", encode(&name)),
                    };
                    Package {
                        kind,
                        name,
                        version,
                        purl,
                        source_name: src,
                        source_version: srcv,
                        arch,
                        licenses,
                        layer,
                        path,
                    }
                },
            )
    }

    fn inventory() -> impl Strategy<Value = Inventory> {
        (
            "[a-z/._-]{1,20}",
            opt("[a-z.]{1,10}/[a-z-]{1,10}:v[0-9]".prop_map(String::from)),
            opt(
                ("debian|alpine|rhel", "[0-9.]{0,5}").prop_map(|(id, v)| Distro {
                    id,
                    version_id: v,
                    ..Distro::default()
                }),
            ),
            prop::collection::vec(package(), 0..8),
        )
            .prop_map(|(source, image, distro, packages)| Inventory {
                source,
                image,
                distro,
                packages,
                notes: Vec::new(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn round_trip_and_schema(invs in prop::collection::vec(inventory(), 1..3)) {
            let expected: Vec<Package> = invs.iter().flat_map(|i| i.packages.clone()).collect();
            let cdx = cyclonedx_at(&invs, &[], "0.1.0", 0);
            let errors = cyclonedx_errors(&cdx);
            prop_assert!(errors.is_empty(), "{errors:#?}");
            let back = read(cdx.to_string().as_bytes(), "g.cdx.json").unwrap();
            prop_assert_eq!(&back.packages, &expected);
            let spdx = spdx_at(&invs, "0.1.0", 0);
            let errors = spdx_errors(&spdx);
            prop_assert!(errors.is_empty(), "{errors:#?}");
            let back = read(spdx.to_string().as_bytes(), "g.spdx.json").unwrap();
            prop_assert_eq!(&back.packages, &expected);
            if let [one] = invs.as_slice() {
                prop_assert_eq!(&back.image, &one.image);
            }
        }
    }
}

/// A finding on a package no inventory holds still becomes a (schema-valid) vulnerability,
/// without `affects`; CVSS v4 and v2 vectors get their methods.
#[test]
fn vulnerability_edge_cases() {
    let img = image();
    let mut vulns = findings(&img);
    vulns[0].package.name = "not-in-the-inventory".into();
    vulns[0].package.purl = "pkg:golang/example.com/gone@v1.0.0".into();
    vulns[1].cvss = Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into());
    vulns[1].score = Some(9.3);
    vulns[2].cvss = Some("AV:N/AC:L/Au:N/C:P/I:P/A:P".into());
    vulns[2].score = Some(f64::NAN);
    let doc = cyclonedx_at(std::slice::from_ref(&img), &vulns, "0.1.0", T);
    let v = &doc["vulnerabilities"];
    assert_eq!(v[0]["affects"], serde_json::json!([]));
    assert_eq!(v[1]["ratings"][0]["method"], "CVSSv4");
    assert_eq!(v[1]["ratings"][0]["score"], 9.3);
    assert_eq!(v[2]["ratings"][0]["method"], "CVSSv2");
    assert!(v[2]["ratings"][0].get("score").is_none(), "NaN is no score");
    let errors = cyclonedx_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");

    // Two images holding the same package, each with its finding: both components affected.
    let twice = [img.clone(), img.clone()];
    let finding = findings(&img).remove(0);
    let doc = cyclonedx_at(&twice, &[finding.clone(), finding], "0.1.0", T);
    assert_eq!(
        strs(&doc["vulnerabilities"][0]["affects"], "ref"),
        ["pkg:golang/golang.org/x/net@v0.23.0", "palisade:1:3"]
    );
}
