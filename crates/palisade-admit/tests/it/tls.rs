//! The real server on loopback TLS: reviews over keep-alive, certificate rotation while
//! requests flow, HTTP/2 by ALPN, and hostile clients (truncated JSON, wrong apiVersion,
//! missing request, 10 MB body, slow headers, slow body, plain HTTP, silent TCP, a pod with
//! 10,000 containers). Each gets its status and the server keeps serving.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::h1::{Conn, client_config};
use palisade_admit::{Admitter, Config, ServeOptions, Server};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{admitter, ns, testdata};

pub use palisade_tls::testing::{Pki, pki};

pub struct Running {
    pub addr: SocketAddr,
    /// The metrics listener (plain HTTP on loopback).
    pub metrics: SocketAddr,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<(), palisade_admit::ServeError>>,
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

pub fn write_pki(dir: &Path, pki: &Pki) -> (PathBuf, PathBuf) {
    palisade_tls::testing::write_pair(dir, &pki.cert_pem, &pki.key_pem)
}

pub async fn start(app: Arc<Admitter>, pki: &Pki) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pki(dir.path(), pki);
    let mut r = start_with(app, cert, key).await;
    r._dir = Some(dir);
    r
}

pub async fn start_with(app: Arc<Admitter>, cert: PathBuf, key: PathBuf) -> Running {
    let opts = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        cert: cert.clone(),
        key: key.clone(),
        workers: None,
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
    };
    let server = Server::bind(opts, app).await.unwrap();
    let addr = server.local_addr();
    let metrics = server.metrics_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        metrics,
        stop: Some(tx),
        task,
        cert,
        key,
        _dir: None,
    }
}

/// `GET /metrics` from the metrics listener (plain HTTP): the whole response.
pub async fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

fn fast_limits(mut config: Config) -> Config {
    let l = &mut config.limits;
    l.cert_reload_interval = Duration::from_millis(50);
    l.request_timeout = Duration::from_millis(1500);
    l.header_read_timeout = Duration::from_millis(400);
    l.handshake_timeout = Duration::from_millis(400);
    l.shutdown_grace = Duration::from_secs(5);
    config
}

fn sample_body() -> Vec<u8> {
    std::fs::read(testdata(
        "admission/kubewarden-policy-server/pod_with_privileged_containers.json",
    ))
    .unwrap()
}

fn baseline_app(config: Config) -> Arc<Admitter> {
    admitter(
        fast_limits(config),
        vec![ns(
            "default",
            &[("pod-security.kubernetes.io/enforce", "baseline")],
        )],
        vec![],
    )
}

