//! Times the cluster path: every object under the given paths loaded first, then handed to a
//! scan in pages of 500 as a cluster lister would, with every rule family selected.
//!
//!     cargo run --release -p palisade-scan --example pages -- testdata/corpus

use palisade_scan::{Options, Scan};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let loaded = palisade_yaml::load_paths(&paths, &palisade_yaml::Limits::default());
    let values: Vec<serde_json::Value> = loaded
        .documents
        .into_iter()
        .map(|d| d.value)
        .filter(|v| v.pointer("/metadata/name").is_some())
        .collect();
    let n = values.len();
    let options = Options {
        select: vec!["all".to_owned()],
        ..Options::default()
    };
    let start = Instant::now();
    let Ok(mut scan) = Scan::new(options) else {
        eprintln!("bad options");
        return;
    };
    let mut it = values.into_iter().peekable();
    while it.peek().is_some() {
        scan.add_page("bench", it.by_ref().take(500).collect());
    }
    let out = scan.finish();
    println!(
        "{n} objects in pages of 500: {:.2} s, {} findings, {} notes",
        start.elapsed().as_secs_f64(),
        out.findings.len(),
        out.notes.len()
    );
}
