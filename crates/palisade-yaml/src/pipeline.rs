//! The parallel, memory-bounded load behind [`crate::load_paths`], [`crate::load_paths_each`]
//! and [`crate::load_paths_map`].
//!
//! Files are read in input order and cut into *pieces* of whole YAML documents (the chunks
//! of [`crate::stream`], grouped to about [`PIECE_BYTES`]). Worker threads take pieces in
//! order, parse them, run the caller's `map` over each and drop the documents; the calling
//! thread receives the results in input order. So one large file is parsed on every core,
//! and memory holds the pieces in flight (at most
//! [`WINDOW_BYTES`] of source taken by workers and not yet handed over, counted from the
//! oldest), not every document of the file. The window is in bytes, not pieces, so that
//! while one worker parses a large document the others keep going through small ones.
//! A file of several pieces is read whole once (decoded and cut exactly as
//! [`crate::load_bytes`] does), then its text is dropped and each piece reads its bytes
//! again from the open file, so the text is not held while the pieces are parsed.
//!
//! Documents are numbered before parsing ([`crate::stream::Split::first_indices`]); a file
//! where that is not certain (a `...` marker, more documents than the per-file limit) and
//! JSON are parsed whole by one worker, in order, exactly as [`crate::load_bytes`] does.

use crate::paths::{Job, ReadFile, plan, read_job};
use crate::stream::{self, Chunk, DocCounter, Prepared};
use crate::{Limits, Loaded, Sink};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Source bytes per piece: small enough that a piece's tree (roughly 10x its text) stays a
/// few MB, large enough that the hand-over costs nothing next to parsing. A document larger
/// than this is a piece of its own.
pub const PIECE_BYTES: usize = 128 * 1024;

/// Source bytes taken by workers but not yet handed to the caller (a worker may go over it
/// by the one unit it takes). Results waiting to be handed over are findings and notes,
/// much smaller than their source.
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// Units taken but not yet handed over (bounds the wait list for many tiny files).
const WINDOW_UNITS: usize = 256;

/// Where the pieces of a split file get their text.
#[derive(Clone)]
enum Text {
    /// The whole decoded text, shared by the pieces.
    Held(Arc<String>),
    /// The open file, read again piece by piece: a file of more than one piece is read
    /// whole once (to decode it and cut it, exactly as [`crate::load_bytes`] does), and its
    /// text dropped, so that it is not held while its pieces are parsed. Valid UTF-8 text
    /// is the file's bytes as they are, so chunk offsets are file offsets.
    File(Arc<Mutex<File>>, Stamp),
}

/// What a re-read file must still match: its length when read, and its modification time
/// just after (a rewrite of the same length shows there, where the file system keeps one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    /// The file's length and modification time now, from one metadata read.
    fn current(f: &File) -> Stamp {
        let meta = f.metadata().ok();
        Stamp {
            len: meta.as_ref().map_or(u64::MAX, std::fs::Metadata::len),
            modified: meta.and_then(|m| m.modified().ok()),
        }
    }
}

/// One unit of work for a worker.
enum Unit {
    /// Already complete (a read or encoding error, an empty file).
    Ready(Loaded),
    /// A whole file parsed in order (JSON, or YAML whose document numbering is not known
    /// before parsing).
    Whole {
        name: Arc<str>,
        text: Arc<String>,
        bytes: u64,
    },
    /// Consecutive chunks of a YAML file whose document numbering is known.
    Chunks {
        name: Arc<str>,
        text: Text,
        /// Offset of the text the chunks index (after a byte-order mark).
        base: usize,
        chunks: Vec<Chunk>,
        first_index: usize,
        /// Index after the last document of these chunks (checked after parsing).
        end_index: usize,
        /// The file's byte count, on its first piece only.
        bytes: Option<u64>,
        /// The file's last piece: the file-level "no documents" note is decided after it.
        last: bool,
        /// The file looks like a Go/Helm template ([`crate::looks_like_template`]).
        template: bool,
    },
}

