//! An OSV database on disk, as osv.dev exports it: `DIR/<Ecosystem>/*.json`,
//! `DIR/<Ecosystem>/all.zip`, `DIR/<Ecosystem>.zip`, `DIR/all.zip`, flat `DIR/*.json`, and
//! osv-scanner's `DIR/osv-scalibr/<Ecosystem>/all.zip` (directories are read three levels
//! deep). Opening reads every record once and keeps only an index `(ecosystem, package) ->
//! where the record is`; matching re-reads the few records of installed packages.

use crate::VulnError;
use crate::osv::{Record, parse_record};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Largest record read (a file or a zip entry, uncompressed); bigger ones are skipped with
/// a warning. The largest osv.dev records are a few hundred KiB.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// How deep below `DIR` directories are searched.
pub const MAX_DEPTH: usize = 3;

#[derive(Debug)]
struct Source {
    path: PathBuf,
    zip: bool,
}

/// Where one record is: a source file, and the entry inside it when it is a zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Loc {
    source: u32,
    entry: u32,
}

/// An OSV database opened from a directory of osv.dev exports.
#[derive(Debug, Default)]
pub struct OsvDb {
    sources: Vec<Source>,
    /// ecosystem without release (`Debian`) -> package name key -> records.
    index: HashMap<String, HashMap<String, Vec<Loc>>>,
    records: usize,
    warnings: Vec<String>,
}

/// PEP 503 normalisation for PyPI names; other ecosystems compare names exactly.
pub(crate) fn name_key(ecosystem_base: &str, name: &str) -> String {
    if ecosystem_base == "PyPI" {
        let mut out = String::with_capacity(name.len());
        let mut sep = false;
        for c in name.chars() {
            if matches!(c, '-' | '_' | '.') {
                sep = true;
            } else {
                if sep && !out.is_empty() {
                    out.push('-');
                }
                sep = false;
                out.push(c.to_ascii_lowercase());
            }
        }
        out
    } else {
        name.to_owned()
    }
}

pub(crate) fn ecosystem_base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

