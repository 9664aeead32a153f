//! `palisade scan --render`: charts rendered by the `helm` on PATH (here a shell script
//! standing in for it) are scanned in place of their files, with findings located in the
//! rendered stream; without --render the chart's files are notes; a failing renderer is an
//! input error (exit 2) carrying its message.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A chart with one template, and a fake `helm` in `bin/` that checks its arguments and
/// prints `helm template`'s output for it (a ServiceAccount and a privileged Pod).
fn chart_and_helm(root: &Path, helm_body: &str) {
    fs::create_dir_all(root.join("chart/templates")).unwrap();
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(
        root.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(
        root.join("chart/templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    let helm = root.join("bin/helm");
    fs::write(&helm, format!("#!/bin/sh\n{helm_body}\n")).unwrap();
    fs::set_permissions(&helm, fs::Permissions::from_mode(0o755)).unwrap();
}

const HELM_OUT: &str = "---\n# Source: demo/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: demo\n---\n# Source: demo/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: demo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: true\n";

fn scan(root: &Path, args: &[&str]) -> (i32, Value, String) {
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root)
        .env("PATH", path)
        .args(["scan", "--no-config", "--format", "json", "--select", "pss"])
        .args(args)
        .arg("chart")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn render_scans_the_charts_output_at_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("helm.out"), HELM_OUT).unwrap();
    chart_and_helm(
        dir.path(),
        "[ \"$1\" = template ] && [ \"$2\" = chart ] && [ \"$3\" = --include-crds ] || { echo \"bad args: $*\" >&2; exit 9; }\ncat helm.out",
    );
    let (code, json, stderr) = scan(dir.path(), &["--render"]);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    let privileged: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["field"].as_str().unwrap_or("").ends_with("privileged"))
        .collect();
    assert_eq!(privileged.len(), 1, "{json:#}");
    let f = privileged[0];
    assert_eq!(f["file"], "chart/templates/pod.yaml (rendered)");
    // `privileged: true` is line 18 of helm's output.
    assert_eq!(f["line"], 18);
    assert_eq!(f["object"]["name"], "demo");
    assert!(
        json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "rendered"),
        "{json:#}"
    );

    // Without --render: the chart's files are notes, nothing is scanned, exit 0.
    let (code, json, _) = scan(dir.path(), &[]);
    assert_eq!(code, 0, "{json:#}");
    assert!(json["findings"].as_array().unwrap().is_empty());
    let notes = json["notes"].as_array().unwrap();
    assert!(
        !notes.is_empty() && notes.iter().all(|n| n["kind"] == "helm-chart"),
        "{json:#}"
    );
}

#[test]
fn a_failing_renderer_exits_2_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    chart_and_helm(
        dir.path(),
        "echo 'Error: template: demo/templates/pod.yaml:4: boom' >&2\nexit 1",
    );
    let (code, json, stderr) = scan(dir.path(), &["--render"]);
    assert_eq!(code, 2, "{json:#}");
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json:#}");
    assert_eq!(errors[0]["kind"], "render");
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("helm template") && msg.contains("boom"),
        "{msg}"
    );
    // Also on stderr, for the person at the terminal.
    assert!(stderr.contains("boom"), "{stderr}");
}
