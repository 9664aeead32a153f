//! The streaming binary scanner: one pass over an executable in file order, a fixed-size
//! lookahead window and a few capped captures, so memory does not grow with the file.
//!
//! Three things are looked for at once:
//! - the Go build info blob, by its magic at a 16-byte-aligned offset (how `debug/buildinfo`
//!   finds it; covers ELF, Mach-O and PE without reading their section tables);
//! - cargo-auditable's `.dep-v0` payload, a zlib stream whose inflated text starts as its JSON
//!   does (the ELF section table that would locate it sits at the end of the file, past the
//!   data, so the payload is recognised by content instead);
//! - for Kubernetes component binaries, the `-X …/version.gitVersion` string: NUL-terminated
//!   version strings are remembered by file offset while read-only data streams past, then
//!   the string headers in the ELF read-write segment are checked for a `gitVersion` header
//!   pointing at one of them beside a `gitCommit` (40) and a `gitTreeState` (5|7) header, in
//!   whatever order and number the version package and linker produced.

use std::collections::HashMap;

use flate2::{Decompress, FlushDecompress, Status};
use palisade_core::inventory::{Package, PackageKind};

use crate::golang::{self, Blob, MAGIC};
use crate::{LangError, kube, purl};

/// Bytes kept past the processed position so every pattern can be read whole.
const LOOKAHEAD: usize = 128;
/// File head kept for the ELF header and program headers.
const HEAD_MAX: usize = 64 * 1024;
/// Go's modinfo of a large binary is tens of KiB; a corrupt length must not grow memory.
pub(crate) const GO_BLOB_MAX: usize = 1024 * 1024;
/// Go build info candidates followed at once (stray magics are rare).
const GO_CANDIDATES_MAX: usize = 4;
/// cargo-auditable's maintainers suggest capping the inflated JSON at 8 MiB.
pub(crate) const AUDITABLE_MAX: usize = 8 * 1024 * 1024;
/// Input bytes inflated to recognise a cargo-auditable stream.
const ZLIB_PROBE: usize = 64;
/// Remembered version-string candidates (a component binary holds a handful).
const KUBE_CANDIDATES_MAX: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Fewer than four bytes seen.
    Unknown,
    Elf,
    MachO,
    Pe,
    /// Not an executable format this scanner reads; the rest of the file is ignored.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Load {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    writable: bool,
    executable: bool,
}

#[derive(Debug)]
struct ElfLayout {
    little: bool,
    ptr: usize,
    loads: Vec<Load>,
    /// File range of the first writable, non-executable `PT_LOAD`.
    rw: Option<(u64, u64)>,
}

impl ElfLayout {
    fn file_offset(&self, vaddr: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|l| vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz)
            .and_then(|l| l.offset.checked_add(vaddr - l.vaddr))
    }

    fn word(&self, bytes: &[u8]) -> Option<u64> {
        match self.ptr {
            8 => {
                let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
                Some(if self.little {
                    u64::from_le_bytes(b)
                } else {
                    u64::from_be_bytes(b)
                })
            }
            4 => {
                let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
                Some(u64::from(if self.little {
                    u32::from_le_bytes(b)
                } else {
                    u32::from_be_bytes(b)
                }))
            }
            _ => None,
        }
    }
}

