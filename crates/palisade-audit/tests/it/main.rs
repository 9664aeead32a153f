//! Integration tests of palisade-audit: Falco conformance, Palisade's extra rules, real logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance;
mod extra_rules;
mod fuzz_regressions;
mod real_logs;

pub const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/audit");

use palisade_audit::{Engine, ReadStats};
use std::collections::BTreeMap;

/// Runs a file through an engine: (rule → count, read stats, bad-line messages).
pub fn run_file(engine: &Engine, path: &str) -> (BTreeMap<String, u64>, ReadStats, Vec<String>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let r = palisade_audit::maybe_gunzip(f).unwrap();
    let mut counts = BTreeMap::new();
    let mut bad = Vec::new();
    let stats = engine.scan(
        r,
        path,
        palisade_audit::input::DEFAULT_MAX_LINE_BYTES,
        |a| {
            *counts.entry(a.rule.to_string()).or_insert(0) += 1;
            // The fast JSON writer must produce serde's bytes for every real alert.
            let mut want = serde_json::to_vec(a).unwrap();
            want.push(b'\n');
            let mut got = Vec::new();
            a.write_json_line(&mut got);
            assert_eq!(got, want, "{path}");
        },
        |e| bad.push(e.to_string()),
    );
    (counts, stats, bad)
}
