//! Integration tests of palisade-langpkg on real files (`testdata/go-binaries`, see its
//! PROVENANCE.md) and on synthesized inputs that follow the upstream formats.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auditable;
mod binaries;
mod fuzz;
mod manifests;

use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_core::inventory::Package;
use palisade_langpkg::BinaryScanner;

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

pub fn gunzip(rel: &str) -> Vec<u8> {
    let file = std::fs::File::open(testdata(rel)).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Streams `bytes` through a scanner in `chunk`-sized pieces.
pub fn scan(name: &str, bytes: &[u8], chunk: usize) -> Vec<Package> {
    let mut scanner = BinaryScanner::new(name, bytes.len() as u64);
    for part in bytes.chunks(chunk) {
        scanner.feed(part);
    }
    scanner.finish().unwrap()
}
