//! "Am I affected?" answers, hand-checked against the announcement bodies.

use crate::build;
use palisade_feed::matcher::{
    MatchOptions, Scope, Target, affected, affected_all, affected_all_with, affected_with,
    cluster_targets, node_os,
};
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
    // A kubelet issue (its text says so) whose lines say only "Kubernetes": the node at 1.27.1,
    // not the control plane at the same version.
    assert!(
        seccomp.iter().any(|(v, t)| *v == "1.27.1"
            && t.contains(&"node node-b".to_owned())
            && !t.contains(&"control plane".to_owned())),
        "{seccomp:?}"
    );
    // Sorted by score, highest first.
    assert!(
        m.windows(2)
            .all(|w| w[0].base_score.unwrap_or(-1.0) >= w[1].base_score.unwrap_or(-1.0))
    );
}

fn ids_for(f: &palisade_feed::feed::JsonFeed, component: &str, version: &str) -> Vec<String> {
    affected(f, &target(Some(component), version))
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// Issue 13 item 12, on the real announcements: whole-release lines ("v1.27.0 - v1.27.1", "All
/// versions of Kubernetes") are narrowed by what the issue itself names.
#[test]
fn other_components_cves_are_not_reported() {
    let f = feed();
    for (id, version, about) in [
        // kubelet-only: the body says "discovered in Kubelet" / "This bug affects kubelet".
        ("CVE-2023-2431", "1.27.1", "kubelet"),
        ("CVE-2021-25741", "1.22.1", "kubelet"),
        // "Affected Components: kubelet" under a line "All versions of Kubernetes".
        ("CVE-2025-1767", "1.32.2", "kubelet"),
        // Windows nodes only (title), kubelet (Affected Components).
        ("CVE-2024-9042", "1.32.0", "kubelet"),
        // kubectl cp (title).
        ("CVE-2019-11249", "1.14.0", "kubectl"),
    ] {
        assert!(
            !ids_for(&f, "kube-apiserver", version).contains(&id.to_owned()),
            "{id} reported for kube-apiserver {version}"
        );
        assert!(
            ids_for(&f, about, version).contains(&id.to_owned()),
            "{id} not reported for {about} {version}"
        );
    }
    assert!(!ids_for(&f, "kube-proxy", "1.32.0").contains(&"CVE-2024-9042".to_owned()));
    // CVE-2020-8554 (LoadBalancer/ExternalIPs MitM, "All Kubernetes versions") is a cluster
    // design flaw: the servers, not the kubectl client.
    assert!(!ids_for(&f, "kubectl", "1.29.0").contains(&"CVE-2020-8554".to_owned()));
    assert!(ids_for(&f, "kube-apiserver", "1.29.0").contains(&"CVE-2020-8554".to_owned()));
}

#[test]
fn matches_say_why_and_can_be_kept_to_the_component() {
    let f = feed();
    let get = |component: &str, version: &str, id: &str| {
        affected(&f, &target(Some(component), version))
            .into_iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("{id} for {component} {version}"))
    };
    // The line names the component.
    let m = get("kube-apiserver", "1.27.1", "CVE-2023-2727");
    assert_eq!(m.scope, Scope::Component);
    assert_eq!(m.lines, ["kube-apiserver v1.27.0 - v1.27.2"]);
    assert!(m.reason.contains("names kube-apiserver"), "{}", m.reason);
    // The line names all of Kubernetes; the issue's text names the kubelet.
    let m = get("kubelet", "1.27.1", "CVE-2023-2431");
    assert_eq!(
        (m.scope, m.component.as_str()),
        (Scope::Issue, "kubernetes")
    );
    assert_eq!(m.lines, ["v1.27.0 - v1.27.1"]);
    assert!(
        m.reason.contains("names all of Kubernetes") && m.reason.contains("about kubelet"),
        "{}",
        m.reason
    );
    let m = get("kubelet", "1.32.0", "CVE-2024-9042");
    assert!(m.reason.contains("windows nodes"), "{}", m.reason);
    assert_eq!(m.os.as_deref(), Some("windows"));
    // A line naming kubelet on a Windows-only issue says so too.
    let m = get("kubelet", "1.28.0", "CVE-2023-3676");
    assert_eq!(m.scope, Scope::Component);
    assert!(m.reason.contains("only windows nodes"), "{}", m.reason);
    assert!(
        get("kube-apiserver", "1.29.0", "CVE-2020-8554")
            .os
            .is_none()
    );
    // Nothing narrows it.
    let m = get("kube-apiserver", "1.29.0", "CVE-2020-8554");
    assert_eq!(m.scope, Scope::Kubernetes);
    assert_eq!(
        m.lines,
        [
            "All Kubernetes versions are affected. Multi-tenant clusters that grant tenants the ability to create and update services and pods are most vulnerable."
        ]
    );
    // --component-specific keeps only what names the component.
    let strict = MatchOptions {
        component_specific: true,
        ..MatchOptions::default()
    };
    let all = affected(&f, &target(Some("kube-apiserver"), "1.29.0"));
    let kept = affected_with(&f, &target(Some("kube-apiserver"), "1.29.0"), &strict);
    assert!(kept.len() < all.len());
    assert!(!kept.iter().any(|m| m.id == "CVE-2020-8554"));
    assert!(kept.iter().all(|m| m.scope != Scope::Kubernetes));
    assert!(
        affected_with(&f, &target(Some("kubelet"), "1.27.1"), &strict)
            .iter()
            .any(|m| m.id == "CVE-2023-2431")
    );
    // In JSON: scope as a word, the lines and the reason.
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["scope"], "kubernetes");
    assert!(
        json["reason"]
            .as_str()
            .unwrap()
            .contains("All Kubernetes versions")
    );
    assert!(json["lines"].is_array());
}

