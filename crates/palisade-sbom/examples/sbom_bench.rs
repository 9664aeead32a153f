//! Writes and reads back a generated inventory of N packages in both formats and prints sizes
//! and times: `cargo run -p palisade-sbom --example sbom_bench -- 50000`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_core::inventory::{Distro, Inventory, Package, PackageKind};
use std::time::Instant;

const UNLIMITED: palisade_sbom::Limits = palisade_sbom::Limits {
    max_bytes: usize::MAX,
};

fn main() {
    // `-- read FILE`: only read (peak memory of the reader alone).
    if std::env::args().nth(1).as_deref() == Some("read") {
        let path = std::env::args().nth(2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let t = Instant::now();
        let inv = palisade_sbom::read_with(&bytes, &path, &UNLIMITED).unwrap();
        println!(
            "{path}: {} packages, {:.1} MB, read {:.2} s",
            inv.packages.len(),
            bytes.len() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        return;
    }
    // `-- N DIR`: also save both documents in DIR.
    let save = std::env::args().nth(2);
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let packages = (0..n)
        .map(|i| Package {
            kind: PackageKind::Deb,
            name: format!("package-{i}"),
            version: format!("1:{i}.0-1+deb12u1"),
            purl: format!(
                "pkg:deb/debian/package-{i}@1:{i}.0-1%2Bdeb12u1?arch=amd64&distro=debian-12"
            ),
            source_name: Some(format!("source-{}", i / 3)),
            source_version: Some(format!("1:{i}.0-1+deb12u1")),
            arch: Some("amd64".into()),
            licenses: vec!["GPL-2.0-or-later".into(), "public domain".into()],
            layer: Some(format!("sha256:{:064x}", i % 7)),
            path: Some("var/lib/dpkg/status".into()),
        })
        .collect();
    let inv = Inventory {
        source: "bench".into(),
        image: Some("example.invalid/bench:1".into()),
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Distro::default()
        }),
        packages,
        notes: Vec::new(),
    };
    for (label, write) in [
        (
            "cyclonedx",
            Box::new(|i: &[Inventory]| palisade_sbom::cyclonedx_at(i, &[], "bench", 0))
                as Box<dyn Fn(&[Inventory]) -> serde_json::Value>,
        ),
        (
            "spdx",
            Box::new(|i: &[Inventory]| palisade_sbom::spdx_at(i, "bench", 0)),
        ),
    ] {
        let t = Instant::now();
        let text = write(std::slice::from_ref(&inv)).to_string();
        let written = t.elapsed();
        if let Some(dir) = &save {
            std::fs::write(format!("{dir}/bench.{label}.json"), &text).unwrap();
        }
        let t = Instant::now();
        let back = palisade_sbom::read_with(text.as_bytes(), label, &UNLIMITED).unwrap();
        let read = t.elapsed();
        assert_eq!(back.packages, inv.packages);
        println!(
            "{label}: {n} packages, {:.1} MB, write {:.2} s, read {:.2} s",
            text.len() as f64 / 1e6,
            written.as_secs_f64(),
            read.as_secs_f64()
        );
    }
}
