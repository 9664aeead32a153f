//! RBAC conformance: kubescape regolibrary rule tests (74 cases), rbac-tool who-can
//! scenarios, Polaris RBAC checks. Disagreements: `testdata/rbac/conformance-disagreements.tsv`.

use crate::{
    AllowList, Outcome, case_dirs, finding_subject, findings, judge, kubescape_expected, load,
    object_id, testdata,
};
use palisade_graph::rbac::{Rbac, RbacOptions, Request, RoleKind, Scope, SubjectKind, role_power};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn allow() -> AllowList {
    AllowList::read(&testdata("rbac/conformance-disagreements.tsv"))
}

/// How a kubescape rule is answered by Palisade.
enum Via {
    /// Subjects of findings of these rules.
    Subjects(&'static [&'static str]),
    /// Subjects of cluster-wide findings of these rules.
    ClusterSubjects(&'static [&'static str]),
    /// Objects (`Kind/name`) of findings of these rules.
    Objects(&'static [&'static str]),
    /// Workloads whose pods get a service account token (the model's resolution).
    TokenMounted,
    /// Service accounts that are subjects of a binding to an existing role.
    BoundServiceAccounts,
}

fn mapping(rule: &str) -> Via {
    match rule {
        "rule-can-list-get-secrets-v1" => Via::Subjects(&["RBAC002"]),
        "rule-can-bind-escalate" => Via::Subjects(&["RBAC008", "RBAC009"]),
        "rule-can-impersonate-users-groups-v1" => Via::Subjects(&["RBAC011"]),
        "rule-can-create-pod" => Via::Subjects(&["RBAC003"]),
        "rule-can-create-pv" => Via::Subjects(&["RBAC018"]),
        "rule-can-access-proxy-subresource" => Via::Subjects(&["RBAC014"]),
        "rule-can-approve-cert-signing-request" => Via::Subjects(&["RBAC015"]),
        "rule-can-modify-admission-webhooks" => Via::Subjects(&["RBAC016"]),
        "rule-can-create-service-account-token" => Via::Subjects(&["RBAC012"]),
        "rule-list-all-cluster-admins-v1" => Via::Subjects(&["RBAC001"]),
        "rule-excessive-delete-rights-v1" => Via::Subjects(&["RBAC025"]),
        "rule-can-portforward-v1" => Via::Subjects(&["RBAC007"]),
        "exec-into-container-v1" => Via::Subjects(&["RBAC005"]),
        "cluster-admin-role" => Via::ClusterSubjects(&["RBAC001"]),
        "system-authenticated-allowed-to-take-over-cluster" => Via::Subjects(&["RBAC026"]),
        "anonymous-access-enabled" => Via::Objects(&["RBAC026"]),
        "workload-with-cluster-takeover-roles" | "workload-with-administrative-roles" => {
            Via::Objects(&["RBAC028"])
        }
        "serviceaccount-token-mount" => Via::Objects(&["RBAC030"]),
        "automount-default-service-account" => Via::Objects(&["RBAC029"]),
        "automount-service-account" => Via::TokenMounted,
        "access-container-service-account-v1" => Via::BoundServiceAccounts,
        other => panic!("kubescape rule {other} has no mapping"),
    }
}

