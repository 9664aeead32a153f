//! The RBAC model over a set of objects, and Kubernetes' authorization semantics on it
//! (`pkg/apis/rbac/v1/evaluation_helpers.go` and the RBAC authorizer's rule visitor):
//! verbs, API groups, resources and subresources (`*`, `*/sub`; `pods/*` is a literal and
//! matches nothing), `resourceNames`, `nonResourceURLs` (exact, `*`, trailing-`*` prefix),
//! binding scope (a RoleBinding grants in its namespace only, even with a ClusterRole, and
//! never on cluster-scoped resources or non-resource URLs), aggregated ClusterRoles
//! (label selectors, transitive), and `system:masters`, which bypasses authorization.

use crate::Docs;
use crate::objects::{self, Labels, Selector, Workload};
use palisade_core::FieldPath;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One entry of a role's `rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
    /// The role whose `rules[index]` this is (differs from the holder for aggregated roles).
    pub origin: usize,
    pub index: usize,
}

impl PolicyRule {
    fn parse(v: &Value, origin: usize, index: usize) -> PolicyRule {
        PolicyRule {
            verbs: objects::string_list(v.get("verbs")),
            api_groups: objects::string_list(v.get("apiGroups")),
            resources: objects::string_list(v.get("resources")),
            resource_names: objects::string_list(v.get("resourceNames")),
            non_resource_urls: objects::string_list(v.get("nonResourceURLs")),
            origin,
            index,
        }
    }

    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    pub fn group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    /// `ResourceMatches`: `*`, exact `resource[/sub]`, or `*/sub`. `pods/*` is not a pattern.
    pub fn resource_matches(&self, resource: &str, sub: Option<&str>) -> bool {
        self.resources.iter().any(|r| {
            if r == "*" {
                return true;
            }
            match sub {
                None => r == resource,
                Some(s) => {
                    r.strip_prefix(resource)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .is_some_and(|rest| rest == s)
                        || r.strip_prefix("*/").is_some_and(|rest| rest == s)
                }
            }
        })
    }

    /// `ResourceNameMatches`: no names = all; a request without a name (create, list,
    /// deletecollection) is never granted by a rule that lists names.
    pub fn name_matches(&self, name: Option<&str>) -> bool {
        self.resource_names.is_empty()
            || name.is_some_and(|n| self.resource_names.iter().any(|r| r == n))
    }

    pub fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    pub fn allows(&self, req: &Request) -> bool {
        objects::count_check();
        match &req.target {
            Target::Resource {
                group,
                resource,
                sub,
                name,
            } => {
                self.verb_matches(&req.verb)
                    && self.group_matches(group)
                    && self.resource_matches(resource, sub.as_deref())
                    && self.name_matches(name.as_deref())
            }
            Target::NonResource { path } => self.verb_matches(&req.verb) && self.url_matches(path),
        }
    }

