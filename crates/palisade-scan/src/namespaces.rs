//! `--pss-level namespace`: each pod and workload judged at the Pod Security level its
//! namespace's labels give it, as Pod Security Admission resolves them
//! (`api.PolicyToEvaluate` with PSA's built-in defaults, every mode `privileged:latest`).
//!
//! palisade-admit resolves the same labels for admission (`palisade_admit::policy`); the scan
//! library does not depend on the webhook server, so the resolution is here again, and a test
//! checks that both agree on every label combination it tries.

use palisade_rules::pss::{Level, Policy, Version};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

pub const ENFORCE_LEVEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION: &str = "pod-security.kubernetes.io/warn-version";

const PRIVILEGED_LATEST: Policy = Policy {
    level: Level::Privileged,
    version: Version::Latest,
};

/// A namespace's three Pod Security modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: Policy,
    pub audit: Policy,
    pub warn: Policy,
}

impl NamespacePolicy {
    /// No labels: every mode `privileged:latest`, as PSA without an admission configuration.
    pub const PRIVILEGED: NamespacePolicy = NamespacePolicy {
        enforce: PRIVILEGED_LATEST,
        audit: PRIVILEGED_LATEST,
        warn: PRIVILEGED_LATEST,
    };
}

/// Whether two policies judge every pod alike (a privileged policy at any version allows all).
pub fn same_judgement(a: &Policy, b: &Policy) -> bool {
    a.level == b.level && (a.level == Level::Privileged || a.version == b.version)
}

/// Resolves a Namespace's labels. Invalid values resolve as PSA resolves them (an invalid
/// enforce level fails closed to restricted, an invalid audit/warn level fails open to
/// privileged, an invalid version is `latest`); each is returned as `label: message` for a note.
pub fn resolve(labels: &serde_json::Map<String, Value>) -> (NamespacePolicy, Vec<String>) {
    let mut p = NamespacePolicy::PRIVILEGED;
    let mut problems = Vec::new();
    let get = |k: &str| labels.get(k).map(|v| v.as_str().unwrap_or_default());
    let mut level = |key: &str, fallback: Level, slot: &mut Level| {
        if let Some(v) = get(key) {
            match v.parse::<Level>() {
                Ok(l) => *slot = l,
                Err(_) => {
                    *slot = fallback;
                    problems.push(format!(
                        "label {key}={v:?} is not privileged, baseline or restricted; Pod Security Admission reads it as {fallback}"
                    ));
                }
            }
        }
    };
    level(ENFORCE_LEVEL, Level::Restricted, &mut p.enforce.level);
    level(AUDIT_LEVEL, Level::Privileged, &mut p.audit.level);
    level(WARN_LEVEL, Level::Privileged, &mut p.warn.level);
    let mut version = |key: &str, slot: &mut Version| {
        if let Some(v) = get(key) {
            match v.parse::<Version>() {
                Ok(x) => *slot = x,
                Err(_) => {
                    *slot = Version::Latest;
                    problems.push(format!(
                        "label {key}={v:?} is not \"latest\" or \"v1.N\"; Pod Security Admission reads it as latest"
                    ));
                }
            }
        }
    };
    version(ENFORCE_VERSION, &mut p.enforce.version);
    version(AUDIT_VERSION, &mut p.audit.version);
    version(WARN_VERSION, &mut p.warn.version);
    // PSA: an unset warn level follows a validly set, stricter enforce level (and its version,
    // unless warn-version is set), so that `kubectl` users see what enforce would refuse.
    let enforce_valid = get(ENFORCE_LEVEL).is_some_and(|v| v.parse::<Level>().is_ok());
    if get(WARN_LEVEL).is_none() && enforce_valid && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if get(WARN_VERSION).is_none() {
            p.warn.version = p.enforce.version;
        }
    }
    (p, problems)
}

/// What is known of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub policy: NamespacePolicy,
    /// `file:line` of the Namespace object, for notes.
    pub source: String,
}