fn input_files(case: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(case.join("input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn kubescape_regolibrary_rbac() {
    let cases = case_dirs(&testdata("rbac/kubescape-regolibrary/rules"));
    assert_eq!(cases.len(), 74, "kubescape RBAC cases");
    let mut outcomes = Vec::new();
    for (rule, case, dir) in &cases {
        let docs = load(&input_files(dir));
        let got: BTreeSet<String> = match mapping(rule) {
            Via::Subjects(ids) => findings(&docs, ids)
                .iter()
                .filter_map(|f| finding_subject(&docs, f))
                .collect(),
            Via::ClusterSubjects(ids) => findings(&docs, ids)
                .iter()
                .filter(|f| f.object.kind == "ClusterRoleBinding")
                .filter_map(|f| finding_subject(&docs, f))
                .collect(),
            Via::Objects(ids) => findings(&docs, ids)
                .iter()
                .map(|f| object_id(&f.object))
                .collect(),
            Via::TokenMounted => {
                let m = Rbac::build(&docs, RbacOptions::default());
                m.workloads
                    .iter()
                    .filter(|w| m.token_mounted(w))
                    .map(|w| format!("{}/{}", w.kind, w.name))
                    .collect()
            }
            Via::BoundServiceAccounts => {
                let m = Rbac::build(&docs, RbacOptions::default());
                m.bindings
                    .iter()
                    .filter(|b| m.role_of(b).is_some())
                    .flat_map(|b| b.subjects.iter())
                    .filter(|s| s.kind == SubjectKind::ServiceAccount)
                    .map(|s| {
                        format!(
                            "ServiceAccount/{}/{}",
                            s.namespace.as_deref().unwrap_or(""),
                            s.name
                        )
                    })
                    .collect()
            }
        };
        outcomes.push(Outcome {
            case: format!("{rule}/{case}"),
            expected: kubescape_expected(dir),
            got,
        });
    }
    let (agree, total) = judge("kubescape", &outcomes, &allow());
    assert_eq!(total, 74);
    assert!(agree >= 60, "agreement regressed: {agree}/{total}");
}

/// A `# Run: ... who-can VERB RESOURCE [| grep PATTERN]` line and its `# Expect:` table.
struct Scenario {
    verb: String,
    resource: String,
    grep: Option<String>,
    expected: BTreeSet<String>,
}

fn scenarios(text: &str) -> Vec<Scenario> {
    let mut runs = Vec::new();
    let mut expected = BTreeSet::new();
    let mut in_expect = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let Some(c) = line.strip_prefix('#') else {
            break;
        };
        let c = c.trim();
        if let Some(rest) = c.split("who-can ").nth(1) {
            let (cmd, grep) = match rest.split_once('|') {
                Some((a, b)) => (
                    a.trim(),
                    b.trim().strip_prefix("grep ").map(|g| g.trim().to_owned()),
                ),
                None => (rest.trim(), None),
            };
            let mut words = cmd.split_whitespace();
            runs.push((
                words.next().unwrap().to_owned(),
                words.next().unwrap().to_owned(),
                grep,
            ));
        } else if c.starts_with("Expect:") {
            in_expect = true;
        } else if in_expect && c.contains('|') && !c.contains("TYPE") {
            let cols: Vec<&str> = c
                .split('|')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            if cols.len() >= 2 && !cols[0].starts_with('+') {
                let id = match (cols[0], cols.get(2)) {
                    ("ServiceAccount", Some(ns)) => format!("ServiceAccount/{ns}/{}", cols[1]),
                    (k, _) => format!("{k}/{}", cols[1]),
                };
                expected.insert(id);
            }
        }
    }
    runs.into_iter()
        .map(|(verb, resource, grep)| Scenario {
            verb,
            resource,
            grep,
            expected: expected.clone(),
        })
        .collect()
}

#[test]
fn rbac_tool_who_can() {
    let dir = testdata("rbac/rbac-tool/whocan");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut outcomes = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let docs = load(std::slice::from_ref(f));
        let m = Rbac::build(&docs, RbacOptions::default());
        for s in scenarios(&text) {
            // rbac-tool reads `secrets/NAME` as a resource name, and resolves groups by
            // discovery; translate to Palisade's `--name` and `RESOURCE.GROUP` forms.
            let (res, name) = match s.resource.split_once('/') {
                Some((r, n)) if r == "secrets" => (r.to_owned(), Some(n.to_owned())),
                _ => (s.resource.clone(), None),
            };
            let res = if res == "gateways" {
                "gateways.gateway.networking.k8s.io".to_owned()
            } else {
                res
            };
            let mut req = Request::parse(&s.verb, &res).unwrap();
            if let Some(n) = &name {
                req = req.named(n);
            }
            let got: BTreeSet<String> = m
                .who_can(&req)
                .iter()
                .filter(|g| {
                    s.grep
                        .as_ref()
                        .is_none_or(|p| g.subject.name.contains(p.as_str()))
                })
                .map(|g| match &g.subject.namespace {
                    Some(ns) => format!("{}/{ns}/{}", g.subject.kind, g.subject.name),
                    None => format!("{}/{}", g.subject.kind, g.subject.name),
                })
                .collect();
            outcomes.push(Outcome {
                case: format!(
                    "{} {} {}",
                    f.file_name().unwrap().to_string_lossy(),
                    s.verb,
                    s.resource
                ),
                expected: s.expected,
                got,
            });
        }
    }
    assert_eq!(outcomes.len(), 8, "rbac-tool who-can runs");
    judge("rbac-tool", &outcomes, &allow());
}

