//! `palisade bench`: kube-bench's CIS benchmark YAML, unchanged, evaluated natively over this
//! node or a node's filesystem snapshot. The logic is in `palisade_bench`.

use anyhow::{Context, Result};
use palisade_bench::config::CfgTree;
use palisade_bench::node::Node;
use palisade_bench::run::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    /// kube-bench's text: `[PASS] 1.1.1 ...`, remediations, summaries.
    Text,
    /// kube-bench's `--json` document (Controls/tests/results, Totals).
    Json,
    /// Palisade's JSON: every result with how it was evaluated and its evidence.
    PalisadeJson,
    /// kube-bench's `--junit` XML.
    Junit,
    /// SARIF 2.1.0: FAIL as error, WARN as warning, located at the file the evidence names.
    Sarif,
    /// One row per check: status, id, scored, how the audit was evaluated, text; then totals.
    Table,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Benchmark folder of the cfg tree (cis-1.12, eks-1.7.0, gke-1.9.0, k3s-cis-1.24, ...).
    /// Default: from the Kubernetes version (--k8s-version, or found on the node: the
    /// control-plane static pods' image tags, the kubelet binary) through config.yaml's
    /// version_mapping.
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,

    /// Kubernetes version to map to a benchmark (kube-bench's --version), e.g. 1.33.
    #[arg(long, value_name = "VERSION", conflicts_with = "benchmark")]
    pub k8s_version: Option<String>,

    /// Node types to run (master, node, worker, etcd, controlplane, policies,
    /// managedservices). Default: as kube-bench decides from the running components.
    #[arg(long, value_delimiter = ',', value_name = "TARGET,...")]
    pub targets: Option<Vec<String>>,

    /// Root of the node's filesystem (a snapshot or a host mount).
    #[arg(long, default_value = "/", value_name = "DIR")]
    pub root: PathBuf,

    /// The node's /proc. Default: /proc when --root is /, else ROOT/proc when it has
    /// processes; without one, processes are derived from the static pod manifests and the
    /// kubelet's systemd unit (reported as derived, not observed).
    #[arg(long = "proc", value_name = "DIR")]
    pub proc_dir: Option<PathBuf>,

    /// kube-bench cfg/ folder to use instead of the embedded copy (a user's tree works unchanged).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_enum)]
    pub format: BenchFormat,

    /// Only these checks (ids, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,...",
        conflicts_with = "group"
    )]
    pub check: Vec<String>,

    /// Only these groups (ids, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub group: Vec<String>,

    /// Checks or groups to report as INFO without running them.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub skip: Vec<String>,

    /// Run scored checks.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub scored: bool,

    /// Run unscored checks.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub unscored: bool,

    /// Run audits that are not evaluated natively through `/bin/sh`, as kube-bench does
    /// (otherwise they are WARN "not evaluated natively" with the command shown).
    #[arg(long)]
    pub allow_shell: bool,

    /// JSON: print only the controls array, without totals (kube-bench's --nototals).
    #[arg(long)]
    pub nototals: bool,

    /// Exit status when any check FAILs (kube-bench's --exit-code; WARN never fails).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: u8,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn default_proc(root: &std::path::Path) -> Option<PathBuf> {
    if root == std::path::Path::new("/") {
        return Some(PathBuf::from("/proc"));
    }
    let p = root.join("proc");
    let has_pids = std::fs::read_dir(&p).ok().is_some_and(|mut d| {
        d.any(|e| {
            e.ok()
                .is_some_and(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        })
    });
    has_pids.then_some(p)
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let cfg = match &args.config_dir {
        Some(d) => {
            anyhow::ensure!(d.is_dir(), "--config-dir {}: not a directory", d.display());
            CfgTree::Dir(d.clone())
        }
        None => CfgTree::embedded().context(
            "this build has no embedded kube-bench cfg tree; pass --config-dir DIR (kube-bench's cfg/)",
        )?,
    };
    anyhow::ensure!(
        args.root.is_dir(),
        "--root {}: not a directory",
        args.root.display()
    );
    let proc_dir = args.proc_dir.clone().or_else(|| default_proc(&args.root));
    let node = Node::load(&args.root, proc_dir.as_deref());
    let mut opts = Options::new(cfg);
    opts.benchmark = args.benchmark;
    opts.k8s_version = args.k8s_version;
    opts.targets = args.targets;
    opts.checks = args.check;
    opts.groups = args.group;
    opts.skip = args.skip;
    opts.scored = args.scored;
    opts.unscored = args.unscored;
    opts.allow_shell = args.allow_shell;
    let report = run::run(&opts, &node)?;
    let text = match args.format {
        BenchFormat::Text => palisade_bench::output::text(&report),
        BenchFormat::Json => {
            let mut j = palisade_bench::output::kube_bench_json(&report, args.nototals);
            j.push('\n');
            j
        }
        BenchFormat::PalisadeJson => {
            let mut j = palisade_bench::output::palisade_json(&report);
            j.push('\n');
            j
        }
        BenchFormat::Junit => palisade_bench::output::junit(&report),
        BenchFormat::Sarif => palisade_bench::output::sarif(&report),
        BenchFormat::Table => palisade_bench::output::table(&report),
    };
    let mut output =
        crate::output::Output::open(args.output.as_deref(), crate::output::ColorChoice::Never)?;
    output.writer().write_all(text.as_bytes())?;
    output.finish()?;
    if report.controls.iter().any(|c| c.summary.total_fail > 0) {
        return Ok(ExitCode::from(args.exit_code));
    }
    Ok(ExitCode::SUCCESS)
}
