//! Kubernetes-style versions: `v1.27.3`, `V1.24.14`, `1.27`, `1.3.x`, `v1.2.0-beta.0`.
//!
//! A thin wrapper over `semver` that accepts the spellings found in announcements and says what it
//! could not read. Minor-only forms are kept apart from full versions because their meaning depends
//! on which end of a range they sit: `1.20` as a lower bound is `1.20.0`, as an upper bound it is
//! "all of 1.20", i.e. everything below `1.21.0`.

use std::fmt;

/// A full version (`major.minor.patch[-pre]`). Ordered by SemVer precedence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub semver::Version);

impl Version {
    pub fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version(semver::Version::new(major, minor, patch))
    }

    pub fn major(&self) -> u64 {
        self.0.major
    }

    pub fn minor(&self) -> u64 {
        self.0.minor
    }

    pub fn patch(&self) -> u64 {
        self.0.patch
    }

    /// `(major, minor)`: the release branch this version belongs to.
    pub fn branch(&self) -> (u64, u64) {
        (self.0.major, self.0.minor)
    }

    pub fn is_prerelease(&self) -> bool {
        !self.0.pre.is_empty()
    }

    /// The lowest version of this version's branch: `X.Y.0`, or `X.Y.0-0` (below every
    /// pre-release) when this is a pre-release of `X.Y.0` itself.
    pub fn branch_start(&self) -> Version {
        let mut v = semver::Version::new(self.0.major, self.0.minor, 0);
        if self.0.patch == 0 && self.is_prerelease() {
            v.pre = semver::Prerelease::new("0").unwrap_or(semver::Prerelease::EMPTY);
        }
        Version(v)
    }

    /// Parses a full version; `v`/`V` prefix, build metadata and `+` ("and later") suffix are
    /// accepted. Missing patch (`1.27`) is an error here: use [`VersionSpec::parse`] for that.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        match VersionSpec::parse(text)? {
            VersionSpec::Full(v) => Ok(v),
            VersionSpec::Minor(..) => Err(VersionError {
                text: text.to_owned(),
                reason: "a full version `X.Y.Z` is needed here, not just `X.Y`",
            }),
        }
    }
}

impl fmt::Display for Version {
    /// Without `v`: the OSV `SEMVER` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A version as written in prose: either full or minor-only (`1.20`, `1.3.x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    Full(Version),
    Minor(u64, u64),
}

/// A version string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a version: {reason}")]
pub struct VersionError {
    pub text: String,
    pub reason: &'static str,
}

/// Longest version text accepted: real ones are under 30 bytes; this bounds work on hostile input.
pub const MAX_VERSION_LEN: usize = 64;

impl VersionSpec {
    pub fn parse(text: &str) -> Result<VersionSpec, VersionError> {
        let err = |reason| VersionError {
            text: text.to_owned(),
            reason,
        };
        if text.len() > MAX_VERSION_LEN {
            return Err(err("longer than 64 bytes"));
        }
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        // "v1.18.1+" in fixed lists means "this and later".
        let t = t.strip_suffix('+').unwrap_or(t);
        let t = t.strip_suffix(".x").unwrap_or(t);
        if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err("it does not start with a digit"));
        }
        let core_end = t.find(['-', '+']).unwrap_or(t.len());
        let core = t.get(..core_end).unwrap_or(t);
        let parts: Vec<&str> = core.split('.').collect();
        let num = |s: &str| -> Result<u64, VersionError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("each part must be a number"));
            }
            if s.len() > 1 && s.starts_with('0') {
                return Err(err("a number part has a leading zero"));
            }
            s.parse::<u64>()
                .map_err(|_| err("a number part is too large"))
        };
        match parts.as_slice() {
            [major, minor] if core_end == t.len() => {
                Ok(VersionSpec::Minor(num(major)?, num(minor)?))
            }
            [major, minor, patch] => {
                for part in [major, minor, patch] {
                    num(part)?;
                }
                semver::Version::parse(t)
                    .map(|v| VersionSpec::Full(Version(v)))
                    .map_err(|_| err("not a SemVer 2.0 version"))
            }
            _ => Err(err("expected X.Y or X.Y.Z")),
        }
    }

    /// The version this spec stands for as the lowest affected version.
    pub fn as_lower(&self) -> Version {
        match self {
            VersionSpec::Full(v) => v.clone(),
            VersionSpec::Minor(major, minor) => Version::new(*major, *minor, 0),
        }
    }

    /// The upper bound this spec stands for as the highest affected version.
    pub fn as_upper(&self) -> UpperBound {
        match self {
            VersionSpec::Full(v) => UpperBound::Inclusive(v.clone()),
            VersionSpec::Minor(major, minor) => {
                UpperBound::Exclusive(Version::new(*major, minor.saturating_add(1), 0))
            }
        }
    }

    pub fn branch(&self) -> (u64, u64) {
        match self {
            VersionSpec::Full(v) => v.branch(),
            VersionSpec::Minor(major, minor) => (*major, *minor),
        }
    }
}

/// The top of an affected span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpperBound {
    /// `<= X` or `a - X`: X is the last affected version.
    Inclusive(Version),
    /// `< X`, or the bound implied by `1.6.x`: X is the first unaffected version.
    Exclusive(Version),
}

impl UpperBound {
    pub fn version(&self) -> &Version {
        match self {
            UpperBound::Inclusive(v) | UpperBound::Exclusive(v) => v,
        }
    }

    /// Whether `v` is at or below this bound.
    pub fn admits(&self, v: &Version) -> bool {
        match self {
            UpperBound::Inclusive(x) => v <= x,
            UpperBound::Exclusive(x) => v < x,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn spellings() {
        assert_eq!(full("v1.27.3"), Version::new(1, 27, 3));
        assert_eq!(full("V1.24.14"), Version::new(1, 24, 14));
        assert_eq!(full("1.18.1+"), Version::new(1, 18, 1));
        assert_eq!(full("v1.2.0-beta.0").to_string(), "1.2.0-beta.0");
        assert!(full("v1.2.0-beta.0") < full("1.2.0"));
        assert_eq!(
            VersionSpec::parse("1.3.x").unwrap(),
            VersionSpec::Minor(1, 3)
        );
        assert_eq!(
            VersionSpec::parse("v1.20").unwrap(),
            VersionSpec::Minor(1, 20)
        );
        assert_eq!(
            VersionSpec::parse("1.6.x").unwrap().as_upper(),
            UpperBound::Exclusive(Version::new(1, 7, 0))
        );
    }

    #[test]
    fn absurd_versions_are_errors() {
        for bad in [
            "",
            "v",
            "master",
            "1",
            "1.2.3.4",
            "01.2.3",
            "1.2.a",
            "99999999999999999999999.1.1",
            &"1".repeat(100),
        ] {
            assert!(VersionSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Version::parse("1.27").is_err());
    }
}
