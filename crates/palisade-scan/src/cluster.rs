//! Objects that were not read from a file (a live cluster's API): their display name,
//! identity and [`Document`] form.
//!
//! An object from the API has no source text, so its document has an empty span tree and every
//! finding on it is at line 0, column 0 ("no position": SARIF then writes no region); `field`
//! names the offending field. Its `file` is `cluster://CONTEXT/NAMESPACE/KIND/NAME`
//! (cluster-scoped: `cluster://CONTEXT/KIND/NAME`), its document index 0.

use palisade_core::{Document, InputError, Origin, SpanTree};
use serde_json::Value;

/// One object as a cluster lister hands it over: the kubeconfig context it was read through
/// and the object as the API server returned it (with `apiVersion` and `kind` set, which list
/// responses leave out of their items: set them from the list's kind).
#[derive(Debug, Clone)]
pub struct ClusterObject {
    pub context: String,
    pub value: Value,
}

/// `cluster://CONTEXT/NAMESPACE/KIND/NAME`, or `cluster://CONTEXT/KIND/NAME` without a
/// namespace.
pub fn cluster_uri(context: &str, kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("cluster://{context}/{ns}/{kind}/{name}"),
        _ => format!("cluster://{context}/{kind}/{name}"),
    }
}

/// The object's document and origin, or an input error naming what is missing.
pub(crate) fn document(obj: ClusterObject) -> Result<(Document, Origin), InputError> {
    let ClusterObject { context, value } = obj;
    let str_at = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let meta = value.get("metadata");
    let api_version = str_at(value.get("apiVersion"));
    let kind = str_at(value.get("kind"));
    let name = str_at(meta.and_then(|m| m.get("name")));
    let namespace = str_at(meta.and_then(|m| m.get("namespace"))).filter(|n| !n.is_empty());
    let (Some(api_version), Some(kind), Some(name)) = (api_version, kind, name) else {
        let missing: Vec<&str> = [
            ("apiVersion", value.get("apiVersion")),
            ("kind", value.get("kind")),
            ("metadata.name", meta.and_then(|m| m.get("name"))),
        ]
        .into_iter()
        .filter(|(_, v)| v.and_then(Value::as_str).is_none())
        .map(|(k, _)| k)
        .collect();
        return Err(InputError {
            file: format!("cluster://{context}"),
            document: None,
            line: None,
            column: None,
            kind: "not-object".to_owned(),
            message: format!(
                "an object from the API server has no {} (a lister must set apiVersion and kind on list items); skipped",
                missing.join(", ")
            ),
        });
    };
    let uid = str_at(meta.and_then(|m| m.get("uid")));
    let file = cluster_uri(&context, &kind, namespace.as_deref(), &name);
    let origin = Origin {
        context,
        api_version,
        kind,
        namespace,
        name,
        uid,
    };
    let doc = Document {
        file: file.into(),
        index: 0,
        item: None,
        value,
        spans: SpanTree::default(),
    };
    Ok((doc, origin))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn uri_and_origin() {
        let (doc, origin) = document(ClusterObject {
            context: "kind-dev".into(),
            value: json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "uid": "u-1"}}),
        })
        .unwrap();
        assert_eq!(&*doc.file, "cluster://kind-dev/shop/Deployment/web");
        assert_eq!(origin.uid.as_deref(), Some("u-1"));
        assert_eq!(origin.namespace.as_deref(), Some("shop"));
        let (doc, origin) = document(ClusterObject {
            context: "c".into(),
            value: json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "admin"}}),
        })
        .unwrap();
        assert_eq!(&*doc.file, "cluster://c/ClusterRole/admin");
        assert_eq!(origin.namespace, None);
    }

    #[test]
    fn missing_kind_is_an_input_error_naming_it() {
        let err = document(ClusterObject {
            context: "c".into(),
            value: json!({"metadata": {"name": "x"}}),
        })
        .unwrap_err();
        assert_eq!(err.file, "cluster://c");
        assert!(err.message.contains("apiVersion, kind"), "{}", err.message);
    }
}