/// Polaris RBAC checks: role-level checks ask whether a Role/ClusterRole's rules grant the
/// power; binding-level checks whether Palisade reports the rule on the binding.
#[test]
fn polaris_rbac() {
    let root = testdata("rbac/polaris");
    let mut outcomes = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let check = d.file_name().unwrap().to_string_lossy().into_owned();
        // (target kind, roleRef kind of target bindings, Palisade rule)
        let (target, ref_kind, rule) = match check.as_str() {
            "clusterrolePodExecAttach" => ("ClusterRole", "", "RBAC005"),
            "rolePodExecAttach" => ("Role", "", "RBAC005"),
            "clusterrolebindingPodExecAttach" => ("ClusterRoleBinding", "ClusterRole", "RBAC005"),
            "rolebindingClusterRolePodExecAttach" => ("RoleBinding", "ClusterRole", "RBAC005"),
            "rolebindingRolePodExecAttach" => ("RoleBinding", "Role", "RBAC005"),
            "clusterrolebindingClusterAdmin" => ("ClusterRoleBinding", "ClusterRole", "RBAC001"),
            "rolebindingClusterAdminClusterRole" => ("RoleBinding", "ClusterRole", "RBAC001"),
            "rolebindingClusterAdminRole" => ("RoleBinding", "Role", "RBAC001"),
            other => panic!("no mapping for polaris {other}"),
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let fname = f.file_name().unwrap().to_string_lossy().into_owned();
            let expect_fail = fname.starts_with("failure");
            let docs = load(std::slice::from_ref(&f));
            let flagged = if target.ends_with("Binding") {
                findings(&docs, &[rule]).iter().any(|x| {
                    x.object.kind == target
                        && docs.iter().any(|d| {
                            d.object_ref() == x.object
                                && d.value["roleRef"]["kind"].as_str() == Some(ref_kind)
                        })
                })
            } else {
                let m = Rbac::build(&docs, RbacOptions::default());
                m.roles.iter().enumerate().any(|(i, r)| {
                    r.doc.is_some()
                        && (r.kind == RoleKind::ClusterRole) == (target == "ClusterRole")
                        && role_power(
                            &m,
                            i,
                            &match &r.namespace {
                                Some(ns) => Scope::Namespace(ns.clone()),
                                None => Scope::Cluster,
                            },
                            rule,
                        )
                        .is_some()
                })
            };
            let verdict = |b: bool| {
                BTreeSet::from([if b {
                    "fail".to_owned()
                } else {
                    "pass".to_owned()
                }])
            };
            outcomes.push(Outcome {
                case: format!("{check}/{fname}"),
                expected: verdict(expect_fail),
                got: verdict(flagged),
            });
        }
    }
    let (_, total) = judge("polaris", &outcomes, &allow());
    assert_eq!(total, 130, "polaris RBAC fixtures");
}

/// The same bundle in three files (as a project ships install.yaml, ha/install.yaml and
/// namespace-install.yaml), and once more applied twice within one file.
fn repeated_bundle() -> Vec<palisade_core::Document> {
    let bundle = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: server, namespace: cd}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: server}
rules:
  - {apiGroups: [""], resources: ["secrets"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: server}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: server}
subjects: [{kind: ServiceAccount, name: server, namespace: cd}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: server, namespace: cd}
spec:
  selector: {matchLabels: {app: server}}
  template:
    metadata: {labels: {app: server}}
    spec:
      serviceAccountName: server
      containers: [{name: c, image: i}]
"#;
    let limits = palisade_yaml::Limits::default();
    let mut docs = Vec::new();
    for file in ["install.yaml", "ha/install.yaml", "namespace-install.yaml"] {
        let loaded = palisade_yaml::load_str(file, bundle, &limits);
        assert!(loaded.errors.is_empty());
        docs.extend(loaded.documents);
    }
    docs
}

#[test]
fn repeated_objects_are_named_once_with_where_they_are_defined() {
    let docs = repeated_bundle();
    let found = findings(&docs, &["RBAC002", "RBAC028", "RBAC030"]);
    let secrets: Vec<&str> = found
        .iter()
        .filter(|f| f.rule == "RBAC002")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(secrets.len(), 3, "one per binding object: {secrets:?}");
    for m in &secrets {
        assert!(
            m.ends_with(
                "; held by workloads mounting its token: Deployment/cd/server (defined in 3 files)"
            ),
            "{m}"
        );
    }
    let token = found.iter().find(|f| f.rule == "RBAC028").unwrap();
    assert_eq!(
        token.message,
        "Deployment/cd/server runs as ServiceAccount cd/server with its token mounted; through the account that token can get secrets cluster-wide (RBAC002 via ClusterRoleBinding/server) (defined in 3 files)"
    );
    let bound = found.iter().find(|f| f.rule == "RBAC030").unwrap();
    assert_eq!(
        bound.message,
        "Deployment/cd/server mounts the token of ServiceAccount cd/server, which is bound by ClusterRoleBinding/server (defined in 3 files)"
    );
    // Repeated within one file.
    let text: String = std::iter::repeat_n(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: cd}\nspec: {serviceAccountName: server, containers: [{name: c, image: i}]}\n---\n",
        2,
    )
    .collect();
    let mut docs = docs;
    docs.extend(
        palisade_yaml::load_str("pods.yaml", &text, &palisade_yaml::Limits::default()).documents,
    );
    let found = findings(&docs, &["RBAC002"]);
    assert!(
        found[0].message.ends_with(
            "Deployment/cd/server (defined in 3 files), Pod/cd/p (defined 2 times in one file)"
        ),
        "{}",
        found[0].message
    );
}

