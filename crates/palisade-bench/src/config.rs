//! kube-bench's `cfg/config.yaml` merged with `cfg/<benchmark>/config.yaml` (viper
//! `MergeInConfig`: mappings merged key by key, anything else replaced), the version and
//! target mappings, and each node type's components.

use crate::BenchError;
use crate::raw::{self, Raw};
use std::path::PathBuf;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_cfg.rs"));
}

/// Where the cfg tree is: a directory (`--config-dir`, a user's own tree works unchanged) or
/// the copy compiled into the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfgTree {
    Dir(PathBuf),
    Embedded,
}

impl CfgTree {
    /// The embedded tree, when this build has one.
    pub fn embedded() -> Option<CfgTree> {
        (!embedded::FILES.is_empty()).then_some(CfgTree::Embedded)
    }

    /// A file's text, None when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<String>, BenchError> {
        match self {
            CfgTree::Dir(dir) => {
                let path = dir.join(rel);
                match std::fs::read_to_string(&path) {
                    Ok(t) => Ok(Some(t)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(BenchError::io(&path, &e)),
                }
            }
            CfgTree::Embedded => Ok(embedded::FILES
                .iter()
                .find(|(p, _)| *p == rel)
                .map(|(_, t)| (*t).to_string())),
        }
    }

    /// Whether `name` is a benchmark folder of the tree.
    pub fn has_benchmark(&self, name: &str) -> bool {
        match self {
            CfgTree::Dir(dir) => !name.contains(['/', '\\']) && dir.join(name).is_dir(),
            CfgTree::Embedded => {
                let prefix = format!("{name}/");
                embedded::FILES.iter().any(|(p, _)| p.starts_with(&prefix))
            }
        }
    }

    /// How a file of the tree is named in messages.
    pub fn display(&self, rel: &str) -> String {
        match self {
            CfgTree::Dir(dir) => dir.join(rel).display().to_string(),
            CfgTree::Embedded => format!("<embedded kube-bench cfg>/{rel}"),
        }
    }
}

/// The node types kube-bench knows, in its run order, with their controls file names.
pub const NODE_TYPES: [(&str, &str); 6] = [
    ("master", "master.yaml"),
    ("controlplane", "controlplane.yaml"),
    ("etcd", "etcd.yaml"),
    ("node", "node.yaml"),
    ("policies", "policies.yaml"),
    ("managedservices", "managedservices.yaml"),
];

/// The controls file of a node type (`worker` is kube-bench's alias of `node`).
pub fn controls_file(node_type: &str) -> Option<&'static str> {
    let t = if node_type == "worker" {
        "node"
    } else {
        node_type
    };
    NODE_TYPES.iter().find(|(n, _)| *n == t).map(|(_, f)| *f)
}

/// A component of a node type (`apiserver`, `kubelet`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Component {
    pub name: String,
    pub optional: bool,
    pub bins: Vec<String>,
    /// (candidates, default) per file kind, in kube-bench's substitution order.
    pub files: Vec<(FileKind, Vec<String>, Option<String>)>,
}

/// kube-bench's `TypeMap`: the file variables and their config keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Conf,
    Svc,
    Kubeconfig,
    Cafile,
    Datadir,
}

impl FileKind {
    pub const ALL: [FileKind; 5] = [
        FileKind::Conf,
        FileKind::Svc,
        FileKind::Kubeconfig,
        FileKind::Cafile,
        FileKind::Datadir,
    ];

    /// Variable suffix (`$apiserverconf`).
    pub fn suffix(self) -> &'static str {
        match self {
            FileKind::Conf => "conf",
            FileKind::Svc => "svc",
            FileKind::Kubeconfig => "kubeconfig",
            FileKind::Cafile => "cafile",
            FileKind::Datadir => "datadir",
        }
    }

    fn keys(self) -> (&'static str, &'static str) {
        match self {
            FileKind::Conf => ("confs", "defaultconf"),
            FileKind::Svc => ("svc", "defaultsvc"),
            FileKind::Kubeconfig => ("kubeconfig", "defaultkubeconfig"),
            FileKind::Cafile => ("cafile", "defaultcafile"),
            FileKind::Datadir => ("datadirs", "defaultdatadir"),
        }
    }
}

/// The merged configuration of one benchmark.
#[derive(Debug, Clone)]
pub struct Config {
    raw: Raw,
}

