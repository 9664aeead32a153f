//! Fuzz target: any bytes as a policy file (ConstraintTemplates with Rego and CEL, Constraints,
//! ValidatingAdmissionPolicies, bindings, params), loaded and then evaluated on a Pod as the
//! scanner and the webhook do: never a panic, and every load error names the file.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use palisade_policy::{Inventory, Limits, PolicySet};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let loaded = palisade_yaml::load_bytes("fuzz.yaml", data, &palisade_yaml::Limits::default());
    // A short budget: a slow input is a finding for the time limits, not a hang of the fuzzer.
    let limits = Limits { rego_time: Duration::from_millis(200) };
    let (set, errors) = PolicySet::from_documents(&loaded.documents, limits);
    for e in &errors {
        assert!(e.to_string().contains("fuzz.yaml"), "{e}");
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
            "securityContext": {"privileged": true}}]}});
    let ns = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "default", "labels": {"environment": "test"}}});
    let inventory = Inventory::from_objects([&pod, &ns]);
    let _ = set.evaluate(&pod, Some(&ns), &inventory);
    let request = json!({"uid": "u", "operation": "UPDATE", "name": "p", "namespace": "default",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "userInfo": {"username": "u", "groups": ["g"]}, "object": pod, "oldObject": pod});
    let _ = set.evaluate_request(&request, Some(&ns), &inventory, None);
});
