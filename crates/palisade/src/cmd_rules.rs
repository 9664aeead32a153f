//! `palisade rules`: list the rule catalog.

use anyhow::{Context, Result};
use palisade_report::{Format, Style};
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format: table, json, or markdown (the generated rule reference).
    #[arg(long, short = 'f', default_value = "table")]
    pub format: String,

    /// Colour in table output: auto, always, never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,
}

pub fn run(args: RulesArgs) -> Result<ExitCode> {
    let mut out = Output::open(None, args.color)?;
    if args.format == "markdown" {
        out.writer()
            .write_all(palisade_rules::render_docs().as_bytes())
            .context("writing the rule reference")?;
    } else {
        let format = crate::cmd_scan::parse_format(&args.format).map_err(anyhow::Error::msg)?;
        if !matches!(format, Format::Table | Format::Json) {
            anyhow::bail!(
                "palisade rules prints table, json or markdown, not {}",
                args.format
            );
        }
        let style = Style { color: out.color() };
        palisade_report::render_rules(format, palisade_rules::catalog(), style, out.writer())
            .context("writing the rule list")?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
