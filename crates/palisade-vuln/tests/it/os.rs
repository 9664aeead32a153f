//! OS packages: small record sets shaped like osv.dev's Debian, Alpine, Ubuntu and Rocky
//! exports (source-package keyed, one affected entry per release), written here.

use crate::{distro_inv, ids, pkg, write_tree};
use palisade_core::Severity;
use palisade_core::inventory::{Package, PackageKind};
use palisade_vuln::{OsvDb, match_inventory, match_report, osv_ecosystem};

const DEBIAN_GLIBC: &str = r#"{
  "id": "DEBIAN-CVE-2023-4911",
  "modified": "2025-01-14T09:00:00Z",
  "details": "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the GLIBC_TUNABLES environment variable.",
  "aliases": ["CVE-2023-4911"],
  "affected": [
    {"package": {"ecosystem": "Debian:11", "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
    {"package": {"ecosystem": "Debian:12", "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}],
     "versions": ["2.36-9+deb12u1", "2.36-9+deb12u2"]},
    {"package": {"ecosystem": "Debian:13", "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.37-12"}]}]}
  ],
  "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2023-4911"}]
}"#;

const DEBIAN_OPENSSL: &str = r#"{
  "id": "DSA-5532-1",
  "summary": "openssl - security update",
  "modified": "2023-10-24T00:00:00Z",
  "aliases": ["CVE-2023-5363"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
  "affected": [
    {"package": {"ecosystem": "Debian:12", "name": "openssl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}
  ]
}"#;

const ALPINE_OPENSSL: &str = r#"{
  "id": "ALPINE-CVE-2024-6119",
  "modified": "2024-09-03T18:00:00Z",
  "details": "Applications performing certificate name checks (e.g., TLS clients checking server certificates) may attempt to read an invalid memory address.",
  "aliases": ["CVE-2024-6119"],
  "affected": [
    {"package": {"ecosystem": "Alpine:v3.19", "name": "openssl", "purl": "pkg:apk/alpine/openssl?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.7-r0"}]}]},
    {"package": {"ecosystem": "Alpine:v3.20", "name": "openssl", "purl": "pkg:apk/alpine/openssl?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.3.2-r0"}]}]}
  ]
}"#;

const UBUNTU_CURL: &str = r#"{
  "id": "UBUNTU-CVE-2023-38545",
  "modified": "2023-10-11T13:00:00Z",
  "details": "SOCKS5 heap buffer overflow",
  "severity": [{"type": "Ubuntu", "score": "high"}],
  "affected": [
    {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "curl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.81.0-1ubuntu1.14"}]}]},
    {"package": {"ecosystem": "Ubuntu:Pro:18.04:LTS", "name": "curl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
  ]
}"#;

const ROCKY_OPENSSH: &str = r#"{
  "id": "RLSA-2024:4312",
  "modified": "2024-07-08T00:00:00Z",
  "summary": "Important: openssh security update",
  "affected": [
    {"package": {"ecosystem": "Rocky Linux:9", "name": "openssh"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "8.7p1-38.el9_4.1"}]}],
     "ecosystem_specific": {"severity": "Important"}}
  ]
}"#;

fn db() -> (tempfile::TempDir, OsvDb) {
    let dir = write_tree(&[
        ("Debian/DEBIAN-CVE-2023-4911.json", DEBIAN_GLIBC),
        ("Debian/DSA-5532-1.json", DEBIAN_OPENSSL),
        ("Alpine/ALPINE-CVE-2024-6119.json", ALPINE_OPENSSL),
        ("Ubuntu/UBUNTU-CVE-2023-38545.json", UBUNTU_CURL),
        ("Rocky Linux/RLSA-2024:4312.json", ROCKY_OPENSSH),
    ]);
    let db = OsvDb::open(dir.path()).unwrap();
    assert!(db.warnings().is_empty(), "{:?}", db.warnings());
    assert_eq!(db.records(), 5);
    (dir, db)
}

fn deb(name: &str, version: &str, source: Option<(&str, &str)>) -> Package {
    Package {
        source_name: source.map(|s| s.0.to_owned()),
        source_version: source.map(|s| s.1.to_owned()),
        ..pkg(PackageKind::Deb, name, version)
    }
}

