//! Every OSV record validates against the saved OSV schema 1.7.5, and the properties the schema
//! cannot check hold: SemVer without `v`, events sorted and non-overlapping, Go-module names.

use crate::{build, testdata};
use palisade_feed::osv_records;
use palisade_feed::version::Version;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("osv/schema.v1.7.5.json")).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn every_record_validates_against_the_schema() {
    let validator = schema();
    let mut count = 0;
    for dir in ["cve-feed/github-pages-2023", "cve-feed/github-pages-2025"] {
        for (id, text) in osv_records(&build(dir)) {
            let record: Value = serde_json::from_str(&text).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&record)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{id}: {errors:#?}");
            assert_eq!(record["id"], id.as_str());
            count += 1;
        }
    }
    assert_eq!(count, 44 + 71);
}

#[test]
fn the_schema_rejects_what_peers_emit() {
    // The validator is live: cve-feed-osv's lower-case ecosystem fails 1.7.x (research §4).
    let validator = schema();
    let peer: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("cve-feed/cve-feed-osv/CVE-2023-2727.json")).unwrap(),
    )
    .unwrap();
    assert!(!validator.is_valid(&peer));
    let fixed_peer = serde_json::to_string(&peer)
        .unwrap()
        .replace("\"kubernetes\"", "\"Kubernetes\"");
    assert!(validator.is_valid(&serde_json::from_str(&fixed_peer).unwrap()));
}

#[test]
fn semver_events_are_clean_and_sorted() {
    let feed = build("cve-feed/github-pages-2025");
    let mut with_ranges = 0;
    for (id, text) in osv_records(&feed) {
        let record: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(record["schema_version"], "1.7.5");
        for a in record["affected"].as_array().into_iter().flatten() {
            assert_eq!(a["package"]["ecosystem"], "Kubernetes");
            let name = a["package"]["name"].as_str().unwrap();
            assert!(
                name.contains('/') && name.contains('.'),
                "{id}: {name} is not a Go module path"
            );
            for r in a["ranges"].as_array().unwrap() {
                assert_eq!(r["type"], "SEMVER");
                let mut prev: Option<Version> = None;
                let events = r["events"].as_array().unwrap();
                for (i, e) in events.iter().enumerate() {
                    let (kind, val) = e.as_object().unwrap().iter().next().unwrap();
                    let val = val.as_str().unwrap();
                    assert!(!val.starts_with('v'), "{id}: {val}");
                    // Alternating introduced / end, so no two intervals overlap.
                    assert_eq!(kind == "introduced", i % 2 == 0, "{id}: {events:?}");
                    if val == "0" {
                        assert_eq!(i, 0, "{id}: introduced 0 only first");
                        continue;
                    }
                    let ver = Version::parse(val).unwrap();
                    if let Some(p) = &prev {
                        assert!(
                            ver > *p || (kind == "last_affected" && ver == *p),
                            "{id}: unsorted {events:?}"
                        );
                    }
                    prev = Some(ver);
                }
                with_ranges += 1;
            }
        }
    }
    assert!(with_ranges >= 60, "{with_ranges}");
}

#[test]
fn record_for_cve_2023_2727() {
    let feed = build("cve-feed/github-pages-2025");
    let (_, text) = osv_records(&feed)
        .into_iter()
        .find(|(id, _)| id == "CVE-2023-2727")
        .unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        r["severity"],
        serde_json::json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N"}])
    );
    assert_eq!(r["related"], serde_json::json!(["CVE-2023-2728"]));
    assert_eq!(r["published"], "2023-06-13T14:42:06Z");
    assert_eq!(
        r["affected"][0]["ranges"][0]["events"],
        serde_json::json!([
            {"introduced": "0"}, {"fixed": "1.24.15"},
            {"introduced": "1.25.0"}, {"fixed": "1.25.11"},
            {"introduced": "1.26.0"}, {"fixed": "1.26.6"},
            {"introduced": "1.27.0"}, {"fixed": "1.27.3"}
        ])
    );
    assert_eq!(r["affected"][0]["package"]["name"], "k8s.io/apiserver");
}

#[test]
fn a_cve_page_of_our_own_is_a_web_reference_and_still_validates() {
    let validator = schema();
    let mut feed = build("cve-feed/github-pages-2023");
    let web = |text: &str| -> Vec<String> {
        let record: Value = serde_json::from_str(text).unwrap();
        record["references"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "WEB")
            .map(|r| r["url"].as_str().unwrap().to_owned())
            .collect()
    };
    // Upstream's records have no reference to a page of ours.
    assert!(osv_records(&feed).iter().all(|(_, t)| web(t).is_empty()));
    feed.site.cve_page_url = Some("https://cve.example.org/#".to_owned());
    for (id, text) in osv_records(&feed) {
        assert_eq!(web(&text), [format!("https://cve.example.org/#{id}")]);
        assert!(
            validator.is_valid(&serde_json::from_str(&text).unwrap()),
            "{id}"
        );
    }
}
