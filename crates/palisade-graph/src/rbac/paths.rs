//! Escalation paths: which permission (a set of requests any one of which suffices, or
//! several that are all needed) makes each RBAC rule fire, and the detection over every
//! binding of the model.

use super::model::{Rbac, Request, Scope, Subject, SubjectKind};
use crate::catalog::{RULES, ids};
use palisade_core::{RuleMeta, Severity};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `verbs` x `resources` in one API group; any combination is enough.
struct Need {
    verbs: &'static [&'static str],
    group: &'static str,
    /// `resource` or `resource/subresource`.
    resources: &'static [&'static str],
    name: Option<&'static str>,
    namespace: Option<&'static str>,
}

const fn need(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> Need {
    Need {
        verbs,
        group,
        resources,
        name: None,
        namespace: None,
    }
}

enum Check {
    /// Any one need.
    Any(&'static [Need]),
    /// Every group needs one of its members.
    All(&'static [&'static [Need]]),
}

const WRITE: &[&str] = &["create", "update", "patch"];
const UPDATE: &[&str] = &["update", "patch"];
const READ: &[&str] = &["get", "list", "watch"];
const PROXY: &[&str] = &["get", "create", "update", "patch", "delete"];
const RBAC: &str = "rbac.authorization.k8s.io";
const ADM: &str = "admissionregistration.k8s.io";

/// Permission checks for RBAC002..RBAC025, indexed like the catalog (entry i = RULES[i + 1]).
static POWERS: [Check; 24] = [
    // RBAC002 read secrets
    Check::Any(&[need(READ, "", &["secrets"])]),
    // RBAC003 create workloads
    Check::Any(&[
        need(&["create"], "", &["pods"]),
        need(
            WRITE,
            "apps",
            &["deployments", "replicasets", "statefulsets", "daemonsets"],
        ),
        need(WRITE, "batch", &["jobs", "cronjobs"]),
        need(WRITE, "", &["replicationcontrollers", "podtemplates"]),
    ]),
    // RBAC004 modify pods
    Check::Any(&[need(UPDATE, "", &["pods"])]),
    // RBAC005 exec/attach (get: WebSocket before 1.35)
    Check::Any(&[need(&["create", "get"], "", &["pods/exec", "pods/attach"])]),
    // RBAC006 ephemeral containers
    Check::Any(&[need(UPDATE, "", &["pods/ephemeralcontainers"])]),
    // RBAC007 port-forward / proxy
    Check::Any(&[
        need(&["create", "get"], "", &["pods/portforward"]),
        need(PROXY, "", &["pods/proxy", "services/proxy"]),
    ]),
    // RBAC008 escalate
    Check::Any(&[need(&["escalate"], RBAC, &["roles", "clusterroles"])]),
    // RBAC009 bind
    Check::Any(&[need(&["bind"], RBAC, &["roles", "clusterroles"])]),
    // RBAC010 manage RBAC
    Check::Any(&[need(
        WRITE,
        RBAC,
        &[
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ],
    )]),
    // RBAC011 impersonate
    Check::Any(&[
        need(
            &["impersonate"],
            "",
            &["users", "groups", "serviceaccounts"],
        ),
        need(&["impersonate"], "authentication.k8s.io", &["uids"]),
    ]),
    // RBAC012 serviceaccounts/token
    Check::Any(&[need(&["create"], "", &["serviceaccounts/token"])]),
    // RBAC013 write secrets
    Check::Any(&[need(WRITE, "", &["secrets"])]),
    // RBAC014 nodes/proxy
    Check::Any(&[need(&["create", "get"], "", &["nodes/proxy"])]),
    // RBAC015 CSR approval: approval subresource AND approve on the client signer
    Check::All(&[
        &[need(
            UPDATE,
            "certificates.k8s.io",
            &["certificatesigningrequests/approval"],
        )],
        &[
            Need {
                verbs: &["approve"],
                group: "certificates.k8s.io",
                resources: &["signers"],
                name: Some("kubernetes.io/kube-apiserver-client"),
                namespace: None,
            },
            Need {
                verbs: &["approve"],
                group: "certificates.k8s.io",
                resources: &["signers"],
                name: Some("kubernetes.io/*"),
                namespace: None,
            },
        ],
    ]),
    // RBAC016 webhooks
    Check::Any(&[need(
        WRITE,
        ADM,
        &[
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
        ],
    )]),
    // RBAC017 admission policies
    Check::Any(&[need(
        WRITE,
        ADM,
        &[
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ],
    )]),
    // RBAC018 persistent volumes
    Check::Any(&[need(&["create"], "", &["persistentvolumes"])]),
    // RBAC019 nodes
    Check::Any(&[need(UPDATE, "", &["nodes", "nodes/status"])]),
    // RBAC020 pods/status
    Check::Any(&[need(UPDATE, "", &["pods/status"])]),
    // RBAC021 services/status
    Check::Any(&[need(UPDATE, "", &["services/status"])]),
    // RBAC022 namespaces
    Check::Any(&[need(UPDATE, "", &["namespaces"])]),
    // RBAC023 API extensions
    Check::Any(&[
        need(WRITE, "apiregistration.k8s.io", &["apiservices"]),
        need(
            WRITE,
            "apiextensions.k8s.io",
            &["customresourcedefinitions"],
        ),
    ]),
    // RBAC024 aws-auth
    Check::Any(&[Need {
        verbs: UPDATE,
        group: "",
        resources: &["configmaps"],
        name: Some("aws-auth"),
        namespace: Some("kube-system"),
    }]),
    // RBAC025 delete critical resources
    Check::Any(&[
        need(
            &["delete", "deletecollection"],
            "",
            &[
                "pods",
                "secrets",
                "configmaps",
                "services",
                "persistentvolumeclaims",
                "persistentvolumes",
                "namespaces",
                "nodes",
            ],
        ),
        need(
            &["delete", "deletecollection"],
            "apps",
            &["deployments", "statefulsets", "daemonsets"],
        ),
    ]),
];

/// One subject holding one dangerous permission through one binding.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub subject: Subject,
    /// Index into [`Rbac::bindings`].
    pub binding: usize,
    pub role: Option<String>,
    pub scope: Scope,
    /// What the subject can do, e.g. `create pods/exec`.
    pub what: String,
    /// The role rule that grants it, e.g. `ClusterRole/edit rules[2]`.
    pub rule_ref: String,
    /// Workloads running as the subject with its token mounted (`Kind/ns/name`); shared by
    /// every escalation of the subject.
    pub workloads: Arc<[String]>,
}

fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium | Severity::Low => Severity::Low,
        Severity::Info => Severity::Info,
    }
}

/// Severity of a grant: the rule's for a cluster-wide or kube-system grant, one level
/// lower in other namespaces.
fn scaled(meta: &RuleMeta, scope: &Scope) -> Severity {
    if scope.privileged() {
        meta.severity
    } else {
        lower(meta.severity)
    }
}

fn to_request(n: &Need, verb: &str, res: &str) -> Request {
    let (r, sub) = match res.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (res, None),
    };
    let mut req = Request::resource(verb, n.group, r, sub).in_namespace(n.namespace);
    if let Some(name) = n.name {
        req = req.named(name);
    }
    req
}

/// The first request of `needs` the role grants at `scope`, with the granting rule.
fn first_granted(m: &Rbac, role: usize, scope: &Scope, needs: &[Need]) -> Option<(String, String)> {
    for n in needs {
        if let Some(ns) = n.namespace
            && let Scope::Namespace(s) = scope
            && s != ns
        {
            continue;
        }
        for verb in n.verbs {
            for res in n.resources {
                let req = to_request(n, verb, res);
                if let Some(rule) = m.rule_allowing(role, scope, &req) {
                    let origin = m.role(rule.origin).map(|r| r.display()).unwrap_or_default();
                    return Some((req.display(), format!("{origin} rules[{}]", rule.index)));
                }
            }
        }
    }
    None
}

fn check(m: &Rbac, role: usize, scope: &Scope, c: &Check) -> Option<(String, String)> {
    match c {
        Check::Any(needs) => first_granted(m, role, scope, needs),
        Check::All(groups) => {
            let mut what = Vec::new();
            let mut rule_ref = Vec::new();
            for g in *groups {
                let (w, r) = first_granted(m, role, scope, g)?;
                what.push(w);
                rule_ref.push(r);
            }
            Some((what.join(" and "), rule_ref.join(", ")))
        }
    }
}

/// Verbs that, all together on every resource, amount to `*` for takeover purposes (read
/// every secret, create pods as any service account, rewrite any object).
const ALL_CRUD: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// `*` verbs (or every CRUD verb) on `*` resources in the core or `*` group, no resourceNames.
fn wildcard(m: &Rbac, role: usize, scope: &Scope) -> Option<(String, String)> {
    let _ = scope;
    m.rules_of(role)
        .iter()
        .find(|r| {
            (r.verbs.iter().any(|v| v == "*") || ALL_CRUD.iter().all(|v| r.verb_matches(v)))
                && r.resources.iter().any(|x| x == "*")
                && r.api_groups.iter().any(|g| g == "*" || g.is_empty())
                && r.resource_names.is_empty()
        })
        .map(|r| {
            let origin = m.role(r.origin).map(|x| x.display()).unwrap_or_default();
            let what = if r.verbs.iter().any(|v| v == "*") {
                "do anything (`*` verbs on `*` resources)"
            } else {
                "read and write everything (every CRUD verb on `*` resources)"
            };
            (what.to_owned(), format!("{origin} rules[{}]", r.index))
        })
}

