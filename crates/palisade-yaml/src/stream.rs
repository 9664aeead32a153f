//! One file's text to documents: split at document markers, parse each piece, build each
//! document, hand it to [`crate::objects`].
//!
//! [`load_text`] does a whole file in order. [`prepare`] and [`load_chunks`] are the same
//! work cut in pieces for [`crate::paths`], which parses the pieces of one file on several
//! threads: [`Split::first_indices`] says, before parsing, which document index each piece
//! starts at, where that is certain.

use crate::build::{Builder, DocError, Root, Shifts, shifted, to_span};
use crate::events::Events;
use crate::{At, LimitKind, Limits, LoadError, Sink, limit_error, objects};
use saphyr_parser::Event;
use serde_json::Value;

/// A piece of the file starting at a line boundary: `text[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub start: usize,
    pub end: usize,
    /// Lines before the chunk (added to the parser's 1-based lines).
    pub line_offset: u32,
}

/// What a file's text is, decided without parsing it.
pub(crate) enum Prepared<'t> {
    /// Nothing to parse (an empty file: the note is already in the sink).
    Done,
    /// A stream of JSON values (kubectl's rule: the first non-blank character is `{`).
    Json(&'t str),
    /// YAML, split at document markers.
    Yaml(Split<'t>),
}

pub(crate) struct Split<'t> {
    /// The text after any byte-order mark; chunk offsets index it.
    pub text: &'t str,
    pub chunks: Vec<Chunk>,
}

impl Split<'_> {
    /// The document index each chunk starts at (and, last, the number of documents), when that is known without parsing: every
    /// chunk but the first starts with `---` and so holds exactly one document (or one
    /// syntax error, which also takes one index), and the first holds one unless it is only
    /// blank and comment lines. Not known (None) when a `...` line could start further
    /// documents inside a chunk, or when the documents-per-file limit cuts the file short:
    /// such files are read in order by [`load_chunks`] over all their chunks.
    pub(crate) fn first_indices(&self, limits: &Limits) -> Option<Vec<usize>> {
        let bytes = self.text.as_bytes();
        if has_document_end_marker(bytes) {
            return None;
        }
        let mut next = 0usize;
        let mut out = Vec::with_capacity(self.chunks.len());
        for (i, c) in self.chunks.iter().enumerate() {
            out.push(next);
            let piece = bytes.get(c.start..c.end).unwrap_or_default();
            if i > 0 || !only_blank_or_comments(piece) {
                next += 1;
            }
        }
        out.push(next);
        (next <= limits.max_documents_per_file).then_some(out)
    }
}

/// A line that is exactly a `...` document end marker (followed by a blank, a break or the end).
fn has_document_end_marker(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"...").any(|p| {
        (p == 0 || matches!(bytes.get(p - 1), Some(b'\n' | b'\r')))
            && matches!(bytes.get(p + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    })
}

/// Every line blank (spaces and tabs) or a comment: the parser starts no document for it.
fn only_blank_or_comments(bytes: &[u8]) -> bool {
    bytes.split(|&b| b == b'\n' || b == b'\r').all(|line| {
        matches!(
            line.iter().find(|b| !matches!(b, b' ' | b'\t')),
            None | Some(b'#')
        )
    })
}

/// Strips a byte-order mark, notes an empty file, and tells JSON from YAML.
pub(crate) fn prepare<'t>(sink: &mut Sink<'_>, text: &'t str, limits: &Limits) -> Prepared<'t> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        sink.note(At::default(), "empty", "empty file: no documents");
        return Prepared::Done;
    }
    // kubectl's rule is `{`; a bare array (`[`, e.g. `jq .items` output) is read as JSON too,
    // because saphyr holds every token of a flow collection until it closes (a 50 MB array
    // took GBs). Both give the same for JSON, and text that is not JSON is read as YAML.
    if text.trim_start().starts_with(['{', '[']) {
        return Prepared::Json(text);
    }
    Prepared::Yaml(Split {
        text,
        chunks: split_documents(text, limits.max_documents_per_file.saturating_add(2)),
    })
}