/// A file being handed out in pieces.
struct OpenFile {
    name: Arc<str>,
    text: Text,
    base: usize,
    chunks: Vec<Chunk>,
    /// Document index each chunk starts at, plus the total at the end.
    firsts: Vec<usize>,
    next: usize,
    bytes: u64,
    /// The file looks like a Go/Helm template (decided on the whole text).
    template: bool,
}

struct Source {
    jobs: std::vec::IntoIter<(Job, u64)>,
    open: Option<OpenFile>,
    next_seq: usize,
}

/// What a piece contributes to its file's "no documents" note.
#[derive(Clone, Copy)]
struct Tally {
    non_empty: usize,
    last: bool,
}

struct Delivered<R> {
    result: R,
    /// Source bytes of the unit.
    size: usize,
    /// Set for pieces of split files; None for units that are a whole file.
    tally: Option<Tally>,
    file: Arc<str>,
}

struct Results<R> {
    ready: BTreeMap<usize, Delivered<R>>,
    /// Units reserved by workers (taken, or about to be).
    reserved: usize,
    /// Units handed to the caller.
    consumed: usize,
    /// Source bytes of units taken and not yet handed over.
    in_flight: usize,
    exited: usize,
}

struct Shared<R> {
    source: Mutex<Source>,
    results: Mutex<Results<R>>,
    /// Workers wait here for the window to have room.
    room: Condvar,
    /// The caller waits here for the next result.
    arrived: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked is reported as such below; its data is still consistent
    // (every update is a single assignment), so a poisoned lock is used as is.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Loads `inputs`, calling `each(map(piece), file_ended)` in input order.
pub(crate) fn run<P: AsRef<Path>, R: Send>(
    inputs: &[P],
    limits: &Limits,
    map: &(dyn Fn(Loaded) -> R + Sync),
    each: &mut dyn FnMut(R, bool),
) {
    let (prelude, jobs, over_total) = plan(inputs, limits);
    if !(prelude.errors.is_empty() && prelude.notes.is_empty()) {
        each(map(prelude), true);
    }
    // Even a single file is split over every worker.
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    if !jobs.is_empty() {
        let shared = Shared {
            source: Mutex::new(Source {
                jobs: jobs.into_iter(),
                open: None,
                next_seq: 0,
            }),
            results: Mutex::new(Results {
                ready: BTreeMap::new(),
                reserved: 0,
                consumed: 0,
                in_flight: 0,
                exited: 0,
            }),
            room: Condvar::new(),
            arrived: Condvar::new(),
        };
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| work(&shared, limits, map));
            }
            consume(&shared, workers, map, each);
        });
    }
    if !over_total.errors.is_empty() {
        each(map(over_total), true);
    }
}

