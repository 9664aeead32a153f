//! cargo-auditable payloads found by content in a streamed binary.

use std::io::Write;

use palisade_core::inventory::PackageKind;
use palisade_langpkg::BinaryScanner;

use crate::scan;

/// Deterministic filler that contains zlib-looking byte pairs (`78 9c`, `78 da`) which must be
/// probed and rejected.
fn filler(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|i| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if i % 997 == 0 {
                0x78
            } else if i % 997 == 1 {
                0x9c
            } else {
                (state >> 16) as u8
            }
        })
        .collect()
}

fn zlib(json: &str) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(7));
    encoder.write_all(json.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// An ELF-headed file with filler around a `.dep-v0`-style payload (the JSON shape of
/// cargo-auditable's schema: packages with name, version, source, kind, dependencies, root).
fn binary(json: &str) -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes.extend(filler(300_000, 7));
    bytes.extend(zlib(json));
    bytes.extend(filler(200_000, 9));
    bytes
}

const JSON: &str = r#"{"packages":[{"name":"adler","version":"1.0.2","source":"crates.io"},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},{"name":"hello","version":"0.1.0","source":"local","dependencies":[0,1,3],"root":true},{"name":"miniz_oxide","version":"0.7.1","source":"crates.io","dependencies":[0]}]}"#;

#[test]
fn auditable_payload_in_any_chunking() {
    let bytes = binary(JSON);
    for chunk in [1 << 20, 65536, 1000, 7] {
        let packages = scan("usr/bin/hello", &bytes, chunk);
        let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls,
            vec![
                "pkg:cargo/adler@1.0.2",
                "pkg:cargo/hello@0.1.0",
                "pkg:cargo/miniz_oxide@0.7.1"
            ],
            "chunk {chunk}"
        );
        assert!(packages.iter().all(|p| p.kind == PackageKind::Cargo));
    }
}

#[test]
fn auditable_payload_cut_short_or_invalid_is_an_error_naming_the_file() {
    let bytes = binary(JSON);
    let compressed = zlib(JSON);
    let end = 64 + 300_000 + compressed.len() - 10;
    let mut scanner = BinaryScanner::new("usr/bin/hello", end as u64);
    scanner.feed(&bytes[..end]);
    let err = scanner.finish().unwrap_err().to_string();
    assert!(
        err.starts_with("usr/bin/hello: cargo-auditable data"),
        "{err}"
    );

    let bad = binary(r#"{"packages":[{"name":"a","version":"1","dependencies":[5]}]}"#);
    let mut scanner = BinaryScanner::new("usr/bin/bad", bad.len() as u64);
    scanner.feed(&bad);
    let err = scanner.finish().unwrap_err().to_string();
    assert!(err.contains("depends on index 5"), "{err}");
}

/// A real `cargo auditable build` output (testdata/cargo-auditable/PROVENANCE.md).
#[test]
fn real_cargo_auditable_binary() {
    let bytes = crate::gunzip("cargo-auditable/hello-auditable.gz");
    for chunk in [65536, 333] {
        let packages = scan("usr/local/bin/hello-auditable", &bytes, chunk);
        let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls,
            vec![
                "pkg:cargo/hello-auditable@0.3.1",
                "pkg:cargo/itoa@1.0.19",
                "pkg:cargo/memchr@2.8.3"
            ]
        );
    }
}
