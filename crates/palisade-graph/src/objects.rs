//! What both analyses need from raw objects: workloads (anything that runs pods) with their
//! pod template's labels, service account and ports; namespaces with their labels; and
//! Kubernetes label selectors.

use palisade_core::{Document, FieldPath};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub type Labels = BTreeMap<String, String>;

#[cfg(test)]
thread_local! {
    /// Pairwise checks (selector against labels, token check, subject against workload,
    /// rule against request) made on this thread: tests compare it across input sizes.
    pub(crate) static CHECKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one pairwise check (tests only).
#[inline]
pub(crate) fn count_check() {
    #[cfg(test)]
    CHECKS.with(|c| c.set(c.get() + 1));
}

/// `apiVersion`'s group (`""` for the core group).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

pub fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

pub fn kind(v: &Value) -> &str {
    str_at(v, &["kind"]).unwrap_or("")
}

pub fn name(v: &Value) -> &str {
    str_at(v, &["metadata", "name"]).unwrap_or("")
}

/// `metadata.namespace`, or `default` as `kubectl apply` would use for namespaced kinds.
pub fn namespace(v: &Value) -> &str {
    str_at(v, &["metadata", "namespace"])
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

/// Whether `metadata.namespace` is set (kubectl reads an empty one as unset).
pub fn namespace_given(v: &Value) -> bool {
    str_at(v, &["metadata", "namespace"]).is_some_and(|s| !s.is_empty())
}

/// Names of objects (`(identity, file)` pairs, in order) for a message: each identity once,
/// where it came first, with how often it is defined when the input repeats it (the same
/// object in several files, or a file applying it several times).
pub fn distinct<'a>(items: impl IntoIterator<Item = (String, &'a str)>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut seen: BTreeMap<String, (usize, BTreeSet<&'a str>)> = BTreeMap::new();
    for (id, file) in items {
        let entry = seen.entry(id).or_insert_with_key(|id| {
            order.push(id.clone());
            (0, BTreeSet::new())
        });
        entry.0 += 1;
        entry.1.insert(file);
    }
    order
        .into_iter()
        .map(|id| match seen.get(&id) {
            Some((_, files)) if files.len() > 1 => {
                format!("{id} (defined in {} files)", files.len())
            }
            Some((n, _)) if *n > 1 => format!("{id} (defined {n} times in one file)"),
            _ => id,
        })
        .collect()
}

/// A string-to-string map (labels, annotations, matchLabels); non-string values are skipped
/// (the API server would reject them), numbers and booleans stringified as written.
pub fn string_map(v: Option<&Value>) -> Labels {
    let mut out = Labels::new();
    if let Some(Value::Object(m)) = v {
        for (k, val) in m {
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A container port as declared in a pod template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: String,
}

/// Anything that runs pods: a Pod, a controller with a pod template, or a PodTemplate.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Index into the analysed document slice.
    pub doc: usize,
    /// The file it was read from.
    pub file: Arc<str>,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Whether the object as analysed sets `metadata.namespace` (a manifest without one is
    /// read as `default`; `-n` placement sets it before the analysis).
    pub namespace_given: bool,
    /// Labels of the pods it creates (the template's labels, or the Pod's own).
    pub labels: Labels,
    /// `serviceAccountName` (or the deprecated `serviceAccount`), `default` when unset.
    pub service_account: String,
    /// The pod spec's `automountServiceAccountToken`, when set.
    pub automount: Option<bool>,
    pub ports: Vec<ContainerPort>,
    /// Path from the object root to the pod template (empty for a Pod).
    pub template: FieldPath,
}

impl Workload {
    /// `Kind/namespace/name`, as findings name objects.
    pub fn display(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }

    /// `namespace/Kind/name`: the form `netpol can-reach` takes its FROM and TO in, so what
    /// the queries print can be given back to them.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// The pod template of a workload kind, as the API server defines it per group and kind.
pub(crate) fn template_keys(v: &Value) -> Option<&'static [&'static str]> {
    let api_version = str_at(v, &["apiVersion"])?;
    Some(match (group_of(api_version), kind(v)) {
        ("", "Pod") => &[],
        ("", "PodTemplate") => &["template"],
        ("", "ReplicationController")
        | ("apps" | "extensions", "Deployment" | "ReplicaSet" | "DaemonSet")
        | ("apps", "StatefulSet")
        | ("batch", "Job") => &["spec", "template"],
        ("batch", "CronJob") => &["spec", "jobTemplate", "spec", "template"],
        _ => return None,
    })
}

/// The workload described by `doc`, if it runs pods.
pub fn workload(index: usize, doc: &Document) -> Option<Workload> {
    let v = &doc.value;
    let keys = template_keys(v)?;
    let holder = keys.iter().try_fold(v, |h, k| h.get(k))?;
    let spec = holder.get("spec");
    let sa = spec
        .and_then(|s| {
            s.get("serviceAccountName")
                .or_else(|| s.get("serviceAccount"))
        })
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let mut ports = Vec::new();
    for list in ["initContainers", "containers"] {
        let Some(Value::Array(cs)) = spec.and_then(|s| s.get(list)) else {
            continue;
        };
        for c in cs {
            let Some(Value::Array(ps)) = c.get("ports") else {
                continue;
            };
            for p in ps {
                let Some(port) = p
                    .get("containerPort")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                else {
                    continue;
                };
                ports.push(ContainerPort {
                    name: p.get("name").and_then(Value::as_str).map(str::to_owned),
                    port,
                    protocol: p
                        .get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("TCP")
                        .to_owned(),
                });
            }
        }
    }
    let mut template = FieldPath::root();
    for k in keys {
        template = template.key(*k);
    }
    Some(Workload {
        doc: index,
        file: doc.file.clone(),
        kind: kind(v).to_owned(),
        namespace: namespace(v).to_owned(),
        name: name(v).to_owned(),
        namespace_given: namespace_given(v),
        labels: string_map(holder.get("metadata").and_then(|m| m.get("labels"))),
        service_account: sa.to_owned(),
        automount: spec
            .and_then(|s| s.get("automountServiceAccountToken"))
            .and_then(Value::as_bool),
        ports,
        template,
    })
}

/// A Kubernetes `LabelSelector` (`matchLabels` AND `matchExpressions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub match_labels: Labels,
    pub expressions: Vec<Requirement>,
    /// An operator Palisade does not know, or a malformed expression: selects nothing, as
    /// the API server would refuse the object.
    pub invalid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    pub fn parse(v: Option<&Value>) -> Selector {
        let mut sel = Selector {
            match_labels: string_map(v.and_then(|v| v.get("matchLabels"))),
            ..Selector::default()
        };
        if let Some(Value::Array(exprs)) = v.and_then(|v| v.get("matchExpressions")) {
            for e in exprs {
                let key = e.get("key").and_then(Value::as_str);
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Some(Op::In),
                    Some("NotIn") => Some(Op::NotIn),
                    Some("Exists") => Some(Op::Exists),
                    Some("DoesNotExist") => Some(Op::DoesNotExist),
                    _ => None,
                };
                match (key, op) {
                    (Some(k), Some(op)) => sel.expressions.push(Requirement {
                        key: k.to_owned(),
                        op,
                        values: string_list(e.get("values")),
                    }),
                    _ => sel.invalid = true,
                }
            }
        }
        sel
    }

    /// `{}`: selects everything.
    pub fn is_empty(&self) -> bool {
        !self.invalid && self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        count_check();
        if self.invalid {
            return false;
        }
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|r| {
                let got = labels.get(&r.key);
                match r.op {
                    Op::In => got.is_some_and(|g| r.values.contains(g)),
                    // NotIn and DoesNotExist match objects without the key.
                    Op::NotIn => got.is_none_or(|g| !r.values.contains(g)),
                    Op::Exists => got.is_some(),
                    Op::DoesNotExist => got.is_none(),
                }
            })
    }

    /// `k=v,k2 in (a,b)` for messages.
    pub fn display(&self) -> String {
        if self.is_empty() {
            return "{} (all)".to_owned();
        }
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for r in &self.expressions {
            parts.push(match r.op {
                Op::In => format!("{} in ({})", r.key, r.values.join(",")),
                Op::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                Op::Exists => r.key.clone(),
                Op::DoesNotExist => format!("!{}", r.key),
            });
        }
        parts.join(",")
    }
}

