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
