//! Integration tests for palisade-admit: the router in-process (PSA conformance fixtures
//! as reviews, real AdmissionReview samples, PSA semantics), then the real TLS server on
//! loopback (rotation, hostile clients), then `--objects`/`--config` end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../examples/support/h1.rs"]
#[allow(dead_code)]
mod h1;

mod conformance;
mod deploy;
mod hardening;
mod objects;
mod policies;
mod samples;
mod semantics;
mod tls;
mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use palisade_admit::{Admitter, App, Config, Metrics, Namespace, ObjectsState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

pub fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).join(sub)
}

pub fn ns(name: &str, labels: &[(&str, &str)]) -> Namespace {
    Namespace {
        name: name.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

pub fn admitter(config: Config, namespaces: Vec<Namespace>, pods: Vec<Value>) -> Arc<Admitter> {
    Arc::new(Admitter::new(
        config,
        Arc::new(ObjectsState::from_parts(namespaces, pods)),
        Arc::new(Metrics::new()),
    ))
}

/// A CREATE (or UPDATE, with `old`) review for `object` in `namespace`.
pub fn review(resource: (&str, &str), object: &Value, old: Option<&Value>) -> Value {
    let (group, res) = resource;
    let kind = object["kind"].as_str().unwrap_or("");
    let version = object["apiVersion"]
        .as_str()
        .unwrap_or("v1")
        .rsplit('/')
        .next()
        .unwrap();
    let mut r = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{}", object["metadata"]["name"].as_str().unwrap_or("x")),
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": res},
            "name": object["metadata"]["name"],
            "namespace": object["metadata"]["namespace"],
            "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
        }
    });
    if let Some(old) = old {
        r["request"]["oldObject"] = old.clone();
    }
    r
}

/// POSTs a body to the router in-process; returns status and body text.
pub async fn post(app: &Arc<Admitter>, body: Vec<u8>) -> (StatusCode, String) {
    let router = router(App::new(app.clone()));
    let req = Request::post("/validate?timeout=10s")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// POSTs a review and returns the `response` object (asserting 200, envelope, uid echo,
/// and that no patch is ever returned).
pub async fn decide(app: &Arc<Admitter>, review: &Value) -> Value {
    let (status, body) = post(app, serde_json::to_vec(review).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert!(v.get("request").is_none());
    let resp = v["response"].clone();
    assert_eq!(resp["uid"], review["request"]["uid"], "uid echoed");
    assert!(resp.get("patch").is_none() && resp.get("patchType").is_none());
    resp
}
