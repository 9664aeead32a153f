//! `--objects` and `--config` end to end: Namespace and Pod objects and an
//! AdmitConfiguration read from files, served over TLS, decided as in a cluster.

use std::sync::Arc;

use palisade_admit::{Admitter, Config, Metrics, ObjectsState};
use serde_json::{Value, json};

use crate::tls::{pki, start};
use crate::{h1, testdata};

const NAMESPACES: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: default
    labels:
      pod-security.kubernetes.io/enforce: baseline
      pod-security.kubernetes.io/warn: restricted
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
"#;

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: legacy, namespace: shop}
spec:
  containers:
  - name: app
    image: nginx
    securityContext: {privileged: yes}
"#;

const CONFIG: &str = r#"
apiVersion: palisade.dev/v1alpha1
kind: AdmitConfiguration
podSecurity:
  defaults: {audit: baseline}
  exemptions: {usernames: [system:serviceaccount:kube-system:replicaset-controller]}
limits: {requestTimeoutSeconds: 5}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_and_config_files_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let objects = dir.path().join("objects");
    std::fs::create_dir(&objects).unwrap();
    std::fs::write(objects.join("namespaces.yaml"), NAMESPACES).unwrap();
    std::fs::write(objects.join("pods.yaml"), PODS).unwrap();
    let config_path = dir.path().join("admit.yaml");
    std::fs::write(&config_path, CONFIG).unwrap();

    let config = Config::load(&config_path).unwrap();
    let (state, summary) = ObjectsState::load(&[objects]).unwrap();
    assert_eq!((summary.namespaces, summary.pods, summary.other), (2, 1, 1));
    let app = Arc::new(Admitter::new(
        config,
        Arc::new(state),
        Arc::new(Metrics::new()),
    ));
    let keys = pki();
    let server = start(app, &keys).await;
    let cfg = h1::client_config(keys.ca_pem.as_bytes(), &[b"http/1.1"]).unwrap();
    let mut c = h1::Conn::connect(server.addr, cfg, "localhost")
        .await
        .unwrap();

    let sample = std::fs::read(testdata(
        "admission/kubewarden-policy-server/pod_with_privileged_containers.json",
    ))
    .unwrap();
    let r = c.post("/validate", &sample).await.unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(
        v["response"]["auditAnnotations"]["enforce-policy"],
        "baseline:latest"
    );
    assert_eq!(
        v["response"]["auditAnnotations"]["audit-violations"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap(),
        "would violate PodSecurity \"baseline"
    );

    let unpriv = std::fs::read(testdata(
        "admission/kubewarden-policy-server/pod_without_privileged_containers.json",
    ))
    .unwrap();
    let v: Value =
        serde_json::from_slice(&c.post("/validate", &unpriv).await.unwrap().body).unwrap();
    assert_eq!(v["response"]["allowed"], true);
    assert!(
        v["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("would violate PodSecurity \"restricted:latest\"")
    );

    // Tightening `shop` warns about the pod read from the file (YAML 1.1 `yes` = true).
    let ns = |labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}});
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "ns-1", "kind": {"group": "", "version": "v1", "kind": "Namespace"},
            "resource": {"group": "", "version": "v1", "resource": "namespaces"},
            "name": "shop", "namespace": "shop", "operation": "UPDATE", "userInfo": {"username": "admin"},
            "object": ns(json!({"pod-security.kubernetes.io/enforce": "baseline"})), "oldObject": ns(json!({}))}
    });
    let v: Value = serde_json::from_slice(
        &c.post("/validate", &serde_json::to_vec(&review).unwrap())
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        v["response"]["warnings"],
        json!([
            "existing pods in namespace \"shop\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "legacy: privileged"
        ])
    );
}

#[test]
fn bad_objects_are_errors_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let a = f(
        "a.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    );
    let b = f(
        "b.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns-y, labels: {a: [1]}}\n",
    );
    let c = f("c.yaml", "key: [unclosed\n");
    let missing = dir.path().join("missing.yaml");
    let err = ObjectsState::load(&[a, b, c, missing])
        .unwrap_err()
        .to_string();
    for needle in [
        "Namespace \"x\" is also defined at",
        "Pod has no metadata.name",
        "metadata.labels[a] is not a string",
        "c.yaml",
        "missing.yaml",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}
