//! Per-project RBAC and NetworkPolicy findings on a corpus, and the time of the cross-object
//! analysis of the whole corpus at once (loading excluded; `scripts/graph-corpus.sh` also
//! times the full `palisade scan`).
//!
//! Each project is taken as a whole cluster (`assume_complete`, as `--assume-complete`); the
//! table's last netpol figure is what the default judges (namespaces with a NetworkPolicy or
//! a Namespace object in the project only).
//!
//! `cargo run --release -p palisade-graph --example graph_bench -- testdata/corpus [ROUNDS]`

use palisade_core::Severity;
use palisade_core::{Finding, RuleMeta};
use palisade_graph::netpol::{Netpol, NetpolOptions};
use palisade_graph::rbac::Rbac;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Every rule over `docs`, every namespace judged or only those the set speaks for.
fn analyze(docs: &[palisade_core::Document], assume_complete: bool) -> Vec<Finding> {
    let all = |_: &RuleMeta| true;
    palisade_graph::analysis_with_netpol(
        docs,
        &all,
        &palisade_graph::Options::default(),
        NetpolOptions { assume_complete },
    )
    .findings
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| "testdata/corpus".to_owned()));
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let limits = palisade_yaml::Limits::default();
    let mut projects: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => {
            eprintln!("error: reading {}: {e}", root.display());
            std::process::exit(2);
        }
    };
    projects.sort();
    println!(
        "| project | objects | roles | bindings | workloads | netpols | rbac findings (crit/high/med/low/info) | netpol findings (default) | top rules |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut all = Vec::new();
    let (mut tot_rbac, mut tot_np, mut tot_np_default) = (0, 0, 0);
    for p in &projects {
        let loaded = palisade_yaml::load_paths(std::slice::from_ref(p), &limits);
        let docs = loaded.documents;
        let findings = analyze(&docs, true);
        let np_default = analyze(&docs, false)
            .iter()
            .filter(|f| f.family == "netpol")
            .count();
        tot_np_default += np_default;
        let rb = Rbac::build(&docs, Default::default());
        let np = Netpol::build(&docs);
        let mut sev: BTreeMap<Severity, usize> = BTreeMap::new();
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut nr, mut nn) = (0, 0);
        for f in &findings {
            if f.family == "rbac" {
                nr += 1;
                *sev.entry(f.severity).or_default() += 1;
            } else {
                nn += 1;
            }
            *by_rule.entry(f.rule.as_str()).or_default() += 1;
        }
        tot_rbac += nr;
        tot_np += nn;
        let mut top: Vec<(&str, usize)> = by_rule.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = top
            .iter()
            .take(4)
            .map(|(r, n)| format!("{r}×{n}"))
            .collect();
        let s = |x: Severity| sev.get(&x).copied().unwrap_or(0);
        println!(
            "| {} | {} | {} | {} | {} | {} | {nr} ({}/{}/{}/{}/{}) | {nn} ({np_default}) | {} |",
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            docs.len(),
            rb.roles.iter().filter(|r| r.doc.is_some()).count(),
            rb.bindings.iter().filter(|b| b.doc.is_some()).count(),
            np.workloads.len(),
            np.policies.len(),
            s(Severity::Critical),
            s(Severity::High),
            s(Severity::Medium),
            s(Severity::Low),
            s(Severity::Info),
            top.join(" ")
        );
        all.extend(docs);
    }
    println!(
        "| **total** | {} | | | | | {tot_rbac} | {tot_np} ({tot_np_default}) | |",
        all.len()
    );

    // The whole corpus as one set (one cluster): the worst case for cross-object analysis.
    let mut times = Vec::with_capacity(rounds);
    let mut n = 0;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        n = analyze(&all, true).len();
        times.push(t.elapsed());
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let min = times.first().copied().unwrap_or_default();
    println!(
        "\nwhole corpus as one set: {} objects, {n} findings; analysis min {:.1} ms, median {:.1} ms over {} rounds",
        all.len(),
        min.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        times.len()
    );
}