/// A Go build info candidate being collected from its magic onwards.
#[derive(Debug)]
struct GoCandidate {
    start: u64,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct FoundGo {
    start: u64,
    go_version: String,
    modinfo: String,
}

/// An accepted cargo-auditable stream being inflated as its bytes arrive.
#[derive(Debug)]
struct Auditable {
    inflater: Decompress,
    /// Absolute offset of the next compressed byte to feed.
    next: u64,
    json: Vec<u8>,
    done: bool,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct KubeScan {
    /// File offset of a NUL-terminated version string → the string.
    candidates: HashMap<u64, String>,
    /// Next absolute offset of the read-write segment to examine.
    data_next: u64,
    /// File offset of each `gitVersion` string header found in the read-write segment, and
    /// the version it points at.
    found: Vec<(u64, String)>,
}

/// For [`crate::Interest::Stream`] (binaries: Go buildinfo, cargo-auditable, Kubernetes
/// gitVersion): fed in chunks in file order, memory bounded regardless of file size.
#[derive(Debug)]
pub struct BinaryScanner {
    path: String,
    /// Absolute file offset of `window[0]`.
    base: u64,
    /// Unprocessed bytes: the lookahead carried over plus the latest chunk.
    window: Vec<u8>,
    head: Vec<u8>,
    format: Format,
    elf: Option<ElfLayout>,
    elf_parsed: bool,
    go_candidates: Vec<GoCandidate>,
    go_found: Vec<FoundGo>,
    go_pointer_format: bool,
    probe: Option<Decompress>,
    auditable: Option<Auditable>,
    kube: Option<KubeScan>,
    magic: memchr::memmem::Finder<'static>,
}

impl BinaryScanner {
    /// `path`: the file inside the image (named in packages and errors); `size`: its length
    /// (informational; the scanner relies only on the bytes fed).
    pub fn new(path: &str, size: u64) -> Self {
        let _ = size;
        BinaryScanner {
            path: path.to_string(),
            base: 0,
            window: Vec::new(),
            head: Vec::new(),
            format: Format::Unknown,
            elf: None,
            elf_parsed: false,
            go_candidates: Vec::new(),
            go_found: Vec::new(),
            go_pointer_format: false,
            probe: None,
            auditable: None,
            kube: kube::may_be_component(path).then(KubeScan::default),
            magic: memchr::memmem::Finder::new(MAGIC.as_slice()),
        }
    }

    /// True once the file is known not to be an executable this scanner reads; the caller may
    /// stop feeding.
    pub fn is_done(&self) -> bool {
        self.format == Format::Other
    }

    /// The next bytes of the file, in order.
    pub fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() || self.format == Format::Other {
            return;
        }
        self.collect_head(chunk);
        if self.format == Format::Unknown {
            self.sniff();
            if self.format == Format::Other {
                self.window = Vec::new();
                return;
            }
        }
        let old_end = self.base + self.window.len() as u64;
        self.window.extend_from_slice(chunk);
        self.extend_captures(old_end);
        if self.format == Format::Unknown {
            return;
        }
        let limit = self.window.len().saturating_sub(LOOKAHEAD);
        self.process(limit);
    }

    /// Packages found in the whole file.
    pub fn finish(mut self) -> Result<Vec<Package>, LangError> {
        if self.format == Format::Unknown {
            self.sniff();
        }
        if self.format == Format::Other || self.format == Format::Unknown {
            return Ok(Vec::new());
        }
        let limit = self.window.len();
        self.process(limit);
        let mut packages = self.go_packages()?;
        packages.extend(self.cargo_packages()?);
        Ok(packages)
    }

    fn error(&self, message: String) -> LangError {
        LangError::Invalid {
            path: self.path.clone(),
            message,
        }
    }

    fn collect_head(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD_MAX {
            let take = (HEAD_MAX - self.head.len()).min(chunk.len());
            self.head
                .extend_from_slice(chunk.get(..take).unwrap_or(chunk));
        }
    }

    fn sniff(&mut self) {
        let Some(magic) = self.head.get(..4) else {
            return;
        };
        self.format = match magic {
            [0x7f, b'E', b'L', b'F'] => Format::Elf,
            [0xfe, 0xed, 0xfa, 0xce | 0xcf]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
            | [0xca, 0xfe, 0xba, 0xbe] => Format::MachO,
            [b'M', b'Z', _, _] => Format::Pe,
            _ => Format::Other,
        };
    }

