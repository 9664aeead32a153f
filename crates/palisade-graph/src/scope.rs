//! Which kinds live in a namespace, and `kubectl apply -n NS` placement: objects of a
//! namespaced kind without `metadata.namespace` are created in `NS`; cluster-scoped kinds keep
//! none; an object naming another namespace is refused by kubectl ("the namespace from the
//! provided object ... does not match the namespace ...").
//!
//! [`CLUSTER_SCOPED_TYPES`] is the one table of cluster-scoped types: placement reads its kinds,
//! the RBAC model its resources (a namespaced grant never reaches them). It lists the built-in
//! API types of Kubernetes 1.35 whose scope is Cluster; kinds it does not know (custom
//! resources) are treated as namespaced, as most are.

use crate::objects::{group_of, str_at};
use serde_json::{Map, Value};

/// Built-in cluster-scoped API types: (API group, kind, resource).
pub const CLUSTER_SCOPED_TYPES: &[(&str, &str, &str)] = &[
    ("", "Namespace", "namespaces"),
    ("", "Node", "nodes"),
    ("", "PersistentVolume", "persistentvolumes"),
    ("", "ComponentStatus", "componentstatuses"),
    ("rbac.authorization.k8s.io", "ClusterRole", "clusterroles"),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    (
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
    ),
    (
        "certificates.k8s.io",
        "ClusterTrustBundle",
        "clustertrustbundles",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
    ),
    ("apiregistration.k8s.io", "APIService", "apiservices"),
    ("storage.k8s.io", "StorageClass", "storageclasses"),
    ("storage.k8s.io", "CSIDriver", "csidrivers"),
    ("storage.k8s.io", "CSINode", "csinodes"),
    ("storage.k8s.io", "VolumeAttachment", "volumeattachments"),
    (
        "storage.k8s.io",
        "VolumeAttributesClass",
        "volumeattributesclasses",
    ),
    ("scheduling.k8s.io", "PriorityClass", "priorityclasses"),
    ("node.k8s.io", "RuntimeClass", "runtimeclasses"),
    ("networking.k8s.io", "IngressClass", "ingressclasses"),
    ("networking.k8s.io", "IPAddress", "ipaddresses"),
    ("networking.k8s.io", "ServiceCIDR", "servicecidrs"),
    ("policy", "PodSecurityPolicy", "podsecuritypolicies"),
    ("extensions", "PodSecurityPolicy", "podsecuritypolicies"),
    ("authentication.k8s.io", "TokenReview", "tokenreviews"),
    (
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
    ),
    (
        "authorization.k8s.io",
        "SubjectAccessReview",
        "subjectaccessreviews",
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
    ),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
    ),
    ("resource.k8s.io", "DeviceClass", "deviceclasses"),
    ("resource.k8s.io", "ResourceSlice", "resourceslices"),
    (
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        "storageversionmigrations",
    ),
    (
        "internal.apiserver.k8s.io",
        "StorageVersion",
        "storageversions",
    ),
];

/// Resources RBAC rules name that are no stored kind but are checked cluster-wide:
/// impersonation targets and certificate signers.
const VIRTUAL_CLUSTER_RESOURCES: &[&str] = &["users", "groups", "uids", "userextras", "signers"];

/// Whether objects of `kind` in `api_version`'s group are cluster-scoped.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    let group = group_of(api_version);
    CLUSTER_SCOPED_TYPES
        .iter()
        .any(|(g, k, _)| *g == group && *k == kind)
}

/// Whether RBAC `resource` (plural, any group) is cluster-scoped. `namespaces` counts as
/// namespaced: requests on namespace `X` carry namespace `X`, so a RoleBinding in `X` can
/// grant `update namespaces` on `X` itself.
pub fn is_cluster_scoped_resource(resource: &str) -> bool {
    resource != "namespaces"
        && (VIRTUAL_CLUSTER_RESOURCES.contains(&resource)
            || CLUSTER_SCOPED_TYPES.iter().any(|(_, _, r)| *r == resource))
}

/// What [`place`] did with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A namespaced object without `metadata.namespace`: now in the namespace.
    Placed,
    /// It names that namespace already (or is no Kubernetes object at all).
    Kept,
    /// A cluster-scoped kind: no namespace.
    ClusterScoped,
    /// It names another namespace, which `kubectl apply -n` refuses; left as written.
    Mismatch { namespace: String },
}

