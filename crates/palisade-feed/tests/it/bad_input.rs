//! Bad input: truncated or non-JSON pages, issues without a CVE in the title, empty bodies,
//! absurd versions, oversized input. Clear errors or warnings; the rest is still processed.

use crate::testdata;
use palisade_feed::io::read_inputs;
use palisade_feed::{BuildOptions, Feed, FeedError, Issue, Limits};
use std::fs;

fn issue(number: u64, title: &str, body: Option<&str>) -> Issue {
    Issue {
        number,
        title: title.to_owned(),
        html_url: format!("https://github.com/kubernetes/kubernetes/issues/{number}"),
        state: "open".to_owned(),
        state_reason: None,
        body: body.map(str::to_owned),
        created_at: "2025-01-01T00:00:00Z".to_owned(),
        updated_at: Some("2025-01-02T00:00:00Z".to_owned()),
        closed_at: None,
        labels: Vec::new(),
        pull_request: None,
    }
}

#[test]
fn bad_pages_are_warnings_and_good_pages_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read(testdata("cve-feed/github-pages-2025/page-3.json")).unwrap();
    fs::write(dir.path().join("a-good.json"), &good).unwrap();
    fs::write(dir.path().join("b-truncated.json"), &good[..good.len() / 2]).unwrap();
    fs::write(
        dir.path().join("c-html.json"),
        b"<html>502 Bad Gateway</html>",
    )
    .unwrap();
    fs::write(
        dir.path().join("d-error.json"),
        br#"{"message":"Validation Failed"}"#,
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), b"ignored: not .json").unwrap();
    let (issues, warnings) = read_inputs(&[dir.path().to_owned()], &Limits::default()).unwrap();
    assert_eq!(issues.len(), 10);
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].contains("b-truncated.json") && text[0].contains("not valid JSON at line"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("c-html.json") && text[1].contains("not valid JSON"),
        "{}",
        text[1]
    );
    assert!(
        text[2].contains("d-error.json") && text[2].contains("not a GitHub issue page"),
        "{}",
        text[2]
    );
}

#[test]
fn nothing_readable_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.json"), b"[").unwrap();
    let e = read_inputs(&[dir.path().to_owned()], &Limits::default()).unwrap_err();
    assert!(matches!(e, FeedError::NoInput { count: 1, .. }), "{e}");
    assert!(e.to_string().contains("x.json: page skipped: "), "{e}");
    let missing = dir.path().join("missing");
    let e = read_inputs(&[missing], &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn page_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("small.json"), b"[]").unwrap();
    let limits = Limits {
        max_page_bytes: 1000,
        ..Limits::default()
    };
    let (_, w) = read_inputs(
        &[
            dir.path().join("small.json"),
            testdata("cve-feed/github-pages-2025/page-1.json"),
        ],
        &limits,
    )
    .unwrap();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].to_string()
            .contains("over the max_page_bytes limit (1000); raise it with --max-page-bytes"),
        "{w:?}"
    );
}

#[test]
fn bad_issues_are_warnings() {
    let long = "x".repeat(2000);
    let issues = vec![
        issue(1, "Placeholder Issue", Some("text")),
        issue(
            2,
            "[Security Advisory] CVE-2024-9042: Command Injection",
            Some("text"),
        ),
        issue(3, "CVE-2025-0001: empty body", None),
        issue(
            4,
            "CVE-2025-0002: absurd versions",
            Some(
                "#### Affected Versions\n- kubelet v1.99999999999999999999999.0\n- kubelet v1.2.3.4\n#### Fixed Versions\n- kubelet vNEXT\n",
            ),
        ),
        issue(5, "CVE-2025-0003: big body", Some(&long)),
        issue(
            6,
            "CVE-2025-0004: fine",
            Some(
                "#### Affected Versions\n- kubelet v1.30.0 - v1.30.2\n#### Fixed Versions\n- kubelet v1.30.3\n",
            ),
        ),
    ];
    let options = BuildOptions {
        now: "2026-01-01T00:00:00Z".into(),
        limits: Limits {
            max_body_bytes: 1000,
            ..Limits::default()
        },
        ..BuildOptions::default()
    };
    let feed = Feed::from_issues(&issues, &options);
    assert_eq!(
        feed.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        [
            "CVE-2025-0004",
            "CVE-2025-0003",
            "CVE-2025-0002",
            "CVE-2025-0001"
        ],
        "same date: higher issue number first"
    );
    assert_eq!(feed.warnings.len(), 2);
    assert!(
        feed.warnings[0]
            .to_string()
            .contains("issue #1: title does not start with a CVE ID")
    );
    let w = |id: &str| {
        feed.items
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .warnings
            .clone()
    };
    assert_eq!(
        w("CVE-2025-0001"),
        ["issue body is empty: no versions or CVSS"]
    );
    let absurd = w("CVE-2025-0002");
    assert_eq!(absurd.len(), 3, "{absurd:#?}");
    assert!(absurd[0].contains("too large"), "{absurd:#?}");
    assert!(w("CVE-2025-0003")[0].contains("max_body_bytes"));
    assert!(w("CVE-2025-0004").is_empty());
    assert_eq!(feed.items[0].status, Some("open"));
}

#[test]
fn issue_limit_and_duplicates() {
    let a = issue(7, "CVE-2025-0007: old", Some(""));
    let mut b = a.clone();
    b.title = "CVE-2025-0007: new".into();
    b.updated_at = Some("2025-02-01T00:00:00Z".into());
    let feed = Feed::from_issues(
        &[a, b, issue(8, "CVE-2025-0008: x", Some(""))],
        &BuildOptions {
            limits: Limits {
                max_issues: 1,
                ..Limits::default()
            },
            ..BuildOptions::default()
        },
    );
    assert_eq!(feed.items.len(), 1);
    assert_eq!(feed.items[0].summary, "new");
    assert!(feed.warnings[0].to_string().contains("max_issues"));
}
