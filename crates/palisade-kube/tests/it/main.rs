//! palisade-kube against its fake API server (TLS, real objects): paging, 410 restart, 403
//! notes, exec authentication, failures naming the context, timeouts, Secrets without data,
//! versions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod auth;
mod listing;

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
use palisade_kube::{Cluster, KINDS, KubeOptions, ListOptions, Scope};
use serde_json::Value;

/// The vendored corpus (real install manifests from 23 projects) as a cluster: each object
/// without a namespace goes to the namespace named after its project.
pub fn corpus_objects() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let mut out = Vec::new();
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    for dir in projects {
        let project = dir.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = palisade_yaml::load_paths(&[&dir], &palisade_yaml::Limits::default());
        for doc in loaded.documents {
            let mut v = doc.value;
            if v.get("metadata").and_then(|m| m.get("name")).is_none() {
                continue;
            }
            let meta = v["metadata"].as_object_mut().unwrap();
            meta.entry("namespace")
                .or_insert_with(|| Value::String(project.clone()));
            out.push(v);
        }
    }
    assert!(out.len() > 800, "corpus has {} objects", out.len());
    out
}

pub fn opts(kubeconfig: PathBuf) -> KubeOptions {
    KubeOptions {
        kubeconfig: Some(kubeconfig),
        context: None,
        request_timeout: Duration::from_secs(10),
    }
}

/// A fake server for `config` and a connected client with a token user.
pub async fn connected(config: FakeConfig) -> (FakeApiServer, Cluster, tempfile::TempDir) {
    let server = FakeApiServer::start(config).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "fake-ctx", &token_user(server.token()));
    let cluster = palisade_kube::connect(&opts(kc)).await.unwrap();
    (server, cluster, dir)
}

/// Lists every scan kind; returns all objects handed over and the summary.
pub async fn list_all(
    cluster: &Cluster,
    scope: &Scope,
    page_size: u32,
) -> (Vec<Value>, palisade_kube::ListSummary) {
    let mut objects = Vec::new();
    let summary = cluster
        .list(
            KINDS,
            scope,
            &ListOptions {
                page_size,
                concurrency: 3,
                ..ListOptions::default()
            },
            |page| {
                for o in &page.items {
                    assert_eq!(o["kind"], page.kind.kind, "{o}");
                }
                objects.extend(page.items);
            },
        )
        .await
        .unwrap();
    (objects, summary)
}
