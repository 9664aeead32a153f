//! The vendored corpus scanned as files (`--dedup-owned --assume-complete`) and as a cluster
//! through the fake API server gives the same findings, apart from where they are
//! (`file`/`line`/`column`/`document`, `origin`). Both sides get the same objects: the kinds a
//! cluster scan lists (`palisade_kube::KINDS`, at the version it lists them), one object per
//! kind, namespace and name (a cluster cannot hold two), namespaced objects without a
//! namespace placed in one per project (as `kubectl apply -n PROJECT` would), and a Namespace
//! object for every namespace used (the fake server makes the missing ones, unlabelled).
//!
//! What differs, and is compared loosely: RBAC messages that enumerate bindings or
//! permissions list them in input order (files: path order; a cluster: the order pages
//! arrive, four kinds listed at once), so their words are compared as a bag, and a list cut
//! at five (`... and 4 more`) by its head and length; `(defined in 2 files)` is a location.
//! Secrets come from the cluster as metadata only; no rule reads their values, so they
//! compare equal.

use crate::root;
use assert_cmd::Command;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root())
        .env_remove("CI")
        .env_remove("KUBECONFIG");
    cmd
}

/// project -> its objects, as a cluster would hold them.
fn corpus_as_cluster() -> BTreeMap<String, Vec<Value>> {
    let kinds: BTreeMap<(String, &str), bool> = palisade_kube::KINDS
        .iter()
        .map(|k| ((k.api_version(), k.kind), k.namespaced))
        .collect();
    let mut projects: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    let mut seen = BTreeSet::new();
    let mut namespaces = BTreeSet::new();
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for dir in projects {
        let project = dir.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = palisade_yaml::load_paths(&[&dir], &palisade_yaml::Limits::default());
        for doc in loaded.documents {
            let mut v = doc.value;
            let api = v["apiVersion"].as_str().unwrap_or_default().to_owned();
            let kind = v["kind"].as_str().unwrap_or_default().to_owned();
            let Some(&namespaced) = kinds.get(&(api, kind.as_str())) else {
                continue;
            };
            let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(name) = meta.get("name").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            let ns = if namespaced {
                let ns = meta
                    .entry("namespace")
                    .or_insert_with(|| Value::String(project.clone()))
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                namespaces.insert(ns.clone());
                ns
            } else {
                meta.remove("namespace");
                String::new()
            };
            if !seen.insert((kind.clone(), ns, name.clone())) {
                continue;
            }
            if kind == "Namespace" {
                namespaces.remove(&name);
            }
            out.entry(project.clone()).or_default().push(v);
        }
    }
    let made: Vec<Value> = namespaces
        .into_iter()
        .filter(|ns| !seen.contains(&("Namespace".to_owned(), String::new(), ns.clone())))
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .collect();
    out.insert("zz-namespaces".into(), made);
    out
}

/// A finding without where it is. RBAC messages say where a duplicated workload was
/// defined (`defined in 2 files`): location too.
fn essence(f: &Value) -> String {
    let message = f["message"].as_str().unwrap();
    let message = message
        .find(" (defined ")
        .map_or(message, |i| &message[..i]);
    // Enumerations (`bound by A, B and 3 more`) follow input order, which differs: files are
    // read in path order, cluster kinds are listed four at a time. Compare the words; a list
    // cut at five (`... and 4 more`) shows different five: compare its head and length.
    let total = message.rsplit_once(" and ").and_then(|(_, tail)| {
        let n = tail.strip_suffix(" more")?;
        n.parse::<usize>().ok()
    });
    let message = match total {
        Some(n) => {
            let head = message
                .split("; ")
                .next()
                .and_then(|h| h.split(", which ").next())
                .unwrap_or(message);
            format!("{head} [5 listed and {n} more]")
        }
        None => message.to_owned(),
    };
    let mut words: Vec<&str> = message
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .collect();
    words.sort_unstable();
    let message = words.join(" ");
    format!(
        "{} {} {} {} {} {} {message}",
        f["rule"], f["severity"], f["object"], f["field"], f["fields"], f["paths"]
    )
}

fn essences(report: &Value) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        *m.entry(essence(f)).or_default() += 1;
    }
    m
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

#[test]
fn corpus_as_files_and_as_a_cluster_gives_the_same_findings() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
    let projects = corpus_as_cluster();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut all = Vec::new();
    // One JSON file per object: JSON is read as it goes, with no flow-collection limit.
    for (project, objects) in &projects {
        let d = files.join(project);
        std::fs::create_dir_all(&d).unwrap();
        for (i, o) in objects.iter().enumerate() {
            std::fs::write(
                d.join(format!("{i:04}.json")),
                serde_json::to_vec(o).unwrap(),
            )
            .unwrap();
        }
        all.extend(objects.iter().cloned());
    }
    assert!(all.len() > 500, "{}", all.len());

    let out = palisade()
        .args([
            "scan",
            "--no-config",
            "--select",
            "all",
            "--dedup-owned",
            "--assume-complete",
            "-f",
            "json",
        ])
        .arg(&files)
        .output()
        .unwrap();
    let from_files = json_of(&out);
    assert!(
        from_files["errors"].as_array().unwrap().is_empty(),
        "{from_files:#}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects: all.clone(),
        ..FakeConfig::default()
    }));
    let kubeconfig = server.kubeconfig(dir.path(), "corpus", &token_user(server.token()));
    let out = palisade()
        .args([
            "scan",
            "--no-config",
            "--select",
            "all",
            "--cluster",
            "-f",
            "json",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let from_cluster = json_of(&out);
    assert!(
        from_cluster["errors"].as_array().unwrap().is_empty(),
        "{from_cluster:#}"
    );
    drop(server);
    drop(rt);

    assert_eq!(
        from_files["summary"]["objects"],
        from_cluster["summary"]["objects"]
    );
    let (a, b) = (essences(&from_files), essences(&from_cluster));
    let only_files: Vec<_> = a.iter().filter(|(k, n)| b.get(*k) != Some(n)).collect();
    let only_cluster: Vec<_> = b.iter().filter(|(k, n)| a.get(*k) != Some(n)).collect();
    assert!(
        only_files.is_empty() && only_cluster.is_empty(),
        "files only: {only_files:#?}\ncluster only: {only_cluster:#?}"
    );
    assert!(a.values().sum::<usize>() > 1000);
    // Every cluster finding names its object as cluster://corpus/... with an origin.
    for f in from_cluster["findings"].as_array().unwrap() {
        assert!(f["file"].as_str().unwrap().starts_with("cluster://corpus/"));
        assert_eq!(f["origin"]["context"], "corpus");
        assert_eq!(f["line"], 0);
    }
    // Owner deduplication left out the same objects on both sides.
    let owned = |r: &Value| {
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "owned")
            .map(|n| n["message"].as_str().unwrap().to_owned())
    };
    assert_eq!(owned(&from_files), owned(&from_cluster));
}
