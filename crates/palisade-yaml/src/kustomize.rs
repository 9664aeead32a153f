//! Kustomize trees and Helm charts: a kustomization file, the patch files it lists, and a
//! chart's templates, `Chart.yaml` and values are not Kubernetes objects. Scanned as objects, a strategic-merge patch gives findings about fields it never
//! meant to set (a partial Deployment has no resources, no securityContext), and a JSON 6902
//! patch (a list of `{op, path, value}`) was an input error that failed every scan of the tree.
//! Both are reported as notes instead, with the command that renders the real objects.
//!
//! Which files are patches is read from the kustomizations themselves (`patchesStrategicMerge`,
//! `patchesJson6902`, `patches` entries with a `path`), looked up in the directory of every
//! scanned file and its parents, so a patch named on its own is recognized too. A JSON patch that no
//! kustomization lists is still recognized by its shape (see [`is_json_patch`]). A chart is a
//! directory with a `Chart.yaml` above the file; its `crds/` are plain manifests and scanned.

use crate::render::shown;
use crate::{Limits, Loaded, Sink};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// File names kustomize reads as the kustomization of a directory, in its order.
pub(crate) const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// JSON Patch (RFC 6902) operations.
const JSON_PATCH_OPS: [&str; 6] = ["add", "remove", "replace", "move", "copy", "test"];

/// What a file is to the kustomizations around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// A kustomization file; the directory to render.
    Kustomization { dir: String },
    /// A patch listed by `by` (the kustomization's display path) under `field`.
    Patch {
        by: String,
        field: &'static str,
        dir: String,
    },
    /// A file of the Helm chart in `chart` that is not a plain manifest: a template under
    /// `templates/` (Go template text), `Chart.yaml`, or values.
    Helm { chart: String, what: HelmFile },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HelmFile {
    Template,
    ChartMetadata,
    Values,
}

impl Role {
    /// The note's kind and message.
    pub(crate) fn note(&self) -> (&'static str, String) {
        match self {
            Role::Kustomization { dir } => (
                "kustomization",
                format!(
                    "Kustomize kustomization, not a Kubernetes object; the objects it builds are \
                     scanned by rendering them: `palisade scan --render {dir}` (runs `kubectl \
                     kustomize`) or `kubectl kustomize {dir} | palisade scan -`"
                ),
            ),
            Role::Helm { chart, what } => {
                let what = match what {
                    HelmFile::Template => "template (Go template text, not YAML until rendered)",
                    HelmFile::ChartMetadata => "metadata (Chart.yaml)",
                    HelmFile::Values => "values file",
                };
                (
                    "helm-chart",
                    format!(
                        "Helm chart {what}, not a Kubernetes object; scan the rendered chart: \
                         `palisade scan --render {chart}` (runs `helm template {chart} \
                         --include-crds`) or `helm template RELEASE {chart} | palisade scan -` \
                         (with -f VALUES for the values you deploy)"
                    ),
                )
            }
            Role::Patch { by, field, dir } => (
                "kustomize-patch",
                format!(
                    "Kustomize patch listed in `{field}` of {by}: a partial object, not scanned on \
                     its own; scan the patched result with `palisade scan --render {dir}` or \
                     `kubectl kustomize {dir} | palisade scan -`"
                ),
            ),
        }
    }
}

/// The roles of the files in `files` (keyed by their index there), read from every
/// kustomization file in their directories. Unreadable or malformed kustomizations give no
/// roles here: they are scanned (and reported) like any other file.
pub(crate) fn roles(files: &[PathBuf], limits: &Limits) -> HashMap<usize, Role> {
    let mut out = HashMap::new();
    // Every directory of a scanned file and its ancestors (as given: a relative path stops
    // at the current directory): a kustomization may list patches in subdirectories.
    let dirs: BTreeSet<&Path> = files
        .iter()
        .filter_map(|f| f.parent())
        .flat_map(Path::ancestors)
        .collect();
    // Helm charts: the nearest directory above a file with a Chart.yaml is its chart.
    let charts: BTreeSet<&Path> = dirs
        .iter()
        .copied()
        .filter(|d| {
            let base = if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            };
            base.join("Chart.yaml").is_file()
        })
        .collect();
    if !charts.is_empty() {
        for (i, f) in files.iter().enumerate() {
            if let Some(role) = helm_role(f, &charts) {
                out.insert(i, role);
            }
        }
    }
    let mut kustomizations = Vec::new();
    for dir in dirs {
        let base = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        // kustomize itself refuses a directory with several; the first is the one it names.
        if let Some(k) = KUSTOMIZATION_NAMES
            .iter()
            .map(|n| base.join(n))
            .find(|p| p.is_file())
        {
            kustomizations.push((dir, k));
        }
    }
    if kustomizations.is_empty() {
        return out;
    }
    let canonical: HashMap<PathBuf, usize> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((std::fs::canonicalize(f).ok()?, i)))
        .collect();
    for (dir, kfile) in kustomizations {
        let Ok(kcanon) = std::fs::canonicalize(&kfile) else {
            continue;
        };
        let shown_dir = shown(dir);
        if let Some(&i) = canonical.get(&kcanon) {
            out.insert(
                i,
                Role::Kustomization {
                    dir: shown_dir.clone(),
                },
            );
        }
        let loaded = crate::load_mapping_file(&kfile, limits);
        let Some(doc) = loaded.documents.first() else {
            continue;
        };
        let by = kfile.display().to_string();
        for (field, rel) in patch_paths(&doc.value) {
            let Ok(target) =
                std::fs::canonicalize(kcanon.parent().unwrap_or(Path::new("/")).join(rel))
            else {
                continue;
            };
            if let Some(&i) = canonical.get(&target) {
                out.entry(i).or_insert_with(|| Role::Patch {
                    by: by.clone(),
                    field,
                    dir: shown_dir.clone(),
                });
            }
        }
    }
    out
}