/// The narrowing is also read from GitHub labels, which the recorded pages do not carry.
#[test]
fn issue_labels_narrow_whole_release_lines() {
    let page = serde_json::json!([{
        "number": 1, "title": "CVE-2099-0001: Something in the node agent",
        "html_url": "https://github.com/kubernetes/kubernetes/issues/1",
        "state": "closed", "state_reason": "completed",
        "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-02T00:00:00Z",
        "labels": [{"name": "official-cve-feed"}, {"name": "area/kubelet"}, {"name": "sig/node"}],
        "body": "#### Affected Versions\n- v1.30.0 - v1.30.2\n#### Fixed Versions\n- v1.30.3\n"
    }]);
    let (issues, _) = palisade_feed::parse_page(
        page.to_string().as_bytes(),
        "labels.json",
        &palisade_feed::Limits::default(),
    )
    .unwrap();
    let built = palisade_feed::Feed::from_issues(
        &issues,
        &palisade_feed::BuildOptions {
            now: crate::NOW.to_owned(),
            ..Default::default()
        },
    );
    let json = render_json_feed(&built);
    let f = palisade_feed::matcher::load_feed(json.as_bytes(), "f").unwrap();
    assert!(ids_for(&f, "kubelet", "1.30.1").contains(&"CVE-2099-0001".to_owned()));
    assert!(ids_for(&f, "kube-apiserver", "1.30.1").is_empty());
    let m = &affected(&f, &target(Some("kubelet"), "1.30.1"))[0];
    assert!(m.reason.contains("label area/kubelet"), "{}", m.reason);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["items"][0]["_kubernetes_io"]["about"]["components"],
        serde_json::json!(["kubelet"])
    );
}

/// Windows-node-only CVEs (CVE-2023-3676: "Insufficient input sanitization on Windows nodes",
/// lines `kubelet <= v1.27.4`) are not reported for nodes that say they run Linux.
#[test]
fn windows_only_cves_skip_linux_nodes() {
    let f = feed();
    let nodes = br#"{"kind":"List","items":[
        {"metadata":{"name":"lin"},"status":{"nodeInfo":{"kubeletVersion":"v1.27.4","operatingSystem":"linux"}}},
        {"metadata":{"name":"win"},"status":{"nodeInfo":{"kubeletVersion":"v1.27.4","operatingSystem":"windows"}}},
        {"metadata":{"name":"old"},"status":{"nodeInfo":{"kubeletVersion":"v1.27.4"}}}]}"#;
    let targets = cluster_targets(nodes, "nodes.json").unwrap();
    let options = MatchOptions {
        target_os: node_os(nodes),
        ..MatchOptions::default()
    };
    assert_eq!(
        options.target_os,
        [
            ("node lin".to_owned(), "linux".to_owned()),
            ("node win".to_owned(), "windows".to_owned())
        ]
    );
    let m = affected_all_with(&f, &targets, &options);
    let hit = m.iter().find(|m| m.id == "CVE-2023-3676").unwrap();
    assert_eq!(hit.targets, ["node win", "node old"]);
    assert_eq!(hit.os.as_deref(), Some("windows"));
    // A Linux node still gets everything that is not Windows-only.
    let not_windows_only: Vec<&palisade_feed::matcher::Match> =
        m.iter().filter(|m| m.os.is_none()).collect();
    assert!(!not_windows_only.is_empty());
    assert!(
        not_windows_only
            .iter()
            .all(|m| m.targets.contains(&"node lin".to_owned()))
    );
    // Without the OS map every node gets it.
    let all = affected_all(&f, &targets);
    let hit = all.iter().find(|m| m.id == "CVE-2023-3676").unwrap();
    assert_eq!(hit.targets.len(), 3);
}
