//! Builds one document's JSON value and [`SpanTree`] from parser events, iteratively (an
//! explicit stack, never recursion), enforcing the depth, node and alias-expansion limits as
//! it goes. Aliases are expanded by cloning the anchored subtree *after* checking the
//! budget, so a billion-laughs document fails before anything large is allocated.

use crate::resolve::{CoreTag, Scalar, resolve, truncate};
use crate::{LimitKind, Limits};
use palisade_core::{Span, SpanChildren, SpanTree};
use saphyr_parser::{Event, ScalarStyle, Tag};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Spaces added at the start of a line (0-based line of the chunk -> count) when a chunk was
/// re-indented for saphyr (see `stream::load_chunk`); spans on those lines are moved back.
pub(crate) type Shifts = BTreeMap<u32, u32>;

static NO_SHIFTS: Shifts = BTreeMap::new();

/// Why a document could not be built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DocError {
    /// Invalid for go-yaml/sigs.k8s.io/yaml (bad merge, unknown anchor, invalid key, ...).
    Invalid { span: Span, message: String },
    Limit {
        span: Span,
        limit: LimitKind,
        value: usize,
    },
    /// The document's tree would take more than its input's share (`Limits::max_tree_ratio`).
    Memory {
        span: Span,
        /// Nodes built when it was refused.
        nodes: usize,
        /// Bytes the tree had reached, with the node that went over.
        bytes: usize,
        /// Bytes that were left for it.
        allowed: usize,
        ratio: usize,
    },
}

/// What a built tree costs, charged node by node as it grows (see `Builder::charge`). The
/// sizes are those of the types; what the types do not say (a `BTreeMap` node's layout) is
/// computed from std's layout: leaves of 11 keys and values plus a parent pointer and two
/// counts, internal nodes with 12 edges more, every node but the root at least 5 keys full.
/// `tests/it/memory.rs` checks the sum against a counting allocator.
mod cost {
    use palisade_core::SpanTree;
    use serde_json::Value;
    use std::mem::size_of;

    pub const VALUE: usize = size_of::<Value>();
    pub const SPAN: usize = size_of::<SpanTree>();
    pub const SPAN_ENTRY: usize = size_of::<(String, SpanTree)>();
    /// A `BTreeMap<String, Value>` leaf: the first entry of a mapping allocates one.
    pub const MAP_LEAF: usize = 11 * (size_of::<String>() + VALUE) + 16;
    const MAP_INTERNAL: usize = MAP_LEAF + 12 * size_of::<usize>();
    /// Each entry past the first leaf: a fifth of a leaf, and of an internal node a sixth
    /// of that.
    pub const MAP_ENTRY: usize = (MAP_LEAF + MAP_INTERNAL / 6) / 5 + 1;
    /// A duplicate-key index entry (`DupIndex`: hash table slot, key and position).
    pub const DUP_ENTRY: usize = size_of::<(String, (usize, bool))>() + 16;
    /// An entry of the anchor table (`Builder::anchors`, one per anchor defined, even when a
    /// name is reused): a hash table holds up to 8/7 of its entries in a power of two of
    /// slots, and has the old and the new table at once while it grows: 3.5 slots each.
    pub const ANCHOR: usize = size_of::<(usize, super::Anchored)>() * 7 / 2 + 8;
    /// A note kept for the document: the note, and the `InputError` made of it (message twice).
    pub const NOTE: usize = 256;

    /// Bytes a `Vec` of `elem`-byte items allocates to take one more item (std's growth:
    /// double, at least 4 items, 8 for bytes). Bytes freed by the move to the new buffer
    /// are not given back: the bound stays above the peak.
    pub fn push(len: usize, cap: usize, elem: usize) -> usize {
        if len < cap {
            return 0;
        }
        let min = if elem == 1 { 8 } else { 4 };
        cap.saturating_mul(2).max(min).saturating_sub(cap) * elem
    }

    /// Gives back a finished collection's spare room (std's growth leaves up to half of it,
    /// and 4 slots for 1 item: most mappings and sequences in a manifest are that small);
    /// returns the bytes freed.
    pub fn shrink<T>(v: &mut Vec<T>) -> usize {
        let spare = v.capacity() - v.len();
        if spare == 0 {
            return 0;
        }
        v.shrink_to_fit();
        spare * size_of::<T>()
    }

