//! `palisade scan` and `palisade rules` through the real binary: exit codes, the JSON contract,
//! file:line of findings, stdin, bad input, every output format.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root()).env_remove("NO_COLOR");
    cmd
}

fn scan_json(args: &[&str]) -> (i32, Value) {
    let out = palisade()
        .arg("scan")
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().unwrap()
}

/// (rule name-or-id, file suffix, line) triples of the findings, for compact assertions.
fn where_(json: &Value) -> Vec<(String, String, u64)> {
    findings(json)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn good_example_passes_restricted() {
    // PSS restricted and the default hardening rules; the cross-object netpol family (another
    // family, which wants a NetworkPolicy next to the Deployment) is not part of this example.
    let (code, json) = scan_json(&["--select", "pss,hardening", "examples/good-deployment.yaml"]);
    assert_eq!(code, 0, "{json:#}");
    assert!(findings(&json).is_empty());
    assert_eq!(json["summary"]["objects"], 1);
    assert_eq!(json["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn json_contract_fields_are_present() {
    let (code, json) = scan_json(&["examples/privileged-daemonset.yaml"]);
    assert_eq!(code, 1);
    let f = &findings(&json)[0];
    for key in [
        "rule", "severity", "message", "file", "line", "object", "field",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f:#}");
    }
    for key in ["apiVersion", "kind", "namespace", "name"] {
        assert!(f["object"].get(key).is_some(), "object lacks {key}: {f:#}");
    }
    assert_eq!(f["object"]["kind"], "DaemonSet");
    assert_eq!(f["object"]["name"], "node-agent");
    for key in ["findings", "errors", "summary"] {
        assert!(json.get(key).is_some());
    }
}

#[test]
fn privileged_on_is_privileged_and_points_at_its_line() {
    let (_, json) = scan_json(&[
        "--pss-level",
        "baseline",
        "examples/privileged-daemonset.yaml",
    ]);
    let priv_ = findings(&json)
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("privileged (container \"agent\"")
        })
        .unwrap_or_else(|| panic!("no privileged finding: {json:#}"));
    assert_eq!(priv_["line"], 23, "{priv_:#}");
    assert_eq!(
        priv_["field"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert!(
        priv_["message"]
            .as_str()
            .unwrap()
            .starts_with("violates PodSecurity \"baseline:latest\": ")
    );
    // hostNetwork (line 17), capabilities.add (line 25), hostPort (line 28), hostPath volume (line 34).
    let lines: Vec<u64> = where_(&json).iter().map(|w| w.2).collect();
    for l in [17, 25, 28, 34] {
        assert!(lines.contains(&l), "no finding on line {l}: {lines:?}");
    }
}

#[test]
fn multi_document_streams_and_lists_report_their_own_lines() {
    let (code, json) = scan_json(&["examples/mixed-stream.yaml", "examples/list.json"]);
    assert_eq!(code, 1);
    let w = where_(&json);
    // The bare nginx pod (document 1) and the CronJob with lower-case "all" (document 3).
    assert!(
        w.iter()
            .any(|(_, f, l)| f.ends_with("mixed-stream.yaml") && *l == 10)
    );
    let cron: Vec<_> = findings(&json)
        .iter()
        .filter(|f| f["object"]["kind"] == "CronJob" && f["family"] == "pss")
        .collect();
    assert_eq!(
        cron.len(),
        1,
        "only the capabilities check fails: {cron:#?}"
    );
    assert_eq!(cron[0]["line"], 43);
    // Document numbers count from 1 in JSON as in the table (the CronJob is the third document).
    assert_eq!(cron[0]["document"], 3);
    // The List item at items[0] in JSON: hostIPC is on line 10.
    let ipc = findings(&json)
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("hostIPC=true"))
        .unwrap();
    assert_eq!(ipc["line"], 10);
    assert_eq!(ipc["object"]["name"], "debug");
    // Service and ConfigMap are objects but have nothing to check.
    assert_eq!(json["summary"]["objects"], 5);
}

#[test]
fn pss_version_changes_the_verdict() {
    // runAsUser=0 is checked from policy v1.23 on.
    let (_, old) = scan_json(&[
        "--select",
        "pss",
        "--pss-version",
        "v1.22",
        "examples/list.json",
    ]);
    let (_, new) = scan_json(&[
        "--select",
        "pss",
        "--pss-version",
        "v1.23",
        "examples/list.json",
    ]);
    let has_run_as_user = |j: &Value| {
        findings(j)
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("runAsUser=0"))
    };
    assert!(!has_run_as_user(&old));
    assert!(has_run_as_user(&new));
    assert!(
        findings(&old)[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"restricted:v1.22\"")
    );
}

#[test]
fn privileged_level_has_no_pss_findings() {
    let (code, json) = scan_json(&["--pss-level", "privileged", "--select", "pss", "examples/"]);
    assert_eq!(code, 0);
    assert!(findings(&json).is_empty());
    // The hardening family does not depend on the PSS level.
    let (_, json) = scan_json(&["--pss-level", "privileged", "examples/"]);
    assert!(!findings(&json).is_empty());
    assert!(findings(&json).iter().all(|f| f["family"] != "pss"));
}

#[test]
fn fail_on_threshold_sets_exit_code() {
    // The CronJob only violates restricted capabilities; whatever its severity, a threshold of
    // critical must not fail on it unless that rule is critical.
    let (_, json) = scan_json(&["examples/mixed-stream.yaml"]);
    let max = findings(&json)
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(!max.is_empty());
    let (code, _) = scan_json(&["--fail-on", "critical", "examples/good-deployment.yaml"]);
    assert_eq!(code, 0);
    let (code, _) = scan_json(&["--fail-on", "low", "examples/mixed-stream.yaml"]);
    assert_eq!(code, 1);
}

#[test]
fn select_and_ignore() {
    let (_, all) = scan_json(&["examples/"]);
    let (_, no_pss) = scan_json(&["--ignore", "pss", "examples/"]);
    assert!(!findings(&all).is_empty());
    assert!(findings(&all).iter().any(|f| f["family"] == "pss"));
    assert!(!findings(&no_pss).is_empty());
    assert!(findings(&no_pss).iter().all(|f| f["family"] != "pss"));
    let (code, none) = scan_json(&["--select", "pss", "--ignore", "pss", "examples/"]);
    assert!(findings(&none).is_empty());
    assert_eq!(code, 0);
    let first_rule = findings(&all)[0]["rule"].as_str().unwrap().to_owned();
    let (_, only) = scan_json(&["--select", &first_rule, "examples/"]);
    assert!(
        findings(&only)
            .iter()
            .all(|f| f["rule"] == first_rule.as_str())
    );
    assert!(!findings(&only).is_empty());
    let out = palisade()
        .args(["scan", "--select", "no-such-rule", "examples/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-rule"));
}

#[test]
fn stdin_is_read_with_dash() {
    let out = palisade()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(
            std::fs::read("examples/privileged-daemonset.yaml").unwrap_or_else(|_| {
                std::fs::read(root().join("examples/privileged-daemonset.yaml")).unwrap()
            }),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&json)[0]["file"], "<stdin>");
}