/// The role of `file` in the nearest chart above it: everything but the `crds/` directory
/// (plain manifests Helm applies as they are) and files of a nested chart's own `crds/`.
fn helm_role(file: &Path, charts: &BTreeSet<&Path>) -> Option<Role> {
    let chart = file.ancestors().skip(1).find(|d| charts.contains(d))?;
    let rel = file.strip_prefix(chart).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let what = match first {
        "crds" => return None,
        "templates" => HelmFile::Template,
        "Chart.yaml" | "Chart.lock" => HelmFile::ChartMetadata,
        _ => HelmFile::Values,
    };
    Some(Role::Helm {
        chart: shown(chart),
        what,
    })
}

/// The patch files a kustomization names: (field, path relative to its directory).
/// Inline patches (a YAML string with a newline, or a `patch:` member) name no file.
fn patch_paths(k: &Value) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    let items = |key: &str| {
        k.get(key)
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default()
    };
    for item in items("patchesStrategicMerge") {
        if let Some(s) = item.as_str()
            && !s.contains('\n')
        {
            out.push(("patchesStrategicMerge", s.trim()));
        }
    }
    for field in ["patchesJson6902", "patches"] {
        for item in items(field) {
            if let Some(p) = item.get("path").and_then(Value::as_str) {
                let field = if field == "patches" {
                    "patches"
                } else {
                    "patchesJson6902"
                };
                out.push((field, p.trim()));
            }
        }
    }
    out
}

/// A JSON 6902 patch document: a non-empty sequence of mappings, each with a known `op` and
/// a `path` string (the shape kustomize's `patchesJson6902` files have).
pub(crate) fn is_json_patch(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|ops| !ops.is_empty() && ops.iter().all(is_json_patch_op))
}

/// One operation of a JSON patch: `op` one of RFC 6902's, `path` a string. (The loader sees
/// the items of a root sequence one at a time, see `build::Root::Sequence`.)
pub(crate) fn is_json_patch_op(op: &Value) -> bool {
    op.get("op")
        .and_then(Value::as_str)
        .is_some_and(|o| JSON_PATCH_OPS.contains(&o))
        && op.get("path").is_some_and(Value::is_string)
}

/// The result of a file that is reported by its role instead of being loaded.
pub(crate) fn noted(name: &str, role: &Role) -> Loaded {
    let mut out = Loaded {
        files: 1,
        ..Loaded::default()
    };
    let mut sink = Sink {
        file: name.into(),
        out: &mut out,
    };
    let (kind, message) = role.note();
    sink.note(crate::At::default(), kind, message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_shape() {
        assert!(is_json_patch(
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "remove", "path": "/a"}])
        ));
        assert!(!is_json_patch(&json!([])));
        assert!(!is_json_patch(&json!([{"op": "frobnicate", "path": "/a"}])));
        assert!(!is_json_patch(&json!([{"op": "add"}])));
        assert!(!is_json_patch(&json!(["a", "b"])));
        assert!(!is_json_patch(&json!({"op": "add", "path": "/a"})));
    }

    #[test]
    fn patch_paths_skip_inline_patches() {
        let k = json!({
            "patchesStrategicMerge": ["a.yaml", "apiVersion: v1\nkind: Pod\n"],
            "patchesJson6902": [{"target": {"kind": "Deployment"}, "path": "b.yaml"}, {"patch": "- op: add"}],
            "patches": [{"path": "c.yaml"}, {"patch": "x"}],
        });
        assert_eq!(
            patch_paths(&k),
            vec![
                ("patchesStrategicMerge", "a.yaml"),
                ("patchesJson6902", "b.yaml"),
                ("patches", "c.yaml")
            ]
        );
    }
}
