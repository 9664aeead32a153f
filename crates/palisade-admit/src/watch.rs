//! Cluster state from the API server: a small list+watch reflector for Namespaces and Pods
//! (what PSA's webhook reads through informers). Each resource is listed (paged), then
//! watched from the list's resourceVersion with bookmarks; a closed watch resumes from the
//! last version seen, `410 Gone` relists, other failures back off (1 s doubling to 30 s)
//! and relist. Lookups keep answering from the last good state while disconnected;
//! `/readyz` stays 503 until both resources have been listed once.
//!
//! Built on the hyper/rustls stack the server already uses rather than kube-rs: the
//! webhook needs two read-only watches, and `kube` + `k8s-openapi` would roughly double
//! this crate's compile time on the project's 2-core CI. Credentials are found the way
//! controller-runtime finds them ([`ApiClient::discover`]): `--kubeconfig`, `$KUBECONFIG`,
//! the in-cluster service account (token re-read on every request since bound tokens
//! rotate), then `~/.kube/config` ([`crate::kubeconfig`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;

use crate::state::{ClusterState, LookupError, Namespace, labels_of};

const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Longest watch event line accepted (a Pod is limited to ~1.5 MiB by etcd).
const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Why the API server could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error(
        "not running in a cluster ({0}) and no kubeconfig found ($KUBECONFIG unset, no ~/.kube/config); pass --kubeconfig FILE, or --objects to run without a cluster"
    )]
    NotInCluster(String),
    #[error("{0}")]
    Kubeconfig(#[from] crate::kubeconfig::KubeconfigError),
    #[error("kubeconfig credentials: {0}")]
    Credentials(String),
    #[error("API server URL {0:?} is not http(s)://host[:port]")]
    Url(String),
    #[error("cannot reach the API server: {0}")]
    Connect(String),
    #[error("API server answered {status} for {path}: {body}")]
    Status {
        status: u16,
        path: String,
        body: String,
    },
    #[error("unexpected API response for {path}: {reason}")]
    Decode { path: String, reason: String },
    /// The watch's resourceVersion is too old: relist.
    #[error("watch expired (410 Gone)")]
    Gone,
}

/// A read-only API client: bearer token, TLS verified against the cluster CA.
pub struct ApiClient {
    host: String,
    port: u16,
    /// Path prefix of the server URL (e.g. `/k8s/clusters/c-1` behind a proxy), no trailing `/`.
    base_path: String,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    token: Token,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("base_path", &self.base_path)
            .finish_non_exhaustive()
    }
}

enum Token {
    None,
    Fixed(String),
    File(PathBuf),
}

/// How to verify the server and prove who we are.
#[derive(Default)]
struct TlsOptions<'a> {
    ca_pem: Option<&'a [u8]>,
    server_name: Option<&'a str>,
    /// PEM certificate chain and PEM private key.
    client_cert: Option<(&'a [u8], &'a [u8])>,
}

