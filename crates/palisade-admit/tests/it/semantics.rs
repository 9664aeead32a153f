//! PSA behaviour beyond single-pod verdicts: label errors and fallbacks, namespace label
//! validation, the relabel dry run over existing pods (dedup per controller, bounds),
//! exemptions, significant updates, subresources, malformed reviews, and the rule families
//! beyond PSS switched on per family/rule.

use axum::http::StatusCode;
use palisade_admit::{Config, Mode};
use palisade_core::Document;
use palisade_rules::{ScanOptions, Selection};
use serde_json::{Value, json};

use crate::{admitter, decide, ns, post, review};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

fn pod(name: &str, namespace: &str, security: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "nginx:1", "securityContext": security}]}
    })
}

fn namespace_obj(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn ns_review(object: &Value, old: Option<&Value>) -> Value {
    let mut r = review(("", "namespaces"), object, old);
    r["request"]["namespace"] = object["metadata"]["name"].clone();
    r
}

#[tokio::test]
async fn invalid_labels_fail_closed_and_are_audited() {
    let app = admitter(
        Config::default(),
        vec![ns("team", &[(ENFORCE, "strict")])],
        vec![],
    );
    let r = decide(
        &app,
        &review(("", "pods"), &pod("p", "team", json!({})), None),
    )
    .await;
    assert_eq!(r["allowed"], false);
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .starts_with("pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": "),
        "{r}"
    );
    assert_eq!(
        r["auditAnnotations"]["error"],
        "Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
    );
}

#[tokio::test]
async fn namespace_label_validation() {
    let app = admitter(Config::default(), vec![], vec![]);
    let bad = namespace_obj(
        "team",
        json!({ENFORCE: "strict", "pod-security.kubernetes.io/warn-version": "v1.025"}),
    );
    let r = decide(&app, &ns_review(&bad, None)).await;
    assert_eq!(r["allowed"], false);
    assert_eq!(
        r["status"],
        json!({
            "status": "Failure",
            "message": "Namespace \"team\" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"v1.025\": must be \"latest\" or \"v1.x\"]",
            "reason": "Invalid",
            "details": {"name": "team", "kind": "Namespace", "causes": [
                {"reason": "FieldValueInvalid", "message": "Invalid value: \"strict\": must be one of privileged, baseline, restricted", "field": "metadata.labels[pod-security.kubernetes.io/enforce]"},
                {"reason": "FieldValueInvalid", "message": "Invalid value: \"v1.025\": must be \"latest\" or \"v1.x\"", "field": "metadata.labels[pod-security.kubernetes.io/warn-version]"}
            ]},
            "code": 422
        })
    );
    // An update that keeps the same invalid labels is not blocked (PSA only rejects new errors).
    let mut same = bad.clone();
    same["metadata"]["labels"]["team"] = json!("x");
    let r = decide(&app, &ns_review(&same, Some(&bad))).await;
    assert_eq!(r["allowed"], true, "{r}");
    // Valid labels are fine.
    let good = namespace_obj("team", json!({ENFORCE: "baseline"}));
    assert_eq!(decide(&app, &ns_review(&good, None)).await["allowed"], true);
    assert_eq!(
        decide(&app, &ns_review(&good, Some(&bad))).await["allowed"],
        true
    );
}

fn owned(mut pod: Value, uid: &str) -> Value {
    pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": true}]);
    pod
}

#[tokio::test]
async fn tightening_enforce_warns_about_existing_pods() {
    let privileged = json!({"privileged": true});
    let pods = vec![
        owned(pod("web-b", "team", privileged.clone()), "rs-1"),
        owned(pod("web-a", "team", privileged.clone()), "rs-1"),
        owned(pod("web-c", "team", privileged.clone()), "rs-1"),
        pod("solo", "team", privileged.clone()),
        pod("fine", "team", json!({})),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hostnet", "namespace": "team"},
               "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x"}]}}),
        pod("other-ns", "elsewhere", privileged),
    ];
    let app = admitter(Config::default(), vec![], pods.clone());
    let old = namespace_obj("team", json!({}));
    let new = namespace_obj("team", json!({ENFORCE: "baseline"}));
    let r = decide(&app, &ns_review(&new, Some(&old))).await;
    assert_eq!(r["allowed"], true);
    assert_eq!(
        r["warnings"],
        json!([
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "hostnet: host namespaces",
            "solo (and 3 other pods): privileged"
        ])
    );
    // Relaxing, or unchanged enforce, dry-runs nothing.
    let r = decide(&app, &ns_review(&old, Some(&new))).await;
    assert_eq!(r, json!({"uid": r["uid"], "allowed": true}));

    // Bounded like PSA: at most namespaceMaxPods pods, one per controller first.
    let mut config = Config::default();
    config.limits.namespace_max_pods = 2;
    let app = admitter(config, vec![], pods);
    let r = decide(&app, &ns_review(&new, Some(&old))).await;
    let w = r["warnings"].as_array().unwrap();
    assert_eq!(
        w[0],
        "new PodSecurity enforce level only checked against the first 2 of 6 existing pods"
    );
    assert_eq!(w.len(), 3, "{w:?}");
}

