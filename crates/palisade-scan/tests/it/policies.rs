//! `--policy`: Gatekeeper constraints and ValidatingAdmissionPolicies over the scanned set
//! (testdata/gatekeeper-library templates and samples).

use crate::objects;
use palisade_core::Severity;
use palisade_scan::{Options, Outcome, Scan, Source};
use serde_json::json;
use std::path::{Path, PathBuf};

fn library(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/gatekeeper-library/library/"
    ))
    .join(rel)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Only policy findings, default catalog rules off so that the test reads the policies alone.
fn options(policies: Vec<PathBuf>) -> Options {
    Options {
        ignore: vec!["all".to_owned()],
        policies,
        ..Options::default()
    }
}

fn scan(options: Options, paths: Vec<PathBuf>) -> Outcome {
    Scan::new(options).unwrap().run([Source::Paths(paths)])
}

/// `Kind ns/name RULE` per object and rule, sorted (requiredlabels' CEL, which Gatekeeper
/// prefers, gives two violations for a missing label: "missing required label" and "regex
/// mismatch").
fn hits(o: &Outcome) -> Vec<String> {
    let mut v: Vec<String> = o
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}/{} {}",
                f.object.kind,
                f.object.namespace.as_deref().unwrap_or("-"),
                f.object.name.as_deref().unwrap_or("-"),
                f.rule
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn unique_service_selector() -> Vec<PathBuf> {
    let d = library("general/uniqueserviceselector");
    vec![
        d.join("template.yaml"),
        d.join("samples/unique-service-selector/constraint.yaml"),
    ]
}

#[test]
fn a_referential_constraint_sees_the_other_objects_of_the_scan() {
    let samples = library("general/uniqueserviceselector/samples/unique-service-selector");
    // Two Services in different files with the same selector: each is a duplicate of the other.
    let o = scan(
        options(unique_service_selector()),
        vec![
            samples.join("example_disallowed.yaml"),
            samples.join("example_inventory_disallowed.yaml"),
        ],
    );
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert_eq!(
        hits(&o),
        [
            "Service default/gatekeeper-test-service-disallowed K8sUniqueServiceSelector/unique-service-selector",
            "Service default/gatekeeper-test-service-example K8sUniqueServiceSelector/unique-service-selector",
        ]
    );
    let f = &o.findings[0];
    assert_eq!(f.family, "policy");
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("same selector"), "{}", f.message);
    assert_eq!((f.line, f.column), (1, 1));
    assert!(f.file.ends_with("example_disallowed.yaml"), "{}", f.file);
    // A rule descriptor per policy, beside the catalog's.
    let rule = o
        .rules
        .iter()
        .find(|r| r.id == "K8sUniqueServiceSelector/unique-service-selector")
        .unwrap();
    assert_eq!((rule.family, rule.severity), ("policy", Severity::High));

    // Alone, the same Service has nothing to clash with; with a different selector neither.
    let alone = scan(
        options(unique_service_selector()),
        vec![samples.join("example_disallowed.yaml")],
    );
    assert!(alone.findings.is_empty(), "{:?}", hits(&alone));
    let other = scan(
        options(unique_service_selector()),
        vec![
            samples.join("example_allowed.yaml"),
            samples.join("example_inventory_disallowed.yaml"),
        ],
    );
    assert!(other.findings.is_empty(), "{:?}", hits(&other));
}

/// Gatekeeper replicates into `data.inventory` only the kinds its sync configuration names.
#[test]
fn a_sync_configuration_among_the_policies_limits_the_inventory() {
    let samples = library("general/uniqueserviceselector/samples/unique-service-selector");
    let dir = tempfile::tempdir().unwrap();
    let services = vec![
        samples.join("example_disallowed.yaml"),
        samples.join("example_inventory_disallowed.yaml"),
    ];
    let mut with_library_sync = unique_service_selector();
    with_library_sync.push(library("general/uniqueserviceselector/sync.yaml"));
    let o = scan(options(with_library_sync), services.clone());
    assert_eq!(o.findings.len(), 2, "{:?}", hits(&o));
    let pods_only = write(
        dir.path(),
        "sync.yaml",
        "apiVersion: syncset.gatekeeper.sh/v1alpha1\nkind: SyncSet\nmetadata:\n  name: pods\nspec:\n  gvks:\n    - {group: \"\", version: v1, kind: Pod}\n",
    );
    let mut policies = unique_service_selector();
    policies.push(pods_only);
    let o = scan(options(policies), services);
    assert!(o.findings.is_empty(), "{:?}", hits(&o));
}

