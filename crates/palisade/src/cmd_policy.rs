//! `palisade policy test SUITE...`: gator-format suites for Gatekeeper ConstraintTemplates
//! (Rego and CEL), one line per case; exit 1 on any failure, 2 when a suite cannot be read.

use anyhow::Result;
use palisade_policy::suite::{self, CaseResult};
use palisade_policy::{EngineKind, Limits};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Run gator-format test suites (`kind: Suite`, as `gator verify` does); directories are
    /// searched for suite files. Templates with both Rego and CEL run each case on both.
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Suite files or directories.
    #[arg(value_name = "SUITE", required = true)]
    pub suites: Vec<PathBuf>,

    /// Run only the tests whose name matches this regular expression (gator's `--run`).
    #[arg(long, value_name = "REGEX")]
    pub run: Option<String>,

    /// Time budget of one Rego evaluation, in milliseconds; a policy that runs longer is an error.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub policy_timeout: u64,

    /// Print only failures and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: PolicyArgs) -> Result<ExitCode> {
    match args.command {
        PolicyCommand::Test(t) => test(t),
    }
}

fn test(args: TestArgs) -> Result<ExitCode> {
    let limits = Limits {
        rego_time: Duration::from_millis(args.policy_timeout),
    };
    let (files, mut errors) = suite::find_suites(&args.suites);
    let report = match &args.run {
        Some(p) => suite::run_matching(&files, limits, p)?,
        None => suite::run(&files, limits),
    };
    errors.extend(report.errors.iter().cloned());
    let mut out = std::io::stdout().lock();
    let (mut rego, mut cel) = ((0usize, 0usize), (0usize, 0usize));
    let (mut failed, mut skipped, mut disagree) = (0, 0, 0);
    for c in &report.cases {
        for o in &c.outcomes {
            let slot = match o.engine {
                EngineKind::Rego => &mut rego,
                EngineKind::Cel => &mut cel,
            };
            slot.1 += 1;
            slot.0 += usize::from(o.failure.is_none());
        }
        if c.skipped {
            skipped += 1;
        } else if !c.passed() {
            failed += 1;
        }
        disagree += usize::from(c.disagreement());
        if !args.quiet || !c.passed() {
            line(&mut out, c)?;
        }
    }
    for e in &errors {
        writeln!(out, "error {e}")?;
    }
    let engines = |(p, t): (usize, usize)| format!("{p}/{t}");
    writeln!(
        out,
        "{} cases: {} passed, {failed} failed, {skipped} skipped (rego {}, cel {}; engines disagree on {disagree})",
        report.cases.len(),
        report.cases.len() - failed - skipped,
        engines(rego),
        engines(cel),
    )?;
    if files.is_empty() && errors.is_empty() {
        writeln!(
            out,
            "error no suite (kind: Suite, apiVersion test.gatekeeper.sh/*) under the given paths"
        )?;
        return Ok(ExitCode::from(2));
    }
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn line(out: &mut impl Write, c: &CaseResult) -> std::io::Result<()> {
    let status = if c.skipped {
        "SKIP"
    } else if c.passed() {
        "PASS"
    } else {
        "FAIL"
    };
    let engines: Vec<&str> = c.outcomes.iter().map(|o| o.engine.name()).collect();
    writeln!(
        out,
        "{status} {} {}/{} [{}]",
        c.suite,
        c.test,
        c.case,
        engines.join(", ")
    )?;
    for o in &c.outcomes {
        if let Some(why) = &o.failure {
            writeln!(
                out,
                "     {}: {}",
                o.engine.name(),
                why.replace('\n', "\n       ")
            )?;
        }
    }
    Ok(())
}
