//! The cluster path against a mocked API server (axum on loopback, scripted): paged list,
//! watch events (ADDED/MODIFIED/DELETED/BOOKMARK), resume from the last resourceVersion,
//! `410 Gone` -> relist, bearer token, readiness, and decisions from the watched state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use palisade_admit::{Admitter, ApiClient, ClusterState, ClusterWatch, Config, Metrics};
use serde_json::{Value, json};

use crate::{decide, review};

#[derive(Default)]
struct Mock {
    /// (path, resourceVersion) of every watch request, in order.
    watches: Vec<(String, String)>,
    lists: usize,
    unauthorized: usize,
}

fn ns(name: &str, rv: &str, enforce: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "resourceVersion": rv, "labels": {"pod-security.kubernetes.io/enforce": enforce}}})
}

fn query(uri: &Uri) -> std::collections::HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn lines(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

async fn namespaces(
    State(m): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    uri: Uri,
) -> (StatusCode, String) {
    let q = query(&uri);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0ken") {
        m.lock().unwrap().unauthorized += 1;
        return (StatusCode::UNAUTHORIZED, "{}".into());
    }
    if !q.contains_key("watch") {
        let mut st = m.lock().unwrap();
        st.lists += 1;
        let body = match (st.lists, q.get("continue").map(String::as_str)) {
            // First list, two pages.
            (1, None) => {
                json!({"kind": "NamespaceList", "metadata": {"continue": "page2", "resourceVersion": "9"}, "items": [ns("a", "5", "baseline")]})
            }
            (2, Some("page2")) => {
                json!({"kind": "NamespaceList", "metadata": {"resourceVersion": "10"}, "items": [ns("old", "6", "baseline")]})
            }
            // The relist after 410 Gone.
            _ => {
                json!({"kind": "NamespaceList", "metadata": {"resourceVersion": "20"}, "items": [ns("a", "18", "restricted"), ns("c", "19", "baseline")]})
            }
        };
        return (StatusCode::OK, body.to_string());
    }
    let rv = q.get("resourceVersion").cloned().unwrap_or_default();
    let n = {
        let mut st = m.lock().unwrap();
        st.watches.push(("namespaces".into(), rv.clone()));
        st.watches.len()
    };
    let body = match n {
        1 => lines(&[
            json!({"type": "ADDED", "object": ns("b", "11", "privileged")}),
            json!({"type": "MODIFIED", "object": ns("a", "12", "restricted")}),
            json!({"type": "DELETED", "object": ns("old", "13", "baseline")}),
            json!({"type": "BOOKMARK", "object": {"kind": "Namespace", "metadata": {"resourceVersion": "14"}}}),
        ]),
        2 => lines(&[
            json!({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version: 14 (15)"}}),
        ]),
        3 => lines(&[json!({"type": "DELETED", "object": ns("c", "21", "baseline")})]),
        _ => {
            // Later watches stay open with nothing to say.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            String::new()
        }
    };
    (StatusCode::OK, body)
}

async fn pods(uri: Uri) -> (StatusCode, String) {
    let q = query(&uri);
    if q.contains_key("watch") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return (StatusCode::OK, String::new());
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "c", "resourceVersion": "3", "managedFields": [{"manager": "kubectl"}]},
        "spec": {"containers": [{"name": "x", "image": "nginx", "securityContext": {"privileged": true}}]},
        "status": {"phase": "Running"}});
    (
        StatusCode::OK,
        json!({"kind": "PodList", "metadata": {"resourceVersion": "4"}, "items": [pod]})
            .to_string(),
    )
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflector_against_a_mocked_api_server() {
    let mock = Arc::new(Mutex::new(Mock::default()));
    let app = axum::Router::new()
        .route("/api/v1/namespaces", get(namespaces))
        .route("/api/v1/pods", get(pods))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let watch = ClusterWatch::new();
    assert!(!watch.ready(), "not ready before the first list");
    let client = ApiClient::new(&format!("http://{addr}"), None, Some("t0ken".into())).unwrap();
    let tasks = watch.spawn(Arc::new(client));

    wait_for("the relist after 410", || {
        mock.lock().unwrap().watches.len() >= 3
    })
    .await;
    wait_for("c deleted", || watch.namespace("c").is_err()).await;
    assert!(watch.ready());
    {
        let st = mock.lock().unwrap();
        assert_eq!(st.unauthorized, 0);
        assert_eq!(st.lists, 3, "two pages, then one relist");
        // Watch from the list's version, resume from the bookmark, then from the relist.
        let versions: Vec<&str> = st.watches.iter().take(3).map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["10", "14", "20"]);
    }
    assert_eq!(
        watch.namespace("a").unwrap().labels["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert!(watch.namespace("b").is_err(), "b was gone at the relist");
    assert!(watch.namespace("old").is_err());
    let pods = watch.pods("c").unwrap();
    assert_eq!(pods.len(), 1);
    assert!(pods[0].get("status").is_none() && pods[0]["metadata"].get("managedFields").is_none());

    // Decisions use the watched labels.
    let admitter = Arc::new(Admitter::new(
        Config::default(),
        watch.clone(),
        Arc::new(Metrics::new()),
    ));
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "a"},
        "spec": {"containers": [{"name": "x", "image": "nginx"}]}});
    let r = decide(&admitter, &review(("", "pods"), &pod, None)).await;
    assert_eq!(r["auditAnnotations"]["enforce-policy"], "restricted:latest");
    assert_eq!(r["allowed"], false);
    for t in tasks {
        t.abort();
    }
}

