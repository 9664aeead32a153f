//! Container image and root filesystem inventory. An input (OCI layout directory or archive,
//! `docker save` archive, single layer tar, root filesystem directory) is read as one merged
//! view: layers applied in order with whiteouts, each layer streamed once and never extracted,
//! only the bytes inventory needs kept (bounded), links resolved inside the image root. OS
//! package databases are parsed here; every other file goes to `palisade-langpkg`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use palisade_core::inventory::Inventory;

mod apk;
mod bdb;
mod catalog;
mod dpkg;
mod osrelease;
mod purl;
mod rootfs;
mod rpm;
mod source;
mod tree;
mod walk;

use source::Plan;
use walk::Walker;

/// A package database field that is empty or blank is no field: a package without a name or
/// version cannot be identified or matched (found by fuzzing).
fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

/// Limits applied while reading an input. Every limit, when hit, becomes a note naming the layer
/// and entry (the rest of the input is still read) or, for limits on the whole input, an error
/// naming the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Largest single file whose bytes are kept in memory for parsing (package databases,
    /// manifests). Larger ones are skipped with a note. Binaries are streamed and not bounded.
    pub max_entry_bytes: u64,
    /// Total bytes kept in memory across the whole input.
    pub max_kept_bytes: u64,
    /// Largest uncompressed size of one layer.
    pub max_layer_bytes: u64,
    /// Largest ratio of uncompressed to compressed bytes in one layer (checked once the layer has
    /// produced more than `ratio_floor_bytes`), against decompression bombs.
    pub max_ratio: u64,
    /// Uncompressed bytes a layer may produce before `max_ratio` is checked.
    pub ratio_floor_bytes: u64,
    /// Entries in one layer.
    pub max_entries: u64,
    /// Links followed when resolving one path.
    pub max_link_depth: u32,
    /// Hash every layer blob and note one whose bytes do not match the digest the manifest
    /// names. Off by default: in a local archive or layout the manifest and its blobs come
    /// from the same file, so whoever could change a layer could change its digest too; the
    /// check proves nothing against tampering (Trivy and Syft do not make it either) and was
    /// most of the CPU time of reading an uncompressed archive. Turn it on to catch accidental
    /// corruption. Layers are named by the config's diff IDs either way; they are hashed only
    /// when the config does not list them.
    pub verify_digests: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_entry_bytes: 256 << 20,
            max_kept_bytes: 1 << 30,
            max_layer_bytes: 64 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 256 << 20,
            max_entries: 4_000_000,
            max_link_depth: 40,
            verify_digests: false,
        }
    }
}

/// The input cannot be read at all. Problems inside an input that still reads (a corrupt layer,
/// a skipped entry) are notes in the inventory instead.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an image, layer tar or root filesystem: {reason}")]
    Unrecognised { path: PathBuf, reason: String },
    #[error("{path}: {document}: {message}")]
    Manifest {
        path: PathBuf,
        document: String,
        message: String,
    },
    #[error("{path}: {limit} exceeded ({message}); raise Options::{limit} to read it")]
    Limit {
        path: PathBuf,
        limit: &'static str,
        message: String,
    },
}

