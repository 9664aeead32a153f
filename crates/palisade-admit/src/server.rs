//! The HTTPS server: axum on palisade-tls's serving loop with rustls (ring provider),
//! HTTP/1.1 and HTTP/2 by ALPN, certificate and key re-read when the files change, a
//! request body limit, a whole-request deadline (shortened by the API server's
//! `?timeout=`), and the connection limits of [`palisade_tls::serve`] (cap, handshake,
//! first-request, header and idle timeouts, body bytes in flight, HTTP/2 streams).
//! `/healthz`, `/readyz` on the webhook port; `/metrics` only on the separate metrics
//! listener (plain HTTP, loopback by default), never on the webhook port.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::tls_rustls::RustlsConfig;
use palisade_tls::Reloader;
use palisade_tls::serve::{ConnMetrics, ServeLimits};

use crate::admission::Admitter;
use crate::config::Limits;
use crate::review::parse_request;

/// Where to listen and what to serve with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Runtime worker threads; `None` = the CPUs this process may use (affinity mask and
    /// cgroup CPU quota, as `std::thread::available_parallelism` reports them).
    pub workers: Option<usize>,
    /// Where `/metrics` is served (plain HTTP); `None`: not served at all. Never the
    /// webhook port: anything that can reach the webhook could read them.
    pub metrics_listen: Option<SocketAddr>,
}

/// The default `--metrics-listen`: loopback only (a sidecar or port-forward reads it;
/// expose it to a scraper by listening on the pod address and a NetworkPolicy).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9090";

/// Worker threads for the server runtime: as many as the CPUs it may use. Sizing to the
/// container's CPU limit, not the node's cores, is what Go's GOMAXPROCS does with a quota:
/// more runnable threads than CPUs only queue behind each other and lengthen the tail.
pub fn worker_threads(requested: Option<usize>) -> usize {
    requested
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn runtime(workers: Option<usize>) -> Result<tokio::runtime::Runtime, ServeError> {
    let n = worker_threads(workers);
    tracing::info!(worker_threads = n, "server runtime");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)
}

/// Failure to start (or keep) serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read {what} file {file}: {reason}")]
    Read {
        what: &'static str,
        file: String,
        reason: String,
    },
    /// The certificate or key cannot be served (the message names the file).
    #[error(transparent)]
    Tls(#[from] palisade_tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Cluster(#[source] crate::watch::WatchError),
    #[error("cannot start the server runtime: {0}")]
    Runtime(#[source] io::Error),
    #[error("server on {addr} failed: {source}")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|e| ServeError::Read {
        what,
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Shared by the handlers.
#[derive(Debug)]
pub struct App {
    pub admitter: Arc<Admitter>,
    shutting_down: AtomicBool,
}

impl App {
    pub fn new(admitter: Arc<Admitter>) -> Arc<App> {
        Arc::new(App {
            admitter,
            shutting_down: AtomicBool::new(false),
        })
    }

    /// `/readyz` answers 503 from now on (load balancers stop sending new requests).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    fn limits(&self) -> &Limits {
        &self.admitter.config().limits
    }
}

/// The webhook port's routes, with the body limit and the request deadline. Usable
/// without TLS for in-process tests (`tower::ServiceExt::oneshot`). No `/metrics` here.
pub fn router(app: Arc<App>) -> Router {
    let limits = app.limits().clone();
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(limits.max_request_bytes))
        .layer(middleware::from_fn_with_state(app.clone(), deadline))
        .with_state(app)
}

/// The metrics listener's routes: `/metrics` and `/healthz`.
pub fn metrics_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(app)
}

/// The serving layer's limits from the config's.
pub fn serve_limits(limits: &Limits) -> ServeLimits {
    ServeLimits {
        max_connections: limits.max_connections,
        handshake_timeout: limits.handshake_timeout,
        first_request_timeout: limits.first_request_timeout,
        header_read_timeout: limits.header_read_timeout,
        idle_timeout: limits.idle_timeout,
        // The router's own deadline answers 408 with the config's name in the message.
        request_timeout: None,
        max_body_bytes_in_flight: limits.max_body_bytes_in_flight,
        http2_max_concurrent_streams: limits.http2_max_concurrent_streams,
        shutdown_grace: limits.shutdown_grace,
        ..ServeLimits::default()
    }
}

