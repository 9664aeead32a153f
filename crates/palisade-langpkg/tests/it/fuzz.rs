//! Random and truncated input never panics; results do not depend on chunking. Fixed
//! regression inputs below the properties.

use palisade_langpkg::{BinaryScanner, parse_file};
use proptest::prelude::*;

use crate::gunzip;

const MAGIC: &[u8] = b"\xff Go buildinf:";

fn scan_chunks(
    name: &str,
    bytes: &[u8],
    cuts: &[usize],
) -> Result<Vec<palisade_core::inventory::Package>, palisade_langpkg::LangError> {
    let mut scanner = BinaryScanner::new(name, bytes.len() as u64);
    let mut at = 0;
    for cut in cuts {
        let end = (at + cut).min(bytes.len());
        scanner.feed(&bytes[at..end]);
        at = end;
    }
    scanner.feed(&bytes[at..]);
    scanner.finish()
}

/// Random bytes behind an executable magic, with a Go build info header planted at an
/// aligned offset (random pointer size, flags and varints after it).
fn planted() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            b"\x7fELF\x02\x01".to_vec(),
            b"\x7fELF\x01\x02".to_vec(),
            b"MZ\x90\x00".to_vec(),
            b"\xcf\xfa\xed\xfe".to_vec(),
        ]),
        prop::collection::vec(any::<u8>(), 0..600),
        0usize..8,
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(head, mut body, slot, tail)| {
            let mut bytes = head;
            bytes.append(&mut body);
            let at = (bytes.len() / 16 + slot) * 16;
            bytes.resize(at, 0);
            bytes.extend_from_slice(MAGIC);
            bytes.extend_from_slice(&tail);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn scanner_survives_planted_headers(bytes in planted(), cuts in prop::collection::vec(1usize..300, 0..8)) {
        let _ = scan_chunks("usr/bin/kubelet", &bytes, &cuts);
    }

    #[test]
    fn scanner_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = scan_chunks("usr/bin/kube-proxy", &bytes, &[3, 500]);
    }

    #[test]
    fn parse_file_survives_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        path in prop::sample::select(vec![
            "a/x.dist-info/METADATA",
            "a/x.egg-info/PKG-INFO",
            "a/node_modules/x/package.json",
            "a/x.jar",
        ]),
    ) {
        let _ = parse_file(path, &bytes);
    }
}

/// A real binary cut anywhere (through headers, build info, the version strings) gives a
/// result or an error, and cut-free any chunking gives the same packages.
#[test]
fn truncated_real_binary_never_panics() {
    let bytes = gunzip("go-binaries/kube-apiserver.gz");
    let whole = scan_chunks("usr/bin/kube-apiserver", &bytes, &[]).unwrap();
    let runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    let mut runner = runner;
    runner
        .run(
            &(0..bytes.len(), prop::collection::vec(1usize..200_000, 0..6)),
            |(cut, cuts)| {
                let _ = scan_chunks("usr/bin/kube-apiserver", &bytes[..cut], &cuts);
                let again = scan_chunks("usr/bin/kube-apiserver", &bytes, &cuts).unwrap();
                prop_assert_eq!(&again, &whole);
                Ok(())
            },
        )
        .unwrap();
}

/// Build info blob cut inside its strings: an error naming the file, not an empty success.
#[test]
fn build_info_cut_inside_modinfo_is_an_error() {
    let bytes = gunzip("go-binaries/kube-apiserver.gz");
    let magic = bytes
        .windows(MAGIC.len())
        .enumerate()
        .find(|(i, w)| *w == MAGIC && i % 16 == 0)
        .map(|(i, _)| i)
        .unwrap();
    let err = scan_chunks("usr/bin/kube-apiserver", &bytes[..magic + 100], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("usr/bin/kube-apiserver: Go build info at offset"),
        "{err}"
    );
}

fn elf_with(blob: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes.extend_from_slice(blob);
    bytes.resize(bytes.len() + 64, 0);
    bytes
}

fn header(ptr: u8, flags: u8) -> Vec<u8> {
    let mut blob = MAGIC.to_vec();
    blob.extend_from_slice(&[ptr, flags]);
    blob.resize(32, 0);
    blob
}

/// Regression inputs kept as tests (each once a property-test or review finding).
#[test]
fn regressions() {
    // Huge varint length after an inline header: rejected, no allocation of that size.
    let mut blob = header(8, 2);
    blob.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert_eq!(scan_chunks("b", &elf_with(&blob), &[]).unwrap(), vec![]);

    // Pre-1.18 pointer format: said, not silently empty.
    let err = scan_chunks("old", &elf_with(&header(8, 0)), &[]).unwrap_err();
    assert!(err.to_string().contains("pre-Go-1.18"), "{err}");

    // Magic as the last bytes of the file.
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes.extend_from_slice(MAGIC);
    assert!(scan_chunks("c", &bytes, &[]).is_err());

    // A valid blob whose modinfo has a dangling `=>`: error naming the line.
    let mut blob = header(8, 2);
    blob.push(8);
    blob.extend_from_slice(b"go1.22.1");
    let modinfo = b"=>\tx\tv1\n";
    blob.push(modinfo.len() as u8);
    blob.extend_from_slice(modinfo);
    let err = scan_chunks("d", &elf_with(&blob), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("modinfo line 1"), "{err}");

    // ELF claiming program headers far outside the head: no layout, no panic.
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
    bytes[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
    bytes.resize(5000, 0x76);
    assert_eq!(
        scan_chunks("usr/bin/kubelet", &bytes, &[10]).unwrap(),
        vec![]
    );

    // zlib header followed by garbage, and a zlib stream that is not auditable JSON.
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes.extend_from_slice(&[0x78, 0x9c, 0xff, 0xff, 0x00, 0x78, 0xda]);
    bytes.extend_from_slice(&[
        0x78, 0x9c, 0x4b, 0x4c, 0x4a, 0x06, 0x00, 0x02, 0x4d, 0x01, 0x27,
    ]);
    assert_eq!(scan_chunks("e", &bytes, &[1]).unwrap(), vec![]);

    // A complete blob, then a stray aligned magic in the last bytes: the blob counts.
    let mut blob = header(8, 2);
    blob.push(8);
    blob.extend_from_slice(b"go1.22.1");
    blob.push(0);
    let mut bytes = elf_with(&blob);
    bytes.resize(bytes.len().div_ceil(16) * 16, 0);
    bytes.extend_from_slice(&header(8, 2));
    let packages = scan_chunks("g", &bytes, &[]).unwrap();
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0].purl, "pkg:golang/stdlib@1.22.1");

    // Empty and tiny files.
    assert_eq!(scan_chunks("f", b"", &[]).unwrap(), vec![]);
    assert_eq!(scan_chunks("f", b"\x7fE", &[]).unwrap(), vec![]);
}
