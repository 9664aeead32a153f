//! End-to-end tests of the `palisade` binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// The repository root (tests run with the crate directory as their working directory).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `palisade` run from the repository root, without the CI and NO_COLOR of the environment.
pub fn palisade() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(root())
        .env_remove("CI")
        .env_remove("NO_COLOR");
    cmd
}

mod admit;
mod audit;
mod bench;
mod cli;
mod cvss;
mod deploy_scan;
mod docs_examples;
mod feed;
mod feed_serve;
mod hardening;
mod helm_chart;
mod image;
mod netpol;
mod packaging;
mod policy;
mod rbac;
mod scan;
mod scan_cluster_equivalence;
mod scan_formats;
mod scan_images;
mod scan_limits;
mod scan_pipeline;
mod scan_policy;
mod scan_render;
