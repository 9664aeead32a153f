//! Replays `fuzz/regressions/<target>/` (inputs the fuzz targets found, minimised, and small
//! hostile seeds) through exactly what each fuzz target checks: `fuzz/src/lib.rs`, included here.
//! `fuzz/open/<target>/` holds findings not fixed yet; the ignored tests replay those
//! (`cargo nextest run -p palisade-langpkg --run-ignored only`), and a fixed one moves to `regressions/`.
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
fn binary_regressions_replay() {
    let found = inputs("regressions", "binary");
    assert!(
        !found.is_empty(),
        "fuzz/regressions/binary/ is empty or missing"
    );
    for (path, bytes) in found {
        eprintln!("{}", path.display());
        checks::binary(&bytes);
    }
}

#[test]
#[ignore = "open fuzz findings; replay with --run-ignored only"]
fn binary_open_findings_replay() {
    for (path, bytes) in inputs("open", "binary") {
        eprintln!("{}", path.display());
        checks::binary(&bytes);
    }
}

#[test]
fn manifest_regressions_replay() {
    let found = inputs("regressions", "manifest");
    assert!(
        !found.is_empty(),
        "fuzz/regressions/manifest/ is empty or missing"
    );
    for (path, bytes) in found {
        eprintln!("{}", path.display());
        checks::manifest(&bytes);
    }
}

#[test]
#[ignore = "open fuzz findings; replay with --run-ignored only"]
fn manifest_open_findings_replay() {
    for (path, bytes) in inputs("open", "manifest") {
        eprintln!("{}", path.display());
        checks::manifest(&bytes);
    }
}

/// The `binary` check on the vendored real binaries, where the scanner does find packages: fed
/// whole and in chunks of two random size sequences, both feeds must agree.
#[test]
fn binary_check_on_vendored_binaries() {
    use std::io::Read;
    let testdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let files = [
        "go-binaries/kube-apiserver.gz",
        "go-binaries/kube-apiserver-386.excerpt.gz",
        "go-binaries/kube-apiserver-s390x.excerpt.gz",
        "cargo-auditable/hello-auditable.gz",
    ];
    for rel in files {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(testdata.join(rel)).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        // Not vacuous: the whole file yields packages.
        let mut scanner = palisade_langpkg::BinaryScanner::new("usr/local/bin/kube-apiserver", 0);
        scanner.feed(&bytes);
        assert!(!scanner.finish().unwrap().is_empty(), "{rel}: no packages");
        for seed in [[0u8, 0x31, 0x11], [0u8, 0x07, 0xc4]] {
            let mut input = seed.to_vec();
            input.extend_from_slice(&bytes);
            checks::binary(&input);
        }
    }
}
