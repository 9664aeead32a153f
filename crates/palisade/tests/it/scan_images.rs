//! `palisade scan --images`: the image list from files and from a (fake) cluster.

use crate::palisade;
use serde_json::{Value, json};

const D1: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn cluster_images_name_the_top_owner_and_the_resolved_digest() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, token_user};
    let template = json!({"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}});
    let objects = vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "dep-1"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-7d9", "namespace": "shop", "uid": "rs-1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                     "uid": "dep-1", "controller": true}]},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-7d9-x", "namespace": "shop", "uid": "pod-1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9",
                                     "uid": "rs-1", "controller": true}]},
            "spec": template["spec"],
            "status": {"containerStatuses": [{"name": "web", "image": "docker.io/library/nginx:1.25",
                "imageID": format!("docker.io/library/nginx@{D1}")}]}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "debug", "namespace": "ops"},
            "spec": {"containers": [{"name": "sh", "image": "registry.example:5000/tools/sh:1@sha256:bad"}]}}),
    ];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(FakeApiServer::start(FakeConfig {
        objects,
        ..FakeConfig::default()
    }));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path(), "prod", &token_user(server.token()));
    let out = palisade()
        .env_remove("KUBECONFIG")
        .args(["scan", "--no-config", "--cluster", "--images", "-f", "json"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(
        v.get("findings").is_none(),
        "an image list, not a findings report"
    );
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{v:#}");
    let nginx = images
        .iter()
        .find(|i| i["image"] == "docker.io/library/nginx:1.25")
        .unwrap();
    assert_eq!(nginx["resolvedDigests"], json!([D1]));
    let uses = nginx["workloads"].as_array().unwrap();
    assert_eq!(uses.len(), 1, "{nginx:#}");
    assert_eq!(uses[0]["kind"], "Deployment");
    assert_eq!(uses[0]["namespace"], "shop");
    assert_eq!(uses[0]["name"], "web");
    assert_eq!(uses[0]["ownedObjects"], 2);
    assert_eq!(uses[0]["location"], "cluster://prod/shop/Deployment/web");
    assert_eq!(uses[0]["line"], Value::Null);
    let bad = images
        .iter()
        .find(|i| i["image"] == "registry.example:5000/tools/sh:1@sha256:bad")
        .unwrap();
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("64 lower-case hexadecimal"),
        "{bad:#}"
    );
    assert_eq!(bad["registry"], Value::Null);
    assert_eq!(v["summary"]["invalid"], 1);
    // Only kinds with pod templates are listed.
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    for listed in [
        "/api/v1/pods",
        "/apis/apps/v1/replicasets",
        "/apis/batch/v1/cronjobs",
    ] {
        assert!(
            paths.iter().any(|p| p == listed),
            "{listed} not in {paths:?}"
        );
    }
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with("/secrets") || p.ends_with("/configmaps") || p.contains("rbac")),
        "{paths:?}"
    );
}

#[test]
fn file_images_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("app.yaml");
    std::fs::write(
        &f,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: migrate\n        image: ghcr.io/acme/migrate:2\n      containers:\n      - name: api\n        image: acme/api\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: one\nspec:\n  containers:\n  - name: c\n    image: acme/api:latest\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "--no-config", "--images", "--color", "never"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("IMAGE"), "{table}");
    // `acme/api` and `acme/api:latest` are one image; two workloads use it.
    let api = lines
        .iter()
        .find(|l| l.starts_with("docker.io/acme/api "))
        .unwrap_or_else(|| panic!("{table}"));
    let cols: Vec<&str> = api.split("  ").filter(|c| !c.trim().is_empty()).collect();
    assert_eq!(cols[1].trim(), "latest", "{api}");
    assert_eq!(cols[2].trim(), "2", "{api}");
    assert!(
        api.contains(&format!("Deployment/api ({}:13)", f.display())),
        "{api}"
    );
    assert!(table.contains("ghcr.io/acme/migrate"), "{table}");
    assert!(table.contains("2 images, 0 invalid references"), "{table}");

    let out = palisade()
        .args(["scan", "--no-config", "--images", "-f", "json"])
        .arg(&f)
        .output()
        .unwrap();
    let v = json_of(&out);
    let api = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == "docker.io/acme/api:latest")
        .unwrap();
    assert_eq!(api["image"], "docker.io/acme/api:latest");
    assert_eq!(
        api["tagImplied"], false,
        "one use wrote :latest: the image does not imply it"
    );
    let refs: Vec<&str> = api["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["acme/api", "acme/api:latest"]);

    let out = palisade()
        .args(["scan", "--no-config", "--images", "-f", "sarif"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--images prints -f table or -f json"));
}
