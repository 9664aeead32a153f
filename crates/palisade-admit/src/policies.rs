//! Gatekeeper ConstraintTemplates/Constraints and ValidatingAdmissionPolicies (`--policy`)
//! enforced on each review through palisade-policy. The loaded set sits behind a lock as an
//! `Arc` so a reload swaps it atomically while in-flight reviews finish on the old one; a
//! reload that does not load cleanly keeps the old set.
//!
//! Gatekeeper semantics: `deny` denies, `warn` becomes an API warning, `dryrun` only an audit
//! annotation; VAP `Deny`/`Warn`/`Audit` map onto the same three (palisade-policy does that).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use palisade_policy::{Action, Authorizer, Inventory, PolicyError, PolicySet};
use serde_json::{Value, json};

use crate::metrics::Metrics;
use crate::review::AdmissionRequest;

/// What a policy that cannot be evaluated (an error or a blown time budget) does to the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// Allow, log and count the error (Gatekeeper's webhook default, `failurePolicy: Ignore`).
    #[default]
    Ignore,
    /// Deny the review with the error.
    Fail,
}

/// Settings of `--policy`.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    pub paths: Vec<PathBuf>,
    /// Budget of one review's policy evaluation (all policies together); also each Rego
    /// evaluation's execution timer.
    pub timeout: Duration,
    pub failure_policy: FailurePolicy,
    /// How often the files are checked for changes (mtime, size, file list).
    pub reload_interval: Duration,
}

impl PolicyOptions {
    pub fn new(paths: Vec<PathBuf>) -> PolicyOptions {
        PolicyOptions {
            paths,
            timeout: Duration::from_millis(100),
            failure_policy: FailurePolicy::Ignore,
            reload_interval: Duration::from_secs(10),
        }
    }
}

/// The policy files did not load cleanly: every problem, each naming its file and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("--policy files have errors (the webhook does not start with a partial policy set):\n  {}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
pub struct PolicyLoadError {
    pub errors: Vec<PolicyError>,
}

/// The policies in force, and how to reload them.
#[derive(Debug)]
pub struct PolicyStore {
    opts: PolicyOptions,
    /// The loaded generation in force.
    current: RwLock<Arc<PolicySet>>,
    fingerprint: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    inventory: Inventory,
    /// The RBAC set CEL's `authorizer` answers from (bound to each request's userInfo).
    authorizer: Arc<Authorizer>,
}

/// What the policies found for one review.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `KIND/NAME: message` (constraints) or `POLICY/BINDING: message` (VAPs), in load order.
    pub deny: Vec<String>,
    /// The ValidatingAdmissionPolicy `reason` (`Invalid` when unset) when the first denial is
    /// a VAP's; None when it is a constraint's (Gatekeeper answers 403 Forbidden) or none.
    pub deny_reason: Option<String>,
    pub warn: Vec<String>,
    pub audit: Vec<String>,
    /// Errors and budget overruns, as text naming the policy.
    pub errors: Vec<String>,
    /// ValidatingAdmissionPolicy `auditAnnotations`: `POLICY/KEY=value`.
    pub annotations: Vec<String>,
}

/// Until [`PolicyStore::with_rbac_objects`]: every `authorizer` check is errored with this.
const NO_RBAC: &str = "admit was given no RBAC objects to answer authorizer checks from (pass the Roles, ClusterRoles and bindings with --objects)";

fn load(opts: &PolicyOptions, authorizer: &Arc<Authorizer>) -> Result<PolicySet, PolicyLoadError> {
    let limits = palisade_policy::Limits {
        rego_time: opts.timeout,
    };
    let read = palisade_yaml::load_paths(&opts.paths, &palisade_yaml::Limits::default());
    let mut errors: Vec<PolicyError> = read
        .errors
        .iter()
        .map(|e| PolicyError::Read {
            file: e.file.clone(),
            message: e.to_string(),
        })
        .collect();
    let (mut gatekeeper, more) = PolicySet::from_documents(&read.documents, limits);
    gatekeeper.set_authorizer(Some(authorizer.clone()));
    errors.extend(more);
    if !errors.is_empty() {
        return Err(PolicyLoadError { errors });
    }
    if gatekeeper.policy_count() == 0 {
        return Err(PolicyLoadError {
            errors: vec![PolicyError::Read {
                file: opts
                    .paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                message: "no Constraint or ValidatingAdmissionPolicyBinding found".to_owned(),
            }],
        });
    }
    Ok(gatekeeper)
}

/// Every file under `paths` with its mtime and size, sorted: any change means reload.
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    fn walk(p: &Path, out: &mut Vec<(PathBuf, Option<SystemTime>, u64)>, depth: u32) {
        let Ok(meta) = std::fs::metadata(p) else {
            out.push((p.to_owned(), None, 0));
            return;
        };
        if meta.is_dir() {
            if depth > 32 {
                return;
            }
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out, depth + 1);
                }
            }
        } else {
            out.push((p.to_owned(), meta.modified().ok(), meta.len()));
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out, 0);
    }
    out.sort();
    out
}

