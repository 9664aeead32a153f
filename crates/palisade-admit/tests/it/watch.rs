//! The cluster path against a mocked API server (axum on loopback, scripted): paged list,
//! watch events (ADDED/MODIFIED/DELETED/BOOKMARK), resume from the last resourceVersion,
//! `410 Gone` -> relist, bearer token, readiness, and decisions from the watched state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use palisade_admit::{Admitter, ApiClient, ClusterState, ClusterWatch, Config, Metrics};
use serde_json::{Value, json};

use crate::{decide, review};

#[derive(Default)]
struct Mock {
    /// (path, resourceVersion) of every watch request, in order.
    watches: Vec<(String, String)>,
    lists: usize,
    unauthorized: usize,
}

fn ns(name: &str, rv: &str, enforce: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "resourceVersion": rv, "labels": {"pod-security.kubernetes.io/enforce": enforce}}})
}

fn query(uri: &Uri) -> std::collections::HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn lines(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

async fn namespaces(
    State(m): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    uri: Uri,
) -> (StatusCode, String) {
    let q = query(&uri);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0ken") {
        m.lock().unwrap().unauthorized += 1;
        return (StatusCode::UNAUTHORIZED, "{}".into());
    }
    if !q.contains_key("watch") {
        let mut st = m.lock().unwrap();
        st.lists += 1;
        let body = match (st.lists, q.get("continue").map(String::as_str)) {
            // First list, two pages.
            (1, None) => {
                json!({"kind": "NamespaceList", "metadata": {"continue": "page2", "resourceVersion": "9"}, "items": [ns("a", "5", "baseline")]})
            }
            (2, Some("page2")) => {
                json!({"kind": "NamespaceList", "metadata": {"resourceVersion": "10"}, "items": [ns("old", "6", "baseline")]})
            }
            // The relist after 410 Gone.
            _ => {
                json!({"kind": "NamespaceList", "metadata": {"resourceVersion": "20"}, "items": [ns("a", "18", "restricted"), ns("c", "19", "baseline")]})
            }
        };
        return (StatusCode::OK, body.to_string());
    }
    let rv = q.get("resourceVersion").cloned().unwrap_or_default();
    let n = {
        let mut st = m.lock().unwrap();
        st.watches.push(("namespaces".into(), rv.clone()));
        st.watches.len()
    };
    let body = match n {
        1 => lines(&[
            json!({"type": "ADDED", "object": ns("b", "11", "privileged")}),
            json!({"type": "MODIFIED", "object": ns("a", "12", "restricted")}),
            json!({"type": "DELETED", "object": ns("old", "13", "baseline")}),
            json!({"type": "BOOKMARK", "object": {"kind": "Namespace", "metadata": {"resourceVersion": "14"}}}),
        ]),
        2 => lines(&[
            json!({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version: 14 (15)"}}),
        ]),
        3 => lines(&[json!({"type": "DELETED", "object": ns("c", "21", "baseline")})]),
        _ => {
            // Later watches stay open with nothing to say.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            String::new()
        }
    };
    (StatusCode::OK, body)
}

async fn pods(uri: Uri) -> (StatusCode, String) {
    let q = query(&uri);
    if q.contains_key("watch") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return (StatusCode::OK, String::new());
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "c", "resourceVersion": "3", "managedFields": [{"manager": "kubectl"}]},
        "spec": {"containers": [{"name": "x", "image": "nginx", "securityContext": {"privileged": true}}]},
        "status": {"phase": "Running"}});
    (
        StatusCode::OK,
        json!({"kind": "PodList", "metadata": {"resourceVersion": "4"}, "items": [pod]})
            .to_string(),
    )
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflector_against_a_mocked_api_server() {
    let mock = Arc::new(Mutex::new(Mock::default()));
    let app = axum::Router::new()
        .route("/api/v1/namespaces", get(namespaces))
        .route("/api/v1/pods", get(pods))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let watch = ClusterWatch::new();
    assert!(!watch.ready(), "not ready before the first list");
    let client = ApiClient::new(&format!("http://{addr}"), None, Some("t0ken".into())).unwrap();
    let tasks = watch.spawn(Arc::new(client));

    wait_for("the relist after 410", || {
        mock.lock().unwrap().watches.len() >= 3
    })
    .await;
    wait_for("c deleted", || watch.namespace("c").is_err()).await;
    assert!(watch.ready());
    {
        let st = mock.lock().unwrap();
        assert_eq!(st.unauthorized, 0);
        assert_eq!(st.lists, 3, "two pages, then one relist");
        // Watch from the list's version, resume from the bookmark, then from the relist.
        let versions: Vec<&str> = st.watches.iter().take(3).map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["10", "14", "20"]);
    }
    assert_eq!(
        watch.namespace("a").unwrap().labels["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert!(watch.namespace("b").is_err(), "b was gone at the relist");
    assert!(watch.namespace("old").is_err());
    let pods = watch.pods("c").unwrap();
    assert_eq!(pods.len(), 1);
    assert!(pods[0].get("status").is_none() && pods[0]["metadata"].get("managedFields").is_none());

    // Decisions use the watched labels.
    let admitter = Arc::new(Admitter::new(
        Config::default(),
        watch.clone(),
        Arc::new(Metrics::new()),
    ));
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "a"},
        "spec": {"containers": [{"name": "x", "image": "nginx"}]}});
    let r = decide(&admitter, &review(("", "pods"), &pod, None)).await;
    assert_eq!(r["auditAnnotations"]["enforce-policy"], "restricted:latest");
    assert_eq!(r["allowed"], false);
    for t in tasks {
        t.abort();
    }
}

#[tokio::test]
async fn api_errors_are_retried_and_not_ready() {
    // Nothing listens here: the reflector backs off and the state stays not-ready.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let watch = ClusterWatch::new();
    let tasks = watch.spawn(Arc::new(
        ApiClient::new(&format!("http://{addr}"), None, None).unwrap(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!watch.ready());
    assert!(watch.namespace("a").is_err());
    for t in tasks {
        t.abort();
    }
}
