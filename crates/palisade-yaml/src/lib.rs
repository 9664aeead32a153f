//! The span-aware Kubernetes manifest loader: files, directories and stdin; multi-document
//! YAML streams and JSON; `*List` expansion; scalars resolved the way Kubernetes (go-yaml v2,
//! YAML 1.1) resolves them; a [`palisade_core::SpanTree`] for every document; and limits that
//! turn hostile input into clear errors instead of hangs or panics.
//!
//! Entry points: [`load_paths`] (or [`load_paths_each`], one file at a time, or
//! [`load_paths_map`], pieces of whole documents mapped on worker threads as they are
//! parsed), [`load_bytes`], [`load_str`]. Each returns a [`Loaded`]:
//! the Kubernetes objects found, the input errors (exit status 2 in the CLI) and notes
//! (things skipped or suspicious, e.g. duplicate keys, documents that are not Kubernetes).
//!
//! Design: `saphyr-parser` produces events; `build` turns one document's events into a
//! `serde_json::Value` plus a `SpanTree` with an explicit stack (no recursion), so depth,
//! node count and alias expansion are checked as the tree grows. A file is first split at
//! document markers (`---` at column 0, which YAML forbids inside any content), so a syntax
//! error ends only its own document: the next `---` starts afresh. The same cut lets the
//! path loaders parse the documents of one large file on several threads (`pipeline`). Input whose first
//! non-blank character is `{` is read as a stream of JSON values, as kubectl does (with a
//! fallback to YAML for non-`.json` files that are not valid JSON, e.g. `{a: 1}`).
//!
//! Decisions (Kubernetes = `sigs.k8s.io/yaml` over its go-yaml v2 fork, into `interface{}`):
//! - Only plain scalars are resolved; quoted and block scalars are strings. Booleans:
//!   `y Y yes Yes YES on On ON true True TRUE` and the `n`/`no`/`off`/`false` forms; null:
//!   empty, `~`, `null`, `Null`, `NULL`; integers by Go's base-0 rules after removing `_`
//!   (`0644` = 420, `0o17`, `0x1F`, `0b1010`, `+12`); `08` and `1e3` are floats; sexagesimal
//!   (`1:20`) and timestamps (`2001-12-14`) stay strings (go-yaml v2 does the same).
//! - Integers above `i64::MAX` that fit `u64` stay exact; larger decimal ones become floats
//!   (as in go-yaml); larger hex/octal/binary ones (go-yaml: `big.Int`) become the nearest
//!   `f64`, since `serde_json` values have no arbitrary precision.
//! - `.inf`, `-.inf`, `.nan` are kept as their source string, with an `unsupported-value`
//!   note: JSON has no such numbers, so kubectl's YAML-to-JSON conversion would fail.
//! - Tags `!!str !!int !!float !!bool !!null` are honoured (`!!int abc` is an error, as in
//!   go-yaml); other tags leave the scalar a string.
//! - Map keys become JSON strings as `sigs.k8s.io/yaml` makes them: `on:` is `"true"`,
//!   `0644:` is `"420"`, floats use Go's `%g` at 32-bit precision; null, `u64`-only and
//!   collection keys are errors (kubectl rejects them).
//! - Duplicate keys: the last wins (go-yaml v2 non-strict) and a `duplicate-key` note names
//!   the key and both lines, since a later `privileged: true` silently overriding an earlier
//!   `false` is an evasion vector.
//! - Merge keys (`<<: *a`, `<<: [*a, *b]`) are merged the way go-yaml v2 does it: *in place*
//!   at the `<<` entry, so keys after it override the merged ones, keys before it are
//!   overridden (noted as `duplicate-key`), and in a list the earlier mapping wins.
//! - Spans: 1-based line and column; a mapping entry's span is its key's; a sequence item's
//!   is the item's; an alias's expansion has the alias site as its own span and the
//!   anchor's positions for everything inside it (where that text is written).
//! - Flow collections: as in go-yaml, indentation is not checked inside `[...]`/`{...}` (items,
//!   comments, continuation lines and the closing bracket at any column); saphyr's refusal of
//!   such a layout is worked around in `stream::load_chunk` (docs/loader.md).
//! - Parse errors in a file with Go template actions (`{{ ... }}`, Helm charts) say so and how
//!   to render it.
//! - `kind: List` and any `*List` with an `items` array: one [`Document`] per item
//!   (`item: Some(i)`, spans = the item's subtree); nested Lists are flattened too.

mod build;
mod events;
mod json;
mod kustomize;
mod objects;
mod paths;
mod pipeline;
pub mod render;
mod resolve;
mod stream;

pub use paths::{PIECE_BYTES, load_paths, load_paths_each, load_paths_map};

