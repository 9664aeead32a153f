//! CPU cost of one review without TLS, HTTP or scheduling: decode, decide, encode, each
//! stage timed over many iterations on one thread. `scripts/bench-admit.sh` runs it first,
//! so that a slow load run can be told apart from a slow decision.
//!
//! `admit_cost --body REVIEW.json[,...] [--iterations 20000]`
//!
//! The namespace `default` is labelled enforce=baseline, warn=restricted, as in the load
//! benchmark. Prints one JSON line: nanoseconds per review for each stage.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admit::review::parse_request;
use palisade_admit::{Admitter, Config, Metrics, Namespace, ObjectsState};

fn parse_args() -> Result<(Vec<String>, u32), String> {
    let mut it = std::env::args().skip(1);
    let (mut bodies, mut iterations) = (Vec::new(), 20_000u32);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--body" => bodies.extend(value.split(',').map(str::to_owned)),
            "--iterations" => {
                iterations = value.parse().map_err(|e| format!("--iterations: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if bodies.is_empty() {
        return Err("give at least one --body".into());
    }
    Ok((bodies, iterations.max(1)))
}

fn run() -> Result<String, String> {
    let (paths, iterations) = parse_args()?;
    let mut bodies = Vec::new();
    for p in &paths {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        // Fail before timing anything if a sample does not decode.
        parse_request(&bytes).map_err(|e| format!("{p}: {e}"))?;
        bodies.push(bytes);
    }
    let labels = [
        ("pod-security.kubernetes.io/enforce", "baseline"),
        ("pod-security.kubernetes.io/warn", "restricted"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let state = ObjectsState::from_parts(
        vec![Namespace {
            name: "default".into(),
            labels,
        }],
        Vec::new(),
    );
    let admitter = Admitter::new(Config::default(), Arc::new(state), Arc::new(Metrics::new()));
    let (mut parse, mut decide, mut encode, mut drop_t) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    // Reference: a plain `serde_json::Value` parse of the same body, interleaved with the
    // stages so that machine noise hits both alike.
    let mut dom = Duration::ZERO;
    let mut out_bytes = 0usize;
    let total = iterations as usize * bodies.len();
    for _ in 0..iterations {
        for body in &bodies {
            let t = Instant::now();
            let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
            drop(v);
            let t0 = Instant::now();
            dom += t0 - t;
            let req = parse_request(body).map_err(|e| e.to_string())?;
            let t1 = Instant::now();
            let resp = admitter.admit(&req, t1 + Duration::from_secs(10));
            let t2 = Instant::now();
            let bytes =
                serde_json::to_vec(&resp.into_review(&req.uid)).map_err(|e| e.to_string())?;
            let t3 = Instant::now();
            out_bytes += bytes.len();
            drop(bytes);
            drop(req);
            let t4 = Instant::now();
            parse += t1 - t0;
            decide += t2 - t1;
            encode += t3 - t2;
            drop_t += t4 - t3;
        }
    }
    let ns = |d: Duration| d.as_nanos() as f64 / total as f64;
    Ok(format!(
        "{{\"reviews\":{total},\"value_dom_ns\":{:.0},\"parse_ns\":{:.0},\"decide_ns\":{:.0},\"encode_ns\":{:.0},\"drop_ns\":{:.0},\"total_ns\":{:.0},\"response_bytes\":{}}}",
        ns(dom),
        ns(parse),
        ns(decide),
        ns(encode),
        ns(drop_t),
        ns(parse + decide + encode + drop_t),
        out_bytes / total
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("admit_cost: {e}");
            ExitCode::from(1)
        }
    }
}