impl PolicyStore {
    /// Loads `opts.paths`; any load error (unreadable file, bad YAML, a template that does not
    /// compile, a constraint without its template) is an error, and so is a set without a
    /// single Constraint or binding.
    pub fn load(opts: PolicyOptions) -> Result<PolicyStore, PolicyLoadError> {
        let fp = fingerprint(&opts.paths);
        let authorizer = Arc::new(Authorizer::unavailable(NO_RBAC));
        let loaded = load(&opts, &authorizer)?;
        Ok(PolicyStore {
            opts,
            current: RwLock::new(Arc::new(loaded)),
            fingerprint: Mutex::new(fp),
            inventory: Inventory::default(),
            authorizer,
        })
    }

    /// CEL's `authorizer` answers from the Roles, ClusterRoles, RoleBindings and
    /// ClusterRoleBindings in `paths` (the `--objects` files; other objects are ignored) for
    /// the request's user and groups. An unreadable file or bad YAML is an error naming it.
    pub fn with_rbac_objects(mut self, paths: &[PathBuf]) -> Result<PolicyStore, PolicyLoadError> {
        let read = palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default());
        if !read.errors.is_empty() {
            return Err(PolicyLoadError {
                errors: read
                    .errors
                    .iter()
                    .map(|e| PolicyError::Read {
                        file: e.file.clone(),
                        message: format!("--objects (RBAC for authorizer): {e}"),
                    })
                    .collect(),
            });
        }
        self.authorizer = Arc::new(Authorizer::from_documents(&read.documents, false));
        // The store is not shared yet: point the loaded set at the new RBAC set instead of
        // reading and compiling the policy files again.
        let current = self
            .current
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        match Arc::get_mut(current) {
            Some(set) => set.set_authorizer(Some(self.authorizer.clone())),
            None => *current = Arc::new(load(&self.opts, &self.authorizer)?),
        }
        Ok(self)
    }

    pub fn options(&self) -> &PolicyOptions {
        &self.opts
    }

    /// Constraints plus VAP bindings in force.
    pub fn policy_count(&self) -> usize {
        self.snapshot().policy_count()
    }

    fn snapshot(&self) -> Arc<PolicySet> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Re-reads the files if any changed since the last look. `Ok(false)`: nothing changed;
    /// `Ok(true)`: the new set is in force; `Err`: the old set stays in force. A failed
    /// reload is retried only after the files change again.
    pub fn reload_if_changed(&self) -> Result<bool, PolicyLoadError> {
        let fp = fingerprint(&self.opts.paths);
        {
            let mut last = self
                .fingerprint
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *last == fp {
                return Ok(false);
            }
            *last = fp;
        }
        let loaded = load(&self.opts, &self.authorizer)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
        Ok(true)
    }

    /// Evaluates every policy on one request (palisade-policy's review of the whole
    /// AdmissionRequest: operation, userInfo, oldObject, dryRun, ...). `namespace` is the
    /// request's Namespace (labels only) for namespaceSelector and `namespaceObject`.
    pub fn evaluate(
        &self,
        req: &AdmissionRequest,
        namespace: Option<&Value>,
        metrics: &Metrics,
    ) -> Outcome {
        let start = Instant::now();
        let set = self.snapshot();
        let mut out = Outcome::default();
        if !req.object.is_object() && !req.old_object.is_object() {
            return out;
        }
        let mut request = match serde_json::to_value(req) {
            Ok(v) => v,
            Err(e) => {
                out.errors.push(format!("cannot encode the request: {e}"));
                return out;
            }
        };
        if let Value::Object(m) = &mut request {
            // Gatekeeper's review always carries these keys.
            m.entry("object").or_insert(Value::Null);
            m.entry("oldObject").or_insert(Value::Null);
            m.entry("name").or_insert_with(|| json!(req.name));
            m.entry("namespace").or_insert_with(|| json!(req.namespace));
        }
        let found = set.evaluate_request(
            &request,
            namespace,
            &self.inventory,
            start.checked_add(self.opts.timeout),
        );
        metrics.policy_evaluations(found.evaluated);
        for e in found.errors {
            metrics.policy_error(error_reason(&e));
            out.errors.push(e.to_string());
        }
        out.annotations = found
            .audit_annotations
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for v in found.violations {
            metrics.policy_violation(v.action.name());
            let line = format!("{}: {}", v.policy, v.message);
            match v.action {
                Action::Deny => {
                    if out.deny.is_empty() {
                        out.deny_reason = v.reason;
                    }
                    out.deny.push(line);
                }
                Action::Warn => out.warn.push(line),
                Action::Dryrun => out.audit.push(line),
            }
        }
        metrics.policy_duration(start.elapsed());
        out
    }
}

fn error_reason(e: &PolicyError) -> &'static str {
    match e {
        PolicyError::Eval { message, .. } if message.contains("time limit") => "timeout",
        _ => "error",
    }
}

/// The Namespace object palisade-policy matches `namespaceSelector` against, from the labels
/// the webhook knows.
pub fn namespace_object(name: &str, labels: &std::collections::BTreeMap<String, String>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
    })
}

/// Polls the files every `reload_interval` until aborted, logging and counting each reload.
pub async fn watch(store: Arc<PolicyStore>, metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(store.opts.reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = store.clone();
        let result = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
        match result {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => {
                metrics.policy_reload(true);
                tracing::info!(policies = store.policy_count(), "reloaded --policy files");
            }
            Ok(Err(e)) => {
                metrics.policy_reload(false);
                tracing::error!("{e}\nkeeping the policies loaded before");
            }
            Err(e) => {
                metrics.policy_reload(false);
                tracing::error!("policy reload task failed: {e}");
            }
        }
    }
}
