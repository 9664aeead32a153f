//! Commands about the tool itself: `palisade version`, `palisade completions SHELL`,
//! `palisade man`. Completions and man pages are generated from the clap definitions, so they
//! cannot drift from the real flags.

use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

/// `git describe`-like commit and build date, set by build.rs (`unknown` outside a checkout).
pub const COMMIT: &str = env!("PALISADE_COMMIT");
pub const BUILD_DATE: &str = env!("PALISADE_BUILD_DATE");
/// What `--version` prints after the program name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PALISADE_COMMIT"),
    ", built ",
    env!("PALISADE_BUILD_DATE"),
    ")"
);

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: VersionFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VersionFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `palisade.1` and one page per subcommand (`palisade-scan.1`, `palisade-feed-serve.1`,
    /// ...) into DIR instead of printing `palisade.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Everything `palisade version` reports, as the JSON object it prints.
#[derive(Debug, serde::Serialize)]
struct VersionInfo {
    version: &'static str,
    commit: &'static str,
    build_date: &'static str,
    rules: usize,
    rule_families: Vec<&'static str>,
    pss_newest_version: String,
    audit_rules: Option<usize>,
    cve_feed: &'static str,
}

fn info() -> VersionInfo {
    let catalog = palisade_rules::catalog();
    let mut families: Vec<&'static str> = Vec::new();
    for r in catalog {
        if !families.contains(&r.family) {
            families.push(r.family);
        }
    }
    VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: COMMIT,
        build_date: BUILD_DATE,
        rules: catalog.len(),
        rule_families: families,
        pss_newest_version: format!("v1.{}", palisade_rules::pss::NEWEST_VERSION),
        audit_rules: palisade_audit::rules::RuleSet::builtin()
            .ok()
            .map(|r| r.rules.len()),
        // No CVE snapshot is compiled in: `feed affected` reads the feed file it is given.
        cve_feed: "none built in; `palisade feed build`/`feed fetch` make one",
    }
}

pub fn version(args: VersionArgs) -> Result<ExitCode> {
    let info = info();
    let mut out = Output::open(args.output.as_deref(), ColorChoice::Never)?;
    let w = out.writer();
    match args.format {
        VersionFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &info).context("writing the version")?;
            writeln!(w)?;
        }
        VersionFormat::Table => {
            writeln!(w, "palisade {}", info.version)?;
            writeln!(w, "commit:              {}", info.commit)?;
            writeln!(w, "built:               {}", info.build_date)?;
            writeln!(
                w,
                "rule catalog:        {} rules ({})",
                info.rules,
                info.rule_families.join(", ")
            )?;
            writeln!(w, "newest PSS version:  {}", info.pss_newest_version)?;
            match info.audit_rules {
                Some(n) => writeln!(
                    w,
                    "audit rules:         {n} built in (Falco k8saudit + Palisade)"
                )?,
                None => writeln!(w, "audit rules:         built-in rules failed to load")?,
            }
            writeln!(w, "CVE feed:            {}", info.cve_feed)?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    let mut out = Output::open(None, ColorChoice::Never)?;
    clap_complete::generate(args.shell, &mut cmd, "palisade", out.writer());
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> Result<ExitCode> {
    let cmd = crate::Cli::command();
    match &args.out_dir {
        None => {
            let mut out = Output::open(None, ColorChoice::Never)?;
            clap_mangen::Man::new(cmd)
                .render(out.writer())
                .context("writing the man page")?;
            out.finish()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            write_pages(&cmd, "palisade", dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `NAME.1` for `cmd`, then the pages of its subcommands, named `NAME-SUB.1` as git does.
fn write_pages(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let cmd = cmd.clone().name(name.to_owned());
    let path = dir.join(format!("{name}.1"));
    let mut bytes = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut bytes)
        .with_context(|| format!("rendering {}", path.display()))?;
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
