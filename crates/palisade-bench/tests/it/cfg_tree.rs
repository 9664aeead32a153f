//! Every shipped kube-bench cfg file, and the inventory of their audit commands: each
//! distinct audit string of a runnable check is either evaluated natively or listed, with the
//! reason, in `testdata/kube-bench/native-gaps.tsv`. A new unclassified form fails this test;
//! so does a listed one that became native (regenerate with `PALISADE_BLESS=1`).

use palisade_bench::audit::{self, Support};
use palisade_bench::config::{self, CfgTree, Config};
use palisade_bench::model;
use std::collections::BTreeMap;

fn benchmarks() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(super::testdata().join("cfg"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// (benchmark, file, controls) for every controls file.
fn all_controls() -> Vec<(String, String, model::Controls)> {
    let mut out = Vec::new();
    for b in benchmarks() {
        for (node_type, file) in config::NODE_TYPES {
            let path = super::testdata().join("cfg").join(&b).join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let c = model::parse_controls(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.node_type, node_type, "{}", path.display());
            out.push((b.clone(), file.to_string(), c));
        }
    }
    out
}

#[test]
fn every_cfg_file_parses_with_scalars_as_written() {
    let all = all_controls();
    assert_eq!(benchmarks().len(), 46);
    assert_eq!(all.len(), 229, "controls files");
    let checks: usize = all
        .iter()
        .map(|(_, _, c)| c.groups.iter().map(|g| g.checks.len()).sum::<usize>())
        .sum();
    assert_eq!(checks, 4860, "checks across all benchmarks");
    // yaml.v2 keeps `1.10` and `0644` as written; a float/int reading would not.
    let cis = all
        .iter()
        .find(|(b, f, _)| b == "cis-1.12" && f == "master.yaml")
        .map(|(_, _, c)| c)
        .unwrap();
    let ids: Vec<&str> = cis
        .groups
        .iter()
        .flat_map(|g| g.checks.iter().map(|c| c.id.as_str()))
        .collect();
    assert!(ids.contains(&"1.1.10"), "{ids:?}");
    assert!(ids.contains(&"1.2.10"));
}

#[test]
fn config_yaml_maps_versions_and_targets() {
    let cfg = Config::load(&CfgTree::Dir(super::testdata().join("cfg")), None).unwrap();
    assert_eq!(cfg.benchmark_for("1.33").as_deref(), Some("cis-1.12"));
    assert_eq!(cfg.benchmark_for("1.35").as_deref(), Some("cis-1.12"));
    assert_eq!(cfg.benchmark_for("1.30").as_deref(), Some("cis-1.11"));
    assert_eq!(cfg.benchmark_for("1.14"), None);
    assert_eq!(
        cfg.targets("cis-1.12").unwrap(),
        vec!["master", "node", "controlplane", "etcd", "policies"]
    );
    let master = cfg.components("master").unwrap();
    let names: Vec<&str> = master.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "apiserver",
            "scheduler",
            "controllermanager",
            "etcd",
            "flanneld",
            "kubernetes",
            "kubelet"
        ]
    );
    // k3s's own config.yaml replaces the bins (viper MergeInConfig).
    let k3s = Config::load(
        &CfgTree::Dir(super::testdata().join("cfg")),
        Some("k3s-cis-1.24"),
    )
    .unwrap();
    let api = k3s.components("master").unwrap();
    let api = api.iter().find(|c| c.name == "apiserver").unwrap();
    assert_ne!(
        api.bins,
        master.iter().find(|c| c.name == "apiserver").unwrap().bins
    );
}

