//! `palisade audit ...`: owned by the audit-log work (issue 8).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {}

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
