//! Integration tests of palisade-vuln on vendored reference data (see testdata/PROVENANCE.md
//! and testdata/osv-go/PROVENANCE.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod db;
mod go;
mod kube;
mod os;
mod props;
mod versions;

use std::path::{Path, PathBuf};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata(rel)).unwrap()
}

use palisade_core::inventory::{Distro, Inventory, Package, PackageKind};
use palisade_vuln::VulnFinding;

pub fn pkg(kind: PackageKind, name: &str, version: &str) -> Package {
    Package {
        kind,
        name: name.to_owned(),
        version: version.to_owned(),
        ..Package::default()
    }
}

pub fn inv(packages: Vec<Package>) -> Inventory {
    Inventory {
        source: "test".into(),
        packages,
        ..Inventory::default()
    }
}

pub fn distro_inv(id: &str, version_id: &str, packages: Vec<Package>) -> Inventory {
    Inventory {
        distro: Some(Distro {
            id: id.into(),
            version_id: version_id.into(),
            ..Distro::default()
        }),
        ..inv(packages)
    }
}

pub fn ids(found: &[VulnFinding]) -> Vec<String> {
    found.iter().map(|f| f.id.clone()).collect()
}

/// Writes `files` (relative path, content) under a fresh temporary directory.
pub fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}