use palisade_core::{Document, InputError};
use std::fmt;

/// Input limits. Every one has a clear error naming it, its value and the CLI flag that
/// raises it (see [`LimitKind::flag`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read (checked from metadata before reading, and again while reading).
    pub max_file_bytes: u64,
    /// Total bytes read across all inputs of one load; files after it are reported, not read.
    pub max_total_bytes: u64,
    /// Deepest nesting of mappings/sequences in a document (after alias expansion).
    pub max_depth: usize,
    /// Nodes (scalars, mappings, sequences) per document, after alias expansion (per item of a
    /// document that is a sequence: such a document is never kept, its items are read one at a
    /// time). Documents over 1 MiB are counted before they are built.
    pub max_nodes: usize,
    /// Nodes produced by expanding aliases, per document (the billion-laughs guard).
    pub max_alias_expansions: usize,
    /// Bytes the built documents of one input (a file, or a piece of a large one) may take
    /// in memory per byte of its text, on top of [`TREE_BASE_BYTES`]: each node is charged
    /// as it is built (JSON value, span, key) and a document that would go over is refused
    /// before it does (docs/loader.md; real manifests take 2-30).
    pub max_tree_ratio: usize,
    /// YAML documents (or JSON values) per file, empty ones included.
    pub max_documents_per_file: usize,
    /// Not a limit but read at the same place: with a renderer (`--render`), Helm charts and
    /// root kustomizations among the inputs are rendered and their output is scanned
    /// instead of their files (see [`render`]); without one, their files are notes.
    pub render: Option<render::Renderer>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 2_000_000,
            max_alias_expansions: 100_000,
            max_tree_ratio: 64,
            max_documents_per_file: 10_000,
            render: None,
        }
    }
}

/// Tree bytes every input may take whatever its size (see [`Limits::max_tree_ratio`]), so
/// that small files of small mappings, the costliest shape per byte, are never refused.
pub const TREE_BASE_BYTES: usize = 256 << 10;

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    FileBytes,
    TotalBytes,
    Depth,
    Nodes,
    AliasExpansions,
    DocumentsPerFile,
    TreeMemory,
}

impl LimitKind {
    /// Field name in [`Limits`].
    pub fn field(self) -> &'static str {
        match self {
            LimitKind::FileBytes => "max_file_bytes",
            LimitKind::TotalBytes => "max_total_bytes",
            LimitKind::Depth => "max_depth",
            LimitKind::Nodes => "max_nodes",
            LimitKind::AliasExpansions => "max_alias_expansions",
            LimitKind::DocumentsPerFile => "max_documents_per_file",
            LimitKind::TreeMemory => "max_tree_ratio",
        }
    }

    /// The `palisade` command-line flag that raises it.
    pub fn flag(self) -> &'static str {
        match self {
            LimitKind::FileBytes => "--max-file-size",
            LimitKind::TotalBytes => "--max-total-size",
            LimitKind::Depth => "--max-depth",
            LimitKind::Nodes => "--max-nodes",
            LimitKind::AliasExpansions => "--max-alias-expansions",
            LimitKind::DocumentsPerFile => "--max-documents",
            LimitKind::TreeMemory => "--max-tree-ratio",
        }
    }

    fn what(self) -> &'static str {
        match self {
            LimitKind::FileBytes => "file size",
            LimitKind::TotalBytes => "total input size",
            LimitKind::Depth => "nesting depth",
            LimitKind::Nodes => "nodes per document",
            LimitKind::AliasExpansions => "alias expansion",
            LimitKind::DocumentsPerFile => "documents per file",
            LimitKind::TreeMemory => "memory per input byte",
        }
    }
}

/// Everything wrong with the input, as structured errors; converted to
/// [`palisade_core::InputError`] (kind = [`LoadError::kind`]) in [`Loaded`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    #[error(
        "{} limit exceeded: {detail} (limit {} = {value}; raise it with {} if this input is trusted)",
        limit.what(), limit.field(), limit.flag()
    )]
    Limit {
        limit: LimitKind,
        value: u64,
        detail: String,
    },
    /// A limit built into the YAML parser that no option raises (flow nesting of 255).
    #[error("{detail}")]
    FixedLimit { detail: String },
    #[error("{reason}")]
    Encoding { reason: String },
    #[error("invalid YAML: {reason}{}", if *rest_skipped { "; the rest of this document was not read" } else { "" })]
    Syntax { reason: String, rest_skipped: bool },
    #[error("{reason}")]
    NotObject { reason: String },
    /// `--render`: a chart or kustomization could not be rendered.
    #[error("{0}")]
    Render(String),
}

