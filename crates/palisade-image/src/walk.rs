//! Applying one layer (a tar stream) or one root filesystem directory to the merged tree. Each
//! entry is decided on once, while it streams past: OS package databases and os-release are kept
//! as bytes, manifests `palisade-langpkg` wants whole are parsed at once, binaries are streamed
//! through its `BinaryScanner`; everything else is skipped without being buffered.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use palisade_core::inventory::InventoryNote;
use palisade_langpkg::{BinaryScanner, Interest};
use sha2::{Digest, Sha256};

use crate::Options;
use crate::source::{Range, RangeReader};
use crate::tree::{Content, Node, Tree, normalize};

/// Notes kept per layer before the rest are only counted (a hostile layer can hold millions of
/// bad entries).
const MAX_NOTES_PER_LAYER: usize = 100;

/// Chunk size for streaming binaries.
const CHUNK: usize = 64 << 10;

/// Whether a path is an OS package database or os-release, kept as bytes. Matched on the real
/// path's tail so a database reached through a symlinked directory (`var/lib/rpm ->
/// ../../usr/lib/sysimage/rpm`) is still kept; which ones count is decided after all layers by
/// resolving the well-known paths.
pub(crate) fn os_interest(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base == "os-release"
        || path.ends_with("dpkg/status")
        || (path.contains("dpkg/status.d/") && !base.ends_with(".md5sums"))
        || path.ends_with("apk/db/installed")
        || base == "rpmdb.sqlite"
        || path.ends_with("rpm/Packages")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    Hardlink,
    Other,
}

/// Where an entry's bytes come from: the layer's tar stream (an error there ends the layer), or
/// a file of a root filesystem directory (an error there is a note about that file).
pub(crate) enum Data<'a> {
    Stream(&'a mut dyn Read),
    File(&'a Path),
    /// An entry of an uncompressed layer read in place: `stream` for whole reads, and the
    /// archive file (a handle of its own) with the entry's data offset for binaries, which are
    /// read by ELF section instead of whole. `avail`: bytes of the layer from that offset on.
    InPlace {
        stream: &'a mut dyn Read,
        file: &'a mut File,
        start: u64,
        avail: u64,
    },
}

/// A failure reading a layer's stream: the rest of that layer cannot be read.
#[derive(Debug)]
pub(crate) struct StreamBroken(pub io::Error);

/// A limit hit while decompressing; shown as the io error's message.
#[derive(Debug)]
struct LimitHit(String);
impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LimitHit {}

/// Counts and hashes the stored (possibly compressed) bytes of a layer as they are read.
pub(crate) struct Stored<R> {
    inner: R,
    pub state: StoredState,
}

/// The stored bytes' hash (when wanted) and count, shared with the decoding thread.
pub(crate) type StoredState = Arc<Mutex<(Option<Sha256>, u64)>>;

fn stored_count(state: &StoredState) -> u64 {
    match state.lock() {
        Ok(g) => g.1,
        Err(poisoned) => poisoned.into_inner().1,
    }
}

impl<R: Read> Read for Stored<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(h) = st.0.as_mut() {
            h.update(buf.get(..n).unwrap_or_default());
        }
        st.1 += n as u64;
        Ok(n)
    }
}

/// Enforces the uncompressed size and ratio limits on the decompressed stream.
struct Limited<R> {
    inner: R,
    out: u64,
    stored: StoredState,
    max_layer_bytes: u64,
    max_ratio: u64,
    ratio_floor: u64,
    compressed: bool,
    /// Hash of the uncompressed tar (the diff ID), when the caller needs it computed.
    diff: Option<Rc<RefCell<Sha256>>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if let Some(d) = &self.diff {
            d.borrow_mut().update(buf.get(..n).unwrap_or_default());
        }
        if self.out > self.max_layer_bytes {
            return Err(io::Error::other(LimitHit(format!(
                "layer is larger than {} bytes uncompressed (max_layer_bytes)",
                self.max_layer_bytes
            ))));
        }
        if self.compressed && self.out > self.ratio_floor {
            let stored = stored_count(&self.stored).max(1);
            if self.out / stored > self.max_ratio {
                return Err(io::Error::other(LimitHit(format!(
                    "decompression ratio over {}:1 ({} bytes from {stored}) (max_ratio): a decompression bomb?",
                    self.max_ratio, self.out
                ))));
            }
        }
        Ok(n)
    }
}

