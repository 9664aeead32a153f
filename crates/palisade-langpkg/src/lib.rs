//! Readers of language package metadata inside single files: pure functions over bytes, no
//! filesystem or archive walking (that is `palisade-image`'s job).
//!
//! [`interest`] decides cheaply whether a file is worth reading; [`parse_file`] reads small
//! manifests given whole (Python core metadata, npm `package.json`, Java archives);
//! [`BinaryScanner`] reads executables streamed in chunks with bounded memory (Go build info,
//! the Kubernetes release version of component binaries, cargo-auditable data).

mod cargo;
mod golang;
mod java;
mod kube;
mod npm;
pub mod purl;
mod python;
mod scanner;
pub mod seek;

use palisade_core::inventory::Package;

pub use scanner::BinaryScanner;

/// A problem with one file's package metadata; always names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LangError {
    /// The file's content is not what its name says, or is corrupt or truncated.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// [`parse_file`] was given a file [`interest`] does not read whole.
    #[error("{path}: not a package manifest this reader knows")]
    NotAManifest { path: String },
}

/// What a caller should do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Nothing here for this crate.
    Skip,
    /// Read the whole file (it is expected to be at most `max_bytes`; a larger one is better
    /// noted as skipped than read) and call [`parse_file`].
    Whole { max_bytes: u64 },
    /// Feed the file in order through a [`BinaryScanner`].
    Stream,
}

/// Manifests (METADATA, PKG-INFO, package.json) are a few KiB; 1 MiB leaves room.
const MANIFEST_MAX: u64 = 1024 * 1024;
/// Java archives are read whole (zip's directory is at the end).
const ARCHIVE_MAX: u64 = 64 * 1024 * 1024;
/// Smaller executables are scripts or tiny tools; Go and Rust binaries are far larger.
const BINARY_MIN: u64 = 16 * 1024;

#[derive(Clone, Copy)]
enum Manifest {
    Python,
    Npm,
    Java,
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// `*.jar`, `*.war` or `*.ear`, in any case; no allocation.
fn is_java_archive(path: &str) -> bool {
    ends_with_ignore_case(path, ".jar")
        || ends_with_ignore_case(path, ".war")
        || ends_with_ignore_case(path, ".ear")
}

/// Which manifest reader a path belongs to; no allocation (hot path of image inventory).
fn manifest_kind(path: &str) -> Option<Manifest> {
    if path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with("EGG-INFO/PKG-INFO")
        || path.ends_with(".egg-info")
    {
        return Some(Manifest::Python);
    }
    if let Some(dir) = path.strip_suffix("/package.json") {
        // Any depth under a node_modules directory (as the contract says); manifests without
        // name and version (module-type markers, fixtures) yield nothing in `parse_file`.
        let under_node_modules = dir.starts_with("node_modules/") || dir.contains("/node_modules/");
        return under_node_modules.then_some(Manifest::Npm);
    }
    if is_java_archive(path) {
        return Some(Manifest::Java);
    }
    None
}

/// path: inside the image, no leading '/'; size in bytes; executable: any x bit set.
pub fn interest(path: &str, size: u64, executable: bool) -> Interest {
    match manifest_kind(path) {
        Some(Manifest::Java) => Interest::Whole {
            max_bytes: ARCHIVE_MAX,
        },
        Some(Manifest::Python | Manifest::Npm) => Interest::Whole {
            max_bytes: MANIFEST_MAX,
        },
        None if executable && size >= BINARY_MIN => Interest::Stream,
        None => Interest::Skip,
    }
}

/// For [`Interest::Whole`]: the file's bytes. Packages found (purls filled, `path` set, `layer`
/// left `None`).
pub fn parse_file(path: &str, bytes: &[u8]) -> Result<Vec<Package>, LangError> {
    let kind = manifest_kind(path).ok_or_else(|| LangError::NotAManifest {
        path: path.to_string(),
    })?;
    let parsed = match kind {
        Manifest::Python => python::packages(path, bytes),
        Manifest::Npm => npm::packages(path, bytes),
        Manifest::Java => java::packages(path, bytes),
    };
    parsed.map_err(|message| LangError::Invalid {
        path: path.to_string(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_by_path_size_and_mode() {
        let whole = Interest::Whole {
            max_bytes: MANIFEST_MAX,
        };
        assert_eq!(
            interest(
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                900,
                false
            ),
            whole
        );
        assert_eq!(
            interest(
                "usr/lib/python3.11/site-packages/foo.egg-info/PKG-INFO",
                9,
                false
            ),
            whole
        );
        assert_eq!(
            interest(
                "usr/lib/python3/site-packages/kitchen-1.2.6-py2.7.egg/EGG-INFO/PKG-INFO",
                9,
                false
            ),
            whole
        );
        assert_eq!(
            interest("app/node_modules/lodash/package.json", 9, false),
            whole
        );
        assert_eq!(
            interest("app/node_modules/@babel/core/package.json", 9, false),
            whole
        );
        assert_eq!(
            interest("app/node_modules/a/node_modules/b/package.json", 9, false),
            whole
        );
        // Any depth below node_modules; parse_file skips manifests without name/version.
        assert_eq!(
            interest("app/node_modules/lodash/fp/package.json", 9, false),
            whole
        );
        assert_eq!(
            interest("node_modules/lodash/package.json", 9, false),
            whole
        );
        assert_eq!(interest("app/package.json", 9, false), Interest::Skip);
        assert_eq!(
            interest("app/node_modules/package.json", 9, false),
            Interest::Skip
        );
        assert_eq!(
            interest("app/my_node_modules/x/package.json", 9, false),
            Interest::Skip
        );
        assert_eq!(
            interest("opt/app/lib/Spring.JAR", 9, false),
            Interest::Whole {
                max_bytes: ARCHIVE_MAX
            }
        );
        assert_eq!(
            interest("usr/bin/kubectl", 50_000_000, true),
            Interest::Stream
        );
        assert_eq!(
            interest("usr/bin/kubectl", 50_000_000, false),
            Interest::Skip
        );
        assert_eq!(interest("usr/bin/tiny.sh", 300, true), Interest::Skip);
        assert_eq!(interest("etc/passwd", 3000, false), Interest::Skip);
    }

    #[test]
    fn parse_file_refuses_unknown_paths() {
        assert_eq!(
            parse_file("etc/passwd", b"root:x:0:0"),
            Err(LangError::NotAManifest {
                path: "etc/passwd".to_string()
            })
        );
    }
}
