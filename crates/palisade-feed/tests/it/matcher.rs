//! "Am I affected?" answers, hand-checked against the announcement bodies.

use crate::build;
use palisade_feed::matcher::{Target, affected, affected_all, cluster_targets};
use palisade_feed::render_json_feed;
use palisade_feed::version::Version;

fn feed() -> palisade_feed::feed::JsonFeed {
    let json = render_json_feed(&build("cve-feed/github-pages-2025"));
    palisade_feed::matcher::load_feed(json.as_bytes(), "feed.json").unwrap()
}

fn target(component: Option<&str>, version: &str) -> Target {
    Target {
        label: "query".into(),
        component: component.map(str::to_owned),
        version: Version::parse(version).unwrap(),
    }
}

#[test]
fn kube_apiserver_1_27_1_and_cve_2023_2727() {
    let f = feed();
    let m = affected(&f, &target(Some("kube-apiserver"), "v1.27.1"));
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2023-2727")
        .expect("CVE-2023-2727 applies to kube-apiserver 1.27.1");
    assert_eq!(hit.fixed.as_deref(), Some("1.27.3"));
    assert_eq!(hit.severity.as_deref(), Some("medium"));
    assert_eq!(hit.package, "k8s.io/apiserver");
    assert!(m.iter().any(|m| m.id == "CVE-2023-2728"));
    // Fixed versions and branches outside the ranges are not affected.
    for v in ["1.27.3", "1.26.6", "1.28.0"] {
        assert!(
            !affected(&f, &target(Some("kube-apiserver"), v))
                .iter()
                .any(|m| m.id == "CVE-2023-2727"),
            "{v}"
        );
    }
    assert!(
        affected(&f, &target(Some("kube-apiserver"), "1.24.14"))
            .iter()
            .any(|m| m.id == "CVE-2023-2727")
    );
    // Not a kubelet CVE.
    assert!(
        !affected(&f, &target(Some("kubelet"), "1.27.1"))
            .iter()
            .any(|m| m.id == "CVE-2023-2727")
    );
}

#[test]
fn whole_release_ranges_apply_to_every_core_component() {
    let f = feed();
    // CVE-2023-2431's lines name no component: the release 1.27.0-1.27.1 is affected.
    let m = affected(&f, &target(Some("kubelet"), "1.27.1"));
    let hit = m.iter().find(|m| m.id == "CVE-2023-2431").unwrap();
    assert_eq!(
        (hit.component.as_str(), hit.fixed.as_deref()),
        ("kubernetes", Some("1.27.2"))
    );
    // Without --component: core components only, so ingress-nginx CVEs do not show up.
    let all = affected(&f, &target(None, "1.11.1"));
    assert!(!all.iter().any(|m| m.component == "ingress-nginx"));
    let nginx = affected(&f, &target(Some("ingress-nginx"), "1.11.1"));
    assert!(
        nginx
            .iter()
            .any(|m| m.id == "CVE-2024-7646" && m.fixed.as_deref() == Some("1.11.2"))
    );
    assert!(
        !affected(&f, &target(Some("ingress-nginx"), "1.10.4"))
            .iter()
            .any(|m| m.id == "CVE-2024-7646")
    );
}

#[test]
fn cluster_answer() {
    let f = feed();
    let mut targets = cluster_targets(br#"{"clientVersion":{"gitVersion":"v1.28.3"},"serverVersion":{"gitVersion":"v1.27.1-eks-2f008fe"}}"#, "version.json").unwrap();
    targets.extend(cluster_targets(br#"{"apiVersion":"v1","kind":"List","items":[{"metadata":{"name":"node-a"},"status":{"nodeInfo":{"kubeletVersion":"v1.26.3","kubeProxyVersion":"v1.26.3"}}},{"metadata":{"name":"node-b"},"status":{"nodeInfo":{"kubeletVersion":"v1.27.1"}}}]}"#, "nodes.json").unwrap());
    let m = affected_all(&f, &targets);
    let hit = m.iter().find(|m| m.id == "CVE-2023-2727").unwrap();
    assert_eq!(hit.targets, ["control plane"]);
    // CVE-2023-2431 (kubelet seccomp, whole-release lines) on both node versions and the control plane version.
    let seccomp: Vec<(&str, &Vec<String>)> = m
        .iter()
        .filter(|m| m.id == "CVE-2023-2431")
        .map(|m| (m.version.as_str(), &m.targets))
        .collect();
    assert!(
        seccomp
            .iter()
            .any(|(v, t)| *v == "1.26.3" && t.contains(&"node node-a".to_owned())),
        "{seccomp:?}"
    );
    assert!(
        seccomp.iter().any(|(v, t)| *v == "1.27.1"
            && t.contains(&"node node-b".to_owned())
            && t.contains(&"control plane".to_owned())),
        "{seccomp:?}"
    );
    // Sorted by score, highest first.
    assert!(
        m.windows(2)
            .all(|w| w[0].base_score.unwrap_or(-1.0) >= w[1].base_score.unwrap_or(-1.0))
    );
}
