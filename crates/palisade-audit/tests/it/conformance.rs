//! Falco's k8s audit regression matrix (66 cases over 47 traces): each case loads the rule
//! files it names and must produce exactly the expected rule counts and no other alert
//! except those listed with reasons in testdata/audit/conformance/extra-alerts.txt;
//! negative cases must be silent. Known gaps live in testdata/audit/conformance/allowlist.txt.

use crate::{TESTDATA, run_file};
use palisade_audit::{Engine, RuleSetBuilder};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn load(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn engine_for(rules_files: &[Value]) -> Engine {
    let ov = format!("{TESTDATA}/falco-k8s-audit-traces/_expectations/rules-overrides");
    let conf = format!("{TESTDATA}/conformance");
    let mut b = RuleSetBuilder::new();
    let mut current = false;
    for f in rules_files {
        let f = f.as_str().unwrap();
        match f {
            "falco_rules.yaml" => {}
            "k8s_audit_rules.yaml(upstream at test time)" => {
                current = true;
                b.add_str(
                    "k8s_audit_rules.yaml",
                    palisade_audit::rules::FALCO_K8S_AUDIT_RULES,
                )
                .unwrap();
                let p = format!("{conf}/compat_2023_list_names.yaml");
                b.add_str(&p, &load(&p)).unwrap();
            }
            other => {
                let p = format!("{ov}/{other}");
                b.add_str(&p, &load(&p)).unwrap_or_else(|e| panic!("{e}"));
                if other == "trust_nginx_container.yaml" && current {
                    let p = format!("{conf}/trust_nginx_container_current_names.yaml");
                    b.add_str(&p, &load(&p)).unwrap();
                }
            }
        }
    }
    Engine::new(b.build().unwrap_or_else(|e| panic!("{e}")))
}

fn allowlist() -> BTreeMap<String, String> {
    load(&format!("{TESTDATA}/conformance/allowlist.txt"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, reason) = l.split_once(" # ").unwrap_or((l, ""));
            (name.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// (case, rule) → count of alerts a case rightly produces beyond its expected counts.
fn extra_alerts() -> BTreeMap<(String, String), u64> {
    load(&format!("{TESTDATA}/conformance/extra-alerts.txt"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let body = l.split_once(" # ").map_or(l, |(b, _)| b);
            let parts: Vec<&str> = body.split('|').map(str::trim).collect();
            assert_eq!(parts.len(), 3, "bad extra-alerts.txt line: {l}");
            let n = parts[2]
                .parse()
                .unwrap_or_else(|_| panic!("bad count in: {l}"));
            ((parts[0].to_string(), parts[1].to_string()), n)
        })
        .collect()
}

#[test]
fn falco_k8s_audit_matrix() {
    let expected: Value = serde_json::from_str(&load(&format!(
        "{TESTDATA}/falco-k8s-audit-traces/_expectations/EXPECTED.json"
    )))
    .unwrap();
    let tests = expected["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 66);
    let allow = allowlist();
    let mut extras = extra_alerts();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut stale = Vec::new();
    let mut traces_ok = BTreeSet::new();
    let mut traces_all = BTreeSet::new();
    for t in tests {
        let name = t["test"].as_str().unwrap();
        let trace = t["trace"].as_str().unwrap();
        traces_all.insert(trace);
        let engine = engine_for(t["rules_files"].as_array().unwrap());
        let (counts, stats, bad) = run_file(
            &engine,
            &format!("{TESTDATA}/falco-k8s-audit-traces/{trace}"),
        );
        let mut problems = Vec::new();
        if trace == "fal_01_003.json" {
            if stats.bad_lines != 1 || !bad[0].contains("not recognized as a k8s audit event") {
                problems.push(format!("expected one rejected line, got {bad:?}"));
            }
        } else if stats.bad_lines != 0 {
            problems.push(format!("unexpected bad lines: {bad:?}"));
        }
        if t["expect_detection"].as_bool().unwrap() {
            for (rule, n) in t["expect_rule_counts_current_names"].as_object().unwrap() {
                let got = counts.get(rule).copied().unwrap_or(0);
                if got != n.as_u64().unwrap() {
                    problems.push(format!(
                        "rule '{rule}': expected {n}, got {got} (all: {counts:?})"
                    ));
                }
            }
            for (rule, n) in &counts {
                if t["expect_rule_counts_current_names"].get(rule).is_some() {
                    continue;
                }
                match extras.remove(&(name.to_string(), rule.clone())) {
                    Some(want) if want == *n => {}
                    Some(want) => problems.push(format!(
                        "extra rule '{rule}': extra-alerts.txt says {want}, got {n}"
                    )),
                    None => problems.push(format!(
                        "unexpected alert '{rule}' x{n} (not expected, not in extra-alerts.txt)"
                    )),
                }
            }
        } else if !counts.is_empty() {
            problems.push(format!("expected no alerts, got {counts:?}"));
        }
        match (problems.is_empty(), allow.contains_key(name)) {
            (true, false) => {
                passed += 1;
                traces_ok.insert(trace);
            }
            (true, true) => stale.push(name.to_string()),
            (false, true) => {}
            (false, false) => failures.push(format!("{name} ({trace}): {}", problems.join("; "))),
        }
    }
    eprintln!(
        "Falco k8s audit conformance: {passed}/66 cases pass, {} allow-listed; traces fully passing: {}/{}",
        allow.len(),
        traces_ok.len(),
        traces_all.len()
    );
    assert!(failures.is_empty(), "regressions:\n{}", failures.join("\n"));
    assert!(
        extras.is_empty(),
        "extra-alerts.txt lines that no longer happen (remove them): {extras:?}"
    );
    assert!(
        stale.is_empty(),
        "allow-listed cases that now pass (remove them): {stale:?}"
    );
}

/// Every trace through the built-in default rule set (Falco's + Palisade's), compared with
/// a reviewed snapshot. Set PALISADE_BLESS=1 to rewrite it after an intended change.
#[test]
fn default_rules_snapshot_over_all_traces() {
    let engine = Engine::new(palisade_audit::RuleSet::builtin().unwrap());
    let dir = format!("{TESTDATA}/falco-k8s-audit-traces");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 47);
    let mut snap = BTreeMap::new();
    for n in &names {
        let (counts, stats, _) = run_file(&engine, &format!("{dir}/{n}"));
        snap.insert(n.clone(), serde_json::json!({"events": stats.events, "bad_lines": stats.bad_lines, "alerts": counts}));
    }
    let text = serde_json::to_string_pretty(&snap).unwrap() + "\n";
    let path = format!("{TESTDATA}/conformance/default-rules-alerts.json");
    if std::env::var_os("PALISADE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = load(&path);
    assert_eq!(
        text, want,
        "default-rule alerts changed; review and re-bless with PALISADE_BLESS=1"
    );
}