/// The metrics listener: few connections, short timeouts, no request bodies.
fn metrics_limits(limits: &Limits) -> ServeLimits {
    ServeLimits {
        max_connections: 16,
        max_body_bytes_in_flight: 64 * 1024,
        request_timeout: Some(limits.request_timeout),
        shutdown_grace: Duration::from_secs(1),
        ..serve_limits(limits)
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The whole request, body included, must finish within `request_timeout`, or the API
/// server's `?timeout=` when that is shorter: a client that trickles its body gets 408
/// and the connection is closed.
async fn deadline(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    // A declared length over the limit is refused before reading a byte of it, so the
    // client gets its 413 instead of a reset while it is still sending.
    let max = app.limits().max_request_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large(&app);
    }
    let configured = app.limits().request_timeout;
    let limit = timeout_param(req.uri()).map_or(configured, |t| t.min(configured));
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            app.admitter.metrics().rejected("timeout");
            let mut r = text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request not completed within {:.3}s (limits.requestTimeoutSeconds, or the request's ?timeout= if shorter)\n",
                    limit.as_secs_f64()
                ),
            );
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

fn too_large(app: &App) -> Response {
    app.admitter.metrics().rejected("too_large");
    let mut r = text(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "request body larger than {} bytes (limits.maxRequestBytes)\n",
            app.limits().max_request_bytes
        ),
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.shutting_down.load(Ordering::SeqCst) {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".into())
    } else if !app.admitter.ready() {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster state not loaded yet\n".into(),
        )
    } else {
        text(StatusCode::OK, "ok\n".into())
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.admitter.metrics().encode(),
    )
        .into_response()
}

/// The API server's `?timeout=`, if any: the time left of its webhook call, written by Go's
/// `time.Duration.String` (`10s`, `9.87654321s`, `500ms`, `1m30s`). Unparsable or
/// negative: ignored (the configured deadline applies).
fn timeout_param(uri: &Uri) -> Option<Duration> {
    let q = uri.query()?;
    let v = q.split('&').find_map(|kv| kv.strip_prefix("timeout="))?;
    go_duration(v)
}

/// Go's `time.ParseDuration` for non-negative values: a sequence of decimal numbers, each
/// with an optional fraction and a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone.
/// Integer arithmetic in nanoseconds, as Go does (no float rounding).
fn go_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        // Digits past nanosecond precision of the largest unit add nothing.
        let frac = frac.get(..frac.len().min(20)).unwrap_or(frac);
        let part = if frac.is_empty() {
            0
        } else {
            let f: u128 = frac.parse().ok()?;
            f.checked_mul(scale)? / 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?
        };
        total = total.checked_add(whole.checked_mul(scale)?.checked_add(part)?)?;
        rest = next;
    }
    let secs = u64::try_from(total / 1_000_000_000).ok()?;
    let nanos = u32::try_from(total % 1_000_000_000).ok()?;
    Some(Duration::new(secs, nanos))
}

async fn validate(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The body has been read by now: the deadline below runs from here, the overall
    // request deadline (middleware) from the first byte.
    let received = Instant::now();
    let metrics = app.admitter.metrics();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        metrics.rejected("media_type");
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json\n".into(),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large(&app);
        }
        Err(rejection) => {
            metrics.rejected("bad_request");
            return text(rejection.status(), format!("{}\n", rejection.body_text()));
        }
    };
    let req = match parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            metrics.rejected("bad_request");
            return text(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    let budget = timeout_param(&uri)
        .unwrap_or(app.limits().request_timeout)
        .min(app.limits().request_timeout);
    let resp = app.admitter.admit_since(&req, received, received + budget);
    let review = resp.into_review(&req.uid);
    // Most answers are well under 1 KiB; one allocation instead of a few doublings.
    let mut out = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut out, &review).map(|()| out) {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}\n"),
        ),
    }
}

