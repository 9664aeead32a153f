//! `palisade audit serve`: the API server's audit **webhook backend**. The API server
//! POSTs `EventList` batches over HTTPS; each batch is decoded, queued and answered at
//! once, and one worker thread runs the rules and writes the alerts ([`delivery`]).
//!
//! Delivery contract (see docs/audit.md): a batch answered `200` is in the bounded queue
//! and will be evaluated and its alerts written, even if the output is slow. When the queue
//! is full the handler waits up to `queue_wait` for room (back-pressure), then answers `503`;
//! while the output is failing or the server is shutting down new batches get `503` at once.
//! The API server's webhook backend retries failed batches with backoff. On shutdown the
//! server stops accepting, drains the queue and flushes the output within
//! `shutdown_timeout`; what could not be delivered by then is counted and logged.
//!
//! Counters are served as OpenMetrics text on a separate plain-HTTP listener
//! (`metrics_listen`, loopback by default), never on the webhook port.

pub mod delivery;
pub mod metrics;

pub use delivery::{Drained, RetryPolicy, worker};
pub use metrics::{BadBatch, Metrics, Rejection};

use crate::{Event, decode_events};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use palisade_tls::serve::ServeLimits;

/// Falco's receiver limit for one POST body (`webhookMaxBatchSize`).
pub const DEFAULT_BODY_LIMIT: usize = 12 * 1024 * 1024;
/// Batches held in memory while the output is slow.
pub const DEFAULT_QUEUE_BATCHES: usize = 1024;
/// Within Kubernetes' default `terminationGracePeriodSeconds` (30 s), with room for the
/// runtime to stop.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);
/// Loopback: metrics are exposed beyond the pod only when asked (`--metrics-listen`).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";

/// How often the certificate and key files are checked for changes.
const CERT_RELOAD_EVERY: Duration = Duration::from_secs(10);

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA (PEM) whose client certificates are required on the webhook port; `None`: any
    /// client may post (then only the network keeps others out).
    pub client_ca: Option<PathBuf>,
    pub body_limit: usize,
    /// Request body bytes held by all requests being received, charged as they arrive.
    pub body_budget: usize,
    pub queue_batches: usize,
    pub queue_wait: Duration,
    /// Plain-HTTP listener for `/metrics`, `/healthz`, `/readyz`; `None`: no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// From the shutdown signal to exit: in-flight requests, queue drain and output flush.
    pub shutdown_timeout: Duration,
    pub retry: RetryPolicy,
    /// Connection limits of the webhook listener (cap, timeouts, HTTP/2 streams, body
    /// bytes in flight); `shutdown_grace` is replaced by `shutdown_timeout`.
    pub limits: ServeLimits,
}

/// `audit serve`'s connection limits: palisade-tls's defaults (the API server's 90 s idle
/// timeout, 10 s handshake, first-request and header timeouts, 100 HTTP/2 streams, 30 s per
/// request), without the layer's body budget: that one reserves a body's declared
/// `Content-Length` before a byte arrives, so four clients declaring 12 MiB and sending a
/// byte a second made every batch 503 for 30 s at a time (measured). `audit serve` charges
/// its own budget ([`ServeConfig::body_budget`]) by the bytes actually received.
pub fn default_limits() -> ServeLimits {
    ServeLimits {
        max_body_bytes_in_flight: usize::MAX,
        ..ServeLimits::default()
    }
}

/// Room for four batches at the body limit, and at least 64 MiB.
pub fn default_body_budget(body_limit: usize) -> usize {
    body_limit.saturating_mul(4).max(64 * 1024 * 1024)
}

