//! Owner deduplication: an object created by a built-in controller (a Pod of a ReplicaSet, a
//! ReplicaSet of a Deployment, a Job of a CronJob) repeats its owner's pod template, so its
//! findings repeat the owner's. When the owner is in the scanned set, the owned object is not
//! reported and the top owner carries the findings, as trivy k8s and kubescape do; bare pods
//! and objects owned by other kinds (operators' custom resources) are kept, or their findings
//! would be lost.
//!
//! Objects arrive in any order (pods may be listed before their ReplicaSets), so the decision
//! is made at the end: each object's controller reference is remembered (a few strings, not
//! the object), each workload's identity too, and findings of owned objects whose owner was
//! seen are dropped then.

use palisade_core::ObjectRef;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The built-in workload kinds whose controllers copy a pod template into what they create.
fn is_controller_kind(api_version: &str, kind: &str) -> bool {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    match kind {
        "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet" => group == "apps",
        "Job" | "CronJob" => group == "batch",
        "ReplicationController" => api_version == "v1",
        _ => false,
    }
}

/// An owner named by kind, namespace and name (ownerReferences point within the namespace).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OwnerName {
    kind: String,
    namespace: String,
    name: String,
}

/// What one object says about ownership.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// The object is a controller kind: its name and uid.
    pub workload: Option<(OwnerName, Option<String>)>,
    /// Its controller reference to a controller kind: owner and the uid it names.
    pub owner: Option<(OwnerName, Option<String>)>,
}

pub(crate) fn facts(object: &Value) -> Facts {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let meta = object.get("metadata");
    let namespace = s(meta.and_then(|m| m.get("namespace")));
    let api_version = s(object.get("apiVersion"));
    let kind = s(object.get("kind"));
    let mut out = Facts::default();
    if is_controller_kind(&api_version, &kind) {
        let uid = meta
            .and_then(|m| m.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.workload = Some((
            OwnerName {
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: s(meta.and_then(|m| m.get("name"))),
            },
            uid,
        ));
    }
    let refs = meta
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array);
    for r in refs.into_iter().flatten() {
        let controller = r.get("controller").and_then(Value::as_bool) == Some(true);
        let (rv, rk) = (s(r.get("apiVersion")), s(r.get("kind")));
        if controller && is_controller_kind(&rv, &rk) {
            out.owner = Some((
                OwnerName {
                    kind: rk,
                    namespace: namespace.clone(),
                    name: s(r.get("name")),
                },
                r.get("uid").and_then(Value::as_str).map(str::to_owned),
            ));
            // A valid object has at most one controller reference.
            break;
        }
    }
    out
}

/// Identity of an owned object as its findings name it.
pub(crate) type ObjectKey = (String, usize, ObjectRef);

/// Ownership facts gathered over a whole scan.
#[derive(Debug, Default)]
pub(crate) struct Owners {
    /// Workloads seen: name -> uids seen under that name (`None`: written without a uid).
    seen: HashMap<OwnerName, Vec<Option<String>>>,
    /// Owned objects: their identity and their controller reference.
    owned: Vec<(ObjectKey, OwnerName, Option<String>)>,
}

impl Owners {
    pub(crate) fn record(&mut self, key: impl FnOnce() -> ObjectKey, f: Facts) {
        if let Some((name, uid)) = f.workload {
            self.seen.entry(name).or_default().push(uid);
        }
        if let Some((name, uid)) = f.owner {
            self.owned.push((key(), name, uid));
        }
    }

    pub(crate) fn merge(&mut self, other: Owners) {
        for (name, uids) in other.seen {
            self.seen.entry(name).or_default().extend(uids);
        }
        self.owned.extend(other.owned);
    }

    /// The owned objects whose owner is in the set. Names must match; uids must too when
    /// both sides carry one (an ownerReference to a deleted and recreated owner is stale).
    pub(crate) fn dropped(&self) -> HashSet<&ObjectKey> {
        self.owned
            .iter()
            .filter(|(_, name, uid)| {
                self.seen.get(name).is_some_and(|uids| {
                    uids.iter().any(|seen| match (seen, uid) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    })
                })
            })
            .map(|(key, _, _)| key)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn pod(owner_kind: &str, owner_api: &str, controller: bool, uid: Option<&str>) -> Value {
        let mut r = json!({"apiVersion": owner_api, "kind": owner_kind, "name": "web", "controller": controller});
        if let Some(u) = uid {
            r["uid"] = json!(u);
        }
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "a", "ownerReferences": [r]}})
    }

    fn key(n: &str) -> ObjectKey {
        (n.to_owned(), 0, ObjectRef::default())
    }

    #[test]
    fn controller_references_to_builtin_kinds_only() {
        assert!(
            facts(&pod("ReplicaSet", "apps/v1", true, None))
                .owner
                .is_some()
        );
        assert!(facts(&pod("Job", "batch/v1", true, None)).owner.is_some());
        assert!(
            facts(&pod("ReplicationController", "v1", true, None))
                .owner
                .is_some()
        );
        assert!(
            facts(&pod("ReplicaSet", "apps/v1", false, None))
                .owner
                .is_none(),
            "not the controller"
        );
        assert!(
            facts(&pod("Rollout", "argoproj.io/v1alpha1", true, None))
                .owner
                .is_none(),
            "custom kind"
        );
        assert!(
            facts(&pod("ReplicaSet", "example.com/v1", true, None))
                .owner
                .is_none(),
            "other group"
        );
    }

    #[test]
    fn dropped_only_when_the_owner_was_seen_with_a_matching_uid() {
        let rs = |uid: Option<&str>| {
            let mut v = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "a"}});
            if let Some(u) = uid {
                v["metadata"]["uid"] = json!(u);
            }
            v
        };
        let mut o = Owners::default();
        o.record(
            || key("p1"),
            facts(&pod("ReplicaSet", "apps/v1", true, Some("u1"))),
        );
        o.record(
            || key("p2"),
            facts(&pod("ReplicaSet", "apps/v1", true, Some("u2"))),
        );
        o.record(
            || key("p3"),
            facts(&pod("ReplicaSet", "apps/v1", true, None)),
        );
        assert!(o.dropped().is_empty(), "no owner seen yet");
        let mut later = Owners::default();
        later.record(|| key("rs"), facts(&rs(Some("u1"))));
        o.merge(later);
        let d = o.dropped();
        assert!(d.contains(&key("p1")));
        assert!(!d.contains(&key("p2")), "stale uid");
        assert!(d.contains(&key("p3")), "no uid on the reference: by name");
    }
}
