//! The HTTPS server: axum on axum-server with rustls (ring provider), HTTP/1.1 and HTTP/2
//! by ALPN, certificate and key re-read when the files change, a request body limit, a
//! whole-request deadline, slow-header and handshake timeouts, a plaintext-client answer,
//! `/healthz`, `/readyz`, `/metrics`, and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
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
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use palisade_tls::Reloader;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::admission::Admitter;
use crate::config::Limits;
use crate::review::parse_request;

pub use axum_server::Handle;

/// Where to listen and what to serve with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Runtime worker threads; `None` = the CPUs this process may use (affinity mask and
    /// cgroup CPU quota, as `std::thread::available_parallelism` reports them).
    pub workers: Option<usize>,
}

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

/// The routes, with the body limit and the request deadline. Usable without TLS for
/// in-process tests (`tower::ServiceExt::oneshot`).
pub fn router(app: Arc<App>) -> Router {
    let limits = app.limits().clone();
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limits.max_request_bytes))
        .layer(middleware::from_fn_with_state(app.clone(), deadline))
        .with_state(app)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The whole request, body included, must finish within `request_timeout`: a client that
/// trickles its body gets 408 and the connection is closed.
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
    let limit = app.limits().request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            app.admitter.metrics().rejected("timeout");
            let mut r = text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request not completed within {:.1}s (limits.requestTimeoutSeconds)\n",
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

/// The API server's `?timeout=` (a Go duration such as `10s`, `500ms`, `1m`), if any.
fn timeout_param(uri: &Uri) -> Option<Duration> {
    let q = uri.query()?;
    let v = q.split('&').find_map(|kv| kv.strip_prefix("timeout="))?;
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    match unit {
        "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "m" => Some(Duration::from_secs(n.saturating_mul(60))),
        _ => None,
    }
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

/// Before TLS: sets `TCP_NODELAY` (small request/response pairs must not wait for Nagle),
/// and answers a client that speaks plain HTTP to the TLS port the way Go's servers do,
/// instead of a silent reset.
#[derive(Debug, Clone, Copy)]
struct PlaintextGuard {
    timeout: Duration,
}

const PLAINTEXT_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

impl<S: Send + 'static> Accept<TcpStream, S> for PlaintextGuard {
    type Stream = TcpStream;
    type Service = S;
    type Future = Pin<Box<dyn Future<Output = io::Result<(TcpStream, S)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let timeout = self.timeout;
        Box::pin(async move {
            // Best effort: a socket option failure only costs latency.
            let _ = stream.set_nodelay(true);
            let mut first = [0u8; 1];
            let n = tokio::time::timeout(timeout, stream.peek(&mut first))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TLS handshake"))??;
            // 0x16 = TLS handshake record; anything else is not a TLS client.
            if n == 0 || first != [0x16] {
                let mut stream = stream;
                if n > 0 {
                    let _ = stream.write_all(PLAINTEXT_ANSWER).await;
                }
                let _ = stream.shutdown().await;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "client did not start a TLS handshake",
                ));
            }
            Ok((stream, service))
        })
    }
}

/// A bound, not yet running server.
pub struct Server {
    app: Arc<App>,
    opts: ServeOptions,
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
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
        let bind_err = |source| ServeError::Bind {
            addr: opts.listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let listener = listener.into_std().map_err(bind_err)?;
        Ok(Server {
            app: App::new(admitter),
            opts,
            listener,
            local_addr,
            tls: RustlsConfig::from_config(config),
            files: (cert, key),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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
        let handle = Handle::new();
        let metrics = self.app.admitter.metrics().clone();
        let reload = tokio::spawn(palisade_tls::watch_certificates(
            self.tls.clone(),
            Reloader::new(self.opts.cert.clone(), self.opts.key.clone(), self.files),
            limits.cert_reload_interval,
            move |result| metrics.cert_reload(result.is_ok()),
        ));
        let stopper = {
            let handle = handle.clone();
            let app = self.app.clone();
            let grace = limits.shutdown_grace;
            tokio::spawn(async move {
                shutdown.await;
                tracing::info!("shutting down: finishing in-flight requests");
                app.begin_shutdown();
                handle.graceful_shutdown(Some(grace));
            })
        };
        let acceptor = RustlsAcceptor::new(self.tls)
            .handshake_timeout(limits.handshake_timeout)
            .acceptor(PlaintextGuard {
                timeout: limits.handshake_timeout,
            });
        let mut server = axum_server::from_tcp(self.listener)
            .acceptor(acceptor)
            .handle(handle);
        server
            .http_builder()
            .http1()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true)
            // Head and body in one buffer: one TLS record and one write per response
            // instead of a record per piece (rustls does not coalesce vectored writes).
            .writev(false);
        server
            .http_builder()
            .http2()
            .timer(hyper_util::rt::TokioTimer::new())
            .max_concurrent_streams(256);
        let result = server
            .serve(router(self.app).into_make_service())
            .await
            .map_err(|source| ServeError::Serve {
                addr: self.local_addr,
                source,
            });
        reload.abort();
        stopper.abort();
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
        let stop = shutdown_signal();
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
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let rt = runtime(opts.workers)?;
    rt.block_on(async move {
        let watch = crate::watch::ClusterWatch::new();
        let tasks = watch.spawn(Arc::new(client));
        let admitter = Arc::new(Admitter::new(config, watch, metrics));
        let stop = shutdown_signal();
        let server = Server::bind(opts, admitter).await?;
        on_listening(server.local_addr());
        let result = server.run(stop).await;
        for t in tasks {
            t.abort();
        }
        result
    })
}

/// SIGTERM or Ctrl-C. The handlers are installed now (not at first poll), so a signal
/// that arrives right after "listening" is not lost to the default action.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
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
}
