//! palisade-bench's integration tests: kube-bench's own check-engine tests ported, every
//! shipped cfg file, the audit inventory, and node fixtures run end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bad_input;
mod cfg_tree;
mod fixtures;
mod kube_bench_tests;
mod native_forms;
mod outputs;

use std::path::PathBuf;

/// `testdata/kube-bench` at the workspace root.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kube-bench")
}