/// A bound, not yet running server.
pub struct Server {
    app: Arc<App>,
    opts: ServeOptions,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    metrics_listener: Option<(tokio::net::TcpListener, SocketAddr)>,
    tls: RustlsConfig,
    files: (Vec<u8>, Vec<u8>),
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the certificate (errors now, not at the first handshake) and binds.
    pub async fn bind(opts: ServeOptions, admitter: Arc<Admitter>) -> Result<Server, ServeError> {
        let cert = read("certificate", &opts.cert)?;
        let key = read("key", &opts.key)?;
        let config = palisade_tls::server_config(&opts.cert, &cert, &opts.key, &key)?;
        let bind = |addr: SocketAddr| async move {
            let bind_err = |source| ServeError::Bind { addr, source };
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(bind_err)?;
            let local = listener.local_addr().map_err(bind_err)?;
            Ok::<_, ServeError>((listener, local))
        };
        let (listener, local_addr) = bind(opts.listen).await?;
        let metrics_listener = match opts.metrics_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(Server {
            app: App::new(admitter),
            opts,
            listener,
            local_addr,
            metrics_listener,
            tls: RustlsConfig::from_config(config),
            files: (cert, key),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|(_, a)| *a)
    }

    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves until `shutdown` completes, then stops accepting, reports not-ready and lets
    /// in-flight requests finish for `limits.shutdownGraceSeconds`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let limits = self.app.limits().clone();
        let metrics = self.app.admitter.metrics().clone();
        let reload = {
            let metrics = metrics.clone();
            tokio::spawn(palisade_tls::watch_certificates(
                self.tls.clone(),
                Reloader::new(self.opts.cert.clone(), self.opts.key.clone(), self.files),
                limits.cert_reload_interval,
                move |result| metrics.cert_reload(result.is_ok()),
            ))
        };
        let policy_reload = self
            .app
            .admitter
            .policies()
            .map(|store| tokio::spawn(crate::policies::watch(store.clone(), metrics.clone())));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let stopper = {
            let app = self.app.clone();
            tokio::spawn(async move {
                shutdown.await;
                tracing::info!("shutting down: finishing in-flight requests");
                app.begin_shutdown();
                let _ = stop_tx.send(true);
            })
        };
        match &self.metrics_listener {
            Some((_, addr)) => tracing::info!("metrics on http://{addr}/metrics"),
            None => tracing::info!("metrics not served (no metrics listener)"),
        }
        let metrics_server = self.metrics_listener.map(|(listener, _)| {
            tokio::spawn(palisade_tls::serve::serve(
                listener,
                None,
                metrics_router(self.app.clone()),
                metrics_limits(&limits),
                ConnMetrics::default(),
                stopped(stop_rx.clone()),
            ))
        });
        let result = palisade_tls::serve::serve(
            self.listener,
            Some(self.tls),
            router(self.app.clone()),
            serve_limits(&limits),
            metrics.connections().clone(),
            stopped(stop_rx),
        )
        .await
        .map_err(|source| ServeError::Serve {
            addr: self.local_addr,
            source,
        });
        reload.abort();
        if let Some(p) = policy_reload {
            p.abort();
        }
        stopper.abort();
        if let Some(m) = metrics_server {
            m.abort();
        }
        result
    }
}

/// Runs the server on its own runtime until SIGTERM or Ctrl-C.
pub fn run_blocking(
    opts: ServeOptions,
    admitter: Arc<Admitter>,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let rt = runtime(opts.workers)?;
    rt.block_on(async move {
        let stop = palisade_tls::serve::shutdown_signal();
        let server = Server::bind(opts, admitter).await?;
        on_listening(server.local_addr());
        server.run(stop).await
    })
}

/// Runs the server against a live cluster through `client` (see
/// [`crate::ApiClient::discover`]): namespaces and pods come from a list+watch; `/readyz`
/// is 503 until both are listed.
pub fn run_in_cluster(
    opts: ServeOptions,
    client: crate::watch::ApiClient,
    config: crate::Config,
    metrics: Arc<crate::Metrics>,
    policies: Option<Arc<crate::PolicyStore>>,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let rt = runtime(opts.workers)?;
    rt.block_on(async move {
        // Built before serving: a missing or failing exec plugin is an error at start.
        let cluster = client.connect().await.map_err(ServeError::Cluster)?;
        let watch = crate::watch::ClusterWatch::new();
        let tasks = watch.spawn_cluster(Arc::new(cluster));
        let mut admitter = Admitter::new(config, watch, metrics);
        if let Some(store) = policies {
            admitter = admitter.with_policies(store);
        }
        let admitter = Arc::new(admitter);
        let stop = palisade_tls::serve::shutdown_signal();
        let server = Server::bind(opts, admitter).await?;
        on_listening(server.local_addr());
        let result = server.run(stop).await;
        for t in tasks {
            t.abort();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timeout_query_parameter() {
        let t = |s: &str| timeout_param(&s.parse::<Uri>().unwrap());
        assert_eq!(t("/validate?timeout=10s"), Some(Duration::from_secs(10)));
        assert_eq!(
            t("/validate?a=b&timeout=500ms"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(t("/validate?timeout=1m"), Some(Duration::from_secs(60)));
        assert_eq!(t("/validate?timeout=abc"), None);
        assert_eq!(t("/validate"), None);
    }

    #[test]
    fn go_durations_as_the_api_server_writes_them() {
        let d = |s: &str| go_duration(s);
        assert_eq!(d("9.87654321s"), Some(Duration::from_nanos(9_876_543_210)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("1h0m0s"), Some(Duration::from_secs(3600)));
        assert_eq!(d("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(d("250us"), Some(Duration::from_micros(250)));
        assert_eq!(d("250\u{b5}s"), Some(Duration::from_micros(250)));
        assert_eq!(d("0"), Some(Duration::ZERO));
        for bad in ["", "-1s", "1", "s", "1x", "1..2s", ".s", "10s5"] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }
}
