//! Throughput benchmark: `cargo run --release -p palisade-audit --example audit_bench -- [EVENTS]`.
//!
//! Builds a JSON Lines log of EVENTS (default 1,000,000) real-shaped events by replicating
//! the saved Falco traces and real audit logs under `testdata/audit/` (each copy gets a
//! fresh `auditID` and a shifted user name so no two lines are equal), then runs the full
//! default rule set (Falco's rules + Palisade's) over it on one thread, end to end from
//! bytes: line splitting, JSON parsing, rule evaluation and alert rendering. If `jq` is on
//! PATH it also times a single-rule equivalent filter (Falco's "Create Privileged Pod"
//! condition reduced to jq) over the same file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::{Engine, RuleSet};
use std::io::Write;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/audit");
    let mut seeds: Vec<serde_json::Value> = Vec::new();
    for dir in [
        "falco-k8s-audit-traces",
        "audit2rbac-demo",
        "rbac-tool-auditgen",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines() {
                if let Ok(evs) = palisade_audit::decode_events(line) {
                    seeds.extend(evs.iter().map(palisade_audit::Event::to_value));
                }
            }
        }
    }
    assert!(!seeds.is_empty(), "no seed events under {root}");
    let mut log = Vec::with_capacity(n * 1500);
    for i in 0..n {
        let mut ev = seeds[i % seeds.len()].clone();
        ev["auditID"] = serde_json::Value::String(format!("bench-{i:08}"));
        if i % 7 == 0
            && let Some(u) = ev.pointer_mut("/user/username")
            && let Some(s) = u.as_str()
        {
            *u = serde_json::Value::String(format!("{s}-{}", i % 100));
        }
        serde_json::to_writer(&mut log, &ev).unwrap();
        log.push(b'\n');
    }
    let mb = log.len() as f64 / 1e6;
    let engine = Engine::new(RuleSet::builtin().unwrap());
    eprintln!(
        "{} events, {:.1} MB, {} seeds, {} rules",
        n,
        mb,
        seeds.len(),
        engine.rules.rules.len()
    );
    // Parse-only pass: the JSON decoding share of the total.
    let start = Instant::now();
    let mut parsed = 0usize;
    for line in log.split(|&b| b == b'\n') {
        if let Ok(s) = std::str::from_utf8(line)
            && let Ok(evs) = palisade_audit::decode_events(s)
        {
            parsed += evs.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "parse only: {parsed} events in {secs:.2} s = {:.0} events/s",
        parsed as f64 / secs
    );
    // Parse + rule evaluation, no alert rendering.
    let start = Instant::now();
    let mut matches = 0usize;
    for line in log.split(|&b| b == b'\n') {
        if let Ok(s) = std::str::from_utf8(line)
            && let Ok(evs) = palisade_audit::decode_events(s)
        {
            for ev in &evs {
                matches += engine.matching(ev).count();
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "parse + rules, no rendering: {parsed} events in {secs:.2} s = {:.0} events/s, {matches} matches",
        parsed as f64 / secs
    );
    if std::env::var_os("ONLY_RULES").is_some() {
        return;
    }
    let start = Instant::now();
    let mut alerts = 0u64;
    let stats = engine.scan(
        log.as_slice(),
        "bench",
        palisade_audit::input::DEFAULT_MAX_LINE_BYTES,
        |_| alerts += 1,
        |_| {},
    );
    let secs = start.elapsed().as_secs_f64();
    println!(
        "palisade: {} events in {:.2} s = {:.0} events/s, {:.1} MB/s, {} alerts, {} bad lines",
        stats.events,
        secs,
        stats.events as f64 / secs,
        mb / secs,
        alerts,
        stats.bad_lines
    );
    if std::env::var_os("NO_JQ").is_none()
        && std::process::Command::new("jq")
            .arg("--version")
            .output()
            .is_ok()
    {
        let mut f = tempfile_path();
        f.push("palisade-audit-bench.jsonl");
        std::fs::File::create(&f).unwrap().write_all(&log).unwrap();
        let filter = r#"select(.stage=="ResponseComplete" and .objectRef.resource=="pods" and (.objectRef.subresource==null) and .verb=="create" and ([.requestObject.spec.containers[]?.securityContext.privileged] | any(. == true)))"#;
        let start = Instant::now();
        let out = std::process::Command::new("jq")
            .args(["-c", filter])
            .arg(&f)
            .output()
            .unwrap();
        let secs = start.elapsed().as_secs_f64();
        let hits = out.stdout.iter().filter(|&&b| b == b'\n').count();
        println!(
            "jq (single rule): {n} events in {secs:.2} s = {:.0} events/s, {hits} matches",
            n as f64 / secs
        );
        let _ = std::fs::remove_file(&f);
    }
}

fn tempfile_path() -> std::path::PathBuf {
    std::env::temp_dir()
}
