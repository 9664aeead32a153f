//! PolicySet::evaluate_request: Gatekeeper CEL and Rego on whole AdmissionRequests.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use palisade_policy::{Inventory, PolicySet};
use serde_json::{Value, json};

fn load(text: &str) -> PolicySet {
    let loaded = palisade_yaml::load_str("p.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::from_documents(&loaded.documents, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    set
}

fn pod(name: &str, image: &str, privileged: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": image, "securityContext": {"privileged": privileged}}]}})
}

fn request(op: &str, object: Option<&Value>, old: Option<&Value>) -> Value {
    let name = object.or(old).unwrap()["metadata"]["name"].clone();
    json!({"uid": "u", "operation": op, "name": name, "namespace": "default",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "userInfo": {"username": "bob", "groups": ["dev"]},
        "object": object.cloned().unwrap_or(Value::Null), "oldObject": old.cloned().unwrap_or(Value::Null)})
}

fn ids(set: &PolicySet, req: &Value) -> Vec<String> {
    let out = set.evaluate_request(req, None, &Inventory::default(), None);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let mut v: Vec<String> = out
        .violations
        .iter()
        .map(|v| format!("{}: {}", v.policy, v.message))
        .collect();
    v.sort();
    v
}

#[test]
fn constraints_of_one_template_share_param_free_variables_only() {
    let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/gatekeeper-library/library/pod-security-policy/privileged-containers/template.yaml");
    let template = std::fs::read_to_string(lib).unwrap();
    let text = format!(
        "{template}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sPSPPrivilegedContainer\nmetadata:\n  name: exempt-nginx\nspec:\n  parameters:\n    exemptImages: [\"nginx:*\"]\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sPSPPrivilegedContainer\nmetadata:\n  name: strict\n"
    );
    let set = load(&text);
    assert!(set.templates()[0].has_cel());
    let msg = "Privileged container is not allowed: c, securityContext.privileged: true";
    let nginx = pod("a", "nginx:1.25", true);
    assert_eq!(
        ids(&set, &request("CREATE", Some(&nginx), None)),
        vec![format!("K8sPSPPrivilegedContainer/strict: {msg}")]
    );
    let envoy = pod("b", "envoy:1", true);
    assert_eq!(
        ids(&set, &request("CREATE", Some(&envoy), None)),
        vec![
            format!("K8sPSPPrivilegedContainer/exempt-nginx: {msg}"),
            format!("K8sPSPPrivilegedContainer/strict: {msg}")
        ]
    );
    // The template exempts UPDATEs (request.operation).
    assert!(ids(&set, &request("UPDATE", Some(&envoy), Some(&envoy))).is_empty());
}

#[test]
fn any_object_is_the_old_object_on_delete_in_cel_and_rego() {
    let text = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: nogone
spec:
  crd:
    spec:
      names:
        kind: NoGone
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
      - engine: K8sNativeValidation
        source:
          validations:
          - expression: "variables.anyObject.metadata.name != 'gone' && (object == null) == (request.operation == 'DELETE')"
            messageExpression: "request.operation + ' ' + variables.anyObject.metadata.name + ' by ' + request.userInfo.username"
      - engine: Rego
        source:
          rego: |
            package nogone
            violation[{"msg": msg}] {
              input.review.object.metadata.name == "gone"
              msg := sprintf("%v %v by %v", [input.review.operation, input.review.object.metadata.name, input.review.userInfo.username])
            }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NoGone
metadata:
  name: no-gone
"#;
    let set = load(text);
    let gone = pod("gone", "x", false);
    assert_eq!(
        ids(&set, &request("DELETE", None, Some(&gone))),
        vec!["NoGone/no-gone: DELETE gone by bob"]
    );
    assert_eq!(
        ids(&set, &request("CREATE", Some(&gone), None)),
        vec!["NoGone/no-gone: CREATE gone by bob"]
    );
    assert!(
        ids(
            &set,
            &request("DELETE", None, Some(&pod("kept", "x", false)))
        )
        .is_empty()
    );
    // The same verdicts on Rego.
    let c = &set.constraints()[0];
    for (op, obj, old, want) in [
        ("DELETE", None, Some(&gone), 1),
        ("CREATE", Some(&gone), None, 1),
        ("UPDATE", Some(&pod("kept", "x", false)), Some(&gone), 0),
    ] {
        let review = palisade_policy::Review::new(request(op, obj, old), None);
        let v = set
            .review(
                c,
                &review,
                &Inventory::default(),
                Some(palisade_policy::EngineKind::Rego),
            )
            .unwrap();
        assert_eq!(v.len(), want, "{op}: {v:?}");
        if want == 1 {
            assert_eq!(v[0].message, format!("{op} gone by bob"));
        }
    }
}
