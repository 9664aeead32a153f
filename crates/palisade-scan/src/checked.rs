//! Which rules checked which object, for the `pass` results of the PolicyReport and
//! OpenReports formats ([`palisade_report::CheckedObject`]). Collected only when asked
//! ([`crate::Options::collect_checked`]).
//!
//! The rules crate runs every selected per-object rule on every object and reports only what
//! it finds, so "ran on" is decided here, by the kind of object each rule is about: a `pass`
//! for "Services should not be exposed" on a Deployment would be noise. A rule missing from
//! [`class_rules`] never gets a `pass` (its findings are still `fail`/`skip` results): the
//! subject-level RBAC rules (they judge users and service accounts, not an object) and the
//! namespace-level NetworkPolicy rules. NETPOL001/002 pass only with `assume_complete` (a
//! namespace without a policy in the set may not have been judged otherwise).
//!
//! Compact: per object its identity, its document (for owner deduplication) and one byte
//! naming a precomputed rule set; the rule ID strings exist once per set until the report.

use palisade_core::{ObjectRef, RuleMeta, Severity};
use palisade_rules::Selection;
use palisade_rules::pss::Level;
use serde_json::Value;
use std::sync::Arc;

/// The kinds of object the rules are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A Pod or anything with a pod template.
    Workload,
    Service,
    Ingress,
    ConfigMap,
    NetworkPolicy,
    ServiceAccount,
    Binding,
    Other,
}

const CLASSES: [Class; 8] = [
    Class::Workload,
    Class::Service,
    Class::Ingress,
    Class::ConfigMap,
    Class::NetworkPolicy,
    Class::ServiceAccount,
    Class::Binding,
    Class::Other,
];

const LEVELS: [Level; 3] = [Level::Privileged, Level::Baseline, Level::Restricted];

impl Class {
    pub(crate) fn of(value: &Value) -> Class {
        if palisade_rules::pss::workload_template(value).is_some() {
            return Class::Workload;
        }
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        match (api, kind) {
            ("v1", "Service") => Class::Service,
            ("v1", "ConfigMap") => Class::ConfigMap,
            ("v1", "ServiceAccount") => Class::ServiceAccount,
            (a, "Ingress")
                if a.starts_with("networking.k8s.io/") || a.starts_with("extensions/") =>
            {
                Class::Ingress
            }
            (a, "NetworkPolicy") if a.starts_with("networking.k8s.io/") => Class::NetworkPolicy,
            (a, "RoleBinding" | "ClusterRoleBinding")
                if a.starts_with("rbac.authorization.k8s.io/") =>
            {
                Class::Binding
            }
            _ => Class::Other,
        }
    }
}

/// Whether `rule` is about objects of `class` (PSS rules: about workloads, further narrowed
/// by level in [`RuleSets`]).
pub(crate) fn class_rules(rule: &RuleMeta, class: Class, assume_complete: bool) -> bool {
    let id = rule.id;
    match rule.family {
        "pss" => class == Class::Workload,
        "reliability" => class == Class::Workload,
        "hardening" => match id {
            // Any object: a removed apiVersion.
            "HRD028" => true,
            "HRD022" | "HRD023" => class == Class::Service,
            "HRD026" | "HRD029" => class == Class::Ingress,
            "HRD027" => class == Class::ConfigMap,
            "HRD031" => class == Class::NetworkPolicy,
            _ => class == Class::Workload,
        },
        "rbac" => match id {
            "RBAC028" | "RBAC030" => class == Class::Workload,
            "RBAC026" | "RBAC027" => class == Class::Binding,
            "RBAC031" => class == Class::ServiceAccount,
            _ => false,
        },
        "netpol" => match id {
            "NETPOL001" | "NETPOL002" => assume_complete && class == Class::Workload,
            "NETPOL005" | "NETPOL006" | "NETPOL007" | "NETPOL008" | "NETPOL009" => {
                class == Class::NetworkPolicy
            }
            _ => false,
        },
        _ => false,
    }
}

