//! Credentials and failures: exec plugins end to end, failing and missing plugins, wrong
//! tokens, unreachable and slow servers, context selection.

use std::time::{Duration, Instant};

use palisade_kube::testing::{FakeApiServer, FakeConfig, exec_user, make_executable, token_user};
use palisade_kube::{KubeError, KubeOptions, Scope};

use crate::{list_all, opts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugin_authenticates_end_to_end() {
    let server = FakeApiServer::start(FakeConfig {
        token: "from-the-plugin-42".into(),
        objects: vec![serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "team"}, "spec": {"containers": []}})],
        ..FakeConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let user = exec_user(dir.path(), "from-the-plugin-42");
    let kc = server.kubeconfig(dir.path(), "eks-prod", &user);
    let cluster = palisade_kube::connect(&opts(kc)).await.unwrap();
    assert_eq!(cluster.context(), "eks-prod");
    let (got, _) = list_all(&cluster, &Scope::All, 500).await;
    assert!(
        got.iter()
            .any(|o| o["kind"] == "Pod" && o["metadata"]["name"] == "p")
    );
    // The plugin ran with KUBERNETES_EXEC_INFO, and its token reached the server.
    let calls = std::fs::read_to_string(dir.path().join("exec-calls")).unwrap();
    let first: serde_json::Value = serde_json::from_str(calls.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "ExecCredential");
    assert_eq!(first["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(first["spec"]["interactive"], false);
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer from-the-plugin-42"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_exec_plugin_is_an_error_naming_the_context() {
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("expired-login.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'error: the SSO session has expired; run aws sso login' >&2\nexit 3\n",
    )
    .unwrap();
    make_executable(&script);
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  interactiveMode: Never\n",
        script.display()
    );
    let kc = server.kubeconfig(dir.path(), "prod-eu", &user);
    let e = palisade_kube::connect(&opts(kc)).await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, KubeError::ExecPlugin { .. }), "{e:?}");
    assert!(
        msg.starts_with("context \"prod-eu\": the exec credential plugin"),
        "{msg}"
    );
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(
        msg.contains("the SSO session has expired; run aws sso login"),
        "{msg}"
    );
    assert!(server.seen().is_empty(), "no request without credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_exec_plugin_prints_its_install_hint() {
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: gke-gcloud-auth-plugin-not-installed\n  installHint: Install gke-gcloud-auth-plugin for use with kubectl by following\n    https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\n  provideClusterInfo: true\n";
    let kc = server.kubeconfig(dir.path(), "gke_proj_zone_c1", user);
    let msg = palisade_kube::connect(&opts(kc))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("context \"gke_proj_zone_c1\": the exec credential plugin \"gke-gcloud-auth-plugin-not-installed\" was not found"),
        "{msg}"
    );
    assert!(msg.ends_with("\nInstall gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_exec_plugin_times_out() {
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("prompt.sh");
    std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
    make_executable(&script);
    let user = format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  interactiveMode: Never\n",
        script.display()
    );
    let kc = server.kubeconfig(dir.path(), "aks-dev", &user);
    let start = Instant::now();
    let e = palisade_kube::connect(&KubeOptions {
        request_timeout: Duration::from_millis(500),
        ..opts(kc)
    })
    .await
    .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(
        e.to_string(),
        "context \"aks-dev\": running the exec credential plugin took longer than the request timeout (0.5s); raise it with --request-timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_unauthorized_naming_the_context() {
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "staging", &token_user("expired-token"));
    let e = palisade_kube::connect(&opts(kc)).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    let msg = e.to_string();
    assert!(
        msg.starts_with("context \"staging\": the API server https://localhost:"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "refused the credentials (401 for /version: Unauthorized); the token may have expired"
        ),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_fails_within_the_timeout() {
    // Refused: nothing listens on the port.
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "gone", &token_user(server.token()));
    let port = server.addr.port();
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = palisade_kube::connect(&KubeOptions {
        request_timeout: Duration::from_secs(2),
        ..opts(kc)
    })
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "context \"gone\": cannot reach the API server https://localhost:{port}/"
        )),
        "{msg}"
    );

    // Silent: a listener that accepts and never answers (a black-holed address).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let text = std::fs::read_to_string(dir.path().join("kubeconfig"))
        .unwrap()
        .replace(
            &format!("localhost:{port}"),
            &format!("localhost:{}", addr.port()),
        );
    std::fs::write(dir.path().join("kubeconfig"), text).unwrap();
    let start = Instant::now();
    let e = palisade_kube::connect(&KubeOptions {
        request_timeout: Duration::from_millis(800),
        ..opts(dir.path().join("kubeconfig"))
    })
    .await
    .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let msg = e.to_string();
    assert_eq!(
        msg,
        format!(
            "context \"gone\": connecting to https://localhost:{}/ took longer than the request timeout (0.8s); raise it with --request-timeout",
            addr.port()
        )
    );
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_list_is_a_timeout_naming_context_and_request() {
    let server = FakeApiServer::start(FakeConfig {
        slow: vec![("/configmaps".into(), Duration::from_secs(5))],
        ..FakeConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "slow", &token_user(server.token()));
    let cluster = palisade_kube::connect(&KubeOptions {
        request_timeout: Duration::from_millis(700),
        ..opts(kc)
    })
    .await
    .unwrap();
    let e = cluster
        .list(
            palisade_kube::KINDS,
            &Scope::All,
            &palisade_kube::ListOptions::default(),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "context \"slow\": GET /api/v1/configmaps?limit=500 took longer than the request timeout (0.7s); raise it with --request-timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_are_chosen_and_unknown_ones_named() {
    let server = FakeApiServer::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "dev", &token_user(server.token()));
    let e = palisade_kube::connect(&KubeOptions {
        context: Some("prod".into()),
        ..opts(kc.clone())
    })
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "kubeconfig {}: no context named \"prod\" (contexts: dev)",
            kc.display()
        )
    );
    let c = palisade_kube::connect(&KubeOptions {
        context: Some("dev".into()),
        ..opts(kc.clone())
    })
    .await
    .unwrap();
    assert_eq!(
        c.origin().description,
        format!("context \"dev\" of {}", kc.display())
    );
    assert_eq!(c.server_version().await.unwrap(), "v1.34.1");

    let e = palisade_kube::connect(&opts(dir.path().join("missing")))
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "kubeconfig {}: ",
            dir.path().join("missing").display()
        )),
        "{e}"
    );
}
