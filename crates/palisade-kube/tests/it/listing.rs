//! Listing: paging, scope, 410, 403, Secrets, versions.

use std::collections::{BTreeMap, HashSet};

use palisade_kube::testing::FakeConfig;
use palisade_kube::{KINDS, Scope};
use serde_json::{Value, json};

use crate::{connected, corpus_objects, list_all};

fn key(o: &Value) -> (String, String, String) {
    let s = |k: &str| o["metadata"][k].as_str().unwrap_or("").to_owned();
    (
        o["kind"].as_str().unwrap().to_owned(),
        s("namespace"),
        s("name"),
    )
}

/// Objects of the scanned kinds at the API versions the lister reads (the corpus also has
/// batch/v1beta1 CronJobs and policy/v1beta1 objects, which a 1.34 server does not serve).
fn expected(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for k in KINDS {
        if k.kind == "Namespace" {
            continue;
        }
        let n = objects
            .iter()
            .filter(|o| o["kind"] == k.kind && o["apiVersion"] == k.api_version().as_str())
            .count();
        out.insert(k.kind.to_owned(), n);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_the_corpus_arrive_whole_and_once() {
    let objects = corpus_objects();
    let (server, cluster, _dir) = connected(FakeConfig {
        objects: objects.clone(),
        ..FakeConfig::default()
    })
    .await;
    let (got, summary) = list_all(&cluster, &Scope::All, 7).await;
    assert!(summary.notes.is_empty(), "{:?}", summary.notes);

    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for o in &got {
        *by_kind
            .entry(o["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
        assert!(o["apiVersion"].is_string(), "{o}");
        assert!(o["metadata"].get("managedFields").is_none());
    }
    for (kind, n) in expected(&objects) {
        let listed = by_kind.get(&kind).copied().unwrap_or(0);
        assert_eq!(listed, n, "{kind}");
    }
    assert!(
        by_kind["ClusterRole"] > 20 && by_kind["Deployment"] > 20,
        "{by_kind:?}"
    );
    // No object twice (same uid).
    let uids: HashSet<&str> = got
        .iter()
        .map(|o| o["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), got.len());
    // Every project became a namespace.
    let namespaces: HashSet<&str> = got
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    for p in ["argo-cd", "istio", "kube-system", "tigera-operator"] {
        assert!(namespaces.contains(p), "{namespaces:?}");
    }
    // Pages were requested with limit and followed with (encoded) continue tokens.
    let seen = server.seen();
    let pods: Vec<_> = seen.iter().filter(|s| s.path == "/api/v1/pods").collect();
    assert!(pods.iter().all(|s| s.query["limit"] == "7"));
    let continued = seen
        .iter()
        .filter(|s| s.query.contains_key("continue"))
        .count();
    assert!(continued > 50, "{continued} continue requests");
    // Read-only: only GETs of collections (the fake records every request it answers).
    assert!(seen.iter().all(|s| !s.query.contains_key("watch")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_namespace_lists_its_objects_and_cluster_roles() {
    let objects = corpus_objects();
    let (_server, cluster, _dir) = connected(FakeConfig {
        objects: objects.clone(),
        ..FakeConfig::default()
    })
    .await;
    let (got, summary) = list_all(&cluster, &Scope::One("argo-cd".into()), 50).await;
    assert!(summary.notes.is_empty(), "{:?}", summary.notes);
    let namespaced: Vec<&Value> = got
        .iter()
        .filter(|o| o["metadata"].get("namespace").is_some())
        .collect();
    assert!(!namespaced.is_empty());
    assert!(
        namespaced
            .iter()
            .all(|o| o["metadata"]["namespace"] == "argo-cd")
    );
    let ns: Vec<&Value> = got.iter().filter(|o| o["kind"] == "Namespace").collect();
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0]["metadata"]["name"], "argo-cd");
    assert!(got.iter().any(|o| {
        o["kind"] == "ClusterRole"
            && !o["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("argocd")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_continue_token_restarts_that_kind_once() {
    let objects = corpus_objects();
    let (server, cluster, _dir) = connected(FakeConfig {
        objects: objects.clone(),
        expire_continue: vec![("clusterroles".into(), 1), ("configmaps".into(), 2)],
        ..FakeConfig::default()
    })
    .await;
    let (got, summary) = list_all(&cluster, &Scope::All, 5).await;
    let exp = expected(&objects);
    let count = |k: &str| got.iter().filter(|o| o["kind"] == k).count();
    // ClusterRoles: restarted once, complete, nothing repeated.
    assert_eq!(count("ClusterRole"), exp["ClusterRole"]);
    let keys: HashSet<_> = got.iter().map(key).collect();
    let uids: HashSet<_> = got
        .iter()
        .map(|o| o["metadata"]["uid"].clone().to_string())
        .collect();
    assert_eq!(uids.len(), got.len(), "an object was handed over twice");
    assert!(keys.len() <= got.len());
    let notes: Vec<&str> = summary.notes.iter().map(|n| n.message.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.starts_with("ClusterRole: the continue token expired (410 Expired) after 5 objects; listed clusterroles again")),
        "{notes:?}"
    );
    // ConfigMaps expire twice: the second time the list gives up on that kind only.
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("ConfigMap: the continue token expired (410) twice")),
        "{notes:?}"
    );
    assert!(count("ConfigMap") < exp["ConfigMap"]);
    assert_eq!(count("Deployment"), exp["Deployment"]);
    let restarts = server
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/clusterroles") && !s.query.contains_key("continue"))
        .count();
    assert_eq!(restarts, 2, "the first list and one restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_kind_is_a_note_and_the_rest_is_listed() {
    let objects = corpus_objects();
    let (_server, cluster, _dir) = connected(FakeConfig {
        objects: objects.clone(),
        forbidden: vec!["secrets".into(), "clusterrolebindings".into()],
        ..FakeConfig::default()
    })
    .await;
    let (got, summary) = list_all(&cluster, &Scope::All, 100).await;
    let notes: Vec<&str> = summary.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        notes,
        [
            "ClusterRoleBinding: forbidden (403): missing verb \"list\" on clusterrolebindings.rbac.authorization.k8s.io; ClusterRoleBinding objects were not scanned",
            "Secret: forbidden (403): missing verb \"list\" on secrets in all namespaces; Secret objects were not scanned",
        ]
    );
    assert_eq!(summary.notes[1].kind.unwrap().kind, "Secret");
    assert!(
        !got.iter()
            .any(|o| o["kind"] == "Secret" || o["kind"] == "ClusterRoleBinding")
    );
    let exp = expected(&objects);
    assert_eq!(
        got.iter().filter(|o| o["kind"] == "Role").count(),
        exp["Role"]
    );
}

fn secrets() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                    "{\"apiVersion\":\"v1\",\"data\":{\"password\":\"aHVudGVyMg==\"},\"kind\":\"Secret\"}"}},
            "data": {"password": "aHVudGVyMg=="}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "shop"},
            "stringData": {"tls.key": "-----BEGIN PRIVATE KEY-----"}}),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_carry_data() {
    for ignore in [false, true] {
        let (server, cluster, _dir) = connected(FakeConfig {
            objects: secrets(),
            ignore_metadata_accept: ignore,
            ..FakeConfig::default()
        })
        .await;
        let (got, _) = list_all(&cluster, &Scope::All, 500).await;
        let listed: Vec<&Value> = got.iter().filter(|o| o["kind"] == "Secret").collect();
        assert_eq!(listed.len(), 2);
        for s in &listed {
            let text = s.to_string();
            assert!(
                !text.contains("aHVudGVyMg") && !text.contains("PRIVATE KEY"),
                "{text}"
            );
            let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["apiVersion", "kind", "metadata"], "ignore={ignore}");
            assert_eq!(s["apiVersion"], "v1");
        }
        assert_eq!(listed[0]["metadata"]["labels"]["app"], "db");
        let accept: Vec<String> = server
            .seen()
            .into_iter()
            .filter(|s| s.path == "/api/v1/secrets")
            .map(|s| s.accept)
            .collect();
        assert_eq!(
            accept,
            ["application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_of_control_plane_and_nodes() {
    let node = |name: &str, kubelet: &str, proxy: &str| {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"nodeInfo": {"kubeletVersion": kubelet, "kubeProxyVersion": proxy,
                "containerRuntimeVersion": "containerd://2.1.4", "operatingSystem": "linux"}}})
    };
    let (_server, cluster, _dir) = connected(FakeConfig {
        objects: vec![
            node("worker-b", "v1.33.4", ""),
            node("worker-a", "v1.34.1", "v1.34.1"),
        ],
        version: "v1.34.1+k3s1".into(),
        ..FakeConfig::default()
    })
    .await;
    let v = cluster.versions().await.unwrap();
    assert_eq!(v.server, "v1.34.1+k3s1");
    assert_eq!(v.nodes.len(), 2);
    assert_eq!(v.nodes[0].name, "worker-a");
    assert_eq!(v.nodes[0].kube_proxy.as_deref(), Some("v1.34.1"));
    assert_eq!(v.nodes[1].kubelet.as_deref(), Some("v1.33.4"));
    assert_eq!(v.nodes[1].kube_proxy, None);
    assert_eq!(v.nodes[1].os.as_deref(), Some("linux"));
    assert!(v.notes.is_empty());

    let (_server, cluster, _dir) = connected(FakeConfig {
        forbidden: vec!["nodes".into()],
        ..FakeConfig::default()
    })
    .await;
    let v = cluster.versions().await.unwrap();
    assert_eq!(v.server, "v1.34.1");
    assert!(v.nodes.is_empty());
    assert_eq!(v.notes.len(), 1);
    assert!(
        v.notes[0].contains("missing verb \"list\" on nodes"),
        "{:?}",
        v.notes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_versions_as_the_api_server_reads_them() {
    let (_server, cluster, _dir) = connected(FakeConfig {
        objects: secrets(),
        ..FakeConfig::default()
    })
    .await;
    let get = |q: &'static str| {
        let cluster = cluster.clone();
        async move {
            cluster
                .get_json(&format!("/api/v1/namespaces?{q}"), 1 << 20)
                .await
        }
    };
    let list = get("resourceVersion=0").await.unwrap();
    assert_eq!(list["metadata"]["resourceVersion"], "100");
    assert!(
        get("resourceVersion=100&resourceVersionMatch=Exact")
            .await
            .is_ok()
    );
    assert!(
        get("resourceVersion=50").await.is_ok(),
        "NotOlderThan an old version"
    );
    let e = get("resourceVersion=50&resourceVersionMatch=Exact")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(410), "{e}");
    assert!(
        e.to_string().contains("too old resource version: 50 (100)"),
        "{e}"
    );
    // A newer version than the server has is 504, which kube retries until the timeout:
    // not asserted here (it would take the whole request timeout).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_lists_at_once() {
    let objects = corpus_objects();
    let (server, cluster, _dir) = connected(FakeConfig {
        objects,
        // Every list takes a while, so that lists overlap as much as the client allows.
        slow: vec![("/".into(), std::time::Duration::from_millis(40))],
        ..FakeConfig::default()
    })
    .await;
    let mut pages = 0;
    cluster
        .list(
            KINDS,
            &Scope::All,
            &palisade_kube::ListOptions {
                page_size: 50,
                concurrency: 3,
                ..palisade_kube::ListOptions::default()
            },
            |_| pages += 1,
        )
        .await
        .unwrap();
    assert!(pages > 20);
    let max = server.max_in_flight();
    assert!((2..=3).contains(&max), "{max} requests at once");
}
