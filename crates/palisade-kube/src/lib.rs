//! The one place that talks to a Kubernetes API server. Configuration goes through kube-rs's
//! loader (kubeconfig files and merging, contexts, exec credential plugins, OIDC refresh,
//! client certificates, proxies, in-cluster service accounts); requests are raw JSON so the
//! scanner gets `serde_json::Value` objects, never typed structs (see ARCHITECTURE.md).
//!
//! [`connect`] builds a client for one context and proves it with `GET /version` within the
//! request timeout; [`Cluster::list`] lists kinds read-only, paged, a few at a time;
//! [`Cluster::versions`] reads the control plane's and the nodes' versions. Every error names
//! the context it happened in.

mod error;
mod list;
mod load;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::PathBuf;
use std::time::Duration;

pub use error::KubeError;
pub use list::{KINDS, Kind, ListOptions, ListSummary, Note, Page, Scope};
pub use load::Origin;

/// Runs `work` to completion on a runtime of its own, for callers without one (the CLI):
/// `block_on(async { connect(&opts).await?.versions().await })`. Multi-threaded with one
/// worker, so I/O progresses while the calling thread handles pages.
pub fn block_on<F: std::future::Future>(work: F) -> Result<F::Output, KubeError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| KubeError::Config {
            source_desc: "the client runtime".into(),
            reason: e.to_string(),
        })?;
    let out = rt.block_on(work);
    // A hung exec plugin's thread is detached; nothing else may hold the exit.
    rt.shutdown_background();
    Ok(out)
}

/// Finds the configuration `opts` selects and describes it, without building a client or
/// running an exec plugin (a check before a server starts).
pub async fn locate(opts: &KubeOptions) -> Result<Origin, KubeError> {
    load::load(opts).await.map(|(_, origin)| origin)
}

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    /// `--kubeconfig`; otherwise `$KUBECONFIG`, the in-cluster service account, then
    /// `~/.kube/config` (controller-runtime's order).
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; otherwise the kubeconfig's `current-context`.
    pub context: Option<String>,
    /// Bound on connecting, on running an exec plugin, and on each request (one list page).
    pub request_timeout: Duration,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            kubeconfig: None,
            context: None,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A client for one context, built once (exec plugins run when it is built) and reused.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    origin: Origin,
    timeout: Duration,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("origin", &self.origin)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds the client for `opts` and checks that the server answers `GET /version` with
/// these credentials, all within `opts.request_timeout`.
pub async fn connect(opts: &KubeOptions) -> Result<Cluster, KubeError> {
    let cluster = Cluster::build(opts).await?;
    cluster.server_version().await?;
    Ok(cluster)
}

/// The control plane's version and each node's kubelet and kube-proxy versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// `gitVersion` from `/version`, e.g. `v1.34.1`.
    pub server: String,
    pub nodes: Vec<NodeVersions>,
    /// Why node versions are missing or partial (e.g. no permission to list nodes).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVersions {
    pub name: String,
    /// `status.nodeInfo.kubeletVersion`.
    pub kubelet: Option<String>,
    /// `status.nodeInfo.kubeProxyVersion` (deprecated upstream; often empty since 1.31).
    pub kube_proxy: Option<String>,
    /// `status.nodeInfo.operatingSystem` (`linux`, `windows`).
    pub os: Option<String>,
}

impl Cluster {
    /// Builds the client without contacting the server (admit starts before the API server
    /// may be reachable and retries). Exec plugins run here, bounded by the request timeout.
    pub async fn build(opts: &KubeOptions) -> Result<Cluster, KubeError> {
        let (mut config, origin) = load::load(opts).await?;
        config.connect_timeout = Some(opts.request_timeout);
        // Reads are bounded per request by the caller (lists) or not at all (watches).
        config.read_timeout = None;
        let client = load::client(config, &origin, opts.request_timeout).await?;
        Ok(Cluster {
            client,
            origin,
            timeout: opts.request_timeout,
        })
    }

    /// A client from a configuration the caller built (a URL and token in tests, say);
    /// `context` names it in errors.
    pub async fn from_config(
        config: kube::Config,
        context: &str,
        request_timeout: Duration,
    ) -> Result<Cluster, KubeError> {
        let origin = Origin {
            context: context.to_owned(),
            server: config.cluster_url.to_string(),
            description: format!("{} ({})", context, config.cluster_url),
            exec: None,
        };
        let client = load::client(config, &origin, request_timeout).await?;
        Ok(Cluster {
            client,
            origin,
            timeout: request_timeout,
        })
    }

    /// One GET of `path` (with its query) as JSON, bounded by the request timeout and
    /// `max_bytes`.
    pub async fn get_json(
        &self,
        path: &str,
        max_bytes: usize,
    ) -> Result<serde_json::Value, KubeError> {
        list::get(self, path, "application/json", max_bytes).await
    }

    /// Opens a long-lived GET (a watch): connecting and the response head are bounded by the
    /// request timeout, the body is not. Non-2xx answers are errors carrying the status.
    pub async fn open_stream(&self, path: &str) -> Result<kube::client::Body, KubeError> {
        list::open(self, path).await
    }

    /// Which context, server and file this client uses.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The context's name (`in-cluster` for the service account).
    pub fn context(&self) -> &str {
        &self.origin.context
    }

    /// The underlying kube-rs client, for watches (admit).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET /version` -> `gitVersion`.
    pub async fn server_version(&self) -> Result<String, KubeError> {
        let v = list::get_json(self, "/version").await?;
        v.get("gitVersion")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| KubeError::Decode {
                context: self.origin.context.clone(),
                path: "/version".into(),
                reason: "no gitVersion".into(),
            })
    }

    /// The control plane's version and every node's kubelet and kube-proxy versions. A 403
    /// on nodes is a note, not an error: the control plane's version still answers.
    pub async fn versions(&self) -> Result<Versions, KubeError> {
        let server = self.server_version().await?;
        let mut nodes = Vec::new();
        let summary = self
            .list(
                &[&list::NODES],
                &Scope::All,
                &ListOptions::default(),
                |page| {
                    for node in &page.items {
                        nodes.push(node_versions(node));
                    }
                },
            )
            .await?;
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Versions {
            server,
            nodes,
            notes: summary.notes.into_iter().map(|n| n.message).collect(),
        })
    }
}

fn node_versions(node: &serde_json::Value) -> NodeVersions {
    let s = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let info = node.get("status").and_then(|s| s.get("nodeInfo"));
    NodeVersions {
        name: s(node.get("metadata").and_then(|m| m.get("name"))).unwrap_or_default(),
        kubelet: s(info.and_then(|i| i.get("kubeletVersion"))),
        kube_proxy: s(info.and_then(|i| i.get("kubeProxyVersion"))),
        os: s(info.and_then(|i| i.get("operatingSystem"))),
    }
}
