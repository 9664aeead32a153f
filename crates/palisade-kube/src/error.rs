//! Errors. Each names the context (and server or file) so that a user with several clusters
//! knows which one failed.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error(
        "not running in a cluster (KUBERNETES_SERVICE_HOST is not set) and no kubeconfig found ($KUBECONFIG unset, no ~/.kube/config); pass --kubeconfig FILE"
    )]
    NoConfig,
    /// The kubeconfig (or the in-cluster files) could not be used.
    #[error("{source_desc}: {reason}")]
    Config { source_desc: String, reason: String },
    #[error("context {context:?}: the exec credential plugin {command:?} {reason}{}", hint(.install_hint))]
    ExecPlugin {
        context: String,
        command: String,
        reason: String,
        install_hint: Option<String>,
    },
    #[error("context {context:?}: cannot reach the API server {server}: {reason}")]
    Unreachable {
        context: String,
        server: String,
        reason: String,
    },
    #[error("context {context:?}: {what} took longer than the request timeout ({}s); raise it with --request-timeout", .after.as_secs_f64())]
    Timeout {
        context: String,
        what: String,
        after: Duration,
    },
    #[error(
        "context {context:?}: the API server {server} refused the credentials ({status} for {path}: {message}); the token may have expired: log in again or check the user in the kubeconfig"
    )]
    Unauthorized {
        context: String,
        server: String,
        status: u16,
        path: String,
        message: String,
    },
    #[error("context {context:?}: the API server answered {status} for {path}: {message}")]
    Api {
        context: String,
        path: String,
        status: u16,
        message: String,
    },
    #[error("context {context:?}: unexpected response for {path}: {reason}")]
    Decode {
        context: String,
        path: String,
        reason: String,
    },
}

fn hint(h: &Option<String>) -> String {
    match h {
        Some(h) if !h.trim().is_empty() => format!("\n{}", h.trim_end()),
        _ => String::new(),
    }
}

impl KubeError {
    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            KubeError::Unauthorized { status, .. } | KubeError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
