//! Every rule of the catalog, whatever its family (PSS, hardening, reliability, and the rbac and
//! netpol rules palisade-graph appends), has at least one vendored fixture it fails and one it
//! passes. The test enumerates `palisade_rules::catalog()`, so a new rule without fixtures, or
//! a family that stops being appended, fails here.
//!
//! Where the fixtures come from:
//! - PSS: the upstream PSA fixtures (`testdata/psa-testdata/<level>/v1.<minor>/{pass,fail}/
//!   <check><n>.yaml`): a `fail` fixture of the rule's check must raise the rule, a `pass`
//!   fixture of its check must not (at the fixture's level and version).
//! - hardening, reliability: `testdata/hardening/<ID>.yaml`, objects `fail-*` and `pass-*`.
//! - rbac, netpol: the conformance sets under `testdata/rbac` and `testdata/netpol` (a
//!   kubescape case's `input/` directory, or one file), run through the cross-object rules: the
//!   rule must fire on one set and stay silent on another set that holds objects it reads (RBAC
//!   roles and bindings; NetworkPolicies or workloads). Rules no peer fixture exercises have
//!   Palisade's own pair in `tests/it/fixtures/cross-object/<ID>.yaml`: the `fail-*` objects
//!   are a set the rule must fire on, the `pass-*` objects a near-identical set it must not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_core::Document;
use palisade_rules::pss::{Level, Policy, Version};
use palisade_rules::{ScanOptions, Selection, check_cross_object, check_document};

use crate::testdata;

#[derive(Default, Debug)]
struct Seen {
    fails: usize,
    passes: usize,
}

fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn load(path: &Path) -> Vec<Document> {
    palisade_yaml::load_paths(&[path], &palisade_yaml::Limits::default()).documents
}

fn pss(seen: &mut BTreeMap<&'static str, Seen>) {
    // PSA fixture stems are the check ID in lower case (`capabilities_restricted3`); rule
    // names are its kebab case (`capabilities-restricted`).
    let by_check: BTreeMap<String, &'static str> = palisade_rules::catalog()
        .iter()
        .filter(|r| r.family == "pss")
        .map(|r| (normalized(r.name), r.id))
        .collect();
    let root = testdata("psa-testdata");
    for level_name in ["baseline", "restricted"] {
        let level: Level = level_name.parse().unwrap();
        for version in std::fs::read_dir(root.join(level_name)).unwrap() {
            let version = version.unwrap().file_name().into_string().unwrap();
            let minor = version.strip_prefix("v1.").unwrap().parse().unwrap();
            let opts = ScanOptions {
                policy: Policy {
                    level,
                    version: Version::V1(minor),
                },
                selection: Selection::new(&["pss".to_owned()], &[]).unwrap(),
            };
            for verdict in ["pass", "fail"] {
                for doc in load(&root.join(format!("{level_name}/{version}/{verdict}"))) {
                    let stem = Path::new(&*doc.file)
                        .file_stem()
                        .unwrap()
                        .to_string_lossy()
                        .trim_end_matches(|c: char| c.is_ascii_digit())
                        .to_owned();
                    // `base*` fixtures are the valid pods every check starts from: a passing
                    // case for every rule the level evaluates.
                    if stem.starts_with("base") {
                        let findings = check_document(&doc, &opts);
                        for r in palisade_rules::catalog()
                            .iter()
                            .filter(|r| r.family == "pss")
                        {
                            let evaluated = level == Level::Restricted
                                || palisade_rules::Framework::PssBaseline.includes(r);
                            if evaluated && !findings.iter().any(|f| f.rule == r.id) {
                                seen.entry(r.id).or_default().passes += 1;
                            }
                        }
                        continue;
                    }
                    let Some(id) = by_check.get(&normalized(&stem)) else {
                        panic!("fixture {stem} names no rule");
                    };
                    let fired = check_document(&doc, &opts).iter().any(|f| f.rule == *id);
                    let s = seen.entry(id).or_default();
                    match (verdict, fired) {
                        ("fail", true) => s.fails += 1,
                        ("pass", false) => s.passes += 1,
                        _ => {}
                    }
                }
            }
        }
    }
}

fn hardening(seen: &mut BTreeMap<&'static str, Seen>) {
    for rule in palisade_rules::catalog()
        .iter()
        .filter(|r| matches!(r.family, "hardening" | "reliability"))
    {
        let opts = ScanOptions {
            selection: Selection::new(&[rule.id.to_owned()], &[]).unwrap(),
            ..ScanOptions::default()
        };
        for doc in load(&testdata(&format!("hardening/{}.yaml", rule.id))) {
            let name = doc.object_ref().name.unwrap_or_default();
            let fired = !check_document(&doc, &opts).is_empty();
            let s = seen.entry(rule.id).or_default();
            if name.starts_with("fail-") && fired {
                s.fails += 1;
            } else if name.starts_with("pass-") && !fired {
                s.passes += 1;
            }
        }
    }
}