#[test]
fn cluster_objects_are_reviewed_with_the_inventory_of_every_page() {
    let svc = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "shop"},
               "spec": {"selector": {"app": "web"}}})
    };
    let mut s = Scan::new(options(unique_service_selector())).unwrap();
    s.add_objects(objects("prod", vec![svc("a")]));
    s.add_objects(objects("prod", vec![svc("b")]));
    let o = s.finish();
    assert_eq!(o.findings.len(), 2, "{:?}", hits(&o));
    let f = &o.findings[0];
    assert!(f.file.starts_with("cluster://prod/"), "{}", f.file);
    assert_eq!(f.origin.as_ref().unwrap().context, "prod");
}

const REQUIRED_LABELS_IN_PROD: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: prod-pods-need-team
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    namespaceSelector:
      matchLabels:
        env: prod
  parameters:
    labels:
      - key: team
"#;

fn pod(name: &str, ns: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n{annotations}spec:\n  containers:\n    - name: c\n      image: nginx\n"
    )
}

#[test]
fn namespace_selector_reads_the_scanned_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let constraint = write(dir.path(), "constraint.yaml", REQUIRED_LABELS_IN_PROD);
    let manifests = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels:\n    env: prod\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n  labels:\n    env: dev\n{}{}{}",
        pod("p", "prod", ""),
        pod("d", "dev", ""),
        pod("x", "elsewhere", "")
    );
    let m = write(dir.path(), "app.yaml", &manifests);
    let o = scan(
        options(vec![
            library("general/requiredlabels/template.yaml"),
            constraint,
        ]),
        vec![m],
    );
    assert_eq!(
        hits(&o),
        ["Pod prod/p K8sRequiredLabels/prod-pods-need-team"]
    );
    // The Pod in a namespace that was not scanned: a note, not a silent pass.
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    let note = o
        .notes
        .iter()
        .find(|n| n.kind == "policy")
        .expect("a note about the missing Namespace");
    assert!(
        note.message.contains("elsewhere") && note.message.contains("Pod elsewhere/x"),
        "{}",
        note.message
    );
    // The finding sits on the Pod's first line in app.yaml (the third document, line 15).
    let f = &o.findings[0];
    assert_eq!((f.document, f.line, f.column), (2, 15, 1));
}

#[test]
fn waivers_apply_to_policy_findings() {
    let dir = tempfile::tempdir().unwrap();
    let constraint = write(dir.path(), "constraint.yaml", REQUIRED_LABELS_IN_PROD);
    let manifests = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels:\n    env: prod\n{}{}{}",
        pod("kept", "prod", ""),
        pod(
            "annotated",
            "prod",
            "  annotations:\n    palisade.dev/ignore: \"all: migrated next quarter\"\n"
        ),
        pod("excepted", "prod", "")
    );
    let m = write(dir.path(), "app.yaml", &manifests);
    let cfg = write(
        dir.path(),
        ".palisade.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [all]\n    kinds: [Pod]\n    names: [excepted]\n    reason: owned by the platform team\n",
    );
    let config = palisade_scan::load_config(&cfg, &palisade_yaml::Limits::default()).unwrap();
    let o = scan(
        Options {
            config: Some(config),
            ..options(vec![
                library("general/requiredlabels/template.yaml"),
                constraint,
            ])
        },
        vec![m],
    );
    assert_eq!(
        hits(&o),
        ["Pod prod/kept K8sRequiredLabels/prod-pods-need-team"]
    );
    let mut waived: Vec<(String, String, String)> = o
        .suppressed
        .iter()
        .map(|s| {
            (
                s.finding.object.name.clone().unwrap(),
                s.finding.rule.clone(),
                s.suppression.kind.clone(),
            )
        })
        .collect();
    waived.sort();
    waived.dedup();
    assert_eq!(
        waived,
        [
            (
                "annotated".to_owned(),
                "K8sRequiredLabels/prod-pods-need-team".to_owned(),
                "annotation".to_owned()
            ),
            (
                "excepted".to_owned(),
                "K8sRequiredLabels/prod-pods-need-team".to_owned(),
                "config".to_owned()
            ),
        ]
    );
    // --severity applies to them like to any finding.
    let high_only = scan(
        Options {
            severity: vec![Severity::Critical],
            ..options(vec![
                library("general/requiredlabels/template.yaml"),
                dir.path().join("constraint.yaml"),
            ])
        },
        vec![dir.path().join("app.yaml")],
    );
    assert!(high_only.findings.is_empty());
    assert_eq!(high_only.exit_status(), 0);
}

