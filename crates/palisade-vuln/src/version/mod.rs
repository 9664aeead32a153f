//! Version ordering per ecosystem. Each comparator is tested against its ecosystem's own
//! reference comparisons (tests/it/versions.rs, sources in testdata/PROVENANCE.md).

pub mod apk;
pub mod dpkg;
pub mod maven;
pub mod pep440;
pub mod rpm;
pub mod semver;

use std::cmp::Ordering;

/// Longest version string compared. Real versions are far shorter (Debian's longest are
/// about 100 bytes); the bound keeps hostile input (an SBOM with a megabyte "version" or
/// thousands of Maven `-` sub-lists) from costing time or stack.
pub const MAX_VERSION_LEN: usize = 256;

/// Which ordering an OSV ecosystem uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian, Ubuntu: dpkg.
    Dpkg,
    /// Alpine, Wolfi, Chainguard: apk-tools.
    Apk,
    /// Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE, Azure Linux, Photon OS, Mageia,
    /// openEuler: rpmvercmp over EVR.
    Rpm,
    /// SemVer 2.0 precedence: `SEMVER` ranges, Go, crates.io, npm.
    SemVer,
    /// PyPI.
    Pep440,
    Maven,
}

impl Scheme {
    /// The ordering of an OSV ecosystem (`Debian:12` -> dpkg); `None` for ecosystems whose
    /// order is not implemented (only their `versions` lists are used).
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        Some(match crate::db::ecosystem_base(ecosystem) {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" | "MinimOS" | "Alpaquita" => Scheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "SUSE" | "openSUSE" | "Azure Linux"
            | "Photon OS" | "Mageia" | "openEuler" | "Mariner" => Scheme::Rpm,
            "Go" | "crates.io" | "npm" | "Kubernetes" | "kubernetes" => Scheme::SemVer,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            _ => return None,
        })
    }

    /// Compares two versions; `None` when one of them is not a version of this scheme
    /// (SemVer and PEP 440 reject malformed strings; the others order any string) or is
    /// longer than [`MAX_VERSION_LEN`].
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        if a.len() > MAX_VERSION_LEN || b.len() > MAX_VERSION_LEN {
            return None;
        }
        match self {
            Scheme::Dpkg => Some(dpkg::compare(a, b)),
            Scheme::Apk => Some(apk::compare(a, b)),
            Scheme::Rpm => Some(rpm::compare(a, b)),
            Scheme::SemVer => semver::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Maven => Some(maven::compare(a, b)),
        }
    }

    /// Whether `v` is a version of this scheme.
    pub fn is_valid(self, v: &str) -> bool {
        if v.len() > MAX_VERSION_LEN {
            return false;
        }
        match self {
            Scheme::SemVer => semver::parse(v).is_some(),
            Scheme::Pep440 => pep440::parse(v).is_some(),
            _ => !v.trim().is_empty(),
        }
    }
}
