//! palisade-scan end to end: files and objects through one pipeline, owner deduplication,
//! `--pss-level namespace`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod checked;
mod images;
mod namespace_level;
mod owners;
mod policies;
mod sources;

use palisade_core::Finding;
use palisade_scan::{ClusterObject, Options, Scan};
use serde_json::Value;

pub fn objects(context: &str, values: Vec<Value>) -> Vec<ClusterObject> {
    values
        .into_iter()
        .map(|value| ClusterObject {
            context: context.to_owned(),
            value,
        })
        .collect()
}

pub fn scan_objects(options: Options, values: Vec<Value>) -> palisade_scan::Outcome {
    let mut scan = Scan::new(options).unwrap();
    scan.add_objects(objects("test", values));
    scan.finish()
}

/// (object kind/namespace/name, rule) of each finding, sorted.
pub fn hits(findings: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}/{}/{} {}",
                f.object.kind,
                f.object.namespace.as_deref().unwrap_or("-"),
                f.object.name.as_deref().unwrap_or("-"),
                f.rule
            )
        })
        .collect();
    v.sort();
    v
}
