//! End-to-end tests of the `palisade` binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

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
mod netpol;
mod packaging;
mod policy;
mod rbac;
mod scan;
mod scan_cluster_equivalence;
mod scan_formats;
mod scan_limits;
mod scan_pipeline;
mod scan_render;
