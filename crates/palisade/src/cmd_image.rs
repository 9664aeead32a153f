//! `palisade image PATH...` and `palisade sbom PATH...`: inventory images, root filesystems and
//! SBOMs, match them offline against an OSV database and the Kubernetes CVE feed, print the
//! result as a table, JSON, SARIF, CycloneDX or SPDX. The work is in palisade-image,
//! palisade-sbom and palisade-vuln; here: arguments, per-input errors, printing, exit status.

use anyhow::{Context, Result};
use palisade_core::inventory::{Inventory, Package};
use palisade_feed::feed::JsonFeed;
use palisade_vuln::{OsvDb, VulnFinding};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::image_report;
use crate::output::{ColorChoice, Output, parse_fail_on};
use palisade_report::FailOn;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageFormat {
    /// Packages, then vulnerabilities, per input.
    Table,
    /// Inventory and findings (docs/images.md, "JSON").
    Json,
    /// SARIF 2.1.0: one rule per vulnerability ID, results at the package's file.
    Sarif,
    /// CycloneDX 1.6 JSON (components, and vulnerabilities when matched).
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// What `image` and `sbom` share.
#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// Output format.
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: ImageFormat,

    /// OSV database: a directory of osv.dev exports (per-ecosystem directories of `*.json`
    /// and/or `all.zip` / `<Ecosystem>.zip`). Without it only --feed is matched.
    #[arg(long, value_name = "DIR")]
    pub osv_db: Option<PathBuf>,

    /// Kubernetes CVE feed JSON as `palisade feed build` writes it: Kubernetes component
    /// binaries (kube-apiserver, kubelet, ...) are matched against it.
    #[arg(long, value_name = "FILE")]
    pub feed: Option<PathBuf>,

    /// Exit 1 when a vulnerability at or above this severity is found: info, low, medium,
    /// high, critical, or never.
    #[arg(long, default_value = "low", value_parser = parse_fail_on)]
    pub fail_on: FailOn,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Colour in the table: auto, always or never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// Images or root filesystems: an OCI image layout directory, an OCI archive, a `docker
    /// save` archive, a single layer tar (.tar, .tar.gz, .tar.zst) or a root filesystem directory.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Check every layer blob against its digest (a mismatch is a note naming the layer).
    /// Off by default: the manifest and the blobs of a local archive come from the same
    /// file, so the check proves nothing a forger could not also rewrite, and it costs a
    /// full read of every layer.
    #[arg(long)]
    pub verify_digests: bool,

    #[command(flatten)]
    pub common: MatchArgs,
}

#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// SBOMs: CycloneDX 1.4-1.6 JSON, SPDX 2.2/2.3 JSON or tag-value; `-` reads standard input.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub common: MatchArgs,
}

/// One input's result: its inventory and findings, or why it could not be read.
#[derive(Debug)]
pub struct InputReport {
    pub source: String,
    pub inventory: Option<Inventory>,
    pub findings: Vec<VulnFinding>,
    /// What matching could not evaluate (a version its ecosystem cannot order, an unknown
    /// distribution, a record that failed to load), from `palisade_vuln::match_report`.
    pub match_notes: Vec<String>,
    pub error: Option<String>,
}

pub fn run_image(args: ImageArgs) -> Result<ExitCode> {
    let options = palisade_image::Options {
        verify_digests: args.verify_digests,
        ..palisade_image::Options::default()
    };
    run(&args.paths, &args.common, |path| {
        palisade_image::inventory(path, &options).map_err(|e| e.to_string())
    })
}

pub fn run_sbom(args: SbomArgs) -> Result<ExitCode> {
    run(&args.paths, &args.common, |path| {
        // Bounded read: an SBOM over the limit is refused without being read to the end.
        palisade_sbom::read_path(path, &palisade_sbom::Limits::default()).map_err(|e| e.to_string())
    })
}

fn run(
    paths: &[PathBuf],
    args: &MatchArgs,
    read: impl Fn(&Path) -> std::result::Result<Inventory, String>,
) -> Result<ExitCode> {
    // The databases are the user's configuration: a bad one stops before any input is read.
    let db = match &args.osv_db {
        Some(dir) => {
            let db = OsvDb::open(dir).with_context(|| format!("--osv-db {}", dir.display()))?;
            for w in db.warnings() {
                eprintln!("warning: --osv-db: {w}");
            }
            Some(db)
        }
        None => None,
    };
    let feed = match &args.feed {
        Some(file) => Some(load_feed(file)?),
        None => None,
    };

    let mut reports = Vec::with_capacity(paths.len());
    for path in paths {
        let source = path.display().to_string();
        match read(path) {
            Ok(inv) => {
                let matched = palisade_vuln::match_report(&inv, db.as_ref(), feed.as_ref());
                reports.push(InputReport {
                    source,
                    inventory: Some(inv),
                    findings: matched.findings,
                    match_notes: matched.notes,
                    error: None,
                });
            }
            Err(message) => {
                eprintln!("error: {message}");
                reports.push(InputReport {
                    source,
                    inventory: None,
                    findings: Vec::new(),
                    match_notes: Vec::new(),
                    error: Some(message),
                });
            }
        }
    }
    for r in &reports {
        for note in r.inventory.iter().flat_map(|i| &i.notes) {
            eprintln!("note: {}", image_report::note_text(&r.source, note));
        }
        for note in &r.match_notes {
            eprintln!("note: {}: not matched: {note}", r.source);
        }
    }

    let mut out = Output::open(args.output.as_deref(), args.color)?;
    let color = out.color();
    let w = out.writer();
    // Only the SBOM formats take the inventories and findings as slices of their own.
    let inventories =
        || -> Vec<Inventory> { reports.iter().filter_map(|r| r.inventory.clone()).collect() };
    let version = env!("CARGO_PKG_VERSION");
    match args.format {
        ImageFormat::Table => image_report::table(w, &reports, color)?,
        ImageFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &image_report::json(&reports, version))?;
            writeln!(w)?;
        }
        ImageFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *w, &image_report::sarif(&reports, version))?;
            writeln!(w)?;
        }
        ImageFormat::Cyclonedx => {
            let findings: Vec<VulnFinding> = reports
                .iter()
                .flat_map(|r| r.findings.iter().cloned())
                .collect();
            let doc = palisade_sbom::cyclonedx(&inventories(), &findings, version);
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)?;
        }
        ImageFormat::Spdx => {
            let doc = palisade_sbom::spdx(&inventories(), version);
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)?;
        }
    }
    out.finish()?;

    let failed = match args.fail_on {
        FailOn::Never => false,
        FailOn::At(sev) => reports
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= sev),
    };
    Ok(ExitCode::from(
        if reports.iter().any(|r| r.error.is_some()) {
            2
        } else if failed {
            1
        } else {
            0
        },
    ))
}

fn load_feed(file: &Path) -> Result<JsonFeed> {
    let bytes = std::fs::read(file).with_context(|| format!("--feed {}", file.display()))?;
    palisade_feed::matcher::load_feed(&bytes, &file.display().to_string())
        .with_context(|| format!("--feed {}", file.display()))
}

/// Packages in the order every format prints them: kind, name, version, path.
pub fn sorted_packages(inv: &Inventory) -> Vec<&Package> {
    let mut pkgs: Vec<&Package> = inv.packages.iter().collect();
    pkgs.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, &a.path).cmp(&(b.kind, &b.name, &b.version, &b.path))
    });
    pkgs
}
