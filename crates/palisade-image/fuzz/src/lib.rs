//! What the fuzz targets check, shared with `tests/fuzz_regressions.rs` (included there by path)
//! so a saved input is replayed exactly as the fuzzer ran it. Inputs go through the public
//! `palisade_image::inventory` on files written to a scratch directory, as the binary reads them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use palisade_image::{Options, inventory};

/// Small limits, so that the limit paths are reached and one input cannot take long.
#[allow(clippy::needless_update)]
pub fn small_options() -> Options {
    Options {
        max_entry_bytes: 64 << 10,
        max_kept_bytes: 1 << 20,
        max_layer_bytes: 8 << 20,
        max_ratio: 50,
        ratio_floor_bytes: 256 << 10,
        max_entries: 10_000,
        max_link_depth: 8,
        // Fields added later keep their defaults.
        ..Options::default()
    }
}

/// One scratch directory per fuzzing process (set TMPDIR=/dev/shm to keep it in memory).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("palisade-image-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        dir
    })
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Inventories `path`: never a panic; an error names the input; the inventory names its source
/// and every package has a name and a purl.
fn check(path: &Path) {
    let shown = path.display().to_string();
    match inventory(path, &small_options()) {
        Ok(inv) => {
            assert_eq!(inv.source, shown);
            for p in &inv.packages {
                assert!(!p.name.is_empty(), "{shown}: package without a name: {p:?}");
                assert!(!p.purl.is_empty(), "{shown}: package without a purl: {p:?}");
            }
        }
        Err(e) => assert!(
            e.to_string().contains(&shown),
            "error does not name {shown}: {e}"
        ),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// `layer` target, in `dir`: the input as a file (a layer tar, or a `docker save`/OCI archive
/// when it holds their index files) and the same bytes gzip-wrapped (always read as a layer).
pub fn layer_in(dir: &Path, input: &[u8]) {
    let plain = dir.join("input.tar");
    write(&plain, input);
    check(&plain);
    let gz = dir.join("input.tar.gz");
    write(&gz, &gzip(input));
    check(&gz);
}

pub fn layer(input: &[u8]) {
    layer_in(scratch(), input);
}

const DEBIAN: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
const ALPINE: &[u8] = b"ID=alpine\nVERSION_ID=3.19.1\n";

/// An rpm `Packages` table as rpm 4.16+ writes it, holding the given header blobs.
fn rpmdb(blobs: &[&[u8]]) -> Vec<u8> {
    let build = || -> rusqlite::Result<Vec<u8>> {
        let mut conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
        )?;
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])?;
        }
        Ok(conn.serialize(rusqlite::MAIN_DB)?.to_vec())
    };
    build().unwrap_or_else(|e| panic!("building an rpm database: {e}"))
}

/// Splits `data` into blobs, each prefixed by its length (u32 little-endian, cut to what is left).
fn blobs(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((len, rest)) = data.split_first_chunk::<4>() {
        let n = (u32::from_le_bytes(*len) as usize).min(rest.len());
        let (blob, tail) = rest.split_at(n);
        out.push(blob);
        data = tail;
    }
    out
}

/// `pkgdb` target, in `dir`. Input: one flags byte, then the payload. Flags: bit 0 the payload
/// is `var/lib/dpkg/status`, bit 1 `var/lib/dpkg/status.d/fuzz` (distroless), bit 2
/// `lib/apk/db/installed`, bit 3 `var/lib/rpm/rpmdb.sqlite` as is, bit 4
/// `usr/lib/sysimage/rpm/rpmdb.sqlite` built from the payload as length-prefixed rpm header
/// blobs; bit 5 a root filesystem directory instead of a layer tar; bits 6-7 `etc/os-release`:
/// none, Debian, Alpine, or the payload.
pub fn pkgdb_in(dir: &Path, input: &[u8]) {
    let Some((&flags, payload)) = input.split_first() else {
        return;
    };
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    let bit = |n: u8| flags & (1 << n) != 0;
    if bit(0) {
        files.push(("var/lib/dpkg/status", payload.to_vec()));
    }
    if bit(1) {
        files.push(("var/lib/dpkg/status.d/fuzz", payload.to_vec()));
    }
    if bit(2) {
        files.push(("lib/apk/db/installed", payload.to_vec()));
    }
    if bit(3) {
        files.push(("var/lib/rpm/rpmdb.sqlite", payload.to_vec()));
    }
    if bit(4) {
        files.push(("usr/lib/sysimage/rpm/rpmdb.sqlite", rpmdb(&blobs(payload))));
    }
    match flags >> 6 {
        1 => files.push(("etc/os-release", DEBIAN.to_vec())),
        2 => files.push(("etc/os-release", ALPINE.to_vec())),
        3 => files.push(("etc/os-release", payload.to_vec())),
        _ => {}
    }
    if bit(5) {
        let root = dir.join("rootfs");
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        }
        for (path, bytes) in &files {
            let at = root.join(path);
            if let Some(parent) = at.parent() {
                std::fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
            }
            write(&at, bytes);
        }
        std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        check(&root);
    } else {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, bytes) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut h, path, bytes.as_slice())
                .unwrap_or_else(|e| panic!("tar entry {path}: {e}"));
        }
        let bytes = tar
            .into_inner()
            .unwrap_or_else(|e| panic!("finishing the tar: {e}"));
        let layer = dir.join("pkgdb.tar");
        write(&layer, &bytes);
        check(&layer);
    }
}

pub fn pkgdb(input: &[u8]) {
    pkgdb_in(scratch(), input);
}
