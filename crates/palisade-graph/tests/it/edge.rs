//! Hand-written edge cases: `testdata/rbac/edge-cases/who-can.yaml` and
//! `testdata/netpol/edge-cases/policies.yaml`, with the answers Kubernetes gives.

use crate::{findings, load, testdata};
use palisade_graph::netpol::{Direction, Isolation, Netpol, PortQuery};
use palisade_graph::rbac::{Rbac, RbacOptions, Request, Subject};
use std::collections::BTreeSet;

fn rbac(defaults: bool) -> Rbac {
    let docs = load(&[testdata("rbac/edge-cases/who-can.yaml")]);
    Rbac::build(&docs, RbacOptions { defaults })
}

/// `Kind/name` (`ServiceAccount/ns/name`) of who-can's answer, without system:masters.
fn who(m: &Rbac, verb: &str, res: &str, ns: Option<&str>, name: Option<&str>) -> BTreeSet<String> {
    let mut req = Request::parse(verb, res).unwrap().in_namespace(ns);
    if let Some(n) = name {
        req = req.named(n);
    }
    let grants = m.who_can(&req);
    assert_eq!(
        grants[0].subject,
        Subject::group("system:masters"),
        "masters first"
    );
    grants[1..]
        .iter()
        .map(|g| match &g.subject.namespace {
            Some(n) => format!("{}/{n}/{}", g.subject.kind, g.subject.name),
            None => format!("{}/{}", g.subject.kind, g.subject.name),
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn aggregated_cluster_roles_with_empty_rules() {
    let m = rbac(false);
    let req = Request::parse("get", "pods").unwrap();
    let g = m.who_can(&req);
    let agg = g
        .iter()
        .find(|g| g.subject.name == "agg-user")
        .expect("agg-user");
    assert_eq!(agg.via.binding, "ClusterRoleBinding/outer-readers");
    assert_eq!(agg.via.role, "ClusterRole/agg-outer");
    assert_eq!(agg.via.rule, "ClusterRole/pod-reader rules[0]");
    assert_eq!(agg.via.scope.to_string(), "cluster");
    assert!(!who(&m, "create", "pods", None, None).contains("User/agg-user"));
}

#[test]
fn rolebinding_to_clusterrole_is_namespaced() {
    let m = rbac(false);
    assert_eq!(
        who(&m, "get", "secrets", Some("team-a"), None),
        set(&[
            "ServiceAccount/team-a/ci",
            "User/core-reader",
            "User/ns-metrics-user"
        ])
    );
    let b = who(&m, "get", "secrets", Some("team-b"), None);
    assert!(!b.contains("ServiceAccount/team-a/ci"), "{b:?}");
    assert!(
        b.contains("Group/team-b-devs") && b.contains("User/team-b-lead"),
        "{b:?}"
    );
    // nodes are cluster-scoped: the RoleBinding grants nothing on them.
    assert_eq!(
        who(&m, "get", "nodes", None, None),
        set(&["User/core-reader"])
    );
    let g = m.who_can(
        &Request::parse("list", "secrets")
            .unwrap()
            .in_namespace(Some("team-a")),
    );
    let ci = g.iter().find(|g| g.subject.name == "ci").unwrap();
    assert_eq!(ci.via.scope.to_string(), "namespace:team-a");
}

#[test]
fn resource_names() {
    let m = rbac(false);
    let named = who(&m, "get", "secrets", Some("team-a"), Some("db-password"));
    assert!(named.contains("User/named-user"), "{named:?}");
    assert!(!who(&m, "get", "secrets", Some("team-a"), Some("other")).contains("User/named-user"));
    // No name (get-all, create, list without a field selector): not granted.
    assert!(!who(&m, "get", "secrets", Some("team-a"), None).contains("User/named-user"));
    assert!(!who(&m, "create", "secrets", Some("team-a"), None).contains("User/named-user"));
    assert!(!who(&m, "list", "secrets", Some("team-a"), None).contains("User/named-user"));
}

#[test]
fn subresource_patterns() {
    let m = rbac(false);
    // (team-z: no namespaced grants there, only cluster-wide ones apply)
    let z = Some("team-z");
    assert_eq!(
        who(&m, "update", "deployments/scale", z, None),
        set(&["Group/autoscalers"])
    );
    assert_eq!(
        who(&m, "patch", "statefulsets/scale", z, None),
        set(&["Group/autoscalers"])
    );
    // edit (aggregated into team-b's bindings) has deployments/scale too, in team-b only.
    assert!(who(&m, "update", "deployments/scale", None, None).contains("Group/team-b-devs"));
    assert!(!who(&m, "update", "deployments", None, None).contains("Group/autoscalers"));
    // `deployments/*` is literal: no subresource matches it.
    assert!(!who(&m, "get", "deployments/status", None, None).contains("Group/autoscalers"));
    // `*` covers subresources.
    assert!(who(&m, "get", "pods/exec", None, None).contains("User/core-reader"));
    // API groups must match: `""` resources `*` says nothing about apps.
    assert!(!who(&m, "get", "deployments", None, None).contains("User/core-reader"));
}

#[test]
fn non_resource_urls() {
    let m = rbac(false);
    assert_eq!(
        who(&m, "get", "/metrics/slis", None, None),
        set(&["User/core-reader"])
    );
    assert_eq!(
        who(&m, "get", "/healthz", None, None),
        set(&["User/core-reader"])
    );
    assert!(who(&m, "get", "/healthzx", None, None).is_empty());
    assert!(who(&m, "post", "/healthz", None, None).is_empty());
    let d = rbac(true);
    let h = who(&d, "get", "/healthz", None, None);
    for g in [
        "Group/system:authenticated",
        "Group/system:unauthenticated",
        "Group/system:monitoring",
    ] {
        assert!(h.contains(g), "{g} missing from {h:?}");
    }
}

#[test]
fn builtin_aggregation_labels() {
    let m = rbac(false);
    assert_eq!(
        who(&m, "create", "widgets.example.com", Some("team-b"), None),
        set(&["Group/team-b-devs", "User/team-b-lead"])
    );
    // admin = edit + view + RBAC in the namespace; edit has no RBAC writes.
    assert_eq!(
        who(&m, "create", "rolebindings", Some("team-b"), None),
        set(&["User/team-b-lead"])
    );
    assert!(who(&m, "get", "pods/exec", Some("team-b"), None).contains("Group/team-b-devs"));
}

#[test]
fn own_namespace_and_namespaced_bind() {
    let m = rbac(false);
    let grp = "Group/system:serviceaccounts:team-c";
    assert!(who(&m, "update", "namespaces", None, Some("team-c")).contains(grp));
    assert!(!who(&m, "update", "namespaces", None, Some("team-a")).contains(grp));
    assert!(who(&m, "bind", "clusterroles", Some("team-c"), Some("view")).contains(grp));
    assert!(
        !who(
            &m,
            "bind",
            "clusterroles",
            Some("team-c"),
            Some("cluster-admin")
        )
        .contains(grp)
    );
    // A service account of team-c gets it through its implicit group.
    let perms = m.can_list(&Subject::parse("ServiceAccount:team-c:builder").unwrap());
    assert!(perms.iter().any(
        |p| p.rule.contains("namespaces") && p.through.name == "system:serviceaccounts:team-c"
    ));
    assert!(
        Subject::parse("system:serviceaccount:team-c:builder").unwrap()
            == Subject::service_account("team-c", "builder")
    );
    assert!(Subject::parse("ServiceAccount:nope").is_err());
}

#[test]
fn edge_case_findings() {
    let docs = load(&[testdata("rbac/edge-cases/who-can.yaml")]);
    let f = findings(&docs, &["RBAC002", "RBAC009", "RBAC022", "RBAC005"]);
    let got: BTreeSet<(String, String)> = f
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.message.split(" can ").next().unwrap().to_owned(),
            )
        })
        .collect();
    // bind restricted by resourceNames is not "bind any role"; the namespace self-update is.
    assert!(
        got.contains(&(
            "RBAC022".into(),
            "Group system:serviceaccounts:team-c".into()
        )),
        "{got:?}"
    );
    assert!(!got.iter().any(|(r, _)| r == "RBAC009"), "{got:?}");
    assert!(
        got.contains(&("RBAC002".into(), "ServiceAccount team-a/ci".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("RBAC005".into(), "Group team-b-devs".into())),
        "{got:?}"
    );
    let ci = f
        .iter()
        .find(|f| f.rule == "RBAC002" && f.message.starts_with("ServiceAccount team-a/ci"))
        .unwrap();
    // Namespaced (not kube-system): one level below the rule's high.
    assert_eq!(ci.severity, palisade_core::Severity::Medium);
    assert!(ci.message.contains("in namespace team-a via RoleBinding/team-a/team-a-secrets -> ClusterRole/secrets-and-nodes"), "{}", ci.message);
    assert_eq!(ci.field, "subjects[0]");
    assert!(ci.line > 1);
}

fn netpol() -> Netpol {
    Netpol::build(&load(&[testdata("netpol/edge-cases/policies.yaml")]))
}

fn reach(m: &Netpol, from: &str, to: &str, port: Option<PortQuery>) -> (bool, Vec<String>) {
    let r = m.can_reach(
        m.find(from).unwrap(),
        m.find(to).unwrap(),
        port.as_ref(),
        "TCP",
    );
    (r.allowed, r.policies)
}

#[test]
fn can_reach_both_ends() {
    let m = netpol();
    let n = |p: u16| Some(PortQuery::Number(p));
    assert_eq!(
        reach(
            &m,
            "shop/Deployment/frontend",
            "shop/Deployment/api",
            n(8080)
        ),
        (true, vec!["shop/api-from-frontend".to_owned()])
    );
    assert!(
        reach(
            &m,
            "shop/Deployment/frontend",
            "shop/Deployment/api",
            Some(PortQuery::Name("http".into()))
        )
        .0
    );
    let (ok, pols) = reach(
        &m,
        "shop/Deployment/frontend",
        "shop/Deployment/api",
        n(9090),
    );
    assert!(!ok);
    assert_eq!(
        pols,
        vec![
            "shop/default-deny",
            "shop/api-from-frontend",
            "shop/backend-from-prometheus"
        ]
    );
    // Namespace AND pod selector, automatic namespace label, endPort range, named egress port.
    assert_eq!(
        reach(
            &m,
            "monitoring/Deployment/prometheus",
            "shop/Deployment/api",
            n(9090)
        ),
        (
            true,
            vec![
                "monitoring/prometheus-split".to_owned(),
                "shop/backend-from-prometheus".to_owned()
            ]
        )
    );
    // Egress allows only the named port "metrics", which db does not define.
    let r = m.can_reach(
        m.find("monitoring/Deployment/prometheus").unwrap(),
        m.find("shop/StatefulSet/db").unwrap(),
        n(5432).as_ref(),
        "TCP",
    );
    assert!(!r.allowed && !r.egress.allowed && !r.ingress.allowed);
    assert_eq!(r.egress.policies, ["monitoring/prometheus-split"]);
    assert_eq!(r.policies[0], "monitoring/prometheus-split");
    assert!(
        !reach(
            &m,
            "monitoring/Deployment/intruder",
            "shop/Deployment/api",
            n(9090)
        )
        .0
    );
    // The split-peer mistake lets every pod of team=ops namespaces in.
    assert!(
        reach(
            &m,
            "monitoring/Deployment/intruder",
            "monitoring/Deployment/prometheus",
            None
        )
        .0
    );
    // egress rules without policyTypes: db is egress-isolated, the ipBlock matches no pod.
    let r = m.can_reach(
        m.find("shop/StatefulSet/db").unwrap(),
        m.find("shop/Deployment/api").unwrap(),
        None,
        "TCP",
    );
    assert!(!r.allowed && r.egress.isolated && !r.egress.allowed);
    assert_eq!(r.egress.policies, ["shop/db-egress"]);
    assert!(m.find("shop/deployment/nope").is_err());
    assert!(m.find("shop-frontend").is_err());
}

#[test]
fn isolation_report() {
    let m = netpol();
    let w = |s: &str| m.find(s).unwrap();
    let iso = |s: &str, d| m.workload_isolation(w(s), d).isolation;
    use Direction::{Egress, Ingress};
    use Isolation::{AllowPoliciesOnly, DefaultDeny, NotIsolated};
    for (workload, d, want) in [
        ("shop/Deployment/frontend", Ingress, DefaultDeny),
        ("shop/Deployment/frontend", Egress, NotIsolated),
        ("shop/StatefulSet/db", Egress, AllowPoliciesOnly),
        (
            "monitoring/Deployment/prometheus",
            Ingress,
            AllowPoliciesOnly,
        ),
        ("monitoring/Deployment/intruder", Ingress, NotIsolated),
    ] {
        assert_eq!(iso(workload, d), want, "{workload} {d:?}");
    }
    for (ns, d, want) in [
        ("shop", Ingress, DefaultDeny),
        ("shop", Egress, AllowPoliciesOnly),
        ("monitoring", Ingress, AllowPoliciesOnly),
    ] {
        assert_eq!(m.namespace_isolation(ns, d), want, "{ns} {d:?}");
    }
    let rep = m.report();
    assert_eq!(
        rep.iter().map(|n| n.namespace.as_str()).collect::<Vec<_>>(),
        ["monitoring", "shop"]
    );
    assert_eq!(rep[1].workloads.len(), 3);
}

#[test]
fn netpol_lints() {
    let docs = load(&[testdata("netpol/edge-cases/policies.yaml")]);
    let f = palisade_graph::analyze(&docs, &|r| r.family == "netpol");
    let got: BTreeSet<(String, String)> = f
        .iter()
        .map(|f| (f.rule.clone(), f.object.name.clone().unwrap_or_default()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("NETPOL001", "intruder"),
        ("NETPOL002", "frontend"),
        ("NETPOL002", "api"),
        ("NETPOL002", "intruder"),
        ("NETPOL003", "monitoring"),
        ("NETPOL004", "shop"),
        ("NETPOL004", "monitoring"),
        ("NETPOL006", "prometheus-split"),
        ("NETPOL007", "prometheus-split"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(got, want);
    let split = f.iter().find(|f| f.rule == "NETPOL006").unwrap();
    assert_eq!(split.field, "spec.ingress[0].from");
    assert!(split.line > 1);
}
