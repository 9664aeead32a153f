//! `palisade netpol can-reach` / `netpol report` and the `netpol` family in `palisade scan`.

use crate::rbac::{json, palisade};
use serde_json::Value;

const EDGE: &str = "testdata/netpol/edge-cases/policies.yaml";

#[test]
fn can_reach_json_contract() {
    let (code, v) = json(&[
        "netpol",
        "can-reach",
        "monitoring/Deployment/prometheus",
        "shop/Deployment/api",
        "--port",
        "9090",
        "--format",
        "json",
        EDGE,
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["allowed"], true);
    // FROM and TO come back in the form they were given (namespace/Kind/name).
    assert_eq!(v["from"], "monitoring/Deployment/prometheus");
    assert_eq!(v["to"], "shop/Deployment/api");
    assert_eq!(
        v["policies"],
        serde_json::json!([
            "monitoring/prometheus-split",
            "shop/backend-from-prometheus"
        ])
    );
    assert_eq!(v["protocol"], "TCP");
    let (code, v) = json(&[
        "netpol",
        "can-reach",
        "shop/deployment/frontend",
        "shop/Deployment/api",
        "--port",
        "9090",
        "--protocol",
        "tcp",
        "-f",
        "json",
        EDGE,
    ]);
    assert_eq!(v["allowed"], false);
    assert_eq!(code, 1, "DENIED exits 1");
    assert_eq!(v["from"], "shop/Deployment/frontend");
    assert_eq!(v["ingress"]["isolated"], true);
    assert_eq!(v["egress"]["isolated"], false);
    assert!(
        v["policies"]
            .as_array()
            .unwrap()
            .contains(&Value::from("shop/default-deny"))
    );
}

#[test]
fn can_reach_table_and_errors() {
    let out = palisade()
        .args([
            "netpol",
            "can-reach",
            "shop/StatefulSet/db",
            "shop/Deployment/api",
            EDGE,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "DENIED exits 1");
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.starts_with("shop/StatefulSet/db -> shop/Deployment/api any port/TCP: DENIED"),
        "{t}"
    );
    assert!(t.contains("denied: isolated by shop/db-egress"), "{t}");
    let out = palisade()
        .args([
            "netpol",
            "can-reach",
            "shop/Deployment/nope",
            "shop/Deployment/api",
            EDGE,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("\"shop/Deployment/nope\" is not in the scanned objects")
            && e.contains("shop/Deployment/api"),
        "{e}"
    );
    for bad in [["--port", "70000"], ["--protocol", "ICMP"]] {
        let out = palisade()
            .args([
                "netpol",
                "can-reach",
                "shop/Deployment/frontend",
                "shop/Deployment/api",
            ])
            .args(bad)
            .arg(EDGE)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn report_per_namespace_and_workload() {
    let (code, v) = json(&["netpol", "report", "--format", "json", EDGE]);
    assert_eq!(code, 0);
    let shop = v
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["namespace"] == "shop")
        .unwrap();
    assert_eq!(shop["ingress"], "default-deny");
    assert_eq!(shop["egress"], "allow-policies-only");
    let fe = shop["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"] == "shop/Deployment/frontend")
        .unwrap();
    assert_eq!(fe["egress"]["isolation"], "not-isolated");
    let out = palisade()
        .args(["netpol", "report", EDGE])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("namespace shop") && t.contains("default-deny"),
        "{t}"
    );
}

#[test]
fn scan_reports_netpol_family() {
    let out = palisade()
        .args(["scan", "--format", "json", "--select", "netpol", EDGE])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let split = f.iter().find(|x| x["rule"] == "NETPOL006").unwrap();
    assert_eq!(split["field"], "spec.ingress[0].from");
    assert_eq!(split["file"], EDGE);
    assert!(split["line"].as_u64().unwrap() > 100);
    assert!(f.iter().all(|x| x["family"] == "netpol"));
}

#[test]
fn namespace_flag_places_manifests() {
    let bundle = "testdata/rbac/edge-cases/namespace-less-bundle.yaml";
    let namespaces = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| {
                format!(
                    "{}: {}",
                    n["namespace"].as_str().unwrap(),
                    n["workloads"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| w["workload"].as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect()
    };
    let (code, v) = json(&["netpol", "report", "-f", "json", bundle]);
    assert_eq!(code, 0);
    assert_eq!(
        namespaces(&v),
        ["default: default/StatefulSet/app-controller"]
    );
    let (code, v) = json(&["netpol", "report", "-n", "gitops", "-f", "json", bundle]);
    assert_eq!(code, 0);
    assert_eq!(
        namespaces(&v),
        ["gitops: gitops/StatefulSet/app-controller"]
    );
    let (code, v) = json(&[
        "netpol",
        "can-reach",
        "gitops/StatefulSet/app-controller",
        "gitops/StatefulSet/app-controller",
        "--namespace",
        "gitops",
        "-f",
        "json",
        bundle,
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["allowed"], true);
}

/// Two workloads in a namespace the file has no NetworkPolicy or Namespace object for, as a
/// per-file scan meets them, and one in a namespace it has a policy for.
const LONE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: data}\nspec:\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: data}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";

#[test]
fn assume_complete_judges_namespaces_the_files_say_nothing_about() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lone.yaml");
    std::fs::write(&file, LONE).unwrap();
    let file = file.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = palisade().args(args).arg(file).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };

    // report: the namespace without policies or Namespace object is `unknown`, and noted.
    let (code, table, err) = run(&["netpol", "report"]);
    assert_eq!(code, 0, "{err}");
    let row = |t: &str, what: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with(what))
            .unwrap_or_else(|| panic!("{what} missing:\n{t}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        row(&table, "namespace shop").contains("unknown unknown"),
        "{table}"
    );
    assert!(
        row(&table, "shop/Deployment/web").contains("unknown unknown"),
        "{table}"
    );
    assert!(
        row(&table, "namespace data").contains("default-deny default-deny"),
        "{table}"
    );
    assert!(
        err.contains("namespace shop")
            && err.contains("2 workload(s)")
            && err.contains("--assume-complete"),
        "{err}"
    );
    let (_, table, err) = run(&["netpol", "report", "--assume-complete"]);
    assert!(
        row(&table, "namespace shop").contains("not-isolated not-isolated"),
        "{table}"
    );
    assert!(!table.contains("unknown"), "{table}");
    assert!(err.is_empty(), "{err}");

    // JSON: `seen` says which namespaces the files speak for; the isolation values stay.
    let (code, v) = json(&["netpol", "report", "-f", "json", file]);
    assert_eq!(code, 0);
    let seen: Vec<(String, bool, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["namespace"].as_str().unwrap().to_owned(),
                n["seen"].as_bool().unwrap(),
                n["ingress"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("data".to_owned(), true, "default-deny".to_owned()),
            ("shop".to_owned(), false, "not-isolated".to_owned())
        ]
    );

    // can-reach answers as with no policies there, and says so unless told the files are all.
    let (code, out, err) = run(&[
        "netpol",
        "can-reach",
        "shop/Deployment/web",
        "shop/Deployment/api",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ALLOWED"), "{out}");
    assert!(
        err.contains("namespace shop") && err.contains("--assume-complete"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "netpol",
        "can-reach",
        "shop/Deployment/web",
        "shop/Deployment/api",
        "--assume-complete",
    ]);
    assert_eq!(code, 0);
    assert!(err.is_empty(), "{err}");
    // Both ends in namespaces with policies: nothing to note.
    let (code, _, err) = run(&[
        "netpol",
        "can-reach",
        "data/Deployment/db",
        "data/Deployment/db",
    ]);
    assert_eq!(code, 1, "default-deny both ways");
    assert!(err.is_empty(), "{err}");

    // scan (through palisade-graph's default): isolation is judged in `data` only, and a
    // note counts what was not judged.
    let out = palisade()
        .args([
            "scan",
            "--no-config",
            "--select",
            "netpol",
            "-f",
            "json",
            file,
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["object"]["namespace"] != "shop"),
        "{findings:#?}"
    );
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "netpol-incomplete"
                && n["message"]
                    .as_str()
                    .unwrap()
                    .contains("2 workloads in 1 namespace (shop)")),
        "{v:#}"
    );
}

