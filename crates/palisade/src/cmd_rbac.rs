//! `palisade rbac ...`: owned by the cross-object analysis work (issue 4).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum RbacCommand {}

pub fn run(cmd: RbacCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