impl LoadError {
    /// The machine-readable kind used in `InputError::kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::Io { .. } => "io",
            LoadError::Limit { .. } | LoadError::FixedLimit { .. } => "limit",
            LoadError::Encoding { .. } => "encoding",
            LoadError::Syntax { .. } => "syntax",
            LoadError::NotObject { .. } => "not-object",
            LoadError::Render(_) => "render",
        }
    }
}

/// The result of a load: objects, errors and notes, in input order.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Kubernetes objects (one per document, or one per item of a `*List`).
    pub documents: Vec<Document>,
    /// Problems with the input; the CLI exits with status 2 when there is any.
    pub errors: Vec<InputError>,
    /// Informational: skipped documents (`not-kubernetes`), `empty` files, `duplicate-key`,
    /// `unsupported-value` (`.inf`/`.nan`). Not errors.
    pub notes: Vec<InputError>,
    /// Files read (attempted).
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Set by [`load_mapping_bytes`]: every mapping document is an object as it is.
    pub(crate) any_mapping: bool,
    /// Tree bytes the documents still to come may take (`Limits::max_tree_ratio`); None
    /// until the first text is granted its share.
    pub(crate) tree_left: Option<usize>,
}

impl Loaded {
    /// Adds the tree bytes a text of `len` bytes may take: `max_tree_ratio` per byte, plus
    /// [`TREE_BASE_BYTES`] once per result.
    pub(crate) fn grant_tree(&mut self, len: usize, limits: &Limits) {
        let share = len.saturating_mul(limits.max_tree_ratio);
        let left = self.tree_left.get_or_insert(TREE_BASE_BYTES);
        *left = left.saturating_add(share);
    }

    /// Appends another load's results (files and bytes are added up).
    pub fn extend(&mut self, other: Loaded) {
        self.documents.extend(other.documents);
        self.errors.extend(other.errors);
        self.notes.extend(other.notes);
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

/// Where a message belongs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct At {
    pub document: Option<usize>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl At {
    pub(crate) fn doc(document: usize) -> At {
        At {
            document: Some(document),
            ..At::default()
        }
    }
    pub(crate) fn span(document: usize, span: palisade_core::Span) -> At {
        At {
            document: Some(document),
            line: Some(span.line),
            column: Some(span.column),
        }
    }
}

/// Collects the output of one file.
pub(crate) struct Sink<'a> {
    pub file: std::sync::Arc<str>,
    pub out: &'a mut Loaded,
}

impl Sink<'_> {
    pub(crate) fn error(&mut self, at: At, err: &LoadError) {
        self.out
            .errors
            .push(self.input_error(at, err.kind(), err.to_string()));
    }

    pub(crate) fn note(&mut self, at: At, kind: &str, message: impl Into<String>) {
        let n = self.input_error(at, kind, message.into());
        self.out.notes.push(n);
    }

    fn input_error(&self, at: At, kind: &str, message: String) -> InputError {
        InputError {
            file: self.file.to_string(),
            document: at.document,
            line: at.line,
            column: at.column,
            kind: kind.to_owned(),
            message,
        }
    }
}

pub(crate) fn limit_error(limit: LimitKind, value: u64, detail: impl fmt::Display) -> LoadError {
    LoadError::Limit {
        limit,
        value,
        detail: detail.to_string(),
    }
}

/// Loads one file's text. `file` is the display name put in every document and error.
pub fn load_str(file: &str, text: &str, limits: &Limits) -> Loaded {
    let mut out = Loaded {
        files: 1,
        bytes: text.len() as u64,
        ..Loaded::default()
    };
    let mut sink = Sink {
        file: file.into(),
        out: &mut out,
    };
    if check_size(&mut sink, text.len(), limits) {
        stream::load_text(&mut sink, text, limits);
        if looks_like_template(text.as_bytes()) {
            hint_template(&mut out);
        }
    }
    out
}

/// Loads one file's bytes: checks the size, rejects binary (a NUL byte), UTF-16/32 and
/// invalid UTF-8 with an `encoding` error, strips a UTF-8 byte-order mark, then parses.
pub fn load_bytes(file: &str, bytes: &[u8], limits: &Limits) -> Loaded {
    load_bytes_as(file, bytes, limits, false)
}

/// [`load_bytes`] for files that are YAML but not Kubernetes objects, such as a kubeconfig,
/// whose `apiVersion` and `kind` may be left out: every mapping document is returned as it is
/// (no `apiVersion`/`kind` check, no `*List` expansion), with the same limits, spans and
/// scalar resolution.
pub fn load_mapping_bytes(file: &str, bytes: &[u8], limits: &Limits) -> Loaded {
    load_bytes_as(file, bytes, limits, true)
}

