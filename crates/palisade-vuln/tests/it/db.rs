//! Export layouts (directories, zips), malformed records, range evaluation details.

use crate::{ids, inv, pkg, testdata, write_tree};
use palisade_core::Severity;
use palisade_core::inventory::PackageKind;
use palisade_vuln::{OsvDb, match_inventory, match_report};
use std::io::Write;
use std::path::Path;

/// The vendored Go records packed the way osv.dev's `all.zip` is (one `<ID>.json` per entry).
fn zip_of_go_records(out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = std::fs::read_dir(testdata("osv-go/Go"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        zip.start_file(p.file_name().unwrap().to_str().unwrap(), opts)
            .unwrap();
        zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

fn net_016(db: &OsvDb) -> Vec<String> {
    ids(&match_inventory(
        &inv(vec![
            pkg(PackageKind::Go, "golang.org/x/net", "v0.16.0"),
            pkg(PackageKind::GoStdlib, "stdlib", "1.21.2"),
        ]),
        Some(db),
        None,
    ))
}

#[test]
fn every_export_layout_reads_the_same_records() {
    let want = ["GO-2023-2102", "GO-2023-2102", "GO-2026-6218"];
    for layout in ["Go/all.zip", "Go.zip", "all.zip", "osv-scalibr/Go/all.zip"] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(layout);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        zip_of_go_records(&p);
        let db = OsvDb::open(dir.path()).unwrap();
        assert!(db.warnings().is_empty(), "{layout}: {:?}", db.warnings());
        assert_eq!(db.records(), 14, "{layout}");
        assert_eq!(net_016(&db), want, "{layout}");
    }
    // Flat DIR/*.json, and a zip named directly.
    let db = OsvDb::open(&testdata("osv-go/Go")).unwrap();
    assert_eq!(
        (db.records(), net_016(&db)),
        (14, want.map(String::from).to_vec())
    );
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("Go.zip");
    zip_of_go_records(&z);
    let db = OsvDb::open(&z).unwrap();
    assert_eq!(db.records(), 14);
}

#[test]
fn records_in_several_exports_are_indexed_once() {
    let dir = tempfile::tempdir().unwrap();
    zip_of_go_records(&dir.path().join("all.zip"));
    std::fs::create_dir_all(dir.path().join("Go")).unwrap();
    zip_of_go_records(&dir.path().join("Go/all.zip"));
    std::fs::copy(
        testdata("osv-go/Go/GO-2023-2102.json"),
        dir.path().join("Go/GO-2023-2102.json"),
    )
    .unwrap();
    let db = OsvDb::open(dir.path()).unwrap();
    assert_eq!(db.records(), 14);
    assert_eq!(
        net_016(&db),
        ["GO-2023-2102", "GO-2023-2102", "GO-2026-6218"]
    );
}

#[test]
fn missing_directory_is_an_error() {
    let e = OsvDb::open(Path::new("/nonexistent/osv")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/osv"), "{e}");
}

#[test]
fn malformed_records_are_skipped_with_warnings_naming_file_and_field() {
    let good = std::fs::read_to_string(testdata("osv-go/Go/GO-2023-2102.json")).unwrap();
    let dir = write_tree(&[
        ("Go/GO-2023-2102.json", good.as_str()),
        ("Go/not-json.json", "{ this is not json"),
        ("Go/array.json", "[1, 2]"),
        ("Go/no-id.json", r#"{"affected": []}"#),
        ("Go/bad-id.json", r#"{"id": 7}"#),
        (
            "Go/bad-package.json",
            r#"{"id": "BAD-1", "affected": [{"package": {"ecosystem": "Go"}, "ranges": []},
                {"package": {"ecosystem": "Go", "name": "example.com/ok"},
                 "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]}"#,
        ),
        (
            "Go/bad-event.json",
            r#"{"id": "BAD-2", "affected": [{"package": {"ecosystem": "Go", "name": "example.com/ev"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1.0.0"}]},
                           {"type": "WEIRD", "events": []},
                           {"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}]}]}"#,
        ),
        ("Go/garbage.zip", "PK not really a zip"),
        ("Go/README.txt", "ignored"),
    ]);
    let db = OsvDb::open(dir.path()).unwrap();
    let w = db.warnings();
    let has = |file: &str, text: &str| w.iter().any(|x| x.contains(file) && x.contains(text));
    assert!(has("not-json.json", "not JSON"), "{w:#?}");
    assert!(has("array.json", "not a JSON object"), "{w:#?}");
    assert!(has("no-id.json", "id: missing"), "{w:#?}");
    assert!(has("bad-id.json", "id: not a non-empty string"), "{w:#?}");
    assert!(has("bad-package.json", "affected[0].package"), "{w:#?}");
    assert!(
        has(
            "bad-event.json",
            "affected[0].ranges[0].events[0]: needs exactly one"
        ),
        "{w:#?}"
    );
    assert!(
        has(
            "bad-event.json",
            "affected[0].ranges[1].type: unknown range type \"WEIRD\""
        ),
        "{w:#?}"
    );
    assert!(
        has(
            "bad-event.json",
            "affected[0].ranges[2].events: no `introduced`"
        ),
        "{w:#?}"
    );
    assert!(has("garbage.zip", "not a readable zip"), "{w:#?}");
    assert_eq!(w.len(), 9, "{w:#?}");
    // The good record and the good parts of partly bad ones are still used.
    assert_eq!(db.records(), 3);
    assert_eq!(net_016(&db), ["GO-2023-2102", "GO-2023-2102"]);
    let ok = match_inventory(
        &inv(vec![pkg(PackageKind::Go, "example.com/ok", "v1.1.0")]),
        Some(&db),
        None,
    );
    assert_eq!(ids(&ok), ["BAD-1"]);
    let ev = match_inventory(
        &inv(vec![pkg(PackageKind::Go, "example.com/ev", "v0.1.0")]),
        Some(&db),
        None,
    );
    assert!(ev.is_empty());
}

#[test]
fn oversized_records_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.json");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(palisade_vuln::MAX_RECORD_BYTES + 10).unwrap();
    let db = OsvDb::open(dir.path()).unwrap();
    assert!(
        db.warnings()[0].contains("MAX_RECORD_BYTES"),
        "{:?}",
        db.warnings()
    );
    assert_eq!(db.records(), 0);
}

const RANGES: &str = r#"{
  "id": "TEST-RANGES",
  "affected": [
    {"package": {"ecosystem": "crates.io", "name": "limited"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "2.0.0"}]}]},
    {"package": {"ecosystem": "crates.io", "name": "last"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.4.2"}]}]},
    {"package": {"ecosystem": "PyPI", "name": "Some_Package"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.2.post1"}]}]},
    {"package": {"ecosystem": "npm", "name": "@scope/pkg"},
     "ranges": [{"type": "SEMVER", "events": [{"fixed": "4.0.0"}, {"introduced": "3.0.0"}, {"introduced": "1.0.0"}, {"fixed": "2.0.0"}]}]},
    {"package": {"ecosystem": "Maven", "name": "org.example:lib"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.1"}]}]},
    {"package": {"ecosystem": "RubyGems", "name": "gem"}, "versions": ["1.0.0"],
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
    {"package": {"ecosystem": "Go", "name": "example.com/listed"}, "versions": ["1.2.3", "2.0.0+incompatible"]},
    {"package": {"ecosystem": "crates.io", "name": "git-only"},
     "ranges": [{"type": "GIT", "repo": "https://example.com/r", "events": [{"introduced": "abc"}]}],
     "versions": ["0.3.0"]}
  ],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
}"#;

#[test]
fn range_events_per_osv_schema() {
    let dir = write_tree(&[("mixed/TEST-RANGES.json", RANGES)]);
    let db = OsvDb::open(dir.path()).unwrap();
    assert!(db.warnings().is_empty(), "{:?}", db.warnings());
    let hit = |kind, name: &str, v: &str| {
        !match_inventory(&inv(vec![pkg(kind, name, v)]), Some(&db), None).is_empty()
    };
    // limit: below it only.
    assert!(hit(PackageKind::Cargo, "limited", "1.9.9"));
    assert!(!hit(PackageKind::Cargo, "limited", "2.0.0"));
    // last_affected: inclusive.
    assert!(!hit(PackageKind::Cargo, "last", "0.9.0"));
    assert!(hit(PackageKind::Cargo, "last", "1.4.2"));
    assert!(!hit(PackageKind::Cargo, "last", "1.4.3"));
    // PyPI names are PEP 503 normalised; versions PEP 440.
    assert!(hit(PackageKind::Pypi, "some-package", "1.2"));
    assert!(hit(PackageKind::Pypi, "SOME.package", "1.2.post0"));
    assert!(!hit(PackageKind::Pypi, "some_package", "1.2.post1"));
    assert!(!hit(PackageKind::Pypi, "some_package", "1.0rc1"));
    // Events are evaluated sorted, whatever order the record lists them in.
    assert!(hit(PackageKind::Npm, "@scope/pkg", "1.5.0"));
    assert!(!hit(PackageKind::Npm, "@scope/pkg", "2.5.0"));
    assert!(hit(PackageKind::Npm, "@scope/pkg", "3.9.9"));
    assert!(!hit(PackageKind::Npm, "@scope/pkg", "4.0.0"));
    // Maven ordering: 2.0.1-SNAPSHOT is before 2.0.1.
    assert!(hit(PackageKind::Maven, "org.example:lib", "2.0.1-SNAPSHOT"));
    assert!(!hit(PackageKind::Maven, "org.example:lib", "2.0.1"));
    // A versions list compares in the ecosystem's order: Go's `v` prefix, build metadata.
    assert!(hit(PackageKind::Go, "example.com/listed", "v1.2.3"));
    assert!(hit(
        PackageKind::Go,
        "example.com/listed",
        "v2.0.0+incompatible"
    ));
    assert!(!hit(PackageKind::Go, "example.com/listed", "v1.2.4"));
    // GIT ranges are ignored; the versions list still counts.
    assert!(hit(PackageKind::Cargo, "git-only", "0.3.0"));
    assert!(!hit(PackageKind::Cargo, "git-only", "0.3.1"));
    // CVSS severity of the record.
    let f = match_inventory(
        &inv(vec![pkg(PackageKind::Cargo, "limited", "1.0.0")]),
        Some(&db),
        None,
    );
    assert_eq!((f[0].severity, f[0].score), (Severity::Critical, Some(9.8)));
    assert!(f[0].fixed.is_empty());
    assert_eq!(
        f[0].url.as_deref(),
        Some("https://osv.dev/vulnerability/TEST-RANGES")
    );
}

#[test]
fn aliased_records_merge_into_one_finding() {
    let go = std::fs::read_to_string(testdata("osv-go/Go/GO-2023-2102.json")).unwrap();
    let ghsa = r#"{"id": "GHSA-4374-p667-p6c8", "aliases": ["CVE-2023-39325"],
      "summary": "HTTP/2 rapid reset",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
      "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.17.0"}]}]}]}"#;
    let dir = write_tree(&[
        ("Go/GO-2023-2102.json", go.as_str()),
        ("Go/GHSA-4374-p667-p6c8.json", ghsa),
    ]);
    let db = OsvDb::open(dir.path()).unwrap();
    let r = match_report(
        &inv(vec![pkg(PackageKind::Go, "golang.org/x/net", "v0.16.0")]),
        Some(&db),
        None,
    );
    assert_eq!(ids(&r.findings), ["GHSA-4374-p667-p6c8"]);
    let f = &r.findings[0];
    assert!(
        f.aliases.contains(&"GO-2023-2102".to_owned()),
        "{:?}",
        f.aliases
    );
    assert_eq!((f.severity, f.score), (Severity::High, Some(7.5)));
}
