//! Kubernetes' documented ValidatingAdmissionPolicy examples (testdata/k8s-vap-examples, from
//! kubernetes.io's "Validating Admission Policy" page): which requests each denies and with
//! what message, as the page states. The page's full denial reads "ValidatingAdmissionPolicy
//! '<policy>' with binding '<binding>' denied request: <message>": here `policy` is
//! `<policy>/<binding>` and `message` the part after "denied request: ".

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use std::path::{Path, PathBuf};

use palisade_policy::{Action, Inventory, Outcome, PolicySet};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/k8s-vap-examples")
}

/// The example files named, plus extra YAML (the bindings the page leaves out).
fn load(files: &[&str], extra: &str) -> PolicySet {
    let mut docs = Vec::new();
    for f in files {
        let loaded = palisade_yaml::load_paths(&[dir().join(f)], &palisade_yaml::Limits::default());
        assert!(loaded.errors.is_empty(), "{f}: {:?}", loaded.errors);
        docs.extend(loaded.documents);
    }
    if !extra.is_empty() {
        let loaded =
            palisade_yaml::load_str("extra.yaml", extra, &palisade_yaml::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        docs.extend(loaded.documents);
    }
    let (set, errors) = PolicySet::from_documents(&docs, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    set
}

fn binding(name: &str, policy: &str, param: Option<&str>) -> String {
    let param = param.map_or(String::new(), |p| format!("  paramRef:\n    name: {p}\n"));
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: {name}\nspec:\n  policyName: {policy}\n  validationActions: [Deny]\n{param}"
    )
}

fn namespace(name: &str, env: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"environment": env, "kubernetes.io/metadata.name": name}}})
}

fn deployment(ns: &str, replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": ns, "labels": {"app": "nginx"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
}

/// An AdmissionRequest as the API server sends it.
fn request(operation: &str, object: &Value, old: Option<&Value>, groups: &[&str]) -> Value {
    let api = object["apiVersion"].as_str().unwrap();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let kind = object["kind"].as_str().unwrap();
    let resource = format!("{}s", kind.to_lowercase());
    json!({
        "uid": "0b6e4ac9-5e1a-4b55-9c1c-6a2f0f8a3d11",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource},
        "name": object["metadata"]["name"],
        "namespace": object["metadata"]["namespace"],
        "operation": operation,
        "userInfo": {"username": "jane", "uid": "1", "groups": groups},
        "object": if operation == "DELETE" { Value::Null } else { object.clone() },
        "oldObject": old.cloned().unwrap_or(Value::Null),
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    })
}

fn run(set: &PolicySet, req: &Value, ns: &Value) -> Outcome {
    let out = set.evaluate_request(req, Some(ns), &Inventory::default(), None);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out
}

fn denials(out: &Outcome) -> Vec<(String, String)> {
    out.violations
        .iter()
        .filter(|v| v.action == Action::Deny)
        .map(|v| (v.policy.clone(), v.message.clone()))
        .collect()
}

#[test]
fn basic_example_denies_more_than_five_replicas_in_test_namespaces() {
    let set = load(
        &["basic-example-policy.yaml", "basic-example-binding.yaml"],
        "",
    );
    let test = namespace("test-ns", "test");
    let denied = vec![(
        "demo-policy.example.com/demo-binding-test.example.com".to_owned(),
        "failed expression: object.spec.replicas <= 5".to_owned(),
    )];
    for op in ["CREATE", "UPDATE"] {
        let d6 = deployment("test-ns", 6, "nginx");
        let old = (op == "UPDATE").then(|| deployment("test-ns", 1, "nginx"));
        assert_eq!(
            denials(&run(&set, &request(op, &d6, old.as_ref(), &[]), &test)),
            denied,
            "{op}"
        );
        let d5 = deployment("test-ns", 5, "nginx");
        assert!(
            run(&set, &request(op, &d5, None, &[]), &test)
                .violations
                .is_empty()
        );
    }
    // DELETE is not among the policy's operations; other environments are not bound.
    let d6 = deployment("test-ns", 6, "nginx");
    assert!(
        run(&set, &request("DELETE", &d6, Some(&d6), &[]), &test)
            .violations
            .is_empty()
    );
    let prod = namespace("prod-ns", "prod");
    let d6 = deployment("prod-ns", 6, "nginx");
    assert!(
        run(&set, &request("CREATE", &d6, None, &[]), &prod)
            .violations
            .is_empty()
    );
    // The scanner reviews the object as its CREATE: the same verdict.
    let (v, e) = set.evaluate(
        &deployment("test-ns", 6, "nginx"),
        Some(&test),
        &Inventory::default(),
    );
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].message, denied[0].1);
}

#[test]
fn param_bindings_limit_test_to_three_and_other_environments_to_a_hundred() {
    let files = [
        "policy-with-param.yaml",
        "binding-with-param.yaml",
        "binding-with-param-prod.yaml",
        "replicalimit-param.yaml",
        "replicalimit-param-prod.yaml",
    ];
    let set = load(&files, "");
    let msg = "failed expression: object.spec.replicas <= params.maxReplicas".to_owned();
    let test = namespace("test-ns", "test");
    let prod = namespace("prod-ns", "prod");
    let check = |ns: &Value, replicas: i64| {
        let name = ns["metadata"]["name"].as_str().unwrap();
        denials(&run(
            &set,
            &request("CREATE", &deployment(name, replicas, "nginx"), None, &[]),
            ns,
        ))
    };
    assert!(check(&test, 3).is_empty());
    assert_eq!(
        check(&test, 4),
        vec![(
            "replicalimit-policy.example.com/replicalimit-binding-test.example.com".to_owned(),
            msg.clone()
        )]
    );
    assert!(check(&prod, 100).is_empty());
    assert_eq!(
        check(&prod, 101),
        vec![(
            "replicalimit-policy.example.com/replicalimit-binding-nontest".to_owned(),
            msg
        )]
    );

    // Without its param, the test binding's parameterNotFoundAction: Deny denies (failurePolicy
    // Fail); the prod binding leaves it unset (Allow): no param, no evaluation.
    let set = load(&files[..3], "");
    let d = denials(&run(
        &set,
        &request("CREATE", &deployment("test-ns", 1, "nginx"), None, &[]),
        &test,
    ));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1.contains("replica-limit-test.example.com"), "{d:?}");
    assert!(check_none(&set, &prod));
}

