//! `--policy`: Gatekeeper constraints and ValidatingAdmissionPolicies through the HTTP
//! endpoint, with the vendored gatekeeper-library templates; hot reload; time budget.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_admit::{
    Admitter, Config, FailurePolicy, Metrics, Namespace, ObjectsState, PolicyOptions, PolicyStore,
};
use serde_json::{Value, json};

use crate::{decide, ns, review, testdata};

fn library(sub: &str) -> PathBuf {
    testdata("gatekeeper-library/library/general").join(sub)
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = palisade_yaml::load_paths(&[path], &palisade_yaml::Limits::default());
    assert!(docs.errors.is_empty(), "{text}");
    docs.documents[0].value.clone()
}

fn with_policies(
    config: Config,
    namespaces: Vec<Namespace>,
    opts: PolicyOptions,
) -> (Arc<Admitter>, Arc<PolicyStore>) {
    let store = Arc::new(PolicyStore::load(opts).unwrap());
    let admitter = Admitter::new(
        config,
        Arc::new(ObjectsState::from_parts(namespaces, Vec::new())),
        Arc::new(Metrics::new()),
    )
    .with_policies(store.clone());
    (Arc::new(admitter), store)
}

/// The requiredlabels template and its sample constraint with `enforcementAction` set.
fn required_labels_dir(action: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lib = library("requiredlabels");
    std::fs::copy(lib.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    let mut c =
        std::fs::read_to_string(lib.join("samples/all-must-have-owner/constraint.yaml")).unwrap();
    if let Some(a) = action {
        c = c.replace("spec:\n", &format!("spec:\n  enforcementAction: {a}\n"));
    }
    std::fs::write(dir.path().join("constraint.yaml"), c).unwrap();
    dir
}

/// A review of a cluster-scoped object (no `namespace` in the request).
fn cluster_review(resource: (&str, &str), object: &Value) -> Value {
    let mut r = review(resource, object, None);
    if let Some(m) = r["request"].as_object_mut() {
        m.remove("namespace");
    }
    r
}

fn namespace_review(path: &Path) -> Value {
    cluster_review(("", "namespaces"), &yaml(path))
}

const REGEX_MSG: &str = "K8sRequiredLabels/all-must-have-owner: regex mismatch";
const OWNER_MSG: &str =
    "K8sRequiredLabels/all-must-have-owner: missing required label, requires all of: owner";

#[tokio::test]
async fn deny_constraint_denies_with_the_policy_message() {
    let dir = required_labels_dir(None);
    let (app, _) = with_policies(
        Config::default(),
        vec![],
        PolicyOptions::new(vec![dir.path().to_owned()]),
    );
    let samples = library("requiredlabels/samples/all-must-have-owner");
    let resp = decide(
        &app,
        &namespace_review(&samples.join("example_disallowed.yaml")),
    )
    .await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(resp["status"]["code"], 403);
    // The template's CEL (Gatekeeper's engine of choice) also reports the regex on the
    // missing label; each violation is one `KIND/NAME: message`.
    assert_eq!(
        resp["status"]["message"],
        format!(
            "namespaces \"disallowed-namespace\" is forbidden: violates policies: {OWNER_MSG}; {REGEX_MSG}"
        )
    );
    let resp = decide(
        &app,
        &namespace_review(&samples.join("example_allowed.yaml")),
    )
    .await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(resp.get("warnings").is_none(), "{resp}");
    let resp = decide(
        &app,
        &namespace_review(&samples.join("example_disallowed_label_value.yaml")),
    )
    .await;
    assert_eq!(resp["allowed"], false, "{resp}");
    let text = app.metrics().encode();
    assert!(
        text.contains("palisade_admit_policy_violations_total{action=\"deny\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("palisade_admit_policy_evaluations_total 3"),
        "{text}"
    );
    assert!(
        text.contains("palisade_admit_policy_evaluation_duration_seconds_count 3"),
        "{text}"
    );
}

#[tokio::test]
async fn warn_becomes_a_warning_and_dryrun_an_audit_annotation() {
    let samples = library("requiredlabels/samples/all-must-have-owner");
    let bad = namespace_review(&samples.join("example_disallowed.yaml"));

    let dir = required_labels_dir(Some("warn"));
    let (app, _) = with_policies(
        Config::default(),
        vec![],
        PolicyOptions::new(vec![dir.path().to_owned()]),
    );
    let resp = decide(&app, &bad).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["warnings"], json!([OWNER_MSG, REGEX_MSG]));
    assert!(resp.get("auditAnnotations").is_none(), "{resp}");

    let dir = required_labels_dir(Some("dryrun"));
    let (app, _) = with_policies(
        Config::default(),
        vec![],
        PolicyOptions::new(vec![dir.path().to_owned()]),
    );
    let resp = decide(&app, &bad).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(resp.get("warnings").is_none(), "{resp}");
    assert_eq!(
        resp["auditAnnotations"]["palisade-policy-audit"],
        format!("{OWNER_MSG}; {REGEX_MSG}")
    );
    assert!(
        app.metrics()
            .encode()
            .contains("palisade_admit_policy_violations_total{action=\"dryrun\"} 2")
    );
}

/// allowedrepos (a Pod constraint scoped to namespace `default`), combined with PSA: PSA's
/// denial comes first, then the policy's, in one 403.
#[tokio::test]
async fn allowed_repos_with_psa_in_one_denial() {
    let lib = library("allowedrepos");
    let (app, _) = with_policies(
        Config::default(),
        vec![
            ns(
                "default",
                &[("pod-security.kubernetes.io/enforce", "restricted")],
            ),
            ns("other", &[]),
        ],
        PolicyOptions::new(vec![
            lib.join("template.yaml"),
            lib.join("samples/repo-must-be-openpolicyagent/constraint.yaml"),
        ]),
    );
    let mut pod =
        yaml(&lib.join("samples/repo-must-be-openpolicyagent/example_disallowed_container.yaml"));
    pod["metadata"]["namespace"] = json!("default");
    let resp = decide(&app, &review(("", "pods"), &pod, None)).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    let msg = resp["status"]["message"].as_str().unwrap();
    let psa = msg
        .find("violates PodSecurity \"restricted:latest\"")
        .unwrap();
    let policy = msg
        .find("; violates policies: K8sAllowedRepos/repo-is-openpolicyagent: container <nginx> has an invalid image repo <nginx>, allowed repos are [\"openpolicyagent/\"]")
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(psa < policy, "{msg}");

    // Outside the constraint's namespaces and PSA-unlabelled: allowed.
    pod["metadata"]["namespace"] = json!("other");
    let resp = decide(&app, &review(("", "pods"), &pod, None)).await;
    assert_eq!(resp["allowed"], true, "{resp}");

    // DELETE: Gatekeeper reviews the old object.
    pod["metadata"]["namespace"] = json!("default");
    let mut del = review(("", "pods"), &pod, None);
    del["request"]["operation"] = json!("DELETE");
    del["request"]["oldObject"] = del["request"]["object"].take();
    let resp = decide(&app, &del).await;
    assert_eq!(resp["allowed"], false, "{resp}");
}

/// namespaceSelector reads the labels of the request's namespace from the webhook's state.
#[tokio::test]
async fn namespace_selector_from_the_namespace_state() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library("allowedrepos");
    std::fs::copy(lib.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sAllowedRepos\nmetadata:\n  name: prod-repos\nspec:\n  match:\n    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n    namespaceSelector:\n      matchLabels: {env: prod}\n  parameters:\n    repos: [\"registry.example/\"]\n",
    )
    .unwrap();
    let (app, _) = with_policies(
        Config::default(),
        vec![ns("shop", &[("env", "prod")]), ns("lab", &[("env", "dev")])],
        PolicyOptions::new(vec![dir.path().to_owned()]),
    );
    let pod = |ns: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    };
    let resp = decide(&app, &review(("", "pods"), &pod("shop"), None)).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"].as_str().unwrap().contains(
            "K8sAllowedRepos/prod-repos: container <c> has an invalid image repo <nginx>"
        ),
        "{resp}"
    );
    let resp = decide(&app, &review(("", "pods"), &pod("lab"), None)).await;
    assert_eq!(resp["allowed"], true, "{resp}");
}

const VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
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
    message: "replicas must be no greater than 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-binding-test.example.com
spec:
  policyName: demo-policy.example.com
  validationActions: [ACTIONS]
"#;

fn deployment(replicas: u32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
}

#[tokio::test]
async fn validating_admission_policy_deny_warn_audit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vap.yaml");
    std::fs::write(&file, VAP.replace("ACTIONS", "Deny")).unwrap();
    let (app, _) = with_policies(
        Config::default(),
        vec![ns("default", &[])],
        PolicyOptions::new(vec![file.clone()]),
    );
    let resp = decide(&app, &review(("apps", "deployments"), &deployment(6), None)).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(
        resp["status"]["message"],
        "deployments.apps \"web\" is forbidden: violates policies: demo-policy.example.com/demo-binding-test.example.com: replicas must be no greater than 5"
    );
    let resp = decide(&app, &review(("apps", "deployments"), &deployment(5), None)).await;
    assert_eq!(resp["allowed"], true, "{resp}");

    std::fs::write(&file, VAP.replace("ACTIONS", "Warn, Audit")).unwrap();
    let (app, _) = with_policies(
        Config::default(),
        vec![ns("default", &[])],
        PolicyOptions::new(vec![file]),
    );
    let resp = decide(&app, &review(("apps", "deployments"), &deployment(6), None)).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    let line =
        "demo-policy.example.com/demo-binding-test.example.com: replicas must be no greater than 5";
    assert_eq!(resp["warnings"], json!([line]));
    assert_eq!(resp["auditAnnotations"]["palisade-policy-audit"], line);
}

