//! Real AdmissionReview requests (Kubewarden's policy-server test data: CREATE Pod from
//! `kubernetes-admin` with full managedFields) and Kubernetes' every-field round-trip
//! fixture, through the router.

use palisade_admit::Config;
use palisade_admit::review::AdmissionReview;
use serde_json::{Value, json};

use crate::{admitter, decide, ns, testdata};

fn sample(name: &str) -> Value {
    let text = std::fs::read_to_string(testdata(&format!(
        "admission/kubewarden-policy-server/{name}"
    )))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// PSA's message for this sample's two containers (`sleeping-sidecar`, then `nginx`), none
/// of which sets a restricted securityContext.
const NGINX_RESTRICTED: &str = "allowPrivilegeEscalation != false (containers \"sleeping-sidecar\", \"nginx\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers \"sleeping-sidecar\", \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or containers \"sleeping-sidecar\", \"nginx\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or containers \"sleeping-sidecar\", \"nginx\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

#[tokio::test]
async fn kubewarden_samples_at_each_level() {
    let level = |l: &str| vec![ns("default", &[("pod-security.kubernetes.io/enforce", l)])];

    // Privileged (PSA's built-in default): allowed without evaluation.
    let app = admitter(Config::default(), vec![ns("default", &[])], vec![]);
    for s in [
        "pod_with_privileged_containers.json",
        "pod_without_privileged_containers.json",
        "pod_sleep_100ms.json",
        "pod_sleep_4s.json",
    ] {
        let r = decide(&app, &sample(s)).await;
        assert_eq!(
            r,
            json!({"uid": r["uid"], "allowed": true, "auditAnnotations": {"enforce-policy": "privileged:latest"}}),
            "{s}"
        );
    }

    // Baseline: the privileged container is denied with PSA's message.
    let app = admitter(Config::default(), level("baseline"), vec![]);
    let r = decide(&app, &sample("pod_with_privileged_containers.json")).await;
    assert_eq!(r["uid"], "1299d386-525b-4032-98ae-1949f69f9cfc");
    assert_eq!(r["allowed"], false);
    assert_eq!(
        r["status"],
        json!({
            "status": "Failure",
            "message": "pods \"nginx\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"nginx\" must not set securityContext.privileged=true)",
            "reason": "Forbidden",
            "details": {"name": "nginx", "kind": "pods"},
            "code": 403
        })
    );
    assert_eq!(
        r["auditAnnotations"],
        json!({"enforce-policy": "baseline:latest"})
    );
    assert!(r.get("warnings").is_none(), "no warnings on a denial");
    let r = decide(&app, &sample("pod_without_privileged_containers.json")).await;
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none());

    // Restricted: the unprivileged nginx still misses four restricted controls.
    let app = admitter(Config::default(), level("restricted"), vec![]);
    let r = decide(&app, &sample("pod_without_privileged_containers.json")).await;
    assert_eq!(
        r["status"]["message"],
        format!(
            "pods \"nginx\" is forbidden: violates PodSecurity \"restricted:latest\": {NGINX_RESTRICTED}"
        )
    );

    // Baseline enforce with restricted warn and audit: allowed, warned, audited.
    let app = admitter(
        Config::default(),
        vec![ns(
            "default",
            &[
                ("pod-security.kubernetes.io/enforce", "baseline"),
                ("pod-security.kubernetes.io/warn", "restricted"),
                ("pod-security.kubernetes.io/audit", "restricted"),
                ("pod-security.kubernetes.io/audit-version", "v1.30"),
            ],
        )],
        vec![],
    );
    let r = decide(&app, &sample("pod_without_privileged_containers.json")).await;
    assert_eq!(
        r,
        json!({
            "uid": r["uid"],
            "allowed": true,
            "warnings": [format!("would violate PodSecurity \"restricted:latest\": {NGINX_RESTRICTED}")],
            "auditAnnotations": {
                "enforce-policy": "baseline:latest",
                "audit-violations": format!("would violate PodSecurity \"restricted:v1.30\": {NGINX_RESTRICTED}"),
            }
        })
    );

    // A namespace the webhook does not know: PSA's internal error, with the cause audited.
    let app = admitter(Config::default(), vec![], vec![]);
    let r = decide(&app, &sample("pod_sleep_100ms.json")).await;
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 500);
    assert_eq!(r["status"]["reason"], "InternalError");
    assert_eq!(
        r["status"]["message"],
        "Internal error occurred: failed to lookup namespace \"default\""
    );
    assert_eq!(
        r["auditAnnotations"]["error"],
        "Internal error occurred: failed to lookup namespace \"default\": namespaces \"default\" not found"
    );
}

#[tokio::test]
async fn every_upstream_field_round_trips_and_is_answered() {
    let text = std::fs::read_to_string(testdata(
        "admission/k8s-api-roundtrip/admission.k8s.io.v1.AdmissionReview.json",
    ))
    .unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let parsed: AdmissionReview = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
    // An unknown resource is not ours to judge: allowed, uid echoed.
    let app = admitter(Config::default(), vec![], vec![]);
    let r = decide(&app, &original).await;
    assert_eq!(r, json!({"uid": "uidValue", "allowed": true}));
}

#[test]
fn upstream_psa_configmap_loads_as_config() {
    let text = std::fs::read_to_string(testdata(
        "admission/psa-webhook-manifests/20-configmap.yaml",
    ))
    .unwrap();
    let cm = palisade_yaml::load_str("cm", &text, &palisade_yaml::Limits::default());
    let inner = cm.documents[0].value["data"]["podsecurityconfiguration.yaml"]
        .as_str()
        .unwrap();
    let c = Config::from_bytes("podsecurityconfiguration.yaml", inner.as_bytes()).unwrap();
    assert!(c.defaults.fully_privileged());
    assert!(c.exemptions.namespaces.is_empty());
}