/// The caller's side: results in sequence order, plus each split file's "no documents" note.
fn consume<R: Send>(
    shared: &Shared<R>,
    workers: usize,
    map: &(dyn Fn(Loaded) -> R + Sync),
    each: &mut dyn FnMut(R, bool),
) {
    let mut non_empty = 0usize;
    loop {
        let next = {
            let mut res = lock(&shared.results);
            loop {
                let want = res.consumed;
                if let Some(d) = res.ready.remove(&want) {
                    res.consumed += 1;
                    res.in_flight = res.in_flight.saturating_sub(d.size);
                    break Some(d);
                }
                if res.exited == workers {
                    // Every taken unit is delivered before its worker exits, so nothing
                    // is missing; take whatever is left in order all the same.
                    let first = res.ready.keys().next().copied();
                    break first.and_then(|k| {
                        res.consumed = k + 1;
                        res.ready.remove(&k)
                    });
                }
                res = shared
                    .arrived
                    .wait(res)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        shared.room.notify_all();
        let Some(d) = next else { return };
        match d.tally {
            None => each(d.result, true),
            Some(t) => {
                non_empty += t.non_empty;
                if !t.last {
                    each(d.result, false);
                } else if non_empty > 0 {
                    non_empty = 0;
                    each(d.result, true);
                } else {
                    each(d.result, false);
                    let mut note = Loaded::default();
                    let mut sink = Sink {
                        file: d.file,
                        out: &mut note,
                    };
                    stream::note_if_no_documents(&mut sink, 0);
                    each(map(note), true);
                }
            }
        }
    }
}

fn work<R: Send>(shared: &Shared<R>, limits: &Limits, map: &(dyn Fn(Loaded) -> R + Sync)) {
    loop {
        {
            let mut res = lock(&shared.results);
            while res.reserved - res.consumed >= WINDOW_UNITS || res.in_flight >= WINDOW_BYTES {
                res = shared
                    .room
                    .wait(res)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            res.reserved += 1;
        }
        let taken = {
            let mut src = lock(&shared.source);
            next_unit(&mut src, limits).map(|u| {
                let seq = src.next_seq;
                src.next_seq += 1;
                (seq, u)
            })
        };
        let Some((seq, unit)) = taken else {
            let mut res = lock(&shared.results);
            res.reserved -= 1;
            res.exited += 1;
            drop(res);
            shared.arrived.notify_all();
            shared.room.notify_all();
            return;
        };
        let file = unit_file(&unit);
        let size = unit_size(&unit);
        lock(&shared.results).in_flight += size;
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let (loaded, tally) = process(unit, limits);
            (map(loaded), tally)
        }));
        let delivered = match done {
            Ok((result, tally)) => Delivered {
                result,
                size,
                tally,
                file,
            },
            // Only on a bug: say so rather than drop the input silently.
            Err(_) => Delivered {
                result: map(internal_error(&file)),
                size,
                tally: None,
                file,
            },
        };
        lock(&shared.results).ready.insert(seq, delivered);
        shared.arrived.notify_all();
    }
}

fn internal_error(file: &Arc<str>) -> Loaded {
    let mut l = Loaded::default();
    let mut sink = Sink {
        file: file.clone(),
        out: &mut l,
    };
    sink.error(
        crate::At::default(),
        &crate::LoadError::Io {
            path: file.to_string(),
            reason: "internal error while loading it".to_owned(),
        },
    );
    l
}

fn unit_file(unit: &Unit) -> Arc<str> {
    match unit {
        Unit::Ready(l) => l
            .errors
            .first()
            .or(l.notes.first())
            .map_or_else(|| "<input>".into(), |e| e.file.as_str().into()),
        Unit::Whole { name, .. } | Unit::Chunks { name, .. } => name.clone(),
    }
}

fn unit_size(unit: &Unit) -> usize {
    match unit {
        Unit::Ready(_) => 0,
        Unit::Whole { text, .. } => text.len(),
        Unit::Chunks { chunks, .. } => chunks.iter().map(|c| c.end - c.start).sum(),
    }
}

/// The next unit in input order: the next piece of the open file, or the next file.
fn next_unit(src: &mut Source, limits: &Limits) -> Option<Unit> {
    loop {
        if let Some(f) = src.open.as_mut() {
            if let Some(unit) = next_piece(f) {
                return Some(unit);
            }
            src.open = None;
        }
        let (job, _) = src.jobs.next()?;
        match read_job(job, limits) {
            Err(loaded) => return Some(Unit::Ready(loaded)),
            Ok(read) => match open(read, limits) {
                Opened::Unit(u) => return Some(u),
                Opened::File(f) => src.open = Some(f),
            },
        }
    }
}

fn next_piece(f: &mut OpenFile) -> Option<Unit> {
    let start = f.next;
    let mut size = 0usize;
    while let Some(c) = f.chunks.get(f.next) {
        let len = c.end - c.start;
        if f.next > start && size + len > PIECE_BYTES {
            break;
        }
        size += len;
        f.next += 1;
    }
    if f.next == start {
        return None;
    }
    let index_at = |i: usize| f.firsts.get(i).copied().unwrap_or(0);
    Some(Unit::Chunks {
        name: f.name.clone(),
        text: f.text.clone(),
        base: f.base,
        chunks: f.chunks.get(start..f.next).unwrap_or_default().to_vec(),
        first_index: index_at(start),
        end_index: index_at(f.next),
        bytes: (start == 0).then_some(f.bytes),
        last: f.next == f.chunks.len(),
        template: f.template,
    })
}

