//! Load generator for `palisade admit`; `scripts/bench-admit.sh` drives it.
//!
//! `admit_load --addr HOST:PORT --ca CA.pem [--server-name NAME] --body REVIEW.json[,...]
//!   [--concurrency 50] [--duration 30] [--rate 0] [--threads 1] [--metrics-out FILE]`
//!
//! Opens `concurrency` TLS keep-alive connections (HTTP/1.1, as the API server uses for
//! service webhooks) and POSTs the review bodies round-robin to `/validate`. `--rate 0`
//! is closed-loop (each connection sends as soon as it has an answer: peak throughput);
//! `--rate N` is open-loop at N reviews/s in total, and latency is measured from each
//! request's scheduled send time, so a stall counts against every request it delayed
//! (no coordinated omission). Prints one JSON line of results.

#[path = "support/h1.rs"]
#[allow(dead_code)]
mod h1;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    addr: SocketAddr,
    ca: String,
    server_name: String,
    bodies: Vec<String>,
    concurrency: usize,
    duration: Duration,
    rate: f64,
    threads: usize,
    metrics_out: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut addr = None;
    let mut ca = None;
    let mut server_name = "localhost".to_owned();
    let mut metrics_out = None;
    let mut bodies = Vec::new();
    let (mut concurrency, mut duration, mut rate, mut threads) = (50usize, 30.0f64, 0.0f64, 1usize);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse().map_err(|e| format!("--addr: {e}"))?),
            "--ca" => ca = Some(value()?),
            "--server-name" => server_name = value()?,
            "--metrics-out" => metrics_out = Some(value()?),
            "--body" => bodies.extend(value()?.split(',').map(str::to_owned)),
            "--concurrency" => concurrency = num(value()?)? as usize,
            "--duration" => duration = num(value()?)?,
            "--rate" => rate = num(value()?)?,
            "--threads" => threads = num(value()?)? as usize,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        addr: addr.ok_or("--addr is required")?,
        ca: ca.ok_or("--ca is required")?,
        server_name,
        bodies,
        concurrency: concurrency.max(1),
        duration: Duration::from_secs_f64(duration.max(0.1)),
        rate,
        threads: threads.max(1),
        metrics_out,
    })
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    denied: u64,
    allowed: u64,
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    addr: SocketAddr,
    name: Arc<str>,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Vec<u8>>>,
    offset: usize,
    interval: Option<Duration>,
    start: Instant,
    end: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut conn = match h1::Conn::connect(addr, tls.clone(), &name).await {
        Ok(c) => c,
        Err(_) => {
            t.errors += 1;
            return t;
        }
    };
    let mut i = offset;
    // Spread the connections' open-loop schedules over one interval (golden-ratio offsets).
    let mut next = start
        + interval.map_or(Duration::ZERO, |d| {
            d.mul_f64((offset as f64 * 0.618_034) % 1.0)
        });
    loop {
        let scheduled = match interval {
            Some(d) => {
                let now = Instant::now();
                if next > now {
                    tokio::time::sleep_until(next.into()).await;
                }
                let s = next;
                next += d;
                s
            }
            None => Instant::now(),
        };
        if scheduled >= end {
            break;
        }
        let Some(body) = bodies.get(i % bodies.len()) else {
            break;
        };
        i += 1;
        match conn.post("/validate", body).await {
            Ok(r) if r.status == 200 => {
                let us = scheduled.elapsed().as_micros();
                t.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                const DENIED: &[u8] = b"\"allowed\":false";
                if r.body.windows(DENIED.len()).any(|w| w == DENIED) {
                    t.denied += 1;
                } else {
                    t.allowed += 1;
                }
            }
            _ => {
                t.errors += 1;
                match h1::Conn::connect(addr, tls.clone(), &name).await {
                    Ok(c) => conn = c,
                    Err(_) => break,
                }
            }
        }
    }
    t
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, sorted.len()) - 1;
    sorted.get(idx).map_or(0.0, |v| f64::from(*v) / 1000.0)
}

async fn run(args: Args) -> Result<String, String> {
    let ca = std::fs::read(&args.ca).map_err(|e| format!("{}: {e}", args.ca))?;
    let tls = h1::client_config(&ca, &[b"http/1.1"]).map_err(|e| e.to_string())?;
    let mut bodies = Vec::new();
    for b in &args.bodies {
        bodies.push(std::fs::read(b).map_err(|e| format!("{b}: {e}"))?);
    }
    if bodies.is_empty() {
        return Err("give at least one --body".into());
    }
    let bodies = Arc::new(bodies);
    let name: Arc<str> = Arc::from(args.server_name.as_str());
    let interval =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(args.concurrency as f64 / args.rate));
    let start = Instant::now();
    let end = start + args.duration;
    let handles: Vec<_> = (0..args.concurrency)
        .map(|i| {
            tokio::spawn(worker(
                args.addr,
                name.clone(),
                tls.clone(),
                bodies.clone(),
                i,
                interval,
                start,
                end,
            ))
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        let t = h.await.map_err(|e| e.to_string())?;
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.denied += t.denied;
        all.allowed += t.allowed;
    }
    let elapsed = start.elapsed().as_secs_f64();
    // The server's own view (decision time, without TLS and HTTP), for the report.
    if let Some(out) = &args.metrics_out {
        let mut c = h1::Conn::connect(args.addr, tls.clone(), &name)
            .await
            .map_err(|e| e.to_string())?;
        let m = c.get("/metrics").await.map_err(|e| e.to_string())?;
        std::fs::write(out, &m.body).map_err(|e| format!("{out}: {e}"))?;
    }
    all.latencies_us.sort_unstable();
    let n = all.latencies_us.len();
    let l = &all.latencies_us;
    Ok(format!(
        "{{\"mode\":\"{}\",\"concurrency\":{},\"target_rate\":{},\"seconds\":{:.1},\"reviews\":{n},\"errors\":{},\"allowed\":{},\"denied\":{},\"throughput_per_s\":{:.0},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"max_ms\":{:.3}}}",
        if interval.is_some() {
            "open-loop"
        } else {
            "closed-loop"
        },
        args.concurrency,
        args.rate,
        elapsed,
        all.errors,
        all.allowed,
        all.denied,
        n as f64 / elapsed,
        percentile(l, 50.0),
        percentile(l, 90.0),
        percentile(l, 99.0),
        percentile(l, 99.9),
        percentile(l, 100.0),
    ))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("admit_load: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("admit_load: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("admit_load: {e}");
            ExitCode::from(1)
        }
    }
}
