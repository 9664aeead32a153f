//! What the fuzz targets check, shared with `tests/fuzz_regressions.rs` (included there by path)
//! so a saved input is replayed exactly as the fuzzer ran it.

use palisade_core::inventory::Package;
use palisade_langpkg::{BinaryScanner, LangError, parse_file};

/// Paths a binary is scanned under: a Kubernetes component name turns on the version scan.
const BINARY_PATHS: [&str; 3] = [
    "usr/local/bin/kube-apiserver",
    "usr/bin/app",
    "usr/local/bin/kubelet",
];

/// Paths that select each whole-file reader.
const MANIFEST_PATHS: [&str; 8] = [
    "usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA",
    "usr/lib/python3.11/site-packages/x.egg-info/PKG-INFO",
    "usr/lib/python3/dist-packages/x-1.0-py3.11.egg/EGG-INFO/PKG-INFO",
    "usr/lib/python3/dist-packages/x-1.0.egg-info",
    "app/node_modules/x/package.json",
    "app/lib/x.jar",
    "app/x.WAR",
    "app/x.ear",
];

fn pick<'a>(choices: &[&'a str], b: u8) -> &'a str {
    choices
        .get(usize::from(b) % choices.len())
        .copied()
        .unwrap_or_default()
}

/// Chunk sizes from a small PRNG: mostly small and odd-sized, sometimes large, so every
/// boundary the scanner keeps lookahead for gets crossed.
struct Chunks(u32);
impl Chunks {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        let r = self.0 as usize;
        match r % 4 {
            0 => 1 + r % 7,
            1 => 1 + r % 300,
            2 => 1 + r % 5000,
            _ => 1 + r % 70_000,
        }
    }
}

fn scan(path: &str, data: &[u8], chunks: Option<&mut Chunks>) -> Result<Vec<Package>, LangError> {
    let mut scanner = BinaryScanner::new(path, data.len() as u64);
    match chunks {
        None => scanner.feed(data),
        Some(c) => {
            let mut rest = data;
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at(c.next().min(rest.len()));
                scanner.feed(chunk);
                rest = tail;
            }
        }
    }
    scanner.finish()
}

/// `binary` target. Input: 1 byte choosing the path, 2 bytes seeding the chunk sizes, then the
/// file. The file is scanned fed whole and fed in random chunks: never a panic, errors name
/// the file, and the result does not depend on how the file was chunked.
pub fn binary(input: &[u8]) {
    let (head, data) = input.split_at(input.len().min(3));
    let path = pick(&BINARY_PATHS, head.first().copied().unwrap_or(0));
    let seed = u32::from(head.get(1).copied().unwrap_or(0))
        | u32::from(head.get(2).copied().unwrap_or(0)) << 8;
    let whole = scan(path, data, None);
    let mut chunks = Chunks(seed | 0x1_0000);
    let chunked = scan(path, data, Some(&mut chunks));
    if let Err(e) = &whole {
        assert!(
            e.to_string().contains(path),
            "error does not name {path}: {e}"
        );
    }
    assert_eq!(
        whole, chunked,
        "{path}: fed whole and fed in chunks (seed {seed}) disagree"
    );
}

/// `manifest` target. Input: 1 byte choosing the path (and so the reader), then the file.
/// Never a panic, errors name the file, and every package found carries a name and the path.
pub fn manifest(input: &[u8]) {
    let (head, data) = input.split_at(input.len().min(1));
    let path = pick(&MANIFEST_PATHS, head.first().copied().unwrap_or(0));
    match parse_file(path, data) {
        Ok(pkgs) => {
            for p in &pkgs {
                // The contract: purls filled, `path` set.
                assert!(!p.name.is_empty(), "{path}: package without a name: {p:?}");
                assert!(!p.purl.is_empty(), "{path}: package without a purl: {p:?}");
                assert!(p.path.is_some(), "{path}: package without a path: {p:?}");
            }
        }
        Err(e) => assert!(
            e.to_string().contains(path),
            "error does not name {path}: {e}"
        ),
    }
}
