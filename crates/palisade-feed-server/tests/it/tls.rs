//! Certificate rotation on loopback TLS: the files are replaced while requests flow; new
//! handshakes get the new certificate, no request fails, and a bad pair keeps the old one.

use crate::{config, seed_pages};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A fresh CA and a `localhost` certificate signed by it: (CA PEM, cert PEM, key PEM).
fn pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_while_requests_flow() {
    let (ca_a, cert_a, key_a) = pki();
    let (ca_b, cert_b, key_b) = pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert, &cert_a).unwrap();
    std::fs::write(&key, &key_a).unwrap();
    let mut c = config(&dir.path().join("data"), false);
    c.inputs = vec![seed_pages()];
    c.tls = Some(palisade_feed_server::Tls {
        cert: cert.clone(),
        key: key.clone(),
    });
    c.cert_reload_interval = Some(Duration::from_millis(50));
    let server = palisade_feed_server::start(c).await.unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
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
    std::fs::write(&key, &key_b).unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        served(&only_a, &url).await,
        "a mismatched pair must not replace the serving certificate"
    );
    std::fs::write(&cert, &cert_b).unwrap();
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

    // A broken certificate file and a missing key are ignored; the rotated pair keeps serving.
    std::fs::write(&cert, b"not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    std::fs::remove_file(&key).unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(served(&only_b, &url).await);
    let metrics = only_b
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("palisade_feed_cert_reloads_total{result=\"ok\"} 1\n"),
        "{metrics}"
    );
    // The mismatched pair, the broken certificate, the missing key: each counted once.
    assert!(
        metrics.contains("palisade_feed_cert_reloads_total{result=\"error\"} 3\n"),
        "{metrics}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn startup_with_a_bad_pair_names_the_file() {
    let (_, cert_a, _) = pki();
    let (_, _, key_b) = pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert, &cert_a).unwrap();
    std::fs::write(&key, &key_b).unwrap();
    let start = |cert: &std::path::Path, key: &std::path::Path| {
        let mut c = config(&dir.path().join("data"), false);
        c.tls = Some(palisade_feed_server::Tls {
            cert: cert.to_owned(),
            key: key.to_owned(),
        });
        palisade_feed_server::start(c)
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