enum Opened {
    Unit(Unit),
    File(OpenFile),
}

/// Decodes a file and decides how it is cut: the checks of [`crate::load_bytes`], then
/// [`stream::prepare`].
fn open(read: ReadFile, limits: &Limits) -> Opened {
    let ReadFile { name, bytes, file } = read;
    let name: Arc<str> = name.into();
    let size = bytes.len() as u64;
    let mut out = Loaded {
        files: 1,
        bytes: size,
        ..Loaded::default()
    };
    let text = {
        let mut sink = Sink {
            file: name.clone(),
            out: &mut out,
        };
        if !crate::check_size(&mut sink, bytes.len(), limits) {
            return Opened::Unit(Unit::Ready(out));
        }
        match crate::decode_owned(bytes) {
            Ok(text) => text,
            Err(e) => {
                crate::encoding_error(&mut sink, e);
                return Opened::Unit(Unit::Ready(out));
            }
        }
    };
    let (base, chunks, firsts) = {
        let mut sink = Sink {
            file: name.clone(),
            out: &mut out,
        };
        match stream::prepare(&mut sink, &text, limits) {
            Prepared::Done => return Opened::Unit(Unit::Ready(out)),
            Prepared::Json(_) => (0, Vec::new(), None),
            Prepared::Yaml(split) => {
                let firsts = split.first_indices(limits);
                (text.len() - split.text.len(), split.chunks, firsts)
            }
        }
    };
    let template = crate::looks_like_template(text.as_bytes());
    match firsts {
        Some(firsts) => Opened::File(OpenFile {
            name,
            template,
            text: match file {
                Some(f) if text.len() > PIECE_BYTES => {
                    // The length is what was read, so a file that grew meanwhile differs.
                    let stamp = Stamp {
                        len: size,
                        ..Stamp::current(&f)
                    };
                    Text::File(Arc::new(Mutex::new(f)), stamp)
                }
                _ => Text::Held(Arc::new(text)),
            },
            base,
            chunks,
            firsts,
            next: 0,
            bytes: size,
        }),
        None => Opened::Unit(Unit::Whole {
            name,
            text: Arc::new(text),
            bytes: size,
        }),
    }
}

/// Parses one unit; for pieces of a split file, also what it adds to the file's tally.
fn process(unit: Unit, limits: &Limits) -> (Loaded, Option<Tally>) {
    match unit {
        Unit::Ready(l) => (l, None),
        Unit::Whole { name, text, bytes } => {
            let mut out = Loaded {
                files: 1,
                bytes,
                ..Loaded::default()
            };
            let mut sink = Sink {
                file: name,
                out: &mut out,
            };
            stream::load_text(&mut sink, &text, limits);
            if crate::looks_like_template(text.as_bytes()) {
                crate::hint_template(&mut out);
            }
            (out, None)
        }
        Unit::Chunks {
            name,
            text,
            base,
            chunks,
            first_index,
            end_index,
            bytes,
            last,
            template,
        } => {
            let mut out = Loaded {
                files: usize::from(bytes.is_some()),
                bytes: bytes.unwrap_or(0),
                ..Loaded::default()
            };
            let mut sink = Sink {
                file: name,
                out: &mut out,
            };
            let mut docs = DocCounter::starting_at(first_index);
            match piece_text(&text, base, &chunks) {
                Ok((piece, chunks)) => {
                    stream::load_chunks(&mut sink, &piece, &chunks, limits, &mut docs);
                    // `first_indices` promised this; the equivalence tests hold it to that.
                    debug_assert_eq!(docs.next_index, end_index, "document numbering");
                }
                Err(reason) => {
                    let path = sink.file.to_string();
                    sink.error(crate::At::default(), &crate::LoadError::Io { path, reason });
                    // Counts as content: the file is not also said to hold no documents.
                    docs.non_empty += 1;
                }
            }
            if template {
                crate::hint_template(&mut out);
            }
            let tally = Tally {
                non_empty: docs.non_empty,
                last,
            };
            (out, Some(tally))
        }
    }
}