/// A stream of JSON values; Returns false when the text should be read as YAML instead.
pub(crate) fn load_json_text(sink: &mut Sink<'_>, text: &str, limits: &Limits) -> bool {
    let strict = sink
        .file
        .rsplit('.')
        .next()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    // Other tools (kustomize, Helm) read such files as YAML, where `{a: 1}` is a flow
    // mapping: a non-`.json` file that is not valid JSON is read again as YAML.
    let mut json_out = crate::Loaded {
        any_mapping: sink.out.any_mapping,
        ..crate::Loaded::default()
    };
    let ok = {
        let mut json_sink = Sink {
            file: sink.file.clone(),
            out: &mut json_out,
        };
        crate::json::load_json(&mut json_sink, text, limits)
    };
    if ok || strict {
        sink.out.extend(json_out);
        return true;
    }
    false
}

pub(crate) fn load_text(sink: &mut Sink<'_>, text: &str, limits: &Limits) {
    let split = match prepare(sink, text, limits) {
        Prepared::Done => return,
        Prepared::Json(text) => {
            if load_json_text(sink, text, limits) {
                return;
            }
            Split {
                text,
                chunks: split_documents(text, limits.max_documents_per_file.saturating_add(2)),
            }
        }
        Prepared::Yaml(split) => split,
    };
    let mut docs = DocCounter::starting_at(0);
    load_chunks(sink, split.text, &split.chunks, limits, &mut docs);
    note_if_no_documents(sink, docs.non_empty);
}

/// The file-level note for a file in which no document had content.
pub(crate) fn note_if_no_documents(sink: &mut Sink<'_>, non_empty: usize) {
    if non_empty == 0 {
        sink.note(
            At::default(),
            "empty",
            "the file holds no documents (only comments, blank lines or empty documents)",
        );
    }
}

