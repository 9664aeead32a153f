//! Binaries on a seekable source (a root filesystem file, an entry of an uncompressed layer):
//! instead of streaming every byte through [`BinaryScanner`], an ELF file's section headers
//! are read and only the sections that carry package data are read: `.go.buildinfo` (Go build
//! info, where Go's own `debug/buildinfo` looks) and `.dep-v0` (cargo-auditable). Everything
//! else, and every case where this shortcut could answer differently from the streaming scan,
//! goes through [`BinaryScanner`] as before: non-ELF files, ELF files without a readable section
//! table, Go build info that is not the inline (Go >= 1.18) format, a Kubernetes component
//! whose version is not in its build info (the streaming scan finds it in `.data`), and
//! cargo-auditable data that does not inflate cleanly (the streaming scan words the error).
//! A plain ELF without either section (C programs and libraries) yields nothing after reading
//! its headers; an ELF binary embedding another program's build info elsewhere is the one case
//! that differs from the streaming scan (as with Go's `debug/buildinfo`, Trivy and Syft, only
//! the binary's own section counts).

use std::io::{self, Read, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};
use palisade_core::inventory::Package;

use crate::golang::{self, Blob};
use crate::scanner::{AUDITABLE_MAX, GO_BLOB_MAX, kube_package};
use crate::{BinaryScanner, LangError, kube};

/// Section header tables and name tables larger than this are not ELF files a linker wrote.
const TABLE_MAX: u64 = 4 * 1024 * 1024;
/// Chunk size when falling back to streaming.
const CHUNK: usize = 64 * 1024;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;

/// Packages in the binary `path` (inside the image) of `size` bytes, read from `file`
/// positioned anywhere (offset 0 is the file's first byte). The same packages
/// [`BinaryScanner`] finds when fed the whole file (see the module comment for the one
/// difference); `Err` is an I/O error reading `file`.
pub fn scan_seekable<R: Read + Seek>(
    path: &str,
    size: u64,
    file: &mut R,
) -> io::Result<Result<Vec<Package>, LangError>> {
    if let Some(found) = sections(path, size, file)? {
        return Ok(Ok(found));
    }
    stream(path, size, file)
}

