//! `palisade rules`: list the rule catalog, explain one rule, or write the rule docs.

use anyhow::{Context, Result};
use palisade_report::{Format, Style};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{ColorChoice, Output};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,

    /// Output format: table, json, or markdown (the generated rule reference).
    #[arg(long, short = 'f', default_value = "table", value_enum)]
    pub format: RulesFormat,

    /// With `--format markdown`: write `<ID>.md` for every rule into DIR (the committed copy is
    /// `docs/rules/`) instead of printing the index.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Colour in table output: auto, always, never.
    #[arg(long, default_value = "auto", value_enum)]
    pub color: ColorChoice,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `palisade rules` prints (a closed set, so clap lists exactly these on a wrong value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
}

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Print one rule's documentation: rationale, fix, references, frameworks, how to waive it.
    Explain {
        /// Rule ID (e.g. HRD001) or name (e.g. read-only-root-filesystem).
        rule: String,
        /// text (rendered for the terminal, wrapped to its width) or markdown (the page as
        /// committed in docs/rules/).
        #[arg(long, short = 'f', default_value = "text", value_enum)]
        format: ExplainFormat,
    },
}

pub fn run(args: RulesArgs) -> Result<ExitCode> {
    if let Some(RulesCommand::Explain { rule, format }) = &args.command {
        let page = palisade_rules::explain(rule).with_context(|| {
            format!("unknown rule {rule:?}: `palisade rules` lists the rule IDs and names")
        })?;
        let mut out = Output::open(args.output.as_deref(), args.color)?;
        let page = match format {
            ExplainFormat::Markdown => page,
            ExplainFormat::Text => {
                let mut text = palisade_report::render_markdown(
                    &page,
                    Style {
                        color: out.color(),
                        quiet: false,
                    },
                    palisade_report::terminal_width(),
                );
                // The same page online (SARIF's "Learn more" and JUnit's help link to it).
                if let Some(meta) = palisade_rules::rule(rule)
                    .or_else(|| palisade_rules::catalog().iter().find(|r| r.name == rule))
                {
                    text.push_str(&format!("\nOnline: {}\n", meta.docs_url()));
                }
                text
            }
        };
        out.writer()
            .write_all(page.as_bytes())
            .context("writing the rule page")?;
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = &args.out_dir {
        if args.format != RulesFormat::Markdown {
            anyhow::bail!(
                "--out-dir writes the Markdown rule pages: use it with --format markdown"
            );
        }
        write_pages(dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Output::open(args.output.as_deref(), args.color)?;
    let format = match args.format {
        RulesFormat::Markdown => {
            out.writer()
                .write_all(palisade_rules::render_docs().as_bytes())
                .context("writing the rule reference")?;
            None
        }
        RulesFormat::Table => Some(Format::Table),
        RulesFormat::Json => Some(Format::Json),
    };
    if let Some(format) = format {
        let style = Style {
            color: out.color(),
            quiet: false,
        };
        palisade_report::render_rule_list(
            format,
            palisade_rules::catalog(),
            &palisade_rules::default_state,
            style,
            out.writer(),
        )
        .context("writing the rule list")?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes every rule page and removes stale pages of rules that no longer exist (only files
/// named like a rule page, `ABC123.md`, so pointing it at the wrong directory loses nothing else).
fn write_pages(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pages = palisade_rules::rule_pages();
    for (name, text) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let stem = name.strip_suffix(".md").unwrap_or("");
        let digits = stem.trim_start_matches(|c: char| c.is_ascii_uppercase());
        let rule_like = digits.len() == 3
            && digits.len() < stem.len()
            && digits.bytes().all(|b| b.is_ascii_digit());
        if rule_like && !pages.iter().any(|(p, _)| p == name) {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    eprintln!("wrote {} rule pages to {}", pages.len(), dir.display());
    Ok(())
}
