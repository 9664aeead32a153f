//! Hostile and broken input: every problem is a note naming layer and entry, memory stays
//! bounded, and the rest of the image is still inventoried.

use std::io::{Seek, SeekFrom, Write};

use palisade_image::{Options, inventory};
use proptest::prelude::*;

use crate::build::{E, diff_id, digest, gzip, oci_layout, os_release, raw_header, tar};

const STATUS: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1.0\n\nPackage: b\nStatus: install ok installed\nVersion: 2.0\n";

fn good_layer() -> Vec<u8> {
    tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ])
}

fn note_texts(inv: &palisade_core::inventory::Inventory) -> String {
    format!("{:?}", inv.notes)
}

#[test]
fn dotdot_and_absolute_entry_paths() {
    let layer = tar(&[
        E::File("../../../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        E::File("/etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), std::slice::from_ref(&layer));
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert_eq!(inv.distro.as_ref().unwrap().id, "debian");
    let d = digest(&layer);
    assert_eq!(inv.notes.len(), 2, "{}", note_texts(&inv));
    assert!(
        inv.notes
            .iter()
            .all(|n| n.layer.as_deref() == Some(d.as_str()))
    );
    assert_eq!(
        inv.notes[0].entry.as_deref(),
        Some("../../../../etc/passwd")
    );
    assert!(inv.notes[0].message.contains("leaves the image root"));
    assert_eq!(inv.notes[1].entry.as_deref(), Some("/etc/os-release"));
}

#[test]
fn truncated_gzip_layer_then_good_layer() {
    let mut big = Vec::new();
    for i in 0..200 {
        big.push(format!("usr/share/doc/f{i}"));
    }
    let data = vec![7u8; 10_000];
    let entries: Vec<E<'_>> = big.iter().map(|n| E::File(n, &data)).collect();
    let mut broken = gzip(&tar(&entries));
    broken.truncate(broken.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    // the broken layer keeps the config from listing diff IDs: they are computed
    oci_layout(dir.path(), &[broken.clone(), gzip(&good_layer())]);
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 2, "{}", note_texts(&inv));
    assert_eq!(
        inv.packages[0].layer.as_deref(),
        Some(digest(&good_layer()).as_str())
    );
    let n = &inv.notes[0];
    assert_eq!(n.layer.as_deref(), Some(digest(&broken).as_str()));
    assert!(
        n.entry.as_deref().unwrap().starts_with("usr/share/doc/f"),
        "{n:?}"
    );
    assert!(n.message.contains("rest of the layer not read"), "{n:?}");
}

#[test]
fn corrupt_tar_header_mid_layer() {
    let mut layer = tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    // replace the end-of-archive blocks with a header whose checksum is wrong
    let end = layer.len() - 1024;
    layer.truncate(end);
    let mut bad = raw_header("usr/bin/x", 10);
    bad[148] = b'9';
    layer.extend_from_slice(&bad);
    layer.extend_from_slice(&[0u8; 1024]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(&f, layer).unwrap();
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert_eq!(inv.notes.len(), 1, "{}", note_texts(&inv));
    assert_eq!(inv.notes[0].entry.as_deref(), Some("var/lib/dpkg/status"));
    assert!(inv.notes[0].message.contains("at or after this entry"));
}

#[test]
fn huge_entry_is_skipped_with_a_note() {
    let options = Options {
        max_entry_bytes: 64,
        ..Options::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(&f, good_layer()).unwrap();
    let inv = inventory(&f, &options).unwrap();
    assert!(inv.packages.is_empty());
    assert_eq!(inv.distro.as_ref().unwrap().id, "debian");
    assert_eq!(inv.notes.len(), 1, "{}", note_texts(&inv));
    assert_eq!(inv.notes[0].entry.as_deref(), Some("var/lib/dpkg/status"));
    assert!(inv.notes[0].message.contains("max_entry_bytes"));
    assert_eq!(
        inv.notes[0].layer.as_deref(),
        Some(f.display().to_string().as_str())
    );
}

#[test]
fn kept_bytes_total_is_bounded() {
    let options = Options {
        max_kept_bytes: 100,
        ..Options::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(&f, good_layer()).unwrap();
    let inv = inventory(&f, &options).unwrap();
    assert!(inv.packages.is_empty());
    assert!(
        inv.notes[0].message.contains("max_kept_bytes"),
        "{}",
        note_texts(&inv)
    );
}

#[test]
fn decompression_bomb_stops_that_layer_only() {
    let zeros = vec![0u8; 8 << 20];
    // Best compression: zlib-rs's fastest level does not squeeze zeros below 64 KiB.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&tar(&[E::File("usr/share/zero", &zeros)]))
        .unwrap();
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 64 << 10);
    let options = Options {
        ratio_floor_bytes: 1 << 20,
        max_ratio: 50,
        ..Options::default()
    };
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path(), &[good_layer(), bomb.clone()]);
    let inv = inventory(dir.path(), &options).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert_eq!(inv.notes.len(), 1, "{}", note_texts(&inv));
    let n = &inv.notes[0];
    assert_eq!(n.layer, diff_id(&bomb));
    assert_eq!(n.entry.as_deref(), Some("usr/share/zero"));
    assert!(n.message.contains("max_ratio"), "{n:?}");
    // the size limit
    let options = Options {
        max_layer_bytes: 1 << 20,
        ..Options::default()
    };
    let inv = inventory(dir.path(), &options).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert!(
        inv.notes[0].message.contains("max_layer_bytes"),
        "{}",
        note_texts(&inv)
    );
}

#[test]
fn entry_count_limit() {
    let names: Vec<String> = (0..50).map(|i| format!("d/{i}")).collect();
    let mut entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"x")).collect();
    entries.push(E::File("var/lib/dpkg/status", STATUS));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.tar");
    std::fs::write(&f, tar(&entries)).unwrap();
    let options = Options {
        max_entries: 10,
        ..Options::default()
    };
    let inv = inventory(&f, &options).unwrap();
    assert!(inv.packages.is_empty());
    assert!(inv.notes[0].message.contains("max_entries"));
}

