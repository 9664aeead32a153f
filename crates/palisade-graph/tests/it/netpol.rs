//! NetworkPolicy conformance: kubescape regolibrary (C-0260, C-0054/C-0206, C-0299), Polaris
//! `missingNetworkPolicy`, kube-score NetworkPolicy checks, kubeaudit `netpols`.
//! Disagreements: `testdata/netpol/conformance-disagreements.tsv`.

use crate::{AllowList, Outcome, case_dirs, judge, kubescape_expected, load, object_id, testdata};
use palisade_core::{Document, Finding, InputError};
use palisade_graph::netpol::{Netpol, NetpolOptions};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Findings of exactly these rules, judging every namespace: the peers' fixtures are whole
/// clusters to their tools (a lone Deployment is "not isolated"), which is
/// `--assume-complete`.
fn findings(docs: &[Document], rules: &[&str]) -> Vec<Finding> {
    analysis(docs, rules, true).0
}

/// Findings and notes of these rules, with or without `assume_complete`.
fn analysis(
    docs: &[Document],
    rules: &[&str],
    assume_complete: bool,
) -> (Vec<Finding>, Vec<InputError>) {
    let a = palisade_graph::analysis_with_netpol(
        docs,
        &|r| rules.contains(&r.id),
        &palisade_graph::Options::default(),
        NetpolOptions { assume_complete },
    );
    (a.findings, a.notes)
}

fn allow() -> AllowList {
    AllowList::read(&testdata("netpol/conformance-disagreements.tsv"))
}

fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Workloads (`Kind/name`) flagged by both NETPOL001 and NETPOL002: selected by no policy.
fn unselected(docs: &[palisade_core::Document]) -> BTreeSet<String> {
    let f = findings(docs, &["NETPOL001", "NETPOL002"]);
    let ing: BTreeSet<String> = f
        .iter()
        .filter(|x| x.rule == "NETPOL001")
        .map(|x| object_id(&x.object))
        .collect();
    let eg: BTreeSet<String> = f
        .iter()
        .filter(|x| x.rule == "NETPOL002")
        .map(|x| object_id(&x.object))
        .collect();
    ing.intersection(&eg).cloned().collect()
}

#[test]
fn kubescape_regolibrary_netpol() {
    let cases = case_dirs(&testdata("netpol/kubescape-regolibrary/rules"));
    assert_eq!(cases.len(), 34, "kubescape NetworkPolicy cases");
    let mut outcomes = Vec::new();
    for (rule, case, dir) in &cases {
        let docs = load(&files(&dir.join("input")));
        let got = match rule.as_str() {
            "ensure_network_policy_configured_in_labels" => unselected(&docs),
            "dangling-networkpolicy" => findings(&docs, &["NETPOL005"])
                .iter()
                .map(|f| object_id(&f.object))
                .collect(),
            "internal-networking" => {
                let m = Netpol::build(&docs);
                m.report()
                    .iter()
                    .filter(|n| n.policies == 0)
                    .filter(|n| {
                        m.namespaces
                            .iter()
                            .any(|x| x.name == n.namespace && x.doc.is_some())
                    })
                    .map(|n| format!("Namespace/{}", n.namespace))
                    .collect()
            }
            other => panic!("no mapping for {other}"),
        };
        outcomes.push(Outcome {
            case: format!("{rule}/{case}"),
            expected: kubescape_expected(dir),
            got,
        });
    }
    judge("kubescape", &outcomes, &allow());
}

#[test]
fn polaris_missing_network_policy() {
    let mut outcomes = Vec::new();
    for f in files(&testdata("netpol/polaris/missingNetworkPolicy")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let docs = load(std::slice::from_ref(&f));
        let flagged = !findings(&docs, &["NETPOL001", "NETPOL002"]).is_empty();
        let v = |b: bool| BTreeSet::from([if b { "fail" } else { "pass" }.to_owned()]);
        outcomes.push(Outcome {
            case: name.clone(),
            expected: v(name.starts_with("failure")),
            got: v(flagged),
        });
    }
    assert_eq!(outcomes.len(), 6);
    judge("polaris", &outcomes, &allow());
}

