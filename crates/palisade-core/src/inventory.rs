//! The software inventory shared by image inventory (`palisade-image`), SBOM reading and
//! writing (`palisade-sbom`) and vulnerability matching (`palisade-vuln`): one package model,
//! so an image and an SBOM are matched and printed the same way.

use serde::{Deserialize, Serialize};

/// Where a package's identity comes from; decides its purl type and its OSV ecosystem.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// dpkg status / distroless status.d (`pkg:deb`).
    Deb,
    /// apk installed db (`pkg:apk`).
    Apk,
    /// rpm database (`pkg:rpm`).
    Rpm,
    /// A Go module linked into a binary, or the binary's main module (`pkg:golang`).
    Go,
    /// The Go standard library of a binary: name `stdlib`, version the toolchain's (`1.22.3`).
    GoStdlib,
    /// A crate recorded by cargo-auditable (`pkg:cargo`).
    Cargo,
    /// Python distribution (`pkg:pypi`).
    Pypi,
    /// npm package (`pkg:npm`).
    Npm,
    /// Java artifact (`pkg:maven`).
    Maven,
    /// A Kubernetes component binary (kube-apiserver, kubelet, ...) with the release version
    /// linked into it (`pkg:k8s`); matched against the Kubernetes CVE feed.
    Kubernetes,
    /// Anything else an SBOM lists that no ecosystem above claims (kept, never matched).
    #[default]
    Other,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Package {
    pub kind: PackageKind,
    /// Name as its ecosystem spells it (Go: module path; Maven: `group:artifact`;
    /// npm: `@scope/name`; Kubernetes: the component, e.g. `kube-apiserver`).
    pub name: String,
    /// Version as installed (Debian: with epoch and revision; Go: with the `v`).
    pub version: String,
    /// Package URL (purl spec), with distro qualifiers for OS packages.
    pub purl: String,
    /// Source package (dpkg `Source:`, apk origin, rpm source rpm name), when it differs or is
    /// known; OSV's Debian/Alpine records are keyed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The layer the package was found in (digest `sha256:...`), absent for root filesystems
    /// and SBOMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The file that records it (package database, binary, manifest), path inside the image
    /// without a leading `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The distribution an image or root filesystem says it is (`etc/os-release`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Distro {
    /// `ID` (debian, alpine, ubuntu, rhel, ...).
    pub id: String,
    /// `VERSION_ID` (12, 3.19.1, 9.4, ...); empty when the file has none (e.g. Debian sid).
    pub version_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

/// Something the reader could not use, said instead of silently dropped (a corrupt entry, a
/// skipped oversized file, a symlink loop); the rest of the input is still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InventoryNote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub message: String,
}

/// What was found in one input (an image, a root filesystem, an SBOM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Inventory {
    /// The input as the user named it.
    pub source: String,
    /// Image reference or config digest when the input is an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<InventoryNote>,
}
