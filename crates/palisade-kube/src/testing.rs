//! A fake API server for tests (feature `testing`): HTTPS on loopback with a fresh CA,
//! serving the objects it is given the way kube-apiserver does. Discovery (`/api`, `/apis`,
//! `/api/v1`, `/apis/G/V`, `/version`), lists per collection (all namespaces or one) with
//! `limit`/`continue`/`resourceVersion`(`Match`), watches that stay open and quiet, list
//! items without `apiVersion`/`kind`, Secrets as
//! `PartialObjectMetadataList` when asked, single Namespaces and Nodes by name, bearer-token
//! authentication (401 otherwise), and scripted trouble: 410 Expired for continue tokens,
//! 403 for chosen resources, slow responses. [`FakeApiServer::kubeconfig`] writes a
//! kubeconfig for it, and [`exec_user`] an exec credential plugin (a shell script printing
//! an ExecCredential) so that exec authentication is exercised end to end.
//!
//! Set-up failures panic: a test that cannot start its server cannot run.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the fake server serves and how it misbehaves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Whole objects with `apiVersion`, `kind`, `metadata.name` (and `namespace` for
    /// namespaced kinds; missing ones go to `default`). Namespaces referred to but not given
    /// are made, unlabelled.
    pub objects: Vec<Value>,
    /// The bearer token every request must carry.
    pub token: String,
    /// `gitVersion` at `/version`.
    pub version: String,
    /// Resources (plural names, e.g. `secrets`) answered with 403 Forbidden.
    pub forbidden: Vec<String>,
    /// Resources whose first N continue requests are answered with 410 Expired.
    pub expire_continue: Vec<(String, usize)>,
    /// Delay before answering requests whose path contains the string.
    pub slow: Vec<(String, Duration)>,
    /// Serve full objects even when asked for `PartialObjectMetadataList` (a server or proxy
    /// that ignores the Accept header).
    pub ignore_metadata_accept: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            objects: Vec::new(),
            token: "fake-token-0123".into(),
            version: "v1.34.1".into(),
            forbidden: Vec::new(),
            expire_continue: Vec::new(),
            slow: Vec::new(),
            ignore_metadata_accept: false,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub accept: String,
    pub authorization: Option<String>,
}

/// A running fake server. It stops when dropped.
#[derive(Debug)]
pub struct FakeApiServer {
    pub addr: SocketAddr,
    /// PEM of the CA that signed the server's `localhost` certificate.
    pub ca_pem: String,
    state: Arc<Fake>,
    handle: axum_server::Handle,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

#[derive(Debug)]
struct Fake {
    config: FakeConfig,
    /// (group, version, plural) -> objects sorted by namespace and name.
    collections: HashMap<(String, String, String), Vec<Value>>,
    /// (plural) -> (group, version, kind, namespaced)
    resources: BTreeMap<(String, String, String), (String, bool)>,
    seen: Mutex<Vec<Seen>>,
    expired: Mutex<HashMap<String, usize>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a Fake);

impl<'a> InFlight<'a> {
    fn new(fake: &'a Fake) -> InFlight<'a> {
        let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(fake)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Kinds that are not namespaced (the ones a test corpus holds).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "PodSecurityPolicy",
    "APIService",
    "CSIDriver",
    "VolumeAttachment",
];

/// The lower-case plural, as the API server names collections.
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k.ends_with("policy") {
        format!("{}ies", k.trim_end_matches('y'))
    } else if k.ends_with("ss") || k.ends_with("ch") || k.ends_with("sh") || k.ends_with('x') {
        format!("{k}es")
    } else if k == "endpoints" {
        k
    } else {
        format!("{k}s")
    }
}

fn split_api_version(av: &str) -> (String, String) {
    match av.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), av.to_owned()),
    }
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    (
        code,
        [("content-type", "application/json")],
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code.as_u16()})
        .to_string(),
    )
        .into_response()
}

