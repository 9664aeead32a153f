//! Connection-level attack probe for `palisade admit` (issue #14); driven by
//! `scripts/bench-admit-attack.sh`. Loopback only, bounded in count and time, stops by
//! itself.
//!
//! `admit_attack --addr 127.0.0.1:PORT --ca CA.pem --body REVIEW.json --pid SERVER_PID
//!   [--server-name NAME] [--idle 10000] [--slow-body 50] [--phase-seconds 20]
//!   [--close-wait 100]`
//!
//! Phases, one after the other, with normal reviews running throughout each (one client,
//! sequential, a new TLS connection every 50 reviews, as an API server's pool reconnects):
//! 1. `baseline`: no attack.
//! 2. `idle`: `--idle` connections that complete TLS and send nothing, opened 200 at a time
//!    and held to the end of the phase.
//! 3. `slow_body`: `--slow-body` connections that declare a 7 MiB body, send 64 KiB of it
//!    and stall.
//! 4. time until the server closes a connection that sent nothing after the handshake,
//!    and one idle after a review (bounded by `--close-wait` seconds).
//!
//! Per phase: review count, errors, p50/p99 latency (ms), the server's peak RSS (VmRSS of
//! `--pid`, sampled every 50 ms) and the attack connections' outcome. One JSON line each.

#[path = "support/h1.rs"]
#[allow(dead_code)]
mod h1;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

struct Args {
    addr: SocketAddr,
    ca: String,
    server_name: String,
    body: Vec<u8>,
    pid: u32,
    idle: usize,
    slow_body: usize,
    phase: Duration,
    close_wait: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut addr, mut ca, mut body, mut pid) = (None, None, None, None);
    let mut server_name = "localhost".to_owned();
    let (mut idle, mut slow_body, mut phase, mut close_wait) = (10_000usize, 50usize, 20.0, 100.0);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse::<SocketAddr>().map_err(|e| e.to_string())?),
            "--ca" => ca = Some(value()?),
            "--server-name" => server_name = value()?,
            "--body" => {
                let p = value()?;
                body = Some(std::fs::read(&p).map_err(|e| format!("{p}: {e}"))?);
            }
            "--pid" => pid = Some(num(value()?)? as u32),
            "--idle" => idle = num(value()?)? as usize,
            "--slow-body" => slow_body = num(value()?)? as usize,
            "--phase-seconds" => phase = num(value()?)?,
            "--close-wait" => close_wait = num(value()?)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let addr: SocketAddr = addr.ok_or("--addr is required")?;
    // Never aimed at anything but this machine.
    if !addr.ip().is_loopback() {
        return Err(format!("--addr {addr}: loopback addresses only"));
    }
    let fd_limit = open_files_limit().unwrap_or(1024);
    // Room for the review client, the RSS sampler and the runtime.
    let max = fd_limit.saturating_sub(256);
    if idle > max {
        eprintln!("--idle {idle} is over the open-files limit ({fd_limit}): using {max}");
        idle = max;
    }
    Ok(Args {
        addr,
        ca: ca.ok_or("--ca is required")?,
        server_name,
        body: body.ok_or("--body is required")?,
        pid: pid.ok_or("--pid is required")?,
        idle: idle.min(20_000),
        slow_body: slow_body.min(1_000),
        phase: Duration::from_secs_f64(phase.clamp(1.0, 300.0)),
        close_wait: Duration::from_secs_f64(close_wait.clamp(1.0, 600.0)),
    })
}

