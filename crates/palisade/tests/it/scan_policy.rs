//! `palisade scan --policy`: Gatekeeper policies from testdata/gatekeeper-library reviewing the
//! scanned objects, through every output format and the exit status.

use crate::{palisade, root};
use serde_json::Value;

const LIB: &str = "testdata/gatekeeper-library/library/general";
const SAMPLES: &str = "testdata/gatekeeper-library/library/general/uniqueserviceselector/samples/unique-service-selector";
const RULE: &str = "K8sUniqueServiceSelector/unique-service-selector";

/// Two Services with one selector, reviewed by uniqueserviceselector, catalog rules off.
fn scan(format: &str, extra: &[&str]) -> (i32, String, String) {
    let out = palisade()
        .args([
            "scan",
            "--no-config",
            "--ignore",
            "all",
            "-f",
            format,
            &format!("{SAMPLES}/example_disallowed.yaml"),
            &format!("{SAMPLES}/example_inventory_disallowed.yaml"),
            "--policy",
            &format!("{LIB}/uniqueserviceselector/template.yaml"),
            "--policy",
            &format!("{SAMPLES}/constraint.yaml"),
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn json_findings_carry_the_policy_as_rule() {
    let (code, out, err) = scan("json", &[]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{out}");
    let f = &findings[0];
    assert_eq!(f["rule"], RULE);
    assert_eq!(f["family"], "policy");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["file"], format!("{SAMPLES}/example_disallowed.yaml"));
    assert_eq!(
        (f["line"].as_u64(), f["document"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(f["object"]["kind"], "Service");
    assert!(
        f["message"].as_str().unwrap().contains("same selector"),
        "{f}"
    );
    // --fail-on above the finding's severity: exit 0.
    assert_eq!(scan("json", &["--fail-on", "critical"]).0, 0);
}

#[test]
fn sarif_has_a_rule_entry_per_policy_and_validates() {
    let (code, out, err) = scan("sarif", &[]);
    assert_eq!(code, 1, "{err}");
    let log: Value = serde_json::from_str(&out).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("testdata/sarif-schema/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let (index, rule) = rules
        .iter()
        .enumerate()
        .find(|(_, r)| r["id"] == RULE)
        .expect("a rule entry for the constraint");
    assert_eq!(rule["properties"]["family"], "policy");
    assert_eq!(rule["properties"]["severity"], "high");
    // No docs/rules/ page exists for a user's policy: no "Learn more" link to one.
    assert!(rule.get("helpUri").is_none(), "{rule}");
    let title = rule["shortDescription"]["text"].as_str().unwrap();
    assert!(title.contains("Unique Service Selector"), "{title}");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["ruleId"], RULE);
        assert_eq!(r["ruleIndex"].as_u64(), Some(index as u64));
        assert_eq!(r["level"], "error");
        assert_eq!(r["properties"]["action"], "deny");
    }
}

/// Waivers name one policy: the annotation `KIND/NAME: reason` and a configuration exception
/// naming `KIND/NAME`; an unknown catalog-looking name is still refused.
#[test]
fn a_waiver_names_one_constraint() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = dir.path().join("annotated.yaml");
    let text = std::fs::read_to_string(root().join(SAMPLES).join("example_disallowed.yaml"))
        .unwrap()
        .replacen(
            "metadata:\n",
            &format!("metadata:\n  annotations:\n    palisade.dev/ignore: \"{RULE}: selector shared on purpose\"\n"),
            1,
        );
    std::fs::write(&annotated, text).unwrap();
    let cfg = dir.path().join("cfg.yaml");
    let run = |config: &str| {
        std::fs::write(&cfg, config).unwrap();
        palisade()
            .args(["scan", "--ignore", "all", "-f", "json", "--config"])
            .arg(&cfg)
            .arg(&annotated)
            .arg(format!("{SAMPLES}/example_inventory_disallowed.yaml"))
            .args([
                "--policy",
                &format!("{LIB}/uniqueserviceselector/template.yaml"),
            ])
            .args(["--policy", &format!("{SAMPLES}/constraint.yaml")])
            .output()
            .unwrap()
    };
    let head = "apiVersion: palisade.dev/v1alpha1\nkind: Config\n";
    // The annotation waives the annotated Service's finding; the other stays.
    let out = run(head);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["suppressed"][0]["rule"], RULE);
    assert_eq!(v["suppressed"][0]["suppression"]["kind"], "annotation");
    assert_eq!(v["notes"].as_array().map_or(0, Vec::len), 0, "{v}");
    // An exception naming the constraint waives the other one too.
    let out = run(&format!(
        "{head}exceptions:\n  - rules: [{RULE}]\n    kinds: [Service]\n    reason: both are the same app\n"
    ));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["suppressed"].as_array().unwrap().len(), 2, "{v}");
    // A name that is neither a catalog rule nor a policy form is still an error.
    let out = run(&format!(
        "{head}exceptions:\n  - rules: [NOPE123]\n    reason: r\n"
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule \"NOPE123\""));
}

#[test]
fn every_format_prints_policy_findings() {
    for format in ["table", "junit", "policyreport", "openreports", "html"] {
        let (code, out, err) = scan(format, &[]);
        assert_eq!(code, 1, "{format}: {err}");
        assert!(out.contains(RULE), "{format}: {out}");
    }
}

#[test]
fn a_compile_error_exits_2_naming_file_and_line_and_the_others_still_report() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: k8sbroken\nspec:\n  crd:\n    spec:\n      names:\n        kind: K8sBroken\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package k8sbroken\n        violation[{\"msg\": msg}] {\n          msg := \n        }\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sBroken\nmetadata:\n  name: broken\n",
    )
    .unwrap();
    let (code, out, err) = scan("json", &["--policy", broken.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("broken.yaml:") && err.contains("template k8sbroken: Rego does not compile"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2, "{out}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    assert_eq!(errors[0]["kind"], "policy");
}

#[test]
fn a_dryrun_constraint_is_reported_with_its_action() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.yaml");
    std::fs::write(
        &c,
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata:\n  name: need-team\n  annotations:\n    palisade.dev/severity: low\nspec:\n  enforcementAction: dryrun\n  parameters:\n    labels:\n      - key: team\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "--no-config", "--ignore", "all", "-f", "json"])
        .arg(format!("{SAMPLES}/example_allowed.yaml"))
        .args(["--policy", &format!("{LIB}/requiredlabels/template.yaml")])
        .arg("--policy")
        .arg(&c)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "K8sRequiredLabels/need-team");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["action"], "dryrun", "{f}");
    assert!(
        !f["message"].as_str().unwrap().contains("enforcementAction"),
        "{f}"
    );
}

#[test]
fn objects_on_standard_input_are_reviewed_and_a_missing_policy_path_exits_2() {
    let both = [
        std::fs::read_to_string(root().join(SAMPLES).join("example_disallowed.yaml")).unwrap(),
        std::fs::read_to_string(
            root()
                .join(SAMPLES)
                .join("example_inventory_disallowed.yaml"),
        )
        .unwrap(),
    ]
    .join("---\n");
    let run = |extra: &[&str]| {
        palisade()
            .args(["scan", "--no-config", "--ignore", "all", "-f", "json", "-"])
            .args(["--policy", &format!("{LIB}/uniqueserviceselector")])
            .args(extra)
            .write_stdin(both.clone())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{v}");
    assert!(
        findings
            .iter()
            .all(|f| f["rule"] == RULE && f["file"] == "<stdin>")
    );
    // The suite, sync and example files in the directory are not policies: no error.
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v}");

    let missing = run(&["--policy", "no/such/policies"]);
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8(missing.stderr).unwrap();
    assert!(err.contains("no/such/policies"), "{err}");
}