    /// Parses the ELF header and program headers once the head holds them.
    fn parse_elf(&mut self) {
        if self.elf_parsed || self.format != Format::Elf {
            return;
        }
        let head = &self.head;
        let (Some(&class), Some(&data)) = (head.get(4), head.get(5)) else {
            return;
        };
        let little = data == 1;
        let ptr = match class {
            1 => 4,
            2 => 8,
            _ => {
                self.elf_parsed = true;
                return;
            }
        };
        let u16_at = |at: usize| -> Option<u64> {
            let b: [u8; 2] = head.get(at..at + 2)?.try_into().ok()?;
            Some(u64::from(if little {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            }))
        };
        let u32_at = |at: usize| -> Option<u64> {
            let b: [u8; 4] = head.get(at..at + 4)?.try_into().ok()?;
            Some(u64::from(if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }))
        };
        let u64_at = |at: usize| -> Option<u64> {
            let b: [u8; 8] = head.get(at..at + 8)?.try_into().ok()?;
            Some(if little {
                u64::from_le_bytes(b)
            } else {
                u64::from_be_bytes(b)
            })
        };
        let word_at = |at: usize| if ptr == 8 { u64_at(at) } else { u32_at(at) };
        let header = if ptr == 8 {
            (word_at(32), u16_at(54), u16_at(56))
        } else {
            (word_at(28), u16_at(42), u16_at(44))
        };
        let (Some(phoff), Some(phentsize), Some(phnum)) = header else {
            return;
        };
        let (Ok(phoff), Ok(phentsize), Ok(phnum)) = (
            usize::try_from(phoff),
            usize::try_from(phentsize),
            usize::try_from(phnum),
        ) else {
            self.elf_parsed = true;
            return;
        };
        let end = phoff.saturating_add(phentsize.saturating_mul(phnum));
        if end > HEAD_MAX || phentsize < if ptr == 8 { 56 } else { 32 } {
            // Program headers out of reach: Go and cargo-auditable still work, the
            // Kubernetes string-header scan does not.
            self.elf_parsed = true;
            return;
        }
        if head.len() < end {
            return;
        }
        let mut loads = Vec::new();
        for i in 0..phnum {
            let at = phoff + i * phentsize;
            let fields = if ptr == 8 {
                (
                    u32_at(at),
                    u32_at(at + 4),
                    u64_at(at + 8),
                    u64_at(at + 16),
                    u64_at(at + 32),
                )
            } else {
                (
                    u32_at(at),
                    u32_at(at + 24),
                    u32_at(at + 4),
                    u32_at(at + 8),
                    u32_at(at + 16),
                )
            };
            if let (Some(1), Some(flags), Some(offset), Some(vaddr), Some(filesz)) = fields {
                loads.push(Load {
                    vaddr,
                    offset,
                    filesz,
                    writable: flags & 2 != 0,
                    executable: flags & 1 != 0,
                });
            }
        }
        let rw = loads
            .iter()
            .find(|l| l.writable && !l.executable)
            .map(|l| (l.offset, l.offset.saturating_add(l.filesz)));
        if let (Some(scan), Some((start, _))) = (self.kube.as_mut(), rw) {
            scan.data_next = start;
        }
        self.elf = Some(ElfLayout {
            little,
            ptr,
            loads,
            rw,
        });
        self.elf_parsed = true;
    }

    /// Appends newly arrived bytes (absolute `[old_end, window end)`) to open captures.
    fn extend_captures(&mut self, old_end: u64) {
        let base = self.base;
        let window = &self.window;
        let new_bytes = |from: u64| -> &[u8] {
            let rel = usize::try_from(from.max(old_end).saturating_sub(base)).unwrap_or(usize::MAX);
            window.get(rel..).unwrap_or(&[])
        };
        for candidate in &mut self.go_candidates {
            let next = candidate.start + candidate.bytes.len() as u64;
            let room = GO_BLOB_MAX.saturating_sub(candidate.bytes.len());
            let bytes = new_bytes(next);
            candidate
                .bytes
                .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
        }
        if let Some(auditable) = self.auditable.as_mut()
            && !auditable.done
        {
            let bytes = new_bytes(auditable.next);
            inflate(auditable, bytes);
        }
        self.settle_go_candidates();
    }

    /// Decodes candidates that may now be complete; keeps those still needing bytes.
    fn settle_go_candidates(&mut self) {
        let mut pending = Vec::new();
        for candidate in std::mem::take(&mut self.go_candidates) {
            match golang::decode(&candidate.bytes, GO_BLOB_MAX) {
                Blob::NeedMore if candidate.bytes.len() < GO_BLOB_MAX => pending.push(candidate),
                Blob::NeedMore | Blob::NotBuildInfo => {}
                Blob::PointerFormat => self.go_pointer_format = true,
                Blob::Inline {
                    go_version,
                    modinfo,
                } => self.go_found.push(FoundGo {
                    start: candidate.start,
                    go_version,
                    modinfo,
                }),
            }
        }
        self.go_candidates = pending;
    }

