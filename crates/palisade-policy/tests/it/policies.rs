//! Loader errors, execution limits and PolicySet::evaluate (actions, severity, match).

use std::time::Duration;

use palisade_core::Severity;
use palisade_policy::{Action, Inventory, Limits, PolicyError, PolicySet};
use serde_json::json;

fn template(kind: &str, rego: &str) -> String {
    let body: String = rego.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {}\nspec:\n  crd:\n    spec:\n      names:\n        kind: {kind}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n{body}",
        kind.to_lowercase()
    )
}

const GOOD_REGO: &str = "package needlabel\nviolation[{\"msg\": msg}] {\n  not input.review.object.metadata.labels[input.parameters.label]\n  msg := sprintf(\"missing label %v\", [input.parameters.label])\n}";

fn load(text: &str) -> (PolicySet, Vec<PolicyError>) {
    load_with(text, Limits::default())
}

fn load_with(text: &str, limits: Limits) -> (PolicySet, Vec<PolicyError>) {
    let loaded = palisade_yaml::load_str("policies.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    PolicySet::from_documents(&loaded.documents, limits)
}

fn pod(ns: &str, labels: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns, "labels": labels}})
}

#[test]
fn broken_rego_and_cel_are_errors_naming_file_and_line_and_others_still_load() {
    let bad_rego = template(
        "BadRego",
        "package bad\nviolation[{\"msg\": msg}] {\n  msg := \n}",
    );
    let bad_cel = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: badcel\nspec:\n  crd:\n    spec:\n      names:\n        kind: BadCel\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n      - engine: K8sNativeValidation\n        source:\n          validations:\n          - expression: 'object.metadata.name =='\n";
    let text = format!(
        "{}---\n{bad_rego}---\n{bad_cel}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: owner\nspec:\n  parameters:\n    label: owner\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Nowhere\nmetadata:\n  name: orphan\n",
        template("NeedLabel", GOOD_REGO)
    );
    let (set, errors) = load(&text);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    let (rego_line, cel_line) = (
        line_of("package bad") + 1,
        line_of("object.metadata.name =="),
    );
    let orphan_line = line_of("kind: Nowhere") - 1;
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        matches!(&errors[0], PolicyError::Compile { file, line, template, engine: "Rego", .. } if file == "policies.yaml" && *line == rego_line && template == "badrego"),
        "{msgs:?}"
    );
    assert!(
        matches!(&errors[1], PolicyError::Compile { line, template, engine: "CEL", message, .. } if *line == cel_line && template == "badcel" && message.contains("object.metadata.name ==")),
        "{msgs:?}"
    );
    assert!(
        matches!(&errors[2], PolicyError::MissingTemplate { kind, name, line, .. } if *line == orphan_line && kind == "Nowhere" && name == "orphan"),
        "{msgs:?}"
    );
    // The good template and its constraint still work.
    assert_eq!(set.constraints().len(), 1);
    let (v, e) = set.evaluate(&pod("default", json!({})), None, &Inventory::default());
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].policy, "NeedLabel/owner");
    assert_eq!(v[0].message, "missing label owner");
    assert_eq!(v[0].severity, Severity::High);
    assert_eq!(v[0].action, Action::Deny);
    let (v, _) = set.evaluate(
        &pod("default", json!({"owner": "me"})),
        None,
        &Inventory::default(),
    );
    assert!(v.is_empty());
}

#[test]
fn a_runaway_policy_is_an_error_naming_it() {
    let spin = "package spin\nviolation[{\"msg\": msg}] {\n  n := count([x | x := numbers.range(1, 400000)[_]; x % 7 == 0])\n  n < 0\n  msg := \"never\"\n}";
    let text = format!(
        "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Spin\nmetadata:\n  name: forever\n",
        template("Spin", spin)
    );
    let limits = Limits {
        rego_time: Duration::from_millis(20),
    };
    let (set, errors) = load_with(&text, limits);
    assert!(errors.is_empty(), "{errors:?}");
    let (v, e) = set.evaluate(&pod("default", json!({})), None, &Inventory::default());
    assert!(v.is_empty());
    assert_eq!(e.len(), 1);
    let msg = e[0].to_string();
    assert!(
        msg.contains("Spin/forever") && msg.contains("time limit") && msg.contains("20 ms"),
        "{msg}"
    );
}