#[test]
fn kube_score_network_policy() {
    let dir = testdata("netpol/kube-score");
    let text = std::fs::read_to_string(dir.join("EXPECTATIONS.tsv")).unwrap();
    let mut outcomes = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, check, grade) = (cols[1], cols[3], cols[4]);
        let docs = load(&[dir.join(file)]);
        let got = match check {
            "Pod NetworkPolicy" => {
                let f = findings(&docs, &["NETPOL001", "NETPOL002"]);
                let ing = f.iter().any(|x| x.rule == "NETPOL001");
                let eg = f.iter().any(|x| x.rule == "NETPOL002");
                match (ing, eg) {
                    (true, true) => "GradeCritical",
                    (false, false) => "GradeAllOK",
                    _ => "GradeWarning",
                }
            }
            "NetworkPolicy targets Pod" => {
                if findings(&docs, &["NETPOL005"]).is_empty() {
                    "GradeAllOK"
                } else {
                    "GradeCritical"
                }
            }
            other => panic!("no mapping for kube-score {other}"),
        };
        outcomes.push(Outcome {
            case: format!("{file} {check}"),
            expected: BTreeSet::from([grade.to_owned()]),
            got: BTreeSet::from([got.to_owned()]),
        });
    }
    assert_eq!(outcomes.len(), 21);
    judge("kube-score", &outcomes, &allow());
}

#[test]
fn kubeaudit_netpols() {
    let dir = testdata("netpol/kubeaudit");
    let text = std::fs::read_to_string(dir.join("EXPECTATIONS.tsv")).unwrap();
    let mut outcomes = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, names, raw) = (cols[1], cols[2], cols[3]);
        // Only the rows from the auditor's expected-results table.
        if !(raw.starts_with("[]string") || raw == "nil") {
            continue;
        }
        let mut expected = BTreeSet::new();
        for n in names.split_whitespace() {
            // `...Allowed` is the same result overridden by a kubeaudit label: still reported.
            match n.trim_end_matches("Allowed") {
                "MissingDefaultDenyIngressAndEgressNetworkPolicy" => {
                    expected.insert("NETPOL003".to_owned());
                    expected.insert("NETPOL004".to_owned());
                }
                "MissingDefaultDenyIngressNetworkPolicy" => {
                    expected.insert("NETPOL003".to_owned());
                }
                "MissingDefaultDenyEgressNetworkPolicy" => {
                    expected.insert("NETPOL004".to_owned());
                }
                "AllowAllIngressNetworkPolicyExists" | "AllowAllEgressNetworkPolicyExists" => {
                    expected.insert("NETPOL009".to_owned());
                }
                other => panic!("no mapping for kubeaudit {other}"),
            }
        }
        let docs = load(&[dir.join(file)]);
        let got = findings(&docs, &["NETPOL003", "NETPOL004", "NETPOL009"])
            .into_iter()
            .map(|f| f.rule)
            .collect();
        outcomes.push(Outcome {
            case: file.to_owned(),
            expected,
            got,
        });
    }
    assert_eq!(outcomes.len(), 9);
    judge("kubeaudit", &outcomes, &allow());
}

#[test]
fn repeated_policies_are_named_once() {
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: egress-only, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: 443}]}]\n";
    let limits = palisade_yaml::Limits::default();
    let docs: Vec<_> = ["a.yaml", "b.yaml"]
        .iter()
        .flat_map(|f| palisade_yaml::load_str(f, policy, &limits).documents)
        .collect();
    let found = findings(&docs, &["NETPOL007"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .message
            .ends_with("allows DNS (port 53): shop/egress-only (defined in 2 files)"),
        "{}",
        found[0].message
    );
}

