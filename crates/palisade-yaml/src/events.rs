//! saphyr's parser over one chunk, with a bound on what its scanner holds.
//!
//! saphyr's scanner keeps every token of a flow collection (`[...]`, `{...}`) until the
//! collection closes (its opening bracket might start a mapping key, `[a, b]: c`, which is
//! known only after it), about 90 bytes a token: a 10 MB YAML flow sequence held ~1 GB before
//! the first node was built. A chunk with enough commas and opening brackets to reach the
//! cap below is fed to saphyr through a counting iterator: when the scanner has read more than `max_nodes / 8` flow
//! separators (`,` `:` and brackets) past the last event it delivered (about 90 MB held at
//! the default limit), the input ends there and the chunk is refused with a `max_nodes`
//! limit error. A flow collection at the root of a document (`[a, b, ...]`, `{a: 1, ...}`
//! that is not JSON; JSON is read by our own parser) is worse: saphyr delivers its events yet
//! keeps ~350 bytes per entry until it closes (3M entries, 9 MB: 1 GB), so in a watched chunk
//! that starts with one, all its separators count, not only those past the last event.
//! The cap is also bounded by the chunk's size: at most [`HOLD_RATIO`] bytes held per byte of
//! text (taking ~400 bytes a separator at the root, ~100 under a key; never under
//! [`HOLD_MIN_SEPARATORS`]), so that a small chunk cannot make saphyr hold hundreds of times
//! its size either (a 400 KB root flow sequence held 80 MB). Other chunks, whatever their
//! size, are parsed straight from the string, which is faster.

use saphyr_parser::{BufferedInput, Event, Parser, ScanError, Span, StrInput};
use std::cell::Cell;
use std::rc::Rc;

/// Chunks longer than this may be counted first (`over_node_limit`).
pub(crate) const WATCHED_BYTES: usize = 1 << 20;

/// Bytes saphyr may hold, per byte of a chunk, for the flow collections it has not closed.
pub(crate) const HOLD_RATIO: usize = 32;
/// What saphyr holds per flow separator read ahead: measured ~400 bytes for an entry of a
/// root flow sequence (one separator), ~640 for an entry of a root flow mapping (two), and
/// about 90 for a flow collection under a key (tokens only; its events are not delivered).
const HELD_PER_ROOT_SEPARATOR: usize = 400;
const HELD_PER_SEPARATOR: usize = 100;
/// Separators any chunk may hold, whatever its size (about 1.6 MB at the root of a document).
pub(crate) const HOLD_MIN_SEPARATORS: usize = 4096;

/// What the counting iterator and the event loop share.
struct Watch {
    /// Flow separators read by the scanner so far.
    read: Cell<usize>,
    /// `read` when the last event was delivered.
    at_event: Cell<usize>,
    cap: usize,
    cut: Cell<bool>,
    /// The chunk's first document is a flow collection: every separator counts.
    root_flow: bool,
    /// The cap comes from the chunk's size ([`HOLD_RATIO`]), not from `max_nodes`.
    by_size: bool,
}

struct Counted<'t> {
    chars: std::str::Chars<'t>,
    watch: Rc<Watch>,
}

impl Iterator for Counted<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        // Once cut, the input stays ended (saphyr may ask again).
        if self.watch.cut.get() {
            return None;
        }
        let c = self.chars.next()?;
        if matches!(c, ',' | ':' | '[' | ']' | '{' | '}') {
            let w = &self.watch;
            let read = w.read.get() + 1;
            w.read.set(read);
            if read - w.at_event.get() > w.cap {
                w.cut.set(true);
                return None;
            }
        }
        Some(c)
    }
}

enum Inner<'t> {
    Str(Parser<'t, StrInput<'t>>),
    Counted(Parser<'t, BufferedInput<Counted<'t>>>, Rc<Watch>),
}

pub(crate) struct Events<'t> {
    inner: Inner<'t>,
}

