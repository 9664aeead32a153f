//! Inventories each PATH and prints a one-line summary (packages by kind, notes, seconds), for
//! measuring: `cargo run --release -p palisade-image --example image_inventory -- PATH...`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let mut code = std::process::ExitCode::SUCCESS;
    for arg in std::env::args().skip(1) {
        let start = Instant::now();
        match palisade_image::inventory(Path::new(&arg), &palisade_image::Options::default()) {
            Ok(inv) => {
                let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
                for p in &inv.packages {
                    *kinds.entry(format!("{:?}", p.kind)).or_default() += 1;
                }
                println!(
                    "{arg}: {} packages {kinds:?}, distro {:?}, {} notes, {:.3} s",
                    inv.packages.len(),
                    inv.distro.map(|d| format!("{}-{}", d.id, d.version_id)),
                    inv.notes.len(),
                    start.elapsed().as_secs_f64()
                );
                for n in inv.notes.iter().take(5) {
                    println!("  note: {n:?}");
                }
            }
            Err(e) => {
                eprintln!("{arg}: {e}");
                code = std::process::ExitCode::FAILURE;
            }
        }
    }
    code
}
