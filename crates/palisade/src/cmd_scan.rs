//! `palisade scan`: load manifests, run the selected rules, print findings.

use anyhow::{Context, Result};
use palisade_core::{Finding, InputError, Severity};
use palisade_report::{Format, Report, Style, Summary};
use palisade_rules::pss::{Level, Policy, Version};
use palisade_rules::{ScanOptions, Selection};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (`.yaml`, `.yml`, `.json`; directories recursively); `-` reads stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Pod Security Standards level to enforce: privileged, baseline or restricted.
    #[arg(long, default_value = "restricted", value_parser = parse_level, env = "PALISADE_PSS_LEVEL")]
    pub pss_level: Level,

    /// Pod Security Standards version: `latest` or `v1.N`, with Pod Security Admission's semantics.
    #[arg(long, default_value = "latest", value_parser = parse_version, env = "PALISADE_PSS_VERSION")]
    pub pss_version: Version,

    /// Output format: table, json, sarif or junit.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Run only these rule families, rule IDs or rule names (repeatable; default: all).
    #[arg(long, value_name = "FAMILY|RULE")]
    pub select: Vec<String>,

    /// Skip these rule families, rule IDs or rule names (repeatable).
    #[arg(long, value_name = "FAMILY|RULE")]
    pub ignore: Vec<String>,

    /// Exit with status 1 when a finding is at or above this severity: info, low, medium, high, critical.
    #[arg(long, default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,

    /// Largest file read, in bytes (suffixes K, M, G accepted).
    #[arg(long, default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Colour in table output: auto (honours NO_COLOR and terminals), always, never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let selection = Selection::new(&args.select, &args.ignore)?;
    let policy = Policy {
        level: args.pss_level,
        version: args.pss_version,
    };
    let limits = palisade_yaml::Limits {
        max_file_bytes: args.max_file_size,
        ..palisade_yaml::Limits::default()
    };

    let loaded = palisade_yaml::load_paths(&args.paths, &limits);
    let options = ScanOptions { policy, selection };
    let mut findings: Vec<Finding> = palisade_rules::check_documents(&loaded.documents, &options);
    // Deterministic order: by file, then position, then rule.
    findings.sort_by(|a, b| {
        (&a.file, a.document, a.line, a.column, &a.rule)
            .cmp(&(&b.file, b.document, b.line, b.column, &b.rule))
    });
    let errors: Vec<InputError> = loaded.errors;
    let failed = findings.iter().any(|f| f.severity >= args.fail_on);

    let documents: BTreeSet<(&str, usize)> = loaded
        .documents
        .iter()
        .map(|d| (&*d.file, d.index))
        .collect();
    let mut by_severity = std::collections::BTreeMap::new();
    for sev in Severity::ALL {
        by_severity.insert(sev, 0);
    }
    for f in &findings {
        *by_severity.entry(f.severity).or_insert(0) += 1;
    }
    let summary = Summary {
        files: loaded.files,
        documents: documents.len(),
        objects: loaded.documents.len(),
        findings: findings.len(),
        by_severity,
        errors: errors.len(),
        notes: loaded.notes.len(),
        pss_level: policy.level.to_string(),
        pss_version: policy.version.to_string(),
        fail_on: args.fail_on,
        failed,
    };
    let report = Report {
        findings: &findings,
        errors: &errors,
        notes: &loaded.notes,
        rules: palisade_rules::catalog(),
        summary,
        tool_name: "palisade",
        tool_version: env!("CARGO_PKG_VERSION"),
    };

    let mut out = Output::open(args.output.as_deref(), args.color)?;
    let style = Style { color: out.color() };
    palisade_report::render(args.format, &report, style, out.writer())
        .context("writing the report")?;
    out.finish()?;

    // Input errors are listed in the report itself; say so on stderr too, so a
    // redirected JSON report does not hide them from the person at the terminal.
    if !errors.is_empty() && args.format != Format::Table {
        let mut stderr = std::io::stderr().lock();
        for e in &errors {
            let _ = writeln!(stderr, "error: {e}");
        }
    }
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse::<Level>().map_err(|e| e.to_string())
}

fn parse_version(s: &str) -> Result<Version, String> {
    s.parse::<Version>().map_err(|e| e.to_string())
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}: use info, low, medium, high or critical"))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in {s:?}: use K, M or G")),
            };
            (t.get(..i).unwrap_or_default(), mult)
        }
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size {s:?}: expected e.g. 64M or 1048576"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("5T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