/// Three namespaces, as three per-file scans meet them: `shop` known only from its
/// Deployment, `web` from its Namespace object, `api` from a NetworkPolicy (selecting other
/// pods). Isolation is judged in `web` and `api` only, unless the set is taken as complete.
#[test]
fn isolation_is_judged_only_where_policies_or_namespaces_were_scanned() {
    let docs = crate::load_str(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart, namespace: shop}\nspec:\n  template:\n    metadata:\n      labels: {app: cart}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: site, namespace: web}\nspec:\n  template:\n    metadata:\n      labels: {app: site}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-only, namespace: api}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gateway, namespace: api}\nspec:\n  template:\n    metadata:\n      labels: {app: gateway}\n    spec: {containers: [{name: c, image: i}]}\n",
    );
    let isolation = ["NETPOL001", "NETPOL002", "NETPOL003", "NETPOL004"];
    let seen = |f: &[Finding]| -> BTreeSet<String> {
        f.iter()
            .map(|x| {
                format!(
                    "{} {}",
                    x.rule,
                    x.object
                        .namespace
                        .as_deref()
                        .unwrap_or(&x.object.name.clone().unwrap_or_default())
                )
            })
            .collect()
    };

    let (found, notes) = analysis(&docs, &isolation, false);
    let got = seen(&found);
    for want in [
        "NETPOL001 web",
        "NETPOL002 web",
        "NETPOL001 api",
        "NETPOL002 api",
        "NETPOL003 web",
        "NETPOL004 web",
        "NETPOL003 api",
        "NETPOL004 api",
    ] {
        assert!(got.contains(want), "{want} missing from {got:?}");
    }
    assert!(
        !got.iter().any(|g| g.ends_with(" shop")),
        "shop was judged: {got:?}"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    assert_eq!(note.kind, "netpol-incomplete");
    assert_eq!((note.file.as_str(), note.document), ("test.yaml", Some(0)));
    assert_eq!(note.line, Some(7), "the shop Deployment's pod labels");
    assert!(
        note.message
            .contains("not judged for 1 workload in 1 namespace (shop)")
            && note.message.contains("--assume-complete"),
        "{}",
        note.message
    );

    let (all, notes) = analysis(&docs, &isolation, true);
    let got_all = seen(&all);
    for want in [
        "NETPOL001 shop",
        "NETPOL002 shop",
        "NETPOL003 shop",
        "NETPOL004 shop",
    ] {
        assert!(got_all.contains(want), "{want} missing from {got_all:?}");
    }
    assert_eq!(got_all.len(), got.len() + 4, "{got_all:?}");
    assert!(notes.is_empty(), "{notes:?}");

    // The note is about isolation rules: without them selected there is none; the lints of
    // policies do not depend on it.
    let (lints, notes) = analysis(&docs, &["NETPOL005"], false);
    assert_eq!(lints.len(), 1, "db-only selects nothing: {lints:?}");
    assert!(notes.is_empty(), "{notes:?}");

    // The model says which namespaces the set speaks for; the report carries it.
    let m = Netpol::build(&docs);
    assert!(!m.judged("shop") && m.judged("web") && m.judged("api"));
    assert!(!m.judged("elsewhere"));
    let seen_in_report: Vec<(String, bool)> = m
        .report()
        .iter()
        .map(|n| (n.namespace.clone(), n.seen))
        .collect();
    assert_eq!(
        seen_in_report,
        [
            ("api".to_owned(), true),
            ("shop".to_owned(), false),
            ("web".to_owned(), true)
        ]
    );
}

/// The entry points the scan uses (`analyze`, `analysis`) leave unjudged namespaces out, and
/// `analysis` returns the note with the findings.
#[test]
fn default_entry_points_do_not_judge_a_lone_workload() {
    let docs = crate::load_str(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n",
    );
    assert!(palisade_graph::analyze(&docs, &|_| true).is_empty());
    let a = palisade_graph::analysis(&docs, &|_| true, &palisade_graph::Options::default());
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    assert!(
        a.notes[0].message.contains("1 namespace (default)"),
        "{}",
        a.notes[0].message
    );
    let (complete, _) = analysis(&docs, &["NETPOL001", "NETPOL003"], true);
    assert_eq!(
        complete.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        ["NETPOL001", "NETPOL003"]
    );
}
