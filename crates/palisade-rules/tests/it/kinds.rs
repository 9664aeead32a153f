//! Nothing with a pod template is skipped without a note (issue #13, item 2): every workload
//! apiVersion Kubernetes ever served is evaluated like its current kind (and, when removed,
//! gets a `removed-api-version` note naming the release), and kinds Palisade does not know are
//! evaluated by the shape of their template, with findings that say so. The second test walks
//! every object of the vendored data that has `spec.template`, `spec.jobTemplate` or a
//! PodTemplate's `template` with containers.

use palisade_core::Document;
use palisade_rules::pss::{Level, Policy};
use palisade_rules::{ScanOptions, Selection, check_document};
use serde_json::Value;

use crate::testdata;

/// Every apiVersion/kind with a pod template the API server has served, with where the
/// template is and, for removed ones, the release that removed it.
const WORKLOADS: &[(&str, &str, &str, Option<&str>)] = &[
    ("v1", "Pod", "", None),
    ("v1", "PodTemplate", "template", None),
    ("v1", "ReplicationController", "spec.template", None),
    ("apps/v1", "Deployment", "spec.template", None),
    ("apps/v1", "StatefulSet", "spec.template", None),
    ("apps/v1", "DaemonSet", "spec.template", None),
    ("apps/v1", "ReplicaSet", "spec.template", None),
    ("apps/v1beta1", "Deployment", "spec.template", Some("1.16")),
    ("apps/v1beta1", "StatefulSet", "spec.template", Some("1.16")),
    ("apps/v1beta2", "Deployment", "spec.template", Some("1.16")),
    ("apps/v1beta2", "StatefulSet", "spec.template", Some("1.16")),
    ("apps/v1beta2", "DaemonSet", "spec.template", Some("1.16")),
    ("apps/v1beta2", "ReplicaSet", "spec.template", Some("1.16")),
    (
        "extensions/v1beta1",
        "Deployment",
        "spec.template",
        Some("1.16"),
    ),
    (
        "extensions/v1beta1",
        "DaemonSet",
        "spec.template",
        Some("1.16"),
    ),
    (
        "extensions/v1beta1",
        "ReplicaSet",
        "spec.template",
        Some("1.16"),
    ),
    ("batch/v1", "Job", "spec.template", None),
    (
        "batch/v1",
        "CronJob",
        "spec.jobTemplate.spec.template",
        None,
    ),
    (
        "batch/v1beta1",
        "CronJob",
        "spec.jobTemplate.spec.template",
        Some("1.25"),
    ),
    (
        "batch/v2alpha1",
        "CronJob",
        "spec.jobTemplate.spec.template",
        Some("1.21"),
    ),
];

/// Custom resources with a pod template at the usual places.
const CUSTOM: &[(&str, &str, &str)] = &[
    ("argoproj.io/v1alpha1", "Rollout", "spec.template"),
    ("apps.kruise.io/v1alpha1", "CloneSet", "spec.template"),
    ("serving.knative.dev/v1", "Service", "spec.template"),
    (
        "example.com/v1",
        "NightlyJob",
        "spec.jobTemplate.spec.template",
    ),
];

/// A manifest whose pod (template) at `base` has one privileged container.
fn manifest(api_version: &str, kind: &str, base: &str) -> String {
    let pod = "spec:\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n      securityContext:\n        privileged: true\n";
    let mut body = pod.to_owned();
    // Wrap the pod in its template path from the innermost key outwards.
    for key in base.split('.').filter(|k| !k.is_empty()).rev() {
        body = format!(
            "{key}:\n{}",
            body.lines().map(|l| format!("  {l}\n")).collect::<String>()
        );
    }
    let (spec_extra, body) = if base.starts_with("spec.") {
        // Merge `spec:` keys the workload needs besides the template.
        let rest = body.strip_prefix("spec:\n").unwrap();
        (
            "spec:\n  selector: {matchLabels: {app: a}}\n",
            rest.to_owned(),
        )
    } else {
        ("", body)
    };
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n  namespace: shop\n{spec_extra}{body}"
    )
}

fn load(text: &str) -> Document {
    let loaded = palisade_yaml::load_str("kinds.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{text}\n{:?}", loaded.errors);
    assert_eq!(loaded.documents.len(), 1, "{text}");
    loaded.documents.into_iter().next().unwrap()
}

fn baseline() -> ScanOptions {
    ScanOptions {
        policy: Policy {
            level: Level::Baseline,
            ..Policy::default()
        },
        selection: Selection::defaults(),
    }
}

