//! Load and attack probe for `palisade audit serve`, loopback only (127.0.0.1), bounded in
//! connection count and time. Used by scripts/bench-audit-serve.sh.
//!
//! ```text
//! serve_probe latency ADDR CA_PEM N [WAIT_S]   N sequential POSTs of a 20-event batch on one
//!                                              keep-alive connection opened WAIT_S earlier;
//!                                              prints p50/p99 in ms
//! serve_probe fresh ADDR CA_PEM N              N sequential POSTs, each on a new connection
//!                                              (handshake included); p50/p99, failures
//! serve_probe idle ADDR CA_PEM N HOLD_S        N TLS connections, one GET /healthz each, then
//!                                              idle; prints when all are open, then how long
//!                                              after its last answer the server closed each
//! serve_probe silent ADDR N HOLD_S             N TCP connections that never send a byte
//! serve_probe slowbody ADDR CA_PEM N HOLD_S    N POSTs declaring a 12 MiB body, then 1 byte/s
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const MAX_CONNECTIONS: usize = 12_000;
const MAX_HOLD_S: u64 = 300;

fn batch(n: usize) -> String {
    let trace = include_str!(
        "../../../testdata/audit/falco-k8s-audit-traces/create_nginx_pod_privileged.json"
    );
    let ev: serde_json::Value = serde_json::from_str(trace.trim()).unwrap();
    serde_json::json!({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items": vec![ev; n]})
        .to_string()
}

/// `PROBE_CLIENT_CERT`/`PROBE_CLIENT_KEY` (PEM files): the identity the well-behaved
/// modes (latency, fresh) present to a server started with `--client-ca`; the attack modes
/// never do.
fn connector(ca: &str) -> tokio_rustls::TlsConnector {
    connector_as(ca, false)
}

fn legit_connector(ca: &str) -> tokio_rustls::TlsConnector {
    connector_as(ca, true)
}

fn connector_as(ca: &str, legit: bool) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let identity = match (
        std::env::var("PROBE_CLIENT_CERT"),
        std::env::var("PROBE_CLIENT_KEY"),
    ) {
        (Ok(c), Ok(k)) if legit => Some((c, k)),
        _ => None,
    };
    let mut cfg = match identity {
        Some((c, k)) => builder
            .with_client_auth_cert(
                vec![rustls::pki_types::CertificateDer::from_pem_file(c).unwrap()],
                rustls::pki_types::PrivateKeyDer::from_pem_file(k).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    // The API server's audit webhook client speaks HTTP/1.1.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

async fn tls(
    addr: SocketAddr,
    c: &tokio_rustls::TlsConnector,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    c.connect(name, tcp).await
}

/// Reads one HTTP/1.1 response (headers + Content-Length body); returns the status.
async fn read_response(s: &mut TlsStream<TcpStream>, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head[9..12].parse().unwrap_or(0));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn latency(addr: SocketAddr, ca: &str, n: usize, wait: Duration) {
    let c = legit_connector(ca);
    // Connected (and one request answered) before the wait: a client that was already
    // connected when an attack began, as the API server usually is.
    let mut conn = tls(addr, &c).await.ok();
    if let Some(s) = conn.as_mut() {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        read_response(s, &mut Vec::new()).await.unwrap();
    }
    tokio::time::sleep(wait).await;
    let body = batch(20);
    let req = format!(
        "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buf = Vec::new();
    let mut times = Vec::with_capacity(n);
    let (mut not_ok, mut failed, mut connects) = (0, 0, 1);
    for _ in 0..n.min(100_000) {
        let t = Instant::now();
        // A refused request may close the connection: reconnect (the API server does).
        if conn.is_none() {
            connects += 1;
            conn = tls(addr, &c).await.ok();
        }
        let Some(s) = conn.as_mut() else {
            failed += 1;
            continue;
        };
        let status = match s.write_all(req.as_bytes()).await {
            Ok(()) => read_response(s, &mut buf).await,
            Err(e) => Err(e),
        };
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        match status {
            Ok(200) => {}
            Ok(_) => not_ok += 1,
            Err(_) => {
                failed += 1;
                conn = None;
            }
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "latency n={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} non_200={not_ok} failed={failed} connects={connects}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        times.last().copied().unwrap_or(0.0)
    );
}

async fn fresh(addr: SocketAddr, ca: &str, n: usize) {
    let c = legit_connector(ca);
    let body = batch(20);
    let req = format!(
        "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut buf = Vec::new();
    let mut times = Vec::with_capacity(n);
    let (mut not_ok, mut failed) = (0, 0);
    for _ in 0..n.min(100_000) {
        let t = Instant::now();
        let status = match tls(addr, &c).await {
            Ok(mut s) => match s.write_all(req.as_bytes()).await {
                Ok(()) => read_response(&mut s, &mut buf).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match status {
            Ok(200) => times.push(t.elapsed().as_secs_f64() * 1000.0),
            Ok(_) => not_ok += 1,
            Err(_) => failed += 1,
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    if times.is_empty() {
        println!("fresh n={n} ok=0 non_200={not_ok} failed={failed}");
        return;
    }
    println!(
        "fresh n={n} ok={} p50_ms={:.2} p99_ms={:.2} non_200={not_ok} failed={failed}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.99)
    );
}

async fn idle(addr: SocketAddr, ca: &str, n: usize, hold: Duration) {
    let c = Arc::new(connector(ca));
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let start = Instant::now();
    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel::<bool>(n.max(1));
    let mut tasks = Vec::new();
    for _ in 0..n.min(MAX_CONNECTIONS) {
        let (c, sem, open_tx) = (c.clone(), sem.clone(), open_tx.clone());
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await.unwrap();
            let opened = async {
                let mut s = tls(addr, &c).await.ok()?;
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .await
                    .ok()?;
                let mut buf = Vec::new();
                read_response(&mut s, &mut buf).await.ok()?;
                Some(s)
            }
            .await;
            let answered = Instant::now();
            drop(permit);
            // One message per connection, opened or not.
            let _ = open_tx.send(opened.is_some()).await;
            let mut s = opened?;
            // Now idle: wait for the server to close it (or the hold to end).
            let mut b = [0u8; 64];
            match tokio::time::timeout(hold, s.read(&mut b)).await {
                Ok(_) => Some(answered.elapsed().as_secs_f64()),
                Err(_) => None,
            }
        }));
    }
    drop(open_tx);
    let (mut open, mut reported) = (0, 0);
    while reported < n.min(MAX_CONNECTIONS) {
        match open_rx.recv().await {
            Some(ok) => {
                reported += 1;
                open += usize::from(ok);
            }
            None => break,
        }
    }
    println!(
        "idle open={open} of {n} in {:.1}s (holding up to {}s)",
        start.elapsed().as_secs_f64(),
        hold.as_secs()
    );
    let mut closed = Vec::new();
    for t in tasks {
        if let Ok(Some(s)) = t.await {
            closed.push(s);
        }
    }
    closed.sort_by(|a, b| a.total_cmp(b));
    if closed.is_empty() {
        println!("idle closed_by_server=0 (all still open at the end of the hold)");
    } else {
        println!(
            "idle closed_by_server={} after_last_answer_s p50={:.1} min={:.1} max={:.1}",
            closed.len(),
            pct(&closed, 0.5),
            closed[0],
            closed[closed.len() - 1]
        );
    }
}

async fn silent(addr: SocketAddr, n: usize, hold: Duration) {
    let mut tasks = Vec::new();
    for _ in 0..n.min(MAX_CONNECTIONS) {
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.ok()?;
            let t = Instant::now();
            let mut b = [0u8; 64];
            match tokio::time::timeout(hold, s.read(&mut b)).await {
                Ok(_) => Some(t.elapsed().as_secs_f64()),
                Err(_) => None,
            }
        }));
    }
    let mut closed: Vec<f64> = Vec::new();
    for t in tasks {
        if let Ok(Some(s)) = t.await {
            closed.push(s);
        }
    }
    closed.sort_by(|a, b| a.total_cmp(b));
    println!(
        "silent n={n} closed_by_server={} p50_s={:.1}",
        closed.len(),
        if closed.is_empty() {
            f64::NAN
        } else {
            pct(&closed, 0.5)
        }
    );
}

async fn slowbody(addr: SocketAddr, ca: &str, n: usize, hold: Duration) {
    let c = Arc::new(connector(ca));
    let mut tasks = Vec::new();
    for _ in 0..n.min(MAX_CONNECTIONS) {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tls(addr, &c).await.ok()?;
            let head = format!(
                "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
                12 * 1024 * 1024
            );
            s.write_all(head.as_bytes()).await.ok()?;
            let t = Instant::now();
            let mut buf = Vec::new();
            // One byte per second until the server answers or the hold ends.
            let status = loop {
                if t.elapsed() >= hold {
                    break None;
                }
                tokio::select! {
                    r = read_response(&mut s, &mut buf) => break r.ok(),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if s.write_all(b" ").await.is_err() {
                            break None;
                        }
                    }
                }
            };
            Some((status, t.elapsed().as_secs_f64()))
        }));
    }
    let mut by_status = std::collections::BTreeMap::<String, (usize, f64)>::new();
    for t in tasks {
        if let Ok(Some((status, secs))) = t.await {
            let key = status.map_or("no answer".to_string(), |s| s.to_string());
            let e = by_status.entry(key).or_insert((0, 0.0));
            e.0 += 1;
            e.1 = e.1.max(secs);
        }
    }
    for (k, (count, secs)) in by_status {
        println!("slowbody status={k} count={count} max_after_s={secs:.1}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "serve_probe latency|fresh|idle|silent|slowbody ADDR [CA_PEM] N [HOLD_S]";
    let addr: SocketAddr = args.get(2).expect(usage).parse().expect("ADDR");
    assert!(addr.ip().is_loopback(), "loopback addresses only");
    let hold_arg = |i: usize| {
        Duration::from_secs(
            args.get(i)
                .and_then(|s| s.parse().ok())
                .unwrap_or(30)
                .min(MAX_HOLD_S),
        )
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    match args[1].as_str() {
        "latency" => {
            let ca = std::fs::read_to_string(&args[3]).unwrap();
            let wait = Duration::from_secs(args.get(5).and_then(|s| s.parse().ok()).unwrap_or(0));
            rt.block_on(latency(addr, &ca, args[4].parse().unwrap(), wait));
        }
        "fresh" => {
            let ca = std::fs::read_to_string(&args[3]).unwrap();
            rt.block_on(fresh(addr, &ca, args[4].parse().unwrap()));
        }
        "idle" => {
            let ca = std::fs::read_to_string(&args[3]).unwrap();
            rt.block_on(idle(addr, &ca, args[4].parse().unwrap(), hold_arg(5)));
        }
        "silent" => rt.block_on(silent(addr, args[3].parse().unwrap(), hold_arg(4))),
        "slowbody" => {
            let ca = std::fs::read_to_string(&args[3]).unwrap();
            rt.block_on(slowbody(addr, &ca, args[4].parse().unwrap(), hold_arg(5)));
        }
        _ => panic!("{usage}"),
    }
}