#[test]
fn bad_input_is_reported_and_other_documents_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: true\n  containers: [{name: c, image: i}]\n---\n- just\n- a list\n---\nkey: [unclosed\n",
    )
    .unwrap();
    let binary = dir.path().join("binary.yaml");
    std::fs::write(&binary, b"\x00\x01\x02\xff\xfe garbage").unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let (code, json) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{json:#}");
    let errors = json["errors"].as_array().unwrap();
    let text = serde_json::to_string(errors).unwrap();
    assert!(text.contains("binary.yaml"), "{text}");
    assert!(text.contains("bad.yaml"), "{text}");
    // The pod in the first document of bad.yaml is still scanned.
    assert!(
        findings(&json)
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("hostPID=true"))
    );
    // Errors carry a line where there is one.
    assert!(
        errors
            .iter()
            .any(|e| e["file"].as_str().unwrap().ends_with("bad.yaml") && e.get("line").is_some())
    );
}

#[test]
fn missing_path_is_an_error_not_a_silent_pass() {
    let (code, json) = scan_json(&["does/not/exist.yaml"]);
    assert_eq!(code, 2);
    assert!(json["errors"][0]["message"].as_str().unwrap().len() > 5);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["scan"],
        vec!["scan", "--pss-level", "strict", "examples/"],
        vec!["scan", "--pss-version", "1.25", "examples/"],
        vec!["scan", "--format", "xml", "examples/"],
        vec!["scan", "--fail-on", "urgent", "examples/"],
    ] {
        let out = palisade().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn every_format_renders_the_same_findings() {
    for format in ["table", "sarif", "junit"] {
        let out = palisade()
            .args([
                "scan",
                "--format",
                format,
                "examples/privileged-daemonset.yaml",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("privileged-daemonset.yaml"),
            "{format}: {text}"
        );
    }
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let schema_path = root().join("testdata/sarif-schema/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let out = palisade()
        .args(["scan", "--format", "sarif", "examples/"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    palisade()
        .args([
            "scan",
            "--format",
            "json",
            "--select",
            "pss,hardening",
            "--output",
        ])
        .arg(&path)
        .arg("examples/good-deployment.yaml")
        .assert()
        .code(0)
        .stdout("");
    let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["summary"]["findings"], 0);
}

#[test]
fn table_honours_no_color() {
    let out = palisade()
        .env("NO_COLOR", "1")
        .args([
            "scan",
            "--color",
            "auto",
            "examples/privileged-daemonset.yaml",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    let out = palisade()
        .args([
            "scan",
            "--color",
            "always",
            "examples/privileged-daemonset.yaml",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn rules_lists_the_catalog() {
    let out = palisade()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(rules.len() >= 19);
    assert!(
        rules
            .iter()
            .all(|r| r["family"].is_string() && r["id"].is_string())
    );
    // The interface scripts depend on: id, title, family, severity, references with
    // lower-case sources from the documented list (written out here on purpose rather than
    // read from palisade_core::REFERENCE_SOURCES: changing the interface must fail a test).
    let sources = [
        "pss",
        "cis",
        "nsa",
        "k8s-checklist",
        "trivy",
        "kubescape",
        "checkov",
        "polaris",
        "kube-linter",
        "kube-score",
        "kubesec",
        "kubeaudit",
    ];
    for r in rules {
        for key in ["id", "title", "family", "severity", "default"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        for x in r["references"].as_array().unwrap() {
            assert!(sources.contains(&x["source"].as_str().unwrap()), "{x}");
            assert!(x["id"].is_string());
        }
    }
    let ro = rules.iter().find(|r| r["id"] == "HRD001").unwrap();
    assert!(
        ro["references"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["source"] == "trivy" && x["id"] == "KSV-0014")
    );
    let md = palisade()
        .args(["rules", "--format", "markdown"])
        .output()
        .unwrap();
    let committed = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert_eq!(String::from_utf8(md.stdout).unwrap(), committed);
}

/// `--rbac-defaults` adds Kubernetes' bootstrap roles and bindings to the RBAC analysis (as
/// `palisade rbac --rbac-defaults` does). Bootstrap bindings are never reported themselves
/// and the user-facing built-in roles are always known, so on a real RBAC set the findings
/// stay those of the scanned bindings; the flag must be accepted and change nothing else.
#[test]
fn rbac_defaults_flag_is_accepted_and_reports_only_scanned_bindings() {
    let edge = "testdata/rbac/edge-cases/who-can.yaml";
    let (code, plain) = scan_json(&["--no-config", "--select", "rbac", edge]);
    let (code2, with) = scan_json(&["--no-config", "--select", "rbac", "--rbac-defaults", edge]);
    assert_eq!((code, code2), (1, 1));
    assert!(!findings(&plain).is_empty());
    assert_eq!(findings(&with), findings(&plain));
    // No finding points at a binding Palisade supplied: every one is in the scanned file.
    assert!(
        findings(&with)
            .iter()
            .all(|f| f["file"].as_str().unwrap().ends_with("who-can.yaml"))
    );
}

/// The streaming scan keeps only a slimmed copy of the objects the cross-object rules read
/// (`palisade_graph::slim`); its RBAC and NetworkPolicy findings must equal those of the graph
/// over every full document loaded at once, field for field, on the real-world corpus and on
/// the graph conformance fixtures.
#[test]
fn streaming_cross_object_findings_equal_in_memory_analysis() {
    let keys = [
        "rule", "severity", "message", "file", "line", "column", "object", "field",
    ];
    let project = |f: &Value| -> String {
        keys.iter()
            .map(|k| f[*k].to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    for dir in [
        "testdata/corpus",
        "testdata/rbac/edge-cases",
        "testdata/netpol/edge-cases",
    ] {
        let path = root().join(dir).canonicalize().unwrap();
        let arg = path.to_str().unwrap();
        let loaded = palisade_yaml::load_paths(
            std::slice::from_ref(&path),
            &palisade_yaml::Limits::default(),
        );
        for defaults in [false, true] {
            let opts = palisade_graph::Options {
                rbac: palisade_graph::rbac::RbacOptions { defaults },
            };
            let mut want: Vec<String> =
                palisade_graph::analyze_with(&loaded.documents, &|_| true, &opts)
                    .iter()
                    .map(|f| project(&serde_json::to_value(f).unwrap()))
                    .collect();
            let mut args = vec!["--no-config", "--select", "rbac", "--select", "netpol", arg];
            if defaults {
                args.push("--rbac-defaults");
            }
            let (_, json) = scan_json(&args);
            let mut got: Vec<String> = findings(&json).iter().map(project).collect();
            want.sort();
            got.sort();
            assert!(!want.is_empty(), "{dir}");
            assert_eq!(want, got, "{dir} (defaults: {defaults})");
        }
    }
}

/// Annotation waivers apply to cross-object findings too: the streaming scan packs the kept
/// objects and gives the waiver pass back exactly those carrying a waiver annotation.
#[test]
fn annotation_waivers_suppress_cross_object_findings() {
    let dir = tempfile::tempdir().unwrap();
    let binding = |name: &str, annotations: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}\n{annotations}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: system:authenticated\n"
        )
    };
    let text = [
        binding(
            "waived",
            "  annotations:\n    palisade.dev/ignore: \"RBAC026: reviewed in SEC-7\"\n",
        ),
        binding("open", ""),
        binding(
            "bad-waiver",
            "  annotations:\n    palisade.dev/ignore: \"no colon here\"\n",
        ),
    ]
    .join("---\n");
    std::fs::write(dir.path().join("bindings.yaml"), text).unwrap();
    let (_, json) = scan_json(&[
        "--no-config",
        "--select",
        "rbac",
        dir.path().to_str().unwrap(),
    ]);
    // A suppressed entry is a finding with a `suppression` member.
    let names = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "RBAC026")
            .map(|f| f["object"]["name"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&json["findings"]), ["bad-waiver", "open"], "{json}");
    assert_eq!(names(&json["suppressed"]), ["waived"], "{json}");
    let reasons: Vec<&str> = json["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["suppression"]["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"reviewed in SEC-7"), "{reasons:?}");
    // The invalid waiver is reported once, by the per-object pass, not again after the graph.
    let notes: Vec<&Value> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "invalid-waiver")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// An install bundle without namespaces, meant for `kubectl apply -n gitops` (hand-written, in
/// the shape of Argo CD's install.yaml).
const BUNDLE: &str = "testdata/rbac/edge-cases/namespace-less-bundle.yaml";

fn notes_of(json: &Value) -> Vec<String> {
    json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["kind"].as_str().unwrap(),
                n["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn namespace_flag_places_objects_as_kubectl_apply_n() {
    // Without -n the objects are read as `default`: the controller's token is not linked to its
    // cluster-wide grant, and a note says how to scan the bundle as it is applied.
    let (code, json) = scan_json(&["--no-config", "--select", "rbac", BUNDLE]);
    assert_eq!(code, 1, "{json:#}");
    assert!(
        !findings(&json).iter().any(|f| f["rule"] == "RBAC028"),
        "{json:#}"
    );
    let notes = notes_of(&json);
    assert!(
        notes.iter().any(|n| n.starts_with(
            "namespace: StatefulSet/default/app-controller has no metadata.namespace"
        ) && n.contains("bound in namespace gitops only")
            && n.ends_with("scan with `-n gitops`")),
        "{notes:?}"
    );
    let hint = &json["notes"][0];
    assert_eq!(
        (hint["line"].as_u64(), hint["document"].as_u64()),
        (Some(57), Some(6))
    );

    for flag in ["-n", "--namespace"] {
        let (code, json) = scan_json(&["--no-config", "--select", "rbac", flag, "gitops", BUNDLE]);
        assert_eq!(code, 1, "{json:#}");
        let token = findings(&json)
            .iter()
            .find(|f| f["rule"] == "RBAC028")
            .unwrap_or_else(|| panic!("no RBAC028 with {flag} gitops: {json:#}"));
        assert_eq!(token["severity"], "critical");
        assert_eq!(token["object"]["kind"], "StatefulSet");
        assert_eq!(token["object"]["namespace"], "gitops");
        assert!(
            token["message"].as_str().unwrap().starts_with(
                "StatefulSet/gitops/app-controller runs as ServiceAccount gitops/app-controller"
            ),
            "{token:#}"
        );
        // Cluster-scoped kinds get no namespace; the namespaced binding does.
        for f in findings(&json) {
            let o = &f["object"];
            match o["kind"].as_str().unwrap() {
                "ClusterRoleBinding" | "ClusterRole" => {
                    assert!(o.get("namespace").is_none(), "{f:#}")
                }
                _ => assert_eq!(o["namespace"], "gitops", "{f:#}"),
            }
        }
        assert_eq!(
            notes_of(&json),
            vec![
                "namespace: 4 objects without metadata.namespace placed in namespace gitops (-n gitops), as `kubectl apply -n gitops` does"
                    .to_owned()
            ]
        );
    }
}

#[test]
fn namespace_flag_comes_before_per_object_rules_and_waivers() {
    // A configuration exception for namespace gitops waives a per-object finding only when
    // the object was placed there before the rules and the waiver pass ran.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [pss]\n    namespaces: [gitops]\n    reason: placed by -n before the waiver pass\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (_, plain) = scan_json(&["--config", config, "--select", "pss", BUNDLE]);
    let (_, placed) = scan_json(&[
        "--config", config, "--select", "pss", "-n", "gitops", BUNDLE,
    ]);
    assert!(!findings(&plain).is_empty(), "{plain:#}");
    assert!(findings(&placed).is_empty(), "{placed:#}");
    let suppressed = placed["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), findings(&plain).len());
    assert!(
        suppressed
            .iter()
            .all(|s| s["object"]["namespace"] == "gitops")
    );
}

#[test]
fn namespace_flag_refuses_an_object_in_another_namespace() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: kube-system\n";
    let out = palisade()
        .args(["scan", "--no-config", "-f", "json", "-n", "gitops", "-"])
        .write_stdin(manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json:#}");
    let e = &errors[0];
    assert_eq!(e["kind"], "namespace-mismatch");
    assert_eq!(
        (e["line"].as_u64(), e["document"].as_u64()),
        (Some(10), Some(2))
    );
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "ConfigMap \"b\" has metadata.namespace \"kube-system\" but -n gitops was given"
        ) && msg.contains("You must pass '--namespace=kube-system' to perform this operation"),
        "{msg}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("namespace-mismatch")
            || String::from_utf8_lossy(&out.stderr).contains("kube-system")
    );
    // Not a namespace name: a usage error.
    let out = palisade()
        .args(["scan", "--no-config", "-n", "Bad_NS", BUNDLE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid namespace \"Bad_NS\""));
}

#[test]
fn assume_complete_judges_a_lone_namespace() {
    // A lone Deployment: its namespace has no NetworkPolicy or Namespace among the inputs.
    let with_notes = |args: &[&str]| {
        let mut all = vec!["--no-config", "--select", "netpol"];
        all.extend_from_slice(args);
        all.push("examples/good-deployment.yaml");
        let (_, json) = scan_json(&all);
        let ids: BTreeSet<String> = findings(&json)
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        let incomplete = json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "netpol-incomplete")
            .count();
        (ids, incomplete)
    };
    let (ids, incomplete) = with_notes(&[]);
    assert!(ids.is_empty(), "{ids:?}");
    assert_eq!(incomplete, 1);
    let (ids, incomplete) = with_notes(&["--assume-complete"]);
    assert_eq!(incomplete, 0);
    assert!(
        ids.iter().any(|i| i.starts_with("NETPOL00"))
            && ids.iter().all(|i| ["NETPOL001", "NETPOL002", "NETPOL003", "NETPOL004"]
                .contains(&i.as_str())),
        "{ids:?}"
    );
}
