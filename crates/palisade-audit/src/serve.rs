//! `palisade audit serve`: the API server's audit **webhook backend**. The API server
//! POSTs `EventList` batches over HTTPS; each batch is decoded, queued and answered at
//! once, and one worker thread runs the rules and writes the alerts.
//!
//! Delivery contract (see docs/audit.md): a batch answered `200` is in the bounded queue
//! and will be evaluated, even if the output is slow. When the queue is full the handler
//! waits up to `queue_wait` for room (back-pressure). If there is still no room it answers
//! `503` and counts the batch in `rejected_batches`; the API server's webhook backend
//! retries failed batches with backoff. Nothing that was accepted is dropped.

use crate::{Alert, Engine, Event, decode_events};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub use axum_server::Handle;

/// Falco's receiver limit for one POST body (`webhookMaxBatchSize`).
pub const DEFAULT_BODY_LIMIT: usize = 12 * 1024 * 1024;
/// Batches held in memory while the output is slow.
pub const DEFAULT_QUEUE_BATCHES: usize = 1024;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub body_limit: usize,
    pub queue_batches: usize,
    pub queue_wait: Duration,
}

/// Counters, shared between the handlers and the worker.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted_batches: AtomicU64,
    pub accepted_events: AtomicU64,
    pub rejected_batches: AtomicU64,
    pub bad_batches: AtomicU64,
    pub processed_events: AtomicU64,
    pub alerts: AtomicU64,
}

