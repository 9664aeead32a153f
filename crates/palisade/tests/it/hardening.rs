//! The hardening catalog through the binary: default and opt-in selection, frameworks and their
//! compliance summary, waivers (annotations and `.palisade.yaml`, expiry, bad waivers), SARIF
//! suppressions, `rules explain` and the rule-page generator.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("PALISADE_CONFIG");
    cmd
}

fn run_json(cmd: &mut Command) -> (i32, Value) {
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

fn scan(args: &[&str]) -> (i32, Value) {
    run_json(palisade().args(["scan", "--format", "json"]).args(args))
}

/// The first item of the array `list` whose `key` equals `value`.
fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list:#}"))
}

fn rules_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

#[test]
fn defaults_leave_out_opt_in_and_reliability_rules() {
    let (_, def) = scan(&[
        "testdata/hardening/HRD007.yaml",
        "testdata/hardening/REL001.yaml",
    ]);
    let r = rules_of(&def["findings"]);
    assert!(r.contains(&"HRD006") || r.contains(&"HRD001"), "{r:?}");
    assert!(!r.contains(&"HRD007"), "digest pinning is opt-in: {r:?}");
    assert!(
        !r.iter().any(|x| x.starts_with("REL")),
        "reliability is off: {r:?}"
    );
    let (_, opt) = scan(&["--select", "image-digest", "testdata/hardening/HRD007.yaml"]);
    assert_eq!(rules_of(&opt["findings"]), vec!["HRD007"]);
    let (_, rel) = scan(&[
        "--select",
        "default,reliability",
        "testdata/hardening/REL001.yaml",
    ]);
    let r = rules_of(&rel["findings"]);
    assert!(r.contains(&"REL001") && r.contains(&"HRD001"), "{r:?}");
    let (_, all) = scan(&["--select", "all", "testdata/hardening/HRD007.yaml"]);
    assert!(rules_of(&all["findings"]).contains(&"HRD007"));
}

#[test]
fn hardening_findings_point_at_file_and_line() {
    let (code, json) = scan(&["--select", "HRD013", "testdata/hardening/HRD013.yaml"]);
    assert_eq!(code, 1);
    let lines: Vec<u64> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    // Line 52: a hostPath of /proc (kubesec ProcMount).
    assert_eq!(lines, vec![14, 17, 20, 52]);
    assert_eq!(
        json["findings"][0]["field"],
        "spec.template.spec.volumes[0].hostPath.path"
    );
    assert_eq!(json["findings"][0]["severity"], "critical");
}

