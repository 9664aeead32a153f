//! Read-only listing as JSON: paged with `limit`/`continue`, a bounded number of kinds at a
//! time, pages handed to the caller as they arrive (so a scanner checks and drops them).
//! Per-kind trouble is a note and the rest goes on: 403 (the missing verb named), 404 (not
//! served), 410 on a continue token (that kind listed again once, objects already handed
//! over skipped by uid). Failures that concern every kind (unreachable, 401, timeouts)
//! stop the whole list with an error.

use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::load::{chain, client_error, truncate};
use crate::{Cluster, KubeError};

/// A kind the lister knows: where it is served and how it is read.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Kind {
    /// API group, `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The resource name in URLs (and in RBAC rules).
    pub plural: &'static str,
    pub namespaced: bool,
    /// Listed as `PartialObjectMetadataList`: metadata only, never values (Secrets).
    pub metadata_only: bool,
}

impl Kind {
    /// `v1` or `group/version`, as objects carry it.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as `kubectl auth can-i` names resources.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn base(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection URL for `scope`.
    fn collection(&self, scope: &Scope) -> String {
        match scope {
            Scope::One(ns) if self.namespaced => {
                format!("{}/namespaces/{}/{}", self.base(), encode(ns), self.plural)
            }
            _ => format!("{}/{}", self.base(), self.plural),
        }
    }
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
        metadata_only: false,
    }
}

pub static POD: Kind = kind("", "v1", "Pod", "pods", true);
pub static DEPLOYMENT: Kind = kind("apps", "v1", "Deployment", "deployments", true);
pub static REPLICA_SET: Kind = kind("apps", "v1", "ReplicaSet", "replicasets", true);
pub static STATEFUL_SET: Kind = kind("apps", "v1", "StatefulSet", "statefulsets", true);
pub static DAEMON_SET: Kind = kind("apps", "v1", "DaemonSet", "daemonsets", true);
pub static JOB: Kind = kind("batch", "v1", "Job", "jobs", true);
pub static CRON_JOB: Kind = kind("batch", "v1", "CronJob", "cronjobs", true);
pub static REPLICATION_CONTROLLER: Kind = kind(
    "",
    "v1",
    "ReplicationController",
    "replicationcontrollers",
    true,
);
pub static SERVICE: Kind = kind("", "v1", "Service", "services", true);
pub static INGRESS: Kind = kind("networking.k8s.io", "v1", "Ingress", "ingresses", true);
pub static NAMESPACE: Kind = kind("", "v1", "Namespace", "namespaces", false);
pub static SERVICE_ACCOUNT: Kind = kind("", "v1", "ServiceAccount", "serviceaccounts", true);
pub static ROLE: Kind = kind("rbac.authorization.k8s.io", "v1", "Role", "roles", true);
pub static CLUSTER_ROLE: Kind = kind(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRole",
    "clusterroles",
    false,
);
pub static ROLE_BINDING: Kind = kind(
    "rbac.authorization.k8s.io",
    "v1",
    "RoleBinding",
    "rolebindings",
    true,
);
pub static CLUSTER_ROLE_BINDING: Kind = kind(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRoleBinding",
    "clusterrolebindings",
    false,
);
pub static NETWORK_POLICY: Kind = kind(
    "networking.k8s.io",
    "v1",
    "NetworkPolicy",
    "networkpolicies",
    true,
);
pub static CONFIG_MAP: Kind = kind("", "v1", "ConfigMap", "configmaps", true);
pub static SECRET: Kind = Kind {
    metadata_only: true,
    ..kind("", "v1", "Secret", "secrets", true)
};
pub(crate) static NODES: Kind = kind("", "v1", "Node", "nodes", false);

/// What a cluster scan lists: pods and every built-in workload kind, Services, Ingresses,
/// Namespaces (with their PSA labels), ServiceAccounts, RBAC, NetworkPolicies, ConfigMaps,
/// and Secrets by metadata only.
pub static KINDS: &[&Kind] = &[
    &NAMESPACE,
    &POD,
    &DEPLOYMENT,
    &REPLICA_SET,
    &STATEFUL_SET,
    &DAEMON_SET,
    &JOB,
    &CRON_JOB,
    &REPLICATION_CONTROLLER,
    &SERVICE,
    &INGRESS,
    &SERVICE_ACCOUNT,
    &ROLE,
    &CLUSTER_ROLE,
    &ROLE_BINDING,
    &CLUSTER_ROLE_BINDING,
    &NETWORK_POLICY,
    &CONFIG_MAP,
    &SECRET,
];

