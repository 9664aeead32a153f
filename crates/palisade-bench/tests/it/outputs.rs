//! The printers: kube-bench's text and JSON shapes (field names and order as kube-bench's Go
//! structs marshal them), JUnit, and Palisade's JSON with evidence.

use super::fixtures::{Fixture, options};
use palisade_bench::node::Node;
use palisade_bench::output;
use palisade_bench::run;

fn report() -> run::Report {
    let f = Fixture::control_plane(false);
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    run::run(&options(&["master", "etcd", "node", "policies"]), &node).unwrap()
}

#[test]
fn text_has_kube_bench_shape() {
    let r = report();
    let text = output::text(&r);
    assert!(
        text.starts_with("[INFO] 1 Control Plane Security Configuration\n[INFO] 1.1 "),
        "{}",
        &text[..200]
    );
    assert!(text.contains("\n[FAIL] 1.1.1 Ensure that the API server pod specification file permissions are set to 600 or more restrictive (Automated)\n"));
    assert!(text.contains("\n== Remediations master ==\n1.1.1 Run the below command"));
    assert!(text.contains("== Summary master ==\n"));
    // Node types in kube-bench's order (numeric control id), then the total.
    let order: Vec<usize> = [
        "== Summary master ==",
        "== Summary etcd ==",
        "== Summary node ==",
        "== Summary policies ==",
        "== Summary total ==",
    ]
    .iter()
    .map(|s| text.find(s).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let t = r.totals;
    assert!(text.ends_with(&format!(
        "== Summary total ==\n{} checks PASS\n{} checks FAIL\n{} checks WARN\n{} checks INFO\n\n",
        t.total_pass, t.total_fail, t.total_warn, t.total_info
    )));
    // The same shape as kube-bench's own expected output.
    let expected = std::fs::read_to_string(super::testdata().join("Expected_output.data")).unwrap();
    for marker in [
        "[INFO] 1 ",
        "== Remediations master ==",
        "== Summary master ==\n",
        "checks PASS\n",
        "== Summary total ==",
    ] {
        assert!(
            expected.contains(marker) && text.contains(marker),
            "{marker}"
        );
    }
}

#[test]
fn json_has_kube_bench_field_names_and_order() {
    let r = report();
    let text = output::kube_bench_json(&r, false);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // serde_json's Value sorts keys: check the order on the text itself.
    let in_order = |from: &str, keys: &[&str]| {
        let start = text.find(from).unwrap();
        let mut at = start;
        for k in keys {
            let pos = text[at..].find(&format!("\"{k}\":")).map(|p| p + at);
            assert!(pos.is_some(), "{k} after {at}");
            at = pos.unwrap();
        }
    };
    assert!(text.starts_with("{\"Controls\":[{\"id\":\"1\","));
    in_order(
        "{\"Controls\"",
        &[
            "Controls",
            "id",
            "version",
            "detected_version",
            "text",
            "node_type",
            "tests",
        ],
    );
    in_order(
        "\"section\"",
        &[
            "section", "type", "pass", "fail", "warn", "info", "desc", "results",
        ],
    );
    in_order(
        "\"test_number\"",
        &[
            "test_number",
            "test_desc",
            "audit",
            "AuditEnv",
            "AuditConfig",
            "type",
            "remediation",
            "test_info",
            "status",
            "actual_value",
            "scored",
            "IsMultiple",
            "expected_result",
        ],
    );
    in_order(
        "\"total_pass\"",
        &["total_pass", "total_fail", "total_warn", "total_info"],
    );
    assert!(text.contains("}],\"Totals\":{\"total_pass\":"));
    let c = &v["Controls"][0];
    assert_eq!(c["id"], "1");
    assert_eq!(c["detected_version"], "none");
    let g = &c["tests"][0];
    assert_eq!(g["type"], "");
    let check = &g["results"][0];
    assert!(check.get("reason").is_none(), "reason is omitempty");
    assert_eq!(check["test_number"], "1.1.1");
    assert_eq!(check["status"], "FAIL");
    assert_eq!(check["actual_value"], "permissions=644");
    assert_eq!(
        check["expected_result"],
        "permissions has permissions 644, expected 600 or more restrictive"
    );
    // Substituted, as kube-bench reports the audit it ran.
    assert_eq!(
        check["audit"],
        "/bin/sh -c 'if test -e /etc/kubernetes/manifests/kube-apiserver.yaml; then stat -c permissions=%a /etc/kubernetes/manifests/kube-apiserver.yaml; fi'"
    );
    assert_eq!(v["Totals"]["total_fail"], r.totals.total_fail);
    let bare: serde_json::Value = serde_json::from_str(&output::kube_bench_json(&r, true)).unwrap();
    assert!(bare.is_array());
}

#[test]
fn palisade_json_carries_evidence() {
    let r = report();
    let v: serde_json::Value = serde_json::from_str(&output::palisade_json(&r)).unwrap();
    assert_eq!(v["schema"], "palisade.bench/v1");
    assert_eq!(v["processes_observed"], true);
    let checks: Vec<&serde_json::Value> = v["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["groups"].as_array().unwrap().iter())
        .flat_map(|g| g["checks"].as_array().unwrap().iter())
        .collect();
    let c111 = checks.iter().find(|c| c["id"] == "1.1.1").unwrap();
    assert_eq!(c111["evaluation"], "native");
    assert_eq!(
        c111["evidence"][0],
        serde_json::json!({"kind": "file", "path": "/etc/kubernetes/manifests/kube-apiserver.yaml", "mode": "644", "owner": "alice", "group": "alice"})
    );
    let c122 = checks.iter().find(|c| c["id"] == "1.2.2").unwrap();
    assert_eq!(c122["evidence"][0]["kind"], "process");
    assert_eq!(c122["evidence"][0]["source"]["kind"], "proc");
    assert_eq!(c122["items"][0]["used"], "audit");
    assert_eq!(c122["items"][0]["value"], "/etc/kubernetes/tokens.csv");
    // A kubelet setting read from its config file: the item says so.
    let c421 = checks.iter().find(|c| c["id"] == "4.2.1").unwrap();
    assert_eq!(c421["items"][0]["used"], "audit_config");
    assert_eq!(c421["items"][0]["value"], "true");
    let c511 = checks.iter().find(|c| c["id"] == "5.1.1").unwrap();
    assert_eq!(c511["evaluation"], "not_evaluated");
    let comps = &v["controls"][0]["components"];
    let api = comps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "apiserver")
        .unwrap();
    assert_eq!(api["bin"], "kube-apiserver");
}

#[test]
fn junit_has_kube_bench_shape() {
    let r = report();
    let x = output::junit(&r);
    assert!(
        x.starts_with("<testsuites>\n<testsuite name=\"Control Plane Security Configuration\"")
    );
    assert!(x.contains("<failure message=\"Run the below command"));
    assert!(x.contains("<skipped></skipped>"));
    assert!(x.trim_end().ends_with("</testsuites>"));
    assert_eq!(
        x.matches("<testcase ").count(),
        x.matches("</testcase>").count()
    );
}

#[test]
fn allow_shell_runs_the_rest_through_sh() {
    let f = Fixture::worker(true);
    let node = Node::load(&f.root(), Some(&f.proc_dir()));
    let check = palisade_bench::model::Check {
        id: "9.9".into(),
        audit: "env printf 'answer=42\\n'".into(),
        tests: Some(palisade_bench::model::Tests {
            bin_op: String::new(),
            test_items: vec![palisade_bench::model::TestItem {
                flag: "answer".into(),
                compare: palisade_bench::model::Compare {
                    op: "eq".into(),
                    value: "42".into(),
                },
                ..Default::default()
            }],
        }),
        scored: true,
        ..Default::default()
    };
    let native = run::run_check(&check, &node, false);
    assert_eq!(native.status, run::State::WARN);
    assert_eq!(native.evaluation, run::Evaluation::NotEvaluated);
    let shell = run::run_check(&check, &node, true);
    assert_eq!(shell.status, run::State::PASS, "{shell:?}");
    assert_eq!(shell.evaluation, run::Evaluation::Shell);
    assert_eq!(shell.actual_value, "answer=42");
    // A native tool meeting a form it does not implement (awk BEGIN) is "not evaluated
    // natively" too, and falls back to the shell when allowed.
    let check = palisade_bench::model::Check {
        audit: "awk 'BEGIN{print \"answer=42\"}'".into(),
        ..check
    };
    let native = run::run_check(&check, &node, false);
    assert_eq!(
        native.evaluation,
        run::Evaluation::NotEvaluated,
        "{native:?}"
    );
    assert!(native.reason.contains("awk: program"), "{}", native.reason);
    assert_eq!(run::run_check(&check, &node, true).status, run::State::PASS);
}

#[test]
fn sarif_validates_and_reports_fail_and_warn() {
    let r = report();
    let text = output::sarif(&r);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(super::testdata().join("../sarif-schema/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), r.totals.total_fail + r.totals.total_warn);
    let r111 = results
        .iter()
        .find(|x| x["ruleId"] == "cis-1.12/1.1.1")
        .unwrap();
    assert_eq!(r111["level"], "error");
    assert_eq!(
        r111["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///etc/kubernetes/manifests/kube-apiserver.yaml"
    );
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(
        rules[r111["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "cis-1.12/1.1.1"
    );
}

#[test]
fn table_lists_every_check_and_the_totals() {
    let r = report();
    let t = output::table(&r);
    let checks: usize = r
        .controls
        .iter()
        .flat_map(|c| c.groups.iter())
        .map(|g| g.checks.len())
        .sum();
    assert_eq!(t.lines().count(), checks + 3, "header, rows, blank, totals");
    assert!(t.starts_with("STATUS"));
    assert!(t.contains("\nFAIL    1.1.1   yes     native    Ensure that the API server pod specification file permissions"), "{t}");
    assert!(t.contains("skipped   "), "not-evaluated audits are marked");
    let tt = r.totals;
    assert!(t.ends_with(&format!(
        "cis-1.12: {} PASS, {} FAIL, {} WARN, {} INFO\n",
        tt.total_pass, tt.total_fail, tt.total_warn, tt.total_info
    )));
}
