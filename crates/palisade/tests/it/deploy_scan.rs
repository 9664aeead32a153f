//! deploy/scan: the CronJob that runs `palisade scan --cluster` in the cluster. Its manifests
//! scan clean at restricted (two waivers, each with its reason), and its ClusterRole grants
//! exactly the reads palisade-kube's lister makes: every listed kind readable, Secrets by
//! `list` only, no other verb.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;

fn objects() -> Vec<Value> {
    let loaded = palisade_yaml::load_paths(
        &[root().join("deploy/scan")],
        &palisade_yaml::Limits::default(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.documents.into_iter().map(|d| d.value).collect()
}

#[test]
fn deploy_scan_manifests_scan_clean_at_restricted() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .args([
            "scan",
            "--pss-level",
            "restricted",
            "-f",
            "json",
            "deploy/scan/",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    // The only waivers: no DNS egress (the scanner resolves no names) and the Secrets list.
    let mut waived: Vec<(&str, &str)> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["suppression"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    waived.sort_unstable();
    assert_eq!(
        waived,
        [("NETPOL007", "annotation"), ("RBAC002", "annotation")],
        "{report}"
    );
}

/// (apiGroup, resource) pairs a rule grants `verb` on.
fn granted(role: &Value, verb: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if !verbs.contains(&verb) {
            continue;
        }
        for g in rule["apiGroups"].as_array().unwrap() {
            for r in rule["resources"].as_array().unwrap() {
                out.insert((
                    g.as_str().unwrap().to_owned(),
                    r.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    out
}

#[test]
fn deploy_scan_role_is_exactly_what_the_lister_reads() {
    let objs = objects();
    let role = objs
        .iter()
        .find(|o| o["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    // Read verbs only, on no subresource, no wildcard.
    for rule in role["rules"].as_array().unwrap() {
        for v in rule["verbs"].as_array().unwrap() {
            assert!(
                ["get", "list", "watch"].contains(&v.as_str().unwrap()),
                "{rule}"
            );
        }
        for r in rule["resources"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            assert!(!r.contains('/') && r != "*", "{rule}");
        }
        assert!(rule.get("resourceNames").is_none() && rule.get("nonResourceURLs").is_none());
    }
    let lists = granted(role, "list");
    let wanted: BTreeSet<(String, String)> = palisade_kube::KINDS
        .iter()
        .map(|k| (k.group.to_owned(), k.plural.to_owned()))
        .collect();
    assert_eq!(
        lists, wanted,
        "list is granted on exactly the kinds the lister reads"
    );
    // get/watch on everything but Secrets, whose values `get` and `watch` would hand over.
    for verb in ["get", "watch"] {
        let g = granted(role, verb);
        let mut expected = wanted.clone();
        expected.remove(&(String::new(), "secrets".to_owned()));
        assert_eq!(g, expected, "{verb}");
    }
    // Bound to the CronJob's service account.
    let binding = objs
        .iter()
        .find(|o| o["kind"] == "ClusterRoleBinding")
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let cron = objs.iter().find(|o| o["kind"] == "CronJob").unwrap();
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(binding["subjects"][0]["name"], pod["serviceAccountName"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        cron["metadata"]["namespace"]
    );
    let args: Vec<&str> = pod["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&args[..2], ["scan", "--cluster"]);
    // The in-cluster client's files, at the path it reads them from.
    let mount = &pod["containers"][0]["volumeMounts"][0];
    assert_eq!(
        mount["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    let sources = pod["volumes"][0]["projected"]["sources"].to_string();
    for file in ["\"token\"", "\"ca.crt\"", "\"namespace\""] {
        assert!(sources.contains(file), "{sources}");
    }
}

#[test]
fn deploy_scan_kustomization_lists_every_file() {
    let dir = root().join("deploy/scan");
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 6);
    for f in files {
        assert!(
            text.contains(&format!("  - {f}\n")),
            "{f} missing from the kustomization"
        );
    }
}
