//! Cross-object analysis: RBAC and NetworkPolicy over the whole set of scanned objects.
//!
//! Unlike the per-object rules in `palisade-rules`, these rules need every object at once (who
//! is bound to what, which policies select which pods). `palisade-rules` merges [`rules`] into
//! the one catalog and calls [`analyze`] once per scan with all loaded documents.
//!
//! - [`rbac`]: the RBAC model with Kubernetes' exact matching semantics, `who-can` and
//!   `can --list` queries, and the `rbac` family (escalation paths R1..R29 of the research
//!   catalog, each finding naming subject, binding, role, scope and the workloads holding it).
//! - [`netpol`]: NetworkPolicy isolation per namespace and workload, reachability, and the
//!   `netpol` family (isolation findings and lints).

mod catalog;
pub mod netpol;
mod objects;
mod packed;
pub mod rbac;
pub mod scope;
mod slim;

pub use objects::{ContainerPort, Labels, Namespace, Selector, Workload};
pub use packed::{Docs, Packed};
pub use slim::slim;

use palisade_core::{Document, FieldPath, Finding, InputError, ObjectRef, RuleMeta, Severity};

/// Errors from queries (bad arguments); analysis itself never fails on odd input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error(
        "invalid subject {value:?}: use User:NAME, Group:NAME, ServiceAccount:NAMESPACE:NAME or system:serviceaccount:NAMESPACE:NAME (a user name with a colon: User:oidc:alice)"
    )]
    BadSubject { value: String },
    #[error(
        "invalid resource {value:?}: use RESOURCE, RESOURCE/SUBRESOURCE, RESOURCE.GROUP[/SUBRESOURCE] or a /non-resource/url"
    )]
    BadResource { value: String },
    #[error("invalid workload {value:?}: use NAMESPACE/KIND/NAME, e.g. default/Deployment/web")]
    BadWorkload { value: String },
    #[error("workload {value:?} is not in the scanned objects (known: {known})")]
    WorkloadNotFound { value: String, known: String },
    #[error("invalid port {value:?}: a number 1-65535 or a port name")]
    BadPort { value: String },
    #[error("invalid protocol {value:?}: TCP, UDP or SCTP")]
    BadProtocol { value: String },
}

/// The cross-object rules (families `rbac` and `netpol`), in ID order. IDs are stable.
pub fn rules() -> &'static [RuleMeta] {
    &catalog::RULES
}

/// Whether [`analyze`] reads this object at all: RBAC objects, ServiceAccounts, Namespaces,
/// NetworkPolicies and Pods or workloads with a pod template. A streaming scan keeps only
/// these in memory for the cross-object pass (CRDs and ConfigMaps are most of a real tree).
pub fn relevant(doc: &Document) -> bool {
    matches!(
        objects::kind(&doc.value),
        "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
            | "ServiceAccount"
            | "Namespace"
            | "NetworkPolicy"
            | "Pod"
            | "PodTemplate"
            | "ReplicationController"
            | "Deployment"
            | "ReplicaSet"
            | "DaemonSet"
            | "StatefulSet"
            | "Job"
            | "CronJob"
    )
}

/// Options of the cross-object analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub rbac: rbac::RbacOptions,
}

/// Runs every cross-object rule for which `enabled` is true over the whole document set.
pub fn analyze(docs: &(impl Docs + ?Sized), enabled: &dyn Fn(&RuleMeta) -> bool) -> Vec<Finding> {
    analyze_with(docs, enabled, &Options::default())
}

/// [`analyze`] with options (e.g. the RBAC bootstrap defaults).
pub fn analyze_with(
    docs: &(impl Docs + ?Sized),
    enabled: &dyn Fn(&RuleMeta) -> bool,
    opts: &Options,
) -> Vec<Finding> {
    analysis(docs, enabled, opts).findings
}

/// What the cross-object pass reports: findings, and notes about the input (such as
/// [`rbac::namespace_notes`]'s hint to scan with `-n`).
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub notes: Vec<InputError>,
}

/// [`analyze_with`], with the notes. NetworkPolicy isolation is judged only in namespaces the
/// set has a NetworkPolicy or Namespace object for ([`netpol::NetpolOptions`]'s default; a
/// note counts the rest): [`analysis_with_netpol`] chooses.
pub fn analysis(
    docs: &(impl Docs + ?Sized),
    enabled: &dyn Fn(&RuleMeta) -> bool,
    opts: &Options,
) -> Analysis {
    analysis_with_netpol(docs, enabled, opts, netpol::NetpolOptions::default())
}