/// The soft RLIMIT_NOFILE, from /proc (no libc binding needed).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Peak RSS since the last `take`, sampled every 50 ms on its own thread.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let (peak, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Sampler { peak, stop }
    }

    fn take(&self, pid: u32) -> u64 {
        self.peak.swap(rss_kib(pid), Ordering::Relaxed)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Reviews {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u64>,
}

impl Reviews {
    fn quantile_ms(&self, q: f64) -> f64 {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v.get(i).map_or(f64::NAN, |us| *us as f64 / 1000.0)
    }
}

/// Sequential reviews until `stop`, a new connection every 50 reviews.
async fn review_loop(
    args: Arc<Args>,
    tls: Arc<rustls::ClientConfig>,
    stop: Arc<AtomicBool>,
) -> Reviews {
    let mut r = Reviews::default();
    let mut conn: Option<h1::Conn> = None;
    let mut on_conn = 0;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if conn.is_none() || on_conn >= 50 {
            on_conn = 0;
            conn = match tokio::time::timeout(
                Duration::from_secs(10),
                h1::Conn::connect(args.addr, tls.clone(), &args.server_name),
            )
            .await
            {
                Ok(Ok(c)) => Some(c),
                _ => {
                    r.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
        }
        let Some(c) = conn.as_mut() else { continue };
        on_conn += 1;
        match tokio::time::timeout(
            Duration::from_secs(10),
            c.post("/validate?timeout=10s", &args.body),
        )
        .await
        {
            Ok(Ok(resp)) if resp.status == 200 => {
                r.ok += 1;
                r.latencies_us.push(t.elapsed().as_micros() as u64);
            }
            _ => {
                r.errors += 1;
                conn = None;
            }
        }
    }
    r
}

struct Attack {
    opened: u64,
    closed_by_server: u64,
    answers: Vec<u16>,
}

/// `n` connections that finish TLS and stay silent, 200 at a time, held until `stop`.
async fn idle_attack(
    args: Arc<Args>,
    tls: Arc<rustls::ClientConfig>,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Attack {
    let closed = Arc::new(AtomicU64::new(0));
    let mut held = Vec::new();
    let mut opened = 0u64;
    let mut left = n;
    while left > 0 && !stop.load(Ordering::Relaxed) {
        let batch: Vec<_> = (0..left.min(200))
            .map(|_| {
                let (args, tls) = (args.clone(), tls.clone());
                tokio::spawn(async move {
                    tokio::time::timeout(
                        Duration::from_secs(5),
                        h1::Conn::connect(args.addr, tls, &args.server_name),
                    )
                    .await
                })
            })
            .collect();
        left = left.saturating_sub(batch.len());
        for t in batch {
            if let Ok(Ok(Ok(c))) = t.await {
                opened += 1;
                let (closed, stop) = (closed.clone(), stop.clone());
                // Watches for the server closing it (an HTTP/2 server speaks first: its
                // SETTINGS are read and ignored); holds it open otherwise.
                held.push(tokio::spawn(async move {
                    let mut stream = c.stream;
                    let mut buf = [0u8; 1024];
                    let until_closed = async {
                        loop {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                        }
                    };
                    tokio::select! {
                        () = until_closed => { closed.fetch_add(1, Ordering::Relaxed); }
                        _ = async { while !stop.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(50)).await } } => {}
                    }
                }));
            }
        }
    }
    for h in held {
        let _ = h.await;
    }
    Attack {
        opened,
        closed_by_server: closed.load(Ordering::Relaxed),
        answers: Vec::new(),
    }
}

/// `n` connections that declare a 7 MiB review body, send 64 KiB of it, and stall.
async fn slow_body_attack(
    args: Arc<Args>,
    tls: Arc<rustls::ClientConfig>,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Attack {
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        args.server_name,
        7 * 1024 * 1024
    );
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (args, tls, stop, head) = (args.clone(), tls.clone(), stop.clone(), head.clone());
            tokio::spawn(async move {
                let Ok(Ok(mut c)) = tokio::time::timeout(
                    Duration::from_secs(5),
                    h1::Conn::connect(args.addr, tls, &args.server_name),
                )
                .await
                else {
                    return None;
                };
                if c.write_raw(head.as_bytes()).await.is_err() || c.write_raw(&vec![b' '; 64 * 1024]).await.is_err() {
                    return Some(0);
                }
                tokio::select! {
                    r = c.read_response() => Some(r.map_or(0, |r| r.status)),
                    _ = async { while !stop.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(50)).await } } => Some(1),
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    let mut opened = 0;
    for t in tasks {
        if let Ok(Some(status)) = t.await {
            opened += 1;
            answers.push(status);
        }
    }
    Attack {
        opened,
        closed_by_server: answers.iter().filter(|s| **s != 1).count() as u64,
        answers,
    }
}

async fn phase(
    name: &str,
    args: &Arc<Args>,
    tls: &Arc<rustls::ClientConfig>,
    attack_tls: &Arc<rustls::ClientConfig>,
    sampler: &Sampler,
    attack: Option<(&str, usize)>,
) -> String {
    sampler.take(args.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let reviews = tokio::spawn(review_loop(args.clone(), tls.clone(), stop.clone()));
    let count = attack.map_or(0, |(_, n)| n);
    let attack = attack.map(|(kind, n)| {
        let (args, tls, stop) = (args.clone(), attack_tls.clone(), stop.clone());
        let kind = kind.to_owned();
        tokio::spawn(async move {
            if kind == "idle" {
                idle_attack(args, tls, n, stop).await
            } else {
                slow_body_attack(args, tls, n, stop).await
            }
        })
    });
    tokio::time::sleep(args.phase).await;
    stop.store(true, Ordering::Relaxed);
    let r = reviews.await.unwrap_or_default();
    let peak = sampler.take(args.pid);
    let a = match attack {
        Some(t) => t.await.ok(),
        None => None,
    };
    let mut statuses = std::collections::BTreeMap::<String, u64>::new();
    if let Some(a) = &a {
        for s in &a.answers {
            let key = match s {
                0 => "closed_or_error".to_owned(),
                1 => "still_waiting".to_owned(),
                s => s.to_string(),
            };
            *statuses.entry(key).or_default() += 1;
        }
    }
    format!(
        "{{\"phase\":\"{name}\",\"connections\":{count},\"seconds\":{:.0},\"reviews_ok\":{},\"review_errors\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"server_peak_rss_mb\":{:.1},\"attack_opened\":{},\"attack_closed_by_server\":{},\"attack_answers\":{:?}}}",
        args.phase.as_secs_f64(),
        r.ok,
        r.errors,
        r.quantile_ms(0.5),
        r.quantile_ms(0.99),
        peak as f64 * 1024.0 / 1e6,
        a.as_ref().map_or(0, |a| a.opened),
        a.as_ref().map_or(0, |a| a.closed_by_server),
        statuses,
    )
}

/// Seconds until the server closes `c` (None: still open after `wait`).
async fn seconds_to_close(mut c: h1::Conn, wait: Duration) -> Option<f64> {
    let t = Instant::now();
    let mut buf = [0u8; 256];
    let closed = async {
        loop {
            match c.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, closed)
        .await
        .ok()
        .map(|()| t.elapsed().as_secs_f64())
}

async fn run(args: Args) -> Result<(), String> {
    let args = Arc::new(args);
    let ca = std::fs::read(&args.ca).map_err(|e| format!("{}: {e}", args.ca))?;
    let tls = h1::client_config(&ca, &[b"http/1.1"]).map_err(|e| e.to_string())?;
    let tls_h2 = h1::client_config(&ca, &[b"h2", b"http/1.1"]).map_err(|e| e.to_string())?;
    let sampler = Sampler::start(args.pid);
    println!(
        "{{\"server_rss_mb_at_start\":{:.1}}}",
        rss_kib(args.pid) as f64 * 1024.0 / 1e6
    );
    println!(
        "{}",
        phase("baseline", &args, &tls, &tls, &sampler, None).await
    );
    // The idle attack offers h2 too, as a hostile client would.
    println!(
        "{}",
        phase(
            "idle",
            &args,
            &tls,
            &tls_h2,
            &sampler,
            Some(("idle", args.idle))
        )
        .await
    );
    // Let the server close what is left of the idle attack before the next phase.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{}",
        phase(
            "slow_body",
            &args,
            &tls,
            &tls,
            &sampler,
            Some(("slow_body", args.slow_body))
        )
        .await
    );
    // Time to close: silent after the handshake, and idle after one review.
    let silent = h1::Conn::connect(args.addr, tls.clone(), &args.server_name)
        .await
        .map_err(|e| e.to_string())?;
    let mut used = h1::Conn::connect(args.addr, tls.clone(), &args.server_name)
        .await
        .map_err(|e| e.to_string())?;
    let r = used
        .post("/validate", &args.body)
        .await
        .map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!("review answered {}", r.status));
    }
    let (a, b) = tokio::join!(
        seconds_to_close(silent, args.close_wait),
        seconds_to_close(used, args.close_wait)
    );
    let show = |v: Option<f64>| v.map_or("null".to_owned(), |s| format!("{s:.2}"));
    println!(
        "{{\"seconds_to_close_silent_after_handshake\":{},\"seconds_to_close_idle_after_review\":{},\"bound_seconds\":{:.0}}}",
        show(a),
        show(b),
        args.close_wait.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("admit_attack: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("admit_attack: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("admit_attack: {e}");
            ExitCode::FAILURE
        }
    }
}
