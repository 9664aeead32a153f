//! Images in use (`Options::images`): on cluster-shaped objects (owner deduplication, Pod
//! status digests, malformed references) and on the vendored corpus as files.

use crate::scan_objects;
use palisade_scan::images::{Image, ImageList};
use palisade_scan::{Options, Scan, Source};
use serde_json::{Value, json};
use std::path::PathBuf;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn options() -> Options {
    Options {
        images: true,
        ignore: vec!["all".to_owned()],
        ..Options::default()
    }
}

fn owner(api: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": true}])
}

fn spec(image: &str) -> Value {
    json!({"initContainers": [{"name": "init", "image": "busybox"}],
           "containers": [{"name": "web", "image": image}]})
}

fn pod(name: &str, image: &str, owned_by: Option<Value>, image_id: Option<&str>) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("pod-{name}")},
        "spec": spec(image)});
    if let Some(o) = owned_by {
        p["metadata"]["ownerReferences"] = o;
    }
    if let Some(id) = image_id {
        p["status"] = json!({
            "initContainerStatuses": [{"name": "init", "image": "docker.io/library/busybox:latest",
                "imageID": format!("docker.io/library/busybox@{D2}")}],
            "containerStatuses": [{"name": "web", "image": image, "imageID": id}]});
    }
    p
}

fn replica_set(name: &str, uid: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "shop", "uid": uid,
                     "ownerReferences": owner("apps/v1", "Deployment", "web", "dep-1")},
        "spec": {"template": {"spec": spec(image)}}})
}

/// A Deployment mid-rollout: its new ReplicaSet's two Pods run nginx:1.25 (resolved to D1),
/// its old ReplicaSet still has a Pod on nginx:1.24; a bare Pod with a debug container and a
/// malformed reference; a Pod whose ReplicaSet is gone; a Pod without an image.
fn cluster() -> Vec<Value> {
    let mut bare = pod("bare", "Nginx:1", None, None);
    bare["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox:1.36"}]);
    let mut imageless = pod("imageless", "x", None, None);
    imageless["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("image");
    vec![
        // Pods first: a lister may hand them over before their owners.
        pod(
            "web-new-1",
            "nginx:1.25",
            Some(owner("apps/v1", "ReplicaSet", "web-new", "rs-new")),
            Some(&format!("docker.io/library/nginx@{D1}")),
        ),
        pod(
            "web-new-2",
            "nginx:1.25",
            Some(owner("apps/v1", "ReplicaSet", "web-new", "rs-new")),
            Some(&format!("docker-pullable://nginx@{D1}")),
        ),
        pod(
            "web-old-1",
            "nginx:1.24",
            Some(owner("apps/v1", "ReplicaSet", "web-old", "rs-old")),
            Some("sha256:3333333333333333333333333333333333333333333333333333333333333333"),
        ),
        pod(
            "orphan",
            "nginx:1.25",
            Some(owner("apps/v1", "ReplicaSet", "gone", "rs-gone")),
            None,
        ),
        bare,
        imageless,
        replica_set("web-new", "rs-new", "nginx:1.25"),
        replica_set("web-old", "rs-old", "nginx:1.24"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "dep-1"},
            "spec": {"template": {"spec": spec("nginx:1.25")}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}),
    ]
}

fn image<'a>(list: &'a ImageList, name: &str) -> &'a Image {
    list.images
        .iter()
        .find(|i| i.image == name)
        .unwrap_or_else(|| panic!("{name} not in {:?}", names(list)))
}

fn names(list: &ImageList) -> Vec<&str> {
    list.images.iter().map(|i| i.image.as_str()).collect()
}