/// gzip magic (`1f 8b`).
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// zstd frame magic (`28 b5 2f fd`).
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Whether `head` starts with gzip or zstd magic (such data cannot be walked in place).
pub(crate) fn compressed_magic(head: &[u8]) -> bool {
    head.starts_with(GZIP_MAGIC) || head.starts_with(ZSTD_MAGIC)
}

/// The layer's tar stream: the stored bytes sniffed for gzip (`1f 8b`) or zstd (`28 b5 2f fd`)
/// magic (media types are not trusted: Docker >= 25 stores uncompressed layers under gzip
/// names), decompressed, with the limits applied. Also says whether it was compressed; `diff`
/// then receives the uncompressed bytes (for plain tars the stored hash is already the diff ID).
pub(crate) fn layer_stream(
    raw: Box<dyn Read + Send>,
    options: &Options,
    stored: StoredState,
    diff: Option<Rc<RefCell<Sha256>>>,
) -> io::Result<(Box<dyn Read>, bool)> {
    let mut buffered = BufReader::with_capacity(
        256 << 10,
        Stored {
            inner: raw,
            state: stored.clone(),
        },
    );
    let head = buffered.fill_buf()?;
    // Decompression runs on a thread of its own, overlapping the tar walk and binary scans.
    let (inner, compressed): (Box<dyn Read>, bool) = if head.starts_with(GZIP_MAGIC) {
        (
            Box::new(Piped::spawn(flate2::bufread::MultiGzDecoder::new(buffered))),
            true,
        )
    } else if head.starts_with(ZSTD_MAGIC) {
        (Box::new(Piped::spawn(ZstdFrames::new(buffered))), true)
    } else {
        (Box::new(buffered), false)
    };
    Ok((
        Box::new(Limited {
            inner,
            out: 0,
            stored,
            max_layer_bytes: options.max_layer_bytes,
            max_ratio: options.max_ratio,
            ratio_floor: options.ratio_floor_bytes,
            compressed,
            diff: if compressed { diff } else { None },
        }),
        compressed,
    ))
}

/// Chunks of decompressed bytes in flight between the decoding thread and the reader.
const PIPE_CHUNKS: usize = 3;
const PIPE_CHUNK: usize = 1 << 20;

/// A reader whose bytes are produced by `R` on another thread (memory: a few chunks).
struct Piped {
    rx: Option<std::sync::mpsc::Receiver<io::Result<Vec<u8>>>>,
    /// Spent chunks go back to the thread (no allocation or page release per chunk).
    back: std::sync::mpsc::Sender<Vec<u8>>,
    handle: Option<std::thread::JoinHandle<()>>,
    current: Vec<u8>,
    at: usize,
}