/// Parses `chunks` of `text` in order, numbering documents from `docs`. Stops early at the
/// documents-per-file limit.
pub(crate) fn load_chunks(
    sink: &mut Sink<'_>,
    text: &str,
    chunks: &[Chunk],
    limits: &Limits,
    docs: &mut DocCounter,
) {
    let mut reparse = Reparse::new();
    let len: usize = chunks.iter().map(|c| c.end.saturating_sub(c.start)).sum();
    sink.out.grant_tree(len, limits);
    for chunk in chunks {
        let piece = text.get(chunk.start..chunk.end).unwrap_or("");
        if !load_chunk(sink, piece, chunk.line_offset, limits, docs, &mut reparse) {
            return;
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct DocCounter {
    /// Index the next document gets.
    pub next_index: usize,
    /// Documents started (for the per-file limit).
    seen: usize,
    /// Documents with content (an object, a value or an error).
    pub non_empty: usize,
}

impl DocCounter {
    /// Counting from document `index` of a file (all documents before it started).
    pub(crate) fn starting_at(index: usize) -> DocCounter {
        DocCounter {
            next_index: index,
            seen: index,
            non_empty: 0,
        }
    }
}

/// Splits at lines that are YAML document markers: `---` at column 0 followed by a blank,
/// a line break or the end. YAML forbids such a line inside any content (block scalars and
/// quoted scalars included), so every piece is self-contained. Directive lines (`%...`)
/// just before a marker go with the document they introduce. Line breaks are counted the
/// way the parser counts them (`\n`, `\r\n`, lone `\r`). Only `---` occurrences are
/// examined (SIMD search), so this costs little next to parsing. At most `max_chunks`
/// pieces (the last one holds the rest): every piece but the first holds a document, so the
/// documents-per-file limit stops the parse before the cap matters.
fn split_documents(text: &str, max_chunks: usize) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    let mut chunk_line = 0u32;
    for p in memchr::memmem::find_iter(bytes, b"---") {
        let at_line_start = p == 0 || matches!(bytes.get(p - 1), Some(b'\n' | b'\r'));
        let terminated = matches!(bytes.get(p + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'));
        if !at_line_start || !terminated || p <= chunk_start {
            continue;
        }
        if chunks.len() + 1 >= max_chunks {
            break;
        }
        let cut = directive_run_start(bytes, chunk_start, p);
        if cut > chunk_start {
            let piece = bytes.get(chunk_start..cut).unwrap_or_default();
            chunks.push(Chunk {
                start: chunk_start,
                end: cut,
                line_offset: chunk_line,
            });
            chunk_line = chunk_line.saturating_add(count_breaks(piece));
            chunk_start = cut;
        }
    }
    if chunk_start < bytes.len() {
        chunks.push(Chunk {
            start: chunk_start,
            end: bytes.len(),
            line_offset: chunk_line,
        });
    }
    chunks
}

/// Start of the run of directive (`%`), blank and comment lines that ends just before the
/// marker at `marker`, if that run holds a directive; else `marker`.
fn directive_run_start(bytes: &[u8], floor: usize, marker: usize) -> usize {
    let mut cut = marker;
    let mut line_end = marker;
    while line_end > floor {
        // The previous line is bytes[start..line_end - break].
        let body_end = if line_end >= 2 && bytes.get(line_end - 2..line_end) == Some(b"\r\n") {
            line_end - 2
        } else {
            line_end - 1
        };
        let start = bytes
            .get(floor..body_end)
            .and_then(|b| memchr::memrchr2(b'\n', b'\r', b))
            .map_or(floor, |i| floor + i + 1);
        let line = bytes.get(start..body_end).unwrap_or_default();
        match line.iter().find(|b| !matches!(b, b' ' | b'\t')) {
            _ if line.first() == Some(&b'%') => cut = start,
            None | Some(b'#') => {}
            _ => break,
        }
        if start == floor {
            break;
        }
        line_end = start;
    }
    cut
}

/// Line breaks in `b`: `\r\n`, `\n` and lone `\r` count one each.
fn count_breaks(b: &[u8]) -> u32 {
    let lf = memchr::memchr_iter(b'\n', b).count();
    let lone_cr = if memchr::memchr(b'\r', b).is_some() {
        memchr::memchr_iter(b'\r', b)
            .filter(|&i| b.get(i + 1) != Some(&b'\n'))
            .count()
    } else {
        0
    };
    u32::try_from(lf + lone_cr).unwrap_or(u32::MAX)
}

/// How much text may be parsed again to re-indent scalars and flow collections (see
/// [`load_chunk`]; each fix costs about three parses of its chunk and fixes one collection or
/// scalar). Each chunk may re-parse [`REPARSE_PER_BYTE`] times its own length, then draw on
/// a pool of [`REPARSE_POOL`] bytes shared by the chunks of one [`load_chunks`] call. Real
/// manifests need a fix or two per document (always within a chunk's own share); a hostile
/// file full of them ends with saphyr's errors after bounded work (about 9 times a plain
/// parse plus the pool), instead of work that grows with the square of the file, and one
/// such document cannot use up the share of the documents after it.
struct Reparse {
    pool: usize,
    /// The current chunk's own share.
    own: usize,
}

const REPARSE_PER_BYTE: usize = 8;
const REPARSE_POOL: usize = 512 << 10;

impl Reparse {
    fn new() -> Reparse {
        Reparse {
            pool: REPARSE_POOL,
            own: 0,
        }
    }

    fn start_chunk(&mut self, len: usize) {
        self.own = len.saturating_mul(REPARSE_PER_BYTE);
    }

    /// Whether one more fix of a chunk of `len` bytes fits.
    fn allows(&self, len: usize) -> bool {
        len.saturating_mul(3) <= self.own.saturating_add(self.pool)
    }

    /// Counts one fix: the chunk's own share first, then the pool.
    fn take(&mut self, len: usize) {
        let cost = len.saturating_mul(3);
        let from_own = cost.min(self.own);
        self.own -= from_own;
        self.pool = self.pool.saturating_sub(cost - from_own);
    }
}

/// One parse of a chunk: its text (re-indented or not), the shifts made, whether a refusal
/// for indentation is returned for another try, and which documents are over the node limit
/// (`events::over_node_limit`).
#[derive(Clone, Copy)]
struct Attempt<'a> {
    text: &'a str,
    shifts: &'a Shifts,
    retry: bool,
    over_node_limit: &'a [bool],
}

/// Why saphyr refused a chunk where go-yaml would not have: the char index of what it refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// A quoted scalar (its opening quote) continued below its block's indentation.
    Quoted(usize),
    /// A token below the block indentation; accepted by go-yaml when inside a flow collection.
    Indent(usize),
}

/// Parses one chunk (usually one document; more when `...` separates several). Returns
/// false when the whole file must stop (documents-per-file limit).
///
/// go-yaml (Kubernetes) checks indentation only in block context: inside a flow collection
/// (`[...]`, `{...}`) items, continuation lines of plain and quoted scalars, comments and the
/// closing bracket may sit at any column, even 0 (its scanner never compares a column with the
/// indentation while `flow_level > 0`), and continuation lines of a quoted scalar may sit at
/// any column in block context too (`yaml_parser_scan_flow_scalar` checks only for document
/// markers and the end of the stream). saphyr (following YAML 1.2) wants all of them indented
/// past the enclosing block. When saphyr refuses a chunk for that, the chunk is parsed again
/// with the lines concerned indented just enough: every line of the flow collection after its
/// opening line, up to its closing bracket, to one past the opening bracket's column (or the
/// quoted scalar's continuation lines to its opening quote). Leading white space on those
/// lines is not content (it is folded away in scalars, and separates tokens otherwise), so
/// values are unchanged, lines are unchanged, and columns are corrected for the added spaces.
/// Lines that are document markers or directives are never indented: go-yaml ends a flow
/// collection there with an error, and so does saphyr. See docs/loader.md.
fn load_chunk(
    sink: &mut Sink<'_>,
    text: &str,
    line_offset: u32,
    limits: &Limits,
    docs: &mut DocCounter,
    reparse: &mut Reparse,
) -> bool {
    let mark = (
        sink.out.documents.len(),
        sink.out.errors.len(),
        sink.out.notes.len(),
        *docs,
        sink.out.tree_left,
    );
    // Back to the state before this chunk, for another parse of it.
    let rollback = |sink: &mut Sink<'_>, docs: &mut DocCounter| {
        sink.out.documents.truncate(mark.0);
        sink.out.errors.truncate(mark.1);
        sink.out.notes.truncate(mark.2);
        *docs = mark.3;
        sink.out.tree_left = mark.4;
    };
    let mut patched: Option<(String, Shifts)> = None;
    let no_shifts = Shifts::new();
    reparse.start_chunk(text.len());
    let over = crate::events::over_node_limit(text, limits.max_nodes);
    loop {
        let (t, shifts) = patched
            .as_ref()
            .map_or((text, &no_shifts), |(t, s)| (t.as_str(), s));
        let retry = reparse.allows(t.len());
        let attempt = Attempt {
            text: t,
            shifts,
            retry,
            over_node_limit: &over,
        };
        let refusal = match parse_chunk(sink, &attempt, line_offset, limits, docs) {
            Ok(go_on) => return go_on,
            Err(refusal) => refusal,
        };
        rollback(sink, docs);
        reparse.take(t.len());
        let next = match refusal {
            Refusal::Quoted(at) => reindent_flow(t, at, shifts, limits.max_nodes)
                .or_else(|| reindent_quoted(t, at, shifts)),
            Refusal::Indent(at) => reindent_flow(t, at, shifts, limits.max_nodes),
        };
        match next {
            Some(next) => patched = Some(next),
            // Nothing to re-indent: report saphyr's error as it is.
            None => {
                let last = Attempt {
                    retry: false,
                    ..attempt
                };
                return parse_chunk(sink, &last, line_offset, limits, docs).unwrap_or(true);
            }
        }
    }
}

/// saphyr's error for a quoted scalar continued below its block's indentation.
const QUOTED_INDENT: &str = "invalid indentation in quoted scalar";
/// saphyr's errors for a token, a plain scalar in a flow collection, or a token after leading
/// tabs, below the indentation.
const INDENT: [&str; 3] = [
    "invalid indentation",
    "invalid indentation in flow construct",
    "tabs disallowed within this context (block indentation)",
];

/// Byte offset of char index `at` in `text` (its length for the end).
fn byte_of_char(text: &str, at: usize) -> Option<usize> {
    if text.is_ascii() {
        return (at <= text.len()).then_some(at);
    }
    text.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .nth(at)
}

/// A flow collection's opening bracket: char index, 0-based line and char column.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Opening {
    index: usize,
    line: usize,
    col: usize,
    /// Column of the enclosing block collection (None at the top of the document).
    block_indent: Option<usize>,
}