#[test]
fn one_role_rule_is_one_finding_listing_its_escalation_paths() {
    // One rule, `*` resources with get/patch/delete: many escalation paths, one thing to fix.
    let docs = crate::load_str(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: broad}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["get", "patch", "delete"]}
  - {apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: broad}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: broad}
subjects:
  - {kind: ServiceAccount, name: ops, namespace: tools}
  - {kind: Group, name: ops-team}
"#,
    );
    let ids: Vec<&str> = palisade_graph::rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| *id <= "RBAC025")
        .collect();
    let found = findings(&docs, &ids);
    // Per subject: one finding for rules[0], one for rules[1].
    assert_eq!(
        found.len(),
        4,
        "{:#?}",
        found
            .iter()
            .map(|f| (&f.rule, &f.field, &f.paths))
            .collect::<Vec<_>>()
    );
    let broad: Vec<_> = found.iter().filter(|f| f.paths.len() > 1).collect();
    assert_eq!(broad.len(), 2);
    for f in &broad {
        assert!(f.paths.len() >= 15, "{:?}", f.paths);
        for id in ["RBAC002", "RBAC004", "RBAC013", "RBAC025"] {
            assert!(
                f.paths.iter().any(|p| p == id),
                "{id} missing: {:?}",
                f.paths
            );
        }
        assert!(f.paths.windows(2).all(|w| w[0] < w[1]), "{:?}", f.paths);
        assert!(f.paths.contains(&f.rule), "{} not in {:?}", f.rule, f.paths);
        assert_eq!(f.severity, palisade_core::Severity::Critical);
        assert!(
            f.message.contains("(ClusterRole/broad rules[0])"),
            "{}",
            f.message
        );
        assert!(f.message.contains("get secrets (RBAC002)"), "{}", f.message);
    }
    let token: Vec<_> = found.iter().filter(|f| f.paths.len() == 1).collect();
    assert_eq!(token.len(), 2);
    assert!(
        token
            .iter()
            .all(|f| f.rule == "RBAC012" && f.paths == ["RBAC012"])
    );
    // Subjects are not merged: each names its own subject entry.
    let fields: std::collections::BTreeSet<&str> = broad.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["subjects[0]", "subjects[1]"].into_iter().collect());
}

#[test]
fn namespace_hint_needs_a_written_namespace_in_the_same_bundle() {
    let limits = palisade_yaml::Limits::default();
    let load = |file: &str, text: &str| palisade_yaml::load_str(file, text, &limits).documents;
    let workload = |sa: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p-{sa}}}\nspec: {{serviceAccountName: {sa}, containers: [{{name: c, image: i}}]}}\n"
        )
    };
    let crb = |sa: &str, ns: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b-{sa}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects: [{{kind: ServiceAccount, name: {sa}, namespace: {ns}}}]\n"
        )
    };
    // A RoleBinding without a namespace binds the account where the bundle is applied: no hint.
    let implied = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: implied}]\n";
    let mut docs = Vec::new();
    docs.extend(load(
        "app/a.yaml",
        &format!("{}---\n{}", workload("ctl"), workload("default")),
    ));
    docs.extend(load(
        "app/b.yaml",
        &format!(
            "{}---\n{}---\n{implied}",
            crb("ctl", "ops"),
            crb("default", "ops")
        ),
    ));
    docs.extend(load("app/c.yaml", &workload("implied")));
    // The same account name bound by another project's directory.
    docs.extend(load("other/x.yaml", &workload("ctl")));
    docs.extend(load("elsewhere/y.yaml", &crb("ctl", "far")));
    let m = Rbac::build(&docs, RbacOptions::default());
    let notes = palisade_graph::rbac::namespace_notes(&docs, &m);
    let text: Vec<&str> = notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        text,
        [
            "Pod/default/p-ctl has no metadata.namespace and is read as namespace default, but its ServiceAccount ctl is bound in namespace ops only; if these manifests are applied with `kubectl apply -n ops`, scan with `-n ops`"
        ],
    );
    assert_eq!(
        (notes[0].file.as_str(), notes[0].line),
        ("app/a.yaml", Some(3))
    );
}
