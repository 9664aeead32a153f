//! `palisade feed build` and `palisade feed affected` through the real binary.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root())
        .env("PALISADE_FEED_NOW", "2026-12-01T00:00:00Z");
    cmd
}

fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build(out: &Path) -> std::process::Output {
    palisade()
        .args([
            "feed",
            "build",
            "--input",
            "testdata/cve-feed/github-pages-2025",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn build_writes_the_four_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = build(dir.path());
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("71 CVEs from 70 issues"), "{stderr}");
    let feed: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("official-cve-feed.json")).unwrap())
            .unwrap();
    assert_eq!(feed["items"].as_array().unwrap().len(), 71);
    assert_eq!(feed["_kubernetes_io"]["updated_at"], "2026-12-01T00:00:00Z");
    assert!(
        std::fs::read_to_string(dir.path().join("feed.xml"))
            .unwrap()
            .starts_with("<?xml")
    );
    assert!(
        std::fs::read_to_string(dir.path().join("atom.xml"))
            .unwrap()
            .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    let osv: Vec<_> = std::fs::read_dir(dir.path().join("osv")).unwrap().collect();
    assert_eq!(osv.len(), 71);
    let rec: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("osv/CVE-2023-2727.json")).unwrap())
            .unwrap();
    assert_eq!(rec["affected"][0]["package"]["ecosystem"], "Kubernetes");

    // A rebuild with no change keeps updated_at and says so.
    let again = palisade()
        .env("PALISADE_FEED_NOW", "2026-12-02T00:00:00Z")
        .args([
            "feed",
            "build",
            "--input",
            "testdata/cve-feed/github-pages-2025",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("(content unchanged)"));
    let feed: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("official-cve-feed.json")).unwrap())
            .unwrap();
    assert_eq!(feed["_kubernetes_io"]["updated_at"], "2026-12-01T00:00:00Z");
    assert_eq!(
        feed["_kubernetes_io"]["last_checked_at"],
        "2026-12-02T00:00:00Z"
    );
}

#[test]
fn affected_json_for_kube_apiserver_1_27_1() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let out = palisade()
        .args([
            "feed",
            "affected",
            "--version",
            "v1.27.1",
            "--component",
            "kube-apiserver",
            "--format",
            "json",
            "--feed",
        ])
        .arg(dir.path().join("official-cve-feed.json"))
        .output()
        .unwrap();
    assert_success(&out);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "CVE-2023-2727")
        .unwrap();
    assert_eq!(hit["component"], "kube-apiserver");
    assert_eq!(hit["fixed"], "1.27.3");
    assert_eq!(hit["severity"], "medium");
    for m in list.as_array().unwrap() {
        for key in ["id", "component", "fixed", "severity"] {
            assert!(m.get(key).is_some(), "{key} missing in {m}");
        }
    }
}

#[test]
fn affected_cluster_table() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    std::fs::write(
        dir.path().join("version.json"),
        r#"{"clientVersion":{"gitVersion":"v1.28.3"},"serverVersion":{"gitVersion":"v1.27.1"}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("nodes.json"), r#"{"kind":"List","items":[{"metadata":{"name":"w1"},"status":{"nodeInfo":{"kubeletVersion":"v1.26.3"}}}]}"#).unwrap();
    let out = palisade()
        .args(["feed", "affected", "--feed"])
        .arg(dir.path().join("official-cve-feed.json"))
        .arg("--cluster")
        .arg(dir.path().join("version.json"))
        .arg("--cluster")
        .arg(dir.path().join("nodes.json"))
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("CVE "), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("CVE-2023-2727 "))
        .unwrap();
    assert!(
        line.contains("1.27.3") && line.contains("control plane"),
        "{line}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("CVE-2023-2431 ") && l.contains("node w1")),
        "{text}"
    );
}

/// Issue 13 item 12 through the binary: narrowing, `--component-specific`, and why each matched.
#[test]
fn affected_says_why_and_keeps_to_the_component() {
    let dir = tempfile::tempdir().unwrap();
    assert_success(&build(dir.path()));
    let feed = dir.path().join("official-cve-feed.json");
    let run = |args: &[&str]| -> Value {
        let out = palisade()
            .args(["feed", "affected", "-f", "json", "--feed"])
            .arg(&feed)
            .args(args)
            .output()
            .unwrap();
        assert_success(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let kubectl = run(&["--component", "kubectl", "--version", "v1.29.0"]);
    assert!(!ids(&kubectl).contains(&"CVE-2020-8554".to_owned()));
    let api = run(&["--component", "kube-apiserver", "--version", "v1.27.1"]);
    assert!(
        !ids(&api).contains(&"CVE-2023-2431".to_owned()),
        "kubelet-only"
    );
    let api = run(&["--component", "kube-apiserver", "--version", "v1.29.0"]);
    let mitm = api
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "CVE-2020-8554")
        .unwrap();
    assert_eq!(mitm["scope"], "kubernetes");
    assert!(
        mitm["reason"]
            .as_str()
            .unwrap()
            .contains("All Kubernetes versions are affected")
    );
    let strict = run(&[
        "--component",
        "kube-apiserver",
        "--version",
        "v1.29.0",
        "--component-specific",
    ]);
    assert!(!ids(&strict).contains(&"CVE-2020-8554".to_owned()));
    assert!(
        strict
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["scope"] != "kubernetes" && m["reason"].is_string())
    );
    // Table: a SCOPE column and the reason under each row.
    let out = palisade()
        .args(["feed", "affected", "--feed"])
        .arg(&feed)
        .args(["--component", "kubelet", "--version", "1.27.1"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().unwrap().contains("SCOPE"), "{text}");
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("CVE-2023-2431 "));
    let row = lines.next().unwrap();
    assert!(row.contains(" issue "), "{row}");
    let why = lines.next().unwrap();
    assert!(
        why.trim_start()
            .starts_with("why: affected line \"v1.27.0 - v1.27.1\""),
        "{why}"
    );
}

#[test]
fn bad_input_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"items\": [").unwrap();
    let out = palisade()
        .args(["feed", "build", "--input"])
        .arg(dir.path().join("bad.json"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("not valid JSON"),
        "{err}"
    );

    let out = palisade()
        .args(["feed", "build", "--input", "no/such/dir", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));

    std::fs::write(dir.path().join("feed.json"), "[]").unwrap();
    let out = palisade()
        .args(["feed", "affected", "--version", "v1.2.3", "--feed"])
        .arg(dir.path().join("feed.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a feed"));

    let out = palisade()
        .args([
            "feed",
            "affected",
            "--version",
            "v1.x",
            "--feed",
            "testdata/cve-feed/official-cve-feed.2023-07-01.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--version"));
}