/// `kubectl apply -n namespace` on `object`: sets `metadata.namespace` on a namespaced object
/// that has none (absent, null or empty, as kubectl reads it).
pub fn place(object: &mut Value, namespace: &str) -> Placement {
    let kind = str_at(object, &["kind"]).unwrap_or("");
    if kind.is_empty() {
        return Placement::Kept;
    }
    if is_cluster_scoped(str_at(object, &["apiVersion"]).unwrap_or(""), kind) {
        return Placement::ClusterScoped;
    }
    let Value::Object(root) = object else {
        return Placement::Kept;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    let Value::Object(meta) = meta else {
        return Placement::Kept;
    };
    match meta.get("namespace") {
        Some(Value::String(s)) if s == namespace => Placement::Kept,
        Some(Value::String(s)) if !s.is_empty() => Placement::Mismatch {
            namespace: s.clone(),
        },
        None | Some(Value::Null) | Some(Value::String(_)) => {
            meta.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
            Placement::Placed
        }
        // A number or a mapping: the API server rejects the object; leave it to the rules.
        Some(_) => Placement::Kept,
    }
}

/// kubectl's refusal of an object in another namespace, and what to do about it.
pub fn mismatch_message(object: &Value, found: &str, given: &str) -> String {
    format!(
        "{} {:?} has metadata.namespace {found:?} but -n {given} was given: `kubectl apply -n {given}` refuses it (\"the namespace from the provided object {found:?} does not match the namespace {given:?}. You must pass '--namespace={found}' to perform this operation\"); scan without -n, or with -n {found}",
        str_at(object, &["kind"]).unwrap_or("object"),
        str_at(object, &["metadata", "name"]).unwrap_or(""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_is_consistent() {
        let mut kinds = std::collections::BTreeSet::new();
        for (g, k, r) in CLUSTER_SCOPED_TYPES {
            assert!(kinds.insert((*g, *k)), "{g}/{k} twice");
            // The resource is the kind's lower-case plural, as the API names it.
            let lower = k.to_ascii_lowercase();
            assert!(
                r.starts_with(lower.trim_end_matches(['y', 's'])),
                "{k} -> {r}"
            );
            assert_eq!(r.to_ascii_lowercase(), *r);
            assert!(is_cluster_scoped(&format!("{g}/v1"), k) || g.is_empty());
            assert!(is_cluster_scoped_resource(r) || *r == "namespaces");
        }
        // The kinds the issue names.
        for (api, kind) in [
            ("v1", "Namespace"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("v1", "PersistentVolume"),
            ("storage.k8s.io/v1", "StorageClass"),
            ("v1", "Node"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
            ),
            ("scheduling.k8s.io/v1", "PriorityClass"),
            ("apiregistration.k8s.io/v1", "APIService"),
            ("networking.k8s.io/v1", "IngressClass"),
            ("node.k8s.io/v1", "RuntimeClass"),
            ("storage.k8s.io/v1", "CSIDriver"),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingAdmissionPolicy",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingAdmissionPolicyBinding",
            ),
            ("policy/v1beta1", "PodSecurityPolicy"),
        ] {
            assert!(is_cluster_scoped(api, kind), "{api} {kind}");
        }
        for (api, kind) in [
            ("v1", "Pod"),
            ("v1", "ServiceAccount"),
            ("apps/v1", "Deployment"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            // Same kind name, other group: not the built-in type.
            ("example.com/v1", "ClusterRole"),
            ("argoproj.io/v1alpha1", "Application"),
        ] {
            assert!(!is_cluster_scoped(api, kind), "{api} {kind}");
        }
        for r in ["users", "groups", "signers", "nodes", "clusterroles"] {
            assert!(is_cluster_scoped_resource(r), "{r}");
        }
        for r in ["namespaces", "pods", "secrets", "roles"] {
            assert!(!is_cluster_scoped_resource(r), "{r}");
        }
    }

    #[test]
    fn placement_follows_kubectl_apply_n() {
        let mut dep =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        assert_eq!(place(&mut dep, "argocd"), Placement::Placed);
        assert_eq!(dep["metadata"]["namespace"], "argocd");
        assert_eq!(place(&mut dep, "argocd"), Placement::Kept);
        let mut other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}});
        assert_eq!(
            place(&mut other, "argocd"),
            Placement::Mismatch {
                namespace: "x".into()
            }
        );
        assert_eq!(other["metadata"]["namespace"], "x");
        let mut empty = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ""}});
        assert_eq!(place(&mut empty, "n"), Placement::Placed);
        assert_eq!(empty["metadata"]["namespace"], "n");
        let mut no_meta = json!({"apiVersion": "v1", "kind": "Pod"});
        assert_eq!(place(&mut no_meta, "n"), Placement::Placed);
        assert_eq!(no_meta["metadata"]["namespace"], "n");
        let mut crb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"}});
        assert_eq!(place(&mut crb, "n"), Placement::ClusterScoped);
        assert!(crb["metadata"].get("namespace").is_none());
        let mut not_object = json!({"foo": 1});
        assert_eq!(place(&mut not_object, "n"), Placement::Kept);
        assert!(mismatch_message(&other, "x", "argocd").contains("--namespace=x"));
    }
}