/// The first denying validation's `reason` and its code, as the API server's VAP plugin
/// answers: RequestEntityTooLarge 413, unset -> Invalid 422; an unsupported reason is a load
/// error naming the policy and the validation.
#[tokio::test]
async fn validating_admission_policy_reason_sets_status_reason_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vap.yaml");
    let with_reason = |reason: &str| {
        VAP.replace("ACTIONS", "Deny").replace(
            "    message: \"replicas must be no greater than 5\"\n",
            &format!("    message: \"replicas must be no greater than 5\"\n{reason}"),
        )
    };
    let cases = [
        (
            "    reason: RequestEntityTooLarge\n",
            "RequestEntityTooLarge",
            413,
        ),
        ("", "Invalid", 422),
        ("    reason: Unauthorized\n", "Unauthorized", 401),
    ];
    for (field, reason, code) in cases {
        std::fs::write(&file, with_reason(field)).unwrap();
        let metrics = Arc::new(Metrics::new());
        let store = Arc::new(PolicyStore::load(PolicyOptions::new(vec![file.clone()])).unwrap());
        let app = Arc::new(
            Admitter::new(
                Config::default(),
                Arc::new(ObjectsState::from_parts(
                    vec![ns("default", &[])],
                    Vec::new(),
                )),
                metrics.clone(),
            )
            .with_policies(store),
        );
        let resp = decide(&app, &review(("apps", "deployments"), &deployment(6), None)).await;
        assert_eq!(resp["allowed"], false, "{resp}");
        assert_eq!(resp["status"]["reason"], reason, "{resp}");
        assert_eq!(resp["status"]["code"], code, "{resp}");
        assert_eq!(
            resp["status"]["message"],
            "deployments.apps \"web\" is forbidden: violates policies: demo-policy.example.com/demo-binding-test.example.com: replicas must be no greater than 5"
        );
        // Counted as a denial, not an error.
        let text = metrics.encode();
        assert!(
            text.lines()
                .any(|l| l.contains("decision=\"deny\"") && !l.starts_with('#')),
            "{text}"
        );
        let resp = decide(&app, &review(("apps", "deployments"), &deployment(5), None)).await;
        assert_eq!(resp["allowed"], true, "{resp}");
    }
    std::fs::write(&file, with_reason("    reason: Conflict\n")).unwrap();
    let err = PolicyStore::load(PolicyOptions::new(vec![file])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ValidatingAdmissionPolicy demo-policy.example.com")
            && text.contains("spec.validations[0].reason: Unsupported value: \"Conflict\""),
        "{text}"
    );
}

