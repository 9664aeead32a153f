//! Finding the configuration and building the client. kube-rs does the work (merging,
//! relative paths, exec plugins, OIDC, proxies); this module decides which file and context,
//! names them in errors, bounds exec plugins by the timeout and prints their `installHint`,
//! which kube parses but never shows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::{KubeError, KubeOptions};

/// Where a client's configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The context's name, or `in-cluster`.
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// `context "kind-x" of /home/u/.kube/config`, or `the in-cluster service account`.
    pub description: String,
    /// The exec plugin's command and install hint, if the user authenticates with one.
    pub(crate) exec: Option<(String, Option<String>)>,
}

enum Source {
    Files(Box<Kubeconfig>, String),
    InCluster,
}

fn home_config() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let p = PathBuf::from(home).join(".kube").join("config");
    p.is_file().then_some(p)
}

fn read_file(path: &Path) -> Result<Source, KubeError> {
    let kc = Kubeconfig::read_from(path).map_err(|e| KubeError::Config {
        source_desc: format!("kubeconfig {}", path.display()),
        reason: e.to_string(),
    })?;
    Ok(Source::Files(Box::new(kc), path.display().to_string()))
}

/// `--kubeconfig`, then `$KUBECONFIG` (a path list, merged), then the in-cluster service
/// account, then `~/.kube/config`: controller-runtime's order, which admit always used.
fn source(opts: &KubeOptions) -> Result<Source, KubeError> {
    if let Some(path) = &opts.kubeconfig {
        return read_file(path);
    }
    if let Some(env) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let files = std::env::split_paths(&env)
            .filter(|p| !p.as_os_str().is_empty())
            .collect::<Vec<_>>();
        let desc = format!("$KUBECONFIG ({})", env.to_string_lossy());
        let mut merged: Option<Kubeconfig> = None;
        for file in &files {
            // client-go skips missing files in the list; so does kube's own reader.
            if !file.exists() {
                continue;
            }
            let Source::Files(kc, _) = read_file(file)? else {
                continue;
            };
            merged = Some(match merged {
                None => *kc,
                Some(m) => m.merge(*kc).map_err(|e| KubeError::Config {
                    source_desc: desc.clone(),
                    reason: e.to_string(),
                })?,
            });
        }
        return merged
            .map(|kc| Source::Files(Box::new(kc), desc.clone()))
            .ok_or_else(|| KubeError::Config {
                source_desc: desc,
                reason: "none of the files exists".into(),
            });
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return Ok(Source::InCluster);
    }
    match home_config() {
        Some(p) => read_file(&p),
        None => Err(KubeError::NoConfig),
    }
}

pub(crate) async fn load(opts: &KubeOptions) -> Result<(Config, Origin), KubeError> {
    let (mut config, origin) = load_config(opts).await?;
    trim_token_file(&mut config);
    Ok((config, origin))
}

/// kube sends a `tokenFile`'s content as it is, so a file ending in a newline (as `echo`
/// writes it) makes an invalid header; client-go trims it. Such a file's token is read once
/// here, trimmed; files without surrounding whitespace (service account tokens) are left to
/// kube, which re-reads them as they rotate.
fn trim_token_file(config: &mut Config) {
    let auth = &mut config.auth_info;
    if auth.token.is_some() {
        return;
    }
    let Some(file) = &auth.token_file else {
        return;
    };
    if let Ok(text) = std::fs::read_to_string(file) {
        let trimmed = text.trim();
        if trimmed.len() != text.len() && !trimmed.is_empty() {
            auth.token = Some(trimmed.to_owned().into());
        }
    }
}