    /// Heap bytes of a scalar's value (its string).
    pub fn scalar(v: &Value) -> usize {
        match v {
            Value::String(s) => s.capacity(),
            _ => 0,
        }
    }

    /// Bytes a copy of a built node takes (an alias expansion, an anchor's copy): its value
    /// and span slots and, inside, what building it was charged.
    pub fn copy(inside: usize) -> usize {
        VALUE + SPAN + inside
    }
}

/// A note produced while building (duplicate key, unsupported value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BuildNote {
    pub kind: &'static str,
    pub span: Span,
    pub message: String,
}

struct Anchored {
    value: Value,
    spans: SpanTree,
    /// The map-key form, when the anchored node is a scalar.
    key: Option<Result<String, String>>,
    nodes: usize,
    height: usize,
    /// Bytes a copy of it takes (see `cost::copy`).
    bytes: usize,
}

struct PendingKey {
    text: String,
    span: Span,
    merge: bool,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        spans: Vec<SpanTree>,
        span: Span,
        anchor: usize,
        nodes_at_start: usize,
        charged_at_start: usize,
        height: usize,
    },
    Map {
        map: Map<String, Value>,
        spans: Vec<(String, SpanTree)>,
        /// Parallel to `spans`: whether the entry came from a merge key.
        merged: Vec<bool>,
        index: DupIndex,
        span: Span,
        anchor: usize,
        nodes_at_start: usize,
        charged_at_start: usize,
        height: usize,
        key: Option<PendingKey>,
    },
}

/// A finished node on its way to its parent.
struct Node {
    value: Value,
    spans: SpanTree,
    height: usize,
    /// Expanded from an alias (go-yaml refuses `<<: *a` when `a` is a sequence).
    from_alias: bool,
}

pub(crate) struct Builder<'l> {
    limits: &'l Limits,
    line_offset: u32,
    /// Spaces added per line of a re-indented chunk (usually none).
    pub shifts: &'l Shifts,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    alias_nodes: usize,
    /// Nodes copied into the anchor table (bounded like `nodes`, so nested anchors over a
    /// big subtree cannot multiply memory).
    anchor_nodes: usize,
    root: Option<Node>,
    /// Set when the document's root is a sequence (see [`Root::Sequence`]).
    root_seq: Option<RootSeq>,
    notes: Notes,
    /// Bytes the tree may take (`Limits::max_tree_ratio`, from the input's share left);
    /// unbounded unless the caller sets it.
    pub allowance: usize,
    /// Bytes the tree takes so far, by `cost` (notes apart, see `Notes::bytes`).
    charged: usize,
}

/// A root sequence as it goes: its items are built one at a time, looked at and dropped.
#[derive(Clone, Copy)]
struct RootSeq {
    span: Span,
    items: usize,
    json_patch: bool,
    /// `charged` before its first item: each item is dropped, and so is its charge.
    charged_at_start: usize,
}

/// A finished document.
pub(crate) enum Root {
    /// A mapping or a scalar: the whole tree.
    Tree(Value, SpanTree),
    /// A sequence, never a Kubernetes object: not kept, so that a bare JSON array of many
    /// objects (`jq .items`) costs the memory of one item, not of the whole array. What is
    /// left is what the message needs: the item count, and whether every item is a JSON patch
    /// operation (a Kustomize patch file, see `kustomize::is_json_patch`).
    Sequence {
        span: Span,
        items: usize,
        json_patch: bool,
    },
}

/// Notes of one document, capped so that a hostile file with millions of duplicate keys
/// cannot turn into millions of notes.
#[derive(Default)]
struct Notes {
    list: Vec<BuildNote>,
    suppressed: usize,
    /// What the kept notes take (charged to the document's tree, see `cost::NOTE`).
    bytes: usize,
}

const MAX_NOTES_PER_DOCUMENT: usize = 100;

impl Notes {
    fn push(&mut self, note: BuildNote) {
        if self.list.len() < MAX_NOTES_PER_DOCUMENT {
            self.bytes += cost::NOTE + 2 * note.message.len();
            self.list.push(note);
        } else {
            self.suppressed += 1;
        }
    }
}

