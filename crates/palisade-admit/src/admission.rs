//! The decision for one AdmissionRequest, following PSA's `admission.go` step by step
//! (short-circuits, exemptions, label errors, significant updates, enforce/audit/warn with
//! shared results, workload templates warn/audit only, namespace relabel checks with PSA's
//! pod count and time budget), then the optional rule families beyond PSS.
//!
//! Status objects are built as apimachinery builds them (`NewForbidden`, `NewInvalid`,
//! `NewBadRequest`, `NewInternalError`), so the API server shows exactly PSA's messages.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use palisade_core::{Document, SpanTree};
use palisade_rules::pss::{self, EvalOptions, Level, Policy, Violation};
use palisade_rules::{ScanOptions, Selection};
use serde_json::Value;

use crate::config::{Config, Mode};
use crate::metrics::{Decision, Metrics};
use crate::policies::{FailurePolicy, PolicyStore, namespace_object};
use crate::policy::{LabelError, NamespacePolicy, aggregate_errors, go_quote, policy_to_evaluate};
use crate::review::{AdmissionRequest, AdmissionResponse, Status, StatusCause, StatusDetails};
use crate::state::{ClusterState, labels_of};

/// Pod subresources PSA ignores; any other (e.g. `ephemeralcontainers`, `resize`) is
/// evaluated, so that a skewed webhook fails safe on a new subresource.
const IGNORED_POD_SUBRESOURCES: [&str; 8] = [
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// Resources whose pod template PSA warns and audits on (never enforces).
const POD_CONTROLLERS: [(&str, &str); 8] = [
    ("", "replicationcontrollers"),
    ("", "podtemplates"),
    ("apps", "replicasets"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
];

const CONTROLLER_KINDS: [&str; 8] = [
    "ReplicationController",
    "PodTemplate",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// The audit annotation carrying `--policy` dryrun (and VAP Audit) violations.
pub const POLICY_AUDIT: &str = "palisade-policy-audit";
/// The audit annotation carrying ValidatingAdmissionPolicy `auditAnnotations`
/// (`POLICY/KEY=value`, joined by `; `).
pub const POLICY_AUDIT_ANNOTATIONS: &str = "palisade-policy-audit-annotations";
/// The audit annotation carrying `--policy` evaluation errors.
pub const POLICY_ERRORS: &str = "palisade-policy-errors";

/// The audit annotation carrying violations of rules beyond PSS.
pub const PALISADE_VIOLATIONS: &str = "palisade-violations";

/// The API server's warning limits (`pkg/endpoints/filters/warning.go`).
const WARNING_TOTAL_RUNES: usize = 4096;
const WARNING_RUNES_EACH: usize = 256;

/// Decides AdmissionRequests. Cheap to share (`Arc`); every method is `&self`.
pub struct Admitter {
    config: Config,
    state: Arc<dyn ClusterState>,
    metrics: Arc<Metrics>,
    /// Catalog rules beyond PSS that are switched on; `None` when all are off.
    extra: Option<Selection>,
    /// `--policy`: Gatekeeper constraints and VAPs.
    policies: Option<Arc<PolicyStore>>,
}

impl std::fmt::Debug for Admitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Admitter {
    pub fn new(config: Config, state: Arc<dyn ClusterState>, metrics: Arc<Metrics>) -> Admitter {
        let on: Vec<String> = config
            .rule_modes
            .iter()
            .filter(|(_, m)| **m != Mode::Off)
            .map(|(id, _)| (*id).to_owned())
            .collect();
        // IDs come from the catalog itself, so the selection cannot fail; if it somehow
        // did, run no extra rules rather than all of them.
        let extra = if on.is_empty() {
            None
        } else {
            Selection::new(&on, &[]).ok()
        };
        Admitter {
            config,
            state,
            metrics,
            extra,
            policies: None,
        }
    }

    /// Enforces `store`'s policies on every review too (see [`crate::policies`]).
    #[must_use]
    pub fn with_policies(mut self, store: Arc<PolicyStore>) -> Admitter {
        self.policies = Some(store);
        self
    }

    pub fn policies(&self) -> Option<&Arc<PolicyStore>> {
        self.policies.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn ready(&self) -> bool {
        self.state.ready()
    }

    /// Decides one request. `deadline` is when the API server stops waiting (it bounds
    /// the namespace relabel check). The response's `uid` is left for the caller.
    pub fn admit(&self, req: &AdmissionRequest, deadline: Instant) -> AdmissionResponse {
        self.admit_since(req, Instant::now(), deadline)
    }

    /// [`Admitter::admit`], recording the time since `received` (so the server's latency
    /// metric includes decoding the review).
    pub fn admit_since(
        &self,
        req: &AdmissionRequest,
        received: Instant,
        deadline: Instant,
    ) -> AdmissionResponse {
        let mut resp = self.validate(req, deadline);
        if self.extra.is_some() {
            self.apply_extra_rules(req, &mut resp);
        }
        if let Some(store) = &self.policies {
            self.apply_policies(store, req, &mut resp);
        }
        resp.warnings = bound_warnings(std::mem::take(&mut resp.warnings));
        let decision = match (&resp.allowed, resp.status.as_ref().map(|s| s.code)) {
            (true, _) => Decision::Allow,
            (false, Some(401 | 403 | 413 | 422)) => Decision::Deny,
            (false, _) => Decision::Error,
        };
        self.metrics.review(
            &req.resource.resource,
            &req.operation,
            decision,
            received.elapsed(),
        );
        resp
    }

    fn validate(&self, req: &AdmissionRequest, deadline: Instant) -> AdmissionResponse {
        let gr = (req.resource.group.as_str(), req.resource.resource.as_str());
        match gr {
            ("", "namespaces") => self.validate_namespace(req, deadline),
            ("", "pods") => self.validate_pod(req),
            gr if POD_CONTROLLERS.contains(&gr) => self.validate_controller(req),
            _ => AdmissionResponse::allowed(),
        }
    }

    fn exempt_namespace(&self, ns: &str) -> bool {
        !ns.is_empty() && self.config.exemptions.namespaces.contains(ns)
    }

    fn exempt_user(&self, user: &str) -> bool {
        !user.is_empty() && self.config.exemptions.usernames.contains(user)
    }

    fn exempt_runtime_class(&self, spec: &Value) -> bool {
        spec.get("runtimeClassName")
            .and_then(Value::as_str)
            .is_some_and(|rc| !rc.is_empty() && self.config.exemptions.runtime_classes.contains(rc))
    }

    fn exempt(&self, reason: &'static str) -> AdmissionResponse {
        self.metrics.exemption(reason);
        let mut r = AdmissionResponse::allowed();
        r.audit_annotations
            .insert("exempt".to_owned(), reason.to_owned());
        r
    }

    fn policy(&self, labels: &BTreeMap<String, String>) -> (NamespacePolicy, Vec<LabelError>) {
        policy_to_evaluate(labels, &self.config.defaults)
    }

    fn validate_namespace(&self, req: &AdmissionRequest, deadline: Instant) -> AdmissionResponse {
        if !req.sub_resource.is_empty() {
            return AdmissionResponse::allowed();
        }
        let Some(obj) = req.object.as_object() else {
            return error_response(
                Some(&not_an_object(&req.object)),
                bad_request("failed to decode object"),
            );
        };
        let Ok(labels) = labels_of(&Value::Object(obj.clone())) else {
            return error_response(None, bad_request("failed to decode namespace"));
        };
        let name = obj
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(&req.name);
        let ns = if req.namespace.is_empty() {
            name
        } else {
            &req.namespace
        };
        let (new_policy, new_errs) = self.policy(&labels);
        match req.operation.as_str() {
            "CREATE" => {
                if !new_errs.is_empty() {
                    return invalid_response(req, &new_errs);
                }
                if self.exempt_namespace(ns) {
                    return self.exempt_namespace_warning(name, &new_policy, &labels);
                }
                AdmissionResponse::allowed()
            }
            "UPDATE" => {
                if !req.old_object.is_object() {
                    return error_response(
                        Some(&not_an_object(&req.old_object)),
                        bad_request("failed to decode  old object"),
                    );
                }
                let Ok(old_labels) = labels_of(&req.old_object) else {
                    return error_response(None, bad_request("failed to decode  old namespace"));
                };
                let (old_policy, old_errs) = self.policy(&old_labels);
                if !new_errs.is_empty() && (old_errs.is_empty() || new_errs != old_errs) {
                    return invalid_response(req, &new_errs);
                }
                // PSA skips the dry run when enforce is unchanged, privileged, or relaxed
                // at the same version, and for exempt namespaces.
                if new_policy.enforce == old_policy.enforce
                    || new_policy.enforce.level == Level::Privileged
                    || (new_policy.enforce.version == old_policy.enforce.version
                        && new_policy.enforce.level <= old_policy.enforce.level)
                {
                    return AdmissionResponse::allowed();
                }
                if self.exempt_namespace(ns) {
                    return self.exempt_namespace_warning(name, &new_policy, &labels);
                }
                let mut r = AdmissionResponse::allowed();
                r.warnings = self.evaluate_pods_in_namespace(name, new_policy.enforce, deadline);
                r
            }
            _ => AdmissionResponse::allowed(),
        }
    }

    /// PSA's `exemptNamespaceWarning`: labels on an exempt namespace are ignored; say so
    /// when they ask for more than privileged and differ from the defaults.
    fn exempt_namespace_warning(
        &self,
        name: &str,
        policy: &NamespacePolicy,
        labels: &BTreeMap<String, String>,
    ) -> AdmissionResponse {
        let mut r = AdmissionResponse::allowed();
        if policy.fully_privileged() || policy.equivalent(&self.config.defaults) {
            return r;
        }
        use crate::policy::{
            AUDIT_LEVEL, AUDIT_VERSION, ENFORCE_LEVEL, ENFORCE_VERSION, WARN_LEVEL, WARN_VERSION,
        };
        let mut parts = Vec::new();
        for (mode, p, lk, vk) in [
            ("enforce", policy.enforce, ENFORCE_LEVEL, ENFORCE_VERSION),
            ("audit", policy.audit, AUDIT_LEVEL, AUDIT_VERSION),
            ("warn", policy.warn, WARN_LEVEL, WARN_VERSION),
        ] {
            if p.level != Level::Privileged && (labels.contains_key(lk) || labels.contains_key(vk))
            {
                parts.push(format!("{mode}={p}"));
            }
        }
        r.warnings.push(format!(
            "namespace {} is exempt from Pod Security, and the policy ({}) will be ignored",
            go_quote(name),
            parts.join(", ")
        ));
        r
    }

    fn validate_pod(&self, req: &AdmissionRequest) -> AdmissionResponse {
        if IGNORED_POD_SUBRESOURCES.contains(&req.sub_resource.as_str()) {
            return AdmissionResponse::allowed();
        }
        if self.exempt_namespace(&req.namespace) {
            return self.exempt("namespace");
        }
        if self.exempt_user(&req.user_info.username) {
            return self.exempt("user");
        }
        let namespace = match self.state.namespace(&req.namespace) {
            Ok(ns) => ns,
            Err(e) => {
                return error_response(
                    Some(&e.to_string()),
                    internal_error(&format!(
                        "failed to lookup namespace {}",
                        go_quote(&req.namespace)
                    )),
                );
            }
        };
        let (policy, errs) = self.policy(&namespace.labels);
        if errs.is_empty() && policy.fully_privileged() {
            let mut r = AdmissionResponse::allowed();
            r.audit_annotations.insert(
                "enforce-policy".to_owned(),
                crate::policy::PRIVILEGED_LATEST.to_string(),
            );
            return r;
        }
        if !req.object.is_object() {
            return error_response(
                Some(&not_an_object(&req.object)),
                bad_request("failed to decode object"),
            );
        }
        if !kind_is(&req.object, "Pod") {
            return error_response(None, bad_request("failed to decode pod"));
        }
        if req.operation == "UPDATE" {
            if !req.old_object.is_object() {
                return error_response(
                    Some(&not_an_object(&req.old_object)),
                    bad_request("failed to decode old object"),
                );
            }
            if !kind_is(&req.old_object, "Pod") {
                return error_response(None, bad_request("failed to decode old pod"));
            }
            if !is_significant_pod_update(&req.object, &req.old_object) {
                return AdmissionResponse::allowed();
            }
        }
        let meta = req.object.get("metadata").unwrap_or(&Value::Null);
        let spec = req.object.get("spec").unwrap_or(&Value::Null);
        self.evaluate_pod(req, &policy, &errs, meta, spec, true)
    }

    fn validate_controller(&self, req: &AdmissionRequest) -> AdmissionResponse {
        if !req.sub_resource.is_empty() {
            return AdmissionResponse::allowed();
        }
        if self.exempt_namespace(&req.namespace) {
            return self.exempt("namespace");
        }
        if self.exempt_user(&req.user_info.username) {
            return self.exempt("user");
        }
        // Workloads fail open: errors are annotated, never denied.
        let allowed_with_error = |msg: String| {
            let mut r = AdmissionResponse::allowed();
            r.audit_annotations.insert("error".to_owned(), msg);
            r
        };
        let namespace = match self.state.namespace(&req.namespace) {
            Ok(ns) => ns,
            Err(e) => {
                return allowed_with_error(format!(
                    "failed to lookup namespace {}: {e}",
                    go_quote(&req.namespace)
                ));
            }
        };
        let (policy, errs) = self.policy(&namespace.labels);
        if errs.is_empty()
            && policy.warn.level == Level::Privileged
            && policy.audit.level == Level::Privileged
        {
            return AdmissionResponse::allowed();
        }
        if !req.object.is_object() {
            return allowed_with_error(format!(
                "failed to decode object: {}",
                not_an_object(&req.object)
            ));
        }
        let Some(template) = pss::pod_template(&req.object) else {
            let kind = req.object.get("kind").and_then(Value::as_str).unwrap_or("");
            if CONTROLLER_KINDS.contains(&kind) {
                // A controller without a pod template: nothing to evaluate.
                return AdmissionResponse::allowed();
            }
            let av = req
                .object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            return allowed_with_error(format!(
                "failed to extract pod template: unexpected object type: {av}, Kind={kind}"
            ));
        };
        self.evaluate_pod(req, &policy, &errs, template.metadata, template.spec, false)
    }

    fn eval_options(&self, is_pod: bool) -> EvalOptions {
        EvalOptions {
            max_minor: self.config.max_minor,
            // What the API server did to a Pod before admission; templates are not
            // defaulted this way (see palisade_rules::pss::EvalOptions).
            default_host_network_ports: is_pod,
            apparmor_annotation_sync: is_pod,
        }
    }

    fn record_hits(&self, violations: &[Violation], mode: &'static str) {
        for v in violations {
            if let Some(rule) = palisade_rules::rule_for_check(v.check_id) {
                self.metrics.rule_hit(rule.id, mode);
            }
        }
    }

    /// PSA's `EvaluatePod`: enforce (pods only), audit, then warn (only while allowed),
    /// each level:version evaluated at most once.
    fn evaluate_pod(
        &self,
        req: &AdmissionRequest,
        policy: &NamespacePolicy,
        errs: &[LabelError],
        meta: &Value,
        spec: &Value,
        enforce: bool,
    ) -> AdmissionResponse {
        if self.exempt_runtime_class(spec) {
            return self.exempt("runtimeClass");
        }
        let mut annotations = BTreeMap::new();
        if !errs.is_empty() {
            annotations.insert(
                "error".to_owned(),
                format!("Failed to parse policy: {}", aggregate_errors(errs)),
            );
        }
        let mut results = Results {
            meta,
            spec,
            opts: self.eval_options(enforce),
            cache: Vec::with_capacity(3),
        };
        let mut resp = AdmissionResponse::allowed();
        if enforce {
            annotations.insert("enforce-policy".to_owned(), policy.enforce.to_string());
            let v = results.get(policy.enforce);
            if !v.is_empty() {
                self.record_hits(v, "enforce");
                resp = forbidden_response(
                    req,
                    &format!(
                        "violates PodSecurity {}: {}",
                        go_quote(&policy.enforce.to_string()),
                        pss::aggregate(v)
                    ),
                );
            }
        }
        let v = results.get(policy.audit);
        if !v.is_empty() {
            self.record_hits(v, "audit");
            annotations.insert(
                "audit-violations".to_owned(),
                format!(
                    "would violate PodSecurity {}: {}",
                    go_quote(&policy.audit.to_string()),
                    pss::aggregate(v)
                ),
            );
        }
        // PSA adds no warnings to a request it is rejecting.
        if resp.allowed {
            let v = results.get(policy.warn);
            if !v.is_empty() {
                self.record_hits(v, "warn");
                resp.warnings.push(format!(
                    "would violate PodSecurity {}: {}",
                    go_quote(&policy.warn.to_string()),
                    pss::aggregate(v)
                ));
            }
        }
        resp.audit_annotations = annotations;
        resp
    }

    /// PSA's `EvaluatePodsInNamespace`: dry-runs the new enforce level against existing
    /// pods (one per controller first), within a pod count and a time budget of the
    /// configured timeout or half the time left, whichever is less. Only warns.
    fn evaluate_pods_in_namespace(
        &self,
        namespace: &str,
        enforce: Policy,
        deadline: Instant,
    ) -> Vec<String> {
        let limits = &self.config.limits;
        let left = deadline.saturating_duration_since(Instant::now()) / 2;
        let budget_end = Instant::now() + limits.namespace_pod_check_timeout.min(left);
        let pods = match self.state.pods(namespace) {
            Ok(p) => p,
            Err(_) => {
                return vec![
                    "failed to list pods while checking new PodSecurity enforce level".to_owned(),
                ];
            }
        };
        let mut prioritized = self.prioritize_pods(pods);
        let total = prioritized.len();
        prioritized.truncate(limits.namespace_max_pods);
        let mut checked = prioritized.len();
        let opts = self.eval_options(true);
        // reason text -> (lexically first pod name, pod count), in first-seen order
        let mut order: Vec<String> = Vec::new();
        let mut counts: HashMap<String, (String, usize)> = HashMap::new();
        for (i, pod) in prioritized.iter().enumerate() {
            let meta = pod.get("metadata").unwrap_or(&Value::Null);
            let spec = pod.get("spec").unwrap_or(&Value::Null);
            let v = pss::evaluate_with(&enforce, meta, spec, &opts);
            if !v.is_empty() {
                let reason = forbidden_reasons(&v);
                let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
                match counts.get_mut(&reason) {
                    Some((first, n)) => {
                        if name < first.as_str() {
                            name.clone_into(first);
                        }
                        *n += 1;
                    }
                    None => {
                        order.push(reason.clone());
                        counts.insert(reason, (name.to_owned(), 1));
                    }
                }
            }
            if Instant::now() >= budget_end {
                checked = i + 1;
                break;
            }
        }
        let mut warnings = Vec::new();
        if checked < total {
            warnings.push(format!(
                "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
            ));
        }
        if !order.is_empty() {
            warnings.push(format!(
                "existing pods in namespace {} violate the new PodSecurity enforce level {}",
                go_quote(namespace),
                go_quote(&enforce.to_string())
            ));
        }
        let mut pod_warnings: Vec<String> = order
            .into_iter()
            .map(|reason| match counts.get(&reason) {
                Some((name, 1)) => format!("{name}: {reason}"),
                Some((name, 2)) => format!("{name} (and 1 other pod): {reason}"),
                Some((name, n)) => format!("{name} (and {} other pods): {reason}", n - 1),
                None => reason,
            })
            .collect();
        pod_warnings.sort();
        warnings.extend(pod_warnings);
        warnings
    }

    /// Drops pods with an exempt runtime class; puts the first pod of each controller
    /// before the other replicas, so a small budget still covers every workload.
    fn prioritize_pods(&self, pods: Vec<Arc<Value>>) -> Vec<Arc<Value>> {
        let mut first = Vec::with_capacity(pods.len());
        let mut replicas = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pod in pods {
            if self.exempt_runtime_class(pod.get("spec").unwrap_or(&Value::Null)) {
                continue;
            }
            match controller_uid(&pod) {
                None => first.push(pod),
                Some(uid) => {
                    if seen.insert(uid.to_owned()) {
                        first.push(pod);
                    } else {
                        replicas.push(pod);
                    }
                }
            }
        }
        first.extend(replicas);
        first
    }

    /// The rule families beyond PSS, per their configured mode. Exemptions apply; pod
    /// updates are checked only when significant, like PSS.
    fn apply_extra_rules(&self, req: &AdmissionRequest, resp: &mut AdmissionResponse) {
        let Some(selection) = &self.extra else {
            return;
        };
        let is_pod = req.resource.group.is_empty() && req.resource.resource == "pods";
        let subresource_ok = req.sub_resource.is_empty()
            || (is_pod && !IGNORED_POD_SUBRESOURCES.contains(&req.sub_resource.as_str()));
        if !matches!(req.operation.as_str(), "CREATE" | "UPDATE")
            || !subresource_ok
            || !req.object.is_object()
            || self.exempt_namespace(&req.namespace)
            || self.exempt_user(&req.user_info.username)
            || resp.audit_annotations.contains_key("exempt")
        {
            return;
        }
        if is_pod
            && req.operation == "UPDATE"
            && req.old_object.is_object()
            && !is_significant_pod_update(&req.object, &req.old_object)
        {
            return;
        }
        let doc = Document {
            file: Arc::from("<admission request>"),
            index: 0,
            item: None,
            value: req.object.clone(),
            spans: SpanTree::default(),
        };
        let opts = ScanOptions {
            policy: Policy::default(),
            selection: selection.clone(),
        };
        let findings = palisade_rules::check_documents(std::slice::from_ref(&doc), &opts);
        let mut enforce = Vec::new();
        let mut audit = Vec::new();
        for f in &findings {
            let Some(rule) = palisade_rules::rule(&f.rule) else {
                continue;
            };
            if rule.family == "pss" {
                continue;
            }
            let mode = self.config.mode(rule.id);
            if mode == Mode::Off {
                continue;
            }
            self.metrics.rule_hit(rule.id, mode.as_str());
            let at = if f.field.is_empty() {
                String::new()
            } else {
                format!(" ({})", f.field)
            };
            match mode {
                Mode::Enforce => enforce.push(format!(
                    "[{}] {}{at}; fix: {}",
                    rule.id, f.message, rule.remediation
                )),
                Mode::Warn => {
                    if resp.allowed {
                        resp.warnings
                            .push(format!("[{}] {}{at}", rule.id, f.message));
                    }
                }
                Mode::Audit => audit.push(format!("[{}] {}{at}", rule.id, f.message)),
                Mode::Off => {}
            }
        }
        if !audit.is_empty() {
            resp.audit_annotations
                .insert(PALISADE_VIOLATIONS.to_owned(), audit.join("; "));
        }
        if enforce.is_empty() {
            return;
        }
        let detail = format!("violates Palisade rules: {}", enforce.join("; "));
        if resp.allowed {
            let annotations = std::mem::take(&mut resp.audit_annotations);
            *resp = forbidden_response(req, &detail);
            resp.audit_annotations = annotations;
        } else if let Some(status) = resp.status.as_mut().filter(|s| s.code == 403) {
            status.message.push_str("; ");
            status.message.push_str(&detail);
        }
    }
}

impl Admitter {
    /// `--policy`: denials are appended after PSA's and the Palisade rules' (one 403 whose
    /// message lists them in that order; when only policies deny and the first denial is a
    /// ValidatingAdmissionPolicy's, its validation `reason` and that reason's code), warnings after theirs, dryrun/Audit violations go
    /// to the `palisade-policy-audit` annotation. Errors follow the failure policy.
    fn apply_policies(
        &self,
        store: &PolicyStore,
        req: &AdmissionRequest,
        resp: &mut AdmissionResponse,
    ) {
        let is_namespace = req.resource.group.is_empty() && req.resource.resource == "namespaces";
        let ns_object = if req.namespace.is_empty() || is_namespace {
            None
        } else {
            self.state
                .namespace(&req.namespace)
                .ok()
                .map(|ns| namespace_object(&ns.name, &ns.labels))
        };
        let outcome = store.evaluate(req, ns_object.as_ref(), &self.metrics);
        resp.warnings.extend(outcome.warn);
        if !outcome.audit.is_empty() {
            resp.audit_annotations
                .insert(POLICY_AUDIT.to_owned(), outcome.audit.join("; "));
        }
        if !outcome.annotations.is_empty() {
            resp.audit_annotations.insert(
                POLICY_AUDIT_ANNOTATIONS.to_owned(),
                outcome.annotations.join("; "),
            );
        }
        let mut deny = outcome.deny;
        if !outcome.errors.is_empty() {
            for e in &outcome.errors {
                tracing::warn!(uid = %req.uid, "--policy: {e}");
            }
            resp.audit_annotations
                .insert(POLICY_ERRORS.to_owned(), outcome.errors.join("; "));
            if store.options().failure_policy == FailurePolicy::Fail {
                deny.extend(
                    outcome
                        .errors
                        .iter()
                        .map(|e| format!("policy evaluation failed: {e}")),
                );
            }
        }
        if deny.is_empty() {
            return;
        }
        let detail = format!("violates policies: {}", deny.join("; "));
        if resp.allowed {
            let annotations = std::mem::take(&mut resp.audit_annotations);
            let warnings = std::mem::take(&mut resp.warnings);
            *resp = forbidden_response(req, &detail);
            // As the API server's VAP plugin: NewForbidden with the first denying validation's
            // reason and that reason's code.
            if let (Some(reason), Some(status)) = (outcome.deny_reason, resp.status.as_mut()) {
                status.code = i32::from(palisade_policy::vap_reason_code(&reason));
                status.reason = reason;
            }
            resp.audit_annotations = annotations;
            resp.warnings = warnings;
        } else if let Some(status) = resp.status.as_mut().filter(|s| s.code == 403) {
            status.message.push_str("; ");
            status.message.push_str(&detail);
        }
    }
}

/// Evaluation results shared by the three modes of one request.
struct Results<'a> {
    meta: &'a Value,
    spec: &'a Value,
    opts: EvalOptions,
    cache: Vec<(Policy, Vec<Violation>)>,
}

impl Results<'_> {
    fn get(&mut self, p: Policy) -> &[Violation] {
        let i = match self.cache.iter().position(|(q, _)| *q == p) {
            Some(i) => i,
            None => {
                let v = pss::evaluate_with(&p, self.meta, self.spec, &self.opts);
                self.cache.push((p, v));
                self.cache.len() - 1
            }
        };
        self.cache.get(i).map_or(&[], |(_, v)| v.as_slice())
    }
}

/// PSA's `ForbiddenReason()`: the reasons only, comma-separated.
fn forbidden_reasons(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            if v.reason.is_empty() {
                "unknown forbidden reason"
            } else {
                v.reason.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn controller_uid(pod: &Value) -> Option<&str> {
    pod.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?
        .get("uid")?
        .as_str()
}

fn kind_is(object: &Value, kind: &str) -> bool {
    object
        .get("kind")
        .and_then(Value::as_str)
        .is_none_or(|k| k == kind)
}

fn not_an_object(v: &Value) -> String {
    let t = match v {
        Value::Null => "nothing (the object is missing or null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected a JSON object, got {t}")
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn containers<'a>(pod: &'a Value, key: &str) -> &'a [Value] {
    pod.get("spec")
        .and_then(|s| s.get(key))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn annotation<'a>(pod: &'a Value, key: &str) -> &'a str {
    pod.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// PSA's `isSignificantPodUpdate`: container or init container count changed, an image
/// changed (or a container's seccomp annotation), or an ephemeral container was added or
/// changed. Anything else cannot change the verdict of a pod that was admitted before.
pub fn is_significant_pod_update(pod: &Value, old: &Value) -> bool {
    let changed = |c: &Value, o: &Value| {
        let key = format!(
            "container.seccomp.security.alpha.kubernetes.io/{}",
            str_at(c, "name")
        );
        str_at(c, "image") != str_at(o, "image") || annotation(pod, &key) != annotation(old, &key)
    };
    for key in ["containers", "initContainers"] {
        let (new, old_c) = (containers(pod, key), containers(old, key));
        if new.len() != old_c.len() || new.iter().zip(old_c).any(|(c, o)| changed(c, o)) {
            return true;
        }
    }
    let old_eph = containers(old, "ephemeralContainers");
    containers(pod, "ephemeralContainers").iter().any(|c| {
        match old_eph
            .iter()
            .find(|o| str_at(o, "name") == str_at(c, "name"))
        {
            None => true,
            Some(o) => changed(c, o),
        }
    })
}

/// `GroupResource.String()`: `pods`, `deployments.apps`.
fn group_resource(req: &AdmissionRequest) -> String {
    if req.resource.group.is_empty() {
        req.resource.resource.clone()
    } else {
        format!("{}.{}", req.resource.resource, req.resource.group)
    }
}

/// apimachinery `NewForbidden(resource, name, err)`.
fn forbidden_response(req: &AdmissionRequest, err: &str) -> AdmissionResponse {
    let gr = group_resource(req);
    let message = if req.name.is_empty() {
        format!("{gr} is forbidden: {err}")
    } else {
        format!("{gr} {} is forbidden: {err}", go_quote(&req.name))
    };
    AdmissionResponse {
        allowed: false,
        status: Some(Status {
            status: "Failure".to_owned(),
            message,
            reason: "Forbidden".to_owned(),
            details: Some(StatusDetails {
                name: req.name.clone(),
                group: req.resource.group.clone(),
                kind: req.resource.resource.clone(),
                ..StatusDetails::default()
            }),
            code: 403,
            ..Status::default()
        }),
        ..AdmissionResponse::default()
    }
}

/// apimachinery `NewInvalid(kind, name, errs)` for invalid namespace labels (422).
fn invalid_response(req: &AdmissionRequest, errs: &[LabelError]) -> AdmissionResponse {
    let gk = if req.kind.group.is_empty() {
        req.kind.kind.clone()
    } else {
        format!("{}.{}", req.kind.kind, req.kind.group)
    };
    AdmissionResponse {
        allowed: false,
        status: Some(Status {
            status: "Failure".to_owned(),
            message: format!(
                "{gk} {} is invalid: {}",
                go_quote(&req.name),
                aggregate_errors(errs)
            ),
            reason: "Invalid".to_owned(),
            details: Some(StatusDetails {
                name: req.name.clone(),
                group: req.kind.group.clone(),
                kind: req.kind.kind.clone(),
                causes: errs
                    .iter()
                    .map(|e| StatusCause {
                        cause_type: "FieldValueInvalid".to_owned(),
                        message: e.body(),
                        field: e.field(),
                    })
                    .collect(),
                ..StatusDetails::default()
            }),
            code: 422,
            ..Status::default()
        }),
        ..AdmissionResponse::default()
    }
}

fn bad_request(msg: &str) -> Status {
    Status {
        status: "Failure".to_owned(),
        message: msg.to_owned(),
        reason: "BadRequest".to_owned(),
        code: 400,
        ..Status::default()
    }
}

fn internal_error(msg: &str) -> Status {
    Status {
        status: "Failure".to_owned(),
        message: format!("Internal error occurred: {msg}"),
        reason: "InternalError".to_owned(),
        details: Some(StatusDetails {
            causes: vec![StatusCause {
                message: msg.to_owned(),
                ..StatusCause::default()
            }],
            ..StatusDetails::default()
        }),
        code: 500,
        ..Status::default()
    }
}

/// PSA's `errorResponse`: denied, with the detail in the `error` audit annotation.
fn error_response(err: Option<&str>, status: Status) -> AdmissionResponse {
    let detail = match err {
        Some(e) => format!("{}: {e}", status.message),
        None => status.message.clone(),
    };
    let mut r = AdmissionResponse {
        allowed: false,
        status: Some(status),
        ..AdmissionResponse::default()
    };
    r.audit_annotations.insert("error".to_owned(), detail);
    r
}

/// What the API server would pass on to the client (`warning.go`): duplicates dropped;
/// past 4096 runes in total every warning is cut to 256 runes and, once the total is
/// reached again, later ones are dropped.
pub fn bound_warnings(warnings: Vec<String>) -> Vec<String> {
    let runes = |s: &str| s.chars().count();
    let cut = |s: &str| -> String { s.chars().take(WARNING_RUNES_EACH).collect() };
    let mut seen = std::collections::HashSet::new();
    let mut ordered: Vec<String> = Vec::with_capacity(warnings.len());
    let mut out: Vec<String> = Vec::with_capacity(warnings.len());
    let mut written = 0usize;
    let mut truncating = false;
    for text in warnings {
        if text.is_empty() || (truncating && written >= WARNING_TOTAL_RUNES) {
            continue;
        }
        if !seen.insert(text.clone()) {
            continue;
        }
        ordered.push(text.clone());
        let shown = if truncating { cut(&text) } else { text };
        let n = runes(&shown);
        if truncating || written + n <= WARNING_TOTAL_RUNES {
            written += n;
            out.push(shown);
            continue;
        }
        truncating = true;
        out.clear();
        written = 0;
        for t in &ordered {
            let t = cut(t);
            written += runes(&t);
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn warnings_bounded_like_the_api_server() {
        let short = vec!["a".to_owned(), "a".to_owned(), "b".to_owned()];
        assert_eq!(bound_warnings(short), vec!["a", "b"]);
        let long: Vec<String> = (0..40)
            .map(|i| format!("{i:03}{}", "x".repeat(300)))
            .collect();
        let out = bound_warnings(long);
        assert!(out.iter().all(|w| w.chars().count() <= 256));
        let total: usize = out.iter().map(|w| w.chars().count()).sum();
        // The 14th warning crosses 4096 runes: all are replayed cut to 256 runes, and
        // later ones are added while the total is under 4096.
        assert_eq!(out.len(), 16);
        assert_eq!(total, 4096);
        assert!(out[0].starts_with("000"));
    }

    #[test]
    fn significant_updates() {
        let pod = |image: &str, eph: Value| json!({"metadata": {"annotations": {}}, "spec": {"containers": [{"name": "a", "image": image}], "ephemeralContainers": eph}});
        let old = pod("nginx:1", json!([]));
        assert!(!is_significant_pod_update(&pod("nginx:1", json!([])), &old));
        assert!(is_significant_pod_update(&pod("nginx:2", json!([])), &old));
        assert!(is_significant_pod_update(
            &pod("nginx:1", json!([{"name": "debug", "image": "busybox"}])),
            &old
        ));
        let mut labelled = pod("nginx:1", json!([]));
        labelled["metadata"]["labels"] = json!({"x": "y"});
        assert!(!is_significant_pod_update(&labelled, &old));
        let mut seccomp = pod("nginx:1", json!([]));
        seccomp["metadata"]["annotations"] =
            json!({"container.seccomp.security.alpha.kubernetes.io/a": "unconfined"});
        assert!(is_significant_pod_update(&seccomp, &old));
    }
}