#[test]
fn blob_digest_mismatch_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let layer = good_layer();
    oci_layout(dir.path(), std::slice::from_ref(&layer));
    let d = digest(&layer);
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(d.strip_prefix("sha256:").unwrap());
    let mut changed = layer.clone();
    changed.extend_from_slice(&[0u8; 512]);
    std::fs::write(&blob, changed).unwrap();
    let verify = Options {
        verify_digests: true,
        ..Options::default()
    };
    let inv = inventory(dir.path(), &verify).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert!(
        inv.notes[0].message.contains("hashes to"),
        "{}",
        note_texts(&inv)
    );
    // Off by default (the manifest comes from the same place as the blob): no hashing, no
    // note, packages still name the config's diff ID.
    let inv = inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 2);
    assert!(inv.notes.is_empty(), "{}", note_texts(&inv));
    assert_eq!(inv.packages[0].layer.as_deref(), Some(d.as_str()));
}

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A 2 GiB entry (a sparse file: no disk used) streams through without being buffered, and the
/// entry after it is still read.
#[cfg(target_os = "linux")]
#[test]
fn two_gib_layer_streams_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.tar");
    let size: u64 = 2 << 30;
    let mut file = std::fs::File::create(&f).unwrap();
    file.write_all(&raw_header("usr/share/big.bin", size))
        .unwrap();
    file.seek(SeekFrom::Start(512 + size)).unwrap();
    let rest = tar(&[
        E::File("etc/os-release", &os_release("debian", "12")),
        E::File("var/lib/dpkg/status", STATUS),
    ]);
    file.write_all(&rest).unwrap();
    drop(file);
    let inv = inventory(&f, &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 2, "{}", note_texts(&inv));
    assert!(inv.notes.is_empty(), "{}", note_texts(&inv));
    let peak = peak_rss_kib();
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any entry names (dots, slashes, whiteout prefixes, links anywhere) and any truncation:
    /// never a panic or an error, only notes.
    #[test]
    fn walker_survives_arbitrary_layers(
        entries in proptest::collection::vec(
            (
                "(\\.\\./|/|\\./|\\.wh\\.|etc/|var/lib/dpkg/|[a-z]{1,3}/){0,4}[a-z.]{0,6}",
                0u8..5,
                "(\\.\\./|/|[a-z]{1,3}/){0,4}[a-z.]{0,6}",
                proptest::collection::vec(any::<u8>(), 0..300),
            ),
            0..24,
        ),
        cut in 0usize..6000,
        compress in any::<bool>(),
    ) {
        let built: Vec<E<'_>> = entries
            .iter()
            .filter(|(n, _, t, _)| n.len() < 100 && t.len() < 100)
            .map(|(n, k, t, d)| match k {
                0 => E::Dir(n),
                1 => E::File(n, d),
                2 => E::Symlink(n, t),
                3 => E::Hardlink(n, t),
                _ => E::Exec(n, d),
            })
            .collect();
        let mut layer = tar(&built);
        if compress {
            layer = gzip(&layer);
        }
        if cut < layer.len() {
            layer.truncate(layer.len() - cut);
        }
        let dir = tempfile::tempdir().unwrap();
        oci_layout(dir.path(), &[layer, good_layer()]);
        let inv = inventory(dir.path(), &Options::default());
        prop_assert!(inv.is_ok(), "{:?}", inv.err());
        let inv = inv.unwrap();
        // the good upper layer is always read
        prop_assert_eq!(inv.packages.len(), 2);
    }
}
