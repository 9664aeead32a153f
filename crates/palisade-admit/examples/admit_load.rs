//! Load generator for `palisade admit`; `scripts/bench-admit.sh` drives it.
//!
//! `admit_load --addr HOST:PORT --ca CA.pem [--server-name NAME] --body REVIEW.json[,...]
//!   [--concurrency 50] [--duration 30] [--rate 0] [--threads 1]
//!   [--metrics-out FILE --metrics-addr HOST:PORT] [--trace FILE]`
//!
//! `--metrics-addr`: the server's `--metrics-listen` (plain HTTP; /metrics is not on the
//! webhook port).
//!
//! Opens `concurrency` TLS keep-alive connections (HTTP/1.1, as the API server uses for
//! service webhooks) and POSTs the review bodies round-robin to `/validate`. `--rate 0`
//! is closed-loop (each connection sends as soon as it has an answer: peak throughput).
//! `--rate N` is open-loop at N reviews/s in total: a dispatcher thread releases request
//! `k` at exactly `start + k/N` (a thread sleep, ~0.1 ms precise, instead of tokio's 1 ms
//! timer wheel, which alone added 0-2 ms to every latency) into one queue that idle
//! connections take from, like a client connection pool. Latency is measured from each
//! request's scheduled time, so a stall counts against every request it delayed, queued
//! ones included (no coordinated omission). Prints one JSON line of results, including
//! the generator's own CPU time (it shares the machine with the server).

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
    metrics_addr: Option<SocketAddr>,
    trace: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut addr = None;
    let mut ca = None;
    let mut server_name = "localhost".to_owned();
    let mut metrics_out = None;
    let mut metrics_addr = None;
    let mut trace = None;
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
            "--metrics-addr" => {
                metrics_addr = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--metrics-addr: {e}"))?,
                )
            }
            "--trace" => trace = Some(value()?),
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
        metrics_addr,
        trace,
    })
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// (scheduled time since start, latency), both in µs, for `--trace`.
    trace: Vec<(u32, u32)>,
    errors: u64,
    denied: u64,
    allowed: u64,
}

/// When to send: as soon as possible (closed loop) or at the times the dispatcher releases.
enum Schedule {
    /// Send from `start` on, each request as soon as the previous answer is in.
    Closed(Instant),
    Open(Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Instant>>>),
}

impl Schedule {
    /// The scheduled send time of the next request, `None` when the run is over.
    async fn next(&self, end: Instant) -> Option<Instant> {
        let at = match self {
            Schedule::Closed(start) => {
                if Instant::now() < *start {
                    tokio::time::sleep_until((*start).into()).await;
                }
                Instant::now()
            }
            // One idle connection at a time waits on the queue; the lock is held only
            // while waiting, never while a request is in flight.
            Schedule::Open(queue) => queue.lock().await.recv().await?,
        };
        (at < end).then_some(at)
    }
}