    /// Examines every window position below `limit`, then drops those bytes.
    fn process(&mut self, limit: usize) {
        self.parse_elf();
        self.find_go_magic(limit);
        self.find_auditable(limit);
        self.find_kube_strings(limit);
        self.scan_kube_headers(limit);
        self.settle_go_candidates();
        let keep_from = limit.min(self.window.len());
        self.window.drain(..keep_from);
        self.base += keep_from as u64;
    }

    fn find_go_magic(&mut self, limit: usize) {
        let search_end = (limit + MAGIC.len() - 1).min(self.window.len());
        let Some(area) = self.window.get(..search_end) else {
            return;
        };
        let mut new = Vec::new();
        for rel in self.magic.find_iter(area) {
            let start = self.base + rel as u64;
            if rel >= limit || !start.is_multiple_of(16) {
                continue;
            }
            if self.go_candidates.len() + self.go_found.len() + new.len() >= GO_CANDIDATES_MAX {
                break;
            }
            let bytes = self.window.get(rel..).unwrap_or(&[]);
            let take = bytes.len().min(GO_BLOB_MAX);
            new.push(GoCandidate {
                start,
                bytes: bytes.get(..take).unwrap_or(&[]).to_vec(),
            });
        }
        self.go_candidates.extend(new);
    }

    fn find_auditable(&mut self, limit: usize) {
        if self.auditable.is_some() {
            return;
        }
        let Some(area) = self.window.get(..limit) else {
            return;
        };
        for rel in memchr::memchr_iter(0x78, area) {
            // The four zlib headers a deflate-with-zlib-wrapper encoder writes (FLEVEL 0–3).
            if !matches!(self.window.get(rel + 1), Some(0x01 | 0x5e | 0x9c | 0xda)) {
                continue;
            }
            let input = self.window.get(rel..).unwrap_or(&[]);
            let input = input.get(..ZLIB_PROBE.min(input.len())).unwrap_or(&[]);
            let probe = self.probe.get_or_insert_with(|| Decompress::new(true));
            probe.reset(true);
            let mut out = [0u8; 16];
            if probe
                .decompress(input, &mut out, FlushDecompress::None)
                .is_err()
            {
                continue;
            }
            let produced = usize::try_from(probe.total_out()).unwrap_or(0);
            let text = out.get(..produced).unwrap_or(&[]);
            if text.starts_with(b"{\"packages\":") || text.starts_with(b"{\"format\":") {
                let start = self.base + rel as u64;
                let mut auditable = Auditable {
                    inflater: Decompress::new(true),
                    next: start,
                    json: Vec::new(),
                    done: false,
                    error: None,
                };
                inflate(&mut auditable, self.window.get(rel..).unwrap_or(&[]));
                self.auditable = Some(auditable);
                return;
            }
        }
    }

    fn find_kube_strings(&mut self, limit: usize) {
        let Some(scan) = self.kube.as_mut() else {
            return;
        };
        let Some(area) = self.window.get(..limit) else {
            return;
        };
        for rel in memchr::memchr_iter(b'v', area) {
            if scan.candidates.len() >= KUBE_CANDIDATES_MAX {
                break;
            }
            if !self.window.get(rel + 1).is_some_and(|b| b.is_ascii_digit()) {
                continue;
            }
            // Walk the version alphabet only; most `v<digit>` hits end within a few bytes.
            let tail = self.window.get(rel..).unwrap_or(&[]);
            let tail = tail.get(..LOOKAHEAD.min(tail.len())).unwrap_or(&[]);
            let len = tail
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+')))
                .unwrap_or(tail.len());
            if len > 64 || tail.get(len) != Some(&0) {
                continue;
            }
            let Some(Ok(text)) = tail.get(..len).map(std::str::from_utf8) else {
                continue;
            };
            if kube::is_candidate(text) {
                scan.candidates
                    .insert(self.base + rel as u64, text.to_string());
            }
        }
    }

