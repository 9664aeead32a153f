//! `palisade netpol ...`: owned by the cross-object analysis work (issue 4).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum NetpolCommand {}

pub fn run(cmd: NetpolCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
