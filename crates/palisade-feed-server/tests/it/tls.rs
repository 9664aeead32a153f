//! Loopback TLS: a delivery and the feed over HTTPS; certificate rotation: the files are replaced while requests flow; new
//! handshakes get the new certificate, no request fails, and a bad pair keeps the old one.

use crate::{NEW_CVE, SECRET, config, ids, labeled_payload};
use palisade_feed_server::Config;
use palisade_tls::testing::write_pair;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A fresh CA and a `localhost` certificate signed by it: (CA PEM, cert PEM, key PEM).
fn pki() -> (String, String, String) {
    let p = palisade_tls::testing::pki();
    (p.ca_pem, p.cert_pem, p.key_pem)
}

/// A server config with data under `dir/data`, serving HTTPS from `cert` and `key`.
fn tls_config(dir: &Path, seed: bool, cert: &Path, key: &Path) -> Config {
    let mut c = config(&dir.join("data"), seed);
    c.tls = Some(palisade_feed_server::Tls {
        cert: cert.to_owned(),
        key: key.to_owned(),
    });
    c
}

/// A client trusting only `cas`, opening a new connection (a new handshake) for every request.
fn client(addr: std::net::SocketAddr, cas: &[&str]) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .resolve("localhost", addr)
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5));
    for ca in cas {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn served(c: &reqwest::Client, url: &str) -> bool {
    c.get(format!("{url}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Replaces a file in one step, as a Secret volume or cert-manager does (a plain write can be
/// seen half-done, which the server rightly rejects but which would make counts vary).
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Waits until `/metrics` (at `url`, the plain metrics listener) contains `needle` (the watcher runs every 50 ms; 10 s at most).
async fn wait_metric(c: &reqwest::Client, url: &str, needle: &str) -> String {
    let t = Instant::now();
    loop {
        let m = c.get(format!("{url}/metrics")).send().await.unwrap();
        let m = m.text().await.unwrap();
        if m.contains(needle) {
            return m;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "never `{needle}`: {m}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const RELOAD_OK: &str = "palisade_feed_cert_reloads_total{result=\"ok\"}";
const RELOAD_ERROR: &str = "palisade_feed_cert_reloads_total{result=\"error\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_feed_over_tls() {
    let (ca, cert_pem, key_pem) = pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &cert_pem, &key_pem);
    let server = palisade_feed_server::start(tls_config(dir.path(), true, &cert, &key))
        .await
        .unwrap();
    let c = client(server.addr, &[&ca]);
    let url = format!("https://localhost:{}", server.addr.port());
    let body = labeled_payload();
    let r = c
        .post(format!("{url}/webhooks/github"))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", "tls-1")
        .header(
            "X-Hub-Signature-256",
            palisade_feed_server::webhook::sign(SECRET, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let feed: serde_json::Value = c
        .get(format!("{url}/feed.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&feed)[0], NEW_CVE);
    // Plain HTTP to the TLS port is told so (as Go's servers answer), not served.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = plain
        .get(format!("http://{}/healthz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Client sent an HTTP request to an HTTPS server")
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_while_requests_flow() {
    let (ca_a, cert_a, key_a) = pki();
    let (ca_b, cert_b, key_b) = pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &cert_a, &key_a);
    let mut c = tls_config(dir.path(), true, &cert, &key);
    c.cert_reload_interval = Some(Duration::from_millis(50));
    let server = palisade_feed_server::start(c).await.unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
    let murl = format!("http://{}", server.metrics_addr.unwrap());
    let (only_a, only_b) = (client(server.addr, &[&ca_a]), client(server.addr, &[&ca_b]));
    assert!(served(&only_a, &url).await);
    assert!(!served(&only_b, &url).await);

    // A client trusting both CAs fetches the feed over new connections the whole time.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let flow = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let both = client(server.addr, &[&ca_a, &ca_b]);
        let url = url.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = both.get(format!("{url}/feed.json")).send().await;
                let good = match r {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok_and(|b| b.len() > 1000),
                    _ => false,
                };
                if good { &ok } else { &failed }.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The key first: for a moment the pair does not match, and the old one must keep serving.
    replace(&key, key_b.as_bytes());
    wait_metric(&only_a, &murl, &format!("{RELOAD_ERROR} 1\n")).await;
    assert!(
        served(&only_a, &url).await,
        "a mismatched pair must not replace the serving certificate"
    );
    replace(&cert, cert_b.as_bytes());
    let t = Instant::now();
    while !served(&only_b, &url).await {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the rotated certificate is never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!served(&only_a, &url).await, "the old certificate is gone");
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    flow.await.unwrap();
    assert!(ok.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no request failed during rotation"
    );

    // A broken certificate file, then a missing key: each counted once, and the rotated pair
    // keeps serving.
    replace(&cert, b"not a certificate");
    wait_metric(&only_b, &murl, &format!("{RELOAD_ERROR} 2\n")).await;
    std::fs::remove_file(&key).unwrap();
    wait_metric(&only_b, &murl, &format!("{RELOAD_ERROR} 3\n")).await;
    // Some more ticks: an unreadable file is not counted again on every one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(served(&only_b, &url).await);
    let m = wait_metric(&only_b, &murl, &format!("{RELOAD_ERROR} 3\n")).await;
    assert!(m.contains(&format!("{RELOAD_OK} 1\n")), "{m}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn startup_with_a_bad_pair_names_the_file() {
    let (_, cert_a, _) = pki();
    let (_, _, key_b) = pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &cert_a, &key_b);
    let start = |cert: &Path, key: &Path| {
        palisade_feed_server::start(tls_config(dir.path(), false, cert, key))
    };
    let e = start(&cert, &key).await.unwrap_err().to_string();
    assert!(e.contains("do not fit together"), "{e}");
    let e = start(&dir.path().join("missing.crt"), &key)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.crt"), "{e}");
    let e = start(&key, &key).await.unwrap_err().to_string();
    assert!(e.contains("no certificate found"), "{e}");
}