impl Opening {
    fn of(start: &saphyr_parser::Marker) -> Opening {
        Opening {
            index: start.index(),
            line: start.line().saturating_sub(1),
            col: start.col(),
            block_indent: None,
        }
    }
}

/// The outermost flow collection still open at char index `at`, opened in block context
/// (or at the top): found by parsing the text before `at`, which ends at a token boundary
/// (saphyr reports these errors at the start of a token), and keeping the stack of open
/// collections. A flow collection's start event spans its bracket; a block one's is empty.
fn open_flow_at(text: &str, at: usize, cap: usize) -> Option<Opening> {
    let prefix = text.get(..byte_of_char(text, at)?)?;
    let mut parser = Events::new(prefix, cap);
    let mut open: Vec<(Opening, bool)> = Vec::new();
    while let Some(Ok((ev, span))) = parser.next_event() {
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let flow = span.end.index() > span.start.index();
                open.push((Opening::of(&span.start), flow));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            Event::DocumentStart(_) | Event::DocumentEnd => open.clear(),
            _ => {}
        }
    }
    let at = open.iter().position(|(_, flow)| *flow)?;
    let (mut first, _) = *open.get(at)?;
    // The enclosing block collection's column is go-yaml's indentation inside the flow.
    first.block_indent = at
        .checked_sub(1)
        .and_then(|i| open.get(i))
        .map(|(o, _)| o.col);
    let bracket = prefix
        .get(byte_of_char(prefix, first.index)?..)?
        .chars()
        .next();
    matches!(bracket, Some('[' | '{')).then_some(first)
}

