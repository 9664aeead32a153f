//! Integration tests for the manifest loader: spans, Kubernetes scalar resolution, Lists,
//! JSON, hostile input and limits, directory walking, the real-world corpus, and replay of
//! the fuzzing regression inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod corpus;
mod flow_layouts;
mod hostile;
mod inputs;
mod kustomize;
mod memory;
mod pieces;
mod regressions;
mod render;
mod resolution;
mod roundtrip;
mod spans;

use palisade_core::{Document, FieldPath};

/// Counts the bytes allocated, so that the memory tests (`memory.rs`) can compare a load's
/// peak with the documented bound; a thin wrapper over the system allocator.
#[global_allocator]
pub static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);
use palisade_yaml::{Limits, Loaded, load_str};

pub fn load(text: &str) -> Loaded {
    load_str("test.yaml", text, &Limits::default())
}

/// Loads and asserts there are no errors.
pub fn load_ok(text: &str) -> Loaded {
    let l = load(text);
    assert!(l.errors.is_empty(), "unexpected errors: {:#?}", l.errors);
    l
}

/// Line of `path` in `doc`.
pub fn line(doc: &Document, path: &str) -> u32 {
    let p = FieldPath::parse(path);
    assert!(
        doc.spans.get(&p).is_some(),
        "no span for {path} in {:#?}",
        doc.spans
    );
    doc.locate(&p).line
}

pub fn testdata(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).join(rel)
}
