//! File I/O around the pure builder: reading GitHub API pages from files and directories, and
//! writing the four outputs into a directory.

use crate::github::{self, Issue, Limits};
use crate::{Feed, FeedError, Warning, osv_records, render_atom, render_json_feed, render_rss};
use std::fs;
use std::path::{Path, PathBuf};

/// File names written into the output directory.
pub const JSON_FEED: &str = "official-cve-feed.json";
pub const RSS: &str = "feed.xml";
pub const ATOM: &str = "atom.xml";
pub const OSV_DIR: &str = "osv";

/// Reads every page in `paths` (files, or directories of `*.json` read in name order). A page
/// that cannot be read or parsed is a warning and the others are still used; a path that does
/// not exist is an error, and so is having no readable page at all.
pub fn read_inputs(
    paths: &[PathBuf],
    limits: &Limits,
) -> Result<(Vec<Issue>, Vec<Warning>), FeedError> {
    let mut files = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(|source| FeedError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(p)
                .map_err(|source| FeedError::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut failed = 0;
    for f in &files {
        let name = f.display().to_string();
        let result = read_limited(f, limits.max_page_bytes)
            .and_then(|bytes| github::parse_page(&bytes, &name, limits));
        match result {
            Ok((mut page, mut w)) => {
                issues.append(&mut page);
                warnings.append(&mut w);
            }
            Err(e) => {
                failed += 1;
                warnings.push(Warning::page(&name, format!("page skipped: {e}")));
            }
        }
    }
    if failed > 0 && failed == files.len() {
        let details = warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ");
        return Err(FeedError::NoInput {
            count: failed,
            details,
        });
    }
    Ok((issues, warnings))
}

/// Reads a file, refusing one over `limit` bytes before reading it.
pub fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, FeedError> {
    let io = |source| FeedError::Io {
        path: path.to_owned(),
        source,
    };
    let size = fs::metadata(path).map_err(io)?.len();
    if usize::try_from(size).map_or(true, |s| s > limit) {
        return Err(FeedError::TooLarge {
            source_name: path.display().to_string(),
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit,
        });
    }
    fs::read(path).map_err(io)
}

/// Paths written by [`write_outputs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub json_feed: PathBuf,
    pub rss: PathBuf,
    pub atom: PathBuf,
    pub osv: Vec<PathBuf>,
    /// Stale `osv/CVE-*.json` files of CVEs no longer in the feed, removed.
    pub removed: Vec<PathBuf>,
}

/// Writes `DIR/official-cve-feed.json`, `DIR/feed.xml`, `DIR/atom.xml` and `DIR/osv/<CVE>.json`.
/// Each file is written to a temporary name and renamed, so a reader never sees half a file.
pub fn write_outputs(dir: &Path, feed: &Feed) -> Result<Written, FeedError> {
    let osv_dir = dir.join(OSV_DIR);
    fs::create_dir_all(&osv_dir).map_err(|source| FeedError::Io {
        path: osv_dir.clone(),
        source,
    })?;
    let json_feed = dir.join(JSON_FEED);
    let rss = dir.join(RSS);
    let atom = dir.join(ATOM);
    write_atomic(&json_feed, render_json_feed(feed).as_bytes())?;
    write_atomic(&rss, render_rss(feed).as_bytes())?;
    write_atomic(&atom, render_atom(feed).as_bytes())?;
    let mut osv = Vec::new();
    for (id, text) in osv_records(feed) {
        let p = osv_dir.join(format!("{id}.json"));
        write_atomic(&p, text.as_bytes())?;
        osv.push(p);
    }
    let mut removed = Vec::new();
    let entries = fs::read_dir(&osv_dir).map_err(|source| FeedError::Io {
        path: osv_dir.clone(),
        source,
    })?;
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if p.extension().is_some_and(|x| x == "json")
            && crate::title::is_cve_id(stem)
            && !osv.contains(&p)
        {
            fs::remove_file(&p).map_err(|source| FeedError::Io {
                path: p.clone(),
                source,
            })?;
            removed.push(p);
        }
    }
    Ok(Written {
        json_feed,
        rss,
        atom,
        osv,
        removed,
    })
}

/// Writes `bytes` to `path` through a temporary file (write, fsync, rename), then fsyncs the
/// directory so the rename is durable: a crash leaves the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FeedError> {
    replace_file(path, bytes)?;
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Write to `.<name>.tmp` beside `path`, fsync, rename over `path`. The caller fsyncs the
/// directory (once for several files). The hidden, per-name temporary never collides with
/// another output and is never served.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), FeedError> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    {
        let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        // fsync before the rename: ext4/xfs may otherwise persist the rename before the data.
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// fsync a directory, making renames inside it durable.
pub fn sync_dir(dir: &Path) -> Result<(), FeedError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> FeedError + '_ {
    move |source| FeedError::Io {
        path: path.to_owned(),
        source,
    }
}
