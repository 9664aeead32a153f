//! Every gator suite of the vendored gatekeeper-library, on every engine a template has.
//! Known failures live in testdata/gatekeeper-library/known-failures.tsv: a case outside the
//! list that fails, or a listed case that passes, fails this test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_policy::{EngineKind, Limits, suite};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/gatekeeper-library")
}

#[test]
fn gatekeeper_library_suites_pass_on_both_engines() {
    let root = root();
    let (files, errors) = suite::find_suites(&[root.join("library")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(files.len(), 39, "suite files");
    let report = suite::run(&files, Limits::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let known: BTreeSet<(String, String, String)> =
        std::fs::read_to_string(root.join("known-failures.tsv"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
            })
            .collect();
    let mut failed = BTreeSet::new();
    let (mut rego, mut cel) = ((0, 0), (0, 0));
    for c in &report.cases {
        assert!(!c.skipped);
        assert!(
            !c.disagreement()
                || known
                    .iter()
                    .any(|k| k.2 == format!("{}/{}", c.test, c.case)),
            "engines disagree on {c:?}"
        );
        let rel = Path::new(&c.suite)
            .strip_prefix(&root)
            .unwrap()
            .display()
            .to_string();
        for o in &c.outcomes {
            let tally = match o.engine {
                EngineKind::Rego => &mut rego,
                EngineKind::Cel => &mut cel,
            };
            tally.1 += 1;
            match &o.failure {
                None => tally.0 += 1,
                Some(why) => {
                    let key = (
                        o.engine.name().to_owned(),
                        rel.clone(),
                        format!("{}/{}", c.test, c.case),
                    );
                    assert!(known.contains(&key), "unexpected failure {key:?}: {why}");
                    failed.insert(key);
                }
            }
        }
    }
    let fixed: Vec<_> = known.difference(&failed).collect();
    assert!(
        fixed.is_empty(),
        "now passing, remove from known-failures.tsv: {fixed:?}"
    );
    assert_eq!(report.cases.len(), 208);
    assert_eq!(rego, (208, 208), "Rego pass/total");
    assert_eq!(cel, (97, 97), "CEL pass/total");
}

#[test]
fn a_wrong_expectation_fails_the_case() {
    // The same template, constraint and object as the library's requiredlabels suite, with the
    // assertion inverted: the runner must report failure on both engines.
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("library/general/requiredlabels");
    let suite_text = format!(
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {{name: x}}\ntests:\n- name: t\n  template: {t}\n  constraint: {c}\n  cases:\n  - name: inverted\n    object: {o}\n    assertions:\n    - violations: 0\n  - name: message-filter\n    object: {o}\n    assertions:\n    - violations: 0\n      message: nothing-like-this\n",
        t = src
            .join("template.yaml")
            .strip_prefix("/")
            .map(|p| p.display().to_string())
            .unwrap(),
        c = src
            .join("samples/all-must-have-owner/constraint.yaml")
            .strip_prefix("/")
            .map(|p| p.display().to_string())
            .unwrap(),
        o = src
            .join("samples/all-must-have-owner/example_disallowed.yaml")
            .strip_prefix("/")
            .map(|p| p.display().to_string())
            .unwrap(),
    );
    // Paths must be relative to the suite: put the suite at the filesystem root's depth.
    let depth = dir.path().components().count() - 1;
    let up = "../".repeat(depth);
    let suite_text = suite_text
        .replace("template: ", &format!("template: {up}"))
        .replace("constraint: ", &format!("constraint: {up}"))
        .replace("object: ", &format!("object: {up}"));
    let f = dir.path().join("suite.yaml");
    std::fs::write(&f, suite_text).unwrap();
    let report = suite::run(&[f], Limits::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.cases.len(), 2);
    let inverted = &report.cases[0];
    assert_eq!(inverted.outcomes.len(), 2, "rego and cel");
    assert!(
        inverted.outcomes.iter().all(|o| o
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("expected violations: 0"))),
        "{inverted:?}"
    );
    // A message that selects nothing counts zero violations, so `violations: 0` holds.
    assert!(report.cases[1].passed(), "{:?}", report.cases[1]);
}
