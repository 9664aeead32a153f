//! Load generator for `palisade feed serve`, loopback only, bounded in requests and time.
//!
//! ```text
//! feed_load latency --url http://127.0.0.1:8080 --secret-file S --payload P [--samples 50]
//! feed_load load    --url http://127.0.0.1:8080 --secret-file S --payload P
//!                   [--concurrency 32] [--seconds 10] [--max-requests 500000] [--webhooks-per-second 20]
//! ```
//! `latency`: for each sample, POSTs a signed `issues` `labeled` delivery for a new CVE and
//! measures the time until a GET of `/feed.json` contains it (POST-to-served).
//! `load`: concurrent GETs over the outputs and the page (a third of them conditional), with
//! signed deliveries interleaved; reports requests per second and latency percentiles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_feed_server::webhook;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    mode: String,
    url: String,
    secret: Vec<u8>,
    payload: Value,
    samples: usize,
    concurrency: usize,
    seconds: u64,
    max_requests: u64,
    webhooks_per_second: u64,
}

fn parse() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_default();
    if mode != "latency" && mode != "load" {
        eprintln!(
            "usage: feed_load latency|load --url URL --secret-file FILE --payload FILE [options]"
        );
        std::process::exit(2);
    }
    let mut a = Args {
        mode,
        url: String::new(),
        secret: Vec::new(),
        payload: Value::Null,
        samples: 50,
        concurrency: 32,
        seconds: 10,
        max_requests: 500_000,
        webhooks_per_second: 20,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = v.trim_end_matches('/').to_owned(),
            "--secret-file" => {
                a.secret = palisade_feed_server::read_secret(std::path::Path::new(&v)).unwrap()
            }
            "--payload" => a.payload = serde_json::from_slice(&std::fs::read(&v).unwrap()).unwrap(),
            "--samples" => a.samples = v.parse::<usize>().unwrap().clamp(1, 10_000),
            "--concurrency" => a.concurrency = v.parse::<usize>().unwrap().clamp(1, 512),
            "--seconds" => a.seconds = v.parse::<u64>().unwrap().clamp(1, 120),
            "--max-requests" => a.max_requests = v.parse::<u64>().unwrap().clamp(1, 5_000_000),
            "--webhooks-per-second" => a.webhooks_per_second = v.parse::<u64>().unwrap().min(1000),
            other => panic!("unknown flag {other}"),
        }
    }
    // Loopback only: this tool must never be pointed at someone else's server.
    let host = a
        .url
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let ok = host
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
        .is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    if !ok {
        eprintln!(
            "--url must be http://<loopback address>:<port>, got {:?}",
            a.url
        );
        std::process::exit(2);
    }
    a
}

/// A signed delivery announcing a CVE that is not in the feed yet.
fn delivery(template: &Value, secret: &[u8], n: u64) -> (String, String, Vec<u8>, String) {
    let mut v = template.clone();
    let cve = format!("CVE-2098-{}", 100_000 + n);
    let number = 700_000 + n;
    v["issue"]["number"] = number.into();
    v["issue"]["html_url"] =
        format!("https://github.com/kubernetes/kubernetes/issues/{number}").into();
    let title = v["issue"]["title"].as_str().unwrap_or("CVE-2023-3893: x");
    let rest = title.split_once(':').map_or("", |(_, r)| r);
    v["issue"]["title"] = format!("{cve}:{rest}").into();
    let body = serde_json::to_vec(&v).unwrap();
    let sig = webhook::sign(secret, &body);
    let id = format!("load-{}-{n}", std::process::id());
    (cve, id, body, sig)
}

async fn post(c: &reqwest::Client, a: &Args, n: u64) -> (String, u16) {
    let (cve, id, body, sig) = delivery(&a.payload, &a.secret, n);
    let r = c
        .post(format!("{}/webhooks/github", a.url))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", id)
        .header("X-Hub-Signature-256", sig)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (cve, r.status().as_u16())
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{name}: n={} p50={} p90={} p99={} max={}",
        v.len(),
        ms(pct(&v, 0.5)),
        ms(pct(&v, 0.9)),
        ms(pct(&v, 0.99)),
        ms(v.last().copied().unwrap_or_default())
    );
}

async fn latency(a: &Args, c: &reqwest::Client) {
    let base = (std::process::id() as u64 % 1000) * 100_000;
    let mut ack = Vec::new();
    let mut served = Vec::new();
    for i in 0..a.samples as u64 {
        // Deliveries seconds apart in reality: let the previous rebuild finish its disk writes
        // so each sample measures one delivery, not the queue behind the last one.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let t0 = Instant::now();
        let (cve, status) = post(c, a, base + i).await;
        assert_eq!(status, 200, "delivery rejected");
        ack.push(t0.elapsed());
        let needle = format!("\"id\": \"{cve}\"");
        let deadline = t0 + Duration::from_secs(10);
        loop {
            let text = c
                .get(format!("{}/feed.json", a.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains(&needle) {
                served.push(t0.elapsed());
                break;
            }
            assert!(Instant::now() < deadline, "{cve} not served within 10 s");
        }
    }
    report(
        "POST acknowledged (stored durably, rebuilt, served from memory)",
        ack,
    );
    report("POST to new CVE served in /feed.json", served);
}

async fn load(a: Arc<Args>, c: reqwest::Client) {
    // One conditional GET: the ETag of the current feed, for 304s.
    let etag = c
        .get(format!("{}/feed.json", a.url))
        .send()
        .await
        .unwrap()
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let paths = [
        "/feed.json",
        "/feed.xml",
        "/atom.xml",
        "/osv/CVE-2023-2431.json",
        "/?version=1.27.1",
        "/docs/reference/issues-security/official-cve-feed/index.json",
    ];
    let count = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..a.concurrency {
        let (a, c, count, errors, etag) = (
            a.clone(),
            c.clone(),
            count.clone(),
            errors.clone(),
            etag.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = t;
            while Instant::now() < deadline
                && count.fetch_add(1, Ordering::Relaxed) < a.max_requests
            {
                let path = paths[i % paths.len()];
                let mut req = c.get(format!("{}{path}", a.url));
                if i % 3 == 0 {
                    req = req.header("If-None-Match", &etag);
                }
                let t0 = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() || r.status() == 304 => {
                        let _ = r.bytes().await;
                        lat.push(t0.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
            lat
        }));
    }
    let hooks = {
        let (a, c) = (a.clone(), c.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            if a.webhooks_per_second == 0 {
                return lat;
            }
            let every = Duration::from_micros(1_000_000 / a.webhooks_per_second);
            let base = 50_000_000 + (std::process::id() as u64 % 1000) * 100_000;
            let mut n = 0;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let (_, status) = post(&c, &a, base + n).await;
                assert_eq!(status, 200);
                lat.push(t0.elapsed());
                n += 1;
                tokio::time::sleep(every.saturating_sub(t0.elapsed())).await;
            }
            lat
        })
    };
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let hook_lat = hooks.await.unwrap();
    println!(
        "GET: {} requests in {:.2} s = {:.0} req/s with {} connections, {} errors",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        a.concurrency,
        errors.load(Ordering::Relaxed)
    );
    report("GET latency", all);
    report("webhook deliveries interleaved (POST to ack)", hook_lat);
}

fn main() {
    let a = parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let c = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap();
        if a.mode == "latency" {
            latency(&a, &c).await;
        } else {
            load(Arc::new(a), c).await;
        }
    });
}
