//! Cluster state from the API server: a small list+watch reflector for Namespaces and Pods
//! (what PSA's webhook reads through informers). Each resource is listed (paged), then
//! watched from the list's resourceVersion with bookmarks; a closed watch resumes from the
//! last version seen, `410 Gone` relists, other failures back off (1 s doubling to 30 s)
//! and relist. Lookups keep answering from the last good state while disconnected;
//! `/readyz` stays 503 until both resources have been listed once.
//!
//! Requests go through palisade-kube (kube-rs underneath), so credentials are whatever
//! kubectl accepts: exec plugins (EKS, GKE, AKS), OIDC, client certificates, tokens and
//! token files, proxies. They are found the way controller-runtime finds them
//! ([`ApiClient::discover`]): `--kubeconfig`, `$KUBECONFIG`, the in-cluster service account,
//! then `~/.kube/config`. The reflector itself stays a plain loop over raw JSON rather than
//! `kube::runtime`: it needs two read-only watches of slimmed objects, no typed structs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http_body_util::BodyExt;
use palisade_kube::{Cluster, KubeError, KubeOptions};
use serde_json::Value;

use crate::state::{ClusterState, LookupError, Namespace, labels_of};

/// Longest watch event line accepted (a Pod is limited to ~1.5 MiB by etcd).
const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;
/// Largest list page accepted (500 pods).
const MAX_PAGE_BYTES: usize = 512 * 1024 * 1024;
/// Bound on connecting, exec plugins and each list page; watches themselves are unbounded.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the API server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{0}; or pass --objects to run without a cluster")]
    NotInCluster(#[source] KubeError),
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error("API server URL {0:?} is not http(s)://host[:port][/path]")]
    Url(String),
    #[error("cluster CA: {0}")]
    Ca(String),
    #[error("cannot read the cluster configuration: {0}")]
    Runtime(String),
    #[error("unexpected API response for {path}: {reason}")]
    Decode { path: String, reason: String },
    /// The watch's resourceVersion is too old: relist.
    #[error("watch expired (410 Gone)")]
    Gone,
}

enum Source {
    Options(KubeOptions),
    Config(Box<kube::Config>),
}

/// How to reach the API server; the client itself is built on the server's runtime
/// ([`ApiClient::connect`]), where exec plugins run.
pub struct ApiClient {
    source: Source,
    description: String,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// Finds credentials as controller-runtime's `GetConfig` does: `explicit` (the
    /// `--kubeconfig` flag), then `$KUBECONFIG`, then the in-cluster service account, then
    /// `~/.kube/config`. Reads and checks the configuration (not the server); returns the
    /// client and where its credentials came from.
    pub fn discover(explicit: Option<&Path>) -> Result<(ApiClient, String), WatchError> {
        let opts = KubeOptions {
            kubeconfig: explicit.map(Path::to_path_buf),
            context: None,
            request_timeout: REQUEST_TIMEOUT,
        };
        // kube's loader is async but only reads files; a throwaway runtime on its own
        // thread runs it, so this works inside or outside a runtime, and the caller can
        // report a bad kubeconfig before starting the server.
        let located = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .build()
                        .map(|rt| rt.block_on(palisade_kube::locate(&opts)))
                })
                .join()
        });
        let origin = match located {
            Ok(Ok(found)) => found.map_err(|e| match e {
                KubeError::NoConfig => WatchError::NotInCluster(e),
                e => WatchError::Kube(e),
            })?,
            Ok(Err(e)) => return Err(WatchError::Runtime(e.to_string())),
            Err(_) => return Err(WatchError::Runtime("the kubeconfig reader stopped".into())),
        };
        Ok((
            ApiClient {
                source: Source::Options(opts),
                description: origin.description.clone(),
            },
            origin.description,
        ))
    }

    /// A client for `base` (`https://host:port[/path]`, or `http://` for tests), trusting
    /// `ca_pem`, with an optional bearer token.
    pub fn new(
        base: &str,
        ca_pem: Option<&[u8]>,
        token: Option<String>,
    ) -> Result<ApiClient, WatchError> {
        let url = || WatchError::Url(base.to_owned());
        let uri: http::Uri = base.parse().map_err(|_| url())?;
        // `http::Uri` accepts any text after the last colon; the port must be a number.
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
        let bad_port = authority
            .rsplit_once(':')
            .filter(|(_, p)| !p.contains(']'))
            .is_some_and(|(_, p)| p.parse::<u16>().is_err());
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() || bad_port {
            return Err(url());
        }
        let mut config = kube::Config::new(uri);
        if let Some(pem) = ca_pem {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
                .map(|c| c.map(|c| c.to_vec()))
                .collect::<Result<_, _>>()
                .map_err(|e| WatchError::Ca(e.to_string()))?;
            if certs.is_empty() {
                return Err(WatchError::Ca("no PEM CERTIFICATE".into()));
            }
            config.root_cert = Some(certs);
        }
        config.auth_info.token = token.map(Into::into);
        config.connect_timeout = Some(REQUEST_TIMEOUT);
        config.read_timeout = None;
        Ok(ApiClient {
            description: base.to_owned(),
            source: Source::Config(Box::new(config)),
        })
    }

    /// Builds the client (running an exec plugin if the user has one).
    pub async fn connect(&self) -> Result<Cluster, WatchError> {
        let cluster = match &self.source {
            Source::Options(opts) => Cluster::build(opts).await?,
            Source::Config(config) => {
                Cluster::from_config((**config).clone(), &self.description, REQUEST_TIMEOUT).await?
            }
        };
        Ok(cluster)
    }
}