/// `netpol report` and `can-reach` fit an 80-column terminal.
#[test]
fn netpol_output_fits_80_columns() {
    let wide = |args: &[&str], columns: &str| {
        let out = palisade()
            .env("COLUMNS", columns)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for args in [
        vec!["netpol", "report", EDGE],
        vec![
            "netpol",
            "can-reach",
            "shop/StatefulSet/db",
            "shop/Deployment/api",
            EDGE,
        ],
    ] {
        let at_300 = wide(&args, "300");
        assert!(
            at_300.lines().any(|l| l.chars().count() > 80),
            "{args:?}: nothing to wrap, the test would prove nothing:\n{at_300}"
        );
        let at_80 = wide(&args, "80");
        let long: Vec<&str> = at_80.lines().filter(|l| l.chars().count() > 80).collect();
        assert!(
            long.is_empty(),
            "{args:?}: lines over 80:\n{}",
            long.join("\n")
        );
        // Nothing is lost: the same words, only on more lines.
        let words = |t: &str| -> String { t.split_whitespace().collect::<Vec<_>>().concat() };
        assert_eq!(
            words(&at_80)
                .chars()
                .filter(|c| !",/:-".contains(*c))
                .count(),
            words(&at_300)
                .chars()
                .filter(|c| !",/:-".contains(*c))
                .count(),
            "{args:?}"
        );
    }
}