impl Counters {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct AppState {
    tx: mpsc::Sender<Vec<Event>>,
    counters: Arc<Counters>,
    wait: Duration,
}

/// Error starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot load TLS certificate {cert} / key {key}: {source}")]
    Tls {
        cert: String,
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the server runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("server on {addr} failed: {source}")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The HTTP router plus the receiving end of its queue (for tests and embedding).
pub fn router(
    queue_batches: usize,
    body_limit: usize,
    wait: Duration,
    counters: Arc<Counters>,
) -> (Router, mpsc::Receiver<Vec<Event>>) {
    let (tx, rx) = mpsc::channel(queue_batches.max(1));
    let state = AppState { tx, counters, wait };
    let app = Router::new()
        .route("/", post(ingest))
        .route("/k8s-audit", post(ingest))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);
    (app, rx)
}

async fn ingest(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if !json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json\n",
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        st.counters.bad_batches.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    let events = match decode_events(text) {
        Ok(e) => e,
        Err(_) => {
            st.counters.bad_batches.fetch_add(1, Ordering::Relaxed);
            return (
                StatusCode::BAD_REQUEST,
                "data not recognized as a k8s audit event or EventList\n",
            );
        }
    };
    let n = events.len() as u64;
    match tokio::time::timeout(st.wait, st.tx.send(events)).await {
        Ok(Ok(())) => {
            st.counters.accepted_batches.fetch_add(1, Ordering::Relaxed);
            st.counters.accepted_events.fetch_add(n, Ordering::Relaxed);
            (StatusCode::OK, "")
        }
        Ok(Err(_)) | Err(_) => {
            st.counters.rejected_batches.fetch_add(1, Ordering::Relaxed);
            (StatusCode::SERVICE_UNAVAILABLE, "queue full, retry later\n")
        }
    }
}

/// Runs the rules over queued batches until the queue closes (blocking; use a thread).
pub fn worker(
    engine: &Engine,
    mut rx: mpsc::Receiver<Vec<Event>>,
    counters: &Counters,
    mut on_alert: impl FnMut(&Alert),
) {
    let file: Arc<str> = Arc::from("<webhook>");
    let mut buf = Vec::new();
    let mut memo = crate::cond::Memo::new(engine.rules.memo_slots);
    let mut seq = 0u64;
    while let Some(batch) = rx.blocking_recv() {
        seq += 1;
        for event in batch {
            let ev = crate::AuditEvent {
                event,
                file: file.clone(),
                line: seq,
            };
            buf.clear();
            engine.process_memo(&ev, &mut buf, &mut memo);
            counters.processed_events.fetch_add(1, Ordering::Relaxed);
            for a in &buf {
                counters.alerts.fetch_add(1, Ordering::Relaxed);
                on_alert(a);
            }
        }
    }
}

/// Serves until `handle` shuts it down (or the process stops). Alerts go to `on_alert`
/// on the worker thread; queued batches are still evaluated after shutdown.
pub fn run(
    cfg: ServeConfig,
    engine: Engine,
    counters: Arc<Counters>,
    on_alert: impl FnMut(&Alert) + Send + 'static,
    handle: axum_server::Handle,
) -> Result<(), ServeError> {
    // Exactly one rustls crypto provider (ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let (app, rx) = router(
        cfg.queue_batches,
        cfg.body_limit,
        cfg.queue_wait,
        counters.clone(),
    );
    let wc = counters.clone();
    let worker_thread = std::thread::spawn(move || worker(&engine, rx, &wc, on_alert));
    let result = rt.block_on(async {
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cfg.cert, &cfg.key)
            .await
            .map_err(|source| ServeError::Tls {
                cert: cfg.cert.display().to_string(),
                key: cfg.key.display().to_string(),
                source,
            })?;
        axum_server::bind_rustls(cfg.listen, tls)
            .handle(handle)
            .serve(app.into_make_service())
            .await
            .map_err(|source| ServeError::Serve {
                addr: cfg.listen,
                source,
            })
    });
    drop(rt);
    let _ = worker_thread.join();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn batch(n: usize) -> String {
        let trace = include_str!(
            "../../../testdata/audit/falco-k8s-audit-traces/create_nginx_pod_privileged.json"
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

    #[tokio::test]
    async fn router_status_codes() {
        let counters = Arc::new(Counters::default());
        let (app, mut rx) = router(4, 1024 * 1024, Duration::from_millis(10), counters.clone());
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
        assert_eq!(Counters::get(&counters.accepted_events), 3);
        assert_eq!(Counters::get(&counters.bad_batches), 1);
    }

    /// One real HTTPS request over 127.0.0.1 with a generated certificate.
    #[test]
    fn tls_loopback_end_to_end() {
        use std::io::Write;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cp, kp) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        std::fs::File::create(&cp)
            .unwrap()
            .write_all(cert.cert.pem().as_bytes())
            .unwrap();
        std::fs::File::create(&kp)
            .unwrap()
            .write_all(cert.key_pair.serialize_pem().as_bytes())
            .unwrap();
        let cfg = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            cert: cp,
            key: kp,
            body_limit: DEFAULT_BODY_LIMIT,
            queue_batches: 8,
            queue_wait: Duration::from_secs(1),
        };
        let counters = Arc::new(Counters::default());
        let handle = axum_server::Handle::new();
        let (h2, c2) = (handle.clone(), counters.clone());
        let (atx, arx) = std::sync::mpsc::channel::<String>();
        let server = std::thread::spawn(move || {
            let engine = Engine::new(RuleSet::builtin().unwrap());
            run(
                cfg,
                engine,
                c2,
                move |a| atx.send(a.rule.to_string()).unwrap(),
                h2,
            )
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let response = rt.block_on(async {
            let addr = handle.listening().await.unwrap();
            let mut roots = rustls::RootCertStore::empty();
            roots.add(cert.cert.der().clone()).unwrap();
            let client = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            let body = batch(2);
            let req = format!(
                "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(req.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            tls.read_to_end(&mut out).await.unwrap_or(0);
            String::from_utf8_lossy(&out).to_string()
        });
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let rules: Vec<String> = (0..2)
            .map(|_| arx.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        assert_eq!(rules, ["Create Privileged Pod", "Create Privileged Pod"]);
        handle.shutdown();
        server.join().unwrap().unwrap();
        assert_eq!(Counters::get(&counters.processed_events), 2);
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
        let counters = Arc::new(Counters::default());
        let (app, rx) = router(64, 1024 * 1024, Duration::from_millis(2), counters.clone());
        let engine = Engine::new(RuleSet::builtin().unwrap());
        let gate = Arc::new(std::sync::Mutex::new(()));
        let held = gate.lock().unwrap();
        let (g, wc) = (gate.clone(), counters.clone());
        let alerts = Arc::new(AtomicU64::new(0));
        let al = alerts.clone();
        let worker_thread = std::thread::spawn(move || {
            worker(&engine, rx, &wc, |_| {
                // A blocked output: every alert write waits for the gate.
                let _g = g.lock().unwrap();
                al.fetch_add(1, Ordering::Relaxed);
            })
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
        assert_eq!(Counters::get(&counters.rejected_batches), busy);
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
        worker_thread.join().unwrap();
        assert_eq!(Counters::get(&counters.accepted_batches), 10_000);
        assert_eq!(Counters::get(&counters.processed_events), 20_000);
        assert_eq!(
            alerts.load(Ordering::Relaxed),
            20_000,
            "one alert per event"
        );
    }
}