/// Namespaces seen in the set: from `Namespace` objects (with their labels) and from the
/// `metadata.namespace` of namespaced objects. Every namespace carries the automatic
/// `kubernetes.io/metadata.name` label, as the API server sets it.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
    /// The `Namespace` object, when one was scanned.
    pub doc: Option<usize>,
}

pub const NS_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The `Namespace` object `d` (document `i`) describes, if it is one.
pub fn namespace_object(i: usize, d: &Document) -> Option<Namespace> {
    let v = &d.value;
    if kind(v) != "Namespace" || !group_of(str_at(v, &["apiVersion"]).unwrap_or("")).is_empty() {
        return None;
    }
    let n = name(v).to_owned();
    let mut labels = string_map(v.get("metadata").and_then(|m| m.get("labels")));
    labels.insert(NS_NAME_LABEL.to_owned(), n.clone());
    Some(Namespace {
        name: n,
        labels,
        doc: Some(i),
    })
}

/// The scanned Namespace objects (a later one of the same name wins), plus the namespaces
/// `used` without an object, by name.
pub fn namespaces(
    scanned: impl Iterator<Item = Namespace>,
    used: impl Iterator<Item = String>,
) -> Vec<Namespace> {
    let mut out: BTreeMap<String, Namespace> = BTreeMap::new();
    for n in scanned {
        out.insert(n.name.clone(), n);
    }
    for n in used {
        out.entry(n.clone()).or_insert_with(|| Namespace {
            labels: Labels::from([(NS_NAME_LABEL.to_owned(), n.clone())]),
            name: n,
            doc: None,
        });
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selector_semantics() {
        let s = Selector::parse(Some(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        })));
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("legacy", "")])));
        assert!(!s.matches(&labels(&[("app", "api")])));
        assert!(Selector::parse(Some(&json!({}))).matches(&Labels::new()));
        assert!(Selector::parse(None).is_empty());
        let bad = Selector::parse(Some(
            &json!({"matchExpressions": [{"key": "a", "operator": "Gt"}]}),
        ));
        assert!(!bad.matches(&Labels::new()) && !bad.is_empty());
        let in_ = Selector::parse(Some(
            &json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}),
        ));
        assert!(!in_.matches(&Labels::new()));
    }
}
