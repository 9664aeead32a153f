//! NetworkPolicy conformance: kubescape regolibrary (C-0260, C-0054/C-0206, C-0299), Polaris
//! `missingNetworkPolicy`, kube-score NetworkPolicy checks, kubeaudit `netpols`.
//! Disagreements: `testdata/netpol/conformance-disagreements.tsv`.

use crate::{
    AllowList, Outcome, case_dirs, findings, judge, kubescape_expected, load, object_id, testdata,
};
use palisade_graph::netpol::Netpol;
use std::collections::BTreeSet;
use std::path::PathBuf;

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
