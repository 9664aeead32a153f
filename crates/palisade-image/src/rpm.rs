//! rpm's SQLite database (`rpmdb.sqlite`: Fedora >= 33, RHEL 9, Amazon Linux 2023): the
//! `Packages` table holds one header blob per package. SQLite is read from memory
//! (`sqlite3_deserialize`, never a file). The header blob is parsed here by hand: it is a small
//! fixed format (index entries + data store), and the `rpm` crate reads `.rpm` files (lead and
//! signature first), not the database form.

use std::io::Read;

use palisade_core::inventory::{Distro, Package, PackageKind};

use crate::purl;

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_SOURCERPM: i32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// go-rpmdb rejects headers at or above 256 MiB; the same bound here.
const MAX_HEADER: usize = 256 << 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub name: Option<String>,
    pub version: Option<String>,
    pub release: Option<String>,
    pub epoch: Option<i32>,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub license: Option<String>,
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

/// Parses a database header blob: `il` and `dl` (big-endian), `il` 16-byte index entries
/// (`tag`, `type`, `offset`, `count`), then `dl` bytes of data.
pub(crate) fn parse_header(blob: &[u8]) -> Result<Header, String> {
    if blob.len() >= MAX_HEADER {
        return Err(format!("header of {} bytes is over 256 MiB", blob.len()));
    }
    let il = be_u32(blob, 0).ok_or("header shorter than 8 bytes")? as usize;
    let dl = be_u32(blob, 4).ok_or("header shorter than 8 bytes")? as usize;
    let expected = il
        .checked_mul(16)
        .and_then(|x| x.checked_add(8))
        .and_then(|x| x.checked_add(dl))
        .ok_or("header index/data sizes overflow")?;
    if expected != blob.len() {
        return Err(format!(
            "header says {il} entries and {dl} data bytes ({expected} bytes) but is {} bytes",
            blob.len()
        ));
    }
    let data_start = 8 + il * 16;
    let data = blob.get(data_start..).ok_or("header data missing")?;
    let string_at = |off: usize| -> Option<String> {
        let rest = data.get(off..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
    };
    let mut h = Header::default();
    for i in 0..il {
        let at = 8 + i * 16;
        let (Some(tag), Some(ty), Some(off)) = (
            be_u32(blob, at).map(|v| v as i32),
            be_u32(blob, at + 4),
            be_u32(blob, at + 8),
        ) else {
            return Err(format!("index entry {i} truncated"));
        };
        let off = off as usize;
        let text = || -> Result<Option<String>, String> {
            match ty {
                TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => string_at(off)
                    .map(Some)
                    .ok_or_else(|| format!("tag {tag}: string at offset {off} is out of the data")),
                _ => Ok(None),
            }
        };
        match tag {
            TAG_NAME => h.name = text()?,
            TAG_VERSION => h.version = text()?,
            TAG_RELEASE => h.release = text()?,
            TAG_ARCH => h.arch = text()?,
            TAG_SOURCERPM => h.source_rpm = text()?,
            TAG_LICENSE => h.license = text()?,
            TAG_EPOCH if ty == TYPE_INT32 => {
                h.epoch =
                    Some(be_u32(data, off).ok_or_else(|| {
                        format!("tag {tag}: epoch at offset {off} is out of the data")
                    })? as i32);
            }
            _ => {}
        }
    }
    Ok(h)
}

/// `name-version-release.arch.rpm` split from the right (name may contain dashes).
fn split_source_rpm(srpm: &str) -> Option<(String, String)> {
    let base = srpm.strip_suffix(".rpm").unwrap_or(srpm);
    let (nvr, _arch) = base.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

/// Reads the `Packages` table's header blobs from the database bytes.
pub(crate) fn blobs(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !db.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database (no 'SQLite format 3' header)".to_string());
    }
    // Bytes 18/19 say WAL mode (2); SQLite's in-memory database cannot open a WAL database, and
    // the image's -wal file is not ours to replay, so the copy is marked rollback mode (1).
    let head = db.get(..18).ok_or("database header truncated")?;
    let rest = db.get(20..).ok_or("database header truncated")?;
    let patched = head.chain(&[1u8, 1u8][..]).chain(rest);
    let mut conn = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, patched, db.len(), true)
        .map_err(|e| format!("cannot load the database: {e}"))?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| format!("no Packages table: {e}"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(|e| format!("reading Packages: {e}"))?);
    }
    Ok(out)
}