    /// `verbs=[..] apiGroups=[..] resources=[..]` for messages and `can --list`.
    pub fn display(&self) -> String {
        let list = |xs: &[String]| {
            xs.iter()
                .map(|x| if x.is_empty() { "\"\"" } else { x.as_str() })
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut s = format!("verbs=[{}]", list(&self.verbs));
        if !self.non_resource_urls.is_empty() {
            s.push_str(&format!(
                " nonResourceURLs=[{}]",
                list(&self.non_resource_urls)
            ));
        }
        if !self.resources.is_empty() || self.non_resource_urls.is_empty() {
            s.push_str(&format!(
                " apiGroups=[{}] resources=[{}]",
                list(&self.api_groups),
                list(&self.resources)
            ));
        }
        if !self.resource_names.is_empty() {
            s.push_str(&format!(" resourceNames=[{}]", list(&self.resource_names)));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// Set for a Role.
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    /// The object's own `rules`.
    pub rules: Vec<PolicyRule>,
    pub aggregation: Option<Vec<Selector>>,
    /// Index into the analysed documents; `None` for built-in roles Palisade supplies.
    pub doc: Option<usize>,
    /// The API server reconciles built-in roles at start-up (adding back missing rules)
    /// unless the role is annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
    pub autoupdate: bool,
}

/// `Kind/ns/name` for the namespaced kind, `ClusterKind/name` for the cluster one.
fn qualified(namespaced: &str, cluster: &str, ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{namespaced}/{ns}/{name}"),
        None => format!("{cluster}/{name}"),
    }
}

impl Role {
    pub fn display(&self) -> String {
        qualified("Role", "ClusterRole", self.namespace.as_deref(), &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// A ServiceAccount's namespace (`null` for users and groups).
    pub namespace: Option<String>,
}

impl Subject {
    pub fn user(name: &str) -> Subject {
        Subject {
            kind: SubjectKind::User,
            name: name.to_owned(),
            namespace: None,
        }
    }

    pub fn group(name: &str) -> Subject {
        Subject {
            kind: SubjectKind::Group,
            name: name.to_owned(),
            namespace: None,
        }
    }

    pub fn service_account(namespace: &str, name: &str) -> Subject {
        Subject {
            kind: SubjectKind::ServiceAccount,
            name: name.to_owned(),
            namespace: Some(namespace.to_owned()),
        }
    }

    /// The identities a request by this subject carries: itself, and for a service
    /// account the groups the token authenticator adds (`system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>`, `system:authenticated`); users get
    /// `system:authenticated` (their other groups are unknown offline).
    pub fn identities(&self) -> Vec<Subject> {
        let mut out = vec![self.clone()];
        match (self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => {
                out.push(Subject::group("system:serviceaccounts"));
                out.push(Subject::group(&format!("system:serviceaccounts:{ns}")));
                out.push(Subject::group("system:authenticated"));
            }
            (SubjectKind::User, _) if self.name != "system:anonymous" => {
                out.push(Subject::group("system:authenticated"));
            }
            (SubjectKind::User, _) => out.push(Subject::group("system:unauthenticated")),
            _ => {}
        }
        out
    }

    /// Parses `User:jane`, `Group:dev`, `ServiceAccount:ns:name` (`sa:` and `serviceaccount:`
    /// accepted), or a Kubernetes username `system:serviceaccount:ns:name`; a bare name is a user.
    pub fn parse(s: &str) -> Result<Subject, crate::GraphError> {
        let bad = || crate::GraphError::BadSubject {
            value: s.to_owned(),
        };
        if let Some(rest) = s.strip_prefix("system:serviceaccount:") {
            let (ns, name) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(Subject::service_account(ns, name));
        }
        let Some((kind, rest)) = s.split_once(':') else {
            return if s.is_empty() {
                Err(bad())
            } else {
                Ok(Subject::user(s))
            };
        };
        match kind.to_ascii_lowercase().as_str() {
            "user" | "group" if rest.is_empty() => Err(bad()),
            "user" => Ok(Subject::user(rest)),
            "group" => Ok(Subject::group(rest)),
            "serviceaccount" | "sa" => {
                let (ns, name) = rest.split_once(['/', ':']).ok_or_else(bad)?;
                if ns.is_empty() || name.is_empty() {
                    return Err(bad());
                }
                Ok(Subject::service_account(ns, name))
            }
            // `system:masters` and other `system:` names without a kind prefix are users.
            _ if s.starts_with("system:") => Ok(Subject::user(s)),
            // `Foo:bar` is a mistyped kind far more often than a user name with a colon;
            // such a user is written `User:oidc:alice`.
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    /// `ClusterRoleBinding` when `namespace` is `None`.
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    /// Index into the analysed documents; `None` for bootstrap bindings Palisade supplies.
    pub doc: Option<usize>,
    /// The file it was read from (`None` for bootstrap bindings).
    pub file: Option<Arc<str>>,
    /// One of the bindings every cluster is created with (unchanged).
    pub bootstrap: bool,
    /// The ServiceAccount subjects whose namespace the manifest writes (in the subject, or
    /// as the RoleBinding's own `metadata.namespace`); the others follow `kubectl apply -n`.
    pub explicit_accounts: Vec<Subject>,
}

impl Binding {
    pub fn display(&self) -> String {
        qualified(
            "RoleBinding",
            "ClusterRoleBinding",
            self.namespace.as_deref(),
            &self.name,
        )
    }

    pub fn scope(&self) -> Scope {
        match &self.namespace {
            Some(ns) => Scope::Namespace(ns.clone()),
            None => Scope::Cluster,
        }
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Cluster,
    Namespace(String),
}

impl Scope {
    /// Cluster-wide or `kube-system`: where a grant gives control over the cluster.
    pub fn privileged(&self) -> bool {
        match self {
            Scope::Cluster => true,
            Scope::Namespace(ns) => ns == "kube-system",
        }
    }
}

impl fmt::Display for Scope {
    /// `cluster` or `namespace:<ns>` (a namespace may be called `cluster`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster"),
            Scope::Namespace(ns) => write!(f, "namespace:{ns}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource {
        group: String,
        resource: String,
        sub: Option<String>,
        name: Option<String>,
    },
    NonResource {
        path: String,
    },
}

/// An authorization question: verb on a resource (or URL), optionally in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub verb: String,
    pub target: Target,
    /// `None`: in any namespace (or cluster-wide).
    pub namespace: Option<String>,
}

impl Request {
    pub fn resource(verb: &str, group: &str, resource: &str, sub: Option<&str>) -> Request {
        Request {
            verb: verb.to_owned(),
            target: Target::Resource {
                group: group.to_owned(),
                resource: resource.to_owned(),
                sub: sub.map(str::to_owned),
                name: None,
            },
            namespace: None,
        }
    }

    pub fn named(mut self, n: &str) -> Request {
        if let Target::Resource { name, .. } = &mut self.target {
            *name = Some(n.to_owned());
        }
        self
    }

    pub fn in_namespace(mut self, ns: Option<&str>) -> Request {
        self.namespace = ns.map(str::to_owned);
        self
    }

    /// Parses the CLI form `RESOURCE[/SUB]` (`RESOURCE.GROUP[/SUB]` for other groups, e.g.
    /// `deployments.apps`), or a non-resource URL starting with `/`. Well-known resources
    /// get their group automatically (`deployments` -> `apps`).
    pub fn parse(verb: &str, what: &str) -> Result<Request, crate::GraphError> {
        if verb.is_empty() || what.is_empty() {
            return Err(crate::GraphError::BadResource {
                value: what.to_owned(),
            });
        }
        if what.starts_with('/') {
            return Ok(Request {
                verb: verb.to_owned(),
                target: Target::NonResource {
                    path: what.to_owned(),
                },
                namespace: None,
            });
        }
        let (res, sub) = match what.split_once('/') {
            Some((r, s)) if !s.is_empty() && !s.contains('/') => (r, Some(s)),
            Some(_) => {
                return Err(crate::GraphError::BadResource {
                    value: what.to_owned(),
                });
            }
            None => (what, None),
        };
        let (res, group) = match res.split_once('.') {
            Some((r, g)) => (r.to_ascii_lowercase(), g.to_owned()),
            None => {
                // `pod` and `Pod` mean `pods`; a word that is no resource in either form is
                // kept as written (a typo pluralised, `secretzs`, would hide what was typed).
                let lower = res.to_ascii_lowercase();
                let p = plural(&lower);
                let r = if known_resource(&lower) || !known_resource(&p) {
                    lower
                } else {
                    p
                };
                let g = default_group(&r).to_owned();
                (r, g)
            }
        };
        Ok(Request::resource(verb, &group, &res, sub))
    }

    /// What in the request no cluster serves as written, each with the closest known name:
    /// an unknown verb, or a core/well-known resource name that does not exist (resources
    /// with an explicit group are CRDs and aggregated APIs, not checked).
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let verbs = match self.target {
            Target::NonResource { .. } => NON_RESOURCE_VERBS,
            Target::Resource { .. } => VERBS,
        };
        if !verbs.contains(&self.verb.as_str()) {
            let hint = closest(&self.verb, verbs.iter().copied())
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            out.push(format!(
                "verb {:?} is not one the API server checks{hint}; no rule grants it unless it names it or \"*\"",
                self.verb
            ));
        }
        if let Target::Resource {
            group, resource, ..
        } = &self.target
            && group.is_empty()
            && !known_resource(resource)
        {
            let known = CORE.iter().chain(GROUPED.iter().map(|(r, _)| r)).copied();
            let hint = closest(resource, known)
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            out.push(format!(
                "resource {resource:?} is not a built-in resource{hint}; a custom resource needs its group: RESOURCE.GROUP"
            ));
        }
        out
    }

    fn cluster_scoped(&self) -> bool {
        match &self.target {
            Target::NonResource { .. } => true,
            Target::Resource { resource, .. } => {
                // `bind`/`escalate` on clusterroles are checked in the namespace of the
                // binding or role being written (escalation_check.go), so a Role can grant them.
                !(self.verb == "bind" && resource == "clusterroles")
                    && crate::scope::is_cluster_scoped_resource(resource)
            }
        }
    }

    /// `get pods`, `create pods/exec`, `get secrets/x`, `get /healthz`.
    pub fn display(&self) -> String {
        match &self.target {
            Target::NonResource { path } => format!("{} {path}", self.verb),
            Target::Resource {
                group,
                resource,
                sub,
                name,
            } => {
                let mut s = format!("{} {resource}", self.verb);
                if !group.is_empty() {
                    s.push('.');
                    s.push_str(group);
                }
                if let Some(sub) = sub {
                    s.push('/');
                    s.push_str(sub);
                }
                if let Some(n) = name {
                    s.push_str(&format!(" named {n}"));
                }
                s
            }
        }
    }
}

/// The simple plural a user may type as singular (`pod` -> `pods`, `policy` -> `policies`).
fn plural(r: &str) -> String {
    if r.ends_with('s') || r == "*" {
        r.to_owned()
    } else if let Some(stem) = r.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{r}s")
    }
}

/// API group of well-known resources, so `who-can create deployments` needs no `.apps`.
const GROUPED: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", RBAC_GROUP),
    ("rolebindings", RBAC_GROUP),
    ("clusterroles", RBAC_GROUP),
    ("clusterrolebindings", RBAC_GROUP),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("ingressclasses", "networking.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("signers", "certificates.k8s.io"),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
    ),
    ("mutatingadmissionpolicies", "admissionregistration.k8s.io"),
    (
        "mutatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
    ),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("apiservices", "apiregistration.k8s.io"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("podsecuritypolicies", "policy"),
    ("storageclasses", "storage.k8s.io"),
    ("volumeattachments", "storage.k8s.io"),
    ("csidrivers", "storage.k8s.io"),
    ("csinodes", "storage.k8s.io"),
    ("csistoragecapacities", "storage.k8s.io"),
    ("priorityclasses", "scheduling.k8s.io"),
    ("leases", "coordination.k8s.io"),
    ("endpointslices", "discovery.k8s.io"),
    ("runtimeclasses", "node.k8s.io"),
    ("flowschemas", "flowcontrol.apiserver.k8s.io"),
    (
        "prioritylevelconfigurations",
        "flowcontrol.apiserver.k8s.io",
    ),
    ("tokenreviews", "authentication.k8s.io"),
    ("uids", "authentication.k8s.io"),
    ("userextras", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("selfsubjectaccessreviews", "authorization.k8s.io"),
    ("selfsubjectrulesreviews", "authorization.k8s.io"),
    ("localsubjectaccessreviews", "authorization.k8s.io"),
];

/// Resources of the core group, and the impersonation targets.
const CORE: &[&str] = &[
    "pods",
    "services",
    "endpoints",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "namespaces",
    "nodes",
    "persistentvolumes",
    "persistentvolumeclaims",
    "events",
    "limitranges",
    "resourcequotas",
    "replicationcontrollers",
    "podtemplates",
    "componentstatuses",
    "bindings",
    "users",
    "groups",
];

/// Verbs the API server and its authorizers check (resource requests, then non-resource ones).
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
    "approve",
    "sign",
    "attest",
    "proxy",
    "*",
];
const NON_RESOURCE_VERBS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "*",
];

fn default_group(resource: &str) -> &'static str {
    GROUPED
        .iter()
        .find(|(r, _)| *r == resource)
        .map_or("", |(_, g)| g)
}

/// A resource name (without group) every cluster serves.
fn known_resource(r: &str) -> bool {
    r == "*" || CORE.contains(&r) || GROUPED.iter().any(|(k, _)| *k == r)
}

/// The known name closest to `word` (a typo's likely meaning), if one is close.
fn closest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A ServiceAccount object.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub automount: Option<bool>,
    pub annotations: Labels,
    pub doc: usize,
}

/// Options for building the model.
#[derive(Debug, Clone, Copy, Default)]
pub struct RbacOptions {
    /// Add the roles and bindings every cluster is created with (`--rbac-defaults`).
    pub defaults: bool,
}

/// The RBAC objects of a set of documents, with aggregation resolved.
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    pub roles: Vec<Role>,
    /// Effective rules per role (after aggregation), parallel to `roles`.
    pub effective: Vec<Vec<PolicyRule>>,
    pub bindings: Vec<Binding>,
    pub service_accounts: Vec<ServiceAccount>,
    pub workloads: Vec<Workload>,
    role_index: BTreeMap<(RoleKind, Option<String>, String), usize>,
    /// namespace -> name -> the last ServiceAccount of that identity (token checks ask for
    /// every workload of every grant; nested so a lookup borrows instead of allocating).
    sa_index: BTreeMap<String, BTreeMap<String, usize>>,
    /// Workloads whose pods get their token, indexed so that finding a subject's holders
    /// costs its answer, not a pass over every workload (that pass per grant made the
    /// analysis quadratic): by namespace and account, by namespace, and all of them.
    holders: Holders,
}

