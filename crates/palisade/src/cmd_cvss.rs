//! `palisade cvss VECTOR... | -`: score CVSS v3.0, v3.1 and v4.0 vectors.

use anyhow::{Context, Result};
use palisade_feed::cvss;
use serde::Serialize;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CvssArgs {
    /// Vectors to score (`CVSS:3.1/AV:N/...`); `-` reads one vector per line from standard input.
    #[arg(value_name = "VECTOR", required = true)]
    pub vectors: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: TableOrJson,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// One line of output: a score, or why the vector is invalid.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Entry {
    Ok(cvss::Score),
    Err { vector: String, error: String },
}

pub fn run(args: CvssArgs) -> Result<ExitCode> {
    let mut vectors = Vec::new();
    for v in &args.vectors {
        if v == "-" {
            for line in std::io::stdin().lock().lines() {
                let line = line.context("reading vectors from standard input")?;
                if !line.trim().is_empty() {
                    vectors.push(line.trim().to_owned());
                }
            }
        } else {
            vectors.push(v.clone());
        }
    }
    let entries: Vec<Entry> = vectors
        .iter()
        .map(|v| match cvss::score(v) {
            Ok(s) => Entry::Ok(s),
            Err(e) => Entry::Err {
                vector: v.clone(),
                error: e.reason,
            },
        })
        .collect();
    let invalid = entries
        .iter()
        .filter(|e| matches!(e, Entry::Err { .. }))
        .count();
    let mut output =
        crate::output::Output::open(args.output.as_deref(), crate::output::ColorChoice::Never)?;
    let out = output.writer();
    match args.format {
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut *out, &entries)?;
            writeln!(out)?;
        }
        TableOrJson::Table => {
            let width = vectors.iter().map(String::len).max().unwrap_or(6).max(6);
            writeln!(
                out,
                "{:<width$}  {:<7}  {:>5}  SEVERITY",
                "VECTOR", "VERSION", "SCORE"
            )?;
            for e in &entries {
                match e {
                    Entry::Ok(s) => writeln!(
                        out,
                        "{:<width$}  {:<7}  {:>5.1}  {}",
                        s.vector, s.version, s.base_score, s.severity
                    )?,
                    Entry::Err { vector, error } => {
                        writeln!(out, "{vector:<width$}  error: {error}")?
                    }
                }
            }
        }
    }
    output.finish()?;
    if invalid > 0 {
        eprintln!("error: {invalid} of {} vectors are invalid", entries.len());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
