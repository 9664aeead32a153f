//! Embeds kube-bench's cfg tree (`testdata/kube-bench/cfg`, vendored with its provenance) so
//! `palisade bench` runs without `--config-dir`. Outside the workspace (a packaged crate) the
//! tree is absent and nothing is embedded; `--config-dir` is then required.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && let Ok(rel) = p.strip_prefix(base)
        {
            out.push((rel.to_string_lossy().replace('\\', "/"), p.clone()));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let cfg = manifest.join("../../testdata/kube-bench/cfg");
    println!("cargo:rerun-if-changed={}", cfg.display());
    let mut files = Vec::new();
    if std::env::var_os("CARGO_FEATURE_EMBEDDED_CFG").is_some() {
        walk(&cfg, &cfg, &mut files);
    }
    let mut src = String::from(
        "/// kube-bench's cfg tree: (path relative to cfg/, contents).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in &files {
        let _ = writeln!(
            src,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_cfg.rs");
    if let Err(e) = std::fs::write(&out, src) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
