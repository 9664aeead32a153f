//! Opens an OSV database directory and reports what was indexed, how long it took, and the
//! findings for one package: `cargo run --release -p palisade-vuln --example osv_open -- DIR
//! [KIND NAME VERSION | --queries FILE]` (kind: go, stdlib, cargo, npm, pypi, maven; FILE:
//! one `KIND NAME VERSION` per line).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_core::inventory::{Inventory, Package, PackageKind};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .expect("usage: osv_open DIR [KIND NAME VERSION]");
    let t = Instant::now();
    let db = palisade_vuln::OsvDb::open(std::path::Path::new(dir)).unwrap();
    println!(
        "records {} warnings {} open {:.3}s",
        db.records(),
        db.warnings().len(),
        t.elapsed().as_secs_f64()
    );
    if let [_, _, flag, file] = args.as_slice()
        && flag == "--queries"
    {
        // One `KIND NAME VERSION` per line; prints `NAME VERSION ID,ID,...` per line.
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [kind, name, version] = f.as_slice() else {
                continue;
            };
            let inv = Inventory {
                packages: vec![Package {
                    kind: kind_of(kind),
                    name: (*name).to_owned(),
                    version: (*version).to_owned(),
                    ..Package::default()
                }],
                ..Inventory::default()
            };
            let mut ids: Vec<String> = palisade_vuln::match_inventory(&inv, Some(&db), None)
                .into_iter()
                .map(|f| f.id)
                .collect();
            ids.sort();
            println!("{name} {version} {}", ids.join(","));
        }
        return;
    }
    if let [_, _, kind, name, version] = args.as_slice() {
        let kind = kind_of(kind);
        let inv = Inventory {
            packages: vec![Package {
                kind,
                name: name.clone(),
                version: version.clone(),
                ..Package::default()
            }],
            ..Inventory::default()
        };
        let t = Instant::now();
        let found = palisade_vuln::match_inventory(&inv, Some(&db), None);
        println!(
            "findings {} match {:.3}s",
            found.len(),
            t.elapsed().as_secs_f64()
        );
        for f in found {
            println!("{} fixed {:?} {}", f.id, f.fixed, f.summary);
        }
    }
}

fn kind_of(kind: &str) -> PackageKind {
    match kind {
        "go" => PackageKind::Go,
        "stdlib" => PackageKind::GoStdlib,
        "cargo" => PackageKind::Cargo,
        "npm" => PackageKind::Npm,
        "pypi" => PackageKind::Pypi,
        "maven" => PackageKind::Maven,
        other => panic!("kind {other}"),
    }
}
