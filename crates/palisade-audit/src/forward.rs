//! HTTP forward output: each alert is POSTed as one JSON object (`Content-Type:
//! application/json`), as Falco's `http_output` does, so falcosidekick and other Falco
//! receivers accept it. A background thread does the I/O; detection never waits for it.
//!
//! Drop policy (docs/audit.md): alerts wait in a bounded queue (`queue` alerts). When the
//! queue is full because the receiver is slow or down, the new alert is dropped and counted
//! in `dropped`; the alert is still written to the primary output. A POST that fails is
//! retried twice (after 100 ms, then 400 ms) and then counted in `failed`. At the end of a
//! run, queued alerts are sent for up to [`DRAIN_TIME`]; the rest are counted as dropped.
//! HTTPS uses rustls with the ring provider and the webpki roots, plus `ca` if given; plain
//! `http://` is accepted only for loopback receivers (a sidecar).

use crate::Alert;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Alerts held while the receiver is slow.
pub const DEFAULT_QUEUE: usize = 10_000;
const RETRY_DELAYS_MS: [u64; 2] = [100, 400];

/// Forwarding counters.
#[derive(Debug, Default)]
pub struct ForwardCounters {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
    /// Set when the run ends: alerts still queued after [`DRAIN_TIME`] are dropped.
    closing: std::sync::OnceLock<Instant>,
}

/// How long the end of a run waits for queued alerts to be sent.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Totals at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    pub sent: u64,
    pub dropped: u64,
    pub failed: u64,
}

/// The forward output could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error(
        "--forward {url}: {reason}; use https://, or http:// to a loopback address (127.0.0.1, ::1, localhost)"
    )]
    Url { url: String, reason: String },
    #[error("--forward-ca {path}: {message}")]
    Ca { path: String, message: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// A running forwarder.
pub struct Forwarder {
    tx: Option<SyncSender<String>>,
    counters: Arc<ForwardCounters>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("counters", &self.counters)
            .finish()
    }
}

fn check_url(url: &str) -> Result<reqwest::Url, ForwardError> {
    let bad = |reason: &str| ForwardError::Url {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let u = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" => {
            let host = u.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(u)
            } else {
                Err(bad(
                    "plain http:// to a non-loopback host would send alerts unencrypted",
                ))
            }
        }
        _ => Err(bad("scheme must be https or http")),
    }
}