/// A Pod Security denial keeps its 403 Forbidden; a VAP's denial is appended to its message.
#[tokio::test]
async fn pod_security_denial_keeps_forbidden_over_a_vap_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vap.yaml");
    let text = VAP
        .replace("ACTIONS", "Deny")
        .replace("[\"apps\"]", "[\"\"]")
        .replace("[\"deployments\"]", "[\"pods\"]")
        .replace("object.spec.replicas <= 5", "object.metadata.name != 'web'")
        .replace(
            "replicas must be no greater than 5",
            "not web\"\n    reason: \"RequestEntityTooLarge",
        );
    std::fs::write(&file, text).unwrap();
    let (app, _) = with_policies(
        Config::default(),
        vec![ns(
            "default",
            &[("pod-security.kubernetes.io/enforce", "restricted")],
        )],
        PolicyOptions::new(vec![file]),
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "web", "namespace": "default"},
                     "spec": {"containers": [{"name": "c", "image": "nginx",
                                              "securityContext": {"privileged": true}}]}});
    let resp = decide(&app, &review(("", "pods"), &pod, None)).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(resp["status"]["reason"], "Forbidden", "{resp}");
    assert_eq!(resp["status"]["code"], 403, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("violates PodSecurity")
            && message.ends_with("demo-policy.example.com/demo-binding-test.example.com: not web"),
        "{message}"
    );
}

#[test]
fn load_errors_name_file_and_line_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library("requiredlabels");
    // A constraint without its template.
    std::fs::copy(
        lib.join("samples/all-must-have-owner/constraint.yaml"),
        dir.path().join("constraint.yaml"),
    )
    .unwrap();
    let err = PolicyStore::load(PolicyOptions::new(vec![dir.path().to_owned()])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("constraint.yaml:1: constraint K8sRequiredLabels/all-must-have-owner: no ConstraintTemplate"), "{text}");
    // Nothing to enforce is an error too.
    let empty = tempfile::tempdir().unwrap();
    let err = PolicyStore::load(PolicyOptions::new(vec![empty.path().to_owned()])).unwrap_err();
    assert!(
        err.to_string()
            .contains("no Constraint or ValidatingAdmissionPolicyBinding"),
        "{err}"
    );
}

/// A good reload swaps the set; a broken one keeps the old set and is counted.
#[tokio::test]
async fn hot_reload_good_and_bad() {
    let dir = required_labels_dir(None);
    let mut opts = PolicyOptions::new(vec![dir.path().to_owned()]);
    opts.reload_interval = Duration::from_millis(50);
    let (app, store) = with_policies(Config::default(), vec![], opts);
    let watcher = tokio::spawn(palisade_admit::policies::watch(
        store.clone(),
        app.metrics().clone(),
    ));
    let samples = library("requiredlabels/samples/all-must-have-owner");
    let bad = namespace_review(&samples.join("example_disallowed.yaml"));
    assert_eq!(decide(&app, &bad).await["allowed"], false);
    assert!(!store.reload_if_changed().unwrap(), "nothing changed");

    let wait_for = |needle: &'static str| {
        let app = app.clone();
        async move {
            for _ in 0..200 {
                if app.metrics().encode().contains(needle) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("never saw {needle}:\n{}", app.metrics().encode());
        }
    };

    // Good: the constraint becomes warn.
    let c = dir.path().join("constraint.yaml");
    let text = std::fs::read_to_string(&c).unwrap();
    std::fs::write(
        &c,
        text.replace("spec:\n", "spec:\n  enforcementAction: warn\n"),
    )
    .unwrap();
    wait_for("palisade_admit_policy_reloads_total{result=\"ok\"} 1").await;
    let resp = decide(&app, &bad).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["warnings"], json!([OWNER_MSG, REGEX_MSG]));

    // Bad: a Rego syntax error; the warn set stays.
    let t = dir.path().join("template.yaml");
    let template = std::fs::read_to_string(&t).unwrap();
    std::fs::write(&t, template.replace("violation[{", "violation[[{")).unwrap();
    wait_for("palisade_admit_policy_reloads_total{result=\"error\"} 1").await;
    let resp = decide(&app, &bad).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["warnings"], json!([OWNER_MSG, REGEX_MSG]));
    assert_eq!(store.policy_count(), 1);

    // Fixed again: the original deny.
    std::fs::write(&t, template).unwrap();
    std::fs::write(&c, text).unwrap();
    wait_for("palisade_admit_policy_reloads_total{result=\"ok\"} 2").await;
    assert_eq!(decide(&app, &bad).await["allowed"], false);
    watcher.abort();
}

