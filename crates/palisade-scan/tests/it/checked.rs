//! `Options::collect_checked`: which rules checked which object (the `pass` results of the
//! report formats). The table of what each rule is about lives in palisade-scan, apart from
//! the rules: these tests catch it drifting from what the rules actually report on.

use palisade_scan::{Options, Scan, Source};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/corpus"
    ))
}

/// Rules about users or namespaces, not one object: never a `pass`.
fn per_object(rule: &str) -> bool {
    let subject_rbac = rule.starts_with("RBAC")
        && !["RBAC026", "RBAC027", "RBAC028", "RBAC030", "RBAC031"].contains(&rule);
    !subject_rbac && !["NETPOL003", "NETPOL004"].contains(&rule)
}

#[test]
fn every_per_object_finding_is_on_an_object_its_rule_checked() {
    let outcome = Scan::new(Options {
        select: vec!["all".to_owned()],
        assume_complete: true,
        collect_checked: true,
        ..Options::default()
    })
    .unwrap()
    .run([Source::Paths(vec![corpus()])]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.checked.len(), outcome.summary.objects);
    let rules: HashMap<_, BTreeSet<&str>> = outcome
        .checked
        .iter()
        .map(|c| (&c.object, c.rules.iter().map(String::as_str).collect()))
        .collect();
    let mut drift = BTreeSet::new();
    let mut compared = 0;
    for f in outcome.findings.iter().filter(|f| per_object(&f.rule)) {
        let checked = rules
            .get(&f.object)
            .expect("every object with a finding was checked");
        compared += 1;
        if !checked.contains(f.rule.as_str()) {
            drift.insert(format!("{} on {}", f.rule, f.object.kind));
        }
    }
    assert!(compared > 1000, "{compared}");
    assert!(
        drift.is_empty(),
        "rules reporting on objects they are not listed for: {drift:#?}"
    );
    // Rules of every class appear.
    let all: BTreeSet<&str> = rules.values().flatten().copied().collect();
    for id in [
        "PSS007",
        "HRD001",
        "HRD022",
        "HRD027",
        "HRD028",
        "HRD031",
        "REL001",
        "NETPOL001",
        "NETPOL005",
        "RBAC026",
        "RBAC031",
    ] {
        assert!(all.contains(id), "{id}");
    }
}

#[test]
fn nothing_is_collected_unless_asked_and_owned_objects_are_left_out() {
    let plain = Scan::new(Options::default())
        .unwrap()
        .run([Source::Paths(vec![corpus()])]);
    assert!(plain.checked.is_empty());

    let spec = serde_json::json!({"containers": [{"name": "c", "image": "i"}]});
    let outcome = crate::scan_objects(
        Options {
            collect_checked: true,
            ..Options::default()
        },
        vec![
            serde_json::json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r", "namespace": "a", "uid": "r1"},
                "spec": {"selector": {}, "template": {"spec": spec}}}),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a", "uid": "p1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "r1", "controller": true}]},
                "spec": spec}),
        ],
    );
    let names: Vec<_> = outcome
        .checked
        .iter()
        .map(|c| (c.object.kind.as_str(), c.uid.as_deref()))
        .collect();
    assert_eq!(names, [("ReplicaSet", Some("r1"))]);
}