#[tokio::test]
async fn relabel_check_respects_the_time_budget() {
    let pods: Vec<Value> = (0..3000)
        .map(|i| pod(&format!("p{i:04}"), "big", json!({"privileged": true})))
        .collect();
    let mut config = Config::default();
    config.limits.namespace_pod_check_timeout = std::time::Duration::from_nanos(1);
    let app = admitter(config, vec![], pods);
    let r = decide(
        &app,
        &ns_review(
            &namespace_obj("big", json!({ENFORCE: "restricted"})),
            Some(&namespace_obj("big", json!({}))),
        ),
    )
    .await;
    let w = r["warnings"].as_array().unwrap();
    assert_eq!(
        w[0],
        "new PodSecurity enforce level only checked against the first 1 of 3000 existing pods"
    );
    assert!(w[2].as_str().unwrap().starts_with("p0000: "), "{w:?}");
}

#[tokio::test]
async fn exemptions() {
    let config = Config::from_bytes(
        "c.yaml",
        b"apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: restricted}\nexemptions: {usernames: [ci-bot], namespaces: [kube-system], runtimeClasses: [kata]}\n",
    )
    .unwrap();
    let app = admitter(
        config,
        vec![ns("team", &[]), ns("kube-system", &[])],
        vec![],
    );
    let bad = pod("p", "team", json!({"privileged": true}));
    // The configured default (restricted) applies to an unlabelled namespace.
    assert_eq!(
        decide(&app, &review(("", "pods"), &bad, None)).await["allowed"],
        false
    );

    let mut by_user = review(("", "pods"), &bad, None);
    by_user["request"]["userInfo"]["username"] = json!("ci-bot");
    let r = decide(&app, &by_user).await;
    assert_eq!(
        r,
        json!({"uid": r["uid"], "allowed": true, "auditAnnotations": {"exempt": "user"}})
    );

    let r = decide(
        &app,
        &review(
            ("", "pods"),
            &pod("p", "kube-system", json!({"privileged": true})),
            None,
        ),
    )
    .await;
    assert_eq!(r["auditAnnotations"], json!({"exempt": "namespace"}));

    let mut kata = bad.clone();
    kata["spec"]["runtimeClassName"] = json!("kata");
    let r = decide(&app, &review(("", "pods"), &kata, None)).await;
    assert_eq!(r["auditAnnotations"], json!({"exempt": "runtimeClass"}));

    // Labelling an exempt namespace: allowed, with PSA's warning.
    let r = decide(
        &app,
        &ns_review(
            &namespace_obj(
                "kube-system",
                json!({ENFORCE: "baseline", "pod-security.kubernetes.io/audit": "restricted"}),
            ),
            None,
        ),
    )
    .await;
    assert_eq!(
        r["warnings"],
        json!([
            "namespace \"kube-system\" is exempt from Pod Security, and the policy (enforce=baseline:latest, audit=restricted:latest) will be ignored"
        ])
    );
}