    fn scan_kube_headers(&mut self, limit: usize) {
        let (Some(scan), Some(elf)) = (self.kube.as_mut(), self.elf.as_ref()) else {
            return;
        };
        let Some((rw_start, rw_end)) = elf.rw else {
            return;
        };
        let ptr = elf.ptr as u64;
        let window_end = self.base + limit as u64;
        let mut at = scan.data_next.max(self.base);
        // Keep word alignment relative to the file (segments are page aligned in the file).
        at = at.div_ceil(ptr) * ptr;
        while at < window_end && at < rw_end {
            if at >= rw_start {
                let rel = usize::try_from(at - self.base).unwrap_or(usize::MAX);
                // The segment's last positions see fewer headers (the window ends there).
                let end = usize::try_from(rw_end - self.base)
                    .unwrap_or(usize::MAX)
                    .min(rel.saturating_add(HEADER_RUN * 2 * elf.ptr))
                    .min(self.window.len());
                if let Some(words) = self.window.get(rel..end) {
                    check_header_run(elf, scan, at, words);
                }
            }
            at += ptr;
        }
        scan.data_next = at;
    }

    fn go_packages(&self) -> Result<Vec<Package>, LangError> {
        // A candidate still waiting for bytes at the end of the file is only an error when no
        // complete build info was found (a stray magic near the end must not hide a good one).
        if self.go_found.is_empty()
            && let Some(candidate) = self.go_candidates.first()
        {
            return Err(self.error(format!(
                "Go build info at offset {} is truncated ({} bytes present)",
                candidate.start,
                candidate.bytes.len()
            )));
        }
        // The blob in the read-write segment is the binary's own; others (an embedded
        // binary in read-only data) only count when there is no such blob.
        let in_rw = |start: u64| {
            self.elf
                .as_ref()
                .and_then(|e| e.rw)
                .is_some_and(|(s, e)| start >= s && start < e)
        };
        let Some(found) = self
            .go_found
            .iter()
            .find(|f| in_rw(f.start))
            .or_else(|| self.go_found.first())
        else {
            // Go < 1.18 keeps its build info strings behind pointers into data that streamed
            // past before the pointers were seen. A component's version does not depend on
            // it (the string headers are found by themselves), and it is what matters most
            // in the old releases such binaries come from.
            let component = kube::component_from_file(&self.path);
            if let (Some(component), Some(version)) = (component, self.kube_version_from_data()) {
                return Ok(vec![kube_package(&self.path, component, version)]);
            }
            if self.go_pointer_format {
                return Err(self.error(
                    "Go build info in the pre-Go-1.18 pointer format is not read".to_string(),
                ));
            }
            return Ok(Vec::new());
        };
        let info = golang::parse_modinfo(&found.go_version, &found.modinfo)
            .map_err(|e| self.error(format!("Go build info: {e}")))?;
        let component =
            kube::component_from_main(&info.path).or_else(|| kube::component_from_file(&self.path));
        let version = if component.is_some() {
            kube::version_from_buildinfo(&info).or_else(|| self.kube_version_from_data())
        } else {
            None
        };
        let mut packages = golang::packages(&self.path, &info, version.as_deref());
        if let (Some(component), Some(version)) = (component, version) {
            packages.push(kube_package(&self.path, component, version));
        }
        Ok(packages)
    }

    fn kube_version_from_data(&self) -> Option<String> {
        let scan = self.kube.as_ref()?;
        // Both copies (client-go and component-base) carry the same value in a release
        // build; a disagreement means the evidence is not trustworthy.
        let (_, first) = scan.found.first()?;
        scan.found
            .iter()
            .all(|(_, v)| v == first)
            .then(|| first.clone())
    }

    fn cargo_packages(&self) -> Result<Vec<Package>, LangError> {
        let Some(auditable) = &self.auditable else {
            return Ok(Vec::new());
        };
        if let Some(e) = &auditable.error {
            return Err(self.error(format!("cargo-auditable data: {e}")));
        }
        if !auditable.done {
            return Err(self.error(
                "cargo-auditable data: the zlib stream ends before its end marker".to_string(),
            ));
        }
        crate::cargo::packages(&self.path, &auditable.json)
            .map_err(|e| self.error(format!("cargo-auditable data: {e}")))
    }
}

