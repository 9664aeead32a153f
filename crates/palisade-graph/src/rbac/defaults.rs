//! The roles and bindings a Kubernetes cluster is created with (the RBAC bootstrap policy,
//! `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`), transcribed for the
//! user-facing part: `cluster-admin`, the aggregated `admin`/`edit`/`view` with their
//! `system:aggregate-to-*` sources, and the discovery/info roles bound to every user.
//!
//! The user-facing ClusterRoles exist in every cluster, so they are always added when the
//! scanned set does not define them (a manifest binding `edit` must get `edit`'s rules, and
//! a scanned ClusterRole labelled `aggregate-to-edit` must flow into it). The default
//! bindings and the `system:` info roles are added only with `--rbac-defaults`.
//! Controller roles (`system:controller:*`) and node roles are not included.
//!
//! A scanned object redefining a built-in role does not replace it: the API server
//! reconciles bootstrap roles at start-up, adding back any missing rule (unless the role is
//! annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`), so the built-in rules
//! are added to the scanned ones.

use super::model::{Rbac, RoleKind, Subject, SubjectKind};
use serde_json::Value;

const RW: &str = r#"["create","delete","deletecollection","patch","update"]"#;
const R: &str = r#"["get","list","watch"]"#;

fn builtin_roles() -> String {
    format!(
        r#"[
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"cluster-admin"}},
 "rules":[{{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}},{{"nonResourceURLs":["*"],"verbs":["*"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"admin"}},
 "aggregationRule":{{"clusterRoleSelectors":[{{"matchLabels":{{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}}}}]}},"rules":[]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"edit","labels":{{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}}}},
 "aggregationRule":{{"clusterRoleSelectors":[{{"matchLabels":{{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}}}}]}},"rules":[]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"view","labels":{{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}}}},
 "aggregationRule":{{"clusterRoleSelectors":[{{"matchLabels":{{"rbac.authorization.k8s.io/aggregate-to-view":"true"}}}}]}},"rules":[]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"system:aggregate-to-admin","labels":{{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}}}},
 "rules":[
  {{"apiGroups":["authorization.k8s.io"],"resources":["localsubjectaccessreviews"],"verbs":["create"]}},
  {{"apiGroups":["rbac.authorization.k8s.io"],"resources":["rolebindings","roles"],"verbs":["create","delete","deletecollection","get","list","patch","update","watch"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"system:aggregate-to-edit","labels":{{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}}}},
 "rules":[
  {{"apiGroups":[""],"resources":["pods/attach","pods/exec","pods/portforward","pods/proxy","secrets","services/proxy"],"verbs":{R}}},
  {{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["impersonate"]}},
  {{"apiGroups":[""],"resources":["pods","pods/attach","pods/exec","pods/portforward","pods/proxy"],"verbs":{RW}}},
  {{"apiGroups":[""],"resources":["pods/eviction"],"verbs":["create"]}},
  {{"apiGroups":[""],"resources":["configmaps","events","persistentvolumeclaims","replicationcontrollers","replicationcontrollers/scale","secrets","serviceaccounts","services","services/proxy"],"verbs":{RW}}},
  {{"apiGroups":[""],"resources":["serviceaccounts/token"],"verbs":["create"]}},
  {{"apiGroups":["apps"],"resources":["daemonsets","deployments","deployments/rollback","deployments/scale","replicasets","replicasets/scale","statefulsets","statefulsets/scale"],"verbs":{RW}}},
  {{"apiGroups":["autoscaling"],"resources":["horizontalpodautoscalers"],"verbs":{RW}}},
  {{"apiGroups":["batch"],"resources":["cronjobs","jobs"],"verbs":{RW}}},
  {{"apiGroups":["extensions"],"resources":["daemonsets","deployments","deployments/rollback","deployments/scale","ingresses","networkpolicies","replicasets","replicasets/scale","replicationcontrollers/scale"],"verbs":{RW}}},
  {{"apiGroups":["policy"],"resources":["poddisruptionbudgets"],"verbs":{RW}}},
  {{"apiGroups":["networking.k8s.io"],"resources":["ingresses","networkpolicies"],"verbs":{RW}}},
  {{"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create","delete","deletecollection","get","list","patch","update","watch"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"system:aggregate-to-view","labels":{{"rbac.authorization.k8s.io/aggregate-to-view":"true"}}}},
 "rules":[
  {{"apiGroups":[""],"resources":["configmaps","endpoints","persistentvolumeclaims","persistentvolumeclaims/status","pods","replicationcontrollers","replicationcontrollers/scale","serviceaccounts","services","services/status"],"verbs":{R}}},
  {{"apiGroups":[""],"resources":["bindings","events","limitranges","namespaces/status","pods/log","pods/status","replicationcontrollers/status","resourcequotas","resourcequotas/status"],"verbs":{R}}},
  {{"apiGroups":[""],"resources":["namespaces"],"verbs":{R}}},
  {{"apiGroups":["discovery.k8s.io"],"resources":["endpointslices"],"verbs":{R}}},
  {{"apiGroups":["apps"],"resources":["controllerrevisions","daemonsets","daemonsets/status","deployments","deployments/scale","deployments/status","replicasets","replicasets/scale","replicasets/status","statefulsets","statefulsets/scale","statefulsets/status"],"verbs":{R}}},
  {{"apiGroups":["autoscaling"],"resources":["horizontalpodautoscalers","horizontalpodautoscalers/status"],"verbs":{R}}},
  {{"apiGroups":["batch"],"resources":["cronjobs","cronjobs/status","jobs","jobs/status"],"verbs":{R}}},
  {{"apiGroups":["extensions"],"resources":["daemonsets","daemonsets/status","deployments","deployments/scale","deployments/status","ingresses","ingresses/status","networkpolicies","replicasets","replicasets/scale","replicasets/status","replicationcontrollers/scale"],"verbs":{R}}},
  {{"apiGroups":["policy"],"resources":["poddisruptionbudgets","poddisruptionbudgets/status"],"verbs":{R}}},
  {{"apiGroups":["networking.k8s.io"],"resources":["ingresses","ingresses/status","networkpolicies"],"verbs":{R}}}]}}
]"#
    )
}