const SLOW: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sslow
spec:
  crd:
    spec:
      names:
        kind: K8sSlow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow
        violation[{"msg": msg}] {
          input.review.object.metadata.name != ""
          xs := numbers.range(1, 3000)
          a := xs[_]
          b := xs[_]
          a + b < 0
          msg := "never reached"

        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSlow
metadata:
  name: slow
spec:
  match:
    kinds: [{apiGroups: [""], kinds: [Namespace]}]
"#;

/// A runaway policy is stopped by the time budget: allowed (Ignore) with the error annotated
/// and counted, or denied (Fail).
#[tokio::test]
async fn runaway_policy_hits_the_time_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slow.yaml"), SLOW).unwrap();
    let review = cluster_review(
        ("", "namespaces"),
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
    );
    for failure in [FailurePolicy::Ignore, FailurePolicy::Fail] {
        let mut opts = PolicyOptions::new(vec![dir.path().to_owned()]);
        opts.timeout = Duration::from_millis(20);
        opts.failure_policy = failure;
        let (app, _) = with_policies(Config::default(), vec![], opts);
        let started = std::time::Instant::now();
        let resp = decide(&app, &review).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let errors = resp["auditAnnotations"]["palisade-policy-errors"]
            .as_str()
            .unwrap_or_else(|| panic!("{resp}"));
        assert!(
            errors.contains("policy K8sSlow/slow: rego evaluation failed"),
            "{errors}"
        );
        assert!(
            app.metrics()
                .encode()
                .contains("palisade_admit_policy_errors_total{reason=\"timeout\"} 1"),
            "{}",
            app.metrics().encode()
        );
        match failure {
            FailurePolicy::Ignore => assert_eq!(resp["allowed"], true, "{resp}"),
            FailurePolicy::Fail => {
                assert_eq!(resp["allowed"], false, "{resp}");
                assert!(
                    resp["status"]["message"].as_str().unwrap().contains(
                        "violates policies: policy evaluation failed: policy K8sSlow/slow"
                    )
                );
            }
        }
    }
}

const REQUEST_AWARE: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-scale-down.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: "request.userInfo.username != 'alice' || object.spec.replicas >= oldObject.spec.replicas"
    messageExpression: "request.userInfo.username + ' may not scale ' + object.metadata.name + ' down from ' + string(oldObject.spec.replicas)"
  auditAnnotations:
  - key: who
    valueExpression: "request.userInfo.username + ' ' + request.operation + (request.dryRun ? ' (dry run)' : '')"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: everywhere