#[test]
fn every_workload_version_and_custom_template_is_evaluated() {
    for (api_version, kind, base, removed) in WORKLOADS {
        let text = manifest(api_version, kind, base);
        let doc = load(&text);
        let findings = check_document(&doc, &baseline());
        let privileged = findings
            .iter()
            .find(|f| f.rule == "PSS007")
            .unwrap_or_else(|| panic!("{api_version} {kind} is skipped: {findings:#?}"));
        assert!(
            privileged.field.starts_with(base),
            "{api_version} {kind}: {}",
            privileged.field
        );
        assert!(
            !privileged.message.contains("does not evaluate"),
            "{api_version} {kind} is a kind PSA knows: {}",
            privileged.message
        );
        let note = findings.iter().find(|f| f.rule == "HRD028");
        match removed {
            Some(release) => {
                let note = note.unwrap_or_else(|| {
                    panic!("{api_version} {kind}: no removed-API note: {findings:#?}")
                });
                assert!(
                    note.message
                        .contains(&format!("removed in Kubernetes {release}"))
                        && note.field == "apiVersion"
                        && note.line == 1,
                    "{api_version} {kind}: {note:?}"
                );
            }
            None => assert!(note.is_none(), "{api_version} {kind}: {note:?}"),
        }
    }
    for (api_version, kind, base) in CUSTOM {
        let doc = load(&manifest(api_version, kind, base));
        let findings = check_document(&doc, &baseline());
        let privileged = findings
            .iter()
            .find(|f| f.rule == "PSS007")
            .unwrap_or_else(|| panic!("{api_version} {kind} is skipped: {findings:#?}"));
        assert!(privileged.field.starts_with(base), "{}", privileged.field);
        // Every finding on an inferred template says what was evaluated and that PSA would not.
        for f in &findings {
            assert!(
                f.message
                    .contains(&format!("pod template at {base} of {api_version} {kind}"))
                    && f.message
                        .contains("Pod Security Admission does not evaluate it"),
                "{api_version} {kind}: {}",
                f.message
            );
        }
    }
}

/// Where a document holds a pod template with containers, by shape alone.
fn template_shape(v: &Value) -> Option<Vec<&'static str>> {
    [
        vec!["spec", "template"],
        vec!["spec", "jobTemplate", "spec", "template"],
        vec!["template"],
    ]
    .into_iter()
    .find(|keys| {
        keys.iter()
            .try_fold(v, |h, k| h.get(k))
            .and_then(|t| t.get("spec")?.get("containers")?.as_array())
            .is_some_and(|cs| cs.iter().any(Value::is_object))
    })
}

/// Every object of the vendored manifests (corpus, peer fixtures, NetworkPolicy and RBAC
/// conformance sets, Palisade's own fixtures) that has a pod template, by shape, with its
/// first container made privileged: Palisade must report it, whatever its kind or apiVersion.
#[test]
fn no_object_with_a_pod_template_is_skipped() {
    let roots: Vec<_> = [
        "corpus",
        "peer-fixtures",
        "netpol",
        "rbac",
        "hardening",
        "pss-extra",
    ]
    .iter()
    .map(|d| testdata(d))
    .collect();
    let paths: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    let loaded = palisade_yaml::load_paths(&paths, &palisade_yaml::Limits::default());
    let mut kinds = std::collections::BTreeSet::new();
    let mut walked = 0;
    for mut doc in loaded.documents {
        let Some(keys) = template_shape(&doc.value) else {
            continue;
        };
        let holder = keys
            .iter()
            .try_fold(&mut doc.value, |h, k| h.get_mut(*k))
            .unwrap();
        let container = holder["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|c| c.is_object())
            .unwrap();
        container["securityContext"] = serde_json::json!({"privileged": true});
        let o = doc.object_ref();
        let findings = check_document(&doc, &baseline());
        assert!(
            findings.iter().any(|f| f.rule == "PSS007"),
            "{}: {} {} {:?} has a pod template at {} and is not evaluated",
            doc.file,
            o.api_version,
            o.kind,
            o.name,
            keys.join(".")
        );
        kinds.insert(format!("{} {}", o.api_version, o.kind));
        walked += 1;
    }
    assert!(walked > 300, "objects walked: {walked}");
    // The data holds the removed workload versions the issue names.
    for k in [
        "extensions/v1beta1 Deployment",
        "extensions/v1beta1 DaemonSet",
    ] {
        assert!(kinds.contains(k), "{k} not in the walked data: {kinds:?}");
    }
    println!(
        "walked {walked} objects of {} kinds: {kinds:?}",
        kinds.len()
    );
}