impl OsvDb {
    /// Opens `dir`. Errors only when `dir` cannot be read at all; unreadable files and
    /// malformed records are skipped and counted in [`OsvDb::warnings`].
    pub fn open(dir: &Path) -> Result<OsvDb, VulnError> {
        let meta = std::fs::metadata(dir).map_err(|e| VulnError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut db = OsvDb::default();
        let mut seen = HashSet::new();
        if meta.is_file() {
            // A single export zip or record given directly.
            db.add_file(dir, &mut seen);
        } else {
            db.walk(dir, 0, &mut seen).map_err(|e| VulnError::Io {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(db)
    }

    /// Records skipped or partly skipped while opening, each naming the file (and zip entry)
    /// and the field.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many distinct records were indexed.
    pub fn records(&self) -> usize {
        self.records
    }

    fn walk(
        &mut self,
        dir: &Path,
        depth: usize,
        seen: &mut HashSet<String>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if depth < MAX_DEPTH
                    && let Err(e) = self.walk(&path, depth + 1, seen)
                {
                    self.warnings
                        .push(format!("{}: cannot read directory: {e}", path.display()));
                }
            } else {
                self.add_file(&path, seen);
            }
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path, seen: &mut HashSet<String>) {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => {
                let Ok(source) = u32::try_from(self.sources.len()) else {
                    return;
                };
                self.sources.push(Source {
                    path: path.to_path_buf(),
                    zip: false,
                });
                let label = path.display().to_string();
                match read_limited(File::open(path), &label) {
                    Ok(bytes) => self.add_record(&bytes, &label, Loc { source, entry: 0 }, seen),
                    Err(e) => self.warnings.push(e),
                }
            }
            Some("zip") => self.add_zip(path, seen),
            _ => {}
        }
    }

    fn add_zip(&mut self, path: &Path, seen: &mut HashSet<String>) {
        let label = path.display().to_string();
        let mut archive = match File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()))
        {
            Ok(a) => a,
            Err(e) => {
                self.warnings.push(format!(
                    "{label}: not a readable zip archive ({e}); skipped"
                ));
                return;
            }
        };
        let Ok(source) = u32::try_from(self.sources.len()) else {
            return;
        };
        self.sources.push(Source {
            path: path.to_path_buf(),
            zip: true,
        });
        for i in 0..archive.len() {
            let Ok(entry) = u32::try_from(i) else { break };
            let (name, bytes) = match archive.by_index(i) {
                Ok(f) => {
                    let entry_name = f
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|_| format!("entry {i}"));
                    if f.is_dir() || !entry_name.to_ascii_lowercase().ends_with(".json") {
                        continue;
                    }
                    let name = format!("{label}!{entry_name}");
                    let bytes = read_limited(Ok(f), &name);
                    (name, bytes)
                }
                Err(e) => {
                    self.warnings
                        .push(format!("{label}: entry {i}: cannot read ({e}); skipped"));
                    continue;
                }
            };
            match bytes {
                Ok(b) => self.add_record(&b, &name, Loc { source, entry }, seen),
                Err(e) => self.warnings.push(e),
            }
        }
    }

    fn add_record(&mut self, bytes: &[u8], label: &str, loc: Loc, seen: &mut HashSet<String>) {
        // Fast path: a well-formed record read into borrowed typed structs; anything it does
        // not accept is read again as a JSON tree, which names the field that is wrong.
        if let Ok(lite) = serde_json::from_slice::<Lite<'_>>(bytes)
            && lite.well_formed()
        {
            if !seen.insert(lite.id.to_string()) {
                return;
            }
            self.records += 1;
            for a in lite.affected.iter().flatten() {
                if let Some(p) = &a.package {
                    self.index_entry(&p.ecosystem, &p.name, loc);
                }
            }
            return;
        }
        let doc: Value = match serde_json::from_slice(bytes) {
            Ok(d) => d,
            Err(e) => {
                self.warnings
                    .push(format!("{label}: not JSON ({e}); record skipped"));
                return;
            }
        };
        let mut warnings = Vec::new();
        let record = match parse_record(&doc, &mut warnings) {
            Ok(r) => r,
            Err(e) => {
                self.warnings.push(format!("{label}: {e}; record skipped"));
                return;
            }
        };
        // The same record appears in several exports (`all.zip` and `<Ecosystem>/all.zip`,
        // multi-ecosystem records in each ecosystem's zip): index it once.
        if !seen.insert(record.id.clone()) {
            return;
        }
        for w in warnings {
            self.warnings
                .push(format!("{label} ({}): {w}; skipped", record.id));
        }
        self.records += 1;
        for a in &record.affected {
            self.index_entry(&a.ecosystem, &a.name, loc);
        }
    }

    fn index_entry(&mut self, ecosystem: &str, name: &str, loc: Loc) {
        let base = ecosystem_base(ecosystem);
        let locs = self
            .index
            .entry(base.to_owned())
            .or_default()
            .entry(name_key(base, name))
            .or_default();
        if locs.last() != Some(&loc) {
            locs.push(loc);
        }
    }

    /// Records that name `name` in ecosystem `base` (any release).
    pub(crate) fn lookup(&self, base: &str, name: &str) -> &[Loc] {
        self.index
            .get(base)
            .and_then(|m| m.get(&name_key(base, name)))
            .map_or(&[], Vec::as_slice)
    }

    /// A reader of indexed records for one matching run.
    pub(crate) fn loader(&self) -> Loader<'_> {
        Loader {
            db: self,
            zips: HashMap::new(),
            cache: HashMap::new(),
        }
    }
}

/// Reads indexed records, keeping zip archives open and records cached for one matching
/// run (packages built from one source package share their records).
pub(crate) struct Loader<'a> {
    db: &'a OsvDb,
    zips: HashMap<u32, zip::ZipArchive<File>>,
    cache: HashMap<Loc, Result<Rc<Record>, String>>,
}