#[tokio::test]
async fn api_errors_are_retried_and_not_ready() {
    // Nothing listens here: the reflector backs off and the state stays not-ready.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let watch = ClusterWatch::new();
    let tasks = watch.spawn(Arc::new(
        ApiClient::new(&format!("http://{addr}"), None, None).unwrap(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!watch.ready());
    assert!(watch.namespace("a").is_err());
    for t in tasks {
        t.abort();
    }
}

/// A CA, an API server certificate for `kubernetes.internal` (not the loopback address the
/// kubeconfig's `server` names, so `tls-server-name` is needed) and a client certificate.
struct ClusterPki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn cluster_pki() -> ClusterPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = |names: Vec<String>, cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    ClusterPki {
        server: leaf(vec!["kubernetes.internal".into()], "kube-apiserver"),
        client: leaf(Vec::new(), "palisade-admit"),
        ca_pem: ca.pem(),
    }
}

/// An API server on loopback TLS under `prefix` that lists one namespace and holds
/// watches open. With `client_ca` it requires a client certificate signed by it (as the
/// API server does for x509 users); otherwise it requires `Bearer t0ken`.
async fn tls_api_server(pki: &ClusterPki, prefix: &str, mtls: bool) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_slice_iter(pki.server.0.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(pki.server.1.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = if mtls {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    }
    .with_single_cert(certs, key)
    .unwrap();
    async fn list(headers: HeaderMap, uri: Uri, mtls: bool) -> (StatusCode, String) {
        let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
        if !mtls && bearer != Some("Bearer t0ken") {
            return (StatusCode::UNAUTHORIZED, "{}".into());
        }
        if query(&uri).contains_key("watch") {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return (StatusCode::OK, String::new());
        }
        let items = if uri.path().ends_with("/namespaces") {
            vec![ns("team", "1", "restricted")]
        } else {
            Vec::new()
        };
        let list = json!({"kind": "List", "metadata": {"resourceVersion": "2"}, "items": items});
        (StatusCode::OK, list.to_string())
    }
    let app = axum::Router::new()
        .route(
            &format!("{prefix}/api/v1/namespaces"),
            get(move |h, u| list(h, u, mtls)),
        )
        .route(
            &format!("{prefix}/api/v1/pods"),
            get(move |h, u| list(h, u, mtls)),
        );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
    );
    tokio::spawn(
        axum_server::from_tcp(listener)
            .acceptor(acceptor)
            .serve(app.into_make_service()),
    );
    addr
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn watch_until_ready(client: ApiClient) -> Arc<ClusterWatch> {
    let watch = ClusterWatch::new();
    let tasks = watch.spawn(Arc::new(client));
    wait_for("both lists", || watch.ready()).await;
    for t in tasks {
        t.abort();
    }
    watch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_with_client_certificate_data() {
    let pki = cluster_pki();
    let addr = tls_api_server(&pki, "", true).await;
    let dir = tempfile::tempdir().unwrap();
    // Shaped like `kind get kubeconfig`: everything inline, plus an unused second context.
    let config = format!(
        "apiVersion: v1
kind: Config
preferences: {{}}
current-context: kind-palisade
clusters:
- name: kind-palisade
  cluster:
    server: https://{addr}
    certificate-authority-data: {ca}
    tls-server-name: kubernetes.internal
- name: other
  cluster: {{server: 'https://other.example:6443', insecure-skip-tls-verify: true}}
contexts:
- name: kind-palisade
  context: {{cluster: kind-palisade, user: kind-palisade, namespace: default}}
- name: other
  context: {{cluster: other, user: cloud}}
users:
- name: kind-palisade
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
- name: cloud
  user:
    exec: {{apiVersion: client.authentication.k8s.io/v1, command: palisade-test-no-such-plugin}}
",
        ca = b64(&pki.ca_pem),
        cert = b64(&pki.client.0),
        key = b64(&pki.client.1),
    );
    let file = dir.path().join("config");
    std::fs::write(&file, config).unwrap();
    let (client, source) = ApiClient::discover(Some(&file)).unwrap();
    assert!(source.contains("\"kind-palisade\""), "{source}");
    let watch = watch_until_ready(client).await;
    assert_eq!(
        watch.namespace("team").unwrap().labels["pod-security.kubernetes.io/enforce"],
        "restricted"
    );

    // The other context's user is an exec plugin that is not installed: a clear error naming
    // the context when the client is built, not a silent fallback.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("current-context: kind-palisade", "current-context: other"),
    )
    .unwrap();
    let (client, source) = ApiClient::discover(Some(&file)).unwrap();
    assert!(source.contains("\"other\""), "{source}");
    let e = client.connect().await.unwrap_err().to_string();
    assert!(
        e.starts_with("context \"other\": the exec credential plugin \"palisade-test-no-such-plugin\" was not found"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_with_files_token_and_path_prefix() {
    let pki = cluster_pki();
    let addr = tls_api_server(&pki, "/k8s/clusters/c-1", false).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), &pki.ca_pem).unwrap();
    std::fs::write(dir.path().join("token"), "t0ken\n").unwrap();
    // Relative paths are resolved against the kubeconfig's directory, not the cwd.
    let config = format!(
        "apiVersion: v1
kind: Config
current-context: proxied
clusters:
- name: c
  cluster: {{server: 'https://{addr}/k8s/clusters/c-1', certificate-authority: ca.crt, tls-server-name: kubernetes.internal}}
contexts:
- name: proxied
  context: {{cluster: c, user: sa}}
users:
- name: sa
  user: {{tokenFile: token}}
"
    );
    let file = dir.path().join("kubeconfig.yaml");
    std::fs::write(&file, config).unwrap();
    let (client, _) = ApiClient::discover(Some(&file)).unwrap();
    let watch = watch_until_ready(client).await;
    assert!(watch.namespace("team").is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_without_tls_server_name_is_not_trusted() {
    // The certificate names kubernetes.internal, the URL 127.0.0.1: verification must fail.
    let pki = cluster_pki();
    let addr = tls_api_server(&pki, "", false).await;
    let client = ApiClient::new(
        &format!("https://{addr}"),
        Some(pki.ca_pem.as_bytes()),
        Some("t0ken".into()),
    )
    .unwrap();
    let watch = ClusterWatch::new();
    let tasks = watch.spawn(Arc::new(client));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!watch.ready());
    for t in tasks {
        t.abort();
    }
}

/// A managed cluster's kubeconfig: the user is an exec credential plugin (as `aws eks
/// get-token` or `kubelogin`); the watch reaches the fake API server (TLS, real list and
/// watch endpoints) with the plugin's token and serves the namespace labels it lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugin_user_reaches_the_cluster() {
    use palisade_kube::testing::{FakeApiServer, FakeConfig, exec_user};
    let server = FakeApiServer::start(FakeConfig {
        token: "eks-token-1".into(),
        objects: vec![
            ns("team", "7", "restricted"),
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "team", "managedFields": [{}]},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}, "status": {"phase": "Running"}}),
        ],
        ..FakeConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let user = exec_user(dir.path(), "eks-token-1");
    let kubeconfig = server.kubeconfig(dir.path(), "arn:aws:eks:eu-west-1:1:cluster/prod", &user);
    let (client, source) = ApiClient::discover(Some(&kubeconfig)).unwrap();
    assert!(
        source.starts_with("context \"arn:aws:eks:eu-west-1:1:cluster/prod\" of "),
        "{source}"
    );
    let watch = watch_until_ready(client).await;
    assert_eq!(
        watch.namespace("team").unwrap().labels["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let pods = watch.pods("team").unwrap();
    assert_eq!(pods.len(), 1);
    assert!(pods[0]["metadata"].get("managedFields").is_none());
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer eks-token-1"))
    );
    // Listed, then watched from the list's resourceVersion.
    assert!(seen.iter().any(|s| s.path == "/api/v1/namespaces"
        && s.query.get("watch").is_some_and(|w| w == "1")
        && s.query["resourceVersion"] == "100"));
    assert!(
        std::fs::read_to_string(dir.path().join("exec-calls"))
            .unwrap()
            .contains("ExecCredential")
    );
}