/// Which namespaces to list. With `One`, namespaced kinds are listed in that namespace,
/// the Namespace kind is that one namespace, and other cluster-scoped kinds (ClusterRoles,
/// ClusterRoleBindings) are listed whole, since RoleBindings refer to ClusterRoles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    One(String),
}

#[derive(Debug, Clone)]
pub struct ListOptions {
    /// `limit` per request (client-go and kube-runtime use 500).
    pub page_size: u32,
    /// Kinds listed at the same time.
    pub concurrency: usize,
    /// Largest response body accepted for one page.
    pub max_page_bytes: usize,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            page_size: 500,
            concurrency: 4,
            max_page_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One page of one kind. Every object carries `apiVersion` and `kind`; `managedFields` are
/// dropped; Secrets are metadata only.
#[derive(Debug)]
pub struct Page {
    pub kind: &'static Kind,
    pub items: Vec<Value>,
}

/// Something the user should know about a list that went on anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: Option<&'static Kind>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ListSummary {
    pub notes: Vec<Note>,
    /// Objects handed over per kind, in the order the kinds were given.
    pub counts: Vec<(&'static Kind, usize)>,
}

/// Percent-encodes a query or path value (continue tokens are base64 with `=`, `+`, `/`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/// One GET, bounded by the request timeout and `max` bytes; non-2xx answers become errors
/// carrying the status (401 as [`KubeError::Unauthorized`]).
pub(crate) async fn get(
    cluster: &Cluster,
    path: &str,
    accept: &str,
    max: usize,
) -> Result<Value, KubeError> {
    let origin = &cluster.origin;
    let req = http::Request::get(path)
        .header(http::header::ACCEPT, accept)
        .body(kube::client::Body::empty())
        .map_err(|e| KubeError::Decode {
            context: origin.context.clone(),
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let work = async {
        let resp = send(cluster, req).await?;
        let status = resp.status();
        let body = http_body_util::Limited::new(resp.into_body(), max)
            .collect()
            .await
            .map_err(|e| KubeError::Decode {
                context: origin.context.clone(),
                path: path.to_owned(),
                reason: if e.is::<http_body_util::LengthLimitError>() {
                    format!("response larger than {max} bytes (ListOptions::max_page_bytes; lower the page size)")
                } else {
                    chain(e.as_ref())
                },
            })?
            .to_bytes();
        Ok::<_, KubeError>((status, body))
    };
    let (status, body) = tokio::time::timeout(cluster.timeout, work)
        .await
        .map_err(|_| KubeError::Timeout {
            context: origin.context.clone(),
            what: format!("GET {path}"),
            after: cluster.timeout,
        })??;
    if !status.is_success() {
        return Err(status_error(cluster, path, status, &body));
    }
    serde_json::from_slice(&body).map_err(|e| KubeError::Decode {
        context: origin.context.clone(),
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

async fn send(
    cluster: &Cluster,
    req: http::Request<kube::client::Body>,
) -> Result<http::Response<kube::client::Body>, KubeError> {
    let origin = &cluster.origin;
    cluster
        .client
        .send(req)
        .await
        .map_err(|e| match client_error(e, origin) {
            // kube's connect timeout (TCP and TLS handshake) is the request timeout.
            KubeError::Unreachable { reason, .. } if reason.contains("deadline has elapsed") => {
                KubeError::Timeout {
                    context: origin.context.clone(),
                    what: format!("connecting to {}", origin.server),
                    after: cluster.timeout,
                }
            }
            other => other,
        })
}

fn status_error(cluster: &Cluster, path: &str, status: http::StatusCode, body: &[u8]) -> KubeError {
    let origin = &cluster.origin;
    // The API server answers with a Status object; proxies may not.
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| truncate(String::from_utf8_lossy(body).trim(), 500));
    if status.as_u16() == 401 {
        KubeError::Unauthorized {
            context: origin.context.clone(),
            server: origin.server.clone(),
            status: 401,
            path: path.to_owned(),
            message,
        }
    } else {
        KubeError::Api {
            context: origin.context.clone(),
            path: path.to_owned(),
            status: status.as_u16(),
            message,
        }
    }
}

/// A GET whose body is read by the caller as it comes (watches).
pub(crate) async fn open(cluster: &Cluster, path: &str) -> Result<kube::client::Body, KubeError> {
    let origin = &cluster.origin;
    let req = http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
        .map_err(|e| KubeError::Decode {
            context: origin.context.clone(),
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let resp = tokio::time::timeout(cluster.timeout, send(cluster, req))
        .await
        .map_err(|_| KubeError::Timeout {
            context: origin.context.clone(),
            what: format!("GET {path}"),
            after: cluster.timeout,
        })??;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp.into_body());
    }
    let body = tokio::time::timeout(
        cluster.timeout,
        http_body_util::Limited::new(resp.into_body(), 64 * 1024).collect(),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .map(|b| b.to_bytes())
    .unwrap_or_default();
    Err(status_error(cluster, path, status, &body))
}

pub(crate) async fn get_json(cluster: &Cluster, path: &str) -> Result<Value, KubeError> {
    get(cluster, path, "application/json", 16 * 1024 * 1024).await
}

/// Gives a list item its `apiVersion` and `kind` (list items carry neither), drops
/// `managedFields`, and for metadata-only kinds keeps nothing but the metadata, without
/// `kubectl.kubernetes.io/last-applied-configuration` (which holds a Secret's data).
fn finish(kind: &Kind, mut obj: Value) -> Value {
    if kind.metadata_only {
        let mut meta = obj.get_mut("metadata").map(Value::take).unwrap_or_default();
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        obj = serde_json::json!({ "metadata": meta });
    }
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(kind.api_version()));
        map.insert("kind".into(), Value::String(kind.kind.to_owned()));
        if let Some(m) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
    }
    obj
}

fn uid(obj: &Value) -> Option<&str> {
    obj.get("metadata")?.get("uid")?.as_str()
}

fn where_(scope: &Scope, kind: &Kind) -> String {
    match scope {
        Scope::One(ns) if kind.namespaced => format!(" in namespace {ns}"),
        _ if kind.namespaced => " in all namespaces".into(),
        _ => String::new(),
    }
}

/// Lists one kind; pages go to `tx`. Returns the objects handed over and any notes.
async fn list_kind(
    cluster: &Cluster,
    kind: &'static Kind,
    scope: &Scope,
    opts: &ListOptions,
    tx: tokio::sync::mpsc::Sender<Page>,
) -> Result<(usize, Vec<Note>), KubeError> {
    let accept = if kind.metadata_only {
        METADATA_LIST
    } else {
        "application/json"
    };
    let note = |message: String| Note {
        kind: Some(kind),
        message,
    };
    // `-n NS`: the Namespace kind is that one namespace.
    if let (Scope::One(ns), true) = (scope, kind.group.is_empty() && kind.plural == "namespaces") {
        let path = format!("/api/v1/namespaces/{}", encode(ns));
        return match get(cluster, &path, accept, opts.max_page_bytes).await {
            Ok(obj) => {
                let _ = tx
                    .send(Page {
                        kind,
                        items: vec![finish(kind, obj)],
                    })
                    .await;
                Ok((1, Vec::new()))
            }
            Err(KubeError::Api { status: 403, .. }) => Ok((
                0,
                vec![note(format!(
                    "Namespace {ns}: forbidden (403): missing verb \"get\" on namespaces; its labels (PSA levels) were not read"
                ))],
            )),
            Err(KubeError::Api { status: 404, .. }) => {
                Ok((0, vec![note(format!("Namespace {ns}: not found"))]))
            }
            Err(e) => Err(e),
        };
    }
    let collection = kind.collection(scope);
    let mut notes = Vec::new();
    let mut count = 0usize;
    let mut cont: Option<String> = None;
    let mut restarted = false;
    // uids handed over before a restart, so the second pass skips them.
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let mut path = format!("{collection}?limit={}", opts.page_size);
        if let Some(c) = &cont {
            path.push_str("&continue=");
            path.push_str(&encode(c));
        }
        let mut list = match get(cluster, &path, accept, opts.max_page_bytes).await {
            Ok(list) => list,
            Err(KubeError::Api { status: 410, .. }) if cont.is_some() => {
                if restarted {
                    notes.push(note(format!(
                        "{}: the continue token expired (410) twice; stopped after {count} objects, the rest of this kind was not listed",
                        kind.kind
                    )));
                    break;
                }
                restarted = true;
                cont = None;
                notes.push(note(format!(
                    "{}: the continue token expired (410 Expired) after {count} objects; listed {} again from the start (objects already listed were not repeated)",
                    kind.kind, kind.plural
                )));
                continue;
            }
            Err(KubeError::Api { status: 403, .. }) => {
                notes.push(note(format!(
                    "{}: forbidden (403): missing verb \"list\" on {}{}; {} objects were not scanned",
                    kind.kind,
                    kind.resource(),
                    where_(scope, kind),
                    kind.kind
                )));
                break;
            }
            Err(KubeError::Api { status: 404, .. }) => {
                notes.push(note(format!(
                    "{}: {} is not served by this API server; skipped",
                    kind.kind,
                    kind.api_version()
                )));
                break;
            }
            Err(e) => return Err(e),
        };
        let items = match list.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(KubeError::Decode {
                    context: cluster.origin.context.clone(),
                    path,
                    reason: "items is not an array".into(),
                });
            }
        };
        let mut page = Vec::with_capacity(items.len());
        for item in items {
            if let Some(u) = uid(&item) {
                if restarted {
                    if seen.contains(u) {
                        continue;
                    }
                } else {
                    seen.insert(u.to_owned());
                }
            }
            page.push(finish(kind, item));
        }
        count += page.len();
        if !page.is_empty() && tx.send(Page { kind, items: page }).await.is_err() {
            break;
        }
        let next = list
            .get("metadata")
            .and_then(|m| m.get("continue"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        match next {
            Some(c) => cont = Some(c.to_owned()),
            None => break,
        }
    }
    Ok((count, notes))
}

impl Cluster {
    /// Lists `kinds` in `scope`, read-only, at most `opts.concurrency` kinds at a time;
    /// `on_page` gets each page as it arrives (pages of different kinds interleave). Per-kind
    /// problems are notes in the summary; an error means the cluster could not be read at all.
    pub async fn list(
        &self,
        kinds: &[&'static Kind],
        scope: &Scope,
        opts: &ListOptions,
        mut on_page: impl FnMut(Page),
    ) -> Result<ListSummary, KubeError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Page>(opts.concurrency.max(1));
        let work = async move {
            let results = futures_util::stream::iter(kinds.iter().copied())
                .map(|k| {
                    let tx = tx.clone();
                    async move { list_kind(self, k, scope, opts, tx).await.map(|r| (k, r)) }
                })
                .buffered(opts.concurrency.max(1))
                .try_collect::<Vec<_>>()
                .await;
            drop(tx);
            results
        };
        let receive = async {
            while let Some(page) = rx.recv().await {
                on_page(page);
            }
        };
        let (results, ()) = tokio::join!(work, receive);
        let mut summary = ListSummary::default();
        for (kind, (count, notes)) in results? {
            summary.counts.push((kind, count));
            summary.notes.extend(notes);
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode("eyJ2Ijo+/=="), "eyJ2Ijo%2B%2F%3D%3D");
        assert_eq!(encode("a-b_c.d~"), "a-b_c.d~");
    }

    #[test]
    fn urls_by_scope() {
        let one = Scope::One("team-a".into());
        assert_eq!(POD.collection(&Scope::All), "/api/v1/pods");
        assert_eq!(POD.collection(&one), "/api/v1/namespaces/team-a/pods");
        assert_eq!(
            DEPLOYMENT.collection(&one),
            "/apis/apps/v1/namespaces/team-a/deployments"
        );
        assert_eq!(
            CLUSTER_ROLE.collection(&one),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles"
        );
        assert_eq!(INGRESS.resource(), "ingresses.networking.k8s.io");
    }

    #[test]
    fn secrets_keep_metadata_only() {
        let obj = serde_json::json!({
            "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
            "metadata": {"name": "s", "managedFields": [{}], "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"p\":\"c2VjcmV0\"}}",
                "team": "a"}},
            "data": {"p": "c2VjcmV0"}, "stringData": {"q": "x"}, "type": "Opaque"
        });
        let s = finish(&SECRET, obj);
        assert_eq!(
            s,
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "annotations": {"team": "a"}}})
        );
        let p = finish(
            &POD,
            serde_json::json!({"metadata": {"name": "p"}, "spec": {}}),
        );
        assert_eq!(p["kind"], "Pod");
        assert_eq!(p["apiVersion"], "v1");
        assert_eq!(p["spec"], serde_json::json!({}));
    }
}