async fn assert_denied(conn: &mut Conn, body: &[u8]) {
    let resp = conn.post("/validate?timeout=5s", body).await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(v["response"]["status"]["code"], 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_over_tls_and_certificate_rotation_while_requests_flow() {
    let (a, b) = (pki(), pki());
    let server = start(baseline_app(Config::default()), &a).await;
    let trust_a = client_config(a.ca_pem.as_bytes(), &[b"http/1.1"]).unwrap();
    let trust_b = client_config(b.ca_pem.as_bytes(), &[b"http/1.1"]).unwrap();
    let body = Arc::new(sample_body());

    let mut conn = Conn::connect(server.addr, trust_a.clone(), "localhost")
        .await
        .unwrap();
    assert_eq!(conn.alpn().as_deref(), Some(&b"http/1.1"[..]));
    assert_denied(&mut conn, &body).await;
    assert!(
        Conn::connect(server.addr, trust_b.clone(), "localhost")
            .await
            .is_err()
    );

    // Requests keep flowing on the open connection and on new ones during the rotation.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let flow = {
        let (stop, ok, failed, body) = (stop.clone(), ok.clone(), failed.clone(), body.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match conn.post("/validate", &body).await {
                    Ok(r) if r.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
            conn
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Write the key before the certificate: for a moment the pair does not match, and
    // the server must keep the old one until both are there.
    std::fs::write(&server.key, &b.key_pem).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        Conn::connect(server.addr, trust_a.clone(), "localhost")
            .await
            .is_ok(),
        "a mismatched pair must not replace the serving certificate"
    );
    std::fs::write(&server.cert, &b.cert_pem).unwrap();
    let start = Instant::now();
    let mut rotated = None;
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(c) = Conn::connect(server.addr, trust_b.clone(), "localhost").await {
            rotated = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fresh = rotated.expect("new connections use the rotated certificate");
    assert_denied(&mut fresh, &body).await;
    assert!(
        Conn::connect(server.addr, trust_a.clone(), "localhost")
            .await
            .is_err(),
        "old CA no longer valid"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let mut old = flow.await.unwrap();
    assert!(ok.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no request failed during rotation"
    );
    // The pre-rotation connection is still usable.
    assert_denied(&mut old, &body).await;

    // A broken certificate file is ignored; the rotated one keeps serving.
    std::fs::write(&server.cert, b"not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        Conn::connect(server.addr, trust_b.clone(), "localhost")
            .await
            .is_ok()
    );
    let metrics = scrape(server.metrics).await;
    assert!(
        metrics.contains("palisade_admit_cert_reloads_total{reason=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admit_cert_reloads_total{reason=\"error\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "palisade_admit_reviews_total{resource=\"pods\",operation=\"CREATE\",decision=\"deny\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admit_rule_hits_total{rule=\"PSS007\",mode=\"enforce\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admit_review_duration_seconds_bucket"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_by_alpn() {
    let a = pki();
    let server = start(baseline_app(Config::default()), &a).await;
    let h2 = client_config(a.ca_pem.as_bytes(), &[b"h2", b"http/1.1"]).unwrap();
    let conn = Conn::connect(server.addr, h2, "localhost").await.unwrap();
    assert_eq!(conn.alpn().as_deref(), Some(&b"h2"[..]));
    // Speak HTTP/2 over it through hyper's client.
    let io = hyper_util::rt::TokioIo::new(conn.stream.into_inner());
    let (mut send, driver) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(driver);
    let req = hyper::Request::post("https://localhost/validate")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(axum::body::Bytes::from(
            sample_body(),
        )))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["response"]["uid"], "1299d386-525b-4032-98ae-1949f69f9cfc");
    assert_eq!(v["response"]["allowed"], false);
}

async fn read_all(mut s: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_get_their_status_and_the_server_stays_up() {
    let a = pki();
    let server = start(baseline_app(Config::default()), &a).await;
    let cfg = client_config(a.ca_pem.as_bytes(), &[b"http/1.1"]).unwrap();
    let connect = || Conn::connect(server.addr, cfg.clone(), "localhost");
    let good = sample_body();

    // Bad reviews: 400 with a message, on a connection that stays usable.
    let mut c = connect().await.unwrap();
    for (body, needle) in [
        (
            good[..good.len() / 2].to_vec(),
            "not a valid AdmissionReview",
        ),
        (
            String::from_utf8(good.clone())
                .unwrap()
                .replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
                .into_bytes(),
            "unsupported AdmissionReview apiVersion",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
            "has no request",
        ),
    ] {
        let r = c.post("/validate", &body).await.unwrap();
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(needle), "{}", r.text());
    }
    assert_denied(&mut c, &good).await;

    // 10 MB body: 413 (limit 8 MiB).
    let mut big = connect().await.unwrap();
    let huge = vec![b' '; 10 * 1024 * 1024];
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        huge.len()
    );
    big.write_raw(head.as_bytes()).await.unwrap();
    // The answer comes from the declared length, before the body is sent.
    let r = big.read_response().await.unwrap();
    let _ = big.write_raw(&huge).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("limits.maxRequestBytes"));

    // Slow headers: the connection is closed after the header timeout.
    let mut slow = connect().await.unwrap();
    slow.write_raw(b"POST /validate HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), slow.read_response())
        .await
        .unwrap();
    assert!(
        r.is_err() || r.as_ref().is_ok_and(|r| r.status == 408),
        "{r:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));

    // Slow body: 408 once the request deadline passes.
    let mut trickle = connect().await.unwrap();
    trickle
        .write_raw(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"apiVersion\"")
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), trickle.read_response())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, 408, "{}", r.text());

    // Plain HTTP to the TLS port: Go's answer, not a reset.
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let text = String::from_utf8(read_all(plain).await).unwrap();
    assert!(text.starts_with("HTTP/1.0 400 Bad Request"), "{text}");
    assert!(text.contains("Client sent an HTTP request to an HTTPS server."));

    // A TCP client that never speaks is dropped after the handshake timeout.
    let silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(read_all(silent).await.is_empty());

    // A pod with 10,000 containers is decided (and denied) within the deadline.
    let containers: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx", "securityContext": {"privileged": i % 2 == 0}}))
        .collect();
    let mut review: Value = serde_json::from_slice(&good).unwrap();
    review["request"]["object"]["spec"]["containers"] = Value::Array(containers);
    let body = serde_json::to_vec(&review).unwrap();
    let mut c2 = connect().await.unwrap();
    let r = c2.post("/validate", &body).await.unwrap();
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["response"]["status"]["code"], 403);
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("containers \"c0\", \"c2\"")
    );

    // Still serving (`c` has been idle past the header timeout, which also closes idle
    // keep-alive connections, so use a new one).
    let mut fresh = connect().await.unwrap();
    assert_denied(&mut fresh, &good).await;
    assert_eq!(fresh.get("/healthz").await.unwrap().status, 200);
    assert_eq!(fresh.get("/readyz").await.unwrap().status, 200);
    let m = scrape(server.metrics).await;
    for reason in ["bad_request", "too_large", "timeout"] {
        assert!(
            m.contains(&format!(
                "palisade_admit_http_rejections_total{{reason=\"{reason}\"}}"
            )),
            "{reason}: {m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let a = pki();
    let mut server = start(baseline_app(Config::default()), &a).await;
    let cfg = client_config(a.ca_pem.as_bytes(), &[b"http/1.1"]).unwrap();
    let mut c = Conn::connect(server.addr, cfg.clone(), "localhost")
        .await
        .unwrap();
    let body = sample_body();
    let (first, rest) = body.split_at(body.len() / 2);
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.write_raw(head.as_bytes()).await.unwrap();
    c.write_raw(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // New connections are refused once shutdown started...
    assert!(Conn::connect(server.addr, cfg, "localhost").await.is_err());
    // ...but the request in flight completes.
    c.write_raw(rest).await.unwrap();
    let r = c.read_response().await.unwrap();
    assert_eq!(r.status, 200);
    let result = tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn startup_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = pki();
    let (cert, key) = write_pki(dir.path(), &a);
    let opts = |cert: &Path, key: &Path| ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        cert: cert.to_owned(),
        key: key.to_owned(),
        workers: None,
        metrics_listen: None,
    };
    let app = baseline_app(Config::default());
    let missing = dir.path().join("missing.crt");
    let e = Server::bind(opts(&missing, &key), app.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.crt"), "{e}");
    let e = Server::bind(opts(&key, &key), app.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no PEM CERTIFICATE"), "{e}");
    let e = Server::bind(opts(&cert, &cert), app.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("private key"), "{e}");
    let b = pki();
    std::fs::write(dir.path().join("other.key"), &b.key_pem).unwrap();
    let e = Server::bind(opts(&cert, &dir.path().join("other.key")), app.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not fit together"), "{e}");
    let ok = Server::bind(opts(&cert, &key), app.clone()).await.unwrap();
    let taken = ServeOptions {
        listen: ok.local_addr(),
        ..opts(&cert, &key)
    };
    let e = Server::bind(taken, app).await.unwrap_err().to_string();
    assert!(e.contains("cannot listen on"), "{e}");
}
