//! Container image and root filesystem inventory. An input (OCI layout directory or archive,
//! `docker save` archive, single layer tar, root filesystem directory) is read as one merged
//! view: layers applied in order with whiteouts, each layer streamed once and never extracted,
//! only the bytes inventory needs kept (bounded), links resolved inside the image root. OS
//! package databases are parsed here; every other file goes to `palisade-langpkg`.

use std::path::{Path, PathBuf};

use palisade_core::inventory::Inventory;

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
    let _ = options;
    Err(ImageError::Unrecognised {
        path: path.to_path_buf(),
        reason: "not implemented yet".to_string(),
    })
}