fn ok(v: &Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// A continue token shaped like the API server's (base64 JSON), so clients must encode it.
fn token(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{{\"v\":\"meta.k8s.io/v1\",\"rv\":100,\"start\":\"{offset}\"}}?"
    ))
}

fn offset_of(token: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let start = text.split("\"start\":\"").nth(1)?;
    start.split('"').next()?.parse().ok()
}

fn decode_query(q: &str) -> BTreeMap<String, String> {
    let unescape = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match (b.get(i), b.get(i + 1..i + 3)) {
                (Some(b'%'), Some(hex)) => {
                    let h = std::str::from_utf8(hex).unwrap_or("");
                    match u8::from_str_radix(h, 16) {
                        Ok(v) => {
                            out.push(v);
                            i += 3;
                        }
                        Err(_) => {
                            out.push(b'%');
                            i += 1;
                        }
                    }
                }
                (Some(b'+'), _) => {
                    out.push(b' ');
                    i += 1;
                }
                (Some(c), _) => {
                    out.push(*c);
                    i += 1;
                }
                (None, _) => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (unescape(k), unescape(v)),
            None => (unescape(kv), String::new()),
        })
        .collect()
}

impl FakeApiServer {
    /// Starts the server on a loopback port.
    pub async fn start(config: FakeConfig) -> FakeApiServer {
        let pki = palisade_tls::testing::pki();
        let tls = palisade_tls::server_config(
            Path::new("fake.crt"),
            pki.cert_pem.as_bytes(),
            Path::new("fake.key"),
            pki.key_pem.as_bytes(),
        )
        .expect("fake server TLS config");
        let state = Arc::new(Fake::new(config));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let handle = axum_server::Handle::new();
        let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
            axum_server::tls_rustls::RustlsConfig::from_config(tls),
        );
        let server = axum_server::from_tcp(listener)
            .acceptor(acceptor)
            .handle(handle.clone());
        tokio::spawn(server.serve(app.into_make_service()));
        FakeApiServer {
            addr,
            ca_pem: pki.ca_pem,
            state,
            handle,
        }
    }

    /// `https://localhost:PORT` (the certificate names `localhost`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    pub fn token(&self) -> &str {
        &self.state.config.token
    }

    /// The most requests the server was answering at once (watches included).
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Writes `dir/kubeconfig` with one context `context` for this server (CA inline),
    /// whose user is the YAML mapping `user` (e.g. from [`exec_user`] or [`token_user`]).
    pub fn kubeconfig(&self, dir: &Path, context: &str, user: &str) -> PathBuf {
        use base64::Engine as _;
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let user = user
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>();
        let text = format!(
            "apiVersion: v1
kind: Config
current-context: {context}
clusters:
- name: fake
  cluster:
    server: {url}
    certificate-authority-data: {ca}
contexts:
- name: {context}
  context:
    cluster: fake
    user: {context}-user
    namespace: default
users:
- name: {context}-user
  user:
{user}",
            url = self.url(),
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }
}

/// A kubeconfig user with a static bearer token.
pub fn token_user(token: &str) -> String {
    format!("token: {token}\n")
}

/// Writes `dir/credential-plugin.sh`, an exec credential plugin printing an ExecCredential
/// with `token` (expiring in 2099) after appending `$KUBERNETES_EXEC_INFO` to
/// `dir/exec-calls`; returns the kubeconfig user that runs it.
pub fn exec_user(dir: &Path, token: &str) -> String {
    let script = dir.join("credential-plugin.sh");
    let calls = dir.join("exec-calls");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$KUBERNETES_EXEC_INFO\" >> '{calls}'\ncat <<'EOF'\n{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}\nEOF\n",
            calls = calls.display()
        ),
    )
    .expect("write plugin");
    make_executable(&script);
    format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  args: [get-token]\n  interactiveMode: Never\n",
        script.display()
    )
}

#[cfg(unix)]
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[cfg(not(unix))]
pub fn make_executable(_: &Path) {}

