//! What the webhook needs to know about the cluster: namespace labels (for the policy) and
//! the pods of a namespace (for PSA's relabel check). [`ClusterState`] is the seam; the
//! `--objects` implementation ([`ObjectsState`]) reads Namespace and Pod objects from files.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

/// A namespace as the webhook sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// A failed lookup, phrased like the API server's NotFound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("namespaces {name:?} not found")]
    NotFound { name: String },
    #[error("{0}")]
    Unavailable(String),
}

/// Namespace and pod lookups (PSA's `NamespaceGetter` and `PodLister`).
pub trait ClusterState: Send + Sync {
    fn namespace(&self, name: &str) -> Result<Arc<Namespace>, LookupError>;
    fn pods(&self, namespace: &str) -> Result<Vec<Arc<Value>>, LookupError>;
    /// Whether lookups are answerable yet (drives `/readyz`).
    fn ready(&self) -> bool {
        true
    }
}

/// Problems reading `--objects` files. Nothing is skipped silently: every file or object
/// that cannot be used is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("--objects input has errors:\n  {}", errors.join("\n  "))]
    Input { errors: Vec<String> },
}

/// What a load found, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectsSummary {
    pub namespaces: usize,
    pub pods: usize,
    /// Objects of other kinds (ignored: only Namespaces and Pods are state).
    pub other: usize,
}

/// Namespaces and pods from files, fixed for the life of the process.
#[derive(Debug, Default)]
pub struct ObjectsState {
    namespaces: HashMap<String, Arc<Namespace>>,
    pods: HashMap<String, Vec<Arc<Value>>>,
}

impl ObjectsState {
    /// Loads files or directories of manifests (YAML or JSON, `*List` expanded).
    pub fn load(paths: &[PathBuf]) -> Result<(ObjectsState, ObjectsSummary), StateError> {
        let loaded = palisade_yaml::load_paths(paths, &palisade_yaml::Limits::default());
        let mut errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        let mut state = ObjectsState::default();
        let mut summary = ObjectsSummary::default();
        let mut seen: HashMap<String, String> = HashMap::new();
        for doc in loaded.documents {
            let at = format!("{} (document {})", doc.file, doc.index + 1);
            let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
            let kind = doc.value.get("kind").and_then(Value::as_str);
            match (api_version, kind) {
                (Some("v1"), Some("Namespace")) => match namespace_from(&doc.value) {
                    Ok(ns) => {
                        if let Some(first) = seen.insert(ns.name.clone(), at.clone()) {
                            errors.push(format!(
                                "{at}: Namespace {:?} is also defined at {first}",
                                ns.name
                            ));
                        }
                        summary.namespaces += 1;
                        state.namespaces.insert(ns.name.clone(), Arc::new(ns));
                    }
                    Err(e) => errors.push(format!("{at}: {e}")),
                },
                (Some("v1"), Some("Pod")) => {
                    let ns = doc
                        .value
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("default")
                        .to_owned();
                    if doc
                        .value
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .is_none()
                    {
                        errors.push(format!("{at}: Pod has no metadata.name"));
                        continue;
                    }
                    summary.pods += 1;
                    state.pods.entry(ns).or_default().push(Arc::new(doc.value));
                }
                _ => summary.other += 1,
            }
        }
        if errors.is_empty() {
            Ok((state, summary))
        } else {
            Err(StateError::Input { errors })
        }
    }

    /// Builds a state directly (tests, embedding).
    pub fn from_parts(namespaces: Vec<Namespace>, pods: Vec<Value>) -> ObjectsState {
        let mut state = ObjectsState::default();
        for ns in namespaces {
            state.namespaces.insert(ns.name.clone(), Arc::new(ns));
        }
        for pod in pods {
            let ns = pod
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned();
            state.pods.entry(ns).or_default().push(Arc::new(pod));
        }
        state
    }
}

/// A Namespace object's name and labels; labels must be a map of strings (as the API
/// server would have required).
pub fn namespace_from(object: &Value) -> Result<Namespace, String> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or("Namespace has no metadata.name")?
        .to_owned();
    let labels = labels_of(object)?;
    Ok(Namespace { name, labels })
}

/// `metadata.labels` as a string map (`null`/absent is empty).
pub fn labels_of(object: &Value) -> Result<BTreeMap<String, String>, String> {
    match object.pointer("/metadata/labels") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("metadata.labels[{k}] is not a string")),
            })
            .collect(),
        Some(_) => Err("metadata.labels is not a map".to_owned()),
    }
}

impl ClusterState for ObjectsState {
    fn namespace(&self, name: &str) -> Result<Arc<Namespace>, LookupError> {
        self.namespaces
            .get(name)
            .cloned()
            .ok_or_else(|| LookupError::NotFound {
                name: name.to_owned(),
            })
    }

    fn pods(&self, namespace: &str) -> Result<Vec<Arc<Value>>, LookupError> {
        Ok(self.pods.get(namespace).cloned().unwrap_or_default())
    }
}
