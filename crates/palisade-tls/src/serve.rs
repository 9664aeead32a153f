//! The connection-hardened serving loop both servers (and `audit serve`) run their axum
//! router on, over TLS or plain TCP. axum-server gives no handle on what a connection does
//! between requests, so this is our own accept loop on hyper-util's connection builders:
//!
//! - **connection cap** ([`ServeLimits::max_connections`]): at the cap a new connection
//!   evicts the oldest connection that has not started a request yet (a silent or
//!   handshaking client), or, when every connection is serving, is refused (closed at once).
//!   Both are counted. Eviction is what keeps a flood of silent connections from locking out
//!   the API server: its connections send their request within milliseconds and are never
//!   the oldest pending one for long.
//! - **timeouts per connection**, checked by a watcher in the connection's own task:
//!   TLS handshake (and the plaintext-client answer); first request after the handshake;
//!   request headers of later HTTP/1 requests (from their first byte, as Go's
//!   `ReadHeaderTimeout`); idle keep-alive, HTTP/1 and HTTP/2 alike (no request in flight;
//!   HTTP/2 gets a GOAWAY); a request that makes no I/O progress for the idle timeout
//!   (a client that stops reading its response); an optional whole-request deadline (408).
//! - **request body bytes in flight** across all connections, a semaphore on bytes charged
//!   as the bytes arrive (not by the declared `Content-Length`: a client that declares a
//!   large body and trickles it would otherwise hold the whole budget with a few bytes),
//!   held until the request ends; beyond the budget the request gets 503 with `Retry-After`.
//! - HTTP/2 stream and header-list limits, a bounded HTTP/1 read buffer, `TCP_NODELAY` on
//!   every accepted socket, graceful shutdown with a grace period.
//!
//! ```no_run
//! # async fn demo(router: axum::Router, tls: axum_server::tls_rustls::RustlsConfig)
//! #     -> std::io::Result<()> {
//! use palisade_tls::serve::{ConnMetrics, ServeLimits, serve};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
//! // Register these in the server's prometheus-client registry for /metrics.
//! let metrics = ConnMetrics::default();
//! let mut registry = prometheus_client::registry::Registry::with_prefix("palisade_audit");
//! metrics.register(&mut registry);
//! let limits = ServeLimits { max_connections: 512, ..ServeLimits::default() };
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>(); // stop.send(()) to stop
//! let shutdown = async { let _ = stopped.await; };
//! // Some(tls): HTTPS (the RustlsConfig may be hot-reloaded by watch_certificates);
//! // None: plain HTTP. Returns after shutdown, once connections drained (or the grace ran out).
//! serve(listener, Some(tls), router, limits, metrics, shutdown).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum_server::tls_rustls::RustlsConfig;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