#[test]
fn debian_by_source_package_and_release() {
    let (_d, db) = db();
    let libc = deb("libc6", "2.36-9+deb12u1", Some(("glibc", "2.36-9+deb12u1")));
    let found = match_inventory(
        &distro_inv("debian", "12", vec![libc.clone()]),
        Some(&db),
        None,
    );
    assert_eq!(ids(&found), ["DEBIAN-CVE-2023-4911"]);
    assert_eq!(found[0].fixed, ["2.36-9+deb12u3"]);
    assert_eq!(found[0].package.name, "libc6");
    assert_eq!(found[0].installed, "2.36-9+deb12u1");
    // No summary: the first line of details.
    assert!(
        found[0]
            .summary
            .starts_with("A buffer overflow was discovered")
    );
    assert_eq!(
        found[0].url.as_deref(),
        Some("https://security-tracker.debian.org/tracker/CVE-2023-4911")
    );
    // Fixed on 12; Debian 11 has no fix yet; another release's range never applies.
    let fixed = deb("libc6", "2.36-9+deb12u3", Some(("glibc", "2.36-9+deb12u3")));
    assert!(match_inventory(&distro_inv("debian", "12", vec![fixed]), Some(&db), None).is_empty());
    let old = deb(
        "libc6",
        "2.31-13+deb11u7",
        Some(("glibc", "2.31-13+deb11u7")),
    );
    let f11 = match_inventory(&distro_inv("debian", "11", vec![old]), Some(&db), None);
    assert_eq!(ids(&f11), ["DEBIAN-CVE-2023-4911"]);
    assert!(f11[0].fixed.is_empty());
    // Binary name alone does not match a source-keyed record.
    let no_source = deb("libc6", "2.36-9+deb12u1", None);
    assert!(
        match_inventory(
            &distro_inv("debian", "12", vec![no_source]),
            Some(&db),
            None
        )
        .is_empty()
    );
    // A binNMU (`+b1`) is judged by its source version.
    let binnmu = deb(
        "libc6",
        "2.36-9+deb12u3+b1",
        Some(("glibc", "2.36-9+deb12u3")),
    );
    assert!(match_inventory(&distro_inv("debian", "12", vec![binnmu]), Some(&db), None).is_empty());
}

#[test]
fn debian_tilde_versions_and_cvss_severity() {
    let (_d, db) = db();
    let older = deb(
        "libssl3",
        "3.0.11-1~deb12u1",
        Some(("openssl", "3.0.11-1~deb12u1")),
    );
    let found = match_inventory(&distro_inv("debian", "12", vec![older]), Some(&db), None);
    assert_eq!(ids(&found), ["DSA-5532-1"]);
    assert_eq!(found[0].score, Some(5.9));
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(
        found[0].cvss.as_deref(),
        Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N")
    );
    // 3.0.11-1 is newer than the fix 3.0.11-1~deb12u2 (`~` sorts first).
    let newer = deb("libssl3", "3.0.11-1", Some(("openssl", "3.0.11-1")));
    assert!(match_inventory(&distro_inv("debian", "12", vec![newer]), Some(&db), None).is_empty());
}

#[test]
fn alpine_origin_and_release_from_version_id() {
    let (_d, db) = db();
    let apk = |v: &str| Package {
        source_name: Some("openssl".into()),
        ..pkg(PackageKind::Apk, "libcrypto3", v)
    };
    let found = match_inventory(
        &distro_inv("alpine", "3.19.1", vec![apk("3.1.4-r5")]),
        Some(&db),
        None,
    );
    assert_eq!(ids(&found), ["ALPINE-CVE-2024-6119"]);
    assert_eq!(found[0].fixed, ["3.1.7-r0"]);
    assert!(
        match_inventory(
            &distro_inv("alpine", "3.19.4", vec![apk("3.1.7-r0")]),
            Some(&db),
            None
        )
        .is_empty()
    );
    let f320 = match_inventory(
        &distro_inv("alpine", "3.20.2", vec![apk("3.3.1-r3")]),
        Some(&db),
        None,
    );
    assert_eq!(f320[0].fixed, ["3.3.2-r0"]);
    // Alpine 3.18 has no entry in the record.
    assert!(
        match_inventory(
            &distro_inv("alpine", "3.18.6", vec![apk("3.1.4-r5")]),
            Some(&db),
            None
        )
        .is_empty()
    );
    let p = apk("3.1.4-r5");
    let d = distro_inv("alpine", "3.19.1", vec![]).distro;
    assert_eq!(
        osv_ecosystem(&p, d.as_ref()).as_deref(),
        Some("Alpine:v3.19")
    );
}

#[test]
fn ubuntu_lts_and_text_severity() {
    let (_d, db) = db();
    let curl = Package {
        source_name: Some("curl".into()),
        source_version: Some("7.81.0-1ubuntu1.13".into()),
        ..pkg(PackageKind::Deb, "libcurl4", "7.81.0-1ubuntu1.13")
    };
    let found = match_inventory(
        &distro_inv("ubuntu", "22.04", vec![curl.clone()]),
        Some(&db),
        None,
    );
    assert_eq!(ids(&found), ["UBUNTU-CVE-2023-38545"]);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(found[0].score, None);
    // The Pro (ESM) entry is for subscribers: not 18.04 without Pro.
    assert!(
        match_inventory(&distro_inv("ubuntu", "18.04", vec![curl]), Some(&db), None).is_empty()
    );
}

