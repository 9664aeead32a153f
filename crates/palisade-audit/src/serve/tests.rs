use super::*;
use crate::{Engine, RuleSet};
use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::{Condvar, mpsc as std_mpsc};
use tower::ServiceExt;

fn batch(n: usize) -> String {
    let trace = include_str!(
        "../../../../testdata/audit/falco-k8s-audit-traces/create_nginx_pod_privileged.json"
    );
    let ev: serde_json::Value = serde_json::from_str(trace.trim()).unwrap();
    serde_json::json!({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items": vec![ev; n]})
        .to_string()
}

fn post(body: String, ct: &str) -> Request<Body> {
    Request::post("/")
        .header("content-type", ct)
        .body(Body::from(body))
        .unwrap()
}

fn render_rule(a: &crate::Alert, buf: &mut Vec<u8>) {
    buf.extend_from_slice(a.rule.as_bytes());
    buf.push(b'\n');
}

/// The `name value` samples of an OpenMetrics text, keyed by name with labels.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn router_status_codes() {
    let shared = Shared::new();
    let (app, mut rx) = router(
        4,
        1024 * 1024,
        4 * 1024 * 1024,
        Duration::from_millis(10),
        shared.clone(),
    );
    let r = app
        .clone()
        .oneshot(post(batch(3), "application/json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(rx.recv().await.unwrap().len(), 3);
    let r = app
        .clone()
        .oneshot(post(batch(1), "text/plain"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .clone()
        .oneshot(post("{\"kind\":0}".into(), "application/json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .clone()
        .oneshot(post("x".repeat(2 * 1024 * 1024), "application/json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Metrics are not served on the webhook port.
    let r = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let m = &shared.metrics;
    assert_eq!(m.accepted_events.get(), 3);
    assert_eq!(m.bad_count(BadBatch::Decode), 1);
    assert_eq!(m.bad_count(BadBatch::TooLarge), 1);
    assert_eq!(m.bad_count(BadBatch::MediaType), 1);
    for path in ["/healthz", "/readyz"] {
        let r = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
}

/// 10,000 batches arrive while the output is blocked: the queue fills, later batches get
/// 503 (counted) and are retried like the API server does; once the output unblocks,
/// every accepted event is evaluated and nothing accepted is lost.
#[test]
fn burst_while_output_blocked_delivers_every_accepted_event() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shared = Shared::new();
    let (app, rx) = router(
        64,
        1024 * 1024,
        64 * 1024 * 1024,
        Duration::from_millis(2),
        shared.clone(),
    );
    let engine = Engine::new(RuleSet::builtin().unwrap());
    let gate = Arc::new(std::sync::Mutex::new(()));
    let held = gate.lock().unwrap();
    let (g, ws) = (gate.clone(), shared.clone());
    let alerts = Arc::new(AtomicU64::new(0));
    let al = alerts.clone();
    let worker_thread = std::thread::spawn(move || {
        worker(
            &engine,
            rx,
            &ws,
            &RetryPolicy::default(),
            &mut io::sink(),
            |_, _| {
                // A blocked output: every alert waits for the gate.
                let _g = g.lock().unwrap();
                al.fetch_add(1, Ordering::Relaxed);
            },
        )
    });
    let body = batch(2);
    let statuses: Vec<StatusCode> = rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..10_000 {
            let (app, body) = (app.clone(), body.clone());
            handles.push(tokio::spawn(async move {
                app.oneshot(post(body, "application/json"))
                    .await
                    .unwrap()
                    .status()
            }));
        }
        let mut v = Vec::new();
        for h in handles {
            v.push(h.await.unwrap());
        }
        v
    });
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count() as u64;
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count() as u64;
    assert_eq!(ok + busy, 10_000);
    assert!(busy > 0, "the blocked output should have filled the queue");
    assert_eq!(shared.metrics.rejected_count(Rejection::QueueFull), busy);
    drop(held);
    // Retry the rejected batches until all are accepted (the API server's behaviour).
    rt.block_on(async {
        let mut left = busy;
        while left > 0 {
            let r = app
                .clone()
                .oneshot(post(body.clone(), "application/json"))
                .await
                .unwrap();
            if r.status() == StatusCode::OK {
                left -= 1;
            } else {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    drop(app);
    let drained = worker_thread.join().unwrap();
    assert_eq!(drained.delivered_events, 20_000);
    assert_eq!(drained.undelivered_events, 0);
    let m = &shared.metrics;
    assert_eq!(m.accepted_batches.get(), 10_000);
    assert_eq!(m.processed_events.get(), 20_000);
    assert_eq!(m.queue_batches.get(), 0);
    assert_eq!(m.queue_events.get(), 0);
    assert_eq!(
        alerts.load(Ordering::Relaxed),
        20_000,
        "one alert per event"
    );
}

/// A writer whose behaviour the test switches: `Ok` writes into `data`, `Blocked` waits,
/// `Full` fails like /dev/full, `Short` takes at most 7 bytes and fails every other call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Blocked,
    Full,
    Short,
}

#[derive(Debug, Default)]
struct Switch {
    state: std::sync::Mutex<(Option<Mode>, Vec<u8>, u64)>,
    changed: Condvar,
}

#[derive(Debug, Clone)]
struct TestWriter(Arc<Switch>);

impl TestWriter {
    fn new(mode: Mode) -> TestWriter {
        let s = Switch::default();
        s.state.lock().unwrap().0 = Some(mode);
        TestWriter(Arc::new(s))
    }

    fn set(&self, mode: Mode) {
        self.0.state.lock().unwrap().0 = Some(mode);
        self.0.changed.notify_all();
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.state.lock().unwrap().1.clone()).unwrap()
    }
}

impl Write for TestWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut st = self.0.state.lock().unwrap();
        while st.0 == Some(Mode::Blocked) {
            st = self.0.changed.wait(st).unwrap();
        }
        st.2 += 1;
        match st.0 {
            Some(Mode::Full) => Err(io::Error::from_raw_os_error(28)), // ENOSPC
            Some(Mode::Short) if st.2.is_multiple_of(2) => Err(io::Error::other("flaky")),
            Some(Mode::Short) => {
                let k = buf.len().min(7);
                st.1.extend_from_slice(&buf[..k]);
                Ok(k)
            }
            _ => {
                st.1.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        delays: vec![Duration::from_millis(5), Duration::from_millis(10)],
        probe_every: Duration::from_millis(20),
    }
}

/// A flaky output that takes a few bytes at a time and fails every other call: every
/// alert line arrives exactly once, in order (retries resume where the output stopped).
#[test]
fn retries_resume_without_duplicating_output() {
    let shared = Shared::new();
    let (tx, rx) = mpsc::channel(8);
    let engine = Engine::new(RuleSet::builtin().unwrap());
    let w = TestWriter::new(Mode::Short);
    let mut out = w.clone();
    for n in [3, 5] {
        tx.try_send(crate::decode_events(&batch(n)).unwrap())
            .unwrap();
    }
    drop(tx);
    let drained = worker(&engine, rx, &shared, &fast_retry(), &mut out, render_rule);
    assert_eq!(drained.delivered_events, 8);
    assert_eq!(w.text(), "Create Privileged Pod\n".repeat(8));
    assert!(shared.metrics.sink_errors.get() > 0);
    assert_eq!(shared.metrics.alerts_written.get(), 8);
}

/// Test TLS client: one HTTP/1.1 request, `Connection: close`, whole answer.
async fn https(
    addr: SocketAddr,
    ca_pem: &str,
    method: &str,
    path: &str,
    body: &str,
) -> io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no HTTP answer: {text:?}")))?;
    Ok((status, text))
}

/// Plain HTTP GET (the metrics listener).
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap();
    (status, body)
}

/// A real server on 127.0.0.1:0 with a test writer; `stop` ends it.
struct TestServer {
    addr: SocketAddr,
    metrics: SocketAddr,
    ca: String,
    pki: palisade_tls::testing::Pki,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<ShutdownReport, ServeError>>>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl TestServer {
    fn start(out: TestWriter, shutdown_timeout: Duration) -> TestServer {
        TestServer::start_with(out, shutdown_timeout, |_| {})
    }

    fn start_with(
        out: TestWriter,
        shutdown_timeout: Duration,
        tweak: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pki = palisade_tls::testing::pki();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) =
            palisade_tls::testing::write_pair(dir.path(), &pki.cert_pem, &pki.key_pem);
        std::fs::write(dir.path().join("ca.crt"), &pki.ca_pem).unwrap();
        let mut cfg = ServeConfig::new("127.0.0.1:0".parse().unwrap(), cert, key);
        cfg.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        cfg.queue_batches = 64;
        cfg.queue_wait = Duration::from_millis(200);
        cfg.shutdown_timeout = shutdown_timeout;
        cfg.retry = fast_retry();
        tweak(&mut cfg);
        let shared = Shared::new();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std_mpsc::channel();
        let s2 = shared.clone();
        let thread = std::thread::spawn(move || {
            run(
                cfg,
                Engine::new(RuleSet::builtin().unwrap()),
                s2,
                out,
                render_rule,
                move || async move {
                    let _ = stop_rx.await;
                },
                move |l| addr_tx.send(l).unwrap(),
            )
        });
        let l: Listening = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(e) => panic!("server did not start ({e}): {:?}", thread.join()),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        TestServer {
            addr: l.webhook,
            metrics: l.metrics.unwrap(),
            ca: pki.ca_pem.clone(),
            pki,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
            rt,
            _dir: dir,
        }
    }

    fn post(&self, body: &str) -> u16 {
        self.rt
            .block_on(https(self.addr, &self.ca, "POST", "/", body))
            .unwrap()
            .0
    }

    fn get(&self, path: &str) -> u16 {
        self.rt
            .block_on(https(self.addr, &self.ca, "GET", path, ""))
            .unwrap()
            .0
    }

    fn metrics(&self) -> HashMap<String, f64> {
        let (status, body) = http_get(self.metrics, "/metrics");
        assert_eq!(status, 200);
        parse_metrics(&body)
    }

    fn signal(&mut self) {
        let _ = self.stop.take().unwrap().send(());
    }

    fn join(&mut self) -> ShutdownReport {
        self.thread.take().unwrap().join().unwrap().unwrap()
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Issue #14 item 3: events acknowledged before the shutdown signal are all evaluated and
/// written after it, though the output was blocked when the signal came; new batches are
/// refused from then on, and the run ends cleanly.
#[test]
fn shutdown_drains_every_acknowledged_event() {
    let w = TestWriter::new(Mode::Blocked);
    let mut s = TestServer::start(w.clone(), Duration::from_secs(20));
    let body = batch(20);
    for _ in 0..21 {
        assert_eq!(s.post(&body), 200);
    }
    assert_eq!(s.shared.metrics.accepted_events.get(), 420);
    s.signal();
    wait_for("shutdown to begin", || s.shared.shutting_down());
    // Draining: not ready, and no new batch is acknowledged.
    let late =
        s.rt.block_on(https(s.addr, &s.ca, "POST", "/", &body))
            .map(|r| r.0);
    assert!(!matches!(late, Ok(200)), "{late:?}");
    w.set(Mode::Ok);
    let report = s.join();
    assert_eq!(report.drained.undelivered_events, 0);
    assert!(!report.worker_stuck);
    assert_eq!(report.drained.delivered_events, 420);
    assert_eq!(w.text(), "Create Privileged Pod\n".repeat(420));
    assert_eq!(s.shared.metrics.processed_events.get(), 420);
}

/// Issue #14 item 4: an output that fails (ENOSPC, like `-o /dev/full`) is retried, then
/// logged, counted and reported through /readyz, /healthz and `sink_up`; new batches get
/// 503 instead of an acknowledgement; the batch held meanwhile is written once the output
/// works again, and nothing is written twice.
#[test]
fn failing_output_refuses_batches_until_it_recovers() {
    let w = TestWriter::new(Mode::Full);
    let mut s = TestServer::start(w.clone(), Duration::from_secs(20));
    let body = batch(2);
    assert_eq!(s.post(&body), 200);
    wait_for("the output to be marked failing", || {
        s.shared.sink_failing()
    });
    assert_eq!(s.post(&body), 503);
    assert_eq!(s.get("/readyz"), 503);
    assert_eq!(s.get("/healthz"), 503);
    assert_eq!(http_get(s.metrics, "/readyz").0, 503);
    let m = s.metrics();
    assert_eq!(m["palisade_audit_sink_up"], 0.0);
    assert!(m["palisade_audit_sink_errors_total"] >= 3.0, "{m:?}");
    assert_eq!(
        m["palisade_audit_rejected_batches_total{reason=\"output_failing\"}"],
        1.0
    );
    assert_eq!(m["palisade_audit_accepted_events_total"], 2.0);
    assert_eq!(m["palisade_audit_alerts_written_total"], 0.0);
    assert_eq!(m["palisade_audit_queue_events"], 2.0);
    w.set(Mode::Ok);
    wait_for("the output to recover", || !s.shared.sink_failing());
    assert_eq!(s.get("/readyz"), 200);
    assert_eq!(s.post(&body), 200);
    s.signal();
    let report = s.join();
    assert_eq!(report.drained.undelivered_events, 0);
    assert_eq!(w.text(), "Create Privileged Pod\n".repeat(4));
    assert_eq!(s.shared.metrics.sink_up.get(), 1);
}

/// With the output still failing when the shutdown deadline passes, the run ends anyway and
/// the acknowledged events it could not deliver are counted.
#[test]
fn shutdown_deadline_counts_what_could_not_be_delivered() {
    let w = TestWriter::new(Mode::Full);
    let mut s = TestServer::start(w.clone(), Duration::from_millis(300));
    assert_eq!(s.post(&batch(3)), 200);
    wait_for("the output to be marked failing", || {
        s.shared.sink_failing()
    });
    s.signal();
    let report = s.join();
    assert_eq!(report.drained.undelivered_events, 3);
    assert_eq!(report.drained.delivered_events, 0);
    assert_eq!(w.text(), "");
}

/// Issue #14 item 9: the counters are exported on the metrics listener, parsed back here.
#[test]
fn metrics_listener_exports_the_counters() {
    let w = TestWriter::new(Mode::Ok);
    let mut s = TestServer::start(w.clone(), Duration::from_secs(20));
    assert_eq!(s.post(&batch(2)), 200);
    assert_eq!(s.post("{\"kind\":0}"), 400);
    // The queue gauge is the worker's last update for a batch.
    wait_for("the batch to be written", || {
        s.shared.metrics.processed_events.get() == 2 && s.shared.metrics.queue_batches.get() == 0
    });
    let m = s.metrics();
    for (k, v) in [
        ("palisade_audit_accepted_batches_total", 1.0),
        ("palisade_audit_accepted_events_total", 2.0),
        ("palisade_audit_bad_batches_total{reason=\"decode\"}", 1.0),
        (
            "palisade_audit_bad_batches_total{reason=\"too_large\"}",
            0.0,
        ),
        (
            "palisade_audit_rejected_batches_total{reason=\"queue_full\"}",
            0.0,
        ),
        (
            "palisade_audit_rejected_batches_total{reason=\"shutting_down\"}",
            0.0,
        ),
        ("palisade_audit_queue_batches", 0.0),
        ("palisade_audit_processed_events_total", 2.0),
        ("palisade_audit_alerts_total", 2.0),
        ("palisade_audit_alerts_written_total", 2.0),
        ("palisade_audit_sink_errors_total", 0.0),
        ("palisade_audit_sink_up", 1.0),
    ] {
        assert_eq!(m.get(k), Some(&v), "{k} in {m:?}");
    }
    // The webhook port does not serve them.
    assert_eq!(s.get("/metrics"), 404);
    assert_eq!(http_get(s.metrics, "/healthz").0, 200);
    s.signal();
    assert_eq!(s.join().drained.undelivered_events, 0);
}

/// Issue #14 items 5 and 13: the webhook listener runs on palisade-tls's hardened loop. A
/// silent TCP client is closed by the handshake timeout, a TLS client that sends no request
/// by the first-request timeout, an idle keep-alive connection by the idle timeout; each is
/// counted in /metrics.
#[test]
fn slow_and_idle_connections_are_closed_and_counted() {
    use std::io::Read;
    let w = TestWriter::new(Mode::Ok);
    let mut s = TestServer::start_with(w, Duration::from_secs(20), |cfg| {
        cfg.limits.handshake_timeout = Duration::from_millis(300);
        cfg.limits.first_request_timeout = Duration::from_millis(300);
        cfg.limits.idle_timeout = Duration::from_millis(300);
    });
    // Closed means: read returns end-of-file or an error well within the test's patience
    // (the limits above are 300 ms; the old server kept such connections for 10 s or more).
    let closed_soon = |mut c: std::net::TcpStream| {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 64];
        loop {
            match c.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return false,
                Err(_) => return true,
            }
        }
    };
    let silent = std::net::TcpStream::connect(s.addr).unwrap();
    assert!(closed_soon(silent), "silent TCP connection still open");
    // A TLS client that never sends a request; a keep-alive client that goes idle.
    let no_request = s.rt.block_on(tls_connect(s.addr, &s.ca));
    let idle = s.rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tls = tls_connect(s.addr, &s.ca).await;
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        tls.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        tls
    });
    let ended = |mut tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>| {
        s.rt.block_on(async {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 4096];
            loop {
                match tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => {}
                    Err(_) => return false,
                }
            }
        })
    };
    assert!(
        ended(no_request),
        "TLS connection without a request still open"
    );
    assert!(ended(idle), "idle keep-alive connection still open");
    // Each connection's task records why it ended on its own time.
    for reason in ["handshake", "first_request_timeout", "idle_timeout"] {
        let key = format!("palisade_audit_connections_closed_total{{reason=\"{reason}\"}}");
        wait_for(&key, || s.metrics().get(&key).is_some_and(|v| *v >= 1.0));
    }
    s.signal();
    assert_eq!(s.join().drained.undelivered_events, 0);
}

/// At the connection cap, a connection that has sent nothing makes room for one that
/// brings a batch (the old server had no cap at all).
#[test]
fn at_the_cap_silent_connections_make_room() {
    let w = TestWriter::new(Mode::Ok);
    let mut s = TestServer::start_with(w, Duration::from_secs(20), |cfg| {
        cfg.limits.max_connections = 3;
    });
    let held: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(s.addr).unwrap())
        .collect();
    wait_for("3 open connections", || s.shared.metrics.conn.open() == 3);
    assert_eq!(s.post(&batch(1)), 200);
    // The evicted connection's task records its end on its own time.
    wait_for("the eviction to be counted", || {
        s.metrics()["palisade_audit_connections_closed_total{reason=\"evicted\"}"] >= 1.0
    });
    drop(held);
    s.signal();
    assert_eq!(s.join().drained.undelivered_events, 0);
}

async fn tls_connect(
    addr: SocketAddr,
    ca_pem: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let mut client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// Sends request headers declaring `declared` bytes and then `sent` bytes of body, and
/// keeps the connection open (returned).
async fn partial_post(
    addr: SocketAddr,
    ca: &str,
    declared: usize,
    sent: usize,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut tls = tls_connect(addr, ca).await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&vec![b' '; sent]).await.unwrap();
    tls.flush().await.unwrap();
    tls
}

/// Slow bodies hold only the bytes they sent: ten clients that declare (nearly) the body
/// limit and trickle do not keep a normal batch out, though their declared lengths are
/// five times the budget. Bodies that really arrive are charged, and past the budget a
/// request gets 503 (counted as `body_budget`).
#[test]
fn slow_bodies_do_not_lock_out_batches() {
    let w = TestWriter::new(Mode::Ok);
    let mut s = TestServer::start_with(w, Duration::from_secs(20), |cfg| {
        cfg.body_limit = 1_000_000;
        cfg.body_budget = 2_000_000;
    });
    let slow: Vec<_> = (0..10)
        .map(|_| s.rt.block_on(partial_post(s.addr, &s.ca, 999_000, 10)))
        .collect();
    wait_for("the slow clients' connections", || {
        s.shared.metrics.conn.open() >= 10
    });
    assert_eq!(s.post(&batch(2)), 200);
    // Two bodies that really arrive (900 KB each, not finished) leave 200 KB of budget.
    let big: Vec<_> = (0..2)
        .map(|_| s.rt.block_on(partial_post(s.addr, &s.ca, 999_000, 900_000)))
        .collect();
    let third = format!("{}{}", batch(1), " ".repeat(900_000));
    wait_for("the big bodies to be charged", || {
        // A third 900 KB body no longer fits. The 503 may come while the client is still
        // sending (the server then closes), so the answer is read from the counter.
        let _ = s.rt.block_on(https(s.addr, &s.ca, "POST", "/", &third));
        s.shared.metrics.rejected_count(Rejection::BodyBudget) > 0
    });
    assert_eq!(s.shared.metrics.rejected_count(Rejection::BodyBudget), 1);
    drop((slow, big));
    s.signal();
    assert_eq!(s.join().drained.undelivered_events, 0);
}

/// With a client CA, only clients holding a certificate it signed get to post: others fail
/// the handshake (counted), so they can neither inject events nor hold a connection past
/// the handshake timeout.
#[test]
fn client_ca_requires_client_certificates() {
    use rustls::pki_types::pem::PemObject;
    let w = TestWriter::new(Mode::Ok);
    let mut s = TestServer::start_with(w.clone(), Duration::from_secs(20), |cfg| {
        cfg.client_ca = Some(cfg.cert.with_file_name("ca.crt"));
    });
    let anonymous = s.rt.block_on(https(s.addr, &s.ca, "POST", "/", &batch(1)));
    assert!(anonymous.is_err(), "{anonymous:?}");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(s.ca.as_bytes()).unwrap())
        .unwrap();
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![
                rustls::pki_types::CertificateDer::from_pem_slice(s.pki.cert_pem.as_bytes())
                    .unwrap(),
            ],
            rustls::pki_types::PrivateKeyDer::from_pem_slice(s.pki.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let status = s.rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let body = batch(1);
        let req = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).get(9..12).map(str::to_string)
    });
    assert_eq!(status.as_deref(), Some("200"));
    wait_for("the refused handshake to be counted", || {
        s.metrics()
            .get("palisade_audit_connections_closed_total{reason=\"handshake\"}")
            .is_some_and(|v| *v >= 1.0)
    });
    assert_eq!(s.shared.metrics.accepted_events.get(), 1);
    s.signal();
    assert_eq!(s.join().drained.undelivered_events, 0);
    assert_eq!(w.text(), "Create Privileged Pod\n");
}