#[tokio::test]
async fn updates_subresources_and_workloads() {
    let app = admitter(
        Config::default(),
        vec![ns("team", &[(ENFORCE, "baseline")])],
        vec![],
    );
    let old = pod("p", "team", json!({"privileged": true}));
    // A label change on an already-running violating pod is not significant: allowed.
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"tier": "web"});
    let r = decide(&app, &review(("", "pods"), &relabelled, Some(&old))).await;
    assert_eq!(r, json!({"uid": r["uid"], "allowed": true}));
    // An image change is: evaluated and denied.
    let mut new_image = old.clone();
    new_image["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert_eq!(
        decide(&app, &review(("", "pods"), &new_image, Some(&old))).await["allowed"],
        false
    );
    // Adding a privileged ephemeral container through pods/ephemeralcontainers: denied.
    let fine = pod("p", "team", json!({}));
    let mut debug = fine.clone();
    debug["spec"]["ephemeralContainers"] =
        json!([{"name": "debug", "image": "busybox", "securityContext": {"privileged": true}}]);
    let mut eph = review(("", "pods"), &debug, Some(&fine));
    eph["request"]["subResource"] = json!("ephemeralcontainers");
    let r = decide(&app, &eph).await;
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("container \"debug\" must not set securityContext.privileged=true"),
        "{r}"
    );
    // exec is ignored.
    let mut exec = review(("", "pods"), &old, None);
    exec["request"]["subResource"] = json!("exec");
    exec["request"]["operation"] = json!("CONNECT");
    exec["request"]["object"] =
        json!({"kind": "PodExecOptions", "apiVersion": "v1", "command": ["sh"]});
    assert_eq!(
        decide(&app, &exec).await,
        json!({"uid": exec["request"]["uid"], "allowed": true})
    );
    // A CronJob's template is warned about (warn follows enforce), never denied.
    let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "team"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "j", "image": "x", "securityContext": {"privileged": true}}]}}}}}});
    let r = decide(&app, &review(("batch", "cronjobs"), &cron, None)).await;
    assert_eq!(r["allowed"], true);
    assert_eq!(
        r["warnings"],
        json!([
            "would violate PodSecurity \"baseline:latest\": privileged (container \"j\" must not set securityContext.privileged=true)"
        ])
    );
    // A workload in an unknown namespace fails open with the error audited.
    let mut lost = cron.clone();
    lost["metadata"]["namespace"] = json!("gone");
    let r = decide(&app, &review(("batch", "cronjobs"), &lost, None)).await;
    assert_eq!(r["allowed"], true);
    assert_eq!(
        r["auditAnnotations"]["error"],
        "failed to lookup namespace \"gone\": namespaces \"gone\" not found"
    );
    // A pod review without an object: PSA's bad request, inside a 200 review.
    let mut empty = review(("", "pods"), &old, None);
    empty["request"]["object"] = Value::Null;
    let r = decide(&app, &empty).await;
    assert_eq!(r["status"]["code"], 400);
    assert_eq!(r["status"]["message"], "failed to decode object");
}

#[tokio::test]
async fn malformed_reviews_get_http_400() {
    let app = admitter(Config::default(), vec![], vec![]);
    let good = serde_json::to_vec(&review(("", "pods"), &pod("p", "x", json!({})), None)).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), "not a valid AdmissionReview"),
        ("empty", vec![], "not a valid AdmissionReview"),
        ("not json", b"\xff\xfe garbage".to_vec(), "not a valid AdmissionReview"),
        ("v1beta1", br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"resource":{},"operation":"CREATE"}}"#.to_vec(), "unsupported AdmissionReview apiVersion \"admission.k8s.io/v1beta1\""),
        ("no request", br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(), "has no request"),
        ("wrong kind", br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}}"#.to_vec(), "expected kind"),
        ("request not object", br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":7}"#.to_vec(), "not a valid AdmissionReview"),
    ];
    for (what, body, needle) in cases {
        let (status, text) = post(&app, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(text.contains(needle), "{what}: {text}");
    }
    // Over the body limit without a declared length (the streaming check): 413.
    let (status, text) = post(&app, vec![b' '; 9 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
}

/// Objects that rule families beyond PSS should have something to say about.
fn suspicious_objects() -> Vec<((&'static str, &'static str), Value)> {
    vec![
        (
            ("", "pods"),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "namespace": "team"},
                "spec": {"hostNetwork": true, "automountServiceAccountToken": true, "containers": [{"name": "c", "image": "nginx:latest",
                    "securityContext": {"privileged": true, "runAsUser": 0, "allowPrivilegeEscalation": true}}]}}),
        ),
        (
            ("rbac.authorization.k8s.io", "clusterroles"),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "god"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        ),
    ]
}

