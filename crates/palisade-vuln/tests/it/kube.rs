//! Kubernetes component binaries against the Kubernetes CVE feed (palisade-feed's matcher),
//! the feed built by palisade-feed from the vendored GitHub issue pages
//! (`testdata/cve-feed/github-pages-2025` at the repository root).

use crate::{ids, inv, pkg};
use palisade_core::inventory::{Package, PackageKind};
use palisade_feed::{BuildOptions, Feed, Limits, render_json_feed};
use palisade_vuln::{match_inventory, match_report};
use std::path::Path;

fn feed() -> palisade_feed::feed::JsonFeed {
    let pages =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cve-feed/github-pages-2025");
    let (issues, warnings) = palisade_feed::io::read_inputs(&[pages], &Limits::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let options = BuildOptions {
        now: "2026-12-01T00:00:00Z".into(),
        ..BuildOptions::default()
    };
    let json = render_json_feed(&Feed::from_issues(&issues, &options));
    palisade_feed::matcher::load_feed(json.as_bytes(), "feed.json").unwrap()
}

fn apiserver(v: &str) -> Package {
    Package {
        path: Some("usr/local/bin/kube-apiserver".into()),
        ..pkg(PackageKind::Kubernetes, "kube-apiserver", v)
    }
}

#[test]
fn kube_apiserver_against_the_feed() {
    let f = feed();
    let found = match_inventory(&inv(vec![apiserver("v1.27.1")]), None, Some(&f));
    let hit = found
        .iter()
        .find(|x| x.id == "CVE-2023-2727")
        .expect("CVE-2023-2727");
    assert_eq!(hit.fixed, ["1.27.3"]);
    assert_eq!(hit.source, "kubernetes-feed");
    assert_eq!(hit.installed, "1.27.1");
    assert_eq!(hit.package.name, "kube-apiserver");
    assert!(
        hit.url
            .as_deref()
            .unwrap()
            .starts_with("https://github.com/kubernetes/kubernetes/issues/")
    );
    assert_eq!(hit.severity, palisade_core::Severity::Medium);
    assert!(
        hit.cvss.as_deref().unwrap().starts_with("CVSS:3.1/"),
        "{:?}",
        hit.cvss
    );
    assert!(hit.score.is_some());
    // Fixed release: not reported.
    let fixed = match_inventory(&inv(vec![apiserver("v1.27.3")]), None, Some(&f));
    assert!(!ids(&fixed).contains(&"CVE-2023-2727".to_owned()));
    // Without a feed, Kubernetes components are not matched (OSV has no entry for them).
    assert!(match_inventory(&inv(vec![apiserver("v1.27.1")]), None, None).is_empty());
}

#[test]
fn unparseable_component_versions_are_noted() {
    let f = feed();
    let r = match_report(&inv(vec![apiserver("unknown")]), None, Some(&f));
    assert!(r.findings.is_empty());
    assert!(r.notes[0].contains("kube-apiserver"), "{:?}", r.notes);
}

#[test]
fn components_against_the_cve_feed_osv_records() {
    let db = palisade_vuln::OsvDb::open(&crate::testdata("cve-feed-osv")).unwrap();
    assert!(db.warnings().is_empty(), "{:?}", db.warnings());
    let found = match_inventory(&inv(vec![apiserver("v1.27.1")]), Some(&db), None);
    assert_eq!(ids(&found), ["CVE-2023-2727", "CVE-2023-2728"]);
    let f = &found[0];
    assert_eq!((f.source.as_str(), f.installed.as_str()), ("osv", "1.27.1"));
    assert_eq!(f.fixed, ["1.27.3"]);
    // CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N scores 6.5.
    assert_eq!(f.score, Some(6.5));
    assert_eq!(f.severity, palisade_core::Severity::Medium);
    assert!(match_inventory(&inv(vec![apiserver("v1.27.3")]), Some(&db), None).is_empty());
    let kubelet = pkg(PackageKind::Kubernetes, "kubelet", "v1.27.1");
    assert_eq!(
        ids(&match_inventory(&inv(vec![kubelet]), Some(&db), None)),
        ["CVE-2023-3676"]
    );
    // With the feed too, each CVE once (the feed's finding).
    let both = match_inventory(&inv(vec![apiserver("v1.27.1")]), Some(&db), Some(&feed()));
    let n2727 = both.iter().filter(|x| x.id == "CVE-2023-2727").count();
    assert_eq!(n2727, 1);
    assert_eq!(
        both.iter()
            .find(|x| x.id == "CVE-2023-2727")
            .unwrap()
            .source,
        "kubernetes-feed"
    );
}
