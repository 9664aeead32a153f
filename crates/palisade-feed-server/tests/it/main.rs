//! In-process tests of the feed server on loopback: webhook to served outputs, rejected
//! deliveries, conditional GET, restart, resync against a loopback GitHub API, TLS, the page in
//! headless Chromium.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser;
mod e2e;
mod hardening;
mod page;
mod public_url;
mod resync;
mod tls;
mod webhook_input;

use palisade_feed_server::{Config, RunningServer, webhook};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub const SECRET: &[u8] = b"It's a Secret to Everybody";
pub const NEW_CVE: &str = "CVE-2023-3893";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The feed as of July 2023 (43 announcements), as GitHub search-API pages.
pub fn seed_pages() -> PathBuf {
    root().join("testdata/cve-feed/github-pages-2023")
}

/// A real-shaped `issues` `labeled` delivery announcing CVE-2023-3893 (not in the seed).
pub fn labeled_payload() -> Vec<u8> {
    std::fs::read(root().join("testdata/feed-server/issues-labeled.CVE-2023-3893.json")).unwrap()
}

/// The labeled payload edited: another action, issue number, CVE ID and update time.
pub fn variant(action: &str, number: u64, cve: &str, updated_at: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&labeled_payload()).unwrap();
    v["action"] = action.into();
    let issue = &mut v["issue"];
    issue["number"] = number.into();
    issue["html_url"] = format!("https://github.com/kubernetes/kubernetes/issues/{number}").into();
    let title = issue["title"].as_str().unwrap().replace(NEW_CVE, cve);
    issue["title"] = title.into();
    let body = issue["body"].as_str().unwrap().replace(NEW_CVE, cve);
    issue["body"] = body.into();
    issue["updated_at"] = updated_at.into();
    serde_json::to_vec(&v).unwrap()
}

pub struct Harness {
    pub server: RunningServer,
    pub base: String,
    pub client: reqwest::Client,
    pub dir: TempDir,
}

pub fn config(dir: &Path, seed: bool) -> Config {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut c = Config::new(dir.to_owned(), addr);
    if seed {
        c.inputs = vec![seed_pages()];
    }
    c.webhook_secret = Some(SECRET.to_vec());
    c.metrics_listen = Some(addr);
    c
}

pub async fn start_with(dir: TempDir, config: Config) -> Harness {
    let server = palisade_feed_server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    Harness {
        server,
        base,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        dir,
    }
}

pub async fn start(seed: bool) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path(), seed);
    start_with(dir, c).await
}

impl Harness {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// `GET /metrics` from the metrics listener (never served on the main one).
    pub async fn metrics(&self) -> Vec<u8> {
        let addr = self.server.metrics_addr.expect("metrics listener");
        let r = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET /metrics");
        r.bytes().await.unwrap().to_vec()
    }

    pub async fn bytes(&self, path: &str) -> Vec<u8> {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.bytes().await.unwrap().to_vec()
    }

    pub async fn feed(&self) -> Value {
        serde_json::from_slice(&self.bytes("/feed.json").await).unwrap()
    }

    /// POSTs a delivery; `sig: None` signs it with [`SECRET`].
    pub async fn post(
        &self,
        event: &str,
        delivery: &str,
        body: Vec<u8>,
        sig: Option<String>,
    ) -> reqwest::Response {
        let sig = sig.unwrap_or_else(|| webhook::sign(SECRET, &body));
        self.client
            .post(format!("{}/webhooks/github", self.base))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", sig)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Every output as served and as written to disk.
    pub async fn outputs(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let feed = self.feed().await;
        let mut paths: Vec<String> = [
            "/feed.json",
            "/docs/reference/issues-security/official-cve-feed/index.json",
            "/feed.xml",
            "/atom.xml",
            "/osv/all.zip",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for item in feed["items"].as_array().unwrap() {
            paths.push(format!("/osv/{}.json", item["id"].as_str().unwrap()));
        }
        for p in paths {
            let b = self.bytes(&p).await;
            out.insert(format!("served {p}"), b);
        }
        self.server.state.settle().await;
        let disk = self.dir.path().join("out");
        let mut stack = vec![disk.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(&disk).unwrap().display().to_string();
                    out.insert(format!("disk {rel}"), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }
}

pub fn ids(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}