/// Inventories the image, layer tar or root filesystem at `path`.
pub fn inventory(path: &Path, options: &Options) -> Result<Inventory, ImageError> {
    let plan = source::plan(path)?;
    let mut walker = Walker::new(options);
    let mut digests: Vec<Option<String>> = Vec::new();
    let mut inv = Inventory {
        source: path.display().to_string(),
        ..Inventory::default()
    };
    match plan {
        Plan::Image {
            container,
            image,
            layers,
            notes,
        } => {
            inv.image = image;
            walker.notes.extend(notes);
            for (i, layer) in layers.iter().enumerate() {
                walker.begin_layer(Some(layer.name.clone()));
                let verify = layer.verify.as_deref().filter(|_| options.verify_digests);
                // With verify_digests the uncompressed content is also checked against the
                // diff ID the config names (a legacy `docker save` has no other digest).
                let check_diff = options.verify_digests && layer.digest.is_some();
                let want_diff = layer.digest.is_none() || check_diff;
                // Nothing to hash: an uncompressed layer is walked in place, seeking over
                // the data of entries nobody needs.
                if verify.is_none()
                    && !want_diff
                    && let Some(range) = container.range(&layer.member)
                    && walker.walk_tar_in_place(i, &range).is_some()
                {
                    walker.end_layer();
                    digests.push(layer.digest.clone());
                    continue;
                }
                let digest = match container.open(&layer.member) {
                    Ok(raw) => {
                        let found = read_layer(&mut walker, i, raw, verify, want_diff);
                        if check_diff
                            && let (Some(found), Some(named)) = (&found, &layer.digest)
                            && found != named
                        {
                            walker.note(
                                None,
                                format!(
                                    "layer content's diff ID is {found}, not the {named} the image config names"
                                ),
                            );
                        }
                        found
                    }
                    Err(e) => {
                        walker.note(
                            Some(&layer.member),
                            format!("layer blob cannot be opened, layer not read: {e}"),
                        );
                        None
                    }
                };
                walker.end_layer();
                digests.push(layer.digest.clone().or(digest));
            }
        }
        Plan::Layer(file, notes) => {
            walker.notes.extend(notes);
            let raw = std::fs::File::open(&file).map_err(|e| ImageError::Io {
                path: file.clone(),
                source: e,
            })?;
            walker.begin_layer(Some(file.display().to_string()));
            let digest = read_layer(&mut walker, 0, Box::new(raw), None, true);
            // A compressed `docker save` or OCI archive cannot be indexed in place and reads
            // as one layer holding image files, which would silently list nothing.
            let (oci_layout, manifest, blobs) = walker.archive_markers;
            if oci_layout || (manifest && blobs) {
                walker.note(
                    None,
                    "this compressed file holds an image archive (docker save or OCI), not a layer; decompress it (gunzip/zstd -d) and pass the .tar".to_string(),
                );
            }
            walker.end_layer();
            digests.push(digest);
        }
        Plan::RootFs(dir, notes) => {
            walker.notes.extend(notes);
            walker.begin_layer(None);
            rootfs::walk(&mut walker, &dir)?;
            walker.end_layer();
            digests.push(None);
        }
    }
    catalog::catalog(walker, &digests, &mut inv);
    Ok(inv)
}

/// Streams one layer into the walker. Returns the layer's diff ID (digest of the uncompressed
/// tar) when the whole layer was read and `want_diff` is set, and notes a stored-bytes digest
/// that differs from `verify`.
fn read_layer(
    walker: &mut Walker<'_>,
    index: usize,
    raw: Box<dyn std::io::Read + Send>,
    verify: Option<&str>,
    want_diff: bool,
) -> Option<String> {
    use sha2::Digest;
    // The stored bytes are hashed only when they are checked or are the diff ID (plain tar).
    let hash_stored = verify.is_some() || want_diff;
    let stored = std::sync::Arc::new(std::sync::Mutex::new((
        hash_stored.then(sha2::Sha256::new),
        0u64,
    )));
    let diff = want_diff.then(|| Rc::new(RefCell::new(sha2::Sha256::new())));
    let (mut stream, compressed) =
        match walk::layer_stream(raw, walker.options, stored.clone(), diff.clone()) {
            Ok(s) => s,
            Err(e) => {
                walker.note(None, format!("layer unreadable: {e}"));
                return None;
            }
        };
    if !walker.walk_tar(index, &mut stream) {
        return None;
    }
    if !hash_stored {
        return None;
    }
    // The rest after the tar's end marker (padding, gzip trailer) completes the digests.
    if let Err(e) = std::io::copy(&mut stream, &mut std::io::sink()) {
        walker.note(None, format!("layer unreadable after its last entry: {e}"));
        return None;
    }
    drop(stream);
    let (hasher, _) = std::sync::Arc::try_unwrap(stored).ok()?.into_inner().ok()?;
    let stored_digest = format!("sha256:{:x}", hasher?.finalize());
    if let Some(exp) = verify
        && exp.starts_with("sha256:")
        && exp != stored_digest
    {
        walker.note(
            None,
            format!("layer content hashes to {stored_digest}, not the {exp} the image names"),
        );
    }
    if !want_diff {
        return None;
    }
    if !compressed {
        return Some(stored_digest);
    }
    let d = Rc::try_unwrap(diff?).ok()?.into_inner();
    Some(format!("sha256:{:x}", d.finalize()))
}