/// A PSS rule's level, from its Pod Security Standards reference (`#baseline`/`#restricted`).
fn pss_level(rule: &RuleMeta) -> Level {
    let restricted = rule
        .references
        .iter()
        .any(|r| r.source == "pss" && r.url.ends_with("#restricted"));
    if restricted {
        Level::Restricted
    } else {
        Level::Baseline
    }
}

/// The rule sets an object can have: one per class and PSS level, built once per scan.
#[derive(Debug, Default)]
pub(crate) struct RuleSets {
    sets: Vec<Arc<[&'static str]>>,
}

impl RuleSets {
    pub(crate) fn new(
        selection: &Selection,
        severity: &[Severity],
        assume_complete: bool,
    ) -> RuleSets {
        let rules: Vec<&'static RuleMeta> = selection
            .rules()
            .into_iter()
            // A rule whose findings --severity hides has not passed: it is not shown at all.
            .filter(|r| severity.is_empty() || severity.contains(&r.severity))
            .collect();
        let mut sets = Vec::new();
        for class in CLASSES {
            for level in LEVELS {
                let ids: Vec<&'static str> = rules
                    .iter()
                    .filter(|r| class_rules(r, class, assume_complete))
                    .filter(|r| r.family != "pss" || pss_level(r) <= level)
                    .filter(|r| r.family != "pss" || level != Level::Privileged)
                    .map(|r| r.id)
                    .collect();
                sets.push(ids.into());
            }
        }
        RuleSets { sets }
    }

    /// The set's number for an object of `class` judged at `level`.
    pub(crate) fn index(class: Class, level: Level) -> u8 {
        let c = CLASSES.iter().position(|x| *x == class).unwrap_or(0);
        let l = LEVELS.iter().position(|x| *x == level).unwrap_or(0);
        u8::try_from(c * LEVELS.len() + l).unwrap_or(0)
    }

    pub(crate) fn get(&self, index: u8) -> &[&'static str] {
        self.sets.get(usize::from(index)).map_or(&[], |s| &s[..])
    }
}

/// One checked object, as the pipeline keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub file: Arc<str>,
    pub document: usize,
    pub object: ObjectRef,
    pub uid: Option<String>,
    pub set: u8,
}

impl Entry {
    pub(crate) fn new(
        doc: &palisade_core::Document,
        class: Class,
        level: Level,
        uid: Option<String>,
    ) -> Entry {
        Entry {
            file: doc.file.clone(),
            document: doc.index,
            object: ObjectRef::of(&doc.value),
            uid,
            set: RuleSets::index(class, level),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn classes_and_levels() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x"}]}});
        assert_eq!(Class::of(&pod), Class::Workload);
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}});
        assert_eq!(Class::of(&svc), Class::Service);
        let sets = RuleSets::new(&Selection::all(), &[], false);
        let restricted = sets.get(RuleSets::index(Class::Workload, Level::Restricted));
        let baseline = sets.get(RuleSets::index(Class::Workload, Level::Baseline));
        let privileged = sets.get(RuleSets::index(Class::Workload, Level::Privileged));
        assert!(restricted.contains(&"PSS017") && restricted.contains(&"PSS007"));
        assert!(!baseline.contains(&"PSS017") && baseline.contains(&"PSS007"));
        assert!(!privileged.iter().any(|r| r.starts_with("PSS")));
        assert!(restricted.contains(&"HRD001") && !restricted.contains(&"HRD022"));
        // Without assume_complete, isolation is not judged everywhere: no pass for it.
        assert!(!restricted.contains(&"NETPOL001"));
        let service = sets.get(RuleSets::index(Class::Service, Level::Restricted));
        assert!(service.contains(&"HRD022") && service.contains(&"HRD028"));
        assert!(!service.iter().any(|r| r.starts_with("PSS")));
        let high = RuleSets::new(&Selection::all(), &[Severity::Critical], false);
        let w = high.get(RuleSets::index(Class::Workload, Level::Restricted));
        assert!(!w.is_empty());
        assert!(
            w.iter()
                .all(|id| { palisade_rules::rule(id).unwrap().severity == Severity::Critical })
        );
    }
}