/// The fixture sets under `dir`: an `input/` directory is one set (a kubescape case), any other
/// manifest file is a set of its own.
fn sets(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "input") {
                out.push(p);
            } else {
                sets(&p, out);
            }
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            && p.file_name().is_some_and(|n| n != "expected.json")
        {
            out.push(p);
        }
    }
}

fn reads(family: &str, docs: &[Document]) -> bool {
    docs.iter().any(|d| {
        let kind = d.object_ref().kind;
        match family {
            "rbac" => matches!(
                kind.as_str(),
                "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
            ),
            _ => kind == "NetworkPolicy" || palisade_rules::pss::pod_template(&d.value).is_some(),
        }
    })
}

fn graph(seen: &mut BTreeMap<&'static str, Seen>) {
    let rules: Vec<_> = palisade_rules::catalog()
        .iter()
        .filter(|r| matches!(r.family, "rbac" | "netpol"))
        .collect();
    let opts = ScanOptions {
        selection: Selection::all(),
        ..ScanOptions::default()
    };
    let mut all = Vec::new();
    sets(&testdata("rbac"), &mut all);
    sets(&testdata("netpol"), &mut all);
    assert!(all.len() > 100, "conformance sets found: {}", all.len());
    for set in all {
        let docs = load(&set);
        if docs.is_empty() {
            continue;
        }
        let findings = check_cross_object(&docs, &opts);
        for r in &rules {
            // A grouped RBAC finding names every escalation path it stands for in `paths`.
            let fired = findings
                .iter()
                .any(|f| f.rule == r.id || f.paths.iter().any(|p| p == r.id));
            let s = seen.entry(r.id).or_default();
            if fired {
                s.fails += 1;
            } else if reads(r.family, &docs) {
                s.passes += 1;
            }
        }
    }
}

/// Palisade's own cross-object pairs: each file must fail and pass exactly as named, for its
/// rule (checked here, not only counted, so a wrong pair fails the test).
fn own_cross_object(seen: &mut BTreeMap<&'static str, Seen>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/cross-object");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let id = file.file_stem().unwrap().to_string_lossy().into_owned();
        let rule = palisade_rules::rule(&id).unwrap_or_else(|| panic!("{id}: no such rule"));
        let opts = ScanOptions {
            selection: Selection::new(std::slice::from_ref(&id), &[]).unwrap(),
            ..ScanOptions::default()
        };
        let loaded = palisade_yaml::load_paths(&[&file], &palisade_yaml::Limits::default());
        assert!(loaded.errors.is_empty(), "{id}: {:?}", loaded.errors);
        for prefix in ["fail-", "pass-"] {
            let set: Vec<Document> = loaded
                .documents
                .iter()
                .filter(|d| d.object_ref().name.unwrap_or_default().starts_with(prefix))
                .cloned()
                .collect();
            assert!(!set.is_empty(), "{id}: no {prefix}* objects");
            let findings = check_cross_object(&set, &opts);
            assert!(findings.iter().all(|f| f.rule == id));
            let s = seen.entry(rule.id).or_default();
            if prefix == "fail-" {
                assert!(!findings.is_empty(), "{id}: the fail-* set must fire");
                s.fails += 1;
            } else {
                assert!(
                    findings.is_empty(),
                    "{id}: the pass-* set fires: {findings:#?}"
                );
                s.passes += 1;
            }
        }
    }
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let mut seen: BTreeMap<&'static str, Seen> = BTreeMap::new();
    pss(&mut seen);
    hardening(&mut seen);
    graph(&mut seen);
    own_cross_object(&mut seen);
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    let mut missing = Vec::new();
    for r in palisade_rules::catalog() {
        *families.entry(r.family).or_default() += 1;
        match seen.get(r.id) {
            Some(s) if s.fails > 0 && s.passes > 0 => {}
            other => missing.push(format!("{} ({}): {other:?}", r.id, r.family)),
        }
    }
    for family in ["pss", "hardening", "reliability", "rbac", "netpol"] {
        assert!(
            families.get(family).is_some_and(|n| *n > 0),
            "family {family} is missing from the catalog: {families:?}"
        );
    }
    assert!(
        missing.is_empty(),
        "rules without a failing and a passing fixture:\n{}",
        missing.join("\n")
    );
}