/// The limits one server runs with. Defaults follow the Kubernetes API server's own
/// serving where it has one (90 s idle; its 32 s header timeout is shortened here because
/// every client of ours sends its headers in one piece).
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Connections open at once (handshaking, waiting or serving).
    pub max_connections: usize,
    /// From accept to a finished TLS handshake (also: to the first byte of a plain client).
    pub handshake_timeout: Duration,
    /// From the end of the handshake (or accept, for plain HTTP) to the first request's
    /// headers being complete.
    pub first_request_timeout: Duration,
    /// HTTP/1: from the first byte of a later request to its headers being complete.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight is closed after this long (HTTP/2: GOAWAY).
    /// Also: a connection with a request in flight and no bytes read or written for this
    /// long is closed (a client that stopped reading its response).
    pub idle_timeout: Duration,
    /// Whole request (headers to response head, body read included); 408 after it.
    /// `None`: the router enforces its own.
    pub request_timeout: Option<Duration>,
    /// Request body bytes held by all requests at once; 503 beyond.
    pub max_body_bytes_in_flight: usize,
    /// HTTP/2 streams open at once per connection.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2 header list size (bytes, uncompressed) per request.
    pub http2_max_header_list_size: u32,
    /// HTTP/1 read buffer per connection (bounds a request head; hyper's floor is 8 KiB).
    pub http1_max_buf_size: usize,
    /// After shutdown begins, how long requests in flight may finish.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            first_request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            request_timeout: Some(Duration::from_secs(30)),
            max_body_bytes_in_flight: 32 * 1024 * 1024,
            http2_max_concurrent_streams: 100,
            http2_max_header_list_size: 64 * 1024,
            http1_max_buf_size: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Why a connection ended (label `reason` of `connections_closed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The client closed it, or the exchange ended normally.
    Client,
    /// TLS handshake failed or timed out.
    Handshake,
    /// Plain HTTP (or anything else) sent to the TLS port.
    Plaintext,
    /// No complete first request within `first_request_timeout`.
    FirstRequestTimeout,
    /// Later HTTP/1 request headers not complete within `header_read_timeout`.
    HeaderTimeout,
    /// No request in flight for `idle_timeout`.
    IdleTimeout,
    /// A request in flight and no I/O progress for `idle_timeout`.
    Stalled,
    /// Closed to make room at the connection cap (it had not started a request).
    Evicted,
    /// Server shutdown.
    Shutdown,
    /// A protocol or I/O error.
    Error,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Client => "client",
            CloseReason::Handshake => "handshake",
            CloseReason::Plaintext => "plaintext",
            CloseReason::FirstRequestTimeout => "first_request_timeout",
            CloseReason::HeaderTimeout => "header_timeout",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::Stalled => "stalled",
            CloseReason::Evicted => "evicted",
            CloseReason::Shutdown => "shutdown",
            CloseReason::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Connection-level metrics. Clones share the values; register once per server.
#[derive(Debug, Clone, Default)]
pub struct ConnMetrics {
    accepted: Counter,
    refused: Counter,
    open: Gauge,
    closed: Family<ReasonLabel, Counter>,
    body_rejected: Counter,
    body_bytes: Gauge,
    request_timeouts: Counter,
}

impl ConnMetrics {
    /// Adds the metrics to `registry` (under its prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "connections_accepted",
            "TCP connections accepted (refused ones not included)",
            self.accepted.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed at once: at the connection cap with none to evict",
            self.refused.clone(),
        );
        registry.register(
            "connections_open",
            "Connections open now",
            self.open.clone(),
        );
        registry.register(
            "connections_closed",
            "Connections closed, by reason",
            self.closed.clone(),
        );
        registry.register(
            "body_budget_rejections",
            "Requests answered 503 because request bodies in flight were at their byte budget",
            self.body_rejected.clone(),
        );
        registry.register(
            "request_body_bytes_in_flight",
            "Request body bytes held by requests in flight",
            self.body_bytes.clone(),
        );
        registry.register(
            "request_timeouts",
            "Requests answered 408 by the serving layer's request deadline",
            self.request_timeouts.clone(),
        );
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.get()
    }

    pub fn refused(&self) -> u64 {
        self.refused.get()
    }

    pub fn open(&self) -> i64 {
        self.open.get()
    }

    pub fn closed(&self, reason: CloseReason) -> u64 {
        self.closed
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .get()
    }

    pub fn body_budget_rejections(&self) -> u64 {
        self.body_rejected.get()
    }

    pub fn body_bytes_in_flight(&self) -> i64 {
        self.body_bytes.get()
    }

    fn close(&self, reason: CloseReason) {
        self.closed
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .inc();
    }
}

/// How far past the cap connections may be while evicted ones are still closing.
const EVICTION_SLACK: usize = 64;

/// What every connection task shares.
struct Shared {
    limits: ServeLimits,
    metrics: ConnMetrics,
    epoch: Instant,
    /// Connections open (the cap counts these).
    active: AtomicUsize,
    /// Connections that have not started a request yet, oldest first: eviction candidates.
    pending: Mutex<std::collections::BTreeMap<u64, Arc<Conn>>>,
    /// Every open connection (for the idle ones, evicted when no pending one is left).
    all: Mutex<std::collections::BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    body_budget: Arc<Semaphore>,
    drained: Notify,
    auto: auto::Builder<TokioExecutor>,
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
}

impl Shared {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn instant(&self, nanos: u64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch + Duration::from_nanos(nanos))
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<u64, Arc<Conn>>> {
        // A panic while holding this lock cannot leave the map inconsistent (single
        // insert/remove calls), so a poisoned lock is used as is.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn all(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<u64, Arc<Conn>>> {
        self.all.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a connection for closing to make room: the oldest one that has not started a
    /// request, else the one idle longest (no request in flight; its client reconnects when
    /// it needs to, which an idle keep-alive client must expect anyway). `false`: every
    /// connection is serving a request.
    fn evict_oldest(&self) -> bool {
        let oldest = self.pending().pop_first();
        if let Some((_, conn)) = oldest {
            conn.evicting.store(true, Ordering::SeqCst);
            conn.evict.notify_one();
            return true;
        }
        // Only at the cap with no request-less connection: a scan of at most the cap.
        let idlest = self
            .all()
            .values()
            .filter(|c| {
                c.in_flight.load(Ordering::SeqCst) == 0 && !c.evicting.load(Ordering::SeqCst)
            })
            .min_by_key(|c| c.idle_since.load(Ordering::SeqCst))
            .cloned();
        match idlest {
            Some(conn) => {
                conn.evicting.store(true, Ordering::SeqCst);
                conn.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One connection's state, shared by its task, its I/O wrapper and its requests.
struct Conn {
    id: u64,
    /// HTTP/2 (by ALPN): bytes while idle are pings and settings, not a request's start.
    h2: AtomicBool,
    /// When the first-request clock started (end of the handshake).
    started: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// Times in nanoseconds since `Shared::epoch`; 0 = unset.
    idle_since: AtomicU64,
    header_started: AtomicU64,
    last_io: AtomicU64,
    changed: Notify,
    evict: Notify,
    /// Chosen for eviction (not chosen twice while it closes).
    evicting: AtomicBool,
}

impl Conn {
    /// When the connection is due to close if nothing changes, and why.
    fn deadline(&self, limits: &ServeLimits) -> (u64, CloseReason) {
        let after =
            |t: u64, d: Duration| t.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return (
                after(self.last_io.load(Ordering::Relaxed), limits.idle_timeout),
                CloseReason::Stalled,
            );
        }
        let header = self.header_started.load(Ordering::SeqCst);
        let header_deadline = (header != 0 && !self.h2.load(Ordering::Relaxed))
            .then(|| after(header, limits.header_read_timeout));
        if self.requests.load(Ordering::SeqCst) == 0 {
            let first = after(
                self.started.load(Ordering::SeqCst),
                limits.first_request_timeout,
            );
            // Slow first headers: whichever comes first.
            return match header_deadline {
                Some(h) if h < first => (h, CloseReason::HeaderTimeout),
                _ => (first, CloseReason::FirstRequestTimeout),
            };
        }
        if let Some(h) = header_deadline {
            return (h, CloseReason::HeaderTimeout);
        }
        (
            after(self.idle_since.load(Ordering::SeqCst), limits.idle_timeout),
            CloseReason::IdleTimeout,
        )
    }
}

/// Ends the connection's accounting however its task ends.
struct Active {
    shared: Arc<Shared>,
    conn: Arc<Conn>,
}

impl Drop for Active {
    fn drop(&mut self) {
        self.shared.pending().remove(&self.conn.id);
        self.shared.all().remove(&self.conn.id);
        self.shared.metrics.open.dec();
        if self.shared.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.drained.notify_waiters();
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish for `limits.shutdown_grace` and returns. `tls`: HTTPS with
/// this (reloadable) configuration; `None`: plain HTTP. Accept errors (out of file
/// descriptors) are logged and retried, never fatal.
pub async fn serve(
    listener: TcpListener,
    tls: Option<RustlsConfig>,
    app: Router,
    limits: ServeLimits,
    metrics: ConnMetrics,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let shared = Arc::new(shared(limits, metrics));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning; the connections open
                // now close by their timeouts.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let active = shared.active.load(Ordering::SeqCst);
        // Evicted connections close on their own task a moment later; past the cap plus
        // that slack (a flood outrunning them) new connections are refused outright.
        if active >= shared.limits.max_connections
            && (active >= shared.limits.max_connections + EVICTION_SLACK || !shared.evict_oldest())
        {
            shared.metrics.refused.inc();
            drop(stream);
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        shared.metrics.accepted.inc();
        shared.metrics.open.inc();
        let now = shared.now();
        let conn = Arc::new(Conn {
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            h2: AtomicBool::new(false),
            started: AtomicU64::new(now),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            header_started: AtomicU64::new(0),
            last_io: AtomicU64::new(now),
            changed: Notify::new(),
            evict: Notify::new(),
            evicting: AtomicBool::new(false),
        });
        shared.pending().insert(conn.id, conn.clone());
        shared.all().insert(conn.id, conn.clone());
        let active = Active {
            shared: shared.clone(),
            conn,
        };
        tokio::spawn(connection(
            active,
            stream,
            tls.clone(),
            app.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = shared.drained.notified();
    tokio::pin!(drained);
    drained.as_mut().enable();
    if shared.active.load(Ordering::SeqCst) > 0 {
        // Each connection stops itself within the grace; the extra second covers the
        // last writes after that.
        let _ = tokio::time::timeout(
            shared.limits.shutdown_grace + Duration::from_secs(1),
            drained,
        )
        .await;
    }
    Ok(())
}

fn shared(limits: ServeLimits, metrics: ConnMetrics) -> Shared {
    let mut auto = auto::Builder::new(TokioExecutor::new());
    auto.http1()
        .timer(TokioTimer::new())
        // The watcher times headers (first byte on, as Go does); hyper's own timer would
        // start at the idle wait and cut keep-alive short.
        .header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(limits.http1_max_buf_size.max(8192))
        // Head and body in one buffer: one TLS record and one write per response instead
        // of a record per piece (rustls does not coalesce vectored writes).
        .writev(false);
    auto.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(limits.http2_max_header_list_size);
    let body_budget = Arc::new(Semaphore::new(
        limits.max_body_bytes_in_flight.min(Semaphore::MAX_PERMITS),
    ));
    Shared {
        h1: auto.clone().http1_only(),
        h2: auto.clone().http2_only(),
        auto,
        limits,
        metrics,
        epoch: Instant::now(),
        active: AtomicUsize::new(0),
        pending: Mutex::new(std::collections::BTreeMap::new()),
        all: Mutex::new(std::collections::BTreeMap::new()),
        next_id: AtomicU64::new(1),
        body_budget,
        drained: Notify::new(),
    }
}

/// Socket options of every accepted connection: `TCP_NODELAY`, so small request/response
/// pairs do not wait for Nagle's algorithm and the peer's delayed ACK (~40 ms). Best
/// effort: a failure only costs latency.
pub fn configure_accepted(stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
}

const PLAINTEXT_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Waits for the first byte; answers a client that speaks plain HTTP to the TLS port the
/// way Go's servers do, instead of a silent reset. `false`: not a TLS client.
async fn looks_like_tls(stream: &mut TcpStream) -> io::Result<bool> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    // 0x16 = TLS handshake record.
    if n == 0 || first != [0x16] {
        if n > 0 {
            let _ = stream.write_all(PLAINTEXT_ANSWER).await;
        }
        let _ = stream.shutdown().await;
        return Ok(false);
    }
    Ok(true)
}

async fn connection(
    active: Active,
    mut stream: TcpStream,
    tls: Option<RustlsConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let shared = active.shared.clone();
    let conn = active.conn.clone();
    configure_accepted(&stream);
    let reason = match tls {
        None => run(&shared, &conn, stream, None, app, &mut stop).await,
        Some(tls) => {
            let handshake = async {
                if !looks_like_tls(&mut stream).await? {
                    return Ok(None);
                }
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.get_inner());
                acceptor.accept(stream).await.map(Some)
            };
            let outcome = tokio::select! {
                r = tokio::time::timeout(shared.limits.handshake_timeout, handshake) => r,
                () = conn.evict.notified() => {
                    shared.metrics.close(CloseReason::Evicted);
                    return;
                }
                _ = stop.wait_for(|s| *s) => {
                    shared.metrics.close(CloseReason::Shutdown);
                    return;
                }
            };
            match outcome {
                Ok(Ok(Some(tls_stream))) => {
                    let alpn = tls_stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                    run(&shared, &conn, tls_stream, alpn, app, &mut stop).await
                }
                Ok(Ok(None)) => CloseReason::Plaintext,
                Ok(Err(_)) | Err(_) => CloseReason::Handshake,
            }
        }
    };
    shared.metrics.close(reason);
    drop(active);
}

/// Serves HTTP on one connection until it ends or a limit closes it.
async fn run<I>(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    io: I,
    alpn: Option<Vec<u8>>,
    app: Router,
    stop: &mut watch::Receiver<bool>,
) -> CloseReason
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = match alpn.as_deref() {
        Some(b"h2") => {
            conn.h2.store(true, Ordering::Relaxed);
            &shared.h2
        }
        Some(b"http/1.1") => &shared.h1,
        _ => &shared.auto,
    };
    // The first-request clock starts after the handshake.
    let now = shared.now();
    conn.started.store(now, Ordering::SeqCst);
    conn.idle_since.store(now, Ordering::SeqCst);
    conn.last_io.store(now, Ordering::Relaxed);
    let io = Watched {
        inner: io,
        conn: conn.clone(),
        shared: shared.clone(),
    };
    let service = ConnService {
        app,
        conn: conn.clone(),
        shared: shared.clone(),
    };
    let http = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(http);
    let reason = loop {
        let (at, reason) = conn.deadline(&shared.limits);
        tokio::select! {
            r = http.as_mut() => {
                return if r.is_ok() { CloseReason::Client } else { CloseReason::Error };
            }
            () = tokio::time::sleep_until(shared.instant(at)) => {
                if conn.deadline(&shared.limits).0 <= shared.now() {
                    break reason;
                }
            }
            () = conn.changed.notified() => {}
            () = conn.evict.notified() => {
                // Chosen while idle; a request that started since keeps it.
                if conn.in_flight.load(Ordering::SeqCst) == 0 {
                    break CloseReason::Evicted;
                }
                conn.evicting.store(false, Ordering::SeqCst);
            }
            _ = stop.wait_for(|s| *s) => break CloseReason::Shutdown,
        }
    };
    // Nothing in flight (idle) or shutting down: let HTTP/2 say GOAWAY and requests in
    // flight finish; otherwise the connection is dropped as it is.
    let grace = match reason {
        CloseReason::Shutdown => Some(shared.limits.shutdown_grace),
        CloseReason::IdleTimeout => Some(Duration::from_secs(1)),
        _ => None,
    };
    if let Some(grace) = grace {
        http.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(grace, http.as_mut()).await;
    }
    reason
}

/// The socket as hyper sees it: records I/O progress and the first byte of a request
/// head for the watcher.
struct Watched<I> {
    inner: I,
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

impl<I> Watched<I> {
    fn progressed(&self, read: bool) {
        let now = self.shared.now();
        self.conn.last_io.store(now, Ordering::Relaxed);
        if read
            && self.conn.in_flight.load(Ordering::SeqCst) == 0
            && self.conn.header_started.load(Ordering::SeqCst) == 0
        {
            self.conn.header_started.store(now, Ordering::SeqCst);
            // The header deadline is earlier than the idle one the watcher sleeps on.
            self.conn.changed.notify_one();
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.progressed(true);
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed(false);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed(false);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request in flight: counted from the service call until its response body is done.
struct InFlight {
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

impl InFlight {
    fn begin(conn: &Arc<Conn>, shared: &Arc<Shared>) -> InFlight {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        if conn.requests.fetch_add(1, Ordering::SeqCst) == 0 {
            // Serving now: no longer a candidate for eviction.
            shared.pending().remove(&conn.id);
        }
        conn.header_started.store(0, Ordering::SeqCst);
        InFlight {
            conn: conn.clone(),
            shared: shared.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.shared.now();
        self.conn.idle_since.store(now, Ordering::SeqCst);
        self.conn.header_started.store(0, Ordering::SeqCst);
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.conn.changed.notify_one();
    }
}

/// The body bytes one request holds in the shared budget, released when the request ends.
#[derive(Default)]
struct BodyCharge {
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    exceeded: AtomicBool,
}

impl BodyCharge {
    fn add(&self, p: OwnedSemaphorePermit, metrics: &ConnMetrics) {
        metrics
            .body_bytes
            .inc_by(i64::try_from(p.num_permits()).unwrap_or(i64::MAX));
        let mut slot = self.permit.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_mut() {
            Some(held) => held.merge(p),
            None => *slot = Some(p),
        }
    }

    fn release(&self, metrics: &ConnMetrics) {
        let taken = self.permit.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(p) = taken {
            metrics
                .body_bytes
                .dec_by(i64::try_from(p.num_permits()).unwrap_or(i64::MAX));
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request bodies in flight are at their byte budget; retry later")]
struct BudgetExceeded;

/// The request body handed to the router: charged against the byte budget as it arrives
/// (a client holds only what it has sent).
struct BudgetBody {
    inner: Incoming,
    charge: Arc<BodyCharge>,
    budget: Arc<Semaphore>,
    metrics: ConnMetrics,
}

impl http_body::Body for BudgetBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(f))) => f,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref()
            && !data.is_empty()
        {
            let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
            match self.budget.clone().try_acquire_many_owned(n) {
                Ok(p) => self.charge.add(p, &self.metrics),
                Err(_) => {
                    self.charge.exceeded.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(BudgetExceeded.into())));
                }
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The response body: the request stays in flight (and keeps its body bytes charged)
/// until this is done or dropped.
pub struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
    charge: Arc<BodyCharge>,
    metrics: ConnMetrics,
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.charge.release(&self.metrics);
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn plain(status: StatusCode, message: String) -> Response<Body> {
    let mut r = Response::new(Body::from(message));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn over_budget(limit: usize) -> Response<Body> {
    let mut r = plain(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("request bodies in flight are at their limit of {limit} bytes; retry shortly\n"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

#[derive(Clone)]
struct ConnService {
    app: Router,
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(&self.conn, &self.shared);
        let shared = self.shared.clone();
        let metrics = shared.metrics.clone();
        let charge = Arc::new(BodyCharge::default());
        let track = {
            let charge = charge.clone();
            let metrics = metrics.clone();
            move |r: Response<Body>| {
                r.map(|inner| TrackedBody {
                    inner,
                    _in_flight: in_flight,
                    charge,
                    metrics,
                })
            }
        };
        let limit = shared.limits.max_body_bytes_in_flight;
        let req = req.map(|inner| BudgetBody {
            inner,
            charge: charge.clone(),
            budget: shared.body_budget.clone(),
            metrics: metrics.clone(),
        });
        let mut app = self.app.clone();
        Box::pin(async move {
            // Router is always ready (its poll_ready returns Ready); call it directly.
            let call = tower_service::Service::call(&mut app, req);
            let resp = match shared.limits.request_timeout {
                None => call.await,
                Some(limit) => match tokio::time::timeout(limit, call).await {
                    Ok(r) => r,
                    Err(_) => {
                        metrics.request_timeouts.inc();
                        Ok(plain(
                            StatusCode::REQUEST_TIMEOUT,
                            format!("request not completed within {:.1}s\n", limit.as_secs_f64()),
                        ))
                    }
                },
            };
            let resp = match resp {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if charge.exceeded.load(Ordering::SeqCst) {
                metrics.body_rejected.inc();
                return Ok(track(over_budget(limit)));
            }
            Ok(track(resp))
        })
    }
}

/// SIGTERM or SIGINT (Ctrl-C), for the servers' graceful shutdown. Call it inside the runtime:
/// the handlers are installed at once (not at first poll), so a signal right after start-up is not lost to the default action.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
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
mod tests;
