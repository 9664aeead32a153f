//! `palisade bench` through the binary: a kubeadm-like control-plane snapshot built here (a
//! static pod manifest and the PKI directory), judged with the embedded cis-1.12 definitions.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const APISERVER: &str = "apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.33.2
    command:
    - kube-apiserver
    - --anonymous-auth=true
    - --authorization-mode=AlwaysAllow
    - --profiling=true
    - --etcd-servers=https://127.0.0.1:2379
";

/// A static pod running `command` (kube-bench needs every mandatory master component running
/// before it substitutes any component's binary).
fn static_pod(name: &str, command: &[&str]) -> String {
    let args: String = command.iter().map(|a| format!("    - {a}\n")).collect();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\nspec:\n  containers:\n  - name: {name}\n    image: registry.k8s.io/{name}:v1.33.2\n    command:\n{args}"
    )
}

fn snapshot(root: &Path, mode: u32) {
    let manifests = root.join("etc/kubernetes/manifests");
    fs::create_dir_all(&manifests).unwrap();
    for (name, cmd) in [
        (
            "kube-scheduler",
            &["kube-scheduler", "--profiling=false"][..],
        ),
        (
            "kube-controller-manager",
            &["kube-controller-manager", "--profiling=false"][..],
        ),
        ("etcd", &["etcd", "--data-dir=/var/lib/etcd"][..]),
    ] {
        fs::write(
            manifests.join(format!("{name}.yaml")),
            static_pod(name, cmd),
        )
        .unwrap();
    }
    let file = manifests.join("kube-apiserver.yaml");
    fs::write(&file, APISERVER).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
}

fn bench(root: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args([
            "bench",
            "--benchmark",
            "cis-1.12",
            "--targets",
            "master",
            "--root",
        ])
        .arg(root)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Status of check `id` in kube-bench's JSON document.
fn status(json: &Value, id: &str) -> String {
    let controls = json["Controls"].as_array().unwrap();
    for c in controls {
        for group in c["tests"].as_array().unwrap() {
            for r in group["results"].as_array().unwrap() {
                if r["test_number"] == id {
                    return r["status"].as_str().unwrap().to_owned();
                }
            }
        }
    }
    panic!("no check {id} in {json}")
}

#[test]
fn an_insecure_apiserver_snapshot_fails_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), 0o666);
    let (code, out) = bench(dir.path(), &["-f", "json"]);
    assert_eq!(code, 1, "{out}");
    let json: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    // 1.1.1: the apiserver manifest's mode must be 600 or stricter (it is 666 here).
    assert_eq!(status(&json, "1.1.1"), "FAIL");
    // 1.2.15: --profiling=false (it is true); 1.2.6: --authorization-mode not AlwaysAllow.
    assert_eq!(status(&json, "1.2.15"), "FAIL", "profiling=true");
    assert_eq!(status(&json, "1.2.6"), "FAIL", "AlwaysAllow");
    // 1.3.2: the controller manager's --profiling=false holds.
    assert_eq!(status(&json, "1.3.2"), "PASS");
}

#[test]
fn a_strict_manifest_mode_passes_and_text_output_has_totals() {
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), 0o600);
    let (code, out) = bench(dir.path(), &["--check", "1.1.1"]);
    assert_eq!(code, 0, "no check FAILs: {out}");
    assert!(out.contains("[PASS] 1.1.1"), "{out}");
    assert!(out.contains("checks PASS"), "{out}");
}

#[test]
fn a_malformed_config_dir_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), 0o600);
    let cfg = dir.path().join("cfg");
    fs::create_dir_all(cfg.join("cis-1.12")).unwrap();
    fs::write(
        cfg.join("config.yaml"),
        "master:\n  components: [apiserver\n",
    )
    .unwrap();
    let (code, out) = bench(dir.path(), &["--config-dir", cfg.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    // The file and the line of the error.
    assert!(out.contains("config.yaml:3"), "{out}");
}