pub(crate) fn kube_package(path: &str, component: &str, version: String) -> Package {
    Package {
        kind: PackageKind::Kubernetes,
        name: component.to_string(),
        purl: purl::kubernetes(component, &version),
        version,
        path: Some(path.to_string()),
        ..Package::default()
    }
}

/// Feeds compressed bytes to an accepted cargo-auditable stream, capping the output.
fn inflate(auditable: &mut Auditable, mut input: &[u8]) {
    let mut out = [0u8; 16 * 1024];
    while !auditable.done && auditable.error.is_none() && !input.is_empty() {
        let before_in = auditable.inflater.total_in();
        let before_out = auditable.inflater.total_out();
        let status = auditable
            .inflater
            .decompress(input, &mut out, FlushDecompress::None);
        let used = usize::try_from(auditable.inflater.total_in() - before_in).unwrap_or(0);
        let produced = usize::try_from(auditable.inflater.total_out() - before_out).unwrap_or(0);
        input = input.get(used..).unwrap_or(&[]);
        auditable.next += used as u64;
        auditable
            .json
            .extend_from_slice(out.get(..produced).unwrap_or(&[]));
        if auditable.json.len() > AUDITABLE_MAX {
            auditable.error = Some(format!(
                "inflated JSON exceeds {} MiB",
                AUDITABLE_MAX / (1024 * 1024)
            ));
            return;
        }
        match status {
            Ok(Status::StreamEnd) => auditable.done = true,
            Ok(_) if used == 0 && produced == 0 => return,
            Ok(_) => {}
            Err(e) => auditable.error = Some(format!("zlib: {e}")),
        }
    }
}

/// Headers examined from each position of the read-write segment: enough for the six
/// version variables of upstream's `base.go` in any order the linker lays them out.
const HEADER_RUN: usize = 6;