impl ServeConfig {
    /// The defaults of `palisade audit serve` for the given address and certificate.
    pub fn new(listen: SocketAddr, cert: PathBuf, key: PathBuf) -> ServeConfig {
        ServeConfig {
            listen,
            cert,
            key,
            client_ca: None,
            body_limit: DEFAULT_BODY_LIMIT,
            body_budget: default_body_budget(DEFAULT_BODY_LIMIT),
            queue_batches: DEFAULT_QUEUE_BATCHES,
            queue_wait: Duration::from_secs(5),
            metrics_listen: DEFAULT_METRICS_LISTEN.parse().ok(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            retry: RetryPolicy::default(),
            limits: default_limits(),
        }
    }
}

/// State shared by the handlers, the worker and the shutdown sequence.
#[derive(Debug, Default)]
pub struct Shared {
    pub metrics: Metrics,
    /// Set when the bounded retry on the output gave up; cleared by the next good write.
    sink_failing: AtomicBool,
    shutting_down: AtomicBool,
    /// When the drain must stop (set by the shutdown signal).
    deadline: Mutex<Option<Instant>>,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared::default())
    }

    pub fn sink_failing(&self) -> bool {
        self.sink_failing.load(Ordering::SeqCst)
    }

    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops accepting batches (503) and gives the worker until `deadline` to drain.
    pub fn begin_shutdown(&self, deadline: Instant) {
        self.shutting_down.store(true, Ordering::SeqCst);
        if let Ok(mut d) = self.deadline.lock() {
            *d = Some(deadline);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline.lock().ok().and_then(|d| *d)
    }
}

#[derive(Clone)]
struct AppState {
    tx: mpsc::Sender<Vec<Event>>,
    shared: Arc<Shared>,
    wait: Duration,
    body_limit: usize,
    budget: Arc<Semaphore>,
}

/// Error starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The certificate or key cannot be served (the message names the file).
    #[error(transparent)]
    Tls(#[from] palisade_tls::TlsError),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("client CA {}: {reason}", file.display())]
    ClientCa { file: PathBuf, reason: String },
    #[error("cannot start the server runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot start the alert worker thread: {0}")]
    Worker(#[source] std::io::Error),
    #[error("server on {addr} failed: {source}")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The webhook routes plus the receiving end of their queue (for tests and embedding).
pub fn router(
    queue_batches: usize,
    body_limit: usize,
    body_budget: usize,
    wait: Duration,
    shared: Arc<Shared>,
) -> (Router, mpsc::Receiver<Vec<Event>>) {
    let (tx, rx) = mpsc::channel(queue_batches.max(1));
    let state = AppState {
        tx,
        shared: shared.clone(),
        wait,
        body_limit,
        budget: Arc::new(Semaphore::new(body_budget.min(Semaphore::MAX_PERMITS))),
    };
    let app = Router::new()
        .route("/", post(ingest))
        .route("/k8s-audit", post(ingest))
        .with_state(state)
        .merge(health_routes(shared));
    (app, rx)
}

/// `/metrics`, `/healthz` and `/readyz`, for the separate metrics listener.
pub fn metrics_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(shared.clone())
        .merge(health_routes(shared))
}

fn health_routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(shared)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Failing while the output is failing: a restart may bring back an output that went away
/// (a volume, a closed pipe), and the kubelet restarts only on a failing liveness probe.
async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.sink_failing() {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "alert output failing (see palisade_audit_sink_errors_total)\n",
        )
    } else {
        text(StatusCode::OK, "ok\n")
    }
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.shutting_down() {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
    } else if shared.sink_failing() {
        text(StatusCode::SERVICE_UNAVAILABLE, "alert output failing\n")
    } else {
        text(StatusCode::OK, "ok\n")
    }
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
        .into_response()
}

fn unavailable(shared: &Shared, why: Rejection) -> Response {
    shared.metrics.rejected(why);
    let (body, retry_after) = match why {
        Rejection::QueueFull => ("queue full, retry later\n", "1"),
        Rejection::OutputFailing => ("alert output failing, retry later\n", "5"),
        Rejection::ShuttingDown => ("shutting down, retry later\n", "1"),
        Rejection::BodyBudget => ("too many request bodies in flight, retry later\n", "1"),
    };
    let mut r = text(StatusCode::SERVICE_UNAVAILABLE, body);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    r
}