#[test]
fn framework_cis_prints_a_per_control_summary() {
    let (code, json) = scan(&["--framework", "cis", "examples/privileged-daemonset.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(json["summary"]["framework"], "cis");
    let fws = json["compliance"]["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 1);
    let controls = fws[0]["controls"].as_array().unwrap();
    let get = |id: &str| controls.iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(get("5.2.2")["status"], "failed"); // privileged
    assert_eq!(get("5.2.2")["failed_objects"], 1);
    assert!(
        get("5.2.2")["rules"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PSS007"))
    );
    assert_eq!(get("5.2.10")["status"], "passed"); // no HostProcess
    // PSS003 covers three CIS controls: hostNetwork and hostPID are set, hostIPC is not.
    assert_eq!(get("5.2.5")["status"], "failed");
    assert_eq!(get("5.2.3")["status"], "failed");
    assert_eq!(get("5.2.4")["status"], "passed");
    assert_eq!(
        get("5.2.2")["title"],
        "Minimize the admission of privileged containers"
    );
    let ids: Vec<&str> = controls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| {
        id.split('.')
            .map(|p| p.parse::<u32>().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(ids, sorted, "CIS controls in benchmark order");
    // Only rules citing CIS ran: every finding's rule is in some control.
    for f in json["findings"].as_array().unwrap() {
        assert!(
            controls
                .iter()
                .any(|c| c["rules"].as_array().unwrap().contains(&f["rule"])),
            "{f}"
        );
    }
    assert_eq!(
        fws[0]["passed"].as_u64().unwrap()
            + fws[0]["failed"].as_u64().unwrap()
            + fws[0]["skipped"].as_u64().unwrap(),
        controls.len() as u64
    );
    // Ignoring a control's only rule skips it.
    let (_, json) = scan(&[
        "--framework",
        "cis",
        "--ignore",
        "PSS012",
        "examples/privileged-daemonset.yaml",
    ]);
    let controls = json["compliance"]["frameworks"][0]["controls"]
        .as_array()
        .unwrap();
    let hp = controls.iter().find(|c| c["id"] == "5.2.10").unwrap();
    assert_eq!(hp["status"], "skipped");
}

#[test]
fn framework_pss_baseline_runs_at_baseline_and_all_has_four_parts() {
    let (_, json) = scan(&["--framework", "pss-baseline", "examples/"]);
    assert_eq!(json["summary"]["pss_level"], "baseline");
    let f = &json["compliance"]["frameworks"][0];
    assert_eq!(f["name"], "pss-baseline");
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["family"] == "pss")
    );
    let hostpath = find(&f["controls"], "id", "HostPath Volumes");
    assert_eq!(
        hostpath["status"], "failed",
        "baseline reports hostPath itself"
    );
    let (_, json) = scan(&["--framework", "all", "examples/"]);
    let names: Vec<&str> = json["compliance"]["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "pss-baseline",
            "pss-restricted",
            "nsa",
            "cis",
            "k8s-checklist"
        ]
    );
    let out = palisade()
        .args([
            "scan",
            "--framework",
            "nsa",
            "examples/privileged-daemonset.yaml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("NSA/CISA Kubernetes Hardening Guidance v1.2 (nsa):"),
        "{text}"
    );
    assert!(text.contains("FAIL  pod-security.enforcement"), "{text}");
    let out = palisade()
        .args(["scan", "--framework", "soc2", "examples/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pss-baseline"));
}

const WAIVED: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: waived
  namespace: shop
  annotations:
    palisade.dev/ignore: "HRD013, privileged: node agent, reviewed in SEC-42"
    palisade.dev/ignore.sidecar: "read-only-root-filesystem: writes its spool to /"
    palisade.dev/ignore.app: "HRD002"
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        privileged: true
    - name: sidecar
      image: registry.example/sidecar:1.0
  volumes:
    - name: root
      hostPath:
        path: /
"#;

#[test]
fn annotation_waivers_suppress_with_their_reason_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waived.yaml");
    std::fs::write(&file, WAIVED).unwrap();
    let (code, json) = scan(&["--select", "pss,hardening", file.to_str().unwrap()]);
    assert_eq!(code, 1, "other findings remain");
    let active = rules_of(&json["findings"]);
    let suppressed = rules_of(&json["suppressed"]);
    // Object-wide: HRD013 by ID, PSS007 by name.
    assert!(
        suppressed.contains(&"HRD013") && suppressed.contains(&"PSS007"),
        "{suppressed:?}"
    );
    assert!(
        !active.contains(&"HRD013") && !active.contains(&"PSS007"),
        "{active:?}"
    );
    // Container-scoped: the sidecar's HRD001 is waived, the app's is not.
    let hrd001: Vec<&Value> = json["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "HRD001")
        .collect();
    assert_eq!(hrd001.len(), 1);
    assert_eq!(
        hrd001[0]["field"],
        "spec.containers[1].securityContext.readOnlyRootFilesystem"
    );
    assert_eq!(hrd001[0]["suppression"]["kind"], "annotation");
    assert_eq!(hrd001[0]["suppression"]["reason"], "writes its spool to /");
    assert!(active.contains(&"HRD001"));
    assert_eq!(
        find(&json["suppressed"], "rule", "HRD013")["suppression"]["reason"],
        "node agent, reviewed in SEC-42"
    );
    // The waiver without a reason is not applied and is reported with its line.
    assert!(active.contains(&"HRD002"));
    let note = find(&json["notes"], "kind", "invalid-waiver");
    assert_eq!(note["line"], 9);
    assert_eq!(
        json["summary"]["suppressed"],
        json["suppressed"].as_array().unwrap().len()
    );
    assert_eq!(
        json["summary"]["findings"],
        json["findings"].as_array().unwrap().len()
    );

    // SARIF: suppressed results carry `suppressions` and the log stays schema-valid.
    let out = palisade()
        .args(["scan", "--format", "sarif", "--select", "pss,hardening"])
        .arg(&file)
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("testdata/sarif-schema/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let with_sup: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(with_sup.len(), suppressed.len());
    assert!(
        with_sup
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "inSource")
    );
}

#[test]
fn config_file_overrides_waives_and_expires() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("ds.yaml");
    std::fs::copy(root().join("examples/privileged-daemonset.yaml"), &manifest).unwrap();
    let config = dir.path().join(".palisade.yaml");
    std::fs::write(
        &config,
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nrules:\n  disable: [HRD008]\n  severity:\n    HRD011: critical\nexceptions:\n  - rules: [HRD013, hardening]\n    namespaces: [\"moni*\"]\n    kinds: [daemonset]\n    names: [\"node-*\"]\n    paths: [\"**/ds.yaml\"]\n    reason: node agent needs the host filesystem\n    expires: 2999-12-31\n  - rules: [PSS007]\n    reason: was allowed during the migration\n    expires: 2020-01-01\n",
    )
    .unwrap();
    // Found as .palisade.yaml in the working directory.
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(dir.path())
        .env_remove("PALISADE_CONFIG")
        .args(["scan", "--format", "json", "ds.yaml"]);
    let (code, json) = run_json(&mut cmd);
    assert_eq!(code, 1);
    let active = rules_of(&json["findings"]);
    // The hardening family is waived for this DaemonSet; PSS is not.
    assert!(
        active
            .iter()
            .all(|r| r.starts_with("PSS") || r.starts_with("NETPOL")),
        "{active:?}"
    );
    let sup = json["suppressed"].as_array().unwrap();
    assert!(sup.iter().any(|f| f["rule"] == "HRD013"));
    assert!(sup.iter().all(|f| f["suppression"]["kind"] == "config"));
    assert!(
        sup.iter()
            .all(|f| f["suppression"]["expires"] == "2999-12-31")
    );
    assert!(
        sup[0]["suppression"]["source"]
            .as_str()
            .unwrap()
            .ends_with(".palisade.yaml:8")
    );
    // Disabled rule: not even suppressed. Severity override applies to suppressed ones too.
    assert!(!sup.iter().any(|f| f["rule"] == "HRD008"));
    assert!(
        sup.iter()
            .filter(|f| f["rule"] == "HRD011")
            .all(|f| f["severity"] == "critical")
    );
    // The expired exception does not apply, and says so.
    assert!(active.contains(&"PSS007"));
    assert_eq!(json["summary"]["expired_waivers"], 1);
    let note = find(&json["notes"], "kind", "expired-waiver");
    assert_eq!(note["line"], 15);
    assert!(note["message"].as_str().unwrap().contains("2020-01-01"));

    // --no-config ignores it.
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(dir.path())
        .args(["scan", "--format", "json", "--no-config", "ds.yaml"]);
    let (_, json) = run_json(&mut cmd);
    assert!(json["suppressed"].as_array().unwrap().is_empty());
    assert!(rules_of(&json["findings"]).contains(&"HRD008"));
}

#[test]
fn bad_config_is_an_error_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cfg.yaml");
    std::fs::write(
        &config,
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nrules:\n  severity: {HRD001: urgent}\nexceptions:\n  - rules: [HRD001]\n    expires: 2026-02-30\n  - rules: [NOPE123]\n    reason: x\n    namspaces: [a]\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "--config"])
        .arg(&config)
        .arg("examples/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "cfg.yaml:4: rules.severity.HRD001: expected a severity",
        "cfg.yaml:6: exceptions[0].reason: an exception needs a non-empty `reason`",
        "cfg.yaml:7: exceptions[0].expires: expected a date YYYY-MM-DD",
        "cfg.yaml:8: exceptions[1].rules[0]: unknown rule \"NOPE123\"",
        "cfg.yaml:10: exceptions[1].namspaces: unknown field",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    std::fs::write(&config, "kind: Something\n").unwrap();
    let out = palisade()
        .args(["scan", "--config"])
        .arg(&config)
        .arg("examples/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("apiVersion: palisade.dev/v1alpha1"));
}

#[test]
fn rules_explain_and_page_generator() {
    let out = palisade()
        .args(["rules", "explain", "HRD009", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        page,
        std::fs::read_to_string(root().join("docs/rules/HRD009.md")).unwrap()
    );
    assert!(page.contains("KSV-0036") && page.contains("5.1.6"));
    // By default the page is rendered for a terminal: no Markdown syntax, no HTML comment,
    // lines within the width.
    for rule in ["HRD009", "PSS007", "RBAC001"] {
        let out = palisade()
            .env("COLUMNS", "80")
            .args(["rules", "explain", rule])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(&format!("{rule}: ")), "{text}");
        for raw in ["<!--", "| ", "`", "## "] {
            assert!(!text.contains(raw), "{raw:?} in {text}");
        }
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80 || line.split_whitespace().count() <= 1,
                "{rule}: {line:?}"
            );
        }
        if rule == "HRD009" {
            assert!(
                text.contains("KSV-0036") && text.contains("5.1.6"),
                "{text}"
            );
        }
        // It names the page that SARIF's helpUri and JUnit's help link to.
        assert!(
            text.contains(&format!("/docs/rules/{rule}.md")) && !text.contains("example.invalid"),
            "{text}"
        );
    }
    let out = palisade()
        .args(["rules", "explain", "NOPE001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ZZZ999.md"), "stale").unwrap();
    std::fs::write(dir.path().join("notes.md"), "kept").unwrap();
    palisade()
        .args(["rules", "--format", "markdown", "--out-dir"])
        .arg(dir.path())
        .assert()
        .code(0);
    let committed = root().join("docs/rules");
    let mut n = 0;
    for entry in std::fs::read_dir(&committed).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&name)).unwrap(),
            std::fs::read_to_string(committed.join(&name)).unwrap()
        );
        n += 1;
    }
    assert!(n >= 49);
    assert!(
        !dir.path().join("ZZZ999.md").exists(),
        "stale rule page removed"
    );
    assert!(dir.path().join("notes.md").exists(), "other files kept");
}