/// go-yaml refuses a tab in the white space that follows a plain scalar ending its line, at a
/// column left of the block indentation + 1 ("found a tab character that violates
/// indentation", `yaml_parser_scan_plain_scalar`, also in flow context): `a: [` / `1` / `\t]`.
/// saphyr's refusal of such a collection is then kept. Scans the collection's lines from its
/// bracket, telling quoted scalars and comments from plain text (a quote opens a scalar only
/// after `[`, `{`, `,`, `:` or white space).
fn go_yaml_refuses_tab(text: &str, open: Opening, close_line: usize) -> bool {
    // Columns left of this are refused (go-yaml: indent + 1, indent -1 at the top).
    let limit = open.block_indent.map_or(0, |i| i + 1);
    #[derive(PartialEq)]
    enum State {
        Plain,
        Double,
        Single,
        Comment,
    }
    let Some(start) = byte_of_char(text, open.index) else {
        return false;
    };
    let mut state = State::Plain;
    let (mut line, mut col) = (open.line, open.col);
    // The last thing read outside quotes and comments was plain scalar text.
    let mut plain_last = false;
    // In the white space after a line that ended with plain text.
    let mut after_plain = false;
    let mut leading = false;
    let mut prev = ' ';
    let mut chars = text.get(start..).unwrap_or("").chars().peekable();
    while let Some(c) = chars.next() {
        if line > close_line {
            break;
        }
        if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            after_plain = match state {
                State::Plain => plain_last || (after_plain && leading),
                State::Comment => {
                    state = State::Plain;
                    false
                }
                _ => false,
            };
            line += 1;
            col = 0;
            leading = true;
            prev = ' ';
            continue;
        }
        if leading {
            if c == '\t' && after_plain && col < limit {
                return true;
            }
            if c != ' ' && c != '\t' {
                leading = false;
                after_plain = false;
            }
        }
        match state {
            State::Double if c == '\\' => {
                chars.next();
                col += 1;
            }
            State::Double if c == '"' => state = State::Plain,
            State::Single if c == '\'' => {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    col += 1;
                } else {
                    state = State::Plain;
                }
            }
            State::Plain => match c {
                '"' | '\'' if matches!(prev, ' ' | '\t' | '[' | '{' | ',' | ':') && !plain_last => {
                    state = if c == '"' {
                        State::Double
                    } else {
                        State::Single
                    };
                    plain_last = false;
                }
                '#' if matches!(prev, ' ' | '\t') => state = State::Comment,
                ',' | '[' | ']' | '{' | '}' => plain_last = false,
                ':' if matches!(
                    chars.peek(),
                    None | Some(' ' | '\t' | '\n' | '\r' | ',' | ']' | '}')
                ) =>
                {
                    plain_last = false;
                }
                ' ' | '\t' => {}
                _ => plain_last = true,
            },
            _ => {}
        }
        prev = c;
        col += 1;
    }
    false
}

