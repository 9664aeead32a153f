//! ValidatingAdmissionPolicy, on the shapes of the kubernetes.io "Validating Admission Policy"
//! examples (a replica limit with a namespaceSelector binding; the same limit from a param
//! object with messageExpression and parameterNotFoundAction Deny; several bindings).

use palisade_policy::{Action, Inventory, PolicySet};
use serde_json::json;

const BASIC: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: demo-policy.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-binding-test.example.com
spec:
  policyName: demo-policy.example.com
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
"#;

const PARAMS: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicalimit-policy.example.com
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: rules.example.com/v1
    kind: ReplicaLimit
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <= params.maxReplicas"
    messageExpression: "'object.spec.replicas must be no greater than ' + string(params.maxReplicas)"
    reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicalimit-binding-test.example.com
spec:
  policyName: replicalimit-policy.example.com
  validationActions: [Deny]
  paramRef:
    name: replica-limit-test.example.com
    namespace: default
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicalimit-binding-nontest
spec:
  policyName: replicalimit-policy.example.com
  validationActions: [Warn]
  paramRef:
    name: replica-limit-prod.example.com
    namespace: default
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchExpressions:
      - key: environment
        operator: NotIn
        values: [test]
---
apiVersion: rules.example.com/v1
kind: ReplicaLimit
metadata:
  name: replica-limit-test.example.com
  namespace: default
maxReplicas: 3
"#;

fn deployment(ns: &str, replicas: i64) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": ns}, "spec": {"replicas": replicas}})
}

fn namespace(name: &str, env: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"environment": env}}})
}

fn load(text: &str) -> PolicySet {
    let loaded = palisade_yaml::load_str("vap.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::from_documents(&loaded.documents, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    set
}

#[test]
fn basic_policy_denies_through_its_namespace_selected_binding() {
    let set = load(BASIC);
    let (test_ns, prod_ns) = (namespace("t", "test"), namespace("p", "prod"));
    let inv = Inventory::from_objects([&test_ns, &prod_ns]);
    let (v, e) = set.evaluate(&deployment("t", 6), None, &inv);
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].policy,
        "demo-policy.example.com/demo-binding-test.example.com"
    );
    assert_eq!(v[0].message, "failed expression: object.spec.replicas <= 5");
    assert_eq!(v[0].action, Action::Deny);
    assert!(set.evaluate(&deployment("t", 5), None, &inv).0.is_empty());
    assert!(
        set.evaluate(&deployment("p", 6), None, &inv).0.is_empty(),
        "binding selects test namespaces only"
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "t"}, "spec": {"replicas": 9}});
    assert!(
        set.evaluate(&pod, None, &inv).0.is_empty(),
        "resource rules select deployments only"
    );
}

#[test]
fn params_message_expression_and_missing_params() {
    let set = load(PARAMS);
    let (test_ns, prod_ns) = (namespace("t", "test"), namespace("p", "prod"));
    let inv = Inventory::from_objects([&test_ns, &prod_ns]);
    let (v, e) = set.evaluate(&deployment("t", 4), None, &inv);
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].message,
        "object.spec.replicas must be no greater than 3"
    );
    assert!(set.evaluate(&deployment("t", 3), None, &inv).0.is_empty());
    // The prod binding's param does not exist and parameterNotFoundAction is Deny: a
    // configuration error, denied under failurePolicy Fail, routed to the binding's Warn.
    let (v, _) = set.evaluate(&deployment("p", 1), None, &inv);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].action, Action::Warn);
    assert!(
        v[0].message.contains("replica-limit-prod.example.com"),
        "{}",
        v[0].message
    );
}

const REASONS: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: reasons
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <= 5"
  - expression: "object.spec.replicas <= 10"
    reason: RequestEntityTooLarge
  - expression: "object.spec.replicas <= 20"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: reasons-binding
spec:
  policyName: reasons
  validationActions: [Deny]
"#;

#[test]
fn validation_reason_is_carried_and_defaults_to_invalid() {
    let set = load(REASONS);
    let inv = Inventory::default();
    let reasons = |replicas| {
        let (v, e) = set.evaluate(&deployment("t", replicas), None, &inv);
        assert!(e.is_empty(), "{e:?}");
        v.into_iter()
            .map(|v| v.reason.unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert!(reasons(5).is_empty());
    assert_eq!(reasons(6), ["Invalid"]);
    assert_eq!(reasons(11), ["Invalid", "RequestEntityTooLarge"]);
    assert_eq!(
        reasons(21),
        ["Invalid", "RequestEntityTooLarge", "Forbidden"]
    );
    assert_eq!(
        palisade_policy::vap_reason_code("RequestEntityTooLarge"),
        413
    );
    assert_eq!(palisade_policy::vap_reason_code("Unauthorized"), 401);
    assert_eq!(palisade_policy::vap_reason_code("Invalid"), 422);
    assert_eq!(palisade_policy::vap_reason_code("Forbidden"), 403);
}

#[test]
fn unsupported_validation_reason_is_rejected_at_load_naming_policy_and_index() {
    let text = REASONS.replace("reason: Forbidden", "reason: Conflict");
    let loaded = palisade_yaml::load_str("vap.yaml", &text, &palisade_yaml::Limits::default());
    let (set, errors) = PolicySet::from_documents(&loaded.documents, Default::default());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].to_string();
    assert!(e.contains("ValidatingAdmissionPolicy reasons"), "{e}");
    assert!(e.contains("spec.validations[2].reason"), "{e}");
    assert!(e.contains("Unsupported value: \"Conflict\""), "{e}");
    assert!(e.starts_with("vap.yaml:17:"), "{e}");
    // The policy is not enforced as written: every evaluation errors instead.
    let (v, e) = set.evaluate(&deployment("t", 1), None, &Inventory::default());
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].to_string().contains("validations[2].reason"), "{e:?}");
}
