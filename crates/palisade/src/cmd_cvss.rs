//! `palisade cvss ...`: owned by the CVE-feed work (issue 5).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CvssArgs {}

pub fn run(_args: CvssArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("palisade cvss is not built yet")
}
