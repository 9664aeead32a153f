//! PSA's own conformance fixtures turned into AdmissionReviews. Each `<level>/v1.N/` pod is
//! created in a namespace labelled `enforce=<level>, enforce-version=v1.N`: every fail
//! fixture must be denied with PSA's exact Forbidden status and message, every pass
//! fixture allowed without warnings; both carry only `enforce-policy`. The same pods as
//! Deployment templates in an audit+warn namespace are never denied and get PSA's
//! `would violate` warning and audit annotation exactly when they fail.

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use palisade_admit::{App, Config, router};
use palisade_rules::pss::{self, EvalOptions, Level, Policy, Version};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{admitter, ns, review, testdata};

/// PSA's expected error substring for a failing fixture, shared with palisade-rules' own
/// PSA conformance test.
fn expected_substring(stem: &str) -> &'static str {
    pss::fixtures::expected_substring(stem).unwrap_or_else(|| {
        panic!("fixture {stem:?} has no PSA generator with an expected substring")
    })
}

struct Fixture {
    case: String,
    level: Level,
    minor: u32,
    pass: bool,
    stem: String,
    pod: Value,
}

fn fixtures() -> Vec<Fixture> {
    let root = testdata("psa-testdata");
    let allow: BTreeSet<String> =
        std::fs::read_to_string(testdata("pss-extra/conformance-allowlist.txt"))
            .unwrap()
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
    let mut out = Vec::new();
    for level_name in ["baseline", "restricted"] {
        for entry in std::fs::read_dir(root.join(level_name)).unwrap() {
            let dir = entry.unwrap().file_name().into_string().unwrap();
            let minor: u32 = dir.strip_prefix("v1.").unwrap().parse().unwrap();
            for verdict in ["pass", "fail"] {
                let path = root.join(format!("{level_name}/{dir}/{verdict}"));
                let loaded = palisade_yaml::load_paths(&[&path], &palisade_yaml::Limits::default());
                assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
                for doc in loaded.documents {
                    let p = Path::new(&*doc.file);
                    let file = p.file_name().unwrap().to_str().unwrap().to_owned();
                    let case = format!("{level_name}/{dir}/{verdict}/{file}");
                    if allow.contains(&case) {
                        continue;
                    }
                    out.push(Fixture {
                        case,
                        level: level_name.parse().unwrap(),
                        minor,
                        pass: verdict == "pass",
                        stem: p.file_stem().unwrap().to_str().unwrap().to_owned(),
                        pod: doc.value,
                    });
                }
            }
        }
    }
    out
}

fn ns_name(prefix: &str, level: Level, minor: u32) -> String {
    format!("{prefix}-{level}-v1-{minor}")
}

async fn call(router: &axum::Router, review: &Value) -> Value {
    let req = Request::post("/validate")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(review).unwrap()))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["response"]["uid"], review["request"]["uid"]);
    assert!(v["response"].get("patch").is_none());
    v["response"].clone()
}

/// One namespace per level and policy version, labelled for `modes` at that level:version.
fn namespaces(prefix: &str, modes: &[&str]) -> Vec<palisade_admit::Namespace> {
    let mut out = Vec::new();
    for level in ["baseline", "restricted"] {
        for minor in 0..=pss::NEWEST_VERSION {
            let version = format!("v1.{minor}");
            let mut labels = Vec::new();
            for mode in modes {
                labels.push((
                    format!("pod-security.kubernetes.io/{mode}"),
                    level.to_owned(),
                ));
                labels.push((
                    format!("pod-security.kubernetes.io/{mode}-version"),
                    version.clone(),
                ));
            }
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            out.push(ns(&ns_name(prefix, level.parse().unwrap(), minor), &pairs));
        }
    }
    out
}

#[tokio::test]
async fn psa_fixtures_as_pod_reviews_in_enforce_namespaces() {
    let fixtures = fixtures();
    let namespaces = namespaces("enforce", &["enforce"]);
    let app = admitter(Config::default(), namespaces, vec![]);
    let router = router(App::new(app));
    let (mut denied, mut allowed) = (0, 0);
    let mut failures = Vec::new();
    for f in &fixtures {
        let mut pod = f.pod.clone();
        let namespace = ns_name("enforce", f.level, f.minor);
        pod["metadata"]["namespace"] = json!(namespace);
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        let resp = call(&router, &review(("", "pods"), &pod, None)).await;
        let label = format!("{}:v1.{}", f.level, f.minor);
        let annotations = json!({"enforce-policy": label});
        let ok = if f.pass {
            allowed += 1;
            resp == json!({"uid": resp["uid"], "allowed": true, "auditAnnotations": annotations})
        } else {
            denied += 1;
            let policy = Policy {
                level: f.level,
                version: Version::V1(f.minor),
            };
            let v = pss::evaluate_with(
                &policy,
                &pod["metadata"],
                &pod["spec"],
                &EvalOptions::default(),
            );
            let detail = pss::aggregate(&v);
            let expected = json!({
                "uid": resp["uid"],
                "allowed": false,
                "status": {
                    "status": "Failure",
                    "message": format!("pods \"{name}\" is forbidden: violates PodSecurity \"{label}\": {detail}"),
                    "reason": "Forbidden",
                    "details": {"name": name, "kind": "pods"},
                    "code": 403
                },
                "auditAnnotations": annotations
            });
            resp == expected && detail.contains(expected_substring(&f.stem))
        };
        if !ok {
            failures.push(format!("{}: {resp}", f.case));
        }
    }
    eprintln!(
        "PSA fixtures as reviews: {denied} denied, {allowed} allowed, {} wrong",
        failures.len()
    );
    assert_eq!(denied + allowed, 4537, "every fixture turned into a review");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn psa_fixtures_as_deployment_templates_warn_and_audit_only() {
    let fixtures = fixtures();
    let namespaces = namespaces("advisory", &["enforce", "audit", "warn"]);
    let app = admitter(Config::default(), namespaces, vec![]);
    let router = router(App::new(app));
    let mut failures = Vec::new();
    let mut warned = 0;
    for f in &fixtures {
        let namespace = ns_name("advisory", f.level, f.minor);
        let name = f.pod["metadata"]["name"].as_str().unwrap();
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {}, "template": {"metadata": f.pod["metadata"], "spec": f.pod["spec"]}}
        });
        let resp = call(&router, &review(("apps", "deployments"), &deployment, None)).await;
        let policy = Policy {
            level: f.level,
            version: Version::V1(f.minor),
        };
        let opts = EvalOptions {
            default_host_network_ports: false,
            apparmor_annotation_sync: false,
            ..EvalOptions::default()
        };
        let v = pss::evaluate_with(&policy, &f.pod["metadata"], &f.pod["spec"], &opts);
        let expected = if v.is_empty() {
            json!({"uid": resp["uid"], "allowed": true})
        } else {
            warned += 1;
            let msg = format!(
                "would violate PodSecurity \"{}:v1.{}\": {}",
                f.level,
                f.minor,
                pss::aggregate(&v)
            );
            json!({"uid": resp["uid"], "allowed": true, "warnings": [msg], "auditAnnotations": {"audit-violations": msg}})
        };
        if resp != expected {
            failures.push(format!("{}: {resp}", f.case));
        }
    }
    // Templates are not defaulted like pods (hostPort), so a few hostPort fail fixtures
    // pass as templates; nearly all fail fixtures must warn.
    assert!(warned > 3400, "{warned} warned");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
