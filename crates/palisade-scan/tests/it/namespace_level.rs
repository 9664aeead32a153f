//! `--pss-level namespace`: each object at its namespace's enforce level and version.

use crate::{objects, scan_objects};
use palisade_core::Finding;
use palisade_rules::pss::Level;
use palisade_scan::{Options, PssLevel, Scan, Source};
use serde_json::{Value, json};

fn ns(name: &str, labels: &[(&str, &str)]) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const VERSION: &str = "pod-security.kubernetes.io/enforce-version";
const WARN: &str = "pod-security.kubernetes.io/warn";

/// Privileged: fails baseline.
fn privileged(name: &str, namespace: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
           "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}})
}

/// Restricted in every way but `runAsUser: 0`, a check restricted has since v1.23.
fn root(name: &str, namespace: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
           "spec": {"securityContext": {"runAsNonRoot": true, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "c", "image": "i", "securityContext": {
                        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}}})
}

/// Baseline, not restricted (no securityContext at all).
fn plain(name: &str, namespace: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
           "spec": {"containers": [{"name": "c", "image": "i"}]}})
}

fn namespaces() -> Vec<Value> {
    vec![
        ns("open", &[]),
        ns("base", &[(ENFORCE, "baseline")]),
        ns("strict", &[(ENFORCE, "restricted")]),
        ns("strict-old", &[(ENFORCE, "restricted"), (VERSION, "v1.22")]),
        ns("warned", &[(ENFORCE, "baseline"), (WARN, "restricted")]),
    ]
}

fn workloads() -> Vec<Value> {
    vec![
        privileged("p", "open"),
        privileged("p", "base"),
        plain("plain", "base"),
        root("root", "strict"),
        root("root", "strict-old"),
        plain("plain", "warned"),
        plain("plain", "ghost"),
    ]
}

fn namespace_mode() -> Options {
    Options {
        pss_level: PssLevel::Namespace {
            fallback: Level::Restricted,
        },
        ..Options::default()
    }
}

/// `namespace/name: PSS messages' levels`, for PSS findings only.
fn pss(findings: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .filter(|f| f.family == "pss")
        .map(|f| {
            let level = f.message.split('"').nth(1).unwrap_or("").to_owned();
            format!(
                "{}/{} {} {level}",
                f.object.namespace.as_deref().unwrap_or("-"),
                f.object.name.as_deref().unwrap_or("-"),
                palisade_rules::psa_check_for(&f.rule).unwrap_or(&f.rule),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn expected() -> Vec<&'static str> {
    vec![
        "base/p privileged baseline:latest",
        // Judged at the fallback, restricted, with a note.
        "ghost/plain allowPrivilegeEscalation restricted:latest",
        "ghost/plain capabilities_restricted restricted:latest",
        "ghost/plain runAsNonRoot restricted:latest",
        "ghost/plain seccompProfile_restricted restricted:latest",
        "strict/root runAsUser restricted:latest",
    ]
}

#[test]
fn each_object_at_its_namespace_level_and_version() {
    let mut all = namespaces();
    all.extend(workloads());
    let out = scan_objects(namespace_mode(), all);
    assert_eq!(pss(&out.findings), expected());
    assert_eq!(out.summary.pss_level, "namespace");
    // warn=restricted on a baseline namespace: a note, not a finding.
    let warn: Vec<_> = out.notes.iter().filter(|n| n.kind == "pss-warn").collect();
    assert_eq!(warn.len(), 1, "{warn:?}");
    assert_eq!(warn[0].file, "cluster://test/warned/Pod/plain");
    assert!(
        warn[0]
            .message
            .contains("violates PodSecurity \"restricted:latest\""),
        "{}",
        warn[0].message
    );
    let ghost: Vec<_> = out
        .notes
        .iter()
        .filter(|n| n.kind == "pss-namespace")
        .collect();
    assert_eq!(ghost.len(), 1, "{ghost:?}");
    assert!(
        ghost[0].message.contains("namespace ghost"),
        "{}",
        ghost[0].message
    );
    // Hardening rules still ran on the objects of a privileged namespace.
    assert!(
        out.findings
            .iter()
            .any(|f| f.family == "hardening" && f.object.namespace.as_deref() == Some("open"))
    );
}

#[test]
fn namespaces_after_their_workloads_give_the_same_result() {
    let mut scan = Scan::new(namespace_mode()).unwrap();
    scan.add_objects(objects("test", workloads()));
    scan.add_objects(objects("test", namespaces()));
    let out = scan.finish();
    assert_eq!(pss(&out.findings), expected());
    assert_eq!(out.notes.iter().filter(|n| n.kind == "pss-warn").count(), 1);
    assert!(out.findings.iter().all(|f| f.origin.is_some()));
}

#[test]
fn from_files_and_invalid_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for v in workloads()
        .into_iter()
        .chain(namespaces())
        .chain([ns("bad", &[(ENFORCE, "strict")])])
    {
        text.push_str("---\n");
        text.push_str(&serde_json::to_string(&v).unwrap());
        text.push('\n');
    }
    text.push_str("---\n");
    text.push_str(&serde_json::to_string(&plain("plain", "bad")).unwrap());
    std::fs::write(dir.path().join("all.yaml"), text).unwrap();
    let out = Scan::new(namespace_mode())
        .unwrap()
        .run([Source::Paths(vec![dir.path().to_owned()])]);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let got = pss(&out.findings);
    // An invalid enforce level fails closed (restricted), as PSA does, with a note.
    for e in expected() {
        assert!(got.contains(&e.to_owned()), "{e} in {got:?}");
    }
    assert!(
        got.iter()
            .any(|g| g.starts_with("bad/plain runAsNonRoot restricted:latest")),
        "{got:?}"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.kind == "pss-namespace" && n.message.contains("\"strict\""))
    );
    assert!(out.findings.iter().all(|f| f.line > 0));
}

#[test]
fn fixed_levels_are_unchanged() {
    let mut all = namespaces();
    all.extend(workloads());
    let out = scan_objects(
        Options {
            pss_level: PssLevel::Fixed(Level::Baseline),
            ..Options::default()
        },
        all,
    );
    let got = pss(&out.findings);
    assert_eq!(
        got,
        [
            "base/p privileged baseline:latest",
            "open/p privileged baseline:latest"
        ]
    );
    assert!(out.notes.iter().all(|n| !n.kind.starts_with("pss-")));
}
