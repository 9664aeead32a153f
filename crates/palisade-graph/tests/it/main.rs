//! Integration tests for palisade-graph: conformance against peers' fixtures (reporting
//! agreement per source, with deliberate disagreements allow-listed with reasons), and
//! hand-written who-can / can-reach edge cases, all through the real loader.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod edge;
mod netpol;
mod rbac;
mod slim;

use palisade_core::{Document, Finding, ObjectRef};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).join(sub)
}

/// Loads files or directories; any input error fails the test.
pub fn load(paths: &[PathBuf]) -> Vec<Document> {
    let loaded = palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{paths:?}: {:?}", loaded.errors);
    loaded.documents
}

pub fn load_str(text: &str) -> Vec<Document> {
    let loaded = palisade_yaml::load_str("test.yaml", text, &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.documents
}

/// Findings of exactly these rules.
pub fn findings(docs: &[Document], rules: &[&str]) -> Vec<Finding> {
    palisade_graph::analyze(docs, &|r| rules.contains(&r.id))
}

/// `Kind/name` of an object (kubescape's alert objects carry no namespace).
pub fn object_id(o: &ObjectRef) -> String {
    format!("{}/{}", o.kind, o.name.as_deref().unwrap_or(""))
}

/// The subject a finding on `subjects[i]` of a binding names: `Kind/name`, or
/// `ServiceAccount/ns/name`.
pub fn finding_subject(docs: &[Document], f: &Finding) -> Option<String> {
    let idx: usize = f
        .field
        .strip_prefix("subjects[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let doc = docs
        .iter()
        .find(|d| *d.file == *f.file && d.index == f.document && d.object_ref() == f.object)?;
    let s = doc.value.get("subjects")?.get(idx)?;
    let kind = s.get("kind")?.as_str()?;
    let name = s.get("name")?.as_str()?;
    Some(match kind {
        "ServiceAccount" => {
            let ns = s
                .get("namespace")
                .and_then(|n| n.as_str())
                .or(f.object.namespace.as_deref())
                .unwrap_or("default");
            format!("ServiceAccount/{ns}/{name}")
        }
        _ => format!("{kind}/{name}"),
    })
}

/// A known, deliberate disagreement with a peer: `source<TAB>case<TAB>reason` lines.
pub struct AllowList {
    entries: BTreeMap<(String, String), String>,
    /// `rbac` or `netpol` (the testdata folder), for the printed summary.
    family: String,
}

impl AllowList {
    pub fn read(path: &Path) -> AllowList {
        let text = std::fs::read_to_string(path).unwrap();
        let mut entries = BTreeMap::new();
        for line in text.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, '\t');
            let (Some(s), Some(c), Some(r)) = (parts.next(), parts.next(), parts.next()) else {
                panic!("{}: bad line {line:?}", path.display());
            };
            assert!(
                r.trim().len() > 10,
                "{}: {c} needs a reason",
                path.display()
            );
            entries.insert((s.to_owned(), c.to_owned()), r.to_owned());
        }
        let family = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        AllowList { entries, family }
    }
}

/// One case: what the peer expects and what Palisade reports (as comparable identities).
pub struct Outcome {
    pub case: String,
    pub expected: BTreeSet<String>,
    pub got: BTreeSet<String>,
}

/// Compares the outcomes of one source: a mismatch must be allow-listed, an allow-listed
/// case must still mismatch (so the list only shrinks). Returns (agree, total).
pub fn judge(source: &str, outcomes: &[Outcome], allow: &AllowList) -> (usize, usize) {
    let mut problems = Vec::new();
    let mut agree = 0;
    for o in outcomes {
        let listed = allow
            .entries
            .contains_key(&(source.to_owned(), o.case.clone()));
        let same = o.expected == o.got;
        if same {
            agree += 1;
        }
        match (same, listed) {
            (false, false) => problems.push(format!(
                "{source} {}: expected {:?}, Palisade {:?}",
                o.case, o.expected, o.got
            )),
            (true, true) => problems.push(format!(
                "{source} {}: agrees now; remove it from the allow-list",
                o.case
            )),
            _ => {}
        }
    }
    let known: Vec<&String> = allow
        .entries
        .keys()
        .filter(|(s, _)| s == source)
        .map(|(_, c)| c)
        .filter(|c| !outcomes.iter().any(|o| &o.case == *c))
        .collect();
    for c in known {
        problems.push(format!("{source} {c}: allow-listed but no such case"));
    }
    eprintln!(
        "conformance {} {source}: {agree}/{} agree, {} deliberate disagreements",
        allow.family,
        outcomes.len(),
        outcomes.len() - agree
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    (agree, outcomes.len())
}

/// Case directories `<root>/<rule>/test/<case>` (sorted).
pub fn case_dirs(root: &Path) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for rule in std::fs::read_dir(root).unwrap() {
        let rule = rule.unwrap().path();
        let Ok(cases) = std::fs::read_dir(rule.join("test")) else {
            continue;
        };
        for c in cases {
            let c = c.unwrap().path();
            out.push((
                rule.file_name().unwrap().to_string_lossy().into_owned(),
                c.file_name().unwrap().to_string_lossy().into_owned(),
                c,
            ));
        }
    }
    out.sort();
    out
}

/// Identities in a kubescape `expected.json`: subjects (`externalObjects`) as
/// `Kind/name` (`ServiceAccount/ns/name`), objects (`k8sApiObjects`) as `Kind/name`.
pub fn kubescape_expected(case: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(case.join("expected.json")).unwrap();
    let alerts: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = BTreeSet::new();
    for a in alerts.as_array().unwrap() {
        let ao = &a["alertObject"];
        if let Some(eo) = ao.get("externalObjects") {
            let kind = eo["kind"].as_str().unwrap();
            let name = eo["name"].as_str().unwrap();
            out.insert(match eo.get("namespace").and_then(|n| n.as_str()) {
                Some(ns) if kind == "ServiceAccount" => format!("{kind}/{ns}/{name}"),
                _ => format!("{kind}/{name}"),
            });
        }
        for o in ao
            .get("k8sApiObjects")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            out.insert(format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            ));
        }
    }
    out
}

#[test]
fn catalog_is_wired() {
    let rules = palisade_graph::rules();
    assert_eq!(rules.iter().filter(|r| r.family == "rbac").count(), 31);
    assert_eq!(rules.iter().filter(|r| r.family == "netpol").count(), 9);
    for r in rules {
        for x in r.references {
            assert!(
                palisade_core::REFERENCE_SOURCES.contains(&x.source),
                "{}: reference source {:?} is not in palisade_core::REFERENCE_SOURCES",
                r.id,
                x.source
            );
        }
    }
}