/// The waiver example in docs/config.md waives what it says at every level: a hostPath is
/// PSS004 at baseline and PSS016 at restricted (the example named only PSS004, so PSS016
/// still fired at restricted).
#[test]
fn documented_waiver_example_waives_at_every_level() {
    let doc = std::fs::read_to_string(root().join("docs/config.md")).unwrap();
    let line = doc
        .lines()
        .find(|l| l.trim_start().starts_with("palisade.dev/ignore: "))
        .unwrap()
        .trim();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("node-exporter.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: node-exporter\n  namespace: monitoring\n  annotations:\n    {line}\nspec:\n  selector: {{matchLabels: {{app: ne}}}}\n  template:\n    metadata: {{labels: {{app: ne}}}}\n    spec:\n      containers:\n      - name: ne\n        image: quay.io/prometheus/node-exporter:v1.8.2\n        volumeMounts:\n        - {{name: proc, mountPath: /host/proc, readOnly: true}}\n        - {{name: sys, mountPath: /host/sys, readOnly: true}}\n      volumes:\n      - {{name: proc, hostPath: {{path: /proc}}}}\n      - {{name: sys, hostPath: {{path: /sys}}}}\n"
        ),
    )
    .unwrap();
    for level in ["baseline", "restricted"] {
        let (_, json) = scan(&[
            "--pss-level",
            level,
            "--select",
            "pss,hardening",
            manifest.to_str().unwrap(),
        ]);
        let left: Vec<&str> = rules_of(&json["findings"])
            .into_iter()
            .filter(|r| ["PSS004", "PSS016", "HRD013", "HRD014"].contains(r))
            .collect();
        assert!(left.is_empty(), "{level}: still reported {left:?}");
        assert!(
            !json["suppressed"].as_array().unwrap().is_empty(),
            "{level}: nothing waived"
        );
    }
}