/// [`load_mapping_bytes`] on one file, read as scanned files are (size checked before
/// reading, read errors reported with the path).
pub fn load_mapping_file(path: &std::path::Path, limits: &Limits) -> Loaded {
    let job = paths::Job::File {
        path: path.to_owned(),
        name: path.display().to_string(),
    };
    match paths::read_job(job, limits) {
        Ok(read) => load_bytes_as(&read.name, &read.bytes, limits, true),
        Err(loaded) => loaded,
    }
}

fn load_bytes_as(file: &str, bytes: &[u8], limits: &Limits, any_mapping: bool) -> Loaded {
    let mut out = Loaded {
        files: 1,
        bytes: bytes.len() as u64,
        any_mapping,
        ..Loaded::default()
    };
    let mut sink = Sink {
        file: file.into(),
        out: &mut out,
    };
    if !check_size(&mut sink, bytes.len(), limits) {
        return out;
    }
    match decode(bytes) {
        Ok(text) => {
            stream::load_text(&mut sink, text, limits);
            if looks_like_template(bytes) {
                hint_template(&mut out);
            }
        }
        Err(e) => encoding_error(&mut sink, e),
    }
    out
}

/// Whether a file holds Go template actions (`{{` followed, later, by `}}`), as Helm chart
/// templates do: such a file is not YAML until rendered, and saphyr's errors on it (`"-" is
/// only valid inside a block` for `{{- if ... }}`) say nothing about that.
pub(crate) fn looks_like_template(text: &[u8]) -> bool {
    memchr::memmem::find(text, b"{{").is_some_and(|open| {
        text.get(open + 2..)
            .is_some_and(|rest| memchr::memmem::find(rest, b"}}").is_some())
    })
}

const TEMPLATE_HINT: &str = "; this file looks like a Go/Helm template (it has `{{ ... }}` \
    actions), which is YAML only once rendered: scan the rendered objects instead, e.g. \
    `helm template RELEASE CHART_DIR | palisade scan -`";

/// Appends [`TEMPLATE_HINT`] to the parse errors (syntax, not an object) of a template file;
/// they stay errors.
pub(crate) fn hint_template(out: &mut Loaded) {
    for e in &mut out.errors {
        if matches!(e.kind.as_str(), "syntax" | "not-object") && !e.message.ends_with(TEMPLATE_HINT)
        {
            e.message.push_str(TEMPLATE_HINT);
        }
    }
}

/// False (and the error reported) when a file is over `max_file_bytes`.
pub(crate) fn check_size(sink: &mut Sink<'_>, len: usize, limits: &Limits) -> bool {
    if len as u64 <= limits.max_file_bytes {
        return true;
    }
    sink.error(
        At::default(),
        &limit_error(
            LimitKind::FileBytes,
            limits.max_file_bytes,
            format_args!("the file has {len} bytes; it was not read"),
        ),
    );
    false
}

pub(crate) fn encoding_error(sink: &mut Sink<'_>, (line, reason): (Option<u32>, String)) {
    let at = At {
        line,
        ..At::default()
    };
    sink.error(at, &LoadError::Encoding { reason });
}

/// [`decode`] keeping the buffer (validated once).
pub(crate) fn decode_owned(bytes: Vec<u8>) -> Result<String, (Option<u32>, String)> {
    check_binary(&bytes)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        invalid_utf8(bytes, e.utf8_error().valid_up_to())
    })
}

/// UTF-8 text of `bytes`, or the line and reason why it is not.
fn decode(bytes: &[u8]) -> Result<&str, (Option<u32>, String)> {
    check_binary(bytes)?;
    std::str::from_utf8(bytes).map_err(|e| invalid_utf8(bytes, e.valid_up_to()))
}

/// 1-based line of byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> Option<u32> {
    let nl = memchr::memchr_iter(b'\n', bytes.get(..offset).unwrap_or(bytes)).count();
    u32::try_from(nl + 1).ok()
}

/// Refuses UTF-16/32 (byte-order mark) and binary (a NUL byte) input.
fn check_binary(bytes: &[u8]) -> Result<(), (Option<u32>, String)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err((
            None,
            "the file is UTF-16 or UTF-32 (byte-order mark); convert it to UTF-8".to_owned(),
        ));
    }
    if let Some(pos) = memchr::memchr(0, bytes) {
        return Err((
            line_of(bytes, pos),
            format!("binary file: NUL byte at offset {pos}; manifests must be UTF-8 text"),
        ));
    }
    Ok(())
}

fn invalid_utf8(bytes: &[u8], valid_up_to: usize) -> (Option<u32>, String) {
    (
        line_of(bytes, valid_up_to),
        format!("invalid UTF-8 at byte offset {valid_up_to}; manifests must be UTF-8 text"),
    )
}