/// A waiver can name one policy: a constraint by `KIND/NAME` (annotation or exception), a
/// ValidatingAdmissionPolicy by `ValidatingAdmissionPolicy/NAME`; the other policies still
/// report on the same object.
#[test]
fn waivers_name_a_single_policy() {
    let dir = tempfile::tempdir().unwrap();
    let constraints = write(
        dir.path(),
        "constraints.yaml",
        &format!(
            "{REQUIRED_LABELS_IN_PROD}---\n{}",
            REQUIRED_LABELS_IN_PROD
                .replace("prod-pods-need-team", "prod-pods-need-owner")
                .replace("key: team", "key: owner")
        ),
    );
    let vap = write(
        dir.path(),
        "vap.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: no-latest.example.com\nspec:\n  matchConstraints:\n    resourceRules:\n      - apiGroups: [\"\"]\n        apiVersions: [\"v1\"]\n        operations: [\"CREATE\"]\n        resources: [\"pods\"]\n  validations:\n    - expression: \"object.spec.containers.all(c, c.image.contains(':'))\"\n      message: pin the image\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: no-latest-binding\nspec:\n  policyName: no-latest.example.com\n  validationActions: [Deny]\n",
    );
    let manifests = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels:\n    env: prod\n{}{}",
        pod(
            "annotated",
            "prod",
            "  annotations:\n    palisade.dev/ignore: \"K8sRequiredLabels/prod-pods-need-team: teams come from the namespace\"\n"
        ),
        pod("excepted", "prod", "")
    );
    let m = write(dir.path(), "app.yaml", &manifests);
    let cfg = write(
        dir.path(),
        ".palisade.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [k8srequiredlabels/prod-pods-need-owner, ValidatingAdmissionPolicy/no-latest.example.com]\n    names: [excepted]\n    reason: owned by the platform team\n",
    );
    let config = palisade_scan::load_config(&cfg, &palisade_yaml::Limits::default()).unwrap();
    let o = scan(
        Options {
            config: Some(config),
            ..options(vec![
                library("general/requiredlabels/template.yaml"),
                constraints,
                vap,
            ])
        },
        vec![m],
    );
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert!(o.notes.is_empty(), "{:?}", o.notes);
    assert_eq!(
        hits(&o),
        [
            "Pod prod/annotated K8sRequiredLabels/prod-pods-need-owner",
            "Pod prod/annotated no-latest.example.com",
            "Pod prod/excepted K8sRequiredLabels/prod-pods-need-team",
        ]
    );
    let mut waived: Vec<String> = o
        .suppressed
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s.finding.object.name.as_deref().unwrap(),
                s.finding.rule,
                s.suppression.kind
            )
        })
        .collect();
    waived.sort();
    waived.dedup();
    assert_eq!(
        waived,
        [
            "annotated K8sRequiredLabels/prod-pods-need-team annotation",
            "excepted K8sRequiredLabels/prod-pods-need-owner config",
            "excepted no-latest.example.com config",
        ]
    );
    // Every policy finding carries its action; a deny constraint's is `deny`.
    assert!(
        o.findings
            .iter()
            .chain(o.suppressed.iter().map(|s| &s.finding))
            .all(
                |f| f.action.as_deref() == Some(if f.rule.contains('/') { "deny" } else { "Deny" })
            ),
        "{:?}",
        o.findings
    );
}

