//! Runs gator suites and prints one line per case plus totals per engine:
//! `cargo run -p palisade-policy --example policy_suites -- DIR...`.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let (files, errs) = palisade_policy::suite::find_suites(&paths);
    let t = std::time::Instant::now();
    let report = palisade_policy::suite::run(&files, palisade_policy::Limits::default());
    let took = t.elapsed();
    for e in errs.iter().chain(&report.errors) {
        println!("error {e}");
    }
    let mut tot = std::collections::BTreeMap::new();
    for c in &report.cases {
        for o in &c.outcomes {
            let e = tot.entry(o.engine.name()).or_insert((0, 0));
            e.1 += 1;
            if o.failure.is_none() {
                e.0 += 1;
            } else {
                println!(
                    "FAIL [{}] {} {}/{}: {}",
                    o.engine.name(),
                    c.suite,
                    c.test,
                    c.case,
                    o.failure.as_deref().unwrap_or("")
                );
            }
        }
        if c.disagreement() {
            println!("DISAGREE {} {}/{}", c.suite, c.test, c.case);
        }
    }
    println!(
        "cases {} in {:?}; per engine (pass/total): {tot:?}",
        report.cases.len(),
        took
    );
}
