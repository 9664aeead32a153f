//! `scan --format policyreport|openreports|html` end to end: the report streams validate
//! against the vendored CRD schemas (testdata/policyreport) and carry fail, skip (waived) and
//! pass results; a cluster scan's reports carry the objects' UIDs; the HTML page shows source
//! lines around findings in files, none for standard input.

use crate::{palisade, root};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn yaml_docs(text: &str) -> Vec<Value> {
    let l = palisade_yaml::load_str("report.yaml", text, &palisade_yaml::Limits::default());
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    l.documents.into_iter().map(|d| d.value).collect()
}

/// The CRD's `openAPIV3Schema` for `version`, strict: unknown fields are errors (as under
/// `kubectl apply`'s strict field validation) unless the schema preserves them.
fn schema(path: &str, version: &str) -> ((String, String), jsonschema::Validator) {
    fn strict(v: &mut Value) {
        let Value::Object(m) = v else { return };
        let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        m.retain(|k, _| !k.starts_with("x-kubernetes-"));
        if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
        if let Some(Value::Object(p)) = m.get_mut("properties") {
            p.values_mut().for_each(strict);
        }
        for k in ["items", "additionalProperties"] {
            if let Some(x) = m.get_mut(k) {
                strict(x);
            }
        }
    }
    let text = std::fs::read_to_string(root().join("testdata/policyreport").join(path)).unwrap();
    let crd = yaml_docs(&text).remove(0);
    let group = crd["spec"]["group"].as_str().unwrap();
    let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_owned();
    let v = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap();
    let mut s = v["schema"]["openAPIV3Schema"].clone();
    strict(&mut s);
    (
        (format!("{group}/{version}"), kind),
        jsonschema::validator_for(&s).unwrap(),
    )
}

fn validators() -> BTreeMap<(String, String), jsonschema::Validator> {
    [
        (
            "wgpolicyk8s.io/wgpolicyk8s.io_policyreports.yaml",
            "v1alpha2",
        ),
        (
            "wgpolicyk8s.io/wgpolicyk8s.io_clusterpolicyreports.yaml",
            "v1alpha2",
        ),
        ("openreports.io/openreports.io_reports.yaml", "v1alpha1"),
        (
            "openreports.io/openreports.io_clusterreports.yaml",
            "v1alpha1",
        ),
    ]
    .into_iter()
    .map(|(p, v)| schema(p, v))
    .collect()
}