/// Distinct audit strings of runnable checks (not manual, not skip, group not skip).
fn inventory() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, _, c) in all_controls() {
        for g in &c.groups {
            if g.kind == "skip" {
                continue;
            }
            for ch in &g.checks {
                if ch.kind == "manual" || ch.kind == "skip" {
                    continue;
                }
                for a in [&ch.audit, &ch.audit_config, &ch.audit_env] {
                    let a = a.trim();
                    if !a.is_empty() {
                        *out.entry(a.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_audit_string_is_native_or_a_listed_gap() {
    let inv = inventory();
    let mut gaps = Vec::new();
    let mut native = 0;
    let mut native_occ = 0;
    let mut total_occ = 0;
    for (a, n) in &inv {
        total_occ += n;
        match audit::support(a) {
            Support::Native => {
                native += 1;
                native_occ += n;
            }
            Support::NotNative(reason) => {
                gaps.push(format!("{}\t{}", serde_json::to_string(a).unwrap(), reason))
            }
        }
    }
    let path = super::testdata().join("native-gaps.tsv");
    let header =
        "# audit (JSON string)\treason it is not evaluated natively (generated; see docs/bench.md)";
    let text = format!("{header}\n{}\n", gaps.join("\n"));
    if std::env::var_os("PALISADE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let listed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        listed, text,
        "native-gaps.tsv is stale: a new audit form appeared or a listed one is now native \
         (PALISADE_BLESS=1 regenerates)"
    );
    eprintln!(
        "{} distinct audit strings ({total_occ} occurrences): {native} native ({native_occ} occurrences), {} gaps",
        inv.len(),
        gaps.len()
    );
    // Every audit of the generic CIS benchmarks that reads the node is native; what is left
    // needs the Kubernetes API (kubectl).
    for (b, _, c) in all_controls() {
        if b != "cis-1.12" {
            continue;
        }
        for g in &c.groups {
            for ch in &g.checks {
                if ch.kind == "manual" || ch.kind == "skip" {
                    continue;
                }
                for a in [&ch.audit, &ch.audit_config] {
                    if let Support::NotNative(r) = audit::support(a)
                        && !r.contains("`kubectl`")
                    {
                        panic!("cis-1.12 {}: {r}: {a}", ch.id);
                    }
                }
            }
        }
    }
}

#[test]
fn embedded_tree_is_the_vendored_tree() {
    let embedded = CfgTree::embedded().expect("built with the embedded-cfg feature");
    let dir = CfgTree::Dir(super::testdata().join("cfg"));
    for b in benchmarks() {
        assert!(embedded.has_benchmark(&b), "{b}");
        for (_, file) in config::NODE_TYPES {
            let rel = format!("{b}/{file}");
            assert_eq!(
                embedded.read(&rel).unwrap(),
                dir.read(&rel).unwrap(),
                "{rel}"
            );
        }
    }
    assert!(!embedded.has_benchmark("cis-9.99"));
}

/// What the classifier calls native must run natively: every native audit string of the
/// inventory, its `$variables` substituted with plausible values, runs over the control-plane
/// fixture without meeting an unimplemented option or form.
#[test]
fn native_audits_run_natively() {
    let f = super::fixtures::Fixture::control_plane(true);
    let node = palisade_bench::node::Node::load(&f.root(), Some(&f.proc_dir()));
    let var = regex::Regex::new(r"\$([a-z]+?)(bin|conf|svc|kubeconfig|cafile|datadir)\b").unwrap();
    let mut bad = Vec::new();
    for a in inventory().keys() {
        if audit::support(a) != Support::Native {
            continue;
        }
        let s = var.replace_all(a, |c: &regex::Captures<'_>| match &c[2] {
            "bin" => format!("kube-{}", &c[1]),
            kind => format!("/etc/kubernetes/{}.{kind}", &c[1]),
        });
        let r = audit::run(&s, &node);
        // Rancher's CA-file helpers need a kubelet with `--client-ca-file`, which this kubeadm
        // node does not have (its CA is in the config file): `helper_scripts_*` runs them
        // over nodes that do.
        if let Some(u) = r
            .unsupported
            .filter(|u| !u.starts_with("check_cafile: 0 kubelet"))
        {
            bad.push(format!("{u}\n    {s}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} native audits are not:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