/// Where each key of a mapping last appears, built at the first duplicate key (so the common
/// case costs nothing) and kept up to date after, making every later lookup O(1).
#[derive(Default)]
struct DupIndex {
    last: Option<HashMap<String, (usize, bool)>>,
}

impl DupIndex {
    /// Bytes the next `lookup` and `record` of `key` will allocate: the whole index the
    /// first time.
    fn cost(&self, spans: &[(String, SpanTree)], key: &str) -> usize {
        let entry = |k: &str| cost::DUP_ENTRY + k.len();
        match self.last {
            Some(_) => entry(key),
            // A hash table holds up to 8/7 of its entries, in powers of two: twice, at most.
            None => 2 * spans.iter().map(|(k, _)| entry(k)).sum::<usize>() + entry(key),
        }
    }
}

impl DupIndex {
    /// Span and merge origin of the latest entry for `key` among `spans`.
    fn lookup(
        &mut self,
        spans: &[(String, SpanTree)],
        merged: &[bool],
        key: &str,
    ) -> Option<(Span, bool)> {
        let last = self.last.get_or_insert_with(|| {
            spans
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), (i, merged.get(i).copied().unwrap_or(false))))
                .collect()
        });
        let &(pos, from_merge) = last.get(key)?;
        spans.get(pos).map(|(_, t)| (t.span, from_merge))
    }

    /// Records that `key` now lives at `pos`.
    fn record(&mut self, key: &str, pos: usize, from_merge: bool) {
        if let Some(last) = self.last.as_mut() {
            last.insert(key.to_owned(), (pos, from_merge));
        }
    }
}

/// `span` with the columns of re-indented lines put back (`shifts`: spaces added per 0-based
/// line of the chunk, see `stream::load_chunk`).
pub(crate) fn shifted(mut span: Span, shifts: &Shifts, line_offset: u32) -> Span {
    let line0 = span.line.saturating_sub(line_offset).saturating_sub(1);
    if let Some(added) = shifts.get(&line0) {
        span.column = span.column.saturating_sub(*added).max(1);
    }
    span
}

pub(crate) fn to_span(m: &saphyr_parser::Marker, line_offset: u32) -> Span {
    Span {
        line: u32::try_from(m.line())
            .unwrap_or(u32::MAX)
            .saturating_add(line_offset),
        column: u32::try_from(m.col()).unwrap_or(u32::MAX).saturating_add(1),
    }
}

fn tag_of(tag: Option<&Cow<'_, Tag>>) -> Option<CoreTag> {
    tag.map(|t| CoreTag::from_parts(&t.handle, &t.suffix))
}