#[test]
fn cluster_objects_are_named_by_their_top_owner() {
    let out = scan_objects(options(), cluster());
    assert!(out.findings.is_empty(), "no rules run");
    let list = out.images.unwrap();
    assert_eq!(
        names(&list),
        [
            "",
            "Nginx:1",
            "docker.io/library/busybox:1.36",
            "docker.io/library/busybox:latest",
            "docker.io/library/nginx:1.24",
            "docker.io/library/nginx:1.25",
        ]
    );
    let current = image(&list, "docker.io/library/nginx:1.25");
    let uses: Vec<String> = current
        .workloads
        .iter()
        .map(|u| format!("{} {} {}", u.workload(), u.container, u.owned_objects))
        .collect();
    // The Deployment stands for its ReplicaSet and both Pods; the orphan stays itself.
    assert_eq!(uses, ["Deployment/shop/web web 3", "Pod/shop/orphan web 0"]);
    assert_eq!(current.resolved_digests, [D1]);
    let dep = current.workloads.first().unwrap();
    assert_eq!(dep.location, "cluster://test/shop/Deployment/web");
    assert_eq!(dep.line, None);
    assert_eq!(
        dep.image_ids,
        [
            format!("docker-pullable://nginx@{D1}"),
            format!("docker.io/library/nginx@{D1}")
        ]
    );
    let parsed = current.parsed.as_ref().unwrap();
    assert_eq!(
        (parsed.registry.as_str(), parsed.repository.as_str()),
        ("docker.io", "library/nginx")
    );
    assert!(!parsed.tag_implied);

    // The old ReplicaSet's Pod still runs 1.24: the Deployment uses it too. Its imageID is a
    // local image ID, not a repository digest.
    let old = image(&list, "docker.io/library/nginx:1.24");
    assert_eq!(old.workloads.len(), 1);
    assert_eq!(old.workloads[0].workload(), "Deployment/shop/web");
    assert_eq!(old.workloads[0].owned_objects, 2);
    assert!(old.resolved_digests.is_empty());

    let busybox = image(&list, "docker.io/library/busybox:latest");
    assert!(busybox.parsed.as_ref().unwrap().tag_implied);
    assert_eq!(busybox.resolved_digests, [D2], "from initContainerStatuses");
    assert!(
        busybox
            .workloads
            .iter()
            .all(|u| u.container_list == "initContainers")
    );
    let debug = image(&list, "docker.io/library/busybox:1.36");
    assert_eq!(debug.workloads[0].container_list, "ephemeralContainers");
    assert_eq!(debug.workloads[0].workload(), "Pod/shop/bare");

    let bad = image(&list, "Nginx:1");
    let err = bad.parsed.as_ref().unwrap_err();
    assert!(err.reason.contains("lowercase"), "{err}");
    assert_eq!(bad.workloads[0].reference, "Nginx:1");
    let none = image(&list, "");
    assert!(
        none.parsed
            .as_ref()
            .unwrap_err()
            .reason
            .contains("no image")
    );
    assert_eq!(list.errors(), 2);

    let v = list.to_json();
    assert_eq!(v["summary"]["images"], 6);
    assert_eq!(v["summary"]["invalid"], 2);
    let j = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == "docker.io/library/nginx:1.25")
        .unwrap();
    assert_eq!(j["registry"], "docker.io");
    assert_eq!(j["repository"], "library/nginx");
    assert_eq!(j["tag"], "1.25");
    assert_eq!(j["tagImplied"], false);
    assert_eq!(j["digest"], Value::Null);
    assert_eq!(j["error"], Value::Null);
    assert_eq!(j["resolvedDigests"], json!([D1]));
    assert_eq!(j["workloads"][0]["kind"], "Deployment");
    assert_eq!(j["workloads"][0]["containerType"], "containers");
    assert_eq!(j["workloads"][0]["ownedObjects"], 3);
}

#[test]
fn without_owner_deduplication_each_object_stands_alone() {
    let out = scan_objects(
        Options {
            dedup_owned: Some(false),
            ..options()
        },
        cluster(),
    );
    let list = out.images.unwrap();
    let current = image(&list, "docker.io/library/nginx:1.25");
    let kinds: Vec<String> = current.workloads.iter().map(|u| u.workload()).collect();
    assert_eq!(
        kinds,
        [
            "Deployment/shop/web",
            "Pod/shop/orphan",
            "Pod/shop/web-new-1",
            "Pod/shop/web-new-2",
            "ReplicaSet/shop/web-new"
        ]
    );
    assert!(current.workloads.iter().all(|u| u.owned_objects == 0));
}

#[test]
fn images_are_not_collected_unless_asked() {
    let out = scan_objects(Options::default(), cluster());
    assert!(out.images.is_none());
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")
}

