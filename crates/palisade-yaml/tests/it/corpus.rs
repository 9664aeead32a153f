//! The real-world corpus (testdata/corpus, 23 projects): every file loads without error and
//! the object count per project matches the corpus README's table (List items counted).

use palisade_yaml::{Limits, load_paths};
use std::collections::BTreeMap;

/// `project -> objects` from the README's "By project" table.
fn expected_counts() -> BTreeMap<String, usize> {
    let readme = std::fs::read_to_string(crate::testdata("corpus/README.md")).unwrap();
    let mut out = BTreeMap::new();
    for row in readme.lines().filter(|l| l.starts_with("| [")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = cells[1]
            .trim_start_matches('[')
            .split(']')
            .next()
            .unwrap()
            .to_owned();
        out.insert(name, cells[3].parse().unwrap());
    }
    out
}

#[test]
fn corpus_loads_without_errors_and_counts_match_the_readme() {
    let root = crate::testdata("corpus");
    let l = load_paths(&[&root], &Limits::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let expected = expected_counts();
    assert_eq!(expected.len(), 23);
    let mut got: BTreeMap<String, usize> = expected.keys().map(|k| (k.clone(), 0)).collect();
    for d in &l.documents {
        let rel = std::path::Path::new(&*d.file).strip_prefix(&root).unwrap();
        let project = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        *got.get_mut(project).unwrap() += 1;
    }
    assert_eq!(got, expected);
    let total: usize = expected.values().sum();
    assert_eq!(l.documents.len(), total);
    assert_eq!(l.files, 183);
    // Every document has a kind and a root span on a real line.
    assert!(
        l.documents
            .iter()
            .all(|d| d.spans.span.line >= 1 && d.value["kind"].is_string())
    );
    // The ConfigMapList of 33 Grafana dashboards (README of kube-prometheus) is expanded.
    let dashboards: Vec<_> = l
        .documents
        .iter()
        .filter(|d| d.file.ends_with("grafana-dashboardDefinitions.yaml"))
        .collect();
    assert_eq!(dashboards.len(), 33);
    assert!(
        dashboards
            .iter()
            .enumerate()
            .all(|(i, d)| d.item == Some(i) && d.value["kind"] == "ConfigMap")
    );
    assert!(
        dashboards
            .windows(2)
            .all(|w| w[0].spans.span.line < w[1].spans.span.line)
    );
}
