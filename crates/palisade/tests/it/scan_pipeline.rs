//! `palisade scan` over palisade-scan: progress only on a terminal, `--pss-level namespace`,
//! `--dedup-owned`.

use crate::{palisade, root};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn write_stream(dir: &Path, name: &str, objects: &[Value]) -> PathBuf {
    let mut text = String::new();
    for o in objects {
        text.push_str("---\n");
        text.push_str(&serde_json::to_string(o).unwrap());
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn scan_json(args: &[&str], path: &Path) -> (i32, Value) {
    let out = palisade()
        .args(["scan", "--no-config", "-f", "json"])
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap(), json)
}

#[test]
fn progress_is_drawn_on_a_terminal_and_never_in_pipes_or_ci() {
    // Piped (as in any CI log): the scan writes its report and nothing on stderr.
    for format in ["table", "json", "sarif"] {
        let out = palisade()
            .args(["scan", "--no-config", "-f", format, "testdata/corpus"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(!out.stdout.is_empty());
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // On a terminal (a pseudo-terminal from util-linux `script`) the spinner is drawn; with
    // CI set or --quiet it is not.
    let bin = assert_cmd::cargo::cargo_bin("palisade");
    let run = |extra: &str, ci: bool| -> Option<String> {
        let mut cmd = std::process::Command::new("script");
        cmd.current_dir(root())
            .args(["-qec"])
            .arg(format!(
                "{} scan --no-config -f json -o /dev/null {extra} testdata/corpus",
                bin.display()
            ))
            .arg("/dev/null")
            .env_remove("CI")
            // Drawn from the first piece: the scan is faster than the usual delay.
            .env("PALISADE_PROGRESS_DELAY_MS", "0");
        if ci {
            cmd.env("CI", "true");
        }
        let out = cmd.output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(tty) = run("", false) else {
        // No `script` on this machine: the pipe half above still ran.
        eprintln!("script(1) not found: terminal half skipped");
        return;
    };
    assert!(tty.contains("scanning:"), "{tty:?}");
    assert!(tty.contains("objects"), "{tty:?}");
    assert!(!run("", true).unwrap().contains("scanning:"));
    assert!(!run("--quiet", false).unwrap().contains("scanning:"));
}

#[test]
fn pss_level_namespace_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str, ns: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
               "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}})
    };
    let ns = |name: &str, level: Option<&str>| {
        let mut n = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        if let Some(l) = level {
            n["metadata"]["labels"] = json!({"pod-security.kubernetes.io/enforce": l});
        }
        n
    };
    // The workloads in one file, their namespaces in a later one.
    write_stream(
        dir.path(),
        "a-pods.yaml",
        &[pod("p", "open"), pod("p", "base"), pod("p", "ghost")],
    );
    write_stream(
        dir.path(),
        "b-namespaces.yaml",
        &[ns("open", None), ns("base", Some("baseline"))],
    );
    let (code, report) = scan_json(&["--pss-level", "namespace", "--select", "pss"], dir.path());
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["pss_level"], "namespace");
    let mut hits: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["object"]["namespace"].as_str().unwrap(),
                f["message"].as_str().unwrap().split('"').nth(1).unwrap()
            )
        })
        .collect();
    hits.sort();
    hits.dedup();
    assert_eq!(hits, ["base baseline:latest", "ghost restricted:latest"]);
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["kind"] == "pss-namespace"
            && n["message"].as_str().unwrap().contains("namespace ghost")),
        "{notes:?}"
    );
    // Findings keep their file:line.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["line"].as_u64().unwrap() > 0)
    );

    let out = palisade()
        .args(["scan", "--pss-level", "strict", "x.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("or namespace"));
}

#[test]
fn dedup_owned_reports_a_kubectl_dump_on_its_top_owner() {
    let dir = tempfile::tempdir().unwrap();
    let spec = json!({"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]});
    let owner = |kind: &str, api: &str, name: &str, uid: &str| json!([{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a", "uid": "d1"},
         "spec": {"selector": {"matchLabels": {"x": "y"}}, "template": {"metadata": {"labels": {"x": "y"}}, "spec": spec}}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "a", "uid": "r1",
            "ownerReferences": owner("Deployment", "apps/v1", "web", "d1")},
         "spec": {"selector": {"matchLabels": {"x": "y"}}, "template": {"metadata": {"labels": {"x": "y"}}, "spec": spec}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1-a", "namespace": "a", "uid": "p1",
            "ownerReferences": owner("ReplicaSet", "apps/v1", "web-1", "r1")}, "spec": spec},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare", "namespace": "a"}, "spec": spec},
    ]});
    let file = write_stream(dir.path(), "dump.yaml", &[list]);
    let kinds = |report: &Value| -> Vec<String> {
        let mut k: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{}/{}",
                    f["object"]["kind"].as_str().unwrap(),
                    f["object"]["name"].as_str().unwrap()
                )
            })
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let (_, plain) = scan_json(&["--select", "privileged"], &file);
    assert_eq!(
        kinds(&plain),
        [
            "Deployment/web",
            "Pod/bare",
            "Pod/web-1-a",
            "ReplicaSet/web-1"
        ]
    );
    let (_, dedup) = scan_json(&["--select", "privileged", "--dedup-owned"], &file);
    assert_eq!(kinds(&dedup), ["Deployment/web", "Pod/bare"]);
    let note = dedup["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "owned")
        .unwrap();
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .starts_with("2 objects created by a controller"),
        "{note}"
    );
}