/// 0-based line of the bracket closing the flow collection that opens at `open`, found by
/// parsing `text` with every later line indented past the bracket (see [`pad_lines`]), so
/// that saphyr reads the whole collection; what follows it is not looked at.
fn flow_close_line(text: &str, open: Opening, cap: usize) -> Option<usize> {
    let want = open.col + 1;
    let (trial, _) = pad_lines(text, open.line + 1, usize::MAX, want);
    let mut parser = Events::new(&trial, cap);
    let mut depth = 0usize;
    while let Some(Ok((ev, span))) = parser.next_event() {
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                // A block collection can start at the same index (an indentless sequence
                // item, a flow key), with an empty span.
                let flow = span.end.index() > span.start.index();
                if depth > 0 || (flow && span.start.index() == open.index) {
                    depth += 1;
                }
            }
            Event::SequenceEnd | Event::MappingEnd if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(span.start.line().saturating_sub(1));
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with the lines of the flow collection open at char index `at` indented past its
/// opening bracket, and the merged shifts; None when `at` is not inside a flow collection, the
/// collection does not close, or nothing needs to change.
fn reindent_flow(text: &str, at: usize, shifts: &Shifts, cap: usize) -> Option<(String, Shifts)> {
    let open = open_flow_at(text, at, cap)?;
    let close = flow_close_line(text, open, cap)?;
    if go_yaml_refuses_tab(text, open, close) {
        return None;
    }
    let (out, added) = pad_lines(text, open.line + 1, close, open.col + 1);
    if added.is_empty() {
        return None;
    }
    let mut merged = shifts.clone();
    for (line, n) in added {
        *merged.entry(line).or_insert(0) += n;
    }
    Some((out, merged))
}

/// `text` with every line from `first` to `last` (0-based, inclusive) that starts with fewer
/// than `want` blank characters indented with spaces to `want`, and the spaces added per line.
/// Blank lines, document markers (`---`, `...`) and directives (`%`) are left as they are.
/// Line breaks are counted as the parser counts them (`\n`, `\r\n`, lone `\r`).
fn pad_lines(text: &str, first: usize, last: usize, want: usize) -> (String, Vec<(u32, u32)>) {
    let mut out = String::with_capacity(text.len() + 256);
    let mut added = Vec::new();
    let mut rest = text;
    let mut line = 0usize;
    loop {
        let end = memchr::memchr2(b'\n', b'\r', rest.as_bytes()).unwrap_or(rest.len());
        let brk = match rest.as_bytes().get(end..) {
            Some([b'\r', b'\n', ..]) => 2,
            Some([_, ..]) => 1,
            _ => 0,
        };
        let body = rest.get(..end).unwrap_or("");
        if (first..=last).contains(&line) {
            let lead = body.chars().take_while(|c| matches!(c, ' ' | '\t')).count();
            let blank = lead == body.chars().count();
            let marker = ["---", "..."].iter().any(|m| {
                body.strip_prefix(m)
                    .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
            });
            if lead < want && !blank && !marker && !body.starts_with('%') {
                out.extend(std::iter::repeat_n(' ', want - lead));
                if let (Ok(l), Ok(n)) = (u32::try_from(line), u32::try_from(want - lead)) {
                    added.push((l, n));
                }
            }
        }
        out.push_str(rest.get(..end + brk).unwrap_or(rest));
        rest = rest.get(end + brk..).unwrap_or("");
        if brk == 0 || rest.is_empty() {
            break;
        }
        line += 1;
    }
    (out, added)
}

/// `text` with the continuation lines of the quoted scalar opening at char index `open`
/// indented to the quote's column, and the merged shifts. None when there is nothing to
/// change (no closing quote, or already indented).
fn reindent_quoted(text: &str, open: usize, shifts: &Shifts) -> Option<(String, Shifts)> {
    let (start, quote) = text.char_indices().nth(open)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let bytes = text.as_bytes();
    let line_start = bytes
        .get(..start)
        .and_then(|b| memchr::memrchr2(b'\n', b'\r', b))
        .map_or(0, |i| i + 1);
    let want = text.get(line_start..start)?.chars().count();
    let mut line = count_breaks(bytes.get(..start)?);
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(text.get(..=start)?);
    let mut added = shifts.clone();
    let mut i = start + 1;
    let mut changed = false;
    loop {
        let b = *bytes.get(i)?;
        let step = match b {
            b'\\' if quote == '"' && !matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) => 2,
            b'\'' if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') => 2,
            _ if b == quote as u8 => {
                out.push_str(text.get(i..)?);
                break;
            }
            b'\n' | b'\r' => {
                let len = if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                out.push_str(text.get(i..i + len)?);
                i += len;
                line += 1;
                let spaces = bytes.get(i..)?.iter().take_while(|&&c| c == b' ').count();
                if spaces < want {
                    let pad = want - spaces;
                    out.extend(std::iter::repeat_n(' ', pad));
                    *added.entry(line).or_insert(0) += u32::try_from(pad).ok()?;
                    changed = true;
                }
                continue;
            }
            _ => 1,
        };
        // Whole chars only (a multi-byte char is copied with its first byte's step).
        let end = (i + step).min(bytes.len());
        let end = (end..=bytes.len()).find(|&e| text.is_char_boundary(e))?;
        out.push_str(text.get(i..end)?);
        i = end;
    }
    changed.then_some((out, added))
}

