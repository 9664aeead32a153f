//! The `palisade` command: argument parsing, dispatch and printing over the library crates.

mod cmd_admit;
mod cmd_audit;
mod cmd_bench;
mod cmd_cvss;
mod cmd_feed;
mod cmd_feed_serve;
mod cmd_image;
mod cmd_meta;
mod cmd_netpol;
mod cmd_policy;
mod cmd_rbac;
mod cmd_rules;
mod cmd_scan;
mod image_report;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version = cmd_meta::VERSION_LINE,
    about = "Kubernetes security toolkit"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Kubernetes manifests against the Pod Security Standards and the rule catalog.
    Scan(cmd_scan::ScanArgs),
    /// List the rule catalog.
    Rules(cmd_rules::RulesArgs),
    /// Query RBAC: who can do what, through which bindings and roles.
    #[command(subcommand)]
    Rbac(cmd_rbac::RbacCommand),
    /// Query NetworkPolicy isolation and reachability.
    #[command(subcommand)]
    Netpol(cmd_netpol::NetpolCommand),
    /// Build and query the Kubernetes CVE feed.
    #[command(subcommand)]
    Feed(cmd_feed::FeedCommand),
    /// Inventory container images and root filesystems (OS and language packages, Kubernetes
    /// binaries) and match them offline against OSV and the Kubernetes CVE feed.
    Image(cmd_image::ImageArgs),
    /// Read CycloneDX and SPDX SBOMs and match them offline against OSV and the Kubernetes CVE feed.
    Sbom(cmd_image::SbomArgs),
    /// Score CVSS v3.0, v3.1 and v4.0 vectors.
    Cvss(cmd_cvss::CvssArgs),
    /// Detect suspicious activity in Kubernetes API audit logs.
    #[command(subcommand)]
    Audit(cmd_audit::AuditCommand),
    /// Validating admission webhook: Pod Security Admission semantics plus the rule catalog.
    Admit(cmd_admit::AdmitArgs),
    /// CIS Kubernetes Benchmark on this node or a node snapshot: kube-bench's checks, evaluated natively.
    Bench(cmd_bench::BenchArgs),
    /// Test Gatekeeper ConstraintTemplates (Rego, CEL) with gator-format suites.
    Policy(cmd_policy::PolicyArgs),
    /// Print the version, commit, build date, rule catalog size and newest PSS version.
    Version(cmd_meta::VersionArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd_meta::CompletionsArgs),
    /// Print the man page (or write one page per command with --out-dir).
    Man(cmd_meta::ManArgs),
}

/// jemalloc, with freed pages returned at once (`.cargo/config.toml`): glibc keeps what each
/// worker thread's arena once held, so a scan's resident memory was about 2.5x its heap
/// (71 MB against 28 MB on the corpus x10) and now stays within ~12 MB of it.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Exactly one rustls crypto provider (ring) for the whole process.
    palisade_admit::install_crypto_provider();
    let cli = parse_cli();
    let result = match cli.command {
        Command::Scan(args) => cmd_scan::run(args),
        Command::Rules(args) => cmd_rules::run(args),
        Command::Rbac(cmd) => cmd_rbac::run(cmd),
        Command::Netpol(cmd) => cmd_netpol::run(cmd),
        Command::Feed(cmd) => cmd_feed::run(cmd),
        Command::Image(args) => cmd_image::run_image(args),
        Command::Sbom(args) => cmd_image::run_sbom(args),
        Command::Cvss(args) => cmd_cvss::run(args),
        Command::Audit(cmd) => cmd_audit::run(cmd),
        Command::Admit(args) => cmd_admit::run(args),
        Command::Bench(args) => cmd_bench::run(args),
        Command::Policy(args) => cmd_policy::run(args),
        Command::Version(args) => cmd_meta::version(args),
        Command::Completions(args) => cmd_meta::completions(args),
        Command::Man(args) => cmd_meta::man(args),
    };
    match result {
        Ok(code) => code,
        // `palisade scan DIR | head -1`: the reader has what it wanted; end quietly, as
        // ripgrep and other Unix filters do, instead of reporting an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_text(&err));
            ExitCode::from(2)
        }
    }
}

/// Parses the command line. Installed as `kubectl-palisade`, the binary is a kubectl plugin
/// (`kubectl palisade scan ...`), and its usage and help say so.
fn parse_cli() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let invoked = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    let mut cmd = Cli::command();
    if invoked.as_deref() == Some("kubectl-palisade") {
        cmd = cmd.bin_name("kubectl palisade");
    }
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, `: `-separated, each cause once: library errors often quote
/// their source in their own message (`reading F: No such file or directory (os error 2)`)
/// and name it as `source()` too, which printed the same text twice.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
