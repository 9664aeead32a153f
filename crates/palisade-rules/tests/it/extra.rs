//! Palisade's own PSS fixtures (`testdata/pss-extra/`), loaded through palisade-yaml, with
//! expectations in `testdata/pss-extra/expectations.txt` (format described in its header):
//! what the upstream PSA fixtures do not cover (container_engine_t, user namespaces at
//! v1.34/v1.35, AppArmor fields, image volumes, lowercase `all`, slash sysctls, YAML 1.1
//! booleans, workload kinds and their field paths/lines, Windows, byte-exact messages).

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Document, Finding};
use palisade_rules::pss::Policy;
use palisade_rules::{ScanOptions, Selection, check_document};

use crate::testdata;

fn load_objects() -> BTreeMap<String, Vec<Document>> {
    let dir = testdata("pss-extra");
    let loaded = palisade_yaml::load_paths(&[&dir], &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let mut by_file: BTreeMap<String, Vec<Document>> = BTreeMap::new();
    for doc in loaded.documents {
        let name = std::path::Path::new(&*doc.file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        by_file.entry(name).or_default().push(doc);
    }
    by_file
}

fn parse_policy(s: &str) -> Policy {
    let (level, version) = s.split_once(':').unwrap();
    Policy {
        level: level.parse().unwrap(),
        version: version.parse().unwrap(),
    }
}

fn finding<'a>(findings: &'a [Finding], rule: &str, case: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("{case}: no {rule} finding in {findings:#?}"))
}

#[test]
fn extra_fixtures_meet_expectations() {
    let objects = load_objects();
    let text = std::fs::read_to_string(testdata("pss-extra/expectations.txt")).unwrap();
    let mut cases = 0;
    let mut assertions = 0;
    let mut used_files = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        let case = format!("expectations.txt:{}: {line}", n + 1);
        let mut parts = line.split(" | ");
        let target = parts.next().unwrap();
        let policy = parse_policy(parts.next().unwrap());
        let (file, index) = match target.split_once('#') {
            Some((f, i)) => (f, i.parse::<usize>().unwrap()),
            None => (target, 0),
        };
        used_files.insert(file.to_owned());
        let docs = objects
            .get(file)
            .unwrap_or_else(|| panic!("{case}: no file {file}"));
        if !target.contains('#') {
            assert_eq!(
                docs.len(),
                1,
                "{case}: {file} has several objects, give #index"
            );
        }
        let doc = docs
            .get(index)
            .unwrap_or_else(|| panic!("{case}: no object {index}"));
        let (mut select, mut ignore) = (Vec::new(), Vec::new());
        let mut checks = Vec::new();
        for p in parts {
            if let Some(v) = p.strip_prefix("select=") {
                select.push(v.to_owned());
            } else if let Some(v) = p.strip_prefix("ignore=") {
                ignore.push(v.to_owned());
            } else {
                checks.push(p);
            }
        }
        assert!(!checks.is_empty(), "{case}: no assertion");
        // These fixtures are about PSS: without a `select=` the PSS family runs alone.
        if select.is_empty() {
            select.push("pss".to_owned());
        }
        let opts = ScanOptions {
            policy,
            selection: Selection::new(&select, &ignore).unwrap(),
        };
        let findings = check_document(doc, &opts);
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        for check in checks {
            assertions += 1;
            let (key, value) = check.split_once('=').unwrap_or((check, ""));
            match key {
                "pass" => assert!(
                    findings.is_empty(),
                    "{case}: expected no finding, got {findings:#?}"
                ),
                "rules" => assert_eq!(rules.join(","), value, "{case}"),
                "has" => assert!(
                    rules.contains(&value),
                    "{case}: {value} missing in {rules:?}"
                ),
                "lacks" => assert!(!rules.contains(&value), "{case}: {value} present"),
                "field" | "line" | "message" => {
                    let (rule, expected) = value.split_once(':').unwrap();
                    let f = finding(&findings, rule, &case);
                    let actual = match key {
                        "field" => f.field.clone(),
                        "line" => f.line.to_string(),
                        _ => f.message.clone(),
                    };
                    assert_eq!(actual, expected, "{case}: {key} of {rule}");
                    if key == "field" {
                        assert_eq!(f.fields.first(), Some(&f.field), "{case}");
                    }
                }
                "aggregate" => {
                    let prefix = format!("violates PodSecurity \"{}\": ", opts.policy);
                    let parts: Vec<&str> = findings
                        .iter()
                        .map(|f| f.message.strip_prefix(&prefix).unwrap())
                        .collect();
                    assert_eq!(format!("{prefix}{}", parts.join(", ")), value, "{case}");
                }
                other => panic!("{case}: unknown assertion {other:?}"),
            }
        }
        for f in &findings {
            assert_eq!(f.family, "pss");
            assert!(f.line > 0 && f.column > 0, "{case}: {f:?}");
            assert_eq!(f.document, doc.index);
        }
    }
    let all_files: BTreeSet<String> = objects.keys().cloned().collect();
    assert_eq!(used_files, all_files, "every fixture file has expectations");
    assert!(cases >= 60, "only {cases} cases");
    eprintln!(
        "pss-extra: {cases} cases, {assertions} assertions, {} files",
        all_files.len()
    );
}
