//! Connection limits of `feed serve` (issue #14, item 8): slow headers, silent and idle
//! connections, a slow webhook body, over plain HTTP and over its own TLS. Short limits;
//! bounds on time are generous ("closed before 10 s" for a 300 ms limit), never exact.

use crate::{config, start_with};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUND: Duration = Duration::from_secs(10);

fn short(c: &mut palisade_feed_server::Config) {
    let l = &mut c.serve_limits;
    l.first_request_timeout = Duration::from_millis(300);
    l.header_read_timeout = Duration::from_millis(300);
    l.idle_timeout = Duration::from_millis(300);
    l.request_timeout = Some(Duration::from_millis(500));
}

/// Reads until the server closes; `false` if still open after `BOUND`.
async fn closed_by_server(s: &mut (impl AsyncReadExt + Unpin)) -> (bool, Vec<u8>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let drain = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(BOUND, drain).await.is_ok();
    (closed, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_silent_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), true);
    short(&mut c);
    let h = start_with(dir, c).await;
    let addr = h.server.addr;
    // Connected, nothing sent.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // Headers that never end.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /feed.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // One request, then kept open and idle.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    for (what, s) in [
        ("silent", &mut silent),
        ("slow headers", &mut slow),
        ("idle", &mut idle),
    ] {
        let (closed, _) = closed_by_server(s).await;
        assert!(closed, "{what}: still open after {BOUND:?}");
    }
    let m = String::from_utf8(h.metrics().await).unwrap();
    for reason in ["first_request_timeout", "idle_timeout"] {
        assert!(
            m.contains(&format!(
                "palisade_feed_connections_closed_total{{reason=\"{reason}\"}}"
            )),
            "{reason}: {m}"
        );
    }
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_body_that_never_ends_gets_408() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), true);
    short(&mut c);
    // Longer than the request deadline: a stalled body is closed without an answer
    // after the idle timeout, this test wants the deadline's 408.
    c.serve_limits.idle_timeout = Duration::from_secs(5);
    let h = start_with(dir, c).await;
    let mut s = TcpStream::connect(h.server.addr).await.unwrap();
    s.write_all(
        b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nX-GitHub-Delivery: d1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"action\":",
    )
    .await
    .unwrap();
    let (closed, out) = closed_by_server(&mut s).await;
    assert!(closed, "still open after {BOUND:?}");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    h.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_a_silent_connection_after_the_handshake_is_closed() {
    let p = palisade_tls::testing::pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = palisade_tls::testing::write_pair(dir.path(), &p.cert_pem, &p.key_pem);
    let mut c = config(&dir.path().join("data"), true);
    c.tls = Some(palisade_feed_server::Tls { cert, key });
    short(&mut c);
    let h = start_with(dir, c).await;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(p.ca_pem.as_bytes()) {
        let cert: rustls::pki_types::CertificateDer<'static> = cert.unwrap();
        roots.add(cert).unwrap();
    }
    for alpn in [&[b"h2".as_slice()][..], &[b"http/1.1".as_slice()], &[]] {
        let mut cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        cfg.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        let tcp = TcpStream::connect(h.server.addr).await.unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
            .connect("localhost".try_into().unwrap(), tcp)
            .await
            .unwrap();
        let (closed, _) = closed_by_server(&mut tls).await;
        assert!(closed, "ALPN {alpn:?}: still open after {BOUND:?}");
    }
    h.server.shutdown().await.unwrap();
}
