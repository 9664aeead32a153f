//! Uncompressed layers read in place (entries nobody needs seeked over, binaries read by ELF
//! section) give the same inventory as the streamed read that `verify_digests` forces.

use std::io::Read;

use palisade_image::{Options, inventory};

use crate::build::{E, docker_save, gzip, oci_layout, os_release, tar};
use crate::testdata;

fn gunzip(rel: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(testdata(rel)).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

const STATUS: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1.0\n\n";

fn layers() -> Vec<Vec<u8>> {
    let go = gunzip("go-binaries/kube-apiserver-ldflags.gz");
    let trimmed = gunzip("go-binaries/kube-apiserver.gz");
    let rust = gunzip("cargo-auditable/hello-auditable.gz");
    let filler = vec![7u8; 300_000];
    vec![
        tar(&[
            E::File("etc/os-release", &os_release("debian", "12")),
            E::File("usr/share/big.bin", &filler),
            E::File("var/lib/dpkg/status", STATUS),
        ]),
        tar(&[
            E::Exec("usr/local/bin/kube-apiserver", &go),
            E::File("usr/share/doc/x", &filler),
            // Found by its .data string headers, which the section reader leaves to streaming.
            E::Exec("usr/bin/kube-apiserver", &trimmed),
            E::Exec("usr/bin/hello", &rust),
        ]),
    ]
}

fn summary(inv: &palisade_core::inventory::Inventory) -> Vec<String> {
    let mut rows: Vec<String> = inv
        .packages
        .iter()
        .map(|p| format!("{} {:?} {:?}", p.purl, p.layer, p.path))
        .collect();
    rows.sort();
    rows
}

#[test]
fn in_place_equals_streamed_for_docker_save_and_oci_layouts() {
    let layers = layers();
    let verify = Options {
        verify_digests: true,
        ..Options::default()
    };
    let dir = tempfile::tempdir().unwrap();
    for legacy in [true, false] {
        let archive = dir.path().join(format!("docker-{legacy}.tar"));
        docker_save(&archive, &layers, legacy);
        let fast = inventory(&archive, &Options::default()).unwrap();
        let slow = inventory(&archive, &verify).unwrap();
        assert_eq!(summary(&fast), summary(&slow));
        assert_eq!(fast.notes, slow.notes);
        assert_eq!(fast.packages.len(), 14, "{}", summary(&fast).join("\n"));
        let purls = summary(&fast).join("\n");
        for want in [
            "pkg:k8s/k8s.io%2Fkube-apiserver@1.29.3%2Bk3s1",
            "pkg:k8s/k8s.io%2Fkube-apiserver@1.30.2",
            "pkg:cargo/hello-auditable@0.3.1",
            "pkg:deb/debian/a@1.0",
        ] {
            assert!(purls.contains(want), "{want}: {purls}");
        }
    }
    // An OCI layout directory with one gzip layer (streamed) and one plain (in place).
    let oci = dir.path().join("oci");
    std::fs::create_dir(&oci).unwrap();
    oci_layout(&oci, &[gzip(&layers[0]), layers[1].clone()]);
    let fast = inventory(&oci, &Options::default()).unwrap();
    let slow = inventory(&oci, &verify).unwrap();
    assert_eq!(summary(&fast), summary(&slow));
    assert_eq!(fast.notes, slow.notes);
}

/// An archive cut inside a binary: the in-place read notes the break as the stream does.
#[test]
fn truncated_archive_in_place_notes_like_streamed() {
    let layers = layers();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("d.tar");
    docker_save(&archive, &layers, true);
    let bytes = std::fs::read(&archive).unwrap();
    let verify = Options {
        verify_digests: true,
        ..Options::default()
    };
    // Cut where the second layer's Go binary is (layer.tar members are stored in order).
    let cut = bytes.len() - 1_500_000;
    let short = dir.path().join("short.tar");
    std::fs::write(&short, &bytes[..cut]).unwrap();
    match (
        inventory(&short, &Options::default()),
        inventory(&short, &verify),
    ) {
        (Ok(fast), Ok(slow)) => {
            assert_eq!(summary(&fast), summary(&slow));
            assert_eq!(
                fast.notes.len(),
                slow.notes.len(),
                "{:?}\n{:?}",
                fast.notes,
                slow.notes
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("{a:?}\n{b:?}"),
    }
}