/// Checks whether `words` (up to [`HEADER_RUN`] string headers from the read-write segment)
/// hold a `-X`-stamped `gitVersion` beside its `gitCommit` and `gitTreeState`: one header
/// pointing at a remembered NUL-terminated version string of exactly its length, another of
/// length 40 (the commit) and a third of length 5 or 7 (`clean`, `dirty`, `archive`), both
/// pointing into the file. The order is not fixed: linkers have laid the variables out in
/// declaration order (Go 1.22–1.24: `gitMajor, gitMinor, gitVersion, gitCommit, gitTreeState,
/// buildDate`) and in symbol-name order (Go 1.19: `buildDate, gitCommit, …, gitVersion`), and
/// vendor or trimmed version packages declare fewer than six variables (only those three, say),
/// so neither `buildDate` nor `gitMajor`/`gitMinor` is required. `at` (the file offset of
/// `words`) keeps each run counted once although it is seen from several positions.
fn check_header_run(elf: &ElfLayout, scan: &mut KubeScan, at: u64, words: &[u8]) {
    let ptr = elf.ptr;
    let header = |i: usize| -> Option<(u64, u64)> {
        let start = i * 2 * ptr;
        Some((
            elf.word(words.get(start..)?)?,
            elf.word(words.get(start + ptr..)?)?,
        ))
    };
    let mut headers = [None; HEADER_RUN];
    for (i, slot) in headers.iter_mut().enumerate() {
        *slot = header(i);
    }
    // A header of length `n` whose pointer lands in the file.
    let has = |i: usize, ok: fn(u64) -> bool| {
        headers
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|(p, n)| ok(n) && elf.file_offset(p).is_some())
    };
    let is_commit: fn(u64) -> bool = |n| n == 40;
    let is_state: fn(u64) -> bool = |n| n == 5 || n == 7;
    // Lengths first: they reject nearly every position without a lookup.
    if !(0..HEADER_RUN).any(|i| has(i, is_commit)) {
        return;
    }
    for i in 0..HEADER_RUN {
        let Some((pointer, n)) = headers.get(i).copied().flatten() else {
            continue;
        };
        if !(2..=64).contains(&n) {
            continue;
        }
        // The version itself may be 7 bytes long (`v1.30.2`), like `archive`: the tree
        // state must be another header.
        let others = |ok: fn(u64) -> bool| (0..HEADER_RUN).any(|j| j != i && has(j, ok));
        if !others(is_commit) || !others(is_state) {
            continue;
        }
        let Some(offset) = elf.file_offset(pointer) else {
            continue;
        };
        if let Some(version) = scan.candidates.get(&offset)
            && version.len() as u64 == n
        {
            let header_at = at + (i * 2 * ptr) as u64;
            if !scan.found.iter().any(|(h, _)| *h == header_at) {
                scan.found.push((header_at, version.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One read-only segment at file offset 0, virtual address 0x1000; the version string
    /// `v1.30.2` remembered at file offset 0x100.
    fn layout() -> (ElfLayout, KubeScan) {
        let elf = ElfLayout {
            little: true,
            ptr: 8,
            loads: vec![Load {
                vaddr: 0x1000,
                offset: 0,
                filesz: 0x1000,
                writable: false,
                executable: false,
            }],
            rw: None,
        };
        let mut scan = KubeScan::default();
        scan.candidates.insert(0x100, "v1.30.2".to_string());
        (elf, scan)
    }

    fn words(headers: &[(u64, u64)]) -> Vec<u8> {
        headers
            .iter()
            .flat_map(|(p, n)| p.to_le_bytes().into_iter().chain(n.to_le_bytes()))
            .collect()
    }

    const VERSION: (u64, u64) = (0x1100, 7);
    const COMMIT: (u64, u64) = (0x1200, 40);
    const CLEAN: (u64, u64) = (0x1300, 5);
    const ARCHIVE: (u64, u64) = (0x1300, 7);

    fn found(headers: &[(u64, u64)]) -> Vec<(u64, String)> {
        let (elf, mut scan) = layout();
        check_header_run(&elf, &mut scan, 0x5000, &words(headers));
        scan.found
    }

    #[test]
    fn segment_offset_near_u64_max_maps_no_address() {
        let (mut elf, _) = layout();
        if let Some(load) = elf.loads.first_mut() {
            load.offset = u64::MAX - 0x10;
        }
        assert_eq!(elf.file_offset(0x1800), None);
    }

    #[test]
    fn version_header_beside_commit_and_tree_state_in_any_order() {
        let at = |i: u64| vec![(0x5000 + 16 * i, "v1.30.2".to_string())];
        // Three variables in symbol-name order (the image fixture).
        assert_eq!(found(&[COMMIT, CLEAN, VERSION]), at(2));
        // Upstream's six in declaration order, tree state `archive` (as long as the version).
        let major = (0x1400, 1);
        let minor = (0x1402, 2);
        let date = (0x1500, 20);
        assert_eq!(
            found(&[major, minor, VERSION, COMMIT, ARCHIVE, date]),
            at(2)
        );
        // Upstream's six in symbol-name order (Go 1.19).
        assert_eq!(found(&[date, COMMIT, major, minor, CLEAN, VERSION]), at(5));
        // Cut short by the end of the segment.
        assert_eq!(found(&[VERSION, COMMIT, CLEAN]), at(0));
    }

    #[test]
    fn weaker_evidence_is_not_a_version() {
        // No tree state, or the version's only 7-byte neighbour is itself.
        assert!(found(&[COMMIT, VERSION]).is_empty());
        // No commit.
        assert!(found(&[VERSION, CLEAN, (0x1500, 20)]).is_empty());
        // Length disagrees with the remembered string.
        assert!(found(&[COMMIT, CLEAN, (0x1100, 6)]).is_empty());
        // Commit pointer outside every segment.
        assert!(found(&[(0x9_0000, 40), CLEAN, VERSION]).is_empty());
        // Pointer at a string that was never remembered as a version.
        assert!(found(&[COMMIT, CLEAN, (0x1180, 7)]).is_empty());
    }

    #[test]
    fn a_run_seen_from_two_positions_counts_once() {
        let (elf, mut scan) = layout();
        let bytes = words(&[COMMIT, CLEAN, VERSION, COMMIT]);
        check_header_run(&elf, &mut scan, 0x5000, &bytes);
        check_header_run(&elf, &mut scan, 0x5010, bytes.get(16..).unwrap());
        assert_eq!(scan.found, vec![(0x5020, "v1.30.2".to_string())]);
    }
}