/// `scan --cluster` against the fake API server: cluster:// names with origin, owner
/// deduplication, `--pss-level namespace` from the cluster's Namespace labels, a 403 kind as
/// a note, and an unreachable server as exit 2 naming the context.
#[test]
fn scan_cluster_through_the_fake_api_server() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
    let spec = json!({"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]});
    let owner = |kind: &str, api: &str, name: &str, uid: &str| json!([{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": true}]);
    let template = json!({"metadata": {"labels": {"x": "y"}}, "spec": spec});
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
            "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "d1"},
            "spec": {"selector": {"matchLabels": {"x": "y"}}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "shop", "uid": "r1",
            "ownerReferences": owner("Deployment", "apps/v1", "web", "d1")},
            "spec": {"selector": {"matchLabels": {"x": "y"}}, "template": template}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1-a", "namespace": "shop", "uid": "p1",
            "ownerReferences": owner("ReplicaSet", "apps/v1", "web-1", "r1")}, "spec": spec}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare", "namespace": "lab", "uid": "p2"}, "spec": spec}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects,
        forbidden: vec!["secrets".into()],
        ..FakeConfig::default()
    }));
    let user = token_user(server.token());
    let kubeconfig = server.kubeconfig(dir.path(), "prod", &user);
    let out = palisade()
        .env_remove("KUBECONFIG")
        .args([
            "scan",
            "--no-config",
            "--cluster",
            "--pss-level",
            "namespace",
            "-f",
            "json",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let mut pss: Vec<String> = findings
        .iter()
        .filter(|f| f["family"] == "pss")
        .map(|f| f["file"].as_str().unwrap().to_owned())
        .collect();
    pss.dedup();
    // The Deployment at its namespace's baseline; its ReplicaSet and Pod through it; the bare
    // pod's namespace has no label: privileged, no PSS finding.
    assert_eq!(pss, ["cluster://prod/shop/Deployment/web"]);
    let bare = findings
        .iter()
        .find(|f| f["file"] == "cluster://prod/lab/Pod/bare")
        .expect("hardening findings on the bare pod");
    assert_eq!(bare["origin"]["uid"], "p2");
    assert_eq!(bare["origin"]["context"], "prod");
    assert_eq!(bare["line"], 0);
    assert!(findings.iter().all(|f| f["origin"]["name"].is_string()));
    assert!(!findings.iter().any(|f| f["object"]["kind"] == "ReplicaSet"));
    let notes = report["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["kind"] == "owned"), "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n["kind"] == "cluster" && n["message"].as_str().unwrap().contains("secrets")),
        "{notes:?}"
    );
    assert_eq!(report["summary"]["files"], 0);
    assert!(server.seen().iter().all(|s| !s.path.contains("watch")));

    // Unreachable: exit 2, the context named.
    drop(server);
    let out = palisade()
        .env_remove("KUBECONFIG")
        .args([
            "scan",
            "--cluster",
            "--request-timeout",
            "2s",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("prod"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(rt);
}
