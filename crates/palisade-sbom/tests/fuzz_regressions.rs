//! Replays `fuzz/regressions/<target>/` (inputs the fuzz targets found, minimised, and small
//! hostile seeds) through exactly what each fuzz target checks: `fuzz/src/lib.rs`, included here.
//! `fuzz/open/<target>/` holds findings not fixed yet; the ignored tests replay those
//! (`cargo nextest run -p palisade-sbom --run-ignored only`), and a fixed one moves to `regressions/`.
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
fn read_regressions_replay() {
    let found = inputs("regressions", "read");
    assert!(
        !found.is_empty(),
        "fuzz/regressions/read/ is empty or missing"
    );
    for (path, bytes) in found {
        eprintln!("{}", path.display());
        checks::read(&bytes);
    }
}

#[test]
#[ignore = "open fuzz findings; replay with --run-ignored only"]
fn read_open_findings_replay() {
    for (path, bytes) in inputs("open", "read") {
        eprintln!("{}", path.display());
        checks::read(&bytes);
    }
}
