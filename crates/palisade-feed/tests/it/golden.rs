//! The JSON Feed built from the 2023 issues matches the official 2023-07-01 snapshot on every
//! upstream key. Known differences, each where upstream was wrong or has since changed:
//! - `CVE-2023-2727, CVE-2023-2728` was one item; upstream splits multi-CVE titles since
//!   2024-06-29 (sig-security `84bb15a`), so there are two items with their own id/URLs.
//! - CVE-2019-11244's summary `kubectl:-http-cache` came from the old title parser's
//!   `replace(' -', ':')`; the current parser keeps `kubectl --http-cache`.
//! - CVE-2023-2431's summary had a trailing space; the current parser strips it.
//! - `updated_at` is the build time; `status` is new since 2024-06-27 (the snapshot predates it).

use crate::{build, testdata};
use palisade_feed::render_json_feed;
use serde_json::Value;
use std::collections::BTreeMap;

fn snapshot() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(testdata("cve-feed/official-cve-feed.2023-07-01.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn matches_the_2023_snapshot_on_every_upstream_key() {
    let ours: Value =
        serde_json::from_str(&render_json_feed(&build("cve-feed/github-pages-2023"))).unwrap();
    let snap = snapshot();
    for key in [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "authors",
    ] {
        assert_eq!(ours[key], snap[key], "root {key}");
    }
    assert_eq!(
        ours["_kubernetes_io"]["feed_refresh_job"],
        snap["_kubernetes_io"]["feed_refresh_job"]
    );
    assert_eq!(ours["_kubernetes_io"]["updated_at"], crate::NOW);

    let ours_by_id: BTreeMap<&str, &Value> = ours["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i))
        .collect();
    let mut checked = 0;
    for snap_item in snap["items"].as_array().unwrap() {
        let snap_id = snap_item["id"].as_str().unwrap();
        for id in snap_id.split(", ") {
            let item = ours_by_id.get(id).unwrap_or_else(|| panic!("{id} missing"));
            for key in ["url", "content_text", "date_published"] {
                assert_eq!(item[key], snap_item[key], "{id} {key}");
            }
            let snap_summary = snap_item["summary"].as_str().unwrap();
            let expected_summary = match id {
                "CVE-2019-11244" => {
                    snap_summary.replace("kubectl:-http-cache", "kubectl --http-cache")
                }
                _ => snap_summary.trim().to_owned(),
            };
            assert_eq!(item["summary"], expected_summary.as_str(), "{id} summary");
            let (ext, group) = if snap_id.contains(", ") {
                (
                    format!("https://www.cve.org/cverecord?id={id}"),
                    format!("https://groups.google.com/g/kubernetes-announce/search?q={id}"),
                )
            } else {
                (
                    snap_item["external_url"].as_str().unwrap().to_owned(),
                    snap_item["_kubernetes_io"]["google_group_url"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            };
            assert_eq!(item["external_url"], ext.as_str(), "{id}");
            assert_eq!(
                item["_kubernetes_io"]["google_group_url"],
                group.as_str(),
                "{id}"
            );
            assert_eq!(
                item["_kubernetes_io"]["issue_number"], snap_item["_kubernetes_io"]["issue_number"],
                "{id}"
            );
            assert_eq!(item["status"], "fixed", "{id}: closed/completed");
            checked += 1;
        }
    }
    assert_eq!(checked, 44);
    assert_eq!(ours_by_id.len(), 44, "no extra items");
}

/// Keys in upstream's order (the Python script's `json.dumps(sort_keys=False)`), ours after.
#[test]
fn key_order_is_upstreams() {
    let text = render_json_feed(&build("cve-feed/github-pages-2023"));
    let root_order = [
        "\"version\"",
        "\"title\"",
        "\"home_page_url\"",
        "\"feed_url\"",
        "\"description\"",
        "\"authors\"",
        "\"_kubernetes_io\"",
        "\"items\"",
    ];
    let pos: Vec<usize> = root_order
        .iter()
        .map(|k| {
            text.find(&format!("\n    {k}:"))
                .unwrap_or_else(|| panic!("{k}"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    let first_item = &text[text.find("\"items\"").unwrap()..];
    let item_order = [
        "\"id\"",
        "\"url\"",
        "\"external_url\"",
        "\"summary\"",
        "\"content_text\"",
        "\"date_published\"",
        "\"status\"",
        "\"_kubernetes_io\"",
        "\"google_group_url\"",
        "\"issue_number\"",
    ];
    let pos: Vec<usize> = item_order
        .iter()
        .map(|k| {
            first_item
                .find(&format!("{k}:"))
                .unwrap_or_else(|| panic!("{k}"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    assert!(text.starts_with("{\n    \"version\": \"https://jsonfeed.org/version/1.1\",\n"));
}

/// `updated_at` moves only when content changes; `last_checked_at` is always the build time.
#[test]
fn updated_at_is_stable_without_changes() {
    let issues = crate::issues("cve-feed/github-pages-2023");
    let first = palisade_feed::Feed::from_issues(
        &issues,
        &palisade_feed::BuildOptions {
            now: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        },
    );
    let prev: Value = serde_json::from_str(&render_json_feed(&first)).unwrap();
    let again = palisade_feed::Feed::from_issues(
        &issues,
        &palisade_feed::BuildOptions {
            now: "2026-01-02T00:00:00Z".into(),
            previous: Some(prev.clone()),
            ..Default::default()
        },
    );
    assert_eq!(again.updated_at, "2026-01-01T00:00:00Z");
    assert_eq!(again.last_checked_at, "2026-01-02T00:00:00Z");
    let mut changed = issues.clone();
    changed[0].body = Some("edited".into());
    changed[0].updated_at = Some("2026-01-02T00:00:00Z".into());
    let third = palisade_feed::Feed::from_issues(
        &changed,
        &palisade_feed::BuildOptions {
            now: "2026-01-03T00:00:00Z".into(),
            previous: Some(prev),
            ..Default::default()
        },
    );
    assert_eq!(third.updated_at, "2026-01-03T00:00:00Z");
}

/// The additive data for one item, in full.
#[test]
fn additive_fields() {
    let ours: Value =
        serde_json::from_str(&render_json_feed(&build("cve-feed/github-pages-2023"))).unwrap();
    let item = ours["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "CVE-2022-3172")
        .unwrap();
    let k = &item["_kubernetes_io"];
    assert_eq!(
        k["cvss"]["vector"],
        "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L"
    );
    assert_eq!(k["cvss"]["base_score"], 5.1);
    assert_eq!(k["cvss"]["severity"], "medium");
    assert_eq!(
        k["fixed_versions"],
        serde_json::json!(["1.22.14", "1.23.11", "1.24.5", "1.25.1"])
    );
    assert_eq!(k["affected"][0]["package"], "k8s.io/apiserver");
    assert_eq!(
        k["affected"][0]["ranges"][0],
        serde_json::json!({"introduced": "0", "last_affected": "1.21.14"})
    );
    assert_eq!(
        k["affected"][0]["ranges"][1],
        serde_json::json!({"introduced": "1.22.0", "fixed": "1.22.14", "last_affected": "1.22.13"})
    );
    assert_eq!(item["date_modified"], item["date_published"]);
}
