//! Throughput benchmark of the audit pipeline; `scripts/bench-audit.sh` drives it.
//!
//! - `audit_bench gen N OUT`: writes a JSON Lines log of N real-shaped events, built by
//!   replicating the saved Falco traces and real audit logs under `testdata/audit/`. Every
//!   copy gets a fresh `auditID` and shifted timestamps, every seventh a varied user name,
//!   every fifth a varied namespace and object name, so no two lines are equal.
//! - `audit_bench stages LOG`: times each stage over LOG on one thread (read + decode only;
//!   decode + all default rules, no rendering; the whole pipeline with alerts serialised to
//!   JSON as `palisade audit --format json` does), for profiling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::{Engine, EventReader, ReadItem, RuleSet};
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", n, out] => generate(n.parse().expect("N must be a number"), out),
        ["stages", log] => stages(log),
        _ => {
            eprintln!("usage: audit_bench gen N OUT | audit_bench stages LOG");
            std::process::exit(2);
        }
    }
}

fn seeds() -> Vec<Value> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/audit");
    let mut seeds = Vec::new();
    for dir in [
        "falco-k8s-audit-traces",
        "audit2rbac-demo",
        "rbac-tool-auditgen",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json" || e == "log"))
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
    seeds
}

/// Shifts the seconds field of an RFC 3339 timestamp by `by` seconds (mod 60).
fn shift_time(v: &mut Value, by: usize) {
    if let Some(s) = v.as_str()
        && s.len() >= 19
        && let Ok(sec) = s[17..19].parse::<usize>()
    {
        *v = Value::String(format!("{}{:02}{}", &s[..17], (sec + by) % 60, &s[19..]));
    }
}

fn generate(n: usize, out: &str) {
    let seeds = seeds();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out).unwrap());
    let mut bytes = 0usize;
    for i in 0..n {
        let mut ev = seeds[i % seeds.len()].clone();
        ev["auditID"] = Value::String(format!("bench-{i:08}"));
        for k in ["requestReceivedTimestamp", "stageTimestamp", "timestamp"] {
            if let Some(t) = ev.get_mut(k) {
                shift_time(t, i / seeds.len());
            }
        }
        if i % 7 == 0
            && let Some(u) = ev.pointer_mut("/user/username")
            && let Some(s) = u.as_str()
        {
            *u = Value::String(format!("{s}-{}", i % 100));
        }
        if i % 5 == 0
            && let Some(o) = ev.get_mut("objectRef").and_then(Value::as_object_mut)
        {
            for k in ["namespace", "name"] {
                if let Some(Value::String(s)) = o.get_mut(k) {
                    s.push_str(&format!("-{}", i % 50));
                }
            }
        }
        let line = serde_json::to_vec(&ev).unwrap();
        bytes += line.len() + 1;
        w.write_all(&line).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    eprintln!(
        "wrote {n} events ({:.1} MB, {} seed events) to {out}",
        bytes as f64 / 1e6,
        seeds.len()
    );
}

fn stages(log: &str) {
    let data = std::fs::read(log).unwrap();
    let mb = data.len() as f64 / 1e6;
    let engine = Engine::new(RuleSet::builtin().unwrap());
    // CPU time of this thread as well as wall time: on a shared machine the wall time
    // also counts time spent waiting for the core.
    let cpu = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |ns| ns / 1e9)
    };
    let mut cpu0 = cpu();
    let mut report = |what: &str, events: u64, start: Instant, extra: String| {
        let s = start.elapsed().as_secs_f64();
        let c = cpu() - cpu0;
        println!(
            "{what:<30} {events} events: wall {s:.2} s = {:>7.0} events/s, {:>6.1} MB/s; cpu {c:.2} s = {:>7.0} events/s{extra}",
            events as f64 / s,
            mb / s,
            events as f64 / c
        );
        cpu0 = cpu();
    };
    // ONLY=decode|rules|full runs one stage (for `perf stat`).
    let only = std::env::var("ONLY").unwrap_or_default();
    let run = |s: &str| only.is_empty() || only == s;
    let start = Instant::now();
    let mut n = 0u64;
    for item in EventReader::new(data.as_slice(), "bench") {
        if let ReadItem::Event(_) = item {
            n += 1;
        }
        if !run("decode") && n >= 1 {
            n = data.iter().filter(|&&b| b == b'\n').count() as u64;
            break;
        }
    }
    report("read + decode", n, start, String::new());
    if run("rules") {
        let start = Instant::now();
        let mut matches = 0usize;
        for item in EventReader::new(data.as_slice(), "bench") {
            if let ReadItem::Event(ev) = item {
                matches += engine.matching(&ev.event).count();
            }
        }
        report(
            "read + decode + rules",
            n,
            start,
            format!(", {matches} matches"),
        );
    }

    if !run("full") {
        return;
    }
    let start = Instant::now();
    let mut sink = std::io::sink();
    let mut alerts = 0u64;
    let stats = engine.scan(
        data.as_slice(),
        "bench",
        palisade_audit::input::DEFAULT_MAX_LINE_BYTES,
        |a| {
            alerts += 1;
            serde_json::to_writer(&mut sink, a).unwrap();
            sink.write_all(b"\n").unwrap();
        },
        |_| {},
    );
    report(
        "full pipeline (JSON alerts)",
        stats.events,
        start,
        format!(", {alerts} alerts, {} bad lines", stats.bad_lines),
    );
}