#[test]
fn corpus_images_point_at_their_image_fields() {
    let mut scan = Scan::new(options()).unwrap();
    scan.add(Source::Paths(vec![corpus()]));
    let out = scan.finish();
    let list = out.images.unwrap();
    let uses: usize = list.images.iter().map(|i| i.workloads.len()).sum();
    // An independent count (PyYAML, every `containers`/`initContainers`/`ephemeralContainers`
    // item with a string image in any object with apiVersion and kind) gives 181 containers and
    // 112 distinct references as written.
    assert_eq!((list.images.len(), uses, list.errors()), (112, 181, 0));
    let mut files: std::collections::HashMap<String, Vec<String>> = Default::default();
    for i in &list.images {
        for u in &i.workloads {
            // Files: no owner deduplication, every object is its own workload.
            assert_eq!(u.owned_objects, 0);
            let line = u
                .line
                .unwrap_or_else(|| panic!("{} has no line", u.location));
            assert_eq!(u.location, format!("{}:{line}", u.file));
            let text = files.entry(u.file.clone()).or_insert_with(|| {
                std::fs::read_to_string(&u.file)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect()
            });
            let at = &text[line as usize - 1];
            assert!(
                at.contains("image") && at.contains(u.reference.as_str()),
                "{}: {at:?} does not hold {:?}",
                u.location,
                u.reference
            );
        }
    }
    let nginx = image(&list, "docker.io/library/nginx:latest");
    assert!(nginx.parsed.as_ref().unwrap().tag_implied);
    assert!(nginx.workloads.iter().all(|u| u.reference == "nginx"));
    let pinned = list
        .images
        .iter()
        .find(|i| {
            i.parsed
                .as_ref()
                .is_ok_and(|r| r.repository == "ingress-nginx/controller" && r.digest.is_some())
        })
        .unwrap();
    let r = pinned.parsed.as_ref().unwrap();
    assert_eq!(r.registry, "registry.k8s.io");
    assert!(
        r.tag.is_some() && !r.tag_implied,
        "tag and digest both kept"
    );
    assert!(
        r.digest
            .as_deref()
            .unwrap()
            .starts_with("sha256:594ceea76b01")
    );
}

/// Every reference of `testdata/distribution-reference/expected.tsv` parses (or fails) as
/// the Go implementation does, with the same registry, path, tag and digest; the known
/// deviations are listed in `deviations.txt` (a fixed one fails here until removed).
#[test]
fn parser_agrees_with_distribution_reference() {
    use palisade_scan::images::parse_reference;
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/distribution-reference");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let allowed: std::collections::BTreeSet<String> =
        std::fs::read_to_string(dir.join("deviations.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
    let mut differ = std::collections::BTreeSet::new();
    let (mut total, mut valid) = (0, 0);
    for line in expected.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        total += 1;
        let got = match parse_reference(cols[0]) {
            Ok(r) => {
                let tag = if r.tag_implied {
                    String::new()
                } else {
                    r.tag.unwrap_or_default()
                };
                format!(
                    "{}\tOK\t{}\t{}\t{tag}\t{}",
                    cols[0],
                    r.registry,
                    r.repository,
                    r.digest.unwrap_or_default()
                )
            }
            Err(_) => format!("{}\tERR", cols[0]),
        };
        if cols[1] == "OK" {
            valid += 1;
        }
        if got != line {
            differ.insert(cols[0].to_owned());
        }
    }
    assert_eq!((total, valid), (2628, 247));
    let unexpected: Vec<_> = differ.difference(&allowed).collect();
    let fixed: Vec<_> = allowed.difference(&differ).collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "differ from Go: {unexpected:#?}\nlisted in deviations.txt but agree now: {fixed:#?}"
    );
}

/// The corpus read as files and handed over as cluster objects (owner deduplication off on
/// both sides) lists the same images, used by the same workloads and containers.
#[test]
fn corpus_as_files_and_as_objects_lists_the_same_images() {
    let uses = |list: &ImageList| {
        let mut v: Vec<String> = list
            .images
            .iter()
            .flat_map(|i| {
                i.workloads.iter().map(move |u| {
                    format!(
                        "{} {} {} {} {}",
                        i.image,
                        u.workload(),
                        u.container_list,
                        u.container,
                        u.reference
                    )
                })
            })
            .collect();
        v.sort();
        v
    };
    let mut scan = Scan::new(options()).unwrap();
    scan.add(Source::Paths(vec![corpus()]));
    let files = scan.finish().images.unwrap();
    let loaded = palisade_yaml::load_paths(&[corpus()], &palisade_yaml::Limits::default());
    let values: Vec<Value> = loaded.documents.into_iter().map(|d| d.value).collect();
    let objects = scan_objects(
        Options {
            dedup_owned: Some(false),
            ..options()
        },
        values,
    );
    let from_objects = objects.images.unwrap();
    assert_eq!(uses(&files), uses(&from_objects));
    assert_eq!(uses(&files).len(), 181);
}