#[test]
fn a_template_that_does_not_compile_is_an_error_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "broken.yaml",
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sbroken
spec:
  crd:
    spec:
      names:
        kind: K8sBroken
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbroken
        violation[{"msg": msg}] {
          msg := no_such_function(input.review.object)
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBroken
metadata:
  name: broken
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoSuchTemplate
metadata:
  name: orphan
"#,
    );
    let samples = library("general/uniqueserviceselector/samples/unique-service-selector");
    let mut policies = unique_service_selector();
    policies.push(broken);
    let o = scan(
        options(policies),
        vec![
            samples.join("example_disallowed.yaml"),
            samples.join("example_inventory_disallowed.yaml"),
        ],
    );
    assert_eq!(o.findings.len(), 2, "{:?}", hits(&o));
    assert_eq!(o.exit_status(), 2);
    let text: Vec<String> = o.errors.iter().map(ToString::to_string).collect();
    // One error per broken policy, none per object reviewed.
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(
        text.iter().any(|e| e.contains("broken.yaml:15:")
            && e.contains("template k8sbroken: Rego does not compile")
            && e.contains("no_such_function")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("broken.yaml:23:")
                && e.contains("constraint K8sNoSuchTemplate/orphan")),
        "{text:#?}"
    );
}

#[test]
fn a_runaway_policy_is_an_error_naming_it_and_the_object_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let slow = write(
        dir.path(),
        "slow.yaml",
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sslow
spec:
  crd:
    spec:
      names:
        kind: K8sSlow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow
        violation[{"msg": msg}] {
          input.review.object.kind == "Service"
          r := numbers.range(1, 5000)
          some i, j
          r[i] + r[j] < 0
          msg := "never"
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSlow
metadata:
  name: slow
"#,
    );
    let samples = library("general/uniqueserviceselector/samples/unique-service-selector");
    let mut policies = unique_service_selector();
    policies.push(slow);
    let o = scan(
        Options {
            policy_timeout: std::time::Duration::from_millis(20),
            ..options(policies)
        },
        vec![
            samples.join("example_disallowed.yaml"),
            samples.join("example_inventory_disallowed.yaml"),
        ],
    );
    assert_eq!(o.findings.len(), 2, "{:?}", hits(&o));
    assert_eq!(o.exit_status(), 2);
    assert_eq!(o.errors.len(), 1, "{:#?}", o.errors);
    let e = o.errors[0].to_string();
    assert!(
        e.contains("policy K8sSlow/slow")
            && e.contains("time limit")
            && e.contains("reviewing Service default/"),
        "{e}"
    );
}

#[test]
fn vap_and_dryrun_findings_say_their_action() {
    let dir = tempfile::tempdir().unwrap();
    let vap = write(
        dir.path(),
        "vap.yaml",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas-limit
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments"]
  validations:
    - expression: "object.spec.replicas <= 5"
      message: "at most 5 replicas"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas-limit-binding
spec:
  policyName: replicas-limit
  validationActions: [Warn, Audit]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: deployments-need-team
spec:
  enforcementAction: dryrun
  match:
    kinds:
      - apiGroups: ["apps"]
        kinds: ["Deployment"]
  parameters:
    labels:
      - key: team
"#,
    );
    let m = write(
        dir.path(),
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 9\n  template:\n    spec:\n      containers:\n        - name: c\n          image: nginx\n",
    );
    let o = scan(
        options(vec![library("general/requiredlabels/template.yaml"), vap]),
        vec![m, dir.path().join("vap.yaml")],
    );
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    // The policy objects among the scanned paths are not reviewed as workloads.
    assert_eq!(
        hits(&o),
        [
            "Deployment shop/web K8sRequiredLabels/deployments-need-team",
            "Deployment shop/web replicas-limit",
        ]
    );
    let by_rule = |r: &str| o.findings.iter().find(|f| f.rule == r).unwrap();
    let vap = by_rule("replicas-limit");
    assert_eq!(vap.severity, Severity::Medium);
    // The action is a field of its own; the message names the binding only.
    assert_eq!(
        vap.message,
        "at most 5 replicas (binding replicas-limit-binding)"
    );
    assert_eq!(vap.action.as_deref(), Some("Warn,Audit"));
    assert!(vap.warn_only());
    let dry = by_rule("K8sRequiredLabels/deployments-need-team");
    assert_eq!(dry.severity, Severity::Medium);
    assert_eq!(dry.action.as_deref(), Some("dryrun"));
    assert!(
        !dry.message.contains("enforcementAction"),
        "{}",
        dry.message
    );
    assert!(dry.warn_only());
    let rule = o.rules.iter().find(|r| r.id == "replicas-limit").unwrap();
    // No docs/rules/ page for a user's policy: no link rather than a broken one.
    assert_eq!(rule.link(), None);
    assert!(
        o.rules
            .iter()
            .filter(|r| r.family != "policy")
            .all(|r| r.link() == Some(r.docs_url()))
    );
}

