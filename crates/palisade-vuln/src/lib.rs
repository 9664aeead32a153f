//! Offline vulnerability matching for an [`Inventory`]: an OSV database read from osv.dev
//! exports on disk ([`OsvDb`]), version ordering per ecosystem ([`version`]), OSV range
//! evaluation ([`osv`]), and the Kubernetes CVE feed (through `palisade_feed::matcher`) for
//! Kubernetes component binaries. Severities come from the records' CVSS vectors, scored by
//! `palisade_feed::cvss`.

mod db;
mod matching;
pub mod osv;
pub mod version;

pub use db::{MAX_DEPTH, MAX_RECORD_BYTES, OsvDb};
pub use matching::{MatchReport, match_inventory, match_report, osv_ecosystem};

use palisade_core::Severity;
use palisade_core::inventory::Package;
use serde::Serialize;
use std::path::PathBuf;

/// Why a database could not be opened at all (single bad records are warnings instead).
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    #[error("cannot read OSV database {path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// One vulnerability that applies to one installed package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnFinding {
    /// OSV id (`GO-2023-2102`, `DSA-5678-1`, `CVE-2024-1234`) or the feed's CVE id.
    pub id: String,
    pub aliases: Vec<String>,
    /// The package matched.
    pub package: Package,
    /// The version compared (Debian: the source version when the package records one; Go
    /// standard library: the toolchain version as SemVer).
    pub installed: String,
    /// The versions that fix it on the installed version's line (empty: no fix known).
    pub fixed: Vec<String>,
    /// From the CVSS vector when the record has a scorable one, else the record's stated
    /// severity, else `medium` (unrated: see [`UNRATED`]).
    pub severity: Severity,
    /// The CVSS vector the score comes from.
    pub cvss: Option<String>,
    pub score: Option<f64>,
    pub summary: String,
    pub url: Option<String>,
    /// `osv` or `kubernetes-feed`.
    pub source: String,
}

/// Severity of a record that states none (no CVSS vector, no text severity), as most Go
/// vulnerability database records: medium, so an unrated vulnerability is neither hidden
/// below `low` thresholds nor reported as high. `score` and `cvss` stay `None`.
pub const UNRATED: Severity = Severity::Medium;