/// Exception `paths` globs match files relative to the configuration file's directory, however
/// the scan names them: `manifests/`, `./manifests/`, the absolute path, or from another
/// working directory with `--config` (before, only the first two matched).
#[test]
fn config_path_globs_are_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("manifests")).unwrap();
    std::fs::copy(
        root().join("examples/privileged-daemonset.yaml"),
        project.join("manifests/ds.yaml"),
    )
    .unwrap();
    let config = project.join(".palisade.yaml");
    std::fs::write(
        &config,
        "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [PSS007]\n    paths: [\"manifests/**\"]\n    reason: the agent is privileged by design\n",
    )
    .unwrap();
    let abs = project.join("manifests");
    let abs = abs.to_str().unwrap();
    let config_arg = config.to_str().unwrap();
    for (cwd, args) in [
        (&project, vec!["manifests/"]),
        (&project, vec!["./manifests/"]),
        (&project, vec![abs]),
        (
            &dir.path().to_path_buf(),
            vec!["--config", config_arg, "project/manifests/"],
        ),
        (&dir.path().to_path_buf(), vec!["--config", config_arg, abs]),
    ] {
        let mut cmd = Command::cargo_bin("palisade").unwrap();
        cmd.current_dir(cwd)
            .env_remove("PALISADE_CONFIG")
            .args(["scan", "--format", "json", "--select", "PSS007"])
            .args(&args);
        let (_, json) = run_json(&mut cmd);
        assert!(
            json["findings"].as_array().unwrap().is_empty(),
            "{args:?}: {}",
            json["findings"]
        );
        assert_eq!(json["suppressed"].as_array().unwrap().len(), 1, "{args:?}");
    }
    // A file outside the configuration's directory is not covered by a relative glob.
    let outside = dir.path().join("elsewhere.yaml");
    std::fs::copy(root().join("examples/privileged-daemonset.yaml"), &outside).unwrap();
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(&project)
        .env_remove("PALISADE_CONFIG")
        .args(["scan", "--format", "json", "--select", "PSS007"])
        .arg(&outside);
    let (_, json) = run_json(&mut cmd);
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);
}

