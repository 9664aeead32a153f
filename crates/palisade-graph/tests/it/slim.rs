//! `slim` keeps exactly what the cross-object pass reads, and `Packed` gives it back intact:
//! the findings (rule, message, file, line, column, object, field) over slimmed documents,
//! and over them packed, equal those over the full ones, on the vendored real-world corpus
//! and on every RBAC and NetworkPolicy conformance case, with and without the RBAC bootstrap
//! defaults. A field the graph reads but `slim` dropped changes a finding here; the corpus
//! and fixtures produce findings of both families, so this cannot pass vacuously.

use crate::testdata;
use palisade_core::{Document, FieldPath, Finding, ObjectRef};
use palisade_graph::{Options, rbac::RbacOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every manifest under `dir`, grouped by directory (one conformance case per directory).
fn groups(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<PathBuf>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            groups(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.entry(dir.to_owned()).or_default().push(p);
        }
    }
}

/// Loads what loads (some fixtures hold deliberately odd documents; the scan skips those too).
fn load_lenient(paths: &[PathBuf]) -> Vec<Document> {
    palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default()).documents
}

fn all_findings(docs: &(impl palisade_graph::Docs + ?Sized), defaults: bool) -> Vec<Finding> {
    let opts = Options {
        rbac: RbacOptions { defaults },
    };
    // Every namespace judged: the most findings, so the most fields read.
    palisade_graph::analysis_with_netpol(
        docs,
        &|_| true,
        &opts,
        palisade_graph::netpol::NetpolOptions {
            assume_complete: true,
        },
    )
    .findings
}

fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    FieldPath::parse(path)
        .segments()
        .iter()
        .try_fold(v, |v, seg| match seg {
            palisade_core::PathSeg::Key(k) => v.get(k.as_str()),
            palisade_core::PathSeg::Index(i) => v.get(*i),
        })
}

/// What the waiver pass after the graph reads: identity, annotations of the object and of its
/// pod template, container names.
fn waiver_view(d: &Document) -> Vec<(String, Option<Value>)> {
    let mut out = vec![(
        "ref".to_owned(),
        Some(Value::String(ObjectRef::of(&d.value).to_string())),
    )];
    for base in [
        "",
        "spec.template.",
        "template.",
        "spec.jobTemplate.spec.template.",
    ] {
        for field in ["metadata.annotations", "metadata.generateName"] {
            let p = format!("{base}{field}");
            out.push((p.clone(), value_at(&d.value, &p).cloned()));
        }
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let p = format!("{base}spec.{list}");
            let names = value_at(&d.value, &p).and_then(Value::as_array).map(|cs| {
                Value::Array(
                    cs.iter()
                        .map(|c| c.get("name").cloned().unwrap_or(Value::Null))
                        .collect(),
                )
            });
            out.push((p, names));
        }
    }
    out
}

/// Checks one scan set; returns (findings, value nodes before, after).
fn check(name: &str, docs: Vec<Document>) -> (usize, usize, usize) {
    let slim: Vec<Document> = docs
        .iter()
        .cloned()
        .filter_map(palisade_graph::slim)
        .collect();
    let relevant: Vec<&Document> = docs
        .iter()
        .filter(|d| palisade_graph::relevant(d))
        .collect();
    assert_eq!(
        relevant.len(),
        slim.len(),
        "{name}: slim drops exactly the irrelevant documents"
    );
    for (full, cut) in relevant.iter().zip(&slim) {
        assert_eq!(
            (&full.file, full.index, full.item),
            (&cut.file, cut.index, cut.item)
        );
        assert_eq!(
            waiver_view(full),
            waiver_view(cut),
            "{name}: {}",
            full.object_ref()
        );
    }
    // What a streaming scan holds: the slimmed documents packed.
    let mut packed = palisade_graph::Packed::new();
    for d in &slim {
        packed.push(d, false);
    }
    // Compact: values and positions together take no more than twice the values' JSON text.
    let json: usize = slim
        .iter()
        .map(|d| serde_json::to_vec(&d.value).unwrap().len())
        .sum();
    assert!(
        packed.packed_bytes() <= 2 * json.max(1),
        "{name}: {} packed bytes for {json} bytes of JSON",
        packed.packed_bytes()
    );
    let mut found = 0;
    for defaults in [false, true] {
        let want = all_findings(&docs, defaults);
        let got = all_findings(&slim, defaults);
        assert_eq!(want, got, "{name} (defaults: {defaults})");
        let from_packed = all_findings(&packed, defaults);
        assert_eq!(want, from_packed, "{name} packed (defaults: {defaults})");
        found += want.len();
    }
    let nodes = |ds: &[&Document]| ds.iter().map(|d| count(&d.value)).sum::<usize>();
    (
        found,
        nodes(&relevant),
        nodes(&slim.iter().collect::<Vec<_>>()),
    )
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Object(m) => m.values().map(count).sum(),
        Value::Array(a) => a.iter().map(count).sum(),
        _ => 0,
    }
}