#[derive(Debug, Clone, Default)]
struct Holders {
    by_account: BTreeMap<String, BTreeMap<String, Vec<usize>>>,
    by_namespace: BTreeMap<String, Vec<usize>>,
    all: Vec<usize>,
}

/// One way a subject is granted a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    #[serde(flatten)]
    pub subject: Subject,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    /// `ClusterRoleBinding/<name>` or `RoleBinding/<ns>/<name>`.
    pub binding: String,
    /// `ClusterRole/<name>` or `Role/<ns>/<name>`.
    pub role: String,
    /// `cluster` or `namespace:<ns>`.
    pub scope: Scope,
    /// The role whose rule grants it (an aggregated source role) and the rule, e.g.
    /// `ClusterRole/view rules[3]`.
    pub rule: String,
}

impl Rbac {
    pub fn build(docs: &(impl Docs + ?Sized), opts: RbacOptions) -> Rbac {
        let mut m = Rbac::default();
        for i in 0..docs.count() {
            let Some(d) = docs.doc_value(i) else {
                continue;
            };
            m.add(&d.value, Some(i));
            if let Some(b) = m.bindings.last_mut()
                && b.doc == Some(i)
            {
                b.file = Some(d.file.clone());
            }
            if let Some(w) = objects::workload(i, &d) {
                m.workloads.push(w);
            }
        }
        super::defaults::add(&mut m, opts.defaults);
        m.resolve_aggregation();
        for (i, sa) in m.service_accounts.iter().enumerate() {
            m.sa_index
                .entry(sa.namespace.clone())
                .or_default()
                .insert(sa.name.clone(), i);
        }
        let mut holders = Holders::default();
        for (i, w) in m.workloads.iter().enumerate() {
            if !m.token_mounted(w) {
                continue;
            }
            holders
                .by_account
                .entry(w.namespace.clone())
                .or_default()
                .entry(w.service_account.clone())
                .or_default()
                .push(i);
            holders
                .by_namespace
                .entry(w.namespace.clone())
                .or_default()
                .push(i);
            holders.all.push(i);
        }
        m.holders = holders;
        m
    }