/// `.palisade.yaml` is found in the nearest directory above the current one, up to the
/// repository root (a directory with `.git`), not only in the current directory; one above the
/// repository is not used.
#[test]
fn config_is_discovered_up_to_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let deep = repo.join("apps/agent");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::copy(
        root().join("examples/privileged-daemonset.yaml"),
        deep.join("ds.yaml"),
    )
    .unwrap();
    let waive = |paths: &str| {
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Config\nexceptions:\n  - rules: [PSS007]\n    paths: [\"{paths}\"]\n    reason: privileged by design\n"
        )
    };
    std::fs::write(repo.join(".palisade.yaml"), waive("apps/**")).unwrap();
    // Above the repository: must not be picked up by a scan inside it.
    std::fs::write(dir.path().join(".palisade.yaml"), waive("**")).unwrap();
    let scan_from = |cwd: &std::path::Path, target: &str| {
        let mut cmd = Command::cargo_bin("palisade").unwrap();
        cmd.current_dir(cwd)
            .env_remove("PALISADE_CONFIG")
            .args(["scan", "--format", "json", "--select", "PSS007", target]);
        run_json(&mut cmd).1
    };
    let json = scan_from(&deep, "ds.yaml");
    assert!(json["findings"].as_array().unwrap().is_empty(), "{json}");
    assert_eq!(json["suppressed"].as_array().unwrap().len(), 1);
    // Without the repository's file, the one above the repository is not used.
    std::fs::remove_file(repo.join(".palisade.yaml")).unwrap();
    let json = scan_from(&deep, "ds.yaml");
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json}");
}
