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

/// Issue 13 item 13: pages with times GitHub would not send. Unambiguous ones are normalised,
/// the rest refused with a warning naming the issue; every record still validates (formats
/// checked too, not only the schema's pattern).
#[test]
fn odd_issue_times_are_normalised_or_refused_and_osv_still_validates() {
    let issue = |number: u64, cve: &str, created: &str, updated: serde_json::Value| {
        serde_json::json!({
            "number": number, "title": format!("{cve}: test issue"),
            "html_url": format!("https://github.com/kubernetes/kubernetes/issues/{number}"),
            "state": "closed", "state_reason": "completed",
            "body": "#### Affected Versions\n- kube-apiserver v1.30.0 - v1.30.2\n#### Fixed Versions\n- kube-apiserver v1.30.3\n",
            "created_at": created, "updated_at": updated,
            "labels": [{"name": "official-cve-feed"}]
        })
    };
    let page = serde_json::json!({"items": [
        issue(1, "CVE-2099-0001", "2024-10", serde_json::json!("2024-10")),
        issue(2, "CVE-2099-0002", "2025-03-23", serde_json::json!("2025-03-24")),
        issue(3, "CVE-2099-0003", "2025-03-23T10:00:00+02:00", serde_json::json!("not-a-date")),
        issue(4, "CVE-2099-0004", "2025-03-23T10:00:00", serde_json::Value::Null),
        issue(5, "CVE-2099-0005", "2025-03-23T10:00:00.250Z", serde_json::json!("2025-04-01T00:00:00Z")),
    ]});
    let (issues, page_warnings) = palisade_feed::parse_page(
        serde_json::to_string(&page).unwrap().as_bytes(),
        "odd-times.json",
        &palisade_feed::Limits::default(),
    )
    .unwrap();
    assert!(page_warnings.is_empty(), "{page_warnings:?}");
    let options = palisade_feed::BuildOptions {
        now: crate::NOW.to_owned(),
        ..palisade_feed::BuildOptions::default()
    };
    let feed = palisade_feed::Feed::from_issues(&issues, &options);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("osv/schema.v1.7.5.json")).unwrap())
            .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let records: std::collections::BTreeMap<String, Value> = osv_records(&feed)
        .into_iter()
        .map(|(id, text)| (id, serde_json::from_str(&text).unwrap()))
        .collect();
    for (id, record) in &records {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{id}: {errors:#?}");
    }
    let times = |id: &str| {
        let r = &records[id];
        (
            r["published"].as_str().unwrap().to_owned(),
            r["modified"].as_str().unwrap().to_owned(),
        )
    };
    // A calendar date is midnight UTC; an offset is applied; a fraction is kept.
    assert_eq!(
        times("CVE-2099-0002"),
        ("2025-03-23T00:00:00Z".into(), "2025-03-24T00:00:00Z".into())
    );
    assert_eq!(
        times("CVE-2099-0003"),
        ("2025-03-23T08:00:00Z".into(), "2025-03-23T08:00:00Z".into())
    );
    assert_eq!(
        times("CVE-2099-0005"),
        (
            "2025-03-23T10:00:00.25Z".into(),
            "2025-04-01T00:00:00Z".into()
        )
    );
    // A month, or a time without a zone, has no single meaning: refused, issue named.
    assert!(!records.contains_key("CVE-2099-0001"));
    assert!(!records.contains_key("CVE-2099-0004"));
    let said = |n: u64, what: &str| {
        feed.warnings.iter().any(|w| {
            w.issue == Some(n)
                && w.to_string().contains(&format!("issue #{n}"))
                && w.message.contains(what)
        })
    };
    assert!(said(1, "created_at \"2024-10\""), "{:?}", feed.warnings);
    assert!(said(4, "no time zone"), "{:?}", feed.warnings);
    assert!(said(3, "updated_at \"not-a-date\""), "{:?}", feed.warnings);
    // The JSON Feed carries the same normalised times.
    let json: Value = serde_json::from_str(&palisade_feed::render_json_feed(&feed)).unwrap();
    let item = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "CVE-2099-0003")
        .unwrap();
    assert_eq!(item["date_published"], "2025-03-23T08:00:00Z");
    assert!(item.get("date_modified").is_none());
}