/// Aborts the task when dropped (when the task awaiting it is aborted).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    async fn wait(mut self) -> Result<(), tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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

    /// Starts both reflectors on the current tokio runtime; they run until aborted. The
    /// client is built first (retried with the same backoff if that fails).
    pub fn spawn(self: &Arc<Self>, client: Arc<ApiClient>) -> Vec<tokio::task::JoinHandle<()>> {
        let this = self.clone();
        vec![tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            let cluster = loop {
                match client.connect().await {
                    Ok(c) => break Arc::new(c),
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "cannot build the API client");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            };
            // Runs until the outer task is aborted; the inner tasks end with it.
            let guards: Vec<AbortOnDrop> = this
                .spawn_cluster(cluster)
                .into_iter()
                .map(AbortOnDrop)
                .collect();
            for g in guards {
                let _ = g.wait().await;
            }
        })]
    }

    /// Starts both reflectors over a built client.
    pub fn spawn_cluster(
        self: &Arc<Self>,
        cluster: Arc<Cluster>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        [Resource::Namespaces, Resource::Pods]
            .into_iter()
            .map(|r| tokio::spawn(self.clone().reflect(cluster.clone(), r)))
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
    async fn list(&self, client: &Cluster, r: Resource) -> Result<String, WatchError> {
        let mut items: Vec<Value> = Vec::new();
        let mut cont = String::new();
        let version = loop {
            let mut path = format!("{}?limit=500", r.path());
            if !cont.is_empty() {
                path.push_str("&continue=");
                path.push_str(&cont);
            }
            let decode = |reason: String| WatchError::Decode {
                path: path.clone(),
                reason,
            };
            let mut list: Value = client.get_json(&path, MAX_PAGE_BYTES).await?;
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
        client: &Cluster,
        r: Resource,
        mut version: String,
    ) -> Result<(), WatchError> {
        loop {
            let path = format!(
                "{}?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion={version}",
                r.path()
            );
            let mut body = client.open_stream(&path).await?;
            let mut buf: Vec<u8> = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| WatchError::Decode {
                    path: path.clone(),
                    reason: format!("watch stream: {e}"),
                })?;
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
                    WatchError::Decode {
                        path: path.to_owned(),
                        reason: format!(
                            "watch error {code}: {}",
                            obj.get("message").and_then(Value::as_str).unwrap_or("")
                        ),
                    }
                });
            }
            _ => {}
        }
        Ok(meta_str(obj, "resourceVersion").map(str::to_owned))
    }

    async fn reflect(self: Arc<Self>, client: Arc<Cluster>, r: Resource) {
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
        assert!(ApiClient::new("http://127.0.0.1:8080/", None, None).is_ok());
        assert!(ApiClient::new("http://[fd00::1]:6443", None, None).is_ok());
        assert!(ApiClient::new("http://proxy:8080/k8s/clusters/c-1/", None, None).is_ok());
        assert!(ApiClient::new("https://k", Some(b"no pem"), None).is_err());
        assert!(ApiClient::new("ftp://x", None, None).is_err());
        assert!(ApiClient::new("http://x:notaport", None, None).is_err());
    }
}