impl Forwarder {
    /// Starts the forwarding thread. `ca` adds a PEM CA certificate to the trusted roots.
    pub fn start(
        url: &str,
        ca: Option<&Path>,
        queue: usize,
        timeout: Duration,
    ) -> Result<Forwarder, ForwardError> {
        let url = check_url(url)?;
        // Exactly one rustls crypto provider (ring); "already installed" is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")));
        if let Some(p) = ca {
            let ca_err = |message: String| ForwardError::Ca {
                path: p.display().to_string(),
                message,
            };
            let pem = std::fs::read(p).map_err(|e| ca_err(e.to_string()))?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| ForwardError::Client(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ForwardError::Client(e.to_string()))?;
        let (tx, rx) = mpsc::sync_channel::<String>(queue.max(1));
        let counters = Arc::new(ForwardCounters::default());
        let c = counters.clone();
        let thread = std::thread::spawn(move || {
            while let Ok(body) = rx.recv() {
                if c.closing.get().is_some_and(|t| t.elapsed() > DRAIN_TIME) {
                    c.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let ok = rt.block_on(post(&client, &url, body));
                let counter = if ok { &c.sent } else { &c.failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(Forwarder {
            tx: Some(tx),
            counters,
            thread: Some(thread),
        })
    }

    /// Queues an alert; drops (and counts) it if the queue is full.
    pub fn send(&self, alert: &Alert) {
        let Some(tx) = &self.tx else { return };
        let Ok(body) = serde_json::to_string(alert) else {
            return;
        };
        match tx.try_send(body) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The live counters.
    pub fn counters(&self) -> &ForwardCounters {
        &self.counters
    }

    /// Sends what is queued, stops the thread and returns the totals.
    pub fn finish(mut self) -> ForwardStats {
        let _ = self.counters.closing.set(Instant::now());
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        ForwardStats {
            sent: self.counters.sent.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Forwarder {
    /// Sends what is still queued before going away (e.g. when the server stops).
    fn drop(&mut self) {
        let _ = self.counters.closing.set(Instant::now());
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn post(client: &reqwest::Client, url: &reqwest::Url, body: String) -> bool {
    for attempt in 0..=RETRY_DELAYS_MS.len() {
        let r = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        if matches!(&r, Ok(resp) if resp.status().is_success()) {
            return true;
        }
        match RETRY_DELAYS_MS.get(attempt) {
            Some(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
            None => break,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, RuleSet};
    use axum::Router;
    use axum::routing::post;

    fn alerts(n: usize) -> Vec<Alert> {
        let engine = Engine::new(RuleSet::builtin().unwrap());
        let trace = include_str!(
            "../../../testdata/audit/falco-k8s-audit-traces/create_nginx_pod_privileged.json"
        );
        let mut out = Vec::new();
        for _ in 0..n {
            engine.scan(
                trace.as_bytes(),
                "t",
                1 << 20,
                |a| out.push(a.clone()),
                |_| {},
            );
        }
        out
    }

    /// A loopback HTTP receiver; `delay` holds each answer. Returns its URL and the bodies.
    fn receiver(delay: Duration) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let g = got.clone();
        let (atx, arx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new().route(
                    "/",
                    post(move |body: String| {
                        let g = g.clone();
                        async move {
                            tokio::time::sleep(delay).await;
                            g.lock().unwrap().push(body);
                            "ok"
                        }
                    }),
                );
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                atx.send(l.local_addr().unwrap()).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        let addr = arx.recv().unwrap();
        (format!("http://{addr}/"), got)
    }

    #[test]
    fn posts_each_alert_as_falco_json() {
        let (url, got) = receiver(Duration::ZERO);
        let f = Forwarder::start(&url, None, 16, Duration::from_secs(5)).unwrap();
        for a in alerts(3) {
            f.send(&a);
        }
        let st = f.finish();
        assert_eq!(
            st,
            ForwardStats {
                sent: 3,
                dropped: 0,
                failed: 0
            }
        );
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 3);
        for b in got.iter() {
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            assert_eq!(v["rule"], "Create Privileged Pod");
            for k in [
                "time",
                "priority",
                "output",
                "output_fields",
                "source",
                "tags",
            ] {
                assert!(v.get(k).is_some(), "{k} missing in {b}");
            }
        }
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let (url, got) = receiver(Duration::from_millis(200));
        let f = Forwarder::start(&url, None, 2, Duration::from_secs(5)).unwrap();
        for a in alerts(10) {
            f.send(&a);
        }
        let st = f.finish();
        assert_eq!(st.sent + st.dropped + st.failed, 10);
        assert!(st.dropped >= 7, "{st:?}");
        assert_eq!(got.lock().unwrap().len() as u64, st.sent);
    }

    #[test]
    fn unreachable_receiver_counts_failures() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let f = Forwarder::start(
            &format!("http://127.0.0.1:{port}/"),
            None,
            4,
            Duration::from_secs(1),
        )
        .unwrap();
        for a in alerts(1) {
            f.send(&a);
        }
        assert_eq!(f.finish().failed, 1);
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://example.com/x").is_ok());
        assert!(check_url("http://127.0.0.1:2801/").is_ok());
        assert!(check_url("http://localhost:2801/").is_ok());
        assert!(check_url("http://[::1]:2801/").is_ok());
        let e = check_url("http://example.com/").unwrap_err().to_string();
        assert!(e.contains("unencrypted") && e.contains("https://"), "{e}");
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("not a url").is_err());
        let e = Forwarder::start(
            "https://x/",
            Some(Path::new("/nonexistent/ca.pem")),
            1,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--forward-ca"), "{e}");
    }
}
