//! Every gatekeeper-library template with its sample constraints, evaluated over a corpus:
//! `cargo run --release -p palisade-policy --example policy_bench -- LIBRARY_DIR CORPUS_DIR [ROUNDS]`.
//! Prints load time, evaluation time (best of ROUNDS), objects, constraints, violations, errors.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            collect(&p, out);
        } else if name == "template.yaml" || name == "constraint.yaml" {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lib), Some(corpus)) = (args.first(), args.get(1)) else {
        println!("usage: policy_bench LIBRARY_DIR CORPUS_DIR [ROUNDS]");
        return;
    };
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut files = Vec::new();
    collect(Path::new(lib), &mut files);
    let t = Instant::now();
    let (set, errors) = palisade_policy::PolicySet::load(&files);
    let load = t.elapsed();
    let loaded = palisade_yaml::load_paths(&[corpus], &palisade_yaml::Limits::default());
    let objects: Vec<&serde_json::Value> = loaded.documents.iter().map(|d| &d.value).collect();
    let inventory = palisade_policy::Inventory::from_objects(objects.iter().copied());
    let mut best = None;
    let (mut violations, mut eval_errors) = (0, 0);
    for _ in 0..rounds {
        let t = Instant::now();
        (violations, eval_errors) = (0, 0);
        for o in &objects {
            let (v, e) = set.evaluate(o, None, &inventory);
            violations += v.len();
            eval_errors += e.len();
            if std::env::var_os("SHOW_ERRORS").is_some() {
                for e in &e {
                    println!("eval error: {}", e.to_string().lines().last().unwrap_or(""));
                }
            }
        }
        let took = t.elapsed();
        best = Some(best.map_or(took, |b: std::time::Duration| b.min(took)));
    }
    println!(
        "templates {} constraints {} load errors {} (load {load:?}); objects {}; evaluate best of {rounds}: {:?}; violations {violations}; evaluation errors {eval_errors}",
        set.templates().len(),
        set.constraints().len(),
        errors.len(),
        objects.len(),
        best.unwrap_or_default(),
    );
    for e in errors.iter().take(5) {
        println!("load error: {e}");
    }
}