/// Reads the whole file through [`BinaryScanner`], stopping once it says the file is not an
/// executable it reads.
fn stream<R: Read + Seek>(
    path: &str,
    size: u64,
    file: &mut R,
) -> io::Result<Result<Vec<Package>, LangError>> {
    file.seek(SeekFrom::Start(0))?;
    let mut scanner = BinaryScanner::new(path, size);
    let mut buf = vec![0u8; CHUNK];
    let mut left = size;
    while left > 0 && !scanner.is_done() {
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = match file.read(buf.get_mut(..want).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        scanner.feed(buf.get(..n).unwrap_or_default());
        left -= n as u64;
    }
    Ok(scanner.finish())
}

/// Reads exactly `len` bytes at `offset`, or `None` when the file ends first.
fn read_at<R: Read + Seek>(file: &mut R, offset: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
    let Ok(cap) = usize::try_from(len) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(cap);
    file.take(len).read_to_end(&mut buf)?;
    Ok((buf.len() == cap).then_some(buf))
}

struct Elf {
    little: bool,
    wide: bool,
}

impl Elf {
    fn uint(&self, bytes: &[u8], at: usize, width: usize) -> Option<u64> {
        let b = bytes.get(at..at.checked_add(width)?)?;
        let mut v: u64 = 0;
        for i in 0..width {
            let byte = *b.get(if self.little { width - 1 - i } else { i })?;
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    }
}

struct Section {
    name_at: u64,
    kind: u32,
    offset: u64,
    size: u64,
}

/// The packages read from the sections, or `None` when the streaming scan must decide.
fn sections<R: Read + Seek>(
    path: &str,
    size: u64,
    file: &mut R,
) -> io::Result<Option<Vec<Package>>> {
    let Some(head) = read_at(file, 0, 64.min(size))? else {
        return Ok(None);
    };
    if head.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Ok(None);
    }
    let elf = match (head.get(4), head.get(5)) {
        (Some(1), Some(d @ (1 | 2))) => Elf {
            little: *d == 1,
            wide: false,
        },
        (Some(2), Some(d @ (1 | 2))) => Elf {
            little: *d == 1,
            wide: true,
        },
        _ => return Ok(None),
    };
    let (shoff, shentsize, shnum, shstrndx) = if elf.wide {
        (
            elf.uint(&head, 40, 8),
            elf.uint(&head, 58, 2),
            elf.uint(&head, 60, 2),
            elf.uint(&head, 62, 2),
        )
    } else {
        (
            elf.uint(&head, 32, 4),
            elf.uint(&head, 46, 2),
            elf.uint(&head, 48, 2),
            elf.uint(&head, 50, 2),
        )
    };
    let (Some(shoff), Some(shentsize), Some(shnum), Some(shstrndx)) =
        (shoff, shentsize, shnum, shstrndx)
    else {
        return Ok(None);
    };
    let min_entry = if elf.wide { 64 } else { 40 };
    // No table, extended numbering (shnum 0 with a table), or a table off the file's end.
    let table_len = shentsize.saturating_mul(shnum);
    if shoff == 0
        || shnum == 0
        || shentsize < min_entry
        || shstrndx >= shnum
        || table_len > TABLE_MAX
        || shoff.saturating_add(table_len) > size
    {
        return Ok(None);
    }
    let Some(table) = read_at(file, shoff, table_len)? else {
        return Ok(None);
    };
    let mut all = Vec::new();
    for i in 0..shnum {
        let Ok(at) = usize::try_from(i * shentsize) else {
            return Ok(None);
        };
        let fields = if elf.wide {
            (
                elf.uint(&table, at, 4),
                elf.uint(&table, at + 4, 4),
                elf.uint(&table, at + 24, 8),
                elf.uint(&table, at + 32, 8),
            )
        } else {
            (
                elf.uint(&table, at, 4),
                elf.uint(&table, at + 4, 4),
                elf.uint(&table, at + 16, 4),
                elf.uint(&table, at + 20, 4),
            )
        };
        let (Some(name_at), Some(kind), Some(offset), Some(len)) = fields else {
            return Ok(None);
        };
        all.push(Section {
            name_at,
            kind: u32::try_from(kind).unwrap_or(0),
            offset,
            size: len,
        });
    }
    let Some(names) = usize::try_from(shstrndx).ok().and_then(|i| all.get(i)) else {
        return Ok(None);
    };
    // A zeroed or foreign table (excerpts, packers) does not name a string table.
    if names.kind != SHT_STRTAB
        || names.size == 0
        || names.size > TABLE_MAX
        || names.offset.saturating_add(names.size) > size
    {
        return Ok(None);
    }
    let names_at = names.name_at;
    let Some(names) = read_at(file, names.offset, names.size)? else {
        return Ok(None);
    };
    let name_is = |at: u64, wanted: &[u8]| {
        usize::try_from(at)
            .ok()
            .and_then(|n| names.get(n..))
            .and_then(|tail| tail.strip_prefix(wanted))
            .is_some_and(|rest| rest.first() == Some(&0))
    };
    // Linkers name the table itself; a zeroed one (excerpts) names nothing.
    if !name_is(names_at, b".shstrtab") {
        return Ok(None);
    }
    let named = |wanted: &[u8]| all.iter().find(|s| name_is(s.name_at, wanted));
    let go = named(b".go.buildinfo");
    let dep = named(b".dep-v0");
    for s in [go, dep].into_iter().flatten() {
        if s.kind == SHT_NOBITS || s.offset >= size {
            return Ok(None);
        }
    }
    let mut packages = Vec::new();
    if let Some(s) = go {
        // The streaming scan only takes a magic at a 16-byte-aligned offset.
        if !s.offset.is_multiple_of(16) {
            return Ok(None);
        }
        // As much as the streaming scanner collects from the magic on.
        let len = (size - s.offset).min(GO_BLOB_MAX as u64);
        let Some(blob) = read_at(file, s.offset, len)? else {
            return Ok(None);
        };
        let Blob::Inline {
            go_version,
            modinfo,
        } = golang::decode(&blob, GO_BLOB_MAX)
        else {
            return Ok(None);
        };
        let Ok(info) = golang::parse_modinfo(&go_version, &modinfo) else {
            return Ok(None);
        };
        let component =
            kube::component_from_main(&info.path).or_else(|| kube::component_from_file(path));
        let version = match component {
            Some(_) => match kube::version_from_buildinfo(&info) {
                Some(v) => Some(v),
                // The streaming scan looks for the version in `.data` for such names.
                None if kube::may_be_component(path) => return Ok(None),
                None => None,
            },
            None => None,
        };
        packages = golang::packages(path, &info, version.as_deref());
        if let (Some(component), Some(version)) = (component, version) {
            packages.push(kube_package(path, component, version));
        }
    } else if kube::may_be_component(path) && kube::component_from_file(path).is_some() {
        return Ok(None);
    }
    if let Some(s) = dep {
        if s.size > AUDITABLE_MAX as u64 || s.offset.saturating_add(s.size) > size {
            return Ok(None);
        }
        let Some(compressed) = read_at(file, s.offset, s.size)? else {
            return Ok(None);
        };
        let Some(json) = inflate(&compressed) else {
            return Ok(None);
        };
        if !(json.starts_with(b"{\"packages\":") || json.starts_with(b"{\"format\":")) {
            return Ok(None);
        }
        match crate::cargo::packages(path, &json) {
            Ok(found) => packages.extend(found),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(packages))
}

/// The whole zlib stream inflated, or `None` if it is corrupt, cut short or over the cap.
fn inflate(input: &[u8]) -> Option<Vec<u8>> {
    let mut d = Decompress::new(true);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let before_in = d.total_in();
        let before_out = d.total_out();
        let rest = input.get(usize::try_from(before_in).ok()?..)?;
        let status = d.decompress(rest, &mut buf, FlushDecompress::None).ok()?;
        let produced = usize::try_from(d.total_out() - before_out).ok()?;
        out.extend_from_slice(buf.get(..produced)?);
        if out.len() > AUDITABLE_MAX {
            return None;
        }
        match status {
            Status::StreamEnd => return Some(out),
            _ if d.total_in() == before_in && produced == 0 => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::io::{Cursor, Read};
    use std::path::Path;

    use super::*;

    fn streamed(path: &str, bytes: &[u8]) -> Result<Vec<Package>, LangError> {
        let mut scanner = BinaryScanner::new(path, bytes.len() as u64);
        for part in bytes.chunks(64 * 1024) {
            scanner.feed(part);
        }
        scanner.finish()
    }

    fn both_ways(path: &str, bytes: &[u8]) -> Result<Vec<Package>, LangError> {
        let seek = scan_seekable(path, bytes.len() as u64, &mut Cursor::new(bytes)).unwrap();
        assert_eq!(seek, streamed(path, bytes), "{path} {}", bytes.len());
        seek
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    /// Every binary the repository vendors (Go, Kubernetes, cargo-auditable, fuzz findings)
    /// gives the same packages, or the same error, both ways; under several names, so the
    /// Kubernetes component rules are exercised too.
    #[test]
    fn same_packages_as_streaming_for_every_vendored_binary() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        for dir in [
            root.join("../../testdata/go-binaries"),
            root.join("../../testdata/cargo-auditable"),
            root.join("fuzz/regressions/binary"),
        ] {
            if dir.is_dir() {
                files(&dir, &mut paths);
            }
        }
        let mut found = 0;
        let mut elf = 0;
        for p in &paths {
            let raw = std::fs::read(p).unwrap();
            let bytes = if p.extension().is_some_and(|e| e == "gz") {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(raw.as_slice())
                    .read_to_end(&mut out)
                    .unwrap();
                out
            } else {
                raw
            };
            elf += usize::from(bytes.starts_with(b"\x7fELF"));
            for name in ["usr/bin/app", "usr/local/bin/kube-apiserver", "bin/kubectl"] {
                if let Ok(packages) = both_ways(name, &bytes) {
                    found += packages.len();
                }
            }
        }
        assert!(elf >= 3, "{elf} ELF files among {paths:?}");
        assert!(found > 50, "{found}");
    }

    /// A Go binary's build info is read from its section without reading the rest: a reader
    /// that fails on any other range still gives the packages.
    #[test]
    fn reads_only_headers_and_sections() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read(root.join("../../testdata/go-binaries/kube-apiserver-ldflags.gz"))
            .unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut bytes)
            .unwrap();
        struct Counting<'a>(Cursor<&'a [u8]>, u64);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1 += n as u64;
                Ok(n)
            }
        }
        impl Seek for Counting<'_> {
            fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
                self.0.seek(pos)
            }
        }
        let mut r = Counting(Cursor::new(bytes.as_slice()), 0);
        let found = scan_seekable("usr/bin/app", bytes.len() as u64, &mut r)
            .unwrap()
            .unwrap();
        assert!(!found.is_empty());
        assert_eq!(Ok(found), streamed("usr/bin/app", &bytes));
        assert!(r.1 * 4 < bytes.len() as u64, "{} of {}", r.1, bytes.len());
    }

    #[test]
    fn not_elf_and_truncated_inputs_fall_back() {
        for bytes in [
            b"#!/bin/sh\necho hi\n".to_vec(),
            b"\x7fELF\x02\x01\x01".to_vec(),
            vec![
                0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
            ],
            Vec::new(),
        ] {
            both_ways("usr/bin/x", &bytes).unwrap();
        }
    }
}
