//! Prometheus metrics for `/metrics` (OpenMetrics text). Label values come from small fixed
//! sets (known resources, operations, catalog rule IDs), never from free request text, so
//! a caller cannot grow the series count.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    resource: &'static str,
    operation: &'static str,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: &'static str,
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Histogram,
    rule_hits: Family<RuleLabels, Counter>,
    exemptions: Family<ReasonLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    cert_reloads: Family<ReasonLabels, Counter>,
    policy_evaluations: Counter,
    policy_violations: Family<ActionLabels, Counter>,
    policy_errors: Family<ReasonLabels, Counter>,
    policy_duration: Histogram,
    policy_reloads: Family<ResultLabels, Counter>,
    connections: palisade_tls::serve::ConnMetrics,
}

/// The decision recorded for one review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    Error,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Error => "error",
        }
    }
}

const RESOURCES: [&str; 11] = [
    "pods",
    "namespaces",
    "replicationcontrollers",
    "podtemplates",
    "replicasets",
    "deployments",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "other",
];

fn bounded<'a>(value: &str, set: &[&'a str], other: &'a str) -> &'a str {
    set.iter().find(|s| **s == value).copied().unwrap_or(other)
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        // 25 µs .. ~3.3 s: the fast path is microseconds, the API server's timeout is seconds.
        let duration = Histogram::new(exponential_buckets(0.000_025, 2.0, 18));
        let rule_hits = Family::<RuleLabels, Counter>::default();
        let exemptions = Family::<ReasonLabels, Counter>::default();
        let rejected = Family::<ReasonLabels, Counter>::default();
        let cert_reloads = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "palisade_admit_reviews",
            "AdmissionReviews answered, by resource, operation and decision",
            requests.clone(),
        );
        registry.register(
            "palisade_admit_review_duration_seconds",
            "Time to decode and decide one review (from the body received, TLS and HTTP excluded)",
            duration.clone(),
        );
        registry.register(
            "palisade_admit_rule_hits",
            "Rule violations found, by rule ID and mode (enforce, audit, warn)",
            rule_hits.clone(),
        );
        registry.register(
            "palisade_admit_exemptions",
            "Requests exempted, by reason (namespace, user, runtimeClass)",
            exemptions.clone(),
        );
        registry.register(
            "palisade_admit_http_rejections",
            "Requests refused before a review (bad_request, too_large, timeout, media_type)",
            rejected.clone(),
        );
        registry.register(
            "palisade_admit_cert_reloads",
            "Serving certificate reloads, by result (ok, error)",
            cert_reloads.clone(),
        );
        let policy_evaluations = Counter::default();
        let policy_violations = Family::<ActionLabels, Counter>::default();
        let policy_errors = Family::<ReasonLabels, Counter>::default();
        // 5 µs .. ~0.65 s: a constraint is microseconds, the default budget 100 ms.
        let policy_duration = Histogram::new(exponential_buckets(0.000_005, 2.0, 18));
        let policy_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "palisade_admit_policy_evaluations",
            "--policy evaluations (one per constraint, one per review for all VAPs)",
            policy_evaluations.clone(),
        );
        registry.register(
            "palisade_admit_policy_violations",
            "--policy violations, by enforcement action (deny, warn, dryrun)",
            policy_violations.clone(),
        );
        registry.register(
            "palisade_admit_policy_errors",
            "--policy evaluations that failed, by reason (error, timeout)",
            policy_errors.clone(),
        );
        registry.register(
            "palisade_admit_policy_evaluation_duration_seconds",
            "Time to evaluate every --policy on one review",
            policy_duration.clone(),
        );
        registry.register(
            "palisade_admit_policy_reloads",
            "--policy reloads after a file change, by result (ok, error)",
            policy_reloads.clone(),
        );
        // palisade_admit_connections_*, palisade_admit_body_budget_rejections_total, ...
        let connections = palisade_tls::serve::ConnMetrics::default();
        connections.register(registry.sub_registry_with_prefix("palisade_admit"));
        Metrics {
            registry,
            connections,
            requests,
            duration,
            rule_hits,
            exemptions,
            rejected,
            cert_reloads,
            policy_evaluations,
            policy_violations,
            policy_errors,
            policy_duration,
            policy_reloads,
        }
    }

    pub fn review(&self, resource: &str, operation: &str, decision: Decision, took: Duration) {
        let labels = RequestLabels {
            resource: bounded(resource, &RESOURCES, "other"),
            operation: bounded(
                operation,
                &["CREATE", "UPDATE", "DELETE", "CONNECT"],
                "other",
            ),
            decision: decision.as_str(),
        };
        self.requests.get_or_create(&labels).inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// `rule` must be a catalog ID (bounded set).
    pub fn rule_hit(&self, rule: &'static str, mode: &'static str) {
        self.rule_hits
            .get_or_create(&RuleLabels { rule, mode })
            .inc();
    }

    pub fn exemption(&self, reason: &'static str) {
        self.exemptions
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn cert_reload(&self, ok: bool) {
        let reason = if ok { "ok" } else { "error" };
        self.cert_reloads
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// `n` more policy evaluations.
    pub fn policy_evaluations(&self, n: usize) {
        self.policy_evaluations
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// `action`: deny, warn or dryrun.
    pub fn policy_violation(&self, action: &'static str) {
        self.policy_violations
            .get_or_create(&ActionLabels { action })
            .inc();
    }

    /// `reason`: error or timeout.
    pub fn policy_error(&self, reason: &'static str) {
        self.policy_errors
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn policy_duration(&self, took: Duration) {
        self.policy_duration.observe(took.as_secs_f64());
    }

    pub fn policy_reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.policy_reloads
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// The webhook port's connection metrics (kept by the serving layer).
    pub fn connections(&self) -> &palisade_tls::serve::ConnMetrics {
        &self.connections
    }

    /// OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
