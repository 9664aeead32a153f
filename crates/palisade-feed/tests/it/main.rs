//! Conformance and integration tests of palisade-feed on the vendored real data
//! (`testdata/cve-feed`, `testdata/cvss`, `testdata/osv`; see each PROVENANCE.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bad_input;
mod cvss;
mod fetch;
mod golden;
mod matcher;
mod osv;
mod ranges;
mod regressions;
mod syndication;

use palisade_feed::{BuildOptions, Feed, Issue, Limits};
use std::path::{Path, PathBuf};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

pub fn issues(dir: &str) -> Vec<Issue> {
    let (issues, warnings) =
        palisade_feed::io::read_inputs(&[testdata(dir)], &Limits::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    issues
}

pub const NOW: &str = "2026-12-01T00:00:00Z";

pub fn build(dir: &str) -> Feed {
    let options = BuildOptions {
        now: NOW.to_owned(),
        ..BuildOptions::default()
    };
    Feed::from_issues(&issues(dir), &options)
}
