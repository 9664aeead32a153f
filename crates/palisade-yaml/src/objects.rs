//! From a document's root value to Kubernetes objects: empty documents are dropped, non-
//! mappings are errors, mappings without `apiVersion`/`kind` are skipped with a note, and
//! `kind: List` / any `*List` with an `items` array is expanded into one object per item.

use crate::build::Root;
use crate::{At, LoadError, Sink};
use palisade_core::{Document, SpanChildren, SpanTree};
use serde_json::Value;

/// Nested `*List`s inside a `*List` are expanded this many levels deep, no more.
const MAX_LIST_NESTING: usize = 8;

/// A finished document's objects, errors or notes.
pub(crate) fn emit_root(sink: &mut Sink<'_>, index: usize, root: Root) {
    match root {
        Root::Tree(value, spans) => emit(sink, index, value, spans),
        Root::Sequence {
            span,
            json_patch: true,
            ..
        } => json_patch_note(sink, At::span(index, span)),
        Root::Sequence { span, items, .. } => sink.error(
            At::span(index, span),
            &LoadError::NotObject {
                reason: format!(
                    "the document is a sequence ({items} item{}), not a Kubernetes object (a \
                     mapping with apiVersion and kind); to scan the objects of a JSON array, \
                     wrap it in a List: `jq '{{apiVersion: \"v1\", kind: \"List\", items: .}}'`",
                    if items == 1 { "" } else { "s" }
                ),
            },
        ),
    }
}

fn json_patch_note(sink: &mut Sink<'_>, at: At) {
    sink.note(
        at,
        "kustomize-patch",
        "a JSON patch (RFC 6902 operations, as Kustomize's patchesJson6902 files hold), \
         not a Kubernetes object; scan the patched result with \
         `kubectl kustomize DIR | palisade scan -`",
    );
}

fn emit(sink: &mut Sink<'_>, index: usize, value: Value, spans: SpanTree) {
    match value {
        // Empty or comment-only documents (a trailing `---`), and an explicit `null`.
        Value::Null => {}
        Value::Object(_) if sink.out.any_mapping => sink.out.documents.push(Document {
            file: sink.file.clone(),
            index,
            item: None,
            value,
            spans,
        }),
        Value::Object(_) => emit_object(sink, index, None, value, spans, 0),
        other if crate::kustomize::is_json_patch(&other) => {
            json_patch_note(sink, At::span(index, spans.span));
        }
        other => sink.error(
            At::span(index, spans.span),
            &LoadError::NotObject {
                reason: format!(
                    "the document is {}, not a Kubernetes object (a mapping with apiVersion and kind)",
                    describe(&other)
                ),
            },
        ),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

fn is_list(v: &Value) -> bool {
    v.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && matches!(v.get("items"), Some(Value::Array(_) | Value::Null))
}

fn emit_object(
    sink: &mut Sink<'_>,
    index: usize,
    item: Option<usize>,
    value: Value,
    spans: SpanTree,
    nesting: usize,
) {
    if is_list(&value) && nesting < MAX_LIST_NESTING {
        let Value::Object(mut map) = value else {
            return;
        };
        let items = match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        // Taken, not cloned: the List's spans are not needed after its items.
        let list_span = spans.span;
        let item_spans = match spans.children {
            SpanChildren::Map(entries) => entries
                .into_iter()
                .rev()
                .find(|(k, _)| k == "items")
                .and_then(|(_, t)| match t.children {
                    SpanChildren::Seq(s) => Some(s),
                    _ => None,
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut item_spans = item_spans.into_iter();
        for (i, it) in items.into_iter().enumerate() {
            let st = item_spans
                .next()
                .unwrap_or_else(|| SpanTree::leaf(list_span));
            let outer = item.unwrap_or(i);
            match it {
                Value::Object(_) => emit_object(sink, index, Some(outer), it, st, nesting + 1),
                other => sink.error(
                    At::span(index, st.span),
                    &LoadError::NotObject {
                        reason: format!(
                            "item {i} of this List is {}, not a Kubernetes object",
                            describe(&other)
                        ),
                    },
                ),
            }
        }
        return;
    }
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|k| {
            value
                .get(*k)
                .and_then(Value::as_str)
                .is_none_or(|s| s.is_empty())
        })
        .collect();
    if !missing.is_empty() {
        let what = match item {
            Some(i) => format!("List item {i}"),
            None => "document".to_owned(),
        };
        sink.note(
            At::span(index, spans.span),
            "not-kubernetes",
            format!(
                "{what} skipped: not a Kubernetes object (no {})",
                missing.join(" and no ")
            ),
        );
        return;
    }
    sink.out.documents.push(Document {
        file: sink.file.clone(),
        index,
        item,
        value,
        spans,
    });
}