impl<'l> Builder<'l> {
    pub(crate) fn new(limits: &'l Limits, line_offset: u32) -> Builder<'l> {
        Builder {
            limits,
            line_offset,
            shifts: &NO_SHIFTS,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            alias_nodes: 0,
            anchor_nodes: 0,
            root: None,
            root_seq: None,
            notes: Notes::default(),
            allowance: usize::MAX,
            charged: 0,
        }
    }

    /// Bytes the document's tree and notes take so far.
    pub(crate) fn charged(&self) -> usize {
        self.charged.saturating_add(self.notes.bytes)
    }

    /// Counts `bytes` more of the tree; refuses the document when that goes over
    /// `allowance`. Called before the allocation it counts, so that a refused document never
    /// holds more than one node past its share.
    fn charge(&mut self, bytes: usize, span: Span) -> Result<(), DocError> {
        self.charged = self.charged.saturating_add(bytes);
        if self.charged() > self.allowance {
            return Err(DocError::Memory {
                span,
                nodes: self.nodes,
                bytes: self.charged(),
                allowed: self.allowance,
                ratio: self.limits.max_tree_ratio,
            });
        }
        Ok(())
    }

    /// The notes so far (duplicate keys, unsupported values), with a summary of any
    /// suppressed beyond the cap.
    pub(crate) fn take_notes(&mut self) -> Vec<BuildNote> {
        let mut list = std::mem::take(&mut self.notes.list);
        if self.notes.suppressed > 0 {
            let span = list.last().map(|n| n.span).unwrap_or_default();
            list.push(BuildNote {
                kind: "duplicate-key",
                span,
                message: format!(
                    "{} more notes in this document not shown (first {MAX_NOTES_PER_DOCUMENT} kept)",
                    self.notes.suppressed
                ),
            });
            self.notes.suppressed = 0;
        }
        list
    }

    /// The document's root, once complete.
    pub(crate) fn finish(self) -> Option<Root> {
        if let Some(r) = self.root_seq {
            return Some(Root::Sequence {
                span: r.span,
                items: r.items,
                json_patch: r.json_patch && r.items > 0,
            });
        }
        self.root.map(|n| Root::Tree(n.value, n.spans))
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn count_node(&mut self, span: Span) -> Result<(), DocError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(DocError::Limit {
                span,
                limit: LimitKind::Nodes,
                value: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Feeds one event of the current document.
    pub(crate) fn event(
        &mut self,
        ev: Event<'_>,
        ev_span: &saphyr_parser::Span,
    ) -> Result<(), DocError> {
        let mut span = to_span(&ev_span.start, self.line_offset);
        if !self.shifts.is_empty() {
            span = shifted(span, self.shifts, self.line_offset);
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.count_node(span)?;
                let plain = style == ScalarStyle::Plain;
                let core = tag_of(tag.as_ref());
                if self.in_key_position() {
                    let merge =
                        text == "<<" && ((plain && core.is_none()) || core == Some(CoreTag::Merge));
                    let resolved = self.resolve(&text, plain, core, span)?;
                    let anchored_value =
                        (anchor != 0).then(|| resolved.to_value(Cow::Borrowed(&text)));
                    let key = resolved
                        .to_key(text)
                        .map_err(|m| invalid(span, format!("unsupported map key: {m}")))?;
                    if let Some(value) = anchored_value {
                        let bytes = cost::copy(cost::scalar(&value));
                        self.charge(bytes + cost::ANCHOR + 2 * key.len(), span)?;
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                value,
                                spans: SpanTree::leaf(span),
                                key: Some(Ok(key.clone())),
                                nodes: 1,
                                height: 1,
                                bytes,
                            },
                        );
                    }
                    if let Some(Frame::Map { key: k, .. }) = self.stack.last_mut() {
                        *k = Some(PendingKey {
                            text: key,
                            span,
                            merge,
                        });
                    }
                    Ok(())
                } else {
                    let resolved = self.resolve(&text, plain, core, span)?;
                    let anchored_key = (anchor != 0).then(|| resolved.to_key(Cow::Borrowed(&text)));
                    let value = resolved.to_value(text);
                    if let Some(key) = anchored_key {
                        let bytes = cost::copy(cost::scalar(&value));
                        let key_len = key.as_ref().map_or(0, String::len);
                        self.charge(bytes + cost::ANCHOR + key_len, span)?;
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                value: value.clone(),
                                spans: SpanTree::leaf(span),
                                key: Some(key),
                                nodes: 1,
                                height: 1,
                                bytes,
                            },
                        );
                    }
                    self.attach(Node {
                        value,
                        spans: SpanTree::leaf(span),
                        height: 1,
                        from_alias: false,
                    })
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.in_key_position() {
                    return Err(invalid(
                        span,
                        "a mapping or sequence used as a map key (Kubernetes cannot read it)"
                            .to_owned(),
                    ));
                }
                self.count_node(span)?;
                if self.stack.len() + 1 > self.limits.max_depth {
                    return Err(DocError::Limit {
                        span,
                        limit: LimitKind::Depth,
                        value: self.limits.max_depth,
                    });
                }
                let nodes_at_start = self.nodes;
                let charged_at_start = self.charged;
                // A root sequence is not kept (see `Root::Sequence`); an anchor on it could
                // not be used anyway (nothing follows the root).
                if self.stack.is_empty() && matches!(ev, Event::SequenceStart(..)) {
                    self.root_seq = Some(RootSeq {
                        span,
                        items: 0,
                        json_patch: true,
                        charged_at_start,
                    });
                }
                self.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        spans: Vec::new(),
                        span,
                        anchor,
                        nodes_at_start,
                        charged_at_start,
                        height: 0,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        spans: Vec::new(),
                        merged: Vec::new(),
                        index: DupIndex::default(),
                        span,
                        anchor,
                        nodes_at_start,
                        charged_at_start,
                        height: 0,
                        key: None,
                    }
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (value, spans, anchor, (nodes_at_start, charged_at_start), height) = match frame
                {
                    Frame::Seq {
                        mut items,
                        mut spans,
                        span,
                        anchor,
                        nodes_at_start,
                        charged_at_start,
                        height,
                    } => (
                        {
                            let freed = cost::shrink(&mut items) + cost::shrink(&mut spans);
                            self.charged = self.charged.saturating_sub(freed);
                            Value::Array(items)
                        },
                        SpanTree {
                            span,
                            children: SpanChildren::Seq(spans),
                        },
                        anchor,
                        (nodes_at_start, charged_at_start),
                        height,
                    ),
                    Frame::Map {
                        map,
                        mut spans,
                        span,
                        anchor,
                        nodes_at_start,
                        charged_at_start,
                        height,
                        ..
                    } => (
                        {
                            let freed = cost::shrink(&mut spans);
                            self.charged = self.charged.saturating_sub(freed);
                            Value::Object(map)
                        },
                        SpanTree {
                            span,
                            children: SpanChildren::Map(spans),
                        },
                        anchor,
                        (nodes_at_start, charged_at_start),
                        height,
                    ),
                };
                let height = height + 1;
                if anchor != 0 {
                    let count = self.nodes - nodes_at_start + 1;
                    self.anchor_nodes = self.anchor_nodes.saturating_add(count);
                    if self.anchor_nodes > self.limits.max_nodes {
                        return Err(DocError::Limit {
                            span: spans.span,
                            limit: LimitKind::Nodes,
                            value: self.limits.max_nodes,
                        });
                    }
                    // The table keeps a copy of the subtree.
                    let bytes = cost::copy(self.charged.saturating_sub(charged_at_start));
                    self.charge(bytes + cost::ANCHOR, spans.span)?;
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            value: value.clone(),
                            spans: spans.clone(),
                            key: None,
                            // +1: the collection node itself was counted before the frame opened.
                            nodes: count,
                            height,
                            bytes,
                        },
                    );
                }
                self.attach(Node {
                    value,
                    spans,
                    height,
                    from_alias: false,
                })
            }
            Event::Alias(id) => self.alias(id, span),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
        }
    }

    fn resolve(
        &mut self,
        text: &str,
        plain: bool,
        core: Option<CoreTag>,
        span: Span,
    ) -> Result<Scalar, DocError> {
        let r = resolve(text, plain, core).map_err(|m| invalid(span, m))?;
        if let Scalar::NonFinite(_) = r {
            self.notes.push(BuildNote {
                kind: "unsupported-value",
                span,
                message: format!(
                    "`{}` is kept as a string: JSON has no infinity or NaN, so kubectl would \
                     reject this document",
                    truncate(text, 20)
                ),
            });
        }
        Ok(r)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), DocError> {
        let Some(a) = self.anchors.get(&id) else {
            return Err(invalid(
                span,
                "alias to an anchor that is not defined earlier in this document (or that \
                 contains the alias itself)"
                    .to_owned(),
            ));
        };
        let (nodes, height, bytes) = (a.nodes, a.height, a.bytes);
        if self.alias_nodes.saturating_add(nodes) > self.limits.max_alias_expansions {
            return Err(DocError::Limit {
                span,
                limit: LimitKind::AliasExpansions,
                value: self.limits.max_alias_expansions,
            });
        }
        if self.nodes.saturating_add(nodes) > self.limits.max_nodes {
            return Err(DocError::Limit {
                span,
                limit: LimitKind::Nodes,
                value: self.limits.max_nodes,
            });
        }
        if self.stack.len() + height > self.limits.max_depth {
            return Err(DocError::Limit {
                span,
                limit: LimitKind::Depth,
                value: self.limits.max_depth,
            });
        }
        self.alias_nodes += nodes;
        self.nodes += nodes;
        if !self.in_key_position() {
            // The expansion is a copy of the anchored subtree (its slot in the parent is
            // charged by `attach`).
            self.charge(bytes.saturating_sub(cost::VALUE + cost::SPAN), span)?;
        }
        let Some(a) = self.anchors.get(&id) else {
            return Ok(());
        };
        if self.in_key_position() {
            let key = match &a.key {
                Some(Ok(k)) => k.clone(),
                Some(Err(m)) => return Err(invalid(span, format!("unsupported map key: {m}"))),
                None => {
                    return Err(invalid(
                        span,
                        "an alias to a mapping or sequence used as a map key".to_owned(),
                    ));
                }
            };
            if let Some(Frame::Map { key: k, .. }) = self.stack.last_mut() {
                *k = Some(PendingKey {
                    text: key,
                    span,
                    merge: false,
                });
            }
            return Ok(());
        }
        let value = a.value.clone();
        let mut spans = a.spans.clone();
        // The expansion's root points at the alias; its descendants keep the anchor's
        // positions, where their text is written.
        spans.span = span;
        self.attach(Node {
            value,
            spans,
            height,
            from_alias: true,
        })
    }

    /// Bytes attaching `node` to the open collection allocates (see `cost`).
    fn attach_cost(&self, node: &Node) -> usize {
        let own = cost::scalar(&node.value);
        match self.stack.last() {
            None => own,
            Some(Frame::Seq { items, spans, .. }) => {
                own + cost::push(items.len(), items.capacity(), cost::VALUE)
                    + cost::push(spans.len(), spans.capacity(), cost::SPAN)
            }
            Some(Frame::Map {
                map,
                spans,
                merged,
                index,
                key: Some(k),
                ..
            }) => {
                // A merge inserts each entry of the merged mappings, with a copy of its key in
                // the map, one in the spans and one in the duplicate index.
                let (entries, keys) = if k.merge {
                    let merged_maps: Vec<&Map<String, Value>> = match &node.value {
                        Value::Object(m) => vec![m],
                        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
                        _ => Vec::new(),
                    };
                    merged_maps
                        .iter()
                        .flat_map(|m| m.keys())
                        .fold((0, 0), |(n, b), key| {
                            (n + 1, b + 3 * key.len() + cost::DUP_ENTRY)
                        })
                } else {
                    (1, 2 * k.text.capacity())
                };
                let mut bytes = own + keys;
                let (mut spans_cap, mut merged_cap) = (spans.capacity(), merged.capacity());
                for i in 0..entries {
                    let (len, spans_len) = (map.len() + i, spans.len() + i);
                    bytes += if len == 0 {
                        cost::MAP_LEAF
                    } else if len >= 11 {
                        cost::MAP_ENTRY
                    } else {
                        0
                    };
                    let grow = cost::push(spans_len, spans_cap, cost::SPAN_ENTRY);
                    spans_cap += grow / cost::SPAN_ENTRY;
                    let grow_merged = cost::push(spans_len, merged_cap, 1);
                    merged_cap += grow_merged;
                    bytes += grow + grow_merged;
                }
                // A repeated key builds the duplicate index.
                if !k.merge && map.contains_key(&k.text) {
                    bytes += index.cost(spans, &k.text);
                }
                bytes
            }
            Some(Frame::Map { .. }) => own,
        }
    }

    fn attach(&mut self, node: Node) -> Result<(), DocError> {
        if self.stack.len() == 1
            && let Some(r) = self.root_seq.as_mut()
        {
            // An item of a root sequence: looked at, then dropped. The node limit is then per
            // item (plus the sequence), since nothing else is held; so is the charge.
            r.items += 1;
            r.json_patch = r.json_patch && crate::kustomize::is_json_patch_op(&node.value);
            self.nodes = 1;
            self.charged = r.charged_at_start;
            return Ok(());
        }
        if !(self.stack.is_empty() && self.root_seq.is_some()) {
            let bytes = self.attach_cost(&node);
            self.charge(bytes, node.spans.span)?;
        }
        if self.stack.is_empty() && self.root_seq.is_some() {
            // The root sequence itself ends: nothing of it is kept.
            return Ok(());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq {
                items,
                spans,
                height,
                ..
            }) => {
                *height = (*height).max(node.height);
                items.push(node.value);
                spans.push(node.spans);
                Ok(())
            }
            Some(Frame::Map {
                map,
                spans,
                merged,
                index,
                height,
                key,
                ..
            }) => {
                *height = (*height).max(node.height);
                let Some(k) = key.take() else {
                    // Keys are handled before they get here; nothing else can arrive.
                    return Ok(());
                };
                if k.merge {
                    let mut entries = MapEntries {
                        map,
                        spans,
                        merged,
                        index,
                    };
                    return entries.merge(node, k.span, &mut self.notes);
                }
                let child = SpanTree {
                    span: k.span,
                    children: node.spans.children,
                };
                if map.insert(k.text.clone(), node.value).is_some()
                    && let Some((earlier, from_merge)) = index.lookup(spans, merged, &k.text)
                    && !from_merge
                {
                    self.notes.push(BuildNote {
                        kind: "duplicate-key",
                        span: k.span,
                        message: format!(
                            "duplicate key `{}`: this value replaces the one at line {} \
                             (Kubernetes keeps the last)",
                            truncate(&k.text, 60),
                            earlier.line
                        ),
                    });
                }
                index.record(&k.text, spans.len(), false);
                spans.push((k.text, child));
                merged.push(false);
                Ok(())
            }
        }
    }
}