/// Packages from the header blobs of a database (`blobs` for sqlite, `bdb::blobs`).
pub(crate) fn packages(
    headers: &[Vec<u8>],
    distro: Option<&Distro>,
    path: &str,
) -> (Vec<Package>, Vec<String>) {
    let ns = purl::namespace(distro, "rpm");
    let distro_q = purl::distro_qualifier(distro);
    let mut pkgs = Vec::new();
    let mut problems = Vec::new();
    for (i, blob) in headers.iter().enumerate() {
        let h = match parse_header(blob) {
            Ok(h) => h,
            Err(e) => {
                problems.push(format!("header {}: {e}", i + 1));
                continue;
            }
        };
        // An empty tag is no tag (found by fuzzing).
        let (Some(name), Some(version)) = (crate::nonempty(h.name), crate::nonempty(h.version))
        else {
            problems.push(format!(
                "header {}: no (or an empty) NAME or VERSION tag",
                i + 1
            ));
            continue;
        };
        // Public keys imported into rpm are stored as pseudo-packages.
        if name == "gpg-pubkey" {
            continue;
        }
        let vr = match &h.release {
            Some(r) => format!("{version}-{r}"),
            None => version.clone(),
        };
        let full = match h.epoch {
            Some(e) => format!("{e}:{vr}"),
            None => vr.clone(),
        };
        let source = h.source_rpm.as_deref().and_then(split_source_rpm);
        let purl = purl::build(
            "rpm",
            &ns,
            &name,
            &vr,
            &[
                ("arch", h.arch.clone()),
                ("epoch", h.epoch.map(|e| e.to_string())),
                ("distro", distro_q.clone()),
            ],
        );
        let (source_name, source_version) = match source {
            Some((n, v)) => (
                Some(n),
                Some(match h.epoch {
                    Some(e) => format!("{e}:{v}"),
                    None => v,
                }),
            ),
            None => (None, None),
        };
        pkgs.push(Package {
            kind: PackageKind::Rpm,
            name,
            version: full,
            purl,
            source_name,
            source_version,
            arch: h.arch,
            licenses: h.license.into_iter().collect(),
            layer: None,
            path: Some(path.to_string()),
        });
    }
    (pkgs, problems)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, data) entries.
    pub(crate) fn header(entries: &[(i32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, ty, bytes) in entries {
            if *ty == TYPE_INT32 {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&1u32.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    #[test]
    fn header_with_epoch() {
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, s("bash")),
            (TAG_VERSION, TYPE_STRING, s("5.1.8")),
            (TAG_RELEASE, TYPE_STRING, s("9.el9")),
            (TAG_EPOCH, TYPE_INT32, 1i32.to_be_bytes().to_vec()),
            (TAG_SOURCERPM, TYPE_STRING, s("bash-5.1.8-9.el9.src.rpm")),
        ]);
        let h = parse_header(&blob).unwrap();
        assert_eq!(h.name.as_deref(), Some("bash"));
        assert_eq!(h.epoch, Some(1));
        assert_eq!(
            split_source_rpm("amazon-linux-repo-cdn-2023.1-0.amzn2023.src.rpm"),
            Some((
                "amazon-linux-repo-cdn".to_string(),
                "2023.1-0.amzn2023".to_string()
            ))
        );
    }

    proptest::proptest! {
        #[test]
        fn header_parser_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            flips in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 0..8),
        ) {
            let _ = parse_header(&bytes);
            // mutations of a valid header
            let mut blob = header(&[
                (TAG_NAME, TYPE_STRING, s("bash")),
                (TAG_VERSION, TYPE_STRING, s("5.1.8")),
                (TAG_EPOCH, TYPE_INT32, 1i32.to_be_bytes().to_vec()),
                (TAG_ARCH, TYPE_STRING_ARRAY, s("x86_64")),
            ]);
            for (at, b) in flips {
                if let Some(x) = blob.get_mut(at) {
                    *x = b;
                }
            }
            let _ = parse_header(&blob);
        }
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert!(parse_header(&[0, 0]).is_err());
        let mut blob = header(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        blob.truncate(blob.len() - 1);
        assert!(parse_header(&blob).is_err());
        // index count claims more entries than there are
        let mut big = header(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        big[3] = 200;
        assert!(parse_header(&big).is_err());
        // offset past the data
        let mut off = header(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        off[16..20].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse_header(&off).is_err());
        assert!(blobs(b"not sqlite").is_err());
    }
}
