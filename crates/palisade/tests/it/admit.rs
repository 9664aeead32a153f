//! `palisade admit` through the real binary: argument and file errors, start-up and
//! graceful stop on SIGTERM, and the deploy manifests scanning clean at restricted.

use crate::root;
use assert_cmd::Command;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A namespace file for `--objects`.
fn objects(dir: &Path) -> PathBuf {
    let ns = dir.join("ns.yaml");
    std::fs::write(
        &ns,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    )
    .unwrap();
    ns
}

fn certs(dir: &Path) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

#[test]
fn deploy_manifests_scan_clean_at_restricted() {
    Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .args(["scan", "--pss-level", "restricted", "deploy/admit/"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("0 findings"));
}

#[test]
fn admit_reports_bad_input_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certs(dir.path());
    let bad_config = dir.path().join("bad.yaml");
    std::fs::write(
        &bad_config,
        "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: strict}\n",
    )
    .unwrap();
    let ns = objects(dir.path());
    let run = |extra: &[&Path]| {
        let mut cmd = Command::cargo_bin("palisade").unwrap();
        // No cluster credentials anywhere: not in a pod, no $KUBECONFIG, no ~/.kube/config.
        cmd.env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBECONFIG")
            .env("HOME", dir.path())
            .args(["admit", "--listen", "127.0.0.1:0", "--cert"])
            .arg(&cert)
            .arg("--key")
            .arg(&key);
        for a in extra {
            cmd.arg(a);
        }
        cmd.timeout(Duration::from_secs(20)).assert().code(2)
    };
    run(&[
        Path::new("--config"),
        &bad_config,
        Path::new("--objects"),
        &ns,
    ])
    .stderr(predicates::str::contains("bad.yaml"))
    .stderr(predicates::str::contains(
        "defaults.enforce: Invalid value: \"strict\"",
    ));
    run(&[]).stderr(predicates::str::contains(
        "not running in a cluster (KUBERNETES_SERVICE_HOST is not set) and no kubeconfig found",
    ));
    // A kubeconfig whose current user needs an exec plugin that is not installed: an error
    // naming the context and printing the plugin's installHint, before serving.
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n- name: c\n  cluster: {server: 'https://x.example'}\ncontexts:\n- name: eks\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: palisade-test-no-such-plugin, installHint: install the AWS CLI}}\n",
    )
    .unwrap();
    run(&[Path::new("--kubeconfig"), &kubeconfig])
        .stderr(predicates::str::contains(
            "context \"eks\": the exec credential plugin \"palisade-test-no-such-plugin\" was not found",
        ))
        .stderr(predicates::str::contains("install the AWS CLI"));
    run(&[Path::new("--objects"), &dir.path().join("missing.yaml")])
        .stderr(predicates::str::contains("missing.yaml"));
    // --policy: a template whose Rego does not compile stops the start (no half-configured
    // webhook), naming the file and the line of the Rego source.
    let library = root().join("testdata/gatekeeper-library/library/general/requiredlabels");
    let broken = dir.path().join("broken-template.yaml");
    let template = std::fs::read_to_string(library.join("template.yaml")).unwrap();
    std::fs::write(&broken, template.replace("violation[{", "violation[[{")).unwrap();
    run(&[
        Path::new("--objects"),
        &ns,
        Path::new("--policy"),
        &broken,
        &library.join("samples/all-must-have-owner/constraint.yaml"),
    ])
    .stderr(predicates::str::contains(
        "--policy files have errors (the webhook does not start with a partial policy set)",
    ))
    .stderr(predicates::str::contains(
        "broken-template.yaml:60: template k8srequiredlabels: Rego does not compile",
    ));
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.args([
        "admit",
        "--listen",
        "127.0.0.1:0",
        "--cert",
        "nope.crt",
        "--key",
        "nope.key",
        "--objects",
    ])
    .arg(&ns)
    .timeout(Duration::from_secs(20))
    .assert()
    .code(2)
    .stderr(predicates::str::contains(
        "cannot read certificate file nope.crt",
    ));
}

#[test]
fn admit_serves_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certs(dir.path());
    let ns = objects(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("palisade");
    let mut child = std::process::Command::new(bin)
        // Port 0 for metrics too: the default 127.0.0.1:9090 may be taken on a test machine.
        .args([
            "admit",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--cert",
        ])
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("--objects")
        .arg(&ns)
        .arg("--policy")
        .arg(root().join("testdata/gatekeeper-library/library/general/requiredlabels"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let listening = loop {
        match lines.next() {
            Some(Ok(l)) => {
                let hit = l.contains("listening on https://127.0.0.1:");
                seen.push(l);
                if hit {
                    break true;
                }
            }
            _ => break false,
        }
    };
    assert!(listening, "{seen:?}");
    // The library directory: its template and the two sample constraints.
    assert!(
        seen.iter()
            .any(|l| l.contains("loaded --policy") && l.contains("policies=2")),
        "{seen:?}"
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}
