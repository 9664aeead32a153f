//! Owner deduplication: controller-created objects are reported through their top owner.

use crate::scan_objects;
use palisade_scan::Options;
use serde_json::{Value, json};

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}})
}

fn owner_ref(api: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": true}])
}

fn pod(name: &str, owners: Option<Value>) -> Value {
    let mut p =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"}});
    p["spec"] = template()["spec"].clone();
    if let Some(o) = owners {
        p["metadata"]["ownerReferences"] = o;
    }
    p
}

fn set() -> Vec<Value> {
    vec![
        // Listed before their owners, as a cluster lister may.
        pod(
            "web-rs-1",
            Some(owner_ref("apps/v1", "ReplicaSet", "web-rs", "rs-1")),
        ),
        pod("bare", None),
        pod(
            "operated",
            Some(owner_ref("example.com/v1", "Database", "db", "db-1")),
        ),
        pod(
            "orphan",
            Some(owner_ref("apps/v1", "ReplicaSet", "gone", "rs-9")),
        ),
        pod(
            "cron-job-1",
            Some(owner_ref("batch/v1", "Job", "cron-job", "job-1")),
        ),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": "web-rs", "namespace": "shop", "uid": "rs-1",
                            "ownerReferences": owner_ref("apps/v1", "Deployment", "web", "dep-1")},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "uid": "dep-1"},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}),
        json!({"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "cron-job", "namespace": "shop", "uid": "job-1",
                            "ownerReferences": owner_ref("batch/v1", "CronJob", "cron", "cj-1")},
               "spec": {"template": template()}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
               "metadata": {"name": "cron", "namespace": "shop", "uid": "cj-1"},
               "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template()}}}}),
    ]
}

#[test]
fn cluster_objects_are_reported_on_their_top_owner() {
    let privileged = palisade_rules::rule("privileged")
        .map(|r| r.id)
        .unwrap_or("PSS007");
    let on = |out: &palisade_scan::Outcome| -> Vec<String> {
        let mut v: Vec<String> = out
            .findings
            .iter()
            .filter(|f| f.rule == privileged)
            .map(|f| {
                format!(
                    "{}/{}",
                    f.object.kind,
                    f.object.name.as_deref().unwrap_or("")
                )
            })
            .collect();
        v.sort();
        v
    };
    let out = scan_objects(Options::default(), set());
    assert_eq!(
        on(&out),
        [
            "CronJob/cron",
            "Deployment/web",
            "Pod/bare",
            "Pod/operated",
            "Pod/orphan",
        ]
    );
    let note = out
        .notes
        .iter()
        .find(|n| n.kind == "owned")
        .expect("a note says so");
    assert!(note.message.starts_with("4 objects"), "{}", note.message);
    assert!(
        note.message.contains("1 Job, 2 Pod, 1 ReplicaSet"),
        "{}",
        note.message
    );
    assert_eq!(note.file, "cluster://test");

    // Off: every object reports its own findings.
    let all = scan_objects(
        Options {
            dedup_owned: Some(false),
            ..Options::default()
        },
        set(),
    );
    assert_eq!(on(&all).len(), 9);
    assert!(all.notes.iter().all(|n| n.kind != "owned"));
}

#[test]
fn a_stale_owner_uid_keeps_the_object() {
    let mut objs = set();
    // The Deployment was recreated: same name, another uid.
    objs[6]["metadata"]["uid"] = json!("dep-2");
    let out = scan_objects(Options::default(), objs);
    assert!(
        out.findings
            .iter()
            .any(|f| f.object.kind == "ReplicaSet" && f.object.name.as_deref() == Some("web-rs"))
    );
}
