//! `palisade feed ...`: owned by the CVE-feed work (issue 5).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum FeedCommand {}

pub fn run(cmd: FeedCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