/// [`analysis`] with the NetworkPolicy options (`assume_complete`: judge every namespace, as
/// `--assume-complete` asks). Kept apart from [`Options`] so that callers building `Options`
/// by its fields keep compiling.
pub fn analysis_with_netpol(
    docs: &(impl Docs + ?Sized),
    enabled: &dyn Fn(&RuleMeta) -> bool,
    opts: &Options,
    netpol_opts: netpol::NetpolOptions,
) -> Analysis {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let any = |family: &str| {
        catalog::RULES
            .iter()
            .any(|r| r.family == family && enabled(r))
    };
    if any("rbac") {
        let m = rbac::Rbac::build(docs, opts.rbac);
        out.extend(rbac::findings(docs, &m, enabled));
        notes.extend(rbac::namespace_notes(docs, &m));
    }
    if any("netpol") {
        let m = netpol::Netpol::build(docs);
        let (found, note) = netpol::findings_with(docs, &m, enabled, netpol_opts);
        out.extend(found);
        notes.extend(note);
    }
    Analysis {
        findings: out,
        notes,
    }
}

/// A finding on `doc` at `path` (its line, or its nearest present ancestor's).
pub(crate) fn finding(
    doc: &Document,
    rule: &RuleMeta,
    severity: Severity,
    message: String,
    path: &FieldPath,
) -> Finding {
    let span = doc.locate(path);
    Finding {
        rule: rule.id.to_owned(),
        family: rule.family.to_owned(),
        severity,
        message,
        file: doc.file.to_string(),
        line: span.line,
        column: span.column,
        document: doc.index,
        object: ObjectRef::of(&doc.value),
        field: path.to_string(),
        fields: Vec::new(),
        paths: Vec::new(),
        origin: None,
        action: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// `n` unrelated apps in one namespace: account, Deployment, ClusterRole, two bindings,
    /// a NetworkPolicy each, plus one default-deny.
    fn apps(n: usize) -> Vec<Document> {
        let mut objects: Vec<Value> = vec![json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})];
        for i in 0..n {
            let app = format!("app-{i}");
            let meta = |name: &str| json!({"name": name, "namespace": "shop"});
            objects.push(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&app)}),
            );
            objects.push(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&app),
                "spec": {"selector": {"matchLabels": {"app": app}}, "template": {
                    "metadata": {"labels": {"app": app, "tier": "web"}},
                    "spec": {"serviceAccountName": app, "containers": [{"name": "c", "image": "i",
                        "ports": [{"name": "http", "containerPort": 8080}]}]}}}}),
            );
            objects.push(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": app}, "rules": [
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]}]}),
            );
            for kind in ["ClusterRoleBinding", "RoleBinding"] {
                objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                    "metadata": meta(&app),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": app},
                    "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": "shop"}]}));
            }
            objects.push(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": meta(&app),
                "spec": {"podSelector": {"matchLabels": {"app": app}},
                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": app}}}],
                        "ports": [{"port": "http"}]}]}}),
            );
        }
        objects
            .into_iter()
            .enumerate()
            .map(|(index, value)| Document {
                file: "apps.yaml".into(),
                index,
                item: None,
                value,
                spans: palisade_core::SpanTree::default(),
            })
            .collect()
    }

    /// (checks, findings) of the whole analysis with every rule on.
    fn checks(n: usize) -> (u64, usize) {
        let docs = apps(n);
        objects::CHECKS.with(|c| c.set(0));
        let found = analyze(&docs, &|_| true).len();
        (objects::CHECKS.with(std::cell::Cell::get), found)
    }

    #[test]
    fn analysis_work_grows_linearly_with_the_input() {
        let (small, small_found) = checks(40);
        let (large, large_found) = checks(160);
        // Six findings per app and one for the namespace at both sizes: the same output
        // per app, so the work should scale like the input (4x); a pass over every workload
        // per grant, or over every policy per workload, makes it ~16x.
        assert_eq!((small_found, large_found), (6 * 40 + 1, 6 * 160 + 1));
        assert!(
            large <= small * 5,
            "4x the input took {large} checks against {small} ({:.1}x)",
            large as f64 / small as f64
        );
    }
}