impl Config {
    /// Reads `config.yaml` and, when `benchmark` is given and has one,
    /// `<benchmark>/config.yaml` merged over it.
    pub fn load(tree: &CfgTree, benchmark: Option<&str>) -> Result<Config, BenchError> {
        let main = read_yaml(tree, "config.yaml")?.ok_or_else(|| {
            BenchError::Usage(format!(
                "{}: not found (is --config-dir a kube-bench cfg/ folder?)",
                tree.display("config.yaml")
            ))
        })?;
        let raw = match benchmark {
            Some(b) => match read_yaml(tree, &format!("{b}/config.yaml"))? {
                Some(over) => merge(main, over),
                None => main,
            },
            None => main,
        };
        Ok(Config { raw })
    }

    /// `version_mapping` in file order.
    pub fn version_mapping(&self) -> Vec<(String, String)> {
        string_map(self.raw.get("version_mapping"))
    }

    /// Targets allowed for a benchmark (`target_mapping`), None when the benchmark has none.
    pub fn targets(&self, benchmark: &str) -> Option<Vec<String>> {
        self.raw
            .get("target_mapping")
            .and_then(|m| m.get(benchmark))
            .map(string_slice)
    }

    /// kube-bench's `mapToBenchmarkVersion`: the mapping of `version` (`1.33`), decrementing
    /// the minor until one is found.
    pub fn benchmark_for(&self, version: &str) -> Option<String> {
        let map = self.version_mapping();
        let mut kv = version.to_string();
        loop {
            if let Some((_, b)) = map.iter().find(|(k, _)| *k == kv) {
                return Some(b.clone());
            }
            kv = decrement_version(&kv)?;
        }
    }

    /// The components of a node type, in `components` order (those without a section are
    /// skipped, as viper's `Sub` returns nil for them).
    pub fn components(&self, node_type: &str) -> Option<Vec<Component>> {
        let section = self.raw.get(node_type)?;
        let names = section
            .get("components")
            .map(string_slice)
            .unwrap_or_default();
        let mut out = Vec::new();
        for name in names {
            let Some(c) = section.get(&name) else {
                continue;
            };
            if !matches!(c, Raw::Map(..)) {
                continue;
            }
            let files = FileKind::ALL
                .iter()
                .map(|&k| {
                    let (main, default) = k.keys();
                    let cands = c.get(main).map(string_slice).unwrap_or_default();
                    let def = match c.get(default) {
                        Some(Raw::Str(s, _)) => Some(s.clone()),
                        Some(Raw::Null(_)) => Some(String::new()),
                        _ => None,
                    };
                    (k, cands, def)
                })
                .collect();
            out.push(Component {
                optional: matches!(c.get("optional"), Some(Raw::Str(s, _)) if crate::model::parse_bool(s) == Some(true)),
                bins: c.get("bins").map(string_slice).unwrap_or_default(),
                files,
                name,
            });
        }
        Some(out)
    }
}

fn decrement_version(v: &str) -> Option<String> {
    let mut parts: Vec<String> = v.split('.').map(str::to_string).collect();
    let minor: i64 = parts.get(1)?.parse().ok()?;
    if minor <= 1 {
        return None;
    }
    *parts.get_mut(1)? = (minor - 1).to_string();
    Some(parts.join("."))
}

fn read_yaml(tree: &CfgTree, rel: &str) -> Result<Option<Raw>, BenchError> {
    match tree.read(rel)? {
        Some(text) => raw::parse(&tree.display(rel), &text).map(Some),
        None => Ok(None),
    }
}

/// viper's cast to []string: a sequence's scalars, or a scalar split on whitespace.
fn string_slice(r: &Raw) -> Vec<String> {
    match r {
        Raw::Seq(items, _) => items
            .iter()
            .filter_map(|i| match i {
                Raw::Str(s, _) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Raw::Str(s, _) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn string_map(r: Option<&Raw>) -> Vec<(String, String)> {
    match r {
        Some(Raw::Map(entries, _)) => entries
            .iter()
            .filter_map(|(k, v)| match v {
                Raw::Str(s, _) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Deep merge: mappings key by key, the overlay's other values replace the base's.
fn merge(base: Raw, overlay: Raw) -> Raw {
    match (base, overlay) {
        (Raw::Map(mut entries, line), Raw::Map(over, _)) => {
            for (k, v) in over {
                match entries.iter().position(|(key, _)| *key == k) {
                    Some(i) => {
                        if let Some(slot) = entries.get_mut(i) {
                            let old = std::mem::replace(&mut slot.1, Raw::Null(0));
                            slot.1 = merge(old, v);
                        }
                    }
                    None => entries.push((k, v)),
                }
            }
            Raw::Map(entries, line)
        }
        // An empty file (or an empty key) overrides nothing, as viper merges it.
        (base, Raw::Null(_)) => base,
        (_, overlay) => overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrement_and_map() {
        assert_eq!(decrement_version("1.35"), Some("1.34".into()));
        assert_eq!(decrement_version("1.1"), None);
        assert_eq!(decrement_version("x"), None);
    }
}