impl ApiClient {
    /// The in-cluster client: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's CA
    /// and token.
    pub fn in_cluster() -> Result<ApiClient, WatchError> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST")
            .map_err(|_| WatchError::NotInCluster("KUBERNETES_SERVICE_HOST is not set".into()))?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let ca_path = PathBuf::from(SA_DIR).join("ca.crt");
        let ca = std::fs::read(&ca_path)
            .map_err(|e| WatchError::NotInCluster(format!("{}: {e}", ca_path.display())))?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let mut c = ApiClient::new(&format!("https://{host}:{port}"), Some(&ca), None)?;
        c.token = Token::File(PathBuf::from(SA_DIR).join("token"));
        Ok(c)
    }

    /// Finds credentials as controller-runtime's `GetConfig` does: `explicit` (the
    /// `--kubeconfig` flag), then `$KUBECONFIG`, then the in-cluster service account, then
    /// `~/.kube/config`. Returns the client and where its credentials came from.
    pub fn discover(explicit: Option<&std::path::Path>) -> Result<(ApiClient, String), WatchError> {
        let env = std::env::var("KUBECONFIG").ok();
        if let Some(files) = crate::kubeconfig::configured_files(explicit, env.as_deref()) {
            return ApiClient::from_kubeconfig(&files);
        }
        match ApiClient::in_cluster() {
            Ok(c) => Ok((c, "the in-cluster service account".to_owned())),
            Err(in_cluster) => {
                let home = std::env::var_os("HOME").map(PathBuf::from);
                match home.map(|h| h.join(".kube").join("config")) {
                    Some(p) if p.is_file() => ApiClient::from_kubeconfig(&[p]),
                    _ => Err(in_cluster),
                }
            }
        }
    }

    /// A client for the current context of the (merged) kubeconfig `files`.
    pub fn from_kubeconfig(files: &[PathBuf]) -> Result<(ApiClient, String), WatchError> {
        let access = crate::kubeconfig::load(files)?;
        let tls = TlsOptions {
            ca_pem: Some(&access.ca_pem),
            server_name: access.tls_server_name.as_deref(),
            client_cert: access
                .client_cert
                .as_ref()
                .map(|(c, k)| (c.as_slice(), k.as_slice())),
        };
        let mut client = ApiClient::build(&access.server, &tls)?;
        client.token = match access.token {
            None => Token::None,
            Some(crate::kubeconfig::TokenSource::Fixed(t)) => Token::Fixed(t),
            Some(crate::kubeconfig::TokenSource::File(p)) => Token::File(p),
        };
        Ok((client, access.description))
    }

    /// A client for `base` (`https://host:port`, or `http://` for tests), trusting `ca_pem`.
    pub fn new(
        base: &str,
        ca_pem: Option<&[u8]>,
        token: Option<String>,
    ) -> Result<ApiClient, WatchError> {
        let tls = TlsOptions {
            ca_pem,
            ..TlsOptions::default()
        };
        let mut client = ApiClient::build(base, &tls)?;
        client.token = token.map_or(Token::None, Token::Fixed);
        Ok(client)
    }

    fn build(base: &str, opts: &TlsOptions<'_>) -> Result<ApiClient, WatchError> {
        let url = || WatchError::Url(base.to_owned());
        let (tls, rest) = match base.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            _ => return Err(url()),
        };
        let rest = rest.trim_end_matches('/');
        let (rest, base_path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if base_path.contains(['?', '#']) {
            return Err(url());
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => {
                (h, p.parse::<u16>().map_err(|_| url())?)
            }
            _ => (rest, if tls { 443 } else { 80 }),
        };
        if host.is_empty() || host.contains('/') {
            return Err(url());
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = if tls {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(opts.ca_pem.unwrap_or_default()).flatten() {
                roots
                    .add(cert)
                    .map_err(|e| WatchError::Connect(format!("cluster CA: {e}")))?;
            }
            if roots.is_empty() {
                return Err(WatchError::Credentials(
                    "the cluster CA has no PEM CERTIFICATE".into(),
                ));
            }
            let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| WatchError::Connect(e.to_string()))?
            .with_root_certificates(roots);
            let config = match opts.client_cert {
                None => builder.with_no_client_auth(),
                Some((cert, key)) => {
                    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                        .filter_map(Result::ok)
                        .collect();
                    if chain.is_empty() {
                        return Err(WatchError::Credentials(
                            "the client certificate has no PEM CERTIFICATE".into(),
                        ));
                    }
                    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                        WatchError::Credentials(format!(
                            "the client key is not a PEM private key: {e}"
                        ))
                    })?;
                    builder.with_client_auth_cert(chain, key).map_err(|e| {
                        WatchError::Credentials(format!("client certificate and key: {e}"))
                    })?
                }
            };
            let name = opts.server_name.map_or_else(|| host.clone(), str::to_owned);
            let name = ServerName::try_from(name).map_err(|_| url())?;
            Some((Arc::new(config), name))
        } else {
            None
        };
        Ok(ApiClient {
            host,
            port,
            base_path: base_path.to_owned(),
            tls,
            token: Token::None,
        })
    }

    async fn get(&self, path: &str) -> Result<hyper::Response<Incoming>, WatchError> {
        let connect = |e: std::io::Error| WatchError::Connect(e.to_string());
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(connect)?;
        let _ = tcp.set_nodelay(true);
        let token = match &self.token {
            Token::None => None,
            Token::Fixed(t) => Some(t.clone()),
            Token::File(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| {
                        WatchError::Credentials(format!("token file {}: {e}", p.display()))
                    })?
                    .trim()
                    .to_owned(),
            ),
        };
        let mut req = hyper::Request::get(format!("{}{path}", self.base_path))
            .header(hyper::header::HOST, self.host.as_str())
            .header(hyper::header::ACCEPT, "application/json");
        if let Some(t) = token {
            req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(|e| WatchError::Connect(e.to_string()))?;
        let http = |e: hyper::Error| WatchError::Connect(e.to_string());
        let resp = match &self.tls {
            Some((config, name)) => {
                let stream = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(connect)?;
                let (mut send, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .map_err(http)?;
                tokio::spawn(conn);
                send.send_request(req).await.map_err(http)?
            }
            None => {
                let (mut send, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                        .await
                        .map_err(http)?;
                tokio::spawn(conn);
                send.send_request(req).await.map_err(http)?
            }
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body = read_limited(resp.into_body(), 4096)
            .await
            .unwrap_or_default();
        Err(WatchError::Status {
            status,
            path: path.to_owned(),
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

async fn read_limited(mut body: Incoming, max: usize) -> Result<Vec<u8>, WatchError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| WatchError::Connect(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err(WatchError::Decode {
                    path: String::new(),
                    reason: format!("response larger than {max} bytes"),
                });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The two resources watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Namespaces,
    Pods,
}

impl Resource {
    fn path(self) -> &'static str {
        match self {
            Resource::Namespaces => "/api/v1/namespaces",
            Resource::Pods => "/api/v1/pods",
        }
    }
}

/// Namespaces and pods as last seen from the API server.
#[derive(Debug, Default)]
pub struct ClusterWatch {
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    /// namespace -> pod name -> pod (metadata and spec only)
    pods: RwLock<HashMap<String, BTreeMap<String, Arc<Value>>>>,
    namespaces_synced: AtomicBool,
    pods_synced: AtomicBool,
}

impl ClusterState for ClusterWatch {
    fn namespace(&self, name: &str) -> Result<Arc<Namespace>, LookupError> {
        let map = self
            .namespaces
            .read()
            .map_err(|_| LookupError::Unavailable("namespace cache poisoned".into()))?;
        map.get(name).cloned().ok_or_else(|| LookupError::NotFound {
            name: name.to_owned(),
        })
    }

    fn pods(&self, namespace: &str) -> Result<Vec<Arc<Value>>, LookupError> {
        let map = self
            .pods
            .read()
            .map_err(|_| LookupError::Unavailable("pod cache poisoned".into()))?;
        Ok(map
            .get(namespace)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    fn ready(&self) -> bool {
        self.namespaces_synced.load(Ordering::SeqCst) && self.pods_synced.load(Ordering::SeqCst)
    }
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(key)?.as_str()
}

/// What the relabel check needs of a pod; status and managedFields are dropped.
fn slim_pod(obj: &Value) -> Value {
    let mut meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    if let Some(m) = meta.as_object_mut() {
        m.remove("managedFields");
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": obj.get("spec").cloned().unwrap_or(Value::Null),
    })
}

impl ClusterWatch {
    pub fn new() -> Arc<ClusterWatch> {
        Arc::new(ClusterWatch::default())
    }

    /// Starts both reflectors on the current tokio runtime; they run until aborted.
    pub fn spawn(self: &Arc<Self>, client: Arc<ApiClient>) -> Vec<tokio::task::JoinHandle<()>> {
        [Resource::Namespaces, Resource::Pods]
            .into_iter()
            .map(|r| tokio::spawn(self.clone().reflect(client.clone(), r)))
            .collect()
    }

    fn synced(&self, r: Resource) -> &AtomicBool {
        match r {
            Resource::Namespaces => &self.namespaces_synced,
            Resource::Pods => &self.pods_synced,
        }
    }

    fn apply(&self, r: Resource, event: &str, obj: &Value) {
        let Some(name) = meta_str(obj, "name") else {
            return;
        };
        match r {
            Resource::Namespaces => {
                let Ok(mut map) = self.namespaces.write() else {
                    return;
                };
                if event == "DELETED" {
                    map.remove(name);
                } else {
                    let labels = labels_of(obj).unwrap_or_default();
                    map.insert(
                        name.to_owned(),
                        Arc::new(Namespace {
                            name: name.to_owned(),
                            labels,
                        }),
                    );
                }
            }
            Resource::Pods => {
                let ns = meta_str(obj, "namespace").unwrap_or("default").to_owned();
                let Ok(mut map) = self.pods.write() else {
                    return;
                };
                if event == "DELETED" {
                    if let Some(m) = map.get_mut(&ns) {
                        m.remove(name);
                    }
                } else {
                    map.entry(ns)
                        .or_default()
                        .insert(name.to_owned(), Arc::new(slim_pod(obj)));
                }
            }
        }
    }

    /// Lists every page and replaces the store; returns the list's resourceVersion.
    async fn list(&self, client: &ApiClient, r: Resource) -> Result<String, WatchError> {
        let mut items: Vec<Value> = Vec::new();
        let mut cont = String::new();
        let version = loop {
            let mut path = format!("{}?limit=500", r.path());
            if !cont.is_empty() {
                path.push_str("&continue=");
                path.push_str(&cont);
            }
            let body =
                read_limited(client.get(&path).await?.into_body(), 512 * 1024 * 1024).await?;
            let decode = |reason: String| WatchError::Decode {
                path: path.clone(),
                reason,
            };
            let mut list: Value =
                serde_json::from_slice(&body).map_err(|e| decode(e.to_string()))?;
            match list.get_mut("items").map(Value::take) {
                Some(Value::Array(page)) => items.extend(page),
                Some(Value::Null) | None => {}
                Some(_) => return Err(decode("items is not an array".into())),
            }
            let meta = list.get("metadata");
            let next = meta
                .and_then(|m| m.get("continue"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if next.is_empty() {
                break meta
                    .and_then(|m| m.get("resourceVersion"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
            }
            cont = next.to_owned();
        };
        match r {
            Resource::Namespaces => {
                let mut fresh = HashMap::new();
                for obj in &items {
                    if let Some(name) = meta_str(obj, "name") {
                        fresh.insert(
                            name.to_owned(),
                            Arc::new(Namespace {
                                name: name.to_owned(),
                                labels: labels_of(obj).unwrap_or_default(),
                            }),
                        );
                    }
                }
                if let Ok(mut map) = self.namespaces.write() {
                    *map = fresh;
                }
            }
            Resource::Pods => {
                let mut fresh: HashMap<String, BTreeMap<String, Arc<Value>>> = HashMap::new();
                for obj in &items {
                    if let Some(name) = meta_str(obj, "name") {
                        let ns = meta_str(obj, "namespace").unwrap_or("default");
                        fresh
                            .entry(ns.to_owned())
                            .or_default()
                            .insert(name.to_owned(), Arc::new(slim_pod(obj)));
                    }
                }
                if let Ok(mut map) = self.pods.write() {
                    *map = fresh;
                }
            }
        }
        self.synced(r).store(true, Ordering::SeqCst);
        Ok(version)
    }

    /// Watches from `version` until the server says it is too old (`Gone`) or fails;
    /// a watch the server closes normally is reopened from the last version seen.
    async fn watch_from(
        &self,
        client: &ApiClient,
        r: Resource,
        mut version: String,
    ) -> Result<(), WatchError> {
        loop {
            let path = format!(
                "{}?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion={version}",
                r.path()
            );
            let mut body = client.get(&path).await?.into_body();
            let mut buf: Vec<u8> = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| WatchError::Connect(e.to_string()))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buf.extend_from_slice(&data);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    if let Some(v) = self.event(r, &line, &path)? {
                        version = v;
                    }
                }
                if buf.len() > MAX_EVENT_BYTES {
                    return Err(WatchError::Decode {
                        path,
                        reason: format!("watch event larger than {MAX_EVENT_BYTES} bytes"),
                    });
                }
            }
            if let Some(v) = self.event(r, &buf, &path)? {
                version = v;
            }
        }
    }

    /// Applies one watch event line; returns the resourceVersion it carries.
    fn event(&self, r: Resource, line: &[u8], path: &str) -> Result<Option<String>, WatchError> {
        let text = line.trim_ascii();
        if text.is_empty() {
            return Ok(None);
        }
        let ev: Value = serde_json::from_slice(text).map_err(|e| WatchError::Decode {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let kind = ev.get("type").and_then(Value::as_str).unwrap_or("");
        let obj = ev.get("object").unwrap_or(&Value::Null);
        match kind {
            "ADDED" | "MODIFIED" | "DELETED" => self.apply(r, kind, obj),
            "BOOKMARK" => {}
            "ERROR" => {
                let code = obj.get("code").and_then(Value::as_u64).unwrap_or(0);
                return Err(if code == 410 {
                    WatchError::Gone
                } else {
                    WatchError::Status {
                        status: u16::try_from(code).unwrap_or(0),
                        path: path.to_owned(),
                        body: obj
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    }
                });
            }
            _ => {}
        }
        Ok(meta_str(obj, "resourceVersion").map(str::to_owned))
    }

    async fn reflect(self: Arc<Self>, client: Arc<ApiClient>, r: Resource) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let result = match self.list(&client, r).await {
                Ok(version) => {
                    backoff = Duration::from_secs(1);
                    self.watch_from(&client, r, version).await
                }
                Err(e) => Err(e),
            };
            match result {
                Err(WatchError::Gone) => {
                    tracing::debug!(resource = r.path(), "watch expired; relisting");
                }
                Err(e) => {
                    tracing::warn!(resource = r.path(), error = %e, retry_in = ?backoff, "watch failed; serving the last state seen");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Ok(()) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls() {
        let c = ApiClient::new("http://127.0.0.1:8080/", None, None).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        let c = ApiClient::new("http://[fd00::1]:6443", None, None).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("fd00::1", 6443));
        let c = ApiClient::new("http://kubernetes.default.svc", None, None).unwrap();
        assert_eq!(c.port, 80);
        let c = ApiClient::new("http://proxy:8080/k8s/clusters/c-1/", None, None).unwrap();
        assert_eq!(
            (c.host.as_str(), c.base_path.as_str()),
            ("proxy", "/k8s/clusters/c-1")
        );
        assert!(ApiClient::new("https://k", Some(b"no pem"), None).is_err());
        assert!(ApiClient::new("ftp://x", None, None).is_err());
        assert!(ApiClient::new("http://x:notaport", None, None).is_err());
    }
}
