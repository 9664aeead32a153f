#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The serving layer over real sockets on 127.0.0.1, with short limits. Bounds on time are
//! generous ("closed before N seconds"), never exact.

use super::*;
use crate::testing::pki;
use axum::routing::{get, post};
use http_body_util::{BodyExt, Full};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::AsyncReadExt;
use tokio_rustls::client::TlsStream;

const BOUND: Duration = Duration::from_secs(10);

struct TestServer {
    addr: std::net::SocketAddr,
    metrics: ConnMetrics,
    ca: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<()>>,
    release: Arc<Notify>,
}

impl TestServer {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(BOUND, self.task)
            .await
            .expect("server stops within the bound")
            .unwrap()
            .unwrap();
    }
}

fn app(release: Arc<Notify>) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/echo",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/hold",
            get(move || {
                let release = release.clone();
                async move {
                    release.notified().await;
                    "released"
                }
            }),
        )
        .route(
            "/sleep",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
}

fn quick() -> ServeLimits {
    ServeLimits {
        max_connections: 64,
        handshake_timeout: Duration::from_secs(5),
        first_request_timeout: Duration::from_millis(300),
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(400),
        request_timeout: Some(Duration::from_secs(20)),
        max_body_bytes_in_flight: 1 << 20,
        shutdown_grace: Duration::from_secs(2),
        ..ServeLimits::default()
    }
}

