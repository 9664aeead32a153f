//! Integration tests for palisade-rules: PSA conformance over the vendored upstream fixtures,
//! Palisade's own extra fixtures (through the real loader), and generated-docs freshness.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance;
mod coverage;
mod docs;
mod extra;
mod hardening;
mod kinds;
mod overlaps;
mod peers;

use std::path::PathBuf;

pub fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).join(sub)
}