async fn worker(
    addr: SocketAddr,
    name: Arc<str>,
    tls: Arc<rustls::ClientConfig>,
    bodies: Arc<Vec<Vec<u8>>>,
    offset: usize,
    schedule: Arc<Schedule>,
    (start, end): (Instant, Instant),
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
    while let Some(scheduled) = schedule.next(end).await {
        let Some(body) = bodies.get(i % bodies.len()) else {
            break;
        };
        i += 1;
        match conn.post("/validate", body).await {
            Ok(r) if r.status == 200 => {
                let us = u32::try_from(scheduled.elapsed().as_micros()).unwrap_or(u32::MAX);
                t.latencies_us.push(us);
                let at = scheduled.saturating_duration_since(start).as_micros();
                t.trace.push((u32::try_from(at).unwrap_or(u32::MAX), us));
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

/// Releases request `k` at `start + k / rate` until `end`, then closes the queue. Runs on
/// its own thread: `thread::sleep` is a high-resolution timer, and a late wake-up releases
/// every request that is due at once, each still stamped with its own scheduled time.
/// Returns how late each release was (µs, sorted): the machine's scheduling noise as the
/// generator saw it, which bounds what the latency figures can show.
fn dispatch(
    tx: tokio::sync::mpsc::UnboundedSender<Instant>,
    rate: f64,
    start: Instant,
    end: Instant,
) -> Vec<u32> {
    let mut late = Vec::new();
    let mut k: u64 = 0;
    loop {
        let at = start + Duration::from_secs_f64(k as f64 / rate);
        if at >= end {
            break;
        }
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let us = at.elapsed().as_micros();
        late.push(u32::try_from(us).unwrap_or(u32::MAX));
        if tx.send(at).is_err() {
            break;
        }
        k += 1;
    }
    late.sort_unstable();
    late
}

/// This process's user+system CPU seconds so far (Linux `/proc/self/stat`; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    // USER_HZ is 100 on every Linux architecture palisade targets.
    ticks / 100.0
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
    let open_loop = args.rate > 0.0;
    let cpu_start = cpu_seconds();
    // Connections are opened before the clock starts (handshakes are not reviews).
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + args.duration;
    let (schedule, dispatcher) = if open_loop {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let rate = args.rate;
        let thread = std::thread::spawn(move || dispatch(tx, rate, start, end));
        (
            Schedule::Open(Arc::new(tokio::sync::Mutex::new(rx))),
            Some(thread),
        )
    } else {
        (Schedule::Closed(start), None)
    };
    let schedule = Arc::new(schedule);
    let handles: Vec<_> = (0..args.concurrency)
        .map(|i| {
            tokio::spawn(worker(
                args.addr,
                name.clone(),
                tls.clone(),
                bodies.clone(),
                i,
                schedule.clone(),
                (start, end),
            ))
        })
        .collect();

    let mut all = Tally::default();
    for h in handles {
        let t = h.await.map_err(|e| e.to_string())?;
        all.latencies_us.extend(t.latencies_us);
        all.trace.extend(t.trace);
        all.errors += t.errors;
        all.denied += t.denied;
        all.allowed += t.allowed;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let late = match dispatcher {
        Some(thread) => thread
            .join()
            .map_err(|_| "dispatcher thread failed".to_owned())?,
        None => Vec::new(),
    };
    // The server's own view (decision time, without TLS and HTTP), for the report.
    if let Some(out) = &args.metrics_out {
        let addr = args
            .metrics_addr
            .ok_or("--metrics-out needs --metrics-addr (the server's --metrics-listen)")?;
        let body = scrape(addr).await.map_err(|e| format!("{addr}: {e}"))?;
        std::fs::write(out, body).map_err(|e| format!("{out}: {e}"))?;
    }
    if let Some(out) = &args.trace {
        // One line per review: scheduled send time (µs since start) and latency (µs),
        // in send order, to tell stalls (clustered) from steady tails.
        all.trace.sort_unstable();
        let mut text = String::with_capacity(all.trace.len() * 16);
        for (at, us) in &all.trace {
            text.push_str(&format!("{at} {us}\n"));
        }
        std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))?;
    }
    all.latencies_us.sort_unstable();
    let n = all.latencies_us.len();
    let l = &all.latencies_us;
    Ok(format!(
        "{{\"mode\":\"{}\",\"concurrency\":{},\"target_rate\":{},\"seconds\":{:.1},\"reviews\":{n},\"errors\":{},\"allowed\":{},\"denied\":{},\"throughput_per_s\":{:.0},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"max_ms\":{:.3},\"load_cpu_s\":{cpu:.2},\"load_cpu_us_per_review\":{:.1},\"dispatch_late_p99_ms\":{:.3},\"dispatch_late_max_ms\":{:.3}}}",
        if open_loop {
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
        cpu * 1e6 / n.max(1) as f64,
        percentile(&late, 99.0),
        percentile(&late, 100.0),
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

/// `GET /metrics` over plain HTTP/1.1 (the metrics listener); the body.
async fn scrape(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).await?;
    let body = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .and_then(|i| all.get(i + 4..))
        .unwrap_or(&all);
    Ok(body.to_vec())
}
