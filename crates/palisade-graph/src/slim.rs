//! A projection of a document onto what [`crate::analyze_with`] and the waiver pass after it
//! read, so a streaming scan can hold every workload of a large tree for the cross-object
//! pass without holding every pod spec.
//!
//! Workloads are most of what the cross-object pass keeps, and their pod specs (containers,
//! volumes, probes, env) are most of each workload, yet the graph reads only the template's
//! labels, service account, token automount and container ports. RBAC objects, ServiceAccounts,
//! Namespaces and NetworkPolicies keep their whole value: the analyses read most of it. Roles
//! drop the positions under their rules, which no finding points at.
//!
//! The value and its span tree are cut with the same shape, and sequences keep every item
//! (slimmed), so a field path the graph reports locates to exactly the same line and column.

use crate::objects;
use palisade_core::{Document, SpanChildren, SpanTree};
use serde_json::Value;

/// What to keep of one node.
enum Shape {
    /// The node and everything under it.
    All,
    /// Of a mapping, only these keys (each cut further); other node types are kept whole.
    Keys(Vec<(&'static str, Shape)>),
    /// Of a sequence, every item, each cut the same way.
    Each(Box<Shape>),
}

/// What a container keeps: its name (annotation waivers of one container match on it) and its
/// ports (netpol named ports).
fn container() -> Shape {
    Shape::Each(Box::new(Shape::Keys(vec![
        ("name", Shape::All),
        ("ports", Shape::All),
    ])))
}

/// What a pod template (or a Pod) keeps: labels and annotations (waivers) of its metadata and
/// the pod spec fields read in `objects::workload`.
fn pod_template() -> Vec<(&'static str, Shape)> {
    vec![
        (
            "metadata",
            Shape::Keys(vec![("labels", Shape::All), ("annotations", Shape::All)]),
        ),
        (
            "spec",
            Shape::Keys(vec![
                ("serviceAccountName", Shape::All),
                ("serviceAccount", Shape::All),
                ("automountServiceAccountToken", Shape::All),
                ("initContainers", container()),
                ("containers", container()),
                ("ephemeralContainers", container()),
            ]),
        ),
    ]
}

/// The shape of a workload whose pod template sits at `keys` (empty for a Pod).
fn workload_shape(keys: &[&'static str]) -> Shape {
    let mut root = vec![
        ("apiVersion", Shape::All),
        ("kind", Shape::All),
        // The object's own metadata whole: identity, generateName and waiver annotations.
        ("metadata", Shape::All),
    ];
    match keys.split_first() {
        None => root.extend(pod_template().into_iter().filter(|(k, _)| *k != "metadata")),
        Some((first, rest)) => {
            let inner = rest
                .iter()
                .rev()
                .fold(Shape::Keys(pod_template()), |shape, k| {
                    Shape::Keys(vec![(*k, shape)])
                });
            root.push((*first, inner));
        }
    }
    Shape::Keys(root)
}

fn find<'a>(keys: &'a [(&'static str, Shape)], key: &str) -> Option<&'a Shape> {
    keys.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
}

fn cut_value(v: &mut Value, shape: &Shape) {
    match (shape, v) {
        (Shape::Keys(keys), Value::Object(map)) => {
            map.retain(|k, _| find(keys, k).is_some());
            for (k, child) in map.iter_mut() {
                if let Some(s) = find(keys, k) {
                    cut_value(child, s);
                }
            }
        }
        (Shape::Each(item), Value::Array(items)) => {
            for x in items {
                cut_value(x, item);
            }
        }
        _ => {}
    }
}

fn cut_spans(t: &mut SpanTree, shape: &Shape) {
    match (shape, &mut t.children) {
        (Shape::Keys(keys), SpanChildren::Map(entries)) => {
            // Duplicate keys stay in source order: lookups take the last, as before.
            entries.retain(|(k, _)| find(keys, k).is_some());
            for (k, child) in entries.iter_mut() {
                if let Some(s) = find(keys, k) {
                    cut_spans(child, s);
                }
            }
        }
        (Shape::Each(item), SpanChildren::Seq(items)) => {
            for x in items {
                cut_spans(x, item);
            }
        }
        _ => {}
    }
}

/// `doc` cut down to what the cross-object pass reads, or `None` when it reads nothing of it
/// (see [`crate::relevant`]). [`crate::analyze_with`] over slimmed documents gives the same
/// findings, at the same lines, as over the full ones.
pub fn slim(mut doc: Document) -> Option<Document> {
    if !crate::relevant(&doc) {
        return None;
    }
    if let Some(keys) = objects::template_keys(&doc.value) {
        let shape = workload_shape(keys);
        cut_value(&mut doc.value, &shape);
        cut_spans(&mut doc.spans, &shape);
    } else if matches!(objects::kind(&doc.value), "Role" | "ClusterRole") {
        // Roles are most of the RBAC objects (rules, each with lists of verbs and resources);
        // the model reads all of their value, but no finding points into a role, so of its
        // positions only the metadata's stay (for waiver notes).
        cut_spans(&mut doc.spans, &Shape::Keys(vec![("metadata", Shape::All)]));
    }
    Some(doc)
}