/// Subjects Palisade does not report power for: `system:masters` already has everything
/// (RBAC027 reports bindings to it).
fn skip_subject(s: &Subject) -> bool {
    s.kind == SubjectKind::Group && s.name == "system:masters"
}

/// Every dangerous permission every subject holds, binding by binding. Bootstrap bindings
/// (unchanged defaults, or supplied by `--rbac-defaults`) are not reported.
/// With `fold_admin`, a grant that is cluster-admin equivalent is reported once (RBAC001),
/// not once per permission it implies.
pub fn escalations(m: &Rbac, enabled: &dyn Fn(&RuleMeta) -> bool) -> Vec<Escalation> {
    let mut out = Vec::new();
    let admin_meta = &RULES[ids::CLUSTER_ADMIN];
    let fold_admin = enabled(admin_meta);
    // What a role grants at a scope does not depend on the binding: bindings repeating a
    // (role, scope) pair reuse the answer, and a subject's token holders are looked up once.
    let mut powers_of: BTreeMap<(usize, Scope), Vec<Found>> = BTreeMap::new();
    let mut holders_of: BTreeMap<Subject, Arc<[String]>> = BTreeMap::new();
    for (bi, b) in m.bindings.iter().enumerate() {
        if b.bootstrap || b.doc.is_none() {
            continue;
        }
        let Some(role) = m.role_of(b) else {
            continue;
        };
        let scope = b.scope();
        let found = powers_of
            .entry((role, scope.clone()))
            .or_insert_with(|| powers(m, role, &scope, fold_admin, enabled));
        if found.is_empty() {
            continue;
        }
        let role_name = m.role(role).map(|r| r.display());
        let subjects: Vec<(&Subject, Arc<[String]>)> = b
            .subjects
            .iter()
            .filter(|s| !skip_subject(s))
            .map(|s| {
                let held = holders_of.entry(s.clone()).or_insert_with(|| {
                    crate::objects::distinct(
                        m.token_holders(s).iter().map(|w| (w.display(), &*w.file)),
                    )
                    .into()
                });
                (s, held.clone())
            })
            .collect();
        for (meta, what, rule_ref) in found.iter() {
            for (s, workloads) in &subjects {
                out.push(Escalation {
                    rule: meta,
                    severity: scaled(meta, &scope),
                    subject: (*s).clone(),
                    binding: bi,
                    role: role_name.clone(),
                    scope: scope.clone(),
                    what: what.clone(),
                    rule_ref: rule_ref.clone(),
                    workloads: workloads.clone(),
                });
            }
        }
    }
    out
}

/// A dangerous permission a role grants: the rule, what can be done, the granting rule.
type Found = (&'static RuleMeta, String, String);

/// Every enabled power `role` grants at `scope`; with `fold_admin`, a cluster-admin
/// equivalent grant is reported once (RBAC001), not once per permission it implies.
fn powers(
    m: &Rbac,
    role: usize,
    scope: &Scope,
    fold_admin: bool,
    enabled: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Found> {
    let mut found = Vec::new();
    let admin = wildcard(m, role, scope);
    if let Some((w, r)) = &admin
        && fold_admin
    {
        found.push((&RULES[ids::CLUSTER_ADMIN], w.clone(), r.clone()));
    }
    if admin.is_none() || !fold_admin {
        for (i, c) in POWERS.iter().enumerate() {
            let Some(meta) = RULES.get(i + 1) else {
                continue;
            };
            if !enabled(meta) {
                continue;
            }
            if let Some((w, r)) = check(m, role, scope, c) {
                found.push((meta, w, r));
            }
        }
    }
    found
}

/// What rule `rule_id` (an `rbac` power rule, RBAC001..RBAC025) finds in role `role` granted
/// at `scope`, if anything: `(what, granting rule)`. For checking a role on its own.
pub fn role_power(m: &Rbac, role: usize, scope: &Scope, rule_id: &str) -> Option<(String, String)> {
    let i = RULES.iter().position(|r| r.id == rule_id)?;
    if i == ids::CLUSTER_ADMIN {
        return wildcard(m, role, scope);
    }
    check(m, role, scope, POWERS.get(i.checked_sub(1)?)?)
}
