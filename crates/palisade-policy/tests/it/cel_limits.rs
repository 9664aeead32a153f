//! CEL execution limits: a runaway expression is an error naming the policy, never a hang.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use std::time::Duration;

use palisade_policy::{CEL_MAX_VALUE_BYTES, Inventory, Limits, PolicyError, PolicySet};
use serde_json::json;

/// A Gatekeeper CEL template with `variables` and one validation, and its constraint.
fn cel_policy(variables: &[(&str, &str)], validation: &str) -> String {
    let vars: String = variables
        .iter()
        .map(|(n, e)| {
            format!(
                "          - name: {n}\n            expression: {}\n",
                serde_json::to_string(e).unwrap()
            )
        })
        .collect();
    format!(
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: hostile\nspec:\n  crd:\n    spec:\n      names:\n        kind: Hostile\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n      - engine: K8sNativeValidation\n        source:\n          variables:\n{vars}          validations:\n          - expression: {}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Hostile\nmetadata:\n  name: runaway\n",
        serde_json::to_string(validation).unwrap()
    )
}

fn load(text: &str, limits: Limits) -> PolicySet {
    let loaded = palisade_yaml::load_str("hostile.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::from_documents(&loaded.documents, limits);
    assert!(errors.is_empty(), "{errors:?}");
    set
}

fn pod() -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

fn hundred() -> String {
    format!(
        "[{}]",
        (0..100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn only_error(set: &PolicySet, object: &serde_json::Value) -> String {
    let (v, e) = set.evaluate(object, None, &Inventory::default());
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        matches!(&e[0], PolicyError::Eval { policy, engine: "cel", .. } if policy == "Hostile/runaway"),
        "{e:?}"
    );
    e[0].to_string()
}

#[test]
fn nested_comprehensions_over_literals_stop_at_the_time_limit() {
    // 10^8 steps: hours in a debug build without the guard.
    let l = hundred();
    let expr = format!("{l}.all(a, {l}.all(b, {l}.all(c, {l}.all(d, a + b + c + d >= 0))))");
    let set = load(
        &cel_policy(&[], &expr),
        Limits {
            rego_time: Duration::from_millis(50),
        },
    );
    let started = std::time::Instant::now();
    let msg = only_error(&set, &pod());
    assert!(msg.contains("time limit"), "{msg}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_quadratic_policy_on_a_large_object_hits_the_step_limit_or_the_time_limit() {
    // Benign-looking policy, hostile object: 3,000 items compared pairwise = 9 million steps.
    let mut object = pod();
    object["spec"]["items"] = json!((0..3000).collect::<Vec<i64>>());
    let expr = "!has(object.spec.items) || object.spec.items.all(x, object.spec.items.all(y, x == y || x != y))";
    let set = load(&cel_policy(&[], expr), Limits::default());
    let msg = only_error(&set, &object);
    assert!(
        msg.contains("cost limit exceeded: more than 1000000 comprehension steps")
            || msg.contains("time limit"),
        "{msg}"
    );
}

#[test]
fn variables_that_double_a_string_stop_at_the_size_limit() {
    let mut vars: Vec<(String, String)> = vec![("v0".into(), format!("'{}'", "a".repeat(1000)))];
    for i in 1..40 {
        vars.push((
            format!("v{i}"),
            format!("variables.v{} + variables.v{}", i - 1, i - 1),
        ));
    }
    let refs: Vec<(&str, &str)> = vars.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let set = load(
        &cel_policy(&refs, "size(variables.v39) > 0"),
        Limits::default(),
    );
    let msg = only_error(&set, &pod());
    assert!(
        msg.contains("variables.v")
            && msg.contains(&format!("size limit ({CEL_MAX_VALUE_BYTES} bytes)")),
        "{msg}"
    );
}

#[test]
fn expressions_the_interpreter_cannot_run_are_compile_errors() {
    // cel 0.13 panics on message literals at evaluation; they are refused when loading.
    for expr in ["Foo{a: 1} == null", "{'a': Foo{}}.size() > 0"] {
        let loaded = palisade_yaml::load_str(
            "hostile.yaml",
            &cel_policy(&[], expr),
            &palisade_yaml::Limits::default(),
        );
        let (set, errors) = PolicySet::from_documents(&loaded.documents, Limits::default());
        assert_eq!(errors.len(), 1, "{expr}: {errors:?}");
        let msg = errors[0].to_string();
        assert!(
            msg.contains("hostile.yaml:") && msg.contains("not supported"),
            "{msg}"
        );
        let (_, e) = set.evaluate(&pod(), None, &Inventory::default());
        assert_eq!(
            e.len(),
            1,
            "the constraint reports its template's error: {e:?}"
        );
    }
}

#[test]
fn a_runaway_validating_admission_policy_names_policy_and_binding() {
    let l = hundred();
    let text = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: spin.example.com\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: ['v1']\n      operations: ['CREATE']\n      resources: ['pods']\n  validations:\n  - expression: {}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: spin-binding\nspec:\n  policyName: spin.example.com\n  validationActions: [Deny]\n",
        serde_json::to_string(&format!(
            "{l}.all(a, {l}.all(b, {l}.all(c, {l}.all(d, a + b + c + d >= 0))))"
        ))
        .unwrap()
    );
    let set = load(
        &text,
        Limits {
            rego_time: Duration::from_millis(50),
        },
    );
    let (v, e) = set.evaluate(&pod(), None, &Inventory::default());
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(e.len(), 1, "{e:?}");
    let msg = e[0].to_string();
    assert!(
        msg.contains("spin.example.com/spin-binding") && msg.contains("time limit"),
        "{msg}"
    );
}