async fn load_config(opts: &KubeOptions) -> Result<(Config, Origin), KubeError> {
    match source(opts)? {
        Source::InCluster => {
            let desc = "the in-cluster service account".to_owned();
            if let Some(ctx) = &opts.context {
                return Err(KubeError::Config {
                    source_desc: desc,
                    reason: format!("--context {ctx} needs a kubeconfig (pass --kubeconfig FILE)"),
                });
            }
            let config = Config::incluster().map_err(|e| KubeError::Config {
                source_desc: desc.clone(),
                reason: e.to_string(),
            })?;
            let origin = Origin {
                context: "in-cluster".into(),
                server: config.cluster_url.to_string(),
                description: desc,
                exec: None,
            };
            Ok((config, origin))
        }
        Source::Files(kc, file) => {
            let Some(context) = opts.context.clone().or_else(|| kc.current_context.clone()) else {
                return Err(KubeError::Config {
                    source_desc: format!("kubeconfig {file}"),
                    reason: "no current-context is set; pass --context NAME".into(),
                });
            };
            let desc = format!("context {context:?} of {file}");
            let Some(named) = kc.contexts.iter().find(|c| c.name == context) else {
                let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(KubeError::Config {
                    source_desc: format!("kubeconfig {file}"),
                    reason: format!(
                        "no context named {context:?} (contexts: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            };
            let user = named.context.as_ref().and_then(|c| c.user.clone());
            let exec = user
                .and_then(|u| kc.auth_infos.iter().find(|a| a.name == u))
                .and_then(|a| a.auth_info.as_ref())
                .and_then(|a| a.exec.as_ref())
                .map(|e| {
                    (
                        e.command.clone().unwrap_or_default(),
                        e.install_hint.clone(),
                    )
                });
            let options = KubeConfigOptions {
                context: Some(context.clone()),
                ..KubeConfigOptions::default()
            };
            let config = Config::from_custom_kubeconfig(*kc, &options)
                .await
                .map_err(|e| KubeError::Config {
                    source_desc: desc.clone(),
                    reason: e.to_string(),
                })?;
            let origin = Origin {
                context,
                server: config.cluster_url.to_string(),
                description: desc,
                exec,
            };
            Ok((config, origin))
        }
    }
}

/// Builds the client. kube runs the exec plugin synchronously while building (three times),
/// so this runs on its own thread under `timeout`: a plugin waiting for a login prompt fails
/// instead of hanging the command. The thread is detached rather than on tokio's blocking
/// pool, whose threads a runtime waits for when it shuts down.
pub(crate) async fn client(
    config: Config,
    origin: &Origin,
    timeout: Duration,
) -> Result<kube::Client, KubeError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("kube-client-build".into())
        .spawn(move || {
            // kube's client spawns its request buffer on the current runtime.
            let _entered = handle.enter();
            let _ = tx.send(kube::Client::try_from(config));
        })
        .map_err(|e| KubeError::Config {
            source_desc: origin.description.clone(),
            reason: format!("cannot start a thread to build the client: {e}"),
        })?;
    let what = if origin.exec.is_some() {
        "running the exec credential plugin"
    } else {
        "building the client"
    };
    let joined = tokio::time::timeout(timeout, rx)
        .await
        .map_err(|_| KubeError::Timeout {
            context: origin.context.clone(),
            what: what.into(),
            after: timeout,
        })?;
    let built = joined.map_err(|_| KubeError::Config {
        source_desc: origin.description.clone(),
        reason: "building the client failed (its thread stopped)".into(),
    })?;
    built.map_err(|e| client_error(e, origin))
}

/// A kube error from building the client or sending a request, in the context's terms.
pub(crate) fn client_error(e: kube::Error, origin: &Origin) -> KubeError {
    use kube::client::AuthError;
    if let kube::Error::Auth(auth) = &e {
        let (command, hint) = origin.exec.clone().unwrap_or_default();
        let reason = match auth {
            AuthError::AuthExecStart(io) if io.kind() == std::io::ErrorKind::NotFound => {
                Some("was not found (is it installed and on PATH?)".to_owned())
            }
            AuthError::AuthExecStart(io) => Some(format!("could not be started: {io}")),
            AuthError::AuthExecRun { out, .. } => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let stderr = stderr.trim();
                let mut r = format!("failed ({})", out.status);
                if !stderr.is_empty() {
                    r.push_str(": ");
                    r.push_str(&truncate(stderr, 2000));
                }
                Some(r)
            }
            AuthError::AuthExecParse(p) => {
                Some(format!("printed no ExecCredential JSON on stdout: {p}"))
            }
            AuthError::ExecPluginFailed => {
                Some("printed an ExecCredential without a status".to_owned())
            }
            AuthError::AuthExec(m) if origin.exec.is_some() => Some(m.clone()),
            _ => None,
        };
        if let Some(reason) = reason {
            let not_found = matches!(auth, AuthError::AuthExecStart(io) if io.kind() == std::io::ErrorKind::NotFound);
            return KubeError::ExecPlugin {
                context: origin.context.clone(),
                command,
                reason,
                // client-go prints the hint when the binary is missing; so do we.
                install_hint: if not_found { hint } else { None },
            };
        }
        return KubeError::Config {
            source_desc: origin.description.clone(),
            reason: format!("credentials: {auth}"),
        };
    }
    match e {
        kube::Error::Api(status) => KubeError::Api {
            context: origin.context.clone(),
            path: String::new(),
            status: status.code,
            message: status.message.clone(),
        },
        kube::Error::RustlsTls(t) => KubeError::Config {
            source_desc: origin.description.clone(),
            reason: format!("TLS configuration: {t}"),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => KubeError::Unreachable {
            context: origin.context.clone(),
            server: origin.server.clone(),
            reason: chain(&e)
                .trim_start_matches("ServiceError: ")
                .trim_start_matches("HyperError: ")
                .to_owned(),
        },
        other => KubeError::Config {
            source_desc: origin.description.clone(),
            reason: chain(&other),
        },
    }
}

/// An error and its sources on one line (hyper's and rustls' messages hide the cause).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", s.get(..end).unwrap_or_default())
}
