//! Building the outputs from the store, writing them atomically, and the in-memory snapshot
//! the HTTP routes serve.
//!
//! Files go to `DIR/out/` under the names `palisade feed build` uses (plus `osv/all.zip`). Each
//! is written to a temporary file, fsynced, renamed over the old one, and the directory is
//! fsynced, so after a crash a reader finds the old or the new file, never half of one.

use crate::ServerError;
use crate::store::StoredIssue;
use axum::body::Bytes;
use palisade_feed::feed::JsonFeed;
use palisade_feed::io::{ATOM, JSON_FEED, OSV_DIR, RSS};
use palisade_feed::{BuildOptions, Feed, Limits, Site, Warning};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Name of the archive of every OSV record, inside `osv/`.
pub const OSV_ZIP: &str = "all.zip";

/// Files at least this large are stored precompressed.
pub const GZIP_MIN_BYTES: usize = 16 * 1024;

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(Bytes::from)
}

/// One served file.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Bytes,
    /// Weak: the same entity may be sent gzip-compressed.
    pub etag: String,
    pub last_modified: SystemTime,
    /// The bytes gzip-compressed once per build, for clients that accept it (large files only:
    /// compressing the feed on every request would cost more CPU than serving it).
    pub gzip: Option<Bytes>,
}

impl Asset {
    fn new(name: &str, bytes: Vec<u8>, last_modified: SystemTime) -> Asset {
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        // The archive is already deflated.
        let worth = bytes.len() >= GZIP_MIN_BYTES && !name.ends_with(".zip");
        let gzip = worth.then(|| gzip(&bytes)).flatten();
        Asset {
            bytes: Bytes::from(bytes),
            etag: format!("W/\"{hex}\""),
            last_modified,
            gzip,
        }
    }
}

/// Everything served, built from one store generation.
#[derive(Debug)]
pub struct Snapshot {
    pub generation: u64,
    /// Keyed by path relative to the output directory (`feed.xml`, `osv/CVE-….json`).
    pub assets: BTreeMap<String, Asset>,
    /// The JSON Feed parsed back, for the page.
    pub feed: JsonFeed,
}

impl Snapshot {
    pub fn json_feed(&self) -> Option<&Asset> {
        self.assets.get(JSON_FEED)
    }

    pub fn osv_key(id: &str) -> String {
        format!("{OSV_DIR}/{id}.json")
    }
}

/// What a build used and produced, for logs.
#[derive(Debug)]
pub struct Built {
    pub snapshot: Snapshot,
    pub warnings: Vec<Warning>,
}

/// Builds every output from the stored issues carrying `label`, describing itself as `site`. `previous` keeps
/// `updated_at` and per-file `Last-Modified` still when content did not change.
pub fn build(
    stored: Vec<StoredIssue>,
    label: &str,
    site: &Site,
    generation: u64,
    previous: Option<&Snapshot>,
    now: &str,
    limits: &Limits,
) -> Result<Built, ServerError> {
    let issues: Vec<_> = stored
        .into_iter()
        .filter(|i| i.in_feed(label))
        .map(palisade_feed::github::Issue::from)
        .collect();
    let prev_json = previous
        .and_then(|p| p.json_feed())
        .and_then(|a| serde_json::from_slice(&a.bytes).ok());
    let options = BuildOptions {
        now: now.to_owned(),
        site: site.clone(),
        limits: *limits,
        previous: prev_json,
    };
    let feed = Feed::from_issues(&issues, &options);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            JSON_FEED.to_owned(),
            palisade_feed::render_json_feed(&feed).into_bytes(),
        ),
        (
            RSS.to_owned(),
            palisade_feed::render_rss(&feed).into_bytes(),
        ),
        (
            ATOM.to_owned(),
            palisade_feed::render_atom(&feed).into_bytes(),
        ),
    ];
    let records = palisade_feed::osv_records(&feed);
    files.push((format!("{OSV_DIR}/{OSV_ZIP}"), zip_records(&records)?));
    for (id, text) in records {
        files.push((Snapshot::osv_key(&id), text.into_bytes()));
    }
    let parsed = files
        .first()
        .map(|(_, b)| palisade_feed::matcher::load_feed(b, JSON_FEED))
        .transpose()?
        .ok_or_else(|| ServerError::Build {
            message: "no JSON Feed rendered".to_owned(),
        })?;
    let now_t = SystemTime::now();
    let assets = files
        .into_iter()
        .map(|(name, bytes)| {
            let last_modified = previous
                .and_then(|p| p.assets.get(&name))
                .filter(|a| a.bytes.as_ref() == bytes.as_slice())
                .map_or(now_t, |a| a.last_modified);
            let asset = Asset::new(&name, bytes, last_modified);
            (name, asset)
        })
        .collect();
    Ok(Built {
        snapshot: Snapshot {
            generation,
            assets,
            feed: parsed,
        },
        warnings: feed.warnings,
    })
}