/// The parts of a mapping frame a merge writes to.
struct MapEntries<'f> {
    map: &'f mut Map<String, Value>,
    spans: &'f mut Vec<(String, SpanTree)>,
    merged: &'f mut Vec<bool>,
    index: &'f mut DupIndex,
}

fn invalid(span: Span, message: String) -> DocError {
    DocError::Invalid { span, message }
}

/// One mapping to merge: its entries and their spans (source order).
type MergeSource = (Map<String, Value>, Vec<(String, SpanTree)>);

impl MapEntries<'_> {
    /// go-yaml v2 merge: the merged mapping's entries are written into the map *at the position
    /// of the `<<` key*, so later explicit keys override them and earlier ones are overridden;
    /// in a sequence of mappings the earlier ones take precedence.
    fn merge(&mut self, node: Node, key_span: Span, notes: &mut Notes) -> Result<(), DocError> {
        let want_map = || {
            invalid(
                key_span,
                "map merge (`<<`) requires a mapping or a sequence of mappings as the value"
                    .to_owned(),
            )
        };
        let sources: Vec<MergeSource> = match (node.value, node.spans.children) {
            (Value::Object(m), SpanChildren::Map(s)) => vec![(m, s)],
            (Value::Object(m), _) => vec![(m, Vec::new())],
            (Value::Array(items), children) if !node.from_alias => {
                let item_spans = match children {
                    SpanChildren::Seq(s) => s,
                    _ => Vec::new(),
                };
                let mut out = Vec::with_capacity(items.len());
                let mut item_spans = item_spans.into_iter();
                for item in items {
                    let st = item_spans.next();
                    match (item, st.map(|t| t.children)) {
                        (Value::Object(m), Some(SpanChildren::Map(s))) => out.push((m, s)),
                        (Value::Object(m), _) => out.push((m, Vec::new())),
                        _ => return Err(want_map()),
                    }
                }
                out.reverse();
                out
            }
            _ => return Err(want_map()),
        };
        for (mut m, s) in sources {
            // Last occurrence of each key in the source carries the value.
            let mut seen = std::collections::HashSet::new();
            let mut entries: Vec<(String, SpanTree)> = s
                .into_iter()
                .rev()
                .filter(|(k, _)| seen.insert(k.clone()))
                .collect();
            entries.reverse();
            for (k, st) in entries {
                let Some(v) = m.remove(&k) else { continue };
                if self.map.insert(k.clone(), v).is_some()
                    && let Some((earlier, false)) = self.index.lookup(self.spans, self.merged, &k)
                {
                    notes.push(BuildNote {
                        kind: "duplicate-key",
                        span: key_span,
                        message: format!(
                            "merge key `<<` replaces the explicit `{}` at line {} (go-yaml v2 \
                                 merges in place; Kubernetes keeps the merged value)",
                            truncate(&k, 60),
                            earlier.line
                        ),
                    });
                }
                self.index.record(&k, self.spans.len(), true);
                self.spans.push((k, st));
                self.merged.push(true);
            }
            // Keys with no span entry (should not happen) still get merged.
            for (k, v) in m {
                self.map.insert(k.clone(), v);
                self.index.record(&k, self.spans.len(), true);
                self.spans.push((k, SpanTree::leaf(key_span)));
                self.merged.push(true);
            }
        }
        Ok(())
    }
}
