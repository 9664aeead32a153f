//! `palisade bench`: kube-bench's CIS Kubernetes Benchmark YAML (`cfg/<benchmark>/*.yaml` and
//! `config.yaml`), read unchanged and evaluated without a shell over a live node or a node's
//! filesystem snapshot.
//!
//! Layers: [`raw`] (YAML with scalars as source text, as kube-bench's yaml.v2 decoding sees
//! them) -> [`model`] (controls/groups/checks/test items) and [`config`] (components, version
//! and target mappings, merged per benchmark) -> [`semantics`] (kube-bench's `flag`/`path`/`env`
//! lookups, compare ops, `bin_op`, exactly) -> [`node`] (process table from `/proc` or from
//! static pod manifests and the kubelet unit, file metadata, owner names from the node's
//! passwd/group) -> [`audit`] (the audit command forms the cfg files use, recognised and
//! evaluated natively, with evidence) -> [`run`] (component detection, `$var` substitution,
//! the PASS/FAIL/WARN/INFO rules and totals) -> [`output`] (kube-bench's text and JSON, and
//! Palisade's JSON with evidence). No I/O outside `node`, `config` loading and `run`.

pub mod audit;
pub mod config;
pub mod jsonpath;
pub mod model;
pub mod node;
pub mod output;
pub mod raw;
pub mod run;
pub mod semantics;

use std::path::PathBuf;

/// Errors that stop a run (a bad cfg tree, a bad benchmark name). Problems with one check
/// (unreadable file, missing component, unknown op) are per-check WARN/FAIL, never errors.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{file}:{line}: malformed YAML: {message}")]
    Yaml {
        file: String,
        line: u32,
        message: String,
    },
    #[error("{file}:{line}: field `{field}`: {message}")]
    Cfg {
        file: String,
        line: u32,
        field: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}

impl BenchError {
    pub(crate) fn io(path: &std::path::Path, err: &std::io::Error) -> BenchError {
        BenchError::Io {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }
}