#[test]
fn slim_and_packed_keep_corpus_findings_identical() {
    let docs = load_lenient(&[testdata("corpus")]);
    let (found, before, after) = check("corpus", docs);
    let families: std::collections::BTreeSet<String> =
        all_findings(&load_lenient(&[testdata("corpus")]), false)
            .into_iter()
            .map(|f| f.family)
            .collect();
    assert!(
        families.contains("rbac") && families.contains("netpol"),
        "{families:?}"
    );
    assert!(found > 100, "{found}");
    // The point of slimming: most of a workload is its pod spec (RBAC objects, kept whole,
    // are most of what remains: 25,478 -> 14,240 value nodes here).
    assert!(after * 10 < before * 6, "{before} -> {after} nodes");
}

#[test]
fn slim_and_packed_keep_conformance_findings_identical() {
    let mut sets = BTreeMap::new();
    groups(&testdata("rbac"), &mut sets);
    groups(&testdata("netpol"), &mut sets);
    assert!(sets.len() > 50, "{}", sets.len());
    let mut found = 0;
    for (dir, files) in &sets {
        found += check(&dir.display().to_string(), load_lenient(files)).0;
    }
    assert!(found > 100, "{found}");
}

#[test]
fn slim_keeps_fields_the_graph_reads() {
    // Every field the graph reads, next to fields it does not, in each template position.
    let docs = crate::load_str(
        r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: n, annotations: {palisade.dev/ignore: "RBAC028: ok"}}
spec:
  schedule: "* * * * *"
  jobTemplate:
    metadata: {labels: {dropped: "yes"}}
    spec:
      backoffLimit: 1
      template:
        metadata: {labels: {app: c}, annotations: {a: b}}
        spec:
          serviceAccount: legacy
          automountServiceAccountToken: true
          volumes: [{name: v, emptyDir: {}}]
          containers:
          - name: x
            image: nginx
            securityContext: {privileged: true}
            ports: [{name: http, containerPort: 80, protocol: TCP}]
"#,
    );
    let cut = palisade_graph::slim(docs[0].clone()).unwrap();
    let t = &cut.value["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(t["metadata"]["labels"]["app"], "c");
    assert_eq!(t["metadata"]["annotations"]["a"], "b");
    assert_eq!(t["spec"]["serviceAccount"], "legacy");
    assert_eq!(t["spec"]["automountServiceAccountToken"], true);
    assert_eq!(t["spec"]["containers"][0]["ports"][0]["name"], "http");
    assert_eq!(t["spec"]["containers"][0]["name"], "x");
    assert!(t["spec"]["containers"][0].get("image").is_none());
    assert!(t["spec"].get("volumes").is_none());
    assert!(cut.value["spec"].get("schedule").is_none());
    assert!(cut.value["spec"]["jobTemplate"].get("metadata").is_none());
    assert_eq!(cut.value["metadata"], docs[0].value["metadata"]);
    let port = FieldPath::parse("spec.jobTemplate.spec.template.spec.containers[0].ports[0].name");
    assert_eq!(cut.locate(&port), docs[0].locate(&port));
    assert_eq!(cut.locate(&port).line, 20);
    // A ConfigMap is not read at all; a Role is kept whole.
    let other = crate::load_str(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verbs: [get], resources: [pods], apiGroups: [\"\"]}]\n",
    );
    assert!(palisade_graph::slim(other[0].clone()).is_none());
    assert_eq!(
        palisade_graph::slim(other[1].clone()).unwrap().value,
        other[1].value
    );
}