#[test]
fn a_template_that_spins_without_its_input_does_not_hang_loading() {
    // 10^8 steps that read nothing of the review: the load-time probe runs them too, and
    // without its own time limit loading took minutes (debug build).
    let spin = "package spin\nviolation[{\"msg\": msg}] {\n  n := count([1 | a := numbers.range(1, 10000)[_]; b := numbers.range(1, 10000)[_]; a * b == -1])\n  n < 0\n  msg := \"never\"\n}";
    let text = format!(
        "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Spin\nmetadata:\n  name: forever\n",
        template("Spin", spin)
    );
    let started = std::time::Instant::now();
    let (set, errors) = load_with(
        &text,
        Limits {
            rego_time: Duration::from_millis(20),
        },
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let (_, e) = set.evaluate(&pod("default", json!({})), None, &Inventory::default());
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn actions_severity_and_match() {
    let text = format!(
        "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: warn-team\n  annotations:\n    palisade.dev/severity: low\nspec:\n  enforcementAction: warn\n  match:\n    kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]\n    excludedNamespaces: [\"kube-*\"]\n  parameters: {{label: team}}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: dry-owner\nspec:\n  enforcementAction: dryrun\n  match:\n    namespaceSelector: {{matchLabels: {{env: prod}}}}\n  parameters: {{label: owner}}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: webhook-only\nspec:\n  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: deny\n    enforcementPoints: [{{name: validation.gatekeeper.sh}}]\n  parameters: {{label: x}}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: deployments\nspec:\n  match:\n    kinds: [{{apiGroups: [apps], kinds: [Deployment]}}]\n  parameters: {{label: y}}\n",
        template("NeedLabel", GOOD_REGO)
    );
    let (set, errors) = load(&text);
    assert!(errors.is_empty(), "{errors:?}");
    let prod = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}});
    let inv = Inventory::from_objects([&prod]);
    let (v, e) = set.evaluate(&pod("shop", json!({})), None, &inv);
    assert!(e.is_empty(), "{e:?}");
    let got: Vec<(&str, Action, Severity)> = v
        .iter()
        .map(|v| (v.policy.as_str(), v.action, v.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("NeedLabel/warn-team", Action::Warn, Severity::Low),
            ("NeedLabel/dry-owner", Action::Dryrun, Severity::Medium),
        ]
    );
    // kube-* is excluded; the namespaceSelector needs the Namespace and reports its absence.
    let (v, e) = set.evaluate(&pod("kube-system", json!({})), None, &inv);
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].to_string().contains("NeedLabel/dry-owner")
            && e[0].to_string().contains("kube-system"),
        "{}",
        e[0]
    );
}

#[test]
fn bad_constraints_are_errors() {
    let text = format!(
        "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: typo\nspec:\n  enforcementAction: block\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: NeedLabel\nmetadata:\n  name: sev\n  annotations: {{palisade.dev/severity: urgent}}\n",
        template("NeedLabel", GOOD_REGO)
    );
    let (set, errors) = load(&text);
    assert!(set.constraints().is_empty());
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].contains("policies.yaml:")
            && msgs[0].contains("NeedLabel/typo")
            && msgs[0].contains("\"block\""),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("NeedLabel/sev") && msgs[1].contains("urgent"),
        "{msgs:?}"
    );
}

#[test]
fn a_policy_set_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<PolicySet>();
    shared::<Inventory>();
}

#[test]
fn the_library_loads_from_its_directory_and_flags_objects() {
    let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/gatekeeper-library/library");
    let (set, errors) = PolicySet::load(&[&lib]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.templates().len(), 39);
    assert_eq!(set.templates().iter().filter(|t| t.has_cel()).count(), 13);
    assert_eq!(
        set.constraints().len(),
        59,
        "constraint.yaml files and a few others"
    );
    // A privileged pod violates the privileged-containers sample constraint (CEL, deny).
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}});
    let (v, _) = set.evaluate(&pod, None, &Inventory::default());
    let priv_v: Vec<_> = v
        .iter()
        .filter(|v| v.policy == "K8sPSPPrivilegedContainer/psp-privileged-container")
        .collect();
    assert_eq!(priv_v.len(), 1, "{v:#?}");
    assert!(
        priv_v[0]
            .message
            .contains("Privileged container is not allowed: c"),
        "{}",
        priv_v[0].message
    );
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any text as Rego or as a CEL expression: an error or a policy, never a panic.
        #[test]
        fn arbitrary_policy_code_never_panics(code in "[ -~\n]{0,80}") {
            let rego = template("Fuzz", &format!("package fuzz\n{code}"));
            let quoted = serde_json::to_string(&code).unwrap();
            let cel = format!("apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: fuzzcel\nspec:\n  crd:\n    spec:\n      names:\n        kind: FuzzCel\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n      - engine: K8sNativeValidation\n        source:\n          validations:\n          - expression: {quoted}\n");
            for text in [rego, cel] {
                let loaded = palisade_yaml::load_str("fuzz.yaml", &text, &palisade_yaml::Limits::default());
                let (set, _) = PolicySet::from_documents(&loaded.documents, Limits::default());
                let _ = set.evaluate(&pod("default", json!({})), None, &Inventory::default());
            }
        }
    }
}