spec:
  policyName: no-scale-down.example.com
  validationActions: [Deny]
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: lockedobjects
spec:
  crd:
    spec:
      names:
        kind: LockedObjects
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package lockedobjects
        violation[{"msg": msg}] {
          input.review.operation == "UPDATE"
          input.review.oldObject.metadata.labels.locked == "true"
          not input.review.userInfo.groups[_] == "admins"
          msg := sprintf("%v is locked; %v may not change it", [input.review.name, input.review.userInfo.username])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: LockedObjects
metadata:
  name: locked
"#;

/// Policies see the whole AdmissionRequest: operation, userInfo, oldObject, dryRun (VAP and
/// Gatekeeper alike), and VAP auditAnnotations reach the response.
#[tokio::test]
async fn policies_read_user_info_old_object_and_operation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), REQUEST_AWARE).unwrap();
    let (app, _) = with_policies(
        Config::default(),
        vec![ns("default", &[])],
        PolicyOptions::new(vec![dir.path().to_owned()]),
    );
    let deployments = ("apps", "deployments");
    // CREATE: the VAP's rules name UPDATE only; the Rego sees no oldObject.
    let resp = decide(&app, &review(deployments, &deployment(5), None)).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        resp["auditAnnotations"]
            .get("palisade-policy-audit-annotations")
            .is_none(),
        "{resp}"
    );
    // alice scales down: denied with the messageExpression; the annotation names her.
    let mut req = review(deployments, &deployment(3), Some(&deployment(5)));
    req["request"]["dryRun"] = json!(true);
    let resp = decide(&app, &req).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(
        resp["status"]["message"],
        "deployments.apps \"web\" is forbidden: violates policies: no-scale-down.example.com/everywhere: alice may not scale web down from 5"
    );
    assert_eq!(
        resp["auditAnnotations"]["palisade-policy-audit-annotations"],
        "no-scale-down.example.com/who=alice UPDATE (dry run)"
    );
    // Scaling up is fine, unless the old object was locked (Rego reads oldObject and userInfo).
    let resp = decide(
        &app,
        &review(deployments, &deployment(6), Some(&deployment(5))),
    )
    .await;
    assert_eq!(resp["allowed"], true, "{resp}");
    let mut locked = deployment(5);
    locked["metadata"]["labels"] = json!({"locked": "true"});
    let resp = decide(&app, &review(deployments, &deployment(6), Some(&locked))).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .ends_with("LockedObjects/locked: web is locked; alice may not change it"),
        "{resp}"
    );
    let mut admin = review(deployments, &deployment(6), Some(&locked));
    admin["request"]["userInfo"]["groups"] = json!(["admins"]);
    let resp = decide(&app, &admin).await;
    assert_eq!(resp["allowed"], true, "{resp}");
}

/// CEL `authorizer` in admit: bound to the request's userInfo (user and groups), answered from
/// the RBAC objects of `--objects` ([`PolicyStore::with_rbac_objects`]).
#[tokio::test]
async fn authorizer_answers_for_the_request_user_from_the_rbac_objects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vap.yaml");
    std::fs::write(
        &file,
        VAP.replace("ACTIONS", "Deny").replace(
            "\"object.spec.replicas <= 5\"",
            "\"object.spec.replicas <= 5 || authorizer.group('apps').resource('deployments').subresource('scale').namespace(object.metadata.namespace).check('update').allowed()\"",
        ),
    )
    .unwrap();
    let rbac = dir.path().join("rbac.yaml");
    std::fs::write(
        &rbac,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: scaler\nrules:\n- apiGroups: [apps]\n  resources: [deployments/scale]\n  verbs: [update]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: scalers\n  namespace: default\nsubjects:\n- kind: Group\n  name: scalers\n  apiGroup: rbac.authorization.k8s.io\nroleRef:\n  kind: ClusterRole\n  name: scaler\n  apiGroup: rbac.authorization.k8s.io\n",
    )
    .unwrap();
    let by = |user: &str, groups: &[&str]| {
        let mut r = review(("apps", "deployments"), &deployment(6), None);
        r["request"]["userInfo"] = json!({"username": user, "groups": groups});
        r
    };
    let store = PolicyStore::load(PolicyOptions::new(vec![file.clone()]))
        .unwrap()
        .with_rbac_objects(std::slice::from_ref(&rbac))
        .unwrap();
    let app = Arc::new(
        Admitter::new(
            Config::default(),
            Arc::new(ObjectsState::from_parts(
                vec![ns("default", &[])],
                Vec::new(),
            )),
            Arc::new(Metrics::new()),
        )
        .with_policies(Arc::new(store)),
    );
    let resp = decide(&app, &by("bob", &["scalers", "system:authenticated"])).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = decide(&app, &by("alice", &["system:authenticated"])).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("replicas must be no greater than 5"),
        "{resp}"
    );
    // Without RBAC objects the check is errored: failurePolicy Fail denies, saying why.
    let (app, _) = with_policies(
        Config::default(),
        vec![ns("default", &[])],
        PolicyOptions::new(vec![file.clone()]),
    );
    let resp = decide(&app, &by("bob", &["scalers"])).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no RBAC objects"),
        "{resp}"
    );
    // An unreadable objects file is an error naming it.
    let missing = dir.path().join("missing.yaml");
    let err = PolicyStore::load(PolicyOptions::new(vec![file]))
        .unwrap()
        .with_rbac_objects(&[missing])
        .unwrap_err();
    assert!(err.to_string().contains("missing.yaml"), "{err}");
}
