//! Readers of language package metadata inside single files: pure functions over bytes, no
//! filesystem or archive walking (that is `palisade-image`'s job).
//!
//! [`interest`] decides cheaply whether a file is worth reading; [`parse_file`] reads small
//! manifests given whole; [`BinaryScanner`] reads executables streamed in chunks with bounded
//! memory.

use palisade_core::inventory::Package;

/// A problem with one file's package metadata; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum LangError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// What a caller should do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Nothing here for this crate.
    Skip,
    /// Read the whole file (at most `max_bytes`) and call [`parse_file`].
    Whole { max_bytes: u64 },
    /// Feed the file in order through a [`BinaryScanner`].
    Stream,
}

/// path: inside the image, no leading '/'; size in bytes; executable: any x bit set.
pub fn interest(path: &str, size: u64, executable: bool) -> Interest {
    let _ = (path, size, executable);
    Interest::Skip
}

/// For [`Interest::Whole`]: the file's bytes. Packages found (purls filled, `path` set, `layer`
/// left `None`).
pub fn parse_file(path: &str, bytes: &[u8]) -> Result<Vec<Package>, LangError> {
    let _ = (path, bytes);
    Ok(Vec::new())
}

/// For [`Interest::Stream`] (binaries: Go buildinfo, cargo-auditable, Kubernetes gitVersion):
/// fed in chunks in file order, memory bounded regardless of file size.
#[derive(Debug)]
pub struct BinaryScanner {
    path: String,
}

impl BinaryScanner {
    pub fn new(path: &str, size: u64) -> Self {
        let _ = size;
        BinaryScanner {
            path: path.to_string(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let _ = chunk;
    }

    pub fn finish(self) -> Result<Vec<Package>, LangError> {
        let _ = self.path;
        Ok(Vec::new())
    }
}