impl Fake {
    fn new(mut config: FakeConfig) -> Fake {
        let mut collections: HashMap<(String, String, String), Vec<Value>> = HashMap::new();
        let mut resources = BTreeMap::new();
        let mut namespaces: BTreeMap<String, bool> = BTreeMap::new();
        // Moved into the collections, not copied: a 10,000-object cluster is held once.
        for (i, mut obj) in std::mem::take(&mut config.objects).into_iter().enumerate() {
            let (Some(av), Some(kind)) = (
                obj.get("apiVersion")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                obj.get("kind").and_then(Value::as_str).map(str::to_owned),
            ) else {
                continue;
            };
            let (group, version) = split_api_version(&av);
            let namespaced = !CLUSTER_SCOPED.contains(&kind.as_str());
            let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            if namespaced {
                let ns = meta
                    .entry("namespace")
                    .or_insert_with(|| Value::String("default".into()));
                if let Some(ns) = ns.as_str() {
                    namespaces.entry(ns.to_owned()).or_insert(false);
                }
            } else {
                meta.remove("namespace");
                if let (true, Some(n)) = (
                    kind == "Namespace",
                    meta.get("name").and_then(Value::as_str),
                ) {
                    namespaces.insert(n.to_owned(), true);
                }
            }
            meta.entry("uid")
                .or_insert_with(|| Value::String(format!("00000000-0000-4000-8000-{i:012}")));
            meta.entry("resourceVersion")
                .or_insert_with(|| Value::String(format!("{}", 1000 + i)));
            let p = plural(&kind);
            resources.insert(
                (group.clone(), version.clone(), p.clone()),
                (kind.clone(), namespaced),
            );
            collections
                .entry((group, version, p))
                .or_default()
                .push(obj);
        }
        for (ns, given) in namespaces {
            if !given {
                collections
                    .entry((String::new(), "v1".into(), "namespaces".into()))
                    .or_default()
                    .push(json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "uid": format!("ns-{ns}"), "resourceVersion": "1"}}));
            }
        }
        // The built-in resources a cluster always serves, even when empty.
        for (g, v, p, k, n) in [
            ("", "v1", "namespaces", "Namespace", false),
            ("", "v1", "nodes", "Node", false),
            ("", "v1", "pods", "Pod", true),
            ("", "v1", "secrets", "Secret", true),
            ("", "v1", "configmaps", "ConfigMap", true),
            ("", "v1", "services", "Service", true),
            ("", "v1", "serviceaccounts", "ServiceAccount", true),
            (
                "",
                "v1",
                "replicationcontrollers",
                "ReplicationController",
                true,
            ),
            ("apps", "v1", "deployments", "Deployment", true),
            ("apps", "v1", "replicasets", "ReplicaSet", true),
            ("apps", "v1", "statefulsets", "StatefulSet", true),
            ("apps", "v1", "daemonsets", "DaemonSet", true),
            ("batch", "v1", "jobs", "Job", true),
            ("batch", "v1", "cronjobs", "CronJob", true),
            ("networking.k8s.io", "v1", "ingresses", "Ingress", true),
            (
                "networking.k8s.io",
                "v1",
                "networkpolicies",
                "NetworkPolicy",
                true,
            ),
            ("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
            (
                "rbac.authorization.k8s.io",
                "v1",
                "rolebindings",
                "RoleBinding",
                true,
            ),
            (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterroles",
                "ClusterRole",
                false,
            ),
            (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterrolebindings",
                "ClusterRoleBinding",
                false,
            ),
        ] {
            resources
                .entry((g.into(), v.into(), p.into()))
                .or_insert((k.into(), n));
        }
        for list in collections.values_mut() {
            list.sort_by(|a, b| {
                let key = |o: &Value| {
                    let m = o.get("metadata");
                    let s = |k: &str| {
                        m.and_then(|m| m.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    };
                    (s("namespace"), s("name"))
                };
                key(a).cmp(&key(b))
            });
        }
        Fake {
            config,
            collections,
            resources,
            seen: Mutex::new(Vec::new()),
            expired: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }

    fn discovery(&self, path: &str) -> Option<Value> {
        if path == "/version" {
            return Some(
                json!({"major": "1", "minor": "34", "gitVersion": self.config.version,
                "platform": "linux/amd64"}),
            );
        }
        if path == "/api" {
            return Some(json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}));
        }
        if path == "/apis" {
            let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (g, v, _) in self.resources.keys() {
                if !g.is_empty() {
                    let vs = groups.entry(g).or_default();
                    if !vs.contains(&v.as_str()) {
                        vs.push(v);
                    }
                }
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|(g, vs)| {
                    let versions: Vec<Value> = vs
                        .iter()
                        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                        .collect();
                    json!({"name": g, "versions": versions, "preferredVersion": versions.first()})
                })
                .collect();
            return Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        let gv = if path == "/api/v1" {
            Some((String::new(), "v1".to_owned()))
        } else {
            let rest = path.strip_prefix("/apis/")?;
            let (g, v) = rest.split_once('/')?;
            (!v.contains('/')).then(|| (g.to_owned(), v.to_owned()))
        }?;
        let resources: Vec<Value> = self
            .resources
            .iter()
            .filter(|((g, v, _), _)| *g == gv.0 && *v == gv.1)
            .map(|((_, _, p), (k, n))| {
                json!({"name": p, "singularName": k.to_ascii_lowercase(), "namespaced": n, "kind": k,
                    "verbs": ["get", "list", "watch"]})
            })
            .collect();
        if resources.is_empty() {
            return None;
        }
        let group_version = if gv.0.is_empty() {
            gv.1.clone()
        } else {
            format!("{}/{}", gv.0, gv.1)
        };
        Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
        )
    }
}