fn too_large(m: &Metrics) -> Response {
    m.bad(BadBatch::TooLarge);
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body larger than --body-limit\n",
    )
}

/// Reads the body, charging the byte budget as bytes arrive (not by the declared length:
/// a client that declares 12 MiB and sends a byte a second holds one byte of it). The
/// permit is held until the batch is decoded.
async fn read_body(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, Option<OwnedSemaphorePermit>), Response> {
    use http_body_util::BodyExt;
    let m = &st.shared.metrics;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > st.body_limit as u64) {
        return Err(too_large(m));
    }
    let mut buf = Vec::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            m.bad(BadBatch::Decode);
            return Err(text(
                StatusCode::BAD_REQUEST,
                "cannot read the request body\n",
            ));
        };
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() + chunk.len() > st.body_limit {
            return Err(too_large(m));
        }
        let permit = u32::try_from(chunk.len())
            .ok()
            .and_then(|n| st.budget.clone().try_acquire_many_owned(n).ok());
        match (permit, held.as_mut()) {
            (Some(p), Some(h)) => h.merge(p),
            (Some(p), None) => held = Some(p),
            (None, _) => return Err(unavailable(&st.shared, Rejection::BodyBudget)),
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, held))
}

async fn ingest(State(st): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let m = &st.shared.metrics;
    // Nothing is acknowledged that could not be delivered or would be cut off by the exit.
    if st.shared.shutting_down() {
        return unavailable(&st.shared, Rejection::ShuttingDown);
    }
    if st.shared.sink_failing() {
        return unavailable(&st.shared, Rejection::OutputFailing);
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if !json {
        m.bad(BadBatch::MediaType);
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json\n",
        );
    }
    let (body, permit) = match read_body(&st, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(text_body) = std::str::from_utf8(&body) else {
        m.bad(BadBatch::Decode);
        return text(StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    let Ok(events) = decode_events(text_body) else {
        m.bad(BadBatch::Decode);
        return text(
            StatusCode::BAD_REQUEST,
            "data not recognized as a k8s audit event or EventList\n",
        );
    };
    drop(permit);
    let n = events.len() as u64;
    // Counted as queued before the send: the worker may finish the batch before this
    // task runs again, and the gauge must not dip below zero.
    m.queue_batches.inc();
    m.queue_events.inc_by(n as i64);
    match tokio::time::timeout(st.wait, st.tx.send(events)).await {
        Ok(Ok(())) => {
            m.accepted_batches.inc();
            m.accepted_events.inc_by(n);
            (StatusCode::OK, "").into_response()
        }
        Ok(Err(_)) | Err(_) => {
            m.queue_batches.dec();
            m.queue_events.dec_by(n as i64);
            let why = if st.shared.shutting_down() {
                Rejection::ShuttingDown
            } else if st.shared.sink_failing() {
                Rejection::OutputFailing
            } else {
                Rejection::QueueFull
            };
            unavailable(&st.shared, why)
        }
    }
}

/// Where the server listens once bound.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub webhook: SocketAddr,
    pub metrics: Option<SocketAddr>,
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    pub drained: Drained,
    /// The worker had not finished when the deadline (plus a short margin) passed: it was
    /// blocked in a write, and `drained.undelivered_events` is counted from the metrics.
    pub worker_stuck: bool,
}

/// Serves until the future made by `shutdown` completes (called inside the server runtime,
/// so it may install signal handlers; see [`shutdown_signal`]). Then: `/readyz` 503, new
/// batches 503, no new connections, in-flight requests finish, the queue is drained into
/// `out`, all within `cfg.shutdown_timeout`. `render` appends an alert's line(s) to a buffer
/// (it runs on the worker thread; see [`worker`]).
pub fn run<W, R, F, Fut>(
    cfg: ServeConfig,
    engine: crate::Engine,
    shared: Arc<Shared>,
    mut out: W,
    render: R,
    shutdown: F,
    on_listening: impl FnOnce(Listening),
) -> Result<ShutdownReport, ServeError>
where
    W: Write + Send + 'static,
    R: FnMut(&crate::Alert, &mut Vec<u8>) + Send + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
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
        cfg.body_budget,
        cfg.queue_wait,
        shared.clone(),
    );
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Drained>();
    let (ws, retry) = (shared.clone(), cfg.retry.clone());
    std::thread::Builder::new()
        .name("audit-worker".into())
        .spawn(move || {
            let drained = worker(&engine, rx, &ws, &retry, &mut out, render);
            let _ = done_tx.send(drained);
        })
        .map_err(ServeError::Worker)?;
    // `shutdown()` runs inside the runtime: signal handlers need its reactor.
    let served =
        rt.block_on(async { serve(&cfg, app, shared.clone(), shutdown(), on_listening).await });
    // Every task (and with them every queue sender) goes away: the worker sees the end of
    // the queue once it has taken what is in it.
    rt.shutdown_timeout(Duration::from_millis(500));
    served?;
    let deadline = shared
        .deadline()
        .unwrap_or_else(|| Instant::now() + cfg.shutdown_timeout);
    // A worker blocked inside write(2) cannot see the deadline: wait a little past it.
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .saturating_add(Duration::from_millis(500));
    let report = match done_rx.recv_timeout(wait) {
        Ok(drained) => ShutdownReport {
            drained,
            worker_stuck: false,
        },
        Err(_) => {
            let accepted = shared.metrics.accepted_events.get();
            let delivered = shared.metrics.processed_events.get();
            ShutdownReport {
                drained: Drained {
                    delivered_events: delivered,
                    undelivered_events: accepted.saturating_sub(delivered),
                },
                worker_stuck: true,
            }
        }
    };
    if report.drained.undelivered_events > 0 {
        tracing::error!(
            undelivered_events = report.drained.undelivered_events,
            "shutdown deadline passed: {} acknowledged events were not evaluated or their alerts not written (raise --shutdown-timeout, fix the output)",
            report.drained.undelivered_events
        );
    } else {
        tracing::info!("queue drained and output flushed; exiting");
    }
    Ok(report)
}