fn check_none(set: &PolicySet, prod: &Value) -> bool {
    run(
        set,
        &request("CREATE", &deployment("prod-ns", 500, "nginx"), None, &[]),
        prod,
    )
    .violations
    .is_empty()
}

#[test]
fn audit_annotation_and_message_expression() {
    let set = load(
        &["access/validating-admission-policy-audit-annotation.yaml"],
        &binding(
            "demo-binding-test.example.com",
            "demo-policy.example.com",
            None,
        ),
    );
    let ns = namespace("default", "prod");
    let out = run(
        &set,
        &request("CREATE", &deployment("default", 128, "nginx"), None, &[]),
        &ns,
    );
    assert!(out.violations.is_empty());
    assert_eq!(
        out.audit_annotations,
        vec![(
            "demo-policy.example.com/high-replica-count".to_owned(),
            "Deployment spec.replicas set to 128".to_owned()
        )]
    );
    let out = run(
        &set,
        &request("UPDATE", &deployment("default", 10, "nginx"), None, &[]),
        &ns,
    );
    assert_eq!(
        denials(&out),
        vec![(
            "demo-policy.example.com/demo-binding-test.example.com".to_owned(),
            "Deployment spec.replicas set to 10".to_owned()
        )]
    );
}

#[test]
fn match_conditions_skip_leases_kubelets_and_rbac_and_the_typo_denies_the_rest() {
    let set = load(
        &["access/validating-admission-policy-match-conditions.yaml"],
        &binding(
            "demo-binding-test.example.com",
            "demo-policy.example.com",
            None,
        ),
    );
    let ns = namespace("default", "prod");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo-cm", "namespace": "default"}});
    // A node's request is skipped by `exclude-kubelet-requests` (request.userInfo.groups).
    assert!(
        run(
            &set,
            &request(
                "CREATE",
                &cm,
                None,
                &["system:nodes", "system:authenticated"]
            ),
            &ns
        )
        .violations
        .is_empty()
    );
    // Leases and RBAC objects are skipped by request.resource.
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l", "namespace": "default"}});
    assert!(
        run(&set, &request("UPDATE", &lease, Some(&lease), &[]), &ns)
            .violations
            .is_empty()
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "default"}});
    assert!(
        run(&set, &request("CREATE", &role, None, &[]), &ns)
            .violations
            .is_empty()
    );
    // Anything else reaches the validation, whose `startWith` does not exist: an error,
    // which failurePolicy Fail turns into a denial.
    let d = denials(&run(
        &set,
        &request("CREATE", &cm, None, &["system:authenticated"]),
        &ns,
    ));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1.contains("startWith"), "{d:?}");
    // DELETE is not among the operations.
    assert!(
        run(&set, &request("DELETE", &cm, Some(&cm), &[]), &ns)
            .violations
            .is_empty()
    );
}

#[test]
fn image_must_match_the_namespace_environment() {
    let set = load(
        &["access/image-matches-namespace-environment.policy.yaml"],
        &binding(
            "demo-binding-test.example.com",
            "image-matches-namespace-environment.policy.example.com",
            None,
        ),
    );
    let ns = namespace("default", "prod");
    let d = denials(&run(
        &set,
        &request(
            "CREATE",
            &deployment("default", 1, "dev.example.com/nginx"),
            None,
            &[],
        ),
        &ns,
    ));
    assert_eq!(
        d,
        vec![(
            "image-matches-namespace-environment.policy.example.com/demo-binding-test.example.com"
                .to_owned(),
            "only prod images are allowed in namespace default".to_owned()
        )]
    );
    for image in ["prod.example.com/nginx", "nginx"] {
        assert!(
            run(
                &set,
                &request("CREATE", &deployment("default", 1, image), None, &[]),
                &ns
            )
            .violations
            .is_empty(),
            "{image}"
        );
    }
    // An exempt Deployment passes whatever its image.
    let mut exempt = deployment("default", 1, "dev.example.com/nginx");
    exempt["metadata"]["labels"]["exempt"] = json!("true");
    assert!(
        run(&set, &request("CREATE", &exempt, None, &[]), &ns)
            .violations
            .is_empty()
    );
}

#[test]
fn message_expression_names_the_param_limit() {
    let set = load(
        &[
            "access/deployment-replicas-policy.yaml",
            "replicalimit-param.yaml",
        ],
        &binding(
            "demo-binding-test.example.com",
            "deploy-replica-policy.example.com",
            Some("replica-limit-test.example.com"),
        ),
    );
    let ns = namespace("default", "prod");
    let d = denials(&run(
        &set,
        &request("CREATE", &deployment("default", 5, "nginx"), None, &[]),
        &ns,
    ));
    assert_eq!(
        d,
        vec![(
            "deploy-replica-policy.example.com/demo-binding-test.example.com".to_owned(),
            "object.spec.replicas must be no greater than 3".to_owned()
        )]
    );
    assert!(
        run(
            &set,
            &request("CREATE", &deployment("default", 3, "nginx"), None, &[]),
            &ns
        )
        .violations
        .is_empty()
    );
}