/// One parse of a chunk. With `retry`, a refusal for indentation (see [`load_chunk`]) is
/// returned instead of being reported; without, it is always Ok.
fn parse_chunk(
    sink: &mut Sink<'_>,
    attempt: &Attempt<'_>,
    line_offset: u32,
    limits: &Limits,
    docs: &mut DocCounter,
) -> Result<bool, Refusal> {
    let Attempt {
        text,
        shifts,
        retry,
        over_node_limit,
    } = *attempt;
    let mut doc_in_chunk = 0usize;
    let mut parser = Events::new(text, limits.max_nodes);
    let mut builder: Option<Builder<'_>> = None;
    // Inside a document whose build failed: skip its events until its end.
    let mut skipping = false;
    let mut in_doc = false;
    while let Some(next) = parser.next_event() {
        let (ev, span) = match next {
            // Checked on every result: the parser may still deliver events after the cut.
            _ if parser.cut() => {
                if skipping {
                    // This document's error is already reported.
                    return Ok(true);
                }
                let at = At::doc(docs.next_index);
                if !in_doc {
                    docs.seen += 1;
                }
                let err = match parser.cap() {
                    Some((cap, true)) => LoadError::FixedLimit {
                        detail: format!(
                            "flow collection limit exceeded: a flow collection (`[...]`, \
                             `{{...}}`) with more than {cap} separators (`,` `:` brackets) in \
                             {} bytes, which the YAML parser holds whole until it closes \
                             (100-400 bytes each; at most {} bytes per byte of text are allowed); \
                             document skipped (as JSON, or in block style, it is read as it goes)",
                            text.len(),
                            crate::events::HOLD_RATIO,
                        ),
                    },
                    _ => limit_error(
                        LimitKind::Nodes,
                        limits.max_nodes as u64,
                        format_args!(
                            "a flow collection (`[...]`, `{{...}}`) with more than {} entries, \
                             which the YAML parser holds whole until it closes (one eighth of \
                             the limit); document skipped (as JSON, or in block style, it is \
                             read as it goes)",
                            (limits.max_nodes / 8).max(1024)
                        ),
                    ),
                };
                sink.error(at, &err);
                docs.non_empty += 1;
                docs.next_index += 1;
                return Ok(true);
            }
            Ok(x) => x,
            Err(e) => {
                if retry && e.info() == QUOTED_INDENT {
                    return Err(Refusal::Quoted(e.marker().index()));
                }
                if retry && INDENT.contains(&e.info()) {
                    return Err(Refusal::Indent(e.marker().index()));
                }
                let sp = shifted(to_span(e.marker(), line_offset), shifts, line_offset);
                let index = docs.next_index;
                if !in_doc {
                    docs.seen += 1;
                }
                let err = if e.info().contains("recursion limit exceeded") {
                    LoadError::FixedLimit {
                        detail: "nesting limit exceeded: flow collections (`[`, `{`) nested deeper \
                                 than 255 levels, a fixed limit of the YAML parser; document skipped"
                            .to_owned(),
                    }
                } else {
                    LoadError::Syntax {
                        reason: e.info().to_owned(),
                        rest_skipped: true,
                    }
                };
                sink.error(At::span(index, sp), &err);
                docs.non_empty += 1;
                docs.next_index += 1;
                return Ok(true);
            }
        };
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                docs.seen += 1;
                in_doc = true;
                if docs.seen > limits.max_documents_per_file {
                    sink.error(
                        At::doc(docs.next_index),
                        &limit_error(
                            LimitKind::DocumentsPerFile,
                            limits.max_documents_per_file as u64,
                            format_args!(
                                "the file has more than {} documents; the rest of the file was not read",
                                limits.max_documents_per_file
                            ),
                        ),
                    );
                    return Ok(false);
                }
                let over = over_node_limit.get(doc_in_chunk).copied().unwrap_or(false);
                doc_in_chunk += 1;
                if over {
                    // Counted beforehand (`events::over_node_limit`): refused unbuilt.
                    let sp = shifted(to_span(&span.start, line_offset), shifts, line_offset);
                    let e = DocError::Limit {
                        span: sp,
                        limit: LimitKind::Nodes,
                        value: limits.max_nodes,
                    };
                    report_doc_error(sink, docs.next_index, &e);
                    docs.non_empty += 1;
                    builder = None;
                    skipping = true;
                    continue;
                }
                let mut b = Builder::new(limits, line_offset);
                b.shifts = shifts;
                b.allowance = sink.out.tree_left.unwrap_or(usize::MAX);
                builder = Some(b);
                skipping = false;
            }
            Event::DocumentEnd => {
                let index = docs.next_index;
                docs.next_index += 1;
                in_doc = false;
                if let Some(mut b) = builder.take() {
                    take_tree_share(sink, &b);
                    for n in &b.take_notes() {
                        sink.note(At::span(index, n.span), n.kind, n.message.clone());
                    }
                    if let Some(root) = b.finish() {
                        if !matches!(root, Root::Tree(Value::Null, _)) {
                            docs.non_empty += 1;
                        }
                        objects::emit_root(sink, index, root);
                    }
                }
            }
            ev => {
                if skipping {
                    continue;
                }
                if let Some(b) = builder.as_mut()
                    && let Err(e) = b.event(ev, &span)
                {
                    let index = docs.next_index;
                    report_doc_error(sink, index, &e);
                    docs.non_empty += 1;
                    builder = None;
                    skipping = true;
                }
            }
        }
    }
    Ok(true)
}