async fn serve(
    cfg: &ServeConfig,
    app: Router,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(Listening),
) -> Result<(), ServeError> {
    let (cert, key) = palisade_tls::read_pair(&cfg.cert, &cfg.key).await?;
    let client_roots = match &cfg.client_ca {
        Some(file) => Some(client_roots(file)?),
        None => None,
    };
    let tls = palisade_tls::server_config(&cfg.cert, &cert, &cfg.key, &key)?;
    let tls = with_client_auth(tls, client_roots.as_ref(), cfg.client_ca.as_deref())?;
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(tls);
    let webhook = bind(cfg.listen, "webhook").await?;
    let webhook_addr = local_addr(&webhook, cfg.listen, "webhook")?;
    let metrics = match cfg.metrics_listen {
        Some(addr) => {
            let l = bind(addr, "metrics").await?;
            let a = local_addr(&l, addr, "metrics")?;
            Some((l, a))
        }
        None => None,
    };
    on_listening(Listening {
        webhook: webhook_addr,
        metrics: metrics.as_ref().map(|(_, a)| *a),
    });
    // A renewed certificate (cert-manager, a re-created Secret) is served without a restart.
    let reload = tokio::spawn(watch_certificates(
        tls.clone(),
        palisade_tls::Reloader::new(cfg.cert.clone(), cfg.key.clone(), (cert, key)),
        client_roots.map(|r| (r, cfg.client_ca.clone().unwrap_or_default())),
    ));
    // The metrics listener outlives the webhook's drain, so the drain can be watched.
    let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_task = metrics.map(|(listener, addr)| {
        let app = metrics_router(shared.clone());
        let limits = ServeLimits {
            max_connections: 64,
            shutdown_grace: Duration::from_secs(1),
            ..ServeLimits::default()
        };
        tokio::spawn(async move {
            let stop = async {
                let _ = metrics_stopped.await;
            };
            let conn = palisade_tls::serve::ConnMetrics::default();
            if let Err(e) =
                palisade_tls::serve::serve(listener, None, app, limits, conn, stop).await
            {
                tracing::error!(%addr, error = %e, "metrics listener failed");
            }
        })
    });
    let timeout = cfg.shutdown_timeout;
    let stopping = {
        let shared = shared.clone();
        async move {
            shutdown.await;
            tracing::info!(
                "shutting down: refusing new batches, finishing requests, draining the queue (at most {timeout:?})"
            );
            shared.begin_shutdown(Instant::now() + timeout);
        }
    };
    let limits = ServeLimits {
        shutdown_grace: timeout,
        ..cfg.limits.clone()
    };
    let result = palisade_tls::serve::serve(
        webhook,
        Some(tls),
        app,
        limits,
        shared.metrics.conn.clone(),
        stopping,
    )
    .await
    .map_err(|source| ServeError::Serve {
        addr: webhook_addr,
        source,
    });
    reload.abort();
    // Requests are finished and the worker drains on its thread; the runtime (and with it
    // every queue sender) goes next, so the metrics listener stops here too.
    let _ = metrics_stop.send(());
    if let Some(t) = metrics_task {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    result
}

/// The client CA file as a root store.
fn client_roots(file: &std::path::Path) -> Result<Arc<rustls::RootCertStore>, ServeError> {
    use rustls::pki_types::pem::PemObject;
    let err = |reason: String| ServeError::ClientCa {
        file: file.to_owned(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        rustls::pki_types::CertificateDer::pem_file_iter(file).map_err(|e| err(e.to_string()))?
    {
        roots
            .add(cert.map_err(|e| err(e.to_string()))?)
            .map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no PEM CERTIFICATE block".into()));
    }
    Ok(Arc::new(roots))
}

/// palisade-tls's configuration (certificate, ALPN, protocol versions), plus required
/// client certificates from `roots` when given.
fn with_client_auth(
    base: Arc<rustls::ServerConfig>,
    roots: Option<&Arc<rustls::RootCertStore>>,
    file: Option<&std::path::Path>,
) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let Some(roots) = roots else {
        return Ok(base);
    };
    let err = |reason: String| ServeError::ClientCa {
        file: file.map(ToOwned::to_owned).unwrap_or_default(),
        reason,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    )
    .build()
    .map_err(|e| err(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(base.cert_resolver.clone());
    config.alpn_protocols = base.alpn_protocols.clone();
    Ok(Arc::new(config))
}

/// palisade-tls's reload loop, keeping the client-certificate requirement on every new
/// configuration (its own loop would install one without it).
async fn watch_certificates(
    tls: axum_server::tls_rustls::RustlsConfig,
    mut reloader: palisade_tls::Reloader,
    client: Option<(Arc<rustls::RootCertStore>, PathBuf)>,
) {
    loop {
        tokio::time::sleep(CERT_RELOAD_EVERY).await;
        let built = match reloader.check().await {
            None => continue,
            Some(Ok(config)) => with_client_auth(
                config,
                client.as_ref().map(|(r, _)| r),
                client.as_ref().map(|(_, f)| f.as_path()),
            )
            .map_err(|e| e.to_string()),
            Some(Err(e)) => Err(e.to_string()),
        };
        match built {
            Ok(config) => {
                tls.reload_from_config(config);
                tracing::info!(cert = %reloader.cert_file().display(), "serving certificate reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "new certificate not loaded; still serving the previous one");
            }
        }
    }
}

async fn bind(addr: SocketAddr, what: &'static str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { what, addr, source })
}

fn local_addr(
    l: &tokio::net::TcpListener,
    addr: SocketAddr,
    what: &'static str,
) -> Result<SocketAddr, ServeError> {
    l.local_addr()
        .map_err(|source| ServeError::Bind { what, addr, source })
}

/// SIGTERM or SIGINT; see [`palisade_tls::serve::shutdown_signal`].
pub use palisade_tls::serve::shutdown_signal;

#[cfg(test)]
mod tests;
