//! CEL `authorizer` (Kubernetes' authz library) answered from an RBAC object set: a
//! ValidatingAdmissionPolicy whose one validation is the expression under test, evaluated on
//! an AdmissionRequest by a given user.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)] // test helpers

use std::sync::Arc;

use palisade_policy::{Authorizer, Inventory, PolicySet};
use serde_json::{Value, json};

const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods, namespace: team-a}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deploy-admin}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-deploys}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: deploy-admin, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: auditor}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {example.com/aggregate-to-auditor: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-lister
  labels: {example.com/aggregate-to-auditor: "true"}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: carol-audits}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: auditor, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: configmap-editor}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [update]
  resourceNames: [settings]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-edits, namespace: team-a}
subjects: [{kind: ServiceAccount, name: builder}]
roleRef: {kind: ClusterRole, name: configmap-editor, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: health}
rules:
- nonResourceURLs: [/healthz, /livez/*]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: health-for-all}
subjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: health, apiGroup: rbac.authorization.k8s.io}
"#;

fn authorizer(yaml: &str) -> Arc<Authorizer> {
    let loaded = palisade_yaml::load_str("rbac.yaml", yaml, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Arc::new(Authorizer::from_documents(&loaded.documents, false))
}

/// A policy on ConfigMaps whose one validation is `expr` (message "denied"); its
/// messageExpression-free failure reads "denied", an evaluation error the error's text.
fn policy(expr: &str, failure: &str) -> PolicySet {
    let text = format!(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: p}}
spec:
  failurePolicy: {failure}
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [configmaps]
  validations:
  - expression: {expr:?}
    message: denied
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: b}}
spec:
  policyName: p
  validationActions: [Deny]
"#
    );
    let loaded = palisade_yaml::load_str("p.yaml", &text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::from_documents(&loaded.documents, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    set
}

fn request(user: &str, groups: &[&str], namespace: &str) -> Value {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": namespace}, "data": {"a": "b"}});
    json!({"uid": "u", "operation": "UPDATE", "name": "settings", "namespace": namespace,
        "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
        "resource": {"group": "", "version": "v1", "resource": "configmaps"},
        "userInfo": {"username": user, "groups": groups},
        "object": cm.clone(), "oldObject": cm})
}

/// Ok(true): the expression held; Ok(false): it failed ("denied"); Err: anything else
/// (the evaluation error, as failurePolicy Fail reports it).
fn eval_with(
    expr: &str,
    authz: Option<Arc<Authorizer>>,
    user: &str,
    groups: &[&str],
) -> Result<bool, String> {
    let mut set = policy(expr, "Fail");
    set.set_authorizer(authz);
    let out = set.evaluate_request(
        &request(user, groups, "team-a"),
        None,
        &Inventory::default(),
        None,
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    match out.violations.as_slice() {
        [] => Ok(true),
        [v] if v.message == "denied" => Ok(false),
        [v] => Err(v.message.clone()),
        more => panic!("{more:?}"),
    }
}

fn eval(expr: &str, user: &str, groups: &[&str]) -> Result<bool, String> {
    eval_with(expr, Some(authorizer(RBAC)), user, groups)
}

const AUTH: &[&str] = &["system:authenticated"];

#[test]
fn role_in_namespace_allows_there_only() {
    let e = |ns: &str, verb: &str| {
        format!("authorizer.group('').resource('pods').namespace('{ns}').check('{verb}').allowed()")
    };
    assert_eq!(eval(&e("team-a", "get"), "alice", AUTH), Ok(true));
    assert_eq!(eval(&e("team-a", "list"), "alice", AUTH), Ok(true));
    assert_eq!(eval(&e("team-a", "delete"), "alice", AUTH), Ok(false));
    assert_eq!(eval(&e("team-b", "get"), "alice", AUTH), Ok(false));
    // No namespace asks about the whole cluster: a RoleBinding does not answer it.
    assert_eq!(eval(&e("", "get"), "alice", AUTH), Ok(false));
    assert_eq!(eval(&e("team-a", "get"), "bob", AUTH), Ok(false));
    // Subresources are their own resource in RBAC.
    assert_eq!(
        eval(
            "authorizer.group('').resource('pods').subresource('log').namespace('team-a').check('get').allowed()",
            "alice",
            AUTH
        ),
        Ok(true)
    );
    assert_eq!(
        eval(
            "authorizer.group('').resource('pods').subresource('exec').namespace('team-a').check('create').allowed()",
            "alice",
            AUTH
        ),
        Ok(false)
    );
}

#[test]
fn cluster_role_binding_to_a_group() {
    let e = "authorizer.group('apps').resource('deployments').namespace('anywhere').check('delete').allowed()";
    assert_eq!(eval(e, "dave", &["ops", "system:authenticated"]), Ok(true));
    assert_eq!(eval(e, "dave", &["dev", "system:authenticated"]), Ok(false));
    // Cluster-wide too, and the reason names the binding.
    let e = "authorizer.group('apps').resource('deployments').check('list').reason()";
    let r = format!(
        "{e} == 'RBAC: allowed by ClusterRoleBinding/ops-deploys of ClusterRole/deploy-admin to Group ops'"
    );
    assert_eq!(eval(&r, "dave", &["ops"]), Ok(true));
    // The wrong group: the core group has no deployments rule.
    let e = "authorizer.group('').resource('deployments').check('list').allowed()";
    assert_eq!(eval(e, "dave", &["ops"]), Ok(false));
}

#[test]
fn aggregated_cluster_role() {
    let e = "authorizer.group('').resource('secrets').namespace('x').check('list').allowed()";
    assert_eq!(eval(e, "carol", AUTH), Ok(true));
    let e = "authorizer.group('').resource('secrets').namespace('x').check('get').allowed()";
    assert_eq!(eval(e, "carol", AUTH), Ok(false));
}

#[test]
fn service_accounts() {
    let e = |ns: &str, name: &str| {
        format!(
            "authorizer.serviceAccount('team-a', 'builder').group('').resource('configmaps').namespace('{ns}').name('{name}').check('update').allowed()"
        )
    };
    // Asked by anyone, even a request without a user.
    assert_eq!(eval(&e("team-a", "settings"), "bob", AUTH), Ok(true));
    assert_eq!(eval(&e("team-a", "settings"), "", &[]), Ok(true));
    assert_eq!(eval(&e("team-a", "other"), "bob", AUTH), Ok(false));
    assert_eq!(eval(&e("team-b", "settings"), "bob", AUTH), Ok(false));
    // A service account's principal is not in system:authenticated (the API server's
    // serviceaccount.UserInfo), so the health grant does not reach it.
    assert_eq!(
        eval(
            "authorizer.serviceAccount('team-a', 'builder').path('/healthz').check('get').allowed()",
            "bob",
            AUTH
        ),
        Ok(false)
    );
    // The request's own user being that service account matches the ServiceAccount subject.
    let own = "authorizer.group('').resource('configmaps').namespace('team-a').name('settings').check('update').allowed()";
    assert_eq!(
        eval(
            own,
            "system:serviceaccount:team-a:builder",
            &["system:serviceaccounts", "system:serviceaccounts:team-a"]
        ),
        Ok(true)
    );
    // Invalid names are errors, as upstream.
    let bad = eval(
        "authorizer.serviceAccount('Team_A', 'builder').group('').resource('pods').check('get').allowed()",
        "bob",
        AUTH,
    );
    assert!(
        bad.unwrap_err()
            .contains("invalid service account namespace")
    );
}

#[test]
fn paths_and_requestresource() {
    assert_eq!(
        eval(
            "authorizer.path('/healthz').check('get').allowed()",
            "bob",
            AUTH
        ),
        Ok(true)
    );
    assert_eq!(
        eval(
            "authorizer.path('/livez/ping').check('get').allowed()",
            "bob",
            AUTH
        ),
        Ok(true)
    );
    assert_eq!(
        eval(
            "authorizer.path('/healthz').check('post').allowed()",
            "bob",
            AUTH
        ),
        Ok(false)
    );
    assert_eq!(
        eval(
            "authorizer.path('/healthz').check('get').allowed()",
            "bob",
            &[]
        ),
        Ok(false)
    );
    assert!(
        eval("authorizer.path(' ').check('get').allowed()", "bob", AUTH)
            .unwrap_err()
            .contains("path must not be empty")
    );
    // The request is an UPDATE of configmaps/settings in team-a.
    let rr = "authorizer.requestResource.check('update').allowed()";
    assert_eq!(
        eval(
            rr,
            "system:serviceaccount:team-a:builder",
            &["system:serviceaccounts"]
        ),
        Ok(true)
    );
    assert_eq!(eval(rr, "alice", AUTH), Ok(false));
}

#[test]
fn unknown_verb_is_denied_unless_a_rule_says_star() {
    let e =
        "authorizer.group('').resource('pods').namespace('team-a').check('frobnicate').allowed()";
    assert_eq!(eval(e, "alice", AUTH), Ok(false));
    let e = "authorizer.group('apps').resource('deployments').check('frobnicate').allowed()";
    assert_eq!(eval(e, "dave", &["ops"]), Ok(true));
}

#[test]
fn system_masters_is_allowed_everything() {
    let e = "authorizer.group('').resource('nodes').check('delete').allowed()";
    assert_eq!(eval(e, "root", &["system:masters"]), Ok(true));
    assert_eq!(eval(e, "root", AUTH), Ok(false));
}

#[test]
fn unanswerable_checks_are_errored() {
    let e = "authorizer.group('').resource('pods').namespace('team-a').check('get')";
    // No user: errored, with a reason; reading allowed() is an evaluation error.
    assert_eq!(eval(&format!("{e}.errored()"), "", &[]), Ok(true));
    assert_eq!(
        eval(
            &format!("{e}.error().contains('request has no user')"),
            "",
            &[]
        ),
        Ok(true)
    );
    let err = eval(&format!("{e}.allowed()"), "", &[]).unwrap_err();
    assert!(err.contains("request has no user"), "{err}");
    // Under failurePolicy Ignore that error admits.
    let mut set = policy(&format!("{e}.allowed()"), "Ignore");
    set.set_authorizer(Some(authorizer(RBAC)));
    let out = set.evaluate_request(
        &request("", &[], "team-a"),
        None,
        &Inventory::default(),
        None,
    );
    assert!(
        out.violations.is_empty() && out.errors.is_empty(),
        "{out:?}"
    );
    // No RBAC set at all.
    let err = eval_with(&format!("{e}.allowed()"), None, "alice", AUTH).unwrap_err();
    assert!(err.contains("no RBAC objects"), "{err}");
    // A decision that is not errored says so.
    assert_eq!(eval(&format!("{e}.errored()"), "alice", AUTH), Ok(false));
    assert_eq!(eval(&format!("{e}.error() == ''"), "alice", AUTH), Ok(true));
    assert_eq!(
        eval(&format!("{e}.reason() != ''"), "alice", AUTH),
        Ok(true)
    );
}

#[test]
fn type_errors_name_the_function() {
    let err = eval(
        "authorizer.resource('pods').check('get').allowed()",
        "alice",
        AUTH,
    )
    .unwrap_err();
    assert!(err.contains("resource() applies to a GroupCheck"), "{err}");
    let err = eval(
        "authorizer.group('').resource('').check('get').allowed()",
        "alice",
        AUTH,
    )
    .unwrap_err();
    assert!(err.contains("resource must not be empty"), "{err}");
    // `name` on a map is not the library's function.
    let err = eval("{'a': 1}.name('x') == 1", "alice", AUTH).unwrap_err();
    assert!(err.contains("name() applies to a ResourceCheck"), "{err}");
}

#[test]
fn documented_examples() {
    // The authz library's documented example checks (k8s.io/apiserver/pkg/cel/library).
    let set = authorizer(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: default}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: default}\nsubjects: [{kind: ServiceAccount, name: myserviceaccount}]\nroleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\n",
    );
    let sa = "system:serviceaccount:default:myserviceaccount";
    let groups = &["system:serviceaccounts", "system:serviceaccounts:default"];
    for (expr, want) in [
        (
            "authorizer.group('').resource('pods').namespace('default').check('create').allowed()",
            true,
        ),
        (
            "authorizer.group('').resource('pods').namespace('default').check('create').errored()",
            false,
        ),
        (
            "authorizer.group('').resource('pods').namespace('default').check('create').error() == ''",
            true,
        ),
        ("authorizer.path('/healthz').check('get').allowed()", false),
        (
            "authorizer.group('').resource('pods').labelSelector('app=example').namespace('default').check('create').allowed()",
            true,
        ),
        (
            "authorizer.group('').resource('pods').fieldSelector('spec.nodeName=mynode').check('list').allowed()",
            false,
        ),
        (
            "authorizer.serviceAccount('default', 'myserviceaccount').group('').resource('pods').namespace('default').check('create').allowed()",
            true,
        ),
    ] {
        assert_eq!(
            eval_with(expr, Some(set.clone()), sa, groups),
            Ok(want),
            "{expr}"
        );
    }
}

#[test]
fn sets_say_whether_they_read_the_authorizer() {
    assert!(policy("authorizer.path('/x').check('get').allowed()", "Fail").reads_authorizer());
    assert!(policy("authorizer.requestResource.check('get').allowed()", "Fail").reads_authorizer());
    assert!(!policy("object.data.size() > 0", "Fail").reads_authorizer());
}

#[test]
fn scanned_objects_have_no_user_and_no_request_resource() {
    // PolicySet::evaluate_vaps reviews an object as a CREATE without userInfo or resource.
    let mut set = policy(
        "authorizer.requestResource.check('create').allowed()",
        "Fail",
    );
    set.set_authorizer(Some(authorizer(RBAC)));
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-a"}});
    let (found, errors) = set.evaluate_vaps(&cm, None);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.contains("request has no user"),
        "{}",
        found[0].message
    );
    let mut set = policy(
        "authorizer.serviceAccount('team-a', 'builder').group('').resource('configmaps').namespace('team-a').name('settings').check('update').allowed()",
        "Fail",
    );
    set.set_authorizer(Some(authorizer(RBAC)));
    let (found, errors) = set.evaluate_vaps(&cm, None);
    assert!(
        errors.is_empty() && found.is_empty(),
        "{errors:?} {found:?}"
    );
}