/// `/api/v1[/namespaces/NS]/PLURAL[/NAME]` or `/apis/G/V[/namespaces/NS]/PLURAL[/NAME]`.
struct Target {
    group: String,
    version: String,
    namespace: Option<String>,
    plural: String,
    name: Option<String>,
}

fn target(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => (String::new(), (*v).to_owned(), rest),
        ["apis", g, v, rest @ ..] => ((*g).to_owned(), (*v).to_owned(), rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, p] => (Some(*ns), *p, None),
        ["namespaces", ns, p, n] => (Some(*ns), *p, Some(*n)),
        [p] => (None, *p, None),
        [p, n] => (None, *p, Some(*n)),
        _ => return None,
    };
    Some(Target {
        group,
        version,
        namespace: namespace.map(str::to_owned),
        plural: plural.to_owned(),
        name: name.map(str::to_owned),
    })
}

async fn handle(State(fake): State<Arc<Fake>>, headers: HeaderMap, uri: Uri) -> Response {
    let _in_flight = InFlight::new(&fake);
    let path = uri.path().to_owned();
    let query = decode_query(uri.query().unwrap_or(""));
    let header = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let accept = header("accept").unwrap_or_default();
    let authorization = header("authorization");
    if let Ok(mut seen) = fake.seen.lock() {
        seen.push(Seen {
            path: path.clone(),
            query: query.clone(),
            accept: accept.clone(),
            authorization: authorization.clone(),
        });
    }
    for (needle, delay) in &fake.config.slow {
        if path.contains(needle.as_str()) {
            tokio::time::sleep(*delay).await;
        }
    }
    if authorization.as_deref() != Some(&format!("Bearer {}", fake.config.token)) {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized".into(),
        );
    }
    if let Some(v) = fake.discovery(&path) {
        return ok(&v);
    }
    let Some(t) = target(&path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".into(),
        );
    };
    let Some((kind, namespaced)) = fake
        .resources
        .get(&(t.group.clone(), t.version.clone(), t.plural.clone()))
        .cloned()
    else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".into(),
        );
    };
    let verb = if t.name.is_some() { "get" } else { "list" };
    if fake.config.forbidden.contains(&t.plural) {
        let scope = match &t.namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".into(),
        };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{p} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot {verb} resource \"{p}\" in API group \"{g}\" {scope}",
                p = t.plural,
                g = t.group
            ),
        );
    }
    let empty = Vec::new();
    let all = fake
        .collections
        .get(&(t.group.clone(), t.version.clone(), t.plural.clone()))
        .unwrap_or(&empty);
    let meta_str = |o: &Value, k: &str| {
        o.get("metadata")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let in_scope: Vec<&Value> = all
        .iter()
        .filter(|o| match (&t.namespace, namespaced) {
            (Some(ns), true) => meta_str(o, "namespace").as_deref() == Some(ns),
            _ => true,
        })
        .collect();
    if let Some(name) = &t.name {
        return match in_scope
            .iter()
            .find(|o| meta_str(o, "name").as_deref() == Some(name))
        {
            Some(o) => ok(o),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{} \"{name}\" not found", t.plural),
            ),
        };
    }
    // Watches: the stream opens and stays quiet (no event), as on an idle cluster; the
    // client resumes from the list's resourceVersion.
    if query.get("watch").is_some_and(|w| w == "1" || w == "true") {
        let body = axum::body::Body::from_stream(futures_util::stream::pending::<
            Result<axum::body::Bytes, std::io::Error>,
        >());
        return (StatusCode::OK, [("content-type", "application/json")], body).into_response();
    }
    // resourceVersion as the API server reads it: this fake is always at "100"; an exact
    // match on another version is compacted (410), a newer one is not there yet (504).
    if let Some(rv) = query
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
    {
        let exact = query.get("resourceVersionMatch").map(String::as_str) == Some("Exact");
        match rv.parse::<u64>() {
            Ok(100) => {}
            Ok(n) if n > 100 => {
                return status(
                    StatusCode::GATEWAY_TIMEOUT,
                    "Timeout",
                    format!("Too large resource version: {n}, current: 100"),
                );
            }
            Ok(n) if exact => {
                return status(
                    StatusCode::GONE,
                    "Expired",
                    format!("too old resource version: {n} (100)"),
                );
            }
            Ok(_) => {}
            Err(_) => {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("resourceVersion: Invalid value: {rv:?}"),
                );
            }
        }
    }
    let start = match query.get("continue").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => {
            let expire = fake
                .config
                .expire_continue
                .iter()
                .find(|(p, _)| *p == t.plural)
                .map_or(0, |(_, n)| *n);
            if let Ok(mut done) = fake.expired.lock() {
                let n = done.entry(t.plural.clone()).or_insert(0);
                if *n < expire {
                    *n += 1;
                    let mut r = status(
                        StatusCode::GONE,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
                    );
                    *r.body_mut() = axum::body::Body::from(
                        json!({"kind": "Status", "apiVersion": "v1",
                            "metadata": {"continue": c}, "status": "Failure",
                            "message": "The provided continue parameter is too old to display a consistent list result.",
                            "reason": "Expired", "code": 410})
                        .to_string(),
                    );
                    return r;
                }
            }
            match offset_of(c) {
                Some(o) => o,
                None => {
                    return status(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        format!("continue key is not valid: {c:?}"),
                    );
                }
            }
        }
    };
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(in_scope.len());
    let page = in_scope.get(start..end).unwrap_or_default();
    let metadata_only = accept.contains("as=PartialObjectMetadataList");
    let items: Vec<Value> = page
        .iter()
        .map(|o| {
            let mut o = (*o).clone();
            if metadata_only && !fake.config.ignore_metadata_accept {
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                    "metadata": o.get("metadata").cloned().unwrap_or_default()})
            } else {
                // List items carry neither apiVersion nor kind, as from the real server.
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                o
            }
        })
        .collect();
    let list_meta = if end < in_scope.len() {
        json!({"resourceVersion": "100", "continue": token(end),
            "remainingItemCount": in_scope.len() - end})
    } else {
        json!({"resourceVersion": "100"})
    };
    let (api_version, list_kind) = if metadata_only && !fake.config.ignore_metadata_accept {
        (
            "meta.k8s.io/v1".to_owned(),
            "PartialObjectMetadataList".to_owned(),
        )
    } else if t.group.is_empty() {
        (t.version.clone(), format!("{kind}List"))
    } else {
        (format!("{}/{}", t.group, t.version), format!("{kind}List"))
    };
    ok(
        &json!({"apiVersion": api_version, "kind": list_kind, "metadata": list_meta, "items": items}),
    )
}
