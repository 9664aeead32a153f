//! Replays `testdata/policy-fuzz/` (hostile policy files, and anything `cargo fuzz run load`
//! finds, minimised) through what the fuzz target does: load, then evaluate on a Pod and on an
//! AdmissionRequest. No panic, load errors name the file, and every evaluation ends.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use std::time::Duration;

use palisade_policy::{Inventory, Limits, PolicySet};
use serde_json::json;

fn replay(name: &str, bytes: &[u8]) -> (PolicySet, Vec<String>, Vec<String>) {
    let loaded = palisade_yaml::load_bytes(name, bytes, &palisade_yaml::Limits::default());
    let limits = Limits {
        rego_time: Duration::from_millis(200),
    };
    let (set, errors) = PolicySet::from_documents(&loaded.documents, limits);
    for e in &errors {
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
            "securityContext": {"privileged": true}}]}});
    let ns = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "default", "labels": {"environment": "test"}}});
    let inventory = Inventory::from_objects([&pod, &ns]);
    let (_, eval_errors) = set.evaluate(&pod, Some(&ns), &inventory);
    let request = json!({"uid": "u", "operation": "UPDATE", "name": "p", "namespace": "default",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "userInfo": {"username": "u", "groups": ["g"]}, "object": pod, "oldObject": pod});
    let out = set.evaluate_request(&request, Some(&ns), &inventory, None);
    let mut all: Vec<String> = eval_errors.iter().map(ToString::to_string).collect();
    all.extend(out.errors.iter().map(ToString::to_string));
    (set, errors.iter().map(ToString::to_string).collect(), all)
}

#[test]
fn fuzz_regressions_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/policy-fuzz");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for path in &names {
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let (_, load_errors, eval_errors) = replay(name, &bytes);
        match name {
            "cel-message-literal.yaml" => {
                assert_eq!(load_errors.len(), 2, "{load_errors:?}");
                assert!(
                    load_errors.iter().all(|e| e.contains("not supported")),
                    "{load_errors:?}"
                );
            }
            "cel-runaway.yaml" => {
                assert!(
                    eval_errors
                        .iter()
                        .any(|e| e.contains("spin.example.com/spin-binding")
                            && e.contains("time limit")),
                    "{eval_errors:?}"
                );
            }
            _ => {}
        }
        // Truncations and byte flips of each input: the same guarantees.
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() * 2 / 3] {
            replay(name, &bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in (0..flipped.len()).step_by(97) {
            flipped[i] = flipped[i].wrapping_add(1);
        }
        replay(name, &flipped);
    }
}
