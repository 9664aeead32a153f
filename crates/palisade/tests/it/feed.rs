//! `palisade feed build` and `palisade feed affected` through the real binary.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

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
    // The summary may wrap onto more lines; the reason follows it.
    let why = lines.find(|l| l.trim_start().starts_with("why: ")).unwrap();
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

/// Issue 16 item 15: the table fits the terminal (COLUMNS here, as for scan): the summary
/// wraps in its column, the reason under the row; nothing is cut.
#[test]
fn affected_table_wraps_to_the_width() {
    let dir = tempfile::tempdir().unwrap();
    assert_success(&build(dir.path()));
    let feed = dir.path().join("official-cve-feed.json");
    let run = |columns: &str| -> String {
        let out = palisade()
            .env("COLUMNS", columns)
            .args(["feed", "affected", "--feed"])
            .arg(&feed)
            .args(["--version", "v1.27.1"])
            .output()
            .unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let words =
        |t: &str| -> Vec<String> { t.split_whitespace().map(str::to_owned).collect::<Vec<_>>() };
    for columns in ["80", "120", "60"] {
        let text = run(columns);
        let width: usize = columns.parse().unwrap();
        for l in text.lines() {
            assert!(
                l.chars().count() <= width,
                "{columns}: {l:?} is {} wide",
                l.chars().count()
            );
        }
        assert!(
            text.lines()
                .filter(|l| l.trim_start().starts_with("why: "))
                .count()
                > 5
        );
        let rows = text.lines().filter(|l| l.starts_with("CVE-")).count();
        assert!(rows > 5, "{text}");
    }
    // Wrapping moves words, never drops them: the same words at 60 and 200 columns.
    let mut narrow = words(&run("60"));
    let mut wide = words(&run("200"));
    narrow.sort();
    wide.sort();
    assert_eq!(narrow, wide);
    // Wide enough, the summary has its column; at 80 it goes under each row.
    let at160 = run("160");
    assert!(
        at160.lines().next().unwrap().ends_with("TARGETS / SUMMARY"),
        "{at160}"
    );
    let at80 = run("80");
    assert_eq!(at80.lines().nth(1), Some("    TARGETS / SUMMARY"), "{at80}");
}

fn nodes_and_versions() -> Vec<Value> {
    vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.26.3", "kubeProxyVersion": "v1.26.3",
                "operatingSystem": "linux"}}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w2"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.27.1", "operatingSystem": "linux"}}}),
    ]
}

/// `feed affected --cluster` without FILE reads the live cluster (here the fake API server,
/// authenticated through an exec credential plugin) and answers per component and node, as
/// the `kubectl version`/`get nodes` files do.
#[test]
fn affected_live_cluster_through_an_exec_plugin() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, exec_user};
    let dir = tempfile::tempdir().unwrap();
    assert_success(&build(dir.path()));
    let feed = dir.path().join("official-cve-feed.json");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects: nodes_and_versions(),
        version: "v1.27.1-eks-2f008fe".into(),
        token: "exec-token-7".into(),
        ..FakeConfig::default()
    }));
    let user = exec_user(dir.path(), "exec-token-7");
    let kubeconfig = server.kubeconfig(dir.path(), "eks-prod", &user);
    let live = palisade()
        .env_remove("KUBECONFIG")
        .args(["feed", "affected", "-f", "json", "--feed"])
        .arg(&feed)
        .arg("--cluster")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_success(&live);
    let live: Value = serde_json::from_slice(&live.stdout).unwrap();
    // The same answer from the files kubectl would have written.
    std::fs::write(
        dir.path().join("version.json"),
        r#"{"serverVersion":{"gitVersion":"v1.27.1-eks-2f008fe"}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("nodes.json"),
        serde_json::json!({"kind": "List", "items": nodes_and_versions()}).to_string(),
    )
    .unwrap();
    let files = palisade()
        .args(["feed", "affected", "-f", "json", "--feed"])
        .arg(&feed)
        .arg("--cluster")
        .arg(dir.path().join("version.json"))
        .arg("--cluster")
        .arg(dir.path().join("nodes.json"))
        .output()
        .unwrap();
    assert_success(&files);
    let files: Value = serde_json::from_slice(&files.stdout).unwrap();
    let ids = |v: &Value| -> Vec<(String, String, Vec<String>)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_owned(),
                    m["component"].as_str().unwrap().to_owned(),
                    m["targets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(ids(&live), ids(&files));
    let live = ids(&live);
    assert!(
        live.iter()
            .any(|(id, _, t)| id == "CVE-2023-2727" && t.contains(&"control plane".to_owned())),
        "{live:?}"
    );
    assert!(
        live.iter()
            .any(|(id, _, t)| id == "CVE-2023-2431" && t.contains(&"node w1".to_owned())),
        "{live:?}"
    );
    // Read-only, and every request carried the plugin's token.
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.path == "/version"));
    assert!(seen.iter().any(|s| s.path == "/api/v1/nodes"));
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer exec-token-7"))
    );
    drop(server);
    drop(rt);
}

#[test]
fn affected_live_cluster_errors_name_the_context() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, make_executable, token_user};
    let dir = tempfile::tempdir().unwrap();
    assert_success(&build(dir.path()));
    let feed = dir.path().join("official-cve-feed.json");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects: nodes_and_versions(),
        forbidden: vec!["nodes".into()],
        ..FakeConfig::default()
    }));
    // No permission to list nodes: the control plane is still answered, with a note.
    let kubeconfig = server.kubeconfig(dir.path(), "ro", &token_user(server.token()));
    let out = palisade()
        .args(["feed", "affected", "--feed"])
        .arg(&feed)
        .arg("--cluster")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "note: context \"ro\": Node: forbidden (403): missing verb \"list\" on nodes"
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("control plane"));

    // A failing exec plugin: exit 2, the context and the plugin's message.
    let script = dir.path().join("login.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'session expired: run login' >&2\nexit 1\n",
    )
    .unwrap();
    make_executable(&script);
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  interactiveMode: Never\n",
        script.display()
    );
    let kubeconfig = server.kubeconfig(dir.path(), "prod", &user);
    let out = palisade()
        .args(["feed", "affected", "--feed"])
        .arg(&feed)
        .arg("--cluster")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("context \"prod\": the exec credential plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("session expired: run login"), "{stderr}");

    // An unreachable server: exit 2 within the timeout, naming the context.
    let kubeconfig = server.kubeconfig(dir.path(), "gone", &token_user(server.token()));
    let port = server.addr.port();
    drop(server);
    let start = std::time::Instant::now();
    let out = palisade()
        .args(["feed", "affected", "--request-timeout", "2s", "--feed"])
        .arg(&feed)
        .arg("--cluster")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "context \"gone\": cannot reach the API server https://localhost:{port}/"
        )),
        "{stderr}"
    );
    drop(rt);
}