/// Namespace name -> its policy, filled as Namespace objects arrive (from any worker thread).
#[derive(Debug, Default)]
pub(crate) struct Table {
    inner: Mutex<HashMap<String, Known>>,
}

impl Table {
    /// Records a Namespace object; returns a note text when the same namespace was seen before
    /// with other labels (the first one seen is kept).
    pub(crate) fn insert(&self, name: &str, known: Known) -> Option<String> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(name) {
            Some(old) if old.policy != known.policy => Some(format!(
                "namespace {name} is defined again with other Pod Security labels ({} and {}); --pss-level namespace uses the first one read, which depends on the order files are parsed in",
                old.source, known.source
            )),
            Some(_) => None,
            None => {
                map.insert(name.to_owned(), known);
                None
            }
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<NamespacePolicy> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(name).map(|k| k.policy)
    }
}

/// The labels of a `v1` Namespace object, or `None` for any other object.
pub(crate) fn namespace_labels(object: &Value) -> Option<(&str, serde_json::Map<String, Value>)> {
    if object.get("apiVersion").and_then(Value::as_str) != Some("v1")
        || object.get("kind").and_then(Value::as_str) != Some("Namespace")
    {
        return None;
    }
    let meta = object.get("metadata")?;
    let name = meta.get("name").and_then(Value::as_str)?;
    let labels = meta
        .get("labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Some((name, labels))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::collections::BTreeMap;

    fn both(pairs: &[(&str, &str)]) -> (NamespacePolicy, usize) {
        let map: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        let (mine, problems) = resolve(&map);
        let btree: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (theirs, errs) = palisade_admit::policy::policy_to_evaluate(
            &btree,
            &palisade_admit::policy::NamespacePolicy::PRIVILEGED,
        );
        assert_eq!(mine.enforce, theirs.enforce, "{pairs:?}");
        assert_eq!(mine.audit, theirs.audit, "{pairs:?}");
        assert_eq!(mine.warn, theirs.warn, "{pairs:?}");
        assert_eq!(problems.len(), errs.len(), "{pairs:?}");
        (mine, problems.len())
    }

    #[test]
    fn agrees_with_admit_on_every_combination_tried() {
        let levels = [
            None,
            Some("privileged"),
            Some("baseline"),
            Some("restricted"),
            Some("bogus"),
        ];
        let versions = [None, Some("latest"), Some("v1.25"), Some("v1.x")];
        let mut cases = 0;
        for e in levels {
            for ev in versions {
                for w in levels {
                    for wv in [None, Some("v1.30")] {
                        for a in [None, Some("baseline"), Some("nope")] {
                            let mut pairs = Vec::new();
                            let mut add = |k, v: Option<&'static str>| {
                                if let Some(v) = v {
                                    pairs.push((k, v));
                                }
                            };
                            add(ENFORCE_LEVEL, e);
                            add(ENFORCE_VERSION, ev);
                            add(WARN_LEVEL, w);
                            add(WARN_VERSION, wv);
                            add(AUDIT_LEVEL, a);
                            both(&pairs);
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 5 * 4 * 5 * 2 * 3);
    }

    #[test]
    fn absent_labels_are_privileged_and_invalid_enforce_fails_closed() {
        let (p, n) = both(&[]);
        assert_eq!(p, NamespacePolicy::PRIVILEGED);
        assert_eq!(n, 0);
        let (p, n) = both(&[(ENFORCE_LEVEL, "strict")]);
        assert_eq!(p.enforce.level, Level::Restricted);
        assert_eq!(n, 1);
        let (p, _) = both(&[(ENFORCE_LEVEL, "baseline"), (ENFORCE_VERSION, "v1.23")]);
        assert_eq!(p.enforce.to_string(), "baseline:v1.23");
        assert_eq!(p.warn.to_string(), "baseline:v1.23", "warn follows enforce");
    }
}
