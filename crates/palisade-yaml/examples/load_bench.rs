//! Loads the given paths (default: the vendored corpus) ten times and prints the object
//! count and the fastest wall time: `cargo run --release -p palisade-yaml --example
//! load_bench -- [--each] [PATH]...`. With `--each`, files are handed over and dropped one
//! at a time (`load_paths_each`), which bounds memory.

use std::time::Instant;

fn main() {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    let each = paths.first().is_some_and(|a| a == "--each");
    if each {
        paths.remove(0);
    }
    if paths.is_empty() {
        paths.push(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/corpus").to_owned());
    }
    let limits = palisade_yaml::Limits::default();
    let mut best = f64::INFINITY;
    let mut summary = (0, 0, 0, 0, 0);
    for _ in 0..10 {
        let mut keep = None;
        let t = Instant::now();
        summary = if each {
            let mut s = (0, 0, 0, 0, 0);
            palisade_yaml::load_paths_each(&paths, &limits, |l| {
                s.0 += l.files;
                s.1 += l.bytes;
                s.2 += l.documents.len();
                s.3 += l.errors.len();
                s.4 += l.notes.len();
            });
            s
        } else {
            let l = palisade_yaml::load_paths(&paths, &limits);
            let s = (
                l.files,
                l.bytes,
                l.documents.len(),
                l.errors.len(),
                l.notes.len(),
            );
            for e in l.errors.iter().take(10) {
                eprintln!("error: {e}");
            }
            keep = Some(l);
            s
        };
        // Dropping the documents is not part of loading them.
        best = best.min(t.elapsed().as_secs_f64());
        drop(keep);
    }
    let (files, bytes, objects, errors, notes) = summary;
    println!(
        "files {files} bytes {bytes} objects {objects} errors {errors} notes {notes}: \
         best of 10 = {:.1} ms",
        best * 1000.0
    );
}