impl Piped {
    fn spawn<R: Read + Send + 'static>(mut source: R) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(PIPE_CHUNKS);
        let (back, spent) = std::sync::mpsc::channel::<Vec<u8>>();
        let handle = std::thread::spawn(move || {
            loop {
                let mut buf = spent.try_recv().unwrap_or_default();
                buf.resize(PIPE_CHUNK, 0);
                let mut filled = 0;
                let result = loop {
                    match source.read(buf.get_mut(filled..).unwrap_or_default()) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let end = filled < buf.len();
                buf.truncate(filled);
                if filled > 0 && tx.send(Ok(buf)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = tx.send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        });
        Piped {
            rx: Some(rx),
            back,
            handle: Some(handle),
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Piped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            let Some(rx) = self.rx.as_ref() else {
                return Ok(0);
            };
            match rx.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    let _ = self.back.send(spent);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                // The thread finished: end of stream.
                Err(_) => {
                    self.rx = None;
                    return Ok(0);
                }
            }
        }
        let avail = self.current.get(self.at..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        Ok(n)
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        // Closing the channel stops the thread at its next chunk; joining it releases the
        // shared stored-bytes state before the caller reads it.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// zstd streams may hold several frames back to back; ruzstd's streaming decoder reads one.
struct ZstdFrames<R: BufRead> {
    source: Option<R>,
    current: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> Self {
        ZstdFrames {
            source: Some(source),
            current: None,
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(dec) = self.current.as_mut() {
                let n = dec.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                let Some(dec) = self.current.take() else {
                    return Ok(0);
                };
                self.source = Some(dec.into_inner());
            }
            let Some(mut src) = self.source.take() else {
                return Ok(0);
            };
            if src.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let dec = ruzstd::decoding::StreamingDecoder::new(src)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            self.current = Some(dec);
        }
    }
}

/// The merged tree being built, and the notes so far.
pub(crate) struct Walker<'o> {
    pub options: &'o Options,
    pub tree: Tree,
    pub notes: Vec<InventoryNote>,
    layer_notes: usize,
    layer_name: Option<String>,
    /// Files seen that only image archives hold (`oci-layout`, `manifest.json` beside
    /// `*/layer.tar` or `blobs/sha256/*`), for telling a compressed archive from a layer.
    pub archive_markers: (bool, bool, bool),
}

impl<'o> Walker<'o> {
    pub fn new(options: &'o Options) -> Self {
        Walker {
            options,
            tree: Tree::default(),
            notes: Vec::new(),
            layer_notes: 0,
            layer_name: None,
            archive_markers: (false, false, false),
        }
    }

    /// Starts a layer; `name` is how notes name it (its digest, or its path in the archive).
    pub fn begin_layer(&mut self, name: Option<String>) {
        self.layer_name = name;
        self.layer_notes = 0;
    }

    pub fn end_layer(&mut self) {
        if self.layer_notes > MAX_NOTES_PER_LAYER {
            let more = self.layer_notes - MAX_NOTES_PER_LAYER;
            self.notes.push(InventoryNote {
                layer: self.layer_name.clone(),
                entry: None,
                message: format!("{more} more notes about this layer not shown"),
            });
        }
    }

    pub fn note(&mut self, entry: Option<&str>, message: String) {
        self.layer_notes += 1;
        if self.layer_notes > MAX_NOTES_PER_LAYER {
            return;
        }
        self.notes.push(InventoryNote {
            layer: self.layer_name.clone(),
            entry: entry.map(str::to_string),
            message,
        });
    }

    /// Applies one layer's tar stream. A broken stream is a note naming the last entry read
    /// (what was read before stays applied) and `false`.
    pub fn walk_tar(&mut self, layer: usize, stream: &mut dyn Read) -> bool {
        let mut archive = tar::Archive::new(stream);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.note(None, format!("cannot read the layer as tar: {e}"));
                return false;
            }
        };
        self.walk_entries(layer, entries, None)
    }

    /// Applies an uncompressed layer lying at `range` of a host file without streaming it:
    /// the data of entries nobody needs is seeked over, binaries are read by section. `None`
    /// (nothing applied) when the layer is compressed, over `max_layer_bytes` or cannot be
    /// opened: the caller streams it instead, which applies the limits and words the errors.
    pub fn walk_tar_in_place(&mut self, layer: usize, range: &Range) -> Option<bool> {
        if range.len > self.options.max_layer_bytes {
            return None;
        }
        let mut reader =
            RangeReader::new(File::open(&range.path).ok()?, range.start, range.len).ok()?;
        let mut magic = [0u8; 4];
        let n = reader.read(&mut magic).ok()?;
        let magic = magic.get(..n).unwrap_or_default();
        if compressed_magic(magic) {
            return None;
        }
        io::Seek::seek(&mut reader, io::SeekFrom::Start(0)).ok()?;
        let mut side = File::open(&range.path).ok()?;
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries_with_seek() {
            Ok(e) => e,
            Err(e) => {
                self.note(None, format!("cannot read the layer as tar: {e}"));
                return Some(false);
            }
        };
        Some(self.walk_entries(layer, entries, Some((&mut side, range))))
    }

    fn walk_entries<R: Read>(
        &mut self,
        layer: usize,
        entries: tar::Entries<'_, R>,
        mut in_place: Option<(&mut File, &Range)>,
    ) -> bool {
        let mut last = String::from("(start of the layer)");
        let mut count: u64 = 0;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.note(
                        Some(&last),
                        format!(
                            "layer unreadable at or after this entry, rest of the layer not read: {e}"
                        ),
                    );
                    return false;
                }
            };
            count += 1;
            if count > self.options.max_entries {
                self.note(
                    None,
                    format!(
                        "more than {} entries (max_entries); rest of the layer not read",
                        self.options.max_entries
                    ),
                );
                return false;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            let header = entry.header();
            let kind = match header.entry_type() {
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::GNUSparse => Kind::File,
                tar::EntryType::Symlink => Kind::Symlink,
                tar::EntryType::Link => Kind::Hardlink,
                tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => Kind::Other,
                // PAX/GNU metadata records are consumed by the tar crate; others carry no file.
                _ => continue,
            };
            let mode = header.mode().unwrap_or(0);
            let size = entry.size();
            let offset = entry.raw_file_position();
            let data = match in_place.as_mut() {
                Some((file, range)) => Data::InPlace {
                    stream: &mut entry,
                    file,
                    start: range.start.saturating_add(offset),
                    avail: range.len.saturating_sub(offset),
                },
                None => Data::Stream(&mut entry),
            };
            if let Err(StreamBroken(e)) = self.add(layer, &name, kind, size, mode, link, data, true)
            {
                self.note(
                    Some(&name),
                    format!("layer unreadable inside this entry, rest of the layer not read: {e}"),
                );
                return false;
            }
            last = name;
        }
        true
    }

    /// Applies one entry. `whiteouts`: whether `.wh.` names delete (layers) or are plain files
    /// (root filesystem directories).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        layer: usize,
        raw_name: &str,
        kind: Kind,
        size: u64,
        mode: u32,
        link: Option<String>,
        data: Data<'_>,
        whiteouts: bool,
    ) -> Result<(), StreamBroken> {
        if raw_name.starts_with('/') {
            self.note(
                Some(raw_name),
                "absolute entry path; read relative to the image root".to_string(),
            );
        }
        let path = match normalize(raw_name) {
            Ok(p) => p,
            Err(e) => {
                self.note(Some(raw_name), format!("{e}; entry skipped"));
                return Ok(());
            }
        };
        if path.is_empty() {
            return Ok(());
        }
        let (parent, base) = match path.rsplit_once('/') {
            Some((p, b)) => (p, b),
            None => ("", path.as_str()),
        };
        if whiteouts && let Some(target) = base.strip_prefix(".wh.") {
            if target == ".wh..opq" {
                self.tree.opaque(parent, layer);
            } else if target.is_empty() || target == "." || target == ".." {
                self.note(
                    Some(raw_name),
                    "whiteout names no file; ignored".to_string(),
                );
            } else {
                let victim = if parent.is_empty() {
                    target.to_string()
                } else {
                    format!("{parent}/{target}")
                };
                self.tree.whiteout(&victim, layer);
            }
            return Ok(());
        }
        match kind {
            Kind::Dir => self.tree.insert(path, Node::Dir, layer),
            Kind::Other => self.tree.insert(path, Node::Other, layer),
            Kind::Symlink => {
                let target = link.unwrap_or_default();
                self.tree.insert(path, Node::Symlink(target), layer);
            }
            Kind::Hardlink => {
                let target = link.as_deref().map(normalize);
                let node = match target {
                    Some(Ok(t)) => self.tree.nodes.get(&t).map(|e| e.node.clone()),
                    _ => None,
                };
                match node {
                    Some(node) => self.tree.insert(path, node, layer),
                    // Files nobody needs are not recorded, so a link to one (or to nothing)
                    // only replaces what was at its own path.
                    None => self.tree.replace_with_nothing(&path),
                }
            }
            Kind::File => {
                let m = &mut self.archive_markers;
                m.0 |= path == "oci-layout";
                m.1 |= path == "manifest.json";
                m.2 |= path.ends_with("/layer.tar") || path.starts_with("blobs/sha256/");
                match self.read_file(&path, raw_name, size, mode, data)? {
                    Content::Ignored => self.tree.replace_with_nothing(&path),
                    content => self.tree.insert(path, Node::File(Arc::new(content)), layer),
                }
            }
        }
        Ok(())
    }

    fn read_file(
        &mut self,
        path: &str,
        raw_name: &str,
        size: u64,
        mode: u32,
        data: Data<'_>,
    ) -> Result<Content, StreamBroken> {
        let executable = mode & 0o111 != 0;
        // SQLite in memory cannot replay a write-ahead log: say what may be missing.
        if path.ends_with("rpm/rpmdb.sqlite-wal") && size > 0 {
            self.note(
                Some(raw_name),
                format!(
                    "rpm's write-ahead log holds {size} bytes not yet checkpointed into rpmdb.sqlite; packages changed since the last checkpoint may be missing or stale"
                ),
            );
        }
        // NDB rpm databases are not read, but their presence is reported.
        if path.ends_with("rpm/Packages.db") {
            return Ok(Content::Skipped);
        }
        let os = os_interest(path);
        let interest = if os {
            Interest::Whole {
                max_bytes: self.options.max_entry_bytes,
            }
        } else {
            palisade_langpkg::interest(path, size, executable)
        };
        match interest {
            Interest::Skip => Ok(Content::Ignored),
            Interest::Whole { max_bytes } => {
                let limit = max_bytes.min(self.options.max_entry_bytes);
                if size > limit {
                    let which = if max_bytes < self.options.max_entry_bytes {
                        "palisade-langpkg's limit for this kind of file"
                    } else {
                        "max_entry_bytes"
                    };
                    self.note(
                        Some(raw_name),
                        format!(
                            "{size} bytes is over the {limit}-byte limit for files read whole ({which}); not read"
                        ),
                    );
                    return Ok(Content::Skipped);
                }
                if self.tree.kept_bytes.saturating_add(size) > self.options.max_kept_bytes {
                    self.note(
                        Some(raw_name),
                        format!(
                            "keeping its {size} bytes would pass the {}-byte total (max_kept_bytes); not read",
                            self.options.max_kept_bytes
                        ),
                    );
                    return Ok(Content::Skipped);
                }
                let bytes = match self.read_all(size, data) {
                    Ok(Some(b)) => b,
                    Ok(None) => return Ok(Content::Skipped),
                    Err(e) => return Err(e),
                };
                if os {
                    Ok(Content::Bytes(bytes))
                } else {
                    Ok(Content::Packages {
                        read_as: path.to_string(),
                        found: palisade_langpkg::parse_file(path, &bytes)
                            .map_err(|e| e.to_string()),
                    })
                }
            }
            Interest::Stream => {
                // Seekable sources: only the ELF sections that hold package data are read.
                let reader: &mut dyn Read = match data {
                    Data::File(p) => {
                        let found = std::fs::File::open(p).and_then(|mut f| {
                            palisade_langpkg::seek::scan_seekable(path, size, &mut f)
                        });
                        return match found {
                            Ok(found) => Ok(Content::Packages {
                                read_as: path.to_string(),
                                found: found.map_err(|e| e.to_string()),
                            }),
                            Err(e) => {
                                self.note(Some(raw_name), format!("cannot read: {e}"));
                                Ok(Content::Skipped)
                            }
                        };
                    }
                    // An entry cut short by the archive's end is streamed (and breaks there).
                    Data::InPlace {
                        file, start, avail, ..
                    } if size <= avail => {
                        let found = RangeReader::new(file, start, size).and_then(|mut r| {
                            palisade_langpkg::seek::scan_seekable(path, size, &mut r)
                        });
                        return match found {
                            Ok(found) => Ok(Content::Packages {
                                read_as: path.to_string(),
                                found: found.map_err(|e| e.to_string()),
                            }),
                            Err(e) => Err(StreamBroken(e)),
                        };
                    }
                    Data::Stream(r) | Data::InPlace { stream: r, .. } => r,
                };
                let mut scanner = BinaryScanner::new(path, size);
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => scanner.feed(buf.get(..n).unwrap_or_default()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(StreamBroken(e)),
                    }
                }
                Ok(Content::Packages {
                    read_as: path.to_string(),
                    found: scanner.finish().map_err(|e| e.to_string()),
                })
            }
        }
    }

    /// The entry's bytes (at most `size`). `Ok(None)`: a root filesystem file that could not be
    /// read (noted).
    fn read_all(&mut self, size: u64, data: Data<'_>) -> Result<Option<Vec<u8>>, StreamBroken> {
        let cap = usize::try_from(size).unwrap_or(usize::MAX);
        let mut buf = Vec::with_capacity(cap.min(64 << 20));
        match data {
            Data::Stream(r) | Data::InPlace { stream: r, .. } => {
                r.take(size).read_to_end(&mut buf).map_err(StreamBroken)?;
                if (buf.len() as u64) < size {
                    return Err(StreamBroken(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("entry data truncated ({} of {size} bytes)", buf.len()),
                    )));
                }
            }
            Data::File(p) => {
                let res = std::fs::File::open(p).and_then(|f| f.take(size).read_to_end(&mut buf));
                if let Err(e) = res {
                    let shown = p.display().to_string();
                    self.note(Some(&shown), format!("cannot read: {e}"));
                    return Ok(None);
                }
            }
        }
        Ok(Some(buf))
    }
}