const CHANGED: &str = "the file changed while it was being read";

/// The text `chunks` index and the chunks for it: the shared text, or the chunks' bytes
/// read again from the file with the chunks moved to start at 0 (lines are kept in
/// `line_offset`, and columns count from a line start, so spans are unchanged).
fn piece_text<'t>(
    text: &'t Text,
    base: usize,
    chunks: &[Chunk],
) -> Result<(Cow<'t, str>, Vec<Chunk>), String> {
    match text {
        Text::Held(t) => Ok((Cow::Borrowed(t.get(base..).unwrap_or("")), chunks.to_vec())),
        Text::File(f, stamp) => {
            let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
                return Ok((Cow::Borrowed(""), Vec::new()));
            };
            let mut buf = vec![0u8; last.end - first.start];
            {
                let mut f = lock(f);
                if Stamp::current(&f) != *stamp {
                    return Err(CHANGED.to_owned());
                }
                f.seek(SeekFrom::Start((base + first.start) as u64))
                    .and_then(|_| f.read_exact(&mut buf))
                    .map_err(|e| format!("{e} (reading it again for its pieces)"))?;
            }
            // A file changed since it was read whole can no longer be cut where it was.
            let piece = String::from_utf8(buf).map_err(|_| CHANGED.to_owned())?;
            let moved = chunks
                .iter()
                .map(|c| Chunk {
                    start: c.start - first.start,
                    end: c.end - first.start,
                    line_offset: c.line_offset,
                })
                .collect();
            Ok((Cow::Owned(piece), moved))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of several pieces, opened the way a worker opens it.
    fn opened(path: &Path) -> OpenFile {
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{a: \"{}\"}}\n",
            "x".repeat(1000)
        );
        let text = format!("{doc}---\n").repeat(400);
        std::fs::write(path, &text).unwrap();
        let job = Job::File {
            path: path.to_path_buf(),
            name: "m.yaml".to_owned(),
        };
        let Ok(read) = read_job(job, &Limits::default()) else {
            panic!("read")
        };
        match open(read, &Limits::default()) {
            Opened::File(f) => {
                assert!(matches!(f.text, Text::File(..)), "dropped for a re-read");
                f
            }
            Opened::Unit(_) => panic!("not split"),
        }
    }

    /// Error messages and documents of every piece.
    fn reasons(mut f: OpenFile) -> (Vec<String>, usize) {
        let (mut out, mut docs) = (Vec::new(), 0);
        while let Some(unit) = next_piece(&mut f) {
            let (loaded, tally) = process(unit, &Limits::default());
            assert!(tally.is_some());
            out.extend(loaded.errors.iter().map(|e| e.message.clone()));
            docs += loaded.documents.len();
        }
        (out, docs)
    }

    /// Every piece of `f` is refused as changed, and none of its documents is returned.
    fn assert_changed(f: OpenFile) {
        let (got, docs) = reasons(f);
        assert_eq!(docs, 0);
        assert!(
            !got.is_empty() && got.iter().all(|r| r.contains(CHANGED)),
            "{got:?}"
        );
    }

    #[test]
    fn pieces_are_read_again_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        assert_eq!(reasons(opened(&path)), (Vec::new(), 400));
    }

    #[test]
    fn a_file_changed_after_it_was_cut_is_an_error_not_other_documents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        // Shorter now.
        let f = opened(&path);
        std::fs::write(&path, "a: 1\n").unwrap();
        assert_changed(f);
        // Same length, no longer UTF-8 where a piece is read.
        let f = opened(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.iter_mut().for_each(|b| *b = 0xFF);
        std::fs::write(&path, &bytes).unwrap();
        assert_changed(f);
        // Same length, still valid YAML, rewritten later: caught by the modification time.
        let f = opened(&path);
        let text = std::fs::read_to_string(&path).unwrap().replace('x', "y");
        std::fs::write(&path, &text).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_changed(f);
    }
}