/// Every document valid against its CRD; the results.
fn validated(text: &str) -> Vec<Value> {
    let v = validators();
    let docs = yaml_docs(text);
    assert!(!docs.is_empty());
    let mut results = Vec::new();
    for d in &docs {
        let key = (
            d["apiVersion"].as_str().unwrap().to_owned(),
            d["kind"].as_str().unwrap().to_owned(),
        );
        let validator = v.get(&key).unwrap_or_else(|| panic!("no CRD for {key:?}"));
        let errors: Vec<String> = validator.iter_errors(d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", d["metadata"]["name"]);
        results.extend(d["results"].as_array().unwrap().iter().cloned());
    }
    results
}

fn run(args: &[&str]) -> (i32, String) {
    let out = palisade().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// (policy, kind, namespace, name) of a result's resource.
fn key(r: &Value) -> (String, String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let res = &r["resources"][0];
    (
        s(&r["policy"]),
        s(&res["kind"]),
        s(&res["namespace"]),
        s(&res["name"]),
    )
}

#[test]
fn policyreport_of_the_corpus_validates_with_fail_skip_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("waive.yaml");
    std::fs::write(
        &config,
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [HRD006]\n    reason: tags are pinned by the release process\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (_, json) = run(&["scan", "--config", config, "-f", "json", "testdata/corpus"]);
    let json: Value = serde_json::from_str(&json).unwrap();
    for (format, api) in [
        ("policyreport", "wgpolicyk8s.io/v1alpha2"),
        ("openreports", "openreports.io/v1alpha1"),
    ] {
        let (code, text) = run(&["scan", "--config", config, "-f", format, "testdata/corpus"]);
        assert_eq!(code, 1, "{format}");
        assert!(text.contains(&format!("apiVersion: {api}")));
        let results = validated(&text);
        let count = |r: &str| results.iter().filter(|x| x["result"] == r).count();
        assert_eq!(count("fail"), json["findings"].as_array().unwrap().len());
        assert_eq!(count("skip"), json["suppressed"].as_array().unwrap().len());
        assert!(count("skip") > 0 && count("pass") > 0, "{format}");
        // A rule never both passes and fails (or is waived) on one object.
        let judged: BTreeSet<_> = results
            .iter()
            .filter(|r| r["result"] != "pass")
            .map(key)
            .collect();
        let passes: Vec<_> = results.iter().filter(|r| r["result"] == "pass").collect();
        for p in &passes {
            assert!(!judged.contains(&key(p)), "{p}");
        }
        // Pass results only for rules about the object's kind: no PSS pass on a Service.
        assert!(
            !passes
                .iter()
                .any(|p| p["policy"].as_str().unwrap().starts_with("PSS")
                    && p["resources"][0]["kind"] == "Service"),
        );
        assert!(passes.iter().any(|p| p["policy"] == "HRD022"));
    }
}

#[test]
fn cluster_policyreport_through_the_fake_api_server() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
    let spec = json!({"containers": [{"name": "c", "image": "i:1", "securityContext": {"privileged": true}}]});
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "uid": "n1"}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "namespace": "shop", "uid": "p1"}, "spec": spec}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop", "uid": "s1"},
            "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects,
        ..FakeConfig::default()
    }));
    let kubeconfig = server.kubeconfig(dir.path(), "prod", &token_user(server.token()));
    let out = palisade()
        .env_remove("KUBECONFIG")
        .args([
            "scan",
            "--no-config",
            "--cluster",
            "-f",
            "policyreport",
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
    let text = String::from_utf8(out.stdout).unwrap();
    let results = validated(&text);
    let docs = yaml_docs(&text);
    assert!(
        docs.iter()
            .any(|d| d["kind"] == "PolicyReport" && d["metadata"]["namespace"] == "shop")
    );
    let on = |name: &str, outcome: &str| -> Vec<String> {
        results
            .iter()
            .filter(|r| r["resources"][0]["name"] == name && r["result"] == outcome)
            .map(|r| r["policy"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(on("bad", "fail").contains(&"PSS007".to_owned()));
    // The cluster is complete: a workload's isolation is judged, and the pod's UID is kept.
    assert!(on("bad", "fail").contains(&"NETPOL001".to_owned()));
    let svc = on("web", "pass");
    assert!(
        svc.contains(&"HRD022".to_owned()) && svc.contains(&"HRD023".to_owned()),
        "{svc:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r["resources"][0]["name"] == "bad")
            .all(|r| r["resources"][0]["uid"] == "p1")
    );
    // The table names cluster objects without a line number.
    let out = palisade()
        .env_remove("KUBECONFIG")
        .env("COLUMNS", "200")
        .args([
            "scan",
            "--no-config",
            "--cluster",
            "-f",
            "table",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("cluster://prod/shop/Pod/bad"), "{table}");
    assert!(!table.contains("cluster://prod/shop/Pod/bad:0"), "{table}");
    drop(server);
    drop(rt);
}

#[test]
fn html_report_shows_source_lines_for_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let out = palisade()
        .args(["scan", "--no-config", "-f", "html", "-o"])
        .arg(&page)
        .arg("examples/privileged-daemonset.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // The finding's line is marked inside an excerpt of the file.
    assert!(html.contains("<pre class=\"src\">"), "no excerpt");
    assert!(html.contains("<span class=\"at\">"));
    assert!(html.contains("privileged: on"));
    assert!(html.contains("Generated "));
    // Standard input has no file to read back: findings, no excerpts.
    let text = std::fs::read(root().join("examples/privileged-daemonset.yaml")).unwrap();
    let out = palisade()
        .args(["scan", "--no-config", "-f", "html", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains("class=\"finding"), "no findings");
    assert!(!html.contains("<pre class=\"src\">"));
}

#[test]
fn format_help_lists_every_format() {
    let out = palisade().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for f in palisade_report::Format::ALL {
        assert!(help.contains(f.as_str()), "{f} missing from scan --help");
    }
    let out = palisade()
        .args(["scan", "-f", "xml", "examples"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("policyreport, openreports, html"));
}