async fn start(limits: ServeLimits, tls: bool) -> TestServer {
    let p = pki();
    let config = crate::server_config(
        std::path::Path::new("tls.crt"),
        p.cert_pem.as_bytes(),
        std::path::Path::new("tls.key"),
        p.key_pem.as_bytes(),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = ConnMetrics::default();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let release = Arc::new(Notify::new());
    let task = tokio::spawn(serve(
        listener,
        tls.then(|| RustlsConfig::from_config(config)),
        app(release.clone()),
        limits,
        metrics.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        addr,
        metrics,
        ca: p.ca_pem,
        stop: Some(tx),
        task,
        release,
    }
}

async fn tls_connect(s: &TestServer, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(s.ca.as_bytes()).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// Reads until the server closes (EOF or reset); `false` if still open after `BOUND`.
async fn closed_by_server(stream: &mut (impl AsyncRead + Unpin)) -> bool {
    let mut buf = vec![0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(BOUND, read_all).await.is_ok()
}

/// Polls a counter until it reaches `want` (the server records a close just after the
/// socket closes).
async fn eventually(what: &str, f: impl Fn() -> u64, want: u64) {
    for _ in 0..200 {
        if f() >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: {} after the bound, wanted {want}", f());
}

async fn h1_client(
    io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

fn get_req(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header(header::HOST, "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connection_after_handshake_is_closed_by_first_request_timeout() {
    let s = start(quick(), true).await;
    for alpn in [&[b"h2".as_slice()][..], &[b"http/1.1".as_slice()], &[]] {
        let mut c = tls_connect(&s, alpn).await;
        assert!(closed_by_server(&mut c).await, "alpn {alpn:?}");
    }
    eventually(
        "first_request_timeout closes",
        || s.metrics.closed(CloseReason::FirstRequestTimeout),
        3,
    )
    .await;
    // Plain TCP too: no bytes at all.
    let p = start(quick(), false).await;
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    assert!(closed_by_server(&mut c).await);
    eventually(
        "plain first_request_timeout",
        || p.metrics.closed(CloseReason::FirstRequestTimeout),
        1,
    )
    .await;
    s.stop().await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_keep_alive_is_closed_after_idle_timeout() {
    let s = start(quick(), true).await;
    let io = tls_connect(&s, &[b"http/1.1"]).await;
    let mut send = h1_client(io).await;
    let r = send.send_request(get_req("/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.into_body().collect().await.unwrap();
    // The client keeps the connection; the server closes it once idle.
    tokio::time::timeout(BOUND, async {
        while !send.is_closed() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("idle HTTP/1 connection closed within the bound");
    eventually(
        "idle close",
        || s.metrics.closed(CloseReason::IdleTimeout),
        1,
    )
    .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connection_gets_goaway_after_idle_timeout() {
    let s = start(quick(), true).await;
    let io = tls_connect(&s, &[b"h2"]).await;
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let r = send.send_request(get_req("/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.into_body().collect().await.unwrap();
    // The client connection future ends when the server sends GOAWAY and closes.
    tokio::time::timeout(BOUND, conn)
        .await
        .expect("idle HTTP/2 connection closed within the bound")
        .unwrap()
        .ok();
    eventually(
        "idle close",
        || s.metrics.closed(CloseReason::IdleTimeout),
        1,
    )
    .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_of_a_later_request_hit_the_header_timeout() {
    let limits = ServeLimits {
        idle_timeout: Duration::from_secs(60),
        ..quick()
    };
    let s = start(limits, false).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // A second request whose head never ends: closed by the header timeout, not after
    // the 60 s idle timeout.
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow:")
        .await
        .unwrap();
    assert!(closed_by_server(&mut c).await);
    eventually(
        "header timeout",
        || s.metrics.closed(CloseReason::HeaderTimeout),
        1,
    )
    .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_the_oldest_silent_connection_is_evicted_else_refused() {
    let limits = ServeLimits {
        max_connections: 2,
        first_request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..quick()
    };
    let s = start(limits, false).await;
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    eventually("first accepted", || s.metrics.accepted(), 1).await;
    // A connection serving a request is not evictable.
    let busy = TcpStream::connect(s.addr).await.unwrap();
    let mut busy_send = h1_client(busy).await;
    let held = tokio::spawn(async move {
        let r = busy_send.send_request(get_req("/hold")).await.unwrap();
        (r.status(), busy_send)
    });
    eventually("second accepted", || s.metrics.accepted(), 2).await;
    // Let /hold get in flight (the busy connection leaves the eviction candidates).
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Third: evicts the silent one.
    let third = TcpStream::connect(s.addr).await.unwrap();
    assert!(closed_by_server(&mut silent).await);
    eventually("evicted", || s.metrics.closed(CloseReason::Evicted), 1).await;
    // The third one now serves a request of its own...
    let mut third_send = h1_client(third).await;
    let held_third = tokio::spawn(async move {
        let r = third_send.send_request(get_req("/hold")).await.unwrap();
        (r.status(), third_send)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so with both connections busy, a fourth is refused.
    let mut fourth = TcpStream::connect(s.addr).await.unwrap();
    assert!(closed_by_server(&mut fourth).await);
    eventually("refused", || s.metrics.refused(), 1).await;
    assert_eq!(s.metrics.accepted(), 3);
    s.release.notify_waiters();
    let (status, _keep) = held.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let (status, _keep) = held_third.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_with_none_request_less_the_longest_idle_is_evicted() {
    let limits = ServeLimits {
        max_connections: 2,
        first_request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..quick()
    };
    let s = start(limits, false).await;
    // Two clients that each sent one request and keep their connection idle (the lockout
    // a flood of one-request clients would cause without this).
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let head = raw_response(&mut c).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        idle.push(c);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A new client is served; the connection idle longest made room.
    let io = TcpStream::connect(s.addr).await.unwrap();
    let mut send = h1_client(io).await;
    let r = send.send_request(get_req("/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(closed_by_server(&mut idle[0]).await);
    eventually("evicted", || s.metrics.closed(CloseReason::Evicted), 1).await;
    assert_eq!(s.metrics.refused(), 0);
    s.stop().await;
}

async fn raw_response(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(BOUND, read).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_bodies_beyond_the_byte_budget_get_503() {
    let limits = ServeLimits {
        max_body_bytes_in_flight: 10_000,
        first_request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..quick()
    };
    let s = start(limits, false).await;
    // Two unfinished 4,000-byte bodies that sent 3,999 bytes each hold 7,998 bytes.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n")
            .await
            .unwrap();
        c.write_all(&[b'a'; 3999]).await.unwrap();
        holders.push(c);
    }
    eventually(
        "charged as arrived",
        || u64::try_from(s.metrics.body_bytes_in_flight()).unwrap(),
        7998,
    )
    .await;
    // A client that only declares a large body holds nothing: its declared 4,000 bytes
    // are not reserved, so it cannot lock others out with a few bytes.
    let mut declared_only = TcpStream::connect(s.addr).await.unwrap();
    declared_only
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\nab")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.metrics.body_bytes_in_flight() <= 8000);
    // A third body that arrives beyond the budget: 503.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n")
        .await
        .unwrap();
    c.write_all(&[b'b'; 3000]).await.unwrap();
    let head = raw_response(&mut c).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    // A chunked body (no declared length) alike.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 3000, "a".repeat(3000));
    c.write_all(chunk.as_bytes()).await.unwrap();
    let head = raw_response(&mut c).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert_eq!(s.metrics.body_budget_rejections(), 2);
    drop(declared_only);
    // A small body still fits, and the budget returns when requests end.
    let io = TcpStream::connect(s.addr).await.unwrap();
    let mut send = h1_client(io).await;
    let r = send
        .send_request(
            Request::post("/echo")
                .header(header::HOST, "x")
                .body(Full::new(Bytes::from(vec![b'x'; 1500])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(holders);
    eventually(
        "budget released",
        || u64::from(s.metrics.body_bytes_in_flight() == 0),
        1,
    )
    .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_deadline_answers_408() {
    let limits = ServeLimits {
        request_timeout: Some(Duration::from_millis(300)),
        idle_timeout: Duration::from_secs(60),
        ..quick()
    };
    let s = start(limits, true).await;
    let io = tls_connect(&s, &[b"http/1.1"]).await;
    let mut send = h1_client(io).await;
    let r = tokio::time::timeout(BOUND, send.send_request(get_req("/sleep")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_client_on_the_tls_port_gets_400() {
    let s = start(quick(), true).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let head = raw_response(&mut c).await;
    assert!(head.starts_with("HTTP/1.0 400"), "{head}");
    eventually("plaintext", || s.metrics.closed(CloseReason::Plaintext), 1).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_sockets_have_nodelay() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _client = TcpStream::connect(addr).await.unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    assert!(!stream.nodelay().unwrap(), "the kernel default is Nagle on");
    configure_accepted(&stream);
    assert!(stream.nodelay().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let s = start(quick(), true).await;
    let io = tls_connect(&s, &[b"h2"]).await;
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    let pending = tokio::spawn(async move { send.send_request(get_req("/hold")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let release = s.release.clone();
    let TestServer { stop, task, .. } = s;
    stop.unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.notify_waiters();
    let r = pending.await.unwrap().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::timeout(BOUND, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