#[test]
fn owner_deduplication_treats_policy_findings_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let constraint = write(
        dir.path(),
        "c.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata:\n  name: need-team\nspec:\n  parameters:\n    labels:\n      - key: team\n",
    );
    let m = write(
        dir.path(),
        "dump.yaml",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: shop\n  uid: u1\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-x\n  namespace: shop\n  ownerReferences:\n    - {apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u1, controller: true}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    );
    let policies = vec![library("general/requiredlabels/template.yaml"), constraint];
    let o = scan(
        Options {
            dedup_owned: Some(true),
            ..options(policies.clone())
        },
        vec![m.clone()],
    );
    assert_eq!(
        hits(&o),
        ["ReplicaSet shop/web-1 K8sRequiredLabels/need-team"]
    );
    let all = scan(options(policies), vec![m]);
    assert_eq!(hits(&all).len(), 2, "{:?}", hits(&all));
}

/// A ValidatingAdmissionPolicy that asks `authorizer` about the workload's service account:
/// answered from the Roles and bindings of the scan (any file). Checks on the request's own
/// user cannot be answered offline (a scanned object has no user): an error, which
/// failurePolicy turns into a finding (Fail) or nothing (Ignore).
#[test]
fn authorizer_answers_from_the_scanned_rbac_objects() {
    let dir = tempfile::tempdir().unwrap();
    let vap = |name: &str, expr: &str, failure: &str| {
        format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {name}
spec:
  failurePolicy: {failure}
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["deployments"]
  validations:
    - expression: "{expr}"
      message: "{name} failed"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {name}-binding
spec:
  policyName: {name}
  validationActions: [Deny]
---
"#
        )
    };
    let sa_reads_secrets = "!authorizer.serviceAccount(object.metadata.namespace, object.spec.template.spec.serviceAccountName).group('').resource('secrets').namespace(object.metadata.namespace).check('get').allowed()";
    let own = "authorizer.group('apps').resource('deployments').namespace(object.metadata.namespace).check('create').allowed()";
    let policies = write(
        dir.path(),
        "vap.yaml",
        &format!(
            "{}{}{}",
            vap("sa-no-secrets", sa_reads_secrets, "Fail"),
            vap("own-fail", own, "Fail"),
            vap("own-ignore", own, "Ignore"),
        ),
    );
    let rbac = write(
        dir.path(),
        "rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: secret-reader\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets]\n    verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reader-reads\n  namespace: shop\nsubjects:\n  - kind: ServiceAccount\n    name: reader\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: secret-reader\n",
    );
    let deploy = |name: &str, sa: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  template:\n    spec:\n      serviceAccountName: {sa}\n      containers:\n        - name: c\n          image: nginx:1\n---\n"
        )
    };
    let m = write(
        dir.path(),
        "deploy.yaml",
        &format!("{}{}", deploy("reads", "reader"), deploy("plain", "plain")),
    );
    let o = scan(options(vec![policies.clone()]), vec![m.clone(), rbac]);
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert_eq!(
        hits(&o),
        [
            "Deployment shop/plain own-fail",
            "Deployment shop/reads own-fail",
            "Deployment shop/reads sa-no-secrets",
        ]
    );
    let own_fail = o.findings.iter().find(|f| f.rule == "own-fail").unwrap();
    assert!(
        own_fail.message.contains("request has no user"),
        "{}",
        own_fail.message
    );
    // Without the RBAC objects nothing grants the service account anything.
    let o = scan(options(vec![policies]), vec![m]);
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert_eq!(
        hits(&o),
        [
            "Deployment shop/plain own-fail",
            "Deployment shop/reads own-fail",
        ]
    );
}
