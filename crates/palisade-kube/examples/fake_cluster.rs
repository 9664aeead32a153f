//! The vendored corpus as a cluster behind the fake API server, `copies` times over (each copy
//! in namespaces of its own), for measuring cluster scans.
//!
//! `cargo run --release -p palisade-kube --features testing --example fake_cluster -- list 10`
//! lists every scan kind through palisade-kube and prints objects, pages, time and peak RSS
//! (client and server share the process). `... -- serve 10 DIR` writes DIR/kubeconfig and
//! serves until interrupted, for `palisade scan --cluster --kubeconfig DIR/kubeconfig`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
use palisade_kube::{KINDS, KubeOptions, ListOptions, Scope};
use serde_json::Value;

fn corpus(copies: usize) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    let mut base = Vec::new();
    for dir in projects {
        let project = dir.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = palisade_yaml::load_paths(&[&dir], &palisade_yaml::Limits::default());
        for doc in loaded.documents {
            let mut v = doc.value;
            let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            if meta.get("name").is_none() {
                continue;
            }
            meta.entry("namespace")
                .or_insert_with(|| Value::String(project.clone()));
            base.push(v);
        }
    }
    let mut out = Vec::with_capacity(base.len() * copies);
    for c in 0..copies {
        for v in &base {
            let mut v = v.clone();
            let meta = v["metadata"].as_object_mut().unwrap();
            // Copy c of a namespaced object lives in NS-c; cluster-scoped ones get a suffix.
            if c > 0 {
                match meta
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                {
                    Some(ns) => {
                        meta.insert("namespace".into(), Value::String(format!("{ns}-{c}")));
                    }
                    None => {
                        let name = meta["name"].as_str().unwrap().to_owned();
                        meta.insert("name".into(), Value::String(format!("{name}-{c}")));
                    }
                }
            }
            out.push(v);
        }
    }
    out
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("list");
    let copies: usize = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(10);
    let objects = corpus(copies);
    let n = objects.len();
    let server = FakeApiServer::start(FakeConfig {
        objects,
        ..FakeConfig::default()
    })
    .await;
    let dir = match (mode, args.get(3)) {
        ("serve", Some(d)) => PathBuf::from(d),
        _ => std::env::temp_dir().join(format!("palisade-fake-cluster-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = server.kubeconfig(&dir, "fake-corpus", &token_user(server.token()));
    if mode == "serve" {
        println!("{n} objects; kubeconfig: {}", kubeconfig.display());
        let _ = tokio::signal::ctrl_c().await;
        return;
    }
    let opts = KubeOptions {
        kubeconfig: Some(kubeconfig),
        ..KubeOptions::default()
    };
    let start = Instant::now();
    let cluster = palisade_kube::connect(&opts).await.unwrap();
    let (mut objects, mut pages) = (0usize, 0usize);
    let summary = cluster
        .list(KINDS, &Scope::All, &ListOptions::default(), |page| {
            pages += 1;
            objects += page.items.len();
        })
        .await
        .unwrap();
    let took = start.elapsed();
    println!(
        "served {n} objects; listed {objects} in {pages} pages of {} kinds in {:.3} s; notes {}; peak RSS {} MiB (server and client)",
        KINDS.len(),
        took.as_secs_f64(),
        summary.notes.len(),
        peak_rss_kib().unwrap_or(0) / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}
