//! `palisade admit`: a validating admission webhook that decides Pods, pod templates and
//! Namespaces exactly as Pod Security Admission (PSA) does (namespace labels, defaults and
//! exemptions, significant updates, enforce/audit/warn, PSA's messages and audit
//! annotations), and optionally enforces, warns on or audits the other rule families of the
//! Palisade catalog. [`review`] is the AdmissionReview wire format, [`policy`] the label
//! semantics, [`policies`] the `--policy` Gatekeeper constraints and
//! ValidatingAdmissionPolicies, [`config`] the PodSecurityConfiguration-compatible config file, [`state`] the
//! namespace/pod source (files, or [`watch`] for a live cluster through palisade-kube:
//! kubeconfig with exec plugins, or the service account), [`admission`] the decision,
//! [`server`] the HTTPS server.

pub mod admission;
pub mod config;
pub mod metrics;
pub mod policies;
pub mod policy;
pub mod review;
pub mod server;
pub mod state;
pub mod watch;

pub use admission::Admitter;
pub use config::{Config, ConfigError, Limits, Mode};
pub use metrics::Metrics;
pub use policies::{FailurePolicy, PolicyLoadError, PolicyOptions, PolicyStore};
pub use server::{App, ServeError, ServeOptions, Server, router, run_blocking, run_in_cluster};
pub use state::{ClusterState, Namespace, ObjectsState, StateError};
pub use watch::{ApiClient, ClusterWatch, WatchError};

/// Installs rustls' ring provider as the process default (call at the top of `main`): the
/// server builds its own configs with ring explicitly, and this keeps any other rustls user
/// in the process on the same single provider. Installing twice is harmless.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
