//! palisade-image against real package databases (testdata/image-pkgdb) and images built here:
//! OCI layouts and archives, docker save archives (legacy and OCI-style), whiteouts, links,
//! hostile tars.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod build;
mod hostile;
mod images;
mod inplace;
mod realdata;

use std::path::PathBuf;

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}
