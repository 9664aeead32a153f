//! saphyr's parser over one chunk, with a bound on what its scanner holds.
//!
//! saphyr's scanner keeps every token of a flow collection (`[...]`, `{...}`) until the
//! collection closes (its opening bracket might start a mapping key, `[a, b]: c`, which is
//! known only after it), about 90 bytes a token: a 10 MB YAML flow sequence held ~1 GB before
//! the first node was built. For chunks over [`WATCHED_BYTES`] the text is fed to saphyr
//! through a counting iterator: when the scanner has read more than `max_nodes / 8` flow
//! separators (`,` `:` and brackets) past the last event it delivered (about 90 MB held at
//! the default limit), the input ends there and the chunk is refused with a `max_nodes`
//! limit error. Only a flow collection saphyr holds whole (one at the root of a YAML
//! document, `[a, b, ...]`) gets there; JSON is read by our own parser, which holds nothing.
//! Smaller chunks are parsed straight from the string (faster; they hold at most ~90 times
//! their size).

use saphyr_parser::{BufferedInput, Event, Parser, ScanError, Span, StrInput};
use std::cell::Cell;
use std::rc::Rc;

/// Chunks longer than this are watched.
pub(crate) const WATCHED_BYTES: usize = 1 << 20;

/// What the counting iterator and the event loop share.
struct Watch {
    /// Flow separators read by the scanner so far.
    read: Cell<usize>,
    /// `read` when the last event was delivered.
    at_event: Cell<usize>,
    cap: usize,
    cut: Cell<bool>,
}

struct Counted<'t> {
    chars: std::str::Chars<'t>,
    watch: Rc<Watch>,
}

impl Iterator for Counted<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
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
    /// Events of `text`; over [`WATCHED_BYTES`], at most `max_nodes / 8` flow separators
    /// held.
    pub(crate) fn new(text: &'t str, max_nodes: usize) -> Events<'t> {
        let cap = (max_nodes / 8).max(1024);
        let inner = if text.len() > WATCHED_BYTES {
            let watch = Rc::new(Watch {
                read: Cell::new(0),
                at_event: Cell::new(0),
                cap,
                cut: Cell::new(false),
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
                w.at_event.set(w.read.get());
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
}

/// For each document of a watched chunk (over [`WATCHED_BYTES`]), whether it has more than
/// `max_nodes` nodes (counted as the builder counts them: scalars, keys included, and
/// collections; an alias as one, its expansion has its own budget). One parse that builds
/// nothing, so that such a document is refused before its tree takes memory: a 9 MB flow
/// sequence of 3M entries took 450 MB to reach the limit. Costs one more parse of the large
/// chunks only. A syntax error ends the count (the real parse reports it).
pub(crate) fn over_node_limit(text: &str, max_nodes: usize) -> Vec<bool> {
    let mut out = Vec::new();
    if text.len() <= WATCHED_BYTES {
        return out;
    }
    let mut events = Events::new(text, max_nodes);
    let mut nodes = 0usize;
    while let Some(Ok((ev, _))) = events.next_event() {
        match ev {
            Event::DocumentStart(_) => nodes = 0,
            Event::DocumentEnd => out.push(nodes > max_nodes),
            Event::Scalar(..)
            | Event::SequenceStart(..)
            | Event::MappingStart(..)
            | Event::Alias(_) => nodes += 1,
            _ => {}
        }
    }
    // A document cut short by an error or the cut: its count so far.
    if nodes > max_nodes {
        out.push(true);
    }
    out
}