#[test]
fn rpm_by_major_release_and_stated_severity() {
    let (_d, db) = db();
    let ssh = Package {
        source_name: Some("openssh".into()),
        ..pkg(PackageKind::Rpm, "openssh-server", "8.7p1-38.el9_4")
    };
    let found = match_inventory(&distro_inv("rocky", "9.4", vec![ssh]), Some(&db), None);
    assert_eq!(ids(&found), ["RLSA-2024:4312"]);
    assert_eq!(found[0].severity, Severity::High);
    let fixed = Package {
        source_name: Some("openssh".into()),
        ..pkg(PackageKind::Rpm, "openssh-server", "8.7p1-38.el9_4.1")
    };
    assert!(match_inventory(&distro_inv("rocky", "9.4", vec![fixed]), Some(&db), None).is_empty());
}

#[test]
fn os_packages_without_a_distro_are_noted_once() {
    let (_d, db) = db();
    let r = match_report(
        &crate::inv(vec![
            deb("libc6", "2.36-9+deb12u1", Some(("glibc", "2.36-9+deb12u1"))),
            deb(
                "libssl3",
                "3.0.11-1~deb12u1",
                Some(("openssl", "3.0.11-1~deb12u1")),
            ),
        ]),
        Some(&db),
        None,
    );
    assert!(r.findings.is_empty());
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(r.notes[0].contains("no distribution known"));
}

#[test]
fn debian_testing_by_codename_and_bare_ecosystem_records() {
    let bare = r#"{"id": "TEST-BARE", "affected": [{"package": {"ecosystem": "Debian", "name": "zlib"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.3.dfsg-1"}]}]}]}"#;
    let dir = write_tree(&[
        ("Debian/DEBIAN-CVE-2023-4911.json", DEBIAN_GLIBC),
        ("Debian/TEST-BARE.json", bare),
    ]);
    let db = OsvDb::open(dir.path()).unwrap();
    // trixie before release: no VERSION_ID, VERSION_CODENAME=trixie -> Debian:13.
    let mut inv = distro_inv(
        "debian",
        "",
        vec![deb("libc6", "2.37-10", Some(("glibc", "2.37-10")))],
    );
    if let Some(d) = inv.distro.as_mut() {
        d.version_codename = Some("trixie".into());
    }
    let found = match_inventory(&inv, Some(&db), None);
    assert_eq!(ids(&found), ["DEBIAN-CVE-2023-4911"]);
    assert_eq!(found[0].fixed, ["2.37-12"]);
    // A record on bare `Debian` applies to every release.
    let z = deb(
        "zlib1g",
        "1:1.2.13.dfsg-1",
        Some(("zlib", "1:1.2.13.dfsg-1")),
    );
    assert_eq!(
        ids(&match_inventory(
            &distro_inv("debian", "12", vec![z.clone()]),
            Some(&db),
            None
        )),
        ["TEST-BARE"]
    );
    assert_eq!(
        ids(&match_inventory(
            &distro_inv("debian", "11", vec![z]),
            Some(&db),
            None
        )),
        ["TEST-BARE"]
    );
    // Unknown codename without VERSION_ID: said, not guessed.
    let mut odd = distro_inv(
        "debian",
        "",
        vec![deb("libc6", "2.37-10", Some(("glibc", "2.37-10")))],
    );
    if let Some(d) = odd.distro.as_mut() {
        d.version_codename = Some("nonesuch".into());
    }
    let r = match_report(&odd, Some(&db), None);
    assert!(r.findings.is_empty());
    assert!(
        r.notes[0].contains("no VERSION_ID or known codename"),
        "{:?}",
        r.notes
    );
}

#[test]
fn maven_records_with_a_repository_suffix() {
    let google = r#"{"id": "TEST-MAVEN", "affected": [{"package": {"ecosystem": "Maven:https://maven.google.com", "name": "androidx.core:core"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.12.0"}]}]}]}"#;
    let dir = write_tree(&[("Maven/TEST-MAVEN.json", google)]);
    let db = OsvDb::open(dir.path()).unwrap();
    let p = |v: &str| pkg(PackageKind::Maven, "androidx.core:core", v);
    assert_eq!(
        ids(&match_inventory(
            &crate::inv(vec![p("1.10.1")]),
            Some(&db),
            None
        )),
        ["TEST-MAVEN"]
    );
    assert!(match_inventory(&crate::inv(vec![p("1.12.0")]), Some(&db), None).is_empty());
}

#[test]
fn the_records_written_here_are_valid_osv() {
    // OSV schema 1.7.5 (repository testdata/osv, see its PROVENANCE.md).
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/osv/schema.v1.7.5.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for text in [
        DEBIAN_GLIBC,
        DEBIAN_OPENSSL,
        ALPINE_OPENSSL,
        UBUNTU_CURL,
        ROCKY_OPENSSH,
    ] {
        let record: serde_json::Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&record)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", record["id"]);
    }
    // The validator is live: a record without `modified` fails.
    let bad: serde_json::Value = serde_json::from_str(r#"{"id": "X-1"}"#).unwrap();
    assert!(!validator.is_valid(&bad));
}