/// The OSV records as one zip, entries `CVE-….json` in ID order with a fixed timestamp, so the
/// same records give the same bytes (and ETag).
fn zip_records(records: &[(String, String)]) -> Result<Vec<u8>, ServerError> {
    let err = |e: &dyn std::fmt::Display| ServerError::Build {
        message: format!("OSV archive: {e}"),
    };
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut sorted: Vec<&(String, String)> = records.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, text) in sorted {
        w.start_file(format!("{id}.json"), opts)
            .map_err(|e| err(&e))?;
        w.write_all(text.as_bytes()).map_err(|e| err(&e))?;
    }
    Ok(w.finish().map_err(|e| err(&e))?.into_inner())
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_owned(),
        source,
    }
}

pub use palisade_feed::io::write_atomic;
use palisade_feed::io::{replace_file, sync_dir};

/// Writes every asset that differs from what is on disk and removes OSV records of CVEs no
/// longer in the feed. Returns how many files were written.
pub fn write(dir: &Path, snapshot: &Snapshot) -> Result<usize, ServerError> {
    let mut written = 0;
    let osv_dir = dir.join(OSV_DIR);
    fs::create_dir_all(&osv_dir).map_err(io_err(&osv_dir))?;
    for (name, asset) in &snapshot.assets {
        let path = dir.join(name);
        if fs::read(&path).is_ok_and(|old| old == asset.bytes.as_ref()) {
            continue;
        }
        replace_file(&path, &asset.bytes)?;
        written += 1;
    }
    sync_dir(dir)?;
    for entry in fs::read_dir(&osv_dir).map_err(io_err(&osv_dir))? {
        let Ok(entry) = entry else { continue };
        let file = entry.file_name().to_string_lossy().into_owned();
        let key = format!("{OSV_DIR}/{file}");
        let ours = file.ends_with(".json") || file.ends_with(".tmp");
        if ours && !snapshot.assets.contains_key(&key) {
            let p = entry.path();
            fs::remove_file(&p).map_err(io_err(&p))?;
        }
    }
    sync_dir(&osv_dir)?;
    Ok(written)
}

/// Removes temporary files a crash left behind mid-write (never served: only renamed files are).
pub fn clean_temporaries(dir: &Path) {
    for d in [dir.to_owned(), dir.join(OSV_DIR)] {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Reads the outputs written by [`write`], for serving after a restart. `None` when a file is
/// missing or the JSON Feed does not parse (then the caller rebuilds).
pub fn load(dir: &Path, generation: u64) -> Option<Snapshot> {
    let mut assets = BTreeMap::new();
    let mut names: Vec<String> = [JSON_FEED, RSS, ATOM]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    names.push(format!("{OSV_DIR}/{OSV_ZIP}"));
    let osv_dir = dir.join(OSV_DIR);
    let mut osv: Vec<String> = fs::read_dir(&osv_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .map(|f| format!("{OSV_DIR}/{f}"))
        .collect();
    osv.sort();
    names.extend(osv);
    for name in names {
        let path: PathBuf = dir.join(&name);
        let bytes = fs::read(&path).ok()?;
        let mtime = fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let asset = Asset::new(&name, bytes, mtime);
        assets.insert(name, asset);
    }
    let feed = palisade_feed::matcher::load_feed(&assets.get(JSON_FEED)?.bytes, JSON_FEED).ok()?;
    Some(Snapshot {
        generation,
        assets,
        feed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("feed.xml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn zip_is_deterministic_and_readable_by_name() {
        let recs = vec![
            (
                "CVE-2024-2".to_owned(),
                "{\"id\":\"CVE-2024-2\"}".to_owned(),
            ),
            (
                "CVE-2024-1".to_owned(),
                "{\"id\":\"CVE-2024-1\"}".to_owned(),
            ),
        ];
        let a = zip_records(&recs).unwrap();
        assert_eq!(a, zip_records(&recs).unwrap());
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        assert_eq!(z.len(), 2);
        assert_eq!(z.by_index(0).unwrap().name().unwrap(), "CVE-2024-1.json");
    }
}