impl<'a> Loader<'a> {
    /// [`OsvDb::lookup`] on the database this loader reads.
    pub(crate) fn lookup(&self, base: &str, name: &str) -> &'a [Loc] {
        self.db.lookup(base, name)
    }

    /// The record at `loc`; `Err` when it no longer reads (the files changed since opening).
    pub(crate) fn get(&mut self, loc: Loc) -> Result<Rc<Record>, String> {
        if let Some(r) = self.cache.get(&loc) {
            return r.clone();
        }
        let r = self.read(loc).map(Rc::new);
        self.cache.insert(loc, r.clone());
        r
    }

    fn read(&mut self, loc: Loc) -> Result<Record, String> {
        let src = self
            .db
            .sources
            .get(loc.source as usize)
            .ok_or_else(|| "record index out of range".to_owned())?;
        let label = src.path.display().to_string();
        let bytes = if src.zip {
            let archive = match self.zips.entry(loc.source) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(
                    File::open(&src.path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()))
                        .map_err(|e| format!("{label}: cannot reopen ({e})"))?,
                ),
            };
            let entry = archive
                .by_index(loc.entry as usize)
                .map_err(|e| format!("{label}: entry {}: {e}", loc.entry))?;
            read_limited(Ok(entry), &label)?
        } else {
            read_limited(File::open(&src.path), &label)?
        };
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{label}: {e}"))?;
        parse_record(&doc, &mut Vec::new()).map_err(|e| format!("{label}: {e}"))
    }
}

// The fast path's view of a record: exactly the shape `osv::parse_record` accepts without a
// warning (unknown fields ignored), borrowing strings from the input where it can.

// Fields only checked for their shape are never read.
#[allow(dead_code)]
#[derive(serde::Deserialize)]
struct Lite<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    aliases: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    severity: Option<Vec<LiteSeverity<'a>>>,
    #[serde(default, borrow)]
    affected: Option<Vec<LiteAffected<'a>>>,
}

#[derive(serde::Deserialize)]
struct LiteSeverity<'a> {
    #[serde(rename = "type", borrow)]
    _kind: Cow<'a, str>,
    #[serde(rename = "score", borrow)]
    _score: Cow<'a, str>,
}

#[allow(dead_code)]
#[derive(serde::Deserialize)]
struct LiteAffected<'a> {
    #[serde(default, borrow)]
    package: Option<LitePackage<'a>>,
    #[serde(default, borrow)]
    ranges: Option<Vec<LiteRange<'a>>>,
    #[serde(default, borrow)]
    versions: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    severity: Option<Vec<LiteSeverity<'a>>>,
}

#[derive(serde::Deserialize)]
struct LitePackage<'a> {
    #[serde(borrow)]
    ecosystem: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct LiteRange<'a> {
    #[serde(rename = "type")]
    kind: LiteRangeKind,
    #[serde(borrow)]
    events: Vec<LiteEvent<'a>>,
}

#[derive(serde::Deserialize, PartialEq, Eq)]
enum LiteRangeKind {
    #[serde(rename = "SEMVER")]
    SemVer,
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    #[serde(rename = "GIT")]
    Git,
}

/// An event object: exactly one known key with a string value (serde's externally tagged
/// enum is exactly that). The values are only checked to be strings.
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum LiteEvent<'a> {
    Introduced(#[serde(borrow)] Cow<'a, str>),
    Fixed(#[serde(borrow)] Cow<'a, str>),
    LastAffected(#[serde(borrow)] Cow<'a, str>),
    Limit(#[serde(borrow)] Cow<'a, str>),
}

impl Lite<'_> {
    /// What typing alone does not check: a non-empty id, an `introduced` event in every
    /// non-GIT range.
    fn well_formed(&self) -> bool {
        !self.id.is_empty()
            && self.affected.iter().flatten().all(|a| {
                a.ranges.iter().flatten().all(|r| {
                    r.kind == LiteRangeKind::Git
                        || r.events
                            .iter()
                            .any(|e| matches!(e, LiteEvent::Introduced(_)))
                })
            })
    }
}

fn read_limited<R: Read>(reader: std::io::Result<R>, label: &str) -> Result<Vec<u8>, String> {
    let reader = reader.map_err(|e| format!("{label}: cannot read ({e}); skipped"))?;
    let mut buf = Vec::new();
    reader
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{label}: cannot read ({e}); skipped"))?;
    if buf.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!(
            "{label}: larger than {MAX_RECORD_BYTES} bytes (MAX_RECORD_BYTES); skipped"
        ));
    }
    Ok(buf)
}
