//! Replays `fuzz/regressions/<target>/` (inputs the fuzz targets found, minimised, and small
//! hostile seeds) through exactly what each fuzz target checks: `fuzz/src/lib.rs`, included here.
//! `fuzz/open/<target>/` holds findings not fixed yet; the ignored tests replay those
//! (`cargo nextest run -p palisade-image --run-ignored only`), and a fixed one moves to `regressions/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

// The fuzz workspace's checks; its libFuzzer entry points are not used here.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

/// The files of `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn layer_regressions_replay() {
    let found = inputs("regressions", "layer");
    assert!(
        !found.is_empty(),
        "fuzz/regressions/layer/ is empty or missing"
    );
    for (path, bytes) in found {
        eprintln!("{}", path.display());
        let tmp = tempfile::tempdir().unwrap();
        checks::layer_in(tmp.path(), &bytes);
    }
}

#[test]
#[ignore = "open fuzz findings; replay with --run-ignored only"]
fn layer_open_findings_replay() {
    for (path, bytes) in inputs("open", "layer") {
        eprintln!("{}", path.display());
        let tmp = tempfile::tempdir().unwrap();
        checks::layer_in(tmp.path(), &bytes);
    }
}

#[test]
fn pkgdb_regressions_replay() {
    let found = inputs("regressions", "pkgdb");
    assert!(
        !found.is_empty(),
        "fuzz/regressions/pkgdb/ is empty or missing"
    );
    for (path, bytes) in found {
        eprintln!("{}", path.display());
        let tmp = tempfile::tempdir().unwrap();
        checks::pkgdb_in(tmp.path(), &bytes);
    }
}

#[test]
#[ignore = "open fuzz findings; replay with --run-ignored only"]
fn pkgdb_open_findings_replay() {
    for (path, bytes) in inputs("open", "pkgdb") {
        eprintln!("{}", path.display());
        let tmp = tempfile::tempdir().unwrap();
        checks::pkgdb_in(tmp.path(), &bytes);
    }
}