/// Takes what a finished document's tree costs from its input's share.
pub(crate) fn take_tree_share(sink: &mut Sink<'_>, b: &Builder<'_>) {
    if let Some(left) = sink.out.tree_left.as_mut() {
        *left = left.saturating_sub(b.charged());
    }
}

pub(crate) fn report_doc_error(sink: &mut Sink<'_>, index: usize, e: &DocError) {
    match e {
        DocError::Memory {
            span,
            nodes,
            bytes,
            allowed,
            ratio,
        } => sink.error(
            At::span(index, *span),
            &limit_error(
                LimitKind::TreeMemory,
                *ratio as u64,
                format_args!(
                    "the document's tree would take more than the {allowed} bytes left of its \
                     input's share ({ratio} bytes per byte of text, plus {} KiB per input): it \
                     reached {bytes} bytes at node {nodes} (mappings of one or two short \
                     entries cost about 700 bytes each as JSON values); document skipped",
                    crate::TREE_BASE_BYTES >> 10
                ),
            ),
        ),
        DocError::Invalid { span, message } => sink.error(
            At::span(index, *span),
            &LoadError::Syntax {
                reason: message.clone(),
                rest_skipped: false,
            },
        ),
        DocError::Limit { span, limit, value } => {
            let detail = match limit {
                LimitKind::Depth => {
                    "the document nests mappings/sequences deeper than that".to_owned()
                }
                LimitKind::Nodes => {
                    "the document has more nodes than that (aliases expanded)".to_owned()
                }
                LimitKind::AliasExpansions => {
                    "expanding aliases would produce more nodes than that (a YAML alias bomb?)"
                        .to_owned()
                }
                _ => String::new(),
            };
            sink.error(
                At::span(index, *span),
                &limit_error(
                    *limit,
                    *value as u64,
                    format_args!("{detail}; document skipped"),
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<(u32, &str)> {
        split_documents(s, usize::MAX)
            .into_iter()
            .map(|c| (c.line_offset, s.get(c.start..c.end).unwrap_or("")))
            .collect()
    }

    #[test]
    fn splits_at_markers_only() {
        assert_eq!(
            split("a: 1\n---\nb: 2\n"),
            vec![(0, "a: 1\n"), (1, "---\nb: 2\n")]
        );
        assert_eq!(split("---\na: 1\n"), vec![(0, "---\na: 1\n")]);
        assert_eq!(
            split("a: |\n  ---\n---x: 1\n"),
            vec![(0, "a: |\n  ---\n---x: 1\n")]
        );
        assert_eq!(
            split("a: 1\r\n--- \r\nb: 2"),
            vec![(0, "a: 1\r\n"), (1, "--- \r\nb: 2")]
        );
        assert_eq!(split("a\rb\r---\rc"), vec![(0, "a\rb\r"), (2, "---\rc")]);
        assert_eq!(
            split("a: 1\n...\n%YAML 1.1\n# c\n---\nb: 1\n"),
            vec![(0, "a: 1\n...\n"), (2, "%YAML 1.1\n# c\n---\nb: 1\n")]
        );
    }
}
