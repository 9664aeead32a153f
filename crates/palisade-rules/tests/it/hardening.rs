//! Palisade's own hardening/reliability fixtures (`testdata/hardening/<ID>.yaml`), loaded
//! through the real loader. In each file, a line ending in `# expect: <RULE>` is where a
//! finding of that rule must point (file:line), objects named `pass-*` must get no finding of
//! the file's rule, and every finding of the file's rule must be on an expected line. Every
//! hardening and reliability rule has a file with at least one failing and one passing object.

use std::collections::BTreeSet;

use palisade_rules::{ScanOptions, Selection, check_document};

use crate::testdata;

#[test]
fn every_rule_fails_and_passes_where_its_fixture_says() {
    let dir = testdata("hardening");
    let mut checked = 0;
    for rule in palisade_rules::catalog()
        .iter()
        .filter(|r| matches!(r.family, "hardening" | "reliability"))
    {
        let path = dir.join(format!("{}.yaml", rule.id));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: no fixture {} ({e})", rule.id, path.display()));
        let loaded = palisade_yaml::load_str(
            &path.to_string_lossy(),
            &text,
            &palisade_yaml::Limits::default(),
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let expected: BTreeSet<u32> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_end().ends_with(&format!("# expect: {}", rule.id)))
            .map(|(i, _)| u32::try_from(i + 1).unwrap())
            .collect();
        assert!(!expected.is_empty(), "{}: no `# expect:` line", rule.id);
        // The rule alone, so opt-in rules run too.
        let opts = ScanOptions {
            selection: Selection::new(&[rule.id.to_owned()], &[]).unwrap(),
            ..ScanOptions::default()
        };
        let (mut fails, mut passes) = (0, 0);
        let mut seen = BTreeSet::new();
        for doc in &loaded.documents {
            let name = doc.object_ref().name.unwrap_or_default();
            let findings = check_document(doc, &opts);
            assert!(findings.iter().all(|f| f.rule == rule.id));
            if name.starts_with("pass-") {
                passes += 1;
                assert!(
                    findings.is_empty(),
                    "{}: {name} must pass: {findings:#?}",
                    rule.id
                );
            } else {
                assert!(
                    name.starts_with("fail-"),
                    "{}: object {name:?} is neither pass- nor fail-",
                    rule.id
                );
                fails += 1;
                assert!(!findings.is_empty(), "{}: {name} must fail", rule.id);
            }
            for f in &findings {
                assert!(
                    expected.contains(&f.line),
                    "{}: finding at unexpected line {} ({}: {}); expected {expected:?}",
                    rule.id,
                    f.line,
                    f.field,
                    f.message
                );
                assert!(!f.message.is_empty() && !f.field.is_empty());
                assert_eq!(f.family, rule.family);
                seen.insert(f.line);
            }
        }
        assert_eq!(
            seen, expected,
            "{}: every `# expect:` line gets a finding",
            rule.id
        );
        assert!(
            fails >= 1 && passes >= 1,
            "{}: needs failing and passing objects",
            rule.id
        );
        checked += 1;
    }
    assert_eq!(checked, 36, "hardening + reliability rules with fixtures");
    // No stray fixture for a rule that does not exist.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".yaml") {
            assert!(
                palisade_rules::rule(id).is_some(),
                "fixture {name} names no rule"
            );
        }
    }
}

/// The PSS rules' failing and passing fixtures are PSA's own (`testdata/psa-testdata`, see
/// `conformance.rs`): each check has both, at every level where it applies.
#[test]
fn every_pss_rule_has_psa_pass_and_fail_fixtures() {
    let root = testdata("psa-testdata");
    for rule in palisade_rules::catalog()
        .iter()
        .filter(|r| r.family == "pss")
    {
        let check = palisade_rules::psa_check_for(rule.id).unwrap();
        let mut found = (false, false);
        for level in ["baseline", "restricted"] {
            for entry in std::fs::read_dir(root.join(level)).unwrap() {
                let dir = entry.unwrap().path();
                for (verdict, slot) in [("pass", 0), ("fail", 1)] {
                    let Ok(files) = std::fs::read_dir(dir.join(verdict)) else {
                        continue;
                    };
                    // PSA names fixtures after the lower-cased check ID: `capabilities_baseline0.yaml`.
                    let want = check.to_ascii_lowercase();
                    let hit = files.into_iter().any(|f| {
                        let name = f
                            .unwrap()
                            .file_name()
                            .to_string_lossy()
                            .to_ascii_lowercase();
                        // `base.yaml` is PSA's minimal pod that passes every check.
                        (slot == 0 && name == "base.yaml")
                            || name
                                .strip_prefix(&want)
                                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                    });
                    if hit {
                        if slot == 0 {
                            found.0 = true;
                        } else {
                            found.1 = true;
                        }
                    }
                }
            }
        }
        assert!(
            found.0 && found.1,
            "{} ({check}): pass {} fail {}",
            rule.id,
            found.0,
            found.1
        );
    }
}

/// HRD027 names the kind of secret and where in the value it is (issue #13, item 7), and never
/// prints the secret.
#[test]
fn configmap_secret_findings_name_the_secret_kind_and_line() {
    let path = testdata("hardening/HRD027.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = palisade_yaml::load_str("HRD027.yaml", &text, &palisade_yaml::Limits::default());
    let opts = ScanOptions {
        selection: Selection::new(&["HRD027".to_owned()], &[]).unwrap(),
        ..ScanOptions::default()
    };
    let message = |name: &str| {
        let doc = loaded
            .documents
            .iter()
            .find(|d| d.object_ref().name.as_deref() == Some(name))
            .unwrap();
        let f = check_document(doc, &opts);
        assert_eq!(f.len(), 1, "{name}: {f:#?}");
        f[0].message.clone()
    };
    assert_eq!(
        message("fail-env-file-line"),
        "ConfigMap key \"app.env\" holds a value assigned to the secret-like name \"DB_PASSWORD\" on line 3 of its value"
    );
    assert_eq!(
        message("fail-private-key-value"),
        "ConfigMap key \"ssh_access\" holds a PEM private key (PRIVATE KEY) on line 1 of its value"
    );
    assert_eq!(
        message("fail-aws-key-line"),
        "ConfigMap key \"deploy.sh\" holds an AWS access key ID (AKIA..., long-term) on line 3 of its value"
    );
    for name in ["fail-env-file-line", "fail-quoted-multiline"] {
        assert!(!message(name).contains("hunter2"), "{name}");
    }
}