const DEFAULTS_ONLY: &str = r#"[
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:basic-user"},
 "rules":[{"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"],"verbs":["create"]},
          {"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"],"verbs":["create"]}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:discovery"},
 "rules":[{"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/"],"verbs":["get"]}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:public-info-viewer"},
 "rules":[{"nonResourceURLs":["/healthz","/livez","/readyz","/version","/version/"],"verbs":["get"]}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:monitoring"},
 "rules":[{"nonResourceURLs":["/healthz","/healthz/*","/livez","/livez/*","/metrics","/metrics/slis","/readyz","/readyz/*"],"verbs":["get"]}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"cluster-admin"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:masters"}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"system:basic-user"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:basic-user"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"system:discovery"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:discovery"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"system:public-info-viewer"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:public-info-viewer"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"},
             {"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:unauthenticated"}]},
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"system:monitoring"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:monitoring"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:monitoring"}]}
]"#;

fn parse(text: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Adds the built-in ClusterRoles the set does not define, and with `all` the default
/// bindings and info roles.
pub(crate) fn add(m: &mut Rbac, all: bool) {
    let mut objects = parse(&builtin_roles());
    if all {
        objects.extend(parse(DEFAULTS_ONLY));
    }
    for v in objects {
        let is_role = v.get("kind").and_then(Value::as_str) == Some("ClusterRole");
        let name = v
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if is_role && let Some(existing) = m.find_role(RoleKind::ClusterRole, None, name) {
            m.reconcile(existing, &v);
            continue;
        }
        m.add(&v, None);
    }
}

/// Default ClusterRoleBindings and the subjects they have in a new cluster.
const BOOTSTRAP_BINDINGS: &[(&str, &[(SubjectKind, &str)])] = &[
    ("cluster-admin", &[(SubjectKind::Group, "system:masters")]),
    (
        "system:basic-user",
        &[(SubjectKind::Group, "system:authenticated")],
    ),
    (
        "system:discovery",
        &[(SubjectKind::Group, "system:authenticated")],
    ),
    (
        "system:public-info-viewer",
        &[
            (SubjectKind::Group, "system:authenticated"),
            (SubjectKind::Group, "system:unauthenticated"),
        ],
    ),
    (
        "system:monitoring",
        &[(SubjectKind::Group, "system:monitoring")],
    ),
    (
        "system:service-account-issuer-discovery",
        &[(SubjectKind::Group, "system:serviceaccounts")],
    ),
    (
        "system:node-proxier",
        &[(SubjectKind::User, "system:kube-proxy")],
    ),
    (
        "system:kube-controller-manager",
        &[(SubjectKind::User, "system:kube-controller-manager")],
    ),
    (
        "system:kube-scheduler",
        &[(SubjectKind::User, "system:kube-scheduler")],
    ),
    (
        "system:volume-scheduler",
        &[(SubjectKind::User, "system:kube-scheduler")],
    ),
];

/// A ClusterRoleBinding identical to a bootstrap one (same name, same role, subjects among
/// the defaults): what every cluster has, not a finding.
pub(crate) fn is_bootstrap_binding(name: &str, role: &str, subjects: &[Subject]) -> bool {
    name == role
        && BOOTSTRAP_BINDINGS.iter().any(|(n, subs)| {
            *n == name
                && subjects.iter().all(|s| {
                    s.namespace.is_none()
                        && subs.iter().any(|(k, sn)| *k == s.kind && *sn == s.name)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_objects_parse() {
        assert_eq!(parse(&builtin_roles()).len(), 7);
        assert_eq!(parse(DEFAULTS_ONLY).len(), 9);
    }
}
