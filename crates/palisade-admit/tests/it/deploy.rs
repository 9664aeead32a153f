//! `deploy/admit/` follows the upstream PSA webhook's shape (checked against the vendored
//! upstream manifest) and its embedded config and objects load.

use std::path::PathBuf;

use palisade_admit::Config;
use serde_json::Value;

use crate::testdata;

fn deploy(file: &str) -> Vec<Value> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/admit")).join(file);
    let loaded = palisade_yaml::load_paths(&[&path], &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.documents.into_iter().map(|d| d.value).collect()
}

#[test]
fn webhooks_mirror_the_upstream_psa_webhook() {
    let ours = &deploy("70-validatingwebhookconfiguration.yaml")[0]["webhooks"];
    let text = std::fs::read_to_string(testdata(
        "admission/psa-webhook-manifests/70-validatingwebhookconfiguration.yaml",
    ))
    .unwrap();
    let upstream = palisade_yaml::load_str("up", &text, &palisade_yaml::Limits::default());
    let upstream = &upstream.documents[0].value["webhooks"];
    assert_eq!(ours.as_array().unwrap().len(), 2);
    for (o, u) in ours
        .as_array()
        .unwrap()
        .iter()
        .zip(upstream.as_array().unwrap())
    {
        for field in [
            "failurePolicy",
            "rules",
            "admissionReviewVersions",
            "sideEffects",
            "timeoutSeconds",
        ] {
            assert_eq!(o[field], u[field], "{field}");
        }
        let sel = &o["namespaceSelector"]["matchExpressions"][0];
        assert_eq!(sel["key"], "kubernetes.io/metadata.name");
        assert_eq!(sel["operator"], "NotIn");
        assert_eq!(sel["values"][0], "palisade-admit");
        assert_eq!(o["clientConfig"]["service"]["path"], "/validate");
        assert_eq!(o["clientConfig"]["service"]["namespace"], "palisade-admit");
    }
    assert_eq!(ours[0]["failurePolicy"], "Fail");
    assert_eq!(ours[1]["failurePolicy"], "Ignore");
}

#[test]
fn replicas_budget_rbac_and_config() {
    let d = &deploy("50-deployment.yaml")[0];
    assert!(d["spec"]["replicas"].as_u64().unwrap() >= 2);
    let labels = &d["spec"]["template"]["metadata"]["labels"];
    let pdb = &deploy("65-poddisruptionbudget.yaml")[0];
    assert_eq!(pdb["kind"], "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    for (k, v) in pdb["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&labels[k], v);
    }
    let role = &deploy("30-clusterrole.yaml")[0];
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["namespaces", "pods"], "verbs": ["get", "list", "watch"]}])
    );
    // The ConfigMap's files load exactly as the container will read them.
    let cm = &deploy("20-configmap.yaml")[0]["data"];
    let config =
        Config::from_bytes("admit.yaml", cm["admit.yaml"].as_str().unwrap().as_bytes()).unwrap();
    assert!(config.defaults.fully_privileged());
    // The container reads what the ConfigMap mounts, and watches the cluster (no --objects)
    // with a projected token where the in-cluster client looks for it.
    let args: Vec<&str> = d["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "admit");
    assert!(args.contains(&"--config=/etc/palisade/config/admit.yaml"));
    assert!(!args.iter().any(|a| a.starts_with("--objects")));
    let mounts = &d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"];
    assert!(
        mounts
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount")
    );
}