#[tokio::test]
async fn rule_families_beyond_pss_by_mode() {
    // Find, from the catalog itself, a family that flags one of the objects.
    let extra: Vec<String> = palisade_rules::catalog()
        .iter()
        .filter(|r| r.family != "pss")
        .map(|r| r.id.to_owned())
        .collect();
    let selection = Selection::new(&extra, &[]).unwrap();
    let mut found = None;
    for (resource, object) in suspicious_objects() {
        let doc = Document {
            file: "t".into(),
            index: 0,
            item: None,
            value: object.clone(),
            spans: Default::default(),
        };
        let opts = ScanOptions {
            policy: Default::default(),
            selection: selection.clone(),
        };
        let findings = palisade_rules::check_documents(std::slice::from_ref(&doc), &opts);
        if let Some(f) = findings.into_iter().find(|f| f.family != "pss") {
            found = Some((resource, object, f));
            break;
        }
    }
    let (resource, object, finding) =
        found.expect("some rule beyond PSS flags the suspicious objects");
    let rule = palisade_rules::rule(&finding.rule).unwrap();
    let namespaces = vec![ns("team", &[])];
    let with = |family_mode: &str, rule_mode: Option<&str>| {
        let mut text = format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: AdmitConfiguration\nrules:\n  families: {{{}: {family_mode}}}\n",
            rule.family
        );
        if let Some(m) = rule_mode {
            text.push_str(&format!("  rules: {{{}: {m}}}\n", rule.id));
        }
        Config::from_bytes("c.yaml", text.as_bytes()).unwrap()
    };
    let rv = review(resource, &object, None);
    let tag = format!("[{}]", rule.id);

    // enforce: denied, every violated rule listed with its ID and remediation.
    let config = with("enforce", None);
    assert_eq!(config.mode(rule.id), Mode::Enforce);
    let r = decide(&admitter(config, namespaces.clone(), vec![]), &rv).await;
    assert_eq!(r["allowed"], false, "{r}");
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("is forbidden: violates Palisade rules: "),
        "{msg}"
    );
    assert!(
        msg.contains(&tag) && msg.contains(rule.remediation),
        "{msg}"
    );
    assert_eq!(r["status"]["code"], 403);

    // warn: allowed with a warning naming the rule.
    let r = decide(
        &admitter(with("warn", None), namespaces.clone(), vec![]),
        &rv,
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(&tag)),
        "{r}"
    );

    // audit: allowed, recorded in the palisade-violations annotation only.
    let r = decide(
        &admitter(with("audit", None), namespaces.clone(), vec![]),
        &rv,
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none(), "{r}");
    assert!(
        r["auditAnnotations"]["palisade-violations"]
            .as_str()
            .unwrap()
            .contains(&tag)
    );

    // A rule switched off inside an enforced family is not reported.
    let r = decide(
        &admitter(with("enforce", Some("off")), namespaces.clone(), vec![]),
        &rv,
    )
    .await;
    let text = r.to_string();
    assert!(!text.contains(&tag), "{text}");

    // Off by default: nothing beyond PSS.
    let r = decide(&admitter(Config::default(), namespaces, vec![]), &rv).await;
    assert!(!r.to_string().contains(&tag));
}