impl<'t> Events<'t> {
    /// Events of `text`, with at most `max_nodes / 8` flow separators held, and at most
    /// [`HOLD_RATIO`] bytes per byte of `text` (see the module's documentation).
    pub(crate) fn new(text: &'t str, max_nodes: usize) -> Events<'t> {
        let by_nodes = (max_nodes / 8).max(1024);
        let root_flow = root_is_flow(text);
        let held = if root_flow {
            HELD_PER_ROOT_SEPARATOR
        } else {
            HELD_PER_SEPARATOR
        };
        let by_size = (text.len().saturating_mul(HOLD_RATIO) / held).max(HOLD_MIN_SEPARATORS);
        let cap = by_nodes.min(by_size);
        // Commas and opening brackets, twice (a flow mapping entry has a `:` too): an upper
        // bound of the separators the scanner could count.
        let reachable = || {
            memchr::memchr3_iter(b',', b'[', b'{', text.as_bytes())
                .count()
                .saturating_mul(2)
                > cap
        };
        // Watched only when the cap can be reached, whatever the size: the counting input
        // is slower (a 1 MB ConfigMap of dashboards was parsed through it for nothing).
        let inner = if reachable() {
            let watch = Rc::new(Watch {
                read: Cell::new(0),
                at_event: Cell::new(0),
                cap,
                cut: Cell::new(false),
                root_flow,
                by_size: by_size < by_nodes,
            });
            let iter = Counted {
                chars: text.chars(),
                watch: Rc::clone(&watch),
            };
            Inner::Counted(Parser::new_from_iter(iter), watch)
        } else {
            Inner::Str(Parser::new_from_str(text))
        };
        Events { inner }
    }

    pub(crate) fn next_event(&mut self) -> Option<Result<(Event<'t>, Span), ScanError>> {
        match &mut self.inner {
            Inner::Str(p) => p.next_event(),
            Inner::Counted(p, w) => {
                let next = p.next_event();
                if !w.root_flow {
                    w.at_event.set(w.read.get());
                }
                next
            }
        }
    }

    /// Whether the input was cut short for holding too much (the error that follows is
    /// the limit's, not the text's).
    pub(crate) fn cut(&self) -> bool {
        match &self.inner {
            Inner::Str(_) => false,
            Inner::Counted(_, w) => w.cut.get(),
        }
    }

    /// When cut: the separators allowed, and whether the chunk's size set that number
    /// (else `max_nodes` did).
    pub(crate) fn cap(&self) -> Option<(usize, bool)> {
        match &self.inner {
            Inner::Str(_) => None,
            Inner::Counted(_, w) => Some((w.cap, w.by_size)),
        }
    }
}

/// Whether the first document of `text` is a flow collection: the first content after blank,
/// comment and directive lines, a `---` marker, tags and anchors is `[` or `{`.
fn root_is_flow(text: &str) -> bool {
    for line in text.lines() {
        let mut rest = line.trim_start();
        if rest.is_empty() || rest.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if let Some(r) = line.strip_prefix("---") {
            rest = r.trim_start();
        }
        // Properties before the node: `!!seq`, `&anchor`.
        while rest.starts_with(['!', '&']) {
            rest = rest
                .find(char::is_whitespace)
                .map_or("", |i| rest.get(i..).unwrap_or("").trim_start());
        }
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        return rest.starts_with(['[', '{']);
    }
    false
}

/// For each document of a chunk over [`WATCHED_BYTES`] that could hold more than `max_nodes`
/// nodes (at 3 nodes per 2 bytes), whether it has more than
/// `max_nodes` nodes (counted as the builder counts them: scalars, keys included, and
/// collections; an alias as one, its expansion has its own budget). One parse that builds
/// nothing, so that such a document is refused before its tree takes memory: a 9 MB flow
/// sequence of 3M entries took 450 MB to reach the limit. Costs one more parse of the large
/// chunks only. A syntax error ends the count (the real parse reports it).
pub(crate) fn over_node_limit(text: &str, max_nodes: usize) -> Vec<bool> {
    let mut out = Vec::new();
    // The densest text is a flow sequence of empty mappings, `[?,?,...]` or `[:,:,...]`: 3
    // nodes per 2 bytes. A chunk that cannot reach the limit is not counted (the limit is
    // still checked while building, and the tree share bounds what that holds): this pass
    // is a whole parse more.
    let most = text.len().saturating_mul(3) / 2 + 8;
    if text.len() <= WATCHED_BYTES || most <= max_nodes {
        return out;
    }
    let mut events = Events::new(text, max_nodes);
    let mut nodes = 0usize;
    // A document whose root is a sequence is never kept (its items are built one at a time,
    // see `build::Root::Sequence`): not refused here.
    let mut root_seq = false;
    while let Some(Ok((ev, _))) = events.next_event() {
        match ev {
            Event::DocumentStart(_) => (nodes, root_seq) = (0, false),
            Event::DocumentEnd => {
                out.push(nodes > max_nodes && !root_seq);
                nodes = 0;
            }
            Event::SequenceStart(..) if nodes == 0 => {
                root_seq = true;
                nodes += 1;
            }
            Event::Scalar(..)
            | Event::SequenceStart(..)
            | Event::MappingStart(..)
            | Event::Alias(_) => nodes += 1,
            _ => {}
        }
    }
    // A document cut short by an error or the cut: its count so far.
    if nodes > max_nodes && !root_seq {
        out.push(true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::root_is_flow;

    #[test]
    fn root_flow_collections_are_recognized() {
        for yes in [
            "[a, b]",
            "# c\n\n{a: 1}",
            "--- [a]",
            "%YAML 1.1\n---\n!!seq &x [a]",
            "---\n  [a,\nb]",
        ] {
            assert!(root_is_flow(yes), "{yes:?}");
        }
        for no in ["a: [1]", "- [a]", "--- a", "# [a]\nb: 1", "? [a]\n: b", ""] {
            assert!(!root_is_flow(no), "{no:?}");
        }
    }
}
