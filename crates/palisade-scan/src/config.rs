//! Finding and loading the scan configuration (`.palisade.yaml`).

use crate::ScanError;
use palisade_rules::config::Config;
use std::path::{Path, PathBuf};

/// `.palisade.yaml` in `dir` or the nearest directory above it, stopping at the repository's
/// root (the first directory with a `.git`), as ruff and kube-linter look for theirs; its
/// exception paths are then relative to where it was found.
pub fn discover_config(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let candidate = d.join(".palisade.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if d.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Reads and validates one configuration file.
pub fn load_config(path: &Path, limits: &palisade_yaml::Limits) -> Result<Config, ScanError> {
    let err = |message: String| ScanError::Config {
        path: path.to_owned(),
        message,
    };
    // The configuration is read as itself: never rendered, whatever --render says about the
    // manifests.
    let limits = palisade_yaml::Limits {
        render: None,
        ..limits.clone()
    };
    let loaded = palisade_yaml::load_paths(&[path], &limits);
    if let Some(e) = loaded.errors.first() {
        return Err(err(e.to_string()));
    }
    let Some(doc) = loaded.documents.first() else {
        return Err(err(format!(
            "no configuration found; it must start with `apiVersion: {}` and `kind: Config`",
            palisade_rules::config::API_VERSION
        )));
    };
    if loaded.documents.len() > 1 {
        return Err(err("expected one document".to_owned()));
    }
    Config::from_document(doc).map_err(|errors| ScanError::InvalidConfig {
        list: errors
            .iter()
            .map(|e| format!("  {e}"))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}