    /// Adds one object (anything not RBAC-related is ignored except workloads, which the
    /// caller adds with [`objects::workload`]).
    pub(crate) fn add(&mut self, v: &Value, doc: Option<usize>) {
        let api = objects::str_at(v, &["apiVersion"]).unwrap_or("");
        let group = objects::group_of(api);
        let kind = objects::kind(v);
        let meta = v.get("metadata");
        let name = objects::name(v).to_owned();
        match (group, kind) {
            (RBAC_GROUP, "Role" | "ClusterRole") => {
                let rk = if kind == "Role" {
                    RoleKind::Role
                } else {
                    RoleKind::ClusterRole
                };
                let idx = self.roles.len();
                let rules = match v.get("rules") {
                    Some(Value::Array(rs)) => rs
                        .iter()
                        .enumerate()
                        .map(|(j, r)| PolicyRule::parse(r, idx, j))
                        .collect(),
                    _ => Vec::new(),
                };
                let aggregation = v
                    .get("aggregationRule")
                    .filter(|_| rk == RoleKind::ClusterRole)
                    .map(|a| match a.get("clusterRoleSelectors") {
                        Some(Value::Array(sels)) => {
                            sels.iter().map(|s| Selector::parse(Some(s))).collect()
                        }
                        _ => Vec::new(),
                    });
                let namespace = (rk == RoleKind::Role).then(|| objects::namespace(v).to_owned());
                let autoupdate = objects::str_at(
                    v,
                    &[
                        "metadata",
                        "annotations",
                        "rbac.authorization.kubernetes.io/autoupdate",
                    ],
                ) != Some("false");
                let key = (rk, namespace.clone(), name.clone());
                let mut role = Role {
                    kind: rk,
                    namespace,
                    name,
                    labels: objects::string_map(meta.and_then(|m| m.get("labels"))),
                    rules,
                    aggregation,
                    doc,
                    autoupdate,
                };
                // A later object with the same identity replaces the earlier (kubectl apply).
                if let Some(&old) = self.role_index.get(&key) {
                    if let Some(slot) = self.roles.get_mut(old) {
                        for r in &mut role.rules {
                            r.origin = old;
                        }
                        *slot = role;
                    }
                    return;
                }
                self.role_index.insert(key, idx);
                self.roles.push(role);
            }
            (RBAC_GROUP, "RoleBinding" | "ClusterRoleBinding") => {
                let role_ref = v.get("roleRef");
                let role_kind = match objects::str_at(v, &["roleRef", "kind"]) {
                    Some("Role") => RoleKind::Role,
                    _ => RoleKind::ClusterRole,
                };
                let role_name = role_ref
                    .and_then(|r| r.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let namespace = (kind == "RoleBinding").then(|| objects::namespace(v).to_owned());
                let subjects = match v.get("subjects") {
                    Some(Value::Array(ss)) => ss
                        .iter()
                        .filter_map(|s| parse_subject(s, namespace.as_deref()))
                        .collect(),
                    _ => Vec::new(),
                };
                let bootstrap = namespace.is_none()
                    && super::defaults::is_bootstrap_binding(&name, &role_name, &subjects);
                let binding_ns_given = namespace.is_none() || objects::namespace_given(v);
                let explicit_accounts = match v.get("subjects") {
                    Some(Value::Array(ss)) => ss
                        .iter()
                        .filter(|s| {
                            binding_ns_given
                                || s.get("namespace")
                                    .and_then(Value::as_str)
                                    .is_some_and(|n| !n.is_empty())
                        })
                        .filter_map(|s| parse_subject(s, namespace.as_deref()))
                        .filter(|s| s.kind == SubjectKind::ServiceAccount)
                        .collect(),
                    _ => Vec::new(),
                };
                self.bindings.push(Binding {
                    namespace,
                    name,
                    role_kind,
                    role_name,
                    subjects,
                    doc,
                    file: None,
                    bootstrap,
                    explicit_accounts,
                });
            }
            ("", "ServiceAccount") => {
                if let Some(d) = doc {
                    self.service_accounts.push(ServiceAccount {
                        namespace: objects::namespace(v).to_owned(),
                        name,
                        automount: v
                            .get("automountServiceAccountToken")
                            .and_then(Value::as_bool),
                        annotations: objects::string_map(meta.and_then(|m| m.get("annotations"))),
                        doc: d,
                    });
                }
            }
            _ => {}
        }
    }

    pub(crate) fn find_role(
        &self,
        kind: RoleKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<usize> {
        self.role_index
            .get(&(kind, namespace.map(str::to_owned), name.to_owned()))
            .copied()
    }

    /// Appends the rules of a built-in role's definition to the scanned role of that name
    /// (what reconciliation does), numbered after its own rules.
    pub(crate) fn reconcile(&mut self, role: usize, builtin: &Value) {
        let Some(r) = self.roles.get_mut(role) else {
            return;
        };
        if !r.autoupdate {
            return;
        }
        if let Some(Value::Array(rules)) = builtin.get("rules") {
            let start = r.rules.len();
            for (j, rule) in rules.iter().enumerate() {
                let p = PolicyRule::parse(rule, role, start + j);
                if !r.rules.iter().any(|x| {
                    x.verbs == p.verbs
                        && x.api_groups == p.api_groups
                        && x.resources == p.resources
                        && x.non_resource_urls == p.non_resource_urls
                        && x.resource_names == p.resource_names
                }) {
                    r.rules.push(p);
                }
            }
        }
        if r.aggregation.is_none()
            && let Some(a) = builtin
                .get("aggregationRule")
                .and_then(|a| a.get("clusterRoleSelectors"))
            && let Value::Array(sels) = a
        {
            r.aggregation = Some(sels.iter().map(|s| Selector::parse(Some(s))).collect());
        }
    }

    /// Fills `effective`: own rules, plus for aggregated ClusterRoles the rules of every
    /// ClusterRole matching a selector, transitively (the controller re-runs until stable).
    fn resolve_aggregation(&mut self) {
        self.effective = self.roles.iter().map(|r| r.rules.clone()).collect();
        // Each round adds at least one rule set or stops; bounded by the number of roles.
        for _ in 0..=self.roles.len() {
            let mut changed = false;
            for (i, role) in self.roles.iter().enumerate() {
                let Some(sels) = &role.aggregation else {
                    continue;
                };
                let mut add: Vec<PolicyRule> = Vec::new();
                for (j, other) in self.roles.iter().enumerate() {
                    if j == i || other.kind != RoleKind::ClusterRole {
                        continue;
                    }
                    if sels.iter().any(|s| !s.invalid && s.matches(&other.labels))
                        && let Some(rules) = self.effective.get(j)
                    {
                        add.extend(rules.iter().cloned());
                    }
                }
                if let Some(mine) = self.effective.get_mut(i) {
                    for r in add {
                        if !mine
                            .iter()
                            .any(|m| m.origin == r.origin && m.index == r.index)
                        {
                            mine.push(r);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The role a binding refers to (a RoleBinding's `Role` is looked up in its namespace).
    pub fn role_of(&self, b: &Binding) -> Option<usize> {
        let ns = match b.role_kind {
            RoleKind::Role => b.namespace.clone(),
            RoleKind::ClusterRole => None,
        };
        // A ClusterRoleBinding cannot refer to a Role (the API server rejects it).
        if b.role_kind == RoleKind::Role && b.namespace.is_none() {
            return None;
        }
        self.role_index
            .get(&(b.role_kind, ns, b.role_name.clone()))
            .copied()
    }

    pub fn rules_of(&self, role: usize) -> &[PolicyRule] {
        self.effective.get(role).map_or(&[], Vec::as_slice)
    }

    pub fn role(&self, i: usize) -> Option<&Role> {
        self.roles.get(i)
    }

    /// The first rule of `role` that allows `req` when granted at `scope`.
    pub fn rule_allowing(&self, role: usize, scope: &Scope, req: &Request) -> Option<&PolicyRule> {
        if !scope_covers(scope, req) {
            return None;
        }
        let req = match (scope, req.on_namespaces()) {
            (Scope::Namespace(ns), Some(None)) => req.clone().named(ns),
            (Scope::Namespace(ns), Some(Some(n))) if n != ns => return None,
            _ => req.clone(),
        };
        self.rules_of(role).iter().find(|r| r.allows(&req))
    }

    fn via(&self, b: &Binding, role: usize, rule: &PolicyRule) -> Via {
        let role_name = self.role(role).map(Role::display).unwrap_or_default();
        let origin = self
            .role(rule.origin)
            .map(Role::display)
            .unwrap_or_default();
        Via {
            binding: b.display(),
            role: role_name,
            scope: b.scope(),
            rule: format!("{origin} rules[{}]", rule.index),
        }
    }

    /// Every subject granted `req`, with the binding -> role -> rule that grants it; the
    /// group `system:masters` first (it bypasses authorization), then by subject.
    pub fn who_can(&self, req: &Request) -> Vec<Grant> {
        let mut out = vec![Grant {
            subject: Subject::group("system:masters"),
            via: Via {
                binding: "(none: system:masters bypasses authorization)".to_owned(),
                role: "(all permissions)".to_owned(),
                scope: Scope::Cluster,
                rule: String::new(),
            },
        }];
        let mut rest = Vec::new();
        for b in &self.bindings {
            let Some(role) = self.role_of(b) else {
                continue;
            };
            let Some(rule) = self.rule_allowing(role, &b.scope(), req) else {
                continue;
            };
            let via = self.via(b, role, rule);
            for s in &b.subjects {
                rest.push(Grant {
                    subject: s.clone(),
                    via: via.clone(),
                });
            }
        }
        rest.sort_by(|a, b| {
            (&a.subject, &a.via.binding, &a.via.role).cmp(&(
                &b.subject,
                &b.via.binding,
                &b.via.role,
            ))
        });
        rest.dedup();
        out.extend(rest);
        out
    }

    /// Bindings that apply to `subject` (directly or through its implicit groups).
    pub fn bindings_for<'a>(&'a self, subject: &Subject) -> Vec<(&'a Binding, Subject)> {
        let ids = subject.identities();
        let mut out = Vec::new();
        for b in &self.bindings {
            for s in &b.subjects {
                if ids.contains(s) {
                    out.push((b, s.clone()));
                }
            }
        }
        out
    }

    /// Effective permissions of `subject`: every rule it holds, per binding and scope.
    pub fn can_list(&self, subject: &Subject) -> Vec<Permission> {
        let mut out = Vec::new();
        if subject.kind == SubjectKind::Group && subject.name == "system:masters" {
            out.push(Permission {
                scope: Scope::Cluster,
                rule: "all permissions (system:masters bypasses authorization)".to_owned(),
                through: subject.clone(),
                via: Via {
                    binding: String::new(),
                    role: String::new(),
                    scope: Scope::Cluster,
                    rule: String::new(),
                },
            });
        }
        for (b, through) in self.bindings_for(subject) {
            let Some(role) = self.role_of(b) else {
                continue;
            };
            for r in self.rules_of(role) {
                // Non-resource URLs and cluster-scoped resources are inert in a RoleBinding.
                let inert = b.namespace.is_some()
                    && (!r.non_resource_urls.is_empty() && r.resources.is_empty());
                if inert {
                    continue;
                }
                out.push(Permission {
                    scope: b.scope(),
                    rule: r.display(),
                    through: through.clone(),
                    via: self.via(b, role, r),
                });
            }
        }
        out
    }

    /// Workloads whose pods run as this service account with its token mounted.
    pub fn token_holders(&self, subject: &Subject) -> Vec<&Workload> {
        self.holder_indices(subject)
            .iter()
            .filter_map(|&i| self.workloads.get(i))
            .collect()
    }

    /// Indices (into `workloads`, ascending) of the workloads [`holds`] says run as
    /// `subject` with its token mounted, from the index.
    pub(crate) fn holder_indices(&self, subject: &Subject) -> &[usize] {
        let h = &self.holders;
        let account = |ns: &str, name: &str| {
            h.by_account
                .get(ns)
                .and_then(|names| names.get(name))
                .map_or(&[][..], Vec::as_slice)
        };
        match subject.kind {
            SubjectKind::ServiceAccount => subject
                .namespace
                .as_deref()
                .map_or(&[][..], |ns| account(ns, &subject.name)),
            SubjectKind::Group => match subject.name.as_str() {
                "system:serviceaccounts" | "system:authenticated" => &h.all,
                n => n
                    .strip_prefix("system:serviceaccounts:")
                    .and_then(|ns| h.by_namespace.get(ns))
                    .map_or(&[][..], Vec::as_slice),
            },
            // Namespace and account names cannot contain ':', so the first one splits them.
            SubjectKind::User => subject
                .name
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.split_once(':'))
                .map_or(&[][..], |(ns, name)| account(ns, name)),
        }
    }

    /// Whether the pods get the token: the pod spec's `automountServiceAccountToken` wins,
    /// else the ServiceAccount's, else mounted (the API default).
    pub fn token_mounted(&self, w: &Workload) -> bool {
        objects::count_check();
        w.automount.unwrap_or_else(|| {
            self.service_account(&w.namespace, &w.service_account)
                .and_then(|sa| sa.automount)
                .unwrap_or(true)
        })
    }

    pub fn service_account(&self, ns: &str, name: &str) -> Option<&ServiceAccount> {
        self.sa_index
            .get(ns)
            .and_then(|names| names.get(name))
            .and_then(|&i| self.service_accounts.get(i))
    }

    /// Names of ClusterRoles (for `who-can` users to spot typos).
    pub fn role_names(&self) -> BTreeSet<String> {
        self.roles.iter().map(Role::display).collect()
    }
}

/// Does `subject` (as written in a binding) cover workload `w`'s service account? The
/// definition the holder index ([`Rbac::token_holders`]) is tested against.
#[cfg(test)]
pub(crate) fn holds(subject: &Subject, w: &Workload) -> bool {
    objects::count_check();
    match subject.kind {
        SubjectKind::ServiceAccount => {
            subject.name == w.service_account
                && subject.namespace.as_deref() == Some(w.namespace.as_str())
        }
        // Compared piecewise, not formatted: this runs for every workload of every grant.
        SubjectKind::Group => {
            subject.name == "system:serviceaccounts"
                || subject.name == "system:authenticated"
                || subject.name.strip_prefix("system:serviceaccounts:") == Some(&w.namespace)
        }
        SubjectKind::User => {
            subject
                .name
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.strip_prefix(w.namespace.as_str()))
                .and_then(|rest| rest.strip_prefix(':'))
                == Some(w.service_account.as_str())
        }
    }
}

/// One effective permission of a subject.
#[derive(Debug, Clone, Serialize)]
pub struct Permission {
    pub scope: Scope,
    pub rule: String,
    /// The identity the binding names (the subject itself or one of its groups).
    pub through: Subject,
    pub via: Via,
}

impl Request {
    /// Requests on `namespaces` carry the namespace's own name as their namespace, so a
    /// namespaced grant covers exactly that one Namespace object.
    fn on_namespaces(&self) -> Option<Option<&str>> {
        match &self.target {
            Target::Resource { resource, name, .. } if resource == "namespaces" => {
                Some(name.as_deref())
            }
            _ => None,
        }
    }
}

/// Does a grant at `scope` apply to `req`? Cluster grants apply everywhere; a namespace
/// grant only to namespaced requests in that namespace (or in "any namespace").
fn scope_covers(scope: &Scope, req: &Request) -> bool {
    match scope {
        Scope::Cluster => true,
        Scope::Namespace(ns) => {
            !req.cluster_scoped() && req.namespace.as_deref().is_none_or(|r| r == ns)
        }
    }
}

/// A binding's subject entry. ServiceAccount subjects without a namespace take the
/// RoleBinding's (the API server requires one on ClusterRoleBindings; skipped there).
fn parse_subject(v: &Value, binding_ns: Option<&str>) -> Option<Subject> {
    let name = v.get("name").and_then(Value::as_str)?;
    match v.get("kind").and_then(Value::as_str)? {
        "User" => Some(Subject::user(name)),
        "Group" => Some(Subject::group(name)),
        "ServiceAccount" => {
            let ns = v
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .or(binding_ns)?;
            Some(Subject::service_account(ns, name))
        }
        _ => None,
    }
}

/// Path of `subjects[i]` in a binding object, for findings.
pub fn subject_path(v: &Value, subject: &Subject) -> FieldPath {
    if let Some(Value::Array(ss)) = v.get("subjects") {
        for (i, s) in ss.iter().enumerate() {
            let ns = v
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str);
            if parse_subject(s, ns.or(Some("default"))).as_ref() == Some(subject) {
                return FieldPath::root().key("subjects").index(i);
            }
        }
    }
    FieldPath::root().key("subjects")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> PolicyRule {
        PolicyRule::parse(&v, 0, 0)
    }

    #[test]
    fn holds_matches_the_identities_a_pod_token_carries() {
        let w = Workload {
            doc: 0,
            file: "t.yaml".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            namespace_given: true,
            labels: Labels::new(),
            service_account: "api".into(),
            automount: None,
            ports: Vec::new(),
            template: FieldPath::root(),
        };
        let user = |n: &str| holds(&Subject::user(n), &w);
        let group = |n: &str| holds(&Subject::group(n), &w);
        assert!(user("system:serviceaccount:shop:api"));
        for other in [
            "system:serviceaccount:shop:apix",
            "system:serviceaccount:shop:ap",
            "system:serviceaccount:shopx:api",
            "system:serviceaccount:shop",
            "system:serviceaccount:shop:",
            "system:serviceaccount:shopapi",
            "api",
        ] {
            assert!(!user(other), "{other}");
        }
        for g in [
            "system:serviceaccounts",
            "system:authenticated",
            "system:serviceaccounts:shop",
        ] {
            assert!(group(g), "{g}");
        }
        for g in [
            "system:serviceaccounts:sho",
            "system:serviceaccounts:shop2",
            "shop",
        ] {
            assert!(!group(g), "{g}");
        }
        assert!(holds(&Subject::service_account("shop", "api"), &w));
        assert!(!holds(&Subject::service_account("shop", "web"), &w));
    }

    #[test]
    fn token_holders_index_agrees_with_holds() {
        let mut docs = Vec::new();
        let mut add = |v: Value| {
            docs.push(palisade_core::Document {
                file: "t.yaml".into(),
                index: docs.len(),
                item: None,
                value: v,
                spans: palisade_core::SpanTree::default(),
            })
        };
        for (ns, sa, automount) in [
            ("shop", "api", None),
            ("shop", "api", Some(false)),
            ("shop", "web", None),
            ("shop2", "api", None),
            ("other", "default", None),
        ] {
            let mut spec = json!({"containers": [{"name": "c", "image": "i"}]});
            if !sa.is_empty() {
                spec["serviceAccountName"] = json!(sa);
            }
            if let Some(a) = automount {
                spec["automountServiceAccountToken"] = json!(a);
            }
            add(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{ns}-{sa}"), "namespace": ns}, "spec": spec}));
        }
        add(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "web", "namespace": "shop"}, "automountServiceAccountToken": false}));
        let m = Rbac::build(&docs, RbacOptions::default());
        let subjects = [
            Subject::service_account("shop", "api"),
            Subject::service_account("shop", "web"),
            Subject::service_account("shop2", "api"),
            Subject::service_account("nope", "api"),
            Subject::user("system:serviceaccount:shop:api"),
            Subject::user("system:serviceaccount:shop:ap"),
            Subject::user("system:serviceaccount:shop"),
            Subject::user("jane"),
            Subject::group("system:serviceaccounts"),
            Subject::group("system:authenticated"),
            Subject::group("system:serviceaccounts:shop"),
            Subject::group("system:serviceaccounts:sho"),
            Subject::group("dev"),
        ];
        for s in &subjects {
            let slow: Vec<&str> = m
                .workloads
                .iter()
                .filter(|w| m.token_mounted(w) && holds(s, w))
                .map(|w| w.name.as_str())
                .collect();
            let fast: Vec<&str> = m.token_holders(s).iter().map(|w| w.name.as_str()).collect();
            assert_eq!(fast, slow, "{s}");
        }
        assert_eq!(
            m.token_holders(&Subject::group("system:authenticated"))
                .len(),
            3,
            "the automount: false pod and the account with automount: false hold no token"
        );
    }

    #[test]
    fn resource_matching_follows_evaluation_helpers() {
        let r = rule(json!({"resources": ["pods/*", "*/scale", "secrets"]}));
        assert!(
            !r.resource_matches("pods", Some("exec")),
            "pods/* is literal"
        );
        assert!(!r.resource_matches("pods", None));
        assert!(r.resource_matches("deployments", Some("scale")));
        assert!(!r.resource_matches("deployments", None));
        assert!(r.resource_matches("secrets", None));
        assert!(!r.resource_matches("secrets", Some("x")));
        let all = rule(json!({"resources": ["*"]}));
        assert!(all.resource_matches("pods", Some("exec")));
        let sub = rule(json!({"resources": ["pods/exec"]}));
        assert!(sub.resource_matches("pods", Some("exec")) && !sub.resource_matches("pods", None));
        assert!(!sub.resource_matches("pods", Some("exe")));
    }

    #[test]
    fn names_urls_verbs_groups() {
        let r = rule(
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"]}),
        );
        assert!(r.name_matches(Some("a")) && !r.name_matches(Some("b")) && !r.name_matches(None));
        assert!(r.verb_matches("get") && !r.verb_matches("list"));
        assert!(r.group_matches("") && !r.group_matches("apps"));
        let u = rule(json!({"verbs": ["*"], "nonResourceURLs": ["/metrics*", "/healthz"]}));
        assert!(u.url_matches("/metrics") && u.url_matches("/metrics/slis"));
        assert!(u.url_matches("/healthz") && !u.url_matches("/healthz/ping"));
        assert!(rule(json!({"nonResourceURLs": ["*"]})).url_matches("/anything"));
    }

    #[test]
    fn request_and_subject_parsing() {
        let r = Request::parse("create", "deployment/scale").unwrap();
        assert_eq!(r.display(), "create deployments.apps/scale");
        assert_eq!(
            Request::parse("get", "widgets.example.com")
                .unwrap()
                .display(),
            "get widgets.example.com"
        );
        assert_eq!(
            Request::parse("get", "NetworkPolicy").unwrap().display(),
            "get networkpolicies.networking.k8s.io"
        );
        // A typo is kept as typed (not pluralised into `secretzs`) and noted with its likely
        // meaning; so is an unknown verb. Known requests have no notes.
        let typo = Request::parse("gett", "secretz").unwrap();
        assert_eq!(typo.display(), "gett secretz");
        let notes = typo.notes();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("\"gett\"") && notes[0].contains("did you mean \"get\""));
        assert!(notes[1].contains("\"secretz\"") && notes[1].contains("did you mean \"secrets\""));
        assert!(Request::parse("get", "secret").unwrap().notes().is_empty());
        assert!(
            Request::parse("use", "widgets.example.com")
                .unwrap()
                .notes()
                .is_empty()
        );
        assert!(
            Request::parse("post", "/healthz")
                .unwrap()
                .notes()
                .is_empty()
        );
        assert_eq!(
            Request::parse("get", "qwertyuiop").unwrap().notes().len(),
            1
        );
        assert!(Request::parse("get", "pods/a/b").is_err());
        assert!(Request::parse("get", "").is_err());
        assert!(matches!(
            Request::parse("get", "/healthz").unwrap().target,
            Target::NonResource { .. }
        ));
        assert_eq!(Subject::parse("Group:dev").unwrap(), Subject::group("dev"));
        assert_eq!(Subject::parse("jane").unwrap(), Subject::user("jane"));
        assert_eq!(
            Subject::parse("sa:ns/x").unwrap(),
            Subject::service_account("ns", "x")
        );
        assert!(Subject::parse("").is_err() && Subject::parse("User:").is_err());
        // A mistyped kind is an error, not a user named "Foo:bar".
        assert!(Subject::parse("Foo:bar").is_err());
        assert!(Subject::parse("Serviceacount:ns:x").is_err());
        assert_eq!(
            Subject::parse("system:masters").unwrap(),
            Subject::user("system:masters")
        );
        assert_eq!(
            Subject::parse("User:oidc:alice").unwrap(),
            Subject::user("oidc:alice")
        );
        let ids = Subject::service_account("ns", "x").identities();
        assert!(ids.contains(&Subject::group("system:serviceaccounts:ns")));
        assert!(
            Subject::user("system:anonymous")
                .identities()
                .contains(&Subject::group("system:unauthenticated"))
        );
    }

    #[test]
    fn scope_rules() {
        let pods = Request::resource("get", "", "pods", None);
        let nodes = Request::resource("get", "", "nodes", None);
        let ns = Scope::Namespace("a".into());
        assert!(scope_covers(&ns, &pods) && !scope_covers(&ns, &nodes));
        assert!(!scope_covers(&ns, &pods.clone().in_namespace(Some("b"))));
        assert!(scope_covers(&Scope::Cluster, &nodes));
        let bind = Request::resource("bind", RBAC_GROUP, "clusterroles", None);
        assert!(scope_covers(&ns, &bind));
        assert!(Scope::Namespace("kube-system".into()).privileged() && !ns.privileged());
    }
}
